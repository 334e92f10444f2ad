"""Posterior sampling of the 40-point velocity fit: NUTS (jtls.fit.posterior, blackjax)
against emcee (the affine-invariant ensemble sampler lmfit uses), side by side in one run.

Both sample the same log posterior (:func:`jtls.fit.posterior.log_posterior`: same
compiled residuals, same default priors, in the internal variables u); emcee evaluates it
through one jitted, vmapped JAX function per half-ensemble move (``vectorize=True``).

Figure of merit: effective samples per second = min over parameters of the bulk ESS
(rank-normalised split chains; emcee's walkers count as chains) / wall time of warmup
(burn-in) + sampling, compilation excluded and reported apart (NUTS: the first call minus
the second call of the same configuration; emcee: the first call of the jitted function).

    python benchmarks/bench_posterior.py [--nuts-samples 1000] [--nuts-warmup 500]
        [--chains 4] [--walkers 32] [--emcee-steps 3000] [--emcee-burn 1000] [--vectorise]
        [--metric auto|laplace|adapt] [--target-accept P]
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import time

import numpy as np
import jax
import jax.numpy as jnp

import jtls
from jtls.fit import Model, build_problem
from jtls.fit.engine import run_problem
from jtls.fit import posterior as P

OMEGA = jtls.units.paper_frequency(90e3)
TRUTH = {"C": 3.2e-4, "mu": 0.15, "A": jtls.units.paper_frequency(9.4e6), "offset": 1e-4}


def velocity_problem(seed=sum(map(ord, "velocity"))):
    T = np.geomspace(0.05, 3.0, 40)
    y0 = np.asarray(jtls.velocity_shift(T, TRUTH["C"], TRUTH["mu"], TRUTH["A"], OMEGA)) + TRUTH["offset"]
    rng = np.random.default_rng(seed)
    s = np.full(T.size, 3e-6)
    problem = build_problem(Model("velocity", omega=OMEGA), (T, y0 + s * rng.normal(size=T.size), s))
    return problem, run_problem(problem)


def min_ess(samples):
    """(min bulk ESS over parameters, max R-hat); samples (chains, draws, n)."""
    e = [P.ess_bulk(samples[:, :, j]) for j in range(samples.shape[2])]
    r = [P.rhat(samples[:, :, j]) for j in range(samples.shape[2])]
    return min(e), max(r)


def run_nuts(problem, res, args):
    out = {}
    t0 = time.perf_counter()
    first = P.sample_posterior(problem, res, num_samples=args.nuts_samples, num_chains=args.chains,
                               num_warmup=args.nuts_warmup, seed=0, target_accept=args.target_accept,
                               metric=args.metric)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    post = P.sample_posterior(problem, res, num_samples=args.nuts_samples, num_chains=args.chains,
                              num_warmup=args.nuts_warmup, seed=1, target_accept=args.target_accept,
                              metric=args.metric)
    wall = time.perf_counter() - t0
    e, r = min_ess(post.samples)
    out.update(wall=wall, compile=t_first - wall, min_ess=e, max_rhat=r, draws=post.samples.shape[0] * post.samples.shape[1],
               warmup=post.timing["warmup"], sampling=post.timing["sampling"],
               divergences=int(post.divergences.sum()), steps=float(post.num_integration_steps.mean()),
               step_size=float(post.step_size.mean()), post=post,
               evals=float(post.num_integration_steps.mean()) * post.samples.shape[0] * post.samples.shape[1])
    e1, _ = min_ess(first.samples)
    out["min_ess_first"] = e1
    return out


def run_emcee(problem, res, post, args):
    import emcee
    spec, arrays = problem.spec, problem.arrays
    names = post.names
    tr = spec.transform()
    x_hat = np.array([res.values[k] for k in names])
    u_hat = tr.to_internal(x_hat)
    se_x = np.array([res.stderr[k] for k in names])
    dxdu = np.asarray(jax.jvp(tr.to_physical, (jnp.asarray(u_hat),), (jnp.ones(len(names)),))[1])
    prior, _, _ = P._prior_setup(problem, res, None, x_hat, u_hat, se_x, np.abs(se_x / dxdu))
    absolute = bool(res.absolute_sigma)
    n_points = float(res.n_points)
    lp = jax.jit(jax.vmap(lambda u: P.log_posterior(spec, absolute, u, arrays, prior, n_points)))

    def log_prob(U):
        return np.asarray(lp(jnp.asarray(U)))

    nw = args.walkers
    cov_u = np.asarray(res.covariance) / np.outer(dxdu, dxdu)
    rng = np.random.default_rng(0)
    start = rng.multivariate_normal(u_hat, cov_u, size=nw)
    t0 = time.perf_counter()
    log_prob(start[: nw // 2])                    # compile (emcee moves half the ensemble at a time)
    log_prob(start)
    t_compile = time.perf_counter() - t0
    sampler = emcee.EnsembleSampler(nw, len(names), log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(0).get_state()
    t0 = time.perf_counter()
    sampler.run_mcmc(start, args.emcee_steps, progress=False)
    wall = time.perf_counter() - t0
    chain_u = sampler.get_chain(discard=args.emcee_burn)            # (steps, walkers, n)
    x = np.asarray(jax.vmap(tr.to_physical)(jnp.asarray(chain_u.reshape(-1, len(names))))).reshape(chain_u.shape)
    samples = x.swapaxes(0, 1)                                     # (walkers, steps, n)
    e, r = min_ess(samples)
    try:
        tau = float(np.max(sampler.get_autocorr_time(discard=args.emcee_burn, quiet=True)))
    except Exception:  # noqa: BLE001
        tau = math.nan
    return dict(wall=wall, compile=t_compile, min_ess=e, max_rhat=r, draws=samples.shape[0] * samples.shape[1],
                acceptance=float(np.mean(sampler.acceptance_fraction)), tau=tau, samples=samples,
                evals=nw * args.emcee_steps)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nuts-samples", type=int, default=1000)
    ap.add_argument("--nuts-warmup", type=int, default=500)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--walkers", type=int, default=32)
    ap.add_argument("--emcee-steps", type=int, default=3000)
    ap.add_argument("--emcee-burn", type=int, default=1000)
    ap.add_argument("--target-accept", type=float, default=None,
                    help="NUTS step-size adaptation target (default jtls.fit.posterior.TARGET_ACCEPT)")
    ap.add_argument("--metric", default="auto", choices=("auto", "laplace", "adapt"),
                    help="NUTS metric (sample_posterior(metric=); auto = laplace here)")
    ap.add_argument("--vectorise", action="store_true", help="NUTS chains vmapped (default on CPU: lax.map)")
    args = ap.parse_args()
    if args.vectorise:
        P.VECTORISE_CHAINS = True
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, jax {jax.__version__} on "
          f"{jax.default_backend()}; load before: {os.getloadavg()}")
    problem, res = velocity_problem()
    print(f"LM fit: {res.status}, " + ", ".join(f"{k} = {res.values[k]:.5g} ± {res.stderr[k]:.2g}" for k in res.free))
    nuts = run_nuts(problem, res, args)
    load_mid = os.getloadavg()
    em = run_emcee(problem, res, nuts["post"], args)
    load_end = os.getloadavg()
    s_n = nuts["post"].summary()
    print("\nposterior (NUTS) vs emcee vs LM:")
    for j, k in enumerate(nuts["post"].names):
        ex = em["samples"][:, :, j].reshape(-1)
        print(f"  {k:7s} NUTS {s_n[k]['mean']:.6g} ± {s_n[k]['sd']:.3g}   emcee {ex.mean():.6g} ± {ex.std():.3g}   "
              f"LM {res.values[k]:.6g} ± {res.stderr[k]:.3g}")
    rate_n = nuts["min_ess"] / nuts["wall"]
    rate_e = em["min_ess"] / em["wall"]
    chains = (f"{args.chains} chains ({'vmapped' if args.vectorise else 'lax.map'}, "
              f"metric {nuts['post'].metric}, target accept {args.target_accept or P.TARGET_ACCEPT})")
    print("\n| sampler | draws | wall (warmup/burn-in + sampling) | compile | model evals | min bulk ESS | "
          "max R-hat | ESS/s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| NUTS, {chains} x {args.nuts_samples} (+{args.nuts_warmup} warmup) | {nuts['draws']} | "
          f"{nuts['wall']:.1f} s ({nuts['warmup']:.1f} + {nuts['sampling']:.1f}) | {nuts['compile']:.1f} s | "
          f"{nuts['evals']:.0f} grads | {nuts['min_ess']:.0f} | {nuts['max_rhat']:.4f} | {rate_n:.1f} | "
          f"{rate_n / rate_e:.1f}x |")
    print(f"| emcee, {args.walkers} walkers x {args.emcee_steps} steps ({args.emcee_burn} burn-in) | "
          f"{em['draws']} | {em['wall']:.1f} s | {em['compile']:.1f} s | {em['evals']} log-p | {em['min_ess']:.0f} | "
          f"{em['max_rhat']:.4f} | {rate_e:.2f} | 1 |")
    print(f"\nNUTS: divergences {nuts['divergences']}, mean leapfrog steps/draw {nuts['steps']:.2f}, "
          f"mean step size {nuts['step_size']:.3f}, min ESS of the compile run {nuts['min_ess_first']:.0f}")
    print(f"emcee: acceptance {em['acceptance']:.3f}, max integrated autocorrelation time {em['tau']:.1f} steps")
    print(f"load: before NUTS/after NUTS/after emcee = see above / {load_mid} / {load_end}")


if __name__ == "__main__":
    main()
