"""Least-squares objectives, single and joint.

A fit minimises chi^2 = sum_i r_i^2 over the free parameters, where the
residual vector r concatenates one block per dataset ("term").  For a term
with model f and data (T_i, y_i, sigma_i) the residual is

* ``sigma``    (per-point sigma given): r_i = (y_i - f(T_i)) / sigma_i
* ``absolute`` (no sigma; default for relative data dv/v, deps/eps):
  r_i = y_i - f(T_i), i.e. one constant, unknown absolute error
* ``log``      (no sigma; default for positive data kappa, C_v):
  r_i = ln y_i - ln f(T_i), i.e. one constant, unknown relative error

each multiplied by sqrt(w_i) with w_i a point weight (1 normally, 0 for
padding, the multiplicity in a bootstrap resample).  The compiled solves pad
every dataset to a size bucket (:func:`bucket_size`, :func:`pad_arrays`)
with zero-weight points, which contribute nothing to r, chi^2 or the
Jacobian; the callers cut the residuals back to the real points before any
statistic (chi^2, dof, tests) is formed.

Joint fits share parameters between terms by name: a name listed in
``share`` is one global parameter for every term that has it; every other
parameter of term ``label`` is named ``"NAME[label]"`` (no suffix when there
is a single term).

The static structure (:class:`Spec`) is hashable and is a static argument of
the compiled solvers; all numbers (data, fixed values, settings) are array
arguments, so fits of new data or new fixed values reuse the compiled code
(and JAX's persistent compilation cache across processes).
"""
from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp

from .model import Observable
from .params import Transform


@dataclasses.dataclass(frozen=True)
class TermSpec:
    """Static description of one dataset's block of the residual vector."""
    observable: Observable
    offset: bool
    kind: str                    # 'sigma' | 'absolute' | 'log'
    index: tuple                 # global parameter index of each local parameter
    context_names: tuple
    static: tuple = ()           # ((name, value), ...) of the observable's static settings


@dataclasses.dataclass(frozen=True)
class Spec:
    """Static structure of a (joint) least-squares problem."""
    terms: tuple
    names: tuple                 # global parameter names
    free: tuple                  # global indices of the free parameters
    kinds: tuple                 # transform kind per free parameter
    lo: tuple
    hi: tuple
    groups: tuple = ()           # TermGroup's: terms evaluated in one vmapped call

    def __hash__(self):
        # a static argument of the compiled solvers: hashed on every call, so
        # the hash of the nested tuples is computed once per Spec
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash((self.terms, self.names, self.free, self.kinds, self.lo, self.hi, self.groups))
            object.__setattr__(self, "_hash", h)
        return h


    @property
    def n_free(self) -> int:
        return len(self.free)

    def transform(self) -> Transform:
        t = Transform.__new__(Transform)
        t.kinds = np.asarray(self.kinds, dtype=np.int32)
        t.lo = np.asarray(self.lo, float)
        t.hi = np.asarray(self.hi, float)
        return t


@dataclasses.dataclass(frozen=True)
class TermGroup:
    """Terms of one observable (same offset flag, weighting kind and settings
    names) whose curves are computed in one ``vmap`` over the terms instead of
    one call each: the compiled solver then has one model evaluation instead
    of one per dataset, which on CPU (where small kernels cost launch
    overhead, not arithmetic) makes each step several times cheaper.

    ``uniform[c]``: setting ``c`` has the same value in every term of the
    group (checked on the numbers when the problem is built), so it is
    passed unbatched -- a ``lax.cond`` on it (e.g. the relaxation switch
    A > 0 of the resonator observables) stays a branch instead of becoming a
    select that evaluates both sides.
    """
    terms: tuple                 # term indices (ascending)
    uniform: tuple               # per context name: same value in all terms


def group_terms(term_specs, contexts) -> tuple:
    """:class:`TermGroup`'s of >= 2 terms that can share one vmapped evaluation.

    ``contexts``: per term, the settings values in ``context_names`` order.
    Terms group when observable, offset flag, weighting kind and settings
    names agree.
    """
    buckets: dict = {}
    for k, t in enumerate(term_specs):
        buckets.setdefault((t.observable, t.offset, t.kind, t.context_names, t.static), []).append(k)
    groups = []
    for ks in buckets.values():
        if len(ks) < 2:
            continue
        vals = [tuple(float(v) for v in contexts[k]) for k in ks]
        uniform = tuple(all(v[c] == vals[0][c] for v in vals) for c in range(len(vals[0])))
        groups.append(TermGroup(tuple(ks), uniform))
    return tuple(groups)


class TermArrays(NamedTuple):
    """Numbers of one term: T (n,), y (n,) (ln y for 'log'), inv_sigma (n,), sqrt_w (n,), ctx (k,).

    numpy or JAX arrays (built as numpy by :func:`make_term_arrays`)."""
    T: jnp.ndarray
    y: jnp.ndarray
    inv_sigma: jnp.ndarray
    sqrt_w: jnp.ndarray
    ctx: jnp.ndarray


