// Tests of the streaming PPG systolic-peak detector (attune/dsp/ppg_detector.hpp): synthetic
// timing at 25-500 Hz, latency, polarity, noise rejection, and accuracy on real recordings
// scored as ../shared/data/README.md says (±100 ms, one-to-one, first 5 s skipped).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "attune/dsp/ecg_detector.hpp"
#include "attune/dsp/ppg_detector.hpp"
#include "attune/dsp/signal_io.hpp"
#include "beat_scoring.hpp"
#include "noise_inputs.hpp"

#include <cstdlib>
#include <new>

// Counting global allocator: lets a test assert that the per-sample path never allocates.
#include "alloc_counter.hpp"

using namespace attune::dsp;
using attune::test::BeatScore;
using attune::test::score_beats;

namespace {
const std::string kData = ATTUNE_SHARED_DATA_DIR;

struct Run {
    std::vector<Beat> beats;
    double max_latency_s = 0.0;
    bool inverted = false;
};

Run run_detector(const std::vector<double>& x, double fs, PpgDetector::Polarity pol = PpgDetector::Polarity::Auto) {
    PpgDetector::Params p;
    p.sample_rate_hz = fs;
    p.polarity = pol;
    PpgDetector det(p);
    Run r;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (auto b = det.process(x[i])) {
            r.beats.push_back(*b);
            r.max_latency_s = std::max(r.max_latency_s, static_cast<double>(i) / fs - b->t_s);
        }
    }
    if (auto b = det.flush()) r.beats.push_back(*b);  // end of the recording (offline)
    r.inverted = det.inverted();
    return r;
}

std::vector<double> times(const std::vector<Beat>& b) {
    std::vector<double> t;
    for (const auto& x : b) t.push_back(x.t_s);
    return t;
}

TextReadOptions column(const std::string& name) {
    TextReadOptions o;
    o.column_name = name;
    return o;
}

// Synthetic PPG: each pulse is a Gaussian of a warped time axis, g(d) = d (1 - 0.4 tanh(d / s)):
// smooth, with its maximum at the beat time, a steeper upstroke than decay; plus a dicrotic
// wave. Widths scale with the interval.
struct SynthPpg {
    std::vector<double> beat_t;  // pulse centres
    std::vector<double> period;
    std::vector<double> amp;     // pulse heights (1 when empty)

    double value(double t) const {
        double v = 0.1 * std::sin(2.0 * 3.14159265358979 * 0.2 * t);  // respiratory baseline
        const auto first = static_cast<std::size_t>(
            std::lower_bound(beat_t.begin(), beat_t.end(), t - 2.0) - beat_t.begin());
        for (std::size_t k = first; k < beat_t.size() && beat_t[k] <= t + 1.0; ++k) {
            const double d = t - beat_t[k];
            const double T = period[k];
            const double s = std::min(0.12, 0.2 * T);
            const double g = d * (1.0 - 0.4 * std::tanh(d / s));
            const double a = amp.empty() ? 1.0 : amp[k];
            v += a * std::exp(-0.5 * g * g / (s * s));
            const double dd = d - std::min(0.30, 0.45 * T), sd = std::min(0.05, 0.08 * T);
            v += 0.25 * a * std::exp(-0.5 * dd * dd / (sd * sd));
        }
        return v;
    }
    // True maxima of the continuous waveform near each pulse centre.
    std::vector<double> true_peaks() const {
        std::vector<double> out;
        for (double c : beat_t) {
            double best_t = c, best = value(c);
            for (double step : {1e-3, 1e-5, 1e-7}) {  // coarse to fine grid search
                const double lo = best_t - 50.0 * step, hi = best_t + 50.0 * step;
                for (double t = lo; t <= hi; t += step) {
                    const double v = value(t);
                    if (v > best) {
                        best = v;
                        best_t = t;
                    }
                }
            }
            out.push_back(best_t);
        }
        return out;
    }
};

