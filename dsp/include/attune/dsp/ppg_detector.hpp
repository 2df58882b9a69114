// Streaming PPG systolic-peak detector (Elgendi's two event-related moving averages, TERMA).
//
// Reference: M. Elgendi, I. Norton, M. Brearley, D. Abbott, D. Schuurmans, "Systolic Peak
// Detection in Acceleration Photoplethysmograms Measured from Emergency Responders in Tropical
// Conditions", PLoS ONE 8(10): e76585, 2013. Followed: 0.5–8 Hz Butterworth band-pass (2nd
// order), clipping of negative values, squaring, MA_peak over W1 = 111 ms and MA_beat over
// W2 = 667 ms, THR1 = MA_beat + beta * mean(z) with beta = 0.02, blocks of interest where
// MA_peak > THR1, blocks narrower than W1 rejected, the maximum of the block is the peak.
// Differences for streaming with at most 0.4 s latency:
//  - filters are causal; MA_peak is centred (delayed by W1/2) while MA_beat is the causal mean
//    of the last W2 (it lags by about (W2 - W1)/2; it only serves as a slowly varying level);
//    mean(z) is an exponentially weighted mean (time constant 10 s) instead of the whole record;
//  - a block still open 0.2 s after its maximum is closed there (long, flat-topped pulses);
//  - polarity: Polarity::Inverted negates the input (raw MAX3010x IR, where the pulse is a dip;
//    "invert"), Polarity::Auto decides from the sign of skew(band-passed) + 0.5 skew(its slope),
//    exponentially weighted over 8 s, first at 3 s, then flipped only when the score is beyond
//    0.2 the other way: an upright PPG has sharp systolic peaks over broad troughs (positive
//    skewness; Elgendi 2016, "Optimal signal quality index for photoplethysmogram signals",
//    Bioengineering 3:21) and a systolic upstroke steeper than the diastolic decay (positively
//    skewed slopes); inversion flips both signs;
//  - a quality gate: beats are withheld while the band-passed signal is not periodic in the
//    heart-rate range: the largest normalised autocorrelation at lags 0.273–2 s over the last
//    6 s (signal decimated to about 20 Hz, evaluated every 0.5 s) must reach `min_periodicity`
//    (default 0.5) to open the gate and stays open until it falls below 0.35. Band-passed white
//    noise measures about 0.1–0.35; clean PPG 0.8–0.99. White noise, random values: no beats.
//    An irregular rhythm (e.g. atrial fibrillation) can close it: min_periodicity <= 0 disables.
//  - a secondary (reflected/diastolic) wave is rejected as in Pan–Tompkins' T-wave rule: a peak
//    arriving sooner than 0.6 × the median interval with less than half the median pulse height
//    (medians of the last 5 accepted); a pulse under a quarter of the median height is dropped
//    as noise unless none has been accepted for 1.5 median intervals;
//  - the systolic peak is located on the original signal (sign applied): from the band-pass
//    block maximum, corrected for the band-pass group delay at 2 Hz, a hill climb (at most
//    ±150 ms) on the original smoothed by a centred 30 ms moving average (zero phase), then the
//    vertex of a least-squares parabola through the original samples within ±15 ms (at least
//    ±1 sample: plain 3-point parabolic interpolation at low rates).
//
// Input: one PPG channel, any units, sample_rate_hz 25–500 Hz. Non-finite samples hold the
// previous value. Output: Beat{t_s = systolic peak time (sample index + sub-sample offset) / fs,
// ibi_ms (0 for the first beat, after a withheld beat, and for intervals over
// kMaxPlausibleIbiMs), amplitude = height of the band-passed pulse (input units)}. Peaks closer
// than max(refractory_s, kMinPlausibleIbiMs) to the previous beat are dropped.
//
// Latency: typically 0.2–0.3 s after the systolic peak; never more than max_latency_s() = 0.4 s
// (the search is clipped so that this holds). Memory fixed at construction (about 8 s of
// decimated history and 1.5 s of samples); no allocation per sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "attune/dsp/filters.hpp"
#include "attune/dsp/types.hpp"

