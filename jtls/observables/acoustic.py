"""Sound velocity and acoustic absorption (Churkin et al. 2021, Eqs. 7, 8, A2).

Convention (see :mod:`jtls.units`): (1/L0)(gamma^2/rho v^2) n(T, E) is written
C * shape(T, E) with C = P0 gamma^2/(rho v^2) the dimensionless tunneling
strength; for the Eq. (3) DOS, shape = (T^2 + E^2)^(mu/2) with T, E in K.
omega is the angular probing frequency in rad/s, A the relaxation constant in
s^-1 K^-3 (tau_min^-1 = A E^3 coth(E/2T)).

Resonant term, Eq. (7), returned relative to a reference temperature so that
no high-energy cutoff enters:

    dv_res(T) - dv_res(T_ref) = -C int_0^inf [shape(T,E) tanh(E/2T)
                                - shape(T_ref,E) tanh(E/2T_ref)] dE / E.

For the Eq. (3) DOS this is exactly C (T^mu - T_ref^mu) (1/mu - K(mu)) with
K(mu) = int_0^inf (1+u^2)^(mu/2) [tanh(u/2)/u - u/(1+u^2)] du, -> C ln(T/T_ref)
as mu -> 0.

Relaxation term, Eq. (8) (absolute, -> 0 as T -> 0):

    dv_rel(T) = -C int_0^inf shape(T,E) / (2T cosh^2(E/2T)) Re G(b) dE,
    b = omega tau_min(E) = omega / (A E^3 coth(E/2T)),

(stopping at the model's largest energy dos.e_max for a TabulatedDOS, like
every energy integral here), where Re G(b) is the closed form of the
x-integral of Eq. (8) (:func:`jtls.observables._kernels.relaxation_kernel`).  The relaxation
absorption uses Im G: Q^-1_rel = 2 C int shape/(2T cosh^2) Im G dE (the
factor 2 is dv/v = (1/2) dM/M), with the STM plateau (pi/2) C for
omega tau_min << 1.  The resonant absorption is Q^-1_res =
pi C shape(T, hbar omega) tanh(hbar omega/2T).

Dielectric constant and loss tangent (Eqs. 7, 8 with C -> C_dip):
:mod:`jtls.observables.dielectric`.  The resonant part (Eq. 7) is in
:mod:`jtls.observables.acoustic_resonant`; its functions are also available here.
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
from ._kernels import relaxation_kernel, sech2_half, u_coth_half
# the resonant part (Eq. 7); its names, private ones included, are also available here
from .acoustic_resonant import (_RES_PANELS, _U_TAIL, _expm1_over,  # noqa: F401
                                _resonant_dos_1, _resonant_dos_e, _resonant_power_1,
                                resonant_constant, velocity_shift_resonant,
                                velocity_shift_resonant_dos)


# ---------------------------------------------------------------- relaxation

def _log_b(T, u, A, omega):
    """ln(omega tau_min) at reduced energies u: ln omega - ln A - 3 ln T - 2 ln u - ln(u coth(u/2))."""
    return (jnp.log(omega) - jnp.log(A) - 3.0 * jnp.log(T) - 2.0 * jnp.log(u)
            - jnp.log(u_coth_half(u)))


#: Upper panels (u = E/T) of the relaxation integral: beyond u = 64 the integrand is
#: below 1e-16 of its peak even when Re G ~ u^6 (omega tau >> 1).
_REL_UPPER = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 40.0, 48.0, 56.0, 64.0)
_REL_LOG_PANELS = 12


def _relaxation_nodes(T, A, omega, u_max=None):
    """Nodes/weights in u for the relaxation integral, following its feature scale.

    omega tau_min = 1 near u* = sqrt(omega / (2 A T^3)); below 1e-2 u* the
    integrand is ~ (u/u*)^4 and contributes < 1e-10.  Log panels run from
    u_lo = clip(1e-2 u*, 1e-14, 1) to 1 (they collapse to zero width when
    u* > 100), fixed panels from 1 to 64.  These edges carry no gradient;
    ``u_max`` (= e_max/T, None: no limit) clips every edge, so that the
    integral stops at the DOS's largest energy (with its T-derivative).
    """
    dt = T.dtype
    u_star = jnp.exp(0.5 * (jnp.log(omega) - jnp.log(2.0 * A) - 3.0 * jnp.log(T)))
    u_lo = jax.lax.stop_gradient(jnp.clip(1e-2 * u_star, 1e-14, 1.0))
    s = jnp.linspace(0.0, 1.0, _REL_LOG_PANELS + 1, dtype=dt)
    log_edges = jnp.concatenate([jnp.zeros(1, dt), jnp.exp(jnp.log(u_lo) * (1.0 - s))])
    upper = jnp.asarray(_REL_UPPER, dtype=dt)
    if u_max is not None:
        log_edges = jnp.minimum(log_edges, u_max)
        upper = jnp.minimum(upper, u_max)
    u1, w1 = panel_nodes(log_edges, 12)
    u2, w2 = panel_nodes(upper, 12)
    return jnp.concatenate([u1, u2]), jnp.concatenate([w1, w2])


def _relaxation_1(T, dos, A, omega):
    """int_0^e_max n(T,E)/(2T cosh^2(E/2T)) G(b) dE as a complex number (Re: velocity, Im: loss)."""
    u, w = _relaxation_nodes(T, A, omega, c.u_max(T, dos))
    u = jnp.maximum(u, jnp.finfo(T.dtype).tiny)  # zero-width panels: finite log, weight 0
    g = relaxation_kernel(_log_b(T, u, A, omega))
    n = dos(T * u, T)
    return jnp.sum(w * n * 0.5 * sech2_half(u) * g)


def velocity_shift_relaxation_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike, omega: ArrayLike,
                                  C: ArrayLike = 1.0) -> jax.Array:
    """Relaxation sound-velocity shift of Eq. (8) for any DOS model (absolute; -> 0 as T -> 0).

    -C int_0^e_max n(T,E) / (2T cosh^2(E/2T)) Re G(omega tau_min(E)) dE with
    tau_min^-1 = A E^3 coth(E/2T) and Re G the x-integral of Eq. (8) in
    closed form (see the module docstring).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.velocity_shift_relaxation_dos([0.05, 0.5], PowerLawDOS(1.0, 0.1), A, omega,
    ...                                          C=3.2e-4))
    [-3.16734630e-06 -4.68526565e-04]
    """
    c.check(T=T, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_dos_e, dos, T=T, C=C, A=A, omega=omega)


def velocity_shift_relaxation(T: ArrayLike, C: ArrayLike, mu: ArrayLike, A: ArrayLike,
                              omega: ArrayLike) -> jax.Array:
    """Relaxation sound-velocity shift of Eq. (8) with the Eq. (3) DOS (-> 0 as T -> 0).

    Well above the crossover T0 = (omega/A)^(1/3) it falls like
    -(3/2) C ln T for mu = 0 (together with the resonant +C ln T: the
    slope ratio 1 : -1/2 of the standard tunneling model).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C : array_like
        Tunneling strength P0 gamma^2/(rho v^2) (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3; tau_min^-1 = A E^3 coth(E/2T)) and angular
        probing frequency (rad/s).  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.velocity_shift_relaxation([0.05, 0.5], 3.2e-4, 0.1, A, omega))
    [-3.16734630e-06 -4.68526565e-04]
    """
    c.check(T=T, mu=mu, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_pl_e, T=T, C=C, mu=mu, A=A, omega=omega)


def velocity_shift(T: ArrayLike, C: ArrayLike, mu: ArrayLike, A: ArrayLike, omega: ArrayLike,
                   T_ref: ArrayLike = 1.0) -> jax.Array:
    """Sound-velocity shift dv/v(T) of Eqs. (7) + (8) with the Eq. (3) DOS (Figs. 3, 5, 6).

    dv/v(T) = [dv_res(T) - dv_res(T_ref)] + dv_rel(T): the resonant part of
    :func:`velocity_shift_resonant` (zero at T_ref) plus the relaxation part
    of :func:`velocity_shift_relaxation`.  The maximum lies near the
    crossover temperature T0 = (omega/A)^(1/3)
    (:func:`jtls.units.crossover_temperature`).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C : array_like
        Tunneling strength P0 gamma^2/(rho v^2) (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3) (0: the standard tunneling model).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s).
    T_ref : array_like
        Reference temperature of the resonant part in K.  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), broadcast shape of the arguments.
        Measured data carry an unknown offset: fits add one
        (:class:`jtls.fit.Model`).

    Examples
    --------
    The vitreous-silica fit of Fig. 5a (90 kHz, A = 9.4 MHz, C = 3.2e-4):

    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.velocity_shift([0.05, 0.5], C=3.2e-4, mu=0.1, A=A, omega=omega))
    [-0.00082085 -0.00068006]
    """
    return velocity_shift_resonant(T, C, mu, T_ref) + velocity_shift_relaxation(T, C, mu, A, omega)


def velocity_shift_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike, omega: ArrayLike,
                       C: ArrayLike = 1.0, T_ref: ArrayLike = 1.0) -> jax.Array:
    """Sound-velocity shift dv/v(T) of Eqs. (7) + (8) for any DOS model.

    :func:`velocity_shift_resonant_dos` (zero at T_ref) plus
    :func:`velocity_shift_relaxation_dos`.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).
    T_ref : array_like
        Reference temperature of the resonant part in K (scalar).

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.velocity_shift_dos([0.05, 0.5], PowerLawDOS(1.0, 0.1), A, omega, C=3.2e-4))
    [-0.00082085 -0.00068006]
    """
    return (velocity_shift_resonant_dos(T, dos, C, T_ref)
            + velocity_shift_relaxation_dos(T, dos, A, omega, C))


# ------------------------------------------------------------------ App. A (A2)

_THETA_ORDER = 12


def _theta_edges(log_b):
    """Panel edges in theta (x = sin theta) following the kernel's step at x ~ sqrt(b)."""
    half = 0.5 * log_b[..., None]
    k = jnp.arange(13, dtype=log_b.dtype)
    around = jnp.exp(half + (k - 6.0) * 0.5 * math.log(10.0))          # sqrt(b) 1e-3 .. 1e3
    upto = jnp.exp(half * jnp.linspace(1.0, 0.0, 12, dtype=log_b.dtype))  # sqrt(b) .. 1
    s = jnp.clip(jnp.concatenate([around, upto], axis=-1), 0.0, 0.999)
    near_top = 0.5 * math.pi * (1.0 - jnp.logspace(-4, 0, 9, dtype=log_b.dtype))
    fixed = jnp.broadcast_to(jnp.concatenate([jnp.asarray([0.0, 0.5 * math.pi], log_b.dtype),
                                              near_top]), log_b.shape + (11,))
    return jax.lax.stop_gradient(jnp.sort(jnp.concatenate([jnp.arcsin(s), fixed], axis=-1)))


