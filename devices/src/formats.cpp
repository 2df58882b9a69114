#include "attune/devices/formats.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace attune::devices {

namespace {

struct FormatInfo {
    SensorFormat format;
    std::string_view id;
    std::string_view name;
    std::string_view description;
};

constexpr std::array<FormatInfo, kSensorFormatCount> kFormats{{
    {SensorFormat::Unknown, "unknown", "Not detected", "No sensor format recognised yet."},
    {SensorFormat::PulseSensorVisualizer, "pulsesensor-visualizer", "PulseSensor visualizer",
     "PulseSensor PROCESSING_VISUALIZER output: 'S527' per sample, 'B72' then 'Q833' on each beat "
     "(several sensors: a/b.. samples, A/M, B/N.. beats). Waveform from S, beats with the sensor's IBI from Q."},
    {SensorFormat::PulseSensorPlotter, "pulsesensor-plotter", "PulseSensor serial plotter",
     "PulseSensor SERIAL_PLOTTER output 'BPM,IBI,Signal' (e.g. 72,833,527). BPM and IBI repeat stale "
     "values, so only the signal is used (our own beat detector) and BPM is shown as a hint."},
    {SensorFormat::SignalBpmIbiBeat, "signal-bpm-ibi-beat", "Signal, BPM, IBI, beat",
     "Four columns 'signal,bpm,ibi,beat' (the PulseSensor web parser's form). Waveform from the signal, "
     "a beat with its IBI when the beat flag turns 1."},
    {SensorFormat::MultiSignal, "multi-signal", "Several raw signals",
     "Two or more raw readings per line (e.g. 527,498: several PulseSensors). One channel is used."},
    {SensorFormat::SingleAdc, "single-adc", "One reading per line",
     "One ADC reading per line (0-4095): a bare PulseSensor or AD8232 sketch. Waveform only."},
    {SensorFormat::SingleIr, "single-ir", "MAX3010x IR, one per line",
     "One large optical reading per line (MAX3010x Example 4 IR). The pulse is a dip: inverted."},
    {SensorFormat::Ad8232, "ad8232", "AD8232 ECG",
     "AD8232 Heart Rate Monitor sketch: one ADC reading per line, '!' while a lead is off. Waveform (ECG)."},
    {SensorFormat::MaxBasicReadings, "max3010x-basic", "MAX3010x basic readings",
     "SparkFun MAX3010x Example 1/6/7: ' R[1234] IR[56789] G[321]' (+ ' Hz[99.87]'). IR waveform, inverted."},
    {SensorFormat::MaxHeartRate, "max3010x-heart-rate", "MAX3010x heart rate",
     "SparkFun MAX3010x Example 5: 'IR=56789, BPM=72.29, Avg BPM=70' (' No finger?' = no contact). "
     "IR waveform (inverted); BPM only as a hint, its beats are not trusted."},
    {SensorFormat::MaxSpo2, "max3010x-spo2", "MAX3010x SpO2",
     "SparkFun MAX3010x Example 8: 'red=.., ir=..' then with HR/HRvalid/SPO2/SPO2Valid, 25 samples/s "
     "(-999 = invalid). Answers its 'Press any key'. IR waveform, inverted; HR and SpO2 as hints."},
    {SensorFormat::BpmText, "bpm-text", "BPM messages",
     "'BPM: 72', '72 bpm' or '♥  A HeartBeat Happened !' lines: no waveform. Each heart line is a beat "
     "(time of arrival, interval unknown); BPM as a hint."},
    {SensorFormat::SignalText, "signal-text", "'Signal 527' lines", "'Signal 527' per sample. Waveform only."},
    {SensorFormat::PlotterLabels, "plotter-labels", "Serial Plotter labels",
     "Arduino Serial Plotter 'label:value' pairs. The first signal-like label is the waveform "
     "(IR first when present); bpm/ibi labels are hints."},
    {SensorFormat::TimestampCsv, "timestamp-csv", "Timestamp and values",
     "'ms,value[,value..]' with a rising device timestamp first (optional header such as "
     "'Timestamp,Red,IR'). Samples are timed by the printed timestamps."},
    {SensorFormat::IrRedMillis, "ir-red-millis", "IR, RED, T",
     "'IR=..,RED=..,T=<millis>'. IR waveform (inverted), timed by T."},
    {SensorFormat::IrRed, "ir-red", "IR and red columns", "'ir,red' or 'ir<TAB>red'. IR waveform, inverted."},
    {SensorFormat::Json, "json", "JSON objects",
     "One JSON object per line with signal/sample/raw/value (and bpm/ibi/beat if present)."},
    {SensorFormat::VendorLabeled, "vendor-labeled", "Labelled samples",
     "'S:512', 'S=512', 'sig:512', 'sample=512' or 'raw=512' per sample. Waveform only."},
}};

const FormatInfo& Info(SensorFormat f) {
    const auto i = static_cast<std::size_t>(f);
    return i < kFormats.size() ? kFormats[i] : kFormats[0];
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (Lower(a[i]) != Lower(b[i])) return false;
    return true;
}

bool ContainsNoCase(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t k = 0;
        while (k < needle.size() && Lower(hay[i + k]) == needle[k]) ++k;
        if (k == needle.size()) return true;
    }
    return false;
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

double Scale10(double m, int e) {
    if (e == 0) return m;
    if (e > 0) return e <= 22 ? m * kPow10[e] : m * std::pow(10.0, e);
    return -e <= 22 ? m / kPow10[-e] : m * std::pow(10.0, e);
}

// A number as Arduino prints it: [+-]digits[.digits][e[+-]digits]. Returns the index after it,
// or `i` when there is no number at `i`. Hand-written because it runs on every line.
std::size_t ParseNumber(std::string_view s, std::size_t i, double& v) {
    const std::size_t start = i;
    bool neg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        ++i;
    }
    std::uint64_t mant = 0;
    int digits = 0, exp10 = 0;
    bool any = false;
    while (i < s.size() && IsDigit(s[i])) {
        any = true;
        if (digits < 18) {
            mant = mant * 10 + static_cast<std::uint64_t>(s[i] - '0');
            if (mant != 0) ++digits;
        } else {
            ++exp10;
        }
        ++i;
    }
    if (i < s.size() && s[i] == '.') {
        std::size_t j = i + 1;
        bool frac = false;
        while (j < s.size() && IsDigit(s[j])) {
            frac = true;
            if (digits < 18) {
                mant = mant * 10 + static_cast<std::uint64_t>(s[j] - '0');
                if (mant != 0) ++digits;
                --exp10;
            }
            ++j;
        }
        if (frac || any) {
            any = any || frac;
            i = j;
        }
    }
    if (!any) return start;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        std::size_t j = i + 1;
        bool eneg = false;
        if (j < s.size() && (s[j] == '-' || s[j] == '+')) eneg = s[j++] == '-';
        if (j < s.size() && IsDigit(s[j])) {
            int e = 0;
            while (j < s.size() && IsDigit(s[j])) {
                if (e < 10000) e = e * 10 + (s[j] - '0');
                ++j;
            }
            exp10 += eneg ? -e : e;
            i = j;
        }
    }
    v = Scale10(static_cast<double>(mant), std::clamp(exp10, -400, 400));
    if (neg) v = -v;
    // Arduino's print() writes "ovf" above 4294967040, and no sensor value or millis()/micros()
    // comes near 1e12: anything larger (or "1e999" = inf, found by fuzzing) is not a reading,
    // and would poison sample clocks and filters.
    if (!(std::abs(v) <= 1e12)) return start;
    return i;
}

