// The sensor decoder end to end: real sketch bytes (written by sensor_text, which prints lines
// exactly like the sketches of shared/PROTOCOLS.md) -> DeviceEvents. Right events for every
// format; beats only where the sensor reports one; identical events however the bytes are cut;
// never a crash, an invented beat or unbounded memory on noise; no allocation per line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "attune/devices/sensor_decoder.hpp"
#include "attune/devices/sensor_text.hpp"
#include "attune/devices/simulated_heart.hpp"

// Failed checks print the format's id rather than a character.
namespace Catch {
template <>
struct StringMaker<attune::devices::SensorFormat> {
    static std::string convert(attune::devices::SensorFormat f) { return std::string(attune::devices::FormatId(f)); }
};
}  // namespace Catch

using namespace attune::devices;

// Counts heap allocations, to show the per-line path allocates nothing.
#include "alloc_counter.hpp"

namespace {

// Bytes as they reach the host: (arrival time, bytes) reads.
struct Read {
    double t_s;
    std::string bytes;
};
using Stream = std::vector<Read>;

// A sketch printing `lines[i]` at `line_t[i]`; the adapter delivers whatever was printed by each
// flush (every flush_s), as one read.
Stream Deliver(const std::vector<std::string>& lines, const std::vector<double>& line_t, double flush_s = 0.016) {
    Stream s;
    double flush = flush_s;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        while (line_t[i] > flush) flush += flush_s;
        if (s.empty() || s.back().t_s != flush) s.push_back({flush, {}});
        s.back().bytes += lines[i];
    }
    return s;
}

// Evenly timed lines from t0 at `rate` lines/s.
Stream Timed(const std::vector<std::string>& lines, double rate, double t0 = 0.05, double flush_s = 0.016) {
    std::vector<double> t(lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) t[i] = t0 + static_cast<double>(i) / rate;
    return Deliver(lines, t, flush_s);
}

// chunk: 0 = each read whole, 1 = byte by byte, >1 = random pieces up to that size (same time).
std::vector<DeviceEvent> Decode(SensorDecoder& dec, const Stream& s, std::size_t chunk = 0, std::uint32_t seed = 1) {
    std::vector<DeviceEvent> out;
    std::mt19937 rng(seed);
    for (const Read& r : s) {
        std::size_t pos = 0;
        while (pos < r.bytes.size()) {
            std::size_t n = r.bytes.size() - pos;
            if (chunk == 1) n = 1;
            else if (chunk > 1) n = std::min<std::size_t>(n, 1 + rng() % chunk);
            dec.Feed(reinterpret_cast<const std::uint8_t*>(r.bytes.data() + pos), n, r.t_s, out);
            pos += n;
        }
    }
    return out;
}

std::vector<DeviceEvent> Of(const std::vector<DeviceEvent>& ev, EventKind k) {
    std::vector<DeviceEvent> r;
    for (const DeviceEvent& e : ev)
        if (e.kind == k) r.push_back(e);
    return r;
}

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

std::vector<std::string> Banner() {
    return {"garbage before the reset", "PulseSensor Playground \xE2\x99\xA5 v2.1\r\n", "Initializing...\r\n"};
}

std::vector<std::string> Lines(std::vector<std::string> head, int n, const std::function<std::string(int)>& gen) {
    for (int i = 0; i < n; ++i) head.push_back(gen(i));
    return head;
}

bool SameEvents(const std::vector<DeviceEvent>& a, const std::vector<DeviceEvent>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].kind != b[i].kind || a[i].t_s != b[i].t_s || a[i].value != b[i].value || a[i].text != b[i].text)
            return false;
    return true;
}

// A PulseSensor visualizer session from the simulated heart: its samples (decimated to the
// library's ~50 lines/s) and its beats as B/Q lines right after the sample of the same loop.
struct VisualizerSession {
    std::vector<std::string> lines;
    std::vector<double> line_t;
    std::vector<int> ibis;  // Q values printed
};

VisualizerSession SimulatedVisualizer(double seconds) {
    SimParams p;
    p.sample_rate_hz = 50.0;
    SimulatedHeart heart(p);
    std::vector<DeviceEvent> ev;
    heart.Poll(seconds, ev);
    VisualizerSession s;
    for (const std::string& b : Banner()) {
        s.lines.push_back(b);
        s.line_t.push_back(0.01);
    }
    for (const DeviceEvent& e : ev) {
        const double t = 0.3 + e.t_s;
        if (e.kind == EventKind::Sample) {
            s.lines.push_back(VisualizerSampleLine(static_cast<int>(e.value)));
        } else if (e.kind == EventKind::Beat && e.value > 0) {
            const int ibi = static_cast<int>(std::lround(e.value));
            s.lines.push_back(VisualizerBeatLines(static_cast<int>(60000 / ibi), ibi));
            s.ibis.push_back(ibi);
        } else {
            continue;
        }
        s.line_t.push_back(t);
    }
    return s;
}

}  // namespace

