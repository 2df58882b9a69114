// The SDL2 + Dear ImGui application loop: poll input -> update the session from the clock ->
// draw windows -> render -> present. Headless runs use SDL's offscreen video driver and the
// software renderer, advance session time at --speed times the steady clock, and can save the
// last frame as a PNG.
#include "ui/app_main.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <vector>

#include <unistd.h>

#include <SDL.h>
#include <nlohmann/json.hpp>
#include <stb_image_write.h>

#include "imgui.h"
#include "imgui_impl_sdl.h"
#include "imgui_impl_sdlrenderer.h"
#include "attune/core/analyze.hpp"
#include "attune/core/json_text.hpp"
#include "ui/app_state.hpp"
#include "ui/audio_output.hpp"
#include "ui/palette.hpp"

namespace attune::ui {

namespace {

double SteadySeconds() {
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

bool SavePng(SDL_Renderer* renderer, const std::string& path, std::string& error) {
    int w = 0, h = 0;
    if (SDL_GetRendererOutputSize(renderer, &w, &h) != 0 || w <= 0 || h <= 0) {
        error = SDL_GetError();
        return false;
    }
    std::vector<unsigned char> pixels(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4);
    // ABGR8888 is R, G, B, A in memory order on little-endian machines: what PNG wants.
    if (SDL_RenderReadPixels(renderer, nullptr, SDL_PIXELFORMAT_ABGR8888, pixels.data(), w * 4) != 0) {
        error = SDL_GetError();
        return false;
    }
    if (!stbi_write_png(path.c_str(), w, h, 4, pixels.data(), w * 4)) {
        error = "cannot write " + path;
        return false;
    }
    return true;
}

double BoottimeMs() {
    timespec now{};
    clock_gettime(CLOCK_BOOTTIME, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// Taken while the program's static objects are built: after exec and the dynamic loader.
const double g_loaded_boottime_ms = BoottimeMs();

// Milliseconds since this program started, for --json's first_frame_ms. Counted from the
// creation of the process (/proc/self/stat, 10 ms ticks: this includes the dynamic loader),
// unless that lies more than a second before the program's static objects were built: then the
// process ran something else before it exec'ed Attune (scripts/run builds, then `exec`s the app;
// the first figure seen that way was 152 s), and the count starts at those static objects.
double MsSinceProcessStart() {
    unsigned long long start_ticks = 0;
    if (FILE* f = std::fopen("/proc/self/stat", "r")) {
        char buf[1024] = {};
        const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
        std::fclose(f);
        buf[n] = 0;
        const char* p = std::strrchr(buf, ')');  // the command name may hold spaces
        for (int field = 2; p && *p && field < 22; ++p)
            if (*p == ' ') ++field;
        if (p) start_ticks = std::strtoull(p, nullptr, 10);
    }
    const double started_ms = static_cast<double>(start_ticks) * 1e3 / static_cast<double>(sysconf(_SC_CLK_TCK));
    const double from_ms = (start_ticks == 0 || g_loaded_boottime_ms - started_ms > 1000.0) ? g_loaded_boottime_ms : started_ms;
    return BoottimeMs() - from_ms;
}

double ThreadCpuMs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

bool HaveDisplayHint() {
    const char* driver = std::getenv("SDL_VIDEODRIVER");
    if (driver && *driver) return true;
    const char* x = std::getenv("DISPLAY");
    const char* wl = std::getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wl && *wl);
}

void HandleKey(AppState& app, SDL_Keycode key, double now_s) {
    switch (key) {
        case SDLK_SPACE:
            if (!app.session || !app.session->running()) RequestStart(app, now_s);
            else app.session->TogglePause(now_s);
            break;
        case SDLK_F11: app.fullscreen = !app.fullscreen; break;
        case SDLK_m: app.settings.sound.muted = !app.settings.sound.muted; break;  // eyes closed: mute by key
        case SDLK_ESCAPE: app.fullscreen = false; break;
        case SDLK_TAB:
            app.view = app.view == AppState::View::Client ? AppState::View::Practitioner : AppState::View::Client;
            break;
        case SDLK_h: app.session_ui.history_open = !app.session_ui.history_open; break;
        case SDLK_r: if (app.session) app.session->StartRecovery(); break;
        case SDLK_1: case SDLK_2: case SDLK_3: case SDLK_4:
            if (app.session) app.session->AddMarker(MarkerText(static_cast<int>(key - SDLK_1)));
            break;
        default: break;
    }
}

}  // namespace

int RunApp(AppState& app, const AppOptions& opt) {
    if (opt.headless) {
        SDL_SetHint(SDL_HINT_VIDEODRIVER, "offscreen");
        SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
        // Draw straight into the window surface: with "framebuffer acceleration" the offscreen
        // driver routes every present through Mesa's software GL, ~15 ms per frame for nothing.
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    } else if (!HaveDisplayHint()) {
        std::fprintf(stderr, "attune: no display found (DISPLAY and WAYLAND_DISPLAY are unset); run with --headless, or set SDL_VIDEODRIVER=offscreen\n");
        return 1;
    }
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
        std::fprintf(stderr, "attune: cannot open a display: %s (use --headless to run without one)\n", SDL_GetError());
        return 1;
    }
    const Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI | (opt.headless ? SDL_WINDOW_HIDDEN : 0);
    SDL_Window* window = SDL_CreateWindow("Attune", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, opt.width, opt.height, flags);
    if (!window) {
        std::fprintf(stderr, "attune: cannot open a window: %s (use --headless to run without a display)\n", SDL_GetError());
        SDL_Quit();
        return 1;
    }
    const Uint32 rflags = opt.headless ? SDL_RENDERER_SOFTWARE : (SDL_RENDERER_ACCELERATED | SDL_RENDERER_PRESENTVSYNC);
    SDL_Renderer* renderer = SDL_CreateRenderer(window, -1, rflags);
    if (!renderer) renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE);
    if (!renderer) {
        std::fprintf(stderr, "attune: cannot create a renderer: %s\n", SDL_GetError());
        SDL_DestroyWindow(window);
        SDL_Quit();
        return 1;
    }

