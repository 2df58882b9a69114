// The text formats hobbyist pulse sensors print, and how one line of each is read.
//
// Every format here is one listed in shared/PROTOCOLS.md, which cites the sketches:
//  * WorldFamousElectronics/PulseSensorPlayground (src/utility/PulseSensorSerialOutput.cpp and the
//    examples) and the older PulseSensor_Amped_Arduino: visualizer letters, the serial-plotter
//    `BPM,IBI,Signal` line, multi-sensor raw signals, `BPM: 72`, "♥  A HeartBeat Happened !";
//    the vendor's web parser forms (`S:512`, `sig:512`, `sample=512`, JSON, `signal,bpm,ibi,beat`).
//  * sparkfun/SparkFun_MAX3010x_Sensor_Library examples 1, 4, 5, 6/7 and 8.
//  * sparkfun/AD8232_Heart_Rate_Monitor (`!` for leads off, else analogRead).
//  * The Arduino Serial Plotter convention (labels, separators, header line).
//
// Units: waveform values are passed on in the sensor's raw units (ADC counts 0..1023 on AVR,
// 0..4095 on 12-bit boards; MAX3010x IR/red counts, 18-bit, typically 10^4..2.6*10^5). BPM in
// beats per minute, IBI in milliseconds, SpO2 in percent. Printed timestamps are milliseconds
// (`millis()`) unless a header says micros/us, or the values step by less than 1 (seconds).
//
// Nothing here allocates: a line is tokenised into fixed arrays of string_views into the line.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace attune::devices {

enum class SensorFormat : std::uint8_t {
    Unknown = 0,
    PulseSensorVisualizer,  // "S527" per sample, "B72" + "Q833" per beat; several sensors a/b.., A/M, B/N..
    PulseSensorPlotter,     // "72,833,527" = BPM,IBI,Signal with stale repeated BPM/IBI
    SignalBpmIbiBeat,       // "527,72,833,1" = signal,bpm,ibi,beat (vendor web parser)
    MultiSignal,            // "527,498": raw signals of several sensors (no labels, no timestamp)
    SingleAdc,              // one ADC reading per line, <= 4095 (PulseSensor bare, AD8232 with leads on)
    SingleIr,               // one large reading per line (MAX3010x Example 4 IR): pulse is a dip
    Ad8232,                 // one ADC reading per line, "!" while a lead is off
    MaxBasicReadings,       // " R[1234] IR[56789] G[321]" (+ " Hz[99.87]"), MAX3010x Examples 1/6/7
    MaxHeartRate,           // "IR=56789, BPM=72.29, Avg BPM=70" (+ " No finger?"), MAX3010x Example 5
    MaxSpo2,                // "red=.., ir=.." (+ ", HR=72, HRvalid=1, SPO2=97, SPO2Valid=1"), Example 8
    BpmText,                // "BPM: 72", "72 bpm", "72 BPM", "♥  A HeartBeat Happened !": no waveform
    SignalText,             // "Signal 527"
    PlotterLabels,          // Arduino Serial Plotter "label:value" pairs, e.g. "Signal:527 BPM:72"
    TimestampCsv,           // "12345,527" = ms,value[,value..] (header such as "Timestamp,Red,IR")
    IrRedMillis,            // "IR=56789,RED=41234,T=12345"
    IrRed,                  // "56789,41234" or "56789\t41234" = ir,red
    Json,                   // {"signal":527,"bpm":72,"ibi":833}
    VendorLabeled,          // "S:512", "S=512", "sig:512", "sample=512", "raw=512"
};
inline constexpr int kSensorFormatCount = 19;

