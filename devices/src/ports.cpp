#include "attune/devices/ports.hpp"

#include "path_util.hpp"

#include <libserialport.h>

#include <algorithm>
#include <cstdio>

namespace attune::devices {

namespace {

std::string Str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

using detail::BaseName;

std::string LastError() {
    char* msg = sp_last_error_message();
    std::string out = Str(msg);
    sp_free_error_message(msg);
    return out;
}

}  // namespace

PortKind ClassifyPort(const PortInfo& p) {
    const bool has_usb_id = p.usb_vid >= 0 && p.usb_pid >= 0;
    if (has_usb_id) {
        switch (p.usb_vid) {
            case 0x2341:
            case 0x2A03:
                return PortKind::Arduino;
            case 0x1A86:
                if (p.usb_pid == 0x7523 || p.usb_pid == 0x5523) return PortKind::Ch34x;
                break;
            case 0x0403:
                if (p.usb_pid == 0x6001 || p.usb_pid == 0x6015 || p.usb_pid == 0x6014 || p.usb_pid == 0x6010) {
                    return PortKind::Ftdi;
                }
                break;
            case 0x10C4:
                if (p.usb_pid == 0xEA60) return PortKind::Cp210x;
                break;
            default:
                break;
        }
        return PortKind::OtherUsb;
    }
    const std::string base = BaseName(p.name);
    switch (p.transport) {
        case PortTransport::Usb:
            return PortKind::OtherUsb;
        case PortTransport::Bluetooth:
            return PortKind::Bluetooth;
        case PortTransport::Native:
        case PortTransport::Unknown:
            break;
    }
    // Without USB details, fall back on the kernel's naming.
    if (StartsWith(base, "ttyACM") || StartsWith(base, "ttyUSB")) return PortKind::OtherUsb;
    if (StartsWith(base, "rfcomm")) return PortKind::Bluetooth;
    if (StartsWith(base, "ttyS") || StartsWith(base, "ttyAMA") || p.transport == PortTransport::Native) {
        return PortKind::Native;
    }
    return PortKind::Unknown;
}

int PortScore(PortKind kind) {
    switch (kind) {
        case PortKind::Arduino: return 100;
        case PortKind::Ch34x: return 90;
        case PortKind::Ftdi: return 80;
        case PortKind::Cp210x: return 60;
        case PortKind::OtherUsb: return 40;
        case PortKind::Bluetooth: return 30;
        case PortKind::Unknown: return 20;
        case PortKind::Native: return 10;
    }
    return 0;
}

std::string PortKindName(PortKind kind) {
    switch (kind) {
        case PortKind::Arduino: return "Arduino";
        case PortKind::Ch34x: return "CH340/CH341 USB-serial";
        case PortKind::Ftdi: return "FTDI USB-serial";
        case PortKind::Cp210x: return "CP210x USB-serial (also used by non-Arduino devices)";
        case PortKind::OtherUsb: return "USB serial device";
        case PortKind::Bluetooth: return "Bluetooth serial";
        case PortKind::Unknown: return "serial port";
        case PortKind::Native: return "built-in serial port (rarely a sensor)";
    }
    return "serial port";
}

std::string FormatUsbId(int vid, int pid) {
    if (vid < 0 || pid < 0) return {};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04X:%04X", static_cast<unsigned>(vid) & 0xFFFFu,
                  static_cast<unsigned>(pid) & 0xFFFFu);
    return buf;
}

std::vector<RankedPort> RankPorts(const std::vector<PortInfo>& ports) {
    std::vector<RankedPort> out;
    out.reserve(ports.size());
    for (const PortInfo& p : ports) {
        RankedPort r;
        r.info = p;
        r.kind = ClassifyPort(p);
        r.score = PortScore(r.kind);
        r.hint = PortKindName(r.kind);
        const std::string id = FormatUsbId(p.usb_vid, p.usb_pid);
        if (!id.empty()) r.hint += " (" + id + ")";
        out.push_back(std::move(r));
    }
    std::stable_sort(out.begin(), out.end(), [](const RankedPort& a, const RankedPort& b) {
        if (a.score != b.score) return a.score > b.score;
        return a.info.name < b.info.name;
    });
    return out;
}

PortList EnumeratePorts() {
    PortList result;
    sp_port** list = nullptr;
    const sp_return rc = sp_list_ports(&list);
    if (rc != SP_OK) {
        result.error = "cannot list serial ports";
        if (rc == SP_ERR_FAIL) {
            const std::string msg = LastError();
            if (!msg.empty()) result.error += ": " + msg;
        } else if (rc == SP_ERR_SUPP) {
            result.error += ": not supported on this system";
        } else if (rc == SP_ERR_MEM) {
            result.error += ": out of memory";
        }
        if (list != nullptr) sp_free_port_list(list);
        return result;
    }
    for (sp_port** it = list; it != nullptr && *it != nullptr; ++it) {
        sp_port* port = *it;
        PortInfo info;
        info.name = Str(sp_get_port_name(port));
        info.description = Str(sp_get_port_description(port));
        switch (sp_get_port_transport(port)) {
            case SP_TRANSPORT_NATIVE: info.transport = PortTransport::Native; break;
            case SP_TRANSPORT_USB: info.transport = PortTransport::Usb; break;
            case SP_TRANSPORT_BLUETOOTH: info.transport = PortTransport::Bluetooth; break;
        }
        if (info.transport == PortTransport::Usb) {
            int vid = -1;
            int pid = -1;
            if (sp_get_port_usb_vid_pid(port, &vid, &pid) == SP_OK) {
                info.usb_vid = vid;
                info.usb_pid = pid;
            }
            info.manufacturer = Str(sp_get_port_usb_manufacturer(port));
            info.product = Str(sp_get_port_usb_product(port));
            info.serial_number = Str(sp_get_port_usb_serial(port));
        }
        if (!info.name.empty() && info.name[0] != '/') info.name = "/dev/" + info.name;
        result.ports.push_back(std::move(info));
    }
    sp_free_port_list(list);
    return result;
}

std::optional<PortInfo> FindPortByIdentity(const std::vector<PortInfo>& ports, const TransportIdentity& id) {
    if (!id.HasUsbId()) return std::nullopt;
    std::optional<PortInfo> only;
    int same_id = 0;
    for (const PortInfo& p : ports) {
        if (p.usb_vid != id.usb_vid || p.usb_pid != id.usb_pid) continue;
        if (!id.serial_number.empty()) {
            if (p.serial_number == id.serial_number) return p;
            continue;
        }
        ++same_id;
        only = p;
    }
    if (id.serial_number.empty() && same_id == 1) return only;
    return std::nullopt;
}

}  // namespace attune::devices
