"""Fits for J0/h0 with the simulated DOS (issue 11): recovery, the paper's Fig. 3, and mu_eff(J0/h0).

Three checks of the shipped library (data/simulated_dos_library.npz, or
$JTLS_SIMULATED_LIBRARY) and of ``Model(..., dos="simulated")``:

1. **Recovery from fresh runs.**  The annealer is run anew (``--parts``
   independent runs with seeds the library never used, ``--realizations`` in
   all) at J0/h0 between grid points (0.125, 0.275) and at the Fig. 3 values
   (0.2, 0.3), with the library's protocol and L.  From the pooled runs' DOS --
   smoothed exactly as the library's is (``smoothed``) -- we compute dv/v at
   90 kHz (A of the paper's Fig. 5a) at 40 temperatures 30-2000 mK, add
   Gaussian noise of 0.3 % of the curve's range (what measured curves reach),
   and fit the simulated family (C, J0_h0, A, offset free; h0 = 10 K held) to
   ``--draws`` noise draws in one batched call (``fit_many``).  Three
   independent errors: sigma_noise, the scatter of the fitted J0/h0 over the
   draws; sigma_run, the fresh runs' own Monte-Carlo error (delete-one-run
   jackknife of the noiseless fit); sigma_library, the library's
   (:func:`jtls.simulated.uncertainty.library_spread`).  Pass when
   |median - truth| <= 2 sqrt(sigma_noise^2 + sigma_run^2 + sigma_library^2).
   The same for kappa(T) and for the specific heat C_v(T) (both 0.05-2 K, 30
   points, 1 % relative noise, B and J0_h0 free).
2. **Fig. 3.**  The noiseless dv/v of the fresh J0 = 2 and 3 K runs at the 12
   temperatures 0.1-1 K fitted with the constant-mu Eq. (3) model (paper:
   mu = 0.13 and 0.2) and with the simulated family (should give 0.2, 0.3).
3. **mu_eff(J0/h0).**  The library's own dv/v (same settings, 30-2000 mK)
   and kappa (0.05-2 K) at every grid ratio fitted with constant-mu Eq. (3):
   the map from the paper's phenomenological mu to the microscopic ratio.

Writes OUT/simulated_dos.json and OUT/simulated_dos.png.  Fresh runs are
cached in OUT/runs (``jtls.anneal.cache.cached_run``).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

FRESH = (0.125, 0.275, 0.2, 0.3)
FIG3 = (0.2, 0.3)
T12 = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def fresh_runs(ratio, args, lib_meta):
    """``args.parts`` new annealer runs at ``ratio`` with the library's protocol, ``args.realizations``
    realizations in all (seeds 5_000_000 + 100_000 part + point: no library build with seed 0 and
    fewer than 50 batches uses them)."""
    from jtls.anneal.cache import cached_run
    from jtls.simulated.build import point_config
    b = lib_meta["build"]
    point = FRESH.index(ratio) if ratio in FRESH else 99
    size = max(1, args.realizations // args.parts)
    return [cached_run(point_config(ratio, point, k, L=b["L"], batch_size=size, seed=5_000_000, sweeps=b["sweeps"]),
                       os.path.join(args.out, "runs"), progress=not args.quiet) for k in range(args.parts)]


def _as_dos(Y, S, T_rows, tag, tmpdir):
    """A smoothed one-temperature-set table as a SimulatedDOS (written as a library with the same rows
    on four dummy ratios, since the model needs a grid)."""
    import json as _json
    from jtls.simulated import pack as P
    from jtls.simulated.dos import load_library
    fn = os.path.join(tmpdir, f"{tag}.npz")
    np.savez(fn, ratios=np.array([0.1, 0.2, 0.3, 0.4]), t=T_rows / 10.0, q_knots=P.q_knots(),
             log_F=np.repeat(Y[None], 4, 0), sd_log_F=np.repeat(S[None], 4, 0),
             e_scale=np.float64(P.E_SCALE), e_max=np.float64(P.E_MAX), meta=_json.dumps({"fresh": tag}))
    return load_library(fn).dos(0.25, 10.0)


def smoothed(paths, tmpdir):
    """The DOS of the pooled fresh runs and of its delete-one-run jackknife replicas, smoothed exactly
    as the library is (:func:`jtls.simulated.pack.smooth_row`, same q knots, same penalised spline).

    Returns [full, without run 1, ..., without run K]: fresh run and library differ only by
    Monte-Carlo noise and by the library's smoothing and interpolation across J0/h0; the spread of
    a fit over the replicas, sqrt((K-1)/K sum (x_k - mean)^2), is the fresh runs' own Monte-Carlo error
    (independent realizations, unlike a split of pooled counts: the energies of one realization are
    correlated)."""
    from jtls.anneal import histogram as H
    from jtls.simulated import pack as P
    parts = []
    for p in paths:
        with np.load(p) as f:
            parts.append((np.asarray(f["T"]), np.asarray(f["counts"], np.int64), int(f["n_tls_total"])))
    T = parts[0][0]
    tot = sum(c for _, c, _ in parts)
    ntot = sum(n for _, _, n in parts)
    rows = np.nonzero((T >= P.T_MIN * (1 - 1e-9)) & (T <= P.T_MAX * (1 + 1e-9)))[0]
    knots, edges = P.q_knots(), H.fine_edges() / 10.0
    tag0 = os.path.basename(paths[0]).replace(".npz", "")
    out = []
    reps = [(tot - c, ntot - m) for _, c, m in parts] if len(parts) > 1 else []
    for k, (counts, n) in enumerate([(tot, ntot)] + reps):
        YS = [P.smooth_row(counts[i], edges, n, knots)[:2] for i in rows]
        out.append(_as_dos(np.array([y for y, _ in YS]), np.array([s for _, s in YS]), T[rows],
                           f"{tag0}.K{len(paths)}.{k}", tmpdir))
    return out


def velocity_curve(dos, T, omega, A, C=1e-3):
    import jtls
    return np.asarray(jtls.velocity_shift_dos(T, dos, A, omega, C, 1.0))


def kappa_curve(dos, T, B=1.0):
    import jtls
    return np.asarray(jtls.thermal_conductivity_dos(T, dos)) / B


def cv_curve(dos, T, B=1.0):
    import jtls
    return np.asarray(jtls.specific_heat_dos(T, dos)) * B


#: The recovery cases: observable name of jtls.fit, and the seed offset of its noise draws.
KINDS = {"velocity": 0, "kappa": 1, "specific_heat": 2}


def recover(kind, doses, truth, args, omega, A):
    """Fit noise draws of the pooled fresh-run curve, and the noiseless curves of the pooled run and of
    its jackknife replicas; returns a summary dict."""
    from jtls.data import Dataset
    from jtls.fit import Model, fit
    from jtls.fit.batch import fit_many
    from jtls.simulated.pack import jackknife_sd
    from jtls.simulated.uncertainty import library_spread
    rng = np.random.default_rng(int(truth * 1000) + KINDS[kind])
    if kind == "velocity":
        T = np.geomspace(0.03, 2.0, 40)
        curves = [velocity_curve(d, T, omega, A) for d in doses]
        sd = 0.003 * np.ptp(curves[0])
        model = Model("velocity", dos="simulated", omega=omega)
        noisy = [curves[0] + sd * rng.standard_normal(T.size) for _ in range(args.draws)]
        sets = [Dataset(T=T, value=y, omega=omega) for y in noisy]
        exact = [fit(model, Dataset(T=T, value=c, omega=omega)) for c in curves]
    else:
        T = np.geomspace(0.05, 2.0, 30)
        curves = [(kappa_curve if kind == "kappa" else cv_curve)(d, T) for d in doses]
        model = Model("thermal_conductivity" if kind == "kappa" else "specific_heat", dos="simulated")
        noisy = [curves[0] * np.exp(0.01 * rng.standard_normal(T.size)) for _ in range(args.draws)]
        sets = [Dataset(T=T, value=y) for y in noisy]
        exact = [fit(model, Dataset(T=T, value=c)) for c in curves]
    t0 = time.perf_counter()
    res = fit_many(model, sets, start="first")
    secs = time.perf_counter() - t0
    ok = [r for r in res if r.ok]
    est = np.array([r.values["J0_h0"] for r in ok])
    se = np.array([r.stderr["J0_h0"] for r in ok])
    s_noise = float(np.std(est, ddof=1)) if len(est) > 1 else float("nan")
    jk = np.array([r.values["J0_h0"] for r in exact[1:] if r.ok])
    K = len(exact) - 1
    s_run = float(jackknife_sd(jk)) if len(jk) == K else float("nan")
    s_lib = library_spread(model, exact[0])["sigma"]["J0_h0"] if exact[0].ok else float("nan")
    med = float(np.median(est)) if len(est) else float("nan")
    tot = float(np.sqrt(s_noise ** 2 + s_run ** 2 + s_lib ** 2))
    return {"truth": truth, "draws": args.draws, "ok_fits": len(ok), "median": med,
            "noiseless_fit": exact[0].values["J0_h0"] if exact[0].ok else None,
            "sigma_noise": s_noise, "mean_reported_stderr": float(np.mean(se)) if len(se) else None,
            "sigma_run": s_run, "jackknife_estimates": [float(x) for x in jk], "sigma_library": s_lib,
            "sigma_total": tot, "z": (med - truth) / tot if tot > 0 else None,
            "pass": bool(len(ok) == args.draws and len(jk) == K and abs(med - truth) <= 2 * tot),
            "seconds_batched_fits": secs}


def mu_eff_map(lib, omega, A):
    """Constant-mu Eq. (3) fits of the library's own curves at every grid ratio."""
    from jtls.data import Dataset
    from jtls.fit import Model, fit
    Tv = np.geomspace(0.03, 2.0, 40)
    Tk = np.geomspace(0.05, 2.0, 30)
    rows = []
    for r in lib.ratios:
        d = lib.dos(float(r), 10.0)
        yv = velocity_curve(d, Tv, omega, A)
        fv = fit(Model("velocity", omega=omega, fixed={"A": A}), Dataset(T=Tv, value=yv, omega=omega),
                 intervals="profile")
        fk = fit(Model("thermal_conductivity"), Dataset(T=Tk, value=kappa_curve(d, Tk)), intervals="profile")
        rows.append({"J0_h0": float(r),
                     "velocity": {"status": fv.status, "mu": fv.values["mu"] if fv.ok else None,
                                  "reduced_chi2": fv.reduced_chi2 if hasattr(fv, "reduced_chi2") else None},
                     "kappa": {"status": fk.status, "mu": fk.values["mu"] if fk.ok else None}})
    return rows


