#include "attune/dsp/filters.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

namespace attune::dsp {

// ---------------------------------------------------------------- Biquad
void Biquad::reset(double x0) {
    const double y0 = dc_gain() * x0;
    s2_ = p_.b2 * x0 - p_.a2 * y0;
    s1_ = p_.b1 * x0 - p_.a1 * y0 + s2_;
}

void Biquad::process(std::span<const double> in, std::span<double> out) {
    const std::size_t n = std::min(in.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = process(in[i]);
}

double Biquad::dc_gain() const {
    const double den = 1.0 + p_.a1 + p_.a2;
    return den == 0.0 ? 0.0 : (p_.b0 + p_.b1 + p_.b2) / den;
}

namespace {
double clamp_corner(double fs, double fc) {
    return std::clamp(fc, 1e-6 * fs, 0.45 * fs);
}
}  // namespace

// RBJ "Audio EQ cookbook" forms: these are the bilinear transform of the analog 2nd-order
// prototype with the corner pre-warped, i.e. exact Butterworth sections for Q = 1/sqrt(2).
Biquad::Params Biquad::lowpass(double fs, double fc, double q) {
    fc = clamp_corner(fs, fc);
    const double w0 = 2.0 * std::numbers::pi * fc / fs;
    const double c = std::cos(w0), alpha = std::sin(w0) / (2.0 * q);
    const double a0 = 1.0 + alpha;
    Params p;
    p.b0 = (1.0 - c) / 2.0 / a0;
    p.b1 = (1.0 - c) / a0;
    p.b2 = p.b0;
    p.a1 = -2.0 * c / a0;
    p.a2 = (1.0 - alpha) / a0;
    return p;
}

Biquad::Params Biquad::highpass(double fs, double fc, double q) {
    fc = clamp_corner(fs, fc);
    const double w0 = 2.0 * std::numbers::pi * fc / fs;
    const double c = std::cos(w0), alpha = std::sin(w0) / (2.0 * q);
    const double a0 = 1.0 + alpha;
    Params p;
    p.b0 = (1.0 + c) / 2.0 / a0;
    p.b1 = -(1.0 + c) / a0;
    p.b2 = p.b0;
    p.a1 = -2.0 * c / a0;
    p.a2 = (1.0 - alpha) / a0;
    return p;
}

// ---------------------------------------------------------------- ButterworthFilter
ButterworthFilter::ButterworthFilter(const Params& p) : p_(p) {
    const double fs = p_.sample_rate_hz > 0.0 ? p_.sample_rate_hz : 1.0;
    int order = std::clamp(p_.order, 2, 8);
    if (order % 2) ++order;
    p_.order = order;
    const int pairs = order / 2;
    const bool want_hp = p_.type != Type::LowPass;
    bool want_lp = p_.type != Type::HighPass;
    // A low-pass corner at or beyond the usable band would do nothing but add delay.
    if (want_lp && p_.type == Type::BandPass && p_.high_hz >= 0.45 * fs) want_lp = false;
    n_ = 0;
    for (int edge = 0; edge < 2; ++edge) {
        const bool hp = edge == 0;
        if ((hp && !want_hp) || (!hp && !want_lp)) continue;
        for (int k = 0; k < pairs && n_ < kMaxSections; ++k) {
            // Butterworth pole pair k of an order-N prototype: Q = 1 / (2 cos(theta_k)).
            const double theta = std::numbers::pi * (2.0 * k + 1.0) / (2.0 * order);
            const double q = 1.0 / (2.0 * std::cos(theta));
            sections_[n_++] = Biquad(hp ? Biquad::highpass(fs, p_.low_hz, q)
                                        : Biquad::lowpass(fs, p_.high_hz, q));
        }
    }
}

void ButterworthFilter::reset() {
    for (std::size_t i = 0; i < n_; ++i) sections_[i].reset();
}

void ButterworthFilter::reset(double x0) {
    double x = x0;
    for (std::size_t i = 0; i < n_; ++i) {
        sections_[i].reset(x);
        x = sections_[i].dc_gain() * x;
    }
}

double ButterworthFilter::group_delay_samples(double freq_hz) const {
    const double fs = p_.sample_rate_hz > 0.0 ? p_.sample_rate_hz : 1.0;
    auto phase = [&](double w) {
        std::complex<double> h(1.0, 0.0);
        const std::complex<double> z1 = std::polar(1.0, -w), z2 = std::polar(1.0, -2.0 * w);
        for (std::size_t i = 0; i < n_; ++i) {
            const auto& c = sections_[i].params();
            h *= (c.b0 + c.b1 * z1 + c.b2 * z2) / (1.0 + c.a1 * z1 + c.a2 * z2);
        }
        return std::arg(h);
    };
    const double w = 2.0 * std::numbers::pi * freq_hz / fs;
    const double dw = 1e-5;
    double dphi = phase(w + dw) - phase(w - dw);
    while (dphi > std::numbers::pi) dphi -= 2.0 * std::numbers::pi;
    while (dphi < -std::numbers::pi) dphi += 2.0 * std::numbers::pi;
    return -dphi / (2.0 * dw);
}

void ButterworthFilter::process(std::span<const double> in, std::span<double> out) {
    const std::size_t n = std::min(in.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = process(in[i]);
}

// ---------------------------------------------------------------- MovingAverage
MovingAverage::MovingAverage() : MovingAverage(Params{}) {}

MovingAverage::MovingAverage(const Params& p) : buf_(std::max<std::size_t>(p.length, 1), 0.0) {}

void MovingAverage::reset() {
    std::fill(buf_.begin(), buf_.end(), 0.0);
    pos_ = count_ = 0;
    sum_ = 0.0;
}

void MovingAverage::reset(double x0) {
    std::fill(buf_.begin(), buf_.end(), x0);
    pos_ = 0;
    count_ = buf_.size();
    sum_ = x0 * static_cast<double>(buf_.size());
}

void MovingAverage::resum() {
    double s = 0.0;
    for (double v : buf_) s += v;
    sum_ = s;
}

void MovingAverage::process(std::span<const double> in, std::span<double> out) {
    const std::size_t n = std::min(in.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = process(in[i]);
}

std::size_t MovingAverage::samples_for(double duration_s, double sample_rate_hz) {
    const double n = std::round(duration_s * sample_rate_hz);
    return n < 1.0 ? 1 : static_cast<std::size_t>(n);
}

// ---------------------------------------------------------------- FivePointDerivative
void FivePointDerivative::process(std::span<const double> in, std::span<double> out) {
    const std::size_t n = std::min(in.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) out[i] = process(in[i]);
}

// ---------------------------------------------------------------- ExponentialAverage
ExponentialAverage::ExponentialAverage() : ExponentialAverage(Params{}) {}

ExponentialAverage::ExponentialAverage(const Params& p) {
    const double n = p.time_constant_s * p.sample_rate_hz;
    alpha_ = n > 0.0 ? 1.0 - std::exp(-1.0 / n) : 1.0;
}

// ---------------------------------------------------------------- SampleHistory
SampleHistory::SampleHistory(std::size_t capacity) : cap_(std::max<std::size_t>(capacity, 1)) {
    std::size_t n = 1;
    while (n < cap_) n <<= 1;
    buf_.assign(n, 0.0);
    mask_ = n - 1;
}

// ---------------------------------------------------------------- parabolic_peak
ParabolicPeak parabolic_peak(double ym1, double y0, double yp1) {
    const double den = ym1 - 2.0 * y0 + yp1;
    if (!(std::abs(den) > 0.0) || !std::isfinite(den)) return {0.0, y0};
    double d = 0.5 * (ym1 - yp1) / den;
    d = std::clamp(d, -0.5, 0.5);
    return {d, y0 - 0.25 * (ym1 - yp1) * d};
}

}  // namespace attune::dsp
