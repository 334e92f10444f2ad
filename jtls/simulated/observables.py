"""Fit observables with the simulated DOS: parameter ``J0_h0`` instead of ``mu``.

``Model("velocity", dos="simulated", omega=...)`` (and ``jtls fit ... --dos
simulated``) selects the observable ``"velocity@simulated"`` registered here
on first use.  Each replaces the Eq. (3) DOS of its constant-mu twin by
:class:`jtls.simulated.dos.SimulatedDOS` from the shipped library:

====================================  ======================  =========================
observable                            parameters              prediction
====================================  ======================  =========================
velocity@simulated                    C, J0_h0, h0, A         velocity_shift_dos(T, C n)
dielectric@simulated                  C_dip, J0_h0, h0, A     dielectric_shift_dos(T, C_dip n)
thermal_conductivity@simulated        B, J0_h0, h0            thermal_conductivity_dos(T, B n)
specific_heat@simulated               B, J0_h0, h0            specific_heat_dos(T, B n)
resonator_shift@simulated             F_delta0, J0_h0, h0,    see jtls.simulated.resonator
                                      Delta, alpha
resonator_loss@simulated              F_delta0, J0_h0, h0,    see jtls.simulated.resonator
                                      P_c_dBm, beta, Delta,
                                      alpha, loss_bg
====================================  ======================  =========================

n = n(T, E; J0/h0, h0) is per TLS per K (its integral over signed energies is
1), so the amplitude multiplies a normalized DOS: C = n_TLS gamma^2 / (rho v^2)
with n_TLS the number density of TLSs (likewise C_dip, and B = n_TLS for
kappa and C_v in the units of the data).  ``h0`` (K) is held at 10 K unless
freed (``free=["h0"]``, ``--free h0``); ``J0_h0`` is bounded by the library's
range.  The shipped library starts at J0/h0 = 0, the non-interacting model
(tabulated exactly): that end is a physical bound, so a fit that ends there is
``ok`` with J0_h0 marked ``at_bound`` and a one-sided interval (an upper
limit), like mu = 0 of Eq. (3).  The upper end is a search limit of the
library: a fit that runs into it is a failure (``at_limit``), never a result.  A data temperature (or ``T_ref``) with T/h0 outside the library gives
a non-finite prediction, which the solvers never step into: with h0 held the
fit refuses such data up front (:func:`check_data`).
"""
from __future__ import annotations

import contextvars
import functools
import math
import numpy as np

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .dos import SimulatedDOS, check_temperatures, load_library

INF = math.inf
#: Default random-field scale (K), the paper's h0.
H0_DEFAULT = 10.0
SUFFIX = "@simulated"
_BASE = ("velocity", "dielectric", "thermal_conductivity", "specific_heat", "resonator_shift", "resonator_loss")


#: ln F table (traced) that replaces the library's own while :mod:`jtls.simulated.uncertainty`
#: traces its replica predictions; None everywhere else.
_LOG_F_OVERRIDE = contextvars.ContextVar("jtls_simulated_log_F", default=None)


def _dos(J0_h0, h0):
    """The simulated DOS at (J0_h0, h0) from the shipped library (interpolated across J0/h0 once)."""
    return SimulatedDOS.create(load_library(), J0_h0, h0, log_F=_LOG_F_OVERRIDE.get())


def _inside(T, h0, *more):
    """NaN where T/h0 (or any of ``more``) leaves the library's temperature range, else 1."""
    a, b = load_library().t_range
    ok = jnp.ones_like(jnp.asarray(T, dtype=float), dtype=bool)
    for x in (T,) + more:
        t = jnp.asarray(x, dtype=float) / h0
        ok = ok & (t >= a * (1 - 1e-9)) & (t <= b * (1 + 1e-9))
    return jnp.where(ok, 1.0, jnp.nan)


def _core(name):
    from .. import observables as obs
    return getattr(obs, name)


def _velocity(T, C, J0_h0, h0, A, omega, T_ref=1.0):
    """dv/v of Eqs. (7) + (8), as velocity_shift_dos, with both integrals on the library's own
    q knots (SimulatedDOS.resonant_integral, the T_ref term once, and relaxation_integral)."""
    dos = _dos(J0_h0, h0)
    T = jnp.asarray(T, dtype=float)
    f = -C * (dos.resonant_integral(T) - dos.resonant_integral(T_ref) + dos.relaxation_integral(T, A, omega))
    return f * _inside(T, h0, T_ref)


def _dielectric(T, C_dip, J0_h0, h0, A, omega, T_ref=1.0):
    """d eps/eps = -(dv/v with C_dip), as :func:`jtls.dielectric_shift_dos`."""
    return -_velocity(T, C_dip, J0_h0, h0, A, omega, T_ref)


