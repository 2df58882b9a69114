// Guided programs: a sequence of steps a practitioner would lead someone through (arrive and
// settle, paced breathing, prompts for a body scan or grounding, closing, ratings).
//
// Programs are JSON files in assets/programs/ and <config>/programs/ (a user file with the same
// id replaces the shipped one):
//   { "id": "daily-resonance", "name": "...", "description": "...",
//     "steps": [
//       { "kind": "arrive",  "duration_s": 60,  "title": "Arrive",
//         "prompts": [ {"at_s": 0, "text": "Let your breath find its own pace."} ] },
//       { "kind": "paced",   "duration_s": 600, "preset": "resonance" },       // or "pattern": {...}
//       { "kind": "ramp",    "duration_s": 300, "to_bpm": 6, "glide_bpm_per_min": 1.0,
//         "fallback_from_bpm": 9, "preset": "resonance" },   // "to": "resonance" = the profile's rate
//       { "kind": "natural", "duration_s": 60 },                 // also "rest"
//       { "kind": "closing", "duration_s": 45, "prompts": [...] },
//       { "kind": "rating",  "duration_s": 20, "question": "...", "key": "distress_after" },
//       { "kind": "assessment", "mode": "stepped", "rates_bpm": [6.5, 6, 5.5, 5, 4.5],
//         "block_s": 120, "rest_s": 30, "extend": true, "confirm": true } ] }
// Step kinds:
//   arrive     natural breathing; its breathing-rate estimate (from the heart) is the baseline
//              a later ramp starts from.
//   paced      a preset (by id; "resonance" is the profile's resonance rate) or an inline pattern
//              (the preset format of pattern.hpp); ends at the first whole breath after duration_s.
//   ramp       body-responsive glide from the measured natural rate to to_bpm (see ProgramRunner).
//   natural / rest / closing   natural breathing with optional prompts.
//   rating     natural breathing while a 0-10 question is shown (key: distress_before,
//              distress_after, or any name: recorded as an event).
//   assessment the resonance-frequency assessment (resonance.hpp): stepped blocks or a slide.
// Prompts: {"at_s": seconds from the step start, "text": "..."}; one shows at a time, until
// the next one (or the end of the step).
// Malformed files are rejected with "<file>: <JSON path>: <problem>"; the others still load.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "attune/core/pattern.hpp"

namespace attune::core {

enum class StepKind { Arrive, Paced, Ramp, Natural, Closing, Rating, Assessment };
const char* StepKindName(StepKind k);

struct ProgramPrompt {
    double at_s = 0.0;  // from the start of the step
    std::string text;
};

struct AssessmentPlan {
    bool sliding = false;                                  // Fisher & Lehrer: one slow glide
    std::vector<double> rates_bpm{6.5, 6.0, 5.5, 5.0, 4.5};  // stepped: in this order
    double block_s = 120.0;        // paced block per rate
    double rest_s = 30.0;          // natural breathing between blocks
    double settle_s = 30.0;        // start of each block not scored (the heart settles)
    bool extend = true;            // best rate at an edge: one more block 0.5 beyond it
    bool confirm = true;           // candidate and its neighbours +-0.5 once more
    double confirm_block_s = 90.0;
    double slide_from_bpm = 7.0;   // sliding: glide from here ...
    double slide_to_bpm = 4.25;    // ... to here
    double slide_bpm_per_min = 0.3;
    double slide_window_s = 64.0;  // analysis window around each scored rate
    double inhale_fraction = 0.4;  // of each paced breath
    double NominalS() const;       // without extension and confirmation
    double MaxS() const;           // with both
};

struct ProgramStep {
    StepKind kind = StepKind::Natural;
    std::string title;
    double duration_s = 0.0;
    std::vector<ProgramPrompt> prompts;
    // paced / ramp
    std::string preset_id;                // resolved into `pattern` at load time
    std::optional<BreathPattern> pattern;
    // ramp
    std::optional<double> to_bpm;         // empty: the pattern's (profile's) rate
    double fallback_from_bpm = 9.0;       // when the baseline gave no breathing rate
    double glide_bpm_per_min = 1.0;
    // rating
    std::string question;
    std::string rating_key;
    // assessment
    AssessmentPlan assessment;
};

struct Program {
    std::string id;
    std::string name;
    std::string description;
    std::vector<ProgramStep> steps;
    std::filesystem::path file;
    double NominalLengthS() const;  // steps as planned (assessment without extension/confirmation)
    double MaxLengthS() const;      // with every optional block
    bool HasAssessment() const;
};

// Parses one program. `presets` resolves "preset" references. On failure returns nullopt and
// sets `error` to "<JSON path>: <problem>" (e.g. "steps[2].duration_s: must be a positive number").
std::optional<Program> ProgramFromJson(const nlohmann::json& j, const std::vector<BreathPattern>& presets,
                                       std::string& error);

struct ProgramLoadResult {
    std::vector<Program> programs;
    std::vector<std::string> errors;  // "<file>: <place>: <problem>", one per rejected file
};

// Every *.json in the folders (later folders override earlier ones by id), sorted by the shipped
// order, then by name. Never throws.
ProgramLoadResult LoadPrograms(const std::vector<std::filesystem::path>& folders,
                               const std::vector<BreathPattern>& presets);

// The resonance preset at the profile's assessed rate (name says so); unchanged without a rate.
void ApplyResonanceRate(std::vector<BreathPattern>& presets, std::optional<double> rate_bpm);

}  // namespace attune::core
