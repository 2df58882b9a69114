#include "ui/plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ui/palette.hpp"

namespace attune::ui {

double NiceStep(double range, int target) {
    if (!(range > 0.0)) return 1.0;
    const double raw = range / std::max(1, target);
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (raw <= m * mag) return m * mag;
    return 10.0 * mag;
}

float PanelRounding(float radius_px) {
    // The theme scales ChildRounding with the renderer's rounding factor (0: square corners).
    return ImGui::GetStyle().ChildRounding > 0.0f ? radius_px : 0.0f;
}

PlotFrame BeginPlot(ImDrawList* dl, ImFont* font, float s, ImVec2 pos, ImVec2 size, const char* title, double x0,
                    double x1, double y0, double y1, const char* x_fmt, const char* y_fmt, const char* x_unit,
                    const char* y_unit) {
    PlotFrame f;
    f.font = font;
    f.scale = s;
    f.outer_min = pos;
    f.outer_max = ImVec2(pos.x + size.x, pos.y + size.y);
    f.x0 = x0;
    f.x1 = x1 > x0 ? x1 : x0 + 1.0;
    f.y0 = y0;
    f.y1 = y1 > y0 ? y1 : y0 + 1.0;
    const float fs = font->FontSize;
    f.a = ImVec2(pos.x + 48 * s, pos.y + fs + 10 * s);
    f.b = ImVec2(pos.x + size.x - 10 * s, pos.y + size.y - fs - 10 * s);
    // Colours from the ImGui style, which the theme sets (dark or high contrast).
    const ImGuiStyle& style = ImGui::GetStyle();
    const bool bordered = style.WindowBorderSize > 0.0f;  // high contrast
    // Dark theme: the panel colour at 92 % over the background, premixed to an opaque fill.
    const core::PaletteColors& dark = core::ThemePalette(core::Theme::Dark);
    const ImU32 panel = bordered ? ImGui::GetColorU32(ImGuiCol_ChildBg) : ColOver(dark.panel, 235.0f / 255.0f, dark.background);
    dl->AddRectFilled(f.outer_min, f.outer_max, panel, PanelRounding(8 * s));
    if (bordered) dl->AddRect(f.outer_min, f.outer_max, ImGui::GetColorU32(ImGuiCol_Separator), PanelRounding(8 * s));
    const ImU32 axis = bordered ? ImGui::GetColorU32(ImGuiCol_Text) : IM_COL32(125, 140, 155, 255);
    char caption[96];
    std::snprintf(caption, sizeof caption, "%s (%s)", title, y_unit);
    dl->AddText(font, fs, ImVec2(pos.x + 8 * s, pos.y + 4 * s), axis, caption);

    char label[32];
    const double ystep = NiceStep(f.y1 - f.y0, 3);
    for (double v = std::ceil(f.y0 / ystep) * ystep; v <= f.y1 + 1e-9; v += ystep) {
        const float yy = f.Y(v);
        dl->AddLine(ImVec2(f.a.x, yy), ImVec2(f.b.x, yy), bordered ? ImGui::GetColorU32(ImGuiCol_Separator, 0.5f) : IM_COL32(60, 72, 90, 80), 1.0f);
        // Large values (a spectrum in ms2/Hz reaches 10^5-10^6) as 200k / 1.5M: the gutter holds
        // about five digits.
        if (std::abs(v) >= 1e6)
            std::snprintf(label, sizeof label, "%gM", v / 1e6);
        else if (std::abs(v) >= 1e4)
            std::snprintf(label, sizeof label, "%gk", v / 1e3);
        else
            std::snprintf(label, sizeof label, y_fmt, v);
        const ImVec2 ts = font->CalcTextSizeA(fs, 1e9f, 0.0f, label);
        dl->AddText(font, fs, ImVec2(f.a.x - ts.x - 5 * s, yy - ts.y * 0.5f), axis, label);
    }
    const double xstep = NiceStep(f.x1 - f.x0, 4);
    for (double v = std::ceil(f.x0 / xstep) * xstep; v <= f.x1 + 1e-9; v += xstep) {
        const float xx = f.X(v);
        dl->AddLine(ImVec2(xx, f.b.y), ImVec2(xx, f.b.y + 3 * s), axis, 1.0f);
        std::snprintf(label, sizeof label, x_fmt, v);
        const ImVec2 ts = font->CalcTextSizeA(fs, 1e9f, 0.0f, label);
        dl->AddText(font, fs, ImVec2(xx - ts.x * 0.5f, f.b.y + 4 * s), axis, label);
    }
    const ImVec2 us = font->CalcTextSizeA(fs, 1e9f, 0.0f, x_unit);
    dl->AddText(font, fs, ImVec2(f.b.x - us.x, pos.y + 4 * s), ImGui::GetColorU32(ImGuiCol_TextDisabled), x_unit);
    dl->AddLine(ImVec2(f.a.x, f.b.y), ImVec2(f.b.x, f.b.y), axis, 1.0f);
    dl->PushClipRect(f.a, ImVec2(f.b.x + 1, f.b.y + 1), true);
    return f;
}

void EndPlot(ImDrawList* dl) { dl->PopClipRect(); }

void PlotMessage(ImDrawList* dl, const PlotFrame& f, const char* text) {
    const ImVec2 ts = f.font->CalcTextSizeA(f.font->FontSize, 1e9f, 0.0f, text);
    dl->AddText(f.font, f.font->FontSize, ImVec2(0.5f * (f.a.x + f.b.x - ts.x), 0.5f * (f.a.y + f.b.y - ts.y)),
                ImGui::GetColorU32(ImGuiCol_TextDisabled), text);
}

}  // namespace attune::ui
