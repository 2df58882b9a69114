// Streaming filter stages for attune::dsp.
//
// Every stage is a small class built from a Params struct, owns all of its state, allocates only
// in its constructor, and offers reset(), process(sample) and a block form process(in, out).
// Samples are in arbitrary signal units; rates in Hz; durations in seconds.
//
// Butterworth designs use the bilinear transform with frequency pre-warping (e.g. Oppenheim &
// Schafer, "Discrete-Time Signal Processing", 3rd ed., sec. 7.1), realised as cascades of
// second-order sections in transposed direct form II, so a design is valid for any sample rate:
// corner frequencies must satisfy 0 < f < 0.5 * sample_rate_hz (they are clamped to
// [1e-6, 0.45] * sample_rate_hz, and a band-pass whose upper corner would reach that limit
// degrades to a high-pass).
//
// Latency: IIR stages are causal, with the usual frequency-dependent group delay (a 2nd-order
// Butterworth low-pass at fc delays low frequencies by about sqrt(2) / (2*pi*fc) seconds).
// MovingAverage delays by (length - 1) / 2 samples; FivePointDerivative by 2 samples.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <vector>

namespace attune::dsp {

// One second-order section, H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2).
class Biquad {
public:
    struct Params {
        double b0 = 1.0, b1 = 0.0, b2 = 0.0;
        double a1 = 0.0, a2 = 0.0;
    };
    Biquad() = default;
    explicit Biquad(const Params& p) : p_(p) {}

    // Zero state.
    void reset() { s1_ = s2_ = 0.0; }
    // State of a filter that has seen the constant input x0 forever (avoids a start-up step).
    void reset(double x0);
    double process(double x) {
        const double y = p_.b0 * x + s1_;
        s1_ = p_.b1 * x - p_.a1 * y + s2_;
        s2_ = p_.b2 * x - p_.a2 * y;
        return y;
    }
    void process(std::span<const double> in, std::span<double> out);
    // Gain at DC, H(1).
    double dc_gain() const;
    const Params& params() const { return p_; }

    // 2nd-order Butterworth sections (Q = 1/sqrt(2) unless given), pre-warped bilinear transform.
    static Params lowpass(double sample_rate_hz, double cutoff_hz, double q = 0.7071067811865476);
    static Params highpass(double sample_rate_hz, double cutoff_hz, double q = 0.7071067811865476);

private:
    Params p_{};
    double s1_ = 0.0, s2_ = 0.0;
};

// Butterworth low-pass, high-pass or band-pass (= high-pass cascaded with low-pass) of even
// order per edge (order 2 or 4; odd orders are rounded up). order is per edge: a band-pass of
// order 2 has 2 poles at each corner, i.e. 4 poles in total.
class ButterworthFilter {
public:
    enum class Type { LowPass, HighPass, BandPass };
    struct Params {
        double sample_rate_hz = 250.0;  // > 0
        Type type = Type::BandPass;
        double low_hz = 0.5;             // high-pass corner (HighPass, BandPass)
        double high_hz = 40.0;           // low-pass corner (LowPass, BandPass)
        int order = 2;                   // per edge: 2 or 4 (clamped to [2, 8], rounded up to even)
    };
    ButterworthFilter() = default;
    explicit ButterworthFilter(const Params& p);

    void reset();
    // Initialise every section to the steady state of a constant input x0.
    void reset(double x0);
    double process(double x) {
        if (n_ == 2) return sections_[1].process(sections_[0].process(x));  // the common band-pass
        for (std::size_t i = 0; i < n_; ++i) x = sections_[i].process(x);
        return x;
    }
    void process(std::span<const double> in, std::span<double> out);
    const Params& params() const { return p_; }
    std::size_t section_count() const { return n_; }
    // Group delay in samples at freq_hz (numerical derivative of the phase response).
    double group_delay_samples(double freq_hz) const;

private:
    static constexpr std::size_t kMaxSections = 8;
    Params p_{};
    std::array<Biquad, kMaxSections> sections_{};
    std::size_t n_ = 0;
};

// Causal moving average over the last `length` samples (delay (length-1)/2 samples). The running
// sum is recomputed exactly once per `length` samples, so rounding error cannot accumulate.
// process() is inline (it sits on the detectors' per-sample path).
class MovingAverage {
public:
    struct Params {
        std::size_t length = 1;  // samples, >= 1 (0 is treated as 1)
    };
    MovingAverage();
    explicit MovingAverage(const Params& p);

