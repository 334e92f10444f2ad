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
4. reports mu, beta = 2 - (effective exponent) both model-free (power-law fit
   of the data) and from each model (log-log slope of the model over the
   fitted range; beta = mu exactly for Eq3), delta chi^2 against the STM, and
   the preferred model by the corrected Akaike criterion AICc
   (Gaussian errors of ln kappa with unknown common variance:
   AICc = n ln(chi^2/n) + 2k + 2k(k+1)/(n-k-1), k = free parameters + 1;
   models with n - k - 1 <= 0 are not ranked),
5. writes one PNG with all materials (data, flagged/excluded points, models,
   residuals, parameter box) and a JSON with every fit.

Usage::

    python fits/thermal_conductivity.py [--data-dir DIR] [--out DIR] [--tmax 1.0]
                                        [--mu-min 0] [--models STM,Eq3,...]

Data directory: --data-dir, else $JTLS_DATA, else ../shared/data next to the repository.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import jtls  # noqa: F401  (float64)
from jtls import data as D
from jtls.fit import Model, fit, register_observable
from jtls.fit.model import REGISTRY
from jtls.fit.result import write_json
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
    """AICc for Gaussian residuals of unknown common variance (k = n_free + 1); None if undefined."""
    k = n_free + 1
    if n - k - 1 <= 0 or not (chi2 > 0 and math.isfinite(chi2)):
        return None
    return n * math.log(chi2 / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1)


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


def mu_profile(T, y, mu_min=0.0, n_grid=201):
    """68% interval of mu for Eq3 from the profile chi^2 (amplitude profiled out analytically).

    For fixed mu the best ln(1/B) is mean(ln y - ln I(T; mu)); the interval is where
    chi2(mu) <= chi2_min + s^2 with s^2 = chi2_min/(n - 2) (unknown common ln-error).
    """
    import jax
    from jtls.observables import thermal_conductivity
    grid = np.linspace(mu_min, 1.0, n_grid)
    curves = np.asarray(jax.vmap(lambda m: thermal_conductivity(np.asarray(T), 1.0, m))(grid))
    d = np.log(y)[None, :] - np.log(curves)
    d = d - d.mean(axis=1, keepdims=True)
    chi2 = (d * d).sum(axis=1)
    s2 = chi2.min() / max(len(T) - 2, 1)
    inside = grid[chi2 <= chi2.min() + s2]
    return {"mu_best": float(grid[np.argmin(chi2)]), "mu_68_lo": float(inside.min()),
            "mu_68_hi": float(inside.max()), "grid_step": float(grid[1] - grid[0])}


def model_curve(label, values, T):
    obs, _ = MODELS[label]
    f = REGISTRY[obs].func
    kw = {k: values[k] for k in REGISTRY[obs].params}
    return np.asarray(f(np.asarray(T, float), **kw))


def fit_material(ds, models, mu_min):
    """All models on one dataset -> dict of results (JSON-ready) and FitResults."""
    out, res_objs = {}, {}
    n = len(ds)
    for label in models:
        obs, fixed = MODELS[label]
        bounds = {} if "mu" in fixed else {"mu": (mu_min, 1.0)}
        t0 = time.perf_counter()
        r = fit(Model(obs, fixed=fixed, bounds=bounds), ds)
        dt = time.perf_counter() - t0
        n_free = len(r.free)
        curve = model_curve(label, r.values, ds.T)
        slope, _ = power_law_exponent(ds.T, curve)
        out[label] = {
            "observable": obs, "fixed": fixed, "free": r.free,
            "values": {k: r.values[k] for k in r.names},
            "stderr": {k: r.stderr[k] for k in r.names},
            "chi2": r.chi2, "reduced_chi2": r.reduced_chi2, "dof": r.dof, "status": r.status,
            "message": r.message, "n_steps": r.n_steps, "aicc": aicc(r.chi2, n, n_free),
            "beta_model": 2.0 - slope, "seconds": dt,
        }
        res_objs[label] = r
    ranked = {k: v["aicc"] for k, v in out.items() if v["aicc"] is not None and v["status"] != "nan"}
    best = min(ranked, key=ranked.get) if ranked else None
    chi_stm = out.get("STM", {}).get("chi2")
    for k, v in out.items():
        v["delta_aicc"] = None if v["aicc"] is None or best is None else v["aicc"] - ranked[best]
        v["delta_chi2_vs_STM"] = None if chi_stm is None else chi_stm - v["chi2"]
    return out, res_objs, best


# ------------------------------------------------------------------ figure

STYLE = {"STM": ("tab:blue", "--"), "Eq3": ("tab:red", "-"), "STM+b": ("tab:cyan", "-."),
         "Eq3+b": ("tab:green", "-"), "Eq3+R": ("tab:purple", ":"), "Eq3+b+R": ("tab:orange", "-")}


