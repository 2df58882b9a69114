#include "attune/dsp/hrv_freq.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <unsupported/Eigen/FFT>

namespace attune::dsp {

namespace {

using detail::plausible_ibi;

// Number of grid points t0 + k/fs (k >= 0) that fall in [t0, t0 + duration], endpoint
// included. The tiny slack keeps an endpoint that lands exactly on the grid from being lost to
// rounding (beat times are sums of millisecond intervals).
std::size_t grid_points(double duration_s, double fs_hz) {
    return static_cast<std::size_t>(std::floor(duration_s * fs_hz + 1e-9)) + 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// CubicSplineResampler

CubicSplineResampler::CubicSplineResampler(std::size_t max_knots, SplineBoundary boundary)
    : boundary_(boundary) {
    reserve(max_knots);
}

void CubicSplineResampler::reserve(std::size_t n) {
    if (slope_.size() >= n) return;
    slope_.resize(n);
    deriv_.resize(n);
    cprime_.resize(n);
    dprime_.resize(n);
}

bool CubicSplineResampler::resample(std::span<const double> x, std::span<const double> y,
                                    double x0, double dx, std::span<double> out) {
    const std::size_t n = x.size();
    if (n < 4 || y.size() != n || !std::isfinite(x0) || !(dx > 0.0) || !std::isfinite(dx))
        return false;
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i]) || !std::isfinite(y[i])) return false;
        if (i > 0 && !(x[i] > x[i - 1])) return false;
    }
    // Rounding slack for the last grid point only; nothing is extrapolated meaningfully.
    const double slack = 1e-9 * dx;
    if (!out.empty()) {
        const double last = x0 + static_cast<double>(out.size() - 1) * dx;
        if (x0 < x[0] - slack || last > x[n - 1] + slack) return false;
    }
    reserve(n);

    auto h = [&](std::size_t i) { return x[i + 1] - x[i]; };
    for (std::size_t i = 0; i + 1 < n; ++i) slope_[i] = (y[i + 1] - y[i]) / h(i);

    // Unknowns: the first derivative s_i at each knot. Interior rows enforce a continuous second
    // derivative: h_i s_{i-1} + 2(h_{i-1} + h_i) s_i + h_{i-1} s_{i+1}
    //            = 3 (h_i m_{i-1} + h_{i-1} m_i),  m = secant slopes (same system as scipy).
    // Thomas algorithm over rows [r0, r1]; coefficients produced on the fly.
    struct Row {
        double sub, diag, sup, rhs;
    };
    auto interior = [&](std::size_t i) {
        return Row{h(i), 2.0 * (h(i - 1) + h(i)), h(i - 1),
                   3.0 * (h(i) * slope_[i - 1] + h(i - 1) * slope_[i])};
    };

    // Not-a-knot: third derivative continuous at x_1 and x_{n-2}. Its first/last rows (scipy's)
    // are not diagonally dominant, so each is subtracted from its neighbouring interior row,
    // which eliminates s_0 and s_{n-1} and leaves a dominant system in s_1 .. s_{n-2} that needs
    // no pivoting. s_0 and s_{n-1} are recovered afterwards.
    const double d0 = x[2] - x[0];
    const double b0 = ((h(0) + 2.0 * d0) * h(1) * slope_[0] + h(0) * h(0) * slope_[1]) / d0;
    const double dn = x[n - 1] - x[n - 3];
    const double bn = (h(n - 2) * h(n - 2) * slope_[n - 3] +
                       (2.0 * dn + h(n - 2)) * h(n - 3) * slope_[n - 2]) / dn;

    const bool not_a_knot = boundary_ == SplineBoundary::kNotAKnot;
    const std::size_t r0 = not_a_knot ? 1 : 0;
    const std::size_t r1 = not_a_knot ? n - 2 : n - 1;
    auto row = [&](std::size_t i) -> Row {
        if (not_a_knot) {
            if (i == 1) {
                Row r = interior(1);
                return Row{0.0, d0, h(0), r.rhs - b0};
            }
            if (i == n - 2) {
                Row r = interior(n - 2);
                return Row{h(n - 2), dn, 0.0, r.rhs - bn};
            }
            return interior(i);
        }
        // Natural: zero second derivative at both ends.
        if (i == 0) return Row{0.0, 2.0, 1.0, 3.0 * slope_[0]};
        if (i == n - 1) return Row{1.0, 2.0, 0.0, 3.0 * slope_[n - 2]};
        return interior(i);
    };

    {
        const Row r = row(r0);
        cprime_[r0] = r.sup / r.diag;
        dprime_[r0] = r.rhs / r.diag;
    }
    for (std::size_t i = r0 + 1; i <= r1; ++i) {
        const Row r = row(i);
        const double den = r.diag - r.sub * cprime_[i - 1];
        cprime_[i] = r.sup / den;
        dprime_[i] = (r.rhs - r.sub * dprime_[i - 1]) / den;
    }
    deriv_[r1] = dprime_[r1];
    for (std::size_t i = r1; i-- > r0;) deriv_[i] = dprime_[i] - cprime_[i] * deriv_[i + 1];
    if (not_a_knot) {
        deriv_[0] = (b0 - d0 * deriv_[1]) / h(1);
        deriv_[n - 1] = (bn - dn * deriv_[n - 2]) / h(n - 3);
    }

    // Evaluate the Hermite cubic of each interval; the grid is increasing, so walk forward.
    // The coefficients of interval j are computed once when the walk enters it (not per sample).
    std::size_t j = 0;
    auto coefficients = [&](std::size_t i, double& c2, double& c3) {
        const double hi = h(i);
        c2 = (3.0 * slope_[i] - 2.0 * deriv_[i] - deriv_[i + 1]) / hi;
        c3 = (deriv_[i] + deriv_[i + 1] - 2.0 * slope_[i]) / (hi * hi);
    };
    double c2 = 0.0, c3 = 0.0;
    coefficients(0, c2, c3);
    for (std::size_t k = 0; k < out.size(); ++k) {
        const double xp = x0 + static_cast<double>(k) * dx;
        if (j + 2 < n && xp > x[j + 1]) {
            while (j + 2 < n && xp > x[j + 1]) ++j;
            coefficients(j, c2, c3);
        }
        const double t = xp - x[j];
        out[k] = y[j] + t * (deriv_[j] + t * (c2 + t * c3));
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// WelchPsd

struct WelchPsd::Impl {
    double fs_hz;
    std::size_t nperseg;
    std::size_t step;
    Eigen::FFT<double> fft;
    std::vector<double> hann;    // periodic Hann, nperseg points
    std::vector<double> window;  // window of the current call (nperseg or fewer points)
    std::vector<double> buf;
    std::vector<std::complex<double>> spec;
    std::vector<double> acc;
    // Two full segments at once: one complex FFT of (a + i·b), see compute().
    Eigen::FFT<double> cfft;
    std::vector<std::complex<double>> pair_in, pair_out;
};

namespace {

void periodic_hann(std::size_t n, std::vector<double>& w) {
    w.resize(n);
    for (std::size_t i = 0; i < n; ++i)
        w[i] = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) /
                                    static_cast<double>(n));
}

}  // namespace

