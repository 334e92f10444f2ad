"""Resonator observables with the simulated DOS: ``resonator_shift@simulated`` and ``resonator_loss@simulated``.

The models of :mod:`jtls.resonator.models` with the Eq. (3) DOS replaced by
:class:`jtls.simulated.dos.SimulatedDOS` (parameters ``J0_h0`` and ``h0``
instead of ``mu``).  ``F_delta0`` keeps its meaning -- the low-temperature,
low-power loss -- because the DOS is normalised at the resonance energy:
n0 = n(hbar omega, T_low), T_low = the library's lowest temperature (5 mK at
h0 = 10 K), the simulated counterpart of the T = 0 normalisation used with
Eq. (3).  Relaxation (A) and the Mattis-Bardeen quasiparticle terms are
those of the constant-mu models.
"""
from __future__ import annotations

import numpy as np
import jax
import jax.numpy as jnp

from ..resonator.models import _if_relaxation, _loss_guess, _shift_guess
from ..resonator.quasiparticle import frequency_shift_qp, loss_qp
from ..resonator.response import (frequency_shift_relaxation_dos, frequency_shift_tls_dos, loss_relaxation_dos,
                                  loss_tls_dos)
from ..units import omega_to_kelvin
from .observables import _dos, _inside, _ratio_grid


def _n0(dos, omega, h0):
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    return dos(w, dos.t_range[0] * h0)


def resonator_shift(T, F_delta0, J0_h0, h0, Delta, alpha, omega, T_ref=0.1, A=0.0):
    """delta f/f(T) - delta f/f(T_ref): resonant TLS + relaxation + quasiparticles, simulated DOS."""
    T = jnp.asarray(T, dtype=float)
    dos = _dos(J0_h0, h0)
    n0 = _n0(dos, omega, h0)
    tls = frequency_shift_tls_dos(T, dos, omega, F_delta0, T_ref, n0)

    def relax():
        return (frequency_shift_relaxation_dos(T, dos, omega, F_delta0, A, n0)
                - frequency_shift_relaxation_dos(jnp.asarray(T_ref, dtype=float), dos, omega, F_delta0, A, n0))
    rel = _if_relaxation(A, relax, tls)
    return (tls + rel + frequency_shift_qp(T, omega, Delta, alpha, T_ref)) * _inside(T, h0, T_ref)


def resonator_loss(T, F_delta0, J0_h0, h0, P_c_dBm, beta, Delta, alpha, loss_bg, omega, P_dBm, A=0.0):
    """Qi(T) at drive power P_dBm: 1 / (1/Q_TLS + 1/Q_rel + 1/Q_qp + loss_bg), simulated DOS."""
    T = jnp.asarray(T, dtype=float)
    dos = _dos(J0_h0, h0)
    n0 = _n0(dos, omega, h0)
    p_rel = jnp.power(10.0, (P_dBm - P_c_dBm) / 10.0)
    tls = loss_tls_dos(T, dos, omega, F_delta0, P=p_rel, P_c=1.0, beta=beta, n0=n0)
    rel = _if_relaxation(A, lambda: loss_relaxation_dos(T, dos, omega, F_delta0, A, n0), tls)
    total = tls + rel + loss_qp(T, omega, Delta, alpha) + loss_bg
    return 1.0 / total * _inside(T, h0)


@jax.jit
def _tls_shift_shapes(T, omega, T_ref, ratios, h0):
    return jax.vmap(lambda r: resonator_shift(T, 1.0, r, h0, 10.0, 0.0, omega, T_ref))(ratios)


@jax.jit
def _tls_loss_shapes(T, omega, P_rel, beta, ratios, h0):
    def one(r):
        dos = _dos(r, h0)
        return loss_tls_dos(T, dos, omega, 1.0, P=P_rel, P_c=1.0, beta=beta, n0=_n0(dos, omega, h0))
    return jax.vmap(one)(ratios)


