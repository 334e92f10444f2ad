"""Thermal quasiparticles in the superconductor: Mattis-Bardeen, low-temperature forms.

For k_B T << Delta and hbar omega << Delta (Mattis & Bardeen 1958; the
thermal expansions as used e.g. in J. Gao, PhD thesis, Caltech 2008, ch. 2),
with xi = hbar omega/(2 k_B T), all energies in kelvin (k_B = 1):

    sigma1/sigma_n = (4 Delta/hbar omega) exp(-Delta/T) sinh(xi) K0(xi)
    sigma2/sigma_n = (pi Delta/hbar omega) [1 - sqrt(2 pi T/Delta) exp(-Delta/T)
                                             - 2 exp(-Delta/T) exp(-xi) I0(xi)]

(the square-root term is the thermal reduction of the gap itself).  A
resonator with kinetic-inductance fraction alpha (thin-film, local limit; for
thick films alpha stands for alpha*gamma) then has

    delta f/f(T) = (alpha/2) [sigma2(T) - sigma2(0)]/sigma2(0)
                 = -(alpha/2) [sqrt(2 pi T/Delta) + 2 exp(-xi) I0(xi)] exp(-Delta/T)
    1/Q_qp(T)    = alpha sigma1/sigma2.

Delta is the gap at T = 0 in K (BCS: Delta = 1.764 Tc).  Valid while
T <~ Tc/5; the resonator data of the Nb device reach T/Tc ~ 0.2.
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp
from jax.scipy.special import i0e

from .. import _validate as V
from ..units import omega_to_kelvin

#: BCS ratio Delta(0)/(k_B Tc).
BCS_RATIO = 1.764

_EULER = 0.5772156649015329
_N_K0_SERIES = 24
_GL_T, _GL_W = np.polynomial.legendre.leggauss(48)


def delta_bcs(Tc):
    """BCS gap Delta(0) = 1.764 k_B Tc in K."""
    return BCS_RATIO * jnp.asarray(Tc, dtype=float)


@jax.jit
def k0e(x):
    """exp(x) K0(x) for x > 0 (pure JAX, differentiable), relative error ~1e-15.

    x <= 2: K0 = -(ln(x/2) + gamma) I0(x) + sum_{k>=1} H_k (x^2/4)^k/(k!)^2 (24 terms);
    x > 2: exp(x) K0(x) = int_0^tmax exp(-x (cosh t - 1)) dt by 48-point
    Gauss-Legendre with tmax = arccosh(1 + 40/x) (the rest is < e^-40).
    """
    x = jnp.asarray(x, dtype=float)
    small = x <= 2.0
    xs = jnp.where(small, x, 1.0)
    q = 0.25 * xs * xs
    term = jnp.ones_like(xs)
    H = 0.0
    ser = jnp.zeros_like(xs)
    i0 = jnp.ones_like(xs)
    for k in range(1, _N_K0_SERIES + 1):
        term = term * q / (k * k)
        H += 1.0 / k
        ser = ser + H * term
        i0 = i0 + term
    k0_small = -(jnp.log(0.5 * xs) + _EULER) * i0 + ser
    small_val = jnp.exp(xs) * k0_small
    xl = jnp.where(small, 3.0, x)
    tmax = jnp.arccosh(1.0 + 40.0 / xl)
    t = 0.5 * tmax[..., None] * (jnp.asarray(_GL_T) + 1.0)
    wgt = 0.5 * tmax[..., None] * jnp.asarray(_GL_W)
    large_val = jnp.sum(wgt * jnp.exp(-xl[..., None] * (jnp.cosh(t) - 1.0)), axis=-1)
    return jnp.where(small, small_val, large_val)


@jax.jit
def _parts(T, omega, Delta):
    T = jnp.asarray(T, dtype=float)
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    xi = 0.5 * w / T
    boltz = jnp.exp(-Delta / T)
    s2 = (jnp.sqrt(2.0 * math.pi * T / Delta) + 2.0 * i0e(xi)) * boltz  # -(delta sigma2/sigma2)
    # sinh(xi) K0(xi) = (1 - exp(-2 xi))/2 * exp(xi) K0(xi)
    s1 = (4.0 / math.pi) * boltz * 0.5 * (-jnp.expm1(-2.0 * xi)) * k0e(xi)  # sigma1/sigma2(0)
    return s1, s2


def frequency_shift_qp(T, omega, Delta, alpha, T_ref=None):
    """Quasiparticle shift -(alpha/2)[sqrt(2 pi T/Delta) + 2 e^-xi I0(xi)] e^(-Delta/T).

    Relative to T = 0, or to T_ref (K) when given.  T (K) any shape; omega
    rad/s; Delta gap in K; alpha kinetic-inductance fraction.  Dimensionless.
    """
    V.positive_finite("T", T)
    V.positive_finite("omega", omega)
    V.positive_finite("Delta", Delta)
    V.finite("alpha", alpha)
    out = -0.5 * alpha * _parts(T, omega, Delta)[1]
    if T_ref is not None:
        V.positive_finite("T_ref", T_ref)
        out = out + 0.5 * alpha * _parts(T_ref, omega, Delta)[1]
    return out


def loss_qp(T, omega, Delta, alpha):
    """Quasiparticle loss 1/Q_qp = alpha sigma1/sigma2 (dimensionless), Mattis-Bardeen low-T form."""
    V.positive_finite("T", T)
    V.positive_finite("omega", omega)
    V.positive_finite("Delta", Delta)
    V.finite("alpha", alpha)
    s1, s2 = _parts(T, omega, Delta)
    return alpha * s1 / (1.0 - s2)
