"""Batched fits in compiled calls: many datasets, or bootstrap resamples.

* :func:`fit_many` -- the same model fitted to many datasets, one
  :class:`FitResult` each, in compiled calls of :data:`FIT_CHUNK` fits of the
  datasets of one size bucket (padded with zero-weight points to it; with
  ``start="previous"``, the ordered chain, all to the largest one's bucket).
* :func:`bootstrap` -- ``n`` resamples (with replacement, within each
  dataset) of one fit, every resample refitted from the full-data optimum;
  the resampling is a multiplicity weight per point, so all resamples share
  one shape and run in compiled calls of :data:`BOOTSTRAP_CHUNK` resamples.
  Percentile intervals at ``level`` (default 68%, the 16th-84th percentiles)
  over the converged resamples.

Cost per resample (measured with benchmarks/bench_bootstrap.py, figures in
benchmarks/README.md): each call is ONE XLA:CPU function
(:class:`jtls.fit.kernel.SingleKernel`) in which the resamples are solved
one after another; every resample's Levenberg-Marquardt starts from the
optimum's residuals and Jacobian (computed once per call) times its sqrt
weights, which saves the evaluation of its start point.  Before, the
resamples ran in XLA's multi-threaded runtime, where the hand-offs between
the many small kernels of an LM step cost more than the arithmetic, and
each evaluated its start point.  Vmapping resamples does not help on CPU:
the model evaluation costs the same per point batched or not (measured), a
vmapped while loop runs every member until the slowest has converged, and
the one-kernel build keeps the small steps cheap.  On accelerators
(:func:`_batch_size`) they are vmapped in batches of 256.

Both accept ``progress``, a callable receiving ``(done, total)`` after each
compiled call (e.g. to print progress of a long bootstrap).
"""
from __future__ import annotations

import dataclasses
import math
import inspect
from typing import Callable, NamedTuple, Sequence

import numpy as np
import jax
import jax.numpy as jnp

from .engine import Problem, build_problem, judge, run_problem
from .kernel import SingleKernel, spec_single_kernel
from .constrained import carried, values_change
from .objective import Arrays, bucket_size, chi2_u, pad_arrays, residual_x
from .result import FitResult
from .solvers import SOLVERS, SolverOptions, SolverOut, default_options, levenberg_marquardt, r_and_jx, solve_and_jacobian
from ..observables import _common as _observables_common


#: Problems vmapped together inside a compiled call; None: 1 on CPU (solved
#: one after another inside the call; see the module docstring), 256 on
#: accelerators.
BATCH = None

#: Problems per compiled call (the last call's spare rows are skipped by a
#: branch, so one program serves any number of problems): None: 64 on CPU,
#: 1024 on accelerators.
BOOTSTRAP_CHUNK = None
FIT_CHUNK = None


def _on_cpu() -> bool:
    return jax.default_backend() == "cpu"


def _batch_size(n):
    b = BATCH if BATCH is not None else (1 if _on_cpu() else 256)
    return max(1, min(int(b), n))


def _map(f, xs, batch: int):
    """``jax.lax.map(f, xs)`` in vmapped batches of ``batch`` rows; one row at a time for 1, as a
    plain scan, so that a ``lax.cond`` in ``f`` skips the rows it skips (under ``batch_size``,
    even 1, the vmapped cond computes both branches: every padding row of a call was solved)."""
    return jax.lax.map(f, xs) if batch <= 1 else jax.lax.map(f, xs, batch_size=batch)


def _chunk(setting) -> int:
    return int(setting) if setting is not None else (64 if _on_cpu() else 1024)


def _single_ok(arrays: Arrays) -> bool:
    """The one-kernel build handles datasets up to the observables' chunk (see jtls.fit.kernel)."""
    return max((t.T.shape[0] for t in arrays.terms), default=0) <= _observables_common.CHUNK


