"""Energy binning and DOS normalization for the annealer output.

Two nested binnings of the single-particle energies E_i = 2|Delta_i| >= 0 (K):

* the *fine* histogram (``fine_edges``): 2.5 mK bins up to 2.5 K, 50 mK bins
  up to 10 K, 0.5 K bins up to 200 K, plus one overflow bin; used by the
  fits (Eq. 3 in 0 < E < 2T needs resolution well below T = 0.1 K);
* the *coarse* grid (``coarse_edges``, every edge is also a fine edge): 20 mK
  bins to 1 K, 0.1 K to 5 K, 0.5 K to 40 K, 2 K to 200 K; its bin centres
  are the ``E_centers`` of the output file and of :class:`jtls.dos.TabulatedDOS`.

Normalization (the paper's): n(T, E) per TLS per kelvin over *signed*
energies, i.e. half the density of the E_i >= 0, so that
int_{-inf}^{inf} n dE = 1:   n_k = counts_k / (2 N_TLS width_k).
"""
from __future__ import annotations

import numpy as np
import jax.numpy as jnp

_TICK = 0.0025  # K; all edges are integer multiples of this


def _ticks(segments):
    out = [0]
    for stop, step in segments:
        a = out[-1]
        out.extend(range(a + step, stop + 1, step))
    return np.asarray(out, dtype=np.int64)


_FINE = _ticks([(1000, 1), (4000, 20), (80000, 200)])        # 2.5 K, 10 K, 200 K
_COARSE = _ticks([(400, 8), (2000, 40), (16000, 200), (80000, 800)])  # 1, 5, 40, 200 K


def fine_edges() -> np.ndarray:
    """Fine bin edges (nF + 1,) in K; E beyond the last edge goes to an overflow bin."""
    return _FINE * _TICK


def coarse_edges() -> np.ndarray:
    """Coarse bin edges (nE + 1,) in K (a subset of the fine edges)."""
    return _COARSE * _TICK


def coarse_index() -> np.ndarray:
    """Position of every coarse edge among the fine edges."""
    idx = np.searchsorted(_FINE, _COARSE)
    assert np.array_equal(_FINE[idx], _COARSE)
    return idx


def bin_counts(E, edges):
    """Counts (nF + 1,) int32 of energies E (n,) in the fine bins; last entry = overflow (E >= edges[-1])."""
    edges = jnp.asarray(edges)
    k = jnp.searchsorted(edges, jnp.asarray(E, jnp.float64), side="right") - 1
    nb = edges.shape[0] - 1
    k = jnp.clip(k, 0, nb)
    return jnp.zeros(nb + 1, jnp.int32).at[k].add(1)


def coarse_counts(counts_fine) -> np.ndarray:
    """Aggregate fine counts (..., nF + 1) to coarse counts (..., nE) (overflow dropped)."""
    c = np.asarray(counts_fine, dtype=np.int64)
    cum = np.concatenate([np.zeros(c.shape[:-1] + (1,), np.int64), np.cumsum(c[..., :-1], axis=-1)], axis=-1)
    idx = coarse_index()
    return cum[..., idx[1:]] - cum[..., idx[:-1]]


def normalize(counts, edges, n_tls_total):
    """DOS per TLS per K over signed energies: counts / (2 N_TLS width)."""
    if n_tls_total <= 0:
        raise ValueError("argument 'n_tls_total' must be > 0")
    widths = np.diff(np.asarray(edges, dtype=float))
    c = np.asarray(counts, dtype=float)[..., : widths.size]
    return c / (2.0 * n_tls_total * widths)
