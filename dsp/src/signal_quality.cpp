#include "attune/dsp/signal_quality.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>

#include "attune/dsp/types.hpp"

namespace attune::dsp {

namespace {
ButterworthFilter::Params band(const SignalQuality::Params& p, double fs) {
    const bool ecg = p.kind == SignalQuality::Kind::Ecg;
    return detail::bandpass_params(ecg ? 5.0 : 0.5, ecg ? 15.0 : 8.0, fs);
}
constexpr double kDecimatedRateHz = 20.0;
constexpr double kPeriodicityWindowS = 5.0;
}  // namespace

const char* to_string(QualityState s) {
    switch (s) {
        case QualityState::Good: return "good";
        case QualityState::Noisy: return "noisy";
        case QualityState::Flat: return "flat";
        case QualityState::Clipped: return "clipped";
        case QualityState::LeadsOff: return "leads_off";
        case QualityState::NoPulse: return "no_pulse";
    }
    return "?";
}

SignalQuality::SignalQuality() : SignalQuality(Params{}) {}

SignalQuality::SignalQuality(const Params& params)
    : p_(params),
      fs_(detail::sane_rate(params.sample_rate_hz, 100.0)),
      band_(band(params, fs_)),
      env_(MovingAverage::Params{MovingAverage::samples_for(0.1, fs_)}),
      dec_hist_(1) {
    p_.sample_rate_hz = fs_;
    win_len_ = std::max<std::size_t>(1, MovingAverage::samples_for(p_.window_s, fs_));
    win_.assign(win_len_, 0.0);
    decim_ = std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(fs_ / kDecimatedRateHz)));
    dec_hist_ = SampleHistory(
        static_cast<std::size_t>(std::ceil(kPeriodicityWindowS * fs_ / static_cast<double>(decim_))) + 1);
    reset();
}

void SignalQuality::reset() {
    band_.reset();
    env_.reset();
    win_n_ = 0;
    dec_hist_.reset();
    dec_count_ = 0;
    dec_acc_ = 0.0;
    n_ = 0;
    last_beat_t_ = 0.0;
    have_x_ = false;
    last_x_ = 0.0;
}

void SignalQuality::notify_beat(double t_s) { last_beat_t_ = std::max(last_beat_t_, t_s); }

std::optional<QualityReport> SignalQuality::process(double x) {
    win_[win_n_++] = x;
    double v = x;
    if (!std::isfinite(v)) v = have_x_ ? last_x_ : 0.0;
    if (!have_x_ && std::isfinite(x)) {
        band_.reset(x);
        have_x_ = true;
    }
    if (std::isfinite(x)) last_x_ = x;
    const double bp = band_.process(v);
    const double e = p_.kind == Kind::Ecg ? env_.process(bp * bp) : bp;
    dec_acc_ += e;
    if (++dec_count_ == decim_) {
        dec_hist_.push(dec_acc_ / static_cast<double>(decim_));
        dec_acc_ = 0.0;
        dec_count_ = 0;
    }
    ++n_;
    if (win_n_ < win_len_) return std::nullopt;
    QualityReport r = evaluate();
    win_n_ = 0;
    return r;
}

double SignalQuality::periodicity() const {
    const std::size_t n = dec_hist_.size();
    const double fd = fs_ / static_cast<double>(decim_);
    const auto kmin = static_cast<std::size_t>(std::ceil(kMinPlausibleIbiMs * 1e-3 * fd));
    const auto kmax = static_cast<std::size_t>(std::floor(kMaxPlausibleIbiMs * 1e-3 * fd));
    if (n < static_cast<std::size_t>(3.0 * fd) || kmin < 1) return 0.0;
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
    return best;
}

QualityReport SignalQuality::evaluate() {
    QualityReport r;
    r.t_s = static_cast<double>(n_) / fs_;
    r.seconds_since_beat = r.t_s - last_beat_t_;
    const std::size_t n = win_n_;
    std::size_t invalid = 0, finite = 0;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t i = 0; i < n; ++i) {
        const double v = win_[i];
        if (!std::isfinite(v)) {
            ++invalid;
            continue;
        }
        ++finite;
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    r.invalid_fraction = static_cast<double>(invalid) / static_cast<double>(n);
    r.peak_to_peak = finite ? hi - lo : 0.0;
    const bool rails = std::isfinite(p_.adc_min) && std::isfinite(p_.adc_max) && p_.adc_max > p_.adc_min;
    std::size_t on_rail = 0;
    if (rails) {
        for (std::size_t i = 0; i < n; ++i)
            if (std::isfinite(win_[i]) && (win_[i] <= p_.adc_min || win_[i] >= p_.adc_max)) ++on_rail;
    } else if (finite && hi > lo) {
        // Runs of >= 3 equal samples at the window's extreme values (a flat top or bottom).
        std::size_t i = 0;
        while (i < n) {
            const double v = win_[i];
            std::size_t j = i + 1;
            while (j < n && win_[j] == v) ++j;
            if (std::isfinite(v) && (v == hi || v == lo) && j - i >= 3) on_rail += j - i;
            i = j;
        }
    }
    r.clipped_fraction = static_cast<double>(on_rail) / static_cast<double>(n);
    r.periodicity = periodicity();
    const double fd = fs_ / static_cast<double>(decim_);
    const bool have_history = dec_hist_.size() >= static_cast<std::size_t>(3.0 * fd);

    if (r.invalid_fraction >= 0.5 || (rails && r.clipped_fraction >= 0.9)) r.state = QualityState::LeadsOff;
    else if (finite == 0 || r.peak_to_peak <= p_.flat_p2p) r.state = QualityState::Flat;
    else if (r.clipped_fraction > p_.clip_fraction) r.state = QualityState::Clipped;
    else if (have_history && r.periodicity < p_.min_periodicity) r.state = QualityState::Noisy;
    else if (r.seconds_since_beat > p_.no_pulse_s) r.state = QualityState::NoPulse;
    else r.state = QualityState::Good;
    return r;
}

}  // namespace attune::dsp