def _with_weights(arrays: Arrays, sqrt_w) -> Arrays:
    """``arrays`` with the point weights replaced by the (m,) vector ``sqrt_w`` (split per term)."""
    terms, o = [], 0
    for ta in arrays.terms:
        k = ta.T.shape[0]
        terms.append(ta._replace(sqrt_w=sqrt_w[o:o + k]))
        o += k
    return Arrays(tuple(terms), arrays.x_all)


# --------------------------------------------------------------------------
# many datasets

def _many_rows(method, spec, u0, arrays, live, opts, batch, follow=False, prev=None):
    """Per problem one vector [u (n), x (n), n_steps, status, r (m), J (m n)].

    ``follow`` (static): the problems are solved one after another and each starts at the
    last converged solution before it (``prev``, (n,), non-finite for none, is the one before
    the first row) where that fits this problem no worse than its ``u0`` row; entries
    of it on a bound are taken from ``u0``.  Where a problem differs from the one of that
    solution only in its values y, the Levenberg-Marquardt solve starts from that solution's
    residuals shifted by the change of y and its Jacobian (no evaluation of the start point;
    :func:`jtls.fit.constrained.shifted_start`)."""
    n = u0.shape[1]
    m = sum(t.T.shape[-1] for t in arrays.terms)
    f = lambda v: jnp.ravel(jnp.asarray(v, dtype=jnp.float64))  # noqa: E731

    def solve(args):
        u, a, _, st = args
        out, x, r, J = solve_and_jacobian(method, spec, u, a, opts, *((st[:2], st[2]) if st else (None, None)))
        return jnp.concatenate([f(out.u), f(x), f(out.n_steps), f(out.status), f(r), f(J)])

    def skip(args):
        return jnp.zeros(2 * n + 2 + m + m * n)

    def one(args):
        return jax.lax.cond(args[2] > 0, solve, skip, args)

    if not follow:
        return _map(lambda a: one(a + (None,)), (u0, arrays, live), batch)
    def step(carry, args):
        u_prev, r_prev, J_prev, a_prev, have = carry
        u, a, lv = args
        cand = carried(spec, u_prev, u)         # kept if it fits this problem no worse than u
        only_y, shift = values_change(spec, a, a_prev, jnp)
        same = have & jnp.all(cand == u_prev) & only_y
        r_s = r_prev + shift
        known = jnp.where(jnp.isfinite(r_s @ r_s), r_s @ r_s, jnp.inf)
        c_cand = jax.lax.cond(same, lambda: known, lambda: chi2_u(spec, cand, a))
        take = c_cand <= chi2_u(spec, u, a)
        row = one((jnp.where(take, cand, u), a, lv, (r_s, J_prev, take & same)))
        good = (lv > 0) & (row[2 * n + 1] == 0) & jnp.all(jnp.isfinite(row[:n]))
        o = 2 * n + 2
        new = (row[:n], row[o:o + m], row[o + m:].reshape(m, n), a, jnp.asarray(True))
        return jax.tree_util.tree_map(lambda x, y: jnp.where(good, x, y), new, carry), row

    first = jax.tree_util.tree_map(lambda v: v[0], arrays)
    init = (jnp.asarray(prev, jnp.float64), jnp.zeros(m), jnp.zeros((m, n)), first, jnp.asarray(False))
    return jax.lax.scan(step, init, (u0, arrays, live))[1]


_many_program = SingleKernel(_many_rows, static_argnums=(0, 1, 5, 6, 7))


#: Where the solves of :func:`fit_many` / :func:`solve_many` start (see :func:`fit_many`).
START_MODES = ("each", "first", "previous")
#: Default solver options of ``start="previous"``: every solve but the first starts next to its
#: optimum, so the Levenberg-Marquardt damping starts small (it still grows on a rejected step).
PREVIOUS_OPTIONS = SolverOptions(lam0=1e-6)


#: The keyword arguments of :func:`jtls.fit.engine.build_problem` that fit_many and solve_many pass on.
_BUILD_OPTIONS = tuple(p for p in inspect.signature(build_problem).parameters
                       if p not in ("model", "data"))


