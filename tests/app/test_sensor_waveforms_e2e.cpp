// End to end on a pseudo-terminal with waveform-only sensors: a fake sensor writes, at real
// speed, what the sketch prints for a heart whose beat times we chose; the app runs headless
// with --source tty:<symlink> and must record those beats with its own detector (ECG for the
// AD8232, PPG for the MAX3010x), none invented while the sensor says "no contact".
//   (a) AD8232 (sparkfun/AD8232_Heart_Rate_Monitor, 250 Hz firmware of devices/firmware): one
//       ADC reading per line, "!" while a lead is off.
//   (b) MAX3010x Example 5 (sparkfun/SparkFun_MAX3010x_Sensor_Library): "IR=.., BPM=.., Avg
//       BPM=.." at 100 lines/s, " No finger?" appended while IR < 50000.
// Waveforms: a synthetic ECG (P, Q, R, S, T Gaussians on a wandering baseline, noise) with the
// R peak at each beat time; an optical pulse (fast rise, slow fall, dicrotic wave) whose
// blood-volume peak - the IR minimum - is at each beat time. Beat intervals follow a 9 s
// sinusoid (+-60 ms, like breathing) with jitter, so a shift by one beat cannot align.
// The app's clock and the sensor's differ by its start-up time (unknown, < 3 s): the test finds
// that one offset from the data, then every recorded beat must lie within 50 ms of a true beat.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "attune/devices/sensor_text.hpp"
#include "fake_pty.hpp"
#include "run_command.hpp"

namespace fs = std::filesystem;
using namespace attune;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMatchS = 0.050;  // recorded beat vs true beat (after the one clock offset)

struct Interval {
    double from_s, to_s;
    bool Contains(double t) const { return t >= from_s && t < to_s; }
};

struct Scenario {
    std::vector<double> beats_s;       // true beat times, sensor clock
    std::vector<Interval> contact;     // when the sensor has contact (waveform lines)
    std::vector<test::TimedLine> lines;
    double end_s = 0.0;
};

bool InContact(const Scenario& s, double t) {
    return std::any_of(s.contact.begin(), s.contact.end(), [t](const Interval& c) { return c.Contains(t); });
}

std::vector<double> MakeBeats(double to_s, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> n(0.0, 1.0);
    std::vector<double> beats;
    for (double t = 0.3; t < to_s;) {
        beats.push_back(t);
        t += 0.85 + 0.06 * std::sin(2.0 * kPi * t / 9.0) + 0.012 * n(rng);
    }
    return beats;
}

double Gauss(double x, double mu, double sigma) { return std::exp(-0.5 * (x - mu) * (x - mu) / (sigma * sigma)); }

// Sum over the beats within +-1 s of t.
template <class Shape>
double SumBeats(const std::vector<double>& beats, double t, Shape shape) {
    double v = 0.0;
    auto it = std::lower_bound(beats.begin(), beats.end(), t - 1.0);
    for (; it != beats.end() && *it < t + 1.0; ++it) v += shape(t - *it);
    return v;
}

Scenario Ad8232Scenario() {
    Scenario s;
    s.end_s = 28.0;
    s.beats_s = MakeBeats(s.end_s, 11);
    s.contact = {{1.0, 16.0}, {17.0, s.end_s}};  // '!' at the start (electrodes going on) and once
    std::mt19937 rng(12);
    std::normal_distribution<double> noise(0.0, 3.0);
    const double rate_hz = 250.0;  // devices/firmware AD8232 sketch: timer-driven 250 Hz
    for (long i = 0;; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        if (t >= s.end_s) break;
        if (!InContact(s, t)) {
            s.lines.push_back({t, devices::BangLine()});
            continue;
        }
        double v = 512.0 + 15.0 * std::sin(2.0 * kPi * 0.3 * t) + noise(rng);
        v += SumBeats(s.beats_s, t, [](double d) {
            return 25.0 * Gauss(d, -0.16, 0.025) - 30.0 * Gauss(d, -0.03, 0.008) + 350.0 * Gauss(d, 0.0, 0.010) -
                   60.0 * Gauss(d, 0.03, 0.008) + 60.0 * Gauss(d, 0.25, 0.045);
        });
        s.lines.push_back({t, devices::NumberLine(std::lround(std::clamp(v, 0.0, 1023.0)))});
    }
    return s;
}

