#include "ui/audio_output.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>

#include <SDL.h>
#include <nlohmann/json.hpp>

#include "attune/core/audio_synth.hpp"
#include "ui/app_state.hpp"

namespace attune::ui {

namespace {

double SteadySeconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// What the main thread tells the callback each frame.
struct Control {
    double zero_steady_s = 0.0;  // steady-clock second at which pacer time would be 0 (running, not paused)
    double frozen_t_s = 0.0;     // pacer time while paused
    double speed = 1.0;
    double volume = 0.6;
    double warmth = 0.4;
    double coherence_level = -1.0;
    std::int32_t mode = 0;
    std::int32_t flags = 0;  // 1 running, 2 paused, 4 muted, 8 warmth follows coherence
};
static_assert(std::is_trivially_copyable_v<Control> && sizeof(Control) % 8 == 0);

// Single-writer seqlock over 64-bit atomic words: the reader never blocks the writer and
// retries (a few times) if it caught a write half-way.
class SeqBox {
public:
    void Write(const Control& c) {
        std::array<std::uint64_t, kWords> w{};
        std::memcpy(w.data(), &c, sizeof c);
        m_seq.fetch_add(1, std::memory_order_acq_rel);  // odd: writing
        for (std::size_t i = 0; i < kWords; ++i) m_words[i].store(w[i], std::memory_order_relaxed);
        m_seq.fetch_add(1, std::memory_order_release);  // even: done
    }
    bool Read(Control& c) const {
        for (int attempt = 0; attempt < 4; ++attempt) {
            const std::uint32_t s0 = m_seq.load(std::memory_order_acquire);
            if (s0 & 1u) continue;
            std::array<std::uint64_t, kWords> w{};
            for (std::size_t i = 0; i < kWords; ++i) w[i] = m_words[i].load(std::memory_order_relaxed);
            std::atomic_thread_fence(std::memory_order_acquire);
            if (m_seq.load(std::memory_order_relaxed) == s0 && s0 != 0) {
                std::memcpy(static_cast<void*>(&c), w.data(), sizeof c);
                return true;
            }
        }
        return false;
    }

private:
    static constexpr std::size_t kWords = sizeof(Control) / 8;
    std::atomic<std::uint32_t> m_seq{0};
    std::array<std::atomic<std::uint64_t>, kWords> m_words{};
};

}  // namespace

class AudioOutput {
public:
    ~AudioOutput() {
        if (m_device != 0) SDL_CloseAudioDevice(m_device);  // waits for a running callback
        delete m_current;
        delete m_pending.exchange(nullptr);
        delete m_retired.exchange(nullptr);
    }

    bool Open(std::string& error) {
        if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) {
            error = SDL_GetError();
            return false;
        }
        SDL_AudioSpec want{}, have{};
        want.freq = 44100;
        want.format = AUDIO_S16SYS;
        want.channels = 1;
        want.samples = 1024;
        want.callback = &AudioOutput::Callback;
        want.userdata = this;
        m_device = SDL_OpenAudioDevice(nullptr, 0, &want, &have, SDL_AUDIO_ALLOW_FREQUENCY_CHANGE);
        if (m_device == 0) {
            error = SDL_GetError();
            return false;
        }
        m_rate_hz = have.freq;
        m_synth = core::BreathSynth(have.freq);
        m_buffer_s = static_cast<double>(have.samples) / have.freq;
        m_float.resize(std::max<std::size_t>(have.samples, 4096));
        m_timeline = std::make_unique<TimelineEntry[]>(kTimelineCap);
        SDL_PauseAudioDevice(m_device, 0);
        return true;
    }

    // Main thread: a new pacer (a new session). The previous pending one, never seen by the
    // callback, is freed here; retired ones come back through m_retired.
    void PublishPacer(const core::Pacer& pacer) { delete m_pending.exchange(new core::Pacer(pacer), std::memory_order_acq_rel); }
    void Publish(const Control& c) { m_control.Write(c); }
    void Collect() { delete m_retired.exchange(nullptr, std::memory_order_acq_rel); }

    // Stops the callback for good (the statistics are then final).
    void Stop() {
        if (m_device != 0) SDL_CloseAudioDevice(m_device);
        m_device = 0;
    }

    const void* last_session = nullptr;
    double last_pacer_t_s = 0.0;

