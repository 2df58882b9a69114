// Resonance-frequency assessment through the whole chain: simulated heart (baroreflex resonance
// at a known rate) -> PulseSensor bytes -> decoder -> pipeline -> ProgramRunner blocks -> scores.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "attune/core/live_session.hpp"
#include "attune/core/program.hpp"
#include "attune/core/program_runner.hpp"
#include "attune/core/resonance.hpp"
#include "attune/core/sources.hpp"

using namespace attune::core;
namespace fs = std::filesystem;

namespace {

std::vector<BreathPattern> Presets() {
    return LoadPresets({fs::path(ATTUNE_SOURCE_DIR) / "assets" / "presets"}).presets;
}

Program ShippedProgram(const std::string& id) {
    auto loaded = LoadPrograms({fs::path(ATTUNE_SOURCE_DIR) / "assets" / "programs"}, Presets());
    REQUIRE(loaded.errors.empty());
    for (auto& p : loaded.programs)
        if (p.id == id) return p;
    FAIL("no shipped program " << id);
    return {};
}

std::unique_ptr<LiveSession> MakeSession(const BreathPattern& pattern, double resonance_bpm, std::uint64_t seed) {
    SourceOptions so;
    so.sim.resonance_bpm = resonance_bpm;
    so.sim.seed = seed;
    auto made = MakeSource(so);
    return std::make_unique<LiveSession>(pattern, std::move(made.source));
}

// Runs the program to its end in steps of `step_s` of session time.
std::unique_ptr<LiveSession> RunProgram(const Program& program, double resonance_bpm, std::uint64_t seed,
                                        double step_s = 0.5) {
    auto s = MakeSession(DefaultPattern(), resonance_bpm, seed);
    s->AttachProgram(std::make_unique<ProgramRunner>(program));
    s->Start(0.0);
    double t = 0.0;
    while (!s->program()->Finished(s->pacer_time_s()) && t < 4.0 * 3600.0) {
        t += step_s;
        s->Update(t);
    }
    s->Stop(t);
    return s;
}

}  // namespace

TEST_CASE("phase bias of the measurement chain at resonance", "[resonance]") {
    // Breathing exactly at the simulated resonance: the heart-rate swing is in phase with lung
    // volume by construction, so what the chain reads is its own lag (pulse transit time of the
    // PPG beat, the simulated person's 0.1 s following lag). kPhaseLagCorrectionS removes it.
    for (double r : {4.5, 5.0, 5.5, 6.0, 6.5}) {
        BreathPattern p = BreathPattern::FourPhase("t", "t", 4.0, 0.0, 6.0, 0.0, 0.0);
        p.SetRateBpm(r);
        Program prog;
        prog.id = "bias";
        ProgramStep step;
        step.kind = StepKind::Paced;
        step.pattern = p;
        step.duration_s = 330.0;
        prog.steps.push_back(step);
        double raw_sum = 0.0, corr_sum = 0.0;
        const int seeds = 3;
        for (int seed = 1; seed <= seeds; ++seed) {
            auto s = RunProgram(prog, r, static_cast<std::uint64_t>(seed));
            std::vector<attune::dsp::Beat> beats;
            for (const auto& c : s->classified_beats()) beats.push_back({c.t_s, c.ibi_ms, 0.0});
            const auto& tl = s->program()->timeline();
            std::vector<std::pair<double, double>> breaths;
            for (std::int64_t k = 0;; ++k) {
                auto a = tl.BreathStart(k), b = tl.BreathStart(k + 1);
                if (!a || !b) break;
                breaths.emplace_back(*a, *b);
            }
            const RateBlock blk = ScoreWindow(r, 60.0, 320.0, beats, [&](double t) { return tl.At(t).volume; }, breaths);
            REQUIRE(blk.valid);
            raw_sum += blk.phase_raw_deg;
            corr_sum += blk.phase_deg;
        }
        const double raw = raw_sum / seeds, corrected = corr_sum / seeds;
        const double delay_s = raw / (360.0 * r / 60.0);
        WARN("resonance " << r << "/min: raw phase " << raw << " deg (= " << delay_s << " s), corrected " << corrected);
        CHECK(std::abs(corrected) < 5.0);
    }
}