TEST_CASE("decoder: PulseSensor visualizer from the simulated heart", "[decoder]") {
    const VisualizerSession vs = SimulatedVisualizer(30.0);
    SensorDecoder dec;
    const auto ev = Decode(dec, Deliver(vs.lines, vs.line_t));
    CHECK(dec.format() == SensorFormat::PulseSensorVisualizer);
    const auto beats = Of(ev, EventKind::Beat);
    const auto samples = Of(ev, EventKind::Sample);
    // Beats are exactly the Q lines after the lock (~2.3 s in), with their intervals.
    REQUIRE(beats.size() >= vs.ibis.size() - 4);
    REQUIRE(beats.size() <= vs.ibis.size());
    const std::size_t skipped = vs.ibis.size() - beats.size();
    for (std::size_t i = 0; i < beats.size(); ++i) CHECK(beats[i].value == vs.ibis[i + skipped]);
    CHECK(samples.size() > 27 * 50);
    CHECK(dec.stats().sample_rate_hz == Approx(50.0).epsilon(0.01));
    CHECK_FALSE(dec.inverted());
    CHECK(dec.stats().bpm_hint > 40);
    // Stamps are monotonic and never after arrival; beats sit on the last sample's stamp.
    for (std::size_t i = 1; i < samples.size(); ++i) CHECK(samples[i].t_s >= samples[i - 1].t_s);
    double last_sample_t = -1;
    for (const DeviceEvent& e : ev) {
        if (e.kind == EventKind::Sample) last_sample_t = e.t_s;
        if (e.kind == EventKind::Beat) CHECK(e.t_s == last_sample_t);
    }
    CHECK(dec.stats().unparsed_lines == 2);  // the cut first line (with the first banner) and "Initializing..."
    CHECK(dec.stats().pre_lock_lines > 50);  // ~2 s of lines while the board may still be resetting
    CHECK(dec.stats().status.find("PulseSensor visualizer") != std::string::npos);
    CHECK(Of(ev, EventKind::Status).size() >= 1);
}

TEST_CASE("decoder: the literal lines of PROTOCOLS.md", "[decoder]") {
    struct Case {
        std::string line;   // repeated as printed, "\r\n" ended
        SensorFormat format;
        double sample;      // value of the samples (NaN: none)
        double beat;        // value of the beats (NaN: none)
        double bpm_hint;
    };
    const double none = std::nan("");
    const std::vector<Case> cases = {
        {"72,833,527", SensorFormat::PulseSensorPlotter, 527, none, 72},
        {"527,498", SensorFormat::MultiSignal, 527, none, 0},
        {"S527\r\nB72\r\nQ833", SensorFormat::PulseSensorVisualizer, 527, 833, 72},
        {"BPM: 72", SensorFormat::BpmText, none, none, 72},
        {"\xE2\x99\xA5  A HeartBeat Happened ! \r\nBPM: 72", SensorFormat::BpmText, none, 0, 72},
        {"Signal 527", SensorFormat::SignalText, 527, none, 0},
        {"72 bpm", SensorFormat::BpmText, none, none, 72},
        {"72 BPM", SensorFormat::BpmText, none, none, 72},
        {"527", SensorFormat::SingleAdc, 527, none, 0},
        {"S:512", SensorFormat::VendorLabeled, 512, none, 0},
        {"S=512", SensorFormat::VendorLabeled, 512, none, 0},
        {"sig:512", SensorFormat::VendorLabeled, 512, none, 0},
        {"sample=512", SensorFormat::VendorLabeled, 512, none, 0},
        {"raw=512", SensorFormat::VendorLabeled, 512, none, 0},
        {"{\"signal\":512}", SensorFormat::Json, 512, none, 0},
        {"{\"sample\":512}", SensorFormat::Json, 512, none, 0},
        {"{\"value\":512,\"bpm\":72}", SensorFormat::Json, 512, none, 72},
        {" R[1234] IR[56789] G[321]", SensorFormat::MaxBasicReadings, 56789, none, 0},
        {" R[1234] IR[56789] G[321] Hz[99.87]", SensorFormat::MaxBasicReadings, 56789, none, 0},
        {"56789", SensorFormat::SingleIr, 56789, none, 0},
        {"IR=56789, BPM=72.29, Avg BPM=70", SensorFormat::MaxHeartRate, 56789, none, 70},
        {"red=41234, ir=56789", SensorFormat::MaxSpo2, 56789, none, 0},
        {"red=41234, ir=56789, HR=72, HRvalid=1, SPO2=97, SPO2Valid=1", SensorFormat::MaxSpo2, 56789, none, 72},
        {"IR=56789,RED=41234,T=12345", SensorFormat::IrRedMillis, 56789, none, 0},
        {"56789,41234", SensorFormat::IrRed, 56789, none, 0},
        {"56789\t41234", SensorFormat::IrRed, 56789, none, 0},
        {"Signal:527 BPM:72", SensorFormat::PlotterLabels, 527, none, 72},
    };
    for (const Case& c : cases) {
        INFO(c.line);
        std::vector<std::string> lines;
        for (int i = 0; i < 400; ++i) lines.push_back(Str(c.line, "\r\n"));
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(lines, 50));
        CHECK(dec.format() == c.format);
        const auto samples = Of(ev, EventKind::Sample);
        const auto beats = Of(ev, EventKind::Beat);
        if (std::isnan(c.sample)) {
            CHECK(samples.empty());
        } else {
            REQUIRE(samples.size() > 200);
            CHECK(samples.back().value == c.sample);
        }
        if (std::isnan(c.beat)) {
            CHECK(beats.empty());
        } else {
            CHECK(beats.size() > 100);
            CHECK(beats.back().value == c.beat);
        }
        CHECK(dec.stats().bpm_hint == c.bpm_hint);
    }
    // The '!' of a failed PulseSensor start, and AD8232's leads-off '!' among readings.
    SensorDecoder failed;
    const auto e1 = Decode(failed, Timed(Lines({}, 50, [](int) { return Str("!\r\n"); }), 10));
    CHECK(failed.stats().diagnosis == Diagnosis::SensorFailed);
    CHECK(Of(e1, EventKind::Sample).empty());
}

