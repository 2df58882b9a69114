// Session times for waveform samples of a serial sensor.
//
// Why: lines do not arrive when they were sampled. USB-serial adapters and native-USB boards
// deliver bytes in bursts (an FTDI chip flushes every 16 ms, a CDC-ACM endpoint in 64-byte
// packets), so arrival times jitter by tens of milliseconds, and the sketch's own rate is only
// nominal (PulseSensor prints "about every 20 ms"; the AD8232 sketch runs as fast as 9600 baud
// lets it, ~190 lines/s). Beat-to-beat intervals need better than that (shared/PROTOCOLS.md,
// "Detecting the format" step 6: measure the rate from line arrival over a few seconds;
// shared/DESIGN.md: "waveform sample times come from the sample index and the measured sample
// rate, anchored to the host clock").
//
// How:
//  * Rate: least-squares line of arrival time against sample index over a sliding window
//    (default 4 s, kept as 16 buckets of running sums, so O(1) per sample and no allocation).
//    Of the lines delivered together (same arrival time) only the last enters the fit: it
//    waited least, so bursts do not bias the slope.
//  * Anchor: stamps are t = c + x * slope, with c on the lower envelope of the arrivals (a line
//    never arrives before it was printed, so the earliest-arriving lines carry the least delay).
//    A stamp is never later than its line's arrival, and stamps never go backwards.
//  * Drift: a small lag that persists over a second (the measured rate a hair off) is closed
//    gently by trimming the spacing; when every line of the last second arrived more than
//    max_lag_s after its stamp (lines lost), the anchor jumps forward (counted in reanchors()).
//    A silence longer than gap_s restarts the measurement (the rate found so far is kept).
//  * Printed timestamps (a millis() column, "T="): StampDevice() uses the device clock as the
//    abscissa instead of the index, with the device/host clock ratio measured the same way
//    (crystal error is up to ~0.5 %), so samples keep the sensor's own spacing.
// Before the rate is measured (the first min_span_s), stamps are the arrival times.
#pragma once

#include <array>
#include <cstdint>

namespace attune::devices {

struct SampleClockParams {
    double window_s = 4.0;        // regression window, seconds of arrival time (<= 32 buckets of bucket_s)
    double bucket_s = 0.25;       // granularity of the window and of rate updates
    double min_span_s = 1.0;      // arrivals spanning less than this: no rate yet
    int min_samples = 8;
    double max_lag_s = 0.25;      // re-anchor when the least delay over check_s exceeds this
    double check_s = 1.0;
    double gap_s = 1.0;           // silence (or a device-time jump) longer than this restarts measuring
    double nominal_rate_hz = 0.0; // > 0: the rate is known (replay, configured), do not measure it
    double min_rate_hz = 0.2, max_rate_hz = 20000.0;
};

class SampleClock {
public:
    explicit SampleClock(SampleClockParams params = {});

    // The next sample (index count()) arrived at session time arrival_s; returns its stamp.
    double Stamp(double arrival_s);
    // A sample the sketch timestamped itself: device_s on the device clock (seconds).
    double StampDevice(double device_s, double arrival_s);
    // A sample slot went by without a usable value (an unreadable line in a one-sample-per-line
    // stream): keeps the index in step with the sensor.
    void SkipSample() { ++m_count; }
    // The sensor stopped sampling for a while (leads off, no finger): the next sample starts a
    // new anchor and measurement window; the rate found so far is kept.
    void Interrupt();
    void Reset();

    double sample_rate_hz() const;   // measured samples per second (nominal if given), 0 if not yet known
    bool measured() const { return m_has_slope; }
    std::int64_t count() const { return m_count; }
    double last_stamp_s() const { return m_last_stamp; }
    bool has_stamp() const { return m_stamped; }
    int reanchors() const { return m_reanchors; }

private:
    enum class Mode { None, Index, Device };
    struct Bucket {
        double n = 0, mx = 0, my = 0, sxx = 0, sxy = 0;  // Welford running means and co-moments
        double samples = 0;                              // samples behind the n points
        double t_start = 0;
        double x_first = 0, x_last = 0;
    };
    static constexpr int kMaxBuckets = 32;

    double StampAt(double x, double arrival_s);
    void Accumulate(double x, double a);
    void Commit(double x, double a, int samples);
    void CloseBucket();
    void UpdateSlope();
    void Restart();  // discontinuity: new measurement window, new anchor
    void SetTrim(double trim, double xr);

    SampleClockParams m_p;
    Mode m_mode = Mode::None;
    std::int64_t m_count = 0;
    double m_x_ref = 0.0;           // abscissa origin (keeps the sums small)
    bool m_has_slope = false;
    double m_slope = 0.0;           // session seconds per abscissa unit
    bool m_anchored = false;
    double m_c = 0.0;               // stamp = m_c + m_slope * (x - m_x_ref)
    double m_last_stamp = 0.0, m_last_arrival = 0.0, m_last_x = 0.0;
    bool m_stamped = false;
    double m_trim = 0.0;            // small spacing correction that keeps stamps on the envelope
    static constexpr int kLagHistory = 8;
    std::array<double, kLagHistory> m_lag_history{};  // least lag of recent blocks
    int m_lag_head = 0, m_lag_size = 0;
    double m_block_start = 0.0, m_block_x0 = 0.0, m_block_min_lag = 0.0;
    bool m_block_open = false;
    int m_reanchors = 0;
    double m_rate_hz = 0.0;

    std::array<Bucket, kMaxBuckets> m_ring{};
    int m_ring_head = 0, m_ring_size = 0, m_ring_capacity = 16;
    Bucket m_cur;
    bool m_cur_open = false;
    double m_pending_x = 0.0, m_pending_a = 0.0;  // the latest arrival's last sample, not yet fitted
    int m_pending_n = 0;
};

}  // namespace attune::devices
