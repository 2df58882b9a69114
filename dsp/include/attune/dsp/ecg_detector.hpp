// Streaming ECG R-peak detector (Pan–Tompkins family).
//
// Reference: J. Pan, W. J. Tompkins, "A Real-Time QRS Detection Algorithm", IEEE Trans. Biomed.
// Eng. BME-32(3):230–236, 1985. Followed: 5–15 Hz band-pass, five-point derivative, squaring,
// 150 ms moving-window integration (MWI), adaptive signal/noise peak levels SPKI/NPKI with
// THRESHOLD_I1 = NPKI + 0.25 (SPKI − NPKI) and THRESHOLD_I2 = 0.5 I1, level updates with weight
// 1/8 (1/4 for a search-back beat), 200 ms refractory, T-wave discrimination by slope when the
// interval is under 360 ms, a 2 s learning phase.
// Differences, so that every beat leaves within 0.4 s of its peak:
//  - the band-pass is a 2nd-order-per-edge Butterworth designed for the actual sample rate
//    (the paper's integer filters assume 200 Hz);
//  - search-back is causal: a candidate above I2 (but below I1) is accepted when it arrives
//    later than 1.66 × the mean RR since the last beat, instead of looking back in time;
//  - when no beat has been found for 3 s, SPKI's distance above NPKI is halved (at most once per
//    3 s) so that the detector re-acquires after an artefact that inflated it;
//  - a quality gate: for every accepted QRS the ratio of its MWI peak to the mean MWI over the
//    middle half of the interval since the previous QRS (where only P/T waves and noise live)
//    is averaged over beats (in log terms, weight 1/4). Beats are withheld while this QRS
//    "SNR" is below `min_qrs_snr` (default 6). Measured: ECG records here 10–30; white noise,
//    uniformly random values and clipped noise at 100–1000 Hz 1–4.3. So noise gives no beats.
//    The gate needs two intervals, so the first two QRS after the learning phase are withheld.
//  - the R peak is located on the original signal: the largest deviation from the local mean
//    (±100 ms) within ±60 ms of the band-pass energy peak (group delay compensated), either
//    polarity (the dominant polarity is tracked), then refined by parabolic interpolation.
//
// Input: one ECG lead, any units (mV or ADC counts), sample_rate_hz 100–1000 Hz (other rates are
// accepted; below 100 Hz the 15 Hz corner is kept under 0.45 fs). Non-finite samples hold the
// previous value. Output: Beat{t_s = (peak sample index + sub-sample offset) / fs, ibi_ms =
// interval since the previous emitted beat (0 for the first beat, after a withheld beat, and when
// the interval exceeds kMaxPlausibleIbiMs), amplitude = |R deviation from the local mean| in input
// units}. Beats closer than max(refractory_s, kMinPlausibleIbiMs) are never emitted.
//
// Latency: a beat is emitted when its MWI peak has stood for `confirm_s` (150 ms): typically
// 0.25–0.3 s after the R peak; never more than max_latency_s() = 0.4 s (the R search window is
// clipped so that this holds). No beat is emitted in the first `learning_s` (2 s).
// flush() decides on a pending candidate at the end of a recording (offline use).
// Memory: fixed at construction (1 s of signal history, 2.5 s of MWI); no allocation per sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "attune/dsp/filters.hpp"
#include "attune/dsp/types.hpp"

namespace attune::dsp {

class EcgDetector {
public:
    struct Params {
        double sample_rate_hz = 360.0;      // 100–1000 Hz
        double band_low_hz = 5.0;           // Pan–Tompkins pass band
        double band_high_hz = 15.0;
        double integration_window_s = 0.150;  // MWI width (Pan–Tompkins: 150 ms)
        double refractory_s = 0.200;        // Pan–Tompkins; the effective minimum is 273 ms
        double t_wave_window_s = 0.360;     // slope check for intervals shorter than this
        double learning_s = 2.0;            // threshold initialisation, no beats emitted
        double confirm_s = 0.150;           // an MWI peak is final once nothing higher follows for this long
        double min_qrs_snr = 6.0;           // quality gate (see above); <= 0 disables it
    };

    EcgDetector();
    explicit EcgDetector(const Params& params);

    // Feeds one sample; returns the beat emitted at this sample, if any.
    std::optional<Beat> process(double sample);
    // Block form: appends emitted beats to `out`.
    void process(std::span<const double> samples, std::vector<Beat>& out);
    // End of stream: decides on a pending candidate (an R peak in the last ~0.3 s) now.
    std::optional<Beat> flush();
    void reset();

    const Params& params() const { return p_; }
    static constexpr double max_latency_s() { return 0.4; }
    std::int64_t samples_seen() const { return n_; }
    // Sample index (0-based) of the peak of the last emitted beat, -1 if none.
    double last_peak_index() const { return last_beat_pos_; }
    bool gate_open() const;
    // QRS-to-inter-beat energy ratio (MWI peak over the MWI mean in the middle half of the interval), averaged over beats.
    double qrs_snr() const;

private:
    struct Candidate {
        double value = 0.0;
        std::int64_t index = -1;
    };
    void on_mwi_peak(std::int64_t peak_index, double peak_value, std::optional<Beat>& out);
    bool locate_r_peak(std::int64_t mwi_peak_index, double& pos, double& amplitude, double& slope);

    Params p_;
    double fs_;
    ButterworthFilter bandpass_;
    FivePointDerivative derivative_;
    MovingAverage mwi_;
    SampleHistory raw_hist_, bp_hist_, slope_hist_, mwi_hist_;
    std::size_t w_ = 1;            // MWI length in samples
    std::size_t confirm_ = 1;      // samples
    double refractory_samples_ = 0.0;
    double t_wave_samples_ = 0.0;
    double bp_delay_ = 0.0;        // band-pass group delay at 10 Hz, samples
    std::size_t half_search_ = 1;  // ±60 ms
    std::size_t half_base_ = 1;    // ±100 ms
    std::int64_t learn_samples_ = 0;
    double reacquire_samples_ = 0.0;  // 3 s
    double reacquire_ref_ = 0.0;      // max(last_decay_, last_beat_pos_)

    std::int64_t n_ = 0;
    double last_x_ = 0.0;
    bool have_x_ = false;
    double prev_mwi_ = 0.0;
    Candidate cand_;

    // learning phase
    double learn_max_ = 0.0, learn_sum_ = 0.0;
    std::int64_t learn_count_ = 0;
    bool learned_ = false;

    double spki_ = 0.0, npki_ = 0.0;
    double last_beat_pos_ = -1.0;      // refined R position (samples) of the last accepted QRS
    bool last_beat_emitted_ = false;
    double last_qrs_slope_ = 0.0;
    std::int64_t last_decay_ = 0;
    double rr_[8] = {};
    int rr_count_ = 0, rr_next_ = 0;
    double polarity_ = 0.0;            // > 0: upright R dominant

    // quality gate
    double log_snr_ = 0.0;
    int snr_count_ = 0;
    double mwi_offset_ = 0.0;  // MWI peak lag behind the R peak, samples
};

}  // namespace attune::dsp
