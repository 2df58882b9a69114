#include "attune/dsp/ecg_detector.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attune::dsp {

EcgDetector::EcgDetector() : EcgDetector(Params{}) {}

EcgDetector::EcgDetector(const Params& params)
    : p_(params),
      fs_(detail::sane_rate(params.sample_rate_hz, 360.0)),
      bandpass_(detail::bandpass_params(params.band_low_hz, params.band_high_hz, fs_)),
      derivative_(FivePointDerivative::Params{fs_}),
      mwi_(MovingAverage::Params{MovingAverage::samples_for(params.integration_window_s, fs_)}),
      raw_hist_(static_cast<std::size_t>(std::ceil(1.0 * fs_)) + 16),
      bp_hist_(static_cast<std::size_t>(std::ceil(1.0 * fs_)) + 16),
      slope_hist_(static_cast<std::size_t>(std::ceil(1.0 * fs_)) + 16),
      mwi_hist_(static_cast<std::size_t>(std::ceil(2.5 * fs_)) + 16) {
    p_.sample_rate_hz = fs_;
    w_ = mwi_.length();
    confirm_ = std::max<std::size_t>(1, MovingAverage::samples_for(p_.confirm_s, fs_));
    refractory_samples_ = std::max(p_.refractory_s * fs_, kMinPlausibleIbiMs * 1e-3 * fs_);
    t_wave_samples_ = p_.t_wave_window_s * fs_;
    bp_delay_ = std::max(0.0, bandpass_.group_delay_samples(10.0));
    mwi_offset_ = bp_delay_ + 2.0 + 0.5 * static_cast<double>(w_);
    half_search_ = std::max<std::size_t>(1, MovingAverage::samples_for(0.060, fs_));
    half_base_ = std::max<std::size_t>(2, MovingAverage::samples_for(0.100, fs_));
    learn_samples_ = static_cast<std::int64_t>(p_.learning_s * fs_);
    reacquire_samples_ = 3.0 * fs_;
    reset();
}

void EcgDetector::reset() {
    bandpass_.reset();
    derivative_.reset();
    mwi_.reset();
    raw_hist_.reset();
    bp_hist_.reset();
    slope_hist_.reset();
    mwi_hist_.reset();
    log_snr_ = 0.0;
    snr_count_ = 0;
    n_ = 0;
    last_x_ = 0.0;
    have_x_ = false;
    prev_mwi_ = 0.0;
    cand_ = {};
    learn_max_ = learn_sum_ = 0.0;
    learn_count_ = 0;
    learned_ = false;
    spki_ = npki_ = 0.0;
    last_beat_pos_ = -1.0;
    last_beat_emitted_ = false;
    last_qrs_slope_ = 0.0;
    last_decay_ = 0;
    reacquire_ref_ = 0.0;
    std::fill(std::begin(rr_), std::end(rr_), 0.0);
    rr_count_ = rr_next_ = 0;
    polarity_ = 0.0;
}

double EcgDetector::qrs_snr() const { return snr_count_ ? std::exp(log_snr_) : 0.0; }

bool EcgDetector::gate_open() const {
    if (p_.min_qrs_snr <= 0.0) return true;
    return snr_count_ >= 2 && qrs_snr() >= p_.min_qrs_snr;
}

std::optional<Beat> EcgDetector::process(double x) {
    if (!std::isfinite(x)) x = have_x_ ? last_x_ : 0.0;
    if (!have_x_) {
        bandpass_.reset(x);  // start in the steady state of the first value: no start-up step
        have_x_ = true;
    }
    last_x_ = x;
    raw_hist_.push(x);
    const double bp = bandpass_.process(x);
    bp_hist_.push(bp);
    const double d = derivative_.process(bp);
    slope_hist_.push(std::abs(d));
    const double m = mwi_.process(d * d);
    mwi_hist_.push(m);

    std::optional<Beat> out;
    if (!learned_) {
        learn_max_ = std::max(learn_max_, m);
        learn_sum_ += m;
        ++learn_count_;
        if (n_ + 1 >= learn_samples_) {
            // Pan–Tompkins learning phase 1: signal level from the largest peak, noise level
            // from the mean of the integrated waveform.
            spki_ = 0.5 * learn_max_;
            npki_ = 0.5 * learn_sum_ / static_cast<double>(std::max<std::int64_t>(1, learn_count_));
            learned_ = true;
            last_decay_ = n_;
            reacquire_ref_ = std::max(static_cast<double>(last_decay_), last_beat_pos_);
        }
    }

    // MWI peak picking: a candidate starts on a rise and is final once nothing higher has
    // followed for confirm_ samples.
    if (cand_.index < 0) {
        if (m > prev_mwi_) cand_ = {m, n_};
    } else if (m > cand_.value) {
        cand_ = {m, n_};
    }
    prev_mwi_ = m;
    if (cand_.index >= 0 && n_ - cand_.index >= static_cast<std::int64_t>(confirm_)) {
        const Candidate c = cand_;
        cand_ = {};
        on_mwi_peak(c.index, c.value, out);
    }

    // Re-acquisition: no beat for 3 s halves the distance of SPKI above NPKI (at most every 3 s).
    // (reacquire_ref_ = max(last_decay_, last_beat_pos_), kept up to date where either changes.)
    if (learned_ && static_cast<double>(n_) - reacquire_ref_ > reacquire_samples_) {
        spki_ = npki_ + 0.5 * (spki_ - npki_);
        last_decay_ = n_;
        reacquire_ref_ = std::max(static_cast<double>(last_decay_), last_beat_pos_);
    }
    ++n_;
    return out;
}

