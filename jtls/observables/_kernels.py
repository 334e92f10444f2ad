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


def relaxation_kernel(log_b):
    """Complex G(b) = d artanh(1/d) - 1 with d = sqrt(1 - i b), b = omega tau_min > 0.

    The x-integrals of Eq. (8) (velocity) and of the relaxation absorption are

        int_0^1 sqrt(1-x^2)/x  * 1/(1 + b^2/x^4) dx = Re G(b),
        int_0^1 sqrt(1-x^2)/x  * (b/x^2)/(1 + b^2/x^4) dx = Im G(b),

    (substitute y = x^2, split y/(y^2+b^2) into partial fractions and use
    int_0^1 sqrt(1-y)/(y-c) dy = -2 + 2 sqrt(1-c) artanh(1/sqrt(1-c))).
    For b <= 8 the closed form is evaluated as
    d [ln(1+d) - (ln b)/2 + i pi/4] - 1 (exact rewriting of the artanh that
    stays accurate as b -> 0).  For b > 8 the closed form cancels (Re G ->
    2/(15 b^2)), so the convergent series G = sum_k z^k/(2k+1),
    z = 1/(1 - i b) = t/(t - i) with t = 1/b, is summed instead.

    Args:
      log_b: natural log of b (any real; float32 or float64).
    Returns:
      complex G with the matching precision.
    """
    log_b = jnp.asarray(log_b)
    cdtype = jnp.result_type(log_b.dtype, jnp.complex64)
    use_series = log_b > jnp.log(_B_SERIES)
    # closed form on safe inputs
    lb_c = jnp.where(use_series, 0.0, log_b)
    b_c = jnp.exp(lb_c)
    d = jnp.sqrt((1.0 - 1j * b_c).astype(cdtype))
    g_closed = d * (jnp.log(1.0 + d) - 0.5 * lb_c + 0.25j * jnp.pi) - 1.0
    # series on safe inputs
    lb_s = jnp.where(use_series, log_b, jnp.log(2.0 * _B_SERIES))
    t = jnp.exp(-lb_s)
    z = (t * (t + 1j)).astype(cdtype) / (1.0 + t * t)
    def horner(i, acc):
        k = _N_SERIES - 1 - i
        return 1.0 / (2.0 * k + 1.0) + z * acc

    acc = jax.lax.fori_loop(0, _N_SERIES - 1, horner,
                            jnp.zeros_like(z) + 1.0 / (2 * _N_SERIES + 1))
    g_series = z * acc
    return jnp.where(use_series, g_series, g_closed)
