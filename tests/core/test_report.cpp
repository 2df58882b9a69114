// Session loading, the HTML report, the RR/CSV exports and `attune report` (ReportCommand).
//
// The fixture is a 5-minute recorded session made by MakeSessionBasic() below (deterministic):
// coherent breathing 6/min, heart rate following the pacer (RSA), an ectopic pair, a missed beat,
// a 10 s pause, a 6.5 s sensor drop-out, two markers (one full of HTML), ratings and a note with a
// <script>. Every test writes it afresh into ATTUNE_TEST_TMP_DIR; the copy committed under
// tests/core/fixtures/session-basic/ (for trying `attune report` by hand) is rewritten by
//   core_test_report "[.regenerate]"
// and checked against the generator by the "committed fixture" test.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attune/core/pacer.hpp"
#include "attune/core/pattern.hpp"
#include "attune/core/recorder.hpp"
#include "attune/core/report.hpp"
#include "attune/core/session_data.hpp"
#include "attune/core/session_format.hpp"
#include "attune/dsp/coherence.hpp"
#include "attune/dsp/hrv_freq.hpp"
#include "attune/dsp/hrv_time.hpp"
#include "run_command.hpp"

namespace fs = std::filesystem;
using namespace attune::core;

namespace {

const char* kSessionId = "20261123-174512-coherent";
const char* kNote = "Felt calm after minute two.\nTest: <script>alert(\"x\")</script> & 'quotes'";
const char* kMarker2 = "Dizzy <b>& \"tingly\"</b>, then fine";

fs::path TmpDir(const std::string& name) {
    const fs::path p = fs::path(ATTUNE_TEST_TMP_DIR) / "report" / name;
    fs::remove_all(p);
    fs::create_directories(p);
    return p;
}

std::string ReadAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

std::vector<std::string> SplitTabs(const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t t = line.find('\t', start);
        out.push_back(line.substr(start, t == std::string::npos ? std::string::npos : t - start));
        if (t == std::string::npos) break;
        start = t + 1;
    }
    return out;
}

std::string F(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::size_t Count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}

// Deterministic noise (no dependence on the standard library's distributions).
struct Noise {
    std::uint64_t s = 0x9E3779B97F4A7C15ull;
    double Uniform() {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
    }
    double Normal() {  // Box-Muller
        const double u = std::max(Uniform(), 1e-12), v = Uniform();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
    }
};

const char* PhaseText(PhaseKind k) {
    switch (k) {
        case PhaseKind::Inhale: return "inhale";
        case PhaseKind::HoldIn: return "hold_in";
        case PhaseKind::Exhale: return "exhale";
        case PhaseKind::HoldOut: return "hold_out";
        case PhaseKind::Natural: return "natural";
    }
    return "inhale";
}

