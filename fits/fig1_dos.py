"""Fig. 1 of Churkin et al. 2021 from jtls's annealer: the single-particle DOS n(T, E).

(a) n(E) at T = 0.02 and 0.5 K for J0 = 2 and 3 K with the Gaussian fit at the
lowest temperature (paper: standard deviation 21.53 K at J0 = 2 K);
(b) zoom to low energies with the Eq. (3) fits in 0 < E < 2T at 0.5 K
(paper: mu = 0.1269 and 0.1517) and, inset, n ∝ E^mu fits at T -> 0
(paper: mu ~ 0.2 and 0.27).  Writes OUT/fig1_dos.png and OUT/fig1_dos.json.

Default: L = 8, 300 realizations (runs shared with fits/table2.py via OUT/runs).
Paper scale:  python fits/fig1_dos.py --L 12 --realizations 10000
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from table2 import add_run_args, get_run  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(ap)
    ap.add_argument("--J0", type=float, nargs="+", default=[2.0, 3.0])
    ap.add_argument("--power-range", type=float, nargs=2, default=[0.05, 2.0],
                    help="energy range (K) of the T -> 0 power-law fit (default 0.05 2)")
    args = ap.parse_args(argv)
    from jtls.anneal.analysis import fit_eq3, fit_gaussian, fit_zero_T_power, load
    os.makedirs(args.out, exist_ok=True)
    res = {"L": args.L, "realizations": args.realizations, "J0": {}}
    datas = {}
    for J0 in args.J0:
        d = load(get_run(args, J0))
        datas[J0] = d
        T = d["T"]
        i05 = int(np.argmin(abs(T - 0.5)))
        i002 = int(np.argmin(abs(T - 0.02)))
        eq3 = fit_eq3(T[i05], d["E_edges_fine"], d["counts"][i05], int(d["n_tls_total"]))
        gauss = fit_gaussian(d, row=i002)
        p_relaxed = fit_zero_T_power(d, *args.power_range, relaxed=True)
        sub = dict(d, counts_relaxed=d["counts"][i002])
        p_002 = fit_zero_T_power(sub, *args.power_range, relaxed=True)
        res["J0"][f"{J0:g}"] = {"eq3_T0.5": eq3, "gaussian_T0.02": gauss, "power_T0.02": p_002,
                                "power_relaxed_2uK": p_relaxed,
                                "unstable_single": int(d["unstable_single"]),
                                "unstable_pair": int(d["unstable_pair"]),
                                "relax_flips": int(d["relax_flips"])}
    res["paper"] = {"gaussian_sigma_J0_2": 21.53, "mu_T0.5": {"2": 0.1269, "3": 0.1517},
                    "mu_T0": {"2": 0.2, "3": 0.27}}
    with open(os.path.join(args.out, "fig1_dos.json"), "w") as f:
        json.dump(res, f, indent=1)
    for J0, r in res["J0"].items():
        e = r["eq3_T0.5"]
        print(f"J0={J0} K: Gaussian sigma(0.02 K) = {r['gaussian_T0.02']['sigma']:.2f} +- "
              f"{r['gaussian_T0.02']['sigma_err']:.2f} K (paper 21.53 at J0=2); "
              f"Eq.3 at 0.5 K: mu = {e['mu']} +- {e['mu_err']}; "
              f"T->0 power mu = {r['power_T0.02']['mu']:.3f} +- {r['power_T0.02']['mu_err']:.3f} (0.02 K), "
              f"{r['power_relaxed_2uK']['mu']:.3f} +- {r['power_relaxed_2uK']['mu_err']:.3f} (relaxed 2 uK)")
    _plot(datas, res, args, os.path.join(args.out, "fig1_dos.png"))
    return 0


def _plot(datas, res, args, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.5))
    ins = ax[1].inset_axes([0.6, 0.08, 0.37, 0.33])
    cols = {2.0: "C0", 3.0: "C3"}
    for J0, d in datas.items():
        col = cols.get(J0, None)
        r = res["J0"][f"{J0:g}"]
        for Tt, ls in ((0.02, "-"), (0.5, "--")):
            i = int(np.argmin(abs(d["T"] - Tt)))
            ax[0].plot(d["E_centers"], d["dos"][i], ls, color=col, lw=1, label=f"J0={J0:g} K, T={Tt} K")
            # zoom: 40 mK bins up to 2.5 K
            e = d["E_edges_fine"]
            c = d["counts"][i][: e.size - 1]
            k = 16
            ce = e[: (e.size - 1) // k * k + 1: k]
            cc = c[: (c.size // k) * k].reshape(-1, k).sum(1)
            m = ce[1:] <= 2.5 + 1e-9
            n = cc / (2 * int(d["n_tls_total"]) * np.diff(ce))
            ax[1].plot(0.5 * (ce[1:] + ce[:-1])[m], n[m], ls, color=col, lw=1)
        e = r["eq3_T0.5"]
        if e["B"] is not None:
            E = np.linspace(0, 1.0, 50)
            ax[1].plot(E, e["B"] * (0.25 + E ** 2) ** (e["mu"] / 2), "k-", lw=2)
        p = r["power_T0.02"]
        E = np.geomspace(*args.power_range, 40)
        i = int(np.argmin(abs(d["T"] - 0.02)))
        ins.loglog(d["E_centers"], d["dos"][i], ".", color=col, ms=3)
        ins.loglog(E, p["A"] * E ** p["mu"], "k-", lw=1)
    g = res["J0"].get("2", next(iter(res["J0"].values())))["gaussian_T0.02"]
    E = np.linspace(0, 80, 200)
    ax[0].plot(E, g["norm"] * np.exp(-0.5 * (E / g["sigma"]) ** 2) / (g["sigma"] * np.sqrt(2 * np.pi)), "k-",
               lw=2, label=f"Gaussian, sigma={g['sigma']:.1f} K")
    ax[0].set_xlim(0, 80)
    ax[0].set_xlabel("E (K)")
    ax[0].set_ylabel("n(T, E) per TLS per K")
    ax[0].legend(fontsize=7)
    ax[1].set_xlim(0, 2.5)
    ax[1].set_xlabel("E (K)")
    ax[1].set_title("zoom; black: Eq. (3) fits at 0.5 K", fontsize=9)
    ins.set_xlim(0.02, 5)
    ins.set_ylim(2e-3, 5e-2)
    ins.set_title("T=0.02 K: n ~ E^mu", fontsize=7)
    fig.suptitle(f"Fig. 1: single-particle TLS DOS, L={args.L}, {args.realizations} realizations")
    fig.tight_layout()
    fig.savefig(png, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
