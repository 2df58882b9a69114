#include "attune/core/program_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "attune/core/live_session.hpp"

namespace attune::core {

// ------------------------------------------------------------------------------------------------
// RampController

RampController::RampController(double from_bpm, double to_bpm, double glide_bpm_per_min)
    : m_rate(from_bpm), m_target(to_bpm), m_glide(glide_bpm_per_min) {}

double RampController::Next(std::optional<double> rsa_bpm, std::optional<double> coherence) {
    const bool first_rsa = rsa_bpm && !m_ref_rsa;
    const bool first_coh = coherence && !m_ref_coh;
    if (first_rsa) m_ref_rsa = rsa_bpm;
    if (first_coh) m_ref_coh = coherence;
    const bool rsa_low = rsa_bpm && m_ref_rsa && *rsa_bpm < kRsaDrop * *m_ref_rsa;
    const bool coh_low = coherence && m_ref_coh && *coherence < *m_ref_coh - kCohDrop;
    if (m_holding) {
        const bool rsa_ok = !rsa_bpm || !m_ref_rsa || *rsa_bpm >= kRsaRecover * *m_ref_rsa;
        const bool coh_ok = !coherence || !m_ref_coh || *coherence >= *m_ref_coh - kCohRecover;
        if (rsa_ok && coh_ok) {
            m_holding = false;
            m_hold_count = 0;
        } else if (m_hold_count >= kMaxHoldBreaths) {
            // Accept the new level as the reference rather than stall the glide.
            if (rsa_bpm) m_ref_rsa = rsa_bpm;
            if (coherence) m_ref_coh = coherence;
            m_holding = false;
            m_hold_count = 0;
        }
    } else if (rsa_low || coh_low) {
        m_holding = true;
        m_hold_count = 0;
    }
    if (m_holding) {
        ++m_hold_count;
        ++m_held_total;
        return m_rate;
    }
    // The recent level follows the values seen while gliding (exponential average, 3 breaths).
    if (rsa_bpm && !first_rsa) m_ref_rsa = 0.67 * *m_ref_rsa + 0.33 * *rsa_bpm;
    if (coherence && !first_coh) m_ref_coh = 0.67 * *m_ref_coh + 0.33 * *coherence;
    // One breath lasts 1 / rate minutes: glide that fraction of the per-minute step.
    const double step = m_glide / std::max(1.0, m_rate);
    if (m_rate > m_target) m_rate = std::max(m_target, m_rate - step);
    else m_rate = std::min(m_target, m_rate + step);
    return m_rate;
}

// ------------------------------------------------------------------------------------------------
// ProgramRunner

ProgramRunner::ProgramRunner(Program program) : m_program(std::move(program)) {}

void ProgramRunner::Begin(const LiveSession& session) {
    if (m_step < 0) StartStep(0, 0.0, session);
}

std::optional<double> ProgramRunner::NextDecisionS() const {
    if (m_done) return std::nullopt;
    return m_timeline.end_s();
}

std::optional<double> ProgramRunner::KnownEndS() const {
    if (m_done) return m_timeline.end_s();
    if (m_step != static_cast<int>(m_program.steps.size()) - 1 || m_ramp) return std::nullopt;
    const ProgramStep& last = m_program.steps.back();
    if (last.kind == StepKind::Assessment && m_round < 3) return std::nullopt;
    return m_timeline.end_s();
}

double ProgramRunner::LengthS() const {
    double s = m_timeline.end_s();
    if (m_done) return s;
    if (m_step >= 0) {
        const ProgramStep& cur = m_program.steps[static_cast<std::size_t>(m_step)];
        if (cur.kind == StepKind::Assessment && !cur.assessment.sliding && m_round < 3) {
            const AssessmentPlan& a = cur.assessment;
            s += static_cast<double>(m_queue.size()) * (m_queue_block_s + a.rest_s);
            if (m_round < 2 && a.confirm) s += 3.0 * (a.confirm_block_s + a.rest_s);  // expected, not yet planned
        }
    }
    for (std::size_t i = static_cast<std::size_t>(std::max(0, m_step + 1)); i < m_program.steps.size(); ++i)
        s += m_program.steps[i].duration_s;
    return s;
}

PacerState ProgramRunner::At(double t_s) const {
    PacerState st = m_timeline.At(t_s);
    st.remaining_s = std::max(0.0, LengthS() - t_s);
    st.finished = Finished(t_s);
    return st;
}

int ProgramRunner::StepAt(double t_s) const {
    int step = -1;
    for (std::size_t i = 0; i < m_step_start.size(); ++i)
        if (m_step_start[i] <= t_s + 1e-9) step = static_cast<int>(i);
    return step;
}

double ProgramRunner::StepStartS(int step) const {
    return step >= 0 && step < static_cast<int>(m_step_start.size()) ? m_step_start[static_cast<std::size_t>(step)] : 0.0;
}

std::string ProgramRunner::PromptAt(double t_s) const {
    const int i = StepAt(t_s);
    if (i < 0 || Finished(t_s)) return {};
    const double t0 = StepStartS(i);
    std::string text;
    for (const auto& p : m_program.steps[static_cast<std::size_t>(i)].prompts)
        if (t0 + p.at_s <= t_s + 1e-9) text = p.text;
    return text;
}

std::vector<ProgramEvent> ProgramRunner::TakeEvents(double up_to) {
    std::vector<ProgramEvent> out;
    while (m_events_taken < m_events.size() && m_events[m_events_taken].t_s <= up_to + 1e-9)
        out.push_back(m_events[m_events_taken++]);
    return out;
}

BreathPattern ProgramRunner::RatePattern(double rate_bpm) const {
    double fraction = 0.4;
    for (const auto& s : m_program.steps)
        if (s.kind == StepKind::Assessment) fraction = s.assessment.inhale_fraction;
    BreathPattern p = BreathPattern::FourPhase("assessment", "Assessment", 10.0 * fraction, 0.0, 10.0 * (1.0 - fraction), 0.0, 0.0);
    p.SetRateBpm(rate_bpm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.1f breaths/min", rate_bpm);
    p.name = buf;
    return p;
}

void ProgramRunner::MeasureBaseline(const LiveSession& session, double t0_s, double t1_s) {
    std::vector<double> rates;
    for (const auto& h : session.metrics_history())
        if (h.t_s >= t0_s && h.t_s <= t1_s && std::isfinite(h.breathing_rate_bpm)) rates.push_back(h.breathing_rate_bpm);
    if (rates.empty()) return;
    std::nth_element(rates.begin(), rates.begin() + static_cast<long>(rates.size() / 2), rates.end());
    m_baseline_bpm = rates[rates.size() / 2];
}

void ProgramRunner::StartStep(int index, double t_s, const LiveSession& session) {
    // The step that just ended: an arrive step's breathing estimate is the baseline.
    if (m_step >= 0 && m_program.steps[static_cast<std::size_t>(m_step)].kind == StepKind::Arrive)
        MeasureBaseline(session, StepStartS(m_step), t_s);
    if (m_ramp) m_ramp_held += m_ramp->held_breaths_total();
    m_ramp.reset();
    if (index >= static_cast<int>(m_program.steps.size())) {
        m_done = true;
        return;
    }
    m_step = index;
    m_step_start.push_back(t_s);
    const ProgramStep& step = m_program.steps[static_cast<std::size_t>(index)];
    m_events.push_back({t_s, "step", step.title});
    for (const auto& p : step.prompts) m_events.push_back({t_s + p.at_s, "prompt", p.text});
    m_step_nominal_end_s = t_s + step.duration_s;
    switch (step.kind) {
        case StepKind::Paced:
            m_timeline.AppendPaced(*step.pattern, step.duration_s, index);
            break;
        case StepKind::Ramp: {
            const double to = step.to_bpm ? *step.to_bpm : step.pattern->BaseRateBpm();
            const double from = std::clamp(m_baseline_bpm.value_or(step.fallback_from_bpm), 3.0, 20.0);
            if (from <= to + 0.05) {
                // Already at or below the target: no glide, pace at the target.
                BreathPattern p = *step.pattern;
                p.ramp.reset();
                p.SetRateBpm(to);
                m_timeline.AppendPaced(p, step.duration_s, index);
            } else {
                m_ramp = RampController(from, to, step.glide_bpm_per_min);
                AppendRampBreath(session, t_s);
            }
            break;
        }
        case StepKind::Assessment: {
            const AssessmentPlan& a = step.assessment;
            m_round = 0;
            if (a.sliding) {
                BreathPattern p = RatePattern(a.slide_from_bpm);
                const double over_s = (a.slide_from_bpm - a.slide_to_bpm) / a.slide_bpm_per_min * 60.0;
                p.ramp = Ramp{a.slide_from_bpm, a.slide_to_bpm, over_s};
                p.name = "Sliding pacer";
                const double t0 = m_timeline.end_s();
                m_timeline.AppendPaced(p, over_s + 30.0, index);
                // One window per quarter breath/min, centred where the pacer passes that rate.
                for (double r = a.slide_from_bpm - 0.25; r >= a.slide_to_bpm + 0.25 - 1e-9; r -= 0.25) {
                    const double tc = t0 + (a.slide_from_bpm - r) / (a.slide_from_bpm - a.slide_to_bpm) * over_s;
                    const double half = 0.5 * a.slide_window_s;
                    if (tc - half < t0 || tc + half > t0 + over_s + 30.0) continue;
                    m_blocks.push_back({std::round(r * 100.0) / 100.0, tc - half, tc + half, "slide"});
                }
            } else {
                // One block at a time: each is scored when its rest ends (the table fills as it goes).
                for (double r : a.rates_bpm) m_queue.emplace_back(r, "scan");
                m_queue_block_s = a.block_s;
                AddBlock(m_queue.front().first, m_queue_block_s, a.rest_s, m_queue.front().second);
                m_queue.erase(m_queue.begin());
            }
            break;
        }
        default:  // arrive, natural, closing, rating
            m_timeline.AppendNatural(step.duration_s, index);
            break;
    }
}

void ProgramRunner::AddBlock(double rate_bpm, double block_s, double rest_s, const std::string& role) {
    const int step = m_step;
    const double t0 = m_timeline.end_s();
    const double t1 = m_timeline.AppendPaced(RatePattern(rate_bpm), block_s, step);
    m_blocks.push_back({rate_bpm, t0, t1, role});
    if (rest_s > 0.0) m_timeline.AppendNatural(rest_s, step);
}

void ProgramRunner::AppendRampBreath(const LiveSession& session, double t_s) {
    std::optional<double> rsa, coh;
    const auto& breaths = session.recent_breaths();
    // The latest complete breath of this ramp (its result comes a few beats after its end).
    for (auto it = breaths.rbegin(); it != breaths.rend(); ++it)
        if (it->valid && it->start_s >= StepStartS(m_step) - 1e-6) {
            rsa = it->rsa_bpm;
            break;
        }
    if (session.metrics().coherence.valid) coh = session.metrics().coherence.score;
    const double r0 = m_ramp->rate_bpm();
    const double r1 = m_ramp->Next(rsa, coh);
    const ProgramStep& step = m_program.steps[static_cast<std::size_t>(m_step)];
    m_timeline.AppendGlideBreath(*step.pattern, r0, r1, m_step);
    (void)t_s;
}

void ProgramRunner::ScoreBlocks(const LiveSession& session, double offset_s) {
    if (m_scored.size() >= m_blocks.size()) return;
    const AssessmentPlan& a = m_program.steps[static_cast<std::size_t>(m_step)].assessment;
    std::vector<dsp::Beat> beats;
    beats.reserve(session.classified_beats().size());
    for (const auto& c : session.classified_beats())
        if (c.cls == dsp::IntervalClass::ok) beats.push_back({c.t_s, c.ibi_ms, 0.0});
    auto volume_at = [&](double session_t) { return m_timeline.At(session_t - offset_s).volume; };
    for (std::size_t i = m_scored.size(); i < m_blocks.size(); ++i) {
        const AssessmentBlockPlan& b = m_blocks[i];
        const double settle = b.role == "slide" ? 0.0 : a.settle_s;
        const double t0 = b.t0_s + settle, t1 = b.t1_s;
        std::vector<std::pair<double, double>> cycles;
        const PacerState s0 = m_timeline.At(t0);
        for (std::int64_t k = static_cast<std::int64_t>(std::ceil(s0.cycles - 1e-9));; ++k) {
            const auto ts = m_timeline.BreathStart(k), te = m_timeline.BreathStart(k + 1);
            if (!ts || !te || *te > t1 + 1e-6) break;
            if (*ts >= t0 - 1e-6) cycles.emplace_back(*ts + offset_s, *te + offset_s);
        }
        RateBlock r = ScoreWindow(b.rate_bpm, t0 + offset_s, t1 + offset_s, beats, volume_at, cycles);
        r.role = b.role;
        m_scored.push_back(r);
    }
}

void ProgramRunner::AssessmentRound(double t_s, double offset_s, const LiveSession& session) {
    const ProgramStep& step = m_program.steps[static_cast<std::size_t>(m_step)];
    const AssessmentPlan& a = step.assessment;
    ScoreBlocks(session, offset_s);
    auto finish = [&](const std::string& method) {
        m_result = Recommend(m_scored, method);
        m_result->baseline_breathing_bpm = m_baseline_bpm;
        if (!m_result->valid && m_result->note.empty()) m_result->note = "the blocks could not be scored";
        m_round = 3;
        StartStep(m_step + 1, t_s, session);
    };
    if (a.sliding) return finish("sliding");
    if (!m_queue.empty()) {
        AddBlock(m_queue.front().first, m_queue_block_s, a.rest_s, m_queue.front().second);
        m_queue.erase(m_queue.begin());
        return;
    }
    if (m_round == 0) {
        m_round = 1;
        const AssessmentResult scan = Recommend(m_scored, "stepped");
        if (a.extend && scan.valid) {
            const double hi = *std::max_element(a.rates_bpm.begin(), a.rates_bpm.end());
            const double lo = *std::min_element(a.rates_bpm.begin(), a.rates_bpm.end());
            const double best = scan.recommended_rate_bpm;
            if (std::abs(best - hi) < 1e-6 && hi + 0.5 <= 12.0) return AddBlock(hi + 0.5, a.block_s, a.rest_s, "extension");
            if (std::abs(best - lo) < 1e-6 && lo - 0.5 >= 2.0) return AddBlock(lo - 0.5, a.block_s, a.rest_s, "extension");
        }
    }
    if (m_round == 1) {
        m_round = 2;
        const AssessmentResult so_far = Recommend(m_scored, "stepped");
        if (a.confirm && so_far.valid) {
            const double c = so_far.recommended_rate_bpm;
            for (double r : {c + 0.5, c, c - 0.5})
                if (r >= 2.0 && r <= 12.0) m_queue.emplace_back(r, "confirmation");
            m_queue_block_s = a.confirm_block_s;
            AddBlock(m_queue.front().first, m_queue_block_s, a.rest_s, m_queue.front().second);
            m_queue.erase(m_queue.begin());
            return;
        }
    }
    finish("stepped");
    for (const auto& b : m_scored)
        if (b.role == "extension") {
            char buf[96];
            std::snprintf(buf, sizeof buf, "scan extended to %.1f breaths/min (the best rate was at the edge)", b.rate_bpm);
            m_result->note = buf;
        }
}

void ProgramRunner::Decide(double t_s, double offset_s, const LiveSession& session) {
    if (m_done || m_step < 0) return;
    const ProgramStep& step = m_program.steps[static_cast<std::size_t>(m_step)];
    if (m_ramp && t_s < m_step_nominal_end_s - 1e-9) return AppendRampBreath(session, t_s);
    if (step.kind == StepKind::Assessment && m_round < 3) return AssessmentRound(t_s, offset_s, session);
    StartStep(m_step + 1, t_s, session);
}

}  // namespace attune::core
