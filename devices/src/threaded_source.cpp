#include "attune/devices/threaded_source.hpp"

namespace attune::devices {

namespace {
constexpr double kRateWindowS = 4.0;
// Consecutive sample stamps further apart than this: the sample clock restarted (a silence, or
// a burst after the host stalled); a window spanning it would misread the rate.
constexpr double kStampGapS = 0.25;
}

ThreadedSource::ThreadedSource(DeviceThreadConfig config, bool hold_future_events)
    : m_thread(std::move(config)), m_hold_future(hold_future_events) {
    m_thread.Start();
}

ThreadedSource::~ThreadedSource() { m_thread.Stop(); }

std::string ThreadedSource::Describe() const { return m_thread.Describe(); }

void ThreadedSource::NoteSample(double t_s) {
    const double prev = m_last_sample_t;
    m_last_sample_t = t_s;
    if (m_window_t0 >= 0.0 && (t_s - prev > kStampGapS || t_s < prev)) m_window_t0 = -1.0;
    if (m_window_t0 < 0.0) {
        m_window_t0 = t_s;
        m_window_n = 0;
        return;
    }
    ++m_window_n;
    const double span = t_s - m_window_t0;
    if (span >= kRateWindowS) {
        m_rate_hz = static_cast<double>(m_window_n) / span;
        m_window_t0 = t_s;
        m_window_n = 0;
    }
}

void ThreadedSource::Poll(double t_s, std::vector<DeviceEvent>& out) {
    SpscQueue<DeviceEvent>& q = m_thread.Queue();
    while (DeviceEvent* e = q.Front()) {
        if (m_hold_future && e->t_s > t_s) break;
        if (e->kind == EventKind::Sample) {
            NoteSample(e->t_s);
        } else if ((e->kind == EventKind::Status && e->text.rfind("device ", 0) == 0) || e->kind == EventKind::LeadsOff) {
            // "device lost" / "device back", or leads off (no samples until contact returns):
            // the rate window would span a gap and read low; start again.
            m_window_t0 = -1.0;
        }
        out.push_back(std::move(*e));
        q.Pop();
    }
}

}  // namespace attune::devices
