// Port ranking is a pure function over a list: Arduino > CH340 > FTDI > CP210x > other USB >
// built-in UART. Enumeration on this machine must return without error (it may list nothing).
#include <catch2/catch.hpp>

#include <algorithm>

#include "attune/devices/ports.hpp"

using namespace attune::devices;

namespace {

PortInfo Usb(std::string name, int vid, int pid, std::string serial = {}) {
    PortInfo p;
    p.name = std::move(name);
    p.transport = PortTransport::Usb;
    p.usb_vid = vid;
    p.usb_pid = pid;
    p.serial_number = std::move(serial);
    return p;
}

PortInfo Native(std::string name) {
    PortInfo p;
    p.name = std::move(name);
    p.transport = PortTransport::Native;
    return p;
}

}  // namespace

TEST_CASE("ports: ranking on a fake list", "[ports]") {
    const std::vector<PortInfo> ports = {
        Native("/dev/ttyS0"),
        Usb("/dev/ttyUSB3", 0x1234, 0x5678),  // unknown USB serial gadget
        Usb("/dev/ttyUSB2", 0x10C4, 0xEA60),  // CP210x
        Usb("/dev/ttyUSB1", 0x0403, 0x6001),  // FTDI
        Usb("/dev/ttyUSB0", 0x1A86, 0x7523),  // CH340
        Usb("/dev/ttyACM0", 0x2341, 0x0043),  // Arduino Uno
    };
    const std::vector<RankedPort> ranked = RankPorts(ports);
    REQUIRE(ranked.size() == ports.size());
    CHECK(ranked[0].info.name == "/dev/ttyACM0");
    CHECK(ranked[1].info.name == "/dev/ttyUSB0");
    CHECK(ranked[2].info.name == "/dev/ttyUSB1");
    CHECK(ranked[3].info.name == "/dev/ttyUSB2");
    CHECK(ranked[4].info.name == "/dev/ttyUSB3");
    CHECK(ranked[5].info.name == "/dev/ttyS0");
    CHECK(ranked[0].kind == PortKind::Arduino);
    CHECK(ranked[0].hint == "Arduino (2341:0043)");
    CHECK(ranked[1].kind == PortKind::Ch34x);
    CHECK(ranked[2].kind == PortKind::Ftdi);
    CHECK(ranked[3].kind == PortKind::Cp210x);
    CHECK(ranked[4].kind == PortKind::OtherUsb);
    CHECK(ranked[5].kind == PortKind::Native);
    for (std::size_t i = 1; i < ranked.size(); ++i) CHECK(ranked[i - 1].score > ranked[i].score);
}

TEST_CASE("ports: every listed identifier is recognised", "[ports]") {
    CHECK(ClassifyPort(Usb("a", 0x2A03, 0x0043)) == PortKind::Arduino);
    CHECK(ClassifyPort(Usb("a", 0x2341, 0x8036)) == PortKind::Arduino);  // any Arduino PID
    CHECK(ClassifyPort(Usb("a", 0x1A86, 0x5523)) == PortKind::Ch34x);
    CHECK(ClassifyPort(Usb("a", 0x1A86, 0x1234)) == PortKind::OtherUsb);
    for (int pid : {0x6001, 0x6015, 0x6014, 0x6010}) CHECK(ClassifyPort(Usb("a", 0x0403, pid)) == PortKind::Ftdi);
    CHECK(ClassifyPort(Usb("a", 0x0403, 0x6011)) == PortKind::OtherUsb);
    CHECK(ClassifyPort(Usb("a", 0x10C4, 0xEA60)) == PortKind::Cp210x);
}

TEST_CASE("ports: without USB details the kernel name decides; ties sort by name", "[ports]") {
    PortInfo acm;
    acm.name = "/dev/ttyACM1";
    PortInfo bt;
    bt.name = "/dev/rfcomm0";
    PortInfo ama;
    ama.name = "/dev/ttyAMA0";
    PortInfo odd;
    odd.name = "/dev/whatever";
    CHECK(ClassifyPort(acm) == PortKind::OtherUsb);
    CHECK(ClassifyPort(bt) == PortKind::Bluetooth);
    CHECK(ClassifyPort(ama) == PortKind::Native);
    CHECK(ClassifyPort(odd) == PortKind::Unknown);

    const auto ranked = RankPorts({Native("/dev/ttyS1"), Native("/dev/ttyS0"), bt, odd, acm});
    std::vector<std::string> names;
    for (const auto& r : ranked) names.push_back(r.info.name);
    CHECK(names == std::vector<std::string>{"/dev/ttyACM1", "/dev/rfcomm0", "/dev/whatever", "/dev/ttyS0", "/dev/ttyS1"});
    CHECK(RankPorts({}).empty());
}

TEST_CASE("ports: USB id formatting", "[ports]") {
    CHECK(FormatUsbId(0x2341, 0x43) == "2341:0043");
    CHECK(FormatUsbId(0x10c4, 0xea60) == "10C4:EA60");
    CHECK(FormatUsbId(-1, 5).empty());
}

TEST_CASE("ports: finding the same device under another name", "[ports]") {
    const std::vector<PortInfo> ports = {
        Usb("/dev/ttyACM1", 0x2341, 0x0043, "ABC"),
        Usb("/dev/ttyACM2", 0x2341, 0x0043, "XYZ"),
        Usb("/dev/ttyUSB0", 0x1A86, 0x7523),
    };
    TransportIdentity id;
    id.path = "/dev/ttyACM0";
    id.usb_vid = 0x2341;
    id.usb_pid = 0x0043;
    id.serial_number = "XYZ";
    auto found = FindPortByIdentity(ports, id);
    REQUIRE(found);
    CHECK(found->name == "/dev/ttyACM2");

    id.serial_number = "nope";
    CHECK_FALSE(FindPortByIdentity(ports, id));

    // No serial number: only an unambiguous VID:PID match counts.
    id.serial_number.clear();
    CHECK_FALSE(FindPortByIdentity(ports, id));  // two Arduinos
    id.usb_vid = 0x1A86;
    id.usb_pid = 0x7523;
    found = FindPortByIdentity(ports, id);
    REQUIRE(found);
    CHECK(found->name == "/dev/ttyUSB0");

    CHECK_FALSE(FindPortByIdentity(ports, TransportIdentity{}));  // no USB id: nothing to match
}

TEST_CASE("ports: enumeration on this machine returns without error", "[ports]") {
    const PortList list = EnumeratePorts();
    CHECK(list.error.empty());
    for (const PortInfo& p : list.ports) {
        CHECK_FALSE(p.name.empty());
        INFO(p.name << " " << p.description << " " << FormatUsbId(p.usb_vid, p.usb_pid));
    }
    const auto ranked = RankPorts(list.ports);
    CHECK(ranked.size() == list.ports.size());
    WARN("ports found: " << list.ports.size());
}
