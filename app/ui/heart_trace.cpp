// Beat-to-beat heart rate drawn over the pacer's breathing curve (the last 60 s), so the rise
// of heart rate on inhale and its fall on exhale are visible. Drawn with ImGui draw lists
// (ImPlot is not packaged in Debian): time axis in seconds, heart-rate axis in bpm.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "ui/plot.hpp"
#include "ui/app_state.hpp"
#include "ui/palette.hpp"

namespace attune::ui {

namespace {
constexpr double kSpanS = 60.0;

}  // namespace

void DrawHeartTrace(const AppState& app, float x, float y, float w, float h) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float s = app.dpi_scale;
    const float left = 56 * s, bottom = 26 * s, top = 22 * s;
    const ImVec2 a(x + left, y + top), b(x + w - 10 * s, y + h - bottom);
    const core::PaletteColors& pal = Pal(app);
    dl->AddRectFilled(ImVec2(x, y), ImVec2(x + w, y + h), ColOver(pal.panel, 0.9f, pal.background), PanelRounding(10 * s));
    if (HighContrast(app)) dl->AddRect(ImVec2(x, y), ImVec2(x + w, y + h), Col(pal.grid), PanelRounding(10 * s));
    ImFont* font = app.fonts.small;
    const float fs = font->FontSize;
    const ImU32 axis_col = Col(pal.axis);
    dl->AddText(font, fs, ImVec2(x + 10 * s, y + 4 * s), axis_col, "Heart rate (bpm) over breathing");

    const core::LiveSession* session = app.session.get();
    const double t_now = session ? session->session_time_s() : 0.0;
    const double t0 = t_now - kSpanS;
    auto X = [&](double t) { return static_cast<float>(a.x + (t - t0) / kSpanS * (b.x - a.x)); };

    // Heart-rate range from the visible beats, padded, at least 20 bpm tall.
    double lo = 1e9, hi = -1e9;
    if (session)
        for (const auto& beat : session->recent_beats())
            if (beat.accepted && beat.t_s >= t0) { lo = std::min(lo, beat.hr_bpm); hi = std::max(hi, beat.hr_bpm); }
    if (lo > hi) { lo = 55; hi = 80; }
    const double mid = 0.5 * (lo + hi);
    const double half = std::max(10.0, 0.5 * (hi - lo) * 1.15);
    lo = mid - half;
    hi = mid + half;
    auto Y = [&](double bpm) { return static_cast<float>(b.y - (bpm - lo) / (hi - lo) * (b.y - a.y)); };

    // Axes and ticks.
    char label[32];
    const double ystep = NiceStep(hi - lo, 4);
    for (double v = std::ceil(lo / ystep) * ystep; v <= hi; v += ystep) {
        const float yy = Y(v);
        dl->AddLine(ImVec2(a.x, yy), ImVec2(b.x, yy), Col(pal.grid, 0.35f), 1.0f);
        std::snprintf(label, sizeof label, "%.0f", v);
        const ImVec2 ts = font->CalcTextSizeA(fs, 1e9f, 0.0f, label);
        dl->AddText(font, fs, ImVec2(a.x - ts.x - 6 * s, yy - ts.y * 0.5f), axis_col, label);
    }
    for (int sec = 0; sec <= static_cast<int>(kSpanS); sec += 10) {
        const float xx = X(t_now - sec);
        dl->AddLine(ImVec2(xx, b.y), ImVec2(xx, b.y + 4 * s), axis_col, 1.0f);
        if (sec == 0) std::snprintf(label, sizeof label, "now");
        else std::snprintf(label, sizeof label, "-%d s", sec);
        const ImVec2 ts = font->CalcTextSizeA(fs, 1e9f, 0.0f, label);
        dl->AddText(font, fs, ImVec2(xx - ts.x * 0.5f, b.y + 5 * s), axis_col, label);
    }
    dl->AddLine(ImVec2(a.x, b.y), ImVec2(b.x, b.y), axis_col, 1.0f);

    if (!session) return;
    dl->PushClipRect(a, b, true);
    // Breathing curve: a soft filled band (lung volume 0..1 scaled to the plot height).
    const auto& vol = session->recent_volume();
    if (session->pacer().pattern().paced && vol.size() > 1) {
        const ImU32 fill = Col(pal.breath, HighContrast(app) ? 0.30f : 0.18f);
        const ImU32 edge = Col(pal.breath, HighContrast(app) ? 0.9f : 0.45f);
        // Adjacent quads without anti-aliased fringes, so their shared edges leave no seams.
        const ImDrawListFlags saved = dl->Flags;
        dl->Flags &= ~ImDrawListFlags_AntiAliasedFill;
        ImVec2 prev(0, 0);
        bool have_prev = false;
        for (const auto& v : vol) {
            if (v.t_s < t0 - 0.1) continue;
            const ImVec2 p(X(v.t_s), b.y - static_cast<float>(v.value) * (b.y - a.y) * 0.9f);
            if (have_prev) dl->AddQuadFilled(ImVec2(prev.x, b.y), prev, p, ImVec2(p.x, b.y), fill);
            prev = p;
            have_prev = true;
        }
        dl->Flags = saved;
        have_prev = false;
        for (const auto& v : vol) {
            if (v.t_s < t0 - 0.1) continue;
            const ImVec2 p(X(v.t_s), b.y - static_cast<float>(v.value) * (b.y - a.y) * 0.9f);
            if (have_prev) dl->AddLine(prev, p, edge, 1.5f * s);
            prev = p;
            have_prev = true;
        }
    }
    // Heart rate: a line through beat-to-beat rates, with a dot per beat.
    const ImU32 hr_col = Col(pal.heart);
    ImVec2 prev(0, 0);
    bool have_prev = false;
    for (const auto& beat : session->recent_beats()) {
        if (!beat.accepted) { have_prev = false; continue; }
        if (beat.t_s < t0 - 2.0) continue;
        const ImVec2 p(X(beat.t_s), Y(beat.hr_bpm));
        if (have_prev) dl->AddLine(prev, p, hr_col, 2.0f * s);
        dl->AddCircleFilled(p, 2.5f * s, hr_col, 12);
        prev = p;
        have_prev = true;
    }
    dl->PopClipRect();
    if (session->last_hr_bpm() > 0.0) {
        std::snprintf(label, sizeof label, "%.0f bpm", session->last_hr_bpm());
        const ImVec2 ts = font->CalcTextSizeA(fs * 1.2f, 1e9f, 0.0f, label);
        dl->AddText(font, fs * 1.2f, ImVec2(b.x - ts.x, y + 3 * s), hr_col, label);
    }
}

}  // namespace attune::ui
