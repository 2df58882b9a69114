// Tests of the text, WFDB record and WFDB annotation readers (attune/dsp/signal_io.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "attune/dsp/signal_io.hpp"

using namespace attune::dsp;

namespace {
const std::string kData = ATTUNE_SHARED_DATA_DIR;
std::string tmp_dir() {
    const std::string d = std::string(ATTUNE_TEST_TMP_DIR) + "/signal_io";
    std::filesystem::create_directories(d);
    return d;
}
void write_bytes(const std::string& path, const std::vector<std::uint8_t>& b) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
TextReadOptions by_name(const std::string& name) {
    TextReadOptions o;
    o.column_name = name;
    return o;
}
TextReadOptions by_index(int i) {
    TextReadOptions o;
    o.column_index = i;
    return o;
}
TextReadOptions with_missing(MissingPolicy m) {
    TextReadOptions o;
    o.missing = m;
    return o;
}
WfdbReadOptions signals(std::vector<int> s) {
    WfdbReadOptions o;
    o.signals = std::move(s);
    return o;
}
WfdbReadOptions no_verify() {
    WfdbReadOptions o;
    o.verify = false;
    return o;
}
void write_text(const std::string& path, const std::string& s) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << s;
}
}  // namespace

TEST_CASE("Text: header row, column by name or index, delimiters and line endings", "[signal_io]") {
    auto r = parse_text_column("ECG,PPG,RSP\r\n1,2,3\r\n4,5,6\r\n", by_name("ppg"));
    REQUIRE(r.ok());
    CHECK(r.value.samples == std::vector<double>{2, 5});
    CHECK(r.value.column_name == "PPG");
    CHECK(r.value.header.size() == 3);

    r = parse_text_column("a\tb\n1\t2\n3\t4\n", by_index(1));
    REQUIRE(r.ok());
    CHECK(r.value.samples == std::vector<double>{2, 4});

    r = parse_text_column("# comment\n  1.5\n\n-2e3\r+7\n");  // no header, one value per line, lone CR
    REQUIRE(r.ok());
    CHECK(r.value.header.empty());
    CHECK(r.value.samples == std::vector<double>{1.5, -2000, 7});

    r = parse_text_column("1 2\n3   4\n", by_index(1));  // whitespace separated
    REQUIRE(r.ok());
    CHECK(r.value.samples == std::vector<double>{2, 4});
}

TEST_CASE("Text: empty cells and \"\" dropouts follow the missing-value policy", "[signal_io]") {
    // Column x: "", 1, (empty), "", 2, (empty), nan, 3. Blank lines are not rows.
    const std::string text = "x,y\n\"\",0\n1,0\n,0\n\n\"\",0\n2,0\n,\nnan,0\n3,0\n";
    auto carry = parse_text_column(text);  // default: carry forward (keeps the time base)
    REQUIRE(carry.ok());
    CHECK(carry.value.samples == std::vector<double>{1, 1, 1, 2, 2, 2, 3});  // leading gap dropped
    CHECK(carry.value.missing == 5);
    CHECK(carry.value.rows == 8);
    auto skip = parse_text_column(text, with_missing(MissingPolicy::Skip));
    CHECK(skip.value.samples == std::vector<double>{1, 2, 3});
    auto nan = parse_text_column(text, with_missing(MissingPolicy::NaN));
    REQUIRE(nan.value.samples.size() == 8);
    CHECK(std::isnan(nan.value.samples[0]));
    CHECK(nan.value.samples[1] == 1.0);
}

TEST_CASE("Text: errors are reported, not thrown", "[signal_io]") {
    auto r = parse_text_column("x\n1\nabc\n");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("line 3") != std::string::npos);
    CHECK_FALSE(parse_text_column("a,b\n1,2\n", by_name("c")).ok());
    CHECK_FALSE(parse_text_column("1\n2\n", by_name("c")).ok());
    CHECK_FALSE(parse_text_column("").ok());
    CHECK_FALSE(read_text_column("/nonexistent/file.csv").ok());
}

