// User settings, remembered between runs in <config_dir>/settings.json.
// Unknown keys are kept out; a corrupt file is reported and replaced by defaults (the bad file
// is left in place as settings.json.bad so nothing the user wrote is lost).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "attune/core/audio_synth.hpp"
#include "attune/core/pattern.hpp"

namespace attune::core {

// The sensor the user last chose (a serial port in the UI, or --source serial:/tty:), so that
// `auto` finds it again: by USB VID:PID + serial number when known, else by path.
struct RememberedDevice {
    std::string kind = "serial";  // "serial" (libserialport) or "tty" (termios path)
    std::string path;             // e.g. /dev/ttyACM0, /dev/rfcomm0
    int baud = 0;                 // 0: not given (the baud search runs)
    int usb_vid = -1, usb_pid = -1;
    std::string serial_number;
    std::string description;      // for the UI, e.g. "Arduino (2341:0043)"
    bool operator==(const RememberedDevice&) const = default;
};

struct Settings {
    std::string preset_id = "resonance";
    std::optional<BreathPattern> custom_pattern;  // the pattern editor's last pattern
    bool show_heart_trace = true;
    float text_scale = 1.0f;
    // Biofeedback: the orb's colour follows coherence (score scale of dsp/coherence.hpp).
    // Practitioners set the challenge with the thresholds; some people prefer no score at all.
    bool feedback_enabled = true;
    double coherence_medium = 0.5;  // below: low (orb stays cool blue)
    double coherence_high = 1.0;    // at or above: high (orb glows warm)
    std::optional<RememberedDevice> last_device;
    // Sound (audio_synth.hpp) and accessibility (palette.hpp): theme "dark" | "high-contrast";
    // reduced motion draws a rising and falling bar instead of the orb, without glow.
    SoundParams sound;
    std::string theme = "dark";
    bool reduced_motion = false;
};

struct SettingsLoad {
    Settings settings;
    std::string warning;  // empty when the file was fine or absent
};

SettingsLoad LoadSettings(const std::filesystem::path& config_dir);
std::string SaveSettings(const std::filesystem::path& config_dir, const Settings& s);

}  // namespace attune::core
