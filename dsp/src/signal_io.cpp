#include "attune/dsp/signal_io.hpp"

#include "common.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace attune::dsp {

namespace {

std::string_view trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// Parses the whole of s as a finite or non-finite double; false if anything is left over.
bool parse_double(std::string_view s, double& out) {
    s = trim(s);
    if (s.empty()) return false;
    if (s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_int64(std::string_view s, std::int64_t& out) {
    s = trim(s);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    if (s.empty()) return false;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_int(std::string_view s, int& out) {
    std::int64_t v = 0;
    if (!parse_int64(s, v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
        return false;
    out = static_cast<int>(v);
    return true;
}

// Splits text into lines on \n, \r\n or a lone \r.
std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' || text[i] == '\r') {
            lines.push_back(text.substr(start, i - start));
            if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
            start = i + 1;
        }
    }
    if (start < text.size()) lines.push_back(text.substr(start));
    return lines;
}

// Splits one line into fields. delim == ' ' means runs of whitespace. Quotes are removed.
void split_fields(std::string_view line, char delim, std::vector<std::string>& out) {
    out.clear();
    if (delim == ' ') {
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
            if (i >= line.size()) break;
            std::size_t j = i;
            while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
            std::string f(line.substr(i, j - i));
            if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
            out.push_back(std::move(f));
            i = j;
        }
        return;
    }
    std::string cur;
    bool in_quotes = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '"') {
            if (in_quotes && i + 1 < line.size() && line[i + 1] == '"') {  // escaped quote
                cur.push_back('"');
                ++i;
            } else {
                in_quotes = !in_quotes;
            }
        } else if (c == delim && !in_quotes) {
            out.emplace_back(trim(cur));
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    out.emplace_back(trim(cur));
}

bool is_missing_token(std::string_view f) {
    f = trim(f);
    return f.empty() || iequals(f, "nan") || iequals(f, "na") || iequals(f, "null");
}

}  // namespace

// ================================================================ files
IoResult<std::vector<std::uint8_t>> read_file_bytes(const std::string& path) {
    IoResult<std::vector<std::uint8_t>> r;
    // A directory opens fine as an ifstream on Linux and seeking to its end reports LLONG_MAX on
    // ext4, so the size is never trusted: directories are refused by name, and the bytes are read
    // in chunks until the stream ends (also right for pipes and /proc files, which report 0).
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        r.error = "'" + path + "' is a directory, not a file";
        return r;
    }
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        r.error = "cannot open '" + path + "'";
        return r;
    }
    const auto hint = std::filesystem::file_size(path, ec);
    if (!ec && hint < (std::uintmax_t{1} << 32)) r.value.reserve(static_cast<std::size_t>(hint));
    constexpr std::size_t kChunk = 1 << 16;
    for (;;) {
        const std::size_t have = r.value.size();
        r.value.resize(have + kChunk);
        f.read(reinterpret_cast<char*>(r.value.data() + have), static_cast<std::streamsize>(kChunk));
        const auto got = f.gcount();
        r.value.resize(have + static_cast<std::size_t>(got < 0 ? 0 : got));
        if (!f) break;
    }
    if (f.bad()) {
        r.error = "error reading '" + path + "'";
        r.value.clear();
    }
    return r;
}

namespace {
IoResult<std::string> read_text_file(const std::string& path) {
    IoResult<std::string> r;
    auto bytes = read_file_bytes(path);
    if (!bytes) {
        r.error = bytes.error;
        return r;
    }
    r.value.assign(bytes.value.begin(), bytes.value.end());
    return r;
}
}  // namespace

