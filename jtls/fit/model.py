"""Fit models: jtls observables with named parameters (the registry: :mod:`jtls.fit.registry`).

An *observable* is a registered function ``func(T, **params, **context)``
returning the predicted curve at temperatures ``T`` (K).  ``params`` are the
quantities a fit can vary (paper names: ``C``, ``C_dip``, ``mu``, ``A``,
``B``), ``context`` the experimental settings it never varies (probing
frequency ``omega`` in rad/s, reference temperature ``T_ref`` in K).

Built-in observables (Churkin et al. 2021)
------------------------------------------
=====================  ==========================  ==========  =============
name                   function                    parameters  data
=====================  ==========================  ==========  =============
velocity               Eqs. (7)+(8), Eq. (3) DOS   C, mu, A    Delta v / v, relative: + offset
dielectric             same with C -> C_dip, sign  C_dip,mu,A  Delta eps/eps, relative: + offset
thermal_conductivity   Eq. (5), Eq. (3) DOS        B, mu       kappa (any units; positive)
specific_heat          Eq. (6), Eq. (3) DOS        B, mu       C_v (any units; positive)
=====================  ==========================  ==========  =============

``thermal_conductivity_matthiessen`` is Eq. (5) plus boundary and Rayleigh
phonon scattering (Matthiessen's rule, :func:`jtls.observables.matthiessen.kappa_scattering`):
parameters ``B``, ``mu``, ``E_b1`` (K: at T = 1 K phonons below E_b1 are
boundary-limited) and ``r_R`` (Rayleigh-to-TLS rate ratio of a 1 K phonon),
the last two held at 0 (channel off) unless freed --
``Model("thermal_conductivity_matthiessen", free=["E_b1"])``, ``jtls fit
--observable thermal_conductivity --scattering boundary,rayleigh``.  0 is
their physical lower bound, so a fit reports the tests ``E_b1_zero`` and
``r_R_zero`` (is the channel needed?).

*Relative* observables get an additive ``offset`` parameter (data measured
against an arbitrary reference) and are weighted, without per-point sigma,
with constant absolute errors.  *Positive* observables spanning decades are
weighted, without sigma, with constant relative errors (residuals of ln y).

Extending
---------
Other modules add observables with :func:`register_observable`, e.g.::

    from jtls.fit import register_observable
    register_observable("resonator_shift", my_shift, params=("F_delta", "mu"),
                        context=("omega",), relative=True,
                        bounds={"F_delta": (0, inf), "mu": (0, 1)},
                        defaults={"F_delta": 1e-5, "mu": 0.1},
                        amplitude="F_delta")

after which ``Model("resonator_shift")``, joint fits, batches and (when the
name is added to its choices by the CLI owner) ``jtls fit`` can use it.
"""
from __future__ import annotations

import dataclasses
import itertools
import math
from functools import partial
from typing import Mapping, Sequence

import numpy as np
import jax
import jax.numpy as jnp

from .. import _exported
from .params import Parameter, nudge_inside
# the registry (re-exported: jtls.fit.model was its home and stays its entry point)
from .registry import (INF, REGISTRY, SCATTERING_CHANNELS, Observable, get_observable,  # noqa: F401
                       register_observable)


# --------------------------------------------------------------------------

@partial(jax.jit, static_argnums=0)
def _grid_eval(obs, stack, other, T, context):
    """Curves of ``obs`` at every grid point (leading axis of ``stack``)."""
    def one(point):
        return obs.func(T, **other, **point, **context)
    return jax.vmap(one)(stack)


