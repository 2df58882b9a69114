#include "attune/core/pattern.hpp"
#include "attune/core/json_text.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "attune/core/fs_util.hpp"
#include "json_util.hpp"

namespace attune::core {

namespace {

constexpr double kMinCycleS = 1.0;    // 60 breaths/min: faster is not a breathing exercise
constexpr double kMaxCycleS = 120.0;  // 0.5 breaths/min
constexpr double kMinRateBpm = 0.5;
constexpr double kMaxRateBpm = 60.0;

// Built-in presets in the order the picker shows them; unknown ids sort after, by name.
const std::vector<std::string>& BuiltinOrder() {
    static const std::vector<std::string> order = {
        "resonance", "coherent", "box", "4-7-8", "sigh", "extended-exhale", "slowing-ramp", "natural"};
    return order;
}

std::optional<PhaseKind> KindFromString(const std::string& s) {
    if (s == "inhale") return PhaseKind::Inhale;
    if (s == "hold_in" || s == "hold-in" || s == "hold") return PhaseKind::HoldIn;
    if (s == "exhale") return PhaseKind::Exhale;
    if (s == "hold_out" || s == "hold-out") return PhaseKind::HoldOut;
    return std::nullopt;
}

const char* KindToString(PhaseKind k) {
    switch (k) {
        case PhaseKind::Inhale: return "inhale";
        case PhaseKind::HoldIn: return "hold_in";
        case PhaseKind::Exhale: return "exhale";
        case PhaseKind::HoldOut: return "hold_out";
        case PhaseKind::Natural: return "natural";
    }
    return "inhale";
}

double DefaultEndVolume(PhaseKind k, double previous) {
    switch (k) {
        case PhaseKind::Inhale: return 1.0;
        case PhaseKind::Exhale: return 0.0;
        default: return previous;
    }
}

// Reads an optional finite number; records a message when present but wrong.
bool ReadNumber(const nlohmann::json& j, const char* key, double& out, std::string& error) {
    if (!j.contains(key)) return false;
    const auto& v = j.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
        error = std::string("'") + key + "' must be a number";
        return false;
    }
    out = v.get<double>();
    return true;
}

}  // namespace

const char* PhaseName(PhaseKind kind) {
    switch (kind) {
        case PhaseKind::Inhale: return "Inhale";
        case PhaseKind::HoldIn: return "Hold";
        case PhaseKind::Exhale: return "Exhale";
        case PhaseKind::HoldOut: return "Hold";
        case PhaseKind::Natural: return "Breathe naturally";
    }
    return "";
}

double BreathPattern::CycleSeconds() const {
    double s = 0.0;
    for (const Phase& p : phases) s += p.duration_s;
    return s;
}

double BreathPattern::BaseRateBpm() const {
    if (!paced) return 0.0;
    if (ramp) return ramp->from_bpm;
    const double c = CycleSeconds();
    return c > 0.0 ? 60.0 / c : 0.0;
}

BreathPattern BreathPattern::FourPhase(std::string id, std::string name, double inhale_s,
                                       double hold_in_s, double exhale_s, double hold_out_s,
                                       double length_s) {
    BreathPattern p;
    p.id = std::move(id);
    p.name = std::move(name);
    p.length_s = length_s;
    p.phases.push_back({PhaseKind::Inhale, inhale_s, 1.0});
    if (hold_in_s > 0.0) p.phases.push_back({PhaseKind::HoldIn, hold_in_s, 1.0});
    p.phases.push_back({PhaseKind::Exhale, exhale_s, 0.0});
    if (hold_out_s > 0.0) p.phases.push_back({PhaseKind::HoldOut, hold_out_s, 0.0});
    return p;
}

void BreathPattern::SetRateBpm(double rate_bpm) {
    const double c = CycleSeconds();
    if (c <= 0.0 || !(rate_bpm > 0.0)) return;
    const double k = (60.0 / rate_bpm) / c;
    for (Phase& p : phases) p.duration_s *= k;
}

