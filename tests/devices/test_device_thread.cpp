// The device thread end to end on pseudo-terminals: a fake sensor writes lines at real speed
// into the pty master; events come through the SPSC queue in order; closing the master (an
// unplug) is reported within 1 s; re-pointing a symlink at a new pty brings the device back
// within 2 s with a status marking the gap; Stop() returns within 200 ms in every state.
// The decoder here is a tiny stand-in ("S<int>" lines -> Sample events), not the real one.
#include <catch2/catch.hpp>

#include <pty.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "attune/devices/device_thread.hpp"
#include "attune/devices/replay_transport.hpp"
#include "attune/devices/threaded_source.hpp"
#include "attune/devices/tty_transport.hpp"

using namespace attune::devices;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// "S<n>" + ending. (Built by appending: `"S" + std::to_string(n)` trips GCC 12's false
// -Wrestrict warning, PR 105329.)
std::string Line(int n, const char* ending) {
    std::string s = "S";
    s += std::to_string(n);
    s += ending;
    return s;
}

// "S<int>" lines -> Sample(value); anything else ignored. Reset drops a partial line.
class TinyDecoder final : public ByteDecoder {
public:
    void Feed(const std::uint8_t* data, std::size_t n, double t_s, std::vector<DeviceEvent>& out) override {
        for (std::size_t i = 0; i < n; ++i) {
            const char c = static_cast<char>(data[i]);
            if (c == '\n' || c == '\r') {
                if (m_line.size() > 1 && m_line[0] == 'S') {
                    bool digits = true;
                    for (std::size_t k = 1; k < m_line.size(); ++k) digits = digits && std::isdigit(static_cast<unsigned char>(m_line[k]));
                    if (digits) {
                        DeviceEvent e;
                        e.kind = EventKind::Sample;
                        e.t_s = t_s;
                        e.value = std::stod(m_line.substr(1));
                        out.push_back(e);
                    }
                }
                m_line.clear();
            } else {
                m_line.push_back(c);
            }
        }
    }
    void Reset() override {
        m_line.clear();
        ++resets;
    }
    std::atomic<int> resets{0};

private:
    std::string m_line;
};

struct Pty {
    int master = -1;
    std::string slave_path;
    Pty() {
        int slave = -1;
        char name[256] = {};
        if (::openpty(&master, &slave, name, nullptr, nullptr) == 0) {
            slave_path = name;
            ::close(slave);  // only the transport holds the slave
        }
    }
    ~Pty() { Close(); }
    void Close() {
        if (master >= 0) ::close(master);
        master = -1;
    }
};

// Writes "S<n>\r\n" every period into the master, like a sensor at real speed.
class FakeSensor {
public:
    FakeSensor(int fd, int first, std::chrono::milliseconds period) : m_next(first) {
        m_thread = std::thread([this, fd, period] {
            auto due = Clock::now();
            while (!m_stop.load()) {
                const std::string line = Line(m_next.load(), "\r\n");
                if (::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size())) ++m_next;
                due += period;
                std::this_thread::sleep_until(due);
            }
        });
    }
    ~FakeSensor() { Stop(); }
    void Stop() {
        m_stop = true;
        if (m_thread.joinable()) m_thread.join();
    }
    int Next() const { return m_next.load(); }

private:
    std::atomic<int> m_next;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
};

struct SessionTime {
    Clock::time_point origin = Clock::now();
    double operator()() const { return std::chrono::duration<double>(Clock::now() - origin).count(); }
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }


DeviceThreadConfig TtyConfig(const std::string& path, SessionTime clock, TinyDecoder** decoder_out = nullptr) {
    DeviceThreadConfig cfg;
    cfg.make_transport = [path] { return std::make_unique<TtyTransport>(path, 115200); };
    auto decoder = std::make_unique<TinyDecoder>();
    if (decoder_out) *decoder_out = decoder.get();
    cfg.decoder = std::move(decoder);
    cfg.clock = clock;
    return cfg;
}

