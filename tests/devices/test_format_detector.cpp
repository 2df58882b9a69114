// Format detection: every format of shared/PROTOCOLS.md is recognised from its literal lines,
// after a banner, within the settle time + a few lines; numeric CSV forms are told apart by their
// values; a board reset's banner does not unlock, another sketch does; forcing works; and the
// user is told why nothing is detected.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "attune/devices/format_detector.hpp"
#include "attune/devices/formats.hpp"

// Failed checks print the format's id rather than a character.
namespace Catch {
template <>
struct StringMaker<attune::devices::SensorFormat> {
    static std::string convert(attune::devices::SensorFormat f) { return std::string(attune::devices::FormatId(f)); }
};
}  // namespace Catch

using namespace attune::devices;

namespace {

// Lines of a sketch: the banner it prints on reset, then one data line per call.
using LineGen = std::function<std::string(int i)>;

int Wave(int i, int base = 512, int amp = 120) {
    return base + static_cast<int>(amp * std::sin(i * 0.35)) + (i * 7) % 5;
}

// Builds a line from pieces by appending (GCC 12's -Wrestrict misfires on string operator+).
void Append(std::string& s, std::string_view v) { s += v; }
void Append(std::string& s, int v) { s += std::to_string(v); }
template <class... Parts>
std::string Str(const Parts&... parts) {
    std::string s;
    (Append(s, parts), ...);
    return s;
}

struct Run {
    FormatDetector det;
    Tokens tok;
    double t = 0.0;
    std::vector<LineVerdict> verdicts;
    double lock_t = -1.0;

    explicit Run(DetectorParams p = {}) : det(p) {}
    void Line(const std::string& s, double dt) {
        t += dt;
        verdicts.push_back(det.Observe(s, t, tok));
        if (verdicts.back().locked_now && lock_t < 0) lock_t = t;
    }
};

// Banner lines at t ~ 0, then `seconds` of data at `rate` lines/s.
SensorFormat Detect(const std::vector<std::string>& banner, const LineGen& gen, double rate, double seconds,
                    double* lock_t = nullptr) {
    Run r;
    r.det.NoteOpen(0.0);
    for (const std::string& b : banner) r.Line(b, 0.01);
    const int n = static_cast<int>(rate * seconds);
    for (int i = 0; i < n; ++i) r.Line(gen(i), 1.0 / rate);
    if (lock_t) *lock_t = r.lock_t;
    return r.det.format();
}

const std::vector<std::string> kBanner = {"PulseSensor Playground v2.1", "\xE2\x99\xA5 ready", "Initializing version 2"};

}  // namespace

