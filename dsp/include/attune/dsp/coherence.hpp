// HeartMath-style heart rhythm coherence over the last 64 s of beats, for live biofeedback.
//
// Follows McCraty R, Atkinson M, Tomasino D, Bradley RT (2009), "The coherent heart",
// Integral Review 5(2):10–115 (appendix on the coherence ratio), and HeartMath's public
// description of emWave/Inner Balance scoring (64 s of IBI, peak in 0.04–0.26 Hz, power in a
// 0.030 Hz window around it compared with the rest of the spectrum). HeartMath's exact
// implementation is proprietary; this is an open re-implementation of the published recipe, so
// absolute numbers are comparable in scale, not identical.
//
// Recipe (each step chosen to make a live value well defined):
//   1. Beats (t_s, ibi_ms) of the last 64 s, each interval at the beat that ends it, resampled
//      by the same not-a-knot cubic spline at 4 Hz as the HRV spectrum (hrv_freq.hpp). The grid
//      is anchored at the newest beat and goes back 64 s (256 samples); one beat older than the
//      window is kept as a knot so the spline covers the first sample. Nothing is extrapolated
//      past the newest beat.
//   2. Mean removed, one periodic Hann window over all samples, zero-padded to 4096 points,
//      one-sided periodogram density in ms²/Hz. One window rather than Welch: 64 s holds only
//      one 64 s segment, and Welch on 32 s segments would halve the resolution. Zero padding
//      (grid 0.00098 Hz) matters because a 64 s record resolves only 1/64 = 0.0156 Hz: without
//      it the 0.030 Hz peak window would hold a single bin and a perfect sine would score a
//      ratio of only 2.
//   3. Peak = highest density bin with 0.04 <= f <= 0.26 Hz, refined by a Gaussian fit through
//      it and its neighbours (the window is centred there; peak_hz is that refined value).
//   4. Peak power = integral over [peak − 0.015, peak + 0.015] Hz; total power = integral over
//      [0.0033, 0.4] Hz; both of the piecewise-linear density, with exact band edges, so the
//      window is exactly 0.030 Hz wide and peak + rest = total.
//   5. coherence_ratio = peak / (total − peak)   (McCraty 2009; some HeartMath texts square
//      this ratio — we report it unsquared).
//      score = ln(coherence_ratio + 1): a HeartMath-like log score (their apps' 0–16 scoring
//      is proprietary and not reproduced).
//
// Scale, measured with this implementation (tests/dsp/test_coherence.cpp checks the first two):
//   * a pure sinusoidal RR modulation anywhere in 0.05–0.25 Hz: ratio 9.1–9.4, score ≈ 2.3.
//     ~9 % of a pure tone's power lies outside the 0.030 Hz window (the Hann main lobe is
//     ±0.031 Hz wide), so this is the practical ceiling of the score: 0 to ~2.3;
//   * white-noise RR variability (64 s windows): score median 0.22, 99th percentile 0.49;
//   * spontaneous breathing at rest (../shared/data/rr/rest-rri.txt, all 64 s windows):
//     median 0.22, maximum 0.48;
//   * a 0.1 Hz rhythm of amplitude 40 / 80 ms in 30 ms-SD noise: score ~0.8 / ~1.5.
// Levels (our thresholds, not HeartMath's proprietary ones; their published score guide for
// Inner Balance reads 0.5 "basic", 1.0 "good", 2.0 "very good"):
//   low    < 0.5  — indistinguishable from random variability (above its 99th percentile);
//   medium < 1.0  — a rhythm is emerging (peak window holds 39–63 % of the power);
//   high  >= 1.0  — the peak window holds most (> 63 %) of the power.

