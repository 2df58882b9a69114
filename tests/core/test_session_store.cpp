// Profiles and the session store: names, listing (corrupt files included), deletion limited to
// session folders, export, recovery of interrupted sessions, trends and `attune sessions`.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attune/core/fs_util.hpp"
#include "attune/core/profiles.hpp"
#include "attune/core/recorder.hpp"
#include "attune/core/session_store.hpp"

using namespace attune::core;
namespace fs = std::filesystem;
using Catch::Matchers::WithinAbs;

namespace {

fs::path TestDir(const std::string& name) {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "session_store" / name;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    return dir;
}

// A session.json-only session (a constructor rather than an aggregate, so short brace lists do
// not trip -Wmissing-field-initializers).
struct Fake {
    Fake(std::string started_, double minutes_ = 10.0, std::optional<double> hr_ = {},
         std::optional<double> rmssd_ = {}, std::optional<double> coherence_ = {}, std::optional<int> before_ = {},
         std::optional<int> after_ = {}, std::string status_ = "complete", std::string pattern_ = "resonance")
        : started(std::move(started_)), minutes(minutes_), hr(hr_), rmssd(rmssd_), coherence(coherence_),
          before(before_), after(after_), status(std::move(status_)), pattern(std::move(pattern_)) {}
    std::string started;
    double minutes;
    std::optional<double> hr, rmssd, coherence;
    std::optional<int> before, after;
    std::string status;
    std::string pattern;
};

fs::path MakeSession(const fs::path& data, const std::string& profile, const std::string& id, const Fake& f) {
    REQUIRE(CreateProfile(data, profile).empty());
    const fs::path folder = ProfileSessionsDir(data, profile) / id;
    SessionMeta m;
    m.id = id;
    m.profile = profile;
    m.started_utc = f.started;
    m.status = f.status;
    m.pattern = {{"id", f.pattern}, {"name", f.pattern == "resonance" ? "Resonance 6/min" : f.pattern}};
    m.distress_before = f.before;
    m.distress_after = f.after;
    m.summary.duration_s = f.minutes * 60.0;
    m.summary.hr_mean_bpm = f.hr;
    m.summary.rmssd_ms = f.rmssd;
    m.summary.coherence_mean = f.coherence;
    REQUIRE(WriteFileAtomic(folder / "session.json", SessionMetaToJson(m).dump(2)).empty());
    return folder;
}

// Local time zone for date-dependent tests, restored afterwards.
struct ScopedTz {
    explicit ScopedTz(const char* tz) {
        if (const char* old = std::getenv("TZ")) m_old = old;
        ::setenv("TZ", tz, 1);
        ::tzset();
    }
    ~ScopedTz() {
        if (m_old) ::setenv("TZ", m_old->c_str(), 1);
        else ::unsetenv("TZ");
        ::tzset();
    }
    std::optional<std::string> m_old;
};

}  // namespace

TEST_CASE("profile names are validated", "[profiles]") {
    for (const char* ok : {"Sam", "client-07", "A", "a.b_c d", "Zoë", "0123456789012345678901234567890123456789"})
        CHECK(ValidateProfileName(ok).empty());
    for (const char* bad : {"", ".", "..", ".hidden", "a/b", "a\\b", " Sam", "Sam ", "tab\there", "semi;colon",
                            "01234567890123456789012345678901234567890", "nul\x01", "\xff\xfe", "zero\xe2\x80\x8bwidth"})
        CHECK_FALSE(ValidateProfileName(bad).empty());
    CHECK(ValidateProfileName("a/b").find("'/'") != std::string::npos);
    // 40 characters, some of them two bytes long, still fit.
    std::string forty;
    for (int i = 0; i < 40; ++i) forty += "é";
    CHECK(ValidateProfileName(forty).empty());
}

