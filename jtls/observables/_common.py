"""Shared plumbing of the observables: validation, broadcasting, batching, nodes."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _validate as V
from ..quadrature import reduced_grid


def check(T=None, mu=None, **positive):
    """Validate concrete inputs; raises ValueError naming the argument."""
    if T is not None:
        V.positive_finite("T", T)
    if mu is not None:
        V.mu_in_range("mu", mu)
    for name, value in positive.items():
        if value is not None:
            V.positive_finite(name, value)


def finite_args(**values):
    for name, value in values.items():
        V.finite(name, value)


def batched(fn, **arrays):
    """Broadcast the named arrays, vmap ``fn`` over their elements, restore the shape.

    ``fn`` receives 0-d arrays (positionally, in the given order) and returns
    a 0-d result.  The common float dtype of the inputs is kept (float32 in,
    float32 out).
    """
    V.broadcastable(**arrays)
    dtype = jnp.result_type(*arrays.values(), float)
    args = jnp.broadcast_arrays(*[jnp.asarray(a, dtype=dtype) for a in arrays.values()])
    shape = args[0].shape
    flat = [a.reshape(-1) for a in args]
    out = jax.vmap(fn)(*flat)
    return out.reshape(shape)


def nodes(dtype):
    """Reduced-energy nodes u and weights w of quadrature.reduced_grid, as ``dtype``."""
    u, w = reduced_grid()
    return jnp.asarray(u, dtype=dtype), jnp.asarray(w, dtype=dtype)
