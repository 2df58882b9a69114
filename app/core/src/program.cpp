#include "attune/core/program.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "attune/core/fs_util.hpp"
#include "json_util.hpp"

namespace attune::core {

namespace {

constexpr double kMaxStepS = 4.0 * 3600.0;

const std::vector<std::string>& ShippedOrder() {
    static const std::vector<std::string> order = {"daily-resonance", "sleep-downshift", "grounding", "box-focus",
                                                   "therapist-10", "resonance-assessment",
                                                   "resonance-assessment-sliding"};
    return order;
}

struct ParseError {
    std::string text;
};

[[noreturn]] void Fail(const std::string& where, const std::string& what) { throw ParseError{where + ": " + what}; }

double Number(const nlohmann::json& obj, const std::string& key, const std::string& where, double lo, double hi,
              std::optional<double> fallback = std::nullopt) {
    if (!obj.contains(key)) {
        if (fallback) return *fallback;
        Fail(where, "missing \"" + key + "\"");
    }
    const auto& v = obj.at(key);
    const std::string at = where + "." + key;
    if (!v.is_number() || !std::isfinite(v.get<double>())) Fail(at, "must be a number");
    const double x = v.get<double>();
    if (x < lo || x > hi) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "must be between %g and %g (is %g)", lo, hi, x);
        Fail(at, buf);
    }
    return x;
}

std::string Text(const nlohmann::json& obj, const std::string& key, const std::string& where, bool required = false) {
    if (!obj.contains(key)) {
        if (required) Fail(where, "missing \"" + key + "\"");
        return {};
    }
    if (!obj.at(key).is_string()) Fail(where + "." + key, "must be text");
    return obj.at(key).get<std::string>();
}

bool Flag(const nlohmann::json& obj, const std::string& key, const std::string& where, bool fallback) {
    if (!obj.contains(key)) return fallback;
    if (!obj.at(key).is_boolean()) Fail(where + "." + key, "must be true or false");
    return obj.at(key).get<bool>();
}

std::optional<StepKind> KindFrom(const std::string& s) {
    if (s == "arrive" || s == "baseline") return StepKind::Arrive;
    if (s == "paced") return StepKind::Paced;
    if (s == "ramp") return StepKind::Ramp;
    if (s == "natural" || s == "rest" || s == "prompts") return StepKind::Natural;
    if (s == "closing") return StepKind::Closing;
    if (s == "rating") return StepKind::Rating;
    if (s == "assessment") return StepKind::Assessment;
    return std::nullopt;
}

const BreathPattern* FindPreset(const std::vector<BreathPattern>& presets, const std::string& id) {
    for (const auto& p : presets)
        if (p.id == id) return &p;
    return nullptr;
}

void ReadPattern(const nlohmann::json& s, const std::string& where, const std::vector<BreathPattern>& presets,
                 ProgramStep& step, bool required) {
    if (s.contains("preset")) {
        step.preset_id = Text(s, "preset", where);
        const BreathPattern* p = FindPreset(presets, step.preset_id);
        if (!p) Fail(where + ".preset", "unknown preset " + detail::QuotedText(step.preset_id));
        step.pattern = *p;
    } else if (s.contains("pattern")) {
        std::string perr;
        auto p = PatternFromJson(s.at("pattern"), perr);
        if (!p) Fail(where + ".pattern", perr);
        if (p->id.empty()) p->id = "inline";
        if (p->name.empty()) p->name = step.title.empty() ? std::string("Paced breathing") : step.title;
        step.pattern = *p;
    } else if (required) {
        Fail(where, "needs \"preset\" or \"pattern\"");
    }
    if (step.pattern && s.contains("rate_bpm")) {
        const double r = Number(s, "rate_bpm", where, 1.0, 30.0);
        step.pattern->ramp.reset();
        step.pattern->SetRateBpm(r);
    }
    if (step.pattern && !step.pattern->paced && step.kind != StepKind::Natural) Fail(where, "the pattern is not paced");
}

