#include "attune/devices/tty_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace attune::devices {

namespace {

struct BaudEntry {
    int baud;
    speed_t speed;
};

constexpr BaudEntry kBauds[] = {
    {50, B50},           {75, B75},           {110, B110},         {134, B134},
    {150, B150},         {200, B200},         {300, B300},         {600, B600},
    {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

bool SpeedFor(int baud, speed_t& out) {
    for (const BaudEntry& e : kBauds) {
        if (e.baud == baud) {
            out = e.speed;
            return true;
        }
    }
    return false;
}

std::string Errno(int err) { return std::strerror(err); }

bool IsGoneErrno(int err) { return err == EIO || err == ENXIO || err == ENODEV || err == EBADF; }

}  // namespace

bool IsStandardBaud(int baud) {
    speed_t s{};
    return SpeedFor(baud, s);
}

TtyTransport::TtyTransport(std::string path, int baud) : m_path(std::move(path)), m_baud(baud) {}

TtyTransport::~TtyTransport() { Close(); }

std::string TtyTransport::Open() {
    Close();
    if (!IsStandardBaud(m_baud)) return "unsupported baud rate " + std::to_string(m_baud);
    // Resolve now, not at construction: after an unplug the symlink may point elsewhere.
    char resolved[PATH_MAX];
    if (::realpath(m_path.c_str(), resolved) == nullptr) {
        return "cannot open " + m_path + ": " + Errno(errno);
    }
    m_resolved = resolved;
    const int fd = ::open(resolved, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return "cannot open " + m_path + ": " + Errno(errno);
    if (!::isatty(fd)) {
        ::close(fd);
        return "cannot open " + m_path + ": not a terminal";
    }
    m_fd = fd;
    if (std::string err = ApplyTermios(); !err.empty()) {
        Close();
        return "cannot configure " + m_path + ": " + err;
    }
    // Refuse other openers while we hold the port; failure is harmless.
    (void)::ioctl(m_fd, TIOCEXCL);
    return {};
}

std::string TtyTransport::ApplyTermios() {
    termios tio{};
    if (::tcgetattr(m_fd, &tio) != 0) return "tcgetattr: " + Errno(errno);
    ::cfmakeraw(&tio);  // no echo, no ICANON, no ICRNL/ONLCR, no ISIG, CS8, no parity
    tio.c_cflag &= ~static_cast<tcflag_t>(CSTOPB | CRTSCTS | PARENB | CSIZE);
    tio.c_cflag |= CS8 | CLOCAL | CREAD;
    tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    speed_t speed{};
    if (!SpeedFor(m_baud, speed)) return "unsupported baud rate " + std::to_string(m_baud);
    ::cfsetispeed(&tio, speed);
    ::cfsetospeed(&tio, speed);
    if (::tcsetattr(m_fd, TCSANOW, &tio) != 0) return "tcsetattr: " + Errno(errno);
    return {};
}

ReadResult TtyTransport::Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) {
    ReadResult r;
    if (m_fd < 0) {
        r.status = ReadStatus::Error;
        r.error = "not open";
        return r;
    }
    pollfd pfd{m_fd, POLLIN, 0};
    const int pr = ::poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (pr == 0) return r;  // quiet
    if (pr < 0) {
        if (errno == EINTR) return r;
        r.status = ReadStatus::Error;
        r.error = "poll: " + Errno(errno);
        return r;
    }
    if ((pfd.revents & POLLIN) == 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) {
        r.status = ReadStatus::Gone;
        r.error = (pfd.revents & POLLNVAL) ? "invalid descriptor" : "hung up";
        return r;
    }
    const ssize_t n = ::read(m_fd, buf, cap);
    if (n > 0) {
        r.bytes = static_cast<std::size_t>(n);
        r.status = ReadStatus::Ok;
    } else if (n == 0) {
        // With O_NONBLOCK and VMIN = 0 an empty tty gives EAGAIN; 0 means hung up.
        r.status = cap == 0 ? ReadStatus::Timeout : ReadStatus::Gone;
        if (cap != 0) r.error = "hung up";
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        // Spurious wake-up.
    } else if (IsGoneErrno(errno)) {
        r.status = ReadStatus::Gone;
        r.error = Errno(errno);
    } else {
        r.status = ReadStatus::Error;
        r.error = "read: " + Errno(errno);
    }
    return r;
}

std::string TtyTransport::Write(const std::uint8_t* data, std::size_t n, int timeout_ms) {
    if (m_fd < 0) return "not open";
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    std::size_t done = 0;
    while (done < n) {
        const ssize_t w = ::write(m_fd, data + done, n - done);
        if (w > 0) {
            done += static_cast<std::size_t>(w);
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return "write: " + Errno(errno);
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return "write timed out";
        pollfd pfd{m_fd, POLLOUT, 0};
        const int pr = ::poll(&pfd, 1, static_cast<int>(left));
        if (pr > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) return "write: hung up";
    }
    return {};
}

void TtyTransport::Close() {
    if (m_fd >= 0) {
        ::close(m_fd);
        m_fd = -1;
    }
}

std::string TtyTransport::Describe() const { return "tty " + m_path + " @" + std::to_string(m_baud); }

std::string TtyTransport::SetBaud(int baud) {
    if (!IsStandardBaud(baud)) return "unsupported baud rate " + std::to_string(baud);
    const int old = m_baud;
    m_baud = baud;
    if (m_fd >= 0) {
        if (std::string err = ApplyTermios(); !err.empty()) {
            m_baud = old;
            return err;
        }
        ::tcflush(m_fd, TCIFLUSH);  // bytes received at the old rate are noise
    }
    return {};
}

TransportIdentity TtyTransport::Identity() const {
    TransportIdentity id;
    id.path = m_path;
    id.resolved_path = m_resolved;
    return id;
}

}  // namespace attune::devices
