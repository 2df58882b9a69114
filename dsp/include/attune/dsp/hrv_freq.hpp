// Frequency-domain HRV: cubic-spline resampling of the RR series, Welch power spectral density,
// VLF/LF/HF band powers and the LF peak, plus a rolling tracker for live display.
//
// Follows the Task Force of the ESC and NASPE (1996), "Heart rate variability: standards of
// measurement, physiological interpretation and clinical use", Circulation 93:1043–1065, and the
// exact recipe of ../shared/data/README.md, which the tests check against its reference values:
//
//   1. Interval k is placed at the time of the beat that ENDS it. For a bare list of intervals
//      the first beat is at t = 0, i.e. t_k = ibi_1 + ... + ibi_k (ibi_0 sits at t = 0).
//      This (and not t_k = ibi_0 + ... + ibi_{k-1}) is the convention that reproduces the
//      README reference values; it is also what a live stream gives: the beat time t_s that
//      arrives with each interval.
//   2. A not-a-knot cubic spline through (t_k, ibi_k) (scipy CubicSpline / interp1d 'cubic'),
//      sampled every 0.25 s (4 Hz) from the first knot up to and including the last knot.
//      On the reference file not-a-knot reproduces every README value to all printed decimals;
//      a natural spline misses VLF by 0.026 ms² (the ends only matter for the first and last
//      few samples), so not-a-knot is the default and natural is kept for comparison. Timing
//      intervals by the beat that STARTS them instead would move HF by 0.6 %.
//   3. Welch PSD: periodic Hann window of 256 samples (64 s), 128 overlap, each segment's mean
//      removed, one-sided density in ms²/Hz, segments averaged (= scipy.signal.welch defaults with
//      nperseg=256, scaling='density'). Samples after the last full segment are not used.
//      Fewer than 256 samples: one segment of all N samples with an N-point periodic Hann window
//      and an N-point FFT, as scipy does (resolution fs/N instead of 1/64 Hz).
//   4. Band power = trapezoidal integral of the PSD over the bins with lo <= f < hi (numpy.trapz
//      over those bins; no interpolation to the band edges). Rectangles would differ by >15 %.
//
// Units: ibi_ms in milliseconds, t_s in seconds, frequencies in Hz, powers in ms², densities
// in ms²/Hz. Valid input: finite intervals within [kMinPlausibleIbiMs, kMaxPlausibleIbiMs]
// (273–2000 ms), strictly increasing beat times, at least kMinSpectrumDurationS of beats.
// Anything else gives valid == false; nothing is interpolated across bad intervals (artifact
// correction is upstream's job).
//
// Latency: the spectrum describes the whole analysis window (minutes). With 64 s segments the
// newest beat only affects the newest segment: a change in breathing shows fully in the LF/HF
// powers after about one window. Cost for 5 min of beats (spline + 8 segments of 256, transformed
// two at a time by one complex FFT): median ~18 µs (Release; attune_bench).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "attune/dsp/types.hpp"

namespace attune::dsp {

inline constexpr double kHrvResampleHz = 4.0;
inline constexpr std::size_t kWelchSegmentSamples = 256;  // 64 s at 4 Hz: 1/64 Hz resolution
inline constexpr std::size_t kWelchOverlapSamples = 128;

// Shortest series analysed. Task Force 1996: ~1 min is needed for HF, ~2 min for LF, and VLF
// from recordings under 5 min is unreliable — callers should show `duration_s` or grey LF/VLF
// out below those lengths.
inline constexpr double kMinSpectrumDurationS = 60.0;

// Band powers below this (an RR standard deviation of ~3e-5 ms, far under any sensor's
// resolution) are floating-point residue of a constant series, not variability: ratios and
// peaks are not reported from them.
inline constexpr double kMinSpectralPowerMs2 = 1e-9;

struct FrequencyBand {
    double lo_hz;
    double hi_hz;
};
inline constexpr FrequencyBand kVlfBand{0.0033, 0.04};
inline constexpr FrequencyBand kLfBand{0.04, 0.15};
inline constexpr FrequencyBand kHfBand{0.15, 0.4};

enum class SplineBoundary {
    kNotAKnot,  // scipy CubicSpline default and interp1d(kind='cubic'): matches the README values
    kNatural,   // zero second derivative at both ends
};

struct FrequencyDomainMetrics {
    bool valid = false;           // false: empty, non-finite/implausible interval, < 60 s of beats
    std::size_t n_intervals = 0;  // intervals used (0 when invalid)
    std::size_t n_samples = 0;    // resampled 4 Hz samples
    std::size_t n_segments = 0;   // Welch segments averaged
    double duration_s = 0.0;      // first to last knot
    double df_hz = 0.0;           // PSD bin spacing (1/64 Hz with full segments)

