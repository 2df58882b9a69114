// The reverse of the decoder: lines exactly as each real sketch prints them (shared/PROTOCOLS.md
// and the sketch repositories it names), line end included. Used by the simulated heart to emit
// real PulseSensor bytes, by fake sensors on a pty, and by the decoder tests.
//
// Arduino facts followed: `println` ends a line with "\r\n"; `print(int)` prints plain decimal;
// `print(float)` prints two decimals ("72.29", "nan", "inf", "ovf" beyond ~4.3e9).
// Values are not range-checked: a test may want a "wrong" line.
// Short lines (<= 15 bytes, e.g. "S527\r\n") fit std::string's small buffer: no allocation.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace attune::devices {

inline constexpr std::string_view kArduinoLineEnd = "\r\n";

// Serial.print(float): two decimals.
std::string ArduinoFloat(double v);

// ---- PulseSensorPlayground (PulseSensorSerialOutput.cpp) ------------------------------------
// PROCESSING_VISUALIZER. `sensor` < 0: the single-sensor letters S, B, Q; otherwise sensor i of
// several: 'a'+i (sample), 'A'+i (BPM), 'M'+i (IBI).
std::string VisualizerSampleLine(int signal, int sensor = -1);   // "S527\r\n"
std::string VisualizerBpmLine(int bpm, int sensor = -1);         // "B72\r\n"
std::string VisualizerIbiLine(int ibi_ms, int sensor = -1);      // "Q833\r\n"
std::string VisualizerBeatLines(int bpm, int ibi_ms, int sensor = -1);  // "B72\r\nQ833\r\n"
// SERIAL_PLOTTER, one sensor: BPM,IBI,Signal (BPM/IBI stale between beats; 0 before the first).
std::string PlotterLine(int bpm, int ibi_ms, int signal);        // "72,833,527\r\n"
// SERIAL_PLOTTER, several sensors: raw signals.
std::string MultiSignalLine(std::span<const int> signals);       // "527,498\r\n"
// The vendor web parser's four-field form (note: the opposite order to PlotterLine).
std::string SignalBpmIbiBeatLine(int signal, int bpm, int ibi_ms, bool beat);  // "527,72,833,1\r\n"
// Getting_BPM_to_Monitor and friends.
std::string HeartbeatLine();                                     // "♥  A HeartBeat Happened ! \r\n"
std::string BpmColonLine(int bpm);                               // "BPM: 72\r\n"
std::string BpmSuffixLine(int bpm, bool upper_case = false);     // "72 bpm\r\n" / "72 BPM\r\n"
std::string SignalWordLine(int signal);                          // "Signal 527\r\n"
// Vendor web-parser forms: key "S", "sig", "sample", "raw"; delim ':' or '='.
std::string VendorLabeledLine(std::string_view key, char delim, int value);  // "S:512\r\n"
// PulseSensorPlayground examples when the library fails to start (and AD8232 with a lead off).
std::string BangLine();                                          // "!\r\n"

// ---- one bare number per line (PulseSensor bare, MAX3010x Example 4 IR, AD8232) ------------
std::string NumberLine(long value);                              // "527\r\n"

// ---- SparkFun MAX3010x examples -------------------------------------------------------------
// Examples 1 (and 6/7 with the rate): " R[1234] IR[56789] G[321]" (+ " Hz[99.87]").
std::string MaxBasicLine(long red, long ir, long green, std::optional<double> hz = std::nullopt);
// Example 5: "IR=56789, BPM=72.29, Avg BPM=70", + " No finger?" when ir < 50000 (as the sketch does).
std::string MaxHeartRateLine(long ir, double bpm, int avg_bpm);
// Example 8: during the first 100 samples "red=.., ir=..", then with HR/SpO2 (-999 = invalid).
std::string MaxSpo2Line(long red, long ir);
std::string MaxSpo2Line(long red, long ir, int hr, int hr_valid, int spo2, int spo2_valid);
// Example 8's prompt; the sketch then waits for any byte.
std::string MaxSpo2PromptLine();

// ---- third-party forms (PROTOCOLS.md) -------------------------------------------------------
std::string IrRedMillisLine(long ir, long red, long millis);     // "IR=56789,RED=41234,T=12345\r\n"
std::string IrRedLine(long ir, long red, char separator = ',');  // "56789,41234\r\n" or with '\t'
std::string HeaderLine(std::span<const std::string_view> labels, char separator = ',');  // "Timestamp,Red,IR\r\n"
std::string TimestampCsvLine(long millis, std::span<const long> values);  // "12345,41234,56789\r\n"
// JSON object: {"signal":527} plus "bpm"/"ibi" when given.
std::string JsonLine(int signal, std::optional<int> bpm = std::nullopt, std::optional<int> ibi_ms = std::nullopt);

// Arduino Serial Plotter: "label:value" pairs joined by `separator` (' ', '\t' or ',').
struct LabeledValue {
    std::string_view label;
    double value = 0.0;
};
std::string PlotterLabelsLine(std::span<const LabeledValue> values, char separator = ' ');

}  // namespace attune::devices