Scenario Max30102Scenario() {
    Scenario s;
    s.end_s = 28.0;
    s.beats_s = MakeBeats(s.end_s, 21);
    s.contact = {{1.0, 16.0}, {17.0, s.end_s}};  // no finger at the start, lifted once
    std::mt19937 rng(22);
    std::normal_distribution<double> noise(0.0, 8.0);
    const double rate_hz = 100.0;  // the library's default 400 Hz with 4-sample averaging
    double bpm = 0.0, avg = 0.0;
    std::size_t next_beat = 0;
    for (long i = 0;; ++i) {
        const double t = static_cast<double>(i) / rate_hz;
        if (t >= s.end_s) break;
        // The sketch's own (instantaneous and averaged) BPM, updated on each beat.
        while (next_beat < s.beats_s.size() && s.beats_s[next_beat] <= t) {
            if (next_beat > 0) {
                bpm = 60.0 / (s.beats_s[next_beat] - s.beats_s[next_beat - 1]);
                avg = avg == 0.0 ? bpm : 0.75 * avg + 0.25 * bpm;
            }
            ++next_beat;
        }
        double ir;
        if (!InContact(s, t)) {
            ir = 1500.0 + noise(rng);  // ambient light only: the sketch appends " No finger?"
        } else {
            const double volume = SumBeats(s.beats_s, t, [](double d) {
                const double systole = d < 0.0 ? Gauss(d, 0.0, 0.06) : Gauss(d, 0.0, 0.15);
                return systole + 0.3 * Gauss(d, 0.30, 0.05);
            });
            ir = 120000.0 + 300.0 * std::sin(2.0 * kPi * 0.2 * t) - 600.0 * volume + noise(rng);  // pulse = dip
        }
        s.lines.push_back({t, devices::MaxHeartRateLine(std::lround(ir), bpm, static_cast<int>(std::lround(avg)))});
    }
    return s;
}

struct RecordedBeat {
    double t_s = 0.0, ibi_ms = 0.0;
    std::string flag;
};

std::vector<RecordedBeat> ReadBeatsOut(const fs::path& p) {
    std::ifstream in(p);
    std::string line;
    std::getline(in, line);
    REQUIRE(line == "t_s,ibi_ms,flag");
    std::vector<RecordedBeat> out;
    while (std::getline(in, line)) {
        const auto a = line.find(','), b = line.find(',', a + 1);
        out.push_back({std::stod(line.substr(0, a)), std::stod(line.substr(a + 1, b - a - 1)), line.substr(b + 1)});
    }
    return out;
}

// Index of the true beat nearest to t, or -1 if none within tol.
long Nearest(const std::vector<double>& beats, double t, double tol) {
    auto it = std::lower_bound(beats.begin(), beats.end(), t);
    long best = -1;
    double best_d = tol;
    for (auto j : {it - 1, it}) {
        if (j < beats.begin() || j >= beats.end()) continue;
        const double d = std::abs(*j - t);
        if (d <= best_d) {
            best_d = d;
            best = static_cast<long>(j - beats.begin());
        }
    }
    return best;
}

// The clock offset (app time - sensor time) that matches most recorded beats; ties: the
// smallest spread. Tried: every pairing of one of the first recorded beats with a true beat
// within 4 s.
double FindOffset(const std::vector<RecordedBeat>& rec, const std::vector<double>& truth) {
    double best_offset = 0.0;
    std::size_t best_n = 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(rec.size(), 6); ++i) {
        for (double tb : truth) {
            const double d = rec[i].t_s - tb;
            if (std::abs(d) > 4.0) continue;
            std::size_t n = 0;
            for (const auto& r : rec) n += Nearest(truth, r.t_s - d, kMatchS) >= 0;
            if (n > best_n) {
                best_n = n;
                best_offset = d;
            }
        }
    }
    // Refine to the median residual.
    std::vector<double> res;
    for (const auto& r : rec)
        if (long k = Nearest(truth, r.t_s - best_offset, kMatchS); k >= 0)
            res.push_back(r.t_s - best_offset - truth[static_cast<std::size_t>(k)]);
    if (!res.empty()) {
        std::nth_element(res.begin(), res.begin() + static_cast<long>(res.size() / 2), res.end());
        best_offset += res[res.size() / 2];
    }
    return best_offset;
}

struct RunResult {
    nlohmann::json json;
    std::vector<RecordedBeat> beats;
};

RunResult RunAppOnScenario(const Scenario& s, const std::string& name) {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path link = dir / "fake-sensor", beats = dir / "beats.csv";
    test::Pty pty;
    test::PointLink(link, pty.name);
    std::string output;
    int exit_code = -1;
    const std::string duration = std::to_string(s.end_s);
    std::thread app([&] {
        auto r = test::RunCommand(std::string("'") + ATTUNE_EXE + "' --headless --no-record --duration " + duration +
                                  // The raw bytes are kept next to the beats for diagnosing a failure.
                                  " --json --capture '" + (dir / "cap.atcap").string() + "' --source tty:'" + link.string() + "' --beats-out '" + beats.string() +
                                  "' --config-dir '" + (dir / "cfg").string() + "'");
        output = r.output;
        exit_code = r.exit_code;
    });
    test::WriteInRealTime(pty.master, s.lines, std::chrono::steady_clock::now());
    // The app started before the sensor's t = 0 and ends at its --duration: keep the line open.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    app.join();
    REQUIRE(exit_code == 0);
    RunResult r;
    r.json = nlohmann::json::parse(output);
    r.beats = ReadBeatsOut(beats);
    return r;
}

