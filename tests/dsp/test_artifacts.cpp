// RR artifact detection/correction (Lipponen & Tarvainen 2019): synthetic series with injected
// artifacts of every kind, clean sinus arrhythmia, and real annotated recordings (MIT-BIH LTDB).
#include <attune/dsp/artifacts.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <fstream>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "atr_reader.hpp"

using namespace attune::dsp;

// Counts heap allocations, to check that the streaming class allocates only at construction.
#include "alloc_counter.hpp"

namespace {

const std::string kData = ATTUNE_SHARED_DATA_DIR;

// Gaussian noise from mt19937 via Box–Muller, so the series are the same on every standard library.
class Noise {
public:
    explicit Noise(std::uint32_t seed) : rng_(seed) {}
    double uniform() { return (static_cast<double>(rng_()) + 0.5) / 4294967296.0; }
    double gauss() {
        const double u1 = uniform(), u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }

private:
    std::mt19937 rng_;
};

// Sinus rhythm: mean RR plus respiratory (0.25 Hz) and baroreflex (0.1 Hz) oscillation plus noise;
// each interval's modulation is evaluated at its beat time.
std::vector<double> sinus_series(std::size_t n, double mean_ms, double a_lf, double a_hf,
                                 double noise_sd, std::uint32_t seed) {
    Noise noise(seed);
    std::vector<double> rr;
    rr.reserve(n);
    double t = 0.0;
    for (std::size_t k = 0; k < n; ++k) {
        const double x = mean_ms + a_lf * std::sin(2 * std::numbers::pi * 0.1 * t) +
                         a_hf * std::sin(2 * std::numbers::pi * 0.25 * t + 1.0) +
                         noise_sd * noise.gauss();
        rr.push_back(x);
        t += x / 1000.0;
    }
    return rr;
}

std::vector<Beat> to_beats(const std::vector<double>& rr) {
    std::vector<Beat> beats;
    double t = 0.0;
    for (double x : rr) {
        t += x / 1000.0;
        beats.push_back({t, x, 1.0});
    }
    return beats;
}

double rmssd(const std::vector<double>& rr) {
    double s = 0.0;
    for (std::size_t i = 1; i < rr.size(); ++i) s += (rr[i] - rr[i - 1]) * (rr[i] - rr[i - 1]);
    return rr.size() > 1 ? std::sqrt(s / static_cast<double>(rr.size() - 1)) : 0.0;
}

std::vector<double> ibis(const std::vector<CorrectedInterval>& c) {
    std::vector<double> v;
    for (const auto& x : c) v.push_back(x.ibi_ms);
    return v;
}

// Runs the streaming class over beats and collects everything it emits.
ArtifactResult run_stream(const std::vector<Beat>& beats, const ArtifactConfig& cfg = {}) {
    ArtifactStream s(cfg);
    ArtifactResult r;
    auto take = [&](const ArtifactStream::Output& o) {
        r.classified.insert(r.classified.end(), o.classified.begin(), o.classified.end());
        r.corrected.insert(r.corrected.end(), o.corrected.begin(), o.corrected.end());
    };
    for (const Beat& b : beats) take(s.push(b));
    take(s.flush());
    r.counts = s.counts();
    return r;
}

// A series with one artifact of a given kind every `spacing` intervals; `truth` holds the expected
// label of every interval of the corrupted series.
struct Injected {
    std::vector<double> clean, corrupted;
    std::vector<IntervalClass> truth;
};

Injected inject_all_kinds(std::size_t n, std::size_t spacing, std::uint32_t seed) {
    Injected s;
    s.clean = sinus_series(n, 850.0, 40.0, 30.0, 8.0, seed);
    const IntervalClass kinds[] = {IntervalClass::ectopic, IntervalClass::missed, IntervalClass::extra,
                                   IntervalClass::too_long, IntervalClass::too_short};
    std::size_t next = 60, which = 0;
    for (std::size_t k = 0; k < n; ++k) {
        const double x = s.clean[k];
        if (k != next || k + 2 >= n) {
            s.corrupted.push_back(x);
            s.truth.push_back(IntervalClass::ok);
            continue;
        }
        const IntervalClass kind = kinds[which++ % 5];
        const double y = s.clean[k + 1];
        switch (kind) {
            case IntervalClass::ectopic:  // premature by 30 %, full compensatory pause
                s.corrupted.insert(s.corrupted.end(), {0.7 * x, x + y - 0.7 * x});
                s.truth.insert(s.truth.end(), 2, kind);
                k += 1;
                break;
            case IntervalClass::missed:  // beat k not detected
                s.corrupted.push_back(x + y);
                s.truth.push_back(kind);
                k += 1;
                break;
            case IntervalClass::extra:  // a T wave counted as a beat at 40 % of the interval
                s.corrupted.insert(s.corrupted.end(), {0.4 * x, 0.6 * x});
                s.truth.insert(s.truth.end(), 2, kind);
                break;
            case IntervalClass::too_long:  // two intervals stretched (e.g. a beat-timing drift)
                s.corrupted.insert(s.corrupted.end(), {1.6 * x, 1.6 * y});
                s.truth.insert(s.truth.end(), 2, kind);
                k += 1;
                break;
            default:  // two intervals shortened
                s.corrupted.insert(s.corrupted.end(), {0.65 * x, 0.65 * y});
                s.truth.insert(s.truth.end(), 2, kind);
                k += 1;
                break;
        }
        next = k + spacing;
    }
    return s;
}

struct Score {
    std::size_t tp = 0, fn = 0, fp = 0, right_kind = 0, positives = 0;
    double se() const { return tp + fn ? double(tp) / double(tp + fn) : 1.0; }
    double ppv() const { return tp + fp ? double(tp) / double(tp + fp) : 1.0; }
};

Score score(const std::vector<IntervalClass>& truth, const std::vector<ClassifiedInterval>& got) {
    REQUIRE(truth.size() == got.size());
    Score s;
    for (std::size_t i = 0; i < truth.size(); ++i) {
        const bool pos = truth[i] != IntervalClass::ok, flag = got[i].cls != IntervalClass::ok;
        if (pos) ++s.positives;
        if (pos && flag) ++s.tp;
        if (pos && !flag) ++s.fn;
        if (!pos && flag) ++s.fp;
        if (pos && got[i].cls == truth[i]) ++s.right_kind;
    }
    return s;
}

}  // namespace

