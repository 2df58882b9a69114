#include "attune/core/analyze.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "attune/dsp/coherence.hpp"
#include "attune/dsp/ecg_detector.hpp"
#include "attune/dsp/ppg_detector.hpp"
#include "attune/dsp/rr_io.hpp"
#include "attune/dsp/rsa.hpp"
#include "attune/dsp/signal_io.hpp"

namespace attune::core {

namespace fs = std::filesystem;

namespace {

constexpr double kMinRateHz = 1.0;
constexpr double kMaxRateHz = 10000.0;
constexpr double kMinBreathingConfidence = 0.4;

bool EndsWith(const std::string& s, const char* suffix) {
    const std::string suf(suffix);
    if (s.size() < suf.size()) return false;
    return std::equal(suf.rbegin(), suf.rend(), s.rbegin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
}

std::optional<int> ParseIndex(const std::string& s) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) return std::nullopt;
    if (s.size() > 6) return std::nullopt;
    return std::stoi(s);
}

// Loads the samples of an ECG/PPG input; fills r.sample_rate_hz and r.signal_description.
bool LoadSignal(const AnalyzeOptions& o, AnalyzeResult& r, std::vector<double>& samples) {
    if (EndsWith(o.input, ".hea")) {
        auto hdr = dsp::read_wfdb_header(o.input);
        if (!hdr) { r.error = o.input + ": " + hdr.error; return false; }
        int sig = 0;
        if (!o.column.empty()) {
            if (auto idx = ParseIndex(o.column)) sig = *idx;
            else {
                sig = -1;
                for (std::size_t i = 0; i < hdr.value.signals.size(); ++i) {
                    std::string a = hdr.value.signals[i].description, b = o.column;
                    std::transform(a.begin(), a.end(), a.begin(), ::tolower);
                    std::transform(b.begin(), b.end(), b.begin(), ::tolower);
                    if (a == b) { sig = static_cast<int>(i); break; }
                }
            }
            if (sig < 0 || sig >= hdr.value.num_signals) {
                r.error = o.input + ": no signal '" + o.column + "' (the record has " + std::to_string(hdr.value.num_signals) + ")";
                return false;
            }
        }
        dsp::WfdbReadOptions ro;
        ro.signals = {sig};
        auto rec = dsp::read_wfdb_record(o.input, ro);
        if (!rec) { r.error = o.input + ": " + rec.error; return false; }
        samples = rec.value.physical(static_cast<std::size_t>(sig));
        r.sample_rate_hz = o.rate_hz.value_or(rec.value.header.sample_rate_hz);
        const auto& info = rec.value.header.signals[static_cast<std::size_t>(sig)];
        std::ostringstream d;
        d << "WFDB " << fs::path(o.input).filename().string() << " signal " << sig << " (" << info.description << "), "
          << r.sample_rate_hz << " Hz";
        r.signal_description = d.str();
    } else {
        if (!o.rate_hz) { r.error = o.input + ": --rate HZ is needed for a text signal"; return false; }
        dsp::TextReadOptions to;
        if (auto idx = ParseIndex(o.column)) to.column_index = *idx;
        else to.column_name = o.column;
        auto col = dsp::read_text_column(o.input, to);
        if (!col) { r.error = o.input + ": " + col.error; return false; }
        samples = std::move(col.value.samples);
        r.sample_rate_hz = *o.rate_hz;
        std::ostringstream d;
        d << "text " << fs::path(o.input).filename().string() << " column "
          << (col.value.column_name.empty() ? std::to_string(col.value.column_index) : col.value.column_name) << ", "
          << r.sample_rate_hz << " Hz";
        r.signal_description = d.str();
    }
    if (samples.empty()) { r.error = o.input + ": no samples"; return false; }
    if (!(r.sample_rate_hz >= kMinRateHz && r.sample_rate_hz <= kMaxRateHz)) {
        r.error = o.input + ": impossible sample rate " + std::to_string(r.sample_rate_hz) + " Hz";
        return false;
    }
    return true;
}

bool DetectBeats(const AnalyzeOptions& o, AnalyzeResult& r, const std::vector<double>& samples, std::vector<dsp::Beat>& beats) {
    r.duration_s = static_cast<double>(samples.size()) / r.sample_rate_hz;
    if (o.signal == AnalyzeSignal::Ecg) {
        if (r.sample_rate_hz < 100.0 || r.sample_rate_hz > 1000.0) {
            r.error = o.input + ": the ECG detector needs a sample rate of 100-1000 Hz, not " + std::to_string(r.sample_rate_hz) + " Hz";
            return false;
        }
        dsp::EcgDetector::Params p;
        p.sample_rate_hz = r.sample_rate_hz;
        dsp::EcgDetector det(p);
        det.process(samples, beats);
        if (auto last = det.flush()) beats.push_back(*last);
    } else {
        if (r.sample_rate_hz < 25.0 || r.sample_rate_hz > 500.0) {
            r.error = o.input + ": the PPG detector needs a sample rate of 25-500 Hz, not " + std::to_string(r.sample_rate_hz) + " Hz";
            return false;
        }
        dsp::PpgDetector::Params p;
        p.sample_rate_hz = r.sample_rate_hz;
        p.polarity = o.invert ? dsp::PpgDetector::Polarity::Inverted : dsp::PpgDetector::Polarity::Auto;
        dsp::PpgDetector det(p);
        det.process(samples, beats);
        if (auto last = det.flush()) beats.push_back(*last);  // a pulse still in the pipeline at the end
        r.inverted = det.inverted();
    }
    return true;
}

bool LoadIntervals(const AnalyzeOptions& o, AnalyzeResult& r, std::vector<dsp::Beat>& beats) {
    if (EndsWith(o.input, ".atr")) {
        double fs = o.rate_hz.value_or(0.0);
        if (!o.rate_hz) {
            const fs::path hea = fs::path(o.input).replace_extension(".hea");
            auto hdr = dsp::read_wfdb_header(hea.string());
            if (!hdr) { r.error = o.input + ": needs --rate HZ or a readable " + hea.filename().string() + " (" + hdr.error + ")"; return false; }
            fs = hdr.value.sample_rate_hz;
        }
        if (!(fs >= kMinRateHz && fs <= kMaxRateHz)) { r.error = o.input + ": impossible sample rate"; return false; }
        auto ann = dsp::read_wfdb_annotations(o.input);
        if (!ann) { r.error = o.input + ": " + ann.error; return false; }
        double prev_t = -1.0;
        for (const auto& a : ann.value) {
            if (!dsp::is_beat_code(a.code)) continue;
            const double t = static_cast<double>(a.sample) / fs;
            beats.push_back({t, prev_t >= 0.0 ? (t - prev_t) * 1000.0 : 0.0, 0.0});
            prev_t = t;
        }
        r.sample_rate_hz = fs;
        r.signal_description = "WFDB annotations " + fs::path(o.input).filename().string();
    } else {
        auto rr = dsp::read_rr_file(o.input);
        if (!rr.opened) { r.error = o.input + ": " + (rr.errors.empty() ? std::string("cannot read") : rr.errors.front()); return false; }
        if (rr.bad_lines > 0) { r.error = o.input + ": " + rr.errors.front(); return false; }
        // Beat times: the first interval ends at t = 0, each next one later by its length.
        double t = 0.0;
        for (std::size_t i = 0; i < rr.ibi_ms.size(); ++i) {
            if (i > 0) t += rr.ibi_ms[i] / 1000.0;
            beats.push_back({t, rr.ibi_ms[i], 0.0});
        }
        r.signal_description = "RR intervals " + fs::path(o.input).filename().string();
    }
    if (beats.size() < 2) { r.error = o.input + ": fewer than two beats"; return false; }
    r.duration_s = beats.back().t_s - beats.front().t_s;
    return true;
}

}  // namespace

