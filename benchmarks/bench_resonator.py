"""Benchmark: the joint five-power Qi fit of the Nb CPW resonator, jtls vs scipy.

Same model, same data, same start values, same bounds on both sides:

    1/Qi = F delta0 ((T^2 + w^2)/w^2)^(mu/2) tanh(w/2T) / (1 + 10^((P - P_c)/10))^(beta/2)
           + alpha (4/pi) e^(-Delta/T) sinh(xi) K0(xi) / (1 - [sqrt(2 pi T/Delta) + 2 e^-xi I0(xi)] e^(-Delta/T))
           + loss_bg,           xi = w/2T,  residuals ln Qi_data - ln Qi_model (85 points, 7 parameters).

* jtls: ``jtls.fit.fit`` with the registered ``resonator_loss`` observable
  (compiled Levenberg-Marquardt, forward-mode JAX Jacobian, bounds by smooth
  transforms).  "cold" = first call in the process (tracing + XLA
  compilation); "warm" = the same call again (compiled code cached), timed
  for the whole ``fit()`` (problem building, start-value guesses, solve,
  covariance) and for the compiled solve alone on a prebuilt problem
  (``jtls.fit.engine.run_problem``).
* scipy: ``scipy.optimize.least_squares`` (method "trf", 2-point
  finite-difference Jacobian, box bounds) on a numpy/scipy.special
  implementation of the same model; "cold" = first call, "warm" = repeats.
  (lmfit is not installed in this environment; lmfit wraps the same
  least_squares/MINPACK machinery, so scipy is the like-for-like baseline.)

Usage::

    python benchmarks/bench_resonator.py [--repeats 20] [--data-dir DIR]

Prints a markdown table (paste into benchmarks/resonator_results.md).
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
import warnings

import numpy as np
from scipy import optimize, special

import jtls
import jtls.resonator as res
from jtls.data import read_csv, require_dataset
from jtls.fit import Model, build_problem, fit
from jtls.fit.engine import run_problem
from jtls.resonator.models import loss_joint_guess

POWERS = (80, 100, 120, 140, 160)
NAMES = ("F_delta0", "mu", "P_c_dBm", "beta", "Delta", "alpha", "loss_bg")
BOUNDS = {"F_delta0": (0, np.inf), "mu": (-0.5, 1.0), "P_c_dBm": (-np.inf, np.inf),
          "beta": (0.0, 2.0), "Delta": (0.0, np.inf), "alpha": (0.0, 1.0), "loss_bg": (0.0, np.inf)}


def numpy_model(p, T, P, w):
    F, mu, pc, beta, D, alpha, bg = p
    tls = F * ((T**2 + w**2) / w**2) ** (mu / 2) * np.tanh(w / (2 * T)) \
        / (1 + 10 ** ((P - pc) / 10)) ** (beta / 2)
    xi = w / (2 * T)
    boltz = np.exp(-D / T)
    s2 = (np.sqrt(2 * np.pi * T / D) + 2 * special.i0e(xi)) * boltz
    s1 = 4 / np.pi * boltz * 0.5 * (-np.expm1(-2 * xi)) * special.k0e(xi)
    return 1.0 / (tls + alpha * s1 / (1 - s2) + bg)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    omega = float(res.conversions.omega_from_f0(5.619901372e9))
    w = float(res.conversions.hbar_omega_kelvin(5.619901372e9))
    sets = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in POWERS:
            sets.append(read_csv(require_dataset(f"resonator_nb_cpw/qint_minus{p}dBm.csv", args.data_dir)))
    T = np.concatenate([d.T for d in sets])
    Q = np.concatenate([d.value for d in sets])
    P = np.concatenate([np.full(d.T.size, d.meta["power_dBm"]) for d in sets])
    start = loss_joint_guess([(d.T, d.value, d.meta["power_dBm"]) for d in sets], omega)
    start["mu"] = 0.05
    x0 = np.array([start[k] for k in NAMES], float)
    terms = [(Model("resonator_loss", omega=omega, P_dBm=d.meta["power_dBm"]), d, f"P{i}")
             for i, d in enumerate(sets)]

    def jtls_fit():
        return fit(terms, share=list(NAMES), initial=start)

    t = time.perf_counter()
    r_cold = jtls_fit()
    jtls_cold = time.perf_counter() - t
    jtls_warm = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        r = jtls_fit()
        jtls_warm.append(time.perf_counter() - t)
    problem = build_problem(terms, share=list(NAMES), initial=start)
    run_problem(problem)
    jtls_solve = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        run_problem(problem)
        jtls_solve.append(time.perf_counter() - t)

    lo = np.array([BOUNDS[k][0] for k in NAMES])
    hi = np.array([BOUNDS[k][1] for k in NAMES])

    def resid(p):
        return np.log(Q) - np.log(numpy_model(p, T, P, w))

    def scipy_fit():
        return optimize.least_squares(resid, x0, bounds=(lo, hi), method="trf", x_scale="jac",
                                      ftol=1e-12, xtol=1e-12, gtol=1e-10, max_nfev=2000)

    t = time.perf_counter()
    s_cold = scipy_fit()
    scipy_cold = time.perf_counter() - t
    scipy_warm = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        s = scipy_fit()
        scipy_warm.append(time.perf_counter() - t)
    chi2_s = float(2 * s.cost)
    med = statistics.median
    rows = [
        ("jtls fit() cold (incl. compile)", jtls_cold, r_cold.chi2),
        ("jtls fit() warm, median", med(jtls_warm), r.chi2),
        ("jtls compiled solve on prebuilt problem, warm, median", med(jtls_solve), r.chi2),
        ("scipy least_squares cold (first call)", scipy_cold, chi2_s),
        ("scipy least_squares warm, median", med(scipy_warm), chi2_s),
    ]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; repeats {args.repeats}")
    print(f"jtls: status {r.status}, {r.n_steps} LM steps, mu = {r.values['mu']:.4f}; "
          f"scipy: status {s.status} ({s.message}), {s.nfev} evaluations, mu = {s.x[1]:.4f}")
    print("\n| run | time (s) | chi2 |\n|---|---|---|")
    for name, tt, c in rows:
        print(f"| {name} | {tt:.4g} | {c:.6g} |")
    print(f"\nwarm speed-up (scipy warm / jtls fit() warm): {med(scipy_warm) / med(jtls_warm):.2f}x")
    print(f"warm speed-up (scipy warm / jtls compiled solve): {med(scipy_warm) / med(jtls_solve):.2f}x")
    print(f"cold ratio (scipy cold / jtls cold): {scipy_cold / jtls_cold:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
