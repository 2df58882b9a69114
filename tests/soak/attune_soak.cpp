// attune_soak: a long practice session at accelerated speed, checking what must hold however
// long a session runs. Prints one JSON object; exit status 0 when every check passed.
//
//   attune_soak --source sim [--hours H] [--dir DIR]
//       The simulated heart (PulseSensor bytes through the real decoder) driving a recorded
//       LiveSession on a virtual clock: 30 updates per second of session time, as fast as the
//       CPU allows. A 60 s pause every 2 hours.
//   attune_soak --source pty [--hours H] [--speed X] [--unplug-every S] [--capture FILE.atcap]
//       A replay: a capture file (generated from the simulated heart when not given) looped and
//       written into a pseudo-terminal at X times real time, read by the real tty transport,
//       device thread and decoder (--source tty:<symlink>), with the session clock running X
//       times faster than the steady clock. Every S seconds of session time the sensor is
//       unplugged (the pty master closed) and replugged 2 s later on a new pty at the same
//       symlink path.
//
// Checks (all figures are per hour of SESSION time):
//   memory   resident set size sampled every 5 min after a 30 min warm-up; least-squares growth
//            must stay under 1 MB/hour (slope over the samples, so allocator noise averages out);
//   pacer    at every update the pacer's breath phase (cycles) equals the closed form
//            (active seconds x 6 / 60 for the 6/min pattern used), error < 1e-6 cycles, and the
//            breath count equals floor(cycles);
//   beats    every classified interval is in the session folder's beats.csv (row count equal)
//            and the folder's non-implausible rows equal the session's accepted beats; pty: at
//            least 95 % of the intervals the sensor sent while plugged in were recorded;
//   no crash, no recorder error, at least one reconnect per unplug (pty).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
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
#include "attune/core/session_data.hpp"
#include "attune/core/sources.hpp"
#include "attune/devices/replay_transport.hpp"
#include "attune/devices/sensor_text.hpp"
#include "attune/devices/simulated_heart.hpp"

namespace fs = std::filesystem;
using namespace attune;

namespace {

struct Options {
    std::string source = "sim";
    double hours = 1.0;
    double speed = 60.0;            // pty: session seconds per real second
    double unplug_every_s = 180.0;  // pty: session seconds between unplugs
    double unplug_gap_s = 2.0;      // pty: session seconds unplugged
    double rss_every_s = 300.0;
    double warmup_s = 1800.0;
    fs::path dir;
    std::string capture;
};

double RssMb() {
    long pages_total = 0, pages_res = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages_total, &pages_res) != 2) pages_res = 0;
        std::fclose(f);
    }
    return static_cast<double>(pages_res) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double PeakRssMb() {
    double kb = 0;
    if (FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::atof(line + 6);
        std::fclose(f);
    }
    return kb / 1024.0;
}

// Least-squares slope of y over x.
double Slope(const std::vector<std::pair<double, double>>& xy) {
    if (xy.size() < 2) return 0.0;
    double mx = 0, my = 0;
    for (const auto& [x, y] : xy) mx += x, my += y;
    mx /= static_cast<double>(xy.size());
    my /= static_cast<double>(xy.size());
    double sxy = 0, sxx = 0;
    for (const auto& [x, y] : xy) sxy += (x - mx) * (y - my), sxx += (x - mx) * (x - mx);
    return sxx > 0 ? sxy / sxx : 0.0;
}

struct Pty {
    int master = -1;
    std::string name;
    bool Open() {
        int slave = -1;
        char buf[128] = {};
        if (::openpty(&master, &slave, buf, nullptr, nullptr) != 0) return false;
        name = buf;
        termios t{};
        ::tcgetattr(slave, &t);
        ::cfmakeraw(&t);
        ::tcsetattr(slave, TCSANOW, &t);
        ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
        ::fcntl(master, F_SETFD, FD_CLOEXEC);
        ::close(slave);  // only the transport holds the slave, as with a device node
        return true;
    }
    void Close() {
        if (master >= 0) ::close(master);
        master = -1;
    }
};

