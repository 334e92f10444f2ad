"""Numerically stable elementary kernels of the TLS observables.

All functions are elementwise, jit/vmap/grad-safe (both branches of every
``where`` are evaluated on safe inputs) and free of overflow for any real
argument, forward-mode derivatives included.  ``u`` is the reduced energy
E/T (k_B = 1).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def sech2_half(u):
    """1 / cosh^2(u/2) = 4 e^-|u| / (1 + e^-|u|)^2."""
    e = jnp.exp(-jnp.abs(u))
    return 4.0 * e / (1.0 + e) ** 2


def tanh_half_over_u(u):
    """tanh(u/2) / u, equal to 1/2 at u = 0 (u >= 0)."""
    small = u < 1e-4
    us = jnp.where(small, 1.0, u)
    x2 = (0.5 * u) ** 2
    return jnp.where(small, 0.5 * (1.0 - x2 / 3.0 + 2.0 * x2 * x2 / 15.0), jnp.tanh(0.5 * us) / us)


def u_coth_half(u):
    """u coth(u/2), equal to 2 at u = 0 (u >= 0)."""
    small = u < 1e-4
    us = jnp.where(small, 1.0, u)
    x2 = (0.5 * u) ** 2
    return jnp.where(small, 2.0 * (1.0 + x2 / 3.0 - x2 * x2 / 45.0), us / jnp.tanh(0.5 * us))


def fermi_tail(u):
    """1 - tanh(u/2) = 2 / (e^u + 1) for u >= 0, without overflow."""
    e = jnp.exp(-u)
    return 2.0 * e / (1.0 + e)


#: Below this u the phonon weight uses its series (next term u^8/... < 1e-40 there).
KAPPA_SERIES_U = 1e-4


def kappa_weight(u):
    """u^3 / (sinh^2(u/2) tanh(u/2)) = 4 u^3 e^-u (1 + e^-u) / (1 - e^-u)^3, -> 8 at u = 0.

    The phonon weight of Eq. (5) in the reduced variable u = E/T.
    """
    small = u < KAPPA_SERIES_U
    us = jnp.where(small, 1.0, u)
    e = jnp.exp(-us)
    big = 4.0 * us**3 * e * (1.0 + e) / (-jnp.expm1(-us)) ** 3
    # series: u^3 cosh(u/2)/sinh^3(u/2) = 8 (1 - u^4/240 + u^6/3024 - ...) for small u
    # (with x = u/2: (x/sinh x)^3 cosh x = 1 - x^4/15 + 4 x^6/189 - ...; no u^2 term)
    u4 = (u * u) ** 2
    return jnp.where(small, 8.0 * (1.0 - u4 / 240.0 + u4 * u * u / 3024.0), big)


#: Above this value of b = omega tau_min the relaxation kernel uses its series.
_B_SERIES = 8.0
#: Terms of the series: |z| < 1/8 there, so z^20/41 < 1e-19.
_N_SERIES = 20


def _relaxation_kernel_parts(log_b):
    """(Re G, Im G, Re dG/dln b, Im dG/dln b) of :func:`relaxation_kernel`, in real arithmetic.

    G(b) = d artanh(1/d) - 1 with d = sqrt(1 - i b) = p - i q,
    r = sqrt(1 + b^2), p = sqrt((1 + r)/2), q = b / sqrt(2 (1 + r)).
    For b <= 8 the closed form is evaluated as G = d L - 1 with
    L = ln(1 + d) - (ln b)/2 + i pi/4 (an exact rewriting of the artanh that stays
    accurate as b -> 0): Re L = ln((1 + p)^2 + q^2)/2 - (ln b)/2,
    Im L = pi/4 - atan2(q, 1 + p).  For b > 8 the closed form cancels (Re G ->
    2/(15 b^2)), so the convergent series G = sum_{k>=1} z^k/(2k+1),
    z = 1/(1 - i b), is summed instead (Horner, unrolled).  Both branches are
    evaluated on safe inputs and selected.

    The derivative has a closed form: d(d artanh(1/d))/dd = artanh(1/d) - i d/b and
    dd/db = -i/(2d) give

        dG/d ln b = [G (1 - z) - z] / 2,

    -> -1/2 as b -> 0 and ~ -z/3 as b -> infinity, without cancellation in
    either limit.  z = 1/(1 + b^2) + i b/(1 + b^2) is formed from
    e = exp(-|ln b|) <= 1, free of overflow for any real ln b, and so is
    Re(1 - z) = b^2/(1 + b^2).

    Written with real numbers so that XLA fuses value and slope into one loop
    (its expansion of the complex square root and logarithm split the
    derivative's program into many separate loops).
    """
    log_b = jnp.asarray(log_b)
    use_series = log_b > jnp.log(_B_SERIES)
    # closed form on safe inputs (b <= 8)
    lb_c = jnp.where(use_series, 0.0, log_b)
    b = jnp.exp(lb_c)
    r = jnp.sqrt(1.0 + b * b)
    p = jnp.sqrt(0.5 * (1.0 + r))
    q = b / jnp.sqrt(2.0 * (1.0 + r))
    lr = 0.5 * jnp.log((1.0 + p) ** 2 + q * q) - 0.5 * lb_c
    li = 0.25 * jnp.pi - jnp.arctan2(q, 1.0 + p)
    gr_c = p * lr + q * li - 1.0
    gi_c = p * li - q * lr
    # z = 1/(1 - i b) for every b (the series' variable and the slope's factor)
    big = log_b > 0
    e = jnp.exp(jnp.where(big, -log_b, log_b))      # not -|ln b|: its derivative at 0 is 0
    den = 1.0 / (1.0 + e * e)
    zr = jnp.where(big, e * e * den, den)
    zi = e * den
    # series on safe inputs (b > 8): G = z (1/3 + z/5 + z^2/7 + ...)
    zr_s = jnp.where(use_series, zr, 0.0)
    zi_s = jnp.where(use_series, zi, 0.0)
    ar = jnp.full_like(zr_s, 1.0 / (2 * _N_SERIES + 1))
    ai = jnp.zeros_like(zi_s)
    for k in range(_N_SERIES - 1, 0, -1):
        ar, ai = 1.0 / (2.0 * k + 1.0) + zr_s * ar - zi_s * ai, zr_s * ai + zi_s * ar
    gr_s = zr_s * ar - zi_s * ai
    gi_s = zr_s * ai + zi_s * ar
    gr = jnp.where(use_series, gr_s, gr_c)
    gi = jnp.where(use_series, gi_s, gi_c)
    # slope [G (1 - z) - z] / 2, with Re(1 - z) = b^2/(1 + b^2) formed without cancellation
    omz = jnp.where(big, den, e * e * den)
    sr = 0.5 * (gr * omz + gi * zi - zr)
    si = 0.5 * (gi * omz - gr * zi - zi)
    return gr, gi, sr, si


@jax.custom_jvp
def relaxation_kernel(log_b):
    """Complex G(b) = d artanh(1/d) - 1, d = sqrt(1 - i b), as a function of ln b.

    The x-integrals of Eq. (8) (velocity) and of the relaxation absorption are

        int_0^1 sqrt(1-x^2)/x  * 1/(1 + b^2/x^4) dx = Re G(b),
        int_0^1 sqrt(1-x^2)/x  * (b/x^2)/(1 + b^2/x^4) dx = Im G(b),

    (substitute y = x^2, split y/(y^2+b^2) into partial fractions and use
    int_0^1 sqrt(1-y)/(y-c) dy = -2 + 2 sqrt(1-c) artanh(1/sqrt(1-c))).
    Evaluation and the closed-form derivative dG/d ln b = [G (1 - z) - z]/2,
    z = 1/(1 - i b): :func:`_relaxation_kernel_parts`.  Derivatives of any
    order use that rule (one product per node) instead of differentiating the
    square root, logarithm and series.

    Args:
      log_b: natural log of b = omega tau_min > 0 (any real; float32 or float64).
    Returns:
      complex G with the matching precision.
    """
    gr, gi, _, _ = _relaxation_kernel_parts(log_b)
    return jax.lax.complex(gr, gi)


@relaxation_kernel.defjvp
def _relaxation_kernel_jvp(primals, tangents):
    (log_b,), (t,) = primals, tangents
    gr, gi, sr, si = _relaxation_kernel_parts(log_b)
    return jax.lax.complex(gr, gi), jax.lax.complex(sr * t, si * t)
