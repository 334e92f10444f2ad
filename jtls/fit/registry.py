"""The observable registry: the functions fits are made of, with their fit metadata.

An *observable* is a registered function ``func(T, **params, **context)``
returning the predicted curve at temperatures ``T`` (K).  ``params`` are the
quantities a fit can vary (paper names: ``C``, ``C_dip``, ``mu``, ``A``,
``B``), ``context`` the experimental settings it never varies (probing
frequency ``omega`` in rad/s, reference temperature ``T_ref`` in K).
:class:`jtls.fit.model.Model` gives one parameter settings; the built-in
observables and how to add others are listed in :mod:`jtls.fit.model`.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, Mapping, Sequence

import numpy as np
import jax

INF = math.inf


@dataclasses.dataclass(frozen=True, eq=False)
class Observable:
    """A registered observable: a prediction function and its fit metadata.

    Made by :func:`register_observable` (whose parameters are its
    attributes) and looked up by name with :func:`get_observable`; the
    built-in ones are ``velocity``, ``dielectric``, ``thermal_conductivity``
    (and ``thermal_conductivity_matthiessen``), ``specific_heat``, and the
    resonator observables once :mod:`jtls.resonator` is imported.

    Attributes
    ----------
    name : str
        The registered name.
    func : callable
        ``func(T, **params, **context)``: T in K, the prediction of T's shape.
    params : tuple of str
        Fittable parameter names, in report order.
    context : tuple of str
        Settings passed to ``func`` but never fitted (``omega`` in rad/s,
        ``T_ref`` in K, ...).
    quantity, description : str
        Text for reports and plot labels.

    The other attributes are those of :func:`register_observable`.

    Examples
    --------
    >>> from jtls.fit import get_observable
    >>> obs = get_observable("velocity")
    >>> obs.params, obs.context, obs.relative
    (('C', 'mu', 'A'), ('omega', 'T_ref'), True)
    """
    name: str
    func: Callable
    params: tuple
    context: tuple = ()
    context_defaults: Mapping = dataclasses.field(default_factory=dict)
    relative: bool = False
    positive: bool = False
    bounds: Mapping = dataclasses.field(default_factory=dict)
    defaults: Mapping = dataclasses.field(default_factory=dict)
    amplitude: str | None = None
    amplitude_power: float = 1.0
    grid: Mapping = dataclasses.field(default_factory=dict)
    guess: Callable | None = None
    quantity: str = ""
    description: str = ""
    held: Mapping = dataclasses.field(default_factory=dict)
    static_context: tuple = ()
    physical: Mapping = dataclasses.field(default_factory=dict)
    validate: Callable | None = None
    values: Callable | None = None
    caveats: Callable | None = None
    scan: Mapping = dataclasses.field(default_factory=dict)
    single_kernel: bool = True

    def __hash__(self):
        return hash(("jtls.fit.Observable", self.name, id(self.func)))

    def __eq__(self, other):
        return isinstance(other, Observable) and other.name == self.name and other.func is self.func


REGISTRY: dict[str, Observable] = {}


def register_observable(name: str, func: Callable, params: Sequence[str], *,
                        context: Sequence[str] = (), context_defaults: Mapping | None = None,
                        relative: bool = False, positive: bool = False,
                        bounds: Mapping | None = None, defaults: Mapping | None = None,
                        amplitude: str | None = None, amplitude_power: float = 1.0,
                        grid: Mapping | None = None, guess: Callable | None = None,
                        quantity: str = "", description: str = "",
                        held: Mapping | None = None, static_context: Sequence[str] = (),
                        physical: Mapping | None = None, validate: Callable | None = None,
                        values: Callable | None = None, caveats: Callable | None = None,
                        scan: Mapping | None = None, single_kernel: bool = True,
                        overwrite: bool = False) -> Observable:
    """Register an observable for fitting under ``name``.

    Parameters
    ----------
    func : callable
        ``func(T, **params, **context) -> array`` of the shape of T; pure JAX
        (jit/vmap/jacfwd-safe).  It must not include the offset of relative
        data: that is added by the model.
    params : names of the fittable parameters, in report order.
    context : names of settings passed to ``func`` but never fitted
        (e.g. ``("omega", "T_ref")``); values come from the model, then the
        dataset's attribute of the same name, then ``context_defaults``.
    relative : data are relative (add ``offset``; default weighting: constant
        absolute errors).
    positive : data are positive and span decades (default weighting:
        residuals of the logarithm).  ``relative`` and ``positive`` exclude
        each other.
    bounds : ``{name: (lo, hi)}``; default unbounded.
    defaults : ``{name: value}`` initial values used when nothing better is known.
    amplitude : name of a parameter with prediction proportional to
        ``amplitude ** amplitude_power``; the automatic guess then solves for
        it (and the offset) by linear least squares.
    grid : ``{name: values or callable(T, context) -> values}`` candidate
        values scanned by the automatic guess for the non-linear parameters.
    guess : optional ``guess(T, y, context) -> {name: value}`` replacing the
        built-in guess.
    held : ``{name: value}`` parameters held fixed unless a model frees them
        (``Model(..., free=[name])``, ``jtls fit --free NAME``).
    quantity, description : text for reports.
    static_context : names of settings (a subset of ``context``) that select
        the form of the model, e.g. a switch that is 0 to leave out an
        expensive term: the fit passes their values to ``func`` as Python
        floats fixed at compile time (one compiled solver per value), so
        ``func`` may branch on them in Python.  Other settings arrive as
        traced arrays (one compiled solver for all values).
    physical : ``{name: (lower, upper)}`` which finite bounds are physical
        (True) rather than search limits (False); see :mod:`jtls.fit.params`.
        Default: a lower bound of 0 is physical (amplitudes, exponents that
        switch a term off at 0), every other bound is a search limit.
    validate : optional ``validate(T, values, context)`` raising ValueError
        (naming the argument) for data the observable cannot describe, e.g.
        temperatures outside a tabulated range; called before every fit with
        the fixed parameter values and the settings (``context["__initial__"]``:
        the start values the user gave).
    values : optional ``values(y) -> str or None``: the reason why measured values ``y``
        cannot be this observable (e.g. a relative shift of 100, a quality factor below 1: data
        in other units or another quantity), None when they can; checked before every fit.
    caveats : optional ``caveats(T, values, context) -> list of str``: warnings on a fitted
        curve (``values``: its parameters by local name) that the model's own approximations do
        not hold over the data (e.g. a low-temperature form above its range); added to every fit's
        warnings.
    scan : ``{name: values or callable(T, context) -> values}`` grid along which
        every fit checks that its optimum is global (:mod:`jtls.fit.scan`): for
        parameters whose chi^2 profile can have several minima.
    single_kernel : whether the compiled solves of fits with this observable
        may run as one XLA:CPU function (:mod:`jtls.fit.kernel`; faster for
        small elementwise models).  False for models built on matrix products
        (the simulated DOS's table rows): that emitter writes them as plain
        loops, measured 2-3x slower (benchmarks/bench_simulated.py --kernel-ab).
    overwrite : replace an existing registration of ``name``.

    Returns
    -------
    Observable
        The registered observable (also in :data:`REGISTRY`).

    Examples
    --------
    A Schottky-like specific heat C = n (E0/T)^2 e^(E0/T) / (1 + e^(E0/T))^2
    (T, E0 in K), fitted like the built-in observables:

    >>> import jax.numpy as jnp
    >>> from jtls.fit import REGISTRY, Model, register_observable
    >>> def schottky(T, n, E0):
    ...     x = E0 / T
    ...     return n * x**2 / (4 * jnp.cosh(x / 2)**2)
    >>> obs = register_observable("schottky_doc", schottky, ("n", "E0"), positive=True,
    ...                           bounds={"n": (0, jnp.inf), "E0": (0, jnp.inf)},
    ...                           defaults={"n": 1.0, "E0": 1.0}, amplitude="n",
    ...                           quantity="C_v", overwrite=True)
    >>> Model("schottky_doc").param_names
    ['n', 'E0']
    >>> del REGISTRY["schottky_doc"]
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"observable name must be a non-empty string, got {name!r}")
    if name in REGISTRY and not overwrite:
        raise ValueError(f"observable {name!r} is already registered (pass overwrite=True)")
    if not callable(func):
        raise ValueError(f"observable {name!r}: func must be callable")
    params = tuple(params)
    if relative and positive:
        raise ValueError(f"observable {name!r}: relative and positive exclude each other")
    if "offset" in params:
        raise ValueError(f"observable {name!r}: 'offset' is added by the model, do not list it")
    if amplitude is not None and amplitude not in params:
        raise ValueError(f"observable {name!r}: amplitude {amplitude!r} is not one of {params}")
    for d, what in ((bounds or {}, "bounds"), (defaults or {}, "defaults"), (grid or {}, "grid"),
                    (held or {}, "held")):
        for k in d:
            if k not in params and not (k == "offset" and what != "grid"):
                raise ValueError(f"observable {name!r}: {what} names unknown parameter {k!r}")
    for what, names in (("physical", physical), ("scan", scan)):
        for k in (names or {}):
            if k not in params:
                raise ValueError(f"observable {name!r}: {what} names unknown parameter {k!r}")
    for k in static_context:
        if k not in tuple(context):
            raise ValueError(f"observable {name!r}: static_context names {k!r}, which is not in "
                             f"context {tuple(context)}")
    obs = Observable(name=name, func=func, params=params, context=tuple(context),
                     context_defaults=dict(context_defaults or {}), relative=relative,
                     positive=positive, bounds=dict(bounds or {}), defaults=dict(defaults or {}),
                     amplitude=amplitude, amplitude_power=float(amplitude_power),
                     grid=dict(grid or {}), guess=guess, quantity=quantity,
                     description=description, held={k: float(v) for k, v in (held or {}).items()},
                     static_context=tuple(static_context),
                     physical={k: (bool(a), bool(b)) for k, (a, b) in (physical or {}).items()},
                     validate=validate, values=values, caveats=caveats, scan=dict(scan or {}),
                     single_kernel=bool(single_kernel))
    REGISTRY[name] = obs
    return obs


