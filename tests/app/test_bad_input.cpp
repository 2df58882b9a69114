// Bad input, end to end through the real binary (README "Bad input" table): random bytes (what a
// wrong baud rate looks like), a sensor that stops sending mid-session, an unwritable data folder,
// a malformed preset, a corrupt session.json. Each: no crash, a clear message, nothing invented,
// nothing recorded lost.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "attune/core/session_data.hpp"
#include "attune/devices/sensor_text.hpp"
#include "attune/devices/simulated_heart.hpp"
#include "run_command.hpp"

namespace fs = std::filesystem;
using namespace attune;

namespace {

fs::path FreshDir(const std::string& name) {
    const fs::path d = fs::path(ATTUNE_TEST_TMP_DIR) / ("bad-input-" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

std::string Slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The JSON summary is the last line of the output (stderr lines come first).
nlohmann::json LastJson(const std::string& output) {
    const auto at = output.rfind("\n{");
    return nlohmann::json::parse(at == std::string::npos ? output : output.substr(at + 1));
}

std::string Exe() { return std::string("'") + ATTUNE_EXE + "'"; }

}  // namespace

TEST_CASE("bad input: random bytes from the sensor (as at a wrong baud rate) give no beats and say 'wrong baud rate?'", "[bad-input]") {
    const fs::path dir = FreshDir("garbage");
    std::mt19937 rng(1);
    std::string bytes(40000, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
    {
        std::ofstream(dir / "noise.bin", std::ios::binary) << bytes;
    }
    const auto r = test::RunCommand(Exe() + " --headless --duration 6 --json --source replay:'" + (dir / "noise.bin").string() +
                                    "' --data-dir '" + (dir / "data").string() + "' --config-dir '" + (dir / "cfg").string() + "' 2>&1");
    REQUIRE(r.exit_code == 0);
    const auto j = LastJson(r.output);
    CHECK(j.at("beats") == 0);           // nothing invented
    CHECK(j.at("format") == "unknown");
    CHECK(j.at("recorded") == true);
    // The user sees the diagnosis in the Sensor section; the session's events keep it too.
    const std::string events = Slurp(fs::path(j.at("session_folder").get<std::string>()) / "events.csv");
    CHECK(events.find("wrong baud rate?") != std::string::npos);
}

TEST_CASE("bad input: a sensor that stops sending mid-session: 'no data for 5 s', its beats kept, none invented", "[bad-input][tty]") {
    const fs::path dir = FreshDir("stops");
    int master = -1, slave = -1;
    char name[128] = {};
    REQUIRE(::openpty(&master, &slave, name, nullptr, nullptr) == 0);
    termios t{};
    ::tcgetattr(slave, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(slave, TCSANOW, &t);
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    ::fcntl(master, F_SETFD, FD_CLOEXEC);
    ::close(slave);

    std::string output;
    int exit_code = -1;
    std::thread app([&] {
        auto r = test::RunCommand(Exe() + " --headless --duration 16 --json --source tty:" + name + " --data-dir '" +
                                  (dir / "data").string() + "' --config-dir '" + (dir / "cfg").string() + "' 2>&1");
        output = r.output;
        exit_code = r.exit_code;
    });
    // 7 s of a PulseSensor, then silence with the port still open (a sketch that hung).
    devices::SimParams sp;
    sp.seed = 9;
    devices::SimulatedHeart heart(sp);
    std::vector<devices::DeviceEvent> events;
    int sent = 0;
    const auto start = std::chrono::steady_clock::now();
    for (double ts = 0.02; ts <= 7.0; ts += 0.02) {
        events.clear();
        heart.Poll(ts, events);
        std::string bytes;
        for (const auto& e : events) {
            if (e.kind == devices::EventKind::Sample) bytes += devices::VisualizerSampleLine(static_cast<int>(e.value));
            else if (e.kind == devices::EventKind::Beat && e.value > 0) {
                bytes += devices::VisualizerBpmLine(static_cast<int>(std::lround(60000.0 / e.value)));
                bytes += devices::VisualizerIbiLine(static_cast<int>(std::lround(e.value)));
                ++sent;
            }
        }
        if (::write(master, bytes.data(), bytes.size()) < 0) { /* nobody reading yet */ }
        std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>(ts * 1e6)));
    }
    app.join();
    ::close(master);
    REQUIRE(exit_code == 0);
    const auto j = LastJson(output);
    const int beats = j.at("beats").get<int>();
    CHECK(beats > 0);
    CHECK(beats <= sent);  // nothing invented during the silence
    const fs::path folder = j.at("session_folder").get<std::string>();
    const std::string ev = Slurp(folder / "events.csv");
    CHECK(ev.find("no data for 5 s") != std::string::npos);
    // Every beat the session counted is in the folder.
    std::ifstream in(folder / "beats.csv");
    std::string line;
    int rows = -1;  // header
    while (std::getline(in, line)) ++rows;
    CHECK(rows == beats + j.at("rejected_beats").get<int>());
}

TEST_CASE("bad input: an unwritable data folder: the session runs, one clear line says it is not recorded", "[bad-input]") {
    const fs::path dir = FreshDir("unwritable");
    { std::ofstream(dir / "a-file") << "x"; }  // a data folder under a file cannot be created, even as root
    const auto r = test::RunCommand(Exe() + " --headless --duration 3 --speed 10 --json --data-dir '" + (dir / "a-file" / "data").string() +
                                    "' --config-dir '" + (dir / "cfg").string() + "' 2>&1");
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("not recording this session") != std::string::npos);
    CHECK(r.output.find("Not a directory") != std::string::npos);
    const auto j = LastJson(r.output);
    CHECK(j.at("recorded") == false);
    CHECK(j.at("beats").get<int>() > 0);
}

TEST_CASE("bad input: a malformed preset file is skipped with its name and the problem; the others load", "[bad-input]") {
    const fs::path dir = FreshDir("preset");
    fs::create_directories(dir / "cfg" / "presets");
    { std::ofstream(dir / "cfg" / "presets" / "broken.json") << "{\"id\": \"broken\", \"inhale_s\": 4, \"exhale_s\": -2"; }
    { std::ofstream(dir / "cfg" / "presets" / "negative.json") << "{\"id\": \"negative\", \"inhale_s\": 4, \"exhale_s\": -2}"; }
    const auto r = test::RunCommand(Exe() + " --headless --duration 2 --speed 10 --json --no-record --preset box --config-dir '" +
                                    (dir / "cfg").string() + "' 2>&1");
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("preset skipped: " + (dir / "cfg" / "presets" / "broken.json").string() + ": not valid JSON") != std::string::npos);
    CHECK(r.output.find("negative.json: phase") != std::string::npos);
    CHECK(LastJson(r.output).at("preset") == "box");
}

