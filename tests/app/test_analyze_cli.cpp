// `attune analyze` end to end: real recordings, the README's reference values, the beats file,
// bad input (exit 3, one line on stderr), usage errors (exit 2), and replay determinism.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace fs = std::filesystem;
using attune::test::RunCommand;

namespace {

const fs::path kData = ATTUNE_SHARED_DATA_DIR;
const fs::path kTmp = fs::path(ATTUNE_TEST_TMP_DIR) / "analyze";

std::string Analyze(const std::string& args) { return std::string("'") + ATTUNE_EXE + "' analyze " + args; }

nlohmann::json AnalyzeJson(const std::string& args) {
    auto r = RunCommand(Analyze(args + " --json"));
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.output);
}

// Quoted for the shell. (Built with append: GCC 12 raises a false -Wrestrict on "'" + s + "'".)
std::string Q(const fs::path& p) {
    std::string q(1, '\'');
    q.append(p.string());
    q.push_back('\'');
    return q;
}

}  // namespace

TEST_CASE("analyze rr: the uncorrected metrics equal the README reference values", "[analyze]") {
    const auto j = AnalyzeJson(Q(kData / "rr" / "rest-rri.txt") + " --signal rr");
    for (const char* key : {"beats", "duration_s", "hr_mean_bpm", "rr_mean_ms", "sdnn_ms", "rmssd_ms", "sdsd_ms", "pnn50_pct",
                            "vlf_ms2", "lf_ms2", "hf_ms2", "lf_hf", "total_power_ms2", "coherence", "artifacts",
                            "breathing_rate_bpm"})
        CHECK(j.contains(key));
    const auto& u = j.at("uncorrected");
    // Reference values from ../shared/data/README.md, printed to 3 decimals: +-0.0005.
    CHECK_THAT(u.at("rr_mean_ms").get<double>(), Catch::Matchers::WithinAbs(1058.719, 0.0005));
    CHECK_THAT(u.at("sdnn_ms").get<double>(), Catch::Matchers::WithinAbs(57.818, 0.0005));
    CHECK_THAT(u.at("rmssd_ms").get<double>(), Catch::Matchers::WithinAbs(55.137, 0.0005));
    CHECK_THAT(u.at("sdsd_ms").get<double>(), Catch::Matchers::WithinAbs(55.168, 0.0005));
    CHECK_THAT(u.at("pnn50_pct").get<double>(), Catch::Matchers::WithinAbs(35.314, 0.0005));
    CHECK_THAT(u.at("vlf_ms2").get<double>(), Catch::Matchers::WithinAbs(308.201, 0.0005));
    CHECK_THAT(u.at("lf_ms2").get<double>(), Catch::Matchers::WithinAbs(770.447, 0.0005));
    CHECK_THAT(u.at("hf_ms2").get<double>(), Catch::Matchers::WithinAbs(895.025, 0.0005));
    CHECK_THAT(u.at("total_power_ms2").get<double>(), Catch::Matchers::WithinAbs(1973.673, 0.0005));
    CHECK_THAT(u.at("lf_hf").get<double>(), Catch::Matchers::WithinAbs(0.861, 0.0005));
    // Corrected metrics: the few flagged intervals are replaced, so variability can only drop.
    const auto& a = j.at("artifacts");
    const int flagged = a.at("ectopic").get<int>() + a.at("missed").get<int>() + a.at("extra").get<int>() +
                        a.at("long").get<int>() + a.at("short").get<int>();
    CHECK(flagged < 910 / 20);  // a resting recording: under 5 % flagged
    CHECK(j.at("rmssd_ms").get<double>() <= u.at("rmssd_ms").get<double>());
    CHECK(j.at("beats") == 910);
}

TEST_CASE("analyze ecg on MIT-BIH record 100 and the beats file", "[analyze]") {
    fs::create_directories(kTmp);
    const fs::path beats = kTmp / "100-beats.csv";
    const auto j = AnalyzeJson(Q(kData / "ecg" / "100.hea") + " --signal ecg --column MLII --beats-out " + Q(beats));
    // 2273 reference beats over 30:06; the first ~2 s are the detector's learning period.
    CHECK(std::abs(j.at("beats").get<int>() - 2273) <= 6);
    CHECK_THAT(j.at("duration_s").get<double>(), Catch::Matchers::WithinAbs(650000.0 / 360.0, 1e-6));
    CHECK_THAT(j.at("hr_mean_bpm").get<double>(), Catch::Matchers::WithinAbs(75.6, 1.0));
    std::ifstream in(beats);
    std::string line;
    std::getline(in, line);
    CHECK(line == "t_s");
    std::getline(in, line);
    const auto dot = line.find('.');
    REQUIRE(dot != std::string::npos);
    CHECK(line.size() - dot - 1 >= 4);  // at least 4 decimals
    int rows = 1;
    while (std::getline(in, line)) ++rows;
    CHECK(rows == j.at("beats").get<int>());
}

TEST_CASE("analyze rr from a WFDB annotation file writes flags per interval", "[analyze]") {
    fs::create_directories(kTmp);
    const fs::path beats = kTmp / "14149-beats.csv";
    const auto j = AnalyzeJson(Q(kData / "rr" / "14149.atr") + " --signal rr --beats-out " + Q(beats));
    CHECK(j.at("beats").get<int>() == 144554 + 264);  // N + V beats in the reference
    std::ifstream in(beats);
    std::string line;
    std::getline(in, line);
    CHECK(line == "t_s,ibi_ms,flag");
    std::getline(in, line);
    CHECK(std::count(line.begin(), line.end(), ',') == 2);
}

