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

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import units
from ..dos import DOSModel, PowerLawDOS
from ..quadrature import panel_nodes
from . import _common as c
from ._kernels import kappa_weight, sech2_half


# ---------------------------------------------------------------- specific heat

def _specific_heat_1(T, dos):
    # Eq. (6): C = int n E^2/(4 T^2 cosh^2(E/2T)) dE = T int n(T,Tu) u^2 sech^2(u/2)/4 du
    u, w = c.nodes_to_e_max(T, dos)
    n = dos(T * u, T)
    return T * jnp.sum(w * n * u * u * 0.25 * sech2_half(u))


def specific_heat_dos(T: ArrayLike, dos: DOSModel) -> jax.Array:
    """Specific heat C(T) of Churkin et al. 2021, Eq. (6), for any DOS model (k_B = 1).

    C(T) = int_0^e_max n(T, E) E^2 / (4 T^2 cosh^2(E/2T)) dE, with e_max =
    ``dos.e_max`` (infinite for the analytic models).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (or any :class:`jtls.dos.DOSModel`) with
        scalar parameters, n(T, E) in K^-1 per TLS or per volume.

    Returns
    -------
    jax.Array
        C in units of k_B times the unit of n times K (e.g. k_B per TLS when
        n is per TLS per K), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.specific_heat_dos([0.1, 1.0], PowerLawDOS(B=1.0, mu=0.2)))
    [0.13096777 2.0756993 ]
    """
    c.check(T=T)
    return c.batched(_specific_heat_dos_1, dos, T=T)


def specific_heat(T: ArrayLike, B: ArrayLike, mu: ArrayLike) -> jax.Array:
    """Specific heat of Eq. (6) with the Eq. (3) DOS n = B (T^2 + E^2)^(mu/2) (k_B = 1).

    C(T) = B T^(1+mu) int_0^inf (1+u^2)^(mu/2) u^2 / (4 cosh^2(u/2)) du; for
    mu = 0 this is (pi^2/6) B T exactly, the standard tunneling model's
    linear specific heat.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    B : array_like
        DOS prefactor of Eq. (3) in K^-(1+mu) (per TLS or per volume).
    mu : array_like
        DOS power of Eq. (3), dimensionless.  T, B and mu broadcast.

    Returns
    -------
    jax.Array
        C in k_B times the unit of B times K^(1+mu) (k_B per TLS for B per
        TLS), broadcast shape of the arguments.

    Examples
    --------
    >>> import jtls
    >>> print(jtls.specific_heat([0.1, 1.0], B=1.0, mu=0.0))       # (pi^2/6) B T
    [0.16449341 1.64493407]
    >>> print(jtls.specific_heat([0.1, 1.0], B=1.0, mu=0.2))       # ~ T^(1 + mu)
    [0.13096777 2.0756993 ]
    """
    c.check(T=T, mu=mu, B=B)
    return c.batched(_specific_heat_pl_1, T=T, B=B, mu=mu)


# ------------------------------------------------------------ thermal conductivity

def _kappa_1(T, dos):
    # Eq. (5): int E^3 dE/(T^2 sinh^2 tanh n) = T^2 int u^3/(sinh^2 tanh) / n(T, Tu) du
    u, w = c.nodes_to_e_max(T, dos)
    n = dos(T * u, T)
    return T * T * jnp.sum(w * kappa_weight(u) / n)


def thermal_conductivity_dos(T: ArrayLike, dos: DOSModel) -> jax.Array:
    """Thermal conductivity of Churkin et al. 2021, Eq. (5), for any DOS model (arbitrary units).

    kappa(T) = int_0^e_max E^3 dE / (T^2 sinh^2(E/2T) tanh(E/2T) n(T, E)),
    the integral of Eq. (5) with P0(E) -> n(T, E); the material prefactor
    is left out.  The integral stops at ``dos.e_max``.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` with scalar parameters, n > 0 in K^-1.

    Returns
    -------
    jax.Array
        kappa in K^2 / [n] (arbitrary units: fit an amplitude), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.thermal_conductivity_dos([0.1, 1.0], PowerLawDOS(B=1.0, mu=0.1)))
    [ 0.45145461 35.86031419]
    """
    c.check(T=T)
    return c.batched(_kappa_dos_1, dos, T=T)


