// The practitioner's numbers: signal quality, heart rate, RMSSD, coherence, RSA, breathing rate
// against the pacer, phase lag; each with a one-line explanation and the user's own baseline
// band from the first two minutes. Also the feedback (challenge) settings and marker buttons.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "ui/app_state.hpp"
#include "ui/palette.hpp"

namespace attune::ui {

namespace {

const char* kMarkers[] = {"Client reports tension", "Client reports calm", "Distraction", "Movement / talking"};

void Explain(const char* text) {
    // Between the theme's dim and normal text (dark: the muted grey-blue; high contrast: near white).
    const ImVec4 dim = ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled), full = ImGui::GetStyleColorVec4(ImGuiCol_Text);
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(dim.x + (full.x - dim.x) * 0.12f, dim.y + (full.y - dim.y) * 0.12f,
                                                 dim.z + (full.z - dim.z) * 0.12f, 1.0f));
    ImGui::TextWrapped("%s", text);
    ImGui::PopStyleColor();
}

void BaselineLine(const core::LiveSession& s, double core::MetricsSample::*field, const char* fmt) {
    const core::BaselineBand b = s.Baseline(field);
    if (!b.ready) {
        Explain("Your baseline forms over the first 2 minutes.");
        return;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, fmt, b.mean - b.sd, b.mean + b.sd);
    Explain(buf);
}

}  // namespace

float FeedbackLevel(const AppState& app) {
    if (!app.settings.feedback_enabled || !app.session || !app.session->running()) return -1.0f;
    const auto& c = app.session->metrics().coherence;
    if (!c.valid) return -1.0f;
    const double lo = app.settings.coherence_medium, hi = app.settings.coherence_high;
    double level = c.score < lo ? 0.5 * c.score / lo : 0.5 + 0.5 * (c.score - lo) / (hi - lo);
    return static_cast<float>(std::clamp(level, 0.0, 1.0));
}

