// Fuzz target: guided programs (program.hpp). The input is written as one program file and loaded
// with LoadPrograms, the shipped presets resolving "preset" references (as the app does).
// Invariants: exactly one program or one error; an accepted program has finite lengths with
// 0 <= nominal <= maximum and every paced pattern validates. A short one (maximum <= 180 s) then
// runs in a LiveSession on the simulated heart (1 s updates, as the app's frame loop would at any
// rate): the pacer stays finite with its volume in 0..1, the step showing is one of the program's,
// and the program finishes (no step may run away: the limit is its maximum + 600 s, room for a
// breath of up to a minute at the end of each step).
#include <cmath>
#include <cstdint>
#include <memory>

#include "attune/core/fs_util.hpp"
#include "attune/core/live_session.hpp"
#include "attune/core/pattern.hpp"
#include "attune/core/program.hpp"
#include "attune/core/program_runner.hpp"
#include "attune/core/sources.hpp"
#include "fuzz_util.hpp"

namespace af = attune::fuzz;
using namespace attune::core;

namespace {

const std::vector<BreathPattern>& ShippedPresets() {
    static const std::vector<BreathPattern> presets = [] {
        std::vector<std::filesystem::path> dirs;
        for (const auto& d : AssetDirs()) dirs.push_back(d / "presets");
        return LoadPresets(dirs).presets;
    }();
    return presets;
}

void Run(const Program& program) {
    SourceOptions so;
    so.sim.seed = 7;
    LiveSession s(DefaultPattern(), MakeSource(so).source);
    s.AttachProgram(std::make_unique<ProgramRunner>(program));
    s.Start(0.0);
    const double limit_s = program.MaxLengthS() + 600.0;
    double t = 0.0;
    while (!s.program()->Finished(s.pacer_time_s())) {
        t += 1.0;
        ATTUNE_FUZZ_CHECK(t <= limit_s);
        s.Update(t);
        const PacerState& p = s.pacer_state();
        ATTUNE_FUZZ_CHECK(std::isfinite(p.volume) && p.volume >= -1e-9 && p.volume <= 1.0 + 1e-9);
        ATTUNE_FUZZ_CHECK(std::isfinite(p.rate_bpm));
        const int step = s.program()->StepAt(s.pacer_time_s());
        ATTUNE_FUZZ_CHECK(step >= -1 && step < static_cast<int>(program.steps.size()));
    }
    s.Stop(t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto dir = af::ScratchDir() / "programs";
    af::ResetDir(dir);
    af::WriteFile(dir / "fuzzed.json", std::string_view(reinterpret_cast<const char*>(data), size));
    const auto loaded = LoadPrograms({dir}, ShippedPresets());
    ATTUNE_FUZZ_CHECK(loaded.programs.size() + loaded.errors.size() == 1);
    for (const auto& p : loaded.programs) {
        const double nominal_s = p.NominalLengthS(), max_s = p.MaxLengthS();
        ATTUNE_FUZZ_CHECK(std::isfinite(nominal_s) && std::isfinite(max_s));
        ATTUNE_FUZZ_CHECK(nominal_s >= 0.0 && nominal_s <= max_s + 1e-9);
        for (const auto& step : p.steps)
            if (step.pattern) ATTUNE_FUZZ_CHECK(step.pattern->Validate().empty());
        if (max_s <= 180.0) Run(p);
    }
    return 0;
}
