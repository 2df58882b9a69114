#include "attune/devices/serial_transport.hpp"

#include <libserialport.h>

#include <sys/stat.h>

#include <climits>
#include <cstdlib>

#include "attune/devices/ports.hpp"
#include "attune/devices/tty_transport.hpp"

namespace attune::devices {

namespace {

std::string SpError(sp_return rc) {
    switch (rc) {
        case SP_ERR_ARG: return "invalid argument";
        case SP_ERR_MEM: return "out of memory";
        case SP_ERR_SUPP: return "not supported";
        case SP_ERR_FAIL: {
            char* msg = sp_last_error_message();
            std::string out = msg != nullptr ? msg : "failed";
            sp_free_error_message(msg);
            return out;
        }
        case SP_OK: break;
    }
    return "ok";
}

TransportIdentity IdentityOf(sp_port* port, const std::string& given_path) {
    TransportIdentity id;
    id.path = given_path;
    const char* name = sp_get_port_name(port);
    id.resolved_path = name != nullptr ? name : "";
    if (sp_get_port_transport(port) == SP_TRANSPORT_USB) {
        int vid = -1;
        int pid = -1;
        if (sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK) {
            id.usb_vid = vid;
            id.usb_pid = pid;
        }
        const char* serial = sp_get_port_usb_serial(port);
        if (serial != nullptr) id.serial_number = serial;
    }
    return id;
}

bool SameDevice(const TransportIdentity& a, const TransportIdentity& b) {
    return a.usb_vid == b.usb_vid && a.usb_pid == b.usb_pid && a.serial_number == b.serial_number;
}

}  // namespace

SerialTransport::SerialTransport(std::string path, int baud) : m_path(std::move(path)), m_baud(baud) {}

SerialTransport::~SerialTransport() { Close(); }

void SerialTransport::SetReconnectTarget(const TransportIdentity& last_seen) { m_target = last_seen; }

std::string SerialTransport::Open() {
    Close();
    if (!IsStandardBaud(m_baud)) return "unsupported baud rate " + std::to_string(m_baud);
    // Follow a symlink (/dev/serial/by-id/...) to the node libserialport knows.
    std::string name = m_path;
    char resolved[PATH_MAX];
    if (::realpath(m_path.c_str(), resolved) != nullptr) name = resolved;

    std::string err = OpenByName(name);
    if (err.empty() && m_target.HasUsbId() && !SameDevice(m_identity, m_target)) {
        // Another device took the name: look for ours elsewhere.
        Close();
        err = "a different device is now at " + name;
    }
    if (!err.empty() && m_target.HasUsbId()) {
        const PortList list = EnumeratePorts();
        if (const auto found = FindPortByIdentity(list.ports, m_target)) {
            if (OpenByName(found->name).empty()) return {};
        }
    }
    return err;
}

std::string SerialTransport::OpenByName(const std::string& name) {
    sp_port* port = nullptr;
    sp_return rc = sp_get_port_by_name(name.c_str(), &port);
    if (rc != SP_OK) return "cannot open " + m_path + ": " + SpError(rc);
    rc = sp_open(port, SP_MODE_READ_WRITE);
    if (rc != SP_OK) {
        std::string err = "cannot open " + m_path + ": " + SpError(rc);
        sp_free_port(port);
        return err;
    }
    m_port = port;
    m_open_name = name;
    m_identity = IdentityOf(port, m_path);
    if ((rc = sp_set_baudrate(m_port, m_baud)) != SP_OK || (rc = sp_set_bits(m_port, 8)) != SP_OK ||
        (rc = sp_set_parity(m_port, SP_PARITY_NONE)) != SP_OK || (rc = sp_set_stopbits(m_port, 1)) != SP_OK ||
        (rc = sp_set_flowcontrol(m_port, SP_FLOWCONTROL_NONE)) != SP_OK) {
        std::string err = "cannot configure " + m_path + ": " + SpError(rc);
        Close();
        return err;
    }
    if ((rc = sp_new_event_set(&m_events)) != SP_OK ||
        (rc = sp_add_port_events(m_events, m_port, SP_EVENT_RX_READY)) != SP_OK) {
        std::string err = "cannot watch " + m_path + ": " + SpError(rc);
        Close();
        return err;
    }
    return {};
}

ReadResult SerialTransport::Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) {
    ReadResult r;
    if (m_port == nullptr) {
        r.status = ReadStatus::Error;
        r.error = "not open";
        return r;
    }
    // sp_wait(…, 0) waits forever: clamp to >= 1 ms.
    const unsigned wait_ms = static_cast<unsigned>(timeout_ms < 1 ? 1 : timeout_ms);
    sp_return rc = sp_wait(m_events, wait_ms);
    if (rc != SP_OK) {
        r.status = ReadStatus::Error;
        r.error = "wait: " + SpError(rc);
        return r;
    }
    rc = sp_nonblocking_read(m_port, buf, cap);
    if (rc > 0) {
        r.bytes = static_cast<std::size_t>(rc);
        r.status = ReadStatus::Ok;
        return r;
    }
    if (rc < 0) {
        r.status = ReadStatus::Gone;  // read() failing with EIO after an unplug
        r.error = "read: " + SpError(rc);
        return r;
    }
    // 0 bytes: quiet or hung up? A hung-up tty fails TIOCINQ.
    rc = sp_input_waiting(m_port);
    if (rc < 0) {
        r.status = ReadStatus::Gone;
        r.error = "hung up (" + SpError(rc) + ")";
    }
    return r;
}

