// RR-interval artifact detection and correction (Lipponen & Tarvainen 2019). See artifacts.hpp for
// the method, the deliberate deviations and how the streaming version differs from the offline one.
#include <attune/dsp/artifacts.hpp>

#include "common.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attune::dsp {

const char* to_string(IntervalClass c) noexcept {
    switch (c) {
        case IntervalClass::ok: return "ok";
        case IntervalClass::ectopic: return "ectopic";
        case IntervalClass::missed: return "missed";
        case IntervalClass::extra: return "extra";
        case IntervalClass::too_long: return "long";
        case IntervalClass::too_short: return "short";
        case IntervalClass::implausible: return "implausible";
    }
    return "?";
}

void ArtifactCounts::add(IntervalClass c) noexcept {
    switch (c) {
        case IntervalClass::ok: ++ok; break;
        case IntervalClass::ectopic: ++ectopic; break;
        case IntervalClass::missed: ++missed; break;
        case IntervalClass::extra: ++extra; break;
        case IntervalClass::too_long: ++too_long; break;
        case IntervalClass::too_short: ++too_short; break;
        case IntervalClass::implausible: ++implausible; break;
    }
}

namespace detail {

void SortedWindow::insert(double x) { v_.insert(std::upper_bound(v_.begin(), v_.end(), x), x); }

void SortedWindow::erase(double x) {
    const auto it = std::lower_bound(v_.begin(), v_.end(), x);
    if (it != v_.end() && *it == x) v_.erase(it);
}

double SortedWindow::quantile(double q) const noexcept {
    if (v_.empty()) return 0.0;
    const double pos = q * static_cast<double>(v_.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v_.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    return v_[lo] + frac * (v_[hi] - v_[lo]);
}

}  // namespace detail

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTinyMs = 1e-6;  // keeps normalised values finite when a window has no spread

using detail::plausible_ibi;

// Th from the window's spread (see ThresholdScale). The floor relative to medRR is applied later,
// when medRR of the interval being decided is known.
double threshold(const detail::SortedWindow& w, const ArtifactConfig& c) {
    if (w.size() == 0) return kTinyMs;
    const double th = c.scale == ThresholdScale::median_abs
                          ? c.kappa * w.quantile(0.5)
                          : c.alpha * 0.5 * (w.quantile(0.75) - w.quantile(0.25));
    return std::max(th, kTinyMs);
}

// What the decision for interval j looks at. Normalised differences outside the series are 0
// ("no change"), which never triggers a rule; rr1 is NaN when interval j + 1 does not exist.
struct View {
    double d[4] = {0.0, 0.0, 0.0, 0.0};    // dRR at j−1, j, j+1, j+2 (ms)
    double th1[4] = {1.0, 1.0, 1.0, 1.0};  // their Th1 (ms)
    double m0 = 0.0, th2 = 1.0;            // mRR at j and its Th2 (ms)
    double rr0 = 0.0, rr1 = kNaN;          // ms
    double med0 = 0.0;                     // ms
};

// The view normalised, with the thresholds held up by the floors relative to medRR(j).
struct Norm {
    double dn_prev, dn0, dn1, dn2, mn0, th2;
};

Norm normalise(const View& v, const ArtifactConfig& c) {
    const double f1 = c.min_threshold_rel * v.med0;
    Norm n;
    n.dn_prev = v.d[0] / std::max(v.th1[0], f1);
    n.dn0 = v.d[1] / std::max(v.th1[1], f1);
    n.dn1 = v.d[2] / std::max(v.th1[2], f1);
    n.dn2 = v.d[3] / std::max(v.th1[3], f1);
    n.th2 = std::max(v.th2, c.min_threshold_rel * v.med0);
    n.mn0 = v.m0 / n.th2;
    return n;
}

struct Decision {
    IntervalClass cls = IntervalClass::ok;
    bool next_candidate = false;  // interval j + 1 goes straight to the long/short tests
    bool consume_next = false;    // interval j + 1 is merged into j (extra beat)
};

int split_count(double rr, double med, int max_split) {
    if (!(med > 0.0)) return 2;
    const auto n = static_cast<int>(std::lround(rr / med));
    return std::clamp(n, 2, std::max(2, max_split));
}

// Subspace S1 test for the beat between two intervals, given the normalised difference at that
// junction (d) and at the junctions either side: a premature beat and its compensatory pause give
// a negative–positive–negative pattern (a late beat the mirror image). S12 is the larger neighbour
// for a lengthening and the smaller for a shortening.
// The junction must also dominate its neighbours (|d| ≥ 3/4 of theirs): the junctions beside an
// ectopic beat see its large difference as a neighbour and can pass the S12 test by themselves
// (with a full compensatory pause they are exactly half as large), which would flag a third,
// normal interval. 3/4 rather than 1 keeps runs of bigeminy, where neighbours are about equal.
bool ectopic_junction(double d_before, double d, double d_after, const ArtifactConfig& c) {
    if (!(std::abs(d) > 1.0)) return false;
    const double dominance = 0.75 * std::max(std::abs(d_before), std::abs(d_after));
    if (std::abs(d) < dominance) return false;
    const double s12 = d > 0.0 ? std::max(d_before, d_after) : std::min(d_before, d_after);
    return (d > 1.0 && s12 < -c.c1 * d - c.c2) || (d < -1.0 && s12 > -c.c1 * d + c.c2);
}

// The decision flow of Lipponen & Tarvainen (2019), figure 1, for interval j.
// dRR(j) = RR(j) − RR(j−1) describes the beat that ends interval j − 1 and starts interval j, so
// the ectopic test is made at both ends of the interval: an ectopic beat corrupts both intervals
// around it. The long/short/missed/extra tests are about the interval itself.
// `as_candidate`: j was queued by the evaluation of j − 1 (|dRR(j)| < |dRR(j+1)|) and goes to the
// long/short tests without the gate, as in the paper.
Decision classify(const View& view, bool as_candidate, bool irregular, const ArtifactConfig& c) {
    Decision dec;
    const Norm v = normalise(view, c);
    const double d = v.dn0;
    if (ectopic_junction(v.dn_prev, v.dn0, v.dn1, c) || ectopic_junction(v.dn0, v.dn1, v.dn2, c)) {
        dec.cls = IntervalClass::ectopic;
        return dec;
    }
    if (!as_candidate) {
        if (!(std::abs(d) > 1.0 || std::abs(v.mn0) > 3.0)) return dec;
        dec.next_candidate = std::abs(v.dn1) < std::abs(v.dn2);
    }
    // S22: the following two differences, taken against the sign of dRR(j).
    const double s22 = d >= 0.0 ? std::min(v.dn1, v.dn2) : std::max(v.dn1, v.dn2);
    const bool eq3 = d > 1.0 && s22 < -1.0;  // long
    const bool eq4 = std::abs(v.mn0) > 3.0;  // long or short against the local median
    const bool eq5 = d < -1.0 && s22 > 1.0;  // short
    if (!(eq3 || eq4 || eq5)) return dec;

    const bool is_long = eq3 || (eq4 && v.mn0 > 0.0);
    const bool is_short = eq5 || (eq4 && v.mn0 < 0.0);
    if (is_short && std::isfinite(view.rr1) &&
        std::abs(view.rr0 + view.rr1 - view.med0) < v.th2) {
        dec.cls = IntervalClass::extra;
        dec.consume_next = true;
        dec.next_candidate = false;
        return dec;
    }
    if (is_long) {
        const int n = split_count(view.rr0, view.med0, c.max_missed_split);
        // Irregular rhythm (atrial fibrillation): long pauses are the rhythm itself; only an
        // interval that splits into near-median parts within af_missed_fit x Th2 is a lost beat,
        // any other long one stays ok.
        const double fit = irregular ? c.af_missed_fit * v.th2 : v.th2;
        if (std::abs(view.rr0 / n - view.med0) < fit) {
            dec.cls = IntervalClass::missed;
            return dec;
        }
        if (irregular && !is_short) return dec;
    }
    dec.cls = view.rr0 > view.med0 ? IntervalClass::too_long : IntervalClass::too_short;
    return dec;
}

// Premature-beat rule (see artifacts.hpp). The sinus reference is the median of the last
// reference_window intervals labelled ok (ectopic intervals never enter it, so it holds through
// runs of bigeminy and trigeminy); its irregularity is the median |difference| of consecutive
// entries relative to it. Atrial fibrillation keeps the reference irregular and the rule silent.
}  // namespace

