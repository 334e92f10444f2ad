"""Figures of fit results: data, model curve, residuals and a parameter box.

``plot_result(result, path)`` draws one column per dataset of the fit: the
data (error bars when sigma is given), the fitted curve on a fine grid, the
excluded points (red crosses, labelled), and below it the weighted residuals;
a text box (outside the axes, never on the data) lists the parameters with
their standard errors, profile intervals or upper limits (parameters on a
physical bound), chi^2, the status, the mu = 0 test and the warnings.  The
legend goes to the corner with the fewest points (:func:`emptiest_corner`,
also usable by scripts via :func:`place_text`).  Extra curves (e.g. the mu = 0 fit) can be overlaid via ``extra``.
"""
from __future__ import annotations

import math

import numpy as np

from .result import interval_text


def _mpl():
    """pyplot with the user's backend: a library call never switches it (the command line, whose
    process is ours, selects Agg itself before drawing)."""
    import matplotlib.pyplot as plt
    return plt


def _interval_text(iv, level=""):
    return interval_text(iv, level, digits=3)


def param_line(result, k) -> str:
    """One parameter as the fit determines it: value ± stderr, a profile interval, an upper limit
    (on a physical bound), 'not determined' -- never '± nan'."""
    v = result.values[k]
    if k in result.fixed:
        return f"{k} = {v:.4g} (fixed)"
    if k in getattr(result, "unidentified", ()):
        return f"{k} = {v:.4g} (not determined)"
    iv = (getattr(result, "intervals", None) or {}).get(k) or {}
    if k in getattr(result, "at_bound", ()):
        lim = _interval_text(iv, "95")
        return f"{k} = {v:.4g} (on bound" + (f"; 95%: {lim})" if lim else ")")
    s = result.stderr[k]
    txt = f"{k} = {v:.4g}" + (f" ± {s:.2g}" if math.isfinite(s) else "")
    lim = _interval_text(iv, "")
    return txt + (f"  68%: {lim}" if lim else "")


def result_text(result, names=None) -> str:
    """One line for a report: the parameters (:func:`param_line`, joined by '; ') when the fit's
    status is ``ok``; otherwise ``FAILED (status): not a result`` and the solver's message --
    never the values a failed fit stopped at."""
    if result.status != "ok":
        msg = (result.message or "").strip().splitlines()
        return f"FAILED ({result.status}): not a result" + (f" -- {msg[0][:90]}" if msg else "")
    return "; ".join(param_line(result, k) for k in (names or result.free))


def param_box(result, names=None, warnings=True, width=None) -> str:
    """Text of the parameter box: parameters (see :func:`param_line`), chi^2/dof, the status with
    its message, the mu = 0 test and (shortened) warnings.  ``width``: wrap lines at this many
    characters (default: no wrapping; messages and warnings are cut at 70).

    A fit whose status is not ``ok`` is not a result: the box then starts with
    ``FIT FAILED (status)`` and lists no parameter values."""
    import textwrap
    names = names or result.names
    failed = result.status != "ok"
    lines = [f"FIT FAILED ({result.status}): not a result"] if failed else []
    if not failed:
        lines += [param_line(result, k) for k in names]
    lines.append(f"χ²/dof = {result.reduced_chi2:.3g}")
    lines.append(f"status: {result.status}")
    if failed and result.message:
        lines.append("  " + result.message[:70] + ("..." if len(result.message) > 70 else ""))
    for key, t in (getattr(result, "tests", None) or {}).items():   # the mu = 0 (STM) test
        if key.startswith("mu") and t.get("p_value") is not None:
            lines.append(f"p({t['parameter']} = {t['bound']:g}) = {t['p_value']:.2g}")
    if warnings:
        for w in getattr(result, "warnings", None) or []:
            lines.append("! " + (w[:70] + "..." if len(w) > 70 else w))
    if width:
        lines = [part for ln in lines
                 for part in (textwrap.wrap(ln, width, subsequent_indent="  ") or [""])]
    return "\n".join(lines)


CORNERS = {"upper left": (0.02, 0.98, "left", "top"), "upper right": (0.98, 0.98, "right", "top"),
           "lower left": (0.02, 0.02, "left", "bottom"), "lower right": (0.98, 0.02, "right", "bottom")}


