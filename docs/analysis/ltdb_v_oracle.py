#!/usr/bin/env python3
"""How far can an RR-only rule go on MIT-BIH LTDB ventricular beats? (issue 3's 95 % target)

Usage: docs/analysis/ltdb_v_oracle.py 14046   (reads ../shared/data/rr/<record>.atr)

The sinus reference here is an oracle: the median of the last 20 N-N intervals whose four
surrounding beats are all labelled N (Attune cannot know the labels; its reference is the
intervals it labelled ok). The "interval-level rules" block is the upper bound quoted in
an earlier dsp/include/attune/dsp/artifacts.hpp: V beats flagged (either adjacent interval) against the
share of N-N-between-N intervals flagged.
That bound holds for this family of single-interval rules only: a classifier on the intervals
around each beat does much better on 14046 (ltdb_feasibility.py), which led to the
recurring-pattern rule (95.1 / 95.4 % of 14046's V beats at 0.61 / 0.64 % N-N flags).
"""
import sys; import os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ltdb_atr import beats
import statistics, collections
rec=sys.argv[1]
t,c=beats(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'shared', 'data', 'rr', rec + '.atr'))
rr=[None]+[(t[i]-t[i-1])*1000 for i in range(1,len(t))]  # rr[i] ends at beat i
N,V=1,5
# reference: median of last 20 intervals i with beats i-1,i both N and i-2, i+1 N (clean NN)
from collections import deque
ref=[None]*len(t); win=deque(maxlen=20)
for i in range(2,len(t)-1):
    ref[i]=statistics.median(win) if len(win)>=8 else None
    if c[i-2]==N and c[i-1]==N and c[i]==N and c[i+1]==N and 273<=rr[i]<=2000: win.append(rr[i])
# V beat v: S=rr[v], L=rr[v+1]; NbN interval i: treat beat i as candidate "S" with S=rr[i], L=rr[i+1]
def feats(k):
    return rr[k]/ref[k], rr[k+1]/ref[k], rr[k]/rr[k-1]
Vs=[v for v in range(3,len(t)-2) if c[v]==V and ref[v]]
Ns=[i for i in range(3,len(t)-2) if c[i-2]==N and c[i-1]==N and c[i]==N and c[i+1]==N and ref[i]]
print(len(Vs),len(Ns))
import itertools
def rule(k,a,b,g):
    s,l,sp=feats(k)
    return (s<=1-a and l>=1+b) or (l-s)>=g
for a,b,g in [(0.03,0.03,0.15),(0.04,0.04,0.15),(0.05,0.05,0.15),(0.03,0.03,0.2),(0.05,0.02,0.12),(0.02,0.02,0.12),(0.04,0.0,0.1)]:
    vs=sum(rule(v,a,b,g) or rule(v-1,a,b,g) if False else (rule(v,a,b,g)) for v in Vs)/len(Vs)
    ns=sum(rule(i,a,b,g) for i in Ns)/len(Ns)
    print(a,b,g,'V',round(vs,4),'N',round(ns,4))
# distribution of V S/ref
import math
h=collections.Counter(round(feats(v)[0],2) for v in Vs)
print('V S/ref quantiles', [round(x,3) for x in statistics.quantiles([feats(v)[0] for v in Vs],n=20)])
print('V L/ref quantiles', [round(x,3) for x in statistics.quantiles([feats(v)[1] for v in Vs],n=20)])
print('N S/ref quantiles', [round(x,3) for x in statistics.quantiles([feats(i)[0] for i in Ns],n=20)])
print('N L-S /ref quantiles', [round(x,3) for x in statistics.quantiles([feats(i)[1]-feats(i)[0] for i in Ns],n=100)][-10:])
print('V L-S /ref quantiles', [round(x,3) for x in statistics.quantiles([feats(v)[1]-feats(v)[0] for v in Vs],n=20)])
print('---- interval-level rules')
def fl(i,a,b):
    if ref[i] is None: return False
    s=rr[i]/ref[i]
    if s<=1-a: return True
    if s>=1+b and rr[i-1]<=(1-a/2)*ref[i]: return True
    return False
for a in (0.06,0.08,0.10,0.12):
  for b in (0.04,0.08):
    vf=sum(fl(v,a,b) or fl(v+1,a,b) for v in Vs)/len(Vs)
    nf=sum(fl(i,a,b) for i in Ns)/len(Ns)
    print(a,b,'V',round(vf,4),'N',round(nf,4))
print('---- with abruptness')
def fl2(i,a,x,b, memo={}):
    if ref[i] is None: return False
    s=rr[i]/ref[i]
    if s<=1-a and (rr[i]<=(1-x)*rr[i-1] or rr[i-1]<=(1-a)*ref[i] ): return True
    if s<=1-2*a: return True
    if s>=1+b and rr[i-1]<=(1-a)*ref[i]: return True
    return False
for a in (0.06,0.07,0.08,0.10):
  for x in (0.03,0.05,0.08):
    b=0.03
    vf=sum(fl2(v,a,x,b) or fl2(v+1,a,x,b) for v in Vs)/len(Vs)
    nf=sum(fl2(i,a,x,b) for i in Ns)/len(Ns)
    print(a,x,b,'V',round(vf,4),'N',round(nf,4))
