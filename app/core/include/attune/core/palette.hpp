// Colours of the two themes, chosen to stay apart for colour-vision deficiencies, and the checks
// that prove it (UI-free so tests/core can run them).
//
// Series colours come from the Okabe & Ito (2008) colour-blind-safe set: orange (heart rate, RR,
// RSA), sky blue (coherence, RMSSD, spectrum, breathing curve), bluish green (raw signal, good
// signal), yellow (spectral peak), vermillion (sensor off). The biofeedback scale runs from cool
// blue to warm gold: a blue-yellow axis, which protan and deutan vision keep (it is the axis they
// see best); tritan vision is checked too.
//
// Checks: SimulateCvd applies the Machado, Oliveira & Fernandes (2009) matrices (severity 1.0,
// protanopia / deuteranopia / tritanopia) in linear sRGB; DeltaE76 is the CIELAB distance (D65);
// ContrastRatio is WCAG 2.x's (1 = none, 21 = black on white). All colours are sRGB in 0..1.
#pragma once

#include <optional>
#include <string_view>

namespace attune::core {

struct Rgb {
    double r = 0, g = 0, b = 0;  // sRGB, 0..1
};
constexpr Rgb Rgb8(int r, int g, int b) { return Rgb{r / 255.0, g / 255.0, b / 255.0}; }

enum class Theme { Dark, HighContrast };
const char* ThemeName(Theme t);  // "dark", "high-contrast"
std::optional<Theme> ParseTheme(std::string_view name);

struct PaletteColors {
    Rgb background, panel, text, text_dim, grid, axis, frame;
    Rgb heart, metric, wave, breath, peak;  // plot series
    Rgb good, warn, bad;                    // signal-quality light
    Rgb orb_cool, orb_warm;                 // coherence feedback: low .. high
    Rgb orb_exhale, orb_inhale;             // feedback off: empty .. full lungs
    Rgb phase_word;                         // text over the orb / bar
};

const PaletteColors& ThemePalette(Theme t);

enum class Cvd { Protan, Deutan, Tritan };
Rgb SimulateCvd(Rgb c, Cvd kind);
double DeltaE76(Rgb a, Rgb b);
double ContrastRatio(Rgb a, Rgb b);
double RelativeLuminance(Rgb c);

}  // namespace attune::core
