// RSA per breath, breathing rate from the heart, heart-rate phase against a breathing reference.
// See rsa.hpp for the methods and conventions.
#include <attune/dsp/rsa.hpp>

#include <Eigen/Dense>
#include <unsupported/Eigen/FFT>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numbers>

namespace attune::dsp {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kMaxHrBpm = 60000.0 / kMinPlausibleIbiMs;  // bounds beats per second of ring
constexpr double kPhaseSplineLeadS = 5.0;  // knots fitted before the phase window (see phase_core)

double midpoint_s(const Beat& b) { return b.t_s - b.ibi_ms / 2000.0; }

// Natural cubic spline through increasing knots; buffers reserved once, so fitting and
// evaluating do not allocate as long as the knot count stays within the reservation.
class Spline {
public:
    void reserve(std::size_t n) {
        x_.reserve(n);
        y_.reserve(n);
        m_.reserve(n);
        c_.reserve(n);
    }
    void clear() {
        x_.clear();
        y_.clear();
    }
    // Knots must be added with strictly increasing x (equal x are skipped).
    void add(double x, double y) {
        if (!x_.empty() && !(x > x_.back())) return;
        x_.push_back(x);
        y_.push_back(y);
    }
    std::size_t size() const { return x_.size(); }
    double front_x() const { return x_.front(); }
    double back_x() const { return x_.back(); }

    void fit() {
        const std::size_t n = x_.size();
        m_.assign(n, 0.0);
        c_.assign(n, 0.0);
        if (n < 3) return;
        // Tridiagonal system for the second derivatives (natural ends), Thomas algorithm:
        // h[i-1] M[i-1] + 2(h[i-1] + h[i]) M[i] + h[i] M[i+1] = 6 (slope[i] − slope[i-1]).
        for (std::size_t i = 1; i + 1 < n; ++i) {
            const double h0 = x_[i] - x_[i - 1], h1 = x_[i + 1] - x_[i];
            const double rhs = 6.0 * ((y_[i + 1] - y_[i]) / h1 - (y_[i] - y_[i - 1]) / h0);
            const double diag = 2.0 * (h0 + h1) - (i > 1 ? h0 * c_[i - 1] : 0.0);
            c_[i] = h1 / diag;                                          // modified upper diagonal
            m_[i] = (rhs - (i > 1 ? h0 * m_[i - 1] : 0.0)) / diag;       // modified right-hand side
        }
        m_[n - 1] = 0.0;
        for (std::size_t i = n - 2; i >= 1; --i) m_[i] -= c_[i] * m_[i + 1];
        m_[0] = 0.0;
    }

    // Value at t (clamped to the knot range); `cursor` speeds up increasing queries.
    double eval(double t, std::size_t& cursor) const {
        const std::size_t n = x_.size();
        if (n == 1) return y_[0];
        if (t <= x_[0]) return y_[0];
        if (t >= x_[n - 1]) return y_[n - 1];
        if (cursor + 1 >= n || x_[cursor] > t) cursor = 0;
        while (cursor + 2 < n && x_[cursor + 1] <= t) ++cursor;
        const std::size_t i = cursor;
        const double h = x_[i + 1] - x_[i];
        const double a = (x_[i + 1] - t) / h, b = (t - x_[i]) / h;
        return a * y_[i] + b * y_[i + 1] +
               ((a * a * a - a) * m_[i] + (b * b * b - b) * m_[i + 1]) * h * h / 6.0;
    }

private:
    std::vector<double> x_, y_, m_, c_;
};

// Removes the least-squares line from x (samples equally spaced).
void remove_linear_trend(std::vector<double>& x) {
    const std::size_t n = x.size();
    if (n < 2) return;
    const double tc = 0.5 * static_cast<double>(n - 1);
    double sy = 0.0, sty = 0.0, stt = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) - tc;
        sy += x[i];
        sty += t * x[i];
        stt += t * t;
    }
    const double mean = sy / static_cast<double>(n), slope = sty / stt;
    for (std::size_t i = 0; i < n; ++i) x[i] -= mean + slope * (static_cast<double>(i) - tc);
}

std::size_t grid_bins(const BreathingRateConfig& c) {
    return static_cast<std::size_t>(std::floor((c.max_hz - c.min_hz) / c.grid_step_hz + 1e-9)) + 1;
}

// The grid must sample the window's main lobe finely enough for the log-parabola refinement:
// at least kGridPointsPerResolution points per 1/span Hz (a Hann main lobe is 4/span wide).
// A coarser configured step is divided by a whole number, which keeps it a set of DFT bins
// (see FftGrid): 0.005 Hz serves the streaming 60 s window (3.3 points), a 5-minute offline
// estimate gets 0.001 Hz.
constexpr double kGridPointsPerResolution = 3.0;