TEST_CASE("Text and WFDB: a bad token is quoted short and printable in the message", "[signal_io]") {
    // Found by the text_reader fuzzer: a 4 KB binary cell was quoted whole into the one-line
    // message on stderr. At most 24 characters are quoted, non-printable bytes as '?'.
    std::string cell = "12\x01\x1b[2J";  // a control byte and a terminal escape
    cell += std::string(5000, 'x');
    auto r = parse_text_column("1\n2\n" + cell + "\n4\n");
    REQUIRE_FALSE(r.ok());
    INFO(r.error);
    CHECK(r.error.find("line 3: cannot read '12??[2Jxxxxxxxxxxxxxxxxx...' as a number") != std::string::npos);
    CHECK(r.error.size() < 80);
    for (char c : r.error) CHECK((c >= 0x20 && c < 0x7f));
    auto h = parse_wfdb_header("100 1 360 10\n100.dat 212" + std::string(3000, '\x8c') + " 200 11\n");
    REQUIRE_FALSE(h.ok());
    INFO(h.error);
    CHECK(h.error.find("bad format '212?????") != std::string::npos);
    CHECK(h.error.size() < 80);
}

TEST_CASE("Text: the shared recordings", "[signal_io][data]") {
    auto e = read_text_column(kData + "/ecg/ecg-1000hz.csv", by_name("ECG"));
    REQUIRE(e.ok());
    CHECK(e.value.samples.size() == 50000);
    auto ring = read_text_column(kData + "/ppg/ring-32hz.csv");
    REQUIRE(ring.ok());
    CHECK(ring.value.missing > 0);
    CHECK(ring.value.samples.size() + 0 >= ring.value.rows - ring.value.missing);
    auto husm = read_text_column(kData + "/ppg/husm/health/0000001/rest/ppg.csv", by_name("IRsignal"));
    REQUIRE(husm.ok());
    CHECK(husm.value.samples.size() > 11000);
}

TEST_CASE("WFDB: record 100 header, samples, initval and checksum", "[signal_io][data]") {
    auto h = read_wfdb_header(kData + "/ecg/100.hea");
    REQUIRE(h.ok());
    CHECK(h.value.record_name == "100");
    CHECK(h.value.num_signals == 2);
    CHECK(h.value.sample_rate_hz == 360.0);
    CHECK(h.value.num_samples == 650000);
    REQUIRE(h.value.signals.size() == 2);
    CHECK(h.value.signals[0].format == 212);
    CHECK(h.value.signals[0].gain == 200.0);
    CHECK(h.value.signals[0].baseline == 1024);
    CHECK(h.value.signals[0].description == "MLII");
    CHECK(h.value.signals[1].description == "V5");

    auto rec = read_wfdb_record(kData + "/ecg/100.hea");  // verify = true checks initval and checksum
    REQUIRE(rec.ok());
    REQUIRE(rec.value.digital.size() == 2);
    CHECK(rec.value.digital[0].size() == 650000);
    CHECK(rec.value.digital[0][0] == 995);
    CHECK(rec.value.digital[1][0] == 1011);
    CHECK(rec.value.find_signal("mlii") == 0);
    const auto mv = rec.value.physical(0);
    CHECK(mv[0] == Approx((995.0 - 1024.0) / 200.0));
    CHECK(rec.value.physical(5).empty());
}