TEST_CASE("detector: every PROTOCOLS.md format from its literal lines, banner first", "[detector]") {
    struct Case {
        const char* name;
        LineGen gen;
        double rate;
        SensorFormat expected;
    };
    const std::vector<Case> cases = {
        {"visualizer", [](int i) { return i % 40 == 39 ? Str(i % 80 == 79 ? "Q833" : "B72") : Str("S", Wave(i)); }, 50, SensorFormat::PulseSensorVisualizer},
        {"visualizer 2 sensors", [](int i) { return Str(i % 2 ? "b" : "a", Wave(i)); }, 100, SensorFormat::PulseSensorVisualizer},
        {"plotter", [](int i) { return Str(i < 60 ? "0,600," : "72,833,", Wave(i)); }, 50, SensorFormat::PulseSensorPlotter},
        {"4-column", [](int i) { return Str(Wave(i), ",72,833,", i % 40 == 0 ? "1" : "0"); }, 50, SensorFormat::SignalBpmIbiBeat},
        {"two raw signals", [](int i) { return Str(Wave(i), ",", Wave(i + 9, 498)); }, 50, SensorFormat::MultiSignal},
        {"three raw signals", [](int i) { return Str(Wave(i), ",", Wave(i + 3), ",", Wave(i + 5)); }, 50, SensorFormat::MultiSignal},
        {"one ADC value", [](int i) { return Str(Wave(i)); }, 50, SensorFormat::SingleAdc},
        {"one IR value", [](int i) { return Str(Wave(i, 56789, 300)); }, 100, SensorFormat::SingleIr},
        {"AD8232", [](int i) { return (i / 50) % 4 == 3 ? Str("!") : Str(Wave(i, 330, 200)); }, 190, SensorFormat::Ad8232},
        {"MAX Example 1", [](int i) { return Str(" R[", Wave(i, 41234, 200), "] IR[", Wave(i, 56789, 300), "] G[321]"); }, 50, SensorFormat::MaxBasicReadings},
        {"MAX Example 7", [](int i) { return Str(" R[1234] IR[", Wave(i, 56789, 300), "] G[321] Hz[99.87]"); }, 100, SensorFormat::MaxBasicReadings},
        {"MAX Example 5", [](int i) { return Str("IR=", Wave(i, 56789, 300), ", BPM=72.29, Avg BPM=70", i < 30 ? " No finger?" : ""); }, 100, SensorFormat::MaxHeartRate},
        {"MAX Example 8", [](int i) { return i < 100 ? Str("red=", Wave(i, 41234), ", ir=", Wave(i, 56789)) : Str("red=41234, ir=", Wave(i, 56789), ", HR=72, HRvalid=1, SPO2=97, SPO2Valid=1"); }, 25, SensorFormat::MaxSpo2},
        {"BPM: 72 with hearts", [](int i) { return i % 2 == 0 ? Str("\xE2\x99\xA5  A HeartBeat Happened ! ") : Str("BPM: ", 70 + i % 5); }, 2, SensorFormat::BpmText},
        {"72 bpm", [](int i) { return Str(70 + i % 5, " bpm"); }, 1.2, SensorFormat::BpmText},
        {"72 BPM", [](int i) { return Str(70 + i % 5, " BPM"); }, 1.2, SensorFormat::BpmText},
        {"Signal 527", [](int i) { return Str("Signal ", Wave(i)); }, 50, SensorFormat::SignalText},
        {"plotter labels", [](int i) { return Str("Signal:", Wave(i), " BPM:72"); }, 50, SensorFormat::PlotterLabels},
        {"plotter labels tab", [](int i) { return Str("IR:", Wave(i, 56789), "\tRed:41234"); }, 50, SensorFormat::PlotterLabels},
        {"ms,value", [](int i) { return Str(1000 + 20 * i + i % 2, ",", Wave(i)); }, 50, SensorFormat::TimestampCsv},
        {"IR=,RED=,T=", [](int i) { return Str("IR=", Wave(i, 56789), ",RED=", Wave(i, 41234), ",T=", 5000 + 10 * i); }, 100, SensorFormat::IrRedMillis},
        {"ir,red", [](int i) { return Str(Wave(i, 56789), ",", Wave(i + 4, 41234)); }, 100, SensorFormat::IrRed},
        {"ir<TAB>red", [](int i) { return Str(Wave(i, 56789), "\t", Wave(i + 4, 41234)); }, 100, SensorFormat::IrRed},
        {"JSON", [](int i) { return Str("{\"signal\":", Wave(i), ",\"bpm\":72,\"ibi\":833}"); }, 50, SensorFormat::Json},
        {"JSON raw", [](int i) { return Str("{\"raw\": ", Wave(i), "}"); }, 50, SensorFormat::Json},
        {"S:512", [](int i) { return Str("S:", Wave(i)); }, 50, SensorFormat::VendorLabeled},
        {"S=512", [](int i) { return Str("S=", Wave(i)); }, 50, SensorFormat::VendorLabeled},
        {"sig:512", [](int i) { return Str("sig:", Wave(i)); }, 50, SensorFormat::VendorLabeled},
        {"sample=512", [](int i) { return Str("sample=", Wave(i)); }, 50, SensorFormat::VendorLabeled},
        {"raw=512", [](int i) { return Str("raw=", Wave(i)); }, 50, SensorFormat::VendorLabeled},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        double lock_t = -1;
        CHECK(Detect(kBanner, c.gen, c.rate, 8.0, &lock_t) == c.expected);
        // No lock within the settle time; then within ~0.5 s for fast sketches, 3 s for slow ones.
        CHECK(lock_t >= 2.0);
        CHECK(lock_t <= (c.rate >= 20 ? 2.6 : 5.5));
    }
}