const char* FlagName(dsp::IntervalClass c) {
    switch (c) {
        case dsp::IntervalClass::ok: return "ok";
        case dsp::IntervalClass::ectopic: return "ectopic";
        case dsp::IntervalClass::missed: return "missed";
        case dsp::IntervalClass::extra: return "extra";
        case dsp::IntervalClass::too_long: return "long";
        case dsp::IntervalClass::too_short: return "short";
        case dsp::IntervalClass::implausible: return "implausible";
    }
    return "ok";
}

AnalyzeResult Analyze(const AnalyzeOptions& o) {
    AnalyzeResult r;
    std::error_code ec;
    if (!fs::exists(o.input, ec)) { r.error = o.input + ": no such file"; return r; }
    if (fs::is_directory(o.input, ec)) { r.error = o.input + ": is a folder, not a file"; return r; }

    std::vector<dsp::Beat> beats;
    if (o.signal == AnalyzeSignal::Rr) {
        if (!LoadIntervals(o, r, beats)) return r;
    } else {
        std::vector<double> samples;
        if (!LoadSignal(o, r, samples)) return r;
        if (!DetectBeats(o, r, samples, beats)) return r;
    }
    for (const auto& b : beats) r.beat_t_s.push_back(b.t_s);

    const dsp::ArtifactResult art = dsp::correct_artifacts(beats);
    r.classified = art.classified;
    r.artifacts = art.counts;
    std::vector<double> corrected_ibi;
    corrected_ibi.reserve(art.corrected.size());
    for (const auto& c : art.corrected) corrected_ibi.push_back(c.ibi_ms);
    r.time = dsp::compute_time_domain(corrected_ibi);
    r.frequency = dsp::compute_frequency_domain(corrected_ibi);
    std::vector<double> raw_ibi;
    raw_ibi.reserve(beats.size());
    for (const auto& b : beats)
        if (b.ibi_ms > 0.0) raw_ibi.push_back(b.ibi_ms);
    r.time_uncorrected = dsp::compute_time_domain(raw_ibi);
    r.frequency_uncorrected = dsp::compute_frequency_domain(raw_ibi);

    // Coherence as the app shows it live: 64 s windows, one value per second; report the mean.
    dsp::CoherenceTracker coherence;
    // One breathing estimate every 5 s is plenty for a median over a recording (each costs
    // ~0.1 ms; once a second over a day-long record was most of the run time).
    dsp::BreathingRateConfig breathing_cfg;
    breathing_cfg.update_interval_s = 5.0;
    dsp::BreathingRateEstimator breathing(breathing_cfg);
    double sum = 0.0;
    std::size_t n = 0;
    std::vector<double> rates;
    double next_update = 0.0;
    for (const auto& c : art.corrected) {
        coherence.push(c.t_s, c.ibi_ms);
        if (auto br = breathing.push(c.to_beat()); br && br->confidence >= kMinBreathingConfidence) rates.push_back(br->rate_bpm);
        if (c.t_s >= next_update) {
            const auto& res = coherence.update(c.t_s);
            if (res.valid) { sum += res.score; ++n; }
            next_update = c.t_s + 1.0;
        }
    }
    if (n > 0) r.coherence = sum / static_cast<double>(n);
    if (!rates.empty()) {
        std::nth_element(rates.begin(), rates.begin() + static_cast<long>(rates.size() / 2), rates.end());
        r.breathing_rate_bpm = rates[rates.size() / 2];
    }
    return r;
}

