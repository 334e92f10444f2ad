"""Profile-likelihood intervals.

For a free parameter theta the profile is chi2_p(theta) = min over the other
free parameters of chi^2 with theta held.  The interval at level Delta is
{theta : chi2_p(theta) - chi2_min <= Delta * s^2} with Delta = 1 (68.3 %)
and 3.84 (95 %) and s^2 = 1 when every dataset carries per-point sigma;
else s^2 = chi2_min / dof (the errors are unknown up to one constant,
estimated from the scatter: the same rule as the reported standard errors)
and Delta the F(1, dof) quantile at 68.3 % and 95 % (1.03 and 4.11 at
dof = 36, 161 for 95 % at dof = 1), which accounts for the estimated scale.

Each endpoint is found by a safeguarded Newton iteration on
f(theta) = (chi2_p(theta) - chi2_min) / s^2 - Delta, whose slope is known
without extra solves (envelope theorem: d chi2_p / d theta = 2 r . dr/dtheta
at the conditional optimum).  All endpoints of all parameters advance
together: every iteration is one batched, compiled constrained solve
(:mod:`jtls.fit.constrained`).  Parameters spanning decades (one-sided
log-transformed bounds) are profiled in ln(x - bound), the others in x.

Where the profile stays below Delta up to a bound, the interval ends there:
on a physical bound it is one-sided (e.g. an upper limit for mu with
low = 0), on a search limit or at infinity it is open -- the data do not
bound the parameter on that side.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from .params import KIND_FREE, KIND_LOWER, KIND_UPPER
from .constrained import ACCEPT, U_BOUND, internal, solve_held

#: Delta chi^2 / s^2 of the 68.3 % and 95 % intervals (one parameter) when sigma is known.
LEVELS = {"68": 1.0, "95": 3.841458820694124}
#: Their probabilities; with the noise estimated from the residuals (no sigma), the thresholds are
#: the F(1, dof) quantiles at these probabilities instead (-> LEVELS as dof -> infinity).
PROBABILITIES = {"68": 0.6826894921370859, "95": 0.95}


def level_delta(level: str, dof: int | None = None) -> float:
    """Delta chi^2 / s^2 that bounds a profile interval: chi^2_1 quantile or F(1, dof) quantile.

    Parameters
    ----------
    level : str
        ``"68"`` (68.3 %) or ``"95"``.
    dof : int, optional
        None when the per-point sigma are known (chi^2_1 levels: 1 and 3.84);
        otherwise the degrees of freedom of the residual scale estimate
        (F(1, dof) levels, wider for few points).

    Returns
    -------
    float
        The threshold of chi^2(profile) - chi^2_min in units of s^2.

    Examples
    --------
    >>> from jtls.fit.profile import level_delta
    >>> print(f"{level_delta('68'):.2f} {level_delta('95'):.2f} {level_delta('95', dof=36):.2f}")
    1.00 3.84 4.11
    """
    if dof is None:
        return LEVELS[level]
    from scipy.special import fdtri
    return float(fdtri(1, int(dof), PROBABILITIES[level]))

#: Convergence of an endpoint: |f| below this (in units of Delta chi^2 / s^2).
F_TOL = 1e-6
MAX_ITER = 30


@dataclasses.dataclass
class ProfileInput:
    """What the profile needs of a solved problem (numpy).

    u_hat : (n,) internal optimum (held entries on their bound, +-U_BOUND);
    held : (n,) bool, entries held on a physical bound; chi2_min; scale2 (s^2);
    step : (n,) 1-sigma step of each parameter in its profile coordinate
    (NaN: unknown); params : the free Parameter's; chi2_bound :
    {(j, side): chi2 with j held on the bound on that side} already known.
    """
    spec: object
    arrays: object
    u_hat: np.ndarray
    held: np.ndarray
    chi2_min: float
    scale2: float
    step: np.ndarray
    params: list
    chi2_bound: dict
    dof: int | None = None      # None: sigma known (chi^2_1 levels); else F(1, dof) levels


def coordinate(spec, j, held) -> str:
    """'u' (ln distance to a one-sided bound) or 'x' (the value itself)."""
    return "u" if spec.kinds[j] in (KIND_LOWER, KIND_UPPER) and not held else "x"


def _x_of(spec, j, u):
    kind, lo, hi = spec.kinds[j], spec.lo[j], spec.hi[j]
    u = max(-U_BOUND, min(U_BOUND, u))
    if kind == KIND_FREE:
        return u
    if kind == KIND_LOWER:
        return lo + math.exp(u)
    if kind == KIND_UPPER:
        return hi - math.exp(u)
    return lo + (hi - lo) / (1.0 + math.exp(-u))


class _Target:
    """One endpoint: parameter j, side (+1: towards larger x), level."""

    def __init__(self, inp: ProfileInput, j, side, level, delta):
        spec = inp.spec
        self.j, self.side, self.level, self.delta = j, side, level, delta
        self.coord = coordinate(spec, j, inp.held[j])
        kind = spec.kinds[j]
        # direction of increasing x in the coordinate
        self.dirn = side * (-1 if (self.coord == "u" and kind == KIND_UPPER) else 1)
        u_hat = inp.u_hat[j]
        self.t_hat = u_hat if self.coord == "u" else _x_of(spec, j, u_hat)
        p = inp.params[j]
        bound = p.min if side < 0 else p.max
        phys = p.physical[0] if side < 0 else p.physical[1]
        if self.coord == "u":
            towards_bound = self.dirn < 0           # u -> -inf approaches the one finite bound
            self.limit = -U_BOUND if towards_bound else self.t_hat + 40.0
            self.limit_kind = ("physical" if phys else "limit") if towards_bound else "open"
            self.limit_x = bound if towards_bound else math.inf * side
        elif math.isfinite(bound):
            self.limit, self.limit_x = bound, bound
            self.limit_kind = "physical" if phys else "limit"
        else:
            s = inp.step[j]
            span = 1e4 * (s if math.isfinite(s) and s > 0 else max(abs(self.t_hat), 1.0))
            self.limit = self.t_hat + self.dirn * span
            self.limit_x = math.inf * side
            self.limit_kind = "open"
        self.a = self.t_hat          # f(a) < 0
        self.b = None                # f(b) > 0
        self.u_start = np.array(inp.u_hat, float)
        self.done = False
        self.result = None           # (x, kind) kind: 'crossing' | 'physical' | 'limit' | 'open'
        self.unreliable = False
        self.lower_chi2 = None
        known = inp.chi2_bound.get((j, side))
        if known is not None and self.limit_kind == "physical":
            f_b = (known - inp.chi2_min) / inp.scale2 - delta
            if f_b <= 0:
                self.finish(self.limit_x, "physical")
            else:
                self.b = self.limit
        s = inp.step[j]
        if inp.held[j]:
            # on the bound: move away from it
            s0 = s if (math.isfinite(s) and s > 0) else 0.05 * max(abs(self.limit - self.t_hat), 1e-300)
        else:
            s0 = s if (math.isfinite(s) and s > 0) else 1.0 if self.coord == "u" else \
                0.1 * max(abs(self.t_hat), 1e-3)
        self.t = self._clip(self.t_hat + self.dirn * math.sqrt(delta) * s0)

    def _clip(self, t):
        if self.dirn * (t - self.limit) >= 0:
            return self.limit
        if self.b is not None and self.dirn * (t - self.b) >= 0:
            return 0.5 * (self.a + self.b)
        return t

    def finish(self, x, kind):
        self.done = True
        self.result = (x, kind)

    def u_held(self, spec):
        return self.t if self.coord == "u" else internal(spec, self.j, self.t)

    def x_of_t(self, spec, t):
        return _x_of(spec, self.j, t) if self.coord == "u" else t

    def update(self, inp, f, fp, u_sol, ok):
        """Advance after evaluating f (and slope fp) at self.t."""
        spec = inp.spec
        if not ok or not math.isfinite(f):
            self.unreliable = True
            self.b = self.t                       # treat as outside; bisect back
            self.t = 0.5 * (self.a + self.b)
            return
        self.u_start = u_sol
        if f < -self.delta - 1e-6 and (self.lower_chi2 is None or f < self.lower_chi2[0]):
            self.lower_chi2 = (f, np.array(u_sol, float))     # the lowest point below the minimum
        if abs(f) <= F_TOL:
            self.finish(self.x_of_t(spec, self.t), "crossing")
            return
        if f < 0:
            if self.t == self.limit:
                self.finish(self.limit_x, self.limit_kind)
                return
            self.a = self.t
        else:
            self.b = self.t
        if self.b is not None and abs(self.b - self.a) <= 1e-12 * (1.0 + abs(self.a)):
            self.finish(self.x_of_t(spec, 0.5 * (self.a + self.b)), "crossing")
            return
        newton = self.t - f / fp if (math.isfinite(fp) and fp * self.dirn > 0) else None
        if self.b is None:
            dist = abs(self.t - self.t_hat)
            grow = 4.0 if f > -4.0 * self.delta else 10.0        # far below the level: bigger strides
            far = self.t_hat + self.dirn * grow * max(dist, 1e-300)
            if newton is None or self.dirn * (newton - self.t) <= 0:
                new = self.t_hat + self.dirn * 2.0 * max(dist, 1e-300)
            else:
                new = newton if self.dirn * (newton - far) < 0 else far
            self.t = self.limit if self.dirn * (new - self.limit) >= 0 else new
        else:
            lo, hi = min(self.a, self.b), max(self.a, self.b)
            self.t = newton if (newton is not None and lo < newton < hi) else 0.5 * (self.a + self.b)


def profile_intervals(inp: ProfileInput, which, levels=("68", "95")) -> dict:
    """Profile-likelihood intervals of the free parameters ``which`` (indices).

    Returns {j: {"low", "high", "low95", "high95": physical values,
    "low_kind", "high_kind", "low95_kind", "high95_kind": 'crossing' (the
    profile reaches Delta there), 'physical' (one-sided: the interval ends on
    a physical bound), 'limit' (ends on a search limit: open), 'open' (no
    crossing up to +-infinity) or 'unreliable' (the constrained solves there did
    not converge; the end is NaN), "unreliable": bool (some constrained solve
    did not converge), "lower_minimum": bool (the profile went below the
    fit's chi^2 minimum; then "lower_f" (Delta chi^2 / scale^2 - level there)
    and "lower_u" (n,), the internal values at its lowest point)}}.
    """
    spec = inp.spec
    targets = []
    for j in which:
        for side in (-1, 1):
            for lev in levels:
                t = _Target(inp, j, side, lev, level_delta(lev, inp.dof))
                if inp.held[j] and inp.params[j].physical[0 if side < 0 else 1] and \
                        _on_side(inp, j, side):
                    t.finish(t.limit_x, "physical")      # held on this bound: the interval starts here
                targets.append(t)
    for _ in range(MAX_ITER):
        active = [t for t in targets if not t.done]
        if not active:
            break
        u0s, masks = [], []
        for t in active:
            u0 = np.array(t.u_start, float)
            mask = np.where(inp.held, 0.0, 1.0)
            u0[t.j] = t.u_held(spec)
            mask[t.j] = 0.0
            u0s.append(u0)
            masks.append(mask)
        c = solve_held(spec, inp.arrays, np.stack(u0s), np.stack(masks))
        for k, t in enumerate(active):
            f = (float(c.chi2[k]) - inp.chi2_min) / inp.scale2 - t.delta
            slope = c.grad_u(t.j)[k] if t.coord == "u" else c.grad_x(t.j)[k]
            ok = int(c.status[k]) in ACCEPT and math.isfinite(float(c.chi2[k]))
            t.update(inp, f, float(slope) / inp.scale2, c.u[k], ok)
    out = {}
    for j in which:
        d = {"unreliable": False, "lower_minimum": False}
        for t in (t for t in targets if t.j == j):
            key = ("low" if t.side < 0 else "high") + ("" if t.level == "68" else t.level)
            if t.done:
                x, kind = t.result
            else:
                x, kind = math.nan, "unreliable"
                d["unreliable"] = True
            d[key] = x
            d[key + "_kind"] = kind
            d["unreliable"] |= t.unreliable
            d["lower_minimum"] |= t.lower_chi2 is not None
            if t.lower_chi2 is not None and (d.get("lower_f") is None or t.lower_chi2[0] < d["lower_f"]):
                d["lower_f"], d["lower_u"] = t.lower_chi2
        out[j] = d
    return out


def _on_side(inp, j, side) -> bool:
    """Whether the held parameter j sits on its bound on ``side``."""
    u = inp.u_hat[j]
    kind = inp.spec.kinds[j]
    if kind == KIND_LOWER:
        return side < 0
    if kind == KIND_UPPER:
        return side > 0
    return (u < 0) == (side < 0)
