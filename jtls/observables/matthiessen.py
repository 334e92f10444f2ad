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

Absolute units (:mod:`jtls.observables.matthiessen_si`, its functions also
available here; :func:`thermal_conductivity_si_matthiessen`; any DOS:
:func:`thermal_conductivity_si_dos`): W/(m K) from the tunneling strengths
and sound velocities.  The channel keywords have the same names as above,
``boundary`` (here the boundary mean free path l_b in m) and ``rayleigh``
(here the Rayleigh coefficient a_R in m^-1 s^4, l_R^-1 = a_R omega^4); the
old names ``l_b`` and ``a_R`` still work with a DeprecationWarning.

Fitting (:func:`kappa_scattering`): the registered observable
``thermal_conductivity_matthiessen`` of :mod:`jtls.fit` (``jtls fit
--observable thermal_conductivity --scattering boundary,rayleigh``) has the
parameters ``B``, ``mu``, ``E_b1`` (K) and ``r_R`` (dimensionless), with
E_b1^2 / 2 = E_b^(1+mu) and r_R = E_R^-(3-mu) (energies in K).  Both are 0
when their channel is off and kappa depends on them with a finite slope
there, so 0 is a regular physical lower bound and the fit reports the
likelihood-ratio tests ``E_b1_zero`` and ``r_R_zero`` ("is the channel
needed?"); :func:`crossover_energies` converts back to E_b and E_R.

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

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _validate as V
from ..dos import DOSModel, PowerLawDOS
from ..quadrature import reduced_grid
from . import _common as c
from ._broadcast import _broadcast_apply
from ._kernels import kappa_weight, tanh_half_over_u
# the absolute (SI) part; its names, private ones included, are also available here
from .matthiessen_si import (_kappa_si_dos_1, _kappa_si_dos_vmapped, _kappa_si_extra_1,  # noqa: F401
                             _kappa_si_sum, _kappa_si_vmapped, _si_channels, casimir_limit_si,
                             thermal_conductivity_si_dos, thermal_conductivity_si_matthiessen)

# Fill quadrature.reduced_grid's cache now, outside any trace: its first call must not happen
# inside jit (it converts JAX arrays to numpy).
reduced_grid()

__all__ = ["thermal_conductivity_matthiessen", "thermal_conductivity_matthiessen_dos",
           "thermal_conductivity_si_matthiessen", "thermal_conductivity_si_dos", "casimir_limit_si",
           "matthiessen_rates", "kappa_scattering", "crossover_energies"]


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


def matthiessen_rates(B: ArrayLike, mu: ArrayLike, boundary: ArrayLike,
                      rayleigh: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """Extra scattering rates of the crossover parameterization (see the module docstring).

    Gamma_b = B E_b^(1+mu) and g_R = B / E_R^(3-mu) (Gamma_R = g_R E^4), in
    the units of the TLS rate Gamma_TLS = E tanh(E/2T) n(T, E).

    Parameters
    ----------
    B : array_like
        DOS prefactor of Eq. (3), K^-(1+mu).
    mu : array_like
        DOS power of Eq. (3).
    boundary : array_like
        Boundary crossover energy E_b in K (>= 0; 0 = off).
    rayleigh : array_like
        Rayleigh crossover energy E_R in K (> 0; inf = off).  Arrays broadcast.

    Returns
    -------
    (Gamma_b, g_R) : jax.Array
        Gamma_b in [B] K^(1+mu) (the unit of Gamma_TLS), g_R in [B] K^(mu-3);
        broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls.observables.matthiessen import matthiessen_rates
    >>> gb, gr = matthiessen_rates(B=1.0, mu=0.0, boundary=0.1, rayleigh=5.0)
    >>> print(f"{float(gb):.6g} {float(gr):.6g}")        # E_b, 1 / E_R^3
    0.1 0.008
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


def thermal_conductivity_matthiessen(T: ArrayLike, B: ArrayLike, mu: ArrayLike, *,
                                     boundary: ArrayLike | None = None,
                                     rayleigh: ArrayLike | None = None) -> jax.Array:
    """Eq. (5) with the Eq. (3) DOS plus boundary and Rayleigh scattering (Matthiessen's rule).

    Arbitrary units, the same as :func:`jtls.observables.thermal_conductivity`
    (K^2 / [B]), to which it is identical when both channels are off.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape (array or list).
    B : array_like
        DOS prefactor of Eq. (3) (K^-(1+mu)); broadcasts with T.
    mu : array_like
        DOS power of Eq. (3); broadcasts with T.
    boundary : array_like, optional
        Crossover energy E_b in K (>= 0; None or 0 = no boundary
        scattering): Gamma_b = B E_b^(1+mu).  Broadcasts with T.
    rayleigh : array_like, optional
        Crossover energy E_R in K (> 0; None or inf = no Rayleigh
        scattering): Gamma_R = B E^4 / E_R^(3-mu).  Broadcasts with T.

    Returns
    -------
    jax.Array
        kappa in K^2 / [B] (arbitrary units), broadcast shape of the arguments.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> T = np.array([0.1, 1.0])
    >>> print(jtls.thermal_conductivity_matthiessen(T, 1.0, 0.0))     # = thermal_conductivity
    [ 0.39478418 39.4784176 ]
    >>> print(jtls.thermal_conductivity_matthiessen(T, 1.0, 0.0, boundary=0.1, rayleigh=5.0))
    [ 0.23000344 25.23738361]
    """
    c.check(T=T, mu=mu, B=B)
    _check_channels(boundary, rayleigh)
    Eb = 0.0 if boundary is None else boundary
    ER = jnp.inf if rayleigh is None else rayleigh
    return _broadcast_apply(_kappa_pl_vmapped, None, T=T, B=B, mu=mu, boundary=Eb, rayleigh=ER)


def _one_power_law(t, b, m, eb, er):
    gb, gr = matthiessen_rates(b, m, eb, er)
    return _kappa_extra_1(t, PowerLawDOS(b, m), gb, gr)


def _kappa_rates(T, B, mu, gamma_b, gamma_r4):
    """Eq. (5) with the Eq. (3) DOS and extra rates Gamma_b, g_R (scalars); T any shape."""
    dos = PowerLawDOS(B, mu)
    flat = jax.vmap(lambda t: _kappa_extra_1(t, dos, gamma_b, gamma_r4))(T.reshape(-1))
    return flat.reshape(T.shape)


@jax.custom_jvp
def _kappa_fit(T, B, mu, E_b1, r_R):
    return _kappa_rates(T, B, mu, 0.5 * B * E_b1 * E_b1, B * r_R)


@_kappa_fit.defjvp
def _kappa_fit_jvp(primals, tangents):
    # kappa is smooth in E_b1 except at E_b1 = 0, where the chain rule through E_b1^2 gives 0
    # although the slope is finite: the deficit comes from the phonons with u < u_x ~ E_b1, and is
    # T^2 (8 / n(T, 0)) (pi / 2) u_x with u_x = E_b1 sqrt(B / (T n(T, 0))) (u -> 0 expansion of
    # the integrand, exact in the limit; the quadrature's log panels reach u = 1e-12).
    T, B, mu, E_b1, r_R = primals
    dT, dB, dmu, dEb, drR = tangents
    Tf = jnp.asarray(T, dtype=float)
    y, dy = jax.jvp(lambda t, b, m, r: _kappa_rates(t, b, m, 0.5 * b * E_b1 * E_b1, b * r),
                    (Tf, B, mu, r_R), (jnp.asarray(dT, dtype=float), dB, dmu, drR))
    n0 = B * jnp.exp(mu * jnp.log(Tf))                            # n(T, 0) = B T^mu
    root = jnp.sqrt(B / (Tf * n0))
    limit = -Tf * Tf * (8.0 / n0) * (0.5 * math.pi) * root
    # below u_x = 1e-8 the slope is the limit (to ~1e-8 relative); a value held "on" the bound
    # by the fit engine arrives as 1e-304, not 0
    on = E_b1 * root > 1e-8
    safe = jnp.where(jnp.any(on), E_b1, 1.0)
    _, numeric = jax.jvp(lambda e: _kappa_rates(Tf, B, mu, 0.5 * B * e * e, B * r_R),
                         (safe,), (jnp.ones_like(safe),))
    return y, dy + jnp.where(on, numeric, limit) * dEb


def kappa_scattering(T: ArrayLike, B: ArrayLike, mu: ArrayLike, E_b1: ArrayLike = 0.0,
                     r_R: ArrayLike = 0.0) -> jax.Array:
    """:func:`thermal_conductivity_matthiessen` in the form fitted by :mod:`jtls.fit`.

    Both extra channels are off at 0 and enter regularly there (a finite,
    non-zero slope: what the likelihood-ratio test of "channel off" and the
    profile intervals assume):

    * ``E_b1`` (K): at T = 1 K, phonons with energies below E_b1 are limited by
      boundary scattering rather than by TLSs.  Gamma_b = B E_b1^2 / 2, i.e.
      ``boundary`` E_b = (E_b1^2 / 2)^(1/(1+mu)) K.  (The TLS rate of
      E tanh(E/2T) n vanishes like E^2/2T for E -> 0, so any boundary rate wins
      for the softest phonons: kappa drops linearly in E_b1, not in Gamma_b.)
    * ``r_R`` (dimensionless): Rayleigh-to-TLS rate ratio of a 1 K phonon at
      T -> 0, Gamma_R = B r_R E^4, i.e. ``rayleigh`` E_R = r_R^(-1/(3-mu)) K.

    Arbitrary units (K^2/[B]); exactly :func:`jtls.observables.thermal_conductivity`
    at E_b1 = r_R = 0.  Pure JAX (jit/vmap/jacfwd/grad).

    Parameters
    ----------
    T : array_like
        Temperatures in K, any shape.
    B : array_like
        DOS prefactor of Eq. (3), K^-(1+mu) (scalar).
    mu : array_like
        DOS power of Eq. (3) (scalar).
    E_b1 : array_like
        Boundary crossover energy at 1 K (K, >= 0; 0 = off).
    r_R : array_like
        Rayleigh ratio (dimensionless, >= 0; 0 = off).

    Returns
    -------
    jax.Array
        kappa in K^2 / [B], shape of ``T``.

    Examples
    --------
    The channels of the :func:`thermal_conductivity_matthiessen` example
    (E_b = 0.1 K, E_R = 5 K at mu = 0):

    >>> import math  # doctest: +SKIP
    >>> import numpy as np  # doctest: +SKIP
    >>> from jtls.observables.matthiessen import kappa_scattering  # doctest: +SKIP
    >>> print(kappa_scattering(np.array([0.1, 1.0]), 1.0, 0.0, E_b1=math.sqrt(0.2), r_R=1 / 125))  # doctest: +SKIP
    [ 0.23000344 25.23738361]
    """
    V.nonnegative_finite("E_b1", E_b1)
    V.nonnegative_finite("r_R", r_R)
    return _kappa_fit(jnp.asarray(T, dtype=float), B, mu, E_b1, r_R)


def crossover_energies(mu: float, E_b1: float = 0.0, r_R: float = 0.0) -> tuple[float, float]:
    """Crossover energies (E_b, E_R) of the fit parameters (E_b1, r_R) of :func:`kappa_scattering`.

    E_b = (E_b1^2 / 2)^(1/(1+mu)) and E_R = r_R^(-1/(3-mu)): the ``boundary``
    and ``rayleigh`` arguments of :func:`thermal_conductivity_matthiessen`.

    Parameters
    ----------
    mu : float
        DOS power of Eq. (3).
    E_b1 : float
        Boundary parameter in K (>= 0; 0 = off).
    r_R : float
        Rayleigh ratio (>= 0; 0 = off).

    Returns
    -------
    (E_b, E_R) : float
        In K; E_b = 0 and E_R = inf for a channel that is off.

    Examples
    --------
    >>> import math
    >>> from jtls.observables.matthiessen import crossover_energies
    >>> E_b, E_R = crossover_energies(0.0, E_b1=math.sqrt(0.2), r_R=1 / 125)
    >>> print(f"{E_b:.6f} K, {E_R:.6f} K")
    0.100000 K, 5.000000 K
    >>> crossover_energies(0.0)
    (0.0, inf)
    """
    Eb = (0.5 * float(E_b1) ** 2) ** (1.0 / (1.0 + mu)) if E_b1 > 0 else 0.0
    ER = float(r_R) ** (-1.0 / (3.0 - mu)) if r_R > 0 else math.inf
    return Eb, ER


# compiled once per input shape/dtype; validation happens before, on concrete values
_kappa_pl_vmapped = jax.jit(jax.vmap(lambda dos, *a: _one_power_law(*a), in_axes=(None, 0, 0, 0, 0, 0)))
_kappa_dos_vmapped = jax.jit(jax.vmap(lambda dos, t, gb, gr: _kappa_extra_1(t, dos, gb, gr),
                                      in_axes=(None, 0, 0, 0)))


def thermal_conductivity_matthiessen_dos(T: ArrayLike, dos: DOSModel, *,
                                         boundary_rate: ArrayLike = 0.0,
                                         rayleigh_rate: ArrayLike = 0.0) -> jax.Array:
    """Eq. (5) for any DOS model with extra rates added to E tanh(E/2T) n(T, E).

    kappa(T) = int E^3 dE / (T^2 sinh^2 tanh n) / (1 + (boundary_rate +
    rayleigh_rate E^4) / (E tanh(E/2T) n(T, E))), same units as
    :func:`jtls.observables.thermal_conductivity_dos` (equal to it for zero rates);
    like it, the integral stops at the model's largest energy ``dos.e_max``.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K (array or list).
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters).
    boundary_rate : array_like
        Gamma_b >= 0 in units of [n] K; broadcasts with T.
    rayleigh_rate : array_like
        g_R >= 0 in units of [n] K^-3 (Gamma_R = g_R E^4); broadcasts with T.

    Returns
    -------
    jax.Array
        kappa in K^2 / [n] (arbitrary units), broadcast shape of the arguments.

    Examples
    --------
    The rates of E_b = 0.1 K and E_R = 5 K for n = 1 (:func:`matthiessen_rates`):

    >>> import numpy as np
    >>> import jtls
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.thermal_conductivity_matthiessen_dos(np.array([0.1, 1.0]), PowerLawDOS(1.0, 0.0),
    ...                                                 boundary_rate=0.1, rayleigh_rate=1 / 125))
    [ 0.23000344 25.23738361]
    """
    c.check(T=T)
    V.nonnegative_finite("boundary_rate", boundary_rate)
    V.nonnegative_finite("rayleigh_rate", rayleigh_rate)
    return _broadcast_apply(_kappa_dos_vmapped, dos, T=T, boundary_rate=boundary_rate,
                            rayleigh_rate=rayleigh_rate)


#: int_0^inf u^4 / sinh^2(u/2) du = 96 zeta(4) = 16 pi^4 / 15: the boundary-limited integral,
#: kappa -> T^3 * BOUNDARY_LIMIT / Gamma_b when boundary scattering dominates.
BOUNDARY_LIMIT = 16.0 * math.pi**4 / 15.0