// Polls the source every 5 ms into `all` until an event satisfies `done` (returned) or the
// budget runs out (nullopt).
std::optional<DeviceEvent> PollUntil(ThreadedSource& src, const SessionTime& clock, std::vector<DeviceEvent>& all,
                                     double budget_ms, const std::function<bool(const DeviceEvent&)>& done) {
    const auto end = Clock::now() + std::chrono::microseconds(static_cast<long long>(budget_ms * 1000));
    std::vector<DeviceEvent> chunk;
    while (Clock::now() < end) {
        chunk.clear();
        src.Poll(clock(), chunk);
        std::optional<DeviceEvent> hit;
        for (DeviceEvent& e : chunk) {
            if (!hit && done(e)) hit = e;
            all.push_back(std::move(e));
        }
        if (hit) return hit;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
}

bool IsStatus(const DeviceEvent& e, const std::string& prefix) {
    return e.kind == EventKind::Status && e.text.rfind(prefix, 0) == 0;
}

std::vector<double> SampleValues(const std::vector<DeviceEvent>& events) {
    std::vector<double> v;
    for (const DeviceEvent& e : events) {
        if (e.kind == EventKind::Sample) v.push_back(e.value);
    }
    return v;
}

void RepointSymlink(const fs::path& link, const std::string& target) {
    const fs::path tmp = link.string() + ".new";
    fs::remove(tmp);
    fs::create_symlink(target, tmp);
    fs::rename(tmp, link);  // atomic replacement
}

fs::path TmpDir() {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "device_thread";
    fs::create_directories(dir);
    return dir;
}

}  // namespace

TEST_CASE("device thread: lines from a fake sensor arrive in order, stamped with session time", "[device]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    SessionTime clock;
    ThreadedSource src(TtyConfig(pty.slave_path, clock));
    CHECK(src.Describe() == "tty " + pty.slave_path + " @115200");

    std::vector<DeviceEvent> all;
    REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "opened"); }));
    CHECK(src.Counters().State() == DeviceState::Open);

    FakeSensor sensor(pty.master, 1, std::chrono::milliseconds(10));  // 100 lines/s
    REQUIRE(PollUntil(src, clock, all, 3000, [](const DeviceEvent& e) {
        return e.kind == EventKind::Sample && e.value >= 100;
    }));
    sensor.Stop();

    const std::vector<double> values = SampleValues(all);
    REQUIRE(values.size() >= 100);
    for (std::size_t i = 0; i < values.size(); ++i) CHECK(values[i] == static_cast<double>(i + 1));
    double last_t = -1.0;
    bool monotonic = true;
    for (const DeviceEvent& e : all) {
        monotonic = monotonic && e.t_s >= last_t;
        last_t = e.t_s;
    }
    CHECK(monotonic);
    CHECK(last_t <= clock());
    // ~100 lines/s over ~1 s of session time.
    const DeviceEvent* first = nullptr;
    for (const DeviceEvent& e : all) {
        if (e.kind == EventKind::Sample) {
            first = &e;
            break;
        }
    }
    REQUIRE(first != nullptr);
    CHECK(last_t - first->t_s == Approx(0.99).margin(0.15));
    CHECK(src.Counters().bytes.load() >= 450u);  // "S1\r\n" .. "S100\r\n": 492 bytes
    CHECK(src.Counters().dropped_events.load() == 0);

    // The thread is named for debuggers and top -H.
    bool named = false;
    for (const auto& task : fs::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string name;
        std::getline(comm, name);
        named = named || name == "attune-device";
    }
    CHECK(named);

    const auto t0 = Clock::now();
    src.Stop();
    const double stop_ms = Ms(Clock::now() - t0);
    CHECK(stop_ms < 200.0);
    WARN("Stop() while connected: " << stop_ms << " ms");
    CHECK(src.Counters().State() == DeviceState::Stopped);
}

