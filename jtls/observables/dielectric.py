"""Dielectric constant and loss tangent (Churkin et al. 2021, Eqs. 7, 8 with C -> C_dip; App. C).

The dielectric response of the TLSs is the velocity expression of
:mod:`jtls.observables.acoustic` with the tunneling strength C replaced by
C_dip and the sign reversed: Delta eps / eps = -(Delta v / v)[C -> C_dip],
where C_dip is the magnitude of the logarithmic slope of eps(T) in the
resonant regime (the paper's App. C and Fig. 5b; see :mod:`jtls.units`).
The loss tangent is Im(Delta eps / eps): because eps enters linearly while
v ~ sqrt(M) (dv/v = (1/2) dM/M), tan delta is *half* the Q^-1 expression
with C -> C_dip -- resonant tan delta = (pi/2) C_dip tanh(hbar omega/2T)
(delta0 = (pi/2) C_dip at low T and power), relaxation plateau (pi/4) C_dip.

Units: T and T_ref in K, A in s^-1 K^-3, omega in rad/s; C_dip and the
results are dimensionless.  Shapes broadcast as in the velocity functions.
"""
from __future__ import annotations

import jax
from jax.typing import ArrayLike

from ..dos import DOSModel
from . import _common as c
from .acoustic import (internal_friction, internal_friction_dos, velocity_shift,
                       velocity_shift_dos, velocity_shift_relaxation,
                       velocity_shift_relaxation_dos, velocity_shift_resonant,
                       velocity_shift_resonant_dos)


def dielectric_shift_resonant(T: ArrayLike, C_dip: ArrayLike, mu: ArrayLike,
                              T_ref: ArrayLike = 1.0) -> jax.Array:
    """Resonant part of Delta eps/eps(T), relative to T_ref: Eq. (7) with C -> C_dip, sign reversed.

    Equals -:func:`velocity_shift_resonant` (T, C_dip, mu, T_ref); for
    mu = 0 exactly -C_dip ln(T/T_ref).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C_dip : array_like
        Dielectric tunneling strength (dimensionless, >= 0): the magnitude
        of the logarithmic slope of eps(T) (:func:`jtls.units.dipolar_strength_si`).
    mu : array_like
        DOS power of Eq. (3).
    T_ref : array_like
        Reference temperature in K.  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta eps / eps (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> import jtls
    >>> print(jtls.dielectric_shift_resonant([0.05, 0.5], C_dip=8e-4, mu=0.0))   # -C_dip ln T
    [0.00239659 0.00055452]
    """
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_resonant(T, C_dip, mu, T_ref)


def dielectric_shift_relaxation(T: ArrayLike, C_dip: ArrayLike, mu: ArrayLike, A: ArrayLike,
                                omega: ArrayLike) -> jax.Array:
    """Relaxation part of Delta eps/eps(T): Eq. (8) with C -> C_dip, sign reversed.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C_dip : array_like
        Dielectric tunneling strength (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3; tau_min^-1 = A E^3 coth(E/2T)) and angular
        probing frequency (rad/s).  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta eps / eps (dimensionless, >= 0), broadcast shape of the arguments.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.dielectric_shift_relaxation([0.05, 0.5], 8e-4, 0.1, A, omega))
    [7.91836576e-06 1.17131641e-03]
    """
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_relaxation(T, C_dip, mu, A, omega)


def dielectric_shift(T: ArrayLike, C_dip: ArrayLike, mu: ArrayLike, A: ArrayLike,
                     omega: ArrayLike, T_ref: ArrayLike = 1.0) -> jax.Array:
    """Dielectric-constant shift Delta eps/eps(T) of Eqs. (7) + (8) with C -> C_dip (Fig. 5b).

    Equals -:func:`velocity_shift` (T, C_dip, mu, A, omega, T_ref): the
    minimum lies where the velocity has its maximum, near T0 = (omega/A)^(1/3).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C_dip : array_like
        Dielectric tunneling strength (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s).
    T_ref : array_like
        Reference temperature of the resonant part in K.  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta eps / eps (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    The vitreous-silica fit of Fig. 5b (1 kHz, A = 7.9 MHz, C_dip = 8e-4):

    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(1e3), units.paper_frequency(7.9e6)
    >>> print(jtls.dielectric_shift([0.02, 0.2], C_dip=8e-4, mu=0.1, A=A, omega=omega))
    [0.00260024 0.00274794]
    """
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift(T, C_dip, mu, A, omega, T_ref)


