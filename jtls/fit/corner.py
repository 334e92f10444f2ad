"""Corner plot of posterior draws (:func:`jtls.fit.posterior.sample_posterior`).

Matplotlib only (Agg backend): 1-D marginal histograms on the diagonal, 2-D
densities with the contours enclosing 39.3 % and 86.5 % of the draws (the
1-sigma and 2-sigma regions of a 2-D Gaussian) below it, the least-squares
optimum marked (line on the diagonal, cross below; its ±1 standard error as
a band on the diagonal).
"""
from __future__ import annotations

import math

import numpy as np

#: Probability mass inside the drawn 2-D contours (1 and 2 sigma of a 2-D Gaussian).
CONTOUR_MASS = (1.0 - math.exp(-0.5), 1.0 - math.exp(-2.0))


def _levels(h, masses):
    """Density thresholds of a 2-D histogram enclosing the given fractions of the counts."""
    flat = np.sort(h.ravel())[::-1]
    cum = np.cumsum(flat)
    if cum[-1] <= 0:
        return []
    cum /= cum[-1]
    out = []
    for m in sorted(masses, reverse=True):
        i = min(int(np.searchsorted(cum, m)), flat.size - 1)
        out.append(flat[i])
    lv = sorted(set(float(v) for v in out if v > 0))
    return lv


def corner_plot(posterior, result, path, *, bins: int = 40, names=None):
    """Write a corner plot of ``posterior`` (a PosteriorResult) to ``path`` (PNG); returns ``path``.

    ``result``: the least-squares FitResult whose optimum (``values``) and
    standard errors are marked; ``names``: subset/order of parameters (default all).
    """
    # a Figure with an Agg canvas: no pyplot, the global backend is left alone
    from matplotlib.figure import Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    names = list(names or posterior.names)
    k = len(names)
    draws = {nm: posterior.samples[:, :, posterior.names.index(nm)].reshape(-1) for nm in names}
    size = max(2.2 * k, 3.0)
    fig = Figure(figsize=(size, size))
    FigureCanvasAgg(fig)
    axes = fig.subplots(k, k, squeeze=False)
    ranges = {}
    for nm in names:
        lo, hi = np.quantile(draws[nm], [0.001, 0.999])
        if not hi > lo:
            lo, hi = lo - 0.5 * max(abs(lo), 1e-12), hi + 0.5 * max(abs(hi), 1e-12)
        pad = 0.05 * (hi - lo)
        ranges[nm] = (lo - pad, hi + pad)
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(draws[xj], bins=bins, range=ranges[xj], density=True, histtype="stepfilled",
                        color="C0", alpha=0.45)
                ax.hist(draws[xj], bins=bins, range=ranges[xj], density=True, histtype="step", color="C0")
                x0 = result.values.get(xj)
                se = result.stderr.get(xj)
                if x0 is not None and math.isfinite(x0):
                    ax.axvline(x0, color="C3", lw=1.2)
                    if se is not None and math.isfinite(se) and se > 0:
                        ax.axvspan(x0 - se, x0 + se, color="C3", alpha=0.12, lw=0)
                for q in np.quantile(draws[xj], [0.16, 0.5, 0.84]):
                    ax.axvline(q, color="k", ls="--", lw=0.7)
                ax.set_yticks([])
                ax.set_xlim(ranges[xj])
            else:
                h, xe, ye = np.histogram2d(draws[xj], draws[yi], bins=bins // 2,
                                           range=[ranges[xj], ranges[yi]])
                ax.imshow(h.T, origin="lower", aspect="auto", cmap="Blues",
                          extent=(xe[0], xe[-1], ye[0], ye[-1]))
                lv = _levels(h, CONTOUR_MASS)
                if lv:
                    xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
                    ax.contour(xc, yc, h.T, levels=lv, colors="k", linewidths=0.8)
                x0, y0 = result.values.get(xj), result.values.get(yi)
                if x0 is not None and y0 is not None:
                    ax.plot([x0], [y0], marker="+", color="C3", ms=10, mew=1.5)
                ax.set_xlim(ranges[xj])
                ax.set_ylim(ranges[yi])
            if i == k - 1:
                ax.set_xlabel(xj)
                for t in ax.get_xticklabels():
                    t.set_rotation(45)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(yi)
            elif i != j:
                ax.set_yticklabels([])
    fig.suptitle(f"posterior: {posterior.num_chains} chains x {posterior.num_samples} draws "
                 f"(red: least-squares optimum)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