TEST_CASE("device thread: unplug, then the same symlink path comes back on a new pty", "[device]") {
    const fs::path link = TmpDir() / "fake-sensor";
    Pty pty1;
    REQUIRE(pty1.master >= 0);
    RepointSymlink(link, pty1.slave_path);

    SessionTime clock;
    TinyDecoder* decoder = nullptr;
    ThreadedSource src(TtyConfig(link.string(), clock, &decoder));
    std::vector<DeviceEvent> all;
    const auto opened = PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "opened"); });
    REQUIRE(opened);
    CHECK(opened->text.find(pty1.slave_path) != std::string::npos);  // "(/dev/pts/N)"

    auto sensor1 = std::make_unique<FakeSensor>(pty1.master, 1, std::chrono::milliseconds(10));
    REQUIRE(PollUntil(src, clock, all, 3000, [](const DeviceEvent& e) {
        return e.kind == EventKind::Sample && e.value >= 30;
    }));
    sensor1->Stop();
    // A partial line just before the unplug must not glue onto the first line afterwards.
    REQUIRE(::write(pty1.master, "S12", 3) == 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

    // Unplug.
    const auto unplug = Clock::now();
    pty1.Close();
    const auto lost = PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "device lost"); });
    REQUIRE(lost);
    const double lost_ms = Ms(Clock::now() - unplug);
    CHECK(lost_ms < 1000.0);
    CHECK(src.Counters().State() == DeviceState::Lost);
    const double lost_t = lost->t_s;
    WARN("unplug noticed after " << lost_ms << " ms: " << lost->text);

    // Quiet for a while: retries fail (the old pts node is gone), no false "back".
    std::vector<DeviceEvent> during;
    CHECK_FALSE(PollUntil(src, clock, during, 600, [](const DeviceEvent& e) { return IsStatus(e, "device back"); }));
    all.insert(all.end(), during.begin(), during.end());

    // Plug back in: a new pty, the same symlink path.
    Pty pty2;
    REQUIRE(pty2.master >= 0);
    const auto replug = Clock::now();
    RepointSymlink(link, pty2.slave_path);
    const auto back_event = PollUntil(src, clock, all, 2000, [](const DeviceEvent& e) { return IsStatus(e, "device back"); });
    REQUIRE(back_event);
    const double back_ms = Ms(Clock::now() - replug);
    CHECK(back_ms < 2000.0);
    const DeviceEvent back = *back_event;
    WARN("reconnected " << back_ms << " ms after the symlink was re-pointed: " << back.text);
    CHECK(back.value == Approx(lost_t));          // gap start
    CHECK(back.t_s - back.value >= 0.55);         // gap end - start covers the quiet wait
    CHECK(back.text.find("gap") != std::string::npos);
    CHECK(back.text.find(pty2.slave_path) != std::string::npos);
    const std::vector<DeviceGap> gaps = src.Thread().Gaps();
    REQUIRE(gaps.size() == 1);
    CHECK(gaps[0].start_t_s == Approx(back.value));
    CHECK(gaps[0].end_t_s == Approx(back.t_s));
    CHECK(src.Counters().reconnects.load() == 1);
    CHECK(src.Counters().State() == DeviceState::Open);
    CHECK(decoder->resets.load() == 1);

    // Events continue from the new device.
    const std::size_t before = SampleValues(all).size();
    FakeSensor sensor2(pty2.master, 1000, std::chrono::milliseconds(10));
    REQUIRE(PollUntil(src, clock, all, 3000, [](const DeviceEvent& e) {
        return e.kind == EventKind::Sample && e.value >= 1020;
    }));
    sensor2.Stop();
    const std::vector<double> values = SampleValues(all);
    REQUIRE(values.size() > before);
    CHECK(values[before] == 1000.0);  // not "S12S1000"
    for (std::size_t i = before + 1; i < values.size(); ++i) CHECK(values[i] == values[i - 1] + 1.0);

    const auto t0 = Clock::now();
    src.Stop();
    const double stop_ms = Ms(Clock::now() - t0);
    CHECK(stop_ms < 200.0);
    fs::remove(link);
}

