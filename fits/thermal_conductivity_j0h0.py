"""Thermal conductivity of real glasses fitted for J0/h0 with the simulated DOS (issue 11, item 6).

For every kappa(T) file in <data-dir>/thermal_conductivity the script fits,
on the same points and with the same weighting (constant relative errors:
residuals of ln kappa, no sigma in the files), two models built on Eq. (5)
of Churkin et al. (2021):

* **Eq3** -- the phenomenological constant-mu DOS of Eq. (3), free B and mu
  (mu >= 0, a physical bound: on it the answer is a 95 % upper limit);
* **simulated** -- the simulated DOS of Hamiltonian (2) from the library
  (``Model("thermal_conductivity", dos="simulated")``), free B and J0_h0,
  h0 held at --h0 (default 10 K).  J0_h0 is bounded by the library's ratio
  range; those ends are search limits, not physical bounds, so a fit that
  runs into them is a failure (``at_limit``), never a result.

Both fits ask for profile-likelihood intervals (``intervals="profile"``).
Points are read and cleaned the way fits/thermal_conductivity.py does it
(its helpers are imported, not copied): outliers flagged, T <= --tmax
(default 1 K) kept.  The library covers T/h0 in a finite range (at h0 = 10 K
about 5 mK - 20 K): points outside it at the chosen h0 are excluded from
*both* fits (so that the two chi^2 compare like with like), listed with the
reason, and the material's ``window`` says so.

Per material the JSON reports mu (68/95 % interval or 95 % upper limit and
p(mu = 0)), J0_h0 with its 68/95 % profile interval -- or why there is none
("unconstrained", or the failed fit's status) --, both fit statuses, both
chi^2 (ok fits only), lack-of-fit flags (from the fits' warnings), and one
sentence saying whether the data constrain J0/h0.  They do
when the simulated fit has status ``ok`` and its 95 % interval is closed
(both ends crossings of the profile) strictly inside the library's range.
A fit whose status is not ``ok`` is never reported with values: its last
iterate is kept under ``last_iterate_not_a_result`` for diagnosis only, and
its curve is not drawn.

The intervals are those of the fit with the library taken as exact; the
library's own statistical error (jackknife over its annealing passes,
:func:`jtls.simulated.uncertainty.library_spread`) is reported beside them
(``J0_h0.sigma_library``).

Writes OUT/thermal_conductivity_j0h0.json and OUT/thermal_conductivity_j0h0.png
(one column per material: data and the ok fits, ln residuals, the verdict text
below the axes; the legend sits in the corner of the data panel with the
fewest points, and the JSON records how many points each annotation covers,
which is 0 by construction).

Exit code 0 when every fit ran (whatever its status), 1 when a fit raised
an error or a material had no points left inside the library range.

Usage::

    python fits/thermal_conductivity_j0h0.py [--data-dir DIR] [--out DIR] [--tmax 1.0]
        [--tmin T] [--h0 10] [--files stem1,stem2] [--library PATH]

Data directory: --data-dir, else $JTLS_DATA, else ../shared/data next to the
repository.  Library: --library, else $JTLS_SIMULATED_LIBRARY, else
data/simulated_dos_library.npz.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

import jtls  # noqa: F401  (float64)
from jtls import data as D
from jtls.fit import Model, fit, predict
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args
from jtls.simulated.uncertainty import library_spread

HERE = Path(__file__).resolve().parent


def _load_sibling(stem):
    """Import fits/<stem>.py (fits/ is not a package) to reuse its helpers."""
    spec = importlib.util.spec_from_file_location(f"_fits_{stem}", HERE / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TC = _load_sibling("thermal_conductivity")

#: the two fits per material (built by make_model; the simulated one loads the library on first use)
LABELS = ("Eq3", "simulated")


def make_model(label, h0):
    """Eq3: the constant-mu model of fits/thermal_conductivity.py; simulated: the same observable with
    the simulated DOS, h0 held."""
    obs, fixed = TC.MODELS["Eq3"]
    if label == "Eq3":
        return Model(obs, fixed=fixed)
    return Model(obs, dos="simulated", fixed={"h0": float(h0)})


# ------------------------------------------------------------------ one fit -> JSON record

def fit_record(label, model, ds):
    """Run one fit; a JSON-ready record where values appear only for status ok."""
    t0 = time.perf_counter()
    try:
        r = fit(model, ds, intervals="profile")
    except Exception as exc:  # noqa: BLE001 -- recorded, and the exit code says so
        return {"label": label, "observable": model.name, "status": "error", "ok": False,
                "message": f"{type(exc).__name__}: {exc}", "values": None, "chi2": None, "reduced_chi2": None,
                "stderr": None, "intervals": None, "tests": None, "params": {}, "free": [], "fixed": {},
                "at_bound": [], "unidentified": [], "warnings": [], "last_iterate_not_a_result": None,
                "lack_of_fit": False,
                "seconds": time.perf_counter() - t0}, None
    ok = r.ok
    rec = {"label": label, "observable": model.name, "status": r.status, "ok": ok,
           "message": r.message, "free": list(r.free), "fixed": dict(r.fixed),
           "chi2": r.chi2 if ok else None, "reduced_chi2": r.reduced_chi2 if ok else None, "dof": r.dof,
           "n_points": r.n_points,
           "values": {k: r.values[k] for k in r.names} if ok else None,
           "stderr": {k: (r.stderr[k] if math.isfinite(r.stderr[k]) else None) for k in r.free} if ok else None,
           "intervals": r.intervals if ok else None,
           "at_bound": list(r.at_bound), "unidentified": list(r.unidentified),
           "warnings": list(r.warnings), "tests": r.tests if ok else None, "n_steps": r.n_steps,
           "lack_of_fit": ok and any("lack of fit" in w for w in r.warnings),
           "seconds": time.perf_counter() - t0,
           "params": {k: TC.param_summary(r, k) for k in r.free}}
    if not ok:
        rec["last_iterate_not_a_result"] = {**{k: r.values[k] for k in r.names}, "chi2": r.chi2}
        for d in rec["params"].values():          # no value or interval of a failed fit as a result
            for key in ("value", "stderr", "low68", "high68", "low95", "high95", "upper_limit95"):
                if key in d:
                    d[key] = None
    return rec, r


# ------------------------------------------------------------------ verdicts

def mu_summary(rec) -> dict:
    """mu of the Eq3 fit: the imported param_summary plus p(mu = 0) (only when the fit is ok)."""
    if rec is None:
        return {"status": "not fitted", "fit_status": "not fitted", "text": "mu: not fitted"}
    if rec["status"] == "error":
        return {"status": "error", "fit_status": "error", "text": "mu: fit raised an error"}
    d = dict(rec["params"].get("mu", {}))
    t = (rec.get("tests") or {}).get("mu_zero") or {}
    d["p_mu0"] = t.get("p_value") if rec["ok"] else None
    d["fit_status"] = rec["status"]
    return d


def unidentified_reason(message, name) -> str:
    """The engine's reason for ``name`` from an 'unidentified' message ('... -- NAME: reason; ...')."""
    tail = message.split(" -- ", 1)[-1]
    for part in tail.split("; "):
        if part.startswith(name + ": "):
            return part[len(name) + 2:]
    return message


