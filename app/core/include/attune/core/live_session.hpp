// A live practice session: the pacer, a heart-data source and the pipeline, driven by session
// time. UI-free: the app, the headless runner and the tests all drive it the same way, by
// calling Update(now) with a monotonic time, so the same source bytes give the same beats
// whether the session runs in real time, faster, or in a test.
//
// Time bases:
//   session time t_s  - seconds since Start(), from the caller's monotonic clock (steady_clock,
//                       scaled by --speed in headless runs); sensor data is stamped with it.
//   pacer time        - active session time (pauses excluded), owned by PacerClock.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "attune/core/heart_pipeline.hpp"
#include "attune/core/pacer.hpp"
#include "attune/core/recorder.hpp"
#include "attune/core/session_format.hpp"
#include "attune/devices/source.hpp"

namespace attune::core {

class ProgramRunner;

// A beat as the session keeps it.
struct SessionBeat {
    double t_s = 0.0;
    double ibi_ms = 0.0;
    double hr_bpm = 0.0;
    bool accepted = true;  // false: implausible interval (outside 273-2000 ms), not used
};

struct TimedValue {
    double t_s;
    double value;
};

// One second of live metrics, kept for trend plots and the baseline band. NaN = not available.
struct MetricsSample {
    double t_s = 0.0;
    double hr_bpm = 0.0;
    double rmssd_ms = 0.0;
    double coherence = 0.0;         // score, ln(ratio + 1)
    double breathing_rate_bpm = 0.0;
    double pacer_rate_bpm = 0.0;    // 0 when not pacing
    double phase_lag_deg = 0.0;
};

// Mean and spread of a metric over the first minutes of the session: "your usual range today".
struct BaselineBand {
    bool ready = false;  // true once the baseline period is over and had data
    double mean = 0.0;
    double sd = 0.0;
};

// The practitioner's timeline: the first kBaselineS seconds are the baseline ("your usual range
// today"), then practice; recovery begins when the pattern's length is over or when the user
// ends pacing (StartRecovery). In recovery the pacer stops (breathe naturally) and the heart is
// watched settling. Each change is recorded as an event "phase" with the phase's name.
enum class SessionPhase { Baseline, Practice, Recovery };
const char* SessionPhaseName(SessionPhase p);  // "baseline", "practice", "recovery"

struct SessionSummary {
    double duration_s = 0.0;
    std::int64_t breaths = 0;
    std::size_t beats = 0;            // accepted beats
    std::size_t rejected_beats = 0;   // implausible intervals
    double hr_mean_bpm = 0.0;         // mean of accepted instantaneous rates
    dsp::TimeDomainMetrics hrv;       // whole session, artifact-corrected intervals
    dsp::ArtifactCounts artifacts;
    std::string beat_source;
    std::string source;
    std::string pattern_id;
};

class LiveSession {
public:
    LiveSession(BreathPattern pattern, std::unique_ptr<devices::Source> source, PipelineConfig pipeline = {});
    ~LiveSession();

    // Runs a guided program (program_runner.hpp) instead of the single pattern: call before Start.
    // The pacer then follows the program's timeline; the pattern keeps naming the session.
    void AttachProgram(std::unique_ptr<ProgramRunner> runner);
    const ProgramRunner* program() const { return m_program.get(); }

    // Starting resets the pacer clock and the session time origin (`now_s` on the caller's clock).
    void Start(double now_s);
    // Records everything to `folder` (see session_format.hpp) from now on; call right after
    // Start. Returns false with recorder_error() set when the folder cannot be written (the
    // session still runs; the UI says that it is not being recorded).
    bool StartRecording(const std::filesystem::path& folder, SessionMeta meta);
    bool recording() const { return m_recorder && m_recorder->is_open() && !m_recorder->failed(); }
    std::string recorder_error() const { return m_recorder ? m_recorder->error() : std::string(); }
    std::filesystem::path recording_folder() const { return m_recording_folder; }
    // Distress ratings 0-10 before/after and a free-text note (rewrites session.json, also
    // after Stop while the folder is still there). Returns error text (a rating outside 0-10,
    // a note too long, session.json not writable), empty on success or when not recording.
    std::string SetRatings(std::optional<int> before, std::optional<int> after, const std::string& note);
    std::optional<int> distress_before() const { return m_meta.distress_before; }
    std::optional<int> distress_after() const { return m_meta.distress_after; }
    const std::string& note() const { return m_meta.note; }
    const SessionMeta& meta() const { return m_meta; }
    // The summary as recorded (also what Stop writes into session.json).
    RecordedSummary RecordSummary() const;
    void TogglePause(double now_s);
    // Ends pacing and begins the recovery phase now (no effect when already in recovery or not
    // running). `reason` goes into the event's text after the phase name.
    void StartRecovery(const std::string& reason = "ended by the user");
    // Recovery begins by itself when session time reaches `t_s` (a setting, --recovery-at).
    void ScheduleRecovery(double t_s) { m_recovery_at_s = t_s; }
    SessionPhase phase() const;
    // Session time recovery began (nullopt: not yet).
    std::optional<double> recovery_start_s() const { return m_recovery_start_s; }
    void Stop(double now_s);
    // Pulls everything the source has up to `now_s` and updates the state.
    void Update(double now_s);

