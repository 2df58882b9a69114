// A fake serial device for end-to-end tests: a pseudo-terminal whose slave side the app opens
// (through a symlink, as /dev/serial/by-id/... would be) and whose master side the test writes,
// in real time, what a sketch would print. Closing the master is an unplug.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <catch2/catch.hpp>

namespace attune::test {

struct Pty {
    int master = -1, slave = -1;
    std::string name;
    Pty() {
        char buf[128] = {};
        REQUIRE(openpty(&master, &slave, buf, nullptr, nullptr) == 0);
        name = buf;
        termios t{};
        tcgetattr(slave, &t);
        cfmakeraw(&t);
        tcsetattr(slave, TCSANOW, &t);
        // Never block the fake sensor: if nobody reads, bytes are dropped like a real UART's.
        ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
        // The app is started through popen: it must not inherit the master, or closing ours
        // would not hang the line up (no unplug).
        ::fcntl(master, F_SETFD, FD_CLOEXEC);
        // Only the app holds the slave, as with a real device node.
        ::close(slave);
        slave = -1;
    }
    void Close() {
        if (master >= 0) ::close(master);
        if (slave >= 0) ::close(slave);
        master = slave = -1;
    }
    ~Pty() { Close(); }
    Pty(const Pty&) = delete;
    Pty& operator=(const Pty&) = delete;

    // Bytes the app wrote to the device (e.g. the answer to "Press any key"), waiting up to
    // timeout_ms for the first one.
    std::string ReadReply(int timeout_ms) {
        pollfd p{master, POLLIN, 0};
        std::string got;
        if (::poll(&p, 1, timeout_ms) <= 0 || !(p.revents & POLLIN)) return got;
        char buf[256];
        const ssize_t n = ::read(master, buf, sizeof buf);
        if (n > 0) got.assign(buf, static_cast<std::size_t>(n));
        return got;
    }
};

inline void PointLink(const std::filesystem::path& link, const std::string& target) {
    std::filesystem::remove(link);
    std::filesystem::create_symlink(target, link);
}

// One line of a sketch's output at the time (seconds of the sensor's own clock) it is printed.
struct TimedLine {
    double t_s = 0.0;
    std::string text;  // with its line end
};

// Writes `lines` (sorted by time) in real time, in 10 ms batches, as a UART would; returns when
// the last one is written. `start` is the steady-clock moment of the sensor's t = 0.
inline void WriteInRealTime(int fd, const std::vector<TimedLine>& lines, std::chrono::steady_clock::time_point start) {
    std::size_t i = 0;
    std::string batch;
    while (i < lines.size()) {
        const double now_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        batch.clear();
        while (i < lines.size() && lines[i].t_s <= now_s) batch += lines[i++].text;
        if (!batch.empty() && ::write(fd, batch.data(), batch.size()) < 0) { /* nobody reading yet: like a UART */ }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

}  // namespace attune::test
