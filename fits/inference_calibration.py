"""Calibration of jtls's inference on the velocity model: coverage of profile
intervals and size of the mu = 0 test over synthetic draws.

    python fits/inference_calibration.py [--draws 200] [--out out/]

Δv/v (Eqs. 7 + 8, Eq. 3 DOS) at 90 kHz with the Fig. 5a relaxation constant,
40 points over 0.05-3 K, sigma = 3e-6 given, C = 3.2e-4, offset 1e-4:
  * mu = 0.1: how often the 68.3 % / 95 % profile intervals of mu contain the truth;
  * mu = 0   (the standard tunneling model): how often mu lands on its
    physical bound, the 95 % interval reaches 0, and the boundary
    likelihood-ratio test of mu = 0 rejects at 5 %.
Writes inference_calibration.json (and prints a table) with the binomial
standard errors of each proportion.  The fast 200-draw versions of these
checks on the specific heat are tests (tests/test_fit_inference.py).
"""
import argparse
import json
import math
import os
import time

import numpy as np

import jtls
from jtls.fit import Model, fit


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=200)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default="out")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "inference_calibration.json")
    T = np.geomspace(0.05, 3.0, 40)
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    sig = np.full(40, 3e-6)
    model = Model("velocity", omega=om)
    n = args.draws
    rng = np.random.default_rng(args.seed)
    out = {"draws": n, "seed": args.seed, "observable": "velocity", "omega": om, "A": A, "sigma": 3e-6}
    t0 = time.time()
    y0 = np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.1, A, om)) + 1e-4
    c68 = c95 = ok = 0
    for _ in range(n):
        r = fit(model, (T, y0 + sig * rng.normal(size=40), sig), intervals=["mu"])
        ok += r.ok
        iv = r.intervals["mu"]
        c68 += iv["low"] <= 0.1 <= iv["high"]
        c95 += iv["low95"] <= 0.1 <= iv["high95"]
    out["mu_0.1"] = {"ok": ok / n, "coverage68": c68 / n, "coverage95": c95 / n}
    y0 = np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.0, A, om)) + 1e-4
    at = cov0 = rej = ok = 0
    for _ in range(n):
        r = fit(model, (T, y0 + sig * rng.normal(size=40), sig))
        ok += r.ok
        at += "mu" in r.at_bound
        cov0 += r.intervals.get("mu", {}).get("low95_kind") == "physical"
        p = r.tests["mu_zero"]["p_value"]
        rej += p is not None and p < 0.05
    out["mu_0"] = {"ok": ok / n, "at_bound": at / n, "interval95_reaches_0": cov0 / n, "rejection_at_5pct": rej / n}
    out["binomial_se"] = {"p=0.683": math.sqrt(0.683 * 0.317 / n), "p=0.95": math.sqrt(0.95 * 0.05 / n),
                          "p=0.05": math.sqrt(0.05 * 0.95 / n), "p=0.5": math.sqrt(0.25 / n)}
    out["seconds"] = time.time() - t0
    out["load_average"] = os.getloadavg()
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
    print(json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