BreathingRateConfig with_grid_for_span(BreathingRateConfig c, double span_s) {
    if (c.grid_step_hz > 0.0 && std::isfinite(span_s) && span_s > 0.0) {
        const double k = std::ceil(c.grid_step_hz * kGridPointsPerResolution * span_s - 1e-9);
        if (k > 1.0 && k <= 1000.0) c.grid_step_hz /= k;
    }
    return c;
}

// The frequency grid min_hz + k·grid_step_hz is, for the default configuration (and any whose
// fs / grid_step and min_hz / grid_step are whole numbers), a run of bins m0 .. m0 + nb − 1 of an
// N-point DFT, N = fs / grid_step (800 by default). Then one real FFT of the windowed series,
// folded modulo N when it is longer, gives the grid's powers exactly (up to rounding, ~1e-13
// relative) at a fraction of the direct DFT's cost (nb · ns complex multiply-adds: 91 · 241).
struct FftGrid {
    std::size_t n = 0;   // FFT length; 0: the grid is not a set of DFT bins, use the direct DFT
    std::size_t m0 = 0;  // bin of min_hz
};

FftGrid fft_grid(const BreathingRateConfig& c) {
    FftGrid g;
    if (!c.use_fft || !(c.grid_step_hz > 0.0) || !(c.resample_hz > 0.0) || !(c.min_hz >= 0.0)) return g;
    const double n = std::round(c.resample_hz / c.grid_step_hz);
    const double m0 = std::round(c.min_hz / c.grid_step_hz);
    if (n < 8.0 || n > 65536.0 || std::abs(n * c.grid_step_hz - c.resample_hz) > 1e-9 * c.resample_hz ||
        std::abs(m0 * c.grid_step_hz - c.min_hz) > 1e-9 * c.grid_step_hz)
        return g;
    const auto nn = static_cast<std::size_t>(n);
    if (nn % 2 != 0 || static_cast<std::size_t>(m0) + grid_bins(c) > nn / 2 + 1) return g;
    g.n = nn;
    g.m0 = static_cast<std::size_t>(m0);
    return g;
}

// Everything one breathing-rate analysis needs, allocated for a maximum knot and sample count.
struct RateScratch {
    Spline rr, amp;
    std::vector<double> x, a, window, p_rr, p_amp, sel, loc, weight;
    std::size_t window_n = 0;  // length the window was computed for (it depends only on that)
    FftGrid grid;
    Eigen::FFT<double> fft;
    std::vector<double> fft_in;
    std::vector<std::complex<double>> fft_out;

    void reserve(const BreathingRateConfig& c, std::size_t knots, std::size_t samples) {
        const std::size_t bins = grid_bins(c) + 1;
        rr.reserve(knots);
        amp.reserve(knots);
        x.reserve(samples);
        a.reserve(samples);
        window.reserve(samples);
        p_rr.reserve(bins);
        p_amp.reserve(bins);
        sel.reserve(bins);
        loc.reserve(bins);
        // Peak-selection weights f^exponent, once (std::pow per bin per estimate is not free).
        weight.resize(grid_bins(c));
        for (std::size_t k = 0; k < weight.size(); ++k)
            weight[k] = std::pow(c.min_hz + static_cast<double>(k) * c.grid_step_hz, c.weight_exponent);
        grid = fft_grid(c);
        if (grid.n > 0) {
            fft.SetFlag(Eigen::FFT<double>::HalfSpectrum);
            fft_in.assign(grid.n, 0.0);
            fft_out.assign(grid.n / 2 + 1, {});
            fft.fwd(fft_out.data(), fft_in.data(), static_cast<Eigen::Index>(grid.n));  // plan now
        }
    }
};

// Power of the windowed samples on the frequency grid. Direct DFT by phasor recurrence (any
// grid), or the FFT when the grid is a set of DFT bins (see FftGrid).
void grid_power(const std::vector<double>& x, const std::vector<double>& w, double fs,
                const BreathingRateConfig& c, RateScratch& s, std::vector<double>& out) {
    const std::size_t nb = grid_bins(c);
    out.assign(nb, 0.0);
    if (s.grid.n > 0) {
        std::fill(s.fft_in.begin(), s.fft_in.end(), 0.0);
        for (std::size_t i = 0, j = 0; i < x.size(); ++i) {
            s.fft_in[j] += x[i] * w[i];
            if (++j == s.grid.n) j = 0;  // e^{-2πi m i / N} has period N in i: fold
        }
        s.fft.fwd(s.fft_out.data(), s.fft_in.data(), static_cast<Eigen::Index>(s.grid.n));
        for (std::size_t k = 0; k < nb; ++k) out[k] = std::norm(s.fft_out[s.grid.m0 + k]);
        return;
    }
    for (std::size_t k = 0; k < nb; ++k) {
        const double f = c.min_hz + static_cast<double>(k) * c.grid_step_hz;
        const std::complex<double> step = std::polar(1.0, -kTwoPi * f / fs);
        std::complex<double> z(1.0, 0.0), acc(0.0, 0.0);
        for (std::size_t i = 0; i < x.size(); ++i) {
            acc += (x[i] * w[i]) * z;
            z *= step;
        }
        out[k] = std::norm(acc);
    }
}

