"""NUTS alone on a standard 4-d Gaussian: effective samples per gradient vs the step-size
adaptation target and the warmup length (no model cost).

jtls runs NUTS in variables whitened by the least-squares covariance, where the Laplace
approximation of a posterior is N(0, I); this measures what blackjax's NUTS can give there
(4 chains x 1000 draws, dense window adaptation as in jtls.fit.posterior), to separate the
sampler's efficiency from the model's gradient cost in benchmarks/bench_posterior.py.

    python benchmarks/bench_nuts_gaussian.py
Prints, per (target, warmup): mean leapfrog steps per draw, min bulk ESS over the four
coordinates (rank-normalised split chains, jtls.fit.posterior.ess_bulk) and ESS per 1000
gradients (warmup counted at the sampling phase's steps per draw).
"""
import blackjax
import jax
import jax.numpy as jnp
import numpy as np

import jtls  # noqa: F401  (float64)
from jtls.fit import posterior as P


def logdensity(z):
    return -0.5 * jnp.sum(z**2)


def run(target, warmup, chains=4, draws=1000, dim=4):
    xs, steps = [], []
    for c in range(chains):
        wa = blackjax.window_adaptation(blackjax.nuts, logdensity, is_mass_matrix_diagonal=False,
                                        initial_inverse_mass_matrix=jnp.eye(dim), target_acceptance_rate=target)
        (state, params), _ = wa.run(jax.random.PRNGKey(c), jnp.full(dim, 0.3), warmup)
        kernel = blackjax.nuts(logdensity, **params)

        def body(s, key):
            s, info = kernel.step(key, s)
            return s, (s.position, info.num_integration_steps)

        _, (x, n) = jax.lax.scan(body, kernel.init(state.position), jax.random.split(jax.random.PRNGKey(100 + c), draws))
        xs.append(np.asarray(x))
        steps.append(float(np.mean(n)))
    X = np.stack(xs)
    ess = min(P.ess_bulk(X[:, :, j]) for j in range(dim))
    grads = chains * (draws + warmup) * np.mean(steps)
    return np.mean(steps), ess, 1000 * ess / grads


def main():
    for target in (0.6, 0.65, 0.7, 0.8, 0.9):
        for warmup in (100, 200, 500):
            s, e, per = run(target, warmup)
            print(f"target {target} warmup {warmup}: steps/draw {s:.2f}  min ESS {e:.0f}  ESS per 1000 grads {per:.1f}")


if __name__ == "__main__":
    main()
