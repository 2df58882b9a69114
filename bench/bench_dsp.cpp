// DSP benchmarks: detector throughput and the cost of the metric updates after a beat.
//
// Detectors: the whole signal is in memory; each run feeds it sample by sample to a fresh
// detector (construction included, negligible); after one untimed warm-up run, the best of 5
// runs is reported as samples per second of one core. Targets (issue): ECG >= 50 million
// samples/s, PPG >= 30 million samples/s. On a shared machine the figures vary by up to 30 %
// from run to run (best of 5 hides most of it, not all).
//
// Metrics: the beats of ../shared/data/rr/rest-rri.txt (910 intervals at rest), played twice in
// a row, timed for every beat after the first 300 s (once the 5 min spectrum window is full);
// reported: median, 99th percentile and maximum in microseconds.
//   pipeline_beat: the honest full cost of one beat: core::HeartPipeline::Process(beat event) then
//     Update(), as the live session calls them, while pacing (see bench_metrics). Target <= 100 us.
//   parts: ArtifactStream::push; RollingTimeDomain push + metrics(); SpectrumTracker push +
//     update() over 5 min (recomputed on every beat here); CoherenceTracker push + update();
//     BreathingRateEstimator::push (an estimate at most once per second of beat time); HrPhaseTracker
//     push + estimate (every beat here); RsaTracker::push_beat; and their sum ("parts_sum").
// ATTUNE_BENCH_ONLY=metrics runs only these.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "attune/core/heart_pipeline.hpp"
#include "attune/dsp/artifacts.hpp"
#include "attune/dsp/coherence.hpp"
#include "attune/dsp/ecg_detector.hpp"
#include "attune/dsp/hrv_freq.hpp"
#include "attune/dsp/hrv_time.hpp"
#include "attune/dsp/ppg_detector.hpp"
#include "attune/dsp/rr_io.hpp"
#include "attune/dsp/rsa.hpp"
#include "attune/dsp/signal_io.hpp"
#include "bench.hpp"

namespace attune::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kData = ATTUNE_SHARED_DATA_DIR;

constexpr double kEcgTargetSamplesPerS = 50e6;
constexpr double kPpgTargetSamplesPerS = 30e6;
constexpr double kFullUpdateTargetUs = 100.0;
constexpr int kRuns = 5;

volatile double g_sink = 0.0;  // keeps the measured work observable

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
double us_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// Best of kRuns: `run` processes the whole signal and returns the number of beats.
nlohmann::json throughput(const std::string& what, std::size_t samples, double target,
                          const std::function<std::size_t()>& run) {
    double best = 1e300;
    std::size_t beats = run();  // untimed warm-up (caches, clock frequency)
    for (int r = 0; r < kRuns; ++r) {
        const auto t0 = Clock::now();
        beats = run();
        best = std::min(best, seconds_since(t0));
    }
    const double rate = best > 0.0 ? static_cast<double>(samples) / best : 0.0;
    return {{"signal", what},
            {"samples", samples},
            {"beats", beats},
            {"best_of", kRuns},
            {"best_s", best},
            {"samples_per_s", rate},
            {"ns_per_sample", samples ? 1e9 * best / static_cast<double>(samples) : 0.0},
            {"target_samples_per_s", target},
            {"meets_target", rate >= target}};
}

nlohmann::json bench_ecg() {
    auto rec = dsp::read_wfdb_record(kData + "/ecg/100.hea");
    if (!rec.ok()) return {{"error", "cannot read " + kData + "/ecg/100.hea"}};
    const int lead = rec.value.find_signal("MLII");
    if (lead < 0) return {{"error", "no MLII lead in record 100"}};
    const std::vector<double> x = rec.value.physical(static_cast<std::size_t>(lead));
    const double fs_hz = rec.value.header.sample_rate_hz;
    return throughput("MIT-BIH 100 MLII (360 Hz, 30 min)", x.size(), kEcgTargetSamplesPerS, [&] {
        dsp::EcgDetector::Params p;
        p.sample_rate_hz = fs_hz;
        dsp::EcgDetector det(p);
        std::size_t n = 0;
        double acc = 0.0;
        for (double v : x)
            if (auto b = det.process(v)) {
                ++n;
                acc += b->t_s;
            }
        g_sink = g_sink + acc;
        return n;
    });
}

