// Runs a guided program (program.hpp): builds the pacer timeline step by step from session time
// and answers "what should the pacer do now", "which step and prompt is showing", and, for the
// resonance assessment, "which rate is best".
//
// Determinism: the runner decides only at known active times (the start of each step, each breath
// of a body-responsive ramp, the end of each assessment round). LiveSession advances the source
// and the pipeline exactly to each decision time before asking, so a decision sees the same data
// at any --speed and frame rate, and everything between decisions is closed form (pacer_timeline).
//
// Body-responsive ramp (RampController): the first breath is at the natural breathing rate
// measured from the heart during the arrive step (median of the once-a-second estimates with
// confidence >= 0.4; fallback_from_bpm when there were none), and each following breath glides
// glide_bpm_per_min slower (per minute of breathing) toward the target. The glide holds (the rate
// stays) while the heart-rate swing per breath (RSA, peak-to-trough) falls below 75 % of its
// recent level or coherence falls 0.3 below its recent level, and resumes once both are back
// above 90 % / within 0.15. After 4 held breaths the new level is accepted as the reference
// (the body has had time; the glide goes on rather than stall).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "attune/core/pacer_timeline.hpp"
#include "attune/core/program.hpp"
#include "attune/core/resonance.hpp"

namespace attune::core {

class LiveSession;

// The hold/glide decision of the ramp, one call per breath; pure, testable on its own.
class RampController {
public:
    RampController() = default;
    RampController(double from_bpm, double to_bpm, double glide_bpm_per_min);
    // Rate at the end of the next breath (which starts at `rate_bpm()`), given the latest complete
    // breath's RSA (bpm) and coherence score, when known.
    double Next(std::optional<double> rsa_bpm, std::optional<double> coherence);
    double rate_bpm() const { return m_rate; }
    double target_bpm() const { return m_target; }
    bool holding() const { return m_holding; }
    int held_breaths_total() const { return m_held_total; }

    static constexpr double kRsaDrop = 0.75, kRsaRecover = 0.90;
    static constexpr double kCohDrop = 0.30, kCohRecover = 0.15;
    static constexpr int kMaxHoldBreaths = 4;

private:
    double m_rate = 6.0, m_target = 6.0, m_glide = 1.0;
    std::optional<double> m_ref_rsa, m_ref_coh;
    bool m_holding = false;
    int m_hold_count = 0, m_held_total = 0;
};

struct ProgramEvent {
    double t_s = 0.0;   // active time
    std::string kind;   // "step", "prompt"
    std::string text;
};

struct AssessmentBlockPlan {
    double rate_bpm = 0.0;
    double t0_s = 0.0, t1_s = 0.0;  // paced block, active time
    std::string role;
};

class ProgramRunner {
public:
    explicit ProgramRunner(Program program);

    const Program& program() const { return m_program; }
    // Builds the first step (LiveSession::Start).
    void Begin(const LiveSession& session);
    // The next active time at which Decide must be called, or nullopt when the plan is complete.
    std::optional<double> NextDecisionS() const;
    // Extends the timeline (next step, next ramp breath, next assessment round). `offset_s` is
    // session time minus active time (pauses) at the decision.
    void Decide(double active_t_s, double offset_s, const LiveSession& session);

    PacerState At(double active_t_s) const;
    std::optional<double> BreathStart(std::int64_t k) const { return m_timeline.BreathStart(k); }
    const PacerTimeline& timeline() const { return m_timeline; }
    bool Finished(double active_t_s) const { return !NextDecisionS() && active_t_s >= m_timeline.end_s(); }
    // The end (active time) once nothing more will be added: the last step is built and no
    // ramp breath or assessment round is pending. nullopt before that.
    std::optional<double> KnownEndS() const;
    // Planned length: what is built, plus the rest of the steps as planned.
    double LengthS() const;

    // The step showing at active time t (-1 before the first) and its prompt ("" when none).
    int StepAt(double active_t_s) const;
    double StepStartS(int step) const;
    std::string PromptAt(double active_t_s) const;
    std::vector<ProgramEvent> TakeEvents(double up_to_active_t_s);

    std::optional<double> baseline_breathing_bpm() const { return m_baseline_bpm; }
    const std::optional<RampController>& ramp() const { return m_ramp; }
    int ramp_held_breaths() const { return m_ramp_held + (m_ramp ? m_ramp->held_breaths_total() : 0); }
    // Assessment: the blocks planned so far, their scores once scored, the final result.
    const std::vector<AssessmentBlockPlan>& assessment_plan() const { return m_blocks; }
    const std::vector<RateBlock>& assessment_scores() const { return m_scored; }
    const std::optional<AssessmentResult>& assessment() const { return m_result; }

private:
    void StartStep(int index, double t_s, const LiveSession& session);
    void AppendRampBreath(const LiveSession& session, double t_s);
    void ScoreBlocks(const LiveSession& session, double offset_s);
    void AssessmentRound(double t_s, double offset_s, const LiveSession& session);
    void AddBlock(double rate_bpm, double block_s, double rest_s, const std::string& role);
    BreathPattern RatePattern(double rate_bpm) const;
    void MeasureBaseline(const LiveSession& session, double t0_s, double t1_s);

    Program m_program;
    PacerTimeline m_timeline;
    std::vector<double> m_step_start;  // active time each started step began
    int m_step = -1;                   // the step being built
    double m_step_nominal_end_s = 0.0;
    bool m_done = false;
    std::vector<ProgramEvent> m_events;
    std::size_t m_events_taken = 0;
    std::optional<double> m_baseline_bpm;
    std::optional<RampController> m_ramp;
    int m_ramp_held = 0;  // held breaths of finished ramps
    // assessment
    std::vector<AssessmentBlockPlan> m_blocks;
    std::vector<RateBlock> m_scored;
    std::optional<AssessmentResult> m_result;
    int m_round = 0;  // 0 scan, 1 extension (maybe), 2 confirmation, 3 done
    std::vector<std::pair<double, std::string>> m_queue;  // blocks of this round still to run
    double m_queue_block_s = 0.0;
};

}  // namespace attune::core