@dataclasses.dataclass(frozen=True, eq=False)
class Model:
    """An observable with parameter settings (bounds, fixed values, initial values).

    Parameters
    ----------
    observable : registered name or :class:`Observable`.
    fixed : ``{name: value}`` parameters held fixed (``offset`` included).
    free : names of parameters the observable holds by default (``held``)
        that this model fits.
    initial : ``{name: value}`` starting values of free parameters (otherwise
        the automatic guess).
    bounds : ``{name: (lo, hi)}`` overriding the observable's bounds.
    offset : add the additive ``offset`` parameter; default: the observable
        is relative.
    weighting : ``"auto"`` (sigma if given, else the observable's default),
        ``"absolute"`` (constant absolute errors) or ``"log"`` (constant
        relative errors) -- the latter two apply when no sigma is given.
    dos : ``None`` (the observable as registered, Eq. (3) for the built-in
        ones) or ``"simulated"``: the same observable with the simulated DOS
        of Hamiltonian (2) from the shipped library, parameters ``J0_h0`` and
        ``h0`` instead of ``mu`` (see :mod:`jtls.simulated.observables`).
    context : settings such as ``omega`` (rad/s) and ``T_ref`` (K).

    Notes
    -----
    Parameter units are those of the observable's function: for the built-in
    ones ``C``, ``C_dip`` and ``mu`` dimensionless, ``A`` in s^-1 K^-3,
    ``B`` in K^-(1+mu) and ``offset`` in the unit of the data.

    Examples
    --------
    The vitreous-silica velocity of Fig. 5a, once with the standard
    tunneling model (mu held at 0):

    >>> import jtls
    >>> from jtls.fit import Model
    >>> m = Model("velocity", omega=jtls.units.paper_frequency(90e3), fixed={"mu": 0.0})
    >>> m.name, m.param_names, m.fixed
    ('velocity', ['C', 'mu', 'A', 'offset'], {'mu': 0.0})
    >>> print(f"{m.context['omega']:.6g} rad/s")
    565487 rad/s

    ``jtls.fit.fit(m, (T, dv_over_v))`` then fits it (see :class:`FitResult`).
    """
    observable: Observable
    fixed: Mapping = dataclasses.field(default_factory=dict)
    initial: Mapping = dataclasses.field(default_factory=dict)
    bounds: Mapping = dataclasses.field(default_factory=dict)
    offset: bool | None = None
    weighting: str = "auto"
    context: Mapping = dataclasses.field(default_factory=dict)

    def __init__(self, observable: str | Observable, *, fixed: Mapping[str, float] | None = None,
                 free: Sequence[str] = (), initial: Mapping[str, float] | None = None,
                 bounds: Mapping[str, tuple[float, float]] | None = None,
                 offset: bool | None = None, weighting: str = "auto", dos: str | None = None,
                 **context: float):
        if dos is not None:
            if dos not in ("simulated", "power_law"):
                raise ValueError(f"argument 'dos' must be None, 'power_law' or 'simulated', got {dos!r}")
            if dos == "simulated":
                from ..simulated.observables import register as _register_simulated
                observable = _register_simulated(getattr(observable, "name", observable))
        obs = get_observable(observable)
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("observable", obs)
        set_("offset", obs.relative if offset is None else bool(offset))
        fixed = {k: float(v) for k, v in (fixed or {}).items()}
        for k in free:
            if k in fixed:
                raise ValueError(f"parameter {k!r} is both fixed and free")
            if k not in obs.params and k != "offset":
                raise ValueError(f"free: unknown parameter {k!r} for observable {obs.name!r} "
                                 f"(parameters: {list(obs.params)})")
        held = {k: v for k, v in obs.held.items() if k not in free}
        set_("fixed", {**held, **fixed})
        set_("initial", {k: float(v) for k, v in (initial or {}).items()})
        set_("bounds", {k: (float(a), float(b)) for k, (a, b) in (bounds or {}).items()})
        if weighting not in ("auto", "absolute", "log"):
            raise ValueError(f"weighting must be 'auto', 'absolute' or 'log', got {weighting!r}")
        set_("weighting", weighting)
        for k in context:
            if k not in obs.context:
                raise ValueError(f"observable {obs.name!r} takes no setting {k!r} "
                                 f"(settings: {list(obs.context)})")
        set_("context", {k: float(v) for k, v in context.items() if v is not None})
        names = self.param_names
        for what, d in (("fixed", self.fixed), ("initial", self.initial), ("bounds", self.bounds)):
            for k in d:
                if k not in names:
                    raise ValueError(f"{what}: unknown parameter {k!r} for observable "
                                     f"{obs.name!r} (parameters: {names})")

    @property
    def name(self) -> str:
        """The observable's registered name."""
        return self.observable.name

    @property
    def param_names(self) -> list:
        """The observable's parameters, then ``offset`` when the model has one."""
        return list(self.observable.params) + (["offset"] if self.offset else [])

    def replace(self, **changes) -> "Model":
        """A copy with keyword arguments of the constructor changed."""
        held = self.observable.held
        kw = dict(fixed=self.fixed, initial=self.initial, bounds=self.bounds, offset=self.offset,
                  weighting=self.weighting, free=[k for k in held if k not in self.fixed], **self.context)
        kw.update(changes)
        return Model(self.observable, **kw)

    def resolve_context(self, data=None) -> dict:
        """Settings for ``func``: model > dataset attribute > observable default."""
        out = {}
        for k in self.observable.context:
            if k in self.context:
                v = self.context[k]
            elif data is not None and getattr(data, k, None) is not None:
                v = float(getattr(data, k))
            elif k in self.observable.context_defaults:
                v = float(self.observable.context_defaults[k])
            else:
                raise ValueError(f"observable {self.name!r} needs {k!r} (give it to the model, "
                                 f"the dataset, or --{k} on the command line)")
            if not math.isfinite(v):
                raise ValueError(f"setting {k!r} must be finite, got {v}")
            out[k] = v
        return out

    def residual_kind(self, has_sigma: bool) -> str:
        """'sigma', 'absolute' or 'log' for this model's data."""
        if has_sigma and self.weighting == "auto":
            return "sigma"
        if self.weighting != "auto":
            return self.weighting
        return "log" if self.observable.positive else "absolute"

    def bounds_of(self, name) -> tuple:
        if name in self.bounds:
            return self.bounds[name]
        return tuple(self.observable.bounds.get(name, (-INF, INF)))

    def physical_of(self, name) -> tuple:
        """(lower, upper): whether each bound of ``name`` is physical.

        The observable's declaration (default: a lower bound of 0); a bound
        the user moved (``bounds=``) is a search limit unless it equals the
        observable's physical bound."""
        obs_lo, obs_hi = tuple(self.observable.bounds.get(name, (-INF, INF)))
        if name in self.observable.physical:
            p_lo, p_hi = self.observable.physical[name]
        else:
            p_lo, p_hi = obs_lo == 0.0, False
        lo, hi = self.bounds_of(name)
        return (bool(p_lo and math.isfinite(lo) and lo == obs_lo),
                bool(p_hi and math.isfinite(hi) and hi == obs_hi))

    def predict(self, T, values: Mapping, context: Mapping):
        """Model curve: func(T, **params, **context) (+ offset).  JAX-traceable."""
        kw = {k: values[k] for k in self.observable.params}
        y = self.observable.func(T, **kw, **context)
        if self.offset:
            y = y + values["offset"]
        return y

    # -- automatic initial guess ------------------------------------------
    def guess(self, T, y, context: Mapping, given: Mapping | None = None) -> dict:
        """Starting values for every parameter (fixed ones at their values).

        Scans the observable's ``grid`` for its non-linear parameters, solving
        for the amplitude (and offset) by linear least squares at each grid
        point, in the residual space of the default weighting; keeps the best.
        """
        obs = self.observable
        T = np.asarray(T, float)
        y = np.asarray(y, float)
        vals = {k: obs.defaults.get(k, 1.0) for k in self.param_names}
        if "offset" in vals:
            vals["offset"] = obs.defaults.get("offset", 0.0)
        given = dict(given or {})
        need = [k for k in self.param_names
                if k not in self.fixed and k not in self.initial and k not in given]
        if not need:
            pass
        elif obs.guess is not None:
            vals.update({k: float(v) for k, v in obs.guess(T, y, dict(context)).items()})
        else:
            vals.update(self._grid_guess(T, y, context, vals))
        vals.update(self.initial)
        vals.update(given)
        vals.update(self.fixed)
        for k in self.param_names:
            if k not in self.fixed and k not in self.initial:
                lo, hi = self.bounds_of(k)
                vals[k] = nudge_inside(float(vals[k]), lo, hi)
        return vals

    def _grid_guess(self, T, y, context, base):
        obs = self.observable
        amp = obs.amplitude
        free = lambda k: k not in self.fixed and k not in self.initial  # noqa: E731
        axes = {}
        for k, g in obs.grid.items():
            if not free(k):
                continue
            vals = g(T, context) if callable(g) else g
            lo, hi = self.bounds_of(k)
            axes[k] = [v for v in np.asarray(vals, float) if lo < v < hi] or [base[k]]
        names = list(axes)
        combos = list(itertools.product(*[axes[k] for k in names])) or [()]
        fixed_vals = {**base, **self.initial, **self.fixed}
        stack = {k: jnp.asarray([c[i] for c in combos]) for i, k in enumerate(names)}
        other = {k: jnp.asarray(float(fixed_vals[k])) for k in obs.params if k not in names}
        if amp is not None and free(amp):
            other[amp] = jnp.asarray(1.0)

        try:
            curves = np.asarray(_exported.call("grid_eval", _grid_eval, (0,), (
                obs, stack, other, jnp.asarray(T), {k: jnp.asarray(v) for k, v in context.items()})))
        except Exception:  # noqa: BLE001  -- a guess failure must not stop the fit
            return {}
        best, best_cost = {}, np.inf
        log_space = self.residual_kind(False) == "log"
        offset_free = self.offset and free("offset")
        for i, c in enumerate(combos):
            g = curves[i]
            if not np.all(np.isfinite(g)):
                continue
            out = dict(zip(names, c))
            if amp is not None and free(amp):
                if log_space:
                    if np.any(g <= 0) or np.any(y <= 0):
                        continue
                    la = np.mean(np.log(y) - np.log(g)) / obs.amplitude_power
                    a = math.exp(la)
                    pred = np.log(g) + obs.amplitude_power * la
                    cost = np.sum((np.log(y) - pred) ** 2)
                else:
                    cols = [g] + ([np.ones_like(g)] if offset_free else [])
                    target = y - (fixed_vals.get("offset", 0.0) if self.offset and not offset_free else 0.0)
                    coef, *_ = np.linalg.lstsq(np.stack(cols, 1), target, rcond=None)
                    s = coef[0]
                    if obs.amplitude_power != 1.0:
                        if s <= 0:
                            continue
                        a = s ** (1.0 / obs.amplitude_power)
                    else:
                        a = s
                    lo, hi = self.bounds_of(amp)
                    if not (lo < a < hi):
                        continue
                    if offset_free:
                        out["offset"] = float(coef[1])
                    cost = np.sum((target - np.stack(cols, 1) @ coef) ** 2)
                out[amp] = float(a)
            else:
                pred = g * (1.0 if amp is None else 1.0)
                if log_space:
                    if np.any(pred <= 0) or np.any(y <= 0):
                        continue
                    cost = np.sum((np.log(y) - np.log(pred)) ** 2)
                else:
                    off = float(np.mean(y - pred)) if offset_free else fixed_vals.get("offset", 0.0)
                    if offset_free:
                        out["offset"] = off
                    cost = np.sum((y - pred - (off if self.offset else 0.0)) ** 2)
            if cost < best_cost:
                best, best_cost = out, cost
        return best

    def parameters(self, T, y, context) -> list:
        """List of :class:`Parameter` with automatic guesses, bounds and fixed flags."""
        vals = self.guess(T, y, context)
        out = []
        for k in self.param_names:
            lo, hi = self.bounds_of(k)
            out.append(Parameter(k, vals[k], lo, hi, fixed=k in self.fixed))
        return out
