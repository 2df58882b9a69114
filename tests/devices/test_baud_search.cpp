// Baud search and the "press any key" reply.
//  * BaudSearch, the pure state machine: garbage for dwell_s -> next rate; clean text resets the
//    timer; a detected format ends the search; a whole cycle doubles the dwell; refused rates
//    are dropped.
//  * DeviceThread + SensorDecoder with a fake transport that gives clean sketch output at one
//    rate only (9600, as the AD8232 sketch) and the noise a UART produces at any other: the
//    thread walks the candidates, stops at 9600, keeps it, and reports it.
//  * On a pseudo-terminal: a fake SparkFun MAX3010x Example 8 prints its banner and streams only
//    after it receives a byte; the device thread answers and the samples arrive.
#include <catch2/catch.hpp>

#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "attune/devices/baud_search.hpp"
#include "attune/devices/device_thread.hpp"
#include "attune/devices/sensor_decoder.hpp"
#include "attune/devices/sensor_text.hpp"
#include "attune/devices/tty_transport.hpp"

using namespace attune::devices;
using Clock = std::chrono::steady_clock;

TEST_CASE("BaudSearch moves on after dwell_s of garbage and stops at the first understood rate", "[baud]") {
    BaudSearch s({{115200, 9600, 57600}, 3.0});
    REQUIRE(s.enabled());
    s.Begin(115200, 0.0);
    CHECK(s.Update(false, false, 0.5) == 0);  // quiet / undecided: wait
    CHECK(s.Update(false, true, 1.0) == 0);   // garbage starts at 1.0
    CHECK(s.Update(false, true, 3.9) == 0);
    CHECK(s.Update(false, true, 4.0) == 9600);
    s.Begin(9600, 4.0);
    CHECK(s.Update(false, true, 5.0) == 0);
    CHECK(s.Update(false, false, 7.0) == 0);  // clean text: the garbage timer restarts
    CHECK(s.Update(false, true, 7.5) == 0);
    CHECK(s.Update(false, true, 10.4) == 0);
    CHECK(s.Update(false, true, 10.5) == 57600);
    s.Begin(57600, 10.5);
    CHECK_FALSE(s.done());
    CHECK(s.Update(true, false, 11.0) == 0);
    CHECK(s.done());
    CHECK(s.Update(false, true, 100.0) == 0);  // done: never moves again
    CHECK(s.tries() == 2);
    CHECK_FALSE(s.cycled());
}

TEST_CASE("BaudSearch cycles through every rate, then waits twice as long; refused rates are dropped", "[baud]") {
    BaudSearch s({{115200, 9600, 57600}, 1.0});
    s.Begin(115200, 0.0);
    double t = 0.0;
    std::vector<int> seen;
    auto run_until_switch = [&] {
        const double start = t;
        for (;; t += 0.1) {
            if (int next = s.Update(false, true, t)) {
                seen.push_back(next);
                s.Begin(next, t);
                return t - start;
            }
            REQUIRE(t < 100.0);
        }
    };
    run_until_switch();
    run_until_switch();
    run_until_switch();
    CHECK(seen == std::vector<int>{9600, 57600, 115200});
    CHECK(s.cycled());
    const double second_cycle_wait = run_until_switch();
    CHECK(second_cycle_wait == Approx(2.0).margin(0.15));  // doubled dwell (0.1 s steps)
    s.Drop(57600);
    CHECK(s.rates() == std::vector<int>{115200, 9600});
    // A rate outside the list (the user's) is tried first.
    BaudSearch u({{115200, 9600}, 1.0});
    u.Begin(4800, 0.0);
    CHECK(u.rates().front() == 4800);
    BaudSearch off({{}, 1.0});
    CHECK_FALSE(off.enabled());
    CHECK(off.Update(false, true, 50.0) == 0);
}