TEST_CASE("decoder: identical events byte by byte and in random chunks", "[decoder]") {
    const VisualizerSession vs = SimulatedVisualizer(12.0);
    std::vector<std::string> lines = vs.lines;
    std::vector<double> t = vs.line_t;
    // Then the board resets (banner again, with a UTF-8 heart) and prints plotter lines.
    for (const std::string& b : Banner()) {
        lines.push_back(b);
        t.push_back(t.back() + 0.01);
    }
    for (int i = 0; i < 400; ++i) {
        lines.push_back(PlotterLine(72, 833, Wave(i)));
        t.push_back(t.back() + 0.02);
    }
    const Stream s = Deliver(lines, t);
    SensorDecoder whole;
    const auto ref = Decode(whole, s, 0);
    REQUIRE(Of(ref, EventKind::Sample).size() > 500);
    CHECK(whole.format() == SensorFormat::PulseSensorPlotter);
    SensorDecoder bytewise;
    CHECK(SameEvents(Decode(bytewise, s, 1), ref));
    for (std::uint32_t seed = 1; seed <= 10; ++seed) {
        SensorDecoder chunked;
        CHECK(SameEvents(Decode(chunked, s, 3 + seed * 5, seed), ref));
    }
}

TEST_CASE("decoder: the stale BPM,IBI,Signal format never yields beats", "[decoder]") {
    // 10 s of the SERIAL_PLOTTER default at 50 lines/s: start-up placeholders, then 72/833.
    const auto lines = Lines(Banner(), 500, [](int i) {
        return i < 100 ? PlotterLine(0, 600, Wave(i)) : PlotterLine(72, 833, Wave(i));
    });
    SensorDecoder dec;
    const auto ev = Decode(dec, Timed(lines, 50));
    CHECK(dec.format() == SensorFormat::PulseSensorPlotter);
    CHECK(Of(ev, EventKind::Beat).empty());
    const auto samples = Of(ev, EventKind::Sample);
    CHECK(samples.size() > 350);
    CHECK(samples.back().value == Wave(499));
    CHECK(dec.stats().bpm_hint == 72);
    CHECK(dec.stats().ibi_hint_ms == 833);
}

TEST_CASE("decoder: signal,bpm,ibi,beat gives a beat when the flag turns 1", "[decoder]") {
    // Beat flags at every 40th line; one beat flagged on two lines in a row counts once.
    const auto lines = Lines({}, 600, [](int i) {
        const bool beat = i % 40 == 0 || i == 321;
        return SignalBpmIbiBeatLine(Wave(i), 75, 800, beat);
    });
    SensorDecoder dec;
    const auto ev = Decode(dec, Timed(lines, 50));
    CHECK(dec.format() == SensorFormat::SignalBpmIbiBeat);
    const auto beats = Of(ev, EventKind::Beat);
    int expected = 0;
    for (int i = 0; i < 600; ++i) expected += (i % 40 == 0 && i * 0.02 + 0.05 > 2.05) ? 1 : 0;
    CHECK(static_cast<int>(beats.size()) == expected);
    for (const auto& b : beats) CHECK(b.value == 800);
}

TEST_CASE("decoder: several raw signals, channel choice", "[decoder]") {
    const auto lines = Lines({}, 300, [](int i) {
        const int v[2] = {Wave(i), Wave(i, 300, 50)};
        return MultiSignalLine(v);
    });
    DecoderConfig cfg;
    cfg.channel = 1;
    SensorDecoder dec(cfg);
    const auto ev = Decode(dec, Timed(lines, 50));
    CHECK(dec.format() == SensorFormat::MultiSignal);
    CHECK(dec.stats().channels == 2);
    const auto samples = Of(ev, EventKind::Sample);
    REQUIRE(!samples.empty());
    CHECK(samples.back().value == Wave(299, 300, 50));

    // Two PulseSensors in visualizer mode: sensor 1's samples and beats (b, B/N).
    std::vector<std::string> vis;
    for (int i = 0; i < 400; ++i) {
        vis.push_back(VisualizerSampleLine(Wave(i), 0));
        vis.push_back(VisualizerSampleLine(Wave(i, 200), 1));
        if (i % 40 == 20) vis.push_back(VisualizerBeatLines(70, 850, 0));
        if (i % 40 == 30) vis.push_back(VisualizerBeatLines(66, 910, 1));
    }
    SensorDecoder two(cfg);
    const auto ev2 = Decode(two, Timed(vis, 100));
    CHECK(two.format() == SensorFormat::PulseSensorVisualizer);
    CHECK(two.stats().channels == 2);
    for (const auto& b : Of(ev2, EventKind::Beat)) CHECK(b.value == 910);
    CHECK(Of(ev2, EventKind::Beat).size() >= 5);
    CHECK(Of(ev2, EventKind::Sample).back().value == Wave(399, 200));
    CHECK(two.stats().bpm_hint == 66);
}

