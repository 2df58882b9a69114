#include "attune/devices/sensor_decoder.hpp"

#include <algorithm>
#include <cstdio>

namespace attune::devices {

namespace {

constexpr double kMaxPlausibleIbiMs = 5000.0;  // longer "intervals" are reported as unknown (0)

double PlausibleIbi(double ibi_ms) { return ibi_ms > 0.0 && ibi_ms <= kMaxPlausibleIbiMs ? ibi_ms : 0.0; }

}  // namespace

SensorDecoder::SensorDecoder(DecoderConfig config)
    : m_config(config),
      m_framer(config.max_line_bytes, config.drop_first_line),
      m_detector(config.detector),
      m_clock(config.clock) {
    m_config.channel = std::clamp(m_config.channel, 0, kMaxFields - 1);
    m_stats.last_unparsed.reserve(m_framer.max_line_bytes() + 8);
    m_reply.reserve(8);
    m_detector.Force(m_config.format);
    OnFormatChange();
    m_stats.status = std::string(DiagnosisText(m_stats.diagnosis));
}

void SensorDecoder::Configure(const DecoderConfig& config) {
    const bool reframe = config.max_line_bytes != m_config.max_line_bytes || config.drop_first_line != m_config.drop_first_line;
    const bool redetect = config.format != m_config.format || !(config.detector == m_config.detector);
    m_config = config;
    m_config.channel = std::clamp(m_config.channel, 0, kMaxFields - 1);
    if (reframe) {
        m_framer = LineFramer(config.max_line_bytes, config.drop_first_line);
        m_stats.last_unparsed.reserve(m_framer.max_line_bytes() + 8);
    }
    m_clock = SampleClock(config.clock);
    if (redetect) {
        FormatDetector fresh(config.detector);
        if (m_opened) fresh.NoteOpen(m_last_t - config.detector.settle_s);  // no second settle wait
        m_detector = fresh;
        m_detector.Force(m_config.format);
    }
    OnFormatChange();
}

void SensorDecoder::StartEpoch() {
    m_epoch = m_framer.stats();
    m_epoch_lines = m_stats.lines;
    m_epoch_garbled = m_stats.garbled_lines;
}

std::string SensorDecoder::TakeReply() {
    std::string r;
    r.swap(m_reply);
    m_reply.reserve(8);
    return r;
}

ByteDecoder::Verdict SensorDecoder::LinkVerdict() const {
    if (m_detector.locked()) return Verdict::Understood;
    const FramerStats& f = m_framer.stats();
    const std::uint64_t bytes = f.bytes - m_epoch.bytes;
    if (bytes < 64) return Verdict::Undecided;
    const std::uint64_t bad = f.unprintable_bytes - m_epoch.unprintable_bytes;
    if (bad * 5 > bytes) return Verdict::Garbage;
    if (bytes >= 512 && f.line_ends - m_epoch.line_ends <= 1) return Verdict::Garbage;
    const std::uint64_t lines = m_stats.lines - m_epoch_lines, garbled = m_stats.garbled_lines - m_epoch_garbled;
    if (lines >= 4 && garbled * 2 > lines) return Verdict::Garbage;
    return Verdict::Undecided;
}

void SensorDecoder::AnnounceFormat(double t_s, std::vector<DeviceEvent>& out) {
    const SensorFormat f = m_detector.locked() ? m_detector.format() : SensorFormat::Unknown;
    const bool inv = f != SensorFormat::Unknown && m_stats.inverted;
    if (f == m_announced_format && inv == m_announced_inverted) return;
    m_announced_format = f;
    m_announced_inverted = inv;
    out.push_back({EventKind::Format, t_s, inv ? 1.0 : 0.0,
                   f == SensorFormat::Unknown ? std::string() : std::string(FormatId(f))});
}

void SensorDecoder::Reset() {
    m_framer.Reset();
    m_clock.Reset();
    m_detector.Reset();
    m_opened = false;
    m_prev_beat_flag = false;
    m_reply.clear();
    StartEpoch();
}

void SensorDecoder::OnFormatChange() {
    const SensorFormat f = m_detector.format();
    m_stats.format = f;
    m_stats.forced = m_detector.forced();
    m_stats.channel = m_config.channel;
    m_prev_beat_flag = false;
    m_vis_multi = false;
    m_vis_channels = 0;
    bool inverted = false;
    switch (f) {
        case SensorFormat::SingleIr:
        case SensorFormat::MaxBasicReadings:
        case SensorFormat::MaxHeartRate:
        case SensorFormat::MaxSpo2:
        case SensorFormat::IrRedMillis:
        case SensorFormat::IrRed:
            inverted = true;
            break;
        default:
            inverted = m_detector.layout().inverted;
            break;
    }
    m_stats.channels = m_detector.layout().signal_count;
    if (m_config.polarity != Polarity::Auto) inverted = m_config.polarity == Polarity::Inverted;
    m_stats.inverted = inverted;
}

void SensorDecoder::Feed(const std::uint8_t* data, std::size_t n, double t_s, std::vector<DeviceEvent>& out) {
    if (n == 0 || data == nullptr) return;
    if (!m_opened) {
        m_opened = true;
        m_detector.NoteOpen(t_s);
    }
    m_last_t = t_s;
    const std::uint8_t* p = data;
    const std::uint8_t* end = data + n;
    FramedLine line;
    while (m_framer.Next(p, end, line)) HandleLine(line, t_s, out);

    const FramerStats& fs = m_framer.stats();
    m_stats.bytes = fs.bytes;
    m_stats.noise_bytes = fs.noise_bytes;
    m_stats.unprintable_bytes = fs.unprintable_bytes;
    m_stats.sample_rate_hz = m_clock.sample_rate_hz();
    m_stats.clock_reanchors = m_clock.reanchors();
    UpdateDiagnosis(t_s, out);
}

void SensorDecoder::HandleLine(const FramedLine& line, double t_s, std::vector<DeviceEvent>& out) {
    ++m_stats.lines;
    if (line.first) {  // probably cut: the Arduino IDE drops it too
        ++m_stats.unparsed_lines;
        NoteUnparsed(line.text, line.garbled);
        if (!line.garbled) {
            AnswerPrompt(line.text, t_s, out);
            m_detector.NoteText(line.text);
        }
        return;
    }
    if (line.garbled) {
        ++m_stats.unparsed_lines;
        ++m_stats.garbled_lines;
        NoteUnparsed(line.text, true);
        m_detector.ObserveGarbled(t_s);
        // In a one-sample-per-line stream an unreadable line was most likely a sample.
        if (m_detector.locked() && FormatIsOneSamplePerLine(m_detector.format()) && m_clock.has_stamp())
            m_clock.SkipSample();
        return;
    }

    const LineVerdict v = m_detector.Observe(line.text, t_s, m_tokens);
    if (v.guess.kind == LineKind::Empty) return;
    if (v.unlocked_now || v.locked_now || v.format_changed) {
        if (v.unlocked_now || v.locked_now) m_clock.Reset();
        OnFormatChange();
    }
    AnnounceFormat(t_s, out);  // cheap when nothing changed; also catches Configure()
    if (v.guess.kind == LineKind::Banner) AnswerPrompt(line.text, t_s, out);
    if (!v.fits) {
        if (!m_detector.locked() && v.guess.kind != LineKind::Banner && v.guess.kind != LineKind::Header) {
            ++m_stats.pre_lock_lines;  // data, read before the format was settled
            return;
        }
        ++m_stats.unparsed_lines;
        NoteUnparsed(line.text, false);
        if (m_detector.locked() && FormatIsOneSamplePerLine(m_detector.format()) && m_clock.has_stamp() &&
            (v.guess.kind == LineKind::Numeric || v.guess.kind == LineKind::Keyed))
            m_clock.SkipSample();
        return;
    }
    ++m_stats.parsed_lines;
    Decode(v, t_s, out);
}

void SensorDecoder::AnswerPrompt(std::string_view text, double t_s, std::vector<DeviceEvent>& out) {
    if (!IsKeyPrompt(text)) return;
    // MAX3010x Example 8 waits in setup() for any byte; one newline starts it.
    m_reply.assign(1, '\n');
    out.push_back({EventKind::Status, t_s, 0.0, "The sketch asked for a key press: sending a newline"});
}

void SensorDecoder::NoteUnparsed(std::string_view text, bool garbled) {
    // The buffer was reserved for a full line: no allocation here.
    std::string& s = m_stats.last_unparsed;
    s.clear();
    const std::size_t n = std::min(text.size(), s.capacity());
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[i];
        s.push_back(garbled && (static_cast<unsigned char>(c) >= 0x80) ? '?' : c);
    }
}

