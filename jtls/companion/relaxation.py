"""Relaxation-rate statistics and logarithmic relaxation of the mean-field TLS glass (Asban et al. 2022).

Analysis of the results of :func:`jtls.companion.meanfield.simulate`: the
single-particle DOS, the density of log10(lambda) (a 1/lambda distribution of
relaxation rates is flat in it) and its lower cutoff lambda_min (Sec. III),
the sampled relaxation of Eq. 15, and the exact (Eq. 16) and asymptotic
(Eq. 17) logarithmic relaxation of a 1/lambda distribution.

Units: energies in units of the interaction J (as in
:mod:`jtls.companion.meanfield`), rates in any unit (a J^3 there), times in
the inverse unit of the rates.  Arguments are checked on concrete values (not
under ``jit``): rates and times finite and non-negative (rates > 0 where their
logarithm is taken), samples non-empty, counts positive ints; a bad value is
a ValueError naming the argument.
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _validate as V
from . import _checks as K

#: Euler's constant (Eq. 17).
EULER_GAMMA = 0.5772156649015329


def dos(E: ArrayLike, bins: int = 80,
        range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Normalized histogram of excitation energies (DOS per TLS per unit energy).

    Parameters
    ----------
    E : array_like
        Signed excitation energies (units of J, finite, at least one), any
        shape (pooled).
    bins : int
        Number of bins (>= 1).
    range : (float, float), optional
        Histogram range (J, finite, low < high); default: the data's.

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
    K.nonempty("E", E)
    V.finite("E", E)
    K.integer("bins", bins, 1)
    if range is not None:
        V.finite("range", range)
        if np.shape(range) != (2,):
            raise ValueError(f"argument 'range' must be a pair (low, high), got {range!r}")
        K.ordered("range[0]", range[0], "range[1]", range[1])
    E = np.asarray(E, dtype=float).ravel()
    if range is None:
        name, (lo, hi) = "E", (float(E.min()), float(E.max()))
        if lo == hi:                 # numpy's convention for a single value
            lo, hi = lo - 0.5, hi + 0.5
    else:
        name, (lo, hi) = "range", (float(range[0]), float(range[1]))
    # the bin edges numpy would use must be finite and strictly increasing (otherwise
    # numpy's "Too many bins for data range" names no argument)
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.linspace(lo, hi, bins + 1)
        ok = math.isfinite(hi - lo) and bool(np.all(np.isfinite(edges))) and bool(np.all(np.diff(edges) > 0))
    if not ok:
        what = (f"argument 'range' = ({lo!r}, {hi!r})" if name == "range" else
                f"argument 'E' (all values {float(E[0])!r}, histogrammed over +-0.5)"
                if E.min() == E.max() else f"argument 'E' (values from {lo!r} to {hi!r})")
        raise ValueError(f"{what}: float64 cannot split this range into 'bins'={bins} bins of finite, "
                         f"non-zero width; pass a 'range' whose width is finite and far above the "
                         f"spacing of floats at its ends, or fewer 'bins'")
    h, edges = np.histogram(E, bins=bins, range=(lo, hi), density=True)
    return 0.5 * (edges[1:] + edges[:-1]), h


def log_rate_histogram(rates: ArrayLike, bins_per_decade: int = 4, lo: float | None = None,
                       hi: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Density of log10(lambda): a 1/lambda distribution of rates is flat here.

    Parameters
    ----------
    rates : array_like
        Relaxation rates (finite, > 0, at least one; any unit), any shape (pooled).
    bins_per_decade : int
        Bins per decade (>= 1).
    lo, hi : float, optional
        Range in log10(rate) (finite, lo < hi; default: the data's, to whole
        decades, at least one).

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
    V.positive_finite("rates", rates)
    K.integer("bins_per_decade", bins_per_decade, 1)
    for name, v in (("lo", lo), ("hi", hi)):
        if v is not None:
            V.finite(name, v)
    lr = np.log10(np.asarray(rates, dtype=float).ravel())
    if lo is None:
        lo = math.floor(lr.min())
        if hi is None and math.ceil(lr.max()) == lo:  # every rate the same power of ten
            hi = lo + 1
    hi = math.ceil(lr.max()) if hi is None else hi
    K.ordered("lo", lo, "hi", hi)
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
        Relaxation rates (finite, > 0, at least one; any unit), pooled.
    bins_per_decade : int
        Histogram resolution (>= 1).
    frac : float
        Fraction of the plateau level that still counts as plateau, in (0, 1].

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
    V.positive_finite("rates", rates)
    K.integer("bins_per_decade", bins_per_decade, 1)
    K.fraction("frac", frac)
    lr = np.log10(np.asarray(rates, dtype=float).ravel())
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
        Relaxation rates (finite, >= 0, N >= 1), pooled over leading axes.
    t : array_like, shape (M,)
        Times in the inverse unit of the rates (finite, >= 0); any shape is
        accepted and kept.

    Returns
    -------
    jax.Array, shape (M,)
        The normalized response (1 at t = 0), shape of ``t``.

    Examples
    --------
    >>> from jtls.companion import relaxation as rel
    >>> print(rel.relaxation_curve([1.0, 2.0], [0.0, 1.0]))        # (e^-1 + e^-2) / 2 at t = 1
    [1.         0.25160736]
    """
    K.nonempty("rates", rates)
    V.nonnegative_finite("rates", rates)
    V.nonnegative_finite("t", t)
    r = jnp.asarray(rates).ravel()
    t = jnp.asarray(t)
    return jnp.mean(jnp.exp(-r * t[..., None]), axis=-1)