std::string BreathPattern::Validate() const {
    if (!std::isfinite(length_s) || length_s < 0.0) return "length_s must be 0 (open-ended) or positive";
    if (!paced) return {};
    if (phases.empty()) return "a paced pattern needs at least one phase";
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const Phase& p = phases[i];
        if (!std::isfinite(p.duration_s) || p.duration_s < 0.0)
            return "phase " + std::to_string(i + 1) + ": duration must be 0 or more seconds";
        if (!std::isfinite(p.end_volume) || p.end_volume < 0.0 || p.end_volume > 1.0)
            return "phase " + std::to_string(i + 1) + ": volume must be between 0 and 1";
    }
    const double c = CycleSeconds();
    if (c < kMinCycleS || c > kMaxCycleS) {
        std::ostringstream os;
        os << "one breath lasts " << c << " s; it must be between " << kMinCycleS << " and " << kMaxCycleS << " s";
        return os.str();
    }
    if (ramp) {
        for (double r : {ramp->from_bpm, ramp->to_bpm})
            if (!std::isfinite(r) || r < kMinRateBpm || r > kMaxRateBpm)
                return "ramp rates must be between 0.5 and 60 breaths/min";
        if (!std::isfinite(ramp->over_s) || ramp->over_s <= 0.0) return "ramp over_s must be positive";
    }
    return {};
}

BreathPattern DefaultPattern() {
    BreathPattern p = BreathPattern::FourPhase("coherent", "Coherent 6/min", 5.0, 0.0, 5.0, 0.0, 600.0);
    p.description = "Five seconds in, five seconds out.";
    return p;
}

std::optional<BreathPattern> PatternFromJson(const nlohmann::json& j, std::string& error) {
    error.clear();
    if (!j.is_object()) {
        error = "expected a JSON object";
        return std::nullopt;
    }
    BreathPattern p;
    try {
        if (j.contains("id") && j["id"].is_string()) p.id = j["id"].get<std::string>();
        if (j.contains("name") && j["name"].is_string()) p.name = j["name"].get<std::string>();
        if (j.contains("description") && j["description"].is_string())
            p.description = j["description"].get<std::string>();
        if (j.contains("paced")) {
            if (!j["paced"].is_boolean()) { error = "'paced' must be true or false"; return std::nullopt; }
            p.paced = j["paced"].get<bool>();
        }
        ReadNumber(j, "length_s", p.length_s, error);
        if (!error.empty()) return std::nullopt;

        if (j.contains("phases")) {
            const auto& arr = j["phases"];
            if (!arr.is_array()) { error = "'phases' must be an array"; return std::nullopt; }
            double prev_volume = 0.0;
            for (std::size_t i = 0; i < arr.size(); ++i) {
                const auto& e = arr[i];
                const std::string where = "phases[" + std::to_string(i) + "]";
                if (!e.is_object() || !e.contains("kind") || !e["kind"].is_string()) {
                    error = where + ": needs a \"kind\" (inhale, hold_in, exhale, hold_out)";
                    return std::nullopt;
                }
                auto kind = KindFromString(e["kind"].get<std::string>());
                if (!kind) { error = where + ": unknown kind " + detail::QuotedText(e["kind"].get<std::string>()); return std::nullopt; }
                Phase ph{*kind, 0.0, DefaultEndVolume(*kind, prev_volume)};
                if (!ReadNumber(e, "s", ph.duration_s, error)) {
                    if (error.empty()) error = "needs \"s\" (seconds)";
                    error = where + ": " + error;
                    return std::nullopt;
                }
                ReadNumber(e, "to", ph.end_volume, error);
                if (!error.empty()) { error = where + ": " + error; return std::nullopt; }
                prev_volume = ph.end_volume;
                p.phases.push_back(ph);
            }
        } else if (p.paced || j.contains("inhale_s")) {
            double in = 0, hin = 0, ex = 0, hout = 0;
            const bool has_in = ReadNumber(j, "inhale_s", in, error);
            if (!error.empty()) return std::nullopt;
            const bool has_ex = ReadNumber(j, "exhale_s", ex, error);
            if (!error.empty()) return std::nullopt;
            ReadNumber(j, "hold_in_s", hin, error);
            if (!error.empty()) return std::nullopt;
            ReadNumber(j, "hold_out_s", hout, error);
            if (!error.empty()) return std::nullopt;
            if (!has_in || !has_ex) {
                error = "needs either \"phases\" or \"inhale_s\" and \"exhale_s\"";
                return std::nullopt;
            }
            BreathPattern four = BreathPattern::FourPhase(p.id, p.name, in, hin, ex, hout, p.length_s);
            p.phases = four.phases;
        }

        double rate_bpm = 0.0;
        if (ReadNumber(j, "rate_bpm", rate_bpm, error)) {
            if (rate_bpm < kMinRateBpm || rate_bpm > kMaxRateBpm) {
                error = "'rate_bpm' must be between 0.5 and 60";
                return std::nullopt;
            }
            p.SetRateBpm(rate_bpm);
        }
        if (!error.empty()) return std::nullopt;

        if (j.contains("ramp")) {
            const auto& r = j["ramp"];
            if (!r.is_object()) { error = "'ramp' must be an object"; return std::nullopt; }
            Ramp ramp;
            const bool a = ReadNumber(r, "from_bpm", ramp.from_bpm, error);
            const bool b = ReadNumber(r, "to_bpm", ramp.to_bpm, error);
            const bool c = ReadNumber(r, "over_s", ramp.over_s, error);
            if (!error.empty() || !a || !b || !c) {
                error = "ramp: " + (error.empty() ? std::string("needs from_bpm, to_bpm and over_s") : error);
                return std::nullopt;
            }
            p.ramp = ramp;
            // The base cycle keeps the phase proportions; scale it to the starting rate.
            p.SetRateBpm(ramp.from_bpm);
        }
    } catch (const nlohmann::json::exception& e) {
        error = e.what();
        return std::nullopt;
    }
    if (std::string v = p.Validate(); !v.empty()) {
        error = v;
        return std::nullopt;
    }
    return p;
}

