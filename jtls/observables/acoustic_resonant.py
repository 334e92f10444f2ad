"""Resonant sound-velocity shift (Churkin et al. 2021, Eq. 7), relative to a reference temperature.

The resonant part of :mod:`jtls.observables.acoustic` (conventions, and the
closed form of Eq. (7) for the Eq. (3) DOS, in its module docstring): the
constant K(mu) of the closed form and the shift with the Eq. (3) DOS or any
DOS model.  The sum with the relaxation part is
:func:`jtls.observables.acoustic.velocity_shift`.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..dos import DOSModel
from ..quadrature import panel_nodes, reduced_grid, geometric_edges
from . import _common as c
from ._kernels import fermi_tail, tanh_half_over_u


#: Start of the analytic tail of K(mu) (tanh(u/2) = 1 to 1e-34 beyond it).
_U_TAIL = 80.0


def resonant_constant(mu: ArrayLike) -> jax.Array:
    """K(mu) = int_0^inf (1+u^2)^(mu/2) [tanh(u/2)/u - u/(1+u^2)] du (dimensionless).

    The constant of the closed form of Eq. (7) with the Eq. (3) DOS,
    dv_res(T) - dv_res(T_ref) = C (T^mu - T_ref^mu) (1/mu - K(mu)).
    The bracket is rewritten as [tanh(u/2) - u^2 (1 - tanh(u/2))] / (u (1+u^2))
    to avoid cancellation; [0, 80] by quadrature, the tail analytically as
    sum_k binom(mu/2-1, k) t0^(2-mu+2k)/(2-mu+2k), t0 = 1/80.
    K(0) = ln 2 + gamma_E - ln pi (checked against mpmath in the tests).

    Parameters
    ----------
    mu : array_like
        DOS power of Eq. (3), any shape.

    Returns
    -------
    jax.Array
        K(mu), shape of ``mu``.

    Examples
    --------
    >>> import math  # doctest: +SKIP
    >>> import jtls  # doctest: +SKIP
    >>> print(jtls.resonant_constant([0.0, 0.2]))  # doctest: +SKIP
    [0.12563296 0.13360451]
    >>> print(f"{math.log(2) + 0.5772156649015329 - math.log(math.pi):.8f}")  # doctest: +SKIP
    0.12563296
    """
    c.present(mu=mu)
    c.check(mu=mu)        # concrete mu: numeric, finite, in [MU_MIN, MU_MAX] (K diverges at mu >= 2)
    mu = jnp.asarray(mu)
    u_np, w_np = reduced_grid()
    u = jnp.asarray(u_np, dtype=mu.dtype)
    w = jnp.asarray(w_np, dtype=mu.dtype)
    bracket = (tanh_half_over_u(u) - u * fermi_tail(u)) / (1.0 + u * u)
    shape = jnp.exp(0.5 * mu[..., None] * jnp.log1p(u * u))
    body = jnp.sum(w * shape * bracket, axis=-1)
    t0 = 1.0 / _U_TAIL
    a = 0.5 * mu - 1.0
    coef = jnp.ones_like(mu)
    tail = jnp.zeros_like(mu)
    for k in range(8):
        if k > 0:
            coef = coef * (a - k + 1.0) / k
        p = 2.0 - mu + 2.0 * k
        tail = tail + coef * jnp.exp(p * math.log(t0)) / p
    return body + tail


def _expm1_over(mu, L):
    """(exp(mu L) - 1)/mu, smooth through mu = 0 (value and derivatives)."""
    x = mu * L
    small = jnp.abs(x) < 1e-4
    mus = jnp.where(small, 1.0, mu)
    series = L * (1.0 + x / 2.0 + x * x / 6.0 + x * x * x / 24.0)
    return jnp.where(small, series, jnp.expm1(mus * L) / mus)


def _resonant_power_1(T, C, mu, T_ref):
    L = jnp.log(T / T_ref)
    scale = jnp.exp(mu * jnp.log(T_ref))
    e = _expm1_over(mu, L)
    return C * scale * (e - mu * e * resonant_constant(mu))


def velocity_shift_resonant(T: ArrayLike, C: ArrayLike, mu: ArrayLike,
                            T_ref: ArrayLike = 1.0) -> jax.Array:
    """Resonant sound-velocity shift of Eq. (7) with the Eq. (3) DOS, relative to T_ref.

    dv_res(T)/v - dv_res(T_ref)/v = C (T^mu - T_ref^mu) (1/mu - K(mu))
    (:func:`resonant_constant`); for mu = 0 exactly C ln(T/T_ref), the
    standard tunneling model's logarithm.

    Parameters
    ----------
    T : array_like
        Temperature(s) in K.
    C : array_like
        Tunneling strength P0 gamma^2/(rho v^2) (dimensionless, >= 0).
    mu : array_like
        DOS power of Eq. (3).
    T_ref : array_like
        Reference temperature in K where the shift is 0.  All arguments broadcast.

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> print(jtls.velocity_shift_resonant([0.05, 0.5], C=3.2e-4, mu=0.0))
    [-0.00095863 -0.00022181]
    >>> print(3.2e-4 * np.log([0.05, 0.5]))                       # C ln(T / T_ref)
    [-0.00095863 -0.00022181]
    """
    c.check(T=T, mu=mu, T_ref=T_ref)
    c.amplitudes(C=C)
    return c.batched(_resonant_power_1, T=T, C=C, mu=mu, T_ref=T_ref)


_RES_PANELS = 48


def _resonant_dos_1(T, dos, C, T_ref):
    lo = 1e-10 * jnp.minimum(T, T_ref)
    hi = jnp.minimum(1e8 * jnp.maximum(T, T_ref), dos.e_max)
    edges = jax.lax.stop_gradient(geometric_edges(lo, hi, _RES_PANELS))
    E, w = panel_nodes(edges, 16)
    f = (dos(E, T) * tanh_half_over_u(E / T) / T
         - dos(E, T_ref) * tanh_half_over_u(E / T_ref) / T_ref)
    return -C * jnp.sum(w * f)


def velocity_shift_resonant_dos(T: ArrayLike, dos: DOSModel, C: ArrayLike = 1.0,
                                T_ref: ArrayLike = 1.0) -> jax.Array:
    """Resonant sound-velocity shift of Eq. (7) for any DOS model, relative to T_ref.

    -C int_0^Emax [n(T,E) tanh(E/2T) - n(T_ref,E) tanh(E/2T_ref)] dE/E with
    Emax = min(dos.e_max, 1e8 max(T, T_ref)) (for a tabulated DOS its largest
    energy; for analytic models the integrand beyond is negligible unless n
    grows like E^mu with mu >= 1).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K, any shape.
    dos : DOSModel
        A model of :mod:`jtls.dos` (scalar parameters); C n(T, E) plays the
        role of (1/L0)(gamma^2/rho v^2) n(T, E) of Eq. (7).
    C : array_like
        Scale of the DOS (dimensionless, >= 0; scalar).
    T_ref : array_like
        Reference temperature in K (scalar).

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless), shape of ``T``.

    Examples
    --------
    >>> import jtls
    >>> from jtls.dos import PowerLawDOS
    >>> print(jtls.velocity_shift_resonant_dos([0.05, 0.5], PowerLawDOS(1.0, 0.1), C=3.2e-4))
    [-0.00081768 -0.00021153]
    >>> print(jtls.velocity_shift_resonant([0.05, 0.5], 3.2e-4, 0.1))     # the same DOS
    [-0.00081768 -0.00021153]
    """
    c.check(T=T, T_ref=T_ref)
    c.amplitudes(C=C)
    return c.batched(_resonant_dos_e, dos, T=T, C=C, T_ref=T_ref)


# element function handed to _common.batched (module level so compilations are cached)
def _resonant_dos_e(dos, t, cc, tr):
    return _resonant_dos_1(t, dos, cc, tr)
