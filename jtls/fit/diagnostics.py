"""Convergence diagnostics of Markov chains (numpy): split-R-hat and effective sample size.

Used by :mod:`jtls.fit.posterior` and the benchmarks.  ``x`` has shape
(chains, draws).  :func:`rhat` is the rank-normalised split-R-hat (the larger
of bulk and folded, Vehtari et al. 2021, Bayesian Analysis 16, 667);
:func:`ess` the effective sample size with Geyer's initial monotone sequence
(as Stan and ArviZ compute it); :func:`ess_bulk` that of the rank-normalised
split chains.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["rhat", "ess", "ess_bulk"]


def _split(x):
    """(chains, draws) -> (2 chains, draws // 2)."""
    x = np.asarray(x, float)
    h = x.shape[1] // 2
    return np.concatenate([x[:, :h], x[:, h:2 * h]], axis=0)


def _rank_normalise(x):
    """Blom rank normal scores over the pooled draws (average rank for ties)."""
    from scipy.special import ndtri
    from scipy.stats import rankdata
    r = rankdata(x, method="average").reshape(x.shape)
    return ndtri((r - 0.375) / (x.size + 0.25))


def _rhat_raw(x):
    """Gelman-Rubin R-hat of (chains, draws) as they are."""
    m, n = x.shape
    w = x.var(axis=1, ddof=1).mean()
    b = n * x.mean(axis=1).var(ddof=1)
    if not w > 0:
        return math.nan
    return math.sqrt(((n - 1) / n * w + b / n) / w)


def rhat(x) -> float:
    """Rank-normalised split-R-hat of draws ``x`` (chains, draws): the larger of the
    bulk (rank-normalised split chains) and tail (same of |x - median|) values."""
    s = _split(x)
    bulk = _rhat_raw(_rank_normalise(s))
    tail = _rhat_raw(_rank_normalise(np.abs(s - np.median(s))))
    return max(bulk, tail)


def ess(x) -> float:
    """Effective sample size of draws ``x`` (chains, draws) as they are (no split, no ranks):
    multi-chain autocorrelations (Stan's combination with the between-chain variance),
    Geyer's initial positive pairs truncated and made monotone."""
    x = np.asarray(x, float)
    m, n = x.shape
    if n < 4:
        return math.nan
    xc = x - x.mean(axis=1, keepdims=True)
    nfft = 1 << int(2 * n - 1).bit_length()
    f = np.fft.rfft(xc, n=nfft, axis=1)
    acov = np.fft.irfft(f * np.conjugate(f), n=nfft, axis=1)[:, :n] / n    # biased autocovariance
    mean_acov = acov.mean(axis=0)
    mean_var = mean_acov[0] * n / (n - 1.0)                                # mean within-chain variance
    var_plus = mean_var * (n - 1.0) / n
    if m > 1:
        var_plus += x.mean(axis=1).var(ddof=1)
    if not var_plus > 0 or not mean_var > 0:
        return 0.0
    rho = 1.0 - (mean_var - mean_acov) / var_plus
    rho[0] = 1.0
    # initial positive sequence: pairs rho[2k] + rho[2k+1] while > 0
    rho_t = np.zeros(n)
    rho_t[0] = 1.0
    rho_t[1] = rho[1]
    t = 1
    even, odd = rho[0], rho[1]
    while t < n - 3 and even + odd > 0.0:
        even, odd = rho[t + 1], rho[t + 2]
        if even + odd >= 0.0:
            rho_t[t + 1], rho_t[t + 2] = even, odd
        t += 2
    max_t = t - 2
    if even > 0.0:
        rho_t[max_t + 1] = even
    # initial monotone sequence
    t = 1
    while t <= max_t - 2:
        if rho_t[t + 1] + rho_t[t + 2] > rho_t[t - 1] + rho_t[t]:
            rho_t[t + 1] = rho_t[t + 2] = (rho_t[t - 1] + rho_t[t]) / 2.0
        t += 2
    total = m * n
    tau = -1.0 + 2.0 * rho_t[:max_t + 1].sum() + rho_t[max_t + 1:max_t + 2].sum()
    tau = max(tau, 1.0 / math.log10(total))
    return total / tau


def ess_bulk(x) -> float:
    """Bulk effective sample size: :func:`ess` of the rank-normalised split chains."""
    return ess(_rank_normalise(_split(x)))
