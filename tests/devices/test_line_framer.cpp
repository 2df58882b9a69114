// The line framer must cut what real boards send into the same lines the Arduino IDE shows:
// every line end style, "\r\n" split across reads, the first partial line dropped, overlong
// runs dropped without growing memory, NUL and unprintable bytes counted.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "attune/devices/line_framer.hpp"

using namespace attune::devices;

// Counts heap allocations, to show the framer allocates only at construction.
#include "alloc_counter.hpp"

namespace {

struct Got {
    std::string text;
    bool first;
    bool garbled;
    bool operator==(const Got&) const = default;
};

std::vector<Got> FeedAll(LineFramer& f, const std::string& bytes, std::size_t chunk = 0, std::uint32_t seed = 0) {
    std::vector<Got> lines;
    std::mt19937 rng(seed);
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t n = bytes.size() - pos;
        if (chunk == 1) n = 1;
        else if (chunk > 1) n = std::min<std::size_t>(n, 1 + rng() % chunk);
        const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data() + pos);
        const auto* end = p + n;
        FramedLine line;
        while (f.Next(p, end, line)) lines.push_back({std::string(line.text), line.first, line.garbled});
        pos += n;
    }
    return lines;
}

}  // namespace

TEST_CASE("framer: LF, CRLF and a lone CR all end a line, the first line is flagged", "[framer]") {
    LineFramer f;
    const auto lines = FeedAll(f, "partial\r\nS527\r\nB72\nQ833\rS530\r\n");
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == Got{"partial", true, false});
    CHECK(lines[1] == Got{"S527", false, false});
    CHECK(lines[2] == Got{"B72", false, false});
    CHECK(lines[3] == Got{"Q833", false, false});
    CHECK(lines[4] == Got{"S530", false, false});
    CHECK(f.stats().line_ends == 5);
    CHECK(f.stats().empty_lines == 0);
}

TEST_CASE("framer: a CRLF pair split across two reads is one line end", "[framer]") {
    LineFramer f(256, false);
    std::vector<Got> lines = FeedAll(f, "72,833,527\r");
    lines.push_back({"--", false, false});
    for (const Got& g : FeedAll(f, "\n72,833,530\r\n")) lines.push_back(g);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].text == "72,833,527");
    CHECK(lines[2].text == "72,833,530");
    CHECK(f.stats().empty_lines == 0);
    CHECK(f.stats().line_ends == 2);
    // "\r\r\n": the first \r ends a line, the second ends an empty one.
    LineFramer g(256, false);
    const auto l2 = FeedAll(g, "a\r\r\nb\r\n");
    REQUIRE(l2.size() == 2);
    CHECK(g.stats().empty_lines == 1);
}

TEST_CASE("framer: byte by byte and random chunks give identical lines", "[framer]") {
    std::string bytes = "junk from before the reset\r\nPulseSensor \xE2\x99\xA5 ready\r\n";
    for (int i = 0; i < 500; ++i) {
        bytes += 'S';
        bytes += std::to_string(500 + i % 37);
        bytes += i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r";
        if (i % 40 == 0) bytes += "B72\r\nQ833\r\n";
    }
    LineFramer whole;
    const auto ref = FeedAll(whole, bytes);
    REQUIRE(ref.size() > 500);
    LineFramer bytewise;
    CHECK(FeedAll(bytewise, bytes, 1) == ref);
    for (std::uint32_t seed = 1; seed <= 20; ++seed) {
        LineFramer chunked;
        CHECK(FeedAll(chunked, bytes, 1 + seed * 7, seed) == ref);
    }
}

