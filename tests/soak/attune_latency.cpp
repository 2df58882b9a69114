// attune_latency: end-to-end latency from a sensor line written into a pty to the beat in the
// session's state. A fake PulseSensor (the simulated heart printing the visualizer format in
// real time, 20 ms of samples per write, like the e2e test) writes into a pty; the real tty
// transport, device thread, decoder, SPSC queue, ThreadedSource and LiveSession read it, with
// the session updated every 1 ms of real time (a UI thread would do this once per frame, so a
// frame period adds at most one frame on top). For each "Q" line (the sensor's interval: the
// beat's own detection delay is the sensor's, not ours), latency = time the beat appears in
// LiveSession::recent_beats() - time the write() containing it returned.
// Prints one JSON object: median, p90, p99 and max in ms, and the number of beats timed.
//   attune_latency [--seconds S]   (default 60)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "attune/core/live_session.hpp"
#include "attune/core/sources.hpp"
#include "attune/devices/sensor_text.hpp"
#include "attune/devices/simulated_heart.hpp"

namespace fs = std::filesystem;
using namespace attune;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    double seconds = 60.0;
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[++i]);

    int master = -1, slave = -1;
    char name[128] = {};
    if (::openpty(&master, &slave, name, nullptr, nullptr) != 0) {
        std::fprintf(stderr, "attune_latency: no pty\n");
        return 2;
    }
    termios t{};
    ::tcgetattr(slave, &t);
    ::cfmakeraw(&t);
    ::tcsetattr(slave, TCSANOW, &t);
    ::close(slave);

    const auto t0 = Clock::now();
    auto session_clock = [t0] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
    core::SourceOptions so;
    so.spec.kind = core::SourceSpec::Kind::Tty;
    so.spec.path = name;
    so.clock = session_clock;
    auto made = core::MakeSource(so);
    core::LiveSession session(core::BreathPattern::FourPhase("coherent", "Coherent", 5, 0, 5, 0, 0), std::move(made.source));
    session.Start(0.0);

    struct Sent {
        int ibi_ms;
        Clock::time_point written;
    };
    std::mutex mu;
    std::deque<Sent> pending;
    std::atomic<bool> stop{false};
    std::thread feeder([&] {
        devices::SimParams sp;
        sp.seed = 3;
        devices::SimulatedHeart heart(sp);
        std::vector<devices::DeviceEvent> events;
        for (int k = 1; !stop.load(); ++k) {
            const double ts = k * 0.02;
            events.clear();
            heart.Poll(ts, events);
            std::string bytes;
            std::vector<int> ibis;
            for (const auto& e : events) {
                if (e.kind == devices::EventKind::Sample) bytes += devices::VisualizerSampleLine(static_cast<int>(e.value));
                else if (e.kind == devices::EventKind::Beat && e.value > 0) {
                    const int ibi = static_cast<int>(std::lround(e.value));
                    bytes += devices::VisualizerBpmLine(static_cast<int>(std::lround(60000.0 / e.value)));
                    bytes += devices::VisualizerIbiLine(ibi);
                    ibis.push_back(ibi);
                }
            }
            const bool ok = ::write(master, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
            const auto now = Clock::now();
            if (ok && !ibis.empty()) {
                std::lock_guard lock(mu);
                for (int v : ibis) pending.push_back({v, now});
            }
            std::this_thread::sleep_until(t0 + std::chrono::microseconds(static_cast<long>(ts * 1e6)));
        }
    });

    std::vector<double> latency_ms;
    std::size_t seen = 0, unmatched = 0;
    while (session_clock() < seconds) {
        session.Update(session_clock());
        const auto now = Clock::now();
        const auto& beats = session.recent_beats();
        // recent_beats is trimmed to the last 120 s: count new ones from the back.
        const std::size_t total = session.Summary().beats + session.Summary().rejected_beats;
        for (std::size_t k = seen; k < total; ++k) {
            const auto& b = beats[beats.size() - (total - k)];
            const int ibi = static_cast<int>(std::lround(b.ibi_ms));
            std::lock_guard lock(mu);
            auto it = std::find_if(pending.begin(), pending.end(), [ibi](const Sent& s) { return s.ibi_ms == ibi; });
            if (it == pending.end()) {
                ++unmatched;
                continue;
            }
            latency_ms.push_back(std::chrono::duration<double, std::milli>(now - it->written).count());
            if (std::getenv("ATTUNE_LATENCY_TRACE")) std::fprintf(stderr, "t=%.2f ibi=%d latency=%.2f ms\n", session_clock(), ibi, latency_ms.back());
            pending.erase(pending.begin(), it + 1);
        }
        seen = total;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stop = true;
    feeder.join();
    session.Stop(session_clock());
    if (made.threaded) made.threaded->Stop();
    ::close(master);

    nlohmann::json j;
    j["what"] = "pty write of a PulseSensor Q line -> beat in LiveSession state (session updated every 1 ms)";
    j["beats_timed"] = latency_ms.size();
    j["beats_unmatched"] = unmatched;
    if (!latency_ms.empty()) {
        std::sort(latency_ms.begin(), latency_ms.end());
        auto pct = [&](double p) {
            return latency_ms[std::min(latency_ms.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(latency_ms.size())))];
        };
        j["median_ms"] = pct(50);
        j["p90_ms"] = pct(90);
        j["p99_ms"] = pct(99);
        j["max_ms"] = latency_ms.back();
    }
    std::printf("%s\n", j.dump().c_str());
    return latency_ms.empty() ? 1 : 0;
}
