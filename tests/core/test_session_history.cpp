// Session phases (baseline -> practice -> recovery) as LiveSession records them, ratings and
// note saved while recording and after the end, the history rows, moving sessions to the trash,
// exporting a session (report + RR + CSV), and `attune sessions --trends/--delete/--export`.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "attune/core/fs_util.hpp"
#include "attune/core/live_session.hpp"
#include "attune/core/profiles.hpp"
#include "attune/core/session_data.hpp"
#include "attune/core/session_history.hpp"
#include "attune/core/sources.hpp"

using namespace attune::core;
namespace fs = std::filesystem;
using Catch::Matchers::WithinAbs;

namespace {

fs::path TestDir(const std::string& name) {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "session_history" / name;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    return dir;
}

std::string ReadAll(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A recorded session on the simulated heart, driven in 50 ms steps of session time.
struct Recorded {
    std::unique_ptr<LiveSession> session;
    fs::path folder;
};

Recorded Record(const fs::path& data, const std::string& id, double length_s, double run_s,
                std::optional<double> recovery_at_s = {}, std::uint64_t seed = 1) {
    SourceOptions so;
    so.sim.seed = seed;
    MadeSource made = MakeSource(so);
    REQUIRE(made.source);
    Recorded r;
    r.session = std::make_unique<LiveSession>(BreathPattern::FourPhase("test", "Test 6/min", 4, 0, 6, 0, length_s),
                                              std::move(made.source));
    r.session->Start(0.0);
    REQUIRE(CreateProfile(data, "p").empty());
    r.folder = ProfileSessionsDir(data, "p") / id;
    SessionMeta meta;
    meta.id = id;
    meta.profile = "p";
    meta.started_utc = "2026-11-20T10:00:00Z";
    REQUIRE(r.session->StartRecording(r.folder, meta));
    if (recovery_at_s) r.session->ScheduleRecovery(*recovery_at_s);
    for (double t = 0.05; t <= run_s + 1e-9; t += 0.05) r.session->Update(t);
    return r;
}

std::vector<EventRow> PhaseEvents(const fs::path& folder) {
    std::string error;
    auto data = LoadSession(folder, error);
    REQUIRE(data);
    std::vector<EventRow> out;
    for (const auto& e : data->events)
        if (e.kind == "phase") out.push_back(e);
    return out;
}

}  // namespace

TEST_CASE("phases: baseline for 2 minutes, practice, recovery at the pattern's end", "[history][phases]") {
    const fs::path dir = TestDir("phases-end");
    auto r = Record(dir, "s1", 150.0, 200.0);
    LiveSession& s = *r.session;
    CHECK(s.phase() == SessionPhase::Recovery);
    REQUIRE(s.recovery_start_s());
    CHECK_THAT(*s.recovery_start_s(), WithinAbs(150.0, 1e-6));  // no pauses: session time = pacer time
    // In recovery the pacer stops: natural breathing, no rate, breath count frozen.
    CHECK_FALSE(s.pacer_state().paced);
    CHECK(s.pacer_state().rate_bpm == 0.0);
    CHECK(s.pacer_state().breath_count == 15);  // 150 s at 6/min
    CHECK_FALSE(s.TargetVolumeAt(160.0).has_value());
    s.Stop(200.0);

    const auto ev = PhaseEvents(r.folder);
    REQUIRE(ev.size() == 3);
    CHECK(ev[0].text == "baseline");
    CHECK(ev[0].t_s == 0.0);
    CHECK(ev[1].text == "practice");
    CHECK_THAT(ev[1].t_s, WithinAbs(120.0, 1e-9));
    CHECK(ev[2].text == "recovery: pattern finished");
    CHECK_THAT(ev[2].t_s, WithinAbs(150.0, 1e-3));

    // pacer.csv: paced phases before, "natural" after recovery began.
    std::string error;
    auto data = LoadSession(r.folder, error);
    REQUIRE(data);
    std::size_t natural_after = 0, paced_after = 0, natural_before = 0;
    for (const auto& p : data->pacer) {
        if (p.t_s > 150.05) (p.phase == "natural" ? natural_after : paced_after)++;
        if (p.t_s < 149.95 && p.phase == "natural") ++natural_before;
    }
    CHECK(natural_after > 450);  // 10 rows a second for ~50 s
    CHECK(paced_after == 0);
    CHECK(natural_before == 0);
}

TEST_CASE("phases: recovery when the user ends pacing or at a scheduled time", "[history][phases]") {
    const fs::path dir = TestDir("phases-user");
    {
        auto r = Record(dir, "sched", 600.0, 170.0, 130.0);
        CHECK(r.session->phase() == SessionPhase::Recovery);
        CHECK_THAT(*r.session->recovery_start_s(), WithinAbs(130.0, 1e-9));
        r.session->Stop(170.0);
        const auto ev = PhaseEvents(r.folder);
        REQUIRE(ev.size() == 3);
        CHECK(ev[2].text == "recovery: scheduled");
        CHECK_THAT(ev[2].t_s, WithinAbs(130.0, 1e-9));
    }
    {
        auto r = Record(dir, "user", 600.0, 60.0);
        CHECK(r.session->phase() == SessionPhase::Baseline);
        r.session->StartRecovery();
        r.session->StartRecovery();  // once only
        CHECK(r.session->phase() == SessionPhase::Recovery);
        for (double t = 60.05; t <= 130.0; t += 0.05) r.session->Update(t);
        r.session->Stop(130.0);
        // Recovery before the baseline ended: no practice phase at all.
        const auto ev = PhaseEvents(r.folder);
        REQUIRE(ev.size() == 2);
        CHECK(ev[1].text == "recovery: ended by the user");
        CHECK_THAT(ev[1].t_s, WithinAbs(60.0, 0.06));
    }
}

TEST_CASE("ratings and note: kept while recording and after the end, bad values refused", "[history][journal]") {
    const fs::path dir = TestDir("journal");
    auto r = Record(dir, "j", 600.0, 5.0);
    LiveSession& s = *r.session;
    CHECK(s.SetRatings(7, std::nullopt, "").empty());
    SessionMeta m;
    std::string error;
    REQUIRE(SessionStore::LoadMeta(r.folder, m, error));
    CHECK(m.status == "recording");
    CHECK(m.distress_before == 7);
    CHECK_FALSE(m.distress_after);

    s.Stop(5.0);
    CHECK(s.SetRatings(7, 3, "Tense shoulders at first, \"calm\" at the end.\nSecond line").empty());
    REQUIRE(SessionStore::LoadMeta(r.folder, m, error));
    CHECK(m.status == "complete");  // the final summary is untouched
    CHECK_THAT(m.summary.duration_s, WithinAbs(5.0, 1e-9));
    CHECK(m.distress_before == 7);
    CHECK(m.distress_after == 3);
    CHECK(m.note == "Tense shoulders at first, \"calm\" at the end.\nSecond line");

    // Out of range or too long: refused, nothing changed.
    CHECK_FALSE(s.SetRatings(11, 3, "x").empty());
    CHECK_FALSE(s.SetRatings(-1, 3, "x").empty());
    CHECK_FALSE(SaveJournal(r.folder, 7, 12, "x").empty());
    CHECK_FALSE(SaveJournal(r.folder, 7, 3, std::string(kMaxNoteBytes + 1, 'a')).empty());
    REQUIRE(SessionStore::LoadMeta(r.folder, m, error));
    CHECK(m.distress_after == 3);
    CHECK(m.note.rfind("Tense", 0) == 0);

    // The report shows both ratings, the change and the note (escaped).
    const fs::path html = dir / "r.html";
    REQUIRE(WriteSessionReport(r.folder, html).empty());
    const std::string page = ReadAll(html);
    CHECK(page.find("&quot;calm&quot;") != std::string::npos);
    CHECK(page.find("calmer after the session") != std::string::npos);

    // A session.json that cannot be read completely is not rewritten.
    const fs::path bad = ProfileSessionsDir(dir, "p") / "bad";
    fs::create_directories(bad);
    REQUIRE(WriteFileAtomic(bad / "session.json", R"({"id": "bad", "note": 5, "started_utc": "x"})").empty());
    CHECK_FALSE(SaveJournal(bad, 1, 2, "n").empty());
    CHECK(ReadAll(bad / "session.json").find("\"note\": 5") != std::string::npos);
}

TEST_CASE("history rows: newest first with the key figures and distress change", "[history]") {
    std::vector<SessionEntry> entries(2);
    entries[0].id = "old";
    entries[0].readable = true;
    entries[0].meta.started_utc = "2026-11-01T08:00:00Z";
    entries[0].meta.status = "complete";
    entries[0].meta.summary.duration_s = 600;
    entries[0].meta.summary.rmssd_ms = 41.5;
    entries[0].meta.distress_before = 6;
    entries[0].meta.distress_after = 2;
    entries[1].id = "new";
    entries[1].readable = true;
    entries[1].meta.started_utc = "2026-11-02T08:00:00Z";
    entries[1].meta.status = "recovered";
    entries[1].meta.distress_before = 5;
    const auto rows = HistoryRows(entries);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].id == "new");
    CHECK_FALSE(rows[0].distress_change);
    CHECK(rows[0].status == "recovered");
    CHECK(rows[1].id == "old");
    CHECK(rows[1].distress_change == -4);
    CHECK(rows[1].rmssd_ms == 41.5);
    CHECK(rows[1].duration_s == 600);
}

