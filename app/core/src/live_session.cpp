#include "attune/core/live_session.hpp"

#include <cmath>
#include <limits>

#include "attune/devices/simulated_heart.hpp"
#include "attune/dsp/types.hpp"

namespace attune::core {

namespace {
constexpr double kVolumeStepS = 0.05;      // breathing curve history resolution (20 Hz)
constexpr double kWaveformHistoryS = 10.0;  // raw waveform kept for the oscilloscope
}  // namespace

LiveSession::LiveSession(BreathPattern pattern, std::unique_ptr<devices::Source> source, PipelineConfig pipeline)
    : m_pacer(std::move(pattern)), m_source(std::move(source)), m_pipeline(pipeline) {
    m_state = m_pacer.At(0.0);
    // The simulated heart breathes with this session's pacer. LiveSession is neither copied
    // nor moved (it is held by pointer), so capturing `this` is safe.
    if (auto* sim = dynamic_cast<devices::SimulatedHeart*>(m_source.get()))
        sim->SetTarget([this](double t_s) { return TargetVolumeAt(t_s); });
}

std::optional<double> LiveSession::TargetVolumeAt(double session_t_s) const {
    if (!m_pacer.pattern().paced || !m_running) return std::nullopt;
    return m_pacer.At(m_clock.ActiveSeconds(m_origin_s + session_t_s)).volume;
}

void LiveSession::Start(double now_s) {
    m_running = true;
    m_origin_s = now_s;
    m_clock.Start(now_s);
    m_t_s = 0.0;
    m_pacer_t_s = 0.0;
    m_state = m_pacer.At(0.0);
}

void LiveSession::TogglePause(double now_s) {
    if (!m_running) return;
    m_clock.Toggle(now_s);
}

void LiveSession::Stop(double now_s) {
    if (!m_running) return;
    Update(now_s);
    m_pipeline.Flush();
    DrainPipeline();
    m_running = false;
}

void LiveSession::Update(double now_s) {
    if (!m_running) return;
    const double t_s = std::max(m_t_s, now_s - m_origin_s);
    // Record the breathing curve on a fixed grid of session time (not per frame), so the
    // history is the same however fast frames come.
    if (m_last_volume_t_s < 0.0) m_last_volume_t_s = -kVolumeStepS;
    while (m_last_volume_t_s + kVolumeStepS <= t_s) {
        m_last_volume_t_s += kVolumeStepS;
        const auto v = TargetVolumeAt(m_last_volume_t_s);
        m_volume.push_back({m_last_volume_t_s, v ? *v : 0.5});
        if (v) m_pipeline.PushPacerVolume(m_last_volume_t_s, *v);
    }
    m_t_s = t_s;
    m_pacer_t_s = m_clock.ActiveSeconds(now_s);
    const std::int64_t breaths_before = m_state.breath_count;
    m_state = m_pacer.At(m_pacer_t_s);
    if (m_state.paced && !m_clock.paused() && m_state.breath_count > breaths_before) {
        // A breath just completed: its cycle in session time (pauses shift pacer time, so map
        // the breath's pacer-time bounds through the offset paused so far).
        const double offset_s = t_s - m_pacer_t_s;
        const double start = m_pacer.PhaseStartTime(m_state.breath_count - 1, 0) + offset_s;
        const double end = m_pacer.PhaseStartTime(m_state.breath_count, 0) + offset_s;
        m_pipeline.PushPacerBreath(start, end);
    }

    m_events.clear();
    m_source->Poll(t_s, m_events);
    for (const auto& e : m_events) OnEvent(e);
    const double pacer_rate = m_state.paced && !m_clock.paused() ? m_state.rate_bpm : 0.0;
    m_pipeline.Update(t_s, pacer_rate);
    DrainPipeline();
    // One metrics sample per second of session time (on the time grid, not per frame).
    while (m_next_history_t_s <= t_s) {
        const LiveMetrics& m = m_pipeline.metrics();
        const double nan = std::numeric_limits<double>::quiet_NaN();
        MetricsSample h;
        h.t_s = m_next_history_t_s;
        h.hr_bpm = m.last_hr_bpm > 0.0 && t_s - m.last_beat_t_s < 5.0 ? m.last_hr_bpm : nan;
        h.rmssd_ms = m.time.valid ? m.time.rmssd_ms : nan;
        h.coherence = m.coherence.valid ? m.coherence.score : nan;
        h.breathing_rate_bpm = m.breathing && m.breathing->confidence >= 0.4 ? m.breathing->rate_bpm : nan;
        h.pacer_rate_bpm = pacer_rate;
        h.phase_lag_deg = m.phase ? m.phase->phase_deg : nan;
        m_history.push_back(h);
        m_next_history_t_s += 1.0;
    }
    Trim();
}

void LiveSession::OnEvent(const devices::DeviceEvent& e) {
    if (e.kind == devices::EventKind::Sample) m_wave.push_back({e.t_s, e.value});
    m_pipeline.Process(e, m_source->SampleRateHz());
}

void LiveSession::DrainPipeline() {
    for (const RawBeat& r : m_pipeline.new_raw_beats()) {
        if (r.ibi_ms <= 0.0) continue;  // first beat of a stream: no interval yet
        SessionBeat b;
        b.t_s = r.t_s;
        b.ibi_ms = r.ibi_ms;
        b.hr_bpm = r.hr_bpm;
        b.accepted = r.hr_bpm > 0.0;
        if (b.accepted) {
            ++m_accepted;
            m_hr_sum += b.hr_bpm;
        } else {
            ++m_rejected;
        }
        m_beats.push_back(b);
    }
    m_pipeline.new_raw_beats().clear();
    auto& breaths = m_pipeline.new_breaths();
    for (const auto& b : breaths)
        if (b.valid) m_breaths.push_back(b);
    breaths.clear();
    auto& classified = m_pipeline.new_classified_beats();
    m_classified.insert(m_classified.end(), classified.begin(), classified.end());
    classified.clear();
    auto& corrected = m_pipeline.new_corrected_ibi_ms();
    m_corrected_ibi_ms.insert(m_corrected_ibi_ms.end(), corrected.begin(), corrected.end());
    corrected.clear();
}

void LiveSession::Trim() {
    const double keep_from = m_t_s - kHistoryS;
    while (!m_beats.empty() && m_beats.front().t_s < keep_from) m_beats.pop_front();
    while (!m_volume.empty() && m_volume.front().t_s < keep_from) m_volume.pop_front();
    while (!m_breaths.empty() && m_breaths.front().end_s < keep_from) m_breaths.pop_front();
    while (!m_history.empty() && m_history.front().t_s < m_t_s - kMetricsHistoryS) m_history.pop_front();
    const double wave_from = m_t_s - kWaveformHistoryS;
    while (!m_wave.empty() && m_wave.front().t_s < wave_from) m_wave.pop_front();
}

BaselineBand LiveSession::Baseline(double MetricsSample::*field) const {
    BaselineBand band;
    if (m_t_s < kBaselineS) return band;
    double sum = 0.0, sq = 0.0;
    std::size_t n = 0;
    for (const auto& h : m_history) {
        if (h.t_s > kBaselineS) break;
        const double v = h.*field;
        if (!std::isfinite(v)) continue;
        sum += v;
        sq += v * v;
        ++n;
    }
    if (n < 10) return band;
    band.ready = true;
    band.mean = sum / static_cast<double>(n);
    band.sd = std::sqrt(std::max(0.0, sq / static_cast<double>(n) - band.mean * band.mean));
    return band;
}

void LiveSession::AddMarker(const std::string& text) {
    if (!m_running) return;
    m_markers.emplace_back(m_t_s, text);
}

SessionSummary LiveSession::Summary() const {
    SessionSummary s;
    s.duration_s = m_t_s;
    s.breaths = m_state.breath_count;
    s.beats = m_accepted;
    s.rejected_beats = m_rejected;
    s.hr_mean_bpm = m_accepted ? m_hr_sum / static_cast<double>(m_accepted) : 0.0;
    s.source = m_source->Describe();
    s.hrv = dsp::compute_time_domain(m_corrected_ibi_ms);
    s.artifacts = m_pipeline.metrics().artifacts;
    s.beat_source = m_pipeline.BeatSourceDescription();
    s.pattern_id = m_pacer.pattern().id;
    return s;
}

}  // namespace attune::core
