"""Real part of the digamma function on the line Re z = 1/2.

The finite-frequency resonant response of a constant TLS density of states
(see :mod:`jtls.resonator.response`) is written with

    re_digamma_half(y) = Re psi(1/2 + i y),   y real,

and its derivative  d/dy Re psi(1/2 + i y) = -Im psi'(1/2 + i y).  JAX has no
complex digamma, so both are built here from

* the recurrence  psi(z) = psi(z + N) - sum_{k<N} 1/(z + k)  with N = 10,
  whose real part is  sum_k (k + 1/2) / ((k + 1/2)^2 + y^2), followed by
* the Stirling series  psi(w) ~ ln w - 1/(2w) - sum_{k=1..8} B_2k / (2k w^2k)
  at w = N + 1/2 + i y (|w| >= 10.5: truncation error < 1e-17), and
* for |y| >= 1e6 the large-y form  ln|y| - 1/(24 y^2)  (next term 7/(960 y^4)),
  which avoids overflow of |w|^2 for huge y.

Re psi(1/2 + i y) is even in y, increases with |y| and has a single positive
zero y0 = 1.0476626754617319...  Near it the difference of two O(2) numbers
in the recurrence would lose relative accuracy, so for |y - y0| < 0.15 a
Taylor series about y0 is used instead (17 terms, remainder < 5e-15 of the
value); its coefficients Re[i^k psi^(k)(1/2 + i y0)] / k! were computed with
mpmath at 50 digits, and y0 is stored as a double-double so that y - y0 keeps
full relative precision.  The whole function is accurate to about 1e-14
relative for all real y (tests/test_resonator_digamma.py compares with
mpmath.digamma).

Differentiation: ``re_digamma_half`` has a ``jax.custom_jvp`` whose tangent
is ``-Im psi'(1/2 + i y)`` from :func:`im_trigamma_half`, itself plain JAX
(recurrence + asymptotic series), hence differentiable again.
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp

#: Number of recurrence steps before the asymptotic series.
N_SHIFT = 10
#: Bernoulli numbers B_2, B_4, ..., B_16.
_BERNOULLI = (1.0 / 6.0, -1.0 / 30.0, 1.0 / 42.0, -1.0 / 30.0, 5.0 / 66.0,
              -691.0 / 2730.0, 7.0 / 6.0, -3617.0 / 510.0)
#: Positive zero of Re psi(1/2 + i y) as a double-double (hi, lo).
Y0_HI = 1.047662675461732
Y0_LO = 5.486140487174215e-18
#: Taylor coefficients c_k = Re[i^k psi^(k)(1/2 + i y0)] / k!, k = 1..17 (mpmath, 50 digits).
_TAYLOR = (1.0560352741662236, -0.6062795417160483, 0.45401066317612615, -0.3253170045190799,
           0.17415198936238746, -0.015842754558550286, -0.11599467631628314,
           0.19604413703926593, -0.21794730435657575, 0.19167413490549864,
           -0.1354192404482245, 0.06828675389003548, -0.005928948341301598,
           -0.04129012968958733, 0.06856955657889795, -0.07600644084648384,
           0.06732462409873224)
#: Half-width of the Taylor window around y0.
TAYLOR_RADIUS = 0.15
#: |y| above which the two-term large-y form is used.
Y_LARGE = 1e6

#: psi''(1/2) = -14 zeta(3).
PSI2_HALF = -14.0 * 1.2020569031595942

_KS = np.arange(N_SHIFT, dtype=float) + 0.5  # k + 1/2


def _re_digamma_recurrence(a):
    """Re psi(1/2 + i a) via recurrence + Stirling series; a >= 0 moderate (< Y_LARGE)."""
    a2 = a * a
    shift = jnp.sum(_KS / (_KS * _KS + a2[..., None]), axis=-1)
    w = (N_SHIFT + 0.5) + 1j * a
    inv2 = 1.0 / (w * w)
    series = jnp.zeros_like(w)
    p = jnp.ones_like(w)
    for k, b in enumerate(_BERNOULLI, start=1):
        p = p * inv2
        series = series + (b / (2 * k)) * p
    # Re ln w = 0.5 ln((N+1/2)^2 + a^2)
    re_log = 0.5 * jnp.log((N_SHIFT + 0.5) ** 2 + a2)
    re_psi_w = re_log - jnp.real(0.5 / w) - jnp.real(series)
    return re_psi_w - shift


def _re_digamma_taylor(a):
    # d = y - y0 = d_hi - Y0_LO with d_hi = y - Y0_HI exact (Sterbenz).  The low part enters as
    # the first-order correction -Y0_LO P'(d_hi): written as (d_hi - Y0_LO) it would be
    # re-associated by XLA's simplifier under jit and lost.
    d = a - Y0_HI
    p = jnp.zeros_like(d)
    dp = jnp.zeros_like(d)
    for c in reversed(_TAYLOR):
        dp = dp * d + p + c
        p = (p + c) * d
    # p = sum c_k d^k (k >= 1); dp = d p / d d
    return p - Y0_LO * dp


@jax.jit
def _re_digamma_half_impl(y):
    y = jnp.asarray(y, dtype=float)
    a = jnp.abs(y)
    large = a >= Y_LARGE
    near = jnp.abs(a - Y0_HI) < TAYLOR_RADIUS
    a_mid = jnp.where(large, 1.0, a)
    mid = _re_digamma_recurrence(a_mid)
    a_big = jnp.where(large, a, Y_LARGE)
    inv = 1.0 / a_big
    big = jnp.log(a_big) - inv * inv / 24.0
    a_near = jnp.where(near, a, Y0_HI)
    tay = _re_digamma_taylor(a_near)
    return jnp.where(large, big, jnp.where(near, tay, mid))


@jax.custom_jvp
def re_digamma_half(y):
    """Re psi(1/2 + i y) for real y (any shape, float64); even in y.

    Accuracy about 1e-14 relative for all finite y (see module docstring).
    """
    return _re_digamma_half_impl(jnp.asarray(y, dtype=float))


@jax.jit
def im_trigamma_half(y):
    """Im psi'(1/2 + i y) for real y (odd in y); d/dy Re psi(1/2+iy) = -Im psi'(1/2+iy).

    Recurrence psi'(z) = psi'(z + N) + sum_k 1/(z + k)^2 and the series
    psi'(w) ~ 1/w + 1/(2 w^2) + sum_k B_2k / w^(2k+1); for |y| >= 1e6 the
    large-y form -1/y - 1/(12 y^3); for |y| < 1e-8 the linear term psi''(1/2) y.  All terms share one sign (no cancellation).
    """
    y = jnp.asarray(y, dtype=float)
    large = jnp.abs(y) >= Y_LARGE
    ym = jnp.where(large, 1.0, y)
    xk = _KS
    den = xk * xk + ym[..., None] ** 2
    # Im 1/(x + i y)^2 = -2 x y / (x^2 + y^2)^2
    shift = jnp.sum(-2.0 * xk * ym[..., None] / (den * den), axis=-1)
    w = (N_SHIFT + 0.5) + 1j * ym
    inv = 1.0 / w
    inv2 = inv * inv
    series = inv + 0.5 * inv2
    p = inv
    for b in _BERNOULLI:
        p = p * inv2
        series = series + b * p
    mid = jnp.imag(series) + shift
    yb = jnp.where(large, y, Y_LARGE)
    ib = 1.0 / yb
    big = -ib - ib ** 3 / 12.0
    # |y| < 1e-8: Im psi'(1/2 + i y) = psi''(1/2) y + O(y^3) (avoids subnormal series terms)
    small = jnp.abs(y) < 1e-8
    return jnp.where(large, big, jnp.where(small, PSI2_HALF * y, mid))


@re_digamma_half.defjvp
def _re_digamma_half_jvp(primals, tangents):
    (y,), (dy,) = primals, tangents
    y = jnp.asarray(y, dtype=float)
    return re_digamma_half(y), -im_trigamma_half(y) * dy


#: psi(1/2) = -gamma - 2 ln 2 (the y -> 0 value).
PSI_HALF = -0.5772156649015329 - 2.0 * math.log(2.0)