SynthPpg make_ppg(double bpm, double duration_s) {
    SynthPpg s;
    double now = 0.4;
    int k = 0;
    while (now < duration_s - 0.5) {
        const double T = 60.0 / bpm * (1.0 + 0.04 * std::sin(0.6 * k++));
        s.beat_t.push_back(now);
        s.period.push_back(T);
        now += T;
    }
    return s;
}

std::vector<double> sample(const SynthPpg& s, double fs, double duration_s, double offset, double scale,
                           double noise_sd = 0.0, unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> g;
    const auto n = static_cast<std::size_t>(duration_s * fs);
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / fs;
        x[i] = offset + scale * (s.value(t) + noise_sd * g(rng));
    }
    return x;
}
}  // namespace

TEST_CASE("PPG: synthetic pulse trains, 40-180 bpm, 25-500 Hz: every beat, sub-sample timing", "[ppg]") {
    for (double fs : {25.0, 50.0, 100.0, 200.0, 500.0}) {
        for (double bpm : {40.0, 60.0, 90.0, 120.0, 150.0, 180.0}) {
            const double dur = 40.0;
            const auto s = make_ppg(bpm, dur);
            const auto ref = s.true_peaks();
            const auto x = sample(s, fs, dur, 1000.0, 50.0);
            const auto r = run_detector(x, fs);
            const auto sc = score_beats(ref, times(r.beats), 0.1);
            INFO("fs " << fs << " bpm " << bpm << ": " << sc.summary());
            CHECK_FALSE(r.inverted);
            CHECK(sc.fn == 0);
            CHECK(sc.fp == 0);
            const double tol_ms = fs >= 100.0 ? 1.0 : fs >= 50.0 ? 2.0 : 8.0;  // measured: 0.4, 0.6, 1.4, 6 ms
            CHECK(sc.mean_abs_error_ms < tol_ms);
            CHECK(r.max_latency_s <= PpgDetector::max_latency_s());
            for (const auto& b : r.beats)
                if (b.ibi_ms > 0.0) {
                    CHECK(b.ibi_ms >= kMinPlausibleIbiMs);
                    CHECK(b.ibi_ms <= kMaxPlausibleIbiMs);
                }
        }
    }
}

TEST_CASE("PPG: per-beat timing error under 2 ms at 500 Hz with 0.1 % noise", "[ppg]") {
    // Noiseless, the mean error is 0.4 ms at 500 Hz, 0.3-0.6 ms at 100-200 Hz, 1-1.4 ms at 50 Hz
    // and 4-6 ms at 25 Hz. Noise on the flat top of a pulse moves the estimate: with 0.2 % noise
    // about 5 % of the beats exceed 2 ms at 500 Hz.
    const auto s = make_ppg(66.0, 60.0);
    const auto ref = s.true_peaks();
    const auto r = run_detector(sample(s, 500.0, 60.0, 0.0, 1.0, 0.001, 3), 500.0);
    REQUIRE(r.beats.size() + 6 >= ref.size());
    double sum = 0.0;
    for (const auto& b : r.beats) {
        auto it = std::min_element(ref.begin(), ref.end(),
                                   [&](double a, double c) { return std::abs(a - b.t_s) < std::abs(c - b.t_s); });
        CHECK(std::abs(*it - b.t_s) * 1000.0 < 2.0);
        sum += std::abs(*it - b.t_s) * 1000.0;
    }
    CHECK(sum / static_cast<double>(r.beats.size()) < 1.0);
}

