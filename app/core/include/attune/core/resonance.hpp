// Resonance-frequency assessment: scoring paced-breathing blocks and recommending a rate.
//
// Protocol: P. M. Lehrer, "How does heart rate variability biofeedback work? Resonance, the
// baroreflex, and other mechanisms", Biofeedback 41(1):26-31, 2013, and F. Shaffer & Z. M.
// Meehan, "A practical guide to resonance frequency assessment for heart rate variability
// biofeedback", Front. Neurosci. 14:570400, 2020: a natural-breathing baseline, then about two
// minutes at each of 6.5, 6.0, 5.5, 5.0 and 4.5 breaths/min with short rests; each rate is judged
// on six criteria in priority order:
//   1. phase synchrony of heart rate and breathing (0 deg at resonance; the pacer is the breathing
//      reference, corrected for the known measurement lag, below),
//   2. heart-rate max - min per breath (peak-to-trough RSA, mean over the scored breaths),
//   3. LF power (0.04-0.15 Hz, ms^2),
//   4. the height of the LF peak (ms^2/Hz),
//   5. smoothness of the heart-rate curve (share of heart-rate variance in the sinusoid at the
//      breathing rate, 0..1),
//   6. fewest LF peaks (local maxima in the LF band above a quarter of the highest).
// The sliding variant follows L. R. Fisher & P. M. Lehrer, "A method for more accurate
// determination of resonance frequency of the cardiovascular system, and evaluation of a program to
// perform it", Appl. Psychophysiol. Biofeedback 47:17-26, 2022 (online 2021,
// doi:10.1007/s10484-021-09524-0): the pacer slides slowly through 6.75..4.25 breaths/min. They
// lengthen each breath by 67 ms (78 breaths, ~15 min) and take the middle of the minute of largest
// peak-to-trough swing; we glide the rate linearly at 0.3 breaths/min per minute (~9 min, shorter,
// as the issue asks) and score 64-s windows every 0.25 breaths/min on the same six criteria.
//
// Combination (ours: the papers give the order, not a formula): for each criterion the rates are
// placed on 0..1 between the worst and the best value; the total is the weighted sum with weights
// 32, 16, 8, 4, 2, 1 (priority order) / 63: each criterion outweighs all lower ones together, close
// to the papers' strict priority, yet a clear lead on several lower criteria can still overturn a
// negligible phase difference. The best total is recommended; its reasons are the criteria on
// which it scores within 10 % of the best (of the range across rates).
//
// Phase correction: the heart-rate signal is built from pulse (PPG) beat times, which come a pulse
// transit time after the heart's electrical beat, and a person follows a pacer with a short
// reaction lag; both shift the measured heart-rate phase later by 360 * f * delay degrees.
// kPhaseLagCorrectionS is that delay, measured on the simulated heart (tests/core/
// test_resonance.cpp, "phase bias"): there the true heart-rate/lung-volume phase at resonance is
// 0 by construction, and the chain sim -> PulseSensor bytes -> decoder -> artifact correction ->
// phase estimate reads the delay below.
//
// Units: times in seconds (session time), rates in breaths/min, heart rate in bpm, phase in degrees.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attune/dsp/types.hpp"

namespace attune::core {

inline constexpr double kPhaseLagCorrectionS = 0.33;

// The measurements of one scored stretch at one rate.
struct RateBlock {
    double rate_bpm = 0.0;
    double t0_s = 0.0, t1_s = 0.0;  // scored window (session time)
    std::string role;               // "scan", "extension", "confirmation", "slide"
    bool valid = false;
    std::string problem;            // why not valid
    double phase_raw_deg = 0.0;     // HR lag behind the pacer, as measured
    double phase_deg = 0.0;         // corrected for kPhaseLagCorrectionS
    double amplitude_bpm = 0.0;     // mean HR max - min per breath
    double lf_ms2 = 0.0;
    double lf_peak_ms2_per_hz = 0.0;
    double lf_peak_hz = 0.0;
    double smoothness = 0.0;        // 0..1
    int lf_peaks = 0;
    int breaths = 0;
    int beats = 0;
};

inline constexpr int kCriteria = 6;
const char* CriterionName(int i);  // "phase synchrony", "HR max-min", ...

// The combination per rate (blocks at the same rate are averaged first).
struct RateScore {
    double rate_bpm = 0.0;
    int blocks = 0;
    double phase_deg = 0.0, amplitude_bpm = 0.0, lf_ms2 = 0.0, lf_peak_ms2_per_hz = 0.0, smoothness = 0.0;
    double lf_peaks = 0.0;
    double criteria[kCriteria] = {};  // 0..1, best = 1
    double total = 0.0;               // 0..1
};

struct AssessmentResult {
    bool valid = false;
    std::string method;  // "stepped" or "sliding"
    std::string started_utc;
    double recommended_rate_bpm = 0.0;
    std::vector<std::string> reasons;
    std::vector<RateScore> scores;   // by rate, descending
    std::vector<RateBlock> blocks;   // in time order
    std::optional<double> baseline_breathing_bpm;
    std::string note;                // e.g. "extended to 7.0 because 6.5 was best"
};

// Scores one window. `beats` are clean beats (time order); `volume_at` gives the pacer's target
// lung volume at a session time; `breaths` are the pacer's breath cycles (start, end) in the window.
RateBlock ScoreWindow(double rate_bpm, double t0_s, double t1_s, std::span<const dsp::Beat> beats,
                      const std::function<double(double)>& volume_at,
                      std::span<const std::pair<double, double>> breaths);

// Combines blocks into per-rate scores and a recommendation (invalid blocks are ignored).
AssessmentResult Recommend(std::vector<RateBlock> blocks, const std::string& method);

nlohmann::json AssessmentToJson(const AssessmentResult& r);
std::optional<AssessmentResult> AssessmentFromJson(const nlohmann::json& j);

// Saves the result in the profile: profile.json's resonance_rate_bpm becomes the recommendation
// and the result is appended to "resonance_assessments" (earlier results stay). Returns error text.
std::string SaveAssessmentToProfile(const std::filesystem::path& data_dir, const std::string& profile,
                                    const AssessmentResult& r);
// Earlier results, oldest first.
std::vector<AssessmentResult> LoadAssessmentHistory(const std::filesystem::path& data_dir, const std::string& profile);

}  // namespace attune::core
