"""The compiled solve of one fit as ONE XLA:CPU kernel, and its inputs as one vector.

Why: a fit of a few hundred points is far too small for XLA:CPU's thunk
runtime.  That runtime executes a compiled program as a graph of small
kernels ("thunks"), dispatching independent ones to a thread pool; for a
Levenberg-Marquardt loop over an 85-point model that is ~100 kernels per
iteration, and on CPU the handoffs between threads (wake-ups, work
stealing, context switches) cost far more than the arithmetic (measured with
``perf``: most of the time in ``Eigen::ThreadPool`` and the scheduler, a few
percent in the generated code).  XLA:CPU can instead compile a sub-computation
into a single function when its ``call`` carries the frontend attribute
``xla_cpu_small_call`` (what its ``SmallWhileLoopHoistingPass`` does for
small while loops); :func:`solve_kernel` puts the whole solve (data slicing,
solver loop, Jacobian at the optimum) in such a call, tagged by
:func:`jtls._xla.single_function` (JAX's public ``set_xla_metadata``).
Nothing is changed globally (no XLA flags): it applies to this executable only.

Observables registered with ``single_kernel=False`` (the simulated-DOS
models, whose evaluation is a matrix product with the library's table rows)
use the ordinary program too: the single-function emitter writes a matrix
product as plain loops, which made those fits 2-3x slower
(``python benchmarks/bench_simulated.py --kernel-ab``, benchmarks/README.md).

Datasets longer than the observables' evaluation chunk
(:data:`jtls.observables._common.CHUNK`, evaluated by a ``lax.map`` over
chunks) use the ordinary program: XLA:CPU's single-function emitter fails on
that loop.  The single-kernel emitter supports fewer operations than the thunk runtime
(no custom calls -- hence the plain-jnp 7 x 7 solves of
:func:`jtls.fit.solvers.spd_solve` -- and no scatter -- hence the parameter lists of
:func:`jtls.fit.objective.param_list` instead of ``.at[].set``); if compiling a model this way fails, the
same computation is compiled the ordinary way and that choice is remembered
for the problem structure.  The results agree to rounding (summation order in
the dot products), the elementwise functions are bit-identical.

Inputs: the numbers of a problem travel as one float64 vector
(:func:`flatten_inputs`), one host-to-device copy instead of one per array.
Every dataset in it is padded to a size bucket
(:func:`jtls.fit.objective.bucket_size`, zero-weight points), so a new
dataset of similar length reuses the compiled solve; :func:`dispatch_solve`
drops the padding rows of r and J before anything else sees them.

:class:`SingleKernel` gives other programs (the batched solves of
:mod:`jtls.fit.batch` and :mod:`jtls.fit.constrained`) the same one-kernel
build with the same fallback.
"""
from __future__ import annotations

import os
import time
from functools import partial

import numpy as np
import jax
import jax.numpy as jnp

from .objective import Arrays, TermArrays, pad_arrays, real_rows
from .solvers import SolverOut, solve_and_jacobian

from .. import _exported
from .._xla import single_function, single_function_available
from ..observables import _common as _observables_common

#: Problem structures (method, spec, sizes, options) whose single-kernel
#: compilation failed; they use the ordinary compiled program.
KERNEL_FAILED: set = set()

#: Set to False to always use the ordinary compiled program (for comparisons).
USE_SINGLE_KERNEL = True


def flatten_inputs(u0, arrays: Arrays):
    """(one float64 vector holding u0 and every array of ``arrays``, their sizes).

    Every term is first padded to its size bucket
    (:func:`jtls.fit.objective.pad_arrays`).  Layout, field by field: u0,
    x_all, every term's T, every term's y, ..., every term's ctx (so that
    e.g. the y of all terms are contiguous)."""
    arrays = pad_arrays(arrays)
    leaves = [u0, arrays.x_all] + [a for field in zip(*arrays.terms) for a in field]
    sizes = tuple(len(a) for a in leaves)
    return np.concatenate(leaves).astype(np.float64, copy=False), sizes


def unflatten_inputs(flat, sizes):
    """Inverse of :func:`flatten_inputs` (static slices; JAX-traceable): (u0, Arrays)."""
    pieces, o = [], 0
    for k in sizes:
        pieces.append(flat[o:o + k])
        o += k
    n_fields = len(TermArrays._fields)
    K = (len(pieces) - 2) // n_fields
    terms = tuple(TermArrays(*[pieces[2 + f * K + k] for f in range(n_fields)]) for k in range(K))
    return pieces[0], Arrays(terms, pieces[1])


def _solve(method, spec, sizes, flat, opts):
    u0, arrays = unflatten_inputs(flat, sizes)
    out, x, r, J = solve_and_jacobian(method, spec, u0, arrays, opts)
    f = lambda a: jnp.ravel(jnp.asarray(a, dtype=jnp.float64))  # noqa: E731
    return jnp.concatenate([f(out.u), f(x), f(out.n_steps), f(out.status), f(r), f(J)])


#: The solve as an ordinary compiled program: -> [u, x, n_steps, status, r, J].
solve_program = jax.jit(_solve, static_argnums=(0, 1, 2, 4))


#: Options of the single-kernel executable only: XLA:CPU wraps reductions
#: (the quadrature sums of the observables) in "YNN" fusions, which the
#: single-function emitter cannot build ("Fusion kind not implemented on
#: CPU", logged as "Compute function stack is not empty"); turned off for this
#: executable, the reductions are emitted inline.  The option is experimental:
#: a jaxlib that rejects it lands in the ordinary-program fallback.
SINGLE_KERNEL_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def _solve_kernel(method, spec, sizes, flat, opts):
    return single_function(solve_program(method, spec, sizes, flat, opts))