bool IsNumberStart(std::string_view s, std::size_t i) {
    const char c = s[i];
    if (IsDigit(c)) return true;
    if (c == '-' || c == '+') {
        if (i + 1 < s.size() && IsDigit(s[i + 1])) return true;
        return i + 2 < s.size() && s[i + 1] == '.' && IsDigit(s[i + 2]);
    }
    return c == '.' && i + 1 < s.size() && IsDigit(s[i + 1]);
}

// Characters that end a word.
bool IsBreak(char c) {
    switch (c) {
        case ' ': case '\t': case ',': case ';': case ':': case '=': case '[': case ']':
        case '{': case '}': case '"': case '\'': case '(': case ')':
            return true;
        default:
            return false;
    }
}

// Normalised label: lowercase, without ' ', '_', '-'. Written into `buf`; labels longer than the
// buffer are unknown anyway.
std::string_view NormaliseKey(std::string_view key, std::array<char, 24>& buf) {
    std::size_t n = 0;
    for (char c : key) {
        if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
        if (n == buf.size()) return {};
        buf[n++] = Lower(c);
    }
    return std::string_view(buf.data(), n);
}

struct KeyName {
    std::string_view name;
    KeyKind kind;
};

constexpr KeyName kKeys[] = {
    {"s", KeyKind::Signal}, {"sig", KeyKind::Signal}, {"signal", KeyKind::Signal},
    {"sample", KeyKind::Signal}, {"raw", KeyKind::Signal}, {"value", KeyKind::Signal},
    {"val", KeyKind::Signal}, {"ecg", KeyKind::Signal}, {"ppg", KeyKind::Signal},
    {"adc", KeyKind::Signal}, {"a0", KeyKind::Signal}, {"analog", KeyKind::Signal},
    {"sensorvalue", KeyKind::Signal}, {"reading", KeyKind::Signal},
    {"ir", KeyKind::Ir}, {"irvalue", KeyKind::Ir}, {"infrared", KeyKind::Ir},
    {"red", KeyKind::Red}, {"r", KeyKind::Red}, {"redvalue", KeyKind::Red},
    {"green", KeyKind::Green}, {"g", KeyKind::Green},
    {"bpm", KeyKind::Bpm}, {"hr", KeyKind::Bpm}, {"heartrate", KeyKind::Bpm}, {"pulserate", KeyKind::Bpm},
    {"avgbpm", KeyKind::AvgBpm}, {"beatavg", KeyKind::AvgBpm}, {"averagebpm", KeyKind::AvgBpm},
    {"ibi", KeyKind::Ibi}, {"rr", KeyKind::Ibi}, {"ibims", KeyKind::Ibi}, {"rrms", KeyKind::Ibi},
    {"t", KeyKind::TimeMs}, {"ms", KeyKind::TimeMs}, {"time", KeyKind::TimeMs},
    {"timestamp", KeyKind::TimeMs}, {"millis", KeyKind::TimeMs}, {"tms", KeyKind::TimeMs},
    {"timems", KeyKind::TimeMs}, {"ts", KeyKind::TimeMs},
    {"us", KeyKind::TimeUs}, {"micros", KeyKind::TimeUs}, {"tus", KeyKind::TimeUs}, {"timeus", KeyKind::TimeUs},
    {"sec", KeyKind::TimeS}, {"secs", KeyKind::TimeS}, {"seconds", KeyKind::TimeS}, {"times", KeyKind::TimeS},
    {"spo2", KeyKind::Spo2}, {"sao2", KeyKind::Spo2},
    {"hrvalid", KeyKind::HrValid}, {"heartratevalid", KeyKind::HrValid}, {"validhr", KeyKind::HrValid},
    {"spo2valid", KeyKind::Spo2Valid}, {"validspo2", KeyKind::Spo2Valid},
    {"beat", KeyKind::Beat}, {"qs", KeyKind::Beat}, {"isbeat", KeyKind::Beat},
    {"hz", KeyKind::Hz},
};

