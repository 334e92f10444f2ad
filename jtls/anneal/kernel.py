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
A rejected attempt changes nothing, so it should not cost O(n).
:func:`sweep` ("skip-ahead") looks at the next M attempts at once: with the
current fields it evaluates all M acceptance tests in one vectorised step; all
attempts before the first accepted one are rejected exactly as in a sequential
run (nothing changed in between), so the sweep jumps to the first accepted
attempt, applies that flip (n field updates from row s of J) and continues
from the attempt after it.  Cost: O(M) per block of rejections + O(n) per
accepted flip.  :func:`sweep_dense` is for T >~ h0 where most attempts are
accepted: it gathers the M rows J[S] of a block once, runs the M attempts in
order on the block's fields (corrected with the (M, M) couplings among the
block's sites) and updates all fields with one weighted sum of the rows.
Both realize the same chain from the same key (tested), so the mode is chosen
per temperature (:func:`default_block`) for speed only.  Which realization of
a vmapped batch finishes a sweep first depends only on its own chain, so
results do not depend on the batch size.  :func:`sweep_sequential` runs the
label-order chain (used for T >= h0/4) in blocks solved as a fixed point.

These block kernels are for vmapped batches (GPU/TPU).  :func:`sweep_scalar`
runs either chain one attempt at a time with a real branch on acceptance --
the compiled-sequential form, which :mod:`jtls.anneal.run` uses on CPU, where
each annealing stage is compiled as one XLA function over realizations one
after another.  All kernels avoid scatters (that emitter has none).

Functions act on ONE realization; vmap (or lax.map) them over realizations.
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


