// Pacer and preset tests. Expected times are computed here from the preset definitions
// (durations and rates as the user reads them in the JSON), not by calling the pacer's own
// inverse, so a wrong closed form in the pacer shows up.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "attune/core/pacer.hpp"
#include "attune/core/pattern.hpp"

using namespace attune::core;
namespace fs = std::filesystem;

namespace {

std::map<std::string, BreathPattern> ShippedPresets() {
    auto result = LoadPresets({fs::path(ATTUNE_SOURCE_DIR) / "assets" / "presets"});
    REQUIRE(result.errors.empty());
    std::map<std::string, BreathPattern> by_id;
    for (auto& p : result.presets) by_id[p.id] = p;
    return by_id;
}

// Expected phase boundaries (seconds from the start of a breath) at a constant rate.
struct Expected {
    std::vector<PhaseKind> kinds;
    std::vector<double> starts_s;  // start of each phase within a breath
    double cycle_s;
};

std::map<std::string, Expected> ExpectedConstantRate() {
    const double res = 60.0 / 5.5;  // resonance: 40:60 of a 5.5/min breath
    return {
        {"resonance", {{PhaseKind::Inhale, PhaseKind::Exhale}, {0.0, 0.4 * res}, res}},
        {"coherent", {{PhaseKind::Inhale, PhaseKind::Exhale}, {0.0, 5.0}, 10.0}},
        {"box", {{PhaseKind::Inhale, PhaseKind::HoldIn, PhaseKind::Exhale, PhaseKind::HoldOut}, {0, 4, 8, 12}, 16.0}},
        {"4-7-8", {{PhaseKind::Inhale, PhaseKind::HoldIn, PhaseKind::Exhale}, {0, 4, 11}, 19.0}},
        {"sigh", {{PhaseKind::Inhale, PhaseKind::Inhale, PhaseKind::Exhale}, {0, 2.5, 3.5}, 10.0}},
        {"extended-exhale", {{PhaseKind::Inhale, PhaseKind::Exhale}, {0, 4}, 10.0}},
    };
}

}  // namespace

TEST_CASE("all shipped presets load without errors", "[pacer][presets]") {
    auto presets = ShippedPresets();
    for (const char* id : {"resonance", "coherent", "box", "4-7-8", "sigh", "extended-exhale", "slowing-ramp", "natural"})
        CHECK(presets.count(id) == 1);
    CHECK(presets.at("natural").paced == false);
    CHECK(presets.at("slowing-ramp").ramp.has_value());
    CHECK_THAT(presets.at("resonance").BaseRateBpm(), Catch::Matchers::WithinAbs(5.5, 1e-9));
}

TEST_CASE("phase boundaries fall at the exact times for every constant-rate preset", "[pacer]") {
    auto presets = ShippedPresets();
    for (const auto& [id, exp] : ExpectedConstantRate()) {
        INFO("preset " << id);
        Pacer pacer(presets.at(id));
        for (std::int64_t breath : {0, 1, 7, 250}) {
            for (std::size_t i = 0; i < exp.kinds.size(); ++i) {
                const double t = static_cast<double>(breath) * exp.cycle_s + exp.starts_s[i];
                INFO("breath " << breath << " phase " << i << " at t=" << t);
                const PacerState after = pacer.At(t + 1e-6);
                CHECK(after.phase_index == static_cast<int>(i));
                CHECK(after.phase == exp.kinds[i]);
                CHECK(after.breath_count == breath);
                CHECK_THAT(after.phase_progress, Catch::Matchers::WithinAbs(0.0, 1e-5));
                if (t > 1e-3) {
                    const PacerState before = pacer.At(t - 1e-6);
                    const std::size_t prev = i == 0 ? exp.kinds.size() - 1 : i - 1;
                    CHECK(before.phase_index == static_cast<int>(prev));
                    CHECK_THAT(before.phase_remaining_s, Catch::Matchers::WithinAbs(1e-6, 1e-7));
                }
            }
        }
    }
}

