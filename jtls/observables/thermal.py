"""Specific heat and thermal conductivity (Churkin et al. 2021, Eqs. 5, 6, A1).

Temperatures and energies in K (k_B = 1).  Every function takes T as a scalar
or array; power-law parameters broadcast against T and the result has the
broadcast shape.  The ``*_dos`` variants take any model of :mod:`jtls.dos`
with scalar parameters (use ``jax.vmap`` over models for batches).

Integrals are computed in the reduced energy u = E/T on the fixed
Gauss-Legendre panels of :data:`jtls.quadrature.REDUCED_EDGES`
(0 < u < 80); the neglected tail is below 1e-25 of the integral.  For a
model with a finite largest energy ``dos.e_max`` (a TabulatedDOS) the
integrals stop there: u < min(80, e_max/T) (panels clipped at e_max/T).
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from .. import units
from ..dos import PowerLawDOS
from ..quadrature import panel_nodes
from . import _common as c
from ._kernels import kappa_weight, sech2_half


# ---------------------------------------------------------------- specific heat

def _specific_heat_1(T, dos):
    # Eq. (6): C = int n E^2/(4 T^2 cosh^2(E/2T)) dE = T int n(T,Tu) u^2 sech^2(u/2)/4 du
    u, w = c.nodes_to_e_max(T, dos)
    n = dos(T * u, T)
    return T * jnp.sum(w * n * u * u * 0.25 * sech2_half(u))


def specific_heat_dos(T, dos):
    """Specific heat C(T) of Eq. (6) for any DOS model (k_B = 1).

    C(T) = int_0^e_max n(T, E) E^2 / (4 T^2 cosh^2(E/2T)) dE (e_max = dos.e_max,
    infinite for the analytic models), in the units of n
    times K (per TLS, or per volume, per K of temperature).

    Args:
      T: temperature(s) in K, any shape.
      dos: a jtls.dos model called as dos(E, T), scalar parameters.
    Returns:
      array of T's shape.
    """
    c.check(T=T)
    return c.batched(_specific_heat_dos_1, dos, T=T)


def specific_heat(T, B, mu):
    """Eq. (6) with the Eq. (3) DOS n = B (T^2 + E^2)^(mu/2).

    C(T) = B T^(1+mu) int_0^inf (1+u^2)^(mu/2) u^2 / (4 cosh^2(u/2)) du; for
    mu = 0 this is (pi^2/6) B T exactly.  T in K, B in K^-(1+mu); shapes of
    T, B, mu broadcast.
    """
    c.check(T=T, mu=mu, B=B)
    return c.batched(_specific_heat_pl_1, T=T, B=B, mu=mu)


# ------------------------------------------------------------ thermal conductivity

def _kappa_1(T, dos):
    # Eq. (5): int E^3 dE/(T^2 sinh^2 tanh n) = T^2 int u^3/(sinh^2 tanh) / n(T, Tu) du
    u, w = c.nodes_to_e_max(T, dos)
    n = dos(T * u, T)
    return T * T * jnp.sum(w * kappa_weight(u) / n)


def thermal_conductivity_dos(T, dos):
    """Thermal conductivity of Eq. (5) for any DOS model, in arbitrary units.

    kappa(T) = int_0^e_max E^3 dE / (T^2 sinh^2(E/2T) tanh(E/2T) n(T, E)),
    the integral of Eq. (5) with P0(E) -> n(T, E) (units K^2 / [n]).
    """
    c.check(T=T)
    return c.batched(_kappa_dos_1, dos, T=T)


def thermal_conductivity(T, B, mu):
    """Eq. (5) with the Eq. (3) DOS, arbitrary units (K^2 / [B]).

    kappa(T) = (T^(2-mu)/B) int_0^inf u^3 (1+u^2)^(-mu/2) / (sinh^2(u/2) tanh(u/2)) du;
    for mu = 0 this is 4 pi^2 T^2 / B.
    """
    c.check(T=T, mu=mu, B=B)
    return c.batched(_kappa_pl_1, T=T, B=B, mu=mu)


# -------------------------------------------------------------------- App. A (A1)

#: Inner panels (fractions of u) for N(E) = int_0^E n dE': [0, 1e-8] then 12 geometric panels.
_INNER_EDGES = [0.0] + [10.0 ** (-8.0 + 8.0 * k / 12.0) for k in range(13)]


def _kappa_a1_1(T, dos):
    u, w = c.nodes_to_e_max(T, dos)
    s, ws = panel_nodes(jnp.asarray(_INNER_EDGES, dtype=T.dtype), 16)
    # N(T u)/T = u int_0^1 n(T, T u s) ds for every outer node u
    N = u * jnp.sum(ws * dos(T * u[:, None] * s, T), axis=-1)
    return T * T * jnp.sum(w * kappa_weight(u) * u / N)


def thermal_conductivity_A1_dos(T, dos):
    """Thermal conductivity of App. A, Eq. (A1), for any DOS model (arbitrary units).

    kappa(T) = int_0^e_max E^4 dE / (T^2 sinh^2(E/2T) tanh(E/2T) N(E)),
    N(E) = int_0^E n(T, E') dE' (the DOS read as n(Delta)).  Same units as
    :func:`thermal_conductivity_dos`, with which it coincides for a constant DOS.
    """
    c.check(T=T)
    return c.batched(_kappa_a1_dos_1, dos, T=T)


def thermal_conductivity_A1(T, B, mu):
    """Eq. (A1) with the Eq. (3) DOS (arbitrary units, same as :func:`thermal_conductivity`)."""
    c.check(T=T, mu=mu, B=B)
    return c.batched(_kappa_a1_pl_1, T=T, B=B, mu=mu)


# ------------------------------------------------------------------ absolute SI

def thermal_conductivity_si(T, C_l, C_t, v_l, v_t, mu=0.0):
    """Thermal conductivity in W/(m K) limited by resonant TLS scattering.

    kappa = sum_alpha (1/3) int C_ph,alpha(E) v_alpha l_alpha(E) dE with the
    Debye phonon heat capacity per energy and the resonant mean free path
    l_alpha^-1 = pi C_alpha(E) E tanh(E/2T) / (hbar v_alpha), where the
    tunneling strengths C_alpha = P0 gamma_alpha^2 / (rho v_alpha^2) carry the
    Eq. (3) energy dependence C_alpha(E) = C_alpha (T^2 + E^2)^(mu/2) (E, T in
    K).  This gives

        kappa = sum_alpha k_B^3 T^2 / (24 pi^3 hbar^2 v_alpha C_alpha) * T^-mu K5(mu),

    with K5(0) = 4 pi^2, i.e. kappa = k_B^3 T^2/(6 pi hbar^2) sum 1/(v C) at mu = 0.

    Args:
      T: temperature in K.  C_l, C_t: longitudinal/transverse tunneling
      strengths (dimensionless).  v_l, v_t: sound velocities in m/s.  mu: DOS power.
    Returns:
      kappa in W m^-1 K^-1, broadcast shape of the arguments.
    """
    c.check(T=T, mu=mu, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t)
    return c.batched(_kappa_si_1, T=T, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t, mu=mu)


def _kappa_si_1(t, cl, ct, vl, vt, m):
    pref = units.K_B**3 / (24.0 * math.pi**3 * units.HBAR**2)
    return pref * _kappa_1(t, PowerLawDOS(1.0, m)) * (1.0 / (vl * cl) + 1.0 / (vt * ct))


# element functions handed to _common.batched (module level so compilations are cached)
def _specific_heat_dos_1(dos, t):
    return _specific_heat_1(t, dos)


def _specific_heat_pl_1(t, b, m):
    return _specific_heat_1(t, PowerLawDOS(b, m))


def _kappa_dos_1(dos, t):
    return _kappa_1(t, dos)


def _kappa_pl_1(t, b, m):
    return _kappa_1(t, PowerLawDOS(b, m))


def _kappa_a1_dos_1(dos, t):
    return _kappa_a1_1(t, dos)


def _kappa_a1_pl_1(t, b, m):
    return _kappa_a1_1(t, PowerLawDOS(b, m))