TEST_CASE("PPG: weak pulses after strong ones (exercise) are kept by the expected-beat rescue", "[ppg]") {
    // 140 bpm; from 15 s on every third pulse has 0.45 of the height (short diastole after a
    // strong beat, motion). The energy threshold misses them; the rescue finds them where the
    // next beat is expected, and takes nothing else.
    for (double fs : {50.0, 100.0, 200.0}) {
        auto s = make_ppg(140.0, 60.0);
        std::vector<double> weak;
        for (std::size_t k = 0; k < s.beat_t.size(); ++k) {
            const bool w = k % 3 == 2 && s.beat_t[k] > 15.0;
            s.amp.push_back(w ? 0.45 : 1.0);
            if (w) weak.push_back(s.beat_t[k]);
        }
        const auto ref = s.true_peaks();
        const auto x = sample(s, fs, 60.0, 0.0, 1.0, 0.005, 4);
        const auto r = run_detector(x, fs);
        PpgDetector::Params off;
        off.sample_rate_hz = fs;
        off.rescue_rise = 0.0;
        PpgDetector no_rescue(off);
        std::vector<double> t_off;
        for (double v : x)
            if (auto b = no_rescue.process(v)) t_off.push_back(b->t_s);
        const auto sc = score_beats(ref, times(r.beats), 0.1);
        const auto sw = score_beats(weak, times(r.beats), 0.1);
        const auto sw_off = score_beats(weak, t_off, 0.1);
        INFO("fs " << fs << ": " << sc.summary() << "; weak pulses without the rescue: " << sw_off.summary());
        CHECK(sc.fn == 0);
        CHECK(sc.fp == 0);
        CHECK(sw.se() == 1.0);
        CHECK(sw_off.se() < 0.2);  // measured 0: the case the rescue is for
        CHECK(r.max_latency_s <= PpgDetector::max_latency_s());
    }
}

TEST_CASE("PPG: inverted input (raw IR dips): invert option and automatic polarity", "[ppg]") {
    const auto s = make_ppg(75.0, 40.0);
    const auto ref = s.true_peaks();
    const auto up = sample(s, 100.0, 40.0, 0.0, 1.0, 0.01, 5);
    std::vector<double> down(up.size());
    for (std::size_t i = 0; i < up.size(); ++i) down[i] = 60000.0 - 2000.0 * up[i];  // MAX3010x-like
    const auto a = run_detector(down, 100.0, PpgDetector::Polarity::Auto);
    const auto f = run_detector(down, 100.0, PpgDetector::Polarity::Inverted);
    CHECK(a.inverted);
    CHECK(f.inverted);
    for (const auto* r : {&a, &f}) {
        const auto sc = score_beats(ref, times(r->beats), 0.1);
        INFO(sc.summary());
        CHECK(sc.se() > 0.99);
        CHECK(sc.ppv() > 0.99);
        CHECK(sc.mean_abs_error_ms < 10.0);  // 1 % noise at 100 Hz
    }
}

TEST_CASE("PPG: noise, flat, clipped and random input give (almost) no beats", "[ppg]") {
    for (double fs : {25.0, 100.0, 500.0})
        attune::test::CheckNoBeatsFromNoise([](const std::vector<double>& x, double rate) { return run_detector(x, rate).beats.size(); },
                                    fs, 1.0, 13, 50000.0, 262143.0);
}

TEST_CASE("PPG: the per-sample path does not allocate", "[ppg]") {
    const auto s = make_ppg(70.0, 30.0);
    const auto x = sample(s, 100.0, 30.0, 0.0, 1.0, 0.01, 6);
    PpgDetector::Params p;
    p.sample_rate_hz = 100.0;
    PpgDetector det(p);
    int beats = 0;
    const std::size_t before = g_allocations;
    for (double v : x)
        if (det.process(v)) ++beats;
    const std::size_t after = g_allocations;
    CHECK(after == before);
    CHECK(beats > 25);
}