#: :data:`solve_program` compiled as one XLA:CPU kernel (see module docstring).
solve_kernel = jax.jit(_solve_kernel, static_argnums=(0, 1, 2, 4), compiler_options=SINGLE_KERNEL_OPTIONS)


def spec_single_kernel(spec) -> bool:
    """Whether every observable of ``spec`` allows the one-kernel build
    (``register_observable(..., single_kernel=)``; False for models built on matrix products)."""
    return all(t.observable.single_kernel for t in spec.terms)


def _single_kernel_ok(key) -> bool:
    return (USE_SINGLE_KERNEL and key not in KERNEL_FAILED and single_function_available()
            and _max_term_points(key[2]) <= _observables_common.CHUNK and spec_single_kernel(key[1]))


def _term_points(sizes) -> tuple:
    """Points of every term (padding included) from the layout ``sizes`` of :func:`flatten_inputs`."""
    k = (len(sizes) - 2) // len(TermArrays._fields)
    return tuple(sizes[2:2 + k])


def _max_term_points(sizes) -> int:
    """Largest dataset of a problem from the layout ``sizes`` of :func:`flatten_inputs`."""
    return max(_term_points(sizes), default=0)


def dispatch_solve(method, spec, sizes, flat, opts, real=None):
    """Start the compiled solve of the inputs ``flat`` (layout ``sizes``, see
    :func:`flatten_inputs`) asynchronously and return a function that waits
    for it and returns numpy ``(out, x, r, J)`` (``out``: SolverOut with u,
    n_steps, status).  The caller can do Python work in between.

    ``real``: the number of real (not padding) points of every term; the rows
    of r and J of the padding are then dropped (None: all rows returned)."""
    key = (method, spec, sizes, opts)
    v = None
    if _single_kernel_ok(key):
        try:
            v = _exported.call("solve_kernel", solve_kernel, (0, 1, 2, 4), (method, spec, sizes, flat, opts),
                               SINGLE_KERNEL_OPTIONS, fun=_solve_kernel)
        except Exception:  # noqa: BLE001 -- an op the single-kernel emitter lacks
            KERNEL_FAILED.add(key)
    if v is None:
        v = _exported.call("solve_program", solve_program, (0, 1, 2, 4), (method, spec, sizes, flat, opts))
    rows = None
    if real is not None:
        padded = _term_points(sizes)
        if tuple(real) != tuple(padded):
            rows = real_rows(real, padded)
    return partial(_unpack, v, sizes[0], rows)


class SingleKernel:
    """A jitted program (returning ONE array) with a one-kernel variant.

    ``SingleKernel(fun, static_argnums)(key, *args)`` runs ``fun`` compiled
    as one XLA:CPU function (see the module docstring) when that is
    available and did not fail before for ``key`` (a hashable description of
    the problem structure), else as the ordinary program.  Used for the
    batched solves (bootstrap, many datasets, constrained re-solves), whose
    per-problem work is as small as a single fit's.
    """

    def __init__(self, fun, static_argnums):
        self.name = f"{fun.__module__}.{fun.__qualname__}"
        self.static_argnums = tuple(static_argnums)
        self.program = jax.jit(fun, static_argnums=static_argnums)
        self.kernel_fun = lambda *a: single_function(self.program(*a))
        self.kernel = jax.jit(self.kernel_fun, static_argnums=static_argnums, compiler_options=SINGLE_KERNEL_OPTIONS)

    def __call__(self, key, *args, allowed=True):
        if allowed and USE_SINGLE_KERNEL and key not in KERNEL_FAILED and single_function_available():
            try:
                return _exported.call(self.name + ".kernel", self.kernel, self.static_argnums, args,
                                      SINGLE_KERNEL_OPTIONS, fun=self.kernel_fun)
            except Exception:  # noqa: BLE001 -- an op the single-kernel emitter lacks
                KERNEL_FAILED.add(key)
        return _exported.call(self.name, self.program, self.static_argnums, args)

    def cache_size(self) -> int:
        """Compiled variants held (both programs): counts compilations in tests."""
        return self.program._cache_size() + self.kernel._cache_size()


#: How long (s) the caller polls for the result of a dispatched solve before it
#: blocks.  XLA:CPU runs a compiled program on a worker thread; a blocking wait
#: puts the caller to sleep and costs a thread wake-up (measured ~40 us per fit
#: on the shared 2-core machine) once the short solve is done.  Polling (with
#: ``sched_yield``, so that a worker on the same core gets to run) for at most
#: this long avoids that; longer solves still end in a blocking wait.
SPIN_SECONDS = 0.002

_yield = getattr(os, "sched_yield", lambda: None)   # not on every platform


def wait_ready(v, spin_seconds=None):
    """Poll ``v.is_ready()`` for up to ``spin_seconds`` (default :data:`SPIN_SECONDS`)."""
    spin = SPIN_SECONDS if spin_seconds is None else spin_seconds
    if spin > 0 and hasattr(v, "is_ready"):
        t_end = time.perf_counter() + spin
        while not v.is_ready() and time.perf_counter() < t_end:
            _yield()
    return v


def _unpack(v, n, rows=None):
    """-> (out, x, r, J) from the vector of :func:`_solve` (only ``rows`` of r and J, if given)."""
    v = np.asarray(wait_ready(v))
    o = 2 * n + 2
    m = (v.size - o) // (n + 1)
    u, x = v[:n], v[n:2 * n]
    n_steps, status = int(v[2 * n]), int(v[2 * n + 1])
    r = v[o:o + m]
    J = v[o + m:].reshape(m, n)
    if rows is not None:
        r, J = r[rows], J[rows]
    return SolverOut(u, None, n_steps, status), x, r, J
