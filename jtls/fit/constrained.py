"""Batched constrained solves: the same problem with some parameters held at given values.

Profile likelihoods, fits on a physical bound and likelihood-ratio tests all
need many re-solves of one problem with one (or a few) free parameters held
at chosen values.  They share one compiled program: the Levenberg-Marquardt
solver of :mod:`jtls.fit.solvers` with a column mask (held parameters get
zero Jacobian columns, hence exactly zero steps), mapped over a batch of
``(start point, mask)`` pairs.  The structure (``Spec``) does not change, so
every choice of held parameters, every grid value and every dataset of the
same layout reuses the compiled code.

A held value on a bound maps to the internal value :data:`U_BOUND` (the
transforms clip their argument there: the physical value is the bound to
within 1e-304 of the scale).
"""
from __future__ import annotations

import atexit
import functools
import math
import threading
from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp

from .params import KIND_FREE, KIND_LOWER, KIND_UPPER
from .objective import Arrays, Spec, bucket_size, chi2_u, pad_arrays, real_rows, residual_x
from .solvers import SolverOptions, levenberg_marquardt
from .kernel import SingleKernel, spec_single_kernel
from ..observables import _common as _observables_common

#: Internal value that puts a bounded parameter on its bound (|u| beyond which
#: :meth:`jtls.fit.params.Transform.to_physical` clips).
U_BOUND = 700.0

#: |u| beyond which a bounded parameter counts as on its bound for a continuation
#: (:func:`solve_held` with ``follow``): exp(-20) ~ 2e-9 of its scale from the bound.
SATURATED = 20.0

#: Tolerances of the constrained re-solves (the optimum they start from is close).
OPTIONS = SolverOptions(max_steps=60, ftol=1e-12, xtol=1e-13, gtol=1e-11)

#: Solver codes accepted as a conditional optimum: converged, or stalled (no
#: further decrease possible at rounding level; common on flat profiles).
ACCEPT = (0, 3)


class Constrained(NamedTuple):
    """Numpy results of a batch of constrained solves (leading axis: batch).

    u, x : (b, n) internal and physical values; chi2 : (b,); status : (b,)
    solver codes (0 converged); r : (b, m) weighted residuals; J : (b, m, n)
    Jacobian d r / d x in the physical values, every column (held ones
    included, also on a bound); dxdu : (b, n).
    """
    u: np.ndarray
    x: np.ndarray
    chi2: np.ndarray
    status: np.ndarray
    r: np.ndarray
    J: np.ndarray
    dxdu: np.ndarray

    def grad_x(self, j) -> np.ndarray:
        """d chi^2 / d x_j at each solution (the slope of a profile: envelope theorem)."""
        return 2.0 * np.einsum("bm,bm->b", self.r, self.J[:, :, j])

    def grad_u(self, j) -> np.ndarray:
        """d chi^2 / d u_j at each solution."""
        return self.grad_x(j) * self.dxdu[:, j]