// Returns true when the label is one we know; unknown labels are plotter signals.
bool LookupKey(std::string_view key, KeyKind& kind) {
    std::array<char, 24> buf{};
    const std::string_view k = NormaliseKey(key, buf);
    for (const KeyName& n : kKeys) {
        if (n.name == k) {
            kind = n.kind;
            return true;
        }
    }
    kind = KeyKind::Signal;
    return false;
}

bool IsVendorSignalKey(std::string_view key) {
    std::array<char, 24> buf{};
    const std::string_view k = NormaliseKey(key, buf);
    return k == "s" || k == "sig" || k == "signal" || k == "sample" || k == "raw" || k == "value";
}

bool IsWaveformKind(KeyKind k) {
    return k == KeyKind::Signal || k == KeyKind::Ir || k == KeyKind::Red || k == KeyKind::Green;
}
bool IsOpticalKind(KeyKind k) { return k == KeyKind::Ir || k == KeyKind::Red || k == KeyKind::Green; }
bool IsTimeKind(KeyKind k) { return k == KeyKind::TimeMs || k == KeyKind::TimeUs || k == KeyKind::TimeS; }

double TimeScale(KeyKind k) {
    switch (k) {
        case KeyKind::TimeUs: return 1e-6;
        case KeyKind::TimeS: return 1.0;
        default: return 1e-3;
    }
}

// Words that may follow a number as its unit.
bool IsUnit(std::string_view w, bool& is_bpm) {
    is_bpm = EqualsNoCase(w, "bpm");
    return is_bpm || EqualsNoCase(w, "ms") || w == "%" || EqualsNoCase(w, "hz") || EqualsNoCase(w, "mv");
}

double Median(double* v, int n) {
    if (n <= 0) return 0.0;
    std::nth_element(v, v + n / 2, v + n);
    return v[n / 2];
}

}  // namespace

// ---- names ---------------------------------------------------------------------------------

std::string_view FormatName(SensorFormat f) { return Info(f).name; }
std::string_view FormatDescription(SensorFormat f) { return Info(f).description; }
std::string_view FormatId(SensorFormat f) { return Info(f).id; }

std::optional<SensorFormat> FormatFromId(std::string_view id) {
    for (const FormatInfo& i : kFormats)
        if (i.id == id) return i.format;
    return std::nullopt;
}

bool FormatHasWaveform(SensorFormat f) { return f != SensorFormat::Unknown && f != SensorFormat::BpmText; }

bool FormatIsOneSamplePerLine(SensorFormat f) {
    return FormatHasWaveform(f) && f != SensorFormat::PulseSensorVisualizer;
}

KeyKind ClassifyKey(std::string_view key) {
    KeyKind k = KeyKind::Signal;
    LookupKey(key, k);
    return k;
}

// ---- tokenising ----------------------------------------------------------------------------

