"""Compile a call as ONE XLA:CPU function (used by jtls.fit.kernel and jtls.anneal.run).

XLA:CPU normally runs a compiled program as a graph of small kernels handed
between threads; for small per-step work (an LM iteration, a Metropolis
attempt) those hand-offs cost more than the arithmetic.  A ``call`` carrying
the frontend attribute ``xla_cpu_small_call`` is emitted as a single function
instead.  The attribute is set per call with JAX's public
``jax.experimental.xla_metadata.set_xla_metadata`` -- no global flags.  That
emitter lacks some operations (custom calls, scatter); callers keep the
ordinary program as a fallback.
"""
from __future__ import annotations

import jax

try:  # public since JAX 0.4.36; without it callers use the ordinary program
    from jax.experimental.xla_metadata import set_xla_metadata as _set_xla_metadata
except ImportError:  # pragma: no cover
    _set_xla_metadata = None


def single_function_available() -> bool:
    """True when calls can be tagged and the default backend is the CPU."""
    return _set_xla_metadata is not None and jax.default_backend() == "cpu"


def single_function(value):
    """Tag the call that produced ``value`` (the traced output of a jitted
    function, called inside another jit) to be compiled as one function."""
    return _set_xla_metadata(value, xla_cpu_small_call="true", inlineable="false")
