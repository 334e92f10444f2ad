"""Fit results: values, uncertainties, diagnostics, text report, JSON.

Uncertainties
-------------
The covariance of the free parameters that are not on a bound is
(J^T J)^-1 with J the Jacobian of the weighted residuals with respect to the
*physical* parameter values at the optimum.  When every dataset of the fit
carries per-point sigma (``absolute_sigma``), this is the covariance as it
stands, unless the given sigma are too small for the scatter (chi^2 p-value
below 0.01: then it is scaled as below, with a warning, ``sigma_scaled``); otherwise the errors are unknown up to a constant and the covariance
is multiplied by the reduced chi^2 (chi^2 / dof): the scatter of the
residuals sets the error scale.  The same rule scales the profile intervals:
Delta chi^2 = 1 and 3.84 with sigma, else the F(1, dof) quantiles at 68.3 % and
95 % times the reduced chi^2 (the scale is estimated; 1.03 and 4.11 at dof = 36).  ``stderr`` is NaN for a
parameter on a physical bound (see ``intervals``: one-sided) and for one the
data do not determine (status ``"unidentified"``).

Status
------
The vocabulary is defined in :mod:`jtls.fit.inference`; :attr:`FitResult.ok`
is True only for ``"ok"``.
"""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np


def json_safe(x):
    """JSON-safe copy of nested dicts/lists/arrays (numpy scalars to Python, NaN/inf as strings)."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else repr(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.ndarray):
        return json_safe(x.tolist())
    return x


def write_json(obj, path) -> None:
    """Write ``obj`` to ``path`` as indented JSON via :func:`json_safe` (for fits/ scripts)."""
    with open(path, "w") as fh:
        json.dump(json_safe(obj), fh, indent=1)


def _unclean(x):
    if isinstance(x, dict):
        return {k: _unclean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unclean(v) for v in x]
    if x in ("nan", "inf", "-inf"):
        return float(x)
    return x


@dataclasses.dataclass
class FitResult:
    """Outcome of :func:`jtls.fit.fit`.

    Attributes
    ----------
    names : all parameter names (free and fixed) in order.
    values : {name: value}; fixed parameters at their held value.
    stderr : {name: standard error}; 0 for fixed parameters, NaN if undetermined.
    free : names of the free parameters (order of ``correlation``).
    fixed : {name: value} of the fixed parameters.
    bounds : {name: [lo, hi]}.
    correlation, covariance : (n_free, n_free) lists.
    chi2, reduced_chi2, dof, n_points : goodness of fit.
    absolute_sigma : per-point sigma given for every dataset (chi^2 in absolute units); the
        stderr are then taken as they come unless ``sigma_scaled``.
    sigma_scaled : the given sigma are too small for the scatter (chi^2 p-value < 0.01): stderr,
        intervals and tests are scaled by sqrt(reduced chi^2), as without sigma.
    residuals : {label: weighted residuals (list)} per dataset.
    n_steps, status, message, solver : convergence.
    weighting : {label: text} weighting used per dataset.
    observables, labels : per dataset; ``context`` {label: {omega, T_ref, ...}}.
    excluded : list of {"dataset", "T", "value", "reason"} points not fitted.
    data : {label: {"T": [...], "y": [...], "sigma": [...] | None}} fitted points.
    bootstrap : optional {"n": int, "level": float, "intervals": {name: [lo, hi] or None}}
        (None: zero width or undefined, no interval).
    at_bound : free parameters whose optimum is on a physical bound.
    warnings : sentences (near-degenerate pairs, lack of fit, open 95% intervals...).
    tests : {"NAME_zero": {"statistic", "p_value", ...}, "lack_of_fit": {...}}; a parameter held on
        its physical bound also has "beyond_statistic" and "beyond_p_value" (score test of values
        beyond the bound).
    intervals : {name: {"low", "high", "low95", "high95", "*_kind"}} profile intervals.
    unidentified : free parameters the data do not determine.
    identifiability : {"singular_values": [...], "information": {name: value}}.
    posterior : optional {name: {"mean", "sd", "q025", "q16", "q50", "q84", "q975", "r_hat", "ess"}}.

    Values and standard errors are in the units of the observable's
    parameters (for the built-in ones: ``C``, ``mu`` dimensionless, ``A`` in
    s^-1 K^-3, ``B`` in K^-(1+mu)); temperatures in K.  ``res["mu"]`` is
    ``res.values["mu"]``; :meth:`report` is the text report,
    :meth:`to_dict` / :meth:`from_dict` the JSON form.

    Examples
    --------
    A fit of Eq. (6) to a specific heat with 1 % noise (B = 2, mu = 0.1):

    >>> import numpy as np  # doctest: +SKIP
    >>> import jtls  # doctest: +SKIP
    >>> from jtls.fit import Model, fit  # doctest: +SKIP
    >>> T = np.geomspace(0.1, 1.0, 12)  # doctest: +SKIP
    >>> noise = 1 + 0.01 * np.random.default_rng(0).standard_normal(12)  # doctest: +SKIP
    >>> res = fit(Model("specific_heat"), (T, jtls.specific_heat(T, 2.0, 0.1) * noise))  # doctest: +SKIP
    >>> res.status, res.free, res.dof  # doctest: +SKIP
    ('ok', ['B', 'mu'], 10)
    >>> print(f"mu = {res['mu']:.3f} +- {res.stderr['mu']:.3f}")  # doctest: +SKIP
    mu = 0.097 +- 0.003
    """
    names: list
    values: dict
    stderr: dict
    free: list
    fixed: dict
    bounds: dict
    correlation: list
    covariance: list
    chi2: float
    reduced_chi2: float
    dof: int
    n_points: int
    absolute_sigma: bool
    residuals: dict
    n_steps: int
    status: str
    message: str
    solver: str
    weighting: dict
    observables: dict
    labels: list
    context: dict
    excluded: list
    data: dict = dataclasses.field(default_factory=dict)
    bootstrap: dict | None = None
    extra: dict = dataclasses.field(default_factory=dict)
    at_bound: list = dataclasses.field(default_factory=list)
    warnings: list = dataclasses.field(default_factory=list)
    tests: dict = dataclasses.field(default_factory=dict)
    intervals: dict = dataclasses.field(default_factory=dict)
    unidentified: list = dataclasses.field(default_factory=list)
    identifiability: dict = dataclasses.field(default_factory=dict)
    posterior: dict | None = None
    sigma_scaled: bool = False

    @property
    def sigma_as_given(self) -> bool:
        """Whether the uncertainties rest on the given per-point sigma as they are (chi^2 in
        absolute units, not scaled by the residual scatter)."""
        return self.absolute_sigma and not self.sigma_scaled

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __getitem__(self, name) -> float:
        return self.values[name]

    # -- text ---------------------------------------------------------------
    def report(self) -> str:
        """Readable multi-line report (parameters, fixed, weighting, excluded points)."""
        lines = []
        obs = ", ".join(f"{lab}: {self.observables[lab]}" for lab in self.labels)
        lines.append(f"jtls fit  [{obs}]  solver={self.solver}")
        lines.append(f"status: {self.status}" + (f"  ({self.message})" if self.message else ""))
        lines.append(f"chi2 = {self.chi2:.6g}   reduced chi2 = {self.reduced_chi2:.6g}   "
                     f"points = {self.n_points}   free = {len(self.free)}   dof = {self.dof}   "
                     f"steps = {self.n_steps}")
        for lab in self.labels:
            ctx = self.context.get(lab, {})
            ctx_s = ("  " + ", ".join(f"{k}={v:.6g}" for k, v in ctx.items())) if ctx else ""
            lines.append(f"weighting [{lab}]: {self.weighting[lab]}{ctx_s}")
        lines.append("uncertainties: " + (
            "from the given sigma (not rescaled)" if self.sigma_as_given else "scaled by sqrt(reduced chi2)"
            + (": the given sigma are too small for the scatter" if self.sigma_scaled else "")))
        lines.append("")
        has_iv = any(k in self.intervals for k in self.free)
        head = f"{'parameter':<16}{'value':>14} {'stderr':>12} {'rel.':>8}"
        if has_iv:
            head += f"  {'68% interval':>26}  {'95% interval':>26}"
        lines.append(head + "  bounds")
        for k in self.names:
            v, s = self.values[k], self.stderr[k]
            lo, hi = self.bounds[k]
            if k in self.fixed:
                lines.append(f"{k:<16}{v:>14.6g}{'(fixed)':>12}")
                continue
            if k in self.unidentified:
                se_s, rel = "undetermined", ""
            elif k in self.at_bound:
                se_s, rel = "(on bound)", ""
            else:
                se_s = f"{s:.3g}" if math.isfinite(s) else "n/a"
                rel = f"{abs(s / v) * 100:.2g}%" if v != 0 and math.isfinite(s) else ""
            row = f"{k:<16}{v:>14.6g} {se_s:>12} {rel:>8}"
            if has_iv:
                row += f"  {interval_text(self.intervals.get(k), ''):>26}  " \
                       f"{interval_text(self.intervals.get(k), '95'):>26}"
            lines.append(row + f"  [{lo:.3g}, {hi:.3g}]")
        if self.intervals:
            lines.append(("intervals: profile likelihood, Delta chi^2 = 1 (68.3%) and 3.84 (95%)"
                          if self.sigma_as_given else
                          f"intervals: profile likelihood, Delta chi^2 = F(1, {self.dof}) quantiles at 68.3% "
                          "and 95% in units of the reduced chi^2 (scale estimated from the residuals)") +
                         "; '<' marks an upper limit from a physical bound")
        if self.fixed:
            lines.append("fixed: " + ", ".join(f"{k}={v:.6g}" for k, v in self.fixed.items()))
        else:
            lines.append("fixed: none")
        tests = {k: v for k, v in self.tests.items() if k != "lack_of_fit"}
        if tests:
            lines.append("")
            lines.append("bound tests (likelihood ratio, boundary mixture):")
            for k, t in tests.items():
                if t["p_value"] is None:
                    lines.append(f"  {t['parameter']} = {t['bound']:g}: not tested (undetermined)")
                    continue
                beyond = (f"; beyond it (score test): statistic {t['beyond_statistic']:.4g}, "
                          f"p = {t['beyond_p_value']:.3g}") if "beyond_p_value" in t else ""
                lines.append(f"  {t['parameter']} = {t['bound']:g}: statistic {t['statistic']:.4g}, "
                             f"p = {t['p_value']:.3g}{beyond}")
        lof = self.tests.get("lack_of_fit")
        if lof:
            lines.append("lack-of-fit tests: " + ", ".join(f"{k} = {v:.3g}" for k, v in lof.items()))
        if self.warnings:
            lines.append("")
            for w in self.warnings:
                lines.append(f"warning: {w}")
        if self.posterior:
            lines.append("")
            lines.append(f"posterior (NUTS): {'parameter':<14}{'mean':>12}{'sd':>11}{'2.5%':>12}"
                         f"{'97.5%':>12}{'r_hat':>8}{'ess':>8}")
            for k, d in self.posterior.items():
                lines.append(f"  {'':<16}{k:<14}{d['mean']:>12.5g}{d['sd']:>11.3g}{d['q025']:>12.5g}"
                             f"{d['q975']:>12.5g}{d['r_hat']:>8.3f}{d['ess']:>8.0f}")
        if len(self.free) > 1:
            lines.append("")
            lines.append("correlation matrix:")
            lines.append(" " * 16 + "".join(f"{k:>10.9}" for k in self.free))
            for i, k in enumerate(self.free):
                lines.append(f"{k:<16.15}" + "".join(f"{c:>10.3f}" if math.isfinite(c) else f"{'--':>10}"
                                                      for c in self.correlation[i]))
        if self.bootstrap and self.bootstrap.get("skipped"):
            lines.append("")
            lines.append(f"bootstrap: skipped ({self.bootstrap['skipped']})")
        elif self.bootstrap:
            b = self.bootstrap
            lines.append("")
            lines.append(f"bootstrap: {b['n']} resamples, {b.get('n_ok', b['n'])} converged"
                         + (f" ({b['n_degenerate']} with too few distinct points)" if b.get("n_degenerate") else "")
                         + ", "
                         f"{100 * b['level']:.0f}% percentile intervals:")
            for k, iv in b["intervals"].items():
                lines.append(f"  {k:<14} " + (f"[{iv[0]:.6g}, {iv[1]:.6g}]" if iv is not None else
                                              "none (zero width or undefined: the resamples do not vary it)"))
        lines.append("")
        if self.excluded:
            lines.append(f"excluded points ({len(self.excluded)}):")
            for e in self.excluded:
                lines.append(f"  [{e['dataset']}] T = {e['T']:.6g} K, value = {e['value']:.6g}: {e['reason']}")
        else:
            lines.append("excluded points: none")
        return "\n".join(lines)

    def __str__(self):
        return self.report()

    # -- JSON ---------------------------------------------------------------
    def parameter_dict(self) -> dict:
        """{NAME: {"value", "stderr", "at_bound", "fixed"[, "low", "high", "low95", "high95"]}}:
        stderr is None where it is not a result (fixed, on a bound, undetermined)."""
        out = {}
        for k in self.names:
            s = self.stderr[k]
            ok_se = k not in self.fixed and k not in self.at_bound and k not in self.unidentified \
                and math.isfinite(s)
            d = {"value": self.values[k], "stderr": s if ok_se else None,
                 "at_bound": k in self.at_bound, "fixed": k in self.fixed}
            iv = self.intervals.get(k)
            if iv:
                for key in ("low", "high", "low95", "high95"):
                    d[key] = iv.get(key)
            out[k] = d
        return out

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        # the sampler object (all draws) stays in memory, not in the JSON
        d["extra"] = {k: v for k, v in self.extra.items() if k != "posterior"}
        d["parameters"] = self.parameter_dict()
        return json_safe(d)

    def to_json(self, path=None, indent=1) -> str:
        s = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w") as fh:
                fh.write(s + "\n")
        return s

    def summary_dict(self) -> dict:
        """The CLI's --json object (the documented output contract)."""
        d = {"parameters": self.parameter_dict(), "chi2": self.chi2,
             "reduced_chi2": self.reduced_chi2, "dof": self.dof, "status": self.status,
             "message": self.message, "warnings": list(self.warnings), "tests": self.tests,
             "absolute_sigma": self.absolute_sigma, "sigma_scaled": self.sigma_scaled}
        if self.posterior is not None:
            d["posterior"] = self.posterior
            info = self.extra.get("posterior_info")
            if info:
                d["posterior_info"] = info
        if self.bootstrap:
            d["bootstrap"] = self.bootstrap
        return json_safe(d)

    @classmethod
    def from_dict(cls, d: dict) -> "FitResult":
        d = _unclean(dict(d))
        d.pop("parameters", None)
        d["stderr"] = {k: (math.nan if v is None else v) for k, v in d["stderr"].items()}
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"FitResult JSON has unknown keys {sorted(unknown)}")
        missing = {f.name for f in dataclasses.fields(cls)
                   if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING} - set(d)
        if missing:
            raise ValueError(f"FitResult JSON lacks keys {sorted(missing)}")
        d["bounds"] = {k: tuple(v) for k, v in d["bounds"].items()}
        return cls(**d)

    @classmethod
    def from_json(cls, text_or_path: str) -> "FitResult":
        s = text_or_path
        if not s.lstrip().startswith("{"):
            with open(s) as fh:
                s = fh.read()
        return cls.from_dict(json.loads(s))


def interval_text(iv, level="", digits=4) -> str:
    """'[lo, hi]', '< hi' / '> lo' (one-sided at a physical bound) of a profile interval.

    An end on a search limit or at infinity (kind 'limit' / 'open') is written 'open' --
    the data do not bound the parameter there, so the limit's value is not a result; an
    end the profile scan could not locate is written 'not found'."""
    if not iv:
        return ""
    lo, hi = iv.get("low" + level), iv.get("high" + level)
    lk, hk = iv.get("low" + level + "_kind"), iv.get("high" + level + "_kind")
    if lo is None or hi is None:
        return ""

    def end(v, kind):
        if kind in ("open", "limit"):
            return "open"
        return f"{v:.{digits}g}" if math.isfinite(v) or math.isinf(v) else "not found"

    if lk == "physical" and hk != "physical":
        return "no upper limit" if hk in ("open", "limit") else f"< {end(hi, hk)}"
    if hk == "physical" and lk != "physical":
        return "no lower limit" if lk in ("open", "limit") else f"> {end(lo, lk)}"
    return f"[{end(lo, lk)}, {end(hi, hk)}]"
