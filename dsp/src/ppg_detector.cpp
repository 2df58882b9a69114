#include "attune/dsp/ppg_detector.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attune::dsp {

namespace {
std::size_t odd_samples(double s, double fs) {
    std::size_t n = MovingAverage::samples_for(s, fs);
    if (n % 2 == 0) ++n;
    return n;
}
constexpr double kDecimatedRateHz = 20.0;

// Last-5 histories (newest first) and their median (0 when empty).
void push5(double (&h)[5], int& n, double v) {
    for (int i = 4; i > 0; --i) h[i] = h[i - 1];
    h[0] = v;
    n = std::min(n + 1, 5);
}
double median5(const double (&h)[5], int n) {
    if (n == 0) return 0.0;
    double t[5] = {};
    for (int i = 0; i < n; ++i) {  // insertion sort of at most 5 values
        double v = h[i];
        int j = i;
        for (; j > 0 && t[j - 1] > v; --j) t[j] = t[j - 1];
        t[j] = v;
    }
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}
constexpr double kPeriodicityWindowS = 6.0;
constexpr double kSignificance2 = 3.5 * 3.5;
constexpr double kAgcFloor = 0.2;  // largest periodicity gain: 5 x the 10 s RMS level (14 dB)

// lag[k] += back[k] * u - a * fwd[k] for k in [0, n), n a multiple of 4 (groups of four: one
// vector operation each, no alignment or remainder handling; restrict: no aliasing checks).
void lag_update(float* __restrict lag, const float* __restrict back, const float* __restrict fwd, float u, float a,
                std::size_t n) {
    for (std::size_t k = 0; k < n; k += 4)
        for (std::size_t q = 0; q < 4; ++q) lag[k + q] += back[k + q] * u - a * fwd[k + q];
}
// Expected-beat rescue: no earlier than 0.8 x the expected interval after the last beat (normal
// beat-to-beat variability at rest stays within about +-20 %; a premature beat's pulse is weak
// or absent in a PPG anyway), not before the window up to 1.2 x the interval has been seen,
// and the largest rise within 0.5 x the expected interval after it.
constexpr double kRescueEarliest = 0.8;
constexpr double kRescueLatest = 1.2;
constexpr double kRescueNeighbourhood = 0.5;
constexpr double kRescuePhase = 0.25;
}  // namespace

PpgDetector::PpgDetector() : PpgDetector(Params{}) {}

PpgDetector::PpgDetector(const Params& params)
    : p_(params),
      fs_(detail::sane_rate(params.sample_rate_hz, 100.0)),
      bandpass_(detail::bandpass_params(params.band_low_hz, params.band_high_hz, fs_)),
      ma_peak_(MovingAverage::Params{odd_samples(params.peak_window_s, fs_)}),
      ma_beat_(MovingAverage::Params{1}),
      raw_hist_(static_cast<std::size_t>(std::ceil(1.5 * fs_)) + 16),
      bp_hist_(1),
      mp_hist_(1) {
    p_.sample_rate_hz = fs_;
    w1_ = ma_peak_.length();
    h_ = (w1_ - 1) / 2;
    d_ = std::max(h_, MovingAverage::samples_for(p_.lookahead_s, fs_));
    mp_hist_ = SampleHistory(d_ - h_ + 1);
    ma_beat_ = MovingAverage(MovingAverage::Params{MovingAverage::samples_for(0.5 * p_.beat_window_s, fs_) + d_ + 1});
    bp_delay_ = bandpass_.group_delay_samples(2.0);
    rise_win_ = std::max<std::size_t>(2, MovingAverage::samples_for(0.3, fs_));
    bp_hist_ = SampleHistory(static_cast<std::size_t>(std::ceil(max_latency_s() * fs_ + std::max(0.0, bp_delay_))) +
                             d_ + rise_win_ + 16);
    smooth_half_ = static_cast<std::size_t>(std::floor(0.015 * fs_ + 1e-9));
    climb_ = std::max<std::size_t>(1, MovingAverage::samples_for(0.150, fs_));
    {
        // A block is closed at most wait_ after its maximum, so that its peak (bp_delay_ before the
        // band-pass maximum) is emitted within max_latency_s() (10 ms margin).
        const double budget = (max_latency_s() - 0.01) * fs_ - static_cast<double>(d_) - std::max(0.0, bp_delay_);
        wait_ = std::max<std::size_t>(1, std::min(MovingAverage::samples_for(p_.max_block_wait_s, fs_),
                                                 static_cast<std::size_t>(std::max(1.0, std::floor(budget)))));
    }
    deadline_ = static_cast<std::int64_t>(std::floor((max_latency_s() - 0.04) * fs_));
    due_offset_ = static_cast<std::int64_t>(std::ceil(static_cast<double>(deadline_) - bp_delay_));
    refractory_samples_ = std::max(p_.refractory_s, kMinPlausibleIbiMs * 1e-3) * fs_;
    decim_ = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(fs_ / kDecimatedRateHz)));
    const double fd = fs_ / static_cast<double>(decim_);
    per_.init(fd, static_cast<std::size_t>(std::ceil(kMinPlausibleIbiMs * 1e-3 * fd)),
              static_cast<std::size_t>(std::floor(kMaxPlausibleIbiMs * 1e-3 * fd)),
              static_cast<std::size_t>(std::ceil(kPeriodicityWindowS * fd)) + 1,
              std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(0.5 * fd))));
    polarity_start_ = static_cast<std::int64_t>(3.0 * fs_);
    block_start_n_ = static_cast<std::int64_t>(w1_ + d_ - h_);
    zbar_alpha_ = 1.0 - std::exp(-1.0 / (10.0 * fs_));
    skew_alpha_ = 1.0 - std::exp(-static_cast<double>(decim_) / (8.0 * fs_));  // 8 s, per decimated sample
    reset();
}