TEST_CASE("4-7-8 lasts 19 s per breath", "[pacer]") {
    Pacer pacer(ShippedPresets().at("4-7-8"));
    CHECK_THAT(pacer.pattern().CycleSeconds(), Catch::Matchers::WithinAbs(19.0, 1e-12));
    CHECK(pacer.At(18.999).breath_count == 0);
    CHECK(pacer.At(19.001).breath_count == 1);
    CHECK(pacer.At(190.001).breath_count == 10);
    CHECK_THAT(pacer.At(1.0).rate_bpm, Catch::Matchers::WithinAbs(60.0 / 19.0, 1e-12));
}

TEST_CASE("the slowing ramp produces the analytic number of breaths and no phase jump", "[pacer][ramp]") {
    Pacer pacer(ShippedPresets().at("slowing-ramp"));
    // Linear rate 6.5 -> 5.5 /min over 300 s: mean 6.0/min for 5 min = 30 breaths, then 5.5/min.
    CHECK(std::abs(pacer.At(300.0).cycles - 30.0) < 1e-9);
    CHECK(std::abs(pacer.At(300.0).breath_count - 30) <= 1);
    CHECK(std::abs(pacer.At(600.0).breath_count - 57) <= 1);  // 30 + 5.5 * 5 = 57.5
    CHECK_THAT(pacer.At(0.0).rate_bpm, Catch::Matchers::WithinAbs(6.5, 1e-12));
    CHECK_THAT(pacer.At(150.0).rate_bpm, Catch::Matchers::WithinAbs(6.0, 1e-12));
    CHECK_THAT(pacer.At(450.0).rate_bpm, Catch::Matchers::WithinAbs(5.5, 1e-12));

    // Independent numeric integration of the rate (midpoint rule) agrees with the pacer's phase.
    double cycles = 0.0;
    const double dt = 0.001;
    for (int i = 0; i < 420000; ++i) {
        const double mid = (i + 0.5) * dt;
        const double rate = mid < 300.0 ? 6.5 - 1.0 * mid / 300.0 : 5.5;
        cycles += rate / 60.0 * dt;
    }
    CHECK_THAT(pacer.CyclesAt(420.0), Catch::Matchers::WithinAbs(cycles, 1e-6));

    // Rate and phase are continuous: no jump at the end of the ramp or anywhere in it.
    double prev_rate = pacer.RateBpmAt(0.0), prev_cycles = 0.0;
    for (double t = 0.01; t < 600.0; t += 0.01) {
        const double r = pacer.RateBpmAt(t), c = pacer.CyclesAt(t);
        REQUIRE(std::abs(r - prev_rate) < 1e-4);
        REQUIRE(c - prev_cycles > 0.0);
        REQUIRE(c - prev_cycles < 0.01 * 6.5 / 60.0 + 1e-12);
        prev_rate = r;
        prev_cycles = c;
    }
    // Within the ramp, phases keep the 40:60 proportions of the breath they belong to.
    for (std::int64_t k : {0, 5, 20, 29, 40}) {
        const double t0 = pacer.PhaseStartTime(k, 0), t1 = pacer.PhaseStartTime(k, 1), t2 = pacer.PhaseStartTime(k + 1, 0);
        CHECK(pacer.At(t1 + 1e-6).phase == PhaseKind::Exhale);
        CHECK(pacer.At(t1 - 1e-6).phase == PhaseKind::Inhale);
        CHECK_THAT(pacer.CyclesAt(t1) - pacer.CyclesAt(t0), Catch::Matchers::WithinAbs(0.4, 1e-9));
        CHECK_THAT(pacer.CyclesAt(t2) - pacer.CyclesAt(t0), Catch::Matchers::WithinAbs(1.0, 1e-9));
    }
}

