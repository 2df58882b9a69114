#include "attune/core/session_data.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <system_error>

#include "attune/core/fs_util.hpp"

namespace attune::core {

namespace {

std::string Trim(const std::string& s) {
    std::size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
    return s.substr(a, b - a);
}

// from_chars rather than strtod/stod: locale-independent (a host app may set a locale whose
// decimal separator is a comma) and no exceptions.
std::optional<double> ParseDouble(const std::string& cell) {
    const std::string s = Trim(cell);
    if (s.empty()) return std::nullopt;
    const char* first = s.data();
    if (*first == '+') ++first;
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

enum class Cell { kMissing, kEmpty, kBad, kOk };

// One data row with its cells addressed by header name.
class Row {
public:
    Row(const std::vector<std::string>& fields, const std::map<std::string, std::size_t>& cols)
        : m_fields(fields), m_cols(cols) {}

    const std::string* Text(const std::string& name) const {
        auto it = m_cols.find(name);
        if (it == m_cols.end() || it->second >= m_fields.size()) return nullptr;
        return &m_fields[it->second];
    }
    // A required number: false when missing or malformed.
    bool Number(const std::string& name, double& out) const {
        const std::string* t = Text(name);
        if (!t) return false;
        auto v = ParseDouble(*t);
        if (!v) return false;
        out = *v;
        return true;
    }
    // An optional number: empty or absent cell = not available; garbage = bad row.
    bool Optional(const std::string& name, std::optional<double>& out) const {
        const std::string* t = Text(name);
        if (!t || Trim(*t).empty()) {
            out.reset();
            return true;
        }
        out = ParseDouble(*t);
        return out.has_value();
    }

private:
    const std::vector<std::string>& m_fields;
    const std::map<std::string, std::size_t>& m_cols;
};

// Whether a record ends inside a quoted field (RFC 4180: a quote opens a field only at its
// start; elsewhere it is a literal character, so a stray quote never swallows later lines).
bool EndsInsideQuotes(const std::string& record) {
    bool quoted = false, at_field_start = true;
    for (std::size_t i = 0; i < record.size(); ++i) {
        const char c = record[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < record.size() && record[i + 1] == '"') ++i;
                else quoted = false;
            }
        } else if (c == '"' && at_field_start) {
            quoted = true;
        } else if (c == ',') {
            at_field_start = true;
            continue;
        } else if (c != ' ' && c != '\t') {
            at_field_start = false;
        }
    }
    return quoted;
}

struct CsvStats {
    bool present = false;
    std::size_t rows = 0;
    std::size_t skipped = 0;
    bool truncated_tail = false;
    std::string missing_columns;
};

// Reads a CSV stream with a header line. `on_row` returns false for a malformed row (skipped
// and counted). `join_tail_into` names a last text column that may hold unquoted commas.
CsvStats ReadCsv(const std::filesystem::path& path, const std::vector<std::string>& required,
                 const std::function<bool(const Row&)>& on_row, const std::string& join_tail_into = {}) {
    CsvStats st;
    std::ifstream in(path, std::ios::binary);
    if (!in) return st;
    st.present = true;

    // Returns false at the end of the file. `complete` is false for a final record without its
    // newline: the recorder writes whole lines, so that record was cut short.
    auto next_record = [&in](std::string& record, bool& complete) {
        record.clear();
        std::string line;
        if (!std::getline(in, line)) return false;
        complete = !in.eof();
        record = line;
        // A quoted field may span lines: keep reading while the quotes are unbalanced.
        while (EndsInsideQuotes(record)) {
            if (!std::getline(in, line)) {
                complete = false;
                break;
            }
            complete = !in.eof();
            record += '\n';
            record += line;
        }
        if (!record.empty() && record.back() == '\r') record.pop_back();
        return true;
    };

    std::string record;
    bool complete = true;
    std::map<std::string, std::size_t> cols;
    bool have_header = false;
    while (next_record(record, complete)) {
        if (!complete) {
            st.truncated_tail = true;
            break;
        }
        if (Trim(record).empty()) continue;
        std::vector<std::string> fields = SplitCsvRecord(record);
        if (!have_header) {
            for (std::size_t i = 0; i < fields.size(); ++i) cols.emplace(Trim(fields[i]), i);
            for (const auto& r : required)
                if (!cols.count(r)) st.missing_columns += (st.missing_columns.empty() ? "" : ", ") + r;
            if (!st.missing_columns.empty()) return st;
            have_header = true;
            continue;
        }
        if (!join_tail_into.empty()) {
            auto it = cols.find(join_tail_into);
            if (it != cols.end() && it->second + 1 == cols.size() && fields.size() > cols.size()) {
                std::string joined = fields[it->second];
                for (std::size_t i = it->second + 1; i < fields.size(); ++i) joined += "," + fields[i];
                fields.resize(it->second + 1);
                fields.back() = joined;
            }
        }
        if (on_row(Row(fields, cols))) ++st.rows;
        else ++st.skipped;
    }
    return st;
}

void NoteStats(const char* name, const CsvStats& st, bool optional_stream, std::vector<std::string>& warnings) {
    const std::string n = name;
    if (!st.present) {
        if (!optional_stream) warnings.push_back(n + " is missing");
        return;
    }
    if (!st.missing_columns.empty()) {
        warnings.push_back(n + " lacks column(s) " + st.missing_columns + ": not read");
        return;
    }
    if (st.skipped > 0) warnings.push_back(n + ": " + std::to_string(st.skipped) + " malformed row(s) skipped");
    if (st.truncated_tail) warnings.push_back(n + ": incomplete last line dropped (recording cut short)");
}

}  // namespace