void PpgDetector::reset() {
    bandpass_.reset();
    ma_peak_.reset();
    ma_beat_.reset();
    raw_hist_.reset();
    bp_hist_.reset();
    mp_hist_.reset();
    per_.reset();
    n_ = 0;
    last_x_ = 0.0;
    have_x_ = false;
    sign_ = p_.polarity == Polarity::Inverted ? -1.0 : 1.0;
    prev_bp_ = prev_s1_ = prev_s2_ = 0.0;
    last_thr_ = 0.0;
    d2_ = d3_ = s2_ = s3_ = 0.0;
    zbar_ = zbar_w_ = 0.0;
    in_block_ = consumed_ = false;
    block_start_ = 0;
    ymax_ = 0.0;
    ymax_idx_ = -1;
    last_pos_ = -1.0;
    last_emitted_ = false;
    last_primary_ = false;
    rr_n_ = amp_n_ = rise_n_ = 0;
    rr_ref_ = rise_ref_ = amp_ref_ = 0.0;
    rhythm_ok_ = false;
    cand_head_ = cand_n_ = 0;
    dec_acc_ = 0.0;
    dec_count_ = 0;
    next_periodicity_ = 0;
    periodicity_ = 0.0;
    gate_ = false;
}

double PpgDetector::smoothed(std::int64_t idx) const {
    // Centred moving average of 2*smooth_half_+1 samples around idx (clipped to the history).
    const auto avail = static_cast<std::int64_t>(raw_hist_.size());
    const std::int64_t newest = n_, oldest = n_ - avail + 1;
    const auto hs = static_cast<std::int64_t>(smooth_half_);
    std::int64_t a = std::max(idx - hs, oldest), b = std::min(idx + hs, newest);
    if (b < a) return 0.0;
    double s = 0.0;
    for (std::int64_t i = a; i <= b; ++i) s += raw_hist_.at(static_cast<std::size_t>(n_ - i));
    return sign_ * s / static_cast<double>(b - a + 1);
}

bool PpgDetector::rhythm_established() const {
    // At least 4 of the last 5 block-to-block intervals within +-30 % of their median: the
    // expected interval can be trusted (not while an early false or missed beat is in it).
    if (rr_n_ < 5) return false;
    const double med = median5(rr_hist_, rr_n_);
    int agree = 0;
    for (int i = 0; i < rr_n_; ++i) agree += std::abs(rr_hist_[i] - med) <= 0.3 * med ? 1 : 0;
    return agree >= 4;
}