// The capture the pty mode loops: 10 minutes of the simulated heart printing the PulseSensor
// visualizer format, 20 ms a record.
std::string MakeCapture(const fs::path& path) {
    devices::SimParams sp;
    sp.seed = 11;
    devices::SimulatedHeart heart(sp);
    devices::CaptureWriter w;
    if (std::string e = w.Open(path.string()); !e.empty()) return e;
    w.Note("soak: simulated PulseSensor", 0.0);
    std::vector<devices::DeviceEvent> events;
    for (int k = 1; k <= 30000; ++k) {
        const double t = k * 0.02;
        events.clear();
        heart.Poll(t, events);
        std::string bytes;
        for (const auto& e : events) {
            if (e.kind == devices::EventKind::Sample) bytes += devices::VisualizerSampleLine(static_cast<int>(e.value));
            else if (e.kind == devices::EventKind::Beat && e.value > 0) {
                bytes += devices::VisualizerBpmLine(static_cast<int>(std::lround(60000.0 / e.value)));
                bytes += devices::VisualizerIbiLine(static_cast<int>(std::lround(e.value)));
            }
        }
        if (std::string e = w.Write(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), t); !e.empty()) return e;
    }
    w.Close();
    return {};
}

std::size_t CountQ(const std::vector<std::uint8_t>& b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < b.size(); ++i)
        if (b[i] == 'Q' && (i == 0 || b[i - 1] == '\n')) ++n;
    return n;
}

struct Checks {
    double pacer_max_err_cycles = 0.0;
    std::int64_t breath_count_mismatches = 0;
    std::vector<std::pair<double, double>> rss;  // (session hours, MB) after warm-up
    std::vector<double> rss_all;
};

void CheckPacer(const core::LiveSession& s, double active_s, Checks& c) {
    const double expected = active_s * 6.0 / 60.0;
    const auto& st = s.pacer_state();
    c.pacer_max_err_cycles = std::max(c.pacer_max_err_cycles, std::abs(st.cycles - expected));
    const double frac = expected - std::floor(expected);
    if (frac > 1e-6 && frac < 1.0 - 1e-6 && st.breath_count != static_cast<std::int64_t>(std::floor(expected)))
        ++c.breath_count_mismatches;
}

