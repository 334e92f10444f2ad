"""Rank candidate models of the SAME data: AICc, BIC, Akaike weights, nested boundary tests.

``compare(results, nested=None)`` takes ``{label: FitResult}`` -- fits of
different models to one and the same set of points -- and returns a
:class:`Comparison`.

Who competes
------------
Only fits whose status is ``"ok"`` (see :mod:`jtls.fit.inference`) are
ranked.  Every other fit (``unidentified``, ``at_limit``, ``max_steps``,
``stalled``, ``diverged``, ``nan``, ``no_dof``) is listed as *failed* with its
status and message; it gets no AICc difference, no weight and is never
called preferred, however low its chi^2.  A fit with too few points for the
AICc correction (N - k - 1 <= 0) is listed as not ranked.

Criteria
--------
N is the number of fitted points, k the number of estimated parameters.

* With per-point sigma (``absolute_sigma``):  -2 ln L = chi^2 + const and
  k = number of free parameters.
* Without sigma (one common unknown error, e.g. residuals of ln kappa):
  the error scale is estimated too, -2 ln L = N ln(chi^2 / N) + const and
  k = number of free parameters + 1.

When the given sigma are too small for the scatter even for the best-fitting
fit with status ok (its ``sigma_scaled``), they do not set the scale: the
no-sigma criteria are used, as the fits' own tests do.  Fits without sigma
that reproduce the data to rounding precision (computed data) have no error
scale and are not ranked; the comparison is then never decisive.  Fits of
different weighting (e.g. residuals of ln y against y - f) or of different
per-point sigma are refused: their chi^2 have no common scale.

(A free parameter that ends on a physical bound still counts: it was
estimated.)  Then

    AIC  = -2 ln L + 2 k
    AICc = AIC + 2 k (k + 1) / (N - k - 1)
    BIC  = -2 ln L + k ln N

Delta AICc is taken from the lowest AICc among the ranked fits, and the
Akaike weights are w_i = exp(-Delta_i / 2) / sum_j exp(-Delta_j / 2).  The
preferred model is the one with the lowest AICc; ``decisive`` is False when
the runner-up is within Delta AICc < 2 (the data then do not choose) or when
only one fit is ranked (nothing to choose from).

Nested tests
------------
``nested`` names pairs where one model is the other with extra parameters
held: ``{"Eq3": "STM"}`` (the larger model's label -> the smaller one's) or
``{"Eq3": {"null": "STM", "boundary": True, "extra": 1, "parameter": "mu"}}``.
The statistic is the drop in chi^2, t = chi^2(null) - chi^2(full) (tiny
negative values from rounding are clipped to 0), and

* ``boundary=True`` (default; the extra parameter switches off at a physical
  bound, e.g. mu = 0, the standard tunneling model, with mu >= 0): the
  likelihood-ratio statistic follows the mixture 1/2 chi2_0 + 1/2 chi2_1; without
  sigma t is divided by s^2 = chi^2(full) / dof(full) and the
  1/2 F(1, dof) mixture is used -- both via
  :func:`jtls.fit.inference.boundary_p_value` (one extra parameter only);
* ``boundary=False`` (the null value is inside the allowed range, e.g. a
  mu allowed to be negative): p = P(chi2_extra > t) with sigma, and the F
  test p = P(F(extra, dof) > (t / extra) / s^2) without.

A test needs both fits to have converged to a valid optimum (status
``"ok"``); otherwise it is reported as not done, with the reason.  A full
model whose chi^2 is clearly above the null's did not find its optimum: the
test is not done and a warning says so.
"""
from __future__ import annotations

import dataclasses
import math

from scipy import special

from .inference import boundary_p_value
from .result import json_safe

#: Delta AICc below which the runner-up is "as good" (no decisive preference).
DECISIVE_DELTA = 2.0


def fmt_num(x, spec: str = ".4g") -> str:
    """Format a number: None/NaN as '--', never '-0'."""
    if x is None:
        return "--"
    x = float(x)
    if not math.isfinite(x):
        return "--" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    s = format(x + 0.0, spec)
    return format(0.0, spec) if float(s) == 0.0 else s


def clip_delta(d: float, scale: float) -> float:
    """A chi^2 difference with rounding noise (|d| <= 1e-9 * scale + 1e-12) set to 0."""
    if d is None or not math.isfinite(d):
        return d
    return 0.0 if abs(d) <= 1e-9 * abs(scale) + 1e-12 else float(d)


