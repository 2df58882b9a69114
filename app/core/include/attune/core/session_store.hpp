// The recorded sessions of every profile under a data folder (layout: profiles.hpp and
// session_format.hpp): listing, loading, deleting, exporting, recovering interrupted sessions,
// per-day and per-week trends, and the `attune sessions` command.
//
// Dates: session folders and session.json store UTC; everything shown to people (the day a
// session belongs to in trends, the time in recovery messages and listings) uses local time,
// because a session at 23:30 belongs to that evening, not to the next UTC day.
#pragma once

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "attune/core/session_format.hpp"

namespace attune::core {

struct SessionEntry {
    std::string id;                // folder name
    std::string profile;           // profile folder it lives in
    std::filesystem::path folder;
    SessionMeta meta;              // as far as session.json could be read (defaults otherwise)
    bool readable = false;         // session.json was read and is a JSON object
    std::string error;             // why session.json is missing, corrupt or partly wrong
};

struct RecoveryResult {
    std::string id;
    std::string profile;
    std::filesystem::path folder;
    bool ok = false;
    // "Recovered the interrupted session of 23 Nov 17:45 (12 min kept)" or why it failed.
    std::string message;
};

// Aggregates of one day (local date) or one ISO week (Monday to Sunday) of complete and
// recovered sessions. Means count each session once, whatever its length.
struct TrendPoint {
    std::string date;     // day: "2026-11-23"; week: the Monday, "2026-11-23"
    std::string label;    // day: same as date; week: ISO week, "2026-W48"
    std::int64_t day = 0; // local days since 1970-01-01 of `date` (for plotting)
    int sessions = 0;
    double total_minutes = 0.0;
    std::optional<double> coherence_mean;        // mean of the sessions' coherence_mean
    std::optional<double> rmssd_mean_ms;         // mean of the sessions' RMSSD
    // Day: the lowest session mean HR of the day. Sessions are practised sitting at rest and
    // their mean HR includes slow-breathing swings, so the day's lowest one is the closest to
    // a resting value that every day has (few days have a dedicated natural-breathing baseline,
    // and mixing baseline days with practice-only days would make the trend jump).
    // Week: the mean of its days' values.
    std::optional<double> resting_hr_bpm;
    std::optional<double> distress_change_mean;  // mean of (after − before), sessions rated both times
};

struct TrendReport {
    std::vector<TrendPoint> days;   // oldest first, only days with sessions
    std::vector<TrendPoint> weeks;  // oldest first, only weeks with sessions
};

// Pure aggregation over already loaded sessions (entries that are not readable, or whose status
// is not "complete"/"recovered", are skipped).
TrendReport ComputeTrends(const std::vector<SessionEntry>& sessions);

// Local calendar day (days since 1970-01-01) of an instant in seconds since the epoch.
std::int64_t LocalDayNumber(std::int64_t epoch_s);
// "2026-11-23 17:45" in local time ("-" when unreadable).
std::string LocalDateTimeText(const std::string& utc);
// The preset's (or program's) display name recorded in session.json, "-" when none.
std::string SessionPresetName(const SessionMeta& m);

// Whether the process that recorded `folder` is still at it: its lock file exists, names a live
// process (kill(pid, 0) does not fail with ESRCH) and is still locked (flock), so a pid reused by
// an unrelated process after a crash does not keep a session "recording" forever.
bool RecordingInProgress(const std::filesystem::path& folder);

class SessionStore {
public:
    explicit SessionStore(std::filesystem::path data_dir);

    const std::filesystem::path& data_dir() const { return m_data_dir; }

    std::vector<std::string> ListProfiles() const;
    // Sessions of one profile (empty = every profile) sorted by start time, then id. A missing
    // or corrupt session.json gives an entry with `error` set instead of stopping the listing.
    std::vector<SessionEntry> ListSessions(const std::string& profile = {}) const;

    // Reads <folder>/session.json. Returns false when it is missing or not a JSON object; true
    // with `error` set when some fields had the wrong type (those keep their defaults).
    static bool LoadMeta(const std::filesystem::path& folder, SessionMeta& meta, std::string& error);

    // Deletes a session folder, but only a folder at <data_dir>/profiles/<profile>/sessions/<id>
    // (after resolving symbolic links); anything else is refused. Returns error text, empty on
    // success.
    std::string DeleteSession(const std::filesystem::path& folder) const;
    // Same checks, but the folder is moved (renamed) to <data_dir>/trash/<profile>/<id> ("-2",
    // ... appended when taken) so a deletion by mistake can be undone by hand. `moved_to`
    // receives the new place. Returns error text, empty on success.
    std::string MoveToTrash(const std::filesystem::path& folder, std::filesystem::path* moved_to = nullptr) const;

    // Copies session.json and the CSV streams of `folder` into `out_folder` (created 0700; files
    // keep 0600). Refuses to overwrite existing files. Returns error text, empty on success.
    static std::string ExportSession(const std::filesystem::path& folder, const std::filesystem::path& out_folder);

    // Finds sessions still marked "recording" whose recorder is gone (RecordingInProgress is
    // false), rebuilds their summary from the streams (SummarizeFromStreams), marks them
    // "recovered" with ended_utc = start + duration, rewrites session.json and removes the lock.
    // profile empty = every profile.
    std::vector<RecoveryResult> RecoverInterrupted(const std::string& profile = {}) const;

    TrendReport Trends(const std::string& profile) const;

    // "YYYYmmdd-HHMMSS-<preset>" from `now` in UTC; the preset id is reduced to lowercase
    // letters, digits and '-' ("session" if nothing is left). "-2", "-3", ... is appended when
    // that folder already exists in the profile.
    std::string NewSessionId(const std::string& profile, std::chrono::system_clock::time_point now,
                             const std::string& pattern_id) const;
    std::filesystem::path SessionFolder(const std::string& profile, const std::string& id) const;

private:
    // Checks that `folder` is <data_dir>/profiles/<profile>/sessions/<id> and not being recorded;
    // sets the canonical path and profile. Returns error text ("Refusing to <verb> ...").
    std::string CheckSessionFolder(const std::filesystem::path& folder, const char* verb, std::filesystem::path& target,
                                   std::string& profile) const;

    std::filesystem::path m_data_dir;
};

// `attune sessions [--profile NAME] [--json]`. Recovers interrupted sessions first (messages on
// `err`), then lists sessions oldest first: id, profile, start (local time), preset or program,
// duration, mean HR, RMSSD, mean coherence, distress before/after, status and folder. With
// `json`, prints one object {"sessions": [{id, folder, profile, started_utc, ended_utc, status,
// preset, pattern_id, program, source, duration_s, hr_mean_bpm, rmssd_ms, coherence_mean,
// distress_before, distress_after, note, summary: {...as in session.json}, error?}]}.
// Returns 0, or 3 (message on `err`) when `profile` names no existing profile.
int SessionsCommand(const std::filesystem::path& data_dir, const std::string& profile, bool json,
                    std::ostream& out, std::ostream& err);

}  // namespace attune::core
