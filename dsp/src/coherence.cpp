#include "attune/dsp/coherence.hpp"

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>
#include <unsupported/Eigen/FFT>

namespace attune::dsp {

namespace {

constexpr std::size_t kWindowSamples =
    static_cast<std::size_t>(kCoherenceWindowS * kHrvResampleHz);  // 256
constexpr std::size_t kMinSamples =
    static_cast<std::size_t>(kCoherenceMinSpanS * kHrvResampleHz);  // 128
// History kept by the tracker: the window plus the knot just before it (<= 2 s earlier).
constexpr double kKeepS = kCoherenceWindowS + kMaxPlausibleIbiMs / 1000.0 + 1.0;
// Below this total power (SD ~ 3e-5 ms) the series is constant: there is no rhythm to score.
constexpr double kMinTotalPowerMs2 = 1e-9;

using detail::plausible_ibi;

std::size_t max_knots() {
    return static_cast<std::size_t>(std::ceil(kKeepS * 1000.0 / kMinPlausibleIbiMs)) + 2;
}

// Integral over [a, b] of the piecewise-linear interpolant of psd sampled every df from 0.
double integrate_linear(std::span<const double> psd, double df, double a, double b) {
    if (!(b > a) || psd.size() < 2) return 0.0;
    const double f_max = df * static_cast<double>(psd.size() - 1);
    a = std::clamp(a, 0.0, f_max);
    b = std::clamp(b, 0.0, f_max);
    if (!(b > a)) return 0.0;
    auto value = [&](double f) {
        const double u = f / df;
        const auto k = std::min(static_cast<std::size_t>(u), psd.size() - 2);
        const double frac = u - static_cast<double>(k);
        return psd[k] * (1.0 - frac) + psd[k + 1] * frac;
    };
    const auto ka = static_cast<std::size_t>(std::ceil(a / df));
    const auto kb = static_cast<std::size_t>(std::floor(b / df));
    if (ka > kb) return 0.5 * (value(a) + value(b)) * (b - a);
    double area = 0.5 * (value(a) + psd[ka]) * (static_cast<double>(ka) * df - a);
    for (std::size_t k = ka; k < kb; ++k) area += 0.5 * (psd[k] + psd[k + 1]) * df;
    area += 0.5 * (psd[kb] + value(b)) * (b - static_cast<double>(kb) * df);
    return area;
}

}  // namespace

CoherenceLevel classify_coherence(double score) {
    if (score >= kCoherenceHighScore) return CoherenceLevel::kHigh;
    if (score >= kCoherenceMediumScore) return CoherenceLevel::kMedium;
    return CoherenceLevel::kLow;
}

// Bins of the zero-padded periodogram that are ever read: up to the top of the total band plus the
// neighbours that the interpolation at its edge and the peak fit read (413 of 2049).
constexpr std::size_t kUsedBins = std::min<std::size_t>(
    kCoherenceFftSize / 2 + 1,
    static_cast<std::size_t>((kCoherenceTotalBand.hi_hz > kCoherencePeakSearchBand.hi_hz
                                  ? kCoherenceTotalBand.hi_hz
                                  : kCoherencePeakSearchBand.hi_hz) *
                             static_cast<double>(kCoherenceFftSize) / kHrvResampleHz) +
        4);

// Smallest FFT length >= n among lengths whose factors (2, 3, 5) Eigen's FFT handles fast.
std::size_t fast_fft_size(std::size_t n) {
    std::size_t best = 0;
    for (std::size_t p2 = 1; p2 < 4 * n; p2 *= 2)
        for (std::size_t p3 = p2; p3 < 4 * n; p3 *= 3)
            for (std::size_t p5 = p3; p5 < 4 * n; p5 *= 5)
                if (p5 >= n && (best == 0 || p5 < best)) best = p5;
    return best;
}

struct CoherenceAnalyzer::Impl {
    CubicSplineResampler spline{max_knots(), SplineBoundary::kNotAKnot};
    CoherenceAnalyzer::Method method;
    Eigen::FFT<double> fft;
    std::vector<double> series = std::vector<double>(kWindowSamples);
    std::vector<double> buf = std::vector<double>(kCoherenceFftSize, 0.0);
    std::vector<std::complex<double>> spec =
        std::vector<std::complex<double>>(kCoherenceFftSize / 2 + 1);
    std::vector<double> psd = std::vector<double>(kCoherenceFftSize / 2 + 1);
    std::vector<double> hann = std::vector<double>(kWindowSamples);  // periodic Hann of hann_n points
    std::size_t hann_n = 0;
    double hann_sum_w2 = 0.0;

