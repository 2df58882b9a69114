// Baud search: when a serial port delivers only noise, try the other common rates.
//
// Hobbyist sketches print at 115200 (PulseSensor, MAX3010x), 9600 (AD8232, MAX3010x Example 1)
// or 250000 (two-sensor PulseSensor examples); see shared/PROTOCOLS.md, "Detecting the format",
// step 4. At a wrong rate the bytes are noise (mostly unprintable, no line ends), which the
// decoder reports as ByteDecoder::Verdict::Garbage. This state machine decides when to move on:
//  * Garbage for dwell_s (3 s) at the current rate -> the next rate of the list (cyclic);
//  * Understood (a format is detected) -> done: stay at this rate for good (reconnects too);
//  * Undecided (quiet, banners, clean text not yet recognised) -> wait; the garbage timer
//    restarts, since clean text means the rate is probably right.
// After a whole cycle without success the dwell doubles (up to 4x) so a sensor that is merely
// slow to start is not hurried, and `cycled()` lets the caller tell the user once.
// Native-USB boards (Leonardo, ESP32-S2) ignore the rate; pseudo-terminals too: there the first
// rate already gives clean text and nothing changes.
//
// Pure logic: times are session seconds passed in by the caller (the device thread).
#pragma once

#include <vector>

namespace attune::devices {

// The order to try: the common sketch rates first (PROTOCOLS.md), then the rarer ones.
// 250000 (PulseSensor two-sensor examples) is missing: it is not a standard termios rate and
// both transports refuse it for now (IsStandardBaud); a termios2/BOTHER path would add it.
inline const std::vector<int>& DefaultBaudCandidates() {
    static const std::vector<int> rates = {115200, 9600, 57600, 230400, 38400, 19200, 500000, 4800};
    return rates;
}

struct BaudSearchParams {
    std::vector<int> rates;  // candidates; empty: search off
    double dwell_s = 3.0;    // garbage this long at one rate -> next rate
};

class BaudSearch {
public:
    BaudSearch() = default;
    explicit BaudSearch(BaudSearchParams params);

    bool enabled() const { return !m_p.rates.empty(); }
    bool done() const { return m_done; }
    bool cycled() const { return m_cycles > 0; }   // every rate was tried at least once
    int tries() const { return m_tries; }          // rate changes so far

    // The port is open (again) at `baud` at time t_s (also after a rate change the caller made).
    void Begin(int baud, double t_s);
    // Feeds the decoder's verdict at time t_s. Returns the rate to switch to now, or 0 to stay.
    // The caller applies it, resets the decoder and calls Begin(rate, t_s).
    int Update(bool understood, bool garbage, double t_s);

    // The transport refused `baud` (a rate it cannot set): never offer it again.
    void Drop(int baud);
    const std::vector<int>& rates() const { return m_p.rates; }

private:
    BaudSearchParams m_p;
    int m_index = 0;             // position in m_p.rates of the current rate
    double m_garbage_since = -1.0;
    double m_dwell_s = 3.0;
    int m_tries = 0, m_cycles = 0;
    bool m_done = false;
};

}  // namespace attune::devices
