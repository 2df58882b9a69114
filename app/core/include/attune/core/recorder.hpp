// The session recorder: writes one session folder in format 1 (session_format.hpp) while a
// session runs, and rebuilds a summary from those files afterwards (SummarizeFromStreams).
//
// Durability: rows go into a 16 KB buffer per stream (no system call and no allocation per
// row). Tick(), called every frame, hands the buffers to the kernel with write() once at least
// kFlushIntervalS of session time has passed, so a killed or crashed app loses at most about a
// second. The fdatasync that protects against a power cut runs right after, on a small
// background thread: on a slow or busy disk it can take tens of milliseconds, which would show
// as a stutter in the pacer animation if the UI thread waited for it.
//
// Errors (disk full, folder made unwritable, a stream file deleted or replaced under us) never
// throw or crash: the recorder enters an error state with a sentence for the user (error()),
// stops writing and only counts the rows it drops, so memory stays bounded however long the
// session goes on. Close() still tries to write the final session.json.
//
// Number format: std::to_chars (locale-independent), fixed decimals with trailing zeros removed
// ("12.5", "3"): t_s 4 decimals (0.1 ms), ibi 1 (0.1 ms), rates 2, coherence 3, volume 4,
// frequencies 4. Waveform values use 8 significant digits (exact for 24-bit ADC counts).
// A non-finite number is written as an empty cell. Text cells (events) are quoted as in RFC 4180
// when they hold a comma or a quote; line breaks in text become spaces so that every row is one
// line (a reader can then drop a half-written last line after a crash).
//
// Concurrency: a Recorder is used from one thread (the UI/session thread); the background sync
// thread only calls fdatasync/fstat on the open file descriptors.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "attune/core/pacer.hpp"
#include "attune/core/session_format.hpp"
#include "attune/dsp/artifacts.hpp"

namespace attune::core {

// One row of metrics.csv (one a second), as the live session hands it over. Empty optionals are
// written as empty cells. (The reading side, session_data.hpp, has its own MetricsRow that owns
// its strings; this one takes a string_view so that recording never allocates.)
struct LiveMetricsRow {
    double t_s = 0.0;
    std::optional<double> hr_bpm;
    std::optional<double> rmssd_ms;
    std::optional<double> sdnn_ms;
    std::optional<double> coherence;        // score, ln(ratio + 1)
    std::optional<double> lf_ms2;
    std::optional<double> hf_ms2;
    std::optional<double> lf_peak_hz;
    std::optional<double> breathing_rate_bpm;
    std::optional<double> rsa_bpm;
    std::optional<double> phase_lag_deg;
    // Signal quality state as dsp::to_string(QualityState) gives it ("good", "noisy", "flat",
    // "clipped", "leads_off", "no_pulse"); empty = not available.
    std::string_view quality;
};

// "2026-11-23T17:45:12Z" (UTC, whole seconds).
std::string FormatUtcIso8601(std::chrono::system_clock::time_point t);
// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" (UTC) into seconds since the epoch.
std::optional<std::int64_t> ParseUtcIso8601(std::string_view s);

// The pacer.csv phase word for a pacer state: inhale, hold_in, exhale, hold_out, natural, or
// paused when `paused` is true.
const char* PacerPhaseWord(const PacerState& s, bool paused);

class Recorder {
public:
    enum Stream : int { kBeats, kWaveform, kPacer, kMetrics, kEvents, kStreamCount };
    static constexpr double kFlushIntervalS = 1.0;
    static constexpr std::size_t kBufferBytes = 16 * 1024;
    static const char* StreamFileName(Stream s);  // "beats.csv", ...
    static const char* StreamHeader(Stream s);    // header row without the newline

    Recorder();
    ~Recorder();  // without Close(): flushes, keeps status "recording" and removes the lock, so
                  // the session is recovered as interrupted by the next RecoverInterrupted
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;

    // Creates `folder` (0700, parents too), writes the lock (pid), session.json (status
    // "recording"; id defaults to the folder name) and the CSV streams with their header rows
    // (0600). Refuses a folder that already holds a session. Returns false and sets error() on
    // failure. One Open per Recorder.
    bool Open(const std::filesystem::path& folder, const SessionMeta& meta);

    // flag: ok, ectopic, missed, extra, long, short, implausible.
    void AppendBeat(double t_s, double ibi_ms, std::string_view flag, double hr_bpm);
    void AppendBeat(double t_s, double ibi_ms, dsp::IntervalClass cls, double hr_bpm);
    void AppendSample(double t_s, double value);
    void AppendPacer(double t_s, std::string_view phase, double volume, double rate_bpm, std::int64_t breath);
    void AppendPacer(double t_s, const PacerState& s, bool paused);
    void AppendMetrics(const LiveMetricsRow& row);
    void AppendEvent(double t_s, std::string_view kind, std::string_view text = {});

