// The controls panel's Sound and Accessibility sections. Every change is saved to the settings
// file at once; the audio device and the theme/fonts pick the settings up on the next frame.
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

namespace {

void Save(AppState& app) {
    if (std::string e = core::SaveSettings(app.config_dir, app.settings); !e.empty()) app.messages.push_back(e);
}

}  // namespace

void DrawSoundAccessControls(AppState& app) {
    core::SoundParams& sp = app.settings.sound;
    if (ImGui::CollapsingHeader("Sound")) {
        const char* modes[] = {"Off", "Tones at each phase change", "Tone that rises and falls"};
        int mode = static_cast<int>(sp.mode);
        ImGui::SetNextItemWidth(-1);
        if (ImGui::Combo("##sound_mode", &mode, modes, 3)) {
            sp.mode = static_cast<core::SoundMode>(mode);
            Save(app);
        }
        if (ImGui::IsItemHovered())
            ImGui::SetTooltip("Tones: rising notes for in, falling lower notes for out, one soft note for holds.\n"
                              "Tone: its pitch glides up as you breathe in and down as you breathe out.");
        float vol = static_cast<float>(sp.volume * 100.0);
        ImGui::SetNextItemWidth(-90.0f * app.dpi_scale);
        if (ImGui::SliderFloat("Volume", &vol, 0.0f, 100.0f, "%.0f %%")) sp.volume = vol / 100.0f;
        if (ImGui::IsItemDeactivatedAfterEdit()) Save(app);
        if (ImGui::Checkbox("Mute", &sp.muted)) Save(app);
        if (sp.mode == core::SoundMode::Continuous) {
            ImGui::SameLine();
            if (ImGui::Checkbox("Warmth follows coherence", &sp.warmth_follows_coherence)) Save(app);
            if (!sp.warmth_follows_coherence) {
                float w = static_cast<float>(sp.warmth * 100.0);
                ImGui::SetNextItemWidth(-90.0f * app.dpi_scale);
                if (ImGui::SliderFloat("Warmth", &w, 0.0f, 100.0f, "%.0f %%")) sp.warmth = w / 100.0f;
                if (ImGui::IsItemDeactivatedAfterEdit()) Save(app);
            }
        }
        if (app.audio_failed) ImGui::TextDisabled("No audio device: see the messages below.");
    }
    if (ImGui::CollapsingHeader("Accessibility")) {
        const char* themes[] = {"Dark", "High contrast"};
        int theme = app.settings.theme == "high-contrast" ? 1 : 0;
        ImGui::SetNextItemWidth(-90.0f * app.dpi_scale);
        if (ImGui::Combo("Theme", &theme, themes, 2)) {
            app.settings.theme = theme == 1 ? "high-contrast" : "dark";
            Save(app);
        }
        // Fixed steps: each change rebuilds the font atlas (crisp text at the new size).
        const float scales[] = {0.85f, 1.0f, 1.25f, 1.5f, 1.75f, 2.0f};
        const char* labels[] = {"85 %", "100 %", "125 %", "150 %", "175 %", "200 %"};
        int current = 1;
        for (int i = 0; i < 6; ++i)
            if (std::abs(scales[i] - app.settings.text_scale) < 0.01f) current = i;
        ImGui::SetNextItemWidth(-90.0f * app.dpi_scale);
        if (ImGui::Combo("Text size", &current, labels, 6)) {
            app.settings.text_scale = scales[current];
            Save(app);
        }
        if (ImGui::Checkbox("Reduced motion (a bar, no orb)", &app.settings.reduced_motion)) Save(app);
    }
}

}  // namespace attune::ui
