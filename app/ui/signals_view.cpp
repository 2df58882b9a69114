// The practitioner's signal plots, in a 3 x 2 grid: RR tachogram, spectrum with the VLF/LF/HF
// bands and the resonance peak, coherence history with the challenge bands, RMSSD trend, RSA per
// breath, and the raw sensor waveform (for wiring problems). All drawn from the session state.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "imgui.h"
#include "ui/app_state.hpp"
#include "ui/palette.hpp"
#include "ui/plot.hpp"

namespace attune::ui {

using core::BaselineBand;
using core::MetricsSample;

namespace {

// Series colours: the theme's Okabe-Ito orange (heart), sky blue (derived metrics) and bluish
// green (raw signal), see core/palette.hpp.

void Tachogram(ImDrawList* dl, const AppState& app, ImVec2 pos, ImVec2 size) {
    const auto* s = app.session.get();
    const double t1 = s ? s->session_time_s() : 0.0, t0 = t1 - 120.0;
    double lo = 1e9, hi = -1e9;
    if (s)
        for (const auto& b : s->recent_beats())
            if (b.accepted && b.t_s >= t0) { lo = std::min(lo, b.ibi_ms); hi = std::max(hi, b.ibi_ms); }
    if (lo > hi) { lo = 700; hi = 1100; }
    const double pad = std::max(40.0, 0.1 * (hi - lo));
    PlotFrame f = BeginPlot(dl, app.fonts.small, app.dpi_scale, pos, size, "RR intervals", -120.0, 0.0, lo - pad, hi + pad,
                            "%.0f", "%.0f", "s", "ms");
    ImVec2 prev;
    bool have = false;
    if (s) {
        for (const auto& b : s->recent_beats()) {
            if (b.t_s < t0 || !b.accepted) { have = false; continue; }
            const ImVec2 p(f.X(b.t_s - t1), f.Y(b.ibi_ms));
            if (have) dl->AddLine(prev, p, Col(Pal(app).heart), 1.5f * f.scale);
            prev = p;
            have = true;
        }
    }
    if (!s || s->recent_beats().empty()) PlotMessage(dl, f, "no beats yet");
    EndPlot(dl);
}

void Spectrum(ImDrawList* dl, const AppState& app, ImVec2 pos, ImVec2 size) {
    const auto* s = app.session.get();
    const dsp::FrequencyDomainMetrics* spec = s ? &s->metrics().spectrum : nullptr;
    double ymax = 100.0;
    if (spec && spec->valid)
        for (std::size_t i = 0; i < spec->freq_hz.size(); ++i)
            if (spec->freq_hz[i] <= 0.4) ymax = std::max(ymax, spec->psd_ms2_per_hz[i] * 1.1);
    PlotFrame f = BeginPlot(dl, app.fonts.small, app.dpi_scale, pos, size, "Spectrum, last 5 min", 0.0, 0.4, 0.0, ymax,
                            "%.1f", "%.0f", "Hz", "ms2/Hz");
    // Bands: VLF, LF (where resonance breathing puts its peak), HF.
    dl->AddRectFilled(ImVec2(f.X(0.0033), f.a.y), ImVec2(f.X(0.04), f.b.y), IM_COL32(90, 90, 120, 35));
    dl->AddRectFilled(ImVec2(f.X(0.04), f.a.y), ImVec2(f.X(0.15), f.b.y), IM_COL32(70, 150, 160, 40));
    dl->AddRectFilled(ImVec2(f.X(0.15), f.a.y), ImVec2(f.X(0.4), f.b.y), IM_COL32(120, 100, 160, 30));
    dl->AddText(f.font, f.font->FontSize, ImVec2(f.X(0.06), f.a.y + 2), ImGui::GetColorU32(ImGuiCol_TextDisabled), "LF");
    dl->AddText(f.font, f.font->FontSize, ImVec2(f.X(0.25), f.a.y + 2), ImGui::GetColorU32(ImGuiCol_TextDisabled), "HF");
    if (spec && spec->valid) {
        ImVec2 prev;
        for (std::size_t i = 0; i < spec->freq_hz.size() && spec->freq_hz[i] <= 0.4; ++i) {
            const ImVec2 p(f.X(spec->freq_hz[i]), f.Y(spec->psd_ms2_per_hz[i]));
            if (i > 0) dl->AddLine(prev, p, Col(Pal(app).metric), 1.5f * f.scale);
            prev = p;
        }
        if (spec->lf_peak_hz) {
            const float x = f.X(*spec->lf_peak_hz);
            dl->AddLine(ImVec2(x, f.a.y), ImVec2(x, f.b.y), Col(Pal(app).peak, 0.8f), 1.5f * f.scale);
            char label[48];
            std::snprintf(label, sizeof label, "peak %.3f Hz = %.1f/min", *spec->lf_peak_hz, *spec->lf_peak_hz * 60.0);
            dl->AddText(f.font, f.font->FontSize, ImVec2(x + 4, f.a.y + f.font->FontSize + 2), Col(Pal(app).peak), label);
        }
        if (s->pacer_state().paced && s->pacer_state().rate_bpm > 0.0) {
            const float x = f.X(s->pacer_state().rate_bpm / 60.0);
            dl->AddLine(ImVec2(x, f.b.y - 8 * f.scale), ImVec2(x, f.b.y), IM_COL32(200, 200, 200, 200), 2.0f);
        }
    } else {
        PlotMessage(dl, f, "needs 1 minute of clean beats");
    }
    EndPlot(dl);
}

// A 1 Hz metric history (coherence, RMSSD) over the last `span_s`.
void History(ImDrawList* dl, const AppState& app, ImVec2 pos, ImVec2 size, const char* title, const char* unit,
             double MetricsSample::*field, double span_s, bool coherence_bands) {
    const auto* s = app.session.get();
    const double t1 = s ? s->session_time_s() : 0.0;
    double hi = coherence_bands ? 2.5 : 10.0;
    if (s)
        for (const auto& h : s->metrics_history())
            if (std::isfinite(h.*field) && h.t_s >= t1 - span_s) hi = std::max(hi, h.*field * 1.1);
    PlotFrame f = BeginPlot(dl, app.fonts.small, app.dpi_scale, pos, size, title, -span_s / 60.0, 0.0, 0.0, hi, "%.0f",
                            coherence_bands ? "%.1f" : "%.0f", "min", unit);
    if (coherence_bands) {
        const double lo_t = app.settings.coherence_medium, hi_t = app.settings.coherence_high;
        dl->AddRectFilled(ImVec2(f.a.x, f.Y(hi_t)), ImVec2(f.b.x, f.Y(lo_t)), IM_COL32(80, 140, 200, 30));
        dl->AddRectFilled(ImVec2(f.a.x, f.Y(hi)), ImVec2(f.b.x, f.Y(hi_t)), IM_COL32(230, 170, 90, 30));
    }
    if (s) {
        // Baseline band (first two minutes): the user's own range today.
        const BaselineBand band = s->Baseline(field);
        if (band.ready) {
            dl->AddRectFilled(ImVec2(f.a.x, f.Y(band.mean + band.sd)), ImVec2(f.b.x, f.Y(band.mean - band.sd)),
                              IM_COL32(200, 200, 200, 22));
        }
        ImVec2 prev;
        bool have = false;
        for (const auto& h : s->metrics_history()) {
            if (h.t_s < t1 - span_s || !std::isfinite(h.*field)) { have = false; continue; }
            const ImVec2 p(f.X((h.t_s - t1) / 60.0), f.Y(h.*field));
            if (have) dl->AddLine(prev, p, Col(Pal(app).metric), 1.5f * f.scale);
            prev = p;
            have = true;
        }
    }
    EndPlot(dl);
}

void RsaBars(ImDrawList* dl, const AppState& app, ImVec2 pos, ImVec2 size) {
    const auto* s = app.session.get();
    double hi = 10.0;
    if (s)
        for (const auto& b : s->recent_breaths()) hi = std::max(hi, b.rsa_bpm * 1.15);
    PlotFrame f = BeginPlot(dl, app.fonts.small, app.dpi_scale, pos, size, "RSA per breath", -12.0, 0.0, 0.0, hi, "%.0f",
                            "%.0f", "breaths", "bpm");
    if (s && !s->recent_breaths().empty()) {
        const auto& br = s->recent_breaths();
        const std::size_t n = std::min<std::size_t>(12, br.size());
        for (std::size_t i = 0; i < n; ++i) {
            const auto& b = br[br.size() - n + i];
            const double x = -static_cast<double>(n - i) + 0.5;
            dl->AddRectFilled(ImVec2(f.X(x - 0.35), f.Y(b.rsa_bpm)), ImVec2(f.X(x + 0.35), f.b.y), Col(Pal(app).heart, 0.85f), 2.0f);
        }
    } else {
        PlotMessage(dl, f, "after the first full breaths");
    }
    EndPlot(dl);
}

void Waveform(ImDrawList* dl, const AppState& app, ImVec2 pos, ImVec2 size) {
    const auto* s = app.session.get();
    const double t1 = s ? s->session_time_s() : 0.0, t0 = t1 - 5.0;
    double lo = 1e18, hi = -1e18;
    if (s)
        for (const auto& w : s->recent_waveform())
            if (w.t_s >= t0 && std::isfinite(w.value)) { lo = std::min(lo, w.value); hi = std::max(hi, w.value); }
    if (lo > hi) { lo = 0; hi = 1023; }
    const double pad = std::max(2.0, 0.08 * (hi - lo));
    PlotFrame f = BeginPlot(dl, app.fonts.small, app.dpi_scale, pos, size, "Raw sensor signal", -5.0, 0.0, lo - pad, hi + pad,
                            "%.0f", "%.0f", "s", "counts");
    if (s) {
        // At most one point per pixel column: min/max per column keeps peaks visible.
        const int cols = std::max(1, static_cast<int>(f.b.x - f.a.x));
        std::vector<std::pair<double, double>> mm(static_cast<std::size_t>(cols), {1e18, -1e18});
        for (const auto& w : s->recent_waveform()) {
            if (w.t_s < t0 || !std::isfinite(w.value)) continue;
            const int c = std::clamp(static_cast<int>((w.t_s - t0) / 5.0 * cols), 0, cols - 1);
            auto& p = mm[static_cast<std::size_t>(c)];
            p.first = std::min(p.first, w.value);
            p.second = std::max(p.second, w.value);
        }
        ImVec2 prev;
        bool have = false;
        for (int c = 0; c < cols; ++c) {
            const auto& p = mm[static_cast<std::size_t>(c)];
            if (p.first > p.second) { have = false; continue; }
            const float x = f.a.x + static_cast<float>(c);
            const ImVec2 top(x, f.Y(p.second)), bot(x, f.Y(p.first));
            dl->AddLine(top, ImVec2(x, bot.y + 1), Col(Pal(app).wave), 1.0f);
            if (have) dl->AddLine(prev, top, Col(Pal(app).wave), 1.0f);
            prev = bot;
            have = true;
        }
        if (s->recent_waveform().empty()) PlotMessage(dl, f, "no samples from the sensor");
    }
    EndPlot(dl);
}

}  // namespace

void DrawSignals(const AppState& app, float x, float y, float w, float h) {
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float gap = 8.0f * app.dpi_scale;
    const float cw = (w - 2 * gap) / 3.0f, ch = (h - gap) / 2.0f;
    auto cell = [&](int col, int row) { return ImVec2(x + col * (cw + gap), y + row * (ch + gap)); };
    const ImVec2 sz(cw, ch);
    Tachogram(dl, app, cell(0, 0), sz);
    Spectrum(dl, app, cell(1, 0), sz);
    History(dl, app, cell(2, 0), sz, "Coherence", "score", &MetricsSample::coherence, 600.0, true);
    History(dl, app, cell(0, 1), sz, "RMSSD", "ms", &MetricsSample::rmssd_ms, 600.0, false);
    RsaBars(dl, app, cell(1, 1), sz);
    Waveform(dl, app, cell(2, 1), sz);
}

}  // namespace attune::ui