std::vector<double> read_column(const std::string& path, const std::string& column, bool* ok) {
    dsp::TextReadOptions o;
    o.column_name = column;
    auto r = dsp::read_text_column(path, o);
    *ok = r.ok();
    return r.ok() ? r.value.samples : std::vector<double>{};
}

std::size_t run_ppg(const std::vector<double>& x, double fs_hz, dsp::PpgDetector::Polarity pol) {
    dsp::PpgDetector::Params p;
    p.sample_rate_hz = fs_hz;
    p.polarity = pol;
    dsp::PpgDetector det(p);
    std::size_t n = 0;
    double acc = 0.0;
    for (double v : x)
        if (auto b = det.process(v)) {
            ++n;
            acc += b->t_s;
        }
    g_sink = g_sink + acc;
    return n;
}

nlohmann::json bench_ppg_husm() {
    std::vector<std::string> files;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(kData + "/ppg/husm", ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->path().filename() == "ppg.csv") files.push_back(it->path().string());
    if (files.empty()) return {{"error", "no HUSM recordings under " + kData + "/ppg/husm"}};
    std::sort(files.begin(), files.end());
    std::vector<double> x;
    for (const auto& f : files) {
        bool ok = false;
        const auto v = read_column(f, "IRsignal", &ok);
        if (!ok) return {{"error", "cannot read " + f}};
        x.insert(x.end(), v.begin(), v.end());
    }
    auto j = throughput("HUSM IR, " + std::to_string(files.size()) + " recordings concatenated (200 Hz, inverted)",
                        x.size(), kPpgTargetSamplesPerS,
                        [&] { return run_ppg(x, 200.0, dsp::PpgDetector::Polarity::Inverted); });
    return j;
}

nlohmann::json bench_ppg_multi() {
    bool ok = false;
    const auto once = read_column(kData + "/multi/bio-resting-5min-100hz.csv", "PPG", &ok);
    if (!ok) return {{"error", "cannot read multi/bio-resting-5min-100hz.csv"}};
    // 5 min is only 30 000 samples: played 10 times in a row so that a run lasts long enough to time.
    std::vector<double> x;
    for (int k = 0; k < 10; ++k) x.insert(x.end(), once.begin(), once.end());
    return throughput("multi PPG (100 Hz, 5 min) x 10, automatic polarity", x.size(), kPpgTargetSamplesPerS,
                      [&] { return run_ppg(x, 100.0, dsp::PpgDetector::Polarity::Auto); });
}

nlohmann::json summary_us(std::vector<double> v, double target = -1.0) {
    if (v.empty()) return {{"count", 0}};
    std::sort(v.begin(), v.end());
    auto q = [&](double p) {
        const auto i = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                                 std::ceil(p * static_cast<double>(v.size())) - 1.0));
        return v[i];
    };
    nlohmann::json j = {{"count", v.size()}, {"median_us", q(0.5)}, {"p99_us", q(0.99)}, {"max_us", v.back()}};
    if (target > 0.0) {
        // The typical (median) beat is held to the target; p99 and max are printed beside it: on a
        // shared, loaded machine they are dominated by the process being preempted mid-update.
        j["target_us"] = target;
        j["meets_target_median"] = q(0.5) <= target;
        j["meets_target_p99"] = q(0.99) <= target;
    }
    return j;
}

