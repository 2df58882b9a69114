// The Arduino sketches in devices/firmware must build for the Uno with the Debian AVR toolchain,
// fit its memory, and behave when the compiled firmware runs on a simulated ATmega328P (simavr):
// exact sample rates, the documented line formats, beats from an injected PPG, lead-off
// marks, and the MAX30102 sketch's register setup, FIFO reading and missing-sensor path
// against a register-level model of the sensor. The PulseSensor sketch's beat detector (a
// portable header the sketch includes) is also run on the host on realistic synthetic PPG,
// checked against the timing accuracy HRV needs.
//
// Missing tools = failure, not a skip: run scripts/deps --with-extras (Debian packages
// arduino-mk arduino-core-avr gcc-avr avr-libc libsimavr-dev).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <random>
#include <regex>
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

fs::path BuildSketch(const std::string& sketch) {
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
    return elf;
}

// ---------------------------------------------------------------------------------------------
// Running the firmware in simavr

// Compiled at test time (so the test executable itself needs no simavr link): runs an ELF on
// a simulated ATmega328P at 16 MHz and prints each UART line with its simulated time.
const char* const kSimHarnessSource = R"HARNESS(/* Runs an Uno sketch (ELF) in simavr for a given simulated time and prints every UART line
 * as "<microseconds>\t<line>". Input modes:
 *   ppg     A0 = synthetic PPG, a pulse every 1000 ms from 300 ms (10-bit counts 450..~700)
 *   ecg     A0 = 2.5 V (ADC 512); D10 (LO+) high from 2.0 to 2.5 s, D11 (LO-) from 3.0 to 3.5 s
 *   max     a MAX30102 model on I2C (address 0x57), absent until 3.5 s, then present: its
 *           FIFO fills at the configured rate with IR = 100000 + n, RED = 200000 + n for
 *           sample n, so the output shows lost, repeated or swapped samples. Register writes
 *           are printed as "<us>\t@W <reg> <value>" (hex).
 *   none    nothing connected
 * Usage: fw_sim <elf> <seconds> <ppg|ecg|max|none> */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avr_adc.h"
#include "avr_twi.h"
#include "avr_ioport.h"
#include "avr_uart.h"
#include "sim_avr.h"
#include "sim_elf.h"

static avr_t* avr;
static char line[256];
static size_t line_len;
static int mode; /* 0 none, 1 ppg, 2 ecg, 3 max */

static double now_us(void) { return (double)avr->cycle * 1e6 / (double)avr->frequency; }

static void uart_out(struct avr_irq_t* irq, uint32_t value, void* param) {
    (void)irq;
    (void)param;
    const char c = (char)value;
    if (c == '\n') {
        if (line_len > 0 && line[line_len - 1] == '\r') --line_len;
        line[line_len] = '\0';
        printf("%.0f\t%s\n", now_us(), line);
        line_len = 0;
    } else if (line_len + 1 < sizeof line) {
        line[line_len++] = c;
    }
}

static double gauss(double x, double mu, double sigma) {
    const double z = (x - mu) / sigma;
    return exp(-0.5 * z * z);
}

/* Same shape as the host test's PulseShape: fast upstroke, slow fall, dicrotic wave. */
static double ppg_counts(double t_ms) {
    double v = 450.0;
    for (int k = 0; k < 100; ++k) {
        const double tau = t_ms - (300.0 + 1000.0 * k);
        if (tau < 0.0) break;
        if (tau > 1500.0) continue;
        v += 250.0 * ((tau < 110.0 ? gauss(tau, 110.0, 40.0) : gauss(tau, 110.0, 130.0)) + 0.3 * gauss(tau, 330.0, 45.0));
    }
    return v;
}

static void adc_trigger(struct avr_irq_t* irq, uint32_t value, void* param) {
    (void)irq;
    (void)value;
    (void)param;
    double counts = 0.0;
    if (mode == 1) counts = ppg_counts(now_us() / 1000.0);
    if (mode == 2) counts = 512.0;
    /* counts -> millivolts: simavr converts back as mV * 1023 / AVcc (5 V); +0.5 so it lands on counts. */
    const uint32_t mv = (uint32_t)((counts + 0.5) * 5000.0 / 1023.0);
    avr_raise_irq(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_ADC0), mv);
}


