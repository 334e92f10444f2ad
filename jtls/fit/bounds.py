"""A fit's parameters against their bounds: which bounds a verdict re-solves on, where those held
solves start, the linearised standard errors that decide it, and when an optimum lies on a
bound (the first step of :func:`jtls.fit.inference.infer`)."""
from __future__ import annotations

import math

import numpy as np

from .params import KIND_BOTH, KIND_LOWER, KIND_UPPER
from .constrained import OPTIONS, carried, start_points

#: Internal values beyond this magnitude mean the optimizer ran to a bound or to infinity.
U_RUNAWAY = 600.0


def _bound_sides(p, kind):
    """[(side, bound, physical)] of the finite bounds of a free parameter."""
    out = []
    if kind in (KIND_LOWER, KIND_BOTH):
        out.append((-1, p.min, p.physical[0]))
    if kind in (KIND_UPPER, KIND_BOTH):
        out.append((1, p.max, p.physical[1]))
    return out


def _natural_scale(kind, x, lo, hi, free=1.0):
    """d x / d (natural coordinate): x - bound for one-sided, the range for two-sided, ``free``
    (see :func:`free_scales`) for a parameter without bounds."""
    if kind == KIND_LOWER:
        return x - lo
    if kind == KIND_UPPER:
        return hi - x
    if kind == KIND_BOTH:
        return hi - lo
    return free


def free_scales(problem) -> np.ndarray:
    """(n_free,) the scale of each free parameter without bounds, in its own units: for the
    additive offset of relative data, the largest |value| of the datasets it shifts (so that the
    verdict does not change with the units of the data: ppm, or values 1e10 times smaller); 1
    for any other parameter (and for data that are all zero)."""
    spec = problem.spec
    pos = {g: j for j, g in enumerate(spec.free)}
    big = {}
    for t, pts in zip(spec.terms, problem.points):
        g = t.index[len(t.observable.params)] if t.offset else None
        if g in pos and np.size(pts.y):
            big[pos[g]] = max(big.get(pos[g], 0.0), float(np.max(np.abs(pts.y))))
    out = np.ones(len(spec.free))
    for j, v in big.items():
        if v > 0 and math.isfinite(v):
            out[j] = v
    return out


#: Options of held solves that all start at a similar problem's held solution (``held_starts``
#: of :func:`infer`): next to the optimum, so the Levenberg-Marquardt damping starts small.
HINTED_OPTIONS = OPTIONS._replace(lam0=1e-6)

#: Bounds farther than this many linearised standard errors need no held solve.
Z_FAR = 5.0


def _linear_stderr(J, scale2) -> np.ndarray:
    """Standard errors from (J^T J)^-1 scale2 (NaN where singular or not finite)."""
    n = J.shape[1]
    if n == 0 or not np.isfinite(J).all() or not math.isfinite(scale2):
        return np.full(n, np.nan)
    H = J.T @ J
    d = np.sqrt(np.diag(H))
    if np.any(d == 0):
        return np.full(n, np.nan)
    Hs = H / np.outer(d, d)
    w = np.linalg.eigvalsh(Hs)
    if not w[0] > 1e-13 * w[-1]:
        return np.full(n, np.nan)
    return np.sqrt(np.diag(np.linalg.inv(Hs)) * scale2) / d


def _always_held(name: str) -> bool:
    """Whether a free parameter's physical bound is re-solved in every verdict, however far: mu's
    (mu = 0 is the standard tunneling model; its likelihood-ratio test is always reported)."""
    return name == "mu" or name.startswith("mu[")


def held_for_certain(problem) -> bool:
    """Whether the verdict of ``problem`` runs a held solve whatever the data (a free parameter
    with a physical bound that :func:`_always_held` names): its program can be compiled early."""
    spec = problem.spec
    if sum(p.T.size for p in problem.points) <= spec.n_free:
        return False                    # no degrees of freedom: the verdict stops before it
    for j, i in enumerate(spec.free):
        p = problem.params[i]
        if _always_held(p.name) and any(phys for _, _, phys in _bound_sides(p, spec.kinds[j])):
            return True
    return False


def _on_bound(p, x, u, side) -> bool:
    """Whether the free optimum of ``p`` lies on its bound on ``side`` (-1 lower, +1 upper): within
    the bound tolerance, or its transform saturated there (u beyond :data:`U_RUNAWAY`, e.g.
    loss_bg = 1e-304 on its bound 0, where no tolerance relative to the bound's value applies)."""
    if p.at_bound(x):
        return True
    if side < 0:
        return p.kind in (KIND_LOWER, KIND_BOTH) and u < -U_RUNAWAY
    return (p.kind == KIND_UPPER and u < -U_RUNAWAY) or (p.kind == KIND_BOTH and u > U_RUNAWAY)


def _held_start(spec, u, x, J, j, b, hint):
    """(u0, mask, u_hint) for the held solve of parameter ``j`` at ``b``: the linearised start of
    :func:`jtls.fit.constrained.start_points`, and the start at ``hint`` (the internal values of
    a similar problem's held solution; None without one)."""
    u0, mask = start_points(spec, u, {j: b}, x_hat=x, jac_x=J)
    if hint is None or np.shape(hint) != u0.shape:
        return u0, mask, None
    return u0, mask, np.asarray(carried(spec, np.asarray(hint, float), u0, mask))