TEST_CASE("WFDB: format 16 (PTB s0010_re), signal selection and a missing data file", "[signal_io][data]") {
    auto rec = read_wfdb_record(kData + "/ecg/s0010_re.hea", signals({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    REQUIRE(rec.ok());
    CHECK(rec.value.header.num_signals == 15);
    CHECK(rec.value.header.sample_rate_hz == 1000.0);
    CHECK(rec.value.digital[0].size() == 38400);
    CHECK(rec.value.digital[0][0] == -489);
    CHECK(rec.value.digital[11][0] == 390);
    CHECK(rec.value.digital[12].empty());  // vx (in s0010_re.xyz) not requested
    CHECK(rec.value.header.signals[0].gain == 2000.0);
    CHECK(rec.value.physical(0)[0] == Approx(-489.0 / 2000.0));
    // The .xyz file of the Frank leads is not in the data set: asking for them is a clear error.
    auto all = read_wfdb_record(kData + "/ecg/s0010_re.hea");
    CHECK_FALSE(all.ok());
    CHECK(all.error.find("s0010_re.xyz") != std::string::npos);
}

TEST_CASE("WFDB: corrupt and truncated records give an error message", "[signal_io]") {
    const std::string d = tmp_dir();
    auto dat = read_file_bytes(kData + "/ecg/100.dat");
    REQUIRE(dat.ok());
    auto hea = read_file_bytes(kData + "/ecg/100.hea");
    REQUIRE(hea.ok());
    write_bytes(d + "/100.hea", hea.value);

    // Truncated data.
    std::vector<std::uint8_t> cut(dat.value.begin(), dat.value.begin() + 100000);
    write_bytes(d + "/100.dat", cut);
    auto r = read_wfdb_record(d + "/100.hea");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("truncated") != std::string::npos);

    // One corrupted byte in the middle: the checksum catches it.
    auto bad = dat.value;
    bad[900001] ^= 0x5A;
    write_bytes(d + "/100.dat", bad);
    r = read_wfdb_record(d + "/100.hea");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("checksum") != std::string::npos);
    CHECK(read_wfdb_record(d + "/100.hea", no_verify()).ok());

    // Corrupted first sample: initval.
    bad = dat.value;
    bad[0] ^= 0x01;
    write_bytes(d + "/100.dat", bad);
    r = read_wfdb_record(d + "/100.hea");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("initial value") != std::string::npos);

    // Headers that make no sense.
    CHECK_FALSE(parse_wfdb_header("").ok());
    CHECK_FALSE(parse_wfdb_header("100 x 360\n").ok());
    CHECK_FALSE(parse_wfdb_header("100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n").ok());
    CHECK_FALSE(parse_wfdb_header("100 1 360 10\n100.dat 212 abc 11\n").ok());
    write_text(d + "/fmt.hea", "fmt 1 360 10\nfmt.dat 80 200 8 0\n");
    write_bytes(d + "/fmt.dat", std::vector<std::uint8_t>(10, 0));
    r = read_wfdb_record(d + "/fmt.hea");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("format 80") != std::string::npos);
    CHECK_FALSE(read_wfdb_record(d + "/nonexistent.hea").ok());

    // A header naming a directory as its data file (found by fuzzing: seeking to the end of a
    // directory reports LLONG_MAX on ext4, and the reader tried to allocate that much).
    write_text(d + "/dir.hea", "dir 1 360 10\n. 212 200 11 1024 0 0 0 MLII\n");
    r = read_wfdb_record(d + "/dir.hea");
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("is a directory") != std::string::npos);
    const auto dir_bytes = read_file_bytes(d);
    CHECK_FALSE(dir_bytes.ok());
    CHECK(dir_bytes.value.empty());
    // A file the size of several read chunks comes back byte for byte.
    std::vector<std::uint8_t> big(200000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 131u + 7u);
    write_bytes(d + "/big.bin", big);
    const auto big_back = read_file_bytes(d + "/big.bin");
    REQUIRE(big_back.ok());
    CHECK(big_back.value == big);

    // Random header bytes: an error or a parse, never a crash.
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int k = 0; k < 200; ++k) {
        std::string junk(static_cast<std::size_t>(byte(rng)), '\0');
        for (char& c : junk) c = static_cast<char>(byte(rng));
        (void)parse_wfdb_header(junk);
        (void)parse_text_column(junk);
    }
}

