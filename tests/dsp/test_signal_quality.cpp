// Tests of the per-second signal quality index (attune/dsp/signal_quality.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>
#include <random>
#include <vector>

#include "attune/dsp/ecg_detector.hpp"
#include "attune/dsp/ppg_detector.hpp"
#include "attune/dsp/signal_io.hpp"
#include "attune/dsp/signal_quality.hpp"

using namespace attune::dsp;

namespace {
const std::string kData = ATTUNE_SHARED_DATA_DIR;

SignalQuality::Params params(double fs, SignalQuality::Kind kind) {
    SignalQuality::Params p;
    p.sample_rate_hz = fs;
    p.kind = kind;
    return p;
}

// Runs the monitor; beats (times in s) are notified as the stream passes them.
std::vector<QualityReport> run(SignalQuality& q, const std::vector<double>& x, const std::vector<double>& beats = {}) {
    std::vector<QualityReport> out;
    const double fs = q.params().sample_rate_hz;
    std::size_t k = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double t = static_cast<double>(i) / fs;
        while (k < beats.size() && beats[k] <= t) q.notify_beat(beats[k++]);
        if (auto r = q.process(x[i])) out.push_back(*r);
    }
    return out;
}

std::map<QualityState, int> histogram(const std::vector<QualityReport>& r, double from_s) {
    std::map<QualityState, int> h;
    for (const auto& x : r)
        if (x.t_s > from_s) ++h[x.state];
    return h;
}

// Pulse-like waveform with beats every `ibi` seconds.
std::vector<double> pulses(double fs, double dur, double ibi, std::vector<double>& beats) {
    std::vector<double> x(static_cast<std::size_t>(dur * fs));
    for (double t = 0.3; t < dur; t += ibi) beats.push_back(t);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double t = static_cast<double>(i) / fs;
        double v = 0.0;
        for (double b : beats)
            if (std::abs(t - b) < 1.0) v += std::exp(-0.5 * (t - b) * (t - b) / 0.01);
        x[i] = 500.0 + 100.0 * v;
    }
    return x;
}
}  // namespace

TEST_CASE("Quality: one report per second, in the documented order of states", "[quality]") {
    const double fs = 100.0;
    std::vector<double> beats;
    const auto good = pulses(fs, 20.0, 0.8, beats);
    SignalQuality q(params(fs, SignalQuality::Kind::Ppg));
    const auto r = run(q, good, beats);
    REQUIRE(r.size() == 20);
    CHECK(r[0].t_s == Approx(1.0));
    CHECK(r[19].t_s == Approx(20.0));
    for (const auto& x : r) CHECK(x.state == QualityState::Good);
    CHECK(r.back().periodicity > 0.8);
    CHECK(std::string(to_string(QualityState::LeadsOff)) == "leads_off");
}

