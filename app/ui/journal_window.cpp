// Ratings and note: an optional distress rating 0-10 asked when a session is started ("before")
// and when it stops ("after", with a free-text note). Both are popups; skipping is one click.
// Everything is saved through LiveSession::SetRatings into the session's session.json.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

namespace {

// 0..10 as a row of buttons; returns true when one was clicked. `value` -1 = none chosen.
bool RatingRow(const char* id, int& value, float scale) {
    bool changed = false;
    ImGui::PushID(id);
    const float spacing = ImGui::GetStyle().ItemSpacing.x * 0.5f;
    const float w = std::max(22.0f * scale, (ImGui::GetContentRegionAvail().x - 10 * spacing) / 11.0f);
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(spacing, ImGui::GetStyle().ItemSpacing.y));
    for (int i = 0; i <= 10; ++i) {
        if (i > 0) ImGui::SameLine();
        const bool on = value == i;
        if (on) ImGui::PushStyleColor(ImGuiCol_Button, ImVec4(0.85f, 0.62f, 0.30f, 1.0f));
        char label[16];
        std::snprintf(label, sizeof label, "%d", i);
        if (ImGui::Button(label, ImVec2(w, 0))) {
            value = i;
            changed = true;
        }
        if (on) ImGui::PopStyleColor();
    }
    ImGui::PopStyleVar();
    ImGui::TextDisabled("0 = no distress at all, 10 = the worst you can imagine");
    ImGui::PopID();
    return changed;
}

double Now(const AppState& app, double fallback) { return app.app_clock ? app.app_clock() : fallback; }

}  // namespace

void RequestStart(AppState& app, double now_s) {
    SessionUi& ui = app.session_ui;
    if (ImGui::GetCurrentContext() && ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId | ImGuiPopupFlags_AnyPopupLevel))
        return;  // Space while a popup is open does not start anything
    if (!app.record || ui.cli_before) {  // nothing to keep it in, or already given on the command line
        StartSession(app, now_s);
        return;
    }
    ui.ask_before = true;
    ui.before_value = -1;
}

void OnSessionStarted(AppState& app) {
    SessionUi& ui = app.session_ui;
    if (!app.session) return;
    ui.last_folder = app.session->recording_folder();
    ui.asked_after_for.clear();
    std::optional<int> before = ui.pending_before;
    if (!before && ui.cli_before) before = ui.cli_before;
    ui.pending_before.reset();
    if (ui.recovery_at_s) app.session->ScheduleRecovery(*ui.recovery_at_s);
    if (!before || !app.record) return;
    if (std::string e = app.session->SetRatings(before, std::nullopt, {}); !e.empty()) {
        app.messages.push_back(e);
        std::fprintf(stderr, "attune: %s\n", e.c_str());
    }
}

void UpdateSessionUi(AppState& app, double /*now_s*/) {
    SessionUi& ui = app.session_ui;
    const core::LiveSession* s = app.session.get();
    if (!ui.recovery_checked) {
        // The next start recovers a session interrupted by a crash or kill and says so.
        ui.recovery_checked = true;
        if (app.record)
            for (const auto& r : core::SessionStore(app.data_dir).RecoverInterrupted(app.profile)) {
                app.messages.push_back(r.message);
                std::fprintf(stderr, "attune: %s\n", r.message.c_str());
            }
    }
    // A recorded session has just stopped: ask how the person feels now (once per session).
    if (s && !s->running() && app.record && !s->recording_folder().empty() &&
        ui.asked_after_for != s->recording_folder() && !ui.cli_after) {
        ui.asked_after_for = s->recording_folder();
        ui.ask_after = true;
        ui.after_value = s->distress_after().value_or(-1);
        const std::string& note = s->note();
        const std::size_t n = std::min(note.size(), ui.note.size() - 1);
        std::memcpy(ui.note.data(), note.data(), n);
        ui.note[n] = '\0';
        ui.journal_message.clear();
        ui.history_loaded = false;  // the history shows the new session
    }
}