@dataclasses.dataclass
class Candidate:
    """One model's line in a :class:`Comparison`."""
    label: str
    status: str
    message: str
    n_points: int
    n_free: int
    k: int
    chi2: float
    neg2lnL: float | None
    aicc: float | None
    bic: float | None
    ranked: bool
    delta_aicc: float | None = None
    delta_bic: float | None = None
    weight: float | None = None
    at_bound: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    why_not_ranked: str = ""


@dataclasses.dataclass
class Comparison:
    """Outcome of :func:`compare` (see the module docstring).

    Attributes
    ----------
    candidates : dict
        ``{label: Candidate}``: status, k, chi2, AICc, BIC, Akaike weight of
        every fit.
    preferred : str or None
        Label of the ranked fit with the lowest AICc (None: no fit is ok).
    decisive : bool
        Whether the preference is clear (see the module docstring).
    runner_up : str or None
        Second-ranked label.
    nested : dict
        ``{"full vs null": test}`` likelihood-ratio tests of nested pairs.
    absolute_sigma : bool
        Whether the fits used absolute per-point sigma.
    n_points : int
        Number of data points (the same for every fit).
    warnings : list of str
        Sentences for the report.

    Examples
    --------
    See :func:`compare`.  ``str(comparison)`` is the table of the report.

    >>> from jtls.fit import Comparison
    >>> sorted(Comparison.__dataclass_fields__)[:3]
    ['absolute_sigma', 'candidates', 'decisive']
    """
    candidates: dict
    preferred: str | None
    decisive: bool
    runner_up: str | None
    nested: dict
    absolute_sigma: bool
    n_points: int
    warnings: list

    @property
    def ranked(self) -> list:
        """Labels of the ranked fits, best first."""
        c = [v for v in self.candidates.values() if v.ranked]
        return [v.label for v in sorted(c, key=lambda v: v.aicc)]

    @property
    def failed(self) -> dict:
        """{label: status} of the fits that did not compete."""
        return {k: v.status for k, v in self.candidates.items() if v.status != "ok"}

    def to_dict(self) -> dict:
        return json_safe({
            "criterion": "AICc" + (" (-2 ln L = chi2, k = free parameters)" if self.absolute_sigma else
                                   " (-2 ln L = N ln(chi2/N), k = free parameters + 1 for the unknown "
                                   "error scale)"),
            "preferred": self.preferred, "decisive": self.decisive, "runner_up": self.runner_up,
            "ranked": self.ranked, "failed": self.failed, "absolute_sigma": self.absolute_sigma,
            "n_points": self.n_points, "warnings": list(self.warnings),
            "candidates": {k: dataclasses.asdict(v) for k, v in self.candidates.items()},
            "nested": self.nested})

    def table(self) -> str:
        """Readable text: one row per model, the nested tests and the verdict."""
        lines = [f"model comparison on {self.n_points} points "
                 f"({'given sigma: -2 ln L = chi2' if self.absolute_sigma else 'error scale estimated: -2 ln L = N ln(chi2/N), k includes it'})"]
        w = max([5] + [len(k) for k in self.candidates])
        lines.append(f"{'model':<{w}}  {'status':<12} {'k':>2} {'chi2':>11} {'AICc':>10} {'dAICc':>8} "
                     f"{'weight':>7} {'BIC':>10} {'dBIC':>8}")
        order = self.ranked + [k for k in self.candidates if k not in self.ranked]
        for k in order:
            c = self.candidates[k]
            if c.ranked:
                row = (f"{k:<{w}}  {c.status:<12} {c.k:>2} {fmt_num(c.chi2, '.5g'):>11} "
                       f"{fmt_num(c.aicc, '.5g'):>10} {fmt_num(c.delta_aicc, '.3g'):>8} "
                       f"{fmt_num(c.weight, '.3f'):>7} {fmt_num(c.bic, '.5g'):>10} "
                       f"{fmt_num(c.delta_bic, '.3g'):>8}")
                if k == self.preferred:
                    row += "  <- preferred" + ("" if self.decisive else " (not decisive)" if self.runner_up
                                               else " (only ranked fit)")
            else:
                row = (f"{k:<{w}}  {c.status:<12} {c.k:>2} {fmt_num(c.chi2, '.5g'):>11}  "
                       f"not ranked: {c.why_not_ranked}")
            lines.append(row)
        for name, t in self.nested.items():
            if t.get("p_value") is None:
                lines.append(f"nested {name}: not tested ({t.get('reason', '')})")
            else:
                lines.append(f"nested {name}: Delta chi2 = {fmt_num(t['delta_chi2'], '.4g')}, "
                             f"statistic = {fmt_num(t['statistic'], '.4g')}, p = {fmt_num(t['p_value'], '.3g')} "
                             f"[{t['distribution']}]")
        if self.preferred is None:
            lines.append("preferred: none (no fit with status ok)")
        else:
            c = self.candidates[self.preferred]
            s = f"preferred (lowest AICc): {self.preferred}, Akaike weight {fmt_num(c.weight, '.3f')}"
            if self.runner_up:
                s += (f"; next {self.runner_up} at Delta AICc "
                      f"{fmt_num(self.candidates[self.runner_up].delta_aicc, '.3g')}")
                if not self.decisive:
                    s += f" (< {DECISIVE_DELTA:g}: the data do not decide)"
            else:
                s += " (the only ranked fit: nothing to choose from)"
            lines.append(s)
        for k, st in self.failed.items():
            lines.append(f"failed (never preferred): {k} [{st}] {self.candidates[k].message}")
        for wn in self.warnings:
            lines.append(f"warning: {wn}")
        return "\n".join(lines)

    def __str__(self):
        return self.table()