TEST_CASE("artifacts: each injected kind is found and classified", "[artifacts]") {
    const Injected s = inject_all_kinds(6000, 40, 7);
    const auto beats = to_beats(s.corrupted);
    for (const bool streaming : {false, true}) {
        const ArtifactResult r = streaming ? run_stream(beats) : correct_artifacts(beats);
        const Score sc = score(s.truth, r.classified);
        std::printf("[artifacts] synthetic (%s): %zu artifact intervals, Se %.4f, +P %.4f, "
                    "right kind %.4f\n",
                    streaming ? "stream" : "offline", sc.positives, sc.se(), sc.ppv(),
                    double(sc.right_kind) / double(sc.positives));
        // Per kind.
        for (IntervalClass k : {IntervalClass::ectopic, IntervalClass::missed, IntervalClass::extra,
                                IntervalClass::too_long, IntervalClass::too_short}) {
            std::size_t n = 0, right = 0;
            for (std::size_t i = 0; i < s.truth.size(); ++i)
                if (s.truth[i] == k) {
                    ++n;
                    right += r.classified[i].cls == k;
                }
            std::printf("    %-8s %zu/%zu\n", to_string(k), right, n);
            CHECK(double(right) / double(n) >= 0.95);
        }
        CHECK(sc.se() >= 0.99);
        // Measured +P 0.985: the premature-beat rule adds two false pairs in 6000 intervals (one in
        // clean noisy sinus rhythm, one on the return after an injected pair of short intervals).
        CHECK(sc.ppv() >= 0.98);

        // Corrected series: same beat count as the clean one and nearly the same RMSSD.
        const auto corr = ibis(r.corrected);
        REQUIRE(corr.size() == s.clean.size());
        const double e_clean = rmssd(s.clean), e_corr = rmssd(corr), e_raw = rmssd(s.corrupted);
        double mae = 0.0;
        for (std::size_t i = 0; i < corr.size(); ++i) mae += std::abs(corr[i] - s.clean[i]);
        mae /= double(corr.size());
        std::printf("    RMSSD clean %.2f, corrupted %.2f, corrected %.2f ms; mean |error| %.2f ms\n",
                    e_clean, e_raw, e_corr, mae);
        CHECK(std::abs(e_corr - e_clean) / e_clean < 0.05);
        CHECK(mae < 3.0);
    }
}

TEST_CASE("artifacts: the published quartile-deviation thresholds work too", "[artifacts]") {
    const Injected s = inject_all_kinds(6000, 40, 7);
    ArtifactConfig cfg;
    cfg.scale = ThresholdScale::quartile_deviation;
    const Score sc = score(s.truth, correct_artifacts(to_beats(s.corrupted), cfg).classified);
    std::printf("[artifacts] synthetic, quartile-deviation thresholds: Se %.4f, +P %.4f, right kind %.4f\n",
                sc.se(), sc.ppv(), double(sc.right_kind) / double(sc.positives));
    // Measured Se 0.947, +P 1.000 (the default median-based thresholds: 1.000 / 1.000).
    CHECK(sc.se() >= 0.92);
    CHECK(sc.ppv() >= 0.98);
}

TEST_CASE("artifacts: clean sinus arrhythmia is not flagged", "[artifacts]") {
    struct Case {
        double mean, lf, hf, noise;
    } cases[] = {
        {1000.0, 100.0, 0.0, 5.0},  // ±100 ms at 0.1 Hz (resonance breathing)
        {1000.0, 0.0, 100.0, 5.0},  // ±100 ms at 0.25 Hz (15 breaths/min)
        {800.0, 100.0, 100.0, 5.0},
        {700.0, 20.0, 10.0, 3.0},   // low variability
        {600.0, 0.0, 0.0, 0.0},     // metronomic: the threshold floors matter
    };
    std::uint32_t seed = 11;
    for (const Case& c : cases) {
        const auto beats = to_beats(sinus_series(20000, c.mean, c.lf, c.hf, c.noise, seed++));
        for (const bool streaming : {false, true}) {
            const ArtifactResult r = streaming ? run_stream(beats) : correct_artifacts(beats);
            const double rate = double(r.counts.flagged()) / double(r.counts.total());
            std::printf("[artifacts] clean mean %.0f lf %.0f hf %.0f (%s): %zu of %zu flagged (%.3f %%)\n",
                        c.mean, c.lf, c.hf, streaming ? "stream" : "offline", r.counts.flagged(),
                        r.counts.total(), 100 * rate);
            CHECK(rate < 0.005);
        }
    }
}

TEST_CASE("artifacts: the onset of resonance breathing is not flagged", "[artifacts]") {
    // 5 min of quiet breathing (±25 ms at 0.25 Hz), then within one breath the large, slow RSA of
    // 6 breaths/min (±150 ms at 0.1 Hz) for 10 min: the trailing windows of the streaming version
    // must not mistake the new, much larger swings for artifacts while they adapt.
    Noise noise(21);
    std::vector<double> rr;
    for (double t = 0.0; t < 900.0;) {
        const double ramp = std::clamp((t - 300.0) / 10.0, 0.0, 1.0);
        const double x = 900.0 + (1.0 - ramp) * 25.0 * std::sin(2 * std::numbers::pi * 0.25 * t) +
                         ramp * 150.0 * std::sin(2 * std::numbers::pi * 0.1 * t) + 4.0 * noise.gauss();
        rr.push_back(x);
        t += x / 1000.0;
    }
    const auto beats = to_beats(rr);
    for (const bool streaming : {false, true}) {
        const ArtifactResult r = streaming ? run_stream(beats) : correct_artifacts(beats);
        std::printf("[artifacts] rest -> resonance breathing (%s): %zu of %zu flagged\n",
                    streaming ? "stream" : "offline", r.counts.flagged(), r.counts.total());
        CHECK(r.counts.flagged() <= r.counts.total() / 200);
    }
}

