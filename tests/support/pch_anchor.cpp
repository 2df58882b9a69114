// Compiled only to produce the tests' precompiled header (tests/CMakeLists.txt, ATTUNE_TEST_PCH).