TEST_CASE("framer: a 64 KiB line without newline is dropped as noise, memory stays bounded", "[framer]") {
    LineFramer f(256, false);
    std::string bytes = "S512\r\n";
    bytes.append(64 * 1024, 'x');
    bytes += "\r\nS513\r\n";
    const std::size_t before = g_allocations;
    const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
    const auto* end = p + bytes.size();
    FramedLine line;
    std::vector<std::string> lines;
    lines.reserve(8);
    std::size_t longest = 0;
    while (f.Next(p, end, line)) {
        longest = std::max(longest, line.text.size());
        lines.emplace_back(line.text);
    }
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "S512");
    CHECK(lines[1] == "S513");
    CHECK(longest <= 256);
    CHECK(f.stats().overlong_lines == 1);
    CHECK(f.stats().noise_bytes == 64 * 1024);
    // Only the two result strings were allocated (SSO keeps them inline anyway): the framer none.
    CHECK(g_allocations - before <= 2);
}

TEST_CASE("framer: exactly max_line_bytes is a line, one more is noise", "[framer]") {
    LineFramer f(16, false);
    std::string bytes(16, 'a');
    bytes += '\n';
    bytes.append(17, 'b');
    bytes += "\nok\n";
    const auto lines = FeedAll(f, bytes);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].text == std::string(16, 'a'));
    CHECK(lines[1].text == "ok");
    CHECK(f.stats().noise_bytes == 17);
}

TEST_CASE("framer: NUL bytes are removed and counted, control bytes mark the line garbled", "[framer]") {
    LineFramer f(256, false);
    std::string bytes = "S5";
    bytes += '\0';
    bytes += "27\r\nB7\x01" "2\r\nQ833\r\n";
    const auto lines = FeedAll(f, bytes);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == Got{"S527", false, false});
    CHECK(lines[1].garbled);
    CHECK(lines[2] == Got{"Q833", false, false});
    CHECK(f.stats().nul_bytes == 1);
    CHECK(f.stats().unprintable_bytes == 2);
}

TEST_CASE("framer: UTF-8 banners are printable, broken UTF-8 is not", "[framer]") {
    LineFramer f(256, false);
    const auto lines = FeedAll(f, "\xE2\x99\xA5  A HeartBeat Happened ! \r\n\xE2\x99 cut\r\n\xFFz\r\n");
    REQUIRE(lines.size() == 3);
    CHECK_FALSE(lines[0].garbled);
    CHECK(lines[0].text == "\xE2\x99\xA5  A HeartBeat Happened ! ");
    CHECK(lines[1].garbled);
    CHECK(lines[2].garbled);
    CHECK(f.stats().unprintable_bytes == 2);
}

TEST_CASE("framer: random bytes (wrong baud) read as mostly unprintable, sketches as clean", "[framer]") {
    std::mt19937 rng(7);
    std::string noise(1 << 20, '\0');
    for (char& c : noise) c = static_cast<char>(rng() & 0xFF);
    LineFramer f;
    const std::size_t before = g_allocations;
    const auto* p = reinterpret_cast<const std::uint8_t*>(noise.data());
    const auto* end = p + noise.size();
    FramedLine line;
    std::size_t n = 0, longest = 0;
    while (f.Next(p, end, line)) {
        ++n;
        longest = std::max(longest, line.text.size());
    }
    CHECK(g_allocations == before);
    CHECK(longest <= LineFramer::kDefaultMaxLineBytes);
    CHECK(f.RecentUnprintableFraction() > 0.3);
    CHECK(f.stats().bytes == noise.size());

    LineFramer clean;
    std::string text;
    for (int i = 0; i < 2000; ++i) {
        text += "72,833,";
        text += std::to_string(500 + i % 50);
        text += "\r\n";
    }
    FeedAll(clean, text);
    CHECK(clean.RecentUnprintableFraction() == 0.0);
}

TEST_CASE("framer: Reset forgets the partial line and drops the next first line again", "[framer]") {
    LineFramer f;
    auto lines = FeedAll(f, "x\r\nS527\r\nS5");
    REQUIRE(lines.size() == 2);
    f.Reset();
    lines = FeedAll(f, "30\r\nS531\r\n");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == Got{"30", true, false});
    CHECK(lines[1] == Got{"S531", false, false});
}
