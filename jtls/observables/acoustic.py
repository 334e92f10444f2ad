"""Sound velocity, dielectric constant and losses (Churkin et al. 2021, Eqs. 7, 8, A2).

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

Dielectric constant: d eps/eps = -(the velocity expression) with C -> C_dip,
the magnitude of the logarithmic slope of eps(T) (the paper's App. C and
Fig. 5b).  The loss tangent is Im(d eps/eps): because eps enters linearly
while v ~ sqrt(M) (dv/v = (1/2) dM/M), tan delta is *half* the Q^-1
expression with C -> C_dip: resonant tan delta = (pi/2) C_dip tanh(hbar w/2T)
(the low-temperature, low-power loss delta0 = (pi/2) C_dip that App. C
writes as tan delta), relaxation plateau (pi/4) C_dip.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from .. import units
from ..dos import PowerLawDOS
from ..quadrature import panel_nodes, reduced_grid, geometric_edges
from . import _common as c
from ._kernels import (fermi_tail, relaxation_kernel, sech2_half, tanh_half_over_u,
                       u_coth_half)

# ------------------------------------------------------------------ resonant

#: Start of the analytic tail of K(mu) (tanh(u/2) = 1 to 1e-34 beyond it).
_U_TAIL = 80.0


def resonant_constant(mu):
    """K(mu) = int_0^inf (1+u^2)^(mu/2) [tanh(u/2)/u - u/(1+u^2)] du (dimensionless).

    The bracket is rewritten as [tanh(u/2) - u^2 (1 - tanh(u/2))] / (u (1+u^2))
    to avoid cancellation; [0, 80] by quadrature, the tail analytically as
    sum_k binom(mu/2-1, k) t0^(2-mu+2k)/(2-mu+2k), t0 = 1/80.  K(0) = ln 2 + gamma_E - ln pi + ...
    (checked against mpmath in the tests).
    """
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


def velocity_shift_resonant(T, C, mu, T_ref=1.0):
    """Eq. (7), dv_res(T)/v - dv_res(T_ref)/v, for the Eq. (3) DOS (dimensionless).

    Equals C (T^mu - T_ref^mu)(1/mu - K(mu)); for mu = 0 exactly C ln(T/T_ref).
    T, T_ref in K; C = P0 gamma^2/(rho v^2); shapes broadcast.
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


def velocity_shift_resonant_dos(T, dos, C=1.0, T_ref=1.0):
    """Eq. (7) for any DOS model, relative to T_ref (dimensionless).

    -C int_0^Emax [n(T,E) tanh(E/2T) - n(T_ref,E) tanh(E/2T_ref)] dE/E with
    Emax = min(dos.e_max, 1e8 max(T, T_ref)) (for a tabulated DOS its largest
    energy; for analytic models the integrand beyond is negligible unless n
    grows like E^mu with mu >= 1).  ``dos`` is scaled by C.
    """
    c.check(T=T, T_ref=T_ref)
    c.amplitudes(C=C)
    return c.batched(_resonant_dos_e, dos, T=T, C=C, T_ref=T_ref)


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


def velocity_shift_relaxation_dos(T, dos, A, omega, C=1.0):
    """Eq. (8) for any DOS model (dimensionless, absolute; -> 0 as T -> 0)."""
    c.check(T=T, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_dos_e, dos, T=T, C=C, A=A, omega=omega)


def velocity_shift_relaxation(T, C, mu, A, omega):
    """Eq. (8) with the Eq. (3) DOS: dv_rel/v (dimensionless, -> 0 as T -> 0).

    T in K, C = P0 gamma^2/(rho v^2), mu the DOS power, A in s^-1 K^-3,
    omega in rad/s; shapes broadcast.
    """
    c.check(T=T, mu=mu, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_pl_e, T=T, C=C, mu=mu, A=A, omega=omega)


def velocity_shift(T, C, mu, A, omega, T_ref=1.0):
    """Total dv/v(T) = [dv_res(T) - dv_res(T_ref)] + dv_rel(T), Eqs. (7) + (8), Eq. (3) DOS."""
    return velocity_shift_resonant(T, C, mu, T_ref) + velocity_shift_relaxation(T, C, mu, A, omega)


def velocity_shift_dos(T, dos, A, omega, C=1.0, T_ref=1.0):
    """Total dv/v(T) of Eqs. (7) + (8) for any DOS model (resonant part relative to T_ref)."""
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


def velocity_shift_relaxation_A2_dos(T, dos, A, omega, C=1.0):
    """App. A, Eq. (A2): the relaxation term with n(T, E sqrt(1-x^2)) inside the x-integral."""
    c.check(T=T, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_a2_dos_e, dos, T=T, C=C, A=A, omega=omega)