def _solve_rows(spec: Spec, u0s, masks, live, arrays: Arrays, opts: SolverOptions, follow, prev0,
                vmapped: bool = False, skip: tuple = (), given=None):
    """One vector per row: [u (n), x (n), chi2, status, dxdu (n), r (m), J (m n)].

    Rows run in order; a row with ``follow`` = 1 starts its free entries at the previous row's
    solution (``prev0`` before the first row) instead of its own ``u0s`` row: a continuation along
    a grid of held values, whose neighbouring solutions are close.  ``vmapped`` (static): all rows
    solved together in one vmapped loop instead (no continuation; padding rows solved too).
    ``skip`` (static): free positions held in every row; the solver does not differentiate
    them, and their columns of the Jacobian returned at the solutions are zeros (the callers that
    pass it -- the global scan -- use chi^2 and u only).
    ``given`` (optional): ``(r0s (b, m), Jx0s (b, m, n), ok (b,))``, the residuals and Jacobian
    d r / d x at each row's start where ``ok`` (the solver's start state; see
    :func:`jtls.fit.solvers.levenberg_marquardt`); not with ``follow`` rows or ``vmapped``.
    The residuals and Jacobian of each solution are those of the solver's last accepted step.
    """
    tr = spec.transform()

    def solve(args):
        u0, mask, _, st = args
        out = levenberg_marquardt(spec, u0, arrays, opts, mask=mask, skip=skip,
                                  start=None if st is None else st[:2], start_ok=None if st is None else st[2] > 0)
        x = tr.to_physical(out.u)
        r = out.r
        dxdu = jax.jvp(tr.to_physical, (out.u,), (jnp.ones_like(out.u),))[1]
        return jnp.concatenate([out.u, x, jnp.stack([r @ r, jnp.asarray(out.status, x.dtype)]), dxdu, r,
                                jnp.ravel(out.Jx)])

    def padding(args):            # a padding row: not solved (see solve_held)
        u0 = args[0]
        n = u0.shape[0]
        m = sum(t.T.shape[0] for t in arrays.terms)
        return jnp.concatenate([u0, u0, jnp.zeros(2 + n + m + m * n, u0.dtype)])

    def one(prev, args):
        u0, mask, alive, fol, st = args
        # the free entries of the previous solution (not those on a bound or not finite: carried)
        start = jnp.where(fol > 0, carried(spec, prev, u0, mask), u0)
        row = jax.lax.cond(alive > 0, solve, padding, (start, mask, alive, st))
        u = row[:u0.shape[0]]
        return jnp.where(alive > 0, u, prev), row

    if vmapped:
        return jax.vmap(lambda a, b, c: solve((a, b, c, None)))(u0s, masks, live)
    return jax.lax.scan(one, prev0, (u0s, masks, live, follow, given))[1]


#: The constrained solves of a chunk (one compiled program per problem
#: structure and padded size; one XLA:CPU kernel where possible).
_solve_program = SingleKernel(_solve_rows, static_argnums=(0, 5, 8, 9))


def internal(spec: Spec, j: int, x: float) -> float:
    """Internal value u_j of physical value ``x`` of free parameter ``j`` (bounds -> +-U_BOUND)."""
    kind, lo, hi = spec.kinds[j], spec.lo[j], spec.hi[j]
    if kind == KIND_FREE:
        return float(x)
    if kind == KIND_LOWER:
        d = x - lo
        return math.log(d) if d > 0 else -U_BOUND
    if kind == KIND_UPPER:
        d = hi - x
        return math.log(d) if d > 0 else -U_BOUND
    f = (x - lo) / (hi - lo)
    if f <= 0:
        return -U_BOUND
    if f >= 1:
        return U_BOUND
    return max(-U_BOUND, min(U_BOUND, math.log(f) - math.log1p(-f)))


#: Rows per compiled call: batches are cut into chunks of this size, the last
#: padded with rows that are not solved (a branch skips them), so one
#: compiled program per problem structure serves batches of any length.
#: The datasets are padded to their size buckets
#: (:func:`jtls.fit.objective.pad_arrays`), so one program also serves
#: datasets of similar length; the padding rows of r and J are dropped.
CHUNK = 8


def _program(spec: Spec, lengths: tuple, opts: SolverOptions, vmapped: bool, skip: tuple) -> tuple:
    """(key of :data:`_solve_program`'s compiled variant for this problem structure, whether the
    one-kernel build is allowed): the one rule of :func:`solve_held` and :func:`prefetch_held`."""
    small = max(lengths, default=0) <= _observables_common.CHUNK and spec_single_kernel(spec)
    return ("held", spec, lengths, opts, bool(vmapped), skip), small