nlohmann::json PatternToJson(const BreathPattern& p) {
    nlohmann::json j;
    j["id"] = p.id;
    j["name"] = p.name;
    if (!p.description.empty()) j["description"] = p.description;
    j["paced"] = p.paced;
    j["length_s"] = p.length_s;
    if (p.paced) {
        auto arr = nlohmann::json::array();
        for (const Phase& ph : p.phases)
            arr.push_back({{"kind", KindToString(ph.kind)}, {"s", ph.duration_s}, {"to", ph.end_volume}});
        j["phases"] = arr;
        if (p.ramp)
            j["ramp"] = {{"from_bpm", p.ramp->from_bpm}, {"to_bpm", p.ramp->to_bpm}, {"over_s", p.ramp->over_s}};
    }
    return j;
}

PresetLoadResult LoadPresets(const std::vector<std::filesystem::path>& folders) {
    PresetLoadResult result;
    std::map<std::string, BreathPattern> by_id;
    for (const auto& folder : folders) {
        for (const auto& file : JsonFilesIn(folder)) {
            std::string text, error;
            if (!ReadTextFile(file, text, error)) {
                result.errors.push_back(file.string() + ": " + error);
                continue;
            }
            nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
            if (j.is_discarded()) {
                result.errors.push_back(file.string() + ": not valid JSON");
                continue;
            }
            auto p = PatternFromJson(j, error);
            if (!p) {
                result.errors.push_back(file.string() + ": " + error);
                continue;
            }
            if (p->id.empty()) p->id = file.stem().string();
            if (p->name.empty()) p->name = p->id;
            by_id[p->id] = std::move(*p);
        }
    }
    const auto& order = BuiltinOrder();
    auto rank = [&](const BreathPattern& p) {
        auto it = std::find(order.begin(), order.end(), p.id);
        return static_cast<std::size_t>(std::distance(order.begin(), it));
    };
    for (auto& [id, p] : by_id) result.presets.push_back(std::move(p));
    std::stable_sort(result.presets.begin(), result.presets.end(), [&](const auto& a, const auto& b) {
        const auto ra = rank(a), rb = rank(b);
        return ra != rb ? ra < rb : a.name < b.name;
    });
    return result;
}

std::string SaveUserPreset(const std::filesystem::path& folder, const BreathPattern& p) {
    if (std::string v = p.Validate(); !v.empty()) return v;
    std::string id = p.id.empty() ? std::string("custom") : p.id;
    for (char& c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
    BreathPattern copy = p;
    copy.id = id;
    return WriteFileAtomic(folder / (id + ".json"), DumpJson(PatternToJson(copy), 2) + "\n");
}

}  // namespace attune::core