namespace {

// Sinus rhythm with long episodes of bigeminy (N V N V ...) and trigeminy (N N V ...): the coupling
// interval S is 86 % of the sinus cycle for the first 60 sinus beats of an episode, then 62 %; the
// pause L completes two cycles (S + L = 2 RR); each with ±8 ms jitter. Returns the series and, per interval, whether a premature beat ends it.
struct GroupBeating {
    std::vector<double> rr;
    std::vector<std::uint8_t> premature;  // the interval ends at a premature beat (S)
};

GroupBeating group_beating_series(std::uint32_t seed) {
    const auto sinus = sinus_series(4000, 850.0, 30.0, 20.0, 6.0, seed);
    Noise noise(seed + 1);
    GroupBeating g;
    // Episodes in sinus beats: [start, end) and period (2: bigeminy, 3: trigeminy).
    struct Episode {
        std::size_t start, end;
        int period;
    } episodes[] = {{400, 800, 2}, {1100, 1700, 3}, {2000, 2300, 2}, {2600, 3200, 3}};
    for (std::size_t k = 0; k < sinus.size(); ++k) {
        int period = 0;
        std::size_t first_deep = 0;
        for (const auto& e : episodes)
            if (k >= e.start && k < e.end) period = e.period, first_deep = e.start + 60;
        if (period != 0 && (k % static_cast<std::size_t>(period)) == 0 && k + 1 < sinus.size()) {
            // Each episode opens with late-coupled beats (S = 86 % of the cycle: hardly premature, so
            // they are taken for sinus rhythm and make it look irregular), then the coupling
            // shortens to 62 %.
            const double cycle = sinus[k];
            const double s = (k < first_deep ? 0.86 : 0.62) * cycle + 8.0 * noise.gauss();
            g.rr.push_back(s);
            g.premature.push_back(1);
            g.rr.push_back(2.0 * cycle - s + 8.0 * noise.gauss());
            g.premature.push_back(0);
            ++k;  // the pause replaces the next sinus interval
            continue;
        }
        g.rr.push_back(sinus[k]);
        g.premature.push_back(0);
    }
    return g;
}

// Share of premature beats with an adjacent interval flagged.
double premature_flagged(const GroupBeating& g, const ArtifactResult& r) {
    REQUIRE(r.classified.size() == g.rr.size());
    std::size_t total = 0, hit = 0;
    for (std::size_t i = 0; i + 1 < g.rr.size(); ++i) {
        if (!g.premature[i]) continue;
        ++total;
        hit += r.classified[i].cls != IntervalClass::ok || r.classified[i + 1].cls != IntervalClass::ok;
    }
    return total ? double(hit) / double(total) : 0.0;
}

// Intervals with no premature beat within `radius` intervals either side: how many, and how many
// of them are flagged.
struct SinusFlags {
    std::size_t total = 0, flagged = 0;
};

SinusFlags sinus_flags(const GroupBeating& g, const ArtifactResult& r, std::size_t radius) {
    SinusFlags f;
    for (std::size_t i = radius; i + radius < g.rr.size(); ++i) {
        bool near = false;
        for (std::size_t j = i - radius; j <= i + radius; ++j) near = near || g.premature[j];
        if (near) continue;
        ++f.total;
        f.flagged += r.classified[i].cls != IntervalClass::ok;
    }
    return f;
}

}  // namespace

TEST_CASE("artifacts: sustained bigeminy and trigeminy stay flagged", "[artifacts]") {
    // Within a few cycles the L&T spread thresholds absorb a regular group beating and the ok
    // intervals stop being a regular sinus reference, so without the group-beating rule most of a
    // long episode goes unflagged; with it, nearly every premature beat is flagged, and the sinus
    // stretches between episodes stay clean.
    const GroupBeating g = group_beating_series(31);
    const auto beats = to_beats(g.rr);
    ArtifactConfig off;
    off.group_cycles = 0;
    off.steady_reference_rule = false;  // which catches these too (offline 0.996 with it alone)
    off.pattern_rule = false;           // and so does the recurring-pattern rule
    for (const bool streaming : {false, true}) {
        const ArtifactResult with = streaming ? run_stream(beats) : correct_artifacts(beats);
        const ArtifactResult without = streaming ? run_stream(beats, off) : correct_artifacts(beats, off);
        const double se = premature_flagged(g, with), se_off = premature_flagged(g, without);
        const auto [sinus_total, sinus_flagged] = sinus_flags(g, with, 8);
        std::printf("[artifacts] group beating (%s): premature beats flagged %.4f (%.4f without it and the steady-stretch rule), "
                    "sinus intervals flagged %zu of %zu\n",
                    streaming ? "stream" : "offline", se, se_off, sinus_flagged, sinus_total);
        CHECK(se >= 0.97);
        // Offline the rule is what does it (0.76 without it: the late-coupled opening is taken for
        // an irregular rhythm, which withholds the ectopic label, and what is then labelled ok keeps
        // it irregular). The streaming version's trailing windows get out of that state by
        // themselves here (0.999 without the rule).
        if (!streaming) CHECK(se_off <= 0.90);
        CHECK(sinus_flagged <= sinus_total / 200);
    }
}

