"""Bookkeeping of a fit's structure, cached, and its numbers as one vector.

:func:`structure` maps the structure of a problem -- models (by identity),
dataset labels, weighting kinds, settings, shared names, the names held,
started and bounded -- to the global parameter list, the compiled solver's
static :class:`~jtls.fit.objective.Spec` and the bound transform.  It is
cached, so a fit repeated with new data of the same layout (new measurements,
another device, bootstrap-like loops) skips this work; everything that
depends on the numbers (validation, start values, the data vector) is redone
on every call by :func:`jtls.fit.engine.build_problem`.

:func:`flat_inputs` builds the compiled solve's input vector (the layout of
:func:`jtls.fit.kernel.flatten_inputs`) directly from the validated points.
"""
from __future__ import annotations

import collections
import dataclasses
import math

import numpy as np

from .objective import Spec, TermSpec, bucket_size, group_terms
from .params import Parameter, Transform


@dataclasses.dataclass
class Structure:
    """What a problem's structure fixes (cached by :func:`structure`)."""
    gnames: list            # per term: [(local, global name)]
    complete: list          # per term: all free parameters have start values
    param_info: list        # per global parameter: (name, term, local, lo, hi, fixed, physical)
    spec: Spec
    transform: Transform
    last: tuple = (None, None, None)

    def start(self, vals):
        """(Parameter list, internal start u0) for these values (reused when unchanged)."""
        try:
            key = tuple(float(v) for v in vals)
        except (TypeError, ValueError):
            key = None       # Parameter() below raises the error naming the parameter
        if key is not None and self.last[0] == key:
            return list(self.last[1]), self.last[2].copy()
        params = [Parameter(g, v, lo, hi, fixed=fixed, physical=phys)
                  for (g, _, _, lo, hi, fixed, phys), v in zip(self.param_info, vals)]
        u0 = self.transform.to_internal([params[i].value for i in self.spec.free])
        self.last = (key, params, u0)
        return list(params), u0.copy()


#: Structures of recent problems (see the module docstring), least recently used dropped.
STRUCTURES: "collections.OrderedDict" = collections.OrderedDict()
STRUCTURES_MAX = 64


def structure(models, points, contexts, kinds, single, share, fix, initial, bounds) -> Structure:
    try:
        key = (tuple((m, p.label, k, tuple(c.items())) for m, p, k, c in zip(models, points, kinds, contexts)),
               single, tuple(sorted(share)), tuple(sorted(fix)), tuple(sorted(initial)),
               tuple(sorted((k, tuple(float(b) for b in v)) for k, v in bounds.items())))
        hash(key)
    except (TypeError, ValueError):
        key = None
    if key is not None and key in STRUCTURES:
        STRUCTURES.move_to_end(key)
        return STRUCTURES[key]
    st = _build_structure(models, points, contexts, kinds, single, share, fix, initial, bounds)
    if key is not None:
        STRUCTURES[key] = st
        if len(STRUCTURES) > STRUCTURES_MAX:
            STRUCTURES.popitem(last=False)
    return st


def _build_structure(models, points, contexts, kinds, single, share, fix, initial, bounds) -> Structure:
    def gname(local, label):
        return local if (single or local in share) else f"{local}[{label}]"

    info: dict = {}          # global name -> (name, term, local, lo, hi, fixed)
    position: dict = {}
    term_specs, gnames_all, complete_all = [], [], []
    for k, (m, pts, ctx, kind) in enumerate(zip(models, points, contexts, kinds)):
        names = m.param_names
        gnames = [(local, gname(local, pts.label)) for local in names]
        complete_all.append(all(g in initial or g in fix or local in m.fixed or local in m.initial
                                for local, g in gnames))
        idx = []
        for local, g in gnames:
            if g not in info:
                lo, hi = bounds.get(g, m.bounds_of(local))
                phys = m.physical_of(local) if g not in bounds else _user_physical(m, local, bounds[g])
                info[g] = (g, k, local, float(lo), float(hi), g in fix or local in m.fixed, phys)
                position[g] = len(position)
            elif (local in m.fixed) and not info[g][5]:
                raise ValueError(f"shared parameter {g!r} is fixed in one model but free in another")
            idx.append(position[g])
        static = tuple((name, float(ctx[name])) for name in m.observable.static_context)
        term_specs.append(TermSpec(m.observable, m.offset, kind, tuple(idx), tuple(ctx), static))
        gnames_all.append(gnames)
    for name in list(fix) + list(initial) + list(bounds):
        if name not in info:
            raise ValueError(f"unknown parameter {name!r}; parameters: {list(info)}")
    param_info = list(info.values())
    free = tuple(i for i, p in enumerate(param_info) if not p[5])
    tr = Transform([Parameter(param_info[i][0], _inside(param_info[i][3], param_info[i][4]),
                              param_info[i][3], param_info[i][4]) for i in free])
    ctx_values = [[c[k] for k in c] for c in contexts]
    spec = Spec(tuple(term_specs), tuple(info), free, tuple(int(k) for k in tr.kinds),
                tuple(float(v) for v in tr.lo), tuple(float(v) for v in tr.hi),
                group_terms(term_specs, ctx_values))
    return Structure(gnames_all, complete_all, param_info, spec, tr)


