"""Complete resonator models (TLS + relaxation + quasiparticles + background) and
their registration with the fitting engine as ``resonator_shift`` and
``resonator_loss``.

resonator_shift(T; F_delta0, mu, Delta, alpha | omega, T_ref, A)
    delta f/f(T) - delta f/f(T_ref): resonant TLS response with the Eq. (3)
    DOS normalised at hbar omega (mu = 0: standard tunneling model, digamma
    form), plus the relaxation term (A in s^-1 K^-3; A = 0, the default,
    switches it off), plus the Mattis-Bardeen quasiparticle shift (gap Delta
    in K, kinetic-inductance fraction alpha; alpha = 0 switches it off, and a
    fit then holds Delta too: :data:`QP_OFF`).  The fit engine adds a free
    ``offset`` (relative data).

resonator_loss(T; F_delta0, mu, P_c_dBm, beta, Delta, alpha, loss_bg | omega, P_dBm, A)
    Internal quality factor Qi = 1 / (1/Q_TLS + 1/Q_rel + 1/Q_qp + loss_bg) with
    1/Q_TLS = F delta0 [n(T, w)/n0] tanh(w/2T) / (1 + 10^((P_dBm - P_c_dBm)/10))^(beta/2).
    Positive data spanning decades: the engine fits ln Qi.

mu is bounded to [0, 1] in both registrations, as for every observable of
:mod:`jtls.fit` (velocity, dielectric, thermal_conductivity, ...), and mu = 0
(the standard tunneling model) is a physical bound: a fit that ends there
reports an upper limit of mu and the boundary test of mu = 0.

All functions are pure JAX (jit/vmap/jacfwd-safe); T in K, omega in rad/s.
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp

from .quasiparticle import frequency_shift_qp, loss_qp
from .response import (frequency_shift_relaxation_dos, frequency_shift_tls, loss_relaxation_dos,
                       loss_tls, resonator_power_law_dos)

INF = math.inf


def resonator_shift(T, F_delta0, mu, Delta, alpha, omega, T_ref=0.1, A=0.0):
    """delta f/f(T) - delta f/f(T_ref) = TLS resonant + relaxation + quasiparticle terms.

    T: (n,) K.  F_delta0: filling x loss tangent.  mu: DOS power (Eq. 3).
    Delta: gap (K).  alpha: kinetic-inductance fraction.  omega: rad/s.
    T_ref: reference temperature (K).  A: relaxation constant (s^-1 K^-3).
    """
    parts = resonator_shift_parts(T, F_delta0, mu, Delta, alpha, omega, T_ref, A)
    return parts["tls_resonant"] + parts["tls_relaxation"] + parts["quasiparticle"]


def _if_relaxation(A, fn, like):
    """fn() when A > 0, else zeros.

    A Python number (the fit passes A as a static setting) or a concrete
    scalar array decides in Python, so at A = 0 the relaxation quadrature is
    not even compiled; a traced
    scalar decides with ``lax.cond`` (the quadrature costs nothing at A = 0)."""
    if isinstance(A, (int, float)):
        return fn() if A > 0 else jnp.zeros_like(like)
    if not isinstance(A, jax.core.Tracer) and np.ndim(A) == 0:
        # a concrete array (e.g. jtls.fit.predict passes the settings as arrays): decide in Python
        # too -- inside lax.cond the relaxation term's input checks would see tracers
        return fn() if float(A) > 0 else jnp.zeros_like(like)
    A = jnp.asarray(A, dtype=float)
    if A.ndim == 0:
        return jax.lax.cond(A > 0, fn, lambda: jnp.zeros_like(like))
    return fn()


def resonator_shift_parts(T, F_delta0, mu, Delta, alpha, omega, T_ref=0.1, A=0.0):
    """dict of the components of :func:`resonator_shift` (each relative to T_ref)."""
    T = jnp.asarray(T, dtype=float)
    dos = resonator_power_law_dos(mu, omega)
    tls = frequency_shift_tls(T, omega, F_delta0, mu, T_ref)

    def relax():
        return (frequency_shift_relaxation_dos(T, dos, omega, F_delta0, A, n0=1.0)
                - frequency_shift_relaxation_dos(jnp.asarray(T_ref, dtype=float), dos, omega,
                                                 F_delta0, A, n0=1.0))
    rel = _if_relaxation(A, relax, tls)
    return {"tls_resonant": tls,
            "tls_relaxation": rel,
            "quasiparticle": frequency_shift_qp(T, omega, Delta, alpha, T_ref)}


def resonator_loss_parts(T, F_delta0, mu, P_c_dBm, beta, Delta, alpha, loss_bg, omega, P_dBm,
                         A=0.0):
    """dict of the loss components 1/Q (dimensionless) at drive power P_dBm."""
    T = jnp.asarray(T, dtype=float)
    p_rel = jnp.power(10.0, (P_dBm - P_c_dBm) / 10.0)
    dos = resonator_power_law_dos(mu, omega)
    tls = loss_tls(T, omega, F_delta0, mu, P=p_rel, P_c=1.0, beta=beta)
    rel = _if_relaxation(A, lambda: loss_relaxation_dos(T, dos, omega, F_delta0, A, n0=1.0), tls)
    return {"tls_resonant": tls,
            "tls_relaxation": rel,
            "quasiparticle": loss_qp(T, omega, Delta, alpha),
            "background": loss_bg * jnp.ones_like(T)}


def resonator_loss(T, F_delta0, mu, P_c_dBm, beta, Delta, alpha, loss_bg, omega, P_dBm, A=0.0):
    """Internal quality factor Qi(T) at drive power P_dBm (see module docstring)."""
    parts = resonator_loss_parts(T, F_delta0, mu, P_c_dBm, beta, Delta, alpha, loss_bg, omega,
                                 P_dBm, A)
    return 1.0 / sum(parts.values())


# ---------------------------------------------------------------- guesses

_MU_GRID_SHIFT = (0.0, 0.15, 0.35)
_MU_GRID_LOSS = (0.0, 0.3)


def _delta_grid(T):
    tmax = float(np.max(T))
    return np.array([tmax * f for f in (4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0)])


@jax.jit
def _shift_shapes(T, omega, T_ref, mus, deltas):
    """TLS shapes (n_mu, n) at F delta0 = 1 and qp shapes (n_Delta, n) at alpha = 1."""
    tls = jax.vmap(lambda m: frequency_shift_tls(T, omega, 1.0, m, T_ref))(mus)
    qp = frequency_shift_qp(T[None, :], omega, deltas[:, None], 1.0, T_ref)
    return tls, qp


@jax.jit
def _loss_shapes(T, omega, P_rel, beta, mus, deltas):
    """TLS loss shapes (n_mu, n) at F delta0 = 1 and qp loss shapes (n_Delta, n) at alpha = 1."""
    tls = jax.vmap(lambda m: loss_tls(T, omega, 1.0, m, P=P_rel, P_c=1.0, beta=beta))(mus)
    qp = loss_qp(T[None, :], omega, deltas[:, None], 1.0)
    return tls, qp


def _shift_guess(T, y, ctx):
    """Grid over (mu, Delta); linear least squares for (F_delta0, alpha, offset)."""
    T = np.asarray(T, float)
    y = np.asarray(y, float)
    mus, deltas = np.array(_MU_GRID_SHIFT), _delta_grid(T)
    tls, qp = (np.asarray(a) for a in _shift_shapes(T, ctx["omega"], ctx.get("T_ref", 0.1),
                                                     mus, deltas))
    best, cost = {}, np.inf
    for i, mu in enumerate(mus):
        for j, D in enumerate(deltas):
            M = np.stack([tls[i], qp[j], np.ones_like(T)], 1)
            coef, *_ = np.linalg.lstsq(M, y, rcond=None)
            if coef[0] <= 0 or coef[1] < 0:
                continue
            c = float(np.sum((M @ coef - y) ** 2))
            if c < cost:
                best, cost = {"F_delta0": coef[0], "mu": float(mu), "Delta": float(D),
                              "alpha": coef[1], "offset": coef[2]}, c
    return best or {"F_delta0": 1e-6, "mu": 0.1, "Delta": 15.0, "alpha": 0.01, "offset": 0.0}


def _loss_guess(T, y, ctx):
    """Grid over (mu, Delta); non-negative least squares on relative loss residuals for
    (F_delta0, alpha, loss_bg), with P_c 10 dB below the drive power and beta = 0.5."""
    from scipy.optimize import nnls
    T = np.asarray(T, float)
    loss = 1.0 / np.asarray(y, float)
    p = ctx["P_dBm"]
    beta, pc = 0.5, p - 10.0
    mus, deltas = np.array(_MU_GRID_LOSS), _delta_grid(T)
    tls, qp = (np.asarray(a) for a in _loss_shapes(T, ctx["omega"], 10.0 ** ((p - pc) / 10.0),
                                                    beta, mus, deltas))
    best, cost = {}, np.inf
    for i, mu in enumerate(mus):
        for j, D in enumerate(deltas):
            M = np.stack([tls[i], qp[j], np.ones_like(T)], 1) / loss[:, None]
            coef, res = nnls(M, np.ones_like(T))
            if res < cost and coef[0] > 0:
                best, cost = {"F_delta0": coef[0], "mu": float(mu), "Delta": float(D),
                              "alpha": max(coef[1], 1e-6), "loss_bg": max(coef[2], 1e-3 * loss.min()),
                              "P_c_dBm": pc, "beta": beta}, res
    return best or {"F_delta0": float(loss.max()), "mu": 0.1, "P_c_dBm": p, "beta": 0.5,
                    "Delta": 15.0, "alpha": 0.01, "loss_bg": 0.1 * float(loss.min())}


# ---------------------------------------------------------------- registration

#: Settings that switch the quasiparticle term off: alpha = 0 makes it vanish identically
#: (whatever Delta), so Delta is held too -- at a value without effect -- instead of being a
#: parameter the data cannot determine (``jtls fit --no-qp`` or ``--fix alpha=0``).
QP_OFF = {"alpha": 0.0, "Delta": 15.0}


def check_quasiparticles(T, held, context):
    """``validate`` hook: alpha held at 0 with Delta free would be a singular fit; say what to do."""
    if held.get("alpha") == 0.0 and "Delta" not in held:
        raise ValueError("alpha = 0 switches the quasiparticle term off, so its gap Delta cannot be "
                         f"fitted: hold Delta too, e.g. fixed={QP_OFF} (jtls.resonator.QP_OFF; on the "
                         "command line --no-qp or --fix alpha=0 do this)")


def register(overwrite: bool = True):
    """Register ``resonator_shift`` and ``resonator_loss`` with :mod:`jtls.fit`."""
    from ..fit import register_observable
    register_observable(
        "resonator_shift", resonator_shift, ("F_delta0", "mu", "Delta", "alpha"),
        context=("omega", "T_ref", "A"), context_defaults={"T_ref": 0.1, "A": 0.0},
        relative=True,
        bounds={"F_delta0": (0.0, INF), "mu": (0.0, 1.0), "Delta": (0.0, INF),
                "alpha": (0.0, 1.0)},
        defaults={"F_delta0": 1e-6, "mu": 0.1, "Delta": 15.0, "alpha": 0.01},
        guess=_shift_guess, quantity="delta f / f0", static_context=("A",),
        validate=check_quasiparticles,
        description="resonator frequency shift: TLS (Eq. 3 DOS, finite hbar omega) + relaxation "
                    "+ Mattis-Bardeen quasiparticles", overwrite=overwrite)
    register_observable(
        "resonator_loss", resonator_loss,
        ("F_delta0", "mu", "P_c_dBm", "beta", "Delta", "alpha", "loss_bg"),
        context=("omega", "P_dBm", "A"), context_defaults={"A": 0.0}, positive=True,
        bounds={"F_delta0": (0.0, INF), "mu": (0.0, 1.0), "beta": (0.0, 2.0),
                "Delta": (0.0, INF), "alpha": (0.0, 1.0), "loss_bg": (0.0, INF)},
        defaults={"F_delta0": 1e-6, "mu": 0.1, "P_c_dBm": -120.0, "beta": 1.0, "Delta": 15.0,
                  "alpha": 0.01, "loss_bg": 1e-8},
        guess=_loss_guess, quantity="Qi", static_context=("A",),
        validate=check_quasiparticles,
        description="resonator internal quality factor: TLS loss (Eq. 3 DOS, power saturation) "
                    "+ relaxation + Mattis-Bardeen quasiparticles + background", overwrite=overwrite)



def loss_joint_guess(curves, omega, mu=0.0):
    """Starting values for a joint Qi fit of several drive powers.

    ``curves``: sequence of (T, Qi, P_dBm).  Scans Delta, P_c_dBm and beta on
    grids and solves for (F_delta0, alpha, loss_bg) >= 0 by non-negative least
    squares on the relative loss residuals of all curves together.
    Returns {name: value} for the seven shared parameters.
    """
    from scipy.optimize import nnls
    Ts = [np.asarray(c[0], float) for c in curves]
    losses = [1.0 / np.asarray(c[1], float) for c in curves]
    Ps = [float(c[2]) for c in curves]
    T_all = np.concatenate(Ts)
    l_all = np.concatenate(losses)
    pmin, pmax = min(Ps), max(Ps)
    best, cost = None, np.inf
    deltas = _delta_grid(T_all)
    P_all = np.concatenate([np.full(T.shape, p) for T, p in zip(Ts, Ps)])
    for pc in np.arange(pmin - 20.0, pmax + 1.0, 10.0):
        for beta in (0.2, 0.4, 0.7, 1.0):
            tls, qps = _loss_shapes(T_all, omega, 10.0 ** ((P_all - pc) / 10.0), beta,
                                    np.array([mu]), deltas)
            tls = np.asarray(tls[0])
            for D, qpv in zip(deltas, np.asarray(qps)):
                M = np.stack([tls, qpv, np.ones_like(T_all)], 1) / l_all[:, None]
                coef, res = nnls(M, np.ones_like(T_all))
                if res < cost and coef[0] > 0:
                    best, cost = {"F_delta0": coef[0], "mu": mu, "P_c_dBm": float(pc),
                                  "beta": beta, "Delta": float(D), "alpha": max(coef[1], 1e-6),
                                  "loss_bg": max(coef[2], 1e-3 * l_all.min())}, res
    if best is None:
        raise ValueError("loss_joint_guess: no admissible starting point (check the data)")
    return best