    // Chirp-z (Bluestein) evaluation of the first kUsedBins bins of the 4096-point DFT of <= 256
    // samples: X[k] = c(k) · sum_n (x[n] c(n)) · conj(c(k − n)), c(j) = exp(−iπ j² / 4096), one
    // circular convolution of length zoom_m >= 256 + kUsedBins − 1 (675) done by FFT.
    std::size_t zoom_m = 0;
    Eigen::FFT<double> cfft;
    std::vector<std::complex<double>> chirp, zoom_h, zoom_a, zoom_y;

    explicit Impl(CoherenceAnalyzer::Method how) : method(how) {
        fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
        fft.fwd(spec.data(), buf.data(), static_cast<Eigen::Index>(kCoherenceFftSize));
        if (method != CoherenceAnalyzer::Method::kChirpZ) return;
        const std::size_t nc = std::max(kWindowSamples, kUsedBins);
        chirp.resize(nc);
        for (std::size_t j = 0; j < nc; ++j) {
            // Exact phase: j² reduced modulo 2·4096 in integers before scaling.
            const auto r = static_cast<double>((j * j) % (2 * kCoherenceFftSize));
            const double a = -std::numbers::pi * r / static_cast<double>(kCoherenceFftSize);
            chirp[j] = {std::cos(a), std::sin(a)};
        }
        zoom_m = fast_fft_size(kWindowSamples + kUsedBins - 1);
        std::vector<std::complex<double>> h(zoom_m, {0.0, 0.0});
        for (std::size_t j = 0; j < kUsedBins; ++j) h[j] = std::conj(chirp[j]);
        for (std::size_t j = 1; j < kWindowSamples; ++j) h[zoom_m - j] = std::conj(chirp[j]);
        zoom_h.resize(zoom_m);
        cfft.fwd(zoom_h.data(), h.data(), static_cast<Eigen::Index>(zoom_m));
        zoom_a.assign(zoom_m, {0.0, 0.0});
        zoom_y.assign(zoom_m, {0.0, 0.0});
        cfft.inv(zoom_y.data(), zoom_a.data(), static_cast<Eigen::Index>(zoom_m));  // plans now
    }

