"""Posterior sampling of a jtls fit with NUTS (blackjax).

:func:`sample_posterior` draws from the posterior of the free parameters of a
fitted :class:`~jtls.fit.engine.Problem`, using the same compiled weighted
residuals as the least-squares fit (:func:`jtls.fit.objective.residual_u`).

Likelihood
----------
* Every dataset has per-point sigma (``result.absolute_sigma``) and they
  describe the scatter (not ``result.sigma_scaled``): ``log L = -chi^2 / 2``.
* Otherwise the errors are known only up to one common unknown scale ``s``
  (residuals ``r_i / s``).  ``s`` is marginalised with the scale-invariant
  (Jeffreys) prior ``p(s) ∝ 1/s``:
  ``∫ s^-N exp(-chi^2 / (2 s^2)) ds / s ∝ (chi^2)^(-N/2)``, so
  ``log L = -(N/2) log chi^2`` with ``N`` the number of fitted points
  (``result.n_points``).  This is the Bayesian counterpart of scaling the
  least-squares covariance by the reduced chi^2.

Variables and priors
--------------------
NUTS runs in the internal unbounded variables ``u`` of the free parameters
(the bound transforms of :mod:`jtls.fit.params`); the draws are returned as
physical values.  Default priors ("uniform within the physical bounds in the
internal variables"):

* kind 3, both bounds ``[lo, hi]`` (e.g. ``mu`` in [0, 1]): uniform in the
  physical ``x`` on ``[lo, hi]``; the density in ``u`` carries the Jacobian
  ``log|dx/du| = log((hi - lo) s(u) (1 - s(u)))`` (``s`` the logistic
  function), so the posterior is proper.
* kind 1 / 2, one bound (amplitudes ``C``, ``A``, ``B`` > 0): uniform in
  ``u = ln(x - lo)`` (``ln(hi - x)``), i.e. log-uniform, on the window
  ``u_hat ± 20 se_u``, with ``u_hat`` the least-squares optimum and ``se_u``
  its standard error in ``u`` (the standard error of ``ln x`` by the delta
  method, ``se_x / |x - lo|``); ``± ln(1e6)`` where that standard error is
  not finite.
* kind 0, no bound: uniform in ``x`` on ``x_hat ± 50 se_x``; ``x_hat ±
  1e6 max(|x_hat|, 1)`` where ``se_x`` is not finite.

The windows are wide enough that a well-determined posterior does not feel
them; they keep the posterior proper when a parameter is poorly determined.
``priors={name: ("uniform", lo, hi)}`` (uniform in physical ``x``) or
``("loguniform", lo, hi)`` (uniform in ``ln x``, ``0 < lo``) overrides the
default of a parameter; the window must overlap the parameter's bounds.
The priors and windows used are returned (:meth:`PosteriorResult.summary_extra`).

Sampler
-------
``num_chains`` NUTS chains start at the least-squares optimum jittered by its
covariance (a fixed key from ``seed``).  NUTS runs in whitened variables
``z`` with ``u = u_hat + L z`` (``L L^T`` the least-squares covariance in
``u``: the Laplace approximation of the posterior is N(0, I) in ``z``).
The metric (``metric=``):

* ``"laplace"``: the identity in ``z``, i.e. the least-squares covariance as
  the inverse mass matrix; only the step size is tuned, by dual averaging
  over ``num_warmup`` steps per chain.
* ``"adapt"``: step size and mass matrix (dense for up to
  :data:`DENSE_MASS_MAX_FREE` free parameters, else diagonal) tuned per chain
  by :func:`blackjax.window_adaptation` over ``num_warmup`` steps.  A mass
  matrix estimated from a few hundred warmup draws is noisy: on the
  40-point velocity fit (nearly Gaussian posterior) it gave 0.18 effective
  samples per gradient against 0.42 for ``"laplace"`` (defaults, target 0.8;
  ``benchmarks/bench_posterior.py --metric adapt|auto``, benchmarks/README.md);
  it pays where the posterior is far from its Laplace approximation.
* ``"auto"`` (default): ``"laplace"`` where the least-squares covariance is
  usable (finite, positive definite, optimum inside the prior), ``"adapt"``
  otherwise.

The warmup is one compiled program; then ``num_samples`` draws per chain
follow in one ``lax.scan`` (a second program).  The chains are vmapped on an accelerator;
on the CPU they run one after the other inside the same program
(``lax.map``, :data:`VECTORISE_CHAINS`): there a batched model evaluation
costs as much as the separate ones and a vmapped NUTS step waits for the
longest trajectory of all chains.  Both programs take the data and priors as
arguments and are compiled ahead of time once per problem structure
(compile time reported apart in ``PosteriorResult.timing``).

Diagnostics (numpy, :mod:`jtls.fit.diagnostics`: :func:`rhat` and :func:`ess_bulk`): rank-normalised
split-R-hat (the larger of bulk and folded, Vehtari et al. 2021) and bulk
effective sample size (rank-normalised split chains, Geyer's initial monotone
sequence as in Stan/ArviZ).
"""
from __future__ import annotations