    double vlf_ms2 = 0.0;    // 0.0033 <= f < 0.04 Hz
    double lf_ms2 = 0.0;     // 0.04 <= f < 0.15 Hz
    double hf_ms2 = 0.0;     // 0.15 <= f < 0.4 Hz
    double total_ms2 = 0.0;  // VLF + LF + HF
    std::optional<double> lf_hf;  // LF / HF; empty when HF < kMinSpectralPowerMs2 (e.g. constant RR)
    // Frequency of the highest LF bin, refined by a Gaussian (log-parabolic) fit through it and
    // its neighbours, accurate to a few % of a bin for a Hann main lobe. Empty when LF power is
    // below kMinSpectralPowerMs2. This is the resonance-frequency estimate during slow
    // paced breathing.
    std::optional<double> lf_peak_hz;

    // The spectrum itself, for plotting: bins k * df_hz, k = 0 .. nfft/2.
    std::vector<double> freq_hz;
    std::vector<double> psd_ms2_per_hz;
};

// Interpolating cubic spline evaluated on a uniform grid. Solves the (diagonally dominant,
// tridiagonal) system for the knot slopes with the Thomas algorithm: O(n), no allocation once
// the workspace is large enough.
class CubicSplineResampler {
public:
    explicit CubicSplineResampler(std::size_t max_knots = 0,
                                  SplineBoundary boundary = SplineBoundary::kNotAKnot);

    // Fits the spline through (x[i], y[i]) and writes its value at x0 + k * dx into out[k].
    // Requires >= 4 knots, finite values, strictly increasing x and every grid point inside
    // [x.front(), x.back()] (no extrapolation). Returns false (out untouched) otherwise.
    bool resample(std::span<const double> x, std::span<const double> y, double x0, double dx,
                  std::span<double> out);

    SplineBoundary boundary() const { return boundary_; }

private:
    void reserve(std::size_t n);
    SplineBoundary boundary_;
    std::vector<double> slope_;  // secant slope of each interval
    std::vector<double> deriv_;  // first derivative at each knot (the unknowns)
    std::vector<double> cprime_, dprime_;  // Thomas algorithm sweep
};

// Welch PSD estimator with scipy.signal.welch semantics (see item 3 above). FFT plans and
// buffers are made at construction.
class WelchPsd {
public:
    explicit WelchPsd(double fs_hz = kHrvResampleHz, std::size_t nperseg = kWelchSegmentSamples,
                      std::size_t noverlap = kWelchOverlapSamples);
    ~WelchPsd();
    WelchPsd(WelchPsd&&) noexcept;
    WelchPsd& operator=(WelchPsd&&) noexcept;

    struct Info {
        std::size_t nfft = 0;      // segment length actually used: min(nperseg, x.size())
        std::size_t segments = 0;  // 0 when x has fewer than 2 samples
        double df_hz = 0.0;
    };
    // Resizes freq_hz/psd to nfft/2 + 1 bins (no reallocation once they have the capacity).
    Info compute(std::span<const double> x, std::vector<double>& freq_hz,
                 std::vector<double>& psd_ms2_per_hz);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Trapezoidal integral of psd over the bins with lo <= f < hi (README definition).
double band_power_ms2(std::span<const double> freq_hz, std::span<const double> psd_ms2_per_hz,
                      FrequencyBand band);

// Reusable workspace for the whole pipeline (spline -> 4 Hz series -> Welch -> bands).
// Allocation-free for inputs up to max_intervals once constructed; grows otherwise.
class FrequencyAnalyzer {
public:
    explicit FrequencyAnalyzer(std::size_t max_intervals = 0,
                               SplineBoundary boundary = SplineBoundary::kNotAKnot);