    bool running() const { return m_running; }
    bool paused() const { return m_clock.paused(); }
    double session_time_s() const { return m_t_s; }
    double pacer_time_s() const { return m_pacer_t_s; }
    const Pacer& pacer() const { return m_pacer; }
    const PacerState& pacer_state() const { return m_state; }
    const devices::Source& source() const { return *m_source; }
    devices::Source& source() { return *m_source; }

    // Recent history for plots (bounded: the last kHistoryS seconds).
    static constexpr double kHistoryS = 120.0;
    const std::deque<SessionBeat>& recent_beats() const { return m_beats; }
    const std::deque<TimedValue>& recent_volume() const { return m_volume; }
    const std::deque<TimedValue>& recent_waveform() const { return m_wave; }
    // The last status message of the sensor (format detected, device lost/back, ...).
    const std::string& last_status() const { return m_last_status; }
    double last_hr_bpm() const { return m_pipeline.metrics().last_hr_bpm; }
    const HeartPipeline& pipeline() const { return m_pipeline; }
    const LiveMetrics& metrics() const { return m_pipeline.metrics(); }
    // Every classified interval of the session so far (for summaries; bounded by session length:
    // 24 bytes a beat, about 0.2 MB for 8 hours).
    const std::vector<ClassifiedBeat>& classified_beats() const { return m_classified; }
    // Once a second (bounded: the last kMetricsHistoryS seconds).
    static constexpr double kMetricsHistoryS = 4.0 * 3600.0;
    static constexpr double kBaselineS = 120.0;
    const std::deque<MetricsSample>& metrics_history() const { return m_history; }
    const std::deque<dsp::BreathRsa>& recent_breaths() const { return m_breaths; }
    BaselineBand Baseline(double MetricsSample::*field) const;
    // Annotations dropped by the practitioner (marker hotkeys), with session time.
    void AddMarker(const std::string& text);
    const std::vector<std::pair<double, std::string>>& markers() const { return m_markers; }

    SessionSummary Summary() const;

    // The pacer's target lung volume at a session time (for the simulated heart).
    std::optional<double> TargetVolumeAt(double session_t_s) const;

private:
    void UpdateTo(double now_s);
    void OnEvent(const devices::DeviceEvent& e);
    // The pacer as the user sees it at pacer time `pacer_t_s` and session time `t_s`: in
    // recovery, unpaced ("breathe naturally") with the breath count frozen.
    PacerState PacerAt(double pacer_t_s, double t_s) const;
    void RecordPhase(SessionPhase p, const std::string& text, double t_s);
    void StartRecoveryAt(double t_s, const std::string& reason);
    void DrainPipeline();
    void Trim();

    Pacer m_pacer;
    std::unique_ptr<ProgramRunner> m_program;
    PacerClock m_clock;
    std::unique_ptr<devices::Source> m_source;
    PacerState m_state;
    bool m_running = false;
    double m_origin_s = 0.0;
    double m_t_s = 0.0;
    double m_pacer_t_s = 0.0;

    std::vector<devices::DeviceEvent> m_events;  // reused between updates
    std::deque<SessionBeat> m_beats;
    std::deque<TimedValue> m_volume;
    std::deque<TimedValue> m_wave;
    double m_last_volume_t_s = -1.0;
    HeartPipeline m_pipeline;
    std::vector<ClassifiedBeat> m_classified;
    std::vector<double> m_corrected_ibi_ms;  // artifact-corrected series, whole session
    std::deque<MetricsSample> m_history;
    std::deque<dsp::BreathRsa> m_breaths;
    std::vector<std::pair<double, std::string>> m_markers;
    std::unique_ptr<Recorder> m_recorder;
    std::string m_last_status;
    std::filesystem::path m_recording_folder;
    SessionMeta m_meta;
    double m_next_pacer_row_t_s = 0.0;
    double m_rsa_sum_bpm = 0.0;
    std::size_t m_rsa_count = 0;
    double m_next_history_t_s = 1.0;
    std::optional<double> m_recovery_start_s;
    std::optional<double> m_recovery_at_s;
    std::int64_t m_recovery_breaths = 0;
    bool m_practice_recorded = false;

    std::size_t m_accepted = 0, m_rejected = 0;
    double m_hr_sum = 0.0;
};

}  // namespace attune::core