def _ein_series(x):
    """Ein(x) = sum_{k>=1} (-1)^(k+1) x^k / (k k!) for 0 <= x <= 1 (29 terms: < 1e-16)."""
    term = jnp.ones_like(x)
    acc = jnp.zeros_like(x)
    for k in range(1, 30):
        term = term * (-x) / k
        acc = acc + term / k
    return -acc


def _e1_cf(x):
    """E1(x) for x >= 1: e^-x / (x + 1/(1 + 1/(x + 2/(1 + 2/(x + ...))))), depth 80."""
    f = x
    for k in range(80, 0, -1):
        f = x + k / (1.0 + k / f)
    return jnp.exp(-x) / f


def _split(x):
    """(x < 1, the argument of the series branch, that of the continued-fraction branch).

    Each branch gets ``x`` where it is selected and a harmless constant elsewhere
    (0.5 and 1.0: no log(0), no 0/0 in the branch not taken), so the selected
    branch carries the whole derivative -- ``jnp.minimum(x, 1)`` and
    ``jnp.maximum(x, 1)`` both depend on x at x = 1 and split the gradient there
    (jax.grad(exp1)(1.0) was half of -e^-1).
    """
    small = x < 1.0
    return small, jnp.where(small, x, 0.5), jnp.where(small, 1.0, x)


def _exp1(x):
    """E1(x) = -gamma - ln x + Ein(x) for x < 1, the continued fraction above (no checks)."""
    small, xs, xl = _split(x)
    return jnp.where(small, -EULER_GAMMA - jnp.log(xs) + _ein_series(xs), _e1_cf(xl))


def _ein(x):
    """Ein(x) = E1(x) + gamma + ln x, entire (Ein(0) = 0); x >= 0 (no checks)."""
    small, xs, xl = _split(x)
    return jnp.where(small, _ein_series(xs), _e1_cf(xl) + EULER_GAMMA + jnp.log(xl))


def exp1(x: ArrayLike) -> jax.Array:
    """Exponential integral E1(x) = int_x^inf e^-s / s ds for x >= 0 (float64, relative error < 1e-14).

    Fixed-length series E1 = -gamma - ln x - sum_k (-x)^k / (k k!) for x < 1
    and a fixed-depth continued fraction for x >= 1 (jax.scipy.special.exp1
    did not terminate for arrays containing x ~ 1e-7 with jax 0.10.2).

    Parameters
    ----------
    x : array_like
        Arguments (finite, >= 0; E1(0) = inf), any shape.

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
    V.nonnegative_finite("x", x)
    return _exp1(jnp.asarray(x, dtype=float))


def log_relaxation(t: ArrayLike, lam_min: float, lam_max: float) -> jax.Array:
    """Eq. 16 (Asban et al.) for p(lambda) = 1/(lambda ln(lam_max/lam_min)) on [lam_min, lam_max].

    Exact: [E1(lam_min t) - E1(lam_max t)] / ln(lam_max / lam_min), which is
    1 at t = 0 (the limit: E1(x) = -gamma - ln x + Ein(x) with Ein entire,
    Ein(0) = 0).  Where lam_min t < 1 it is evaluated as
    1 + [Ein(lam_min t) - Ein(lam_max t)] / ln(lam_max / lam_min), finite down
    to t = 0.

    Parameters
    ----------
    t : array_like
        Times (finite, >= 0) in the inverse unit of the rates, any shape.
    lam_min, lam_max : float
        Ends of the 1/lambda distribution (0 < lam_min < lam_max, each in
        [1e-100, 1e100]).

    Returns
    -------
    jax.Array
        The normalized response in [0, 1], shape of ``t``.

    Examples
    --------
    >>> from jtls.companion import relaxation as rel
    >>> print(rel.log_relaxation([0.0, 1e-3, 1.0, 100.0], 1e-6, 1.0))   # logarithmic decay
    [1.         0.99992764 0.94234027 0.62489364]
    """
    V.nonnegative_finite("t", t)
    V.in_domain("lam_min", lam_min)
    V.in_domain("lam_max", lam_max)
    K.ordered("lam_min", lam_min, "lam_max", lam_max)
    t = jnp.asarray(t, dtype=float)
    xa, xb = lam_min * t, lam_max * t
    norm = jnp.log(jnp.asarray(lam_max, dtype=float) / lam_min)
    near_t = xa < 1.0
    near = 1.0 + (_ein(xa) - _ein(xb)) / norm
    # far from t = 0 both arguments are >= 1 (xb >= xa); elsewhere the far branch gets
    # the constant 1 (not jnp.maximum(x, 1), which splits the gradient at x = 1)
    fa, fb = jnp.where(near_t, 1.0, xa), jnp.where(near_t, 1.0, xb)
    far = (_e1_cf(fa) - _e1_cf(fb)) / norm
    return jnp.where(near_t, near, far)


def log_relaxation_asymptotic(t: ArrayLike, lam_min: float, c: float = 1.0) -> jax.Array:
    """Eq. 17 (Asban et al.): -c [gamma_E + ln(lam_min t)], for 1/lam_max << t << 1/lam_min.

    With the normalisation of :func:`log_relaxation`, c = 1/ln(lam_max/lam_min).

    Parameters
    ----------
    t : array_like
        Times in the inverse unit of the rates (finite, > 0: the logarithm
        diverges at t = 0).
    lam_min : float
        Lower end of the 1/lambda distribution (in [1e-100, 1e100]).
    c : float
        Amplitude (finite).

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
    V.positive_finite("t", t)
    V.in_domain("lam_min", lam_min)
    V.finite("c", c)
    return -c * (EULER_GAMMA + jnp.log(lam_min * jnp.asarray(t, dtype=float)))
