"""Relaxation-rate statistics and logarithmic relaxation of the mean-field TLS glass (Asban et al. 2022).

Analysis of the results of :func:`jtls.companion.meanfield.simulate`: the
single-particle DOS, the density of log10(lambda) (a 1/lambda distribution of
relaxation rates is flat in it) and its lower cutoff lambda_min (Sec. III),
the sampled relaxation of Eq. 15, and the exact (Eq. 16) and asymptotic
(Eq. 17) logarithmic relaxation of a 1/lambda distribution.

Units: energies in units of the interaction J (as in
:mod:`jtls.companion.meanfield`), rates in any unit (a J^3 there), times in
the inverse unit of the rates.
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

#: Euler's constant (Eq. 17).
EULER_GAMMA = 0.5772156649015329


def dos(E: ArrayLike, bins: int = 80,
        range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalized histogram of excitation energies (DOS per TLS per unit energy).

    Parameters
    ----------
    E : array_like
        Signed excitation energies (units of J), any shape (pooled).
    bins : int
        Number of bins.
    range : (float, float), optional
        Histogram range (J); default: the data's.

    Returns
    -------
    (centers, density) : ndarray, shape (bins,) each
        Bin centers (J) and density per TLS per J (integral 1).

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.companion import relaxation as rel
    >>> c, n = rel.dos(np.array([-1.0, -0.5, 0.5, 1.0]), bins=2, range=(-1.0, 1.0))
    >>> print(c, n)
    [-0.5  0.5] [0.5 0.5]
    """
    E = np.asarray(E).ravel()
    h, edges = np.histogram(E, bins=bins, range=range, density=True)
    return 0.5 * (edges[1:] + edges[:-1]), h


