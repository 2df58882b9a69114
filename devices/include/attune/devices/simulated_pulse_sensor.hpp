// The simulated heart as the app's default sensor: it prints what a PulseSensor running the
// PulseSensor Playground PROCESSING_VISUALIZER sketch prints (`S<signal>` per sample, `B<bpm>` and
// `Q<ibi>` per beat, CR LF line ends, a banner first) and those bytes go through the same
// SensorDecoder as a real serial sensor, so demo mode exercises the whole decoding path.
// Synchronous and deterministic: bytes "arrive" at their sample's time, whatever the polling.
#pragma once

#include <memory>
#include <string>

#include "attune/devices/sensor_decoder.hpp"
#include "attune/devices/simulated_heart.hpp"

namespace attune::devices {

class SimulatedPulseSensor final : public Source {
public:
    explicit SimulatedPulseSensor(SimParams params);

    std::string Describe() const override { return "Simulated heart"; }
    bool IsSimulated() const override { return true; }
    double SampleRateHz() const override;
    void Poll(double t_s, std::vector<DeviceEvent>& out) override;
    SimulatedHeart* simulated_heart() override { return &m_heart; }

    const SensorDecoder& decoder() const { return m_decoder; }
    std::uint64_t bytes_sent() const { return m_bytes; }

private:
    SimulatedHeart m_heart;
    SensorDecoder m_decoder;
    std::vector<DeviceEvent> m_raw;
    std::string m_line;
    std::uint64_t m_bytes = 0;
    bool m_banner_sent = false;
};

}  // namespace attune::devices
