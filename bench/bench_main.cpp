// attune_bench: runs every benchmark group and prints one JSON object on stdout.
#include <cstdio>
#include <exception>

#include "bench.hpp"

int main() {
    nlohmann::json out = nlohmann::json::object();
    try {
        attune::bench::RunDspBenchmarks(out);
    } catch (const std::exception& e) {
        out["error"] = e.what();
        std::printf("%s\n", out.dump(2).c_str());
        return 1;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
}
