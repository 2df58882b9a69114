// JSON text for files and stdout.
//
// Strings that reach JSON can hold bytes from outside: a CSV header cell or file name given to
// `attune analyze`, a serial port name, a WFDB header, a hand-edited session or preset file.
// nlohmann::json's default dump() throws on invalid UTF-8, which would end the program; this
// writes U+FFFD for each invalid byte instead (found by the `analyze` fuzzer: a Latin-1 header
// cell, tests/fuzz/analyze/non-utf8-header). Every JSON the app writes goes through it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace attune::core {

// indent < 0: one line; otherwise pretty-printed with that many spaces.
inline std::string DumpJson(const nlohmann::json& j, int indent = -1) {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace attune::core
