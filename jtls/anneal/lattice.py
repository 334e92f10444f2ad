"""Disorder realizations of Hamiltonian (2) of Churkin et al. 2021.

H = sum_i h_i tau_i + 1/2 sum_{i != j} J_ij tau_i tau_j,   tau_i = +-1,
h_i = h0 c_i,  J_ij = c_ij J0 / (R_ij^3 / R0^3 + C),  c_i, c_ij = c_ji ~ N(0, 1).

TLSs sit on an L x L x L simple cubic lattice (lattice constant R0) with
periodic boundaries; distances use the minimum image.  A realization places
``n = round(x L^3)`` TLSs on distinct sites drawn uniformly at random (fixed
count, so that every realization has the same array shapes and can be
vmapped; for x = 0.5 this is the paper's concentration).

All energies in kelvin (k_B = 1).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class ModelParams(NamedTuple):
    """Static model parameters (hashable; pass as a static argument)."""
    L: int = 8
    x: float = 0.5
    J0: float = 2.0      # K
    h0: float = 10.0     # K
    C: float = 1.0       # short-distance cutoff (units of R0^3)
    R0: float = 1.0      # lattice constant

    @property
    def n(self) -> int:
        """Number of TLSs per realization, round(x L^3)."""
        return int(round(self.x * self.L ** 3))


def validate_params(p: ModelParams) -> None:
    """Raise ValueError naming the offending model parameter."""
    if int(p.L) != p.L or p.L < 2:
        raise ValueError(f"argument 'L' must be an integer >= 2, got {p.L!r}")
    if not (0.0 < p.x <= 1.0):
        raise ValueError(f"argument 'x' must be in (0, 1], got {p.x!r}")
    if p.n < 2:
        raise ValueError(f"arguments 'L', 'x' give {p.n} TLSs; need at least 2")
    for name in ("J0", "h0", "R0"):
        v = getattr(p, name)
        if not np.isfinite(v) or v < 0 or (name == "R0" and v == 0):
            raise ValueError(f"argument {name!r} must be finite and >= 0 (R0 > 0), got {v!r}")
    if not np.isfinite(p.C) or p.C < 0:
        raise ValueError(f"argument 'C' must be finite and >= 0, got {p.C!r}")


class Disorder(NamedTuple):
    """One realization: positions (n, 3) int32, h (n,), J (n, n) symmetric, zero diagonal."""
    pos: jax.Array
    h: jax.Array
    J: jax.Array


def min_image_distance(pos, L, R0=1.0):
    """Pairwise minimum-image distances (n, n) of integer lattice positions (n, 3)."""
    d = jnp.abs(pos[:, None, :] - pos[None, :, :])
    d = jnp.minimum(d, L - d).astype(jnp.float64) * R0
    return jnp.sqrt(jnp.sum(d * d, axis=-1))


def couplings(c_pair, R, J0, R0=1.0, C=1.0):
    """J_ij = c_ij J0 / (R_ij^3 / R0^3 + C) with zero diagonal.  c_pair (n, n) symmetric."""
    n = R.shape[0]
    J = c_pair * J0 / ((R / R0) ** 3 + C)
    return jnp.where(jnp.eye(n, dtype=bool), 0.0, J)


def make_disorder(key, p: ModelParams, dtype=jnp.float64) -> Disorder:
    """Draw one realization from ``key`` (pure function of key, p and JAX's 64-bit setting).

    h and the coupling draws c_ij are float64 normals with JAX's 64-bit types on; without them
    (``JTLS_NO_X64=1``) JAX gives float32 normals, which are other numbers, not only rounded ones:
    runs record the setting (``x64`` in :meth:`jtls.anneal.run.RunConfig.metadata`).
    """
    k_site, k_h, k_J = jax.random.split(key, 3)
    n = p.n
    sites = jax.random.permutation(k_site, p.L ** 3)[:n]
    sites = jnp.sort(sites)
    pos = jnp.stack([sites // (p.L * p.L), (sites // p.L) % p.L, sites % p.L], axis=-1).astype(jnp.int32)
    h = p.h0 * jax.random.normal(k_h, (n,), dtype=jnp.float64)
    g = jax.random.normal(k_J, (n, n), dtype=jnp.float64)
    upper = jnp.triu(g, 1)
    c_pair = upper + upper.T
    R = min_image_distance(pos, p.L, p.R0)
    J = couplings(c_pair, R, p.J0, p.R0, p.C)
    return Disorder(pos=pos, h=h.astype(dtype), J=J.astype(dtype))


def local_fields(tau, h, J):
    """Delta_i = h_i + sum_j J_ij tau_j (Sec. II), shape (n,)."""
    return h + J @ tau


def energy(tau, h, J):
    """Total energy of Hamiltonian (2), K."""
    return jnp.dot(h, tau) + 0.5 * jnp.dot(tau, J @ tau)


def excitation_energies(tau, field):
    """Single-flip energy costs eps_i = -2 tau_i Delta_i (K); E_i = |eps_i| = 2|Delta_i|."""
    return -2.0 * tau * field