void Tokenize(std::string_view s, Tokens& out) {
    out.count = 0;
    out.overflow = false;
    out.keyed = 0;
    out.text_words = 0;
    out.json = false;
    out.brackets = false;
    out.no_finger = ContainsNoCase(s, "no finger");
    out.bpm_unit = false;
    out.list_separators = false;
    out.word_spans = 0;

    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n && (s[i] == ' ' || s[i] == '\t')) ++i;
    out.json = i < n && s[i] == '{';

    // The label being read: one or two words, then a delimiter or a number.
    std::size_t key_begin = 0, key_end = 0;
    int key_words = 0;
    char delim = 0;
    std::size_t last_number_end = std::string_view::npos;

    auto flush_key_as_text = [&]() {
        if (key_words == 0) return;
        out.text_words += key_words;
        if (out.word_spans < kMaxFields)
            out.words[static_cast<std::size_t>(out.word_spans++)] = s.substr(key_begin, key_end - key_begin);
        key_words = 0;
        delim = 0;
    };
    auto add_field = [&](const Field& f) {
        if (out.count == kMaxFields) {
            out.overflow = true;
            return;
        }
        out.fields[static_cast<std::size_t>(out.count++)] = f;
        if (!f.key.empty()) ++out.keyed;
    };

    while (i < n) {
        const char c = s[i];
        if (c == ' ') {
            ++i;
            continue;
        }
        if (c == ',' || c == ';' || c == '\t') {
            out.list_separators = true;
            flush_key_as_text();
            ++i;
            continue;
        }
        if (c == ':' || c == '=' || c == '[') {
            if (key_words > 0 && delim == 0) {
                delim = c;
                if (c == '[') out.brackets = true;
            }
            ++i;
            continue;
        }
        if (c == '"' || c == '\'') {  // JSON quotes around labels and values
            ++i;
            continue;
        }
        if (c == ']' || c == '{' || c == '}' || c == '(' || c == ')') {
            if (delim == 0) flush_key_as_text();
            ++i;
            continue;
        }
        double v = 0.0;
        // A number too large to be a reading (ParseNumber refuses it) is read as a word below,
        // like Arduino's "ovf": a value that is not available.
        const std::size_t end = IsNumberStart(s, i) ? ParseNumber(s, i, v) : i;
        if (end > i) {
            Field f;
            f.value = v;
            f.has_value = true;
            if (key_words > 0) {
                f.key = s.substr(key_begin, key_end - key_begin);
                KeyKind kind = KeyKind::Signal;
                const bool known = LookupKey(f.key, kind);
                // "Signal 527" / "BPM 72": a space is a delimiter only after a label we know, so a
                // banner such as "Initializing version 2" stays prose.
                if (delim != 0 || known) {
                    f.kind = kind;
                    f.delim = delim != 0 ? delim : ' ';
                    key_words = 0;
                    delim = 0;
                } else {
                    flush_key_as_text();
                    f.key = {};
                }
            }
            add_field(f);
            i = end;
            last_number_end = end;
            continue;
        }
        // A word: letters, digits, UTF-8, punctuation up to the next break.
        std::size_t j = i;
        while (j < n && !IsBreak(s[j])) ++j;
        const std::string_view w = s.substr(i, j - i);
        bool is_bpm = false;
        std::size_t after = j;
        while (after < n && s[after] == ' ') ++after;
        const bool labels_next = after < n && (s[after] == ':' || s[after] == '=' || s[after] == '[');
        if (delim != 0 && key_words > 0) {
            // A label with a non-numeric value: "nan"/"inf"/"ovf" (Arduino's invalid floats),
            // JSON true/false, or text.
            Field f;
            f.key = s.substr(key_begin, key_end - key_begin);
            f.delim = delim;
            LookupKey(f.key, f.kind);
            if (EqualsNoCase(w, "true") || EqualsNoCase(w, "false")) {
                f.has_value = true;
                f.value = EqualsNoCase(w, "true") ? 1.0 : 0.0;
            } else if (!(EqualsNoCase(w, "nan") || EqualsNoCase(w, "inf") || EqualsNoCase(w, "-inf") ||
                         EqualsNoCase(w, "ovf") || EqualsNoCase(w, "null"))) {
                if (!out.json) ++out.text_words;
            }
            key_words = 0;
            delim = 0;
            add_field(f);
        } else if (last_number_end != std::string_view::npos && key_words == 0 && !labels_next &&
                   (i == last_number_end || (i == last_number_end + 1 && s[last_number_end] == ' ')) &&
                   IsUnit(w, is_bpm)) {
            if (is_bpm) out.bpm_unit = true;
        } else if (out.no_finger && (EqualsNoCase(w, "no") || EqualsNoCase(w, "finger?") || EqualsNoCase(w, "finger"))) {
            flush_key_as_text();
        } else if (key_words == 1 && delim == 0 && i > key_end && s.substr(key_end, i - key_end).find_first_not_of(' ') == std::string_view::npos) {
            key_end = j;  // a two-word label such as "Avg BPM"
            key_words = 2;
        } else {
            flush_key_as_text();
            key_begin = i;
            key_end = j;
            key_words = 1;
        }
        last_number_end = std::string_view::npos;
        i = j;
    }
    flush_key_as_text();
}

