// The themes' colours stay distinguishable for colour-vision deficiencies and readable.
#include <catch2/catch.hpp>

#include <cstdio>
#include <utility>
#include <vector>

#include "attune/core/palette.hpp"

using namespace attune::core;

namespace {

// Colours as seen by normal vision and by the three dichromacies.
std::vector<Rgb> Views(Rgb c) {
    return {c, SimulateCvd(c, Cvd::Protan), SimulateCvd(c, Cvd::Deutan), SimulateCvd(c, Cvd::Tritan)};
}

double MinDeltaE(Rgb a, Rgb b) {
    const auto va = Views(a), vb = Views(b);
    double m = 1e9;
    for (std::size_t i = 0; i < va.size(); ++i) m = std::min(m, DeltaE76(va[i], vb[i]));
    return m;
}

}  // namespace

TEST_CASE("colour helpers match known values", "[palette]") {
    CHECK(ContrastRatio(Rgb8(0, 0, 0), Rgb8(255, 255, 255)) == Approx(21.0).margin(0.01));
    CHECK(ContrastRatio(Rgb8(118, 118, 118), Rgb8(255, 255, 255)) == Approx(4.54).margin(0.02));  // WCAG's grey example
    CHECK(DeltaE76(Rgb8(0, 0, 0), Rgb8(255, 255, 255)) == Approx(100.0).margin(0.1));
    // Dichromats cannot tell a pure red from a dark yellow-green that a normal viewer separates
    // easily, while greys are unchanged by every simulation.
    const Rgb grey = Rgb8(128, 128, 128);
    for (Cvd k : {Cvd::Protan, Cvd::Deutan, Cvd::Tritan}) CHECK(DeltaE76(SimulateCvd(grey, k), grey) < 1.5);
    const Rgb red = Rgb8(200, 60, 40), green = Rgb8(110, 110, 30);
    CHECK(DeltaE76(red, green) > 40.0);
    CHECK(DeltaE76(SimulateCvd(red, Cvd::Deutan), SimulateCvd(green, Cvd::Deutan)) < 15.0);
}

TEST_CASE("theme names parse and round-trip", "[palette]") {
    for (Theme t : {Theme::Dark, Theme::HighContrast}) CHECK(ParseTheme(ThemeName(t)) == t);
    CHECK_FALSE(ParseTheme("neon").has_value());
}

TEST_CASE("plot series and feedback colours stay apart for colour-blind viewers", "[palette]") {
    for (Theme t : {Theme::Dark, Theme::HighContrast}) {
        const PaletteColors& p = ThemePalette(t);
        INFO(ThemeName(t));
        const std::vector<std::pair<const char*, Rgb>> series = {
            {"heart", p.heart}, {"metric", p.metric}, {"wave", p.wave}, {"peak", p.peak}};
        // Colours drawn in the same plot: heart rate over the breathing curve, the spectrum
        // (metric) with its peak marker. 40 CIELAB units: unmistakable (a just-noticeable
        // difference is ~2.3).
        CHECK(MinDeltaE(p.heart, p.breath) > 40.0);
        CHECK(MinDeltaE(p.metric, p.peak) > 40.0);
        // Every series pair, in any panel, stays apart for every viewer. (The Okabe-Ito set
        // itself reaches ~16 for sky blue vs bluish green under tritanopia.)
        for (std::size_t i = 0; i < series.size(); ++i)
            for (std::size_t j = i + 1; j < series.size(); ++j) {
                INFO(series[i].first << " vs " << series[j].first);
                CHECK(MinDeltaE(series[i].second, series[j].second) > 10.0);
            }
        // The biofeedback scale's two ends, and the signal-quality light's good vs warning.
        CHECK(MinDeltaE(p.orb_cool, p.orb_warm) > 40.0);
        CHECK(MinDeltaE(p.good, p.warn) > 20.0);
        CHECK(MinDeltaE(p.orb_exhale, p.orb_inhale) > 10.0);
    }
}

TEST_CASE("text and plot lines have enough contrast; high contrast has the most", "[palette]") {
    const PaletteColors& d = ThemePalette(Theme::Dark);
    const PaletteColors& h = ThemePalette(Theme::HighContrast);
    // WCAG 2.x: 7:1 for body text (AAA), 4.5:1 for secondary text (AA), 3:1 for graphics.
    CHECK(ContrastRatio(d.text, d.background) >= 7.0);
    CHECK(ContrastRatio(d.text_dim, d.panel) >= 4.5);
    CHECK(ContrastRatio(h.text, h.background) >= 20.0);
    CHECK(ContrastRatio(h.text_dim, h.panel) >= 12.0);
    for (const PaletteColors* p : {&d, &h})
        for (Rgb c : {p->heart, p->metric, p->wave, p->peak, p->axis}) CHECK(ContrastRatio(c, p->panel) >= 3.0);
    for (Rgb c : {h.heart, h.metric, h.wave, h.peak, h.axis, h.orb_cool, h.orb_warm}) CHECK(ContrastRatio(c, h.panel) >= 7.0);
    CHECK(RelativeLuminance(h.background) < RelativeLuminance(d.background));
}
