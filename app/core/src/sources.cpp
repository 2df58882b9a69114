#include "attune/core/sources.hpp"

#include <cstdlib>

#include "attune/devices/formats.hpp"
#include "attune/devices/replay_transport.hpp"
#include "attune/devices/serial_transport.hpp"
#include "attune/devices/simulated_pulse_sensor.hpp"
#include "attune/devices/tty_transport.hpp"

namespace attune::core {

namespace {

bool ParseNumber(const std::string& s, double& out) {
    if (s.empty()) return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end && *end == '\0';
}

}  // namespace

std::optional<SourceSpec> ParseSourceSpec(const std::string& text, std::string& error) {
    SourceSpec spec;
    if (text == "sim") return spec;
    if (text == "auto") {
        spec.kind = SourceSpec::Kind::Auto;
        return spec;
    }
    const auto colon = text.find(':');
    if (colon == std::string::npos) {
        error = "'" + text + "' is not a source: use sim, auto, serial:PORT[@BAUD], tty:PATH[@BAUD] or replay:FILE[@SPEED]";
        return std::nullopt;
    }
    const std::string kind = text.substr(0, colon);
    std::string rest = text.substr(colon + 1);
    std::string suffix;
    if (const auto at = rest.rfind('@'); at != std::string::npos) {
        suffix = rest.substr(at + 1);
        rest = rest.substr(0, at);
    }
    if (rest.empty()) {
        error = "'" + text + "' names no port or file";
        return std::nullopt;
    }
    spec.path = rest;
    double number = 0.0;
    if (kind == "serial" || kind == "tty") {
        spec.kind = kind == "serial" ? SourceSpec::Kind::Serial : SourceSpec::Kind::Tty;
        if (!suffix.empty()) {
            if (!ParseNumber(suffix, number) || !devices::IsStandardBaud(static_cast<int>(number)) ||
                number != static_cast<int>(number)) {
                error = "'" + suffix + "' is not a standard baud rate (e.g. 9600, 115200, 250000)";
                return std::nullopt;
            }
            spec.baud = static_cast<int>(number);
        }
    } else if (kind == "replay") {
        spec.kind = SourceSpec::Kind::Replay;
        if (!suffix.empty()) {
            if (!ParseNumber(suffix, number) || !(number > 0.0) || number > 10000.0) {
                error = "'" + suffix + "' is not a replay speed (a number above 0, e.g. 1 or 20)";
                return std::nullopt;
            }
            spec.speed = number;
        }
    } else {
        error = "unknown source kind '" + kind + "' (use serial, tty or replay)";
        return std::nullopt;
    }
    return spec;
}

bool IsLikelySensorPort(const devices::RankedPort& port) { return port.score >= 80; }

MadeSource MakeSource(const SourceOptions& o) {
    MadeSource made;
    SourceSpec spec = o.spec;
    if (spec.kind == SourceSpec::Kind::Auto) {
        const auto list = devices::EnumeratePorts();
        std::vector<devices::RankedPort> likely;
        for (const auto& p : devices::RankPorts(list.ports))
            if (IsLikelySensorPort(p)) likely.push_back(p);
        if (likely.size() == 1) {
            spec.kind = SourceSpec::Kind::Serial;
            spec.path = likely.front().info.name;
            made.note = "found a sensor on " + spec.path + " (" + likely.front().hint + ")";
        } else {
            spec.kind = SourceSpec::Kind::Sim;
            made.note = likely.empty() ? "no sensor found: simulated heart"
                                       : std::to_string(likely.size()) + " possible sensors: choose one; simulated heart meanwhile";
        }
    }
    if (spec.kind == SourceSpec::Kind::Sim) {
        auto sim = std::make_unique<devices::SimulatedPulseSensor>(o.sim);
        made.decoder = &sim->decoder();
        made.source = std::move(sim);
        return made;
    }
    devices::DeviceThreadConfig cfg;
    const std::string path = spec.path;
    const int baud = spec.baud;
    made.baud = spec.kind == SourceSpec::Kind::Replay ? 0 : baud;
    switch (spec.kind) {
        case SourceSpec::Kind::Serial:
            cfg.make_transport = [path, baud] { return std::make_unique<devices::SerialTransport>(path, baud); };
            break;
        case SourceSpec::Kind::Tty:
            cfg.make_transport = [path, baud] { return std::make_unique<devices::TtyTransport>(path, baud); };
            break;
        default: {
            devices::ReplayOptions ro;
            ro.speed = spec.speed;
            ro.allow_truncated_tail = true;
            cfg.make_transport = [path, ro] { return std::make_unique<devices::ReplayTransport>(path, ro); };
            break;
        }
    }
    auto decoder = std::make_unique<devices::SensorDecoder>(o.decoder);
    made.decoder = decoder.get();
    cfg.decoder = std::move(decoder);
    cfg.clock = o.clock;
    cfg.capture_path = o.capture_path;
    auto threaded = std::make_unique<devices::ThreadedSource>(std::move(cfg));
    made.threaded = threaded.get();
    made.source = std::move(threaded);
    return made;
}

SourceReport ReportSource(const MadeSource& made) {
    SourceReport r;
    r.baud = made.baud;
    if (made.decoder) {
        const auto& s = made.decoder->stats();
        r.format = devices::FormatId(s.format);
        r.sample_rate_hz = s.sample_rate_hz;
        r.lines = s.lines;
        r.unparsed_lines = s.unparsed_lines;
    }
    if (made.threaded) r.reconnects = made.threaded->Counters().reconnects.load();
    return r;
}

}  // namespace attune::core
