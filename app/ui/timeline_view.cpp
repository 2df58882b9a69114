// The practitioner's session timeline, under the start/stop buttons: baseline (first 2 min) ->
// practice -> recovery, the current position, and the markers dropped with keys 1-4 (hover for
// their text). Buttons: begin recovery (R), history (H), report of the last session.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "attune/core/profiles.hpp"
#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

namespace {

constexpr ImU32 kBaselineCol = IM_COL32(110, 130, 170, 255);
constexpr ImU32 kPracticeCol = IM_COL32(70, 170, 160, 255);
constexpr ImU32 kRecoveryCol = IM_COL32(170, 130, 200, 255);
constexpr ImU32 kMarkerCol = IM_COL32(250, 170, 80, 255);

std::string Clock(double t_s) {
    const int s = static_cast<int>(std::max(0.0, t_s) + 0.5);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
    return buf;
}

void WriteReport(AppState& app) {
    SessionUi& ui = app.session_ui;
    const std::filesystem::path dir = core::DefaultExportDir(app.data_dir);
    if (std::string e = core::MakePrivateDirTree(dir); !e.empty()) {
        app.messages.push_back("Report not written: " + e);
        return;
    }
    const std::filesystem::path out = dir / (ui.last_folder.filename().string() + "-report.html");
    const std::string e = core::WriteSessionReport(ui.last_folder, out);
    app.messages.push_back(e.empty() ? "Report written: " + out.string() : e);
}

}  // namespace

void DrawTimeline(AppState& app, double /*now_s*/) {
    const float s = app.dpi_scale;
    const core::LiveSession* session = app.session.get();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float w = ImGui::GetContentRegionAvail().x;
    const float bar_h = 14.0f * s, tick_h = 6.0f * s;
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float y0 = p.y + tick_h + 2 * s;
    const ImFont* font = app.fonts.small ? app.fonts.small : ImGui::GetFont();
    const float fs = font->FontSize;

    const double t_now = session ? session->session_time_s() : 0.0;
    const double length_s = session ? session->pacer().pattern().length_s : app.pattern.length_s;
    const auto rec = session ? session->recovery_start_s() : std::nullopt;
    // The bar spans the planned session (pattern length plus a little recovery) or what has run.
    // Recovery is given two minutes on the bar until it has run longer.
    const double planned_end = rec ? *rec + 120.0 : (length_s > 0.0 ? length_s + 120.0 : 0.0);
    const double span = std::max({t_now * 1.05, planned_end, core::LiveSession::kBaselineS * 2.0});
    auto X = [&](double t) { return p.x + static_cast<float>(std::clamp(t / span, 0.0, 1.0)) * w; };
    const double base_end = core::LiveSession::kBaselineS;
    const double practice_end = rec ? *rec : (length_s > 0.0 ? std::max(length_s, base_end) : span);
    struct Seg { double a, b; ImU32 col; const char* name; };
    const Seg segs[] = {{0.0, std::min(base_end, practice_end), kBaselineCol, "Baseline"},
                        {base_end, practice_end, kPracticeCol, "Practice"},
                        {practice_end, span, kRecoveryCol, "Recovery"}};
    for (const Seg& g : segs) {
        if (g.b <= g.a) continue;
        const ImVec2 a(X(g.a), y0), b(X(g.b), y0 + bar_h);
        // Done: full colour; still to come: faint.
        const float done_x = X(std::clamp(t_now, g.a, g.b));
        const ImU32 faint = (g.col & 0x00FFFFFFu) | (0x50u << 24);
        dl->AddRectFilled(a, b, faint);
        if (session && t_now > g.a) dl->AddRectFilled(a, ImVec2(done_x, b.y), g.col);
        const ImVec2 ts = font->CalcTextSizeA(fs, 1e9f, 0.0f, g.name);
        if (ts.x + 6 * s < b.x - a.x)
            dl->AddText(font, fs, ImVec2(a.x + 4 * s, y0 + (bar_h - ts.y) * 0.5f), IM_COL32(245, 248, 250, 230), g.name);
    }
    if (session) {
        for (const auto& [t, text] : session->markers()) {
            const float x = X(t);
            dl->AddTriangleFilled(ImVec2(x - 4 * s, p.y), ImVec2(x + 4 * s, p.y), ImVec2(x, y0), kMarkerCol);
            dl->AddLine(ImVec2(x, y0), ImVec2(x, y0 + bar_h), kMarkerCol, 1.5f * s);
        }
        const float x = X(t_now);
        dl->AddLine(ImVec2(x, p.y), ImVec2(x, y0 + bar_h + 3 * s), IM_COL32(255, 255, 255, 255), 2.0f * s);
    }
    ImGui::InvisibleButton("##timeline", ImVec2(w, tick_h + bar_h + 4 * s));
    if (session && ImGui::IsItemHovered()) {
        // The marker nearest the mouse, if it is close.
        const float mx = ImGui::GetIO().MousePos.x;
        const std::pair<double, std::string>* best = nullptr;
        float best_d = 6.0f * s;
        for (const auto& m : session->markers())
            if (std::abs(X(m.first) - mx) < best_d) { best_d = std::abs(X(m.first) - mx); best = &m; }
        if (best) ImGui::SetTooltip("%s  %s", Clock(best->first).c_str(), best->second.c_str());
        else ImGui::SetTooltip("0:00 - %s: baseline (your usual range today), practice, recovery", Clock(span).c_str());
    }

    if (session) {
        const core::SessionPhase ph = session->phase();
        const char* what = ph == core::SessionPhase::Baseline ? "Baseline"
                           : ph == core::SessionPhase::Practice ? "Practice" : "Recovery";
        ImGui::Text("%s  %s", what, Clock(t_now).c_str());
        if (!session->markers().empty()) {
            ImGui::SameLine();
            ImGui::TextDisabled("  %zu marker%s", session->markers().size(), session->markers().size() == 1 ? "" : "s");
        }
    } else {
        ImGui::TextDisabled("Baseline 2 min, then practice, then recovery");
    }
    const bool running = session && session->running();
    const float bw = (ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().ItemSpacing.x) / 3.0f;
    // The hotkey hint goes when it would not fit (narrow window, large text); the tooltip keeps it.
    auto fit = [bw](const char* with_key, const char* without) {
        return ImGui::CalcTextSize(with_key).x + 2 * ImGui::GetStyle().FramePadding.x <= bw ? with_key : without;
    };
    ImGui::BeginDisabled(!running || session->phase() == core::SessionPhase::Recovery);
    if (ImGui::Button(fit("Recovery (R)", "Recovery###recovery"), ImVec2(bw, 0))) app.session->StartRecovery();
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("Stop pacing and watch the heart settle (it also begins when the pattern ends). Key: R");
    ImGui::SameLine();
    if (ImGui::Button(app.session_ui.history_open ? "Hide history" : fit("History (H)", "History###history"), ImVec2(bw, 0)))
        app.session_ui.history_open = !app.session_ui.history_open;
    ImGui::SameLine();
    std::error_code ec;
    const bool have_report = !running && !app.session_ui.last_folder.empty() &&
                             std::filesystem::exists(app.session_ui.last_folder / "session.json", ec);
    ImGui::BeginDisabled(!have_report);
    if (ImGui::Button("Report", ImVec2(bw, 0))) WriteReport(app);
    ImGui::EndDisabled();
    if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("%s", have_report ? "Write the last session's report (HTML) into the export folder"
                                            : "A report can be written once a recorded session has stopped");
}

}  // namespace attune::ui
