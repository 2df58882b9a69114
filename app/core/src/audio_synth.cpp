#include "attune/core/audio_synth.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace attune::core {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
constexpr double kAttackS = 0.020;
constexpr double kDecayTauS = 0.28;
constexpr double kReleaseS = 0.060;
constexpr double kToneLevel = 0.22;  // continuous tone peak before master volume
constexpr double kCueLevel = 0.30;   // one cue note's peak before master volume

// One-pole smoothing coefficient for a time constant tau_s at rate_hz.
double Coef(double tau_s, double rate_hz) { return 1.0 - std::exp(-1.0 / (tau_s * rate_hz)); }

double Approach(double value, double target, double k) {
    value += (target - value) * k;
    return std::abs(target - value) < 1e-7 ? target : value;
}

}  // namespace

const char* SoundModeName(SoundMode m) {
    switch (m) {
        case SoundMode::Cues: return "cues";
        case SoundMode::Continuous: return "continuous";
        default: return "off";
    }
}

std::optional<SoundMode> ParseSoundMode(std::string_view name) {
    if (name == "off") return SoundMode::Off;
    if (name == "cues") return SoundMode::Cues;
    if (name == "continuous") return SoundMode::Continuous;
    return std::nullopt;
}

BreathSynth::BreathSynth(double sample_rate_hz) : m_rate_hz(sample_rate_hz > 1000.0 ? sample_rate_hz : 44100.0) {
    m_k_fast = Coef(0.030, m_rate_hz);
    m_k_slow = Coef(0.080, m_rate_hz);
    m_k_pitch = Coef(0.015, m_rate_hz);
}

void BreathSynth::SetPacer(const Pacer* pacer) {
    if (pacer != m_pacer) Resync();
    m_pacer = pacer;
}

double BreathSynth::ToneHz(double volume) {
    return kLowHz * std::pow(kHighHz / kLowHz, std::clamp(volume, 0.0, 1.0));
}

void BreathSynth::StartNote(double hz, double amp, double delay_s) {
    // Reuse a free voice, else the oldest one (its release is abrupt only in the rare case
    // that six notes overlap, which the cue timing never produces).
    Voice* v = nullptr;
    for (auto& cand : m_voices)
        if (!cand.on) { v = &cand; break; }
    if (!v) {
        v = &m_voices[0];
        for (auto& cand : m_voices)
            if (cand.age > v->age) v = &cand;
    }
    *v = Voice{true, hz, amp, static_cast<std::int64_t>(std::llround(delay_s * m_rate_hz)), 0, 0.0};
}

void BreathSynth::Trigger(PhaseKind kind) {
    ++m_cues_fired;
    if (m_params.mode != SoundMode::Cues) return;
    switch (kind) {
        case PhaseKind::Inhale:  // rising fifth, high register
            StartNote(392.00, 1.0, 0.0);
            StartNote(587.33, 0.85, 0.16);
            break;
        case PhaseKind::Exhale:  // falling fifth, an octave lower
            StartNote(293.66, 1.0, 0.0);
            StartNote(196.00, 1.0, 0.18);
            break;
        case PhaseKind::HoldIn:
        case PhaseKind::HoldOut:
            StartNote(329.63, 0.55, 0.0);
            break;
        default: break;
    }
}

double BreathSynth::RenderVoices() {
    const double dt = 1.0 / m_rate_hz;
    double sum = 0.0;
    for (auto& v : m_voices) {
        if (!v.on) continue;
        if (v.delay > 0) { --v.delay; continue; }
        const double t = static_cast<double>(v.age) * dt;
        if (t >= kCueSeconds) { v.on = false; continue; }
        double env = std::exp(-t / kDecayTauS);
        if (t < kAttackS) env *= 0.5 * (1.0 - std::cos(std::numbers::pi * t / kAttackS));
        const double rel0 = kCueSeconds - kReleaseS;
        if (t > rel0) env *= 0.5 * (1.0 + std::cos(std::numbers::pi * (t - rel0) / kReleaseS));
        // A soft bell: the fundamental and a little octave.
        sum += v.amp * env * (std::sin(v.phase) + 0.18 * std::sin(2.0 * v.phase));
        v.phase += kTwoPi * v.hz * dt;
        if (v.phase > kTwoPi) v.phase -= kTwoPi;
        ++v.age;
    }
    return sum;
}

