// Fuzz target: bytes from a serial port -> SensorDecoder (LineFramer + FormatDetector + the
// per-format readers + SampleClock). The first two bytes choose the configuration (forced
// format or detection, channel, polarity, whether the first line is dropped); the rest arrive
// in chunks whose sizes and arrival times come from a small generator seeded by byte 1, with a
// Reset() (a reconnect) now and then.
// Invariants: no crash, no exception, every event time finite and non-decreasing per kind is
// not promised, but times stay finite; counts add up; a status text is bounded.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "attune/devices/sensor_decoder.hpp"
#include "fuzz_util.hpp"

using namespace attune::devices;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t c0 = data[0], c1 = data[1];
    data += 2;
    size -= 2;

    DecoderConfig cfg;
    const int f = c0 % (kSensorFormatCount + 1);
    if (f > 0 && f < kSensorFormatCount) cfg.format = static_cast<SensorFormat>(f);
    cfg.channel = (c0 >> 5) & 3;
    cfg.polarity = static_cast<Polarity>((c1 >> 6) % 3);
    cfg.drop_first_line = (c1 & 0x20) == 0;
    cfg.detector.settle_s = (c1 & 0x10) ? 0.0 : 2.0;
    SensorDecoder dec(cfg);

    std::uint32_t rng = 0x9e3779b9u ^ c1;
    auto next = [&rng] {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return rng;
    };
    std::vector<DeviceEvent> out;
    out.reserve(1024);
    double t_s = 0.0;
    std::size_t pos = 0;
    while (pos < size) {
        const std::size_t chunk = std::min<std::size_t>(size - pos, 1 + next() % 64);
        t_s += 0.001 * (next() % 200);
        dec.Feed(data + pos, chunk, t_s, out);
        pos += chunk;
        if (next() % 97 == 0) dec.Reset();
        if (next() % 211 == 0) {
            DecoderConfig c2 = cfg;
            c2.channel = static_cast<int>(next() % 8);
            dec.Configure(c2);
        }
        for (const auto& e : out) {
            if (std::getenv("FUZZ_TRACE")) std::fprintf(stderr, "kind=%d t=%g v=%g feed_t=%g %s\n", static_cast<int>(e.kind), e.t_s, e.value, t_s, e.text.c_str());
            ATTUNE_FUZZ_CHECK(std::isfinite(e.t_s));
            ATTUNE_FUZZ_CHECK(e.text.size() < 4096);
        }
        out.clear();
    }
    const auto& s = dec.stats();
    ATTUNE_FUZZ_CHECK(s.bytes == size);
    ATTUNE_FUZZ_CHECK(s.last_unparsed.size() <= cfg.max_line_bytes * 4);
    (void)dec.Describe();
    return 0;
}