def thermal_conductivity(T: ArrayLike, B: ArrayLike, mu: ArrayLike) -> jax.Array:
    """Thermal conductivity of Eq. (5) with the Eq. (3) DOS, arbitrary units.

    kappa(T) = (T^(2-mu)/B) int_0^inf u^3 (1+u^2)^(-mu/2) / (sinh^2(u/2) tanh(u/2)) du;
    for mu = 0 this is 4 pi^2 T^2 / B (the standard tunneling model's T^2),
    for mu > 0 kappa grows like T^(2-mu) (Fig. 4: vitreous silica).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    B : array_like
        DOS prefactor of Eq. (3), K^-(1+mu).
    mu : array_like
        DOS power of Eq. (3).  T, B and mu broadcast.

    Returns
    -------
    jax.Array
        kappa in K^2 / [B] (arbitrary units), broadcast shape of the arguments.
        For absolute units see :func:`thermal_conductivity_si`.

    Examples
    --------
    >>> import jtls
    >>> print(jtls.thermal_conductivity([0.1, 1.0], B=1.0, mu=0.0))   # 4 pi^2 T^2
    [ 0.39478418 39.4784176 ]
    >>> print(jtls.thermal_conductivity([0.1, 1.0], B=1.0, mu=0.1))
    [ 0.45145461 35.86031419]
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


def thermal_conductivity_A1_dos(T: ArrayLike, dos: DOSModel) -> jax.Array:
    """Thermal conductivity of Churkin et al. 2021, App. A, Eq. (A1), for any DOS model.

    kappa(T) = int_0^e_max E^4 dE / (T^2 sinh^2(E/2T) tanh(E/2T) N(E)),
    N(E) = int_0^E n(T, E') dE' (the DOS read as n(Delta) instead of n(E)).
    It coincides with :func:`thermal_conductivity_dos` for a constant DOS
    and differs negligibly otherwise (Fig. 7a).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` with scalar parameters, n > 0 in K^-1.

    Returns
    -------
    jax.Array
        kappa in the arbitrary units of :func:`thermal_conductivity_dos`
        (K^2 / [n]), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.thermal_conductivity_A1_dos([0.1, 1.0], PowerLawDOS(B=1.0, mu=0.1)))
    [ 0.47245765 37.52864549]
    """
    c.check(T=T)
    return c.batched(_kappa_a1_dos_1, dos, T=T)


def thermal_conductivity_A1(T: ArrayLike, B: ArrayLike, mu: ArrayLike) -> jax.Array:
    """Thermal conductivity of App. A, Eq. (A1), with the Eq. (3) DOS (arbitrary units).

    The DOS is read as n(Delta): 1/n(T, E) of Eq. (5) becomes
    E / int_0^E n(T, E') dE'.  Equal to :func:`thermal_conductivity` at mu = 0.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    B : array_like
        DOS prefactor of Eq. (3), K^-(1+mu).
    mu : array_like
        DOS power of Eq. (3).  T, B and mu broadcast.

    Returns
    -------
    jax.Array
        kappa in K^2 / [B] (the units of :func:`thermal_conductivity`),
        broadcast shape of the arguments.

    Examples
    --------
    >>> import jtls
    >>> print(jtls.thermal_conductivity_A1([0.1, 1.0], B=1.0, mu=0.1))
    [ 0.47245765 37.52864549]
    """
    c.check(T=T, mu=mu, B=B)
    return c.batched(_kappa_a1_pl_1, T=T, B=B, mu=mu)


# ------------------------------------------------------------------ absolute SI

def thermal_conductivity_si(T: ArrayLike, C_l: ArrayLike, C_t: ArrayLike, v_l: ArrayLike,
                            v_t: ArrayLike, mu: ArrayLike = 0.0) -> jax.Array:
    """Thermal conductivity in W/(m K) limited by resonant TLS scattering.

    kappa = sum_alpha (1/3) int C_ph,alpha(E) v_alpha l_alpha(E) dE with the
    Debye phonon heat capacity per energy and the resonant mean free path
    l_alpha^-1 = pi C_alpha(E) E tanh(E/2T) / (hbar v_alpha), where the
    tunneling strengths C_alpha = P0 gamma_alpha^2 / (rho v_alpha^2) carry the
    Eq. (3) energy dependence C_alpha(E) = C_alpha (T^2 + E^2)^(mu/2) (E, T in
    K).  This gives

        kappa = sum_alpha k_B^3 T^2 / (24 pi^3 hbar^2 v_alpha C_alpha) * T^-mu K5(mu),

    with K5(0) = 4 pi^2, i.e. kappa = k_B^3 T^2/(6 pi hbar^2) sum 1/(v C) at mu = 0.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C_l, C_t : array_like
        Longitudinal and transverse tunneling strengths P0 gamma^2/(rho v^2)
        (dimensionless).
    v_l, v_t : array_like
        Longitudinal and transverse sound velocities in m/s.
    mu : array_like
        DOS power of Eq. (3) (0: the standard tunneling model).  All
        arguments broadcast.

    Returns
    -------
    jax.Array
        kappa in W m^-1 K^-1, broadcast shape of the arguments.

    Examples
    --------
    At mu = 0 the closed form k_B^3 T^2 / (6 pi hbar^2) sum 1/(v C):

    >>> import math
    >>> import jtls
    >>> from jtls.units import HBAR, K_B
    >>> k = jtls.thermal_conductivity_si([0.1, 1.0], 3e-4, 3e-4, 5800.0, 3800.0)
    >>> print(k)
    [0.00018228 0.01822782]
    >>> print(f"{K_B**3 / (6 * math.pi * HBAR**2) * (1 / 1.74 + 1 / 1.14):.5f}")
    0.01823
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