def _solved_rows(model, datasets, method, options, start, progress, kw):
    """Solve every dataset in compiled calls of :data:`FIT_CHUNK` problems; yields
    ``(problem, SolverOut, x, r, J)`` per dataset (padding rows dropped), in order."""
    if start not in START_MODES:
        raise ValueError(f"start must be one of {', '.join(map(repr, START_MODES))}, got {start!r}")
    if method not in SOLVERS:
        raise ValueError(f"method must be one of {sorted(SOLVERS)}, got {method!r}")
    unknown = sorted(set(kw) - set(_BUILD_OPTIONS))
    if unknown:
        raise ValueError(f"unknown keyword argument(s) {', '.join(unknown)}: the batched fits take "
                         f"{', '.join(_BUILD_OPTIONS)} (for profile intervals, a bootstrap or a posterior "
                         "of one dataset use fit())")
    datasets = list(datasets)
    if not datasets:
        return

    def built(i, d, kw):
        try:
            return build_problem(model, d, **kw)
        except ValueError as exc:         # name the dataset in the list
            raise ValueError(f"datasets[{i}]: {exc}") from None

    first = built(0, datasets[0], kw)
    if start in ("first", "previous"):
        kw2 = dict(kw)
        kw2["initial"] = {**{p.name: p.value for p in first.params if not p.fixed}, **(kw.get("initial") or {})}
        problems = [first] + [built(i, d, kw2) for i, d in enumerate(datasets[1:], 1)]
    else:
        problems = [first] + [built(i, d, kw) for i, d in enumerate(datasets[1:], 1)]
    spec = problems[0].spec
    for i, p in enumerate(problems):
        if p.spec != spec:
            raise ValueError(f"datasets[{i}]: problem structure differs from datasets[0] (weighting "
                             "kind, fixed parameters or bounds); fit it separately")
    if spec.n_free == 0:                  # every parameter held: nothing to solve, only residuals
        for p in problems:
            r = np.asarray(residual_x(spec, jnp.zeros(0), p.arrays), float)
            yield p, SolverOut(np.zeros(0), None, 0, 0), np.zeros(0), r, np.zeros((r.size, 0))
        if progress is not None:
            progress(len(problems), len(problems))
        return
    n_terms = len(spec.terms)
    opts = options or (PREVIOUS_OPTIONS if start == "previous" and method == "lm" else default_options(method))
    total = len(problems)
    follow = start == "previous"

    def bucket(p):
        return tuple(bucket_size(p.arrays.terms[k].T.shape[0]) for k in range(n_terms))
    if follow:                 # one ordered chain: every dataset padded to the largest's bucket
        groups = [(tuple(max(b) for b in zip(*map(bucket, problems))), list(range(total)))]
    else:                      # datasets of one size bucket solved together, none padded beyond it
        by = {}
        for i, p in enumerate(problems):
            by.setdefault(bucket(p), []).append(i)
        groups = list(by.items())
    rows, done = {}, 0
    for lengths, idx in groups:
        for i, row in zip(idx, _solve_group([problems[i] for i in idx], list(lengths), spec, method, opts,
                                            follow)):
            rows[i] = row
            done += 1
            if progress is not None and (done % _chunk(FIT_CHUNK) == 0 or done == total):
                progress(done, total)
    for i in range(total):
        yield rows.pop(i)


