// ThreadedSource: a Source backed by a DeviceThread (a real sensor on a serial port or tty,
// or a replayed capture). The device thread reads and decodes; Poll() hands the decoded events
// to the session.
//
// Poll(t_s, out) appends, in arrival order, every queued event stamped at or before t_s (the
// Source contract: "every event up to t_s"); later ones stay queued for the next Poll. For this
// the device thread's clock must be the same session clock the caller uses for t_s — give both
// the same origin (e.g. steady_clock at session start). Set `hold_future_events = false` to
// hand over everything available regardless of its stamp.
//
// SampleRateHz() is measured from the Sample events that went through Poll (count over a window
// of at least 4 s; 0 until then). A loss/reconnect or a LeadsOff restarts the window but keeps
// the last estimate, since the same sensor (and rate) is expected back; so does a jump of more
// than 0.25 s between consecutive sample stamps (the sample clock restarted after a silence or
// a host stall), which would otherwise read as a rate change and restart the beat detector.
//
// Threading: construct, Poll, Describe, SampleRateHz and destroy on one thread (the session /
// UI thread: the queue's single consumer). Counters() and Thread().Gaps() are safe anywhere.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attune/devices/device_thread.hpp"
#include "attune/devices/source.hpp"

namespace attune::devices {

class ThreadedSource final : public Source {
public:
    // Starts the device thread at once.
    explicit ThreadedSource(DeviceThreadConfig config, bool hold_future_events = true);
    ~ThreadedSource() override;  // stops the thread (returns within ~100 ms)

    std::string Describe() const override;  // "serial /dev/ttyACM0 @115200", "tty /tmp/fake @115200"
    double SampleRateHz() const override { return m_rate_hz; }
    void Poll(double t_s, std::vector<DeviceEvent>& out) override;

    const DeviceCounters& Counters() const { return m_thread.Counters(); }
    DeviceThread& Thread() { return m_thread; }
    void Stop() { m_thread.Stop(); }

private:
    void NoteSample(double t_s);

    DeviceThread m_thread;
    bool m_hold_future = true;
    // Sample-rate estimate.
    double m_rate_hz = 0.0;
    double m_window_t0 = -1.0;
    std::uint64_t m_window_n = 0;
    double m_last_sample_t = 0.0;
};

}  // namespace attune::devices