def j0h0_summary(rec, ratio_range) -> dict:
    """J0_h0 of the simulated fit: status, value and 68/95 % profile interval, and the verdict.

    ``constrained`` is True only for status ok with a 95 % interval whose ends are both profile
    crossings strictly inside the library's ratio range, or -- J0/h0 = 0, no interaction, being a
    physical bound -- a one-sided 95 % interval from 0 to a crossing below the library's upper end
    (an upper limit)."""
    lo_lib, hi_lib = ratio_range
    out = {"library_range": [lo_lib, hi_lib], "constrained": False, "value": None, "low68": None,
           "high68": None, "low95": None, "high95": None}
    if rec is None:
        out.update(status="not fitted", fit_status="not fitted",
                   sentence="J0/h0 not fitted: no data points inside the library's temperature range.")
        return out
    out["fit_status"] = rec["status"]
    if rec["status"] == "error":
        out.update(status="failed", sentence=f"No J0/h0: the simulated-DOS fit raised an error ({rec['message']}).")
        return out
    if rec["status"] == "unidentified" and "J0_h0" in rec["unidentified"]:
        why = unidentified_reason(rec["message"], "J0_h0")
        level = "at 95 % " if "at 95 %" in why else ""
        out.update(status="unconstrained",
                   sentence=f"The data do not constrain J0/h0 {level}within the library range {lo_lib:g}-{hi_lib:g} "
                            f"(status unidentified: {why}).")
        return out
    if not rec["ok"]:
        out.update(status="failed",
                   sentence=f"No J0/h0 from these data: the simulated-DOS fit failed (status {rec['status']}: "
                            f"{rec['message']}).")
        return out
    iv = (rec.get("intervals") or {}).get("J0_h0") or {}
    v = rec["values"]["J0_h0"]
    s_lib = (rec.get("library_error") or {}).get("J0_h0")
    ok_lib = s_lib is not None and math.isfinite(s_lib)
    out["sigma_library"] = s_lib if ok_lib else None
    lib_txt = f" Library error +- {s_lib:.2g} (not in the intervals)." if ok_lib else ""
    out.update(value=v, low68=iv.get("low"), high68=iv.get("high"), low95=iv.get("low95"),
               high95=iv.get("high95"), kinds={k: iv.get(k + "_kind") for k in ("low", "high", "low95", "high95")})
    closed95 = (iv.get("low95_kind") == "crossing" and iv.get("high95_kind") == "crossing"
                and iv.get("low95") is not None and iv.get("high95") is not None)
    inside = closed95 and lo_lib < iv["low95"] and iv["high95"] < hi_lib
    i68 = (f"[{iv['low']:.3g}, {iv['high']:.3g}]" if iv.get("low") is not None and iv.get("high") is not None
           else "not available")
    upper = (iv.get("low95_kind") == "physical" and iv.get("high95_kind") == "crossing"
             and iv.get("high95") is not None and iv["high95"] < hi_lib)
    if upper:
        # J0/h0 = 0 (no TLS-TLS interaction) is a physical bound: a one-sided interval is a result
        s_lim = ((rec.get("library_error_limits") or {}).get("J0_h0") or {}).get("high95")
        ok_lim = s_lim is not None and math.isfinite(s_lim)
        out["sigma_library_limit95"] = s_lim if ok_lim else None
        lim_txt = f" Library error of the 95% limit +- {s_lim:.2g} (not in it)." if ok_lim else ""
        out.update(status="upper limit", constrained=True,
                   sentence=f"The data give an upper limit J0/h0 < {iv['high95']:.3g} (95%; best fit {v:.3g} on the "
                            f"physical bound 0, no interaction), 68% {i68}.{lim_txt}")
    elif inside:
        out.update(status="constrained", constrained=True,
                   sentence=f"The data constrain J0/h0 = {v:.3g}: 68% {i68}, 95% [{iv['low95']:.3g}, "
                            f"{iv['high95']:.3g}], closed inside the library range {lo_lib:g}-{hi_lib:g}.{lib_txt}")
    else:
        sides = []
        for key, word in (("low95", "below"), ("high95", "above")):
            k = iv.get(key + "_kind")
            if k != "crossing" or iv.get(key) is None:
                sides.append(f"open {word} ({k or 'no profile'})")
            elif not lo_lib < iv[key] < hi_lib:
                sides.append(f"reaches the library limit {word}")
        out.update(status="68% only",
                   sentence=f"The data do not constrain J0/h0 at 95%: best fit {v:.3g} with 68% {i68}, but the "
                            f"95% interval is {' and '.join(sides) or 'not inside the library range'} "
                            f"(library {lo_lib:g}-{hi_lib:g}).")
    return out


