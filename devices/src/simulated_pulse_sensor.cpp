#include "attune/devices/simulated_pulse_sensor.hpp"

#include <cmath>

#include "attune/devices/sensor_text.hpp"

namespace attune::devices {

SimulatedPulseSensor::SimulatedPulseSensor(SimParams params) : m_heart(params) {
    m_raw.reserve(1024);
    m_line.reserve(64);
}

double SimulatedPulseSensor::SampleRateHz() const {
    // The simulator knows its own sampling rate exactly. Using the decoder's running estimate
    // instead would make the moment the detector starts depend on how the polls are chunked,
    // and the same seed would no longer give the same beats at every --speed.
    return m_heart.SampleRateHz();
}

void SimulatedPulseSensor::Poll(double t_s, std::vector<DeviceEvent>& out) {
    auto send = [&](const std::string& text, double at_s) {
        m_bytes += text.size();
        m_decoder.Feed(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), at_s, out);
    };
    if (!m_banner_sent) {
        // Boards print a partial line and a banner after the reset that opening the port causes.
        send("\r\n# PulseSensor Playground (simulated by Attune)\r\n", 0.0);
        m_banner_sent = true;
    }
    m_raw.clear();
    m_heart.Poll(t_s, m_raw);
    for (const DeviceEvent& e : m_raw) {
        if (e.kind == EventKind::Sample) {
            send(VisualizerSampleLine(static_cast<int>(std::lround(e.value))), e.t_s);
        } else if (e.kind == EventKind::Beat && e.value > 0.0) {
            m_line = VisualizerBpmLine(static_cast<int>(std::lround(60000.0 / e.value)));
            m_line += VisualizerIbiLine(static_cast<int>(std::lround(e.value)));
            send(m_line, e.t_s);
        }
    }
}

}  // namespace attune::devices