void FinishRunJournal(AppState& app) {
    SessionUi& ui = app.session_ui;
    if (!app.session || !app.record || (!ui.cli_after && ui.cli_note.empty())) return;
    const std::string note = ui.cli_note.empty() ? app.session->note() : ui.cli_note;
    const auto after = ui.cli_after ? ui.cli_after : app.session->distress_after();
    if (std::string e = app.session->SetRatings(app.session->distress_before(), after, note); !e.empty())
        std::fprintf(stderr, "attune: %s\n", e.c_str());
}

void DrawJournal(AppState& app, double now_s) {
    SessionUi& ui = app.session_ui;
    const float s = app.dpi_scale;
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const ImVec2 center(vp->WorkPos.x + vp->WorkSize.x * 0.5f, vp->WorkPos.y + vp->WorkSize.y * 0.5f);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings;

    if (ui.ask_before) {
        ImGui::OpenPopup("Before you begin");
        ui.ask_before = false;
    }
    ImGui::SetNextWindowPos(center, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowSize(ImVec2(460 * s, 0));
    if (ImGui::BeginPopupModal("Before you begin", nullptr, flags & ~ImGuiWindowFlags_AlwaysAutoResize)) {
        ImGui::TextWrapped("How much distress do you feel right now? (optional)");
        RatingRow("before", ui.before_value, s);
        ImGui::Spacing();
        const float bw = 130 * s;
        bool start = false;
        if (ImGui::Button("Begin", ImVec2(bw, 0)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter))) {
            if (ui.before_value >= 0) ui.pending_before = ui.before_value;
            start = true;
        }
        ImGui::SameLine();
        if (ImGui::Button("Skip rating", ImVec2(bw, 0))) start = true;
        ImGui::SameLine();
        if (ImGui::Button("Cancel", ImVec2(bw, 0)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
            ImGui::CloseCurrentPopup();
        if (start) {
            ImGui::CloseCurrentPopup();
            StartSession(app, Now(app, now_s));
        }
        ImGui::EndPopup();
    }

    if (ui.ask_after) {
        ImGui::OpenPopup("Session finished");
        ui.ask_after = false;
    }
    ImGui::SetNextWindowPos(center, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    ImGui::SetNextWindowSize(ImVec2(500 * s, 0));
    if (ImGui::BeginPopupModal("Session finished", nullptr, flags & ~ImGuiWindowFlags_AlwaysAutoResize)) {
        core::LiveSession* session = app.session.get();
        if (session) {
            const auto r = session->RecordSummary();
            const int secs = static_cast<int>(r.duration_s + 0.5);
            ImGui::Text("%d:%02d recorded", secs / 60, secs % 60);
            if (r.hr_mean_bpm) { ImGui::SameLine(); ImGui::Text("   mean heart rate %.0f bpm", *r.hr_mean_bpm); }
            if (r.coherence_mean) { ImGui::SameLine(); ImGui::Text("   coherence %.2f", *r.coherence_mean); }
        }
        ImGui::Separator();
        ImGui::TextWrapped("How much distress do you feel now? (optional)");
        if (session && session->distress_before())
            ImGui::TextDisabled("Before the session you said %d.", *session->distress_before());
        RatingRow("after", ui.after_value, s);
        ImGui::Spacing();
        ImGui::TextUnformatted("Note (optional): how it went, what helped, what got in the way");
        ImGui::InputTextMultiline("##note", ui.note.data(), ui.note.size(), ImVec2(-1, 110 * s));
        if (!ui.journal_message.empty()) ImGui::TextWrapped("%s", ui.journal_message.c_str());
        const float bw = 150 * s;
        if (ImGui::Button("Save", ImVec2(bw, 0))) {
            std::string e = "The session is gone.";
            if (session) {
                const std::optional<int> after = ui.after_value >= 0 ? std::optional<int>(ui.after_value) : std::nullopt;
                e = session->SetRatings(session->distress_before(), after, std::string(ui.note.data()));
            }
            ui.journal_message = e;
            if (e.empty()) {
                ui.history_loaded = false;
                ImGui::CloseCurrentPopup();
            }
        }
        ImGui::SameLine();
        if (ImGui::Button("Skip", ImVec2(bw, 0))) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }
}

}  // namespace attune::ui
