// The SDL audio device for the breathing sound (core/audio_synth.hpp). The device's callback
// thread renders from its own copy of the pacer; the main thread hands it the pacer (a pointer
// mailbox, freed on the main thread) and the clock and settings (a seqlock), each frame. Nothing
// in the callback locks, allocates or touches ImGui.
//
// Clock: the callback keeps its own pacer time, advanced by the sample count (x --speed). At each
// buffer it compares it with the main thread's pacer clock (steady clock based) and slews the
// sample step by at most 10 % to stay in step (device clocks drift); an error above 0.5 s (pause,
// restart, a stalled device) resynchronises at once. The first sample of a buffer is aimed at the
// moment it will be heard, one buffer after it is rendered.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace attune::ui {

struct AppState;

// Windowed: opens the device the first time sound is switched on (settings). Headless: only when
// --sound was given (AppState::sound_cli), so scripted runs stay silent. Failure to open is a
// message, never an error.
void UpdateAudio(AppState& app, double now_s, bool headless);  // main thread, every frame
void CloseAudio(AppState& app);
// Headless --json: "audio": {sample_rate_hz, samples, first_active_sample, first_active_t_s,
// last_t_s, resyncs, max_clock_error_s, timeline: [[sample, t_s, dt_s] per buffer]} (absent
// when no device was opened).
void AddAudioJson(const AppState& app, nlohmann::json& j);

}  // namespace attune::ui
