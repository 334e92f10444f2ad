"""Cost of an accepted flip in the jtls chain against the memory-traffic limit (issue 14, item 4).

An accepted flip of TLS s updates all n local fields from row s of J:
it reads n x 4 bytes of J (float32) that are, for a random s, wherever the
cache hierarchy holds the n x n matrix (n^2 x 4 bytes: 0.26 MB at L = 8,
3.0 MB at L = 12, 16.8 MB at L = 16), and reads/writes the n fields (in L1).
The limit is therefore the time to stream one random row of J:

* ``limit``: a numba loop doing only that (``field += J[s] * d`` for random
  s, float32, one thread) on the same J sizes: ns per row = the cache/memory
  bandwidth limit of an accepted flip on this CPU, reported also as GB/s;
* ``jtls``: one realization annealed on one device by the compiled
  single-function chain (``kernel.anneal_at(..., scalar=True)`` inside
  ``_xla.single_function``, as ``jtls anneal`` on CPU), at a high T (most
  attempts accepted) and a low T (few), ``--sweeps`` random-site sweeps each;
  from t = n S (c_rej + a c_acc) at the two acceptances a one gets c_acc, the
  extra cost of an accepted attempt, and c_rej;
* fraction = limit / c_acc (1 = at the limit).

    python benchmarks/bench_anneal_flip.py --L 8 12 16 --sweeps 16
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def numba_row_limit(n: int, rows: int, repeats: int = 3) -> float:
    """Best ns per random-row update ``field += J[s] * d`` (float32, one thread)."""
    from numba import njit

    @njit(cache=True)
    def updates(J, field, idx):
        for k in range(idx.shape[0]):
            s = idx[k]
            d = np.float32(1.0) if (k & 1) else np.float32(-1.0)
            row = J[s]
            for j in range(field.shape[0]):
                field[j] += row[j] * d
        return field

    rng = np.random.default_rng(0)
    J = rng.standard_normal((n, n)).astype(np.float32)
    field = np.zeros(n, np.float32)
    idx = rng.integers(0, n, rows)
    updates(J, field, idx[:10])
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        updates(J, field, idx)
        best = min(best, time.perf_counter() - t)
    return best / rows * 1e9


def jtls_costs(L: int, sweeps: int, T_hi: float, T_lo: float, repeats: int = 3) -> dict:
    import jax
    import jax.numpy as jnp
    from jtls._xla import single_function
    from jtls.anneal.kernel import anneal_at, init_state
    from jtls.anneal.lattice import ModelParams, make_disorder

    p = ModelParams(L=L)
    n = p.n
    k_dis, k_init, k_dyn = jax.random.split(jax.random.key(1), 3)
    dis = make_disorder(k_dis, p, jnp.float32)
    st = init_state(k_init, dis.h, dis.J)
    inner = jax.jit(lambda k, st, h, J, T: anneal_at(k, st, h, J, T, sweeps, 64, "skip", scalar=True))
    f = jax.jit(lambda *a: single_function(inner(*a)))
    out = {}
    for name, T in (("hi", T_hi), ("lo", T_lo)):
        Tj = jnp.float32(T)
        jax.block_until_ready(f(k_dyn, st, dis.h, dis.J, Tj))          # compile / warm
        best, nacc = np.inf, None
        for _ in range(repeats):
            t = time.perf_counter()
            s2, a = jax.block_until_ready(f(k_dyn, st, dis.h, dis.J, Tj))
            best = min(best, time.perf_counter() - t)
            nacc = int(a)
        out[name] = {"T": T, "seconds": best, "acceptance": nacc / (n * sweeps)}
    att = n * sweeps
    a_hi, a_lo = out["hi"]["acceptance"], out["lo"]["acceptance"]
    c_acc = (out["hi"]["seconds"] - out["lo"]["seconds"]) / (att * (a_hi - a_lo))
    c_rej = out["lo"]["seconds"] / att - a_lo * c_acc
    return {"n": n, "runs": out, "c_acc_ns": c_acc * 1e9, "c_rej_ns": c_rej * 1e9}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, nargs="+", default=[8, 12, 16])
    ap.add_argument("--sweeps", type=int, default=16)
    ap.add_argument("--T-hi", type=float, default=300.0, help="K (most attempts accepted)")
    ap.add_argument("--T-lo", type=float, default=0.5, help="K (few attempts accepted)")
    a = ap.parse_args(argv)
    from jtls.anneal.run import use_cpu_cores
    use_cpu_cores(1)
    print(json.dumps({"loadavg_start": os.getloadavg()}), flush=True)
    for L in a.L:
        row = jtls_costs(L, a.sweeps, a.T_hi, a.T_lo)
        n = row["n"]
        lim = numba_row_limit(n, rows=max(20000, 2 * 10 ** 8 // (n * 4) // 4))
        row |= {"L": L, "J_MB": n * n * 4 / 1e6, "limit_ns": lim, "limit_GBps": n * 4 / lim,
                "fraction_of_limit": lim / row["c_acc_ns"], "loadavg": os.getloadavg()}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