namespace attune::dsp {

class PpgDetector {
public:
    enum class Polarity {
        Auto,      // detect from the waveform (default)
        Upright,   // pulse is a peak (finger/ear PPG as usually displayed)
        Inverted,  // pulse is a dip (raw reflectance IR, e.g. MAX3010x): the signal is negated
    };
    struct Params {
        double sample_rate_hz = 100.0;   // 25–500 Hz
        double band_low_hz = 0.5;        // Elgendi 2013
        double band_high_hz = 8.0;
        double peak_window_s = 0.111;    // W1
        double beat_window_s = 0.667;    // W2
        double beta = 0.02;              // offset of THR1, fraction of mean(z)
        Polarity polarity = Polarity::Auto;
        double refractory_s = 0.273;     // never less than kMinPlausibleIbiMs
        double max_block_wait_s = 0.2;   // close a block this long after its maximum
        double min_periodicity = 0.5;    // quality gate (see above); <= 0 disables it
    };

    PpgDetector();
    explicit PpgDetector(const Params& params);

    std::optional<Beat> process(double sample);
    void process(std::span<const double> samples, std::vector<Beat>& out);
    void reset();

    const Params& params() const { return p_; }
    static constexpr double max_latency_s() { return 0.4; }
    std::int64_t samples_seen() const { return n_; }
    // Whether the input is currently treated as inverted (fixed, or as detected with Auto).
    bool inverted() const { return sign_ < 0.0; }
    // Latest periodicity estimate (0..1) and the gate state.
    double periodicity() const { return periodicity_; }
    bool gate_open() const { return p_.min_periodicity <= 0.0 || gate_; }

private:
    void finalize_block(std::optional<Beat>& out);
    void update_periodicity();
    double smoothed(std::int64_t idx) const;  // sign-applied, centred moving average of the input

    Params p_;
    double fs_;
    ButterworthFilter bandpass_;
    MovingAverage ma_peak_, ma_beat_;
    SampleHistory raw_hist_, y_hist_, dec_hist_;
    std::size_t h_ = 0;             // MA_peak centring delay, samples
    std::size_t w1_ = 1;
    double bp_delay_ = 0.0;         // samples
    std::size_t smooth_half_ = 0;   // samples
    std::size_t climb_ = 1;         // samples
    std::size_t wait_ = 1;          // samples
    double refractory_samples_ = 0.0;
    std::size_t decim_ = 1;
    double zbar_alpha_ = 0.0, skew_alpha_ = 0.0;

    std::int64_t n_ = 0;
    double last_x_ = 0.0;
    bool have_x_ = false;
    double sign_ = 1.0;
    double prev_bp_ = 0.0;
    double d2_ = 0.0, d3_ = 0.0;       // band-pass moments (auto polarity)
    double s2_ = 0.0, s3_ = 0.0;       // slope moments (auto polarity)
    double zbar_ = 0.0, zbar_w_ = 0.0; // bias-corrected EMA of z
    // block state (indices are in the centred time m = n - h)
    bool in_block_ = false, consumed_ = false;
    std::int64_t block_start_ = 0;
    double ymax_ = 0.0;
    std::int64_t ymax_idx_ = -1;
    // beats
    double last_pos_ = -1.0;
    bool last_emitted_ = false;
    double rr_hist_[5] = {};   // last accepted intervals, samples
    double amp_hist_[5] = {};  // last accepted pulse heights
    int rr_n_ = 0, amp_n_ = 0;
    // gate
    double dec_acc_ = 0.0;
    std::size_t dec_count_ = 0;
    std::int64_t next_periodicity_ = 0;
    double periodicity_ = 0.0;
    bool gate_ = false;
};

}  // namespace attune::dsp
