#include "attune/core/session_history.hpp"
#include "attune/core/json_text.hpp"

#include "json_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ostream>

#include "attune/core/fs_util.hpp"
#include "attune/core/profiles.hpp"
#include "attune/core/report.hpp"
#include "attune/core/session_data.hpp"

namespace attune::core {

namespace fs = std::filesystem;

namespace {

using detail::Opt;

std::string Num(const std::optional<double>& v, int decimals, bool sign = false) {
    if (!v || !std::isfinite(*v)) return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, sign ? "%+.*f" : "%.*f", decimals, *v);
    return buf;
}

// A fresh child of `dir` named `name`, or name-2, name-3, ... when taken.
fs::path FreshChild(const fs::path& dir, const std::string& name) {
    fs::path p = dir / name;
    std::error_code ec;
    for (int n = 2; fs::exists(fs::symlink_status(p, ec)); ++n) p = dir / (name + "-" + std::to_string(n));
    return p;
}

}  // namespace

std::string ValidateDistress(int v) {
    if (v < kDistressMin || v > kDistressMax)
        return "a distress rating is a whole number from 0 (none) to 10 (the worst), not " + std::to_string(v);
    return {};
}

std::string SaveJournal(const fs::path& folder, std::optional<int> before, std::optional<int> after,
                        const std::string& note) {
    for (const auto& r : {before, after})
        if (r)
            if (std::string e = ValidateDistress(*r); !e.empty()) return "Cannot save the ratings: " + e + ".";
    if (note.size() > kMaxNoteBytes)
        return "Cannot save the note: it is longer than " + std::to_string(kMaxNoteBytes) + " characters.";
    if (RecordingInProgress(folder)) return "Cannot change " + folder.string() + " while it is being recorded.";
    SessionMeta meta;
    std::string error;
    // A session.json that cannot be read completely is left alone: rewriting it would replace
    // the fields we could not read with defaults.
    if (!SessionStore::LoadMeta(folder, meta, error) || !error.empty())
        return "Cannot save the ratings in " + folder.string() + ": " + error + ".";
    meta.distress_before = before;
    meta.distress_after = after;
    meta.note = note;
    if (std::string e = WriteFileAtomic(folder / "session.json", DumpJson(SessionMetaToJson(meta), 2) + "\n"); !e.empty())
        return "Cannot save the ratings: " + e;
    return {};
}

std::vector<HistoryRow> HistoryRows(const std::vector<SessionEntry>& sessions) {
    std::vector<HistoryRow> rows;
    rows.reserve(sessions.size());
    for (const auto& e : sessions) {
        HistoryRow r;
        const SessionMeta& m = e.meta;
        r.id = e.id;
        r.folder = e.folder;
        r.when = e.readable ? LocalDateTimeText(m.started_utc) : "-";
        r.preset = SessionPresetName(m);
        r.status = e.readable ? (m.status.empty() ? "?" : m.status) : "unreadable";
        r.duration_s = m.summary.duration_s;
        r.hr_mean_bpm = m.summary.hr_mean_bpm;
        r.rmssd_ms = m.summary.rmssd_ms;
        r.coherence_mean = m.summary.coherence_mean;
        r.distress_before = m.distress_before;
        r.distress_after = m.distress_after;
        if (m.distress_before && m.distress_after) r.distress_change = *m.distress_after - *m.distress_before;
        r.note = m.note;
        r.error = e.error;
        rows.push_back(std::move(r));
    }
    std::reverse(rows.begin(), rows.end());
    return rows;
}

nlohmann::json TrendsToJson(const TrendReport& t) {
    auto points = [](const std::vector<TrendPoint>& v) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto& p : v)
            a.push_back({{"date", p.date},
                         {"label", p.label},
                         {"sessions", p.sessions},
                         {"total_minutes", p.total_minutes},
                         {"coherence_mean", Opt(p.coherence_mean)},
                         {"rmssd_mean_ms", Opt(p.rmssd_mean_ms)},
                         {"resting_hr_bpm", Opt(p.resting_hr_bpm)},
                         {"distress_change_mean", Opt(p.distress_change_mean)}});
        return a;
    };
    return {{"days", points(t.days)}, {"weeks", points(t.weeks)}};
}

void PrintTrends(const TrendReport& t, std::ostream& out) {
    auto table = [&out](const char* title, const std::vector<TrendPoint>& v) {
        out << title << "\n";
        if (v.empty()) {
            out << "  (no finished sessions)\n";
            return;
        }
        char line[256];
        std::snprintf(line, sizeof line, "  %-10s  %8s  %7s  %9s  %8s  %10s  %8s\n", "", "SESSIONS", "MINUTES",
                      "COHERENCE", "RMSSD", "RESTING HR", "DISTRESS");
        out << line;
        for (const auto& p : v) {
            std::snprintf(line, sizeof line, "  %-10s  %8d  %7.1f  %9s  %8s  %10s  %8s\n", p.label.c_str(), p.sessions,
                          p.total_minutes, Num(p.coherence_mean, 2).c_str(), Num(p.rmssd_mean_ms, 1).c_str(),
                          Num(p.resting_hr_bpm, 1).c_str(), Num(p.distress_change_mean, 1, true).c_str());
            out << line;
        }
    };
    table("Days (RMSSD in ms, resting HR in bpm, distress change = after - before)", t.days);
    table("Weeks", t.weeks);
}

