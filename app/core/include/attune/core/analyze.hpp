// Offline analysis of a recording: `attune analyze`.
//
// Input kinds:
//   ecg / ppg : a text file (one value per line, or CSV/TSV columns with an optional header;
//               --rate required) or a WFDB record given by its .hea (formats 212 and 16; the
//               rate comes from the header; --column picks the signal by name or index).
//   rr        : one interval in ms per line, or a WFDB .atr annotation file (intervals between
//               consecutive beat annotations; the rate comes from the .hea of the same name, or
//               --rate).
// Processing: the streaming detectors run over the whole signal exactly as live (so a replay
// gives the same beats), then artifact correction (Lipponen & Tarvainen, offline form), then
// the metrics over the corrected series: time domain (definitions in dsp/hrv_time.hpp),
// frequency domain (Task Force 1996, dsp/hrv_freq.hpp), coherence (mean of the 64 s values
// updated every second, dsp/coherence.hpp) and the breathing rate from the heart
// (median of the per-second estimates whose confidence is at least 0.4, dsp/rsa.hpp).
// The same metrics over the uncorrected intervals are reported alongside ("uncorrected"), so the
// numbers compare with tools that apply no correction (and with reference values computed on
// raw series, e.g. ../shared/data/README.md for rr/rest-rri.txt).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attune/dsp/artifacts.hpp"
#include "attune/dsp/hrv_freq.hpp"
#include "attune/dsp/hrv_time.hpp"

namespace attune::core {

enum class AnalyzeSignal { Ecg, Ppg, Rr };

struct AnalyzeOptions {
    std::string input;
    AnalyzeSignal signal = AnalyzeSignal::Ppg;
    std::optional<double> rate_hz;
    std::string column;  // name or 0-based index; empty = first (text) / first signal (WFDB)
    bool invert = false; // PPG whose pulse is a dip (raw MAX3010x IR); otherwise polarity is detected
};

struct AnalyzeResult {
    std::string error;  // non-empty: bad input, one line naming the problem
    double duration_s = 0.0;
    double sample_rate_hz = 0.0;
    std::vector<double> beat_t_s;                       // detected beats (ecg/ppg) or beat times (rr)
    std::vector<dsp::ClassifiedInterval> classified;    // every interval with its class
    dsp::ArtifactCounts artifacts;
    dsp::TimeDomainMetrics time;              // artifact-corrected series (the default report)
    dsp::FrequencyDomainMetrics frequency;
    dsp::TimeDomainMetrics time_uncorrected;  // every plausible interval as recorded, for
    dsp::FrequencyDomainMetrics frequency_uncorrected;  // comparison with tools that do not correct
    std::optional<double> coherence;                    // mean HeartMath-style score, ln(ratio + 1)
    std::optional<double> breathing_rate_bpm;
    std::string signal_description;                     // e.g. "WFDB 100.hea signal 0 (MLII), 360 Hz"
    bool inverted = false;                              // PPG polarity used
};

AnalyzeResult Analyze(const AnalyzeOptions& options);

// The --json object (keys listed in the README).
nlohmann::json AnalyzeJson(const AnalyzeResult& r);
// The readable report printed without --json.
std::string AnalyzeReport(const AnalyzeResult& r);
// The --beats-out file: "t_s" then beats (ecg/ppg), or "t_s,ibi_ms,flag" (rr). Returns error text.
std::string WriteBeatsFile(const std::string& path, const AnalyzeResult& r, AnalyzeSignal signal);

// "ok", "ectopic", "missed", "extra", "long", "short", "implausible".
const char* FlagName(dsp::IntervalClass c);

}  // namespace attune::core
