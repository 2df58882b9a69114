// End-to-end: the real `attune` binary run headless (SDL offscreen driver, software renderer).
#include <catch2/catch.hpp>

#include <filesystem>
#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>
#include <stb_image.h>

#include "run_command.hpp"

namespace fs = std::filesystem;
using attune::test::RunCommand;

namespace {

const fs::path kTmp = fs::path(ATTUNE_TEST_TMP_DIR) / "headless";

std::string Attune(const std::string& args) {
    fs::create_directories(kTmp);
    return std::string("'") + ATTUNE_EXE + "' --config-dir '" + (kTmp / "config").string() + "' --data-dir '" +
           (kTmp / "data").string() + "' " + args;
}

struct Image {
    int w = 0, h = 0;
    std::vector<unsigned char> rgba;
    const unsigned char* at(int x, int y) const { return &rgba[(static_cast<std::size_t>(y) * w + x) * 4]; }
};

Image LoadPng(const fs::path& path) {
    Image img;
    int n = 0;
    unsigned char* data = stbi_load(path.c_str(), &img.w, &img.h, &n, 4);
    REQUIRE(data != nullptr);
    img.rgba.assign(data, data + static_cast<std::size_t>(img.w) * img.h * 4);
    stbi_image_free(data);
    return img;
}

// Pixels of the orb: in the pacer area (left of the 360 px controls panel, above the heart
// trace), clearly brighter than the dark background (the orb's colour changes with feedback,
// its brightness does not).
std::size_t OrbPixels(const Image& img, double bottom = 0.42, int panel_px = 360) {
    std::size_t count = 0;
    for (int y = 70; y < img.h * bottom; ++y)
        for (int x = 0; x < img.w - panel_px; ++x) {
            const unsigned char* p = img.at(x, y);
            if (std::max({p[0], p[1], p[2]}) > 110) ++count;
        }
    return count;
}

}  // namespace

TEST_CASE("a headless run writes a non-blank screenshot and a JSON summary", "[app][headless]") {
    const fs::path shot = kTmp / "shot.png";
    fs::create_directories(kTmp);
    fs::remove(shot);
    auto r = RunCommand(Attune("--headless --duration 60 --speed 10 --screenshot '" + shot.string() + "' --json"));
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.output);
    CHECK_THAT(j.at("duration_s").get<double>(), Catch::Matchers::WithinAbs(60.0, 1e-9));
    CHECK(j.at("source") == "sim");
    // Resonance preset by default: 5.5 breaths/min for 60 s = 5 whole breaths.
    CHECK(j.at("breaths") == 5);
    CHECK(j.at("beats").get<int>() > 50);
    CHECK(j.at("beats").get<int>() < 90);
    CHECK(j.at("hr_mean_bpm").get<double>() > 55.0);
    CHECK(j.at("hr_mean_bpm").get<double>() < 80.0);

    REQUIRE(fs::exists(shot));
    const Image img = LoadPng(shot);
    CHECK(img.w == 1280);
    CHECK(img.h == 800);
    std::set<unsigned> colours;
    for (int y = 0; y < img.h; y += 3)
        for (int x = 0; x < img.w; x += 3) {
            const unsigned char* p = img.at(x, y);
            colours.insert(p[0] << 16 | p[1] << 8 | p[2]);
        }
    CHECK(colours.size() > 200);  // text, orb, glow, trace: far from a blank frame
    CHECK(OrbPixels(img) > 3000);
    // The heart-rate trace is drawn: its orange line shows under the orb.
    std::size_t orange = 0;
    for (int y = static_cast<int>(img.h * 0.44); y < img.h * 0.6; ++y)
        for (int x = 0; x < img.w - 360; ++x) {
            const unsigned char* p = img.at(x, y);
            orange += p[0] > 200 && p[1] > 130 && p[1] < 200 && p[2] < 150;
        }
    CHECK(orange > 200);
}

TEST_CASE("first_frame_ms counts from the app's start, also when a script execs it after other work", "[app][headless]") {
    // scripts/run builds and then `exec`s the app: the process was created long before Attune
    // started (/proc/self/stat's start time is the fork's), and first_frame_ms once read 152 s.
    // Here the shell sleeps 4 s before its exec; the first frame itself takes 0.1-0.3 s (Release),
    // more under the sanitizers: anything below 3.5 s shows the sleep is not counted.
    auto r = RunCommand("sleep 4; exec " + Attune("--headless --duration 1 --no-record --json"));
    REQUIRE(r.exit_code == 0);
    const double first_ms = nlohmann::json::parse(r.output).at("first_frame_ms").get<double>();
    CHECK(first_ms > 0.0);
    CHECK(first_ms < 3500.0);
}

TEST_CASE("the orb is larger on a full inhale than at the end of an exhale", "[app][headless]") {
    // Coherent 6/min: 5 s in, 5 s out. At 24.9 s the lungs are nearly full, at 29.9 s nearly empty.
    const fs::path in_png = kTmp / "inhale.png", out_png = kTmp / "exhale.png";
    REQUIRE(RunCommand(Attune("--headless --preset coherent --duration 24.9 --speed 20 --screenshot '" + in_png.string() + "'")).exit_code == 0);
    REQUIRE(RunCommand(Attune("--headless --preset coherent --duration 29.9 --speed 20 --screenshot '" + out_png.string() + "'")).exit_code == 0);
    const std::size_t full = OrbPixels(LoadPng(in_png));
    const std::size_t empty = OrbPixels(LoadPng(out_png));
    INFO("orb pixels: inhale " << full << ", exhale " << empty);
    // Radius goes from 0.38 to 1.0 of its maximum: the area ratio is about 7.
    CHECK(full > 4 * empty);
    CHECK(empty > 1000);
}

