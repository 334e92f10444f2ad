"""Resonator TLS terms with the Eq. (3) DOS when mu or omega are arrays (elementwise).

:func:`jtls.resonator.frequency_shift_tls` and :func:`jtls.resonator.loss_tls`
build one :class:`jtls.dos.PowerLawDOS` with scalar parameters; with an array
mu or omega its parameters did not broadcast against the quadrature nodes.
Here the arguments are broadcast first and the DOS parameters get a trailing
axis, so every element uses its own (mu, hbar omega).
"""
from __future__ import annotations

import math

import jax.numpy as jnp

from .. import _validate as V
from ..dos import PowerLawDOS
from ..units import omega_to_kelvin


def _checked(T, omega, F_delta0, mu, **more):
    V.in_domain("T", T, "K")
    V.in_domain("omega", omega, "rad/s")
    V.amplitude("F_delta0", F_delta0)
    V.mu_in_range("mu", mu)
    V.broadcastable(T=T, omega=omega, F_delta0=F_delta0, mu=mu, **more)


def frequency_shift_tls_broadcast(T, omega, F_delta0, mu, T_ref):
    """frequency_shift_tls for array mu and/or omega: broadcast shape of all arguments."""
    from .response import _response_diff_jit
    V.in_domain("T_ref", T_ref, "K")
    _checked(T, omega, F_delta0, mu, T_ref=T_ref)
    T_, w, m, Tr = jnp.broadcast_arrays(jnp.asarray(T, dtype=float),
                                        omega_to_kelvin(jnp.asarray(omega, dtype=float)),
                                        jnp.asarray(mu, dtype=float), jnp.asarray(T_ref, dtype=float))
    # n/n0 = ((T^2 + E^2)/w^2)^(mu/2): B = w^-mu per element, against the nodes' last axis
    dos = PowerLawDOS(jnp.exp(-m * jnp.log(w))[..., None], m[..., None])
    out = -(F_delta0 / math.pi) * _response_diff_jit(T_, Tr, dos, w)
    V.finite_result("frequency_shift_tls", out, T=T, omega=omega, mu=mu, T_ref=T_ref)
    return out


def loss_tls_broadcast(T, omega, F_delta0, mu, P, P_c, beta):
    """loss_tls for array mu and/or omega: broadcast shape of all arguments."""
    from .response import saturation
    _checked(T, omega, F_delta0, mu)
    V.nonnegative_finite("P", P)
    V.positive_finite("P_c", P_c)
    V.nonnegative_finite("beta", beta)
    T_ = jnp.asarray(T, dtype=float)
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    m = jnp.asarray(mu, dtype=float)
    shape = jnp.exp(0.5 * m * jnp.log1p((T_ / w) ** 2))       # ((T^2 + w^2)/w^2)^(mu/2)
    out = F_delta0 * shape * jnp.tanh(0.5 * w / T_) * saturation(P, P_c, beta)
    V.finite_result("loss_tls", out, T=T, omega=omega, F_delta0=F_delta0, mu=mu)
    return out