double PpgDetector::rise_at(std::int64_t idx) const {
    const auto avail = static_cast<std::int64_t>(bp_hist_.size());
    const std::int64_t oldest = n_ - avail + 1;
    if (idx < oldest || idx > n_) return 0.0;
    const std::int64_t a = std::max(oldest, idx - static_cast<std::int64_t>(rise_win_));
    double lo = bp_at(idx);
    for (std::int64_t i = a; i < idx; ++i) lo = std::min(lo, bp_at(i));
    return bp_at(idx) - lo;
}

std::optional<Beat> PpgDetector::process(double x) {
    if (!std::isfinite(x)) x = have_x_ ? last_x_ : 0.0;
    if (!have_x_) {
        bandpass_.reset(x);
        have_x_ = true;
    }
    last_x_ = x;
    raw_hist_.push(x);
    const double bp = bandpass_.process(x);
    bp_hist_.push(bp);

    const double dbp = bp - prev_bp_;
    prev_bp_ = bp;

    // Decimated band-passed signal for the periodicity gate. Automatic polarity works at that
    // rate too: score = skewness of the band-passed signal (sharp systolic peaks over broad
    // troughs; Elgendi 2016 found skewness the best PPG quality index for that reason) + 0.5 x
    // skewness of its slope (the systolic upstroke is steeper than the diastolic decay), both
    // positive for an upright PPG and changing sign with the polarity; first decided at 3 s.
    dec_acc_ += bp;
    const bool decimated = ++dec_count_ == decim_;
    if (decimated) {
        per_.push(dec_acc_);
        dec_acc_ = 0.0;
        dec_count_ = 0;
        if (p_.polarity == Polarity::Auto) {
            // Moments from the band-passed value and its per-sample slope, taken once per
            // decimated sample (neighbouring samples add little; 8 s time constant).
            d2_ += skew_alpha_ * (bp * bp - d2_);
            d3_ += skew_alpha_ * (bp * bp * bp - d3_);
            s2_ += skew_alpha_ * (dbp * dbp - s2_);
            s3_ += skew_alpha_ * (dbp * dbp * dbp - s3_);
        }
    }
    if (p_.polarity == Polarity::Auto && n_ >= polarity_start_ && (decimated || n_ == polarity_start_) && d2_ > 0.0 &&
        s2_ > 0.0) {
        const double score = d3_ / (d2_ * std::sqrt(d2_)) + 0.5 * s3_ / (s2_ * std::sqrt(s2_));
        if (n_ == polarity_start_) sign_ = score >= 0.0 ? 1.0 : -1.0;
        else if (score * sign_ < -0.2) sign_ = -sign_;
    }
    if (n_ >= next_periodicity_) {
        update_periodicity();
        next_periodicity_ = n_ + std::max<std::int64_t>(1, static_cast<std::int64_t>(std::lround(0.5 * fs_)));
    }

    const double s = sign_ * bp;
    // Candidate list for the expected-beat rescue: local maxima of the band-passed signal (their
    // rise is measured only if they come up for a decision).
    if (p_.rescue_rise > 0.0 && n_ >= 2 && prev_s1_ > prev_s2_ && prev_s1_ >= s) {
        const std::int64_t idx = n_ - 1;
        if (cand_n_ == kCand) {
            cand_head_ = (cand_head_ + 1) & (kCand - 1);
            --cand_n_;
        }
        cand_[(cand_head_ + cand_n_) & (kCand - 1)] = Candidate{idx, idx + due_offset_, -1.0};
        ++cand_n_;
    }
    prev_s2_ = prev_s1_;
    prev_s1_ = s;

    const double y = std::max(s, 0.0);
    const double z = y * y;
    mp_hist_.push(ma_peak_.process(z));     // centred at n - h
    const double mp = mp_hist_.at(d_ - h_);  // centred at m = n - d (used once n >= block_start_n_)
    const double mb = ma_beat_.process(z);   // [m - W2/2, m + d]
    zbar_ += zbar_alpha_ * (z - zbar_);
    double zmean = zbar_;
    if (zbar_w_ < 1.0) {  // bias correction of the EMA until its weight is 1 (within 1e-9: 3.5 min)
        zbar_w_ += zbar_alpha_ * (1.0 - zbar_w_);
        if (zbar_w_ > 1.0 - 1e-9) zbar_w_ = 1.0;
        zmean = zbar_w_ > 0.0 ? zbar_ / zbar_w_ : 0.0;
    }

    std::optional<Beat> out;
    const double thr = mb + p_.beta * zmean;
    last_thr_ = thr;
    if (n_ >= block_start_n_ && (in_block_ || (mp > thr && mp > 0.0))) {
        const double ym = std::max(0.0, sign_ * bp_hist_.at(d_));
        step_block(n_ - static_cast<std::int64_t>(d_), mp, thr, ym, out);
    }
    if (cand_n_ > 0 && n_ >= cand_[cand_head_].due && !out) check_rescue(out);
    ++n_;
    return out;
}