/* ---- MAX30102 model: the registers the datasheet documents, a 32-sample FIFO. ---- */
static struct {
    int present;
    uint8_t reg[256];
    uint8_t ptr;           /* register pointer, set by the first byte of a write */
    int selected;          /* addressed in the current transaction */
    int first_write_byte;  /* next written byte is the register pointer */
    uint32_t fifo_ir[32], fifo_red[32];
    int count;             /* samples in the FIFO */
    int byte_in_sample;    /* 0..5 while reading FIFO_DATA */
    uint32_t next_n;       /* sample number of the next sample made */
    avr_cycle_count_t next_sample_cycle;
} max;

static void max_reset(void) {
    memset(max.reg, 0, sizeof max.reg);
    max.reg[0xFE] = 0x03; /* REV_ID */
    max.reg[0xFF] = 0x15; /* PART_ID */
    max.reg[0x00] = 0x01; /* PWR_RDY */
    max.count = 0;
    max.byte_in_sample = 0;
}

static int max_rate_hz(void) {
    static const int sr[8] = {50, 100, 200, 400, 800, 1000, 1600, 3200};
    static const int ave[8] = {1, 2, 4, 8, 16, 32, 32, 32};
    return sr[(max.reg[0x0A] >> 2) & 7] / ave[(max.reg[0x08] >> 5) & 7];
}

static void max_make_samples(void) {
    if ((max.reg[0x09] & 0x07) != 0x03 || (max.reg[0x09] & 0x80)) return; /* SpO2 mode, not shut down */
    const avr_cycle_count_t period = avr->frequency / (avr_cycle_count_t)max_rate_hz();
    if (max.next_sample_cycle == 0) max.next_sample_cycle = avr->cycle + period;
    while (avr->cycle >= max.next_sample_cycle) {
        max.next_sample_cycle += period;
        const uint8_t wr = max.reg[0x04] & 0x1F;
        max.fifo_ir[wr] = 100000u + max.next_n;
        max.fifo_red[wr] = 200000u + max.next_n;
        ++max.next_n;
        max.reg[0x04] = (wr + 1) & 0x1F;
        if (max.count < 32) {
            ++max.count;
        } else { /* full, FIFO_ROLLOVER_EN: the oldest sample is overwritten */
            max.reg[0x06] = (max.reg[0x06] + 1) & 0x1F;
            if (max.reg[0x05] < 0x1F) ++max.reg[0x05];
        }
    }
}

static uint8_t max_read_byte(void) {
    if (max.ptr != 0x07) return max.reg[max.ptr++];
    /* FIFO_DATA: no pointer increment; each sample is RED[3] then IR[3], MSB first. */
    if (max.count == 0) return 0;
    const uint8_t rd = max.reg[0x06] & 0x1F;
    const uint32_t v = max.byte_in_sample < 3 ? max.fifo_red[rd] : max.fifo_ir[rd];
    const int shift = 16 - 8 * (max.byte_in_sample % 3);
    const uint8_t b = (uint8_t)(v >> shift);
    if (++max.byte_in_sample == 6) {
        max.byte_in_sample = 0;
        max.reg[0x06] = (rd + 1) & 0x1F;
        --max.count;
    }
    return b;
}

static void max_write_byte(uint8_t b) {
    if (max.first_write_byte) {
        max.ptr = b;
        max.first_write_byte = 0;
        return;
    }
    printf("%.0f\t@W %02X %02X\n", now_us(), max.ptr, b);
    if (max.ptr == 0x09 && (b & 0x40)) { /* RESET: defaults, bit clears itself */
        max_reset();
        max.ptr++;
        return;
    }
    max.reg[max.ptr] = b;
    if (max.ptr == 0x04 || max.ptr == 0x06) max.count = (max.reg[0x04] - max.reg[0x06]) & 0x1F;
    if (max.ptr == 0x09) max.next_sample_cycle = 0;
    max.ptr++;
}

