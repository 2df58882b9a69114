#include "attune/devices/simulated_heart.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace attune::devices {

namespace {
constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kSystolicDelayS = 0.18;   // beat (electrical) to systolic peak of the pulse
constexpr double kDiastolicDelayS = 0.30;  // systolic to diastolic wave
constexpr double kPulseCounts = 180.0;     // systolic amplitude in ADC counts
constexpr double kBaselineCounts = 512.0;
constexpr double kVlfTauS = 25.0;
constexpr double kReportDelayS = 0.05;     // a sensor reports a beat shortly after its peak
}  // namespace

SimulatedHeart::SimulatedHeart(SimParams params, VolumeTarget target)
    : m_p(params), m_target(std::move(target)), m_rng(params.seed) {
    m_p.sample_rate_hz = std::clamp(m_p.sample_rate_hz, 25.0, 2000.0);
    m_p.hr_mean_bpm = std::clamp(m_p.hr_mean_bpm, 35.0, 180.0);
    m_p.resonance_bpm = std::clamp(m_p.resonance_bpm, 2.0, 15.0);
    m_p.resonance_zeta = std::clamp(m_p.resonance_zeta, 0.05, 2.0);
    m_dt_s = 1.0 / m_p.sample_rate_hz;
    m_hr_bpm = m_p.hr_mean_bpm;
    // Start at a random point of the cardiac cycle so runs with different seeds differ.
    m_theta = m_unit(m_rng);
}

double SimulatedHeart::PulseAt(double t_s) const {
    double v = 0.0;
    for (const Pulse& p : m_pulses) {
        const double tau = t_s - p.t_beat_s - kSystolicDelayS;
        // Skewed systolic wave: a steep upstroke and a slower fall.
        const double sigma_sys = tau < 0.0 ? 0.045 : 0.11;
        v += p.amplitude * std::exp(-0.5 * (tau / sigma_sys) * (tau / sigma_sys));
        const double tau_d = tau - kDiastolicDelayS;
        v += 0.35 * p.amplitude * std::exp(-0.5 * (tau_d / 0.08) * (tau_d / 0.08));
    }
    return v;
}

void SimulatedHeart::Poll(double t_s, std::vector<DeviceEvent>& out) {
    // Sample n sits at n / fs; generate every sample whose time is <= t_s.
    while (static_cast<double>(m_n) * m_dt_s <= t_s) Step(out);
}