TEST_CASE("device thread: Stop() is prompt while waiting to reconnect or before the port exists", "[device]") {
    SessionTime clock;
    SECTION("never opened (no such path)") {
        ThreadedSource src(TtyConfig((TmpDir() / "nothing-here").string(), clock));
        std::vector<DeviceEvent> all;
        const auto cannot_open = PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "cannot open"); });
        REQUIRE(cannot_open);
        CHECK(cannot_open->text.find("retrying") != std::string::npos);
        CHECK(src.Counters().State() == DeviceState::Connecting);
        std::this_thread::sleep_for(std::chrono::milliseconds(120));  // inside a retry wait
        const auto t0 = Clock::now();
        src.Stop();
        const double ms = Ms(Clock::now() - t0);
        CHECK(ms < 200.0);
        WARN("Stop() while connecting: " << ms << " ms");
        // One status for a repeated error, not one every 250 ms.
        int cannot = 0;
        std::vector<DeviceEvent> rest;
        src.Poll(1e9, rest);
        for (const auto& e : all) cannot += IsStatus(e, "cannot open") ? 1 : 0;
        for (const auto& e : rest) cannot += IsStatus(e, "cannot open") ? 1 : 0;
        CHECK(cannot == 1);
        CHECK(src.Counters().open_failures.load() >= 1);
    }
    SECTION("lost, waiting to reconnect") {
        Pty pty;
        REQUIRE(pty.master >= 0);
        ThreadedSource src(TtyConfig(pty.slave_path, clock));
        std::vector<DeviceEvent> all;
        REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "opened"); }));
        pty.Close();
        REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "device lost"); }));
        std::this_thread::sleep_for(std::chrono::milliseconds(400));
        const auto t0 = Clock::now();
        src.Stop();
        const double ms = Ms(Clock::now() - t0);
        CHECK(ms < 200.0);
        WARN("Stop() while waiting to reconnect: " << ms << " ms");
    }
}

TEST_CASE("device thread: a quiet device is not lost", "[device]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    SessionTime clock;
    DeviceThreadConfig cfg = TtyConfig(pty.slave_path, clock);
    cfg.quiet_warning_s = 0.3;
    ThreadedSource src(std::move(cfg));
    std::vector<DeviceEvent> all;
    REQUIRE(PollUntil(src, clock, all, 1500, [](const DeviceEvent& e) { return IsStatus(e, "no data for"); }));
    CHECK_FALSE(PollUntil(src, clock, all, 300, [](const DeviceEvent& e) { return IsStatus(e, "device lost"); }));
    CHECK(src.Counters().State() == DeviceState::Open);
    CHECK(src.Counters().reconnects.load() == 0);
}

TEST_CASE("device thread: a full queue drops and counts events, never blocks, and says so", "[device]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    SessionTime clock;
    DeviceThreadConfig cfg = TtyConfig(pty.slave_path, clock);
    cfg.queue_capacity = 16;
    ThreadedSource src(std::move(cfg));
    std::vector<DeviceEvent> all;
    REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "opened"); }));

    // 200 lines while nobody polls.
    std::string burst;
    for (int i = 0; i < 200; ++i) burst += Line(i, "\n");
    REQUIRE(::write(pty.master, burst.data(), burst.size()) == static_cast<ssize_t>(burst.size()));
    const auto end = Clock::now() + std::chrono::seconds(2);
    while (src.Counters().bytes.load() < burst.size() && Clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(src.Counters().bytes.load() == burst.size());
    const std::uint64_t dropped = src.Counters().dropped_events.load();
    CHECK(dropped == 200 - 16);
    std::vector<DeviceEvent> got;
    src.Poll(clock(), got);
    CHECK(SampleValues(got).size() == 16);
    // The next line brings a status with the count.
    REQUIRE(::write(pty.master, "S999\n", 5) == 5);
    const auto dropped_status = PollUntil(src, clock, got, 1000, [](const DeviceEvent& e) { return IsStatus(e, "dropped"); });
    REQUIRE(dropped_status);
    CHECK(dropped_status->value == static_cast<double>(dropped));
    CHECK(got.back().kind == EventKind::Sample);  // the status comes first, then the new line
    CHECK(got.back().value == 999.0);
}

