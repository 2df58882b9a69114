// Fuzz target: WFDB readers of `attune analyze`: the header parser, the annotation parser, and
// the whole record reader on files. The input is "<header text>\n@@DATA@@\n<data bytes>"; the
// data bytes are written under every file name the header names (simple names only), so the
// format-212/16 decoders, offsets, checksums and truncation checks all see fuzzed bytes.
// Invariants: no crash, no exception, no allocation beyond the bytes given (a header claiming
// 10^12 samples must be refused by comparing with the file size, not by trying).
#include <cstdint>
#include <span>
#include <string>

#include "attune/dsp/signal_io.hpp"
#include "fuzz_util.hpp"

using namespace attune::dsp;
namespace af = attune::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);
    const auto parts = af::Split(all, "\n@@DATA@@\n", 2);
    const std::string_view header = parts[0];
    const std::string_view bytes = parts.size() > 1 ? parts[1] : std::string_view{};

    (void)parse_wfdb_annotations(std::span<const std::uint8_t>(data, size));

    const auto h = parse_wfdb_header(header);
    if (!h.ok()) return 0;
    const auto dir = af::ScratchDir() / "wfdb";
    af::ResetDir(dir);
    for (const auto& s : h.value.signals) {
        const auto& n = s.file_name;
        if (n.empty() || n.size() > 64 || n.find('/') != std::string::npos || n == "." || n == "..") continue;
        af::WriteFile(dir / n, bytes);
    }
    af::WriteFile(dir / "rec.hea", header);
    WfdbReadOptions opt;
    opt.verify = (size & 1) != 0;
    const auto rec = read_wfdb_record((dir / "rec.hea").string(), opt);
    if (rec.ok()) {
        for (std::size_t i = 0; i < rec.value.digital.size(); ++i) {
            ATTUNE_FUZZ_CHECK(rec.value.digital[i].size() <= bytes.size());
            (void)rec.value.physical(i);
        }
    }
    return 0;
}