import dataclasses
import functools
import math
import time

import numpy as np
import jax
import jax.numpy as jnp

from .diagnostics import ess, ess_bulk, rhat  # noqa: F401  (re-exported: the diagnostics' old home)
from .params import _KIND_BOTH, _KIND_FREE, _KIND_LOWER, _KIND_UPPER
# the density and the compiled phases (re-exported: this module was their home)
from .nuts import (_EXECUTABLES, _LOGUNIFORM_X, _UNIFORM_U, _UNIFORM_X, PriorArrays, Whitening,  # noqa: F401
                   _compiled, _density_z, _nuts, _over_chains, _sample, _warmup, _warmup_step_size,
                   log_posterior, log_prior)

#: Dense mass matrix up to this many free parameters, diagonal above.
DENSE_MASS_MAX_FREE = 20
#: Chains vmapped (True: lockstep, one batched model evaluation per leapfrog step) or run one
#: after the other inside the same compiled program (False, ``lax.map``).  None: vmapped on an
#: accelerator, sequential on the CPU, where a batched evaluation costs as much as the separate
#: ones and a vmapped NUTS step waits for the longest trajectory of all chains (measured on the
#: 40-point velocity fit, 4 chains x 250 draws: sampling 138 s vmapped vs 64 s sequential on
#: the shared 2-core box; compile of a trivial model's vmapped warmup 7.5 s vs 3.7 s).
VECTORISE_CHAINS = None
#: Target mean acceptance probability of the step-size adaptation.
TARGET_ACCEPT = 0.8
#: Metrics of :func:`sample_posterior` (module docstring, "Sampler").
METRICS = ("auto", "laplace", "adapt")
#: Default prior windows (see the module docstring).
LOG_WINDOW_SE = 20.0
LOG_WINDOW_FALLBACK = math.log(1e6)
FREE_WINDOW_SE = 50.0
FREE_WINDOW_FALLBACK = 1e6

QUANTILES = (("q025", 0.025), ("q16", 0.16), ("q50", 0.5), ("q84", 0.84), ("q975", 0.975))


# --------------------------------------------------------------------------
# result

