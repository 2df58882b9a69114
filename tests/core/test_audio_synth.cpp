// The breathing synthesizer: pitch follows lung volume, cues sound at phase changes (rising for
// inhale, falling for exhale), nothing clicks, mute is silence, blocks do not matter.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "attune/core/audio_synth.hpp"

using namespace attune::core;

namespace {

constexpr double kRate = 44100.0;

std::vector<float> RenderSpan(BreathSynth& synth, double t0_s, double seconds, std::size_t block = 512) {
    const auto n = static_cast<std::size_t>(std::llround(seconds * kRate));
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; i += block) {
        const std::size_t m = std::min(block, n - i);
        synth.Render(out.data() + i, m, t0_s + static_cast<double>(i) / kRate, 1.0 / kRate);
    }
    return out;
}

// Frequency from upward zero crossings (linearly interpolated) in [i0, i1).
double ZeroCrossingHz(const std::vector<float>& x, std::size_t i0, std::size_t i1) {
    double first = -1, last = -1;
    int count = 0;
    for (std::size_t i = i0 + 1; i < i1; ++i)
        if (x[i - 1] < 0.0f && x[i] >= 0.0f) {
            const double frac = x[i - 1] / (x[i - 1] - x[i]);
            const double pos = static_cast<double>(i - 1) + frac;
            if (first < 0) first = pos;
            else ++count;
            last = pos;
        }
    return count > 0 ? count * kRate / (last - first) : 0.0;
}

// Power of one frequency over [i0, i1) (Goertzel).
double ToneAmplitude(const std::vector<float>& x, std::size_t i0, std::size_t i1, double hz) {
    double re = 0, im = 0;
    for (std::size_t i = i0; i < i1; ++i) {
        const double ph = 2.0 * std::numbers::pi * hz * static_cast<double>(i) / kRate;
        re += x[i] * std::cos(ph);
        im += x[i] * std::sin(ph);
    }
    return 2.0 * std::hypot(re, im) / static_cast<double>(i1 - i0);
}

double MaxJump(const std::vector<float>& x) {
    double m = 0;
    for (std::size_t i = 1; i < x.size(); ++i) m = std::max(m, static_cast<double>(std::abs(x[i] - x[i - 1])));
    return m;
}

SoundParams Params(SoundMode mode) {
    SoundParams p;
    p.mode = mode;
    p.volume = 1.0;
    p.warmth = 0.0;
    p.warmth_follows_coherence = false;
    return p;
}

}  // namespace

TEST_CASE("sound mode names parse", "[synth]") {
    for (SoundMode m : {SoundMode::Off, SoundMode::Cues, SoundMode::Continuous}) CHECK(ParseSoundMode(SoundModeName(m)) == m);
    CHECK_FALSE(ParseSoundMode("loud").has_value());
}

TEST_CASE("continuous tone: pitch follows the pacer's lung volume", "[synth]") {
    const Pacer pacer(DefaultPattern());  // 6/min, 5 s in, 5 s out
    BreathSynth synth(kRate);
    synth.SetPacer(&pacer);
    synth.SetParams(Params(SoundMode::Continuous));
    synth.SetActive(true);
    const auto x = RenderSpan(synth, 0.0, 30.0);
    const auto win = static_cast<std::size_t>(0.05 * kRate);
    std::vector<double> est, expect;
    double max_err_hz = 0;
    for (std::size_t i = win; i + win <= x.size(); i += win) {
        const double f = ZeroCrossingHz(x, i, i + win);
        const double tc = (static_cast<double>(i) + 0.5 * win) / kRate;
        const double want = BreathSynth::ToneHz(pacer.At(tc).volume);
        est.push_back(f);
        expect.push_back(want);
        // A 50 ms window averages the glide (at most ~20 Hz/s): a couple of Hz of spread.
        max_err_hz = std::max(max_err_hz, std::abs(f - want));
    }
    CHECK(max_err_hz < 3.0);
    // Range: the full fifth, low at empty lungs and high at full.
    CHECK(*std::min_element(est.begin(), est.end()) == Approx(BreathSynth::kLowHz).margin(3.0));
    CHECK(*std::max_element(est.begin(), est.end()) == Approx(BreathSynth::kHighHz).margin(3.0));
    // Mid inhale rising, mid exhale falling: 2.5 s and 7.5 s into a breath.
    CHECK(ZeroCrossingHz(x, static_cast<std::size_t>(12.4 * kRate), static_cast<std::size_t>(12.6 * kRate)) ==
          Approx(BreathSynth::ToneHz(0.5)).margin(3.0));
}

