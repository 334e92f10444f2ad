"""Annealer throughput: jtls (jax.lax.scan, vmapped) vs a compiled sequential numba chain.

Both run the same Markov chain (jtls.anneal.kernel docstring: sequential
sweeps for T >= h0/4, random-site sweeps below) on the paper's
temperature list (42 temperatures 300 K -> 0.02 K, then 2 uK) with
``--sweeps`` sweeps per temperature (paper: 257; fewer keep the benchmark
short, the acceptance profile per temperature is the same).  Measured side by
side in one process, alternating the two to share the machine's load.

Reported: attempted flips per second (attempts = realizations x n x sweeps x
temperatures) for
  * numba-1: one chain at a time on one thread (the sequential baseline),
  * numba-P: realizations spread over all cores with prange,
  * jtls:    the full jtls pipeline (disorder, annealing, histograms after
             every temperature, stability check, relaxation) for one chunk,
             excluding compilation (a first call compiles),
and the extrapolated time of a paper-scale run (L = 12, 1e4 realizations,
257 sweeps x 43 temperatures).

    python benchmarks/bench_anneal.py --L 8 12 16 --sweeps 16 --chunk 8 --dtype float32
    python benchmarks/bench_anneal.py --L 12 --sweeps 257 --chunk 8 --dtype float32

(``python`` of the project's environment with the [bench] extra, for numba.)
The machine load (``os.getloadavg()``) is printed at the start and the end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def seq_flags_list(temps, h0, J0):
    return [bool(t / max(h0, J0) >= 0.25) for t in temps]


_CHILD = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, {here!r})
from anneal_baseline_numba import anneal_many, anneal_one, make_disorder_np
a = json.loads(sys.argv[1])
temps, sweeps, seq = np.asarray(a["temps"]), np.asarray(a["sweeps"], np.int64), np.asarray(a["seq"])
rng = np.random.default_rng(0)
R = a["R"]
dis = [make_disorder_np(rng, a["L"]) for _ in range(R)]
hs = np.stack([d[0] for d in dis]); Js = np.stack([d[1] for d in dis])
taus = np.where(rng.random(hs.shape) < 0.5, 1.0, -1.0)
anneal_one(hs[0], Js[0], taus[0].copy(), temps[:1], np.array([1]), 0, seq[:1])
anneal_many(hs[:2], Js[:2], taus[:2].copy(), temps[:1], np.array([1]), np.arange(2), seq[:1])
t = time.perf_counter()
for i in range(R):
    anneal_one(hs[i], Js[i], taus[i].copy(), temps, sweeps, i, seq)
t1 = time.perf_counter() - t
t = time.perf_counter()
_, accs, atts = anneal_many(hs, Js, taus.copy(), temps, sweeps, np.arange(R), seq)
tP = time.perf_counter() - t
print(json.dumps({{"t1": t1, "tP": tP, "acc": int(accs.sum()), "att": int(atts.sum())}}))
"""


def numba_child(L, R, temps, sweeps, seq):
    """Time numba-1 and numba-P in a fresh process (float64, the straightforward baseline)."""
    import subprocess
    here = os.path.dirname(os.path.abspath(__file__))
    arg = json.dumps({"L": L, "R": R, "temps": [float(t) for t in temps],
                      "sweeps": [int(s) for s in sweeps], "seq": seq})
    out = subprocess.run([sys.executable, "-c", _CHILD.format(here=here), arg],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, nargs="+", default=[8, 12])
    ap.add_argument("--sweeps", type=int, default=16)
    ap.add_argument("--chunk", type=int, default=64, help="jtls realizations per call")
    ap.add_argument("--numba-realizations", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    ap.add_argument("--skip-numba", action="store_true")
    ap.add_argument("--ordinary", action="store_true",
                    help="compile jtls the ordinary way (RunConfig(single_kernel=False)) for comparison")
    ap.add_argument("--cpu-devices", type=int, default=0,
                    help="jtls CPU devices (default 0 = one per core, as jtls anneal; 1 = single device)")
    ap.add_argument("--json", default=None, help="write results here")
    a = ap.parse_args(argv)

    import jax
    import jtls  # noqa: F401
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig, make_chunk_fn, use_cpu_cores
    use_cpu_cores(a.cpu_devices)
    from jtls.anneal.schedule import paper_schedule

    sched = paper_schedule(sweeps=a.sweeps)
    temps = np.asarray(sched.T)
    sweeps = np.asarray(sched.sweeps, np.int64)
    paper_attempts = 1e4 * 864 * 257 * 43
    results = []
    load_start = os.getloadavg()
    print(json.dumps({"loadavg_start": load_start}), flush=True)
    for L in a.L:
        p = ModelParams(L=L)
        cfg = RunConfig(params=p, schedule=sched, realizations=a.chunk, chunk=a.chunk, dtype=a.dtype,
                        single_kernel=not a.ordinary)
        fn, ndev = make_chunk_fn(cfg)
        chunk = -(-a.chunk // ndev) * ndev
        r = np.arange(chunk, dtype=np.int32)
        t = time.perf_counter()
        jax.block_until_ready(fn(r))
        compile_s = time.perf_counter() - t
        row = {"L": L, "n": p.n, "sweeps_per_T": a.sweeps, "chunk": chunk, "devices": ndev,
               "dtype": a.dtype, "single_kernel": not a.ordinary, "jtls_first_call_s": compile_s}
        seq = seq_flags_list(temps, p.h0, p.J0)
        jt, n1, nP = [], [], []
        for _ in range(a.repeats):
            t = time.perf_counter()
            out = jax.block_until_ready(fn(r))
            jt.append(time.perf_counter() - t)
            if not a.skip_numba:
                # numba runs in a child process without jax: XLA's idle worker threads
                # would otherwise compete with it for the 2 cores right after a jtls call
                res = numba_child(L, a.numba_realizations, temps, sweeps, seq)
                n1.append(res["t1"])
                nP.append(res["tP"])
                accs, atts = res["acc"], res["att"]
        att_j = chunk * p.n * int(sweeps.sum())
        row["jtls_attempts_per_s"] = att_j / min(jt)
        row["jtls_acceptance"] = float(np.asarray(out["accepted"]).sum() / att_j)
        if not a.skip_numba:
            att_n = a.numba_realizations * p.n * int(sweeps.sum())
            row["numba1_attempts_per_s"] = att_n / min(n1)
            row["numbaP_attempts_per_s"] = att_n / min(nP)
            row["numba_acceptance"] = accs / atts
            row["ratio_jtls_over_numba1"] = row["jtls_attempts_per_s"] / row["numba1_attempts_per_s"]
            row["ratio_jtls_over_numbaP"] = row["jtls_attempts_per_s"] / row["numbaP_attempts_per_s"]
        if L == 12:
            row["paper_scale_hours_jtls"] = paper_attempts / row["jtls_attempts_per_s"] / 3600
            if not a.skip_numba:
                row["paper_scale_hours_numba1"] = paper_attempts / row["numba1_attempts_per_s"] / 3600
                row["paper_scale_hours_numbaP"] = paper_attempts / row["numbaP_attempts_per_s"] / 3600
        results.append(row)
        print(json.dumps(row), flush=True)
    meta = {"backend": jax.default_backend(), "device": str(jax.devices()[0]), "cpus": os.cpu_count(),
            "jax": jax.__version__, "loadavg_start": load_start, "loadavg_end": os.getloadavg()}
    print(json.dumps(meta))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": results, "meta": meta}, f, indent=1)


if __name__ == "__main__":
    main()