def log_rate_histogram(rates: ArrayLike, bins_per_decade: int = 4, lo: float | None = None,
                       hi: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Density of log10(lambda): a 1/lambda distribution of rates is flat here.

    Parameters
    ----------
    rates : array_like
        Relaxation rates (> 0, any unit), any shape (pooled).
    bins_per_decade : int
        Bins per decade.
    lo, hi : float, optional
        Range in log10(rate) (default: the data's, to whole decades).

    Returns
    -------
    (centers, density) : ndarray
        Bin centers in log10(rate) and the density per decade (integral 1).

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.companion import relaxation as rel
    >>> c, h = rel.log_rate_histogram(10.0 ** np.arange(-6, 0, 0.01), bins_per_decade=1)
    >>> print(c)
    [-5.5 -4.5 -3.5 -2.5 -1.5 -0.5]
    >>> print(np.round(h, 3))
    [0.168 0.167 0.167 0.167 0.167 0.165]
    """
    lr = np.log10(np.asarray(rates).ravel())
    lo = math.floor(lr.min()) if lo is None else lo
    hi = math.ceil(lr.max()) if hi is None else hi
    nb = max(1, int(round((hi - lo) * bins_per_decade)))
    h, edges = np.histogram(lr, bins=nb, range=(lo, hi), density=True)
    return 0.5 * (edges[1:] + edges[:-1]), h


def lambda_min(rates: ArrayLike, bins_per_decade: int = 4, frac: float = 0.5) -> float:
    """Lower cutoff lambda_min of the 1/lambda plateau (Sec. III).

    Plateau level = median density (per decade) of log10(lambda) over the bins
    between the 25% and 75% quantiles of log10(lambda); lambda_min is the lower
    edge of the lowest bin of the contiguous run of bins, ending at the
    plateau's median bin, whose density is >= ``frac`` * plateau level.

    Parameters
    ----------
    rates : array_like
        Relaxation rates (> 0, any unit), pooled.
    bins_per_decade : int
        Histogram resolution.
    frac : float
        Fraction of the plateau level that still counts as plateau.

    Returns
    -------
    float
        lambda_min in the unit of ``rates``.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.companion import relaxation as rel
    >>> print(f"{rel.lambda_min(10.0 ** np.arange(-6, 0, 0.01)):.1e}")    # flat from 1e-6
    1.0e-06
    """
    lr = np.log10(np.asarray(rates).ravel())
    c, h = log_rate_histogram(rates, bins_per_decade)
    q1, q3 = np.quantile(lr, [0.25, 0.75])
    inside = (c >= q1) & (c <= q3)
    level = np.median(h[inside]) if inside.any() else h.max()
    mid = int(np.argmin(np.abs(c - np.median(lr))))
    i = mid
    while i > 0 and h[i - 1] >= frac * level:
        i -= 1
    return 10.0 ** (c[i] - 0.5 / bins_per_decade)


def relaxation_curve(rates: ArrayLike, t: ArrayLike) -> jax.Array:
    """Sampled Eq. 15 (Asban et al.) with uniform c_i: |delta sigma|(t) = mean_i exp(-lambda_i t).

    Parameters
    ----------
    rates : array_like, shape (..., N)
        Relaxation rates, pooled over leading axes.
    t : array_like, shape (M,)
        Times in the inverse unit of the rates.

    Returns
    -------
    jax.Array, shape (M,)
        The normalized response (1 at t = 0).

    Examples
    --------
    >>> from jtls.companion import relaxation as rel
    >>> print(rel.relaxation_curve([1.0, 2.0], [0.0, 1.0]))        # (e^-1 + e^-2) / 2 at t = 1
    [1.         0.25160736]
    """
    r = jnp.asarray(rates).ravel()
    t = jnp.asarray(t)
    return jnp.mean(jnp.exp(-r[None, :] * t[:, None]), axis=1)


def exp1(x: ArrayLike) -> jax.Array:
    """Exponential integral E1(x) for x > 0 (float64, relative error < 1e-14).

    Fixed-length series for x < 1 and a fixed-depth continued fraction for
    x >= 1 (jax.scipy.special.exp1 did not terminate for arrays containing
    x ~ 1e-7 with jax 0.10.2).

    Parameters
    ----------
    x : array_like
        Arguments (> 0), any shape.

    Returns
    -------
    jax.Array
        E1(x), shape of ``x``.

    Examples
    --------
    >>> from jtls.companion import relaxation as rel
    >>> print(rel.exp1([0.5, 1.0, 2.0]))                    # scipy.special.exp1 agrees
    [0.55977359 0.21938393 0.04890051]
    """
    x = jnp.asarray(x, dtype=float)
    xs = jnp.minimum(x, 1.0)
    term = jnp.ones_like(xs)
    acc = jnp.zeros_like(xs)
    for k in range(1, 30):  # E1 = -gamma - ln x - sum_k (-x)^k / (k k!)
        term = term * (-xs) / k
        acc = acc + term / k
    small = -EULER_GAMMA - jnp.log(xs) - acc
    xl = jnp.maximum(x, 1.0)
    f = xl
    for k in range(80, 0, -1):  # e^-x / (x + 1/(1 + 1/(x + 2/(1 + 2/(x + ...)))))
        f = xl + k / (1.0 + k / f)
    large = jnp.exp(-xl) / f
    return jnp.where(x < 1.0, small, large)


def log_relaxation(t: ArrayLike, lam_min: float, lam_max: float) -> jax.Array:
    """Eq. 16 (Asban et al.) for p(lambda) = 1/(lambda ln(lam_max/lam_min)) on [lam_min, lam_max].

    Exact: [E1(lam_min t) - E1(lam_max t)] / ln(lam_max / lam_min) (-> 1 as
    t -> 0; t = 0 itself gives NaN, inf - inf).

    Parameters
    ----------
    t : array_like
        Times (> 0) in the inverse unit of the rates, any shape.
    lam_min, lam_max : float
        Ends of the 1/lambda distribution (0 < lam_min < lam_max).

    Returns
    -------
    jax.Array
        The normalized response, shape of ``t``.

    Examples
    --------
    >>> from jtls.companion import relaxation as rel
    >>> print(rel.log_relaxation([1e-3, 1.0, 100.0], 1e-6, 1.0))   # logarithmic decay
    [0.99992764 0.94234027 0.62489364]
    """
    t = jnp.asarray(t, dtype=float)
    return (exp1(lam_min * t) - exp1(lam_max * t)) / jnp.log(lam_max / lam_min)


def log_relaxation_asymptotic(t: ArrayLike, lam_min: float, c: float = 1.0) -> jax.Array:
    """Eq. 17 (Asban et al.): -c [gamma_E + ln(lam_min t)], for 1/lam_max << t << 1/lam_min.

    With the normalisation of :func:`log_relaxation`, c = 1/ln(lam_max/lam_min).

    Parameters
    ----------
    t : array_like
        Times in the inverse unit of the rates.
    lam_min : float
        Lower end of the 1/lambda distribution.
    c : float
        Amplitude.

    Returns
    -------
    jax.Array
        Shape of ``t``.

    Examples
    --------
    >>> import math
    >>> from jtls.companion import relaxation as rel
    >>> print(rel.log_relaxation_asymptotic([100.0], 1e-6, 1 / math.log(1e6)))   # cf. log_relaxation
    [0.6248864]
    """
    return -c * (EULER_GAMMA + jnp.log(lam_min * jnp.asarray(t, dtype=float)))
