// What the History window and `attune sessions --trends/--delete/--export` need, UI-free:
// the rows of a profile's history with their key figures, ratings and note of a finished
// session, per-day and per-week trends as JSON and text, moving a session to the trash, and
// exporting one (report + RR + CSV) into a folder of the user's choice.
//
// Distress ratings are whole numbers 0 (none) to 10 (the worst imaginable), optional before and
// after a session (a SUDS-style self-rating); "distress change" = after − before, negative when
// the person felt better afterwards.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attune/core/session_store.hpp"

namespace attune::core {

inline constexpr int kDistressMin = 0;
inline constexpr int kDistressMax = 10;
inline constexpr std::size_t kMaxNoteBytes = 8000;

// Empty when `v` is a valid distress rating, else a sentence saying why not.
std::string ValidateDistress(int v);

// Rewrites the ratings and note in <folder>/session.json (atomically) of a session that is no
// longer being recorded (the live session uses LiveSession::SetRatings while it records). A note
// longer than kMaxNoteBytes is refused. Returns error text, empty on success.
std::string SaveJournal(const std::filesystem::path& folder, std::optional<int> distress_before,
                        std::optional<int> distress_after, const std::string& note);

// One line of the history: what the window's table and `attune sessions` show.
struct HistoryRow {
    std::string id;
    std::filesystem::path folder;
    std::string when;                 // local "2026-11-23 17:45", "-" when unknown
    std::string preset;               // preset or program name
    std::string status;               // complete, recovered, recording, unreadable
    double duration_s = 0.0;
    std::optional<double> hr_mean_bpm, rmssd_ms, coherence_mean;
    std::optional<int> distress_before, distress_after;
    std::optional<int> distress_change;  // after − before, both rated
    std::string note;
    std::string error;                // why session.json could not be read (fully)
};

// Newest first (the order a history list is read in).
std::vector<HistoryRow> HistoryRows(const std::vector<SessionEntry>& sessions);

nlohmann::json TrendsToJson(const TrendReport& t);
// Two small tables (days, weeks) with the same figures.
void PrintTrends(const TrendReport& t, std::ostream& out);

// Writes the report HTML of the session in `folder` to `out_file` (atomically, 0600).
// Returns error text, empty on success.
std::string WriteSessionReport(const std::filesystem::path& folder, const std::filesystem::path& out_file);

// Exports the session in `folder` into <out_dir>/<id>/ ("-2", ... appended when taken):
// report.html, rr-kubios.txt (RR with pacer rate/phase and annotations), rr.txt (plain RR list)
// and csv/ (session.json and the streams). `written` receives the folder. Error text or empty.
std::string ExportSessionBundle(const std::filesystem::path& folder, const std::filesystem::path& out_dir,
                                std::filesystem::path* written = nullptr);

// The default place for exports and reports: $HOME/Attune exports, else <data_dir>/exports.
std::filesystem::path DefaultExportDir(const std::filesystem::path& data_dir);

// `attune sessions` with its history options. Exactly one action:
//   trends                  per-day and per-week trends of `profile` (text or JSON)
//   delete_id               moves that session to the trash
//   export_id (+ export_to) exports that session (see ExportSessionBundle)
//   none of these           the listing (SessionsCommand)
// Exit codes: 0 ok; 2 usage (e.g. --trends without a profile when there are several); 3 session
// or profile not found, or the action failed (message on err).
struct SessionsCliOptions {
    std::string profile;
    bool json = false;
    bool trends = false;
    std::string delete_id;
    std::string export_id;
    std::string export_to;
};
int RunSessionsCli(const std::filesystem::path& data_dir, const SessionsCliOptions& o, std::ostream& out,
                   std::ostream& err);

}  // namespace attune::core