void ReadAssessment(const nlohmann::json& s, const std::string& where, AssessmentPlan& a) {
    const std::string mode = s.contains("mode") ? Text(s, "mode", where) : std::string("stepped");
    if (mode != "stepped" && mode != "sliding") Fail(where + ".mode", "must be \"stepped\" or \"sliding\"");
    a.sliding = mode == "sliding";
    if (s.contains("rates_bpm")) {
        const auto& arr = s.at("rates_bpm");
        if (!arr.is_array() || arr.empty()) Fail(where + ".rates_bpm", "must be a non-empty array of rates");
        a.rates_bpm.clear();
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const std::string at = where + ".rates_bpm[" + std::to_string(i) + "]";
            if (!arr[i].is_number()) Fail(at, "must be a number");
            const double r = arr[i].get<double>();
            if (!(r >= 2.0 && r <= 12.0)) Fail(at, "must be between 2 and 12 breaths/min");
            a.rates_bpm.push_back(r);
        }
    }
    a.block_s = Number(s, "block_s", where, 30.0, 600.0, a.block_s);
    a.rest_s = Number(s, "rest_s", where, 0.0, 300.0, a.rest_s);
    a.settle_s = Number(s, "settle_s", where, 0.0, a.block_s - 20.0, std::min(a.settle_s, a.block_s - 20.0));
    a.extend = Flag(s, "extend", where, a.extend);
    a.confirm = Flag(s, "confirm", where, a.confirm);
    a.confirm_block_s = Number(s, "confirm_block_s", where, 30.0, 600.0, a.confirm_block_s);
    a.slide_from_bpm = Number(s, "from_bpm", where, 2.0, 12.0, a.slide_from_bpm);
    a.slide_to_bpm = Number(s, "to_bpm", where, 2.0, 12.0, a.slide_to_bpm);
    a.slide_bpm_per_min = Number(s, "bpm_per_min", where, 0.05, 2.0, a.slide_bpm_per_min);
    a.inhale_fraction = Number(s, "inhale_fraction", where, 0.2, 0.8, a.inhale_fraction);
    if (a.sliding && !(a.slide_from_bpm > a.slide_to_bpm + 0.5))
        Fail(where, "a slide needs from_bpm at least 0.5 above to_bpm");
}

ProgramStep ReadStep(const nlohmann::json& s, const std::string& where, const std::vector<BreathPattern>& presets) {
    if (!s.is_object()) Fail(where, "must be an object");
    ProgramStep step;
    const std::string kind = Text(s, "kind", where, true);
    auto k = KindFrom(kind);
    if (!k) Fail(where + ".kind", "unknown kind " + detail::QuotedText(kind) + " (arrive, paced, ramp, natural, rest, closing, rating, assessment)");
    step.kind = *k;
    step.title = Text(s, "title", where);
    if (step.kind == StepKind::Assessment) {
        ReadAssessment(s, where, step.assessment);
        step.duration_s = step.assessment.NominalS();
    } else {
        step.duration_s = Number(s, "duration_s", where, 1.0, kMaxStepS);
    }
    if (s.contains("prompts")) {
        const auto& arr = s.at("prompts");
        if (!arr.is_array()) Fail(where + ".prompts", "must be an array");
        double last = -1.0;
        for (std::size_t i = 0; i < arr.size(); ++i) {
            const std::string at = where + ".prompts[" + std::to_string(i) + "]";
            if (!arr[i].is_object()) Fail(at, "must be an object with \"at_s\" and \"text\"");
            ProgramPrompt p;
            p.at_s = Number(arr[i], "at_s", at, 0.0, step.duration_s);
            p.text = Text(arr[i], "text", at, true);
            if (p.text.empty()) Fail(at + ".text", "is empty");
            if (p.at_s < last) Fail(at + ".at_s", "prompts must be in time order");
            last = p.at_s;
            step.prompts.push_back(std::move(p));
        }
    }
    switch (step.kind) {
        case StepKind::Paced: ReadPattern(s, where, presets, step, true); break;
        case StepKind::Ramp: {
            ReadPattern(s, where, presets, step, false);
            if (!step.pattern) step.pattern = BreathPattern::FourPhase("ramp", "Ramp", 4.0, 0.0, 6.0, 0.0);
            if (s.contains("to_bpm")) step.to_bpm = Number(s, "to_bpm", where, 2.0, 20.0);
            step.fallback_from_bpm = Number(s, "fallback_from_bpm", where, 3.0, 30.0, step.fallback_from_bpm);
            step.glide_bpm_per_min = Number(s, "glide_bpm_per_min", where, 0.05, 10.0, step.glide_bpm_per_min);
            break;
        }
        case StepKind::Rating:
            step.question = Text(s, "question", where, true);
            step.rating_key = s.contains("key") ? Text(s, "key", where) : std::string("rating");
            break;
        default: break;
    }
    if (step.title.empty()) {
        switch (step.kind) {
            case StepKind::Arrive: step.title = "Arrive"; break;
            case StepKind::Paced: step.title = step.pattern ? step.pattern->name : "Paced breathing"; break;
            case StepKind::Ramp: step.title = "Slowing down"; break;
            case StepKind::Natural: step.title = "Natural breathing"; break;
            case StepKind::Closing: step.title = "Closing"; break;
            case StepKind::Rating: step.title = "Check in"; break;
            case StepKind::Assessment: step.title = "Resonance assessment"; break;
        }
    }
    return step;
}

}  // namespace

