"""Fit 1: thermal conductivity of amorphous solids below ~1 K (real data, ../shared/data).

For every file in <data-dir>/thermal_conductivity the script

1. reads the file as it is (title line, ``T(K),k(W/m/K),k/T``) with jtls.data,
2. flags outliers (robust local log-log test, Dataset.flag_outliers) -- the
   SPAM file's last point (T = 1.75 K, kappa ~100x low) is flagged -- and
   keeps T <= --tmax (default 1 K); every removed point is listed,
3. fits, with constant relative errors (residuals of ln kappa, no sigma in
   the files), six models built on Eq. (5) of Churkin et al. 2021:

   ============  ==================================================  =========
   model         kappa(T) = (1/B) * ...                              free
   ============  ==================================================  =========
   STM           Eq. 5, constant DOS (mu = 0)                        B
   Eq3           Eq. 5 with the Eq. 3 DOS, mu >= 0                   B, mu
   STM+b         STM + boundary scattering (Matthiessen)             B, E_b
   Eq3+b         Eq3 + boundary scattering                           B, mu, E_b
   Eq3+R         Eq3 + Rayleigh scattering                           B, mu, E_R
   Eq3+b+R       Eq3 + boundary + Rayleigh                           B, mu, E_b, E_R
   ============  ==================================================  =========

   (E_b, E_R: crossover energies in K of jtls.observables.matthiessen),
4. every fit asks the engine for profile-likelihood intervals
   (``intervals="profile"``) and its verdict (status vocabulary of
   jtls.fit.inference: only ``ok`` is a result); per material it reports

   * mu of Eq3 with its 68 % / 95 % profile interval, or -- when mu sits on
     its physical bound mu = 0 (the STM) -- the 95 % upper limit;
   * the p-value of mu = 0: likelihood-ratio test Eq3 vs STM with the
     boundary mixture 1/2 F(1, dof) (no sigma in the files), from
     jtls.fit.compare; also STM+b vs STM (E_b = 0) and Eq3+b vs STM+b;
   * lack-of-fit flags (runs test of the ln-kappa residuals; "lack of fit"
     in a fit's warnings) and every other warning;
   * the ranking of the models by AICc (jtls.fit.compare: only fits with
     status ``ok`` compete; failed fits are listed with their status and are
     never preferred; "not decisive" when the runner-up is within 2),
   * beta = 2 - (effective exponent), model-free (power-law fit of the data)
     and from each model,
5. writes one PNG with all materials (data, flagged/excluded points, models,
   residuals; the text box and the legend sit below the residual panel, never
   on the data) and a JSON with every fit and comparison.

Exit code 0 when every material has a preferred model (at least one fit
with status ok), else 1.

Usage::

    python fits/thermal_conductivity.py [--data-dir DIR] [--out DIR] [--tmax 1.0]
                                        [--mu-min 0] [--models STM,Eq3,...]

Data directory: --data-dir, else $JTLS_DATA, else ../shared/data next to the repository.
"""
from __future__ import annotations

import argparse
import math
import textwrap
import sys
import time
from pathlib import Path

import numpy as np

import jtls  # noqa: F401  (float64)
from jtls import data as D
from jtls.fit import Model, fit, register_observable
from jtls.fit.model import REGISTRY
from jtls.fit.compare import _criteria, clip_delta, compare, fmt_num
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args
from jtls.observables.matthiessen import thermal_conductivity_matthiessen

INF = math.inf

MATERIALS = {
    "olson1993_stycast1266": "Stycast 1266",
    "olson1993_stycast2651": "Stycast 2651",
    "olson1993_stycast2850": "Stycast 2850 (filled)",
    "olson1993_stycast1266_caco3": "Stycast 1266 + CaCO3",
    "olson1993_vespel_sp22": "Vespel SP-22",
    "olson1993_corian": "Corian",
    "olson1993_spam": "SPAM",
    "anderson1963_teflon_sample1": "Teflon 1",
    "anderson1963_teflon_sample2": "Teflon 2",
    "lawrence2000_kapton_hn": "Kapton HN",
}