def get_observable(name: str | Observable) -> Observable:
    """The registered :class:`Observable` of this name (an Observable is returned as is).

    Parameters
    ----------
    name : str or Observable
        A name in :data:`REGISTRY`.

    Returns
    -------
    Observable
        ValueError listing the registered names when ``name`` is unknown.

    Examples
    --------
    >>> from jtls.fit import get_observable
    >>> obs = get_observable("thermal_conductivity")
    >>> obs.params, obs.quantity
    (('B', 'mu'), 'kappa')
    """
    if isinstance(name, Observable):
        return name
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown observable {name!r}; registered: {sorted(REGISTRY)}") from None


# --------------------------------------------------------------------------
# built-in observables (resolved lazily from jtls.observables)

_WARMED = []


def _core(name):
    from .. import observables as _obs  # the lead's module
    if not _WARMED:
        # quadrature.reduced_grid is an lru_cache'd numpy table built with jnp
        # ops; building it first inside a jit trace fails, so build it eagerly.
        from .. import quadrature
        with jax.ensure_compile_time_eval():
            quadrature.reduced_grid()
        _WARMED.append(True)
    return getattr(_obs, name)


def _velocity(T, C, mu, A, omega, T_ref=1.0):
    return _core("velocity_shift")(T, C, mu, A, omega, T_ref)


