#include "attune/devices/line_framer.hpp"

#include <algorithm>

namespace attune::devices {

namespace {
constexpr std::uint32_t kQualityBlockBytes = 2048;
}

LineFramer::LineFramer(std::size_t max_line_bytes, bool drop_first_line)
    : m_max(std::clamp<std::size_t>(max_line_bytes, 16, 1 << 16)), m_drop_first(drop_first_line) {
    m_buf.resize(m_max);
    m_first = m_drop_first;
}

void LineFramer::Reset() {
    m_len = 0;
    m_first = m_drop_first;
    m_after_cr = false;
    m_discarding = false;
    m_garbled = false;
    m_utf8_pending = 0;
    m_stats.bytes_since_line_end = 0;
}

double LineFramer::RecentUnprintableFraction() const {
    const std::uint32_t n = m_block_bytes + m_prev_block_bytes;
    return n == 0 ? 0.0 : static_cast<double>(m_block_bad + m_prev_block_bad) / n;
}

void LineFramer::CountByte(bool unprintable) {
    ++m_block_bytes;
    if (unprintable) {
        ++m_block_bad;
        ++m_stats.unprintable_bytes;
    }
    if (m_block_bytes == kQualityBlockBytes) {
        m_prev_block_bytes = m_block_bytes;
        m_prev_block_bad = m_block_bad;
        m_block_bytes = m_block_bad = 0;
    }
}

bool LineFramer::EndLine(FramedLine& line) {
    ++m_stats.line_ends;
    m_stats.bytes_since_line_end = 0;
    if (m_utf8_pending > 0) {  // a multi-byte character cut off by the line end
        m_garbled = true;
        CountByte(true);
        m_utf8_pending = 0;
    }
    const bool was_first = m_first;
    m_first = false;
    const bool overlong = m_discarding;
    m_discarding = false;
    const bool garbled = m_garbled;
    m_garbled = false;
    if (overlong) {
        ++m_stats.overlong_lines;
        m_len = 0;
        return false;
    }
    if (m_len == 0) {
        ++m_stats.empty_lines;
        return false;
    }
    line.text = std::string_view(m_buf.data(), m_len);
    line.first = was_first;
    line.garbled = garbled;
    m_len = 0;  // the view stays valid: the buffer is only overwritten by the next call
    ++m_stats.lines;
    return true;
}

bool LineFramer::Next(const std::uint8_t*& data, const std::uint8_t* end, FramedLine& line) {
    while (data < end) {
        const std::uint8_t b = *data++;
        ++m_stats.bytes;
        if (b == '\n' && m_after_cr) {  // second half of "\r\n"
            m_after_cr = false;
            CountByte(false);
            continue;
        }
        m_after_cr = (b == '\r');
        if (b == '\n' || b == '\r') {
            CountByte(false);
            if (EndLine(line)) return true;
            continue;
        }
        ++m_stats.bytes_since_line_end;

        // Byte quality. UTF-8 is checked only for structure (lead byte then the right number of
        // continuation bytes), which is enough to tell a "♥" banner from baud-rate noise.
        bool keep = true;
        bool unprintable = false;
        if (b < 0x80) {
            if (m_utf8_pending > 0) {  // a multi-byte character cut short
                m_utf8_pending = 0;
                m_garbled = true;
                CountByte(true);
            }
            if (b == 0) {
                ++m_stats.nul_bytes;
                unprintable = true;
                keep = false;  // stray NULs (board resets) are dropped without spoiling the line
            } else if ((b < 0x20 && b != '\t') || b == 0x7F) {
                unprintable = true;
                keep = false;
                m_garbled = true;
            }
        } else if ((b & 0xC0) == 0x80) {  // continuation byte
            if (m_utf8_pending > 0) {
                --m_utf8_pending;
            } else {
                unprintable = true;
                m_garbled = true;
            }
        } else {
            if (m_utf8_pending > 0) {
                m_utf8_pending = 0;
                m_garbled = true;
                CountByte(true);
            }
            if (b >= 0xC2 && b <= 0xDF) {
                m_utf8_pending = 1;
            } else if (b >= 0xE0 && b <= 0xEF) {
                m_utf8_pending = 2;
            } else if (b >= 0xF0 && b <= 0xF4) {
                m_utf8_pending = 3;
            } else {  // C0, C1, F5..FF never start a character
                unprintable = true;
                m_garbled = true;
            }
        }
        CountByte(unprintable);

        if (m_discarding) {
            ++m_stats.noise_bytes;
            continue;
        }
        if (!keep) continue;
        if (m_len == m_max) {
            // Too long for any sketch: drop what we hold and everything up to the next line end.
            m_stats.noise_bytes += m_len + 1;
            m_len = 0;
            m_discarding = true;
            continue;
        }
        m_buf[m_len++] = static_cast<char>(b);
    }
    return false;
}

}  // namespace attune::devices