def _kinds(r) -> tuple:
    """The residual kinds of a fit's datasets ((label, kind) pairs; from ``extra["kinds"]``, else
    the weighting texts)."""
    kinds = (getattr(r, "extra", None) or {}).get("kinds") or getattr(r, "weighting", None) or {}
    return tuple(sorted((str(k), str(v)) for k, v in kinds.items()))


def _rounding_level(r) -> bool:
    """Whether a fit without sigma reproduces its data to rounding precision (its chi^2 then
    carries no error scale; :func:`jtls.fit.stats.reproduced_to_rounding` on its stored data)."""
    import numpy as np
    from types import SimpleNamespace as NS
    from .stats import reproduced_to_rounding
    data = getattr(r, "data", None) or {}
    kinds = (getattr(r, "extra", None) or {}).get("kinds") or {}
    if not data or set(kinds) != set(data):
        return False
    pts = [NS(y=np.asarray(d["y"], float), sigma=None if d.get("sigma") is None else np.asarray(d["sigma"], float))
           for d in data.values()]
    problem = NS(points=pts, kinds=[kinds[k] for k in data])
    return reproduced_to_rounding(problem, float(r.chi2), all(k == "sigma" for k in problem.kinds))


def _check_same_points(results) -> None:
    """ValueError unless every fit holds the same points (T, y and sigma)."""
    import numpy as np
    datas = [r.data for r in results.values() if getattr(r, "data", None)]
    if len(datas) < 2:
        return

    def flat(d, key):
        parts = [np.asarray(v[key], float).ravel() for v in d.values() if v.get(key) is not None]
        return None if len(parts) != len(d) else np.concatenate(parts)
    ref = datas[0]
    for d in datas[1:]:
        for key in ("T", "y", "sigma"):
            a, b = flat(d, key), flat(ref, key)
            if (a is None) != (b is None) or (a is not None and (a.shape != b.shape or not np.allclose(a, b))):
                what = "points" if key != "sigma" else "per-point sigma (their chi^2 have no common scale)"
                raise ValueError(f"compare: the fits are not of the same data {what}")


def _criteria(chi2, N, n_free, absolute):
    """(k, -2 ln L, AICc, BIC, why-not) for one fit."""
    k = n_free if absolute else n_free + 1
    if not (chi2 is not None and math.isfinite(chi2) and chi2 >= 0):
        return k, None, None, None, "non-finite chi2"
    if absolute:
        m2l = chi2
    else:
        if chi2 <= 0:
            return k, None, None, None, "chi2 = 0 (exact fit): the error scale is not estimable"
        m2l = N * math.log(chi2 / N)
    bic = m2l + k * math.log(N)
    if N - k - 1 <= 0:
        return k, m2l, None, bic, f"N - k - 1 = {N - k - 1} <= 0 (AICc undefined)"
    aicc = m2l + 2 * k + 2.0 * k * (k + 1) / (N - k - 1)
    return k, m2l, aicc, bic, ""


def _nested_spec(full, spec):
    if isinstance(spec, str):
        return {"null": spec, "boundary": True, "extra": 1, "parameter": None}
    d = dict(spec)
    if "null" not in d:
        raise ValueError(f"nested[{full!r}]: needs 'null' (the label of the smaller model)")
    return {"null": d["null"], "boundary": bool(d.get("boundary", True)), "extra": int(d.get("extra", 1)),
            "parameter": d.get("parameter")}


