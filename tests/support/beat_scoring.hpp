// Beat-detection scoring as in ../shared/data/README.md: detected beats are matched one-to-one
// to reference beats within +/- tolerance (150 ms ECG, 100 ms PPG); the first `skip_s` seconds
// are not counted. Se = TP/(TP+FN), +P = TP/(TP+FP), F1 = 2 TP / (2 TP + FP + FN).
//
// Matching: both lists sorted; each reference beat, in time order, takes the closest still
// unmatched detection within the window (a greedy nearest match, which is optimal here because
// the window is shorter than half of any plausible beat interval). A pair counts as a true
// positive when its reference lies at or after skip_s; unmatched references before skip_s and
// unmatched detections before skip_s are ignored.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace attune::test {

struct BeatScore {
    std::size_t tp = 0, fp = 0, fn = 0;
    double mean_abs_error_ms = 0.0;  // over matched pairs counted as TP
    double mean_error_ms = 0.0;      // detected minus reference
    double se() const { return tp + fn ? static_cast<double>(tp) / static_cast<double>(tp + fn) : 1.0; }
    double ppv() const { return tp + fp ? static_cast<double>(tp) / static_cast<double>(tp + fp) : 1.0; }
    double f1() const {
        const double d = 2.0 * static_cast<double>(tp) + static_cast<double>(fp + fn);
        return d > 0 ? 2.0 * static_cast<double>(tp) / d : 1.0;
    }
    BeatScore& operator+=(const BeatScore& o) {
        const double n1 = static_cast<double>(tp), n2 = static_cast<double>(o.tp);
        if (n1 + n2 > 0) {
            mean_abs_error_ms = (mean_abs_error_ms * n1 + o.mean_abs_error_ms * n2) / (n1 + n2);
            mean_error_ms = (mean_error_ms * n1 + o.mean_error_ms * n2) / (n1 + n2);
        }
        tp += o.tp;
        fp += o.fp;
        fn += o.fn;
        return *this;
    }
    std::string summary() const {
        char buf[200];
        std::snprintf(buf, sizeof buf, "TP %zu FP %zu FN %zu  Se %.2f%%  +P %.2f%%  F1 %.2f%%  |err| %.1f ms (bias %+.1f)",
                      tp, fp, fn, 100.0 * se(), 100.0 * ppv(), 100.0 * f1(), mean_abs_error_ms, mean_error_ms);
        return buf;
    }
};

// Times in seconds. `offset_s` is added to the reference times before matching (for example a
// pulse arrival delay when ECG beats are the reference for a PPG).
inline BeatScore score_beats(std::vector<double> reference_s, std::vector<double> detected_s, double tolerance_s,
                             double skip_s = 5.0, double offset_s = 0.0) {
    std::sort(reference_s.begin(), reference_s.end());
    std::sort(detected_s.begin(), detected_s.end());
    for (double& r : reference_s) r += offset_s;
    std::vector<bool> used(detected_s.size(), false);
    BeatScore s;
    double abs_sum = 0.0, sum = 0.0;
    std::size_t lo = 0;
    for (double r : reference_s) {
        while (lo < detected_s.size() && detected_s[lo] < r - tolerance_s) ++lo;
        std::size_t best = detected_s.size();
        double best_d = tolerance_s;
        for (std::size_t j = lo; j < detected_s.size() && detected_s[j] <= r + tolerance_s; ++j) {
            if (used[j]) continue;
            const double d = std::abs(detected_s[j] - r);
            if (d <= best_d) {
                best_d = d;
                best = j;
            }
        }
        const bool counted = r - offset_s >= skip_s;
        if (best < detected_s.size()) {
            used[best] = true;
            if (counted) {
                ++s.tp;
                abs_sum += best_d;
                sum += detected_s[best] - r;
            }
        } else if (counted) {
            ++s.fn;
        }
    }
    for (std::size_t j = 0; j < detected_s.size(); ++j)
        if (!used[j] && detected_s[j] >= skip_s) ++s.fp;
    if (s.tp) {
        s.mean_abs_error_ms = 1000.0 * abs_sum / static_cast<double>(s.tp);
        s.mean_error_ms = 1000.0 * sum / static_cast<double>(s.tp);
    }
    return s;
}

}  // namespace attune::test
