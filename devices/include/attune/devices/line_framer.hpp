// Bytes from a serial port -> text lines, the way the Arduino IDE's monitor and plotter see them.
//
// What arrives (shared/PROTOCOLS.md, "What real pulse sensors print over serial"):
//  * Every Arduino `println` ends in "\r\n"; some sketches and boards send "\n" alone or "\r" alone.
//    All three end a line. A "\r\n" pair is one line end, even when the "\r" and the "\n" arrive in
//    different reads.
//  * When a port opens, the sketch is usually mid-line (or the board is resetting), so the first
//    line is partial. The Arduino IDE drops it; so do we, but we hand it out flagged `first` so a
//    caller can still notice a prompt in it ("Press any key", SparkFun MAX3010x Example 8).
//  * At a wrong baud rate the bytes are noise: few line ends, many control bytes and invalid UTF-8.
//    We count them so the UI can say "mostly unprintable bytes: wrong baud rate?".
//
// Bounds: a line longer than max_line_bytes (default 256; the longest real sketch line,
// MAX3010x Example 8, is about 70 bytes) is dropped as noise up to its line end; the framer never
// holds more than max_line_bytes. Empty lines are counted but not handed out.
//
// Cost: one pass over the bytes, no allocation after construction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace attune::devices {

// One complete line, without its line end. The view points into the framer and is valid until
// the next call to Next() or Reset().
struct FramedLine {
    std::string_view text;   // printable bytes of the line (NUL and control bytes removed; TAB kept)
    bool first = false;      // the first line after open/Reset: probably partial, do not decode it
    bool garbled = false;    // held control bytes or invalid UTF-8: a line to count, not to decode
};

struct FramerStats {
    std::uint64_t bytes = 0;               // every byte fed
    std::uint64_t lines = 0;               // lines handed out (including `first` lines)
    std::uint64_t empty_lines = 0;         // line ends with nothing before them
    std::uint64_t line_ends = 0;           // "\n", "\r\n" or "\r" seen
    std::uint64_t overlong_lines = 0;      // lines longer than max_line_bytes, dropped
    std::uint64_t noise_bytes = 0;         // bytes of dropped overlong lines
    std::uint64_t nul_bytes = 0;           // 0x00 bytes (removed from lines)
    std::uint64_t unprintable_bytes = 0;   // NUL, other C0 controls but TAB, DEL, invalid UTF-8
    std::uint64_t bytes_since_line_end = 0;
};

class LineFramer {
public:
    static constexpr std::size_t kDefaultMaxLineBytes = 256;

    explicit LineFramer(std::size_t max_line_bytes = kDefaultMaxLineBytes, bool drop_first_line = true);

    // Consumes bytes of [data, end) up to and including the next line end that completes a
    // non-empty line; returns true with `line` set, and `data` moved past that line end.
    // Returns false when every byte was consumed without completing a line (the partial line is
    // kept for the next call). Typical use:
    //     const std::uint8_t* p = buf; FramedLine line;
    //     while (framer.Next(p, buf + n, line)) Use(line);
    bool Next(const std::uint8_t*& data, const std::uint8_t* end, FramedLine& line);

    // Forget the partial line (after a reconnect); the next line is again a `first` line.
    void Reset();

    const FramerStats& stats() const { return m_stats; }
    std::size_t max_line_bytes() const { return m_max; }

    // Fraction (0..1) of unprintable bytes among the last ~2-4 KiB fed: near 0 for any sketch,
    // around 0.5-0.6 for random bytes (wrong baud rate).
    double RecentUnprintableFraction() const;

private:
    void CountByte(bool unprintable);
    bool EndLine(FramedLine& line);  // true when the finished line is handed out

    std::size_t m_max;
    bool m_drop_first;
    std::vector<char> m_buf;  // capacity m_max, allocated once
    std::size_t m_len = 0;
    bool m_first = true;       // still in the first line after open/Reset
    bool m_after_cr = false;   // the previous byte was "\r": a following "\n" belongs to it
    bool m_discarding = false; // inside an overlong line
    bool m_garbled = false;
    int m_utf8_pending = 0;    // continuation bytes still expected
    FramerStats m_stats;
    // Two alternating blocks of byte-quality counts for RecentUnprintableFraction().
    std::uint32_t m_block_bytes = 0, m_block_bad = 0, m_prev_block_bytes = 0, m_prev_block_bad = 0;
};

}  // namespace attune::devices
