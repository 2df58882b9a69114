// Serial port enumeration (libserialport) and ranking by how likely a port is a pulse sensor.
//
// Ranking (a pure function, tested on fake lists): Arduino boards (USB VID 2341, 2A03) first;
// then the USB-serial chips on Arduino clones and hobby boards — CH340/CH341 (1A86:7523,
// 1A86:5523), FTDI (0403:6001, 6015, 6014, 6010); CP210x (10C4:EA60) after them, a weaker hint
// because many non-Arduino gadgets use it; then any other USB serial device (and ttyACM*/ttyUSB*
// names whose USB details are unknown); then Bluetooth serial; built-in UARTs (ttyS*, native)
// last — they almost never carry a sensor. The identifiers are only a hint: the decoder confirms
// a sensor by what it sends.
//
// Enumeration reads /sys/class/tty through libserialport; it lists only ports with a driver, so
// pseudo-terminals never appear (open them by path with TtyTransport). It never throws: a
// failure comes back as an error text with an empty list.
//
// Threading: all functions are reentrant; EnumeratePorts does file-system work (a few ms), so
// call it from a worker or at start-up rather than every frame.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "attune/devices/transport.hpp"

namespace attune::devices {

enum class PortTransport { Unknown, Native, Usb, Bluetooth };

struct PortInfo {
    std::string name;         // e.g. "/dev/ttyACM0"
    std::string description;  // libserialport's one-line description
    PortTransport transport = PortTransport::Unknown;
    int usb_vid = -1;  // -1 when unknown / not USB
    int usb_pid = -1;
    std::string manufacturer;
    std::string product;
    std::string serial_number;
};

enum class PortKind { Arduino, Ch34x, Ftdi, Cp210x, OtherUsb, Bluetooth, Unknown, Native };

struct RankedPort {
    PortInfo info;
    PortKind kind = PortKind::Unknown;
    int score = 0;     // higher = more likely a sensor
    std::string hint;  // e.g. "Arduino (2341:0043)", "CH340/CH341 USB-serial (1A86:7523)"
};

// Classification and score of one port (pure).
PortKind ClassifyPort(const PortInfo& port);
int PortScore(PortKind kind);
std::string PortKindName(PortKind kind);

// Most likely first; ties keep a stable order by name (pure).
std::vector<RankedPort> RankPorts(const std::vector<PortInfo>& ports);

// "2341:0043" (upper-case hex, 4 digits each), or "" when unknown.
std::string FormatUsbId(int vid, int pid);

struct PortList {
    std::vector<PortInfo> ports;
    std::string error;  // empty on success (an empty list is not an error)
};

// Lists the serial ports the OS knows, via libserialport.
PortList EnumeratePorts();

// The port that is the same USB device as `id`: same VID:PID and serial number; when `id` has
// no serial number, the only port with that VID:PID. nullopt when none (or ambiguous).
std::optional<PortInfo> FindPortByIdentity(const std::vector<PortInfo>& ports, const TransportIdentity& id);

}  // namespace attune::devices
