"""Compiled sequential baseline for the annealer benchmark (numba; a [bench] extra).

The same Markov chain as :mod:`jtls.anneal.kernel`: at temperatures flagged
``seq`` a sweep visits every site once in label order (jtls's "seq" mode, used
for T >= h0/4), otherwise a sweep is n attempts at uniformly random sites
(with replacement; jtls's "skip" mode); the flip costing eps = -2 tau_s Delta_s
is accepted iff eps < -T ln u; after an accepted flip all n local fields are
updated from column s of J.  One realization at a time
(``anneal_one``), or realizations spread over the cores with ``prange``
(``anneal_many``; each chain itself stays sequential).  Disorder is drawn with
numpy from the same distributions as jtls.anneal.lattice (not the same
numbers: this file exists to time the chain, not to reproduce jtls output).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange


def make_disorder_np(rng, L, x=0.5, J0=2.0, h0=10.0, C=1.0, dtype=np.float64):
    n = int(round(x * L ** 3))
    sites = np.sort(rng.permutation(L ** 3)[:n])
    pos = np.stack([sites // (L * L), (sites // L) % L, sites % L], axis=-1)
    d = np.abs(pos[:, None, :] - pos[None, :, :])
    d = np.minimum(d, L - d).astype(float)
    R = np.sqrt((d * d).sum(-1))
    g = np.triu(rng.standard_normal((n, n)), 1)
    J = (g + g.T) * J0 / (R ** 3 + C)
    np.fill_diagonal(J, 0.0)
    h = h0 * rng.standard_normal(n)
    return h.astype(dtype), np.ascontiguousarray(J.astype(dtype))


def seq_flags(temps, h0=10.0, J0=2.0):
    """jtls's default choice: sequential sweeps for T >= max(h0, J0)/4."""
    return np.asarray([t / max(h0, J0) >= 0.25 for t in temps])


@njit(cache=True, fastmath=False)
def anneal_one(h, J, tau, temps, sweeps, seed, seq):
    """Anneal one realization in place; returns (fields, accepted flips, attempts)."""
    np.random.seed(seed)
    n = h.shape[0]
    field = h + J @ tau
    acc = 0
    att = 0
    for it in range(temps.shape[0]):
        T = temps[it]
        for _ in range(sweeps[it]):
            for _a in range(n):
                s = _a if seq[it] else np.random.randint(0, n)
                u = np.random.random()
                att += 1
                eps = -2.0 * tau[s] * field[s]
                if eps < -T * math.log(1.0 - u):
                    dt = -2.0 * tau[s]
                    tau[s] = -tau[s]
                    row = J[s]
                    for j in range(n):
                        field[j] += row[j] * dt
                    acc += 1
    return field, acc, att


@njit(parallel=True, cache=True)
def anneal_many(hs, Js, taus, temps, sweeps, seeds, seq):
    """anneal_one for each realization r, realizations spread over threads."""
    R = hs.shape[0]
    accs = np.zeros(R, np.int64)
    atts = np.zeros(R, np.int64)
    fields = np.zeros_like(hs)
    for r in prange(R):
        f, a, t = anneal_one(hs[r], Js[r], taus[r], temps, sweeps, seeds[r], seq)
        fields[r] = f
        accs[r] = a
        atts[r] = t
    return fields, accs, atts