namespace {
void PutMetrics(nlohmann::json& j, const dsp::TimeDomainMetrics& t, const dsp::FrequencyDomainMetrics& f) {
    auto opt = [](bool valid, double v) { return valid ? nlohmann::json(v) : nlohmann::json(nullptr); };
    j["hr_mean_bpm"] = opt(t.valid, t.mean_hr_bpm);
    j["rr_mean_ms"] = opt(t.valid, t.mean_rr_ms);
    j["sdnn_ms"] = opt(t.valid, t.sdnn_ms);
    j["rmssd_ms"] = opt(t.valid, t.rmssd_ms);
    j["sdsd_ms"] = opt(t.valid, t.sdsd_ms);
    j["pnn50_pct"] = opt(t.valid, t.pnn50_pct);
    j["vlf_ms2"] = opt(f.valid, f.vlf_ms2);
    j["lf_ms2"] = opt(f.valid, f.lf_ms2);
    j["hf_ms2"] = opt(f.valid, f.hf_ms2);
    j["lf_hf"] = f.valid && f.lf_hf ? nlohmann::json(*f.lf_hf) : nlohmann::json(nullptr);
    j["lf_peak_hz"] = f.valid && f.lf_peak_hz ? nlohmann::json(*f.lf_peak_hz) : nlohmann::json(nullptr);
    j["total_power_ms2"] = opt(f.valid, f.total_ms2);
}
}  // namespace