TEST_CASE("artifacts: the steady-stretch reference keeps steady ok intervals and their share", "[artifacts]") {
    detail::SteadyRhythm r;
    r.reset(5, 10);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    r.observe(nan, 800.0, 800.0, true, 0.04);  // no left neighbour: not steady
    CHECK(r.share(1) == 0.0);
    r.observe(800.0, 800.0, 830.0, true, 0.04);  // 30/800 = 3.75 %: steady
    r.observe(800.0, 810.0, 850.0, true, 0.04);  // 40/810 = 4.9 %: not steady
    r.observe(820.0, 820.0, 820.0, false, 0.04);  // steady, but labelled: counted, not a reference
    CHECK_THAT(r.share(1), Catch::Matchers::WithinAbs(0.5, 1e-12));
    CHECK(r.share(5) == 0.0);  // fewer than 5 observed
    double ref = 0.0, irr = 0.0;
    CHECK_FALSE(r.reference().evaluate(3, ref, irr));  // one reference interval so far
    for (int k = 0; k < 10; ++k) r.observe(600.0, 600.0, 600.0, true, 0.04);
    CHECK(r.share(10) == 1.0);  // the window holds the last 10 only
    REQUIRE(r.reference().evaluate(3, ref, irr));
    CHECK(ref == 600.0);  // the reference ring keeps the last 5
    for (int k = 0; k < 5; ++k) r.observe(600.0, 400.0, 600.0, true, 0.04);
    CHECK_THAT(r.share(10), Catch::Matchers::WithinAbs(0.5, 1e-12));
    r.clear();
    CHECK(r.share(1) == 0.0);
    CHECK_FALSE(r.reference().evaluate(1, ref, irr));
}

TEST_CASE("artifacts: dense, mixed ventricular ectopy stays flagged", "[artifacts]") {
    // Sinus rhythm at 800 ms (±25 ms respiratory, 8 ms noise) where 30 % of sinus beats are
    // followed by a premature beat whose coupling varies from beat to beat (80-90 % of the cycle,
    // so no repeating pattern for the group-beating rule), a fifth of them as couplets, each with a
    // full compensatory pause. The ok intervals then hold so many late ectopic beats that their
    // median stops being a regular reference; the steady stretches between ectopic beats still
    // give the sinus cycle. Limit, measured: with 45 % density and 80-95 % coupling under 8 % of
    // intervals are steady, the rule stays off (taken for atrial fibrillation) and 46 % of the
    // premature beats are flagged (14 % without the rule).
    constexpr double kDensity = 0.30, kLo = 0.80, kSpan = 0.10;
    const auto sinus = sinus_series(12000, 800.0, 0.0, 25.0, 8.0, 71);
    Noise noise(72);
    GroupBeating g;  // rr and, per interval, whether it ends at a premature beat
    for (std::size_t k = 0; k < sinus.size(); ++k) {
        const double nn = sinus[k];
        if (k > 50 && noise.uniform() < kDensity) {
            const double s1 = (kLo + kSpan * noise.uniform()) * nn;
            if (noise.uniform() < 0.2) {
                const double s2 = (0.75 + 0.10 * noise.uniform()) * nn;
                g.rr.insert(g.rr.end(), {s1, s2, std::max(2.0 * nn - s1 - s2, 0.6 * nn) + nn});
                g.premature.insert(g.premature.end(), {1, 1, 0});
                ++k;  // the pause ends at the beat after the next sinus beat
            } else {
                g.rr.insert(g.rr.end(), {s1, 2.0 * nn - s1});
                g.premature.insert(g.premature.end(), {1, 0});
                ++k;
            }
        } else {
            g.rr.push_back(nn);
            g.premature.push_back(0);
        }
    }
    const auto beats = to_beats(g.rr);
    ArtifactConfig off;
    off.steady_reference_rule = false;
    off.pattern_rule = false;  // which learns these beats too
    ArtifactConfig no_pattern;
    no_pattern.pattern_rule = false;
    const ArtifactConfig on;
    for (const bool streaming : {false, true}) {
        const ArtifactResult with = streaming ? run_stream(beats, on) : correct_artifacts(beats, on);
        const ArtifactResult without = streaming ? run_stream(beats, off) : correct_artifacts(beats, off);
        const double se = premature_flagged(g, with), se_off = premature_flagged(g, without);
        const auto [sinus_total, sinus_flagged] = sinus_flags(g, with, 3);
        std::printf("[artifacts] dense mixed ectopy (%s): premature beats flagged %.4f (%.4f without the "
                    "steady-stretch rule), sinus intervals flagged %zu of %zu\n",
                    streaming ? "stream" : "offline", se, se_off, sinus_flagged, sinus_total);
        // Measured: 0.990 / 0.987 with every rule (0.923 / 0.924 without the recurring-pattern
        // rule, 0.837 / 0.850 without it and the steady-stretch rule), no sinus interval flagged.
        CHECK(se >= 0.97);
        CHECK(se_off <= 0.87);
        // The recurring-pattern rule's part: the coupling varies, but the premature beats recur in
        // (P, S, L) / ref where the confirmed ones are, with no sinus beat there.
        const ArtifactResult np = streaming ? run_stream(beats, no_pattern) : correct_artifacts(beats, no_pattern);
        CHECK(premature_flagged(g, np) <= 0.94);
        CHECK(premature_flagged(g, np) + 0.04 <= se);
        CHECK(sinus_flagged <= sinus_total / 100);
    }
}

TEST_CASE("artifacts: the pattern memory counts beats per (P, S, L) / ref cell", "[artifacts]") {
    ArtifactConfig c;  // cells of 0.03 over [0.4, 1.8); >= 100 ectopic learned, >= 3 near, > 0.5 x normal
    detail::PatternMemory m;
    m.reset(c);
    const double ref = 800.0;
    for (int k = 0; k < 99; ++k) m.learn(800.0, 640.0, 960.0, ref, true);  // P 1.0, S 0.8, L 1.2
    for (int k = 0; k < 1000; ++k) m.learn(800.0, 800.0, 800.0, ref, false);
    CHECK(m.ectopic_learned() == 99);
    CHECK_FALSE(m.matches(800.0, 640.0, 960.0, ref));  // not yet 100 confirmed ectopic beats
    m.learn(800.0, 640.0, 960.0, ref, true);
    CHECK(m.matches(800.0, 640.0, 960.0, ref));
    CHECK(m.matches(800.0, 640.0 + 0.03 * ref, 960.0, ref));  // the neighbouring cell
    CHECK_FALSE(m.matches(800.0, 640.0 + 0.07 * ref, 960.0, ref));  // two cells away: nothing learned there
    CHECK_FALSE(m.matches(800.0, 800.0, 800.0, ref));  // where normal beats are
    CHECK(m.matches(880.0, 704.0, 1056.0, 880.0));     // the same pattern at another heart rate
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_FALSE(m.matches(800.0, 640.0, 960.0, nan));  // no reference
    CHECK_FALSE(m.matches(800.0, 640.0, nan, ref));    // no L yet
    CHECK_FALSE(m.matches(800.0, 250.0, 960.0, ref));  // S / ref 0.31: outside the grid
    // Normal beats outweigh: 100 ectopic against 400 normal in the same place (100 < 0.5 x 400).
    for (int k = 0; k < 400; ++k) m.learn(800.0, 640.0, 960.0, ref, false);
    CHECK_FALSE(m.matches(800.0, 640.0, 960.0, ref));
    m.clear();
    CHECK(m.ectopic_learned() == 0);
    c.pattern_rule = false;
    m.reset(c);
    for (int k = 0; k < 200; ++k) m.learn(800.0, 640.0, 960.0, ref, true);
    CHECK_FALSE(m.matches(800.0, 640.0, 960.0, ref));
}