namespace {

// A serial port whose sensor prints at `true_baud`: there it reads one AD8232-style number per
// line at 200 lines/s; at any other rate, UART noise (framing garbage: mostly bytes >= 0x80 and
// control bytes, rarely a line end). A pty would ignore the rate, so this stands in for one.
class OneBaudTransport final : public Transport {
public:
    explicit OneBaudTransport(int true_baud, int start_baud, std::atomic<int>* sets)
        : m_true(true_baud), m_baud(start_baud), m_sets(sets) {}
    std::string Open() override {
        m_open = true;
        m_last = Clock::now();
        return {};
    }
    ReadResult Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) override {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 10)));
        const auto now = Clock::now();
        const double dt = std::chrono::duration<double>(now - m_last).count();
        m_last = now;
        std::string bytes;
        if (m_baud == m_true) {
            m_lines_due += dt * 200.0;
            for (; m_lines_due >= 1.0; m_lines_due -= 1.0) bytes += NumberLine(500 + (m_n++ % 40));
        } else {
            const auto n = static_cast<std::size_t>(dt * 500.0) + 1;
            for (std::size_t i = 0; i < n; ++i) {
                const unsigned v = m_rng() % 100;
                bytes.push_back(static_cast<char>(v < 70 ? 0x80 + m_rng() % 0x80 : v < 90 ? m_rng() % 0x20 : 'a' + m_rng() % 26));
            }
        }
        ReadResult r;
        r.bytes = std::min(cap, bytes.size());
        std::copy(bytes.begin(), bytes.begin() + static_cast<long>(r.bytes), buf);
        r.status = r.bytes > 0 ? ReadStatus::Ok : ReadStatus::Timeout;
        return r;
    }
    std::string Write(const std::uint8_t*, std::size_t, int) override { return {}; }
    void Close() override { m_open = false; }
    bool IsOpen() const override { return m_open; }
    std::string Describe() const override { return "fake @" + std::to_string(m_baud); }
    std::string SetBaud(int baud) override {
        if (baud == 4800) return "this fake refuses 4800";
        m_baud = baud;
        if (m_sets) ++*m_sets;
        return {};
    }
    int Baud() const override { return m_baud; }
    TransportIdentity Identity() const override { return {}; }

private:
    int m_true, m_baud;
    std::atomic<int>* m_sets;
    bool m_open = false;
    Clock::time_point m_last;
    double m_lines_due = 0.0;
    int m_n = 0;
    std::mt19937 m_rng{3};
};

