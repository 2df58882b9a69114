// The on-disk format of a recorded session (format 1). A session is a folder:
//
//   <data_dir>/profiles/<profile>/sessions/<session_id>/
//     session.json   metadata (below), rewritten atomically at start, on rating/note changes and at the end
//     beats.csv      t_s,ibi_ms,flag,hr_bpm          one row per classified interval (flag: ok, ectopic,
//                                                   missed, extra, long, short, implausible)
//     waveform.csv   t_s,value                       raw sensor samples
//     pacer.csv      t_s,phase,volume,rate_bpm,breath  10 rows a second (phase: inhale, hold_in, exhale,
//                                                   hold_out, natural, paused)
//     metrics.csv    t_s,hr_bpm,rmssd_ms,sdnn_ms,coherence,lf_ms2,hf_ms2,lf_peak_hz,breathing_rate_bpm,
//                    rsa_bpm,phase_lag_deg,quality   one row a second; empty cell = not available
//     events.csv     t_s,kind,text                   start, pause, resume, device_lost, device_back,
//                                                   marker, stage, phase (baseline, practice,
//                                                   recovery: <why>), stop
//     lock           the recording process's pid while it records
//
// t_s is seconds since the session started. CSV streams are append-only and flushed (fflush +
// fdatasync) at least once a second, so a crash or power cut loses at most the last second. A
// session whose status is still "recording" and whose lock names no live process was interrupted:
// it is recovered at the next start (summary rebuilt from the CSV streams, status "recovered").
// Files are created 0600 and folders 0700: this is health data.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace attune::core {

inline constexpr int kSessionFormat = 1;

// pacer.csv's `breath` cell read back: the breath count is a whole number a session can reach
// (one breath a second for 30 years is < 1e9). Anything else (1e93, -1, 2.5, nan) marks a damaged
// row, never a value to convert (a double beyond the integer's range is undefined behaviour).
// Both readers (LoadSession, SummarizeFromStreams) use it; found by the session_load fuzzer.
inline bool IsBreathCount(double breath) {
    return breath >= 0.0 && breath <= 1e12 && static_cast<double>(static_cast<long long>(breath)) == breath;
}

struct RecordedSummary {
    double duration_s = 0.0;
    std::size_t beats = 0;                  // accepted (plausible) intervals
    std::optional<double> hr_mean_bpm;
    std::optional<double> rmssd_ms;         // whole session, artifact-corrected
    std::optional<double> sdnn_ms;
    std::optional<double> coherence_mean;   // ln(ratio + 1) scale, see dsp/coherence.hpp
    std::optional<double> coherence_peak;
    std::optional<double> high_coherence_pct;  // % of valid seconds at "high" coherence
    std::optional<double> rsa_mean_bpm;     // mean peak-to-trough HR per breath
    std::optional<double> breathing_rate_bpm;  // estimated from the heart (median)
    std::optional<double> pacer_following_pct; // % of estimates within 1 breath/min of the pacer
    std::size_t breaths = 0;
    std::size_t artifacts_flagged = 0;      // intervals not "ok"
    std::size_t markers = 0;
};

struct SessionMeta {
    int format = kSessionFormat;
    std::string id;            // folder name, e.g. "20261123-174512-resonance"
    std::string profile;       // pseudonymous profile name
    std::string started_utc;   // ISO 8601, e.g. "2026-11-23T17:45:12Z"
    std::string ended_utc;     // empty while recording
    std::string status;        // "recording", "complete", "recovered"
    nlohmann::json pattern;    // PatternToJson of the breathing pattern (or a program description)
    std::string program;       // program id when a guided program ran, else empty
    std::string source;        // "Simulated heart", "serial /dev/ttyACM0 @115200", ...
    std::string beat_source;   // "intervals reported by the sensor" / "Attune's PPG detector (Elgendi)"
    std::optional<int> distress_before;  // 0-10
    std::optional<int> distress_after;   // 0-10
    std::string note;
    RecordedSummary summary;
};

nlohmann::json SessionMetaToJson(const SessionMeta& m);
// Tolerant: unknown keys ignored, wrong types reported in `error` (and the field left default).
// Returns false only when the text is not a JSON object at all.
bool SessionMetaFromJson(const nlohmann::json& j, SessionMeta& m, std::string& error);

}  // namespace attune::core
