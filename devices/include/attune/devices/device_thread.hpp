// DeviceThread: the one thread that talks to a sensor.
//
// It owns a Transport (made by a factory, so it can be made afresh after an unplug) and a
// ByteDecoder. It loops until Stop(): Read with a short timeout (<= 100 ms, so Stop() returns
// promptly), stamp the bytes with session time from the injected clock, feed the decoder, and
// push the resulting DeviceEvents into a lock-free SPSC queue that the UI / session thread
// drains (ThreadedSource::Poll). It never blocks on the consumer: when the queue is full,
// events are dropped and counted.
//
// Status and errors travel in the same queue as EventKind::Status events (text for the user):
//   "opened tty /tmp/fake @115200"                            value 0
//   "cannot open /dev/ttyACM0: No such file or directory (retrying every 0.25 s)"
//                                                              once per distinct error
//   "device lost: hung up"                                     value 0; t_s = when noticed
//   "device back after 3.2 s (gap 12.30-15.50 s): tty ..."     value = gap start t_s;
//                                                              t_s = gap end (reopened)
//   "no data for 5 s"                                          the device is quiet, not gone
//   "replay finished"                                          a finite source ended
//   "dropped N events: the reader is not keeping up"           value = N
//   "decoder error: ..."                                       the decoder threw; it is Reset()
//                                                              and reading goes on
//   "no readable text at 115200 baud: trying 9600"             value = the new baud (search)
//   "reading at 9600 baud"                                     value = baud; the search found it
//   "cannot answer the sketch's prompt: ..."                   writing the decoder's reply failed
//
// Replies: after each Feed the decoder's TakeReply() bytes (a "Press any key" answer) are written
// to the transport at once.
// Baud search (baud_search.hpp; on when config.baud_search.rates is non-empty): while the
// decoder's LinkVerdict() says Garbage for dwell_s, the next rate is set, the decoder Reset();
// once it says Understood the rate is kept, also for every reopened transport.
// Gaps are also kept as a list (Gaps()) so a session can record them.
//
// Quiet versus gone (see transport.hpp): Timeout from the transport is "quiet" and never
// triggers a reconnect; Gone/Error does. Linux reports an unplug at once (POLLHUP / EIO), so an
// unplug is noticed within one read timeout. The thread then retries every retry_interval_ms
// (default 250 ms): a new transport from the factory, told the lost device's identity, opens
// the same path — re-resolving symlinks — or, for a real serial port, the same USB VID:PID +
// serial number under another name. When it is back the decoder is Reset() (partial lines and
// timing are stale) and a Status marks the gap.
//
// Units: t_s in seconds of session time (from `clock`); all *_ms settings in milliseconds.
//
// Threading:
//  * Start(), Stop() and the destructor: the owning thread (one), not concurrently.
//  * Queue() consumer side (TryPop/Front/Pop): exactly one consumer thread.
//  * Counters(), Describe(), Gaps(), RequestWrite(), RequestBaud(): any thread.
//  * The factory, the clock and the decoder are called on the device thread only (the factory
//    also once in Start(), on the caller's thread, to learn the description early). The clock
//    must be safe to call from the device thread (e.g. steady_clock minus a constant origin).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "attune/devices/baud_search.hpp"
#include "attune/devices/source.hpp"
#include "attune/devices/spsc_queue.hpp"
#include "attune/devices/transport.hpp"

