// Guided programs in the app: loading them (with the profile's resonance rate), the picker in the
// controls panel, the step / prompt / rating overlay above the orb, and keeping a finished
// resonance assessment in the profile. Draws AppState only; the program logic is core's.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "attune/core/fs_util.hpp"
#include "attune/core/profiles.hpp"
#include "attune/core/program_runner.hpp"
#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

namespace {

std::string LowerAscii(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

void ReloadPrograms(AppState& app, bool report) {
    const std::string selected = app.program_index >= 0 && app.program_index < static_cast<int>(app.programs.size())
                                     ? app.programs[static_cast<std::size_t>(app.program_index)].id
                                     : std::string();
    auto loaded = core::LoadPrograms(app.program_dirs, app.presets);
    app.programs = std::move(loaded.programs);
    if (report)
        for (const auto& e : loaded.errors) {
            std::fprintf(stderr, "attune: program skipped: %s\n", e.c_str());
            app.messages.push_back("Program skipped: " + e);
        }
    app.program_index = -1;
    for (std::size_t i = 0; i < app.programs.size(); ++i)
        if (app.programs[i].id == selected) app.program_index = static_cast<int>(i);
}

const core::ProgramRunner* Runner(const AppState& app) {
    return app.session && app.session->program() ? app.session->program() : nullptr;
}

}  // namespace

int SetUpPrograms(AppState& app, const std::string& program_name) {
    // The resonance preset plays at the profile's assessed rate (programs resolve presets at load).
    const auto prof = core::LoadProfileSettings(app.data_dir, app.profile);
    core::ApplyResonanceRate(app.presets, prof.settings.resonance_rate_bpm);
    if (!app.pattern_is_custom)
        for (const auto& p : app.presets)
            if (p.id == app.pattern.id) app.pattern = p;
    app.assessment_history = core::LoadAssessmentHistory(app.data_dir, app.profile);
    for (const auto& d : core::AssetDirs()) app.program_dirs.push_back(d / "programs");
    app.program_dirs.push_back(app.config_dir / "programs");
    ReloadPrograms(app, true);
    if (program_name.empty()) return 0;
    for (std::size_t i = 0; i < app.programs.size(); ++i)
        if (LowerAscii(app.programs[i].id) == LowerAscii(program_name) || LowerAscii(app.programs[i].name) == LowerAscii(program_name)) {
            app.program_index = static_cast<int>(i);
            return 0;
        }
    std::fprintf(stderr, "attune: unknown program '%s'; available:", program_name.c_str());
    for (const auto& p : app.programs) std::fprintf(stderr, " %s", p.id.c_str());
    std::fprintf(stderr, "\n");
    return 2;
}

void AttachSelectedProgram(AppState& app) {
    app.assessment_saved = false;
    app.rating_saved_step = -1;
    if (!app.session || app.program_index < 0 || app.program_index >= static_cast<int>(app.programs.size())) return;
    const core::Program& p = app.programs[static_cast<std::size_t>(app.program_index)];
    app.session->AttachProgram(std::make_unique<core::ProgramRunner>(p));
    if (p.HasAssessment()) app.show_assessment = true;
}

std::optional<double> ProgramEndSessionS(const AppState& app) {
    const core::ProgramRunner* r = Runner(app);
    if (!r) return std::nullopt;
    const auto end = r->KnownEndS();
    if (!end) return std::nullopt;
    return *end + (app.session->session_time_s() - app.session->pacer_time_s());  // + pauses so far
}

std::optional<double> ProgramNextDecisionSessionS(const AppState& app) {
    const core::ProgramRunner* r = Runner(app);
    if (!r) return std::nullopt;
    const auto td = r->NextDecisionS();
    if (!td) return std::nullopt;
    return *td + (app.session->session_time_s() - app.session->pacer_time_s());
}

bool ProgramFinished(const AppState& app) {
    const core::ProgramRunner* r = Runner(app);
    return r && r->Finished(app.session->pacer_time_s());
}

void ProgramTick(AppState& app) {
    const core::ProgramRunner* r = Runner(app);
    if (!r || app.assessment_saved || !r->assessment() || !r->assessment()->valid) return;
    app.assessment_saved = true;
    core::AssessmentResult result = *r->assessment();
    result.started_utc = core::FormatUtcIso8601(std::chrono::system_clock::now());
    if (app.record) {
        if (std::string e = core::SaveAssessmentToProfile(app.data_dir, app.profile, result); !e.empty()) {
            std::fprintf(stderr, "attune: could not keep the assessment in the profile: %s\n", e.c_str());
            app.messages.push_back("Assessment not saved: " + e);
        }
        app.assessment_history = core::LoadAssessmentHistory(app.data_dir, app.profile);
    } else {
        app.assessment_history.push_back(result);
    }
    // The resonance preset (and programs using it) now play at the recommended rate.
    core::ApplyResonanceRate(app.presets, result.recommended_rate_bpm);
    if (!app.pattern_is_custom && app.pattern.id == "resonance")
        for (const auto& p : app.presets)
            if (p.id == "resonance") app.pattern = p;
    ReloadPrograms(app, false);
    char buf[128];
    std::snprintf(buf, sizeof buf, "Resonance rate %.1f breaths/min is now your resonance preset.", result.recommended_rate_bpm);
    app.messages.push_back(buf);
}

void DrawProgramSection(AppState& app, double now_s) {
    ImGui::TextDisabled("Guided program");
    const char* current = app.program_index >= 0 && app.program_index < static_cast<int>(app.programs.size())
                              ? app.programs[static_cast<std::size_t>(app.program_index)].name.c_str()
                              : "None (just the pattern)";
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##program", current)) {
        if (ImGui::Selectable("None (just the pattern)", app.program_index < 0)) app.program_index = -1;
        for (std::size_t i = 0; i < app.programs.size(); ++i) {
            const auto& p = app.programs[i];
            char label[160];
            std::snprintf(label, sizeof label, "%s  (%.0f min)", p.name.c_str(), p.NominalLengthS() / 60.0);
            if (ImGui::Selectable(label, app.program_index == static_cast<int>(i))) app.program_index = static_cast<int>(i);
            if (ImGui::IsItemHovered() && !p.description.empty()) ImGui::SetTooltip("%s", p.description.c_str());
        }
        ImGui::EndCombo();
    }
    const core::ProgramRunner* r = Runner(app);
    if (r && app.session->running()) {
        const double t = app.session->pacer_time_s();
        const int step = r->StepAt(t);
        if (step >= 0) {
            const auto& st = r->program().steps[static_cast<std::size_t>(step)];
            ImGui::TextDisabled("Step %d of %zu: %s", step + 1, r->program().steps.size(), st.title.c_str());
        }
        if (const auto& ramp = r->ramp(); ramp && step >= 0 && r->program().steps[static_cast<std::size_t>(step)].kind == core::StepKind::Ramp)
            ImGui::TextDisabled("Ramp %.1f -> %.1f /min%s", ramp->rate_bpm(), ramp->target_bpm(),
                                ramp->holding() ? ", holding while the heart settles" : "");
    } else if (app.program_index >= 0) {
        ImGui::TextDisabled("Press Start to begin the program.");
    }
    if (!app.assessment_history.empty() || (r && r->program().HasAssessment()))
        if (ImGui::Button(app.show_assessment ? "Hide assessment" : "Resonance assessment")) app.show_assessment = !app.show_assessment;
    (void)now_s;
}

