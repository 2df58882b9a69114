// Tests of the streaming R-peak detector (attune/dsp/ecg_detector.hpp): synthetic timing,
// latency, noise rejection, and accuracy on real recordings scored as ../shared/data/README.md
// says (±150 ms, one-to-one, first 5 s skipped).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <random>
#include <vector>

#include "attune/dsp/ecg_detector.hpp"
#include "attune/dsp/signal_io.hpp"
#include "beat_scoring.hpp"
#include "noise_inputs.hpp"

#include <cstdlib>
#include <new>

// Counting global allocator: lets a test assert that the per-sample path never allocates.
#include "alloc_counter.hpp"

using namespace attune::dsp;
using attune::test::score_beats;

namespace {
const std::string kData = ATTUNE_SHARED_DATA_DIR;

struct Run {
    std::vector<Beat> beats;
    double max_latency_s = 0.0;
};

Run run_detector(const std::vector<double>& x, double fs) {
    EcgDetector::Params p;
    p.sample_rate_hz = fs;
    EcgDetector det(p);
    Run r;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (auto b = det.process(x[i])) {
            r.beats.push_back(*b);
            r.max_latency_s = std::max(r.max_latency_s, static_cast<double>(i) / fs - b->t_s);
        }
    }
    if (auto b = det.flush()) r.beats.push_back(*b);
    return r;
}

std::vector<double> times(const std::vector<Beat>& b) {
    std::vector<double> t;
    for (const auto& x : b) t.push_back(x.t_s);
    return t;
}

double gauss(double t, double mu, double sigma) { return std::exp(-0.5 * (t - mu) * (t - mu) / (sigma * sigma)); }

// ECG-like complex (P, Q, R, S, T) with the R peak at 0: symmetric Q/S so that the maximum of
// the waveform is exactly at the R peak when the neighbours are far.
double complex_at(double t) {
    return 0.12 * gauss(t, -0.16, 0.025) - 0.12 * gauss(t, -0.03, 0.008) + 1.0 * gauss(t, 0.0, 0.009) -
           0.12 * gauss(t, 0.03, 0.008) + 0.25 * gauss(t, 0.22, 0.045);
}

// Beat times with a little variability (respiratory sinus arrhythmia-like), first at 0.5 s.
std::vector<double> make_beat_times(double bpm, double duration_s) {
    std::vector<double> t;
    double now = 0.5;
    int k = 0;
    while (now < duration_s - 0.5) {
        t.push_back(now);
        now += 60.0 / bpm * (1.0 + 0.04 * std::sin(0.7 * k++));
    }
    return t;
}

std::vector<double> synth_ecg(const std::vector<double>& beats, double fs, double duration_s, double noise_sd,
                              unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> g(0.0, 1.0);
    const auto n = static_cast<std::size_t>(duration_s * fs);
    std::vector<double> x(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / fs;
        double v = 0.3 * std::sin(2.0 * std::numbers::pi * 0.25 * t);  // baseline wander
        for (double b : beats)
            if (std::abs(t - b) < 0.5) v += complex_at(t - b);
        x[i] = v + noise_sd * g(rng);
    }
    return x;
}
}  // namespace

TEST_CASE("ECG: synthetic spike trains, 40-180 bpm, 100-1000 Hz: every beat, sub-sample timing", "[ecg]") {
    for (double fs : {100.0, 250.0, 360.0, 500.0, 1000.0}) {
        for (double bpm : {40.0, 60.0, 90.0, 120.0, 150.0, 180.0}) {
            const double dur = 40.0;
            const auto ref = make_beat_times(bpm, dur);
            const auto x = synth_ecg(ref, fs, dur, 0.0, 1);
            const auto r = run_detector(x, fs);
            const auto s = score_beats(ref, times(r.beats), 0.15);
            INFO("fs " << fs << " bpm " << bpm << ": " << s.summary());
            CHECK(s.fn == 0);
            CHECK(s.fp == 0);
            // Sub-sample refinement: the R maximum is exactly at the reference time.
            const double tol_ms = fs >= 250.0 ? 1.0 : 2.0;  // measured: 0.06 ms, 0.43 ms at 100 Hz
            CHECK(s.mean_abs_error_ms < tol_ms);
            CHECK(r.max_latency_s <= EcgDetector::max_latency_s());
            for (const auto& b : r.beats)
                if (b.ibi_ms > 0.0) {
                    CHECK(b.ibi_ms >= kMinPlausibleIbiMs);
                    CHECK(b.ibi_ms <= kMaxPlausibleIbiMs);
                }
        }
    }
}