TEST_CASE("profiles: create, list, settings", "[profiles]") {
    const fs::path data = TestDir("profiles");
    CHECK(ListProfileNames(data).empty());
    REQUIRE(CreateProfile(data, "Sam").empty());
    REQUIRE(CreateProfile(data, "client-07").empty());
    REQUIRE(CreateProfile(data, "Sam").empty());  // idempotent
    CHECK_FALSE(CreateProfile(data, "sam").empty());  // differs only by case
    CHECK_FALSE(CreateProfile(data, "../escape").empty());
    fs::create_directories(ProfilesDir(data) / ".trash");  // not a valid name: not listed
    CHECK(ListProfileNames(data) == std::vector<std::string>{"Sam", "client-07"});
    CHECK(ProfileExists(data, "Sam"));
    CHECK_FALSE(ProfileExists(data, "Nobody"));
    struct stat st {};
    REQUIRE(::stat(ProfileSessionsDir(data, "Sam").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(::stat(ProfilesDir(data).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    CHECK(LoadProfileSettings(data, "Sam").warning.empty());
    CHECK_FALSE(LoadProfileSettings(data, "Sam").settings.resonance_rate_bpm.has_value());
    ProfileSettings s;
    s.resonance_rate_bpm = 5.5;
    s.notes = "prefers a long exhale";
    s.other["future_key"] = {1, 2};
    REQUIRE(SaveProfileSettings(data, "Sam", s).empty());
    REQUIRE(::stat(ProfileSettingsPath(data, "Sam").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    const auto back = LoadProfileSettings(data, "Sam");
    CHECK(back.warning.empty());
    CHECK(back.settings.resonance_rate_bpm == 5.5);
    CHECK(back.settings.notes == "prefers a long exhale");
    CHECK(back.settings.other["future_key"] == nlohmann::json({1, 2}));

    std::ofstream(ProfileSettingsPath(data, "client-07")) << "{not json";
    const auto bad = LoadProfileSettings(data, "client-07");
    CHECK(bad.warning.find("not valid JSON") != std::string::npos);
    CHECK_FALSE(bad.settings.resonance_rate_bpm.has_value());
}

TEST_CASE("new session ids are UTC stamps with the preset, made unique", "[store]") {
    const fs::path data = TestDir("ids");
    SessionStore store(data);
    const auto now = std::chrono::system_clock::from_time_t(1795455912);  // 2026-11-23T17:45:12Z
    CHECK(store.NewSessionId("Sam", now, "resonance") == "20261123-174512-resonance");
    CHECK(store.NewSessionId("Sam", now, "Box Breathing 4/4!") == "20261123-174512-box-breathing-4-4");
    CHECK(store.NewSessionId("Sam", now, "") == "20261123-174512-session");
    fs::create_directories(store.SessionFolder("Sam", "20261123-174512-resonance"));
    CHECK(store.NewSessionId("Sam", now, "resonance") == "20261123-174512-resonance-2");
    fs::create_directories(store.SessionFolder("Sam", "20261123-174512-resonance-2"));
    CHECK(store.NewSessionId("Sam", now, "resonance") == "20261123-174512-resonance-3");
    CHECK(store.NewSessionId("client-07", now, "resonance") == "20261123-174512-resonance");
}

TEST_CASE("listing survives corrupt and missing session.json", "[store]") {
    const fs::path data = TestDir("corrupt");
    MakeSession(data, "Sam", "b", {"2026-11-24T08:00:00Z"});
    MakeSession(data, "Sam", "a", {"2026-11-23T08:00:00Z"});
    const fs::path bad = ProfileSessionsDir(data, "Sam") / "c-corrupt";
    fs::create_directories(bad);
    std::ofstream(bad / "session.json") << "{\"id\": \"c\", \"status\": \"compl";
    fs::create_directories(ProfileSessionsDir(data, "Sam") / "d-empty");
    const fs::path typed = MakeSession(data, "Sam", "e-typed", {"2026-11-25T08:00:00Z"});
    std::ofstream(typed / "session.json") << R"({"id": "e-typed", "started_utc": "2026-11-25T08:00:00Z", "status": 5})";

    SessionStore store(data);
    const auto list = store.ListSessions("Sam");
    REQUIRE(list.size() == 5);
    // Unreadable entries have no start time and sort first; then by start.
    CHECK(list[0].id == "c-corrupt");
    CHECK_FALSE(list[0].readable);
    CHECK(list[0].error == "session.json is not valid JSON");
    CHECK(list[1].id == "d-empty");
    CHECK_FALSE(list[1].readable);
    CHECK(list[1].error.find("session.json") != std::string::npos);
    CHECK(list[2].id == "a");
    CHECK(list[2].readable);
    CHECK(list[2].error.empty());
    CHECK(list[3].id == "b");
    CHECK(list[4].id == "e-typed");
    CHECK(list[4].readable);
    CHECK(list[4].error.find("'status'") != std::string::npos);
    CHECK(store.ListSessions("Nobody").empty());
    CHECK(store.ListSessions().size() == 5);
    // Corrupt entries are not "recording": recovery leaves them alone.
    CHECK(store.RecoverInterrupted().empty());
}

TEST_CASE("deletion is limited to session folders", "[store]") {
    const fs::path data = TestDir("delete");
    const fs::path s1 = MakeSession(data, "Sam", "s1", {"2026-11-23T08:00:00Z"});
    const fs::path outside = TestDir("delete-outside");
    std::ofstream(outside / "precious.txt") << "keep me";
    SessionStore store(data);

    CHECK_FALSE(store.DeleteSession(data).empty());
    CHECK_FALSE(store.DeleteSession(ProfilesDir(data)).empty());
    CHECK_FALSE(store.DeleteSession(ProfileDir(data, "Sam")).empty());
    CHECK_FALSE(store.DeleteSession(ProfileSessionsDir(data, "Sam")).empty());
    CHECK_FALSE(store.DeleteSession(outside).empty());
    CHECK_FALSE(store.DeleteSession(ProfileSessionsDir(data, "Sam") / ".." / ".." / ".." / ".." / "delete-outside").empty());
    CHECK_FALSE(store.DeleteSession(ProfileSessionsDir(data, "Sam") / "s1" / "session.json").empty());
    CHECK_FALSE(store.DeleteSession("/").empty());
    // A link inside the sessions folder that points outside is refused, not followed.
    fs::create_directory_symlink(outside, ProfileSessionsDir(data, "Sam") / "link");
    CHECK_FALSE(store.DeleteSession(ProfileSessionsDir(data, "Sam") / "link").empty());
    CHECK(fs::exists(outside / "precious.txt"));
    CHECK(fs::exists(s1 / "session.json"));

    const std::string refused = store.DeleteSession(outside);
    CHECK(refused.find("only folders in") != std::string::npos);

    CHECK(store.DeleteSession(s1).empty());
    CHECK_FALSE(fs::exists(s1));
    CHECK(fs::exists(ProfileSessionsDir(data, "Sam")));

    // A relative path given from elsewhere resolves the same way.
    const fs::path s2 = MakeSession(data, "Sam", "s2", {"2026-11-23T09:00:00Z"});
    const fs::path cwd = fs::current_path();
    fs::current_path(data);
    CHECK(SessionStore(".").DeleteSession(fs::path("profiles") / "Sam" / "sessions" / "s2").empty());
    fs::current_path(cwd);
    CHECK_FALSE(fs::exists(s2));

    // A session being recorded is not deleted under the recorder.
    Recorder rec;
    REQUIRE(rec.Open(ProfileSessionsDir(data, "Sam") / "live", SessionMeta{}));
    CHECK(store.DeleteSession(ProfileSessionsDir(data, "Sam") / "live").find("being recorded") != std::string::npos);
    REQUIRE(rec.Close(RecordedSummary{}));
    CHECK(store.DeleteSession(ProfileSessionsDir(data, "Sam") / "live").empty());
}

TEST_CASE("export copies session.json and the streams", "[store]") {
    const fs::path data = TestDir("export");
    const fs::path folder = ProfileSessionsDir(data, "Sam") / "20261123-174512-resonance";
    Recorder rec;
    REQUIRE(rec.Open(folder, SessionMeta{}));
    rec.AppendBeat(0.8, 800.0, "ok", 75.0);
    REQUIRE(rec.Close(RecordedSummary{}));
    const fs::path out = data / "export-out";
    REQUIRE(SessionStore::ExportSession(folder, out).empty());
    for (const char* f : {"session.json", "beats.csv", "waveform.csv", "pacer.csv", "metrics.csv", "events.csv"}) {
        CHECK(fs::exists(out / f));
        CHECK(fs::file_size(out / f) == fs::file_size(folder / f));
    }
    CHECK_FALSE(fs::exists(out / "lock"));
    CHECK(SessionStore::ExportSession(folder, out).find("already exists") != std::string::npos);
    CHECK_FALSE(SessionStore::ExportSession(data / "nothing", data / "x").empty());
}

TEST_CASE("interrupted sessions are recovered, live ones are left alone", "[store]") {
    const fs::path data = TestDir("recover");
    SessionStore store(data);
    auto record = [&](const std::string& id, double seconds) {
        const fs::path folder = ProfileSessionsDir(data, "Sam") / id;
        auto rec = std::make_unique<Recorder>();
        SessionMeta m;
        m.started_utc = "2026-11-23T17:45:00Z";
        REQUIRE(rec->Open(folder, m));
        for (double t = 0.0; t <= seconds; t += 0.5) rec->AppendBeat(t, 800.0, "ok", 75.0);
        rec->FlushNow();
        return rec;
    };
    // 1. No lock at all.
    { auto r = record("no-lock", 725.0); }
    // 2. A lock naming a process that has exited.
    {
        auto r = record("dead-pid", 60.0);
        r->FlushNow();
        const pid_t child = ::fork();
        if (child == 0) ::_exit(0);
        int st = 0;
        ::waitpid(child, &st, 0);
        r.reset();  // removes the lock; put back one naming the dead child
        std::ofstream(ProfileSessionsDir(data, "Sam") / "dead-pid" / "lock") << child << "\n";
    }
    // 3. A lock naming a live process (ours) that does not hold it: a reused pid.
    {
        auto r = record("reused-pid", 30.0);
        r.reset();
        std::ofstream(ProfileSessionsDir(data, "Sam") / "reused-pid" / "lock") << ::getpid() << "\n";
    }
    // 4. Still recording.
    auto live = record("live", 10.0);
    // 5. Complete.
    MakeSession(data, "Sam", "done", {"2026-11-22T08:00:00Z"});

    ScopedTz tz("UTC");
    auto results = store.RecoverInterrupted("Sam");
    std::sort(results.begin(), results.end(), [](auto& a, auto& b) { return a.id < b.id; });
    REQUIRE(results.size() == 3);
    CHECK(results[0].id == "dead-pid");
    CHECK(results[0].message == "Recovered the interrupted session of 23 Nov 17:45 (1 min kept)");
    CHECK(results[1].id == "no-lock");
    CHECK(results[1].message == "Recovered the interrupted session of 23 Nov 17:45 (12 min kept)");
    CHECK(results[2].id == "reused-pid");
    CHECK(results[2].message == "Recovered the interrupted session of 23 Nov 17:45 (30 s kept)");
    for (const auto& r : results) {
        CHECK(r.ok);
        CHECK_FALSE(fs::exists(r.folder / "lock"));
    }
    SessionMeta m;
    std::string err;
    REQUIRE(SessionStore::LoadMeta(ProfileSessionsDir(data, "Sam") / "no-lock", m, err));
    CHECK(m.status == "recovered");
    CHECK(m.ended_utc == "2026-11-23T17:57:05Z");
    CHECK(m.summary.duration_s == 725.0);
    CHECK(m.summary.beats == 1451);
    REQUIRE(SessionStore::LoadMeta(ProfileSessionsDir(data, "Sam") / "live", m, err));
    CHECK(m.status == "recording");
    CHECK(fs::exists(ProfileSessionsDir(data, "Sam") / "live" / "lock"));
    REQUIRE(live->Close(RecordedSummary{}));
    CHECK(store.RecoverInterrupted().empty());
}

TEST_CASE("trends aggregate per local day and ISO week", "[store][trends]") {
    const fs::path data = TestDir("trends");
    MakeSession(data, "Sam", "1", {"2026-11-23T08:00:00Z", 10, 70.0, 40.0, 1.0, 6, 3});
    MakeSession(data, "Sam", "2", {"2026-11-23T20:00:00Z", 20, 66.0, 50.0, 2.0, 5, 4});
    MakeSession(data, "Sam", "3", {"2026-11-25T09:00:00Z", 15, 68.0, 45.0, 1.5, {}, {}});
    MakeSession(data, "Sam", "4", {"2026-11-30T09:00:00Z", 5, 72.0, 30.0, 0.5, 4, 4});
    MakeSession(data, "Sam", "5", {"2026-11-30T10:00:00Z", 5, 50.0, 90.0, 3.0, 0, 9, "recording"});  // not finished
    MakeSession(data, "Sam", "6", {"2026-11-30T11:00:00Z", 5, {}, {}, {}, {}, {}, "recovered"});
    MakeSession(data, "Other", "x", {"2026-11-23T08:00:00Z", 60, 55.0, 99.0, 2.5, 9, 0});
    SessionStore store(data);

    {
        ScopedTz tz("UTC");
        const TrendReport t = store.Trends("Sam");
        REQUIRE(t.days.size() == 3);
        const TrendPoint& d0 = t.days[0];
        CHECK(d0.date == "2026-11-23");
        CHECK(d0.sessions == 2);
        CHECK_THAT(d0.total_minutes, WithinAbs(30.0, 1e-9));
        CHECK_THAT(*d0.coherence_mean, WithinAbs(1.5, 1e-12));
        CHECK_THAT(*d0.rmssd_mean_ms, WithinAbs(45.0, 1e-12));
        CHECK_THAT(*d0.resting_hr_bpm, WithinAbs(66.0, 1e-12));
        CHECK_THAT(*d0.distress_change_mean, WithinAbs(-2.0, 1e-12));
        const TrendPoint& d1 = t.days[1];
        CHECK(d1.date == "2026-11-25");
        CHECK(d1.sessions == 1);
        CHECK_FALSE(d1.distress_change_mean.has_value());
        const TrendPoint& d2 = t.days[2];
        CHECK(d2.date == "2026-11-30");
        CHECK(d2.sessions == 2);  // the recovered one counts (no figures), the recording one not
        CHECK_THAT(d2.total_minutes, WithinAbs(10.0, 1e-9));
        CHECK_THAT(*d2.coherence_mean, WithinAbs(0.5, 1e-12));
        CHECK_THAT(*d2.resting_hr_bpm, WithinAbs(72.0, 1e-12));
        CHECK_THAT(*d2.distress_change_mean, WithinAbs(0.0, 1e-12));

        REQUIRE(t.weeks.size() == 2);
        CHECK(t.weeks[0].label == "2026-W48");
        CHECK(t.weeks[0].date == "2026-11-23");
        CHECK(t.weeks[0].sessions == 3);
        CHECK_THAT(t.weeks[0].total_minutes, WithinAbs(45.0, 1e-9));
        CHECK_THAT(*t.weeks[0].coherence_mean, WithinAbs(1.5, 1e-12));
        CHECK_THAT(*t.weeks[0].rmssd_mean_ms, WithinAbs(45.0, 1e-12));
        CHECK_THAT(*t.weeks[0].resting_hr_bpm, WithinAbs(67.0, 1e-12));  // mean of 66 and 68
        CHECK_THAT(*t.weeks[0].distress_change_mean, WithinAbs(-2.0, 1e-12));
        CHECK(t.weeks[1].label == "2026-W49");
        CHECK(t.weeks[1].date == "2026-11-30");
        CHECK(t.weeks[1].sessions == 2);
    }
    {
        // In UTC+10 the 20:00 UTC session belongs to the next local day.
        ScopedTz tz("UTC-10");
        const TrendReport t = store.Trends("Sam");
        REQUIRE(t.days.size() == 4);
        CHECK(t.days[0].date == "2026-11-23");
        CHECK(t.days[1].date == "2026-11-24");
        CHECK(t.days[0].sessions == 1);
    }
    {
        // ISO weeks across a year boundary: 1 Jan 2027 is in 2026-W53 (Monday 28 Dec).
        ScopedTz tz("UTC");
        MakeSession(data, "Year", "y", {"2027-01-01T10:00:00Z"});
        const TrendReport t = store.Trends("Year");
        REQUIRE(t.weeks.size() == 1);
        CHECK(t.weeks[0].label == "2026-W53");
        CHECK(t.weeks[0].date == "2026-12-28");
    }
    CHECK(store.Trends("Nobody").days.empty());
}

TEST_CASE("attune sessions: text and JSON listings, recovery first, exit codes", "[store][cli]") {
    const fs::path data = TestDir("command");
    MakeSession(data, "Sam", "20261123-080000-resonance", {"2026-11-23T08:00:00Z", 12.5, 71.24, 42.0, 1.3, 7, 3});
    MakeSession(data, "Sam", "20261124-080000-box", {"2026-11-24T08:00:00Z", 5, 68.0, {}, {}, {}, {}, "complete", "box"});
    {
        // An interrupted session in the other profile: the command recovers it first.
        Recorder rec;
        SessionMeta m;
        m.profile = "client-07";
        m.started_utc = "2026-11-23T12:00:00Z";
        m.pattern = {{"id", "resonance"}, {"name", "Resonance 6/min"}};
        REQUIRE(rec.Open(ProfileSessionsDir(data, "client-07") / "20261123-120000-resonance", m));
        for (int i = 1; i <= 200; ++i) rec.AppendBeat(i * 0.9, 900.0, "ok", 66.67);
    }
    ScopedTz tz("UTC");

    std::ostringstream out, err;
    REQUIRE(SessionsCommand(data, "", false, out, err) == 0);
    const std::string text = out.str();
    INFO(text);
    CHECK(err.str() == "Recovered the interrupted session of 23 Nov 12:00 (3 min kept)\n");
    std::vector<std::string> lines;
    std::istringstream is(text);
    for (std::string l; std::getline(is, l);) lines.push_back(l);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind("ID", 0) == 0);
    CHECK(lines[0].find("COHERENCE") != std::string::npos);
    CHECK(lines[1].rfind("20261123-080000-resonance  Sam ", 0) == 0);
    CHECK(lines[1].find("2026-11-23 08:00") != std::string::npos);
    CHECK(lines[1].find("Resonance 6/min") != std::string::npos);
    CHECK(lines[1].find("12:30") != std::string::npos);
    CHECK(lines[1].find("71.2") != std::string::npos);
    CHECK(lines[1].find("1.30") != std::string::npos);
    CHECK(lines[1].find("7->3") != std::string::npos);
    CHECK(lines[1].find("complete") != std::string::npos);
    CHECK(lines[2].find("client-07") != std::string::npos);
    CHECK(lines[2].find("recovered") != std::string::npos);
    CHECK(lines[2].find("3:00") != std::string::npos);
    CHECK(lines[3].find("box") != std::string::npos);

    std::ostringstream jout, jerr;
    REQUIRE(SessionsCommand(data, "", true, jout, jerr) == 0);
    CHECK(jerr.str().empty());  // already recovered
    const auto j = nlohmann::json::parse(jout.str());
    REQUIRE(j.is_object());
    REQUIRE(j.size() == 1);
    const auto& list = j.at("sessions");
    REQUIRE(list.size() == 3);
    CHECK(list[0]["id"] == "20261123-080000-resonance");
    CHECK(list[0]["profile"] == "Sam");
    CHECK(list[0]["preset"] == "Resonance 6/min");
    CHECK(list[0]["pattern_id"] == "resonance");
    CHECK(list[0]["duration_s"] == 750.0);
    CHECK(list[0]["hr_mean_bpm"] == 71.24);
    CHECK(list[0]["rmssd_ms"] == 42.0);
    CHECK(list[0]["coherence_mean"] == 1.3);
    CHECK(list[0]["distress_before"] == 7);
    CHECK(list[0]["distress_after"] == 3);
    CHECK(list[0]["status"] == "complete");
    CHECK(list[0]["summary"].is_object());
    CHECK(fs::path(list[0]["folder"].get<std::string>()) == ProfileSessionsDir(data, "Sam") / "20261123-080000-resonance");
    CHECK_FALSE(list[0].contains("error"));
    CHECK(list[1]["profile"] == "client-07");
    CHECK(list[1]["status"] == "recovered");
    CHECK(list[1]["summary"]["beats"] == 200);
    CHECK(list[2]["rmssd_ms"].is_null());
    CHECK(list[2]["distress_before"].is_null());

    std::ostringstream pout, perr;
    REQUIRE(SessionsCommand(data, "Sam", true, pout, perr) == 0);
    CHECK(nlohmann::json::parse(pout.str())["sessions"].size() == 2);

    std::ostringstream uout, uerr;
    CHECK(SessionsCommand(data, "Nobody", true, uout, uerr) == 3);
    CHECK(uout.str().empty());
    CHECK(uerr.str().find("no profile named \"Nobody\"") != std::string::npos);
    CHECK(uerr.str().find("\"client-07\"") != std::string::npos);
    std::ostringstream bout, berr;
    CHECK(SessionsCommand(data, "../Sam", false, bout, berr) == 3);

    const fs::path empty = TestDir("command-empty");
    std::ostringstream eout, eerr;
    CHECK(SessionsCommand(empty, "", true, eout, eerr) == 0);
    CHECK(nlohmann::json::parse(eout.str()) == nlohmann::json::parse(R"({"sessions": []})"));
    std::ostringstream tout, terr;
    CHECK(SessionsCommand(empty / "does-not-exist", "", false, tout, terr) == 0);
    CHECK(tout.str() == "No sessions.\n");
}
