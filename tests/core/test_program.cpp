// Guided programs: the loader (shipped files, malformed files), the pacer timeline's continuity,
// the body-responsive ramp, prompts, and determinism of the runner's decisions.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "attune/core/live_session.hpp"
#include "attune/core/program.hpp"
#include "attune/core/program_runner.hpp"
#include "attune/core/sources.hpp"

using namespace attune::core;
namespace fs = std::filesystem;

namespace {

const fs::path kTmp = fs::path(ATTUNE_TEST_TMP_DIR) / "program";

std::vector<BreathPattern> Presets() {
    auto r = LoadPresets({fs::path(ATTUNE_SOURCE_DIR) / "assets" / "presets"});
    REQUIRE(r.errors.empty());
    return r.presets;
}

std::vector<Program> Shipped() {
    auto loaded = LoadPrograms({fs::path(ATTUNE_SOURCE_DIR) / "assets" / "programs"}, Presets());
    for (const auto& e : loaded.errors) FAIL_CHECK(e);
    REQUIRE(loaded.errors.empty());
    return loaded.programs;
}

Program Find(const std::string& id) {
    for (auto& p : Shipped())
        if (p.id == id) return p;
    FAIL("no program " << id);
    return {};
}

std::unique_ptr<LiveSession> Run(const Program& program, double step_s, std::uint64_t seed = 5) {
    SourceOptions so;
    so.sim.seed = seed;
    auto s = std::make_unique<LiveSession>(DefaultPattern(), MakeSource(so).source);
    s->AttachProgram(std::make_unique<ProgramRunner>(program));
    s->Start(0.0);
    double t = 0.0;
    while (!s->program()->Finished(s->pacer_time_s()) && t < 3.0 * 3600.0) {
        t += step_s;
        s->Update(t);
    }
    s->Stop(t);
    return s;
}

void WriteFile(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("shipped programs load and cover the practices", "[program]") {
    const auto programs = Shipped();
    std::vector<std::string> ids;
    for (const auto& p : programs) ids.push_back(p.id);
    CHECK(ids == std::vector<std::string>{"daily-resonance", "sleep-downshift", "grounding", "box-focus", "therapist-10",
                                          "resonance-assessment", "resonance-assessment-sliding"});
    for (const auto& p : programs) {
        INFO(p.id);
        CHECK(!p.name.empty());
        CHECK(!p.description.empty());
        for (const auto& step : p.steps)
            for (const auto& prompt : step.prompts) CHECK(prompt.text.size() <= 80);  // short, one line
    }
    CHECK(Find("therapist-10").NominalLengthS() == Approx(600.0));
    CHECK(Find("resonance-assessment").NominalLengthS() == Approx(120.0 + 5 * 150.0 + 30.0));
}

TEST_CASE("a malformed program file gets a message naming the file, the place and the problem", "[program]") {
    const fs::path dir = kTmp / "bad";
    fs::remove_all(dir);
    WriteFile(dir / "a-broken-json.json", "{\n  \"id\": \"x\",\n  \"steps\": [ }\n");
    WriteFile(dir / "b-unknown-kind.json", R"({"id": "b", "steps": [ {"kind": "arrive", "duration_s": 30}, {"kind": "dance", "duration_s": 10} ]})");
    WriteFile(dir / "c-bad-duration.json", R"({"id": "c", "steps": [ {"kind": "paced", "preset": "box", "duration_s": -5} ]})");
    WriteFile(dir / "d-unknown-preset.json", R"({"id": "d", "steps": [ {"kind": "paced", "preset": "nope", "duration_s": 60} ]})");
    WriteFile(dir / "e-prompt-order.json", R"({"id": "e", "steps": [ {"kind": "natural", "duration_s": 60,
        "prompts": [ {"at_s": 30, "text": "b"}, {"at_s": 10, "text": "a"} ]} ]})");
    WriteFile(dir / "f-bad-pattern.json", R"({"id": "f", "steps": [ {"kind": "paced", "duration_s": 60,
        "pattern": {"phases": [ {"kind": "inhale"} ]}} ]})");
    WriteFile(dir / "g-no-steps.json", R"({"id": "g"})");
    WriteFile(dir / "h-bad-rates.json", R"({"id": "h", "steps": [ {"kind": "assessment", "rates_bpm": [6, "fast"]} ]})");
    WriteFile(dir / "i-huge-number.json", R"({"id": "i", "steps": [ {"kind": "arrive", "duration_s": 1e999} ]})");
    WriteFile(dir / "z-good.json", R"({"id": "z", "name": "Good", "steps": [ {"kind": "paced", "preset": "box", "duration_s": 60} ]})");
    const auto r = LoadPrograms({dir}, Presets());
    REQUIRE(r.programs.size() == 1);
    CHECK(r.programs[0].id == "z");
    REQUIRE(r.errors.size() == 9);
    auto has = [&](const std::string& file, const std::string& part) {
        for (const auto& e : r.errors)
            if (e.find(file) != std::string::npos && e.find(part) != std::string::npos) return true;
        return false;
    };
    CHECK(has("a-broken-json.json", "line 3, column 14: not valid JSON"));
    CHECK(has("b-unknown-kind.json", "steps[1].kind: unknown kind 'dance'"));
    CHECK(has("c-bad-duration.json", "steps[0].duration_s: must be between 1 and"));
    CHECK(has("d-unknown-preset.json", "steps[0].preset: unknown preset 'nope'"));
    CHECK(has("e-prompt-order.json", "steps[0].prompts[1].at_s: prompts must be in time order"));
    CHECK(has("f-bad-pattern.json", "steps[0].pattern: phases[0]"));
    CHECK(has("g-no-steps.json", "$: missing \"steps\""));
    CHECK(has("h-bad-rates.json", "steps[0].rates_bpm[1]: must be a number"));
    CHECK(has("i-huge-number.json", ": not valid JSON (a number out of range)"));  // fuzz: was std::terminate

}