def _relaxation_a2_1(T, dos, A, omega):
    u, w = c.nodes_to_e_max(T, dos)
    log_b = _log_b(T, u, A, omega)                           # (n_u,)
    theta, wt = panel_nodes(_theta_edges(log_b), _THETA_ORDER)  # (n_u, n_t)
    # degenerate (zero-width) panels put nodes at theta = 0 with weight 0: keep them finite
    s = jnp.maximum(jnp.sin(theta), jnp.finfo(theta.dtype).tiny)
    cth = jnp.cos(theta)
    # sqrt(1-x^2)/x dx / (1 + b^2/x^4) with x = sin(theta): cos^2/sin * sigmoid(-2(ln b - 2 ln s))
    kern = cth * cth / s * jax.nn.sigmoid(-2.0 * (log_b[:, None] - 2.0 * jnp.log(s)))
    n = dos(T * u[:, None] * cth, T)
    inner = jnp.sum(wt * kern * n, axis=-1)
    return jnp.sum(w * 0.5 * sech2_half(u) * inner)


def velocity_shift_relaxation_A2_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike,
                                     omega: ArrayLike, C: ArrayLike = 1.0) -> jax.Array:
    """Relaxation shift of App. A, Eq. (A2), for any DOS model: n(T, E sqrt(1-x^2)) in the x-integral.

    The DOS read as n(Delta) instead of n(E); differs negligibly from
    :func:`velocity_shift_relaxation_dos` (Eq. 8; Fig. 7b).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.velocity_shift_relaxation_A2_dos([0.05, 0.5], PowerLawDOS(1.0, 0.1), A, omega,
    ...                                             C=3.2e-4))
    [-3.05607211e-06 -4.65412877e-04]
    """
    c.check(T=T, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_a2_dos_e, dos, T=T, C=C, A=A, omega=omega)


