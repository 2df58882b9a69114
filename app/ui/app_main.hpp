// Entry point of the windowed (or headless offscreen) application.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "imgui.h"

struct SDL_Renderer;
struct SDL_Texture;

namespace attune::ui {

struct AppState;

struct AppOptions {
    bool headless = false;
    double duration_s = 60.0;  // headless: session seconds to run
    std::string screenshot;    // headless: PNG of the last frame
    bool json = false;         // headless: print a JSON summary on stdout
    std::string beats_out;     // write accepted beats (t_s,ibi_ms,flag) when the run ends
    int width = 1280;
    int height = 800;
};

// Runs the app until the window closes (or, headless, until duration_s of session time).
// Returns the process exit status: 0 ok, 1 no display, 3 a file could not be written.
int RunApp(AppState& app, const AppOptions& options);

// Draws ImGui's draw data like the package's imgui_impl_sdlrenderer backend, but solid
// rectangles become SDL fills instead of copies of the font atlas' white pixel: the same
// picture, several times cheaper on SDL's software renderer (sw_render.cpp).
void RenderDrawDataSoftware(SDL_Renderer* renderer, ImDrawData* draw_data);

// The orb on SDL's software renderer. SDL_RenderCopy of the 1024 px sprite scaled, tinted and
// blended costs ~4 ns per covered pixel there (its generic scale+modulate+blend blit); scaling
// and tinting once here, then letting SDL blend a 1:1 copy (its optimised alpha blit), gives the
// same picture (test: "the software draw path paints the same picture ...") for about half.
// Draw adds an ImDrawList callback that RenderDrawDataSoftware (or the package backend) runs in
// drawing order. One orb per frame: a second Draw before rendering replaces the first's pixels.
class SoftwareOrb {
public:
    SoftwareOrb(SDL_Renderer* renderer, const std::vector<unsigned char>& rgba, int size_px);
    ~SoftwareOrb();
    SoftwareOrb(const SoftwareOrb&) = delete;
    SoftwareOrb& operator=(const SoftwareOrb&) = delete;
    // half_px: half the sprite's width on screen; tint: IM_COL32 colour and alpha multiplier.
    // False when it cannot draw (no texture): the caller then draws the sprite itself.
    bool Draw(ImDrawList* dl, ImVec2 center, float half_px, std::uint32_t tint);

private:
    static void Callback(const ImDrawList* list, const ImDrawCmd* cmd);
    SDL_Renderer* renderer_;
    std::vector<std::uint32_t> src_;  // ARGB8888
    int src_px_ = 0;
    SDL_Texture* tex_ = nullptr;  // streaming ARGB8888, tex_px_ square; [0, w_) x [0, h_) holds the orb
    int tex_px_ = 0;
    int w_ = 0, h_ = 0;
    std::uint32_t tint_ = 0;
    int dst_x_ = 0, dst_y_ = 0;  // top-left corner on screen
    std::vector<int> columns_;
};

}  // namespace attune::ui