DecoderConfig QuickDecoder() {
    DecoderConfig c;
    c.detector.settle_s = 0.2;  // a real board needs 2 s; the fake starts at once
    return c;
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Drains the queue into `events` until `done` or the timeout (seconds).
template <class Done>
bool DrainUntil(DeviceThread& th, std::vector<DeviceEvent>& events, double timeout_s, Done done) {
    const auto t0 = Clock::now();
    while (Since(t0) < timeout_s) {
        while (auto* e = th.Queue().Front()) {
            events.push_back(*e);
            th.Queue().Pop();
        }
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

bool HasStatus(const std::vector<DeviceEvent>& ev, const std::string& part) {
    for (const auto& e : ev)
        if (e.kind == EventKind::Status && e.text.find(part) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("the device thread searches the baud rate until the sensor's text is readable, then keeps it", "[baud][thread]") {
    std::atomic<int> sets{0};
    const auto t0 = Clock::now();
    DeviceThreadConfig cfg;
    cfg.make_transport = [&sets] { return std::make_unique<OneBaudTransport>(9600, 115200, &sets); };
    cfg.decoder = std::make_unique<SensorDecoder>(QuickDecoder());
    cfg.clock = [t0] { return Since(t0); };
    cfg.baud_search = {{115200, 57600, 4800, 9600, 38400}, 0.4};
    DeviceThread th(std::move(cfg));
    th.Start();
    std::vector<DeviceEvent> ev;
    const bool found = DrainUntil(th, ev, 20.0, [&] { return HasStatus(ev, "reading at 9600 baud"); });
    INFO("baud now " << th.Counters().baud.load() << ", " << ev.size() << " events");
    REQUIRE(found);
    CHECK(th.Counters().baud.load() == 9600);
    CHECK(HasStatus(ev, "no readable text at 115200 baud: trying 57600"));
    CHECK(HasStatus(ev, "this fake refuses 4800"));  // skipped, reported
    CHECK(th.Counters().baud_changes.load() == 2);   // 115200 -> 57600 -> 9600
    // Samples flow at the right rate, and the rate stays.
    std::size_t samples_before = 0;
    for (const auto& e : ev) samples_before += e.kind == EventKind::Sample;
    DrainUntil(th, ev, 1.0, [] { return false; });
    std::size_t samples = 0;
    for (const auto& e : ev) samples += e.kind == EventKind::Sample;
    CHECK(samples > samples_before + 100);  // 200 lines/s for 1 s
    CHECK(th.Counters().baud.load() == 9600);
    CHECK(th.Counters().baud_changes.load() == 2);
    th.Stop();
}

TEST_CASE("a sensor that only ever sends noise: the search keeps cycling, says so once, never locks", "[baud][thread]") {
    const auto t0 = Clock::now();
    DeviceThreadConfig cfg;
    cfg.make_transport = [] { return std::make_unique<OneBaudTransport>(1200, 115200, nullptr); };  // never 1200
    cfg.decoder = std::make_unique<SensorDecoder>(QuickDecoder());
    cfg.clock = [t0] { return Since(t0); };
    cfg.baud_search = {{115200, 9600}, 0.2};
    DeviceThread th(std::move(cfg));
    th.Start();
    std::vector<DeviceEvent> ev;
    REQUIRE(DrainUntil(th, ev, 15.0, [&] { return th.Counters().baud_changes.load() >= 4; }));
    th.Stop();
    int warnings = 0;
    for (const auto& e : ev) {
        CHECK(e.kind != EventKind::Sample);  // noise never becomes data
        if (e.kind == EventKind::Status && e.text.find("no baud rate gave readable text") != std::string::npos) ++warnings;
    }
    CHECK(warnings == 1);
}

TEST_CASE("a quiet sensor (no bytes) is not a wrong baud rate", "[baud][thread]") {
    const auto t0 = Clock::now();
    struct Quiet final : Transport {
        std::string Open() override { return {}; }
        ReadResult Read(std::uint8_t*, std::size_t, int timeout_ms) override {
            std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
            return {};
        }
        std::string Write(const std::uint8_t*, std::size_t, int) override { return {}; }
        void Close() override {}
        bool IsOpen() const override { return true; }
        std::string Describe() const override { return "quiet"; }
        std::string SetBaud(int) override { return {}; }
        int Baud() const override { return 115200; }
        TransportIdentity Identity() const override { return {}; }
    };
    DeviceThreadConfig cfg;
    cfg.make_transport = [] { return std::make_unique<Quiet>(); };
    cfg.decoder = std::make_unique<SensorDecoder>(QuickDecoder());
    cfg.clock = [t0] { return Since(t0); };
    cfg.baud_search = {{115200, 9600}, 0.2};
    DeviceThread th(std::move(cfg));
    th.Start();
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // 6 dwell times
    th.Stop();
    CHECK(th.Counters().baud_changes.load() == 0);
}

TEST_CASE("a sketch waiting for a key press (MAX3010x Example 8) on a pty: the thread answers and data flows", "[reply][tty]") {
    int master = -1, slave = -1;
    char name[128] = {};
    REQUIRE(::openpty(&master, &slave, name, nullptr, nullptr) == 0);
    termios tio{};
    ::tcgetattr(slave, &tio);
    ::cfmakeraw(&tio);
    ::tcsetattr(slave, TCSANOW, &tio);
    ::close(slave);
    const std::string path = name;

    const auto t0 = Clock::now();
    DeviceThreadConfig cfg;
    cfg.make_transport = [path] { return std::make_unique<TtyTransport>(path, 115200); };
    cfg.decoder = std::make_unique<SensorDecoder>(QuickDecoder());
    cfg.clock = [t0] { return Since(t0); };
    DeviceThread th(std::move(cfg));
    th.Start();
    std::vector<DeviceEvent> ev;
    REQUIRE(DrainUntil(th, ev, 5.0, [&] { return th.Counters().State() == DeviceState::Open; }));

    // The sketch: its banner (the board resets when the port opens), then it blocks in setup()
    // until a byte arrives, as SparkFun's Example8_SPO2 does.
    const std::string banner = std::string("\r\nInitializing...\r\n") + MaxSpo2PromptLine();
    REQUIRE(::write(master, banner.data(), banner.size()) == static_cast<ssize_t>(banner.size()));
    pollfd p{master, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 3000) == 1);
    char got[64] = {};
    const ssize_t n = ::read(master, got, sizeof got);
    REQUIRE(n >= 1);
    CHECK(got[0] == '\n');
    const double answered_s = Since(t0);
    // Only now does the sketch stream: "red=.., ir=.." at 25 samples/s for 2 s.
    for (int i = 0; i < 50; ++i) {
        const std::string line = MaxSpo2Line(41000 + i, 56000 + 10 * i);
        (void)!::write(master, line.data(), line.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    DrainUntil(th, ev, 1.0, [] { return false; });
    th.Stop();
    ::close(master);
    std::size_t samples = 0;
    for (const auto& e : ev) samples += e.kind == EventKind::Sample && e.t_s >= answered_s;
    INFO("answered after " << answered_s << " s");
    CHECK(HasStatus(ev, "key press"));
    CHECK(samples >= 30);  // 50 lines, less the settle time (0.2 s) and the lines before the lock
}
