// Benchmarks behind the `bench` target (attune_bench): each Run*Benchmarks function adds one
// object of figures to `out`; bench_main.cpp prints the whole object as one JSON document on
// stdout. Figures are informative (never part of ctest's pass/fail); targets, where the issue
// sets one, are reported next to the measurement with a meets_target flag.
#pragma once

#include <nlohmann/json.hpp>

namespace attune::bench {

// Detector throughput (ECG on MIT-BIH 100 MLII, PPG on the HUSM IR recordings and on the multi
// recording) and the cost of the metric updates after a beat. Adds out["dsp"].
void RunDspBenchmarks(nlohmann::json& out);

}  // namespace attune::bench
