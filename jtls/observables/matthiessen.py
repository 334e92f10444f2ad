"""Thermal conductivity with extra phonon scattering channels (Matthiessen's rule).

Below ~1 K resonant scattering by TLSs limits the phonon mean free path,
l_TLS^-1(E) ~ E tanh(E/2T) n(T, E) (Churkin et al. 2021, Eq. 4 with E = Delta),
which gives Eq. (5).  Real samples add other channels; their inverse mean free
paths add (Matthiessen's rule):

    l^-1(E) = l_TLS^-1(E) + l_b^-1 + l_R^-1(E),

* boundary (or grain/filler) scattering: a constant mean free path l_b,
  dominating at low T (kappa -> T^3 there);
* Rayleigh scattering by point-like inhomogeneities, l_R^-1 ~ omega^4 ~ E^4
  (E = hbar omega in K), dominating at high T (the kappa plateau).

With the phonon weight of Eq. (5) this gives, in the same arbitrary units as
:func:`jtls.observables.thermal_conductivity` (K^2/[B]):

    kappa(T) = int_0^inf E^3 dE / (T^2 sinh^2(E/2T) tanh(E/2T) n(T, E))
                          * 1 / (1 + (Gamma_b + Gamma_R(E)) / Gamma_TLS(E)),

with Gamma_TLS = E tanh(E/2T) n(T, E) (units [n] K).

Parameterization (power-law DOS, :func:`thermal_conductivity_matthiessen`)
-------------------------------------------------------------------------
The extra rates are given by *crossover energies* in kelvin, measured against
the T -> 0 TLS rate of a phonon of energy E, Gamma_TLS -> B E^(1+mu):

* ``boundary`` = E_b (K): Gamma_b = B E_b^(1+mu), i.e. boundary scattering
  equals TLS scattering for phonons of energy E_b.  It dominates phonons with
  E < E_b, hence T below ~E_b/4.  ``None`` or 0 switch it off.
* ``rayleigh`` = E_R (K): Gamma_R = B E^4 / E_R^(3-mu), i.e. Rayleigh
  scattering equals TLS scattering at phonon energy E_R and dominates above.
  ``None`` or +inf switch it off.

Both are independent of B, so the amplitude of a fit stays 1/B.  In
mean-free-path terms, E_b^(1+mu) = l_TLS(1 K) / l_b in the T -> 0 limit (with
energies in K), and E_R^(3-mu) = l_R(1 K) / l_TLS(1 K).

General DOS (:func:`thermal_conductivity_matthiessen_dos`): rates in the
units of Gamma_TLS, Gamma_b = ``boundary_rate`` ([n] K) and
Gamma_R = ``rayleigh_rate`` * E^4 ([n] K^-3).

Absolute units (:func:`thermal_conductivity_si_matthiessen`): W/(m K) from
the tunneling strengths and sound velocities, with the boundary mean free
path l_b in m and the Rayleigh coefficient a_R (l_R^-1 = a_R omega^4) in
m^-1 s^4.

Numerics: reduced energy u = E/T on the fixed panels of
:func:`jtls.quadrature.reduced_grid` (like Eq. 5 itself); the phonon weight is
the overflow-free kernel of :mod:`._kernels`, finite at u -> 0 (-> 8); the
rate ratio uses u^2 tanh(u/2)/u, so Gamma_TLS is never 0/0.  With the extra
channels off the integrand is multiplied by exactly 1, so the result equals
:func:`thermal_conductivity` to float rounding (a few ulp; bit for bit when
both are compiled the same way).  Both functions here are compiled once per
input shape (the DOS model is a pytree argument, so new parameter values do
not recompile).  jit/vmap/grad-safe: the powers of
E_b and E_R are taken through ``where`` guards so that E_b = 0 and E_R = inf
have finite derivatives, also with respect to mu (at exactly E_b = 0 the
derivative with respect to E_b is reported as 0: fit log E_b instead).
"""
from __future__ import annotations

import math
import sys

import numpy as np
import jax
import jax.numpy as jnp

from .. import _validate as V
from .. import units
from ..dos import PowerLawDOS
from ..quadrature import reduced_grid
from . import _common as c
from ._kernels import kappa_weight, tanh_half_over_u

# Fill quadrature.reduced_grid's cache now, outside any trace: its first call must not happen
# inside jit (it converts JAX arrays to numpy).
reduced_grid()

__all__ = ["thermal_conductivity_matthiessen", "thermal_conductivity_matthiessen_dos",
           "thermal_conductivity_si_matthiessen", "casimir_limit_si", "matthiessen_rates"]


def _kappa_extra_1(T, dos, gamma_b, gamma_r4):
    """One temperature: Eq. (5) integrand times 1/(1 + (Gamma_b + g_R E^4)/Gamma_TLS)."""
    u, w = c.nodes_to_e_max(T, dos)
    n = dos(T * u, T)
    E = T * u
    tls = T * u * u * tanh_half_over_u(u) * n  # E tanh(E/2T) n, stable at u -> 0
    factor = 1.0 / (1.0 + (gamma_b + gamma_r4 * E**4) / tls)
    return T * T * jnp.sum(w * kappa_weight(u) / n * factor)


