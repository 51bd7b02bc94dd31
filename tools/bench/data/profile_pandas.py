"""Baseline of tools/bench/data/profile.bench.ts: pandas read_csv + describe + quantiles of one CSV.

Usage: python3 profile_pandas.py <file.csv> [<quantiles.json>]   (Debian's python3-pandas: `command -p python3`)
Prints one JSON line: seconds (read_csv to the last statistic), cpu_seconds (user + system time of
the same span) and max_rss_kib (peak RSS of this process).
With a second argument, writes the percentiles per numeric column there (after the timing), so that
the bench can compare the profiler's with them.
"""
import json
import resource
import sys
import time

import pandas as pd

PERCENTILES = [i / 100 for i in range(101)]

start = time.perf_counter()
cpu_start = time.process_time()
frame = pd.read_csv(sys.argv[1])
described = frame.describe(include="all")
quantiles = frame.select_dtypes(include="number", exclude="bool").quantile(PERCENTILES)
seconds = time.perf_counter() - start
cpu_seconds = time.process_time() - cpu_start
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": cpu_seconds,
    "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "rows": int(len(frame)),
    "columns": int(len(frame.columns)),
    "pandas": pd.__version__,
}))
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as out:
        json.dump({name: [float(v) for v in quantiles[name]] for name in quantiles.columns}, out)
