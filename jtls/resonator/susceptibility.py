"""The resonant TLS susceptibility of a resonator and the DOS normalisation n0, any DOS model.

Conventions and the resonator observables built on these pieces:
:mod:`jtls.resonator.response` (its module docstring), where the names are
also available.  D(T) = Re chi(T) - Re chi(T_ref) with g_T(E) = n(T,E) tanh(E/2T)
(:func:`resonant_response_dos`); n0 = n(hbar omega, T = 0), the DOS that
defines the loss tangent delta0 (:func:`default_n0`).

Quadrature (fixed cost, vectorized): the principal value is taken on
[0, 2w], symmetric about the pole, as int_0^2w [q(E) - q(w)]/(E - w) dE with
q(E) = [g_T(E) - g_Tref(E)] E/(E + w) (P int_0^2w dE/(E - w) = 0 exactly),
on geometric Gauss-Legendre panels clustered at E = 0 on the scale
min(T, T_ref, w)/4; the rest, [2w, min(1e8 max(T, T_ref, w), dos.e_max)],
on geometric panels.  A DOS with a kink (DipolarGapDOS at E = J0) limits the
accuracy to ~1e-5 relative (the panels do not know the kink).  For n = n0 the result matches the digamma closed form
to < 1e-12 (tests).  For the Eq. (3) power law the neglected tail is
~ mu (T^2 - T_ref^2) E_top^(mu-2): negligible for mu <= 0.5, ~E_top^(mu-2)
relative beyond.
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

from .. import _validate as V
from ..dos import DOSModel
from ..quadrature import geometric_edges, panel_nodes
from ..units import omega_to_kelvin

#: Panels on [a, 2w] (plus [0, a]) for the principal-value part.
PV_PANELS = 14
#: Geometric panels on [2w, E_top].
TAIL_PANELS = 40
#: E_top / max(T, T_ref, w).
TOP_FACTOR = 1e8
#: Gauss-Legendre order per panel.
ORDER = 16


def _check_e_max(dos, w):
    e_max = getattr(dos, "e_max", math.inf)
    if V.is_concrete(w):
        wmax = float(np.max(np.asarray(w)))
        if not e_max > 2.0 * wmax:
            raise ValueError(f"argument 'dos': its largest energy e_max = {e_max} K must exceed "
                             f"2 hbar omega = {2.0 * wmax} K")
    return e_max


def _check_n0(n0):
    if n0 is not None:
        V.in_domain("n0", n0)


def _g(dos, E, T):
    return dos(E, T) * jnp.tanh(0.5 * E / T)


def _response_diff(T, T_ref, dos, w):
    """D(T) = Re chi(T) - Re chi(T_ref); T, T_ref, w broadcast arrays (K)."""
    e_max = getattr(dos, "e_max", math.inf)
    T, T_ref, w = jnp.broadcast_arrays(T, T_ref, w)
    Tb, Rb, wb = T[..., None], T_ref[..., None], w[..., None]

    def h(E):
        return _g(dos, E, Tb) - _g(dos, E, Rb)

    # --- principal value on [0, 2w]
    a = jax.lax.stop_gradient(0.25 * jnp.minimum(jnp.minimum(T, T_ref), w))
    two_w = 2.0 * w
    edges1 = geometric_edges(a, jax.lax.stop_gradient(two_w), PV_PANELS)
    E1, w1 = panel_nodes(edges1, ORDER)
    E1 = E1 * (two_w / jax.lax.stop_gradient(two_w))[..., None]  # keep d/dw exact
    w1 = w1 * (two_w / jax.lax.stop_gradient(two_w))[..., None]
    q1 = h(E1) * E1 / (E1 + wb)
    qw = 0.5 * h(wb)  # q(w) = h(w) w / (2w)
    part1 = jnp.sum(w1 * (q1 - qw) / (E1 - wb), axis=-1)

    # --- regular part on [2w, E_top]
    top = TOP_FACTOR * jnp.maximum(jnp.maximum(T, T_ref), w)
    top = jax.lax.stop_gradient(jnp.minimum(top, e_max))
    lo2 = jax.lax.stop_gradient(two_w)
    edges2 = geometric_edges(lo2, jnp.maximum(top, lo2), TAIL_PANELS)[..., 1:]
    E2, w2 = panel_nodes(edges2, ORDER)
    # lower limit 2w moves with w: add its contribution to the derivative via the boundary term
    part2 = jnp.sum(w2 * h(E2) * E2 / (E2 * E2 - wb * wb), axis=-1)
    bound = (two_w - lo2) * (-(h(2.0 * wb)[..., 0]) * (2.0 * w) / (3.0 * w * w))
    return part1 + part2 + bound


_response_diff_jit = jax.jit(_response_diff)


def resonant_response_dos(T: ArrayLike, dos: DOSModel, omega: ArrayLike,
                          T_ref: ArrayLike = 1.0) -> jax.Array:
    """Real part of the resonant TLS susceptibility, relative to T_ref: D(T) = Re chi(T) - Re chi(T_ref).

    Re chi(T) = P int_0^inf n(T,E) tanh(E/2T) E/(E^2 - w^2) dE with
    w = hbar omega/k_B (principal value; quadrature in the module docstring).
    For w << T it tends to the omega -> 0 resonant term of Eq. (7).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    dos : DOS model
        A :mod:`jtls.dos` model called as ``dos(E, T)`` (E, T in K).
    omega : array_like
        Probing angular frequency, rad/s (broadcast with T).
    T_ref : array_like
        Reference temperature, K (broadcast with T).

    Returns
    -------
    jax.Array
        D(T) in the units of ``dos``, broadcast shape of T, T_ref, omega.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> D = R.resonant_response_dos(np.array([0.05, 0.2]), jtls.PowerLawDOS(1.0, 0.0), omega, T_ref=0.1)
    >>> print([f"{v:.4f}" for v in D])           # n = 1: -(Phi(T) - Phi(T_ref)), see stm_phi
    ['-0.1145', '-0.1682']
    """
    V.in_domain("T", T, "K")
    V.in_domain("T_ref", T_ref, "K")
    V.in_domain("omega", omega, "rad/s")
    V.broadcastable(T=T, T_ref=T_ref, omega=omega)
    V.dos_positive(dos, T)
    V.dos_T_range(dos, T_ref, "T_ref")
    T = jnp.asarray(T, dtype=float)
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    _check_e_max(dos, w)
    out = _response_diff_jit(T, jnp.asarray(T_ref, dtype=float), dos, w)
    V.finite_result("resonant_response_dos", out, T=T, T_ref=T_ref, omega=omega)
    return out


def default_n0(dos: DOSModel, omega: ArrayLike) -> jax.Array:
    """The DOS value n0 = n(E = hbar omega, T = 0) that defines the loss tangent delta0.

    A model valid only on a temperature range (:class:`jtls.dos.TabulatedDOS`, whose
    ``T_range`` starts above 0 K) is taken at the lowest temperature of that range.

    With this normalisation F delta0 is the low-temperature, low-power TLS
    loss 1/Q_TLS(T -> 0) for every DOS model.

    Parameters
    ----------
    dos : DOS model
        A :mod:`jtls.dos` model called as ``dos(E, T)``.
    omega : array_like
        Resonance angular frequency, rad/s.

    Returns
    -------
    jax.Array
        n0 in the units of ``dos``, shape of ``omega``.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> print(f"{float(R.default_n0(jtls.PowerLawDOS(1.0, 0.2), omega)):.4f}")   # (hbar omega)^mu
    0.7517
    """
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    # T -> 0: a model valid only on a temperature range (a TabulatedDOS) is taken at its
    # lowest temperature, the table's own T -> 0 limit (not extrapolated, no warning)
    t_low = float(getattr(dos, "T_range", (0.0, None))[0])
    return dos(w, jnp.full_like(w, t_low))