TEST_CASE("detector: a header names the columns (Timestamp,Red,IR)", "[detector]") {
    Run r;
    r.det.NoteOpen(0.0);
    r.Line("MAX30102 logger", 0.01);
    r.Line("Timestamp,Red,IR", 0.01);
    for (int i = 0; i < 300; ++i)
        r.Line(Str(3000 + 10 * i, ",", Wave(i, 41234), ",", Wave(i, 56789)), 0.01);
    REQUIRE(r.det.format() == SensorFormat::TimestampCsv);
    const NumericLayout& l = r.det.layout();
    CHECK(l.time_column == 0);
    CHECK(l.time_scale_s == 1e-3);
    REQUIRE(l.signal_count == 2);
    CHECK(l.signal_columns[0] == 2);  // IR first
    CHECK(l.signal_columns[1] == 1);
    CHECK(l.inverted);
}

TEST_CASE("detector: a board reset's banner keeps the lock, another sketch relocks", "[detector]") {
    Run r;
    r.det.NoteOpen(0.0);
    for (int i = 0; i < 200; ++i) r.Line(i % 50 == 49 ? Str("B72") : Str("S", Wave(i)), 0.02);
    REQUIRE(r.det.format() == SensorFormat::PulseSensorVisualizer);
    // Reset: the banner again (and a cut line), then the same sketch.
    for (const auto& b : kBanner) r.Line(b, 0.01);
    r.Line("S5", 0.01);
    for (int i = 0; i < 100; ++i) r.Line(Str("S", Wave(i)), 0.02);
    CHECK(r.det.format() == SensorFormat::PulseSensorVisualizer);
    for (const auto& v : r.verdicts) CHECK_FALSE(v.unlocked_now);
    CHECK(r.det.unparsed_lines() == 3);  // the banner lines ("S5" fits: a short sample)

    // A different sketch flashed: plotter lines. Unlock after 12 misfits, relock soon after.
    const double t_switch = r.t;
    for (int i = 0; i < 100; ++i) r.Line(Str("72,833,", Wave(i)), 0.02);
    CHECK(r.det.format() == SensorFormat::PulseSensorPlotter);
    int unlocks = 0;
    for (const auto& v : r.verdicts) unlocks += v.unlocked_now ? 1 : 0;
    CHECK(unlocks == 1);
    CHECK(r.lock_t < t_switch);  // (first lock)
}

TEST_CASE("detector: a forced format never unlocks and counts what does not fit", "[detector]") {
    Run r;
    r.det.Force(SensorFormat::PulseSensorPlotter);
    CHECK(r.det.locked());
    for (int i = 0; i < 50; ++i) r.Line("S512", 0.02);
    for (int i = 0; i < 50; ++i) r.Line("72,833,512", 0.02);
    CHECK(r.det.format() == SensorFormat::PulseSensorPlotter);
    CHECK(r.det.unparsed_lines() == 50);
    CHECK(r.verdicts.back().fits);
    // Forced ms,value learns its column count from the first row.
    Run c;
    c.det.Force(SensorFormat::TimestampCsv);
    c.Line("100,527,498", 0.01);
    CHECK(c.verdicts.back().fits);
    CHECK(c.det.layout().columns == 3);
    CHECK(c.det.layout().time_column == 0);
    c.det.Force(std::nullopt);
    CHECK_FALSE(c.det.locked());
}

TEST_CASE("detector: AD8232 '!' upgrades a one-number lock", "[detector]") {
    Run r;
    r.det.NoteOpen(0.0);
    for (int i = 0; i < 600; ++i) r.Line(Str(Wave(i, 330)), 1.0 / 190);
    REQUIRE(r.det.format() == SensorFormat::SingleAdc);
    r.Line("!", 1.0 / 190);
    CHECK(r.verdicts.back().fits);
    CHECK(r.verdicts.back().format_changed);
    CHECK(r.det.format() == SensorFormat::Ad8232);
}