    // spec[0 .. kUsedBins) of the 4096-point DFT of buf[0 .. n), n <= 256 (the rest zero).
    void transform(std::size_t n) {
        if (method != CoherenceAnalyzer::Method::kChirpZ) {
            fft.fwd(spec.data(), buf.data(), static_cast<Eigen::Index>(kCoherenceFftSize));
            return;
        }
        for (std::size_t i = 0; i < n; ++i) zoom_a[i] = buf[i] * chirp[i];
        std::fill(zoom_a.begin() + static_cast<std::ptrdiff_t>(n), zoom_a.end(), std::complex<double>{});
        cfft.fwd(zoom_y.data(), zoom_a.data(), static_cast<Eigen::Index>(zoom_m));
        for (std::size_t i = 0; i < zoom_m; ++i) zoom_a[i] = zoom_y[i] * zoom_h[i];
        cfft.inv(zoom_y.data(), zoom_a.data(), static_cast<Eigen::Index>(zoom_m));  // scaled by 1/m
        for (std::size_t k = 0; k < kUsedBins; ++k) spec[k] = chirp[k] * zoom_y[k];
    }
};

CoherenceAnalyzer::CoherenceAnalyzer(Method method) : impl_(std::make_unique<Impl>(method)) {}
CoherenceAnalyzer::~CoherenceAnalyzer() = default;
CoherenceAnalyzer::CoherenceAnalyzer(CoherenceAnalyzer&&) noexcept = default;
CoherenceAnalyzer& CoherenceAnalyzer::operator=(CoherenceAnalyzer&&) noexcept = default;

CoherenceResult CoherenceAnalyzer::analyze_beats(std::span<const double> t_s,
                                                 std::span<const double> ibi_ms) {
    CoherenceResult r;
    const std::size_t n = t_s.size();
    if (n < 4 || ibi_ms.size() != n) return r;
    for (std::size_t i = 0; i < n; ++i) {
        if (!plausible_ibi(ibi_ms[i]) || !std::isfinite(t_s[i])) return r;
    }
    const double t_last = t_s[n - 1];
    std::size_t first = 0;
    while (first < n && t_s[first] < t_last - kCoherenceWindowS) ++first;
    if (first > 0) --first;  // the knot before the window, so the spline covers its start

    const double avail_s = t_last - t_s[first];
    const std::size_t samples = std::min(
        kWindowSamples,
        static_cast<std::size_t>(std::floor(avail_s * kHrvResampleHz + 1e-9)) + 1);
    r.span_s = static_cast<double>(samples) / kHrvResampleHz;
    if (samples < kMinSamples || n - first < 4) return r;

    // Grid anchored on the newest beat, going back; never past it (no extrapolation).
    const double dt = 1.0 / kHrvResampleHz;
    const double x0 = t_last - static_cast<double>(samples - 1) * dt;
    std::span<double> series(impl_->series.data(), samples);
    if (!impl_->spline.resample(t_s.subspan(first), ibi_ms.subspan(first), x0, dt, series))
        return r;
    return analyze_series(series);
}

CoherenceResult CoherenceAnalyzer::analyze_series(std::span<const double> x) {
    CoherenceResult r;
    if (x.size() > kWindowSamples) x = x.subspan(x.size() - kWindowSamples);
    const std::size_t n = x.size();
    r.span_s = static_cast<double>(n) / kHrvResampleHz;
    if (n < kMinSamples) return r;
    double mean = 0.0;
    for (const double v : x) {
        if (!std::isfinite(v)) return r;
        mean += v;
    }
    mean /= static_cast<double>(n);

    Impl& m = *impl_;
    if (m.hann_n != n) {  // the window depends only on its length (256 once warmed up)
        m.hann_sum_w2 = 0.0;
        for (std::size_t i = 0; i < n; ++i) {
            const double w = 0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(i) /
                                                  static_cast<double>(n));
            m.hann[i] = w;
            m.hann_sum_w2 += w * w;
        }
        m.hann_n = n;
    }
    const double sum_w2 = m.hann_sum_w2;
    for (std::size_t i = 0; i < n; ++i) m.buf[i] = (x[i] - mean) * m.hann[i];
    std::fill(m.buf.begin() + static_cast<std::ptrdiff_t>(n), m.buf.end(), 0.0);
    m.transform(n);

    // One-sided density (ms²/Hz). Zero padding refines the grid without changing the density
    // scale: the integral over all bins still equals sum((w x)²) / sum(w²).
    const std::size_t bins = kCoherenceFftSize / 2 + 1;
    const double scale = 1.0 / (kHrvResampleHz * sum_w2);
    const double df = kHrvResampleHz / static_cast<double>(kCoherenceFftSize);
    // Only the first kUsedBins bins are ever read (see there).
    const std::size_t used = kUsedBins;
    for (std::size_t k = 0; k < used; ++k)
        m.psd[k] = std::norm(m.spec[k]) * scale * ((k == 0 || k == bins - 1) ? 1.0 : 2.0);
    const std::span<const double> psd(m.psd.data(), used);

