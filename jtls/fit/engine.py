"""``fit``: solve a (joint) least-squares problem built from models and data
(:mod:`jtls.fit.problem`) and judge what the data determine (:mod:`jtls.fit.inference`).

Data may be a :class:`jtls.data.Dataset` (attributes ``T``, ``value``,
``sigma``, and optionally ``omega``, ``T_ref``, ``material``, ``excluded``...),
a tuple ``(T, y)`` / ``(T, y, sigma)`` of arrays, or a dict with keys ``T``,
``value`` (or ``y``) and optionally ``sigma``.  T in kelvin.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

from .model import Model
from .objective import residual_x, weighting_text
# the problem (re-exported: jtls.fit.engine was its home)
from .problem import (GUESS_POINTS, Problem, _checked_terms, _normalise_terms, build_problem,  # noqa: F401
                      check_problem, guess_points)
from .bounds import held_for_certain
from .inference import infer
from .constrained import prefetch_held
from .result import FitResult
from .solvers import STATUS, SOLVERS, SolverOptions, default_options
from .kernel import dispatch_solve, flatten_inputs
from .scan import ScanOutcome, global_scan
from .points import Points, as_points  # noqa: F401  (re-exported)


#: Compile the verdict's held-solve program in a background thread while the solve compiles
#: (:func:`jtls.fit.constrained.prefetch_held`); only where there is a second core to use.
PREFETCH = (os.cpu_count() or 1) > 1


def result_parts(problem: Problem, method: str) -> dict:
    """The parts of a :class:`FitResult` that do not depend on the solution
    (data, labels, weighting, settings...).  :func:`run_problem` builds them
    while the compiled solve runs."""
    points, params = problem.points, problem.params
    data = {}
    for pts in points:
        data[pts.label] = {"T": pts.T.tolist(), "y": pts.y.tolist(),
                           "sigma": None if pts.sigma is None else pts.sigma.tolist()}
    return dict(
        names=[p.name for p in params], fixed={p.name: float(p.value) for p in params if p.fixed},
        bounds={p.name: (p.min, p.max) for p in params}, solver=method,
        weighting={p.label: weighting_text(k) for p, k in zip(points, problem.kinds)},
        observables={p.label: m.name for p, m in zip(points, problem.models)},
        labels=problem.labels, context={p.label: dict(c) for p, c in zip(points, problem.contexts)},
        excluded=[e for pts in points for e in pts.excluded], data=data,
        extra={"offset": {p.label: m.offset for p, m in zip(points, problem.models)},
               "kinds": {p.label: k for p, k in zip(points, problem.kinds)}})


def _repeated(points) -> list:
    """Warnings for datasets of a joint fit that hold the same points as an earlier one: counted
    twice, they make every uncertainty sqrt(2) too small."""
    out = []
    for i, a in enumerate(points):
        for b in points[:i]:
            if a.T.shape == b.T.shape and np.array_equal(a.T, b.T) and np.array_equal(a.y, b.y):
                out.append(f"datasets {b.label} and {a.label} hold the same points: the joint fit counts "
                           "them twice, so its uncertainties are too small by sqrt(2) (fit one of them)")
                break
    return out


def finish(problem: Problem, out, x, r, J, method: str, parts: dict | None = None,
           intervals=None, scan=None, held_starts: dict | None = None) -> FitResult:
    """Turn solver output into a :class:`FitResult` (see :func:`_finish`)."""
    return _finish(problem, out, x, r, J, method, parts, intervals, scan, held_starts)[0]


def _finish(problem: Problem, out, x, r, J, method: str, parts: dict | None = None,
            intervals=None, scan=None, held_starts: dict | None = None) -> tuple:
    """Turn solver output into a :class:`FitResult`: the verdict of
    :func:`jtls.fit.inference.infer` (physical bounds, identifiability,
    intervals, tests) on the solution.

    ``parts``: :func:`result_parts` of the problem, if already built;
    ``intervals``: see :func:`fit`; ``scan``: the grid profiles of
    :func:`jtls.fit.scan.global_scan` (stored in ``extra["scan"]``, and judged);
    ``held_starts``: see :func:`jtls.fit.inference.infer`.

    Returns ``(result, better)``: ``better`` (n,) internal values where a profile went below
    the optimum (a start for a new solve), else None."""
    spec = problem.spec
    params = problem.params
    n_points = int(sum(p.T.size for p in problem.points))
    given = all(k == "sigma" for k in problem.kinds)          # per-point sigma for every dataset
    inf = infer(problem, np.asarray(out.u, float), np.asarray(x, float), np.asarray(r, float),
                np.asarray(J, float), STATUS[int(out.status)], intervals=intervals, scan=scan,
                held_starts=held_starts)
    fparams = [params[i] for i in spec.free]
    values = {p.name: float(p.value) for p in params}
    stderr = {p.name: math.nan for p in params}       # fixed ones: no error (not a zero one)
    for p, xv, se in zip(fparams, inf["values"], inf["stderr"]):
        values[p.name] = float(xv)
        stderr[p.name] = float(se)
    r = inf["r"]
    residuals = {}
    start = 0
    for pts in problem.points:
        n = pts.T.size
        residuals[pts.label] = r[start:start + n].tolist()
        start += n
    if parts is None:
        parts = result_parts(problem, method)
    warnings = list(inf["warnings"]) + _repeated(problem.points)
    for m, t, pts, ctx in zip(problem.models, spec.terms, problem.points, problem.contexts):
        if m.observable.caveats is not None:       # the model's approximations over these data
            local = {name: values[params[g].name] for name, g in zip(m.observable.params, t.index)}
            warnings += [w if len(problem.points) == 1 else f"dataset {pts.label}: {w}"
                         for w in m.observable.caveats(np.asarray(pts.T, float), local, dict(ctx))]
    dof = inf["dof"]
    chi2 = inf["chi2"]
    return FitResult(
        values=values, stderr=stderr, free=[p.name for p in fparams],
        correlation=np.asarray(inf["corr"]).tolist(), covariance=np.asarray(inf["cov"]).tolist(),
        chi2=chi2, reduced_chi2=chi2 / dof if dof > 0 else math.nan,
        dof=dof, n_points=n_points, absolute_sigma=given, sigma_scaled=given and not inf["absolute"],
        residuals=residuals,
        n_steps=int(out.n_steps), status=inf["status"], message="; ".join(inf["messages"]),
        at_bound=inf["at_bound"], warnings=warnings, tests=inf["tests"],
        intervals=inf["intervals"], unidentified=inf.get("unidentified", []),
        identifiability=inf["identifiability"], **parts), inf.get("better_u")


def fit(model: Model | str | Sequence, data: Any = None, *, share: Sequence[str] = (),
        fix: Mapping[str, float] | None = None, initial: Mapping[str, float] | None = None,
        bounds: Mapping[str, tuple[float, float]] | None = None,
        tmin: float | None = None, tmax: float | None = None, method: str = "lm",
        options: SolverOptions | None = None, bootstrap: int = 0, key: jax.Array | None = None,
        level: float = 0.68, intervals: str | Sequence[str] | None = None,
        posterior: str | None = None, posterior_options: dict | None = None,
        progress: Callable[[int, int], Any] | None = None, scan: bool = True) -> FitResult:
    """Fit one model to one dataset, or several (model, data[, label]) terms jointly.

    Parameters
    ----------
    model : Model, str or sequence
        A :class:`Model`, an observable name, or (for a joint fit, ``data``
        omitted) a sequence of ``(model, data)`` / ``(model, data, label)``.
    data : Dataset, tuple or dict, optional
        The measured curve (see the module docstring): a
        :class:`jtls.data.Dataset`, ``(T, y)`` / ``(T, y, sigma)`` arrays of
        shape (n,), or a dict; T in K, y in the observable's units.
    share : sequence of str
        Parameter names common to all terms of a joint fit (e.g. ``["mu"]``);
        other parameters are per term, named ``"NAME[label]"``.
    fix : Mapping[str, float], optional
        Held values by global parameter name.
    initial : Mapping[str, float], optional
        Starting values by global name (default: guessed from the data).
    bounds : Mapping[str, tuple of float], optional
        ``(lo, hi)`` bounds by global name (overriding the models').
    tmin, tmax : float, optional
        Temperature window, K; points outside are listed as excluded.
    method : {"lm", "lbfgs"}
        Levenberg-Marquardt, or optax L-BFGS.
    options : SolverOptions, optional
        Stopping rules (default ``SolverOptions()``; 1000 steps for L-BFGS).
    bootstrap : int
        Number of bootstrap resamples (0: none); adds percentile intervals at
        ``level`` to the result.
    key : jax.Array, optional
        PRNG key of the bootstrap (default ``jax.random.PRNGKey(0)``).
    level : float
        Confidence level of the bootstrap intervals (0.68: one sigma).
    intervals : None, "profile" or sequence of str
        ``None`` (standard errors; profile intervals only for parameters on or
        near a physical bound), ``"profile"`` (profile-likelihood 68.3 % and
        95 % intervals of every free parameter, see :mod:`jtls.fit.profile`) or
        a list of names (only those parameters).
    posterior : None or "nuts"
        Sample the posterior with NUTS (:mod:`jtls.fit.posterior`).
        Summaries land in ``result.posterior``, the sampler object in
        ``result.extra["posterior"]``.
    posterior_options : dict, optional
        Passed to :func:`jtls.fit.posterior.sample_posterior` (num_samples,
        num_chains, seed, num_warmup, priors, target_accept, metric).
    progress : callable, optional
        Called with ``(resamples done, total)`` as the bootstrap proceeds
        (after each compiled call of :data:`jtls.fit.batch.BOOTSTRAP_CHUNK`
        resamples).
    scan : bool
        Check the optimum along the parameters an observable declares a scan
        for (J0_h0 of the simulated DOS): :mod:`jtls.fit.scan` -- a restart
        from a lower grid point, a warning for a second minimum, and
        ``unidentified`` when the grid profile stays below the 95 % level up
        to a search limit.  Default True; False skips it (faster, e.g. in
        simulation studies, and without those verdicts).

    Returns
    -------
    FitResult
        Values, standard errors, chi^2 and the ``status`` that says whether
        the data determine the parameters (vocabulary in
        :mod:`jtls.fit.inference`).

    Examples
    --------
    The specific heat of Eq. (6) with the DOS of Eq. (3), 1 % noise, mu held:

    >>> import numpy as np
    >>> import jtls
    >>> from jtls.fit import Model, fit
    >>> T = np.geomspace(0.1, 1.0, 12)
    >>> noise = 1 + 0.01 * np.random.default_rng(0).standard_normal(12)
    >>> y = jtls.specific_heat(T, 2.0, 0.1) * noise
    >>> res = fit(Model("specific_heat"), (T, y), fix={"mu": 0.1})
    >>> res.status, res.free
    ('ok', ['B'])
    >>> print(f"B = {res['B']:.3f} +- {res.stderr['B']:.3f}")
    B = 2.000 +- 0.004

    Both parameters free (about 1.5 s: compiles another solver):

    >>> res = fit(Model("specific_heat"), (T, y))  # doctest: +SKIP
    >>> print(f"mu = {res['mu']:.3f} +- {res.stderr['mu']:.3f}")  # doctest: +SKIP
    mu = 0.097 +- 0.003
    """
    if method not in SOLVERS:
        raise ValueError(f"method must be one of {sorted(SOLVERS)}, got {method!r}")
    if isinstance(bootstrap, (bool, np.bool_)) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a whole number of resamples >= 0 (0: none), got {bootstrap!r}")
    if bootstrap:
        from .batch import check_level
        check_level(level)
    problem = build_problem(model, data, share=share, fix=fix, initial=initial, bounds=bounds,
                            tmin=tmin, tmax=tmax)
    if posterior not in (None, "nuts"):
        raise ValueError(f"posterior must be None or 'nuts', got {posterior!r}")
    opts = options or default_options(method)
    res = run_problem(problem, method, opts, intervals=intervals, scan=scan)
    if posterior == "nuts" and not res.ok:
        # like the bootstrap: a fit that does not determine its parameters (or rests on a search
        # limit) gives a posterior made by the prior's edges, not by the data
        if not problem.free_names:
            raise ValueError("posterior: the fit has no free parameters")
        res.warnings.append(f"posterior skipped: the fit's status is {res.status!r}, not 'ok'; its "
                            "posterior would show the prior where the data say nothing")
    elif posterior == "nuts":
        from .posterior import sample_posterior
        if not problem.free_names:
            raise ValueError("posterior: the fit has no free parameters")
        post = sample_posterior(problem, res, **dict(posterior_options or {}))
        res.posterior = post.summary()
        info = post.summary_extra()
        res.extra["posterior"] = post
        res.extra["posterior_info"] = info
        if info["divergences"]:
            res.warnings.append(f"posterior: {info['divergences']} divergent NUTS transitions; the "
                                "posterior summaries may be biased")
        bad = [k for k, d in res.posterior.items() if d["r_hat"] > 1.01 or d["ess"] < 100]
        if bad:
            res.warnings.append("posterior: chains not converged for " + ", ".join(bad) +
                                " (R-hat > 1.01 or effective sample size < 100); draw more samples")
    if bootstrap:
        if not res.ok:
            # resampling a fit whose parameters are not determined only repeats the degeneracy
            res.bootstrap = {"n": 0, "skipped": f"the fit's status is {res.status!r}, not 'ok'"}
            res.warnings.append(f"bootstrap skipped: the fit's status is {res.status!r}")
            return res
        from .batch import bootstrap_problem, bootstrap_verdict
        if key is None:
            key = jax.random.PRNGKey(0)
        bs = bootstrap_problem(key, problem, res, int(bootstrap), level=level, method=method,
                               progress=progress)
        res.bootstrap, warnings = bootstrap_verdict(problem, bs)
        res.warnings.extend(warnings)
    return res


def run_problem(problem: Problem, method: str = "lm", opts: SolverOptions | None = None,
                intervals: str | Sequence[str] | None = None, scan: bool = True) -> FitResult:
    """Solve a problem made by :func:`build_problem` and infer what the data determine.

    :func:`fit` is ``build_problem`` then ``run_problem`` (then bootstrap or
    posterior when asked); a built problem may be solved again, e.g. with
    another ``method``.

    Parameters
    ----------
    problem : Problem
        From :func:`build_problem`.
    method : {"lm", "lbfgs"}
        Levenberg-Marquardt or optax L-BFGS.
    opts : SolverOptions, optional
        Stopping rules (default :func:`~jtls.fit.solvers.default_options`: ``SolverOptions()``;
        1000 steps for L-BFGS).
    intervals : None, "profile" or sequence of str
        As in :func:`fit`.
    scan : bool
        As in :func:`fit`.

    Returns
    -------
    FitResult
        As :func:`fit` without bootstrap or posterior.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls.fit import build_problem
    >>> from jtls.fit.engine import run_problem
    >>> T = np.geomspace(0.1, 1.0, 12)
    >>> y = jtls.specific_heat(T, 2.0, 0.1) * (1 + 0.01 * np.random.default_rng(0).standard_normal(12))
    >>> p = build_problem("specific_heat", (T, y), fix={"mu": 0.1})
    >>> res = run_problem(p)
    >>> res.status, round(res["B"], 3)
    ('ok', 2.0)
    """
    opts = opts or default_options(method)
    if problem.spec.n_free == 0:
        x = jnp.zeros(0)
        r = residual_x(problem.spec, x, problem.arrays)
        from .solvers import SolverOut
        out = SolverOut(jnp.zeros(0), r @ r, jnp.asarray(0), jnp.asarray(0))
        return finish(problem, out, x, r, np.zeros((r.size, 0)), method, intervals=intervals)
    if problem.flat is not None:
        flat, sizes = problem.flat, problem.sizes
    else:
        flat, sizes = flatten_inputs(problem.u0, problem.arrays)
    real = tuple(p.T.size for p in problem.points)
    if PREFETCH and held_for_certain(problem):
        prefetch_held(problem.spec, problem.arrays)     # its compilation overlaps the solve's
    pending = dispatch_solve(method, problem.spec, sizes, flat, opts, real=real)
    parts = result_parts(problem, method)   # Python work while the compiled solve runs
    return judge(problem, pending(), method, opts, parts, intervals=intervals, scan=scan)


def judge(problem: Problem, solution, method: str, opts: SolverOptions, parts: dict | None = None,
          intervals=None, scan: bool = True, held_starts: dict | None = None) -> FitResult:
    """The global check along declared scan parameters (:mod:`jtls.fit.scan`, when ``scan``)
    and then :func:`finish` on a solution ``(out, x, r, J)``: what :func:`run_problem` and
    :func:`jtls.fit.batch.fit_many` do after their solves (``held_starts``: see
    :func:`jtls.fit.inference.infer`)."""
    outcome = global_scan(problem, method, opts, solution) if scan else ScanOutcome(solution, [], [])
    res, better = _finish(problem, *outcome.solution, method, parts, intervals=intervals,
                          scan=outcome.records, held_starts=held_starts)
    if better is not None:
        res = _restart(problem, res, better, method, opts, parts, intervals, outcome.records, held_starts)
    if outcome.records:
        res.extra["scan"] = outcome.records
    res.warnings.extend(outcome.warnings)
    return res


def _restart(problem, res, better, method, opts, parts, intervals, scan, held_starts) -> FitResult:
    """A constrained solve of the verdict (a profile, or a parameter held on a bound or limit)
    went below the optimum (a local minimum): solve again from its lowest point and judge that
    solution.  When that one is lower it is the result; when a profile goes
    below the optimum again, or the new solve is no lower, the optimum is not established and the
    result is not "ok" ("stalled")."""
    flat, sizes = flatten_inputs(np.asarray(better, float), problem.arrays)
    real = tuple(p.T.size for p in problem.points)
    new, again = _finish(problem, *dispatch_solve(method, problem.spec, sizes, flat, opts, real=real)(),
                         method, dict(parts or result_parts(problem, method)), intervals=intervals,
                         scan=scan, held_starts=held_starts)
    if new.chi2 < res.chi2 and again is None:
        new.warnings.append(f"the first optimum found (chi^2 = {res.chi2:.6g}) was a local one: a "
                            f"constrained solve of the verdict went below it (or showed that moving off the bound it "
                            f"stopped on lowers chi^2), and the solve restarted there reached chi^2 = {new.chi2:.6g}")
        return new
    best = new if new.chi2 < res.chi2 else res
    if best.status == "ok":
        best.status = "stalled"
        best.message = "; ".join(m for m in ("the profile likelihood goes below the optimum found, also after "
                                              "a restart from its lowest point: the minimum is not established",
                                              best.message) if m)
    return best


def predict(result: FitResult, label: str | None = None, T: ArrayLike | None = None,
            model: Model | None = None) -> np.ndarray:
    """Model curve of a fitted dataset at the fitted parameter values.

    Parameters
    ----------
    result : FitResult
        From :func:`fit`.
    label : str, optional
        Which dataset of a joint fit (default: the first).
    T : array_like, optional
        Temperatures in K, any shape (default: the data's T).
    model : Model, optional
        Defaults to the registered observable of that dataset with the offset
        setting used in the fit.

    Returns
    -------
    numpy.ndarray
        The model values, shape of ``T``, in the units of the fitted data.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls.fit import fit, predict
    >>> T = np.geomspace(0.1, 1.0, 12)
    >>> y = jtls.specific_heat(T, 2.0, 0.1) * (1 + 0.01 * np.random.default_rng(0).standard_normal(12))
    >>> res = fit("specific_heat", (T, y), fix={"mu": 0.1})
    >>> print(np.round(predict(res, T=[0.2, 0.5]), 4))   # specific_heat(T, res["B"], 0.1)
    [0.6287 1.7226]
    """
    label = result.labels[0] if label is None else label
    m = model or Model(result.observables[label], offset=result.extra.get("offset", {}).get(label))
    if T is None:
        T = np.asarray(result.data[label]["T"])
    vals = {}
    single = len(result.labels) == 1
    for local in m.param_names:
        g = local if single or local in result.values else f"{local}[{label}]"
        vals[local] = result.values[g] if g in result.values else result.values[f"{local}[{label}]"]
    ctx = {k: jnp.asarray(v) for k, v in result.context[label].items()}
    return np.asarray(m.predict(jnp.asarray(T, dtype=float), vals, ctx))