@dataclasses.dataclass
class PosteriorResult:
    """Draws of :func:`sample_posterior`.

    Attributes
    ----------
    names : free parameter names (last axis of ``samples``).
    samples : (num_chains, num_samples, n_free) physical values.
    divergences : (num_chains,) divergent transitions per chain after warmup.
    num_warmup : warmup (adaptation) steps per chain.
    acceptance_rate : (num_chains,) mean NUTS acceptance statistic per chain.
    step_size : (num_chains,) adapted step sizes.
    num_integration_steps : (num_chains,) mean leapfrog steps per draw.
    log_density : (num_chains, num_samples) log posterior (in u, up to a constant).
    optimum : {name: least-squares value}.
    likelihood : text of the likelihood used.
    priors : {name: {"type", "variable", "lo", "hi"}} (windows in physical units).
    window : {name: [lo, hi]} physical support of each prior.
    timing : seconds: "compile" (ahead-of-time lowering and compilation of the two
        programs; 0 when they were reused), "warmup", "sampling" (run times; XLA:CPU
        finishes part of the code generation during the first run of a new program, which
        shows in "warmup" of a first call -- benchmarks time a second call).
    metric : "laplace" or "adapt", the metric used (``metric="auto"`` resolved).
    """
    names: list
    samples: np.ndarray
    divergences: np.ndarray
    num_warmup: int
    acceptance_rate: np.ndarray
    step_size: np.ndarray
    num_integration_steps: np.ndarray
    log_density: np.ndarray
    optimum: dict
    likelihood: str
    priors: dict
    window: dict
    warmup_divergences: np.ndarray | None = None
    timing: dict = dataclasses.field(default_factory=dict)
    metric: str = "adapt"

    @property
    def num_chains(self) -> int:
        return int(self.samples.shape[0])

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[1])

    def draws(self, name) -> np.ndarray:
        """(num_chains, num_samples) draws of one parameter."""
        return self.samples[:, :, self.names.index(name)]

    def summary(self) -> dict:
        """{name: {"mean", "sd", "q025", "q16", "q50", "q84", "q975", "r_hat", "ess"}} with
        rank-normalised split-R-hat and bulk ESS (NaN for R-hat with one chain)."""
        out = {}
        for j, name in enumerate(self.names):
            x = self.samples[:, :, j]
            flat = x.reshape(-1)
            d = {"mean": float(flat.mean()), "sd": float(flat.std(ddof=1))}
            for key, q in QUANTILES:
                d[key] = float(np.quantile(flat, q))
            d["r_hat"] = float(rhat(x)) if x.shape[0] > 1 or x.shape[1] >= 8 else math.nan
            d["ess"] = float(ess_bulk(x))
            out[name] = d
        return out

    def summary_extra(self) -> dict:
        return {"divergences": int(np.sum(self.divergences)), "chains": self.num_chains,
                "samples": self.num_samples, "warmup": int(self.num_warmup), "metric": self.metric,
                "acceptance_rate": float(np.mean(self.acceptance_rate)),
                "step_size": [float(s) for s in self.step_size],
                "likelihood": self.likelihood, "priors": self.priors, "window": self.window}


# --------------------------------------------------------------------------
# priors

def _prior_setup(problem, result, priors, x_hat, u_hat, se_x, se_u):
    """-> (PriorArrays, description dict, window dict)."""
    spec = problem.spec
    tr = spec.transform()
    names = list(problem.free_names)
    priors = dict(priors or {})
    unknown = sorted(set(priors) - set(names))
    if unknown:
        raise ValueError(f"priors: {unknown} are not free parameters (free: {names})")
    mode, a, b, desc, window = [], [], [], {}, {}
    for j, name in enumerate(names):
        kind = int(tr.kinds[j])
        lo = float(tr.lo[j]) if kind in (_KIND_LOWER, _KIND_BOTH) else -math.inf
        hi = float(tr.hi[j]) if kind in (_KIND_UPPER, _KIND_BOTH) else math.inf
        if name in priors:
            spec_j = priors[name]
            try:
                ptype, plo, phi = spec_j
                plo, phi = float(plo), float(phi)
            except (TypeError, ValueError):
                raise ValueError(f"priors[{name!r}]: expected (type, lo, hi), got {spec_j!r}") from None
            if ptype not in ("uniform", "loguniform"):
                raise ValueError(f"priors[{name!r}]: type must be 'uniform' or 'loguniform', got {ptype!r}")
            if not (math.isfinite(plo) and math.isfinite(phi) and plo < phi):
                raise ValueError(f"priors[{name!r}]: need finite lo < hi, got ({plo}, {phi})")
            if ptype == "loguniform" and not plo > 0:
                raise ValueError(f"priors[{name!r}]: loguniform needs lo > 0, got {plo}")
            if not (plo < hi and phi > lo):
                raise ValueError(f"priors[{name!r}]: window ({plo}, {phi}) does not overlap the "
                                 f"bounds ({lo}, {hi}) of {name}")
            mode.append(_UNIFORM_X if ptype == "uniform" else _LOGUNIFORM_X)
            a.append(plo)
            b.append(phi)
            desc[name] = {"type": ptype, "variable": "x" if ptype == "uniform" else "ln x",
                          "lo": plo, "hi": phi, "source": "user"}
            window[name] = [max(plo, lo), min(phi, hi)]
            continue
        if kind == _KIND_BOTH:
            mode.append(_UNIFORM_X)
            a.append(lo)
            b.append(hi)
            desc[name] = {"type": "uniform", "variable": "x", "lo": lo, "hi": hi,
                          "source": "default: bounds"}
            window[name] = [lo, hi]
        elif kind in (_KIND_LOWER, _KIND_UPPER):
            half = LOG_WINDOW_SE * se_u[j] if math.isfinite(se_u[j]) and se_u[j] > 0 else LOG_WINDOW_FALLBACK
            ua, ub = u_hat[j] - half, u_hat[j] + half
            mode.append(_UNIFORM_U)
            a.append(ua)
            b.append(ub)
            if kind == _KIND_LOWER:
                xa, xb = lo + math.exp(ua), lo + math.exp(ub)
                var = "ln x" if lo == 0 else f"ln(x - {lo:g})"
            else:
                xa, xb = hi - math.exp(ub), hi - math.exp(ua)
                var = f"ln({hi:g} - x)"
            how = (f"{LOG_WINDOW_SE:g} stderr of {var}" if math.isfinite(se_u[j]) and se_u[j] > 0
                   else f"ln(1e6) in {var} (stderr not finite)")
            desc[name] = {"type": "loguniform" if lo == 0 and kind == _KIND_LOWER else f"uniform in {var}",
                          "variable": var, "lo": float(xa), "hi": float(xb),
                          "source": f"default: optimum ± {how}"}
            window[name] = [float(xa), float(xb)]
        else:
            ok = math.isfinite(se_x[j]) and se_x[j] > 0
            half = FREE_WINDOW_SE * se_x[j] if ok else FREE_WINDOW_FALLBACK * max(abs(x_hat[j]), 1.0)
            xa, xb = x_hat[j] - half, x_hat[j] + half
            mode.append(_UNIFORM_X)
            a.append(xa)
            b.append(xb)
            how = f"{FREE_WINDOW_SE:g} stderr" if ok else "1e6 max(|x|, 1) (stderr not finite)"
            desc[name] = {"type": "uniform", "variable": "x", "lo": float(xa), "hi": float(xb),
                          "source": f"default: optimum ± {how}"}
            window[name] = [float(xa), float(xb)]
    arr = PriorArrays(np.asarray(mode, np.int32), np.asarray(a, float), np.asarray(b, float))
    return arr, desc, window


