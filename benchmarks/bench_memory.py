"""Benchmark: peak memory and wall time of large velocity fits (issue 12).

Each size runs in its own child process, so the figure is that process's
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: JAX
runtime, compilation and the fit together), not a difference of snapshots.

Data: synthetic dv/v(T) of the Eq. 3 model (Churkin et al. 2021, Eqs. 7 + 8)
at N temperatures log-spaced over 0.01-10 K, omega = paper_frequency(90 kHz),
A = paper_frequency(9.4 MHz), C = 3.2e-4, mu = 0.1, offset 1e-4, plus 0.5 %
Gaussian noise of the signal's range (seed 0); the fit is
``fit(Model("velocity", omega=...), (T, y))`` with four free parameters and
no per-point sigma, as a user would call it.

Run:  python benchmarks/bench_memory.py --n 20000 100000 1000000 [--json OUT]
Prints one line per size: N, peak RSS (GB), wall time (s), status, and the
marginal memory per point between consecutive sizes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def child(n: int) -> dict:
    import resource

    import numpy as np

    import jtls
    from jtls import units
    from jtls.fit import Model, fit

    omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)
    T = np.geomspace(0.01, 10.0, n)
    y = np.asarray(jtls.velocity_shift(T, mu=0.1, C=3.2e-4, A=A, omega=omega)) + 1e-4
    rng = np.random.default_rng(0)
    y = y + 0.005 * np.ptp(y) * rng.standard_normal(n)
    t0 = time.perf_counter()
    r = fit(Model("velocity", omega=omega), (T, y))
    wall = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"n": n, "peak_gb": peak_kb / 1024**2, "wall_s": wall, "status": r.status,
            "mu": float(r.values["mu"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[20000, 100000])
    ap.add_argument("--json", help="write the rows to this JSON file")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(a.child)))
        return
    rows = []
    for n in a.n:
        load = os.getloadavg()[0]
        out = subprocess.run([sys.executable, __file__, "--child", str(n)],
                             capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["load_before"] = load
        row["load_after"] = os.getloadavg()[0]
        rows.append(row)
        line = (f"N = {n:>8d}  peak {row['peak_gb']:.3f} GB  wall {row['wall_s']:.1f} s  "
                f"status {row['status']}  mu {row['mu']:.4f}  load {load:.1f}->{row['load_after']:.1f}")
        if len(rows) > 1:
            p = rows[-2]
            per = (row["peak_gb"] - p["peak_gb"]) * 1024**3 / (n - p["n"])
            line += f"  marginal {per / 1024:.2f} kB/point"
        print(line, flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