void PpgDetector::step_block(std::int64_t m, double mp, double thr, double ym, std::optional<Beat>& out) {
    const bool active = mp > thr && mp > 0.0;
    if (active && !in_block_) {
        in_block_ = true;
        consumed_ = false;
        block_start_ = m;
        ymax_ = -1.0;
        ymax_idx_ = -1;
    }
    if (in_block_ && active && !consumed_ && m >= 0) {
        if (ym > ymax_) {
            ymax_ = ym;
            ymax_idx_ = m;
        }
        if (ymax_idx_ >= 0 && m - ymax_idx_ >= static_cast<std::int64_t>(wait_) &&
            m - block_start_ >= static_cast<std::int64_t>(w1_)) {
            consumed_ = true;
            finalize_block(out);
        }
    }
    if (in_block_ && !active) {
        in_block_ = false;
        if (!consumed_ && ymax_idx_ >= 0 && m - block_start_ >= static_cast<std::int64_t>(w1_)) finalize_block(out);
    }
}

void PpgDetector::process(std::span<const double> samples, std::vector<Beat>& out) {
    for (double v : samples)
        if (auto b = process(v)) out.push_back(*b);
}

std::optional<Beat> PpgDetector::flush() {
    std::optional<Beat> out;
    if (n_ < block_start_n_) return out;
    --n_;  // the newest sample is n_ - 1
    // Run the block logic over the look-ahead not yet evaluated, holding the last threshold.
    const std::int64_t first = n_ - static_cast<std::int64_t>(d_) + 1;
    for (std::int64_t m = std::max<std::int64_t>(first, 0); m <= n_ - static_cast<std::int64_t>(h_) && !out; ++m) {
        const std::size_t lag_mp = static_cast<std::size_t>(n_ - static_cast<std::int64_t>(h_) - m);
        if (lag_mp >= mp_hist_.size()) continue;
        const double mp = mp_hist_.at(lag_mp);
        const double ym = std::max(0.0, bp_at(m));
        step_block(m, mp, last_thr_, ym, out);
    }
    if (!out && in_block_ && !consumed_ && ymax_idx_ >= 0) {
        // The block's maximum over all the samples there are; it counts only if the signal has
        // come down from it (a rise cut off by the end of the stream is not a pulse).
        for (std::int64_t m = std::max<std::int64_t>(n_ - static_cast<std::int64_t>(h_) + 1, 0); m <= n_; ++m) {
            const double ym = std::max(0.0, bp_at(m));
            if (ym > ymax_) {
                ymax_ = ym;
                ymax_idx_ = m;
            }
        }
        // Nor does a bump under half the height of the recent pulses: nothing more will come
        // to tell a weak pulse from a ripple at the very end.
        if (ymax_idx_ <= n_ - 2 && std::max(0.0, bp_at(n_)) < ymax_ && ymax_ >= 0.5 * amp_ref_) {
            consumed_ = true;
            finalize_block(out);
        }
    }
    ++n_;
    return out;
}