// ================================================================ text
IoResult<TextColumn> parse_text_column(std::string_view text, const TextReadOptions& options) {
    IoResult<TextColumn> r;
    TextColumn& col = r.value;
    const auto lines = split_lines(text);

    char delim = options.delimiter;
    bool first_content = true;
    std::size_t column = options.column_index < 0 ? 0 : static_cast<std::size_t>(options.column_index);
    if (options.column_index < 0) {
        r.error = "column index must be >= 0";
        return r;
    }
    std::vector<std::string> fields;
    bool have_last = false;
    double last = 0.0;
    for (std::size_t ln = 0; ln < lines.size(); ++ln) {
        std::string_view line = lines[ln];
        if (ln == 0 && line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF &&
            static_cast<unsigned char>(line[1]) == 0xBB && static_cast<unsigned char>(line[2]) == 0xBF)
            line.remove_prefix(3);  // UTF-8 byte-order mark
        const std::string_view t = trim(line);
        if (t.empty() || t.front() == '#') continue;
        if (first_content) {
            if (delim == 0) {
                delim = ' ';
                for (char c : {',', '\t', ';'})
                    if (t.find(c) != std::string_view::npos) {
                        delim = c;
                        break;
                    }
            }
            split_fields(t, delim, fields);
            bool header = false;
            for (const auto& f : fields) {
                double v;
                if (!is_missing_token(f) && !parse_double(f, v)) header = true;
            }
            first_content = false;
            if (header) {
                col.header = fields;
                if (!options.column_name.empty()) {
                    auto it = std::find_if(fields.begin(), fields.end(),
                                           [&](const std::string& h) { return iequals(h, options.column_name); });
                    if (it == fields.end()) {
                        r.error = "no column named " + detail::quoted(options.column_name) + " in the header (line " +
                                  std::to_string(ln + 1) + ")";
                        return r;
                    }
                    column = static_cast<std::size_t>(it - fields.begin());
                } else if (column >= fields.size()) {
                    r.error = "column " + std::to_string(column) + " is beyond the " +
                              std::to_string(fields.size()) + " header fields";
                    return r;
                }
                col.column_name = fields[column];
                continue;
            }
            if (!options.column_name.empty()) {
                r.error = "column " + detail::quoted(options.column_name) + " requested but the file has no header row";
                return r;
            }
        } else {
            split_fields(t, delim, fields);
        }
        ++col.rows;
        double v = 0.0;
        bool missing = column >= fields.size() || is_missing_token(fields[column]);
        if (!missing && !parse_double(fields[column], v)) {
            r.error = "line " + std::to_string(ln + 1) + ": cannot read " + detail::quoted(fields[column]) + " as a number";
            return r;
        }
        if (!missing && !std::isfinite(v)) missing = true;
        if (missing) {
            ++col.missing;
            switch (options.missing) {
                case MissingPolicy::Skip: break;
                case MissingPolicy::CarryForward:
                    if (have_last) col.samples.push_back(last);
                    break;
                case MissingPolicy::NaN: col.samples.push_back(std::numeric_limits<double>::quiet_NaN()); break;
            }
            continue;
        }
        col.samples.push_back(v);
        last = v;
        have_last = true;
    }
    col.column_index = column;
    if (first_content) r.error = "no data (empty file or only comments)";
    return r;
}

IoResult<TextColumn> read_text_column(const std::string& path, const TextReadOptions& options) {
    auto text = read_text_file(path);
    if (!text) return {{}, text.error};
    auto r = parse_text_column(text.value, options);
    if (!r) r.error = path + ": " + r.error;
    return r;
}