TEST_CASE("bad input: a corrupt session.json: listed with the problem, the other sessions and its streams kept", "[bad-input]") {
    const fs::path dir = FreshDir("corrupt-session");
    const fs::path data = dir / "data";
    auto r = test::RunCommand(Exe() + " --headless --duration 20 --speed 20 --json --data-dir '" + data.string() + "' --config-dir '" +
                              (dir / "cfg").string() + "'");
    REQUIRE(r.exit_code == 0);
    const fs::path folder = LastJson(r.output).at("session_folder").get<std::string>();
    const auto beats_before = fs::file_size(folder / "beats.csv");
    { std::ofstream(folder / "session.json", std::ios::trunc) << "{\"id\": \"x\", \"status\": \"compl"; }  // cut short
    r = test::RunCommand(Exe() + " sessions --json --data-dir '" + data.string() + "' 2>&1");
    REQUIRE(r.exit_code == 0);
    const auto j = LastJson(r.output);
    REQUIRE(j.at("sessions").size() == 1);
    CHECK(j.at("sessions")[0].contains("error"));
    CHECK(fs::file_size(folder / "beats.csv") == beats_before);  // nothing deleted or rewritten
    // The report command says what is wrong instead of crashing.
    r = test::RunCommand(Exe() + " report '" + folder.string() + "' --out '" + (dir / "r.html").string() + "' --data-dir '" + data.string() + "' 2>&1");
    CHECK(r.exit_code == 3);
    CHECK(r.output.find("session.json") != std::string::npos);
}

TEST_CASE("bad input: a full disk (a 64 KiB tmpfs): the recording stops with a message, the session goes on, what was written stays", "[bad-input][root]") {
    const fs::path dir = FreshDir("full-disk");
    const fs::path mnt = dir / "tiny";
    fs::create_directories(mnt);
    if (::geteuid() != 0 || std::system(("mount -t tmpfs -o size=64k tmpfs '" + mnt.string() + "' 2>/dev/null").c_str()) != 0) {
        WARN("not root or no tmpfs: the full-disk case is covered by core.recorder's RLIMIT_FSIZE test only");
        return;
    }
    struct Unmount {
        fs::path p;
        ~Unmount() { (void)std::system(("umount '" + p.string() + "'").c_str()); }
    } unmount{mnt};
    const auto r = test::RunCommand(Exe() + " --headless --duration 60 --speed 30 --json --data-dir '" + (mnt / "data").string() +
                                    "' --config-dir '" + (dir / "cfg").string() + "' 2>&1");
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("Recording stopped: could not write") != std::string::npos);
    CHECK(r.output.find("No space left on device") != std::string::npos);
    const auto j = LastJson(r.output);
    CHECK(j.at("recorded") == false);
    CHECK(j.at("beats").get<int>() > 40);  // the session itself ran to the end
    // What reached the disk still loads (a line cut by the full disk is dropped by the reader).
    std::string error;
    const auto data = core::LoadSession(j.at("session_folder").get<std::string>(), error);
    INFO(error);
    CHECK(data.has_value());
}
