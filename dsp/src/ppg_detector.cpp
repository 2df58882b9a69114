#include "attune/dsp/ppg_detector.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attune::dsp {

namespace {
double sane_rate(double fs) { return (fs > 0.0 && std::isfinite(fs)) ? fs : 100.0; }
ButterworthFilter::Params band(const PpgDetector::Params& p, double fs) {
    ButterworthFilter::Params b;
    b.sample_rate_hz = fs;
    b.type = ButterworthFilter::Type::BandPass;
    b.low_hz = p.band_low_hz;
    b.high_hz = std::min(p.band_high_hz, 0.45 * fs);
    b.order = 2;
    return b;
}
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
}  // namespace

PpgDetector::PpgDetector() : PpgDetector(Params{}) {}

PpgDetector::PpgDetector(const Params& params)
    : p_(params),
      fs_(sane_rate(params.sample_rate_hz)),
      bandpass_(band(params, fs_)),
      ma_peak_(MovingAverage::Params{odd_samples(params.peak_window_s, fs_)}),
      ma_beat_(MovingAverage::Params{odd_samples(params.beat_window_s, fs_)}),
      raw_hist_(static_cast<std::size_t>(std::ceil(1.5 * fs_)) + 16),
      y_hist_(static_cast<std::size_t>(std::ceil(0.2 * fs_)) + 16),
      dec_hist_(1) {
    p_.sample_rate_hz = fs_;
    w1_ = ma_peak_.length();
    h_ = (w1_ - 1) / 2;
    bp_delay_ = bandpass_.group_delay_samples(2.0);
    smooth_half_ = static_cast<std::size_t>(std::floor(0.015 * fs_ + 1e-9));
    climb_ = std::max<std::size_t>(1, MovingAverage::samples_for(0.150, fs_));
    wait_ = std::max<std::size_t>(1, MovingAverage::samples_for(p_.max_block_wait_s, fs_));
    refractory_samples_ = std::max(p_.refractory_s, kMinPlausibleIbiMs * 1e-3) * fs_;
    decim_ = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(fs_ / kDecimatedRateHz)));
    const double fd = fs_ / static_cast<double>(decim_);
    dec_hist_ = SampleHistory(static_cast<std::size_t>(std::ceil(kPeriodicityWindowS * fd)) + 1);
    zbar_alpha_ = 1.0 - std::exp(-1.0 / (10.0 * fs_));
    skew_alpha_ = 1.0 - std::exp(-1.0 / (8.0 * fs_));
    reset();
}

