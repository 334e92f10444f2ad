"""Fit: internal quality factor Qi(T) of the 5.62 GHz Nb CPW resonator at five drive powers, jointly.

Reads ``resonator_nb_cpw/qint_minusNNdBm.csv`` (NN = 80 ... 160) in place with
jtls.data.read_csv and fits all five curves at once with the jtls.fit engine
and the ``resonator_loss`` observable (jtls.resonator.models):

    1/Qi = F delta0 [n(T, hbar w)/n0] tanh(hbar w/2T) / (1 + 10^((P - P_c)/10))^(beta/2)
           + 1/Q_qp(T; Delta, alpha) + loss_bg,

with F delta0, mu, P_c (dBm), beta, Delta, alpha and loss_bg shared by all
powers (P is each file's drive power).  Two fits: mu = 0 (standard tunneling
model) and mu free in [0, 1] (the bounds of every observable; mu = 0 is the
physical lower bound); mu > 0 is judged by the boundary test for nested
models with unknown common variance (the mixture 1/2 (0) + 1/2 F(1, dof),
primary) and delta AIC; the mu-free fit is started from mu = 0.02, 0.2, 0.4,
0.8 and the lowest chi2 kept (separate minima).  Residuals: ln Qi with one
common unknown relative error (no uncertainties in the files); parameter
errors scaled by sqrt(chi2/dof).

The power column of ``qint_minus160dBm.csv`` reads -140 dBm while its file name
(and the sequence of its neighbours) says -160 dBm.  By default the file name
decides (``--power-source filename``, what jtls.data.read_csv does, with a
DataWarning and a note); ``--power-source column`` uses the column instead.
The JSON records the decision, and the script also refits with the column's
value to report how much worse (chi2) that reading is.

Usage::

    python fits/resonator_loss.py [--data-dir DIR] [--out out/] [--f0 5.619901372e9]
                                  [--power-source filename|column] [--no-alternative]

Writes OUT/resonator_loss.png (data, models, loss components, residuals) and
OUT/resonator_loss.json.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

import numpy as np

import jtls
import jtls.resonator as res
from jtls.data import DataWarning, read_csv, require_dataset
from jtls.fit import Model, fit
from jtls.fit.compare import compare
from jtls.fit.plot import param_line, verdict_panel
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args
from jtls.resonator.models import loss_joint_guess, resonator_loss_parts

F0_DEFAULT = 5.619901372e9
POWERS = (80, 100, 120, 140, 160)
SHARED = ("F_delta0", "mu", "P_c_dBm", "beta", "Delta", "alpha", "loss_bg")


def load(data_dir, power_source):
    """[(label, Dataset)] for the five files; power decided by ``power_source``."""
    out, notes = [], []
    for p in POWERS:
        path = require_dataset(f"resonator_nb_cpw/qint_minus{p}dBm.csv", data_dir)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            ds = read_csv(path, power_dBm=power_source)
        notes += [str(w.message) for w in caught]
        out.append((f"{p}dBm_file", ds))
    return out, notes


def joint_fit(sets, omega, fix=None, initial=None, intervals=None):
    terms = [(Model("resonator_loss", omega=omega, P_dBm=ds.meta["power_dBm"]), ds, lab)
             for lab, ds in sets]
    return fit(terms, share=list(SHARED), fix=fix, initial=initial, intervals=intervals)


def summarise(r):
    shared = {k: r.values[k] for k in SHARED}
    return {"values": shared, "stderr": {k: (r.stderr[k] if math.isfinite(r.stderr[k]) else None)
                                         for k in SHARED}, "free": r.free,
            "chi2": r.chi2, "dof": r.dof, "n_points": r.n_points, "reduced_chi2": r.reduced_chi2,
            "rms_ln_residual": math.sqrt(r.chi2 / r.n_points), "status": r.status, "ok": r.ok,
            "message": r.message, "warnings": list(r.warnings), "at_bound": list(r.at_bound),
            "unidentified": list(r.unidentified), "intervals": r.intervals, "tests": r.tests,
            "parameters": {k: param_line(r, k) for k in r.free},
            "correlation": r.correlation, "context": r.context}


def relaxation_check(v, omega):
    """1/Q_rel of the mu = 0 fit's F delta0 for A = 2 pi x 7.9 MHz/K^3 (Churkin et al. Fig. 5b,
    a-SiO2) and 100x that, against the fitted total loss at the lowest power (-160 dBm)."""
    T = np.array([0.5, 1.0, 1.7])
    out = {}
    for label, A in (("A_paper_aSiO2", 2 * math.pi * 7.9e6), ("A_x100", 2 * math.pi * 7.9e8)):
        parts = resonator_loss_parts(T, *(v[k] for k in SHARED), omega, -160.0, A)
        total = sum(np.asarray(p) for p in parts.values())
        out[label] = {"A_s^-1K^-3": A, "T": T.tolist(),
                      "relaxation_loss": np.asarray(parts["tls_relaxation"]).tolist(),
                      "fraction_of_total_loss_at_-160dBm": (np.asarray(parts["tls_relaxation"]) / total).tolist()}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="shared data folder (default $JTLS_DATA or ../shared/data)")
    ap.add_argument("--out", default="out", help="output folder (default out/)")
    ap.add_argument("--f0", type=float, default=F0_DEFAULT, help="resonance frequency in Hz")
    ap.add_argument("--power-source", choices=("filename", "column"), default="filename",
                    help="which drive power to trust when file name and column disagree")
    ap.add_argument("--no-alternative", action="store_true",
                    help="skip the refit with the other power reading")
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "resonator_loss")
    os.makedirs(args.out, exist_ok=True)
    omega = float(res.conversions.omega_from_f0(args.f0))
    sets, notes = load(args.data_dir, args.power_source)
    t0 = time.perf_counter()
    g0 = loss_joint_guess([(ds.T, ds.value, ds.meta["power_dBm"]) for _, ds in sets], omega, mu=0.0)
    with progress.step("joint fit mu = 0"):
        fits = {"stm": joint_fit(sets, omega, fix={"mu": 0.0},
                                 initial={k: v for k, v in g0.items() if k != "mu"})}
    start = {k: v for k, v in fits["stm"].values.items() if k in SHARED and k != "mu"}
    # mu free: the chi2 surface has separate minima (e.g. mu at its lower bound); start from
    # several mu and keep the best
    with progress.step("joint fits mu free from 4 starts"):
        tries = {m0: joint_fit(sets, omega, initial={**start, "mu": m0}) for m0 in (0.02, 0.2, 0.4, 0.8)}
    ok_tries = [m0 for m0 in tries if tries[m0].ok]
    pool = ok_tries or list(tries)
    m_best = min(pool, key=lambda m0: tries[m0].chi2 if np.isfinite(tries[m0].chi2) else np.inf)
    multistart = {str(m0): {"mu": r.values["mu"], "chi2": r.chi2, "status": r.status}
                  for m0, r in tries.items()}
    # the kept start, again with profile intervals (mu's interval or limit)
    with progress.step("joint fit mu free (profile intervals)"):
        fits["mu_free"] = joint_fit(sets, omega, initial={**start, **{k: tries[m_best].values[k] for k in SHARED}},
                                    intervals="profile")
    elapsed = time.perf_counter() - t0
    ra, rb = fits["stm"], fits["mu_free"]
    comp = compare({"stm": ra, "mu_free": rb},
                   nested={"mu_free": {"null": "stm", "boundary": True, "parameter": "mu"}})
    t = comp.nested["mu_free vs stm"]
    iv = rb.intervals.get("mu") or {}
    comparison = {"delta_chi2": t["delta_chi2"], "F": t.get("statistic"), "p_value": t.get("p_value"),
                  "not_tested_because": t.get("reason"),
                  "mu": rb.values["mu"], "mu_status": rb.status, "mu_text": param_line(rb, "mu"),
                  "mu_interval68": [iv.get("low"), iv.get("high")],
                  "mu_interval95": [iv.get("low95"), iv.get("high95")],
                  "mu_at_bound": "mu" in rb.at_bound,
                  "preferred_AICc": comp.preferred, "decisive": comp.decisive, "failed": comp.failed,
                  "comparison": comp.to_dict(),
                  "test": "boundary test, nested models, unknown common sigma: 1/2 F(1, dof) mixture "
                          "(mu = 0 is the physical lower bound of mu in [0, 1]); only when both fits are ok"}
    comparison["mu_nonzero_supported"] = (bool(t["p_value"] < 0.05) if t.get("p_value") is not None
                                          else None)
    comparison["caveats"] = [w for w in rb.warnings if "lack of fit" in w or "degenerate" in w]

    alternative = None
    if not args.no_alternative:
        other = "column" if args.power_source == "filename" else "filename"
        alt_sets, _ = load(args.data_dir, other)
        with progress.step(f"joint fit mu = 0 with the power from the {other}"):
            alt = joint_fit(alt_sets, omega, fix={"mu": 0.0}, initial=start)
        alternative = {"power_source": other,
                       "powers_dBm": {lab: ds.meta["power_dBm"] for lab, ds in alt_sets},
                       "stm_chi2": alt.chi2, "stm_chi2_with_chosen_source": ra.chi2,
                       "status": alt.status, "warnings": list(alt.warnings), "values": {k: alt.values[k] for k in SHARED}}

    out = {"datasets": {lab: ds.source for lab, ds in sets},
           "power_source": args.power_source,
           "powers_dBm": {lab: ds.meta["power_dBm"] for lab, ds in sets},
           "reader_notes": {lab: list(ds.notes) for lab, ds in sets}, "reader_warnings": notes,
           "f0_Hz": args.f0, "hbar_omega_K": float(res.conversions.hbar_omega_kelvin(args.f0)),
           "start_values_mu0": g0, "fits": {k: summarise(v) for k, v in fits.items()},
           "mu_test": comparison, "mu_free_multistart": multistart,
           "alternative_power_reading": alternative,
           "fit_time_s_total": elapsed,
           "command": "python fits/resonator_loss.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "notes": ["weighting: residuals of ln Qi, one common unknown relative error",
                     "P_c_dBm is in the files' power convention (power at their reference plane)",
                     "relaxation term off (A = 0) in the fits; relaxation_check gives its size"]}
    out["relaxation_check"] = relaxation_check(fits["stm"].values, omega)
    jpath = os.path.join(args.out, "resonator_loss.json")
    write_json(out, jpath)
    _plot(sets, fits, omega, os.path.join(args.out, "resonator_loss.png"), args)
    for k, v in fits.items():
        print(f"--- {k}\n{v.report()}")
    print(comp.table())
    print(f"{comparison['mu_text']} [{rb.status}]; mu != 0 supported: "
          f"{comparison['mu_nonzero_supported'] if comparison['mu_nonzero_supported'] is not None else 'not tested'}")
    for w in comparison["caveats"]:
        print(f"  caveat (mu free fit): {w}")
    for k, v in fits.items():
        for w in v.warnings:
            print(f"warning [{k}]: {w}")
    if alternative:
        print(f"power reading '{alternative['power_source']}': chi2 = {alternative['stm_chi2']:.4g} "
              f"vs {ra.chi2:.4g} with '{args.power_source}' (mu = 0 fits)")
    print(f"wrote {jpath} and resonator_loss.png ({elapsed:.1f} s fitting)")
    not_ok = {k: v.status for k, v in fits.items() if not v.ok}
    if not_ok:
        print("fits that are not results: " + ", ".join(f"{k} [{s}]" for k, s in not_ok.items()),
              file=sys.stderr)
        return 1
    return 0


def _plot(sets, fits, omega, path, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax, axc, axr, axt) = plt.subplots(4, 1, figsize=(7.5, 13.8),
                                            gridspec_kw={"height_ratios": [3, 2.2, 1.4, 2.0]})
    axc.sharex(ax)
    axr.sharex(ax)
    Tf = np.linspace(0.05, 1.75, 300)
    best = fits["mu_free"]
    v0 = fits["stm"].values
    for i, (lab, ds) in enumerate(sets):
        c = f"C{i}"
        P = ds.meta["power_dBm"]
        ax.semilogy(ds.T, ds.value, "o", color=c, label=f"{P:g} dBm ({lab})")
        for r, ls in ((fits["stm"], "-"), (best, "--")):
            v = r.values
            q = res.resonator_loss(Tf, *(v[k] for k in SHARED), omega, P)
            ax.semilogy(Tf, np.asarray(q), color=c, ls=ls, lw=1)
        rr = np.asarray(fits["stm"].residuals[lab])
        axr.plot(ds.T if len(rr) == len(ds.T) else np.asarray(fits["stm"].data[lab]["T"]), rr,
                 "o-", color=c, ms=3, lw=0.6)
    ax.plot([], [], "k-", label=f"mu = 0 [{fits['stm'].status}]: F$\\delta_0$={v0['F_delta0']:.3g}, "
                                f"P_c={v0['P_c_dBm']:.1f} dBm, $\\beta$={v0['beta']:.2f}")
    vb = best.values
    ax.plot([], [], "k--", label=f"mu free [{best.status}]: $\\mu$={vb['mu']:.2f}, F$\\delta_0$={vb['F_delta0']:.3g}")
    ax.set_ylabel("Qi")
    # the legend goes below the plots (five curves leave no empty corner)
    h, lab = ax.get_legend_handles_labels()
    ax.set_title(f"Nb CPW resonator, f0 = {args.f0 / 1e9:.4f} GHz: joint Qi fit, 5 powers "
                 f"(power from {args.power_source})", fontsize=9)
    # loss components of the mu = 0 fit at the lowest and highest power
    for P, ls in ((-160.0 if args.power_source == "filename" else -140.0, "-"), (-80.0, "--")):
        parts = resonator_loss_parts(Tf, *(v0[k] for k in SHARED), omega, P)
        for j, (name, val) in enumerate(parts.items()):
            if name == "tls_relaxation":
                continue
            axc.semilogy(Tf, np.maximum(np.asarray(val), 1e-12), color=f"C{j + 5}", ls=ls,
                         label=f"{name} ({P:g} dBm)")
    axc.set_ylim(1e-9, 3e-6)
    axc.set_ylabel("1/Q components (mu = 0 fit)")
    axc.legend(fontsize=7, ncol=2)
    axr.axhline(0, color="k", lw=0.5)
    axr.set_ylabel("ln Qi residual (mu = 0)")
    axr.set_xlabel("T (K)")
    verdict_panel(axt, fits)
    axt.legend(h, lab, fontsize=7, ncol=2, loc="lower left", title="top panel", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