class Arrays(NamedTuple):
    """All numbers of a problem: per-term arrays and the global parameter vector.

    ``x_all`` holds every global parameter (fixed ones at their value; the free
    entries are overwritten by the solver's current point).
    """
    terms: tuple
    x_all: jnp.ndarray


def _curve(term: TermSpec, x_all, ta: TermArrays):
    """Observable curve (without offset) of one term."""
    obs = term.observable
    vals = {name: x_all[i] for name, i in zip(obs.params, term.index)}
    ctx = {name: ta.ctx[j] for j, name in enumerate(term.context_names)}
    ctx.update(term.static)
    return obs.func(ta.T, **vals, **ctx)


def _pad_to(a, n):
    """(k,) -> (n,) repeating the last entry (a valid temperature for padding)."""
    k = a.shape[0]
    return a if k == n else jnp.concatenate([a, jnp.broadcast_to(a[-1], (n - k,))])


def _group_curves(spec: Spec, group: TermGroup, x_all, arrays: Arrays):
    """Curves of the terms of ``group`` from one vmapped call: list in group order."""
    stacked, sizes = _group_curves_stacked(spec, group, x_all, arrays)
    return [stacked[i, :m] for i, m in enumerate(sizes)]


def _group_curves_stacked(spec: Spec, group: TermGroup, x_all, arrays: Arrays):
    """(curves of the group's terms as one (terms, points) array, padded; their lengths)."""
    ks = group.terms
    t0 = spec.terms[ks[0]]
    obs = t0.observable
    sizes = [arrays.terms[k].T.shape[0] for k in ks]
    n = max(sizes)
    T = jnp.stack([_pad_to(arrays.terms[k].T, n) for k in ks])
    fixed, batched = {}, {}
    for j, name in enumerate(obs.params):
        idx = [spec.terms[k].index[j] for k in ks]
        if all(i == idx[0] for i in idx):
            fixed[name] = x_all[idx[0]]
        else:
            batched[name] = jnp.stack([x_all[i] for i in idx])
    static = dict(t0.static)
    for c, name in enumerate(t0.context_names):
        if name in static:
            fixed[name] = static[name]
        elif group.uniform[c]:
            fixed[name] = arrays.terms[ks[0]].ctx[c]
        else:
            batched[name] = jnp.stack([arrays.terms[k].ctx[c] for k in ks])
    return jax.vmap(lambda t, b: obs.func(t, **b, **fixed))(T, batched), sizes


def curves(spec: Spec, x_all, arrays: Arrays) -> list:
    """Observable curves (without offsets) of every term, in term order.

    Terms of a :class:`TermGroup` are evaluated together (one vmapped call),
    the others one by one.
    """
    out = [None] * len(spec.terms)
    for g in spec.groups:
        for k, c in zip(g.terms, _group_curves(spec, g, x_all, arrays)):
            out[k] = c
    for k, (t, ta) in enumerate(zip(spec.terms, arrays.terms)):
        if out[k] is None:
            out[k] = _curve(t, x_all, ta)
    return out


def residual_of_curve(term: TermSpec, x_all, ta: TermArrays, p0):
    """Weighted residual of one term from its observable curve ``p0``."""
    pred = p0 + x_all[term.index[len(term.observable.params)]] if term.offset else p0
    r = (ta.y - jnp.log(pred)) if term.kind == "log" else (ta.y - pred)
    return r * ta.inv_sigma * ta.sqrt_w


def param_list(spec: Spec, x_free, arrays: Arrays) -> list:
    """Every global parameter as a scalar, in order: free ones from ``x_free``
    (a vector or a sequence of scalars), fixed ones from ``arrays.x_all``.

    The model functions take the parameters from this list, so that a
    derivative with respect to one scalar touches only what depends on it."""
    pos = {g: j for j, g in enumerate(spec.free)}
    x_fixed = None
    out = []
    for i in range(len(spec.names)):
        if i in pos:
            out.append(x_free[pos[i]])
        else:
            if x_fixed is None:
                x_fixed = jnp.asarray(arrays.x_all, dtype=jnp.float64)
            out.append(x_fixed[i])
    return out


def residuals(spec: Spec, x_all, arrays: Arrays, with_curves: bool = False):
    """Weighted residual vector from the global parameters ``x_all`` (vector or
    list of scalars); with ``with_curves`` also the list of term curves.

    (Forming the residuals of a group on its stacked (terms, points) arrays
    and reshaping, instead of per-term slices, was measured 2x slower in the
    single-kernel solve.)"""
    p0s = curves(spec, x_all, arrays)
    r = jnp.concatenate([residual_of_curve(t, x_all, ta, p0) for t, ta, p0 in zip(spec.terms, arrays.terms, p0s)])
    return (r, p0s) if with_curves else r


