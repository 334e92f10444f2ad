"""Stability of a final configuration against single and pair flips, and greedy relaxation.

For tau with local fields Delta (Hamiltonian (2)), flipping TLS i costs
eps_i = -2 tau_i Delta_i and flipping the pair (i, j) costs
eps_i + eps_j + 4 J_ij tau_i tau_j (the coupling term of the pair itself does
not change).  A state is single-flip (pair-flip) stable when no single (pair)
flip lowers the energy; stability against both is the Efros-Shklovskii
condition the paper checks at 2 uK (Sec. III A).

Functions act on ONE realization (vmap over realizations).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class StabilityReport(NamedTuple):
    """Numbers of unstable single flips (TLSs) and unstable pair flips (unordered pairs)."""
    single: jax.Array
    pair: jax.Array


def pair_costs(tau, field, J):
    """(n, n) pair-flip energy costs eps_i + eps_j + 4 J_ij tau_i tau_j (diagonal: +inf)."""
    eps = -2.0 * tau * field
    P = eps[:, None] + eps[None, :] + 4.0 * J * (tau[:, None] * tau[None, :])
    n = tau.shape[0]
    return jnp.where(jnp.eye(n, dtype=bool), jnp.inf, P)


def check(tau, field, J, tol=1e-9) -> StabilityReport:
    """Count single flips with cost < -tol and unordered pairs with cost < -tol (K)."""
    eps = -2.0 * tau * field
    P = pair_costs(tau, field, J)
    single = jnp.sum(eps < -tol).astype(jnp.int32)
    pair = (jnp.sum(P < -tol) // 2).astype(jnp.int32)
    return StabilityReport(single=single, pair=pair)


def relax(tau, field, J, tol=1e-9, max_flips=100_000):
    """Greedy descent until stable against single and pair flips.

    Each step flips the most unstable single TLS if there is one, otherwise
    the most unstable pair.  Every step lowers the energy by more than tol, so
    the loop ends; ``max_flips`` is a safety cap.  Returns
    (tau, field, number of single flips + pair flips made, reached the cap).
    """
    n = tau.shape[0]

    def unstable(tau, field):
        eps = -2.0 * tau * field
        P = pair_costs(tau, field, J)
        return eps, P, (jnp.min(eps) < -tol) | (jnp.min(P) < -tol)

    def cond(c):
        tau, field, k = c
        return unstable(tau, field)[2] & (k < max_flips)

    def flip(tau, field, s, on):
        d = jnp.where(on, -2.0 * tau[s], 0.0)
        return tau.at[s].add(d), field + J[s] * d

    def body(c):
        tau, field, k = c
        eps, P, _ = unstable(tau, field)
        i1 = jnp.argmin(eps)
        single = eps[i1] < -tol
        ij = jnp.argmin(P)
        i, j = ij // n, ij % n
        a = jnp.where(single, i1, i)
        tau, field = flip(tau, field, a, True)
        tau, field = flip(tau, field, j, ~single)
        return tau, field, k + 1

    tau, field, k = jax.lax.while_loop(cond, body, (tau, field, jnp.int32(0)))
    return tau, field, k, k >= max_flips
