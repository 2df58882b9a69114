// The session recorder: rows in = rows out, private files, flushing at most a second behind
// (checked by killing a recording process with SIGKILL), errors that stop the recording
// without crashing, and the summary rebuilt from the streams.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attune/core/recorder.hpp"
#include "attune/core/session_store.hpp"
#include "attune/dsp/hrv_time.hpp"

using namespace attune::core;
namespace fs = std::filesystem;
using Catch::Matchers::WithinAbs;

namespace {

fs::path TestDir(const std::string& name) {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "recorder" / name;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    return dir;
}

std::vector<std::string> ReadLines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

std::vector<std::string> Cells(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool q = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (q) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur += '"';
                ++i;
            } else if (c == '"') {
                q = false;
            } else {
                cur += c;
            }
        } else if (c == '"') {
            q = true;
        } else if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

double Num(const std::string& s) { return std::stod(s); }

unsigned Mode(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777u;
}

SessionMeta TestMeta() {
    SessionMeta m;
    m.profile = "Sam";
    m.started_utc = "2026-11-23T17:45:12Z";
    m.pattern = {{"id", "resonance"}, {"name", "Resonance 6/min"}};
    m.source = "Simulated heart";
    m.beat_source = "intervals reported by the sensor";
    return m;
}

double LastTime(const fs::path& p) {
    const auto lines = ReadLines(p);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        const auto c = Cells(*it);
        try {
            return Num(c[0]);
        } catch (...) {
        }
    }
    return -1.0;
}

}  // namespace