WelchPsd::WelchPsd(double fs_hz, std::size_t nperseg, std::size_t noverlap)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.fs_hz = fs_hz;
    m.nperseg = std::max<std::size_t>(nperseg, 2);
    m.step = noverlap < m.nperseg ? m.nperseg - noverlap : m.nperseg;
    m.fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
    periodic_hann(m.nperseg, m.hann);
    m.window.reserve(m.nperseg);
    m.buf.assign(m.nperseg, 0.0);
    m.spec.assign(m.nperseg / 2 + 1, {});
    m.acc.assign(m.nperseg / 2 + 1, 0.0);
    // Builds and caches the FFT plans now rather than on the first live update.
    m.fft.fwd(m.spec.data(), m.buf.data(), static_cast<Eigen::Index>(m.nperseg));
    m.pair_in.assign(m.nperseg, {});
    m.pair_out.assign(m.nperseg, {});
    m.cfft.fwd(m.pair_out.data(), m.pair_in.data(), static_cast<Eigen::Index>(m.nperseg));
}

WelchPsd::~WelchPsd() = default;
WelchPsd::WelchPsd(WelchPsd&&) noexcept = default;
WelchPsd& WelchPsd::operator=(WelchPsd&&) noexcept = default;

WelchPsd::Info WelchPsd::compute(std::span<const double> x, std::vector<double>& freq_hz,
                                 std::vector<double>& psd) {
    Impl& m = *impl_;
    Info info;
    freq_hz.clear();
    psd.clear();
    if (x.size() < 2) return info;

    // Shorter than one segment: scipy shrinks nperseg to the data length; so do we.
    const std::size_t len = std::min(m.nperseg, x.size());
    const std::vector<double>& w = len == m.nperseg ? m.hann : m.window;
    if (len != m.nperseg) periodic_hann(len, m.window);  // within reserved capacity
    const std::size_t step = len == m.nperseg ? m.step : len;
    const std::size_t segments = (x.size() - len) / step + 1;
    const std::size_t bins = len / 2 + 1;

    double sum_w2 = 0.0;
    for (std::size_t i = 0; i < len; ++i) sum_w2 += w[i] * w[i];

    std::fill(m.acc.begin(), m.acc.begin() + static_cast<std::ptrdiff_t>(bins), 0.0);
    auto segment_mean = [&](const double* seg) {
        double mean = 0.0;
        for (std::size_t i = 0; i < len; ++i) mean += seg[i];
        return mean / static_cast<double>(len);
    };
    std::size_t s = 0;
    // Segments in pairs: with z = a + i·b (both real), A[k] = (Z[k] + conj Z[N−k]) / 2 and
    // B[k] = (Z[k] − conj Z[N−k]) / 2i, so |A[k]|² + |B[k]|² = (|Z[k]|² + |Z[N−k]|²) / 2: one
    // complex FFT (~3.1 us at 256 points) replaces two real ones (~2.0 us each). Same sums to
    // rounding (~1e-15 relative).
    if (len == m.nperseg) {
        for (; s + 1 < segments; s += 2) {
            const double* a = x.data() + s * step;
            const double* b = a + step;
            const double mean_a = segment_mean(a), mean_b = segment_mean(b);
            for (std::size_t i = 0; i < len; ++i) m.pair_in[i] = {(a[i] - mean_a) * w[i], (b[i] - mean_b) * w[i]};
            m.cfft.fwd(m.pair_out.data(), m.pair_in.data(), static_cast<Eigen::Index>(len));
            for (std::size_t k = 0; k < bins; ++k)
                m.acc[k] += 0.5 * (std::norm(m.pair_out[k]) + std::norm(m.pair_out[k == 0 ? 0 : len - k]));
        }
    }
    for (; s < segments; ++s) {
        const double* seg = x.data() + s * step;
        const double mean = segment_mean(seg);
        for (std::size_t i = 0; i < len; ++i) m.buf[i] = (seg[i] - mean) * w[i];
        m.fft.fwd(m.spec.data(), m.buf.data(), static_cast<Eigen::Index>(len));
        for (std::size_t k = 0; k < bins; ++k) m.acc[k] += std::norm(m.spec[k]);
    }

    // Density scaling 1 / (fs * sum w²), averaged over segments; one-sided: every bin but DC
    // (and Nyquist for even lengths) counts its negative-frequency twin.
    const double scale = 1.0 / (m.fs_hz * sum_w2 * static_cast<double>(segments));
    const std::size_t last_doubled = len % 2 == 0 ? bins - 2 : bins - 1;
    const double df = m.fs_hz / static_cast<double>(len);
    freq_hz.resize(bins);
    psd.resize(bins);
    for (std::size_t k = 0; k < bins; ++k) {
        const double factor = (k >= 1 && k <= last_doubled) ? 2.0 : 1.0;
        psd[k] = m.acc[k] * scale * factor;
        freq_hz[k] = static_cast<double>(k) * df;
    }
    info.nfft = len;
    info.segments = segments;
    info.df_hz = df;
    return info;
}

