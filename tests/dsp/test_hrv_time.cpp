// Time-domain HRV and the RR text reader: README reference values on real data, a hand-worked
// example, bad input, and the rolling tracker against the batch function.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "attune/dsp/hrv_time.hpp"
#include "attune/dsp/rr_io.hpp"

using namespace attune::dsp;

// Counts heap allocations so the tests can prove the rolling tracker never allocates per beat.
// This executable only; Catch2 allocates freely outside the measured regions.
#include "alloc_counter.hpp"

namespace {

const std::string kRestRri = std::string(ATTUNE_SHARED_DATA_DIR) + "/rr/rest-rri.txt";

std::vector<double> load_rest_rri() {
    const RrFile file = read_rr_file(kRestRri);
    REQUIRE(file.ok());
    return file.ibi_ms;
}

}  // namespace

TEST_CASE("time domain: README reference values for rr/rest-rri.txt", "[hrv_time][data]") {
    const std::vector<double> rr = load_rest_rri();
    // The README says 911 intervals: the file has 911 lines, the last one blank (CRLF).
    REQUIRE(rr.size() == 910);
    const TimeDomainMetrics m = compute_time_domain(rr);
    REQUIRE(m.valid);
    CHECK(m.n_intervals == 910);
    CHECK(m.n_rejected == 0);
    CHECK(m.n_diffs == 909);
    // The references are printed to 3 decimals, so a correct implementation lies within half a
    // unit of the last digit (0.0005); the extra 1e-6 only absorbs the decimal rounding itself.
    // This is 20x tighter than the ±0.01 asked for, and still passes: we match exactly.
    constexpr double kTol = 0.0005 + 1e-6;
    CHECK(m.mean_rr_ms == Approx(1058.719).margin(kTol));
    CHECK(m.sdnn_ms == Approx(57.818).margin(kTol));
    CHECK(m.rmssd_ms == Approx(55.137).margin(kTol));
    CHECK(m.sdsd_ms == Approx(55.168).margin(kTol));
    CHECK(m.pnn50_pct == Approx(35.314).margin(kTol));  // 321 of 909 differences > 50 ms
    // No README value for HR; it is the mean of instantaneous rates, a little above
    // 60000 / mean RR = 56.67 bpm (Jensen's inequality).
    CHECK(m.mean_hr_bpm > 60000.0 / m.mean_rr_ms);
    CHECK(m.mean_hr_bpm < 60000.0 / m.mean_rr_ms * 1.01);
}

TEST_CASE("time domain: hand-worked example", "[hrv_time]") {
    // Diffs: +50, -50, +100, -200. |50| is not > 50, so pNN50 = 2/4.
    const std::vector<double> rr{800, 850, 800, 900, 700};
    const TimeDomainMetrics m = compute_time_domain(rr);
    REQUIRE(m.valid);
    CHECK(m.mean_rr_ms == Approx(810.0));
    CHECK(m.sdnn_ms == Approx(std::sqrt(22000.0 / 4.0)));   // deviations -10 40 -10 90 -110
    CHECK(m.rmssd_ms == Approx(std::sqrt(55000.0 / 4.0)));  // 2500+2500+10000+40000
    CHECK(m.sdsd_ms == Approx(std::sqrt(52500.0 / 3.0)));   // mean diff -25
    CHECK(m.pnn50_pct == Approx(50.0));
    CHECK(m.mean_hr_bpm ==
          Approx((60000.0 / 800 + 60000.0 / 850 + 60000.0 / 800 + 60000.0 / 900 + 60000.0 / 700) / 5));
}

TEST_CASE("time domain: bad input never crashes nor invents data", "[hrv_time]") {
    CHECK_FALSE(compute_time_domain({}).valid);
    const std::vector<double> two{800, 820};
    CHECK_FALSE(compute_time_domain(two).valid);

    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> all_bad{nan, inf, -800, 0, 100, 272.9, 2000.1, 5000};
    const TimeDomainMetrics bad = compute_time_domain(all_bad);
    CHECK_FALSE(bad.valid);
    CHECK(bad.n_rejected == all_bad.size());
    CHECK(bad.sdnn_ms == 0.0);

    // The plausibility limits themselves are accepted.
    const std::vector<double> limits{273, 2000, 273, 2000};
    CHECK(compute_time_domain(limits).n_rejected == 0);

    // A rejected interval splits the run: no difference is formed across it.
    const std::vector<double> gap{800, nan, 900, 910, 920, 3000, 700};
    const TimeDomainMetrics m = compute_time_domain(gap);
    REQUIRE(m.valid);
    CHECK(m.n_intervals == 5);
    CHECK(m.n_rejected == 2);
    CHECK(m.n_diffs == 2);  // 900->910, 910->920 only
    CHECK(m.rmssd_ms == Approx(10.0));
    CHECK(m.pnn50_pct == 0.0);
    CHECK(m.mean_rr_ms == Approx((800 + 900 + 910 + 920 + 700) / 5.0));
}

namespace {

// Reference for the rolling tracker: the batch function over the intervals that ended within
// the last window_s of the beat clock.
TimeDomainMetrics window_reference(const std::vector<double>& rr, std::size_t end, double window_s) {
    std::vector<double> ends(end);
    double clock = 0.0;
    for (std::size_t i = 0; i < end; ++i) {
        if (std::isfinite(rr[i]) && rr[i] > 0) clock += rr[i] / 1000.0;
        ends[i] = clock;
    }
    std::size_t first = 0;
    while (first < end && ends[first] <= clock - window_s) ++first;
    return compute_time_domain(std::span<const double>(rr.data() + first, end - first));
}

}  // namespace