TEST_CASE("no clicks: bounded sample-to-sample steps through start, pause, mute, jumps and mode changes", "[synth]") {
    const Pacer pacer(BreathPattern::FourPhase("box", "Box", 4, 4, 4, 4));
    BreathSynth synth(kRate);
    synth.SetPacer(&pacer);
    SoundParams p = Params(SoundMode::Continuous);
    p.warmth = 1.0;  // the richest tone has the steepest waveform
    synth.SetParams(p);
    synth.SetActive(true);
    std::vector<float> all;
    auto add = [&](double t0, double s) {
        const auto x = RenderSpan(synth, t0, s);
        all.insert(all.end(), x.begin(), x.end());
    };
    add(0.0, 6.0);
    synth.SetActive(false);  // pause: time stops
    add(6.0, 0.0 + 1.0);
    synth.SetActive(true);
    add(6.0, 2.0);
    p.muted = true;
    synth.SetParams(p);
    add(8.0, 1.0);
    p.muted = false;
    p.volume = 0.3;
    synth.SetParams(p);
    add(9.0, 2.0);
    synth.Resync();
    add(13.5, 2.0);  // time jumps by 2.5 s (clock resync)
    p.mode = SoundMode::Cues;
    p.volume = 1.0;
    synth.SetParams(p);
    add(15.5, 18.0);
    // The steepest legitimate slope: 2 pi f A per sample for the tone (A <= 0.22, f <= 294 Hz,
    // harmonics up to 4 at warmth 1 give at most ~1.9x) and for two overlapping cue notes
    // (A 0.3 x 1.18, f <= 587 Hz, the octave partial doubling the slope at most): about 0.06.
    // A click (a waveform cut at even a tenth of full level) jumps by >= 0.1.
    CHECK(MaxJump(all) < 0.075);
    // And sound was actually made in both modes.
    double peak = 0;
    for (float v : all) peak = std::max(peak, static_cast<double>(std::abs(v)));
    CHECK(peak > 0.15);
}

TEST_CASE("cues: one per phase change, at the boundary; inhale rises, exhale falls lower", "[synth]") {
    const Pacer pacer(BreathPattern::FourPhase("box", "Box", 4, 4, 4, 4));
    BreathSynth synth(kRate);
    synth.SetPacer(&pacer);
    synth.SetParams(Params(SoundMode::Cues));
    synth.SetActive(true);
    const auto x = RenderSpan(synth, 0.0, 33.0, 333);  // an odd block size on purpose
    CHECK(synth.cues_fired() == 9);                     // boundaries at 0, 4, ..., 32 s
    // Onsets: 5 ms RMS rising through 0.02 after having been below 0.001 (silence between cues).
    const auto w = static_cast<std::size_t>(0.005 * kRate);
    std::vector<double> onsets;
    bool quiet = true;
    for (std::size_t i = 0; i + w <= x.size(); i += w) {
        double e = 0;
        for (std::size_t k = i; k < i + w; ++k) e += static_cast<double>(x[k]) * x[k];
        const double rms = std::sqrt(e / static_cast<double>(w));
        if (quiet && rms > 0.02) {
            onsets.push_back(static_cast<double>(i) / kRate);
            quiet = false;
        } else if (rms < 0.001) {
            quiet = true;
        }
    }
    REQUIRE(onsets.size() == 9);
    for (std::size_t k = 0; k < onsets.size(); ++k) {
        INFO("cue " << k);
        // The attack reaches 0.02 RMS within ~10 ms of the boundary.
        CHECK(onsets[k] == Approx(4.0 * static_cast<double>(k)).margin(0.02));
    }
    // Sound is gone well before the next cue (1.1 s notes, 4 s phases).
    for (double t : {1.3, 5.3, 9.3}) {
        const auto i = static_cast<std::size_t>(t * kRate);
        for (std::size_t k = i; k < i + 1000; ++k) REQUIRE(x[k] == 0.0f);
    }
    auto at = [](double t) { return static_cast<std::size_t>(t * kRate); };
    // Inhale at 16 s: first note G4, then D5 dominates.
    CHECK(ToneAmplitude(x, at(16.02), at(16.14), 392.0) > 3 * ToneAmplitude(x, at(16.02), at(16.14), 587.33));
    CHECK(ToneAmplitude(x, at(16.30), at(16.50), 587.33) > 1.2 * ToneAmplitude(x, at(16.30), at(16.50), 392.0));
    // Exhale at 24 s: D4 first, then G3: falling, and below the inhale's notes.
    CHECK(ToneAmplitude(x, at(24.02), at(24.14), 293.66) > 3 * ToneAmplitude(x, at(24.02), at(24.14), 196.0));
    CHECK(ToneAmplitude(x, at(24.30), at(24.50), 196.0) > 1.2 * ToneAmplitude(x, at(24.30), at(24.50), 293.66));
    CHECK(ToneAmplitude(x, at(24.02), at(24.14), 392.0) < 0.01);
    // Holds at 20 s: one quieter note (E4).
    CHECK(ToneAmplitude(x, at(20.02), at(20.14), 329.63) > 0.05);
    CHECK(ToneAmplitude(x, at(20.02), at(20.14), 329.63) < ToneAmplitude(x, at(16.02), at(16.14), 392.0));
}

