"""The library's own statistical error in fits with the simulated DOS.

A library packed from K >= 4 annealing passes (``jtls library pack``) stores
its K delete-one-pass jackknife replicas (``Library.jk_delta_log_F``).  The
spread of a fitted parameter over the replicas,

    sigma_lib^2 = (K - 1)/K * sum_k (theta_k - mean theta)^2,

is its error from the finite number of simulated realizations -- the part a
fit's own standard error (which sees only the data's noise) leaves out.
``theta_k`` is obtained without refitting, by the linear response of the
optimum to the change of the model curve:

    theta_k - theta = -(J^T J)^-1 J^T (g_k - g),

with g the weighted model curve of the fit (f / sigma with per-point sigma,
ln f without), g_k the same curve computed with replica k's table, and J its
Jacobian in the free parameters at the optimum (one compiled, vmapped call
over the replicas).  Valid while the replicas move the optimum by much less
than its own error bar, which is the regime where the library is adequate at
all (``ratio_to_fit_error`` says where that stands).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

import jax
import jax.numpy as jnp

from .dos import Library, load_library
from .observables import _LOG_F_OVERRIDE, SUFFIX
from .pack import jackknife_sd

if TYPE_CHECKING:                      # jtls.fit imports nothing from here: no cycle at run time
    from ..fit.model import Model
    from ..fit.result import FitResult


def _curve(model, T, values, ctx, kind, sigma, log_F=None):
    token = _LOG_F_OVERRIDE.set(log_F)
    try:
        y = model.predict(T, values, ctx)
    finally:
        _LOG_F_OVERRIDE.reset(token)
    if kind == "log":
        return jnp.log(y)
    return y / sigma if kind == "sigma" else y


def library_spread(model: "Model", result: "FitResult", library: Library | None = None) -> dict:
    """Standard errors of the fitted parameters due to the library's finite number of realizations.

    Parameters
    ----------
    model : jtls.fit.Model
        The simulated-DOS model the fit used (``Model(..., dos="simulated")``).
    result : jtls.fit.FitResult
        Its result, one dataset.
    library : Library, optional
        The library the fit used (default: the active one, :func:`load_library`).

    Returns
    -------
    dict
        ``{"sigma": {name: sigma_lib}, "ratio_to_fit_error": {name: sigma_lib / stderr},
        "notes": [str], "shifts": {name: [theta_k - theta for k < K]}, "limits": {name: {end: sigma}},
        "replicas": K, "method": str}`` for every free parameter (same units as the parameter).
        A parameter on its physical bound has NaN in "sigma" and, in "limits", the library error
        of each end of its one-sided profile interval that the profile located (``"high"``,
        ``"high95"``, ...: the keys of ``result.intervals``), by the linear response of that end
        (one held refit at the end).

    Raises
    ------
    ValueError
        If the model is not a simulated-DOS model, the result holds several datasets or is not
        ``ok``, or the library has no jackknife replicas (packed from fewer than 4 passes).

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls.fit import Model, fit
    >>> from jtls.simulated.dos import load_library
    >>> from jtls.simulated.uncertainty import library_spread
    >>> T = np.geomspace(0.05, 2.0, 30)
    >>> y = np.asarray(jtls.thermal_conductivity_dos(T, load_library().dos(0.15, 10.0)))
    >>> y = y * (1 + 0.01 * np.random.default_rng(1).standard_normal(30))
    >>> model = Model("thermal_conductivity", dos="simulated")
    >>> res = fit(model, (T, y))
    >>> out = library_spread(model, res)
    >>> out["replicas"] >= 4 and 0.0 < out["sigma"]["J0_h0"] < 0.02
    True
    """
    lib = load_library() if library is None else library
    if not model.name.endswith(SUFFIX):
        raise ValueError(f"argument 'model': {model.name!r} does not use the simulated DOS")
    if len(result.labels) != 1:
        raise ValueError(f"argument 'result': {len(result.labels)} datasets; library_spread takes a fit of one")
    if not result.ok:
        raise ValueError(f"argument 'result': status {result.status!r}; a failed fit has no error to propagate")
    K = lib.n_replicas
    if K < 2:
        raise ValueError(f"library {lib.path} holds no jackknife replicas (packed from fewer than 4 passes); "
                         "repack it with 'jtls library pack' from a build with at least 4 passes")
    label = result.labels[0]
    d = result.data[label]
    T = jnp.asarray(d["T"], dtype=float)
    sigma = None if d.get("sigma") is None else jnp.asarray(d["sigma"], dtype=float)
    kind = model.residual_kind(sigma is not None)
    ctx = {k: v for k, v in result.context.get(label, {}).items() if k in model.observable.context}
    free = list(result.free)
    theta = jnp.asarray([result.values[k] for k in free], dtype=float)
    base = dict(result.values)

    def g(th, log_F=None):
        vals = dict(base)
        vals.update({k: th[i] for i, k in enumerate(free)})
        return _curve(model, T, vals, ctx, kind, sigma, log_F)

    @jax.jit
    def curves(th, tables):          # one compiled call: curve, its Jacobian, the K replica curves
        return g(th), jax.jacfwd(g)(th), jax.vmap(lambda t: g(th, t))(tables)

    tables = jnp.asarray(lib.log_F[None] + lib.jk_delta_log_F)
    g0, J, gk = (np.asarray(a) for a in curves(theta, tables))
    scale = np.linalg.norm(J, axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    dth = -np.linalg.lstsq(J / scale, (gk - g0[None]).T, rcond=None)[0].T / scale  # (K, n_free)
    spread = jackknife_sd(dth)
    # on a bound the linear response of the value does not apply (at J0/h0 = 0 the exact row makes it
    # 0): the result there is a one-sided interval, whose end gets its own library error
    sig = {k: (math.nan if k in result.at_bound else float(spread[i])) for i, k in enumerate(free)}
    ratio = {k: (sig[k] / result.stderr[k] if result.stderr.get(k) and math.isfinite(result.stderr[k])
                 and result.stderr[k] > 0 else math.nan) for k in free}
    limits = {k: _limit_sigmas(model, result, k, (sigma, kind, g0, gk, tables), curves)
              for k in free if k in result.at_bound}
    notes = [f"{k} is on its physical bound: its value has no library error; the library error of its "
             f"one-sided interval's end is in 'limits'" for k in free if k in result.at_bound]
    return {"sigma": sig, "ratio_to_fit_error": ratio, "replicas": K, "notes": notes,
            "shifts": {k: [float(x) for x in dth[:, i]] for i, k in enumerate(free)}, "limits": limits,
            "method": f"delete-one-pass jackknife over the library's {K} passes, linear response of the optimum"}


def _limit_sigmas(model, result, name, at_optimum, curves) -> dict:
    """{end key ('high', 'high95', ...): library error of that end of the one-sided profile interval
    of ``name``} by the linear response of the end to each replica (module docstring of
    :mod:`jtls.fit.profile` for the interval).

    The end x_e solves D(x_e) = (chi2_p(x_e) - chi2_min) / s^2 = level.  A replica changes the
    weighted model curve by g_k - g; to first order (envelope theorem: the other parameters are
    at their optima) chi2_p(x_e) moves by -2 r_e . (g_k - g)_e and chi2_min by -2 r_0 . (g_k - g)_0,
    so x_e moves by -dD_k / D'(x_e), with D'(x_e) = -2 r_e . dg/dx_e / s^2.  The held optimum at x_e
    is refitted (:func:`jtls.fit.fit` with ``name`` fixed there).  ``at_optimum``: (sigma, weighting
    kind, weighted curve g0 and replica curves gk at the optimum, replica tables) from
    :func:`library_spread`, which computed them."""
    from ..fit import fit as _fit
    sigma, kind, g0, gk0, tables = at_optimum
    iv = result.intervals.get(name) or {}
    label = result.labels[0]
    d = result.data[label]
    y = np.asarray(d["y"], float)
    yw = np.log(y) if kind == "log" else (y / np.asarray(sigma) if kind == "sigma" else y)
    free = list(result.free)
    r0 = yw - g0
    chi2_min = float(r0 @ r0)
    n_pts = y.size
    scale2 = 1.0 if kind == "sigma" else chi2_min / max(n_pts - len(free), 1)
    dmin = -2.0 * (gk0 - g0[None]) @ r0                  # (K,) d chi2_min per replica
    out = {}
    for key in ("low", "high", "low95", "high95"):
        if iv.get(key + "_kind") != "crossing" or not math.isfinite(iv.get(key, math.nan)):
            continue
        xe = float(iv[key])
        data = (np.asarray(d["T"]), y) if sigma is None else (np.asarray(d["T"]), y, np.asarray(sigma))
        fixed = {k: v for k, v in result.values.items() if k not in free} | {name: xe}
        held = _fit(model, data, fix=fixed, initial={k: result.values[k] for k in free if k != name}, scan=False)
        if held.status not in ("ok", "unidentified", "at_limit"):     # the solver itself failed
            continue
        th = jnp.asarray([held.values[k] for k in free], dtype=float)
        ge, Je, gke = (np.asarray(a) for a in curves(th, tables))
        re = yw - ge
        chi2_p = float(re @ re)
        de = -2.0 * (gke - ge[None]) @ re                                # (K,) d chi2_p per replica
        if kind == "sigma":
            dD = de - dmin
        else:                       # s^2 = chi2_min / dof moves too
            dof = max(n_pts - len(free), 1)
            dD = dof * (de / chi2_min - chi2_p * dmin / chi2_min ** 2)
        slope = -2.0 * float(re @ Je[:, free.index(name)]) / scale2
        if not (math.isfinite(slope) and abs(slope) > 0):
            continue
        out[key] = float(jackknife_sd(-dD / slope))
    return out


def library_error(model: "Model", result: "FitResult") -> tuple[dict, str]:
    """:func:`library_spread` for reports, with one line of text (``jtls fit --dos simulated``).

    Parameters
    ----------
    model : jtls.fit.Model
        The simulated-DOS model of the fit.
    result : jtls.fit.FitResult
        Its result (status ok, one dataset).

    Returns
    -------
    tuple of (dict, str)
        The dict of :func:`library_spread` -- or ``{"note": why}`` when the library holds no
        replicas -- and a line naming the library error of ``J0_h0`` (and ``h0`` when free).

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls.fit import Model, fit
    >>> from jtls.simulated.dos import load_library
    >>> from jtls.simulated.uncertainty import library_error
    >>> T = np.geomspace(0.05, 2.0, 30)
    >>> y = np.asarray(jtls.specific_heat_dos(T, load_library().dos(0.25, 10.0)))
    >>> y = y * (1 + 0.01 * np.random.default_rng(2).standard_normal(30))
    >>> model = Model("specific_heat", dos="simulated")
    >>> out, text = library_error(model, fit(model, (T, y)))
    >>> text.startswith("library error") and "J0_h0 +-" in text
    True
    """
    try:
        out = library_spread(model, result)
    except ValueError as exc:
        return {"note": str(exc)}, f"library error: not available ({exc})"
    def limit_text(k):
        ends = {e: v for e, v in out["limits"].get(k, {}).items() if math.isfinite(v)}
        if not ends:
            return f"{k}: on its physical bound, no interval end to propagate"
        return f"{k} (on its physical bound): " + ", ".join(
            f"{'upper' if e.startswith('high') else 'lower'} limit ({'95' if e.endswith('95') else '68'} %) "
            f"+- {v:.3g}" for e, v in sorted(ends.items()))
    parts = [(f"{k} +- {v:.3g}" + (f" ({out['ratio_to_fit_error'][k]:.2f} x its fit error)"
                                    if math.isfinite(out["ratio_to_fit_error"][k]) else ""))
             if math.isfinite(v) else limit_text(k)
             for k, v in out["sigma"].items() if k in ("J0_h0", "h0")]
    return out, ("library error (finite number of simulated realizations, jackknife over "
                 f"{out['replicas']} passes; not included above): " + ", ".join(parts))
