#include "attune/core/session_store.hpp"
#include "attune/core/json_text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>
#include <ostream>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include "attune/core/fs_util.hpp"
#include "attune/core/profiles.hpp"
#include "attune/core/recorder.hpp"

namespace attune::core {

namespace fs = std::filesystem;

namespace {

// Local calendar date of a UTC instant.
struct LocalDate {
    int year = 1970, month = 1, day = 1;
};

std::optional<std::tm> LocalTm(std::int64_t epoch_s) {
    const std::time_t t = static_cast<std::time_t>(epoch_s);
    std::tm tm{};
    if (!localtime_r(&t, &tm)) return std::nullopt;
    return tm;
}

// Days since 1970-01-01 of a civil date, and back (H. Hinnant's algorithms): week arithmetic
// without going through time_t, so no DST or time zone can shift a date.
std::int64_t DaysFromCivil(int y, int m, int d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = static_cast<int>(y - era * 400);
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

LocalDate CivilFromDays(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int doe = static_cast<int>(z - era * 146097);
    const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int mp = (5 * doy + 2) / 153;
    const int d = doy - (153 * mp + 2) / 5 + 1;
    const int m = mp + (mp < 10 ? 3 : -9);
    return {static_cast<int>(yoe + era * 400 + (m <= 2)), m, d};
}

std::string DateString(const LocalDate& d) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
    return buf;
}

const char* MonthAbbrev(int month0) {
    static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return (month0 >= 0 && month0 < 12) ? kMonths[month0] : "?";
}

// "23 Nov 17:45" in local time; month names fixed in English so output never depends on the
// C locale (the rest of the interface is English too).
std::string ShortLocalTime(const std::string& utc) {
    const auto t = ParseUtcIso8601(utc);
    if (!t) return utc.empty() ? "an unknown time" : utc;
    const auto tm = LocalTm(*t);
    if (!tm) return utc;
    char buf[80];
    std::snprintf(buf, sizeof buf, "%d %s %02d:%02d", tm->tm_mday, MonthAbbrev(tm->tm_mon), tm->tm_hour, tm->tm_min);
    return buf;
}

std::string ListingLocalTime(const std::string& utc) {
    const auto t = ParseUtcIso8601(utc);
    if (!t) return utc.empty() ? "-" : utc;
    const auto tm = LocalTm(*t);
    if (!tm) return utc;
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
                  tm->tm_hour, tm->tm_min);
    return buf;
}

std::string KeptText(double duration_s) {
    if (duration_s < 59.5) return std::to_string(static_cast<long>(std::lround(std::max(0.0, duration_s)))) + " s kept";
    return std::to_string(static_cast<long>(std::lround(duration_s / 60.0))) + " min kept";
}

std::string DurationText(double s) {
    const long total = std::lround(std::max(0.0, s));
    char buf[80];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, (total / 60) % 60, total % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
    return buf;
}

std::string Fixed(const std::optional<double>& v, int decimals) {
    if (!v || !std::isfinite(*v)) return "-";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, *v, std::chars_format::fixed, decimals);
    return std::string(buf, r.ptr);
}

std::string PresetName(const SessionMeta& m) {
    if (!m.program.empty()) return m.program;
    if (m.pattern.is_object()) {
        if (m.pattern.contains("name") && m.pattern["name"].is_string() && !m.pattern["name"].get<std::string>().empty())
            return m.pattern["name"].get<std::string>();
        if (m.pattern.contains("id") && m.pattern["id"].is_string()) return m.pattern["id"].get<std::string>();
    }
    return "-";
}

std::string PatternId(const SessionMeta& m) {
    if (m.pattern.is_object() && m.pattern.contains("id") && m.pattern["id"].is_string())
        return m.pattern["id"].get<std::string>();
    return {};
}

