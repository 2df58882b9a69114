#include "attune/core/recorder.hpp"
#include "attune/core/json_text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attune/core/fs_util.hpp"
#include "attune/core/profiles.hpp"
#include "attune/dsp/coherence.hpp"
#include "attune/dsp/hrv_time.hpp"

namespace attune::core {

namespace fs = std::filesystem;

namespace {

// Longest a numeric cell can get: fixed notation is only used below 1e15 (16 integer digits,
// sign, point, 4 decimals); larger magnitudes use the shortest round-trip form (<= 24 chars).
constexpr std::size_t kMaxNumberChars = 32;
// Short words (flags, phases, event kinds, quality) are cut at this length.
constexpr std::size_t kMaxWordChars = 64;
// Reserve() size for the numeric rows: 12 cells at most plus words and separators.
constexpr std::size_t kRowReserve = 16 * (kMaxNumberChars + 1) + 2 * (2 * kMaxWordChars + 3);

char* PutFixed(char* p, double v, int decimals) {
    if (!std::isfinite(v)) return p;  // empty cell
    if (std::fabs(v) >= 1e15) return std::to_chars(p, p + kMaxNumberChars, v).ptr;
    char* e = std::to_chars(p, p + kMaxNumberChars, v, std::chars_format::fixed, decimals).ptr;
    if (decimals > 0) {
        while (e[-1] == '0') --e;
        if (e[-1] == '.') --e;
    }
    if (e - p == 2 && p[0] == '-' && p[1] == '0') {  // "-0" after trimming a tiny negative
        p[0] = '0';
        e = p + 1;
    }
    return e;
}

char* PutSignificant(char* p, double v, int digits) {
    if (!std::isfinite(v)) return p;
    return std::to_chars(p, p + kMaxNumberChars, v, std::chars_format::general, digits).ptr;
}

char* PutInt(char* p, std::int64_t v) { return std::to_chars(p, p + kMaxNumberChars, v).ptr; }

char* PutOpt(char* p, const std::optional<double>& v, int decimals) {
    return v ? PutFixed(p, *v, decimals) : p;
}

// Writes a CSV text cell: quoted when it holds a comma or a quote, line breaks turned into
// spaces (one row = one line). Needs at most 2 * min(s.size(), max_chars) + 2 bytes.
char* PutText(char* p, std::string_view s, std::size_t max_chars) {
    if (s.size() > max_chars) s = s.substr(0, max_chars);
    const bool quote = s.find_first_of(",\"") != std::string_view::npos;
    if (quote) *p++ = '"';
    for (char c : s) {
        if (c == '\n' || c == '\r') c = ' ';
        if (c == '"') *p++ = '"';
        *p++ = c;
    }
    if (quote) *p++ = '"';
    return p;
}

std::string Errno(int err) { return std::strerror(err); }

bool WriteAll(int fd, const char* data, std::size_t n, int& err) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            err = errno;
            return false;
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

// ---- CSV reading (SummarizeFromStreams) ----

// Reads complete lines only: a last line without its newline is a row cut by a crash.
class LineReader {
public:
    explicit LineReader(const fs::path& path) : m_file(std::fopen(path.c_str(), "rb")) {}
    ~LineReader() {
        if (m_file) std::fclose(m_file);
    }
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;
    bool ok() const { return m_file != nullptr; }

    bool Next(std::string_view& line) {
        for (;;) {
            const std::size_t nl = m_buf.find('\n', m_pos);
            if (nl != std::string::npos) {
                line = std::string_view(m_buf).substr(m_pos, nl - m_pos);
                if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
                m_pos = nl + 1;
                return true;
            }
            if (m_eof || !m_file) return false;
            m_buf.erase(0, m_pos);
            m_pos = 0;
            char chunk[65536];
            const std::size_t n = std::fread(chunk, 1, sizeof chunk, m_file);
            if (n == 0) m_eof = true;
            m_buf.append(chunk, n);
        }
    }

private:
    std::FILE* m_file;
    std::string m_buf;
    std::size_t m_pos = 0;
    bool m_eof = false;
};

// Splits on commas outside quotes; quoted cells are returned raw (the summary never needs the
// text inside them).
void SplitCsv(std::string_view line, std::vector<std::string_view>& out) {
    out.clear();
    std::size_t start = 0;
    bool in_quotes = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '"') in_quotes = !in_quotes;
        else if (c == ',' && !in_quotes) {
            out.push_back(line.substr(start, i - start));
            start = i + 1;
        }
    }
    out.push_back(line.substr(start));
}