def _dielectric(T, C_dip, mu, A, omega, T_ref=1.0):
    return _core("dielectric_shift")(T, C_dip, mu, A, omega, T_ref)


def _kappa(T, B, mu):
    return _core("thermal_conductivity")(T, B, mu)


def _cv(T, B, mu):
    return _core("specific_heat")(T, B, mu)


def _a_grid(T, ctx):
    """Candidate A (s^-1 K^-3): crossover T0 = (omega/A)^(1/3) across the data range."""
    T = np.asarray(T)
    t0 = np.geomspace(T.min() / 3.0, T.max() * 3.0, 12)
    return ctx["omega"] / t0**3


_MU_GRID = (0.1,)   # mu is well determined by LM from 0.1; the crossover (A) is what needs a scan

register_observable(
    "velocity", _velocity, ("C", "mu", "A"), context=("omega", "T_ref"),
    context_defaults={"T_ref": 1.0}, relative=True,
    bounds={"C": (0.0, INF), "mu": (0.0, 1.0), "A": (0.0, INF)},
    defaults={"C": 1e-4, "mu": 0.1, "A": 1e8}, amplitude="C",
    grid={"mu": _MU_GRID, "A": _a_grid}, quantity="Delta v / v",
    description="sound velocity, Eqs. (7)+(8) with the Eq. (3) DOS")
