// Respiratory sinus arrhythmia (RSA) and breathing from the heart.
//
// Three tools:
//   1. RSA per breath, peak-to-trough: within each breath cycle, max − min heart rate (bpm) and
//      max − min RR interval (ms). P. Grossman, E. W. Taylor, "Toward understanding respiratory
//      sinus arrhythmia: relations to cardiac vagal tone, evolution and biobehavioral functions",
//      Biol Psychol 74(2):263–285, 2007 (§ on the peak-to-trough method). Grossman's original takes
//      the shortest RR of inspiration and the longest of expiration; with only breath boundaries
//      known (the pacer's, or detected) we take the extremes over the whole cycle, which equals it
//      whenever the heart rate rises during inspiration and falls during expiration.
//   2. Breathing rate from the heart signal alone: the respiratory peak in 0.05–0.5 Hz (3–30
//      breaths/min) of the RR series over the last 60 s (natural cubic spline at 4 Hz, linear
//      trend removed, Hann window, power on a 0.005 Hz grid, made finer for longer offline spans so
//      that 1/span Hz holds >= 3 grid points), optionally fused with the spectrum
//      of the beat amplitudes (ECG R amplitude and PPG pulse amplitude are modulated by breathing
//      too, and carry no Mayer waves). The peak is *selected* on f · geometric-mean spectrum
//      (the f weighting flattens the 1/f background of HRV, the geometric mean keeps peaks both
//      modulations share) and *located* on the plain arithmetic-mean spectrum within a main-lobe
//      width of it, refined by a parabola through the log powers. Why: in spontaneous breathing
//      slow (~0.1 Hz) Mayer waves in RR can be as strong as the respiratory sinus arrhythmia;
//      in resonance breathing the 0.1 Hz peak is an order of magnitude above anything else and
//      still wins. Measured: synthetic RR at 4–20 breaths/min within 0.05 breaths/min; on a 5-min
//      resting ECG with a respiration belt (tests/dsp/test_rsa.cpp), median of the per-second
//      estimates 15.9 vs belt 15.7 breaths/min, and every 60 s window with confidence ≥ 0.4
//      within 1.5 breaths/min of the belt.
//   3. Phase of the heart-rate oscillation against a reference breathing signal (the pacer's
//      target lung volume) at the pacer frequency: heart rate (spline at 4 Hz) and reference
//      (linear interpolation) are each fitted by least squares with a + b·t + c·cos ωt + d·sin ωt
//      over a whole number of breaths (the line keeps drifts from leaking into the phase); phase
//      = atan2(d, c) of heart rate − that of the reference. Resonance breathing gives ~0°.
//      Measured on synthetic beats: within 2° for lags −150…180° at 0.075–0.2 Hz.
//
// Time convention (all three): an interval's mean heart rate 60000/ibi_ms belongs at the midpoint
// of the interval, t_s − ibi_ms/2000, where it is an unbiased estimate of the instantaneous rate.
// Placing it at the beat that ends it (the HRV-spectrum convention) would delay the heart-rate
// signal by half an interval: 18° of phase at 0.1 Hz and 60 bpm.
//
// Units: t_s in seconds, ibi_ms in ms, heart rate in beats/min (bpm), breathing rate in
// breaths/min, frequencies in Hz, phase in degrees. Input beats must be in time order, with
// plausible intervals (use the corrected output of ArtifactStream); beats with ibi_ms == 0 are
// ignored. Streaming classes allocate only at construction.
#pragma once

#include <attune/dsp/types.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

namespace attune::dsp {

// ------------------------------------------------------------------------------------------------
// 1. RSA per breath

struct BreathCycle {
    double start_s = 0.0;  // e.g. start of inhalation
    double end_s = 0.0;    // start of the next inhalation
};

struct BreathRsa {
    double start_s = 0.0, end_s = 0.0;
    int n_intervals = 0;  // intervals whose midpoint lies in [start_s, end_s)
    double rr_min_ms = 0.0, rr_max_ms = 0.0;
    double hr_min_bpm = 0.0, hr_max_bpm = 0.0;
    double rsa_ms = 0.0;   // rr_max_ms − rr_min_ms
    double rsa_bpm = 0.0;  // hr_max_bpm − hr_min_bpm
    bool valid = false;    // at least 2 intervals in the cycle
};

BreathRsa rsa_for_breath(std::span<const Beat> beats, const BreathCycle& breath);
std::vector<BreathRsa> rsa_per_breath(std::span<const Beat> beats,
                                      std::span<const BreathCycle> breaths);

// Streaming: beats and breath cycles arrive independently (the pacer may announce a breath before
// or after its beats have been through artifact correction). A breath's result is emitted once a
// beat whose interval midpoint is at or after its end has arrived, so it is complete. Latency:
// the end of the breath + half an interval + the upstream beat latency (2 beats for
// ArtifactStream). Keeps the last `beat_capacity` intervals (256: over a minute at 220 bpm) and up
// to `breath_capacity` waiting breaths (the oldest is emitted with what it has if more arrive).
class RsaTracker {
public:
    explicit RsaTracker(std::size_t beat_capacity = 256, std::size_t breath_capacity = 16);

    std::span<const BreathRsa> add_breath(const BreathCycle& breath);
    std::span<const BreathRsa> push_beat(const Beat& beat);
    std::span<const BreathRsa> flush();  // emit all waiting breaths with what they have
    void reset();

private:
    void emit_complete(bool all);
    BreathRsa compute(const BreathCycle& b) const;