// Writes the session-basic fixture into `folder` and returns its metadata.
SessionMeta MakeSessionBasic(const fs::path& folder) {
    fs::create_directories(folder);
    constexpr double kDuration = 300.0, kPauseFrom = 150.0, kPauseTo = 160.0, kLostFrom = 200.0, kLostTo = 206.5;
    const BreathPattern pattern = BreathPattern::FourPhase("coherent", "Coherent 6/min", 5, 0, 5, 0, 300);
    const Pacer pacer(pattern);
    auto active = [&](double t) { return t < kPauseFrom ? t : t < kPauseTo ? kPauseFrom : t - (kPauseTo - kPauseFrom); };
    auto paused = [&](double t) { return t >= kPauseFrom && t < kPauseTo; };
    auto lost = [&](double t) { return t >= kLostFrom && t < kLostTo; };
    Noise noise;

    // pacer.csv, 10 rows a second.
    FILE* f = std::fopen((folder / "pacer.csv").c_str(), "w");
    std::fprintf(f, "t_s,phase,volume,rate_bpm,breath\n");
    for (int i = 0; i <= static_cast<int>(kDuration * 10); ++i) {
        const double t = i / 10.0;
        const PacerState st = pacer.At(active(t));
        std::fprintf(f, "%.1f,%s,%.4f,%.2f,%lld\n", t, paused(t) ? "paused" : PhaseText(st.phase), st.volume,
                     st.rate_bpm, static_cast<long long>(st.breath_count));
    }
    std::fclose(f);

    // The true beats: heart rate follows lung volume (RSA ~12 bpm peak to trough), a slow drift,
    // and beat-to-beat noise. During the pause the volume is held, so HR flattens.
    struct TrueBeat { double t, ibi; };
    std::vector<TrueBeat> truth;
    double t = 0.4;
    while (t < kDuration) {
        const double vol = pacer.At(active(std::max(0.0, t - 1.0))).volume;  // ~1 s lag behind breathing
        const double hr = 63.0 + 12.0 * (vol - 0.5) + 1.5 * std::sin(6.283185307179586 * t / 140.0) + 0.8 * noise.Normal();
        const double ibi = 60000.0 / hr;
        t += ibi / 1000.0;
        truth.push_back({t, ibi});
    }

    // beats.csv: what the sensor delivered, with artifacts and the drop-out.
    struct Rec { double t, ibi; const char* flag; };
    std::vector<Rec> rec;
    double last_t = 0;
    bool ectopic_done = false, missed_done = false;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        const TrueBeat& b = truth[i];
        if (lost(b.t)) continue;
        if (!ectopic_done && b.t > 100.0 && i + 1 < truth.size()) {
            // A premature beat 30 % early and its compensatory pause.
            const double early = b.ibi * 0.7;
            rec.push_back({last_t + early / 1000.0, early, "ectopic"});
            const double pause = b.ibi * 0.3 + truth[i + 1].ibi;
            rec.push_back({truth[i + 1].t, pause, "ectopic"});
            last_t = truth[i + 1].t;
            ++i;
            ectopic_done = true;
            continue;
        }
        if (!missed_done && b.t > 250.0 && i + 1 < truth.size()) {
            rec.push_back({truth[i + 1].t, b.ibi + truth[i + 1].ibi, "missed"});
            last_t = truth[i + 1].t;
            ++i;
            missed_done = true;
            continue;
        }
        if (!rec.empty() && b.t - last_t > 2.0) {  // first beat after the drop-out
            rec.push_back({b.t, (b.t - last_t) * 1000.0, "implausible"});
        } else {
            rec.push_back({b.t, b.ibi, "ok"});
        }
        last_t = b.t;
    }
    f = std::fopen((folder / "beats.csv").c_str(), "w");
    std::fprintf(f, "t_s,ibi_ms,flag,hr_bpm\n");
    for (const Rec& r : rec) std::fprintf(f, "%.3f,%.1f,%s,%.1f\n", r.t, r.ibi, r.flag, 60000.0 / r.ibi);
    std::fclose(f);

    // waveform.csv: a pulse-shaped PPG at 25 Hz (absent during the drop-out).
    f = std::fopen((folder / "waveform.csv").c_str(), "w");
    std::fprintf(f, "t_s,value\n");
    std::size_t k = 0;
    for (int i = 0; i < static_cast<int>(kDuration * 25); ++i) {
        const double ts = i / 25.0;
        if (lost(ts)) continue;
        while (k + 1 < truth.size() && truth[k + 1].t <= ts) ++k;
        const double start = truth[k].t, len = k + 1 < truth.size() ? truth[k + 1].t - start : 1.0;
        const double ph = (ts - start) / len;
        const double v = 500 + 180 * std::exp(-std::pow((ph - 0.2) / 0.1, 2)) + 60 * std::exp(-std::pow((ph - 0.5) / 0.12, 2));
        std::fprintf(f, "%.2f,%.1f\n", ts, v);
    }
    std::fclose(f);

    // metrics.csv: once a second, from the live trackers fed the true (corrected) beats.
    attune::dsp::CoherenceTracker coherence;
    attune::dsp::SpectrumTracker spectrum;
    std::vector<double> coh_values, rates, rsas;
    std::size_t following = 0;
    f = std::fopen((folder / "metrics.csv").c_str(), "w");
    std::fprintf(f, "t_s,hr_bpm,rmssd_ms,sdnn_ms,coherence,lf_ms2,hf_ms2,lf_peak_hz,breathing_rate_bpm,rsa_bpm,"
                    "phase_lag_deg,quality\n");
    std::size_t next = 0;
    for (int s = 1; s <= static_cast<int>(kDuration); ++s) {
        while (next < truth.size() && truth[next].t <= s) {
            if (!lost(truth[next].t)) {
                coherence.push(truth[next].t, truth[next].ibi);
                spectrum.push(truth[next].t, truth[next].ibi);
            }
            ++next;
        }
        std::vector<double> window;
        double hr_sum = 0;
        int hr_n = 0;
        for (std::size_t i = 0; i < next; ++i) {
            if (lost(truth[i].t)) continue;
            if (truth[i].t > s - 60) window.push_back(truth[i].ibi);
            if (truth[i].t > s - 5) hr_sum += 60000.0 / truth[i].ibi, ++hr_n;
        }
        const auto td = attune::dsp::compute_time_domain(window);
        const auto& co = coherence.update(s);
        const auto& sp = spectrum.update(s);
        const bool signal = !lost(s - 0.5);
        std::string row = std::to_string(s) + ",";
        row += (signal && hr_n > 0) ? F(hr_sum / hr_n, 1) : "";
        row += ",";
        row += (signal && td.valid && s >= 30) ? F(td.rmssd_ms, 1) + "," + F(td.sdnn_ms, 1) : ",";
        row += ",";
        if (signal && co.valid) {
            row += F(co.score, 3);
            coh_values.push_back(std::round(co.score * 1000) / 1000);
        }
        row += ",";
        row += (signal && sp.valid) ? F(sp.lf_ms2, 1) + "," + F(sp.hf_ms2, 1) + "," +
                                          (sp.lf_peak_hz ? F(*sp.lf_peak_hz, 4) : std::string())
                                    : ",,";
        row += ",";
        if (signal && s >= 30) {
            const double rate = std::round((paused(s) ? 7.5 : 6.0 + 0.3 * noise.Normal()) * 10) / 10;
            const double rsa = std::round((11.5 + 1.5 * noise.Normal()) * 10) / 10;
            rates.push_back(rate);
            rsas.push_back(rsa);
            if (std::fabs(rate - 6.0) <= 1.0) ++following;
            row += F(rate, 1) + "," + F(rsa, 1) + "," + F(35 + 5 * noise.Normal(), 0);
        } else {
            row += ",,";
        }
        row += signal ? ",good" : ",no_pulse";
        std::fprintf(f, "%s\n", row.c_str());
    }
    std::fclose(f);

    // events.csv, with a quoted text holding a comma and quotes.
    f = std::fopen((folder / "events.csv").c_str(), "w");
    std::fprintf(f, "t_s,kind,text\n0.000,start,\n60.200,marker,Felt calm\n150.000,pause,\n160.000,resume,\n"
                    "200.000,device_lost,Simulated heart: no data for 2 s\n206.500,device_back,\n240.000,marker,%s\n"
                    "300.000,stop,\n",
                 CsvField(kMarker2).c_str());
    std::fclose(f);

    // session.json with the summary the recorder would have written.
    SessionMeta m;
    m.id = kSessionId;
    m.profile = "river";
    m.started_utc = "2026-11-23T17:45:12Z";
    m.ended_utc = "2026-11-23T17:50:22Z";
    m.status = "complete";
    m.pattern = PatternToJson(pattern);
    m.source = "Simulated heart";
    m.beat_source = "intervals reported by the sensor";
    m.distress_before = 6;
    m.distress_after = 3;
    m.note = kNote;
    RecordedSummary& r = m.summary;
    r.duration_s = kDuration;
    std::vector<double> ok;
    for (const Rec& x : rec)
        if (std::string(x.flag) == "ok") ok.push_back(x.ibi);
        else ++r.artifacts_flagged;
    r.beats = ok.size();
    const auto td = attune::dsp::compute_time_domain(ok);
    r.hr_mean_bpm = std::round(td.mean_hr_bpm * 100) / 100;
    r.rmssd_ms = std::round(td.rmssd_ms * 100) / 100;
    r.sdnn_ms = std::round(td.sdnn_ms * 100) / 100;
    double sum = 0, peak = 0;
    std::size_t high = 0;
    for (double c : coh_values) sum += c, peak = std::max(peak, c), high += c >= 1.0 ? 1 : 0;
    r.coherence_mean = std::round(sum / coh_values.size() * 1000) / 1000;
    r.coherence_peak = peak;
    r.high_coherence_pct = std::round(100.0 * high / coh_values.size() * 10) / 10;
    double rsa_sum = 0;
    for (double x : rsas) rsa_sum += x;
    r.rsa_mean_bpm = std::round(rsa_sum / rsas.size() * 100) / 100;
    std::vector<double> sorted = rates;
    std::sort(sorted.begin(), sorted.end());
    r.breathing_rate_bpm = sorted[sorted.size() / 2];
    r.pacer_following_pct = std::round(100.0 * following / rates.size() * 10) / 10;
    r.breaths = static_cast<std::size_t>(pacer.At(active(kDuration)).breath_count);
    r.markers = 2;
    std::ofstream(folder / "session.json") << SessionMetaToJson(m).dump(2) << "\n";
    return m;
}