def velocity_shift_relaxation_A2(T: ArrayLike, C: ArrayLike, mu: ArrayLike, A: ArrayLike,
                                 omega: ArrayLike) -> jax.Array:
    """Relaxation shift of App. A, Eq. (A2), with the Eq. (3) DOS; equals Eq. (8) for mu = 0.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C : array_like
        Tunneling strength P0 gamma^2/(rho v^2) (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3; tau_min^-1 = A E^3 coth(E/2T)) and angular
        probing frequency (rad/s).  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.velocity_shift_relaxation_A2([0.05, 0.5], 3.2e-4, 0.1, A, omega))
    [-3.05607211e-06 -4.65412877e-04]
    """
    c.check(T=T, mu=mu, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_a2_pl_e, T=T, C=C, mu=mu, A=A, omega=omega)


# -------------------------------------------------------------------- losses

def _loss_1(T, dos, A, omega):
    rel = 2.0 * jnp.imag(_relaxation_1(T, dos, A, omega))
    e = units.HBAR_OVER_KB * omega
    res = math.pi * dos(e, T) * jnp.tanh(0.5 * e / T)
    return rel + res


def internal_friction_dos(T: ArrayLike, dos: DOSModel, A: ArrayLike, omega: ArrayLike,
                          C: ArrayLike = 1.0) -> jax.Array:
    """Acoustic absorption Q^-1(T) (relaxation + resonant, low intensity) for any DOS model.

    Q^-1 = 2 C int_0^e_max n/(2T cosh^2(E/2T)) Im G dE
    + pi C n(T, hbar omega) tanh(hbar omega / 2T): the imaginary part
    that goes with the real part of Eqs. (7)-(8) (see the module docstring).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3) and angular probing frequency (rad/s), scalars.
    C : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).

    Returns
    -------
    jax.Array
        Q^-1 (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> from jtls.dos import ConstantDOS
    >>> print(jtls.internal_friction_dos([0.05, 0.5], ConstantDOS(1.0), A, omega, C=3.2e-4))
    [2.74624819e-05 4.13590002e-04]
    """
    c.check(T=T, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_loss_dos_e, dos, T=T, C=C, A=A, omega=omega)


