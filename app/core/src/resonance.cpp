#include "attune/core/resonance.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numbers>

#include "attune/core/profiles.hpp"
#include "attune/dsp/hrv_freq.hpp"
#include "attune/dsp/rsa.hpp"

namespace attune::core {

namespace {

// Each criterion weighs as much as all lower-priority ones together (plus one): nearly the
// papers' priority order, yet a clear lead on several lower criteria can outweigh a tiny phase edge.
constexpr double kWeights[kCriteria] = {32, 16, 8, 4, 2, 1};

double Round2(double x) { return std::round(x * 100.0) / 100.0; }

}  // namespace

const char* CriterionName(int i) {
    static const char* names[kCriteria] = {"phase synchrony", "HR max-min", "LF power",
                                           "LF peak height", "smoothness", "fewest LF peaks"};
    return i >= 0 && i < kCriteria ? names[i] : "";
}

RateBlock ScoreWindow(double rate_bpm, double t0_s, double t1_s, std::span<const dsp::Beat> beats,
                      const std::function<double(double)>& volume_at,
                      std::span<const std::pair<double, double>> breaths) {
    RateBlock b;
    b.rate_bpm = rate_bpm;
    b.t0_s = t0_s;
    b.t1_s = t1_s;
    const double f0 = rate_bpm / 60.0;
    const double span = t1_s - t0_s;
    if (!(f0 > 0.0) || span * f0 < 2.0) {
        b.problem = "window shorter than two breaths";
        return b;
    }
    // Beats around the window (the spline needs a knot before its start).
    std::vector<dsp::Beat> near;
    std::vector<double> t_in, ibi_in;
    for (const auto& beat : beats) {
        if (beat.t_s < t0_s - 4.0 || beat.t_s > t1_s + 3.0 || !(beat.ibi_ms > 0.0)) continue;
        near.push_back(beat);
        if (beat.t_s >= t0_s && beat.t_s <= t1_s) {
            t_in.push_back(beat.t_s);
            ibi_in.push_back(beat.ibi_ms);
        }
    }
    b.beats = static_cast<int>(t_in.size());
    if (t_in.size() < 20 || t_in.back() - t_in.front() < 0.8 * span) {
        b.problem = "too few clean beats in the window";
        return b;
    }
    // 1 and 5: phase and smoothness from the sine fit at the pacer rate over whole breaths.
    std::vector<dsp::ReferenceSample> ref;
    for (double t = t0_s - 4.0; t <= t1_s + 1e-9; t += 0.1) ref.push_back({t, volume_at(t)});
    dsp::HrPhaseConfig pc;
    pc.cycles = std::floor(span * f0 + 1e-9);
    pc.max_window_s = span + 1.0;
    const dsp::HrPhase ph = dsp::hr_phase(near, ref, f0, pc);
    if (!ph.valid) {
        b.problem = "no phase estimate";
        return b;
    }
    b.phase_raw_deg = ph.phase_deg;
    double corrected = ph.phase_deg - 360.0 * f0 * kPhaseLagCorrectionS;
    corrected = std::remainder(corrected, 360.0);
    b.phase_deg = corrected;
    b.smoothness = ph.hr_fraction;
    // 2: HR max - min per breath.
    std::vector<dsp::BreathCycle> cycles;
    for (const auto& [s, e] : breaths)
        if (s >= t0_s - 1e-6 && e <= t1_s + 1e-6) cycles.push_back({s, e});
    double sum = 0.0;
    for (const auto& r : dsp::rsa_per_breath(near, cycles))
        if (r.valid) {
            sum += r.rsa_bpm;
            ++b.breaths;
        }
    if (b.breaths == 0) {
        b.problem = "no complete breath in the window";
        return b;
    }
    b.amplitude_bpm = sum / b.breaths;
    // 3, 4, 6: spectrum of the window's intervals.
    dsp::FrequencyAnalyzer fa;
    dsp::FrequencyDomainMetrics fd;
    if (fa.analyze(t_in, ibi_in, fd)) {
        b.lf_ms2 = fd.lf_ms2;
        double top = 0.0;
        for (std::size_t k = 0; k < fd.freq_hz.size(); ++k)
            if (fd.freq_hz[k] >= dsp::kLfBand.lo_hz && fd.freq_hz[k] < dsp::kLfBand.hi_hz && fd.psd_ms2_per_hz[k] > top) {
                top = fd.psd_ms2_per_hz[k];
                b.lf_peak_hz = fd.freq_hz[k];
            }
        b.lf_peak_ms2_per_hz = top;
        for (std::size_t k = 1; k + 1 < fd.freq_hz.size(); ++k) {
            const double f = fd.freq_hz[k], p = fd.psd_ms2_per_hz[k];
            if (f < dsp::kLfBand.lo_hz || f >= dsp::kLfBand.hi_hz) continue;
            if (p >= 0.25 * top && p > fd.psd_ms2_per_hz[k - 1] && p >= fd.psd_ms2_per_hz[k + 1]) ++b.lf_peaks;
        }
    } else {
        b.problem = "window too short for the LF spectrum";
        return b;
    }
    b.valid = true;
    return b;
}

AssessmentResult Recommend(std::vector<RateBlock> blocks, const std::string& method) {
    AssessmentResult r;
    r.method = method;
    r.blocks = std::move(blocks);
    // Group by rate (to 0.01 breaths/min); phase averaged as unit vectors.
    std::map<long, std::vector<const RateBlock*>> by_rate;
    for (const auto& b : r.blocks)
        if (b.valid) by_rate[std::lround(b.rate_bpm * 100.0)].push_back(&b);
    if (by_rate.size() < 2) {
        r.note = "fewer than two rates could be scored";
        return r;
    }
    for (const auto& [key, list] : by_rate) {
        RateScore s;
        s.rate_bpm = static_cast<double>(key) / 100.0;
        s.blocks = static_cast<int>(list.size());
        double c = 0.0, sn = 0.0;
        for (const RateBlock* b : list) {
            c += std::cos(b->phase_deg * std::numbers::pi / 180.0);
            sn += std::sin(b->phase_deg * std::numbers::pi / 180.0);
            s.amplitude_bpm += b->amplitude_bpm;
            s.lf_ms2 += b->lf_ms2;
            s.lf_peak_ms2_per_hz += b->lf_peak_ms2_per_hz;
            s.smoothness += b->smoothness;
            s.lf_peaks += b->lf_peaks;
        }
        const double n = static_cast<double>(list.size());
        s.phase_deg = std::atan2(sn, c) * 180.0 / std::numbers::pi;
        s.amplitude_bpm /= n;
        s.lf_ms2 /= n;
        s.lf_peak_ms2_per_hz /= n;
        s.smoothness /= n;
        s.lf_peaks /= n;
        r.scores.push_back(s);
    }
    auto value = [](const RateScore& s, int c) {
        switch (c) {
            case 0: return -std::abs(s.phase_deg);
            case 1: return s.amplitude_bpm;
            case 2: return s.lf_ms2;
            case 3: return s.lf_peak_ms2_per_hz;
            case 4: return s.smoothness;
            default: return -s.lf_peaks;
        }
    };
    for (int c = 0; c < kCriteria; ++c) {
        double lo = 1e300, hi = -1e300;
        for (const auto& s : r.scores) {
            lo = std::min(lo, value(s, c));
            hi = std::max(hi, value(s, c));
        }
        for (auto& s : r.scores) s.criteria[c] = hi - lo > 1e-12 ? (value(s, c) - lo) / (hi - lo) : 1.0;
    }
    double wsum = 0.0;
    for (double w : kWeights) wsum += w;
    for (auto& s : r.scores) {
        s.total = 0.0;
        for (int c = 0; c < kCriteria; ++c) s.total += kWeights[c] * s.criteria[c];
        s.total /= wsum;
    }
    std::sort(r.scores.begin(), r.scores.end(), [](const RateScore& a, const RateScore& b) { return a.rate_bpm > b.rate_bpm; });
    const auto best = std::max_element(r.scores.begin(), r.scores.end(),
                                       [](const RateScore& a, const RateScore& b) { return a.total < b.total; });
    r.recommended_rate_bpm = best->rate_bpm;
    r.valid = true;
    char buf[160];
    for (int c = 0; c < kCriteria; ++c) {
        if (best->criteria[c] < 0.9) continue;
        switch (c) {
            case 0: std::snprintf(buf, sizeof buf, "heart rate and breathing most in step (phase %+.0f deg)", best->phase_deg); break;
            case 1: std::snprintf(buf, sizeof buf, "largest heart-rate swing per breath (%.1f bpm max-min)", best->amplitude_bpm); break;
            case 2: std::snprintf(buf, sizeof buf, "most LF power (%.0f ms^2)", best->lf_ms2); break;
            case 3: std::snprintf(buf, sizeof buf, "highest LF peak (%.0f ms^2/Hz)", best->lf_peak_ms2_per_hz); break;
            case 4: std::snprintf(buf, sizeof buf, "smoothest heart-rate curve (%.0f %% in the breathing rhythm)", 100.0 * best->smoothness); break;
            default: std::snprintf(buf, sizeof buf, "a single clear LF peak (%.1f)", best->lf_peaks); break;
        }
        r.reasons.emplace_back(buf);
    }
    if (r.reasons.empty()) r.reasons.emplace_back("best overall balance of the six criteria");
    return r;
}

nlohmann::json AssessmentToJson(const AssessmentResult& r) {
    nlohmann::json j;
    j["valid"] = r.valid;
    j["method"] = r.method;
    if (!r.started_utc.empty()) j["started_utc"] = r.started_utc;
    j["recommended_rate_bpm"] = r.valid ? nlohmann::json(r.recommended_rate_bpm) : nlohmann::json(nullptr);
    j["reasons"] = r.reasons;
    if (!r.note.empty()) j["note"] = r.note;
    j["baseline_breathing_bpm"] = r.baseline_breathing_bpm ? nlohmann::json(Round2(*r.baseline_breathing_bpm)) : nlohmann::json(nullptr);
    auto scores = nlohmann::json::array();
    for (const auto& s : r.scores) {
        nlohmann::json c = nlohmann::json::array();
        for (double v : s.criteria) c.push_back(Round2(v));
        scores.push_back({{"rate_bpm", s.rate_bpm}, {"blocks", s.blocks}, {"total", Round2(s.total)},
                          {"phase_deg", Round2(s.phase_deg)}, {"amplitude_bpm", Round2(s.amplitude_bpm)},
                          {"lf_ms2", Round2(s.lf_ms2)}, {"lf_peak_ms2_per_hz", Round2(s.lf_peak_ms2_per_hz)},
                          {"smoothness", Round2(s.smoothness)}, {"lf_peaks", Round2(s.lf_peaks)}, {"criteria", c}});
    }
    j["scores"] = scores;
    auto blocks = nlohmann::json::array();
    for (const auto& b : r.blocks) {
        nlohmann::json o = {{"rate_bpm", b.rate_bpm}, {"role", b.role}, {"t0_s", Round2(b.t0_s)}, {"t1_s", Round2(b.t1_s)},
                            {"valid", b.valid}};
        if (b.valid) {
            o["phase_raw_deg"] = Round2(b.phase_raw_deg);
            o["phase_deg"] = Round2(b.phase_deg);
            o["amplitude_bpm"] = Round2(b.amplitude_bpm);
            o["lf_ms2"] = Round2(b.lf_ms2);
            o["lf_peak_ms2_per_hz"] = Round2(b.lf_peak_ms2_per_hz);
            o["smoothness"] = Round2(b.smoothness);
            o["lf_peaks"] = b.lf_peaks;
            o["breaths"] = b.breaths;
        } else {
            o["problem"] = b.problem;
        }
        blocks.push_back(o);
    }
    j["blocks"] = blocks;
    return j;
}

std::optional<AssessmentResult> AssessmentFromJson(const nlohmann::json& j) {
    if (!j.is_object()) return std::nullopt;
    try {
        AssessmentResult r;
        r.valid = j.value("valid", false);
        r.method = j.value("method", std::string());
        r.started_utc = j.value("started_utc", std::string());
        if (j.contains("recommended_rate_bpm") && j["recommended_rate_bpm"].is_number())
            r.recommended_rate_bpm = j["recommended_rate_bpm"].get<double>();
        else r.valid = false;
        if (j.contains("reasons") && j["reasons"].is_array())
            for (const auto& s : j["reasons"])
                if (s.is_string()) r.reasons.push_back(s.get<std::string>());
        r.note = j.value("note", std::string());
        if (j.contains("baseline_breathing_bpm") && j["baseline_breathing_bpm"].is_number())
            r.baseline_breathing_bpm = j["baseline_breathing_bpm"].get<double>();
        if (j.contains("scores") && j["scores"].is_array())
            for (const auto& o : j["scores"]) {
                if (!o.is_object()) continue;
                RateScore s;
                s.rate_bpm = o.value("rate_bpm", 0.0);
                s.blocks = o.value("blocks", 0);
                s.total = o.value("total", 0.0);
                s.phase_deg = o.value("phase_deg", 0.0);
                s.amplitude_bpm = o.value("amplitude_bpm", 0.0);
                s.lf_ms2 = o.value("lf_ms2", 0.0);
                s.lf_peak_ms2_per_hz = o.value("lf_peak_ms2_per_hz", 0.0);
                s.smoothness = o.value("smoothness", 0.0);
                s.lf_peaks = o.value("lf_peaks", 0.0);
                if (o.contains("criteria") && o["criteria"].is_array())
                    for (int c = 0; c < kCriteria && c < static_cast<int>(o["criteria"].size()); ++c)
                        if (o["criteria"][static_cast<std::size_t>(c)].is_number()) s.criteria[c] = o["criteria"][static_cast<std::size_t>(c)].get<double>();
                r.scores.push_back(s);
            }
        return r;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

std::string SaveAssessmentToProfile(const std::filesystem::path& data_dir, const std::string& profile,
                                    const AssessmentResult& r) {
    if (!r.valid) return "the assessment has no recommendation to save";
    auto load = LoadProfileSettings(data_dir, profile);
    ProfileSettings s = load.settings;
    s.resonance_rate_bpm = r.recommended_rate_bpm;
    if (!s.other.is_object()) s.other = nlohmann::json::object();
    nlohmann::json& hist = s.other["resonance_assessments"];
    if (!hist.is_array()) hist = nlohmann::json::array();
    nlohmann::json entry = AssessmentToJson(r);
    entry.erase("blocks");  // the per-block detail stays in the session; the profile keeps the summary
    hist.push_back(entry);
    return SaveProfileSettings(data_dir, profile, s);
}

std::vector<AssessmentResult> LoadAssessmentHistory(const std::filesystem::path& data_dir, const std::string& profile) {
    std::vector<AssessmentResult> out;
    const auto load = LoadProfileSettings(data_dir, profile);
    const auto& other = load.settings.other;
    if (!other.is_object() || !other.contains("resonance_assessments") || !other["resonance_assessments"].is_array()) return out;
    for (const auto& e : other["resonance_assessments"])
        if (auto r = AssessmentFromJson(e)) out.push_back(*r);
    return out;
}

}  // namespace attune::core