// Breathing rate from beats[0..n) (time order). Only beats whose knot lies within the last
// `span_s` before the newest one are used (one older knot is kept so the spline covers the start).
std::optional<BreathingRate> analyse_rate(const Beat* beats, std::size_t n, double span_s,
                                          const BreathingRateConfig& c, RateScratch& s) {
    if (n < 4) return std::nullopt;
    const double t_newest = beats[n - 1].t_s;
    const double t0 = t_newest - span_s;
    s.rr.clear();
    s.amp.clear();
    std::size_t amp_nonzero = 0, used = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const Beat& b = beats[i];
        if (!(b.ibi_ms > 0.0)) continue;
        const bool keep = midpoint_s(b) >= t0 || (i + 1 < n && midpoint_s(beats[i + 1]) >= t0);
        if (!keep) continue;
        s.rr.add(midpoint_s(b), b.ibi_ms);
        s.amp.add(b.t_s, b.amplitude);
        amp_nonzero += b.amplitude != 0.0;
        ++used;
    }
    if (s.rr.size() < 4) return std::nullopt;
    const double begin = std::max(t0, s.rr.front_x()), end = s.rr.back_x();
    if (end - begin < c.min_span_s) return std::nullopt;

    const double fs = c.resample_hz;
    const auto ns = static_cast<std::size_t>(std::floor((end - begin) * fs)) + 1;
    s.rr.fit();
    s.x.resize(ns);
    s.window.resize(ns);
    std::size_t cur = 0;
    for (std::size_t i = 0; i < ns; ++i) s.x[i] = s.rr.eval(begin + static_cast<double>(i) / fs, cur);
    if (s.window_n != ns) {  // the window depends only on its length: recomputed when that changes
        for (std::size_t i = 0; i < ns; ++i)
            s.window[i] = 0.5 - 0.5 * std::cos(kTwoPi * (static_cast<double>(i) + 0.5) / static_cast<double>(ns));
        s.window_n = ns;
    }
    remove_linear_trend(s.x);
    grid_power(s.x, s.window, fs, c, s, s.p_rr);

    // Amplitudes help when the detector provides them for (nearly) every beat and they vary.
    bool use_amp = false;
    if (c.use_amplitude && amp_nonzero * 10 >= used * 9 && s.amp.size() >= 4) {
        s.amp.fit();
        s.a.resize(ns);
        cur = 0;
        for (std::size_t i = 0; i < ns; ++i) s.a[i] = s.amp.eval(begin + static_cast<double>(i) / fs, cur);
        remove_linear_trend(s.a);
        double var = 0.0;
        for (double v : s.a) var += v * v;
        if (var > 0.0) {
            grid_power(s.a, s.window, fs, c, s, s.p_amp);
            use_amp = true;
        }
    }

    // Each spectrum normalised to unit band power, so neither dominates by its units.
    auto normalise = [](std::vector<double>& v) {
        double sum = 0.0;
        for (double x : v) sum += x;
        if (!(sum > 0.0)) return false;
        for (double& x : v) x /= sum;
        return true;
    };
    if (!normalise(s.p_rr)) return std::nullopt;
    if (use_amp) use_amp = normalise(s.p_amp);
    const std::size_t nb = s.p_rr.size();
    auto freq = [&](std::size_t k) { return c.min_hz + static_cast<double>(k) * c.grid_step_hz; };

    // Selection: which peak is the breathing. Weighting by f^weight_exponent flattens the 1/f
    // background of heart-rate variability, so that a respiratory peak at 15/min is not beaten
    // by slow (Mayer, ~0.1 Hz) waves of similar prominence; the geometric mean with the amplitude
    // spectrum keeps only peaks that both modulations share (the amplitude has no Mayer waves).
    s.sel.resize(nb);
    for (std::size_t k = 0; k < nb; ++k) {
        const double v = use_amp ? std::sqrt(s.p_rr[k] * s.p_amp[k]) : s.p_rr[k];
        s.sel[k] = v * s.weight[k];
    }
    if (!normalise(s.sel)) return std::nullopt;
    const auto k_sel = static_cast<std::size_t>(std::max_element(s.sel.begin(), s.sel.end()) - s.sel.begin());

    // Location: the highest local maximum of the unweighted (arithmetic-mean) spectrum within a
    // main-lobe half-width of the selected bin. The weighting tilts a peak and a noisy amplitude
    // spectrum jitters the product, both by a fraction of the lobe; the plain spectrum does not.
    s.loc.resize(nb);
    for (std::size_t k = 0; k < nb; ++k) s.loc[k] = use_amp ? 0.5 * (s.p_rr[k] + s.p_amp[k]) : s.p_rr[k];
    const double duration = end - begin;
    const auto lobe = static_cast<std::size_t>(std::ceil(1.0 / (duration * c.grid_step_hz)));
    std::size_t k_peak = k_sel;
    double best = -1.0;
    for (std::size_t k = (k_sel > lobe ? k_sel - lobe : 0); k <= std::min(nb - 1, k_sel + lobe); ++k) {
        const bool local_max = (k == 0 || s.loc[k] >= s.loc[k - 1]) && (k + 1 == nb || s.loc[k] >= s.loc[k + 1]);
        if (local_max && k > 0 && k + 1 < nb && s.loc[k] > best) {
            best = s.loc[k];
            k_peak = k;
        }
    }
    double f = freq(k_peak);
    if (k_peak > 0 && k_peak + 1 < nb && s.loc[k_peak - 1] > 0.0 && s.loc[k_peak + 1] > 0.0) {
        // Parabola through the log powers: exact for a Gaussian-shaped main lobe.
        const double l0 = std::log(s.loc[k_peak - 1]), l1 = std::log(s.loc[k_peak]),
                     l2 = std::log(s.loc[k_peak + 1]);
        const double den = l0 - 2.0 * l1 + l2;
        if (den < 0.0) f += std::clamp(0.5 * (l0 - l2) / den, -1.0, 1.0) * c.grid_step_hz;
    }

    // Confidence from the selection spectrum: how much of it sits near the chosen peak.
    const double half = 1.5 / duration;
    double near = 0.0;
    for (std::size_t k = 0; k < nb; ++k)
        if (std::abs(freq(k) - f) <= half) near += s.sel[k];
    const double flat = std::min(0.99, 2.0 * half / (c.max_hz - c.min_hz));
    BreathingRate r;
    r.t_s = t_newest;
    r.frequency_hz = f;
    r.rate_bpm = 60.0 * f;
    r.confidence = std::clamp((near - flat) / (1.0 - flat), 0.0, 1.0);
    r.used_amplitude = use_amp;
    return r;
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// 1. RSA per breath

