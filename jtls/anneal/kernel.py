"""Single-spin-flip Metropolis kernel for Hamiltonian (2) (Churkin et al. 2021).

The Markov chain
----------------
One *sweep* at temperature T is n attempted single flips.  Attempt number p
of a sweep picks a site s_p uniformly at random (with replacement) and a
uniform u_p in (0, 1), both from the sweep's PRNG key; the flip of tau_s costs
eps_s = -2 tau_s Delta_s (Delta_s = h_s + sum_j J_sj tau_j, the local field)
and is accepted iff eps_s < -T ln u_p (Metropolis: probability min(1, e^{-eps/T})).
After an accepted flip every local field changes by Delta_j += J_js dtau_s.
The benchmark baseline (benchmarks/anneal_baseline_numba.py) runs exactly
this chain sequentially.

How the work is organised (exact; only rounding differs)
--------------------------------------------------------
A rejected attempt changes nothing, so it should not cost O(n).  Attempts are
processed in *blocks*: a block walks through at most ``M`` consecutive
attempts and stops early after ``K`` accepted flips.  Inside a block the
local field of an attempted site is its field at the block start plus the
contributions of the (at most K) flips already accepted in the block, a
gather of K couplings; only at the block end are all n local fields updated,
with one (K, n) gather of rows of J.  The cost is therefore
O(K) per attempt + O(n K) per block, i.e. O(K) per rejected attempt and O(n)
per accepted flip when the block fills up.  ``(M, K)`` may differ per
temperature (:func:`default_block`): large M, small K at low T where almost
everything is rejected; M = K small at high T where almost everything is
accepted.  Which realization finishes a sweep first depends only on its own
chain, so results do not depend on the batch size.

Functions act on ONE realization; vmap them over realizations.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from .lattice import local_fields


class ChainState(NamedTuple):
    """tau (n,) +-1 and local fields Delta (n,) in K (same float dtype)."""
    tau: jax.Array
    field: jax.Array


def init_state(key, h, J) -> ChainState:
    """Random initial configuration (the paper starts from a random state at 300 K)."""
    n = h.shape[0]
    tau = jnp.where(jax.random.bernoulli(key, 0.5, (n,)), 1.0, -1.0).astype(h.dtype)
    return ChainState(tau=tau, field=local_fields(tau, h, J))


def sweep_randoms(key, n: int, T, dtype=jnp.float64):
    """Sites (n,) int32 and acceptance thresholds -T ln u (n,) for one sweep.

    Two 32-bit words per attempt: the site is floor(w0 n / 2^32) and
    u = (w1 + 1/2) / 2^32 (so flips costing more than ~22 T are never accepted).
    """
    bits = jax.random.bits(key, (2, n), jnp.uint32)
    sites = ((bits[0].astype(jnp.uint64) * jnp.uint64(n)) >> jnp.uint64(32)).astype(jnp.int32)
    u = (bits[1].astype(jnp.float64) + 0.5) * (2.0 ** -32)
    thr = (-jnp.asarray(T, jnp.float64) * jnp.log(u)).astype(dtype)
    return sites, thr


def _block(J, sites, thr, pos, state: ChainState, M: int, K: int):
    """Process up to M attempts from position ``pos``, stopping after K accepted flips.

    Returns (new position, new state, accepted count).
    """
    n = state.tau.shape[0]
    dtype = state.field.dtype
    kk = jnp.arange(K)

    def slot(a, c):
        idx, d, cnt, done = c
        p = pos + a
        active = (p < n) & (cnt < K)
        pc = jnp.minimum(p, n - 1)
        s = sites[pc]
        used = kk < cnt
        # flips of s itself earlier in this block (sites are drawn with replacement)
        nself = jnp.sum((idx == s) & used)
        t = state.tau[s] * (1 - 2 * (nself % 2)).astype(dtype)
        delta = state.field[s] + jnp.sum(J[s, idx] * d)
        acc = active & (-2.0 * t * delta < thr[pc])
        k = jnp.minimum(cnt, K - 1)
        idx = jnp.where(acc, idx.at[k].set(s), idx)
        d = jnp.where(acc, d.at[k].set(-2.0 * t), d)
        return idx, d, cnt + acc.astype(jnp.int32), done + active.astype(jnp.int32)

    c0 = (jnp.zeros(K, jnp.int32), jnp.zeros(K, dtype), jnp.int32(0), jnp.int32(0))
    idx, d, cnt, done = jax.lax.fori_loop(0, M, slot, c0, unroll=True)
    rows = J[idx]                                   # (K, n)
    field = state.field + jnp.sum(rows * d[:, None], axis=0)
    tau = state.tau.at[idx].add(d)
    return pos + done, ChainState(tau=tau, field=field), cnt


def sweep(key, state: ChainState, J, T, M: int = 64):
    """One sweep (n attempts) at temperature T.  Returns (state, accepted flips)."""
    n = state.tau.shape[0]
    sites, thr = sweep_randoms(key, n, T, state.field.dtype)
    sites = jnp.concatenate([sites, jnp.zeros(M, jnp.int32)])
    thr = jnp.concatenate([thr, jnp.full(M, -jnp.inf, thr.dtype)])
    lane = jnp.arange(M, dtype=jnp.int32)

    def cond(c):
        return c[0] < n

    def body(c):
        pos, tau, field, nacc = c
        S = jax.lax.dynamic_slice(sites, (pos,), (M,))
        th = jax.lax.dynamic_slice(thr, (pos,), (M,))
        t = tau[S]
        ok = (-2.0 * t * field[S] < th)
        hit = jnp.any(ok)
        a = jnp.argmax(ok).astype(jnp.int32)
        s = S[a]
        d = jnp.where(hit, -2.0 * t[a], 0.0).astype(field.dtype)
        field = field + J[s] * d
        tau = tau.at[s].add(d)
        return jnp.where(hit, pos + a + 1, pos + M), tau, field, nacc + hit.astype(jnp.int32)

    _, tau, field, nacc = jax.lax.while_loop(
        cond, body, (jnp.int32(0), state.tau, state.field, jnp.int32(0)))
    return ChainState(tau=tau, field=field), nacc


def sweep_dense(key, state: ChainState, J, T, M: int = 8):
    """One sweep in blocks of M attempts with every flip applied (high-T mode).

    The same chain as :func:`sweep`.  Per block: the M rows J[S] are gathered
    once; the M attempts run in order on the block's local fields, corrected
    by the (M, M) couplings among the block's sites; then all n fields are
    updated with the M rows (zero weight for rejected attempts).  Cost O(n)
    per attempt, with no per-flip loop overhead: best when most attempts are
    accepted (T >~ h0).
    """
    n = state.tau.shape[0]
    sites, thr = sweep_randoms(key, n, T, state.field.dtype)
    nb = -(-n // M)
    pad = nb * M - n
    sites = jnp.concatenate([sites, jnp.zeros(pad, jnp.int32)]).reshape(nb, M)
    thr = jnp.concatenate([thr, jnp.full(pad, -jnp.inf, thr.dtype)]).reshape(nb, M)

    def block(c, x):
        tau, field, nacc = c
        S, th = x
        rows = J[S]                                    # (M, n)
        Jbb = rows[:, S]                               # (M, M), Jbb[a, b] = J[S_a, S_b]
        same = S[:, None] == S[None, :]
        f = field[S]
        t = tau[S]
        ds = []
        for a in range(M):
            acc = -2.0 * t[a] * f[a] < th[a]
            d = jnp.where(acc, -2.0 * t[a], 0.0).astype(field.dtype)
            f = f + Jbb[:, a] * d
            t = jnp.where(same[:, a] & acc, -t, t)
            ds.append(d)
            nacc = nacc + acc.astype(jnp.int32)
        d = jnp.stack(ds)
        field = field + jnp.sum(rows * d[:, None], axis=0)
        tau = tau.at[S].add(d)
        return (tau, field, nacc), None

    (tau, field, nacc), _ = jax.lax.scan(block, (state.tau, state.field, jnp.int32(0)), (sites, thr))
    return ChainState(tau=tau, field=field), nacc


def anneal_at(key, state: ChainState, h, J, T, n_sweeps: int, M: int = 64, dense: bool = False):
    """``n_sweeps`` sweeps at T (key of sweep s: fold_in(key, s)).

    The local fields are recomputed exactly (h + J tau) at the start, which
    removes any rounding drift accumulated at the previous temperature.
    Returns (state, accepted flips as int64).
    """
    state = ChainState(tau=state.tau, field=local_fields(state.tau, h, J))

    def body(c, s):
        st, nacc = c
        step = sweep_dense if dense else sweep
        st, a = step(jax.random.fold_in(key, s), st, J, T, M)
        return (st, nacc + a.astype(jnp.int64)), None

    (state, nacc), _ = jax.lax.scan(body, (state, jnp.int64(0)), jnp.arange(n_sweeps))
    return state, nacc


def default_block(T: float, h0: float, J0: float, n: int) -> tuple[int, int]:
    """Block shape (M, K) for temperature T: a static function of T/h0, not of the data.

    The expected acceptance falls from ~1 at T >> h0 to ~T/(20 h0) at T << h0.
    """
    scale = max(h0, J0, 1e-12)
    r = T / scale
    if r >= 1.0:
        return 8, 8
    if r >= 0.2:
        return 16, 8
    if r >= 0.05:
        return 32, 8
    return 64, 4
