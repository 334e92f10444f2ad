"""Benchmark (issue 14, item 2): bootstrap and fit_many against warm single fits, in one process.

Problem: the 40-point velocity fit of benchmarks/bench_fit.py (dv/v, Eqs. (7)+(8)
with the Eq. (3) DOS of Churkin et al. 2021, C, mu, A, offset free, no sigma).

Measured side by side (wall clock, medians; load average printed before and after):
  * warm single fit: ``fit(model, data)`` (automatic guess, solve, inference:
    held solves on mu's physical bound etc.), and the bare compiled solve
    from the same guess (``dispatch_solve``);
  * ``bootstrap(key, model, data, n)``: first call (compilation) and warm;
    resample iterations (model + Jacobian evaluations);
  * ``fit_many`` of ``--many`` noise draws, warm, with ``start="first"`` and
    ``start="previous"`` (each dataset's solves start at the previous one's
    solutions), and the batched solves alone (``solve_many``);
  * agreement: ``--check`` resamples refitted one by one with the unbatched
    Levenberg-Marquardt solver (its own start evaluation, same options);
  * with ``--variants``: the same bootstrap (``--variant-n`` resamples) with the
    resamples vmapped in batches of 8 inside the one-kernel call, and with the
    ordinary multi-threaded XLA program (resamples one after another).

Target of the issue: 1000 resamples <= 100 warm single-fit times.

Usage:  python benchmarks/bench_bootstrap.py [--n 1000] [--many 100] [--variants]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_fit import OMEGA, T_REF, make_data  # noqa: E402


def timed(fn, repeats):
    ts, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--many", type=int, default=100)
    ap.add_argument("--check", type=int, default=20)
    ap.add_argument("--variants", action="store_true")
    ap.add_argument("--variant-n", type=int, default=200)
    args = ap.parse_args(argv)

    import jax
    import jax.numpy as jnp
    from jtls.fit import Model, build_problem, fit
    from jtls.fit import batch, kernel
    from jtls.fit.batch import bootstrap, fit_many, resample_weights, solve_many
    from jtls.fit.objective import Arrays
    from jtls.fit.solvers import SolverOptions, levenberg_marquardt

    load0 = os.getloadavg()
    T, y = make_data()
    model = Model("velocity", omega=OMEGA, T_ref=T_REF)
    data = (T, y)

    res = fit(model, data)
    t_fit, _ = timed(lambda: fit(model, data), args.repeats)
    p = build_problem(model, data)
    opts = SolverOptions()
    real = (T.size,)

    def bare():
        return kernel.dispatch_solve("lm", p.spec, p.sizes, p.flat, opts, real=real)()

    bare()
    t_bare, _ = timed(bare, args.repeats)
    print(f"[progress] warm fit {t_fit * 1e3:.1f} ms, bare solve {t_bare * 1e3:.1f} ms", flush=True)

    t0 = time.perf_counter()
    bootstrap(jax.random.PRNGKey(0), model, data, n=args.n)
    t_first = time.perf_counter() - t0
    # the load of this shared machine drifts: warm fits timed before, between and
    # after the warm bootstrap runs; the ratio uses the median of all of them
    fit_times = [t_fit]
    bs_times = []
    for rep in range(2):
        t_b, (_, bs) = timed(lambda: bootstrap(jax.random.PRNGKey(1), model, data, n=args.n), 1)
        bs_times.append(t_b)
        fit_times.append(timed(lambda: fit(model, data), args.repeats)[0])
    t_bs = statistics.median(bs_times)
    t_fit = statistics.median(fit_times)
    print(f"[progress] bootstrap {args.n}: first {t_first:.2f} s, warm {bs_times} s; warm fits "
          f"{[round(t * 1e3, 1) for t in fit_times]} ms", flush=True)
    steps = bs.n_steps

    # agreement with the unbatched solver on the first resamples
    free = p.free_names
    opts_bs = batch.BOOTSTRAP_OPTIONS
    u_hat = jnp.asarray(p.spec.transform().to_internal(np.array([res.values[k] for k in free])))

    @jax.jit
    def single(w):
        a = Arrays((p.arrays.terms[0]._replace(sqrt_w=jnp.sqrt(w)),), p.arrays.x_all)
        out = levenberg_marquardt(p.spec, u_hat, a, opts_bs)
        return p.spec.transform().to_physical(out.u), out.status

    W = resample_weights(jax.random.PRNGKey(1), [T.size], 0, args.check)
    dev = []
    for i in range(args.check):
        x1, st = single(jnp.asarray(W[i]))
        x1 = np.asarray(x1)
        dev.append(np.max(np.abs(bs.samples[i] - x1) / np.array([res.stderr[k] for k in free])))
    dev = max(dev)
    print(f"[progress] max |batched - unbatched| over {args.check} resamples: {dev:.2e} standard errors",
          flush=True)

    # fit_many
    rng = np.random.default_rng(1)
    draws = [(T, y + 4e-6 * rng.normal(size=T.size)) for _ in range(args.many)]
    fit_many(model, draws[:2], start="first")
    t_many, many = timed(lambda: fit_many(model, draws, start="first"), 1)
    print(f"[progress] fit_many {args.many}: {t_many:.2f} s", flush=True)
    solve_many(model, draws[:2], start="first")
    t_solve_many, _ = timed(lambda: solve_many(model, draws, start="first"), 1)   # the solves alone
    # an ordered series: each solve and held solve starts at the previous dataset's solution
    fit_many(model, draws[:2], start="previous")
    t_prev, many_prev = timed(lambda: fit_many(model, draws, start="previous"), 1)
    solve_many(model, draws[:2], start="previous")
    t_solve_prev, _ = timed(lambda: solve_many(model, draws, start="previous"), 1)
    same = max(abs(a[k] - b[k]) / a.stderr[k] for a, b in zip(many, many_prev) for k in a.free)
    print(f"[progress] fit_many {args.many}, start='previous': {t_prev:.2f} s (max |difference| "
          f"{same:.1e} standard errors)", flush=True)
    t_loop, _ = timed(lambda: [fit(model, d) for d in draws[:10]], 1)

    variants = []
    if args.variants:
        nv = args.variant_n
        for label, setup in (("one kernel, resamples vmapped in batches of 8", dict(BATCH=8)),
                             ("ordinary XLA program, resamples one after another", dict(plain=True))):
            old_b, old_k = batch.BATCH, kernel.USE_SINGLE_KERNEL
            batch.BATCH = setup.get("BATCH", old_b)
            kernel.USE_SINGLE_KERNEL = not setup.get("plain", False)
            try:
                bootstrap(jax.random.PRNGKey(0), model, data, n=nv)
                tv, _ = timed(lambda: bootstrap(jax.random.PRNGKey(1), model, data, n=nv), 1)
            finally:
                batch.BATCH, kernel.USE_SINGLE_KERNEL = old_b, old_k
            t_def, _ = timed(lambda: bootstrap(jax.random.PRNGKey(1), model, data, n=nv), 1)
            variants.append((label, tv, t_def))
            print(f"[progress] {label}: {tv:.2f} s for {nv} (default {t_def:.2f} s)", flush=True)

    load1 = os.getloadavg()
    print()
    print(f"machine: {os.cpu_count()} CPUs, jax {jax.__version__}, backend {jax.default_backend()}; "
          f"load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print()
    print("| quantity | time | in warm fits |")
    print("|---|---|---|")
    print(f"| warm `fit` (guess + solve + inference): median of 3 blocks of {args.repeats} "
          f"({', '.join(f'{t * 1e3:.0f}' for t in fit_times)} ms) | {t_fit * 1e3:.1f} ms | 1 |")
    print(f"| bare compiled solve from the guess | {t_bare * 1e3:.1f} ms | {t_bare / t_fit:.2f} |")
    print(f"| 10 `fit` calls in a loop (new noise draws) | {t_loop:.2f} s | {t_loop / t_fit:.1f} |")
    print(f"| bootstrap {args.n}, first call (compilation) | {t_first:.2f} s | |")
    print(f"| bootstrap {args.n}, warm (median of {', '.join(f'{t:.2f}' for t in bs_times)} s) | {t_bs:.2f} s | **{t_bs / t_fit:.0f}** (target <= 100 per 1000) |")
    print(f"| per resample | {t_bs / args.n * 1e3:.2f} ms | {t_bs / args.n / t_fit:.3f} "
          f"({t_bs / args.n / t_bare:.2f} bare solves) |")
    print(f"| fit_many {args.many} draws, warm | {t_many:.2f} s | {t_many / t_fit:.0f} "
          f"({t_many / args.many / t_fit:.2f} per fit) |")
    print(f"| of which the batched solves (`solve_many`, no verdicts) | {t_solve_many:.2f} s | "
          f"{t_solve_many / args.many / t_fit:.2f} per fit |")
    print(f"| of which the verdicts (the difference) | {t_many - t_solve_many:.2f} s | "
          f"{(t_many - t_solve_many) / args.many / t_fit:.2f} per fit |")
    print(f"| fit_many {args.many} draws, `start=\"previous\"`, warm | {t_prev:.2f} s | {t_prev / t_fit:.0f} "
          f"(**{t_prev / args.many / t_fit:.2f} per fit**) |")
    print(f"| of which the batched solves (`solve_many`, `start=\"previous\"`) | {t_solve_prev:.2f} s | "
          f"{t_solve_prev / args.many / t_fit:.2f} per fit |")
    print(f"| of which the verdicts (the difference) | {t_prev - t_solve_prev:.2f} s | "
          f"{(t_prev - t_solve_prev) / args.many / t_fit:.2f} per fit |")
    for label, tv, t_def in variants:
        print(f"| bootstrap {args.variant_n}: {label} | {tv:.2f} s | default {t_def:.2f} s, "
              f"ratio {tv / t_def:.2f} |")
    print()
    print(f"resample iterations (evaluations of model + Jacobian): mean {steps.mean():.2f}, "
          f"max {steps.max()}; converged {bs.converged.sum()} / {args.n}; "
          f"fit_many ok {sum(r.ok for r in many)} / {args.many}, with start='previous' "
          f"{sum(r.ok for r in many_prev)} / {args.many}; mean solver steps {np.mean([r.n_steps for r in many]):.2f} "
          f"and {np.mean([r.n_steps for r in many_prev]):.2f}; the two agree to {same:.1e} standard errors")
    print(f"batched vs unbatched resample solutions: max difference {dev:.1e} standard errors "
          f"({args.check} resamples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