TEST_CASE("decoder: one number per line, ADC and MAX3010x IR (inverted)", "[decoder]") {
    SensorDecoder adc;
    const auto e1 = Decode(adc, Timed(Lines(Banner(), 300, [](int i) { return NumberLine(Wave(i)); }), 50));
    CHECK(adc.format() == SensorFormat::SingleAdc);
    CHECK_FALSE(adc.inverted());
    CHECK(Of(e1, EventKind::Sample).size() > 100);

    SensorDecoder ir;
    const auto e2 = Decode(ir, Timed(Lines({"Initializing...\r\n"}, 600, [](int i) { return NumberLine(Wave(i, 56789, 400)); }), 100));
    CHECK(ir.format() == SensorFormat::SingleIr);
    CHECK(ir.inverted());
    CHECK(Of(e2, EventKind::Sample).back().value == Wave(599, 56789, 400));
    CHECK(ir.stats().sample_rate_hz == Approx(100).epsilon(0.01));

    DecoderConfig normal;
    normal.polarity = Polarity::Normal;
    SensorDecoder forced(normal);
    Decode(forced, Timed(Lines({}, 300, [](int i) { return NumberLine(Wave(i, 56789, 400)); }), 100));
    CHECK_FALSE(forced.inverted());
}

TEST_CASE("decoder: AD8232 leads off, rate measured", "[decoder]") {
    // ~190 lines/s; leads off between 4 s and 5 s.
    const double rate = 190.0;
    const auto lines = Lines({}, static_cast<int>(rate * 10), [&](int i) {
        const double t = i / rate;
        return (t > 4.0 && t < 5.0) ? BangLine() : NumberLine(Wave(i, 330, 250));
    });
    SensorDecoder dec;
    const auto ev = Decode(dec, Timed(lines, rate));
    CHECK(dec.format() == SensorFormat::Ad8232);
    const auto off = Of(ev, EventKind::LeadsOff);
    REQUIRE(off.size() == 1);
    CHECK(off[0].t_s == Approx(4.05).margin(0.05));
    // No samples while the lead is off; they resume after.
    for (const auto& e : Of(ev, EventKind::Sample)) CHECK((e.t_s < 4.1 || e.t_s > 5.0));
    CHECK(Of(ev, EventKind::Sample).back().t_s > 9.5);
    CHECK_FALSE(dec.stats().leads_off);
    CHECK(dec.stats().sample_rate_hz == Approx(rate).epsilon(0.01));
    CHECK(Of(ev, EventKind::Beat).empty());
}

TEST_CASE("decoder: '!' lines alone: fast = leads off, slow = PulseSensor failed to start", "[decoder]") {
    SensorDecoder fast;
    const auto e1 = Decode(fast, Timed(Lines({}, 1000, [](int) { return BangLine(); }), 190));
    CHECK(Of(e1, EventKind::LeadsOff).size() == 1);
    CHECK(fast.stats().diagnosis == Diagnosis::LeadsOff);

    SensorDecoder slow;
    const auto e2 = Decode(slow, Timed(Lines({}, 60, [](int) { return BangLine(); }), 10));
    CHECK(Of(e2, EventKind::LeadsOff).empty());
    CHECK(slow.stats().diagnosis == Diagnosis::SensorFailed);
    bool told = false;
    for (const auto& s : Of(e2, EventKind::Status)) told = told || s.text.find("did not start") != std::string::npos;
    CHECK(told);
}

TEST_CASE("decoder: MAX3010x examples 1, 5 and 8", "[decoder]") {
    SECTION("Example 1 / 7: IR of R[] IR[] G[]") {
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(Lines({"Initializing...\r\n"}, 500, [](int i) {
            return MaxBasicLine(Wave(i, 41234), Wave(i, 56789, 300), 321, i % 2 ? std::optional<double>(99.87) : std::nullopt);
        }), 50));
        CHECK(dec.format() == SensorFormat::MaxBasicReadings);
        CHECK(dec.inverted());
        CHECK(dec.stats().channels == 3);
        CHECK(Of(ev, EventKind::Sample).back().value == Wave(499, 56789, 300));
    }
    SECTION("Example 5: no finger is no contact; BPM is a hint, never a beat") {
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(Lines({"Initializing...\r\n", "Place your index finger on the sensor with steady pressure.\r\n"}, 1500, [](int i) {
            if (i < 400) return MaxHeartRateLine(1200 + i % 7, 0.0, 0);
            return MaxHeartRateLine(Wave(i, 56789, 300), 60.0 + (i / 80) % 5, 70);
        }), 100));
        CHECK(dec.format() == SensorFormat::MaxHeartRate);
        const auto off = Of(ev, EventKind::LeadsOff);
        REQUIRE(off.size() == 1);
        const auto samples = Of(ev, EventKind::Sample);
        REQUIRE(!samples.empty());
        CHECK(samples.front().t_s > off[0].t_s);
        CHECK(samples.front().value == Wave(400, 56789, 300));
        CHECK(Of(ev, EventKind::Beat).empty());
        CHECK(dec.stats().bpm_hint == 70);
        CHECK(dec.inverted());
    }
    SECTION("Example 8: answers the prompt; HR and SpO2 hints only when valid") {
        SensorDecoder dec;
        std::vector<std::string> lines = {"Initializing...\r\n", MaxSpo2PromptLine()};
        for (int i = 0; i < 100; ++i) lines.push_back(MaxSpo2Line(Wave(i, 41234), Wave(i, 56789)));
        for (int i = 100; i < 200; ++i) lines.push_back(MaxSpo2Line(Wave(i, 41234), Wave(i, 56789), -999, 0, -999, 0));
        for (int i = 200; i < 300; ++i) lines.push_back(MaxSpo2Line(Wave(i, 41234), Wave(i, 56789), 72, 1, 97, 1));
        const Stream s = Timed(lines, 25);
        std::vector<DeviceEvent> ev;
        // The prompt arrives (second read); the decoder wants to answer it, once.
        int replies = 0;
        for (std::size_t k = 0; k < s.size(); ++k) {
            dec.Feed(reinterpret_cast<const std::uint8_t*>(s[k].bytes.data()), s[k].bytes.size(), s[k].t_s, ev);
            if (!dec.pending_reply().empty()) {
                CHECK(k == 1);
                CHECK(dec.pending_reply() == "\n");
                ++replies;
                dec.ClearPendingReply();
                CHECK(dec.pending_reply().empty());
            }
        }
        CHECK(replies == 1);
        CHECK(dec.format() == SensorFormat::MaxSpo2);
        CHECK(dec.inverted());
        CHECK(Of(ev, EventKind::Sample).back().value == Wave(299, 56789));
        CHECK(dec.stats().bpm_hint == 72);
        CHECK(dec.stats().spo2_hint == 97);
        CHECK(Of(ev, EventKind::Beat).empty());
        CHECK(dec.stats().sample_rate_hz == Approx(25).epsilon(0.02));
    }
    SECTION("Example 8 prompt in the dropped first line is still answered") {
        SensorDecoder dec;
        std::vector<DeviceEvent> ev;
        const std::string b = MaxSpo2PromptLine();
        dec.Feed(reinterpret_cast<const std::uint8_t*>(b.data()), b.size(), 0.1, ev);
        CHECK(dec.pending_reply() == "\n");
    }
}