// ---------------------------------------------------------------------------------------------
// Band powers

double band_power_ms2(std::span<const double> freq_hz, std::span<const double> psd,
                      FrequencyBand band) {
    const std::size_t n = std::min(freq_hz.size(), psd.size());
    auto in_band = [&](std::size_t k) { return freq_hz[k] >= band.lo_hz && freq_hz[k] < band.hi_hz; };
    double area = 0.0;
    for (std::size_t k = 0; k + 1 < n; ++k) {
        if (in_band(k) && in_band(k + 1))
            area += 0.5 * (psd[k] + psd[k + 1]) * (freq_hz[k + 1] - freq_hz[k]);
    }
    return area;
}

namespace {

std::optional<double> peak_frequency(std::span<const double> freq_hz, std::span<const double> psd,
                                     FrequencyBand band) {
    std::size_t best = psd.size();
    for (std::size_t k = 0; k < psd.size(); ++k) {
        if (freq_hz[k] < band.lo_hz || freq_hz[k] >= band.hi_hz) continue;
        if (best == psd.size() || psd[k] > psd[best]) best = k;
    }
    if (best == psd.size() || !(psd[best] > 0.0)) return std::nullopt;
    double f = freq_hz[best];
    // Gaussian interpolation only around a true local maximum; a band-edge maximum (power
    // leaking in from the neighbouring band) is reported as the bin itself.
    if (best > 0 && best + 1 < psd.size() && psd[best - 1] > 0.0 && psd[best + 1] > 0.0 &&
        psd[best] >= psd[best - 1] && psd[best] >= psd[best + 1]) {
        const double lm = std::log(psd[best - 1]);
        const double l0 = std::log(psd[best]);
        const double lp = std::log(psd[best + 1]);
        const double den = lm - 2.0 * l0 + lp;
        if (den < 0.0) {
            const double delta = std::clamp(0.5 * (lm - lp) / den, -0.5, 0.5);
            f += delta * (freq_hz[best + 1] - freq_hz[best]);
        }
    }
    return f;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// FrequencyAnalyzer

FrequencyAnalyzer::FrequencyAnalyzer(std::size_t max_intervals, SplineBoundary boundary)
    : spline_(max_intervals, boundary), welch_() {
    t_work_.reserve(max_intervals);
    // Longest series: every interval at the 2000 ms plausibility limit.
    series_.resize(max_intervals * static_cast<std::size_t>(kMaxPlausibleIbiMs / 1000.0 *
                                                            kHrvResampleHz) + 1);
}

bool FrequencyAnalyzer::analyze(std::span<const double> t_s, std::span<const double> ibi_ms,
                                FrequencyDomainMetrics& out) {
    out.valid = false;
    out.n_intervals = out.n_samples = out.n_segments = 0;
    out.duration_s = out.df_hz = 0.0;
    out.vlf_ms2 = out.lf_ms2 = out.hf_ms2 = out.total_ms2 = 0.0;
    out.lf_hf.reset();
    out.lf_peak_hz.reset();
    out.freq_hz.clear();
    out.psd_ms2_per_hz.clear();
    series_size_ = 0;

    const std::size_t n = ibi_ms.size();
    if (n < 4 || t_s.size() != n) return false;
    for (std::size_t i = 0; i < n; ++i) {
        if (!plausible_ibi(ibi_ms[i]) || !std::isfinite(t_s[i])) return false;
    }
    const double duration = t_s[n - 1] - t_s[0];
    if (!(duration >= kMinSpectrumDurationS)) return false;

    const std::size_t samples = grid_points(duration, kHrvResampleHz);
    if (series_.size() < samples) series_.resize(samples);
    if (!spline_.resample(t_s, ibi_ms, t_s[0], 1.0 / kHrvResampleHz,
                          std::span<double>(series_.data(), samples)))
        return false;
    series_size_ = samples;

    const WelchPsd::Info info = welch_.compute(resampled_ms(), out.freq_hz, out.psd_ms2_per_hz);
    if (info.segments == 0) return false;

    out.n_intervals = n;
    out.n_samples = samples;
    out.n_segments = info.segments;
    out.duration_s = duration;
    out.df_hz = info.df_hz;
    out.vlf_ms2 = band_power_ms2(out.freq_hz, out.psd_ms2_per_hz, kVlfBand);
    out.lf_ms2 = band_power_ms2(out.freq_hz, out.psd_ms2_per_hz, kLfBand);
    out.hf_ms2 = band_power_ms2(out.freq_hz, out.psd_ms2_per_hz, kHfBand);
    out.total_ms2 = out.vlf_ms2 + out.lf_ms2 + out.hf_ms2;
    if (out.hf_ms2 > kMinSpectralPowerMs2) out.lf_hf = out.lf_ms2 / out.hf_ms2;
    if (out.lf_ms2 > kMinSpectralPowerMs2)
        out.lf_peak_hz = peak_frequency(out.freq_hz, out.psd_ms2_per_hz, kLfBand);
    out.valid = true;
    return true;
}

bool FrequencyAnalyzer::analyze_intervals(std::span<const double> ibi_ms,
                                          FrequencyDomainMetrics& out) {
    // README convention: the first beat at t = 0, each interval at the beat that ends it, so
    // interval 0 sits at t = 0 and interval k at ibi_1 + ... + ibi_k.
    t_work_.resize(ibi_ms.size());
    double t = 0.0;
    for (std::size_t k = 0; k < ibi_ms.size(); ++k) {
        if (k > 0) t += ibi_ms[k] / 1000.0;
        t_work_[k] = t;
    }
    return analyze(t_work_, ibi_ms, out);
}

FrequencyDomainMetrics compute_frequency_domain(std::span<const double> ibi_ms,
                                                SplineBoundary boundary) {
    FrequencyAnalyzer analyzer(ibi_ms.size(), boundary);
    FrequencyDomainMetrics out;
    analyzer.analyze_intervals(ibi_ms, out);
    return out;
}

// ---------------------------------------------------------------------------------------------
// BeatHistory

namespace detail {

BeatHistory::BeatHistory(double keep_s) : keep_s_(keep_s) {
    const auto cap = static_cast<std::size_t>(
                         std::ceil(std::max(keep_s, 0.0) * 1000.0 / kMinPlausibleIbiMs)) + 2;
    t_.assign(cap, 0.0);
    ibi_.assign(cap, 0.0);
}

void BeatHistory::clear() {
    head_ = 0;
    size_ = 0;
}

BeatHistory::PushResult BeatHistory::push(double t_s, double ibi_ms) {
    if (!std::isfinite(t_s) || !plausible_ibi(ibi_ms)) {
        clear();
        return PushResult::kRestarted;
    }
    PushResult result = PushResult::kAccepted;
    if (size_ > 0) {
        const double last = this->t_s(size_ - 1);
        if (!(t_s > last)) return PushResult::kIgnored;
        if (t_s - last > ibi_ms / 1000.0 + kMaxGapS) {
            clear();
            result = PushResult::kRestarted;
        }
    }
    while (size_ > 0 && this->t_s(0) < t_s - keep_s_) {
        head_ = (head_ + 1) % t_.size();
        --size_;
    }
    if (size_ == t_.size()) {  // only with inconsistent times; stay bounded
        head_ = (head_ + 1) % t_.size();
        --size_;
    }
    const std::size_t slot = (head_ + size_) % t_.size();
    t_[slot] = t_s;
    ibi_[slot] = ibi_ms;
    ++size_;
    return result;
}

std::size_t BeatHistory::copy_since(double t_from_s, std::size_t extra_before,
                                    std::span<double> t_out, std::span<double> ibi_out) const {
    std::size_t first = 0;
    while (first < size_ && t_s(first) < t_from_s) ++first;
    first -= std::min(first, extra_before);
    const std::size_t count = std::min({size_ - first, t_out.size(), ibi_out.size()});
    for (std::size_t i = 0; i < count; ++i) {
        t_out[i] = t_s(first + i);
        ibi_out[i] = ibi_ms(first + i);
    }
    return count;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// SpectrumTracker

SpectrumTracker::SpectrumTracker(double window_s, double min_update_interval_s,
                                 SplineBoundary boundary)
    : window_s_(window_s),
      min_update_interval_s_(min_update_interval_s),
      history_(window_s + kMaxPlausibleIbiMs / 1000.0),
      analyzer_(history_.capacity(), boundary),
      t_buf_(history_.capacity()),
      ibi_buf_(history_.capacity()),
      last_update_t_s_(-std::numeric_limits<double>::infinity()) {
    result_.freq_hz.reserve(kWelchSegmentSamples / 2 + 1);
    result_.psd_ms2_per_hz.reserve(kWelchSegmentSamples / 2 + 1);
}

void SpectrumTracker::push(double t_s, double ibi_ms) {
    if (history_.push(t_s, ibi_ms) != detail::BeatHistory::PushResult::kIgnored) dirty_ = true;
}

const FrequencyDomainMetrics& SpectrumTracker::update(double now_t_s) {
    if (history_.size() == 0 ||
        now_t_s - history_.t_s(history_.size() - 1) > detail::BeatHistory::kStaleAfterS) {
        // Sensor silent: show nothing rather than numbers that no longer describe the person.
        if (result_.valid) analyzer_.analyze({}, {}, result_);
        return result_;
    }
    if (!dirty_ || now_t_s - last_update_t_s_ < min_update_interval_s_) return result_;
    const double t_last = history_.t_s(history_.size() - 1);
    const std::size_t n = history_.copy_since(t_last - window_s_, 0, t_buf_, ibi_buf_);
    analyzer_.analyze(std::span<const double>(t_buf_.data(), n),
                      std::span<const double>(ibi_buf_.data(), n), result_);
    last_update_t_s_ = now_t_s;
    dirty_ = false;
    return result_;
}

void SpectrumTracker::reset() {
    history_.clear();
    analyzer_.analyze({}, {}, result_);
    last_update_t_s_ = -std::numeric_limits<double>::infinity();
    dirty_ = true;
}

}  // namespace attune::dsp
