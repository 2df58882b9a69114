// The Arduino sketches in devices/firmware must build for the Uno with the Debian AVR toolchain
// and fit its memory, and the PulseSensor sketch's beat detector (a portable header the sketch
// includes) must find beats in a realistic PPG with the timing accuracy HRV needs.
//
// Missing toolchain = failure, not a skip: run scripts/deps --with-extras (Debian packages
// arduino-mk arduino-core-avr gcc-avr avr-libc).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../../devices/firmware/attune_pulsesensor/beat_detector.h"
#include "run_command.hpp"

namespace fs = std::filesystem;
using attune::test::RunCommand;

namespace {

// ---------------------------------------------------------------------------------------------
// Building the sketches

// Uno with Optiboot: 32 KiB flash less the 512-byte bootloader (boards.txt upload.maximum_size).
constexpr long kUnoFlashBytes = 32256;
// 2 KiB SRAM; globals above 75% leave too little stack (the Arduino IDE warns from there too).
constexpr long kUnoRamBudgetBytes = 1536;

std::string ShellQuote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

// Empty when everything arduino-mk needs is installed; otherwise what is missing.
std::string MissingToolchain() {
    std::string missing;
    if (!fs::exists("/usr/share/arduino/Arduino.mk")) missing += " arduino-mk";
    if (!fs::exists("/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h")) missing += " arduino-core-avr";
    if (RunCommand("command -v avr-gcc >/dev/null 2>&1 && command -v avr-size >/dev/null 2>&1").exit_code != 0)
        missing += " gcc-avr";
    if (!fs::exists("/usr/lib/avr/include/avr/io.h")) missing += " avr-libc";
    if (RunCommand("command -v make >/dev/null 2>&1").exit_code != 0) missing += " make";
    return missing;
}

struct AvrSize {
    long text = -1, data = -1, bss = -1;
};

// Berkeley format: a header line, then "text data bss dec hex filename".
AvrSize ParseAvrSize(const std::string& output) {
    AvrSize s;
    std::istringstream in(output);
    std::string header;
    std::getline(in, header);
    in >> s.text >> s.data >> s.bss;
    if (!in) s = AvrSize{};
    return s;
}

// Lines of the build log that warn about our own sources (the Arduino core's warnings are not ours).
std::vector<std::string> OwnWarnings(const std::string& log, const std::string& sketch) {
    std::vector<std::string> found;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find("warning") == std::string::npos) continue;
        if (line.find(sketch + ".ino") != std::string::npos || line.find("beat_detector.h") != std::string::npos)
            found.push_back(line);
    }
    return found;
}

void BuildSketch(const std::string& sketch) {
    const std::string missing = MissingToolchain();
    INFO("The AVR toolchain for the firmware sketches is not installed (missing:" << missing
         << "). Run scripts/deps --with-extras, or: apt-get install arduino-mk arduino-core-avr gcc-avr avr-libc");
    REQUIRE(missing.empty());

    const fs::path source = fs::path(ATTUNE_SOURCE_DIR) / "devices" / "firmware" / sketch;
    const fs::path objdir = fs::path(ATTUNE_TEST_TMP_DIR) / "firmware" / sketch;
    REQUIRE(fs::exists(source / (sketch + ".ino")));
    REQUIRE(fs::exists(source / "Makefile"));
    fs::remove_all(objdir);  // a fresh build each run: an up-to-date tree would prove nothing
    fs::create_directories(objdir.parent_path());

    // MAKEFLAGS cleared so a parallel outer make cannot leak jobserver settings into this one.
    const std::string command = "MAKEFLAGS= make -C " + ShellQuote(source.string()) +
                                " OBJDIR=" + ShellQuote(objdir.string()) + " 2>&1";
    const auto build = RunCommand(command);
    INFO("$ " << command << "\n" << build.output);
    REQUIRE(build.exit_code == 0);

    const fs::path hex = objdir / (sketch + ".hex");
    const fs::path elf = objdir / (sketch + ".elf");
    REQUIRE(fs::exists(hex));
    REQUIRE(fs::file_size(hex) > 0);
    REQUIRE(fs::exists(elf));
    // Out of tree means out of tree: arduino-mk's default build-uno/ must not appear in the repo.
    CHECK_FALSE(fs::exists(source / "build-uno"));

    const auto warnings = OwnWarnings(build.output, sketch);
    for (const auto& w : warnings) UNSCOPED_INFO(w);
    CHECK(warnings.empty());

    const auto size_run = RunCommand("avr-size " + ShellQuote(elf.string()) + " 2>&1");
    INFO(size_run.output);
    REQUIRE(size_run.exit_code == 0);
    const AvrSize size = ParseAvrSize(size_run.output);
    REQUIRE(size.text >= 0);
    const long flash = size.text + size.data;  // .data's initial values live in flash too
    const long ram = size.data + size.bss;
    INFO(sketch << ": flash " << flash << " bytes, RAM (data+bss) " << ram << " bytes");
    CHECK(flash > 1000);  // sanity: a real program, not an empty link
    CHECK(flash < kUnoFlashBytes);
    CHECK(ram < kUnoRamBudgetBytes);
}

