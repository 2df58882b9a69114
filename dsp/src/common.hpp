// Small helpers shared by the dsp sources (internal; not installed).
#pragma once

#include <attune/dsp/filters.hpp>
#include <attune/dsp/types.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

namespace attune::dsp::detail {

// An interval that can be a heartbeat: finite and within [kMinPlausibleIbiMs, kMaxPlausibleIbiMs].
inline bool plausible_ibi(double ibi_ms) {
    return std::isfinite(ibi_ms) && ibi_ms >= kMinPlausibleIbiMs && ibi_ms <= kMaxPlausibleIbiMs;
}

// A sample rate to work with: fs when it is finite and positive, else the detector's default.
inline double sane_rate(double fs, double fallback_hz) {
    return (fs > 0.0 && std::isfinite(fs)) ? fs : fallback_hz;
}

// The detectors' second-order Butterworth band-pass, its upper edge kept below 0.45 fs.
inline ButterworthFilter::Params bandpass_params(double low_hz, double high_hz, double fs) {
    ButterworthFilter::Params b;
    b.sample_rate_hz = fs;
    b.type = ButterworthFilter::Type::BandPass;
    b.low_hz = low_hz;
    b.high_hz = std::min(high_hz, 0.45 * fs);
    b.order = 2;
    return b;
}

// A piece of the input quoted for an error message: at most max_chars characters (then "..."),
// anything but printable ASCII shown as '?', so a binary or endless line gives a short, one-line
// message that cannot upset a terminal (the text_reader fuzzer found a 4 KB cell quoted whole).
inline std::string quoted(std::string_view token, std::size_t max_chars = 24) {
    std::string out = "'";
    for (char c : token.substr(0, max_chars)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (token.size() > max_chars) out += "...";
    out += "'";
    return out;
}

}  // namespace attune::dsp::detail
