// Minimal reader for WFDB annotation files (.atr), private to the tests.
// Kept here (not in attune::dsp) so that it does not overlap with the project's signal_io reader.
//
// Format: 16-bit little-endian words; top 6 bits a code, low 10 bits a time increment in samples.
// Code 59 (SKIP): a 32-bit increment follows, high 16-bit word first. Codes 60–62 (NUM, SUB, CHN)
// modify the previous annotation and carry no time increment. Code 63 (AUX): the low 10 bits are a
// byte count; that many bytes of text follow, padded to an even count. Word 0 ends the file.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace attune::test {

struct Annotation {
    std::int64_t sample = 0;
    int code = 0;
};

// Beat codes of the MIT/WFDB annotation scheme (N L R a V F J A S E j / Q e n f).
inline bool is_beat_code(int code) {
    return (code >= 1 && code <= 13) || code == 34 || code == 35 || code == 38;
}
inline constexpr int kCodeNormal = 1;
inline constexpr int kCodeVentricular = 5;

// Returns all annotations in file order (times are absolute sample indices); empty on error.
inline std::vector<Annotation> read_atr(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                           std::istreambuf_iterator<char>());
    std::vector<Annotation> out;
    std::size_t pos = 0;
    std::int64_t t = 0;
    auto word = [&](std::uint16_t& w) {
        if (pos + 2 > bytes.size()) return false;
        w = static_cast<std::uint16_t>(bytes[pos] | (bytes[pos + 1] << 8));
        pos += 2;
        return true;
    };
    std::uint16_t w = 0;
    while (word(w) && w != 0) {
        const int code = w >> 10;
        const int low = w & 0x3FF;
        if (code == 59) {
            std::uint16_t hi = 0, lo = 0;
            if (!word(hi) || !word(lo)) break;
            t += static_cast<std::int32_t>((static_cast<std::uint32_t>(hi) << 16) | lo);
        } else if (code >= 60 && code <= 62) {
            // NUM / SUB / CHN: attributes of the previous annotation, irrelevant here.
        } else if (code == 63) {
            pos += static_cast<std::size_t>(low + (low & 1));
        } else {
            t += low;
            out.push_back({t, code});
        }
    }
    return out;
}

}  // namespace attune::test