def _solve_group(problems, lengths, spec, method, opts, follow):
    """``(problem, SolverOut, x, r, J)`` of each of ``problems`` (all padded to ``lengths``), in
    order, from compiled calls of :data:`FIT_CHUNK` problems."""
    n_terms = len(spec.terms)
    padded = [pad_arrays(p.arrays, lengths) for p in problems]
    chunk = _chunk(FIT_CHUNK)
    total = len(problems)
    key = ("many", method, spec, tuple(lengths), opts, follow)
    n_free = spec.n_free
    prev = np.full(n_free, np.nan)              # the solution before the next call's first row
    m = sum(lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    for c0 in range(0, total, chunk):
        part = padded[c0:c0 + chunk]
        live = np.r_[np.ones(len(part)), np.zeros(chunk - len(part))]
        part = part + [part[-1]] * (chunk - len(part))
        stacked = jax.tree_util.tree_map(lambda *a: np.stack(a), *part)
        u0 = np.stack([p.u0 for p in problems[c0:c0 + chunk]] +
                      [problems[c0].u0] * (chunk - min(chunk, total - c0)))
        v = np.asarray(_many_program(key, method, spec, u0, stacked, live, opts, 1 if follow else _batch_size(chunk),
                                     follow, prev, allowed=_single_ok(stacked) and spec_single_kernel(spec)))
        for i, p in enumerate(problems[c0:c0 + chunk]):
            row = v[i]
            u, x = row[:n_free], row[n_free:2 * n_free]
            out = SolverOut(u, None, int(row[2 * n_free]), int(row[2 * n_free + 1]))
            if out.status == 0 and np.isfinite(u).all():
                prev = u
            o = 2 * n_free + 2
            r, J = row[o:o + m], row[o + m:].reshape(m, n_free)
            rows = np.concatenate([np.arange(offsets[k], offsets[k] + p.arrays.terms[k].T.shape[0])
                                   for k in range(n_terms)])
            yield p, out, x, r[rows], J[rows]


def fit_many(model, datasets: Sequence, *, method: str = "lm", options: SolverOptions | None = None,
             start: str = "each", progress: Callable | None = None, scan: bool = True, **kw) -> list:
    """Fit ``model`` to every dataset in compiled calls of :data:`FIT_CHUNK` fits.

    ``kw`` are passed to :func:`jtls.fit.engine.build_problem` (fix, initial,
    bounds, tmin, tmax).  Where the solves start:

    * ``start="each"`` (default): every dataset from its own automatic guess;
    * ``start="first"``: all from the first dataset's guess (no guess per dataset);
    * ``start="previous"``: for an ORDERED series of similar datasets (noise draws of a
      simulation study, neighbouring points of a parameter scan): each solve starts at the
      previous dataset's optimum (the first at its guess), and the held solves of the verdict
      (e.g. mu on its physical bound, the likelihood-ratio test of mu = 0) start at the
      previous dataset's held solutions.  Fewer solver steps per dataset; the optima, hence the
      verdicts, are those of ``start="each"`` to the solver's tolerance as long as
      neighbouring datasets are alike (unlike ones cost steps, and a start far away could
      lead to another local optimum).  The datasets are then solved one after another also
      on accelerators, where the other modes vmap them in batches.
    ``progress``: called with ``(fits done, total)`` after each compiled call.
    ``scan``: the global check of :func:`jtls.fit.fit` along J0/h0 (simulated DOS), one
    dataset at a time after the batched solves (default True, as in ``fit``).
    Returns a list of :class:`FitResult` in the order of ``datasets``: the same verdicts as
    :func:`jtls.fit.fit` gives each dataset.
    """
    opts = options or default_options(method)
    held = {} if start == "previous" else None      # the previous verdict's held solutions, updated
    return [judge(p, (out, x, r, J), method, opts, scan=scan, held_starts=held)
            for p, out, x, r, J in _solved_rows(model, datasets, method, options, start, progress, kw)]


class Solutions(NamedTuple):
    """Bare least-squares solutions of :func:`solve_many` (no verdicts).

    names : free parameter names; values : (n_datasets, n_free) physical values;
    chi2 : (n_datasets,) weighted residual sums of squares; solver_status : (n_datasets,)
    solver codes (0: converged); n_points : (n_datasets,) fitted points.
    """
    names: list
    values: np.ndarray
    chi2: np.ndarray
    solver_status: np.ndarray
    n_points: np.ndarray


def solve_many(model, datasets: Sequence, *, method: str = "lm", options: SolverOptions | None = None,
               start: str = "each", progress: Callable | None = None, **kw) -> Solutions:
    """The least-squares optima of many datasets, WITHOUT the verdicts of :func:`fit_many`.

    For simulation studies (coverage of intervals, size of tests, pulls) where only the
    optimum and its chi^2 are needed: the same compiled batched solves as
    :func:`fit_many` (same arguments), but no identifiability analysis, held fits on
    bounds, profiles or tests -- so a row is a number, not a result: check
    ``solver_status == 0`` and use :func:`fit_many` or :func:`jtls.fit.fit` for
    anything reported.
    """
    names, vals, chi2, status, npts = None, [], [], [], []
    for p, out, x, r, J in _solved_rows(model, datasets, method, options, start, progress, kw):
        names = list(p.free_names)
        vals.append(np.asarray(x, float))
        chi2.append(float(r @ r))
        status.append(int(out.status))
        npts.append(int(r.size))
    return Solutions(names or [], np.asarray(vals, float), np.asarray(chi2), np.asarray(status, int),
                     np.asarray(npts, int))


# --------------------------------------------------------------------------
# bootstrap

#: Status of a resample with no more distinct points than free parameters (not a result).
DEGENERATE = 4


@dataclasses.dataclass
class BootstrapResult:
    """Bootstrap samples of the free parameters.

    names : free parameter names; samples : (n, n_free) physical values;
    chi2 : (n,); status : (n,) solver codes (0 converged; :data:`DEGENERATE`: the resample
    has no more distinct points than free parameters, never counted); level : interval
    level; n_steps : (n,) solver iterations of each resample (or None).
    """
    names: list
    samples: np.ndarray
    chi2: np.ndarray
    status: np.ndarray
    level: float
    n_steps: np.ndarray | None = None

    @property
    def converged(self) -> np.ndarray:
        return (self.status == 0) & np.all(np.isfinite(self.samples), axis=1)

    def intervals(self, level: float | None = None) -> dict:
        """{name: (lo, hi)} percentile interval over converged resamples."""
        level = self.level if level is None else check_level(level)
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
                "n_degenerate": int((self.status == DEGENERATE).sum()),
                "level": float(self.level),
                "intervals": {k: list(v) for k, v in self.intervals().items()},
                "std": self.std()}


