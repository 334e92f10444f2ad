"""Thermal conductivity with Matthiessen's extra scattering channels in absolute units, W/(m K).

The SI part of :mod:`jtls.observables.matthiessen` (see its module docstring):
resonant TLS scattering plus a boundary mean free path and Rayleigh
scattering per polarization, with the Eq. (3) DOS
(:func:`thermal_conductivity_si_matthiessen`) or any DOS model
(:func:`thermal_conductivity_si_dos`), and the boundary-limited (Casimir)
conductivity (:func:`casimir_limit_si`).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _validate as V
from .. import units
from ..dos import DOSModel
from . import _common as c
from ._broadcast import _broadcast_apply
from ._kernels import kappa_weight, tanh_half_over_u

__all__ = ["thermal_conductivity_si_matthiessen", "thermal_conductivity_si_dos", "casimir_limit_si"]


def _kappa_si_sum(t, u, w, n, cl, ct, vl, vt, inv_lb, a_r):
    """kappa (W/m/K) at one temperature from nodes u, weights w and the DOS factor n at E = t u."""
    omega_tanh = (units.K_B * t / units.HBAR) * u * u * tanh_half_over_u(u)   # omega tanh(u/2)
    omega = units.K_B * t * u / units.HBAR
    extra = inv_lb + a_r * omega**4                               # m^-1
    base = t * t * w * kappa_weight(u) / n
    total = 0.0
    for C_a, v_a in ((cl, vl), (ct, vt)):
        tls = math.pi * C_a * n * omega_tanh / v_a                # l_TLS^-1, m^-1
        total = total + jnp.sum(base / (1.0 + extra / tls)) / (v_a * C_a)
    return units.K_B**3 / (24.0 * math.pi**3 * units.HBAR**2) * total


def _kappa_si_extra_1(t, cl, ct, vl, vt, m, inv_lb, a_r):
    """One temperature of :func:`thermal_conductivity_si_matthiessen` (W/m/K)."""
    u, w = c.nodes(t.dtype)
    n = jnp.exp(0.5 * m * jnp.log(t * t * (1.0 + u * u)))       # (T^2 + E^2)^(mu/2), E = T u
    return _kappa_si_sum(t, u, w, n, cl, ct, vl, vt, inv_lb, a_r)


def _kappa_si_dos_1(t, dos, cl, ct, vl, vt, inv_lb, a_r):
    """One temperature of :func:`thermal_conductivity_si_dos` (W/m/K)."""
    u, w = c.nodes_to_e_max(t, dos)
    return _kappa_si_sum(t, u, w, dos(t * u, t), cl, ct, vl, vt, inv_lb, a_r)


_kappa_si_vmapped = jax.jit(jax.vmap(lambda dos, *a: _kappa_si_extra_1(*a),
                                     in_axes=(None,) + (0,) * 8))
_kappa_si_dos_vmapped = jax.jit(jax.vmap(lambda dos, t, *a: _kappa_si_dos_1(t, dos, *a),
                                         in_axes=(None,) + (0,) * 7))


def _si_channels(boundary, rayleigh, l_b, a_R, where):
    """(1/l_b, a_R) arrays of the SI channels; the keywords l_b/a_R are deprecated aliases."""
    import warnings
    if l_b is not None:
        if boundary is not None:
            raise ValueError(f"{where}: give the boundary mean free path once, as 'boundary' "
                             "(l_b is its deprecated name)")
        warnings.warn(f"{where}: the keyword 'l_b' is deprecated; use 'boundary' (the boundary mean "
                      "free path in m, same meaning)", DeprecationWarning, stacklevel=3)
        boundary = l_b
    if a_R is not None:
        if rayleigh is not None:
            raise ValueError(f"{where}: give the Rayleigh coefficient once, as 'rayleigh' "
                             "(a_R is its deprecated name)")
        warnings.warn(f"{where}: the keyword 'a_R' is deprecated; use 'rayleigh' (the Rayleigh "
                      "coefficient in m^-1 s^4, same meaning)", DeprecationWarning, stacklevel=3)
        rayleigh = a_R
    if boundary is not None:
        V.positive_finite("boundary", boundary)
    if rayleigh is not None:
        V.nonnegative_finite("rayleigh", rayleigh)
    inv_lb = 0.0 if boundary is None else 1.0 / jnp.asarray(boundary, dtype=float)
    return inv_lb, (0.0 if rayleigh is None else rayleigh)


def thermal_conductivity_si_matthiessen(T: ArrayLike, C_l: ArrayLike, C_t: ArrayLike,
                                        v_l: ArrayLike, v_t: ArrayLike, mu: ArrayLike = 0.0, *,
                                        boundary: ArrayLike | None = None,
                                        rayleigh: ArrayLike | None = None,
                                        l_b: ArrayLike | None = None,
                                        a_R: ArrayLike | None = None) -> jax.Array:
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

    The channel keywords are named as in :func:`thermal_conductivity_matthiessen`
    (``boundary``, ``rayleigh``); here they carry SI quantities.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K (array or list).
    C_l, C_t : array_like
        Tunneling strengths P0 gamma^2/(rho v^2) (dimensionless).
    v_l, v_t : array_like
        Sound velocities (m/s).
    mu : array_like
        DOS power of Eq. (3).
    boundary : array_like, optional
        Boundary mean free path l_b in m (> 0; None = no boundary
        scattering), common to both polarizations (e.g. ~ the sample's
        smallest dimension).
    rayleigh : array_like, optional
        Rayleigh coefficient a_R in m^-1 s^4 (>= 0; None = off):
        l_R^-1 = a_R omega^4 with omega in rad/s, common to both polarizations.
    l_b, a_R : array_like, optional
        Deprecated names of ``boundary`` and ``rayleigh`` (DeprecationWarning).

    Returns
    -------
    jax.Array
        kappa in W m^-1 K^-1, broadcast shape of the arguments.

    Examples
    --------
    A 1 mm boundary mean free path: Casimir's limit at the lowest temperatures,
    TLS scattering above:

    >>> import numpy as np
    >>> import jtls
    >>> from jtls.observables.matthiessen import casimir_limit_si
    >>> T = np.array([1e-4, 1e-2, 1.0])
    >>> k = jtls.thermal_conductivity_si_matthiessen(T, 3e-4, 3e-4, 5800.0, 3800.0, boundary=1e-3)
    >>> print(k / casimir_limit_si(T, 5800.0, 3800.0, 1e-3))
    [0.98676712 0.47099021 0.01236921]
    """
    c.check(T=T, mu=mu, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t)
    inv_lb, a_r = _si_channels(boundary, rayleigh, l_b, a_R, "thermal_conductivity_si_matthiessen")
    return _broadcast_apply(_kappa_si_vmapped, None, T=T, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t,
                            mu=mu, inv_lb=inv_lb, a_R=a_r)


