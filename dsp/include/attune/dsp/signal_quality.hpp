// Per-second signal quality for a raw ECG or PPG stream.
//
// Every `window_s` (1 s) of samples yields one QualityReport with one state, checked in this
// order (the first that applies wins):
//  1. LeadsOff: at least half of the samples are non-finite (decoders turn a sensor's
//     leads-off marker, e.g. AD8232's '!', into NaN), or, when the ADC range is given, at least
//     90 % of the samples sit on a rail.
//  2. Flat: peak-to-peak amplitude <= flat_p2p (signal units; set it to a few ADC LSB).
//  3. Clipped: more than clip_fraction (5 %) of the samples are "on the rail": at or beyond the
//     given ADC limits, or, when the range is unknown, equal to the window's maximum or minimum
//     in runs of at least 3 samples (a flat top), which a smooth waveform never does.
//  4. Noisy: the waveform is not periodic in the heart-rate range: the largest normalised
//     autocorrelation at lags 0.273–2 s (30–220 bpm) over the last 5 s is below
//     min_periodicity (0.4). It is computed at about 20 Hz on the 0.5–8 Hz band-passed signal
//     (PPG) or on the 5–15 Hz energy envelope (ECG, the Pan–Tompkins band). Band-passed white
//     noise scores about 0.1–0.35; clean recordings 0.6–0.99. Irregular rhythms also score low.
//  5. NoPulse: no beat reported through notify_beat() for more than no_pulse_s (4 s; the
//     slowest plausible beat interval is 2 s).
//  6. Good.
// The first report comes after one window; "noisy" needs 3 s of history, so earlier reports
// skip step 4. Latency: one window. Memory fixed at construction; no allocation per sample.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "attune/dsp/filters.hpp"

namespace attune::dsp {

enum class QualityState { Good, Noisy, Flat, Clipped, LeadsOff, NoPulse };
const char* to_string(QualityState s);

struct QualityReport {
    double t_s = 0.0;                  // end of the window (seconds since the stream start)
    QualityState state = QualityState::Good;
    double peak_to_peak = 0.0;         // signal units (finite samples only)
    double clipped_fraction = 0.0;     // 0..1
    double invalid_fraction = 0.0;     // non-finite samples, 0..1
    double periodicity = 0.0;          // 0..1 (see above); 0 before 3 s of history
    double seconds_since_beat = 0.0;   // since the last notify_beat (or the stream start)
};

class SignalQuality {
public:
    enum class Kind { Ecg, Ppg };
    struct Params {
        double sample_rate_hz = 100.0;
        Kind kind = Kind::Ppg;
        double window_s = 1.0;
        double adc_min = std::numeric_limits<double>::quiet_NaN();  // rails, if known
        double adc_max = std::numeric_limits<double>::quiet_NaN();
        double flat_p2p = 1e-9;          // signal units
        double clip_fraction = 0.05;
        double min_periodicity = 0.4;
        double no_pulse_s = 4.0;
    };

    SignalQuality();
    explicit SignalQuality(const Params& params);

    // Returns a report at the end of each window.
    std::optional<QualityReport> process(double sample);
    // Tell the monitor a beat was detected at t_s (stream time).
    void notify_beat(double t_s);
    void reset();
    const Params& params() const { return p_; }

private:
    QualityReport evaluate();
    double periodicity() const;

    Params p_;
    double fs_;
    ButterworthFilter band_;
    MovingAverage env_;
    std::vector<double> win_;
    std::size_t win_len_ = 1, win_n_ = 0;
    SampleHistory dec_hist_;
    std::size_t decim_ = 1, dec_count_ = 0;
    double dec_acc_ = 0.0;
    std::int64_t n_ = 0;
    double last_beat_t_ = 0.0;
    bool have_x_ = false;
    double last_x_ = 0.0;
};

}  // namespace attune::dsp
