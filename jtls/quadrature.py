"""Fixed-cost, vectorizing Gauss-Legendre quadrature on panels.

Every integral of jtls is a sum over a fixed number of Gauss-Legendre nodes
on panels whose edges may depend on traced values (a feature scale of the
integrand).  Panels whose edges are clipped to the integration domain may
collapse to zero width; they then contribute exactly zero, which lets a fixed
panel count follow a moving feature without Python-level adaptivity.

Shapes: ``edges`` has shape (..., P + 1) and must be non-decreasing along the
last axis; nodes and weights come back with shape (..., P * n).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

#: Default Gauss-Legendre order per panel.
ORDER = 16


@lru_cache(maxsize=None)
def gauss_legendre(n: int = ORDER) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the n-point Gauss-Legendre rule on [-1, 1] (cached).

    Parameters
    ----------
    n : int
        Number of nodes; the rule is exact for polynomials of degree 2n - 1.

    Returns
    -------
    (x, w) : numpy arrays, shape (n,) each

    Examples
    --------
    >>> from jtls.quadrature import gauss_legendre
    >>> x, w = gauss_legendre(3)
    >>> print(x, w)
    [-0.77459667  0.          0.77459667] [0.55555556 0.88888889 0.55555556]
    """
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def panel_nodes(edges: ArrayLike, n: int = ORDER) -> tuple[jax.Array, jax.Array]:
    """Nodes and weights of n-point Gauss-Legendre rules on consecutive panels.

    Parameters
    ----------
    edges : array_like, shape (..., P + 1)
        Panel boundaries, non-decreasing along the last axis (any unit; may
        be traced).  A zero-width panel gets zero weights.
    n : int
        Nodes per panel.

    Returns
    -------
    (x, w) : arrays, shape (..., P * n) each
        Nodes (unit of ``edges``) and weights, in the dtype of ``edges``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from jtls.quadrature import panel_nodes
    >>> x, w = panel_nodes(jnp.array([0.0, 1.0, 3.0]), 4)
    >>> print(x.shape, float(jnp.sum(w * x**2)))        # int_0^3 x^2 dx
    (8,) 9.0
    """
    edges = jnp.asarray(edges)
    if not jnp.issubdtype(edges.dtype, jnp.floating):
        edges = edges.astype(float)
    t_np, wt_np = gauss_legendre(n)
    t = jnp.asarray(t_np, dtype=edges.dtype)   # keep float32 edges in float32
    wt = jnp.asarray(wt_np, dtype=edges.dtype)
    a = edges[..., :-1]
    b = edges[..., 1:]
    half = 0.5 * (b - a)
    mid = 0.5 * (a + b)
    x = mid[..., None] + half[..., None] * t
    w = half[..., None] * wt
    shape = edges.shape[:-1] + ((edges.shape[-1] - 1) * n,)
    return x.reshape(shape), w.reshape(shape)


def _reduced_edges() -> np.ndarray:
    # u = E/(T) grid: 0, then log panels 1e-12..1 (ratio 10^0.5), then panels to 80.
    # Integrands carrying 1/cosh^2(u/2) or 1/sinh^2(u/2) are below 1e-30 of
    # their peak beyond u = 80.
    logpart = np.logspace(-12.0, 0.0, 25)
    upper = np.array([1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 40.0,
                      48.0, 56.0, 64.0, 72.0, 80.0])
    return np.concatenate([[0.0], logpart, upper])


#: Panel edges in the reduced energy u = E/T for thermally weighted integrals.
REDUCED_EDGES = _reduced_edges()


@lru_cache(maxsize=None)
def reduced_grid(n: int = ORDER) -> tuple[np.ndarray, np.ndarray]:
    """Fixed nodes and weights in the reduced energy u = E/T on [0, 80] (cached).

    The panels are :data:`REDUCED_EDGES` (logarithmic from 1e-12 to 1, then
    wider up to 80); the thermal integrals of Eqs. (5), (6) and (8) are sums
    over these nodes.

    Parameters
    ----------
    n : int
        Gauss-Legendre nodes per panel.

    Returns
    -------
    (u, w) : numpy arrays, shape (n * (len(REDUCED_EDGES) - 1),) each

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.quadrature import reduced_grid
    >>> u, w = reduced_grid()
    >>> C = np.sum(w * u**2 / (4 * np.cosh(u / 2)**2))   # Eq. (6) for n = 1, T = 1 K
    >>> print(u.shape, f"{C:.12f}", f"{np.pi**2 / 6:.12f}")
    (656,) 1.644934066848 1.644934066848
    """
    t, wt = gauss_legendre(n)
    a, b = REDUCED_EDGES[:-1], REDUCED_EDGES[1:]
    x = (0.5 * (a + b))[:, None] + (0.5 * (b - a))[:, None] * t
    w = (0.5 * (b - a))[:, None] * wt
    return x.reshape(-1), w.reshape(-1)


def geometric_edges(lo: ArrayLike, hi: ArrayLike, n_panels: int) -> jax.Array:
    """Edges [0, lo, ..., hi] with geometric spacing between lo and hi (traceable).

    ``lo`` and ``hi`` are reproduced exactly.  Drop the leading 0 (``[..., 1:]``)
    for edges starting at ``lo``.

    Parameters
    ----------
    lo, hi : array_like
        First and last non-zero edge, 0 < lo < hi (any unit; arrays broadcast).
    n_panels : int
        Number of geometric panels between lo and hi.

    Returns
    -------
    array, shape (..., n_panels + 2)

    Examples
    --------
    >>> from jtls.quadrature import geometric_edges
    >>> print(geometric_edges(1e-3, 1.0, 3))
    [0.    0.001 0.01  0.1   1.   ]
    """
    lo = jnp.asarray(lo)
    hi = jnp.asarray(hi, dtype=lo.dtype)
    s = jnp.linspace(0.0, 1.0, n_panels + 1, dtype=lo.dtype)
    lo_, hi_ = jnp.broadcast_arrays(lo, hi)
    inner = jnp.exp(jnp.log(lo_)[..., None] + s * (jnp.log(hi_) - jnp.log(lo_))[..., None])
    # pin the end points exactly (exp(log x) may be off by an ulp): a principal-value
    # interval symmetric about a pole must end exactly at 2w
    inner = inner.at[..., 0].set(lo_).at[..., -1].set(hi_)
    zero = jnp.zeros(lo_.shape + (1,), dtype=inner.dtype)
    return jnp.concatenate([zero, inner], axis=-1)
