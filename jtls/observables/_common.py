"""Shared plumbing of the observables: validation, broadcasting, batching, nodes."""
from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

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


@lru_cache(maxsize=None)
def _compiled(fn, with_dos: bool):
    if with_dos:
        return jax.jit(lambda dos, *a: jax.vmap(lambda *x: fn(dos, *x))(*a))
    return jax.jit(jax.vmap(fn))


def batched(fn, dos=None, **arrays):
    """Broadcast the named arrays, apply ``fn`` to every element (jit + vmap), restore the shape.

    ``fn`` is a module-level function receiving 0-d arrays (positionally, in
    the given order; preceded by ``dos`` when a DOS model is given, which is
    passed through unbatched) and returning a 0-d result.  The compiled
    function is cached per ``fn``.  The common float dtype of the inputs is
    kept (float32 in, float32 out).
    """
    # lists/tuples become arrays; Python scalars stay weakly typed (float32 in -> float32 out)
    arrays = {k: (np.asarray(v, dtype=float) if isinstance(v, (list, tuple)) else v)
              for k, v in arrays.items()}
    V.broadcastable(**arrays)
    dtype = jnp.result_type(*arrays.values(), float)
    args = jnp.broadcast_arrays(*[jnp.asarray(a, dtype=dtype) for a in arrays.values()])
    shape = args[0].shape
    flat = [a.reshape(-1) for a in args]
    if dos is None:
        out = _compiled(fn, False)(*flat)
    else:
        out = _compiled(fn, True)(dos, *flat)
    return out.reshape(shape)


def nodes(dtype):
    """Reduced-energy nodes u and weights w of quadrature.reduced_grid, as ``dtype``."""
    u, w = reduced_grid()
    return jnp.asarray(u, dtype=dtype), jnp.asarray(w, dtype=dtype)
