"""Models of the TLS density of states n(T, E).

Every model is a frozen dataclass registered as a JAX pytree and is called as
``dos(E, T)`` with energies E and temperatures T in kelvin (broadcasting);
it returns n(T, E) per TLS (or per volume) per kelvin, even in E.  Every
observable of :mod:`jtls.observables` accepts any of them.

Models
------
* :class:`PowerLawDOS` -- Churkin et al. 2021, Eq. (3): B (T^2 + E^2)^(mu/2).
* :class:`ConstantDOS` -- the standard tunneling model (STM), n = n0.
* :class:`DipolarGapDOS` -- Eq. (9), n0 / (1 + c J0 n0 ln(J0/E)) for E < J0
  (lattice constant R0 = 1), n0 above J0.
* :class:`GaussianDOS` -- norm * exp(-E^2 / 2 sigma^2) / (sigma sqrt(2 pi)).
* :class:`TabulatedDOS` -- n(T, E) on a (T, E) grid (e.g. the annealer's
  output), a natural cubic spline in ln T and an even cubic spline in E.  The
  interpolant is linear in the tabulated values, hence differentiable with
  respect to them, and C^2 in both variables inside the grid.

Attribute ``e_max`` (K) is the largest energy at which the model is defined
(infinity for the analytic models); integrals that would otherwise run to
infinity stop there.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import jax
import jax.numpy as jnp

from . import _validate as V


def _pytree(cls, data, meta=()):
    cls = dataclasses.dataclass(frozen=True)(cls)
    return jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))


class PowerLawDOS:
    """Eq. (3): n(T, E) = B (T^2 + E^2)^(mu/2).  B in K^-(1+mu), mu dimensionless."""
    B: Any = 1.0
    mu: Any = 0.0
    e_max = math.inf

    def __call__(self, E, T):
        E = jnp.asarray(E)
        T = jnp.asarray(T)
        return self.B * jnp.exp(0.5 * self.mu * jnp.log(T * T + E * E))


PowerLawDOS = _pytree(PowerLawDOS, ["B", "mu"])


class ConstantDOS:
    """Standard tunneling model: n(T, E) = n0 (per K)."""
    n0: Any = 1.0
    e_max = math.inf

    def __call__(self, E, T):
        E, T = jnp.broadcast_arrays(jnp.asarray(E, dtype=float), jnp.asarray(T, dtype=float))
        return self.n0 * jnp.ones_like(E + T)


ConstantDOS = _pytree(ConstantDOS, ["n0"])


class DipolarGapDOS:
    """Eq. (9) dipolar gap at T = 0, lattice constant R0 = 1.

    n(E) = n0 / (1 + c J0 n0 ln(J0/E)) for 0 < E < J0 and n0 for E >= J0;
    n0 = 1/h0 per site per K, J0 in K, c = 2 pi / 3.  T-independent.
    """
    n0: Any = 0.1
    J0: Any = 2.0
    c: Any = 2.0 * math.pi / 3.0
    e_max = math.inf

    def __call__(self, E, T):
        E = jnp.abs(jnp.asarray(E, dtype=float)) + 0.0 * jnp.asarray(T)
        tiny = jnp.finfo(E.dtype).tiny
        log_ratio = jnp.maximum(jnp.log(self.J0) - jnp.log(jnp.maximum(E, tiny)), 0.0)
        return self.n0 / (1.0 + self.c * self.J0 * self.n0 * log_ratio)


DipolarGapDOS = _pytree(DipolarGapDOS, ["n0", "J0", "c"])


class GaussianDOS:
    """n(E) = norm exp(-E^2 / (2 sigma^2)) / (sigma sqrt(2 pi)); sigma in K.

    With norm = 1 this is normalized per TLS over signed energies, the
    non-interacting limit of Hamiltonian (2) (Fig. 1a: sigma ~ 21.5 K).
    """
    sigma: Any = 21.53
    norm: Any = 1.0
    e_max = math.inf

    def __call__(self, E, T):
        E = jnp.asarray(E, dtype=float) + 0.0 * jnp.asarray(T)
        z = E / self.sigma
        return self.norm * jnp.exp(-0.5 * z * z) / (self.sigma * math.sqrt(2.0 * math.pi))


GaussianDOS = _pytree(GaussianDOS, ["sigma", "norm"])


# --------------------------------------------------------------------------
# natural cubic splines expressed as linear maps of the knot values

def _natural_spline_matrix(x: np.ndarray) -> np.ndarray:
    """S with M = S @ y the second derivatives of the natural spline through (x, y)."""
    m = len(x)
    if m < 3:
        return np.zeros((m, m))
    h = np.diff(x)
    A = np.zeros((m, m))
    R = np.zeros((m, m))
    A[0, 0] = A[-1, -1] = 1.0
    for i in range(1, m - 1):
        A[i, i - 1] = h[i - 1] / 6.0
        A[i, i] = (h[i - 1] + h[i]) / 3.0
        A[i, i + 1] = h[i] / 6.0
        R[i, i - 1] = 1.0 / h[i - 1]
        R[i, i] = -1.0 / h[i - 1] - 1.0 / h[i]
        R[i, i + 1] = 1.0 / h[i]
    return np.linalg.solve(A, R)


def _spline_eval(knots, y, M, x):
    """Evaluate the cubic spline with knot values y (..., m), second derivatives M.

    ``x`` is clipped to the knot range.  y and M broadcast against x[..., None].
    """
    m = knots.shape[0]
    x = jnp.clip(x, knots[0], knots[-1])
    k = jnp.clip(jnp.searchsorted(knots, x, side="right") - 1, 0, m - 2)
    x0 = knots[k]
    h = knots[k + 1] - x0
    b = (x - x0) / h
    a = 1.0 - b
    kk = k[..., None]
    shape = jnp.broadcast_shapes(y.shape[:-1], x.shape) + (y.shape[-1],)
    yb = jnp.broadcast_to(y, shape)
    Mb = jnp.broadcast_to(M, shape)
    y0 = jnp.take_along_axis(yb, kk, axis=-1)[..., 0]
    y1 = jnp.take_along_axis(yb, kk + 1, axis=-1)[..., 0]
    m0 = jnp.take_along_axis(Mb, kk, axis=-1)[..., 0]
    m1 = jnp.take_along_axis(Mb, kk + 1, axis=-1)[..., 0]
    return a * y0 + b * y1 + ((a**3 - a) * m0 + (b**3 - b) * m1) * h * h / 6.0


class TabulatedDOS:
    """n(T, E) tabulated at temperatures ``T_grid`` (nT,) and energies ``E_grid`` (nE,).

    ``values`` has shape (nT, nE): n per TLS per K at E_grid[j] >= 0 (the DOS
    is even in E).  Between grid temperatures: natural cubic spline in ln T;
    outside the T range the nearest tabulated temperature is used.  In E: a
    natural cubic spline through the mirrored grid (-E, E), hence even and
    smooth at E = 0; beyond E_grid[-1] the last value is kept and
    ``e_max = E_grid[-1]``.  Values below ``floor`` (default 1e-12 of the
    largest value) are raised to it so that 1/n stays finite.

    Build with :meth:`create` (or :meth:`from_file` for annealer output);
    calling is fastest when T has a trailing singleton axis against E.
    """
    values: Any
    T_knots: Any      # ln T grid
    E_knots: Any      # mirrored E grid
    S_T: Any
    S_E: Any
    floor: Any
    e_max: float = math.inf

    @classmethod
    def create(cls, T_grid, E_grid, values, floor=None):
        T_grid = np.asarray(T_grid, dtype=float)
        E_grid = np.asarray(E_grid, dtype=float)
        if T_grid.ndim != 1 or E_grid.ndim != 1:
            raise ValueError("arguments 'T_grid' and 'E_grid' must be one-dimensional")
        V.positive_finite("T_grid", T_grid)
        V.nonnegative_finite("E_grid", E_grid)
        if len(E_grid) < 2:
            raise ValueError("argument 'E_grid' needs at least 2 energies")
        if np.any(np.diff(T_grid) <= 0):
            raise ValueError("argument 'T_grid' must be strictly increasing")
        if np.any(np.diff(E_grid) <= 0):
            raise ValueError("argument 'E_grid' must be strictly increasing")
        vshape = np.shape(values)
        if vshape != (len(T_grid), len(E_grid)):
            raise ValueError(f"argument 'values' has shape {vshape}, expected "
                             f"(len(T_grid), len(E_grid)) = {(len(T_grid), len(E_grid))}")
        if V.is_concrete(values):
            V.nonnegative_finite("values", values)
        if E_grid[0] == 0.0:
            knots = np.concatenate([-E_grid[:0:-1], E_grid])
        else:
            knots = np.concatenate([-E_grid[::-1], E_grid])
        values = jnp.asarray(values)
        if floor is None:
            floor = (1e-12 * float(np.max(np.asarray(values))) if V.is_concrete(values)
                     else float(jnp.finfo(values.dtype).tiny))
        return cls(values=values, T_knots=jnp.asarray(np.log(T_grid)),
                  E_knots=jnp.asarray(knots), S_T=jnp.asarray(_natural_spline_matrix(np.log(T_grid))),
                  S_E=jnp.asarray(_natural_spline_matrix(knots)), floor=jnp.asarray(floor),
                  e_max=float(E_grid[-1]))

    @property
    def mirror_index(self):
        n = self.values.shape[-1]
        if self.E_knots.shape[0] == 2 * n:
            return np.concatenate([np.arange(n - 1, -1, -1), np.arange(n)])
        return np.concatenate([np.arange(n - 1, 0, -1), np.arange(n)])

    def rows(self, T):
        """DOS on the E grid at temperature(s) T: shape T.shape + (nE,)."""
        T = jnp.asarray(T, dtype=float)
        y = self.values.T  # (nE, nT): spline over T for every energy
        if self.T_knots.shape[0] == 1:
            return jnp.broadcast_to(self.values[0], T.shape + (self.values.shape[1],))
        M = y @ self.S_T.T
        lt = jnp.log(T)[..., None]
        out = _spline_eval(self.T_knots, y, M, lt)  # T.shape + (nE,)
        return out

    def __call__(self, E, T):
        E = jnp.abs(jnp.asarray(E, dtype=float))
        T = jnp.asarray(T, dtype=float)
        T, E = jnp.broadcast_arrays(T, E) if T.ndim > E.ndim else (T, E)
        rows = self.rows(T)[..., self.mirror_index]  # T.shape + (n_knots,)
        M = rows @ self.S_E.T
        val = _spline_eval(self.E_knots, rows, M, E)
        return jnp.maximum(val, self.floor)

    @classmethod
    def from_file(cls, path, floor=None):
        """Load an annealer output file (``.npz``) with arrays ``T``, ``E_centers``, ``dos``."""
        with np.load(path, allow_pickle=False) as f:
            for key in ("T", "E_centers", "dos"):
                if key not in f:
                    raise ValueError(f"file {path!s}: missing array {key!r} (expected annealer output)")
            return cls.create(f["T"], f["E_centers"], f["dos"], floor=floor)


TabulatedDOS = _pytree(TabulatedDOS, ["values", "T_knots", "E_knots", "S_T", "S_E", "floor"],
                       ["e_max"])
