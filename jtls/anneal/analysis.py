"""Analyses of annealer output (Churkin et al. 2021, Sec. III A, Fig. 1, App. D).

* :func:`fit_eq3` -- Eq. (3), n(T, E) = B (T^2 + E^2)^(mu/2), fitted at one
  temperature to the histogram in 0 < E < 2T ("best fitting in the energy
  regime 0 < E < 2T", as for Table II), weighted least squares with Poisson
  errors of the counts; the model is averaged over each bin (4-point
  Gauss-Legendre).  Errors are the 1-sigma errors from the covariance with
  the Poisson weights (not rescaled by chi^2).
  Each row gets an honest ``status`` (``"ok"`` only when the row is a
  result; ``ok`` True/False says the same): not "ok" when the fit failed,
  when mu lies above the range the fits allow, :data:`MU_RANGE` = [0, 1]
  (1 is jtls.fit's search limit of mu), when mu's error exceeds half that range or B's error
  exceeds a factor 10 (the unidentified rules of :mod:`jtls.fit.inference`),
  when the errors are not finite, or when the window holds most TLSs (Eq. 3
  is a low-energy form).  A chi^2 lack of fit (p < 0.01 with the Poisson
  errors) or a |corr(B, mu)| > 0.99 is a warning in ``warnings``, as in
  jtls.fit.  mu >= 0 is Eq. 3's pseudogap, the physical bound of jtls.fit's
  mu: a fit below it within its noise (p >= 0.01 for the pull below) is the
  result mu = 0 on the bound, with a one-sided upper limit (``at_bound``,
  ``mu_upper95``), as jtls.fit reports it; a significant pull below is "out of
  range".
* :func:`fit_table` -- the B(T), mu(T) table for every temperature of a run.
* :func:`fit_gaussian` -- Gaussian norm exp(-E^2/2 s^2)/(s sqrt(2 pi)) over
  all energies (paper: s = 21.53 K at J0 = 2 K, lowest T, Fig. 1a).
* :func:`fit_zero_T_power` -- n ∝ E^mu of the relaxed T -> 0 state (Fig. 1b
  inset; paper: mu ~ 0.2 and 0.27 for J0 = 2 and 3 K), on log-spaced bins.

All take the arrays of a run file (see :func:`load`).
"""
from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import chi2 as _chi2

chi2_sf = _chi2.sf

_GL_X, _GL_W = np.polynomial.legendre.leggauss(4)

#: Range of mu an Eq. (3) row may report as a result (jtls.fit's bounds of mu: 0 physical, 1 search limit).
MU_RANGE = (0.0, 1.0)
#: Rounding tolerance of the range test (a flat histogram gives mu = -1e-9).
MU_TOL = 1e-6
#: mu's standard error above this fraction of MU_RANGE's width: mu not determined (jtls.fit.inference rule).
MU_ERR_MAX = 0.5
#: B's relative error above this (standard error of ln B > ln 10): B not determined.
LN_B_ERR_MAX = math.log(10.0)
#: chi^2 p-value below which a row gets a lack-of-fit warning.
LACK_OF_FIT_P = 0.01