def nested_test(full, null, *, boundary=True, extra=1) -> dict:
    """Likelihood-ratio test of ``null`` (FitResult, the smaller model) within ``full``; with the
    error scale estimated from the full fit's residuals (as in the fits' own tests) where it has no
    sigma or found them too small for the scatter (``sigma_scaled``)."""
    absolute = bool(full.absolute_sigma) and not bool(getattr(full, "sigma_scaled", False))
    dof = int(full.dof)
    d = clip_delta(null.chi2 - full.chi2, max(null.chi2, full.chi2))
    out = {"delta_chi2": d, "extra": extra, "boundary": boundary, "dof": dof}
    if boundary:
        out["distribution"] = "1/2 chi2_0 + 1/2 chi2_1" if absolute else "1/2 F(1, dof) mixture"
    else:
        out["distribution"] = f"chi2_{extra}" if absolute else f"F({extra}, dof)"
    bad = [f"{lab} is {r.status}" for lab, r in (("full", full), ("null", null)) if r.status != "ok"]
    if bad:
        return {**out, "statistic": None, "p_value": None, "reason": "; ".join(bad)}
    if not math.isfinite(d):
        return {**out, "statistic": None, "p_value": None, "reason": "non-finite chi2"}
    scale2 = 1.0 if absolute else full.chi2 / dof if dof > 0 else math.nan
    if d < 0:
        # the larger model can always reproduce the smaller: it missed its optimum
        if -d > 1e-6 * (scale2 if math.isfinite(scale2) else 1.0) + 1e-9 * null.chi2:
            return {**out, "statistic": None, "p_value": None,
                    "reason": "the larger model's chi2 is above the nested model's: its fit missed the optimum"}
        d = 0.0
        out["delta_chi2"] = 0.0
    if not (scale2 > 0 and math.isfinite(scale2)):
        return {**out, "statistic": None, "p_value": None, "reason": "no residual degrees of freedom"}
    t = d / scale2
    if boundary:
        if extra != 1:
            raise ValueError("the boundary mixture test is for one extra parameter")
        p = boundary_p_value(t, absolute, dof)
    elif absolute:
        p = float(special.chdtrc(extra, t)) if t > 0 else 1.0
    else:
        p = float(special.fdtrc(extra, dof, t / extra)) if t > 0 else 1.0
    return {**out, "statistic": t, "p_value": p}


