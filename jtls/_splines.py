"""Natural cubic splines expressed as linear maps of the knot values.

The interpolation of :class:`jtls.dos.TabulatedDOS` and of the simulated-DOS
library (:mod:`jtls.simulated.dos`, :mod:`jtls.simulated.pack`): the matrix S
of second derivatives M = S @ y, the basis matrix B with spline(x) = B @ y
(numpy) and the evaluation from y and M (JAX).  The functions are also
available from :mod:`jtls.dos`.
"""
from __future__ import annotations

import numpy as np
import jax.numpy as jnp



def _natural_spline_matrix(x: np.ndarray) -> np.ndarray:
    """S with M = S @ y the second derivatives of the natural spline through (x, y)."""
    m = len(x)
    if m < 3:
        return np.zeros((m, m))
    h = np.diff(x)
    A = np.zeros((m, m))
    R = np.zeros((m, m))
    A[0, 0] = A[-1, -1] = 1.0
    for i in range(1, m - 1):
        A[i, i - 1] = h[i - 1] / 6.0
        A[i, i] = (h[i - 1] + h[i]) / 3.0
        A[i, i + 1] = h[i] / 6.0
        R[i, i - 1] = 1.0 / h[i - 1]
        R[i, i] = -1.0 / h[i - 1] - 1.0 / h[i]
        R[i, i + 1] = 1.0 / h[i]
    return np.linalg.solve(A, R)


def _spline_basis_matrix(knots: np.ndarray, S: np.ndarray, x: np.ndarray) -> np.ndarray:
    """B (len(x), len(knots)) with spline(x) = B @ y for the natural cubic spline through (knots, y)
    whose second derivatives are S @ y (``S = _natural_spline_matrix(knots)``); numpy, x clipped to
    the knot range.  The linear-map form of :func:`_spline_eval`."""
    x = np.clip(np.asarray(x, float), knots[0], knots[-1])
    k = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, len(knots) - 2)
    h = knots[k + 1] - knots[k]
    b = (x - knots[k]) / h
    a = 1.0 - b
    # value = a y_k + b y_k+1 + ((a^3-a) M_k + (b^3-b) M_k+1) h^2/6,  M = S y
    B = np.zeros((len(x), len(knots)))
    rows = np.arange(len(x))
    B[rows, k] += a
    B[rows, k + 1] += b
    B += ((a ** 3 - a) * h * h / 6.0)[:, None] * S[k] + ((b ** 3 - b) * h * h / 6.0)[:, None] * S[k + 1]
    return B


def _spline_eval(knots, y, M, x):
    """Evaluate the cubic spline with knot values y (..., m), second derivatives M.

    ``x`` is clipped to the knot range.  y and M broadcast against x[..., None].
    """
    m = knots.shape[0]
    x = jnp.clip(x, knots[0], knots[-1])
    k = jnp.clip(jnp.searchsorted(knots, x, side="right") - 1, 0, m - 2)
    x0 = knots[k]
    h = knots[k + 1] - x0
    b = (x - x0) / h
    a = 1.0 - b
    kk = k[..., None]
    shape = jnp.broadcast_shapes(y.shape[:-1], x.shape) + (y.shape[-1],)
    yb = jnp.broadcast_to(y, shape)
    Mb = jnp.broadcast_to(M, shape)
    y0 = jnp.take_along_axis(yb, kk, axis=-1)[..., 0]
    y1 = jnp.take_along_axis(yb, kk + 1, axis=-1)[..., 0]
    m0 = jnp.take_along_axis(Mb, kk, axis=-1)[..., 0]
    m1 = jnp.take_along_axis(Mb, kk + 1, axis=-1)[..., 0]
    return a * y0 + b * y1 + ((a**3 - a) * m0 + (b**3 - b) * m1) * h * h / 6.0
