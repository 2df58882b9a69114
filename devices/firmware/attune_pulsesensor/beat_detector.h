// Beat detection for the PulseSensor sketch, kept free of Arduino headers so the same code
// runs in the sketch's timer interrupt and in Attune's host tests (tests/devices/test_firmware.cpp).
//
// The state machine follows PulseSensor Playground's processLatestSample(), so the B/Q lines
// mean what hobbyists expect from that library:
//   - track the peak P (above the threshold) and the trough T (below it, once 3/5 of the last
//     interval has passed, so the dicrotic notch is not taken for a trough);
//   - a beat is the upward threshold crossing at least 250 ms and 3/5 of the last interval
//     after the previous beat;
//   - when the signal falls back below the threshold, the threshold moves half-way between
//     P and T of the pulse that just ended;
//   - the first beat after a (re)start only starts the clock; the second seeds the 10-interval
//     history; BPM = 60000 / mean of the last 10 intervals;
//   - after 2.5 s without a beat, everything resets.
// Four deliberate differences, all for interval accuracy (HRV needs a few ms; Playground's
// first intervals after a start can be 10-15 ms off, and its beat times move in 2 ms steps):
//   1. The beat time is interpolated between the two samples that straddle the threshold
//      (1/16 ms resolution), instead of being the later sample's time.
//   2. An interval is reported only when both of its beats crossed a threshold learned from a
//      whole pulse: after a (re)start the first crossing is against a default, and a threshold
//      change between two crossings shifts the interval. So the first BPM comes on the third
//      beat rather than the second. The first learned threshold uses the lowest point since
//      the restart as the trough (Playground only tracks it from 3/5 of the 600 ms placeholder).
//   3. The first beat after a (re)start leaves the interval at Playground's 600 ms placeholder:
//      Playground takes the time since the restart as the interval, and 3/5 of that (up to
//      1.5 s) then hides the next beat or two.
//   4. On the 2.5 s reset Playground goes back to a fixed threshold (550) and P = T = 512, so a
//      sensor whose signal sits entirely above or below 550 never finds a beat. Here the reset
//      threshold is the middle of the range seen during the silent 2.5 s, when that range is
//      large enough to be a pulse; otherwise the fixed default.
// The refractory rules (250 ms, 3/5 of the last interval) and the 2.5 s reset use the sample
// clock, as Playground does.
//
// Integer arithmetic only (no float on the AVR, where it costs flash and time in the ISR); the
// one division per beat is 16-bit. C++11, no allocation, about 50 bytes of state.
#ifndef ATTUNE_FIRMWARE_BEAT_DETECTOR_H
#define ATTUNE_FIRMWARE_BEAT_DETECTOR_H

#include <stdint.h>

namespace attune_fw {

class BeatDetector {
public:
    static const uint8_t kHistory = 10;           // intervals averaged for BPM
    static const uint16_t kMinBeatGapMs = 250;    // 240 bpm ceiling; rejects fast noise
    static const uint16_t kNoBeatResetMs = 2500;  // give up on the rhythm after this long
    static const int16_t kDefaultThreshold = 550; // Playground's default for a 10-bit ADC
    static const int16_t kMinResetRange = 50;     // smaller swings (5% of the ADC) are noise, not pulse

    // sample_interval_ms: 1 to 4 (500 Hz is 2); the interpolation arithmetic is sized for that.
    explicit BeatDetector(uint8_t sample_interval_ms = 2) : interval_ms_(sample_interval_ms) {
        sample_clock_ms_ = 0;
        restart(kDefaultThreshold);
    }