static void twi_from_avr(struct avr_irq_t* irq, uint32_t value, void* param) {
    (void)irq;
    (void)param;
    avr_twi_msg_irq_t v;
    v.u.v = value;
    avr_irq_t* reply = avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_INPUT);
    if (v.u.twi.msg & TWI_COND_STOP) max.selected = 0;
    if (v.u.twi.msg & TWI_COND_START) {
        max.selected = max.present && (v.u.twi.addr >> 1) == 0x57;
        max.first_write_byte = 1;
        if (max.selected) avr_raise_irq(reply, avr_twi_irq_msg(TWI_COND_ACK, v.u.twi.addr, 1));
    }
    if (!max.selected) return;
    if (v.u.twi.msg & TWI_COND_WRITE) {
        avr_raise_irq(reply, avr_twi_irq_msg(TWI_COND_ACK, v.u.twi.addr, 1));
        max_write_byte(v.u.twi.data);
    }
    if (v.u.twi.msg & TWI_COND_READ) {
        max_make_samples();
        avr_raise_irq(reply, avr_twi_irq_msg(TWI_COND_READ, v.u.twi.addr, max_read_byte()));
    }
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fw_sim <elf> <seconds> <ppg|ecg|max|none>\n");
        return 2;
    }
    mode = strcmp(argv[3], "ppg") == 0 ? 1 : strcmp(argv[3], "ecg") == 0 ? 2 : strcmp(argv[3], "max") == 0 ? 3 : 0;
    elf_firmware_t fw;
    memset(&fw, 0, sizeof fw);
    if (elf_read_firmware(argv[1], &fw) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[1]);
        return 2;
    }
    avr = avr_make_mcu_by_name("atmega328p");
    if (!avr) return 2;
    avr_init(avr);
    avr->frequency = 16000000;
    avr->vcc = avr->avcc = avr->aref = 5000;
    avr_load_firmware(avr, &fw);
    avr->log = 0;

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~AVR_UART_FLAG_STDIO;
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out, NULL);
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_ADC_GETIRQ, ADC_IRQ_OUT_TRIGGER), adc_trigger, NULL);

    avr_irq_t* lo_plus = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 2);  /* D10 */
    avr_irq_t* lo_minus = avr_io_getirq(avr, AVR_IOCTL_IOPORT_GETIRQ('B'), 3); /* D11 */
    avr_raise_irq(lo_plus, 0);
    avr_raise_irq(lo_minus, 0);

    max_reset();
    avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_TWI_GETIRQ(0), TWI_IRQ_OUTPUT), twi_from_avr, NULL);

    const avr_cycle_count_t end = (avr_cycle_count_t)(atof(argv[2]) * 16e6);
    while (avr->cycle < end) {
        if (mode == 2) {
            const double t = now_us() / 1e6;
            avr_raise_irq(lo_plus, t >= 2.0 && t < 2.5);
            avr_raise_irq(lo_minus, t >= 3.0 && t < 3.5);
        }
        if (mode == 3) {
            if (!max.present && avr->cycle >= (avr_cycle_count_t)(3.5 * 16e6)) max.present = 1;
            if (max.present) max_make_samples();
        }
        const int state = avr_run(avr);
        if (state == cpu_Done || state == cpu_Crashed) {
            fprintf(stderr, "simulation stopped: state %d at %.0f us\n", state, now_us());
            return 3;
        }
    }
    fflush(stdout);
    return 0;
}
)HARNESS";

struct SimLine {
    double t_us;
    std::string text;
};

fs::path BuildSimHarness(const fs::path& dir) {
    const bool headers = fs::exists("/usr/include/simavr/sim_avr.h");
    INFO("simavr's library and headers are not installed. Run scripts/deps --with-extras, or: "
         "apt-get install libsimavr-dev");
    REQUIRE(headers);
    fs::create_directories(dir);
    const fs::path source = dir / "fw_sim.c";
    {
        std::ofstream out(source);
        out << kSimHarnessSource;
    }
    const fs::path exe = dir / "fw_sim";
    const std::string command = "cc -O2 -I/usr/include/simavr -o " + ShellQuote(exe.string()) + " " +
                                ShellQuote(source.string()) + " -lsimavr -lm 2>&1";
    const auto build = RunCommand(command);
    INFO("$ " << command << "\n" << build.output);
    REQUIRE(build.exit_code == 0);
    return exe;
}