def _kappa(T, B, J0_h0, h0):
    """Eq. (5), T int kappa_weight(E/T) / n dE, as thermal_conductivity_dos, on the library's q knots."""
    from ..observables._kernels import kappa_weight
    T = jnp.asarray(T, dtype=float)
    E, w, n = _dos(J0_h0, h0).q_nodes(T)
    u = E / T[..., None]
    return T * jnp.sum(w * kappa_weight(u) / n, axis=-1) / B * _inside(T, h0)


def _cv(T, B, J0_h0, h0):
    """Eq. (6), int n u^2 sech^2(u/2) / 4 dE (u = E/T), as specific_heat_dos, on the library's q knots."""
    from ..observables._kernels import sech2_half
    T = jnp.asarray(T, dtype=float)
    E, w, n = _dos(J0_h0, h0).q_nodes(T)
    u = E / T[..., None]
    return jnp.sum(w * n * u * u * 0.25 * sech2_half(u), axis=-1) * B * _inside(T, h0)


def _ratio_grid(T, ctx):
    """Start values of J0_h0 scanned by the automatic guess: every grid ratio of the library (the curves
    of neighbouring ratios differ by a few % of their range, and coarser scans were seen to start LM in
    a secondary minimum of the (J0_h0, A) valley)."""
    return tuple(float(r) for r in load_library().ratios)


def _a_grid(T, ctx):
    import numpy as np
    T = np.asarray(T)
    return ctx["omega"] / np.geomspace(T.min() / 3.0, T.max() * 3.0, 20) ** 3


@functools.partial(jax.jit, static_argnums=0)
def _shapes(func, T, rs, h0, As, omega, T_ref):
    """Curves at unit amplitude for every candidate (J0_h0, A), one compiled vmapped call."""
    return jax.vmap(lambda r, a: func(T, 1.0, r, h0, a, omega, T_ref))(rs, As)