#: Solver options of the resamples.  Percentile intervals need far less than
#: the 1e-11 chi^2 precision of a single fit: ftol = 1e-8 stops within ~1e-3
#: standard errors of the resample's optimum (the remaining Gauss-Newton
#: decrement is below 1e-8 chi^2, i.e. (dx / sigma)^2 < 1e-8 dof).  Every
#: resample starts at the full-data optimum, so the Levenberg-Marquardt damping
#: starts small (lam0 = 1e-6 instead of 1e-3; it still grows on a rejected
#: step): on the 40-point velocity fit the resamples then converge in 2
#: evaluations of model and Jacobian instead of 3-4, and closer to their
#: optimum (measured: 1e-4 instead of 6e-4 standard errors).
BOOTSTRAP_OPTIONS = SolverOptions(max_steps=50, ftol=1e-8, xtol=1e-10, gtol=1e-8, lam0=1e-6)


def resample_weights(key, sizes, start: int, count: int) -> np.ndarray:
    """Multiplicities of resamples ``start`` ... ``start + count - 1``: (count, sum(sizes)).

    Resample i draws, within each dataset of ``sizes[k]`` points, that many
    points with replacement; the draws come from a numpy generator seeded
    by the PRNG ``key`` and i alone, so they do not depend on how the
    resamples are cut into calls or on the padding of the data.
    """
    entropy = [int(v) for v in np.asarray(jax.random.key_data(key)).ravel()]
    out = np.zeros((count, sum(sizes)))
    for row, i in enumerate(range(start, start + count)):
        gens = np.random.SeedSequence(entropy, spawn_key=(i,)).spawn(len(sizes))
        o = 0
        for g, n in zip(gens, sizes):
            idx = np.random.default_rng(g).integers(0, n, n)
            out[row, o:o + n] = np.bincount(idx, minlength=n)
            o += n
    return out