def compare(results: dict, nested: dict | None = None) -> Comparison:
    """Rank ``{label: FitResult}`` fits of the same data by AICc and BIC (see the module docstring).

    Parameters
    ----------
    results : dict
        ``{label: FitResult}``, fits of the same points with the same weighting;
        only fits with status ``ok`` are ranked.
    nested : dict, optional
        ``{full_label: null_label}`` or ``{full_label: {"null": ..., "boundary": bool,
        "extra": int, "parameter": name}}``: pairs to test by the likelihood ratio
        (e.g. the power-law DOS against the standard tunneling model, mu = 0 on
        its physical bound).

    Returns
    -------
    Comparison
        Raises ValueError when the fits are not of the same points (different
        N or weighting) or a label is unknown.

    Examples
    --------
    Is mu > 0 needed?  The power-law DOS of Eq. (3) against the STM (mu = 0)
    on a specific heat made with mu = 0.1 and 1 % noise:

    >>> import numpy as np  # doctest: +SKIP
    >>> import jtls  # doctest: +SKIP
    >>> from jtls.fit import Model, compare, fit  # doctest: +SKIP
    >>> T = np.geomspace(0.1, 1.0, 12)  # doctest: +SKIP
    >>> y = jtls.specific_heat(T, 2.0, 0.1) * (1 + 0.01 * np.random.default_rng(0).standard_normal(12))  # doctest: +SKIP
    >>> fits = {"power law": fit(Model("specific_heat"), (T, y)),  # doctest: +SKIP
    ...         "STM": fit(Model("specific_heat", fixed={"mu": 0.0}), (T, y))}
    >>> cmp = compare(fits, nested={"power law": "STM"})  # doctest: +SKIP
    >>> cmp.preferred, cmp.decisive, cmp.nested["power law vs STM"]["p_value"] < 1e-6  # doctest: +SKIP
    ('power law', True, True)
    """
    if not results:
        raise ValueError("compare: no fits given")
    labels = list(results)
    Ns = {k: int(r.n_points) for k, r in results.items()}
    if len(set(Ns.values())) != 1:
        raise ValueError(f"compare: the fits are not of the same data (points: {Ns})")
    abs_ = {k: bool(r.absolute_sigma) for k, r in results.items()}
    if len(set(abs_.values())) != 1:
        raise ValueError(f"compare: mixed weighting (absolute sigma: {abs_}); compare fits of the same data "
                         "with the same weighting")
    kinds = {k: _kinds(r) for k, r in results.items()}
    if len(set(kinds.values())) != 1:
        raise ValueError(f"compare: the fits' weighting differs ({ {k: dict(v) for k, v in kinds.items()} }): "
                         "their chi^2 are in different units; compare fits of the same data with the same "
                         "weighting")
    N = Ns[labels[0]]
    warnings = []
    _check_same_points(results)
    # the given sigma describe the scatter unless even the best-fitting ok model finds them too small
    # (sigma_scaled): then the error scale is estimated, as in the fits' own tests
    oks = [r for r in results.values() if r.status == "ok" and r.chi2 is not None and math.isfinite(r.chi2)]
    best = min(oks, key=lambda r: r.chi2) if oks else None
    absolute = abs_[labels[0]] and not (best is not None and bool(getattr(best, "sigma_scaled", False)))
    if abs_[labels[0]] and not absolute:
        warnings.append("the given sigma are too small for the scatter even for the best-fitting model: "
                        "-2 ln L uses the error scale estimated from the residuals (as the fits' own "
                        "tests do), k includes it")
    exact = {k for k, r in results.items() if _rounding_level(r)}
    cands = {}
    for k, r in results.items():
        kk, m2l, aicc, bic, why = _criteria(float(r.chi2), N, len(r.free), absolute)
        if k in exact:
            m2l = aicc = bic = None
            why = ("chi2 at rounding level (the model reproduces the data to rounding precision): there "
                   "is no error scale to rank it with")
        ok = r.status == "ok"
        ranked = ok and aicc is not None
        if not ok:
            why = f"status {r.status}"
        cands[k] = Candidate(label=k, status=r.status, message=r.message, n_points=N, n_free=len(r.free),
                             k=kk, chi2=float(r.chi2), neg2lnL=m2l, aicc=aicc, bic=bic, ranked=ranked,
                             at_bound=list(getattr(r, "at_bound", []) or []),
                             warnings=list(getattr(r, "warnings", []) or []), why_not_ranked=why)
    ranked = [c for c in cands.values() if c.ranked]
    preferred = runner = None
    decisive = False
    if ranked:
        a0 = min(c.aicc for c in ranked)
        b0 = min(c.bic for c in ranked)
        ws = {c.label: math.exp(-0.5 * (c.aicc - a0)) for c in ranked}
        tot = sum(ws.values())
        for c in ranked:
            c.delta_aicc = clip_delta(c.aicc - a0, 1.0)
            c.delta_bic = clip_delta(c.bic - b0, 1.0)
            c.weight = ws[c.label] / tot
        order = sorted(ranked, key=lambda c: c.aicc)
        preferred = order[0].label
        runner = order[1].label if len(order) > 1 else None
        decisive = runner is not None and cands[runner].delta_aicc >= DECISIVE_DELTA and not exact
        if runner is None and len(cands) > 1:
            warnings.append(f"{preferred} is the only fit with status ok: preferred by default, not by the data")
    else:
        warnings.append("no fit has status ok: no model is preferred" if not exact else
                        "no fit is ranked: no model is preferred")
    for k in sorted(exact):
        warnings.append(f"{k} reproduces the data to rounding precision (computed rather than measured "
                        "data?): it is not ranked, and no preference among the other fits says it is worse")
    for k, c in cands.items():
        best = min(x.chi2 for x in ranked) if ranked else None
        if c.status != "ok" and ranked and c.chi2 < best - 1e-6 * abs(best):
            warnings.append(f"{k} has the lowest chi2 but its fit is {c.status}: not ranked")
    tests = {}
    for full, spec in (nested or {}).items():
        s = _nested_spec(full, spec)
        if full not in results or s["null"] not in results:
            raise ValueError(f"nested: unknown label {full!r} or {s['null']!r} (have {labels})")
        t = nested_test(results[full], results[s["null"]], boundary=s["boundary"], extra=s["extra"])
        if s["parameter"]:
            t["parameter"] = s["parameter"]
        t["full"], t["null"] = full, s["null"]
        if t.get("reason", "").startswith("the larger model"):
            warnings.append(f"{full} vs {s['null']}: {t['reason']}")
        tests[f"{full} vs {s['null']}"] = t
    return Comparison(candidates=cands, preferred=preferred, decisive=decisive, runner_up=runner,
                      nested=tests, absolute_sigma=absolute, n_points=N, warnings=warnings)