bool PpgDetector::refine_peak(std::int64_t bp_idx, double& pos) const {
    const auto avail = static_cast<std::int64_t>(raw_hist_.size());
    const auto hs = static_cast<std::int64_t>(smooth_half_);
    // Limits: the smoothing window must be complete, and the peak no older than the latency bound.
    const std::int64_t hi = n_ - hs;
    const std::int64_t lo = std::max(n_ - avail + 1 + hs,
                                     n_ - static_cast<std::int64_t>(std::floor(max_latency_s() * fs_)) + 2);
    if (hi < lo) return false;
    std::int64_t c = bp_idx - static_cast<std::int64_t>(std::lround(bp_delay_));
    c = std::clamp(c, lo, hi);
    const std::int64_t c0 = std::max(lo, c - static_cast<std::int64_t>(climb_));
    const std::int64_t c1 = std::min(hi, c + static_cast<std::int64_t>(climb_));
    std::int64_t i = c;
    double v = smoothed(i);
    // Hill climb to the local maximum (plateaus are crossed towards the higher side).
    int dir = 0;
    if (i + 1 <= c1 && smoothed(i + 1) > v) dir = 1;
    else if (i - 1 >= c0 && smoothed(i - 1) > v) dir = -1;
    if (dir != 0) {
        while (true) {
            const std::int64_t j = i + dir;
            if (j < c0 || j > c1) break;
            const double vj = smoothed(j);
            if (vj < v) break;
            if (vj == v) {  // plateau (sample-and-hold input): look one step further
                const std::int64_t k = j + dir;
                if (k < c0 || k > c1 || smoothed(k) < v) break;
            }
            i = j;
            v = vj;
        }
    }
    // Final position: least-squares parabola through the original samples within ±15 ms (at least
    // ±1 sample) of the smoothed maximum; its vertex, if it is a maximum inside the window.
    // (A symmetric fit adds no delay; unlike a 3-point parabola it is not thrown by noise on the
    // flat top of a pulse at high sample rates.)
    auto raw = [&](std::int64_t k) { return sign_ * raw_hist_.at(static_cast<std::size_t>(n_ - k)); };
    const std::int64_t oldest = n_ - avail + 1;
    const std::int64_t w = std::max<std::int64_t>(1, hs);
    const std::int64_t f0 = std::max(i - w, oldest), f1 = std::min(i + w, n_);
    pos = static_cast<double>(i);
    if (f1 - f0 >= 2) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, t0 = 0, t1 = 0, t2 = 0;
        const double y0 = raw(i);
        for (std::int64_t k = f0; k <= f1; ++k) {
            const double x = static_cast<double>(k - i), y = raw(k) - y0, x2 = x * x;
            s0 += 1;
            s1 += x;
            s2 += x2;
            s3 += x2 * x;
            s4 += x2 * x2;
            t0 += y;
            t1 += x * y;
            t2 += x2 * y;
        }
        // Normal equations for y = a + b x + c x^2 (Cramer's rule).
        const double det = s0 * (s2 * s4 - s3 * s3) - s1 * (s1 * s4 - s3 * s2) + s2 * (s1 * s3 - s2 * s2);
        if (std::abs(det) > 0.0) {
            const double b = (s0 * (t1 * s4 - s3 * t2) - t0 * (s1 * s4 - s3 * s2) + s2 * (s1 * t2 - t1 * s2)) / det;
            const double cc = (s0 * (s2 * t2 - t1 * s3) - s1 * (s1 * t2 - t1 * s2) + t0 * (s1 * s3 - s2 * s2)) / det;
            if (cc < 0.0) {
                const double vx = -b / (2.0 * cc);
                if (vx >= static_cast<double>(f0 - i) && vx <= static_cast<double>(f1 - i)) pos += vx;
            }
        }
    }
    return true;
}

void PpgDetector::finalize_block(std::optional<Beat>& out) {
    double pos = 0.0;
    if (!refine_peak(ymax_idx_, pos)) return;
    const double since = last_pos_ >= 0.0 ? pos - last_pos_ : std::numeric_limits<double>::infinity();
    if (since < refractory_samples_) return;
    // Secondary (reflected / diastolic) wave: early and much smaller than recent pulses, the
    // PPG counterpart of Pan–Tompkins' T-wave rule. References: medians of the last 5 accepted
    // intervals and pulse heights.
    const double rr_ref = rr_ref_;
    const double amp_ref = amp_ref_;
    if (rr_ref > 0.0 && since < 0.6 * rr_ref && ymax_ < 0.5 * amp_ref) return;
    // A pulse under a quarter of the recent height is noise (a secondary wave, a ripple), unless
    // nothing has been accepted for 1.5 median intervals (the amplitude may really have dropped).
    const bool overdue = rr_ref > 0.0 && since > 1.5 * rr_ref;
    if (amp_ref > 0.0 && ymax_ < 0.25 * amp_ref && !overdue) return;
    accept(pos, ymax_, rise_at(ymax_idx_), true, out);
}

