// Runs a shell command for end-to-end tests, capturing stdout (and stderr when asked).
#pragma once

#include <array>
#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace attune::test {

struct CommandResult {
    int exit_code = -1;
    std::string output;
};

inline CommandResult RunCommand(const std::string& command) {
    CommandResult r;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    const int status = ::pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace attune::test
