"""Input checks that name the offending argument.

Checks run on concrete values (before tracing).  Inside ``jit``/``vmap`` the
arguments are tracers and the checks are skipped: validation is the caller's
job there (the fit engine validates data once, outside jit).
"""
from __future__ import annotations

import numpy as np
import jax

#: Supported range of the DOS power mu (closed interval).  The observables are
#: verified to 1e-8 for mu in [0, 0.5]; the wider range is accepted and
#: converges but is only tested for finiteness.
MU_MIN, MU_MAX = -0.5, 1.5


def is_concrete(x) -> bool:
    """True when ``x`` holds a value (not a JAX tracer)."""
    return not isinstance(x, jax.core.Tracer)


def _values(name, x):
    try:
        return np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"argument {name!r} must be numeric, got {x!r}") from exc


def positive_finite(name: str, x):
    """Raise ValueError unless every element of ``x`` is finite and > 0."""
    if not is_concrete(x):
        return
    v = _values(name, x)
    if v.size == 0:
        raise ValueError(f"argument {name!r} is empty")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"argument {name!r} must be finite, got non-finite value(s)")
    if not np.all(v > 0):
        raise ValueError(f"argument {name!r} must be > 0, got minimum {v.min()!r}")


def nonnegative_finite(name: str, x):
    """Raise ValueError unless every element of ``x`` is finite and >= 0."""
    if not is_concrete(x):
        return
    v = _values(name, x)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"argument {name!r} must be finite, got non-finite value(s)")
    if not np.all(v >= 0):
        raise ValueError(f"argument {name!r} must be >= 0, got minimum {v.min()!r}")


def finite(name: str, x):
    """Raise ValueError unless every element of ``x`` is finite."""
    if not is_concrete(x):
        return
    v = _values(name, x)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"argument {name!r} must be finite, got non-finite value(s)")


def mu_in_range(name: str, mu):
    """Raise ValueError unless MU_MIN <= mu <= MU_MAX."""
    if not is_concrete(mu):
        return
    v = _values(name, mu)
    if not np.all(np.isfinite(v)):
        raise ValueError(f"argument {name!r} must be finite")
    if np.any(v < MU_MIN) or np.any(v > MU_MAX):
        raise ValueError(
            f"argument {name!r} = {v.min() if np.any(v < MU_MIN) else v.max()!r} is outside "
            f"the supported range [{MU_MIN}, {MU_MAX}]")


def broadcastable(**arrays):
    """Raise ValueError naming the arguments whose shapes do not broadcast."""
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    try:
        np.broadcast_shapes(*shapes.values())
    except ValueError:
        desc = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(f"arguments have mismatched shapes: {desc}") from None