std::optional<double> Mean(const std::vector<double>& v) {
    if (v.empty()) return std::nullopt;
    double s = 0.0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

nlohmann::json OptJson(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }
nlohmann::json OptJson(const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

bool IsFinished(const SessionMeta& m) { return m.status == "complete" || m.status == "recovered"; }

// Latest modification time of the streams: the end of a session whose start is unreadable.
std::optional<fs::file_time_type> LatestStreamWrite(const fs::path& folder) {
    std::optional<fs::file_time_type> latest;
    for (int i = 0; i < Recorder::kStreamCount; ++i) {
        std::error_code ec;
        const auto t = fs::last_write_time(folder / Recorder::StreamFileName(static_cast<Recorder::Stream>(i)), ec);
        if (!ec && (!latest || t > *latest)) latest = t;
    }
    return latest;
}

}  // namespace

std::int64_t LocalDayNumber(std::int64_t epoch_s) {
    const auto tm = LocalTm(epoch_s);
    if (!tm) return epoch_s / 86400;
    return DaysFromCivil(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
}

std::string LocalDateTimeText(const std::string& utc) { return ListingLocalTime(utc); }
std::string SessionPresetName(const SessionMeta& m) { return PresetName(m); }

// ---- trends ----

TrendReport ComputeTrends(const std::vector<SessionEntry>& sessions) {
    struct Acc {
        int sessions = 0;
        double minutes = 0.0;
        std::vector<double> coherence, rmssd, hr, distress;
    };
    std::map<std::int64_t, Acc> days;  // key: local days since the epoch
    for (const auto& e : sessions) {
        if (!e.readable || !IsFinished(e.meta)) continue;
        const auto t = ParseUtcIso8601(e.meta.started_utc);
        if (!t) continue;
        const auto tm = LocalTm(*t);
        if (!tm) continue;
        Acc& a = days[DaysFromCivil(tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday)];
        const RecordedSummary& s = e.meta.summary;
        ++a.sessions;
        a.minutes += s.duration_s / 60.0;
        if (s.coherence_mean) a.coherence.push_back(*s.coherence_mean);
        if (s.rmssd_ms) a.rmssd.push_back(*s.rmssd_ms);
        if (s.hr_mean_bpm) a.hr.push_back(*s.hr_mean_bpm);
        if (e.meta.distress_before && e.meta.distress_after)
            a.distress.push_back(static_cast<double>(*e.meta.distress_after - *e.meta.distress_before));
    }

    TrendReport out;
    std::map<std::int64_t, Acc> weeks;     // key: days since the epoch of the Monday
    std::map<std::int64_t, std::vector<double>> week_resting;
    for (const auto& [day, a] : days) {
        TrendPoint p;
        p.date = p.label = DateString(CivilFromDays(day));
        p.day = day;
        p.sessions = a.sessions;
        p.total_minutes = a.minutes;
        p.coherence_mean = Mean(a.coherence);
        p.rmssd_mean_ms = Mean(a.rmssd);
        if (!a.hr.empty()) p.resting_hr_bpm = *std::min_element(a.hr.begin(), a.hr.end());
        p.distress_change_mean = Mean(a.distress);
        out.days.push_back(p);

        // 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays.
        const std::int64_t monday = day - (((day + 3) % 7) + 7) % 7;
        Acc& w = weeks[monday];
        w.sessions += a.sessions;
        w.minutes += a.minutes;
        w.coherence.insert(w.coherence.end(), a.coherence.begin(), a.coherence.end());
        w.rmssd.insert(w.rmssd.end(), a.rmssd.begin(), a.rmssd.end());
        w.distress.insert(w.distress.end(), a.distress.begin(), a.distress.end());
        if (p.resting_hr_bpm) week_resting[monday].push_back(*p.resting_hr_bpm);
    }
    for (const auto& [monday, w] : weeks) {
        TrendPoint p;
        p.date = DateString(CivilFromDays(monday));
        p.day = monday;
        // ISO week: the week belongs to the year of its Thursday; week 1 holds the first Thursday.
        const LocalDate thursday = CivilFromDays(monday + 3);
        const std::int64_t week_no = (monday + 3 - DaysFromCivil(thursday.year, 1, 1)) / 7 + 1;
        char label[48];
        std::snprintf(label, sizeof label, "%04d-W%02d", thursday.year, static_cast<int>(week_no));
        p.label = label;
        p.sessions = w.sessions;
        p.total_minutes = w.minutes;
        p.coherence_mean = Mean(w.coherence);
        p.rmssd_mean_ms = Mean(w.rmssd);
        if (auto it = week_resting.find(monday); it != week_resting.end()) p.resting_hr_bpm = Mean(it->second);
        p.distress_change_mean = Mean(w.distress);
        out.weeks.push_back(p);
    }
    return out;
}

// ---- liveness of a recording ----

bool RecordingInProgress(const fs::path& folder) {
    const fs::path lock = folder / "lock";
    std::string text, error;
    if (!ReadTextFile(lock, text, error, 4096)) return false;  // no lock: nobody is recording
    long pid = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (r.ec == std::errc() && pid > 0) {
        if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return false;
    }
    // The pid exists (or the file is unreadable): the flock tells a live recorder from a reused
    // pid. flock locks belong to the open file, so this works within one process too.
    const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);  // releases our lock if we got it
    return held;
}

// ---- SessionStore ----

SessionStore::SessionStore(fs::path data_dir) : m_data_dir(std::move(data_dir)) {}

std::vector<std::string> SessionStore::ListProfiles() const { return ListProfileNames(m_data_dir); }

bool SessionStore::LoadMeta(const fs::path& folder, SessionMeta& meta, std::string& error) {
    error.clear();
    std::string text;
    if (!ReadTextFile(folder / "session.json", text, error, 4u << 20)) {
        error = "session.json: " + error;
        return false;
    }
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        error = "session.json is not valid JSON";
        return false;
    }
    return SessionMetaFromJson(j, meta, error);
}

