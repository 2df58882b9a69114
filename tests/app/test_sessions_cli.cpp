// Sessions end to end: a headless run is recorded, listed by `attune sessions` with the same
// figures, turned into a report by `attune report`; killing the app mid-session loses at most
// about a second and the next start recovers the session and says so.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace fs = std::filesystem;
using attune::test::RunCommand;

namespace {

std::string Exe() { return std::string("'") + ATTUNE_EXE + "'"; }

std::string ReadAll(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

double LastTime(const fs::path& csv) {
    std::ifstream in(csv);
    std::string line, last;
    std::getline(in, line);  // header
    while (std::getline(in, line))
        if (!line.empty()) last = line;
    return last.empty() ? -1.0 : std::stod(last.substr(0, last.find(',')));
}

}  // namespace

TEST_CASE("a headless session is recorded, listed and reported", "[sessions][report]") {
    const fs::path root = fs::path(ATTUNE_TEST_TMP_DIR) / "sessions-e2e";
    fs::remove_all(root);
    const std::string dirs = " --data-dir '" + (root / "data").string() + "' --config-dir '" + (root / "config").string() + "'";
    auto run = RunCommand(Exe() + " --headless --duration 240 --speed 60 --json --profile client-07" + dirs);
    REQUIRE(run.exit_code == 0);
    const auto j = nlohmann::json::parse(run.output);
    REQUIRE(j.at("recorded") == true);
    const fs::path folder = j.at("session_folder").get<std::string>();
    for (const char* f : {"session.json", "beats.csv", "waveform.csv", "pacer.csv", "metrics.csv", "events.csv"})
        CHECK(fs::exists(folder / f));
    CHECK_FALSE(fs::exists(folder / "lock"));
    CHECK((fs::status(folder / "session.json").permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);

    auto list = RunCommand(Exe() + " sessions --json" + dirs);
    REQUIRE(list.exit_code == 0);
    const auto sessions = nlohmann::json::parse(list.output).at("sessions");
    REQUIRE(sessions.size() == 1);
    const auto& s = sessions[0];
    CHECK(s.at("id") == j.at("session_id"));
    CHECK(s.at("profile") == "client-07");
    CHECK(s.at("status") == "complete");
    CHECK_THAT(s.at("duration_s").get<double>(), Catch::Matchers::WithinAbs(240.0, 0.5));
    CHECK_THAT(s.at("hr_mean_bpm").get<double>(), Catch::Matchers::WithinAbs(j.at("hr_mean_bpm").get<double>(), 1e-6));
    CHECK_THAT(s.at("rmssd_ms").get<double>(), Catch::Matchers::WithinAbs(j.at("rmssd_ms").get<double>(), 1e-6));
    // An unknown profile is bad input.
    CHECK(RunCommand(Exe() + " sessions --profile nobody" + dirs + " 2>&1").exit_code == 3);

    const fs::path html = root / "report.html";
    auto rep = RunCommand(Exe() + " report " + j.at("session_id").get<std::string>() + " --out '" + html.string() + "'" + dirs);
    REQUIRE(rep.exit_code == 0);
    const std::string page = ReadAll(html);
    CHECK(page.find("<svg") != std::string::npos);
    CHECK(page.find("http://") == std::string::npos);
    CHECK(page.find("https://") == std::string::npos);
    char rmssd[32];
    std::snprintf(rmssd, sizeof rmssd, "%.1f", s.at("rmssd_ms").get<double>());
    CHECK(page.find(rmssd) != std::string::npos);
    CHECK(RunCommand(Exe() + " report no-such-session --out '" + html.string() + "'" + dirs + " 2>&1").exit_code == 3);
}

TEST_CASE("kill -9 mid-session loses at most a second and the session is recovered", "[sessions][crash]") {
    const fs::path root = fs::path(ATTUNE_TEST_TMP_DIR) / "sessions-crash";
    fs::remove_all(root);
    const std::string dirs = " --data-dir '" + (root / "data").string() + "' --config-dir '" + (root / "config").string() + "'";
    const fs::path pidfile = root / "pid";
    fs::create_directories(root);
    // Real time (speed 1) so "a second" means a second of the session.
    // Built with append: GCC 12 raises a false -Wrestrict on long "a" + s + "b" chains.
    std::string cmd = "(";
    cmd.append(Exe()).append(" --headless --duration 600 --speed 1 --profile crash").append(dirs);
    cmd.append(" >/dev/null 2>&1 & echo $! > '").append(pidfile.string()).append("')");
    RunCommand(cmd);
    std::this_thread::sleep_for(std::chrono::milliseconds(4500));
    const std::string pid = ReadAll(pidfile);
    REQUIRE_FALSE(pid.empty());
    const auto killed_at = std::chrono::steady_clock::now();
    REQUIRE(RunCommand("kill -9 " + pid).exit_code == 0);
    (void)killed_at;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    const fs::path sessions = root / "data" / "profiles" / "crash" / "sessions";
    REQUIRE(fs::exists(sessions));
    fs::path folder;
    for (const auto& e : fs::directory_iterator(sessions)) folder = e.path();
    REQUIRE_FALSE(folder.empty());
    // The process ran ~4.5 s (minus start-up); what is on disk reaches within ~1 s of that.
    const double waveform_end = LastTime(folder / "waveform.csv");
    const double pacer_end = LastTime(folder / "pacer.csv");
    INFO("waveform to " << waveform_end << " s, pacer to " << pacer_end << " s");
    CHECK(waveform_end > 4.5 - 0.6 - 1.2);  // start-up (< 0.6 s) + flush interval (1 s) + slack
    CHECK(pacer_end > 4.5 - 0.6 - 1.2);

    // The next start (here: `attune sessions`) recovers it and says so.
    auto list = RunCommand(Exe() + " sessions --json" + dirs + " 2>&1 >/dev/null");
    CHECK(list.output.find("ecover") != std::string::npos);
    auto json = RunCommand(Exe() + " sessions --json" + dirs + " 2>/dev/null");
    const auto s = nlohmann::json::parse(json.output).at("sessions").at(0);
    CHECK(s.at("status") == "recovered");
    CHECK(s.at("duration_s").get<double>() > 2.5);
}

TEST_CASE("ratings and note from the command line land in the summary, listing and report", "[sessions][journal]") {
    const fs::path root = fs::path(ATTUNE_TEST_TMP_DIR) / "sessions-journal";
    fs::remove_all(root);
    const std::string dirs = " --data-dir '" + (root / "data").string() + "' --config-dir '" + (root / "config").string() + "'";
    std::string cmd = Exe();
    cmd.append(" --headless --duration 150 --speed 60 --json --recovery-at 130 --rating-before 7 --rating-after 3");
    cmd.append(" --note 'Shoulders tense <at first>, calmer later'").append(dirs);
    auto run = RunCommand(cmd);
    REQUIRE(run.exit_code == 0);
    const auto j = nlohmann::json::parse(run.output);
    const fs::path folder = j.at("session_folder").get<std::string>();
    const auto meta = nlohmann::json::parse(ReadAll(folder / "session.json"));
    CHECK(meta.at("status") == "complete");
    CHECK(meta.at("ratings").at("distress_before") == 7);
    CHECK(meta.at("ratings").at("distress_after") == 3);
    CHECK(meta.at("note") == "Shoulders tense <at first>, calmer later");
    const std::string events = ReadAll(folder / "events.csv");
    CHECK(events.find("0,phase,baseline") != std::string::npos);
    CHECK(events.find("120,phase,practice") != std::string::npos);
    CHECK(events.find("130,phase,recovery: scheduled") != std::string::npos);

    auto list = RunCommand(Exe() + " sessions --json" + dirs);
    REQUIRE(list.exit_code == 0);
    const auto s = nlohmann::json::parse(list.output).at("sessions").at(0);
    CHECK(s.at("distress_before") == 7);
    CHECK(s.at("distress_after") == 3);
    CHECK(s.at("note") == "Shoulders tense <at first>, calmer later");
    auto text = RunCommand(Exe() + " sessions" + dirs);
    CHECK(text.output.find("7->3") != std::string::npos);

    const fs::path html = root / "report.html";
    REQUIRE(RunCommand(Exe() + " report " + j.at("session_id").get<std::string>() + " --out '" + html.string() + "'" + dirs).exit_code == 0);
    const std::string page = ReadAll(html);
    CHECK(page.find("Shoulders tense &lt;at first&gt;, calmer later") != std::string::npos);
    CHECK(page.find("calmer after the session") != std::string::npos);

    // Out of range: a usage error, nothing recorded.
    CHECK(RunCommand(Exe() + " --headless --duration 5 --speed 10 --rating-before 11" + dirs + " 2>&1").exit_code == 2);

    // The history window opens headless over the recorded sessions.
    const fs::path png = root / "history.png";
    REQUIRE(RunCommand(Exe() + " --headless --duration 2 --speed 10 --no-record --show history --screenshot '" + png.string() + "'" + dirs).exit_code == 0);
    CHECK(fs::file_size(png) > 10000);
    // Trends and delete through the CLI.
    auto trends = RunCommand(Exe() + " sessions --trends --json" + dirs);
    REQUIRE(trends.exit_code == 0);
    CHECK(nlohmann::json::parse(trends.output).at("days").at(0).at("distress_change_mean") == -4.0);
    REQUIRE(RunCommand(Exe() + " sessions --delete " + j.at("session_id").get<std::string>() + dirs).exit_code == 0);
    CHECK_FALSE(fs::exists(folder));
    CHECK(nlohmann::json::parse(RunCommand(Exe() + " sessions --json" + dirs).output).at("sessions").empty());
}
