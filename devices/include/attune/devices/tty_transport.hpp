// TtyTransport: any terminal device opened by path with POSIX termios — pseudo-terminals
// (tests, socat bridges), /dev/rfcomm* Bluetooth serial links, and real serial ports too.
//
// Why it exists next to SerialTransport: libserialport (Debian 0.1.1) refuses ptys ("Device
// not found": it only knows ports listed under /sys/class/tty with a driver) and treats a
// failing TIOCMGET — which ptys produce — as fatal. A plain fd works for every tty.
//
// Settings at Open: O_RDWR | O_NOCTTY (never becomes our controlling terminal) | O_NONBLOCK
// | O_CLOEXEC; raw mode (cfmakeraw: no echo, no canonical line editing, no CR/LF translation,
// no signals), 8 data bits, no parity, 1 stop bit (8N1), no flow control, CLOCAL | CREAD,
// VMIN = VTIME = 0, the requested baud (ignored by ptys and USB-CDC boards, but harmless);
// TIOCEXCL so a second opener (e.g. ModemManager probing) is refused. HUPCL is left as the
// kernel set it (on by default): closing drops DTR, which resets most Arduinos.
//
// Read: poll(POLLIN) with the timeout, then read(). Timeout when poll times out (quiet);
// Gone on POLLHUP/POLLERR/POLLNVAL without data, read() returning 0 (a hung-up tty), or
// EIO/ENXIO/ENODEV (what Linux reports after an unplug, and on a pty slave whose master has
// closed). Data still buffered when the hang-up arrives is read first.
//
// Symlinks: Open resolves the path given (realpath) and opens the target, but keeps the path
// given; a later Open (after an unplug) resolves it again, so a symlink re-pointed at a new
// device — /dev/serial/by-id/..., or a test's /tmp/fake — is followed.
//
// Threading: one thread at a time (see transport.hpp).
#pragma once

#include <string>

#include "attune/devices/transport.hpp"

namespace attune::devices {

class TtyTransport final : public Transport {
public:
    explicit TtyTransport(std::string path, int baud = 115200);
    ~TtyTransport() override;
    TtyTransport(const TtyTransport&) = delete;
    TtyTransport& operator=(const TtyTransport&) = delete;

    std::string Open() override;
    ReadResult Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) override;
    using Transport::Write;
    std::string Write(const std::uint8_t* data, std::size_t n, int timeout_ms = 200) override;
    void Close() override;
    bool IsOpen() const override { return m_fd >= 0; }
    std::string Describe() const override;  // "tty /tmp/fake @115200"
    std::string SetBaud(int baud) override;
    int Baud() const override { return m_baud; }
    TransportIdentity Identity() const override;

    const std::string& Path() const { return m_path; }
    const std::string& ResolvedPath() const { return m_resolved; }
    int Fd() const { return m_fd; }

private:
    std::string ApplyTermios();

    std::string m_path;      // as given (may be a symlink)
    std::string m_resolved;  // what it pointed at when last opened
    int m_baud = 115200;
    int m_fd = -1;
};

}  // namespace attune::devices