TEST_CASE("device thread: writes and baud changes requested from another thread", "[device]") {
    Pty pty;
    REQUIRE(pty.master >= 0);
    SessionTime clock;
    ThreadedSource src(TtyConfig(pty.slave_path, clock));
    std::vector<DeviceEvent> all;
    REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "opened"); }));
    src.Thread().RequestWrite("\n");
    char c = 0;
    const auto end = Clock::now() + std::chrono::seconds(1);
    ssize_t n = 0;
    while (n <= 0 && Clock::now() < end) {
        n = ::read(pty.master, &c, 1);  // blocking master: returns once the byte is there
    }
    CHECK(n == 1);
    CHECK(c == '\n');
    src.Thread().RequestBaud(9600);
    REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "baud 9600"); }));
    CHECK(src.Describe() == "tty " + pty.slave_path + " @9600");
}

TEST_CASE("device thread: a replayed capture ends without reconnecting", "[device]") {
    const fs::path file = TmpDir() / "short.atcap";
    {
        CaptureWriter w;
        REQUIRE(w.Open(file.string()).empty());
        REQUIRE(w.Note("opened test", 0.0).empty());
        for (int i = 0; i < 20; ++i) {
            const std::string line = Line(i, "\r\n");
            REQUIRE(w.Write(reinterpret_cast<const std::uint8_t*>(line.data()), line.size(), 0.01 * i).empty());
        }
    }
    SessionTime clock;
    DeviceThreadConfig cfg;
    cfg.make_transport = [file] { return std::make_unique<ReplayTransport>(file.string(), ReplayOptions{}); };
    cfg.decoder = std::make_unique<TinyDecoder>();
    cfg.clock = clock;
    ThreadedSource src(std::move(cfg));
    CHECK(src.Describe().rfind("replay ", 0) == 0);
    std::vector<DeviceEvent> all;
    REQUIRE(PollUntil(src, clock, all, 2000, [](const DeviceEvent& e) { return IsStatus(e, "replay finished"); }));
    CHECK(SampleValues(all).size() == 20);
    CHECK(src.Counters().State() == DeviceState::Ended);
    CHECK(src.Counters().reconnects.load() == 0);
}

TEST_CASE("device thread: a throwing decoder is reported, not fatal", "[device]") {
    class ThrowingDecoder final : public ByteDecoder {
    public:
        void Feed(const std::uint8_t* data, std::size_t n, double t_s, std::vector<DeviceEvent>& out) override {
            if (n > 0 && data[0] == '!') throw std::runtime_error("bad byte");
            DeviceEvent e;
            e.t_s = t_s;
            e.value = static_cast<double>(n);
            out.push_back(e);
        }
        void Reset() override {}
    };
    Pty pty;
    REQUIRE(pty.master >= 0);
    SessionTime clock;
    DeviceThreadConfig cfg = TtyConfig(pty.slave_path, clock);
    cfg.decoder = std::make_unique<ThrowingDecoder>();
    ThreadedSource src(std::move(cfg));
    std::vector<DeviceEvent> all;
    REQUIRE(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "opened"); }));
    REQUIRE(::write(pty.master, "!x", 2) == 2);
    const auto err = PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return IsStatus(e, "decoder error"); });
    REQUIRE(err);
    CHECK(err->text.find("bad byte") != std::string::npos);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(::write(pty.master, "ok", 2) == 2);
    CHECK(PollUntil(src, clock, all, 1000, [](const DeviceEvent& e) { return e.kind == EventKind::Sample; }));
    CHECK(src.Counters().State() == DeviceState::Open);
}