TEST_CASE("mute, off and inactive give exact zeros; unmuting fades in", "[synth]") {
    const Pacer pacer(DefaultPattern());
    for (int variant = 0; variant < 3; ++variant) {
        BreathSynth synth(kRate);
        synth.SetPacer(&pacer);
        SoundParams p = Params(variant == 1 ? SoundMode::Off : SoundMode::Continuous);
        p.muted = variant == 0;
        synth.SetParams(p);
        synth.SetActive(variant != 2);
        const auto x = RenderSpan(synth, 0.0, 3.0);
        for (float v : x) REQUIRE(v == 0.0f);
    }
    BreathSynth synth(kRate);
    synth.SetPacer(&pacer);
    SoundParams p = Params(SoundMode::Continuous);
    synth.SetParams(p);
    synth.SetActive(true);
    RenderSpan(synth, 0.0, 1.0);
    p.muted = true;
    synth.SetParams(p);
    const auto x = RenderSpan(synth, 1.0, 1.0);
    // 30 ms gate: by 0.5 s after muting the output is exactly zero.
    for (std::size_t i = static_cast<std::size_t>(0.5 * kRate); i < x.size(); ++i) REQUIRE(x[i] == 0.0f);
    CHECK(std::abs(x[10]) > 0.0f);  // it fades, it does not cut
}

TEST_CASE("output does not depend on how time is cut into blocks", "[synth]") {
    const Pacer pacer(BreathPattern::FourPhase("478", "4-7-8", 4, 7, 8, 0));
    for (SoundMode mode : {SoundMode::Cues, SoundMode::Continuous}) {
        BreathSynth a(kRate), b(kRate);
        for (BreathSynth* s : {&a, &b}) {
            s->SetPacer(&pacer);
            s->SetParams(Params(mode));
            s->SetActive(true);
        }
        const auto x = RenderSpan(a, 0.0, 40.0, 4096);
        std::vector<float> y(x.size());
        std::mt19937 rng(3);
        for (std::size_t i = 0; i < y.size();) {
            const std::size_t m = std::min<std::size_t>(1 + rng() % 3000, y.size() - i);
            b.Render(y.data() + i, m, static_cast<double>(i) / kRate, 1.0 / kRate);
            i += m;
        }
        // Times are computed per block (t0 + i dt), so they differ from one split to another by
        // rounding (~1e-15 s); the audio may differ only by that much, not by a click or a cue.
        double max_diff = 0;
        for (std::size_t i = 0; i < x.size(); ++i) max_diff = std::max(max_diff, static_cast<double>(std::abs(x[i] - y[i])));
        CHECK(max_diff < 1e-5);
    }
}

TEST_CASE("warmth: more harmonic content as coherence rises", "[synth]") {
    const Pacer pacer(BreathPattern::FourPhase("box", "Box", 4, 4, 4, 4));
    auto second_harmonic_ratio = [&](double level) {
        BreathSynth synth(kRate);
        synth.SetPacer(&pacer);
        SoundParams p = Params(SoundMode::Continuous);
        p.warmth_follows_coherence = true;
        synth.SetParams(p);
        synth.SetCoherenceLevel(level);
        synth.SetActive(true);
        const auto x = RenderSpan(synth, 0.0, 8.0);
        // Hold at full lungs, 5-7.5 s: steady D4.
        const auto i0 = static_cast<std::size_t>(5.0 * kRate), i1 = static_cast<std::size_t>(7.5 * kRate);
        return ToneAmplitude(x, i0, i1, 2 * BreathSynth::kHighHz) / ToneAmplitude(x, i0, i1, BreathSynth::kHighHz);
    };
    const double cool = second_harmonic_ratio(0.0), warm = second_harmonic_ratio(1.0);
    CHECK(cool == Approx(0.12).margin(0.03));  // warmth 0: harmonic 2 at 0.12
    CHECK(warm == Approx(0.57).margin(0.05));  // warmth 1: 0.12 + 0.45
}