// ================================================================ WFDB header
IoResult<WfdbHeader> parse_wfdb_header(std::string_view text) {
    IoResult<WfdbHeader> r;
    WfdbHeader& h = r.value;
    bool have_record = false;
    const auto lines = split_lines(text);
    std::vector<std::string> f;
    for (std::size_t ln = 0; ln < lines.size(); ++ln) {
        const std::string_view t = trim(lines[ln]);
        if (t.empty()) continue;
        if (t.front() == '#') {
            h.comments.emplace_back(trim(t.substr(1)));
            continue;
        }
        split_fields(t, ' ', f);
        const std::string where = "header line " + std::to_string(ln + 1) + ": ";
        if (!have_record) {
            have_record = true;
            if (f.empty()) continue;
            if (f[0].find('/') != std::string::npos) {
                r.error = where + "multi-segment records are not supported";
                return r;
            }
            h.record_name = f[0];
            if (f.size() < 2 || !parse_int(f[1], h.num_signals) || h.num_signals < 0 || h.num_signals > 4096) {
                r.error = where + "bad or missing number of signals";
                return r;
            }
            if (f.size() >= 3) {
                std::string fs = f[2];
                const auto cut = fs.find_first_of("/(");
                if (cut != std::string::npos) fs.resize(cut);
                if (!parse_double(fs, h.sample_rate_hz) || !(h.sample_rate_hz > 0.0) ||
                    !std::isfinite(h.sample_rate_hz)) {
                    r.error = where + "bad sampling frequency " + detail::quoted(f[2]);
                    return r;
                }
            }
            if (f.size() >= 4) {
                if (!parse_int64(f[3], h.num_samples) || h.num_samples < 0) {
                    r.error = where + "bad number of samples " + detail::quoted(f[3]);
                    return r;
                }
            }
            continue;
        }
        if (static_cast<int>(h.signals.size()) >= h.num_signals) continue;  // e.g. info lines
        if (f.size() < 2) {
            r.error = where + "signal line needs at least a file name and a format";
            return r;
        }
        WfdbSignalInfo s;
        s.file_name = f[0];
        {
            std::string fmt = f[1];
            if (fmt.find_first_of("x:") != std::string::npos) {
                r.error = where + "format " + detail::quoted(fmt) + ": multiple samples per frame and skew are not supported";
                return r;
            }
            const auto plus = fmt.find('+');
            if (plus != std::string::npos) {
                if (!parse_int64(fmt.substr(plus + 1), s.byte_offset) || s.byte_offset < 0) {
                    r.error = where + "bad byte offset in " + detail::quoted(fmt);
                    return r;
                }
                fmt.resize(plus);
            }
            if (!parse_int(fmt, s.format)) {
                r.error = where + "bad format " + detail::quoted(f[1]);
                return r;
            }
        }
        bool have_baseline = false;
        if (f.size() >= 3) {
            std::string g = f[2];
            const auto slash = g.find('/');
            if (slash != std::string::npos) {
                s.units = g.substr(slash + 1);
                g.resize(slash);
            }
            const auto paren = g.find('(');
            if (paren != std::string::npos) {
                const auto close = g.find(')', paren);
                if (close == std::string::npos || !parse_int(g.substr(paren + 1, close - paren - 1), s.baseline)) {
                    r.error = where + "bad baseline in " + detail::quoted(f[2]);
                    return r;
                }
                have_baseline = true;
                g.resize(paren);
            }
            if (!parse_double(g, s.gain) || !std::isfinite(s.gain)) {
                r.error = where + "bad gain " + detail::quoted(f[2]);
                return r;
            }
            if (s.gain == 0.0) s.gain = 200.0;  // WFDB: 0 means uncalibrated, default gain
        }
        auto opt_int = [&](std::size_t i, int& out, bool* flag, const char* what) -> bool {
            if (f.size() <= i) return true;
            if (!parse_int(f[i], out)) {
                r.error = where + "bad " + what + " " + detail::quoted(f[i]);
                return false;
            }
            if (flag) *flag = true;
            return true;
        };
        if (!opt_int(3, s.adc_resolution, nullptr, "ADC resolution") || !opt_int(4, s.adc_zero, nullptr, "ADC zero") ||
            !opt_int(5, s.initial_value, &s.has_initial_value, "initial value") ||
            !opt_int(6, s.checksum, &s.has_checksum, "checksum") || !opt_int(7, s.block_size, nullptr, "block size"))
            return r;
        if (!have_baseline) s.baseline = s.adc_zero;
        for (std::size_t i = 8; i < f.size(); ++i) {
            if (!s.description.empty()) s.description += ' ';
            s.description += f[i];
        }
        h.signals.push_back(std::move(s));
    }
    if (!have_record) {
        r.error = "header has no record line";
        return r;
    }
    if (static_cast<int>(h.signals.size()) != h.num_signals) {
        r.error = "header announces " + std::to_string(h.num_signals) + " signals but describes " +
                  std::to_string(h.signals.size());
        return r;
    }
    return r;
}

