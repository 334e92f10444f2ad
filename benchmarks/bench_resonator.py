"""Benchmark: the joint five-power Qi fit of the Nb CPW resonator, jtls vs scipy.

Same model, same data, same start values, same bounds on both sides:

    1/Qi = F delta0 ((T^2 + w^2)/w^2)^(mu/2) tanh(w/2T) / (1 + 10^((P - P_c)/10))^(beta/2)
           + alpha (4/pi) e^(-Delta/T) sinh(xi) K0(xi) / (1 - [sqrt(2 pi T/Delta) + 2 e^-xi I0(xi)] e^(-Delta/T))
           + loss_bg,           xi = w/2T,  residuals ln Qi_data - ln Qi_model (85 points, 7 parameters).

* jtls: ``jtls.fit.fit`` with the registered ``resonator_loss`` observable
  (compiled Levenberg-Marquardt, forward-mode JAX Jacobian, bounds by smooth
  transforms), default solver options.  "cold" = first call in the process
  (tracing + XLA compilation); "warm" = later calls (compiled code cached),
  timed for the whole ``fit()`` call (validation of the five datasets,
  problem building, solve, covariance, result) and, separately, for
  ``run_problem`` on a prebuilt problem.  With ``--ordinary`` also the whole
  ``fit()`` with the solve compiled as an ordinary XLA program
  (``jtls.fit.kernel.USE_SINGLE_KERNEL = False``), i.e. without the
  single-kernel path, for comparison.
* scipy: ``scipy.optimize.least_squares`` (method "trf", 2-point
  finite-difference Jacobian, ``x_scale="jac"``, box bounds, ftol = xtol =
  1e-12, gtol = 1e-10) on a numpy/scipy.special implementation of the same
  model; "cold" = first call, "warm" = later calls.  (lmfit is not installed
  in this environment; lmfit wraps the same least_squares/MINPACK machinery,
  so scipy is the like-for-like baseline.)

Warm timing, side by side: ``--rounds`` rounds, each ``--per-round`` jtls
calls of every jtls variant followed by one scipy call (a round of jtls calls
takes about as long as one scipy call); every call is timed on its own and the
medians are reported, with the median of the first jtls call of each round
(the one right after the scipy call) listed separately.  The load average is
read before and after.

CPU dispatch: ``--sync-dispatch`` calls ``jtls.use_synchronous_cpu_dispatch()``
(``jax_cpu_enable_async_dispatch = False``, see jtls/_config.py; importing
jtls no longer does it): XLA:CPU then runs each compiled call on the calling
thread instead of handing it to a worker thread and waiting for it, which
removes two thread switches per fit.  Without it (or with the old
``--async-dispatch``) JAX's default asynchronous dispatch is measured, so the
cost of leaving the process setting alone is the ratio of the two runs.

Usage::

    python benchmarks/bench_resonator.py [--rounds 40] [--per-round 10] [--ordinary] [--sync-dispatch] [--data-dir DIR]

Prints a markdown table (paste into benchmarks/resonator_results.md).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np
from scipy import optimize, special

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


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--per-round", type=int, default=10)
    ap.add_argument("--ordinary", action="store_true",
                    help="also time fit() with the solve compiled as an ordinary XLA program")
    ap.add_argument("--sync-dispatch", action="store_true",
                    help="opt in to synchronous CPU dispatch (jtls.use_synchronous_cpu_dispatch())")
    ap.add_argument("--async-dispatch", action="store_true",
                    help="JAX's default asynchronous CPU dispatch (the default now; kept for old command lines)")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.per_round < 1:
        raise ValueError("--rounds and --per-round must be >= 1")
    if args.sync_dispatch and args.async_dispatch:
        raise ValueError("--sync-dispatch and --async-dispatch exclude each other")
    import jax
    import jtls  # noqa: F401
    if args.sync_dispatch:
        jtls.use_synchronous_cpu_dispatch()
    import jtls.resonator as res
    from jtls.data import read_csv, require_dataset
    from jtls.fit import Model, build_problem, fit, kernel
    from jtls.fit.engine import run_problem
    from jtls.resonator.models import loss_joint_guess
    load0 = os.getloadavg()
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

    def jtls_fit_ordinary():
        kernel.USE_SINGLE_KERNEL = False
        try:
            return fit(terms, share=list(NAMES), initial=start)
        finally:
            kernel.USE_SINGLE_KERNEL = True

    lo = np.array([BOUNDS[k][0] for k in NAMES])
    hi = np.array([BOUNDS[k][1] for k in NAMES])

    def resid(p):
        return np.log(Q) - np.log(numpy_model(p, T, P, w))

    def scipy_fit():
        return optimize.least_squares(resid, x0, bounds=(lo, hi), method="trf", x_scale="jac",
                                      ftol=1e-12, xtol=1e-12, gtol=1e-10, max_nfev=2000)

    # cold: first calls in this process
    jtls_cold, r_cold = _timed(jtls_fit)
    scipy_cold, s = _timed(scipy_fit)
    problem = build_problem(terms, share=list(NAMES), initial=start)
    variants = {"fit": jtls_fit, "run_problem": lambda: run_problem(problem)}
    if args.ordinary:
        ord_cold, _ = _timed(jtls_fit_ordinary)
        variants["fit_ordinary"] = jtls_fit_ordinary
    for fn in list(variants.values()) + [scipy_fit]:   # one more warm-up each
        fn()

    # warm, side by side
    times = {k: [] for k in variants}
    firsts = {k: [] for k in variants}
    scipy_warm = []
    last = {}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            for i in range(args.per_round):
                dt, last[name] = _timed(fn)
                (firsts[name] if i == 0 else times[name]).append(dt)
        dt, s = _timed(scipy_fit)
        scipy_warm.append(dt)
    load1 = os.getloadavg()
    med = statistics.median
    r, rp = last["fit"], last["run_problem"]
    chi2_s = float(2 * s.cost)
    allv = {k: times[k] + firsts[k] for k in variants}
    rows = [
        ("jtls fit() cold (first call, incl. tracing + XLA compile)", jtls_cold, r_cold.chi2),
        ("jtls fit() warm, median of all calls", med(allv["fit"]), r.chi2),
        ("jtls fit() warm, median of the first call of each round", med(firsts["fit"]), r.chi2),
        ("jtls run_problem on a prebuilt problem, warm, median", med(allv["run_problem"]), rp.chi2),
    ]
    if args.ordinary:
        rows.insert(1, ("jtls fit() cold, ordinary XLA program (own compile)", ord_cold,
                        last["fit_ordinary"].chi2))
        rows.append(("jtls fit() warm, ordinary XLA program, median", med(allv["fit_ordinary"]),
                     last["fit_ordinary"].chi2))
    rows += [("scipy least_squares cold (first call)", scipy_cold, chi2_s),
             ("scipy least_squares warm, median", med(scipy_warm), chi2_s)]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after; jax {jax.__version__}; "
          f"{args.rounds} rounds x {args.per_round} jtls calls per variant + 1 scipy call; "
          f"CPU dispatch {'asynchronous' if jax.config.read('jax_cpu_enable_async_dispatch') else 'synchronous'}")
    print(f"jtls: status {r.status}, {r.n_steps} LM steps, mu = {r.values['mu']:.4f}; "
          f"scipy: status {s.status} ({s.message}), {s.nfev} evaluations, mu = {s.x[1]:.4f}")
    print("\n| run | time (s) | chi2 |\n|---|---|---|")
    for name, tt, c in rows:
        print(f"| {name} | {tt:.4g} | {c:.6g} |")
    sw = med(scipy_warm)
    print(f"\nwarm speed-up, whole fit() (scipy warm / jtls fit() warm): {sw / med(allv['fit']):.1f}x "
          f"(first call of each round only: {sw / med(firsts['fit']):.1f}x)")
    print(f"warm speed-up, run_problem on a prebuilt problem: {sw / med(allv['run_problem']):.1f}x")
    if args.ordinary:
        print(f"warm speed-up, whole fit() with the ordinary XLA program: {sw / med(allv['fit_ordinary']):.1f}x")
    print(f"cold ratio (scipy cold / jtls cold): {scipy_cold / jtls_cold:.4f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