TEST_CASE("an absurdly long unknown kind or preset is quoted short, cut on a character boundary", "[program]") {
    const fs::path dir = kTmp / "long";
    fs::remove_all(dir);
    std::string umlauts;
    for (int k = 0; k < 5000; ++k) umlauts += "\xc3\xa4";  // "ä" x 5000: 10 KB of UTF-8
    WriteFile(dir / "a-kind.json", R"({"id": "a", "steps": [ {"kind": ")" + umlauts + R"(", "duration_s": 10} ]})");
    WriteFile(dir / "b-preset.json", R"({"id": "b", "steps": [ {"kind": "paced", "preset": "line\nbreak)" +
                                         std::string(8000, 'x') + R"(", "duration_s": 60} ]})");
    WriteFile(dir / "c-pattern.json", R"({"id": "c", "steps": [ {"kind": "paced", "duration_s": 60,
        "pattern": {"phases": [ {"kind": ")" + umlauts + R"(", "s": 4} ]}} ]})");
    const auto r = LoadPrograms({dir}, Presets());
    REQUIRE(r.errors.size() == 3);
    std::string forty;
    for (int k = 0; k < 40; ++k) forty += "\xc3\xa4";
    for (const auto& e : r.errors) {
        INFO(e.substr(0, 300));
        CHECK(e.size() < 400);
        CHECK(e.find('\n') == std::string::npos);
    }
    auto has = [&](const std::string& part) {
        for (const auto& e : r.errors)
            if (e.find(part) != std::string::npos) return true;
        return false;
    };
    CHECK(has("steps[0].kind: unknown kind '" + forty + "...'"));  // 40 characters, 80 bytes
    CHECK(has("unknown preset 'line?break" + std::string(30, 'x') + "...'"));
    CHECK(has("phases[0]: unknown kind '" + forty + "...'"));
}

TEST_CASE("a user program replaces a shipped one with the same id", "[program]") {
    const fs::path dir = kTmp / "user";
    fs::remove_all(dir);
    WriteFile(dir / "box.json", R"({"id": "box-focus", "name": "My box", "steps": [ {"kind": "paced", "preset": "box", "duration_s": 64} ]})");
    const auto r = LoadPrograms({fs::path(ATTUNE_SOURCE_DIR) / "assets" / "programs", dir}, Presets());
    CHECK(r.errors.empty());
    for (const auto& p : r.programs)
        if (p.id == "box-focus") CHECK(p.name == "My box");
}

TEST_CASE("every non-assessment program runs to its end with a continuous pacer", "[program]") {
    for (const auto& program : Shipped()) {
        if (program.HasAssessment()) continue;
        INFO(program.id);
        auto s = Run(program, 0.5);
        const ProgramRunner& runner = *s->program();
        CHECK(runner.Finished(s->pacer_time_s()));
        // Whole breaths: the program runs at least its nominal length, at most a breath longer per step.
        CHECK(runner.timeline().end_s() >= program.NominalLengthS() - 1e-6);
        CHECK(runner.timeline().end_s() <= program.NominalLengthS() + 20.0 * static_cast<double>(program.steps.size()));
        // Lung volume continuous (no jump at step changes or ramp breaths): slope <= 1/s.
        double prev_v = runner.At(0.0).volume, max_jump = 0.0, prev_rate = -1.0, max_rate_jump = 0.0;
        for (double t = 0.05; t < runner.timeline().end_s(); t += 0.05) {
            const PacerState st = runner.At(t);
            max_jump = std::max(max_jump, std::abs(st.volume - prev_v));
            prev_v = st.volume;
            if (st.paced && prev_rate > 0.0) max_rate_jump = std::max(max_rate_jump, std::abs(st.rate_bpm - prev_rate));
            prev_rate = st.paced ? st.rate_bpm : -1.0;
        }
        CHECK(max_jump < 0.05);
        // Within a paced stretch the rate changes smoothly except where two different presets meet.
        if (program.id == "daily-resonance") CHECK(max_rate_jump < 0.05);
        // Every step started, in order, and the breaths were counted.
        for (std::size_t i = 1; i < program.steps.size(); ++i)
            CHECK(runner.StepStartS(static_cast<int>(i)) > runner.StepStartS(static_cast<int>(i) - 1));
        CHECK(s->Summary().beats > static_cast<std::size_t>(program.NominalLengthS() * 0.9));
    }
}

