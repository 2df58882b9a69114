#include "attune/core/palette.hpp"

#include <algorithm>
#include <cmath>

namespace attune::core {

namespace {

double ToLinear(double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); }
double ToSrgb(double c) {
    c = std::clamp(c, 0.0, 1.0);
    return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
}

struct Lab { double l, a, b; };
Lab ToLab(Rgb c) {
    const double r = ToLinear(c.r), g = ToLinear(c.g), b = ToLinear(c.b);
    // sRGB D65 -> XYZ, normalised by the white point.
    const double x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
    const double y = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 1.0;
    const double z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
    auto f = [](double t) { return t > 216.0 / 24389.0 ? std::cbrt(t) : (24389.0 / 27.0 * t + 16.0) / 116.0; };
    const double fx = f(x), fy = f(y), fz = f(z);
    return {116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

// Okabe & Ito (2008).
constexpr Rgb kOrange = Rgb8(230, 159, 0);
constexpr Rgb kSkyBlue = Rgb8(86, 180, 233);
constexpr Rgb kBluishGreen = Rgb8(0, 158, 115);
constexpr Rgb kYellow = Rgb8(240, 228, 66);
constexpr Rgb kVermillion = Rgb8(213, 94, 0);

const PaletteColors kDark{
    Rgb8(9, 14, 24),     // background
    Rgb8(14, 20, 32),    // panel
    Rgb8(219, 230, 240), // text
    Rgb8(140, 155, 170), // text_dim
    Rgb8(60, 72, 90),    // grid
    Rgb8(125, 140, 155), // axis
    Rgb8(31, 41, 56),    // frame (widget backgrounds)
    kOrange, kSkyBlue, kBluishGreen, kSkyBlue, kYellow,
    kBluishGreen, kOrange, kVermillion,
    Rgb8(77, 107, 204),  // orb_cool
    Rgb8(250, 199, 107), // orb_warm
    Rgb8(84, 115, 217),  // orb_exhale
    Rgb8(92, 209, 204),  // orb_inhale
    Rgb8(240, 246, 250), // phase_word
};

const PaletteColors kHighContrast{
    Rgb8(0, 0, 0),       // background
    Rgb8(0, 0, 0),       // panel
    Rgb8(255, 255, 255), // text
    Rgb8(225, 225, 225), // text_dim
    Rgb8(120, 120, 120), // grid
    Rgb8(240, 240, 240), // axis
    Rgb8(40, 40, 40),    // frame
    // Okabe-Ito, the green and yellow a little lighter for >= 7:1 on black.
    Rgb8(240, 165, 0), kSkyBlue, Rgb8(20, 185, 135), kSkyBlue, Rgb8(245, 235, 80),
    Rgb8(20, 185, 135), Rgb8(240, 165, 0), Rgb8(255, 110, 40),
    Rgb8(90, 150, 255),  // orb_cool
    Rgb8(255, 205, 60),  // orb_warm
    Rgb8(90, 150, 255),  // orb_exhale
    Rgb8(120, 230, 255), // orb_inhale
    Rgb8(255, 255, 255), // phase_word
};

}  // namespace

const char* ThemeName(Theme t) { return t == Theme::HighContrast ? "high-contrast" : "dark"; }

std::optional<Theme> ParseTheme(std::string_view name) {
    if (name == "dark") return Theme::Dark;
    if (name == "high-contrast") return Theme::HighContrast;
    return std::nullopt;
}

const PaletteColors& ThemePalette(Theme t) { return t == Theme::HighContrast ? kHighContrast : kDark; }

Rgb SimulateCvd(Rgb c, Cvd kind) {
    // Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
    static constexpr double kProtan[9] = {0.152286, 1.052583, -0.204868, 0.114503, 0.786281, 0.099216,
                                          -0.003882, -0.048116, 1.051998};
    static constexpr double kDeutan[9] = {0.367322, 0.860646, -0.227968, 0.280085, 0.672501, 0.047413,
                                          -0.011820, 0.042940, 0.968881};
    static constexpr double kTritan[9] = {1.255528, -0.076749, -0.178779, -0.078411, 0.930809, 0.147602,
                                          0.004733, 0.691367, 0.303900};
    const double* m = kind == Cvd::Protan ? kProtan : kind == Cvd::Deutan ? kDeutan : kTritan;
    const double r = ToLinear(c.r), g = ToLinear(c.g), b = ToLinear(c.b);
    return {ToSrgb(m[0] * r + m[1] * g + m[2] * b), ToSrgb(m[3] * r + m[4] * g + m[5] * b),
            ToSrgb(m[6] * r + m[7] * g + m[8] * b)};
}

double DeltaE76(Rgb a, Rgb b) {
    const Lab p = ToLab(a), q = ToLab(b);
    return std::sqrt((p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) + (p.b - q.b) * (p.b - q.b));
}

double RelativeLuminance(Rgb c) { return 0.2126 * ToLinear(c.r) + 0.7152 * ToLinear(c.g) + 0.0722 * ToLinear(c.b); }

double ContrastRatio(Rgb a, Rgb b) {
    const double la = RelativeLuminance(a), lb = RelativeLuminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

}  // namespace attune::core