TEST_CASE("WFDB annotations: 100.atr beat counts", "[signal_io][data]") {
    auto a = read_wfdb_annotations(kData + "/ecg/100.atr");
    REQUIRE(a.ok());
    std::map<std::string, int> counts;
    int beats = 0;
    std::int64_t prev = -1;
    bool sorted = true;
    for (const auto& x : a.value) {
        if (x.sample < prev) sorted = false;
        prev = x.sample;
        if (!is_beat_code(x.code)) continue;
        ++beats;
        ++counts[annotation_mnemonic(x.code)];
    }
    CHECK(sorted);
    CHECK(beats == 2273);
    CHECK(counts["N"] == 2239);
    CHECK(counts["A"] == 33);
    CHECK(counts["V"] == 1);
    // The first annotation is the rhythm label "(N" (code 28 with AUX text).
    REQUIRE_FALSE(a.value.empty());
    CHECK(a.value.front().code == 28);
    CHECK(a.value.front().aux == "(N");
    CHECK(a.value.back().sample < 650000);
}

TEST_CASE("WFDB annotations: SKIP, modifiers, AUX and corrupt input", "[signal_io]") {
    auto w = [](int code, int low) {
        const unsigned v = static_cast<unsigned>(code << 10 | low);
        return std::vector<std::uint8_t>{static_cast<std::uint8_t>(v & 0xFF), static_cast<std::uint8_t>(v >> 8)};
    };
    std::vector<std::uint8_t> b;
    auto add = [&](const std::vector<std::uint8_t>& x) { b.insert(b.end(), x.begin(), x.end()); };
    add(w(1, 100));                       // N at 100
    add(w(61, 3));                        // SUB 3 modifies it
    add(w(59, 0));                        // SKIP 70000: high word first, then low word
    add({0x01, 0x00, 0x70, 0x11});        // 0x0001, 0x1170 -> 0x11170 = 70000
    add(w(5, 10));                        // V at 100 + 70000 + 10
    add(w(63, 3));                        // AUX "abc" + pad
    add({'a', 'b', 'c', 0});
    add(w(62, 2));                        // CHN 2
    add(w(14, 5));                        // noise at +5
    add(w(0, 0));
    auto r = parse_wfdb_annotations(b);
    REQUIRE(r.ok());
    REQUIRE(r.value.size() == 3);
    CHECK(r.value[0].sample == 100);
    CHECK(r.value[0].subtype == 3);
    CHECK(r.value[1].sample == 70110);
    CHECK(r.value[1].code == 5);
    CHECK(r.value[1].aux == "abc");
    CHECK(r.value[1].channel == 2);
    CHECK(r.value[2].sample == 70115);
    CHECK(r.value[2].channel == 2);  // channel carries over
    CHECK(is_beat_code(1));
    CHECK(is_beat_code(38));
    CHECK_FALSE(is_beat_code(14));
    CHECK_FALSE(is_beat_code(28));
    CHECK_FALSE(is_beat_code(22));

    // Truncated: no end word, a cut SKIP, a cut AUX.
    std::vector<std::uint8_t> t(b.begin(), b.end() - 2);
    CHECK_FALSE(parse_wfdb_annotations(t).ok());
    CHECK_FALSE(parse_wfdb_annotations(std::vector<std::uint8_t>(b.begin(), b.begin() + 7)).ok());
    CHECK_FALSE(parse_wfdb_annotations(std::vector<std::uint8_t>(b.begin(), b.begin() + 17)).ok());
    CHECK_FALSE(parse_wfdb_annotations(std::vector<std::uint8_t>{0x01}).ok());
    auto file = read_file_bytes(kData + "/ecg/100.atr");
    REQUIRE(file.ok());
    CHECK_FALSE(parse_wfdb_annotations(std::span(file.value).first(file.value.size() / 2)).ok());
    CHECK_FALSE(read_wfdb_annotations(kData + "/ecg/none.atr").ok());
    // Random bytes never crash.
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int k = 0; k < 500; ++k) {
        std::vector<std::uint8_t> junk(static_cast<std::size_t>(byte(rng)) * 4);
        for (auto& c : junk) c = static_cast<std::uint8_t>(byte(rng));
        (void)parse_wfdb_annotations(junk);
    }
}
