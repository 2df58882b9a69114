#include "attune/dsp/rr_io.hpp"

#include "common.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <system_error>

namespace attune::dsp {

namespace {

std::string_view trim(std::string_view s) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; };
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}


}  // namespace

RrFile parse_rr_text(std::string_view text) {
    RrFile file;
    file.opened = true;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

    auto report = [&](std::size_t line_no, const std::string& reason) {
        ++file.bad_lines;
        if (file.errors.size() < kMaxRrErrors)
            file.errors.push_back("line " + std::to_string(line_no) + ": " + reason);
    };

    std::size_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const std::size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

        if (const std::size_t hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        line = trim(line);
        if (line.empty()) continue;

        double value = 0.0;
        const char* first = line.data();
        const char* last = line.data() + line.size();
        const auto [end, ec] = std::from_chars(first, last, value);
        if (ec == std::errc::result_out_of_range) {
            report(line_no, detail::quoted(line) + " is out of range");
        } else if (ec != std::errc() || end != last) {
            report(line_no, detail::quoted(line) + " is not a number of milliseconds");
        } else if (!std::isfinite(value) || value <= 0.0) {
            report(line_no, detail::quoted(line) + " is not a positive interval");
        } else {
            file.ibi_ms.push_back(value);
        }
    }
    if (file.bad_lines > file.errors.size())
        file.errors.push_back("... " + std::to_string(file.bad_lines - file.errors.size()) +
                              " more bad lines");
    return file;
}

RrFile read_rr_file(const std::filesystem::path& path) {
    std::error_code fs_error;
    if (std::filesystem::is_directory(path, fs_error)) {
        RrFile file;
        file.errors.push_back(path.string() + ": is a directory");
        return file;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        RrFile file;
        file.errors.push_back(path.string() + ": cannot open");
        return file;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        RrFile file;
        file.errors.push_back(path.string() + ": read error");
        return file;
    }
    return parse_rr_text(text);
}

}  // namespace attune::dsp