def _bootstrap_rows(method, spec, arrays, sqrt_w, live, opts, u_start, batch):
    """Per resample one vector [x (n), chi2, status, n_steps]; ``sqrt_w`` (c, m)."""
    n = u_start.shape[0]
    if method == "lm":
        r0, J0, _ = r_and_jx(spec, u_start, arrays)     # at the optimum, unit weights

    def solve(args):
        sw, _ = args
        a = _with_weights(arrays, sw)
        if method == "lm":
            out = levenberg_marquardt(spec, u_start, a, opts, start=(r0 * sw, J0 * sw[:, None]))
        else:
            out = SOLVERS[method](spec, u_start, a, opts)
        x = spec.transform().to_physical(out.u)
        return jnp.concatenate([x, jnp.stack([out.chi2, out.status, out.n_steps]).astype(x.dtype)])

    def skip(args):
        return jnp.zeros(n + 3)

    def one(args):
        return jax.lax.cond(args[1] > 0, solve, skip, args)

    return _map(one, (sqrt_w, live), batch)


_bootstrap_program = SingleKernel(_bootstrap_rows, static_argnums=(0, 1, 5, 7))


def check_level(level) -> float:
    """The bootstrap interval level as a float in (0, 1); ValueError naming ``level`` otherwise."""
    ok = isinstance(level, (int, float, np.integer, np.floating)) and not isinstance(level, (bool, np.bool_))
    if not ok or not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be a number between 0 and 1 (the bootstrap interval's "
                         f"probability, e.g. 0.68), got {level!r}")
    return float(level)


def bootstrap_problem(key, problem: Problem, result: FitResult, n: int = 1000, *, level: float = 0.68,
                      method: str = "lm", options: SolverOptions | None = None,
                      progress: Callable | None = None) -> BootstrapResult:
    """Bootstrap an already solved problem, starting every resample at its optimum.

    ``progress``: called with ``(resamples done, n)`` after each compiled call."""
    free = problem.free_names
    if not free:
        raise ValueError("bootstrap: the fit has no free parameters")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer, float, np.floating)) or n != int(n):
        raise ValueError(f"bootstrap: n must be a whole number of resamples, got {n!r}")
    n = int(n)
    if n < 2:
        raise ValueError(f"bootstrap: n must be >= 2 (a spread needs two resamples), got {n}")
    check_level(level)
    if not result.ok:
        raise ValueError(f"bootstrap: the fit's status is {result.status!r}, not 'ok' ({result.message}); "
                         "resamples of a fit that does not determine its parameters give no intervals")
    x = np.array([result.values[k] for k in free])
    # refits start at the optimum; a value on a bound (mu = 0 on its physical bound) just inside
    u_start = np.asarray(problem.spec.transform().to_internal_inside(x), float)
    opts = options or BOOTSTRAP_OPTIONS
    sizes = [t.T.shape[0] for t in problem.arrays.terms]
    arrays = pad_arrays(problem.arrays)
    lengths = [t.T.shape[0] for t in arrays.terms]
    base = np.concatenate([t.sqrt_w for t in arrays.terms])     # 1 real points, 0 padding
    cols = np.concatenate([np.arange(a, a + k) for a, k in zip(np.r_[0, np.cumsum(lengths)[:-1]], sizes)])
    chunk = _chunk(BOOTSTRAP_CHUNK)
    pkey = ("bootstrap", method, problem.spec, tuple(lengths), opts)
    parts = []
    for c0 in range(0, n, chunk):
        c = min(chunk, n - c0)
        sw = np.zeros((chunk, base.size))
        counts = resample_weights(key, sizes, c0, c)
        sw[:c, cols] = np.sqrt(counts)
        live = np.r_[np.ones(c), np.zeros(chunk - c)]
        v = _bootstrap_program(pkey, method, problem.spec, arrays, sw, live, opts, u_start,
                               _batch_size(chunk), allowed=_single_ok(arrays) and spec_single_kernel(problem.spec))
        v = np.array(v)[:c]
        # a resample with no more distinct points than free parameters determines nothing: its
        # refit "converges" anywhere along the undetermined directions
        v[(counts > 0).sum(axis=1) <= len(free), len(free) + 1] = DEGENERATE
        parts.append(v)
        if progress is not None:
            progress(c0 + c, n)
    v = np.concatenate(parts)
    k = len(free)
    samples = v[:, :k]
    # a refit that ran onto a bound (mu = 0 data resampled) stops where chi^2 no longer changes,
    # e.g. mu = 1e-124: that is the bound, and an interval end there is the bound itself
    params = [problem.params[i] for i in problem.spec.free]
    for j, p in enumerate(params):
        for b in (p.min, p.max):
            if math.isfinite(b):
                width = p.max - p.min if math.isfinite(p.max - p.min) else 0.0
                se = result.stderr.get(p.name) if result.stderr else None
                tol = 1e-9 * max(width, abs(x[j] - b), se if se is not None and math.isfinite(se) else 0.0)
                samples[np.abs(samples[:, j] - b) <= tol, j] = b
    return BootstrapResult(free, samples, v[:, k], v[:, k + 1].astype(int), float(level),
                           v[:, k + 2].astype(int))