    nlohmann::json Stats() const {
        nlohmann::json j;
        j["sample_rate_hz"] = m_rate_hz;
        j["samples"] = m_samples.load();
        const std::int64_t first = m_first_active_sample.load();
        j["first_active_sample"] = first >= 0 ? nlohmann::json(first) : nlohmann::json(nullptr);
        j["first_active_t_s"] = m_first_active_t_s.load();
        j["last_t_s"] = m_last_t_s.load();
        j["resyncs"] = m_resyncs.load();
        j["max_clock_error_s"] = m_max_err_s.load();
        // Per buffer: [first sample index, its pacer time, pacer seconds per sample] (while active).
        nlohmann::json tl = nlohmann::json::array();
        const std::size_t n = m_timeline_n.load(std::memory_order_acquire);
        for (std::size_t i = 0; i < n; ++i) tl.push_back({m_timeline[i].sample, m_timeline[i].t_s, m_timeline[i].dt_s});
        j["timeline"] = std::move(tl);
        return j;
    }

private:
    static void Callback(void* userdata, Uint8* stream, int len) {
        static_cast<AudioOutput*>(userdata)->Fill(reinterpret_cast<std::int16_t*>(stream),
                                                  static_cast<std::size_t>(len) / sizeof(std::int16_t));
    }

    void Fill(std::int16_t* out, std::size_t n) {
        Control c;
        if (m_control.Read(c)) m_last = c;
        else c = m_last;
        // Take a new pacer only when the main thread has collected the last retired one.
        if (m_retired.load(std::memory_order_acquire) == nullptr)
            if (core::Pacer* p = m_pending.exchange(nullptr, std::memory_order_acq_rel)) {
                m_retired.store(m_current, std::memory_order_release);
                m_current = p;
                m_synth.SetPacer(p);
                m_have_t = false;
            }
        core::SoundParams sp;
        sp.mode = static_cast<core::SoundMode>(c.mode);
        sp.volume = c.volume;
        sp.muted = (c.flags & 4) != 0;
        sp.warmth = c.warmth;
        sp.warmth_follows_coherence = (c.flags & 8) != 0;
        m_synth.SetParams(sp);
        m_synth.SetCoherenceLevel(c.coherence_level);
        const bool running = (c.flags & 1) != 0, paused = (c.flags & 2) != 0;
        const bool active = running && !paused && m_current != nullptr;
        m_synth.SetActive(active);

        const double speed = c.speed > 0.0 ? c.speed : 1.0;
        double dt = 0.0;
        if (active) {
            // Pacer time when this buffer's first sample will be heard.
            const double target = (SteadySeconds() + m_buffer_s - c.zero_steady_s) * speed;
            const double err_real_s = (target - m_t_s) / speed;
            double corr = 0.0;
            if (!m_have_t || std::abs(err_real_s) > 0.5) {
                if (m_have_t) m_resyncs.fetch_add(1, std::memory_order_relaxed);
                m_t_s = std::max(0.0, target);
                m_synth.Resync();
                m_have_t = true;
            } else {
                corr = std::clamp(err_real_s / 1.0, -0.10, 0.10);  // close the gap over ~1 s
                if (m_first_active_sample.load(std::memory_order_relaxed) >= 0)
                    m_max_err_s.store(std::max(m_max_err_s.load(std::memory_order_relaxed), std::abs(err_real_s)),
                                      std::memory_order_relaxed);
            }
            dt = speed * (1.0 + corr) / m_rate_hz;
            if (m_first_active_sample.load(std::memory_order_relaxed) < 0) {
                m_first_active_t_s.store(m_t_s, std::memory_order_relaxed);
                m_first_active_sample.store(m_samples.load(std::memory_order_relaxed), std::memory_order_relaxed);
            }
        } else if (paused) {
            m_have_t = false;  // resume resynchronises (time did not run while paused)
        }
        if (active && m_timeline) {
            const std::size_t k = m_timeline_n.load(std::memory_order_relaxed);
            if (k < kTimelineCap) {
                m_timeline[k] = {m_samples.load(std::memory_order_relaxed), m_t_s, dt};
                m_timeline_n.store(k + 1, std::memory_order_release);
            }
        }
        for (std::size_t done = 0; done < n;) {
            const std::size_t m = std::min(n - done, m_float.size());
            m_synth.Render(m_float.data(), m, m_t_s, dt);
            m_t_s += static_cast<double>(m) * dt;
            for (std::size_t i = 0; i < m; ++i)
                out[done + i] = static_cast<std::int16_t>(std::lround(std::clamp(m_float[i], -1.0f, 1.0f) * 32767.0f));
            done += m;
        }
        m_samples.fetch_add(static_cast<std::int64_t>(n), std::memory_order_relaxed);
        if (active) m_last_t_s.store(m_t_s, std::memory_order_relaxed);
    }