std::vector<std::string> SplitCsvRecord(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    cur += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                cur += c;
            }
        } else if (c == '"' && Trim(cur).empty()) {
            cur.clear();
            quoted = true;
        } else if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

std::string CsvField(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
        if (c == '"') q += '"';
        q += c;
    }
    return q + "\"";
}

double SessionData::LastTimeS() const {
    double t = 0.0;
    if (!beats.empty()) t = std::max(t, beats.back().t_s);
    if (!pacer.empty()) t = std::max(t, pacer.back().t_s);
    if (!metrics.empty()) t = std::max(t, metrics.back().t_s);
    if (!events.empty()) t = std::max(t, events.back().t_s);
    if (!waveform.empty()) t = std::max(t, waveform.back().t_s);
    return t;
}

std::optional<SessionData> LoadSession(const std::filesystem::path& folder, std::string& error,
                                       const SessionLoadOptions& options) {
    error.clear();
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) {
        error = "not a session folder: " + folder.string();
        return std::nullopt;
    }
    SessionData d;
    d.folder = folder;

    std::string text, read_error;
    if (!ReadTextFile(folder / "session.json", text, read_error)) {
        error = "cannot read " + (folder / "session.json").string() + (read_error.empty() ? "" : ": " + read_error);
        return std::nullopt;
    }
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    std::string meta_error;
    if (j.is_discarded() || !SessionMetaFromJson(j, d.meta, meta_error)) {
        error = (folder / "session.json").string() + " is not a session description (not a JSON object)";
        return std::nullopt;
    }
    if (!meta_error.empty()) d.warnings.push_back("session.json: " + meta_error);
    if (d.meta.format > kSessionFormat)
        d.warnings.push_back("session.json: format " + std::to_string(d.meta.format) +
                             " is newer than this version reads (" + std::to_string(kSessionFormat) + ")");

    CsvStats st = ReadCsv(folder / "beats.csv", {"t_s", "ibi_ms"}, [&d](const Row& r) {
        BeatRow b;
        if (!r.Number("t_s", b.t_s) || !r.Number("ibi_ms", b.ibi_ms)) return false;
        if (const std::string* f = r.Text("flag")) b.flag = Trim(*f);
        if (b.flag.empty()) b.flag = "ok";
        if (!r.Optional("hr_bpm", b.hr_bpm)) return false;
        d.beats.push_back(std::move(b));
        return true;
    });
    NoteStats("beats.csv", st, true, d.warnings);

    st = ReadCsv(folder / "pacer.csv", {"t_s", "volume"}, [&d](const Row& r) {
        PacerRow p;
        if (!r.Number("t_s", p.t_s) || !r.Number("volume", p.volume)) return false;
        if (const std::string* s = r.Text("phase")) p.phase = Trim(*s);
        if (!r.Optional("rate_bpm", p.rate_bpm)) return false;
        std::optional<double> breath;
        if (!r.Optional("breath", breath)) return false;
        if (breath && !IsBreathCount(*breath)) return false;  // a damaged row, see IsBreathCount
        p.breath = breath ? static_cast<std::int64_t>(*breath) : 0;
        d.pacer.push_back(std::move(p));
        return true;
    });
    NoteStats("pacer.csv", st, true, d.warnings);

    st = ReadCsv(folder / "metrics.csv", {"t_s"}, [&d](const Row& r) {
        MetricsRow m;
        if (!r.Number("t_s", m.t_s)) return false;
        const bool ok = r.Optional("hr_bpm", m.hr_bpm) && r.Optional("rmssd_ms", m.rmssd_ms) &&
                        r.Optional("sdnn_ms", m.sdnn_ms) && r.Optional("coherence", m.coherence) &&
                        r.Optional("lf_ms2", m.lf_ms2) && r.Optional("hf_ms2", m.hf_ms2) &&
                        r.Optional("lf_peak_hz", m.lf_peak_hz) &&
                        r.Optional("breathing_rate_bpm", m.breathing_rate_bpm) &&
                        r.Optional("rsa_bpm", m.rsa_bpm) && r.Optional("phase_lag_deg", m.phase_lag_deg);
        if (!ok) return false;
        if (const std::string* q = r.Text("quality")) m.quality = Trim(*q);
        d.metrics.push_back(std::move(m));
        return true;
    });
    NoteStats("metrics.csv", st, true, d.warnings);

    st = ReadCsv(
        folder / "events.csv", {"t_s", "kind"},
        [&d](const Row& r) {
            EventRow e;
            if (!r.Number("t_s", e.t_s)) return false;
            if (const std::string* k = r.Text("kind")) e.kind = Trim(*k);
            if (e.kind.empty()) return false;
            if (const std::string* t = r.Text("text")) e.text = *t;
            d.events.push_back(std::move(e));
            return true;
        },
        "text");
    NoteStats("events.csv", st, true, d.warnings);

    if (options.load_waveform) {
        const std::size_t cap = std::max<std::size_t>(options.max_waveform_points, 2);
        std::size_t index = 0;
        d.waveform_stride = 1;
        st = ReadCsv(folder / "waveform.csv", {"t_s", "value"}, [&](const Row& r) {
            WaveformRow w;
            if (!r.Number("t_s", w.t_s) || !r.Number("value", w.value)) return false;
            if (index++ % d.waveform_stride != 0) return true;
            if (d.waveform.size() >= cap) {
                // Keep every other kept sample and double the stride: memory stays under `cap`
                // in one pass, without knowing the length in advance.
                std::size_t k = 0;
                for (std::size_t i = 0; i < d.waveform.size(); i += 2) d.waveform[k++] = d.waveform[i];
                d.waveform.resize(k);
                d.waveform_stride *= 2;
                if ((index - 1) % d.waveform_stride != 0) return true;
            }
            d.waveform.push_back(w);
            return true;
        });
        NoteStats("waveform.csv", st, true, d.warnings);
        if (!st.present) d.waveform_stride = 0;
    }

    // Rows should already be in time order (append-only streams); sort defensively so charts and
    // lookups by time never see a step backwards.
    auto by_time = [](const auto& a, const auto& b) { return a.t_s < b.t_s; };
    std::stable_sort(d.beats.begin(), d.beats.end(), by_time);
    std::stable_sort(d.pacer.begin(), d.pacer.end(), by_time);
    std::stable_sort(d.metrics.begin(), d.metrics.end(), by_time);
    std::stable_sort(d.events.begin(), d.events.end(), by_time);
    return d;
}

}  // namespace attune::core
