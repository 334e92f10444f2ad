"""Fig. 3 of Churkin et al. 2021 from jtls: dv/v(T) of the simulated DOS and its constant-mu fit.

dv/v = Eq. (7) + Eq. (8) evaluated with the annealer's n(T, E) (jtls.TabulatedDOS
through the core ``velocity_shift_dos``) at 12 schedule temperatures between
0.1 and 1 K, then fitted with the jtls.fit engine (observable "velocity":
Eqs. 7 + 8 with the Eq. 3 DOS, temperature-independent mu, free C and mu and
an offset; A and omega fixed to the values used to generate the curve).
The fitted C is the generating C times the DOS prefactor (the fit model's DOS is
(T^2 + E^2)^(mu/2) without B), so C_fit ~ C B(T ~ 0.5 K).
The paper does not give omega and A for Fig. 3; we use those of its Fig. 5a
(omega = 90 kHz, A = 9.4 MHz, both times 2 pi; T0 = (omega/A)^(1/3) = 0.21 K).
Paper: fitted mu = 0.13 (J0 = 2 K) and 0.2 (J0 = 3 K).
Writes OUT/fig3_velocity.png and .json.

Default: L = 8, 300 realizations (runs shared via OUT/runs).
Paper scale:  python fits/fig3_velocity.py --L 12 --realizations 10000
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table2 import add_run_args, get_run, progress_of  # noqa: E402

T12 = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(ap)
    ap.add_argument("--J0", type=float, nargs="+", default=[2.0, 3.0])
    ap.add_argument("--omega-hz", type=float, default=90e3)
    ap.add_argument("--A-hz", type=float, default=9.4e6)
    ap.add_argument("--C", type=float, default=1e-4, help="scale C of dv/v (arbitrary)")
    args = ap.parse_args(argv)
    import jtls
    from jtls.dos import TabulatedDOS
    from jtls.fit import Model, fit, predict  # noqa: F401
    omega = jtls.units.paper_frequency(args.omega_hz)
    A = jtls.units.paper_frequency(args.A_hz)
    T = np.asarray(T12)
    os.makedirs(args.out, exist_ok=True)
    res = {"L": args.L, "realizations": args.realizations, "omega_rad_s": omega, "A_per_s_K3": A,
           "T": T.tolist(), "paper_mu_fit": {"2": 0.13, "3": 0.2}, "J0": {}}
    curves = {}
    for J0 in args.J0:
        dos = TabulatedDOS.from_file(get_run(args, J0))
        with progress_of(args).step(f"dv/v of the annealed DOS and constant-mu fit, J0 = {J0:g} K"):
            dv = np.asarray(jtls.velocity_shift_dos(T, dos, A, omega, C=args.C, T_ref=1.0))
            r = fit(Model("velocity", omega=omega, T_ref=1.0), (T, dv), fix={"A": A})
        vals = dict(r.values)
        err = dict(r.stderr)
        res["J0"][f"{J0:g}"] = {"dv_over_v": dv.tolist(), "mu": vals.get("mu"), "mu_err": err.get("mu"),
                                "C": vals.get("C"), "C_err": err.get("C"), "status": r.status,
                                "reduced_chi2": r.reduced_chi2, "fit": r.to_dict()}
        curves[J0] = (dv, r)
        print(f"J0={J0:g} K: constant-mu fit mu = {vals.get('mu'):.3f} +- {err.get('mu')}, "
              f"C = {vals.get('C'):.3g} (generated with C = {args.C:g}); status {r.status}")
    with open(os.path.join(args.out, "fig3_velocity.json"), "w") as f:
        json.dump(res, f, indent=1, default=float)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4.2))
    Tf = np.geomspace(T[0], T[-1], 100)
    for (J0, (dv, r)), col, mk in zip(curves.items(), ("C0", "C3"), ("o", "s")):
        ax.semilogx(T, dv, mk, color=col, mfc="none", label=f"simulated DOS, J0={J0:g} K")
        try:
            yf = np.asarray(predict(r, T=Tf))
            ax.semilogx(Tf, yf, "-", color=col, label=f"fit, mu={r.values['mu']:.3f}")
        except Exception as exc:  # noqa: BLE001 - the curve is optional decoration
            print(f"(fit curve not drawn: {exc})")
    ax.set_xlabel("T (K)")
    ax.set_ylabel("dv/v (C = %g)" % args.C)
    ax.legend(fontsize=8)
    ax.set_title(f"Fig. 3 from the simulated DOS, L={args.L}, {args.realizations} realizations", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "fig3_velocity.png"), dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