TEST_CASE("PPG: block form, reset and determinism", "[ppg]") {
    const auto s = make_ppg(70.0, 20.0);
    const auto x = sample(s, 100.0, 20.0, 0.0, 1.0, 0.01, 9);
    PpgDetector::Params p;
    p.sample_rate_hz = 100.0;
    PpgDetector d(p);
    std::vector<Beat> a, b;
    d.process(x, a);
    d.reset();
    d.process(x, b);
    const auto single = run_detector(x, 100.0).beats;
    REQUIRE(a.size() == b.size());
    REQUIRE(a.size() == single.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].t_s == b[i].t_s);
        CHECK(a[i].t_s == single[i].t_s);
    }
}

TEST_CASE("PPG: HUSM finger PPG, all subjects and conditions (inverted IR)", "[ppg][data]") {
    std::vector<std::string> dirs;
    for (const auto& e : std::filesystem::recursive_directory_iterator(kData + "/ppg/husm"))
        if (e.path().filename() == "ppg.csv") dirs.push_back(e.path().parent_path().string());
    std::sort(dirs.begin(), dirs.end());
    REQUIRE(dirs.size() == 36);
    BeatScore rest, recovery, balke, automatic;
    int auto_inverted = 0;
    double worst_latency = 0.0;
    for (const auto& dir : dirs) {
        auto x = read_text_column(dir + "/ppg.csv", column("IRsignal"));
        auto refs = read_text_column(dir + "/beats.csv", column("peakx"));
        REQUIRE(x.ok());
        REQUIRE(refs.ok());
        std::vector<double> ref;
        for (double v : refs.value.samples) ref.push_back(v / 200.0);
        const auto inv = run_detector(x.value.samples, 200.0, PpgDetector::Polarity::Inverted);
        const auto aut = run_detector(x.value.samples, 200.0, PpgDetector::Polarity::Auto);
        const auto s = score_beats(ref, times(inv.beats), 0.1);
        const auto sa = score_beats(ref, times(aut.beats), 0.1);
        std::printf("PPG %-32s %s\n", dir.substr(dir.find("husm/") + 5).c_str(), s.summary().c_str());
        if (dir.find("balke") != std::string::npos) balke += s;
        else if (dir.find("recovery") != std::string::npos) recovery += s;
        else rest += s;
        automatic += sa;
        auto_inverted += aut.inverted ? 1 : 0;
        worst_latency = std::max(worst_latency, inv.max_latency_s);
    }
    std::printf("PPG husm rest: %s\nPPG husm recovery: %s\nPPG husm balke: %s\nPPG husm all, auto polarity: %s\n",
                rest.summary().c_str(), recovery.summary().c_str(), balke.summary().c_str(),
                automatic.summary().c_str());
    // Targets (issue): Se and +P >= 99 % at rest and in recovery, >= 97 % during exercise, each
    // phase summed over the 12 subjects. Measured: rest Se 99.78 % +P 99.89 %; recovery Se 99.82 %
    // +P 99.82 %; balke (treadmill) Se 98.89 % +P 99.78 %. Without flush() at the end of each
    // recording (a last pulse still in the pipeline): 99.67/99.89, 99.26/99.81, 98.38/99.78.
    // The detections lead the reference by about 30 ms on average. Before the causal MA_beat
    // was replaced, the gate made robust and the rescue added: rest 99.89/100, recovery
    // 96.40/99.90, balke 85.91/100.
    CHECK(rest.se() >= 0.99);
    CHECK(rest.ppv() >= 0.99);
    CHECK(recovery.se() >= 0.99);
    CHECK(recovery.ppv() >= 0.99);
    CHECK(balke.se() >= 0.97);
    CHECK(balke.ppv() >= 0.97);
    CHECK(auto_inverted == 36);  // automatic polarity finds the dips in every recording
    CHECK(automatic.f1() >= 0.98);
    CHECK(worst_latency <= 0.4);
}

