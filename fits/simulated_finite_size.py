"""Finite-size check of the simulated-DOS library (issue 11, item 2): L = 8, 10, 12, 14 at two J0/h0.

For J0/h0 = 0.2 and 0.5 (h0 = 10 K, the library's protocol: jtls.simulated.build.point_config),
anneal L = 8, 10, 12, 14 (``--L``) with about the same number of TLSs per run, then compare

* B(T) and mu(T) of Eq. (3) fitted in 0 < E < 2T at 0.1, 0.2, 0.4, 0.6, 0.8, 1 K
  (jtls.anneal.analysis.fit_eq3, the Table II procedure),
* the T -> 0 power mu of the relaxed final state in 0.05 - 2 K (fit_zero_T_power),

against the library's L.  The drift L -> L' of each quantity is reported in
units of the combined standard error, z = (x_L' - x_L) / sqrt(s_L^2 + s_L'^2):
|z| < 2 everywhere means no drift is resolved at this statistics; otherwise
the relative drift is the number to quote.  Writes OUT/simulated_finite_size.json
and .png; runs are cached in OUT/runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

TEMPS = (0.1, 0.2, 0.4, 0.6, 0.8, 1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out")
    ap.add_argument("--L", type=int, nargs="+", default=[8, 10, 12, 14])
    ap.add_argument("--ratios", type=float, nargs="+", default=[0.2, 0.5])
    ap.add_argument("--tls", type=int, default=500_000, help="TLSs per run (realizations = tls / (L^3/2))")
    ap.add_argument("--reference-L", type=int, default=10, help="the library's L (default 10)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    from jtls.anneal.run import use_cpu_cores
    use_cpu_cores()
    from jtls.anneal import analysis
    from jtls.anneal.cache import cached_run
    from jtls.simulated.build import point_config
    os.makedirs(args.out, exist_ok=True)
    res = {"settings": vars(args), "runs": {}, "drift": {}}
    for r in args.ratios:
        per_L = {}
        for L in args.L:
            R = max(64, int(round(args.tls / (0.5 * L ** 3))))
            cfg = point_config(r, 50, 0, L=L, batch_size=R, seed=800_000 + L)
            path = cached_run(cfg, os.path.join(args.out, "runs"), progress=not args.quiet)
            with np.load(path) as f:
                data = {k: f[k] for k in f.files}
            rows = analysis.fit_table(data, TEMPS)
            z0 = analysis.fit_zero_T_power(data)
            per_L[L] = {"realizations": R, "eq3": [{k: row.get(k) for k in ("T", "B", "B_err", "mu", "mu_err",
                                                                            "status", "at_bound", "mu_upper95")}
                                                   for row in rows],
                        "zero_T_power": {"mu": z0["mu"], "mu_err": z0["mu_err"]}}
            print(f"J0/h0 = {r:g}, L = {L}: " + ", ".join(
                f"T={row['T']:g} mu={analysis.mu_text(row)}" for row in rows if row["ok"])
                + f"; T->0 mu = {z0['mu']:.3f}+-{z0['mu_err']:.3f}", flush=True)
        res["runs"][str(r)] = per_L
        ref = per_L.get(args.reference_L)
        drift = {}
        for L, v in per_L.items():
            if ref is None or L == args.reference_L:
                continue
            zs = []
            for a, b in zip(ref["eq3"], v["eq3"]):
                if a["status"] == "ok" and b["status"] == "ok":
                    for k in ("B", "mu"):
                        if a[k + "_err"] is None or b[k + "_err"] is None:
                            continue                # mu on its physical bound: a limit, no error to compare
                        s = np.hypot(a[k + "_err"], b[k + "_err"])
                        zs.append({"T": a["T"], "quantity": k, "ref": a[k], "value": b[k],
                                   "rel_drift": (b[k] - a[k]) / abs(a[k]) if a[k] else None,
                                   "z": (b[k] - a[k]) / s})
            a0, b0 = ref["zero_T_power"], v["zero_T_power"]
            zs.append({"T": 0.0, "quantity": "mu_T0", "ref": a0["mu"], "value": b0["mu"],
                       "rel_drift": (b0["mu"] - a0["mu"]) / abs(a0["mu"]),
                       "z": (b0["mu"] - a0["mu"]) / np.hypot(a0["mu_err"], b0["mu_err"])})
            drift[str(L)] = {"max_abs_z": float(max(abs(z["z"]) for z in zs)), "entries": zs}
        res["drift"][str(r)] = drift
    with open(os.path.join(args.out, "simulated_finite_size.json"), "w") as f:
        json.dump(res, f, indent=1, default=float)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(args.ratios), figsize=(5 * len(args.ratios), 3.8), squeeze=False)
    for ax, r in zip(axes[0], args.ratios):
        for L, v in res["runs"][str(r)].items():
            ok = [row for row in v["eq3"] if row["status"] == "ok" and row["mu_err"] is not None]
            ax.errorbar([row["T"] for row in ok], [row["mu"] for row in ok], [row["mu_err"] for row in ok],
                        fmt="o-", capsize=2, label=f"L = {L}")
        ax.set_xlabel("T (K)")
        ax.set_ylabel("mu(T), Eq. (3) in 0 < E < 2T")
        ax.set_title(f"J0/h0 = {r:g}")
        ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "simulated_finite_size.png"), dpi=120)
    for r, d in res["drift"].items():
        for L, v in d.items():
            print(f"J0/h0 = {r}: L = {args.reference_L} -> {L}: largest |z| = {v['max_abs_z']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