TEST_CASE("decoder: BPM messages: hearts are beats (interval unknown), BPM a hint", "[decoder]") {
    std::vector<std::string> lines = {"junk", "PulseSensor started\r\n"};
    std::vector<double> t = {0.01, 0.02};
    for (int b = 0; b < 12; ++b) {
        lines.push_back(HeartbeatLine());
        lines.push_back(BpmColonLine(70 + b % 3));
        t.push_back(0.5 + b * 0.85);
        t.push_back(0.5 + b * 0.85 + 0.001);
    }
    SensorDecoder dec;
    const auto ev = Decode(dec, Deliver(lines, t));
    CHECK(dec.format() == SensorFormat::BpmText);
    const auto beats = Of(ev, EventKind::Beat);
    CHECK(beats.size() >= 6);
    CHECK(beats.size() <= 12);
    for (const auto& b : beats) CHECK(b.value == 0.0);
    CHECK(Of(ev, EventKind::Sample).empty());
    CHECK(dec.stats().bpm_hint == 70 + 11 % 3);

    SensorDecoder suffix;
    const auto e2 = Decode(suffix, Timed(Lines({}, 20, [](int i) { return BpmSuffixLine(60 + i, i % 2 == 0); }), 1.0));
    CHECK(suffix.format() == SensorFormat::BpmText);
    CHECK(Of(e2, EventKind::Beat).empty());
    CHECK(suffix.stats().bpm_hint == 79);
}

TEST_CASE("decoder: labelled forms: Signal 527, vendor forms, JSON, plotter labels", "[decoder]") {
    struct Case {
        const char* name;
        std::function<std::string(int)> gen;
        SensorFormat format;
        bool inverted;
    };
    const std::vector<Case> cases = {
        {"Signal 527", [](int i) { return SignalWordLine(Wave(i)); }, SensorFormat::SignalText, false},
        {"S:512", [](int i) { return VendorLabeledLine("S", ':', Wave(i)); }, SensorFormat::VendorLabeled, false},
        {"S=512", [](int i) { return VendorLabeledLine("S", '=', Wave(i)); }, SensorFormat::VendorLabeled, false},
        {"sig:512", [](int i) { return VendorLabeledLine("sig", ':', Wave(i)); }, SensorFormat::VendorLabeled, false},
        {"sample=512", [](int i) { return VendorLabeledLine("sample", '=', Wave(i)); }, SensorFormat::VendorLabeled, false},
        {"raw=512", [](int i) { return VendorLabeledLine("raw", '=', Wave(i)); }, SensorFormat::VendorLabeled, false},
        {"JSON", [](int i) { return JsonLine(Wave(i), 72, 833); }, SensorFormat::Json, false},
        {"JSON value", [](int i) { return Str("{\"value\": ", Wave(i), "}\n"); }, SensorFormat::Json, false},
        {"plotter labels", [](int i) {
             const LabeledValue v[] = {{"Signal", static_cast<double>(Wave(i))}, {"BPM", 72}};
             return PlotterLabelsLine(v, ' ');
         }, SensorFormat::PlotterLabels, false},
        {"plotter labels IR", [](int i) {
             const LabeledValue v[] = {{"Red", 41234}, {"IR", static_cast<double>(Wave(i))}};
             return PlotterLabelsLine(v, ',');
         }, SensorFormat::PlotterLabels, true},
    };
    for (const Case& c : cases) {
        INFO(c.name);
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(Lines(Banner(), 300, c.gen), 50));
        CHECK(dec.format() == c.format);
        const auto samples = Of(ev, EventKind::Sample);
        REQUIRE(samples.size() > 150);
        CHECK(samples.back().value == Wave(299));
        CHECK(dec.inverted() == c.inverted);
        CHECK(Of(ev, EventKind::Beat).empty());
    }
    // JSON with a beat flag: a beat on each rising edge, with its IBI.
    SensorDecoder json;
    const auto ev = Decode(json, Timed(Lines({}, 400, [](int i) {
        return Str("{\"signal\":", Wave(i), ",\"ibi\":812,\"beat\":", i % 40 == 0 ? "1" : "0", "}\r\n");
    }), 50));
    CHECK(json.format() == SensorFormat::Json);
    const auto beats = Of(ev, EventKind::Beat);
    CHECK(beats.size() >= 4);
    for (const auto& b : beats) CHECK(b.value == 812);
}

