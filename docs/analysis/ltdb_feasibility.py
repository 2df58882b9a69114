#!/usr/bin/python3
"""Can any RR-only classifier flag >= 95 % of an LTDB record's V beats at <= 1 % of normal beats?

Usage: /usr/bin/python3 docs/analysis/ltdb_feasibility.py 14149   (or 14046)
Needs Debian's python3-sklearn (apt-get install python3-sklearn); not part of the build.

Features for beat k: the 14 intervals RR(k-10) .. RR(k+3) and the 4 around k over the median of
the previous 20 intervals (causal, unlabelled) and over a centred 41-interval median, plus the
reference itself. Positives: V beats; negatives: N beats with N neighbours. A gradient-boosted
classifier is trained on 4 of 5 contiguous time blocks and scores the 5th (so it learns this
person's ectopy from the rest of the same day: a generous setting), and, as an upper bound that
only memorises, on everything. Printed: V sensitivity at a given share of normal beats flagged
(a flagged beat flags its two intervals, so interval-level rates are about twice these).
Measured 2026-12-06: 14149 held out 8.7 % at 0.5 %, 14.8 % at 1 %, 46 % at 5 %, 83 % at 20 %
of normal beats; 14046 cross-validated 97.0 % at 0.25 %, 98.4 % at 1 %.
"""
import os
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ltdb_atr import beats  # noqa: E402

rec = sys.argv[1]
t, c = beats(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data', 'rr',
                          rec + '.atr'))
t = np.array(t)
c = np.array(c)
rr = np.concatenate([[np.nan], np.diff(t) * 1000])  # rr[k] ends at beat k
n = len(t)


def rolling_median(x, before, after):
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        w = x[max(0, i - before):min(len(x), i + after + 1)]
        w = w[np.isfinite(w)]
        if len(w) >= 8:
            out[i] = np.median(w)
    return out


ref = rolling_median(np.concatenate([[np.nan], rr[:-1]]), 19, 0)  # previous 20 intervals
refw = rolling_median(rr, 20, 20)
idx = np.arange(n)
shift = lambda d: rr[np.clip(idx + d, 0, n - 1)]  # noqa: E731
X = np.stack([shift(d) / ref for d in range(-10, 4)] + [shift(d) / refw for d in (-1, 0, 1, 2)] + [ref / 1000], axis=1)
cand = np.arange(12, n - 4)
cand = cand[np.isfinite(X[cand]).all(1)]
is_v = c[cand] == 5
is_n = (c[cand] == 1) & (c[cand - 1] == 1) & (c[cand + 1] == 1)
sel = cand[is_v | is_n]
y = (c[sel] == 5).astype(int)
Xs = X[sel]
print(rec, 'V beats', int(y.sum()), 'normal beats', int(len(y) - y.sum()))


def report(score, tag):
    neg = np.sort(score[y == 0])[::-1]
    for fp in (0.0025, 0.005, 0.01, 0.02, 0.05, 0.10, 0.20):
        th = neg[int(fp * len(neg))]
        print(f'  {tag}: {fp * 100:5.2f} % of normal beats flagged -> {np.mean(score[y == 1] > th) * 100:5.1f} % of V beats')


oof = np.zeros(len(y))
for block in np.array_split(np.arange(len(y)), 5):
    train = np.setdiff1d(np.arange(len(y)), block)
    m = HistGradientBoostingClassifier(max_iter=300, class_weight='balanced').fit(Xs[train], y[train])
    oof[block] = m.predict_proba(Xs[block])[:, 1]
report(oof, 'held-out blocks')
m = HistGradientBoostingClassifier(max_iter=600, max_leaf_nodes=63, class_weight='balanced').fit(Xs, y)
report(m.predict_proba(Xs)[:, 1], 'memorised (upper bound)')