def velocity_shift_relaxation_A2(T, C, mu, A, omega):
    """Eq. (A2) with the Eq. (3) DOS (dimensionless); equals Eq. (8) for mu = 0."""
    c.check(T=T, mu=mu, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_relaxation_a2_pl_e, T=T, C=C, mu=mu, A=A, omega=omega)


# -------------------------------------------------------------------- losses

def _loss_1(T, dos, A, omega):
    rel = 2.0 * jnp.imag(_relaxation_1(T, dos, A, omega))
    e = units.HBAR_OVER_KB * omega
    res = math.pi * dos(e, T) * jnp.tanh(0.5 * e / T)
    return rel + res


def internal_friction_dos(T, dos, A, omega, C=1.0):
    """Acoustic absorption Q^-1(T) = relaxation + resonant (low intensity), any DOS model."""
    c.check(T=T, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_loss_dos_e, dos, T=T, C=C, A=A, omega=omega)


def internal_friction(T, C, mu, A, omega):
    """Q^-1(T) with the Eq. (3) DOS: 2C int shape/(2T cosh^2) Im G dE + pi C shape(T, hbar w) tanh.

    STM (mu = 0) plateau for omega tau_min << 1: (pi/2) C.
    """
    c.check(T=T, mu=mu, A=A, omega=omega)
    c.amplitudes(C=C)
    return c.batched(_loss_pl_e, T=T, C=C, mu=mu, A=A, omega=omega)


# ---------------------------------------------------------------- dielectric

def dielectric_shift_resonant(T, C_dip, mu, T_ref=1.0):
    """d eps/eps resonant part relative to T_ref: -velocity_shift_resonant with C -> C_dip."""
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_resonant(T, C_dip, mu, T_ref)


def dielectric_shift_relaxation(T, C_dip, mu, A, omega):
    """d eps/eps relaxation part: -velocity_shift_relaxation with C -> C_dip."""
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_relaxation(T, C_dip, mu, A, omega)


def dielectric_shift(T, C_dip, mu, A, omega, T_ref=1.0):
    """Total d eps/eps(T) (minimum where the velocity has its maximum)."""
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift(T, C_dip, mu, A, omega, T_ref)


def dielectric_shift_dos(T, dos, A, omega, C_dip=1.0, T_ref=1.0):
    """Total d eps/eps(T) for any DOS model."""
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_dos(T, dos, A, omega, C_dip, T_ref)


def dielectric_shift_resonant_dos(T, dos, C_dip=1.0, T_ref=1.0):
    """d eps/eps resonant part relative to T_ref, any DOS model."""
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_resonant_dos(T, dos, C_dip, T_ref)


def dielectric_shift_relaxation_dos(T, dos, A, omega, C_dip=1.0):
    """d eps/eps relaxation part, any DOS model."""
    c.amplitudes(C_dip=C_dip)
    return -velocity_shift_relaxation_dos(T, dos, A, omega, C_dip)


def loss_tangent_dos(T, dos, A, omega, C_dip=1.0):
    """Dielectric loss tan delta(T) = Im(d eps/eps) for any DOS model (half the Q^-1 form)."""
    c.amplitudes(C_dip=C_dip)
    return 0.5 * internal_friction_dos(T, dos, A, omega, C_dip)


def loss_tangent(T, C_dip, mu, A, omega):
    """Dielectric loss tan delta(T) = Im(d eps/eps), Eq. (3) DOS.

    Half the Q^-1 expression with C -> C_dip: resonant part
    (pi/2) C_dip shape(T, hbar w) tanh(hbar w/2T) (-> delta0 = (pi/2) C_dip at
    low T, the tan delta of the paper's App. C), relaxation plateau (pi/4) C_dip.
    """
    c.amplitudes(C_dip=C_dip)
    return 0.5 * internal_friction(T, C_dip, mu, A, omega)


# element functions handed to _common.batched (module level so compilations are cached)
def _resonant_dos_e(dos, t, cc, tr):
    return _resonant_dos_1(t, dos, cc, tr)


def _relaxation_dos_e(dos, t, cc, a, om):
    return -cc * jnp.real(_relaxation_1(t, dos, a, om))


def _relaxation_pl_e(t, cc, m, a, om):
    return -cc * jnp.real(_relaxation_1(t, PowerLawDOS(1.0, m), a, om))


def _relaxation_a2_dos_e(dos, t, cc, a, om):
    return -cc * _relaxation_a2_1(t, dos, a, om)


def _relaxation_a2_pl_e(t, cc, m, a, om):
    return -cc * _relaxation_a2_1(t, PowerLawDOS(1.0, m), a, om)


def _loss_dos_e(dos, t, cc, a, om):
    return cc * _loss_1(t, dos, a, om)


def _loss_pl_e(t, cc, m, a, om):
    return cc * _loss_1(t, PowerLawDOS(1.0, m), a, om)