    // High-DPI: scale fonts and sizes by the display's DPI (96 = 1.0) and by any difference
    // between the window's logical and pixel size.
    float ddpi = 96.0f;
    if (!opt.headless && SDL_GetDisplayDPI(0, &ddpi, nullptr, nullptr) != 0) ddpi = 96.0f;
    int lw = 0, lh = 0, pw = 0, ph = 0;
    SDL_GetWindowSize(window, &lw, &lh);
    SDL_GetRendererOutputSize(renderer, &pw, &ph);
    const float pixel_ratio = lw > 0 ? static_cast<float>(pw) / static_cast<float>(lw) : 1.0f;
    if (pixel_ratio > 1.01f) SDL_RenderSetScale(renderer, pixel_ratio, pixel_ratio);
    app.dpi_scale = std::clamp(ddpi / 96.0f, 1.0f, 3.0f);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // layout is fixed; settings live in our own file
    app.base_dpi_scale = app.dpi_scale;
    SDL_RendererInfo renderer_info{};
    SDL_GetRendererInfo(renderer, &renderer_info);
    const bool software_renderer = (renderer_info.flags & SDL_RENDERER_SOFTWARE) != 0;
    if (software_renderer) {
        app.rounding = 0.0f;       // see AppState::rounding
        app.pixel_fonts = true;    // see LoadFonts
    }
    // ATTUNE_REFERENCE_DRAW=1 draws through the package's backend even here: the test that
    // RenderDrawDataSoftware paints the same picture compares the two.
    const char* reference_draw = std::getenv("ATTUNE_REFERENCE_DRAW");
    const bool software_draw = software_renderer && !(reference_draw && std::string(reference_draw) == "1");
    UpdateThemeAndFonts(app);  // theme, fonts and layout scale (dpi x text scale)
    ImGui_ImplSDL2_InitForSDLRenderer(window);
    ImGui_ImplSDLRenderer_Init(renderer);

    constexpr int kOrbPx = 1024;
    const auto orb_pixels = MakeOrbPixels(kOrbPx);
    SDL_Texture* orb = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_ABGR8888, SDL_TEXTUREACCESS_STATIC, kOrbPx, kOrbPx);
    if (orb) {
        SDL_UpdateTexture(orb, nullptr, orb_pixels.data(), kOrbPx * 4);
        SDL_SetTextureBlendMode(orb, SDL_BLENDMODE_BLEND);
        // Linear filtering costs ~4x more per pixel in the software renderer; the sprite is large
        // enough that nearest sampling shows no steps there.
        SDL_SetTextureScaleMode(orb, software_renderer ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
        app.orb_texture = orb;
    }
    std::unique_ptr<SoftwareOrb> software_orb;
    if (software_draw) {
        software_orb = std::make_unique<SoftwareOrb>(renderer, orb_pixels, kOrbPx);
        app.draw_orb = [&software_orb](ImDrawList* dl, ImVec2 c, float half_px, std::uint32_t tint) {
            return software_orb->Draw(dl, c, half_px, tint);
        };
    }
    // The pacer's guide ring at its exact size (one 1:1 sprite), remade when the layout changes.
    SDL_Texture* ring_tex = nullptr;
    int ring_tex_px = 0;
    float ring_tex_w = 0.0f;
    std::uint32_t ring_tex_rgba = 0;
    app.ring_sprite = [&](int size_px, float thickness_px, std::uint32_t rgba) -> void* {
        if (size_px < 4 || size_px > 4096) return nullptr;
        if (ring_tex && size_px == ring_tex_px && thickness_px == ring_tex_w && rgba == ring_tex_rgba) return ring_tex;
        if (ring_tex) SDL_DestroyTexture(ring_tex);
        ring_tex = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_ABGR8888, SDL_TEXTUREACCESS_STATIC, size_px, size_px);
        ring_tex_px = size_px;
        ring_tex_w = thickness_px;
        ring_tex_rgba = rgba;
        if (!ring_tex) return nullptr;
        const auto px = MakeRingPixels(size_px, thickness_px, rgba);
        SDL_UpdateTexture(ring_tex, nullptr, px.data(), size_px * 4);
        SDL_SetTextureBlendMode(ring_tex, SDL_BLENDMODE_BLEND);
        return ring_tex;
    };