def _acoustic_guess(func, amp):
    """Two scans instead of the product grid (23 ratios x 20 A would be 460 curves): A at a middle
    J0/h0, then J0/h0 at the best A, each point with the amplitude and offset by linear least squares."""
    def guess(T, y, ctx):
        T = np.asarray(T, float)
        y = np.asarray(y, float)
        om, tr = ctx["omega"], ctx.get("T_ref", 1.0)
        h0 = float(ctx.get("h0", H0_DEFAULT))

        def best(cands):
            rs = jnp.asarray([c[0] for c in cands], dtype=float)
            As = jnp.asarray([c[1] for c in cands], dtype=float)
            shapes = np.asarray(_shapes(func, jnp.asarray(T), rs, jnp.asarray(h0), As, jnp.asarray(om),
                                        jnp.asarray(tr)))
            out = None
            for (r, a), shape in zip(cands, shapes):
                M = np.stack([shape, np.ones_like(T)], 1)
                if not np.all(np.isfinite(M)):
                    continue
                (c, off), *_ = np.linalg.lstsq(M, y, rcond=None)
                cost = float(np.sum((M @ (c, off) - y) ** 2))
                if c > 0 and (out is None or cost < out[0]):
                    out = (cost, r, a, c, off)
            return out
        ratios = _ratio_grid(T, ctx)
        mid = ratios[len(ratios) // 3]
        b1 = best([(mid, a) for a in _a_grid(T, ctx)])
        a0 = b1[2] if b1 else float(np.median(_a_grid(T, ctx)))
        b2 = best([(r, a0) for r in ratios]) or b1
        if b2 is None:
            return {amp: 1e-3, "J0_h0": mid, "A": a0, "offset": 0.0, "h0": h0}
        return {amp: b2[3], "J0_h0": b2[1], "A": b2[2], "offset": b2[4], "h0": h0}
    return guess


def register(name: str) -> str:
    """Register the simulated-DOS twin ``name + '@simulated'`` of a built-in observable.

    Idempotent; ``Model(name, dos="simulated")`` calls it.  The twin's
    parameters are those of the table in the module docstring.

    Parameters
    ----------
    name : str
        One of ``velocity``, ``dielectric``, ``thermal_conductivity``,
        ``specific_heat``, ``resonator_shift``, ``resonator_loss``
        (ValueError otherwise).

    Returns
    -------
    str
        The registered name.

    Examples
    --------
    >>> from jtls.fit import get_observable
    >>> from jtls.simulated.observables import register
    >>> register("velocity")
    'velocity@simulated'
    >>> get_observable("velocity@simulated").params
    ('C', 'J0_h0', 'h0', 'A')
    """
    from ..fit.model import REGISTRY, register_observable
    if name not in _BASE:
        raise ValueError(f"dos='simulated' is available for {', '.join(_BASE)}; not for {name!r}")
    full = name + SUFFIX
    if full in REGISTRY:
        return full
    lib = load_library()
    lo, hi = lib.ratio_range
    # J0_h0 = 0 (no TLS-TLS interaction) is physical when the library starts there; its upper end is not
    common = dict(held={"h0": H0_DEFAULT}, validate=_validate,
                  physical={"J0_h0": (lo == 0.0, False), "h0": (False, False)},
                  scan={"J0_h0": _ratio_grid}, single_kernel=False)
    rb = {"J0_h0": (lo, hi), "h0": (0.1, 1000.0)}
    r0 = min(max(0.2, lo), hi)
    if name.startswith("resonator_"):
        from .. import resonator  # noqa: F401  (the constant-mu twins and their guesses)
        from .resonator import register_resonator
        register_resonator(name, full, common, rb)
    elif name in ("velocity", "dielectric"):
        amp = "C" if name == "velocity" else "C_dip"
        register_observable(
            full, _velocity if name == "velocity" else _dielectric, (amp, "J0_h0", "h0", "A"),
            context=("omega", "T_ref"), context_defaults={"T_ref": 1.0}, relative=True,
            bounds={amp: (0.0, INF), "A": (0.0, INF), **rb},
            defaults={amp: 1e-3, "J0_h0": r0, "h0": H0_DEFAULT, "A": 1e8}, amplitude=amp,
            guess=_acoustic_guess(_velocity if name == "velocity" else _dielectric, amp),
            quantity="Delta v / v" if name == "velocity" else "Delta eps / eps",
            description=("sound velocity" if name == "velocity" else "dielectric constant")
            + ", Eqs. (7)+(8) with the simulated DOS of Hamiltonian (2)", **common)
    else:
        register_observable(
            full, _kappa if name == "thermal_conductivity" else _cv, ("B", "J0_h0", "h0"), positive=True,
            bounds={"B": (0.0, INF), **rb}, defaults={"B": 1.0, "J0_h0": r0, "h0": H0_DEFAULT},
            amplitude="B", amplitude_power=-1.0 if name == "thermal_conductivity" else 1.0,
            grid={"J0_h0": _ratio_grid},
            quantity="kappa" if name == "thermal_conductivity" else "C_v",
            description=("thermal conductivity, Eq. (5)" if name == "thermal_conductivity"
                         else "specific heat, Eq. (6)") + " with the simulated DOS of Hamiltonian (2)",
            **common)
    return full


def _validate(T, fixed, context):
    if "h0" in fixed:
        check_data(T, fixed["h0"], context.get("T_ref"))
        return
    # h0 free: the library's T/h0 window must hold the data at some h0, and the fit starts at
    # the default h0, where a point outside the library has no finite prediction
    lo, hi = load_library().t_range
    t = np.asarray(T, float).ravel()
    if context.get("T_ref") is not None:
        t = np.append(t, float(context["T_ref"]))
    if t.size and t.max() / t.min() > hi / lo:
        raise ValueError(f"argument 'T': temperatures {t.min():g} .. {t.max():g} K span a factor "
                         f"{t.max() / t.min():.4g}, more than the simulated-DOS library covers at any h0 "
                         f"(T/h0 = {lo:g} .. {hi:g}, a factor {hi / lo:g})")
    h0 = float(context.get("__initial__", {}).get("h0", H0_DEFAULT))
    if t.size and not (lo * h0 <= t.min() and t.max() <= hi * h0):
        need = (t.max() / hi, t.min() / lo)
        raise ValueError(f"argument 'T': with h0 free the fit starts at h0 = {h0:g} K, where "
                         f"temperatures {t.min():g} .. {t.max():g} K leave the library (T/h0 = {lo:g} .. "
                         f"{hi:g}); start h0 inside [{need[0]:.4g}, {need[1]:.4g}] K (initial={{'h0': ...}}), "
                         "or hold it there (--fix h0=...)")


def check_data(T: ArrayLike, h0: float = H0_DEFAULT, T_ref: float | None = None,
               name: str = "T") -> None:
    """Refuse temperatures outside the library's range at random-field scale ``h0``.

    The library covers T/h0 = 5e-4 .. 2 (5 mK .. 20 K at h0 = 10 K).

    Parameters
    ----------
    T : array_like
        Data temperatures in K.
    h0 : float
        Random-field scale in K.
    T_ref : float, optional
        Reference temperature of a relative observable, K.
    name : str
        Argument name for the message.

    Returns
    -------
    None
        ValueError naming ``name`` (or 'T_ref') and the range otherwise.

    Examples
    --------
    >>> from jtls.simulated.observables import check_data
    >>> check_data([0.05, 0.5])  # doctest: +SKIP
    >>> check_data([0.001, 0.5])  # doctest: +SKIP
    Traceback (most recent call last):
    ...
    ValueError: argument 'T': temperatures 0.001 .. 0.5 K are outside the simulated-DOS library at h0 = 10 K (0.005 .. 20 K, T/h0 = 0.0005 .. 2)
    """
    t_range = load_library().t_range
    check_temperatures(t_range, float(h0), T, name)
    if T_ref is not None:
        check_temperatures(t_range, float(h0), [T_ref], "T_ref")