# ------------------------------------------------------------------ figure

STYLE = {"Eq3": ("tab:red", "-"), "simulated": ("tab:blue", "--")}


def points_under(ax, artist, x, y) -> int:
    """How many data points (x, y) lie inside the drawn extent of ``artist`` on ``ax``."""
    fig = ax.figure
    fig.canvas.draw()
    bb = artist.get_window_extent(fig.canvas.get_renderer())
    pts = ax.transData.transform(np.column_stack([np.asarray(x, float), np.asarray(y, float)]))
    return int(np.sum((pts[:, 0] >= bb.x0) & (pts[:, 0] <= bb.x1) & (pts[:, 1] >= bb.y0) & (pts[:, 1] <= bb.y1)))


def panel_text(m) -> str:
    eq3 = m["fits"].get("Eq3")
    lines = [f"Eq3 [{eq3['status'] if eq3 else 'not fitted'}]: {m['mu'].get('text', '')}"]
    p0 = m["mu"].get("p_mu0")
    if p0 is not None:
        lines.append(f"  p(mu = 0) = {p0:.2g}")
    sim = m["fits"].get("simulated")
    lines.append(f"simulated [{sim['status'] if sim else 'not fitted'}], h0 = {m['h0']:g} K (held)")
    lines.append("  " + m["J0_h0"]["sentence"])
    c = m["chi2"]
    lines.append("chi2 (ln kappa): " + ", ".join(
        f"{k} " + (f"{c[k]:.3g}" if c.get(k) is not None else "- (no ok fit)") for k in LABELS))
    lof = [k for k in LABELS if (m["fits"].get(k) or {}).get("lack_of_fit")]
    if lof:
        lines.append("lack of fit flagged (fit warning): " + ", ".join(lof))
    if m["window"]["restricted_by_library"]:
        lines.append("  " + m["window"]["note"])
    return "\n".join(w for ln in lines for w in textwrap.wrap(ln, 52, subsequent_indent="    "))


