// Readers for recorded signals: delimited text (CSV/TSV/one value per line), WFDB records
// (PhysioNet header + format 212 / 16 data files) and WFDB annotation files (.atr).
//
// No reader throws or crashes on bad input: every function returns an IoResult whose `error`
// is empty on success and otherwise says what was wrong and where (file, line, byte offset).
// Files are read whole into memory (recordings here are at most a few tens of MB).
//
// WFDB references: PhysioNet WFDB Programmer's Guide, "header(5)", "signal(5)", "annot(5)";
// the summary in ../shared/data/README.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attune::dsp {

template <class T>
struct IoResult {
    T value{};
    std::string error;  // empty on success
    bool ok() const { return error.empty(); }
    explicit operator bool() const { return ok(); }
};

// ------------------------------------------------------------------------------------------
// Delimited text.
//
// Format accepted: lines ending in \n, \r\n or \r; blank lines and lines starting with '#' are
// ignored. Fields are separated by the delimiter (auto: the first of ',', '\t', ';' present in
// the first content line, otherwise runs of spaces). Fields may be enclosed in double quotes.
// The first content line is a header row when any of its fields is not a number.
// Missing cells: an empty field, "" (quoted empty), "NaN"/"nan"/"NA", or a row too short to
// have the column. Any other non-numeric cell in a data row is an error (with its line number).
enum class MissingPolicy {
    CarryForward,  // repeat the previous valid value (keeps the time base; leading gaps dropped)
    Skip,          // drop the cell (the time base shifts: later samples come earlier)
    NaN,           // keep a quiet NaN (the detectors treat NaN as "hold the last value")
};

struct TextReadOptions {
    std::string column_name;  // select the column by header name (case-insensitive) if set
    int column_index = 0;     // else by 0-based index
    MissingPolicy missing = MissingPolicy::CarryForward;
    char delimiter = 0;       // 0 = auto
};

struct TextColumn {
    std::vector<double> samples;
    std::vector<std::string> header;  // header fields, empty when the file has no header row
    std::string column_name;          // name of the selected column ("" without header)
    std::size_t column_index = 0;
    std::size_t rows = 0;             // data rows seen
    std::size_t missing = 0;          // missing cells found in the selected column
};

IoResult<TextColumn> parse_text_column(std::string_view text, const TextReadOptions& options = {});
IoResult<TextColumn> read_text_column(const std::string& path, const TextReadOptions& options = {});

// ------------------------------------------------------------------------------------------
// WFDB records.
//
// Header: comment lines ('#') and blank lines are skipped anywhere. Record line
// `name nsig fs nsamp` (fs may carry "/counterfreq(base)", ignored; multi-segment records
// "name/nseg" are rejected). Signal lines `file format[+offset] gain(baseline)/units adcres
// adczero initval checksum blocksize description`; trailing fields are optional, gain 0 means
// the WFDB default 200, a missing baseline defaults to adczero. Supported formats: 212 and 16
// (also with a "+byteoffset" suffix); others (and "x" multi-sample frames or ":" skews) are an
// error. Physical value = (digital - baseline) / gain, in `units`; WFDB's invalid sample
// (-2048 in 212, -32768 in 16) reads back as NaN.
struct WfdbSignalInfo {
    std::string file_name;
    int format = 0;
    std::int64_t byte_offset = 0;
    double gain = 200.0;       // ADC units per physical unit
    int baseline = 0;          // ADC value of physical zero
    std::string units = "mV";
    int adc_resolution = 0;    // bits
    int adc_zero = 0;
    bool has_initial_value = false;
    int initial_value = 0;     // first sample (digital)
    bool has_checksum = false;
    int checksum = 0;          // 16-bit signed sum of all samples
    int block_size = 0;
    std::string description;
};

struct WfdbHeader {
    std::string record_name;
    int num_signals = 0;
    double sample_rate_hz = 250.0;  // WFDB default when absent
    std::int64_t num_samples = -1;  // per signal; -1 when the header does not say
    std::vector<WfdbSignalInfo> signals;
    std::vector<std::string> comments;  // header comment lines without the '#'
};

struct WfdbRecord {
    WfdbHeader header;
    // digital[i]: all samples of signal i (empty for signals not requested).
    std::vector<std::vector<std::int32_t>> digital;
    // Physical values of signal i ((d - baseline) / gain); empty if i is out of range.
    std::vector<double> physical(std::size_t signal) const;
    // Index of the first signal whose description equals `name` (case-insensitive), or -1.
    int find_signal(std::string_view name) const;
};

struct WfdbReadOptions {
    std::vector<int> signals;     // signals to load (0-based); empty = all
    bool verify = true;           // check initval and checksum when the header gives them
};

IoResult<WfdbHeader> parse_wfdb_header(std::string_view text);
IoResult<WfdbHeader> read_wfdb_header(const std::string& hea_path);
// Reads the data files named in the header from the header's directory. Fails with a message
// on a missing/short file (truncated: fewer frames than the header's nsamp), an unsupported
// format, or (with verify) an initval or checksum mismatch.
IoResult<WfdbRecord> read_wfdb_record(const std::string& hea_path, const WfdbReadOptions& options = {});

// ------------------------------------------------------------------------------------------
// WFDB annotations (MIT format, annot(5)).
//
// A stream of 16-bit little-endian words: code = word >> 10 (6 bits), low 10 bits = time
// increment in samples (or a value for pseudo-codes). Handled:
//  - word 0: end of file (required: a file that ends without it is reported as truncated);
//  - 59 SKIP: a 32-bit increment follows as two words, high word first, added to the time;
//  - 60 NUM, 61 SUB, 62 CHN: set num / subtype / channel of the previous annotation (num and
//    channel then carry over to the following annotations, as in WFDB);
//  - 63 AUX: the low 10 bits give a byte count; that many bytes of text follow, padded to even;
//    they become the previous annotation's aux string;
//  - any other code (1..49): an annotation at the accumulated time.
struct WfdbAnnotation {
    std::int64_t sample = 0;  // 0-based sample index
    int code = 0;             // 1 N, 5 V, 8 A, ... (see is_beat_code)
    int subtype = 0;
    int channel = 0;
    int num = 0;
    std::string aux;
};

IoResult<std::vector<WfdbAnnotation>> parse_wfdb_annotations(std::span<const std::uint8_t> bytes);
IoResult<std::vector<WfdbAnnotation>> read_wfdb_annotations(const std::string& path);

// True for the WFDB beat codes: 1 N, 2 L, 3 R, 4 a, 5 V, 6 F, 7 J, 8 A, 9 S, 10 E, 11 j, 12 /,
// 13 Q, 34 e, 35 n, 38 f. (14 noise, 28 rhythm change, 22 comment etc. are not beats.)
bool is_beat_code(int code);
// One- or two-character WFDB mnemonic ("N", "V", "+", "~", ...), or "?" for unknown codes.
const char* annotation_mnemonic(int code);

// Reads a whole file; error message on failure.
IoResult<std::vector<std::uint8_t>> read_file_bytes(const std::string& path);

}  // namespace attune::dsp
