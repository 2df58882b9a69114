// Choosing the heart-data source from the command line or the UI:
//   sim                     the simulated heart, printing PulseSensor bytes through the decoder
//   serial:PORT[@BAUD]      a real serial port through libserialport (default 115200)
//   tty:PATH[@BAUD]         any tty path through termios (pseudo-terminals, /dev/rfcomm*)
//   replay:FILE[@SPEED]     a raw capture (--capture) or a plain byte file, at SPEED x (default 1)
//   auto                    the single likely sensor port if there is exactly one, else sim
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

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
    double speed = 1.0;
};

// nullopt and `error` set when the text is not one of the forms above.
std::optional<SourceSpec> ParseSourceSpec(const std::string& text, std::string& error);

// Ports worth calling a sensor in `auto`: Arduino, CH34x, FTDI (score >= 80 in ports.cpp's ranking).
bool IsLikelySensorPort(const devices::RankedPort& port);

struct SourceOptions {
    SourceSpec spec;
    devices::SimParams sim;
    std::string capture_path;             // raw bytes received, for bug reports and replay
    std::function<double()> clock;        // session time for device threads (required for hardware)
    devices::DecoderConfig decoder;       // forced format, channel, polarity
};

struct MadeSource {
    std::unique_ptr<devices::Source> source;
    std::string note;                          // e.g. "no sensor found: simulated heart"
    const devices::SensorDecoder* decoder = nullptr;  // read only when no thread runs (see below)
    devices::ThreadedSource* threaded = nullptr;      // hardware/replay sources
    int baud = 0;
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