def shift_guess(T, y, ctx):
    """The constant-mu guess for Delta; a scan of J0_h0 with linear least squares for (F_delta0, alpha, offset)."""
    base = _shift_guess(T, y, ctx)
    T = np.asarray(T, float)
    y = np.asarray(y, float)
    h0 = float(ctx.get("h0", 10.0))
    ratios = np.asarray(_ratio_grid(T, ctx), float)
    tls = np.asarray(_tls_shift_shapes(T, ctx["omega"], ctx.get("T_ref", 0.1), ratios, h0))
    qp = np.asarray(frequency_shift_qp(T, ctx["omega"], base["Delta"], 1.0, ctx.get("T_ref", 0.1)))
    best, cost = None, np.inf
    for i, r in enumerate(ratios):
        M = np.stack([tls[i], qp, np.ones_like(T)], 1)
        coef, *_ = np.linalg.lstsq(M, y, rcond=None)
        if coef[0] <= 0 or coef[1] < 0:
            continue
        c = float(np.sum((M @ coef - y) ** 2))
        if c < cost:
            best, cost = {"F_delta0": coef[0], "J0_h0": float(r), "Delta": base["Delta"], "alpha": coef[1],
                          "offset": coef[2]}, c
    if best is None:
        best = {k: v for k, v in base.items() if k != "mu"} | {"J0_h0": float(ratios[len(ratios) // 2])}
    return best | {"h0": h0}


def loss_guess(T, y, ctx):
    """The constant-mu guess for (P_c, beta, Delta); a scan of J0_h0 with NNLS for (F_delta0, alpha, loss_bg)."""
    from scipy.optimize import nnls
    base = _loss_guess(T, y, ctx)
    T = np.asarray(T, float)
    loss = 1.0 / np.asarray(y, float)
    h0 = float(ctx.get("h0", 10.0))
    ratios = np.asarray(_ratio_grid(T, ctx), float)
    p_rel = 10.0 ** ((ctx["P_dBm"] - base["P_c_dBm"]) / 10.0)
    tls = np.asarray(_tls_loss_shapes(T, ctx["omega"], p_rel, base["beta"], ratios, h0))
    qp = np.asarray(loss_qp(T, ctx["omega"], base["Delta"], 1.0))
    best, cost = None, np.inf
    for i, r in enumerate(ratios):
        M = np.stack([tls[i], qp, np.ones_like(T)], 1) / loss[:, None]
        coef, res = nnls(M, np.ones_like(T))
        if coef[0] > 0 and res < cost:
            best, cost = {"F_delta0": coef[0], "J0_h0": float(r), "alpha": max(coef[1], 1e-6),
                          "loss_bg": max(coef[2], 1e-3 * loss.min())}, res
    out = {k: v for k, v in base.items() if k != "mu"} | {"J0_h0": float(ratios[len(ratios) // 2])}
    return out | (best or {}) | {"h0": h0}


def register_resonator(name, full, common, rb):
    from ..fit.model import register_observable
    from ..resonator.models import INF
    if name == "resonator_shift":
        return register_observable(
            full, resonator_shift, ("F_delta0", "J0_h0", "h0", "Delta", "alpha"),
            context=("omega", "T_ref", "A"), context_defaults={"T_ref": 0.1, "A": 0.0}, relative=True,
            bounds={"F_delta0": (0.0, INF), "Delta": (0.0, INF), "alpha": (0.0, 1.0), **rb},
            defaults={"F_delta0": 1e-6, "J0_h0": 0.2, "h0": 10.0, "Delta": 15.0, "alpha": 0.01},
            guess=shift_guess, quantity="delta f / f0", static_context=("A",),
            description="resonator frequency shift with the simulated DOS of Hamiltonian (2) + relaxation "
                        "+ Mattis-Bardeen quasiparticles", **common)
    return register_observable(
        full, resonator_loss, ("F_delta0", "J0_h0", "h0", "P_c_dBm", "beta", "Delta", "alpha", "loss_bg"),
        context=("omega", "P_dBm", "A"), context_defaults={"A": 0.0}, positive=True,
        bounds={"F_delta0": (0.0, INF), "beta": (0.0, 2.0), "Delta": (0.0, INF), "alpha": (0.0, 1.0),
                "loss_bg": (0.0, INF), **rb},
        defaults={"F_delta0": 1e-6, "J0_h0": 0.2, "h0": 10.0, "P_c_dBm": -120.0, "beta": 1.0, "Delta": 15.0,
                  "alpha": 0.01, "loss_bg": 1e-8},
        guess=loss_guess, quantity="Qi", static_context=("A",),
        description="resonator Qi with the simulated DOS of Hamiltonian (2) (power saturation) + relaxation "
                    "+ quasiparticles + background", **common)


__all__ = ["resonator_shift", "resonator_loss", "register_resonator"]
