// The application's state, owned by main() and passed by reference to each window's Draw
// function (windows keep no function-local statics). Only the main thread touches it and ImGui.
#pragma once

#include <filesystem>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "imgui.h"

#include "attune/core/live_session.hpp"
#include "attune/core/pattern.hpp"
#include "attune/core/program.hpp"
#include "attune/core/resonance.hpp"
#include "attune/core/settings.hpp"
#include "attune/core/sources.hpp"
#include "attune/devices/simulated_heart.hpp"
#include "ui/session_ui.hpp"

struct ImFont;

namespace attune::ui {

class AudioOutput;  // audio_output.cpp

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

    // Guided programs (program_window.cpp): loaded from assets/programs and <config>/programs;
    // program_index >= 0 makes the next session run that program instead of the pattern.
    std::vector<core::Program> programs;
    std::vector<std::filesystem::path> program_dirs;
    int program_index = -1;
    int rating_value = 5;                 // the rating step's slider
    int rating_saved_step = -1;           // the rating step already answered
    bool assessment_saved = false;        // this session's result is in the profile
    bool show_assessment = false;         // the assessment window (assessment_window.cpp)
    std::vector<core::AssessmentResult> assessment_history;  // the profile's earlier results

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
    // Ring sprite of a given size, line width and colour (ImGui's packed RGBA), already tinted so
    // that it is drawn untinted (white): SDL's software renderer blends an untinted texture ~10x
    // faster than a colour-modulated one. An ImTextureID cached by the renderer's owner; null
    // when there is none, and the pacer view then draws an ImGui circle.
    std::function<void*(int size_px, float thickness_px, std::uint32_t rgba)> ring_sprite;
    // Software renderer only: draws the orb sprite (half width half_px, tint as ImGui's packed
    // RGBA) pre-scaled and pre-tinted (SoftwareOrb in app_main.hpp); false when it cannot.
    std::function<bool(ImDrawList* dl, ImVec2 center, float half_px, std::uint32_t tint)> draw_orb;
    float dpi_scale = 1.0f;
    // Corner rounding factor for panels and frames: 1 on an accelerated renderer, 0 on SDL's
    // software renderer, which fills a rounded panel triangle by triangle over its whole
    // bounding box (a 880x150 rounded panel cost ~2 ms a frame there, a square one ~0.05 ms).
    float rounding = 1.0f;
    bool pixel_fonts = false;  // see LoadFonts

    // Sound (audio_output.cpp) and accessibility (theme.cpp): dpi_scale above already includes
    // settings.text_scale; the theme and fonts are rebuilt when these differ from the settings.
    std::shared_ptr<AudioOutput> audio;
    bool audio_failed = false;
    bool sound_cli = false;  // --sound given: headless runs open the audio device only then
    float base_dpi_scale = 1.0f;
    float applied_text_scale = 0.0f;
    std::string applied_theme;
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
// Pixels (R, G, B, A bytes) of a ring thickness_px wide whose outer edge lies 1 px inside a
// size_px square, in colour rgba (ImGui's packed IM_COL32, alpha scaled by coverage): the
// pacer's full-breath guide, drawn as one sprite because SDL's software renderer draws the 128
// thin quads of an ImGui circle outline slowly (~2 ms a frame).
std::vector<unsigned char> MakeRingPixels(int size_px, float thickness_px, std::uint32_t rgba);

// Guided programs (program_window.cpp) and the resonance assessment (assessment_window.cpp).
int SetUpPrograms(AppState& app, const std::string& program_name);  // loads; 0, or 2 for an unknown name
void AttachSelectedProgram(AppState& app);            // StartSession: before the session starts
void DrawProgramSection(AppState& app, double now_s);  // inside the controls panel
void DrawProgramOverlay(AppState& app);               // step, prompt and rating over the pacer
void ProgramTick(AppState& app);                      // each frame: keeps a finished assessment
bool ProgramFinished(const AppState& app);
std::optional<double> ProgramEndSessionS(const AppState& app);  // session time the program ends, once known
std::optional<double> ProgramNextDecisionSessionS(const AppState& app);  // next step / round the program decides
void DrawAssessment(AppState& app);
void AddProgramJson(const AppState& app, nlohmann::json& j);  // headless --json: program, assessment

// Theme and fonts (theme.cpp).
void ApplyTheme(float dpi_scale, float rounding = 1.0f);
// pixel_fonts: glyphs rasterised 1:1 and snapped to whole pixels (software renderer: each glyph
// is then an unscaled copy, ~3 % less frame CPU); otherwise 3x horizontal oversampling.
Fonts LoadFonts(float dpi_scale, float text_scale, bool pixel_fonts);
// Re-applies theme, sizes and fonts (a rebuilt atlas, crisp at any text scale) when the theme or
// text scale settings changed; call before the frame's NewFrame.
void UpdateThemeAndFonts(AppState& app);
// The Sound and Accessibility sections of the controls panel (sound_access_panel.cpp).
void DrawSoundAccessControls(AppState& app);
// Reduced motion: a rising and falling bar for the lung volume instead of the orb (breath_bar.cpp).
void DrawBreathBar(const AppState& app, float cx, float cy, float max_half_h, float volume, unsigned int colour);

}  // namespace attune::ui