std::optional<double> ParseNumber(std::string_view s) {
    if (s.empty()) return std::nullopt;
    double v = 0.0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// A CSV stream with its header mapped to column indices.
struct CsvStream {
    explicit CsvStream(const fs::path& path) : reader(path) {
        std::string_view header;
        if (!reader.ok() || !reader.Next(header)) return;
        std::vector<std::string_view> names;
        SplitCsv(header, names);
        for (auto& n : names) names_owned.emplace_back(n);
        valid = Column("t_s") == 0;
    }
    int Column(std::string_view name) const {
        for (std::size_t i = 0; i < names_owned.size(); ++i)
            if (names_owned[i] == name) return static_cast<int>(i);
        return -1;
    }
    // Next row with a parsable t_s; cells in `cells`.
    bool Next(double& t_s) {
        std::string_view line;
        while (reader.Next(line)) {
            SplitCsv(line, cells);
            if (auto t = ParseNumber(cells[0])) {
                t_s = *t;
                return true;
            }
        }
        return false;
    }
    std::string_view Cell(int col) const {
        return (col >= 0 && static_cast<std::size_t>(col) < cells.size()) ? cells[static_cast<std::size_t>(col)]
                                                                           : std::string_view();
    }

    LineReader reader;
    std::vector<std::string> names_owned;
    std::vector<std::string_view> cells;
    bool valid = false;
};

// t_s of the last complete row of a (possibly huge) stream, reading only its tail.
std::optional<double> LastTimeOfStream(const fs::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return std::nullopt;
    std::string tail(8192, '\0');
    std::optional<double> out;
    if (std::fseek(f, 0, SEEK_END) == 0) {
        const long size = std::ftell(f);
        const long start = std::max(0L, size - static_cast<long>(tail.size()));
        if (size > 0 && std::fseek(f, start, SEEK_SET) == 0) {
            tail.resize(std::fread(tail.data(), 1, tail.size(), f));
            // Complete lines from the end backwards: the last one with a parsable t_s wins.
            std::size_t end_nl = tail.rfind('\n');
            while (!out && end_nl != std::string::npos && end_nl > 0) {
                const std::size_t prev_nl = tail.rfind('\n', end_nl - 1);
                // Without an earlier newline the line may have begun before the tail, unless the
                // tail is the whole file.
                if (prev_nl == std::string::npos && start != 0) break;
                const std::size_t b = prev_nl == std::string::npos ? 0 : prev_nl + 1;
                const std::string_view line = std::string_view(tail).substr(b, end_nl - b);
                out = ParseNumber(line.substr(0, line.find(',')));
                end_nl = prev_nl;
            }
        }
    }
    std::fclose(f);
    return out;
}

bool IsMovingPhase(std::string_view phase) {
    return phase == "inhale" || phase == "hold_in" || phase == "exhale" || phase == "hold_out";
}

}  // namespace

// ---- time helpers ----

std::string FormatUtcIso8601(std::chrono::system_clock::time_point t) {
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::optional<std::int64_t> ParseUtcIso8601(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS, optional fraction, then Z.
    if (s.size() < 20) return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        const auto r = std::from_chars(s.data() + pos, s.data() + pos + len, out);
        return r.ec == std::errc() && r.ptr == s.data() + pos + len;
    };
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
        (s[10] != 'T' && s[10] != ' ') || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) || s[16] != ':' ||
        !num(17, 2, se))
        return std::nullopt;
    std::size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    }
    if (i + 1 != s.size() || s[i] != 'Z') return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    // Attune did not exist before 2000, and system_clock (nanoseconds in 64 bits) ends in 2262:
    // a date outside this range is a corrupt file, not a time to compute with.
    if (y < 2000 || y > 2200) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return static_cast<std::int64_t>(timegm(&tm));
}

