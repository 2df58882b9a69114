// Entry point of the windowed (or headless offscreen) application.
#pragma once

#include <string>

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

}  // namespace attune::ui