    // The audio clock per buffer, for headless checks (the first ~25 minutes at 1024-sample
    // buffers; preallocated, filled by the callback, read after the run).
    struct TimelineEntry {
        std::int64_t sample;
        double t_s, dt_s;
    };
    static constexpr std::size_t kTimelineCap = 1u << 16;
    std::unique_ptr<TimelineEntry[]> m_timeline;
    std::atomic<std::size_t> m_timeline_n{0};

    SDL_AudioDeviceID m_device = 0;
    int m_rate_hz = 44100;
    double m_buffer_s = 0.0;
    SeqBox m_control;
    std::atomic<core::Pacer*> m_pending{nullptr};
    std::atomic<core::Pacer*> m_retired{nullptr};
    // Callback thread only:
    core::BreathSynth m_synth;
    core::Pacer* m_current = nullptr;
    Control m_last;
    std::vector<float> m_float;
    double m_t_s = 0.0;
    bool m_have_t = false;
    // Statistics (written by the callback, read by the main thread at the end).
    std::atomic<std::int64_t> m_samples{0};
    std::atomic<std::int64_t> m_first_active_sample{-1};
    std::atomic<double> m_first_active_t_s{0.0};
    std::atomic<double> m_last_t_s{0.0};
    std::atomic<int> m_resyncs{0};
    std::atomic<double> m_max_err_s{0.0};
};

void UpdateAudio(AppState& app, double now_s, bool headless) {
    const core::SoundParams& sp = app.settings.sound;
    if (!app.audio) {
        const bool wanted = headless ? app.sound_cli : sp.mode != core::SoundMode::Off;
        if (!wanted || app.audio_failed) return;
        auto out = std::make_shared<AudioOutput>();
        std::string error;
        if (!out->Open(error)) {
            app.audio_failed = true;
            const std::string msg = "Sound unavailable: " + error;
            app.messages.push_back(msg);
            std::fprintf(stderr, "attune: %s\n", msg.c_str());
            return;
        }
        app.audio = std::move(out);
    }
    AudioOutput& a = *app.audio;
    a.Collect();
    const core::LiveSession* s = app.session.get();
    if (s && (s != a.last_session || s->pacer_time_s() + 0.5 < a.last_pacer_t_s)) a.PublishPacer(s->pacer());
    a.last_session = s;
    Control c;
    c.speed = app.speed;
    c.mode = static_cast<std::int32_t>(sp.mode);
    c.volume = sp.volume;
    c.warmth = sp.warmth;
    c.coherence_level = FeedbackLevel(app);
    c.flags = (sp.muted ? 4 : 0) | (sp.warmth_follows_coherence ? 8 : 0);
    if (s && s->running()) {
        c.flags |= 1;
        if (s->paused()) c.flags |= 2;
        a.last_pacer_t_s = s->pacer_time_s();
        c.frozen_t_s = s->pacer_time_s();
        // now_s is this frame's clock reading (steady seconds x speed from the loop's origin);
        // map pacer time back to the steady clock the callback reads.
        const double clock_now = app.app_clock ? app.app_clock() : now_s;
        c.zero_steady_s = SteadySeconds() - (clock_now - (now_s - s->pacer_time_s())) / app.speed;
    }
    a.Publish(c);
}

void CloseAudio(AppState& app) {
    app.audio.reset();
    SDL_QuitSubSystem(SDL_INIT_AUDIO);
}

void AddAudioJson(const AppState& app, nlohmann::json& j) {
    if (!app.audio) return;
    // Close the device first: the counts then match what the device received (SDL writes
    // silence of its own only while the device is paused, before the first callback).
    app.audio->Stop();
    j["audio"] = app.audio->Stats();
}

}  // namespace attune::ui