double SensorDecoder::BeatTime(double t_s) const { return m_clock.has_stamp() ? m_clock.last_stamp_s() : t_s; }

void SensorDecoder::Decode(const LineVerdict& v, double t_s, std::vector<DeviceEvent>& out) {
    const SensorFormat f = m_detector.format();
    const LineGuess& g = v.guess;
    if (f == SensorFormat::PulseSensorVisualizer) {
        DecodeVisualizer(g, t_s, out);
        return;
    }
    if (g.kind == LineKind::Bang) {  // AD8232: a lead is off
        EnterLeadsOff(t_s, out);
        return;
    }
    if (g.kind == LineKind::Heartbeat) {
        m_data = LineData{};
        m_data.beat_report = true;  // interval unknown; stamped on arrival (no waveform to align to)
        Emit(m_data, t_s, out);
        return;
    }
    if (g.kind == LineKind::Numeric) {
        ExtractNumeric(m_tokens, m_detector.layout(), m_config.channel, m_data);
        m_stats.channels = m_data.channels;
    } else {
        ExtractKeyed(m_tokens, m_config.channel, m_data);
        m_stats.channels = m_data.channels;
    }
    Emit(m_data, t_s, out);
}

void SensorDecoder::DecodeVisualizer(const LineGuess& g, double t_s, std::vector<DeviceEvent>& out) {
    // PulseSensorPlayground: one sensor prints S (sample), B (BPM), Q (IBI); several print
    // a, b, .. (samples), A/M, B/N, .. (BPM/IBI of sensor 0, 1, ..).
    const char c = g.letter;
    const int ch = m_config.channel;
    if (c == 'S') {
        m_vis_multi = false;
        m_vis_channels = std::max(m_vis_channels, 1);
        m_stats.channels = m_vis_channels;
        if (ch != 0) return;
    } else if (c >= 'a' && c <= 'l') {
        m_vis_multi = true;
        const int sensor = c - 'a';
        m_vis_channels = std::max(m_vis_channels, sensor + 1);
        m_stats.channels = m_vis_channels;
        if (sensor != ch) return;
    } else {
        int bpm_sensor = -1, ibi_sensor = -1;
        if (!m_vis_multi) {
            if (c == 'B') bpm_sensor = 0;
            if (c == 'Q') ibi_sensor = 0;
        } else {
            if (c >= 'A' && c <= 'L') bpm_sensor = c - 'A';
            if (c >= 'M' && c <= 'X') ibi_sensor = c - 'M';
        }
        if (bpm_sensor == ch) m_stats.bpm_hint = g.value > 0 ? g.value : 0.0;
        if (ibi_sensor == ch) {
            m_stats.ibi_hint_ms = g.value;
            out.push_back({EventKind::Beat, BeatTime(t_s), PlausibleIbi(g.value), {}});
            ++m_stats.beats;
        }
        return;
    }
    m_data = LineData{};
    m_data.has_sample = true;
    m_data.sample = g.value;
    Emit(m_data, t_s, out);
}