std::string WriteSessionReport(const fs::path& folder, const fs::path& out_file) {
    std::string error;
    auto data = LoadSession(folder, error);
    if (!data) return "Cannot write the report: " + error;
    return WriteFileAtomic(out_file, RenderReportHtml(*data));
}

std::string ExportSessionBundle(const fs::path& folder, const fs::path& out_dir, fs::path* written) {
    std::string error;
    auto data = LoadSession(folder, error);
    if (!data) return "Cannot export: " + error;
    if (std::string e = MakePrivateDirTree(out_dir); !e.empty()) return "Cannot export: " + e;
    std::string id = data->meta.id.empty() ? folder.filename().string() : data->meta.id;
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..") id = "session";
    const fs::path dest = FreshChild(out_dir, id);
    if (std::string e = MakePrivateDirs(dest); !e.empty()) return "Cannot export: " + e;
    if (std::string e = WriteFileAtomic(dest / "report.html", RenderReportHtml(*data)); !e.empty()) return "Cannot export: " + e;
    if (std::string e = ExportRrText(*data, dest / "rr-kubios.txt"); !e.empty()) return "Cannot export: " + e;
    if (std::string e = ExportRrPlain(*data, dest / "rr.txt"); !e.empty()) return "Cannot export: " + e;
    if (std::string e = ExportCsv(*data, dest / "csv"); !e.empty()) return "Cannot export: " + e;
    if (written) *written = dest;
    return {};
}

fs::path DefaultExportDir(const fs::path& data_dir) {
    const char* home = std::getenv("HOME");
    if (home && *home == '/') return fs::path(home) / "Attune exports";
    return data_dir / "exports";
}

namespace {

// The session named by `id` (in `profile` when given). Empty with `error` set when not found.
fs::path FindSession(const fs::path& data_dir, const std::string& profile, const std::string& id, std::string& error) {
    if (!profile.empty()) {
        if (!ValidateProfileName(profile).empty() || !ProfileExists(data_dir, profile)) {
            error = "no profile \"" + profile + "\"";
            return {};
        }
        const fs::path f = ProfileSessionsDir(data_dir, profile) / id;
        std::error_code ec;
        if (id.find('/') == std::string::npos && fs::is_regular_file(f / "session.json", ec)) return f;
    }
    return FindSessionFolder(data_dir, id, error);
}

}  // namespace

int RunSessionsCli(const fs::path& data_dir, const SessionsCliOptions& o, std::ostream& out, std::ostream& err) {
    const int actions = int(o.trends) + int(!o.delete_id.empty()) + int(!o.export_id.empty());
    if (actions > 1) {
        err << "attune sessions: give one of --trends, --delete, --export\n";
        return 2;
    }
    if (!o.export_to.empty() && o.export_id.empty()) {
        err << "attune sessions: --to needs --export SESSION\n";
        return 2;
    }
    SessionStore store(data_dir);
    if (o.trends) {
        std::string profile = o.profile;
        if (profile.empty()) {
            const auto profiles = store.ListProfiles();
            if (profiles.size() == 1) profile = profiles.front();
            else if (profiles.empty()) {
                err << "attune sessions: no profiles under " << data_dir.string() << "\n";
                return 3;
            } else {
                err << "attune sessions: --trends needs --profile (one of:";
                for (const auto& p : profiles) err << " " << p;
                err << ")\n";
                return 2;
            }
        } else if (!ProfileExists(data_dir, profile)) {
            err << "attune sessions: no profile \"" << profile << "\"\n";
            return 3;
        }
        for (const auto& r : store.RecoverInterrupted(profile)) err << "attune: " << r.message << "\n";
        const TrendReport t = store.Trends(profile);
        if (o.json) {
            nlohmann::json j = TrendsToJson(t);
            j["profile"] = profile;
            out << DumpJson(j, 2) << "\n";
        } else {
            out << "Trends for \"" << profile << "\"\n";
            PrintTrends(t, out);
        }
        return 0;
    }
    if (!o.delete_id.empty() || !o.export_id.empty()) {
        const bool del = !o.delete_id.empty();
        std::string error;
        const fs::path folder = FindSession(data_dir, o.profile, del ? o.delete_id : o.export_id, error);
        if (folder.empty()) {
            err << "attune sessions: " << error << "\n";
            return 3;
        }
        if (del) {
            fs::path moved;
            if (std::string e = store.MoveToTrash(folder, &moved); !e.empty()) {
                err << "attune sessions: " << e << "\n";
                return 3;
            }
            if (o.json) out << DumpJson(nlohmann::json{{"deleted", o.delete_id}, {"trash_folder", moved.string()}}) << "\n";
            else out << "Moved " << o.delete_id << " to the trash: " << moved.string() << "\n";
            return 0;
        }
        const fs::path to = o.export_to.empty() ? DefaultExportDir(data_dir) : fs::path(o.export_to);
        fs::path written;
        if (std::string e = ExportSessionBundle(folder, to, &written); !e.empty()) {
            err << "attune sessions: " << e << "\n";
            return 3;
        }
        if (o.json) out << DumpJson(nlohmann::json{{"exported", o.export_id}, {"folder", written.string()}}) << "\n";
        else out << "Exported " << o.export_id << " to " << written.string() << " (report.html, rr-kubios.txt, rr.txt, csv/)\n";
        return 0;
    }
    return SessionsCommand(data_dir, o.profile, o.json, out, err);
}

}  // namespace attune::core