std::vector<SessionEntry> SessionStore::ListSessions(const std::string& profile) const {
    std::vector<SessionEntry> out;
    std::vector<std::string> profiles;
    if (profile.empty()) profiles = ListProfiles();
    else if (ProfileExists(m_data_dir, profile)) profiles.push_back(profile);
    for (const auto& p : profiles) {
        std::error_code ec;
        fs::directory_iterator it(ProfileSessionsDir(m_data_dir, p), ec);
        if (ec) continue;
        for (const auto& d : it) {
            std::error_code e2;
            const std::string name = d.path().filename().string();
            if (!d.is_directory(e2) || name.empty() || name.front() == '.') continue;
            SessionEntry e;
            e.id = name;
            e.profile = p;
            e.folder = d.path();
            e.readable = LoadMeta(d.path(), e.meta, e.error);
            if (e.meta.id.empty()) e.meta.id = e.id;
            if (e.meta.profile.empty()) e.meta.profile = p;
            out.push_back(std::move(e));
        }
    }
    std::sort(out.begin(), out.end(), [](const SessionEntry& a, const SessionEntry& b) {
        if (a.meta.started_utc != b.meta.started_utc) return a.meta.started_utc < b.meta.started_utc;
        if (a.id != b.id) return a.id < b.id;
        return a.profile < b.profile;
    });
    return out;
}

std::string SessionStore::CheckSessionFolder(const fs::path& folder, const char* verb, fs::path& target,
                                             std::string& profile) const {
    std::error_code ec;
    const std::string v = verb;
    const fs::path root = fs::weakly_canonical(fs::absolute(m_data_dir, ec), ec);
    if (ec || !fs::is_directory(root, ec)) return "Refusing to " + v + ": the data folder " + m_data_dir.string() + " does not exist.";
    const fs::file_status st = fs::symlink_status(folder, ec);
    if (ec || !fs::is_directory(st))
        return "Refusing to " + v + " " + folder.string() + ": it is not a session folder.";
    target = fs::weakly_canonical(fs::absolute(folder, ec), ec);
    if (ec) return "Refusing to " + v + " " + folder.string() + ": " + ec.message();
    const fs::path rel = target.lexically_relative(root);
    std::vector<std::string> parts;
    for (const auto& c : rel) parts.push_back(c.string());
    const bool ok = parts.size() == 4 && parts[0] == "profiles" && ValidateProfileName(parts[1]).empty() &&
                    parts[2] == "sessions" && !parts[3].empty() && parts[3] != "." && parts[3] != "..";
    if (!ok)
        return "Refusing to " + v + " " + folder.string() + ": only folders in " +
               (m_data_dir / "profiles" / "<profile>" / "sessions").string() + " can be " + v + "d.";
    if (RecordingInProgress(target)) return "Cannot " + v + " " + folder.string() + ": it is being recorded.";
    profile = parts[1];
    return {};
}