def _pow_or_zero(x, p, on):
    """x**p where ``on`` (x > 0 there), else 0; grads finite everywhere."""
    xs = jnp.where(on, x, 1.0)
    return jnp.where(on, jnp.exp(p * jnp.log(xs)), 0.0)


def matthiessen_rates(B, mu, boundary, rayleigh):
    """(Gamma_b, g_R) of the crossover parameterization: Gamma_b = B E_b^(1+mu), g_R = B/E_R^(3-mu).

    ``boundary`` E_b >= 0 (K, 0 = off), ``rayleigh`` E_R > 0 (K, inf = off); arrays broadcast.
    """
    Eb = jnp.asarray(boundary, dtype=float)
    ER = jnp.asarray(rayleigh, dtype=float)
    gb = B * _pow_or_zero(Eb, 1.0 + mu, Eb > 0)
    on = jnp.isfinite(ER) & (ER > 0)
    gr = B * _pow_or_zero(ER, -(3.0 - mu), on)
    return gb, gr


def _check_channels(boundary, rayleigh):
    if boundary is not None:
        V.nonnegative_finite("boundary", boundary)
    if rayleigh is not None and V.is_concrete(rayleigh):
        try:
            r = np.asarray(rayleigh, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"argument 'rayleigh' must be numeric, got {rayleigh!r}") from None
        if not (r.size and not np.any(np.isnan(r)) and np.all(r > 0)):
            raise ValueError(f"argument 'rayleigh' (crossover energy E_R in K) must be > 0 "
                             f"(use None or inf to switch it off), got {rayleigh!r}")


def thermal_conductivity_matthiessen(T, B, mu, *, boundary=None, rayleigh=None):
    """Eq. (5) with the Eq. (3) DOS plus boundary and Rayleigh scattering (Matthiessen's rule).

    Arbitrary units, the same as :func:`jtls.observables.thermal_conductivity`
    (K^2 / [B]), to which it is identical when both channels are off.

    Args:
      T: temperature(s) in K, any shape.
      B: DOS prefactor of Eq. (3) (K^-(1+mu)); broadcasts with T.
      mu: DOS power of Eq. (3); broadcasts with T.
      boundary: crossover energy E_b in K (>= 0; None or 0 = no boundary
        scattering): Gamma_b = B E_b^(1+mu).  Broadcasts with T.
      rayleigh: crossover energy E_R in K (> 0; None or inf = no Rayleigh
        scattering): Gamma_R = B E^4 / E_R^(3-mu).  Broadcasts with T.
    Returns:
      kappa, broadcast shape of the arguments.
    """
    c.check(T=T, mu=mu, B=B)
    _check_channels(boundary, rayleigh)
    Eb = 0.0 if boundary is None else boundary
    ER = jnp.inf if rayleigh is None else rayleigh
    return _broadcast_apply(_kappa_pl_vmapped, None, T=T, B=B, mu=mu, boundary=Eb, rayleigh=ER)


def _one_power_law(t, b, m, eb, er):
    gb, gr = matthiessen_rates(b, m, eb, er)
    return _kappa_extra_1(t, PowerLawDOS(b, m), gb, gr)


# compiled once per input shape/dtype; validation happens before, on concrete values
_kappa_pl_vmapped = jax.jit(jax.vmap(lambda dos, *a: _one_power_law(*a), in_axes=(None, 0, 0, 0, 0, 0)))
_kappa_dos_vmapped = jax.jit(jax.vmap(lambda dos, t, gb, gr: _kappa_extra_1(t, dos, gb, gr),
                                      in_axes=(None, 0, 0, 0)))


def _broadcast_apply(fn, dos, **arrays):
    """Broadcast the arrays (common float dtype), apply the vmapped ``fn`` elementwise, reshape."""
    V.broadcastable(**arrays)
    if dos is not None and "T" in arrays:
        V.dos_positive(dos, arrays["T"])
    dtype = jnp.result_type(*arrays.values(), float)
    args = jnp.broadcast_arrays(*[jnp.asarray(a, dtype=dtype) for a in arrays.values()])
    shape = args[0].shape
    out = fn(dos, *[a.reshape(-1) for a in args]).reshape(shape)
    V.finite_result(sys._getframe(1).f_code.co_name, out, **arrays)
    return out


