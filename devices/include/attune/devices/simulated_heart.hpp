// The simulated heart: the built-in default sensor.
//
// Model (all deterministic for a given seed):
//  * Breathing: lung volume V(t) in 0..1 follows the pacer's target volume with a chosen
//    adherence (close: 0.1 s lag; sloppy: lag, depth changes and a slowly wandering timing
//    error of up to ~15 % of a breath; ignore: its own natural rhythm ~12/min), or breathes
//    naturally when no pacer is given.
//  * Heart rate: HR(t) = hr_mean + 2 * rsa_gain * x(t) + vlf(t), where x is the lung volume
//    passed through the baroreflex resonance, a second-order band-pass
//        x'' + 2 zeta w0 x' + w0^2 x = 2 zeta w0 V'      (w0 = 2 pi resonance_bpm / 60)
//    with unit gain and zero phase at the resonance: breathing at resonance gives the largest
//    heart-rate swing, in phase with lung volume (Vaschillo et al. 2002; Lehrer 2013), and
//    faster breathing a smaller swing that lags. vlf is an Ornstein-Uhlenbeck process
//    (tau 25 s) for slower variability.
//  * Beats: integral pulse-frequency modulation of HR with a small per-beat jitter; optional
//    ectopic beats (premature at 65 % of the interval with a full compensatory pause) and
//    missed beats (a beat whose pulse the sensor does not see).
//  * Waveform: a PPG pulse (skewed systolic wave 0.18 s after the beat, diastolic wave 0.30 s
//    later) on a baseline that sways with breathing, plus white sensor noise, in PulseSensor
//    ADC counts (0..1023) at sample_rate_hz.
// The truth (systolic peak times, intervals, breathing volume) is kept for tests.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <random>
#include <vector>

#include "attune/devices/source.hpp"

namespace attune::devices {

enum class Adherence { Close, Sloppy, Ignore };

struct SimParams {
    double sample_rate_hz = 500.0;
    double hr_mean_bpm = 66.0;
    double resonance_bpm = 5.5;     // breathing rate of the baroreflex resonance (breaths/min)
    double resonance_zeta = 0.25;   // damping of the resonance (smaller = sharper peak)
    double rsa_gain_bpm = 7.0;      // HR swing (bpm, half peak-to-trough) for a full breath at resonance
    double vlf_sd_bpm = 1.5;        // slow variability
    double beat_jitter = 0.012;     // per-beat interval jitter (fraction of an interval)
    double noise_counts = 3.0;      // white sensor noise, ADC counts (sd)
    double ectopic_probability = 0.0;
    double missed_probability = 0.0;
    double natural_rate_bpm = 12.0; // own breathing when not following a pacer
    Adherence adherence = Adherence::Close;
    std::uint64_t seed = 1;
    bool report_beats = true;       // also emit Beat events, like a PulseSensor's B/Q lines
};

struct TrueBeat {
    double t_s = 0.0;        // systolic peak time of the pulse
    double ibi_ms = 0.0;     // interval from the previous beat (0 for the first)
    bool ectopic = false;
    bool missed = false;     // the sensor did not see this pulse
};

// Target lung volume 0..1 at session time t_s, or nullopt when not pacing.
using VolumeTarget = std::function<std::optional<double>(double t_s)>;

class SimulatedHeart final : public Source {
public:
    explicit SimulatedHeart(SimParams params, VolumeTarget target = {});

    std::string Describe() const override { return "Simulated heart"; }
    bool IsSimulated() const override { return true; }
    double SampleRateHz() const override { return m_p.sample_rate_hz; }
    void Poll(double t_s, std::vector<DeviceEvent>& out) override;

    void SetTarget(VolumeTarget target) { m_target = std::move(target); }
    SimulatedHeart* simulated_heart() override { return this; }
    const SimParams& params() const { return m_p; }

    // Truth for tests: every beat so far, and the last breathing state.
    const std::vector<TrueBeat>& truth() const { return m_truth; }
    double lung_volume() const { return m_volume; }
    double heart_rate_bpm() const { return m_hr_bpm; }
    std::int64_t samples() const { return m_n; }

private:
    void Step(std::vector<DeviceEvent>& out);
    double PulseAt(double t_s) const;

    SimParams m_p;
    VolumeTarget m_target;
    std::mt19937_64 m_rng;
    std::normal_distribution<double> m_gauss{0.0, 1.0};
    std::uniform_real_distribution<double> m_unit{0.0, 1.0};

    std::int64_t m_n = 0;     // samples produced
    double m_dt_s;
    double m_volume = 0.0, m_prev_volume = 0.0;
    double m_own_cycles = 0.0;          // natural breathing phase (cycles)
    double m_own_rate_jitter = 0.0;     // slow wander of the natural rate
    double m_sloppy_shift_s = 0.0;      // sloppy adherence: timing error (s)
    double m_sloppy_depth = 1.0;
    double m_x = 0.0, m_xdot = 0.0;     // resonance state
    double m_vlf_bpm = 0.0;
    double m_hr_bpm;
    double m_theta = 0.0;               // IPFM phase (beats)
    bool m_next_ectopic = false;
    double m_last_beat_s = -1.0;
    double m_last_reported_s = -1.0;

    struct Pulse { double t_beat_s; double amplitude; };
    std::deque<Pulse> m_pulses;  // the last few beats still shaping the waveform
    std::vector<TrueBeat> m_truth;
    std::vector<TrueBeat> m_pending_reports;  // beats to report once their peak has passed
};

}  // namespace attune::devices