    std::vector<double> mid_, ibi_;  // ring of interval midpoints and intervals
    std::size_t head_ = 0, size_ = 0;
    std::vector<BreathCycle> breaths_;  // ring of waiting breaths
    std::size_t bhead_ = 0, bsize_ = 0;
    double latest_mid_ = -1e300;
    std::vector<BreathRsa> out_;
};

// ------------------------------------------------------------------------------------------------
// 2. Breathing rate from the heart

struct BreathingRateConfig {
    double window_s = 60.0;        // analysis window (the last window_s of beats)
    double min_span_s = 30.0;      // no estimate before the beats span this long
    double resample_hz = 4.0;      // spline sampling rate
    double min_hz = 0.05;          // 3 breaths/min
    double max_hz = 0.5;           // 30 breaths/min
    double grid_step_hz = 0.005;   // spectrum grid before refinement
    double update_interval_s = 1.0;  // streaming: one estimate per slot of this much beat time
    bool use_amplitude = true;     // also use Beat::amplitude when it varies
    double weight_exponent = 1.0;  // peak selection on f^this · spectrum (whitens 1/f HRV)
    // Compute the grid's powers with one real FFT when the grid is a run of DFT bins
    // (resample_hz / grid_step_hz and min_hz / grid_step_hz whole numbers, as by default: bins
    // 10..100 of an 800-point DFT); false, or any other grid: the direct DFT. Same values to
    // ~1e-13 relative (tests/dsp/test_rsa.cpp compares them); the FFT is ~10x cheaper.
    bool use_fft = true;
};

struct BreathingRate {
    double t_s = 0.0;           // end of the analysed window (time of the newest beat)
    double frequency_hz = 0.0;
    double rate_bpm = 0.0;      // breaths per minute = 60 · frequency_hz
    // 0..1: share of the (selection) spectrum within ±1.5/window Hz of the peak, rescaled so that
    // a flat spectrum gives 0 and a pure tone 1. RR without any rhythm (white noise, 60 s):
    // median 0.20, 95th percentile 0.37. Treat < 0.4 as "no clear breathing rhythm".
    double confidence = 0.0;
    bool used_amplitude = false;
};

// Offline: one estimate over all given beats (any length ≥ min_span_s).
std::optional<BreathingRate> estimate_breathing_rate(std::span<const Beat> beats,
                                                     const BreathingRateConfig& cfg = {});

// Streaming: push every (corrected) beat; an estimate over the last window_s comes out with the
// first beat of each new update_interval_s slot of beat time (so at most once per second by
// default), once the beats span min_span_s. Memory: a ring of window_s at 220 bpm. Cost per
// estimate: median ~7.5 us from RR alone, ~14 us with the amplitude spectrum (Release, one
// 800-point real FFT per spectrum; attune_bench); push() otherwise O(1).
class BreathingRateEstimator {
public:
    explicit BreathingRateEstimator(const BreathingRateConfig& cfg = {});
    ~BreathingRateEstimator();
    BreathingRateEstimator(BreathingRateEstimator&&) noexcept;
    BreathingRateEstimator& operator=(BreathingRateEstimator&&) noexcept;

    std::optional<BreathingRate> push(const Beat& beat);
    const std::optional<BreathingRate>& latest() const noexcept { return latest_; }
    void reset();

private:
    struct Impl;  // beat ring and scratch buffers, sized at construction
    std::unique_ptr<Impl> impl_;
    std::optional<BreathingRate> latest_;
};

// ------------------------------------------------------------------------------------------------
// 3. Heart-rate phase against a breathing reference

struct ReferenceSample {
    double t_s = 0.0;
    double value = 0.0;  // e.g. target lung volume 0..1 (any units; larger = more air)
};

struct HrPhase {
    // Lag of the heart-rate oscillation behind the reference at f0, in (−180, 180]: positive
    // when heart rate peaks after the reference does (0 at resonance, ±180 in antiphase).
    double phase_deg = 0.0;
    // Amplitude (half peak-to-peak) of the HR component at f0, corrected for the averaging over
    // each interval (÷ sinc(π f0 RR)).
    double hr_amplitude_bpm = 0.0;
    double ref_amplitude = 0.0;     // amplitude of the reference component at f0
    // 0..1: share of the HR variance (trend removed) at f0. Low values (< ~0.2) mean there is
    // no clear oscillation at the pacer frequency and the phase is noise.
    double hr_fraction = 0.0;
    double window_s = 0.0;          // analysed span: a whole number of cycles of f0
    bool valid = false;
};

struct HrPhaseConfig {
    double cycles = 3.0;        // analyse the last this many breaths
    double resample_hz = 4.0;
    double max_window_s = 90.0;  // bound on cycles/f0 (and on memory in the streaming class)
};

// Offline: over the last `cycles` whole cycles of f0 that both signals cover.
HrPhase hr_phase(std::span<const Beat> beats, std::span<const ReferenceSample> reference,
                 double f0_hz, const HrPhaseConfig& cfg = {});

// Streaming: push beats and reference samples as they come (reference at ≥ 4 Hz; faster pushes
// are decimated to 20 Hz), ask for an estimate whenever needed (e.g. once per breath; median
// ~6 us at 6 breaths/min: only the window and 5 s of lead are visited, see attune_bench).
// Memory: rings covering max_window_s + 5 s.
class HrPhaseTracker {
public:
    explicit HrPhaseTracker(const HrPhaseConfig& cfg = {});
    ~HrPhaseTracker();
    HrPhaseTracker(HrPhaseTracker&&) noexcept;
    HrPhaseTracker& operator=(HrPhaseTracker&&) noexcept;

    void push_beat(const Beat& beat);
    void push_reference(double t_s, double value);
    HrPhase estimate(double f0_hz);
    void reset();

private:
    struct Impl;  // rings and scratch buffers, sized at construction
    std::unique_ptr<Impl> impl_;
};

}  // namespace attune::dsp