def real_number(where: str, v) -> float:
    """``v`` as a float when it is one real number (a Python, numpy or JAX int or float, or a 0-d
    array of one); ValueError naming ``where`` for a string, bool, complex, array or other object."""
    try:
        a = None if isinstance(v, (str, bytes, bool, np.bool_)) else np.asarray(v)
    except Exception:  # noqa: BLE001 - any object numpy cannot read is not a number
        a = None
    if a is None or a.ndim != 0 or a.dtype.kind not in "iuf":
        raise ValueError(f"{where} must be a real number, got {v!r}")
    return float(a)


def check_settings(fix, initial, bounds, tmin, tmax) -> None:
    """ValueError naming the argument for settings of :func:`jtls.fit.fit` that are not real numbers
    (``tmin="0.1"``, ``fix={"mu": array([0, 0.1])}``, a bound that is no ``(lo, hi)`` pair); the
    checks of their values (finite, inside the bounds, lo < hi) follow in the structure."""
    for arg, mapping in (("fix", fix), ("initial", initial)):
        for name, v in (mapping or {}).items():
            real_number(f"{arg}[{name!r}]", v)
    for name, pair in (bounds or {}).items():
        if isinstance(pair, (str, bytes)) or np.ndim(pair) != 1 or len(pair) != 2:
            raise ValueError(f"bounds[{name!r}] must be a pair (lo, hi), got {pair!r}")
        for side, v in zip(("lo", "hi"), pair):
            real_number(f"bounds[{name!r}] {side}", v)
    for arg, v in (("tmin", tmin), ("tmax", tmax)):
        if v is not None and not math.isfinite(real_number(arg, v)):
            raise ValueError(f"{arg} must be a finite temperature in K, got {v!r}")


def check_initial(param_info, initial) -> None:
    """ValueError naming the parameter for a start value ``initial[name]`` beyond its bounds
    (it would otherwise be moved to just inside the bound, silently, where the transform of a
    bounded parameter is nearly flat)."""
    for g, _k, _local, lo, hi, fixed, _phys in param_info:
        v = initial.get(g)
        if v is not None and not fixed and math.isfinite(float(v)) and not lo <= float(v) <= hi:
            raise ValueError(f"initial: {g} = {float(v):g} is outside its bounds [{lo:g}, {hi:g}]")


def _user_physical(model, local, bounds) -> tuple:
    """Physical flags of bounds given to ``fit(bounds=...)``: physical only where
    they coincide with the model's physical bound."""
    lo, hi = (float(b) for b in bounds)
    m_lo, m_hi = model.bounds_of(local)
    p_lo, p_hi = model.physical_of(local)
    return (bool(p_lo and lo == m_lo), bool(p_hi and hi == m_hi))


def _inside(lo, hi):
    """Some value strictly inside (lo, hi) (a placeholder for building the Transform)."""
    if math.isfinite(lo) and math.isfinite(hi):
        return 0.5 * (lo + hi)
    if math.isfinite(lo):
        return lo + 1.0
    if math.isfinite(hi):
        return hi - 1.0
    return 0.0


def flat_inputs(u0, params, points, kinds, contexts):
    """The vector of :func:`jtls.fit.kernel.flatten_inputs` built directly from
    the points, every dataset padded to its :func:`~jtls.fit.objective.bucket_size`
    (zero-weight copies of its last point)."""
    real = [len(p.T) for p in points]
    nb = [bucket_size(n) for n in real]
    m = sum(nb)
    T = np.empty(m)
    y = np.empty(m)
    inv = np.ones(m)
    w = np.ones(m)
    o = 0
    for p, k, n, b in zip(points, kinds, real, nb):
        T[o:o + n] = p.T
        yk = y[o:o + n]
        if k == "log":
            np.log(p.y, out=yk)
        else:
            yk[:] = p.y
        if k == "sigma":
            np.divide(1.0, p.sigma, out=inv[o:o + n])
        if b > n:
            T[o + n:o + b] = p.T[-1]
            y[o + n:o + b] = yk[-1]
            inv[o + n:o + b] = inv[o + n - 1]
            w[o + n:o + b] = 0.0
        o += b
    ctx = [v for c in contexts for v in c.values()]
    n_ctx = [len(c) for c in contexts]
    flat = np.concatenate([u0, [p.value for p in params], T, y, inv, w, ctx])
    return flat, (len(u0), len(params), *nb, *nb, *nb, *nb, *n_ctx)
