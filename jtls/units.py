"""Units, conventions and physical constants used everywhere in jtls.

Conventions
-----------
* Temperatures and energies are in kelvin with k_B = 1 (an energy E in K means
  E * k_B joules).
* Probing frequencies ``omega`` are angular frequencies in rad/s,
  omega = 2*pi*f with f in Hz.
* The relaxation constant ``A`` (Churkin et al. 2021, Eq. 8: the minimal
  one-phonon relaxation rate is tau_min^-1 = A E^3 coth(E/2T)) is in
  s^-1 K^-3.  The paper defines A = omega / T0^3 and quotes omega and A in the
  *same* frequency unit ("90 kHz", "9.4 MHz"), so only their ratio enters.
  jtls maps both with the same 2*pi: omega = 2*pi*90e3 rad/s and
  A = 2*pi*9.4e6 s^-1 K^-3 (see :func:`paper_frequency`), which keeps the
  paper's ratio omega/A and hence its crossover temperature
  T0 = (omega/A)^(1/3).
* Densities of states n(T, E) are per TLS (or per volume) per kelvin over
  signed energies; in the velocity and dielectric formulas the combination
  (1/L0)(gamma^2/rho v^2) n(T, E) is written C * shape(T, E), with C the
  dimensionless tunneling strength P0 gamma^2 / rho v^2.
* Dielectric response: Delta eps / eps = -(velocity expression) with C -> C_dip,
  where C_dip is the magnitude of the logarithmic slope of eps(T) in the
  resonant regime.  The resonant low-temperature loss tangent is then
  delta0 = (pi/2) C_dip (the "tan delta" of the paper's App. C); since eps
  enters linearly (v ~ sqrt(M) for sound) the relaxation plateau of tan delta
  is (pi/4) C_dip while that of Q^-1 is (pi/2) C.  In SI, for randomly
  oriented dipoles p, delta0 = pi P0 p^2 / (3 eps0 eps_r), hence
  C_dip = 2 P0 p^2 / (3 eps0 eps_r) (the analogue of the modulus slope 2C).

Constants are CODATA 2018 exact or recommended values (SI).
"""
from __future__ import annotations

import math

from numpy.typing import ArrayLike

#: Boltzmann constant, J/K (CODATA 2018, exact).
K_B = 1.380649e-23
#: Planck constant, J s (CODATA 2018, exact).
H = 6.62607015e-34
#: Reduced Planck constant, J s.
HBAR = H / (2.0 * math.pi)
#: Elementary charge, C (CODATA 2018, exact).
E_CHARGE = 1.602176634e-19
#: Vacuum permittivity, F/m (CODATA 2018 recommended).
EPS0 = 8.8541878128e-12
#: Speed of light, m/s (exact).
C_LIGHT = 299792458.0
#: Debye unit of dipole moment, C m.
DEBYE = 1e-21 / C_LIGHT
#: Electron volt, J.
EV = E_CHARGE
#: Atomic mass constant, kg (CODATA 2018 recommended).
AMU = 1.66053906660e-27

#: hbar / k_B in K s: an angular frequency omega (rad/s) is an energy
#: HBAR_OVER_KB * omega in kelvin.
HBAR_OVER_KB = HBAR / K_B


def hz_to_omega(f_hz: ArrayLike) -> ArrayLike:
    """Angular frequency of a frequency in Hz: omega = 2 pi f.

    Parameters
    ----------
    f_hz : float or array
        Frequency f in Hz, any shape.

    Returns
    -------
    float or array
        omega in rad/s, shape of ``f_hz``.

    Examples
    --------
    >>> from jtls import units
    >>> units.hz_to_omega(1e3)
    6283.185307179586
    """
    return 2.0 * math.pi * f_hz