def solve_held(spec: Spec, arrays: Arrays, u0s, masks, opts: SolverOptions = OPTIONS,
               follow=None, vmapped: bool = False, skip: tuple = (), given=None) -> Constrained:
    """Solve a batch of problems (b, n_free) starting at ``u0s`` with the
    entries where ``masks`` is 0 held at their ``u0s`` value.

    ``follow`` (optional, (b,) of 0/1): row i > 0 with ``follow[i]`` = 1 starts its free
    entries at row i - 1's solution (a continuation along a grid of held values, e.g. the
    global scan of :mod:`jtls.fit.scan`); a non-finite solution there falls back to ``u0s[i]``.
    The rows are then solved in order, one after another.

    ``vmapped``: solve all rows in one vmapped loop (every row runs until the slowest has
    stopped; ``follow`` is ignored).  Cheaper for models whose evaluation is a matrix product, where
    a batch of parameter sets costs a fraction of as many single evaluations (the simulated DOS:
    the global J0/h0 scan of :mod:`jtls.fit.scan`).

    ``skip``: free positions held (mask 0) in every row; not differentiated, and their columns
    of ``J`` are zeros.

    ``given`` (optional, not with ``follow`` or ``vmapped``): ``(r0s (b, m), Jx0s (b, m, n),
    ok (b,))``, the weighted residuals and Jacobian d r / d x at the rows' starts ``u0s``, used
    where ``ok`` instead of evaluating the model there (a start at a solution of data that
    differ only in their values; see :func:`shifted_start`)."""
    u0s = np.asarray(u0s, float)
    masks = np.asarray(masks, float)
    if u0s.ndim != 2 or u0s.shape != masks.shape:
        raise ValueError(f"solve_held: u0s {u0s.shape} and masks {masks.shape} must be (batch, n_free)")
    b, n = u0s.shape
    real = [t.T.shape[0] for t in arrays.terms]
    padded = pad_arrays(arrays)
    lengths = tuple(t.T.shape[0] for t in padded.terms)
    m = sum(lengths)
    chunk = -(-b // 4) * 4 if vmapped else CHUNK     # vmapped: one call (padded to a multiple of 4)
    pad = (-b) % chunk
    live = np.r_[np.ones(b), np.zeros(pad)]
    fol = np.zeros(b) if follow is None else np.asarray(follow, float).reshape(b)
    fol = np.r_[0.0, fol[1:], np.zeros(pad)]
    if pad:
        u0s = np.concatenate([u0s, np.repeat(u0s[-1:], pad, axis=0)])
        masks = np.concatenate([masks, np.zeros((pad, masks.shape[1]))])
    skip = tuple(sorted(int(j) for j in skip))
    if skip and np.any(masks[:, list(skip)] != 0):
        raise ValueError(f"solve_held: positions {skip} in 'skip' must be held (mask 0) in every row")
    rows = real_rows(real, lengths)
    if given is not None:
        if vmapped or follow is not None:
            raise ValueError("solve_held: 'given' start states are not for vmapped or follow rows")
        g_r = np.zeros((b + pad, m))
        g_J = np.zeros((b + pad, m, n))
        g_r[:b, rows] = np.asarray(given[0], float)
        g_J[:b, rows] = np.asarray(given[1], float)
        given = (g_r, g_J, np.r_[np.asarray(given[2], float).reshape(b), np.zeros(pad)])
    key, small = _program(spec, lengths, opts, vmapped, skip)
    _await_prefetch(key)
    key = key + (given is not None,)      # the start states change the program
    parts, prev = [], u0s[0]
    for i in range(0, u0s.shape[0], chunk):
        g = None if given is None else tuple(a[i:i + chunk] for a in given)
        parts.append(_solve_program(key, spec, u0s[i:i + chunk], masks[i:i + chunk], live[i:i + chunk], padded,
                                    opts, fol[i:i + chunk], prev, bool(vmapped), skip, g, allowed=small))
        if not vmapped and fol[i + chunk:i + chunk + 1].any():   # the next chunk continues from this one's last row
            prev = np.asarray(parts[-1])[-1, :n]
    v = np.concatenate([np.asarray(p) for p in parts])[:b]
    o = 3 * n + 2
    r = v[:, o:o + m][:, rows]
    J = v[:, o + m:].reshape(b, m, n)[:, rows]
    return Constrained(v[:, :n], v[:, n:2 * n], v[:, 2 * n], v[:, 2 * n + 1].astype(np.int32), r, J,
                       v[:, 2 * n + 2:3 * n + 2])


_prefetching: dict = {}       # key of solve_held's program -> the thread compiling it
_prefetched: set = set()


def prefetch_held(spec: Spec, arrays: Arrays, opts: SolverOptions = OPTIONS) -> bool:
    """Compile, in a background thread, the program of :func:`solve_held` that the verdict of a
    fit of this problem runs for certain (the held solve at mu's physical bound, every
    verdict's test of mu = 0), while the caller compiles and runs the solve itself.

    On a multi-core CPU the two compilations of a problem's first fit then overlap.  The thread
    calls the program once on rows that are all padding (nothing is solved), which fills the
    jitted program's own cache; :func:`solve_held` waits for the thread before it calls the
    program.  Returns whether a thread was started (once per program and process)."""
    n = spec.n_free
    lengths = tuple(bucket_size(t.T.shape[0]) for t in arrays.terms)     # as pad_arrays pads
    key, small = _program(spec, lengths, opts, False, ())
    if n == 0 or key in _prefetched or key in _prefetching:
        return False
    for k in [k for k, t in _prefetching.items() if not t.is_alive()]:
        del _prefetching[k]             # finished, for a fit whose verdict did not need it
    _prefetched.add(key)
    padded = pad_arrays(arrays, lengths)
    rows = np.zeros((CHUNK, n))
    args = (spec, rows, rows, np.zeros(CHUNK), padded, opts, np.zeros(CHUNK), rows[0], False, (), None)

    def run():
        try:
            jax.block_until_ready(_solve_program(key, *args, allowed=small))
        except Exception:  # noqa: BLE001 -- the real call compiles (and reports) it again
            pass
    t = threading.Thread(target=run, name="jtls-prefetch-held", daemon=True)
    _prefetching[key] = t
    t.start()
    return True


def _await_prefetch(key) -> None:
    t = _prefetching.pop(key, None)
    if t is not None:
        t.join()


@atexit.register
def _finish_prefetches() -> None:
    """Wait, at interpreter exit, for compilations still running in prefetch threads (a fit whose
    verdict ended before its held solve, e.g. status "nan"): the runtime must not be torn down
    under a compiling thread (that aborted the process and lost its exit status)."""
    for key in list(_prefetching):
        _await_prefetch(key)


def carried(spec: Spec, prev, own, free=None):
    """The start carried over from a similar problem's solution ``prev`` (n,): its entries that
    are not finite, lie on a bound (bounded and beyond :data:`SATURATED`, where the gradient
    vanishes) or are held (``free`` = 0) are taken from ``own``.  jnp (also on numpy input)."""
    bounded = jnp.asarray(np.asarray(spec.kinds) != KIND_FREE, dtype=bool)
    use = jnp.isfinite(prev) & ~(bounded & (jnp.abs(prev) > SATURATED))
    if free is not None:
        use = use & (jnp.asarray(free) > 0)
    return jnp.where(use, prev, own)


class SolvedState(NamedTuple):
    """A solution kept as the start of a similar problem's solve: internal values ``u`` (n,), the
    problem's ``arrays``, and its weighted residuals ``r`` (m,) and Jacobian ``Jx`` (m, n, d r /
    d x) there (real points only)."""
    u: np.ndarray
    arrays: Arrays
    r: np.ndarray
    Jx: np.ndarray


def values_change(spec: Spec, a: Arrays, b: Arrays, xp=np) -> tuple:
    """``(same, shift)``: whether the problems of ``a`` and ``b`` (equal shapes) differ at most in
    their values y -- same temperatures, sigma, weights, context and fixed parameter values, as
    noise draws of one measurement -- and the change of the weighted residuals y - f from ``b`` to
    ``a`` at any parameter values, (y_a - y_b) / sigma * sqrt(w) (m,).  ``xp``: numpy, or
    jax.numpy inside a compiled program."""
    fixed = np.setdiff1d(np.arange(np.shape(a.x_all)[-1]), np.asarray(spec.free, int))
    same = xp.all(xp.asarray(a.x_all)[fixed] == xp.asarray(b.x_all)[fixed])
    shift = []
    for ta, tb in zip(a.terms, b.terms):
        for k in ("T", "inv_sigma", "sqrt_w", "ctx"):
            same = same & xp.all(xp.asarray(getattr(ta, k)) == xp.asarray(getattr(tb, k)))
        shift.append((xp.asarray(ta.y) - xp.asarray(tb.y)) * xp.asarray(ta.inv_sigma) * xp.asarray(ta.sqrt_w))
    return same, xp.concatenate(shift) if shift else xp.zeros(0)


def shifted_start(spec: Spec, arrays: Arrays, state: SolvedState):
    """The weighted residuals of ``arrays`` at ``state.u``, without evaluating the model, where
    ``arrays`` differ from ``state.arrays`` only in the values y (:func:`values_change`): the
    residuals are then ``state.r`` shifted by the change of y, and the Jacobian is ``state.Jx`` as
    it is.  None where anything but y differs."""
    old = state.arrays
    shapes = [[np.shape(getattr(t, k)) for k in ("T", "ctx")] for t in arrays.terms]
    if shapes != [[np.shape(getattr(t, k)) for k in ("T", "ctx")] for t in old.terms] or \
            np.shape(old.x_all) != np.shape(arrays.x_all):
        return None
    same, shift = values_change(spec, arrays, old)
    r = np.asarray(state.r, float) + shift if shift.shape == np.shape(state.r) else None
    ok = same and r is not None and np.isfinite(r).all() and np.isfinite(state.Jx).all()
    return r if ok else None


def start_chi2(spec: Spec, arrays: Arrays, u0s) -> np.ndarray:
    """chi^2 at every row of ``u0s`` (b, n internal values): (b,), one compiled call (the
    datasets padded to their size buckets, so similar lengths share it); non-finite -> inf."""
    return np.asarray(_start_chi2(spec, pad_arrays(arrays), jnp.asarray(np.asarray(u0s, float))))


@functools.partial(jax.jit, static_argnums=0)
def _start_chi2(spec, arrays, u0s):
    return jax.vmap(lambda u: chi2_u(spec, u, arrays))(u0s)


def start_points(spec: Spec, u_hat, held: dict, cov_u=None, x_hat=None, jac_x=None) -> tuple:
    """(u0, mask) for holding ``{j: x_j}`` (physical values), the other
    entries at ``u_hat`` shifted along the linear regression on the held ones
    when the internal covariance ``cov_u`` is known (a better start).

    With the physical optimum ``x_hat`` and the Jacobian ``jac_x`` = d r / d x (m, n) there
    instead: the other entries at the optimum of the linearised problem with the held ones
    moved, in physical values -- which also works for a value held on a bound (a shift in
    internal values cannot reach one); an entry that this would put on or beyond its bounds
    keeps its value in ``u_hat``."""
    if x_hat is not None and jac_x is not None:
        return _start_linearised(spec, u_hat, held, np.asarray(x_hat, float), np.asarray(jac_x, float))
    u0 = np.array(u_hat, float)
    mask = np.ones(u0.size)
    for j, xv in held.items():
        uj = internal(spec, j, xv)
        if cov_u is not None and np.isfinite(cov_u).all() and cov_u[j, j] > 0 and abs(uj) < U_BOUND:
            shift = (uj - u_hat[j]) * cov_u[:, j] / cov_u[j, j]
            if np.isfinite(shift).all() and np.abs(shift).max() < 50:
                u0 = u0 + shift
        u0[j] = uj
        mask[j] = 0.0
    for j, xv in held.items():           # exact held values after the shifts
        u0[j] = internal(spec, j, xv)
    return u0, mask


def _start_linearised(spec: Spec, u_hat, held: dict, x_hat, J) -> tuple:
    """start_points from the linearised problem in physical values (see there)."""
    u0 = np.array(u_hat, float)
    mask = np.ones(u0.size)
    hj = list(held)
    free = [i for i in range(u0.size) if i not in held]
    dh = np.array([held[j] - x_hat[j] for j in hj])
    if free and hj and np.isfinite(J).all() and np.isfinite(dh).all():
        # minimise |J_f d_f + J_h d_h|: d_f = -lstsq(J_f, J_h d_h), columns scaled
        Jf = J[:, free]
        sc = np.linalg.norm(Jf, axis=0)
        if np.all(sc > 0):
            d = -np.linalg.lstsq(Jf / sc, J[:, hj] @ dh, rcond=None)[0] / sc
            x_new = np.full(u0.size, np.nan)
            x_new[free] = x_hat[free] + d
            u0 = internal_where_inside(spec, u0, x_new)
    for j, xv in held.items():
        u0[j] = internal(spec, j, xv)
        mask[j] = 0.0
    return u0, mask


def internal_where_inside(spec: Spec, u, x) -> np.ndarray:
    """Internal values of the physical point ``x`` (n,); entries that are not finite or lie on or
    beyond a bound keep their value in ``u`` (a start on a bound has a vanishing gradient)."""
    out = np.array(u, float)
    for i, v in enumerate(x):
        if np.isfinite(v):
            ui = internal(spec, i, float(v))
            if spec.kinds[i] == KIND_FREE or abs(ui) < U_BOUND:     # +-U_BOUND: on a bound
                out[i] = ui
    return out
