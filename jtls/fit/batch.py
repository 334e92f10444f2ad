"""Batched fits in one vmapped, compiled call: many datasets, or bootstrap resamples.

* :func:`fit_many` -- the same model fitted to many datasets (different
  lengths are padded with zero-weight points), one :class:`FitResult` each,
  in one compiled call (chunks of :data:`BATCH` vmapped fits).
* :func:`bootstrap` -- ``n`` resamples (with replacement, within each
  dataset) of one fit, every resample refitted from the full-data optimum;
  the resampling is a multiplicity weight per point, so all resamples share
  one shape and run in one compiled call (``lax.map`` over chunks of
  :data:`BATCH` vmapped resamples; see there for the CPU choice).  Percentile
  intervals at ``level`` (default 68%, the 16th-84th percentiles) over the
  converged resamples.
"""
from __future__ import annotations

import dataclasses
from functools import partial
from typing import Sequence

import numpy as np
import jax
import jax.numpy as jnp

from .engine import Problem, build_problem, finish, run_problem
from .objective import Arrays, TermArrays
from .result import FitResult
from .solvers import SOLVERS, SolverOptions, solve_and_jacobian


# --------------------------------------------------------------------------
# many datasets

@partial(jax.jit, static_argnums=(0, 1, 4))
def _solve_many(method, spec, u0, arrays, opts):
    n = u0.shape[0]
    return jax.lax.map(lambda ua: solve_and_jacobian(method, spec, ua[0], ua[1], opts), (u0, arrays),
                       batch_size=_batch_size(n))


def _pad_term(ta: TermArrays, n: int) -> TermArrays:
    k = ta.T.shape[0]
    if k == n:
        return ta
    pad = lambda a, v: jnp.concatenate([a, jnp.full((n - k,), v, a.dtype)])  # noqa: E731
    return TermArrays(pad(ta.T, ta.T[-1]), pad(ta.y, ta.y[-1]), pad(ta.inv_sigma, 1.0),
                      pad(ta.sqrt_w, 0.0), ta.ctx)


def fit_many(model, datasets: Sequence, *, method: str = "lm", options: SolverOptions | None = None,
             start: str = "each", **kw) -> list:
    """Fit ``model`` to every dataset in one compiled, vmapped call.

    ``kw`` are passed to :func:`jtls.fit.engine.build_problem` (fix, initial,
    bounds, tmin, tmax).  ``start="each"``: every dataset gets its own
    automatic guess; ``start="first"``: all start from the first dataset's
    guess (faster for many similar datasets, e.g. noise draws).
    Returns a list of :class:`FitResult` in the order of ``datasets``.
    """
    if start not in ("each", "first"):
        raise ValueError(f"start must be 'each' or 'first', got {start!r}")
    datasets = list(datasets)
    if not datasets:
        return []
    first = build_problem(model, datasets[0], **kw)
    if start == "first":
        kw2 = dict(kw)
        kw2["initial"] = {**{p.name: p.value for p in first.params if not p.fixed}, **(kw.get("initial") or {})}
        problems = [first] + [build_problem(model, d, **kw2) for d in datasets[1:]]
    else:
        problems = [first] + [build_problem(model, d, **kw) for d in datasets[1:]]
    spec = problems[0].spec
    for i, p in enumerate(problems):
        if p.spec != spec:
            raise ValueError(f"datasets[{i}]: problem structure differs from datasets[0] (weighting "
                             "kind, fixed parameters or bounds); fit it separately")
    n_terms = len(spec.terms)
    lengths = [max(p.arrays.terms[k].T.shape[0] for p in problems) for k in range(n_terms)]
    padded = [Arrays(tuple(_pad_term(p.arrays.terms[k], lengths[k]) for k in range(n_terms)),
                     p.arrays.x_all) for p in problems]
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *padded)
    u0 = jnp.asarray(np.stack([p.u0 for p in problems]))
    opts = options or SolverOptions()
    out, x, r, J = _solve_many(method, spec, u0, stacked, opts)
    results = []
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for i, p in enumerate(problems):
        rows = np.concatenate([np.arange(offsets[k], offsets[k] + p.arrays.terms[k].T.shape[0])
                               for k in range(n_terms)])
        oi = jax.tree_util.tree_map(lambda a: a[i], out)
        results.append(finish(p, oi, x[i], np.asarray(r[i])[rows], np.asarray(J[i])[rows], method))
    return results


# --------------------------------------------------------------------------
# bootstrap

