// RSA per breath, breathing rate from the heart and heart-rate phase: synthetic beats with known
// modulation, and a real 5-minute recording with a respiration belt.
#include <attune/dsp/artifacts.hpp>
#include <attune/dsp/ecg_detector.hpp>
#include <attune/dsp/rsa.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <fstream>
#include <functional>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace attune::dsp;

// Counts heap allocations, to check that the streaming classes allocate only at construction.
#include "alloc_counter.hpp"

namespace {

constexpr double kPi = std::numbers::pi;
const std::string kData = ATTUNE_SHARED_DATA_DIR;

class Noise {
public:
    explicit Noise(std::uint32_t seed) : rng_(seed) {}
    double gauss() {
        const double u1 = (static_cast<double>(rng_()) + 0.5) / 4294967296.0;
        const double u2 = (static_cast<double>(rng_()) + 0.5) / 4294967296.0;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
    }

private:
    std::mt19937 rng_;
};

// Integral pulse frequency modulation: a beat whenever the integral of HR(t)/60 passes an
// integer, so each interval's mean heart rate is exactly 60000/ibi over that interval.
std::vector<Beat> ipfm_beats(const std::function<double(double)>& hr_bpm, double duration_s,
                             double rr_noise_ms = 0.0, std::uint32_t seed = 1) {
    Noise noise(seed);
    std::vector<Beat> beats;
    const double dt = 1e-3;
    double phase = 0.0, last = -1.0;
    for (double t = 0.0; t < duration_s; t += dt) {
        const double next = phase + hr_bpm(t + 0.5 * dt) / 60.0 * dt;
        if (std::floor(next) > std::floor(phase)) {
            const double tb = t + dt * (std::floor(next) - phase) / (next - phase);
            if (last >= 0.0) {
                const double jitter = rr_noise_ms * noise.gauss() / 1000.0;
                beats.push_back({tb + jitter, (tb + jitter - beats.back().t_s) * 1000.0, 1.0});
            } else {
                beats.push_back({tb, 0.0, 1.0});
            }
            last = tb;
        }
        phase = next;
    }
    return beats;
}

double wrap_deg(double a) {
    a = std::remainder(a, 360.0);
    return a <= -180.0 ? a + 360.0 : a;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// RSA per breath

TEST_CASE("rsa: peak-to-trough per breath equals the analytic amplitude", "[rsa]") {
    for (const double a : {50.0, 120.0}) {
        // 12 intervals per breath, RR = 1000 + a·sin(2πk/12): each breath holds sin = +1 and −1.
        std::vector<Beat> beats{{0.0, 0.0, 0.0}};
        for (int k = 0; k < 12 * 20; ++k) {
            const double rr = 1000.0 + a * std::sin(2.0 * kPi * (k % 12) / 12.0);
            beats.push_back({beats.back().t_s + rr / 1000.0, rr, 0.0});
        }
        auto mid = [&](std::size_t i) { return beats[i].t_s - beats[i].ibi_ms / 2000.0; };
        std::vector<BreathCycle> breaths;
        for (std::size_t m = 1; m + 1 < 20; ++m) {
            const std::size_t first = 1 + 12 * m, last = first + 11;
            breaths.push_back({0.5 * (mid(first - 1) + mid(first)), 0.5 * (mid(last) + mid(last + 1))});
        }
        const auto res = rsa_per_breath(beats, breaths);
        const double hr_expected = 60000.0 / (1000.0 - a) - 60000.0 / (1000.0 + a);
        REQUIRE(res.size() == breaths.size());
        for (const BreathRsa& r : res) {
            CHECK(r.valid);
            CHECK(r.n_intervals == 12);
            CHECK(r.rsa_ms == Approx(2.0 * a).margin(1e-9));
            CHECK(r.rsa_bpm == Approx(hr_expected).margin(1e-9));
            CHECK(r.hr_max_bpm == Approx(60000.0 / (1000.0 - a)).margin(1e-9));
        }

        // The streaming tracker gives the same, whether each breath is announced when it starts
        // (before its beats) or a few seconds after it ended.
        RsaTracker early, late;
        std::vector<BreathRsa> got_early, got_late;
        std::size_t next_early = 0, next_late = 0;
        for (const Beat& x : beats) {
            while (next_early < breaths.size() && breaths[next_early].start_s <= x.t_s) {
                const auto o = early.add_breath(breaths[next_early++]);
                got_early.insert(got_early.end(), o.begin(), o.end());
            }
            auto o = early.push_beat(x);
            got_early.insert(got_early.end(), o.begin(), o.end());
            o = late.push_beat(x);
            got_late.insert(got_late.end(), o.begin(), o.end());
            while (next_late < breaths.size() && breaths[next_late].end_s + 3.0 < x.t_s) {
                const auto ob = late.add_breath(breaths[next_late++]);
                got_late.insert(got_late.end(), ob.begin(), ob.end());
            }
        }
        while (next_late < breaths.size()) {
            const auto ob = late.add_breath(breaths[next_late++]);
            got_late.insert(got_late.end(), ob.begin(), ob.end());
        }
        const auto fe = early.flush();
        got_early.insert(got_early.end(), fe.begin(), fe.end());
        const auto fl = late.flush();
        got_late.insert(got_late.end(), fl.begin(), fl.end());
        REQUIRE(got_early.size() == res.size());
        REQUIRE(got_late.size() == res.size());
        for (std::size_t i = 0; i < res.size(); ++i) {
            CHECK(got_early[i].rsa_ms == res[i].rsa_ms);
            CHECK(got_late[i].rsa_bpm == res[i].rsa_bpm);
            CHECK(got_late[i].n_intervals == res[i].n_intervals);
        }
    }
}

TEST_CASE("rsa: a sinusoidal heart rate gives its peak-to-trough amplitude", "[rsa]") {
    // HR = 65 ± 5 bpm at 6 breaths/min, breaths aligned with the cycle. Beats sample the sine
    // ~11 times per cycle and each interval averages it, so the extremes read a little low: at
    // most 1 − cos(π/11) ≈ 4 % of the amplitude at each end.
    const double f = 0.1;
    const auto beats = ipfm_beats([&](double t) { return 65.0 + 5.0 * std::sin(2 * kPi * f * t); }, 300.0);
    std::vector<BreathCycle> breaths;
    for (double t = 10.0; t + 10.0 <= 290.0; t += 10.0) breaths.push_back({t, t + 10.0});
    for (const BreathRsa& r : rsa_per_breath(beats, breaths)) {
        CHECK(r.valid);
        CHECK(r.rsa_bpm <= 10.0 + 1e-6);
        CHECK(r.rsa_bpm >= 9.5);
    }
}

// ------------------------------------------------------------------------------------------------
// Breathing rate

TEST_CASE("rsa: breathing rate from RR at 4-20 breaths/min", "[rsa][rate]") {
    double worst = 0.0;
    for (const double rate : {4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 18.0, 20.0}) {
        const double f = rate / 60.0;
        // Respiratory modulation ±4 bpm, a slow drift (±3 bpm at 0.02 Hz) and 5 ms of jitter.
        const auto beats = ipfm_beats(
            [&](double t) {
                return 68.0 + 4.0 * std::sin(2 * kPi * f * t) + 3.0 * std::sin(2 * kPi * 0.02 * t + 1.0);
            },
            180.0, 5.0, static_cast<std::uint32_t>(rate));
        BreathingRateEstimator est;
        std::size_t n = 0;
        double prev_second = -1.0;
        for (const Beat& b : beats) {
            if (const auto r = est.push(b)) {
                CHECK(std::floor(r->t_s) > prev_second);  // at most one estimate per second
                prev_second = std::floor(r->t_s);
                if (r->t_s < 90.0) continue;  // let the 60 s window fill with the rhythm
                ++n;
                worst = std::max(worst, std::abs(r->rate_bpm - rate));
                CHECK(std::abs(r->rate_bpm - rate) <= 0.5);
                CHECK(r->confidence > 0.5);
            }
        }
        CHECK(n >= 80);
        const auto off = estimate_breathing_rate(beats);
        REQUIRE(off);
        CHECK(std::abs(off->rate_bpm - rate) <= 0.5);
        std::printf("[rsa] %4.1f breaths/min: offline %.2f (confidence %.2f)\n", rate, off->rate_bpm,
                    off->confidence);
    }
    std::printf("[rsa] breathing rate, worst streaming error over 4-20 breaths/min: %.3f breaths/min\n", worst);
}

TEST_CASE("rsa: breathing rate confidence separates rhythm from noise", "[rsa][rate]") {
    // 300 windows of 60 s of white-noise RR (no rhythm): confidence stays low.
    Noise noise(3);
    std::vector<double> conf;
    for (int rep = 0; rep < 300; ++rep) {
        std::vector<Beat> beats{{0.0, 0.0, 0.0}};
        for (int i = 0; i < 72; ++i) {
            const double rr = 850.0 + 30.0 * noise.gauss();
            beats.push_back({beats.back().t_s + rr / 1000.0, rr, 0.0});
        }
        if (const auto r = estimate_breathing_rate(beats)) conf.push_back(r->confidence);
    }
    REQUIRE(conf.size() == 300);
    std::sort(conf.begin(), conf.end());
    const double median = conf[150], p95 = conf[285];
    std::printf("[rsa] white-noise RR, 60 s windows: confidence median %.2f, 95th percentile %.2f\n", median, p95);
    CHECK(median < 0.25);
    CHECK(p95 < 0.45);
    // A clean respiratory rhythm scores near 1.
    const auto beats = ipfm_beats([](double t) { return 70.0 + 4.0 * std::sin(2 * kPi * 0.2 * t); }, 60.0);
    const auto r = estimate_breathing_rate(beats);
    REQUIRE(r);
    CHECK(r->confidence > 0.9);
}

TEST_CASE("rsa: a long offline span gets a grid fine enough for its main lobe", "[rsa][rate]") {
    // 5 minutes resolve 1/300 Hz; the configured 0.005 Hz step would put fewer than 1 point on the
    // Hann main lobe's half-width (2/300 Hz) and let the refinement lock onto the wrong bins. The
    // estimate must equal the direct DFT on a 0.001 Hz grid (what >= 3 points per 1/span Hz gives),
    // and land within 0.02 breaths/min of a 5.3 breaths/min rhythm that falls between 0.005 Hz bins.
    const double rate = 5.3;
    const auto beats = ipfm_beats([&](double t) { return 64.0 + 5.0 * std::sin(2 * kPi * rate / 60.0 * t); },
                                  300.0, 3.0, 23);
    const auto r = estimate_breathing_rate(beats);
    BreathingRateConfig fine;
    fine.grid_step_hz = 0.001;
    fine.use_fft = false;
    const auto d = estimate_breathing_rate(beats, fine);
    REQUIRE(r);
    REQUIRE(d);
    CHECK_THAT(r->frequency_hz, Catch::Matchers::WithinAbs(d->frequency_hz, 1e-9));
    CHECK_THAT(r->rate_bpm, Catch::Matchers::WithinAbs(rate, 0.02));
}

TEST_CASE("rsa: the FFT spectrum grid gives the direct DFT's estimates", "[rsa][rate]") {
    // The default grid (0.05-0.5 Hz every 0.005 Hz at 4 Hz) is bins 10..100 of an 800-point DFT, so
    // the estimator uses one FFT; use_fft = false forces the direct DFT of the same grid. Every
    // streaming estimate (RR alone and with beat amplitudes) must agree to 1e-9.
    const auto beats = ipfm_beats(
        [](double t) { return 66.0 + 5.0 * std::sin(2 * kPi * 0.23 * t) + 3.0 * std::sin(2 * kPi * 0.09 * t); },
        400.0, 8.0, 17);
    for (const bool amp : {false, true}) {
        BreathingRateConfig direct_cfg;
        direct_cfg.use_fft = false;
        BreathingRateEstimator fft, direct(direct_cfg);
        std::size_t n = 0;
        double worst = 0.0;
        for (Beat b : beats) {
            b.amplitude = amp ? 1000.0 + 20.0 * std::sin(2 * kPi * 0.23 * b.t_s) + 0.05 * b.ibi_ms : 0.0;
            const auto a = fft.push(b), d = direct.push(b);
            REQUIRE(a.has_value() == d.has_value());
            if (!a) continue;
            ++n;
            CHECK(a->used_amplitude == amp);
            CHECK(a->used_amplitude == d->used_amplitude);
            worst = std::max({worst, std::abs(a->frequency_hz - d->frequency_hz),
                              std::abs(a->confidence - d->confidence)});
        }
        std::printf("[rsa] FFT vs direct DFT (%s): %zu estimates, largest difference %.3g\n",
                    amp ? "with amplitude" : "RR only", n, worst);
        CHECK(n >= 300);
        CHECK(worst <= 1e-9);
    }
}

// ------------------------------------------------------------------------------------------------
// Phase

TEST_CASE("rsa: phase of heart rate against the breathing reference", "[rsa][phase]") {
    double worst = 0.0;
    for (const double f0 : {0.075, 0.1, 0.2}) {
        for (const double lag : {-150.0, -90.0, -30.0, 0.0, 20.0, 60.0, 120.0, 180.0}) {
            const double w = 2 * kPi * f0, phi = lag * kPi / 180.0;
            // HR lags the lung volume cos(ωt) by `lag`.
            const auto beats = ipfm_beats(
                [&](double t) { return 66.0 + 6.0 * std::cos(w * t - phi) + 2.0 * std::sin(2 * kPi * 0.013 * t); },
                120.0, 4.0, static_cast<std::uint32_t>(1000 * f0 + lag + 200));
            HrPhaseTracker tracker;
            std::vector<ReferenceSample> ref;
            for (double t = 0.0; t < 121.0; t += 1.0 / 30.0) ref.push_back({t, 0.5 + 0.5 * std::cos(w * t)});
            std::size_t ri = 0;
            HrPhase last;
            for (const Beat& b : beats) {
                while (ri < ref.size() && ref[ri].t_s <= b.t_s) {
                    tracker.push_reference(ref[ri].t_s, ref[ri].value);
                    ++ri;
                }
                tracker.push_beat(b);
                if (b.t_s > 60.0) last = tracker.estimate(f0);
            }
            REQUIRE(last.valid);
            const double err = std::abs(wrap_deg(last.phase_deg - lag));
            worst = std::max(worst, err);
            CHECK(err <= 10.0);
            INFO("f0 " << f0 << " lag " << lag << " amplitude " << last.hr_amplitude_bpm);
            CHECK(last.hr_amplitude_bpm == Approx(6.0).epsilon(0.08));
            CHECK(last.hr_fraction > 0.5);
            const HrPhase off = hr_phase(beats, ref, f0);
            REQUIRE(off.valid);
            CHECK(std::abs(wrap_deg(off.phase_deg - lag)) <= 10.0);
        }
    }
    std::printf("[rsa] phase: worst error %.2f deg over f0 0.075-0.2 Hz and lags -150..180 deg\n", worst);
}

TEST_CASE("rsa: the phase tracker equals the offline estimate after its rings wrap", "[rsa][phase]") {
    // 15 minutes: the beat ring (95 s at 220 bpm) and the reference ring (95 s at 20 Hz) both wrap
    // several times. Every 7 s the tracker's estimate must equal the offline function's over all
    // beats and reference samples so far (same arithmetic on the same window: 1e-9).
    const double f0 = 0.1;
    const auto beats = ipfm_beats(
        [&](double t) { return 72.0 + 5.0 * std::cos(2 * kPi * f0 * t - 0.7) + 3.0 * std::sin(2 * kPi * 0.011 * t); },
        900.0, 6.0, 91);
    HrPhaseTracker tracker;
    std::vector<Beat> seen;
    std::vector<ReferenceSample> ref;
    double next_ref = 0.0, next_check = 60.0;
    std::size_t checks = 0;
    for (const Beat& b : beats) {
        for (; next_ref <= b.t_s; next_ref += 0.1) {  // 10 Hz: below the tracker's 20 Hz decimation
            ref.push_back({next_ref, 0.5 + 0.5 * std::cos(2 * kPi * f0 * next_ref)});
            tracker.push_reference(ref.back().t_s, ref.back().value);
        }
        tracker.push_beat(b);
        seen.push_back(b);
        if (b.t_s < next_check) continue;
        next_check += 7.0;
        const HrPhase live = tracker.estimate(f0), off = hr_phase(seen, ref, f0);
        REQUIRE(live.valid);
        REQUIRE(off.valid);
        CHECK_THAT(live.phase_deg, Catch::Matchers::WithinAbs(off.phase_deg, 1e-9));
        CHECK_THAT(live.hr_amplitude_bpm, Catch::Matchers::WithinAbs(off.hr_amplitude_bpm, 1e-9));
        CHECK_THAT(live.phase_deg, Catch::Matchers::WithinAbs(0.7 * 180.0 / kPi, 10.0));
        ++checks;
    }
    CHECK(checks >= 110);
}

TEST_CASE("rsa: phase needs enough history and a rhythm", "[rsa][phase]") {
    HrPhaseTracker tracker;
    CHECK_FALSE(tracker.estimate(0.1).valid);
    const auto beats = ipfm_beats([](double) { return 60.0; }, 20.0);
    for (const Beat& b : beats) tracker.push_beat(b);
    for (double t = 0.0; t < 20.0; t += 0.1) tracker.push_reference(t, std::cos(2 * kPi * 0.1 * t));
    CHECK_FALSE(tracker.estimate(0.1).valid);  // 3 cycles at 0.1 Hz need 30 s
}

TEST_CASE("rsa: streaming classes do not allocate per beat", "[rsa]") {
    const auto beats = ipfm_beats([](double t) { return 70.0 + 5.0 * std::sin(2 * kPi * 0.1 * t); }, 400.0, 3.0);
    RsaTracker rsa;
    BreathingRateEstimator rate;
    HrPhaseTracker phase;
    std::size_t outputs = 0;
    double next_breath = 0.0, next_ref = 0.0;
    const std::size_t before = g_allocations;
    for (const Beat& b : beats) {
        while (next_ref <= b.t_s) {
            phase.push_reference(next_ref, std::cos(2 * kPi * 0.1 * next_ref));
            next_ref += 0.1;
        }
        if (b.t_s >= next_breath + 10.0) {
            outputs += rsa.add_breath({next_breath, next_breath + 10.0}).size();
            next_breath += 10.0;
        }
        outputs += rsa.push_beat(b).size();
        outputs += rate.push(b).has_value();
        outputs += phase.estimate(0.1).valid;
    }
    outputs += rsa.flush().size();
    CHECK(g_allocations == before);
    CHECK(outputs > 300);
}

// ------------------------------------------------------------------------------------------------
// Real recording: ECG, PPG and a respiration belt, 5 min at rest, 100 Hz.

namespace {

struct Multi {
    std::vector<double> ecg, ppg, rsp;
};

Multi load_multi() {
    std::ifstream in(kData + "/multi/bio-resting-5min-100hz.csv");
    Multi m;
    std::string line;
    std::getline(in, line);  // header ECG,PPG,RSP
    while (std::getline(in, line)) {
        std::stringstream ss(line);
        std::string a, b, c;
        if (!std::getline(ss, a, ',') || !std::getline(ss, b, ',') || !std::getline(ss, c, ',')) continue;
        m.ecg.push_back(std::stod(a));
        m.ppg.push_back(std::stod(b));
        m.rsp.push_back(std::stod(c));
    }
    return m;
}

// Reference breathing rate from the belt: the signal smoothed over 0.5 s, its baseline (10 s
// moving average) removed, then upward crossings of ±15 % of its SD (hysteresis) counted.
struct BeltRate {
    double mean_bpm = 0.0;
    std::vector<double> breath_starts;  // upward crossings, s
};

BeltRate belt_rate(const std::vector<double>& rsp, double fs) {
    auto moving_average = [](const std::vector<double>& x, std::size_t half) {
        std::vector<double> y(x.size());
        for (std::size_t i = 0; i < x.size(); ++i) {
            const std::size_t a = i >= half ? i - half : 0, b = std::min(x.size() - 1, i + half);
            double s = 0.0;
            for (std::size_t j = a; j <= b; ++j) s += x[j];
            y[i] = s / double(b - a + 1);
        }
        return y;
    };
    const auto smooth = moving_average(rsp, static_cast<std::size_t>(0.25 * fs));
    const auto base = moving_average(smooth, static_cast<std::size_t>(5.0 * fs));
    std::vector<double> x(rsp.size());
    double ss = 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        x[i] = smooth[i] - base[i];
        ss += x[i] * x[i];
    }
    const double h = 0.15 * std::sqrt(ss / double(x.size()));
    BeltRate r;
    bool low = x[0] < 0.0;
    for (std::size_t i = 1; i < x.size(); ++i) {
        if (low && x[i] > h) {
            low = false;
            r.breath_starts.push_back(double(i) / fs);
        } else if (!low && x[i] < -h) {
            low = true;
        }
    }
    const auto& s = r.breath_starts;
    if (s.size() >= 2) r.mean_bpm = 60.0 * double(s.size() - 1) / (s.back() - s.front());
    return r;
}

}  // namespace

TEST_CASE("rsa: breathing rate from the ECG matches the respiration belt", "[rsa][data]") {
    const double fs = 100.0;
    const Multi m = load_multi();
    REQUIRE(m.ecg.size() > 29000);

    EcgDetector::Params p;
    p.sample_rate_hz = fs;
    EcgDetector det(p);
    std::vector<Beat> raw;
    det.process(m.ecg, raw);
    ArtifactStream art;
    std::vector<Beat> beats;
    for (const Beat& b : raw)
        for (const auto& c : art.push(b).corrected) beats.push_back(c.to_beat());
    for (const auto& c : art.flush().corrected) beats.push_back(c.to_beat());
    REQUIRE(beats.size() > 250);
    std::printf("[rsa] bio-resting-5min ECG: %zu beats detected, artifact labels: %zu flagged "
                "(ectopic %zu, missed %zu, extra %zu, long %zu, short %zu)\n",
                raw.size(), art.counts().flagged(), art.counts().ectopic, art.counts().missed,
                art.counts().extra, art.counts().too_long, art.counts().too_short);

    const BeltRate belt = belt_rate(m.rsp, fs);
    REQUIRE(belt.breath_starts.size() > 20);

    // Offline over the whole recording, with and without the R-amplitude spectrum.
    BreathingRateConfig rr_only;
    rr_only.use_amplitude = false;
    const auto off = estimate_breathing_rate(beats);
    const auto off_rr = estimate_breathing_rate(beats, rr_only);
    REQUIRE(off);
    REQUIRE(off_rr);

    // Streaming: every per-second estimate compared with the belt's rate over the same 60 s.
    BreathingRateEstimator est;
    std::vector<double> errors, rates;
    std::size_t confident = 0, confident_ok = 0;
    for (const Beat& b : beats) {
        const auto r = est.push(b);
        if (!r || r->t_s < 60.0) continue;
        std::size_t n = 0;
        double first = 0.0, last = 0.0;
        for (double s : belt.breath_starts)
            if (s >= r->t_s - 60.0 && s <= r->t_s) {
                if (n++ == 0) first = s;
                last = s;
            }
        if (n < 3) continue;
        const double err = std::abs(r->rate_bpm - 60.0 * double(n - 1) / (last - first));
        errors.push_back(err);
        rates.push_back(r->rate_bpm);
        if (r->confidence >= 0.4) {
            ++confident;
            confident_ok += err <= 1.5;
        }
    }
    REQUIRE(errors.size() > 100);
    std::sort(errors.begin(), errors.end());
    std::sort(rates.begin(), rates.end());
    const double median_err = errors[errors.size() / 2], p75_err = errors[errors.size() * 3 / 4];
    const double median_rate = rates[rates.size() / 2];
    std::size_t within = 0;
    for (double e : errors) within += e <= 1.5;

    std::printf("[rsa] bio-resting-5min: %zu beats (%zu detected), belt %.2f breaths/min (%zu breaths)\n",
                beats.size(), raw.size(), belt.mean_bpm, belt.breath_starts.size());
    std::printf("    from heart, whole 5 min: %.2f breaths/min (confidence %.2f, R amplitude used %d); RR only %.2f\n",
                off->rate_bpm, off->confidence, int(off->used_amplitude), off_rr->rate_bpm);
    std::printf("    from heart, median of the per-second estimates: %.2f breaths/min (belt %.2f, difference %+.2f)\n",
                median_rate, belt.mean_bpm, median_rate - belt.mean_bpm);
    std::printf("    per 60 s window vs the belt's count in the same window: median |error| %.2f, 75th percentile "
                "%.2f, within 1.5: %zu/%zu; with confidence >= 0.4: %zu/%zu within 1.5\n",
                median_err, p75_err, within, errors.size(), confident_ok, confident);
    // The 5-minute rate: the belt's count and the heart's spectral peak agree within 1.5 breaths/min
    // (a 5-min spectrum resolves 0.2 breaths/min; what is left is that breathing wanders between
    // ~14 and ~18 breaths/min here, which a count and a dominant frequency weigh differently).
    CHECK(std::abs(median_rate - belt.mean_bpm) <= 1.5);
    CHECK(std::abs(off->rate_bpm - belt.mean_bpm) <= 1.5);
    CHECK(std::abs(off_rr->rate_bpm - belt.mean_bpm) <= 1.5);
    // Window by window it is harder: this subject's RR carries Mayer waves (~0.1 Hz) as strong as
    // the respiratory sinus arrhythmia, so some windows pick them. Measured median 1.36.
    CHECK(median_err <= 2.0);
    // The confidence value tells the good windows apart: measured 50 of 50 within 1.5.
    CHECK(confident >= 30);
    CHECK(double(confident_ok) >= 0.9 * double(confident));
}
