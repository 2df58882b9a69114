// The controls panel: start / pause / stop, the preset picker, the pattern editor (four phases,
// ramp, length), the heart source and messages. Changes are saved to the settings file.
#include <algorithm>
#include <cstdio>
#include <chrono>
#include <cstring>

#include "attune/core/session_store.hpp"
#include "attune/devices/formats.hpp"
#include "imgui.h"
#include "ui/app_state.hpp"

namespace attune::ui {

void SelectPreset(AppState& app, std::size_t index) {
    if (index >= app.presets.size()) return;
    app.pattern = app.presets[index];
    app.pattern_is_custom = false;
    app.settings.preset_id = app.pattern.id;
}

void StartSession(AppState& app, double now_s) {
    if (app.session && app.session->running()) app.session->Stop(now_s);
    app.session.reset();  // stops the previous device thread before a new one opens the port
    core::SourceOptions so;
    so.spec = app.source_spec;
    so.sim = app.sim_params;
    so.capture_path = app.capture_path;
    const auto clock = app.app_clock;
    so.clock = [clock, now_s] { return clock ? clock() - now_s : 0.0; };
    app.made_source = core::MakeSource(so);
    if (!app.made_source.note.empty()) app.messages.push_back(app.made_source.note);
    app.session = std::make_unique<core::LiveSession>(app.pattern, std::move(app.made_source.source), app.pipeline);
    app.session->Start(now_s);
    if (!app.record) return OnSessionStarted(app);
    core::SessionStore store(app.data_dir);
    const std::string id = store.NewSessionId(app.profile, std::chrono::system_clock::now(), app.pattern.id);
    core::SessionMeta meta;
    meta.id = id;
    meta.profile = app.profile;
    meta.started_utc = core::FormatUtcIso8601(std::chrono::system_clock::now());
    if (!app.session->StartRecording(store.SessionFolder(app.profile, id), meta)) {
        app.messages.push_back("Not recording: " + app.session->recorder_error());
        std::fprintf(stderr, "attune: not recording this session: %s\n", app.session->recorder_error().c_str());
    }
    OnSessionStarted(app);
}

namespace {

void SaveSettingsReport(AppState& app) {
    if (std::string e = core::SaveSettings(app.config_dir, app.settings); !e.empty()) app.messages.push_back(e);
}

// Reads the editor pattern as four phases (inhale, hold, exhale, hold).
struct FourPhase { float in_s, hold_in_s, ex_s, hold_out_s; };
FourPhase ToFour(const core::BreathPattern& p) {
    FourPhase f{4.0f, 0.0f, 6.0f, 0.0f};
    bool seen_in = false, seen_ex = false;
    float in = 0, hin = 0, ex = 0, hout = 0;
    for (const auto& ph : p.phases) {
        const float d = static_cast<float>(ph.duration_s);
        switch (ph.kind) {
            case core::PhaseKind::Inhale: in += d; seen_in = true; break;
            case core::PhaseKind::HoldIn: hin += d; break;
            case core::PhaseKind::Exhale: ex += d; seen_ex = true; break;
            case core::PhaseKind::HoldOut: hout += d; break;
            default: break;
        }
    }
    if (seen_in && seen_ex) f = {in, hin, ex, hout};
    return f;
}

void DrawEditor(AppState& app) {
    core::BreathPattern& p = app.pattern;
    FourPhase f = ToFour(p);
    bool changed = false;
    ImGui::PushItemWidth(-90.0f * app.dpi_scale);
    changed |= ImGui::SliderFloat("Inhale", &f.in_s, 1.0f, 15.0f, "%.1f s");
    changed |= ImGui::SliderFloat("Hold", &f.hold_in_s, 0.0f, 15.0f, "%.1f s");
    changed |= ImGui::SliderFloat("Exhale", &f.ex_s, 1.0f, 20.0f, "%.1f s");
    changed |= ImGui::SliderFloat("Hold##out", &f.hold_out_s, 0.0f, 15.0f, "%.1f s");
    float length_min = static_cast<float>(p.length_s / 60.0);
    changed |= ImGui::SliderFloat("Length", &length_min, 1.0f, 60.0f, "%.0f min");
    bool ramp = p.ramp.has_value();
    if (ImGui::Checkbox("Ramp the rate", &ramp)) {
        changed = true;
        if (ramp) p.ramp = core::Ramp{60.0 / std::max(1.0f, f.in_s + f.hold_in_s + f.ex_s + f.hold_out_s), 5.5, 300.0};
        else p.ramp.reset();
    }
    if (p.ramp) {
        float from = static_cast<float>(p.ramp->from_bpm), to = static_cast<float>(p.ramp->to_bpm);
        float over_min = static_cast<float>(p.ramp->over_s / 60.0);
        changed |= ImGui::SliderFloat("From", &from, 3.0f, 15.0f, "%.1f /min");
        changed |= ImGui::SliderFloat("To", &to, 3.0f, 15.0f, "%.1f /min");
        changed |= ImGui::SliderFloat("Over", &over_min, 1.0f, 30.0f, "%.0f min");
        p.ramp = core::Ramp{from, to, over_min * 60.0};
    }
    ImGui::PopItemWidth();
    if (changed) {
        auto ramp_copy = p.ramp;
        core::BreathPattern q = core::BreathPattern::FourPhase("custom", "Custom", f.in_s, f.hold_in_s, f.ex_s,
                                                               f.hold_out_s, length_min * 60.0);
        q.ramp = ramp_copy;
        if (q.ramp) q.SetRateBpm(q.ramp->from_bpm);
        if (q.Validate().empty()) {
            app.pattern = q;
            app.pattern_is_custom = true;
            app.settings.custom_pattern = q;
            app.settings.preset_id = "custom";
        }
    }
    ImGui::Text("%.2f breaths/min, %.1f s per breath", app.pattern.BaseRateBpm(), app.pattern.CycleSeconds());
}

}  // namespace

void DrawControls(AppState& app, double now_s) {
    if (!app.show_controls) return;
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float w = 360.0f * app.dpi_scale;
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + vp->WorkSize.x - w, vp->WorkPos.y));
    ImGui::SetNextWindowSize(ImVec2(w, vp->WorkSize.y * 0.42f));
    ImGui::Begin("Controls", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                          ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_NoSavedSettings);

    core::LiveSession* session = app.session.get();
    const bool running = session && session->running();
    const float bw = (ImGui::GetContentRegionAvail().x - 2 * ImGui::GetStyle().ItemSpacing.x) / 3.0f;
    if (!running) {
        if (ImGui::Button("Start", ImVec2(bw, 0))) RequestStart(app, now_s);
    } else {
        if (ImGui::Button(session->paused() ? "Resume" : "Pause", ImVec2(bw, 0))) session->TogglePause(now_s);
    }
    ImGui::SameLine();
    ImGui::BeginDisabled(!running);
    if (ImGui::Button("Stop", ImVec2(bw, 0))) session->Stop(now_s);
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button(app.fullscreen ? "Window" : "Full screen", ImVec2(bw, 0))) app.fullscreen = !app.fullscreen;
    DrawTimeline(app, now_s);

    ImGui::Separator();
    ImGui::TextDisabled("Breathing pattern");
    const char* current = app.pattern_is_custom ? "Custom" : app.pattern.name.c_str();
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##preset", current)) {
        for (std::size_t i = 0; i < app.presets.size(); ++i) {
            const bool selected = !app.pattern_is_custom && app.presets[i].id == app.pattern.id;
            if (ImGui::Selectable(app.presets[i].name.c_str(), selected)) {
                SelectPreset(app, i);
                SaveSettingsReport(app);
            }
            if (ImGui::IsItemHovered() && !app.presets[i].description.empty())
                ImGui::SetTooltip("%s", app.presets[i].description.c_str());
        }
        ImGui::EndCombo();
    }
    if (!app.pattern.description.empty()) ImGui::TextWrapped("%s", app.pattern.description.c_str());
    if (running) ImGui::TextDisabled("Changes apply at the next start.");

    if (ImGui::CollapsingHeader("Pattern editor")) {
        DrawEditor(app);
        ImGui::SetNextItemWidth(-90.0f * app.dpi_scale);
        ImGui::InputText("Name", app.new_preset_name, sizeof app.new_preset_name);
        ImGui::SameLine();
        if (ImGui::Button("Save") && app.new_preset_name[0] != '\0') {
            core::BreathPattern p = app.pattern;
            p.name = app.new_preset_name;
            p.id = app.new_preset_name;
            const std::string err = core::SaveUserPreset(app.config_dir / "presets", p);
            app.messages.push_back(err.empty() ? "Saved preset \"" + p.name + "\"" : err);
            if (err.empty()) {
                auto loaded = core::LoadPresets(app.preset_dirs);
                app.presets = loaded.presets;
            }
        }
        if (ImGui::IsItemDeactivated() || ImGui::IsItemDeactivatedAfterEdit()) SaveSettingsReport(app);
    }

    ImGui::Separator();
    if (ImGui::CollapsingHeader("Sensor")) {
        if (ImGui::Button("Refresh ports")) {
            const auto list = devices::EnumeratePorts();
            app.ports = devices::RankPorts(list.ports);
            app.ports_error = list.error;
        }
        ImGui::SameLine();
        if (ImGui::Button("Simulated heart")) {
            app.source_spec = core::SourceSpec{};
            StartSession(app, now_s);
        }
        bool own = app.pipeline.beat_source == core::BeatSourceMode::Detector;
        if (ImGui::Checkbox("Use Attune's beat detector, not the sensor's intervals", &own)) {
            app.pipeline.beat_source = own ? core::BeatSourceMode::Detector : core::BeatSourceMode::Auto;
            StartSession(app, now_s);
        }
        if (!app.ports_error.empty()) ImGui::TextWrapped("%s", app.ports_error.c_str());
        for (const auto& p : app.ports) {
            const std::string label = p.info.name + "  " + p.hint;
            if (ImGui::Selectable(label.c_str(), app.source_spec.path == p.info.name)) {
                app.source_spec.kind = core::SourceSpec::Kind::Serial;
                app.source_spec.path = p.info.name;
                StartSession(app, now_s);
            }
        }
        if (session) {
            const auto* dec = app.made_source.decoder;
            if (dec && !app.made_source.threaded) {
                // Synchronous source (simulated): the decoder is ours to read.
                const auto& st = dec->stats();
                const std::string_view name = devices::FormatName(st.format);
                ImGui::TextWrapped("Format: %.*s", static_cast<int>(name.size()), name.data());
                ImGui::Text("%.0f samples/s, %llu lines, %llu not understood", st.sample_rate_hz,
                            static_cast<unsigned long long>(st.lines), static_cast<unsigned long long>(st.unparsed_lines));
            } else if (app.made_source.threaded) {
                const auto& c = app.made_source.threaded->Counters();
                ImGui::Text("%llu bytes, %u reconnects", static_cast<unsigned long long>(c.bytes.load()), c.reconnects.load());
                ImGui::Text("Baud %d, %.0f samples/s", app.made_source.baud, session->source().SampleRateHz());
            }
            if (!session->last_status().empty()) ImGui::TextWrapped("%s", session->last_status().c_str());
        }
    }
    if (session) {
        ImGui::TextDisabled("Source: %s", session->source().Describe().c_str());
        const auto sum = session->Summary();
        ImGui::TextDisabled("%zu beats, %lld breaths", sum.beats, static_cast<long long>(sum.breaths));
    } else {
        ImGui::TextDisabled("Source: simulated heart (no sensor configured)");
    }
    ImGui::Checkbox("Show heart-rate trace", &app.settings.show_heart_trace);

    if (!app.messages.empty()) {
        ImGui::Separator();
        for (const auto& m : app.messages) ImGui::TextWrapped("%s", m.c_str());
    }
    ImGui::Separator();
    ImGui::TextDisabled("Space start/pause   Tab client view   F11 full screen   Esc leave it");
    ImGui::End();
}

}  // namespace attune::ui