std::optional<Beat> EcgDetector::flush() {
    std::optional<Beat> out;
    if (cand_.index >= 0 && n_ > 0) {
        const Candidate c = cand_;
        cand_ = {};
        --n_;  // the newest sample is n_ - 1
        on_mwi_peak(c.index, c.value, out);
        ++n_;
    }
    return out;
}

void EcgDetector::process(std::span<const double> samples, std::vector<Beat>& out) {
    for (double s : samples)
        if (auto b = process(s)) out.push_back(*b);
}

bool EcgDetector::locate_r_peak(std::int64_t p, double& pos, double& amplitude, double& slope) {
    const auto avail = static_cast<std::int64_t>(bp_hist_.size());
    auto value_at = [&](const SampleHistory& h, std::int64_t idx) { return h.at(static_cast<std::size_t>(n_ - idx)); };
    auto in_hist = [&](std::int64_t idx) { return idx <= n_ && n_ - idx < avail; };

    // Band-pass energy that produced the MWI peak at p: sq indices [p-w+1, p], derivative delay 2.
    const auto extra = static_cast<std::int64_t>(std::lround(0.02 * fs_));
    std::int64_t lo = p - static_cast<std::int64_t>(w_) - 2 - extra, hi = p;
    lo = std::max(lo, n_ - avail + 1);
    if (hi < lo) return false;
    std::int64_t ibp = lo;
    double best = -1.0;
    slope = 0.0;
    for (std::int64_t i = lo; i <= hi; ++i) {
        const double v = std::abs(value_at(bp_hist_, i));
        if (v > best) {
            best = v;
            ibp = i;
        }
        slope = std::max(slope, value_at(slope_hist_, i));
    }
    const std::int64_t c = ibp - static_cast<std::int64_t>(std::lround(bp_delay_));

    // Local mean of the original signal (±100 ms), then the largest deviation within ±60 ms.
    // The search never reaches further back than max_latency_s() from now.
    const std::int64_t oldest = std::max(n_ - avail + 1,
                                         n_ - static_cast<std::int64_t>(std::floor(max_latency_s() * fs_)) + 2);
    std::int64_t b0 = std::max(c - static_cast<std::int64_t>(half_base_), n_ - avail + 1);
    std::int64_t b1 = std::min(c + static_cast<std::int64_t>(half_base_), n_);
    if (b1 < b0) return false;
    double base = 0.0;
    for (std::int64_t i = b0; i <= b1; ++i) base += value_at(raw_hist_, i);
    base /= static_cast<double>(b1 - b0 + 1);

    std::int64_t s0 = std::max(c - static_cast<std::int64_t>(half_search_), oldest);
    std::int64_t s1 = std::min(c + static_cast<std::int64_t>(half_search_), n_);
    if (s1 < s0) {
        s0 = oldest;
        s1 = std::max(oldest, std::min(n_, s0 + 1));
    }
    double pos_dev = -1.0, neg_dev = -1.0;
    std::int64_t ipos = s0, ineg = s0;
    for (std::int64_t i = s0; i <= s1; ++i) {
        const double v = value_at(raw_hist_, i) - base;
        if (v > pos_dev) {
            pos_dev = v;
            ipos = i;
        }
        if (-v > neg_dev) {
            neg_dev = -v;
            ineg = i;
        }
    }
    // Dominant polarity, tracked over beats; a beat clearly of the other polarity keeps its own.
    bool upright = polarity_ >= 0.0;
    if (upright && pos_dev < 0.5 * neg_dev) upright = false;
    else if (!upright && neg_dev < 0.5 * pos_dev) upright = true;
    if (pos_dev + neg_dev > 0.0) polarity_ += 0.1 * ((pos_dev - neg_dev) / (pos_dev + neg_dev) - polarity_);

    const std::int64_t i = upright ? ipos : ineg;
    const double sign = upright ? 1.0 : -1.0;
    amplitude = upright ? pos_dev : neg_dev;
    pos = static_cast<double>(i);
    if (in_hist(i - 1) && in_hist(i + 1)) {
        const auto pk = parabolic_peak(sign * value_at(raw_hist_, i - 1), sign * value_at(raw_hist_, i),
                                       sign * value_at(raw_hist_, i + 1));
        pos += pk.offset;
    }
    return true;
}