void PpgDetector::accept(double pos, double height, double rise, bool primary, std::optional<Beat>& out) {
    const double since = last_pos_ >= 0.0 ? pos - last_pos_ : std::numeric_limits<double>::infinity();
    const double since_ms = since / fs_ * 1000.0;
    const bool plausible = since_ms >= kMinPlausibleIbiMs && since_ms <= kMaxPlausibleIbiMs;
    // Interval and pulse references come from block (primary) beats only, and an interval only
    // from two consecutive ones, so that a rescued beat never lowers the bar for the next rescue.
    if (plausible && primary && last_primary_) push5(rr_hist_, rr_n_, since);
    if (primary) {
        push5(amp_hist_, amp_n_, height);
        push5(rise_hist_, rise_n_, rise);
    }
    last_primary_ = primary;
    rr_ref_ = median5(rr_hist_, rr_n_);
    rise_ref_ = median5(rise_hist_, rise_n_);
    amp_ref_ = median5(amp_hist_, amp_n_);
    rhythm_ok_ = rhythm_established();
    const bool emit = gate_open();
    if (emit) {
        Beat b;
        b.t_s = pos / fs_;
        b.ibi_ms = (last_emitted_ && plausible) ? since_ms : 0.0;
        b.amplitude = height;
        out = b;
    }
    last_pos_ = pos;
    last_emitted_ = emit;
}

void PpgDetector::check_rescue(std::optional<Beat>& out) {
    // Expected-beat rescue: a local maximum of the band-passed signal that reaches its deadline
    // (max_latency_s() - 40 ms after its peak) without a beat near it, when it lies where the
    // next beat is expected and rises at least rescue_rise x the recent pulses.
    while (cand_n_ > 0) {
        const Candidate c = cand_[cand_head_];
        if (n_ < c.due) break;
        const double peak = static_cast<double>(c.idx) - bp_delay_;
        cand_head_ = (cand_head_ + 1) & (kCand - 1);
        --cand_n_;
        if (out || last_pos_ < 0.0) continue;
        const double rr_ref = rr_ref_;
        const double rise_ref = rise_ref_;
        if (!rhythm_ok_ || rise_n_ < 3) continue;
        const double since = peak - last_pos_;
        // Not before kRescueEarliest x the expected interval, and only once the whole window
        // where the expected pulse may still come (up to kRescueLatest x the interval) has been
        // seen: at low heart rates a weak bump ahead of a late (long-interval) pulse is no beat.
        const double earliest = std::max({kRescueEarliest * rr_ref,
                                          kRescueLatest * rr_ref - static_cast<double>(deadline_), refractory_samples_});
        if (since < earliest) continue;
        // Where a beat is expected: within +-kRescuePhase of a whole number of expected
        // intervals after the last beat (one, or more if beats were lost), not in between.
        const double phase = since / rr_ref;
        if (std::abs(phase - std::round(phase)) > kRescuePhase) continue;
        if (in_block_ && !consumed_ && c.idx >= block_start_) continue;  // the block decides
        const double rise = c.rise >= 0.0 ? c.rise : rise_at(c.idx);
        if (rise < p_.rescue_rise * rise_ref) continue;
        // The largest rise among the candidates around it (later ones are all in the list).
        bool best = true;
        for (std::size_t k = 0; k < cand_n_ && best; ++k) {
            Candidate& o = cand_[(cand_head_ + k) & (kCand - 1)];
            if (static_cast<double>(o.idx - c.idx) > kRescueNeighbourhood * rr_ref) break;
            if (o.rise < 0.0) o.rise = rise_at(o.idx);
            if (o.rise > rise) best = false;
        }
        if (!best) continue;
        double pos = 0.0;
        if (!refine_peak(c.idx, pos)) continue;
        if (pos - last_pos_ < refractory_samples_) continue;
        accept(pos, std::max(0.0, bp_at(c.idx)), rise, false, out);
    }
}

