// Command-line options for sound and accessibility (also for headless screenshots):
//   --sound off|cues|continuous  --volume 0..1  --theme dark|high-contrast  --text-scale X
//   --reduced-motion
// They override the saved settings for this run (and are remembered when a windowed run exits).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "attune/core/audio_synth.hpp"
#include "ui/app_state.hpp"

namespace attune::ui {

struct SoundAccessCli {
    std::string sound, theme;
    double volume = -1.0, text_scale = 0.0;
    bool reduced_motion = false;

    void Add(CLI::App& cli) {
        cli.add_option("--sound", sound, "Breathing sound: off, cues (tones at each phase change) or continuous (pitch follows the breath)")
            ->check(CLI::IsMember({"off", "cues", "continuous"}));
        cli.add_option("--volume", volume, "Sound volume, 0 to 1")->check(CLI::Range(0.0, 1.0));
        cli.add_option("--theme", theme, "Colour theme: dark or high-contrast")->check(CLI::IsMember({"dark", "high-contrast"}));
        cli.add_option("--text-scale", text_scale, "Text size (1 = normal)")->check(CLI::Range(0.75, 2.5));
        cli.add_flag("--reduced-motion", reduced_motion, "A rising and falling bar instead of the orb, no glow");
    }
    void Apply(AppState& app) const {
        if (auto m = core::ParseSoundMode(sound)) {
            app.settings.sound.mode = *m;
            app.sound_cli = true;
        }
        if (volume >= 0.0) app.settings.sound.volume = volume;
        if (!theme.empty()) app.settings.theme = theme;
        if (text_scale > 0.0) app.settings.text_scale = static_cast<float>(text_scale);
        if (reduced_motion) app.settings.reduced_motion = true;
    }
};

}  // namespace attune::ui