    const double steady0 = SteadySeconds();
    const double speed = app.speed;
    auto now = [steady0, speed] { return (SteadySeconds() - steady0) * speed; };
    app.app_clock = now;
    if (opt.headless) StartSession(app, 0.0);

    bool was_fullscreen = false;
    std::int64_t frames = 0;
    int exit_code = 0;
    double last_t = 0.0;
    double first_frame_ms = 0.0, cpu_after_first_frame_ms = 0.0;  // for --json: start-up and frame cost
    double raster_cpu_ms = 0.0;  // of which SDL drawing + present (software rasterising headless)
    while (!app.quit_requested) {
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            ImGui_ImplSDL2_ProcessEvent(&ev);
            if (ev.type == SDL_QUIT) app.quit_requested = true;
            if (ev.type == SDL_WINDOWEVENT && ev.window.event == SDL_WINDOWEVENT_CLOSE) app.quit_requested = true;
            if (ev.type == SDL_KEYDOWN && !ev.key.repeat && !io.WantTextInput) HandleKey(app, ev.key.keysym.sym, now());
        }
        double t = now();
        bool last_frame = false;
        if (opt.headless && t >= opt.duration_s) {
            t = opt.duration_s;  // end exactly at the requested session time
            last_frame = true;
        }
        if (const auto end = opt.headless ? ProgramEndSessionS(app) : std::nullopt; end && t >= *end) {
            t = *end;  // a program ends exactly at its last breath
            last_frame = true;
        } else if (const auto next = opt.headless ? ProgramNextDecisionSessionS(app) : std::nullopt; next && t > *next) {
            t = *next;  // stop at the program's next step first: its end may come before this frame's time
        }
        if (app.session) app.session->Update(t);
        UpdateSessionUi(app, t);
        last_t = t;
        ProgramTick(app);
        if (opt.headless && ProgramFinished(app)) last_frame = true;  // a program runs to its end
        UpdateAudio(app, t, opt.headless);

        if (app.fullscreen != was_fullscreen) {
            SDL_SetWindowFullscreen(window, app.fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
            was_fullscreen = app.fullscreen;
        }
        if (!opt.headless && (SDL_GetWindowFlags(window) & SDL_WINDOW_MINIMIZED)) {
            SDL_Delay(50);  // nothing to show: do not spin
            continue;
        }

        UpdateThemeAndFonts(app);
        ImGui_ImplSDLRenderer_NewFrame();
        ImGui_ImplSDL2_NewFrame();
        ImGui::NewFrame();
        app.show_controls = app.view == AppState::View::Practitioner;
        DrawPacerView(app, t);
        DrawProgramOverlay(app);
        DrawControls(app, t);
        DrawMetrics(app, t);
        DrawAssessment(app);
        DrawHistory(app, t);
        DrawJournal(app, t);
        ImGui::Render();
        const double raster_from_ms = ThreadCpuMs();
        const core::Rgb bg = Pal(app).background;
        SDL_SetRenderDrawColor(renderer, static_cast<Uint8>(bg.r * 255.0 + 0.5), static_cast<Uint8>(bg.g * 255.0 + 0.5),
                               static_cast<Uint8>(bg.b * 255.0 + 0.5), 255);
        SDL_RenderClear(renderer);
        if (software_draw)
            RenderDrawDataSoftware(renderer, ImGui::GetDrawData());
        else
            ImGui_ImplSDLRenderer_RenderDrawData(ImGui::GetDrawData());
        ++frames;
        if (last_frame && !opt.screenshot.empty()) {
            std::string err;
            if (!SavePng(renderer, opt.screenshot, err)) {
                std::fprintf(stderr, "attune: screenshot failed: %s\n", err.c_str());
                exit_code = 3;
            }
        }
        SDL_RenderPresent(renderer);
        if (frames > 1) raster_cpu_ms += ThreadCpuMs() - raster_from_ms;
        if (frames == 1) {
            first_frame_ms = MsSinceProcessStart();
            cpu_after_first_frame_ms = ThreadCpuMs();
        }
        if (last_frame) break;
        if (opt.headless && app.speed <= 1.0) SDL_Delay(1);
    }