// ---------------------------------------------------------------------------------------------
// A synthetic PulseSensor signal: 10-bit ADC counts sampled at 500 Hz, known beat times.

constexpr double kSampleMs = 2.0;

struct Ppg {
    std::vector<int16_t> samples;     // one per 2 ms, the first at t = 2 ms (the detector's clock)
    std::vector<double> onsets_ms;    // pulse onset (foot of the upstroke) of every beat
};

double Gauss(double x, double mu, double sigma) {
    const double z = (x - mu) / sigma;
    return std::exp(-0.5 * z * z);
}

// One pulse, relative to its onset: a quick systolic upstroke, a slower fall, a dicrotic wave.
double PulseShape(double tau_ms) {
    if (tau_ms < 0.0 || tau_ms > 1500.0) return 0.0;
    const double systolic = tau_ms < 110.0 ? Gauss(tau_ms, 110.0, 40.0) : Gauss(tau_ms, 110.0, 130.0);
    const double dicrotic = 0.3 * Gauss(tau_ms, 330.0, 45.0);
    return systolic + dicrotic;
}

struct PpgParams {
    double mean_bpm = 60.0;
    double seconds = 60.0;
    double baseline = 450.0;
    double amplitude = 250.0;
    double noise_sd = 2.0;
    double rsa_fraction = 0.05;        // intervals swing +-5% over a 10-beat cycle
    double first_onset_ms = 300.0;
    double flat_from_ms = -1.0;        // optional gap without pulse (finger lifted)
    double flat_to_ms = -1.0;
    unsigned seed = 1;
};

Ppg MakePpg(const PpgParams& p) {
    Ppg ppg;
    const double mean_rr = 60000.0 / p.mean_bpm;
    const double end_ms = p.seconds * 1000.0;
    double t = p.first_onset_ms;
    for (int k = 0; t < end_ms; ++k) {
        if (!(t >= p.flat_from_ms && t < p.flat_to_ms)) ppg.onsets_ms.push_back(t);
        t += mean_rr * (1.0 + p.rsa_fraction * std::sin(2.0 * std::numbers::pi * k / 10.0));
    }
    std::mt19937 rng(p.seed);
    std::normal_distribution<double> noise(0.0, p.noise_sd);
    const auto n = static_cast<std::size_t>(end_ms / kSampleMs);
    ppg.samples.reserve(n);
    std::size_t first = 0;
    for (std::size_t i = 1; i <= n; ++i) {
        const double now = static_cast<double>(i) * kSampleMs;
        while (first < ppg.onsets_ms.size() && now - ppg.onsets_ms[first] > 1500.0) ++first;
        double v = p.baseline;
        for (std::size_t k = first; k < ppg.onsets_ms.size() && ppg.onsets_ms[k] <= now; ++k)
            v += p.amplitude * PulseShape(now - ppg.onsets_ms[k]);
        // Slow respiratory baseline drift, as a finger on the sensor shows.
        v += 3.0 * std::sin(2.0 * std::numbers::pi * now / 4000.0);
        v += noise(rng);
        ppg.samples.push_back(static_cast<int16_t>(std::clamp(std::lround(v), 0L, 1023L)));
    }
    return ppg;
}