std::string SerialTransport::Write(const std::uint8_t* data, std::size_t n, int timeout_ms) {
    if (m_port == nullptr) return "not open";
    const unsigned t = static_cast<unsigned>(timeout_ms < 1 ? 1 : timeout_ms);
    const sp_return rc = sp_blocking_write(m_port, data, n, t);
    if (rc < 0) return "write: " + SpError(rc);
    if (static_cast<std::size_t>(rc) != n) return "write timed out";
    return {};
}

void SerialTransport::Close() {
    if (m_events != nullptr) {
        sp_free_event_set(m_events);
        m_events = nullptr;
    }
    if (m_port != nullptr) {
        sp_close(m_port);  // drops DTR (HUPCL): an Arduino resets
        sp_free_port(m_port);
        m_port = nullptr;
    }
}

std::string SerialTransport::Describe() const {
    const std::string& name = m_open_name.empty() || m_open_name == m_path ? m_path : m_open_name;
    return "serial " + name + " @" + std::to_string(m_baud);
}

std::string SerialTransport::SetBaud(int baud) {
    if (!IsStandardBaud(baud)) return "unsupported baud rate " + std::to_string(baud);
    if (m_port != nullptr) {
        const sp_return rc = sp_set_baudrate(m_port, baud);
        if (rc != SP_OK) return "cannot set baud " + std::to_string(baud) + ": " + SpError(rc);
        (void)sp_flush(m_port, SP_BUF_INPUT);  // bytes received at the old rate are noise
    }
    m_baud = baud;
    return {};
}

namespace {
bool KnownToLibserialport(const std::string& path) {
    std::string name = path;
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) != nullptr) name = resolved;
    sp_port* port = nullptr;
    const bool known = sp_get_port_by_name(name.c_str(), &port) == SP_OK;
    if (port != nullptr) sp_free_port(port);
    return known;
}
}  // namespace

std::unique_ptr<Transport> MakeTransportForPath(const std::string& path, int baud) {
    if (KnownToLibserialport(path)) return std::make_unique<SerialTransport>(path, baud);
    return std::make_unique<TtyTransport>(path, baud);
}

std::function<std::unique_ptr<Transport>()> MakeAutoTransportFactory(std::string path, int baud) {
    enum class Kind { Undecided, Serial, Tty };
    auto kind = std::make_shared<Kind>(Kind::Undecided);
    return [path = std::move(path), baud, kind]() -> std::unique_ptr<Transport> {
        if (*kind == Kind::Undecided) {
            struct stat st {};
            if (::stat(path.c_str(), &st) != 0) return std::make_unique<TtyTransport>(path, baud);  // not there yet
            *kind = KnownToLibserialport(path) ? Kind::Serial : Kind::Tty;
        }
        if (*kind == Kind::Serial) return std::make_unique<SerialTransport>(path, baud);
        return std::make_unique<TtyTransport>(path, baud);
    };
}

}  // namespace attune::devices