    if (app.session && app.session->running()) app.session->Stop(opt.headless ? last_t : now());
    ProgramTick(app);
    FinishRunJournal(app);
    if (app.made_source.threaded) app.made_source.threaded->Stop();  // decoder stats are ours now
    if (opt.headless && app.session && !app.session->recorder_error().empty())
        std::fprintf(stderr, "attune: %s\n", app.session->recorder_error().c_str());  // the UI shows it in the window
    if (!opt.beats_out.empty() && app.session) {
        // Accepted beats with their artifact class, as `attune analyze --signal rr` writes them.
        if (FILE* f = std::fopen(opt.beats_out.c_str(), "w")) {
            std::fprintf(f, "t_s,ibi_ms,flag\n");
            for (const auto& c : app.session->classified_beats())
                std::fprintf(f, "%.6f,%.3f,%s\n", c.t_s, c.ibi_ms, core::FlagName(c.cls));
            if (std::fclose(f) != 0) exit_code = 3;
        } else {
            std::fprintf(stderr, "attune: cannot write %s\n", opt.beats_out.c_str());
            exit_code = 3;
        }
    }
    if (opt.headless && opt.json && app.session) {
        const auto s = app.session->Summary();
        nlohmann::json j;
        j["duration_s"] = s.duration_s;
        j["breaths"] = s.breaths;
        j["beats"] = s.beats;
        j["rejected_beats"] = s.rejected_beats;
        j["hr_mean_bpm"] = s.hr_mean_bpm;
        j["source"] = app.session->source().IsSimulated() ? "sim" : s.source;
        j["source_description"] = s.source;
        j["preset"] = s.pattern_id;
        j["speed"] = app.speed;
        j["frames"] = frames;
        // Start-up (process start to the first frame presented) and the main thread's CPU time
        // per frame after the first (session update + ImGui + software rendering).
        j["first_frame_ms"] = first_frame_ms;
        j["frame_cpu_ms"] = frames > 1 ? (ThreadCpuMs() - cpu_after_first_frame_ms) / static_cast<double>(frames - 1) : 0.0;
        j["frame_raster_cpu_ms"] = frames > 1 ? raster_cpu_ms / static_cast<double>(frames - 1) : 0.0;
        const auto src = core::ReportSource(app.made_source);
        j["format"] = src.format;
        j["baud"] = src.baud > 0 ? nlohmann::json(src.baud) : nlohmann::json(nullptr);
        j["sample_rate_hz"] = src.sample_rate_hz;
        j["lines"] = src.lines;
        j["unparsed_lines"] = src.unparsed_lines;
        j["reconnects"] = src.reconnects;
        j["beat_source"] = s.beat_source;
        j["rmssd_ms"] = s.hrv.valid ? nlohmann::json(s.hrv.rmssd_ms) : nlohmann::json(nullptr);
        j["artifacts_flagged"] = s.artifacts.flagged();
        const auto rec = app.session->RecordSummary();
        j["coherence_mean"] = rec.coherence_mean ? nlohmann::json(*rec.coherence_mean) : nlohmann::json(nullptr);
        AddProgramJson(app, j);
        if (app.record) {
            j["session_folder"] = app.session->recording_folder().string();
            j["session_id"] = app.session->recording_folder().filename().string();
            j["recorded"] = app.session->recorder_error().empty();
        }
        AddAudioJson(app, j);
        std::cout << core::DumpJson(j) << std::endl;
    }
    if (!opt.headless)
        if (std::string e = core::SaveSettings(app.config_dir, app.settings); !e.empty())
            std::fprintf(stderr, "attune: %s\n", e.c_str());

    if (app.audio) CloseAudio(app);
    app.ring_sprite = nullptr;
    app.draw_orb = nullptr;
    software_orb.reset();
    if (ring_tex) SDL_DestroyTexture(ring_tex);
    if (orb) SDL_DestroyTexture(orb);
    ImGui_ImplSDLRenderer_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    ImGui::DestroyContext();
    SDL_DestroyRenderer(renderer);
    SDL_DestroyWindow(window);
    SDL_Quit();
    return exit_code;
}

}  // namespace attune::ui