std::string SessionStore::DeleteSession(const fs::path& folder) const {
    fs::path target;
    std::string profile;
    if (std::string e = CheckSessionFolder(folder, "delete", target, profile); !e.empty()) return e;
    std::error_code ec;
    fs::remove_all(target, ec);  // does not follow symbolic links inside the folder
    if (ec) return "Could not delete " + folder.string() + ": " + ec.message();
    return {};
}

std::string SessionStore::MoveToTrash(const fs::path& folder, fs::path* moved_to) const {
    fs::path target;
    std::string profile;
    if (std::string e = CheckSessionFolder(folder, "delete", target, profile); !e.empty()) return e;
    const fs::path trash = m_data_dir / "trash" / profile;
    if (std::string e = MakePrivateDirTree(trash); !e.empty()) return "Could not delete " + folder.string() + ": " + e;
    const std::string id = target.filename().string();
    fs::path dest = trash / id;
    std::error_code ec;
    for (int n = 2; fs::exists(fs::symlink_status(dest, ec)); ++n) dest = trash / (id + "-" + std::to_string(n));
    fs::rename(target, dest, ec);  // same data folder, so the same file system: atomic
    if (ec) return "Could not move " + folder.string() + " to the trash: " + ec.message();
    if (moved_to) *moved_to = dest;
    return {};
}

std::string SessionStore::ExportSession(const fs::path& folder, const fs::path& out_folder) {
    std::error_code ec;
    if (!fs::is_regular_file(folder / "session.json", ec)) return "Cannot export " + folder.string() + ": no session.json there.";
    if (std::string e = MakePrivateDirTree(out_folder); !e.empty()) return "Cannot export: " + e;
    std::vector<std::string> names = {"session.json"};
    for (int i = 0; i < Recorder::kStreamCount; ++i) names.emplace_back(Recorder::StreamFileName(static_cast<Recorder::Stream>(i)));
    for (const auto& n : names) {
        const fs::path src = folder / n;
        if (!fs::is_regular_file(src, ec)) continue;  // a stream that was never created
        if (fs::exists(out_folder / n, ec)) return "Cannot export: " + (out_folder / n).string() + " already exists.";
        fs::copy_file(src, out_folder / n, fs::copy_options::none, ec);
        if (ec) return "Cannot export " + src.string() + ": " + ec.message();
        fs::permissions(out_folder / n, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace, ec);
    }
    return {};
}

std::vector<RecoveryResult> SessionStore::RecoverInterrupted(const std::string& profile) const {
    std::vector<RecoveryResult> out;
    for (auto& e : ListSessions(profile)) {
        if (!e.readable || e.meta.status != "recording" || RecordingInProgress(e.folder)) continue;
        RecoveryResult r;
        r.id = e.id;
        r.profile = e.profile;
        r.folder = e.folder;
        SessionMeta m = e.meta;
        m.summary = SummarizeFromStreams(e.folder);
        m.status = "recovered";
        if (const auto start = ParseUtcIso8601(m.started_utc)) {
            // A corrupt stream can claim any duration: keep the arithmetic in range (a year at most).
            const double duration_s = std::isfinite(m.summary.duration_s) ? std::clamp(m.summary.duration_s, 0.0, 366.0 * 86400.0) : 0.0;
            const auto end = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(*start)) +
                             std::chrono::seconds(std::llround(duration_s));
            m.ended_utc = FormatUtcIso8601(end);
        } else if (const auto latest = LatestStreamWrite(e.folder)) {
            m.ended_utc = FormatUtcIso8601(std::chrono::time_point_cast<std::chrono::system_clock::duration>(fs::file_time_type::clock::to_sys(*latest)));
        }
        const std::string when = ShortLocalTime(m.started_utc);
        if (std::string err = WriteFileAtomic(e.folder / "session.json", DumpJson(SessionMetaToJson(m), 2) + "\n"); !err.empty()) {
            r.message = "Could not recover the interrupted session of " + when + ": " + err;
        } else {
            std::error_code ec;
            fs::remove(e.folder / "lock", ec);
            fs::remove(e.folder / "lock.tmp", ec);
            r.ok = true;
            r.message = "Recovered the interrupted session of " + when + " (" + KeptText(m.summary.duration_s) + ")";
        }
        out.push_back(std::move(r));
    }
    return out;
}

TrendReport SessionStore::Trends(const std::string& profile) const { return ComputeTrends(ListSessions(profile)); }

