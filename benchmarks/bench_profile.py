"""Cost of jtls's inference on top of a fit: profile-likelihood intervals of all
four parameters of a 40-point velocity fit, in units of a warm single fit.

    python benchmarks/bench_profile.py [--repeat 5]

Measured side by side in one process, after one warm-up call each:
  * fit(...)                       -- the default fit (solve + bound checks + verdict)
  * fit(..., intervals="profile")  -- plus 68.3 % / 95 % profile intervals of C, mu, A, offset
  * the bare compiled solve        -- the Levenberg-Marquardt solve alone (jtls.fit.kernel)
Target (issue "inference"): profile intervals of all four parameters in <= 20
warm single-fit times.  Prints the machine load (os.getloadavg()).
"""
import argparse
import os
import statistics
import time

import numpy as np

import jtls
from jtls.fit import Model, build_problem, fit
from jtls.fit.kernel import dispatch_solve
from jtls.fit.solvers import SolverOptions


def _median_time(f, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    T = np.geomspace(0.05, 3.0, 40)
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    sig = np.full(40, 3e-6)
    y = np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.1, A, om)) + 1e-4 + sig * np.random.default_rng(7).normal(size=40)
    model = Model("velocity", omega=om)
    data = (T, y, sig)
    t0 = time.perf_counter()
    res = fit(model, data)
    cold_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    resp = fit(model, data, intervals="profile")
    cold_prof = time.perf_counter() - t0
    assert res.ok and resp.ok, (res.status, resp.status)
    p = build_problem(model, data)
    opts = SolverOptions()

    def bare():
        dispatch_solve("lm", p.spec, p.sizes, p.flat, opts)()

    bare()
    t_bare = _median_time(bare, args.repeat)
    t_fit = _median_time(lambda: fit(model, data), args.repeat)
    t_prof = _median_time(lambda: fit(model, data, intervals="profile"), args.repeat)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cold: fit {cold_fit:.2f} s, "
          f"fit+profile {cold_prof:.2f} s (compilation included)")
    print(f"| bare solve | fit() | fit(intervals='profile') | profile / fit() | profile / bare solve |")
    print(f"| {1e3 * t_bare:.1f} ms | {1e3 * t_fit:.1f} ms | {1e3 * t_prof:.1f} ms | "
          f"{t_prof / t_fit:.1f} | {t_prof / t_bare:.1f} |")
    for k in resp.free:
        iv = resp.intervals[k]
        print(f"  {k}: [{iv['low']:.6g}, {iv['high']:.6g}]  95%: [{iv['low95']:.6g}, {iv['high95']:.6g}]")


if __name__ == "__main__":
    main()