def thermal_conductivity_matthiessen_dos(T, dos, *, boundary_rate=0.0, rayleigh_rate=0.0):
    """Eq. (5) for any DOS model with extra rates added to E tanh(E/2T) n(T, E).

    kappa(T) = int E^3 dE / (T^2 sinh^2 tanh n) / (1 + (boundary_rate +
    rayleigh_rate E^4) / (E tanh(E/2T) n(T, E))), same units as
    :func:`jtls.observables.thermal_conductivity_dos` (equal to it for zero rates);
    like it, the integral stops at the model's largest energy ``dos.e_max``.

    Args:
      T: temperature(s) in K.
      dos: a jtls.dos model (scalar parameters).
      boundary_rate: Gamma_b >= 0 in units of [n] K.
      rayleigh_rate: g_R >= 0 in units of [n] K^-3 (Gamma_R = g_R E^4).
    """
    c.check(T=T)
    V.nonnegative_finite("boundary_rate", boundary_rate)
    V.nonnegative_finite("rayleigh_rate", rayleigh_rate)
    return _broadcast_apply(_kappa_dos_vmapped, dos, T=T, boundary_rate=boundary_rate,
                            rayleigh_rate=rayleigh_rate)


# ------------------------------------------------------------------------------ absolute SI

def _kappa_si_extra_1(t, cl, ct, vl, vt, m, inv_lb, a_r):
    """One temperature of :func:`thermal_conductivity_si_matthiessen` (W/m/K)."""
    u, w = c.nodes(t.dtype)
    n = jnp.exp(0.5 * m * jnp.log(t * t * (1.0 + u * u)))       # (T^2 + E^2)^(mu/2), E = T u
    omega_tanh = (units.K_B * t / units.HBAR) * u * u * tanh_half_over_u(u)   # omega tanh(u/2)
    omega = units.K_B * t * u / units.HBAR
    extra = inv_lb + a_r * omega**4                               # m^-1
    base = t * t * w * kappa_weight(u) / n
    total = 0.0
    for C_a, v_a in ((cl, vl), (ct, vt)):
        tls = math.pi * C_a * n * omega_tanh / v_a                # l_TLS^-1, m^-1
        total = total + jnp.sum(base / (1.0 + extra / tls)) / (v_a * C_a)
    return units.K_B**3 / (24.0 * math.pi**3 * units.HBAR**2) * total


_kappa_si_vmapped = jax.jit(jax.vmap(lambda dos, *a: _kappa_si_extra_1(*a),
                                     in_axes=(None,) + (0,) * 8))


def thermal_conductivity_si_matthiessen(T, C_l, C_t, v_l, v_t, mu=0.0, *, l_b=None, a_R=None):
    """Thermal conductivity in W/(m K): resonant TLS + boundary + Rayleigh scattering, SI units.

    Per polarization alpha (longitudinal l, transverse t; the same polarization
    sum as :func:`jtls.observables.thermal_conductivity_si`, which this equals
    when both extra channels are off):

        l_alpha^-1(omega) = pi C_alpha (T^2 + E^2)^(mu/2) omega tanh(hbar omega/2 k_B T) / v_alpha
                            + 1/l_b + a_R omega^4,
        kappa = sum_alpha (1/3) int C_ph,alpha(E) v_alpha l_alpha(E) dE,

    with E = hbar omega / k_B in K inside the Eq. (3) factor.  When boundary
    scattering dominates this tends to Casimir's kappa = sum_alpha (1/3)
    C_Debye,alpha v_alpha l_b = sum_alpha (2 pi^2/45) k_B^4 T^3 l_b / (hbar^3 v_alpha^2).

    Args:
      T: temperature in K.  C_l, C_t: tunneling strengths P0 gamma^2/(rho v^2)
        (dimensionless).  v_l, v_t: sound velocities (m/s).  mu: DOS power.
      l_b: boundary mean free path in m (> 0; None = no boundary scattering),
        common to both polarizations (e.g. ~ the sample's smallest dimension).
      a_R: Rayleigh coefficient in m^-1 s^4 (>= 0; None = off):
        l_R^-1 = a_R omega^4 with omega in rad/s, common to both polarizations.
    Returns:
      kappa in W m^-1 K^-1, broadcast shape of the arguments.
    """
    c.check(T=T, mu=mu, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t)
    if l_b is not None:
        V.positive_finite("l_b", l_b)
    if a_R is not None:
        V.nonnegative_finite("a_R", a_R)
    inv_lb = 0.0 if l_b is None else 1.0 / jnp.asarray(l_b, dtype=float)
    a_r = 0.0 if a_R is None else a_R
    return _broadcast_apply(_kappa_si_vmapped, None, T=T, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t,
                            mu=mu, inv_lb=inv_lb, a_R=a_r)


def casimir_limit_si(T, v_l, v_t, l_b):
    """Boundary-limited (Casimir) kappa = sum_alpha (2 pi^2/45) k_B^4 T^3 l_b/(hbar^3 v_alpha^2), W/m/K."""
    T = jnp.asarray(T, dtype=float)
    return (2.0 * math.pi**2 / 45.0) * units.K_B**4 * T**3 * l_b / units.HBAR**3 * (
        1.0 / v_l**2 + 1.0 / v_t**2)


#: int_0^inf u^4 / sinh^2(u/2) du = 96 zeta(4) = 16 pi^4 / 15: the boundary-limited integral,
#: kappa -> T^3 * BOUNDARY_LIMIT / Gamma_b when boundary scattering dominates.
BOUNDARY_LIMIT = 16.0 * math.pi**4 / 15.0
