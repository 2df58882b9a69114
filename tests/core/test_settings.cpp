// Settings survive a restart; a corrupt file is reported, kept aside and replaced by defaults.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "attune/core/settings.hpp"

using namespace attune::core;
namespace fs = std::filesystem;

TEST_CASE("settings round-trip through the config folder", "[settings]") {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "settings-ok";
    fs::remove_all(dir);
    Settings s;
    s.preset_id = "custom";
    s.show_heart_trace = false;
    s.text_scale = 1.5f;
    s.custom_pattern = BreathPattern::FourPhase("custom", "Custom", 3.0, 1.0, 6.0, 0.0, 420.0);
    REQUIRE(SaveSettings(dir, s).empty());
    CHECK((fs::status(dir).permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
    CHECK((fs::status(dir / "settings.json").permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
    const auto loaded = LoadSettings(dir);
    CHECK(loaded.warning.empty());
    CHECK(loaded.settings.preset_id == "custom");
    CHECK_FALSE(loaded.settings.show_heart_trace);
    CHECK_THAT(loaded.settings.text_scale, Catch::Matchers::WithinAbs(1.5, 1e-6));
    REQUIRE(loaded.settings.custom_pattern.has_value());
    CHECK_THAT(loaded.settings.custom_pattern->CycleSeconds(), Catch::Matchers::WithinAbs(10.0, 1e-9));
    CHECK_THAT(loaded.settings.custom_pattern->length_s, Catch::Matchers::WithinAbs(420.0, 1e-9));
}

TEST_CASE("a missing settings file gives defaults silently", "[settings]") {
    const auto loaded = LoadSettings(fs::path(ATTUNE_TEST_TMP_DIR) / "settings-none");
    CHECK(loaded.warning.empty());
    CHECK(loaded.settings.preset_id == "resonance");
}

TEST_CASE("a corrupt settings file is reported and kept aside", "[settings]") {
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "settings-bad";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(dir / "settings.json") << "{\"preset_id\": \"box\", \x01\x02 garbage";
    const auto loaded = LoadSettings(dir);
    CHECK(loaded.warning.find("not valid JSON") != std::string::npos);
    CHECK(loaded.settings.preset_id == "resonance");
    CHECK(fs::exists(dir / "settings.json.bad"));
    // Wrong types are ignored field by field.
    std::ofstream(dir / "settings.json") << R"({"preset_id": 5, "text_scale": 99, "show_heart_trace": false})";
    const auto partial = LoadSettings(dir);
    CHECK(partial.settings.preset_id == "resonance");
    CHECK(partial.settings.text_scale == 1.0f);
    CHECK_FALSE(partial.settings.show_heart_trace);
}
