// Time-domain HRV: mean RR, mean HR, SDNN, SDSD, RMSSD, pNN50, over a list of intervals or a
// rolling window of the last N seconds of beats.
//
// Follows the Task Force of the ESC and NASPE (1996), "Heart rate variability: standards of
// measurement, physiological interpretation and clinical use", Circulation 93:1043–1065, with
// the exact definitions of ../shared/data/README.md (checked against its reference values):
//   mean_rr_ms  = mean of the intervals
//   mean_hr_bpm = mean of the instantaneous heart rates 60000 / ibi_ms (not 60000 / mean RR,
//                 which is lower by Jensen's inequality)
//   sdnn_ms     = sample standard deviation of the intervals (divisor n − 1)
//   sdsd_ms     = sample standard deviation of the successive differences (divisor n_diffs − 1)
//   rmssd_ms    = sqrt(mean of the squared successive differences)  (divisor n_diffs)
//   pnn50_pct   = 100 * (number of |successive difference| > 50 ms, strictly) / n_diffs
//
// Units: ibi_ms in milliseconds. Valid intervals are finite and within [kMinPlausibleIbiMs,
// kMaxPlausibleIbiMs] = 273–2000 ms; others are rejected (counted, never used). A successive
// difference is only formed between two accepted intervals that were adjacent in the input, so
// a rejected interval never creates a fake difference. Fewer than kMinTimeDomainIntervals
// accepted intervals or fewer than 2 differences gives valid == false (numbers 0).
// Short windows are statistically noisy: Task Force recommends 5 min for SDNN; RMSSD is usable
// from ~60 s. The rolling default is 60 s.
//
// Latency: metrics describe the window; a beat is included as soon as it is pushed.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "attune/dsp/types.hpp"

namespace attune::dsp {

inline constexpr std::size_t kMinTimeDomainIntervals = 3;
inline constexpr double kNn50ThresholdMs = 50.0;

struct TimeDomainMetrics {
    bool valid = false;
    std::size_t n_intervals = 0;  // accepted intervals
    std::size_t n_rejected = 0;   // non-finite or implausible intervals skipped
    std::size_t n_diffs = 0;      // successive differences used for SDSD/RMSSD/pNN50
    double mean_rr_ms = 0.0;
    double mean_hr_bpm = 0.0;
    double sdnn_ms = 0.0;
    double sdsd_ms = 0.0;
    double rmssd_ms = 0.0;
    double pnn50_pct = 0.0;
};

// Two-pass (numerically exact) metrics over a list of intervals in recording order.
TimeDomainMetrics compute_time_domain(std::span<const double> ibi_ms);

// Time-domain metrics over the intervals that ended within the last window_s seconds.
// Time is the beat clock: the running sum of the pushed intervals (an implausible but finite
// positive interval still advances it, since that time did pass; a non-finite one cannot).
// push() is O(1) amortised and never allocates: running sums over a ring buffer sized at
// construction for the shortest plausible interval (ceil(window_s / 0.273 s) + 1 entries), with
// an exact recomputation every `capacity` pushes so add/subtract rounding never accumulates.
// metrics() is O(1); its n_rejected is always 0 (rejected intervals are not stored — see
// rejected_total()).
class RollingTimeDomain {
public:
    explicit RollingTimeDomain(double window_s = 60.0);

    void push(double ibi_ms);
    TimeDomainMetrics metrics() const;
    void reset();

    double window_s() const { return window_s_; }
    std::size_t size() const { return size_; }          // accepted intervals in the window
    std::size_t capacity() const { return entries_.size(); }
    std::size_t rejected_total() const { return rejected_total_; }  // since construction/reset

private:
    struct Entry {
        double ibi_ms;
        double end_s;       // beat clock at the end of this interval
        double diff_ms;     // this interval minus the previous accepted, adjacent one
        bool has_diff;      // diff_ms is counted in the sums (false at run starts and window front)
    };
    void add_sums(const Entry& e, double sign);
    void add_diff(double diff_ms, double sign);
    void pop_front();
    void recompute();
    Entry& at(std::size_t i) { return entries_[(head_ + i) % entries_.size()]; }
    const Entry& at(std::size_t i) const { return entries_[(head_ + i) % entries_.size()]; }

    double window_s_;
    std::vector<Entry> entries_;
    std::size_t head_ = 0, size_ = 0;
    double clock_s_ = 0.0;
    bool run_broken_ = true;  // the previous pushed interval was rejected (or none yet)
    std::size_t pushes_since_recompute_ = 0;
    std::size_t rejected_total_ = 0;

    // Sums of (ibi − kShiftMs), its square, and instantaneous HR; and of diffs, their squares
    // and the NN50 count. The shift keeps the squares small, so subtraction loses no precision.
    static constexpr double kShiftMs = 1000.0;
    double s1_ = 0.0, s2_ = 0.0, s_hr_ = 0.0;
    double d1_ = 0.0, d2_ = 0.0;
    std::size_t n_diffs_ = 0, nn50_ = 0;
};

}  // namespace attune::dsp