def load(path) -> dict:
    """Arrays of an annealer output file; ValueError naming the file if it is not one."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"file {path!s} not found")
    from .files import load_output
    d = load_output(path)
    for key in ("T", "counts", "E_edges_fine", "n_tls_total", "counts_relaxed", "E_edges", "dos"):
        if key not in d:
            raise ValueError(f"file {path!s}: missing array {key!r} (expected jtls anneal output)")
    try:
        d["meta"] = json.loads(str(d["meta"])) if "meta" in d else {}
    except ValueError as exc:
        raise ValueError(f"file {path!s}: array 'meta' is not valid JSON ({exc})") from None
    T, c, e, n = (np.asarray(d[k]) for k in ("T", "counts", "E_edges_fine", "n_tls_total"))
    bad = None
    if T.ndim != 1 or not T.size or not np.all(np.isfinite(T)) or not np.all(T > 0):
        bad = "'T' must be a non-empty 1-d array of finite temperatures > 0"
    elif e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or not np.all(np.diff(e) > 0):
        bad = "'E_edges_fine' must be increasing finite bin edges"
    elif c.ndim != 2 or c.shape[0] != T.size or c.shape[1] not in (e.size - 1, e.size):
        bad = (f"'counts' has shape {c.shape}, expected ({T.size}, {e.size - 1} or {e.size}): one "
               "histogram row per temperature")
    elif c.dtype.kind not in "iu" or (c.size and c.min() < 0):
        bad = f"'counts' must hold non-negative integers (dtype {c.dtype}, smallest {c.min() if c.size else 0})"
    elif n.shape != () or n.dtype.kind not in "iu" or int(n) <= 0:
        bad = f"'n_tls_total' must be one integer > 0, got {n!r}"
    else:
        bad = _totals_problem(d["meta"], c, e, int(n), T)
    if bad:
        raise ValueError(f"file {path!s}: {bad} (expected jtls anneal output)")
    return d


def _totals_problem(meta, c, e, n: int, T):
    """For a file whose metadata says it is a ``jtls anneal`` run (realizations, TLSs per realization):
    what contradicts it -- 'n_tls_total' other than realizations x TLSs, or (histograms with the
    overflow bin) a temperature whose counts do not hold every TLS once; else None.  An output
    without a checksum (older versions) is checked only so."""
    if not isinstance(meta, dict) or not isinstance(meta.get("params"), dict):
        return None
    real, per = meta.get("realizations"), meta["params"].get("n_tls")
    if isinstance(real, int) and isinstance(per, int) and n != real * per:
        return (f"'n_tls_total' = {n} is not realizations x TLSs = {real} x {per} of its metadata: the file "
                "was edited or is damaged")
    if c.shape[1] == e.size and np.any(c.sum(axis=1) != n):
        t = int(np.argmax(c.sum(axis=1) != n))
        return (f"'counts' at T = {T[t]:g} K sums to {int(c[t].sum())}, not 'n_tls_total' = {n} (every TLS is "
                "counted once per temperature): the file was edited or is damaged")
    return None


def _regroup(edges, counts, lo, hi, nbins, log=False):
    """Merge fine bins inside [lo, hi] into about nbins groups (equal width, or equal in log E)."""
    e = np.asarray(edges, float)
    i0 = int(np.searchsorted(e, lo - 1e-12))
    i1 = int(np.searchsorted(e, hi + 1e-12, side="right")) - 1
    if i1 - i0 < 1:
        return np.array([]), np.array([], np.int64)
    sub = e[i0:i1 + 1]
    c = np.asarray(counts, np.int64)[i0:i1]
    if log:
        lo_ = max(sub[0], sub[1] if sub[0] == 0 else sub[0])
        targets = np.geomspace(lo_, sub[-1], nbins + 1)
    else:
        targets = np.linspace(sub[0], sub[-1], nbins + 1)
    cut = np.unique(np.clip(np.searchsorted(sub, targets), 0, sub.size - 1))
    if log and sub[0] == 0:
        cut = cut[cut >= 1]
    cut = np.unique(np.concatenate([cut[:1], cut, [sub.size - 1]]))
    cum = np.concatenate([[0], np.cumsum(c)])
    return sub[cut], cum[cut[1:]] - cum[cut[:-1]]


def _bin_average(f, edges):
    a, b = edges[:-1, None], edges[1:, None]
    x = 0.5 * (a + b) + 0.5 * (b - a) * _GL_X[None, :]
    return 0.5 * (f(x) * _GL_W[None, :]).sum(-1)


def _density(edges, counts, n_tls):
    w = np.diff(edges)
    n = counts / (2.0 * n_tls * w)
    sig = np.sqrt(np.maximum(counts, 1.0)) / (2.0 * n_tls * w)
    return n, sig


def fit_eq3(T, edges, counts, n_tls, nbins=16, window=2.0, min_counts=20):
    """Fit Eq. (3) at temperature T (K) in 0 < E < window*T.

    edges (nF+1,) fine bin edges (K), counts (nF,) or (nF+1,) (overflow ignored),
    n_tls = number of TLSs in the histogram.  Returns a dict with T, B, B_err, mu,
    mu_err, chi2_red, chi2_p, corr, n_counts, bins, at_bound, status ("ok", or a sentence
    starting with why the row is not a result: "window", "too few counts",
    "fit failed", "no_dof", "ill-conditioned", "out of range", "unidentified", "not applicable"),
    ok (status == "ok") and warnings (list of sentences).  A fit below mu's physical bound 0
    (within :data:`MU_ERR_MAX`) is the result mu = 0, ``at_bound`` True, B refitted there,
    ``mu_err`` None and the one-sided limits ``mu_upper68`` / ``mu_upper95`` (where chi^2 rises
    by 1 / 3.84 above its value on the bound, quadratic approximation); ``mu_beyond_p`` is the
    p-value of the pull below the bound.  A pull with p < 0.01 (a DOS falling with energy, which
    Eq. 3 cannot follow with mu >= 0) stays "out of range".
    """
    out = {"T": float(T), "B": None, "B_err": None, "mu": None, "mu_err": None,
           "chi2_red": None, "chi2_p": None, "corr": None, "n_counts": 0, "bins": 0, "at_bound": False,
           "status": "ok", "ok": False, "warnings": []}
    e, c = _regroup(edges, np.asarray(counts)[: len(edges) - 1], 0.0, window * T, nbins)
    out["n_counts"] = int(c.sum()) if c.size else 0
    out["bins"] = int(c.size)
    if c.size < 3:
        out["status"] = f"window 0 < E < {window:g} T narrower than 3 histogram bins"
        return out
    if c.sum() < min_counts or np.count_nonzero(c) < 3:
        out["status"] = f"too few counts in 0 < E < {window:g} T ({int(c.sum())})"
        return out
    n, sig = _density(e, c.astype(float), n_tls)

    def model(_, B, mu):
        return _bin_average(lambda E: B * (T * T + E * E) ** (0.5 * mu), e)

    B0 = max(n.mean(), 1e-12)
    try:
        with warnings.catch_warnings():       # ill-conditioned fits are reported in "status"
            warnings.simplefilter("ignore")
            p, cov = curve_fit(model, np.zeros(c.size), n, p0=(B0, 0.1), sigma=sig,
                               absolute_sigma=True, maxfev=20000)
    except (RuntimeError, ValueError) as exc:
        out["status"] = f"fit failed: {exc}"
        return out
    with np.errstate(invalid="ignore"):
        perr = np.sqrt(np.diag(cov))
    lo, hi = MU_RANGE
    usable = np.all(np.isfinite(p)) and np.all(np.isfinite(perr)) and perr[1] <= MU_ERR_MAX * (hi - lo)
    t = float((p[1] - lo) / perr[1]) ** 2 if usable else math.inf      # the pull below the bound
    p_beyond = 0.5 * float(chi2_sf(t, 1))
    if usable and p[1] < lo - MU_TOL and p[0] > 0 and p_beyond >= LACK_OF_FIT_P:
        # below the physical bound mu = 0 within the noise: the result is mu = 0 with a one-sided
        # limit, B held there.  (A significant pull below it -- a DOS falling with energy, which
        # Eq. 3 at mu = 0, a flat DOS, cannot follow -- stays "out of range".)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pb, covb = curve_fit(lambda _, B: model(None, B, lo), np.zeros(c.size), n, p0=(p[0],),
                                     sigma=sig, absolute_sigma=True, maxfev=20000)
        except (RuntimeError, ValueError) as exc:
            out["status"] = f"fit failed: {exc}"
            return out
        up = {lev: float(p[1] + math.sqrt((p[1] - lo) ** 2 + d * perr[1] ** 2))
              for lev, d in (("68", 1.0), ("95", 3.841458820694124))}
        out.update(at_bound=True, mu_upper68=up["68"], mu_upper95=up["95"], mu_beyond_p=p_beyond)
        p = np.array([pb[0], lo])
        perr = np.array([math.sqrt(covb[0, 0]) if np.isfinite(covb[0, 0]) else math.nan, math.nan])
        npar = 1
    else:
        npar = 2
    r = (model(None, *p) - n) / sig
    dof = c.size - npar
    chi2 = float(r @ r)
    out.update(B=float(p[0]), B_err=float(perr[0]), mu=float(p[1]),
               mu_err=float(perr[1]) if npar == 2 else None, chi2_red=float(chi2 / max(dof, 1)))
    if dof > 0:
        out["chi2_p"] = float(chi2_sf(chi2, dof))
        if out["chi2_p"] < LACK_OF_FIT_P:
            out["warnings"].append(f"lack of fit: chi^2 = {chi2:.4g} for {dof} degrees of freedom "
                                   f"(p = {out['chi2_p']:.2g}) with the Poisson errors")
    if npar == 2 and np.all(np.isfinite(perr)) and np.all(perr > 0):
        out["corr"] = float(cov[0, 1] / (perr[0] * perr[1]))
        if abs(out["corr"]) > 0.99:
            out["warnings"].append(f"B and mu are nearly degenerate (correlation {out['corr']:+.4f})")
    frac = c.sum() / n_tls
    mu_s = f"mu = {p[1]:.3g} ± {perr[1]:.2g}"
    if frac > 0.5:
        # Eq. (3) describes the low-energy part of the DOS; a window holding most TLSs is not that
        out["status"] = (f"not applicable: 0 < E < {window:g} T holds {100 * frac:.0f} % of all TLSs "
                         "(Eq. 3 is a low-energy form)")
    elif dof <= 0:
        out["status"] = f"no_dof: {c.size} bins for 2 parameters"
    elif not (np.all(np.isfinite(p)) and np.all(np.isfinite(perr[:npar]))):
        out["status"] = "ill-conditioned: non-finite parameter errors"
    elif not p[0] > 0:
        out["status"] = f"out of range: B = {p[0]:.3g} <= 0 (a density)"
    elif npar == 2 and perr[1] > MU_ERR_MAX * (hi - lo):
        out["status"] = (f"unidentified: {mu_s}, error above {MU_ERR_MAX:g} of mu's range "
                         f"[{lo:g}, {hi:g}]: the window does not determine mu")
    elif not lo - MU_TOL <= p[1] <= hi + MU_TOL:
        below = f", p = {p_beyond:.2g} for mu >= 0" if p[1] < lo else ""
        out["status"] = (f"out of range: {mu_s} outside {lo:g} <= mu <= {hi:g}{below} (mu >= 0: Eq. 3's "
                         f"pseudogap; mu <= {hi:g}: the range jtls.fit allows)")
    elif perr[0] / p[0] > LN_B_ERR_MAX:
        out["status"] = f"unidentified: B = {p[0]:.3g} ± {perr[0]:.2g}, error above a factor 10"
    out["ok"] = out["status"] == "ok"
    return out


def mu_text(row) -> str:
    """mu of a :func:`fit_eq3` row as text: ``0.123 ± 0.02``, or ``0 (bound), < 0.05 (95%)``."""
    if row.get("at_bound"):
        return f"0 (bound), < {row['mu_upper95']:.3g} (95%)"
    return f"{row['mu']:.3f} ± {row['mu_err']:.3f}"


def fit_table(data, temperatures=None, **kw) -> list[dict]:
    """Eq. (3) fits for every temperature of a run (or those listed), ascending T."""
    T = np.asarray(data["T"], float)
    rows = []
    for i, t in enumerate(T):
        if temperatures is not None and not np.any(np.isclose(t, temperatures, rtol=1e-9)):
            continue
        rows.append(fit_eq3(t, data["E_edges_fine"], data["counts"][i], int(data["n_tls_total"]), **kw))
    return rows


def fit_gaussian(data, row=None):
    """Gaussian fit of the DOS over all energies at the lowest T (or T row index ``row``).

    Returns dict(sigma, sigma_err, norm, norm_err, T).  The fitted norm is the
    fraction of states described (1 for a perfect Gaussian).
    """
    i = int(np.argmin(data["T"])) if row is None else int(row)
    edges = np.asarray(data["E_edges"], float)
    c = data["counts_coarse"][i].astype(float) if "counts_coarse" in data else None
    if c is None:
        raise ValueError("run file lacks 'counts_coarse'")
    n_tls = int(data["n_tls_total"])
    n, sig = _density(edges, c, n_tls)

    def model(_, s, a):
        return _bin_average(lambda E: a * np.exp(-0.5 * (E / s) ** 2) / (s * math.sqrt(2 * math.pi)), edges)

    p, cov = curve_fit(model, np.zeros(c.size), n, p0=(20.0, 1.0), sigma=sig, absolute_sigma=True)
    e = np.sqrt(np.diag(cov))
    return {"T": float(data["T"][i]), "sigma": float(p[0]), "sigma_err": float(e[0]),
            "norm": float(p[1]), "norm_err": float(e[1])}


def fit_zero_T_power(data, E_min=0.05, E_max=2.0, nbins=12, relaxed=True):
    """Fit n = A E^mu to the relaxed final state (or the lowest-T row) in [E_min, E_max] K.

    Weighted least squares on log-spaced bins (model averaged over each bin).
    Returns dict(mu, mu_err, A, A_err, E_min, E_max, n_counts).
    """
    counts = data["counts_relaxed"] if relaxed else data["counts"][int(np.argmin(data["T"]))]
    edges = data["E_edges_fine"]
    e, c = _regroup(edges, np.asarray(counts)[: len(edges) - 1], E_min, E_max, nbins, log=True)
    if c.size < 3 or np.count_nonzero(c) < 3:
        raise ValueError(f"too few counts for the power-law fit in [{E_min}, {E_max}] K")
    n, sig = _density(e, c.astype(float), int(data["n_tls_total"]))

    def model(_, A, mu):
        return _bin_average(lambda E: A * E ** mu, e)

    p, cov = curve_fit(model, np.zeros(c.size), n, p0=(n.mean(), 0.2), sigma=sig, absolute_sigma=True)
    err = np.sqrt(np.diag(cov))
    return {"mu": float(p[1]), "mu_err": float(err[1]), "A": float(p[0]), "A_err": float(err[0]),
            "E_min": E_min, "E_max": E_max, "n_counts": int(c.sum())}