def make_figure(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker  # noqa: F401
    names = list(results)
    ncol = 5
    nrow = math.ceil(len(names) / ncol)
    fig = plt.figure(figsize=(4.0 * ncol, 5.6 * nrow))
    gs = fig.add_gridspec(3 * nrow, ncol, height_ratios=[3, 1, 0.55] * nrow, hspace=0.08,
                          wspace=0.32)
    for i, name in enumerate(names):
        r = results[name]
        row, col = divmod(i, ncol)
        ax = fig.add_subplot(gs[3 * row, col])
        axr = fig.add_subplot(gs[3 * row + 1, col], sharex=ax)
        T, y = np.array(r["data"]["T"]), np.array(r["data"]["value"])
        ax.loglog(T, y, "ko", ms=4, label="fitted data")
        for e in r["excluded"]:
            if e["reason"].startswith("outlier"):
                ax.loglog(e["T"], e["value"], "rx", ms=9, mew=2, label="flagged outlier")
            else:
                ax.loglog(e["T"], e["value"], "o", mfc="none", mec="0.6", ms=4,
                          label="outside T window")
        Tg = np.geomspace(T.min() / 1.3, T.max() * 1.3, 80)
        show = ["STM", "Eq3"] + ([r["preferred"]] if r["preferred"] not in ("STM", "Eq3", None) else [])
        for m in show:
            if m not in r["models"]:
                continue
            c, ls = STYLE[m]
            v = r["models"][m]
            ax.loglog(Tg, model_curve(m, v["values"], Tg), color=c, ls=ls, lw=1.4,
                      label=f"{m}{' (preferred)' if m == r['preferred'] else ''}")
            resid = np.log(y) - np.log(model_curve(m, v["values"], T))
            axr.semilogx(T, resid, color=c, marker="o", ms=3, ls=ls, lw=0.8)
        axr.axhline(0, color="0.5", lw=0.6)
        axr.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(r["material"], fontsize=10)
        pm = r["models"].get(r["preferred"], {})
        eq3 = r["models"].get("Eq3", {})
        pr = r["mu_profile_Eq3"]
        lines = [f"Eq3: mu = {eq3['values']['mu']:.3f} (68%: {pr['mu_68_lo']:.2f}..{pr['mu_68_hi']:.2f})"
                 if eq3 else "",
                 f"beta(data) = {r['beta_data']:.3f} ± {r['beta_data_err']:.3f}",
                 f"dchi2(Eq3 vs STM) = {eq3.get('delta_chi2_vs_STM', float('nan')):.4f}",
                 f"preferred (AICc): {r['preferred']}"]
        if pm:
            for k in pm["free"]:
                if k != "B":
                    lines.append(f"  {k} = {pm['values'][k]:.3g} ± {pm['stderr'][k]:.2g}")
            lines.append(f"  status: {pm['status']}")
        ax.text(0.03, 0.97, "\n".join(l for l in lines if l), transform=ax.transAxes, va="top",
                fontsize=7, family="monospace", bbox=dict(fc="white", ec="0.7", alpha=0.85))
        h, lab = ax.get_legend_handles_labels()
        uniq = dict(zip(lab, h))
        ax.legend(uniq.values(), uniq.keys(), fontsize=6.5, loc="lower right")
        ax.tick_params(axis="x", which="both", labelbottom=False)
        if col == 0:
            ax.set_ylabel("kappa (W/m/K)")
            axr.set_ylabel("ln(data/model)")
        axr.set_xlabel("T (K)")
    fig.suptitle("Thermal conductivity below 1 K: Eq. (5) with the Eq. (3) DOS vs the STM, with "
                 "boundary / Rayleigh scattering (Matthiessen); residuals of ln kappa below each panel",
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
    args = ap.parse_args(argv)
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
    for f in files:
        raw = D.read_csv(f, material=MATERIALS.get(f.stem, f.stem))
        ds = raw.flag_outliers().window(tmax=args.tmax).sorted()
        p, perr = power_law_exponent(ds.T, ds.value)
        prof = mu_profile(ds.T, ds.value, args.mu_min)
        fits_, _, best = fit_material(ds, models, args.mu_min)
        results[f.stem] = {
            "file": str(f), "material": ds.material, "provenance": ds.provenance,
            "n_points": len(ds), "T_range_K": [float(ds.T.min()), float(ds.T.max())],
            "excluded": [e._asdict() for e in ds.excluded], "notes": list(ds.notes),
            "beta_data": 2.0 - p, "beta_data_err": perr, "mu_profile_Eq3": prof,
            "weighting": "no sigma in the files: constant relative errors (residuals of ln kappa), "
                         "stderr scaled by sqrt(reduced chi2)",
            "criterion": "AICc (Gaussian ln-kappa residuals, unknown variance, k = free + 1)",
            "preferred": best, "models": fits_,
            "data": {"T": ds.T.tolist(), "value": ds.value.tolist()},
        }
        e3 = fits_.get("Eq3")
        print(f"{ds.material:24s} n={len(ds):2d}  beta(data)={2 - p:+.3f}±{perr:.3f}  " +
              (f"mu(Eq3)={e3['values']['mu']:.3f} (68%: {prof['mu_68_lo']:.3f}..{prof['mu_68_hi']:.3f})"
               f" [{e3['status']}]  "
               f"dchi2={e3['delta_chi2_vs_STM']:.3g}  " if e3 else "") + f"preferred: {best}")
        for e in ds.excluded:
            if e.reason.startswith("outlier"):
                print(f"    flagged: row {e.index} T = {e.T} K, kappa = {e.value}: {e.reason}")
    summary = {"script": "fits/thermal_conductivity.py", "argv": sys.argv[1:] if argv is None else argv,
               "tmax_K": args.tmax, "mu_min": args.mu_min, "models": {m: MODELS[m][0] for m in models},
               "seconds": time.perf_counter() - t_all, "materials": results}
    write_json(summary, out / "thermal_conductivity.json")
    make_figure(results, out / "thermal_conductivity.png")
    print(f"wrote {out / 'thermal_conductivity.json'} and {out / 'thermal_conductivity.png'} "
          f"({summary['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
