#include "attune/devices/device_thread.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

#include "attune/devices/replay_transport.hpp"

namespace attune::devices {

namespace {

std::string Seconds(double s, int decimals) {
    char b[48];
    std::snprintf(b, sizeof b, "%.*f", decimals, s);
    return b;
}

}  // namespace

const char* DeviceStateName(DeviceState state) {
    switch (state) {
        case DeviceState::Idle: return "idle";
        case DeviceState::Connecting: return "connecting";
        case DeviceState::Open: return "open";
        case DeviceState::Lost: return "lost";
        case DeviceState::Ended: return "ended";
        case DeviceState::Stopped: return "stopped";
    }
    return "?";
}

DeviceThread::DeviceThread(DeviceThreadConfig config)
    : m_cfg(std::move(config)), m_queue(std::max<std::size_t>(m_cfg.queue_capacity, 2)) {
    m_cfg.read_timeout_ms = std::clamp(m_cfg.read_timeout_ms, 1, 100);
    m_cfg.retry_interval_ms = std::max(m_cfg.retry_interval_ms, 1);
    m_cfg.read_chunk = std::max<std::size_t>(m_cfg.read_chunk, 64);
}

DeviceThread::~DeviceThread() { Stop(); }

void DeviceThread::Start() {
    if (m_thread.joinable()) return;
    m_stop.store(false);
    if (!m_cfg.make_transport || !m_cfg.decoder || !m_cfg.clock) {
        SetDescribe("(misconfigured device thread)");
        SetState(DeviceState::Stopped);
        return;
    }
    // Made here so Describe() is right from the start; opened on the device thread.
    m_first = m_cfg.make_transport();
    if (m_first) SetDescribe(m_first->Describe());
    SetState(DeviceState::Connecting);
    m_thread = std::thread([this] { Run(); });
}

void DeviceThread::Stop() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop.store(true);
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
    if (m_counters.State() != DeviceState::Idle) SetState(DeviceState::Stopped);
}

std::string DeviceThread::Describe() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_describe;
}

std::vector<DeviceGap> DeviceThread::Gaps() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_gaps;
}

void DeviceThread::RequestWrite(std::string bytes) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending_write += bytes;
    m_has_requests.store(true, std::memory_order_release);
}

void DeviceThread::RequestBaud(int baud) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending_baud = baud;
    m_has_requests.store(true, std::memory_order_release);
}

void DeviceThread::SetDescribe(std::string text) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_describe = std::move(text);
}

bool DeviceThread::WaitFor(int ms) {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_wake.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_stop.load(); });
    return !m_stop.load();
}

void DeviceThread::Push(DeviceEvent&& e) {
    if (m_unreported_drops > 0 && m_queue.HasRoom()) {
        DeviceEvent s;
        s.kind = EventKind::Status;
        s.t_s = e.t_s;
        s.value = static_cast<double>(m_unreported_drops);
        s.text = "dropped " + std::to_string(m_unreported_drops) + " events: the reader is not keeping up";
        if (m_queue.TryPush(std::move(s))) {
            m_unreported_drops = 0;
            m_counters.events.fetch_add(1, std::memory_order_relaxed);
        }
    }
    if (m_queue.TryPush(std::move(e))) {
        m_counters.events.fetch_add(1, std::memory_order_relaxed);
    } else {
        ++m_unreported_drops;
        m_counters.dropped_events.fetch_add(1, std::memory_order_relaxed);
    }
}

void DeviceThread::PushStatus(double t_s, std::string text, double value) {
    DeviceEvent e;
    e.kind = EventKind::Status;
    e.t_s = t_s;
    e.value = value;
    e.text = std::move(text);
    Push(std::move(e));
}

void DeviceThread::ApplyRequests(Transport& t) {
    // Lock-free check on the hot path; the mutex only when something was asked for.
    if (!m_has_requests.load(std::memory_order_acquire)) return;
    std::string write;
    int baud = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_has_requests.store(false, std::memory_order_relaxed);
        write.swap(m_pending_write);
        baud = m_pending_baud;
        m_pending_baud = 0;
        if (baud > 0) m_baud_override = baud;
    }
    if (baud > 0) {
        const std::string err = t.SetBaud(baud);
        if (err.empty()) {
            m_counters.baud.store(t.Baud(), std::memory_order_relaxed);
            SetDescribe(t.Describe());
            PushStatus(m_cfg.clock(), "baud " + std::to_string(baud) + ": " + t.Describe());
        } else {
            PushStatus(m_cfg.clock(), "cannot change baud: " + err);
        }
    }
    if (!write.empty()) {
        const std::string err = t.Write(write);
        if (!err.empty()) PushStatus(m_cfg.clock(), "cannot write to the device: " + err);
    }
}