struct Detection {
    double t_ms;
    unsigned bpm;
    unsigned ibi_ms;
};

std::vector<Detection> Detect(const Ppg& ppg) {
    attune_fw::BeatDetector detector(2);
    std::vector<Detection> out;
    for (int16_t s : ppg.samples) {
        if (detector.addSample(s))
            out.push_back({static_cast<double>(detector.clockMs()), detector.bpm(), detector.ibi()});
    }
    return out;
}

// Index of the beat whose upstroke produced a detection at t_ms (the threshold is crossed
// well within 200 ms of the onset), or -1.
int MatchBeat(const Ppg& ppg, double t_ms) {
    for (std::size_t k = 0; k < ppg.onsets_ms.size(); ++k) {
        const double lag = t_ms - ppg.onsets_ms[k];
        if (lag >= 0.0 && lag < 200.0) return static_cast<int>(k);
    }
    return -1;
}

struct Scored {
    int matched = 0;          // detections that fall on a real upstroke
    int unmatched = 0;        // detections anywhere else (false beats)
    int ibi_checked = 0;
    int ibi_bad = 0;          // |IBI - true interval| > tolerance
    double worst_ibi_error_ms = 0.0;
    int bpm_checked = 0;
    int bpm_bad = 0;          // |BPM - 60000 / mean of the last 10 true intervals| > 2
};

Scored Score(const Ppg& ppg, const std::vector<Detection>& detections, double from_ms = 0.0,
             double ibi_tolerance_ms = 4.0) {
    Scored s;
    int consecutive = 0;  // detections in a row, each one beat after the previous
    int previous_beat = -1;
    for (const auto& d : detections) {
        if (d.t_ms < from_ms) continue;
        const int k = MatchBeat(ppg, d.t_ms);
        if (k < 0) {
            ++s.unmatched;
            consecutive = 0;
            previous_beat = -1;
            continue;
        }
        ++s.matched;
        consecutive = (previous_beat >= 0 && k == previous_beat + 1) ? consecutive + 1 : 0;
        previous_beat = k;
        if (k >= 1 && consecutive >= 1) {
            const double truth = ppg.onsets_ms[static_cast<std::size_t>(k)] - ppg.onsets_ms[static_cast<std::size_t>(k) - 1];
            const double error = std::abs(static_cast<double>(d.ibi_ms) - truth);
            ++s.ibi_checked;
            if (error > ibi_tolerance_ms) ++s.ibi_bad;
            s.worst_ibi_error_ms = std::max(s.worst_ibi_error_ms, error);
        }
        if (k >= 10 && consecutive >= 10) {  // the detector's 10-interval history is all real
            const double mean_rr = (ppg.onsets_ms[static_cast<std::size_t>(k)] - ppg.onsets_ms[static_cast<std::size_t>(k) - 10]) / 10.0;
            ++s.bpm_checked;
            if (std::abs(static_cast<double>(d.bpm) - 60000.0 / mean_rr) > 2.0) ++s.bpm_bad;
        }
    }
    return s;
}

void CheckSteadyRhythm(double bpm) {
    PpgParams p;
    p.mean_bpm = bpm;
    const Ppg ppg = MakePpg(p);
    const auto detections = Detect(ppg);
    const Scored s = Score(ppg, detections);
    INFO(bpm << " bpm: " << ppg.onsets_ms.size() << " beats, " << detections.size() << " detections, "
              << s.unmatched << " false, worst IBI error " << s.worst_ibi_error_ms << " ms");
    CHECK(s.unmatched == 0);
    // Every beat but the first two is reported: the first crosses the start-up threshold and
    // the second only starts the clock (see beat_detector.h).
    CHECK(s.matched == static_cast<int>(ppg.onsets_ms.size()) - 2);
    CHECK(s.ibi_checked >= static_cast<int>(ppg.onsets_ms.size()) - 3);
    CHECK(s.ibi_bad == 0);
    CHECK(s.bpm_checked >= static_cast<int>(ppg.onsets_ms.size()) - 12);
    CHECK(s.bpm_bad == 0);
}

}  // namespace

TEST_CASE("PulseSensor sketch builds for the Uno and fits", "[firmware]") { BuildSketch("attune_pulsesensor"); }

