// The simulated heart must behave like the physiology it stands in for: RSA largest at the
// configured resonance and in phase with lung volume there, realistic mean rate, ectopic and
// missed beats at the configured rates, deterministic output, a PPG-shaped waveform.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "attune/devices/simulated_heart.hpp"

using namespace attune::devices;

namespace {

VolumeTarget Sine(double rate_bpm) {
    return [rate_bpm](double t) -> std::optional<double> {
        return 0.5 * (1.0 - std::cos(2.0 * std::numbers::pi * rate_bpm / 60.0 * t));
    };
}

SimParams Quiet() {
    SimParams p;
    p.vlf_sd_bpm = 0.0;
    p.beat_jitter = 0.0;
    p.noise_counts = 0.0;
    return p;
}

struct Run {
    std::vector<TrueBeat> beats;
    std::vector<DeviceEvent> events;
};

Run Simulate(SimParams p, VolumeTarget target, double duration_s, bool keep_events = false) {
    SimulatedHeart heart(p, std::move(target));
    Run run;
    std::vector<DeviceEvent> chunk;
    for (double t = 1.0; t <= duration_s; t += 1.0) {
        chunk.clear();
        heart.Poll(t, chunk);
        if (keep_events) run.events.insert(run.events.end(), chunk.begin(), chunk.end());
    }
    run.beats = heart.truth();
    return run;
}

// Least-squares fit of the instantaneous HR to a sinusoid at the breathing frequency,
// after a settling time: returns amplitude (bpm) and phase relative to the lung volume
// V = (1 - cos wt)/2, in degrees (positive = HR leads).
struct Fit { double amplitude_bpm; double phase_deg; };
Fit FitHeartRate(const std::vector<TrueBeat>& beats, double rate_bpm, double settle_s) {
    const double w = 2.0 * std::numbers::pi * rate_bpm / 60.0;
    double sc = 0, ss = 0, cc = 0, yc = 0, ys = 0, y0 = 0;
    int n = 0;
    for (std::size_t i = 1; i < beats.size(); ++i) {
        const double t = 0.5 * (beats[i].t_s + beats[i - 1].t_s);  // HR belongs to mid-interval
        if (t < settle_s) continue;
        y0 += 60000.0 / beats[i].ibi_ms;
        ++n;
    }
    y0 /= n;
    for (std::size_t i = 1; i < beats.size(); ++i) {
        const double t = 0.5 * (beats[i].t_s + beats[i - 1].t_s);
        if (t < settle_s) continue;
        const double y = 60000.0 / beats[i].ibi_ms - y0;
        const double c = -std::cos(w * t), s = std::sin(w * t);  // -cos is the volume's shape
        cc += c * c; ss += s * s; sc += s * c; yc += y * c; ys += y * s;
    }
    const double det = cc * ss - sc * sc;
    const double a = (yc * ss - ys * sc) / det;  // coefficient on -cos (in phase with volume)
    const double b = (ys * cc - yc * sc) / det;  // coefficient on sin (a quarter cycle ahead)
    return {std::hypot(a, b), std::atan2(b, a) * 180.0 / std::numbers::pi};
}

}  // namespace

TEST_CASE("the simulated heart is deterministic for a seed", "[sim]") {
    SimParams p;
    p.ectopic_probability = 0.02;
    auto a = Simulate(p, Sine(6.0), 60.0, true);
    auto b = Simulate(p, Sine(6.0), 60.0, true);
    REQUIRE(a.events.size() == b.events.size());
    for (std::size_t i = 0; i < a.events.size(); ++i) REQUIRE(a.events[i].value == b.events[i].value);
    p.seed = 2;
    auto c = Simulate(p, Sine(6.0), 60.0, true);
    CHECK(c.beats.size() != a.beats.size() + 1000);  // runs
    bool differs = false;
    for (std::size_t i = 0; i < std::min(a.events.size(), c.events.size()); ++i)
        differs = differs || a.events[i].value != c.events[i].value;
    CHECK(differs);
}

TEST_CASE("sample count follows time, not calls", "[sim]") {
    SimulatedHeart one(SimParams{}), many(SimParams{});
    std::vector<DeviceEvent> e1, e2;
    one.Poll(10.0, e1);
    for (int i = 1; i <= 1000; ++i) many.Poll(i * 0.01, e2);
    CHECK(one.samples() == 5001);  // samples at 0, 2 ms, ..., 10 s
    CHECK(many.samples() == one.samples());
    REQUIRE(e1.size() == e2.size());
    for (std::size_t i = 0; i < e1.size(); ++i) REQUIRE(e1[i].value == e2[i].value);
}

TEST_CASE("mean heart rate and the waveform look like a PulseSensor's", "[sim]") {
    SimParams p;
    p.hr_mean_bpm = 70.0;
    auto run = Simulate(p, {}, 300.0, true);
    const double mean_hr = 60.0 * static_cast<double>(run.beats.size() - 1) / (run.beats.back().t_s - run.beats.front().t_s);
    CHECK_THAT(mean_hr, Catch::Matchers::WithinAbs(70.0, 3.0));
    double lo = 1e9, hi = -1e9;
    std::size_t samples = 0;
    for (const auto& e : run.events) {
        if (e.kind != EventKind::Sample) continue;
        ++samples;
        lo = std::min(lo, e.value);
        hi = std::max(hi, e.value);
        REQUIRE(e.value == std::round(e.value));
    }
    CHECK(samples == 150001);  // 0 s to 300 s inclusive at 500 Hz
    CHECK(lo >= 0.0);
    CHECK(hi <= 1023.0);
    CHECK(hi - lo > 100.0);  // a visible pulse
    for (const auto& b : run.beats) {
        REQUIRE(b.ibi_ms >= 0.0);
        if (b.ibi_ms > 0.0) REQUIRE((b.ibi_ms > 273.0 && b.ibi_ms < 2000.0));
    }
}

