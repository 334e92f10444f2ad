"""Figures of fit results: data, model curve, residuals and a parameter box.

``plot_result(result, path)`` draws one column per dataset of the fit: the
data (error bars when sigma is given), the fitted curve on a fine grid, the
excluded points (red crosses, labelled), and below it the weighted residuals;
a text box lists the parameters with their standard errors, chi^2 and the
status.  Extra curves (e.g. the mu = 0 fit) can be overlaid via ``extra``.
"""
from __future__ import annotations

import math

import numpy as np


def _mpl():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def param_box(result, names=None) -> str:
    names = names or result.names
    lines = []
    for k in names:
        v, s = result.values[k], result.stderr[k]
        if k in result.fixed:
            lines.append(f"{k} = {v:.4g} (fixed)")
        else:
            lines.append(f"{k} = {v:.4g} ± {s:.2g}")
    lines.append(f"χ²/dof = {result.reduced_chi2:.3g}")
    lines.append(f"status: {result.status}")
    return "\n".join(lines)


def plot_result(result, path=None, *, title=None, extra=None, logy=None, synthetic=False, fig=None):
    """Write (or return) a figure of ``result``.

    extra : optional list of (label, FitResult) overlaid as dashed curves.
    logy : log y axis (default: for datasets fitted with log residuals).
    synthetic : stamp "SYNTHETIC DATA" on every panel.
    """
    from .engine import predict
    plt = _mpl()
    labels = result.labels
    n = len(labels)
    if fig is None:
        fig, axes = plt.subplots(2, n, figsize=(5.2 * n, 5.6), squeeze=False,
                                 gridspec_kw={"height_ratios": [3, 1]}, sharex="col")
    else:  # pragma: no cover
        axes = np.array(fig.axes).reshape(2, n)
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
            ax.plot(grid, predict(result, lab, grid), "-", color="tab:blue", label="fit")
        except Exception as exc_:  # noqa: BLE001  -- a figure must not hide the result
            ax.text(0.5, 0.5, f"model curve failed: {exc_}", transform=ax.transAxes)
        for k, (elab, eres) in enumerate(extra or []):
            if lab in eres.labels:
                ax.plot(grid, predict(eres, lab, grid), "--", color=f"C{k + 2}", label=elab)
        ax.set_xscale("log")
        if use_logy:
            ax.set_yscale("log")
        ax.set_title(title if (title and n == 1) else f"{lab} ({result.observables[lab]})", fontsize=10)
        ax.legend(fontsize=7, loc="best")
        if synthetic:
            ax.text(0.5, 0.02, "SYNTHETIC DATA", transform=ax.transAxes, ha="center", va="bottom",
                    fontsize=11, color="tab:red", alpha=0.6, weight="bold")
        r = np.asarray(result.residuals[lab])
        axr.axhline(0.0, color="0.5", lw=0.8)
        axr.plot(T, r, "o", ms=3, color="k")
        axr.set_xscale("log")
        axr.set_xlabel("T (K)")
        axr.set_ylabel({"sigma": "(y-f)/σ", "log": "ln y - ln f"}.get(kind, "y - f"), fontsize=8)
        if j == 0:
            ax.set_ylabel(result.observables[lab])
    axes[0, n - 1].text(1.02, 1.0, param_box(result), transform=axes[0, n - 1].transAxes,
                        va="top", ha="left", fontsize=8, family="monospace",
                        bbox=dict(boxstyle="round", fc="w", ec="0.6"))
    if title and n > 1:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return fig
