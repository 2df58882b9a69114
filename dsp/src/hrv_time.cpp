#include "attune/dsp/hrv_time.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>

namespace attune::dsp {

namespace {

using detail::plausible_ibi;

}  // namespace

TimeDomainMetrics compute_time_domain(std::span<const double> ibi_ms) {
    TimeDomainMetrics m;
    double sum = 0.0, sum_hr = 0.0;
    double sum_d = 0.0, sum_d2 = 0.0;
    std::size_t nn50 = 0;
    bool prev_ok = false;
    double prev = 0.0;
    for (const double ibi : ibi_ms) {
        if (!plausible_ibi(ibi)) {
            ++m.n_rejected;
            prev_ok = false;
            continue;
        }
        ++m.n_intervals;
        sum += ibi;
        sum_hr += 60000.0 / ibi;
        if (prev_ok) {
            const double d = ibi - prev;
            ++m.n_diffs;
            sum_d += d;
            sum_d2 += d * d;
            if (std::abs(d) > kNn50ThresholdMs) ++nn50;
        }
        prev = ibi;
        prev_ok = true;
    }
    if (m.n_intervals < kMinTimeDomainIntervals || m.n_diffs < 2) {
        const std::size_t rejected = m.n_rejected, n = m.n_intervals, nd = m.n_diffs;
        m = TimeDomainMetrics{};
        m.n_rejected = rejected;
        m.n_intervals = n;
        m.n_diffs = nd;
        return m;
    }

    const auto n = static_cast<double>(m.n_intervals);
    const auto nd = static_cast<double>(m.n_diffs);
    m.mean_rr_ms = sum / n;
    m.mean_hr_bpm = sum_hr / n;
    const double mean_d = sum_d / nd;

    // Second pass for the deviations: exact regardless of the magnitude of the mean.
    double ss = 0.0, ss_d = 0.0;
    prev_ok = false;
    for (const double ibi : ibi_ms) {
        if (!plausible_ibi(ibi)) {
            prev_ok = false;
            continue;
        }
        ss += (ibi - m.mean_rr_ms) * (ibi - m.mean_rr_ms);
        if (prev_ok) {
            const double e = (ibi - prev) - mean_d;
            ss_d += e * e;
        }
        prev = ibi;
        prev_ok = true;
    }
    m.sdnn_ms = std::sqrt(ss / (n - 1.0));
    m.sdsd_ms = std::sqrt(ss_d / (nd - 1.0));
    m.rmssd_ms = std::sqrt(sum_d2 / nd);
    m.pnn50_pct = 100.0 * static_cast<double>(nn50) / nd;
    m.valid = true;
    return m;
}

// ---------------------------------------------------------------------------------------------

RollingTimeDomain::RollingTimeDomain(double window_s)
    : window_s_(window_s),
      entries_(static_cast<std::size_t>(
                   std::ceil(std::max(window_s, 0.0) * 1000.0 / kMinPlausibleIbiMs)) + 1) {}

void RollingTimeDomain::reset() {
    head_ = size_ = 0;
    clock_s_ = 0.0;
    run_broken_ = true;
    pushes_since_recompute_ = 0;
    rejected_total_ = 0;
    s1_ = s2_ = s_hr_ = d1_ = d2_ = 0.0;
    n_diffs_ = nn50_ = 0;
}

void RollingTimeDomain::add_sums(const Entry& e, double sign) {
    const double x = e.ibi_ms - kShiftMs;
    s1_ += sign * x;
    s2_ += sign * x * x;
    s_hr_ += sign * (60000.0 / e.ibi_ms);
}

void RollingTimeDomain::add_diff(double diff_ms, double sign) {
    d1_ += sign * diff_ms;
    d2_ += sign * diff_ms * diff_ms;
    const bool nn = std::abs(diff_ms) > kNn50ThresholdMs;
    if (sign > 0) {
        ++n_diffs_;
        nn50_ += nn ? 1 : 0;
    } else {
        --n_diffs_;
        nn50_ -= nn ? 1 : 0;
    }
}

void RollingTimeDomain::pop_front() {
    Entry& front = at(0);
    add_sums(front, -1.0);
    if (front.has_diff) add_diff(front.diff_ms, -1.0);
    head_ = (head_ + 1) % entries_.size();
    --size_;
    // The new front's difference refers to an interval that just left the window.
    if (size_ > 0 && at(0).has_diff) {
        add_diff(at(0).diff_ms, -1.0);
        at(0).has_diff = false;
    }
}

void RollingTimeDomain::recompute() {
    s1_ = s2_ = s_hr_ = d1_ = d2_ = 0.0;
    n_diffs_ = nn50_ = 0;
    for (std::size_t i = 0; i < size_; ++i) {
        add_sums(at(i), 1.0);
        if (at(i).has_diff) add_diff(at(i).diff_ms, 1.0);
    }
    pushes_since_recompute_ = 0;
}

void RollingTimeDomain::push(double ibi_ms) {
    if (std::isfinite(ibi_ms) && ibi_ms > 0.0) clock_s_ += ibi_ms / 1000.0;
    if (!plausible_ibi(ibi_ms)) {
        ++rejected_total_;
        run_broken_ = true;
    } else {
        if (size_ == entries_.size()) pop_front();  // unreachable by construction; stay bounded
        Entry e{ibi_ms, clock_s_, 0.0, false};
        if (!run_broken_ && size_ > 0) {
            e.diff_ms = ibi_ms - at(size_ - 1).ibi_ms;
            e.has_diff = true;
        }
        at(size_) = e;
        ++size_;
        add_sums(e, 1.0);
        if (e.has_diff) add_diff(e.diff_ms, 1.0);
        run_broken_ = false;
    }
    // An interval is in the window while it ended less than window_s ago.
    while (size_ > 0 && at(0).end_s <= clock_s_ - window_s_) pop_front();
    if (++pushes_since_recompute_ >= entries_.size()) recompute();
}

TimeDomainMetrics RollingTimeDomain::metrics() const {
    TimeDomainMetrics m;
    m.n_intervals = size_;
    m.n_diffs = n_diffs_;
    if (size_ < kMinTimeDomainIntervals || n_diffs_ < 2) return m;
    const auto n = static_cast<double>(size_);
    const auto nd = static_cast<double>(n_diffs_);
    const double mean_shifted = s1_ / n;
    m.mean_rr_ms = kShiftMs + mean_shifted;
    m.mean_hr_bpm = s_hr_ / n;
    m.sdnn_ms = std::sqrt(std::max(0.0, (s2_ - s1_ * mean_shifted) / (n - 1.0)));
    m.sdsd_ms = std::sqrt(std::max(0.0, (d2_ - d1_ * d1_ / nd) / (nd - 1.0)));
    m.rmssd_ms = std::sqrt(std::max(0.0, d2_ / nd));
    m.pnn50_pct = 100.0 * static_cast<double>(nn50_) / nd;
    m.valid = true;
    return m;
}

}  // namespace attune::dsp
