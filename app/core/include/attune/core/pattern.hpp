// Breathing patterns and presets.
//
// A pattern is a cycle of phases (inhale, hold, exhale, hold; the physiological sigh has two
// inhales), each with a duration in seconds at the pattern's base rate and the lung volume
// (0..1) it ends at. An optional ramp glides the breathing rate from `from_bpm` to `to_bpm`
// over `over_s` seconds, keeping the phase proportions. `paced == false` means natural
// breathing (no pacing, used for baselines).
//
// Presets are JSON files (assets/presets/*.json and <config>/presets/*.json):
//   { "id": "box", "name": "Box 4-4-4-4", "description": "...",
//     "inhale_s": 4, "hold_in_s": 4, "exhale_s": 4, "hold_out_s": 4,      // four-phase form, or
//     "phases": [ {"kind": "inhale", "s": 2.0, "to": 0.8}, ... ],          // explicit phases
//     "rate_bpm": 5.5,                // optional: rescale the cycle to this rate
//     "ramp": { "from_bpm": 6.5, "to_bpm": 5.5, "over_s": 300 },          // optional
//     "length_s": 600, "paced": true }
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace attune::core {

enum class PhaseKind { Inhale, HoldIn, Exhale, HoldOut, Natural };

const char* PhaseName(PhaseKind kind);  // "Inhale", "Hold", "Exhale", "Hold", "Breathe naturally"

struct Phase {
    PhaseKind kind = PhaseKind::Inhale;
    double duration_s = 0.0;  // at the pattern's base rate; 0 allowed for holds
    double end_volume = 1.0;  // lung volume 0..1 at the end of the phase
};

struct Ramp {
    double from_bpm = 6.5;
    double to_bpm = 5.5;
    double over_s = 300.0;  // after this the rate stays at to_bpm
};

struct BreathPattern {
    std::string id;
    std::string name;
    std::string description;
    std::vector<Phase> phases;
    std::optional<Ramp> ramp;
    double length_s = 600.0;  // session length
    bool paced = true;

    double CycleSeconds() const;  // sum of phase durations at the base rate
    double BaseRateBpm() const;   // 60 / CycleSeconds(), or the ramp's start rate
    // The classic four-phase pattern; holds may be zero (they are then omitted).
    static BreathPattern FourPhase(std::string id, std::string name, double inhale_s,
                                   double hold_in_s, double exhale_s, double hold_out_s,
                                   double length_s = 600.0);
    // Rescale every phase so one cycle lasts 60/rate_bpm seconds.
    void SetRateBpm(double rate_bpm);
    // Empty string when valid, otherwise what is wrong (for messages naming the file).
    std::string Validate() const;
};

// JSON <-> pattern. FromJson returns nullopt and fills `error` on malformed input.
std::optional<BreathPattern> PatternFromJson(const nlohmann::json& j, std::string& error);
nlohmann::json PatternToJson(const BreathPattern& p);

struct PresetLoadResult {
    std::vector<BreathPattern> presets;
    std::vector<std::string> errors;  // "file: problem", one per rejected file
};

// Loads every *.json in the given folders (later folders override earlier ones by id),
// sorted by the order of the built-in list, then by name. Never throws.
PresetLoadResult LoadPresets(const std::vector<std::filesystem::path>& folders);

// Writes a user preset to <folder>/<id>.json (creating the folder, mode 0700). Returns error text.
std::string SaveUserPreset(const std::filesystem::path& folder, const BreathPattern& p);

// Coherent breathing, 6/min, 5 s in and 5 s out: the fallback when no preset file can be read.
BreathPattern DefaultPattern();

}  // namespace attune::core