void SensorDecoder::EnterLeadsOff(double t_s, std::vector<DeviceEvent>& out) {
    if (m_stats.leads_off) return;
    m_stats.leads_off = true;
    m_clock.Interrupt();  // no samples until contact returns: their index no longer tracks time
    out.push_back({EventKind::LeadsOff, t_s, 0.0, {}});
}

void SensorDecoder::Emit(const LineData& d, double t_s, std::vector<DeviceEvent>& out) {
    if (d.bpm > 0.0) m_stats.bpm_hint = d.bpm;
    if (d.ibi_ms > 0.0) m_stats.ibi_hint_ms = d.ibi_ms;
    if (d.spo2 > 0.0) m_stats.spo2_hint = d.spo2;
    if (d.leads_off) {  // "No finger?": the IR value is ambient light, not a pulse
        m_prev_beat_flag = false;
        EnterLeadsOff(t_s, out);
        return;
    }
    if (d.has_sample) {
        const double stamp = d.has_device_time ? m_clock.StampDevice(d.device_time_s, t_s) : m_clock.Stamp(t_s);
        m_stats.leads_off = false;
        if (m_config.polarity == Polarity::Auto && d.inverted && !m_stats.inverted) {
            m_stats.inverted = true;
            AnnounceFormat(t_s, out);
        }
        out.push_back({EventKind::Sample, stamp, d.sample, {}});
        ++m_stats.samples;
        if (d.beat_flag && !m_prev_beat_flag) {
            out.push_back({EventKind::Beat, stamp, PlausibleIbi(d.ibi_ms), {}});
            ++m_stats.beats;
        }
        m_prev_beat_flag = d.beat_flag;
    } else if (d.beat_flag && !m_prev_beat_flag) {
        out.push_back({EventKind::Beat, BeatTime(t_s), PlausibleIbi(d.ibi_ms), {}});
        ++m_stats.beats;
        m_prev_beat_flag = true;
    } else {
        m_prev_beat_flag = d.beat_flag;
    }
    if (d.beat_report) {
        out.push_back({EventKind::Beat, t_s, PlausibleIbi(d.beat_ibi_ms), {}});
        ++m_stats.beats;
    }
}