TEST_CASE("the systolic peaks of the waveform sit at the true beat times", "[sim]") {
    auto run = Simulate(Quiet(), Sine(6.0), 30.0, true);
    std::vector<double> t, v;
    for (const auto& e : run.events)
        if (e.kind == EventKind::Sample) { t.push_back(e.t_s); v.push_back(e.value); }
    int checked = 0;
    for (const auto& b : run.beats) {
        if (b.t_s < 1.0 || b.t_s > 29.0) continue;
        // The largest sample within +-150 ms of the true peak must be within 10 ms of it.
        std::size_t best = 0;
        double best_v = -1;
        for (std::size_t i = 0; i < t.size(); ++i)
            if (std::abs(t[i] - b.t_s) < 0.15 && v[i] > best_v) { best_v = v[i]; best = i; }
        CHECK(std::abs(t[best] - b.t_s) < 0.010);
        ++checked;
    }
    CHECK(checked > 25);
}

TEST_CASE("RSA is largest at the configured resonance and in phase with breathing there", "[sim][resonance]") {
    for (double resonance : {5.0, 6.0}) {
        INFO("resonance " << resonance);
        SimParams p = Quiet();
        p.resonance_bpm = resonance;
        double best_rate = 0, best_amp = 0;
        for (double rate : {4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0}) {
            auto run = Simulate(p, Sine(rate), 240.0);
            const Fit f = FitHeartRate(run.beats, rate, 60.0);
            if (f.amplitude_bpm > best_amp) { best_amp = f.amplitude_bpm; best_rate = rate; }
            if (rate == resonance) {
                // In phase with lung volume; against the pacer's target the close follower's
                // 0.1 s lag and the 0.18 s pulse delay add about -10 degrees at 5-6/min.
                CHECK(f.phase_deg < 0.0);
                CHECK(f.phase_deg > -15.0);
                CHECK_THAT(f.amplitude_bpm, Catch::Matchers::WithinRel(p.rsa_gain_bpm, 0.15));
            }
        }
        CHECK(best_rate == resonance);
    }
    // Fast breathing: a much smaller swing that lags behind the volume.
    auto fast = Simulate(Quiet(), Sine(15.0), 180.0);
    const Fit f = FitHeartRate(fast.beats, 15.0, 30.0);
    CHECK(f.amplitude_bpm < 0.4 * Quiet().rsa_gain_bpm);
    CHECK(f.phase_deg < -45.0);
}

TEST_CASE("ectopic and missed beats occur at the configured rates", "[sim]") {
    SimParams p;
    p.ectopic_probability = 0.03;
    p.missed_probability = 0.02;
    auto run = Simulate(p, Sine(6.0), 1200.0, true);
    std::size_t ectopic = 0, missed = 0, reported = 0;
    for (const auto& b : run.beats) { ectopic += b.ectopic; missed += b.missed; }
    for (const auto& e : run.events) reported += e.kind == EventKind::Beat;
    const double n = static_cast<double>(run.beats.size());
    // Binomial: n ~ 1300, sd of the count ~ sqrt(n p) ~ 6; allow about 4 sd.
    CHECK_THAT(ectopic / n, Catch::Matchers::WithinAbs(0.03 * (1 - 0.03), 0.02));
    CHECK_THAT(missed / n, Catch::Matchers::WithinAbs(0.02, 0.015));
    CHECK(reported == run.beats.size() - missed);
    // A premature beat is followed by a compensatory pause: the two intervals sum to ~2 normal ones.
    for (std::size_t i = 2; i + 1 < run.beats.size(); ++i) {
        if (!run.beats[i].ectopic || run.beats[i + 1].ectopic || run.beats[i - 1].ectopic || run.beats[i - 2].ectopic) continue;
        const double pair = run.beats[i].ibi_ms + run.beats[i + 1].ibi_ms;
        CHECK_THAT(pair / run.beats[i - 1].ibi_ms, Catch::Matchers::WithinAbs(2.0, 0.3));
        CHECK(run.beats[i].ibi_ms < 0.8 * run.beats[i - 1].ibi_ms);
    }
}

TEST_CASE("adherence: ignoring the pacer breathes at the natural rate", "[sim]") {
    SimParams p = Quiet();
    p.adherence = Adherence::Ignore;
    p.natural_rate_bpm = 14.0;
    SimulatedHeart heart(p, Sine(5.5));
    std::vector<DeviceEvent> ev;
    int rises = 0;
    double prev = 0.0;
    for (int i = 1; i <= 120 * 50; ++i) {
        heart.Poll(i * 0.02, ev);
        ev.clear();
        const double v = heart.lung_volume();
        if (prev < 0.5 && v >= 0.5) ++rises;
        prev = v;
    }
    CHECK(std::abs(rises - 28) <= 5);  // 14/min for 2 min, with the natural rate wandering +-30 %
}