TEST_CASE("prompts show one at a time at their times", "[program]") {
    const Program p = Find("grounding");
    auto s = Run(p, 1.0);
    const ProgramRunner& r = *s->program();
    const int orienting = 3;
    REQUIRE(p.steps[orienting].title == "Orienting");
    const double t0 = r.StepStartS(orienting);
    CHECK(r.StepAt(t0 + 1.0) == orienting);
    CHECK(r.PromptAt(t0 + 1.0) == "Let your eyes move slowly around the room.");
    CHECK(r.PromptAt(t0 + 26.0) == "Name three things you can see.");
    CHECK(r.PromptAt(t0 + 119.0) == "Find something pleasant to rest your eyes on.");
    CHECK(r.PromptAt(r.timeline().end_s() + 1.0).empty());
}

TEST_CASE("the ramp starts at the measured natural rate and glides to the target", "[program][ramp]") {
    const Program p = Find("daily-resonance");
    auto s = Run(p, 0.5);
    const ProgramRunner& r = *s->program();
    REQUIRE(r.baseline_breathing_bpm().has_value());
    const double baseline = *r.baseline_breathing_bpm();
    CHECK(baseline > 8.0);   // the simulated person breathes ~12/min (+-30 % wander) on their own
    CHECK(baseline < 16.0);
    const int ramp = 1;
    const double t0 = r.StepStartS(ramp), t1 = r.StepStartS(ramp + 1);
    CHECK(r.At(t0 + 1e-3).rate_bpm == Approx(baseline).margin(0.05));
    CHECK(r.At(t1 - 1e-3).rate_bpm == Approx(5.5).margin(1e-6));  // the resonance preset
    // The rate never rises on the way down.
    double prev = 1e9;
    for (double t = t0; t < t1; t += 0.25) {
        const double rate = r.At(t).rate_bpm;
        CHECK(rate <= prev + 1e-9);
        prev = rate;
    }
}

TEST_CASE("the runner's decisions do not depend on how often the session is updated", "[program][ramp]") {
    const Program p = Find("therapist-10");
    auto a = Run(p, 0.1, 9);
    auto b = Run(p, 1.7, 9);
    const auto& sa = a->program()->timeline().segments();
    const auto& sb = b->program()->timeline().segments();
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        CHECK(sa[i].t0_s == sb[i].t0_s);
        CHECK(sa[i].pacer.RateBpmAt(0.0) == sb[i].pacer.RateBpmAt(0.0));
    }
}

TEST_CASE("ramp controller glides, holds while RSA or coherence drops, resumes on recovery", "[program][ramp]") {
    RampController c(12.0, 6.0, 2.0);
    double rate = c.Next(10.0, 1.0);  // first breath sets the reference
    CHECK(rate == Approx(12.0 - 2.0 / 12.0));
    for (int i = 0; i < 3; ++i) rate = c.Next(10.0, 1.0);
    const double before_drop = rate;
    CHECK(c.Next(6.0, 1.0) == Approx(before_drop));  // RSA at 60 % of its level: hold
    CHECK(c.holding());
    CHECK(c.Next(7.0, 1.0) == Approx(before_drop));  // still low (below 90 %): hold
    const double resumed = c.Next(9.6, 1.0);          // back above 90 %: glide on
    CHECK(!c.holding());
    CHECK(resumed < before_drop);
    CHECK(c.Next(10.0, 0.5) == Approx(resumed));      // coherence 0.5 below its level: hold
    // Never recovering: after kMaxHoldBreaths held breaths the new level is accepted.
    int held = 0;
    double r2 = resumed;
    for (int i = 0; i < 10 && r2 == Approx(resumed); ++i, ++held) r2 = c.Next(10.0, 0.5);
    CHECK(held == RampController::kMaxHoldBreaths);
    // Reaches the target and stays.
    for (int i = 0; i < 200; ++i) r2 = c.Next(10.0, 0.5);
    CHECK(r2 == Approx(6.0));
    // Without any measurement it simply glides.
    RampController blind(9.0, 6.0, 1.0);
    CHECK(blind.Next(std::nullopt, std::nullopt) == Approx(9.0 - 1.0 / 9.0));
}