// Every recorded beat is a true beat during contact (within kMatchS after the one clock
// offset), its interval the true one; and per contact interval, the true beats after a warm-up
// are all found but for `max_lost`.
void CheckBeats(const Scenario& s, const RunResult& r, double first_warmup_s, double warmup_s, std::size_t max_lost,
                double max_error_allowed_s) {
    std::vector<double> truth;  // beats the sensor actually showed
    for (double t : s.beats_s)
        if (InContact(s, t)) truth.push_back(t);
    REQUIRE(r.beats.size() >= 6);
    const double offset = FindOffset(r.beats, truth);
    INFO("clock offset app - sensor " << offset << " s; " << r.beats.size() << " beats recorded");
    // Bytes written before the app opened the pty wait in its buffer, so the offset may be
    // negative by the app's start-up time.
    CHECK(offset > -2.0);
    CHECK(offset < 3.0);

    std::size_t unmatched = 0, bad_interval = 0;
    double max_error_s = 0.0;  // largest |recorded - true| of the matched beats
    std::vector<bool> found(s.beats_s.size(), false);
    for (const auto& b : r.beats) {
        const double t = b.t_s - offset;
        const long k = Nearest(s.beats_s, t, kMatchS);
        if (k < 0 || !InContact(s, s.beats_s[static_cast<std::size_t>(k)])) {
            ++unmatched;
            UNSCOPED_INFO("invented beat at sensor time " << t << " s");
            continue;
        }
        found[static_cast<std::size_t>(k)] = true;
        max_error_s = std::max(max_error_s, std::abs(t - s.beats_s[static_cast<std::size_t>(k)]));
        const double true_ibi_ms = k > 0 ? (s.beats_s[static_cast<std::size_t>(k)] - s.beats_s[static_cast<std::size_t>(k) - 1]) * 1000.0 : 0.0;
        // Two beat-time errors of a few samples each (4 ms at 250 Hz, 10 ms at 100 Hz).
        if (std::abs(b.ibi_ms - true_ibi_ms) > 25.0) {
            ++bad_interval;
            UNSCOPED_INFO("beat at " << t << " s: interval " << b.ibi_ms << " ms, true " << true_ibi_ms << " ms");
        }
    }
    INFO("largest beat time error " << max_error_s * 1000.0 << " ms");
    CHECK(unmatched == 0);
    CHECK(bad_interval == 0);
    CHECK(max_error_s <= max_error_allowed_s);

    // The app's session ends at --duration on its own clock; the last beats wait for the
    // artifact look-ahead (2 beats), so stop counting 2.5 s before.
    const double app_end_sensor_s = s.end_s - offset - 2.5;
    for (std::size_t c = 0; c < s.contact.size(); ++c) {
        const double from = s.contact[c].from_s + (c == 0 ? first_warmup_s : warmup_s);
        const double to = std::min(s.contact[c].to_s - 0.3, app_end_sensor_s);
        std::size_t expected = 0, got = 0;
        for (std::size_t k = 0; k < s.beats_s.size(); ++k) {
            if (s.beats_s[k] < from || s.beats_s[k] > to) continue;
            ++expected;
            got += found[k];
        }
        INFO("contact " << s.contact[c].from_s << "-" << s.contact[c].to_s << " s: " << got << " of " << expected
                        << " true beats after the warm-up found");
        CHECK(expected >= 3);
        CHECK(got + max_lost >= expected);
    }
}

}  // namespace

TEST_CASE("a fake AD8232 on a pty: the app detects the ECG's beats, none while a lead is off", "[e2e][tty][ecg]") {
    const Scenario s = Ad8232Scenario();
    const RunResult r = RunAppOnScenario(s, "sensor-e2e-ad8232");
    INFO(r.json.dump());
    CHECK(r.json.at("format") == "ad8232");
    CHECK(r.json.at("beat_source") == "Attune's ECG detector (Pan-Tompkins)");
    CHECK_THAT(r.json.at("sample_rate_hz").get<double>(), Catch::Matchers::WithinRel(250.0, 0.03));
    // Warm-up, first contact: 2 s format settle + 4 s rate measurement + the detector's start
    // (dsp/ecg_detector.hpp: 2 s learning, the first two QRS withheld, the first beat without
    // an interval: ~2 s + 3 beats) ~ 10.5 s. After a leads-off the detector restarts: ~4.7 s.
    // Beat times: one sample (4 ms) plus the sample clock's anchoring jitter; 3 ms measured.
    CheckBeats(s, r, 10.5, 5.0, 1, 0.025);
}

TEST_CASE("a fake MAX30102 (SparkFun Example 5) on a pty: the app detects the pulses, none without a finger", "[e2e][tty][ppg]") {
    const Scenario s = Max30102Scenario();
    const RunResult r = RunAppOnScenario(s, "sensor-e2e-max30102");
    INFO(r.json.dump());
    CHECK(r.json.at("format") == "max3010x-heart-rate");
    CHECK(r.json.at("beat_source") == "Attune's PPG detector (Elgendi)");
    CHECK_THAT(r.json.at("sample_rate_hz").get<double>(), Catch::Matchers::WithinRel(100.0, 0.03));
    // The same start-up; the PPG detector's periodicity gate opens after a few pulses too.
    // Beat times: one sample (10 ms) plus the anchoring jitter and the pulse peak's flatness;
    // 13 ms measured.
    CheckBeats(s, r, 10.5, 5.0, 1, 0.035);
}