    std::size_t peak = 0;
    bool found = false;
    for (std::size_t k = 0; k < used; ++k) {
        const double f = static_cast<double>(k) * df;
        if (f < kCoherencePeakSearchBand.lo_hz || f > kCoherencePeakSearchBand.hi_hz) continue;
        if (!found || psd[k] > psd[peak]) {
            peak = k;
            found = true;
        }
    }
    const double total = integrate_linear(psd, df, kCoherenceTotalBand.lo_hz, kCoherenceTotalBand.hi_hz);
    if (!found || !(total > kMinTotalPowerMs2)) return r;

    // Centre the window on the interpolated maximum (Gaussian fit through the top three bins)
    // rather than on the nearest bin.
    double peak_hz = static_cast<double>(peak) * df;
    if (peak > 0 && peak + 1 < used && psd[peak - 1] > 0.0 && psd[peak + 1] > 0.0) {
        const double lm = std::log(psd[peak - 1]), l0 = std::log(psd[peak]), lp = std::log(psd[peak + 1]);
        const double den = lm - 2.0 * l0 + lp;
        if (den < 0.0) peak_hz += std::clamp(0.5 * (lm - lp) / den, -0.5, 0.5) * df;
    }
    const double lo = std::max(peak_hz - kCoherencePeakHalfWidthHz, kCoherenceTotalBand.lo_hz);
    const double hi = std::min(peak_hz + kCoherencePeakHalfWidthHz, kCoherenceTotalBand.hi_hz);
    const double peak_power = integrate_linear(psd, df, lo, hi);
    // A rest of exactly 0 needs a mathematically pure tone; keep the ratio finite anyway.
    const double rest = std::max(total - peak_power, total * 1e-12);

    r.peak_hz = peak_hz;
    r.peak_power_ms2 = peak_power;
    r.total_power_ms2 = total;
    r.coherence_ratio = peak_power / rest;
    r.score = std::log(r.coherence_ratio + 1.0);
    r.level = classify_coherence(r.score);
    r.valid = true;
    return r;
}

CoherenceResult compute_coherence(std::span<const double> t_s, std::span<const double> ibi_ms) {
    CoherenceAnalyzer analyzer;
    return analyzer.analyze_beats(t_s, ibi_ms);
}

CoherenceResult coherence_from_series(std::span<const double> series_ms_4hz) {
    CoherenceAnalyzer analyzer;
    return analyzer.analyze_series(series_ms_4hz);
}

// ---------------------------------------------------------------------------------------------

CoherenceTracker::CoherenceTracker()
    : history_(kKeepS), t_buf_(history_.capacity()), ibi_buf_(history_.capacity()) {}

void CoherenceTracker::push(double t_s, double ibi_ms) {
    if (history_.push(t_s, ibi_ms) != detail::BeatHistory::PushResult::kIgnored) dirty_ = true;
}

const CoherenceResult& CoherenceTracker::update(double now_t_s) {
    if (history_.size() == 0 ||
        now_t_s - history_.t_s(history_.size() - 1) > detail::BeatHistory::kStaleAfterS) {
        result_ = CoherenceResult{};
        return result_;
    }
    if (!dirty_) return result_;
    const std::size_t n = history_.copy_since(-std::numeric_limits<double>::infinity(), 0,
                                              t_buf_, ibi_buf_);
    result_ = analyzer_.analyze_beats(std::span<const double>(t_buf_.data(), n),
                                      std::span<const double>(ibi_buf_.data(), n));
    dirty_ = false;
    return result_;
}

void CoherenceTracker::reset() {
    history_.clear();
    result_ = CoherenceResult{};
    dirty_ = true;
}

}  // namespace attune::dsp