TEST_CASE("ECG: per-beat timing error under 2 ms at 500 Hz, with mild noise", "[ecg]") {
    const double fs = 500.0;
    const auto ref = make_beat_times(72.0, 60.0);
    const auto x = synth_ecg(ref, fs, 60.0, 0.005, 2);
    const auto r = run_detector(x, fs);
    std::size_t matched = 0;
    for (const auto& b : r.beats) {
        auto it = std::min_element(ref.begin(), ref.end(),
                                   [&](double a, double c) { return std::abs(a - b.t_s) < std::abs(c - b.t_s); });
        REQUIRE(it != ref.end());
        CHECK(std::abs(*it - b.t_s) * 1000.0 < 2.0);
        ++matched;
    }
    CHECK(matched + 4 >= ref.size());  // everything after the 2 s learning phase
}

TEST_CASE("ECG: inverted leads (negative QRS) are detected too", "[ecg]") {
    const double fs = 360.0;
    const auto ref = make_beat_times(75.0, 40.0);
    auto x = synth_ecg(ref, fs, 40.0, 0.01, 3);
    for (double& v : x) v = -v;
    const auto s = score_beats(ref, times(run_detector(x, fs).beats), 0.15);
    INFO(s.summary());
    CHECK(s.se() > 0.99);
    CHECK(s.ppv() > 0.99);
    CHECK(s.mean_abs_error_ms < 4.0);
}

TEST_CASE("ECG: noise, flat, clipped and random input give (almost) no beats", "[ecg]") {
    for (double fs : {100.0, 360.0, 1000.0})
        attune::test::CheckNoBeatsFromNoise([](const std::vector<double>& x, double rate) { return run_detector(x, rate).beats.size(); },
                                    fs, 1.0, 11, 512.0, 1023.0);
}

TEST_CASE("ECG: the per-sample path does not allocate", "[ecg]") {
    const auto ref = make_beat_times(70.0, 30.0);
    const auto x = synth_ecg(ref, 360.0, 30.0, 0.01, 6);
    EcgDetector::Params p;
    p.sample_rate_hz = 360.0;
    EcgDetector det(p);
    int beats = 0;
    const std::size_t before = g_allocations;
    for (double v : x)
        if (det.process(v)) ++beats;
    const std::size_t after = g_allocations;
    CHECK(after == before);
    CHECK(beats > 25);
}

TEST_CASE("ECG: block form, reset and determinism", "[ecg]") {
    const auto ref = make_beat_times(80.0, 20.0);
    const auto x = synth_ecg(ref, 250.0, 20.0, 0.02, 4);
    EcgDetector::Params p;
    p.sample_rate_hz = 250.0;
    EcgDetector a(p);
    std::vector<Beat> block;
    a.process(x, block);
    a.reset();
    std::vector<Beat> again;
    a.process(x, again);
    const auto single = run_detector(x, 250.0).beats;
    REQUIRE(block.size() == again.size());
    REQUIRE(block.size() + 1 >= single.size());  // run_detector also flushes
    for (std::size_t i = 0; i < block.size(); ++i) {
        CHECK(block[i].t_s == again[i].t_s);
        CHECK(block[i].t_s == single[i].t_s);
        CHECK(block[i].ibi_ms == single[i].ibi_ms);
    }
    CHECK(block.front().ibi_ms == 0.0);
}