def verdict_panel(ax, fits: dict, width: int = 95) -> None:
    """Write each fit's status, its DOS parameter -- mu, or J0_h0 for the simulated DOS --
    (interval, upper limit or 'fixed') and its warnings into ``ax`` (an axis turned off,
    below the plots: never on the data)."""
    ax.axis("off")
    lines = []
    for k, r in fits.items():
        name = "J0_h0" if "J0_h0" in r.names else "mu"
        if name in r.free:
            dos_s = param_line(r, name)
        else:
            dos_s = f"{name} = {r.values[name]:.4g} (fixed)" if name in r.values else "mu = 0 (fixed)"
        lines.append(f"{k}: status {r.status}; {dos_s}")
        for w in r.warnings:
            lines.append("   ! " + (w[:width] + "..." if len(w) > width else w))
    ax.text(0.0, 1.0, "\n".join(lines), transform=ax.transAxes, va="top", ha="left", fontsize=6.5,
            family="monospace")


def emptiest_corner(ax, x, y, width=0.45, height=0.35) -> str:
    """The corner of ``ax`` ('upper left', ...) whose width x height box (axes fractions) holds the
    fewest of the points (x, y) -- where a text box or legend covers no data.  Call after the
    axis limits and scales are set."""
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return "upper left"
    pts = ax.transAxes.inverted().transform(ax.transData.transform(np.column_stack([x[ok], y[ok]])))
    best, n_best = "upper left", None
    for name, (cx, cy, _, _) in CORNERS.items():
        xin = (pts[:, 0] <= width) if cx < 0.5 else (pts[:, 0] >= 1 - width)
        yin = (pts[:, 1] <= height) if cy < 0.5 else (pts[:, 1] >= 1 - height)
        n = int((xin & yin).sum())
        if n_best is None or n < n_best:
            best, n_best = name, n
    return best


def place_text(ax, text, x, y, **kw):
    """Put ``text`` in the emptiest corner of ``ax`` (see :func:`emptiest_corner`)."""
    corner = emptiest_corner(ax, x, y)
    cx, cy, ha, va = CORNERS[corner]
    return ax.text(cx, cy, text, transform=ax.transAxes, ha=ha, va=va, **kw)


#: observable -> (quantity symbol, units when fixed by the observable; None: the data's units)
QUANTITIES = {
    "velocity": (r"$\delta v/v$", "1"),
    "dielectric": (r"$\delta\varepsilon/\varepsilon$", "1"),
    "thermal_conductivity": (r"thermal conductivity $\kappa$", None),
    "thermal_conductivity_matthiessen": (r"thermal conductivity $\kappa$", None),
    "specific_heat": (r"specific heat $C_v$", None),
    "resonator_shift": (r"$\delta f/f_0$", "1"),
    "resonator_loss": (r"internal quality factor $Q_i$", "1"),
}


def axis_label(observable: str, units: str | None = None) -> str:
    """y-axis label of an observable: its quantity and units, e.g. ``thermal conductivity
    kappa (W/m/K)``.  Relative quantities are dimensionless; kappa and C_v (Eqs. 5, 6) are in
    the units of the data (``units``, e.g. the file header's), said so when unknown."""
    base = observable
    for name in sorted(QUANTITIES, key=len, reverse=True):   # twins: velocity_simulated, ...
        if observable == name or observable.startswith(name + "_") or observable.startswith(name + "@"):
            base = name
            break
    if base not in QUANTITIES:
        return f"{observable}" + (f" ({units})" if units else "")
    symbol, fixed = QUANTITIES[base]
    if fixed == "1":
        return symbol + " (dimensionless)"
    u = (units or "").strip()
    return f"{symbol} ({u})" if u and u != "1" else f"{symbol} (units of the data)"


