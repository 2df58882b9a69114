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

}  // namespace attune::ui
