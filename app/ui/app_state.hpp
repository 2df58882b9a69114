// The application's state, owned by main() and passed by reference to each window's Draw
// function (windows keep no function-local statics). Only the main thread touches it and ImGui.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attune/core/live_session.hpp"
#include "attune/core/pattern.hpp"
#include "attune/core/settings.hpp"
#include "attune/core/sources.hpp"
#include "attune/devices/simulated_heart.hpp"
#include "ui/session_ui.hpp"

struct ImFont;

namespace attune::ui {

struct Fonts {
    ImFont* body = nullptr;
    ImFont* large = nullptr;  // phase word
    ImFont* small = nullptr;
};

struct AppState {
    // Folders and persistent settings.
    std::filesystem::path data_dir;
    std::filesystem::path config_dir;
    core::Settings settings;
    std::vector<core::BreathPattern> presets;
    std::vector<std::filesystem::path> preset_dirs;  // shipped assets first, then the user's
    char new_preset_name[64] = "";
    std::vector<std::string> messages;  // warnings shown in the controls panel

    // The pattern the next session will use (a preset or the editor's custom pattern).
    core::BreathPattern pattern;
    bool pattern_is_custom = false;

    // The session (created on Start) and how to make its source.
    std::unique_ptr<core::LiveSession> session;
    devices::SimParams sim_params;
    core::SourceSpec source_spec;          // --source (sim by default)
    core::PipelineConfig pipeline;         // --beats-from: sensor intervals or Attune's detector
    std::string capture_path;              // --capture
    core::MadeSource made_source;          // pointers into the current session's source
    std::function<double()> app_clock;     // the loop's clock (steady seconds x speed)
    std::vector<devices::RankedPort> ports;  // last enumeration (Refresh in the controls)
    std::string ports_error;

    // Recording: every session is kept under data_dir/profiles/<profile>/sessions/ unless
    // --no-record. Pseudonymous profile names keep a therapist's clients apart.
    std::string profile = "default";
    bool record = true;

    // Clock: session time = (steady seconds - origin) * speed.
    double speed = 1.0;

    // View: the practitioner view (pacer, signals, metrics, controls) or the calm client view
    // (the pacer alone, full size, with one gentle feedback cue). Tab switches.
    enum class View { Practitioner, Client };
    View view = View::Practitioner;
    bool fullscreen = false;
    bool show_controls = true;  // derived from the view each frame
    bool show_editor = false;
    bool quit_requested = false;
    SessionUi session_ui;       // ratings and note, history, timeline (session_ui.hpp)
    Fonts fonts;
    void* orb_texture = nullptr;  // ImTextureID of the orb sprite (an SDL_Texture*)
    float dpi_scale = 1.0f;
};

// Creates a session for the current pattern on the configured source and starts it at now_s.
void StartSession(AppState& app, double now_s);
void SelectPreset(AppState& app, std::size_t index);

// Windows (one file each).
void DrawPacerView(AppState& app, double now_s);      // pacer_view.cpp: orb, phase, heart trace
void DrawControls(AppState& app, double now_s);       // controls_window.cpp: start/pause/stop, presets, editor
void DrawHeartTrace(const AppState& app, float x, float y, float w, float h);  // heart_trace.cpp
void DrawSignals(const AppState& app, float x, float y, float w, float h);     // signals_view.cpp: tachogram, spectrum, trends
void DrawMetrics(AppState& app, double now_s);        // metrics_window.cpp: numbers, explanations, baseline, markers
// The orb's feedback colour for the current coherence: 0 = low .. 1 = high, or <0 when off/unknown.
float FeedbackLevel(const AppState& app);
const char* MarkerText(int index);  // marker hotkeys 1-4
// Sessions (journal_window.cpp, history_window.cpp, timeline_view.cpp).
void RequestStart(AppState& app, double now_s);   // asks the distress rating first, then starts
void OnSessionStarted(AppState& app);              // applies the pending "before" rating
void UpdateSessionUi(AppState& app, double now_s); // each frame: --recovery-at, "after" popup
void FinishRunJournal(AppState& app);              // end of the run: --rating-after / --note
void DrawJournal(AppState& app, double now_s);     // the ratings/note popups
void DrawHistory(AppState& app, double now_s);     // past sessions, trends, delete, export
void DrawTimeline(AppState& app, double now_s);    // baseline -> practice -> recovery, markers

// The orb sprite (orb_texture.cpp): RGBA pixels of a white soft disc whose solid core has
// radius 1 / kOrbSpriteExtent of the image's half-width; the rest is glow.
inline constexpr float kOrbSpriteExtent = 1.5f;
std::vector<unsigned char> MakeOrbPixels(int size_px);

// Theme and fonts (theme.cpp).
void ApplyTheme(float dpi_scale);
Fonts LoadFonts(float dpi_scale, float text_scale);

}  // namespace attune::ui