void PpgDetector::reset() {
    bandpass_.reset();
    ma_peak_.reset();
    ma_beat_.reset();
    raw_hist_.reset();
    y_hist_.reset();
    dec_hist_.reset();
    n_ = 0;
    last_x_ = 0.0;
    have_x_ = false;
    sign_ = p_.polarity == Polarity::Inverted ? -1.0 : 1.0;
    prev_bp_ = 0.0;
    d2_ = d3_ = s2_ = s3_ = 0.0;
    zbar_ = zbar_w_ = 0.0;
    in_block_ = consumed_ = false;
    block_start_ = 0;
    ymax_ = 0.0;
    ymax_idx_ = -1;
    last_pos_ = -1.0;
    last_emitted_ = false;
    rr_n_ = amp_n_ = 0;
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

std::optional<Beat> PpgDetector::process(double x) {
    if (!std::isfinite(x)) x = have_x_ ? last_x_ : 0.0;
    if (!have_x_) {
        bandpass_.reset(x);
        have_x_ = true;
    }
    last_x_ = x;
    raw_hist_.push(x);
    const double bp = bandpass_.process(x);

    // Automatic polarity: score = skewness of the band-passed signal (sharp systolic peaks over
    // broad troughs; Elgendi 2016 found skewness the best PPG quality index for that reason)
    // + 0.5 x skewness of its slope (the systolic upstroke is steeper than the diastolic decay).
    // Both are positive for an upright PPG and change sign with the polarity.
    const double dbp = bp - prev_bp_;
    prev_bp_ = bp;
    d2_ += skew_alpha_ * (bp * bp - d2_);
    d3_ += skew_alpha_ * (bp * bp * bp - d3_);
    s2_ += skew_alpha_ * (dbp * dbp - s2_);
    s3_ += skew_alpha_ * (dbp * dbp * dbp - s3_);
    if (p_.polarity == Polarity::Auto && n_ >= static_cast<std::int64_t>(3.0 * fs_) && d2_ > 0.0 && s2_ > 0.0) {
        const double score = d3_ / std::pow(d2_, 1.5) + 0.5 * s3_ / std::pow(s2_, 1.5);
        if (n_ == static_cast<std::int64_t>(3.0 * fs_)) sign_ = score >= 0.0 ? 1.0 : -1.0;
        else if (score * sign_ < -0.2) sign_ = -sign_;
    }

    const double s = sign_ * bp;
    const double y = std::max(s, 0.0);
    y_hist_.push(y);
    const double z = y * y;
    const double mp = ma_peak_.process(z);  // centred at m = n - h
    const double mb = ma_beat_.process(z);
    zbar_w_ += zbar_alpha_ * (1.0 - zbar_w_);
    zbar_ += zbar_alpha_ * (z - zbar_);
    const double zmean = zbar_w_ > 0.0 ? zbar_ / zbar_w_ : 0.0;

    // Decimated band-passed signal for the periodicity gate.
    dec_acc_ += bp;
    if (++dec_count_ == decim_) {
        dec_hist_.push(dec_acc_ / static_cast<double>(decim_));
        dec_acc_ = 0.0;
        dec_count_ = 0;
    }
    if (n_ >= next_periodicity_) {
        update_periodicity();
        next_periodicity_ = n_ + std::max<std::int64_t>(1, static_cast<std::int64_t>(std::lround(0.5 * fs_)));
    }

    std::optional<Beat> out;
    const std::int64_t m = n_ - static_cast<std::int64_t>(h_);
    const bool active = n_ >= static_cast<std::int64_t>(w1_) && mp > mb + p_.beta * zmean && mp > 0.0;
    if (active && !in_block_) {
        in_block_ = true;
        consumed_ = false;
        block_start_ = m;
        ymax_ = -1.0;
        ymax_idx_ = -1;
    }
    if (in_block_ && active && !consumed_ && m >= 0) {
        const double ym = y_hist_.at(h_ < y_hist_.size() ? h_ : y_hist_.size() - 1);
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
    ++n_;
    return out;
}

void PpgDetector::process(std::span<const double> samples, std::vector<Beat>& out) {
    for (double v : samples)
        if (auto b = process(v)) out.push_back(*b);
}

void PpgDetector::finalize_block(std::optional<Beat>& out) {
    const auto avail = static_cast<std::int64_t>(raw_hist_.size());
    const auto hs = static_cast<std::int64_t>(smooth_half_);
    // Limits: the smoothing window must be complete, and the peak no older than the latency bound.
    const std::int64_t hi = n_ - hs;
    const std::int64_t lo = std::max(n_ - avail + 1 + hs,
                                     n_ - static_cast<std::int64_t>(std::floor(max_latency_s() * fs_)) + 2);
    if (hi < lo) return;
    std::int64_t c = ymax_idx_ - static_cast<std::int64_t>(std::lround(bp_delay_));
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
    double pos = static_cast<double>(i);
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
            const double c = (s0 * (s2 * t2 - t1 * s3) - s1 * (s1 * t2 - t1 * s2) + t0 * (s1 * s3 - s2 * s2)) / det;
            if (c < 0.0) {
                const double v = -b / (2.0 * c);
                if (v >= static_cast<double>(f0 - i) && v <= static_cast<double>(f1 - i)) pos += v;
            }
        }
    }
    const double since = last_pos_ >= 0.0 ? pos - last_pos_ : std::numeric_limits<double>::infinity();
    if (since < refractory_samples_) return;
    const double since_ms = since / fs_ * 1000.0;
    const bool plausible = since_ms >= kMinPlausibleIbiMs && since_ms <= kMaxPlausibleIbiMs;
    // Secondary (reflected / diastolic) wave: early and much smaller than recent pulses, the
    // PPG counterpart of Pan–Tompkins' T-wave rule. References: medians of the last 5 accepted
    // intervals and pulse heights.
    const double rr_ref = median5(rr_hist_, rr_n_);
    const double amp_ref = median5(amp_hist_, amp_n_);
    if (rr_ref > 0.0 && since < 0.6 * rr_ref && ymax_ < 0.5 * amp_ref) return;
    // A pulse under a quarter of the recent height is noise (a secondary wave, a ripple), unless
    // nothing has been accepted for 1.5 median intervals (the amplitude may really have dropped).
    const bool overdue = rr_ref > 0.0 && since > 1.5 * rr_ref;
    if (amp_ref > 0.0 && ymax_ < 0.25 * amp_ref && !overdue) return;
    if (plausible) push5(rr_hist_, rr_n_, since);
    push5(amp_hist_, amp_n_, ymax_);
    const bool emit = gate_open();
    if (emit) {
        Beat b;
        b.t_s = pos / fs_;
        b.ibi_ms = (last_emitted_ && plausible) ? since_ms : 0.0;
        b.amplitude = ymax_;
        out = b;
    }
    last_pos_ = pos;
    last_emitted_ = emit;
}

void PpgDetector::update_periodicity() {
    const std::size_t n = dec_hist_.size();
    const double fd = fs_ / static_cast<double>(decim_);
    const auto kmin = static_cast<std::size_t>(std::ceil(kMinPlausibleIbiMs * 1e-3 * fd));
    const auto kmax = static_cast<std::size_t>(std::floor(kMaxPlausibleIbiMs * 1e-3 * fd));
    if (n < static_cast<std::size_t>(3.0 * fd) || kmin < 1) {
        periodicity_ = 0.0;
    } else {
        double mean = 0.0;
        for (std::size_t i = 0; i < n; ++i) mean += dec_hist_.at(i);
        mean /= static_cast<double>(n);
        double best = 0.0;
        const std::size_t kend = std::min(kmax, n - n / 2);
        for (std::size_t k = kmin; k <= kend; ++k) {
            double sxy = 0.0, sxx = 0.0, syy = 0.0;
            for (std::size_t i = 0; i + k < n; ++i) {
                const double a = dec_hist_.at(i) - mean, b = dec_hist_.at(i + k) - mean;
                sxy += a * b;
                sxx += a * a;
                syy += b * b;
            }
            const double den = std::sqrt(sxx * syy);
            if (den > 0.0) best = std::max(best, sxy / den);
        }
        periodicity_ = best;
    }
    if (p_.min_periodicity > 0.0) {
        if (!gate_ && periodicity_ >= p_.min_periodicity) gate_ = true;
        else if (gate_ && periodicity_ < 0.7 * p_.min_periodicity) gate_ = false;
    }
}

}  // namespace attune::dsp