    // Feeds one ADC reading (taken every sample_interval_ms). Returns true when this sample
    // completes a quantified beat: bpm() and ibi() then hold its values.
    bool addSample(int16_t signal) {
        sample_clock_ms_ += interval_ms_;
        const int16_t previous = previous_signal_;
        previous_signal_ = signal;
        const uint32_t since_beat = sample_clock_ms_ - last_beat_ms_;
        // 3/5 of the last interval, as Playground computes it (integer division first).
        const uint32_t refractory = static_cast<uint32_t>(ibi_ / 5) * 3;
        bool quantified = false;

        if (signal < window_min_) window_min_ = signal;
        if (signal > window_max_) window_max_ = signal;

        if (signal < threshold_ && since_beat > refractory && signal < trough_) trough_ = signal;
        if (signal > threshold_ && signal > peak_) peak_ = signal;

        if (since_beat > kMinBeatGapMs && signal > threshold_ && !in_pulse_ && since_beat > refractory) {
            in_pulse_ = true;
            const uint32_t beat_16 = crossingTime16(previous, signal);
            const bool counts = previous_beat_counts_ && threshold_learned_;
            if (have_previous_beat_) {
                // Rounded to whole ms. Until intervals count, this only feeds the 3/5 rule.
                ibi_ = static_cast<uint16_t>((beat_16 - last_beat_16_ + 8) >> 4);
            }
            // else: the time since a restart is no interval. Playground takes it as one, and its
            // 3/5 rule (up to 1.5 s) then hides the next beat; keep the 600 ms placeholder instead.
            have_previous_beat_ = true;
            last_beat_ms_ = sample_clock_ms_;
            last_beat_16_ = beat_16;
            previous_beat_counts_ = threshold_learned_;
            if (!counts) {
                // Only starts the clock. If no threshold has been learned yet, take the lowest
                // point since the restart as this pulse's trough.
                if (!threshold_learned_ && window_min_ < trough_) trough_ = window_min_;
                window_min_ = window_max_ = signal;
                history_seeded_ = false;
                return false;
            }
            window_min_ = window_max_ = signal;
            if (!history_seeded_) {
                // The first real interval stands in for the 9 older ones (Playground's seeding).
                history_seeded_ = true;
                for (uint8_t i = 0; i < kHistory; ++i) history_[i] = ibi_;
            }
            uint16_t total = 0;  // at most 10 x 2500 ms: fits 16 bits
            for (uint8_t i = 0; i + 1 < kHistory; ++i) {
                history_[i] = history_[i + 1];
                total += history_[i];
            }
            history_[kHistory - 1] = ibi_;
            total += ibi_;
            bpm_ = static_cast<uint16_t>(60000u / (total / kHistory));
            quantified = true;
        }

        if (signal < threshold_ && in_pulse_) {
            // The pulse is over: re-centre the threshold on the wave just seen.
            in_pulse_ = false;
            const int16_t amplitude = peak_ - trough_;
            threshold_ = trough_ + amplitude / 2;
            peak_ = trough_ = threshold_;
            threshold_learned_ = true;
        }

        if (since_beat > kNoBeatResetMs) {
            const int16_t range = window_max_ - window_min_;
            // static_cast: use the constant's value without needing an out-of-class definition.
            const int16_t threshold = range >= kMinResetRange ? static_cast<int16_t>(window_min_ + range / 2)
                                                              : static_cast<int16_t>(kDefaultThreshold);
            restart(threshold);  // also restarts the no-beat clock
        }
        return quantified;
    }

    uint16_t bpm() const { return bpm_; }         // 0 until the second beat after a (re)start
    uint16_t ibi() const { return ibi_; }         // ms; 600 placeholder before the first interval
    int16_t threshold() const { return threshold_; }
    uint32_t clockMs() const { return sample_clock_ms_; }

private:
    // When the signal crossed the threshold, in 1/16 ms on the sample clock: linear
    // interpolation between the previous and this sample. If the previous sample was already
    // above the threshold (the crossing came during the refractory time) use this sample's time.
    uint32_t crossingTime16(int16_t previous, int16_t signal) const {
        const uint32_t now_16 = sample_clock_ms_ << 4;
        if (previous > threshold_ || previous >= signal) return now_16;
        // (16 * interval) * 1023 < 65536 for intervals up to 4 ms: a 16-bit division.
        const uint16_t rise = static_cast<uint16_t>(signal - previous);
        const uint16_t above = static_cast<uint16_t>(signal - threshold_);
        const uint16_t ago_16 = static_cast<uint16_t>(static_cast<uint16_t>(interval_ms_ << 4) * above) / rise;
        return now_16 - ago_16;
    }

    void restart(int16_t threshold) {
        threshold_ = threshold;
        peak_ = trough_ = threshold;
        window_min_ = 32767;
        window_max_ = -32768;
        have_previous_beat_ = false;
        previous_beat_counts_ = false;
        threshold_learned_ = false;
        history_seeded_ = false;
        in_pulse_ = false;
        bpm_ = 0;
        ibi_ = 600;  // Playground's placeholder: makes the first refractory period 360 ms
        last_beat_ms_ = sample_clock_ms_;
        last_beat_16_ = sample_clock_ms_ << 4;
        for (uint8_t i = 0; i < kHistory; ++i) history_[i] = 0;
    }

    uint8_t interval_ms_;
    bool have_previous_beat_ = false;    // a beat since the last restart
    bool previous_beat_counts_ = false;  // the last beat crossed a learned threshold
    bool threshold_learned_ = false;     // the threshold came from a whole pulse
    bool history_seeded_ = false;
    bool in_pulse_ = false;
    int16_t threshold_ = kDefaultThreshold;
    int16_t peak_ = 0;
    int16_t trough_ = 0;
    int16_t window_min_ = 0;  // range since the last beat or reset, for the adaptive reset
    int16_t window_max_ = 0;
    int16_t previous_signal_ = 0;
    uint16_t bpm_ = 0;
    uint16_t ibi_ = 600;
    uint32_t sample_clock_ms_ = 0;
    uint32_t last_beat_ms_ = 0;   // sample time of the last beat (refractory and reset rules)
    uint32_t last_beat_16_ = 0;   // interpolated time of the last beat, 1/16 ms (intervals)
    uint16_t history_[kHistory] = {};
};

}  // namespace attune_fw

#endif  // ATTUNE_FIRMWARE_BEAT_DETECTOR_H