register_observable(
    "dielectric", _dielectric, ("C_dip", "mu", "A"), context=("omega", "T_ref"),
    context_defaults={"T_ref": 1.0}, relative=True,
    bounds={"C_dip": (0.0, INF), "mu": (0.0, 1.0), "A": (0.0, INF)},
    defaults={"C_dip": 1e-4, "mu": 0.1, "A": 1e8}, amplitude="C_dip",
    grid={"mu": _MU_GRID, "A": _a_grid}, quantity="Delta eps / eps",
    description="dielectric constant, -(Eqs. (7)+(8)) with C -> C_dip")
register_observable(
    "thermal_conductivity", _kappa, ("B", "mu"), positive=True,
    bounds={"B": (0.0, INF), "mu": (0.0, 1.0)}, defaults={"B": 1.0, "mu": 0.1},
    amplitude="B", amplitude_power=-1.0, grid={"mu": (0.01, 0.05, 0.1, 0.2, 0.4, 0.7)},
    quantity="kappa", description="thermal conductivity, Eq. (5) with the Eq. (3) DOS")
register_observable(
    "specific_heat", _cv, ("B", "mu"), positive=True,
    bounds={"B": (0.0, INF), "mu": (0.0, 1.0)}, defaults={"B": 1.0, "mu": 0.1},
    amplitude="B", amplitude_power=1.0, grid={"mu": (0.01, 0.05, 0.1, 0.2, 0.4, 0.7)},
    quantity="C_v", description="specific heat, Eq. (6) with the Eq. (3) DOS")


def _kappa_scattering(T, B, mu, E_b1, r_R):
    from ..observables.matthiessen import kappa_scattering
    _core("thermal_conductivity")   # builds the quadrature table outside any trace
    return kappa_scattering(T, B, mu, E_b1, r_R)


def _eb1_grid(T, ctx):
    """Candidate E_b1 (K): from negligible to boundary-dominated across the data."""
    return np.geomspace(1e-3, 3.0, 9) * max(1.0, float(np.max(T)))


def _rr_grid(T, ctx):
    """Candidate r_R ~ E_R^-(3-mu): Rayleigh crossover from below to far above the data."""
    return np.geomspace(0.5 * np.min(T), 50.0 * np.max(T), 9) ** -2.8


#: ``jtls fit --scattering`` channel -> parameter of thermal_conductivity_matthiessen
SCATTERING_CHANNELS = {"boundary": "E_b1", "rayleigh": "r_R"}

register_observable(
    "thermal_conductivity_matthiessen", _kappa_scattering, ("B", "mu", "E_b1", "r_R"),
    positive=True,
    bounds={"B": (0.0, INF), "mu": (0.0, 1.0), "E_b1": (0.0, INF), "r_R": (0.0, INF)},
    defaults={"B": 1.0, "mu": 0.1, "E_b1": 0.1, "r_R": 0.1},
    held={"E_b1": 0.0, "r_R": 0.0},
    amplitude="B", amplitude_power=-1.0,
    grid={"mu": (0.01, 0.05, 0.1, 0.2, 0.4), "E_b1": _eb1_grid, "r_R": _rr_grid},
    quantity="kappa",
    description="thermal conductivity, Eq. (5) with the Eq. (3) DOS plus boundary (E_b1, K) and "
                "Rayleigh (r_R) phonon scattering by Matthiessen's rule; both held at 0 (off) "
                "unless freed (jtls fit --scattering boundary,rayleigh)")