namespace detail {

void SinusReference::reset(std::size_t capacity) {
    v_.assign(std::max<std::size_t>(capacity, 1), 0.0);
    scratch_.assign(v_.size(), 0.0);
    head_ = size_ = 0;
}

void SinusReference::push(double rr_ms) {
    if (size_ == v_.size()) {
        head_ = (head_ + 1) % v_.size();
        --size_;
    }
    v_[(head_ + size_) % v_.size()] = rr_ms;
    ++size_;
}

bool SinusReference::evaluate(std::size_t min_count, double& ref_ms, double& irregularity) const {
    if (size_ < std::max<std::size_t>(min_count, 3)) return false;
    auto median = [&](std::size_t n) {
        const auto mid = scratch_.begin() + static_cast<std::ptrdiff_t>(n / 2);
        std::nth_element(scratch_.begin(), mid, scratch_.begin() + static_cast<std::ptrdiff_t>(n));
        double m = *mid;
        if (n % 2 == 0) m = 0.5 * (m + *std::max_element(scratch_.begin(), mid));
        return m;
    };
    for (std::size_t k = 0; k < size_; ++k) scratch_[k] = v_[(head_ + k) % v_.size()];
    ref_ms = median(size_);
    for (std::size_t k = 1; k < size_; ++k)
        scratch_[k - 1] = std::abs(v_[(head_ + k) % v_.size()] - v_[(head_ + k - 1) % v_.size()]);
    irregularity = ref_ms > 0.0 ? median(size_ - 1) / ref_ms : 1.0;
    return ref_ms > 0.0;
}

void SteadyRhythm::reset(std::size_t reference_capacity, std::size_t window) {
    ref_.reset(reference_capacity);
    rhythm_.reset(reference_capacity);
    prev_pattern_ = false;
    steady_.assign(std::max<std::size_t>(window, 1), 0);
    head_ = size_ = count_ = 0;
}

void SteadyRhythm::clear() noexcept {
    clear_references();
    head_ = size_ = count_ = 0;
}

void SteadyRhythm::clear_references() noexcept {
    ref_.clear();
    rhythm_.clear();
    prev_pattern_ = false;
}

void SteadyRhythm::settle(double rr_ms, bool ok, bool steady_pattern) noexcept {
    if (ok && !steady_pattern && !prev_pattern_) rhythm_.push(rr_ms);
    prev_pattern_ = steady_pattern;
}

void SteadyRhythm::observe(double before_ms, double rr_ms, double after_ms, bool ok, double steady_rel) noexcept {
    // NaN neighbours fail the comparisons: an interval at a series edge is not steady.
    const bool steady = std::abs(rr_ms - before_ms) <= steady_rel * rr_ms &&
                        std::abs(after_ms - rr_ms) <= steady_rel * rr_ms;
    if (size_ == steady_.size()) {
        count_ -= steady_[head_];
        head_ = (head_ + 1) % steady_.size();
        --size_;
    }
    steady_[(head_ + size_) % steady_.size()] = steady ? 1 : 0;
    ++size_;
    count_ += steady ? 1 : 0;
    if (steady && ok) ref_.push(rr_ms);
}

void PatternMemory::reset(const ArtifactConfig& c) {
    n_ = 0;
    ectopic_.clear();
    normal_.clear();
    ectopic_total_ = 0;
    if (!c.pattern_rule || !(c.pattern_cell_rel > 0.0) || !(c.pattern_max_rel > c.pattern_min_rel)) return;
    const double cells = std::ceil((c.pattern_max_rel - c.pattern_min_rel) / c.pattern_cell_rel);
    if (!(cells >= 1.0) || cells > 128.0) return;  // at most 128^3 cells (16 MB): otherwise off
    n_ = static_cast<int>(cells);
    lo_ = c.pattern_min_rel;
    width_ = c.pattern_cell_rel;
    ratio_ = c.pattern_ratio;
    min_ectopic_ = static_cast<std::size_t>(std::max(c.pattern_min_ectopic, 1));
    min_local_ = static_cast<std::size_t>(std::max(c.pattern_min_local, 1));
    const auto total = static_cast<std::size_t>(n_) * static_cast<std::size_t>(n_) * static_cast<std::size_t>(n_);
    ectopic_.assign(total, 0);
    normal_.assign(total, 0);
}

void PatternMemory::clear() noexcept {
    std::fill(ectopic_.begin(), ectopic_.end(), 0u);
    std::fill(normal_.begin(), normal_.end(), 0u);
    ectopic_total_ = 0;
}

int PatternMemory::cell(double rel) const noexcept {
    const double x = (rel - lo_) / width_;
    if (!(x >= 0.0) || !(x < static_cast<double>(n_))) return -1;  // NaN lands here too
    return static_cast<int>(x);
}

bool PatternMemory::cells(double p_ms, double s_ms, double l_ms, double ref_ms, int (&abc)[3]) const noexcept {
    if (n_ == 0 || !(ref_ms > 0.0)) return false;
    abc[0] = cell(p_ms / ref_ms);
    abc[1] = cell(s_ms / ref_ms);
    abc[2] = cell(l_ms / ref_ms);
    return abc[0] >= 0 && abc[1] >= 0 && abc[2] >= 0;
}

std::size_t PatternMemory::index(int a, int b, int c) const noexcept {
    const auto n = static_cast<std::size_t>(n_);
    return (static_cast<std::size_t>(a) * n + static_cast<std::size_t>(b)) * n + static_cast<std::size_t>(c);
}

void PatternMemory::learn(double p_ms, double s_ms, double l_ms, double ref_ms, bool ectopic) noexcept {
    int abc[3];
    if (!cells(p_ms, s_ms, l_ms, ref_ms, abc)) return;
    const std::size_t at = index(abc[0], abc[1], abc[2]);
    auto& count = ectopic ? ectopic_[at] : normal_[at];
    if (count == std::numeric_limits<std::uint32_t>::max()) return;  // saturated (years of beats)
    ++count;
    if (ectopic) ++ectopic_total_;
}

bool PatternMemory::matches(double p_ms, double s_ms, double l_ms, double ref_ms) const noexcept {
    int abc[3];
    if (ectopic_total_ < min_ectopic_ || !cells(p_ms, s_ms, l_ms, ref_ms, abc)) return false;
    const auto [a, b, c] = abc;
    std::uint64_t e = 0, nrm = 0;
    for (int i = std::max(a - 1, 0); i <= std::min(a + 1, n_ - 1); ++i)
        for (int j = std::max(b - 1, 0); j <= std::min(b + 1, n_ - 1); ++j)
            for (int k = std::max(c - 1, 0); k <= std::min(c + 1, n_ - 1); ++k) {
                const std::size_t at = index(i, j, k);
                e += ectopic_[at];
                nrm += normal_[at];
            }
    return e >= min_local_ && static_cast<double>(e) > ratio_ * static_cast<double>(nrm);
}

double SteadyRhythm::share(std::size_t min_count) const noexcept {
    if (size_ == 0 || size_ < min_count) return 0.0;
    return static_cast<double>(count_) / static_cast<double>(size_);
}

}  // namespace detail

