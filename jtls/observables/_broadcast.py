"""Elementwise evaluation over broadcast arguments, shared by the Matthiessen observables.

:func:`_broadcast_apply` broadcasts the arguments of :mod:`.matthiessen` and
:mod:`.matthiessen_si` to a common float dtype, checks them and applies a
vmapped, compiled element function (one compilation per input shape).
"""
from __future__ import annotations

import sys

import jax.numpy as jnp

from .. import _validate as V
from . import _common as c


def _broadcast_apply(fn, dos, **arrays):
    """Broadcast the arrays (common float dtype), apply the vmapped ``fn`` elementwise, reshape."""
    c.present(**arrays)
    arrays = c.lists_to_arrays(arrays)
    V.broadcastable(**arrays)
    if dos is not None and "T" in arrays:
        V.dos_positive(dos, arrays["T"])
    dtype = jnp.result_type(*arrays.values(), float)
    args = jnp.broadcast_arrays(*[jnp.asarray(a, dtype=dtype) for a in arrays.values()])
    shape = args[0].shape
    out = fn(dos, *[a.reshape(-1) for a in args]).reshape(shape)
    V.finite_result(sys._getframe(1).f_code.co_name, out, **arrays)
    return out
