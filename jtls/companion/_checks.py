"""Argument checks of the companion models that :mod:`jtls._validate` does not have.

Same conventions as there: every check names the argument, runs on concrete
values only (a no-op on JAX tracers) and raises ValueError.
"""
from __future__ import annotations

import os

import numpy as np

from .. import _validate as V


def integer(name: str, x, lo: int = 1) -> None:
    """Raise ValueError unless ``x`` is an int (not a bool) >= ``lo``."""
    if not V.is_concrete(x):
        return
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < lo:
        raise ValueError(f"argument {name!r} must be an int >= {lo}, got {x!r}")


def nonempty(name: str, x) -> None:
    """Raise ValueError when ``x`` has no elements."""
    if V.is_concrete(x) and np.size(x) == 0:
        raise ValueError(f"argument {name!r} is empty")


def fraction(name: str, x) -> None:
    """Raise ValueError unless every element of ``x`` is finite and 0 < x <= 1."""
    V.positive_finite(name, x)
    if V.is_concrete(x) and np.any(V._values(name, x) > 1):
        raise ValueError(f"argument {name!r} must be in (0, 1], got {x!r}")


def ordered(lo_name: str, lo, hi_name: str, hi) -> None:
    """Raise ValueError unless lo < hi (elementwise, concrete values)."""
    if V.is_concrete(lo) and V.is_concrete(hi) and not np.all(np.asarray(lo) < np.asarray(hi)):
        raise ValueError(f"argument {lo_name!r} must be < {hi_name!r}, got {lo_name}={lo!r}, "
                         f"{hi_name}={hi!r}")


def grid(name: str, x, positive: bool = False) -> np.ndarray | None:
    """Raise ValueError unless ``x`` is 1-D, has >= 2 points, is finite (and > 0) and strictly increasing.

    Returns the values as a float ndarray (None for a tracer).
    """
    if not V.is_concrete(x):
        return None
    v = V._values(name, x)
    if v.ndim != 1:
        raise ValueError(f"argument {name!r} must be 1-D, got shape {v.shape}")
    if v.size < 2:
        raise ValueError(f"argument {name!r} needs at least 2 points, got {v.size}")
    (V.positive_finite if positive else V.finite)(name, v)
    if np.any(np.diff(v) <= 0):
        i = int(np.flatnonzero(np.diff(v) <= 0)[0])
        raise ValueError(f"argument {name!r} must be strictly increasing, got {float(v[i])!r} "
                         f"then {float(v[i + 1])!r} at index {i}")
    return v


def same_shape(**arrays) -> None:
    """Raise ValueError naming the arguments unless all have the same shape."""
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    if len(set(shapes.values())) > 1:
        desc = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(f"arguments have mismatched shapes (they must be equal): {desc}")


def square(name: str, x) -> int:
    """Raise ValueError unless ``x`` has shape (n, n) with n >= 1; returns n (works on tracers)."""
    s = np.shape(x)
    if len(s) != 2 or s[0] != s[1] or s[0] < 1:
        raise ValueError(f"argument {name!r} must be a square (n, n) matrix with n >= 1, got shape {s}")
    return s[0]


def vector_of(name: str, x, n: int, scalar_ok: bool = False) -> None:
    """Raise ValueError unless ``x`` has shape (n,) (or is a scalar when ``scalar_ok``)."""
    s = np.shape(x)
    if s != (n,) and not (scalar_ok and s == ()):
        raise ValueError(f"argument {name!r} must have shape ({n},), got {s}")


def output_path(name: str, path) -> str:
    """Raise ValueError unless ``path`` can be written: its folder exists and is writable and
    ``path`` is not a folder.  Returns the path as a str."""
    try:
        p = os.fspath(path)
    except TypeError:
        raise ValueError(f"argument {name!r} must be a path, got {path!r}") from None
    if not isinstance(p, str) or not p:
        raise ValueError(f"argument {name!r} must be a non-empty path, got {path!r}")
    if os.path.isdir(p):
        raise ValueError(f"argument {name!r} is a folder, not a file: {p!r}")
    d = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(d):
        raise ValueError(f"argument {name!r}: folder {d!r} does not exist")
    if not os.access(d, os.W_OK):
        raise ValueError(f"argument {name!r}: folder {d!r} is not writable")
    return p


def solver(method, damping, tol, max_iter) -> None:
    """The iteration arguments of the mean-field solver (damping and tol checked when concrete)."""
    if method not in ("sequential", "jacobi"):
        raise ValueError(f"argument 'method' must be 'sequential' or 'jacobi', got {method!r}")
    if V.is_concrete(damping) and not 0.0 < damping <= 1.0:
        raise ValueError(f"argument 'damping' must be in (0, 1], got {damping!r}")
    V.nonnegative_finite("tol", tol)
    integer("max_iter", max_iter, 1)
