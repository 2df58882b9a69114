#include "attune/devices/replay_transport.hpp"

#include "path_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

namespace attune::devices {

namespace {

constexpr std::size_t kRecordHeader = 1 + 8 + 4;

void PutU32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void PutF64(std::vector<std::uint8_t>& out, double d) {
    const auto v = std::bit_cast<std::uint64_t>(d);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t GetU32(const std::uint8_t* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
double GetF64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return std::bit_cast<double>(v);
}

using detail::BaseName;

std::string Hex(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "0x%02x", v & 0xFFu);
    return b;
}

std::string FormatSpeed(double speed, bool max) {
    if (max) return "max";
    char b[32];
    std::snprintf(b, sizeof b, "%gx", speed);
    return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading

CaptureContents ReadCaptureFile(const std::string& path, bool allow_truncated_tail) {
    CaptureContents c;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        c.error = "cannot open " + path + ": " + std::strerror(errno);
        return c;
    }
    const std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        c.error = "cannot read " + path;
        return c;
    }
    const std::string name = BaseName(path);
    const std::size_t n = data.size();
    const std::size_t magic_len = sizeof kCaptureMagic;
    const std::size_t cmp = std::min(n, magic_len);
    const bool magic_prefix = n > 0 && std::memcmp(data.data(), kCaptureMagic, cmp) == 0;
    if (n < magic_len && magic_prefix) {
        c.error = "truncated capture " + name + ": the file ends inside its header";
        return c;
    }
    if (n >= 5 && std::memcmp(data.data(), kCaptureMagic, 5) == 0 && !magic_prefix) {
        c.error = "unsupported capture " + name + ": unknown version or damaged header";
        return c;
    }
    if (!magic_prefix) {
        // Plain bytes, no timing.
        c.timed = false;
        if (n > 0) c.records.push_back(CaptureRecord{false, 0.0, data});
        return c;
    }
    c.timed = true;
    std::size_t pos = magic_len;
    double last_t = -INFINITY;
    while (pos < n) {
        const std::size_t at = pos;
        if (n - pos < kRecordHeader) {
            const std::string msg = "truncated capture " + name + ": the last record (byte " + std::to_string(at) +
                                    ") is incomplete";
            if (allow_truncated_tail) {
                c.warning = msg + "; it was skipped";
                break;
            }
            c.records.clear();
            c.error = msg;
            return c;
        }
        const std::uint8_t type = data[pos];
        const double t = GetF64(&data[pos + 1]);
        const std::uint32_t len = GetU32(&data[pos + 9]);
        std::string corrupt;
        if (type != 'D' && type != 'N') {
            corrupt = "unknown record type " + Hex(type);
        } else if (!std::isfinite(t)) {
            corrupt = "invalid time";
        } else if (t < last_t) {
            corrupt = "time goes backwards";
        } else if (len > kMaxCaptureRecord) {
            corrupt = "record length " + std::to_string(len) + " is too large";
        }
        if (!corrupt.empty()) {
            c.records.clear();
            c.error = "corrupt capture " + name + ": " + corrupt + " at byte " + std::to_string(at);
            return c;
        }
        pos += kRecordHeader;
        if (n - pos < len) {
            const std::string msg = "truncated capture " + name + ": the last record (byte " + std::to_string(at) +
                                    ") has " + std::to_string(n - pos) + " of " + std::to_string(len) + " bytes";
            if (allow_truncated_tail) {
                c.warning = msg + "; it was skipped";
                break;
            }
            c.records.clear();
            c.error = msg;
            return c;
        }
        CaptureRecord r;
        r.note = type == 'N';
        r.t_s = t;
        r.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(pos),
                       data.begin() + static_cast<std::ptrdiff_t>(pos + len));
        c.records.push_back(std::move(r));
        last_t = t;
        pos += len;
    }
    return c;
}

// ---------------------------------------------------------------------------------------------
// Writing

CaptureWriter::~CaptureWriter() { Close(); }

std::string CaptureWriter::Open(const std::string& path) {
    Close();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return "cannot create capture " + path + ": " + std::strerror(errno);
    m_fd = fd;
    m_path = path;
    m_bytes = 0;
    m_last_t_s = -INFINITY;
    m_buf.assign(kCaptureMagic, kCaptureMagic + sizeof kCaptureMagic);
    std::size_t done = 0;
    while (done < m_buf.size()) {
        const ssize_t w = ::write(m_fd, m_buf.data() + done, m_buf.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            std::string err = "cannot write capture " + path + ": " + std::strerror(errno);
            Close();
            return err;
        }
        done += static_cast<std::size_t>(w);
    }
    return {};
}

std::string CaptureWriter::Record(char type, const std::uint8_t* data, std::size_t n, double t_s) {
    if (m_fd < 0) return "capture not open";
    if (n > kMaxCaptureRecord) n = kMaxCaptureRecord;
    if (!std::isfinite(t_s)) t_s = m_last_t_s;
    t_s = std::max(t_s, m_last_t_s);  // keep times non-decreasing
    m_last_t_s = t_s;
    m_buf.clear();
    m_buf.push_back(static_cast<std::uint8_t>(type));
    PutF64(m_buf, t_s);
    PutU32(m_buf, static_cast<std::uint32_t>(n));
    m_buf.insert(m_buf.end(), data, data + n);
    std::size_t done = 0;
    while (done < m_buf.size()) {
        const ssize_t w = ::write(m_fd, m_buf.data() + done, m_buf.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return "cannot write capture " + m_path + ": " + std::strerror(errno);
        done += static_cast<std::size_t>(w);
    }
    return {};
}

std::string CaptureWriter::Write(const std::uint8_t* data, std::size_t n, double t_s) {
    if (n == 0) return {};
    std::string err = Record('D', data, n, t_s);
    if (err.empty()) m_bytes += n;
    return err;
}

std::string CaptureWriter::Note(std::string_view text, double t_s) {
    return Record('N', reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), t_s);
}

