"""Mean-field TLS glass (Asban et al. 2022): DOS, 1/lambda rates and the TLS-glass row of Table I.

Reproduces, with jtls.companion.meanfield,
  * Fig. 1/2: the DOS with its dipole gap, closing as T grows (W = J = 1);
  * Fig. 3: the 1/lambda rate distribution, lambda_min and the logarithmic
    relaxation of Eqs. 16-17;
  * Table I, TG row, "Disorder +": W = 1, 10, 100 at J = 1, W/T = 10 (Fig. 6);
  * Table I, TG row, "Interaction +": W/J = 1, 3.1, 9.8 at W^2 + J^2 = 2,
    T = 0.1 (Fig. 7).
Writes figures and numbers (JSON) to fits/companion_results/.

    /work/venv/bin/python fits/companion_meanfield.py [--N 1000] [--R 40]

All realizations of one scheme share their random numbers (common keys), so
the positions, u_ij, Delta0 and unit-normal Delta draws are the same across
the parameter values and differences are not sampling noise.
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import jax
import jax.numpy as jnp
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import jtls  # noqa: F401,E402
from jtls.companion import meanfield as mf  # noqa: E402
from jtls.progress import add_progress_argument, from_args  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "companion_results")


def rate_summary(run):
    lr = np.log10(run.rates.ravel())
    return {
        "lambda_min": float(mf.lambda_min(run.rates)),
        "log10_rate_quantiles": {str(q): float(np.quantile(lr, q)) for q in (0.01, 0.05, 0.25, 0.5)},
        "n_rates": int(lr.size),
        "converged": int(run.converged.sum()),
        "n_real": int(run.converged.size),
        "max_sweeps": int(run.iterations.max()),
    }


def table_one(key, args, kw, density, tag, progress):
    """Both schemes of Table I (TG row) at one density; figure + numbers."""
    kw = dict(kw, density=density)
    schemes = {"density_per_rnn3": density}
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    sch = []
    for W in (1.0, 10.0, 100.0):
        with progress.step(f"Table I ({tag}): W = {W:g}, T = {W / 10:g}"):
            run = mf.simulate(key, args.R, args.N, W, 1.0, W / 10.0, **kw)
        s = rate_summary(run)
        s.update(W=W, J=1.0, T=W / 10.0)
        sch.append(s)
        c, h = mf.log_rate_histogram(run.rates, 8, lo=-16, hi=2)
        ax[0].step(c, h, where="mid", label=f"W = {W:g}, T = {W / 10:g}")
    schemes["disorder_W"] = sch
    sch = []
    for WJ in (1.0, 3.1, 9.8):
        J = float(np.sqrt(2.0 / (1.0 + WJ**2)))
        W = WJ * J
        with progress.step(f"Table I ({tag}): W/J = {WJ:g}"):
            run = mf.simulate(key, args.R, args.N, W, J, 0.1, **kw)
        s = rate_summary(run)
        s.update(W=W, J=J, T=0.1, W_over_J=WJ,
                 frac_abs_E_below_2T=float(np.mean(np.abs(run.E) < 0.2)))
        sch.append(s)
        c, h = mf.log_rate_histogram(run.rates, 8, lo=-16, hi=2)
        ax[1].step(c, h, where="mid", label=f"W/J = {WJ:g}")
    schemes["interaction_W_over_J"] = sch
    ax[0].set_title(f"Disorder up (J = 1, W/T = 10), n = {density:.3g}/r_nn^3")
    ax[1].set_title(f"J/W up at W^2 + J^2 = 2, T = 0.1, n = {density:.3g}/r_nn^3")
    for a in ax:
        a.set_xlim(-16, -11)
        a.set_xlabel(r"log$_{10}$ $\lambda$ (a J$^3$)")
        a.set_ylabel("density per decade")
        a.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, f"meanfield_tableI_{tag}.png"), dpi=110)
    plt.close(fig)
    d = schemes["disorder_W"]
    i = schemes["interaction_W_over_J"]
    verdict = {"statistic": "1% and 5% quantiles of log10(lambda) (common random numbers)"}
    for q in ("0.01", "0.05"):
        verdict[f"disorder_up_shifts_rates_up_q{q}"] = bool(all(
            d[k + 1]["log10_rate_quantiles"][q] > d[k]["log10_rate_quantiles"][q] for k in range(2)))
        # J/W increases from W/J = 9.8 to W/J = 1
        verdict[f"J_over_W_up_shifts_rates_up_q{q}"] = bool(all(
            i[k]["log10_rate_quantiles"][q] > i[k + 1]["log10_rate_quantiles"][q] for k in range(2)))
    schemes["verdict"] = verdict
    return schemes


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=1000)
    ap.add_argument("--R", type=int, default=40, help="realizations per parameter set")
    ap.add_argument("--seed", type=int, default=2022)
    ap.add_argument("--out", default=OUT)
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "companion_meanfield")
    os.makedirs(args.out, exist_ok=True)
    key = jax.random.PRNGKey(args.seed)
    kw = dict(coupling_dtype=jnp.float64, tol=1e-8)
    res = {"N": args.N, "R": args.R, "seed": args.seed,
           "density_per_rnn3 (DOS and Fig. 3 parts)": mf.DENSITY_UNIT,
           "units": "energies in J, rates in a J^3"}
    t_start = time.time()

    # ---- DOS vs temperature (Figs. 1-2) ----
    dos = {}
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for T in (0.05, 0.1, 1.0, 2.0):
        with progress.step(f"DOS at T = {T:g} J ({args.R} realizations of N = {args.N})"):
            run = mf.simulate(key, args.R, args.N, 1.0, 1.0, T, **kw)
        c, h = mf.dos(run.E, bins=120, range=(-3, 3))
        aE = np.abs(run.E.ravel())
        dos[str(T)] = {
            "dos_abs_E_lt_0.05": float(np.mean(aE < 0.05) / 0.1),
            "dos_0.5_lt_abs_E_lt_1": float(np.mean((aE > 0.5) & (aE < 1.0)) / 1.0),
            "converged": int(run.converged.sum()), "max_sweeps": int(run.iterations.max()),
        }
        dos[str(T)]["gap_ratio"] = dos[str(T)]["dos_abs_E_lt_0.05"] / dos[str(T)]["dos_0.5_lt_abs_E_lt_1"]
        ax[0].plot(c, h, label=f"T = {T}")
        ax[1].plot(c, h, label=f"T = {T}")
        if T == 0.05:
            fig3_run = run
    ax[1].set_xlim(-0.6, 0.6)
    for a in ax:
        a.set_xlabel("E / J")
        a.set_ylabel("DOS (per TLS per J)")
        a.legend()
    ax[0].set_title(f"Mean-field TLS glass, W = J = 1, N = {args.N}, {args.R} realizations")
    ax[1].set_title("zoom: dipole gap closes as T grows")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "meanfield_dos.png"), dpi=110)
    plt.close(fig)
    res["dos_vs_T"] = dos

    # ---- rates, lambda_min and log relaxation (Fig. 3, Eqs. 16-17) ----
    run = fig3_run
    lam = run.rates.ravel()
    lmin = mf.lambda_min(lam)
    c, h = mf.log_rate_histogram(lam, bins_per_decade=4)
    plateau = (c > np.log10(lmin) + 1) & (c < np.quantile(np.log10(lam), 0.75))
    slope = float(np.polyfit(c[plateau], np.log10(h[plateau]), 1)[0])
    lmax = float(10 ** np.quantile(np.log10(lam), 0.9))
    t = np.geomspace(1.0 / lmax, 1.0 / lmin, 60)
    curve = np.asarray(mf.relaxation_curve(lam, t))
    c17 = 1.0 / np.log(lmax / lmin)
    eq17 = np.asarray(mf.log_relaxation_asymptotic(t, lmin, c17))
    # fit |delta sigma| = A - B ln t over the middle of the window
    mid = (t > 10 / lmax) & (t < 0.1 / lmin)
    B = float(-np.polyfit(np.log(t[mid]), curve[mid], 1)[0])
    res["fig3_rates_T0.05"] = {
        "lambda_min_plateau": float(lmin),
        "plateau_log_slope_of_density_per_decade": slope,
        "plateau_decades": float(np.log10(np.quantile(lam, 0.75) / lmin)),
        "relaxation_log_slope_fit": B,
        "relaxation_log_slope_eq17_with_plateau_fraction":
            float(np.mean((lam >= lmin) & (lam <= lmax)) * c17),
    }
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].step(c, h, where="mid")
    ax[0].axvline(np.log10(lmin), color="k", ls=":", label=r"$\lambda_{min}$")
    ax[0].set_xlabel(r"log$_{10}$ $\lambda$ (a J$^3$)")
    ax[0].set_ylabel("density per decade")
    ax[0].set_title(f"Fig. 3: 1/lambda plateau (slope {slope:+.3f}), T = 0.05")
    ax[0].legend()
    ax[1].semilogx(t, curve, label="sampled rates, Eq. 15")
    ax[1].semilogx(t, curve[mid][0] + (eq17 - eq17[mid][0]) * res["fig3_rates_T0.05"]
                   ["relaxation_log_slope_eq17_with_plateau_fraction"] / c17,
                   "--", label="Eq. 17 slope (plateau weight)")
    ax[1].set_xlabel("t (1 / a J^3)")
    ax[1].set_ylabel(r"|$\delta\sigma$|(t)")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "meanfield_rates_relaxation.png"), dpi=110)
    plt.close(fig)

    # ---- Table I, TG row, for both density conventions ----
    res["tableI_TG_row"] = {}
    for dname, dens in (("unit_density", mf.DENSITY_UNIT), ("mean_nn_density", mf.DENSITY_MEAN_NN)):
        res["tableI_TG_row"][dname] = table_one(key, args, kw, dens, dname, progress)
    res["wall_seconds"] = time.time() - t_start
    with open(os.path.join(args.out, "meanfield.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    for dname in res["tableI_TG_row"]:
        print(dname, json.dumps(res["tableI_TG_row"][dname]["verdict"], indent=1))
    print(json.dumps(res["dos_vs_T"], indent=1))
    print(json.dumps(res["fig3_rates_T0.05"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