TEST_CASE("MAX30102 sketch builds for the Uno and fits", "[firmware]") { BuildSketch("attune_max30102"); }

TEST_CASE("AD8232 sketch builds for the Uno and fits", "[firmware]") { BuildSketch("attune_ad8232"); }

TEST_CASE("Firmware beat detector: 60 bpm PPG gives BPM within 2 and IBIs within 4 ms", "[firmware][beats]") {
    CheckSteadyRhythm(60.0);
}

TEST_CASE("Firmware beat detector: 100 bpm PPG gives BPM within 2 and IBIs within 4 ms", "[firmware][beats]") {
    CheckSteadyRhythm(100.0);
}

TEST_CASE("Firmware beat detector: the first interval is between beats past the start-up threshold", "[firmware][beats]") {
    PpgParams p;
    p.mean_bpm = 75.0;
    p.rsa_fraction = 0.0;
    p.seconds = 10.0;
    const Ppg ppg = MakePpg(p);
    const auto detections = Detect(ppg);
    REQUIRE(detections.size() >= 2);
    CHECK(MatchBeat(ppg, detections.front().t_ms) == 2);
    // Playground seeds the 10-interval history with the first real interval: BPM = 60000 / IBI.
    CHECK(detections.front().bpm == 60000u / detections.front().ibi_ms);
    CHECK(std::abs(static_cast<double>(detections.front().ibi_ms) - 800.0) <= 4.0);
}

TEST_CASE("Firmware beat detector: 2.5 s without a pulse resets and it locks on again", "[firmware][beats]") {
    PpgParams p;
    p.mean_bpm = 70.0;
    p.seconds = 30.0;
    p.flat_from_ms = 10000.0;  // finger lifted for 6 s
    p.flat_to_ms = 16000.0;
    const Ppg ppg = MakePpg(p);

    attune_fw::BeatDetector detector(2);
    std::vector<Detection> detections;
    bool reset_seen = false;
    for (std::size_t i = 0; i < ppg.samples.size(); ++i) {
        if (detector.addSample(ppg.samples[i]))
            detections.push_back({static_cast<double>(detector.clockMs()), detector.bpm(), detector.ibi()});
        const double t = static_cast<double>(i + 1) * kSampleMs;
        if (t > 13500.0 && t < 16000.0 && detector.bpm() == 0) reset_seen = true;  // BPM 0 = "no pulse"
    }
    CHECK(reset_seen);
    int during_gap = 0;
    for (const auto& d : detections)
        if (d.t_ms > 10300.0 && d.t_ms < 16000.0) ++during_gap;
    CHECK(during_gap == 0);
    const Scored after = Score(ppg, detections, 16000.0);
    INFO("after the gap: " << after.matched << " beats, worst IBI error " << after.worst_ibi_error_ms << " ms");
    CHECK(after.unmatched == 0);
    CHECK(after.matched >= 14 * 70 / 60 - 2);  // ~16 beats in the last 14 s; the first two are not reported
    CHECK(after.ibi_bad == 0);
}

TEST_CASE("Firmware beat detector: a signal far from mid-scale is found after one reset", "[firmware][beats]") {
    // Playground's fixed 550 threshold would never see this pulse (baseline 200, peaks ~330);
    // the adaptive reset centres the threshold on what the first 2.5 s showed.
    PpgParams p;
    p.mean_bpm = 80.0;
    p.seconds = 40.0;
    p.baseline = 200.0;
    p.amplitude = 130.0;
    p.noise_sd = 1.5;
    const Ppg ppg = MakePpg(p);
    const auto detections = Detect(ppg);
    // Half the amplitude means half the upstroke slope: the same baseline drift moves the
    // crossing twice as far, so this weak pulse gets 6 ms rather than 4.
    const Scored s = Score(ppg, detections, 0.0, 6.0);
    INFO(detections.size() << " detections, worst IBI error " << s.worst_ibi_error_ms << " ms");
    CHECK(s.unmatched == 0);
    CHECK(s.matched >= static_cast<int>(ppg.onsets_ms.size()) - 6);  // ~3 s to lock on
    CHECK(s.ibi_bad == 0);
    CHECK(s.bpm_bad == 0);
}
