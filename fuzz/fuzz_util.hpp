// Helpers shared by the fuzz targets: a private scratch folder per process, splitting one input
// into several files, and a check that aborts (so libFuzzer reports the input) when an
// invariant of the code under test is broken.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace attune::fuzz {

#define ATTUNE_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "invariant broken: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
            std::abort();                                                                        \
        }                                                                                        \
    } while (0)

// A scratch folder unique to this process (libFuzzer with -jobs runs several), emptied on request.
inline const std::filesystem::path& ScratchDir() {
    static const std::filesystem::path dir = [] {
        const char* base = std::getenv("TMPDIR");
        std::filesystem::path d = std::filesystem::path(base && *base ? base : "/tmp") /
                                  ("attune-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

inline void ResetDir(const std::filesystem::path& d) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
    std::filesystem::create_directories(d, ec);
}

inline void WriteFile(const std::filesystem::path& p, std::string_view bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Splits `data` at each occurrence of `sep` into at most `max_parts` parts (the last part keeps
// any further separators). Seeds are written the same way (see fuzz/make_seeds.sh).
inline std::vector<std::string_view> Split(std::string_view data, std::string_view sep, std::size_t max_parts) {
    std::vector<std::string_view> parts;
    while (parts.size() + 1 < max_parts) {
        const auto at = data.find(sep);
        if (at == std::string_view::npos) break;
        parts.push_back(data.substr(0, at));
        data.remove_prefix(at + sep.size());
    }
    parts.push_back(data);
    return parts;
}

}  // namespace attune::fuzz