IoResult<WfdbHeader> read_wfdb_header(const std::string& hea_path) {
    auto text = read_text_file(hea_path);
    if (!text) return {{}, text.error};
    auto r = parse_wfdb_header(text.value);
    if (!r) r.error = hea_path + ": " + r.error;
    return r;
}

// ================================================================ WFDB record
std::vector<double> WfdbRecord::physical(std::size_t signal) const {
    std::vector<double> out;
    if (signal >= digital.size() || signal >= header.signals.size()) return out;
    const auto& s = header.signals[signal];
    const std::int32_t invalid = s.format == 212 ? -2048 : -32768;
    out.reserve(digital[signal].size());
    for (std::int32_t d : digital[signal])
        out.push_back(d == invalid ? std::numeric_limits<double>::quiet_NaN()
                                   : (static_cast<double>(d) - s.baseline) / s.gain);
    return out;
}

int WfdbRecord::find_signal(std::string_view name) const {
    for (std::size_t i = 0; i < header.signals.size(); ++i)
        if (iequals(header.signals[i].description, name)) return static_cast<int>(i);
    return -1;
}

IoResult<WfdbRecord> read_wfdb_record(const std::string& hea_path, const WfdbReadOptions& options) {
    IoResult<WfdbRecord> r;
    auto hdr = read_wfdb_header(hea_path);
    if (!hdr) {
        r.error = hdr.error;
        return r;
    }
    WfdbRecord& rec = r.value;
    rec.header = std::move(hdr.value);
    const auto& sigs = rec.header.signals;
    const std::size_t nsig = sigs.size();
    rec.digital.assign(nsig, {});

    std::vector<bool> wanted(nsig, options.signals.empty());
    for (int s : options.signals) {
        if (s < 0 || static_cast<std::size_t>(s) >= nsig) {
            r.error = hea_path + ": requested signal " + std::to_string(s) + " but the record has " +
                      std::to_string(nsig);
            return r;
        }
        wanted[static_cast<std::size_t>(s)] = true;
    }
    const auto slash = hea_path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? std::string() : hea_path.substr(0, slash + 1);

    // Group signals by data file, in order of first appearance (signals of one file are
    // interleaved frame by frame, in header order).
    std::vector<std::string> files;
    for (const auto& s : sigs)
        if (std::find(files.begin(), files.end(), s.file_name) == files.end()) files.push_back(s.file_name);

    for (const auto& file : files) {
        std::vector<std::size_t> members;
        bool any_wanted = false;
        for (std::size_t i = 0; i < nsig; ++i)
            if (sigs[i].file_name == file) {
                members.push_back(i);
                any_wanted = any_wanted || wanted[i];
            }
        if (!any_wanted) continue;
        const int format = sigs[members[0]].format;
        const std::int64_t offset = sigs[members[0]].byte_offset;
        for (std::size_t m : members)
            if (sigs[m].format != format || sigs[m].byte_offset != offset) {
                r.error = hea_path + ": signals in " + detail::quoted(file) + " mix formats or offsets (not supported)";
                return r;
            }
        if (format != 212 && format != 16) {
            r.error = hea_path + ": format " + std::to_string(format) + " of " + detail::quoted(file) +
                      " is not supported (only 212 and 16)";
            return r;
        }
        if (file == "-") {
            r.error = hea_path + ": data on standard input is not supported";
            return r;
        }
        auto bytes_r = read_file_bytes(dir + file);
        if (!bytes_r) {
            r.error = hea_path + ": data file: " + bytes_r.error;
            return r;
        }
        const auto& bytes = bytes_r.value;
        const std::size_t k = members.size();
        const std::int64_t avail = static_cast<std::int64_t>(bytes.size()) - offset;
        if (avail < 0) {
            r.error = hea_path + ": " + detail::quoted(file) + " is shorter than its byte offset";
            return r;
        }
        // Frames fully present in the file.
        std::int64_t frames_in_file = 0;
        if (format == 16) {
            frames_in_file = avail / static_cast<std::int64_t>(2 * k);
        } else {  // 212: 3 bytes per pair of samples
            const std::int64_t samples = (avail / 3) * 2 + ((avail % 3) >= 2 ? 1 : 0);
            frames_in_file = samples / static_cast<std::int64_t>(k);
        }
        std::int64_t frames = rec.header.num_samples;
        if (frames < 0) {
            frames = frames_in_file;
        } else if (frames_in_file < frames) {
            r.error = hea_path + ": " + detail::quoted(file) + " is truncated: the header announces " + std::to_string(frames) +
                      " samples per signal but the file holds " + std::to_string(frames_in_file);
            return r;
        }
        if (frames > (std::int64_t{1} << 31)) {
            r.error = hea_path + ": record too long";
            return r;
        }
        for (std::size_t j = 0; j < k; ++j)
            if (wanted[members[j]]) rec.digital[members[j]].resize(static_cast<std::size_t>(frames));
        const std::uint8_t* p = bytes.data() + offset;
        const std::int64_t total = frames * static_cast<std::int64_t>(k);
        for (std::int64_t idx = 0; idx < total; ++idx) {
            std::int32_t v;
            if (format == 16) {
                const std::uint16_t u = static_cast<std::uint16_t>(p[2 * idx] | (p[2 * idx + 1] << 8));
                v = static_cast<std::int16_t>(u);
            } else {
                // Format 212: samples s0, s1 packed in 3 bytes:
                // s0 = b0 | (b1 & 0x0F) << 8, s1 = b2 | (b1 & 0xF0) << 4, 12-bit two's complement.
                const std::int64_t pair = idx / 2;
                const std::uint8_t* q = p + 3 * pair;
                std::int32_t u = (idx % 2 == 0) ? (q[0] | ((q[1] & 0x0F) << 8)) : (q[2] | ((q[1] & 0xF0) << 4));
                if (u & 0x800) u -= 0x1000;
                v = u;
            }
            const std::size_t sig = members[static_cast<std::size_t>(idx % static_cast<std::int64_t>(k))];
            if (wanted[sig]) rec.digital[sig][static_cast<std::size_t>(idx / static_cast<std::int64_t>(k))] = v;
        }
    }

    if (options.verify) {
        for (std::size_t i = 0; i < nsig; ++i) {
            if (!wanted[i]) continue;
            const auto& s = sigs[i];
            const auto& d = rec.digital[i];
            if (s.has_initial_value && !d.empty() && d.front() != s.initial_value) {
                r.error = hea_path + ": signal " + std::to_string(i) + " (" + s.description + "): first sample " +
                          std::to_string(d.front()) + " differs from the header's initial value " +
                          std::to_string(s.initial_value);
                return r;
            }
            if (s.has_checksum) {
                std::uint32_t sum = 0;
                for (std::int32_t v : d) sum += static_cast<std::uint32_t>(v);
                const auto sum16 = static_cast<std::int16_t>(static_cast<std::uint16_t>(sum & 0xFFFFu));
                const auto want16 = static_cast<std::int16_t>(static_cast<std::uint16_t>(s.checksum & 0xFFFF));
                if (sum16 != want16) {
                    r.error = hea_path + ": signal " + std::to_string(i) + " (" + s.description + "): checksum " +
                              std::to_string(sum16) + " differs from the header's " + std::to_string(s.checksum) +
                              " (corrupt data?)";
                    return r;
                }
            }
        }
    }
    return r;
}

