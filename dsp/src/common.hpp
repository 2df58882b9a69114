// Small helpers shared by the dsp sources (internal; not installed).
#pragma once

#include <attune/dsp/types.hpp>

#include <cmath>

namespace attune::dsp::detail {

// An interval that can be a heartbeat: finite and within [kMinPlausibleIbiMs, kMaxPlausibleIbiMs].
inline bool plausible_ibi(double ibi_ms) {
    return std::isfinite(ibi_ms) && ibi_ms >= kMinPlausibleIbiMs && ibi_ms <= kMaxPlausibleIbiMs;
}

// A sample rate to work with: fs when it is finite and positive, else the detector's default.
inline double sane_rate(double fs, double fallback_hz) {
    return (fs > 0.0 && std::isfinite(fs)) ? fs : fallback_hz;
}

}  // namespace attune::dsp::detail