    void reset();
    void reset(double x0);  // as if x0 had been seen for ever
    double process(double x) {
        const std::size_t n = buf_.size();
        double* const buf = buf_.data();
        sum_ += x - buf[pos_];
        buf[pos_] = x;
        if (count_ < n) ++count_;
        // Exact re-summation once per length samples (at each wrap) bounds the rounding drift.
        if (++pos_ == n) {
            pos_ = 0;
            resum();
        }
        // Until the window is full, average over what has been seen (no start-up ramp from zero).
        return sum_ / static_cast<double>(count_);
    }
    void process(std::span<const double> in, std::span<double> out);
    std::size_t length() const { return buf_.size(); }

    // Helper: the odd or any length closest to duration_s * sample_rate_hz, at least 1.
    static std::size_t samples_for(double duration_s, double sample_rate_hz);

private:
    void resum();
    std::vector<double> buf_;
    std::size_t pos_ = 0;
    std::size_t count_ = 0;  // samples seen, saturating at length
    double sum_ = 0.0;
};

// Pan & Tompkins (1985) five-point derivative:
// y[n] = (2 x[n] + x[n-1] - x[n-3] - 2 x[n-4]) * sample_rate_hz / 10, in signal units per second
// (the paper scales by 1/8, a slope gain of 1.25; 1/10 makes the gain for a ramp exactly 1).
// Delay: 2 samples.
class FivePointDerivative {
public:
    struct Params {
        double sample_rate_hz = 250.0;
    };
    FivePointDerivative() = default;
    explicit FivePointDerivative(const Params& p) : p_(p) {}
    void reset() { x_ = {}; primed_ = false; }
    double process(double x) {
        if (!primed_) {  // start as if x had been constant: zero slope, no start-up spike
            x_.fill(x);
            primed_ = true;
        }
        const double y = (2.0 * x + x_[0] - x_[2] - 2.0 * x_[3]) * p_.sample_rate_hz / 10.0;
        x_[3] = x_[2];
        x_[2] = x_[1];
        x_[1] = x_[0];
        x_[0] = x;
        return y;
    }
    void process(std::span<const double> in, std::span<double> out);

private:
    Params p_{};
    std::array<double, 4> x_{};  // x[n-1] .. x[n-4]
    bool primed_ = false;
};

// Exponential moving average y += alpha * (x - y), alpha = 1 - exp(-1 / (tau_s * fs)).
// Time constant tau_s seconds; the first sample initialises y.
class ExponentialAverage {
public:
    struct Params {
        double sample_rate_hz = 250.0;
        double time_constant_s = 1.0;
    };
    ExponentialAverage();
    explicit ExponentialAverage(const Params& p);
    void reset() { y_ = 0.0; primed_ = false; }
    double process(double x) {
        if (!primed_) { y_ = x; primed_ = true; }
        else y_ += alpha_ * (x - y_);
        return y_;
    }
    double value() const { return y_; }
    bool primed() const { return primed_; }

private:
    double alpha_ = 1.0;
    double y_ = 0.0;
    bool primed_ = false;
};

// Fixed-capacity history of the most recent samples (a ring buffer); at(k) is the sample k steps
// back (at(0) the newest). Used by the detectors to look back at the original signal. The
// storage is rounded up to a power of two so that indexing is a mask, not a division or a
// branch; capacity() and size() keep the requested capacity.
class SampleHistory {
public:
    explicit SampleHistory(std::size_t capacity = 1);
    void reset() { pos_ = 0; }
    void push(double x) {
        buf_[pos_ & mask_] = x;
        ++pos_;
    }
    // k in [0, size()): k samples before the newest.
    double at(std::size_t k) const { return buf_[(pos_ - 1 - k) & mask_]; }
    std::size_t size() const { return pos_ < cap_ ? pos_ : cap_; }
    std::size_t capacity() const { return cap_; }

private:
    std::vector<double> buf_;
    std::size_t cap_ = 1, mask_ = 0;
    std::size_t pos_ = 0;  // samples pushed since reset (the next slot is pos_ & mask_)
};

// Vertex of the parabola through (-1, ym1), (0, y0), (1, yp1): offset in [-0.5, 0.5] samples
// (clamped; 0 when the points are collinear or not a maximum/minimum) and the value there.
struct ParabolicPeak {
    double offset = 0.0;
    double value = 0.0;
};
ParabolicPeak parabolic_peak(double ym1, double y0, double yp1);

}  // namespace attune::dsp
