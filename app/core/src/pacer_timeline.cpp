#include "attune/core/pacer_timeline.hpp"

#include <algorithm>
#include <cmath>

namespace attune::core {

double PacerTimeline::end_cycles() const {
    if (m_segments.empty()) return 0.0;
    const TimelineSegment& s = m_segments.back();
    if (!s.paced) return s.cycles0;
    return s.cycles0 + s.pacer.CyclesAt(s.t1_s - s.t0_s);
}

double PacerTimeline::AppendPaced(const BreathPattern& pattern, double min_duration_s, int step, bool whole_breaths) {
    TimelineSegment seg{end_s(), end_s(), std::ceil(end_cycles() - 1e-9), true, step, Pacer(pattern)};
    if (!seg.pacer.pattern().paced) return AppendNatural(min_duration_s, step);
    double dur = std::max(0.0, min_duration_s);
    if (whole_breaths) {
        const double local_cycles = std::ceil(seg.pacer.CyclesAt(dur) - 1e-9);
        dur = seg.pacer.TimeOfCycles(std::max(1.0, local_cycles));
    }
    seg.t1_s = seg.t0_s + dur;
    m_segments.push_back(std::move(seg));
    return end_s();
}

double PacerTimeline::AppendGlideBreath(const BreathPattern& shape, double from_bpm, double to_bpm, int step) {
    from_bpm = std::clamp(from_bpm, 1.0, 40.0);
    to_bpm = std::clamp(to_bpm, 1.0, 40.0);
    BreathPattern p = shape;
    p.paced = true;
    p.SetRateBpm(from_bpm);
    const double dur = 120.0 / (from_bpm + to_bpm);  // one cycle: (f0 + f1) / 2 * T = 1
    if (std::abs(to_bpm - from_bpm) > 1e-9) p.ramp = Ramp{from_bpm, to_bpm, dur};
    else p.ramp.reset();
    p.length_s = 0.0;
    TimelineSegment seg{end_s(), end_s() + dur, std::ceil(end_cycles() - 1e-9), true, step, Pacer(p)};
    m_segments.push_back(std::move(seg));
    return end_s();
}

double PacerTimeline::AppendNatural(double duration_s, int step) {
    BreathPattern natural;
    natural.id = "natural";
    natural.name = "Natural breathing";
    natural.paced = false;
    natural.length_s = 0.0;
    TimelineSegment seg{end_s(), end_s() + std::max(0.0, duration_s), std::ceil(end_cycles() - 1e-9), false, step,
                        Pacer(natural)};
    m_segments.push_back(std::move(seg));
    return end_s();
}

const TimelineSegment* PacerTimeline::SegmentAt(double t_s) const {
    if (m_segments.empty()) return nullptr;
    // The last segment whose start is <= t.
    auto it = std::upper_bound(m_segments.begin(), m_segments.end(), t_s,
                               [](double t, const TimelineSegment& s) { return t < s.t0_s; });
    if (it == m_segments.begin()) return &m_segments.front();
    return &*(it - 1);
}

PacerState PacerTimeline::At(double t_s) const {
    PacerState st;
    st.elapsed_s = t_s;
    const TimelineSegment* seg = SegmentAt(t_s);
    if (!seg) {
        st.paced = false;
        st.phase = PhaseKind::Natural;
        st.volume = 0.0;
        return st;
    }
    if (t_s >= end_s() || !seg->paced) {
        st = seg->pacer.At(0.0);
        st.paced = false;
        st.phase = PhaseKind::Natural;
        // Paced stretches end after a whole breath, empty (end of the exhale): natural stretches
        // show that resting volume, so the orb never jumps at a change of step.
        st.volume = 0.0;
        st.volume_per_s = 0.0;
        st.rate_bpm = 0.0;
        st.cycles = t_s >= end_s() ? end_cycles() : seg->cycles0;
        st.breath_count = static_cast<std::int64_t>(std::floor(st.cycles + 1e-9));
        st.elapsed_s = t_s;
        st.remaining_s = 0.0;
        st.finished = false;
        return st;
    }
    st = seg->pacer.At(t_s - seg->t0_s);
    st.cycles += seg->cycles0;
    st.breath_count += static_cast<std::int64_t>(seg->cycles0);
    // A phase never outlasts its segment: the next segment starts a new breath there.
    st.phase_remaining_s = std::min(st.phase_remaining_s, seg->t1_s - t_s);
    st.elapsed_s = t_s;
    st.remaining_s = 0.0;
    st.finished = false;
    return st;
}

std::optional<double> PacerTimeline::BreathStart(std::int64_t k) const {
    const double c = static_cast<double>(k);
    for (const TimelineSegment& s : m_segments) {
        if (!s.paced) continue;
        const double c1 = s.cycles0 + s.pacer.CyclesAt(s.t1_s - s.t0_s);
        if (c >= s.cycles0 - 1e-9 && c <= c1 + 1e-9) return s.t0_s + s.pacer.TimeOfCycles(std::max(0.0, c - s.cycles0));
    }
    return std::nullopt;
}

}  // namespace attune::core