TEST_CASE("decoder: printed timestamps time the samples (ms,value / IR=,RED=,T= / header)", "[decoder]") {
    SECTION("ms,value arriving in bursts keeps the 10 ms spacing") {
        const auto lines = Lines({}, 1000, [](int i) {
            const long v[] = {Wave(i)};
            return TimestampCsvLine(7000 + 10 * i, v);
        });
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(lines, 100, 0.05, 0.128));
        CHECK(dec.format() == SensorFormat::TimestampCsv);
        const auto s = Of(ev, EventKind::Sample);
        REQUIRE(s.size() > 700);
        // After the first burst the spacing is the printed 10 ms, except when a flush arrives
        // quicker than any before (causality pulls the stamps back to it): rare.
        int uneven = 0;
        for (std::size_t i = 20; i < s.size(); ++i) uneven += std::fabs(s[i].t_s - s[i - 1].t_s - 0.010) > 0.0002 ? 1 : 0;
        CHECK(uneven <= 8);
        CHECK((s.back().t_s - s[20].t_s) / static_cast<double>(s.size() - 21) == Approx(0.010).epsilon(0.005));
        CHECK(dec.stats().sample_rate_hz == Approx(100).epsilon(0.01));
    }
    SECTION("IR=..,RED=..,T=..") {
        const auto lines = Lines({}, 600, [](int i) { return IrRedMillisLine(Wave(i, 56789), Wave(i, 41234), 100 + 10 * i); });
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(lines, 100));
        CHECK(dec.format() == SensorFormat::IrRedMillis);
        CHECK(dec.inverted());
        const auto s = Of(ev, EventKind::Sample);
        CHECK(s.back().value == Wave(599, 56789));
        CHECK(s.back().t_s - s[s.size() - 2].t_s == Approx(0.010).epsilon(0.02));
    }
    SECTION("Timestamp,Red,IR header: IR is channel 0") {
        const std::string_view labels[] = {"Timestamp", "Red", "IR"};
        const auto lines = Lines({"MAX30102 logger\r\n", HeaderLine(labels)}, 600, [](int i) {
            const long v[] = {Wave(i, 41234), Wave(i, 56789)};
            return TimestampCsvLine(100 + 10 * i, v);
        });
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(lines, 100));
        CHECK(dec.format() == SensorFormat::TimestampCsv);
        CHECK(dec.inverted());
        CHECK(Of(ev, EventKind::Sample).back().value == Wave(599, 56789));
    }
    SECTION("ir,red and ir<TAB>red") {
        for (char sep : {',', '\t'}) {
            SensorDecoder dec;
            const auto ev = Decode(dec, Timed(Lines({}, 400, [&](int i) { return IrRedLine(Wave(i, 56789, 300), Wave(i + 3, 41234, 200), sep); }), 100));
            CHECK(dec.format() == SensorFormat::IrRed);
            CHECK(dec.inverted());
            CHECK(Of(ev, EventKind::Sample).back().value == Wave(399, 56789, 300));
        }
    }
}

