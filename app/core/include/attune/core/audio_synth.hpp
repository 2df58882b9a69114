// The breathing sound, generated at run time (no sound files): a UI-free synthesizer that renders
// mono samples from the pacer, so eyes-closed practice works with sound alone.
//
// Modes
//   Cues:       a soft two-note chime at every phase change. Inhale: a rising fifth in a high
//               register (G4 392 Hz -> D5 587 Hz); exhale: a falling fifth an octave lower
//               (D4 294 Hz -> G3 196 Hz); holds: one quiet E4 (330 Hz). Each note has a 20 ms
//               raised-cosine attack, an exponential decay (tau 0.28 s) and a 60 ms raised-cosine
//               release to exactly zero at 1.1 s, so nothing clicks.
//   Continuous: one tone whose pitch follows lung volume, f = kLowHz * (kHighHz/kLowHz)^volume
//               (196 Hz empty .. 294 Hz full, a perfect fifth): it glides up on inhale and down
//               on exhale with the pacer's raised-cosine ease, and stays level (and a little
//               quieter) during holds. Its "warmth" is the weight of harmonics 2..4 (0 = pure
//               sine, 1 = a rounder, reed-like tone); it can follow coherence.
//   Off.
//
// Units: time in pacer seconds (active session time), frequency in Hz, samples are floats in
// [-1, 1]. Time is the caller's: sample i of a block has pacer time t0_s + i * dt_s, so the output
// depends only on the sequence of times and settings, never on wall clock or block sizes.
// Oscillators are phase accumulators (phase-continuous however pitch or timing change); volume,
// warmth and the on/off gate are smoothed per sample (one-pole, 30-80 ms), so setting changes,
// pause and mute never click. Muted or off with the gate closed gives exact zeros.
// Latency: none inside the synth (the audio device adds its buffer).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "attune/core/pacer.hpp"

namespace attune::core {

enum class SoundMode { Off, Cues, Continuous };

const char* SoundModeName(SoundMode m);  // "off", "cues", "continuous"
std::optional<SoundMode> ParseSoundMode(std::string_view name);

struct SoundParams {
    SoundMode mode = SoundMode::Off;
    double volume = 0.6;        // 0..1, master level (perceptual-ish: squared inside)
    bool muted = false;
    double warmth = 0.4;        // 0..1 when not following coherence
    bool warmth_follows_coherence = true;
};

class BreathSynth {
public:
    static constexpr double kLowHz = 196.0;   // G3: continuous tone at empty lungs
    static constexpr double kHighHz = 293.66; // D4: at full lungs
    static constexpr double kCueSeconds = 1.1;

    explicit BreathSynth(double sample_rate_hz = 44100.0);

    double sample_rate_hz() const { return m_rate_hz; }
    // The pacer to follow (not owned; may be null = silence). Changing it resynchronises.
    void SetPacer(const Pacer* pacer);
    void SetParams(const SoundParams& params) { m_params = params; }
    const SoundParams& params() const { return m_params; }
    // Coherence feedback level 0..1 (as the orb's colour), or < 0 when unknown.
    void SetCoherenceLevel(double level) { m_coherence_level = level; }
    // Whether the session is running and not paused: when false the sound fades out.
    void SetActive(bool active) { m_active = active; }
    // Forget the previous time (after a jump in time): no cue fires for boundaries skipped over.
    void Resync() { m_have_prev = false; }

    // Renders n samples for pacer times t0_s + i * dt_s.
    void Render(float* out, std::size_t n, double t0_s, double dt_s);

    // Instantaneous continuous-tone frequency for a lung volume 0..1.
    static double ToneHz(double volume);

    // For tests and diagnostics.
    std::int64_t cues_fired() const { return m_cues_fired; }
    double current_tone_hz() const { return m_tone_hz; }

private:
    struct Voice {
        bool on = false;
        double hz = 0.0;
        double amp = 0.0;
        std::int64_t delay = 0;  // samples before the note starts
        std::int64_t age = 0;    // samples since it started
        double phase = 0.0;      // radians
    };
    void Trigger(PhaseKind kind);
    void StartNote(double hz, double amp, double delay_s);
    double RenderVoices();

    double m_rate_hz;
    const Pacer* m_pacer = nullptr;
    SoundParams m_params;
    double m_coherence_level = -1.0;
    bool m_active = false;

    // Smoothed controls.
    double m_gate = 0.0;
    double m_volume = 0.0;
    double m_warmth = 0.4;
    double m_tone_gain = 0.0;  // continuous tone's own gate (paced, mode) and hold dip
    double m_tone_hz = kLowHz;
    double m_tone_phase = 0.0;
    double m_k_fast = 0.0, m_k_slow = 0.0, m_k_pitch = 0.0;

    // Cue triggering: the (breath, phase) of the previous sample.
    bool m_have_prev = false;
    std::int64_t m_prev_breath = 0;
    int m_prev_phase = 0;
    double m_prev_t = 0.0;
    std::int64_t m_cues_fired = 0;
    std::array<Voice, 6> m_voices{};
};

}  // namespace attune::core