def plot_result(result, path=None, *, title=None, extra=None, logy=None, synthetic=False, fig=None,
                units=None):
    """Write (or return) a figure of ``result``.

    extra : optional list of (label, FitResult) overlaid as dashed curves.
    logy : log y axis (default: for datasets fitted with log residuals).
    synthetic : stamp "SYNTHETIC DATA" on every panel.
    units : units of the data's values, one string or ``{label: str}`` (e.g.
        ``Dataset.units``), for the y labels of kappa and C_v (see :func:`axis_label`).

    The parameter box has a column of its own to the right of the plots (an
    axis without frame): it never covers data and stays inside the figure.
    """
    from .engine import predict
    plt = _mpl()
    labels = result.labels
    n = len(labels)
    if fig is None:
        fig = plt.figure(figsize=(4.8 * n + 3.4, 5.6), layout="constrained")
        gs = fig.add_gridspec(2, n + 1, height_ratios=[3, 1], width_ratios=[4.8] * n + [3.4])
        axes = np.empty((2, n), dtype=object)
        for j in range(n):
            axes[0, j] = fig.add_subplot(gs[0, j])
            axes[1, j] = fig.add_subplot(gs[1, j], sharex=axes[0, j])
        box_ax = fig.add_subplot(gs[:, n])
    else:  # pragma: no cover
        axes = np.array(fig.axes[:2 * n]).reshape(2, n)
        box_ax = fig.axes[2 * n]
    for j, lab in enumerate(labels):
        ax, axr = axes[0, j], axes[1, j]
        d = result.data[lab]
        T = np.asarray(d["T"])
        y = np.asarray(d["y"])
        kind = result.extra.get("kinds", {}).get(lab, "absolute")
        use_logy = (kind == "log") if logy is None else logy
        if d.get("sigma") is not None:
            ax.errorbar(T, y, yerr=np.asarray(d["sigma"]), fmt="o", ms=3.5, color="k", label="data")
        else:
            ax.plot(T, y, "o", ms=3.5, color="k", label="data")
        exc = [e for e in result.excluded if e["dataset"] == lab and math.isfinite(e["T"])]
        if exc:
            ax.plot([e["T"] for e in exc], [e["value"] for e in exc], "x", color="tab:red", ms=8,
                    label="excluded: " + "; ".join(sorted({e["reason"][:40] for e in exc})))
        lo = min([T.min()] + [e["T"] for e in exc])
        hi = max([T.max()] + [e["T"] for e in exc])
        grid = np.geomspace(lo, hi, 200)
        try:
            if result.status == "ok":
                ax.plot(grid, predict(result, lab, grid), "-", color="tab:blue", label="fit")
            else:   # a failed fit is no result: drawn faint, and labelled so
                ax.plot(grid, predict(result, lab, grid), ":", color="0.55",
                        label=f"FAILED fit ({result.status}): not a result")
        except Exception as exc_:  # noqa: BLE001  -- a figure must not hide the result
            first = (str(exc_).strip().splitlines() or [""])[0][:60]
            ax.text(0.5, 0.5, f"model curve failed:\n{type(exc_).__name__}: {first}", transform=ax.transAxes,
                    ha="center", va="center", fontsize=8, color="tab:red")
        for k, (elab, eres) in enumerate(extra or []):
            if lab in eres.labels:
                ax.plot(grid, predict(eres, lab, grid), "--", color=f"C{k + 2}", label=elab)
        ax.set_xscale("log")
        if use_logy:
            ax.set_yscale("log")
        ax.set_title(title if (title and n == 1) else f"{lab} ({result.observables[lab]})", fontsize=10)
        ax.autoscale_view()
        xs = np.concatenate([T, [e["T"] for e in exc]])
        ys = np.concatenate([y, [e["value"] for e in exc]])
        corner = emptiest_corner(ax, xs, ys)
        ax.legend(fontsize=7, loc=corner)
        if synthetic:   # the title carries the stamp: inside the axes it could cover points
            ax.set_title(ax.get_title() + "\nSYNTHETIC DATA", fontsize=10, color="tab:red")
        r = np.asarray(result.residuals[lab])
        axr.axhline(0.0, color="0.5", lw=0.8)
        axr.plot(T, r, "o", ms=3, color="k")
        axr.set_xscale("log")
        axr.set_xlabel("T (K)")
        axr.set_ylabel({"sigma": "(y-f)/σ", "log": "ln y - ln f"}.get(kind, "y - f"), fontsize=8)
        u = units.get(lab) if isinstance(units, dict) else units
        ax.set_ylabel(axis_label(result.observables[lab], u))
        ax.tick_params(labelbottom=False)
    box_ax.axis("off")
    box_ax.text(0.0, 1.0, param_box(result, width=44), transform=box_ax.transAxes, va="top", ha="left",
                fontsize=8, family="monospace", bbox=dict(boxstyle="round", fc="w", ec="0.6"))
    if title and n > 1:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