TEST_CASE("ECG: MIT-BIH record 100 (30 min, MLII)", "[ecg][data]") {
    auto rec = read_wfdb_record(kData + "/ecg/100.hea");
    REQUIRE(rec.ok());
    const auto x = rec.value.physical(static_cast<std::size_t>(rec.value.find_signal("MLII")));
    auto ann = read_wfdb_annotations(kData + "/ecg/100.atr");
    REQUIRE(ann.ok());
    std::vector<double> ref;
    for (const auto& a : ann.value)
        if (is_beat_code(a.code)) ref.push_back(static_cast<double>(a.sample) / 360.0);
    REQUIRE(ref.size() == 2273);
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_detector(x, 360.0);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto s = score_beats(ref, times(r.beats), 0.15);
    std::printf("ECG 100: %s, max latency %.3f s, %.3f s to run\n", s.summary().c_str(), r.max_latency_s, secs);
    // Measured: Se 100.00 %, +P 100.00 % (2267 TP after 5 s), mean |error| 1.5 ms. Target (issue):
    // Se and +P >= 99.8 %.
    CHECK(s.se() >= 0.998);
    CHECK(s.ppv() >= 0.998);
    CHECK(r.max_latency_s <= 0.4);
    CHECK(secs < 2.0);
}

TEST_CASE("ECG: noise stress test 118e24", "[ecg][data]") {
    auto x = read_text_column(kData + "/ecg/nstdb-118e24.csv");
    auto refs = read_text_column(kData + "/ecg/nstdb-118e24.beats.csv");
    REQUIRE(x.ok());
    REQUIRE(refs.ok());
    std::vector<double> ref;
    for (double v : refs.value.samples) ref.push_back(v / 360.0);
    const auto r = run_detector(x.value.samples, 360.0);
    const auto s = score_beats(ref, times(r.beats), 0.15);
    std::printf("ECG 118e24: %s\n", s.summary().c_str());
    // Measured: Se 100 %, +P 100 % (160 beats). Target (issue): Se and +P >= 99.5 %.
    CHECK(s.se() >= 0.995);
    CHECK(s.ppv() >= 0.995);
}

namespace {
// Plausibility checks for records without reference beats.
void check_plausible(const std::vector<Beat>& beats, double duration_s, const char* name) {
    std::vector<double> ibis;
    for (const auto& b : beats)
        if (b.ibi_ms > 0.0) ibis.push_back(b.ibi_ms);
    REQUIRE(ibis.size() > 10);
    std::sort(ibis.begin(), ibis.end());
    const double median = ibis[ibis.size() / 2];
    const double hr = 60000.0 / median;
    std::printf("ECG %s: %zu beats, median HR %.1f bpm, IBI %.0f..%.0f ms\n", name, beats.size(), hr, ibis.front(),
                ibis.back());
    CHECK(hr > 40.0);
    CHECK(hr < 150.0);
    // Detection covers the record (after the 2 s learning phase, about two beats).
    CHECK(static_cast<double>(beats.size()) > (duration_s - 4.0) / (median / 1000.0));
    // No absurd intervals: all within 273-2000 ms, and none far from the median.
    CHECK(ibis.front() >= kMinPlausibleIbiMs);
    CHECK(ibis.back() <= kMaxPlausibleIbiMs);
    CHECK(ibis.front() > 0.7 * median);
    CHECK(ibis.back() < 1.3 * median);
}
}  // namespace

TEST_CASE("ECG: 1000 Hz recording and PTB s0010_re (no reference): plausible output", "[ecg][data]") {
    auto e = read_text_column(kData + "/ecg/ecg-1000hz.csv", [] {
        TextReadOptions o;
        o.column_name = "ECG";
        return o;
    }());
    REQUIRE(e.ok());
    const auto r = run_detector(e.value.samples, 1000.0);
    check_plausible(r.beats, 50.0, "ecg-1000hz");
    CHECK(r.max_latency_s <= 0.4);

    WfdbReadOptions o;
    o.signals = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    auto rec = read_wfdb_record(kData + "/ecg/s0010_re.hea", o);
    REQUIRE(rec.ok());
    for (std::size_t lead : {0u, 1u, 6u, 7u, 10u}) {
        const auto b = run_detector(rec.value.physical(lead), 1000.0).beats;
        check_plausible(b, 38.4, rec.value.header.signals[lead].description.c_str());
    }
}