void DrawProgramOverlay(AppState& app) {
    const core::ProgramRunner* r = Runner(app);
    if (!r || !app.session->running()) return;
    const double t = app.session->pacer_time_s();
    const int step_index = r->StepAt(t);
    if (step_index < 0 || r->Finished(t)) return;
    const core::ProgramStep& step = r->program().steps[static_cast<std::size_t>(step_index)];
    const std::string prompt = r->PromptAt(t);
    const bool rating = step.kind == core::StepKind::Rating && app.rating_saved_step != step_index;

    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float s = app.dpi_scale;
    const float panel_w = app.show_controls ? 360.0f * s : 0.0f;
    const float w = std::min(vp->WorkSize.x - panel_w - 40.0f * s, 720.0f * s);
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + (vp->WorkSize.x - panel_w - w) * 0.5f, vp->WorkPos.y + 62.0f * s));
    ImGui::SetNextWindowSize(ImVec2(w, 0.0f));
    ImGui::SetNextWindowBgAlpha(rating ? 0.85f : 0.0f);
    ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                             ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoFocusOnAppearing;
    if (!rating) flags |= ImGuiWindowFlags_NoInputs;
    ImGui::Begin("##program_overlay", nullptr, flags);
    auto centered = [&](ImFont* font, const char* text, ImVec4 col) {
        ImGui::PushFont(font);
        const float tw = ImGui::CalcTextSize(text, nullptr, false, w - 20.0f * s).x;
        ImGui::SetCursorPosX(std::max(0.0f, (w - tw) * 0.5f));
        ImGui::PushStyleColor(ImGuiCol_Text, col);
        ImGui::PushTextWrapPos(w - 10.0f * s);
        ImGui::TextUnformatted(text);
        ImGui::PopTextWrapPos();
        ImGui::PopStyleColor();
        ImGui::PopFont();
    };
    centered(app.fonts.small ? app.fonts.small : ImGui::GetFont(), step.title.c_str(), ImVec4(0.60f, 0.68f, 0.76f, 1.0f));
    if (!prompt.empty()) centered(app.fonts.body ? app.fonts.body : ImGui::GetFont(), prompt.c_str(), ImVec4(0.93f, 0.95f, 0.97f, 1.0f));
    if (rating) {
        centered(app.fonts.body ? app.fonts.body : ImGui::GetFont(), step.question.c_str(), ImVec4(0.93f, 0.95f, 0.97f, 1.0f));
        ImGui::SetNextItemWidth(w * 0.6f);
        ImGui::SetCursorPosX(w * 0.2f);
        ImGui::SliderInt("##rating", &app.rating_value, 0, 10);
        ImGui::SameLine();
        if (ImGui::Button("Save")) {
            app.rating_saved_step = step_index;
            const auto& meta_key = step.rating_key;
            app.session->AddMarker("rating " + meta_key + " = " + std::to_string(app.rating_value));
            const core::SessionMeta& m = app.session->meta();
            if (meta_key == "distress_before") app.session->SetRatings(app.rating_value, m.distress_after, m.note);
            if (meta_key == "distress_after") app.session->SetRatings(m.distress_before, app.rating_value, m.note);
        }
    }
    ImGui::End();
}

void AddProgramJson(const AppState& app, nlohmann::json& j) {
    const core::ProgramRunner* r = Runner(app);
    if (!r) {
        j["program"] = nullptr;
        return;
    }
    j["program"] = r->program().id;
    j["program_finished"] = r->Finished(app.session->pacer_time_s());
    j["program_length_s"] = r->timeline().end_s();
    j["steps_started"] = r->StepAt(app.session->pacer_time_s()) + 1;
    j["baseline_breathing_bpm"] = r->baseline_breathing_bpm() ? nlohmann::json(*r->baseline_breathing_bpm()) : nlohmann::json(nullptr);
    j["ramp_held_breaths"] = r->ramp_held_breaths();
    if (!r->program().HasAssessment()) return;
    if (const auto& a = r->assessment()) {
        const nlohmann::json aj = core::AssessmentToJson(*a);
        j["recommended_rate_bpm"] = aj["recommended_rate_bpm"];
        j["rate_scores"] = aj["scores"];
        j["assessment"] = aj;
    } else {
        j["recommended_rate_bpm"] = nullptr;
        j["assessment"] = nullptr;
    }
}

}  // namespace attune::ui