const char* PacerPhaseWord(const PacerState& s, bool paused) {
    if (paused) return "paused";
    if (!s.paced) return "natural";
    switch (s.phase) {
        case PhaseKind::Inhale: return "inhale";
        case PhaseKind::HoldIn: return "hold_in";
        case PhaseKind::Exhale: return "exhale";
        case PhaseKind::HoldOut: return "hold_out";
        case PhaseKind::Natural: return "natural";
    }
    return "natural";
}

// ---- Recorder ----

const char* Recorder::StreamFileName(Stream s) {
    switch (s) {
        case kBeats: return "beats.csv";
        case kWaveform: return "waveform.csv";
        case kPacer: return "pacer.csv";
        case kMetrics: return "metrics.csv";
        case kEvents: return "events.csv";
        case kStreamCount: break;
    }
    return "";
}

const char* Recorder::StreamHeader(Stream s) {
    switch (s) {
        case kBeats: return "t_s,ibi_ms,flag,hr_bpm";
        case kWaveform: return "t_s,value";
        case kPacer: return "t_s,phase,volume,rate_bpm,breath";
        case kMetrics:
            return "t_s,hr_bpm,rmssd_ms,sdnn_ms,coherence,lf_ms2,hf_ms2,lf_peak_hz,breathing_rate_bpm,rsa_bpm,"
                   "phase_lag_deg,quality";
        case kEvents: return "t_s,kind,text";
        case kStreamCount: break;
    }
    return "";
}

Recorder::Recorder() = default;

Recorder::~Recorder() {
    if (!m_open) return;
    // Abandoned without Close(): keep what was recorded and leave the session "recording"
    // without a lock, which is exactly what RecoverInterrupted looks for.
    AdoptSyncError();
    if (!m_failed) DrainAll();
    StopSyncThread();
    CloseFiles();
    ::unlink((m_folder / "lock").c_str());
    if (m_lock_fd >= 0) ::close(m_lock_fd);
}

void Recorder::Fail(std::string message) {
    if (!m_failed) {
        m_failed = true;
        m_error = std::move(message);
    }
    // Rows still in the buffers are lost too: count them as dropped.
    for (auto& s : m_streams) {
        s.len = 0;
        s.dropped += s.pending;
        s.pending = 0;
    }
}

