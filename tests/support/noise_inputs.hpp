// Inputs that hold no heartbeat, for the detectors' "noise gives no beats" tests: white noise,
// a flat line, clipped noise (a square-ish wave at +/-1), random bytes 0-255, a line pinned at
// the ADC's rail and NaN throughout. A detector may find at most 2 chance "beats" in a minute of
// the random ones (a true rhythm gives 60-120), none in the constant ones.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <random>
#include <vector>

namespace attune::test {

// beats_of(x, fs) runs a detector over x at fs Hz and returns how many beats it found.
template <class BeatsOf>
void CheckNoBeatsFromNoise(BeatsOf beats_of, double fs, double minutes, unsigned seed, double flat_level, double rail_level) {
    const auto n = static_cast<std::size_t>(minutes * 60.0 * fs);
    std::mt19937 rng(seed);
    std::normal_distribution<double> g;
    std::uniform_int_distribution<int> byte(0, 255);
    std::vector<double> white(n), flat(n, flat_level), clipped(n), bytes(n), rail(n, rail_level);
    for (std::size_t i = 0; i < n; ++i) {
        white[i] = g(rng);
        clipped[i] = std::clamp(10.0 * g(rng), -1.0, 1.0);
        bytes[i] = byte(rng);
    }
    const std::vector<double> nans(n, std::numeric_limits<double>::quiet_NaN());
    INFO("fs " << fs);
    CHECK(beats_of(white, fs) <= 2);
    CHECK(beats_of(flat, fs) == 0);
    CHECK(beats_of(clipped, fs) <= 2);
    CHECK(beats_of(bytes, fs) <= 2);
    CHECK(beats_of(rail, fs) == 0);
    CHECK(beats_of(nans, fs) == 0);
}

}  // namespace attune::test
