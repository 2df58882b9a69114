// What every heart-data source (simulated heart, serial sensor, replay) hands to the pipeline.
// Times are seconds since the session started (t_s), on the session's monotonic time base.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attune::devices {

enum class EventKind {
    Sample,    // one waveform sample: value in the sensor's raw units (ADC counts)
    Beat,      // a beat reported by the sensor itself: value = inter-beat interval in ms (0 if unknown)
    LeadsOff,  // electrodes off / no finger: the waveform is not usable until the next Sample
    Status,    // a message for the user (text)
    Format,    // the decoder settled on a sensor format: text = its FormatId ("ad8232", "" when the
               // lock was lost); value = 1 when the waveform dips on each beat (optical MAX3010x
               // channels: negate before peak detection), else 0. Sent when either changes.
};

struct DeviceEvent {
    EventKind kind = EventKind::Sample;
    double t_s = 0.0;
    double value = 0.0;
    std::string text;  // only for Status and Format
};

// A source of heart data. Poll(t_s) appends every event up to session time t_s. Live hardware
// reports what arrived; the simulator and replay generate exactly up to t_s, so a session
// driven at any speed (or in a test) gives the same events for the same times.
class Source {
public:
    virtual ~Source() = default;
    virtual std::string Describe() const = 0;  // e.g. "Simulated heart", "serial /dev/ttyACM0 @115200"
    virtual bool IsSimulated() const { return false; }
    virtual double SampleRateHz() const = 0;  // nominal or measured waveform rate; 0 if beat-only
    virtual void Poll(double t_s, std::vector<DeviceEvent>& out) = 0;
    // The simulated heart behind this source, if any (so the session can make it breathe with
    // the pacer); nullptr for hardware.
    virtual class SimulatedHeart* simulated_heart() { return nullptr; }
};

// Turns raw bytes from a transport into events (the line framer + format detector + decoder
// implement it). `t_s` is the session time at which the bytes arrived. Deterministic: the same
// bytes with the same arrival times give the same events.
class ByteDecoder {
public:
    virtual ~ByteDecoder() = default;
    virtual void Feed(const std::uint8_t* data, std::size_t n, double t_s, std::vector<DeviceEvent>& out) = 0;
    // Forget partial lines and timing after a reconnect or a baud change (the format lock may
    // be kept). The verdict below starts afresh.
    virtual void Reset() = 0;

    // Bytes the device thread should send to the sensor now (e.g. "\n" to answer a "Press any
    // key" banner); the decoder forgets them once taken. Default: nothing to send.
    virtual std::string TakeReply() { return {}; }

    // How the bytes since the last Reset() look, for the device thread's baud search.
    enum class Verdict {
        Undecided,   // nothing yet, quiet, or clean text that is not (yet) a known format
        Understood,  // a format is detected: the baud rate is right
        Garbage,     // noise (unprintable bytes, no line ends): probably the wrong baud rate
    };
    virtual Verdict LinkVerdict() const { return Verdict::Undecided; }
};

}  // namespace attune::devices
