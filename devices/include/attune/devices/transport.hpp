// A byte source: where a sensor's bytes come from (a serial port, any tty path, a replay file).
//
// Units: timeouts in milliseconds (ms); baud in bits per second. Transports know nothing of
// session time: the device thread stamps bytes with session time (t_s) when Read returns.
//
// Threading: a Transport is used by exactly one thread at a time — in Attune, the device thread
// that owns it (see device_thread.hpp). It may be constructed on another thread and handed over.
// No method is safe to call concurrently with another on the same object.
//
// "Quiet" versus "gone": Read distinguishes a source that sent nothing within the timeout
// (Timeout: the sensor is still attached, maybe between lines or not yet started) from one that
// has gone away (Gone: USB unplugged, Bluetooth link dropped, pty master closed). On Linux an
// unplug hangs the tty up: poll() reports POLLHUP|POLLERR, read() returns 0, ioctls fail with
// EIO — so "gone" is seen at once, not after a silence. A finite source that has played
// everything (a replay file) reports Ended, which must not trigger a reconnect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace attune::devices {

enum class ReadStatus {
    Ok,       // bytes > 0 were read
    Timeout,  // nothing arrived within the timeout; the source is still there ("quiet")
    Gone,     // the device went away (unplug / hang-up); Close() and reopen later
    Ended,    // a finite source (replay) has delivered everything; do not reopen
    Error,    // another failure (text says what); treated like Gone by the device thread
};

struct ReadResult {
    std::size_t bytes = 0;
    ReadStatus status = ReadStatus::Timeout;
    std::string error;  // for Gone and Error: what the OS said (e.g. "hung up", "EIO")
};

// What identifies the device behind a transport, so a reconnect can find it again.
// `path` is what the user gave (possibly a symlink such as /dev/serial/by-id/... or a test's
// /tmp/fake); `resolved_path` what it pointed at when last opened. USB fields are -1 / empty
// when unknown (ptys, built-in UARTs, replay files).
struct TransportIdentity {
    std::string path;
    std::string resolved_path;
    int usb_vid = -1;
    int usb_pid = -1;
    std::string serial_number;

    bool HasUsbId() const { return usb_vid >= 0 && usb_pid >= 0; }
};

class Transport {
public:
    virtual ~Transport() = default;

    // Opens the source. Returns an empty string on success, otherwise a readable error
    // ("cannot open /dev/ttyACM0: No such file or directory"). Never blocks for long.
    virtual std::string Open() = 0;

    // Waits up to timeout_ms (>= 0) for bytes and reads at most `cap` of them into `buf`.
    virtual ReadResult Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) = 0;

    // Writes all bytes (e.g. to answer a "press any key" banner) within timeout_ms.
    // Returns an empty string on success, otherwise an error text.
    virtual std::string Write(const std::uint8_t* data, std::size_t n, int timeout_ms = 200) = 0;
    std::string Write(std::string_view text, int timeout_ms = 200) {
        return Write(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), timeout_ms);
    }

    // Closes the source; safe to call when not open. Open() may be called again afterwards.
    virtual void Close() = 0;
    virtual bool IsOpen() const = 0;

    // Human-readable, e.g. "serial /dev/ttyACM0 @115200", "tty /tmp/fake @115200",
    // "replay capture.atcap @1x".
    virtual std::string Describe() const = 0;

    // Changes the baud rate (now if open, else at the next Open). Returns an empty string on
    // success or an error text; transports without a baud rate (replay) accept and ignore it.
    virtual std::string SetBaud(int baud) = 0;
    virtual int Baud() const = 0;

    // Identity of the device (filled in by Open where the OS tells it).
    virtual TransportIdentity Identity() const = 0;

    // Tells a freshly created transport which device it is replacing after an unplug, so it
    // can find the same USB device (VID:PID + serial number) under another name (ttyACM0 ->
    // ttyACM1). Default: ignored (a tty path is simply reopened by its path).
    virtual void SetReconnectTarget(const TransportIdentity& /*last_seen*/) {}

    // True for finite sources (replay) whose Ended must not be treated as an unplug.
    virtual bool IsFinite() const { return false; }
};

// True if `baud` is a rate termios can set without the Linux-specific BOTHER path
// (50 .. 4000000, the standard B* constants).
bool IsStandardBaud(int baud);

}  // namespace attune::devices