// ---- classifying ---------------------------------------------------------------------------

bool IsKeyPrompt(std::string_view line) { return ContainsNoCase(line, "any key"); }

bool IsEcgBanner(std::string_view line) { return ContainsNoCase(line, "ad8232") || ContainsNoCase(line, "ecg"); }

LineGuess ClassifyLine(std::string_view raw, Tokens& t) {
    LineGuess g;
    const std::string_view s = Trim(raw);
    if (s.empty()) return g;

    if (s.find_first_not_of('!') == std::string_view::npos) {
        g.kind = LineKind::Bang;
        return g;
    }
    // Visualizer: one letter then an integer, nothing else ("S527", "B72", "Q833", "a512").
    if (s.size() >= 2 && s.size() <= 9 && IsAsciiLetter(s[0])) {
        std::size_t k = 1;
        if (s[k] == '-') ++k;
        if (k < s.size()) {
            std::size_t d = k;
            while (d < s.size() && IsDigit(s[d])) ++d;
            if (d == s.size()) {
                g.kind = LineKind::Visualizer;
                g.format = SensorFormat::PulseSensorVisualizer;
                g.letter = s[0];
                double v = 0.0;
                ParseNumber(s, 1, v);
                g.value = v;
                return g;
            }
        }
    }

    if (ContainsNoCase(s, "heartbeat happened")) {
        g.kind = LineKind::Heartbeat;
        g.format = SensorFormat::BpmText;
        return g;
    }

    Tokenize(s, t);
    if (t.overflow) {
        g.kind = LineKind::Banner;
        return g;
    }
    if (t.count == 0) {
        // Labels only: a header when they are a short list ("Timestamp,Red,IR", "IR\tRed").
        bool header = t.list_separators && t.word_spans >= 2 && t.word_spans <= kMaxFields &&
                      t.text_words <= 2 * t.word_spans;
        for (int w = 0; header && w < t.word_spans; ++w) {
            const std::string_view word = t.words[static_cast<std::size_t>(w)];
            if (word.empty() || word.size() > 20 || !IsAsciiLetter(word[0])) header = false;
            for (char c : word)
                if (!(IsAsciiLetter(c) || IsDigit(c) || c == ' ' || c == '_' || c == '-' || c == '(' || c == ')'))
                    header = false;
        }
        g.kind = header ? LineKind::Header : LineKind::Banner;
        return g;
    }
    if (t.keyed == 0) {
        if (t.text_words > 0) {
            g.kind = LineKind::Banner;
            return g;
        }
        if (t.bpm_unit && t.count == 1) {  // "72 bpm", "72 BPM"
            g.kind = LineKind::Keyed;
            g.format = SensorFormat::BpmText;
            return g;
        }
        g.kind = LineKind::Numeric;
        g.columns = t.count;
        return g;
    }
    if (t.keyed < t.count || (t.text_words > 0 && !t.json)) {
        g.kind = LineKind::Banner;  // labels mixed with bare numbers or prose
        return g;
    }

    // Labelled values: which family?
    bool ir = false, red = false, bpm = false, avg = false, time = false;
    bool only_bpm = true, spo2_keys = true, basic_keys = true;
    for (int k = 0; k < t.count; ++k) {
        const Field& f = t.fields[static_cast<std::size_t>(k)];
        switch (f.kind) {
            case KeyKind::Ir: ir = true; break;
            case KeyKind::Red: red = true; break;
            case KeyKind::Bpm: bpm = true; break;
            case KeyKind::AvgBpm: avg = true; break;
            default:
                time = time || IsTimeKind(f.kind);
                break;
        }
        if (f.kind != KeyKind::Bpm && f.kind != KeyKind::AvgBpm) only_bpm = false;
        if (!(f.kind == KeyKind::Ir || f.kind == KeyKind::Red || f.kind == KeyKind::Bpm ||
              f.kind == KeyKind::HrValid || f.kind == KeyKind::Spo2 || f.kind == KeyKind::Spo2Valid))
            spo2_keys = false;
        if (!(f.kind == KeyKind::Ir || f.kind == KeyKind::Red || f.kind == KeyKind::Green || f.kind == KeyKind::Hz))
            basic_keys = false;
    }
    g.kind = LineKind::Keyed;
    const Field& f0 = t.fields[0];
    if (t.json) {
        g.format = SensorFormat::Json;
    } else if (t.brackets && ir && basic_keys) {
        g.format = SensorFormat::MaxBasicReadings;
    } else if (ir && (t.no_finger || (bpm && avg))) {
        g.format = SensorFormat::MaxHeartRate;
    } else if (only_bpm && !t.no_finger) {
        g.format = SensorFormat::BpmText;  // "BPM: 72", SparkFun Example 3 "BPM: 72.29 Avg BPM: 70"
    } else if (ir && red && time) {
        g.format = SensorFormat::IrRedMillis;
    } else if (ir && red && spo2_keys && f0.delim == '=') {
        g.format = SensorFormat::MaxSpo2;
    } else if (t.count == 1 && f0.kind == KeyKind::Signal && f0.delim == ' ' && IsVendorSignalKey(f0.key)) {
        g.format = SensorFormat::SignalText;
    } else if (t.count == 1 && f0.kind == KeyKind::Signal && (f0.delim == ':' || f0.delim == '=') &&
               IsVendorSignalKey(f0.key)) {
        g.format = SensorFormat::VendorLabeled;
    } else {
        g.format = SensorFormat::PlotterLabels;
    }
    return g;
}