TEST_CASE("lung volume and its slope are continuous for every preset", "[pacer][volume]") {
    for (const auto& [id, pattern] : ShippedPresets()) {
        if (!pattern.paced) continue;
        INFO("preset " << id);
        Pacer pacer(pattern);
        const double dt = 1e-3;
        PacerState prev = pacer.At(0.0);
        double max_dv = 0.0, max_dslope = 0.0, max_slope_err = 0.0;
        for (double t = dt; t < 3.0 * pattern.CycleSeconds() + 5.0; t += dt) {
            const PacerState s = pacer.At(t);
            REQUIRE(s.volume >= -1e-12);
            REQUIRE(s.volume <= 1.0 + 1e-12);
            max_dv = std::max(max_dv, std::abs(s.volume - prev.volume));
            max_dslope = std::max(max_dslope, std::abs(s.volume_per_s - prev.volume_per_s));
            // The reported slope matches the numeric derivative of the volume.
            const double numeric = (s.volume - prev.volume) / dt;
            max_slope_err = std::max(max_slope_err, std::abs(numeric - 0.5 * (s.volume_per_s + prev.volume_per_s)));
            prev = s;
        }
        // Steepest ease: slope = pi/2 * dv / phase duration; the shortest moving phase is 1 s
        // (the sigh's top-up) with dv = 0.2, the largest swing is 1.0 over 2.5 s.
        CHECK(max_dv < 1e-3 * 0.7);
        // A jump in slope would be of the order of the slope itself (~0.1-0.6 /s); a smooth
        // curve changes it by at most (pi^2/2) dv / T^2 * dt per step.
        CHECK(max_dslope < 2e-3);
        CHECK(max_slope_err < 1e-4);
    }
}

TEST_CASE("no drift: after 8 hours the breath count equals the analytic value", "[pacer][drift]") {
    Pacer pacer(ShippedPresets().at("resonance"));
    const double eight_hours = 8 * 3600.0;
    // 5.5 breaths/min exactly: 2640 breaths at 8 h; check just after a whole breath.
    CHECK(pacer.At(eight_hours + 1.0).breath_count == 2640);
    CHECK(pacer.At(eight_hours - 1.0).breath_count == 2639);

    // Driving the pacer through a jittery clock (frames of 8-33 ms, pauses) counts every breath.
    PacerClock clock;
    std::mt19937 rng(42);
    std::uniform_real_distribution<double> frame(0.008, 0.033);
    double now = 1000.0;  // arbitrary steady-clock origin
    clock.Start(now);
    std::int64_t transitions = 0;
    std::int64_t last = 0;
    double paced_time = 0.0;
    while (clock.ActiveSeconds(now) < eight_hours) {
        now += frame(rng);
        const auto s = pacer.At(clock.ActiveSeconds(now));
        if (s.breath_count != last) {
            transitions += s.breath_count - last;
            last = s.breath_count;
        }
        paced_time = clock.ActiveSeconds(now);
    }
    CHECK(transitions == static_cast<std::int64_t>(std::floor(paced_time * 5.5 / 60.0)));
    CHECK(std::abs(transitions - 2640) <= 1);
}

TEST_CASE("pause and resume keep the phase", "[pacer][clock]") {
    Pacer pacer(ShippedPresets().at("box"));
    PacerClock clock;
    clock.Start(10.0);
    const auto before = pacer.At(clock.ActiveSeconds(15.0));  // 5 s in: hold after inhale
    CHECK(before.phase == PhaseKind::HoldIn);
    clock.Pause(15.0);
    CHECK(clock.paused());
    CHECK_THAT(clock.ActiveSeconds(100.0), Catch::Matchers::WithinAbs(5.0, 1e-12));
    clock.Resume(100.0);
    const auto after = pacer.At(clock.ActiveSeconds(100.0));
    CHECK(after.phase == before.phase);
    CHECK_THAT(after.phase_progress, Catch::Matchers::WithinAbs(before.phase_progress, 1e-12));
    CHECK_THAT(clock.ActiveSeconds(103.0), Catch::Matchers::WithinAbs(8.0, 1e-12));
    // Pausing twice or resuming a running clock changes nothing.
    clock.Resume(104.0);
    CHECK_THAT(clock.ActiveSeconds(104.0), Catch::Matchers::WithinAbs(9.0, 1e-12));
}

