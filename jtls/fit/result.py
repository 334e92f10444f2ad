"""Fit results: values, uncertainties, diagnostics, text report, JSON.

Uncertainties
-------------
The covariance of the free parameters is (J^T J)^-1 with J the Jacobian of
the weighted residuals with respect to the *physical* parameter values at the
optimum (not the internal transformed variables).  When every dataset of the
fit carries per-point sigma (``absolute_sigma``), this is the covariance as
it stands; otherwise the errors are unknown up to a constant and the
covariance is multiplied by the reduced chi^2 (chi^2 / (N - n_free)), i.e.
the scatter of the residuals sets the error scale.  ``stderr`` is the square
root of its diagonal, ``correlation`` the normalised matrix.

Status
------
``"ok"`` only when the solver converged with finite residuals, no free
parameter sits at a bound and J^T J is invertible.  Otherwise one of
``"nan"`` (non-finite residuals), ``"max_steps"``, ``"stalled"``,
``"at_bound"`` (parameters listed in ``message``), ``"singular"`` (a
parameter is not determined by the data) or ``"no_dof"`` (fewer points than
free parameters); :attr:`FitResult.ok` is True only for ``"ok"``.
"""
from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

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
    absolute_sigma : stderr taken as is (True) or scaled by reduced chi^2.
    residuals : {label: weighted residuals (list)} per dataset.
    n_steps, status, message, solver : convergence.
    weighting : {label: text} weighting used per dataset.
    observables, labels : per dataset; ``context`` {label: {omega, T_ref, ...}}.
    excluded : list of {"dataset", "T", "value", "reason"} points not fitted.
    data : {label: {"T": [...], "y": [...], "sigma": [...] | None}} fitted points.
    bootstrap : optional {"n": int, "level": float, "intervals": {name: [lo, hi]}}.
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
        lines.append("uncertainties: " + ("from the given sigma (not rescaled)" if self.absolute_sigma
                                           else "scaled by sqrt(reduced chi2)"))
        lines.append("")
        lines.append(f"{'parameter':<16}{'value':>16}{'stderr':>14}{'rel.':>9}  bounds")
        for k in self.names:
            v, s = self.values[k], self.stderr[k]
            lo, hi = self.bounds[k]
            if k in self.fixed:
                lines.append(f"{k:<16}{v:>16.6g}{'(fixed)':>14}{'':>9}")
                continue
            rel = f"{abs(s / v) * 100:.2g}%" if v != 0 and math.isfinite(s) else ""
            lines.append(f"{k:<16}{v:>16.6g}{s:>14.3g}{rel:>9}  [{lo:.3g}, {hi:.3g}]")
        if self.fixed:
            lines.append("fixed: " + ", ".join(f"{k}={v:.6g}" for k, v in self.fixed.items()))
        else:
            lines.append("fixed: none")
        if len(self.free) > 1:
            lines.append("")
            lines.append("correlation matrix:")
            lines.append(" " * 16 + "".join(f"{k:>10.9}" for k in self.free))
            for i, k in enumerate(self.free):
                lines.append(f"{k:<16.15}" + "".join(f"{c:>10.3f}" for c in self.correlation[i]))
        if self.bootstrap:
            b = self.bootstrap
            lines.append("")
            lines.append(f"bootstrap: {b['n']} resamples, {b.get('n_ok', b['n'])} converged, "
                         f"{100 * b['level']:.0f}% percentile intervals:")
            for k, (lo, hi) in b["intervals"].items():
                lines.append(f"  {k:<14} [{lo:.6g}, {hi:.6g}]")
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
    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["parameters"] = {k: {"value": self.values[k], "stderr": self.stderr[k],
                               "fixed": k in self.fixed} for k in self.names}
        return json_safe(d)

    def to_json(self, path=None, indent=1) -> str:
        s = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w") as fh:
                fh.write(s + "\n")
        return s

    def summary_dict(self) -> dict:
        """The CLI's --json object."""
        return json_safe({"parameters": {k: {"value": self.values[k], "stderr": self.stderr[k]}
                                      for k in self.names},
                       "chi2": self.chi2, "reduced_chi2": self.reduced_chi2, "status": self.status})

    @classmethod
    def from_dict(cls, d: dict) -> "FitResult":
        d = _unclean(dict(d))
        d.pop("parameters", None)
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


def covariance_from_jacobian(J: np.ndarray, chi2: float, dof: int, absolute_sigma: bool):
    """(covariance, singular?) from the weighted-residual Jacobian (m, n)."""
    n = J.shape[1]
    if n == 0:
        return np.zeros((0, 0)), False
    H = J.T @ J
    d = np.sqrt(np.diag(H))
    if not np.all(np.isfinite(H)) or np.any(d == 0):
        return np.full((n, n), np.nan), True
    Hs = H / np.outer(d, d)  # unit diagonal: conditioning independent of parameter scales
    w = np.linalg.eigvalsh(Hs)
    singular = w[0] <= 1e-13 * w[-1]
    if singular:
        return np.full((n, n), np.nan), True
    cov = np.linalg.inv(Hs) / np.outer(d, d)
    if not absolute_sigma:
        cov = cov * (chi2 / dof if dof > 0 else np.nan)
    return cov, False


def correlation_of(cov: np.ndarray) -> np.ndarray:
    s = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.outer(s, s)
