// The heart pipeline: device events in, beats and live HRV out. UI-free and deterministic.
//
//   Sample  ──> PPG / ECG detector ─┐            (source: "detector")
//   Beat (sensor-reported IBI) ─────┴─> beat selection ─> raw beats (immediate: HR trace)
//                                                     └─> ArtifactStream (Lipponen & Tarvainen,
//                                                         2-beat look-ahead) ─> classified beats
//                                                         └─> corrected intervals ─> rolling time
//                                                             domain (60 s), spectrum (5 min),
//                                                             coherence (64 s)
//   Sample  ──> SignalQuality (one report per second)
//
// Waveform kind: with follow_format (default) a Format event from the decoder chooses the
// detector: AD8232 -> ECG (Pan-Tompkins), anything else -> PPG; an optical MAX3010x channel
// (Format value 1: the pulse is a dip) sets the PPG detector's polarity to inverted. The
// detector restarts when the choice changes.
// Beat selection: sensor-reported intervals (PulseSensor Q lines, ...) are used while the
// sensor sends them (the last one less than 5 s ago) unless the user chose the app's own
// detector; otherwise the detector's beats. The source in use is reported.
// Times: t_s is session time. A detector beat is placed at the session-time stamp of its sample
// (the source's sample clock); its interval is the sample count between beats / rate, which
// stays right when stamps jump (the sample clock re-anchoring after a host stall).
// Recomputation of spectrum and coherence happens in Update(), at most once per second.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "attune/devices/source.hpp"
#include "attune/dsp/artifacts.hpp"
#include "attune/dsp/coherence.hpp"
#include "attune/dsp/ecg_detector.hpp"
#include "attune/dsp/hrv_freq.hpp"
#include "attune/dsp/hrv_time.hpp"
#include "attune/dsp/ppg_detector.hpp"
#include "attune/dsp/rsa.hpp"
#include "attune/dsp/signal_quality.hpp"

namespace attune::core {

enum class SignalKind { Ppg, Ecg };
enum class BeatSourceMode { Auto, Detector, Sensor };

struct PipelineConfig {
    SignalKind signal = SignalKind::Ppg;
    BeatSourceMode beat_source = BeatSourceMode::Auto;
    dsp::PpgDetector::Polarity polarity = dsp::PpgDetector::Polarity::Auto;
    bool follow_format = true;  // Format events may switch signal and polarity (see above)
    double rolling_window_s = 60.0;
    double spectrum_window_s = 300.0;
};

// A beat as soon as it is known (before artifact classification).
struct RawBeat {
    double t_s = 0.0;
    double ibi_ms = 0.0;   // 0 for the first beat of a stream
    double hr_bpm = 0.0;   // 0 when the interval is implausible or unknown
    bool from_sensor = false;
};

// An interval after artifact classification (2 beats later).
struct ClassifiedBeat {
    double t_s = 0.0;
    double ibi_ms = 0.0;
    dsp::IntervalClass cls = dsp::IntervalClass::ok;
};

struct LiveMetrics {
    dsp::TimeDomainMetrics time;            // rolling window of corrected intervals
    dsp::FrequencyDomainMetrics spectrum;   // last spectrum_window_s of corrected intervals
    dsp::CoherenceResult coherence;         // last 64 s
    std::optional<dsp::QualityReport> quality;
    dsp::ArtifactCounts artifacts;
    double last_hr_bpm = 0.0;
    double last_beat_t_s = -1.0;
    std::size_t raw_beats = 0;
    bool using_sensor_beats = false;
    double sample_rate_hz = 0.0;
    bool leads_off = false;
    std::optional<dsp::BreathingRate> breathing;  // from the heart signal alone
    std::optional<dsp::BreathRsa> last_rsa;       // peak-to-trough of the last complete breath
    std::optional<dsp::HrPhase> phase;            // HR vs the pacer's volume at the pacer rate
};

class HeartPipeline {
public:
    explicit HeartPipeline(PipelineConfig config = {});