TEST_CASE("detector: why nothing is detected", "[detector]") {
    FramerStats fs;
    {
        FormatDetector d;
        CHECK(d.Diagnose(fs, 0.0) == Diagnosis::Waiting);
    }
    {   // bytes, no line ends
        FormatDetector d;
        d.NoteOpen(0.0);
        fs.bytes = 3000;
        fs.bytes_since_line_end = 3000;
        CHECK(d.Diagnose(fs, 0.0) == Diagnosis::NoLineEnds);
        CHECK(d.Diagnose(fs, 0.55) == Diagnosis::Unprintable);
        CHECK(DiagnosisText(Diagnosis::NoLineEnds).find("baud") != std::string_view::npos);
    }
    fs = FramerStats{};
    fs.bytes = 500;
    fs.line_ends = 10;
    {   // only banners after the settle time
        Run r;
        r.det.NoteOpen(0.0);
        r.Line("Initializing...", 0.1);
        CHECK(r.det.Diagnose(fs, 0.0) == Diagnosis::Settling);
        r.Line("MAX30105 was not found. Please check wiring/power. ", 2.5);
        CHECK(r.det.Diagnose(fs, 0.0) == Diagnosis::OnlyBanners);
    }
    {   // slow '!': PulseSensor failed to start (one every 100 ms)
        Run r;
        r.det.NoteOpen(0.0);
        for (int i = 0; i < 40; ++i) r.Line("!", 0.1);
        CHECK(r.det.Diagnose(fs, 0.0) == Diagnosis::SensorFailed);
    }
    {   // fast '!': AD8232 leads off
        Run r;
        r.det.NoteOpen(0.0);
        for (int i = 0; i < 400; ++i) r.Line("!", 1.0 / 190);
        CHECK(r.det.Diagnose(fs, 0.0) == Diagnosis::LeadsOff);
    }
    {   // lines of something else
        Run r;
        r.det.NoteOpen(0.0);
        for (int i = 0; i < 100; ++i) r.Line(i % 2 ? "temp 21.5 C" : "x=1 y 2 z", 0.05);
        CHECK(r.det.Diagnose(fs, 0.0) != Diagnosis::Detected);
        CHECK_FALSE(r.det.locked());
    }
}

TEST_CASE("formats: names, descriptions and ids for every format", "[formats]") {
    for (int i = 0; i < kSensorFormatCount; ++i) {
        const auto f = static_cast<SensorFormat>(i);
        CHECK_FALSE(FormatName(f).empty());
        CHECK(FormatDescription(f).size() > 20);
        REQUIRE(FormatFromId(FormatId(f)).has_value());
        CHECK(*FormatFromId(FormatId(f)) == f);
    }
    CHECK_FALSE(FormatFromId("nonsense").has_value());
}

TEST_CASE("formats: tokenising the awkward lines", "[formats]") {
    Tokens t;
    Tokenize("IR=56789, BPM=72.29, Avg BPM=70 No finger?", t);
    REQUIRE(t.count == 3);
    CHECK(t.fields[0].kind == KeyKind::Ir);
    CHECK(t.fields[1].value == Approx(72.29));
    CHECK(t.fields[2].key == "Avg BPM");
    CHECK(t.fields[2].kind == KeyKind::AvgBpm);
    CHECK(t.no_finger);
    CHECK(t.text_words == 0);

    Tokenize("red=-999, ir=1, HR=-999, HRvalid=0", t);
    REQUIRE(t.count == 4);
    CHECK(t.fields[0].value == -999);
    CHECK(t.fields[3].kind == KeyKind::HrValid);

    Tokenize(" R[1234] IR[56789] G[321] Hz[99.87]", t);
    REQUIRE(t.count == 4);
    CHECK(t.brackets);
    CHECK(t.fields[3].kind == KeyKind::Hz);

    Tokenize("{\"signal\": 527, \"beat\": true, \"note\": \"ok\"}", t);
    CHECK(t.json);
    REQUIRE(t.count == 3);
    CHECK(t.fields[1].value == 1.0);
    CHECK_FALSE(t.fields[2].has_value);

    Tokenize("Initializing version 2", t);
    CHECK(t.keyed == 0);
    CHECK(t.text_words == 2);

    Tokenize("BPM=nan", t);
    REQUIRE(t.count == 1);
    CHECK_FALSE(t.fields[0].has_value);
}

