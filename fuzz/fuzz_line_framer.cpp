// Fuzz target: LineFramer alone, with a small line limit so overlong-line handling is reached.
// Invariants: a handed-out line is at most max_line_bytes long and holds no line end, NUL or
// other control byte but TAB; the framer consumes every byte; the byte count adds up.
#include <cstdint>

#include "attune/devices/line_framer.hpp"
#include "fuzz_util.hpp"

using attune::devices::FramedLine;
using attune::devices::LineFramer;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::size_t max_line = 4 + data[0] % 64;  // the framer clamps to its minimum (16)
    const bool drop_first = (data[0] & 0x80) != 0;
    ++data;
    --size;
    LineFramer framer(max_line, drop_first);
    std::size_t pos = 0;
    std::size_t step = 1;
    while (pos < size) {
        const std::size_t chunk = std::min(size - pos, step);
        step = step % 13 + 1;
        const std::uint8_t* p = data + pos;
        const std::uint8_t* end = p + chunk;
        FramedLine line;
        while (framer.Next(p, end, line)) {
            ATTUNE_FUZZ_CHECK(line.text.size() <= framer.max_line_bytes());
            for (char ch : line.text) {
                const auto u = static_cast<unsigned char>(ch);
                ATTUNE_FUZZ_CHECK(u != '\n' && u != '\r' && u != 0);
                ATTUNE_FUZZ_CHECK(u >= 0x20 || u == '\t');
            }
        }
        ATTUNE_FUZZ_CHECK(p == end);
        pos += chunk;
        if (data[pos - 1] == 0xff) framer.Reset();
    }
    ATTUNE_FUZZ_CHECK(framer.stats().bytes == size);
    const double frac = framer.RecentUnprintableFraction();
    ATTUNE_FUZZ_CHECK(frac >= 0.0 && frac <= 1.0);
    return 0;
}
