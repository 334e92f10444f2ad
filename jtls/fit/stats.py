"""Statistical tests of a solved fit: the pieces :func:`jtls.fit.inference.infer` judges with.

* :func:`boundary_p_value` -- the likelihood-ratio test of a parameter on its
  physical bound (Chernoff's mixture 1/2 chi2_0 + 1/2 chi2_1, or its F(1, dof)
  analogue when the error scale comes from the residuals);
* :func:`beyond_bound` -- the score test of values beyond that bound (the data
  asking for mu < 0, say);
* :func:`runs_test` -- too few runs of equal residual signs in temperature
  order (systematic deviations);
* :func:`lack_of_fit` -- the chi^2 p-value with given sigma, the runs test per
  dataset and possible outliers, as the ``tests["lack_of_fit"]`` entry and
  warning sentences;
* :func:`flat_chi2`, :func:`rounding_chi2` -- chi^2 of a temperature-independent
  curve and of residuals at rounding level, in each dataset's own residual
  units (relative for log weighting, absolute, or in units of sigma).

Pure numpy and :mod:`scipy.special`; no JAX.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import special   # the distributions' functions; scipy.stats costs ~0.45 s to import

#: p-value below which a lack-of-fit warning is given.
LACK_OF_FIT_P = 0.01
#: Robust standard deviations (1.4826 MAD of a dataset's residuals) beyond which a point gets a
#: possible-outlier warning.
OUTLIER_Z = 10.0


def _fmt(v) -> str:
    return f"{v:.4g}"


def runs_test(r: ArrayLike) -> float:
    """One-sided p-value of the Wald-Wolfowitz runs test for too FEW runs of signs in ``r``.

    Few runs of equal sign in the residuals (ordered in T) mean systematic
    deviations: the lack-of-fit test of :func:`infer`.

    Parameters
    ----------
    r : array_like, shape (n,)
        Residuals in data order (zeros are dropped).

    Returns
    -------
    float
        The p-value (normal approximation with continuity correction); 1
        for fewer than 10 points.

    Examples
    --------
    >>> from jtls.fit.stats import runs_test
    >>> print(f"{runs_test([1, -1] * 6):.3f} {runs_test([1] * 6 + [-1] * 6):.4f}")
    1.000 0.0032
    """
    s = np.sign(np.asarray(r, float))
    s = s[s != 0]
    n = s.size
    if n < 10:
        return 1.0
    n1, n2 = int((s > 0).sum()), int((s < 0).sum())
    if n1 == 0 or n2 == 0:
        return 0.0 if n >= 10 else 1.0
    runs = 1 + int((s[1:] != s[:-1]).sum())
    mean = 1.0 + 2.0 * n1 * n2 / n
    var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n) / (n * n * (n - 1.0))
    if var <= 0:
        return 1.0
    z = (runs - mean + 0.5) / math.sqrt(var)      # continuity correction
    return float(special.ndtr(z))


def boundary_p_value(t: float, absolute: bool, dof: int) -> float:
    """p-value of a likelihood-ratio test of a parameter on its physical bound (e.g. mu = 0).

    Under the null the statistic follows the mixture 1/2 chi2_0 + 1/2 chi2_1
    (sigma known) or its F(1, dof) analogue (scale from the residuals).

    Parameters
    ----------
    t : float
        The statistic, Delta chi^2 / s^2 (>= 0).
    absolute : bool
        Whether the per-point sigma are absolute (chi2 mixture).
    dof : int
        Degrees of freedom of the full fit (F mixture).

    Returns
    -------
    float
        The p-value (1 for t <= 0, NaN for a non-finite t).

    Examples
    --------
    >>> from jtls.fit.stats import boundary_p_value
    >>> print(f"{boundary_p_value(2.71, True, 10):.3f} {boundary_p_value(4.0, False, 10):.3f}")
    0.050 0.037
    """
    if not math.isfinite(t):
        return math.nan
    if t <= 0:
        return 1.0
    if absolute or dof <= 0:
        return 0.5 * float(special.chdtrc(1, t))
    return 0.5 * float(special.fdtrc(1, dof, t))


def beyond_bound(r, J, j, side, free, absolute, floor2, exact):
    """Score test of parameter ``j``, held on its physical bound, against values beyond it.

    At the fit held on the bound (residuals ``r``, Jacobian ``J`` = d r / d x
    with the one-sided derivative of column ``j`` there) one Gauss-Newton step
    with ``j`` and the ``free`` columns released lowers chi^2 by
    ``D = r^T P r`` (P the projection on their span).  When that step leaves
    the physical range (towards ``side``: -1 below a lower bound, +1 above an
    upper one) the statistic is ``t = D / s^2`` (s^2 = 1 with per-point sigma,
    the extended fit's residual variance otherwise), with p = 1/2 P(chi2_1 > t)
    or 1/2 P(F(1, dof) > t): under the model with the parameter truly on its
    bound the step points outwards half the time.  A small p means the data
    ask for an unphysical value (a lack-of-fit warning of
    :func:`jtls.fit.inference.infer` below :data:`LACK_OF_FIT_P`).

    Returns ``(t, p)``, or None where the test does not apply (data
    reproduced to rounding on the bound, a non-finite or zero column).
    """
    chi2 = float(r @ r)
    cols = list(free) + [j]
    Jx = J[:, cols]
    if chi2 <= exact or not np.isfinite(Jx).all():
        return None
    norm = np.sqrt(np.sum(Jx * Jx, axis=0))
    if not norm[-1] > 0:
        return None
    norm = np.where(norm > 0, norm, 1.0)
    step, *_ = np.linalg.lstsq(Jx / norm[None, :], -r, rcond=1e-10)
    step = step / norm
    if not (np.isfinite(step).all() and step[-1] * side > 0):
        return (0.0, 1.0)
    rest = r + Jx @ step
    drop = chi2 - float(rest @ rest)
    dof = r.size - len(cols)
    if absolute:
        s2 = 1.0
    else:
        if dof <= 0:
            return None
        s2 = max(float(rest @ rest) / dof, floor2)
    t = max(0.0, drop / s2)
    return (t, boundary_p_value(t, absolute, dof))


def flat_chi2(problem) -> float:
    """chi^2 of the best temperature-independent curve, in the fit's own residuals.

    Per dataset a constant c fitted by its residual kind (see
    :func:`jtls.fit.objective.weighting_text`): ``sigma`` -- weighted mean,
    sum ((y - c) / sigma)^2; ``absolute`` -- sum (y - mean y)^2; ``log`` --
    sum (ln y - mean ln y)^2.  A model whose chi^2 is not below this follows
    no temperature dependence of the data.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace as NS
    >>> pts = NS(y=np.array([1.0, np.e, np.e ** 2]), sigma=None)
    >>> print(flat_chi2(NS(points=[pts], kinds=["log"])))
    2.0
    """
    total = 0.0
    for pts, kind in zip(problem.points, problem.kinds):
        y = np.asarray(pts.y, float)
        if kind == "sigma":
            w = 1.0 / np.asarray(pts.sigma, float) ** 2
            d = (y - float(np.sum(w * y) / np.sum(w))) * np.sqrt(w)
        elif kind == "log":
            d = np.log(y) - float(np.mean(np.log(y)))
        else:
            d = y - float(np.mean(y))
        total += float(d @ d)
    return total


def rounding_chi2(problem, rel: float) -> float:
    """chi^2 of residuals at a relative rounding level ``rel`` of each point, in the fit's own
    residuals: ``rel`` for ``log`` weighting (relative residuals), ``rel`` max|y| of the dataset
    for ``absolute``, ``rel`` max|y| / sigma_i with per-point sigma.  A fit below
    ``rounding_chi2(problem, 1e-9)`` reproduces its data to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace as NS
    >>> pts = NS(y=np.array([1e10, 2e10]), sigma=None)
    >>> print(rounding_chi2(NS(points=[pts], kinds=["log"]), 1e-9))   # 2 points of (1e-9)^2
    2e-18
    """
    total = 0.0
    for pts, kind in zip(problem.points, problem.kinds):
        y = np.asarray(pts.y, float)
        if not y.size:
            continue
        if kind == "log":
            total += y.size * rel ** 2
            continue
        big = max(float(np.ptp(y)), float(np.abs(y).max()))
        w = 1.0 / np.asarray(pts.sigma, float) if kind == "sigma" else np.ones_like(y)
        total += float(np.sum((rel * big * w) ** 2))
    return total


def reproduced_to_rounding(problem, chi2: float, given: bool) -> bool:
    """Whether a fit without per-point sigma (``given`` False) reproduces its data to rounding:
    chi^2 below :func:`rounding_chi2` at 1e-9 of the values.  Such a fit has no error scale (no
    uncertainty is a result) and its residual signs say nothing."""
    n = sum(np.size(p.y) for p in problem.points)
    return not given and n > 0 and chi2 < rounding_chi2(problem, 1e-9)


def lack_of_fit(problem, r, chi2: float, dof: int, given: bool, pulled: dict) -> tuple:
    """The lack-of-fit tests of a solved problem: ``(entry, warnings)``.

    ``entry`` is ``tests["lack_of_fit"]``: ``chi2_p_value`` (per-point sigma
    ``given``, dof > 0) and ``runs_p_value`` (:func:`runs_test` per dataset,
    Bonferroni over datasets; absent for data reproduced to rounding).  ``warnings`` are sentences: a possible outlier
    per dataset (a point more than :data:`OUTLIER_Z` robust standard deviations
    off the fit), "lack of fit" for p < :data:`LACK_OF_FIT_P` and for every
    entry of ``pulled`` (``{name: "below its physical bound ..."}``, parameters
    the data pull past their bound), and the note on data reproduced to
    rounding (whose residual signs are not tested).  ``r`` (m,) are the
    weighted residuals in the datasets' order.
    """
    lof, warnings = {}, []
    if given and dof > 0:
        lof["chi2_p_value"] = float(special.chdtrc(dof, chi2))
    start = 0
    runs, far = [], []
    # data reproduced to rounding: the residuals are rounding noise, whose signs say nothing
    rounding = r.size > 0 and reproduced_to_rounding(problem, chi2, given)
    for pts in problem.points:
        m = pts.T.size
        rd = r[start:start + m]
        runs.append(runs_test(rd))
        med = float(np.median(rd)) if m else 0.0
        mad = 1.4826 * float(np.median(np.abs(rd - med))) if m else 0.0
        if m >= 8 and mad > 0 and not rounding:
            z = np.abs(rd - med) / mad
            k = int(np.argmax(z))
            if z[k] > OUTLIER_Z:
                far.append(f"T = {_fmt(pts.T[k])} K (value {_fmt(pts.y[k])}"
                           + ("" if len(problem.points) == 1 else f", dataset {pts.label}")
                           + f") is {z[k]:.3g} robust standard deviations off the fit")
        start += m
    if not rounding:      # rounding residuals: no runs test (their signs say nothing), none reported
        lof["runs_p_value"] = float(min(1.0, min(runs) * len(runs))) if runs else 1.0
    for text in far:
        warnings.append(f"possible outlier: {text}; it may bias every parameter (jtls fit --flag-outliers, "
                        "or Dataset.flag_outliers, tests such points and leaves them out)")
    if lof.get("chi2_p_value", 1.0) < LACK_OF_FIT_P:
        warnings.append(f"lack of fit: chi^2 = {_fmt(chi2)} for {dof} degrees of freedom "
                        f"(p = {lof['chi2_p_value']:.2g}); the model or the given sigma do not describe the data")
    for name, where in pulled.items():
        warnings.append(f"lack of fit: the data pull {name} {where}; no physical value of it follows "
                        "them, and its one-sided interval reflects the bound rather than the data")
    if lof.get("runs_p_value", 1.0) < LACK_OF_FIT_P:
        warnings.append(f"lack of fit: the residuals deviate systematically (runs test on their signs, "
                        f"p = {lof['runs_p_value']:.2g}); the uncertainties assume a model that fits")
    if rounding:
        warnings.append("the model reproduces the data to rounding precision: are these data computed "
                        "rather than measured?")
    return lof, warnings