std::vector<SimLine> Simulate(const fs::path& elf, double seconds, const std::string& mode) {
    const fs::path harness = BuildSimHarness(elf.parent_path() / "sim");
    const std::string command = ShellQuote(harness.string()) + " " + ShellQuote(elf.string()) + " " +
                                std::to_string(seconds) + " " + mode + " 2>&1";
    const auto run = RunCommand(command);
    INFO("$ " << command << "\n" << run.output.substr(0, 2000));
    REQUIRE(run.exit_code == 0);
    std::vector<SimLine> lines;
    std::istringstream in(run.output);
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos || tab == 0) continue;  // simavr's own "Loaded ..." notes
        if (line.find_first_not_of("0123456789") != tab) continue;
        lines.push_back({std::stod(line.substr(0, tab)), line.substr(tab + 1)});
    }
    REQUIRE_FALSE(lines.empty());
    return lines;
}

bool IsUnsigned(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// Mean spacing of the given times, in microseconds.
double MeanSpacing(const std::vector<double>& t) { return t.size() < 2 ? 0.0 : (t.back() - t.front()) / static_cast<double>(t.size() - 1); }

double MaxSpacing(const std::vector<double>& t) {
    double worst = 0.0;
    for (std::size_t i = 1; i < t.size(); ++i) worst = std::max(worst, t[i] - t[i - 1]);
    return worst;
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

TEST_CASE("PulseSensor sketch builds for the Uno and runs at 500 Hz with beats in simavr", "[firmware]") {
    const fs::path elf = BuildSketch("attune_pulsesensor");
    // The harness feeds A0 a PPG with a pulse every 1000 ms (counts 450..700) from 300 ms on.
    const auto lines = Simulate(elf, 8.0, "ppg");
    REQUIRE(lines.front().text == "# Attune PulseSensor 500 Hz");
    CHECK(lines.front().t_us < 10000.0);

    std::vector<double> sample_times;
    int low = 1023, high = 0;
    std::vector<std::pair<unsigned, unsigned>> beats;  // (B, Q)
    std::vector<std::string> other;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string& text = lines[i].text;
        const std::string value = text.substr(1);
        if (text[0] == 'S' && IsUnsigned(value)) {
            sample_times.push_back(lines[i].t_us);
            low = std::min(low, std::stoi(value));
            high = std::max(high, std::stoi(value));
        } else if (text[0] == 'B' && IsUnsigned(value) && i + 1 < lines.size() && lines[i + 1].text[0] == 'Q' &&
                   IsUnsigned(lines[i + 1].text.substr(1))) {
            beats.emplace_back(std::stoul(value), std::stoul(lines[i + 1].text.substr(1)));
            ++i;
        } else {
            other.push_back(text);
        }
    }
    for (const auto& o : other) UNSCOPED_INFO("unexpected line: " << o);
    CHECK(other.empty());  // includes "# dropped": the serial port must keep up with 500 Hz
    INFO(sample_times.size() << " samples, mean spacing " << MeanSpacing(sample_times) << " us, longest gap "
                             << MaxSpacing(sample_times) << " us");
    CHECK(sample_times.size() >= 3990);
    CHECK(sample_times.size() <= 4000);
    CHECK(std::abs(MeanSpacing(sample_times) - 2000.0) < 2.0);
    CHECK(MaxSpacing(sample_times) < 4000.0);
    CHECK(low >= 445);
    CHECK(low <= 455);
    CHECK(high >= 690);
    CHECK(high <= 705);
    // Pulses at 0.3, 1.3, ... 7.3 s: reported from the third on (see beat_detector.h).
    CHECK(beats.size() == 6);
    for (const auto& [bpm, ibi] : beats) {
        CHECK(bpm >= 58);
        CHECK(bpm <= 62);
        CHECK(ibi >= 996);
        CHECK(ibi <= 1004);
    }
}

TEST_CASE("MAX30102 sketch builds for the Uno and reads a simulated sensor at 200 Hz", "[firmware]") {
    const fs::path elf = BuildSketch("attune_max30102");
    // The harness's MAX30102 model answers from 3.5 s on; its FIFO holds IR = 100000 + n,
    // RED = 200000 + n for sample n.
    const auto lines = Simulate(elf, 8.0, "max");
    const std::string missing = "! MAX30102 not found — check SDA=A4, SCL=A5, 3.3V";
    REQUIRE(lines.size() >= 3);
    CHECK(lines[0].text == missing);
    CHECK(lines[0].t_us < 100000.0);
    CHECK(lines[1].text == missing);  // retried every 3 s, never hung
    CHECK(std::abs(lines[1].t_us - lines[0].t_us - 3.0e6) < 0.1e6);

    std::vector<std::string> writes;
    bool banner = false;
    double banner_us = 0.0;
    std::vector<std::string> other;
    std::vector<double> stamps_ms;
    long expected_n = 0;
    int out_of_sequence = 0;
    int late_stamps = 0;
    const std::regex sample_line(R"(IR=(\d+),RED=(\d+),T=(\d+))");
    for (std::size_t i = 2; i < lines.size(); ++i) {
        const std::string& text = lines[i].text;
        std::smatch m;
        if (text.rfind("@W ", 0) == 0) {
            writes.push_back(text.substr(3));
        } else if (text == "# Attune MAX30102 200 Hz" && !banner) {
            banner = true;
            banner_us = lines[i].t_us;
        } else if (banner && std::regex_match(text, m, sample_line)) {
            const long ir = std::stol(m[1].str());
            const long red = std::stol(m[2].str());
            if (ir != 100000 + expected_n || red != 200000 + expected_n) ++out_of_sequence;
            expected_n = ir - 100000 + 1;
            const double t_ms = std::stod(m[3].str());
            stamps_ms.push_back(t_ms);
            // Back-dated stamps: never after the line was printed, and not long before.
            const double lag_ms = lines[i].t_us / 1000.0 - t_ms;
            if (lag_ms < -1.0 || lag_ms > 20.0) ++late_stamps;
        } else {
            other.push_back(text);
        }
    }
    for (const auto& o : other) UNSCOPED_INFO("unexpected line: " << o);
    CHECK(other.empty());
    REQUIRE(banner);
    CHECK(banner_us > 5.9e6);  // found on the retry at 6 s
    CHECK(banner_us < 6.2e6);
    // Reset first, then the documented configuration, sampling started last.
    const std::vector<std::string> expected_writes = {"09 40", "02 00", "03 00", "08 30", "0A 6F",
                                                      "0C 24", "0D 24", "04 00", "05 00", "06 00", "09 03"};
    CHECK(writes == expected_writes);
    INFO(stamps_ms.size() << " samples; mean stamp spacing " << MeanSpacing(stamps_ms) << " ms");
    CHECK(stamps_ms.size() >= 390);  // ~2 s at 200 Hz
    CHECK(out_of_sequence == 0);     // none lost, repeated, or IR/RED swapped
    CHECK(late_stamps == 0);
    CHECK(std::abs(MeanSpacing(stamps_ms) - 5.0) < 0.1);
    CHECK(MaxSpacing(stamps_ms) <= 7.0);
}

TEST_CASE("AD8232 sketch builds for the Uno and samples at 250 Hz with lead-off marks in simavr", "[firmware]") {
    const fs::path elf = BuildSketch("attune_ad8232");
    // The harness holds A0 at 2.5 V (ADC 512) and raises LO+ (D10) from 2.0 to 2.5 s and LO-
    // (D11) from 3.0 to 3.5 s.
    const auto lines = Simulate(elf, 4.0, "ecg");
    REQUIRE(lines.front().text == "# Attune AD8232 250 Hz");
    std::vector<double> times;
    int wrong_value = 0;
    int off_marks = 0;
    int misplaced_marks = 0;
    std::vector<std::string> other;
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const std::string& text = lines[i].text;
        if (text == "!") {
            ++off_marks;
            const double t = lines[i].t_us / 1e6;
            if (!((t >= 2.0 && t < 2.53) || (t >= 3.0 && t < 3.53))) ++misplaced_marks;
        } else if (IsUnsigned(text)) {
            if (text != "512") ++wrong_value;
        } else {
            other.push_back(text);
            continue;
        }
        times.push_back(lines[i].t_us);
    }
    for (const auto& o : other) UNSCOPED_INFO("unexpected line: " << o);
    CHECK(other.empty());
    INFO(times.size() << " samples, mean spacing " << MeanSpacing(times) << " us");
    CHECK(times.size() >= 990);
    CHECK(times.size() <= 1000);
    CHECK(std::abs(MeanSpacing(times) - 4000.0) < 2.0);
    CHECK(MaxSpacing(times) < 6000.0);
    CHECK(wrong_value == 0);
    CHECK(off_marks >= 246);  // 2 x 0.5 s at 250 Hz
    CHECK(off_marks <= 254);
    CHECK(misplaced_marks == 0);
}

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