def _mix32(x):
    """A 32-bit integer hash with full avalanche (two xorshift-multiply rounds)."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def sweep_bits(key, n: int):
    """(2, n) uint32 random words for one sweep from ``key``.

    Counter-based: two words (s0, s1) are drawn from ``key`` with JAX's
    threefry, then word c of the sweep is mix(mix(c * 0x9E3779B9 + s0) ^ s1).
    A few integer operations per word instead of a threefry evaluation each
    (which cost ~20 ns per attempt, half of a low-temperature attempt); the
    keys still come from JAX's splittable PRNG, so sweeps, temperatures and
    realizations stay independent streams.
    """
    s = jax.random.bits(key, (2,), jnp.uint32)
    c = jax.lax.iota(jnp.uint32, 2 * n) * jnp.uint32(0x9E3779B9) + s[0]
    return _mix32(_mix32(c) ^ s[1]).reshape(2, n)


def _mulhi32(w, n: int):
    """floor(w n / 2^32) for uint32 words ``w`` and 0 <= n < 2^32, in uint32 arithmetic only.

    The 64-bit product is assembled from 16-bit halves, so the result is the
    same whether or not JAX's 64-bit types are enabled (with ``JTLS_NO_X64=1``
    a uint64 cast silently stays 32-bit and the product's high word would be
    lost: every site would be 0).
    """
    w = jnp.asarray(w, jnp.uint32)
    m16 = jnp.uint32(0xFFFF)
    n = int(n)
    if not 0 <= n < 2 ** 32:
        raise ValueError(f"argument 'n' must be in [0, 2^32), got {n!r}")
    b_lo, b_hi = jnp.uint32(n & 0xFFFF), jnp.uint32(n >> 16)
    a_lo, a_hi = w & m16, w >> 16
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    # < 2^16 + 2^16 + (2^16 - 1)^2 < 2^32: no overflow
    cross = (lo_lo >> 16) + (hi_lo & m16) + lo_hi
    return a_hi * b_hi + (hi_lo >> 16) + (cross >> 16)


def sweep_randoms(key, n: int, T, dtype=jnp.float64):
    """Sites (n,) int32 and acceptance thresholds -T ln u (n,) for one sweep.

    Two 32-bit words per attempt (:func:`sweep_bits`): the site is
    floor(w0 n / 2^32); u = (w1 + 1/2) / 2^32 in float64 (flips costing more
    than ~22 T are never accepted), or u = (floor(w1 / 2^8) + 1/2) / 2^24 when
    ``dtype`` is float32 (threshold in float32; cut-off ~17 T, i.e. a
    Metropolis probability below 3e-8 is rounded to zero).
    """
    bits = sweep_bits(key, n)
    sites = _mulhi32(bits[0], n).astype(jnp.int32)
    if jnp.dtype(dtype) == jnp.float32:
        u = ((bits[1] >> 8).astype(jnp.float32) + 0.5) * jnp.float32(2.0 ** -24)
        return sites, -jnp.asarray(T, jnp.float32) * jnp.log(u)
    u = (bits[1].astype(jnp.float64) + 0.5) * (2.0 ** -32)
    thr = (-jnp.asarray(T, jnp.float64) * jnp.log(u)).astype(dtype)
    return sites, thr


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
        tau = jnp.where(jnp.arange(n) == s, tau + d, tau)      # no scatter: see jtls.anneal.run
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
        tau = tau + d @ (S[:, None] == jnp.arange(tau.shape[0])).astype(tau.dtype)   # no scatter
        return (tau, field, nacc), None

    (tau, field, nacc), _ = jax.lax.scan(block, (state.tau, state.field, jnp.int32(0)), (sites, thr))
    return ChainState(tau=tau, field=field), nacc


def _seq_block(J, field, tau, thr, a0, m: int):
    """Attempts at the m consecutive sites a0 .. a0+m-1 in order (see :func:`sweep_sequential`).

    The m decisions d_k (flip change of tau, 0 if rejected) obey the
    sequential recursion d_k = D_k(f_k + sum_{j<k} J_kj d_j), f = the block's
    fields before it, D_k the Metropolis test of attempt k.  Instead of m
    dependent scalar steps, the recursion is solved by fixed-point iteration
    d <- D(f + L d), L the strictly lower triangle of the block's couplings,
    started from d = D(f): after i iterations the first i decisions are final,
    and an iteration that changes nothing has reached the recursion's unique
    solution, i.e. exactly the sequential decisions.  Measured: 1.1-2.5
    iterations on average per block of 64 (couplings are small next to the
    thresholds' spread), so a block costs a few vectorised steps, not m.
    """
    n = tau.shape[0]
    rows = jax.lax.dynamic_slice(J, (a0, 0), (m, n))           # (m, n): one contiguous slab of J
    low = jnp.tril(jax.lax.dynamic_slice(rows, (0, a0), (m, m)), -1)
    f0 = jax.lax.dynamic_slice(field, (a0,), (m,))
    t = jax.lax.dynamic_slice(tau, (a0,), (m,))
    th = jax.lax.dynamic_slice(thr, (a0,), (m,))

    def decide(f):
        return jnp.where(-2.0 * t * f < th, -2.0 * t, 0.0).astype(field.dtype)

    def body(c):
        d, _ = c
        dn = decide(f0 + low @ d)
        return dn, jnp.any(dn != d)

    d, _ = jax.lax.while_loop(lambda c: c[1], body, (decide(f0), jnp.bool_(True)))
    field = field + d @ rows           # J_kk = 0: a site's own field is unchanged by its flip
    tau = jax.lax.dynamic_update_slice(tau, t + d, (a0,))
    return field, tau, jnp.sum(d != 0).astype(jnp.int32)


def sweep_sequential(key, state: ChainState, J, T, M: int = 64):
    """One sequential sweep: one attempt at every site in label order 0 .. n-1 (high-T mode).

    A *different* (equally valid) chain from :func:`sweep`: the visiting order
    is fixed instead of random; each single-site Metropolis update keeps the
    Boltzmann distribution invariant, so the sweep does too.  The acceptance
    thresholds -T ln u come from the same key as in :func:`sweep` (the site
    words are unused).  Work is organised in blocks of M consecutive sites: the
    (M, n) slab of J is read once as one contiguous slice, the M decisions are
    solved exactly as a fixed point on the block's fields corrected with the
    (M, M) couplings among them (:func:`_seq_block`), and all n fields are
    updated with one matrix-vector product.  Cost
    O(n) per attempt whether accepted or not, with no gathers: the fastest
    mode when most attempts are accepted (T >~ h0 / 4).
    """
    n = state.tau.shape[0]
    _, thr = sweep_randoms(key, n, T, state.field.dtype)
    M = min(M, n)
    nb, r = divmod(n, M)

    def body(c, b):
        field, tau, nacc = c
        field, tau, a = _seq_block(J, field, tau, thr, b * M, M)
        return (field, tau, nacc + a), None

    (field, tau, nacc), _ = jax.lax.scan(body, (state.field, state.tau, jnp.int32(0)), jnp.arange(nb))
    if r:
        field, tau, a = _seq_block(J, field, tau, thr, nb * M, r)
        nacc = nacc + a
    return ChainState(tau=tau, field=field), nacc


def sweep_scalar(key, state: ChainState, J, T, M: int = 0, order: str = "random"):
    """One sweep as a plain sequential loop: n attempts, one at a time (same chains).

    ``order="random"``: the chain of :func:`sweep` (sites from the sweep's
    key); ``order="label"``: the chain of :func:`sweep_sequential`.  A
    rejected attempt costs a few scalar operations; an accepted one updates
    the n fields from row s of J inside a ``lax.cond``, i.e. only when it
    happens.  This is the compiled-sequential form: fastest when the program
    runs as one function on one realization at a time (CPU, see
    :mod:`jtls.anneal.run`); vmapped, the cond would become a select and
    every attempt would cost O(n).  ``M`` is unused (uniform signature).
    """
    n = state.tau.shape[0]
    sites, thr = sweep_randoms(key, n, T, state.field.dtype)
    label = order == "label"

    def body(k, c):
        tau, field, nacc = c
        s = k if label else sites[k]
        t = tau[s]

        def flip(c):
            tau, field, nacc = c
            d = (-2.0 * t).astype(field.dtype)
            return jax.lax.dynamic_update_index_in_dim(tau, -t, s, 0), field + J[s] * d, nacc + 1

        return jax.lax.cond(-2.0 * t * field[s] < thr[k], flip, lambda c: c, (tau, field, nacc))

    tau, field, nacc = jax.lax.fori_loop(0, n, body, (state.tau, state.field, jnp.int32(0)))
    return ChainState(tau=tau, field=field), nacc


def anneal_at(key, state: ChainState, h, J, T, n_sweeps: int, M: int = 64, dense=False,
              scalar: bool = False):
    """``n_sweeps`` sweeps at T (key of sweep s: fold_in(key, s)).

    ``dense``: False or "skip" -> :func:`sweep` (skip-ahead blocks of M),
    True or "dense" -> :func:`sweep_dense`, "seq" -> :func:`sweep_sequential`.
    ``scalar=True`` runs the same chain (random sites, or label order for
    "seq") with :func:`sweep_scalar` instead.

    The local fields are recomputed exactly (h + J tau) at the start, which
    removes any rounding drift accumulated at the previous temperature.
    Returns (state, accepted flips as int64).
    """
    state = ChainState(tau=state.tau, field=local_fields(state.tau, h, J))

    mode = _mode_name(dense)
    if scalar:
        order = "label" if mode == "seq" else "random"
        step = lambda k, st: sweep_scalar(k, st, J, T, M, order)  # noqa: E731
    else:
        step = lambda k, st: _MODES[mode](k, st, J, T, M)  # noqa: E731

    def body(c, s):
        st, nacc = c
        st, a = step(jax.random.fold_in(key, s), st)
        return (st, nacc + a.astype(jnp.int64)), None

    (state, nacc), _ = jax.lax.scan(body, (state, jnp.int64(0)), jnp.arange(n_sweeps))
    return state, nacc


def _mode_name(mode) -> str:
    if mode is True:
        return "dense"
    if mode is False or mode is None:
        return "skip"
    if mode not in ("skip", "dense", "seq"):
        raise ValueError(f"argument 'mode' must be 'skip', 'dense' or 'seq', got {mode!r}")
    return mode


_MODES = {"skip": sweep, "dense": sweep_dense, "seq": sweep_sequential}


def default_block(T: float, h0: float, J0: float, n: int) -> tuple[str, int]:
    """Sweep mode (mode, M) for temperature T: a static function of T/h0, not of the data.

    The acceptance falls from ~1 at T >> h0 to ~0.05 T/h0 at T << h0 (measured:
    0.97 at 300 K, 0.5 at 10 K, 0.09 at 1 K, 0.005 at 0.1 K for h0 = 10 K,
    J0 = 2 K).  T >= h0/4: sequential sweeps in blocks of 64 (every attempt
    costs O(n) but as contiguous slabs and matrix-vector products);
    below: random-site skip-ahead blocks of M ~ 1/acceptance (capped at 64).
    """
    r = T / max(h0, J0, 1e-12)
    if r >= 0.25:
        return "seq", 64
    if r >= 0.1:
        return "skip", 16
    if r >= 0.02:
        return "skip", 32
    return "skip", 64