void DrawMetrics(AppState& app, double /*now_s*/) {
    if (!app.show_controls) return;
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float w = 360.0f * app.dpi_scale;
    const float top = vp->WorkSize.y * 0.42f;
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + vp->WorkSize.x - w, vp->WorkPos.y + top));
    ImGui::SetNextWindowSize(ImVec2(w, vp->WorkSize.y - top));
    ImGui::Begin("Now", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                     ImGuiWindowFlags_NoSavedSettings);
    core::LiveSession* s = app.session.get();
    if (!s) {
        Explain("Start a session to see heart rate, variability and coherence.");
        ImGui::End();
        return;
    }
    const core::LiveMetrics& m = s->metrics();

    // Signal quality light.
    const char* quality = "waiting";
    ImVec4 light(0.5f, 0.5f, 0.5f, 1.0f);
    const core::PaletteColors& pal = Pal(app);
    if (m.leads_off) { quality = "sensor off / no finger"; light = Vec(pal.bad); }
    else if (m.quality) {
        quality = dsp::to_string(m.quality->state);
        light = m.quality->state == dsp::QualityState::Good ? Vec(pal.good) : Vec(pal.warn);
    }
    ImGui::ColorButton("##quality", light, ImGuiColorEditFlags_NoTooltip | ImGuiColorEditFlags_NoPicker, ImVec2(14, 14));
    ImGui::SameLine();
    ImGui::Text("Signal: %s", quality);
    Explain(s->pipeline().BeatSourceDescription().c_str());

    ImGui::Separator();
    if (m.last_hr_bpm > 0.0) ImGui::Text("Heart rate  %.0f bpm", m.last_hr_bpm);
    else ImGui::TextDisabled("Heart rate  --");
    BaselineLine(*s, &core::MetricsSample::hr_bpm, "Your first 2 minutes: %.0f-%.0f bpm");

    if (m.time.valid) ImGui::Text("RMSSD  %.0f ms", m.time.rmssd_ms);
    else ImGui::TextDisabled("RMSSD  --");
    Explain("Beat-to-beat variability over the last minute; higher usually means calmer.");
    BaselineLine(*s, &core::MetricsSample::rmssd_ms, "Your first 2 minutes: %.0f-%.0f ms");

    if (m.coherence.valid) {
        const char* level = m.coherence.score >= app.settings.coherence_high ? "high"
                            : m.coherence.score >= app.settings.coherence_medium ? "medium" : "low";
        ImGui::Text("Coherence  %.2f (%s)", m.coherence.score, level);
        const float frac = static_cast<float>(std::clamp(m.coherence.score / 2.5, 0.0, 1.0));
        ImGui::ProgressBar(frac, ImVec2(-1, 6 * app.dpi_scale), "");
    } else {
        ImGui::TextDisabled("Coherence  -- (needs 30 s of beats)");
    }
    Explain("How much of your heart-rate rhythm sits in one smooth wave (0 to about 2.5).");

    if (m.last_rsa) ImGui::Text("Heart-rate swing  %.1f bpm / %.0f ms", m.last_rsa->rsa_bpm, m.last_rsa->rsa_ms);
    else ImGui::TextDisabled("Heart-rate swing  --");
    Explain("Rise on the in-breath minus fall on the out-breath, last breath.");

    const double pacer = s->pacer_state().paced ? s->pacer_state().rate_bpm : 0.0;
    if (m.breathing && m.breathing->confidence >= 0.4) {
        ImGui::Text("Breathing  %.1f /min", m.breathing->rate_bpm);
        if (pacer > 0.0) {
            const bool following = std::abs(m.breathing->rate_bpm - pacer) <= 1.0;
            ImGui::SameLine();
            ImGui::TextColored(following ? Vec(pal.good) : Vec(pal.warn),
                               following ? "following the pacer" : "not with the pacer");
        }
    } else {
        ImGui::TextDisabled("Breathing  -- (read from the heart)");
    }
    if (m.phase && m.phase->hr_fraction >= 0.2) {
        ImGui::Text("Phase lag  %+.0f deg", m.phase->phase_deg);
        Explain("Heart rate against breathing: near 0 means you breathe at your resonance.");
    }
    const auto& a = m.artifacts;
    ImGui::TextDisabled("Intervals flagged: %zu of %zu", a.flagged(), a.total());

    ImGui::Separator();
    ImGui::Checkbox("Orb colour follows coherence", &app.settings.feedback_enabled);
    if (app.settings.feedback_enabled) {
        const char* levels[] = {"Gentle", "Standard", "Demanding"};
        const double lo[] = {0.3, 0.5, 0.8}, hi[] = {0.6, 1.0, 1.5};
        int current = app.settings.coherence_high <= 0.6 ? 0 : app.settings.coherence_high >= 1.5 ? 2 : 1;
        ImGui::SetNextItemWidth(-1);
        if (ImGui::Combo("##challenge", &current, levels, 3)) {
            app.settings.coherence_medium = lo[current];
            app.settings.coherence_high = hi[current];
        }
    }

    ImGui::Separator();
    ImGui::TextDisabled("Markers (keys 1-4)");
    for (int i = 0; i < 4; ++i) {
        char label[64];
        std::snprintf(label, sizeof label, "%d  %s", i + 1, kMarkers[i]);
        if (ImGui::Button(label, ImVec2(-1, 0))) s->AddMarker(kMarkers[i]);
    }
    if (!s->markers().empty()) {
        const auto& last = s->markers().back();
        ImGui::TextDisabled("Last: %s at %d:%02d", last.second.c_str(), static_cast<int>(last.first) / 60,
                            static_cast<int>(last.first) % 60);
    }
    ImGui::End();
}

const char* MarkerText(int index) { return index >= 0 && index < 4 ? kMarkers[index] : ""; }

}  // namespace attune::ui
