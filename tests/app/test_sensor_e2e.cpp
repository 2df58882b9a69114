// End to end on a pseudo-terminal: a fake PulseSensor (the simulated heart printing the
// visualizer format at real speed) writes into a pty; the app runs headless with
// --source tty:<symlink>; the beats it records match what the sensor sent. Closing the pty
// (an unplug) and opening a new one at the same symlink path: the app reconnects.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "attune/devices/sensor_text.hpp"
#include "attune/devices/simulated_heart.hpp"
#include "fake_pty.hpp"
#include "run_command.hpp"

namespace fs = std::filesystem;
using namespace attune;

namespace {

using attune::test::Pty;  // tests/support/fake_pty.hpp

using attune::test::PointLink;

// Writes the fake sensor's bytes in real time, 20 ms at a time, from `from_s` to `to_s` of the
// sensor's own clock. Records the intervals it reported (Q lines).
void Feed(int fd, devices::SimulatedHeart& heart, double from_s, double to_s, std::vector<int>& sent_ibi_ms) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<devices::DeviceEvent> events;
    for (double t = from_s + 0.02; t <= to_s; t += 0.02) {
        events.clear();
        heart.Poll(t, events);
        std::string bytes;
        for (const auto& e : events) {
            if (e.kind == devices::EventKind::Sample) bytes += devices::VisualizerSampleLine(static_cast<int>(e.value));
            else if (e.kind == devices::EventKind::Beat && e.value > 0) {
                const int ibi = static_cast<int>(std::lround(e.value));
                bytes += devices::VisualizerBpmLine(static_cast<int>(std::lround(60000.0 / e.value)));
                bytes += devices::VisualizerIbiLine(ibi);
                sent_ibi_ms.push_back(ibi);
            }
        }
        if (!bytes.empty() && ::write(fd, bytes.data(), bytes.size()) < 0) { /* reader gone: keep time */ }
        std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<long>((t - from_s) * 1e6)));
    }
}

std::vector<int> ReadBeatsOut(const fs::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    REQUIRE(line == "t_s,ibi_ms,flag");
    std::vector<int> ibi;
    while (std::getline(in, line)) {
        const auto a = line.find(','), b = line.find(',', a + 1);
        ibi.push_back(static_cast<int>(std::lround(std::stod(line.substr(a + 1, b - a - 1)))));
    }
    return ibi;
}

// True when `part` appears in `whole` as one contiguous run.
bool ContiguousIn(const std::vector<int>& part, const std::vector<int>& whole) {
    if (part.empty()) return false;
    for (std::size_t i = 0; i + part.size() <= whole.size(); ++i)
        if (std::equal(part.begin(), part.end(), whole.begin() + static_cast<long>(i))) return true;
    return false;
}

}  // namespace

TEST_CASE("a fake PulseSensor on a pty: the app records the beats it sent and survives an unplug", "[e2e][tty]") {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "sensor-e2e";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path link = dir / "fake-sensor", beats = dir / "beats.csv";

    auto pty1 = std::make_unique<Pty>();
    PointLink(link, pty1->name);
    devices::SimParams sp;
    sp.seed = 5;
    devices::SimulatedHeart heart(sp);

    std::string output;
    int exit_code = -1;
    std::thread app([&] {
        auto r = test::RunCommand(std::string("'") + ATTUNE_EXE + "' --headless --no-record --duration 16 --json --source tty:'" +
                                  link.string() + "' --beats-out '" + beats.string() + "' --config-dir '" + (dir / "cfg").string() + "'");
        output = r.output;
        exit_code = r.exit_code;
    });
    std::vector<int> sent;
    Feed(pty1->master, heart, 0.0, 7.0, sent);
    // Unplug: the pty disappears; a new one appears at the same path 0.5 s later.
    pty1->Close();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto pty2 = std::make_unique<Pty>();
    PointLink(link, pty2->name);
    std::vector<int> sent_after;
    Feed(pty2->master, heart, 7.0, 17.5, sent_after);
    app.join();

    REQUIRE(exit_code == 0);
    const auto j = nlohmann::json::parse(output);
    CHECK(j.at("format") == "pulsesensor-visualizer");
    CHECK(j.at("reconnects").get<int>() >= 1);
    CHECK(j.at("lines").get<int>() > 3000);
    CHECK(j.at("beat_source") == "intervals reported by the sensor");
    CHECK_THAT(j.at("sample_rate_hz").get<double>(), Catch::Matchers::WithinRel(500.0, 0.05));

    // The beats recorded are the sensor's intervals, in order, none invented: before the unplug
    // a run of what was sent, after it another run (the interval spanning the gap is not one).
    const auto got = ReadBeatsOut(beats);
    INFO("sent " << sent.size() << " + " << sent_after.size() << ", recorded " << got.size());
    REQUIRE(got.size() >= 8);
    std::vector<int> all = sent;
    all.insert(all.end(), sent_after.begin(), sent_after.end());
    std::size_t matched = 0;
    for (int v : got) matched += std::find(all.begin(), all.end(), v) != all.end();
    CHECK(matched == got.size());
    CHECK(got.size() >= (sent.size() + sent_after.size()) * 6 / 10);  // a few lost at start-up and around the gap
    CHECK(ContiguousIn(std::vector<int>(got.begin(), got.begin() + 3), all));
}
