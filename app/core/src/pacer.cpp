#include "attune/core/pacer.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace attune::core {

Pacer::Pacer(BreathPattern pattern) : m_pattern(std::move(pattern)) {
    if (!m_pattern.Validate().empty() || m_pattern.phases.empty()) {
        // Never pace from a broken pattern: fall back to the default rather than divide by zero.
        const bool paced = m_pattern.paced;
        m_pattern = DefaultPattern();
        m_pattern.paced = paced;
    }
    const double cycle_s = m_pattern.CycleSeconds();
    m_cum.reserve(m_pattern.phases.size() + 1);
    m_cum.push_back(0.0);
    double acc_s = 0.0;
    for (const Phase& ph : m_pattern.phases) {
        acc_s += ph.duration_s;
        m_cum.push_back(acc_s / cycle_s);
    }
    m_cum.back() = 1.0;
    if (m_pattern.ramp) {
        m_f0_hz = m_pattern.ramp->from_bpm / 60.0;
        m_f1_hz = m_pattern.ramp->to_bpm / 60.0;
        m_ramp_s = m_pattern.ramp->over_s;
    } else {
        m_f0_hz = m_f1_hz = 1.0 / cycle_s;
    }
}

double Pacer::RateBpmAt(double t_s) const {
    if (!m_pattern.paced) return 0.0;
    if (m_ramp_s > 0.0 && t_s < m_ramp_s) {
        const double u = std::max(0.0, t_s) / m_ramp_s;
        return 60.0 * (m_f0_hz + (m_f1_hz - m_f0_hz) * u);
    }
    return 60.0 * m_f1_hz;
}

double Pacer::CyclesAt(double t_s) const {
    t_s = std::max(0.0, t_s);
    if (m_ramp_s <= 0.0) return t_s * m_f0_hz;
    if (t_s < m_ramp_s) return m_f0_hz * t_s + (m_f1_hz - m_f0_hz) * t_s * t_s / (2.0 * m_ramp_s);
    const double ramp_cycles = 0.5 * (m_f0_hz + m_f1_hz) * m_ramp_s;
    return ramp_cycles + (t_s - m_ramp_s) * m_f1_hz;
}

double Pacer::TimeOfCycles(double cycles) const {
    cycles = std::max(0.0, cycles);
    if (m_ramp_s <= 0.0) return cycles / m_f0_hz;
    const double ramp_cycles = 0.5 * (m_f0_hz + m_f1_hz) * m_ramp_s;
    if (cycles >= ramp_cycles) return m_ramp_s + (cycles - ramp_cycles) / m_f1_hz;
    // Solve a t^2 + b t - cycles = 0 with a = (f1 - f0) / (2T), b = f0; the form
    // 2c / (b + sqrt(b^2 + 4ac)) stays accurate when a is tiny or negative.
    const double a = (m_f1_hz - m_f0_hz) / (2.0 * m_ramp_s);
    const double b = m_f0_hz;
    const double disc = std::max(0.0, b * b + 4.0 * a * cycles);
    return 2.0 * cycles / (b + std::sqrt(disc));
}

double Pacer::PhaseStartTime(std::int64_t breath, int phase_index) const {
    phase_index = std::clamp(phase_index, 0, static_cast<int>(m_cum.size()) - 1);
    return TimeOfCycles(static_cast<double>(breath) + m_cum[static_cast<std::size_t>(phase_index)]);
}

PacerState Pacer::At(double t_s) const {
    PacerState s;
    t_s = std::max(0.0, t_s);
    s.elapsed_s = t_s;
    const double length_s = m_pattern.length_s;
    s.remaining_s = length_s > 0.0 ? std::max(0.0, length_s - t_s) : 0.0;
    s.finished = length_s > 0.0 && t_s >= length_s;
    s.paced = m_pattern.paced;
    if (!m_pattern.paced) {
        s.phase = PhaseKind::Natural;
        s.volume = 0.5;
        return s;
    }

    s.cycles = CyclesAt(t_s);
    const double whole = std::floor(s.cycles);
    s.breath_count = static_cast<std::int64_t>(whole);
    const double pos = s.cycles - whole;
    s.rate_bpm = RateBpmAt(t_s);

    // upper_bound: a position exactly on a boundary belongs to the phase that starts there.
    auto it = std::upper_bound(m_cum.begin(), m_cum.end(), pos);
    std::size_t i = static_cast<std::size_t>(std::distance(m_cum.begin(), it));
    i = std::clamp<std::size_t>(i, 1, m_pattern.phases.size()) - 1;
    // Skip zero-length phases (holds of 0 s): they occupy no position.
    while (i + 1 < m_pattern.phases.size() && m_cum[i + 1] <= pos) ++i;

    const Phase& ph = m_pattern.phases[i];
    const double lo = m_cum[i], hi = m_cum[i + 1];
    const double width = hi - lo;
    s.phase = ph.kind;
    s.phase_index = static_cast<int>(i);
    s.phase_progress = width > 0.0 ? std::clamp((pos - lo) / width, 0.0, 1.0) : 1.0;
    const double t_lo = TimeOfCycles(whole + lo);
    const double t_hi = TimeOfCycles(whole + hi);
    s.phase_duration_s = t_hi - t_lo;
    s.phase_remaining_s = std::max(0.0, t_hi - t_s);

    const std::size_t prev = (i == 0) ? m_pattern.phases.size() - 1 : i - 1;
    const double v0 = m_pattern.phases[prev].end_volume;
    const double v1 = ph.end_volume;
    const double p = s.phase_progress;
    s.volume = v0 + (v1 - v0) * 0.5 * (1.0 - std::cos(std::numbers::pi * p));
    // dv/dt = dv/dp * dp/dt, with dp/dt = f(t) / width (cycles per second over phase width).
    const double f_hz = s.rate_bpm / 60.0;
    s.volume_per_s = width > 0.0
        ? (v1 - v0) * 0.5 * std::numbers::pi * std::sin(std::numbers::pi * p) * f_hz / width
        : 0.0;
    return s;
}

void PacerClock::Start(double now_s) {
    m_started = true;
    m_paused = false;
    m_start_s = now_s;
    m_paused_total_s = 0.0;
}

void PacerClock::Pause(double now_s) {
    if (!m_started || m_paused) return;
    m_paused = true;
    m_pause_began_s = now_s;
}

void PacerClock::Resume(double now_s) {
    if (!m_started || !m_paused) return;
    m_paused = false;
    m_paused_total_s += std::max(0.0, now_s - m_pause_began_s);
}

double PacerClock::ActiveSeconds(double now_s) const {
    if (!m_started) return 0.0;
    const double end_s = m_paused ? m_pause_began_s : now_s;
    return std::max(0.0, end_s - m_start_s - m_paused_total_s);
}

}  // namespace attune::core
