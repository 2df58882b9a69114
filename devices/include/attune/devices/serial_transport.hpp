// SerialTransport: a real serial port (USB CDC-ACM Arduinos, CH340/FTDI/CP210x adapters,
// built-in UARTs) through libserialport (Debian 0.1.1).
//
// Open: sp_get_port_by_name, sp_open(READ_WRITE), 8N1 at the baud, no flow control; remembers
// the USB VID:PID and serial number. After an unplug, a transport given the lost device's
// identity (SetReconnectTarget) reopens the same path if it is the same device, and otherwise
// looks for the same VID:PID + serial number under another name (ttyACM0 -> ttyACM1 happens
// when the old node is still held open while the board re-enumerates).
//
// Read: sp_wait(RX_READY, timeout) then sp_nonblocking_read. libserialport returns 0 both for
// "no data" and for a hung-up port (read() returns 0 after an unplug), and sp_wait returns SP_OK
// for both a timeout and readiness, so when no byte arrives sp_input_waiting decides: it fails
// (TIOCINQ -> EIO) once the device is gone, and returns 0 while it is merely quiet. sp_wait's
// timeout 0 means "forever", so the timeout is clamped to at least 1 ms.
//
// Caveat (libserialport 0.1.1): sp_open sets HUPCL, so closing the port drops DTR and most
// Arduinos (those with auto-reset) reboot: every reopen restarts the sketch and its banner,
// and the first ~2 s after opening are the bootloader. The decoder copes (it drops the first
// partial line and skips banners); do not close/reopen the port to "retry" a format.
//
// libserialport refuses pseudo-terminals, so this code cannot run in CI: it is kept small, and
// everything testable (ranking, identity matching, baud table) lives in pure functions shared
// with TtyTransport and ports.cpp.
//
// Threading: one thread at a time (see transport.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "attune/devices/transport.hpp"

struct sp_port;
struct sp_event_set;

namespace attune::devices {

class SerialTransport final : public Transport {
public:
    explicit SerialTransport(std::string path, int baud = 115200);
    ~SerialTransport() override;
    SerialTransport(const SerialTransport&) = delete;
    SerialTransport& operator=(const SerialTransport&) = delete;

    std::string Open() override;
    ReadResult Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) override;
    using Transport::Write;
    std::string Write(const std::uint8_t* data, std::size_t n, int timeout_ms = 200) override;
    void Close() override;
    bool IsOpen() const override { return m_port != nullptr; }
    std::string Describe() const override;  // "serial /dev/ttyACM0 @115200"
    std::string SetBaud(int baud) override;
    int Baud() const override { return m_baud; }
    TransportIdentity Identity() const override { return m_identity; }
    void SetReconnectTarget(const TransportIdentity& last_seen) override;

private:
    std::string OpenByName(const std::string& name);

    std::string m_path;        // as given
    std::string m_open_name;   // the port actually opened (differs after a rename)
    int m_baud = 115200;
    sp_port* m_port = nullptr;
    sp_event_set* m_events = nullptr;
    TransportIdentity m_identity;
    TransportIdentity m_target;  // device to find again after an unplug (may be empty)
};

// The transport for a path: SerialTransport when libserialport knows the port (a real serial
// device), TtyTransport otherwise (ptys, /dev/rfcomm*, symlinks that libserialport rejects, and
// paths that do not exist yet).
std::unique_ptr<Transport> MakeTransportForPath(const std::string& path, int baud);

// A factory for DeviceThreadConfig::make_transport that decides as MakeTransportForPath the
// first time the path exists and then sticks to that choice, so after an unplug a serial port
// keeps being looked for by its USB identity even while its old name is missing. Call it from
// one thread at a time (the device thread does).
std::function<std::unique_ptr<Transport>()> MakeAutoTransportFactory(std::string path, int baud);

}  // namespace attune::devices