void PpgDetector::update_periodicity() {
    const double prev = periodicity_;
    periodicity_ = per_.evaluate();
    if (p_.min_periodicity > 0.0) {
        // Opens on two evaluations in a row at or above min_periodicity (0.5 s apart: a chance
        // correlation of noise rarely survives the next half second).
        if (!gate_ && periodicity_ >= p_.min_periodicity && prev >= p_.min_periodicity) gate_ = true;
        else if (gate_ && periodicity_ < 0.7 * p_.min_periodicity) gate_ = false;
    }
}

void PpgDetector::Periodicity::init(double fd, std::size_t kmin, std::size_t kmax, std::size_t window,
                                    std::size_t half) {
    half_ = std::max<std::size_t>(1, half);
    width_ = 2 * half_ + 1;
    window_ = std::max<std::size_t>(window, 4);
    kmin_ = std::max<std::size_t>(1, kmin);
    kmax_ = std::max(kmin_, kmax);
    min_n_ = static_cast<std::size_t>(3.0 * fd);
    std::size_t n = 1;
    while (n < width_ + 1) n <<= 1;
    raw_.assign(n, 0.0);
    raw_mask_ = n - 1;
    kpad_ = (kmax_ - kmin_ + 1 + 3) / 4 * 4;
    n = 1;
    while (n < window_ + kmin_ + kpad_ + 1) n <<= 1;
    u_.assign(2 * n, 0.0f);
    ur_.assign(2 * n, 0.0f);
    u_mask_ = n - 1;
    lag_.assign(kpad_, 0.0f);
    zeros_.assign(kpad_, 0.0f);
    inv_width_ = 1.0 / static_cast<double>(width_);
    slow_alpha_ = 1.0 - std::exp(-1.0 / (10.0 * fd));
    prefix_.assign(2 * (kmax_ + 1), 0.0);
    reset();
}

void PpgDetector::Periodicity::reset() {
    std::fill(lag_.begin(), lag_.end(), 0.0f);
    std::fill(u_.begin(), u_.end(), 0.0f);
    std::fill(ur_.begin(), ur_.end(), 0.0f);
    raw_n_ = u_n_ = raw_since_resum_ = u_since_resum_ = 0;
    sum_ = sum2_ = energy_ = slow_var_ = 0.0;
}

void PpgDetector::Periodicity::push(double v) {
    raw_[raw_n_ & raw_mask_] = v;
    ++raw_n_;
    sum_ += v;
    sum2_ += v * v;
    if (raw_n_ > width_) {
        const double old = raw_[(raw_n_ - 1 - width_) & raw_mask_];
        sum_ -= old;
        sum2_ -= old * old;
    }
    if (++raw_since_resum_ >= 8 * width_) {  // exact re-summation now and then bounds the drift
        raw_since_resum_ = 0;
        sum_ = sum2_ = 0.0;
        for (std::size_t i = 0; i < std::min(raw_n_, width_); ++i) {
            const double x = raw_[(raw_n_ - 1 - i) & raw_mask_];
            sum_ += x;
            sum2_ += x * x;
        }
    }
    if (raw_n_ < width_) return;
    // Standardise the sample at the centre of the last width_ samples.
    const double mean = sum_ * inv_width_, var = sum2_ * inv_width_ - mean * mean;
    // The gain is limited: the local variance is floored at kAgcFloor^2 x its 10 s average, so
    // that a pulse-less stretch (sensor off, signal lost) stays small instead of being raised to
    // full-scale noise that would keep the gate closed long after the pulse is back.
    const double c = raw_[(raw_n_ - 1 - half_) & raw_mask_];
    slow_var_ += slow_alpha_ * (std::max(var, 0.0) - slow_var_);
    const double v2 = std::max(var, kAgcFloor * kAgcFloor * slow_var_);
    push_standardised(v2 > 0.0 ? static_cast<float>((c - mean) / std::sqrt(v2)) : 0.0f);
}