# ------------------------------------------------------------------ observables for the engine

def _kb(T, B, mu, E_b):
    return thermal_conductivity_matthiessen(T, B, mu, boundary=E_b)


def _kr(T, B, mu, E_R):
    return thermal_conductivity_matthiessen(T, B, mu, rayleigh=E_R)


def _kbr(T, B, mu, E_b, E_R):
    return thermal_conductivity_matthiessen(T, B, mu, boundary=E_b, rayleigh=E_R)


def _eb_grid(T, ctx):
    return np.geomspace(0.3 * np.min(T), 30.0 * np.max(T), 9)


def _er_grid(T, ctx):
    return np.geomspace(0.5 * np.min(T), 50.0 * np.max(T), 9)


def register():
    """Register the Matthiessen variants of the kappa observable with jtls.fit (idempotent)."""
    common = dict(positive=True, amplitude="B", amplitude_power=-1.0, quantity="kappa")
    mu_grid = (0.0, 0.05, 0.1, 0.2, 0.4)
    specs = {
        "thermal_conductivity_boundary": (_kb, ("B", "mu", "E_b"), {"E_b": _eb_grid}),
        "thermal_conductivity_rayleigh": (_kr, ("B", "mu", "E_R"), {"E_R": _er_grid}),
        "thermal_conductivity_boundary_rayleigh": (_kbr, ("B", "mu", "E_b", "E_R"),
                                                   {"E_b": _eb_grid, "E_R": _er_grid}),
    }
    for name, (f, params, grid) in specs.items():
        if name in REGISTRY:
            continue
        bounds = {"B": (0.0, INF), "mu": (0.0, 1.0)}
        bounds.update({p: (0.0, INF) for p in params[2:]})
        register_observable(
            name, f, params, bounds=bounds,
            defaults={k: v for k, v in {"B": 1.0, "mu": 0.1, "E_b": 0.1, "E_R": 5.0}.items()
                      if k in params},
            grid={"mu": mu_grid, **grid},
            description="Eq. (5) with the Eq. (3) DOS plus extra phonon scattering "
                        "(Matthiessen's rule, jtls.observables.matthiessen)", **common)


#: model label -> (observable, fixed parameters)
MODELS = {
    "STM": ("thermal_conductivity", {"mu": 0.0}),
    "Eq3": ("thermal_conductivity", {}),
    "STM+b": ("thermal_conductivity_boundary", {"mu": 0.0}),
    "Eq3+b": ("thermal_conductivity_boundary", {}),
    "Eq3+R": ("thermal_conductivity_rayleigh", {}),
    "Eq3+b+R": ("thermal_conductivity_boundary_rayleigh", {}),
}


def aicc(chi2, n, n_free):
    """AICc for Gaussian residuals of unknown common variance (k = n_free + 1); None if undefined
    (the formula of :mod:`jtls.fit.compare`, which ranks the fits)."""
    k, _, a, _, _ = _criteria(chi2, n, n_free, False)
    return a


def power_law_exponent(T, y):
    """Least-squares slope p of ln y = a + p ln T, with its standard error (model-free)."""
    x, z = np.log(T), np.log(y)
    A = np.vstack([np.ones_like(x), x]).T
    coef, res, *_ = np.linalg.lstsq(A, z, rcond=None)
    n = len(x)
    r = z - A @ coef
    s2 = float(r @ r) / max(n - 2, 1)
    cov = s2 * np.linalg.inv(A.T @ A)
    return float(coef[1]), float(math.sqrt(cov[1, 1]))


def model_curve(label, values, T):
    obs, _ = MODELS[label]
    f = REGISTRY[obs].func
    kw = {k: values[k] for k in REGISTRY[obs].params}
    return np.asarray(f(np.asarray(T, float), **kw))