fs::path SessionStore::SessionFolder(const std::string& profile, const std::string& id) const {
    return ProfileSessionsDir(m_data_dir, profile) / id;
}

std::string SessionStore::NewSessionId(const std::string& profile, std::chrono::system_clock::time_point now,
                                       const std::string& pattern_id) const {
    const std::time_t tt = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    std::string preset;
    for (char c : pattern_id) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (keep) preset += c;
        else if (!preset.empty() && preset.back() != '-') preset += '-';
    }
    while (!preset.empty() && preset.back() == '-') preset.pop_back();
    if (preset.size() > 40) preset.resize(40);
    if (preset.empty()) preset = "session";
    const std::string base = std::string(stamp) + "-" + preset;
    std::string id = base;
    std::error_code ec;
    for (int n = 2; fs::exists(SessionFolder(profile, id), ec); ++n) id = base + "-" + std::to_string(n);
    return id;
}

// ---- attune sessions ----

int SessionsCommand(const fs::path& data_dir, const std::string& profile, bool json, std::ostream& out,
                    std::ostream& err) {
    SessionStore store(data_dir);
    if (!profile.empty() && !ProfileExists(data_dir, profile)) {
        err << "attune sessions: no profile named \"" << profile << "\" in " << ProfilesDir(data_dir).string() << ".\n";
        const auto names = store.ListProfiles();
        if (!names.empty()) {
            err << "Profiles:";
            for (const auto& n : names) err << " \"" << n << "\"";
            err << "\n";
        }
        return 3;
    }
    for (const auto& r : store.RecoverInterrupted(profile)) err << r.message << "\n";
    const auto sessions = store.ListSessions(profile);

    if (json) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& e : sessions) {
            const SessionMeta& m = e.meta;
            nlohmann::json j = {
                {"id", e.id},
                {"folder", e.folder.string()},
                {"profile", e.profile},
                {"started_utc", m.started_utc},
                {"ended_utc", m.ended_utc},
                {"status", m.status},
                {"preset", PresetName(m)},
                {"pattern_id", PatternId(m)},
                {"program", m.program},
                {"source", m.source},
                {"duration_s", m.summary.duration_s},
                {"hr_mean_bpm", OptJson(m.summary.hr_mean_bpm)},
                {"rmssd_ms", OptJson(m.summary.rmssd_ms)},
                {"coherence_mean", OptJson(m.summary.coherence_mean)},
                {"distress_before", OptJson(m.distress_before)},
                {"distress_after", OptJson(m.distress_after)},
                {"note", m.note},
                {"summary", SessionMetaToJson(m)["summary"]},
            };
            if (!e.error.empty()) j["error"] = e.error;
            list.push_back(std::move(j));
        }
        out << DumpJson(nlohmann::json{{"sessions", list}}, 2) << "\n";
        return 0;
    }

    if (sessions.empty()) {
        out << "No sessions" << (profile.empty() ? "" : " for \"" + profile + "\"") << ".\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"ID", "PROFILE", "START", "PRESET", "DURATION", "HR", "RMSSD", "COHERENCE", "DISTRESS", "STATUS", "FOLDER"}};
    for (const auto& e : sessions) {
        const SessionMeta& m = e.meta;
        std::string distress = "-";
        if (m.distress_before || m.distress_after)
            distress = (m.distress_before ? std::to_string(*m.distress_before) : "?") + "->" +
                       (m.distress_after ? std::to_string(*m.distress_after) : "?");
        rows.push_back({e.id, e.profile, e.readable ? ListingLocalTime(m.started_utc) : "-", PresetName(m),
                        e.readable ? DurationText(m.summary.duration_s) : "-", Fixed(m.summary.hr_mean_bpm, 1),
                        Fixed(m.summary.rmssd_ms, 1), Fixed(m.summary.coherence_mean, 2), distress,
                        e.readable ? (m.status.empty() ? "?" : m.status) : "unreadable", e.folder.string()});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
        const auto& r = rows[k];
        std::string line;
        for (std::size_t i = 0; i < r.size(); ++i) {
            line += r[i];
            if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
        }
        out << line << "\n";
        if (k > 0 && !sessions[k - 1].error.empty()) out << "    problem: " << sessions[k - 1].error << "\n";
    }
    return 0;
}

}  // namespace attune::core