namespace {
// The peak-to-trough of one breath, built interval by interval (offline and streaming share it).
struct BreathRsaBuilder {
    BreathRsa r;
    explicit BreathRsaBuilder(const BreathCycle& b) {
        r.start_s = b.start_s;
        r.end_s = b.end_s;
    }
    // An interval whose midpoint is at mid_s; ignored outside [start, end).
    void add(double mid_s, double ibi_ms) {
        if (mid_s < r.start_s || mid_s >= r.end_s) return;
        if (r.n_intervals == 0) {
            r.rr_min_ms = r.rr_max_ms = ibi_ms;
        } else {
            r.rr_min_ms = std::min(r.rr_min_ms, ibi_ms);
            r.rr_max_ms = std::max(r.rr_max_ms, ibi_ms);
        }
        ++r.n_intervals;
    }
    BreathRsa finish() {
        if (r.n_intervals > 0) {
            r.hr_max_bpm = 60000.0 / r.rr_min_ms;
            r.hr_min_bpm = 60000.0 / r.rr_max_ms;
            r.rsa_ms = r.rr_max_ms - r.rr_min_ms;
            r.rsa_bpm = r.hr_max_bpm - r.hr_min_bpm;
        }
        r.valid = r.n_intervals >= 2;
        return r;
    }
};
}  // namespace

BreathRsa rsa_for_breath(std::span<const Beat> beats, const BreathCycle& breath) {
    BreathRsaBuilder r(breath);
    for (const Beat& b : beats)
        if (b.ibi_ms > 0.0) r.add(midpoint_s(b), b.ibi_ms);
    return r.finish();
}