#: nested pairs (larger model -> model with one parameter switched off at its physical bound)
NESTED = {"Eq3": {"null": "STM", "parameter": "mu"},
          "Eq3+b": {"null": "STM+b", "parameter": "mu"},
          "STM+b": {"null": "STM", "parameter": "E_b"}}


def param_summary(r, name) -> dict:
    """What the fit says about one parameter: value, 68/95 % profile interval or upper limit, text."""
    if name not in r.values:
        return {}
    if name in r.fixed:
        return {"fixed": True, "value": r.values[name], "text": f"{name} = {r.values[name]:g} (fixed)"}
    iv = r.intervals.get(name) or {}
    d = {"value": r.values[name], "status": r.status, "at_bound": name in r.at_bound,
         "unidentified": name in r.unidentified, "fixed": False,
         "stderr": r.stderr[name] if math.isfinite(r.stderr[name]) and name not in r.at_bound else None,
         "low68": iv.get("low"), "high68": iv.get("high"), "low95": iv.get("low95"),
         "high95": iv.get("high95"), "low_kind": iv.get("low_kind"), "high_kind": iv.get("high_kind"),
         "high95_kind": iv.get("high95_kind"), "upper_limit95": None}
    one_sided = iv.get("low_kind") == "physical" or iv.get("low95_kind") == "physical"
    if r.status != "ok":
        d["text"] = f"{name}: not determined (fit {r.status})"
    elif name in r.unidentified:
        d["text"] = f"{name}: not determined by the data"
    elif one_sided and iv.get("high95") is not None:
        d["upper_limit95"] = iv["high95"]
        d["text"] = (f"{name} = {r.values[name]:.3g}, < {iv['high95']:.3g} (95%)" if name not in r.at_bound
                     else f"{name} = {r.values[name]:g} (on bound), < {iv['high95']:.3g} (95%)")
    elif iv.get("low") is not None and iv.get("high") is not None:
        d["text"] = f"{name} = {r.values[name]:.3g} [{iv['low']:.3g}, {iv['high']:.3g}] (68%)"
    elif d["stderr"] is not None:
        d["text"] = f"{name} = {r.values[name]:.3g} ± {d['stderr']:.2g}"
    else:
        d["text"] = f"{name} = {r.values[name]:.3g}"
    return d


def fit_material(ds, models, mu_min):
    """All models on one dataset -> (JSON-ready dict per model, FitResults, Comparison)."""
    out, res_objs = {}, {}
    for label in models:
        obs, fixed = MODELS[label]
        bounds = {} if "mu" in fixed else {"mu": (mu_min, 1.0)}
        t0 = time.perf_counter()
        r = fit(Model(obs, fixed=fixed, bounds=bounds), ds, intervals="profile")
        dt = time.perf_counter() - t0
        try:
            slope, _ = power_law_exponent(ds.T, model_curve(label, r.values, ds.T))
            beta = 2.0 - slope
        except Exception:  # noqa: BLE001 -- a failed fit's curve may not evaluate
            beta = None
        d = {"observable": obs, "fixed": fixed, **r.summary_dict(), "free": r.free,
             "ok": r.ok, "at_bound": list(r.at_bound), "unidentified": list(r.unidentified),
             "intervals": r.intervals, "values": {k: r.values[k] for k in r.names},
             "n_points": r.n_points, "n_steps": r.n_steps, "beta_model": beta, "seconds": dt,
             "lack_of_fit": any("lack of fit" in w for w in r.warnings),
             "params": {k: param_summary(r, k) for k in r.free}}
        out[label] = d
        res_objs[label] = r
    nested = {k: v for k, v in NESTED.items() if k in res_objs and v["null"] in res_objs}
    comp = compare(res_objs, nested=nested)
    for k, v in out.items():
        c = comp.candidates[k]
        v.update(aicc=c.aicc, bic=c.bic, delta_aicc=c.delta_aicc, akaike_weight=c.weight,
                 ranked=c.ranked, k=c.k)
        v["delta_chi2_vs_STM"] = (clip_delta(res_objs["STM"].chi2 - res_objs[k].chi2, res_objs["STM"].chi2)
                                  if "STM" in res_objs else None)
    return out, res_objs, comp


