"""Benchmark (issue 11, item 7): fits with the simulated DOS vs Eq. 3, and the library build cost.

(a) Warm fits, side by side in one process, interleaved (Eq3, simulated, Eq3, ...), median of
    --repeats calls of ``jtls.fit.fit(model, (T, y))`` as users call it (automatic guess, solve,
    verdict; no profile intervals):

    * velocity: 40 temperatures 0.05-10 K, omega = paper_frequency(90 kHz),
      A = paper_frequency(9.4 MHz), C = 3.2e-4, offset 1e-4; Gaussian noise of 0.5 % of the
      curve's span, no sigma given.  Free: C, J0_h0, A, offset (simulated DOS, h0 held at 10 K,
      J0/h0 true = the geometric centre of the library's positive ratios) against C, mu, A, offset
      (Eq. 3, mu true = 0.12).
    * kappa: 40 temperatures 0.06-1 K, B = 1, 1 % relative noise; free B, J0_h0 against B, mu
      (constant relative errors).

    "simulated, no scan" is the same simulated-DOS fit with ``scan=False``: without the global
    check along J0/h0 (jtls.fit.scan), whose held solves cost more than the fit itself.

    Two data choices: "own" -- each model fits data drawn from its own family (the cost of the
    fit as a user meets it), "same" -- both fit the simulated-DOS data (Eq3 then fits a curve it
    cannot describe exactly and may need more steps).  Time per Levenberg-Marquardt step is
    printed too (warm time / solver steps; it includes the guess and the verdict).

(b) Library build per grid point: one batch of ``jtls.simulated.build.point_config`` (L = 10,
    --realizations, J0/h0 = the centre of the library grid's default range) run twice through
    ``jtls.anneal.run`` with the build's checkpoint setting: the first call compiles, the second
    (new seed, same shapes) is warm; the warm time is scaled to 1000 realizations and to the
    library's 10^4 per grid point.

(c) First-call (compile + run) time of each fit and of the annealer, minus the warm time.

The machine load (``uptime``) is printed before and after: the recorded runs
(benchmarks/README.md) were on the project's shared 2-core VM with other jobs
(the library build among them) running at the same time, so wall times scale
with the load; on another machine, compare the ratios.

(d) With --kernel-ab: the simulated fits as shipped (ordinary XLA program) against the same
    observable built as one XLA:CPU kernel (jtls.fit.kernel), interleaved.

Usage:  python benchmarks/bench_simulated.py [--repeats 7] [--realizations 200] [--skip-anneal] [--kernel-ab]
Library: $JTLS_SIMULATED_LIBRARY or data/simulated_dos_library.npz.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import jtls
from jtls.fit import Model, fit

OMEGA = jtls.units.paper_frequency(90e3)
A_TRUE = jtls.units.paper_frequency(9.4e6)


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def centre_ratio(lib) -> float:
    """A J0/h0 inside the library, between grid points: the geometric centre of its positive ratios
    (the shipped library starts at the exact J0/h0 = 0 row, a physical bound, not a typical value)."""
    pos = [float(r) for r in lib.ratios if r > 0]
    return math.sqrt(pos[0] * pos[-1])


def _noisy(y, kind, rng):
    if kind == "abs":
        return y + 0.005 * np.ptp(y) * rng.standard_normal(y.size)
    return y * np.exp(0.01 * rng.standard_normal(y.size))


def problems(r0):
    """[(problem, T, noise kind, {label: (model, true values)})] for velocity and kappa."""
    tv, tk = np.geomspace(0.05, 10.0, 40), np.geomspace(0.06, 1.0, 40)
    return [
        ("velocity", tv, "abs", {
            "Eq3": (Model("velocity", omega=OMEGA), dict(C=3.2e-4, mu=0.12, A=A_TRUE, offset=1e-4)),
            "simulated": (Model("velocity", dos="simulated", omega=OMEGA),
                          dict(C=3.2e-4, J0_h0=r0, h0=10.0, A=A_TRUE, offset=1e-4))}),
        ("kappa", tk, "rel", {
            "Eq3": (Model("thermal_conductivity"), dict(B=1.0, mu=0.12)),
            "simulated": (Model("thermal_conductivity", dos="simulated"), dict(B=1.0, J0_h0=r0, h0=10.0))}),
    ]


def bench_fits(repeats):
    """Two data choices per problem: 'own' (each model fits data of its own family, same T, same
    noise rule) and 'same' (both fit the simulated-DOS data)."""
    import jax.numpy as jnp
    from jtls.simulated.dos import load_library
    lib = load_library()
    r0 = centre_ratio(lib)
    rng = np.random.default_rng(0)
    rows = []
    for name, T, kind, models in problems(r0):
        data = {}
        for label, (m, truth) in models.items():
            y = np.asarray(m.predict(jnp.asarray(T), truth, m.resolve_context()))
            data[label] = (T, _noisy(y, kind, rng))
        for variant in ("own", "same"):
            runs = {label: (m, data[label] if variant == "own" else data["simulated"])
                    for label, (m, _) in models.items()}
            runs["simulated, no scan"] = runs["simulated"]
            first, warm, res = {}, {k: [] for k in runs}, {}
            for label, (m, d) in runs.items():
                t0 = time.perf_counter()
                res[label] = fit(m, d, scan=not label.endswith("no scan"))
                first[label] = time.perf_counter() - t0
            for _ in range(repeats):
                for label, (m, d) in runs.items():
                    t0 = time.perf_counter()
                    res[label] = fit(m, d, scan=not label.endswith("no scan"))
                    warm[label].append(time.perf_counter() - t0)
            med = {k: statistics.median(v) for k, v in warm.items()}
            rows.append({"problem": name, "data": variant, "J0_h0_true": r0, "n_points": len(T),
                         "free": {k: list(r.free) for k, r in res.items()},
                         "warm_median_s": med, "warm_all_s": warm, "first_call_s": first,
                         "compile_s": {k: first[k] - med[k] for k in first} if variant == "own" else None,
                         "ratio_simulated_over_Eq3": med["simulated"] / med["Eq3"],
                         "ratio_no_scan_over_Eq3": med["simulated, no scan"] / med["Eq3"],
                         "ms_per_step": {k: 1e3 * med[k] / max(res[k].n_steps, 1) for k in res},
                         "status": {k: r.status for k, r in res.items()},
                         "n_steps": {k: r.n_steps for k, r in res.items()},
                         "J0_h0_fit": res["simulated"].values["J0_h0"] if res["simulated"].ok else None})
    return {"library": lib.path, "ratio_range": list(lib.ratio_range), "rows": rows}


def bench_kernel_ab(repeats):
    """The simulated-DOS fits (own data, with the scan) as shipped -- the ordinary XLA program,
    ``register_observable(..., single_kernel=False)`` -- against the same observable registered
    with ``single_kernel=True`` (one XLA:CPU function, jtls.fit.kernel), interleaved."""
    import dataclasses
    import jax.numpy as jnp
    from jtls.fit import REGISTRY
    from jtls.simulated.dos import load_library
    lib = load_library()
    rng = np.random.default_rng(0)
    rows = []
    for name, T, kind, models in problems(centre_ratio(lib)):
        m, truth = models["simulated"]
        y = _noisy(np.asarray(m.predict(jnp.asarray(T), truth, m.resolve_context())), kind, rng)
        obs = m.observable
        one = dataclasses.replace(obs, name=obs.name + "#one-kernel", single_kernel=True)
        REGISTRY[one.name] = one
        ctx = {"omega": OMEGA} if name == "velocity" else {}
        runs = {"ordinary (as shipped)": m, "one kernel": Model(one.name, **ctx)}
        warm = {k: [] for k in runs}
        for k, mm in runs.items():
            fit(mm, (T, y))
        for _ in range(repeats):
            for k, mm in runs.items():
                t0 = time.perf_counter()
                fit(mm, (T, y))
                warm[k].append(time.perf_counter() - t0)
        del REGISTRY[one.name]
        med = {k: statistics.median(v) for k, v in warm.items()}
        rows.append({"problem": name, "warm_median_s": med, "warm_all_s": warm,
                     "one_kernel_over_ordinary": med["one kernel"] / med["ordinary (as shipped)"]})
    return rows


def bench_anneal(realizations, ratio=None):
    from jtls.anneal.run import run
    from jtls.simulated.build import DEFAULT_RATIOS, point_config
    if ratio is None:
        ratio = math.sqrt(DEFAULT_RATIOS[0] * DEFAULT_RATIOS[-1])
    times = []
    with tempfile.TemporaryDirectory() as d:
        for k in range(2):                 # k = 0 compiles, k = 1 is warm (other seed, same shapes)
            cfg = point_config(ratio, 0, 900 + k, L=10, batch_size=realizations, seed=12345)
            out = os.path.join(d, f"b{k}.npz")
            t0 = time.perf_counter()
            run(cfg, out, progress=False, checkpoint_seconds=60.0)
            times.append(time.perf_counter() - t0)
    n_temps = len(cfg.schedule.T)
    warm = times[1]
    return {"ratio": ratio, "L": 10, "realizations": realizations, "schedule_temperatures": n_temps,
            "sweeps_total": int(cfg.schedule.total_sweeps), "first_call_s": times[0], "warm_s": warm,
            "compile_s": times[0] - warm, "warm_s_per_1000": warm / realizations * 1000.0,
            "warm_h_per_grid_point_1e4": warm / realizations * 1e4 / 3600.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--realizations", type=int, default=200)
    ap.add_argument("--skip-anneal", action="store_true")
    ap.add_argument("--kernel-ab", action="store_true",
                    help="also time the simulated fits built as one XLA:CPU kernel against the shipped build")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    report = {"uptime_before": uptime(), "cpus": os.cpu_count()}
    t0 = time.perf_counter()
    report["fits"] = bench_fits(args.repeats)
    report["uptime_after_fits"] = uptime()
    if args.kernel_ab:
        report["kernel_ab"] = bench_kernel_ab(args.repeats)
        report["uptime_after_kernel_ab"] = uptime()
    if not args.skip_anneal:
        report["anneal"] = bench_anneal(args.realizations)
        report["uptime_after_anneal"] = uptime()
    report["seconds"] = time.perf_counter() - t0
    print(f"load before: {report['uptime_before']}")
    print(f"library: {report['fits']['library']} (J0/h0 {report['fits']['ratio_range']})")
    print("| problem | data | Eq3 warm (median) | simulated warm (median) | simulated / Eq3 | "
          "simulated without the J0/h0 scan / Eq3 | ms per LM step "
          "Eq3 / sim | first call Eq3 / sim | steps Eq3 / sim | status Eq3 / sim |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in report["fits"]["rows"]:
        m, f, ps = r["warm_median_s"], r["first_call_s"], r["ms_per_step"]
        print(f"| {r['problem']} | {r['data']} | {1e3 * m['Eq3']:.0f} ms | {1e3 * m['simulated']:.0f} ms | "
              f"**{r['ratio_simulated_over_Eq3']:.2f}** | **{r['ratio_no_scan_over_Eq3']:.2f}** | "
              f"{ps['Eq3']:.1f} / {ps['simulated']:.1f} | "
              f"{f['Eq3']:.1f} s / {f['simulated']:.1f} s | "
              f"{r['n_steps']['Eq3']} / {r['n_steps']['simulated']} | {r['status']['Eq3']} / "
              f"{r['status']['simulated']} |")
    print(f"load after fits: {report['uptime_after_fits']}")
    for r in report.get("kernel_ab", []):
        m = r["warm_median_s"]
        print(f"{r['problem']}: simulated fit (with the scan) as shipped {1e3 * m['ordinary (as shipped)']:.0f} ms, "
              f"built as one kernel {1e3 * m['one kernel']:.0f} ms: x{r['one_kernel_over_ordinary']:.2f}")
    if "kernel_ab" in report:
        print(f"load after kernel A/B: {report['uptime_after_kernel_ab']}")
    a = report.get("anneal")
    if a:
        print(f"annealer L = {a['L']}, J0/h0 = {a['ratio']:.3g}, {a['realizations']} realizations, "
              f"{a['schedule_temperatures']} temperatures, {a['sweeps_total']} sweeps: first call "
              f"{a['first_call_s']:.1f} s, warm {a['warm_s']:.1f} s (compile ~{a['compile_s']:.1f} s); "
              f"{a['warm_s_per_1000']:.0f} s per 1000 realizations, "
              f"{a['warm_h_per_grid_point_1e4']:.2f} h per grid point at 1e4")
        print(f"load after anneal: {report['uptime_after_anneal']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
