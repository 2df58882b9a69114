// Reduced motion: the lung volume as a bar that rises on the inhale and falls on the exhale, with
// tick marks for empty, half and full. No sprite, no glow, no pulsing: only the fill level moves,
// slowly, with the pacer's eased volume.
#include <algorithm>

#include "imgui.h"
#include "ui/plot.hpp"
#include "ui/app_state.hpp"
#include "ui/palette.hpp"

namespace attune::ui {

void DrawBreathBar(const AppState& app, float cx, float cy, float max_half_h, float volume, unsigned int colour) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float s = app.dpi_scale;
    const core::PaletteColors& p = Pal(app);
    const float half_w = std::max(18.0f * s, max_half_h * 0.16f);
    const ImVec2 a(cx - half_w, cy - max_half_h), b(cx + half_w, cy + max_half_h);
    const float rounding = PanelRounding(8.0f * s);
    dl->AddRectFilled(a, b, Col(p.panel, 1.0f), rounding);
    const float v = std::clamp(volume, 0.0f, 1.0f);
    const float top = b.y - (b.y - a.y) * (0.04f + 0.96f * v);
    dl->AddRectFilled(ImVec2(a.x, top), b, colour, rounding);
    const float frame_w = (HighContrast(app) ? 3.0f : 2.0f) * s;
    dl->AddRect(a, b, Col(p.axis, 0.9f), rounding, 0, frame_w);
    // Ticks at empty, half and full lungs on both sides.
    for (float f : {0.0f, 0.5f, 1.0f}) {
        const float y = b.y - (b.y - a.y) * (0.04f + 0.96f * f);
        dl->AddLine(ImVec2(a.x - 12 * s, y), ImVec2(a.x - 3 * s, y), Col(p.axis), 2.0f * s);
        dl->AddLine(ImVec2(b.x + 3 * s, y), ImVec2(b.x + 12 * s, y), Col(p.axis), 2.0f * s);
    }
}

}  // namespace attune::ui