def mu_verdict(fits_, comp, label="Eq3") -> dict:
    """mu of model ``label`` with its interval / upper limit and the mu = 0 test (nested, vs STM)."""
    if label not in fits_:
        return {}
    m = dict(fits_[label]["params"].get("mu", {}))
    null = NESTED.get(label, {}).get("null")
    t = comp.nested.get(f"{label} vs {null}")
    if t is not None:
        m.update(p_mu0=t.get("p_value"), p_mu0_note=t.get("reason", f"{label} vs {null}: {t.get('distribution')}"),
                 delta_chi2_mu0=t.get("delta_chi2"))
    else:                        # no nested partner: the fit's own held-at-mu=0 solve (same mixture test)
        own = (fits_[label].get("tests") or {}).get("mu_zero") or {}
        ok = fits_[label]["status"] == "ok"
        m.update(p_mu0=own.get("p_value") if ok else None,
                 p_mu0_note=(f"{label} held at mu = 0: {own.get('distribution')}" if ok and own
                             else f"{label} is {fits_[label]['status']}"),
                 delta_chi2_mu0=None)
    m.update(model=label, fit_status=fits_[label]["status"])
    return m


# ------------------------------------------------------------------ figure

STYLE = {"STM": ("tab:blue", "--"), "Eq3": ("tab:red", "-"), "STM+b": ("tab:cyan", "-."),
         "Eq3+b": ("tab:green", "-"), "Eq3+R": ("tab:purple", ":"), "Eq3+b+R": ("tab:orange", "-")}


def info_lines(r) -> list:
    """Text of a material's info box: mu (Eq3, preferred), p(mu = 0), preference, failures, flags."""
    lines = []
    mu = r.get("mu") or {}
    if mu:
        p0 = mu.get("p_mu0")
        lines.append(f"Eq3: {mu.get('text', '')}")
        lines.append(f"  p(mu = 0) = {fmt_num(p0, '.2g')}" if p0 is not None else
                     f"  mu = 0 not tested ({mu.get('p_mu0_note', '')})")
    pm = r.get("mu_preferred") or {}
    if pm and pm.get("model") != "Eq3":
        lines.append(f"{pm['model']}: {pm.get('text', '')}, p(mu=0) = {fmt_num(pm.get('p_mu0'), '.2g')}")
    pref = r["preferred"]
    if pref is None:
        lines.append("preferred: none (no fit ok)")
    else:
        w = r["models"][pref].get("akaike_weight")
        lines.append(f"preferred (AICc): {pref}, weight {fmt_num(w, '.2f')}"
                     + ("" if r["decisive"] else " (not decisive)" if r.get("runner_up")
                        else " (the only fit with status ok)"))
        for k, d in r["models"][pref]["params"].items():
            if k not in ("B", "mu"):
                lines.append(f"  {d.get('text', k)}")
    failed = {k: v["status"] for k, v in r["models"].items() if v["status"] != "ok"}
    if failed:
        lines.append("failed: " + ", ".join(f"{k} [{s}]" for k, s in failed.items()))
    lof = [k for k, v in r["models"].items() if v["lack_of_fit"] and v["status"] == "ok"]
    if lof:
        lines.append("lack of fit: " + ", ".join(lof))
    return [w for ln in lines for w in textwrap.wrap(ln, 50, subsequent_indent="    ")]


