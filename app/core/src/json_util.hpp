// Small JSON helpers shared by the core sources (internal; not installed).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace attune::core::detail {

// A value, or JSON null when absent.
inline nlohmann::json Opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// A user's text (a JSON string value, a command-line word) quoted for an error message: at most
// max_chars characters, then "...", cut on a UTF-8 character boundary so the message stays valid
// UTF-8 for the UI; control characters (a newline inside a JSON string, and the C1 controls
// U+0080-U+009F that some terminals obey, e.g. CSI) shown as '?'. A 10 KB
// unknown preset id then gives a one-line message, not a page.
inline std::string QuotedText(std::string_view text, std::size_t max_chars = 40) {
    std::string out = "'";
    std::size_t chars = 0, i = 0;
    for (; i < text.size() && chars < max_chars; ++chars) {
        const auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
        if (i + len > text.size()) len = text.size() - i;
        bool valid = len > 1 || c < 0x80;
        for (std::size_t k = 1; k < len; ++k) valid = valid && (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
        const bool c1 = valid && len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
        if (c < 0x20 || c == 0x7f || !valid || c1) {
            out += '?';
            i += valid ? len : 1;
        } else {
            out.append(text.substr(i, len));
            i += len;
        }
    }
    if (i < text.size()) out += "...";
    out += "'";
    return out;
}

}  // namespace attune::core::detail