// ================================================================ annotations
namespace {
constexpr int kSkip = 59, kNum = 60, kSub = 61, kChn = 62, kAux = 63;
}

IoResult<std::vector<WfdbAnnotation>> parse_wfdb_annotations(std::span<const std::uint8_t> b) {
    IoResult<std::vector<WfdbAnnotation>> r;
    auto& out = r.value;
    std::size_t pos = 0;
    std::int64_t t = 0;
    int cur_num = 0, cur_chan = 0;
    auto word_at = [&](std::size_t p) -> unsigned { return static_cast<unsigned>(b[p] | (b[p + 1] << 8)); };
    while (true) {
        if (pos + 2 > b.size()) {
            r.error = "annotation data ends at byte " + std::to_string(pos) +
                      " without the end-of-file word (truncated?)";
            return r;
        }
        const unsigned w = word_at(pos);
        pos += 2;
        if (w == 0) break;
        const int code = static_cast<int>(w >> 10);
        const int low = static_cast<int>(w & 0x3FF);
        switch (code) {
            case kSkip: {
                if (pos + 4 > b.size()) {
                    r.error = "truncated SKIP at byte " + std::to_string(pos - 2);
                    return r;
                }
                const std::uint32_t hi = word_at(pos), lo = word_at(pos + 2);
                pos += 4;
                t += static_cast<std::int32_t>((hi << 16) | lo);
                t += low;
                break;
            }
            case kNum:
                cur_num = low >= 512 ? low - 1024 : low;
                if (!out.empty()) out.back().num = cur_num;
                break;
            case kSub:
                if (!out.empty()) out.back().subtype = low >= 512 ? low - 1024 : low;
                break;
            case kChn:
                cur_chan = low;
                if (!out.empty()) out.back().channel = cur_chan;
                break;
            case kAux: {
                const std::size_t n = static_cast<std::size_t>(low);
                if (pos + n > b.size()) {
                    r.error = "truncated AUX text at byte " + std::to_string(pos - 2);
                    return r;
                }
                if (!out.empty()) {
                    std::string s(reinterpret_cast<const char*>(b.data() + pos), n);
                    const auto z = s.find('\0');
                    if (z != std::string::npos) s.resize(z);
                    out.back().aux = std::move(s);
                }
                pos += n + (n & 1);
                break;
            }
            default: {
                t += low;
                if (t < 0) {
                    r.error = "negative annotation time at byte " + std::to_string(pos - 2) + " (corrupt?)";
                    return r;
                }
                WfdbAnnotation a;
                a.sample = t;
                a.code = code;
                a.num = cur_num;
                a.channel = cur_chan;
                out.push_back(std::move(a));
            }
        }
    }
    return r;
}

IoResult<std::vector<WfdbAnnotation>> read_wfdb_annotations(const std::string& path) {
    auto bytes = read_file_bytes(path);
    if (!bytes) return {{}, bytes.error};
    auto r = parse_wfdb_annotations(bytes.value);
    if (!r) r.error = path + ": " + r.error;
    return r;
}

bool is_beat_code(int code) {
    switch (code) {
        case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11: case 12:
        case 13: case 34: case 35: case 38: return true;
        default: return false;
    }
}

const char* annotation_mnemonic(int code) {
    static const char* const kNames[] = {
        " ", "N", "L", "R", "a", "V", "F", "J", "A", "S",   // 0-9
        "E", "j", "/", "Q", "~", "?", "|", "?", "s", "T",   // 10-19
        "*", "D", "\"", "=", "p", "B", "^", "t", "+", "u",  // 20-29
        "?", "!", "[", "]", "e", "n", "@", "x", "f", "(",   // 30-39
        ")", "r"};                                          // 40-41
    if (code < 0 || code >= static_cast<int>(sizeof(kNames) / sizeof(kNames[0]))) return "?";
    return kNames[code];
}

}  // namespace attune::dsp