    // Feeds one device event. `sample_rate_hz` is the source's current (nominal or measured)
    // waveform rate; the detector is (re)built when it first becomes known or changes by > 5 %.
    void Process(const devices::DeviceEvent& e, double sample_rate_hz);
    // The pacer's breathing (when pacing): target lung volume samples (>= 4 Hz) and completed
    // breath cycles, for the HR phase lag and RSA per breath. Without them, RSA uses breath
    // cycles derived from the breathing-rate estimate.
    void PushPacerVolume(double t_s, double volume);
    void PushPacerBreath(double start_s, double end_s);
    // Recomputes spectrum, coherence and phase (at most once per second of session time).
    // `pacer_rate_bpm` > 0 while pacing.
    void Update(double now_t_s, double pacer_rate_bpm = 0.0);
    // End of stream: release the beats still waiting for artifact look-ahead.
    void Flush();

    const LiveMetrics& metrics() const { return m_metrics; }
    const PipelineConfig& config() const { return m_config; }
    std::string BeatSourceDescription() const;

    // Beats produced since the last call; the caller moves them out (recorder, plots).
    std::vector<RawBeat>& new_raw_beats() { return m_new_raw; }
    std::vector<ClassifiedBeat>& new_classified_beats() { return m_new_classified; }
    std::vector<dsp::BreathRsa>& new_breaths() { return m_new_breaths; }
    std::vector<double>& new_corrected_ibi_ms() { return m_new_corrected; }

private:
    void OnFormat(const devices::DeviceEvent& e);
    void OnSample(double t_s, double value, double sample_rate_hz);
    void OnBeat(double t_s, double ibi_ms, bool from_sensor);
    void TakeArtifactOutput(const dsp::ArtifactStream::Output& out);
    void TakeBreaths(std::span<const dsp::BreathRsa> breaths);

    PipelineConfig m_config;
    // On the heap: large, and rebuilt when the sample rate changes.
    std::unique_ptr<dsp::PpgDetector> m_ppg;
    std::unique_ptr<dsp::EcgDetector> m_ecg;
    std::unique_ptr<dsp::SignalQuality> m_quality;
    double m_detector_rate_hz = 0.0;
    PipelineConfig m_base;  // the configuration before any Format event
    double m_detector_t0_s = 0.0;
    double m_detector_clock_hz = 0.0;      // the rate the detector converts sample counts with
    double m_detector_track_s = 0.0;       // stamps minus the detector's sample-count clock (followed)
    double m_last_detector_beat_s = -1.0;  // on the detector's time line (t0 + index / clock)
    // Session-time stamps of the last kStampRing samples fed to the detector, by index.
    static constexpr std::size_t kStampRing = 8192;  // 16 s at 500 Hz: far beyond detector latency
    std::vector<double> m_stamps;
    std::int64_t m_detector_samples = 0;   // samples fed to the current detector
    double m_last_sensor_beat_s = -1e9;

    dsp::ArtifactStream m_artifacts;
    dsp::RollingTimeDomain m_rolling;
    dsp::SpectrumTracker m_spectrum;
    dsp::CoherenceTracker m_coherence;
    dsp::BreathingRateEstimator m_breathing;
    dsp::RsaTracker m_rsa;
    dsp::HrPhaseTracker m_phase;
    double m_last_phase_update_s = -1e9;
    double m_pacer_rate_bpm = 0.0;
    double m_pacer_breath_seen_s = -1e9;  // last pacer breath boundary received
    double m_own_breath_start_s = -1.0;   // breath cycles from the estimate when not pacing
    std::vector<dsp::BreathRsa> m_new_breaths;
    LiveMetrics m_metrics;
    std::vector<RawBeat> m_new_raw;
    std::vector<ClassifiedBeat> m_new_classified;
    std::vector<double> m_new_corrected;
};

}  // namespace attune::core
