// Shared value types of attune::dsp.
// Units: times in seconds since the start of the stream (t_s), intervals in milliseconds (ibi_ms).
#pragma once
#include <cstdint>

namespace attune::dsp {

// Physiological plausibility limits for inter-beat intervals (30–220 bpm), as in OpenHRV and
// ../shared/PROTOCOLS.md. Intervals outside are never used for metrics.
inline constexpr double kMinPlausibleIbiMs = 273.0;
inline constexpr double kMaxPlausibleIbiMs = 2000.0;

// A detected beat: its time (R peak or systolic peak, sub-sample refined) and the interval
// since the previous beat (0 for the first beat of a stream).
struct Beat {
    double t_s = 0.0;
    double ibi_ms = 0.0;
    double amplitude = 0.0;  // detector-specific peak amplitude (signal units), for quality/RSA use
};

}  // namespace attune::dsp
