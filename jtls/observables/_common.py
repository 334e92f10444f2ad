"""Shared plumbing of the observables: validation, broadcasting, batching, nodes."""
from __future__ import annotations

import math
import sys
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as V
from ..quadrature import ORDER, REDUCED_EDGES, panel_nodes, reduced_grid


#: Units named in the messages of :func:`check`.
_UNITS = {"T": "K", "T_ref": "K", "A": "s^-1 K^-3", "omega": "rad/s", "v_l": "m/s",
          "v_t": "m/s", "B": "K^-(1+mu)", "E": "K"}


#: Wider ranges for arguments that enter only through their logarithm (A: ln(omega tau_min)),
#: so that e.g. a runaway fit's A = 1e102 can still be evaluated and plotted.
_RANGES = {"A": (1e-300, 1e300)}


def check(T=None, mu=None, **positive):
    """Validate concrete inputs; raises ValueError naming the argument.

    T and every keyword must be finite and inside [V.VALUE_MIN, V.VALUE_MAX]
    (> 0; A inside [1e-300, 1e300]); mu inside [V.MU_MIN, V.MU_MAX].
    """
    if T is not None:
        V.in_domain("T", T, _UNITS["T"])
    if mu is not None:
        V.mu_in_range("mu", mu)
    for name, value in positive.items():
        if value is not None:
            V.in_domain(name, value, _UNITS.get(name, ""), *_RANGES.get(name, ()))


def amplitudes(**values):
    """Non-negative finite prefactors (C, C_dip): ValueError naming the argument otherwise."""
    for name, value in values.items():
        V.amplitude(name, value)


def finite_args(**values):
    for name, value in values.items():
        V.finite(name, value)


#: Points evaluated together: longer inputs run in chunks of this many (a
#: ``lax.map`` over chunks, each vmapped), so the quadrature's intermediates
#: (points x nodes, times the tangents of a Jacobian) stay bounded whatever
#: the number of temperatures; shorter inputs are one vmapped call as before.
CHUNK = 1024


def _map_points(one, arrays):
    """``one`` applied to every element of the equal-length 1-d ``arrays``."""
    n = arrays[0].shape[0]
    if n <= CHUNK:
        return jax.vmap(one)(*arrays)
    return jax.lax.map(lambda xs: one(*xs), tuple(arrays), batch_size=CHUNK)


@lru_cache(maxsize=None)
def _compiled(fn, with_dos: bool):
    if with_dos:
        return jax.jit(lambda dos, *a: _map_points(lambda *x: fn(dos, *x), a))
    return jax.jit(lambda *a: _map_points(fn, a))


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
    if dos is not None and "T" in arrays:
        V.dos_positive(dos, arrays["T"])
    if dos is not None and "T_ref" in arrays:
        V.dos_T_range(dos, arrays["T_ref"], "T_ref")
    dtype = jnp.result_type(*arrays.values(), float)
    args = jnp.broadcast_arrays(*[jnp.asarray(a, dtype=dtype) for a in arrays.values()])
    shape = args[0].shape
    flat = [a.reshape(-1) for a in args]
    if dos is None:
        out = _compiled(fn, False)(*flat)
    else:
        out = _compiled(fn, True)(dos, *flat)
    out = out.reshape(shape)
    # concrete call: no NaN/inf may leave silently (named after the public caller)
    V.finite_result(sys._getframe(1).f_code.co_name, out, **arrays)
    return out


def nodes(dtype):
    """Reduced-energy nodes u and weights w of quadrature.reduced_grid, as ``dtype``."""
    u, w = reduced_grid()
    return jnp.asarray(u, dtype=dtype), jnp.asarray(w, dtype=dtype)


def u_max(T, dos):
    """Upper end e_max/T of a reduced-energy integral (None when ``dos.e_max`` is infinite).

    Energy integrals stop at the model's largest energy ``dos.e_max`` (K; a
    TabulatedDOS's largest tabulated energy); T (K) is a 0-d array.
    """
    e_max = getattr(dos, "e_max", math.inf)
    if isinstance(e_max, (int, float)) and math.isinf(e_max):
        return None
    return e_max / T


def nodes_to_e_max(T, dos):
    """Nodes u and weights w (in u = E/T) of :func:`nodes`, on [0, min(80, e_max/T)].

    The panel edges of :data:`jtls.quadrature.REDUCED_EDGES` are clipped at
    e_max/T (panels beyond collapse to zero width and contribute nothing; the
    panel holding e_max/T keeps its Gauss nodes), so the integral stops at
    dos.e_max and d/dT includes the moving end point.  For e_max = inf this is
    exactly :func:`nodes`.  T (K) is a 0-d array; shapes (n,) each.
    """
    top = u_max(T, dos)
    if top is None:
        return nodes(T.dtype)
    edges = jnp.minimum(jnp.asarray(REDUCED_EDGES, dtype=T.dtype), top)
    return panel_nodes(edges, ORDER)
