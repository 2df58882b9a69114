// Recording and replaying the raw bytes a sensor sent.
//
// Capture file format (".atcap"; all integers and floats little-endian):
//   header  8 bytes  "ATCAP01\n"
//   record  1 byte   type: 'D' = data (bytes as they arrived), 'N' = note (UTF-8 text: what
//                    was opened, at which baud, device lost/back — for people, ignored by replay)
//           8 bytes  t_s, IEEE-754 double: session time (seconds) at which the bytes arrived
//           4 bytes  n, unsigned: payload length (at most kMaxCaptureRecord)
//           n bytes  payload
// Times never decrease. A record is written with one write() call as soon as the bytes arrive
// (no user-space buffering), so a crash loses nothing already read; a power cut can leave a
// truncated last record, which ReadCaptureFile reports (or skips when asked to).
//
// Replay plays the data records with their original spacing, relative to the first record
// (usually the "opened ..." note written when the port opened, so the board's start-up delay
// is kept): at 1x, at `speed` times faster, or as fast as possible. Any other file (no magic) is
// plain bytes without timing — e.g. `cat /dev/ttyACM0 > file` — and is played at a byte rate of
// baud / 10 bytes per second (8N1: 10 bits per byte), times `speed`.
//
// Units: t_s seconds; speed a factor (1 = real time); timeouts ms.
// Threading: CaptureWriter and ReplayTransport are single-thread objects (the device thread);
// ReadCaptureFile is reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attune/devices/transport.hpp"

namespace attune::devices {

inline constexpr char kCaptureMagic[8] = {'A', 'T', 'C', 'A', 'P', '0', '1', '\n'};
inline constexpr std::uint32_t kMaxCaptureRecord = 16u * 1024u * 1024u;

struct CaptureRecord {
    bool note = false;  // false: data bytes; true: a note (text in `bytes`)
    double t_s = 0.0;
    std::vector<std::uint8_t> bytes;
};

struct CaptureContents {
    bool timed = false;  // true: a capture file; false: plain bytes (one record at t_s = 0)
    std::vector<CaptureRecord> records;
    std::string error;    // non-empty: the file is unusable (records then empty)
    std::string warning;  // e.g. a truncated last record that was skipped
};

// Reads and validates a whole capture (or plain) file. Corrupt or truncated captures give a
// clear error ("corrupt capture x.atcap: unknown record type 0x7f at byte 1234"), never a crash.
// allow_truncated_tail: accept a file whose last record is incomplete (crash while writing),
// dropping that record and saying so in `warning`.
CaptureContents ReadCaptureFile(const std::string& path, bool allow_truncated_tail = false);

// Writes a capture file as bytes arrive (`--capture FILE`). Creates or truncates the file,
// readable by the user only (0600: it is health data).
class CaptureWriter {
public:
    CaptureWriter() = default;
    ~CaptureWriter();
    CaptureWriter(const CaptureWriter&) = delete;
    CaptureWriter& operator=(const CaptureWriter&) = delete;

    std::string Open(const std::string& path);  // "" on success
    std::string Write(const std::uint8_t* data, std::size_t n, double t_s);
    std::string Note(std::string_view text, double t_s);
    void Close();
    bool IsOpen() const { return m_fd >= 0; }
    const std::string& Path() const { return m_path; }
    std::uint64_t BytesWritten() const { return m_bytes; }  // payload bytes of data records

private:
    std::string Record(char type, const std::uint8_t* data, std::size_t n, double t_s);

    int m_fd = -1;
    std::string m_path;
    double m_last_t_s = 0.0;
    std::uint64_t m_bytes = 0;
    std::vector<std::uint8_t> m_buf;  // reused record buffer
};

struct ReplayOptions {
    double speed = 1.0;  // 1 = real time, 20 = twenty times faster; <= 0 or inf = as fast as possible
    int baud = 115200;   // plain files: replayed at baud / 10 bytes per second (times speed)
    bool allow_truncated_tail = false;
};

// Plays a capture (or plain) file. Read returns the bytes that are due by now (the transport's
// own steady clock since Open, times speed), waiting up to the timeout for the next ones, and
// Ended once everything has been delivered. Writes are accepted and discarded.
class ReplayTransport final : public Transport {
public:
    explicit ReplayTransport(std::string path, ReplayOptions options = {});

    std::string Open() override;
    ReadResult Read(std::uint8_t* buf, std::size_t cap, int timeout_ms) override;
    using Transport::Write;
    std::string Write(const std::uint8_t* data, std::size_t n, int timeout_ms = 200) override;
    void Close() override { m_open = false; }
    bool IsOpen() const override { return m_open; }
    std::string Describe() const override;  // "replay capture.atcap @20x", "replay raw.txt @max"
    std::string SetBaud(int baud) override;
    int Baud() const override { return m_opt.baud; }
    TransportIdentity Identity() const override;
    bool IsFinite() const override { return true; }

    bool AsFastAsPossible() const { return !(m_opt.speed > 0.0) || m_opt.speed > 1e12; }
    bool Timed() const { return m_contents.timed; }
    const std::string& Warning() const { return m_contents.warning; }
    std::uint64_t TotalBytes() const { return m_total; }

private:
    using Clock = std::chrono::steady_clock;
    double DueTime(std::size_t record, std::size_t offset) const;  // seconds of replay time
    double ElapsedReplayS() const;

    std::string m_path;
    ReplayOptions m_opt;
    CaptureContents m_contents;
    std::vector<std::size_t> m_data;  // indices of data records
    double m_t0 = 0.0;                // time of the first record
    std::uint64_t m_total = 0;
    std::size_t m_next = 0;           // position in m_data
    std::size_t m_offset = 0;         // bytes of m_data[m_next] already delivered
    Clock::time_point m_start{};
    bool m_open = false;
};

}  // namespace attune::devices