fs::path Fixture(const std::string& name) {
    const fs::path folder = TmpDir(name) / kSessionId;
    MakeSessionBasic(folder);
    return folder;
}

SessionData LoadOk(const fs::path& folder, const SessionLoadOptions& o = {}) {
    std::string error;
    auto d = LoadSession(folder, error, o);
    INFO(error);
    REQUIRE(d.has_value());
    return *d;
}

// No "nan"/"inf" printed as a number anywhere.
bool HasNonFiniteNumber(const std::string& html) {
    static const std::regex re("[^A-Za-z](-?nan|-?inf)[^A-Za-z]", std::regex::icase);
    return std::regex_search(html, re);
}

}  // namespace

TEST_CASE("session data: loads every stream of the fixture", "[report]") {
    const fs::path folder = Fixture("load");
    const SessionData d = LoadOk(folder);
    CHECK(d.meta.id == kSessionId);
    CHECK(d.meta.profile == "river");
    CHECK(d.meta.note == kNote);
    CHECK(d.beats.size() > 280);
    CHECK(d.pacer.size() == 3001);
    CHECK(d.metrics.size() == 300);
    CHECK(d.waveform.empty());  // not asked for: the report does not need it
    REQUIRE(d.events.size() == 8);
    CHECK(d.events[6].kind == "marker");
    CHECK(d.events[6].text == kMarker2);  // quoted field with comma and doubled quotes
    CHECK(d.events[4].text == "Simulated heart: no data for 2 s");
    CHECK(d.warnings.empty());
    // Empty metric cells are "not available", not 0.
    CHECK_FALSE(d.metrics.front().coherence.has_value());
    CHECK(d.metrics.back().coherence.has_value());
    std::size_t flagged = 0;
    for (const auto& b : d.beats) flagged += b.flag != "ok";
    CHECK(flagged == d.meta.summary.artifacts_flagged);
}

