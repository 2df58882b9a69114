// End-to-end: guided programs run headless (`attune --headless --program NAME --json`), the
// resonance assessment ends in the profile and becomes the resonance preset's rate, and a
// malformed program file is reported without stopping the app.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "run_command.hpp"

namespace fs = std::filesystem;
using attune::test::RunCommand;

namespace {

const fs::path kTmp = fs::path(ATTUNE_TEST_TMP_DIR) / "programs_cli";

std::string Attune(const fs::path& root, const std::string& args) {
    fs::create_directories(root);
    return std::string("SDL_VIDEODRIVER=offscreen '") + ATTUNE_EXE + "' --config-dir '" + (root / "config").string() +
           "' --data-dir '" + (root / "data").string() + "' " + args;
}

}  // namespace

TEST_CASE("each shipped program runs headless to its end", "[app][program]") {
    for (const char* id : {"daily-resonance", "sleep-downshift", "grounding", "box-focus", "therapist-10",
                           "resonance-assessment-sliding"}) {
        INFO(id);
        const fs::path root = kTmp / id;
        fs::remove_all(root);
        auto r = RunCommand(Attune(root, std::string("--headless --program ") + id + " --speed 400 --json --no-record"));
        REQUIRE(r.exit_code == 0);
        const auto j = nlohmann::json::parse(r.output);
        CHECK(j.at("program") == id);
        CHECK(j.at("program_finished") == true);
        // The run stops exactly where the program ends (its last whole breath), not a frame later.
        CHECK(j.at("duration_s").get<double>() == Approx(j.at("program_length_s").get<double>()).margin(1e-6));
        CHECK(j.at("breaths").get<int>() > 10);
        CHECK(j.at("beats").get<int>() > 300);
    }
}

TEST_CASE("the assessment recommends the simulated resonance and keeps it in the profile", "[app][program][resonance]") {
    const fs::path root = kTmp / "assessment";
    fs::remove_all(root);
    auto r = RunCommand(Attune(root, "--headless --program resonance-assessment --speed 400 --json --sim-resonance-bpm 6.0"));
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.output);
    CHECK(j.at("program") == "resonance-assessment");
    CHECK(j.at("recommended_rate_bpm").get<double>() == Approx(6.0).margin(1e-9));
    REQUIRE(j.at("rate_scores").size() == 5);
    for (const auto& s : j.at("rate_scores")) {
        CHECK(s.contains("phase_deg"));
        CHECK(s.at("criteria").size() == 6);
    }
    CHECK(!j.at("assessment").at("reasons").empty());

    // In the profile: the rate, and the result in the history.
    std::ifstream f(root / "data" / "profiles" / "default" / "profile.json");
    REQUIRE(f);
    const auto prof = nlohmann::json::parse(f);
    CHECK(prof.at("resonance_rate_bpm").get<double>() == Approx(6.0));
    CHECK(prof.at("resonance_assessments").size() == 1);

    // The resonance preset now breathes at 6.0/min for this profile: 12 breaths in two minutes
    // (at the shipped 5.5/min it would be 11).
    auto next = RunCommand(Attune(root, "--headless --preset resonance --duration 120 --speed 50 --json --no-record"));
    REQUIRE(next.exit_code == 0);
    CHECK(nlohmann::json::parse(next.output).at("breaths") == 12);
}

TEST_CASE("a malformed program file is reported and the app keeps running", "[app][program]") {
    const fs::path root = kTmp / "malformed";
    fs::remove_all(root);
    fs::create_directories(root / "config" / "programs");
    std::ofstream(root / "config" / "programs" / "mine.json")
        << R"({"id": "mine", "steps": [ {"kind": "paced", "preset": "box", "duration_s": "long"} ]})";
    auto r = RunCommand(Attune(root, "--headless --program box-focus --duration 30 --speed 20 --no-record 2>&1 >/dev/null"));
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("mine.json: steps[0].duration_s: must be a number") != std::string::npos);

    auto unknown = RunCommand(Attune(root, "--headless --program mine --duration 5 --no-record 2>&1"));
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.output.find("unknown program 'mine'") != std::string::npos);
}