def dielectric_shift_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike, omega: ArrayLike,
                         C_dip: ArrayLike = 1.0, T_ref: ArrayLike = 1.0) -> jax.Array:
    """Dielectric-constant shift Delta eps/eps(T) for any DOS model: -:func:`velocity_shift_dos`.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C_dip : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).
    T_ref : array_like
        Reference temperature of the resonant part in K (scalar).

    Returns
    -------
    jax.Array
        Delta eps / eps (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.dielectric_shift_dos([0.05, 0.5], PowerLawDOS(1.0, 0.1), A, omega, C_dip=8e-4))
    [0.00205212 0.00170014]
    """
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_dos(T, dos, A, omega, C_dip, T_ref)


def dielectric_shift_resonant_dos(T: ArrayLike, dos: DOSModel, C_dip: ArrayLike = 1.0,
                                  T_ref: ArrayLike = 1.0) -> jax.Array:
    """Resonant part of Delta eps/eps(T) for any DOS model, relative to T_ref (Eq. 7, sign reversed).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    C_dip : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).
    T_ref : array_like
        Reference temperature in K (scalar).

    Returns
    -------
    jax.Array
        Delta eps / eps (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls.dos import ConstantDOS
    >>> print(jtls.dielectric_shift_resonant_dos([0.05, 0.5], ConstantDOS(1.0), C_dip=8e-4))
    [0.00239659 0.00055452]
    """
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_resonant_dos(T, dos, C_dip, T_ref)


def dielectric_shift_relaxation_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike,
                                    omega: ArrayLike, C_dip: ArrayLike = 1.0) -> jax.Array:
    """Relaxation part of Delta eps/eps(T) for any DOS model (Eq. 8, sign reversed).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C_dip : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).

    Returns
    -------
    jax.Array
        Delta eps / eps (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.dielectric_shift_relaxation_dos([0.05, 0.5], PowerLawDOS(1.0, 0.1), A, omega,
    ...                                            C_dip=8e-4))
    [7.91836576e-06 1.17131641e-03]
    """
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_relaxation_dos(T, dos, A, omega, C_dip)


def loss_tangent_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike, omega: ArrayLike,
                     C_dip: ArrayLike = 1.0) -> jax.Array:
    """Dielectric loss tangent tan delta(T) = Im(Delta eps/eps) for any DOS model.

    Half of :func:`internal_friction_dos` with C -> C_dip (eps enters
    linearly, v ~ sqrt(modulus); see the module docstring).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C_dip : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).

    Returns
    -------
    jax.Array
        tan delta (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> from jtls.dos import ConstantDOS
    >>> print(jtls.loss_tangent_dos([0.05, 0.5], ConstantDOS(1.0), A, omega, C_dip=8e-4))
    [3.43281024e-05 5.16987502e-04]
    """
    c.amplitudes(C_dip=C_dip)
    return 0.5 * internal_friction_dos(T, dos, A, omega, C_dip)


def loss_tangent(T: ArrayLike, C_dip: ArrayLike, mu: ArrayLike, A: ArrayLike,
                 omega: ArrayLike) -> jax.Array:
    """Dielectric loss tangent tan delta(T) = Im(Delta eps/eps) with the Eq. (3) DOS.

    Half the Q^-1 expression with C -> C_dip: resonant part
    (pi/2) C_dip shape(T, hbar w) tanh(hbar w/2T) (-> delta0 = (pi/2) C_dip at
    low T, the tan delta of the paper's App. C), relaxation plateau (pi/4) C_dip.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C_dip : array_like
        Dielectric tunneling strength (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3; tau_min^-1 = A E^3 coth(E/2T)) and angular
        probing frequency (rad/s).  All arguments broadcast.

    Returns
    -------
    jax.Array
        tan delta (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    Towards the relaxation plateau (pi/4) C_dip = 6.3e-4:

    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.loss_tangent([0.05, 0.5, 5.0], 8e-4, 0.0, A, omega))
    [3.43281024e-05 5.16987502e-04 6.24051594e-04]
    """
    c.amplitudes(C_dip=C_dip)
    return 0.5 * internal_friction(T, C_dip, mu, A, omega)
