// Fuzz target: the delimited-text reader of `attune analyze` (dsp parse_text_column) with
// options from the first byte, and the RR-list reader (parse_rr_text) on the same bytes.
// Invariants: no crash or exception; on success the column holds at most one value per data row
// (carry-forward/NaN/skip never invent rows); RR values are finite and > 0; errors bounded.
#include <cmath>
#include <cstdint>
#include <string_view>

#include "attune/dsp/rr_io.hpp"
#include "attune/dsp/signal_io.hpp"
#include "fuzz_util.hpp"

using namespace attune::dsp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t c = data[0];
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    TextReadOptions opt;
    opt.column_index = c & 3;
    opt.missing = static_cast<MissingPolicy>((c >> 2) % 3);
    static constexpr char kDelims[] = {0, ',', '\t', ';'};
    opt.delimiter = kDelims[(c >> 4) & 3];
    if (c & 0x40) opt.column_name = (c & 0x80) ? "ir" : "signal";
    const auto r = parse_text_column(text, opt);
    if (r.ok()) {
        ATTUNE_FUZZ_CHECK(r.value.samples.size() <= r.value.rows);
        if (opt.missing != MissingPolicy::NaN)
            for (double v : r.value.samples) ATTUNE_FUZZ_CHECK(!std::isnan(v));
    } else {
        ATTUNE_FUZZ_CHECK(r.error.size() < 4096);
    }

    const auto rr = parse_rr_text(text);
    for (double v : rr.ibi_ms) ATTUNE_FUZZ_CHECK(std::isfinite(v) && v > 0.0);
    ATTUNE_FUZZ_CHECK(rr.errors.size() <= kMaxRrErrors + 1);
    return 0;
}
