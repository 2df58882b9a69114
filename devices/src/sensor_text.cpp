#include "attune/devices/sensor_text.hpp"

#include <cmath>
#include <cstdio>

namespace attune::devices {

namespace {

void AppendInt(std::string& s, long v) {
    char buf[24];
    const int n = std::snprintf(buf, sizeof buf, "%ld", v);
    s.append(buf, static_cast<std::size_t>(n));
}

// Plotter values: integers as integers, anything else as Serial.print(float) would.
void AppendValue(std::string& s, double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
        AppendInt(s, static_cast<long>(v));
    } else {
        s += ArduinoFloat(v);
    }
}

std::string Letter(char single, char first_of_several, int sensor, long value) {
    std::string s;
    s.push_back(sensor < 0 ? single : static_cast<char>(first_of_several + sensor));
    AppendInt(s, value);
    s += kArduinoLineEnd;
    return s;
}

}  // namespace

std::string ArduinoFloat(double v) {
    // Print.cpp printFloat: "nan", "inf", "ovf" beyond 4294967040, else two decimals.
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return "inf";
    if (v > 4294967040.0 || v < -4294967040.0) return "ovf";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

std::string VisualizerSampleLine(int signal, int sensor) { return Letter('S', 'a', sensor, signal); }
std::string VisualizerBpmLine(int bpm, int sensor) { return Letter('B', 'A', sensor, bpm); }
std::string VisualizerIbiLine(int ibi_ms, int sensor) { return Letter('Q', 'M', sensor, ibi_ms); }
std::string VisualizerBeatLines(int bpm, int ibi_ms, int sensor) {
    std::string s = VisualizerBpmLine(bpm, sensor);
    s += VisualizerIbiLine(ibi_ms, sensor);
    return s;
}

std::string PlotterLine(int bpm, int ibi_ms, int signal) {
    std::string s;
    AppendInt(s, bpm);
    s += ',';
    AppendInt(s, ibi_ms);
    s += ',';
    AppendInt(s, signal);
    s += kArduinoLineEnd;
    return s;
}

std::string MultiSignalLine(std::span<const int> signals) {
    std::string s;
    for (std::size_t i = 0; i < signals.size(); ++i) {
        if (i != 0) s += ',';
        AppendInt(s, signals[i]);
    }
    s += kArduinoLineEnd;
    return s;
}

std::string SignalBpmIbiBeatLine(int signal, int bpm, int ibi_ms, bool beat) {
    std::string s;
    AppendInt(s, signal);
    s += ',';
    AppendInt(s, bpm);
    s += ',';
    AppendInt(s, ibi_ms);
    s += beat ? ",1" : ",0";
    s += kArduinoLineEnd;
    return s;
}

std::string HeartbeatLine() { return "\xE2\x99\xA5  A HeartBeat Happened ! \r\n"; }

std::string BpmColonLine(int bpm) {
    std::string s = "BPM: ";
    AppendInt(s, bpm);
    s += kArduinoLineEnd;
    return s;
}

std::string BpmSuffixLine(int bpm, bool upper_case) {
    std::string s;
    AppendInt(s, bpm);
    s += upper_case ? " BPM" : " bpm";
    s += kArduinoLineEnd;
    return s;
}

std::string SignalWordLine(int signal) {
    std::string s = "Signal ";
    AppendInt(s, signal);
    s += kArduinoLineEnd;
    return s;
}

std::string VendorLabeledLine(std::string_view key, char delim, int value) {
    std::string s(key);
    s += delim;
    AppendInt(s, value);
    s += kArduinoLineEnd;
    return s;
}

std::string BangLine() { return "!\r\n"; }

std::string NumberLine(long value) {
    std::string s;
    AppendInt(s, value);
    s += kArduinoLineEnd;
    return s;
}

std::string MaxBasicLine(long red, long ir, long green, std::optional<double> hz) {
    std::string s = " R[";
    AppendInt(s, red);
    s += "] IR[";
    AppendInt(s, ir);
    s += "] G[";
    AppendInt(s, green);
    s += ']';
    if (hz) {
        s += " Hz[";
        s += ArduinoFloat(*hz);
        s += ']';
    }
    s += kArduinoLineEnd;
    return s;
}

std::string MaxHeartRateLine(long ir, double bpm, int avg_bpm) {
    std::string s = "IR=";
    AppendInt(s, ir);
    s += ", BPM=";
    s += ArduinoFloat(bpm);
    s += ", Avg BPM=";
    AppendInt(s, avg_bpm);
    if (ir < 50000) s += " No finger?";
    s += kArduinoLineEnd;
    return s;
}

std::string MaxSpo2Line(long red, long ir) {
    std::string s = "red=";
    AppendInt(s, red);
    s += ", ir=";
    AppendInt(s, ir);
    s += kArduinoLineEnd;
    return s;
}

std::string MaxSpo2Line(long red, long ir, int hr, int hr_valid, int spo2, int spo2_valid) {
    std::string s = "red=";
    AppendInt(s, red);
    s += ", ir=";
    AppendInt(s, ir);
    s += ", HR=";
    AppendInt(s, hr);
    s += ", HRvalid=";
    AppendInt(s, hr_valid);
    s += ", SPO2=";
    AppendInt(s, spo2);
    s += ", SPO2Valid=";
    AppendInt(s, spo2_valid);
    s += kArduinoLineEnd;
    return s;
}

std::string MaxSpo2PromptLine() {
    return "Attach sensor to finger with rubber band. Press any key to start conversion\r\n";
}

std::string IrRedMillisLine(long ir, long red, long millis) {
    std::string s = "IR=";
    AppendInt(s, ir);
    s += ",RED=";
    AppendInt(s, red);
    s += ",T=";
    AppendInt(s, millis);
    s += kArduinoLineEnd;
    return s;
}

std::string IrRedLine(long ir, long red, char separator) {
    std::string s;
    AppendInt(s, ir);
    s += separator;
    AppendInt(s, red);
    s += kArduinoLineEnd;
    return s;
}

std::string HeaderLine(std::span<const std::string_view> labels, char separator) {
    std::string s;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i != 0) s += separator;
        s += labels[i];
    }
    s += kArduinoLineEnd;
    return s;
}

std::string TimestampCsvLine(long millis, std::span<const long> values) {
    std::string s;
    AppendInt(s, millis);
    for (long v : values) {
        s += ',';
        AppendInt(s, v);
    }
    s += kArduinoLineEnd;
    return s;
}

std::string JsonLine(int signal, std::optional<int> bpm, std::optional<int> ibi_ms) {
    std::string s = "{\"signal\":";
    AppendInt(s, signal);
    if (bpm) {
        s += ",\"bpm\":";
        AppendInt(s, *bpm);
    }
    if (ibi_ms) {
        s += ",\"ibi\":";
        AppendInt(s, *ibi_ms);
    }
    s += '}';
    s += kArduinoLineEnd;
    return s;
}

std::string PlotterLabelsLine(std::span<const LabeledValue> values, char separator) {
    std::string s;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i != 0) s += separator;
        s += values[i].label;
        s += ':';
        AppendValue(s, values[i].value);
    }
    s += kArduinoLineEnd;
    return s;
}

}  // namespace attune::devices
