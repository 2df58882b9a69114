// Minimal plotting on ImGui draw lists (ImPlot is not packaged in Debian): a framed panel with a
// title, linear axes with "nice" ticks and unit labels, and helpers to map data to pixels.
#pragma once

#include <string>

#include "imgui.h"

namespace attune::ui {

struct PlotFrame {
    ImVec2 outer_min, outer_max;  // the panel
    ImVec2 a, b;                  // plot area: a = top-left, b = bottom-right
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    float scale = 1.0f;
    ImFont* font = nullptr;

    float X(double x) const { return static_cast<float>(a.x + (x - x0) / (x1 - x0) * (b.x - a.x)); }
    float Y(double y) const { return static_cast<float>(b.y - (y - y0) / (y1 - y0) * (b.y - a.y)); }
};

// A panel's corner radius: radius_px, or 0 when the theme draws square corners (software
// renderer, see AppState::rounding).
float PanelRounding(float radius_px);

// Draws the panel, title, grid, ticks and axis labels; returns the frame for plotting.
// x_fmt / y_fmt are printf formats for tick labels (e.g. "%.0f"); x_unit / y_unit are appended
// to the axis captions.
PlotFrame BeginPlot(ImDrawList* dl, ImFont* font, float scale, ImVec2 pos, ImVec2 size, const char* title,
                    double x0, double x1, double y0, double y1, const char* x_fmt, const char* y_fmt,
                    const char* x_unit, const char* y_unit);
void EndPlot(ImDrawList* dl);

// A "nice" tick step (1, 2, 5 x 10^k) giving about `target` ticks over `range`.
double NiceStep(double range, int target);

// Text explaining why a plot is empty, centred in the plot area.
void PlotMessage(ImDrawList* dl, const PlotFrame& f, const char* text);

}  // namespace attune::ui