def residual_x(spec: Spec, x_free, arrays: Arrays):
    """Weighted residual vector as a function of the free physical values."""
    return residuals(spec, param_list(spec, x_free, arrays), arrays)


def residual_u(spec: Spec, u, arrays: Arrays):
    """Weighted residual vector as a function of the internal (unbounded) variables."""
    return residual_x(spec, spec.transform().to_physical(u), arrays)


def chi2_u(spec: Spec, u, arrays: Arrays):
    """chi^2 (sum of squared weighted residuals) at the internal values ``u``; inf where it is
    not finite (so that a comparison of start points never picks such a one)."""
    r = residual_u(spec, u, arrays)
    c = r @ r
    return jnp.where(jnp.isfinite(c), c, jnp.inf)


def make_term_arrays(kind, T, y, sigma, weights, ctx_values) -> TermArrays:
    """Numpy -> TermArrays for residual kind ``kind`` (validated by the caller).

    The arrays stay numpy (float64): the compiled solvers take them as
    arguments and copy them in C++, which costs a fraction of one
    ``jnp.asarray`` per array.
    """
    T = np.asarray(T, float)
    y = np.asarray(y, float)
    if kind == "sigma":
        inv = 1.0 / np.asarray(sigma, float)
    else:
        inv = np.ones_like(y)
    yy = np.log(y) if kind == "log" else y
    sw = np.ones_like(y) if weights is None else np.sqrt(np.asarray(weights, float))
    return TermArrays(T, yy, inv, sw, np.asarray(ctx_values, float).reshape(-1))


#: Size buckets of the compiled solves: a dataset of n points is padded to
#: :func:`bucket_size` (n) points, so that datasets of similar length share one
#: compiled program instead of compiling one per length.  Sizes above
#: :data:`BUCKET_MIN` are 2^e (1 + j / BUCKETS_PER_OCTAVE), j = 0 ...
#: BUCKETS_PER_OCTAVE - 1 (at most 1 / BUCKETS_PER_OCTAVE of the points are
#: padding); 0 turns padding off.
BUCKETS_PER_OCTAVE = 4
BUCKET_MIN = 8


def bucket_size(n: int) -> int:
    """Padded length of a dataset of ``n`` points (see :data:`BUCKETS_PER_OCTAVE`)."""
    n = int(n)
    if BUCKETS_PER_OCTAVE <= 0 or n <= 0:
        return n
    if n <= BUCKET_MIN:
        return BUCKET_MIN
    base = 1 << ((n - 1).bit_length() - 1)          # 2^e <= n - 1 < 2^(e+1)
    step = max(1, base // BUCKETS_PER_OCTAVE)
    return base + -(-(n - base) // step) * step


def pad_term(ta: TermArrays, n: int) -> TermArrays:
    """A term's arrays padded to ``n`` points with zero-weight copies of its last
    point (T and y of the last point, so the model stays finite there): padded
    points have residual 0 and Jacobian rows 0, whatever the parameters."""
    k = ta.T.shape[0]
    if k == n:
        return ta
    xp = jnp if isinstance(ta.T, jax.Array) else np
    pad = lambda a, v: xp.concatenate([a, xp.full((n - k,), v, a.dtype)])  # noqa: E731
    return TermArrays(pad(ta.T, ta.T[-1]), pad(ta.y, ta.y[-1]), pad(ta.inv_sigma, ta.inv_sigma[-1]),
                      pad(ta.sqrt_w, 0.0), ta.ctx)


def pad_arrays(arrays: Arrays, lengths=None) -> Arrays:
    """``arrays`` with every term padded to ``lengths`` (default: its :func:`bucket_size`)."""
    if lengths is None:
        lengths = [bucket_size(t.T.shape[0]) for t in arrays.terms]
    return Arrays(tuple(pad_term(t, n) for t, n in zip(arrays.terms, lengths)), arrays.x_all)


def real_rows(real, padded) -> np.ndarray:
    """Indices of the real points in a residual vector whose terms have
    ``real`` points padded to ``padded`` (per-term lengths)."""
    o = np.concatenate([[0], np.cumsum(padded)[:-1]]).astype(int)
    return np.concatenate([np.arange(a, a + k) for a, k in zip(o, real)]) if len(real) else np.zeros(0, int)


def weighting_text(kind: str) -> str:
    return {"sigma": "per-point sigma from the data (chi^2 in absolute units)",
            "absolute": "no sigma given: constant absolute errors (residuals y - f)",
            "log": "no sigma given: constant relative errors (residuals ln y - ln f)"}[kind]


jax_residual_x = jax.jit(residual_x, static_argnums=0)
