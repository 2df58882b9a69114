#include "attune/core/live_session.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "attune/core/session_history.hpp"
#include "attune/devices/simulated_heart.hpp"
#include "attune/dsp/types.hpp"

namespace attune::core {

namespace {
constexpr double kVolumeStepS = 0.05;      // breathing curve history resolution (20 Hz)
constexpr double kWaveformHistoryS = 10.0;  // raw waveform kept for the oscilloscope
}  // namespace

const char* SessionPhaseName(SessionPhase p) {
    switch (p) {
        case SessionPhase::Baseline: return "baseline";
        case SessionPhase::Practice: return "practice";
        case SessionPhase::Recovery: return "recovery";
    }
    return "practice";
}

LiveSession::LiveSession(BreathPattern pattern, std::unique_ptr<devices::Source> source, PipelineConfig pipeline)
    : m_pacer(std::move(pattern)), m_source(std::move(source)), m_pipeline(pipeline) {
    m_state = m_pacer.At(0.0);
    // The simulated heart breathes with this session's pacer. LiveSession is neither copied
    // nor moved (it is held by pointer), so capturing `this` is safe.
    if (auto* sim = m_source->simulated_heart())
        sim->SetTarget([this](double t_s) { return TargetVolumeAt(t_s); });
}

std::optional<double> LiveSession::TargetVolumeAt(double session_t_s) const {
    if (!m_pacer.pattern().paced || !m_running) return std::nullopt;
    if (m_recovery_start_s && session_t_s >= *m_recovery_start_s) return std::nullopt;
    if (m_recovery_at_s && session_t_s >= *m_recovery_at_s) return std::nullopt;
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
    if (m_recorder) m_recorder->AppendEvent(std::max(m_t_s, now_s - m_origin_s), m_clock.paused() ? "pause" : "resume");
}

void LiveSession::Stop(double now_s) {
    if (!m_running) return;
    Update(now_s);
    m_pipeline.Flush();
    DrainPipeline();
    m_running = false;
    if (m_recorder) {
        m_recorder->AppendEvent(m_t_s, "stop");
        // The beat source is only known once beats came (sensor intervals or our detector).
        m_meta.beat_source = m_pipeline.BeatSourceDescription();
        m_recorder->UpdateMeta(m_meta);
        m_recorder->Close(RecordSummary());
    }
}

bool LiveSession::StartRecording(const std::filesystem::path& folder, SessionMeta meta) {
    m_recorder = std::make_unique<Recorder>();
    meta.source = m_source->Describe();
    meta.beat_source = m_pipeline.BeatSourceDescription();
    meta.pattern = PatternToJson(m_pacer.pattern());
    m_meta = meta;
    m_recording_folder = folder;
    if (!m_recorder->Open(folder, meta)) return false;
    m_recorder->AppendEvent(m_t_s, "start", m_pacer.pattern().name);
    m_recorder->AppendEvent(m_t_s, "phase", "baseline");
    return true;
}

SessionPhase LiveSession::phase() const {
    if (m_recovery_start_s) return SessionPhase::Recovery;
    return m_t_s < kBaselineS ? SessionPhase::Baseline : SessionPhase::Practice;
}

void LiveSession::RecordPhase(SessionPhase p, const std::string& text, double t_s) {
    if (!m_recorder) return;
    std::string t = SessionPhaseName(p);
    if (!text.empty()) t.append(": ").append(text);
    m_recorder->AppendEvent(t_s, "phase", t);
}

void LiveSession::StartRecovery(const std::string& reason) { StartRecoveryAt(m_t_s, reason); }

void LiveSession::StartRecoveryAt(double t_s, const std::string& reason) {
    if (!m_running || m_recovery_start_s) return;
    m_recovery_start_s = std::min(t_s, m_t_s);
    m_recovery_breaths = m_state.breath_count;
    m_state = PacerAt(m_pacer_t_s, m_t_s);
    RecordPhase(SessionPhase::Recovery, reason, *m_recovery_start_s);
}

PacerState LiveSession::PacerAt(double pacer_t_s, double t_s) const {
    PacerState s = m_pacer.At(pacer_t_s);
    const std::optional<double> from = m_recovery_start_s ? m_recovery_start_s : m_recovery_at_s;
    if (from && t_s >= *from) {
        s.paced = false;
        s.phase = PhaseKind::Natural;
        s.volume = 0.5;
        s.volume_per_s = 0.0;
        s.rate_bpm = 0.0;
        if (m_recovery_start_s) s.breath_count = m_recovery_breaths;
        s.phase_remaining_s = 0.0;
    }
    return s;
}

std::string LiveSession::SetRatings(std::optional<int> before, std::optional<int> after, const std::string& note) {
    for (const auto& r : {before, after})
        if (r)
            if (std::string e = ValidateDistress(*r); !e.empty()) return "Cannot save the ratings: " + e + ".";
    if (note.size() > kMaxNoteBytes)
        return "Cannot save the note: it is longer than " + std::to_string(kMaxNoteBytes) + " characters.";
    m_meta.distress_before = before;
    m_meta.distress_after = after;
    m_meta.note = note;
    if (!m_recorder) return {};
    if (m_recorder->is_open()) {
        if (!m_recorder->UpdateMeta(m_meta)) return m_recorder->error();
        return {};
    }
    // Stopped: the recorder wrote its final session.json; change only the ratings and note.
    return SaveJournal(m_recording_folder, before, after, note);
}

RecordedSummary LiveSession::RecordSummary() const {
    RecordedSummary r;
    const SessionSummary s = Summary();
    r.duration_s = s.duration_s;
    r.beats = s.beats;
    if (s.beats > 0) r.hr_mean_bpm = s.hr_mean_bpm;
    if (s.hrv.valid) {
        r.rmssd_ms = s.hrv.rmssd_ms;
        r.sdnn_ms = s.hrv.sdnn_ms;
    }
    double coh_sum = 0.0, coh_peak = 0.0;
    std::size_t coh_n = 0, coh_high = 0, follow_n = 0, follow_ok = 0;
    std::vector<double> rates;
    for (const auto& h : m_history) {
        if (std::isfinite(h.coherence)) {
            coh_sum += h.coherence;
            coh_peak = std::max(coh_peak, h.coherence);
            ++coh_n;
            coh_high += h.coherence >= 1.0;
        }
        if (std::isfinite(h.breathing_rate_bpm)) {
            rates.push_back(h.breathing_rate_bpm);
            if (h.pacer_rate_bpm > 0.0) {
                ++follow_n;
                follow_ok += std::abs(h.breathing_rate_bpm - h.pacer_rate_bpm) <= 1.0;
            }
        }
    }
    if (coh_n > 0) {
        r.coherence_mean = coh_sum / static_cast<double>(coh_n);
        r.coherence_peak = coh_peak;
        r.high_coherence_pct = 100.0 * static_cast<double>(coh_high) / static_cast<double>(coh_n);
    }
    if (!rates.empty()) {
        std::nth_element(rates.begin(), rates.begin() + static_cast<long>(rates.size() / 2), rates.end());
        r.breathing_rate_bpm = rates[rates.size() / 2];
    }
    if (follow_n > 0) r.pacer_following_pct = 100.0 * static_cast<double>(follow_ok) / static_cast<double>(follow_n);
    if (m_rsa_count > 0) r.rsa_mean_bpm = m_rsa_sum_bpm / static_cast<double>(m_rsa_count);
    r.breaths = static_cast<std::size_t>(std::max<std::int64_t>(0, m_state.breath_count));
    r.artifacts_flagged = s.artifacts.flagged();
    r.markers = m_markers.size();
    return r;
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
        if (m_recorder && m_last_volume_t_s + 1e-9 >= m_next_pacer_row_t_s) {
            // 10 rows a second of the pacer as the user saw it.
            const double pacer_t = m_clock.ActiveSeconds(m_origin_s + m_last_volume_t_s);
            m_recorder->AppendPacer(m_last_volume_t_s, PacerAt(pacer_t, m_last_volume_t_s), m_clock.paused());
            m_next_pacer_row_t_s += 0.1;
        }
    }
    m_t_s = t_s;
    m_pacer_t_s = m_clock.ActiveSeconds(now_s);
    const std::int64_t breaths_before = m_state.breath_count;
    m_state = PacerAt(m_pacer_t_s, t_s);
    if (!m_practice_recorded && t_s >= kBaselineS) {
        m_practice_recorded = true;
        if (!m_recovery_start_s) RecordPhase(SessionPhase::Practice, {}, kBaselineS);
    }
    if (m_recovery_at_s && t_s >= *m_recovery_at_s && !m_recovery_start_s)
        StartRecoveryAt(*m_recovery_at_s, "scheduled");
    // The pattern's length is over: the session goes on as recovery until it is stopped. It
    // began when pacer time reached the length (session time = pacer time + time paused).
    if (m_state.finished && !m_recovery_start_s && m_pacer.pattern().paced)
        StartRecoveryAt(m_pacer.pattern().length_s + (t_s - m_pacer_t_s), "pattern finished");
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
        if (m_recorder) {
            auto opt = [](double v) { return std::isfinite(v) ? std::optional<double>(v) : std::nullopt; };
            LiveMetricsRow row;
            row.t_s = h.t_s;
            row.hr_bpm = opt(h.hr_bpm);
            row.rmssd_ms = opt(h.rmssd_ms);
            if (m.time.valid) row.sdnn_ms = m.time.sdnn_ms;
            row.coherence = opt(h.coherence);
            if (m.spectrum.valid) {
                row.lf_ms2 = m.spectrum.lf_ms2;
                row.hf_ms2 = m.spectrum.hf_ms2;
                row.lf_peak_hz = m.spectrum.lf_peak_hz;
            }
            row.breathing_rate_bpm = opt(h.breathing_rate_bpm);
            if (m.last_rsa) row.rsa_bpm = m.last_rsa->rsa_bpm;
            row.phase_lag_deg = opt(h.phase_lag_deg);
            if (m.leads_off) row.quality = "leads_off";
            else if (m.quality) row.quality = dsp::to_string(m.quality->state);
            m_recorder->AppendMetrics(row);
        }
        m_next_history_t_s += 1.0;
    }
    if (m_recorder) m_recorder->Tick(t_s);
    Trim();
}