TEST_CASE("analyze ppg finds the polarity and agrees with HeartPy on its sample", "[analyze]") {
    const auto j = AnalyzeJson(Q(kData / "ppg" / "heartpy-data-100hz.csv") + " --signal ppg --rate 100");
    CHECK_THAT(j.at("uncorrected").at("hr_mean_bpm").get<double>(), Catch::Matchers::WithinAbs(58.9, 1.5));
    // HUSM IR: the pulse is a dip; detected without --invert.
    const auto h = AnalyzeJson(Q(kData / "ppg" / "husm" / "health" / "0000001" / "rest" / "ppg.csv") +
                               " --signal ppg --rate 200 --column IRsignal");
    CHECK(h.at("inverted") == true);
    const auto forced = AnalyzeJson(Q(kData / "ppg" / "husm" / "health" / "0000001" / "rest" / "ppg.csv") +
                                    " --signal ppg --rate 200 --column IRsignal --invert");
    CHECK(forced.at("beats") == h.at("beats"));
}

TEST_CASE("analyze: the same input twice gives identical output", "[analyze][determinism]") {
    const std::string args = Q(kData / "multi" / "bio-resting-5min-100hz.csv") + " --signal ppg --rate 100 --column PPG --json";
    const auto a = RunCommand(Analyze(args)), b = RunCommand(Analyze(args));
    REQUIRE(a.exit_code == 0);
    CHECK(a.output == b.output);
}

TEST_CASE("analyze: bad input is one line on stderr and exit 3; usage errors exit 2", "[analyze][errors]") {
    fs::create_directories(kTmp);
    std::ofstream(kTmp / "empty.txt").close();
    std::ofstream(kTmp / "words.csv") << "ECG\n1\n2\nthree\n4\n";
    std::ofstream(kTmp / "binary.dat") << std::string("\x00\x01\xff\xfe garbage \x7f", 16);
    std::ofstream(kTmp / "bad.hea") << "rec 1 360 1000\nrec.dat 212 200 11 1024 0 0 0 MLII\n";  // no data file
    struct Case { std::string args; const char* expect; };
    const std::vector<Case> cases = {
        {Q(kTmp / "missing.csv") + " --signal ppg --rate 100", "no such file"},
        {Q(kTmp / "empty.txt") + " --signal ppg --rate 100", ""},
        {Q(kTmp / "words.csv") + " --signal ecg --rate 360", "three"},
        {Q(kTmp / "binary.dat") + " --signal rr", ""},
        {Q(kData / "ecg" / "ecg-1000hz.csv") + " --signal ecg", "--rate"},
        {Q(kData / "ecg" / "ecg-1000hz.csv") + " --signal ecg --rate 0", "rate"},
        {Q(kData / "ecg" / "ecg-1000hz.csv") + " --signal ecg --rate 5", "rate"},
        {Q(kData / "ecg" / "ecg-1000hz.csv") + " --signal ecg --rate 1000 --column NOPE", "NOPE"},
        {Q(kData / "ecg" / "100.hea") + " --signal ecg --column V9", "V9"},
        {Q(kTmp / "bad.hea") + " --signal ecg", ""},
        {Q(kTmp) + " --signal rr", "folder"},
    };
    for (const auto& c : cases) {
        INFO(c.args);
        auto r = RunCommand(Analyze(c.args + " 2>&1 >/dev/null"));
        CHECK(r.exit_code == 3);
        CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
        CHECK(r.output.find(c.expect) != std::string::npos);
    }
    CHECK(RunCommand(Analyze(Q(kData / "rr" / "rest-rri.txt") + " 2>&1")).exit_code == 2);  // no --signal
    CHECK(RunCommand(Analyze(Q(kData / "rr" / "rest-rri.txt") + " --signal xyz 2>&1")).exit_code == 2);
    CHECK(RunCommand(Analyze("--signal rr 2>&1")).exit_code == 2);  // no INPUT
}

TEST_CASE("analyze --json: bytes that are not UTF-8 in a header cell or file name never end the program",
          "[analyze][errors]") {
    // Found by the analyze fuzzer: a Latin-1 header cell reached the JSON's "input" text and
    // nlohmann::json's dump threw (terminate). Such bytes come out as U+FFFD; the numbers stand.
    fs::create_directories(kTmp);
    const fs::path file = kTmp / "r\xe9sum\xe9-\xff.csv";  // a Latin-1 name: valid on Linux
    {
        std::ifstream in(kData / "ecg" / "ecg-1000hz.csv");
        std::string header;
        std::getline(in, header);  // "ECG"
        std::ofstream out(file);
        out << "ECG\xb5V\xd2\xc8\n" << in.rdbuf();
    }
    auto r = RunCommand(Analyze(Q(file) + " --signal ecg --rate 1000 --json 2>&1"));
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.output);  // valid UTF-8 JSON, or this throws
    const std::string input = j.at("input").get<std::string>();
    CHECK(input.find("ECG\xef\xbf\xbdV") != std::string::npos);  // U+FFFD for the lone 0xB5
    CHECK(input.find("r\xef\xbf\xbdsum") != std::string::npos);
    const auto plain = AnalyzeJson(Q(kData / "ecg" / "ecg-1000hz.csv") + " --signal ecg --rate 1000");
    CHECK(j.at("beats").get<int>() == plain.at("beats").get<int>());
    CHECK(j.at("rmssd_ms").get<double>() == plain.at("rmssd_ms").get<double>());
}