# --------------------------------------------------------------------------
# entry point

def _centre(tr, u_hat, prior, window, names):
    """(centre u, moved flags, width of the prior support in u) with the centre the optimum
    clipped into the prior support shrunk by 1 % of its width (in the prior's variable)."""
    u = np.array(u_hat, float)
    moved = np.zeros(u.size, bool)
    width = np.empty(u.size)
    for j, name in enumerate(names):
        m, a, b = int(prior.mode[j]), float(prior.a[j]), float(prior.b[j])
        if m == _UNIFORM_U:
            lo, hi = a + 0.01 * (b - a), b - 0.01 * (b - a)
            width[j] = b - a
            uj = min(max(u[j], lo), hi)
        else:
            xa, xb = window[name]
            x = float(np.asarray(tr.to_physical(jnp.asarray(u)))[j])
            if m == _LOGUNIFORM_X:
                la, lb = math.log(xa), math.log(xb)
                lx = math.log(x) if x > 0 else la
                x = math.exp(min(max(lx, la + 0.01 * (lb - la)), lb - 0.01 * (lb - la)))
                ends = (math.exp(la + 0.01 * (lb - la)), math.exp(lb - 0.01 * (lb - la)))
            else:
                x = min(max(x, xa + 0.01 * (xb - xa)), xb - 0.01 * (xb - xa))
                ends = (xa + 0.01 * (xb - xa), xb - 0.01 * (xb - xa))
            one = lambda v: _to_internal_one(tr, j, v)  # noqa: E731
            uj = one(x)
            width[j] = abs(one(ends[1]) - one(ends[0]))
        if uj != u[j]:
            moved[j] = abs(uj - u[j]) > 1e-12 * max(abs(u[j]), 1.0)
            u[j] = uj
    return u, moved, np.maximum(width, 1e-300)


