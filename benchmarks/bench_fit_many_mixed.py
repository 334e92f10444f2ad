"""fit_many on datasets of very different lengths, against fit() of each in turn (one process).

A parameter scan often mixes short and long curves.  fit_many solves the datasets of each size
bucket in calls of their own (since session 14; before, every dataset was padded to the largest
one's bucket).  Warm times (every program compiled by a first pass), side by side:

    python benchmarks/bench_fit_many_mixed.py [--short 63] [--long 5000] [--repeats 2]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import jtls  # noqa: E402
from jtls.fit import fit  # noqa: E402
from jtls.fit.batch import fit_many  # noqa: E402


def curve(n, seed):
    """Specific heat C(T) = B T^(1+mu) (Eq. 6 with the Eq. 3 DOS), B = 2, mu = 0.1, 1 % noise."""
    T = np.geomspace(0.1, 1.0, n)
    rng = np.random.default_rng(seed)
    return T, np.asarray(jtls.specific_heat(T, 2.0, 0.1)) * (1 + 0.01 * rng.normal(size=n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=int, default=63, help="number of 20-point datasets")
    ap.add_argument("--long", type=int, default=5000, help="points of the one long dataset")
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    data = [curve(20, i) for i in range(a.short)] + [curve(a.long, 999), curve(37, 1000), curve(9, 1001)]
    fit_many("specific_heat", data)                        # compile every program
    for d in data:
        fit("specific_heat", d)
    t_many, t_each = [], []
    for _ in range(a.repeats):
        t = time.perf_counter()
        many = fit_many("specific_heat", data)
        t_many.append(time.perf_counter() - t)
        t = time.perf_counter()
        each = [fit("specific_heat", d) for d in data]
        t_each.append(time.perf_counter() - t)
    worst = max(abs(m[k] - e[k]) / e.stderr[k] for m, e in zip(many, each) if e.ok for k in ("B", "mu"))
    print(f"{len(data)} datasets ({a.short} x 20 points, 1 x {a.long}, 37, 9); load {os.getloadavg()[0]:.1f}")
    print(f"fit_many (warm, best of {a.repeats}): {min(t_many):.2f} s")
    print(f"fit() of each in turn (warm, best of {a.repeats}): {min(t_each):.2f} s")
    print(f"ratio: {min(t_each) / min(t_many):.2f}x; statuses equal: "
          f"{[m.status for m in many] == [e.status for e in each]}; largest difference {worst:.1e} standard errors")


if __name__ == "__main__":
    main()