TEST_CASE("session data: a pacer row whose breath count is not a whole number in range is skipped", "[report]") {
    // Found by the session_load fuzzer: "1e93" in the breath column was converted to int64
    // (undefined behaviour). Such a row is damaged; the good rows around it are kept.
    const fs::path folder = Fixture("breath-count");
    std::ofstream(folder / "pacer.csv", std::ios::trunc) << "t_s,phase,volume,rate_bpm,breath\n"
                                                            "0.0,inhale,0.0,6,0\n"
                                                            "0.1,inhale,0.1,6,1e93\n"
                                                            "0.2,inhale,0.2,6,-1\n"
                                                            "0.3,inhale,0.3,6,nan\n"
                                                            "0.4,inhale,0.4,6,2.5\n"
                                                            "0.5,inhale,0.5,6,9.3e18\n"
                                                            "0.6,exhale,0.6,6,3\n"
                                                            "0.7,exhale,0.5,6,\n";
    const SessionData d = LoadOk(folder);
    REQUIRE(d.pacer.size() == 3);
    CHECK(d.pacer[0].breath == 0);
    CHECK(d.pacer[1].breath == 3);
    CHECK(d.pacer[1].t_s == Approx(0.6).margin(1e-12));
    CHECK(d.pacer[2].breath == 0);  // empty cell: not recorded
    std::string all;
    for (const auto& w : d.warnings) all += w + "\n";
    INFO(all);
    CHECK(all.find("pacer.csv: 5 malformed row(s) skipped") != std::string::npos);
    // Recovery's summary reads the same column: the largest valid count, not 1e93 (also UB).
    CHECK(SummarizeFromStreams(folder).breaths == 3);
    CHECK(IsBreathCount(0.0));
    CHECK(IsBreathCount(1e9));
    CHECK_FALSE(IsBreathCount(-1.0));
    CHECK_FALSE(IsBreathCount(2.5));
    CHECK_FALSE(IsBreathCount(1e93));
    CHECK_FALSE(IsBreathCount(std::nan("")));
}

TEST_CASE("session data: truncated last lines, missing streams, odd rows", "[report]") {
    const fs::path folder = Fixture("tolerant");
    const std::size_t beats_before = LoadOk(folder).beats.size();
    // A crash mid-write: the last line has no newline and a cut-off number.
    { std::ofstream(folder / "beats.csv", std::ios::app) << "301.2,8"; }
    { std::ofstream(folder / "events.csv", std::ios::app) << "301.0,marker,\"unfinished"; }
    { std::ofstream(folder / "metrics.csv", std::ios::app) << "garbage,row\n301,62.0,x\n"; }
    fs::remove(folder / "pacer.csv");
    fs::remove(folder / "waveform.csv");
    SessionData d = LoadOk(folder, SessionLoadOptions{true, 1000});
    CHECK(d.beats.size() == beats_before);
    CHECK(d.events.size() == 8);
    CHECK(d.pacer.empty());
    CHECK(d.waveform.empty());
    CHECK(d.metrics.size() == 300);
    std::string all;
    for (const auto& w : d.warnings) all += w + "\n";
    INFO(all);
    CHECK(all.find("beats.csv: incomplete last line dropped") != std::string::npos);
    CHECK(all.find("events.csv: incomplete last line dropped") != std::string::npos);
    CHECK(all.find("metrics.csv: 2 malformed row(s) skipped") != std::string::npos);
    CHECK(all.find("pacer.csv") == std::string::npos);  // optional: silently absent

    // The report still renders, without the pacer band and without broken numbers.
    const std::string html = RenderReportHtml(d);
    CHECK(html.find("incomplete last line dropped") != std::string::npos);
    CHECK_FALSE(HasNonFiniteNumber(html));
}

