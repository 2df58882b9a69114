// The current theme's colours (core/palette.hpp) as ImGui colours.
#pragma once

#include "attune/core/palette.hpp"
#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

inline const core::PaletteColors& Pal(const AppState& app) {
    return core::ThemePalette(core::ParseTheme(app.settings.theme).value_or(core::Theme::Dark));
}
inline bool HighContrast(const AppState& app) { return app.settings.theme == "high-contrast"; }

inline ImVec4 Vec(core::Rgb c, float alpha = 1.0f) {
    return ImVec4(static_cast<float>(c.r), static_cast<float>(c.g), static_cast<float>(c.b), alpha);
}
inline ImU32 Col(core::Rgb c, float alpha = 1.0f) { return ImGui::ColorConvertFloat4ToU32(Vec(c, alpha)); }
// c at the given opacity over an opaque colour `under`, as the opaque colour it shows there.
// For panels drawn straight on the pacer's background (the renderer's clear colour): the same
// picture, and SDL's software renderer fills an opaque rectangle ~20x faster than a blended one.
inline ImU32 ColOver(core::Rgb c, float alpha, core::Rgb under) {
    auto mix = [alpha](double a, double b) { return static_cast<float>(a * alpha + b * (1.0 - alpha)); };
    return ImGui::ColorConvertFloat4ToU32(ImVec4(mix(c.r, under.r), mix(c.g, under.g), mix(c.b, under.b), 1.0f));
}

}  // namespace attune::ui
