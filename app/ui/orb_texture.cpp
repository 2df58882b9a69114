// Pixels of the orb sprite: a soft white disc with a gentle highlight and a glow that fades
// out to the image's edge. Tinted by the pacer view; made once at start-up.
#include <algorithm>
#include <cmath>

#include "ui/app_state.hpp"

namespace attune::ui {

std::vector<unsigned char> MakeOrbPixels(int size_px) {
    std::vector<unsigned char> px(static_cast<std::size_t>(size_px) * static_cast<std::size_t>(size_px) * 4);
    const float half = 0.5f * static_cast<float>(size_px);
    const float core = 1.0f / kOrbSpriteExtent;  // core radius in units of the half-width
    const float edge = 1.5f / half;              // anti-aliasing width: 1.5 px
    for (int y = 0; y < size_px; ++y) {
        for (int x = 0; x < size_px; ++x) {
            const float dx = (static_cast<float>(x) + 0.5f - half) / half;
            const float dy = (static_cast<float>(y) + 0.5f - half) / half;
            const float d = std::sqrt(dx * dx + dy * dy);
            // Core: nearly opaque, a little brighter towards the upper left (a soft highlight).
            const float inside = std::clamp((core - d) / edge + 0.5f, 0.0f, 1.0f);
            const float hx = dx + 0.25f * core, hy = dy + 0.3f * core;
            const float highlight = std::clamp(1.0f - std::sqrt(hx * hx + hy * hy) / (0.8f * core), 0.0f, 1.0f);
            // Glow: falls off smoothly from the core's rim to the edge of the sprite.
            const float g = std::clamp((1.0f - d) / (1.0f - core), 0.0f, 1.0f);
            const float glow = 0.35f * g * g * g;
            const float alpha = inside * 0.9f + (1.0f - inside) * glow;
            const float lum = 0.82f + 0.18f * highlight * inside;
            unsigned char* p = &px[(static_cast<std::size_t>(y) * static_cast<std::size_t>(size_px) + static_cast<std::size_t>(x)) * 4];
            p[0] = p[1] = p[2] = static_cast<unsigned char>(std::lround(255.0f * lum));
            p[3] = static_cast<unsigned char>(std::lround(255.0f * std::clamp(alpha, 0.0f, 1.0f)));
        }
    }
    return px;
}

std::vector<unsigned char> MakeRingPixels(int size_px, float thickness_px, std::uint32_t rgba) {
    std::vector<unsigned char> px(static_cast<std::size_t>(std::max(size_px, 0)) * static_cast<std::size_t>(std::max(size_px, 0)) * 4);
    const float half = 0.5f * static_cast<float>(size_px);
    const float radius = half - 0.5f * thickness_px - 1.0f;  // the outer edge stays 1 px inside
    for (int y = 0; y < size_px; ++y) {
        for (int x = 0; x < size_px; ++x) {
            const float dx = static_cast<float>(x) + 0.5f - half, dy = static_cast<float>(y) + 0.5f - half;
            const float off = std::fabs(std::sqrt(dx * dx + dy * dy) - radius);
            // Coverage of a band thickness_px wide, with a 1 px linear edge (anti-aliasing).
            const float a = std::clamp(0.5f * thickness_px - off + 0.5f, 0.0f, 1.0f);
            unsigned char* p = &px[(static_cast<std::size_t>(y) * static_cast<std::size_t>(size_px) + static_cast<std::size_t>(x)) * 4];
            p[0] = static_cast<unsigned char>(rgba & 0xffu);
            p[1] = static_cast<unsigned char>((rgba >> 8) & 0xffu);
            p[2] = static_cast<unsigned char>((rgba >> 16) & 0xffu);
            p[3] = static_cast<unsigned char>(std::lround(static_cast<float>((rgba >> 24) & 0xffu) * a));
        }
    }
    return px;
}

}  // namespace attune::ui