    // Call every frame with the current session time: writes the buffers out and schedules the
    // fdatasync when kFlushIntervalS has passed since the last flush (or time went backwards).
    void Tick(double now_t_s);
    // Writes the buffers out now and waits for fdatasync (used by Close and tests).
    void FlushNow();

    // Rewrites session.json atomically with the caller's ratings, note and other fields; the
    // recorder keeps format, id and status ("recording") while open. Returns false on failure.
    bool UpdateMeta(const SessionMeta& meta);

    // Flushes and closes the streams, writes the final session.json (status "complete",
    // ended_utc = now, the given summary) and removes the lock. Returns false when something
    // could not be written (error() says what); the folder is then recoverable as far as it got.
    bool Close(const RecordedSummary& summary);

    bool is_open() const { return m_open; }
    // failed(): the streams stopped (an Open, write, sync or deleted-file error); error() is then
    // the sentence to show. error() can also be set without failed() when only session.json
    // could not be rewritten (UpdateMeta): the streams go on and Close() tries again.
    bool failed() const { return m_failed; }
    const std::string& error() const { return m_error; }
    const SessionMeta& meta() const { return m_meta; }
    const std::filesystem::path& folder() const { return m_folder; }
    // Rows handed to the kernel so far, and rows lost to an error (appended after it, or still
    // in the buffer when it happened). Header rows are not counted.
    std::uint64_t rows_written(Stream s) const { return m_streams[static_cast<std::size_t>(s)].rows; }
    std::uint64_t rows_dropped(Stream s) const { return m_streams[static_cast<std::size_t>(s)].dropped; }
    double last_flush_t_s() const { return m_last_flush_t_s; }

private:
    struct StreamState {
        int fd = -1;
        std::unique_ptr<char[]> buf;
        std::size_t len = 0;
        std::uint64_t rows = 0;     // handed to the kernel (write() succeeded)
        std::uint64_t pending = 0;  // in the buffer
        std::uint64_t dropped = 0;  // lost to an error
    };

    // Room for one row (numeric rows are far shorter); returns nullptr in the error state.
    char* Reserve(Stream s, std::size_t n);
    void Commit(Stream s, char* end);
    bool Drain(Stream s);
    void DrainAll();
    void Fail(std::string message);
    void AdoptSyncError();
    void StartSyncThread();
    void StopSyncThread();
    void SyncLoop();
    bool WriteMetaFile();
    void CloseFiles();

    std::filesystem::path m_folder;
    SessionMeta m_meta;
    bool m_open = false;
    bool m_failed = false;
    std::string m_error;
    std::array<StreamState, kStreamCount> m_streams;
    int m_lock_fd = -1;
    double m_last_flush_t_s = 0.0;

    std::thread m_sync_thread;
    std::mutex m_sync_mu;
    std::condition_variable m_sync_cv;
    bool m_sync_requested = false;  // guarded by m_sync_mu
    bool m_sync_busy = false;       // guarded by m_sync_mu
    bool m_sync_stop = false;       // guarded by m_sync_mu
    std::string m_sync_error;       // guarded by m_sync_mu
    std::atomic<bool> m_sync_failed{false};
};

// Rebuilds a session summary from its CSV streams (for recovery, or to double-check a live
// summary). Reads beats.csv, metrics.csv, events.csv and pacer.csv in full and only the tail of
// waveform.csv. A partial last line (a crash mid-write) and unparsable rows are ignored.
//   duration_s          last t_s of any stream
//   beats               intervals not flagged "implausible" (ok + flagged plausible ones)
//   hr_mean_bpm         mean of 60000 / ibi over "ok" intervals
//   rmssd_ms, sdnn_ms   dsp::compute_time_domain over the "ok" intervals; a successive
//                       difference is only formed between two consecutive rows that are both
//                       "ok" (a flagged interval breaks the run rather than being interpolated,
//                       so values can differ slightly from the live, artifact-corrected summary)
//   coherence_mean/peak over metrics rows with a coherence value
//   high_coherence_pct  % of those rows with score >= dsp::kCoherenceHighScore (1.0)
//   rsa_mean_bpm        mean over metrics rows with a value
//   breathing_rate_bpm  median over metrics rows with a value
//   pacer_following_pct % of metrics rows with a breathing rate, taken while the pacer was
//                       pacing (latest pacer row at or before the metrics row has a moving phase
//                       and rate > 0), where |breathing rate − pacer rate| <= 1 breath/min
//   breaths             largest breath count in pacer.csv
//   artifacts_flagged   intervals whose flag is not "ok"
//   markers             events of kind "marker"
// Missing streams simply contribute nothing; `error` (optional) collects notes about them.
RecordedSummary SummarizeFromStreams(const std::filesystem::path& folder, std::string* error = nullptr);

}  // namespace attune::core