std::vector<BreathRsa> rsa_per_breath(std::span<const Beat> beats, std::span<const BreathCycle> breaths) {
    std::vector<BreathRsa> out;
    out.reserve(breaths.size());
    for (const BreathCycle& b : breaths) {
        // Beats are in time order: look only at those that can fall in this breath.
        const auto first = std::lower_bound(beats.begin(), beats.end(), b.start_s,
                                            [](const Beat& x, double t) { return x.t_s < t; });
        auto last = std::lower_bound(first, beats.end(), b.end_s + kMaxPlausibleIbiMs / 2000.0,
                                     [](const Beat& x, double t) { return x.t_s < t; });
        out.push_back(rsa_for_breath(std::span<const Beat>(first, last), b));
    }
    return out;
}

RsaTracker::RsaTracker(std::size_t beat_capacity, std::size_t breath_capacity)
    : mid_(std::max<std::size_t>(beat_capacity, 2)), ibi_(mid_.size()),
      breaths_(std::max<std::size_t>(breath_capacity, 1)) {
    out_.reserve(breaths_.size() + 1);
}

void RsaTracker::reset() {
    head_ = size_ = 0;
    bhead_ = bsize_ = 0;
    latest_mid_ = -1e300;
    out_.clear();
}

BreathRsa RsaTracker::compute(const BreathCycle& b) const {
    BreathRsaBuilder r(b);
    for (std::size_t k = 0; k < size_; ++k) {
        const std::size_t i = (head_ + k) % mid_.size();
        r.add(mid_[i], ibi_[i]);
    }
    return r.finish();
}

void RsaTracker::emit_complete(bool all) {
    while (bsize_ > 0) {
        const BreathCycle& b = breaths_[bhead_];
        if (!all && latest_mid_ < b.end_s) break;
        out_.push_back(compute(b));
        bhead_ = (bhead_ + 1) % breaths_.size();
        --bsize_;
    }
}

std::span<const BreathRsa> RsaTracker::add_breath(const BreathCycle& breath) {
    out_.clear();
    if (bsize_ == breaths_.size()) {  // no room: the oldest goes out with what it has
        out_.push_back(compute(breaths_[bhead_]));
        bhead_ = (bhead_ + 1) % breaths_.size();
        --bsize_;
    }
    breaths_[(bhead_ + bsize_) % breaths_.size()] = breath;
    ++bsize_;
    emit_complete(false);
    return out_;
}

std::span<const BreathRsa> RsaTracker::push_beat(const Beat& beat) {
    out_.clear();
    if (!(beat.ibi_ms > 0.0)) return out_;
    const double mid = midpoint_s(beat);
    if (size_ == mid_.size()) {
        head_ = (head_ + 1) % mid_.size();
        --size_;
    }
    const std::size_t i = (head_ + size_) % mid_.size();
    mid_[i] = mid;
    ibi_[i] = beat.ibi_ms;
    ++size_;
    latest_mid_ = std::max(latest_mid_, mid);
    emit_complete(false);
    return out_;
}

std::span<const BreathRsa> RsaTracker::flush() {
    out_.clear();
    emit_complete(true);
    return out_;
}

// ------------------------------------------------------------------------------------------------
// 2. Breathing rate

std::optional<BreathingRate> estimate_breathing_rate(std::span<const Beat> beats,
                                                     const BreathingRateConfig& config) {
    if (beats.empty()) return std::nullopt;
    const double span = beats.back().t_s - beats.front().t_s + 1.0;
    const BreathingRateConfig cfg = with_grid_for_span(config, span);
    RateScratch s;
    s.reserve(cfg, beats.size(), static_cast<std::size_t>(span * cfg.resample_hz) + 8);
    return analyse_rate(beats.data(), beats.size(), span, cfg, s);
}

struct BreathingRateEstimator::Impl {
    BreathingRateConfig cfg;
    std::vector<Beat> ring, ordered;
    std::size_t head = 0, size = 0;
    double next_update_t = -1e300;
    RateScratch scratch;
};

BreathingRateEstimator::BreathingRateEstimator(const BreathingRateConfig& cfg)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.cfg = with_grid_for_span(cfg, cfg.window_s);
    // Enough for window_s at the highest plausible heart rate, plus the knot before the window.
    const auto cap = static_cast<std::size_t>(std::ceil(cfg.window_s * kMaxHrBpm / 60.0)) + 8;
    m.ring.assign(cap, Beat{});
    m.ordered.reserve(cap);
    m.scratch.reserve(m.cfg, cap, static_cast<std::size_t>(cfg.window_s * cfg.resample_hz) + 8);
}