void SensorDecoder::UpdateDiagnosis(double t_s, std::vector<DeviceEvent>& out) {
    Diagnosis d = m_detector.Diagnose(m_framer.stats(), m_framer.RecentUnprintableFraction());
    if (d == Diagnosis::Detected && m_stats.leads_off) d = Diagnosis::LeadsOff;
    if (d == Diagnosis::LeadsOff && !m_detector.locked()) EnterLeadsOff(t_s, out);  // fast '!' lines only
    if (d == m_stats.diagnosis && !(d == Diagnosis::Detected && m_stats.status.empty())) return;
    m_stats.diagnosis = d;
    SetStatus(t_s, out);
}

void SensorDecoder::SetStatus(double t_s, std::vector<DeviceEvent>& out) {
    std::string s;
    const Diagnosis d = m_stats.diagnosis;
    if (d == Diagnosis::Detected || (d == Diagnosis::LeadsOff && m_detector.locked())) {
        s = "Detected ";
        s += FormatName(m_detector.format());
        if (m_detector.forced()) s += " (chosen)";
        if (d == Diagnosis::LeadsOff) {
            s += m_detector.format() == SensorFormat::MaxHeartRate ? ": no finger on the sensor" : ": leads off";
        }
    } else {
        s = DiagnosisText(d);
        if (d == Diagnosis::LeadsOff) s += " (the AD8232 sketch prints '!')";
        if ((d == Diagnosis::Unrecognised || d == Diagnosis::OnlyBanners) && !m_stats.last_unparsed.empty()) {
            s += " (last: \"";
            s += m_stats.last_unparsed.substr(0, 60);
            s += "\")";
        }
    }
    m_stats.status = s;
    out.push_back({EventKind::Status, t_s, 0.0, std::move(s)});
}

std::string SensorDecoder::Describe() const {
    std::string s = m_stats.status;
    if (m_detector.locked()) {
        char buf[160];
        if (FormatHasWaveform(m_detector.format())) {
            const double rate = m_clock.sample_rate_hz();
            if (rate > 0.0) {
                std::snprintf(buf, sizeof buf, ", %.1f samples/s", rate);
                s += buf;
            }
            if (m_stats.channels > 1) {
                std::snprintf(buf, sizeof buf, ", channel %d of %d", m_config.channel + 1, m_stats.channels);
                s += buf;
            }
            if (m_stats.inverted) s += ", inverted (pulse is a dip)";
        }
        if (m_stats.bpm_hint > 0.0) {
            std::snprintf(buf, sizeof buf, ", sensor says %.0f bpm", m_stats.bpm_hint);
            s += buf;
        }
        if (m_stats.unparsed_lines > 0) {
            std::snprintf(buf, sizeof buf, "; %llu of %llu lines not understood",
                          static_cast<unsigned long long>(m_stats.unparsed_lines),
                          static_cast<unsigned long long>(m_stats.lines));
            s += buf;
        }
    }
    return s;
}

}  // namespace attune::devices
