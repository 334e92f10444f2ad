"""Benchmark: mean-field TLS glass solver (jtls.companion.meanfield) at N = 1e4.

Target (issue 6): N = 10^4 TLSs, 100 realizations "in minutes" on this CPU.
Parameters of Asban et al. Fig. 1/3: W = J = 1, T = 0.05, Delta0 in
[1e-7, 1e-1], float32 couplings (400 MB per realization), sequential solver,
tol = 1e-5 J.  One realization is run first to compile; then ``--measure``
realizations are timed one by one and the total for ``--target`` realizations
is extrapolated from their mean.  ``--full`` runs all ``--target`` realizations
through ``simulate`` (with a checkpoint, so it can resume) and times that.

    python benchmarks/bench_meanfield.py [--N 10000] [--measure 3] [--full]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import jax
import jax.numpy as jnp

import jtls  # noqa: F401
from jtls.companion import meanfield as mf


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--N", type=int, default=10000)
    ap.add_argument("--T", type=float, default=0.05)
    ap.add_argument("--measure", type=int, default=3)
    ap.add_argument("--target", type=int, default=100)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--checkpoint", default="/tmp/jtls_bench_meanfield.npz")
    args = ap.parse_args(argv)
    kw = dict(coupling_dtype=jnp.float32, tol=1e-5)
    key = jax.random.PRNGKey(0)
    out = {"N": args.N, "T": args.T, "W": 1.0, "J": 1.0, "coupling_dtype": "float32",
           "method": "sequential", "cpu_count": os.cpu_count(),
           "loadavg_start": os.getloadavg()}
    t0 = time.perf_counter()
    mf.simulate(jax.random.fold_in(key, 10**6), 1, args.N, 1.0, 1.0, args.T, **kw)
    out["first_call_with_compile_s"] = time.perf_counter() - t0
    times, sweeps, conv = [], [], []
    for r in range(args.measure):
        t0 = time.perf_counter()
        run = mf.simulate(jax.random.fold_in(key, r), 1, args.N, 1.0, 1.0, args.T, **kw)
        times.append(time.perf_counter() - t0)
        sweeps.append(int(run.iterations[0]))
        conv.append(bool(run.converged[0]))
        print(f"realization {r}: {times[-1]:.2f} s, {sweeps[-1]} sweeps, converged={conv[-1]}", flush=True)
    out.update(per_realization_s=times, sweeps=sweeps, converged=conv,
               mean_per_realization_s=float(np.mean(times)),
               extrapolated_total_s=float(np.mean(times) * args.target),
               target_realizations=args.target, loadavg_end=os.getloadavg())
    if args.full:
        t0 = time.perf_counter()
        run = mf.simulate(key, args.target, args.N, 1.0, 1.0, args.T, checkpoint=args.checkpoint,
                          verbose=True, **kw)
        out["full_run_s"] = time.perf_counter() - t0
        out["full_run_converged"] = int(run.converged.sum())
        out["full_run_max_sweeps"] = int(run.iterations.max())
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