// ---- headers and rows ----------------------------------------------------------------------

void HeaderLabels::Set(const Tokens& t) {
    count = std::min(t.word_spans, kMaxFields);
    for (int i = 0; i < count; ++i) {
        const std::string_view w = t.words[static_cast<std::size_t>(i)];
        auto& dst = text[static_cast<std::size_t>(i)];
        const std::size_t m = std::min(w.size(), dst.size() - 1);
        std::memcpy(dst.data(), w.data(), m);
        dst[m] = '\0';
        kinds[static_cast<std::size_t>(i)] = ClassifyKey(w);
    }
}

std::string_view HeaderLabels::Label(int i) const {
    if (i < 0 || i >= count) return {};
    return std::string_view(text[static_cast<std::size_t>(i)].data());
}

void NumericRows::Add(const Tokens& t) {
    if (t.count != columns) {
        Clear();
        columns = t.count;
    }
    auto& row = rows[static_cast<std::size_t>(head)];
    for (int c = 0; c < t.count && c < kMaxFields; ++c) row[static_cast<std::size_t>(c)] = t.fields[static_cast<std::size_t>(c)].value;
    head = (head + 1) % kCapacity;
    if (size < kCapacity) ++size;
}

const std::array<double, kMaxFields>& NumericRows::Row(int i) const {
    const int idx = (head - size + i + 2 * kCapacity) % kCapacity;
    return rows[static_cast<std::size_t>(idx)];
}

namespace {

// The first column is a device timestamp: it rises on (nearly) every row, by steps of similar size.
bool SteadilyRising(const NumericRows& r, int col) {
    if (r.size < 3) return false;
    std::array<double, NumericRows::kCapacity> d{};
    int n = 0, rising = 0;
    for (int i = 1; i < r.size; ++i) {
        const double step = r.Row(i)[static_cast<std::size_t>(col)] - r.Row(i - 1)[static_cast<std::size_t>(col)];
        if (step > 0) ++rising;
        d[static_cast<std::size_t>(n++)] = step;
    }
    if (rising < n - n / 10) return false;
    double sorted[NumericRows::kCapacity];
    std::copy(d.begin(), d.begin() + n, sorted);
    const double med = Median(sorted, n);
    if (med <= 0) return false;
    for (int i = 0; i < n; ++i)
        if (d[static_cast<std::size_t>(i)] > 5.0 * med + 2.0) return false;
    return true;
}

double MedianAbs(const NumericRows& r, int col) {
    double v[NumericRows::kCapacity];
    for (int i = 0; i < r.size; ++i) v[i] = std::fabs(r.Row(i)[static_cast<std::size_t>(col)]);
    return Median(v, r.size);
}

double MaxAbs(const NumericRows& r, int col) {
    double m = 0.0;
    for (int i = 0; i < r.size; ++i) m = std::max(m, std::fabs(r.Row(i)[static_cast<std::size_t>(col)]));
    return m;
}

bool IsInteger(double v) { return v == std::floor(v); }

// BPM,IBI,Signal: BPM and IBI are plausible and stale (they change only on beats).
bool LooksLikePlotter(const NumericRows& r) {
    if (r.size < 2) return false;
    int changes = 0;
    for (int i = 0; i < r.size; ++i) {
        const auto& row = r.Row(i);
        if (!(row[0] >= 0 && row[0] <= 300 && IsInteger(row[0]))) return false;
        if (!(row[1] >= 0 && row[1] <= 5000 && IsInteger(row[1]))) return false;
        if (i > 0) {
            const auto& prev = r.Row(i - 1);
            if (row[0] != prev[0] || row[1] != prev[1]) ++changes;
        }
    }
    return changes <= std::max(2, (r.size - 1) * 3 / 10);
}

bool LooksLikeBeatFlagRows(const NumericRows& r) {
    if (r.size < 1) return false;
    for (int i = 0; i < r.size; ++i) {
        const auto& row = r.Row(i);
        if (!(row[3] == 0.0 || row[3] == 1.0)) return false;
        if (!(row[1] >= 0 && row[1] <= 300)) return false;
        if (!(row[2] >= 0 && row[2] <= 5000)) return false;
    }
    return true;
}

}  // namespace

