"""Fit parameters: value, bounds, fixed flag, and the smooth bound transforms.

A :class:`Parameter` is a plain frozen record (name, value, min, max, fixed).
Bounds are enforced by a smooth one-to-one map from an unconstrained internal
variable ``u`` to the physical value ``x`` so that every solver works on an
unconstrained problem:

==============  =======================================  ==================
bounds          x(u)                                     u(x)
==============  =======================================  ==================
none            u                                        x
[lo, inf)       lo + exp(u)                              log(x - lo)
(-inf, hi]      hi - exp(u)                              log(hi - x)
[lo, hi]        lo + (hi - lo) * sigmoid(u)              logit((x-lo)/(hi-lo))
==============  =======================================  ==================

With ``lo = 0`` the one-sided map is a log parametrisation, which also puts
parameters spanning decades (C ~ 1e-4, A ~ 1e7 s^-1 K^-3) on an O(1) scale.
A bound is only approached asymptotically; :mod:`jtls.fit.inference`
re-solves with a parameter held exactly on its bound when the data put it
there.

Physical bounds and search limits
---------------------------------
Each finite bound is either *physical* (the parameter cannot go beyond it:
mu >= 0, where mu = 0 is the standard tunneling model; an amplitude C, B or
A >= 0) or a *search limit* (an arbitrary box that keeps the optimizer in a
sensible region, e.g. mu <= 1).  A fit whose optimum lies on a physical
bound is a result (the parameter is reported ``at_bound`` with a one-sided
interval); one that runs into a search limit is a failure (status
``"at_limit"``).  ``Parameter.physical`` holds the flags ``(lower, upper)``.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Sequence

import numpy as np
import jax.numpy as jnp

#: Relative distance (in units of max(|bound|, width or 1)) below which a value
#: counts as sitting on its bound.
BOUND_RTOL = 1e-6

#: Transform kinds (``Spec.kinds``, ``Transform.kinds``): unbounded, lower
#: bound only, upper bound only, both bounds.
KIND_FREE, KIND_LOWER, KIND_UPPER, KIND_BOTH = 0, 1, 2, 3
_KIND_FREE, _KIND_LOWER, _KIND_UPPER, _KIND_BOTH = KIND_FREE, KIND_LOWER, KIND_UPPER, KIND_BOTH


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One named fit parameter.

    Attributes
    ----------
    name : str
        Parameter name as in the paper (``C``, ``mu``, ``A``, ``B``, ``offset``...).
    value : float
        Initial value (free parameter) or the held value (fixed parameter).
    min, max : float
        Bounds (``-inf``/``inf`` for none); ``min < max``.
    fixed : bool
        Held at ``value`` by the fit.
    physical : (bool, bool)
        Whether ``min`` / ``max`` is a physical bound (True) or a search
        limit (False); see the module docstring.

    Values are in the units of the observable's parameter (``A`` in
    s^-1 K^-3, ``B`` in K^-(1+mu), ``C`` and ``mu`` dimensionless, ...).
    A ValueError names the parameter when a value is not a number, the
    bounds are not ordered or a free value is not strictly inside them.

    Examples
    --------
    >>> from jtls.fit import Parameter
    >>> mu = Parameter("mu", 0.1, min=0.0, max=1.0, physical=(True, False))
    >>> mu.at_bound(0.0), mu.at_bound(0.1)
    (True, False)
    >>> mu.replace(value=0.0, fixed=True).fixed
    True
    """
    name: str
    value: float
    min: float = -math.inf
    max: float = math.inf
    fixed: bool = False
    physical: tuple = (False, False)

    def __post_init__(self):
        for attr in ("value", "min", "max"):
            v = getattr(self, attr)
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"parameter {self.name!r}: {attr} must be a number, got {v!r}") from None
            object.__setattr__(self, attr, v)
        if math.isnan(self.min) or math.isnan(self.max):
            raise ValueError(f"parameter {self.name!r}: bounds must not be NaN")
        if not self.min < self.max:
            raise ValueError(f"parameter {self.name!r}: min ({self.min}) must be < max ({self.max})")
        if not math.isfinite(self.value):
            raise ValueError(f"parameter {self.name!r}: value must be finite, got {self.value}")
        if self.fixed:
            if not (self.min <= self.value <= self.max):
                raise ValueError(f"parameter {self.name!r}: fixed value {self.value} is outside "
                                 f"[{self.min}, {self.max}]")
        elif not (self.min < self.value < self.max):
            raise ValueError(f"parameter {self.name!r}: initial value {self.value} must lie strictly "
                             f"inside the bounds ({self.min}, {self.max})")

    def replace(self, **changes) -> "Parameter":
        """A copy with the given fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    @property
    def kind(self) -> int:
        lo, hi = math.isfinite(self.min), math.isfinite(self.max)
        if lo:
            return _KIND_BOTH if hi else _KIND_LOWER
        return _KIND_UPPER if hi else _KIND_FREE

    def at_bound(self, x: float) -> bool:
        """True when ``x`` is within BOUND_RTOL of a finite bound."""
        lo, hi = self.min, self.max
        lo_f, hi_f = math.isfinite(lo), math.isfinite(hi)
        width = hi - lo if (lo_f and hi_f) else 0.0
        if lo_f and abs(x - lo) <= BOUND_RTOL * max(abs(lo), width, 1e-300):
            return True
        return hi_f and abs(x - hi) <= BOUND_RTOL * max(abs(hi), width, 1e-300)


def nudge_inside(value: float, lo: float, hi: float) -> float:
    """Move a guess strictly inside (lo, hi) (used by automatic guesses)."""
    if math.isfinite(lo) and math.isfinite(hi):
        w = hi - lo
        return min(max(value, lo + 1e-3 * w), hi - 1e-3 * w)
    if math.isfinite(lo) and value <= lo:
        return lo + max(abs(lo), 1.0) * 1e-3
    if math.isfinite(hi) and value >= hi:
        return hi - max(abs(hi), 1.0) * 1e-3
    return value


class Transform:
    """Vectorised map between internal u and physical x for a list of parameters.

    Holds numpy arrays of kinds and bounds; :meth:`to_physical` is pure JAX and
    may be used under jit/vmap/grad.
    """

    def __init__(self, params: Sequence[Parameter]):
        self.kinds = np.array([p.kind for p in params], dtype=np.int32)
        self.lo = np.array([p.min if math.isfinite(p.min) else 0.0 for p in params])
        self.hi = np.array([p.max if math.isfinite(p.max) else 0.0 for p in params])

    def to_physical(self, u):
        """x(u) for a vector u (shape (n,)); JAX-traceable."""
        u = jnp.asarray(u)
        lo, hi, k = jnp.asarray(self.lo), jnp.asarray(self.hi), jnp.asarray(self.kinds)
        # clip the exponent so a runaway step gives a huge-but-finite value
        e = jnp.exp(jnp.clip(u, -700.0, 700.0))
        sig = 1.0 / (1.0 + jnp.exp(-jnp.clip(u, -700.0, 700.0)))
        return jnp.where(k == _KIND_FREE, u,
               jnp.where(k == _KIND_LOWER, lo + e,
               jnp.where(k == _KIND_UPPER, hi - e, lo + (hi - lo) * sig)))

    def to_internal(self, x) -> np.ndarray:
        """u(x) (numpy, outside jit); x must lie strictly inside the bounds."""
        x = np.asarray(x, dtype=float)
        u = np.empty_like(x)
        for i, k in enumerate(self.kinds):
            if k == _KIND_FREE:
                u[i] = x[i]
            elif k == _KIND_LOWER:
                u[i] = math.log(x[i] - self.lo[i])
            elif k == _KIND_UPPER:
                u[i] = math.log(self.hi[i] - x[i])
            else:
                f = (x[i] - self.lo[i]) / (self.hi[i] - self.lo[i])
                u[i] = math.log(f) - math.log1p(-f)
        return u

    def to_internal_inside(self, x) -> np.ndarray:
        """u(x) with entries on (or beyond) a finite bound first moved just inside it
        (:func:`nudge_inside`): the start of a sampler or of refits from an optimum that lies on
        a physical bound (e.g. mu = 0), where the internal value is infinite."""
        x = np.array(x, dtype=float)
        for i, k in enumerate(self.kinds):
            lo = self.lo[i] if k in (_KIND_LOWER, _KIND_BOTH) else -math.inf
            hi = self.hi[i] if k in (_KIND_UPPER, _KIND_BOTH) else math.inf
            if not lo < x[i] < hi:
                x[i] = nudge_inside(x[i], lo, hi)
        return self.to_internal(x)


def parse_assignment(text: str) -> tuple[str, float]:
    """Parse ``NAME=VALUE`` (command line ``--fix``); ValueError naming the text."""
    if "=" not in text:
        raise ValueError(f"--fix expects NAME=VALUE, got {text!r}")
    name, _, val = text.partition("=")
    name = name.strip()
    try:
        return name, float(val)
    except ValueError:
        raise ValueError(f"--fix {text!r}: value {val!r} is not a number") from None


def by_name(params: Iterable[Parameter]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for p in params:
        if p.name in out:
            raise ValueError(f"duplicate parameter name {p.name!r}")
        out[p.name] = p
    return out