TEST_CASE("decoder: noise: 64 KiB line, NUL bytes, random binary, never an invented beat", "[decoder]") {
    SECTION("a 64 KiB line and NULs inside a visualizer stream") {
        std::vector<std::string> lines = Lines(Banner(), 300, [](int i) { return VisualizerSampleLine(Wave(i)); });
        lines.insert(lines.begin() + 200, std::string(64 * 1024, '7'));  // no newline until the next line's end
        lines[250] = Str("S5", std::string_view("\0", 1), "12\r\n");
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(lines, 50), 1000, 3);
        CHECK(dec.format() == SensorFormat::PulseSensorVisualizer);
        CHECK(dec.stats().noise_bytes >= 64 * 1024);
        CHECK(dec.stats().last_unparsed.size() <= 256);
        CHECK(Of(ev, EventKind::Beat).empty());
        bool saw_512 = false;
        for (const auto& s : Of(ev, EventKind::Sample)) saw_512 = saw_512 || s.value == 512;
        CHECK(saw_512);
    }
    SECTION("4 MiB of random bytes: no samples, no beats, a baud-rate hint") {
        std::mt19937 rng(12345);
        Stream s;
        double t = 0.0;
        for (int k = 0; k < 1024; ++k) {
            std::string chunk(4096, '\0');
            for (char& c : chunk) c = static_cast<char>(rng() & 0xFF);
            t += 0.01;
            s.push_back({t, std::move(chunk)});
        }
        SensorDecoder dec;
        const std::size_t before = g_allocations;
        const auto ev = Decode(dec, s, 700, 9);
        const std::size_t allocations = g_allocations - before;
        CHECK(Of(ev, EventKind::Sample).empty());
        CHECK(Of(ev, EventKind::Beat).empty());
        CHECK(dec.stats().diagnosis == Diagnosis::Unprintable);
        CHECK(dec.stats().status.find("baud") != std::string::npos);
        CHECK(dec.stats().last_unparsed.size() <= 256);
        CHECK(allocations < 100);  // the events vector and Status texts only
    }
    SECTION("random bytes spliced into a visualizer stream: beats only from real Q lines") {
        const VisualizerSession vs = SimulatedVisualizer(40.0);
        std::vector<std::string> lines = vs.lines;
        std::mt19937 rng(99);
        for (std::size_t i = 200; i < lines.size(); i += 37) {
            std::string junk(1 + rng() % 200, '\0');
            for (char& c : junk) c = static_cast<char>(rng() & 0xFF);
            junk += lines[i];
            lines[i] = junk;
        }
        SensorDecoder dec;
        const auto ev = Decode(dec, Deliver(lines, vs.line_t));
        const auto beats = Of(ev, EventKind::Beat);
        CHECK(beats.size() <= vs.ibis.size());
        for (const auto& b : beats) CHECK(std::find(vs.ibis.begin(), vs.ibis.end(), static_cast<int>(b.value)) != vs.ibis.end());
        CHECK(dec.stats().unparsed_lines > 10);
    }
}

TEST_CASE("decoder: a forced format decodes at once, Reset keeps the lock", "[decoder]") {
    DecoderConfig cfg;
    cfg.format = SensorFormat::PulseSensorPlotter;
    SensorDecoder dec(cfg);
    std::vector<DeviceEvent> ev;
    const std::string bytes = "x\r\n72,833,527\r\n72,833,530\r\nhello\r\n";
    dec.Feed(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), 0.1, ev);
    REQUIRE(Of(ev, EventKind::Sample).size() == 2);
    CHECK(dec.stats().forced);
    CHECK(dec.stats().unparsed_lines == 2);
    CHECK(dec.stats().last_unparsed == "hello");

    dec.Reset();
    ev.clear();
    const std::string more = "0,833,531\r\n72,833,532\r\n";
    dec.Feed(reinterpret_cast<const std::uint8_t*>(more.data()), more.size(), 5.0, ev);
    REQUIRE(Of(ev, EventKind::Sample).size() == 1);  // the first line after Reset is dropped
    CHECK(Of(ev, EventKind::Sample)[0].value == 532);

    // Lifting the force: detection again.
    dec.Configure(DecoderConfig{});
    CHECK_FALSE(dec.stats().forced);
    CHECK(dec.format() == SensorFormat::Unknown);
}

TEST_CASE("decoder: no allocation per line in steady state, millions of lines per second", "[decoder][perf]") {
    // Lock first.
    SensorDecoder dec;
    const auto warm = Timed(Lines(Banner(), 300, [](int i) { return VisualizerSampleLine(Wave(i)); }), 50);
    Decode(dec, warm);
    REQUIRE(dec.format() == SensorFormat::PulseSensorVisualizer);

    std::string block;
    for (int i = 0; i < 2000; ++i) {
        block += VisualizerSampleLine(Wave(i));
        if (i % 40 == 39) block += VisualizerBeatLines(72, 833);
    }
    std::vector<DeviceEvent> out;
    out.reserve(4000);
    const std::size_t before = g_allocations;
    double t = 7.0;
    for (int k = 0; k < 20; ++k) {
        out.clear();
        t += 0.5;
        dec.Feed(reinterpret_cast<const std::uint8_t*>(block.data()), block.size(), t, out);
    }
    CHECK(g_allocations == before);

    // The same for labelled lines (tokenised), numeric rows and printed timestamps.
    const std::vector<std::function<std::string(int)>> gens = {
        [](int i) { return PlotterLine(72, 833, Wave(i)); },
        [](int i) { return MaxHeartRateLine(Wave(i, 56789, 300), 72.29, 70); },
        [](int i) { return MaxSpo2Line(41234, Wave(i, 56789), 72, 1, 97, 1); },
        [](int i) { return JsonLine(Wave(i), 72, 833); },
        [](int i) { return IrRedMillisLine(Wave(i, 56789), 41234, 1000 + 10 * i); },
        [](int i) { return SignalBpmIbiBeatLine(Wave(i), 72, 833, i % 40 == 0); },
    };
    for (std::size_t g = 0; g < gens.size(); ++g) {
        INFO("generator " << g);
        SensorDecoder d;
        const auto lines = Lines({}, 3000, gens[g]);
        const Stream s = Timed(lines, 100);
        std::size_t k = 0;
        for (; k < s.size() && s[k].t_s < 5.0; ++k)
            d.Feed(reinterpret_cast<const std::uint8_t*>(s[k].bytes.data()), s[k].bytes.size(), s[k].t_s, out);
        REQUIRE(d.stats().format != SensorFormat::Unknown);
        out.clear();
        const std::size_t at = g_allocations;
        for (; k < s.size(); ++k)
            d.Feed(reinterpret_cast<const std::uint8_t*>(s[k].bytes.data()), s[k].bytes.size(), s[k].t_s, out);
        CHECK(g_allocations == at);
        CHECK(out.size() > 1000);
    }

    // Throughput: visualizer and plotter lines.
    auto lines_per_second = [&](SensorDecoder& d, const std::string& blk, std::size_t lines_in_block) {
        out.clear();
        const int reps = 200;
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < reps; ++k) {
            out.clear();
            t += 0.5;
            d.Feed(reinterpret_cast<const std::uint8_t*>(blk.data()), blk.size(), t, out);
        }
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return static_cast<double>(reps * lines_in_block) / s;
    };
    const double vis = lines_per_second(dec, block, 2100);
    std::string plot;
    for (int i = 0; i < 2000; ++i) plot += PlotterLine(72, 833, Wave(i));
    SensorDecoder pd;
    Decode(pd, Timed(Lines({}, 300, [](int i) { return PlotterLine(72, 833, Wave(i)); }), 50));
    REQUIRE(pd.format() == SensorFormat::PulseSensorPlotter);
    const double plotter = lines_per_second(pd, plot, 2000);
    WARN("visualizer " << vis / 1e6 << " M lines/s, plotter " << plotter / 1e6 << " M lines/s");
