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

import jax.numpy as jnp

from .. import units

_K = {"notch": 2.0, "hanger": 2.0, "reflection": 4.0}


def omega_from_f0(f0_hz):
    """Angular frequency (rad/s) of a resonance frequency in Hz."""
    return 2.0 * math.pi * jnp.asarray(f0_hz, dtype=float)


def hbar_omega_kelvin(f0_hz):
    """hbar omega / k_B in K for a resonance frequency in Hz (5.62 GHz -> 0.2697 K)."""
    return units.omega_to_kelvin(omega_from_f0(f0_hz))


def dbm_to_watt(p_dbm):
    """Power in W of a power in dBm."""
    return 1e-3 * jnp.power(10.0, jnp.asarray(p_dbm, dtype=float) / 10.0)


def watt_to_dbm(p_w):
    """Power in dBm of a power in W."""
    return 10.0 * jnp.log10(jnp.asarray(p_w, dtype=float) / 1e-3)


def _k(coupling):
    try:
        return _K[coupling]
    except KeyError:
        raise ValueError(f"argument 'coupling' must be one of {sorted(_K)}, got {coupling!r}") from None


def photon_number(p_w, f0_hz, Q_l, Q_c, coupling="notch"):
    """Mean photon number <n> = k Q_l^2 P / (Q_c hbar omega^2), k = 2 (notch) or 4 (reflection)."""
    om = omega_from_f0(f0_hz)
    return _k(coupling) * Q_l**2 * jnp.asarray(p_w, dtype=float) / (Q_c * units.HBAR * om**2)


def power_from_photon_number(n, f0_hz, Q_l, Q_c, coupling="notch"):
    """Input power (W) giving <n> photons (inverse of :func:`photon_number`)."""
    om = omega_from_f0(f0_hz)
    return jnp.asarray(n, dtype=float) * Q_c * units.HBAR * om**2 / (_k(coupling) * Q_l**2)


def delta0_from_p0(P0, p, eps_r):
    """delta0 = pi P0 p^2/(3 eps0 eps_r); P0 in J^-1 m^-3, p in C m (see units.DEBYE)."""
    return math.pi * P0 * p**2 / (3.0 * units.EPS0 * eps_r)


def p0_from_delta0(delta0, p, eps_r):
    """P0 (J^-1 m^-3) from the loss tangent delta0 (inverse of :func:`delta0_from_p0`)."""
    return 3.0 * units.EPS0 * eps_r * delta0 / (math.pi * p**2)


def c_dip_from_delta0(delta0):
    """Permittivity log slope C_dip = 2 delta0/pi (jtls dielectric convention)."""
    return 2.0 * delta0 / math.pi


def delta0_from_c_dip(C_dip):
    """delta0 = (pi/2) C_dip."""
    return 0.5 * math.pi * C_dip


def fdelta0_from_c_dip(C_dip, F):
    """F delta0 of a resonator whose host has permittivity log slope C_dip, filling F."""
    return F * delta0_from_c_dip(C_dip)


def delta0_from_acoustic_c(C):
    """Acoustic analogue: resonant Q^-1 plateau pi C for velocity slope C = P0 gamma^2/(rho v^2)."""
    return math.pi * C


def acoustic_c_from_p0(P0, gamma, rho, v):
    """C = P0 gamma^2/(rho v^2) (same as jtls.units.elastic_strength_si); P0 J^-1 m^-3, gamma J."""
    return P0 * gamma**2 / (rho * v**2)
