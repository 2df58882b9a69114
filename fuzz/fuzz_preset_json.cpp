// Fuzz target: the breathing preset / pattern JSON loader (LoadPresets on a folder holding the
// input as a preset file, PatternFromJson) and settings.json (LoadSettings, which embeds a custom
// pattern). Every accepted pattern then drives the pacer: the closed-form pacer must give a
// finite lung volume in 0..1, a phase index inside the pattern and a non-decreasing breath count
// at any time up to a week, and the pattern must survive a JSON round trip.
#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "attune/core/pacer.hpp"
#include "attune/core/pattern.hpp"
#include "attune/core/settings.hpp"
#include "fuzz_util.hpp"

namespace af = attune::fuzz;
using namespace attune::core;

namespace {

void CheckPacer(const BreathPattern& p) {
    ATTUNE_FUZZ_CHECK(p.Validate().empty());
    Pacer pacer(p);
    std::int64_t last_breaths = 0;
    for (double t : {0.0, 0.001, 1.0, 2.5, 59.9, 61.0, 299.99, 300.0, 600.0, 3599.5, 28800.0, 604800.0}) {
        const PacerState s = pacer.At(t);
        ATTUNE_FUZZ_CHECK(std::isfinite(s.volume) && s.volume >= -1e-9 && s.volume <= 1.0 + 1e-9);
        ATTUNE_FUZZ_CHECK(std::isfinite(s.cycles) && std::isfinite(s.rate_bpm));
        if (p.paced) ATTUNE_FUZZ_CHECK(s.phase_index >= 0 && static_cast<std::size_t>(s.phase_index) < p.phases.size());
        ATTUNE_FUZZ_CHECK(s.breath_count >= last_breaths);
        last_breaths = s.breath_count;
    }
    std::string err;
    const auto back = PatternFromJson(PatternToJson(p), err);
    ATTUNE_FUZZ_CHECK(back.has_value());
    ATTUNE_FUZZ_CHECK(back->phases.size() == p.phases.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto dir = af::ScratchDir() / "presets";
    af::ResetDir(dir);
    af::WriteFile(dir / "fuzzed.json", text);
    const auto loaded = LoadPresets({dir});
    ATTUNE_FUZZ_CHECK(loaded.presets.size() + loaded.errors.size() == 1);
    for (const auto& p : loaded.presets) CheckPacer(p);

    const auto cfg = af::ScratchDir() / "config";
    af::ResetDir(cfg);
    af::WriteFile(cfg / "settings.json", text);
    const auto s = LoadSettings(cfg);
    if (s.settings.custom_pattern) CheckPacer(*s.settings.custom_pattern);
    return 0;
}