SensorFormat ResolveNumericFormat(const NumericRows& rows, bool saw_bang, const HeaderLabels* header) {
    const int cols = rows.columns;
    if (cols <= 0) return SensorFormat::Unknown;
    if (header != nullptr && header->count == cols && cols >= 2) {
        bool time = false, ir = false, red = false, bpm = false, ibi = false, beat = false;
        for (int i = 0; i < cols; ++i) {
            const KeyKind k = header->kinds[static_cast<std::size_t>(i)];
            time = time || IsTimeKind(k);
            ir = ir || k == KeyKind::Ir;
            red = red || k == KeyKind::Red;
            bpm = bpm || k == KeyKind::Bpm;
            ibi = ibi || k == KeyKind::Ibi;
            beat = beat || k == KeyKind::Beat;
        }
        if (time) return SensorFormat::TimestampCsv;
        if (cols == 4 && beat && bpm && ibi) return SensorFormat::SignalBpmIbiBeat;
        if (cols == 3 && bpm && ibi && !beat) return SensorFormat::PulseSensorPlotter;
        if (cols == 2 && ir && red) return SensorFormat::IrRed;
    }
    switch (cols) {
        case 1:
            if (saw_bang) return SensorFormat::Ad8232;
            return MaxAbs(rows, 0) > 4095.0 ? SensorFormat::SingleIr : SensorFormat::SingleAdc;
        case 2:
            if (SteadilyRising(rows, 0)) return SensorFormat::TimestampCsv;
            if (MedianAbs(rows, 0) > 4095.0 && MedianAbs(rows, 1) > 4095.0) return SensorFormat::IrRed;
            return SensorFormat::MultiSignal;
        case 3:
            if (SteadilyRising(rows, 0)) return SensorFormat::TimestampCsv;
            if (LooksLikePlotter(rows)) return SensorFormat::PulseSensorPlotter;
            return SensorFormat::MultiSignal;
        case 4:
            if (LooksLikeBeatFlagRows(rows)) return SensorFormat::SignalBpmIbiBeat;
            if (SteadilyRising(rows, 0)) return SensorFormat::TimestampCsv;
            return SensorFormat::MultiSignal;
        default:
            if (SteadilyRising(rows, 0)) return SensorFormat::TimestampCsv;
            return SensorFormat::MultiSignal;
    }
}

NumericLayout MakeNumericLayout(SensorFormat f, int columns, const HeaderLabels* header, const NumericRows* rows) {
    NumericLayout l;
    l.columns = std::clamp(columns, 0, kMaxFields);
    std::array<KeyKind, kMaxFields> role{};
    role.fill(KeyKind::Signal);
    const bool labelled = header != nullptr && header->count == l.columns && l.columns >= 2;
    if (labelled) {
        for (int i = 0; i < l.columns; ++i) role[static_cast<std::size_t>(i)] = header->kinds[static_cast<std::size_t>(i)];
    }
    switch (f) {
        case SensorFormat::PulseSensorPlotter:
            if (l.columns == 3) {
                role[0] = KeyKind::Bpm;
                role[1] = KeyKind::Ibi;
                role[2] = KeyKind::Signal;
            }
            break;
        case SensorFormat::SignalBpmIbiBeat:
            if (l.columns == 4) {
                role[0] = KeyKind::Signal;
                role[1] = KeyKind::Bpm;
                role[2] = KeyKind::Ibi;
                role[3] = KeyKind::Beat;
            }
            break;
        case SensorFormat::TimestampCsv: {
            bool has_time = false;
            for (int i = 0; i < l.columns; ++i) has_time = has_time || IsTimeKind(role[static_cast<std::size_t>(i)]);
            if (!has_time && l.columns > 0) role[0] = KeyKind::TimeMs;
            break;
        }
        case SensorFormat::IrRed:
            if (!labelled && l.columns == 2) {
                role[0] = KeyKind::Ir;
                role[1] = KeyKind::Red;
            }
            break;
        case SensorFormat::SingleIr:
            role[0] = KeyKind::Ir;
            break;
        default:
            break;
    }
    // Roles -> columns. Waveform channels: IR first (the useful optical channel), then as printed.
    for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0; i < l.columns; ++i) {
            const KeyKind k = role[static_cast<std::size_t>(i)];
            if (!IsWaveformKind(k) || (pass == 0) != (k == KeyKind::Ir)) continue;
            l.signal_columns[static_cast<std::size_t>(l.signal_count++)] = i;
        }
    }
    for (int i = 0; i < l.columns; ++i) {
        const KeyKind k = role[static_cast<std::size_t>(i)];
        if (IsTimeKind(k) && l.time_column < 0) {
            l.time_column = i;
            l.time_scale_s = TimeScale(k);
        } else if ((k == KeyKind::Bpm || k == KeyKind::AvgBpm) && l.bpm_column < 0) {
            l.bpm_column = i;
        } else if (k == KeyKind::Ibi && l.ibi_column < 0) {
            l.ibi_column = i;
        } else if (k == KeyKind::Beat && l.beat_column < 0) {
            l.beat_column = i;
        }
    }
    // Seconds printed as fractions ("0.010,527") rather than millis().
    if (l.time_column >= 0 && rows != nullptr && rows->columns == l.columns && rows->size >= 3 &&
        role[static_cast<std::size_t>(l.time_column)] == KeyKind::TimeMs) {
        const double span = rows->Row(rows->size - 1)[static_cast<std::size_t>(l.time_column)] -
                            rows->Row(0)[static_cast<std::size_t>(l.time_column)];
        if (span > 0 && span / (rows->size - 1) < 0.5) l.time_scale_s = 1.0;
    }
    // Polarity of channel 0: optical labels, or MAX3010x-sized numbers.
    if (l.signal_count > 0) {
        const int c = l.signal_columns[0];
        const KeyKind k = role[static_cast<std::size_t>(c)];
        l.inverted = IsOpticalKind(k) ||
                     (rows != nullptr && rows->columns == l.columns && rows->size > 0 && MedianAbs(*rows, c) > 4095.0);
    }
    return l;
}