def make_figure(results, path):
    """One column per material: data + models, ln residuals, and below them (outside the data
    axes, so they never cover points) the info text and the legend."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401
    names = list(results)
    ncol = min(5, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig = plt.figure(figsize=(4.3 * ncol, 8.2 * nrow))
    gs = fig.add_gridspec(3 * nrow, ncol, height_ratios=[3, 1, 2.7] * nrow, hspace=0.12,
                          wspace=0.32)
    for i, name in enumerate(names):
        r = results[name]
        row, col = divmod(i, ncol)
        ax = fig.add_subplot(gs[3 * row, col])
        axr = fig.add_subplot(gs[3 * row + 1, col], sharex=ax)
        axt = fig.add_subplot(gs[3 * row + 2, col])
        axt.axis("off")
        T, y = np.array(r["data"]["T"]), np.array(r["data"]["value"])
        ax.loglog(T, y, "ko", ms=4, label="fitted data")
        for e in r["excluded"]:
            if e["reason"].startswith("outlier"):
                ax.loglog(e["T"], e["value"], "rx", ms=9, mew=2, label="flagged outlier")
            else:
                ax.loglog(e["T"], e["value"], "o", mfc="none", mec="0.6", ms=4,
                          label="outside T window")
        Tg = np.geomspace(T.min() / 1.3, T.max() * 1.3, 80)
        pref = r["preferred"]
        show = ["STM", "Eq3"] + ([pref] if pref not in ("STM", "Eq3", None) else [])
        for m in show:
            v = r["models"].get(m)
            if v is None:
                continue
            c, ls = STYLE[m]
            tag = " (preferred)" if m == pref else ("" if v["status"] == "ok" else f" [{v['status']}]")
            try:
                ax.loglog(Tg, model_curve(m, v["values"], Tg), color=c, ls=ls, lw=1.4,
                          alpha=1.0 if v["status"] == "ok" else 0.4, label=f"{m}{tag}")
                resid = np.log(y) - np.log(model_curve(m, v["values"], T))
                axr.semilogx(T, resid, color=c, marker="o", ms=3, ls=ls, lw=0.8,
                             alpha=1.0 if v["status"] == "ok" else 0.4)
            except Exception:  # noqa: BLE001 -- a failed fit's curve may not evaluate
                pass
        axr.axhline(0, color="0.5", lw=0.6)
        axr.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(r["material"], fontsize=10)
        ax.tick_params(axis="x", which="both", labelbottom=False)
        if col == 0:
            ax.set_ylabel("kappa (W/m/K)")
            axr.set_ylabel("ln(data/model)")
        axr.set_xlabel("T (K)")
        axt.text(0.0, 0.86, "\n".join(info_lines(r)), transform=axt.transAxes, va="top", ha="left",
                 fontsize=6.6, family="monospace", bbox=dict(fc="white", ec="0.7"))
        h, lab = ax.get_legend_handles_labels()
        uniq = dict(zip(lab, h))
        axt.legend(uniq.values(), uniq.keys(), fontsize=6.5, loc="lower left", ncol=2, frameon=True,
                   bbox_to_anchor=(0.0, -0.02))
    fig.suptitle("Thermal conductivity below 1 K: Eq. (5) with the Eq. (3) DOS vs the STM (mu = 0),\n"
                 "with boundary / Rayleigh scattering (Matthiessen); residuals of ln kappa below each panel",
                 fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


# ------------------------------------------------------------------ main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None,
                    help="folder holding thermal_conductivity/ (default $JTLS_DATA or ../shared/data)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "out" / "fits"),
                    help="output folder for thermal_conductivity.png/.json")
    ap.add_argument("--tmax", type=float, default=1.0, help="upper end of the fitted range (K)")
    ap.add_argument("--mu-min", type=float, default=0.0,
                    help="lower bound of mu (default 0, the physical default)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " +
                    ",".join(MODELS))
    ap.add_argument("--files", default=None, help="comma-separated file stems (default: all)")
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "thermal_conductivity")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model {m!r}; choose from {list(MODELS)}")
    register()
    folder = D.shared_data_dir(args.data_dir) / "thermal_conductivity"
    files = sorted(folder.glob("*.csv"))
    if args.files:
        want = set(args.files.split(","))
        files = [f for f in files if f.stem in want]
    if not files:
        raise FileNotFoundError(f"no thermal-conductivity CSV files in {folder} (set --data-dir "
                                f"or $JTLS_DATA)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    t_all = time.perf_counter()
    for i, f in enumerate(files):
        raw = D.read_csv(f, material=MATERIALS.get(f.stem, f.stem))
        ds = raw.flag_outliers().window(tmax=args.tmax).sorted()
        p, perr = power_law_exponent(ds.T, ds.value)
        with progress.step(f"{i + 1}/{len(files)} {f.stem}: {len(models)} fits with profile intervals"):
            fits_, _, comp = fit_material(ds, models, args.mu_min)
        pref = comp.preferred
        mu = mu_verdict(fits_, comp, "Eq3")
        mu_pref = mu_verdict(fits_, comp, pref) if pref and "mu" in fits_[pref]["free"] else {}
        results[f.stem] = {
            "file": str(f), "material": ds.material, "provenance": ds.provenance,
            "n_points": len(ds), "T_range_K": [float(ds.T.min()), float(ds.T.max())],
            "excluded": [e._asdict() for e in ds.excluded], "notes": list(ds.notes),
            "beta_data": 2.0 - p, "beta_data_err": perr,
            "weighting": "no sigma in the files: constant relative errors (residuals of ln kappa), "
                         "stderr and intervals scaled by the reduced chi2",
            "criterion": "AICc (jtls.fit.compare: -2 ln L = N ln(chi2/N), k = free + 1); only fits "
                         "with status ok are ranked",
            "preferred": pref, "decisive": comp.decisive, "runner_up": comp.runner_up,
            "failed": comp.failed, "mu": mu, "mu_preferred": mu_pref,
            "lack_of_fit": {k: v["lack_of_fit"] for k, v in fits_.items()},
            "comparison": comp.to_dict(), "comparison_table": comp.table(), "models": fits_,
            "data": {"T": ds.T.tolist(), "value": ds.value.tolist()},
        }
        print(f"{ds.material:24s} n={len(ds):2d}  beta(data)={2 - p:+.3f}±{perr:.3f}")
        if mu:
            p0 = (fmt_num(mu['p_mu0'], '.3g') if mu['p_mu0'] is not None
                  else f"not tested ({mu.get('p_mu0_note')})")
            print(f"    Eq3 [{mu['fit_status']}]: {mu.get('text', '')}; p(mu=0) = {p0}")
        print("    " + comp.table().replace("\n", "\n    "))
        for k, v in fits_.items():
            for w in v["warnings"]:
                print(f"    warning [{k}]: {w}")
        for e in ds.excluded:
            if e.reason.startswith("outlier"):
                print(f"    flagged: row {e.index} T = {e.T} K, kappa = {e.value}: {e.reason}")
    no_pref = [k for k, v in results.items() if v["preferred"] is None]
    summary = {"script": "fits/thermal_conductivity.py", "argv": sys.argv[1:] if argv is None else argv,
               "tmax_K": args.tmax, "mu_min": args.mu_min, "models": {m: MODELS[m][0] for m in models},
               "nested_tests": {k: v for k, v in NESTED.items() if k in models and v["null"] in models},
               "seconds": time.perf_counter() - t_all, "materials": results,
               "materials_without_preferred_model": no_pref,
               "exit_code_rule": "0 when every material has a preferred model (some fit with status ok), "
                                 "else 1"}
    write_json(summary, out / "thermal_conductivity.json")
    with progress.step("figure"):
        make_figure(results, out / "thermal_conductivity.png")
    print(f"wrote {out / 'thermal_conductivity.json'} and {out / 'thermal_conductivity.png'} "
          f"({summary['seconds']:.0f} s)")
    if no_pref:
        print("no fit with status ok (nothing preferred) for: " + ", ".join(no_pref), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
