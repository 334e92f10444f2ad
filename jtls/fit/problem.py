"""The least-squares problem of a fit: models and data checked and joined into one weighted
problem (:class:`Problem`, :func:`build_problem`), with the automatic start guess.

Data may be a :class:`jtls.data.Dataset` (attributes ``T``, ``value``,
``sigma``, and optionally ``omega``, ``T_ref``, ``material``, ``excluded``...),
a tuple ``(T, y)`` / ``(T, y, sigma)`` of arrays, or a dict with keys ``T``,
``value`` (or ``y``) and optionally ``sigma``.  T in kelvin.  :func:`jtls.fit.engine.fit`
solves and judges it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np

from .model import Model
from .objective import Arrays, Spec, make_term_arrays
from .params import nudge_inside
from .structure import check_initial, check_settings, flat_inputs as _flat_inputs, structure as _structure
from .points import as_points, points_many


# --------------------------------------------------------------------------
# data: jtls.fit.points

#: Largest number of points the automatic start guess looks at: longer
#: datasets are thinned to this many points spread evenly over their index
#: range (first and last kept).  The guess scans a parameter grid with the full
#: model at every point; on 4000 points that was ~45 % of a fit, and every new
#: length compiled the scan again.  Thinned, its cost and compiled shape no
#: longer depend on the length.
GUESS_POINTS = 256

def guess_points(T, y):
    """(T, y) thinned to at most :data:`GUESS_POINTS` points for the start guess."""
    n = T.size
    if n <= GUESS_POINTS:
        return T, y
    idx = np.round(np.linspace(0, n - 1, GUESS_POINTS)).astype(int)
    return T[idx], y[idx]


# --------------------------------------------------------------------------
# problem

@dataclasses.dataclass
class Problem:
    """A built problem: static spec, numbers, start point, and bookkeeping.

    ``flat``/``sizes``: all numbers as one vector (the layout of
    :func:`jtls.fit.kernel.flatten_inputs`), what the compiled solve takes;
    ``arrays`` (:class:`~jtls.fit.objective.Arrays`) is built from the points
    on first use.
    """
    spec: Spec
    _arrays: Arrays | None
    params: list            # global Parameter list (guessed initial values)
    u0: np.ndarray          # internal start of the free parameters
    models: list
    points: list
    contexts: list
    kinds: list
    flat: np.ndarray | None = None
    sizes: tuple | None = None

    @property
    def arrays(self) -> Arrays:
        if self._arrays is None:
            tarr = tuple(make_term_arrays(kind, p.T, p.y, p.sigma, None, [c[k] for k in c])
                         for kind, p, c in zip(self.kinds, self.points, self.contexts))
            x_all = np.array([p.value for p in self.params], dtype=np.float64)
            self._arrays = Arrays(tarr, x_all)
        return self._arrays

    @property
    def labels(self):
        return [p.label for p in self.points]

    @property
    def free_names(self):
        return [self.params[i].name for i in self.spec.free]


def _normalise_terms(model, data):
    """-> list of (Model, data, label)."""
    if data is not None and isinstance(model, (list, tuple)) and not isinstance(data, dict):
        # fit([m1, m2], [d1, d2]): one dataset per model
        if not (isinstance(data, (list, tuple)) and len(data) == len(model)):
            raise ValueError(f"fit: {len(model)} models need as many datasets, given as a list "
                             "(fit([m1, m2], [d1, d2])), or one list of (model, data, label) terms "
                             "(fit([(m1, d1, 'a'), (m2, d2, 'b')]))")
        model, data = [(m, d, None) for m, d in zip(model, data)], None
    if data is None:
        if isinstance(model, (Model, str)):
            raise ValueError("fit: no data given (fit(model, (T, y)) or fit([(model, data, label), ...]))")
        terms = []
        for t in model:
            if isinstance(t, dict):
                terms.append((t["model"], t["data"], t.get("label")))
            else:
                t = tuple(t)
                terms.append((t[0], t[1], t[2] if len(t) > 2 else None))
    else:
        terms = [(model, data, None)]
    out = []
    for m, d, lab in terms:
        out.append((m if isinstance(m, Model) else Model(m), d, lab))
    return out


def build_problem(model: Model | str | Sequence, data: Any = None, *, share: Sequence[str] = (),
                  fix: Mapping[str, float] | None = None,
                  initial: Mapping[str, float] | None = None,
                  bounds: Mapping[str, tuple[float, float]] | None = None,
                  tmin: float | None = None, tmax: float | None = None) -> Problem:
    """Assemble the least-squares :class:`Problem` that :func:`fit` solves, without solving it.

    Useful to inspect the free parameters, the weighting and the points kept
    before a fit, or to solve the same problem repeatedly with
    :func:`run_problem`.

    Parameters
    ----------
    model : Model, str or sequence
        A :class:`~jtls.fit.Model`, an observable name, or (joint fit,
        ``data`` omitted) a sequence of ``(model, data)`` / ``(model, data,
        label)`` terms.
    data : Dataset, tuple or dict, optional
        The measured curve (see the module docstring); T in K.
    share : sequence of str
        Parameter names common to all terms of a joint fit.
    fix, initial : Mapping[str, float], optional
        Held values / starting values, by global parameter name.
    bounds : Mapping[str, tuple of float], optional
        ``(lo, hi)`` bounds by global name (overriding the models').
    tmin, tmax : float, optional
        Temperature window, K.

    Returns
    -------
    Problem
        ``free_names``, ``labels``, ``points`` (the kept data), ``params``
        (guessed starting values) and the compiled-solve inputs.

    Raises
    ------
    ValueError
        For no data, unknown parameter names, or a joint fit that mixes
        datasets with and without per-point sigma.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls.fit import build_problem
    >>> T = np.geomspace(0.1, 1.0, 12)
    >>> p = build_problem("specific_heat", (T, jtls.specific_heat(T, 2.0, 0.1)),
    ...                   fix={"mu": 0.1}, tmax=0.5)
    >>> p.free_names, p.labels, p.points[0].T.size
    (['B'], ['data'], 8)
    """
    check_settings(fix, initial, bounds, tmin, tmax)
    fix, initial = dict(fix or {}), dict(initial or {})
    models, points, contexts, kinds, st = _checked_terms(model, data, share, fix, initial, bounds, tmin, tmax)
    check_initial(st.param_info, initial)
    guesses = []
    for k, (m, pts, ctx) in enumerate(zip(models, points, contexts)):
        if st.complete[k]:   # every free parameter has a start value: no automatic guess
            guesses.append(m.initial)
        else:
            given = {local: initial[g] for local, g in st.gnames[k] if g in initial}
            given.update({local: fix[g] for local, g in st.gnames[k] if g in fix})
            Tg, yg = guess_points(pts.T, pts.y)
            guesses.append(m.guess(Tg, yg, ctx, given=given))
    vals = []
    for g, k, local, lo, hi, fixed, _phys in st.param_info:
        m = models[k]
        if g in fix:
            val = fix[g]
        elif local in m.fixed:
            val = m.fixed[local]
        else:
            val = initial[g] if g in initial else guesses[k][local]
        if not fixed and not (lo < val < hi):
            val = nudge_inside(val, lo, hi)
        vals.append(val)
    params, u0 = st.start(vals)
    flat, sizes = _flat_inputs(u0, params, points, kinds, contexts)
    return Problem(st.spec, None, params, u0, models, points, contexts, kinds, flat, sizes)


def check_problem(model: Model | str | Sequence, data: Any = None, *, share: Sequence[str] = (),
                  fix: Mapping[str, float] | None = None, initial: Mapping[str, float] | None = None,
                  bounds: Mapping[str, tuple[float, float]] | None = None,
                  tmin: float | None = None, tmax: float | None = None) -> None:
    """Every check :func:`build_problem` makes of the data and the settings (points kept in
    the window, weighting, parameter names, the observable's own range checks), without the
    automatic guess: raises the same ValueError, or returns None.  ``jtls fit`` with several
    files checks them all with it before fitting any."""
    _checked_terms(model, data, share, dict(fix or {}), dict(initial or {}), bounds, tmin, tmax)


def _checked_terms(model, data, share, fix, initial, bounds, tmin, tmax):
    """(models, points, contexts, kinds, structure) of a problem: the data read into points and
    checked, the parameters laid out; the first half of :func:`build_problem`."""
    terms = _normalise_terms(model, data)
    if not terms:
        raise ValueError("fit: no datasets given")
    single = len(terms) == 1
    if isinstance(share, str):
        share = [share]
    share = set(share)
    known = {n for m, _, _ in terms for n in m.param_names}
    unknown = sorted(share - known)
    if unknown:
        raise ValueError(f"share: {unknown} {'is not a parameter' if len(unknown) == 1 else 'are not parameters'} "
                         f"of the models (their parameters: {sorted(known)})")
    if tmin is None and tmax is None:
        all_points = points_many([(d, lab) for _, d, lab in terms])
    else:
        all_points = [as_points(d, lab, tmin=tmin, tmax=tmax) for _, d, lab in terms]
    points, contexts, kinds = [], [], []
    labels_seen = set()
    for i, ((m, _, _), pts) in enumerate(zip(terms, all_points)):
        if not single and (pts.label in labels_seen or pts.label == "data"):
            pts.label = f"{pts.label}{i}" if pts.label != "data" else str(i)
        labels_seen.add(pts.label)
        kind = m.residual_kind(pts.sigma is not None)
        points.append(pts)
        contexts.append(m.resolve_context(pts.source))
        kinds.append(kind)
    with_sigma = [pts.label for pts, k in zip(points, kinds) if k == "sigma"]
    if with_sigma and len(with_sigma) < len(points):
        without = [pts.label for pts, k in zip(points, kinds) if k != "sigma"]
        raise ValueError(
            f"joint fit mixes datasets with per-point sigma ({', '.join(with_sigma)}) and without "
            f"({', '.join(without)}): their chi^2 contributions have no common scale, so the "
            "uncertainties would be meaningless. Give sigma for every dataset, or ignore the given "
            "sigma with Model(..., weighting='absolute' or 'log') on the datasets that have it")
    logs = [pts for pts, k in zip(points, kinds) if k == "log"]
    if logs and not min(float(pts.y.min()) for pts in logs) > 0:
        for m, pts, kind in zip([t[0] for t in terms], points, kinds):
            bad = np.flatnonzero(~(pts.y > 0)) if kind == "log" else ()
            if len(bad):
                raise ValueError(f"dataset {pts.label!r}: log weighting ({m.name}) needs value > 0, got "
                                 f"{pts.y[bad[0]]} at T = {pts.T[bad[0]]} K")
    for m, pts in zip([t[0] for t in terms], points):
        # a positive quantity (kappa, C, Qi) without an offset term cannot be <= 0, whatever the
        # weighting: a sign or column error (jtls.data.load_csv refuses such a value too)
        bad = np.flatnonzero(~(pts.y > 0)) if m.observable.positive and not m.offset else ()
        if len(bad):
            raise ValueError(f"dataset {pts.label!r}: {m.name} is a positive quantity, got value "
                             f"{pts.y[bad[0]]} at T = {pts.T[bad[0]]} K (point {int(bad[0])}): a sign or "
                             "column error?")
        why = m.observable.values(np.asarray(pts.y, float)) if m.observable.values is not None else None
        if why:
            raise ValueError(f"dataset {pts.label!r}: {why}")

    bounds = dict(bounds or {})
    models = [t[0] for t in terms]
    st = _structure(models, points, contexts, kinds, single, share, fix, initial, bounds)
    for k, (m, pts, ctx) in enumerate(zip(models, points, contexts)):
        if m.observable.validate is not None:      # e.g. data outside a tabulated DOS (names T)
            held = {**m.fixed, **{local: fix[g] for local, g in st.gnames[k] if g in fix}}
            start = {**m.initial, **{local: initial[g] for local, g in st.gnames[k] if g in initial}}
            m.observable.validate(np.asarray(pts.T, dtype=float), held, dict(ctx, __initial__=start))
    return models, points, contexts, kinds, st