TEST_CASE("trash and export of a recorded session; sessions --trends/--delete/--export", "[history][cli]") {
    const fs::path dir = TestDir("trash-export");
    const fs::path data = dir / "data";
    fs::path folder;
    std::size_t beats = 0;
    {
        auto r = Record(data, "20261120-100000-test", 600.0, 90.0);
        r.session->Stop(90.0);
        REQUIRE(r.session->SetRatings(8, 4, "note <b>").empty());
        folder = r.folder;
        for (const auto& c : r.session->classified_beats()) beats += c.ibi_ms > 0.0;
    }
    REQUIRE(beats > 80);

    // Export: report, both RR files and the CSV streams, in a fresh folder each time.
    fs::path written;
    REQUIRE(ExportSessionBundle(folder, dir / "out", &written).empty());
    CHECK(written == dir / "out" / "20261120-100000-test");
    for (const char* f : {"report.html", "rr-kubios.txt", "rr.txt", "csv/session.json", "csv/beats.csv", "csv/waveform.csv"})
        CHECK(fs::is_regular_file(written / f));
    std::ifstream rr(written / "rr.txt");
    std::size_t lines = 0;
    for (std::string l; std::getline(rr, l);) lines += !l.empty();
    CHECK(lines == beats);
    CHECK(ReadAll(written / "report.html").find("note &lt;b&gt;") != std::string::npos);
    fs::path second;
    REQUIRE(ExportSessionBundle(folder, dir / "out", &second).empty());
    CHECK(second.filename() == "20261120-100000-test-2");

    // CLI: trends of the only profile, as JSON.
    std::ostringstream out, err;
    SessionsCliOptions o;
    o.trends = true;
    o.json = true;
    REQUIRE(RunSessionsCli(data, o, out, err) == 0);
    const auto j = nlohmann::json::parse(out.str());
    CHECK(j.at("profile") == "p");
    REQUIRE(j.at("days").size() == 1);
    CHECK(j["days"][0].at("sessions") == 1);
    CHECK_THAT(j["days"][0].at("distress_change_mean").get<double>(), WithinAbs(-4.0, 1e-9));
    CHECK_THAT(j["days"][0].at("total_minutes").get<double>(), WithinAbs(1.5, 1e-6));
    REQUIRE(j.at("weeks").size() == 1);
    CHECK(j["weeks"][0].at("label") == "2026-W47");

    // Two actions at once, --to without --export, unknown sessions and profiles.
    o = {};
    o.trends = true;
    o.delete_id = "x";
    CHECK(RunSessionsCli(data, o, out, err) == 2);
    o = {};
    o.export_to = "x";
    CHECK(RunSessionsCli(data, o, out, err) == 2);
    o = {};
    o.delete_id = "no-such-session";
    CHECK(RunSessionsCli(data, o, out, err) == 3);
    o = {};
    o.trends = true;
    o.profile = "nobody";
    CHECK(RunSessionsCli(data, o, out, err) == 3);
    REQUIRE(CreateProfile(data, "q").empty());
    o.profile.clear();
    CHECK(RunSessionsCli(data, o, out, err) == 2);  // two profiles: say which

    // Export and delete through the CLI: the session moves to <data>/trash/<profile>/.
    o = {};
    o.export_id = "20261120-100000-test";
    o.export_to = (dir / "cli-out").string();
    REQUIRE(RunSessionsCli(data, o, out, err) == 0);
    CHECK(fs::is_regular_file(dir / "cli-out" / "20261120-100000-test" / "report.html"));
    o = {};
    o.delete_id = "20261120-100000-test";
    o.profile = "p";
    REQUIRE(RunSessionsCli(data, o, out, err) == 0);
    CHECK_FALSE(fs::exists(folder));
    CHECK(fs::is_regular_file(data / "trash" / "p" / "20261120-100000-test" / "session.json"));
    CHECK(SessionStore(data).ListSessions("p").empty());

    // The trash refuses anything that is not a session folder.
    const SessionStore store(data);
    CHECK_FALSE(store.MoveToTrash(data / "profiles" / "p").empty());
    CHECK_FALSE(store.MoveToTrash(dir / "out").empty());
    CHECK(fs::exists(dir / "out"));
}