const char* StepKindName(StepKind k) {
    switch (k) {
        case StepKind::Arrive: return "arrive";
        case StepKind::Paced: return "paced";
        case StepKind::Ramp: return "ramp";
        case StepKind::Natural: return "natural";
        case StepKind::Closing: return "closing";
        case StepKind::Rating: return "rating";
        case StepKind::Assessment: return "assessment";
    }
    return "natural";
}

double AssessmentPlan::NominalS() const {
    if (sliding) return (slide_from_bpm - slide_to_bpm) / slide_bpm_per_min * 60.0 + 30.0;
    return static_cast<double>(rates_bpm.size()) * (block_s + rest_s);
}

double AssessmentPlan::MaxS() const {
    if (sliding) return NominalS();
    return NominalS() + (extend ? block_s + rest_s : 0.0) + (confirm ? 3.0 * (confirm_block_s + rest_s) : 0.0);
}

double Program::NominalLengthS() const {
    double s = 0.0;
    for (const auto& st : steps) s += st.duration_s;
    return s;
}

double Program::MaxLengthS() const {
    double s = 0.0;
    for (const auto& st : steps) s += st.kind == StepKind::Assessment ? st.assessment.MaxS() : st.duration_s;
    return s;
}

bool Program::HasAssessment() const {
    return std::any_of(steps.begin(), steps.end(), [](const ProgramStep& s) { return s.kind == StepKind::Assessment; });
}

std::optional<Program> ProgramFromJson(const nlohmann::json& j, const std::vector<BreathPattern>& presets,
                                       std::string& error) {
    error.clear();
    try {
        if (!j.is_object()) Fail("$", "expected a JSON object");
        Program p;
        p.id = Text(j, "id", "$");
        p.name = Text(j, "name", "$");
        p.description = Text(j, "description", "$");
        if (!j.contains("steps")) Fail("$", "missing \"steps\"");
        const auto& arr = j.at("steps");
        if (!arr.is_array() || arr.empty()) Fail("$.steps", "must be a non-empty array");
        for (std::size_t i = 0; i < arr.size(); ++i)
            p.steps.push_back(ReadStep(arr[i], "steps[" + std::to_string(i) + "]", presets));
        return p;
    } catch (const ParseError& e) {
        error = e.text;
    } catch (const nlohmann::json::exception& e) {
        error = std::string("$: ") + e.what();
    }
    return std::nullopt;
}

ProgramLoadResult LoadPrograms(const std::vector<std::filesystem::path>& folders, const std::vector<BreathPattern>& presets) {
    ProgramLoadResult result;
    std::map<std::string, Program> by_id;
    for (const auto& folder : folders) {
        for (const auto& file : JsonFilesIn(folder)) {
            std::string text, error;
            if (!ReadTextFile(file, text, error, 1u << 20)) {
                result.errors.push_back(file.string() + ": " + error);
                continue;
            }
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(text);
            } catch (const nlohmann::json::parse_error& e) {
                // e.byte is the offset where parsing stopped: give line and column.
                std::size_t line = 1, col = 1;
                for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
                    if (text[i] == '\n') { ++line; col = 1; } else { ++col; }
                }
                result.errors.push_back(file.string() + ": line " + std::to_string(line) + ", column " +
                                        std::to_string(col) + ": not valid JSON");
                continue;
            } catch (const nlohmann::json::exception&) {
                // out_of_range 406: a number beyond what a double holds (1e999); it has no position.
                result.errors.push_back(file.string() + ": not valid JSON (a number out of range)");
                continue;
            }
            auto p = ProgramFromJson(j, presets, error);
            if (!p) {
                result.errors.push_back(file.string() + ": " + error);
                continue;
            }
            if (p->id.empty()) p->id = file.stem().string();
            if (p->name.empty()) p->name = p->id;
            p->file = file;
            by_id[p->id] = std::move(*p);
        }
    }
    const auto& order = ShippedOrder();
    auto rank = [&](const Program& p) {
        return static_cast<std::size_t>(std::distance(order.begin(), std::find(order.begin(), order.end(), p.id)));
    };
    for (auto& [id, p] : by_id) result.programs.push_back(std::move(p));
    std::stable_sort(result.programs.begin(), result.programs.end(), [&](const Program& a, const Program& b) {
        const auto ra = rank(a), rb = rank(b);
        return ra != rb ? ra < rb : a.name < b.name;
    });
    return result;
}

void ApplyResonanceRate(std::vector<BreathPattern>& presets, std::optional<double> rate_bpm) {
    if (!rate_bpm || !(*rate_bpm >= 2.0 && *rate_bpm <= 12.0)) return;
    for (auto& p : presets) {
        if (p.id != "resonance") continue;
        p.ramp.reset();
        p.SetRateBpm(*rate_bpm);
        char buf[64];
        std::snprintf(buf, sizeof buf, "Resonance %.1f/min (your assessed rate)", *rate_bpm);
        p.name = buf;
    }
}

}  // namespace attune::core