TEST_CASE("a recorded session round-trips: rows, meta, permissions", "[recorder]") {
    const fs::path dir = TestDir("roundtrip");
    const fs::path folder = dir / "profiles" / "Sam" / "sessions" / "20261123-174512-resonance";
    Recorder rec;
    REQUIRE(rec.Open(folder, TestMeta()));
    REQUIRE(rec.error().empty());
    CHECK(fs::exists(folder / "lock"));
    CHECK(ReadLines(folder / "lock").at(0) == std::to_string(::getpid()));
    {
        SessionMeta m;
        std::string err;
        REQUIRE(SessionStore::LoadMeta(folder, m, err));
        CHECK(m.status == "recording");
        CHECK(m.id == "20261123-174512-resonance");
        CHECK(m.ended_utc.empty());
    }

    // Known rows, including values that exercise the compact format.
    const std::vector<double> ibis = {812.34, 798.0, 1500.05, 805.5, 250.0, 790.0, 801.2, 820.0, 815.0, 799.9};
    const std::vector<const char*> flags = {"ok", "ok", "missed", "ok", "implausible", "ok", "ok", "ok", "ectopic", "ok"};
    double t = 0.0;
    for (std::size_t i = 0; i < ibis.size(); ++i) {
        t += ibis[i] / 1000.0;
        rec.AppendBeat(t, ibis[i], flags[i], 60000.0 / ibis[i]);
    }
    rec.AppendBeat(t + 1.0, 800.0, attune::dsp::IntervalClass::too_long, 75.0);
    const int n_samples = 5000;
    for (int i = 0; i < n_samples; ++i) rec.AppendSample(i * 0.002, std::sin(i * 0.01) * 512.0 + 512.0);
    for (int i = 0; i < 100; ++i) rec.AppendPacer(i * 0.1, i % 50 < 20 ? "inhale" : "exhale", 0.5, 6.0, i / 100);
    LiveMetricsRow mr;
    mr.t_s = 1.0;
    mr.hr_bpm = 72.126;
    mr.coherence = 1.23456;
    mr.quality = "good";
    rec.AppendMetrics(mr);
    LiveMetricsRow empty_row;
    empty_row.t_s = 2.0;
    rec.AppendMetrics(empty_row);
    rec.AppendEvent(0.0, "start");
    rec.AppendEvent(3.5, "marker", "felt calm, \"really\"\nnew line");
    rec.AppendEvent(-0.00001, "odd", "");
    rec.AppendSample(std::nan(""), 1.0);

    // Before a second has passed, a stream whose buffer is not full has only its header in the
    // file (no system call per row); the waveform (80 KB) has already spilled full buffers.
    rec.Tick(0.5);
    CHECK(ReadLines(folder / "beats.csv").size() == 1);
    CHECK(ReadLines(folder / "waveform.csv").size() > 1);
    rec.Tick(1.0);
    CHECK(ReadLines(folder / "beats.csv").size() == ibis.size() + 2);
    CHECK(ReadLines(folder / "waveform.csv").size() == static_cast<std::size_t>(n_samples) + 2);

    SessionMeta update = TestMeta();
    update.distress_before = 7;
    update.note = "first try";
    update.status = "complete";  // ignored while recording
    REQUIRE(rec.UpdateMeta(update));
    {
        SessionMeta m;
        std::string err;
        REQUIRE(SessionStore::LoadMeta(folder, m, err));
        CHECK(m.status == "recording");
        CHECK(m.distress_before == 7);
        CHECK(m.note == "first try");
    }

    RecordedSummary live;
    live.duration_s = 12.0;
    live.beats = 9;
    REQUIRE(rec.Close(live));
    CHECK_FALSE(rec.is_open());
    CHECK_FALSE(fs::exists(folder / "lock"));
    CHECK(rec.rows_written(Recorder::kWaveform) == static_cast<std::uint64_t>(n_samples) + 1);
    CHECK(rec.rows_written(Recorder::kBeats) == ibis.size() + 1);
    CHECK(rec.rows_dropped(Recorder::kWaveform) == 0);

    SessionMeta m;
    std::string err;
    REQUIRE(SessionStore::LoadMeta(folder, m, err));
    CHECK(err.empty());
    CHECK(m.status == "complete");
    CHECK(m.format == kSessionFormat);
    CHECK(ParseUtcIso8601(m.ended_utc).has_value());
    CHECK(m.distress_before == 7);
    CHECK(m.summary.duration_s == 12.0);
    CHECK(m.pattern["id"] == "resonance");

    // Permissions: health data is private.
    CHECK(Mode(folder) == 0700u);
    CHECK(Mode(dir / "profiles") == 0700u);
    CHECK(Mode(dir / "profiles" / "Sam" / "sessions") == 0700u);
    for (const char* f : {"session.json", "beats.csv", "waveform.csv", "pacer.csv", "metrics.csv", "events.csv"})
        CHECK(Mode(folder / f) == 0600u);

    // Rows in = rows out.
    const auto beats = ReadLines(folder / "beats.csv");
    REQUIRE(beats.size() == ibis.size() + 2);
    CHECK(beats[0] == "t_s,ibi_ms,flag,hr_bpm");
    t = 0.0;
    for (std::size_t i = 0; i < ibis.size(); ++i) {
        t += ibis[i] / 1000.0;
        const auto c = Cells(beats[i + 1]);
        REQUIRE(c.size() == 4);
        CHECK_THAT(Num(c[0]), WithinAbs(t, 0.00005));
        CHECK_THAT(Num(c[1]), WithinAbs(ibis[i], 0.05));
        CHECK(c[2] == flags[i]);
        CHECK_THAT(Num(c[3]), WithinAbs(60000.0 / ibis[i], 0.005));
    }
    CHECK(Cells(beats.back())[2] == "long");
    CHECK(beats[2] == "1.6103,798,ok,75.19");  // compact: trailing zeros dropped

    const auto wave = ReadLines(folder / "waveform.csv");
    REQUIRE(wave.size() == static_cast<std::size_t>(n_samples) + 2);
    CHECK(wave[0] == "t_s,value");
    CHECK(wave[1] == "0,512");
    for (int i = 0; i < n_samples; i += 499) {
        const auto c = Cells(wave[static_cast<std::size_t>(i) + 1]);
        CHECK_THAT(Num(c[0]), WithinAbs(i * 0.002, 1e-9));
        CHECK_THAT(Num(c[1]), WithinAbs(std::sin(i * 0.01) * 512.0 + 512.0, 1e-4));
    }
    CHECK(wave.back() == ",1");  // non-finite time: empty cell

    const auto pacer = ReadLines(folder / "pacer.csv");
    REQUIRE(pacer.size() == 101);
    CHECK(pacer[0] == "t_s,phase,volume,rate_bpm,breath");
    CHECK(pacer[1] == "0,inhale,0.5,6,0");
    CHECK(pacer[31] == "3,exhale,0.5,6,0");

    const auto metrics = ReadLines(folder / "metrics.csv");
    REQUIRE(metrics.size() == 3);
    CHECK(metrics[1] == "1,72.13,,,1.235,,,,,,,good");
    CHECK(metrics[2] == "2,,,,,,,,,,,");
    CHECK(Cells(metrics[2]).size() == 12);

    const auto events = ReadLines(folder / "events.csv");
    REQUIRE(events.size() == 4);
    CHECK(events[1] == "0,start,");
    const auto ev = Cells(events[2]);
    REQUIRE(ev.size() == 3);
    CHECK(ev[1] == "marker");
    CHECK(ev[2] == "felt calm, \"really\" new line");
    CHECK(events[3] == "0,odd,");  // -0.00001 rounds to "0", never "-0"

    // The summary rebuilt from the streams.
    const RecordedSummary s = SummarizeFromStreams(folder);
    CHECK(s.beats == ibis.size());  // 11 rows, one implausible
    CHECK(s.artifacts_flagged == 4);
    CHECK(s.markers == 1);
    CHECK(s.breaths == 0);
    // The waveform's last row has an empty t_s: its last parsable row counts (9.998 s).
    CHECK_THAT(s.duration_s, WithinAbs(std::max({(n_samples - 1) * 0.002, t + 1.0, 9.9, 3.5}), 1e-9));
    REQUIRE(s.hr_mean_bpm.has_value());
    double hr = 0.0;
    int n_ok = 0;
    for (std::size_t i = 0; i < ibis.size(); ++i)
        if (std::string(flags[i]) == "ok") {
            hr += 60000.0 / (std::round(ibis[i] * 10.0) / 10.0);  // as recorded, 0.1 ms
            ++n_ok;
        }
    CHECK_THAT(*s.hr_mean_bpm, WithinAbs(hr / n_ok, 0.01));
    REQUIRE(s.coherence_mean.has_value());
    CHECK_THAT(*s.coherence_mean, WithinAbs(1.235, 1e-9));
    CHECK(s.high_coherence_pct == 100.0);
}

