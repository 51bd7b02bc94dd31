"""Baseline of tools/bench/monitoring/window.bench.ts: every column of a window scored against the
same column of a reference with scipy and numpy, as Evidently computes each method (and as
plugins/drift-stats/test/vectors/generate.py writes the spec vectors).

Usage: /usr/bin/python3 window_scipy.py <reference.f64> <window.f64> <columns>   (Debian's python3-numpy and python3-scipy)
The two files hold <columns> columns of float64, one after the other. Prints one JSON line: the
seconds each method took over all the columns (the arrays already loaded), how many columns each
found drifted (distance > 0.1, p-value < 0.05), and the peak RSS before and after, KiB (VmHWM of
/proc/self/status: ru_maxrss would carry the spawning node process's peak across fork and exec).
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
    return float(np.sum((r - c) * np.log(r / c))) > 0.1


def wasserstein(reference, current):
    return float(stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)) > 0.1


def ks(reference, current):
    return float(stats.ks_2samp(reference, current).pvalue) < 0.05


def peak_rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


columns = int(sys.argv[3])
reference, window = np.fromfile(sys.argv[1]).reshape(columns, -1), np.fromfile(sys.argv[2]).reshape(columns, -1)
ready = peak_rss_kib()
seconds, drifted = {}, {}
for name, method in (("wasserstein", wasserstein), ("ks", ks), ("psi", psi)):
    start = time.perf_counter()
    drifted[name] = sum(method(reference[c], window[c]) for c in range(columns))
    seconds[name] = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "drifted": drifted, "max_rss_kib": peak_rss_kib(), "ready_rss_kib": ready, "numpy": np.__version__, "scipy": scipy.__version__}))