def make_figure(results, curves, path) -> dict:
    """Per material: data + ok fits (log-log), ln residuals, verdict text below.  Returns
    {material: points covered by its legend} (the legend is moved below the axes if it would
    cover any point)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    from jtls.fit.plot import emptiest_corner

    names = list(results)
    ncol = min(5, max(1, len(names)))
    nrow = math.ceil(len(names) / ncol)
    fig = plt.figure(figsize=(4.3 * ncol, 8.0 * nrow))
    gs = fig.add_gridspec(3 * nrow, ncol, height_ratios=[3, 1, 2.4] * nrow, hspace=0.14, wspace=0.32)
    covered = {}
    for i, name in enumerate(names):
        m = results[name]
        row, col = divmod(i, ncol)
        ax = fig.add_subplot(gs[3 * row, col])
        axr = fig.add_subplot(gs[3 * row + 1, col], sharex=ax)
        axt = fig.add_subplot(gs[3 * row + 2, col])
        axt.axis("off")
        T, y = np.array(m["data"]["T"]), np.array(m["data"]["value"])
        xs, ys = list(T), list(y)
        if T.size:
            ax.loglog(T, y, "ko", ms=4, label="fitted data")
        for e in m["excluded"]:
            out_lib = "library" in e["reason"]
            mk = dict(marker="x", color="r", ms=9, mew=2) if e["reason"].startswith("outlier") else \
                dict(marker="s" if out_lib else "o", mfc="none", mec="tab:orange" if out_lib else "0.6", ms=4)
            lab = ("flagged outlier" if e["reason"].startswith("outlier") else
                   "outside library T range" if out_lib else "outside T window")
            ax.loglog([e["T"]], [e["value"]], ls="none", label=lab, **mk)
            xs.append(e["T"])
            ys.append(e["value"])
        for label, (Tg, yg, yd) in curves.get(name, {}).items():
            c, ls = STYLE[label]
            txt = "Eq3 (constant mu)" if label == "Eq3" else f"simulated DOS, J0/h0 = {m['J0_h0']['value']:.3g}"
            ax.loglog(Tg, yg, color=c, ls=ls, lw=1.4, label=txt)
            axr.semilogx(T, np.log(y) - np.log(yd), color=c, ls=ls, marker="o", ms=3, lw=0.8)
            xs += list(Tg)
            ys += list(yg)
        axr.axhline(0.0, color="0.5", lw=0.6)
        axr.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        if not curves.get(name):
            axr.text(0.5, 0.5, "no fit with status ok", transform=axr.transAxes, ha="center", va="center",
                     fontsize=7, color="0.4")
        ax.set_title(m["material"], fontsize=10)
        ax.tick_params(axis="x", which="both", labelbottom=False)
        if col == 0:
            ax.set_ylabel("kappa (W/m/K)")
            axr.set_ylabel("ln(data/model)")
        axr.set_xlabel("T (K)")
        h, lab = ax.get_legend_handles_labels()
        uniq = dict(zip(lab, h))
        corner = emptiest_corner(ax, xs, ys, width=0.55, height=0.3)
        leg = ax.legend(uniq.values(), uniq.keys(), fontsize=6.5, loc=corner, frameon=True)
        # the data points (and excluded points) must stay visible: move the legend below if needed
        n_cov = points_under(ax, leg, list(T) + [e["T"] for e in m["excluded"]],
                             list(y) + [e["value"] for e in m["excluded"]])
        if n_cov:
            leg.remove()
            leg = axt.legend(uniq.values(), uniq.keys(), fontsize=6.5, loc="lower left", frameon=True,
                             bbox_to_anchor=(0.0, -0.05))
            n_cov = 0
        covered[name] = n_cov
        axt.text(0.0, 1.0, panel_text(m), transform=axt.transAxes, va="top", ha="left", fontsize=6.4,
                 family="monospace", bbox=dict(fc="white", ec="0.7"))
    fig.suptitle("Thermal conductivity: Eq. (5) with the constant-mu DOS (Eq. 3) and with the simulated DOS of "
                 "Hamiltonian (2) (J0/h0 free, h0 held)\nresiduals of ln kappa below each panel; fits that "
                 "are not 'ok' are not drawn", fontsize=11)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return covered


# ------------------------------------------------------------------ main

def restrict_to_library(ds, T_lo, T_hi, h0):
    """Exclude points outside [T_lo, T_hi] (the library at h0) with a reason; (dataset, note or '')."""
    bad = ds.index[(ds.T < T_lo) | (ds.T > T_hi)]
    if bad.size == 0:
        return ds, ""
    reason = f"outside the simulated-DOS library at h0 = {h0:g} K ({T_lo:.3g} .. {T_hi:.3g} K)"
    note = (f"{bad.size} point(s) outside the library's {T_lo:.3g}-{T_hi:.3g} K at h0 = {h0:g} K excluded "
            "from both fits")
    return ds.exclude(bad, reason), note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None,
                    help="folder holding thermal_conductivity/ (default $JTLS_DATA or ../shared/data)")
    ap.add_argument("--out", default=str(HERE.parent / "out" / "fits"),
                    help="output folder for thermal_conductivity_j0h0.png/.json")
    ap.add_argument("--tmin", type=float, default=None, help="lower end of the fitted range (K)")
    ap.add_argument("--tmax", type=float, default=1.0, help="upper end of the fitted range (K)")
    ap.add_argument("--h0", type=float, default=None, help="held random-field scale h0 (K; default 10)")
    ap.add_argument("--files", default=None, help="comma-separated file stems (default: all)")
    ap.add_argument("--library", default=None,
                    help="simulated-DOS library .npz (default $JTLS_SIMULATED_LIBRARY or the shipped one)")
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "thermal_conductivity_j0h0")
    if args.library:
        os.environ["JTLS_SIMULATED_LIBRARY"] = str(Path(args.library).resolve())
    from jtls.simulated.dos import load_library
    from jtls.simulated.observables import H0_DEFAULT
    h0 = H0_DEFAULT if args.h0 is None else float(args.h0)
    lib = load_library()
    ratio_range = lib.ratio_range
    T_lo, T_hi = lib.T_range(h0)

    folder = D.shared_data_dir(args.data_dir) / "thermal_conductivity"
    files = sorted(folder.glob("*.csv"))
    if args.files:
        want = set(args.files.split(","))
        files = [f for f in files if f.stem in want]
    if not files:
        raise FileNotFoundError(f"no thermal-conductivity CSV files in {folder} (set --data-dir or $JTLS_DATA)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    results, curves, errors = {}, {}, []
    t_all = time.perf_counter()
    for i, f in enumerate(files):
        raw = D.read_csv(f, material=TC.MATERIALS.get(f.stem, f.stem))
        ds = raw.flag_outliers().window(tmin=args.tmin, tmax=args.tmax).sorted()
        ds, note = restrict_to_library(ds, T_lo, T_hi, h0)
        recs, objs = {}, {}
        if len(ds):
            with progress.step(f"{i + 1}/{len(files)} {f.stem}: {', '.join(LABELS)} fits with profile intervals"):
                for label in LABELS:
                    model = make_model(label, h0)
                    recs[label], objs[label] = fit_record(label, model, ds)
                    if label == "simulated" and objs[label] is not None and objs[label].ok:
                        spread = library_spread(model, objs[label])
                        recs[label]["library_error"] = spread["sigma"]
                        recs[label]["library_error_limits"] = spread["limits"]
        else:
            errors.append(f"{f.stem}: no points inside the library range")
        errors += [f"{f.stem} {k}: {v['message']}" for k, v in recs.items() if v["status"] == "error"]
        eq3, sim = recs.get("Eq3"), recs.get("simulated")
        mu = mu_summary(eq3)
        j = j0h0_summary(sim, ratio_range)
        chi2 = {k: recs[k]["chi2"] if k in recs else None for k in LABELS}
        both_ok = bool(eq3 and sim and eq3["ok"] and sim["ok"])
        results[f.stem] = {
            "file": str(f), "material": ds.material, "h0": h0, "n_points": len(ds),
            "T_range_K": [float(ds.T.min()), float(ds.T.max())] if len(ds) else None,
            "window": {"tmin_K": args.tmin, "tmax_K": args.tmax, "library_T_range_K": [T_lo, T_hi],
                       "restricted_by_library": bool(note), "note": note or "all window points inside the library"},
            "excluded": [e._asdict() for e in ds.excluded], "notes": list(ds.notes),
            "fits": recs, "statuses": {k: v["status"] for k, v in recs.items()},
            "chi2": chi2,
            "delta_chi2_simulated_minus_Eq3": (chi2["simulated"] - chi2["Eq3"]) if both_ok else None,
            "mu": mu, "J0_h0": j, "constrains_J0_h0": j["constrained"], "verdict": j["sentence"],
            "data": {"T": ds.T.tolist(), "value": ds.value.tolist()},
        }
        curves[f.stem] = {}
        for label, r in objs.items():
            if r is not None and r.ok:
                Tg = np.geomspace(max(ds.T.min() / 1.3, T_lo), min(ds.T.max() * 1.3, T_hi), 80)
                curves[f.stem][label] = (Tg, predict(r, T=Tg), predict(r))
        print(f"{ds.material:24s} n={len(ds):2d}  Eq3 [{mu.get('fit_status')}]: {mu.get('text', '')}")
        print(f"    simulated [{j['fit_status']}]: {j['sentence']}")
        if note:
            print(f"    {note}")
    with progress.step("figure"):
        covered = make_figure(results, curves, out / "thermal_conductivity_j0h0.png")
    summary = {
        "script": "fits/thermal_conductivity_j0h0.py", "argv": sys.argv[1:] if argv is None else argv,
        "library": {"path": lib.path, "ratio_range": list(ratio_range), "t_range_T_over_h0": list(lib.t_range),
                    "T_range_K_at_h0": [T_lo, T_hi],
                    **{k: lib.meta.get(k) for k in ("L", "realizations_per_ratio", "jtls_version", "created_utc",
                                                    "regenerate") if k in lib.meta}},
        "h0_K": h0, "tmin_K": args.tmin, "tmax_K": args.tmax,
        "models": {"Eq3": "thermal_conductivity (Eq. 5, Eq. 3 DOS; free B, mu >= 0)",
                   "simulated": f"thermal_conductivity@simulated (free B, J0_h0; h0 = {h0:g} K held)"},
        "weighting": "no sigma in the files: constant relative errors (residuals of ln kappa); stderr and "
                     "profile intervals scaled by the reduced chi2",
        "constrained_rule": "status ok and a closed 95% profile interval (both ends crossings) strictly inside "
                            "the library's J0/h0 range, or an upper limit: the 95% interval from the physical "
                            "bound J0/h0 = 0 to a crossing below the library's upper end",
        "failed_fits": "a fit whose status is not ok has no values, intervals or curve; its last iterate is "
                       "under last_iterate_not_a_result",
        "library_error": "J0_h0.sigma_library: the library's own statistical error (jtls.simulated.uncertainty."
                         "library_spread: jackknife over its passes), stated beside the profile intervals, which "
                         "take the library as exact",
        "figure": {"path": str(out / "thermal_conductivity_j0h0.png"), "points_under_legend": covered},
        "materials": results,
        "constraining": [k for k, v in results.items() if v["constrains_J0_h0"]],
        "not_constraining": [k for k, v in results.items() if not v["constrains_J0_h0"]],
        "errors": errors, "seconds": time.perf_counter() - t_all,
        "exit_code_rule": "0 when every fit ran (any status); 1 when a fit raised or a material had no points "
                          "inside the library range",
    }
    write_json(summary, out / "thermal_conductivity_j0h0.json")
    print(f"constrain J0/h0: {', '.join(summary['constraining']) or 'none'}")
    print(f"wrote {out / 'thermal_conductivity_j0h0.json'} and {out / 'thermal_conductivity_j0h0.png'} "
          f"({summary['seconds']:.0f} s)")
    if errors:
        print("errors: " + "; ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
