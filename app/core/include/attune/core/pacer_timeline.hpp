// A pacer made of consecutive segments on one active-time axis, for guided programs.
//
// Each segment is a closed-form Pacer (pacer.hpp) over local time t - t0, or a stretch of
// natural breathing (no pacing; shown at the resting volume 0, where every paced breath ends,
// so the orb does not jump between steps). The breath phase phi (in cycles) is continuous across segments:
// a paced segment starts at a whole breath (phi an integer: the start of an inhale) and, unless it
// is the last one, ends at a whole breath, so lung volume and rate never jump inside a paced
// stretch. Natural segments keep phi constant. A body-responsive ramp is built one breath at a
// time from segments whose rate glides linearly from r_k to r_{k+1} over exactly one breath
// (duration 120 / (r_k + r_{k+1}) s): the rate is continuous (piecewise linear), the phase is the
// exact integral of the rate, and every segment is still closed form.
//
// Units: times in seconds of active (pause-free) session time, rates in breaths/min.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "attune/core/pacer.hpp"

namespace attune::core {

struct TimelineSegment {
    double t0_s = 0.0;
    double t1_s = 0.0;
    double cycles0 = 0.0;  // phi at t0 (an integer for paced segments)
    bool paced = false;
    int step = -1;         // index of the program step this segment belongs to
    Pacer pacer;           // evaluated at local time t - t0_s
};

class PacerTimeline {
public:
    double end_s() const { return m_segments.empty() ? 0.0 : m_segments.back().t1_s; }
    double end_cycles() const;
    bool empty() const { return m_segments.empty(); }
    const std::vector<TimelineSegment>& segments() const { return m_segments; }

    // Paced with `pattern` (its own ramp, if any, runs in the segment's local time) from end_s()
    // for at least min_duration_s, ending at the first whole breath at or after it (or exactly
    // then when whole_breaths is false: use it for a last segment only). Returns the end time.
    double AppendPaced(const BreathPattern& pattern, double min_duration_s, int step, bool whole_breaths = true);
    // Exactly one breath whose rate glides linearly from from_bpm to to_bpm, with the phase
    // proportions of `shape`. Returns the end time.
    double AppendGlideBreath(const BreathPattern& shape, double from_bpm, double to_bpm, int step);
    // Natural breathing (no pacing) for duration_s. Returns the end time.
    double AppendNatural(double duration_s, int step);

    // The pacer at active time t (clamped to the timeline; after its end the last state holds,
    // unpaced). elapsed_s = t; remaining_s and finished are left for the caller (program length).
    PacerState At(double t_s) const;
    const TimelineSegment* SegmentAt(double t_s) const;
    // Start time of global breath k (phi = k), if the timeline reaches it.
    std::optional<double> BreathStart(std::int64_t k) const;

private:
    std::vector<TimelineSegment> m_segments;
};

}  // namespace attune::core