void EcgDetector::on_mwi_peak(std::int64_t p, double v, std::optional<Beat>& out) {
    if (!learned_) return;
    const double thr1 = npki_ + 0.25 * (spki_ - npki_);
    const double thr2 = 0.5 * thr1;
    if (v <= thr2) {
        npki_ = 0.125 * v + 0.875 * npki_;
        return;
    }
    double pos = 0.0, amplitude = 0.0, slope = 0.0;
    if (!locate_r_peak(p, pos, amplitude, slope)) return;
    const double since = last_beat_pos_ >= 0.0 ? pos - last_beat_pos_ : std::numeric_limits<double>::infinity();
    if (since < refractory_samples_) return;  // Pan–Tompkins: ignored within the refractory period

    double rr_mean = 0.0;
    for (int k = 0; k < rr_count_; ++k) rr_mean += rr_[k];
    if (rr_count_ > 0) rr_mean /= rr_count_;

    bool is_qrs = v > thr1;
    bool searchback = false;
    if (!is_qrs && rr_count_ > 0 && since > 1.66 * rr_mean) {
        is_qrs = true;  // causal search-back: late and above I2
        searchback = true;
    }
    // T-wave discrimination (Pan–Tompkins): a short interval and less than half the slope of the
    // previous QRS.
    if (is_qrs && since < t_wave_samples_ && slope < 0.5 * last_qrs_slope_) is_qrs = false;
    if (!is_qrs) {
        npki_ = 0.125 * v + 0.875 * npki_;
        return;
    }
    spki_ = searchback ? 0.25 * v + 0.75 * spki_ : 0.125 * v + 0.875 * spki_;
    last_qrs_slope_ = slope;

    const double since_ms = since / fs_ * 1000.0;
    const bool plausible = since_ms >= kMinPlausibleIbiMs && since_ms <= kMaxPlausibleIbiMs;
    if (plausible) {
        rr_[rr_next_] = since;
        rr_next_ = (rr_next_ + 1) % 8;
        rr_count_ = std::min(rr_count_ + 1, 8);
    }
    if (std::isfinite(since) && since <= 2.0 * fs_) {
        // Mean MWI over the middle half of the interval (T and P waves, baseline noise).
        const double a = last_beat_pos_ + 0.25 * since + mwi_offset_, b = pos - 0.25 * since + mwi_offset_;
        const auto ia = static_cast<std::int64_t>(std::ceil(a)), ib = static_cast<std::int64_t>(std::floor(b));
        const auto avail = static_cast<std::int64_t>(mwi_hist_.size());
        double sum = 0.0;
        std::int64_t cnt = 0;
        for (std::int64_t i = std::max(ia, n_ - avail + 1); i <= std::min(ib, n_); ++i) {
            sum += mwi_hist_.at(static_cast<std::size_t>(n_ - i));
            ++cnt;
        }
        if (cnt > 0) {
            const double ratio = std::max(1e-3, v / std::max(sum / static_cast<double>(cnt), 1e-300));
            log_snr_ = snr_count_ ? log_snr_ + 0.25 * (std::log(ratio) - log_snr_) : std::log(ratio);
            ++snr_count_;
        }
    }
    const bool emit = gate_open();
    if (emit) {
        Beat b;
        b.t_s = pos / fs_;
        b.ibi_ms = (last_beat_emitted_ && plausible) ? since_ms : 0.0;
        b.amplitude = amplitude;
        out = b;
    }
    last_beat_pos_ = pos;
    reacquire_ref_ = std::max(static_cast<double>(last_decay_), last_beat_pos_);
    last_beat_emitted_ = emit;
}

}  // namespace attune::dsp
