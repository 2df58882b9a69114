#include "attune/core/heart_pipeline.hpp"

#include <algorithm>
#include <cmath>

#include "attune/devices/formats.hpp"

namespace attune::core {

namespace {
constexpr double kSensorBeatFreshS = 5.0;  // sensor beats count as "being sent" for this long
constexpr double kRateChangeTolerance = 0.05;
// Sample stamps that jump this far from the detector's own sample-count clock mean a gap in the
// stream (an unplug, a reconnect, a burst of stale bytes): the detector starts afresh there.
constexpr double kDetectorGapS = 1.0;
}  // namespace

HeartPipeline::HeartPipeline(PipelineConfig config)
    : m_config(config),
      m_base(config),
      m_rolling(config.rolling_window_s),
      m_spectrum(config.spectrum_window_s, 1.0) {
    m_new_raw.reserve(64);
    m_new_classified.reserve(64);
    m_new_breaths.reserve(16);
    m_stamps.assign(kStampRing, 0.0);
}

std::string HeartPipeline::BeatSourceDescription() const {
    if (m_metrics.using_sensor_beats) return "intervals reported by the sensor";
    return m_config.signal == SignalKind::Ecg ? "Attune's ECG detector (Pan-Tompkins)"
                                              : "Attune's PPG detector (Elgendi)";
}

void HeartPipeline::Process(const devices::DeviceEvent& e, double sample_rate_hz) {
    switch (e.kind) {
        case devices::EventKind::Sample:
            m_metrics.leads_off = false;
            OnSample(e.t_s, e.value, sample_rate_hz);
            break;
        case devices::EventKind::Beat:
            m_last_sensor_beat_s = e.t_s;
            if (m_config.beat_source != BeatSourceMode::Detector) OnBeat(e.t_s, e.value, true);
            break;
        case devices::EventKind::LeadsOff:
            m_metrics.leads_off = true;
            // The detector would see a step: start it afresh when the signal returns.
            m_ppg.reset();
            m_ecg.reset();
            break;
        case devices::EventKind::Format:
            OnFormat(e);
            break;
        case devices::EventKind::Status:
            break;
    }
}

void HeartPipeline::OnFormat(const devices::DeviceEvent& e) {
    if (!m_config.follow_format) return;
    const auto format = devices::FormatFromId(e.text);
    SignalKind signal = m_base.signal;
    dsp::PpgDetector::Polarity polarity = m_base.polarity;
    if (format) {
        signal = *format == devices::SensorFormat::Ad8232 ? SignalKind::Ecg : SignalKind::Ppg;
        if (e.value > 0.5 && polarity == dsp::PpgDetector::Polarity::Auto) polarity = dsp::PpgDetector::Polarity::Inverted;
    }
    if (signal == m_config.signal && polarity == m_config.polarity) return;
    m_config.signal = signal;
    m_config.polarity = polarity;
    m_ppg.reset();  // rebuilt for the new kind at the next sample
    m_ecg.reset();
}

void HeartPipeline::OnSample(double t_s, double value, double sample_rate_hz) {
    if (!(sample_rate_hz > 0.0)) return;
    const bool rate_changed = m_detector_rate_hz <= 0.0 ||
                              std::abs(sample_rate_hz - m_detector_rate_hz) > kRateChangeTolerance * m_detector_rate_hz;
    bool have_detector = m_config.signal == SignalKind::Ecg ? m_ecg != nullptr : m_ppg != nullptr;
    if (have_detector && !rate_changed) {
        // The detector counts samples; the stream's stamps follow session time. Small
        // differences (a rate estimate a little off, sample clock re-anchors) are followed by
        // m_detector_track_s; a jump (a reconnect after an unplug, a burst of stale bytes)
        // restarts the detector, whose intervals cannot span it.
        const double expected_s = m_detector_t0_s + m_detector_track_s +
                                  static_cast<double>(m_detector_samples) / m_detector_clock_hz;
        const double offset_s = t_s - expected_s;
        if (std::abs(offset_s) > kDetectorGapS) have_detector = false;
        else m_detector_track_s += offset_s;
    }
    if (rate_changed || !have_detector) {
        m_detector_rate_hz = sample_rate_hz;
        m_detector_t0_s = t_s;
        m_detector_track_s = 0.0;
        m_detector_samples = 0;
        m_last_detector_beat_s = -1.0;
        if (m_config.signal == SignalKind::Ecg) {
            dsp::EcgDetector::Params p;
            p.sample_rate_hz = std::clamp(sample_rate_hz, 100.0, 1000.0);
            m_detector_clock_hz = p.sample_rate_hz;  // the detector's times are samples / this
            m_ecg = std::make_unique<dsp::EcgDetector>(p);
        } else {
            dsp::PpgDetector::Params p;
            p.sample_rate_hz = std::clamp(sample_rate_hz, 25.0, 500.0);
            p.polarity = m_config.polarity;
            m_detector_clock_hz = p.sample_rate_hz;
            m_ppg = std::make_unique<dsp::PpgDetector>(p);
        }
        dsp::SignalQuality::Params q;
        q.sample_rate_hz = sample_rate_hz;
        q.kind = m_config.signal == SignalKind::Ecg ? dsp::SignalQuality::Kind::Ecg : dsp::SignalQuality::Kind::Ppg;
        q.flat_p2p = 2.0;  // ADC counts: a few LSB of a 10-bit converter
        m_quality = std::make_unique<dsp::SignalQuality>(q);
    }
    m_metrics.sample_rate_hz = m_detector_rate_hz;

    m_stamps[static_cast<std::size_t>(m_detector_samples) & (kStampRing - 1)] = t_s;
    ++m_detector_samples;
    std::optional<dsp::Beat> beat = m_config.signal == SignalKind::Ecg ? m_ecg->process(value) : m_ppg->process(value);
    if (auto report = m_quality->process(value)) {
        report->t_s += m_detector_t0_s;
        m_metrics.quality = report;
    }
    if (!beat) return;
    // The interval: sample count / rate on the detector's own time line (exact in sensor time,
    // also across a burst after a host stall). The beat's session time: the stamp of its sample
    // (the sample clock's anchor and measured rate), so a slightly wrong rate estimate does not
    // make beat times drift away from the session clock; t0 + index / rate (+ the tracked offset)
    // when the sample has left the ring.
    const double detector_t_s = m_detector_t0_s + beat->t_s;
    double beat_t_s = detector_t_s + m_detector_track_s;
    const auto index = static_cast<std::int64_t>(std::llround(beat->t_s * m_detector_clock_hz));
    if (index >= 0 && index < m_detector_samples && m_detector_samples - index <= static_cast<std::int64_t>(kStampRing))
        beat_t_s = m_stamps[static_cast<std::size_t>(index) & (kStampRing - 1)];
    m_quality->notify_beat(beat->t_s);
    const double ibi_ms = m_last_detector_beat_s >= 0.0 ? (detector_t_s - m_last_detector_beat_s) * 1000.0 : 0.0;
    m_last_detector_beat_s = detector_t_s;
    const bool sensor_active = m_config.beat_source == BeatSourceMode::Sensor ||
                               (m_config.beat_source == BeatSourceMode::Auto && beat_t_s - m_last_sensor_beat_s < kSensorBeatFreshS);
    if (!sensor_active) OnBeat(beat_t_s, ibi_ms, false);
}

void HeartPipeline::OnBeat(double t_s, double ibi_ms, bool from_sensor) {
    if (!std::isfinite(t_s) || !std::isfinite(ibi_ms) || ibi_ms < 0.0) return;
    m_metrics.using_sensor_beats = from_sensor;
    RawBeat raw{t_s, ibi_ms, 0.0, from_sensor};
    const bool plausible = ibi_ms >= dsp::kMinPlausibleIbiMs && ibi_ms <= dsp::kMaxPlausibleIbiMs;
    if (plausible) {
        raw.hr_bpm = 60000.0 / ibi_ms;
        m_metrics.last_hr_bpm = raw.hr_bpm;
    }
    m_metrics.last_beat_t_s = t_s;
    ++m_metrics.raw_beats;
    m_new_raw.push_back(raw);
    if (ibi_ms > 0.0) TakeArtifactOutput(m_artifacts.push(t_s, ibi_ms));
}

void HeartPipeline::TakeArtifactOutput(const dsp::ArtifactStream::Output& out) {
    for (const auto& c : out.classified) m_new_classified.push_back({c.t_s, c.ibi_ms, c.cls});
    for (const auto& c : out.corrected) {
        m_new_corrected.push_back(c.ibi_ms);
        m_rolling.push(c.ibi_ms);
        m_spectrum.push(c.t_s, c.ibi_ms);
        m_coherence.push(c.t_s, c.ibi_ms);
        const dsp::Beat beat = c.to_beat();
        if (auto br = m_breathing.push(beat)) m_metrics.breathing = br;
        m_phase.push_beat(beat);
        TakeBreaths(m_rsa.push_beat(beat));
        // Not pacing: cut breath cycles from the breathing estimate so RSA is still measured.
        const bool pacing = c.t_s - m_pacer_breath_seen_s < 30.0;
        if (!pacing && m_metrics.breathing && m_metrics.breathing->confidence >= 0.4) {
            const double period_s = 60.0 / m_metrics.breathing->rate_bpm;
            if (m_own_breath_start_s < 0.0) m_own_breath_start_s = c.t_s;
            while (c.t_s - m_own_breath_start_s >= period_s) {
                TakeBreaths(m_rsa.add_breath({m_own_breath_start_s, m_own_breath_start_s + period_s}));
                m_own_breath_start_s += period_s;
            }
        }
    }
    m_metrics.artifacts = m_artifacts.counts();
    if (!out.corrected.empty()) m_metrics.time = m_rolling.metrics();
}

void HeartPipeline::TakeBreaths(std::span<const dsp::BreathRsa> breaths) {
    for (const auto& b : breaths) {
        m_new_breaths.push_back(b);
        if (b.valid) m_metrics.last_rsa = b;
    }
}

void HeartPipeline::PushPacerVolume(double t_s, double volume) { m_phase.push_reference(t_s, volume); }

void HeartPipeline::PushPacerBreath(double start_s, double end_s) {
    m_pacer_breath_seen_s = end_s;
    m_own_breath_start_s = -1.0;
    TakeBreaths(m_rsa.add_breath({start_s, end_s}));
}

void HeartPipeline::Update(double now_t_s, double pacer_rate_bpm) {
    m_metrics.spectrum = m_spectrum.update(now_t_s);
    m_metrics.coherence = m_coherence.update(now_t_s);
    m_pacer_rate_bpm = pacer_rate_bpm;
    if (pacer_rate_bpm > 0.0 && now_t_s - m_last_phase_update_s >= 1.0) {
        m_last_phase_update_s = now_t_s;
        const dsp::HrPhase ph = m_phase.estimate(pacer_rate_bpm / 60.0);
        if (ph.valid) m_metrics.phase = ph;
        else m_metrics.phase.reset();
    } else if (pacer_rate_bpm <= 0.0) {
        m_metrics.phase.reset();
    }
}

void HeartPipeline::Flush() {
    TakeArtifactOutput(m_artifacts.flush());
    TakeBreaths(m_rsa.flush());
}

}  // namespace attune::core