// Units: t_s in seconds, ibi_ms in ms, powers in ms², frequencies in Hz. Valid input: finite
// intervals within 273–2000 ms and increasing beat times. Latency: the score describes the last
// 64 s; a change of breathing shows fully after ~64 s (half after ~30 s). The tracker reports
// valid results once kCoherenceMinSpanS of clean beats are in (a shorter record has a wider main
// lobe, so early scores read lower), and none once the newest beat is 5 s old.
// Cost: one spline over ~80 knots and the first 413 bins of the 4096-point periodogram by a
// chirp-z transform (two 675-point complex FFTs): ~15 us (Release; see attune_bench).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "attune/dsp/hrv_freq.hpp"

namespace attune::dsp {

inline constexpr double kCoherenceWindowS = 64.0;
inline constexpr double kCoherenceMinSpanS = 32.0;  // >= 3 cycles at 0.1 Hz (6 breaths/min)
inline constexpr std::size_t kCoherenceFftSize = 4096;  // zero-padded periodogram length
inline constexpr FrequencyBand kCoherencePeakSearchBand{0.04, 0.26};
inline constexpr double kCoherencePeakHalfWidthHz = 0.015;
inline constexpr FrequencyBand kCoherenceTotalBand{0.0033, 0.4};
inline constexpr double kCoherenceMediumScore = 0.5;
inline constexpr double kCoherenceHighScore = 1.0;

enum class CoherenceLevel { kLow, kMedium, kHigh };

struct CoherenceResult {
    bool valid = false;            // false: too little clean data, no variability, or stale
    double coherence_ratio = 0.0;  // peak power / (total − peak power), >= 0
    double score = 0.0;            // ln(coherence_ratio + 1)
    CoherenceLevel level = CoherenceLevel::kLow;
    double peak_hz = 0.0;          // interpolated on the zero-padded grid
    double peak_power_ms2 = 0.0;
    double total_power_ms2 = 0.0;  // 0.0033–0.4 Hz
    double span_s = 0.0;           // length of the analysed series (64 s once warmed up)
};

CoherenceLevel classify_coherence(double score);

// Workspace for the computation; allocation-free after construction.
class CoherenceAnalyzer {
public:
    // How the zero-padded 4096-point periodogram is evaluated. Only its first 413 bins (0-0.403 Hz)
    // are read, so by default they are computed with the chirp-z transform (Bluestein: one
    // circular convolution of length 675 by FFT, ~3x cheaper than the 4096-point FFT); kFft4096
    // is the plain zero-padded FFT. Both give the same bins to ~1e-13 relative to the largest
    // (tests/dsp/test_coherence.cpp compares them).
    enum class Method { kChirpZ, kFft4096 };
    explicit CoherenceAnalyzer(Method method = Method::kChirpZ);
    ~CoherenceAnalyzer();
    CoherenceAnalyzer(CoherenceAnalyzer&&) noexcept;
    CoherenceAnalyzer& operator=(CoherenceAnalyzer&&) noexcept;

    // Steps 1–5 on the last 64 s of the given beats (older beats are ignored).
    CoherenceResult analyze_beats(std::span<const double> t_s, std::span<const double> ibi_ms);

    // Steps 2–5 on an already uniform 4 Hz series in ms (the last 256 samples are used; at
    // least kCoherenceMinSpanS worth are needed).
    CoherenceResult analyze_series(std::span<const double> series_ms);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One-shot conveniences.
CoherenceResult compute_coherence(std::span<const double> t_s, std::span<const double> ibi_ms);
CoherenceResult coherence_from_series(std::span<const double> series_ms_4hz);

// Streaming coherence. push() each clean beat (O(1), no allocation; implausible intervals and
// gaps restart the run, see detail::BeatHistory); call update() as often as the UI wants (e.g.
// every frame or every second): it recomputes only when a beat arrived since the last call.
class CoherenceTracker {
public:
    CoherenceTracker();

    void push(double t_s, double ibi_ms);
    const CoherenceResult& update(double now_t_s);
    const CoherenceResult& latest() const { return result_; }
    void reset();

private:
    detail::BeatHistory history_;
    CoherenceAnalyzer analyzer_;
    std::vector<double> t_buf_, ibi_buf_;
    CoherenceResult result_;
    bool dirty_ = true;
};

}  // namespace attune::dsp