// Per-beat metric updates, two ways:
//   * "pipeline_beat": core::HeartPipeline exactly as the live session drives it: the sensor's
//     beat event (Process: artifact stream, rolling time domain, spectrum / coherence / breathing
//     / phase / RSA pushes, own breath cycles) and then Update() (spectrum recompute at most once
//     per second, coherence recompute on every new beat, phase estimate once per second while
//     pacing), with a 6 breaths/min pacer feeding its volume (20 Hz, untimed: per-frame work) and
//     its breath cycles. This is the honest full cost of a beat (target <= 100 us).
//   * the parts, each timed on its own with the dsp classes (the spectrum here recomputes on
//     every beat: 0 s minimum interval, the worst case).
nlohmann::json bench_metrics() {
    const auto rr = dsp::read_rr_file(kData + "/rr/rest-rri.txt");
    if (!rr.opened || rr.ibi_ms.empty()) return {{"error", "cannot read rr/rest-rri.txt"}};
    std::vector<double> ibi;
    for (int k = 0; k < 2; ++k) ibi.insert(ibi.end(), rr.ibi_ms.begin(), rr.ibi_ms.end());
    constexpr double kWarmupS = 300.0;
    constexpr double kPacerBpm = 6.0;
    constexpr double kPacerPeriodS = 60.0 / kPacerBpm;
    constexpr double kPi = 3.14159265358979323846;
    double acc = 0.0;

    // 1. The whole pipeline, replayed kReplays times on the same beats (deterministic: every replay
    //    does the same work beat for beat). The first replay's times are reported as they are; the
    //    per-beat minimum over the replays removes what preemption and cache-cold pages add on a
    //    shared machine and leaves the cost of the work itself, whose p99 is the algorithm's tail.
    constexpr int kReplays = 5;
    auto run_pipeline = [&]() {
        std::vector<double> times;
        core::HeartPipeline pipe;
        double t = 0.0, next_ref = 0.0, next_breath = kPacerPeriodS;
        pipe.Process({devices::EventKind::Beat, 0.0, 0.0, {}}, 0.0);
        for (double v : ibi) {
            t += v / 1000.0;
            for (; next_ref <= t; next_ref += 0.05)
                pipe.PushPacerVolume(next_ref, 0.5 - 0.5 * std::cos(2.0 * kPi * next_ref / kPacerPeriodS));
            for (; next_breath <= t; next_breath += kPacerPeriodS)
                pipe.PushPacerBreath(next_breath - kPacerPeriodS, next_breath);
            const devices::DeviceEvent e{devices::EventKind::Beat, t, v, {}};
            const auto a0 = Clock::now();
            pipe.Process(e, 0.0);
            pipe.Update(t, kPacerBpm);
            const auto a1 = Clock::now();
            acc += pipe.metrics().spectrum.hf_ms2 + pipe.metrics().coherence.score;
            pipe.new_raw_beats().clear();
            pipe.new_classified_beats().clear();
            pipe.new_breaths().clear();
            pipe.new_corrected_ibi_ms().clear();
            if (t >= kWarmupS) times.push_back(us_between(a0, a1));
        }
        return times;
    };
    const std::vector<double> t_pipe = run_pipeline();
    std::vector<double> t_pipe_min = t_pipe;
    for (int r = 1; r < kReplays; ++r) {
        const std::vector<double> again = run_pipeline();
        for (std::size_t i = 0; i < t_pipe_min.size() && i < again.size(); ++i)
            t_pipe_min[i] = std::min(t_pipe_min[i], again[i]);
    }

    // 2. The parts.
    dsp::ArtifactStream artifacts;
    dsp::RollingTimeDomain rolling(60.0);
    dsp::SpectrumTracker spectrum(300.0, 0.0);
    dsp::CoherenceTracker coherence;
    dsp::BreathingRateEstimator breathing, breathing_amp;
    dsp::HrPhaseTracker phase;
    dsp::RsaTracker rsa;

    std::vector<double> t_art, t_roll, t_spec, t_coh, t_br, t_br_amp, t_phase, t_rsa, t_all;
    double t = 0.0, next_ref = 0.0;
    for (double v : ibi) {
        t += v / 1000.0;
        for (; next_ref <= t; next_ref += 0.05)
            phase.push_reference(next_ref, 0.5 - 0.5 * std::cos(2.0 * kPi * next_ref / kPacerPeriodS));
        const bool timed = t >= kWarmupS;
        const auto a0 = Clock::now();
        const auto out = artifacts.push(t, v);
        const auto a1 = Clock::now();
        double roll_us = 0.0, spec_us = 0.0, coh_us = 0.0, br_us = 0.0, br_amp_us = 0.0, ph_us = 0.0,
               rsa_us = 0.0;
        for (const auto& c : out.corrected) {
            const auto r0 = Clock::now();
            rolling.push(c.ibi_ms);
            acc += rolling.metrics().rmssd_ms;
            const auto r1 = Clock::now();
            spectrum.push(c.t_s, c.ibi_ms);
            acc += spectrum.update(c.t_s).hf_ms2;
            const auto r2 = Clock::now();
            coherence.push(c.t_s, c.ibi_ms);
            acc += coherence.update(c.t_s).score;
            const auto r3 = Clock::now();
            if (auto b = breathing.push(c.to_beat())) acc += b->rate_bpm;
            const auto r4 = Clock::now();
            phase.push_beat(c.to_beat());
            acc += phase.estimate(kPacerBpm / 60.0).phase_deg;
            const auto r5 = Clock::now();
            acc += static_cast<double>(rsa.push_beat(c.to_beat()).size());
            const auto r6 = Clock::now();
            // Not part of the chain: the same estimator when beats carry an amplitude (PPG / ECG
            // detector beats), which adds the amplitude spectrum.
            dsp::Beat with_amp = c.to_beat();
            with_amp.amplitude = 1000.0 + 0.1 * c.ibi_ms;
            const auto r7 = Clock::now();
            if (auto b = breathing_amp.push(with_amp)) acc += b->rate_bpm;
            const auto r8 = Clock::now();
            roll_us += us_between(r0, r1);
            spec_us += us_between(r1, r2);
            coh_us += us_between(r2, r3);
            br_us += us_between(r3, r4);
            ph_us += us_between(r4, r5);
            rsa_us += us_between(r5, r6);
            br_amp_us += us_between(r7, r8);
        }
        if (!timed) continue;
        t_art.push_back(us_between(a0, a1));
        t_roll.push_back(roll_us);
        t_spec.push_back(spec_us);
        t_coh.push_back(coh_us);
        t_br.push_back(br_us);
        t_br_amp.push_back(br_amp_us);
        t_phase.push_back(ph_us);
        t_rsa.push_back(rsa_us);
        t_all.push_back(us_between(a0, a1) + roll_us + spec_us + coh_us + br_us + ph_us + rsa_us);
    }
    g_sink = g_sink + acc;
    return {{"beats", "rr/rest-rri.txt played twice (" + std::to_string(ibi.size()) + " beats), timed after " +
                          std::to_string(static_cast<int>(kWarmupS)) + " s"},
            {"pipeline_beat", summary_us(t_pipe, kFullUpdateTargetUs)},
            {"pipeline_beat_min_of_" + std::to_string(kReplays), summary_us(t_pipe_min, kFullUpdateTargetUs)},
            {"parts_sum", summary_us(t_all, kFullUpdateTargetUs)},
            {"artifact_stream_push", summary_us(t_art)},
            {"rolling_time_domain_push_metrics", summary_us(t_roll)},
            {"spectrum_tracker_update_5min", summary_us(t_spec)},
            {"coherence_tracker_update", summary_us(t_coh)},
            {"breathing_rate_estimator_push", summary_us(t_br)},
            {"breathing_rate_estimator_push_with_amplitude", summary_us(t_br_amp)},
            {"hr_phase_push_estimate", summary_us(t_phase)},
            {"rsa_tracker_push", summary_us(t_rsa)},
            {"note",
             "pipeline_beat: core::HeartPipeline Process(beat) + Update() after every beat, pacing at 6 "
             "breaths/min (phase estimate once per second, spectrum at most once per second, coherence "
             "and breathing rate on each beat / second slot). pipeline_beat_min_of_N: each beat's "
             "smallest time over N identical replays (the work without preemption). parts_sum: the dsp classes timed one by one, "
             "spectrum recomputed on every beat, phase estimated on every beat (worst case). The "
             "with-amplitude breathing figure is the estimator on detector beats (not in the sums)."}};
}

}  // namespace

void RunDspBenchmarks(nlohmann::json& out) {
    nlohmann::json& d = out["dsp"];
    // ATTUNE_BENCH_ONLY=metrics skips the detector benchmarks (quicker while iterating).
    const char* only = std::getenv("ATTUNE_BENCH_ONLY");
    if (only == nullptr || std::string(only) != "metrics") {
        d["ecg_detector"] = bench_ecg();
        d["ppg_detector_husm"] = bench_ppg_husm();
        d["ppg_detector_multi"] = bench_ppg_multi();
    }
    d["metrics_after_beat"] = bench_metrics();
}

}  // namespace attune::bench