TEST_CASE("Quality: flat, clipped, leads-off, noisy and no-pulse", "[quality]") {
    const double fs = 250.0;
    const auto n = static_cast<std::size_t>(10.0 * fs);
    SECTION("flat") {
        SignalQuality q(params(fs, SignalQuality::Kind::Ecg));
        for (const auto& x : run(q, std::vector<double>(n, 512.0))) CHECK(x.state == QualityState::Flat);
    }
    SECTION("leads off: NaN markers") {
        SignalQuality q(params(fs, SignalQuality::Kind::Ecg));
        const auto r = run(q, std::vector<double>(n, std::numeric_limits<double>::quiet_NaN()));
        for (const auto& x : r) CHECK(x.state == QualityState::LeadsOff);
        CHECK(r.back().invalid_fraction == 1.0);
    }
    SECTION("leads off: pinned to a rail of a known ADC") {
        auto p = params(fs, SignalQuality::Kind::Ecg);
        p.adc_min = 0.0;
        p.adc_max = 1023.0;
        SignalQuality q(p);
        std::vector<double> x(n, 1023.0);
        for (std::size_t i = 0; i < n; i += 50) x[i] = 1000.0;
        for (const auto& r : run(q, x)) CHECK(r.state == QualityState::LeadsOff);
    }
    SECTION("clipped: flat tops, ADC range unknown or known") {
        std::vector<double> beats;
        auto x = pulses(fs, 10.0, 0.8, beats);
        for (double& v : x) v = std::min(v, 560.0);
        SignalQuality q(params(fs, SignalQuality::Kind::Ppg));
        for (const auto& r : run(q, x, beats)) {
            CHECK(r.state == QualityState::Clipped);
            CHECK(r.clipped_fraction > 0.05);
        }
        auto p = params(fs, SignalQuality::Kind::Ppg);
        p.adc_min = 0.0;
        p.adc_max = 560.0;
        SignalQuality q2(p);
        for (const auto& r : run(q2, x, beats)) CHECK(r.state == QualityState::Clipped);
    }
    SECTION("noisy: white noise and random values") {
        std::mt19937 rng(1);
        std::normal_distribution<double> g;
        std::uniform_int_distribution<int> byte(0, 255);
        std::vector<double> w(3 * n), b(3 * n);
        for (auto& v : w) v = g(rng);
        for (auto& v : b) v = byte(rng);
        for (auto kind : {SignalQuality::Kind::Ecg, SignalQuality::Kind::Ppg}) {
            // Noise scores 0.1-0.45 periodicity, so now and then a second passes the 0.4 limit;
            // with no beats detected (the detectors' own gates) it is then "no pulse", never good.
            for (const auto* sig : {&w, &b}) {
                SignalQuality q(params(fs, kind));
                auto h = histogram(run(q, *sig), 4.0);
                CHECK(h[QualityState::Noisy] >= 22);  // of 26 reports after 4 s
                CHECK(h[QualityState::Good] == 0);
            }
        }
    }
    SECTION("no pulse: a good waveform but no beats reported") {
        std::vector<double> beats;
        const auto x = pulses(fs, 10.0, 0.8, beats);
        SignalQuality q(params(fs, SignalQuality::Kind::Ppg));
        const auto r = run(q, x);  // never notified
        for (const auto& rep : r) CHECK(rep.state == (rep.t_s > 4.0 ? QualityState::NoPulse : QualityState::Good));
    }
}

TEST_CASE("Quality: real recordings with their detectors are mostly good", "[quality][data]") {
    auto rec = read_wfdb_record(kData + "/ecg/100.hea");
    REQUIRE(rec.ok());
    const auto x = rec.value.physical(0);
    EcgDetector::Params ep;
    ep.sample_rate_hz = 360.0;
    EcgDetector det(ep);
    SignalQuality q(params(360.0, SignalQuality::Kind::Ecg));
    std::map<QualityState, int> h;
    for (double v : x) {
        if (auto b = det.process(v)) q.notify_beat(b->t_s);
        if (auto r = q.process(v)) ++h[r->state];
    }
    const int total = static_cast<int>(x.size() / 360);
    std::printf("Quality 100: good %d of %d s, noisy %d, no pulse %d\n", h[QualityState::Good], total,
                h[QualityState::Noisy], h[QualityState::NoPulse]);
    CHECK(h[QualityState::Good] >= 0.97 * total);

    TextReadOptions o;
    o.column_name = "IRsignal";
    auto p = read_text_column(kData + "/ppg/husm/health/0000001/rest/ppg.csv", o);
    REQUIRE(p.ok());
    PpgDetector::Params pp;
    pp.sample_rate_hz = 200.0;
    PpgDetector pd(pp);
    SignalQuality qp(params(200.0, SignalQuality::Kind::Ppg));
    std::map<QualityState, int> hp;
    int n = 0;
    for (double v : p.value.samples) {
        if (auto b = pd.process(v)) qp.notify_beat(b->t_s);
        if (auto r = qp.process(v)) {
            if (r->t_s > 5.0) ++hp[r->state];
            ++n;
        }
    }
    std::printf("Quality husm 0000001 rest: good %d of %d s\n", hp[QualityState::Good], n - 5);
    CHECK(hp[QualityState::Good] >= n - 5 - 2);

    // Flat line after a good stretch: flat, then (beats stop) it stays flat rather than "no pulse".
    std::vector<double> seg(x.begin(), x.begin() + 360 * 10);
    seg.insert(seg.end(), 360 * 6, seg.back());
    SignalQuality q2(params(360.0, SignalQuality::Kind::Ecg));
    EcgDetector d2(ep);
    std::vector<QualityReport> reps;
    for (double v : seg) {
        if (auto b = d2.process(v)) q2.notify_beat(b->t_s);
        if (auto r = q2.process(v)) reps.push_back(*r);
    }
    REQUIRE(reps.size() == 16);
    CHECK(reps[8].state == QualityState::Good);
    CHECK(reps[15].state == QualityState::Flat);
}