TEST_CASE("the summary is rebuilt from the streams, ignoring a half-written last row", "[recorder]") {
    const fs::path folder = TestDir("summary");
    auto write = [&](const char* name, const std::string& text) { std::ofstream(folder / name, std::ios::binary) << text; };
    // ok runs: [800 810 820] then ectopic, then [790 800]; a truncated last row must be ignored.
    write("beats.csv",
          "t_s,ibi_ms,flag,hr_bpm\n"
          "0.8,800,ok,75\n1.61,810,ok,74.07\n2.43,820,ok,73.17\n2.9,470,ectopic,127.66\n3.69,790,ok,75.95\n"
          "4.49,800,ok,75\n6.49,2000.5,implausible,\n7.29,800,ok,75\n12.0,5");
    write("metrics.csv",
          "t_s,hr_bpm,rmssd_ms,sdnn_ms,coherence,lf_ms2,hf_ms2,lf_peak_hz,breathing_rate_bpm,rsa_bpm,phase_lag_deg,quality\n"
          "1,75,,,0.5,,,,6.2,10,,good\n"
          "2,75,,,1.5,,,,5.5,12,,good\n"
          "3,75,,,,,,,7.5,,,noisy\n"
          "4,75,,,1.0,,,,6.0,,,good\n"
          "5,75,,,2.0,,,,9.0,14,,good\n");
    // Pacing at 6/min until 3.5 s, then natural breathing.
    write("pacer.csv",
          "t_s,phase,volume,rate_bpm,breath\n"
          "0,inhale,0,6,0\n1,inhale,0.5,6,0\n2,exhale,0.8,6,0\n3,exhale,0.2,6,1\n3.5,natural,0.5,0,2\n"
          "4.5,natural,0.5,0,2\n");
    write("events.csv",
          "t_s,kind,text\n0,start,\n2.5,marker,\"a, b\"\n3,marker,x\n4,pause,\n7.8,marker,\"unterminated");
    write("waveform.csv", "t_s,value\n0,1\n0.002,2\n8.75,3\n8.8,4");

    const RecordedSummary s = SummarizeFromStreams(folder);
    CHECK_THAT(s.duration_s, WithinAbs(8.75, 1e-9));  // waveform's last complete row
    CHECK(s.beats == 7);
    CHECK(s.artifacts_flagged == 2);
    CHECK(s.markers == 2);
    CHECK(s.breaths == 2);
    // Independent computation: ok intervals 800 810 820 | 790 800 | 800 (runs broken by flags).
    const std::vector<double> ok = {800, 810, 820, 790, 800, 800};
    double hr = 0.0, mean = 0.0;
    for (double v : ok) {
        hr += 60000.0 / v;
        mean += v;
    }
    mean /= 6.0;
    double var = 0.0;
    for (double v : ok) var += (v - mean) * (v - mean);
    const double sdnn = std::sqrt(var / 5.0);
    const double rmssd = std::sqrt((10.0 * 10 + 10.0 * 10 + 10.0 * 10) / 3.0);
    REQUIRE(s.hr_mean_bpm.has_value());
    CHECK_THAT(*s.hr_mean_bpm, WithinAbs(hr / 6.0, 1e-9));
    REQUIRE(s.rmssd_ms.has_value());
    CHECK_THAT(*s.rmssd_ms, WithinAbs(rmssd, 1e-9));
    REQUIRE(s.sdnn_ms.has_value());
    CHECK_THAT(*s.sdnn_ms, WithinAbs(sdnn, 1e-9));
    REQUIRE(s.coherence_mean.has_value());
    CHECK_THAT(*s.coherence_mean, WithinAbs(1.25, 1e-12));
    CHECK_THAT(*s.coherence_peak, WithinAbs(2.0, 1e-12));
    CHECK_THAT(*s.high_coherence_pct, WithinAbs(75.0, 1e-12));  // 1.5, 1.0, 2.0 of 4 valid seconds
    CHECK_THAT(*s.rsa_mean_bpm, WithinAbs(12.0, 1e-12));
    CHECK_THAT(*s.breathing_rate_bpm, WithinAbs(6.2, 1e-12));  // median of 5.5 6 6.2 7.5 9
    // Paced rows: t=1 (6.2 vs 6 ok), t=2 (5.5 ok), t=3 (7.5 no); t=4, 5 natural.
    REQUIRE(s.pacer_following_pct.has_value());
    CHECK_THAT(*s.pacer_following_pct, WithinAbs(200.0 / 3.0, 1e-9));

    // An empty folder gives an empty summary, not an error.
    const RecordedSummary none = SummarizeFromStreams(TestDir("summary-empty"));
    CHECK(none.duration_s == 0.0);
    CHECK_FALSE(none.hr_mean_bpm.has_value());
}

