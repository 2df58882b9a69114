// Entry point of the windowed (or headless offscreen) application.
#pragma once

#include <string>

struct SDL_Renderer;
struct ImDrawData;

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

}  // namespace attune::ui
