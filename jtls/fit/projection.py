"""A profile chi^2 on a grid with the linear parameters solved in closed form (variable projection).

Amplitudes and offsets (:func:`jtls.fit.solvers.linear_roles`) enter the
residuals affinely: an offset and an amplitude of power 1 in a term with
linear residuals, ``r = w (y - a g - o)``; an amplitude of any power p in a
term with log residuals, ``r = w (ln y - p ln a - ln g)``, affine in ln a.
Holding every other parameter, one Gauss-Newton step in those coordinates
(a, o or ln a) lands exactly on their least-squares optimum.  For a parameter
scanned on a grid (:mod:`jtls.fit.scan`) that gives, for every grid value in
one vmapped evaluation:

* the chi^2 at a feasible point (the step's result clipped into the bounds,
  evaluated again), always an upper bound of the profile there;
* whether that point *is* the constrained optimum (``exact``): every other
  free parameter is linear in the sense above (no parameter shared between
  log and linear terms), the step needed no clipping and everything is
  finite.  Otherwise it is a start for an iterative held solve
  (:func:`jtls.fit.constrained.solve_held`).

For kappa or C_v with the simulated DOS (free: amplitude B and J0/h0) every
grid value is exact, so the global scan costs two model evaluations instead
of twelve held solves (benchmarks/README.md).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp

from .objective import Arrays, Spec, pad_arrays, residual_x
from .params import KIND_BOTH, KIND_LOWER, KIND_UPPER
from .solvers import linear_columns, linear_roles, residual_list, spd_solve


class Projected(NamedTuple):
    """Numpy results (leading axis: grid values): ``x`` (k, n) physical values of the feasible
    point, ``chi2`` (k,) its chi^2, ``exact`` (k,) bool: the point is the profile's optimum."""
    x: np.ndarray
    chi2: np.ndarray
    exact: np.ndarray


def coordinates(spec: Spec, held: int) -> tuple:
    """(linear free positions, their coordinate per position: 'log' or 'lin', exact).

    ``exact``: every free parameter but ``held`` is linear and each one's uses are all in log
    terms (coordinate ln a) or all in linear ones (coordinate a); static."""
    roles = linear_roles(spec)
    lin, coords, exact = [], [], True
    for j in range(spec.n_free):
        if j == held:
            continue
        if j not in roles:
            exact = False
            continue
        kinds = {spec.terms[k].kind == "log" for k, role, _ in roles[j]}
        if len(kinds) > 1:
            exact = False
        lin.append(j)
        coords.append("log" if kinds == {True} else "lin")
    return tuple(lin), tuple(coords), exact


def _clip(spec: Spec, j: int, v):
    """(v clipped into the bounds of free parameter j, whether it was on or beyond one)."""
    kind, out = spec.kinds[j], jnp.asarray(False)
    if kind in (KIND_LOWER, KIND_BOTH):
        out, v = out | (v <= spec.lo[j]), jnp.maximum(v, spec.lo[j])
    if kind in (KIND_UPPER, KIND_BOTH):
        out, v = out | (v >= spec.hi[j]), jnp.minimum(v, spec.hi[j])
    return v, out


def _rows(spec: Spec, lin: tuple, coords: tuple, X, arrays: Arrays):
    """(x (k, n), chi2 (k,), clipped (k,)) for the start rows X (k, n) of physical values."""
    roles = {j: r for j, r in linear_roles(spec).items() if j in lin}

    def one(x):
        xs = [x[i] for i in range(x.shape[0])]
        if not lin:
            r = residual_x(spec, x, arrays)
            return x, r @ r, jnp.asarray(False)
        r, p0s = residual_list(spec, xs, arrays)
        cols = linear_columns(spec, roles, xs, p0s, arrays)
        J = jnp.stack([cols[j] * (xs[j] if c == "log" else 1.0) for j, c in zip(lin, coords)], axis=1)
        H = J.T @ J
        d = jnp.maximum(jnp.diag(H), 1e-300)
        dz = -spd_solve(H + 1e-14 * jnp.diag(d), J.T @ r)
        clipped = ~jnp.all(jnp.isfinite(dz))
        for pos, (j, c) in enumerate(zip(lin, coords)):
            v = xs[j] * jnp.exp(dz[pos]) if c == "log" else xs[j] + dz[pos]
            v, out = _clip(spec, j, v)
            clipped = clipped | out
            xs[j] = v
        x_new = jnp.stack(xs)
        r2 = residual_x(spec, x_new, arrays)
        return x_new, r2 @ r2, clipped

    return jax.vmap(one)(X)


_program = jax.jit(_rows, static_argnums=(0, 1, 2))


def projected_profile(spec: Spec, arrays: Arrays, held: int, values, x0) -> Projected:
    """Profile chi^2 of free parameter ``held`` at ``values`` (k,), the linear parameters solved
    in closed form and the others at their values in ``x0`` (n,) (module docstring)."""
    values = np.asarray(values, float)
    lin, coords, exact = coordinates(spec, held)
    X = np.repeat(np.asarray(x0, float)[None, :], values.size, axis=0)
    X[:, held] = values
    x, chi2, clipped = (np.asarray(a) for a in _program(spec, lin, coords, jnp.asarray(X), pad_arrays(arrays)))
    ok = np.isfinite(chi2) & np.isfinite(x).all(axis=1)
    return Projected(x, np.where(ok, chi2, np.inf), exact & ok & ~clipped)