TEST_CASE("artifacts: the recurring-pattern rule in restless sinus rhythm, its cost", "[artifacts]") {
    // Sinus rhythm at 800 ms (±25 ms respiratory) whose beat-to-beat noise alternates every 1500
    // beats between calm (8 ms) and restless (60 ms: a median beat-to-beat change of ~7 % of the
    // cycle, on the premature-beat rule's regularity gate). Every 8th-12th beat is a ventricular
    // premature beat with a fixed coupling (75 % ± 2 % of the cycle) and a full compensatory pause.
    // The other rules already flag > 98 % of them; what this measures is the cost: in the restless
    // stretches the premature-beat rule also confirms some sinus beats that happen to be early
    // then late, the memory learns those with the real ectopic beats, and the rule then flags more
    // such sinus beats where the gate is shut. Measured: 259 / 272 sinus intervals flagged of 4399
    // (216 / 231 without the rule), about 1 % more; with pattern_ratio 1 instead of 0.5 it is
    // 0.4 %, at 94.2 / 94.9 % instead of 94.6 / 95.0 % of LTDB 14046's V beats.
    const auto calm = sinus_series(12000, 800.0, 0.0, 25.0, 8.0, 91);
    const auto restless = sinus_series(12000, 800.0, 0.0, 25.0, 60.0, 92);
    Noise noise(93);
    GroupBeating g;
    for (std::size_t k = 0; k < calm.size(); ++k) {
        const double nn = (k / 1500) % 2 == 0 ? calm[k] : restless[k];
        if (k > 40 && k % 10 == 0 && noise.uniform() < 0.9) {
            const double coupling = 0.73 + 0.04 * noise.uniform();
            g.rr.insert(g.rr.end(), {coupling * nn, (2.0 - coupling) * nn});
            g.premature.insert(g.premature.end(), {1, 0});
            ++k;
        } else {
            g.rr.push_back(nn);
            g.premature.push_back(0);
        }
    }
    const auto beats = to_beats(g.rr);
    ArtifactConfig off;
    off.pattern_rule = false;
    for (const bool streaming : {false, true}) {
        const ArtifactResult with = streaming ? run_stream(beats) : correct_artifacts(beats);
        const ArtifactResult without = streaming ? run_stream(beats, off) : correct_artifacts(beats, off);
        const double se = premature_flagged(g, with), se_off = premature_flagged(g, without);
        const auto [sinus_total, sinus_flagged] = sinus_flags(g, with, 3);
        const auto [sinus_total_off, sinus_flagged_off] = sinus_flags(g, without, 3);
        std::printf("[artifacts] recurring ectopy (%s): premature beats flagged %.4f (%.4f without the "
                    "recurring-pattern rule), sinus intervals flagged %zu of %zu (%zu without)\n",
                    streaming ? "stream" : "offline", se, se_off, sinus_flagged, sinus_total, sinus_flagged_off);
        CHECK(se >= 0.99);
        CHECK(se >= se_off);
        CHECK(sinus_flagged <= sinus_flagged_off + sinus_total / 60);
    }
}

TEST_CASE("artifacts: the recurring-pattern rule stays silent without a body of ectopic beats", "[artifacts]") {
    // Large sinus arrhythmia (±120 ms at 0.1 Hz, ±60 ms respiratory) with 60 clear premature beats:
    // fewer than pattern_min_ectopic confirmed, so the labels are exactly those without the rule.
    auto rr = sinus_series(6000, 900.0, 120.0, 60.0, 10.0, 93);
    for (std::size_t k = 100; k + 1 < rr.size() && k < 6000; k += 97) {
        const double nn = rr[k];
        rr[k] = 0.7 * nn;
        rr[k + 1] = 1.3 * nn;
    }
    const auto beats = to_beats(rr);
    ArtifactConfig off;
    off.pattern_rule = false;
    for (const bool streaming : {false, true}) {
        const ArtifactResult with = streaming ? run_stream(beats) : correct_artifacts(beats);
        const ArtifactResult without = streaming ? run_stream(beats, off) : correct_artifacts(beats, off);
        REQUIRE(with.classified.size() == without.classified.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < with.classified.size(); ++i)
            differ += with.classified[i].cls != without.classified[i].cls;
        CHECK(differ == 0);
        CHECK(with.counts.ectopic >= 100);  // the premature beats themselves are flagged
    }
}

