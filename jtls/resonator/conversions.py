"""Resonator quantities <-> acoustic / dielectric TLS quantities, in one place.

Symbols
-------
f0 (Hz), omega = 2 pi f0 (rad/s), w = hbar omega / k_B (K).
F: filling factor of the TLS host in the resonator's electric field energy.
delta0: intrinsic TLS loss tangent of the host, tan delta_TLS(T -> 0, P -> 0).
F delta0: what resonator fits determine (1/Q_TLS at T -> 0, low power).

Relations used by jtls (standard tunneling model; Phillips 1987, Gao 2008 thesis)
----------------------------------------------------------------------------------
* Dipoles p, DOS P0 (J^-1 m^-3), host permittivity eps_r:
      delta0 = pi P0 p^2 / (3 eps0 eps_r).
* Logarithmic slope of the permittivity in the resonant regime (the C_dip of
  jtls.dielectric_shift*, d eps/eps = -C_dip ln(T/T_ref) for mu = 0), by
  Kramers-Kronig with the loss tanh law:
      C_dip = 2 delta0 / pi          (so C_dip = 2 P0 p^2/(3 eps0 eps_r)).
  Hence delta f/f = -(F/2) d eps/eps = (F delta0/pi) ln(T/T_ref) for hbar omega << k_B T.
* Acoustic analogue: velocity slope C = P0 gamma^2/(rho v^2), d v/v = C ln(T/T_ref),
  resonant internal friction Q^-1 = pi C tanh(hbar omega/2 k_B T): the acoustic
  "delta0" is pi C (v = sqrt(M) halves the slope of the modulus).
* Drive power and photons: at resonance a resonator with loaded, coupling Q's
  Q_l, Q_c stores <n> = k Q_l^2 P_in / (Q_c hbar omega^2) photons, with k = 2
  for a notch (hanger, side-coupled) and k = 4 for a one-port reflection
  resonator (input-output theory, a_in^2 = P/(hbar omega)).
* Power in dBm: P(W) = 1e-3 * 10^(P_dBm/10).  Saturation (1 + P/P_c)^(beta/2)
  is the same in W, in photons (n/n_c) or in dBm differences, provided P and
  P_c refer to the same point of the line (the data files give the power at
  their own reference plane; jtls fits P_c in that convention).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import units

_K = {"notch": 2.0, "hanger": 2.0, "reflection": 4.0}


def omega_from_f0(f0_hz: ArrayLike) -> jax.Array:
    """Angular frequency omega = 2 pi f0 (rad/s) of a resonance frequency f0 in Hz.

    Parameters
    ----------
    f0_hz : array_like
        Resonance frequency f0, Hz, any shape.

    Returns
    -------
    jax.Array
        omega in rad/s, shape of ``f0_hz``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(f"{float(C.omega_from_f0(5e9)):.6g} rad/s")
    3.14159e+10 rad/s
    """
    return 2.0 * math.pi * jnp.asarray(f0_hz, dtype=float)


def hbar_omega_kelvin(f0_hz: ArrayLike) -> jax.Array:
    """Photon energy w = hbar omega / k_B = 2 pi hbar f0 / k_B (K) of a resonance frequency in Hz.

    The temperature scale of the resonant TLS response: tanh(w / 2T) in
    the loss, and the crossover of the shift near T ~ w.

    Parameters
    ----------
    f0_hz : array_like
        Resonance frequency f0, Hz, any shape.

    Returns
    -------
    jax.Array
        hbar omega / k_B in K, shape of ``f0_hz``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(f"{float(C.hbar_omega_kelvin(5.62e9)):.4f} K")
    0.2697 K
    """
    return units.omega_to_kelvin(omega_from_f0(f0_hz))


def dbm_to_watt(p_dbm: ArrayLike) -> jax.Array:
    """Power P = 1e-3 W * 10^(P_dBm / 10) in W of a power in dBm (inverse of :func:`watt_to_dbm`).

    Parameters
    ----------
    p_dbm : array_like
        Power, dBm (decibels relative to 1 mW), any shape.

    Returns
    -------
    jax.Array
        Power in W, shape of ``p_dbm``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(C.dbm_to_watt([-120.0, 0.0, 30.0]))
    [1.e-15 1.e-03 1.e+00]
    >>> print(f"{float(C.dbm_to_watt(C.watt_to_dbm(2.5e-12))):.6g} W")   # round trip
    2.5e-12 W
    """
    return 1e-3 * jnp.power(10.0, jnp.asarray(p_dbm, dtype=float) / 10.0)


def watt_to_dbm(p_w: ArrayLike) -> jax.Array:
    """Power P_dBm = 10 log10(P / 1 mW) in dBm of a power P in W (inverse of :func:`dbm_to_watt`).

    Parameters
    ----------
    p_w : array_like
        Power, W (positive; 0 gives -inf), any shape.

    Returns
    -------
    jax.Array
        Power in dBm, shape of ``p_w``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(C.watt_to_dbm([1e-15, 1e-3, 1.0]))
    [-120.    0.   30.]
    >>> print(f"{float(C.watt_to_dbm(C.dbm_to_watt(-97.5))):.6g} dBm")   # round trip
    -97.5 dBm
    """
    return 10.0 * jnp.log10(jnp.asarray(p_w, dtype=float) / 1e-3)


def _k(coupling):
    try:
        return _K[coupling]
    except KeyError:
        raise ValueError(f"argument 'coupling' must be one of {sorted(_K)}, got {coupling!r}") from None


def photon_number(p_w: ArrayLike, f0_hz: ArrayLike, Q_l: ArrayLike, Q_c: ArrayLike,
                  coupling: str = "notch") -> jax.Array:
    """Mean photon number <n> = k Q_l^2 P / (Q_c hbar omega^2) stored at resonance for a drive P.

    k = 2 for a notch (hanger, side-coupled) resonator and k = 4 for a
    one-port reflection resonator; omega = 2 pi f0.  P is the power at the
    resonator's input port (not at the source).

    Parameters
    ----------
    p_w : array_like
        Drive power at the resonator, W, any shape.
    f0_hz : array_like
        Resonance frequency, Hz (broadcasts with ``p_w``).
    Q_l : array_like
        Loaded quality factor (dimensionless).
    Q_c : array_like
        Coupling quality factor (dimensionless).
    coupling : str
        ``"notch"`` (or its synonym ``"hanger"``) or ``"reflection"``; any
        other value raises ``ValueError``.

    Returns
    -------
    jax.Array
        <n> (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> P = C.dbm_to_watt(-120.0)                       # 1 fW
    >>> print(f"{float(C.photon_number(P, 5e9, Q_l=2e5, Q_c=3e5)):.1f}")
    2562.1
    >>> print(f"{float(C.photon_number(P, 5e9, 2e5, 3e5, coupling='reflection')):.1f}")
    5124.2
    """
    om = omega_from_f0(f0_hz)
    return _k(coupling) * Q_l**2 * jnp.asarray(p_w, dtype=float) / (Q_c * units.HBAR * om**2)


def power_from_photon_number(n: ArrayLike, f0_hz: ArrayLike, Q_l: ArrayLike, Q_c: ArrayLike,
                             coupling: str = "notch") -> jax.Array:
    """Drive power P = n Q_c hbar omega^2 / (k Q_l^2) (W) that stores <n> photons at resonance.

    The inverse of :func:`photon_number` (same k: 2 notch, 4 reflection).

    Parameters
    ----------
    n : array_like
        Mean photon number (dimensionless), any shape.
    f0_hz : array_like
        Resonance frequency, Hz (broadcasts with ``n``).
    Q_l : array_like
        Loaded quality factor (dimensionless).
    Q_c : array_like
        Coupling quality factor (dimensionless).
    coupling : str
        ``"notch"`` (or ``"hanger"``) or ``"reflection"``; any other value
        raises ``ValueError``.

    Returns
    -------
    jax.Array
        Power at the resonator, W, broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> P1 = C.power_from_photon_number(1.0, 5e9, Q_l=2e5, Q_c=3e5)   # single photon
    >>> print(f"{float(C.watt_to_dbm(P1)):.2f} dBm")
    -154.09 dBm
    >>> n = C.photon_number(C.power_from_photon_number(10.0, 5e9, 2e5, 3e5), 5e9, 2e5, 3e5)
    >>> print(f"{float(n):.6g}")                                       # round trip
    10
    """
    om = omega_from_f0(f0_hz)
    return jnp.asarray(n, dtype=float) * Q_c * units.HBAR * om**2 / (_k(coupling) * Q_l**2)


def delta0_from_p0(P0: ArrayLike, p: ArrayLike, eps_r: ArrayLike) -> ArrayLike:
    """Intrinsic TLS loss tangent delta0 = pi P0 p^2 / (3 eps0 eps_r) of the host.

    Parameters
    ----------
    P0 : array_like
        TLS density of states, J^-1 m^-3, any shape.
    p : array_like
        TLS dipole moment, C m (``jtls.units.DEBYE`` is one debye).
    eps_r : array_like
        Relative permittivity of the host (dimensionless).

    Returns
    -------
    float or array
        delta0 (dimensionless), broadcast shape of the arguments (a float
        for float arguments).

    Examples
    --------
    >>> from jtls import units
    >>> from jtls.resonator import conversions as C
    >>> d = C.delta0_from_p0(1e45, 1.0 * units.DEBYE, 10.0)
    >>> print(f"{d:.4g}")
    0.0001316
    >>> print(f"{C.p0_from_delta0(d, units.DEBYE, 10.0):.4g} J^-1 m^-3")   # round trip
    1e+45 J^-1 m^-3
    """
    return math.pi * P0 * p**2 / (3.0 * units.EPS0 * eps_r)


def p0_from_delta0(delta0: ArrayLike, p: ArrayLike, eps_r: ArrayLike) -> ArrayLike:
    """TLS density of states P0 = 3 eps0 eps_r delta0 / (pi p^2) (J^-1 m^-3) of a loss tangent.

    The inverse of :func:`delta0_from_p0`.

    Parameters
    ----------
    delta0 : array_like
        Intrinsic TLS loss tangent (dimensionless), any shape.
    p : array_like
        TLS dipole moment, C m (``jtls.units.DEBYE`` is one debye).
    eps_r : array_like
        Relative permittivity of the host (dimensionless).

    Returns
    -------
    float or array
        P0 in J^-1 m^-3, broadcast shape of the arguments (a float for
        float arguments).

    Examples
    --------
    >>> from jtls import units
    >>> from jtls.resonator import conversions as C
    >>> print(f"{C.p0_from_delta0(1e-3, 2.0 * units.DEBYE, 4.0):.4g} J^-1 m^-3")
    7.599e+44 J^-1 m^-3
    """
    return 3.0 * units.EPS0 * eps_r * delta0 / (math.pi * p**2)


def c_dip_from_delta0(delta0: ArrayLike) -> ArrayLike:
    """Logarithmic permittivity slope C_dip = 2 delta0 / pi of a host with loss tangent delta0.

    C_dip is the slope of d eps / eps = -C_dip ln(T / T_ref) (mu = 0) used by
    :mod:`jtls.observables.dielectric`; the relation follows from the tanh law
    of the loss by Kramers-Kronig.

    Parameters
    ----------
    delta0 : array_like
        Intrinsic TLS loss tangent (dimensionless), any shape.

    Returns
    -------
    float or array
        C_dip (dimensionless), shape of ``delta0``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(f"{C.c_dip_from_delta0(1e-3):.6g}")
    0.00063662
    >>> print(f"{C.delta0_from_c_dip(C.c_dip_from_delta0(1e-3)):.6g}")   # round trip
    0.001
    """
    return 2.0 * delta0 / math.pi


def delta0_from_c_dip(C_dip: ArrayLike) -> ArrayLike:
    """Loss tangent delta0 = (pi / 2) C_dip of a host with permittivity log slope C_dip.

    The inverse of :func:`c_dip_from_delta0`.

    Parameters
    ----------
    C_dip : array_like
        Logarithmic slope of the permittivity (dimensionless), any shape.

    Returns
    -------
    float or array
        delta0 (dimensionless), shape of ``C_dip``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(f"{C.delta0_from_c_dip(8e-4):.6g}")
    0.00125664
    >>> print(f"{C.c_dip_from_delta0(C.delta0_from_c_dip(8e-4)):.6g}")   # round trip
    0.0008
    """
    return 0.5 * math.pi * C_dip


def fdelta0_from_c_dip(C_dip: ArrayLike, F: ArrayLike) -> ArrayLike:
    """F delta0 = F (pi / 2) C_dip of a resonator with filling factor F in a host of slope C_dip.

    F delta0 is what resonator fits determine (1/Q_TLS at T -> 0, low
    power; the ``F_delta0`` parameter of :func:`jtls.resonator.resonator_shift`).

    Parameters
    ----------
    C_dip : array_like
        Logarithmic slope of the host permittivity (dimensionless), any shape.
    F : array_like
        Filling factor of the host in the electric field energy, in [0, 1].

    Returns
    -------
    float or array
        F delta0 (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(f"{C.fdelta0_from_c_dip(8e-4, 0.1):.6g}")
    0.000125664
    """
    return F * delta0_from_c_dip(C_dip)


def delta0_from_acoustic_c(C: ArrayLike) -> ArrayLike:
    """Acoustic analogue of delta0: the resonant internal-friction plateau Q^-1 = pi C.

    For the velocity slope C = P0 gamma^2 / (rho v^2) of d v / v = C ln(T / T_ref),
    the resonant internal friction is pi C tanh(hbar omega / 2 k_B T).

    Parameters
    ----------
    C : array_like
        Tunneling strength P0 gamma^2 / (rho v^2) (dimensionless), any shape.

    Returns
    -------
    float or array
        pi C (dimensionless), shape of ``C``.

    Examples
    --------
    >>> from jtls.resonator import conversions as C
    >>> print(f"{C.delta0_from_acoustic_c(3.2e-4):.4g}")    # vitreous silica, Fig. 5a
    0.001005
    """
    return math.pi * C


def acoustic_c_from_p0(P0: ArrayLike, gamma: ArrayLike, rho: ArrayLike, v: ArrayLike) -> ArrayLike:
    """Tunneling strength C = P0 gamma^2 / (rho v^2) (dimensionless) of Eqs. (7)-(8).

    The same quantity as :func:`jtls.units.elastic_strength_si`.

    Parameters
    ----------
    P0 : array_like
        TLS density of states, J^-1 m^-3, any shape.
    gamma : array_like
        Deformation potential, J (``jtls.units.EV`` is one electron volt).
    rho : array_like
        Mass density, kg m^-3.
    v : array_like
        Sound velocity, m/s.

    Returns
    -------
    float or array
        C (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls import units
    >>> from jtls.resonator import conversions as C
    >>> print(f"{C.acoustic_c_from_p0(1e45, 1.0 * units.EV, 2200.0, 3800.0):.4g}")
    0.000808
    """
    return P0 * gamma**2 / (rho * v**2)
