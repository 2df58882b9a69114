// Tests of the streaming filter stages (attune/dsp/filters.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

#include "attune/dsp/filters.hpp"

using namespace attune::dsp;

namespace {
// Steady-state gain of a filter at freq_hz, measured by running a sine through it.
template <class F>
double measured_gain(F& f, double fs, double freq_hz) {
    f.reset();
    const int n = static_cast<int>(fs * 20.0);
    double peak = 0.0;
    for (int i = 0; i < n; ++i) {
        const double y = f.process(std::sin(2.0 * std::numbers::pi * freq_hz * i / fs));
        if (i > n / 2) peak = std::max(peak, std::abs(y));
    }
    return peak;
}
}  // namespace

TEST_CASE("Biquad low-pass and high-pass have the Butterworth corner and DC behaviour", "[filters]") {
    for (double fs : {100.0, 360.0, 1000.0}) {
        Biquad lp(Biquad::lowpass(fs, 10.0));
        Biquad hp(Biquad::highpass(fs, 10.0));
        CHECK(lp.dc_gain() == Approx(1.0).margin(1e-12));
        CHECK(hp.dc_gain() == Approx(0.0).margin(1e-12));
        CHECK(measured_gain(lp, fs, 10.0) == Approx(std::sqrt(0.5)).margin(0.01));
        CHECK(measured_gain(hp, fs, 10.0) == Approx(std::sqrt(0.5)).margin(0.01));
        CHECK(measured_gain(lp, fs, 1.0) == Approx(1.0).margin(0.01));
        CHECK(measured_gain(hp, fs, 40.0) == Approx(1.0).margin(0.02));
    }
}

TEST_CASE("Butterworth band-pass is designed for any sample rate", "[filters]") {
    for (double fs : {25.0, 100.0, 200.0, 360.0, 500.0, 1000.0}) {
        ButterworthFilter f({.sample_rate_hz = fs, .type = ButterworthFilter::Type::BandPass, .low_hz = 0.5,
                             .high_hz = 8.0, .order = 2});
        CHECK(f.section_count() == 2);
        INFO("fs " << fs);
        CHECK(measured_gain(f, fs, 2.0) == Approx(1.0).margin(0.05));   // pass band
        CHECK(measured_gain(f, fs, 0.05) < 0.02);                       // 2 decades... well below
        if (fs >= 100.0) CHECK(measured_gain(f, fs, 40.0) < 0.06);      // 40 dB/decade above 8 Hz
    }
    // 4th order per edge: steeper.
    ButterworthFilter f4({.sample_rate_hz = 360.0, .type = ButterworthFilter::Type::BandPass, .low_hz = 5.0,
                          .high_hz = 15.0, .order = 4});
    CHECK(f4.section_count() == 4);
    CHECK(measured_gain(f4, 360.0, 45.0) < 0.02);
    // Group delay is positive in the pass band of a causal band-pass.
    ButterworthFilter f2({.sample_rate_hz = 360.0, .type = ButterworthFilter::Type::BandPass, .low_hz = 5.0,
                          .high_hz = 15.0, .order = 2});
    CHECK(f2.group_delay_samples(10.0) > 0.0);
    CHECK(f2.group_delay_samples(10.0) < 0.05 * 360.0);
}

TEST_CASE("Steady-state reset avoids a start-up step", "[filters]") {
    ButterworthFilter f({.sample_rate_hz = 200.0, .type = ButterworthFilter::Type::BandPass, .low_hz = 0.5,
                         .high_hz = 8.0, .order = 2});
    f.reset(50000.0);  // e.g. raw MAX3010x IR level
    for (int i = 0; i < 100; ++i) CHECK(std::abs(f.process(50000.0)) < 1e-6);
    ButterworthFilter lp({.sample_rate_hz = 200.0, .type = ButterworthFilter::Type::LowPass, .low_hz = 0.0,
                          .high_hz = 5.0, .order = 2});
    lp.reset(3.0);
    CHECK(lp.process(3.0) == Approx(3.0).epsilon(1e-12));
}

TEST_CASE("Block form equals the per-sample form", "[filters]") {
    std::mt19937 rng(7);
    std::normal_distribution<double> g;
    std::vector<double> x(1000), y1(1000), y2(1000);
    for (double& v : x) v = g(rng);
    ButterworthFilter::Params bp;
    bp.sample_rate_hz = 250.0;
    ButterworthFilter a(bp), b(bp);
    for (std::size_t i = 0; i < x.size(); ++i) y1[i] = a.process(x[i]);
    b.process(x, y2);
    CHECK(y1 == y2);
}

TEST_CASE("Moving average is exact and does not drift", "[filters]") {
    MovingAverage ma({.length = 5});
    CHECK(ma.process(5.0) == Approx(5.0));  // averages what it has seen while filling
    CHECK(ma.process(1.0) == Approx(3.0));
    for (int i = 0; i < 5; ++i) ma.process(2.0);
    CHECK(ma.process(2.0) == Approx(2.0));
    // Large offset plus small signal over many samples: the periodic re-summation keeps it exact.
    MovingAverage m2({.length = 7});
    double y = 0.0;
    for (int i = 0; i < 1000000; ++i) y = m2.process(1e9 + (i % 7));
    CHECK(y == Approx(1e9 + 3.0).epsilon(1e-15));
    CHECK(MovingAverage::samples_for(0.15, 360.0) == 54);
}

TEST_CASE("Five-point derivative of a ramp is its slope", "[filters]") {
    FivePointDerivative d({.sample_rate_hz = 100.0});
    double y = 0.0;
    for (int i = 0; i < 10; ++i) y = d.process(3.0 + 0.5 * i);  // 0.5 per sample = 50 per second
    CHECK(y == Approx(50.0));
    d.reset();
    CHECK(d.process(7.0) == Approx(0.0));  // no start-up spike
}

TEST_CASE("Exponential average and sample history", "[filters]") {
    ExponentialAverage e({.sample_rate_hz = 10.0, .time_constant_s = 1.0});
    CHECK(e.process(4.0) == 4.0);
    for (int i = 0; i < 10; ++i) e.process(0.0);
    CHECK(e.value() == Approx(4.0 * std::exp(-1.0)).epsilon(1e-9));
    SampleHistory h(3);
    for (double v : {1.0, 2.0, 3.0, 4.0}) h.push(v);
    CHECK(h.size() == 3);
    CHECK(h.at(0) == 4.0);
    CHECK(h.at(2) == 2.0);
}

TEST_CASE("Parabolic interpolation finds the vertex", "[filters]") {
    auto f = [](double x) { return 2.0 - 3.0 * (x - 0.3) * (x - 0.3); };
    const auto p = parabolic_peak(f(-1), f(0), f(1));
    CHECK(p.offset == Approx(0.3));
    CHECK(p.value == Approx(2.0));
    CHECK(parabolic_peak(1.0, 1.0, 1.0).offset == 0.0);  // flat: no shift
}
