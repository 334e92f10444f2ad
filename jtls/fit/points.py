"""Measured curves as fit points: extraction, checks and ordering (the data half of :mod:`jtls.fit.engine`).

Data may be a :class:`jtls.data.Dataset` (attributes ``T``, ``value``,
``sigma``, and optionally ``omega``, ``T_ref``, ``material``, ``excluded``...),
a tuple ``(T, y)`` / ``(T, y, sigma)`` of arrays, or a dict with keys ``T``,
``value`` (or ``y``) and optionally ``sigma``.  T in kelvin.  :func:`as_points`
checks one dataset (finite, positive T, no repeated T, the temperature window)
and sorts it in T; :func:`points_many` does the common case of several at once.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np


@dataclasses.dataclass
class Points:
    """Validated fit points of one dataset plus what was left out."""
    label: str
    T: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    excluded: list
    source: Any = None


def _excluded_entry(label, item) -> dict:
    if isinstance(item, dict):
        g = item.get
    elif hasattr(item, "_fields") or hasattr(item, "reason"):
        g = lambda k, d=None: getattr(item, k, d)  # noqa: E731
    elif isinstance(item, (tuple, list)):
        vals = dict(zip(("T", "value", "reason"), item))
        g = vals.get
    else:
        g = lambda k, d=None: getattr(item, k, d)  # noqa: E731
    T = g("T", math.nan)
    val = g("value", g("y", math.nan))
    reason = g("reason", "excluded by the loader")
    out = {"dataset": label, "T": float(T), "value": float(val), "reason": str(reason)}
    if g("index", None) is not None:
        out["index"] = int(g("index"))
    return out


def _check_points(label, T, y, sigma):
    """ValueError naming the dataset and point for non-finite T/y/sigma, T <= 0, sigma <= 0."""
    for name, arr in (("T", T), ("value", y)) + ((("sigma", sigma),) if sigma is not None else ()):
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            raise ValueError(f"dataset {label!r}: {name} is not finite at point {bad[0]} ({arr[bad[0]]})")
    if not (T > 0).all():
        bad = np.flatnonzero(T <= 0)
        raise ValueError(f"dataset {label!r}: T must be > 0 K, got {T[bad[0]]} at point {bad[0]}")
    if sigma is not None and not (sigma > 0).all():
        bad = np.flatnonzero(sigma <= 0)
        raise ValueError(f"dataset {label!r}: sigma must be > 0, got {sigma[bad[0]]} at point {bad[0]}")


def _real(label, name, a) -> np.ndarray:
    """A copy of ``a`` as a flat float array; ValueError naming the dataset and array for
    complex values with an imaginary part (numpy would drop it with a warning) or non-numbers."""
    def not_numbers(exc):
        return ValueError(f"dataset {label!r}: {name} must be numbers ({exc})")
    try:
        a = np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise not_numbers(exc) from None
    if a.dtype.kind == "c":
        if np.any(a.imag != 0):
            raise ValueError(f"dataset {label!r}: {name} is complex (imaginary part up to "
                             f"{np.max(np.abs(a.imag)):g}); pass the real quantity")
        a = a.real
    try:
        return np.array(a, dtype=float).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise not_numbers(exc) from None


def _extract(data, label):
    """(T, y, sigma, label, excluded entries, source) of a dataset-like object, unvalidated."""
    excluded = []
    src = data
    if hasattr(data, "T") and (hasattr(data, "value") or hasattr(data, "y")):
        T = data.T
        y = data.value if hasattr(data, "value") else data.y
        sigma = getattr(data, "sigma", None)
        for item in (getattr(data, "excluded", None) or ()):
            excluded.append(item)
        if label is None:
            label = getattr(data, "label", None) or getattr(data, "name", None) or \
                getattr(data, "material", None)
    elif isinstance(data, dict):
        T = data["T"]
        y = data["value"] if "value" in data else data["y"]
        sigma = data.get("sigma")
        src = None
    elif isinstance(data, (tuple, list)) and len(data) in (2, 3):
        T, y = data[0], data[1]
        sigma = data[2] if len(data) == 3 else None
        src = None
    else:
        raise ValueError(f"data: expected a Dataset, (T, y[, sigma]) or dict, got {type(data).__name__}")
    label = str(label) if label else "data"
    return T, y, sigma, label, [_excluded_entry(label, e) for e in excluded], src


def points_many(items) -> list:
    """:func:`as_points` of several ``(data, label)`` (no temperature window), with
    the common case -- sorted, finite, positive T, finite y, no sigma -- checked
    on all datasets at once; anything else goes through :func:`as_points`
    dataset by dataset (same results and errors)."""
    ext = [_extract(d, lab) for d, lab in items]
    if not any(e[2] is not None for e in ext):
        Ts = [_real(e[3], "T", e[0]) for e in ext]
        ys = [_real(e[3], "value", e[1]) for e in ext]
        sizes = [t.size for t in Ts]
        if all(n > 0 and n == y.size for n, y in zip(sizes, ys)):
            Tc = np.concatenate(Ts)                  # copies: later changes to the data do not leak in
            yc = np.concatenate(ys)
            up = Tc[1:] > Tc[:-1]
            ends = np.cumsum(sizes)[:-1] - 1         # comparisons across dataset boundaries
            up[ends] = True
            if up.all() and Tc.min() > 0 and Tc.max() < math.inf and math.isfinite(float(yc.sum())):
                out, o = [], 0
                for e, n in zip(ext, sizes):
                    out.append(Points(e[3], Tc[o:o + n], yc[o:o + n], None, e[4], e[5]))
                    o += n
                return out
    return [as_points(d, lab) for d, lab in items]


def as_points(data, label=None, *, tmin=None, tmax=None, positive=False) -> Points:
    """Extract and validate (T, y, sigma) from a dataset-like object.

    Points outside [tmin, tmax] are moved to ``excluded`` with the reason.
    Raises ValueError naming the dataset and the point index for non-finite
    or non-positive T, non-finite y, non-positive sigma, mismatched lengths,
    duplicate T, and (``positive``) non-positive y.
    """
    T, y, sigma, label, excluded, src = _extract(data, label)
    T = _real(label, "T", T)     # copies: later changes to the data do not leak in
    y = _real(label, "value", y)
    if T.shape != y.shape:
        raise ValueError(f"dataset {label!r}: T has {T.size} points but value has {y.size}")
    if sigma is not None:
        sigma = _real(label, "sigma", sigma)
        if sigma.shape != T.shape:
            raise ValueError(f"dataset {label!r}: sigma has {sigma.size} points but T has {T.size}")
    # fast test of the common case (few numpy calls): T strictly increasing from
    # T > 0 to a finite end (NaN fails a comparison), y and sigma with finite sums
    increasing = bool((T[1:] > T[:-1]).all())
    fine = (increasing and T.size > 0 and T[0] > 0 and T[-1] < math.inf
            and math.isfinite(float(y.sum()))
            and (sigma is None or (math.isfinite(float(sigma.sum())) and sigma.min() > 0)))
    if not fine:
        _check_points(label, T, y, sigma)
    if not increasing:
        Ts = np.sort(T)
        dup = Ts[1:] == Ts[:-1]
        if dup.any():
            t = Ts[1:][dup][0]
            idx = np.flatnonzero(T == t)
            raise ValueError(f"dataset {label!r}: duplicate temperature T = {t} at points {idx.tolist()}")
    if tmin is not None or tmax is not None:
        keep = np.ones(T.size, bool)
        if tmin is not None:
            keep &= T >= tmin
        if tmax is not None:
            keep &= T <= tmax
        for i in np.flatnonzero(~keep):
            why = f"T > tmax = {tmax:g} K" if (tmax is not None and T[i] > tmax) else f"T < tmin = {tmin:g} K"
            excluded.append({"dataset": label, "T": float(T[i]), "value": float(y[i]), "reason": why})
        if not keep.all():
            T, y = T[keep], y[keep]
            sigma = sigma[keep] if sigma is not None else None
    if positive and sigma is None and not (y > 0).all():
        bad = np.flatnonzero(y <= 0)
        raise ValueError(f"dataset {label!r}: log weighting needs value > 0, got {y[bad[0]]} "
                         f"at T = {T[bad[0]]} K")
    if T.size == 0:
        raise ValueError(f"dataset {label!r}: no points left to fit (window tmin={tmin}, tmax={tmax})")
    if increasing:
        return Points(label, T, y, sigma, excluded, src)
    order = np.argsort(T)
    return Points(label, T[order], y[order], None if sigma is None else sigma[order], excluded, src)