TEST_CASE("session data: bad session folders are errors, not crashes", "[report]") {
    const fs::path dir = TmpDir("bad");
    std::string error;
    CHECK_FALSE(LoadSession(dir / "nope", error).has_value());
    CHECK_FALSE(error.empty());
    CHECK_FALSE(LoadSession(dir, error).has_value());  // no session.json
    CHECK(error.find("session.json") != std::string::npos);
    std::ofstream(dir / "session.json") << "[1, 2";
    CHECK_FALSE(LoadSession(dir, error).has_value());
    std::ofstream(dir / "session.json") << "{\"id\": 5, \"profile\": \"p\"}";
    auto d = LoadSession(dir, error);
    REQUIRE(d.has_value());  // wrong types are warnings
    CHECK_FALSE(d->warnings.empty());
}

TEST_CASE("session data: the waveform is decimated to a bounded size", "[report]") {
    const fs::path folder = Fixture("wave");
    const SessionData d = LoadOk(folder, SessionLoadOptions{true, 1000});
    // 7337 samples or so at 25 Hz: halved until under 1000.
    CHECK(d.waveform.size() <= 1000);
    CHECK(d.waveform.size() > 400);
    CHECK(d.waveform_stride == 8);
    for (std::size_t i = 1; i < d.waveform.size(); ++i) REQUIRE(d.waveform[i].t_s > d.waveform[i - 1].t_s);
    CHECK(d.waveform.front().t_s == Approx(0.0));
}