TEST_CASE("the client view shows the orb alone, large", "[app][headless]") {
    const fs::path client = kTmp / "client.png", prac = kTmp / "practitioner.png";
    REQUIRE(RunCommand(Attune("--headless --preset coherent --duration 24.9 --speed 20 --view client --screenshot '" + client.string() + "'")).exit_code == 0);
    REQUIRE(RunCommand(Attune("--headless --preset coherent --duration 24.9 --speed 20 --screenshot '" + prac.string() + "'")).exit_code == 0);
    const Image c = LoadPng(client), p = LoadPng(prac);
    // Full inhale: the client view's orb fills far more of the screen.
    CHECK(OrbPixels(c, 1.0, 0) > 3 * OrbPixels(p, 1.0, 0));
    // No controls panel: the right edge shows only background or glow, no panel text.
    std::set<unsigned> right;
    for (int y = 0; y < c.h; y += 2) {
        const unsigned char* q = c.at(c.w - 40, y);
        right.insert(q[0] << 16 | q[1] << 8 | q[2]);
    }
    CHECK(right.size() < 40);
}

TEST_CASE("the same seed gives the same session, whatever the speed", "[app][headless][determinism]") {
    auto a = RunCommand(Attune("--headless --duration 30 --speed 50 --json --seed 7"));
    auto b = RunCommand(Attune("--headless --duration 30 --speed 15 --json --seed 7"));
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    const auto ja = nlohmann::json::parse(a.output), jb = nlohmann::json::parse(b.output);
    CHECK(ja.at("beats") == jb.at("beats"));
    CHECK(ja.at("hr_mean_bpm").get<double>() == jb.at("hr_mean_bpm").get<double>());
}

TEST_CASE("without a display and without --headless the app says so and exits 1", "[app]") {
    auto r = RunCommand("env -u DISPLAY -u WAYLAND_DISPLAY -u SDL_VIDEODRIVER " + Attune("2>&1"));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("no display") != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
}

TEST_CASE("command-line mistakes exit 2 with a message", "[app]") {
    auto r = RunCommand(Attune("--headless --preset nonsense 2>&1"));
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("unknown preset") != std::string::npos);
    CHECK(RunCommand(Attune("--speed -3 2>&1")).exit_code == 2);
    CHECK(RunCommand(Attune("--no-such-flag 2>&1")).exit_code == 2);
    CHECK(RunCommand(Attune("--help")).exit_code == 0);
}

TEST_CASE("beats from the detector: --beats-from detector runs Attune's PPG detector on the simulated sensor's waveform", "[app][headless]") {
    auto a = RunCommand(Attune("--headless --no-record --duration 60 --speed 20 --json --beats-from detector"));
    auto b = RunCommand(Attune("--headless --no-record --duration 60 --speed 20 --json"));
    REQUIRE(a.exit_code == 0);
    REQUIRE(b.exit_code == 0);
    const auto ja = nlohmann::json::parse(a.output), jb = nlohmann::json::parse(b.output);
    CHECK(ja.at("beat_source").get<std::string>().find("detector") != std::string::npos);
    CHECK(jb.at("beat_source") == "intervals reported by the sensor");
    CHECK(ja.at("format") == "pulsesensor-visualizer");
    // Both see the same heart: within a few beats of each other (start-up differs).
    CHECK(std::abs(ja.at("beats").get<int>() - jb.at("beats").get<int>()) <= 6);
    CHECK_THAT(ja.at("hr_mean_bpm").get<double>(), Catch::Matchers::WithinAbs(jb.at("hr_mean_bpm").get<double>(), 2.0));
    CHECK(RunCommand(Attune("--beats-from nonsense 2>&1")).exit_code == 2);
}

TEST_CASE("the software draw path paints the same picture as ImGui's SDL_Renderer backend", "[app][headless]") {
    // Headless runs draw solid rectangles as SDL fills (sw_render.cpp) instead of copies of the
    // font atlas' white pixel. Same session time, same seed: the screenshots must agree except
    // for single-pixel rounding at rectangle edges.
    for (const char* view : {"practitioner", "client"}) {
        const fs::path fast = kTmp / (std::string("draw_fast_") + view + ".png");
        const fs::path ref = kTmp / (std::string("draw_ref_") + view + ".png");
        const std::string args = std::string("--headless --duration 75 --speed 50 --seed 3 --no-record --view ") + view;
        REQUIRE(RunCommand(Attune(args + " --screenshot '" + fast.string() + "'")).exit_code == 0);
        REQUIRE(RunCommand("ATTUNE_REFERENCE_DRAW=1 " + Attune(args + " --screenshot '" + ref.string() + "'")).exit_code == 0);
        const Image a = LoadPng(fast), b = LoadPng(ref);
        REQUIRE(a.w == b.w);
        REQUIRE(a.h == b.h);
        std::size_t differ = 0, far = 0;
        for (int y = 0; y < a.h; ++y)
            for (int x = 0; x < a.w; ++x) {
                int d = 0;
                for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(a.at(x, y)[c] - b.at(x, y)[c]));
                if (d > 2) ++differ;  // blending rounds differently by a level or two
                if (d > 40) ++far;
            }
        INFO(view << ": " << differ << " pixels differ, " << far << " by more than 40 levels");
        // 1280x800 = 1,024,000 pixels; a one-pixel shift of every panel edge would be ~10,000,
        // the orb (SoftwareOrb: scaled and tinted by Attune, SDL only blends) drawn one pixel
        // too large ~1,300. Measured: 0 (client) and 28 (practitioner) pixels differ.
        CHECK(differ < 500);
        CHECK(far < 250);
    }
}
