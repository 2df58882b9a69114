// Drawing ImGui's draw data on SDL's software renderer (headless runs, machines without GPU
// acceleration), with the same result as the package's imgui_impl_sdlrenderer backend.
//
// Why: ImGui draws every solid rectangle (window and plot backgrounds, frames, bars) as a quad
// textured with the font atlas' white pixel. SDL's software renderer turns such a quad into a
// scaled, colour-modulated copy of that one pixel, ~2 ns per pixel; a filled rectangle costs a
// fraction of that (a plain fill when opaque). Measured at 1280x800 in the practitioner view:
// see the "Speed" table in the README (`scripts/bench`, frame_cpu_ms).
#include <SDL.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "imgui.h"
#include "ui/app_main.hpp"

namespace attune::ui {

namespace {

// True when indices [i, i+6) are ImGui's PrimRect pattern (a, a+1, a+2, a, a+2, a+3) over an
// axis-aligned rectangle of one colour whose texture coordinates are all the white pixel.
bool SolidRect(const ImDrawVert* vtx, const ImDrawIdx* idx, unsigned i, unsigned n_idx, ImVec2 white_uv, SDL_FRect& rect,
               ImU32& col) {
    if (i + 6 > n_idx) return false;
    const ImDrawIdx a = idx[i];
    if (idx[i + 1] != a + 1 || idx[i + 2] != a + 2 || idx[i + 3] != a || idx[i + 4] != a + 2 || idx[i + 5] != a + 3) return false;
    const ImDrawVert& v0 = vtx[a];
    const ImDrawVert& v1 = vtx[a + 1];
    const ImDrawVert& v2 = vtx[a + 2];
    const ImDrawVert& v3 = vtx[a + 3];
    if (v0.col != v1.col || v0.col != v2.col || v0.col != v3.col) return false;
    for (const ImDrawVert* v : {&v0, &v1, &v2, &v3})
        if (v->uv.x != white_uv.x || v->uv.y != white_uv.y) return false;
    if (v0.pos.y != v1.pos.y || v1.pos.x != v2.pos.x || v2.pos.y != v3.pos.y || v3.pos.x != v0.pos.x) return false;
    const float x0 = v0.pos.x < v2.pos.x ? v0.pos.x : v2.pos.x, x1 = v0.pos.x < v2.pos.x ? v2.pos.x : v0.pos.x;
    const float y0 = v0.pos.y < v2.pos.y ? v0.pos.y : v2.pos.y, y1 = v0.pos.y < v2.pos.y ? v2.pos.y : v0.pos.y;
    rect = SDL_FRect{x0, y0, x1 - x0, y1 - y0};
    col = v0.col;
    return true;
}

}  // namespace

void RenderDrawDataSoftware(SDL_Renderer* renderer, ImDrawData* draw_data) {
    const int fb_w = static_cast<int>(draw_data->DisplaySize.x), fb_h = static_cast<int>(draw_data->DisplaySize.y);
    if (fb_w <= 0 || fb_h <= 0) return;
    const ImVec2 white_uv = ImGui::GetIO().Fonts->TexUvWhitePixel;
    const ImVec2 off = draw_data->DisplayPos;
    SDL_Rect old_viewport;
    SDL_Rect old_clip;
    const bool old_clip_on = SDL_RenderIsClipEnabled(renderer) == SDL_TRUE;
    SDL_RenderGetViewport(renderer, &old_viewport);
    SDL_RenderGetClipRect(renderer, &old_clip);
    SDL_RenderSetViewport(renderer, nullptr);

    for (int n = 0; n < draw_data->CmdListsCount; ++n) {
        const ImDrawList* list = draw_data->CmdLists[n];
        const ImDrawVert* vtx_all = list->VtxBuffer.Data;
        const ImDrawIdx* idx_all = list->IdxBuffer.Data;
        for (const ImDrawCmd& cmd : list->CmdBuffer) {
            if (cmd.UserCallback) {
                if (cmd.UserCallback != ImDrawCallback_ResetRenderState) cmd.UserCallback(list, &cmd);
                continue;
            }
            ImVec2 cmin(cmd.ClipRect.x - off.x, cmd.ClipRect.y - off.y), cmax(cmd.ClipRect.z - off.x, cmd.ClipRect.w - off.y);
            if (cmin.x < 0) cmin.x = 0;
            if (cmin.y < 0) cmin.y = 0;
            if (cmax.x > static_cast<float>(fb_w)) cmax.x = static_cast<float>(fb_w);
            if (cmax.y > static_cast<float>(fb_h)) cmax.y = static_cast<float>(fb_h);
            if (cmax.x <= cmin.x || cmax.y <= cmin.y) continue;
            const SDL_Rect clip{static_cast<int>(cmin.x), static_cast<int>(cmin.y), static_cast<int>(cmax.x - cmin.x),
                                static_cast<int>(cmax.y - cmin.y)};
            SDL_RenderSetClipRect(renderer, &clip);

            const ImDrawVert* vtx = vtx_all + cmd.VtxOffset;
            const ImDrawIdx* idx = idx_all + cmd.IdxOffset;
            const int n_vtx = list->VtxBuffer.Size - static_cast<int>(cmd.VtxOffset);
            SDL_Texture* tex = static_cast<SDL_Texture*>(cmd.GetTexID());
            const bool atlas = cmd.GetTexID() == ImGui::GetIO().Fonts->TexID;
            unsigned run_from = 0;  // indices [run_from, i) wait to be drawn as geometry
            auto flush = [&](unsigned to) {
                if (to <= run_from) return;
                const auto* base = reinterpret_cast<const char*>(vtx);
                SDL_RenderGeometryRaw(renderer, tex, reinterpret_cast<const float*>(base + IM_OFFSETOF(ImDrawVert, pos)),
                                      static_cast<int>(sizeof(ImDrawVert)),
                                      reinterpret_cast<const SDL_Color*>(base + IM_OFFSETOF(ImDrawVert, col)),
                                      static_cast<int>(sizeof(ImDrawVert)),
                                      reinterpret_cast<const float*>(base + IM_OFFSETOF(ImDrawVert, uv)),
                                      static_cast<int>(sizeof(ImDrawVert)), n_vtx, idx + run_from,
                                      static_cast<int>(to - run_from), static_cast<int>(sizeof(ImDrawIdx)));
            };
            unsigned i = 0;
            while (i < cmd.ElemCount) {
                SDL_FRect rect;
                ImU32 col = 0;
                if (atlas && SolidRect(vtx, idx, i, cmd.ElemCount, white_uv, rect, col)) {
                    flush(i);
                    const Uint8 alpha = static_cast<Uint8>((col >> IM_COL32_A_SHIFT) & 0xFF);
                    if (alpha != 0) {
                        SDL_SetRenderDrawBlendMode(renderer, alpha == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
                        SDL_SetRenderDrawColor(renderer, static_cast<Uint8>((col >> IM_COL32_R_SHIFT) & 0xFF),
                                               static_cast<Uint8>((col >> IM_COL32_G_SHIFT) & 0xFF),
                                               static_cast<Uint8>((col >> IM_COL32_B_SHIFT) & 0xFF), alpha);
                        SDL_RenderFillRectF(renderer, &rect);
                    }
                    i += 6;
                    run_from = i;
                } else {
                    i += 3;
                }
            }
            flush(cmd.ElemCount);
        }
    }
    SDL_SetRenderDrawBlendMode(renderer, SDL_BLENDMODE_NONE);
    SDL_RenderSetViewport(renderer, &old_viewport);
    SDL_RenderSetClipRect(renderer, old_clip_on ? &old_clip : nullptr);
}

namespace {

// Nearest-sampled, colour-modulated copy of a square ARGB8888 image into dst (dst_w x dst_h,
// rows dst_pitch_px apart).
void ScaleTintArgb(const std::uint32_t* src, int src_px, std::uint32_t* dst, int dst_w, int dst_h, int dst_pitch_px,
                   std::uint32_t tint_abgr, std::vector<int>& columns) {
    // Nearest sampling at pixel centres in 16.16 fixed point, as SDL's own scaled blits do, and
    // modulation (c * m) / 255 per channel: the picture of SDL_RenderCopy with a colour and
    // alpha mod, without its per-pixel scaling-and-modulating blit.
    std::uint8_t lut[4][256];
    const int mod[4] = {static_cast<int>((tint_abgr >> IM_COL32_A_SHIFT) & 0xFF), static_cast<int>((tint_abgr >> IM_COL32_R_SHIFT) & 0xFF),
                        static_cast<int>((tint_abgr >> IM_COL32_G_SHIFT) & 0xFF), static_cast<int>((tint_abgr >> IM_COL32_B_SHIFT) & 0xFF)};
    for (int c = 0; c < 4; ++c)
        for (int v = 0; v < 256; ++v) lut[c][v] = static_cast<std::uint8_t>(v * mod[c] / 255);
    const std::uint32_t inc_x = (static_cast<std::uint32_t>(src_px) << 16) / static_cast<std::uint32_t>(dst_w);
    const std::uint32_t inc_y = (static_cast<std::uint32_t>(src_px) << 16) / static_cast<std::uint32_t>(dst_h);
    columns.resize(static_cast<std::size_t>(dst_w));
    for (std::uint32_t x = 0, pos = inc_x / 2; x < static_cast<std::uint32_t>(dst_w); ++x, pos += inc_x) columns[x] = static_cast<int>(pos >> 16);
    std::uint32_t pos_y = inc_y / 2;
    for (int y = 0; y < dst_h; ++y, pos_y += inc_y) {
        const std::uint32_t* row = src + static_cast<std::size_t>(pos_y >> 16) * static_cast<std::size_t>(src_px);
        std::uint32_t* out = dst + static_cast<std::size_t>(y) * static_cast<std::size_t>(dst_pitch_px);
        for (int x = 0; x < dst_w; ++x) {
            const std::uint32_t p = row[columns[static_cast<std::size_t>(x)]];
            const std::uint32_t a = lut[0][p >> 24];
            out[x] = a == 0 ? 0u
                            : (a << 24) | (std::uint32_t{lut[1][(p >> 16) & 0xFF]} << 16) | (std::uint32_t{lut[2][(p >> 8) & 0xFF]} << 8) |
                                  std::uint32_t{lut[3][p & 0xFF]};
        }
    }
}

}  // namespace

SoftwareOrb::SoftwareOrb(SDL_Renderer* renderer, const std::vector<unsigned char>& rgba, int size_px)
    : renderer_(renderer), src_px_(size_px) {
    if (size_px <= 0 || rgba.size() != static_cast<std::size_t>(size_px) * static_cast<std::size_t>(size_px) * 4) {
        src_px_ = 0;
        return;
    }
    src_.resize(static_cast<std::size_t>(size_px) * static_cast<std::size_t>(size_px));
    for (std::size_t i = 0; i < src_.size(); ++i)
        src_[i] = (std::uint32_t{rgba[4 * i + 3]} << 24) | (std::uint32_t{rgba[4 * i]} << 16) |
                  (std::uint32_t{rgba[4 * i + 1]} << 8) | std::uint32_t{rgba[4 * i + 2]};
}

SoftwareOrb::~SoftwareOrb() {
    if (tex_) SDL_DestroyTexture(tex_);
}

bool SoftwareOrb::Draw(ImDrawList* dl, ImVec2 center, float half_px, std::uint32_t tint) {
    if (src_px_ == 0 || !dl) return false;
    // The rectangle SDL would draw for ImGui's quad (p_min, p_max): corners and size truncated.
    const ImVec2 p_min(center.x - half_px, center.y - half_px), p_max(center.x + half_px, center.y + half_px);
    const int w = static_cast<int>(p_max.x - p_min.x), h = static_cast<int>(p_max.y - p_min.y);
    if (w < 1 || h < 1 || w > 8192 || h > 8192) return false;
    if (w > tex_px_ || h > tex_px_) {
        if (tex_) SDL_DestroyTexture(tex_);
        const int px = (std::max(w, h) + 63) / 64 * 64;  // some room: the orb grows a little every frame
        tex_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, px, px);
        tex_px_ = tex_ ? px : 0;
        w_ = h_ = 0;
        if (!tex_) return false;
        SDL_SetTextureBlendMode(tex_, SDL_BLENDMODE_BLEND);
    }
    if (w != w_ || h != h_ || tint != tint_) {
        const SDL_Rect area{0, 0, w, h};
        void* pixels = nullptr;
        int pitch = 0;
        if (SDL_LockTexture(tex_, &area, &pixels, &pitch) != 0) return false;
        ScaleTintArgb(src_.data(), src_px_, static_cast<std::uint32_t*>(pixels), w, h, pitch / 4, tint, columns_);
        SDL_UnlockTexture(tex_);
        w_ = w;
        h_ = h;
        tint_ = tint;
    }
    dst_x_ = static_cast<int>(p_min.x);
    dst_y_ = static_cast<int>(p_min.y);
    dl->AddCallback(&SoftwareOrb::Callback, this);
    return true;
}

void SoftwareOrb::Callback(const ImDrawList*, const ImDrawCmd* cmd) {
    auto* self = static_cast<SoftwareOrb*>(cmd->UserCallbackData);
    const SDL_Rect clip{static_cast<int>(cmd->ClipRect.x), static_cast<int>(cmd->ClipRect.y),
                        static_cast<int>(cmd->ClipRect.z - cmd->ClipRect.x), static_cast<int>(cmd->ClipRect.w - cmd->ClipRect.y)};
    SDL_RenderSetClipRect(self->renderer_, &clip);
    const SDL_Rect src{0, 0, self->w_, self->h_};
    const SDL_Rect dst{self->dst_x_, self->dst_y_, self->w_, self->h_};
    SDL_RenderCopy(self->renderer_, self->tex_, &src, &dst);
}

}  // namespace attune::ui