def thermal_conductivity_si_dos(T: ArrayLike, dos: DOSModel, C_l: ArrayLike, C_t: ArrayLike,
                                v_l: ArrayLike, v_t: ArrayLike, *,
                                boundary: ArrayLike | None = None,
                                rayleigh: ArrayLike | None = None) -> jax.Array:
    """Thermal conductivity in W/(m K) for any DOS model: the ``*_dos`` twin of
    :func:`jtls.observables.thermal_conductivity_si` (optionally with the extra
    channels of :func:`thermal_conductivity_si_matthiessen`).

    The tunneling strengths carry the DOS's energy and temperature dependence,
    C_alpha(T, E) = C_alpha n(T, E) with n dimensionless (E, T in K), so

        l_alpha^-1 = pi C_alpha n(T, E) omega tanh(hbar omega / 2 k_B T) / v_alpha
                     + 1/l_b + a_R omega^4.

    With ``dos = PowerLawDOS(1.0, mu)`` this is ``thermal_conductivity_si(T, C_l,
    C_t, v_l, v_t, mu)`` (channels off) or :func:`thermal_conductivity_si_matthiessen`.
    Like the other ``*_dos`` functions the integral stops at ``dos.e_max``.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K (array or list).
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters), n dimensionless (a
        DOS normalised at a reference energy).
    C_l, C_t : array_like
        Tunneling strengths (dimensionless).
    v_l, v_t : array_like
        Sound velocities (m/s).
    boundary : array_like, optional
        Boundary mean free path l_b in m (> 0; None = off).
    rayleigh : array_like, optional
        Rayleigh coefficient a_R in m^-1 s^4 (>= 0; None = off).

    Returns
    -------
    jax.Array
        kappa in W m^-1 K^-1, broadcast shape of the arguments.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls.dos import PowerLawDOS
    >>> from jtls.observables.matthiessen import thermal_conductivity_si_dos
    >>> T = np.array([0.1, 1.0])
    >>> print(thermal_conductivity_si_dos(T, PowerLawDOS(1.0, 0.0), 3e-4, 3e-4, 5800.0, 3800.0))
    [0.00018228 0.01822782]
    >>> print(jtls.thermal_conductivity_si(T, 3e-4, 3e-4, 5800.0, 3800.0))
    [0.00018228 0.01822782]
    """
    c.check(T=T, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t)
    inv_lb, a_r = _si_channels(boundary, rayleigh, None, None, "thermal_conductivity_si_dos")
    return _broadcast_apply(_kappa_si_dos_vmapped, dos, T=T, C_l=C_l, C_t=C_t, v_l=v_l, v_t=v_t,
                            inv_lb=inv_lb, a_R=a_r)


def casimir_limit_si(T: ArrayLike, v_l: ArrayLike, v_t: ArrayLike, l_b: ArrayLike) -> jax.Array:
    """Boundary-limited (Casimir) thermal conductivity, sum_alpha (2 pi^2/45) k_B^4 T^3 l_b/(hbar^3 v_alpha^2).

    The limit of :func:`thermal_conductivity_si_matthiessen` when boundary
    scattering dominates (same polarization sum, alpha = l, t).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    v_l, v_t : array_like
        Sound velocities in m/s.
    l_b : array_like
        Boundary mean free path in m.  All arguments broadcast.

    Returns
    -------
    jax.Array
        kappa in W m^-1 K^-1, proportional to T^3.

    Examples
    --------
    >>> from jtls.observables.matthiessen import casimir_limit_si
    >>> print(casimir_limit_si([0.01, 0.1], 5800.0, 3800.0, 1e-3))
    [1.34512658e-06 1.34512658e-03]
    """
    T = jnp.asarray(T, dtype=float)
    return (2.0 * math.pi**2 / 45.0) * units.K_B**4 * T**3 * l_b / units.HBAR**3 * (
        1.0 / v_l**2 + 1.0 / v_t**2)