void BreathSynth::Render(float* out, std::size_t n, double t0_s, double dt_s) {
    const bool sounding = m_active && !m_params.muted && m_params.mode != SoundMode::Off && m_pacer != nullptr;
    const double gate_target = sounding ? 1.0 : 0.0;
    const double vol = std::clamp(m_params.volume, 0.0, 1.0);
    const double volume_target = vol * vol;  // perceived loudness grows roughly with the square
    const double warmth_target = (m_params.warmth_follows_coherence && m_coherence_level >= 0.0)
                                     ? std::clamp(m_coherence_level, 0.0, 1.0)
                                     : std::clamp(m_params.warmth, 0.0, 1.0);
    const double inv_rate = 1.0 / m_rate_hz;
    for (std::size_t i = 0; i < n; ++i) {
        const double t = t0_s + static_cast<double>(i) * dt_s;
        m_gate = Approach(m_gate, gate_target, m_k_fast);
        m_volume = Approach(m_volume, volume_target, m_k_slow);
        m_warmth = Approach(m_warmth, warmth_target, m_k_slow * 0.05);

        double tone_target = 0.0;
        if (m_pacer && m_active) {
            const PacerState st = m_pacer->At(t);
            if (st.paced && !st.finished) {
                // Cue at every phase change: the (breath, phase) pair differs from the previous
                // sample's while time moved forward by a normal step. With no history (session
                // start, an audio device opened late) a phase less than 0.3 s old still gets its cue.
                const bool changed = m_have_prev && (st.breath_count != m_prev_breath || st.phase_index != m_prev_phase) &&
                                     t >= m_prev_t;
                const bool fresh = !m_have_prev && st.phase_duration_s - st.phase_remaining_s < 0.3;
                if (changed || fresh) Trigger(st.phase);
                m_have_prev = true;
                m_prev_breath = st.breath_count;
                m_prev_phase = st.phase_index;
                m_prev_t = t;
                if (m_params.mode == SoundMode::Continuous) {
                    const bool hold = st.phase == PhaseKind::HoldIn || st.phase == PhaseKind::HoldOut;
                    tone_target = hold ? 0.55 : 1.0;
                }
                m_tone_hz = Approach(m_tone_hz, ToneHz(st.volume), m_k_pitch);
            }
        }
        m_tone_gain = Approach(m_tone_gain, tone_target, m_k_slow);

        double s = 0.0;
        if (m_tone_gain > 0.0) {
            // Harmonics 2..4 weighted by warmth, normalised so loudness barely changes.
            const double w = 0.12 + 0.45 * m_warmth;
            const double a2 = w, a3 = w * w, a4 = w * w * w;
            const double norm = 1.0 / (1.0 + a2 + a3 + a4);
            const double ph = m_tone_phase;
            s += kToneLevel * m_tone_gain * norm *
                 (std::sin(ph) + a2 * std::sin(2.0 * ph) + a3 * std::sin(3.0 * ph) + a4 * std::sin(4.0 * ph));
        }
        m_tone_phase += kTwoPi * m_tone_hz * inv_rate;
        if (m_tone_phase > kTwoPi) m_tone_phase -= kTwoPi;
        s += kCueLevel * RenderVoices();

        const double g = m_gate * m_volume;
        out[i] = g == 0.0 ? 0.0f : static_cast<float>(std::clamp(s * g, -1.0, 1.0));
    }
}

}  // namespace attune::core
