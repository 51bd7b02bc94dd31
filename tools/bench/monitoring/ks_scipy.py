"""Baseline of tools/bench/monitoring/ks.bench.ts: scipy.stats.ks_2samp on two float64 files.

Usage: /usr/bin/python3 ks_scipy.py <reference.f64> <current.f64> <rounds>   (Debian's python3-scipy)
Prints one JSON line: the seconds of each round (ks_2samp alone, the arrays already loaded), the
statistic and the p-value.
"""
import json
import sys
import time

import numpy as np
import scipy
from scipy import stats

reference, current = np.fromfile(sys.argv[1]), np.fromfile(sys.argv[2])
seconds = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    result = stats.ks_2samp(reference, current)
    seconds.append(time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "statistic": float(result.statistic), "pvalue": float(result.pvalue), "scipy": scipy.__version__}))