def internal_friction(T: ArrayLike, C: ArrayLike, mu: ArrayLike, A: ArrayLike,
                      omega: ArrayLike) -> jax.Array:
    """Acoustic absorption Q^-1(T) with the Eq. (3) DOS (low intensity).

    Q^-1 = 2C int shape/(2T cosh^2(E/2T)) Im G dE + pi C shape(T, hbar omega)
    tanh(hbar omega/2T); the standard tunneling model (mu = 0) has the
    plateau (pi/2) C where omega tau_min << 1 (T >> T0).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C : array_like
        Tunneling strength P0 gamma^2/(rho v^2) (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    A, omega : array_like
        Relaxation constant (s^-1 K^-3; tau_min^-1 = A E^3 coth(E/2T)) and angular
        probing frequency (rad/s).  All arguments broadcast.

    Returns
    -------
    jax.Array
        Q^-1 (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    Rising as T^3 below T0 = 0.21 K towards the plateau (pi/2) C = 5.0e-4:

    >>> import jtls
    >>> from jtls import units
    >>> omega, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)   # Fig. 5a
    >>> print(jtls.internal_friction([0.05, 0.5, 5.0], 3.2e-4, 0.0, A, omega))
    [2.74624819e-05 4.13590002e-04 4.99241275e-04]
    """
    c.check(T=T, mu=mu, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_loss_pl_e, T=T, C=C, mu=mu, A=A, omega=omega)


# element functions handed to _common.batched (module level so compilations are cached)
def _relaxation_dos_e(dos, t, cc, a, om):
    return -cc * jnp.real(_relaxation_1(t, dos, a, om))


def _relaxation_pl_e(t, cc, m, a, om):
    return -cc * jnp.real(_relaxation_1(t, PowerLawDOS(1.0, m), a, om))


def _relaxation_a2_dos_e(dos, t, cc, a, om):
    return -cc * _relaxation_a2_1(t, dos, a, om)


def _relaxation_a2_pl_e(t, cc, m, a, om):
    return -cc * _relaxation_a2_1(t, PowerLawDOS(1.0, m), a, om)


# Eq. (A2) is a 2-d quadrature (energy nodes x theta nodes, ~10^4 per point): fewer
# points per chunk keep a chunk's intermediates (and its reverse-mode tape) bounded
_relaxation_a2_dos_e.points_per_chunk = 8
_relaxation_a2_pl_e.points_per_chunk = 8


def _loss_dos_e(dos, t, cc, a, om):
    return cc * _loss_1(t, dos, a, om)


def _loss_pl_e(t, cc, m, a, om):
    return cc * _loss_1(t, PowerLawDOS(1.0, m), a, om)