TEST_CASE("session length and natural breathing", "[pacer]") {
    auto presets = ShippedPresets();
    Pacer box(presets.at("box"));
    CHECK_THAT(box.At(100.0).remaining_s, Catch::Matchers::WithinAbs(200.0, 1e-9));
    CHECK_FALSE(box.At(299.0).finished);
    CHECK(box.At(300.0).finished);
    Pacer natural(presets.at("natural"));
    const auto s = natural.At(30.0);
    CHECK_FALSE(s.paced);
    CHECK(s.phase == PhaseKind::Natural);
    CHECK(s.rate_bpm == 0.0);
    CHECK(s.breath_count == 0);
}

TEST_CASE("malformed preset JSON is rejected with a message that names the problem", "[presets]") {
    std::string error;
    CHECK_FALSE(PatternFromJson(nlohmann::json::parse(R"({"inhale_s": "four", "exhale_s": 4})"), error));
    CHECK(error.find("inhale_s") != std::string::npos);
    CHECK_FALSE(PatternFromJson(nlohmann::json::parse(R"({"inhale_s": 0, "exhale_s": 0})"), error));
    CHECK(error.find("between") != std::string::npos);
    CHECK_FALSE(PatternFromJson(nlohmann::json::parse(R"({"phases": [{"kind": "gasp", "s": 1}]})"), error));
    CHECK(error.find("gasp") != std::string::npos);
    CHECK_FALSE(PatternFromJson(nlohmann::json::parse(R"({"inhale_s": 4, "exhale_s": -4})"), error));
    CHECK_FALSE(PatternFromJson(nlohmann::json::parse(R"({"inhale_s": 4, "exhale_s": 6, "ramp": {"from_bpm": 6}})"), error));
    CHECK(error.find("ramp") != std::string::npos);
    CHECK_FALSE(PatternFromJson(nlohmann::json::parse(R"([1,2,3])"), error));

    // A folder with one broken file still loads the good ones and names the bad file.
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "presets-bad";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "good.json") << R"({"id": "good", "inhale_s": 3, "exhale_s": 3})";
    std::ofstream(dir / "broken.json") << R"({"id": "broken", "inhale_s": 3,)";
    auto result = LoadPresets({dir});
    REQUIRE(result.presets.size() == 1);
    CHECK(result.presets[0].id == "good");
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].find("broken.json") != std::string::npos);
}

TEST_CASE("user presets round-trip through the config folder", "[presets]") {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "presets-user";
    fs::remove_all(dir);
    BreathPattern p = BreathPattern::FourPhase("my-calm", "My calm", 4.5, 1.0, 7.0, 0.5, 900);
    p.ramp = Ramp{7.0, 5.0, 120.0};
    REQUIRE(SaveUserPreset(dir, p).empty());
    CHECK((fs::status(dir / "my-calm.json").permissions() & fs::perms::others_read) == fs::perms::none);
    auto result = LoadPresets({dir});
    REQUIRE(result.errors.empty());
    REQUIRE(result.presets.size() == 1);
    const auto& q = result.presets[0];
    CHECK(q.name == "My calm");
    REQUIRE(q.phases.size() == 4);
    REQUIRE(q.ramp.has_value());
    CHECK_THAT(q.ramp->to_bpm, Catch::Matchers::WithinAbs(5.0, 1e-12));
    CHECK_THAT(q.length_s, Catch::Matchers::WithinAbs(900.0, 1e-12));
    CHECK_THAT(q.phases[2].duration_s / q.CycleSeconds(), Catch::Matchers::WithinAbs(7.0 / 13.0, 1e-12));
}