std::string_view FormatName(SensorFormat f);         // short, for the UI: "PulseSensor visualizer"
std::string_view FormatDescription(SensorFormat f);  // what the lines look like and what we take from them
std::string_view FormatId(SensorFormat f);           // stable id for settings files: "pulsesensor-visualizer"
std::optional<SensorFormat> FormatFromId(std::string_view id);
bool FormatHasWaveform(SensorFormat f);               // false only for BpmText (and Unknown)
// Formats whose every data line is one waveform sample (so an unreadable line still took one
// sample period of the sensor's clock).
bool FormatIsOneSamplePerLine(SensorFormat f);

// ---- one line, tokenised -------------------------------------------------------------------

inline constexpr int kMaxFields = 8;

// What a label means. Labels are compared case-insensitively, ignoring spaces, '_' and '-'.
enum class KeyKind : std::uint8_t {
    None,       // a bare number
    Signal,     // s, sig, signal, sample, raw, value, ecg, ppg, adc, a0, ... and unknown plotter labels
    Ir, Red, Green,
    Bpm, AvgBpm, Ibi,
    TimeMs, TimeUs, TimeS,
    Spo2, HrValid, Spo2Valid,
    Beat,       // beat, qs: 1 on a line where the sensor reports a new beat
    Hz,         // a rate the sketch measured itself (MAX3010x Examples 6/7)
};
KeyKind ClassifyKey(std::string_view key);

struct Field {
    std::string_view key;     // label as printed ("IR", "Avg BPM"); empty for a bare number
    KeyKind kind = KeyKind::None;
    double value = 0.0;
    bool has_value = false;   // false for "nan", "inf", "ovf" or a text value
    char delim = 0;           // ':', '=', '[' or ' ' (a known label then a space); 0 when bare
};

struct Tokens {
    int count = 0;                         // fields (numbers, or labels with a delimiter)
    std::array<Field, kMaxFields> fields{};
    bool overflow = false;                 // more fields than kMaxFields
    int keyed = 0;                         // fields with a label
    int text_words = 0;                    // words that are neither a label nor a unit
    int word_spans = 0;                    // runs of text words between separators
    std::array<std::string_view, kMaxFields> words{};  // the first runs (labels of a header line)
    bool json = false;                     // line starts with '{'
    bool brackets = false;                 // "label[value]"
    bool no_finger = false;                // "No finger?" (MAX3010x Example 5)
    bool bpm_unit = false;                 // a number followed by "bpm"/"BPM"
    bool list_separators = false;          // words or numbers separated by ',', ';' or TAB
};

// Splits a line into fields. Never fails; a line of prose simply has text words.
void Tokenize(std::string_view line, Tokens& out);

// ---- one line, classified on its own -------------------------------------------------------

enum class LineKind : std::uint8_t {
    Empty,
    Banner,      // text, or numbers mixed with prose
    Header,      // labels only, separated by ',' ';' or TAB (a CSV / plotter header line)
    Bang,        // "!" (AD8232 leads off, or PulseSensor failing to start)
    Visualizer,  // letter + integer
    Numeric,     // bare numbers only: a CSV row
    Keyed,       // labelled values (one of the keyed formats)
    Heartbeat,   // "♥  A HeartBeat Happened !"
};

struct LineGuess {
    LineKind kind = LineKind::Empty;
    SensorFormat format = SensorFormat::Unknown;  // for Visualizer, Keyed, Heartbeat; Unknown for Numeric
    int columns = 0;                              // Numeric: numbers on the line
    char letter = 0;                              // Visualizer: the letter
    double value = 0.0;                           // Visualizer: the number
};

// Classifies `line` (already without its line end). Fills `tokens` except for Empty, Bang,
// Visualizer and Heartbeat lines, which need no tokens.
LineGuess ClassifyLine(std::string_view line, Tokens& tokens);

// True when the text asks for a key press before the sketch starts (MAX3010x Example 8:
// "Attach sensor to finger with rubber band. Press any key to start conversion").
bool IsKeyPrompt(std::string_view line);
// A banner naming an ECG front end ("# Attune AD8232 250 Hz", "AD8232 heart monitor"): a
// one-number-per-line stream is then an AD8232 even before its first '!' line.
bool IsEcgBanner(std::string_view line);