TEST_CASE("rolling time domain matches the batch function over the window", "[hrv_time]") {
    std::vector<double> rr = load_rest_rri();
    // Sprinkle in rejected intervals to exercise run breaks inside the window.
    rr[100] = std::numeric_limits<double>::quiet_NaN();
    rr[101] = 2600.0;
    rr[400] = 150.0;

    RollingTimeDomain rolling(60.0);
    CHECK_FALSE(rolling.metrics().valid);
    for (std::size_t i = 0; i < rr.size(); ++i) {
        rolling.push(rr[i]);
        if (i % 7 != 0 && i + 1 != rr.size()) continue;
        const TimeDomainMetrics got = rolling.metrics();
        TimeDomainMetrics want = window_reference(rr, i + 1, 60.0);
        INFO("after interval " << i);
        REQUIRE(got.valid == want.valid);
        CHECK(got.n_intervals == want.n_intervals);
        CHECK(got.n_diffs == want.n_diffs);
        if (!want.valid) continue;
        CHECK(got.mean_rr_ms == Approx(want.mean_rr_ms).epsilon(1e-12));
        CHECK(got.mean_hr_bpm == Approx(want.mean_hr_bpm).epsilon(1e-12));
        CHECK(got.sdnn_ms == Approx(want.sdnn_ms).epsilon(1e-9));
        CHECK(got.sdsd_ms == Approx(want.sdsd_ms).epsilon(1e-9));
        CHECK(got.rmssd_ms == Approx(want.rmssd_ms).epsilon(1e-9));
        CHECK(got.pnn50_pct == Approx(want.pnn50_pct).epsilon(1e-12));
    }
    CHECK(rolling.rejected_total() == 3);
    // 60 s of ~1 s beats, not the whole recording.
    CHECK(rolling.size() < 70);
}

TEST_CASE("rolling time domain: bounded memory, no allocation per beat, no drift",
          "[hrv_time]") {
    RollingTimeDomain rolling(60.0);
    const std::size_t capacity = rolling.capacity();
    CHECK(capacity == static_cast<std::size_t>(std::ceil(60000.0 / kMinPlausibleIbiMs)) + 1);

    std::mt19937 rng(42);
    std::normal_distribution<double> noise(0.0, 40.0);
    const std::size_t before = g_allocations;
    for (int i = 0; i < 200000; ++i) rolling.push(i % 1000 == 0 ? 300.0 : 900.0 + noise(rng));
    CHECK(g_allocations == before);
    CHECK(rolling.capacity() == capacity);

    // After a long random history, a constant rhythm must read exactly zero variability.
    for (int i = 0; i < 200; ++i) rolling.push(857.3);
    const TimeDomainMetrics m = rolling.metrics();
    REQUIRE(m.valid);
    CHECK(m.mean_rr_ms == Approx(857.3).epsilon(1e-12));
    CHECK(m.sdnn_ms < 1e-6);
    CHECK(m.rmssd_ms == 0.0);
    CHECK(m.sdsd_ms < 1e-6);
    CHECK(m.pnn50_pct == 0.0);

    rolling.reset();
    CHECK_FALSE(rolling.metrics().valid);
    CHECK(rolling.size() == 0);
}

TEST_CASE("RR reader: tolerant of formatting, precise about bad lines", "[rr_io]") {
    const RrFile f = parse_rr_text(
        "\xEF\xBB\xBF# exported by a strap\r\n"
        "812\r\n"
        "\r\n"
        "  815.5  # inline comment\n"
        "\t8.2e2\n"
        "abc\n"
        "812 ms\n"
        "-5\n"
        "nan\n"
        "1e999\n"
        "0\n"
        "790");  // no final newline
    CHECK(f.opened);
    CHECK_FALSE(f.ok());
    REQUIRE(f.ibi_ms == std::vector<double>{812, 815.5, 820, 790});
    CHECK(f.bad_lines == 6);
    REQUIRE(f.errors.size() == 6);
    CHECK(f.errors[0].rfind("line 6: 'abc'", 0) == 0);
    CHECK(f.errors[1].rfind("line 7: '812 ms'", 0) == 0);
    CHECK(f.errors[2].rfind("line 8:", 0) == 0);
    CHECK(f.errors[3].rfind("line 9:", 0) == 0);
    CHECK(f.errors[4].rfind("line 10:", 0) == 0);
    CHECK(f.errors[5].rfind("line 11:", 0) == 0);

    // Implausible but well-formed values are data, not format errors.
    const RrFile wide = parse_rr_text("100\n2500\n");
    CHECK(wide.ok());
    CHECK(wide.ibi_ms.size() == 2);

    CHECK(parse_rr_text("").ok());
    CHECK(parse_rr_text("").ibi_ms.empty());
}

TEST_CASE("RR reader: files", "[rr_io]") {
    const RrFile rest = read_rr_file(kRestRri);
    CHECK(rest.ok());
    CHECK(rest.ibi_ms.size() == 910);
    CHECK(rest.ibi_ms.front() == 1114.0);
    CHECK(rest.ibi_ms.back() == 1021.0);

    const RrFile missing = read_rr_file(std::string(ATTUNE_SHARED_DATA_DIR) + "/rr/no-such.txt");
    CHECK_FALSE(missing.opened);
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].find("cannot open") != std::string::npos);

    const RrFile dir = read_rr_file(ATTUNE_SHARED_DATA_DIR);
    CHECK_FALSE(dir.opened);
    CHECK_FALSE(dir.ok());

    // A binary file read by mistake: bounded error list with a summary line.
    const RrFile binary = read_rr_file(std::string(ATTUNE_SHARED_DATA_DIR) + "/ecg/100.dat");
    CHECK(binary.opened);
    CHECK_FALSE(binary.ok());
    CHECK(binary.bad_lines > kMaxRrErrors);
    CHECK(binary.errors.size() == kMaxRrErrors + 1);
}
