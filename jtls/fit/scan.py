"""Global check of a fit along a declared parameter: one batched solve per grid value.

A least-squares solver finds a local minimum.  For a parameter whose
chi^2 profile can have several minima -- J0/h0 of the simulated-DOS
observables, whose curve shapes change non-monotonically across the library
-- an observable declares scan values (``register_observable(...,
scan={name: values or callable(T, context)})``).  After the solve,
:func:`global_scan` holds the parameter at every scan value (at most
:data:`MAX_SCAN_VALUES`, a longer grid thinned evenly with both ends kept)
and solves for the others (one batched, compiled constrained solve,
:func:`jtls.fit.constrained.solve_held`, with the loose
:data:`SCAN_OPTIONS`), which gives the profile chi^2_p(v) on the grid:

* if some chi^2_p(v) lies below the fit's chi^2 by more than
  :data:`RESTART_DELTA` (in units of s^2, the noise scale as in
  :mod:`jtls.fit.profile`), the solver had stopped in a secondary minimum:
  it is restarted from that held solution with every parameter free, the
  better solution is kept and a warning says so;
* if the profile has another local minimum below the 95 % level of the
  best one, separated from it by a barrier above that level, a warning
  names it: the 95 % confidence set is then not one interval, and the
  reported interval covers the best minimum only.

The grid profile is returned for the report (``FitResult.extra["scan"]``:
parameter, values, Delta chi^2 / s^2 at each, the 95 % level).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .constrained import ACCEPT, internal_where_inside, solve_held
from .projection import projected_profile
from .kernel import dispatch_solve, flatten_inputs, spec_single_kernel
from .profile import level_delta
from .solvers import SolverOptions

#: A grid point below the fit's chi^2 by more than this (Delta chi^2 / s^2) restarts the solver.
RESTART_DELTA = 0.01
#: The held solves of the scan: they locate basins, not optima to the last digit.  A solve
#: stopped by the step limit gives an upper bound of the profile there, which keeps every
#: conclusion drawn from it (a lower chi^2, a profile below the 95 % level) valid.
SCAN_OPTIONS = SolverOptions(max_steps=10, ftol=1e-9, xtol=1e-11, gtol=1e-9)
#: At most this many scan values: a longer grid is thinned evenly, keeping both ends.
MAX_SCAN_VALUES = 12


class ScanOutcome(NamedTuple):
    """``solution``: (out, x, r, J) after any restart; ``records``: one dict per scanned
    parameter; ``warnings``: sentences for the report."""
    solution: tuple
    records: list
    warnings: list


def _scan_values(problem, name):
    """(free index, grid values inside the bounds) of parameter ``name``, or None."""
    spec = problem.spec
    free_names = [problem.params[i].name for i in spec.free]
    for model, pts, ctx in zip(problem.models, problem.points, problem.contexts):
        obs = model.observable
        for base, g in getattr(obs, "scan", {}).items():
            if name != base and not name.startswith(base + "["):
                continue
            if name not in free_names:
                return None
            j = free_names.index(name)
            vals = g(pts.T, dict(ctx)) if callable(g) else g
            p = problem.params[spec.free[j]]
            vals = sorted({float(v) for v in np.asarray(vals, float).ravel() if p.min < v < p.max})
            if len(vals) > MAX_SCAN_VALUES:
                keep = np.unique(np.round(np.linspace(0, len(vals) - 1, MAX_SCAN_VALUES)).astype(int))
                vals = [vals[k] for k in keep]
            return (j, vals) if vals else None
    return None


def scanned_parameters(problem) -> list:
    """``[(name, free index, grid values)]`` of the free parameters of ``problem`` that an
    observable declares a scan for (each grid evaluated once)."""
    out = []
    for i in problem.spec.free:
        name = problem.params[i].name
        found = _scan_values(problem, name)
        if found is not None:
            out.append((name, *found))
    return out


def _profile_warning(name, values, d, level, best):
    """Sentence naming a second local minimum of the grid profile below ``level`` that a
    barrier above ``level`` separates from the best one (index ``best``), else None."""
    mins = [k for k in range(len(d))
            if (k == 0 or d[k] <= d[k - 1]) and (k == len(d) - 1 or d[k] <= d[k + 1])]
    for k in mins:
        if k == best or d[k] > level:
            continue
        lo, hi = sorted((k, best))
        if max(d[lo:hi + 1]) > level:
            return (f"{name}: the chi^2 profile has a second minimum at {values[k]:.4g} "
                    f"(Delta chi^2/s^2 = {d[k]:.2f}, below the 95 % level {level:.2f}) beyond a barrier "
                    f"above that level: the 95 % confidence set is not one interval, and the interval "
                    f"reported covers the best minimum ({values[best]:.4g}) only")
    return None


def _grid_profile(problem, j, vals, u, x0):
    """(chi^2 (k,), internal values (k, n)) of the profile of free parameter j at ``vals``
    (``u``, ``x0``: the solution, internal and physical): the closed-form projection of
    :mod:`jtls.fit.projection` where that is the optimum, else held solves started from it --
    one vmapped solve for models built on matrix products, else two continuations outward from
    the current value, up the grid and then down it.  Every finite chi^2 is an upper bound of
    the profile at its grid value (inf: no solution)."""
    spec, arrays = problem.spec, problem.arrays
    proj = projected_profile(spec, arrays, j, vals, x0)
    c2 = np.where(np.isfinite(proj.chi2), proj.chi2, np.inf)
    us = np.stack([internal_where_inside(spec, u, xk) for xk in proj.x])
    todo = [k for k in range(len(vals)) if not proj.exact[k]]
    if not todo:
        return c2, us
    masks = np.ones((len(todo), spec.n_free))
    masks[:, j] = 0.0
    if not spec_single_kernel(spec):
        # a model built on matrix products evaluates a batch of parameter sets for a fraction of
        # the cost of as many single evaluations (the simulated DOS: 12 for ~3): one vmapped solve
        order = todo
        c = solve_held(spec, arrays, us[order], masks, SCAN_OPTIONS, vmapped=True, skip=(j,))
    else:
        xj = float(x0[j])
        order = [k for k in todo if vals[k] > xj] + [k for k in reversed(todo) if vals[k] <= xj]
        n_up = sum(1 for k in todo if vals[k] > xj)
        follow = np.array([0.0 if i in (0, n_up) else 1.0 for i in range(len(order))])
        c = solve_held(spec, arrays, us[order], masks, SCAN_OPTIONS, follow=follow, skip=(j,))
    # a solve stopped by the step limit is an upper bound of the profile: usable (see SCAN_OPTIONS)
    for i, k in enumerate(order):
        good = (int(c.status[i]) in ACCEPT or int(c.status[i]) == 1) and np.isfinite(c.chi2[i])
        if good and c.chi2[i] <= c2[k]:
            c2[k], us[k] = c.chi2[i], c.u[i]
    return c2, us


def global_scan(problem, method, opts, solution) -> ScanOutcome:
    """Check a solved problem along its declared scan parameters (module docstring).

    Parameters
    ----------
    problem : :class:`jtls.fit.engine.Problem`
    method, opts : the solver and its options (used for a restart).
    solution : ``(out, x, r, J)`` of the solve (numpy; see :func:`jtls.fit.kernel.dispatch_solve`).

    Returns
    -------
    ScanOutcome
        Unchanged ``solution`` and no records when no free parameter is scanned.
    """
    scanned = scanned_parameters(problem)
    if not scanned:
        return ScanOutcome(solution, [], [])
    spec, arrays = problem.spec, problem.arrays
    absolute = all(k == "sigma" for k in problem.kinds)
    real = tuple(p.T.size for p in problem.points)
    n = spec.n_free
    records, warnings = [], []
    for name, j, vals in scanned:
        out, x, r, J = solution
        u = np.asarray(out.u, float)
        chi2 = float(r @ r) if np.isfinite(r).all() else math.inf
        N = int(r.size)
        x0 = np.asarray(x, float)
        if not math.isfinite(chi2) or not np.isfinite(u).all() or not np.isfinite(x0).all():
            u = np.asarray(problem.u0, float)
            x0 = np.asarray(spec.transform().to_physical(u), float)
        c2, us = _grid_profile(problem, j, vals, u, x0)
        ok = np.isfinite(c2)
        if not ok.any():
            warnings.append(f"{name}: the global scan over {len(vals)} values found no solution")
            continue
        k_best = int(np.argmin(np.where(ok, c2, np.inf)))
        scale2 = 1.0 if absolute or not math.isfinite(chi2) else max(chi2 / max(N - n, 1), 1e-300)
        if float(c2[k_best]) < chi2 - RESTART_DELTA * scale2:
            flat, sizes = flatten_inputs(us[k_best], arrays)
            new = dispatch_solve(method, spec, sizes, flat, opts, real=real)()
            r_new = np.asarray(new[2], float)
            chi2_new = float(r_new @ r_new) if np.isfinite(r_new).all() else math.inf
            if chi2_new < chi2:
                warnings.append(
                    f"{name}: the solver had stopped in a secondary minimum (chi^2 = {chi2:.6g} at "
                    f"{name} = {float(x[j]):.4g}); the global scan over {len(vals)} values found a lower one "
                    f"and the fit was restarted from {name} = {vals[k_best]:.4g}")
                solution = new
                out, x, r, J = new
                chi2 = chi2_new
        if not math.isfinite(chi2):
            continue
        scale2 = 1.0 if absolute else max(chi2 / max(N - n, 1), 1e-300)
        pts = sorted([(float(v), float(q)) for v, q, good in zip(vals, c2, ok) if good]
                     + [(float(x[j]), chi2)])
        values = [v for v, _ in pts]
        d = [max((q - chi2) / scale2, 0.0) for _, q in pts]
        level = level_delta("95", None if absolute else N - n)
        best = values.index(float(x[j]))
        msg = _profile_warning(name, values, d, level, best)
        if msg:
            warnings.append(msg)
        records.append({"parameter": name, "values": values, "delta_chi2": d, "level95": level,
                        "failed": [float(v) for v, good in zip(vals, ok) if not good]})
    return ScanOutcome(solution, records, warnings)
