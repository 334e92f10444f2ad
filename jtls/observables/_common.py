"""Shared plumbing of the observables: validation, broadcasting, batching, nodes."""
from __future__ import annotations

import math
import sys
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

from .. import _exported
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


def present(**values):
    """ValueError naming an argument that is None or a concrete empty array (the checks
    above skip None as "not given", and an empty parameter would broadcast T to nothing)."""
    for name, value in values.items():
        if value is None:
            raise ValueError(f"argument {name!r} is required, got None")
        if V.is_concrete(value) and np.size(value) == 0:
            raise ValueError(f"argument {name!r} is empty")


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
#: A kernel with many more nodes per point (the 2-d quadrature of Eq. (A2))
#: declares a smaller chunk as the attribute ``points_per_chunk``.
CHUNK = 1024


def _chunk_of(fn) -> int:
    return int(getattr(fn, "points_per_chunk", CHUNK))


def _map_points(one, arrays, chunk=CHUNK):
    """``one`` applied to every element of the equal-length 1-d ``arrays``."""
    n = arrays[0].shape[0]
    if n <= chunk:
        return jax.vmap(one)(*arrays)
    return jax.lax.map(lambda xs: one(*xs), tuple(arrays), batch_size=chunk)


def _broadcast_batch(x, batched, size):
    return x if batched else jnp.broadcast_to(x, (size,) + jnp.shape(x))


def _batch_rule(evaluate, raw, chunk):
    """vmap rule of a points function ``evaluate(dos, *xs) -> pytree of (n,) arrays``
    (``raw``: the same function without the rule).

    A user's ``jax.vmap`` (of the function or of its derivatives) would put the
    batch on top of every point's quadrature nodes, all at once -- e.g.
    ``vmap(grad(...))`` over 1200 temperatures of Eq. (A2) asked for 27 GB.
    Instead, a batch over the points is flattened into more points, which
    ``evaluate`` runs in bounded chunks; a batched DOS model (a vmap over its
    parameters) is mapped over, as many batch members at a time as fit in one
    chunk of points."""
    def rule(axis_size, in_batched, dos, *xs):
        dos_b, xs_b = in_batched[0], in_batched[1:]
        n = xs[0].shape[-1]
        if any(jax.tree.leaves(dos_b)):
            dos_in = jax.tree.map(lambda leaf, b: _broadcast_batch(leaf, b, axis_size), dos, dos_b)
            xs_in = tuple(_broadcast_batch(x, b, axis_size) for x, b in zip(xs, xs_b))
            per = max(1, chunk // max(n, 1))
            if axis_size <= per:
                out = jax.vmap(raw)(dos_in, *xs_in)
            else:
                out = jax.lax.map(lambda a: raw(a[0], *a[1]), (dos_in, xs_in), batch_size=per)
        else:
            flat = [_broadcast_batch(x, b, axis_size).reshape(-1) for x, b in zip(xs, xs_b)]
            out = jax.tree.map(lambda o: o.reshape(axis_size, n), evaluate(dos, *flat))
        return out, jax.tree.map(lambda _: True, out)
    return rule


@lru_cache(maxsize=None)
def _points(fn, with_dos: bool):
    """``fn`` over equal-length 1-d arrays, with memory bounded under every transformation.

    Returns ``f(dos, *xs) -> (n,)`` (``dos`` None without a DOS model):

    * evaluation: :func:`_map_points` in chunks of :func:`_chunk_of` points;
    * ``jax.vmap`` of ``f`` (or of its derivatives): flattened into more points
      (:func:`_batch_rule`), not stacked on top of the chunks;
    * derivatives in the point arguments: a ``custom_jvp`` whose tangent is
      ``sum_i (df/dx_i) t_i`` with the per-point partials ``df/dx_i`` computed
      chunk by chunk (reverse mode per point, only for the arguments actually
      differentiated).  The tangent is linear in ``t_i`` with coefficients that
      do not depend on it, so reverse mode (``grad``) transposes it, and the
      partials function carries the same vmap rule -- ``vmap(grad(f))`` stays in
      bounded chunks;
    * derivatives in the DOS model's parameters: plain JAX forward mode of the
      chunked map (bounded when not vmapped).
    """
    chunk = _chunk_of(fn)

    def one_fn(dos):
        return (lambda *x: fn(dos, *x)) if with_dos else fn

    def raw(dos, *xs):
        return _map_points(one_fn(dos), xs, chunk)

    values = jax.custom_batching.custom_vmap(raw)
    values.def_vmap(_batch_rule(values, raw, chunk))

    @lru_cache(maxsize=None)
    def partials(which):
        def raw_partials(dos, *xs):
            def vg(*x):
                return jax.value_and_grad(one_fn(dos), argnums=which)(*x)
            return _map_points(vg, xs, chunk)

        p = jax.custom_batching.custom_vmap(raw_partials)
        p.def_vmap(_batch_rule(p, raw_partials, chunk))
        # higher derivatives (rare): plain forward mode of the chunked map
        q = jax.custom_jvp(p)
        q.defjvp(lambda primals, tangents: jax.jvp(raw_partials, primals, tangents))
        return q

    f = jax.custom_jvp(values)

    def f_jvp(primals, tangents):
        dos, *xs = primals
        t_dos, *t_xs = tangents
        which = tuple(i for i, t in enumerate(t_xs) if not isinstance(t, SymbolicZero))
        if which:
            out, parts = partials(which)(dos, *xs)
            t_out = sum(p * t_xs[i] for p, i in zip(parts, which))
        else:
            out = values(dos, *xs)
            t_out = jnp.zeros_like(out)
        dos_t = jax.tree.leaves(t_dos, is_leaf=lambda t: isinstance(t, SymbolicZero))
        if any(not isinstance(t, SymbolicZero) for t in dos_t):
            t_dos = jax.tree.map(lambda t, d: jnp.zeros_like(d) if isinstance(t, SymbolicZero) else t,
                                 t_dos, dos, is_leaf=lambda t: isinstance(t, SymbolicZero))
            t_out = t_out + jax.jvp(lambda d: raw(d, *xs), (dos,), (t_dos,))[1]
        return out, t_out

    f.defjvp(f_jvp, symbolic_zeros=True)
    return f


@lru_cache(maxsize=None)
def _compiled(fn, with_dos: bool):
    f = _points(fn, with_dos)
    if with_dos:
        return jax.jit(lambda dos, *a: f(dos, *a))
    return jax.jit(lambda *a: f(None, *a))


def lists_to_arrays(arrays: dict) -> dict:
    """The named inputs with Python lists/tuples as float arrays; Python scalars stay weakly
    typed (float32 in -> float32 out) and arrays are passed through."""
    return {k: (np.asarray(v, dtype=float) if isinstance(v, (list, tuple)) else v)
            for k, v in arrays.items()}


def batched(fn, dos=None, **arrays):
    """Broadcast the named arrays, apply ``fn`` to every element (jit + vmap), restore the shape.

    ``fn`` is a module-level function receiving 0-d arrays (positionally, in
    the given order; preceded by ``dos`` when a DOS model is given, which is
    passed through unbatched) and returning a 0-d result.  The compiled
    function is cached per ``fn``.  The common float dtype of the inputs is
    kept (float32 in, float32 out).
    """
    present(**arrays)
    arrays = lists_to_arrays(arrays)
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
        out = _exported.call("observable", _compiled(fn, False), (), tuple(flat), extra=(fn,))
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