BreathingRateEstimator::~BreathingRateEstimator() = default;
BreathingRateEstimator::BreathingRateEstimator(BreathingRateEstimator&&) noexcept = default;
BreathingRateEstimator& BreathingRateEstimator::operator=(BreathingRateEstimator&&) noexcept = default;

void BreathingRateEstimator::reset() {
    impl_->head = impl_->size = 0;
    impl_->next_update_t = -1e300;
    latest_.reset();
}

std::optional<BreathingRate> BreathingRateEstimator::push(const Beat& beat) {
    Impl& m = *impl_;
    if (!(beat.ibi_ms > 0.0)) return std::nullopt;
    if (m.size == m.ring.size()) {
        m.head = (m.head + 1) % m.ring.size();
        --m.size;
    }
    m.ring[(m.head + m.size) % m.ring.size()] = beat;
    ++m.size;
    if (beat.t_s < m.next_update_t) return std::nullopt;
    m.ordered.clear();
    for (std::size_t k = 0; k < m.size; ++k) m.ordered.push_back(m.ring[(m.head + k) % m.ring.size()]);
    auto r = analyse_rate(m.ordered.data(), m.ordered.size(), m.cfg.window_s, m.cfg, m.scratch);
    if (!r) return std::nullopt;
    // Next estimate at the next whole multiple of the interval: one per interval on average
    // (scheduling from this beat's time would drift to one per two beats at 60–120 bpm).
    const double step = m.cfg.update_interval_s > 0.0 ? m.cfg.update_interval_s : 1e-9;
    m.next_update_t = (std::floor(beat.t_s / step) + 1.0) * step;
    latest_ = r;
    return r;
}

// ------------------------------------------------------------------------------------------------
// 3. Heart-rate phase