    // Intervals ibi_ms[k] placed at beat times t_s[k] (the beat ending each interval).
    // Resampled from t_s.front() to t_s.back(). Returns out.valid.
    bool analyze(std::span<const double> t_s, std::span<const double> ibi_ms,
                 FrequencyDomainMetrics& out);

    // A bare interval list, timed by the README convention (first beat at t = 0, see item 1).
    bool analyze_intervals(std::span<const double> ibi_ms, FrequencyDomainMetrics& out);

    // The 4 Hz series of the last analysis (ms), e.g. for Parseval checks or plotting.
    std::span<const double> resampled_ms() const { return {series_.data(), series_size_}; }

private:
    CubicSplineResampler spline_;
    WelchPsd welch_;
    std::vector<double> t_work_;
    std::vector<double> series_;
    std::size_t series_size_ = 0;
};

// One-shot convenience: frequency-domain metrics of a list of intervals (README convention).
FrequencyDomainMetrics compute_frequency_domain(std::span<const double> ibi_ms,
                                                SplineBoundary boundary = SplineBoundary::kNotAKnot);

namespace detail {

// Bounded history of the beats of one uninterrupted run, shared by the streaming trackers.
// Capacity is fixed at construction from the longest span to keep and the shortest plausible
// interval, so memory never grows with session length.
class BeatHistory {
public:
    explicit BeatHistory(double keep_s);

    enum class PushResult {
        kAccepted,
        kRestarted,  // the beat broke the run (implausible interval or a gap): history cleared
        kIgnored,    // non-increasing time: duplicate or out-of-order beat
    };
    // Rules: an interval that is non-finite or outside 273–2000 ms clears the history and is
    // dropped (the next clean beat starts a new run); a beat more than kMaxGapS later than its
    // interval implies (a dropout) clears the history and starts the new run; beats older than
    // keep_s before the newest are evicted.
    PushResult push(double t_s, double ibi_ms);
    void clear();

    std::size_t size() const { return size_; }
    std::size_t capacity() const { return t_.size(); }
    double t_s(std::size_t i) const { return t_[(head_ + i) % t_.size()]; }  // i = 0: oldest
    double ibi_ms(std::size_t i) const { return ibi_[(head_ + i) % t_.size()]; }

    // Copies the beats with t >= t_from_s into the caller's buffers (which must hold size()),
    // plus `extra_before` beats preceding that time. Returns how many were copied.
    std::size_t copy_since(double t_from_s, std::size_t extra_before, std::span<double> t_out,
                           std::span<double> ibi_out) const;

    // A beat arriving this much later than its own interval implies means beats were lost.
    static constexpr double kMaxGapS = 1.0;
    // Trackers report "no data" once the newest beat is this old (sensor silent or removed).
    static constexpr double kStaleAfterS = 5.0;

private:
    std::vector<double> t_, ibi_;
    std::size_t head_ = 0, size_ = 0;
    double keep_s_;
};

}  // namespace detail

// Live frequency-domain metrics over the last window_s seconds of beats (default 5 min, the
// Task Force short-term standard). push() is O(1) with no allocation; update() recomputes at
// most once per min_update_interval_s (default 1 s) and otherwise returns the cached result.
// Latency: a new beat reaches the output at the next update() (<= 1 s); see header top for the
// spectral latency. A run is restarted by implausible intervals and gaps (see BeatHistory).
class SpectrumTracker {
public:
    explicit SpectrumTracker(double window_s = 300.0, double min_update_interval_s = 1.0,
                             SplineBoundary boundary = SplineBoundary::kNotAKnot);

    void push(double t_s, double ibi_ms);
    const FrequencyDomainMetrics& update(double now_t_s);
    const FrequencyDomainMetrics& latest() const { return result_; }
    void reset();

    double window_s() const { return window_s_; }

private:
    double window_s_;
    double min_update_interval_s_;
    detail::BeatHistory history_;
    FrequencyAnalyzer analyzer_;
    std::vector<double> t_buf_, ibi_buf_;
    FrequencyDomainMetrics result_;
    double last_update_t_s_;
    bool dirty_ = true;
};

}  // namespace attune::dsp
