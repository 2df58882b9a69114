# Included from tests/CMakeLists.txt: every fuzz target is also built with the normal compiler
# against a plain main() (fuzz/replay_main.cpp) and registered as a ctest test that replays the
# crash inputs kept under tests/fuzz/<name>/ and the seeds in fuzz/corpus/<name>/.
file(GLOB ATTUNE_FUZZ_REPLAY_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_*.cpp)
foreach(src ${ATTUNE_FUZZ_REPLAY_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" short ${name})
  add_executable(replay_${name} ${src} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
  target_include_directories(replay_${name} PRIVATE ${PROJECT_SOURCE_DIR}/fuzz)
  target_link_libraries(replay_${name} PRIVATE attune::core attune_warnings)
  target_compile_options(replay_${name} PRIVATE ${ATTUNE_TEST_COMPILE_OPTIONS})
  add_test(NAME fuzz.${short}.regressions
           COMMAND replay_${name} ${PROJECT_SOURCE_DIR}/tests/fuzz/${short} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${short})
  set_tests_properties(fuzz.${short}.regressions PROPERTIES LABELS fuzz TIMEOUT 300
                       ENVIRONMENT "TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp")
endforeach()
