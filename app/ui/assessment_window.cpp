// The resonance assessment window (practitioner view): the per-rate table of the six criteria, a
// chart of the total score per rate with the heart-rate swing over it, the recommendation with
// its reasons, and earlier results of the profile for comparison. Draws AppState only.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "attune/core/program_runner.hpp"
#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

namespace {

void DrawChart(const core::AssessmentResult& r, const std::vector<core::AssessmentResult>& history, ImVec2 size, float s) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::Dummy(size);
    if (r.scores.empty()) return;
    double hi = 7.0, lo = 4.0, amp_max = 1.0;
    for (const auto& sc : r.scores) {
        hi = std::max(hi, sc.rate_bpm + 0.25);
        lo = std::min(lo, sc.rate_bpm - 0.25);
        amp_max = std::max(amp_max, sc.amplitude_bpm);
    }
    const float left = p0.x + 34 * s, right = p0.x + size.x - 10 * s;
    const float top = p0.y + 18 * s, bottom = p0.y + size.y - 34 * s;
    auto x_of = [&](double rate) { return left + static_cast<float>((hi - rate) / (hi - lo)) * (right - left); };
    auto y_of = [&](double v01) { return bottom - static_cast<float>(std::clamp(v01, 0.0, 1.0)) * (bottom - top); };
    const ImU32 axis = IM_COL32(90, 105, 120, 255), text = IM_COL32(170, 185, 200, 255);
    dl->AddLine(ImVec2(left, bottom), ImVec2(right, bottom), axis);
    dl->AddText(ImVec2(p0.x, top - 16 * s), text, "score");
    for (double g : {0.5, 1.0}) {
        dl->AddLine(ImVec2(left, y_of(g)), ImVec2(right, y_of(g)), IM_COL32(60, 72, 86, 160));
        char b[8];
        std::snprintf(b, sizeof b, "%.1f", g);
        dl->AddText(ImVec2(p0.x + 4 * s, y_of(g) - 7 * s), text, b);
    }
    const float bar_w = std::max(6.0f * s, (right - left) / static_cast<float>((hi - lo) / 0.5 + 1.0) * 0.5f);
    std::vector<ImVec2> amp_pts;
    for (const auto& sc : r.scores) {
        const float x = x_of(sc.rate_bpm);
        const bool best = r.valid && std::abs(sc.rate_bpm - r.recommended_rate_bpm) < 1e-6;
        const ImU32 col = best ? IM_COL32(245, 196, 110, 255) : IM_COL32(80, 170, 180, 220);
        dl->AddRectFilled(ImVec2(x - bar_w * 0.5f, y_of(sc.total)), ImVec2(x + bar_w * 0.5f, bottom), col, 3 * s);
        char b[24];
        std::snprintf(b, sizeof b, "%.1f", sc.rate_bpm);
        const ImVec2 ts = ImGui::CalcTextSize(b);
        dl->AddText(ImVec2(x - ts.x * 0.5f, bottom + 3 * s), text, b);
        std::snprintf(b, sizeof b, "%+.0f\xC2\xB0", sc.phase_deg);
        const ImVec2 ps = ImGui::CalcTextSize(b);
        dl->AddText(ImVec2(x - ps.x * 0.5f, bottom + 17 * s), IM_COL32(130, 145, 160, 255), b);
        amp_pts.push_back(ImVec2(x, y_of(sc.amplitude_bpm / amp_max)));
    }
    // Heart-rate swing (max - min per breath), scaled to its largest value.
    std::sort(amp_pts.begin(), amp_pts.end(), [](ImVec2 a, ImVec2 b) { return a.x < b.x; });
    if (amp_pts.size() >= 2) dl->AddPolyline(amp_pts.data(), static_cast<int>(amp_pts.size()), IM_COL32(240, 140, 90, 255), 0, 2.0f * s);
    for (const auto& p : amp_pts) dl->AddCircleFilled(p, 3.5f * s, IM_COL32(240, 140, 90, 255));
    dl->AddText(ImVec2(right - 150 * s, top - 16 * s), IM_COL32(240, 140, 90, 255), "HR max-min");
    // Earlier recommendations: small marks on the axis.
    for (const auto& h : history) {
        if (!h.valid || h.recommended_rate_bpm > hi || h.recommended_rate_bpm < lo) continue;
        const float x = x_of(h.recommended_rate_bpm);
        dl->AddTriangleFilled(ImVec2(x, bottom - 8 * s), ImVec2(x - 5 * s, bottom), ImVec2(x + 5 * s, bottom), IM_COL32(200, 200, 215, 200));
    }
}

