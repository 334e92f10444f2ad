"""Fit: fractional frequency shift delta f/f0(T) of the 5.62 GHz Nb CPW resonator (real data).

Reads ``resonator_nb_cpw/freq_shift.csv`` in place (``;`` separators, decimal
commas, T in mK, zero at 100 mK) with jtls.data.read_csv and fits, with the
jtls.fit engine and the ``resonator_shift`` observable (jtls.resonator.models):

  =============  =======================================================  ===============
  fit            model (all + free offset; T_ref = 0.1 K)                  range
  =============  =======================================================  ===============
  full_stm       TLS (mu = 0, digamma form) + Mattis-Bardeen qp           all T
  full_mu        TLS (Eq. 3 DOS, mu free)   + Mattis-Bardeen qp           all T
  low_stm        TLS alone, mu = 0                                        T <= --tmax-tls
  low_mu         TLS alone, mu free                                       T <= --tmax-tls
  =============  =======================================================  ===============

No uncertainties are given in the file: residuals are absolute with one
common unknown sigma, parameter errors and the profile-likelihood intervals
(``intervals="profile"``) are scaled by the reduced chi^2.  Every fit keeps
its verdict (status vocabulary of jtls.fit.inference; only ``ok`` is a
result) and its warnings -- e.g. Delta and alpha nearly degenerate
(|correlation| > 0.99), lack of fit (runs test) -- which are printed, written
to the JSON and shown in the figure.  Each pair (full_stm, full_mu) and
(low_stm, low_mu) is ranked with jtls.fit.compare (AICc; only fits with
status ok compete, a failed fit is never preferred); mu is bounded to [0, 1]
as for every observable, and mu = 0 (the standard tunneling model) is its
physical lower bound, so the nested test is the boundary test: the statistic
F = (chi2_0 - chi2_1)/(chi2_1/dof_1) against the mixture 1/2 (0) + 1/2 F(1, dof_1)
(jtls.fit.compare, boundary=True), and "mu > 0 supported" is claimed only when
both fits are ok and p < 0.05.  mu is reported with its profile interval (or
a one-sided upper limit when it sits on mu = 0).

Exit code 0 when all four fits are ok, 1 otherwise (the JSON and figure are
written either way).

The relaxation term is off (A = 0) in the fits; the JSON records its size at
the highest T for A = 2 pi x 7.9 MHz/K^3 (Churkin et al. Fig. 5b, a-SiO2 at 1 kHz)
and for a 100x larger A, to show where it would matter.

Usage::

    python fits/resonator_shift.py [--data-dir DIR] [--out out/] [--f0 5.619901372e9]
                                   [--tmax-tls 1.0]

Writes OUT/resonator_shift.png (data, models, components, residuals) and
OUT/resonator_shift.json.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

import jtls
import jtls.resonator as res
from jtls.data import read_csv, require_dataset
from jtls.fit import Model, fit
from jtls.fit.compare import compare
from jtls.fit.plot import emptiest_corner, param_line, verdict_panel
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args
from jtls.resonator.models import resonator_shift_parts
from scipy import stats

F0_DEFAULT = 5.619901372e9


def f_test(chi2_0, chi2_1, dof_1, extra=1):
    """F statistic and p-value for ``extra`` added parameters (nested, unknown common sigma)."""
    F = ((chi2_0 - chi2_1) / extra) / (chi2_1 / dof_1)
    return float(F), float(stats.f.sf(F, extra, dof_1))


def summarise(r):
    return {"values": r.values, "stderr": {k: (v if math.isfinite(v) else None) for k, v in r.stderr.items()},
            "free": r.free, "chi2": r.chi2,
            "dof": r.dof, "n_points": r.n_points, "reduced_chi2": r.reduced_chi2,
            "rms_residual": math.sqrt(r.chi2 / r.n_points), "status": r.status, "ok": r.ok,
            "message": r.message, "warnings": list(r.warnings), "at_bound": list(r.at_bound),
            "unidentified": list(r.unidentified), "intervals": r.intervals, "tests": r.tests,
            "parameters": {k: param_line(r, k) for k in r.free}, "correlation": r.correlation}


def mu_comparison(ra, rb, a, b):
    """Rank mu = 0 (``ra``) against mu free (``rb``) on the same points; boundary test of mu = 0."""
    comp = compare({a: ra, b: rb}, nested={b: {"null": a, "boundary": True, "parameter": "mu"}})
    t = comp.nested[f"{b} vs {a}"]
    iv = rb.intervals.get("mu") or {}
    return {"delta_chi2": t["delta_chi2"], "F": t.get("statistic"), "p_value": t.get("p_value"),
            "not_tested_because": t.get("reason"),
            "mu": rb.values["mu"], "mu_status": rb.status, "mu_text": param_line(rb, "mu"),
            "mu_interval68": [iv.get("low"), iv.get("high")], "mu_interval95": [iv.get("low95"), iv.get("high95")],
            "mu_interval_kinds": {k: iv.get(k) for k in ("low_kind", "high_kind", "low95_kind", "high95_kind")},
            "mu_nonzero_supported": (bool(t["p_value"] < 0.05) if t.get("p_value") is not None else None),
            "caveats": [w for w in rb.warnings if "lack of fit" in w or "degenerate" in w],
            "preferred_AICc": comp.preferred, "decisive": comp.decisive, "failed": comp.failed,
            "comparison": comp.to_dict(), "table": comp.table(),
            "test": "boundary test, nested models, unknown common sigma: 1/2 F(1, dof) mixture "
                    "(mu = 0 is the physical lower bound of mu in [0, 1]); only when both fits are ok"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="shared data folder (default $JTLS_DATA or ../shared/data)")
    ap.add_argument("--out", default="out", help="output folder (default out/)")
    ap.add_argument("--f0", type=float, default=F0_DEFAULT, help="resonance frequency in Hz")
    ap.add_argument("--tmax-tls", type=float, default=1.0, help="upper T (K) of the TLS-only fits")
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "resonator_shift")
    os.makedirs(args.out, exist_ok=True)
    path = require_dataset("resonator_nb_cpw/freq_shift.csv", args.data_dir)
    ds = read_csv(path)
    omega = float(res.conversions.omega_from_f0(args.f0))
    T_ref = ds.T_ref if ds.T_ref is not None else float(ds.T.min())
    t0 = time.perf_counter()
    fits = {}
    m = lambda **kw: Model("resonator_shift", omega=omega, T_ref=T_ref, **kw)  # noqa: E731
    with progress.step("fit 1/4 full_stm (profile intervals)"):
        fits["full_stm"] = fit(m(fixed={"mu": 0.0}), ds, intervals="profile")
    start = dict(fits["full_stm"].values)
    start.pop("mu")
    with progress.step("fit 2/4 full_mu (profile intervals)"):
        fits["full_mu"] = fit(m(initial={**start, "mu": 0.05}), ds, intervals="profile")
    qp_off = {"alpha": 0.0, "Delta": 15.0}
    with progress.step("fit 3/4 low_stm (profile intervals)"):
        fits["low_stm"] = fit(m(fixed={"mu": 0.0, **qp_off}), ds, tmax=args.tmax_tls, intervals="profile")
    with progress.step("fit 4/4 low_mu (profile intervals)"):
        fits["low_mu"] = fit(m(fixed=qp_off, initial={"mu": 0.05}), ds, tmax=args.tmax_tls,
                             intervals="profile")
    elapsed = time.perf_counter() - t0

    comparison = {}
    for a, b in (("full_stm", "full_mu"), ("low_stm", "low_mu")):
        comparison[f"{a} vs {b}"] = mu_comparison(fits[a], fits[b], a, b)

    # where would the relaxation term matter?
    fs = fits["full_stm"].values
    Tmax = float(ds.T.max())
    relax = {}
    for label, A in (("A_paper_aSiO2", 2 * math.pi * 7.9e6), ("A_x100", 2 * math.pi * 7.9e8)):
        parts = resonator_shift_parts(np.array([Tmax]), fs["F_delta0"], 0.0, fs["Delta"], fs["alpha"],
                                      omega, T_ref, A)
        relax[label] = {"A_s^-1K^-3": A, "T": Tmax,
                        "relaxation_shift": float(parts["tls_relaxation"][0]),
                        "resonant_shift": float(parts["tls_resonant"][0]),
                        "rms_residual_of_fit": math.sqrt(fits["full_stm"].chi2 / fits["full_stm"].n_points)}

    out = {"dataset": str(path), "reader_notes": list(ds.notes), "f0_Hz": args.f0,
           "hbar_omega_K": float(res.conversions.hbar_omega_kelvin(args.f0)), "T_ref_K": T_ref,
           "fits": {k: summarise(v) for k, v in fits.items()}, "mu_test": comparison,
           "relaxation_check": relax, "fit_time_s_total": elapsed,
           "command": "python fits/resonator_shift.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "notes": ["weighting: absolute residuals, one common unknown sigma (no sigma in file)",
                     "uncertainties scaled by sqrt(chi2/dof)",
                     "Delta in K (k_B = 1); alpha is the kinetic-inductance fraction (thin-film, local limit)"]}
    jpath = os.path.join(args.out, "resonator_shift.json")
    write_json(out, jpath)
    with progress.step("figure"):
        _plot(ds, fits, omega, T_ref, args, os.path.join(args.out, "resonator_shift.png"))
    for k, v in fits.items():
        print(f"--- {k}\n{v.report()}")
    for k, c in comparison.items():
        print(f"=== {k}\n{c['table']}\n{c['mu_text']} [{c['mu_status']}]; mu != 0 supported: "
              f"{c['mu_nonzero_supported'] if c['mu_nonzero_supported'] is not None else 'not tested'}")
    not_ok = {k: v.status for k, v in fits.items() if not v.ok}
    for k, v in fits.items():
        for w in v.warnings:
            print(f"warning [{k}]: {w}")
    print(f"wrote {jpath} and resonator_shift.png ({elapsed:.1f} s fitting)")
    if not_ok:
        print("fits that are not results: " + ", ".join(f"{k} [{s}]" for k, s in not_ok.items()),
              file=sys.stderr)
        return 1
    return 0


def _plot(ds, fits, omega, T_ref, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    Tf = np.linspace(0.05, float(ds.T.max()) * 1.02, 300)
    fig, (ax, ax2, axr, axt) = plt.subplots(4, 1, figsize=(7.5, 12.5),
                                            gridspec_kw={"height_ratios": [3, 2, 1.4, 1.6]})
    ax2.sharex(ax)
    axr.sharex(ax)
    ax.plot(ds.T, ds.value * 1e6, "ko", label="data (freq_shift.csv)")
    styles = {"full_stm": ("C0", "-"), "full_mu": ("C3", "--"), "low_stm": ("C2", "-"), "low_mu": ("C1", ":")}
    for k in ("full_stm", "full_mu"):
        v = fits[k].values
        y = res.resonator_shift(Tf, v["F_delta0"], v["mu"], v["Delta"], v["alpha"], omega, T_ref) + v["offset"]
        ax.plot(Tf, np.asarray(y) * 1e6, color=styles[k][0], ls=styles[k][1],
                label=f"{k} [{fits[k].status}]: F$\\delta_0$={v['F_delta0']:.3g}, $\\mu$={v['mu']:.2f}, "
                      f"$\\Delta$={v['Delta']:.2f} K, $\\alpha$={v['alpha']:.3g}")
    v = fits["full_stm"].values
    parts = resonator_shift_parts(Tf, v["F_delta0"], v["mu"], v["Delta"], v["alpha"], omega, T_ref)
    ax.plot(Tf, (np.asarray(parts["tls_resonant"]) + v["offset"]) * 1e6, color="C0", ls=":", lw=1,
            label="full_stm: TLS component")
    ax.plot(Tf, (np.asarray(parts["quasiparticle"]) + v["offset"]) * 1e6, color="C4", ls=":", lw=1,
            label="full_stm: quasiparticle component")
    ax.set_ylabel(r"$\delta f/f_0$ ($10^{-6}$)")
    ax.autoscale_view()
    ax.legend(fontsize=7, loc=emptiest_corner(ax, ds.T, ds.value * 1e6, 0.6, 0.3))
    ax.set_title(f"Nb CPW resonator, f0 = {args.f0 / 1e9:.4f} GHz: TLS + Mattis-Bardeen")
    lo = ds.T <= args.tmax_tls
    ax2.plot(ds.T[lo], ds.value[lo] * 1e6, "ko")
    ax2.plot(ds.T[~lo], ds.value[~lo] * 1e6, "o", mfc="none", mec="gray", label="not in TLS-only fits")
    Tl = Tf[Tf <= args.tmax_tls * 1.05]
    for k in ("low_stm", "low_mu"):
        v = fits[k].values
        y = res.frequency_shift_tls(Tl, omega, v["F_delta0"], v["mu"], T_ref) + v["offset"]
        ax2.plot(Tl, np.asarray(y) * 1e6, color=styles[k][0], ls=styles[k][1],
                 label=f"{k} [{fits[k].status}]: F$\\delta_0$={v['F_delta0']:.3g}, $\\mu$={v['mu']:.2f}")
    ylo = ds.value[lo] * 1e6
    ax2.set_ylim(ylo.min() - 0.3, ylo.max() + 0.3)
    ax2.set_ylabel(r"$\delta f/f_0$ ($10^{-6}$)")
    ax2.legend(fontsize=7, loc=emptiest_corner(ax2, ds.T, ds.value * 1e6, 0.6, 0.35))
    for k, r in fits.items():
        lab = r.labels[0]
        Tr = np.asarray(r.data[lab]["T"])
        axr.plot(Tr, np.asarray(r.residuals[lab]) * 1e6, marker="o", ls="-", lw=0.6, ms=3,
                 color=styles[k][0], label=k)
    axr.axhline(0, color="k", lw=0.5)
    axr.set_ylabel(r"residual ($10^{-6}$)")
    axr.set_xlabel("T (K)")
    axr.autoscale_view()
    allr = [(np.asarray(r.data[r.labels[0]]["T"]), np.asarray(r.residuals[r.labels[0]]) * 1e6) for r in fits.values()]
    axr.legend(fontsize=7, ncol=4, loc=emptiest_corner(axr, np.concatenate([a for a, _ in allr]),
                                                         np.concatenate([b for _, b in allr]), 0.6, 0.3))
    # verdicts, intervals and warnings below the plots (never on the data)
    verdict_panel(axt, fits)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