void PpgDetector::Periodicity::push_standardised(float u) {
    // Two rings, each value stored twice so that no loop wraps: u_ in time order (u_[p] and
    // u_[p + cap] for p = j & mask) and ur_ in reverse order (ur_[q] and ur_[q + cap] for
    // q = mask - p), so that u[j - k] = ur_[q + k] and u[i + k] = u_[(i & mask) + k] are both
    // contiguous in k (vectorisable loops). Single precision: the values are standardised
    // (about +-3) and the sums are recomputed exactly every 8 windows.
    const std::size_t cap = u_mask_ + 1;
    const std::size_t j = u_n_, pj = j & u_mask_, qj = u_mask_ - pj;
    u_[pj] = u;
    u_[pj + cap] = u;
    ur_[qj] = u;
    ur_[qj + cap] = u;
    ++u_n_;
    energy_ += static_cast<double>(u) * u;
    // lag_[t] is the sum for lag kmin_ + t (padded to a multiple of 4 lags).
    const float* back = ur_.data() + qj + kmin_;  // back[t] = u[j - kmin - t]
    float a = 0.0f;
    const float* fwd = zeros_.data();  // no pair leaves while the window fills
    if (u_n_ > window_) {              // the value leaving the window takes its pairs along
        const float* leaving = u_.data() + ((j - window_) & u_mask_);
        a = leaving[0];
        fwd = leaving + kmin_;  // fwd[t] = u[j - window + kmin + t]
        energy_ -= static_cast<double>(a) * a;
    }
    // While the window fills, pairs reaching before the first value must not count: the ring
    // holds zeros there (it starts zeroed), so they add nothing.
    lag_update(lag_.data(), back, fwd, u, a, kpad_);
    if (++u_since_resum_ >= 64 * window_) {  // exact recomputation now and then bounds the drift
        u_since_resum_ = 0;
        const std::size_t n = std::min(u_n_, window_);
        const float* w = u_.data() + ((u_n_ - n) & u_mask_);  // the window, oldest first, contiguous
        double e = 0.0;
        for (std::size_t i = 0; i < n; ++i) e += static_cast<double>(w[i]) * w[i];
        energy_ = e;
        for (std::size_t t = 0; t < kpad_; ++t) {
            const std::size_t k = kmin_ + t;
            double acc = 0.0;
            for (std::size_t i = 0; i + k < n; ++i) acc += static_cast<double>(w[i]) * w[i + k];
            lag_[t] = static_cast<float>(acc);
        }
    }
}

double PpgDetector::Periodicity::evaluate() {
    const std::size_t n = std::min(u_n_, window_);
    if (n < min_n_ || n < 2 * kmin_ + 1) return 0.0;
    const std::size_t kend = std::min(kmax_, n - n / 2);
    const float* w = u_.data() + ((u_n_ - n) & u_mask_);  // the window, oldest first, contiguous
    // Energies of the two overlapping parts for lag k: the whole window minus its last k values
    // (e1) or minus its first k values (e2); only the first and last kend values are summed.
    const double total = energy_;
    double* head = prefix_.data();             // head[k] = sum of the first k squares
    double* tail = prefix_.data() + kend + 1;  // tail[k] = sum of the last k squares
    float h = 0.0f, tl = 0.0f;
    head[0] = tail[0] = 0.0;
    for (std::size_t k = 1; k <= kend; ++k) {
        h += w[k - 1] * w[k - 1];
        tl += w[n - k] * w[n - k];
        head[k] = h;
        tail[k] = tl;
    }
    // The largest correlation r = lag / sqrt(e1 e2), compared squared and cross-multiplied (no
    // division or root per lag). Only correlations significant for the number of pairs count
    // (about 3.5 standard errors of 1/sqrt(pairs), for the number of lags tried): while the
    // window is still short, a chance correlation of noise at a long lag must not open the gate.
    double best_num = 0.0, best_den = 1.0;  // best r^2 = best_num / best_den
    double best_lag = 0.0, best_e = 0.0;
    for (std::size_t k = kmin_; k <= kend; ++k) {
        const double l = static_cast<double>(lag_[k - kmin_]);
        if (!(l > 0.0)) continue;
        const double e = (total - tail[k]) * (total - head[k]);
        if (!(e > 0.0)) continue;
        const double l2 = l * l;
        if (l2 * static_cast<double>(n - k) < kSignificance2 * e) continue;
        if (l2 * best_den > best_num * e) {
            best_num = l2;
            best_den = e;
            best_lag = l;
            best_e = e;
        }
    }
    return best_e > 0.0 ? std::min(1.0, best_lag / std::sqrt(best_e)) : 0.0;
}

}  // namespace attune::dsp