TEST_CASE("artifacts: the group-beating rule stays quiet in atrial fibrillation-like rhythm", "[artifacts]") {
    // Independent intervals, 750 ms ± 20 % (AF's beat-to-beat irregularity): a repeating short-long
    // pattern over four cycles with every S, L within 12 % is rare by chance. Counted: intervals
    // the rule adds to the flags of the same run without it.
    Noise noise(41);
    std::vector<double> rr;
    for (int k = 0; k < 50000; ++k) rr.push_back(std::clamp(750.0 + 150.0 * noise.gauss(), 300.0, 1900.0));
    const auto beats = to_beats(rr);
    ArtifactConfig off;
    off.group_cycles = 0;
    for (const bool streaming : {false, true}) {
        const ArtifactResult with = streaming ? run_stream(beats) : correct_artifacts(beats);
        const ArtifactResult without = streaming ? run_stream(beats, off) : correct_artifacts(beats, off);
        REQUIRE(with.classified.size() == without.classified.size());
        std::size_t added = 0;
        for (std::size_t i = 0; i < with.classified.size(); ++i)
            added += with.classified[i].cls != IntervalClass::ok && without.classified[i].cls == IntervalClass::ok;
        std::printf("[artifacts] AF-like (%s): the group-beating rule adds %zu of %zu flags\n",
                    streaming ? "stream" : "offline", added, with.classified.size());
        CHECK(added <= with.classified.size() / 1000);
    }
}

TEST_CASE("artifacts: implausible intervals are labelled and dropped", "[artifacts]") {
    std::vector<double> rr = sinus_series(300, 900.0, 30.0, 20.0, 5.0, 3);
    rr[100] = 150.0;   // too short for any heart
    rr[200] = 6000.0;  // a drop-out
    const auto beats = to_beats(rr);
    for (const bool streaming : {false, true}) {
        const ArtifactResult r = streaming ? run_stream(beats) : correct_artifacts(beats);
        REQUIRE(r.classified.size() == rr.size());
        CHECK(r.classified[100].cls == IntervalClass::implausible);
        CHECK(r.classified[200].cls == IntervalClass::implausible);
        CHECK(r.counts.implausible == 2);
        for (const auto& c : r.corrected) {
            CHECK(c.ibi_ms >= kMinPlausibleIbiMs);
            CHECK(c.ibi_ms <= kMaxPlausibleIbiMs);
        }
    }
}

TEST_CASE("artifacts: streaming latency, bounded output, determinism", "[artifacts]") {
    const Injected s = inject_all_kinds(2000, 30, 5);
    const auto beats = to_beats(s.corrupted);
    ArtifactStream a, b;
    std::size_t received = 0, emitted = 0;
    for (const Beat& x : beats) {
        const auto oa = a.push(x);
        const auto ob = b.push(x);
        ++received;
        emitted += oa.classified.size();
        // Everything but the last kLookaheadBeats intervals (plus an extra beat's partner) is out.
        CHECK(received - emitted <= std::size_t(ArtifactStream::kLookaheadBeats) + 1);
        REQUIRE(oa.classified.size() == ob.classified.size());
        REQUIRE(oa.corrected.size() == ob.corrected.size());
        for (std::size_t i = 0; i < oa.corrected.size(); ++i)
            CHECK(oa.corrected[i].ibi_ms == ob.corrected[i].ibi_ms);
    }
    emitted += a.flush().classified.size();
    CHECK(emitted == received);

    // Offline and streaming labels agree on nearly every interval.
    const auto off = correct_artifacts(beats), on = run_stream(beats);
    std::size_t same = 0;
    for (std::size_t i = 0; i < off.classified.size(); ++i) same += off.classified[i].cls == on.classified[i].cls;
    std::printf("[artifacts] offline/stream label agreement %.4f\n", double(same) / double(off.classified.size()));
    CHECK(double(same) / double(off.classified.size()) > 0.99);

    // No allocation per beat, whatever the input (artifacts, implausible runs, flushes).
    ArtifactStream d;
    const std::size_t before = g_allocations;
    std::size_t out = 0;
    for (int rep = 0; rep < 3; ++rep) {
        for (const Beat& x : beats) out += d.push(x).corrected.size();
        for (int i = 0; i < 40; ++i) out += d.push(1e4 + i, 5000.0).classified.size();
        out += d.flush().classified.size();
    }
    CHECK(g_allocations == before);
    CHECK(out > 0);

    // A first beat (ibi 0) is not an interval; a long run of implausible intervals forces a flush.
    ArtifactStream c;
    CHECK(c.push(0.0, 0.0).classified.empty());
    std::size_t got = 0;
    for (int i = 0; i < 5; ++i) got += c.push(1.0 + i, 900.0).classified.size();
    for (int i = 0; i < 40; ++i) got += c.push(10.0 + i, 5000.0).classified.size();
    CHECK(got == 45);
}

// ------------------------------------------------------------------------------------------------
// Real data: MIT-BIH Long-Term ECG Database reference annotations (128 Hz).