namespace {

void PrintResult(const AssessmentResult& r) {
    for (const auto& s : r.scores)
        WARN("rate " << s.rate_bpm << " blocks " << s.blocks << " total " << s.total << " phase " << s.phase_deg
                     << " amp " << s.amplitude_bpm << " lf " << s.lf_ms2 << " peak " << s.lf_peak_ms2_per_hz
                     << " smooth " << s.smoothness << " peaks " << s.lf_peaks);
    WARN("recommended " << r.recommended_rate_bpm << " note: " << r.note);
}

}  // namespace

TEST_CASE("the stepped assessment recommends the simulated heart's resonance rate", "[resonance][assessment]") {
    const Program program = ShippedProgram("resonance-assessment");
    for (double resonance : {5.0, 6.0}) {
        auto s = RunProgram(program, resonance, 7);
        const auto& result = s->program()->assessment();
        REQUIRE(result.has_value());
        PrintResult(*result);
        REQUIRE(result->valid);
        CHECK(result->recommended_rate_bpm == Approx(resonance).margin(1e-9));
        CHECK(!result->reasons.empty());
        // Scan 6.5..4.5 plus the three confirmation blocks (no edge extension for 5.0 / 6.0).
        CHECK(result->blocks.size() == 8);
        REQUIRE(result->baseline_breathing_bpm.has_value());
        // The sim breathes on its own at 12/min with a slow wander of up to +-30 %.
        CHECK(*result->baseline_breathing_bpm > 8.0);
        CHECK(*result->baseline_breathing_bpm < 16.0);
    }
}

TEST_CASE("a best rate at the edge of the scan extends it by 0.5", "[resonance][assessment]") {
    auto s = RunProgram(ShippedProgram("resonance-assessment"), 4.5, 3);
    const auto& result = s->program()->assessment();
    REQUIRE(result.has_value());
    REQUIRE(result->valid);
    int extensions = 0;
    for (const auto& b : result->blocks)
        if (b.role == "extension") {
            ++extensions;
            CHECK(b.rate_bpm == Approx(4.0).margin(1e-9));
        }
    CHECK(extensions == 1);
    CHECK(result->blocks.size() == 9);  // 5 scan + 1 extension + 3 confirmation
    CHECK(result->recommended_rate_bpm == Approx(4.5).margin(1e-9));
    CHECK(result->note.find("extended to 4.0") != std::string::npos);
}

TEST_CASE("the sliding assessment lands near the resonance rate", "[resonance][assessment]") {
    const Program program = ShippedProgram("resonance-assessment-sliding");
    for (double resonance : {5.0, 6.0}) {
        auto s = RunProgram(program, resonance, 7);
        const auto& result = s->program()->assessment();
        REQUIRE(result.has_value());
        PrintResult(*result);
        REQUIRE(result->valid);
        CHECK(result->recommended_rate_bpm == Approx(resonance).margin(0.25));
    }
}

// Hidden (run by hand: core_test_resonance "[.sweep]"): how often each method hits the rate.
TEST_CASE("assessment sweep over seeds and resonance rates", "[.sweep]") {
    for (const char* id : {"resonance-assessment", "resonance-assessment-sliding"}) {
        const Program program = ShippedProgram(id);
        for (double resonance : {4.5, 5.0, 5.5, 6.0, 6.5}) {
            int exact = 0, near = 0;
            std::string got;
            for (std::uint64_t seed = 1; seed <= 8; ++seed) {
                auto s = RunProgram(program, resonance, seed);
                const auto& r = s->program()->assessment();
                if (!r || !r->valid) continue;
                exact += std::abs(r->recommended_rate_bpm - resonance) < 1e-6;
                near += std::abs(r->recommended_rate_bpm - resonance) <= 0.25 + 1e-6;
                got += std::to_string(r->recommended_rate_bpm).substr(0, 4) + " ";
            }
            WARN(id << " resonance " << resonance << ": exact " << exact << "/8, within 0.25: " << near << "/8 [" << got << "]");
        }
    }
}