bool Recorder::Open(const fs::path& folder, const SessionMeta& meta) {
    if (m_open || !m_folder.empty()) {
        m_error = "This recorder has already been used; open a new one for each session.";
        return false;
    }
    m_folder = folder;
    std::error_code ec;
    if (fs::exists(folder / "session.json", ec)) {
        m_failed = true;
        m_error = "Cannot record into " + folder.string() + ": it already holds a session.";
        return false;
    }
    if (std::string e = MakePrivateDirTree(folder); !e.empty()) {
        m_failed = true;
        m_error = "Cannot record the session: " + e;
        return false;
    }
    ::chmod(folder.c_str(), 0700);

    // The lock is created under a temporary name, locked, filled and only then renamed into
    // place, so whoever sees a "lock" file sees it locked (RecoverInterrupted relies on it).
    const fs::path lock_tmp = folder / "lock.tmp";
    m_lock_fd = ::open(lock_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = 0;
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (m_lock_fd < 0 || ::flock(m_lock_fd, LOCK_EX | LOCK_NB) != 0 ||
        !WriteAll(m_lock_fd, pid.data(), pid.size(), err) || ::rename(lock_tmp.c_str(), (folder / "lock").c_str()) != 0) {
        if (err == 0) err = errno;
        m_failed = true;
        m_error = "Cannot record the session: cannot create the lock file in " + folder.string() + ": " + Errno(err);
        if (m_lock_fd >= 0) ::close(m_lock_fd);
        m_lock_fd = -1;
        ::unlink(lock_tmp.c_str());
        return false;
    }

    m_meta = meta;
    m_meta.format = kSessionFormat;
    m_meta.status = "recording";
    m_meta.ended_utc.clear();
    if (m_meta.id.empty()) m_meta.id = folder.filename().string();
    m_open = true;  // from here on, failures leave a recoverable folder
    if (!WriteMetaFile()) {
        Fail(m_error);
        return false;
    }

    for (int i = 0; i < kStreamCount; ++i) {
        const auto s = static_cast<Stream>(i);
        StreamState& st = m_streams[static_cast<std::size_t>(i)];
        const fs::path path = folder / StreamFileName(s);
        st.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        if (st.fd < 0) {
            Fail("Cannot record the session: cannot create " + path.string() + ": " + Errno(errno));
            return false;
        }
        st.buf = std::make_unique<char[]>(kBufferBytes);
        const std::size_t n = std::strlen(StreamHeader(s));
        std::memcpy(st.buf.get(), StreamHeader(s), n);
        st.buf[n] = '\n';
        st.len = n + 1;
    }
    DrainAll();  // headers on disk right away: an empty session still has readable streams
    if (m_failed) return false;
    m_last_flush_t_s = 0.0;
    StartSyncThread();
    return true;
}

bool Recorder::WriteMetaFile() {
    const std::string err = WriteFileAtomic(m_folder / "session.json", DumpJson(SessionMetaToJson(m_meta), 2) + "\n");
    if (err.empty()) return true;
    if (m_error.empty()) m_error = "Could not save the session details: " + err;
    return false;
}

char* Recorder::Reserve(Stream s, std::size_t n) {
    StreamState& st = m_streams[static_cast<std::size_t>(s)];
    if (!m_open || m_failed) {
        ++st.dropped;
        return nullptr;
    }
    if (st.len + n > kBufferBytes) {
        if (!Drain(s)) {
            ++st.dropped;
            return nullptr;
        }
    }
    return st.buf.get() + st.len;
}

void Recorder::Commit(Stream s, char* end) {
    StreamState& st = m_streams[static_cast<std::size_t>(s)];
    *end++ = '\n';
    st.len = static_cast<std::size_t>(end - st.buf.get());
    ++st.pending;
}

bool Recorder::Drain(Stream s) {
    StreamState& st = m_streams[static_cast<std::size_t>(s)];
    if (m_failed) return false;
    if (st.len == 0) return true;
    int err = 0;
    if (!WriteAll(st.fd, st.buf.get(), st.len, err)) {
        Fail("Recording stopped: could not write " + std::string(StreamFileName(s)) + " (" + Errno(err) +
             "). The session goes on, but nothing more is saved.");
        return false;
    }
    st.len = 0;
    st.rows += st.pending;
    st.pending = 0;
    return true;
}

void Recorder::DrainAll() {
    for (int i = 0; i < kStreamCount && !m_failed; ++i) Drain(static_cast<Stream>(i));
}

void Recorder::AppendBeat(double t_s, double ibi_ms, std::string_view flag, double hr_bpm) {
    char* p = Reserve(kBeats, kRowReserve);
    if (!p) return;
    p = PutFixed(p, t_s, 4);
    *p++ = ',';
    p = PutFixed(p, ibi_ms, 1);
    *p++ = ',';
    p = PutText(p, flag, kMaxWordChars);
    *p++ = ',';
    p = PutFixed(p, hr_bpm, 2);
    Commit(kBeats, p);
}

void Recorder::AppendBeat(double t_s, double ibi_ms, dsp::IntervalClass cls, double hr_bpm) {
    AppendBeat(t_s, ibi_ms, std::string_view(dsp::to_string(cls)), hr_bpm);
}

void Recorder::AppendSample(double t_s, double value) {
    char* p = Reserve(kWaveform, 2 * kMaxNumberChars + 2);
    if (!p) return;
    p = PutFixed(p, t_s, 4);
    *p++ = ',';
    p = PutSignificant(p, value, 8);
    Commit(kWaveform, p);
}

void Recorder::AppendPacer(double t_s, std::string_view phase, double volume, double rate_bpm, std::int64_t breath) {
    char* p = Reserve(kPacer, kRowReserve);
    if (!p) return;
    p = PutFixed(p, t_s, 4);
    *p++ = ',';
    p = PutText(p, phase, kMaxWordChars);
    *p++ = ',';
    p = PutFixed(p, volume, 4);
    *p++ = ',';
    p = PutFixed(p, rate_bpm, 3);
    *p++ = ',';
    p = PutInt(p, breath);
    Commit(kPacer, p);
}

void Recorder::AppendPacer(double t_s, const PacerState& s, bool paused) {
    AppendPacer(t_s, PacerPhaseWord(s, paused), s.volume, s.paced ? s.rate_bpm : 0.0, s.breath_count);
}

void Recorder::AppendMetrics(const LiveMetricsRow& r) {
    char* p = Reserve(kMetrics, kRowReserve);
    if (!p) return;
    p = PutFixed(p, r.t_s, 4);
    *p++ = ',';
    p = PutOpt(p, r.hr_bpm, 2);
    *p++ = ',';
    p = PutOpt(p, r.rmssd_ms, 2);
    *p++ = ',';
    p = PutOpt(p, r.sdnn_ms, 2);
    *p++ = ',';
    p = PutOpt(p, r.coherence, 3);
    *p++ = ',';
    p = PutOpt(p, r.lf_ms2, 1);
    *p++ = ',';
    p = PutOpt(p, r.hf_ms2, 1);
    *p++ = ',';
    p = PutOpt(p, r.lf_peak_hz, 4);
    *p++ = ',';
    p = PutOpt(p, r.breathing_rate_bpm, 2);
    *p++ = ',';
    p = PutOpt(p, r.rsa_bpm, 2);
    *p++ = ',';
    p = PutOpt(p, r.phase_lag_deg, 1);
    *p++ = ',';
    p = PutText(p, r.quality, kMaxWordChars);
    Commit(kMetrics, p);
}

void Recorder::AppendEvent(double t_s, std::string_view kind, std::string_view text) {
    // Event text is bounded so one row always fits in the buffer.
    constexpr std::size_t kMaxTextChars = (kBufferBytes - kRowReserve) / 2 - 8;
    char* p = Reserve(kEvents, kMaxNumberChars + 2 * kMaxWordChars + 2 * std::min(text.size(), kMaxTextChars) + 16);
    if (!p) return;
    p = PutFixed(p, t_s, 4);
    *p++ = ',';
    p = PutText(p, kind, kMaxWordChars);
    *p++ = ',';
    p = PutText(p, text, kMaxTextChars);
    Commit(kEvents, p);
}

void Recorder::Tick(double now_t_s) {
    if (!m_open) return;
    AdoptSyncError();
    if (m_failed) return;
    if (now_t_s - m_last_flush_t_s < kFlushIntervalS && now_t_s >= m_last_flush_t_s) return;
    m_last_flush_t_s = now_t_s;
    DrainAll();
    if (m_failed) return;
    {
        std::lock_guard<std::mutex> lk(m_sync_mu);
        m_sync_requested = true;
    }
    m_sync_cv.notify_all();
}

void Recorder::FlushNow() {
    if (!m_open) return;
    AdoptSyncError();
    if (m_failed) return;
    DrainAll();
    if (m_failed) return;
    {
        std::unique_lock<std::mutex> lk(m_sync_mu);
        m_sync_requested = true;
        m_sync_cv.notify_all();
        m_sync_cv.wait(lk, [&] { return !m_sync_requested && !m_sync_busy; });
    }
    AdoptSyncError();
}

void Recorder::AdoptSyncError() {
    if (!m_sync_failed.load(std::memory_order_acquire)) return;
    std::string msg;
    {
        std::lock_guard<std::mutex> lk(m_sync_mu);
        msg = m_sync_error;
    }
    Fail(std::move(msg));
}

void Recorder::StartSyncThread() {
    m_sync_stop = false;
    m_sync_thread = std::thread([this] { SyncLoop(); });
}

void Recorder::StopSyncThread() {
    if (!m_sync_thread.joinable()) return;
    {
        std::lock_guard<std::mutex> lk(m_sync_mu);
        m_sync_stop = true;
    }
    m_sync_cv.notify_all();
    m_sync_thread.join();
    AdoptSyncError();
}

void Recorder::SyncLoop() {
    std::unique_lock<std::mutex> lk(m_sync_mu);
    for (;;) {
        m_sync_cv.wait(lk, [&] { return m_sync_requested || m_sync_stop; });
        if (!m_sync_requested) break;  // stop, with nothing pending
        m_sync_requested = false;
        m_sync_busy = true;
        lk.unlock();
        std::string error;
        for (int i = 0; i < kStreamCount && error.empty(); ++i) {
            const int fd = m_streams[static_cast<std::size_t>(i)].fd;
            const char* name = StreamFileName(static_cast<Stream>(i));
            struct stat st {};
            if (::fdatasync(fd) != 0)
                error = std::string("Recording stopped: could not save ") + name + " (" + Errno(errno) +
                        "). The session goes on, but nothing more is saved.";
            // Writing to a deleted file succeeds silently: check that the file still has a name.
            else if (::fstat(fd, &st) == 0 && st.st_nlink == 0)
                error = std::string("Recording stopped: ") + name +
                        " was deleted or replaced while recording. The session goes on, but nothing more is saved.";
        }
        lk.lock();
        m_sync_busy = false;
        if (!error.empty() && m_sync_error.empty()) {
            m_sync_error = std::move(error);
            m_sync_failed.store(true, std::memory_order_release);
        }
        m_sync_cv.notify_all();
    }
}

void Recorder::CloseFiles() {
    for (auto& st : m_streams) {
        if (st.fd >= 0) ::close(st.fd);
        st.fd = -1;
    }
}

bool Recorder::UpdateMeta(const SessionMeta& meta) {
    if (!m_open) return false;
    const SessionMeta keep = m_meta;
    m_meta = meta;
    m_meta.format = keep.format;
    m_meta.id = keep.id;
    m_meta.status = keep.status;
    m_meta.ended_utc = keep.ended_utc;
    return WriteMetaFile();
}

bool Recorder::Close(const RecordedSummary& summary) {
    if (!m_open) return false;
    AdoptSyncError();
    if (!m_failed) DrainAll();
    StopSyncThread();
    for (int i = 0; i < kStreamCount && !m_failed; ++i) {
        if (::fdatasync(m_streams[static_cast<std::size_t>(i)].fd) != 0)
            Fail(std::string("Could not save ") + StreamFileName(static_cast<Stream>(i)) + " (" + Errno(errno) + ").");
    }
    CloseFiles();
    m_meta.summary = summary;
    m_meta.status = "complete";
    m_meta.ended_utc = FormatUtcIso8601(std::chrono::system_clock::now());
    const bool meta_ok = WriteMetaFile();
    // The lock goes only once the final session.json is in place; if that failed, the folder
    // stays "recording" and is recovered from its streams later.
    ::unlink((m_folder / "lock").c_str());
    if (m_lock_fd >= 0) ::close(m_lock_fd);
    m_lock_fd = -1;
    m_open = false;
    return meta_ok && !m_failed;
}

// ---- SummarizeFromStreams ----

RecordedSummary SummarizeFromStreams(const fs::path& folder, std::string* error) {
    RecordedSummary out;
    double last_t = 0.0;
    auto note = [&](const std::string& msg) {
        if (error) *error += (error->empty() ? "" : "; ") + msg;
    };
    auto seen = [&](double t) { last_t = std::max(last_t, t); };

    {  // beats
        CsvStream beats(folder / "beats.csv");
        if (!beats.valid) note("beats.csv is missing or has no header");
        const int c_ibi = beats.Column("ibi_ms"), c_flag = beats.Column("flag");
        std::vector<double> series;  // ok intervals, NaN where a flagged one breaks the run
        double hr_sum = 0.0;
        std::size_t hr_n = 0;
        double t = 0.0;
        while (beats.valid && beats.Next(t)) {
            seen(t);
            const std::string_view flag = beats.Cell(c_flag);
            const auto ibi = ParseNumber(beats.Cell(c_ibi));
            if (flag != "implausible") ++out.beats;
            if (flag != "ok") {
                ++out.artifacts_flagged;
                series.push_back(std::nan(""));
                continue;
            }
            if (!ibi || *ibi <= 0.0) {
                series.push_back(std::nan(""));
                continue;
            }
            series.push_back(*ibi);
            hr_sum += 60000.0 / *ibi;
            ++hr_n;
        }
        if (hr_n > 0) out.hr_mean_bpm = hr_sum / static_cast<double>(hr_n);
        const dsp::TimeDomainMetrics td = dsp::compute_time_domain(series);
        if (td.valid) {
            out.rmssd_ms = td.rmssd_ms;
            out.sdnn_ms = td.sdnn_ms;
        }
    }

    struct PacerRow {
        double t_s;
        float rate_bpm;
        bool pacing;
    };
    std::vector<PacerRow> pacer_rows;
    {  // pacer
        CsvStream pacer(folder / "pacer.csv");
        const int c_phase = pacer.Column("phase"), c_rate = pacer.Column("rate_bpm"), c_breath = pacer.Column("breath");
        double t = 0.0;
        double max_breath = 0.0;
        while (pacer.valid && pacer.Next(t)) {
            seen(t);
            const auto rate = ParseNumber(pacer.Cell(c_rate));
            if (const auto b = ParseNumber(pacer.Cell(c_breath)); b && IsBreathCount(*b)) max_breath = std::max(max_breath, *b);
            const bool pacing = IsMovingPhase(pacer.Cell(c_phase)) && rate && *rate > 0.0;
            pacer_rows.push_back({t, static_cast<float>(rate.value_or(0.0)), pacing});
        }
        out.breaths = static_cast<std::size_t>(max_breath);
    }

    {  // metrics
        CsvStream metrics(folder / "metrics.csv");
        const int c_coh = metrics.Column("coherence"), c_rsa = metrics.Column("rsa_bpm"),
                  c_br = metrics.Column("breathing_rate_bpm");
        double coh_sum = 0.0, coh_peak = -1.0, rsa_sum = 0.0;
        std::size_t coh_n = 0, coh_high = 0, rsa_n = 0, paced_n = 0, following_n = 0;
        std::vector<double> rates;
        std::size_t pi = 0;  // pacer_rows index: latest row at or before the metrics row
        double t = 0.0;
        while (metrics.valid && metrics.Next(t)) {
            seen(t);
            if (const auto c = ParseNumber(metrics.Cell(c_coh))) {
                coh_sum += *c;
                coh_peak = std::max(coh_peak, *c);
                ++coh_n;
                if (*c >= dsp::kCoherenceHighScore) ++coh_high;
            }
            if (const auto r = ParseNumber(metrics.Cell(c_rsa))) {
                rsa_sum += *r;
                ++rsa_n;
            }
            if (const auto br = ParseNumber(metrics.Cell(c_br))) {
                rates.push_back(*br);
                while (pi + 1 < pacer_rows.size() && pacer_rows[pi + 1].t_s <= t) ++pi;
                // The pacer writes 10 rows a second: a row more than 2 s old means the pacer was
                // not being recorded then, so the estimate is not compared with anything.
                if (!pacer_rows.empty() && pacer_rows[pi].t_s <= t && t - pacer_rows[pi].t_s <= 2.0 &&
                    pacer_rows[pi].pacing) {
                    ++paced_n;
                    if (std::fabs(*br - pacer_rows[pi].rate_bpm) <= 1.0) ++following_n;
                }
            }
        }
        if (coh_n > 0) {
            out.coherence_mean = coh_sum / static_cast<double>(coh_n);
            out.coherence_peak = coh_peak;
            out.high_coherence_pct = 100.0 * static_cast<double>(coh_high) / static_cast<double>(coh_n);
        }
        if (rsa_n > 0) out.rsa_mean_bpm = rsa_sum / static_cast<double>(rsa_n);
        if (!rates.empty()) {
            const std::size_t mid = rates.size() / 2;
            std::nth_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(mid), rates.end());
            double median = rates[mid];
            if (rates.size() % 2 == 0) {
                const double lower = *std::max_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(mid));
                median = 0.5 * (median + lower);
            }
            out.breathing_rate_bpm = median;
        }
        if (paced_n > 0) out.pacer_following_pct = 100.0 * static_cast<double>(following_n) / static_cast<double>(paced_n);
    }

    {  // events
        CsvStream events(folder / "events.csv");
        const int c_kind = events.Column("kind");
        double t = 0.0;
        while (events.valid && events.Next(t)) {
            seen(t);
            if (events.Cell(c_kind) == "marker") ++out.markers;
        }
    }

    if (const auto t = LastTimeOfStream(folder / "waveform.csv")) seen(*t);
    out.duration_s = last_t;
    return out;
}

}  // namespace attune::core