TEST_CASE("report: self-contained HTML with charts, figures and escaped text", "[report]") {
    const fs::path folder = Fixture("html");
    const SessionData d = LoadOk(folder);
    const std::string html = RenderReportHtml(d);
    const RecordedSummary& s = d.meta.summary;

    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    // Nothing to fetch: no URL of any kind, no script, no external resource.
    CHECK(html.find("http://") == std::string::npos);
    CHECK(html.find("https://") == std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("src=") == std::string::npos);
    CHECK(html.find("url(") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
    CHECK(html.find("<link") == std::string::npos);
    // Print styles.
    CHECK(html.find("@media print") != std::string::npos);
    CHECK(html.find("size: A4") != std::string::npos);
    CHECK(html.find("break-before: page") != std::string::npos);

    // Three charts (heart rate, coherence, spectrum) plus the two rating bars.
    CHECK(Count(html, "<svg class=\"chart\"") == 3);
    CHECK(html.find("Heart rate over the breathing pacer") != std::string::npos);
    CHECK(html.find("Coherence over time") != std::string::npos);
    CHECK(html.find("Spectrum of the heart rhythm") != std::string::npos);
    CHECK(html.find("LF peak") != std::string::npos);
    CHECK(html.find("<path d=\"M") != std::string::npos);  // pacer band
    CHECK(html.find("<polyline") != std::string::npos);    // HR and coherence lines
    CHECK_FALSE(HasNonFiniteNumber(html));

    // Summary figures formatted as documented.
    CHECK(html.find(F(*s.hr_mean_bpm, 1) + " <small>bpm") != std::string::npos);
    CHECK(html.find(F(*s.rmssd_ms, 1) + " <small>ms") != std::string::npos);
    CHECK(html.find(F(*s.sdnn_ms, 1) + " <small>ms") != std::string::npos);
    CHECK(html.find(F(*s.coherence_mean, 2)) != std::string::npos);
    CHECK(html.find(F(*s.coherence_peak, 2)) != std::string::npos);
    CHECK(html.find(F(*s.high_coherence_pct, 0) + " <small>%") != std::string::npos);
    CHECK(html.find(F(*s.rsa_mean_bpm, 1) + " <small>bpm") != std::string::npos);
    CHECK(html.find(F(*s.breathing_rate_bpm, 1) + " <small>breaths/min") != std::string::npos);
    CHECK(html.find("pacer: 6.0 breaths/min") != std::string::npos);
    CHECK(html.find(F(*s.pacer_following_pct, 0) + " <small>%") != std::string::npos);
    CHECK(html.find(">" + std::to_string(s.breaths) + "<") != std::string::npos);
    CHECK(html.find(">" + std::to_string(s.artifacts_flagged) + " <small>of") != std::string::npos);

    // Header.
    CHECK(html.find("Session report &mdash; river") != std::string::npos);
    CHECK(html.find("Coherent 6/min &mdash; 6 breaths/min (inhale 5 s, exhale 5 s)") != std::string::npos);
    CHECK(html.find("5 min 00 s") != std::string::npos);
    CHECK(html.find("local time") != std::string::npos);
    CHECK(html.find("Simulated heart") != std::string::npos);
    CHECK(html.find("intervals reported by the sensor") != std::string::npos);

    // User text escaped everywhere it appears (note, event table, chart labels).
    CHECK(html.find("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;") != std::string::npos);
    CHECK(html.find("Dizzy &lt;b&gt;&amp; &quot;tingly&quot;&lt;/b&gt;, then fine") != std::string::npos);
    CHECK(html.find("<b>&") == std::string::npos);

    // Ratings and events with gap durations.
    CHECK(html.find("<strong>6</strong> / 10") != std::string::npos);
    CHECK(html.find("<strong>3</strong> / 10") != std::string::npos);
    CHECK(html.find("calmer after the session") != std::string::npos);
    CHECK(html.find("resumed after 10 s") != std::string::npos);
    CHECK(html.find("back after 6.5 s") != std::string::npos);
    CHECK(html.find("gap of 6.5 s") != std::string::npos);
    CHECK(html.find("1:00</td><td>Marker</td><td>Felt calm") != std::string::npos);
}

TEST_CASE("report: missing data reads 'not available'", "[report]") {
    const fs::path folder = TmpDir("empty") / "s";
    fs::create_directories(folder);
    SessionMeta m;
    m.id = "s";
    m.status = "recording";
    std::ofstream(folder / "session.json") << SessionMetaToJson(m).dump();
    const SessionData d = LoadOk(folder);
    const std::string html = RenderReportHtml(d);
    CHECK(Count(html, "not available") >= 17);  // 12 figures and 5 header lines
    CHECK(Count(html, "<svg class=\"chart\"") == 0);
    CHECK(html.find("Not available: no heart beats") != std::string::npos);
    CHECK(html.find("Not available: the spectrum needs") != std::string::npos);
    CHECK(html.find("still recording") != std::string::npos);
    CHECK_FALSE(HasNonFiniteNumber(html));
    CHECK(html.find("http://") == std::string::npos);
}

TEST_CASE("report: a two-hour session still makes a page of bounded size", "[report]") {
    SessionData d;
    d.meta.id = "long";
    d.meta.summary.duration_s = 7200;
    Noise noise;
    double t = 0.5;
    while (t < 7200) {
        const double ibi = 900 + 40 * std::sin(t * 0.628) + 10 * noise.Normal();
        t += ibi / 1000;
        d.beats.push_back({t, ibi, "ok", 60000.0 / ibi});
    }
    for (int i = 0; i < 72000; ++i)
        d.pacer.push_back({i / 10.0, "inhale", 0.5 + 0.5 * std::sin(i / 10.0 * 0.628), 6.0, i / 100});
    for (int s = 1; s <= 7200; ++s) {
        MetricsRow m;
        m.t_s = s;
        m.coherence = 1.0 + 0.5 * std::sin(s / 300.0);
        d.metrics.push_back(m);
    }
    const std::string html = RenderReportHtml(d);
    CHECK(Count(html, "<svg class=\"chart\"") == 3);
    CHECK(html.size() < 200 * 1024);
    CHECK(Count(html, "<polyline") == 3);  // one unbroken line per chart
    CHECK(html.find("LF peak 0.100 Hz") != std::string::npos);
    CHECK_FALSE(HasNonFiniteNumber(html));

    // A constant series has no spectrum: said so, rather than a flat chart of zeros.
    for (auto& b : d.beats) b.ibi_ms = 900;
    const std::string flat = RenderReportHtml(d);
    CHECK(flat.find("Not available: the recorded intervals do not vary") != std::string::npos);
    CHECK(Count(flat, "<svg class=\"chart\"") == 2);
}

TEST_CASE("report: renders in headless Chromium", "[report][chromium]") {
    const auto which = attune::test::RunCommand("command -v chromium || command -v chromium-browser");
    if (which.exit_code != 0 || which.output.empty())
        FAIL("chromium is not installed: run scripts/deps --with-extras (it installs chromium for the report test)");
    std::string chromium = which.output.substr(0, which.output.find('\n'));

    const fs::path dir = TmpDir("chromium");
    const fs::path folder = dir / kSessionId;
    MakeSessionBasic(folder);
    const fs::path html = dir / "report.html";
    const fs::path png = dir / "report.png";
    std::stringstream err;
    REQUIRE(ReportCommand(dir, folder.string(), html, err) == 0);
    const std::string cmd = "timeout 180 " + chromium +
                            " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                            " --disable-background-networking --disable-component-update --disable-sync"
                            " --hide-scrollbars --user-data-dir=" + (dir / "profile").string() +
                            " --screenshot=" + png.string() + " --window-size=1200,2400 file://" + html.string() + " 2>&1";
    const auto r = attune::test::RunCommand(cmd);
    INFO(cmd << "\n" << r.output);
    REQUIRE(fs::exists(png));
    const std::string bytes = ReadAll(png);
    // PNG signature, IHDR size, and enough bytes that it is not a blank page (a blank
    // 1200x2400 PNG compresses to a few kB; charts and text take far more).
    REQUIRE(bytes.size() > 24);
    CHECK(bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
    auto be32 = [&bytes](std::size_t at) {
        return (static_cast<unsigned>(static_cast<unsigned char>(bytes[at])) << 24) |
               (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
               (static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
               static_cast<unsigned>(static_cast<unsigned char>(bytes[at + 3]));
    };
    CHECK(bytes.compare(12, 4, "IHDR") == 0);
    CHECK(be32(16) == 1200);
    CHECK(be32(20) == 2400);
    CHECK(bytes.size() > 20 * 1024);
}

TEST_CASE("exports: RR text for Kubios, plain RR, normalised CSV", "[report]") {
    const fs::path dir = TmpDir("export");
    const fs::path folder = dir / kSessionId;
    MakeSessionBasic(folder);
    const SessionData d = LoadOk(folder);

    SECTION("RR text") {
        REQUIRE(ExportRrText(d, dir / "rr.txt").empty());
        const auto lines = Lines(ReadAll(dir / "rr.txt"));
        REQUIRE(!lines.empty());
        std::smatch m;
        REQUIRE(std::regex_search(lines[0], m, std::regex("skip (\\d+) header lines")));
        const std::size_t skip = std::stoul(m[1]);
        REQUIRE(lines.size() > skip);
        for (std::size_t i = 0; i + 1 < skip; ++i) CHECK(lines[i].rfind("#", 0) == 0);
        CHECK(lines[skip - 1] == "time_s\trr_ms\tflag\tpacer_rate_bpm\tpacer_phase\tannotation");
        CHECK(lines.size() - skip == d.beats.size());
        bool saw_marker = false, saw_ectopic = false;
        for (std::size_t i = skip; i < lines.size(); ++i) {
            const auto cells = SplitTabs(lines[i]);
            REQUIRE(cells.size() == 6);
            const BeatRow& b = d.beats[i - skip];
            CHECK(std::stod(cells[0]) == Approx(b.t_s).margin(0.0005));
            CHECK(std::stod(cells[1]) == Approx(b.ibi_ms).margin(0.05));
            CHECK(cells[2] == b.flag);
            CHECK(!cells[4].empty());
            saw_marker |= cells[5].find("marker: Felt calm") != std::string::npos;
            saw_ectopic |= cells[2] == "ectopic";
        }
        CHECK(saw_marker);
        CHECK(saw_ectopic);
        // The last beat carries the events after it (the stop).
        CHECK(lines.back().find("stop") != std::string::npos);
    }
    SECTION("plain RR") {
        REQUIRE(ExportRrPlain(d, dir / "rr-plain.txt").empty());
        const auto lines = Lines(ReadAll(dir / "rr-plain.txt"));
        REQUIRE(lines.size() == d.beats.size());
        for (std::size_t i = 0; i < lines.size(); ++i) {
            REQUIRE(std::regex_match(lines[i], std::regex("\\d+\\.\\d")));
            CHECK(std::stod(lines[i]) == Approx(d.beats[i].ibi_ms).margin(0.05));
        }
    }
    SECTION("CSV folder round-trips") {
        REQUIRE(ExportCsv(d, dir / "csv").empty());
        for (const char* f : {"session.json", "beats.csv", "pacer.csv", "metrics.csv", "events.csv", "waveform.csv"})
            CHECK(fs::exists(dir / "csv" / f));
        CHECK(ReadAll(dir / "csv" / "waveform.csv") == ReadAll(folder / "waveform.csv"));
        const SessionData e = LoadOk(dir / "csv");
        CHECK(e.warnings.empty());
        REQUIRE(e.beats.size() == d.beats.size());
        REQUIRE(e.metrics.size() == d.metrics.size());
        REQUIRE(e.events.size() == d.events.size());
        CHECK(e.pacer.size() == d.pacer.size());
        for (std::size_t i = 0; i < d.beats.size(); ++i) {
            CHECK(e.beats[i].ibi_ms == d.beats[i].ibi_ms);
            CHECK(e.beats[i].flag == d.beats[i].flag);
        }
        for (std::size_t i = 0; i < d.metrics.size(); ++i) CHECK(e.metrics[i].coherence == d.metrics[i].coherence);
        for (std::size_t i = 0; i < d.events.size(); ++i) CHECK(e.events[i].text == d.events[i].text);
        CHECK(e.meta.note == d.meta.note);
    }
    SECTION("unwritable destination") {
        std::ofstream(dir / "a-file") << "x";
        CHECK_FALSE(ExportRrText(d, dir / "a-file" / "rr.txt").empty());
        CHECK_FALSE(ExportRrPlain(d, dir / "a-file" / "rr.txt").empty());
        CHECK_FALSE(ExportCsv(d, dir / "a-file" / "csv").empty());
    }
}

TEST_CASE("attune report: finds sessions by id or folder, exit codes", "[report]") {
    const fs::path data_dir = TmpDir("command");
    const fs::path folder = data_dir / "profiles" / "river" / "sessions" / kSessionId;
    MakeSessionBasic(folder);
    fs::create_directories(data_dir / "profiles" / "sea" / "sessions");
    const fs::path out = data_dir / "report.html";

    std::stringstream err;
    CHECK(ReportCommand(data_dir, kSessionId, out, err) == 0);
    CHECK(err.str().empty());
    CHECK(ReadAll(out).find("Session report &mdash; river") != std::string::npos);
    CHECK((fs::status(out).permissions() & fs::perms::others_read) == fs::perms::none);  // health data

    fs::remove(out);
    CHECK(ReportCommand("/nonexistent", folder.string(), out, err) == 0);  // a folder needs no data dir
    CHECK(fs::exists(out));

    auto fails = [&](const std::string& session, const fs::path& o, const std::string& message) {
        std::stringstream e;
        CHECK(ReportCommand(data_dir, session, o, e) == 3);
        INFO(e.str());
        CHECK(e.str().find(message) != std::string::npos);
    };
    fails("20990101-000000-nope", out, "no session '20990101-000000-nope'");
    fails("", out, "no session given");
    fails((data_dir / "profiles").string(), out, "holds no session.json");
    fails("../river", out, "no such session folder");
    fails(kSessionId, data_dir / "missing-folder" / "r.html", "does not exist");
    std::ofstream(data_dir / "a-file") << "x";
    fails(kSessionId, data_dir / "a-file" / "r.html", "does not exist");
    fails(kSessionId, data_dir, "it is a folder");

    // The same id in two profiles is ambiguous.
    MakeSessionBasic(data_dir / "profiles" / "sea" / "sessions" / kSessionId);
    fails(kSessionId, out, "several profiles");

    // An unreadable session.json.
    const fs::path broken = data_dir / "broken";
    fs::create_directories(broken);
    std::ofstream(broken / "session.json") << "not json";
    fails(broken.string(), out, "not a session description");
}

TEST_CASE("committed fixture matches the generator", "[report]") {
    const fs::path committed = fs::path(ATTUNE_SOURCE_DIR) / "tests" / "core" / "fixtures" / "session-basic";
    const fs::path fresh = Fixture("committed");
    const SessionData a = LoadOk(committed);
    const SessionData b = LoadOk(fresh);
    INFO("regenerate with: core_test_report \"[.regenerate]\"");
    CHECK(a.beats.size() == b.beats.size());
    CHECK(a.pacer.size() == b.pacer.size());
    CHECK(a.metrics.size() == b.metrics.size());
    CHECK(a.events.size() == b.events.size());
    CHECK(a.meta.note == b.meta.note);
    const auto& x = a.meta.summary;
    const auto& y = b.meta.summary;
    CHECK(x.beats == y.beats);
    CHECK(x.artifacts_flagged == y.artifacts_flagged);
    CHECK(*x.rmssd_ms == Approx(*y.rmssd_ms).epsilon(1e-6));
    CHECK(*x.coherence_mean == Approx(*y.coherence_mean).epsilon(1e-6));
    CHECK(a.warnings.empty());
}

TEST_CASE("regenerate the committed fixture", "[.regenerate]") {
    const fs::path committed = fs::path(ATTUNE_SOURCE_DIR) / "tests" / "core" / "fixtures" / "session-basic";
    fs::remove_all(committed);
    MakeSessionBasic(committed);
    SUCCEED("wrote " << committed.string());
}
