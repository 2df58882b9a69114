// Source choice: --source parsing (baud given or not), the remembered device (settings'
// last_device) and what `auto` picks from a fake port list.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "attune/core/settings.hpp"
#include "attune/core/sources.hpp"

using namespace attune;
using namespace attune::core;
namespace fs = std::filesystem;

namespace {

devices::RankedPort Port(const std::string& name, int vid, int pid, const std::string& serial) {
    devices::PortInfo info;
    info.name = name;
    info.usb_vid = vid;
    info.usb_pid = pid;
    info.serial_number = serial;
    info.description = "test port";
    info.transport = vid >= 0 ? devices::PortTransport::Usb : devices::PortTransport::Native;
    return devices::RankPorts({info}).front();
}

bool NoPath(const std::string&) { return false; }

}  // namespace

TEST_CASE("source specs with and without @BAUD: only a given baud turns the baud search off", "[sources]") {
    std::string err;
    auto a = ParseSourceSpec("serial:/dev/ttyACM0", err);
    REQUIRE(a);
    CHECK(a->baud == 115200);
    CHECK_FALSE(a->baud_given);
    auto b = ParseSourceSpec("tty:/dev/rfcomm0@9600", err);
    REQUIRE(b);
    CHECK(b->kind == SourceSpec::Kind::Tty);
    CHECK(b->baud == 9600);
    CHECK(b->baud_given);
}

TEST_CASE("a bad source spec gets a one-line message quoting it short", "[sources]") {
    std::string err;
    CHECK_FALSE(ParseSourceSpec("bluetooth", err));
    CHECK(err.rfind("'bluetooth' is not a source: use sim, auto,", 0) == 0);
    CHECK_FALSE(ParseSourceSpec("serial:/dev/ttyACM0@96OO", err));
    CHECK(err == "'96OO' is not a standard baud rate (e.g. 9600, 115200, 250000)");
    CHECK_FALSE(ParseSourceSpec("replay:/tmp/x.csv@fast", err));
    CHECK(err == "'fast' is not a replay speed (a number above 0, e.g. 1 or 20)");
    const std::string junk = "x\n" + std::string(5000, 'y');
    CHECK_FALSE(ParseSourceSpec(junk, err));
    CHECK(err.rfind("'x?" + std::string(38, 'y') + "...' is not a source", 0) == 0);
    CHECK(err.size() < 200);
    // Characters beyond ASCII stay (a port or file name in any language); the C1 control CSI
    // (U+009B, which some terminals obey like ESC [) and a stray byte do not.
    CHECK_FALSE(ParseSourceSpec("H\xc3\xa4rz\xc2\x9b" "2J\xff", err));
    CHECK(err.rfind("'H\xc3\xa4rz?2J?' is not a source", 0) == 0);
}

TEST_CASE("the device the user chose is remembered with its USB identity", "[sources][settings]") {
    const std::vector<devices::RankedPort> ports = {Port("/dev/ttyUSB0", 0x1A86, 0x7523, ""),
                                                    Port("/dev/ttyACM0", 0x2341, 0x0043, "95735353")};
    SourceSpec spec;
    spec.kind = SourceSpec::Kind::Serial;
    spec.path = "/dev/ttyACM0";
    const auto d = DeviceToRemember(spec, ports);
    REQUIRE(d);
    CHECK(d->kind == "serial");
    CHECK(d->path == "/dev/ttyACM0");
    CHECK(d->usb_vid == 0x2341);
    CHECK(d->usb_pid == 0x0043);
    CHECK(d->serial_number == "95735353");
    CHECK(d->baud == 0);  // not given: the search runs next time too
    CHECK_FALSE(d->description.empty());
    // A tty path nobody enumerates (a pty, /dev/rfcomm0): path and baud only.
    SourceSpec tty;
    tty.kind = SourceSpec::Kind::Tty;
    tty.path = "/dev/rfcomm0";
    tty.baud = 9600;
    tty.baud_given = true;
    const auto t = DeviceToRemember(tty, ports);
    REQUIRE(t);
    CHECK(t->kind == "tty");
    CHECK(t->usb_vid == -1);
    CHECK(t->baud == 9600);
    SourceSpec sim;
    CHECK_FALSE(DeviceToRemember(sim, ports));

    // ... and survives a restart in settings.json.
    const fs::path dir = fs::path(ATTUNE_TEST_TMP_DIR) / "settings-last-device";
    fs::remove_all(dir);
    Settings s;
    s.last_device = *d;
    REQUIRE(SaveSettings(dir, s).empty());
    const auto loaded = LoadSettings(dir);
    CHECK(loaded.warning.empty());
    REQUIRE(loaded.settings.last_device);
    CHECK(*loaded.settings.last_device == *d);
    // Nonsense in the file is ignored, not trusted.
    std::ofstream(dir / "settings.json") << R"({"last_device": {"kind": "usb-magic", "path": "/dev/x"}})";
    CHECK_FALSE(LoadSettings(dir).settings.last_device);
    std::ofstream(dir / "settings.json") << R"({"last_device": {"kind": "serial", "path": "/dev/ttyACM0", "usb_vid": 99999999}})";
    const auto clamped = LoadSettings(dir);
    REQUIRE(clamped.settings.last_device);
    CHECK(clamped.settings.last_device->usb_vid == 0xFFFF);
}

