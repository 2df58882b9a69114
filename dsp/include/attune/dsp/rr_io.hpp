// Reading RR-interval text files: one interval in milliseconds per line, as exported by most
// HRV tools and chest straps (e.g. ../shared/data/rr/rest-rri.txt).
//
// Accepted: LF or CRLF line ends, blank lines, leading/trailing spaces and tabs, comments from
// '#' to the end of a line (whole-line or after a value), a UTF-8 byte-order mark. A value is a
// decimal number (locale-independent, e.g. "812", "812.5", "8.125e2") that is finite and > 0.
// Anything else is a bad line: it is skipped and reported as "line N: reason", so a caller can
// show the user exactly what to fix; nothing throws and nothing is guessed. Values outside the
// physiological range 273–2000 ms are NOT errors here (they are real data, e.g. a missed beat);
// the metric functions reject them explicitly.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace attune::dsp {

struct RrFile {
    bool opened = false;          // false: the file could not be read (see errors)
    std::vector<double> ibi_ms;   // accepted values in file order
    std::vector<std::string> errors;  // "line N: reason", at most kMaxRrErrors (+ a summary)
    std::size_t bad_lines = 0;    // total bad lines, including those not listed

    bool ok() const { return opened && bad_lines == 0; }
};

// Bounds the error list so a wrong (e.g. binary) file cannot produce millions of messages.
inline constexpr std::size_t kMaxRrErrors = 20;

RrFile parse_rr_text(std::string_view text);
RrFile read_rr_file(const std::filesystem::path& path);

}  // namespace attune::dsp