// ---- extracting ----------------------------------------------------------------------------

void ExtractNumeric(const Tokens& t, const NumericLayout& l, int channel, LineData& out) {
    out = LineData{};
    if (t.count != l.columns) return;
    auto value = [&](int col) { return t.fields[static_cast<std::size_t>(col)].value; };
    out.channels = l.signal_count;
    if (channel >= 0 && channel < l.signal_count) {
        out.has_sample = true;
        out.sample = value(l.signal_columns[static_cast<std::size_t>(channel)]);
        out.inverted = l.inverted;
    }
    if (l.time_column >= 0) {
        out.has_device_time = true;
        out.device_time_s = value(l.time_column) * l.time_scale_s;
    }
    if (l.bpm_column >= 0) out.bpm = value(l.bpm_column);
    if (l.ibi_column >= 0) out.ibi_ms = value(l.ibi_column);
    if (l.beat_column >= 0) out.beat_flag = value(l.beat_column) != 0.0;
}

void ExtractKeyed(const Tokens& t, int channel, LineData& out) {
    out = LineData{};
    out.leads_off = t.no_finger;
    double bpm = -1.0, avg = -1.0, hr_valid = 1.0, spo2 = -1.0, spo2_valid = 1.0;
    int waveform = 0;
    // Channel order: IR fields first, then the other waveform fields as printed.
    for (int pass = 0; pass < 2; ++pass) {
        for (int i = 0; i < t.count; ++i) {
            const Field& f = t.fields[static_cast<std::size_t>(i)];
            if (!IsWaveformKind(f.kind) || !f.has_value || (pass == 0) != (f.kind == KeyKind::Ir)) continue;
            if (waveform == channel) {
                out.has_sample = true;
                out.sample = f.value;
                out.inverted = IsOpticalKind(f.kind);
            }
            ++waveform;
        }
    }
    out.channels = waveform;
    for (int i = 0; i < t.count; ++i) {
        const Field& f = t.fields[static_cast<std::size_t>(i)];
        if (!f.has_value) continue;
        switch (f.kind) {
            case KeyKind::None:  // "72 bpm"
                if (t.bpm_unit) bpm = f.value;
                break;
            case KeyKind::Bpm: bpm = f.value; break;
            case KeyKind::AvgBpm: avg = f.value; break;
            case KeyKind::Ibi: out.ibi_ms = f.value; break;
            case KeyKind::HrValid: hr_valid = f.value; break;
            case KeyKind::Spo2: spo2 = f.value; break;
            case KeyKind::Spo2Valid: spo2_valid = f.value; break;
            case KeyKind::Beat: out.beat_flag = f.value != 0.0; break;
            case KeyKind::TimeMs:
            case KeyKind::TimeUs:
            case KeyKind::TimeS:
                if (!out.has_device_time) {
                    out.has_device_time = true;
                    out.device_time_s = f.value * TimeScale(f.kind);
                }
                break;
            default: break;
        }
    }
    // The average is steadier than the per-beat value (MAX3010x Example 5: mean of the last 4).
    const double b = avg > 0.0 ? avg : bpm;
    if (b > 0.0 && hr_valid == 1.0) out.bpm = b;  // -999 and HRvalid=0 mean "no value"
    if (spo2 > 0.0 && spo2_valid == 1.0) out.spo2 = spo2;
    if (out.ibi_ms <= 0.0) out.ibi_ms = -1.0;
}

}  // namespace attune::devices
