"""Fig. 2 of Churkin et al. 2021 from jtls: kappa(T) (Eq. 5) and C(T) (Eq. 6) of the simulated DOS.

The annealer's n(T, E) (a jtls.TabulatedDOS) goes through the core observables
``thermal_conductivity_dos`` and ``specific_heat_dos`` at the schedule
temperatures in [0.1, 1] K; power laws kappa ∝ T^(2-beta) and C ∝ T^(1+alpha)
are fitted by least squares in log-log (errors from the fit residuals).
Paper: alpha, beta in 0.1 - 0.2.  Writes OUT/fig2_thermal.png and .json.

Default: L = 8, 300 realizations, J0 = 2 and 3 K (runs shared via OUT/runs).
Paper scale:  python fits/fig2_thermal.py --L 12 --realizations 10000
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table2 import add_run_args, get_run  # noqa: E402


def power_fit(T, y):
    """ln y = a + p ln T by least squares; returns (p, p_err, a)."""
    x, z = np.log(T), np.log(y)
    A = np.stack([np.ones_like(x), x], 1)
    coef, res, *_ = np.linalg.lstsq(A, z, rcond=None)
    r = z - A @ coef
    dof = max(len(x) - 2, 1)
    cov = np.linalg.inv(A.T @ A) * (r @ r) / dof
    return float(coef[1]), float(np.sqrt(cov[1, 1])), float(coef[0])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(ap)
    ap.add_argument("--J0", type=float, nargs="+", default=[2.0, 3.0])
    ap.add_argument("--Tmin", type=float, default=0.1)
    ap.add_argument("--Tmax", type=float, default=1.0)
    args = ap.parse_args(argv)
    import jtls
    from jtls.dos import TabulatedDOS
    os.makedirs(args.out, exist_ok=True)
    res = {"L": args.L, "realizations": args.realizations, "J0": {},
           "paper": "alpha, beta in 0.1 - 0.2 (Fig. 2, L = 8 and 12)"}
    curves = {}
    for J0 in args.J0:
        path = get_run(args, J0)
        dos = TabulatedDOS.from_file(path)
        Tg = np.load(path)["T"]
        T = Tg[(Tg >= args.Tmin * (1 - 1e-9)) & (Tg <= args.Tmax * (1 + 1e-9))]
        kappa = np.asarray(jtls.thermal_conductivity_dos(T, dos))
        cv = np.asarray(jtls.specific_heat_dos(T, dos))
        pk, pke, ak = power_fit(T, kappa)
        pc, pce, ac = power_fit(T, cv)
        res["J0"][f"{J0:g}"] = {"T": T.tolist(), "kappa_arb": kappa.tolist(), "C": cv.tolist(),
                                "beta": 2 - pk, "beta_err": pke, "alpha": pc - 1, "alpha_err": pce}
        curves[J0] = (T, kappa, cv, ak, pk, ac, pc)
        print(f"J0={J0:g} K: beta = {2 - pk:.3f} +- {pke:.3f}, alpha = {pc - 1:.3f} +- {pce:.3f}")
    with open(os.path.join(args.out, "fig2_thermal.json"), "w") as f:
        json.dump(res, f, indent=1)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for (J0, (T, k, c, ak, pk, ac, pc)), col in zip(curves.items(), ("C0", "C3", "C2")):
        r = res["J0"][f"{J0:g}"]
        ax[0].loglog(T, k, "o", color=col, label=f"J0={J0:g} K, beta={r['beta']:.3f}")
        ax[0].loglog(T, np.exp(ak) * T ** pk, "-", color=col)
        ax[1].loglog(T, c, "o", color=col, label=f"J0={J0:g} K, alpha={r['alpha']:.3f}")
        ax[1].loglog(T, np.exp(ac) * T ** pc, "-", color=col)
    ax[0].set_ylabel("kappa (arb. units, Eq. 5)")
    ax[1].set_ylabel("C per TLS (Eq. 6)")
    for a in ax:
        a.set_xlabel("T (K)")
        a.legend(fontsize=8)
    fig.suptitle(f"Fig. 2 from the simulated DOS, L={args.L}, {args.realizations} realizations")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "fig2_thermal.png"), dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