void DeviceThread::Run() {
    {
        const std::string name = m_cfg.thread_name.substr(0, 15);
        pthread_setname_np(pthread_self(), name.c_str());
    }
    const SessionClock& clock = m_cfg.clock;
    ByteDecoder& decoder = *m_cfg.decoder;

    CaptureWriter capture;
    if (!m_cfg.capture_path.empty()) {
        if (std::string err = capture.Open(m_cfg.capture_path); !err.empty()) PushStatus(clock(), err);
    }

    std::vector<std::uint8_t> buf(m_cfg.read_chunk);
    std::vector<DeviceEvent> decoded;
    decoded.reserve(1024);

    std::unique_ptr<Transport> transport;
    TransportIdentity last_identity;
    bool ever_opened = false;
    double lost_at = 0.0;
    std::string last_open_error;
    bool quiet_warned = false;
    BaudSearch search(m_cfg.baud_search);
    bool search_cycle_warned = false;

    // Baud search step: called after each read (data or not), with the time of that read.
    auto step_search = [&](Transport& t, double now) {
        if (!search.enabled() || search.done()) return;
        const ByteDecoder::Verdict v = decoder.LinkVerdict();
        const int next = search.Update(v == ByteDecoder::Verdict::Understood, v == ByteDecoder::Verdict::Garbage, now);
        if (search.done()) {
            if (search.tries() > 0) PushStatus(now, "reading at " + std::to_string(t.Baud()) + " baud", t.Baud());
            return;
        }
        if (next <= 0) return;
        const int from = t.Baud();
        if (std::string err = t.SetBaud(next); !err.empty()) {
            PushStatus(now, "cannot change baud: " + err + " (skipping that rate)");
            search.Drop(next);
            search.Begin(from, now);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_baud_override = next;
        }
        decoder.Reset();  // partial lines and the garbage verdict belong to the old rate
        search.Begin(next, now);
        m_counters.baud.store(t.Baud(), std::memory_order_relaxed);
        m_counters.baud_changes.fetch_add(1, std::memory_order_relaxed);
        SetDescribe(t.Describe());
        PushStatus(now, "no readable text at " + std::to_string(from) + " baud: trying " + std::to_string(next), next);
        if (search.cycled() && !search_cycle_warned) {
            search_cycle_warned = true;
            PushStatus(now, "no baud rate gave readable text yet: check the sketch's Serial.begin() rate, the board and the cable (still trying)");
        }
    };

    while (!m_stop.load(std::memory_order_relaxed)) {
        // ---- (re)open ---------------------------------------------------------------------
        if (!transport) {
            std::unique_ptr<Transport> t = m_first ? std::move(m_first) : m_cfg.make_transport();
            if (!t) {
                if (last_open_error != "no transport") PushStatus(clock(), "cannot create the transport");
                last_open_error = "no transport";
                WaitFor(m_cfg.retry_interval_ms);
                continue;
            }
            if (ever_opened) t->SetReconnectTarget(last_identity);
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                if (m_baud_override > 0) (void)t->SetBaud(m_baud_override);
            }
            const std::string err = t->Open();
            if (!err.empty()) {
                m_counters.open_failures.fetch_add(1, std::memory_order_relaxed);
                if (err != last_open_error) {
                    PushStatus(clock(), err + " (retrying every " + Seconds(m_cfg.retry_interval_ms / 1000.0, 2) +
                                            " s)");
                    last_open_error = err;
                }
                WaitFor(m_cfg.retry_interval_ms);
                continue;
            }
            transport = std::move(t);
            last_open_error.clear();
            const double now = clock();
            const std::string desc = transport->Describe();
            SetDescribe(desc);
            last_identity = transport->Identity();
            std::string opened = desc;
            if (!last_identity.resolved_path.empty() && last_identity.resolved_path != last_identity.path) {
                opened += " (" + last_identity.resolved_path + ")";
            }
            if (!ever_opened) {
                ever_opened = true;
                PushStatus(now, "opened " + opened);
                if (capture.IsOpen()) (void)capture.Note("opened " + opened, now);
            } else {
                decoder.Reset();
                m_counters.reconnects.fetch_add(1, std::memory_order_relaxed);
                {
                    std::lock_guard<std::mutex> lock(m_mutex);
                    m_gaps.push_back(DeviceGap{lost_at, now});
                }
                std::string text = "device back after " + Seconds(now - lost_at, 1) + " s (gap " +
                                   Seconds(lost_at, 2) + "-" + Seconds(now, 2) + " s): " + opened;
                if (capture.IsOpen()) (void)capture.Note(text, now);
                PushStatus(now, std::move(text), lost_at);
            }
            m_counters.last_data_t_s.store(now, std::memory_order_relaxed);
            m_counters.baud.store(transport->Baud(), std::memory_order_relaxed);
            search.Begin(transport->Baud(), now);
            quiet_warned = false;
            SetState(DeviceState::Open);
            continue;
        }

        ApplyRequests(*transport);

        // ---- read -------------------------------------------------------------------------
        const ReadResult r = transport->Read(buf.data(), buf.size(), m_cfg.read_timeout_ms);
        switch (r.status) {
            case ReadStatus::Ok: {
                const double t = clock();
                m_counters.bytes.fetch_add(r.bytes, std::memory_order_relaxed);
                m_counters.last_data_t_s.store(t, std::memory_order_relaxed);
                if (capture.IsOpen()) {
                    if (std::string err = capture.Write(buf.data(), r.bytes, t); !err.empty()) {
                        PushStatus(t, err + " (capture stopped)");
                        capture.Close();
                    }
                }
                decoded.clear();
                try {
                    decoder.Feed(buf.data(), r.bytes, t, decoded);
                } catch (const std::exception& ex) {
                    // A decoder bug must not take the app down (an exception escaping a thread
                    // calls std::terminate): report it, keep what was decoded, start afresh.
                    PushStatus(t, std::string("decoder error: ") + ex.what());
                    decoder.Reset();
                }
                for (DeviceEvent& e : decoded) Push(std::move(e));
                decoded.clear();
                quiet_warned = false;
                if (std::string reply = decoder.TakeReply(); !reply.empty()) {
                    // "Press any key": the sketch waits in setup() until a byte arrives.
                    // The decoder already said so in a Status event; only a failure is news.
                    if (std::string err = transport->Write(reply); !err.empty())
                        PushStatus(t, "cannot answer the sketch's prompt: " + err);
                }
                step_search(*transport, t);
                break;
            }
            case ReadStatus::Timeout: {
                if (search.enabled() && !search.done()) step_search(*transport, clock());
                if (m_cfg.quiet_warning_s > 0.0 && !quiet_warned) {
                    const double now = clock();
                    const double last = m_counters.last_data_t_s.load(std::memory_order_relaxed);
                    if (now - last >= m_cfg.quiet_warning_s) {
                        PushStatus(now, "no data for " + Seconds(now - last, 0) + " s");
                        quiet_warned = true;
                    }
                }
                break;
            }
            case ReadStatus::Ended: {
                const double now = clock();
                PushStatus(now, transport->IsFinite() ? "replay finished" : "the device ended the stream");
                if (capture.IsOpen()) (void)capture.Note("ended", now);
                transport->Close();
                SetState(DeviceState::Ended);
                // Nothing more will come: idle until stopped.
                while (WaitFor(1000)) {
                }
                break;
            }
            case ReadStatus::Gone:
            case ReadStatus::Error: {
                lost_at = clock();
                last_identity = transport->Identity();
                transport->Close();
                transport.reset();
                SetState(DeviceState::Lost);
                const std::string why = r.error.empty() ? "gone" : r.error;
                PushStatus(lost_at, "device lost: " + why);
                if (capture.IsOpen()) (void)capture.Note("device lost: " + why, lost_at);
                last_open_error.clear();
                // Do not hammer a device that is still going away: first retry after the interval.
                WaitFor(m_cfg.retry_interval_ms);
                break;
            }
        }
    }
    if (transport) transport->Close();
    capture.Close();
}

}  // namespace attune::devices