TEST_CASE("PPG: HeartPy sample (100 Hz): 58.9 bpm", "[ppg][data]") {
    auto x = read_text_column(kData + "/ppg/heartpy-data-100hz.csv");
    REQUIRE(x.ok());
    const auto r = run_detector(x.value.samples, 100.0);
    double sum = 0.0;
    int n = 0;
    for (const auto& b : r.beats)
        if (b.ibi_ms > 0.0) {
            sum += b.ibi_ms;
            ++n;
        }
    REQUIRE(n > 10);
    const double bpm = 60000.0 / (sum / n);
    std::printf("PPG heartpy: %zu beats, %.1f bpm (HeartPy: 58.9)\n", r.beats.size(), bpm);
    CHECK(bpm == Approx(58.9).margin(1.0));
    CHECK_FALSE(r.inverted);
}

TEST_CASE("PPG: smart ring at 32 Hz with dropouts: plausible output", "[ppg][data]") {
    auto x = read_text_column(kData + "/ppg/ring-32hz.csv");  // dropouts carried forward
    REQUIRE(x.ok());
    REQUIRE(x.value.missing > 0);
    const auto r = run_detector(x.value.samples, 32.0);
    std::vector<double> ibis;
    for (const auto& b : r.beats)
        if (b.ibi_ms > 0.0) ibis.push_back(b.ibi_ms);
    REQUIRE(ibis.size() > 100);
    std::sort(ibis.begin(), ibis.end());
    const double median_bpm = 60000.0 / ibis[ibis.size() / 2];
    const double minutes = static_cast<double>(x.value.samples.size()) / 32.0 / 60.0;
    std::printf("PPG ring: %zu beats in %.1f min, median %.1f bpm\n", r.beats.size(), minutes, median_bpm);
    CHECK(median_bpm > 40.0);
    CHECK(median_bpm < 120.0);
    CHECK(ibis.front() >= kMinPlausibleIbiMs);
    CHECK(ibis.back() <= kMaxPlausibleIbiMs);
    CHECK(r.max_latency_s <= 0.4);
    // Same with NaN dropouts (the detector holds the last value).
    TextReadOptions o;
    o.missing = MissingPolicy::NaN;
    auto xn = read_text_column(kData + "/ppg/ring-32hz.csv", o);
    REQUIRE(xn.ok());
    CHECK(run_detector(xn.value.samples, 32.0).beats.size() > 100);
}

TEST_CASE("PPG: simultaneous ECG and PPG at rest (100 Hz)", "[ppg][data]") {
    auto e = read_text_column(kData + "/multi/bio-resting-5min-100hz.csv", column("ECG"));
    auto p = read_text_column(kData + "/multi/bio-resting-5min-100hz.csv", column("PPG"));
    REQUIRE(e.ok());
    REQUIRE(p.ok());
    EcgDetector::Params ep;
    ep.sample_rate_hz = 100.0;
    EcgDetector ecg(ep);
    std::vector<double> r_peaks;
    for (double v : e.value.samples)
        if (auto b = ecg.process(v)) r_peaks.push_back(b->t_s);
    const auto r = run_detector(p.value.samples, 100.0);
    const auto det = times(r.beats);
    // Delay from each R peak to the next systolic peak: pulse arrival (foot, typically
    // 150-300 ms) plus the upstroke; its median is the offset used for matching.
    std::vector<double> delays;
    for (double t : det) {
        auto it = std::upper_bound(r_peaks.begin(), r_peaks.end(), t);
        if (it != r_peaks.begin() && t - *(it - 1) < 0.6) delays.push_back(t - *(it - 1));
    }
    REQUIRE(delays.size() > 100);
    std::sort(delays.begin(), delays.end());
    const double delay = delays[delays.size() / 2];
    const auto s = score_beats(r_peaks, det, 0.1, 5.0, delay);
    std::printf("PPG multi vs ECG beats (R-to-systolic-peak delay %.0f ms): %s\n", delay * 1000.0, s.summary().c_str());
    CHECK(delay > 0.15);
    CHECK(delay < 0.5);
    CHECK_FALSE(r.inverted);
    CHECK(s.f1() >= 0.95);
}
