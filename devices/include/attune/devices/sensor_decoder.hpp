// Bytes from a hobbyist pulse sensor -> DeviceEvents: LineFramer + FormatDetector + the per-format
// reading of formats.hpp + SampleClock. Formats and facts: shared/PROTOCOLS.md (which names the
// sketch repositories); detection steps: format_detector.hpp.
//
// What each format emits (values in the sensor's raw units; times in session seconds):
//  * Sample: one per waveform line, for the selected channel (default 0; IR first on MAX3010x
//    lines). Stamped by the SampleClock from the sample index and the measured rate, or from the
//    sketch's printed timestamp (ms column, "T=", JSON "t"/"ms") where it prints one.
//  * Beat: only when the sensor itself reports a new beat, never inferred:
//      - PulseSensor visualizer: the "Q" line (IBI in ms) of the selected sensor, stamped at the
//        last sample (the library prints B/Q right after the sample of the same loop);
//      - signal,bpm,ibi,beat: when the beat flag turns from 0 to 1 (IBI from that line);
//      - labelled/JSON lines with a "beat"/"qs" flag: likewise;
//      - "♥  A HeartBeat Happened !": a beat of unknown interval (value 0) at its arrival time.
//    Not from the stale BPM,IBI,Signal line (the same IBI repeats for ~50 lines), nor from
//    MAX3010x Example 5: its BPM changes on each detected beat, but two beats with the same BPM
//    print identical lines and the value derives from millis() in a busy loop, so the IR waveform
//    (and our own detector) is the better source there. BPM, IBI and SpO2 are kept as hints in
//    stats() only.
//  * LeadsOff: when the stream starts saying "no contact": AD8232 "!" (also before any number
//    when the '!' lines come fast), MAX3010x Example 5 " No finger?". Once per episode; the next
//    Sample ends it. No samples are emitted while Example 5 says "No finger?".
//  * Format: when the locked format (or its polarity) changes, before the samples it applies to,
//    so the app can choose its detector (AD8232 -> ECG) and polarity.
//  * Status: when the detection state changes (format detected, stream changed, wrong baud
//    rate?, PulseSensor failed to start, a "Press any key" prompt answered).
// Optical MAX3010x channels (IR/red/green, or one-per-line values > 4095) are a dip per beat:
// stats().inverted / inverted() says so and the app negates them before peak detection (the
// decoder passes raw values through, as DeviceEvent promises). Configure() can force polarity.
//
// Allocation: none per byte or per line in steady state. Unavoidable: growth of the caller's
// `out` vector (reserve it), and the text of Status events (only on state changes).
// Throughput: several million short lines per second on one core (see the tests).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attune/devices/format_detector.hpp"
#include "attune/devices/formats.hpp"
#include "attune/devices/line_framer.hpp"
#include "attune/devices/sample_clock.hpp"
#include "attune/devices/source.hpp"

namespace attune::devices {

enum class Polarity : std::uint8_t { Auto, Normal, Inverted };

struct DecoderConfig {
    std::optional<SensorFormat> format;  // force a format (nullopt or Unknown: detect)
    int channel = 0;                     // which waveform channel of multi-channel lines (0..7)
    Polarity polarity = Polarity::Auto;  // Auto: inverted for MAX3010x-style optical channels
    DetectorParams detector;
    SampleClockParams clock;
    std::size_t max_line_bytes = LineFramer::kDefaultMaxLineBytes;
    bool drop_first_line = true;         // as the Arduino IDE does
};

struct DecoderStats {
    std::uint64_t bytes = 0;
    std::uint64_t lines = 0;             // non-empty lines, including the dropped first one
    std::uint64_t parsed_lines = 0;      // lines that fit the locked format
    std::uint64_t unparsed_lines = 0;    // lines not understood (banners, noise, other formats, first line)
    std::uint64_t pre_lock_lines = 0;    // data-like lines that arrived before the format was settled
    std::uint64_t garbled_lines = 0;     // of which held control bytes / invalid UTF-8
    std::uint64_t noise_bytes = 0;       // bytes of overlong lines (no line end within max_line_bytes)
    std::uint64_t unprintable_bytes = 0; // NUL, control bytes, invalid UTF-8
    std::uint64_t samples = 0;
    std::uint64_t beats = 0;
    SensorFormat format = SensorFormat::Unknown;
    bool forced = false;
    Diagnosis diagnosis = Diagnosis::Waiting;
    int channels = 0;                    // waveform channels per line in the locked format
    int channel = 0;                     // the one emitted
    double sample_rate_hz = 0.0;         // measured (0 until ~1 s of samples)
    int clock_reanchors = 0;
    double bpm_hint = 0.0;               // last BPM the sensor printed (0: none yet / invalid)
    double ibi_hint_ms = 0.0;            // last IBI it printed (possibly stale)
    double spo2_hint = 0.0;              // last valid SpO2 (%)
    bool leads_off = false;
    bool inverted = false;               // the emitted samples dip on each beat: negate them
    std::string last_unparsed;           // the last line that did not fit (sanitised, <= max_line_bytes)
    std::string status;                  // one sentence for the UI (rebuilt on state changes only)
};

class SensorDecoder final : public ByteDecoder {
public:
    explicit SensorDecoder(DecoderConfig config = {});

