"""Input checks that name the offending argument.

Checks run on concrete values (before tracing).  Inside ``jit``/``vmap`` the
arguments are tracers and the checks are skipped: validation is the caller's
job there (the fit engine validates data once, outside jit).
"""
from __future__ import annotations

import numpy as np
import jax

#: Supported magnitudes of the dimensional arguments of the observables
#: (temperatures and energies in K, frequencies in rad/s, A in s^-1 K^-3,
#: DOS prefactors, amplitudes).  Inside [1e-100, 1e100] every square, cube and
#: exp/log of the formulas stays inside float64 (squares overflow at ~1e154,
#: underflow at ~1e-154); the physical values are many decades inside.
VALUE_MIN, VALUE_MAX = 1e-100, 1e100

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


def _unit(unit):
    return f" {unit}" if unit else ""


def in_domain(name: str, x, unit: str = "", lo: float = VALUE_MIN, hi: float = VALUE_MAX):
    """Raise ValueError unless every element of ``x`` is finite and lo <= x <= hi (so > 0).

    The message names the argument, the offending value and the allowed range.
    """
    if not is_concrete(x):
        return
    positive_finite(name, x)
    v = _values(name, x)
    if np.any(v < lo) or np.any(v > hi):
        bad = v.min() if np.any(v < lo) else v.max()
        raise ValueError(
            f"argument {name!r} = {float(bad)!r}{_unit(unit)} is outside the supported range "
            f"[{lo:g}, {hi:g}]{_unit(unit)} (beyond it squares and powers leave the float64 range)")


def amplitude(name: str, x, hi: float = VALUE_MAX):
    """Raise ValueError unless every element of ``x`` is finite and 0 <= x <= hi.

    For prefactors that are non-negative by definition (tunneling strengths C,
    C_dip, F delta0): a negative value would flip the sign of the observable.
    """
    if not is_concrete(x):
        return
    nonnegative_finite(name, x)
    v = _values(name, x)
    if np.any(v > hi):
        raise ValueError(f"argument {name!r} = {float(v.max())!r} is outside the supported range "
                         f"[0, {hi:g}]")


def finite_result(where: str, out, **args):
    """Raise ValueError when a concrete result holds NaN/inf, naming the arguments.

    Each argument is within its own range (checked before); this catches
    combinations whose product leaves float64 (e.g. T^2/B with T huge and B tiny).
    """
    if not (is_concrete(out) and all(is_concrete(a) for a in args.values())):
        return
    o = np.asarray(out)
    if o.dtype.kind not in "fc" or np.all(np.isfinite(o)):
        return
    i = int(np.flatnonzero(~np.isfinite(o.reshape(-1)))[0])
    vals = []
    for k, a in args.items():
        a = np.asarray(a)
        try:
            ai = np.broadcast_to(a, o.shape).reshape(-1)[i] if a.ndim else a
        except ValueError:
            ai = a
        vals.append(f"{k}={float(ai) if np.ndim(ai) == 0 and np.asarray(ai).dtype.kind in 'fiu' else ai!r}")
    bits = o.real.dtype.itemsize * 8
    fix = ("pass float64 inputs (float32 squares leave its range beyond ~1e19 / below ~1e-19)"
           if bits < 64 else "the arguments are each in range but their combination is not "
           "representable; rescale them (e.g. other units)")
    raise ValueError(f"{where}: the result is not finite (overflow/underflow of float{bits}) "
                     f"at {', '.join(vals)}: {fix}")


def dos_T_range(dos, T, name: str = "T"):
    """Raise ValueError naming ``name`` when a concrete T lies outside the model's T range.

    For models with a ``check_T(T, name)`` method (a :class:`jtls.dos.TabulatedDOS`
    is valid only inside its table's temperatures); a no-op for the analytic
    models and for traced T.
    """
    check = getattr(dos, "check_T", None)
    if callable(check) and is_concrete(T):
        check(T, name)


def dos_positive(dos, T, name: str = "dos"):
    """Raise ValueError unless the DOS model is > 0 and finite on a probe grid.

    First checks that concrete T lie inside the model's temperature range
    (:func:`dos_T_range`, ValueError naming 'T').  Probes n(T, E) at the
    smallest and largest concrete T and E = 0, T/2, T, 10 T (what every
    thermal integral samples).  Skipped when the model's parameters or T are
    traced (e.g. ``jax.vmap`` over models).
    """
    dos_T_range(dos, T, "T")
    leaves = jax.tree_util.tree_leaves(dos)
    if not (is_concrete(T) and all(is_concrete(x) for x in leaves)):
        return
    t = np.asarray(T, dtype=float).ravel()
    if t.size == 0 or not np.all(np.isfinite(t)):
        return
    ts = np.unique([t.min(), t.max()])
    E = ts[:, None] * np.array([0.0, 0.5, 1.0, 10.0])
    n = np.asarray(dos(E, ts[:, None]), dtype=float)
    bad = ~(np.isfinite(n) & (n > 0))
    if np.any(bad):
        i, j = np.argwhere(bad)[0]
        raise ValueError(
            f"argument {name!r}: the density of states must be finite and > 0, got "
            f"n(T={ts[i]:g} K, E={E[i, j]:g} K) = {float(n[i, j])!r} (e.g. a PowerLawDOS needs B > 0, "
            f"a ConstantDOS n0 > 0)")


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
