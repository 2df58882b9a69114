// The calm pacer view: a soft orb that grows on inhale and shrinks on exhale, the phase word
// with a countdown, the rate and the time left, and the heart-rate trace over the breathing
// curve underneath. Everything is drawn from the session's state; nothing here keeps time.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "ui/plot.hpp"
#include "ui/app_state.hpp"
#include "ui/palette.hpp"

namespace attune::ui {

namespace {

ImU32 Mix(ImVec4 a, ImVec4 b, float t, float alpha) {
    t = std::clamp(t, 0.0f, 1.0f);
    return ImGui::GetColorU32(ImVec4(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.z + (b.z - a.z) * t, alpha));
}

void CenteredText(ImDrawList* dl, ImFont* font, float size, ImVec2 center, ImU32 col, const char* text, bool outline = false) {
    const ImVec2 sz = font->CalcTextSizeA(size, 1e9f, 0.0f, text);
    if (outline)  // high contrast: a black rim keeps white words readable over the bright orb
        for (float dx : {-2.0f, 0.0f, 2.0f})
            for (float dy : {-2.0f, 0.0f, 2.0f})
                dl->AddText(font, size, ImVec2(center.x - sz.x * 0.5f + dx, center.y - sz.y * 0.5f + dy), IM_COL32(0, 0, 0, 255), text);
    dl->AddText(font, size, ImVec2(center.x - sz.x * 0.5f, center.y - sz.y * 0.5f), col, text);
}

void FormatClock(char* buf, std::size_t n, double seconds) {
    const int s = static_cast<int>(std::ceil(std::max(0.0, seconds)));
    std::snprintf(buf, n, "%d:%02d", s / 60, s % 60);
}

}  // namespace

void DrawPacerView(AppState& app, double /*now_s*/) {
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float panel_w = app.show_controls ? 360.0f * app.dpi_scale : 0.0f;
    ImGui::SetNextWindowPos(vp->WorkPos);
    ImGui::SetNextWindowSize(ImVec2(vp->WorkSize.x - panel_w, vp->WorkSize.y));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowPadding, ImVec2(0, 0));
    ImGui::SetNextWindowBgAlpha(0.0f);  // the gradient below is the background
    ImGui::Begin("##pacer", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus);
    ImGui::PopStyleVar();

    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetWindowPos();
    const ImVec2 size = ImGui::GetWindowSize();
    const float s = app.dpi_scale;

    // The background is the renderer's clear colour (a full-screen gradient costs ~5 ms a
    // frame in the software renderer of headless runs).

    const core::LiveSession* session = app.session.get();
    const bool running = session && session->running();
    core::PacerState st = running ? session->pacer_state() : core::Pacer(app.pattern).At(0.0);

    // --- top line: pattern, rate, time left, source ------------------------------------------
    const core::PaletteColors& pal = Pal(app);
    const ImU32 dim = Col(pal.text_dim);
    char line[160];
    const core::BreathPattern& pattern = running ? session->pacer().pattern() : app.pattern;
    dl->AddText(app.fonts.body, app.fonts.body->FontSize, ImVec2(p0.x + 20 * s, p0.y + 16 * s), dim, pattern.name.c_str());
    if (pattern.paced && (!running || st.paced)) {  // not in the recovery phase
        const double rate = running ? st.rate_bpm : pattern.BaseRateBpm();
        std::snprintf(line, sizeof line, "%.1f breaths/min", rate);
        CenteredText(dl, app.fonts.body, app.fonts.body->FontSize, ImVec2(p0.x + size.x * 0.5f, p0.y + 26 * s), dim, line);
    }
    char clock[32];
    FormatClock(clock, sizeof clock, running ? st.remaining_s : pattern.length_s);
    std::snprintf(line, sizeof line, "%s left", clock);
    const ImVec2 tsz = app.fonts.body->CalcTextSizeA(app.fonts.body->FontSize, 1e9f, 0.0f, line);
    dl->AddText(app.fonts.body, app.fonts.body->FontSize, ImVec2(p0.x + size.x - tsz.x - 20 * s, p0.y + 16 * s), dim, line);
    if (session && session->source().IsSimulated()) {
        const char* badge = "simulated heart";
        const ImVec2 bsz = app.fonts.small->CalcTextSizeA(app.fonts.small->FontSize, 1e9f, 0.0f, badge);
        const ImVec2 b0(p0.x + 20 * s, p0.y + 44 * s);
        dl->AddRectFilled(b0, ImVec2(b0.x + bsz.x + 16 * s, b0.y + bsz.y + 6 * s), HighContrast(app) ? Col(pal.frame) : IM_COL32(40, 60, 80, 200), PanelRounding(8 * s));
        dl->AddText(app.fonts.small, app.fonts.small->FontSize, ImVec2(b0.x + 8 * s, b0.y + 3 * s), Col(pal.text), badge);
    }