int Run(const Options& o) {
    const auto real0 = std::chrono::steady_clock::now();
    fs::remove_all(o.dir);
    fs::create_directories(o.dir);
    const double end_s = o.hours * 3600.0;
    const bool pty_mode = o.source == "pty";

    core::SourceOptions so;
    so.sim.seed = 7;
    std::atomic<bool> stop{false};
    std::thread feeder;
    std::atomic<std::uint64_t> sent_q{0}, dropped_bytes{0}, unplugs{0}, replugs{0};
    std::chrono::steady_clock::time_point t0;
    auto session_clock = [&t0, speed = o.speed] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * speed;
    };
    devices::CaptureContents capture;
    const fs::path link = o.dir / "sensor";
    Pty pty;
    if (pty_mode) {
        fs::path cap = o.capture;
        if (cap.empty()) {
            cap = o.dir / "loop.atcap";
            if (std::string e = MakeCapture(cap); !e.empty()) {
                std::fprintf(stderr, "attune_soak: %s\n", e.c_str());
                return 2;
            }
        }
        capture = devices::ReadCaptureFile(cap.string());
        if (!capture.error.empty()) {
            std::fprintf(stderr, "attune_soak: %s\n", capture.error.c_str());
            return 2;
        }
        std::erase_if(capture.records, [](const auto& r) { return r.note; });
        if (capture.records.empty() || !pty.Open()) {
            std::fprintf(stderr, "attune_soak: empty capture or no pty\n");
            return 2;
        }
        fs::create_symlink(pty.name, link);
        so.spec.kind = core::SourceSpec::Kind::Tty;
        so.spec.path = link.string();
        so.clock = session_clock;
    }
    t0 = std::chrono::steady_clock::now();
    auto made = core::MakeSource(so);
    core::BreathPattern pattern = core::BreathPattern::FourPhase("coherent", "Coherent 6/min", 5.0, 0.0, 5.0, 0.0, 0.0);
    core::LiveSession session(pattern, std::move(made.source));
    const fs::path folder = o.dir / "profiles" / "soak" / "sessions" / "soak-session";
    session.Start(0.0);
    core::SessionMeta meta;
    meta.profile = "soak";
    if (!session.StartRecording(folder, meta)) {
        std::fprintf(stderr, "attune_soak: %s\n", session.recorder_error().c_str());
        return 2;
    }

    if (pty_mode) {
        feeder = std::thread([&] {
            const auto& recs = capture.records;
            const double first = recs.front().t_s;
            const double loop_s = recs.back().t_s - first + 0.02;
            double next_unplug = o.unplug_every_s;
            for (std::size_t n = 0; !stop.load(); ++n) {
                const std::size_t i = n % recs.size();
                const double due = static_cast<double>(n / recs.size()) * loop_s + (recs[i].t_s - first);
                if (due > end_s + 5.0) break;
                while (!stop.load() && session_clock() < due) std::this_thread::sleep_for(std::chrono::microseconds(500));
                if (due >= next_unplug) {
                    // Unplug: the device node disappears; a new one comes at the same path.
                    pty.Close();
                    ++unplugs;
                    const double back = next_unplug + o.unplug_gap_s;
                    while (!stop.load() && session_clock() < back) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    Pty fresh;
                    if (!fresh.Open()) break;
                    std::error_code ec;
                    fs::remove(link, ec);
                    fs::create_symlink(fresh.name, link, ec);
                    pty = fresh;
                    ++replugs;
                    next_unplug += o.unplug_every_s;
                    continue;  // bytes due while unplugged are lost, as with a real cable
                }
                const auto& b = recs[i].bytes;
                const ssize_t w = ::write(pty.master, b.data(), b.size());
                if (w == static_cast<ssize_t>(b.size())) sent_q += CountQ(b);
                else dropped_bytes += b.size() - static_cast<std::size_t>(std::max<ssize_t>(w, 0));
            }
        });
    }

    Checks checks;
    double paused_total = 0.0, pause_started = -1.0;
    double next_rss = 0.0;
    const double dt = 1.0 / 30.0;
    std::int64_t updates = 0;
    auto step = [&](double t) {
        // A 60 s pause every 2 hours of session time (pacer time must exclude it exactly).
        const double cycle = std::fmod(t, 7200.0);
        if (pause_started < 0 && cycle >= 3600.0 && cycle < 3660.0) {
            session.TogglePause(t);
            pause_started = t;
        } else if (pause_started >= 0 && t - pause_started >= 60.0) {
            session.TogglePause(t);
            paused_total += t - pause_started;
            pause_started = -1.0;
        }
        session.Update(t);
        ++updates;
        const double active = (pause_started >= 0 ? pause_started : t) - paused_total;
        if (pause_started < 0) CheckPacer(session, active, checks);
        if (t >= next_rss) {
            const double mb = RssMb();
            checks.rss_all.push_back(mb);
            if (t >= o.warmup_s) checks.rss.emplace_back(t / 3600.0, mb);
            next_rss += o.rss_every_s;
        }
    };
    double t = 0.0;
    if (pty_mode) {
        while ((t = session_clock()) < end_s) {
            step(t);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop = true;
        feeder.join();
        t = end_s;
        step(t);
    } else {
        for (std::int64_t k = 1; (t = static_cast<double>(k) * dt) <= end_s; ++k) step(t);
        t = end_s;
    }
    session.Stop(t);
    std::uint64_t reconnects = 0;
    if (made.threaded) {
        made.threaded->Stop();
        reconnects = made.threaded->Counters().reconnects.load();
    }

    std::string error;
    const auto data = core::LoadSession(folder, error);
    const std::size_t folder_rows = data ? data->beats.size() : 0;
    const std::size_t folder_plausible =
        data ? static_cast<std::size_t>(std::count_if(data->beats.begin(), data->beats.end(),
                                                       [](const auto& b) { return b.flag != "implausible"; }))
             : 0;
    const auto summary = session.Summary();
    const double slope = Slope(checks.rss);
    const double real_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - real0).count();

    nlohmann::json j;
    j["source"] = o.source;
    j["session_hours"] = o.hours;
    j["real_seconds"] = real_s;
    j["speed"] = pty_mode ? o.speed : end_s / real_s;
    j["updates"] = updates;
    j["rss_first_mb"] = checks.rss_all.empty() ? 0.0 : checks.rss_all.front();
    j["rss_after_warmup_mb"] = checks.rss.empty() ? 0.0 : checks.rss.front().second;
    j["rss_last_mb"] = checks.rss.empty() ? 0.0 : checks.rss.back().second;
    j["rss_peak_mb"] = PeakRssMb();
    j["rss_growth_mb_per_hour"] = slope;
    j["rss_samples"] = checks.rss.size();
    j["pacer_max_error_cycles"] = checks.pacer_max_err_cycles;
    j["breath_count_mismatches"] = checks.breath_count_mismatches;
    j["breaths"] = summary.breaths;
    j["beats_classified"] = session.classified_beats().size();
    j["beats_accepted"] = summary.beats;
    j["beats_in_folder"] = folder_rows;
    j["beats_in_folder_plausible"] = folder_plausible;
    j["recorder_error"] = session.recorder_error();
    j["load_error"] = error;
    bool ok = data.has_value() && session.recorder_error().empty();
    ok = ok && folder_rows == session.classified_beats().size() && folder_plausible == summary.beats;
    ok = ok && checks.pacer_max_err_cycles < 1e-6 && checks.breath_count_mismatches == 0;
    ok = ok && (checks.rss.size() < 3 || slope < 1.0);
    ok = ok && summary.beats > static_cast<std::size_t>(end_s / 60.0 * 40.0);  // >= 40 bpm worth of beats
    if (pty_mode) {
        j["unplugs"] = unplugs.load();
        j["replugs"] = replugs.load();
        j["reconnects"] = reconnects;
        j["sensor_intervals_sent"] = sent_q.load();
        j["bytes_dropped_by_pty"] = dropped_bytes.load();
        const double recorded_pct = sent_q ? 100.0 * static_cast<double>(folder_rows) / static_cast<double>(sent_q.load()) : 0.0;
        j["recorded_pct_of_sent"] = recorded_pct;
        // The last replug may come too close to the end to be reopened before the session stops.
        ok = ok && reconnects + 1 >= replugs.load() && recorded_pct >= 95.0 && recorded_pct <= 100.0 + 1e-9;
    }
    j["ok"] = ok;
    std::printf("%s\n", j.dump().c_str());
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    o.dir = fs::temp_directory_path() / ("attune-soak-" + std::to_string(::getpid()));
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "attune_soak: %s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--source") o.source = next();
        else if (a == "--hours") o.hours = std::stod(next());
        else if (a == "--speed") o.speed = std::stod(next());
        else if (a == "--unplug-every") o.unplug_every_s = std::stod(next());
        else if (a == "--dir") o.dir = next(), keep = true;
        else if (a == "--capture") o.capture = next();
        else if (a == "--warmup") o.warmup_s = std::stod(next());
        else {
            std::fprintf(stderr, "usage: attune_soak [--source sim|pty] [--hours H] [--speed X] [--unplug-every S] [--dir DIR] [--capture FILE] [--warmup S]\n");
            return 2;
        }
    }
    if (o.source != "sim" && o.source != "pty") {
        std::fprintf(stderr, "attune_soak: --source sim or pty\n");
        return 2;
    }
    const int rc = Run(o);
    if (!keep) {
        std::error_code ec;
        fs::remove_all(o.dir, ec);
    }
    return rc;
}
