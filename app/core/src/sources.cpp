#include "attune/core/sources.hpp"

#include <cstdlib>
#include <filesystem>

#include "attune/devices/formats.hpp"
#include "attune/devices/replay_transport.hpp"
#include "attune/devices/serial_transport.hpp"
#include "attune/devices/simulated_pulse_sensor.hpp"
#include "attune/devices/tty_transport.hpp"
#include "json_util.hpp"

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
        error = detail::QuotedText(text) + " is not a source: use sim, auto, serial:PORT[@BAUD], tty:PATH[@BAUD] or replay:FILE[@SPEED]";
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
        error = detail::QuotedText(text) + " names no port or file";
        return std::nullopt;
    }
    spec.path = rest;
    double number = 0.0;
    if (kind == "serial" || kind == "tty") {
        spec.kind = kind == "serial" ? SourceSpec::Kind::Serial : SourceSpec::Kind::Tty;
        if (!suffix.empty()) {
            if (!ParseNumber(suffix, number) || !devices::IsStandardBaud(static_cast<int>(number)) ||
                number != static_cast<int>(number)) {
                error = detail::QuotedText(suffix) + " is not a standard baud rate (e.g. 9600, 115200, 250000)";
                return std::nullopt;
            }
            spec.baud = static_cast<int>(number);
            spec.baud_given = true;
        }
    } else if (kind == "replay") {
        spec.kind = SourceSpec::Kind::Replay;
        if (!suffix.empty()) {
            if (!ParseNumber(suffix, number) || !(number > 0.0) || number > 10000.0) {
                error = detail::QuotedText(suffix) + " is not a replay speed (a number above 0, e.g. 1 or 20)";
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

namespace {

std::string Resolved(const std::string& path) {
    std::error_code ec;
    const auto p = std::filesystem::canonical(path, ec);
    return ec ? path : p.string();
}

}  // namespace

AutoChoice ChooseAutoSource(const std::vector<devices::RankedPort>& ports, const std::optional<RememberedDevice>& last,
                            const std::function<bool(const std::string&)>& path_exists) {
    AutoChoice c;
    if (last && !last->path.empty()) {
        const RememberedDevice& d = *last;
        const devices::RankedPort* hit = nullptr;
        if (d.usb_vid >= 0 && d.usb_pid >= 0) {
            std::vector<const devices::RankedPort*> same_id;
            for (const auto& p : ports)
                if (p.info.usb_vid == d.usb_vid && p.info.usb_pid == d.usb_pid) same_id.push_back(&p);
            for (const auto* p : same_id)
                if (!d.serial_number.empty() && p->info.serial_number == d.serial_number) hit = p;
            if (!hit && d.serial_number.empty()) {
                for (const auto* p : same_id)
                    if (p->info.name == d.path) hit = p;
                if (!hit && same_id.size() == 1) hit = same_id.front();
            }
        } else if (d.kind == "serial") {
            for (const auto& p : ports)
                if (p.info.name == d.path) hit = &p;
        }
        if (hit) {
            c.spec.kind = d.kind == "tty" ? SourceSpec::Kind::Tty : SourceSpec::Kind::Serial;
            c.spec.path = hit->info.name;
            if (d.baud > 0) {
                c.spec.baud = d.baud;
                c.spec.baud_given = true;
            }
            c.remembered = true;
            c.note = "using the last sensor, " + hit->info.name + (hit->hint.empty() ? "" : " (" + hit->hint + ")");
            return c;
        }
        if (d.kind == "tty" && d.usb_vid < 0 && path_exists && path_exists(d.path)) {
            c.spec.kind = SourceSpec::Kind::Tty;
            c.spec.path = d.path;
            if (d.baud > 0) {
                c.spec.baud = d.baud;
                c.spec.baud_given = true;
            }
            c.remembered = true;
            c.note = "using the last sensor, " + d.path;
            return c;
        }
    }
    std::vector<const devices::RankedPort*> likely;
    for (const auto& p : ports)
        if (IsLikelySensorPort(p)) likely.push_back(&p);
    if (likely.size() == 1) {
        c.spec.kind = SourceSpec::Kind::Serial;
        c.spec.path = likely.front()->info.name;
        c.note = "found a sensor on " + c.spec.path + " (" + likely.front()->hint + ")";
    } else {
        c.spec.kind = SourceSpec::Kind::Sim;
        c.note = likely.empty() ? "no sensor found: simulated heart"
                                : std::to_string(likely.size()) + " possible sensors: choose one; simulated heart meanwhile";
    }
    return c;
}

std::optional<RememberedDevice> DeviceToRemember(const SourceSpec& spec, const std::vector<devices::RankedPort>& ports) {
    if ((spec.kind != SourceSpec::Kind::Serial && spec.kind != SourceSpec::Kind::Tty) || spec.path.empty()) return std::nullopt;
    RememberedDevice d;
    d.kind = spec.kind == SourceSpec::Kind::Tty ? "tty" : "serial";
    d.path = spec.path;
    d.baud = spec.baud_given ? spec.baud : 0;
    const std::string real = Resolved(spec.path);
    for (const auto& p : ports) {
        if (p.info.name != spec.path && Resolved(p.info.name) != real) continue;
        d.usb_vid = p.info.usb_vid;
        d.usb_pid = p.info.usb_pid;
        d.serial_number = p.info.serial_number;
        d.description = p.hint.empty() ? p.info.description : p.hint;
        break;
    }
    return d;
}

int MadeSource::CurrentBaud() const {
    if (threaded) {
        const int b = threaded->Counters().baud.load(std::memory_order_relaxed);
        if (b > 0 && baud > 0) return b;
    }
    return baud;
}

MadeSource MakeSource(const SourceOptions& o) {
    MadeSource made;
    SourceSpec spec = o.spec;
    if (spec.kind == SourceSpec::Kind::Auto) {
        const auto list = devices::EnumeratePorts();
        AutoChoice c = ChooseAutoSource(devices::RankPorts(list.ports), o.remembered, [](const std::string& p) {
            std::error_code ec;
            return std::filesystem::exists(p, ec);
        });
        spec = c.spec;
        made.note = c.note;
    }
    made.resolved = spec;
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
    if ((spec.kind == SourceSpec::Kind::Serial || spec.kind == SourceSpec::Kind::Tty) && !spec.baud_given)
        cfg.baud_search.rates = devices::DefaultBaudCandidates();
    auto threaded = std::make_unique<devices::ThreadedSource>(std::move(cfg));
    made.threaded = threaded.get();
    made.source = std::move(threaded);
    return made;
}

SourceReport ReportSource(const MadeSource& made) {
    SourceReport r;
    r.baud = made.CurrentBaud();
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
