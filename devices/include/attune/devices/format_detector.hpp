// Which format is this sensor printing? Follows shared/PROTOCOLS.md, "Detecting the format":
//  1. After the port opens, allow settle_s (2 s) for the board to reset and print its banner:
//     lines are classified but no lock is taken.
//  2. Then classify each line (formats.hpp ClassifyLine) and keep the last window_lines (20)
//     votes: visualizer letters, numeric CSV rows by column count, each labelled format; a
//     banner takes a slot but votes for no format; a header line ("Timestamp,Red,IR") is
//     remembered to name CSV columns; '!' lines are counted apart (below).
//  3. Lock when the most common format holds lock_lines (10) of the recent lines and at least
//     agree_fraction (60 %) of them, or, after window_s (3 s) of looking, at least 2 lines and
//     60 % (slow sketches: "BPM: 72" once a beat). Numeric rows are then told apart by their
//     values (ResolveNumericFormat).
//  4. While locked, every line either fits or is counted as unparsed. When unlock_misfits (12)
//     of the last 20 lines do not fit, the stream has changed (another sketch after a reset):
//     unlock and look again. A banner printed again after a board reset is only a few lines
//     and does not unlock.
// A forced format (the user's choice) is locked from the start and never unlocks.
//
// `!` lines: the AD8232 sketch prints one per loop while a lead is off (>= ~100 lines/s at 9600
// baud); PulseSensorPlayground examples print one every 100 ms when the library fails to start.
// Without data lines the two are told apart by their rate (bang_leads_off_hz, 30 lines/s).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "attune/devices/formats.hpp"
#include "attune/devices/line_framer.hpp"

namespace attune::devices {

struct DetectorParams {
    double settle_s = 2.0;
    int window_lines = 20;          // 4..64
    double window_s = 3.0;
    int lock_lines = 10;
    double agree_fraction = 0.6;
    int unlock_misfits = 12;
    double bang_leads_off_hz = 30.0;
    bool operator==(const DetectorParams&) const = default;
};

enum class DetectState : std::uint8_t {
    Waiting,    // nothing arrived yet
    Settling,   // within settle_s of the first bytes
    Searching,  // classifying lines, no lock
    Locked,
};

// Why nothing (or what) is detected, for the UI.
enum class Diagnosis : std::uint8_t {
    Waiting,        // no bytes yet
    Settling,       // the board is (probably) resetting and printing its banner
    NoLineEnds,     // bytes without line endings: wrong baud rate?
    Unprintable,    // mostly unprintable bytes: wrong baud rate?
    OnlyBanners,    // only text so far
    Detecting,      // data lines seen, not yet enough to lock
    Unrecognised,   // lines that match no known format
    SensorFailed,   // slow '!' lines only: PulseSensorPlayground failed to start
    LeadsOff,       // fast '!' lines (AD8232), or the locked format reports no contact
    Detected,
};
std::string_view DiagnosisText(Diagnosis d);  // one short sentence

struct LineVerdict {
    LineGuess guess;
    bool fits = false;          // the line belongs to the locked format (decode it)
    bool locked_now = false;    // this line completed a lock (the format may be new)
    bool unlocked_now = false;  // the stream stopped matching the locked format
    bool format_changed = false;// the locked format was refined (SingleAdc -> Ad8232 on a '!')
};

class FormatDetector {
public:
    explicit FormatDetector(DetectorParams params = {});

    // The first bytes after open/Reset arrived at t_s: the settle time starts.
    void NoteOpen(double t_s);
    // One complete line (not the dropped first line). `tokens` receives its tokens when it has
    // some (see ClassifyLine), for the decoder to read the values from.
    LineVerdict Observe(std::string_view line, double t_s, Tokens& tokens);
    // Text that is not classified (the dropped first line): remembered only as a hint, e.g. an
    // AD8232 banner (IsEcgBanner).
    void NoteText(std::string_view line);
    // A line the framer flagged garbled: votes for nothing, does not fit.
    void ObserveGarbled(double t_s);

    // nullopt: detect. A format: lock onto it now and never unlock.
    void Force(std::optional<SensorFormat> format);
    // After a reconnect: keeps the lock (and a forced format), restarts the settle time.
    void Reset();

    DetectState state() const { return m_state; }
    bool locked() const { return m_state == DetectState::Locked; }
    bool forced() const { return m_forced; }
    SensorFormat format() const { return m_format; }
    const NumericLayout& layout() const { return m_layout; }
    const HeaderLabels& header() const { return m_header; }

    std::uint64_t lines() const { return m_lines; }
    std::uint64_t unparsed_lines() const { return m_unparsed; }  // while locked: lines that did not fit
    std::uint64_t banner_lines() const { return m_banner_lines; }
    int recent_data_votes() const;     // data-format votes among the recent lines
    int bang_run() const { return m_bang_run; }  // '!' lines since the last data line
    double BangRateHz() const;         // rate of that run, 0 if < 2 lines

    // What to tell the user, from the detector's state and the framer's byte counts.
    Diagnosis Diagnose(const FramerStats& framer, double recent_unprintable_fraction) const;

private:
    static constexpr int kMaxWindow = 64;
    static constexpr int kKeys = 48;  // vote keys: 0 banner, 1..18 formats, 32 + n numeric with n columns

    static int VoteKey(const LineGuess& g);
    void PushVote(int key);
    void PushFit(bool fits);
    void TryLock(double t_s, LineVerdict& v);
    void LockOnto(SensorFormat f, int columns);
    bool Fits(const LineGuess& g, const Tokens& t);
    bool SawBangRecently() const;
    int BestVote() const;  // most common data vote key, 0 if none

    DetectorParams m_p;
    DetectState m_state = DetectState::Waiting;
    bool m_forced = false;
    bool m_layout_pending = false;  // forced numeric format: columns known at the first row
    SensorFormat m_format = SensorFormat::Unknown;
    NumericLayout m_layout;
    HeaderLabels m_header;
    NumericRows m_rows;

    double m_t_open = 0.0, m_search_start = 0.0;
    bool m_opened = false;

    std::array<std::int8_t, kMaxWindow> m_votes{};
    std::array<int, kKeys> m_counts{};
    int m_vote_head = 0, m_vote_size = 0;
    std::array<std::uint8_t, kMaxWindow> m_fits{};
    int m_fit_head = 0, m_fit_size = 0, m_misfits = 0;

    std::uint64_t m_lines = 0, m_unparsed = 0, m_banner_lines = 0;
    std::uint64_t m_last_bang_line = 0;
    bool m_any_bang = false;
    bool m_ecg_banner = false;  // a banner named an ECG front end (kept across Reset)
    int m_bang_run = 0;
    double m_bang_first_t = 0.0, m_bang_last_t = 0.0;
};

}  // namespace attune::devices
