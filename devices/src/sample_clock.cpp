#include "attune/devices/sample_clock.hpp"

#include <algorithm>
#include <cmath>

namespace attune::devices {

namespace {

// Chan et al.'s pairwise combination of running means and co-moments.
void Merge(double& n, double& mx, double& my, double& sxx, double& sxy, double n2, double mx2, double my2,
           double sxx2, double sxy2) {
    if (n2 <= 0) return;
    if (n <= 0) {
        n = n2, mx = mx2, my = my2, sxx = sxx2, sxy = sxy2;
        return;
    }
    const double tot = n + n2;
    const double dx = mx2 - mx, dy = my2 - my;
    const double w = n * n2 / tot;
    sxx += sxx2 + dx * dx * w;
    sxy += sxy2 + dx * dy * w;
    mx += dx * n2 / tot;
    my += dy * n2 / tot;
    n = tot;
}

}  // namespace

SampleClock::SampleClock(SampleClockParams params) : m_p(params) {
    m_p.bucket_s = std::max(0.01, m_p.bucket_s);
    m_ring_capacity = std::clamp(static_cast<int>(std::lround(m_p.window_s / m_p.bucket_s)), 2, kMaxBuckets);
    m_p.max_rate_hz = std::max(m_p.max_rate_hz, m_p.min_rate_hz);
    Reset();
}

void SampleClock::Reset() {
    m_mode = Mode::None;
    m_count = 0;
    m_x_ref = 0.0;
    m_has_slope = false;
    m_slope = 0.0;
    m_trim = 0.0;
    m_anchored = false;
    m_c = 0.0;
    m_last_stamp = m_last_arrival = m_last_x = 0.0;
    m_stamped = false;
    m_block_open = false;
    m_rate_hz = 0.0;
    m_ring_head = m_ring_size = 0;
    m_cur = Bucket{};
    m_cur_open = false;
    m_pending_n = 0;
}

double SampleClock::sample_rate_hz() const {
    if (m_p.nominal_rate_hz > 0.0) return m_p.nominal_rate_hz;
    return m_rate_hz;
}

void SampleClock::Restart() {
    m_pending_n = 0;
    m_ring_head = m_ring_size = 0;
    m_cur = Bucket{};
    m_cur_open = false;
    m_block_open = false;
    if (m_anchored) ++m_reanchors;
    m_anchored = false;
}

void SampleClock::Interrupt() {
    if (m_stamped) Restart();
}

double SampleClock::Stamp(double arrival_s) {
    if (m_mode != Mode::Index) {
        if (m_mode == Mode::Device) Reset();
        m_mode = Mode::Index;
        if (m_p.nominal_rate_hz > 0.0) {
            m_has_slope = true;
            m_slope = 1.0 / std::clamp(m_p.nominal_rate_hz, m_p.min_rate_hz, m_p.max_rate_hz);
        }
    }
    const double x = static_cast<double>(m_count);
    ++m_count;
    return StampAt(x, arrival_s);
}

double SampleClock::StampDevice(double device_s, double arrival_s) {
    if (m_mode != Mode::Device) {
        if (m_mode == Mode::Index) Reset();
        m_mode = Mode::Device;
        m_has_slope = true;  // device seconds are host seconds to within a crystal's error
        m_slope = 1.0;
        m_x_ref = device_s;
    } else if (device_s < m_last_x || device_s - m_last_x > m_p.gap_s) {
        // The board restarted (millis() from 0) or skipped: a new timeline.
        Restart();
        m_x_ref = device_s;
    }
    ++m_count;
    return StampAt(device_s, arrival_s);
}

double SampleClock::StampAt(double x, double a) {
    if (m_stamped && a - m_last_arrival > m_p.gap_s) Restart();
    // Arrival times from the caller should not go backwards; if they do, hold the last one.
    if (m_stamped) a = std::max(a, m_last_arrival);
    if (m_mode == Mode::Index && !m_anchored && m_ring_size == 0 && !m_cur_open) m_x_ref = x;
    const double xr = x - m_x_ref;

    Accumulate(xr, a);

    double stamp = a;
    if (m_has_slope) {
        if (!m_anchored) {
            m_trim = 0.0;
            m_lag_size = 0;
            m_c = a - m_slope * xr;
            m_anchored = true;
            m_block_open = false;
        }
        double p = m_c + (m_slope + m_trim) * xr;
        const double lag = a - p;
        if (lag < 0.0) {  // earlier than the envelope: this line carries less delay
            m_c += lag;
            p = a;
            for (int i = 0; i < m_lag_size; ++i) m_lag_history[static_cast<std::size_t>(i)] -= lag;
        }
        if (!m_block_open) {
            m_block_open = true;
            m_block_start = a;
            m_block_x0 = xr;
            m_block_min_lag = std::max(lag, 0.0);
        } else {
            m_block_min_lag = std::min(m_block_min_lag, std::max(lag, 0.0));
        }
        if (a - m_block_start >= m_p.check_s) {
            if (m_block_min_lag > m_p.max_lag_s) {
                // Stamps fell behind every arrival (lines lost, or the rate drifted): move
                // forward, and measure afresh, since the window now spans a broken timeline.
                SetTrim(0.0, xr);
                m_c += m_block_min_lag;
                p = m_c + m_slope * xr;
                ++m_reanchors;
                m_ring_head = m_ring_size = 0;
                m_cur_open = false;
                m_pending_n = 0;
                m_lag_size = 0;
            } else if (xr > m_block_x0) {
                // A small lag that every recent block shows (the measured rate is a hair high):
                // close half of it over the next block by trimming the spacing, not by jumping.
                // Using the least lag of several blocks keeps the stamps near the long-term
                // envelope, so a rare quick line (a new least delay) seldom pushes them back.
                m_lag_history[static_cast<std::size_t>(m_lag_head)] = m_block_min_lag;
                m_lag_head = (m_lag_head + 1) % kLagHistory;
                m_lag_size = std::min(m_lag_size + 1, kLagHistory);
                double lift = m_block_min_lag;
                for (int i = 0; i < m_lag_size; ++i) lift = std::min(lift, m_lag_history[static_cast<std::size_t>(i)]);
                // At most 0.5 % of the spacing, so the stamps stay evenly spaced meanwhile.
                SetTrim(std::min(0.5 * lift / (xr - m_block_x0), 0.005 * m_slope), xr);
                for (int i = 0; i < m_lag_size; ++i) m_lag_history[static_cast<std::size_t>(i)] -= 0.5 * lift;
            }
            m_block_open = false;
        }
        stamp = p;
    }
    if (m_stamped) stamp = std::max(stamp, m_last_stamp);
    m_last_stamp = stamp;
    m_last_arrival = a;
    m_last_x = x;
    m_stamped = true;
    return stamp;
}

void SampleClock::SetTrim(double trim, double xr) {
    // Keep the stamp at xr where it is; only the spacing from here on changes.
    m_c += (m_trim - trim) * xr;
    m_trim = trim;
}

void SampleClock::Accumulate(double x, double a) {
    // Lines delivered together share one arrival time, and only the last of them arrived with
    // the least delay (the others waited in the adapter), so only it enters the fit. Fitting the
    // whole staircase of bursts would bias the slope by about 1/k^2 for k bursts in the window.
    if (m_pending_n > 0 && a == m_pending_a) {
        m_pending_x = x;
        ++m_pending_n;
        return;
    }
    if (m_pending_n > 0) Commit(m_pending_x, m_pending_a, m_pending_n);
    m_pending_x = x;
    m_pending_a = a;
    m_pending_n = 1;
}

void SampleClock::Commit(double x, double a, int samples) {
    if (m_cur_open && a >= m_cur.t_start + m_p.bucket_s) CloseBucket();
    if (!m_cur_open) {
        m_cur = Bucket{};
        m_cur.t_start = a;
        m_cur.x_first = x;
        m_cur_open = true;
    }
    // Welford update of means and co-moments.
    m_cur.n += 1.0;
    m_cur.samples += samples;
    const double dx = x - m_cur.mx;
    m_cur.mx += dx / m_cur.n;
    const double dy = a - m_cur.my;
    m_cur.my += dy / m_cur.n;
    m_cur.sxx += dx * (x - m_cur.mx);
    m_cur.sxy += dx * (a - m_cur.my);
    m_cur.x_last = x;
}

void SampleClock::CloseBucket() {
    const int idx = (m_ring_head + m_ring_size) % m_ring_capacity;
    if (m_ring_size < m_ring_capacity) {
        m_ring[static_cast<std::size_t>(idx)] = m_cur;
        ++m_ring_size;
    } else {
        m_ring[static_cast<std::size_t>(m_ring_head)] = m_cur;
        m_ring_head = (m_ring_head + 1) % m_ring_capacity;
    }
    m_cur_open = false;
    UpdateSlope();
}

void SampleClock::UpdateSlope() {
    if (m_ring_size == 0) return;
    double n = 0, mx = 0, my = 0, sxx = 0, sxy = 0, samples = 0;
    for (int i = 0; i < m_ring_size; ++i) {
        const Bucket& b = m_ring[static_cast<std::size_t>((m_ring_head + i) % m_ring_capacity)];
        Merge(n, mx, my, sxx, sxy, b.n, b.mx, b.my, b.sxx, b.sxy);
        samples += b.samples;
    }
    const Bucket& first = m_ring[static_cast<std::size_t>(m_ring_head)];
    const Bucket& last = m_ring[static_cast<std::size_t>((m_ring_head + m_ring_size - 1) % m_ring_capacity)];
    const double arrival_span = (last.t_start + m_p.bucket_s) - first.t_start;
    const double x_span = last.x_last - first.x_first;
    if (n < 3 || samples < m_p.min_samples || arrival_span < m_p.min_span_s || sxx <= 0.0 || x_span <= 0.0) return;

    double slope = sxy / sxx;
    if (m_mode == Mode::Index) {
        if (m_p.nominal_rate_hz > 0.0) {
            m_rate_hz = m_p.nominal_rate_hz;
            return;
        }
        if (!(slope > 0.0)) return;
        slope = std::clamp(slope, 1.0 / m_p.max_rate_hz, 1.0 / m_p.min_rate_hz);
        m_rate_hz = 1.0 / slope;
    } else {
        slope = std::clamp(slope, 0.9, 1.1);  // crystals and resonators are within a few 0.1 %
        m_rate_hz = (n - 1.0) / x_span / slope * (samples / n);
    }
    if (m_anchored) {
        // Keep the stamp of the newest sample where it was; only the spacing from here on changes.
        m_c += (m_slope - slope) * (m_last_x - m_x_ref);
    }
    m_slope = slope;
    m_has_slope = true;
}

}  // namespace attune::devices
