#include "attune/core/report.hpp"
#include "attune/core/json_text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <ostream>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attune/core/fs_util.hpp"
#include "attune/core/pattern.hpp"
#include "attune/dsp/artifacts.hpp"
#include "attune/dsp/coherence.hpp"
#include "attune/dsp/hrv_freq.hpp"
#include "attune/dsp/types.hpp"

namespace attune::core {

namespace {

// ---------------------------------------------------------------------------------------------
// Text and number formatting. Numbers go through to_chars so the output never depends on the
// process locale (a German locale would otherwise print "64,2").

std::string Fixed(double v, int decimals) {
    if (!std::isfinite(v)) return "-";
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    std::string s(buf, res.ptr);
    // "-0.0" reads as a sign error in a report.
    if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
    return s;
}

// Shortest text that reads back to the same double (for CSV normalisation: no precision lost).
std::string Exact(double v) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

// Up to `max_decimals`, trailing zeros removed ("5", "5.5").
std::string Trimmed(double v, int max_decimals) {
    std::string s = Fixed(v, max_decimals);
    if (s.find('.') != std::string::npos) {
        while (!s.empty() && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
    }
    return s;
}

const char* kNotAvailable = "<span class=\"na\">not available</span>";

std::string ValueWithUnit(const std::optional<double>& v, int decimals, const std::string& unit) {
    if (!v || !std::isfinite(*v)) return kNotAvailable;
    return Fixed(*v, decimals) + (unit.empty() ? "" : " <small>" + unit + "</small>");
}

// Cuts at a UTF-8 character boundary so a label never ends in half a character.
std::string Ellipsize(const std::string& s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return s;
    std::size_t n = max_bytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n) + "\u2026";
}

// For one-line contexts (TSV cells, '#' comments): no TAB or line break may survive.
std::string OneLine(const std::string& s) {
    std::string o = s;
    for (char& c : o)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return o;
}

std::string Clock(double t_s) {  // "m:ss" or "h:mm:ss"
    if (!std::isfinite(t_s) || t_s < 0) t_s = 0;
    const long total = std::lround(t_s);
    char buf[32];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, (total / 60) % 60, total % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
    return buf;
}

std::string Span(double s) {  // a duration in words: "6.2 s", "1 min 05 s", "1 h 02 min"
    if (!std::isfinite(s) || s < 0) return "not available";
    if (s < 60) return Trimmed(s, s < 10 ? 1 : 0) + " s";
    const long total = std::lround(s);
    char buf[48];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%ld h %02ld min", total / 3600, (total / 60) % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld min %02ld s", total / 60, total % 60);
    return buf;
}

// "2026-11-23T17:45:12Z" (fraction and offset tolerated) -> time_t; false when unparseable.
bool ParseIsoUtc(const std::string& iso, std::time_t& out) {
    int y = 0, mo = 0, d = 0, h = 0, mi = 0;
    double sec = 0;
    if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%lf", &y, &mo, &d, &h, &mi, &sec) != 6) return false;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = static_cast<int>(sec);
    std::time_t t = ::timegm(&tm);
    // A numeric offset ("+01:00") instead of Z: convert to UTC.
    const std::size_t tpos = iso.find('T');
    const std::size_t off = iso.find_first_of("+-", tpos == std::string::npos ? 0 : tpos);
    if (off != std::string::npos) {
        int oh = 0, om = 0;
        if (std::sscanf(iso.c_str() + off + 1, "%d:%d", &oh, &om) >= 1)
            t -= (iso[off] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
    out = t;
    return true;
}

// Local date and time with the timezone named, so a printed report is unambiguous.
std::string LocalDateTime(const std::string& iso_utc) {
    std::time_t t{};
    if (!ParseIsoUtc(iso_utc, t)) return {};
    std::tm lt{};
    if (!::localtime_r(&t, &lt)) return {};
    char date[96], zone[32], offset[16];
    std::strftime(date, sizeof date, "%A %d %B %Y, %H:%M", &lt);
    std::strftime(zone, sizeof zone, "%Z", &lt);
    std::strftime(offset, sizeof offset, "%z", &lt);
    std::string off = offset;  // "+0100" -> "UTC+01:00"
    if (off.size() == 5) off = "UTC" + off.substr(0, 3) + ":" + off.substr(3);
    std::string s = date;
    s += " (local time, ";
    s += zone;
    const std::string z = zone;
    if (z != "UTC" && z != "GMT" && off != z) s += ", " + off;
    s += ")";
    return s;
}

// ---------------------------------------------------------------------------------------------
// What the report derives from the data.

struct Interval {
    double from_s = 0, to_s = 0;
    bool closed = false;
};

// pause..resume and device_lost..device_back spans (an unclosed one runs to the end).
std::vector<Interval> Spans(const std::vector<EventRow>& events, const char* open, const char* close, double end_s) {
    std::vector<Interval> out;
    // bool + double rather than optional<double>: GCC 12 reports a false maybe-uninitialized.
    bool is_open = false;
    double start = 0.0;
    for (const EventRow& e : events) {
        if (e.kind == open && !is_open) {
            start = e.t_s;
            is_open = true;
        } else if (e.kind == close && is_open) {
            out.push_back({start, e.t_s, true});
            is_open = false;
        }
    }
    if (is_open) out.push_back({start, std::max(end_s, start), false});
    return out;
}

double SessionDurationS(const SessionData& d) {
    if (d.meta.summary.duration_s > 0 && std::isfinite(d.meta.summary.duration_s)) return d.meta.summary.duration_s;
    return d.LastTimeS();
}

// The pacer's rate over the session: median of the recorded rates while paced.
std::optional<double> PacerRateBpm(const SessionData& d, const std::optional<BreathPattern>& pattern) {
    std::vector<double> r;
    for (const PacerRow& p : d.pacer)
        if (p.rate_bpm && *p.rate_bpm > 0 && p.phase != "paused" && p.phase != "natural") r.push_back(*p.rate_bpm);
    if (!r.empty()) {
        std::nth_element(r.begin(), r.begin() + r.size() / 2, r.end());
        return r[r.size() / 2];
    }
    if (pattern && pattern->paced) return pattern->BaseRateBpm();
    return std::nullopt;
}

double BeatHr(const BeatRow& b) {
    if (b.hr_bpm && *b.hr_bpm > 0) return *b.hr_bpm;
    return b.ibi_ms > 0 ? 60000.0 / b.ibi_ms : 0.0;
}

bool PlottableBeat(const BeatRow& b) {
    const double hr = BeatHr(b);
    return b.flag == "ok" && hr >= 30 && hr <= 220;
}

struct SpectrumResult {
    dsp::FrequencyDomainMetrics fd;
    std::size_t n_input = 0;      // recorded intervals
    std::size_t n_corrected = 0;  // intervals the correction changed, added or removed
};

SpectrumResult ComputeSpectrum(const SessionData& d) {
    SpectrumResult r;
    std::vector<dsp::Beat> beats;
    beats.reserve(d.beats.size());
    for (const BeatRow& b : d.beats)
        if (b.ibi_ms > 0 && std::isfinite(b.ibi_ms)) beats.push_back({b.t_s, b.ibi_ms, 0.0});
    r.n_input = beats.size();
    if (beats.size() < 4) return r;
    // Offline correction (the full Lipponen-Tarvainen method with centred windows), not the live
    // flags: the same series Kubios would analyse after its own correction.
    const dsp::ArtifactResult art = dsp::correct_artifacts(std::span<const dsp::Beat>(beats));
    r.n_corrected = art.counts.flagged();
    std::vector<double> ibi;
    ibi.reserve(art.corrected.size());
    for (const auto& c : art.corrected) ibi.push_back(c.ibi_ms);
    r.fd = dsp::compute_frequency_domain(ibi);
    return r;
}

// ---------------------------------------------------------------------------------------------
// SVG helpers.

double NiceStep(double range, int max_ticks) {
    if (!(range > 0)) return 1.0;
    const double raw = range / max_ticks;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * mag >= raw * (1 - 1e-9)) return m * mag;
    return 10 * mag;
}

int StepDecimals(double step) {
    for (int d = 0; d < 6; ++d) {
        const double scaled = step * std::pow(10.0, d);
        if (std::fabs(scaled - std::round(scaled)) < 1e-6) return d;
    }
    return 6;
}

struct Plot {
    double w = 960, h = 320;
    double left = 62, right = 20, top = 20, bottom = 46;
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;

    double PlotLeft() const { return left; }
    double PlotRight() const { return w - right; }
    double PlotTop() const { return top; }
    double PlotBottom() const { return h - bottom; }
    double X(double v) const { return left + (v - x0) / (x1 - x0) * (w - left - right); }
    double Y(double v) const { return (h - bottom) - (v - y0) / (y1 - y0) * (h - top - bottom); }
};

// Widens the left margin to the longest y tick label, so labels never run into the axis title.
void FitLeftMargin(Plot& p, double ystep) {
    std::size_t chars = 1;
    const int yd = StepDecimals(ystep);
    for (double y = std::ceil(p.y0 / ystep - 1e-9) * ystep; y <= p.y1 + ystep * 1e-6; y += ystep)
        chars = std::max(chars, Fixed(y, yd).size());
    p.left = 34 + 7.2 * static_cast<double>(chars);
}

std::string P(double v) { return Fixed(v, 1); }  // SVG coordinates: 0.1 px is plenty

std::string SvgOpen(const Plot& p, const std::string& title) {
    // No xmlns: inline SVG in HTML does not need it, and the page must hold no URL at all.
    return "<svg class=\"chart\" viewBox=\"0 0 " + Fixed(p.w, 0) + " " + Fixed(p.h, 0) +
           "\" role=\"img\" aria-label=\"" + HtmlEscape(title) + "\"><title>" + HtmlEscape(title) + "</title>\n";
}

void Axes(std::string& s, const Plot& p, double xstep, double ystep, const std::string& xlabel,
          const std::string& ylabel) {
    const int xd = StepDecimals(xstep), yd = StepDecimals(ystep);
    s += "<g class=\"grid\" stroke=\"#e3e8e6\" stroke-width=\"1\">\n";
    for (double y = std::ceil(p.y0 / ystep - 1e-9) * ystep; y <= p.y1 + ystep * 1e-6; y += ystep)
        s += "<line x1=\"" + P(p.PlotLeft()) + "\" x2=\"" + P(p.PlotRight()) + "\" y1=\"" + P(p.Y(y)) + "\" y2=\"" +
             P(p.Y(y)) + "\"/>\n";
    s += "</g>\n<g class=\"ticks\" font-size=\"12\" fill=\"#4a585c\">\n";
    for (double y = std::ceil(p.y0 / ystep - 1e-9) * ystep; y <= p.y1 + ystep * 1e-6; y += ystep)
        s += "<text x=\"" + P(p.PlotLeft() - 6) + "\" y=\"" + P(p.Y(y) + 4) + "\" text-anchor=\"end\">" +
             Fixed(y, yd) + "</text>\n";
    for (double x = std::ceil(p.x0 / xstep - 1e-9) * xstep; x <= p.x1 + xstep * 1e-6; x += xstep) {
        s += "<line x1=\"" + P(p.X(x)) + "\" x2=\"" + P(p.X(x)) + "\" y1=\"" + P(p.PlotBottom()) + "\" y2=\"" +
             P(p.PlotBottom() + 5) + "\" stroke=\"#8a9699\"/>\n";
        s += "<text x=\"" + P(p.X(x)) + "\" y=\"" + P(p.PlotBottom() + 18) + "\" text-anchor=\"middle\">" +
             Fixed(x, xd) + "</text>\n";
    }
    s += "<text x=\"" + P((p.PlotLeft() + p.PlotRight()) / 2) + "\" y=\"" + P(p.h - 6) +
         "\" text-anchor=\"middle\" fill=\"#5b6b70\">" + HtmlEscape(xlabel) + "</text>\n";
    s += "<text transform=\"translate(14 " + P((p.PlotTop() + p.PlotBottom()) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" fill=\"#5b6b70\">" + HtmlEscape(ylabel) + "</text>\n";
    s += "</g>\n<rect x=\"" + P(p.PlotLeft()) + "\" y=\"" + P(p.PlotTop()) + "\" width=\"" +
         P(p.PlotRight() - p.PlotLeft()) + "\" height=\"" + P(p.PlotBottom() - p.PlotTop()) +
         "\" fill=\"none\" stroke=\"#b9c4c1\"/>\n";
}

// A polyline broken wherever consecutive points are more than max_gap apart in x (data units).
void Polylines(std::string& s, const Plot& p, const std::vector<std::pair<double, double>>& pts, double max_gap,
               const std::string& style) {
    std::string cur;
    std::size_t n = 0;
    auto flush = [&] {
        if (n >= 2) s += "<polyline fill=\"none\" " + style + " points=\"" + cur + "\"/>\n";
        else if (n == 1) s += "<circle r=\"1.5\" " + style + " cx=\"" + cur.substr(0, cur.find(',')) + "\" cy=\"" + cur.substr(cur.find(',') + 1) + "\"/>\n";
        cur.clear();
        n = 0;
    };
    for (std::size_t i = 0; i < pts.size(); ++i) {
        if (i > 0 && pts[i].first - pts[i - 1].first > max_gap) flush();
        if (n > 0) cur += ' ';
        cur += P(p.X(pts[i].first)) + "," + P(p.Y(pts[i].second));
        ++n;
    }
    flush();
}

// Averages points into at most `buckets` bins along x, so an hours-long session still draws as a
// few thousand points (bounded page size) without aliasing.
std::vector<std::pair<double, double>> Decimate(const std::vector<std::pair<double, double>>& pts, double x0,
                                                double x1, std::size_t buckets) {
    if (pts.size() <= buckets * 2 || !(x1 > x0)) return pts;
    std::vector<std::pair<double, double>> out;
    const double w = (x1 - x0) / static_cast<double>(buckets);
    std::size_t i = 0;
    while (i < pts.size()) {
        const double b = std::floor((pts[i].first - x0) / w);
        double sx = 0, sy = 0;
        std::size_t n = 0;
        while (i < pts.size() && std::floor((pts[i].first - x0) / w) == b) {
            sx += pts[i].first;
            sy += pts[i].second;
            ++n;
            ++i;
        }
        out.emplace_back(sx / n, sy / n);
    }
    return out;
}

std::string Unavailable(const std::string& why) {
    return "<div class=\"unavailable\">Not available: " + HtmlEscape(why) + "</div>\n";
}

// ---------------------------------------------------------------------------------------------
// Sections.

struct Context {
    explicit Context(const SessionData& data) : d(data) {}
    const SessionData& d;
    double duration_s = 0;
    std::optional<BreathPattern> pattern;
    std::optional<double> pacer_rate_bpm;
    std::vector<Interval> pauses, gaps;
    std::vector<Interval> recovery;  // from the "phase" event "recovery..." to the end
    SpectrumResult spectrum;
};

std::string PatternDescription(const Context& c) {
    const SessionMeta& m = c.d.meta;
    std::string s;
    if (c.pattern) {
        const BreathPattern& p = *c.pattern;
        s = HtmlEscape(p.name.empty() ? p.id : p.name);
        if (!p.paced) {
            s += " &mdash; natural breathing, not paced";
        } else {
            s += " &mdash; " + Trimmed(p.BaseRateBpm(), 1) + " breaths/min (";
            bool first = true;
            for (const Phase& ph : p.phases) {
                if (ph.duration_s <= 0) continue;
                std::string name = PhaseName(ph.kind);
                for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
                s += (first ? "" : ", ") + name + " " + Trimmed(ph.duration_s, 1) + " s";
                first = false;
            }
            s += ")";
            if (p.ramp)
                s += ", gliding from " + Trimmed(p.ramp->from_bpm, 1) + " to " + Trimmed(p.ramp->to_bpm, 1) +
                     " breaths/min over " + Span(p.ramp->over_s);
        }
    } else if (m.pattern.is_object() && m.pattern.contains("name") && m.pattern["name"].is_string()) {
        s = HtmlEscape(m.pattern["name"].get<std::string>());
    }
    if (!m.program.empty()) s += (s.empty() ? "" : "; ") + std::string("program ") + HtmlEscape(m.program);
    return s.empty() ? kNotAvailable : s;
}

std::string HeaderSection(const Context& c) {
    const SessionMeta& m = c.d.meta;
    std::string s = "<header>\n<p class=\"kicker\">Attune &middot; breathing and heart rhythm session</p>\n";
    s += "<h1>Session report" + (m.profile.empty() ? std::string() : " &mdash; " + HtmlEscape(m.profile)) + "</h1>\n";
    s += "<dl class=\"meta\">\n";
    auto row = [&s](const char* k, const std::string& v) {
        s += std::string("<dt>") + k + "</dt><dd>" + v + "</dd>\n";
    };
    const std::string when = LocalDateTime(m.started_utc);
    row("Date and time", when.empty() ? std::string(kNotAvailable)
                                      : HtmlEscape(when) + " <span class=\"dim\">&middot; " +
                                            HtmlEscape(m.started_utc) + "</span>");
    row("Breathing", PatternDescription(c));
    row("Duration", c.duration_s > 0 ? Span(c.duration_s) : std::string(kNotAvailable));
    row("Sensor", m.source.empty() ? std::string(kNotAvailable) : HtmlEscape(m.source));
    row("Beats from", m.beat_source.empty() ? std::string(kNotAvailable) : HtmlEscape(m.beat_source));
    if (m.status == "recovered")
        row("Status", "recovered after an interruption: the figures were rebuilt from the recorded streams");
    else if (m.status == "recording")
        row("Status", "still recording, or interrupted and not yet recovered: figures may be missing");
    s += "</dl>\n</header>\n";
    return s;
}

std::string Figure(const std::string& label, const std::string& value, const std::string& explain) {
    return "<div class=\"fig\"><div class=\"label\">" + label + "</div><div class=\"value\">" + value +
           "</div><div class=\"explain\">" + explain + "</div></div>\n";
}

std::string SummarySection(const Context& c) {
    const RecordedSummary& r = c.d.meta.summary;
    std::string s = "<section id=\"summary\">\n<h2>Summary</h2>\n<div class=\"figures\">\n";
    s += Figure("Mean heart rate", ValueWithUnit(r.hr_mean_bpm, 1, "bpm"),
                "Your average pulse over the session, in beats per minute.");
    s += Figure("RMSSD", ValueWithUnit(r.rmssd_ms, 1, "ms"),
                "Beat-to-beat variability; higher values usually mean a calmer, more relaxed heart.");
    s += Figure("SDNN", ValueWithUnit(r.sdnn_ms, 1, "ms"),
                "Overall spread of the time between beats; slow breathing raises it.");
    s += Figure("Mean coherence", ValueWithUnit(r.coherence_mean, 2, ""),
                "How much your heart rhythm formed one smooth, regular wave (0 to about 2.3; 1 or more is high).");
    s += Figure("Peak coherence", ValueWithUnit(r.coherence_peak, 2, ""),
                "The most coherent minute of the session.");
    s += Figure("Time in high coherence", ValueWithUnit(r.high_coherence_pct, 0, "%"),
                "Share of the measured time with coherence of 1.0 or more.");
    s += Figure("Heart-rate swing per breath (RSA)", ValueWithUnit(r.rsa_mean_bpm, 1, "bpm"),
                "How far your pulse rose on each in-breath and fell on each out-breath, on average.");
    std::string rate = ValueWithUnit(r.breathing_rate_bpm, 1, "breaths/min");
    rate += c.pacer_rate_bpm ? "<br><small>pacer: " + Fixed(*c.pacer_rate_bpm, 1) + " breaths/min</small>"
                             : std::string("<br><small>pacer: not paced</small>");
    s += Figure("Breathing rate (from the heart)", rate,
                "Your breathing rate as read from the rhythm of your pulse, next to the pacer's rate.");
    s += Figure("Following the pacer", ValueWithUnit(r.pacer_following_pct, 0, "%"),
                "Share of the time your breathing was within 1 breath/min of the pacer.");
    s += Figure("Breaths", r.breaths > 0 ? std::to_string(r.breaths) : std::string(kNotAvailable),
                "Breaths guided by the pacer.");
    // Counts of 0 are real only once a summary was written (duration or beats set).
    const bool have_summary = r.duration_s > 0 || r.beats > 0;
    std::string art = have_summary ? std::to_string(r.artifacts_flagged) : std::string(kNotAvailable);
    if (r.beats > 0) art += " <small>of " + std::to_string(r.beats + r.artifacts_flagged) + " intervals</small>";
    s += Figure("Artifacts flagged", art,
                "Intervals that looked like missed, extra or early beats; they were corrected before computing "
                "variability.");
    s += Figure("Markers", have_summary ? std::to_string(r.markers) : std::string(kNotAvailable),
                "Moments you marked during the session (listed below).");
    s += "</div>\n</section>\n";
    return s;
}

std::string MarkerLines(const Context& c, const Plot& p, bool labels) {
    std::string s;
    int k = 0;
    for (const EventRow& e : c.d.events) {
        if (e.kind != "marker") continue;
        const double xm = e.t_s / 60.0;
        if (xm < p.x0 || xm > p.x1) continue;
        const double x = p.X(xm);
        s += "<line x1=\"" + P(x) + "\" x2=\"" + P(x) + "\" y1=\"" + P(p.PlotTop()) + "\" y2=\"" + P(p.PlotBottom()) +
             "\" stroke=\"#6a5a8c\" stroke-width=\"1.2\" stroke-dasharray=\"4 3\"/>\n";
        if (labels) {
            // Alternate two label rows so neighbouring markers do not overprint each other;
            // labels past two thirds of the width hang to the left of their line.
            const double y = p.PlotTop() - 8 - (k % 2) * 15;
            const bool right_side = x > p.PlotLeft() + (p.PlotRight() - p.PlotLeft()) * 0.67;
            const std::string text = e.text.empty() ? "marker" : Ellipsize(OneLine(e.text), 32);
            s += "<text x=\"" + P(right_side ? x - 4 : x + 4) + "\" y=\"" + P(y) + "\" font-size=\"12\" fill=\"#4d3f6e\"" +
                 (right_side ? " text-anchor=\"end\"" : "") + ">" + HtmlEscape(text) + "</text>\n";
        }
        ++k;
    }
    return s;
}

void ShadeSpans(std::string& s, const Plot& p, const std::vector<Interval>& spans, const char* fill,
                const char* label) {
    for (const Interval& iv : spans) {
        const double a = std::clamp(iv.from_s / 60.0, p.x0, p.x1), b = std::clamp(iv.to_s / 60.0, p.x0, p.x1);
        if (b <= a) continue;
        s += "<rect x=\"" + P(p.X(a)) + "\" y=\"" + P(p.PlotTop()) + "\" width=\"" + P(std::max(1.0, p.X(b) - p.X(a))) +
             "\" height=\"" + P(p.PlotBottom() - p.PlotTop()) + "\" fill=\"" + fill + "\"/>\n";
        s += "<text x=\"" + P((p.X(a) + p.X(b)) / 2) + "\" y=\"" + P(p.PlotBottom() - 8) +
             "\" font-size=\"11\" fill=\"#6b7a7e\" text-anchor=\"middle\">" + label + "</text>\n";
    }
}

std::string HeartChart(const Context& c) {
    std::vector<std::pair<double, double>> hr;
    for (const BeatRow& b : c.d.beats)
        if (PlottableBeat(b)) hr.emplace_back(b.t_s / 60.0, BeatHr(b));
    if (hr.size() < 2 || !(c.duration_s > 0))
        return Unavailable("no heart beats were recorded in this session");

    Plot p;
    p.h = 340;
    p.top = 44;  // two rows of marker labels
    p.x0 = 0;
    p.x1 = std::max(c.duration_s, c.d.LastTimeS()) / 60.0;
    double lo = hr.front().second, hi = lo;
    for (const auto& [t, v] : hr) lo = std::min(lo, v), hi = std::max(hi, v);
    lo -= 2, hi += 2;
    const double ystep = NiceStep(hi - lo, 6);
    p.y0 = std::floor(lo / ystep) * ystep;
    p.y1 = std::ceil(hi / ystep) * ystep;
    const double xstep = NiceStep(p.x1 - p.x0, 10);
    FitLeftMargin(p, ystep);

    std::string s = SvgOpen(p, "Heart rate over the breathing pacer");
    ShadeSpans(s, p, c.pauses, "#eef0f2", "paused");
    ShadeSpans(s, p, c.gaps, "#f8e6e3", "signal lost");
    ShadeSpans(s, p, c.recovery, "#edf5ea", "recovery (no pacing)");
    Axes(s, p, xstep, ystep, "time (minutes)", "heart rate (bpm)");

    // Pacer lung volume 0..1 drawn over the plot height as a soft band (its own scale: only its
    // timing matters, to see the pulse rise on each in-breath).
    if (!c.d.pacer.empty()) {
        const double bottom = p.PlotBottom(), height = (p.PlotBottom() - p.PlotTop()) * 0.9;
        const std::size_t px = static_cast<std::size_t>(p.PlotRight() - p.PlotLeft());
        std::vector<std::pair<double, double>> vol;
        vol.reserve(c.d.pacer.size());
        // Unpaced rows (natural breathing, the recovery phase) have no target volume: a gap.
        for (const PacerRow& r : c.d.pacer)
            if (r.phase != "natural") vol.emplace_back(r.t_s / 60.0, std::clamp(r.volume, 0.0, 1.0));
        // Keep the upper envelope per pixel: averaging would flatten the breaths of long sessions.
        if (vol.size() > px * 2) {
            std::vector<std::pair<double, double>> env;
            const double w = (p.x1 - p.x0) / static_cast<double>(px);
            for (std::size_t i = 0; i < vol.size();) {
                const double b = std::floor(vol[i].first / w);
                double mx = 0, tx = vol[i].first;
                for (; i < vol.size() && std::floor(vol[i].first / w) == b; ++i) mx = std::max(mx, vol[i].second);
                env.emplace_back(tx, mx);
            }
            vol.swap(env);
        }
        std::string path;
        double prev_t = -1e9, last_x = 0;
        bool open = false;
        for (const auto& [t, v] : vol) {
            const double x = p.X(t), y = bottom - v * height;
            if (open && (t - prev_t) * 60.0 > 1.5) {  // a gap in pacer rows: close the band
                path += "L" + P(last_x) + "," + P(bottom) + "Z";
                open = false;
            }
            if (!open) {
                path += "M" + P(x) + "," + P(bottom) + "L" + P(x) + "," + P(y);
                open = true;
            } else {
                path += "L" + P(x) + "," + P(y);
            }
            prev_t = t;
            last_x = x;
        }
        if (open) path += "L" + P(last_x) + "," + P(bottom) + "Z";
        s += "<path d=\"" + path + "\" fill=\"#9cc3e0\" fill-opacity=\"0.35\" stroke=\"#7fb0d6\" stroke-opacity=\"0.6\" stroke-width=\"0.8\"/>\n";
    }

    // Flagged intervals: small ticks along the bottom edge (their HR values are artifacts).
    for (const BeatRow& b : c.d.beats) {
        if (b.flag == "ok") continue;
        const double x = p.X(std::clamp(b.t_s / 60.0, p.x0, p.x1));
        s += "<circle cx=\"" + P(x) + "\" cy=\"" + P(p.PlotBottom() - 3) + "\" r=\"2.5\" fill=\"#d9822b\"/>\n";
    }
    const std::size_t px = static_cast<std::size_t>(p.PlotRight() - p.PlotLeft());
    // A gap is 3 s without a beat, or 2.5 buckets once decimated (a bucket may then span several s).
    Polylines(s, p, Decimate(hr, p.x0, p.x1, px * 2), std::max(3.0 / 60.0, 2.5 * (p.x1 - p.x0) / (px * 2)),
              "stroke=\"#a23b4a\" stroke-width=\"1.6\" stroke-linejoin=\"round\"");
    s += MarkerLines(c, p, true);
    s += "</svg>\n";
    s += "<div class=\"legend\"><span><i style=\"background:#a23b4a;height:3px\"></i>heart rate</span>"
         "<span><i style=\"background:#c4dcee\"></i>breathing pacer (in-breath up)</span>"
         "<span><i style=\"background:#d9822b;width:8px;height:8px;border-radius:4px\"></i>flagged interval</span>"
         "<span><i style=\"border-top:2px dashed #6a5a8c;height:0\"></i>marker</span>"
         "<span><i style=\"background:#eef0f2\"></i>paused</span>"
         "<span><i style=\"background:#f8e6e3\"></i>signal lost</span>";
    if (!c.recovery.empty()) s += "<span><i style=\"background:#edf5ea\"></i>recovery</span>";
    s += "</div>\n";
    return s;
}

std::string CoherenceChart(const Context& c) {
    std::vector<std::pair<double, double>> pts;
    double peak = 0;
    for (const MetricsRow& m : c.d.metrics)
        if (m.coherence && *m.coherence >= 0) {
            pts.emplace_back(m.t_s / 60.0, *m.coherence);
            peak = std::max(peak, *m.coherence);
        }
    if (pts.size() < 2 || !(c.duration_s > 0)) return Unavailable("no coherence values were recorded (metrics.csv)");

    Plot p;
    p.h = 260;
    p.x0 = 0;
    p.x1 = std::max(c.duration_s, c.d.LastTimeS()) / 60.0;
    p.y0 = 0;
    p.y1 = std::max(2.5, std::ceil(peak * 1.1 * 2) / 2);
    FitLeftMargin(p, 0.5);
    std::string s = SvgOpen(p, "Coherence over time");
    struct Band { double lo, hi; const char* fill; const char* name; };
    const Band bands[] = {{0, dsp::kCoherenceMediumScore, "#f3f4f6", "low"},
                          {dsp::kCoherenceMediumScore, dsp::kCoherenceHighScore, "#fbf1d9", "medium"},
                          {dsp::kCoherenceHighScore, p.y1, "#e2f1e4", "high"}};
    for (const Band& b : bands) {
        s += "<rect x=\"" + P(p.PlotLeft()) + "\" y=\"" + P(p.Y(b.hi)) + "\" width=\"" + P(p.PlotRight() - p.PlotLeft()) +
             "\" height=\"" + P(p.Y(b.lo) - p.Y(b.hi)) + "\" fill=\"" + b.fill + "\"/>\n";
        s += "<text x=\"" + P(p.PlotRight() - 6) + "\" y=\"" + P(p.Y(b.hi) + 14) +
             "\" font-size=\"12\" fill=\"#6b7a7e\" text-anchor=\"end\">" + b.name + "</text>\n";
    }
    Axes(s, p, NiceStep(p.x1 - p.x0, 10), 0.5, "time (minutes)", "coherence");
    Polylines(s, p, Decimate(pts, p.x0, p.x1, 2000), std::max(2.5 / 60.0, 2.5 * (p.x1 - p.x0) / 2000),
              "stroke=\"#2b7a78\" stroke-width=\"1.8\" stroke-linejoin=\"round\"");
    s += MarkerLines(c, p, false);
    s += "</svg>\n";
    return s;
}

std::string OverTimeSection(const Context& c) {
    std::string s = "<section id=\"over-time\">\n<h2>Heart rate and breathing</h2>\n<figure>\n";
    s += HeartChart(c);
    s += "<figcaption>Heart rate (from each beat) drawn over the breathing pacer. With slow breathing the pulse "
         "rises on each in-breath and falls on each out-breath; the closer the red line follows the blue band, "
         "the stronger that rhythm.</figcaption>\n</figure>\n";
    s += "<h2 class=\"sub\">Coherence over time</h2>\n<figure>\n";
    s += CoherenceChart(c);
    s += "<figcaption>Coherence of the last 64 seconds, once a second. Bands: low below 0.5 (no clear rhythm), "
         "medium 0.5&ndash;1.0 (a rhythm is emerging), high 1.0 and above (one smooth wave dominates). "
         "Dashed lines are your markers.</figcaption>\n</figure>\n</section>\n";
    return s;
}

std::string SpectrumSection(const Context& c) {
    const dsp::FrequencyDomainMetrics& fd = c.spectrum.fd;
    std::string s = "<section id=\"spectrum\">\n<h2>Heart rhythm spectrum</h2>\n<figure>\n";
    if (!fd.valid || fd.freq_hz.size() < 3) {
        s += Unavailable("the spectrum needs at least one minute of clean beats");
        s += "</figure>\n</section>\n";
        return s;
    }
    if (fd.total_ms2 < dsp::kMinSpectralPowerMs2) {
        s += Unavailable("the recorded intervals do not vary (a constant series has no spectrum)");
        s += "</figure>\n</section>\n";
        return s;
    }
    Plot p;
    p.h = 320;
    p.top = 28;
    p.x0 = 0;
    p.x1 = 0.5;
    double peak = 0;
    for (std::size_t i = 0; i < fd.freq_hz.size() && fd.freq_hz[i] <= p.x1; ++i)
        peak = std::max(peak, fd.psd_ms2_per_hz[i]);
    if (!(peak > 0)) peak = 1;
    const double ystep = NiceStep(peak * 1.1, 5);
    p.y0 = 0;
    p.y1 = std::ceil(peak * 1.1 / ystep) * ystep;
    FitLeftMargin(p, ystep);

    std::string svg = SvgOpen(p, "Spectrum of the heart rhythm");
    struct Band { dsp::FrequencyBand b; const char* fill; const char* name; };
    const Band bands[] = {{dsp::kVlfBand, "#eceff1", "VLF"}, {dsp::kLfBand, "#e1ecf7", "LF"}, {dsp::kHfBand, "#e6f2e8", "HF"}};
    for (const Band& b : bands) {
        svg += "<rect x=\"" + P(p.X(b.b.lo_hz)) + "\" y=\"" + P(p.PlotTop()) + "\" width=\"" +
               P(p.X(b.b.hi_hz) - p.X(b.b.lo_hz)) + "\" height=\"" + P(p.PlotBottom() - p.PlotTop()) + "\" fill=\"" +
               b.fill + "\"/>\n";
        svg += "<text x=\"" + P((p.X(b.b.lo_hz) + p.X(b.b.hi_hz)) / 2) + "\" y=\"" + P(p.PlotTop() - 8) +
               "\" font-size=\"12\" fill=\"#5b6b70\" text-anchor=\"middle\">" + b.name + "</text>\n";
    }
    Axes(svg, p, 0.05, ystep, "frequency (Hz)", "power density (ms\u00b2/Hz)");
    std::string area = "M" + P(p.X(fd.freq_hz[0])) + "," + P(p.PlotBottom());
    std::string line;
    double last_x = p.X(fd.freq_hz[0]);
    for (std::size_t i = 0; i < fd.freq_hz.size() && fd.freq_hz[i] <= p.x1 + 1e-9; ++i) {
        const std::string pt = P(p.X(fd.freq_hz[i])) + "," + P(p.Y(fd.psd_ms2_per_hz[i]));
        area += "L" + pt;
        line += (line.empty() ? "" : " ") + pt;
        last_x = p.X(fd.freq_hz[i]);
    }
    area += "L" + P(last_x) + "," + P(p.PlotBottom()) + "Z";
    svg += "<path d=\"" + area + "\" fill=\"#2b7a78\" fill-opacity=\"0.15\"/>\n";
    svg += "<polyline fill=\"none\" stroke=\"#2b7a78\" stroke-width=\"1.8\" points=\"" + line + "\"/>\n";
    if (c.pacer_rate_bpm && *c.pacer_rate_bpm / 60.0 < p.x1) {
        const double x = p.X(*c.pacer_rate_bpm / 60.0);
        svg += "<line x1=\"" + P(x) + "\" x2=\"" + P(x) + "\" y1=\"" + P(p.PlotTop()) + "\" y2=\"" + P(p.PlotBottom()) +
               "\" stroke=\"#7fb0d6\" stroke-width=\"1.5\" stroke-dasharray=\"2 3\"/>\n";
    }
    if (fd.lf_peak_hz) {
        const double x = p.X(*fd.lf_peak_hz);
        svg += "<line x1=\"" + P(x) + "\" x2=\"" + P(x) + "\" y1=\"" + P(p.PlotTop()) + "\" y2=\"" + P(p.PlotBottom()) +
               "\" stroke=\"#a23b4a\" stroke-width=\"1.2\" stroke-dasharray=\"5 3\"/>\n";
        svg += "<text x=\"" + P(x + 6) + "\" y=\"" + P(p.PlotTop() + 16) + "\" font-size=\"12\" fill=\"#7d2d39\">LF peak " +
               Fixed(*fd.lf_peak_hz, 3) + " Hz = " + Fixed(*fd.lf_peak_hz * 60.0, 1) + " breaths/min</text>\n";
    }
    svg += "</svg>\n";
    s += svg;
    s += "<div class=\"legend\"><span><i style=\"background:#2b7a78;height:3px\"></i>power spectral density</span>"
         "<span><i style=\"border-top:2px dashed #a23b4a;height:0\"></i>LF peak (resonance estimate)</span>";
    if (c.pacer_rate_bpm) s += "<span><i style=\"border-top:2px dotted #7fb0d6;height:0\"></i>pacer rate</span>";
    s += "</div>\n<figcaption>How the heart-rate variability of the whole session is spread over rhythms of "
         "different speeds. Slow, even breathing concentrates it in one tall peak in the LF band; during slow paced "
         "breathing that peak sits at your <em>resonance frequency</em>, the breathing rate at which heart rate "
         "swings most.</figcaption>\n</figure>\n";

    const double total = fd.total_ms2 > 0 ? fd.total_ms2 : 1;
    auto band_row = [&](const char* name, const char* range, double v) {
        return std::string("<tr><td>") + name + "</td><td>" + range + "</td><td class=\"num\">" + Fixed(v, 0) +
               " ms\u00b2</td><td class=\"num\">" + Fixed(100.0 * v / total, 0) + " %</td></tr>\n";
    };
    s += "<table class=\"bands\"><thead><tr><th>Band</th><th>Range</th><th class=\"num\">Power</th>"
         "<th class=\"num\">Share</th></tr></thead><tbody>\n";
    s += band_row("VLF (very low frequency)", "0.0033&ndash;0.04 Hz", fd.vlf_ms2);
    s += band_row("LF (low frequency)", "0.04&ndash;0.15 Hz", fd.lf_ms2);
    s += band_row("HF (high frequency)", "0.15&ndash;0.4 Hz", fd.hf_ms2);
    s += "<tr><td>LF/HF ratio</td><td></td><td class=\"num\">" +
         (fd.lf_hf ? Fixed(*fd.lf_hf, 2) : std::string(kNotAvailable)) + "</td><td></td></tr>\n";
    s += "<tr><td>LF peak (resonance estimate)</td><td></td><td class=\"num\">" +
         (fd.lf_peak_hz ? Fixed(*fd.lf_peak_hz, 3) + " Hz = " + Fixed(*fd.lf_peak_hz * 60, 1) + " breaths/min"
                        : std::string(kNotAvailable)) +
         "</td><td></td></tr>\n</tbody></table>\n";
    s += "<p class=\"small\">Computed from " + std::to_string(fd.n_intervals) + " intervals (" + Span(fd.duration_s) +
         ") after artifact correction (" + std::to_string(c.spectrum.n_corrected) + " of " +
         std::to_string(c.spectrum.n_input) +
         " recorded intervals corrected or removed): cubic-spline resampling at 4 Hz, Welch spectrum with 64-second "
         "windows (Task Force 1996).";
    if (fd.duration_s < 120) s += " Under 2 minutes of data: LF and VLF are not reliable.";
    else if (fd.duration_s < 300) s += " Under 5 minutes of data: VLF is not reliable.";
    s += "</p>\n</section>\n";
    return s;
}

std::string RatingBar(const std::optional<int>& v) {
    if (!v) return kNotAvailable;
    const int x = std::clamp(*v, 0, 10);
    std::string s = "<svg class=\"rating\" viewBox=\"0 0 230 22\" width=\"230\" height=\"22\" aria-hidden=\"true\">";
    // Ten cells, `x` of them filled: 0 shows all empty, 10 all full.
    for (int i = 0; i < 10; ++i)
        s += "<rect x=\"" + std::to_string(i * 23) + "\" y=\"3\" width=\"19\" height=\"16\" rx=\"3\" fill=\"" +
             (i < x ? std::string("#6d9e9a") : std::string("#e6ecea")) + "\"/>";
    s += "</svg> <strong>" + std::to_string(*v) + "</strong> / 10";
    return s;
}

std::string EventLabel(const std::string& kind) {
    static const std::map<std::string, std::string> names = {
        {"start", "Session started"},  {"stop", "Session ended"},      {"pause", "Paused"},
        {"resume", "Resumed"},         {"device_lost", "Sensor signal lost"},
        {"device_back", "Sensor signal back"}, {"marker", "Marker"}, {"stage", "Stage"},
        {"phase", "Phase"}};
    auto it = names.find(kind);
    return it != names.end() ? it->second : HtmlEscape(kind);
}

std::string EventsTable(const Context& c) {
    const auto& ev = c.d.events;
    if (ev.empty()) return "<p class=\"dim\">No events were recorded.</p>\n";
    std::string s = "<table class=\"events\"><thead><tr><th class=\"num\">Time</th><th>Event</th><th>Details</th>"
                    "</tr></thead><tbody>\n";
    // The matching closing/opening event of a pause or a signal loss, for the durations.
    auto find_next = [&ev](std::size_t i, const char* kind) -> std::optional<double> {
        for (std::size_t j = i + 1; j < ev.size(); ++j)
            if (ev[j].kind == kind) return ev[j].t_s;
        return std::nullopt;
    };
    auto find_prev = [&ev](std::size_t i, const char* kind) -> std::optional<double> {
        for (std::size_t j = i; j-- > 0;)
            if (ev[j].kind == kind) return ev[j].t_s;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < ev.size(); ++i) {
        const EventRow& e = ev[i];
        std::string details;
        if (e.kind == "pause") {
            auto r = find_next(i, "resume");
            details = r ? "resumed after " + Span(*r - e.t_s) : "not resumed before the end";
        } else if (e.kind == "resume") {
            if (auto p = find_prev(i, "pause")) details = "after a pause of " + Span(e.t_s - *p);
        } else if (e.kind == "device_lost") {
            auto b = find_next(i, "device_back");
            details = b ? "back after " + Span(*b - e.t_s) : "not back before the end";
        } else if (e.kind == "device_back") {
            if (auto l = find_prev(i, "device_lost")) details = "gap of " + Span(e.t_s - *l);
        }
        std::string text = HtmlEscape(e.text);
        if (!details.empty() && !text.empty()) details += " &middot; ";
        details += text;
        s += "<tr class=\"" + HtmlEscape(e.kind) + "\"><td class=\"num\">" + Clock(e.t_s) + "</td><td>" +
             EventLabel(e.kind) + "</td><td>" + details + "</td></tr>\n";
    }
    s += "</tbody></table>\n";
    return s;
}

std::string JournalSection(const Context& c) {
    const SessionMeta& m = c.d.meta;
    std::string s = "<section id=\"journal\">\n<h2>How you felt</h2>\n<dl class=\"meta ratings\">\n";
    s += "<dt>Distress before</dt><dd>" + RatingBar(m.distress_before) + "</dd>\n";
    s += "<dt>Distress after</dt><dd>" + RatingBar(m.distress_after) + "</dd>\n";
    if (m.distress_before && m.distress_after) {
        const int d = *m.distress_after - *m.distress_before;
        s += "<dt>Change</dt><dd>" + std::string(d > 0 ? "+" : d < 0 ? "\u2212" : "") + std::to_string(std::abs(d)) +
             (d < 0 ? " (calmer after the session)" : d > 0 ? " (more distressed after the session)" : " (no change)") +
             "</dd>\n";
    }
    s += "</dl>\n<p class=\"small\">Distress rated from 0 (none) to 10 (the worst imaginable).</p>\n<h3>Note</h3>\n";
    s += m.note.empty() ? std::string("<p class=\"dim\">No note was written.</p>\n")
                        : "<p class=\"note\">" + HtmlEscape(m.note) + "</p>\n";
    s += "<h3>Events</h3>\n" + EventsTable(c);
    s += "</section>\n";
    return s;
}

std::string Footer(const Context& c) {
    const SessionMeta& m = c.d.meta;
    std::string s = "<footer>\n<p>Session " + HtmlEscape(m.id.empty() ? c.d.folder.filename().string() : m.id) +
                    " &middot; format " + std::to_string(m.format) + " &middot; " + std::to_string(c.d.beats.size()) +
                    " recorded intervals. Summary figures are those Attune computed at the end of the session "
                    "(artifact-corrected). Coherence is an open re-implementation of the published HeartMath recipe: "
                    "comparable in scale, not identical. This report is for self-observation and training, "
                    "not a medical assessment.</p>\n";
    if (!c.d.warnings.empty()) {
        s += "<p>Notes on the data:</p>\n<ul>\n";
        for (const std::string& w : c.d.warnings) s += "<li>" + HtmlEscape(w) + "</li>\n";
        s += "</ul>\n";
    }
    s += "</footer>\n";
    return s;
}

const char* kCss = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f5; color: #1f2a30;
  font: 15px/1.5 "DejaVu Sans", "Noto Sans", "Segoe UI", Helvetica, Arial, sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
main { max-width: 1000px; margin: 24px auto; background: #fff; padding: 32px 40px 24px;
  border-radius: 10px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.kicker { margin: 0; font-size: 13px; letter-spacing: .04em; color: #5f8f8b; text-transform: uppercase; }
h1 { font-size: 26px; font-weight: 600; margin: 2px 0 0; color: #21474a; }
h2 { font-size: 19px; font-weight: 600; color: #21474a; border-bottom: 1px solid #dfe6e4;
  padding-bottom: 6px; margin: 0 0 14px; }
h2.sub { margin-top: 26px; }
h3 { font-size: 15px; margin: 20px 0 6px; color: #21474a; }
section { margin-top: 34px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 14px 0 0; }
.meta dt { color: #5b6b70; }
.meta dd { margin: 0; }
.ratings dd { display: flex; align-items: center; gap: 8px; }
.dim { color: #7a888c; }
.small { font-size: 12.5px; color: #5b6b70; }
.figures { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; }
.fig { border: 1px solid #e2e8e6; border-radius: 8px; padding: 10px 12px; break-inside: avoid; }
.fig .label { font-size: 13px; color: #5b6b70; }
.fig .value { font-size: 22px; font-weight: 600; line-height: 1.3; }
.fig .value small { font-size: 13px; font-weight: 400; color: #5b6b70; }
.fig .explain { font-size: 12.5px; color: #4a585c; margin-top: 3px; }
.na { color: #8a9699; font-style: italic; font-weight: 400; font-size: 15px; }
figure { margin: 0 0 8px; break-inside: avoid; }
figcaption { font-size: 13px; color: #4a585c; margin-top: 6px; }
svg.chart { width: 100%; height: auto; display: block; font-family: inherit; }
.legend { font-size: 12.5px; color: #4a585c; margin-top: 4px; }
.legend span { display: inline-flex; align-items: center; margin-right: 16px; }
.legend i { display: inline-block; width: 18px; height: 10px; margin-right: 6px; border-radius: 2px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin-top: 8px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e6ecea; vertical-align: top; }
th { color: #5b6b70; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.events td:first-child { width: 5em; }
table.events td:nth-child(2) { width: 12em; }
tr.marker td { color: #3f3360; }
tr.device_lost td, tr.device_back td { color: #8a3b2e; }
.note { white-space: pre-wrap; background: #f6f9f8; border-left: 3px solid #9cc3bd; padding: 10px 14px;
  margin: 0; overflow-wrap: anywhere; }
.unavailable { padding: 28px; text-align: center; color: #7a888c; border: 1px dashed #d4dcda;
  border-radius: 8px; font-style: italic; }
footer { margin-top: 34px; padding-top: 10px; border-top: 1px solid #e6ecea; font-size: 12px; color: #6b7a7e; }
footer ul { margin: 4px 0; }
@page { size: A4; margin: 14mm 14mm 16mm; }
@media print {
  body { background: #fff; font-size: 10.5pt; }
  main { max-width: none; margin: 0; padding: 0; box-shadow: none; border-radius: 0; }
  section { margin-top: 0; }
  section + section { break-before: page; page-break-before: always; }
  tr { break-inside: avoid; }
  footer { break-inside: avoid; }
}
)css";

}  // namespace

std::string HtmlEscape(const std::string& s) {
    std::string o;
    o.reserve(s.size() + s.size() / 8);
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            case '\'': o += "&#39;"; break;
            default: o += c;
        }
    }
    return o;
}

std::string RenderReportHtml(const SessionData& data) {
    Context c(data);
    c.duration_s = SessionDurationS(data);
    if (!data.meta.pattern.is_null()) {
        std::string error;
        c.pattern = PatternFromJson(data.meta.pattern, error);
    }
    c.pacer_rate_bpm = PacerRateBpm(data, c.pattern);
    const double end_s = std::max(c.duration_s, data.LastTimeS());
    c.pauses = Spans(data.events, "pause", "resume", end_s);
    c.gaps = Spans(data.events, "device_lost", "device_back", end_s);
    for (const EventRow& e : data.events)
        if (e.kind == "phase" && e.text.rfind("recovery", 0) == 0) {
            c.recovery.push_back({e.t_s, std::max(end_s, e.t_s), true});
            break;
        }
    c.spectrum = ComputeSpectrum(data);

    const SessionMeta& m = data.meta;
    std::string title = "Attune session report";
    if (!m.profile.empty()) title += " \u2014 " + m.profile;
    if (!m.started_utc.empty()) title += " \u2014 " + m.started_utc.substr(0, 10);

    std::string h;
    h.reserve(256 * 1024);
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         // Belt and braces: even if a future edit let a URL slip in, the page may load nothing.
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "img-src data:\">\n"
         "<meta name=\"generator\" content=\"Attune\">\n<title>" +
         HtmlEscape(title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<main>\n";
    h += HeaderSection(c);
    h += SummarySection(c);
    h += OverTimeSection(c);
    h += SpectrumSection(c);
    h += JournalSection(c);
    h += Footer(c);
    h += "</main>\n</body>\n</html>\n";
    return h;
}

// ---------------------------------------------------------------------------------------------
// Exports.

namespace {

// The pacer row in force at time t (the last at or before it), if one is within 1 s.
const PacerRow* PacerAt(const std::vector<PacerRow>& pacer, double t) {
    auto it = std::upper_bound(pacer.begin(), pacer.end(), t, [](double v, const PacerRow& r) { return v < r.t_s; });
    if (it == pacer.begin()) return nullptr;
    --it;
    return (t - it->t_s) <= 1.0 ? &*it : nullptr;
}

std::string EventNote(const EventRow& e) {
    std::string s = e.kind;
    if (!e.text.empty()) s += ": " + e.text;
    return OneLine(s);
}

bool ExportableBeat(const BeatRow& b) { return b.ibi_ms > 0 && std::isfinite(b.ibi_ms); }

}  // namespace

std::string ExportRrText(const SessionData& data, const std::filesystem::path& path) {
    const SessionMeta& m = data.meta;
    std::vector<std::string> header;
    header.push_back("");  // the Kubios line, filled in once the header length is known
    header.push_back("# Attune RR intervals, session " + OneLine(m.id));
    header.push_back("# profile: " + OneLine(m.profile));
    header.push_back("# started (UTC): " + OneLine(m.started_utc));
    header.push_back("# sensor: " + OneLine(m.source) + "; beats from: " + OneLine(m.beat_source));
    if (m.pattern.is_object() && m.pattern.contains("name") && m.pattern["name"].is_string())
        header.push_back("# breathing pattern: " + OneLine(m.pattern["name"].get<std::string>()) +
                         (m.program.empty() ? "" : "; program: " + OneLine(m.program)));
    header.push_back("# time_s: seconds since the session start of the beat that ends the interval");
    header.push_back("# rr_ms: the interval as recorded, in milliseconds (not artifact-corrected)");
    header.push_back("# flag: Attune's live label (ok, ectopic, missed, extra, long, short, implausible)");
    header.push_back("# pacer_rate_bpm, pacer_phase: the breathing pacer at that beat ('-' = none)");
    header.push_back("# annotation: events since the previous beat (marker, pause, resume, device_lost, "
                     "device_back, stage...), '; ' separated, '-' = none");
    header.push_back("time_s\trr_ms\tflag\tpacer_rate_bpm\tpacer_phase\tannotation");
    header[0] = "# Kubios HRV: open as custom ASCII, skip " + std::to_string(header.size()) +
                " header lines, column separator TAB, RR data in column 2 (RR intervals, ms)";

    std::string out;
    for (const auto& line : header) out += line + "\n";
    std::vector<const BeatRow*> beats;
    for (const BeatRow& b : data.beats)
        if (ExportableBeat(b)) beats.push_back(&b);
    std::size_t ev = 0;
    for (std::size_t i = 0; i < beats.size(); ++i) {
        const BeatRow& b = *beats[i];
        // Events up to this beat belong to it; the last beat also takes any later events.
        std::string note;
        const bool last = i + 1 == beats.size();
        while (ev < data.events.size() && (last || data.events[ev].t_s <= b.t_s)) {
            note += (note.empty() ? "" : "; ") + EventNote(data.events[ev]);
            ++ev;
        }
        const PacerRow* pr = PacerAt(data.pacer, b.t_s);
        out += Fixed(b.t_s, 3) + "\t" + Fixed(b.ibi_ms, 1) + "\t" + (b.flag.empty() ? "ok" : OneLine(b.flag)) + "\t" +
               (pr && pr->rate_bpm ? Fixed(*pr->rate_bpm, 2) : "-") + "\t" +
               (pr && !pr->phase.empty() ? OneLine(pr->phase) : "-") + "\t" + (note.empty() ? "-" : note) + "\n";
    }
    return WriteFileAtomic(path, out);
}

std::string ExportRrPlain(const SessionData& data, const std::filesystem::path& path) {
    std::string out;
    out.reserve(data.beats.size() * 7);
    for (const BeatRow& b : data.beats)
        if (ExportableBeat(b)) out += Fixed(b.ibi_ms, 1) + "\n";
    return WriteFileAtomic(path, out);
}

namespace {

std::string Opt(const std::optional<double>& v) { return v ? Exact(*v) : std::string(); }

// Copies a CSV stream line by line (never held in memory), dropping an unterminated last line.
std::string CopyStream(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::ifstream in(from, std::ios::binary);
    if (!in) return {};
    const std::filesystem::path tmp = to.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot write " + tmp.string();
    std::string line, buf;
    bool ok = true;
    auto write_all = [&](const std::string& s) {
        std::size_t done = 0;
        while (ok && done < s.size()) {
            const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                ok = false;
            } else {
                done += static_cast<std::size_t>(n);
            }
        }
    };
    while (ok && std::getline(in, line)) {
        if (in.eof()) break;  // no newline: the record was cut short
        if (!line.empty() && line.back() == '\r') line.pop_back();
        buf += line;
        buf += '\n';
        if (buf.size() > (1u << 16)) {
            write_all(buf);
            buf.clear();
        }
    }
    write_all(buf);
    if (::fsync(fd) != 0) ok = false;
    if (::close(fd) != 0) ok = false;
    if (!ok || ::rename(tmp.c_str(), to.c_str()) != 0) {
        ::unlink(tmp.c_str());
        return "cannot write " + to.string();
    }
    return {};
}

}  // namespace

std::string ExportCsv(const SessionData& data, const std::filesystem::path& out_folder) {
    if (std::string e = MakePrivateDirs(out_folder); !e.empty()) return e;
    if (std::string e = WriteFileAtomic(out_folder / "session.json", DumpJson(SessionMetaToJson(data.meta), 2) + "\n");
        !e.empty())
        return e;

    std::string s = "t_s,ibi_ms,flag,hr_bpm\n";
    for (const BeatRow& b : data.beats)
        s += Exact(b.t_s) + "," + Exact(b.ibi_ms) + "," + CsvField(b.flag) + "," + Opt(b.hr_bpm) + "\n";
    if (std::string e = WriteFileAtomic(out_folder / "beats.csv", s); !e.empty()) return e;

    s = "t_s,phase,volume,rate_bpm,breath\n";
    for (const PacerRow& p : data.pacer)
        s += Exact(p.t_s) + "," + CsvField(p.phase) + "," + Exact(p.volume) + "," + Opt(p.rate_bpm) + "," +
             std::to_string(p.breath) + "\n";
    if (std::string e = WriteFileAtomic(out_folder / "pacer.csv", s); !e.empty()) return e;

    s = "t_s,hr_bpm,rmssd_ms,sdnn_ms,coherence,lf_ms2,hf_ms2,lf_peak_hz,breathing_rate_bpm,rsa_bpm,phase_lag_deg,"
        "quality\n";
    for (const MetricsRow& m : data.metrics)
        s += Exact(m.t_s) + "," + Opt(m.hr_bpm) + "," + Opt(m.rmssd_ms) + "," + Opt(m.sdnn_ms) + "," +
             Opt(m.coherence) + "," + Opt(m.lf_ms2) + "," + Opt(m.hf_ms2) + "," + Opt(m.lf_peak_hz) + "," +
             Opt(m.breathing_rate_bpm) + "," + Opt(m.rsa_bpm) + "," + Opt(m.phase_lag_deg) + "," +
             CsvField(m.quality) + "\n";
    if (std::string e = WriteFileAtomic(out_folder / "metrics.csv", s); !e.empty()) return e;

    s = "t_s,kind,text\n";
    for (const EventRow& e : data.events) s += Exact(e.t_s) + "," + CsvField(e.kind) + "," + CsvField(e.text) + "\n";
    if (std::string e = WriteFileAtomic(out_folder / "events.csv", s); !e.empty()) return e;

    std::error_code ec;
    const std::filesystem::path wave = data.folder / "waveform.csv";
    if (!data.folder.empty() && std::filesystem::exists(wave, ec) &&
        !std::filesystem::equivalent(data.folder, out_folder, ec))
        if (std::string e = CopyStream(wave, out_folder / "waveform.csv"); !e.empty()) return e;
    return {};
}

// ---------------------------------------------------------------------------------------------
// attune report.

std::filesystem::path FindSessionFolder(const std::filesystem::path& data_dir, const std::string& session,
                                        std::string& error) {
    namespace fs = std::filesystem;
    error.clear();
    std::error_code ec;
    if (session.empty()) {
        error = "no session given (an id such as 20261123-174512-resonance, or a session folder)";
        return {};
    }
    const fs::path as_path(session);
    if (fs::is_directory(as_path, ec)) {
        if (fs::is_regular_file(as_path / "session.json", ec)) return as_path;
        error = session + " is a folder but holds no session.json";
        return {};
    }
    if (session.find('/') != std::string::npos || session == "." || session == "..") {
        error = "no such session folder: " + session;
        return {};
    }
    std::vector<fs::path> found;
    const fs::path profiles = data_dir / "profiles";
    for (fs::directory_iterator it(profiles, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path candidate = it->path() / "sessions" / session;
        std::error_code ec2;
        if (fs::is_regular_file(candidate / "session.json", ec2)) found.push_back(candidate);
    }
    if (found.empty()) {
        error = "no session '" + session + "' under " + (profiles / "*" / "sessions").string() +
                " (give the session id or its folder)";
        return {};
    }
    if (found.size() > 1) {
        error = "session id '" + session + "' exists in several profiles; give the folder:";
        for (const auto& f : found) error += " " + f.string();
        return {};
    }
    return found.front();
}

int ReportCommand(const std::filesystem::path& data_dir, const std::string& session, const std::filesystem::path& out,
                  std::ostream& err) {
    std::string error;
    const std::filesystem::path folder = FindSessionFolder(data_dir, session, error);
    if (folder.empty()) {
        err << "attune report: " << error << "\n";
        return 3;
    }
    auto data = LoadSession(folder, error);
    if (!data) {
        err << "attune report: " << error << "\n";
        return 3;
    }
    if (out.empty()) {
        err << "attune report: no output file given (--out report.html)\n";
        return 3;
    }
    // Unlike the recorder, a report never creates folders: a mistyped --out folder is an error,
    // not a new directory somewhere.
    std::error_code ec;
    const std::filesystem::path parent = out.has_parent_path() ? out.parent_path() : std::filesystem::path(".");
    if (!std::filesystem::is_directory(parent, ec)) {
        err << "attune report: cannot write " << out.string() << ": folder " << parent.string() << " does not exist\n";
        return 3;
    }
    if (std::filesystem::is_directory(out, ec)) {
        err << "attune report: cannot write " << out.string() << ": it is a folder\n";
        return 3;
    }
    if (std::string e = WriteFileAtomic(out, RenderReportHtml(*data)); !e.empty()) {
        err << "attune report: " << e << "\n";
        return 3;
    }
    for (const std::string& w : data->warnings) err << "attune report: note: " << w << "\n";
    return 0;
}

}  // namespace attune::core