TEST_CASE("kill -9 while recording loses at most about a second, and the session is recovered", "[recorder][crash]") {
    const fs::path data = TestDir("crash");
    const fs::path folder = data / "profiles" / "Sam" / "sessions" / "20261123-174512-resonance";
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    using Clock = std::chrono::steady_clock;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // The recording process: 500 Hz waveform, 10 beats/pacer/metrics rows a second, Tick every
        // 10 ms with t_s = elapsed steady time, like the app's frame loop.
        ::close(fds[0]);
        Recorder rec;
        const bool ok = rec.Open(folder, TestMeta());
        const auto t0 = Clock::now();
        const long long t0_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t0.time_since_epoch()).count();
        const long long msg = ok ? t0_ns : -1;
        if (::write(fds[1], &msg, sizeof msg) != sizeof msg || !ok) ::_exit(1);
        long long samples = 0, slow = 0;
        for (;;) {
            const double t = std::chrono::duration<double>(Clock::now() - t0).count();
            for (; samples * 0.002 <= t; ++samples) rec.AppendSample(samples * 0.002, static_cast<double>(samples % 1000));
            for (; slow * 0.1 <= t; ++slow) {
                const double ts = slow * 0.1;
                rec.AppendBeat(ts, 800.0, "ok", 75.0);
                rec.AppendPacer(ts, "inhale", 0.5, 6.0, slow / 100);
                LiveMetricsRow r;
                r.t_s = ts;
                r.hr_bpm = 75.0;
                r.coherence = 1.0;
                rec.AppendMetrics(r);
                rec.AppendEvent(ts, "marker");
            }
            rec.Tick(t);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ::close(fds[1]);
    long long t0_ns = 0;
    REQUIRE(::read(fds[0], &t0_ns, sizeof t0_ns) == static_cast<ssize_t>(sizeof t0_ns));
    ::close(fds[0]);
    REQUIRE(t0_ns > 0);
    // Just before the third flush (~3.0 s): close to the worst case, about a second unflushed.
    std::this_thread::sleep_for(std::chrono::milliseconds(2950));
    const double kill_t =
        std::chrono::duration<double>(Clock::now().time_since_epoch() - std::chrono::nanoseconds(t0_ns)).count();
    REQUIRE(::kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);  // reaped: a zombie would still answer kill(pid, 0)
    CHECK(WIFSIGNALED(status));

    // Nothing written after the kill, and at most ~1 s (+ scheduling slack) lost.
    double latest = 0.0;
    for (const char* f : {"waveform.csv", "beats.csv", "pacer.csv", "metrics.csv", "events.csv"}) {
        const double last = LastTime(folder / f);
        INFO(f << ": last t_s " << last << ", killed at " << kill_t);
        CHECK(last <= kill_t + 0.05);
        CHECK(last >= kill_t - 1.2);
        latest = std::max(latest, last);
    }
    std::printf("crash test: killed at t=%.3f s, last waveform row t=%.4f s (lost %.3f s)\n", kill_t,
                LastTime(folder / "waveform.csv"), kill_t - LastTime(folder / "waveform.csv"));
    CHECK(fs::exists(folder / "lock"));

    SessionStore store(data);
    const auto recovered = store.RecoverInterrupted();
    REQUIRE(recovered.size() == 1);
    CHECK(recovered[0].ok);
    CHECK(recovered[0].id == "20261123-174512-resonance");
    CHECK(recovered[0].message.rfind("Recovered the interrupted session of ", 0) == 0);
    CHECK(recovered[0].message.find(" s kept)") != std::string::npos);
    CHECK_FALSE(fs::exists(folder / "lock"));
    SessionMeta m;
    std::string err;
    REQUIRE(SessionStore::LoadMeta(folder, m, err));
    CHECK(m.status == "recovered");
    CHECK_THAT(m.summary.duration_s, WithinAbs(latest, 1e-9));
    CHECK(m.summary.beats > 5);
    // Streams are written one after the other at each flush; a kill can fall between two.
    CHECK(std::abs(static_cast<long>(m.summary.markers) - static_cast<long>(m.summary.beats)) <= 10);
    REQUIRE(m.summary.coherence_mean.has_value());
    CHECK(*m.summary.coherence_mean == 1.0);
    const auto start = ParseUtcIso8601(m.started_utc);
    const auto end = ParseUtcIso8601(m.ended_utc);
    REQUIRE((start && end));
    CHECK(*end - *start == std::llround(latest));
    // Only once.
    CHECK(store.RecoverInterrupted().empty());
}

