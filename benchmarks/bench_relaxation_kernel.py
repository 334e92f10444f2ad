"""Cost of the relaxation kernel G(b) of Eq. (8) and of the velocity log posterior, value and gradient.

The figures behind the NUTS-vs-emcee ratio (benchmarks/README.md, "Posterior sampling"):
a NUTS step needs the gradient of the log posterior, emcee only its value (in batches
of half its walkers).  Medians of 5 repeats of 300 calls, jitted, in one process.

    python benchmarks/bench_relaxation_kernel.py

Run it at two commits (e.g. with ``git worktree``) to compare implementations.
"""
from __future__ import annotations

import os
import platform
import sys
import time

import numpy as np
import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_posterior import velocity_problem  # noqa: E402

from jtls.fit import posterior as P  # noqa: E402
from jtls.observables._kernels import relaxation_kernel  # noqa: E402


def timed(fn, *args, n=300, repeats=5):
    """Median seconds per call."""
    jax.block_until_ready(fn(*args))
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            r = fn(*args)
        jax.block_until_ready(r)
        out.append((time.perf_counter() - t0) / n)
    return float(np.median(out))


def main():
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, jax {jax.__version__}; "
          f"load before: {os.getloadavg()}")
    lb = jnp.asarray(np.linspace(-20.0, 12.0, 13_000))      # ~ the nodes of 40 temperatures
    kv = jax.jit(lambda x: jnp.sum(jnp.real(relaxation_kernel(x))))
    kg = jax.jit(jax.grad(lambda x: jnp.sum(jnp.real(relaxation_kernel(x)))))
    problem, res = velocity_problem()
    names = list(res.free)
    tr = problem.spec.transform()
    x_hat = np.array([res.values[k] for k in names])
    u_hat = tr.to_internal(x_hat)
    se_x = np.array([res.stderr[k] for k in names])
    dxdu = np.asarray(jax.jvp(tr.to_physical, (jnp.asarray(u_hat),), (jnp.ones(len(names)),))[1])
    prior, _, _ = P._prior_setup(problem, res, None, x_hat, u_hat, se_x, np.abs(se_x / dxdu))

    def logp(u):
        return P.log_posterior(problem.spec, bool(res.absolute_sigma), u, problem.arrays, prior,
                               float(res.n_points))
    u = jnp.asarray(u_hat)
    U = jnp.asarray(u_hat + 0.01 * np.random.default_rng(0).normal(size=(16, len(names))))
    rows = [("G(b) value, 13 000 nodes", timed(kv, lb)),
            ("G(b) gradient, 13 000 nodes", timed(kg, lb)),
            ("velocity log posterior, value", timed(jax.jit(logp), u)),
            ("velocity log posterior, value and gradient", timed(jax.jit(jax.value_and_grad(logp)), u)),
            ("velocity log posterior, batch of 16, per member", timed(jax.jit(jax.vmap(logp)), U) / 16)]
    print("| quantity | ms |\n|---|---|")
    for name, t in rows:
        print(f"| {name} | {t * 1e3:.3f} |")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