@dataclasses.dataclass
class BootstrapResult:
    """Bootstrap samples of the free parameters.

    names : free parameter names; samples : (n, n_free) physical values;
    chi2 : (n,); status : (n,) solver codes (0 converged); level : interval level.
    """
    names: list
    samples: np.ndarray
    chi2: np.ndarray
    status: np.ndarray
    level: float

    @property
    def converged(self) -> np.ndarray:
        return (self.status == 0) & np.all(np.isfinite(self.samples), axis=1)

    def intervals(self, level: float | None = None) -> dict:
        """{name: (lo, hi)} percentile interval over converged resamples."""
        level = self.level if level is None else level
        s = self.samples[self.converged]
        q = 100.0 * np.array([(1 - level) / 2, (1 + level) / 2])
        if s.shape[0] == 0:
            return {k: (np.nan, np.nan) for k in self.names}
        lo, hi = np.percentile(s, q, axis=0)
        return {k: (float(a), float(b)) for k, a, b in zip(self.names, lo, hi)}

    def std(self) -> dict:
        s = self.samples[self.converged]
        return {k: float(v) for k, v in zip(self.names, s.std(axis=0, ddof=1))}

    def summary(self) -> dict:
        return {"n": int(self.samples.shape[0]), "n_ok": int(self.converged.sum()),
                "level": float(self.level),
                "intervals": {k: list(v) for k, v in self.intervals().items()},
                "std": self.std()}


def _resample_weights(key, sizes):
    keys = jax.random.split(key, len(sizes))
    out = []
    for k, n in zip(keys, sizes):
        idx = jax.random.randint(k, (n,), 0, n)
        out.append(jnp.zeros(n).at[idx].add(1.0))
    return out


#: Resamples solved together in one vmapped chunk (memory ~ BATCH x model size);
#: chunks run in sequence inside the same compiled call (lax.map).  None: 1 on
#: CPU, where vmapping the Levenberg-Marquardt loop was measured 2.4x slower per
#: resample than running resamples one after another (the loop runs to the
#: slowest member of a chunk, and the batched quadrature does not vectorise
#: better than the unbatched one); 256 on accelerators.
BATCH = None


def _batch_size(n):
    b = BATCH if BATCH is not None else (1 if jax.default_backend() == "cpu" else 256)
    return max(1, min(int(b), n))


@partial(jax.jit, static_argnums=(0, 1, 3, 5))
def _bootstrap_solve(method, spec, key, n, arrays, opts, u_start):
    sizes = tuple(t.T.shape[0] for t in arrays.terms)

    def one(k):
        w = _resample_weights(k, sizes)
        terms = tuple(ta._replace(sqrt_w=jnp.sqrt(wi)) for ta, wi in zip(arrays.terms, w))
        out = SOLVERS[method](spec, u_start, Arrays(terms, arrays.x_all), opts)
        return spec.transform().to_physical(out.u), out.chi2, out.status

    keys = jax.random.split(key, n)
    # chunks of BATCH resamples vmapped, chunks in sequence: bounded memory
    return jax.lax.map(one, keys, batch_size=_batch_size(n))


def bootstrap_problem(key, problem: Problem, result: FitResult, n: int = 1000, *, level: float = 0.68,
                      method: str = "lm", options: SolverOptions | None = None) -> BootstrapResult:
    """Bootstrap an already solved problem, starting every resample at its optimum."""
    free = problem.free_names
    if not free:
        raise ValueError("bootstrap: the fit has no free parameters")
    x = np.array([result.values[k] for k in free])
    u_start = jnp.asarray(problem.spec.transform().to_internal(x))
    # percentile intervals need far less than the 1e-11 chi^2 precision of a single fit
    opts = options or SolverOptions(max_steps=50, ftol=1e-8, xtol=1e-10, gtol=1e-8)
    xs, chi2, status = _bootstrap_solve(method, problem.spec, key, int(n), problem.arrays, opts, u_start)
    return BootstrapResult(free, np.asarray(xs), np.asarray(chi2), np.asarray(status), float(level))


def bootstrap(key, model, data=None, n: int = 1000, *, level: float = 0.68, method: str = "lm",
              **kw) -> tuple:
    """Fit, then bootstrap ``n`` resamples in one vmapped call.

    Returns ``(FitResult, BootstrapResult)``; the FitResult carries the
    summary in ``.bootstrap``.
    """
    problem = build_problem(model, data, **kw)
    res = run_problem(problem, method)
    bs = bootstrap_problem(key, problem, res, n, level=level, method=method)
    res.bootstrap = bs.summary()
    return res, bs