void CaptureWriter::Close() {
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
}

// ---------------------------------------------------------------------------------------------
// Replaying

ReplayTransport::ReplayTransport(std::string path, ReplayOptions options)
    : m_path(std::move(path)), m_opt(options) {}

std::string ReplayTransport::Open() {
    m_open = false;
    m_contents = ReadCaptureFile(m_path, m_opt.allow_truncated_tail);
    m_data.clear();
    m_total = 0;
    if (!m_contents.error.empty()) {
        std::string err = m_contents.error;
        m_contents = {};
        return err;
    }
    for (std::size_t i = 0; i < m_contents.records.size(); ++i) {
        if (!m_contents.records[i].note && !m_contents.records[i].bytes.empty()) {
            m_data.push_back(i);
            m_total += m_contents.records[i].bytes.size();
        }
    }
    m_t0 = m_contents.records.empty() ? 0.0 : m_contents.records.front().t_s;
    if (!m_contents.timed && m_opt.baud <= 0 && !AsFastAsPossible()) return "replay: invalid byte rate";
    m_next = 0;
    m_offset = 0;
    m_start = Clock::now();
    m_open = true;
    return {};
}

double ReplayTransport::DueTime(std::size_t record, std::size_t offset) const {
    const CaptureRecord& r = m_contents.records[m_data[record]];
    if (m_contents.timed) return r.t_s - m_t0;
    // Plain bytes: byte k is due when k bytes have passed at baud/10 bytes per second.
    return static_cast<double>(offset) / (static_cast<double>(m_opt.baud) / 10.0);
}

double ReplayTransport::ElapsedReplayS() const {
    return std::chrono::duration<double>(Clock::now() - m_start).count() * m_opt.speed;
}

ReadResult ReplayTransport::Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) {
    ReadResult r;
    if (!m_open) {
        r.status = ReadStatus::Error;
        r.error = "not open";
        return r;
    }
    if (m_next >= m_data.size()) {
        r.status = ReadStatus::Ended;
        return r;
    }
    const bool fast = AsFastAsPossible();
    if (!fast) {
        // Wait (at most timeout_ms) until the next byte is due.
        const double due_s = DueTime(m_next, m_offset) / m_opt.speed;  // wall seconds since Open
        const auto due = m_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(due_s));
        const auto limit = Clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
        if (due > limit) {
            std::this_thread::sleep_until(limit);
            return r;  // Timeout: nothing due yet
        }
        std::this_thread::sleep_until(due);
    }
    const double now_s = fast ? INFINITY : ElapsedReplayS();
    std::size_t got = 0;
    while (got < cap && m_next < m_data.size()) {
        const std::vector<std::uint8_t>& bytes = m_contents.records[m_data[m_next]].bytes;
        std::size_t avail = bytes.size() - m_offset;
        if (!fast && !m_contents.timed) {
            // Plain bytes: only those due by now.
            const double rate = static_cast<double>(m_opt.baud) / 10.0;
            const auto due_count = static_cast<std::size_t>(std::floor(now_s * rate)) + 1;
            avail = due_count > m_offset ? std::min(avail, due_count - m_offset) : 0;
            if (avail == 0) break;
        } else if (!fast && DueTime(m_next, m_offset) > now_s) {
            break;
        }
        const std::size_t take = std::min(avail, cap - got);
        std::memcpy(buf + got, bytes.data() + m_offset, take);
        got += take;
        m_offset += take;
        if (m_offset >= bytes.size()) {
            ++m_next;
            m_offset = 0;
        }
        if (!m_contents.timed) break;
    }
    if (got > 0) {
        r.bytes = got;
        r.status = ReadStatus::Ok;
    }
    return r;
}

std::string ReplayTransport::Write(const std::uint8_t* /*data*/, std::size_t /*n*/, int /*timeout_ms*/) {
    return m_open ? std::string() : std::string("not open");
}

std::string ReplayTransport::Describe() const {
    return "replay " + m_path + " @" + FormatSpeed(m_opt.speed, AsFastAsPossible());
}

std::string ReplayTransport::SetBaud(int baud) {
    if (baud <= 0) return "invalid baud rate " + std::to_string(baud);
    if (!m_contents.timed && m_open && !AsFastAsPossible()) {
        // Keep the position: restart the byte clock at the current offset.
        const double rate_old = static_cast<double>(m_opt.baud) / 10.0;
        const double rate_new = static_cast<double>(baud) / 10.0;
        const double elapsed = ElapsedReplayS() * rate_old / rate_new;
        m_start = Clock::now() - std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(elapsed / m_opt.speed));
    }
    m_opt.baud = baud;
    return {};
}

TransportIdentity ReplayTransport::Identity() const {
    TransportIdentity id;
    id.path = m_path;
    id.resolved_path = m_path;
    return id;
}

}  // namespace attune::devices
