// Choosing the heart-data source from the command line or the UI:
//   sim                     the simulated heart, printing PulseSensor bytes through the decoder
//   serial:PORT[@BAUD]      a real serial port through libserialport (default 115200)
//   tty:PATH[@BAUD]         any tty path through termios (pseudo-terminals, /dev/rfcomm*)
//   replay:FILE[@SPEED]     a raw capture (--capture) or a plain byte file, at SPEED x (default 1)
//   auto                    the remembered device (settings' last_device) when it is present,
//                           else the single likely sensor port if there is exactly one, else sim
// Serial and tty sources without @BAUD search the baud rate when only noise arrives
// (devices/baud_search.hpp); with @BAUD the rate is the user's and stays.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "attune/core/settings.hpp"
#include "attune/devices/ports.hpp"
#include "attune/devices/sensor_decoder.hpp"
#include "attune/devices/simulated_heart.hpp"
#include "attune/devices/source.hpp"
#include "attune/devices/threaded_source.hpp"

namespace attune::core {

struct SourceSpec {
    enum class Kind { Sim, Serial, Tty, Replay, Auto };
    Kind kind = Kind::Sim;
    std::string path;
    int baud = 115200;
    bool baud_given = false;  // @BAUD was written: no baud search
    double speed = 1.0;
};

// nullopt and `error` set when the text is not one of the forms above.
std::optional<SourceSpec> ParseSourceSpec(const std::string& text, std::string& error);

// Ports worth calling a sensor in `auto`: Arduino, CH34x, FTDI (score >= 80 in ports.cpp's ranking).
bool IsLikelySensorPort(const devices::RankedPort& port);

// What `auto` resolves to: the remembered device if it is among `ports` (same USB VID:PID and
// serial number; without a serial number the same VID:PID at the same path, or the only port
// with that VID:PID; for a remembered tty path, `path_exists`), else the single likely sensor
// port, else the simulated heart. `note` tells the user which and why.
struct AutoChoice {
    SourceSpec spec;
    std::string note;
    bool remembered = false;
};
AutoChoice ChooseAutoSource(const std::vector<devices::RankedPort>& ports, const std::optional<RememberedDevice>& last,
                            const std::function<bool(const std::string&)>& path_exists);

// The device to remember for a serial/tty spec the user chose: its USB identity looked up in
// `ports` by name (symlinks resolved). nullopt for sim, replay and auto.
std::optional<RememberedDevice> DeviceToRemember(const SourceSpec& spec, const std::vector<devices::RankedPort>& ports);

struct SourceOptions {
    SourceSpec spec;
    devices::SimParams sim;
    std::string capture_path;             // raw bytes received, for bug reports and replay
    std::function<double()> clock;        // session time for device threads (required for hardware)
    devices::DecoderConfig decoder;       // forced format, channel, polarity
    std::optional<RememberedDevice> remembered;  // settings' last_device, preferred by `auto`
};

struct MadeSource {
    std::unique_ptr<devices::Source> source;
    std::string note;                          // e.g. "no sensor found: simulated heart"
    const devices::SensorDecoder* decoder = nullptr;  // read only when no thread runs (see below)
    devices::ThreadedSource* threaded = nullptr;      // hardware/replay sources
    int baud = 0;                              // the rate asked for (the search may change it)
    SourceSpec resolved;                       // what was opened (auto resolved)
    // The current baud: the device thread's (after a baud search) or the one asked for.
    int CurrentBaud() const;
};

// Builds the source. For threaded sources the decoder lives on the device thread: read its
// stats only after threaded->Stop().
MadeSource MakeSource(const SourceOptions& options);

// One-line JSON-able summary of the decoding side, for `--json` of headless runs.
struct SourceReport {
    std::string format;        // detected format id (e.g. "pulsesensor-visualizer") or "unknown"
    int baud = 0;
    double sample_rate_hz = 0.0;
    std::uint64_t lines = 0;
    std::uint64_t unparsed_lines = 0;
    std::uint64_t reconnects = 0;
};
SourceReport ReportSource(const MadeSource& made);

}  // namespace attune::core