def bootstrap_verdict(problem: Problem, bs: BootstrapResult) -> tuple:
    """(summary, warnings) of the bootstrap ``bs`` of ``problem``'s fit: what a FitResult shows.

    An interval is shown only where the resamples determine it: none (None, with a warning) for a
    parameter the resamples do not vary (zero width or undefined), or whose interval ends on a
    search limit (not a physical bound: resamples stopped on an arbitrary box, whose true spread
    is unknown).  A warning when fewer than 90 % of the resamples converged."""
    summary = bs.summary()
    warnings = []
    iv = summary["intervals"]
    degenerate = [k for k, (lo, hi) in iv.items() if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo]
    if degenerate:      # not an interval: none is shown or returned as one (None)
        iv.update({k: None for k in degenerate})
        warnings.append("no bootstrap interval for " + ", ".join(degenerate) + " (zero width or "
                        "undefined: the resamples do not vary them)")
    for p in (problem.params[i] for i in problem.spec.free):
        if iv.get(p.name) is None:
            continue
        for end, bound, phys in ((iv[p.name][0], p.min, p.physical[0]), (iv[p.name][1], p.max, p.physical[1])):
            if math.isfinite(bound) and not phys and end == bound:
                iv[p.name] = None
                warnings.append(f"no bootstrap interval for {p.name}: it ends on the search limit "
                                f"{bound:g} (resamples stopped there, not at their optimum); widen the "
                                f"limit of {p.name}")
                break
    if summary["n_ok"] < 0.9 * summary["n"]:
        few = summary.get("n_degenerate", 0)
        warnings.append(f"bootstrap: only {summary['n_ok']} of {summary['n']} resamples converged" + (
            f" ({few} drew no more distinct points than there are free parameters: too few data for a "
            "bootstrap; its intervals come from the lucky resamples and are not reliable)" if few else ""))
    return summary, warnings


def bootstrap(key, model, data=None, n: int = 1000, *, level: float = 0.68, method: str = "lm",
              progress: Callable | None = None, **kw) -> tuple:
    """Fit, then bootstrap ``n`` resamples (see :func:`bootstrap_problem`).

    Returns ``(FitResult, BootstrapResult)``; the FitResult carries the
    summary in ``.bootstrap`` (intervals as :func:`bootstrap_verdict` shows them: None where the
    resamples do not determine one, with a warning).  ``progress``: called with ``(done, n)``.
    """
    problem = build_problem(model, data, **kw)
    res = run_problem(problem, method)
    bs = bootstrap_problem(key, problem, res, n, level=level, method=method, progress=progress)
    res.bootstrap, warnings = bootstrap_verdict(problem, bs)
    res.warnings.extend(warnings)
    return res, bs
