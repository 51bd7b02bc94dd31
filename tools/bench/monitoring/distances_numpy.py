"""Baseline of tools/bench/monitoring/distances.bench.ts: PSI with numpy and the normed Wasserstein
distance with scipy.stats.wasserstein_distance, on two float64 files, as Evidently computes them
(and as plugins/drift-stats/test/vectors/generate.py writes the spec vectors).

Usage: /usr/bin/python3 distances_numpy.py <reference.f64> <current.f64> <rounds>   (Debian's python3-numpy and python3-scipy)
Prints one JSON line: the seconds of each round per method (the arrays already loaded) and each
method's value.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats


def fill_empty(shares):
    smallest = shares[shares != 0].min()
    shares = shares.copy()
    shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return shares


def psi(reference, current):
    cuts = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
    bins = len(cuts) + 1
    r = np.bincount(np.searchsorted(cuts, reference, side="right"), minlength=bins) / len(reference)
    c = np.bincount(np.searchsorted(cuts, current, side="right"), minlength=bins) / len(current)
    r, c = fill_empty(r), fill_empty(c)
    return float(np.sum((r - c) * np.log(r / c)))


def wasserstein(reference, current):
    return float(stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001))


reference, current = np.fromfile(sys.argv[1]), np.fromfile(sys.argv[2])
seconds = {"psi": [], "wasserstein": []}
values = {}
for _ in range(int(sys.argv[3])):
    for name, method in (("psi", psi), ("wasserstein", wasserstein)):
        start = time.perf_counter()
        values[name] = method(reference, current)
        seconds[name].append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "values": values, "numpy": np.__version__, "scipy": scipy.__version__}))