    // --- the orb ------------------------------------------------------------------------------
    // Client view: the orb alone. Practitioner view: orb, heart-rate trace and the signal grid.
    const bool client = app.view == AppState::View::Client;
    const float signals_h = client ? 0.0f : std::max(220.0f * s, size.y * 0.36f);
    const float trace_h = (!client && app.settings.show_heart_trace) ? std::max(130.0f * s, size.y * 0.2f) : 0.0f;
    const float orb_area_h = size.y - trace_h - signals_h - 70 * s;
    const ImVec2 center(p0.x + size.x * 0.5f, p0.y + 70 * s + orb_area_h * 0.5f);
    const float r_max = std::max(20.0f, std::min(size.x * 0.42f, orb_area_h * 0.5f) * 0.92f);
    const float r_min = r_max * 0.38f;
    const float vol = static_cast<float>(std::clamp(st.volume, 0.0, 1.0));
    const float r = r_min + (r_max - r_min) * vol;

    ImVec4 exhale_col = Vec(pal.orb_exhale);  // deep blue when empty
    ImVec4 inhale_col = Vec(pal.orb_inhale);  // soft teal when full
    // Biofeedback: with coherence rising the orb warms from cool blue towards a soft gold
    // (a blue-orange axis stays distinguishable with the common colour-vision deficiencies).
    const float level = FeedbackLevel(app);
    if (level >= 0.0f) {
        const ImVec4 cool = Vec(pal.orb_cool), warm = Vec(pal.orb_warm);
        auto lerp = [](ImVec4 a, ImVec4 b, float t) {
            return ImVec4(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t, a.z + (b.z - a.z) * t, 1.0f);
        };
        inhale_col = lerp(lerp(cool, ImVec4(1, 1, 1, 1), 0.15f), warm, level);
        exhale_col = lerp(cool, lerp(warm, ImVec4(0, 0, 0, 1), 0.08f), level);
    }
    // The orb is one pre-rendered soft sprite (core plus glow, see orb_texture.cpp) tinted and
    // scaled: a single quad, smooth at any size, cheap for software renderers too.
    const float sprite_r = r * kOrbSpriteExtent;
    ImVec2 word_center = center;
    if (app.settings.reduced_motion) {
        // Reduced motion: a bar left of centre, the words to its right; no sprite, no glow.
        DrawBreathBar(app, center.x - r_max * 0.5f, center.y, r_max * 0.9f, vol, Mix(exhale_col, inhale_col, vol, 1.0f));
        word_center.x = center.x + r_max * 0.45f;
    } else if (app.draw_orb && app.draw_orb(dl, center, sprite_r, Mix(exhale_col, inhale_col, vol, 0.95f))) {
        // drawn pre-scaled and pre-tinted (software renderer)
    } else if (app.orb_texture)
        dl->AddImage(app.orb_texture, ImVec2(center.x - sprite_r, center.y - sprite_r),
                     ImVec2(center.x + sprite_r, center.y + sprite_r), ImVec2(0, 0), ImVec2(1, 1),
                     Mix(exhale_col, inhale_col, vol, 0.95f));
    else
        dl->AddCircleFilled(center, r, Mix(exhale_col, inhale_col, vol, 0.85f), 128);
    if (!app.settings.reduced_motion) {  // the full-breath guide
        const ImU32 ring_col = HighContrast(app) ? Col(pal.axis, 0.6f) : IM_COL32(120, 150, 180, 40);
        const float ring_w = 1.5f * s;
        const int ring_px = 2 * static_cast<int>(std::ceil(r_max + 0.5f * ring_w)) + 2;
        void* ring = app.ring_sprite ? app.ring_sprite(ring_px, ring_w, ring_col) : nullptr;
        const float h = 0.5f * static_cast<float>(ring_px);
        const ImVec2 c(std::round(center.x), std::round(center.y));
        if (ring)
            dl->AddImage(ring, ImVec2(c.x - h, c.y - h), ImVec2(c.x + h, c.y + h), ImVec2(0, 0), ImVec2(1, 1), IM_COL32_WHITE);
        else
            dl->AddCircle(center, r_max, ring_col, 128, ring_w);
    }

    // --- phase word and countdown ------------------------------------------------------------
    const ImU32 word_col = Col(pal.phase_word);
    if (!running) {
        CenteredText(dl, app.fonts.large, app.fonts.large->FontSize, word_center, word_col, "Ready");
        CenteredText(dl, app.fonts.body, app.fonts.body->FontSize, ImVec2(word_center.x, center.y + 42 * s), word_col,
                     "press Space to begin");
    } else if (st.finished) {
        CenteredText(dl, app.fonts.large, app.fonts.large->FontSize, word_center, word_col, "Well done");
    } else {
        const char* word = session->paused() ? "Paused" : core::PhaseName(st.phase);
        CenteredText(dl, app.fonts.large, app.fonts.large->FontSize, word_center, word_col, word, HighContrast(app));
        if (st.paced && !session->paused()) {
            std::snprintf(line, sizeof line, "%d", static_cast<int>(std::ceil(st.phase_remaining_s - 1e-6)));
            CenteredText(dl, app.fonts.body, app.fonts.body->FontSize * 1.3f, ImVec2(word_center.x, center.y + 44 * s), word_col, line,
                         HighContrast(app));
        }
    }

    if (trace_h > 0.0f)
        DrawHeartTrace(app, p0.x + 20 * s, p0.y + size.y - signals_h - trace_h - 10 * s, size.x - 40 * s, trace_h - 6 * s);
    if (signals_h > 0.0f)
        DrawSignals(app, p0.x + 20 * s, p0.y + size.y - signals_h - 4 * s, size.x - 40 * s, signals_h - 6 * s);

    ImGui::End();
}

}  // namespace attune::ui
