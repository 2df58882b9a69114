// The breathing pacer: a pure function of elapsed (active) session time.
//
// The pattern's cycle position is the integral of the instantaneous breathing frequency,
// phi(t) = integral_0^t f(u) du  [cycles], with f = rate_bpm / 60. Without a ramp f is constant;
// with a ramp f changes linearly from from_bpm to to_bpm over over_s seconds and then stays, so
// phi is quadratic then linear: the rate never jumps and neither does the phase. The breath
// count is floor(phi), computed in closed form, so there is no drift however long a session
// runs (no accumulation from frame to frame).
//
// Lung volume within a moving phase follows a raised-cosine ease, v = v0 + (v1 - v0)(1 - cos(pi p))/2,
// whose slope is zero at both ends of every phase: volume and its derivative are continuous
// across phase boundaries (holds have zero slope too).
//
// Pause and resume live in PacerClock, which turns steady-clock readings into active time;
// Pacer itself never sees wall time.
#pragma once

#include <cstdint>

#include "attune/core/pattern.hpp"

namespace attune::core {

struct PacerState {
    bool paced = true;
    PhaseKind phase = PhaseKind::Inhale;
    int phase_index = 0;             // index into BreathPattern::phases
    double phase_progress = 0.0;     // 0..1 within the current phase
    double phase_duration_s = 0.0;   // duration of the current phase at the current rate
    double phase_remaining_s = 0.0;  // seconds until the next phase starts
    double volume = 0.0;             // target lung volume 0..1
    double volume_per_s = 0.0;       // d(volume)/dt
    std::int64_t breath_count = 0;   // completed breaths since t = 0
    double cycles = 0.0;             // continuous breath phase phi(t) in cycles
    double rate_bpm = 0.0;           // instantaneous breathing rate (0 when not paced)
    double elapsed_s = 0.0;
    double remaining_s = 0.0;        // until the pattern's length; 0 when open-ended
    bool finished = false;
};

class Pacer {
public:
    explicit Pacer(BreathPattern pattern);

    const BreathPattern& pattern() const { return m_pattern; }

    PacerState At(double t_s) const;
    // Instantaneous rate and the continuous breath phase phi(t) in cycles.
    double RateBpmAt(double t_s) const;
    double CyclesAt(double t_s) const;
    // Inverse of CyclesAt: the time at which phi reaches `cycles` (cycles >= 0).
    double TimeOfCycles(double cycles) const;
    // The start time of breath number k (k >= 0) and of phase `phase_index` within it.
    double PhaseStartTime(std::int64_t breath, int phase_index) const;

private:
    BreathPattern m_pattern;
    std::vector<double> m_cum;  // cumulative phase proportions, m_cum[0] = 0, back() = 1
    double m_f0_hz = 0.1;       // breathing frequency at t = 0 (cycles/s)
    double m_f1_hz = 0.1;       // after the ramp
    double m_ramp_s = 0.0;      // 0 when there is no ramp
};

// Active-time clock with pause/resume. Times are in seconds on any monotonic base
// (the app feeds steady_clock seconds, tests feed numbers).
class PacerClock {
public:
    void Start(double now_s);
    void Pause(double now_s);
    void Resume(double now_s);
    void Toggle(double now_s) { m_paused ? Resume(now_s) : Pause(now_s); }
    bool paused() const { return m_paused; }
    bool started() const { return m_started; }
    double ActiveSeconds(double now_s) const;

private:
    bool m_started = false;
    bool m_paused = false;
    double m_start_s = 0.0;
    double m_paused_total_s = 0.0;
    double m_pause_began_s = 0.0;
};

}  // namespace attune::core