namespace {

struct Record {
    std::vector<Beat> beats;
    std::vector<int> code;  // beat code of each beat
};

Record load_ltdb(const std::string& name) {
    const auto ann = attune::test::read_atr(kData + "/rr/" + name + ".atr");
    Record r;
    std::int64_t prev = -1;
    for (const auto& a : ann) {
        if (!attune::test::is_beat_code(a.code)) continue;
        const double ibi = prev < 0 ? 0.0 : double(a.sample - prev) * 1000.0 / 128.0;
        r.beats.push_back({double(a.sample) / 128.0, ibi, 0.0});
        r.code.push_back(a.code);
        prev = a.sample;
    }
    return r;
}

struct RealScore {
    std::size_t v_beats = 0, v_flagged = 0;      // V beats; flagged: an adjacent interval is not ok
    std::size_t iso_total = 0, iso_flagged = 0;  // ... isolated V beats
    std::size_t prem_total = 0, prem_flagged = 0;  // ... isolated and >= 15 % premature
    std::size_t vi_total = 0, vi_flagged = 0;    // intervals with a V beat at either end
    std::size_t nn_total = 0, nn_flagged = 0;    // N-N intervals between N beats (see score_real)
    std::size_t nn_loose_total = 0, nn_loose_flagged = 0;  // all N-N intervals
    static double rate(std::size_t a, std::size_t b) { return b ? double(a) / double(b) : 0.0; }
    double se() const { return rate(v_flagged, v_beats); }
    double iso_se() const { return rate(iso_flagged, iso_total); }
    double prem_se() const { return rate(prem_flagged, prem_total); }
    double nn_rate() const { return rate(nn_flagged, nn_total); }
};

// The acceptance measures. Interval i runs from beat i-1 to beat i.
//   * A V beat is flagged when either interval adjacent to it (the one ending at it or the one
//     starting at it) is not `ok`; the first and last beats are left out.
//   * Normal beats between normal beats: interval i with beats i-2, i-1, i, i+1 all N, i.e. an N-N
//     interval whose neighbouring intervals are N-N too (the interval right after a compensatory
//     pause, or right before a premature beat, is not a clean negative: its dRR is the ectopic's).
//     The false-flag rate is the share of those that are not `ok`. The looser rate over all N-N
//     intervals is printed as well.
//   * A V beat is isolated when the three beats either side of it are N: the RR series can only
//     reveal an ectopic beat against a normal rhythm around it; "premature" when the interval
//     ending at it is <= 85 % of the one before.
RealScore score_real(const Record& rec, const ArtifactResult& r) {
    using attune::test::kCodeNormal;
    using attune::test::kCodeVentricular;
    RealScore s;
    REQUIRE(r.classified.size() == rec.beats.size() - 1);
    const std::size_t nb = rec.beats.size();
    auto flagged = [&](std::size_t i) { return r.classified[i - 1].cls != IntervalClass::ok; };
    auto isolated = [&](std::size_t v) {
        for (std::size_t j = v >= 3 ? v - 3 : 0; j <= v + 3 && j < nb; ++j)
            if (j != v && rec.code[j] != kCodeNormal) return false;
        return v >= 4 && v + 3 < nb;
    };
    for (std::size_t v = 1; v + 1 < nb; ++v) {
        if (rec.code[v] != kCodeVentricular) continue;
        const bool f = flagged(v) || flagged(v + 1);
        ++s.v_beats;
        s.v_flagged += f;
        if (isolated(v)) {
            ++s.iso_total;
            s.iso_flagged += f;
            if (rec.beats[v].ibi_ms <= 0.85 * rec.beats[v - 1].ibi_ms) {
                ++s.prem_total;
                s.prem_flagged += f;
            }
        }
    }
    auto n = [&](std::size_t j) { return rec.code[j] == kCodeNormal; };
    for (std::size_t i = 1; i < nb; ++i) {
        const bool f = flagged(i);
        if (rec.code[i - 1] == kCodeVentricular || rec.code[i] == kCodeVentricular) {
            ++s.vi_total;
            s.vi_flagged += f;
        }
        if (!n(i - 1) || !n(i)) continue;
        ++s.nn_loose_total;
        s.nn_loose_flagged += f;
        if (i >= 2 && i + 1 < nb && n(i - 2) && n(i + 1)) {
            ++s.nn_total;
            s.nn_flagged += f;
        }
    }
    return s;
}

void print_score(const char* what, const RealScore& s) {
    std::printf("    %s: V beats flagged %.4f (%zu/%zu), isolated V %.4f (%zu/%zu), isolated & >=15%% "
                "premature %.4f (%zu/%zu); N-N between N false flags %.4f (%zu/%zu), all N-N %.4f; "
                "intervals touching V %.4f\n",
                what, s.se(), s.v_flagged, s.v_beats, s.iso_se(), s.iso_flagged, s.iso_total,
                s.prem_se(), s.prem_flagged, s.prem_total, s.nn_rate(), s.nn_flagged, s.nn_total,
                RealScore::rate(s.nn_loose_flagged, s.nn_loose_total),
                RealScore::rate(s.vi_flagged, s.vi_total));
}

template <class F>
double seconds(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_counts(const char* what, const ArtifactCounts& c) {
    std::printf("    %s: ok %zu ectopic %zu missed %zu extra %zu long %zu short %zu implausible %zu\n",
                what, c.ok, c.ectopic, c.missed, c.extra, c.too_long, c.too_short, c.implausible);
}

}  // namespace

TEST_CASE("artifacts: MIT-BIH LTDB 14046, ventricular ectopy", "[artifacts][data]") {
    const Record rec = load_ltdb("14046");
    REQUIRE(rec.beats.size() > 100000);
    ArtifactResult off, on;
    const double t_off = seconds([&] { off = correct_artifacts(rec.beats); });
    const double t_on = seconds([&] { on = run_stream(rec.beats); });
    const RealScore so = score_real(rec, off), ss = score_real(rec, on);
    std::printf("[artifacts] 14046: %zu intervals (offline %.3f s, stream %.3f s)\n", off.classified.size(),
                t_off, t_on);
    print_score("offline", so);
    print_score("stream ", ss);
    print_counts("offline", off.counts);
    print_counts("stream ", on.counts);
    std::size_t same = 0;
    for (std::size_t i = 0; i < off.classified.size(); ++i) same += off.classified[i].cls == on.classified[i].cls;
    std::printf("    offline/stream label agreement %.4f\n", double(same) / double(off.classified.size()));
    // Measured (offline / stream): V beats flagged 0.951 / 0.954 (0.916 / 0.932 without the
    // recurring-pattern rule, 0.796 / 0.838 without it and the steady-stretch reference, 0.783 /
    // 0.827 without the group-beating rule as well, 0.618 / 0.698 without any premature-beat rule),
    // isolated V 0.829 / 0.829, isolated and >= 15 % premature 1.000 / 1.000, N-N between N false
    // flags 0.61 % / 0.64 % (0.59 / 0.61 % without the recurring-pattern rule): the >= 95 % target
    // is met, by 0.1 point offline and 0.4 streaming. What stays missed: late-coupled and fusion
    // beats (14 % of 14046's V beats
    // are < 5 % shorter than the interval before them) with no pause the confirmed ones share,
    // and stretches of chaotic ectopy whose RR series is as irregular as atrial fibrillation (see
    // the sinus -> AF test for what flagging more there costs).
    CHECK(so.se() >= 0.95);
    CHECK(ss.se() >= 0.95);
    CHECK(so.iso_se() >= 0.79);
    CHECK(ss.iso_se() >= 0.79);
    CHECK(so.prem_se() >= 0.97);
    CHECK(ss.prem_se() >= 0.97);
    CHECK(so.nn_rate() <= 0.01);
    CHECK(ss.nn_rate() <= 0.01);
#ifdef NDEBUG
    CHECK(t_off < 5.0);  // ~0.1-0.5 s measured for a day of beats (a loose bound: shared machine)
    CHECK(t_on < 5.0);
#endif
}

TEST_CASE("artifacts: MIT-BIH LTDB 14149, atrial fibrillation labelled N", "[artifacts][data]") {
    const Record rec = load_ltdb("14149");
    REQUIRE(rec.beats.size() > 100000);
    ArtifactResult off, on;
    const double t_off = seconds([&] { off = correct_artifacts(rec.beats); });
    const double t_on = seconds([&] { on = run_stream(rec.beats); });
    const RealScore so = score_real(rec, off), ss = score_real(rec, on);
    // The beats are labelled N, but the rhythm is irregularly irregular all day (median |dRR| is
    // 17-23 % of RR in every hour): atrial fibrillation. Flags here are intervals whose AF
    // irregularity looks like an artifact; V beats cannot be told apart by RR at all.
    std::printf("[artifacts] 14149: %zu intervals (offline %.3f s, stream %.3f s)\n", off.classified.size(),
                t_off, t_on);
    print_score("offline", so);
    print_score("stream ", ss);
    print_counts("offline", off.counts);
    print_counts("stream ", on.counts);
    // Measured: N-N between N flags 0.78 % / 0.80 % (0.78 / 0.79 % without the group-beating
    // rule; 1.11 / 1.12 % with the AF gate at 12 % and
    // the regular missed-beat fit, 15.3 % / 15.5 % with the previous premature-beat rule, 3.7 % /
    // 3.9 % with none). The irregularity gate keeps the premature-beat rule silent, withholds the
    // L&T "ectopic" label and demands a tight fit for `missed` in AF; what remains is mostly
    // `ectopic` where the rhythm briefly looks regular and `missed` (beats lost in the 160 noise
    // episodes). V beats flagged: 3 % / 4 % (in AF they cannot be told apart by RR).
    CHECK(so.nn_rate() <= 0.01);
    CHECK(ss.nn_rate() <= 0.01);
}

TEST_CASE("artifacts: rest-rri.txt is essentially clean", "[artifacts][data]") {
    std::ifstream in(kData + "/rr/rest-rri.txt");
    std::vector<double> rr;
    for (double x; in >> x;) rr.push_back(x);
    REQUIRE(rr.size() >= 900);  // 910 values (the README's 911 counts the trailing empty line)
    const auto off = correct_artifacts(rr);
    const auto on = run_stream(to_beats(rr));
    std::printf("[artifacts] rest-rri.txt: %zu of %zu flagged offline, %zu streaming\n",
                off.counts.flagged(), off.counts.total(), on.counts.flagged());
    print_counts("offline", off.counts);
    // Measured: 31 offline, 29 streaming (17 / 13 before the present premature-beat rule): 13 single
    // short intervals 15-25 % below their neighbours (likely premature supraventricular beats) and
    // their pauses, 2 L&T ectopic pairs, and 7 pairs from the premature-beat rule, 4 of them
    // 13-16 % premature with a pause, 3 borderline (5-6 % early, in this person's large RSA).
    CHECK(off.counts.flagged() <= 36);
    CHECK(on.counts.flagged() <= 34);
}

TEST_CASE("artifacts: atrial fibrillation after sinus rhythm, the cost of the steady-stretch rule", "[artifacts][data]") {
    // 3000 sinus intervals, then 30,000 of LTDB 14149's atrial fibrillation (labelled N). At the
    // onset the steady-stretch reference still holds the sinus cycle and the share of steady
    // intervals over the last rhythm_window stays high for ~20 min; only the irregularity gate
    // (steady_max_irregularity, on the ok intervals outside the premature patterns it finds) holds
    // the rule back there. Counted: intervals flagged in the AF part, with the rule and without it.
    const Record af = load_ltdb("14149");
    std::vector<double> rr = sinus_series(3000, 620.0, 30.0, 20.0, 6.0, 5);
    const std::size_t onset = rr.size();
    for (std::size_t k = 1; k <= 30000; ++k) rr.push_back(af.beats[k].ibi_ms);
    ArtifactConfig off;
    off.steady_reference_rule = false;
    for (const bool streaming : {false, true}) {
        const auto beats = to_beats(rr);
        const ArtifactResult with = streaming ? run_stream(beats) : correct_artifacts(beats);
        const ArtifactResult without = streaming ? run_stream(beats, off) : correct_artifacts(beats, off);
        auto flags = [&](const ArtifactResult& r, std::size_t from, std::size_t to) {
            std::size_t f = 0;
            for (std::size_t k = from; k < to; ++k) f += r.classified[k].cls != IntervalClass::ok;
            return f;
        };
        const std::size_t n = with.classified.size();
        std::printf("[artifacts] sinus -> AF (%s): sinus part %zu flagged; AF part %zu flagged (%zu without "
                    "the steady-stretch rule) of %zu\n",
                    streaming ? "stream" : "offline", flags(with, 0, onset), flags(with, onset, n),
                    flags(without, onset, n), n - onset);
        // Measured: 427 / 197 offline (1.4 % / 0.66 %), 510 / 231 streaming (466 without the
        // recurring-pattern rule: streaming, it learns the onset's flags as premature beats and
        // finds 44 more AF beats like them; offline the memory never reaches 100); with the gate at 15 %
        // 561 offline, with no gate 908; gating on all ok intervals' irregularity instead (at 15 %)
        // was 503, with 90.5 % instead of 91.6 % of 14046's V beats.
        CHECK(flags(with, 0, onset) <= onset / 200);
        CHECK(flags(with, onset, n) <= (n - onset) * 18 / 1000);  // <= 1.8 %
        CHECK(flags(without, onset, n) <= (n - onset) / 100);
    }
}