void DrawTable(const core::AssessmentResult& r) {
    const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("##rates", 9, flags)) return;
    for (const char* h : {"Rate", "Blocks", "Phase", "HR max-min", "LF ms\xC2\xB2", "LF peak", "Smooth", "Peaks", "Score"})
        ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (const auto& sc : r.scores) {
        const bool best = r.valid && std::abs(sc.rate_bpm - r.recommended_rate_bpm) < 1e-6;
        ImGui::TableNextRow();
        if (best) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg1, IM_COL32(110, 85, 40, 160));
        ImGui::TableNextColumn(); ImGui::Text("%.1f", sc.rate_bpm);
        ImGui::TableNextColumn(); ImGui::Text("%d", sc.blocks);
        ImGui::TableNextColumn(); ImGui::Text("%+.0f\xC2\xB0", sc.phase_deg);
        ImGui::TableNextColumn(); ImGui::Text("%.1f bpm", sc.amplitude_bpm);
        ImGui::TableNextColumn(); ImGui::Text("%.0f", sc.lf_ms2);
        ImGui::TableNextColumn(); ImGui::Text("%.0f", sc.lf_peak_ms2_per_hz);
        ImGui::TableNextColumn(); ImGui::Text("%.0f %%", 100.0 * sc.smoothness);
        ImGui::TableNextColumn(); ImGui::Text("%.1f", sc.lf_peaks);
        ImGui::TableNextColumn(); ImGui::Text("%.2f", sc.total);
    }
    ImGui::EndTable();
}

}  // namespace

void DrawAssessment(AppState& app) {
    if (!app.show_assessment || app.view != AppState::View::Practitioner) return;
    const core::ProgramRunner* runner = app.session && app.session->program() && app.session->program()->program().HasAssessment()
                                            ? app.session->program()
                                            : nullptr;
    // What to show: this session's result, else its blocks so far, else the profile's last result.
    core::AssessmentResult shown;
    std::string status;
    char buf[200];
    if (runner && runner->assessment()) {
        shown = *runner->assessment();
        status = shown.valid ? "Result" : "Could not score the blocks: " + shown.note;
    } else if (runner) {
        const std::string method = runner->assessment_scores().empty() || runner->assessment_scores().front().role != "slide" ? "stepped" : "sliding";
        shown = core::Recommend(runner->assessment_scores(), method);
        const double t = app.session->pacer_time_s();
        status = "In progress";
        for (const auto& b : runner->assessment_plan())
            if (t >= b.t0_s && t < b.t1_s) {
                std::snprintf(buf, sizeof buf, "In progress: %.1f breaths/min (%s), %.0f s left in this block", b.rate_bpm,
                              b.role.c_str(), b.t1_s - t);
                status = buf;
            }
        if (shown.valid) status += " - leading so far";
    } else if (!app.assessment_history.empty()) {
        shown = app.assessment_history.back();
        status = "Last result" + (shown.started_utc.empty() ? std::string() : " (" + shown.started_utc.substr(0, 10) + ")");
    } else {
        status = "No assessment yet: choose the resonance-rate assessment program and press Start.";
    }

    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float s = app.dpi_scale;
    const float panel_w = app.show_controls ? 360.0f * s : 0.0f;
    const float top = vp->WorkSize.y * 0.54f;
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + 12 * s, vp->WorkPos.y + top));
    ImGui::SetNextWindowSize(ImVec2(vp->WorkSize.x - panel_w - 24 * s, vp->WorkSize.y - top - 8 * s));
    ImGui::SetNextWindowBgAlpha(0.96f);
    ImGui::Begin("Resonance assessment", &app.show_assessment,
                 ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings);
    if (shown.valid) {
        std::snprintf(buf, sizeof buf, "Recommended: %.1f breaths/min", shown.recommended_rate_bpm);
        ImGui::PushFont(app.fonts.body ? app.fonts.body : ImGui::GetFont());
        ImGui::TextColored(ImVec4(0.96f, 0.78f, 0.45f, 1.0f), "%s", buf);
        ImGui::PopFont();
        ImGui::SameLine();
    }
    ImGui::TextDisabled("%s", status.c_str());
    const float avail_w = ImGui::GetContentRegionAvail().x;
    const float table_w = avail_w * 0.62f;
    ImGui::BeginChild("##left", ImVec2(table_w, 0), false);
    DrawTable(shown);
    if (shown.valid) {
        ImGui::Spacing();
        ImGui::TextDisabled("Why this rate");
        for (const auto& reason : shown.reasons) ImGui::BulletText("%s", reason.c_str());
    }
    if (!shown.note.empty()) ImGui::TextWrapped("%s", shown.note.c_str());
    ImGui::TextDisabled("Criteria in priority order (Lehrer 2013; Shaffer & Meehan 2020): phase, HR max-min, LF power, LF peak, smoothness, fewest LF peaks.");
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("##right", ImVec2(0, 0), false);
    const ImVec2 chart(ImGui::GetContentRegionAvail().x, std::max(120.0f * s, ImGui::GetContentRegionAvail().y - 70 * s));
    DrawChart(shown, app.assessment_history, chart, s);
    if (!app.assessment_history.empty()) {
        std::string earlier = "Earlier:";
        const std::size_t n = app.assessment_history.size();
        for (std::size_t i = n > 4 ? n - 4 : 0; i < n; ++i) {
            const auto& h = app.assessment_history[i];
            std::snprintf(buf, sizeof buf, " %.1f/min (%s)%s", h.recommended_rate_bpm,
                          h.started_utc.empty() ? "?" : h.started_utc.substr(0, 10).c_str(), i + 1 < n ? "," : "");
            earlier += buf;
        }
        ImGui::TextWrapped("%s", earlier.c_str());
    }
    ImGui::EndChild();
    ImGui::End();
}

}  // namespace attune::ui