namespace {

// Least-squares fit of a + b·t + c·cos(ωt) + d·sin(ωt) over the grid; returns (c, d) and the
// residual-free variance of the detrended signal.
struct SineFit {
    double c = 0.0, d = 0.0, detrended_var = 0.0;
};

// cos_wt / sin_wt: cos(ωt) and sin(ωt) at the grid points, computed once for both fits.
SineFit fit_sine(const std::vector<double>& t, const std::vector<double>& y, const std::vector<double>& cos_wt,
                 const std::vector<double>& sin_wt) {
    Eigen::Matrix4d ata = Eigen::Matrix4d::Zero();
    Eigen::Vector4d aty = Eigen::Vector4d::Zero();
    const double tc = 0.5 * (t.front() + t.back());
    for (std::size_t i = 0; i < t.size(); ++i) {
        const Eigen::Vector4d row(1.0, t[i] - tc, cos_wt[i], sin_wt[i]);
        ata.noalias() += row * row.transpose();
        aty.noalias() += row * y[i];
    }
    const Eigen::Vector4d p = ata.ldlt().solve(aty);
    SineFit f;
    f.c = p[2];
    f.d = p[3];
    // Variance around the fitted line alone (what there is to explain at all).
    double ss = 0.0;
    for (std::size_t i = 0; i < t.size(); ++i) {
        const double r = y[i] - p[0] - p[1] * (t[i] - tc);
        ss += r * r;
    }
    f.detrended_var = ss / static_cast<double>(t.size());
    return f;
}

struct PhaseScratch {
    Spline hr;
    std::vector<double> grid, h, r, cos_wt, sin_wt;
};

// Reference value at t by linear interpolation over samples in time order; cursor for speed.
template <class Get>
double interp_reference(std::size_t n, Get&& get, double t, std::size_t& cursor) {
    if (cursor + 1 >= n || get(cursor).t_s > t) cursor = 0;
    while (cursor + 2 < n && get(cursor + 1).t_s <= t) ++cursor;
    const ReferenceSample a = get(cursor), b = get(cursor + 1);
    if (!(b.t_s > a.t_s)) return a.value;
    const double u = std::clamp((t - a.t_s) / (b.t_s - a.t_s), 0.0, 1.0);
    return a.value + u * (b.value - a.value);
}

// First index k in [0, n) with t_at(k) >= t (n if none); t_at increasing.
template <class TimeAt>
std::size_t first_at_or_after(std::size_t n, TimeAt&& t_at, double t) {
    std::size_t lo = 0, hi = n;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (t_at(mid) < t) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

// Shared by the offline function and the tracker: `beat(k)` and `ref(k)` give the k-th beat /
// reference sample in time order.
template <class BeatAt, class RefAt>
HrPhase phase_core(std::size_t n_beats, BeatAt&& beat, std::size_t n_ref, RefAt&& ref, double f0,
                   const HrPhaseConfig& cfg, PhaseScratch& s) {
    HrPhase out;
    if (!(f0 > 0.0) || n_ref < 2) return out;
    double cycles = cfg.cycles;
    if (cycles / f0 > cfg.max_window_s) cycles = std::floor(cfg.max_window_s * f0);
    if (cycles < 1.0) return out;
    const double window = cycles / f0;

    // The window ends at the newest interval's midpoint (or the reference's end); only knots from
    // kPhaseSplineLeadS before its start are fitted: a natural spline's end condition fades by
    // ~0.27 per knot, so 5 s of lead (4-10 knots) leaves the window's values unchanged to < 1e-3
    // of the end effect, and the fit costs the window, not the whole history the ring holds.
    double newest_mid = -std::numeric_limits<double>::infinity();
    for (std::size_t k = n_beats; k-- > 0;) {
        if (beat(k).ibi_ms > 0.0) {
            newest_mid = midpoint_s(beat(k));
            break;
        }
    }
    if (!std::isfinite(newest_mid)) return out;
    const double end = std::min(newest_mid, ref(n_ref - 1).t_s);
    const double begin = end - window;
    // Beats before `first` end before the lead starts, so their midpoints do too: skipped
    // without being visited (the ring holds up to 95 s of history).
    const std::size_t first = first_at_or_after(
        n_beats, [&](std::size_t k) { return beat(k).t_s; }, begin - kPhaseSplineLeadS);
    s.hr.clear();
    for (std::size_t k = first; k < n_beats; ++k) {
        const Beat& b = beat(k);
        if (b.ibi_ms > 0.0 && midpoint_s(b) >= begin - kPhaseSplineLeadS)
            s.hr.add(midpoint_s(b), 60000.0 / b.ibi_ms);
    }
    if (s.hr.size() < 4) return out;
    if (s.hr.front_x() > begin || ref(0).t_s > begin) return out;  // not enough history yet

    // N equally spaced samples over exactly `cycles` periods: cos/sin at f0 stay orthogonal.
    const auto n = static_cast<std::size_t>(std::max(8.0, std::round(window * cfg.resample_hz)));
    s.hr.fit();
    s.grid.resize(n);
    s.h.resize(n);
    s.r.resize(n);
    std::size_t ch = 0;
    // The reference cursor starts at the last sample at or before the window (binary search), so
    // the walk covers the window only, not the 95 s of history the ring may hold.
    std::size_t cr = first_at_or_after(n_ref, [&](std::size_t k) { return ref(k).t_s; }, begin);
    cr = cr > 0 ? cr - 1 : 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = begin + (static_cast<double>(i) + 0.5) * window / static_cast<double>(n);
        s.grid[i] = t;
        s.h[i] = s.hr.eval(t, ch);
        s.r[i] = interp_reference(n_ref, ref, t, cr);
    }
    // cos/sin(ω t) on the even grid by rotation (one complex multiply per point instead of two
    // libm calls), restarted exactly every 64 points so rounding cannot build up (< 1e-14).
    const double omega = kTwoPi * f0;
    s.cos_wt.resize(n);
    s.sin_wt.resize(n);
    const std::complex<double> step = std::polar(1.0, omega * window / static_cast<double>(n));
    std::complex<double> z = std::polar(1.0, omega * s.grid[0]);
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 64 == 0) z = std::polar(1.0, omega * s.grid[i]);
        s.cos_wt[i] = z.real();
        s.sin_wt[i] = z.imag();
        z *= step;
    }
    const SineFit fh = fit_sine(s.grid, s.h, s.cos_wt, s.sin_wt), fr = fit_sine(s.grid, s.r, s.cos_wt, s.sin_wt);
    // y ≈ A cos(ωt − φ) = A cos φ · cos ωt + A sin φ · sin ωt, so φ = atan2(d, c).
    const double phi_h = std::atan2(fh.d, fh.c), phi_r = std::atan2(fr.d, fr.c);
    double lag = (phi_h - phi_r) * 180.0 / std::numbers::pi;
    lag = std::remainder(lag, 360.0);
    if (lag <= -180.0) lag += 360.0;
    out.phase_deg = lag;
    // Each interval's rate is the mean over the interval, which scales a sinusoid by
    // sinc(π f0 RR) (5 % at 0.2 Hz and 66 bpm) without shifting it; undo that for the amplitude.
    double rr_sum = 0.0;
    std::size_t rr_n = 0;
    for (std::size_t k = first; k < n_beats; ++k) {
        const Beat& b = beat(k);
        if (b.ibi_ms > 0.0 && midpoint_s(b) >= begin && midpoint_s(b) <= end) {
            rr_sum += b.ibi_ms / 1000.0;
            ++rr_n;
        }
    }
    const double x = std::numbers::pi * f0 * (rr_n ? rr_sum / static_cast<double>(rr_n) : 0.0);
    const double sinc = x > 1e-9 ? std::sin(x) / x : 1.0;
    out.hr_amplitude_bpm = std::hypot(fh.c, fh.d) / std::max(sinc, 0.5);
    out.ref_amplitude = std::hypot(fr.c, fr.d);
    out.hr_fraction = fh.detrended_var > 0.0
                          ? std::min(1.0, 0.5 * out.hr_amplitude_bpm * out.hr_amplitude_bpm / fh.detrended_var)
                          : 0.0;
    out.window_s = window;
    out.valid = out.ref_amplitude > 0.0;
    return out;
}

}  // namespace

