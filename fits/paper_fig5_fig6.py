"""Figs. 5 and 6 of Churkin et al. 2021: curves from the quoted parameters, and a SYNTHETIC recovery demo.

Part 1 (curves).  For every panel of Figs. 5-6 the paper quotes omega, A and
C = P0 gamma^2/rho v^2 (data/churkin2021_fit_parameters.csv) but not the
fitted mu.  We draw dv/v (or d eps/eps) = Eqs. (7)+(8) with the Eq. (3) DOS at
the quoted omega, A, C for mu = 0 (STM, the paper's dashed lines) and for
mu = 0.05, 0.1, 0.2 (illustrative values: the paper's solid-line mu are not
quoted).  Curves are shown relative to their value at T0 = (omega/A)^(1/3).

Part 2 (SYNTHETIC demonstration, not measured data).  From the quoted omega, A,
C and an assumed mu_true (default 0.1), 40 temperatures between T0/6 and
20 T0 are generated with Gaussian noise of 1% of the curve's span (seeded),
then fitted (weights from that known sigma, so chi^2 is absolute) with C, mu,
A and the offset free from the automatic initial guess, and again with mu
fixed to 0.
For Fig. 6 the two concentrations of each panel are fitted jointly with one
shared mu (the paper's point: mu depends on the interaction ratio, not on the
TLS concentration in panel b).  The report gives recovered vs true values
(in units of the standard error, None where the fit gives none), Delta
chi^2 between mu free and mu = 0, the boundary likelihood-ratio p-value of
mu = 0 (jtls.fit.compare: mixture 1/2 chi2_0 + 1/2 chi2_1, sigma known) and
the model preferred by AICc among the fits with status ``ok`` (a failed fit
is never preferred; the status vocabulary is jtls.fit.inference's).

Exit code 0 when every synthetic fit (mu free, mu = 0, Fig. 6 joint) has
status ok, else 1 (the figure and JSON are written either way).

Usage:  python fits/paper_fig5_fig6.py [--out out] [--mu-true 0.1] [--noise 0.01] [--seed 0]
Writes OUT/paper_fig5_fig6.png and OUT/paper_fig5_fig6.json.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

import jtls
from jtls.data import paper_table
from jtls.fit import Model, fit, predict
from jtls.fit.compare import compare
from jtls.fit.plot import param_line
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args

MU_CURVES = (0.0, 0.05, 0.1, 0.2)
QUANTITY_LABEL = {"velocity": r"$\delta v/v$", "dielectric": r"$\delta\varepsilon/\varepsilon$"}


def curve(quantity, T, C, mu, A, omega):
    f = jtls.velocity_shift if quantity == "velocity" else jtls.dielectric_shift
    return np.asarray(f(np.asarray(T, float), C, mu, A, omega))


def panels():
    rows = [r for r in paper_table("churkin2021_fit_parameters").rows()
            if r["figure"] in ("Fig. 5", "Fig. 6")]
    out = []
    for r in rows:
        name = f"{r['figure']}{r['panel']}"
        if isinstance(r["x"], float) and not math.isnan(r["x"]):
            name += f" x={r['x']:g}"
        out.append(dict(name=name, figure=r["figure"], panel=r["panel"], material=r["material"],
                        quantity=r["quantity"], omega=float(r["omega_rad_s"]),
                        A=float(r["A_s-1K-3"]), C=float(r["C"])))
    return out


def synthetic(p, mu_true, noise, rng):
    T0 = (p["omega"] / p["A"]) ** (1.0 / 3.0)
    T = np.geomspace(T0 / 6.0, 20.0 * T0, 40)
    y0 = curve(p["quantity"], T, p["C"], mu_true, p["A"], p["omega"])
    s = noise * (y0.max() - y0.min())
    return T, y0 + s * rng.normal(size=T.size), np.full(T.size, s), T0


def amp_name(quantity):
    return "C" if quantity == "velocity" else "C_dip"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="out")
    ap.add_argument("--mu-true", type=float, default=0.1)
    ap.add_argument("--noise", type=float, default=0.01, help="noise sigma / curve span")
    ap.add_argument("--seed", type=int, default=0)
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "paper_fig5_fig6")
    os.makedirs(args.out, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(args.seed)
    P = panels()
    report = {"description": "Churkin et al. 2021 Figs. 5-6: curves at the quoted parameters "
                             "(mu not quoted: mu = 0 and illustrative values) and a SYNTHETIC-data "
                             "recovery demonstration (not measured data)",
              "mu_true_synthetic": args.mu_true, "noise_fraction_of_span": args.noise,
              "seed": args.seed, "panels": []}
    # two blocks of panels, four columns each: curves at the quoted parameters (top), synthetic
    # fits (bottom); the spare axes of each block hold its legend
    ncol = 4
    nrow = -(-len(P) // ncol)
    fig = plt.figure(figsize=(15, 7.0 * nrow + 1.0), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    axes_top = np.atleast_2d(top.subplots(nrow, ncol)).ravel()
    axes_bot = np.atleast_2d(bottom.subplots(nrow, ncol)).ravel()
    top.suptitle("Curves at the parameters quoted by Churkin et al. 2021 (omega, A, C; mu not quoted), "
                 "relative to their value at T0 = (omega/A)^(1/3)", fontsize=12)
    bottom.suptitle(f"SYNTHETIC data (mu_true = {args.mu_true}, noise {args.noise:g} of the span, seed "
                    f"{args.seed}) fitted with mu free and mu = 0 -- not measured data",
                    fontsize=12, color="tab:red")

    # ---- single-panel synthetic fits (every panel, mu free and mu = 0)
    fits = {}
    statuses = {}
    for j, p in enumerate(P):
        T, y, sig, T0 = synthetic(p, args.mu_true, args.noise, rng)
        model = Model(p["quantity"], omega=p["omega"])
        with progress.step(f"panel {j + 1}/{len(P)} {p['name']}: fits mu free and mu = 0"):
            free = fit(model, (T, y, sig))
            stm = fit(model, (T, y, sig), fix={"mu": 0.0})
        fits[p["name"]] = (T, y, sig, free, stm)
        truth = {amp_name(p["quantity"]): p["C"], "mu": args.mu_true, "A": p["A"]}
        pulls = {k: ((free.values[k] - v) / free.stderr[k] if free.ok and math.isfinite(free.stderr[k])
                     and free.stderr[k] > 0 else None) for k, v in truth.items()}
        comp = compare({"mu free": free, "mu = 0": stm}, nested={"mu free": {"null": "mu = 0", "parameter": "mu"}})
        test = comp.nested["mu free vs mu = 0"]
        statuses.update({f"{p['name']} mu free": free.status, f"{p['name']} mu = 0": stm.status})
        entry = dict(p, T0_K=T0, synthetic_fit_mu_free=free.summary_dict(),
                     synthetic_fit_mu0=stm.summary_dict(), truth=truth,
                     pulls_sigma=pulls, delta_chi2_stm_minus_free=test["delta_chi2"],
                     p_mu0=test.get("p_value"), comparison=comp.to_dict(),
                     preferred=comp.preferred, decisive=comp.decisive)
        report["panels"].append(entry)
        pull_s = ", ".join(f"{k}:{v:+.2f}" if v is not None else f"{k}:--" for k, v in pulls.items())
        p0 = test.get("p_value")
        p0_s = f"{p0:.3g}" if p0 is not None else f"not tested ({test.get('reason')})"
        print(f"{p['name']:<16} {p['quantity']:<10} T0={T0:.3f} K  {param_line(free, 'mu')} (true {args.mu_true})  "
              f"C = {free[amp_name(p['quantity'])]:.3e} (true {p['C']:.2e})  A = {free['A']:.3e} "
              f"(true {p['A']:.3e})  pulls {pull_s}  Delta chi2(mu=0) = {test['delta_chi2']:.4g}, "
              f"p(mu=0) = {p0_s}")
        print(f"{'':<16} status {free.status}/{stm.status}; preferred (AICc): {comp.preferred}"
              + ("" if comp.decisive else " (not decisive)"))
        for w in free.warnings:
            print(f"{'':<16} warning (mu free): {w}")

        # top: curves at the quoted parameters
        ylab = QUANTITY_LABEL[p["quantity"]]
        ax = axes_top[j]
        Tc = np.geomspace(T0 / 6.0, 20.0 * T0, 200)
        for k, mu in enumerate(MU_CURVES):
            yc = curve(p["quantity"], Tc, p["C"], mu, p["A"], p["omega"])
            y_ref = curve(p["quantity"], np.array([T0]), p["C"], mu, p["A"], p["omega"])[0]
            ax.plot(Tc, (yc - y_ref) * 1e4, "--" if mu == 0 else "-", color=f"C{k}",
                    label=f"mu = {mu:g}" + (" (STM, dashed in the paper)" if mu == 0 else ""))
        ax.set_xscale("log")
        ax.set_title(f"{p['name']}: {p['material']}", fontsize=10)
        ax.set_xlabel("T (K)", fontsize=10)
        ax.set_ylabel(f"{ylab} - value at T0 ($10^{{-4}}$)", fontsize=10)
        # bottom: synthetic data and fits
        ax = axes_bot[j]
        ax.plot(T, y * 1e4, "o", ms=3, color="k", label="SYNTHETIC data")
        ax.plot(Tc, predict(free, T=Tc) * 1e4, "-", color="C3", label="fit, mu free")
        ax.plot(Tc, predict(stm, T=Tc) * 1e4, "--", color="C0", label="fit, mu = 0")
        ax.set_xscale("log")
        ax.set_xlabel("T (K)", fontsize=10)
        ax.set_ylabel(f"{ylab} ($10^{{-4}}$)", fontsize=10)
        mu_txt = param_line(free, "mu") if free.ok else f"mu free: FAILED [{free.status}]"
        ax.set_title(f"{p['name']}  [{free.status} / {stm.status}]\n{mu_txt}", fontsize=9)

    # ---- Fig. 6: joint fits of the two concentrations of each panel, shared mu
    report["fig6_joint"] = []
    for panel in ("a", "b"):
        pp = [p for p in P if p["figure"] == "Fig. 6" and p["panel"] == panel]
        if len(pp) < 2:
            continue
        terms = []
        init = {}
        for p in pp:
            lab = p["name"].split(" ", 1)[1].replace(" ", "")
            T, y, sig, _, _ = fits[p["name"]]
            terms.append((Model("velocity", omega=p["omega"]), (T, y, sig), lab))
        with progress.step(f"Fig. 6{panel}: joint fits mu free and mu = 0"):
            joint = fit(terms, share=["mu"])
            joint0 = fit(terms, share=["mu"], fix={"mu": 0.0})
        comp = compare({"mu free": joint, "mu = 0": joint0},
                       nested={"mu free": {"null": "mu = 0", "parameter": "mu"}})
        test = comp.nested["mu free vs mu = 0"]
        statuses.update({f"Fig. 6{panel} joint": joint.status, f"Fig. 6{panel} joint mu = 0": joint0.status})
        print(f"Fig. 6{panel} joint (shared mu): {param_line(joint, 'mu')} "
              f"(true {args.mu_true}), Delta chi2(mu=0) = {test['delta_chi2']:.4g}, "
              f"p(mu=0) = {test['p_value'] if test.get('p_value') is not None else 'not tested'}, "
              f"status {joint.status}/{joint0.status}, preferred (AICc): {comp.preferred}")
        for w in joint.warnings:
            print(f"    warning: {w}")
        report["fig6_joint"].append({"panel": panel, "fit": joint.to_dict(),
                                     "delta_chi2_stm_minus_free": test["delta_chi2"],
                                     "p_mu0": test.get("p_value"), "preferred": comp.preferred,
                                     "comparison": comp.to_dict()})

    # the spare axes: one legend per block (curves of every panel share its styles)
    for axes, spare in ((axes_top, axes_top[len(P):]), (axes_bot, axes_bot[len(P):])):
        handles, labels = axes[0].get_legend_handles_labels()
        for ax in spare:
            ax.axis("off")
        if len(spare):
            spare[0].legend(handles, labels, loc="center", fontsize=11, frameon=False)
        else:
            axes[0].legend(fontsize=8)
    for ax in list(axes_top) + list(axes_bot):
        ax.tick_params(labelsize=9)
    png = os.path.join(args.out, "paper_fig5_fig6.png")
    fig.savefig(png, dpi=100)
    js = os.path.join(args.out, "paper_fig5_fig6.json")
    not_ok = {k: v for k, v in statuses.items() if v != "ok"}
    report["statuses"] = statuses
    report["not_ok"] = not_ok
    write_json(report, js)
    print(f"wrote {png} and {js}")
    if not_ok:
        print("fits that are not results: " + ", ".join(f"{k} [{v}]" for k, v in not_ok.items()),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