nlohmann::json AnalyzeJson(const AnalyzeResult& r) {
    nlohmann::json j;
    j["beats"] = r.beat_t_s.size();
    j["duration_s"] = r.duration_s;
    j["sample_rate_hz"] = r.sample_rate_hz > 0 ? nlohmann::json(r.sample_rate_hz) : nlohmann::json(nullptr);
    PutMetrics(j, r.time, r.frequency);
    j["coherence"] = r.coherence ? nlohmann::json(*r.coherence) : nlohmann::json(nullptr);
    j["artifacts"] = {{"ok", r.artifacts.ok},           {"ectopic", r.artifacts.ectopic},
                      {"missed", r.artifacts.missed},   {"extra", r.artifacts.extra},
                      {"long", r.artifacts.too_long},   {"short", r.artifacts.too_short},
                      {"implausible", r.artifacts.implausible}};
    j["breathing_rate_bpm"] = r.breathing_rate_bpm ? nlohmann::json(*r.breathing_rate_bpm) : nlohmann::json(nullptr);
    nlohmann::json raw;
    PutMetrics(raw, r.time_uncorrected, r.frequency_uncorrected);
    j["uncorrected"] = raw;
    j["input"] = r.signal_description;
    if (r.signal_description.rfind("text", 0) == 0 || r.signal_description.rfind("WFDB", 0) == 0) j["inverted"] = r.inverted;
    return j;
}

std::string AnalyzeReport(const AnalyzeResult& r) {
    std::ostringstream os;
    char buf[256];
    os << r.signal_description << "\n";
    std::snprintf(buf, sizeof buf, "%zu beats over %.1f s\n", r.beat_t_s.size(), r.duration_s);
    os << buf;
    if (r.time.valid) {
        std::snprintf(buf, sizeof buf,
                      "Heart rate  %.1f bpm (mean RR %.1f ms)\nSDNN %.1f ms   RMSSD %.1f ms   SDSD %.1f ms   pNN50 %.1f %%\n",
                      r.time.mean_hr_bpm, r.time.mean_rr_ms, r.time.sdnn_ms, r.time.rmssd_ms, r.time.sdsd_ms, r.time.pnn50_pct);
        os << buf;
    } else {
        os << "Too few clean intervals for time-domain HRV\n";
    }
    if (r.frequency.valid) {
        std::snprintf(buf, sizeof buf, "VLF %.1f ms2   LF %.1f ms2   HF %.1f ms2   total %.1f ms2", r.frequency.vlf_ms2,
                      r.frequency.lf_ms2, r.frequency.hf_ms2, r.frequency.total_ms2);
        os << buf;
        if (r.frequency.lf_hf) { std::snprintf(buf, sizeof buf, "   LF/HF %.2f", *r.frequency.lf_hf); os << buf; }
        os << "\n";
    } else {
        os << "Frequency domain needs at least 60 s of clean intervals\n";
    }
    if (r.artifacts.flagged() > 0 && r.time_uncorrected.valid) {
        std::snprintf(buf, sizeof buf, "Without artifact correction: SDNN %.1f ms   RMSSD %.1f ms   pNN50 %.1f %%\n",
                      r.time_uncorrected.sdnn_ms, r.time_uncorrected.rmssd_ms, r.time_uncorrected.pnn50_pct);
        os << buf;
    }
    if (r.coherence) { std::snprintf(buf, sizeof buf, "Coherence (mean of 64 s windows) %.2f\n", *r.coherence); os << buf; }
    if (r.breathing_rate_bpm) { std::snprintf(buf, sizeof buf, "Breathing rate from the heart %.1f breaths/min\n", *r.breathing_rate_bpm); os << buf; }
    else os << "Breathing rate: no clear breathing rhythm in the heart signal\n";
    const auto& a = r.artifacts;
    std::snprintf(buf, sizeof buf, "Intervals: %zu ok, %zu ectopic, %zu missed, %zu extra, %zu long, %zu short, %zu implausible\n",
                  a.ok, a.ectopic, a.missed, a.extra, a.too_long, a.too_short, a.implausible);
    os << buf;
    return os.str();
}

std::string WriteBeatsFile(const std::string& path, const AnalyzeResult& r, AnalyzeSignal signal) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) return "cannot write " + path;
    if (signal == AnalyzeSignal::Rr) {
        std::fprintf(f, "t_s,ibi_ms,flag\n");
        for (const auto& c : r.classified) std::fprintf(f, "%.6f,%.3f,%s\n", c.t_s, c.ibi_ms, FlagName(c.cls));
    } else {
        std::fprintf(f, "t_s\n");
        for (double t : r.beat_t_s) std::fprintf(f, "%.6f\n", t);
    }
    const bool ok = std::fflush(f) == 0 && !std::ferror(f);
    std::fclose(f);
    return ok ? std::string() : "cannot write " + path;
}

}  // namespace attune::core