TEST_CASE("a full disk stops the recording with a message, without crashing", "[recorder][errors]") {
    const fs::path folder = TestDir("diskfull") / "session";
    // RLIMIT_FSIZE makes write() fail with EFBIG once a file would grow past the limit, as a full
    // disk would with ENOSPC. Done in a child process so the limit cannot touch anything else.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        std::signal(SIGXFSZ, SIG_IGN);
        std::string report;
        Recorder rec;
        if (!rec.Open(folder, TestMeta())) {
            report = "open failed: " + rec.error();
        } else {
            rlimit lim{};
            ::getrlimit(RLIMIT_FSIZE, &lim);
            lim.rlim_cur = 100 * 1024;
            ::setrlimit(RLIMIT_FSIZE, &lim);
            // 500 Hz for 200 s: about 2 MB of waveform, far past the limit.
            for (int i = 0; i < 100000; ++i) {
                rec.AppendSample(i * 0.002, 512.0 + i % 100);
                if (i % 500 == 0) rec.AppendBeat(i * 0.002, 800.0, "ok", 75.0);
                if (i % 8 == 0) rec.Tick(i * 0.002);
            }
            rec.FlushNow();
            std::ostringstream os;
            os << (rec.failed() ? "failed" : "ok") << "|" << rec.error() << "|" << rec.rows_written(Recorder::kWaveform)
               << "|" << rec.rows_dropped(Recorder::kWaveform) << "|";
            RecordedSummary s;
            os << (rec.Close(s) ? "closed" : "close-false");
            report = os.str();
        }
        const ssize_t w = ::write(fds[1], report.data(), report.size());
        ::_exit(w == static_cast<ssize_t>(report.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string report;
    char buf[1024];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO(report);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(report.rfind("failed|Recording stopped: could not write waveform.csv (File too large)", 0) == 0);
    std::vector<std::string> parts;
    std::stringstream ss(report);
    for (std::string p; std::getline(ss, p, '|');) parts.push_back(p);
    REQUIRE(parts.size() == 5);
    const auto written = std::stoull(parts[2]), dropped = std::stoull(parts[3]);
    CHECK(written + dropped == 100000);
    CHECK(written > 3000);
    CHECK(dropped > 50000);
    CHECK(parts[4] == "close-false");
    // session.json is small and could still be written: the session is complete, its streams
    // are readable up to the failure.
    SessionMeta m;
    std::string err;
    REQUIRE(SessionStore::LoadMeta(folder, m, err));
    CHECK(m.status == "complete");
    const RecordedSummary s = SummarizeFromStreams(folder);
    CHECK(s.duration_s > 5.0);
}

TEST_CASE("a stream file deleted or replaced under the recorder is detected", "[recorder][errors]") {
    const fs::path folder = TestDir("deleted") / "session";
    Recorder rec;
    REQUIRE(rec.Open(folder, TestMeta()));
    rec.AppendBeat(0.8, 800.0, "ok", 75.0);
    rec.Tick(1.0);
    rec.FlushNow();
    REQUIRE_FALSE(rec.failed());
    fs::remove(folder / "beats.csv");
    fs::create_directory(folder / "beats.csv");
    for (int i = 0; i < 1000; ++i) rec.AppendSample(i * 0.002, 1.0);
    rec.Tick(2.0);
    rec.FlushNow();  // waits for the background sync that notices it
    CHECK(rec.failed());
    CHECK(rec.error().find("beats.csv was deleted or replaced") != std::string::npos);
    // Appending goes on harmlessly: rows are only counted.
    for (int i = 0; i < 1000; ++i) rec.AppendSample(2.0 + i * 0.002, 1.0);
    rec.Tick(3.0);
    CHECK(rec.rows_dropped(Recorder::kWaveform) == 1000);
    CHECK_FALSE(rec.Close(RecordedSummary{}));
    CHECK_FALSE(fs::exists(folder / "lock"));
}

TEST_CASE("a session.json that cannot be rewritten is reported but the streams go on", "[recorder][errors]") {
    const fs::path folder = TestDir("meta-unwritable") / "session";
    Recorder rec;
    REQUIRE(rec.Open(folder, TestMeta()));
    // A folder where the temporary file of the atomic write would go (works even as root,
    // where a read-only folder would not stop anything).
    fs::create_directory(folder / "session.json.tmp");
    SessionMeta m = TestMeta();
    m.distress_before = 3;
    CHECK_FALSE(rec.UpdateMeta(m));
    CHECK(rec.error().find("Could not save the session details") != std::string::npos);
    CHECK_FALSE(rec.failed());
    rec.AppendSample(0.5, 1.0);
    rec.Tick(1.0);
    rec.FlushNow();
    CHECK(rec.rows_written(Recorder::kWaveform) == 1);
    fs::remove(folder / "session.json.tmp");
    CHECK(rec.Close(RecordedSummary{}));  // the final write works again
    SessionMeta back;
    std::string err;
    REQUIRE(SessionStore::LoadMeta(folder, back, err));
    CHECK(back.status == "complete");
    CHECK(back.distress_before == 3);
}

TEST_CASE("opening a recorder where it cannot write fails cleanly", "[recorder][errors]") {
    const fs::path dir = TestDir("open-fail");
    std::ofstream(dir / "a-file") << "x";
    Recorder rec;
    CHECK_FALSE(rec.Open(dir / "a-file" / "session", TestMeta()));
    CHECK(rec.failed());
    CHECK(rec.error().find("Cannot record the session") != std::string::npos);
    rec.AppendSample(0.0, 1.0);  // harmless
    rec.Tick(5.0);
    CHECK_FALSE(rec.Close(RecordedSummary{}));

    // A folder that already holds a session is never overwritten.
    Recorder first;
    REQUIRE(first.Open(dir / "s", TestMeta()));
    REQUIRE(first.Close(RecordedSummary{}));
    Recorder second;
    CHECK_FALSE(second.Open(dir / "s", TestMeta()));
    CHECK(second.error().find("already holds a session") != std::string::npos);
}

TEST_CASE("an abandoned recorder leaves a recoverable session", "[recorder]") {
    const fs::path data = TestDir("abandoned");
    const fs::path folder = data / "profiles" / "Sam" / "sessions" / "20261123-174512-box";
    {
        Recorder rec;
        REQUIRE(rec.Open(folder, TestMeta()));
        for (int i = 0; i < 750; ++i) rec.AppendSample(i * 0.1, 1.0);
        // Still recording: a listing run meanwhile must leave it alone.
        CHECK(RecordingInProgress(folder));
        CHECK(SessionStore(data).RecoverInterrupted().empty());
    }
    CHECK_FALSE(fs::exists(folder / "lock"));
    const auto r = SessionStore(data).RecoverInterrupted("Sam");
    REQUIRE(r.size() == 1);
    CHECK(r[0].message.find("(1 min kept)") != std::string::npos);  // 74.9 s
}

TEST_CASE("write throughput: a 500 Hz waveform costs next to nothing", "[recorder][perf]") {
    const fs::path folder = TestDir("throughput") / "session";
    Recorder rec;
    REQUIRE(rec.Open(folder, TestMeta()));
    using Clock = std::chrono::steady_clock;
    const int n = 2'000'000;  // 500 Hz for 66 minutes
    double worst_tick_ms = 0.0;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
        const double t = i * 0.002;
        rec.AppendSample(t, 512.0 + 0.37 * (i % 1000));
        if (i % 8 == 0) {  // a 60 fps frame loop sees ~8 samples per frame
            const auto a = Clock::now();
            rec.Tick(t);
            worst_tick_ms = std::max(worst_tick_ms, std::chrono::duration<double, std::milli>(Clock::now() - a).count());
        }
    }
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    REQUIRE(rec.Close(RecordedSummary{}));
    const double rate = n / s;
    std::printf("recorder throughput: %d waveform rows in %.3f s = %.2f M rows/s (%.0f x a 500 Hz stream), "
                "worst Tick %.2f ms, file %.1f MB\n",
                n, s, rate / 1e6, rate / 500.0, worst_tick_ms,
                static_cast<double>(fs::file_size(folder / "waveform.csv")) / 1e6);
    CHECK(rec.rows_written(Recorder::kWaveform) == static_cast<std::uint64_t>(n));
    CHECK(rate > 200'000.0);  // generous: 400x real time even on a loaded machine
    fs::remove_all(folder);
}

TEST_CASE("per-frame cost at real-time rates", "[recorder][perf]") {
    // 2 s of a real session's load at 60 frames a second: 500 Hz waveform, pacer 10/s, a beat
    // and a metrics row now and then. What matters is the time Tick and the appends take on the
    // frame thread (the fdatasync runs on the recorder's own thread).
    const fs::path folder = TestDir("frame-cost") / "session";
    Recorder rec;
    REQUIRE(rec.Open(folder, TestMeta()));
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    long long samples = 0, pacer = 0;
    double worst_ms = 0.0, total_ms = 0.0;
    int frames = 0;
    for (double t = 0.0; t < 2.0; t = std::chrono::duration<double>(Clock::now() - t0).count()) {
        const auto a = Clock::now();
        for (; samples * 0.002 <= t; ++samples) rec.AppendSample(samples * 0.002, 512.0 + samples % 200);
        for (; pacer * 0.1 <= t; ++pacer) {
            rec.AppendPacer(pacer * 0.1, "inhale", 0.5, 6.0, pacer / 100);
            if (pacer % 8 == 0) rec.AppendBeat(pacer * 0.1, 800.0, "ok", 75.0);
            if (pacer % 10 == 0) {
                LiveMetricsRow r;
                r.t_s = pacer * 0.1;
                r.hr_bpm = 75.0;
                rec.AppendMetrics(r);
            }
        }
        rec.Tick(t);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - a).count();
        worst_ms = std::max(worst_ms, ms);
        total_ms += ms;
        ++frames;
        std::this_thread::sleep_for(std::chrono::microseconds(16667));
    }
    REQUIRE(rec.Close(RecordedSummary{}));
    std::printf("recorder frame cost: %d frames, mean %.3f ms, worst %.3f ms (appends + Tick)\n", frames,
                total_ms / frames, worst_ms);
    CHECK(total_ms / frames < 1.0);
}

TEST_CASE("UTC timestamps format and parse", "[recorder]") {
    const auto t = std::chrono::system_clock::from_time_t(1795455912);  // 2026-11-23T17:45:12Z
    CHECK(FormatUtcIso8601(t) == "2026-11-23T17:45:12Z");
    CHECK(ParseUtcIso8601("2026-11-23T17:45:12Z") == 1795455912);
    CHECK(ParseUtcIso8601("2026-11-23T17:45:12.250Z") == 1795455912);
    CHECK_FALSE(ParseUtcIso8601("2026-11-23 nonsense").has_value());
    CHECK_FALSE(ParseUtcIso8601("2026-11-23T17:45:12+01:00").has_value());
    CHECK_FALSE(ParseUtcIso8601("").has_value());
}