// ---- which column is what ------------------------------------------------------------------

// Column roles of a numeric (CSV) format, fixed when the format is locked. For keyed formats
// the roles come from the labels on each line instead.
struct NumericLayout {
    int columns = 0;
    int time_column = -1;          // device timestamp column, or -1
    double time_scale_s = 1e-3;    // device units -> seconds
    int bpm_column = -1, ibi_column = -1, beat_column = -1;
    std::array<int, kMaxFields> signal_columns{};  // channel order: IR first, then as printed
    int signal_count = 0;
    bool inverted = false;         // MAX3010x IR/red: the pulse is a dip
};

// Up to 8 labels of a header line ("Timestamp,Red,IR"), copied so they outlive the line.
struct HeaderLabels {
    int count = 0;
    std::array<std::array<char, 24>, kMaxFields> text{};
    std::array<KeyKind, kMaxFields> kinds{};
    void Set(const Tokens& t);
    std::string_view Label(int i) const;
};

// Recent CSV rows seen before a lock, used to tell the numeric formats apart.
struct NumericRows {
    static constexpr int kCapacity = 24;
    int columns = 0;  // the column count the rows were collected for
    int size = 0;
    int head = 0;     // next slot
    std::array<std::array<double, kMaxFields>, kCapacity> rows{};
    void Add(const Tokens& t);
    const std::array<double, kMaxFields>& Row(int i) const;  // i = 0 oldest .. size-1 newest
    void Clear() { size = head = 0; }
};

// Tells the numeric formats apart from rows of `columns` numbers (PROTOCOLS.md "Detecting the
// format" step 2): 1 column -> SingleAdc, SingleIr (values > 4095) or Ad8232 (when `saw_bang`);
// 2 -> TimestampCsv when the first column rises steadily, IrRed when both are large, else
// MultiSignal; 3 -> PulseSensorPlotter when BPM/IBI look like BPM/IBI and are stale, or
// TimestampCsv, or MultiSignal; 4 -> SignalBpmIbiBeat when the last column is 0/1, ...
SensorFormat ResolveNumericFormat(const NumericRows& rows, bool saw_bang, const HeaderLabels* header);

// Column roles for a numeric format with `columns` columns, using the header labels when they
// match the column count; `rows` (may be empty) decides polarity from magnitudes.
NumericLayout MakeNumericLayout(SensorFormat f, int columns, const HeaderLabels* header, const NumericRows* rows);

// ---- what a line carries -------------------------------------------------------------------

struct LineData {
    bool has_sample = false;
    double sample = 0.0;         // the selected channel, raw units
    int channels = 0;            // waveform channels on this line
    bool has_device_time = false;
    double device_time_s = 0.0;  // printed timestamp, seconds on the device clock
    double bpm = -1.0;           // sensor's BPM (a hint), -1 if none
    double ibi_ms = -1.0;        // sensor's IBI (a hint, possibly stale), -1 if none
    double spo2 = -1.0;          // percent, -1 if none
    bool beat_flag = false;      // the line's beat flag (4-column format, JSON "beat") is set
    bool beat_report = false;    // the line itself reports a new beat (visualizer Q, "♥" line)
    double beat_ibi_ms = 0.0;    // interval reported with the beat, 0 if unknown
    bool leads_off = false;      // "!" or "No finger?"
    bool inverted = false;       // the sample is from a MAX3010x-style optical channel (dip)
};

// Reads the selected channel and hints from a numeric row laid out by `layout`.
void ExtractNumeric(const Tokens& t, const NumericLayout& layout, int channel, LineData& out);
// Reads a keyed line (MAX3010x examples, plotter labels, JSON, vendor forms, "Signal 527", BPM text).
void ExtractKeyed(const Tokens& t, int channel, LineData& out);

}  // namespace attune::devices