def paper_frequency(value_hz: ArrayLike) -> ArrayLike:
    """Map a frequency-like value quoted by Churkin et al. 2021 to SI.

    Both the probing frequency ("90 kHz") and the relaxation constant A
    ("9.4 MHz", Eq. 8: A = omega / T0^3) are multiplied by 2 pi, so
    ``paper_frequency(90e3)`` is omega in rad/s and ``paper_frequency(9.4e6)``
    is A in s^-1 K^-3 with the paper's ratio omega/A preserved.

    Parameters
    ----------
    value_hz : float or array
        The value as quoted in the paper (Hz, or "Hz" per K^3 for A).

    Returns
    -------
    float or array
        2 pi ``value_hz``: omega in rad/s or A in s^-1 K^-3.

    Examples
    --------
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(f"omega = {omega:.6g} rad/s, A = {A:.6g} s^-1 K^-3")
    omega = 565487 rad/s, A = 5.90619e+07 s^-1 K^-3
    """
    return 2.0 * math.pi * value_hz


def omega_to_kelvin(omega: ArrayLike) -> ArrayLike:
    """Energy hbar omega / k_B in kelvin of an angular frequency.

    Parameters
    ----------
    omega : float or array
        Angular frequency in rad/s, any shape.

    Returns
    -------
    float or array
        hbar omega / k_B in K, shape of ``omega``.

    Examples
    --------
    >>> from jtls import units
    >>> print(f"{units.omega_to_kelvin(units.hz_to_omega(5e9)):.4f} K")   # a 5 GHz photon
    0.2400 K
    """
    return HBAR_OVER_KB * omega


def crossover_temperature(omega: ArrayLike, A: ArrayLike) -> ArrayLike:
    """Crossover temperature T0 = (omega/A)^(1/3) of Churkin et al. 2021 (A = omega/T0^3, Eq. 8).

    Near T0 the fastest relaxation rate of thermal TLSs equals the probing
    frequency, omega tau_min(E = T) ~ 1: the sound velocity has its maximum
    (and the dielectric constant its minimum) there.

    Parameters
    ----------
    omega : float or array
        Angular probing frequency in rad/s.
    A : float or array
        Relaxation constant in s^-1 K^-3 (broadcasts with ``omega``).

    Returns
    -------
    float or array
        T0 in K.

    Examples
    --------
    >>> from jtls import units
    >>> T0 = units.crossover_temperature(units.paper_frequency(90e3), units.paper_frequency(9.4e6))
    >>> print(f"{T0:.4f} K")
    0.2123 K
    """
    from . import _validate as V        # concrete values: a negative ratio had a complex cube root
    V.positive_finite("omega", omega)
    V.positive_finite("A", A)
    return (omega / A) ** (1.0 / 3.0)


def dipolar_strength_si(P0: ArrayLike, p: ArrayLike, eps_r: ArrayLike) -> ArrayLike:
    """Dielectric tunneling strength C_dip = 2 P0 p^2 / (3 eps0 eps_r) (dimensionless).

    C_dip is the magnitude of the logarithmic slope of eps(T) in the resonant
    regime, the dielectric analogue of C (see the module docstring); the
    resonant loss tangent is delta0 = (pi/2) C_dip.

    Parameters
    ----------
    P0 : float or array
        TLS density of states in J^-1 m^-3.
    p : float or array
        Dipole moment in C m (``DEBYE`` is one debye).
    eps_r : float or array
        Relative permittivity of the host.

    Returns
    -------
    float or array
        C_dip, broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls import units
    >>> print(f"{units.dipolar_strength_si(1e45, 1.0 * units.DEBYE, 3.8):.3g}")
    0.00022
    """
    return 2.0 * P0 * p**2 / (3.0 * EPS0 * eps_r)


def elastic_strength_si(P0: ArrayLike, gamma: ArrayLike, rho: ArrayLike,
                        v: ArrayLike) -> ArrayLike:
    """Tunneling strength C = P0 gamma^2 / (rho v^2) (dimensionless) of Eqs. (7)-(8).

    Parameters
    ----------
    P0 : float or array
        TLS density of states in J^-1 m^-3.
    gamma : float or array
        Deformation potential in J (``EV`` is one electron volt).
    rho : float or array
        Mass density in kg/m^3.
    v : float or array
        Sound velocity in m/s.

    Returns
    -------
    float or array
        C, broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls import units
    >>> print(f"{units.elastic_strength_si(1e45, 1.0 * units.EV, 2200.0, 3800.0):.3g}")
    0.000808
    """
    return P0 * gamma**2 / (rho * v**2)
