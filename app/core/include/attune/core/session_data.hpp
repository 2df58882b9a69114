// A recorded session read back from its folder (format in session_format.hpp), for reports and
// exports.
//
// Reading is tolerant, because sessions are written live and may have been cut short:
//   * session.json is required; every CSV stream is optional (a missing stream is an empty
//     vector plus a note in `warnings`, never an error);
//   * columns are found by their header names, so extra or reordered columns are fine; a stream
//     without its key columns is skipped with a warning;
//   * a final line without its newline is a write cut short by a crash (the recorder always
//     writes whole lines) and is dropped, since its last field may be truncated;
//   * malformed rows are skipped and counted; an empty cell is "not available" (nullopt);
//   * events.csv text may be RFC 4180 quoted ("" for a quote, commas and newlines inside quotes)
//     or a bare last column holding commas.
// Memory is bounded by the session length except for the waveform, which reports do not need:
// it is skipped unless asked for, and then kept decimated to at most max_waveform_points.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "attune/core/session_format.hpp"

namespace attune::core {

struct BeatRow {
    double t_s = 0.0;
    double ibi_ms = 0.0;
    std::string flag;             // ok, ectopic, missed, extra, long, short, implausible
    std::optional<double> hr_bpm;
};

struct WaveformRow {
    double t_s = 0.0;
    double value = 0.0;
};

struct PacerRow {
    double t_s = 0.0;
    std::string phase;            // inhale, hold_in, exhale, hold_out, natural, paused
    double volume = 0.0;          // 0..1
    std::optional<double> rate_bpm;
    std::int64_t breath = 0;
};

struct MetricsRow {
    double t_s = 0.0;
    std::optional<double> hr_bpm, rmssd_ms, sdnn_ms, coherence, lf_ms2, hf_ms2, lf_peak_hz,
        breathing_rate_bpm, rsa_bpm, phase_lag_deg;
    std::string quality;          // empty = not available
};

struct EventRow {
    double t_s = 0.0;
    std::string kind;             // start, pause, resume, device_lost, device_back, marker, stage, stop
    std::string text;
};

struct SessionData {
    std::filesystem::path folder;
    SessionMeta meta;
    std::vector<BeatRow> beats;
    std::vector<WaveformRow> waveform;  // empty unless SessionLoadOptions::load_waveform
    std::size_t waveform_stride = 0;    // every n-th sample kept (0: not loaded)
    std::vector<PacerRow> pacer;
    std::vector<MetricsRow> metrics;
    std::vector<EventRow> events;
    std::vector<std::string> warnings;  // one line each: what was missing, skipped or repaired

    // Latest time seen in any stream (for sessions whose summary was never written).
    double LastTimeS() const;
};

struct SessionLoadOptions {
    bool load_waveform = false;
    std::size_t max_waveform_points = 20000;  // decimated by 2 each time the buffer fills
};

// Loads the session in `folder`. Returns nullopt with `error` set when the folder or its
// session.json cannot be read or is not a JSON object; everything else goes to warnings.
std::optional<SessionData> LoadSession(const std::filesystem::path& folder, std::string& error,
                                       const SessionLoadOptions& options = {});

// Splits one CSV record (RFC 4180 quoting). Exposed for tests and exports.
std::vector<std::string> SplitCsvRecord(const std::string& line);
// Quotes a CSV field when it holds a comma, quote or line break.
std::string CsvField(const std::string& s);

}  // namespace attune::core
