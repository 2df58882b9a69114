#include "attune/core/session_format.hpp"

#include "json_util.hpp"

namespace attune::core {

namespace {

using detail::Opt;
nlohmann::json OptInt(const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

void ReadOpt(const nlohmann::json& j, const char* key, std::optional<double>& out, std::string& error) {
    if (!j.contains(key) || j[key].is_null()) return;
    if (j[key].is_number()) out = j[key].get<double>();
    else error += std::string(error.empty() ? "" : "; ") + "'" + key + "' is not a number";
}

template <class T>
void ReadValue(const nlohmann::json& j, const char* key, T& out, std::string& error) {
    if (!j.contains(key) || j[key].is_null()) return;
    try {
        out = j[key].get<T>();
    } catch (const nlohmann::json::exception&) {
        error += std::string(error.empty() ? "" : "; ") + "'" + key + "' has the wrong type";
    }
}

}  // namespace

nlohmann::json SessionMetaToJson(const SessionMeta& m) {
    const RecordedSummary& s = m.summary;
    nlohmann::json summary = {
        {"duration_s", s.duration_s},
        {"beats", s.beats},
        {"hr_mean_bpm", Opt(s.hr_mean_bpm)},
        {"rmssd_ms", Opt(s.rmssd_ms)},
        {"sdnn_ms", Opt(s.sdnn_ms)},
        {"coherence_mean", Opt(s.coherence_mean)},
        {"coherence_peak", Opt(s.coherence_peak)},
        {"high_coherence_pct", Opt(s.high_coherence_pct)},
        {"rsa_mean_bpm", Opt(s.rsa_mean_bpm)},
        {"breathing_rate_bpm", Opt(s.breathing_rate_bpm)},
        {"pacer_following_pct", Opt(s.pacer_following_pct)},
        {"breaths", s.breaths},
        {"artifacts_flagged", s.artifacts_flagged},
        {"markers", s.markers},
    };
    return {
        {"format", m.format},
        {"id", m.id},
        {"profile", m.profile},
        {"started_utc", m.started_utc},
        {"ended_utc", m.ended_utc},
        {"status", m.status},
        {"pattern", m.pattern},
        {"program", m.program},
        {"source", m.source},
        {"beat_source", m.beat_source},
        {"ratings", {{"distress_before", OptInt(m.distress_before)}, {"distress_after", OptInt(m.distress_after)}}},
        {"note", m.note},
        {"summary", summary},
    };
}

bool SessionMetaFromJson(const nlohmann::json& j, SessionMeta& m, std::string& error) {
    error.clear();
    if (!j.is_object()) {
        error = "session.json is not a JSON object";
        return false;
    }
    ReadValue(j, "format", m.format, error);
    ReadValue(j, "id", m.id, error);
    ReadValue(j, "profile", m.profile, error);
    ReadValue(j, "started_utc", m.started_utc, error);
    ReadValue(j, "ended_utc", m.ended_utc, error);
    ReadValue(j, "status", m.status, error);
    if (j.contains("pattern")) m.pattern = j["pattern"];
    ReadValue(j, "program", m.program, error);
    ReadValue(j, "source", m.source, error);
    ReadValue(j, "beat_source", m.beat_source, error);
    ReadValue(j, "note", m.note, error);
    if (j.contains("ratings") && j["ratings"].is_object()) {
        const auto& r = j["ratings"];
        if (r.contains("distress_before") && r["distress_before"].is_number_integer()) m.distress_before = r["distress_before"].get<int>();
        if (r.contains("distress_after") && r["distress_after"].is_number_integer()) m.distress_after = r["distress_after"].get<int>();
    }
    if (j.contains("summary") && j["summary"].is_object()) {
        const auto& s = j["summary"];
        RecordedSummary& o = m.summary;
        ReadValue(s, "duration_s", o.duration_s, error);
        ReadValue(s, "beats", o.beats, error);
        ReadOpt(s, "hr_mean_bpm", o.hr_mean_bpm, error);
        ReadOpt(s, "rmssd_ms", o.rmssd_ms, error);
        ReadOpt(s, "sdnn_ms", o.sdnn_ms, error);
        ReadOpt(s, "coherence_mean", o.coherence_mean, error);
        ReadOpt(s, "coherence_peak", o.coherence_peak, error);
        ReadOpt(s, "high_coherence_pct", o.high_coherence_pct, error);
        ReadOpt(s, "rsa_mean_bpm", o.rsa_mean_bpm, error);
        ReadOpt(s, "breathing_rate_bpm", o.breathing_rate_bpm, error);
        ReadOpt(s, "pacer_following_pct", o.pacer_following_pct, error);
        ReadValue(s, "breaths", o.breaths, error);
        ReadValue(s, "artifacts_flagged", o.artifacts_flagged, error);
        ReadValue(s, "markers", o.markers, error);
    }
    return true;
}

}  // namespace attune::core