TEST_CASE("auto prefers the remembered device when it is plugged in, under any name", "[sources]") {
    RememberedDevice last;
    last.kind = "serial";
    last.path = "/dev/ttyACM0";
    last.usb_vid = 0x2341;
    last.usb_pid = 0x0043;
    last.serial_number = "95735353";

    // Two likely sensors: without memory auto cannot choose...
    const std::vector<devices::RankedPort> two = {Port("/dev/ttyUSB0", 0x1A86, 0x7523, ""),
                                                  Port("/dev/ttyACM1", 0x2341, 0x0043, "95735353")};
    const auto none = ChooseAutoSource(two, std::nullopt, NoPath);
    CHECK(none.spec.kind == SourceSpec::Kind::Sim);
    CHECK_FALSE(none.remembered);
    // ... with it, the remembered board, found by serial number although it is now ttyACM1.
    const auto mem = ChooseAutoSource(two, last, NoPath);
    CHECK(mem.spec.kind == SourceSpec::Kind::Serial);
    CHECK(mem.spec.path == "/dev/ttyACM1");
    CHECK(mem.remembered);
    CHECK(mem.note.find("last sensor") != std::string::npos);

    // Another Arduino of the same model (other serial number) is not the remembered one: with
    // it alone, auto takes it as the single likely sensor, not as "the last sensor".
    const std::vector<devices::RankedPort> other = {Port("/dev/ttyACM0", 0x2341, 0x0043, "11111111")};
    const auto o = ChooseAutoSource(other, last, NoPath);
    CHECK(o.spec.kind == SourceSpec::Kind::Serial);
    CHECK_FALSE(o.remembered);

    // Remembered device absent, nothing likely: the simulated heart.
    const auto gone = ChooseAutoSource({}, last, NoPath);
    CHECK(gone.spec.kind == SourceSpec::Kind::Sim);

    // A CH340 clone has no serial number: the same VID:PID at the same path.
    RememberedDevice clone;
    clone.path = "/dev/ttyUSB1";
    clone.usb_vid = 0x1A86;
    clone.usb_pid = 0x7523;
    const std::vector<devices::RankedPort> clones = {Port("/dev/ttyUSB0", 0x1A86, 0x7523, ""),
                                                     Port("/dev/ttyUSB1", 0x1A86, 0x7523, "")};
    const auto c = ChooseAutoSource(clones, clone, NoPath);
    CHECK(c.remembered);
    CHECK(c.spec.path == "/dev/ttyUSB1");

    // A remembered tty path (Bluetooth rfcomm) is used when the path exists, with its baud.
    RememberedDevice bt;
    bt.kind = "tty";
    bt.path = "/dev/rfcomm0";
    bt.baud = 9600;
    const auto b = ChooseAutoSource({}, bt, [](const std::string& p) { return p == "/dev/rfcomm0"; });
    CHECK(b.remembered);
    CHECK(b.spec.kind == SourceSpec::Kind::Tty);
    CHECK(b.spec.baud == 9600);
    CHECK(b.spec.baud_given);
    CHECK(ChooseAutoSource({}, bt, NoPath).spec.kind == SourceSpec::Kind::Sim);
}
