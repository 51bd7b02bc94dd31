"""Writes vectors.json: scipy's p-values and distances for the drift-stats specs.

Run with Debian's interpreter and python3-scipy: /usr/bin/python3 generate.py
Deterministic (fixed seeds). Each method is computed as Evidently computes it, with scipy/numpy.
"""
import json
import warnings

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial import distance

rng = np.random.default_rng(17)


def numeric(n, shift=0.0, scale=1.0, decimals=None):
    values = rng.normal(shift, scale, n)
    return [float(v) for v in (np.round(values, decimals) if decimals is not None else values)]


def categorical(n, categories, weights):
    return [str(v) for v in rng.choice(categories, size=n, p=weights)]


def counts_of(values):
    keys = list(dict.fromkeys(values))
    return keys, {k: values.count(k) for k in keys}


def ks(reference, current):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fallback from exact to asymptotic must not pass unseen
        result = stats.ks_2samp(reference, current)
    return {"statistic": float(result.statistic), "value": float(result.pvalue)}


def chi_square(reference, current):
    keys = list(dict.fromkeys(reference + current))
    scale = len(current) / len(reference)
    expected = [reference.count(k) * scale for k in keys]
    observed = [current.count(k) for k in keys]
    result = stats.chisquare(observed, expected)
    return {"statistic": float(result.statistic), "value": float(result.pvalue)}


def z_test(reference, current):
    key = list(dict.fromkeys(reference + current))[0]
    n1, n2 = len(reference), len(current)
    p1, p2 = reference.count(key) / n1, current.count(key) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return {"statistic": float(z), "value": float(2 * (1 - stats.norm.cdf(abs(z))))}


def wasserstein(reference, current):
    value = stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)
    return {"statistic": float(value), "value": float(value)}


def jensen_shannon(reference, current):
    keys = list(dict.fromkeys(reference + current))
    p = np.array([reference.count(k) / len(reference) for k in keys])
    q = np.array([current.count(k) / len(current) for k in keys])
    value = distance.jensenshannon(p, q)
    return {"statistic": float(value), "value": float(value)}


def fill_empty(shares):
    smallest = shares[shares != 0].min()
    shares = shares.copy()
    shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return shares


def psi(reference, current, kind):
    if kind == "numeric":
        cuts = np.unique(np.quantile(reference, np.arange(1, 10) / 10))
        bins = len(cuts) + 1
        r = np.bincount(np.searchsorted(cuts, reference, side="right"), minlength=bins) / len(reference)
        c = np.bincount(np.searchsorted(cuts, current, side="right"), minlength=bins) / len(current)
    else:
        keys = list(dict.fromkeys(reference + current))
        r = np.array([reference.count(k) / len(reference) for k in keys])
        c = np.array([current.count(k) / len(current) for k in keys])
    r, c = fill_empty(r), fill_empty(c)
    value = float(np.sum((r - c) * np.log(r / c)))
    return {"statistic": value, "value": value}


COLOURS = ["red", "green", "blue", "black", "white"]
cases = []


def case(method, name, kind, reference, current, expected):
    cases.append({"method": method, "name": name, "type": kind, "reference": reference, "current": current, "expected": expected})


for name, (n1, n2, shift, decimals) in {
    "small samples": (20, 30, 0.0, None),
    "equal sizes, shifted": (50, 50, 0.8, None),
    "unequal sizes with ties": (300, 700, 0.1, 1),
    "1,000 against 2,000, shifted a little": (1000, 2000, 0.12, None),
    "asymptotic, shifted": (12000, 9000, 0.06, None),
    "asymptotic, clearly shifted": (15000, 11000, 0.3, None),
}.items():
    reference, current = numeric(n1, decimals=decimals), numeric(n2, shift, decimals=decimals)
    case("ks", name, "numeric", reference, current, ks(reference, current))

for name, (n1, n2, shift, scale) in {"same distribution": (500, 400, 0.0, 1.0), "shifted and spread": (800, 600, 0.5, 2.0), "constant reference": (50, 40, 0.0, 0.0)}.items():
    reference, current = numeric(n1, 0.0, scale, 3), numeric(n2, shift, max(scale, 1.0), 3)
    case("wasserstein", name, "numeric", reference, current, wasserstein(reference, current))
    case("psi", name, "numeric", reference, current, psi(reference, current, "numeric"))

for name, (n1, n2, w1, w2) in {
    "same shares": (400, 300, [0.4, 0.3, 0.2, 0.1, 0.0], [0.4, 0.3, 0.2, 0.1, 0.0]),
    "reversed shares": (500, 450, [0.4, 0.3, 0.2, 0.1, 0.0], [0.1, 0.2, 0.3, 0.4, 0.0]),
    "a category gone from the window": (300, 200, [0.3, 0.3, 0.2, 0.1, 0.1], [0.4, 0.3, 0.3, 0.0, 0.0]),
}.items():
    reference, current = categorical(n1, COLOURS, w1), categorical(n2, COLOURS, w2)
    case("chi-square", name, "categorical", reference, current, chi_square(reference, current))
    case("jensen-shannon", name, "categorical", reference, current, jensen_shannon(reference, current))
    case("psi", name, "categorical", reference, current, psi(reference, current, "categorical"))

reference, current = categorical(600, COLOURS, [0.4, 0.3, 0.2, 0.1, 0.0]), categorical(300, COLOURS, [0.1, 0.1, 0.3, 0.3, 0.2])
case("jensen-shannon", "a category new in the window", "categorical", reference, current, jensen_shannon(reference, current))
case("psi", "a category new in the window", "categorical", reference, current, psi(reference, current, "categorical"))

for name, (n1, n2, p1, p2) in {"same proportion": (400, 350, 0.3, 0.3), "moved proportion": (500, 500, 0.3, 0.4), "small samples": (30, 25, 0.5, 0.2)}.items():
    reference, current = categorical(n1, ["yes", "no"], [p1, 1 - p1]), categorical(n2, ["yes", "no"], [p2, 1 - p2])
    case("z-test", name, "categorical", reference, current, z_test(reference, current))

special_functions = {
    "upperGamma": [{"a": a, "x": x, "value": float(special.gammaincc(a, x))} for a in [0.5, 1, 1.5, 2, 4.5, 10, 49.5] for x in [0.01, 0.5, 1, 3, 7.5, 20, 60]],
    "normalSurvival": [{"z": z, "value": float(stats.norm.sf(z))} for z in [-3, -1.2, 0, 0.3, 1.96, 3.5, 6, 9]],
    "smirnovSurvival": [{"n": n, "d": d, "value": float(special.smirnov(n, d))} for n, d in [(5, 0.3), (20, 0.2), (100, 0.15), (1000, 0.05), (5000, 0.03)]],
    # kstwo.sf where the KS asymptotic branch claims to match: n·d² >= 2.2, d >= 0.5, n·d <= 1, n·d >= n - 1,
    # n <= 140, and n <= 100,000 with n·d^1.5 <= 1.4
    "oneSampleSurvival": [
        {"n": n, "d": d, "value": float(stats.kstwo.sf(d, n))}
        for n, d in [(5000, 0.025), (20000, 0.012), (500000, 0.0025), (150, 0.6), (300, 0.002), (300, 0.0031), (200, 0.996),
                     (100, 0.1), (50, 0.05), (140, 0.13), (20, 0.3), (5000, 0.004), (80000, 0.0005)]
    ],
}

with open("vectors.json", "w") as out:
    json.dump({"scipy": scipy.__version__, "numpy": np.__version__, "cases": cases, "special": special_functions}, out)
    out.write("\n")
