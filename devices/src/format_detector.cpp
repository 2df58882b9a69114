#include "attune/devices/format_detector.hpp"

#include <algorithm>
#include <cmath>

namespace attune::devices {

namespace {

constexpr int kNumericKeyBase = 32;

// Column counts the fixed numeric formats need (0: any).
int ExpectedColumns(SensorFormat f) {
    switch (f) {
        case SensorFormat::PulseSensorPlotter: return 3;
        case SensorFormat::SignalBpmIbiBeat: return 4;
        case SensorFormat::SingleAdc:
        case SensorFormat::SingleIr:
        case SensorFormat::Ad8232: return 1;
        case SensorFormat::IrRed: return 2;
        default: return 0;
    }
}

bool IsNumericFormat(SensorFormat f) {
    return ExpectedColumns(f) > 0 || f == SensorFormat::MultiSignal || f == SensorFormat::TimestampCsv;
}

bool IsLabelFamily(SensorFormat f) {
    return f == SensorFormat::PlotterLabels || f == SensorFormat::VendorLabeled || f == SensorFormat::SignalText;
}

}  // namespace

std::string_view DiagnosisText(Diagnosis d) {
    switch (d) {
        case Diagnosis::Waiting: return "Waiting for data from the sensor";
        case Diagnosis::Settling: return "Port open: waiting for the board to start";
        case Diagnosis::NoLineEnds: return "Bytes arrive but no line endings: wrong baud rate?";
        case Diagnosis::Unprintable: return "Mostly unprintable bytes: wrong baud rate?";
        case Diagnosis::OnlyBanners: return "Only banner text so far";
        case Diagnosis::Detecting: return "Reading lines to detect the format";
        case Diagnosis::Unrecognised: return "Lines do not match a known sensor format";
        case Diagnosis::SensorFailed: return "PulseSensor did not start: the sketch keeps printing '!'";
        case Diagnosis::LeadsOff: return "Leads off / no contact";
        case Diagnosis::Detected: return "Sensor format detected";
    }
    return "";
}

FormatDetector::FormatDetector(DetectorParams params) : m_p(params) {
    m_p.window_lines = std::clamp(m_p.window_lines, 4, kMaxWindow);
    m_p.lock_lines = std::clamp(m_p.lock_lines, 2, m_p.window_lines);
    m_p.unlock_misfits = std::clamp(m_p.unlock_misfits, 1, m_p.window_lines);
    m_p.agree_fraction = std::clamp(m_p.agree_fraction, 0.0, 1.0);
}

void FormatDetector::NoteOpen(double t_s) {
    if (m_opened) return;
    m_opened = true;
    m_t_open = t_s;
    m_search_start = t_s + m_p.settle_s;
    if (m_state == DetectState::Waiting) m_state = m_p.settle_s > 0.0 ? DetectState::Settling : DetectState::Searching;
}

void FormatDetector::Reset() {
    m_opened = false;
    m_vote_head = m_vote_size = 0;
    m_counts.fill(0);
    m_fit_head = m_fit_size = m_misfits = 0;
    m_rows.Clear();
    m_bang_run = 0;
    if (m_state != DetectState::Locked) m_state = DetectState::Waiting;
}

void FormatDetector::Force(std::optional<SensorFormat> format) {
    m_fit_head = m_fit_size = m_misfits = 0;
    if (format && *format != SensorFormat::Unknown) {
        m_forced = true;
        LockOnto(*format, ExpectedColumns(*format));
        m_layout_pending = IsNumericFormat(*format) && ExpectedColumns(*format) == 0;
    } else {
        m_forced = false;
        m_layout_pending = false;
        m_format = SensorFormat::Unknown;
        m_layout = NumericLayout{};
        m_state = m_opened ? DetectState::Searching : DetectState::Waiting;
    }
}

int FormatDetector::VoteKey(const LineGuess& g) {
    switch (g.kind) {
        case LineKind::Numeric: return kNumericKeyBase + std::clamp(g.columns, 1, kMaxFields);
        case LineKind::Visualizer:
        case LineKind::Keyed:
        case LineKind::Heartbeat: return static_cast<int>(g.format);
        default: return 0;
    }
}

void FormatDetector::PushVote(int key) {
    const int w = m_p.window_lines;
    if (m_vote_size == w) {
        --m_counts[static_cast<std::size_t>(m_votes[static_cast<std::size_t>(m_vote_head)])];
        m_votes[static_cast<std::size_t>(m_vote_head)] = static_cast<std::int8_t>(key);
        m_vote_head = (m_vote_head + 1) % w;
    } else {
        m_votes[static_cast<std::size_t>((m_vote_head + m_vote_size) % w)] = static_cast<std::int8_t>(key);
        ++m_vote_size;
    }
    ++m_counts[static_cast<std::size_t>(key)];
}

void FormatDetector::PushFit(bool fits) {
    const int w = m_p.window_lines;
    const std::uint8_t miss = fits ? 0 : 1;
    if (m_fit_size == w) {
        m_misfits -= m_fits[static_cast<std::size_t>(m_fit_head)];
        m_fits[static_cast<std::size_t>(m_fit_head)] = miss;
        m_fit_head = (m_fit_head + 1) % w;
    } else {
        m_fits[static_cast<std::size_t>((m_fit_head + m_fit_size) % w)] = miss;
        ++m_fit_size;
    }
    m_misfits += miss;
}

int FormatDetector::recent_data_votes() const { return m_vote_size - m_counts[0]; }

int FormatDetector::BestVote() const {
    int best = 0;
    for (int k = 1; k < kKeys; ++k)
        if (m_counts[static_cast<std::size_t>(k)] > (best == 0 ? 0 : m_counts[static_cast<std::size_t>(best)])) best = k;
    return best;
}

double FormatDetector::BangRateHz() const {
    if (m_bang_run < 2 || m_bang_last_t <= m_bang_first_t) return 0.0;
    return (m_bang_run - 1) / (m_bang_last_t - m_bang_first_t);
}

bool FormatDetector::SawBangRecently() const {
    return m_any_bang && m_lines - m_last_bang_line <= 2000;
}

void FormatDetector::LockOnto(SensorFormat f, int columns) {
    m_format = f;
    m_state = DetectState::Locked;
    const bool has_header = m_header.count > 0;
    if (IsNumericFormat(f)) {
        const bool rows_match = m_rows.columns == columns;
        m_layout = MakeNumericLayout(f, columns, has_header ? &m_header : nullptr, rows_match ? &m_rows : nullptr);
    } else {
        m_layout = NumericLayout{};
    }
    m_fit_head = m_fit_size = m_misfits = 0;
}

bool FormatDetector::Fits(const LineGuess& g, const Tokens& t) {
    const SensorFormat f = m_format;
    if (IsNumericFormat(f)) {
        if (g.kind == LineKind::Bang) {
            return f == SensorFormat::SingleAdc || f == SensorFormat::Ad8232 || f == SensorFormat::SingleIr;
        }
        if (g.kind != LineKind::Numeric) return false;
        if (m_layout_pending) {
            if (ExpectedColumns(f) == 0 && g.columns < 2) return false;
            const bool has_header = m_header.count > 0;
            m_layout = MakeNumericLayout(f, g.columns, has_header ? &m_header : nullptr, nullptr);
            m_layout_pending = false;
        }
        if (g.columns != m_layout.columns) return false;
        auto v = [&](int c) { return t.fields[static_cast<std::size_t>(c)].value; };
        switch (f) {
            case SensorFormat::PulseSensorPlotter: return v(0) >= 0 && v(0) <= 300 && v(1) >= 0 && v(1) <= 5000;
            case SensorFormat::SignalBpmIbiBeat: return v(3) == 0.0 || v(3) == 1.0;
            default: return true;
        }
    }
    switch (f) {
        case SensorFormat::PulseSensorVisualizer: return g.kind == LineKind::Visualizer;
        case SensorFormat::BpmText: return g.format == SensorFormat::BpmText;
        default:
            if (g.kind != LineKind::Keyed) return false;
            return g.format == f || (IsLabelFamily(f) && IsLabelFamily(g.format));
    }
}

void FormatDetector::TryLock(double t_s, LineVerdict& v) {
    if (m_state == DetectState::Settling) {
        if (t_s - m_t_open < m_p.settle_s) return;
        m_state = DetectState::Searching;
    }
    if (m_state != DetectState::Searching) return;
    const int best = BestVote();
    if (best == 0) return;
    const int agree = m_counts[static_cast<std::size_t>(best)];
    const bool majority = agree >= m_p.agree_fraction * m_vote_size;
    const bool quick = agree >= m_p.lock_lines;
    const bool patient = t_s - m_search_start >= m_p.window_s && agree >= 2;
    if (!majority || !(quick || patient)) return;

    SensorFormat f;
    int columns = 0;
    if (best >= kNumericKeyBase) {
        columns = best - kNumericKeyBase;
        const bool has_header = m_header.count > 0;
        NumericRows empty;
        empty.columns = columns;
        f = ResolveNumericFormat(m_rows.columns == columns ? m_rows : empty, SawBangRecently() || m_ecg_banner,
                                 has_header ? &m_header : nullptr);
    } else {
        f = static_cast<SensorFormat>(best);
    }
    LockOnto(f, columns);
    v.locked_now = true;
}

void FormatDetector::NoteText(std::string_view line) {
    if (IsEcgBanner(line)) m_ecg_banner = true;
}

void FormatDetector::ObserveGarbled(double t_s) {
    ++m_lines;
    if (!m_opened) NoteOpen(t_s);
    PushVote(0);
    if (m_state == DetectState::Locked) {
        PushFit(false);
        ++m_unparsed;
    }
}

LineVerdict FormatDetector::Observe(std::string_view line, double t_s, Tokens& tokens) {
    LineVerdict v;
    if (!m_opened) NoteOpen(t_s);
    v.guess = ClassifyLine(line, tokens);
    const LineGuess& g = v.guess;
    if (g.kind == LineKind::Empty) return v;
    ++m_lines;

    if (g.kind == LineKind::Header) m_header.Set(tokens);
    if (g.kind == LineKind::Banner || g.kind == LineKind::Header) {
        ++m_banner_lines;
        NoteText(line);
    }
    if (g.kind == LineKind::Bang) {
        m_any_bang = true;
        m_last_bang_line = m_lines;
        if (m_bang_run == 0) m_bang_first_t = t_s;
        m_bang_last_t = t_s;
        ++m_bang_run;
    } else if (g.kind != LineKind::Banner && g.kind != LineKind::Header) {
        m_bang_run = 0;
    }

    if (g.kind != LineKind::Bang) PushVote(VoteKey(g));
    if (g.kind == LineKind::Numeric) m_rows.Add(tokens);

    if (m_state == DetectState::Locked) {
        v.fits = Fits(g, tokens);
        if (v.fits && g.kind == LineKind::Bang && m_format == SensorFormat::SingleAdc) {
            m_format = SensorFormat::Ad8232;  // only the AD8232 sketch prints '!' between readings
            v.format_changed = true;
        }
        PushFit(v.fits);
        if (!v.fits) ++m_unparsed;
        if (!m_forced && m_misfits >= m_p.unlock_misfits) {
            m_state = DetectState::Searching;
            m_search_start = t_s;
            m_format = SensorFormat::Unknown;
            m_layout = NumericLayout{};
            m_fit_head = m_fit_size = m_misfits = 0;
            v.unlocked_now = true;
            v.fits = false;
        } else {
            return v;
        }
    }
    TryLock(t_s, v);
    if (v.locked_now) v.fits = Fits(g, tokens);
    return v;
}

Diagnosis FormatDetector::Diagnose(const FramerStats& framer, double unprintable) const {
    if (m_state == DetectState::Locked) return Diagnosis::Detected;
    if (framer.bytes == 0) return Diagnosis::Waiting;
    if (framer.bytes >= 256 && unprintable > 0.25) return Diagnosis::Unprintable;
    if (framer.bytes_since_line_end > 2 * 256 && framer.line_ends <= 1) return Diagnosis::NoLineEnds;
    if (m_bang_run >= 5 && recent_data_votes() == 0) {
        return BangRateHz() >= m_p.bang_leads_off_hz ? Diagnosis::LeadsOff : Diagnosis::SensorFailed;
    }
    if (m_state == DetectState::Settling || m_state == DetectState::Waiting) return Diagnosis::Settling;
    if (recent_data_votes() == 0) return Diagnosis::OnlyBanners;
    // A full window of lines and still no format holding a majority: nothing we know.
    const int best = BestVote();
    if (m_vote_size >= m_p.window_lines && m_counts[static_cast<std::size_t>(best)] < m_p.agree_fraction * m_vote_size)
        return Diagnosis::Unrecognised;
    return Diagnosis::Detecting;
}

}  // namespace attune::devices