TEST_CASE("formats: classifying single lines", "[formats]") {
    Tokens t;
    CHECK(ClassifyLine("S527", t).kind == LineKind::Visualizer);
    CHECK(ClassifyLine("Q833", t).value == 833);
    CHECK(ClassifyLine("!", t).kind == LineKind::Bang);
    CHECK(ClassifyLine("!!!", t).kind == LineKind::Bang);
    CHECK(ClassifyLine("\xE2\x99\xA5  A HeartBeat Happened ! ", t).kind == LineKind::Heartbeat);
    CHECK(ClassifyLine("72,833,527", t).columns == 3);
    CHECK(ClassifyLine("56789\t41234", t).columns == 2);
    CHECK(ClassifyLine("1 2 3 4", t).columns == 4);
    CHECK(ClassifyLine("Timestamp,Red,IR", t).kind == LineKind::Header);
    CHECK(ClassifyLine("Press any key to start", t).kind == LineKind::Banner);
    CHECK(ClassifyLine("Initializing...", t).kind == LineKind::Banner);
    CHECK(ClassifyLine("BPM: 72", t).format == SensorFormat::BpmText);
    CHECK(ClassifyLine("BPM: 72.29 Avg BPM: 70", t).format == SensorFormat::BpmText);
    CHECK(ClassifyLine("72 bpm", t).format == SensorFormat::BpmText);
    CHECK(ClassifyLine("Signal 527", t).format == SensorFormat::SignalText);
    CHECK(ClassifyLine("Signal:527", t).format == SensorFormat::VendorLabeled);
    CHECK(ClassifyLine("Sensor1:527,Sensor2:498", t).format == SensorFormat::PlotterLabels);
    CHECK(ClassifyLine("Error: 5 sensors missing", t).kind == LineKind::Banner);
    CHECK(ClassifyLine("", t).kind == LineKind::Empty);
    CHECK(ClassifyLine("   ", t).kind == LineKind::Empty);
    CHECK(IsKeyPrompt("Attach sensor to finger with rubber band. Press any key to start conversion"));
}

TEST_CASE("formats: numeric layouts", "[formats]") {
    auto rows_of = [](const std::vector<std::vector<double>>& rows) {
        NumericRows r;
        Tokens t;
        for (const auto& row : rows) {
            std::string line;
            for (double v : row) {
                line += std::to_string(v);
                line += ',';
            }
            line.pop_back();
            Tokenize(line, t);
            r.Add(t);
        }
        return r;
    };
    std::vector<std::vector<double>> plotter, three;
    for (int i = 0; i < 20; ++i) {
        plotter.push_back({72, 833, static_cast<double>(Wave(i))});
        three.push_back({static_cast<double>(Wave(i)), static_cast<double>(Wave(i + 2)), static_cast<double>(Wave(i + 4))});
    }
    CHECK(ResolveNumericFormat(rows_of(plotter), false, nullptr) == SensorFormat::PulseSensorPlotter);
    CHECK(ResolveNumericFormat(rows_of(three), false, nullptr) == SensorFormat::MultiSignal);
    const NumericLayout l = MakeNumericLayout(SensorFormat::PulseSensorPlotter, 3, nullptr, nullptr);
    CHECK(l.signal_count == 1);
    CHECK(l.signal_columns[0] == 2);
    CHECK(l.bpm_column == 0);
    CHECK(l.ibi_column == 1);
    CHECK(l.beat_column == -1);
    const NumericLayout b = MakeNumericLayout(SensorFormat::SignalBpmIbiBeat, 4, nullptr, nullptr);
    CHECK(b.signal_columns[0] == 0);
    CHECK(b.beat_column == 3);
    const NumericLayout ir = MakeNumericLayout(SensorFormat::IrRed, 2, nullptr, nullptr);
    CHECK(ir.inverted);
}
