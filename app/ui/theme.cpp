// Calm, dark theme (or high contrast) and fonts. DejaVu Sans (Debian's fonts-dejavu-core) when
// present, otherwise ImGui's built-in font scaled up. Text scaling rebuilds the font atlas at the
// new pixel size (crisp, no bitmap stretching) and scales the layout with it.
#include <filesystem>

#include "imgui.h"
#include "imgui_impl_sdlrenderer.h"
#include "ui/app_state.hpp"
#include "ui/palette.hpp"

namespace attune::ui {

namespace {

void ApplyHighContrast(const core::PaletteColors& p) {
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowBorderSize = 1.0f;
    style.FrameBorderSize = 1.0f;
    ImVec4* c = style.Colors;
    c[ImGuiCol_WindowBg] = Vec(p.background);
    c[ImGuiCol_ChildBg] = Vec(p.panel);
    c[ImGuiCol_PopupBg] = Vec(p.panel);
    c[ImGuiCol_Border] = ImVec4(0.85f, 0.85f, 0.85f, 1.0f);
    c[ImGuiCol_FrameBg] = Vec(p.frame);
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.25f, 0.25f, 0.25f, 1.0f);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.32f, 0.32f, 0.32f, 1.0f);
    c[ImGuiCol_Button] = ImVec4(0.0f, 0.30f, 0.60f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.0f, 0.38f, 0.75f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.0f, 0.45f, 0.85f, 1.0f);
    c[ImGuiCol_Header] = ImVec4(0.0f, 0.30f, 0.60f, 1.0f);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.0f, 0.38f, 0.75f, 1.0f);
    c[ImGuiCol_HeaderActive] = ImVec4(0.0f, 0.45f, 0.85f, 1.0f);
    c[ImGuiCol_SliderGrab] = Vec(p.peak);
    c[ImGuiCol_SliderGrabActive] = Vec(p.peak);
    c[ImGuiCol_CheckMark] = Vec(p.peak);
    c[ImGuiCol_Text] = Vec(p.text);
    c[ImGuiCol_TextDisabled] = Vec(p.text_dim);
    c[ImGuiCol_Separator] = Vec(p.grid);
    c[ImGuiCol_TitleBg] = ImVec4(0.12f, 0.12f, 0.12f, 1.0f);
    c[ImGuiCol_TitleBgActive] = ImVec4(0.18f, 0.18f, 0.18f, 1.0f);
    c[ImGuiCol_PlotHistogram] = Vec(p.metric);
}

}  // namespace

void ApplyTheme(float dpi_scale, float rounding) {
    ImGui::GetStyle() = ImGuiStyle();  // sizes are scaled from the defaults, never compounded
    ImGui::StyleColorsDark();
    ImGuiStyle& style = ImGui::GetStyle();
    style.WindowRounding = 8.0f * rounding;
    style.FrameRounding = 6.0f * rounding;
    style.GrabRounding = 6.0f * rounding;
    style.ChildRounding = 6.0f * rounding;
    style.PopupRounding = 6.0f * rounding;
    style.ScrollbarRounding = 9.0f * rounding;
    style.WindowBorderSize = 0.0f;
    style.FramePadding = ImVec2(10, 6);
    style.ItemSpacing = ImVec2(10, 8);
    ImVec4* c = style.Colors;
    c[ImGuiCol_WindowBg] = ImVec4(0.055f, 0.075f, 0.11f, 1.0f);
    c[ImGuiCol_ChildBg] = ImVec4(0.07f, 0.09f, 0.13f, 1.0f);
    c[ImGuiCol_PopupBg] = ImVec4(0.08f, 0.10f, 0.15f, 0.98f);
    c[ImGuiCol_FrameBg] = ImVec4(0.12f, 0.16f, 0.22f, 1.0f);
    c[ImGuiCol_FrameBgHovered] = ImVec4(0.16f, 0.22f, 0.30f, 1.0f);
    c[ImGuiCol_FrameBgActive] = ImVec4(0.18f, 0.26f, 0.34f, 1.0f);
    c[ImGuiCol_Button] = ImVec4(0.16f, 0.32f, 0.38f, 1.0f);
    c[ImGuiCol_ButtonHovered] = ImVec4(0.20f, 0.42f, 0.48f, 1.0f);
    c[ImGuiCol_ButtonActive] = ImVec4(0.24f, 0.50f, 0.56f, 1.0f);
    c[ImGuiCol_Header] = ImVec4(0.16f, 0.32f, 0.38f, 0.8f);
    c[ImGuiCol_HeaderHovered] = ImVec4(0.20f, 0.42f, 0.48f, 0.9f);
    c[ImGuiCol_HeaderActive] = ImVec4(0.24f, 0.50f, 0.56f, 1.0f);
    c[ImGuiCol_SliderGrab] = ImVec4(0.45f, 0.78f, 0.80f, 1.0f);
    c[ImGuiCol_SliderGrabActive] = ImVec4(0.55f, 0.88f, 0.90f, 1.0f);
    c[ImGuiCol_CheckMark] = ImVec4(0.55f, 0.88f, 0.90f, 1.0f);
    c[ImGuiCol_Text] = ImVec4(0.86f, 0.90f, 0.94f, 1.0f);
    c[ImGuiCol_TextDisabled] = ImVec4(0.50f, 0.56f, 0.62f, 1.0f);
    c[ImGuiCol_Separator] = ImVec4(0.20f, 0.26f, 0.32f, 1.0f);
    style.ScaleAllSizes(dpi_scale);
}

void UpdateThemeAndFonts(AppState& app) {
    if (app.applied_text_scale == app.settings.text_scale && app.applied_theme == app.settings.theme) return;
    const bool rebuild = app.applied_text_scale != 0.0f;
    app.dpi_scale = app.base_dpi_scale * app.settings.text_scale;
    ApplyTheme(app.dpi_scale, app.rounding);
    if (HighContrast(app)) ApplyHighContrast(Pal(app));
    if (app.applied_text_scale != app.settings.text_scale) {
        // The renderer backend recreates the font texture in its next NewFrame.
        if (rebuild) ImGui_ImplSDLRenderer_DestroyFontsTexture();
        app.fonts = LoadFonts(app.base_dpi_scale, app.settings.text_scale, app.pixel_fonts);
    }
    app.applied_text_scale = app.settings.text_scale;
    app.applied_theme = app.settings.theme;
}

Fonts LoadFonts(float dpi_scale, float text_scale, bool pixel_fonts) {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    Fonts f;
    const float s = dpi_scale * text_scale;
    const char* path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
        ImFontConfig cfg;
        if (pixel_fonts) {
            cfg.OversampleH = 1;
            cfg.PixelSnapH = true;
        }
        f.body = io.Fonts->AddFontFromFileTTF(path, 17.0f * s, &cfg);
        f.small = io.Fonts->AddFontFromFileTTF(path, 14.0f * s, &cfg);
        f.large = io.Fonts->AddFontFromFileTTF(path, 44.0f * s, &cfg);
    }
    if (!f.body || !f.large || !f.small) {
        io.Fonts->Clear();
        ImFontConfig cfg;
        cfg.SizePixels = 13.0f * s;
        f.body = io.Fonts->AddFontDefault(&cfg);
        f.small = f.body;
        cfg.SizePixels = 13.0f * 3.0f * s;
        f.large = io.Fonts->AddFontDefault(&cfg);
    }
    io.FontDefault = f.body;
    return f;
}

}  // namespace attune::ui
