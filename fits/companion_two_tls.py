"""Two-TLS model (Schechter & Stamp 2013, App. B2-B3): P_S(E), T_U and C_o.

Runs the App. B2 algorithm (jtls.companion.two_tls) for x = 0.2 (18^3 fcc
cells, ~4650 TLSs, the paper's Fig. 2) and x = 0.5 (13^3 cells, ~4400 TLSs,
Fig. 4), cut-offs a~ = 0, 1.5, 3, 4.5, 6, without random fields and with
h^tau / <E_tau> = 0.3 and 1 (App. B3).  For g = 0.02 it extracts the crossover
T_U from P_S(T_U) = 5 g (Fig. 2 caption) and compares with the stated
T_U ~ 0.2 <E_tau> ~ 0.2 g J_o, and evaluates C_o = kappa g p_tau0 (Eq. 3)
with the simulated tau DOS.  Writes figures + JSON to fits/companion_results/.

    /work/venv/bin/python fits/companion_two_tls.py [--R 4] [--small]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import jax
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import jtls  # noqa: F401,E402
from jtls.companion import two_tls as st  # noqa: E402
from jtls.progress import add_progress_argument, from_args  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "companion_results")
CUTOFFS = (0.0, 1.5, 3.0, 4.5, 6.0)
FIELDS = (0.0, 0.3, 1.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--R", type=int, default=4, help="realizations per configuration")
    ap.add_argument("--g", type=float, default=0.02)
    ap.add_argument("--kappa", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=2013)
    ap.add_argument("--small", action="store_true", help="L = 9 / 7 instead of 18 / 13 (quick look)")
    ap.add_argument("--out", default=OUT)
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "companion_two_tls")
    os.makedirs(args.out, exist_ok=True)
    sizes = {0.2: 9, 0.5: 7} if args.small else {0.2: 18, 0.5: 13}
    thr = 5.0 * args.g
    key = jax.random.PRNGKey(args.seed)
    res = {"R": args.R, "g": args.g, "kappa": args.kappa, "threshold_P_S": thr, "lattice": "fcc",
           "energies": "in units of <E_tau> (mean |E_tau| without random field)", "configs": []}
    t0 = time.time()
    for x, L in sizes.items():
        fig, axes = plt.subplots(1, len(FIELDS), figsize=(5 * len(FIELDS), 4), sharey=True)
        for ax, h in zip(axes, FIELDS):
            for at in CUTOFFS:
                with progress.step(f"x = {x:g}, L = {L}, cutoff {at:g}, field {h:g}: {args.R} realizations"):
                    r = st.simulate(key, args.R, L, x, at, h, batch=2)
                Et = float(r.e_tau_mean.mean())
                E = np.geomspace(1e-3, 10.0, 500) * Et
                P = st.reduction_factor(r.e_min, E)
                try:
                    tu = st.crossover_energy(E, P, thr) / Et
                except ValueError:
                    tu = float("nan")
                p0, p0err = st.tau_dos_at_zero(r.e_tau, scale=Et)
                res["configs"].append({
                    "x": x, "L_cells": L, "n_tls": int(r.e_min.shape[1]), "a_tilde": at,
                    "h_over_Etau": h, "E_tau_mean_over_J_St": Et,
                    "T_U_over_E_tau": tu,
                    "P_S_at_0.2_E_tau": float(st.reduction_factor(r.e_min, [0.2 * Et])[0]),
                    "P_S_at_E_tau": float(st.reduction_factor(r.e_min, [Et])[0]),
                    "p_tau0_times_E_tau": p0 * Et, "p_tau0_err_times_E_tau": p0err * Et,
                    "C_o_over_kappa_g": p0 * Et,
                    "C_o": float(st.tunneling_strength(args.kappa, args.g, p0 * Et)),
                })
                ax.semilogx(E / Et, P, label=f"a~ = {at:g}")
            ax.axhline(thr, color="k", ls=":", lw=0.8)
            ax.set_title(f"x = {x}, h/<E_tau> = {h:g}")
            ax.set_xlabel("E / <E_tau>")
            ax.set_xlim(1e-3, 10)
            ax.legend(fontsize=8)
        axes[0].set_ylabel("P_S(E)")
        fig.tight_layout()
        fig.savefig(os.path.join(args.out, f"two_tls_PS_x{x}.png"), dpi=110)
        plt.close(fig)
    cf = res["configs"]
    sel = [c["T_U_over_E_tau"] for c in cf if c["h_over_Etau"] == 0 and 1.0 <= c["a_tilde"] <= 6.0]
    res["summary"] = {
        "T_U_over_E_tau_no_field_a_1.5_to_6": {"min": min(sel), "max": max(sel), "mean": float(np.mean(sel))},
        "paper_statement": "T_U ~ 0.2 <E_tau> ~ 0.2 g J_o for 1 < a~ < 6 (Fig. 2 caption, Sec. II B)",
        "C_o_over_kappa_g_range": [min(c["C_o_over_kappa_g"] for c in cf),
                                   max(c["C_o_over_kappa_g"] for c in cf)],
        "wall_seconds": time.time() - t0,
    }
    with open(os.path.join(args.out, "two_tls.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    for c in cf:
        print(f"x={c['x']} h={c['h_over_Etau']:g} a~={c['a_tilde']:g}: T_U/<E_tau>={c['T_U_over_E_tau']:.3f} "
              f"P_S(0.2<E_tau>)={c['P_S_at_0.2_E_tau']:.3f} C_o/(kappa g)={c['C_o_over_kappa_g']:.2f}")
    print(json.dumps(res["summary"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