void SimulatedHeart::Step(std::vector<DeviceEvent>& out) {
    const double t = static_cast<double>(m_n) * m_dt_s;
    const double dt = m_dt_s;

    // --- breathing -------------------------------------------------------------------------
    std::optional<double> target;
    if (m_target && m_p.adherence != Adherence::Ignore) {
        const double lag_s = m_p.adherence == Adherence::Close ? 0.1 : 0.8;
        target = m_target(std::max(0.0, t - lag_s + m_sloppy_shift_s));
    }
    if (target) {
        double v = std::clamp(*target, 0.0, 1.0);
        if (m_p.adherence == Adherence::Sloppy) {
            // Timing error and depth wander slowly (random walks pulled back towards zero).
            m_sloppy_shift_s += -m_sloppy_shift_s * dt / 20.0 + 0.35 * std::sqrt(dt) * m_gauss(m_rng);
            m_sloppy_shift_s = std::clamp(m_sloppy_shift_s, -1.5, 1.5);
            m_sloppy_depth += (1.0 - m_sloppy_depth) * dt / 15.0 + 0.05 * std::sqrt(dt) * m_gauss(m_rng);
            m_sloppy_depth = std::clamp(m_sloppy_depth, 0.5, 1.1);
            v = 0.5 + (v - 0.5) * m_sloppy_depth;
        }
        m_volume = v;
    } else {
        m_own_rate_jitter += -m_own_rate_jitter * dt / 30.0 + 0.15 * std::sqrt(dt) * m_gauss(m_rng);
        const double rate_bpm = std::max(3.0, m_p.natural_rate_bpm * (1.0 + std::clamp(m_own_rate_jitter, -0.3, 0.3)));
        m_own_cycles += rate_bpm / 60.0 * dt;
        m_volume = 0.5 * (1.0 - std::cos(kTwoPi * m_own_cycles));
    }
    const double flow = (m_n == 0) ? 0.0 : (m_volume - m_prev_volume) / dt;
    m_prev_volume = m_volume;

    // --- baroreflex resonance (semi-implicit Euler, stable for w0 * dt << 1) --------------------
    const double w0 = kTwoPi * m_p.resonance_bpm / 60.0;
    const double z = m_p.resonance_zeta;
    const double xddot = -2.0 * z * w0 * m_xdot - w0 * w0 * m_x + 2.0 * z * w0 * flow;
    m_xdot += xddot * dt;
    m_x += m_xdot * dt;
    // x swings +-0.5 for a full 0..1 breath at resonance; scale to +-rsa_gain_bpm.
    const double alpha = dt / kVlfTauS;
    m_vlf_bpm += -alpha * m_vlf_bpm + m_p.vlf_sd_bpm * std::sqrt(2.0 * alpha) * m_gauss(m_rng);
    m_hr_bpm = std::clamp(m_p.hr_mean_bpm + 2.0 * m_p.rsa_gain_bpm * m_x + m_vlf_bpm, 30.0, 200.0);

    // --- beats by integral pulse-frequency modulation ----------------------------------------
    const double beats_per_s = m_hr_bpm / 60.0;
    m_theta += beats_per_s * dt;
    if (m_theta >= 1.0) {
        const double t_beat = t - (m_theta - 1.0) / beats_per_s;  // linear refinement inside the step
        const bool ectopic = m_next_ectopic;
        m_next_ectopic = false;
        m_theta -= 1.0;
        if (ectopic) {
            // The beat after a premature one waits out a full compensatory pause.
            m_theta -= 0.35;
        } else if (m_p.ectopic_probability > 0.0 && m_unit(m_rng) < m_p.ectopic_probability) {
            m_theta += 0.35;  // the next beat comes at 65 % of the interval
            m_next_ectopic = true;
        }
        m_theta += m_p.beat_jitter * m_gauss(m_rng);

        const bool missed = m_p.missed_probability > 0.0 && m_unit(m_rng) < m_p.missed_probability;
        // Pulse amplitude falls a little on inhale (intrathoracic pressure) and is weak after
        // a premature beat (less filling time).
        double amp = kPulseCounts * (1.0 - 0.12 * m_volume) * (ectopic ? 0.55 : 1.0);
        if (missed) amp *= 0.04;
        m_pulses.push_back({t_beat, amp});
        while (m_pulses.size() > 4) m_pulses.pop_front();

        TrueBeat tb;
        tb.t_s = t_beat + kSystolicDelayS;
        tb.ibi_ms = m_last_beat_s >= 0.0 ? (tb.t_s - m_last_beat_s) * 1000.0 : 0.0;
        tb.ectopic = ectopic;
        tb.missed = missed;
        m_last_beat_s = tb.t_s;
        m_truth.push_back(tb);
        if (m_p.report_beats && !missed) m_pending_reports.push_back(tb);
    }

    // --- waveform sample ---------------------------------------------------------------------
    const double baseline = kBaselineCounts - 25.0 * (m_volume - 0.5);
    double value = baseline + PulseAt(t) - 0.4 * kPulseCounts + m_p.noise_counts * m_gauss(m_rng);
    value = std::clamp(std::round(value), 0.0, 1023.0);
    out.push_back({EventKind::Sample, t, value, {}});

    // Sensor-style beat reports: after the peak has been seen. The interval reported is from
    // the previous *reported* beat, as a sensor that missed a pulse would report it.
    while (!m_pending_reports.empty() && m_pending_reports.front().t_s + kReportDelayS <= t) {
        const TrueBeat b = m_pending_reports.front();
        m_pending_reports.erase(m_pending_reports.begin());
        const double ibi_ms = m_last_reported_s >= 0.0 ? (b.t_s - m_last_reported_s) * 1000.0 : 0.0;
        m_last_reported_s = b.t_s;
        out.push_back({EventKind::Beat, b.t_s, ibi_ms, {}});
    }
    ++m_n;
}

}  // namespace attune::devices