void LiveSession::OnEvent(const devices::DeviceEvent& e) {
    if (e.kind == devices::EventKind::Sample) {
        m_wave.push_back({e.t_s, e.value});
        if (m_recorder) m_recorder->AppendSample(e.t_s, e.value);
    }
    if (e.kind == devices::EventKind::Status) m_last_status = e.text;
    if (e.kind == devices::EventKind::Status && m_recorder) {
        // Device lost / back and other sensor messages go into the session's events.
        const bool lost = e.text.find("lost") != std::string::npos;
        const bool back = e.text.find("back") != std::string::npos;
        m_recorder->AppendEvent(e.t_s, lost ? "device_lost" : back ? "device_back" : "status", e.text);
    }
    if (e.kind == devices::EventKind::LeadsOff && m_recorder) {
        m_recorder->AppendEvent(e.t_s, "status", "leads off");
    }
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
        if (b.valid) {
            m_breaths.push_back(b);
            m_rsa_sum_bpm += b.rsa_bpm;
            ++m_rsa_count;
        }
    breaths.clear();
    auto& classified = m_pipeline.new_classified_beats();
    if (m_recorder)
        for (const auto& c : classified)
            m_recorder->AppendBeat(c.t_s, c.ibi_ms, c.cls, c.ibi_ms > 0.0 ? 60000.0 / c.ibi_ms : 0.0);
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
    if (m_recorder) m_recorder->AppendEvent(m_t_s, "marker", text);
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