namespace attune::devices {

enum class DeviceState : int {
    Idle,        // not started
    Connecting,  // never opened yet; retrying
    Open,        // reading
    Lost,        // was open, went away; retrying
    Ended,       // a finite source (replay) delivered everything
    Stopped,     // Stop() was called
};
const char* DeviceStateName(DeviceState state);

// Written by the device thread, readable from any thread (relaxed atomics: each value is
// individually current, not a consistent snapshot).
struct DeviceCounters {
    std::atomic<std::uint64_t> bytes{0};           // bytes read from the transport
    std::atomic<std::uint64_t> events{0};          // events pushed into the queue
    std::atomic<std::uint64_t> dropped_events{0};  // events lost because the queue was full
    std::atomic<std::uint32_t> reconnects{0};      // successful reopenings after a loss
    std::atomic<std::uint32_t> open_failures{0};   // failed Open() attempts
    std::atomic<int> state{static_cast<int>(DeviceState::Idle)};
    std::atomic<double> last_data_t_s{-1.0};       // session time of the last bytes (-1: none)
    std::atomic<int> baud{0};                      // the transport's current rate (0: unknown / none)
    std::atomic<std::uint32_t> baud_changes{0};    // rate changes made by the baud search

    DeviceState State() const { return static_cast<DeviceState>(state.load(std::memory_order_relaxed)); }
};

struct DeviceGap {
    double start_t_s = 0.0;  // when the loss was noticed
    double end_t_s = 0.0;    // when the device was open again
};

using TransportFactory = std::function<std::unique_ptr<Transport>()>;
using SessionClock = std::function<double()>;  // session time t_s, seconds

struct DeviceThreadConfig {
    TransportFactory make_transport;       // required
    std::unique_ptr<ByteDecoder> decoder;  // required
    SessionClock clock;                    // required; called on the device thread
    std::size_t queue_capacity = 16384;    // events (rounded up to a power of two)
    int read_timeout_ms = 50;              // clamped to 1..100
    int retry_interval_ms = 250;           // between reopen attempts
    double quiet_warning_s = 5.0;          // "no data for N s" status; <= 0: never
    std::size_t read_chunk = 4096;         // bytes per Read
    std::string capture_path;              // non-empty: record raw bytes there (CaptureWriter)
    std::string thread_name = "attune-device";  // at most 15 characters are kept (Linux)
    BaudSearchParams baud_search;          // rates to try while the bytes are noise; empty: off
};

class DeviceThread {
public:
    explicit DeviceThread(DeviceThreadConfig config);
    ~DeviceThread();  // Stop()
    DeviceThread(const DeviceThread&) = delete;
    DeviceThread& operator=(const DeviceThread&) = delete;

    void Start();
    // Asks the thread to finish and joins it. Returns within about one read timeout (<= 100 ms)
    // whether connected or waiting to reconnect. Idempotent.
    void Stop();
    bool Running() const { return m_thread.joinable(); }

    SpscQueue<DeviceEvent>& Queue() { return m_queue; }
    const DeviceCounters& Counters() const { return m_counters; }
    std::string Describe() const;
    std::vector<DeviceGap> Gaps() const;

    // Sends bytes to the device (e.g. "\n" to answer "Press any key"); done by the device
    // thread at its next loop turn, or on the next open if not connected.
    void RequestWrite(std::string bytes);
    // Changes the baud rate (format detection trying 9600 after 115200, say).
    void RequestBaud(int baud);

private:
    void Run();
    void Push(DeviceEvent&& e);
    void PushStatus(double t_s, std::string text, double value = 0.0);
    void SetState(DeviceState s) { m_counters.state.store(static_cast<int>(s), std::memory_order_relaxed); }
    void SetDescribe(std::string text);
    bool WaitFor(int ms);  // false if stop was requested
    void ApplyRequests(Transport& t);

    DeviceThreadConfig m_cfg;
    SpscQueue<DeviceEvent> m_queue;
    DeviceCounters m_counters;
    std::thread m_thread;
    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_has_requests{false};  // a write or baud change is waiting
    std::unique_ptr<Transport> m_first;  // made in Start(), handed to the thread

    // Device-thread state.
    std::uint64_t m_unreported_drops = 0;

    mutable std::mutex m_mutex;  // guards the fields below
    std::condition_variable m_wake;
    std::string m_describe;
    std::vector<DeviceGap> m_gaps;
    std::string m_pending_write;
    int m_pending_baud = 0;
    int m_baud_override = 0;  // applied to every new transport once set
};

}  // namespace attune::devices