def fig3(runs, omega, A):
    from jtls.data import Dataset
    from jtls.fit import Model, fit
    T = np.asarray(T12)
    out = {}
    for r in FIG3:
        y = velocity_curve(runs[r][0], T, omega, A)
        ds = Dataset(T=T, value=y, omega=omega)
        f3 = fit(Model("velocity", omega=omega, fixed={"A": A}), ds)
        fs = fit(Model("velocity", dos="simulated", omega=omega, fixed={"A": A}), ds)
        out[str(r)] = {"J0_K": 10 * r, "paper_mu": {0.2: 0.13, 0.3: 0.2}[r],
                       "eq3": {"status": f3.status, "mu": f3.values["mu"], "mu_stderr": f3.stderr["mu"]},
                       "simulated": {"status": fs.status, "J0_h0": fs.values["J0_h0"],
                                     "J0_h0_stderr": fs.stderr["J0_h0"]}}
    return out


def plot(res, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    rows = res["mu_eff"]
    r = [x["J0_h0"] for x in rows]
    for key, mk in (("velocity", "o"), ("kappa", "s")):
        ax[0].plot([a for a, x in zip(r, rows) if x[key]["mu"] is not None],
                   [x[key]["mu"] for x in rows if x[key]["mu"] is not None], mk + "-", label=key)
    for k, v in res["fig3"].items():
        ax[0].plot([float(k)], [v["paper_mu"]], "k*", ms=10)
    ax[0].plot([], [], "k*", label="paper Fig. 3 (velocity)")
    ax[0].set_xlabel("J0 / h0")
    ax[0].set_ylabel("mu_eff (constant-mu Eq. 3 fit)")
    ax[0].legend(loc="upper left")
    for i, (key, rec) in enumerate(sorted(res["recovery"].items())):
        ax[1].errorbar([i], [rec["median"] - rec["truth"]], yerr=[2 * rec["sigma_total"]], fmt="o",
                       color="C2" if rec["pass"] else "C3")
    ax[1].axhline(0, color="k", lw=0.5)
    ax[1].set_xticks(range(len(res["recovery"])))
    ax[1].set_xticklabels(sorted(res["recovery"]), rotation=30, fontsize=7)
    ax[1].set_ylabel("fitted - true J0/h0 (2 sigma bars)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out")
    ap.add_argument("--realizations", type=int, default=1000,
                    help="fresh-run realizations per ratio, all parts together (default 1000)")
    ap.add_argument("--parts", type=int, default=8,
                    help="independent fresh runs per ratio (seeds), for the jackknife of sigma_run (default 8)")
    ap.add_argument("--draws", type=int, default=40, help="noise draws per recovery case (default 40)")
    ap.add_argument("--ratios", type=float, nargs="*", default=list(FRESH), help="fresh-run J0/h0 values")
    ap.add_argument("--skip-map", action="store_true", help="skip the mu_eff map")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    from jtls.anneal.run import use_cpu_cores
    use_cpu_cores()
    import jtls
    from jtls.simulated.dos import load_library
    os.makedirs(args.out, exist_ok=True)
    for name in ("simulated_dos.json", "simulated_dos.png"):
        p = os.path.join(args.out, name)
        if os.path.exists(p):
            os.replace(p, p + ".previous")
    lib = load_library()
    omega = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    res = {"library": {"path": lib.path, "ratios": [float(x) for x in lib.ratios],
                       "realizations_per_ratio": lib.meta.get("realizations_per_ratio"),
                       "L": lib.meta.get("build", {}).get("L")},
           "settings": {"omega_rad_s": omega, "A_per_s_K3": A, "fresh_realizations": args.realizations,
                        "fresh_parts": args.parts,
                        "draws": args.draws}, "recovery": {}, "fig3": {}, "mu_eff": []}
    runs = {}
    tmpdir = os.path.join(args.out, "runs", "smoothed")
    os.makedirs(tmpdir, exist_ok=True)
    for r in args.ratios:
        runs[r] = smoothed(fresh_runs(r, args, lib.meta), tmpdir)
        for kind in KINDS:
            key = f"{kind} J0/h0={r:g}"
            res["recovery"][key] = recover(kind, runs[r], r, args, omega, A)
            print(key, json.dumps(res["recovery"][key]), flush=True)
    if all(r in runs for r in FIG3):
        res["fig3"] = fig3(runs, omega, A)
        print("fig3", json.dumps(res["fig3"]), flush=True)
    if not args.skip_map:
        res["mu_eff"] = mu_eff_map(lib, omega, A)
    with open(os.path.join(args.out, "simulated_dos.json"), "w") as f:
        json.dump(res, f, indent=1)
    plot(res, os.path.join(args.out, "simulated_dos.png"))
    bad = [k for k, v in res["recovery"].items() if not v["pass"]]
    print("recovery:", "all pass" if not bad else f"FAILED: {bad}")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
