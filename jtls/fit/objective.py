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
padding in batches, the multiplicity in a bootstrap resample).

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
import math
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


@dataclasses.dataclass(frozen=True)
class Spec:
    """Static structure of a (joint) least-squares problem."""
    terms: tuple
    names: tuple                 # global parameter names
    free: tuple                  # global indices of the free parameters
    kinds: tuple                 # transform kind per free parameter
    lo: tuple
    hi: tuple

    @property
    def n_free(self) -> int:
        return len(self.free)

    def transform(self) -> Transform:
        t = Transform.__new__(Transform)
        t.kinds = np.asarray(self.kinds, dtype=np.int32)
        t.lo = np.asarray(self.lo, float)
        t.hi = np.asarray(self.hi, float)
        return t


class TermArrays(NamedTuple):
    """Numbers of one term: T (n,), y (n,) (ln y for 'log'), inv_sigma (n,), sqrt_w (n,), ctx (k,)."""
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


def term_prediction(term: TermSpec, x_all, ta: TermArrays):
    """Model curve of one term at its temperatures, from the global vector."""
    obs = term.observable
    vals = {name: x_all[i] for name, i in zip(obs.params, term.index)}
    ctx = {name: ta.ctx[j] for j, name in enumerate(term.context_names)}
    y = obs.func(ta.T, **vals, **ctx)
    if term.offset:
        y = y + x_all[term.index[len(obs.params)]]
    return y


def term_residual(term: TermSpec, x_all, ta: TermArrays):
    pred = term_prediction(term, x_all, ta)
    if term.kind == "log":
        r = ta.y - jnp.log(pred)
    else:
        r = ta.y - pred
    return r * ta.inv_sigma * ta.sqrt_w


def residual_x(spec: Spec, x_free, arrays: Arrays):
    """Weighted residual vector as a function of the free physical values."""
    x_all = arrays.x_all.at[jnp.asarray(spec.free, dtype=jnp.int32)].set(x_free)
    return jnp.concatenate([term_residual(t, x_all, ta) for t, ta in zip(spec.terms, arrays.terms)])


def residual_u(spec: Spec, u, arrays: Arrays):
    """Weighted residual vector as a function of the internal (unbounded) variables."""
    return residual_x(spec, spec.transform().to_physical(u), arrays)


def make_term_arrays(kind, T, y, sigma, weights, ctx_values) -> TermArrays:
    """Numpy -> TermArrays for residual kind ``kind`` (validated by the caller)."""
    T = np.asarray(T, float)
    y = np.asarray(y, float)
    if kind == "sigma":
        inv = 1.0 / np.asarray(sigma, float)
    else:
        inv = np.ones_like(y)
    yy = np.log(y) if kind == "log" else y
    w = np.ones_like(y) if weights is None else np.asarray(weights, float)
    return TermArrays(jnp.asarray(T), jnp.asarray(yy), jnp.asarray(inv), jnp.asarray(np.sqrt(w)),
                      jnp.asarray(np.asarray(ctx_values, float).reshape(-1)))


def weighting_text(kind: str) -> str:
    return {"sigma": "per-point sigma from the data (chi^2 in absolute units)",
            "absolute": "no sigma given: constant absolute errors (residuals y - f)",
            "log": "no sigma given: constant relative errors (residuals ln y - ln f)"}[kind]


def chi2_of(spec: Spec, x_free, arrays: Arrays) -> float:
    r = residual_x(spec, jnp.asarray(x_free), arrays)
    return float(r @ r)


def finite_or_nan(x) -> float:
    x = float(x)
    return x if math.isfinite(x) else math.nan


jax_residual_x = jax.jit(residual_x, static_argnums=0)