def _to_internal_one(tr, j, x):
    kind, lo, hi = int(tr.kinds[j]), float(tr.lo[j]), float(tr.hi[j])
    if kind == _KIND_FREE:
        return x
    if kind == _KIND_LOWER:
        return math.log(x - lo)
    if kind == _KIND_UPPER:
        return math.log(hi - x)
    f = (x - lo) / (hi - lo)
    return math.log(f) - math.log1p(-f)


@functools.partial(jax.jit, static_argnums=(0,))
def _log_posterior_batch(spec, absolute, U, arrays, prior, n_points):
    return jax.vmap(lambda u: log_posterior(spec, absolute, u, arrays, prior, n_points))(U)


def _start_points(key, u_hat, L, num_chains, ok_fn):
    """Chain starts: u_hat + L z (L L^T = the least-squares covariance in u), z ~ N(0, 1);
    a start with a non-finite log density is replaced by u_hat."""
    n = u_hat.size
    z = np.asarray(jax.random.normal(key, (num_chains, n)))
    u0 = u_hat[None, :] + z @ L.T
    good = ok_fn(u0)
    u0[~good] = u_hat
    return u0


def sample_posterior(problem, result, *, num_samples=1000, num_chains=4, seed=0, num_warmup=500,
                     priors=None, target_accept=None, metric="auto") -> PosteriorResult:
    """NUTS draws from the posterior of the free parameters of ``problem``.

    Parameters
    ----------
    problem : :class:`jtls.fit.engine.Problem` (from :func:`jtls.fit.build_problem`).
    result : the least-squares :class:`~jtls.fit.result.FitResult` of that problem
        (start point, covariance, default prior windows, likelihood kind).
    num_samples, num_chains, num_warmup : draws per chain, chains, adaptation steps per chain.
    seed : integer seed of ``jax.random.PRNGKey`` (starts, adaptation, sampling).
    priors : optional ``{name: ("uniform", lo, hi) | ("loguniform", lo, hi)}`` (physical
        units) replacing the default prior of a parameter (module docstring).
    target_accept : mean acceptance probability the step-size adaptation aims at (in (0, 1);
        default :data:`TARGET_ACCEPT`).  Raise it (e.g. 0.95) when divergences are reported.
    metric : "auto" (default), "laplace" or "adapt": the least-squares covariance as the
        mass matrix with only the step size tuned, or window adaptation of both (module
        docstring, "Sampler").  "laplace" needs a usable least-squares covariance.

    Returns
    -------
    :class:`PosteriorResult`
    """
    spec = problem.spec
    names = list(problem.free_names)
    n = len(names)
    if n == 0:
        raise ValueError("sample_posterior: the problem has no free parameters")
    if list(result.free) != names:
        raise ValueError(f"sample_posterior: result is for free parameters {result.free}, "
                         f"problem has {names}")
    num_samples, num_chains, num_warmup = int(num_samples), int(num_chains), int(num_warmup)
    if num_samples < 4 or num_chains < 1 or num_warmup < 0:
        raise ValueError("sample_posterior: need num_samples >= 4, num_chains >= 1, num_warmup >= 0")
    target_accept = TARGET_ACCEPT if target_accept is None else float(target_accept)
    if not 0.0 < target_accept < 1.0:
        raise ValueError(f"sample_posterior: target_accept must lie in (0, 1), got {target_accept}")
    if metric not in METRICS:
        raise ValueError(f"sample_posterior: metric must be one of {METRICS}, got {metric!r}")
    tr = spec.transform()
    x_hat = np.array([result.values[k] for k in names], float)
    try:
        u_hat = tr.to_internal_inside(x_hat)
    except ValueError:
        u_hat = np.full(n, np.nan)
    if not np.isfinite(u_hat).all():
        raise ValueError(f"sample_posterior: least-squares values not finite/inside bounds: {x_hat}")
    dxdu = np.asarray(jax.jvp(tr.to_physical, (jnp.asarray(u_hat),), (jnp.ones(n),))[1])
    cov_x = np.asarray(result.covariance, float).reshape(n, n)
    se_x = np.array([result.stderr.get(k, math.nan) for k in names], float)
    se_u = np.abs(se_x / dxdu)
    prior, desc, window = _prior_setup(problem, result, priors, x_hat, u_hat, se_x, se_u)

    # the chains' centre: the optimum, moved inside the prior support where it lies outside
    # (or within 1 % of its edge); then its covariance in u, or a diagonal guess where that is
    # not usable (not finite, not positive definite, or the centre was moved)
    u_c, moved, u_width = _centre(tr, u_hat, prior, window, names)
    cov_u = cov_x / np.outer(dxdu, dxdu)
    usable = np.isfinite(cov_u).all() and not moved.any()
    if usable:
        try:
            np.linalg.cholesky(cov_u)
        except np.linalg.LinAlgError:
            usable = False
    if not usable:
        if metric == "laplace":
            raise ValueError("sample_posterior: metric='laplace' needs the least-squares covariance, which "
                             "is not usable here (not finite or not positive definite, or the optimum lies "
                             "outside the prior); use metric='adapt'")
        d = np.where(np.isfinite(se_u) & (se_u > 0) & ~moved, se_u, 0.1 * u_width)
        cov_u = np.diag(np.minimum(d, 0.1 * u_width) ** 2)
    metric = ("laplace" if usable else "adapt") if metric == "auto" else metric

    absolute = result.sigma_as_given
    arrays = problem.arrays
    n_points = float(result.n_points)
    dense = n <= DENSE_MASS_MAX_FREE
    vectorise = VECTORISE_CHAINS if VECTORISE_CHAINS is not None else jax.default_backend() != "cpu"
    key = jax.random.PRNGKey(int(seed))
    k_start, k_warm, k_samp = jax.random.split(key, 3)

    L = np.linalg.cholesky(cov_u)
    white = Whitening(jnp.asarray(u_c), jnp.asarray(L))
    u0 = _start_points(k_start, u_c, L, num_chains, lambda U: np.isfinite(np.asarray(
        _log_posterior_batch(spec, absolute, jnp.asarray(U), arrays, prior, n_points))))
    z0 = jnp.asarray(np.linalg.solve(L, (u0 - u_c).T).T)

    absolute_arg = np.bool_(absolute)
    n_points_arg = np.float64(n_points)
    compile_s = 0.0
    t0 = time.perf_counter()
    if num_warmup > 0:
        wargs = (absolute_arg, jax.random.split(k_warm, num_chains), z0, arrays, prior, n_points_arg, white)
        if metric == "laplace":
            run, c = _compiled(_warmup_step_size, (spec, num_warmup, vectorise, target_accept), wargs)
        else:
            run, c = _compiled(_warmup, (spec, dense, num_warmup, vectorise, target_accept), wargs)
        compile_s += c
        t0 += c
        z_w, eps, imm, warm_div = run(*wargs)
        z_w = jax.block_until_ready(z_w)
    else:
        z_w, eps, warm_div = z0, jnp.full(num_chains, 0.5), jnp.zeros(num_chains, int)
        full = dense and metric == "adapt"
        imm = jnp.broadcast_to(jnp.eye(n) if full else jnp.ones(n), (num_chains,) + ((n, n) if full else (n,)))
    t1 = time.perf_counter()
    sargs = (absolute_arg, jax.random.split(k_samp, num_chains), z_w, eps, imm, arrays, prior, n_points_arg, white)
    run, c = _compiled(_sample, (spec, num_samples, vectorise), sargs)
    compile_s += c
    t1 += c
    xs, logd, div, acc, nsteps = run(*sargs)
    xs = np.asarray(jax.block_until_ready(xs))                           # (chains, draws, n)
    t2 = time.perf_counter()
    lik = ("-chi^2/2 (per-point sigma)" if absolute else
           f"-(N/2) log chi^2, N = {int(n_points)} (unknown common error scale s marginalised, p(s) ∝ 1/s)")
    return PosteriorResult(
        names=names, samples=xs, divergences=np.asarray(div).sum(axis=1).astype(int),
        num_warmup=num_warmup, acceptance_rate=np.asarray(acc).mean(axis=1),
        step_size=np.asarray(eps, float), num_integration_steps=np.asarray(nsteps).mean(axis=1),
        log_density=np.asarray(logd), optimum=dict(zip(names, x_hat.tolist())),
        likelihood=lik, priors=desc, window=window, warmup_divergences=np.asarray(warm_div).astype(int),
        metric=metric,
        timing={"compile": compile_s, "warmup": t1 - t0, "sampling": t2 - t1})