#ifdef NDEBUG
    CHECK(vis > 2e6);
    CHECK(plotter > 1e6);
#else
    CHECK(vis > 1e5);
#endif
}

TEST_CASE("decoder: an AD8232 banner makes a one-number stream ECG before any '!', and the format is announced", "[decoder]") {
    for (const bool banner_first : {true, false}) {
        // The board resets when the port opens: the banner may be the (dropped) first line.
        std::vector<std::string> lines;
        if (!banner_first) lines.push_back("37\r\n");  // the tail of a line printed before the reset
        lines.push_back("# Attune AD8232 250 Hz\r\n");
        for (int i = 0; i < 1500; ++i) lines.push_back(NumberLine(Wave(i)));
        SensorDecoder dec;
        const auto ev = Decode(dec, Timed(lines, 250.0));
        INFO("banner first: " << banner_first);
        CHECK(dec.format() == SensorFormat::Ad8232);
        const auto formats = Of(ev, EventKind::Format);
        REQUIRE(formats.size() == 1);
        CHECK(formats[0].text == "ad8232");
        CHECK(formats[0].value == 0.0);  // an ECG is not inverted
        // Announced before the first sample it applies to.
        const auto first_sample = std::find_if(ev.begin(), ev.end(), [](const DeviceEvent& e) { return e.kind == EventKind::Sample; });
        const auto format_at = std::find_if(ev.begin(), ev.end(), [](const DeviceEvent& e) { return e.kind == EventKind::Format; });
        CHECK(format_at < first_sample);
    }
    // Without the banner the same numbers are a plain ADC stream (PulseSensor bare or AD8232).
    std::vector<std::string> plain = {"\r\n"};
    for (int i = 0; i < 1500; ++i) plain.push_back(NumberLine(Wave(i)));
    SensorDecoder dec;
    Decode(dec, Timed(plain, 250.0));
    CHECK(dec.format() == SensorFormat::SingleAdc);
}

TEST_CASE("decoder: MAX3010x lines announce an inverted waveform, and the verdict for the baud search", "[decoder][baud]") {
    std::vector<std::string> lines = {"\r\n"};
    for (int i = 0; i < 400; ++i) lines.push_back(MaxHeartRateLine(120000 - Wave(i, 0, 300), 71.5, 70));
    SensorDecoder dec;
    CHECK(dec.LinkVerdict() == ByteDecoder::Verdict::Undecided);  // nothing yet
    const auto ev = Decode(dec, Timed(lines, 100.0));
    const auto formats = Of(ev, EventKind::Format);
    REQUIRE(formats.size() == 1);
    CHECK(formats[0].text == "max3010x-heart-rate");
    CHECK(formats[0].value == 1.0);
    CHECK(dec.LinkVerdict() == ByteDecoder::Verdict::Understood);

    // Noise (a wrong baud rate): Garbage; after Reset() the verdict starts afresh.
    SensorDecoder noisy;
    std::mt19937 rng(4);
    std::string junk;
    for (int i = 0; i < 600; ++i) junk.push_back(static_cast<char>(0x80 + rng() % 0x80));
    std::vector<DeviceEvent> out;
    noisy.Feed(reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size(), 0.1, out);
    CHECK(noisy.LinkVerdict() == ByteDecoder::Verdict::Garbage);
    noisy.Reset();
    CHECK(noisy.LinkVerdict() == ByteDecoder::Verdict::Undecided);
    const std::string clean = "Hello from the sketch\r\nstarting up\r\nstill starting\r\n";
    noisy.Feed(reinterpret_cast<const std::uint8_t*>(clean.data()), clean.size(), 0.2, out);
    CHECK(noisy.LinkVerdict() == ByteDecoder::Verdict::Undecided);  // clean text: wait, do not switch

    // The "press any key" reply is handed over once.
    SensorDecoder prompt;
    std::string banner = "\r\n";
    banner += MaxSpo2PromptLine();
    prompt.Feed(reinterpret_cast<const std::uint8_t*>(banner.data()), banner.size(), 0.1, out);
    CHECK(prompt.TakeReply() == "\n");
    CHECK(prompt.TakeReply().empty());
}
