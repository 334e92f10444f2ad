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
from typing import Any, Mapping

import numpy as np
import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

from .. import _validate as V
from .quasiparticle import BCS_RATIO, frequency_shift_qp, loss_qp
from .response import (frequency_shift_relaxation_dos, frequency_shift_tls, loss_relaxation_dos,
                       loss_tls, resonator_power_law_dos)

INF = math.inf


def resonator_shift(T: ArrayLike, F_delta0: ArrayLike, mu: ArrayLike, Delta: ArrayLike,
                    alpha: ArrayLike, omega: ArrayLike, T_ref: float = 0.1,
                    A: float = 0.0) -> jax.Array:
    """Resonator frequency shift delta f/f(T) - delta f/f(T_ref): TLS resonant + relaxation + quasiparticles.

    The sum of :func:`~jtls.resonator.frequency_shift_tls` (Eq. (3) DOS),
    the relaxation term (:func:`~jtls.resonator.frequency_shift_relaxation_dos`)
    and :func:`~jtls.resonator.frequency_shift_qp`; registered with
    :mod:`jtls.fit` as ``resonator_shift``.

    Parameters
    ----------
    T : array_like
        Temperatures, K, shape (n,) (any shape broadcasting with the others).
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    mu : array_like
        DOS power of Eq. (3), in [0, 1] (0: standard tunneling model).
    Delta : array_like
        Superconducting gap at T = 0, K.
    alpha : array_like
        Kinetic-inductance fraction (0 switches the quasiparticle term off).
    omega : array_like
        Resonance angular frequency, rad/s.
    T_ref : float
        Reference temperature, K.
    A : float
        Relaxation constant, s^-1 K^-3 (0 switches the relaxation term off).

    Returns
    -------
    jax.Array
        delta f/f (dimensionless), broadcast shape of T.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz
    >>> T = np.array([0.05, 0.2, 0.5])
    >>> x = R.resonator_shift(T, 1e-5, 0.0, 15.0, 0.01, omega, T_ref=0.1)
    >>> print([f"{v:.4g}" for v in x])
    ['3.645e-07', '5.354e-07', '2.747e-06']
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


def resonator_shift_parts(T: ArrayLike, F_delta0: ArrayLike, mu: ArrayLike, Delta: ArrayLike,
                          alpha: ArrayLike, omega: ArrayLike, T_ref: float = 0.1,
                          A: float = 0.0) -> dict[str, jax.Array]:
    """The components of :func:`resonator_shift`, each relative to T_ref (for plots and reports).

    Parameters
    ----------
    T : array_like
        Temperatures, K, shape (n,) (any shape broadcasting with the others).
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    mu : array_like
        DOS power of Eq. (3), in [0, 1] (0: standard tunneling model).
    Delta : array_like
        Superconducting gap at T = 0, K.
    alpha : array_like
        Kinetic-inductance fraction (0 switches the quasiparticle term off).
    omega : array_like
        Resonance angular frequency, rad/s.
    T_ref : float
        Reference temperature, K.
    A : float
        Relaxation constant, s^-1 K^-3 (0 switches the relaxation term off).

    Returns
    -------
    dict of str to jax.Array
        ``"tls_resonant"``, ``"tls_relaxation"``, ``"quasiparticle"``: each
        delta f/f (dimensionless), broadcast shape of T; their sum is
        :func:`resonator_shift`.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz
    >>> T = np.array([0.05, 0.2, 0.5])
    >>> parts = R.resonator_shift_parts(T, 1e-5, 0.0, 15.0, 0.01, omega, T_ref=0.1)
    >>> sorted(parts)
    ['quasiparticle', 'tls_relaxation', 'tls_resonant']
    >>> print([f"{v:.3g}" for v in parts["quasiparticle"]])
    ['3.75e-68', '-1.99e-35', '-9.61e-16']
    """
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


def resonator_loss_parts(T: ArrayLike, F_delta0: ArrayLike, mu: ArrayLike, P_c_dBm: ArrayLike,
                         beta: ArrayLike, Delta: ArrayLike, alpha: ArrayLike, loss_bg: ArrayLike,
                         omega: ArrayLike, P_dBm: ArrayLike, A: float = 0.0) -> dict[str, jax.Array]:
    """The loss components 1/Q of :func:`resonator_loss` at drive power P_dBm.

    TLS loss (:func:`~jtls.resonator.loss_tls` with P/P_c = 10^((P_dBm - P_c_dBm)/10)),
    relaxation loss, Mattis-Bardeen quasiparticle loss and background.

    Parameters
    ----------
    T : array_like
        Temperatures, K, shape (n,) (any shape broadcasting with the others).
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless): the TLS loss at
        T -> 0 and low power.
    mu : array_like
        DOS power of Eq. (3), in [0, 1].
    P_c_dBm : array_like
        Critical power, dBm.
    beta : array_like
        Saturation exponent (1: standard tunneling model).
    Delta : array_like
        Superconducting gap at T = 0, K.
    alpha : array_like
        Kinetic-inductance fraction.
    loss_bg : array_like
        Temperature-independent background loss 1/Q (dimensionless).
    omega : array_like
        Resonance angular frequency, rad/s.
    P_dBm : array_like
        Drive power, dBm (same reference as P_c_dBm).
    A : float
        Relaxation constant, s^-1 K^-3 (0 switches the relaxation term off).

    Returns
    -------
    dict of str to jax.Array
        ``"tls_resonant"``, ``"tls_relaxation"``, ``"quasiparticle"``,
        ``"background"``: each 1/Q (dimensionless), broadcast shape of T.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz
    >>> T = np.array([0.05, 0.2, 0.5])
    >>> parts = R.resonator_loss_parts(T, 1e-5, 0.0, -120.0, 1.0, 15.0, 0.01, 1e-7, omega, -140.0)
    >>> print([f"{v:.4g}" for v in parts["tls_resonant"]])   # saturation (1 + 0.01)^(-1/2)
    ['9.788e-06', '5.343e-06', '2.343e-06']
    """
    V.nonnegative_finite("loss_bg", loss_bg)
    T = jnp.asarray(T, dtype=float)
    p_rel = jnp.power(10.0, (P_dBm - P_c_dBm) / 10.0)
    dos = resonator_power_law_dos(mu, omega)
    tls = loss_tls(T, omega, F_delta0, mu, P=p_rel, P_c=1.0, beta=beta)
    rel = _if_relaxation(A, lambda: loss_relaxation_dos(T, dos, omega, F_delta0, A, n0=1.0), tls)
    return {"tls_resonant": tls,
            "tls_relaxation": rel,
            "quasiparticle": loss_qp(T, omega, Delta, alpha),
            "background": loss_bg * jnp.ones_like(T)}


def resonator_loss(T: ArrayLike, F_delta0: ArrayLike, mu: ArrayLike, P_c_dBm: ArrayLike,
                   beta: ArrayLike, Delta: ArrayLike, alpha: ArrayLike, loss_bg: ArrayLike,
                   omega: ArrayLike, P_dBm: ArrayLike, A: float = 0.0) -> jax.Array:
    """Internal quality factor Qi(T) = 1/(1/Q_TLS + 1/Q_rel + 1/Q_qp + loss_bg) at drive power P_dBm.

    The components are :func:`resonator_loss_parts` (module docstring);
    registered with :mod:`jtls.fit` as ``resonator_loss`` (fitted on ln Qi).

    Parameters
    ----------
    T : array_like
        Temperatures, K, shape (n,) (any shape broadcasting with the others).
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless): the TLS loss at
        T -> 0 and low power.
    mu : array_like
        DOS power of Eq. (3), in [0, 1].
    P_c_dBm : array_like
        Critical power, dBm.
    beta : array_like
        Saturation exponent (1: standard tunneling model).
    Delta : array_like
        Superconducting gap at T = 0, K.
    alpha : array_like
        Kinetic-inductance fraction.
    loss_bg : array_like
        Temperature-independent background loss 1/Q (dimensionless).
    omega : array_like
        Resonance angular frequency, rad/s.
    P_dBm : array_like
        Drive power, dBm (same reference as P_c_dBm).
    A : float
        Relaxation constant, s^-1 K^-3 (0 switches the relaxation term off).

    Returns
    -------
    jax.Array
        Qi (dimensionless), broadcast shape of T.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz
    >>> T = np.array([0.05, 0.2, 0.5])
    >>> Qi = R.resonator_loss(T, 1e-5, 0.0, -120.0, 1.0, 15.0, 0.01, 1e-7, omega, -140.0)
    >>> print([f"{v:.4g}" for v in Qi])
    ['1.011e+05', '1.837e+05', '4.093e+05']
    """
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


def check_quasiparticles(T: ArrayLike, held: Mapping[str, float], context: Mapping[str, Any]) -> None:
    """Validate hook of the resonator fits: alpha held at 0 needs Delta held too.

    alpha = 0 removes the quasiparticle term, so a free gap Delta would make
    the fit singular; the error says how to hold both (:data:`QP_OFF`).

    Parameters
    ----------
    T : array_like
        Temperatures of the data, K (unused; part of the hook's signature).
    held : Mapping[str, float]
        Parameters held fixed in the fit, name -> value.
    context : Mapping[str, Any]
        The model's settings (omega, T_ref, ...; unused).

    Raises
    ------
    ValueError
        If alpha is held at 0 while Delta is free.

    Examples
    --------
    >>> from jtls.resonator import QP_OFF, check_quasiparticles
    >>> check_quasiparticles([0.1], QP_OFF, {})          # both held: fine
    >>> check_quasiparticles([0.1], {"alpha": 0.0}, {})
    Traceback (most recent call last):
    ...
    ValueError: alpha = 0 switches the quasiparticle term off, so its gap Delta cannot be fitted: ...
    """
    if held.get("alpha") == 0.0 and "Delta" not in held:
        raise ValueError("alpha = 0 switches the quasiparticle term off, so its gap Delta cannot be "
                         f"fitted: hold Delta too, e.g. fixed={QP_OFF} (jtls.resonator.QP_OFF; on the "
                         "command line --no-qp or --fix alpha=0 do this)")


def quasiparticle_caveats(T, values, context) -> list:
    """A warning when a fit's quasiparticle term (alpha > 0) meets data above Tc/5 at its gap
    Delta (Tc = Delta/1.764, BCS), where the low-temperature Mattis-Bardeen forms of
    :mod:`jtls.resonator.quasiparticle` no longer hold (sigma2's expansion even changes sign
    near Tc/2)."""
    alpha, delta = float(values.get("alpha", 0.0)), float(values.get("Delta", math.inf))
    top = float(np.max(T)) if np.size(T) else 0.0
    limit = delta / (BCS_RATIO * 5.0)
    if alpha > 0 and math.isfinite(limit) and top > limit:
        tc = delta / BCS_RATIO
        return [f"the data reach T = {top:.4g} K = {top / tc:.2f} Tc for Delta = {delta:.4g} K (Tc = "
                f"Delta/{BCS_RATIO} = {tc:.4g} K): above Tc/5 = {limit:.4g} K the quasiparticle term's "
                "low-temperature Mattis-Bardeen forms lose accuracy (restrict the fit with tmax, or hold "
                "Delta at the film's gap)"]
    return []


def shift_values(y) -> str | None:
    """Why values ``y`` cannot be a relative frequency shift delta f/f0 (|delta f/f0| << 0.1:
    e.g. ppm, or absolute frequencies), or None."""
    top = float(np.max(np.abs(y))) if np.size(y) else 0.0
    if top >= 0.1:
        return (f"values up to {top:.6g} are not a relative frequency shift delta f/f0 (|delta f/f0| << "
                "0.1; values in ppm are 1e6 times too large)")
    return None


def quality_factor_values(y) -> str | None:
    """Why values ``y`` cannot be internal quality factors Qi (Qi >> 1: below 1 they are losses
    1/Qi or tan delta under another name), or None."""
    low = float(np.min(y)) if np.size(y) else 1.0
    if low < 1.0:
        return (f"values down to {low:.6g} are not an internal quality factor Qi (Qi >> 1); losses 1/Qi "
                "or tan delta are fitted as Qi = 1/loss")
    return None


def register(overwrite: bool = True) -> None:
    """Register ``resonator_shift`` and ``resonator_loss`` as observables of :mod:`jtls.fit`.

    Done on import of :mod:`jtls.resonator`; call again to restore the
    registrations after they were replaced.

    Parameters
    ----------
    overwrite : bool
        Replace existing registrations of the same names.

    Examples
    --------
    >>> from jtls.fit import get_observable
    >>> from jtls.resonator import register
    >>> register()
    >>> get_observable("resonator_shift").params
    ('F_delta0', 'mu', 'Delta', 'alpha')
    """
    from ..fit import register_observable
    register_observable(
        "resonator_shift", resonator_shift, ("F_delta0", "mu", "Delta", "alpha"),
        context=("omega", "T_ref", "A"), context_defaults={"T_ref": 0.1, "A": 0.0},
        relative=True,
        bounds={"F_delta0": (0.0, INF), "mu": (0.0, 1.0), "Delta": (0.0, INF),
                "alpha": (0.0, 1.0)},
        defaults={"F_delta0": 1e-6, "mu": 0.1, "Delta": 15.0, "alpha": 0.01},
        guess=_shift_guess, quantity="delta f / f0", static_context=("A",),
        validate=check_quasiparticles, values=shift_values, caveats=quasiparticle_caveats,
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
        validate=check_quasiparticles, values=quality_factor_values, caveats=quasiparticle_caveats,
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