namespace {

// S = RR(k), L = RR(k + 1) (NaN when unknown), prev = RR(k − 1) (NaN at a series start).
// True: the beat ending S is premature against a regular sinus reference, either with a
// compensatory pause (S <= (1 − premature_rel)·ref, L >= (1 + pause_rel)·S,
// S + L >= (2 − compensation_rel)·ref) or so early that sinus rhythm cannot explain it
// (S <= (1 − early_rel)·ref and S <= (1 − early_prev_rel)·prev: an interpolated beat, or the first
// of a couplet, has no pause).
// Irregularly irregular rhythm (atrial fibrillation): the reference of ok intervals varies from
// beat to beat by more than af_irregularity_rel (median). There an early beat followed by a late
// one is the rhythm itself, so the ectopic label of the L&T junction test is withheld (missed,
// extra, long and short intervals are still labelled).
// A reference window's median and irregularity, evaluated once per decision.
struct RefEstimate {
    bool valid = false;
    double ref_ms = 0.0, irregularity = 1.0;
};

RefEstimate estimate(const detail::SinusReference& ref_win, const ArtifactConfig& c) {
    RefEstimate e;
    e.valid = ref_win.evaluate(static_cast<std::size_t>(std::max(c.reference_min_count, 3)), e.ref_ms, e.irregularity);
    return e;
}

bool irregular_rhythm(const RefEstimate& ok_ref, const ArtifactConfig& c) {
    return c.af_irregularity_rel > 0.0 && ok_ref.valid && ok_ref.irregularity > c.af_irregularity_rel;
}

bool premature_beat(double s, double l, double prev, bool prev_ok, const RefEstimate& e, const ArtifactConfig& c) {
    if (!c.premature_rule || !e.valid || e.irregularity > c.regularity_rel) return false;
    const double ref = e.ref_ms;
    // Relative margins never below variability_factor × the reference's own beat-to-beat
    // variability: a person with large sinus arrhythmia swings further without any ectopy.
    const double v = c.variability_factor * e.irregularity;
    const double premature = std::max(c.premature_rel, v), pause = std::max(c.pause_rel, v);
    const double early_ref = std::max(c.early_rel, v), early_prev = std::max(c.early_prev_rel, v);
    // Abrupt: a gradual shortening over several beats is sinus arrhythmia, not a premature beat;
    // after an interval that is itself flagged, the step from it says nothing.
    const bool abrupt = !std::isfinite(prev) || !prev_ok || s <= (1.0 - 0.5 * premature) * prev;
    const bool paused = std::isfinite(l) && abrupt && s <= (1.0 - premature) * ref && l >= (1.0 + pause) * s &&
                        s + l >= (2.0 - c.compensation_rel) * ref;
    const bool early = s <= (1.0 - early_ref) * ref && std::isfinite(prev) && s <= (1.0 - early_prev) * prev;
    return paused || early;
}

// The premature-beat rule against the ok-interval reference and against the steady-stretch
// reference (see artifacts.hpp). `flag`: the interval is labelled; `steady_pattern`: it is S of a
// premature pattern against the steady reference, gates or not (what SteadyRhythm::settle keeps
// out of its rhythm reference).
struct PrematureVerdict {
    bool flag = false, steady_pattern = false;
};

PrematureVerdict premature_verdict(double s, double l, double prev, bool prev_ok, const RefEstimate& ok_ref,
                                   const detail::SteadyRhythm& steady, const ArtifactConfig& c) {
    PrematureVerdict v;
    v.flag = premature_beat(s, l, prev, prev_ok, ok_ref, c);
    if (!c.steady_reference_rule) return v;
    v.steady_pattern = premature_beat(s, l, prev, prev_ok, estimate(steady.reference(), c), c);
    if (v.flag || !v.steady_pattern) return v;
    // Only where the ok intervals are not a regular reference (else the rule above had its say),
    // and not in atrial fibrillation: the rhythm outside the patterns found stays irregular there,
    // and steady stretches are rare.
    if (ok_ref.valid && ok_ref.irregularity <= c.regularity_rel) return v;
    const RefEstimate rhythm = estimate(steady.rhythm(), c);
    if (rhythm.valid && rhythm.irregularity > c.steady_max_irregularity) return v;
    v.flag = steady.share(static_cast<std::size_t>(std::max(c.rhythm_min_count, 1))) >= c.min_steady_share;
    return v;
}

// Group beating (bigeminy, trigeminy): a premature beat every 2nd or 3rd beat. The L&T spread
// estimates absorb it within a few cycles and the ok intervals stop being a regular reference, so
// neither the junction test nor the premature-beat rule sees it any more; what gives it away is
// its regularity: the short coupling interval S and the pause L repeat cycle after cycle (sinus
// rhythm does not alternate like that, and atrial fibrillation does not repeat). rr_at(o) is
// RR(k + o) for o in [-(3·cycles - 2), 1], NaN outside the series; S = RR(k), L = RR(k + 1).
template <class RrAt>
bool group_beating(RrAt&& rr_at, const ArtifactConfig& c) {
    if (c.group_cycles < 2) return false;
    const double short_max = 1.0 - c.group_premature_rel, spread_max = 1.0 + c.group_consistency_rel;
    for (int period = 2; period <= 3; ++period) {
        double s_lo = kInf, s_hi = 0.0, l_lo = kInf, l_hi = 0.0, n_lo = kInf, n_hi = 0.0;
        bool match = true;
        for (int cycle = 0; cycle < c.group_cycles && match; ++cycle) {
            const int o = -cycle * period;
            const double s = rr_at(o), l = rr_at(o + 1);
            const double n = period == 3 ? rr_at(o - 1) : l;
            // NaN (outside the series) fails every comparison below.
            match = s <= short_max * l && s <= short_max * n;
            s_lo = std::min(s_lo, s), s_hi = std::max(s_hi, s);
            l_lo = std::min(l_lo, l), l_hi = std::max(l_hi, l);
            n_lo = std::min(n_lo, n), n_hi = std::max(n_hi, n);
        }
        if (match && s_hi <= spread_max * s_lo && l_hi <= spread_max * l_lo && n_hi <= spread_max * n_lo)
            return true;
    }
    return false;
}

// The recurring-pattern rule (see artifacts.hpp). rr_at, ref_at: the interval and the reference
// it was judged against at offset o from interval i (NaN outside i's series); cls_at likewise
// (IntervalClass::implausible outside). cls_at gives the other rules' labels, never this rule's
// own, so the memory cannot feed on itself.
//
// Learning, once i's label is decided: the beat two back, whose neighbours' labels are all final
// now, is a premature beat (S and L both labelled ectopic, S < L), a normal beat (S and L both
// ok), or neither.
template <class RrAt, class RefAt, class ClsAt>
void learn_pattern(detail::PatternMemory& memory, RrAt&& rr_at, RefAt&& ref_at, ClsAt&& cls_at) {
    using C = IntervalClass;
    const bool ectopic = cls_at(-2) == C::ectopic && cls_at(-1) == C::ectopic && rr_at(-2) < rr_at(-1);
    const bool normal = cls_at(-2) == C::ok && cls_at(-1) == C::ok;
    if (ectopic || normal) memory.learn(rr_at(-3), rr_at(-2), rr_at(-1), ref_at(-2), ectopic);
}

// Whether beat i (ending interval i, still ok) sits where this recording's ectopic beats recur.
template <class RrAt, class RefAt, class ClsAt>
bool pattern_match(const detail::PatternMemory& memory, RrAt&& rr_at, RefAt&& ref_at, ClsAt&& cls_at) {
    return cls_at(0) == IntervalClass::ok && memory.matches(rr_at(-1), rr_at(0), rr_at(1), ref_at(0));
}

bool is_interpolated(IntervalClass c) {
    return c == IntervalClass::ectopic || c == IntervalClass::too_long ||
           c == IntervalClass::too_short;
}

// out[k] = f(window of x over [k − h, k + h] ∩ [first, n − 1]) — pandas rolling(center=True,
// min_periods=1) restricted to x[first..].
template <class F>
void rolling_centered(const std::vector<double>& x, std::size_t first, std::size_t h,
                      detail::SortedWindow& w, std::vector<double>& out, F&& f) {
    const std::size_t n = x.size();
    out.assign(n, 0.0);
    w.clear();
    std::size_t lo = first, hi = first;  // window holds x[lo, hi)
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t want_lo = std::max(first, k >= h ? k - h : 0);
        const std::size_t want_hi = std::min(n, k + h + 1);
        while (hi < want_hi) w.insert(x[hi++]);
        while (lo < want_lo && lo < hi) w.erase(x[lo++]);
        out[k] = f(w);
    }
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Offline

ArtifactResult correct_artifacts(std::span<const Beat> beats, const ArtifactConfig& cfg) {
    ArtifactResult res;
    std::vector<double> rr, t, amp;
    std::vector<std::size_t> input_of;  // series index → index in res.classified
    res.classified.reserve(beats.size());
    for (const Beat& b : beats) {
        if (b.ibi_ms == 0.0) continue;
        const bool ok = plausible_ibi(b.ibi_ms);
        res.classified.push_back({b.t_s, b.ibi_ms, ok ? IntervalClass::ok : IntervalClass::implausible});
        if (!ok) continue;
        input_of.push_back(res.classified.size() - 1);
        rr.push_back(b.ibi_ms);
        t.push_back(b.t_s);
        amp.push_back(b.amplitude);
    }
    const std::size_t n = rr.size();
    const std::size_t h_th = static_cast<std::size_t>(std::max(cfg.threshold_window, 1) / 2);
    const std::size_t h_med = static_cast<std::size_t>(std::max(cfg.median_window, 1) / 2);
    detail::SortedWindow w;
    w.reserve(2 * std::max(h_th, h_med) + 1);

    // dRR and Th1 (d[0] is no difference at all and stays out of the window).
    std::vector<double> d(n, 0.0), absd(n, 0.0), th1, med, m(n, 0.0), absm(n, 0.0), th2;
    for (std::size_t k = 1; k < n; ++k) {
        d[k] = rr[k] - rr[k - 1];
        absd[k] = std::abs(d[k]);
    }
    rolling_centered(absd, 1, h_th, w, th1,
                     [&](const detail::SortedWindow& s) { return threshold(s, cfg); });
    rolling_centered(rr, 0, h_med, w, med,
                     [](const detail::SortedWindow& s) { return s.quantile(0.5); });
    for (std::size_t k = 0; k < n; ++k) {
        m[k] = rr[k] - med[k];
        if (m[k] < 0.0) m[k] *= 2.0;
        absm[k] = std::abs(m[k]);
    }
    rolling_centered(absm, 0, h_th, w, th2,
                     [&](const detail::SortedWindow& s) { return threshold(s, cfg); });

    std::vector<IntervalClass> cls(n, IntervalClass::ok);
    std::vector<std::uint8_t> candidate(n, 0), consumed(n, 0), forced(n, 0), pattern(n, 0);
    std::vector<double> ref_used(n, kNaN);
    detail::PatternMemory memory;
    memory.reset(cfg);
    // Offsets from interval i, NaN (implausible) outside the series.
    auto at = [n](std::size_t i, int o, auto&& get, auto outside) {
        const auto k = static_cast<std::ptrdiff_t>(i) + o;
        return k >= 0 && k < static_cast<std::ptrdiff_t>(n) ? get(static_cast<std::size_t>(k)) : outside;
    };
    auto rr_from = [&](std::size_t i) {
        return [&, i](int o) { return at(i, o, [&](std::size_t k) { return rr[k]; }, kNaN); };
    };
    auto ref_at = [&](std::size_t i) {
        return [&, i](int o) { return at(i, o, [&](std::size_t k) { return ref_used[k]; }, kNaN); };
    };
    auto cls_at = [&](std::size_t i) {
        return [&, i](int o) { return at(i, o, [&](std::size_t k) { return cls[k]; }, IntervalClass::implausible); };
    };
    detail::SinusReference sinus;
    sinus.reset(static_cast<std::size_t>(std::max(cfg.reference_window, 1)));
    detail::SteadyRhythm steady;
    steady.reset(static_cast<std::size_t>(std::max(cfg.reference_window, 1)),
                 static_cast<std::size_t>(std::max(cfg.rhythm_window, 1)));
    for (std::size_t i = 0; i < n; ++i) {
        if (consumed[i]) continue;
        View v;
        for (std::size_t j = 0; j < 4; ++j) {
            const std::size_t k = i + j;  // index i − 1 + j, shifted to stay unsigned
            if (k >= 1 && k - 1 < n) {
                v.d[j] = d[k - 1];
                v.th1[j] = th1[k - 1];
            }
        }
        v.m0 = m[i];
        v.rr0 = rr[i];
        v.rr1 = i + 1 < n ? rr[i + 1] : kNaN;
        v.med0 = med[i];
        v.th2 = th2[i];
        const RefEstimate ok_ref = estimate(sinus, cfg);
        if (ok_ref.valid) ref_used[i] = ok_ref.ref_ms;
        const bool irregular = irregular_rhythm(ok_ref, cfg);
        const Decision dec = classify(v, candidate[i] != 0, irregular, cfg);
        cls[i] = irregular && dec.cls == IntervalClass::ectopic ? IntervalClass::ok : dec.cls;
        const auto rr_at = rr_from(i);
        const PrematureVerdict pv = premature_verdict(rr[i], i + 1 < n ? rr[i + 1] : kNaN, i > 0 ? rr[i - 1] : kNaN,
                                                      i == 0 || cls[i - 1] == IntervalClass::ok, ok_ref, steady, cfg);
        if (pv.flag || group_beating(rr_at, cfg)) {
            if (cls[i] == IntervalClass::ok) cls[i] = IntervalClass::ectopic;
            if (i + 1 < n) forced[i + 1] = 1;
        }
        if (cls[i] == IntervalClass::ok && forced[i]) cls[i] = IntervalClass::ectopic;
        if (cls[i] == IntervalClass::ok) sinus.push(rr[i]);
        steady.settle(rr[i], cls[i] == IntervalClass::ok, pv.steady_pattern);
        // Interval i - 1 is final now and its right neighbour known.
        if (i >= 1) steady.observe(rr_at(-2), rr[i - 1], rr[i], cls[i - 1] == IntervalClass::ok, cfg.steady_rel);
        learn_pattern(memory, rr_at, ref_at(i), cls_at(i));
        if (i + 1 < n) {
            if (dec.next_candidate) candidate[i + 1] = 1;
            if (dec.consume_next) {
                consumed[i + 1] = 1;
                cls[i + 1] = IntervalClass::extra;
            }
        }
    }
    // The recurring-pattern rule, offline: the memory has learned the whole recording (as the
    // centred windows see both sides); a beat is flagged when S and L are both still ok. Its labels
    // join the others only now: the rule learns from the others alone.
    for (std::size_t i = 1; i + 1 < n; ++i) {
        if (pattern[i] || cls[i + 1] != IntervalClass::ok) continue;
        if (pattern_match(memory, rr_from(i), ref_at(i), cls_at(i))) pattern[i] = pattern[i + 1] = 1;
    }
    for (std::size_t k = 0; k < n; ++k)
        if (pattern[k] && cls[k] == IntervalClass::ok) cls[k] = IntervalClass::ectopic;
    for (std::size_t k = 0; k < n; ++k) res.classified[input_of[k]].cls = cls[k];
    for (const auto& c : res.classified) res.counts.add(c.cls);

    // Corrected series; interpolated intervals are NaN placeholders filled afterwards.
    auto& out = res.corrected;
    out.reserve(n + n / 8);
    std::vector<double> fallback;  // medRR for each output slot (used when no neighbour exists)
    fallback.reserve(n + n / 8);
    auto emit = [&](double ts, double ibi, double a, IntervalClass from, double fb) {
        out.push_back({ts, ibi, a, from});
        fallback.push_back(fb);
    };
    for (std::size_t k = 0; k < n; ++k) {
        if (consumed[k]) continue;
        switch (cls[k]) {
            case IntervalClass::missed: {
                const int parts = split_count(rr[k], med[k], cfg.max_missed_split);
                const double part = rr[k] / parts;
                const double t0 = t[k] - rr[k] / 1000.0;
                for (int j = 1; j <= parts; ++j)
                    emit(t0 + j * part / 1000.0, part, j == parts ? amp[k] : 0.0, cls[k], med[k]);
                break;
            }
            case IntervalClass::extra:
                if (k + 1 < n)
                    emit(t[k + 1], rr[k] + rr[k + 1], amp[k + 1], cls[k], med[k]);
                break;
            case IntervalClass::ectopic:
            case IntervalClass::too_long:
            case IntervalClass::too_short: emit(t[k], kNaN, amp[k], cls[k], med[k]); break;
            default: emit(t[k], rr[k], amp[k], cls[k], med[k]); break;
        }
    }
    // Linear interpolation (in beat index) across each run of placeholders.
    const std::size_t no = out.size();
    for (std::size_t a = 0; a < no;) {
        if (!std::isnan(out[a].ibi_ms)) {
            ++a;
            continue;
        }
        std::size_t b = a;
        while (b < no && std::isnan(out[b].ibi_ms)) ++b;
        const bool has_l = a > 0, has_r = b < no;
        for (std::size_t k = a; k < b; ++k) {
            double v;
            if (has_l && has_r) {
                const double l = out[a - 1].ibi_ms, r = out[b].ibi_ms;
                v = l + (r - l) * static_cast<double>(k - a + 1) / static_cast<double>(b - a + 1);
            } else if (has_l) {
                v = out[a - 1].ibi_ms;
            } else if (has_r) {
                v = out[b].ibi_ms;
            } else {
                v = fallback[k];
            }
            out[k].ibi_ms = v;
            if (k > 0) out[k].t_s = out[k - 1].t_s + v / 1000.0;
        }
        a = b;
    }
    return res;
}

ArtifactResult correct_artifacts(std::span<const double> ibi_ms, const ArtifactConfig& cfg) {
    std::vector<Beat> beats;
    beats.reserve(ibi_ms.size());
    double t = 0.0;
    for (double x : ibi_ms) {
        t += std::isfinite(x) ? x / 1000.0 : 0.0;
        beats.push_back({t, x, 0.0});
    }
    return correct_artifacts(beats, cfg);
}

// ------------------------------------------------------------------------------------------------
// Streaming

ArtifactStream::ArtifactStream(const ArtifactConfig& cfg) : cfg_(cfg) {
    cfg_.threshold_window = std::max(cfg_.threshold_window, 1);
    cfg_.median_window = std::max(cfg_.median_window, 1);
    cfg_.max_missed_split = std::max(cfg_.max_missed_split, 2);
    // The rings must reach back over a threshold window, a median window and whatever waits.
    cfg_.reference_window = std::max(cfg_.reference_window, 0);
    const std::size_t need = static_cast<std::size_t>(cfg_.threshold_window + cfg_.median_window +
                                                      cfg_.reference_window + 3 * std::max(cfg_.group_cycles, 0)) +
                             kMaxPending + kLookaheadBeats + 8;
    std::size_t cap = 1;
    while (cap < need) cap <<= 1;
    mask_ = cap - 1;
    for (auto* v : {&rr_, &t_, &amp_, &d_, &th1_, &m_, &med_, &th2_, &absd_, &absm_}) v->assign(cap, 0.0);
    cls_.assign(cap, IntervalClass::ok);
    break_.assign(cap, 0);
    candidate_.assign(cap, 0);
    consumed_.assign(cap, 0);
    forced_.assign(cap, 0);
    pattern_.assign(cap, 0);
    ref_.assign(cap, kNaN);
    memory_.reset(cfg_);
    sinus_.reset(static_cast<std::size_t>(std::max(cfg_.reference_window, 1)));
    steady_.reset(static_cast<std::size_t>(std::max(cfg_.reference_window, 1)),
                  static_cast<std::size_t>(std::max(cfg_.rhythm_window, 1)));
    win_d_.reserve(static_cast<std::size_t>(cfg_.threshold_window));
    win_m_.reserve(static_cast<std::size_t>(cfg_.threshold_window));
    med_scratch_.assign(static_cast<std::size_t>(cfg_.median_window), 0.0);
    pending_.assign(kMaxPending + 1, Pending{});
    out_cls_.reserve(kMaxPending + 2);
    out_cor_.reserve((kMaxPending + 2) * static_cast<std::size_t>(cfg_.max_missed_split));
}

void ArtifactStream::reset() {
    win_d_.clear();
    memory_.clear();
    sinus_.clear();
    steady_.clear();
    win_m_.clear();
    n_ = next_median_ = next_decide_ = 0;
    break_next_ = true;
    pend_head_ = pend_size_ = 0;
    have_prev_out_ = false;
    out_cls_.clear();
    out_cor_.clear();
    counts_ = {};
}

ArtifactStream::Output ArtifactStream::push(double t_s, double ibi_ms, double amplitude) {
    out_cls_.clear();
    out_cor_.clear();
    if (ibi_ms == 0.0) return output();  // first beat of a stream: no interval yet
    if (pend_size_ >= kMaxPending) flush_into_output();
    const bool ok = plausible_ibi(ibi_ms);
    pending_[(pend_head_ + pend_size_) % pending_.size()] = {t_s, ibi_ms, ok ? n_ : -1};
    ++pend_size_;
    if (ok) add_plausible(t_s, ibi_ms, amplitude);
    decide_ready(false);
    emit_ready();
    return output();
}

ArtifactStream::Output ArtifactStream::flush() {
    out_cls_.clear();
    out_cor_.clear();
    flush_into_output();
    return output();
}

void ArtifactStream::flush_into_output() {
    while (next_median_ < n_) compute_median_terms(next_median_++);
    decide_ready(true);
    emit_ready();
    break_next_ = true;
    have_prev_out_ = false;
}

void ArtifactStream::add_plausible(double t_s, double ibi_ms, double amplitude) {
    const std::int64_t k = n_;
    const std::size_t s = slot(k);
    const auto W = static_cast<std::int64_t>(cfg_.threshold_window);
    const bool has_d = !break_next_;
    const double d = has_d ? ibi_ms - rr_[slot(k - 1)] : 0.0;
    // Trailing |dRR| window: drop the value that leaves it before the ring slot can be reused.
    if (k - W >= 0 && !std::isnan(absd_[slot(k - W)])) win_d_.erase(absd_[slot(k - W)]);
    absd_[s] = has_d ? std::abs(d) : kNaN;
    if (has_d) win_d_.insert(absd_[s]);

    rr_[s] = ibi_ms;
    t_[s] = t_s;
    amp_[s] = amplitude;
    d_[s] = d;
    th1_[s] = threshold(win_d_, cfg_);
    cls_[s] = IntervalClass::ok;
    break_[s] = break_next_ ? 1 : 0;
    candidate_[s] = consumed_[s] = forced_[s] = pattern_[s] = 0;
    ref_[s] = kNaN;
    break_next_ = false;
    ++n_;
    while (next_median_ + kLookaheadBeats < n_) compute_median_terms(next_median_++);
}

// medRR(k) over the median_window intervals ending at k + look-ahead (or at the newest interval),
// then mRR(k) and its trailing threshold Th2.
void ArtifactStream::compute_median_terms(std::int64_t k) {
    const auto M = static_cast<std::int64_t>(cfg_.median_window);
    const std::int64_t end = std::min<std::int64_t>(k + kLookaheadBeats, n_ - 1);
    const std::int64_t begin = std::max<std::int64_t>(0, end - M + 1);
    std::size_t cnt = 0;
    for (std::int64_t j = begin; j <= end; ++j) med_scratch_[cnt++] = rr_[slot(j)];
    const auto first = med_scratch_.begin();
    const auto mid = first + static_cast<std::ptrdiff_t>(cnt / 2);
    std::nth_element(first, mid, first + static_cast<std::ptrdiff_t>(cnt));
    double med = *mid;
    if (cnt % 2 == 0) med = 0.5 * (med + *std::max_element(first, mid));

    const std::size_t s = slot(k);
    double m = rr_[s] - med;
    if (m < 0.0) m *= 2.0;
    const auto W = static_cast<std::int64_t>(cfg_.threshold_window);
    if (k - W >= 0) win_m_.erase(absm_[slot(k - W)]);
    absm_[s] = std::abs(m);
    win_m_.insert(absm_[s]);
    med_[s] = med;
    th2_[s] = threshold(win_m_, cfg_);
    m_[s] = m;
}

void ArtifactStream::decide_ready(bool at_end) {
    while (next_decide_ < n_) {
        const std::int64_t i = next_decide_;
        if (!consumed_[slot(i)]) {
            if (!at_end && i + kLookaheadBeats >= n_) break;
            decide(i);
            correct(i);
        }
        ++next_decide_;
    }
}

void ArtifactStream::decide(std::int64_t i) {
    const std::size_t s = slot(i);
    View v;
    for (std::int64_t j = 0; j < 4; ++j) {
        const std::int64_t k = i - 1 + j;
        if ((j == 0 && break_[s]) || k >= n_) continue;  // outside the series: "no change"
        v.d[j] = d_[slot(k)];
        v.th1[j] = th1_[slot(k)];
    }
    v.m0 = m_[s];
    v.rr0 = rr_[s];
    v.rr1 = i + 1 < n_ ? rr_[slot(i + 1)] : kNaN;
    v.med0 = med_[s];
    v.th2 = th2_[s];
    RefEstimate ok_ref = estimate(sinus_, cfg_);
    const bool irregular = irregular_rhythm(ok_ref, cfg_);
    const Decision dec = classify(v, candidate_[s] != 0, irregular, cfg_);
    cls_[s] = irregular && dec.cls == IntervalClass::ectopic ? IntervalClass::ok : dec.cls;
    if (break_[s]) {  // a new series: the references start afresh (the rhythm's share carries on)
        sinus_.clear();
        steady_.clear_references();
        ok_ref = RefEstimate{};  // what an empty reference evaluates to
    }
    if (ok_ref.valid) ref_[s] = ok_ref.ref_ms;
    const bool next_in_series = i + 1 < n_ && !break_[slot(i + 1)];
    // RR(i + o) within i's series (no break in between), NaN otherwise. The oldest interval of
    // i's series the group-beating rule can read (3 · group_cycles back) is found once here.
    std::int64_t series_first = i;
    const std::int64_t reach = std::max(3 * cfg_.group_cycles, 3);
    while (series_first > 0 && i - series_first < reach && !break_[slot(series_first)]) --series_first;
    auto rr_at = [&](int o) {
        const std::int64_t k = i + o;
        if (k < series_first || k >= n_ || (o > 0 && break_[slot(k)])) return kNaN;
        return rr_[slot(k)];
    };
    const PrematureVerdict pv =
        premature_verdict(rr_[s], next_in_series ? rr_[slot(i + 1)] : kNaN, break_[s] ? kNaN : rr_[slot(i - 1)],
                          break_[s] || cls_[slot(i - 1)] == IntervalClass::ok, ok_ref, steady_, cfg_);
    if (pv.flag ||
        group_beating(rr_at, cfg_)) {
        if (cls_[s] == IntervalClass::ok) cls_[s] = IntervalClass::ectopic;
        if (next_in_series) forced_[slot(i + 1)] = 1;
    }
    if (cls_[s] == IntervalClass::ok && forced_[s]) cls_[s] = IntervalClass::ectopic;
    if (cls_[s] == IntervalClass::ok) sinus_.push(rr_[s]);
    steady_.settle(rr_[s], cls_[s] == IntervalClass::ok, pv.steady_pattern);
    // Interval i - 1 (of this series) is final now and its right neighbour known.
    if (!break_[s]) steady_.observe(rr_at(-2), rr_[slot(i - 1)], rr_[s], cls_[slot(i - 1)] == IntervalClass::ok,
                                    cfg_.steady_rel);
    // cls_ keeps the other rules' labels (what the pattern memory learns from); pattern_ marks
    // this rule's own, applied where labels leave (final_label).
    auto in_series = [&](int o) { return !std::isnan(rr_at(o)); };
    auto ref_at = [&](int o) { return in_series(o) ? ref_[slot(i + o)] : kNaN; };
    auto cls_at = [&](int o) { return in_series(o) ? cls_[slot(i + o)] : IntervalClass::implausible; };
    learn_pattern(memory_, rr_at, ref_at, cls_at);
    if (!pattern_[s] && pattern_match(memory_, rr_at, ref_at, cls_at)) {
        pattern_[s] = 1;
        if (next_in_series) pattern_[slot(i + 1)] = 1;
    }
    if (i + 1 < n_) {
        if (dec.next_candidate) candidate_[slot(i + 1)] = 1;
        if (dec.consume_next) {
            consumed_[slot(i + 1)] = 1;
            cls_[slot(i + 1)] = IntervalClass::extra;
        }
    }
}

IntervalClass ArtifactStream::final_label(std::int64_t i) const noexcept {
    const std::size_t s = slot(i);
    return pattern_[s] && cls_[s] == IntervalClass::ok ? IntervalClass::ectopic : cls_[s];
}

void ArtifactStream::correct(std::int64_t i) {
    const std::size_t s = slot(i);
    const IntervalClass c = final_label(i);
    auto emit = [&](double ts, double ibi, double a) {
        out_cor_.push_back({ts, ibi, a, c});
        have_prev_out_ = true;
        prev_out_t_ = ts;
        prev_out_ibi_ = ibi;
    };
    const double rr = rr_[s];
    if (c == IntervalClass::missed) {
        const int parts = split_count(rr, med_[s], cfg_.max_missed_split);
        const double part = rr / parts;
        const double t0 = t_[s] - rr / 1000.0;
        for (int j = 1; j <= parts; ++j) emit(t0 + j * part / 1000.0, part, j == parts ? amp_[s] : 0.0);
    } else if (c == IntervalClass::extra) {
        const std::size_t s1 = slot(i + 1);
        emit(t_[s1], rr + rr_[s1], amp_[s1]);
    } else if (is_interpolated(c)) {
        // Right anchor: the first of the next look-ahead intervals that looks normal.
        const double th2 = std::max(th2_[s], cfg_.min_threshold_rel * med_[s]);
        double right = kNaN;
        std::int64_t dist = 0;
        for (std::int64_t k = i + 1; k <= i + kLookaheadBeats && k < n_; ++k) {
            if (std::abs(rr_[slot(k)] - med_[s]) <= th2) {
                right = rr_[slot(k)];
                dist = k - i;
                break;
            }
        }
        double v;
        if (have_prev_out_ && !std::isnan(right))
            v = prev_out_ibi_ + (right - prev_out_ibi_) / static_cast<double>(dist + 1);
        else if (have_prev_out_)
            v = prev_out_ibi_;
        else if (!std::isnan(right))
            v = right;
        else
            v = med_[s];
        emit(have_prev_out_ ? prev_out_t_ + v / 1000.0 : t_[s], v, amp_[s]);
    } else {
        emit(t_[s], rr, amp_[s]);
    }
}

void ArtifactStream::emit_ready() {
    while (pend_size_ > 0) {
        const Pending& p = pending_[pend_head_];
        IntervalClass c;
        if (p.index < 0)
            c = IntervalClass::implausible;
        else if (p.index < next_decide_)
            c = final_label(p.index);
        else
            break;
        out_cls_.push_back({p.t_s, p.ibi_ms, c});
        counts_.add(c);
        pend_head_ = (pend_head_ + 1) % pending_.size();
        --pend_size_;
    }
}

}  // namespace attune::dsp