    void Feed(const std::uint8_t* data, std::size_t n, double t_s, std::vector<DeviceEvent>& out) override;
    void Reset() override;

    // Changes the forced format, channel, polarity or parameters. Keeps the detected format
    // unless the forced format or the detector parameters change (then detection starts over,
    // without a second settle wait). Sample timing restarts.
    void Configure(const DecoderConfig& config);
    const DecoderConfig& config() const { return m_config; }

    const DecoderStats& stats() const { return m_stats; }
    SensorFormat format() const { return m_detector.format(); }
    bool inverted() const { return m_stats.inverted; }
    double sample_rate_hz() const { return m_clock.sample_rate_hz(); }
    // A longer status for the UI, e.g. "PulseSensor visualizer, 50.0 lines/s, channel 1 of 2".
    std::string Describe() const;

    // Bytes the device thread should write to the sensor (MAX3010x Example 8 waits for a key
    // press after its banner). Empty when there is nothing to send.
    std::string_view pending_reply() const { return m_reply; }
    void ClearPendingReply() { m_reply.clear(); }
    std::string TakeReply() override;

    // For the device thread's baud search, judged on the bytes since the last Reset():
    // Understood once a format is locked; Garbage after >= 64 bytes when more than 20 % are
    // unprintable, or 512 bytes came with at most one line end, or most lines were garbled;
    // otherwise Undecided (quiet, banners, unknown but clean text: the baud is probably right).
    Verdict LinkVerdict() const override;

private:
    void HandleLine(const FramedLine& line, double t_s, std::vector<DeviceEvent>& out);
    void Decode(const LineVerdict& v, double t_s, std::vector<DeviceEvent>& out);
    void DecodeVisualizer(const LineGuess& g, double t_s, std::vector<DeviceEvent>& out);
    void Emit(const LineData& d, double t_s, std::vector<DeviceEvent>& out);
    void EnterLeadsOff(double t_s, std::vector<DeviceEvent>& out);
    void OnFormatChange();
    void NoteUnparsed(std::string_view text, bool garbled);
    void AnswerPrompt(std::string_view text, double t_s, std::vector<DeviceEvent>& out);
    void UpdateDiagnosis(double t_s, std::vector<DeviceEvent>& out);
    void SetStatus(double t_s, std::vector<DeviceEvent>& out);
    void AnnounceFormat(double t_s, std::vector<DeviceEvent>& out);
    void StartEpoch();
    double BeatTime(double t_s) const;

    DecoderConfig m_config;
    LineFramer m_framer;
    FormatDetector m_detector;
    SampleClock m_clock;
    Tokens m_tokens;
    LineData m_data;
    DecoderStats m_stats;
    std::string m_reply;
    bool m_opened = false;
    double m_last_t = 0.0;            // arrival time of the latest Feed
    bool m_prev_beat_flag = false;
    bool m_vis_multi = false;         // visualizer: lowercase sample letters (several sensors)
    int m_vis_channels = 0;
    // Last Format event sent (format, inverted); Unknown/false before any.
    SensorFormat m_announced_format = SensorFormat::Unknown;
    bool m_announced_inverted = false;
    // Framer counts at the last Reset(), for LinkVerdict().
    FramerStats m_epoch;
    std::uint64_t m_epoch_lines = 0, m_epoch_garbled = 0;
};

}  // namespace attune::devices
