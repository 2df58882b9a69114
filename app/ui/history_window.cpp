// History of the current profile: past sessions (date, preset, duration, mean HR, RMSSD, mean
// coherence, distress before -> after), trends over days or weeks (coherence, RMSSD, resting
// heart rate, distress change) drawn with the plot helpers, and per-session actions: report,
// export (report + RR + CSV into a folder), delete (to the trash, after a confirmation).
// The data and every action are core functions (session_history.hpp); this file only draws.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "attune/core/profiles.hpp"
#include "imgui.h"
#include "ui/app_state.hpp"
#include "ui/plot.hpp"

namespace attune::ui {

namespace {

constexpr ImU32 kTrendCol = IM_COL32(120, 190, 240, 255);
constexpr ImU32 kTrendDot = IM_COL32(250, 190, 120, 255);

void Reload(AppState& app) {
    SessionUi& ui = app.session_ui;
    const core::SessionStore store(app.data_dir);
    if (app.record)
        for (const auto& r : store.RecoverInterrupted(app.profile)) app.messages.push_back(r.message);
    const auto entries = store.ListSessions(app.profile);
    ui.rows = core::HistoryRows(entries);
    ui.trends = core::ComputeTrends(entries);
    ui.selected = ui.rows.empty() ? -1 : std::clamp(ui.selected, 0, static_cast<int>(ui.rows.size()) - 1);
    if (ui.export_dir[0] == '\0') {
        const std::string d = core::DefaultExportDir(app.data_dir).string();
        std::snprintf(ui.export_dir.data(), ui.export_dir.size(), "%s", d.c_str());
    }
    ui.history_loaded = true;
}

std::string Opt(const std::optional<double>& v, const char* fmt) {
    if (!v || !std::isfinite(*v)) return "-";
    char buf[48];
    std::snprintf(buf, sizeof buf, fmt, *v);
    return buf;
}

std::string Distress(const core::HistoryRow& r) {
    if (!r.distress_before && !r.distress_after) return "-";
    std::string s = (r.distress_before ? std::to_string(*r.distress_before) : "?") + " > " +
                    (r.distress_after ? std::to_string(*r.distress_after) : "?");
    if (r.distress_change) {
        char buf[16];
        std::snprintf(buf, sizeof buf, " (%+d)", *r.distress_change);
        s += buf;
    }
    return s;
}

std::string Duration(double s) {
    const long t = std::lround(std::max(0.0, s));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

// One trend plot: x = days (or weeks) before today, y = the figure; points joined by lines.
void TrendPlot(ImDrawList* dl, const AppState& app, ImVec2 pos, ImVec2 size, const char* title, const char* unit,
               const char* y_fmt, std::optional<double> core::TrendPoint::*field, bool zero_line) {
    const SessionUi& ui = app.session_ui;
    const auto& pts = ui.trends_weekly ? ui.trends.weeks : ui.trends.days;
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::int64_t today = core::LocalDayNumber(now_s);
    const double per = ui.trends_weekly ? 7.0 : 1.0;
    auto x_of = [&](const core::TrendPoint& p) { return static_cast<double>(p.day - today) / per; };
    double x0 = 0.0, x1 = 0.0, y0 = 1e300, y1 = -1e300;
    std::size_t n = 0;
    for (const auto& p : pts) {
        if (!(p.*field)) continue;
        x0 = std::min(x0, x_of(p));
        y0 = std::min(y0, *(p.*field));
        y1 = std::max(y1, *(p.*field));
        ++n;
    }
    if (n == 0) { y0 = 0.0; y1 = 1.0; }
    if (zero_line) { y0 = std::min(y0, 0.0); y1 = std::max(y1, 0.0); }
    const double pad = std::max(0.1 * (y1 - y0), zero_line ? 1.0 : 0.05 * std::max(1.0, std::abs(y1)));
    y0 -= pad;
    y1 += pad;
    x0 = std::min(x0, -(ui.trends_weekly ? 4.0 : 7.0)) - 0.5;
    x1 = 0.5;
    PlotFrame f = BeginPlot(dl, app.fonts.small, app.dpi_scale, pos, size, title, x0, x1, y0, y1, "%.0f", y_fmt,
                            ui.trends_weekly ? "weeks ago" : "days ago", unit);
    if (zero_line) dl->AddLine(ImVec2(f.a.x, f.Y(0.0)), ImVec2(f.b.x, f.Y(0.0)), IM_COL32(150, 160, 170, 140), 1.0f);
    ImVec2 prev;
    bool have = false;
    for (const auto& p : pts) {
        if (!(p.*field)) continue;
        const ImVec2 q(f.X(x_of(p)), f.Y(*(p.*field)));
        if (have) dl->AddLine(prev, q, kTrendCol, 1.5f * f.scale);
        dl->AddCircleFilled(q, 3.5f * f.scale, kTrendDot);
        prev = q;
        have = true;
    }
    if (n == 0) PlotMessage(dl, f, "no sessions with this figure yet");
    EndPlot(dl);
}

void Actions(AppState& app) {
    SessionUi& ui = app.session_ui;
    const bool have = ui.selected >= 0 && ui.selected < static_cast<int>(ui.rows.size());
    ImGui::BeginDisabled(!have);
    const std::filesystem::path out_dir = ui.export_dir.data();
    if (ImGui::Button("Report")) {
        const auto& r = ui.rows[static_cast<std::size_t>(ui.selected)];
        std::string e = core::MakePrivateDirTree(out_dir);
        const auto out = out_dir / (r.id + "-report.html");
        if (e.empty()) e = core::WriteSessionReport(r.folder, out);
        ui.history_message = e.empty() ? "Report written: " + out.string() : e;
    }
    ImGui::SameLine();
    if (ImGui::Button("Export")) {
        std::filesystem::path written;
        const std::string e = core::ExportSessionBundle(ui.rows[static_cast<std::size_t>(ui.selected)].folder, out_dir, &written);
        ui.history_message = e.empty() ? "Exported to " + written.string() + " (report.html, rr-kubios.txt, rr.txt, csv/)" : e;
    }
    ImGui::SameLine();
    if (ImGui::Button("Delete...")) ui.confirm_delete = true;
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button("Refresh")) ui.history_loaded = false;
    ImGui::SameLine();
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##exportdir", "export folder", ui.export_dir.data(), ui.export_dir.size());
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Reports and exports go into this folder");

    if (ui.confirm_delete) {
        ImGui::OpenPopup("Delete session?");
        ui.confirm_delete = false;
    }
    if (ImGui::BeginPopupModal("Delete session?", nullptr, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings)) {
        if (have) {
            const auto& r = ui.rows[static_cast<std::size_t>(ui.selected)];
            ImGui::Text("Delete the session of %s (%s, %s)?", r.when.c_str(), r.preset.c_str(), Duration(r.duration_s).c_str());
            ImGui::TextDisabled("It is moved to %s and can be restored from there by hand.",
                                (app.data_dir / "trash" / app.profile).string().c_str());
            if (ImGui::Button("Delete")) {
                const std::string e = core::SessionStore(app.data_dir).MoveToTrash(r.folder);
                ui.history_message = e.empty() ? "Moved to the trash: " + r.id : e;
                ui.history_loaded = false;
                ImGui::CloseCurrentPopup();
            }
            ImGui::SameLine();
        }
        if (ImGui::Button("Keep it")) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }
}

}  // namespace

void DrawHistory(AppState& app, double /*now_s*/) {
    SessionUi& ui = app.session_ui;
    if (!ui.history_open) return;
    if (!ui.history_loaded) Reload(app);
    const float s = app.dpi_scale;
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const ImVec2 size(vp->WorkSize.x * 0.9f, vp->WorkSize.y * 0.9f);
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + vp->WorkSize.x * 0.05f, vp->WorkPos.y + vp->WorkSize.y * 0.05f), ImGuiCond_Appearing);
    ImGui::SetNextWindowSize(size, ImGuiCond_Appearing);
    char title[160];
    std::snprintf(title, sizeof title, "History of \"%s\"###history", app.profile.c_str());
    if (!ImGui::Begin(title, &ui.history_open, ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoCollapse)) {
        ImGui::End();
        return;
    }
    const auto& rows = ui.rows;
    double minutes = 0.0;
    for (const auto& r : rows) minutes += r.duration_s / 60.0;
    ImGui::Text("%zu session%s, %.0f minutes of practice", rows.size(), rows.size() == 1 ? "" : "s", minutes);
    if (!app.record) {
        ImGui::SameLine();
        ImGui::TextDisabled("  (this run is not recorded: --no-record)");
    }

    // --- sessions table -------------------------------------------------------------------------
    const float avail_h = ImGui::GetContentRegionAvail().y;
    const float table_h = std::max(120.0f * s, avail_h * 0.42f);
    const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                               ImGuiTableFlags_SizingStretchProp;
    if (ImGui::BeginTable("sessions", 8, tf, ImVec2(0, table_h))) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("Date");
        ImGui::TableSetupColumn("Preset");
        ImGui::TableSetupColumn("Duration");
        ImGui::TableSetupColumn("Mean HR (bpm)");
        ImGui::TableSetupColumn("RMSSD (ms)");
        ImGui::TableSetupColumn("Coherence");
        ImGui::TableSetupColumn("Distress");
        ImGui::TableSetupColumn("Status / note");
        ImGui::TableHeadersRow();
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::PushID(static_cast<int>(i));
            if (ImGui::Selectable(r.when.c_str(), ui.selected == static_cast<int>(i), ImGuiSelectableFlags_SpanAllColumns))
                ui.selected = static_cast<int>(i);
            ImGui::PopID();
            if (ImGui::IsItemHovered())
                ImGui::SetTooltip("%s\n%s%s%s", r.id.c_str(), r.folder.string().c_str(), r.note.empty() ? "" : "\n\n",
                                  r.note.c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(r.preset.c_str());
            ImGui::TableNextColumn();  // a session being recorded has no summary yet
            ImGui::TextUnformatted(r.status == "recording" ? "-" : Duration(r.duration_s).c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(Opt(r.hr_mean_bpm, "%.1f").c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(Opt(r.rmssd_ms, "%.1f").c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(Opt(r.coherence_mean, "%.2f").c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(Distress(r).c_str());
            ImGui::TableNextColumn();
            if (!r.error.empty()) ImGui::TextColored(ImVec4(0.95f, 0.6f, 0.4f, 1), "%s", r.status.c_str());
            else if (!r.note.empty()) ImGui::Text("%s: %s", r.status.c_str(), r.note.substr(0, r.note.find('\n')).c_str());
            else ImGui::TextDisabled("%s", r.status.c_str());
        }
        if (rows.empty()) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextDisabled("No sessions recorded for this profile yet.");
        }
        ImGui::EndTable();
    }
    Actions(app);
    if (!ui.history_message.empty()) ImGui::TextWrapped("%s", ui.history_message.c_str());

    // --- trends ---------------------------------------------------------------------------------
    ImGui::Separator();
    ImGui::TextUnformatted("Trends");
    ImGui::SameLine();
    if (ImGui::RadioButton("by day", !ui.trends_weekly)) ui.trends_weekly = false;
    ImGui::SameLine();
    if (ImGui::RadioButton("by week", ui.trends_weekly)) ui.trends_weekly = true;
    ImGui::SameLine();
    ImGui::TextDisabled("  resting HR = the day's lowest session mean; distress change = after - before");
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    const ImVec2 area = ImGui::GetContentRegionAvail();
    const float gap = 8.0f * s;
    const ImVec2 cell((area.x - gap) * 0.5f, std::max(90.0f * s, (area.y - gap) * 0.5f));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    TrendPlot(dl, app, p0, cell, "Mean coherence", "score", "%.1f", &core::TrendPoint::coherence_mean, false);
    TrendPlot(dl, app, ImVec2(p0.x + cell.x + gap, p0.y), cell, "RMSSD", "ms", "%.0f", &core::TrendPoint::rmssd_mean_ms, false);
    TrendPlot(dl, app, ImVec2(p0.x, p0.y + cell.y + gap), cell, "Resting heart rate", "bpm", "%.0f",
              &core::TrendPoint::resting_hr_bpm, false);
    TrendPlot(dl, app, ImVec2(p0.x + cell.x + gap, p0.y + cell.y + gap), cell, "Distress change", "points", "%.0f",
              &core::TrendPoint::distress_change_mean, true);
    ImGui::Dummy(ImVec2(area.x, 2 * cell.y + gap));
    ImGui::End();
}

}  // namespace attune::ui
