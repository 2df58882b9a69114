#include "attune/core/settings.hpp"
#include "attune/core/json_text.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "attune/core/fs_util.hpp"

namespace attune::core {

namespace {

void LoadSoundAccessSettings(const nlohmann::json& j, Settings& s) {
    auto number = [&](const char* key, double lo, double hi, double& out) {
        if (j.contains(key) && j[key].is_number()) {
            const double v = j[key].get<double>();
            if (v >= lo && v <= hi) out = v;
        }
    };
    auto boolean = [&](const char* key, bool& out) {
        if (j.contains(key) && j[key].is_boolean()) out = j[key].get<bool>();
    };
    if (j.contains("sound_mode") && j["sound_mode"].is_string())
        if (auto m = ParseSoundMode(j["sound_mode"].get<std::string>())) s.sound.mode = *m;
    number("sound_volume", 0.0, 1.0, s.sound.volume);
    boolean("sound_muted", s.sound.muted);
    number("sound_warmth", 0.0, 1.0, s.sound.warmth);
    boolean("sound_warmth_follows_coherence", s.sound.warmth_follows_coherence);
    if (j.contains("theme") && j["theme"].is_string()) {
        const auto t = j["theme"].get<std::string>();
        if (t == "dark" || t == "high-contrast") s.theme = t;
    }
    boolean("reduced_motion", s.reduced_motion);
}

void SaveSoundAccessSettings(const Settings& s, nlohmann::json& j) {
    j["sound_mode"] = SoundModeName(s.sound.mode);
    j["sound_volume"] = s.sound.volume;
    j["sound_muted"] = s.sound.muted;
    j["sound_warmth"] = s.sound.warmth;
    j["sound_warmth_follows_coherence"] = s.sound.warmth_follows_coherence;
    j["theme"] = s.theme;
    j["reduced_motion"] = s.reduced_motion;
}

}  // namespace

SettingsLoad LoadSettings(const std::filesystem::path& config_dir) {
    SettingsLoad out;
    const auto path = config_dir / "settings.json";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return out;
    std::string text, error;
    if (!ReadTextFile(path, text, error, 1u << 20)) {
        out.warning = path.string() + ": " + error + "; using defaults";
        return out;
    }
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        std::filesystem::rename(path, config_dir / "settings.json.bad", ec);
        out.warning = path.string() + ": not valid JSON; using defaults (kept as settings.json.bad)";
        return out;
    }
    Settings& s = out.settings;
    if (j.contains("preset_id") && j["preset_id"].is_string()) s.preset_id = j["preset_id"].get<std::string>();
    if (j.contains("show_heart_trace") && j["show_heart_trace"].is_boolean())
        s.show_heart_trace = j["show_heart_trace"].get<bool>();
    if (j.contains("text_scale") && j["text_scale"].is_number()) {
        const double v = j["text_scale"].get<double>();
        if (v >= 0.5 && v <= 3.0) s.text_scale = static_cast<float>(v);
    }
    if (j.contains("feedback_enabled") && j["feedback_enabled"].is_boolean()) s.feedback_enabled = j["feedback_enabled"].get<bool>();
    if (j.contains("coherence_medium") && j["coherence_medium"].is_number() && j.contains("coherence_high") &&
        j["coherence_high"].is_number()) {
        const double lo = j["coherence_medium"].get<double>(), hi = j["coherence_high"].get<double>();
        if (lo > 0.0 && hi > lo && hi < 10.0) {
            s.coherence_medium = lo;
            s.coherence_high = hi;
        }
    }
    if (j.contains("last_device") && j["last_device"].is_object()) {
        const auto& d = j["last_device"];
        RememberedDevice r;
        auto str = [&](const char* k, std::string& out) {
            if (d.contains(k) && d[k].is_string()) out = d[k].get<std::string>();
        };
        auto num = [&](const char* k, int& out, int lo, int hi) {
            if (d.contains(k) && d[k].is_number_integer()) out = std::clamp(d[k].get<int>(), lo, hi);
        };
        str("kind", r.kind);
        str("path", r.path);
        str("serial_number", r.serial_number);
        str("description", r.description);
        num("baud", r.baud, 0, 4000000);
        num("usb_vid", r.usb_vid, -1, 0xFFFF);
        num("usb_pid", r.usb_pid, -1, 0xFFFF);
        if (!r.path.empty() && (r.kind == "serial" || r.kind == "tty")) s.last_device = r;
    }
    LoadSoundAccessSettings(j, s);
    if (j.contains("custom_pattern")) {
        std::string perr;
        s.custom_pattern = PatternFromJson(j["custom_pattern"], perr);
        if (!s.custom_pattern) out.warning = path.string() + ": custom_pattern: " + perr;
    }
    return out;
}

std::string SaveSettings(const std::filesystem::path& config_dir, const Settings& s) {
    nlohmann::json j;
    j["preset_id"] = s.preset_id;
    j["show_heart_trace"] = s.show_heart_trace;
    j["text_scale"] = s.text_scale;
    j["feedback_enabled"] = s.feedback_enabled;
    j["coherence_medium"] = s.coherence_medium;
    j["coherence_high"] = s.coherence_high;
    SaveSoundAccessSettings(s, j);
    if (s.custom_pattern) j["custom_pattern"] = PatternToJson(*s.custom_pattern);
    if (s.last_device) {
        const RememberedDevice& d = *s.last_device;
        j["last_device"] = {{"kind", d.kind}, {"path", d.path}, {"baud", d.baud}, {"usb_vid", d.usb_vid},
                            {"usb_pid", d.usb_pid}, {"serial_number", d.serial_number}, {"description", d.description}};
    }
    return WriteFileAtomic(config_dir / "settings.json", DumpJson(j, 2) + "\n");
}

}  // namespace attune::core
