// Fuzz target: `attune analyze` end to end on a text recording: the reader, then the ECG or PPG
// detector, artifact correction and every metric over whatever the bytes decode to (NaN, huge
// values, steps, a handful of samples), or the RR path. First byte: signal kind, rate, polarity.
// Invariants: no crash or exception; either an error message or finite metrics.
#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "attune/core/analyze.hpp"
#include "attune/core/json_text.hpp"
#include "fuzz_util.hpp"

namespace af = attune::fuzz;
using namespace attune::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t c = data[0];
    const auto path = af::ScratchDir() / "analyze.csv";
    af::WriteFile(path, std::string_view(reinterpret_cast<const char*>(data + 1), size - 1));
    AnalyzeOptions opt;
    opt.input = path.string();
    opt.signal = static_cast<AnalyzeSignal>(c % 3);
    static constexpr double kRates[] = {50.0, 100.0, 250.0, 360.0, 500.0, 1.0, 1000.0, 0.0};
    if (kRates[(c >> 2) & 7] > 0.0) opt.rate_hz = kRates[(c >> 2) & 7];
    opt.invert = (c & 0x20) != 0;
    if (c & 0x40) opt.column.push_back('1');  // not = "1": GCC 12 false -Wrestrict
    const auto r = Analyze(opt);
    if (r.error.empty()) {
        for (double t : r.beat_t_s) ATTUNE_FUZZ_CHECK(std::isfinite(t));
        if (r.time.valid) ATTUNE_FUZZ_CHECK(std::isfinite(r.time.rmssd_ms) && std::isfinite(r.time.sdnn_ms));
        (void)DumpJson(AnalyzeJson(r));  // must not throw, whatever bytes reach the strings
        (void)AnalyzeReport(r);
    }
    return 0;
}