HrPhase hr_phase(std::span<const Beat> beats, std::span<const ReferenceSample> reference, double f0_hz,
                 const HrPhaseConfig& cfg) {
    PhaseScratch s;
    return phase_core(
        beats.size(), [&](std::size_t k) -> const Beat& { return beats[k]; }, reference.size(),
        [&](std::size_t k) { return reference[k]; }, f0_hz, cfg, s);
}

struct HrPhaseTracker::Impl {
    HrPhaseConfig cfg;
    std::vector<Beat> beats;
    std::size_t bhead = 0, bsize = 0;
    std::vector<ReferenceSample> ref;
    std::size_t rhead = 0, rsize = 0;
    PhaseScratch scratch;
};

namespace {
constexpr double kReferenceMinStepS = 0.05;  // reference decimated to 20 Hz
}

HrPhaseTracker::HrPhaseTracker(const HrPhaseConfig& cfg) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.cfg = cfg;
    const double span = cfg.max_window_s + 5.0;  // + margin for the spline's first knot
    const auto nb = static_cast<std::size_t>(std::ceil(span * kMaxHrBpm / 60.0)) + 8;
    const auto nr = static_cast<std::size_t>(std::ceil(span / kReferenceMinStepS)) + 8;
    m.beats.assign(nb, Beat{});
    m.ref.assign(nr, ReferenceSample{});
    const auto ng = static_cast<std::size_t>(std::ceil(cfg.max_window_s * cfg.resample_hz)) + 8;
    m.scratch.hr.reserve(nb);
    m.scratch.grid.reserve(ng);
    m.scratch.h.reserve(ng);
    m.scratch.r.reserve(ng);
    m.scratch.cos_wt.reserve(ng);
    m.scratch.sin_wt.reserve(ng);
}

HrPhaseTracker::~HrPhaseTracker() = default;
HrPhaseTracker::HrPhaseTracker(HrPhaseTracker&&) noexcept = default;
HrPhaseTracker& HrPhaseTracker::operator=(HrPhaseTracker&&) noexcept = default;

void HrPhaseTracker::reset() {
    impl_->bhead = impl_->bsize = 0;
    impl_->rhead = impl_->rsize = 0;
}

void HrPhaseTracker::push_beat(const Beat& beat) {
    Impl& m = *impl_;
    if (!(beat.ibi_ms > 0.0)) return;
    if (m.bsize == m.beats.size()) {
        m.bhead = (m.bhead + 1) % m.beats.size();
        --m.bsize;
    }
    m.beats[(m.bhead + m.bsize) % m.beats.size()] = beat;
    ++m.bsize;
}

void HrPhaseTracker::push_reference(double t_s, double value) {
    Impl& m = *impl_;
    if (m.rsize > 0) {
        const ReferenceSample& last = m.ref[(m.rhead + m.rsize - 1) % m.ref.size()];
        if (t_s < last.t_s + kReferenceMinStepS) return;
    }
    if (m.rsize == m.ref.size()) {
        m.rhead = (m.rhead + 1) % m.ref.size();
        --m.rsize;
    }
    m.ref[(m.rhead + m.rsize) % m.ref.size()] = {t_s, value};
    ++m.rsize;
}

HrPhase HrPhaseTracker::estimate(double f0_hz) {
    Impl& m = *impl_;
    // Ring positions by a conditional wrap (an integer division per access was a visible cost).
    const std::size_t nb = m.beats.size(), nr = m.ref.size();
    return phase_core(
        m.bsize,
        [&](std::size_t k) -> const Beat& {
            const std::size_t i = m.bhead + k;
            return m.beats[i >= nb ? i - nb : i];
        },
        m.rsize,
        [&](std::size_t k) {
            const std::size_t i = m.rhead + k;
            return m.ref[i >= nr ? i - nr : i];
        },
        f0_hz, m.cfg, m.scratch);
}

}  // namespace attune::dsp
