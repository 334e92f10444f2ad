"""Benchmark (issue 14, item 3): fresh `jtls fit` processes against a scipy script; compilations per length.

Problem: the 40-point velocity fit of benchmarks/bench_fit.py (written to a CSV).

Measured (wall clock and CPU seconds of the child process, peak RSS; load
average printed):
  * ``python -m jtls fit FILE --observable velocity --omega W --json`` as a
    fresh process: with an empty persistent compilation cache (cold), then
    ``--repeats`` times with the cache filled (compilation cache and stored
    exported programs, jtls/_exported.py), and ``--repeats`` times with the
    compilation cache alone (``JTLS_EXPORTED=off``, its own filled cache);
  * the scipy script of bench_fit.py (read the CSV, scipy.optimize.least_squares
    on the closed-form Eq. (8) model, print) as a fresh process;
  * where a cached run spends its time: a fresh process that times its phases
    (import, CSV read, problem + automatic guess, first fit = compiled-program
    load + solve + inference, report as JSON), against the same fit warm;
  * ``--files`` noise draws of the same curve in as many CSV files: one
    ``jtls fit F1 ... FN --json`` process (empty cache, then cache filled) against
    one scipy script process fitting the same files in turn;
  * with ``--prefetch-ab K``: K cold first fits each (fresh processes, no
    persistent cache) with and without the background compilation of the
    verdict's held-solve program (``jtls.fit.engine.PREFETCH``), alternating;
  * first fits (compilation, no persistent cache) at ``--lengths`` points in one
    fresh process, in order: a length in a bucket already compiled shows
    what padding saves (compiled programs counted with their cache sizes).

Usage:  python benchmarks/bench_cold.py [--repeats 3] [--lengths 400,430,4000,4400] [--files 20]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from bench_fit import OMEGA, T_REF, TRUE, NOISE  # noqa: E402


def run_proc(cmd, env):
    """(wall s, stdout, stderr) of a child process."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{cmd} failed: {p.stderr[-2000:]}")
    return wall, p.stdout, p.stderr


def _measured(cmd, env):
    """(wall s, CPU s, peak RSS MB, stdout) of ``cmd``, run under a wrapper process
    that reports the command's resource usage."""
    wrap = [sys.executable, os.path.abspath(__file__), "--child-rusage", "--"] + cmd
    wall, out, err = run_proc(wrap, env)
    info = json.loads(err.strip().splitlines()[-1])
    return wall, info["cpu"], info["rss_mb"], out


def child_rusage(cmd):
    import resource
    p = subprocess.run(cmd, cwd=ROOT)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024.0}), file=sys.stderr)
    return p.returncode


def phases(csv):
    """A cached `jtls fit` run, phase by phase (printed as JSON)."""
    t = {}
    t0 = time.perf_counter()
    import jtls  # noqa: F401
    from jtls.fit import Model
    from jtls.fit.cli import enable_compilation_cache
    from jtls.fit.engine import build_problem, run_problem
    from jtls.data import read_csv
    enable_compilation_cache()
    t["import"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = read_csv(csv)
    t["read"] = time.perf_counter() - t0
    model = Model("velocity", omega=OMEGA)
    t0 = time.perf_counter()
    p = build_problem(model, ds)
    t["problem_and_guess"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = run_problem(p)
    t["first_fit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    res.to_json()
    t["report_json"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    build_problem(model, ds)
    t["problem_and_guess_warm"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_problem(build_problem(model, ds))
    t["fit_warm"] = time.perf_counter() - t0
    print(json.dumps(t))


def first_fits(lengths):
    """First fits of the velocity model at these lengths, in this order (printed as JSON)."""
    import jtls
    from jtls.fit import Model, fit
    from jtls.fit import constrained, kernel
    model = Model("velocity", omega=OMEGA, T_ref=T_REF)
    rng = np.random.default_rng(0)

    def count():
        return (kernel.solve_kernel._cache_size() + kernel.solve_program._cache_size()
                + constrained._solve_program.cache_size())

    out = []
    for n in lengths:
        T = np.geomspace(0.05, 10.0, n)
        y = np.asarray(jtls.velocity_shift(T, TRUE["C"], TRUE["mu"], TRUE["A"], OMEGA, T_REF)) + TRUE["offset"]
        y = y + NOISE * rng.normal(size=n)
        c0 = count()
        t0 = time.perf_counter()
        res = fit(model, (T, y))
        t1 = time.perf_counter() - t0
        t0 = time.perf_counter()
        fit(model, (T, y))
        t2 = time.perf_counter() - t0
        out.append({"n": n, "first": t1, "warm": t2, "new_programs": count() - c0, "status": res.status})
    print(json.dumps(out))


def first_fit_prefetch(flag):
    """One cold first fit (no persistent cache) with the held-solve program compiled in a
    background thread (flag 1) or not (0); printed as JSON."""
    import resource
    import jtls
    from jtls.fit import Model, fit
    from jtls.fit import engine
    engine.PREFETCH = bool(int(flag))
    T = np.geomspace(0.05, 10.0, 40)
    y = np.asarray(jtls.velocity_shift(T, TRUE["C"], TRUE["mu"], TRUE["A"], OMEGA, T_REF)) + TRUE["offset"]
    y = y + NOISE * np.random.default_rng(0).normal(size=T.size)
    t0 = time.perf_counter()
    res = fit(Model("velocity", omega=OMEGA, T_ref=T_REF), (T, y))
    t = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"prefetch": engine.PREFETCH, "first_fit": t, "cpu": ru.ru_utime + ru.ru_stime,
                      "status": res.status}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--lengths", default="400,430,4000,4400")
    ap.add_argument("--files", type=int, default=20, help="files of the several-file comparison (0: skip)")
    ap.add_argument("--phases", metavar="CSV", help=argparse.SUPPRESS)
    ap.add_argument("--first-fits", metavar="N,N", help=argparse.SUPPRESS)
    ap.add_argument("--prefetch-ab", type=int, default=0, metavar="K",
                    help="also K cold first fits each with and without the background compilation of "
                         "the verdict's held solve, alternating (0: skip)")
    ap.add_argument("--first-fit-prefetch", metavar="0|1", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.first_fit_prefetch is not None:
        first_fit_prefetch(args.first_fit_prefetch)
        return 0
    if args.phases:
        phases(args.phases)
        return 0
    if args.first_fits:
        first_fits([int(v) for v in args.first_fits.split(",")])
        return 0

    import jtls
    from jtls.fit import build_problem
    load0 = os.getloadavg()
    T = np.geomspace(0.05, 10.0, 40)
    rng = np.random.default_rng(0)
    y = np.asarray(jtls.velocity_shift(T, TRUE["C"], TRUE["mu"], TRUE["A"], OMEGA, T_REF)) + TRUE["offset"]
    y = y + NOISE * rng.normal(size=T.size)
    tmp = tempfile.mkdtemp(prefix="jtls_cold_")
    csv = os.path.join(tmp, "velocity.csv")
    with open(csv, "w") as fh:
        fh.write("T,value\n")
        for t, v in zip(T, y):
            fh.write(f"{float(t)!r},{float(v)!r}\n")
    from jtls.fit import Model
    p = build_problem(Model("velocity", omega=OMEGA, T_ref=T_REF), (T, y))
    x0 = {q.name: q.value for q in p.params}
    x0v = [x0["C"], x0["mu"], x0["A"], x0["offset"]]

    py = sys.executable
    cache = os.path.join(tmp, "jaxcache")
    env = dict(os.environ, JTLS_JAX_CACHE=cache)
    cli = [py, "-m", "jtls", "fit", csv, "--observable", "velocity", "--omega", repr(OMEGA), "--json"]
    cold = _measured(cli, env)
    print(f"[progress] cold CLI {cold[0]:.2f} s", flush=True)
    rep = [_measured(cli, env) for _ in range(args.repeats)]
    print(f"[progress] cached CLI {[round(r[0], 2) for r in rep]} s", flush=True)
    # the same with the store of exported programs off (compilation cache only), its own cache
    env_ne = dict(os.environ, JTLS_JAX_CACHE=os.path.join(tmp, "jaxcache_noexport"), JTLS_EXPORTED="off")
    _measured(cli, env_ne)
    rep_ne = [_measured(cli, env_ne) for _ in range(args.repeats)]
    print(f"[progress] cached CLI, exported programs off {[round(r[0], 2) for r in rep_ne]} s", flush=True)
    env_nc = dict(os.environ, JTLS_JAX_CACHE="off")
    sp = [_measured([py, os.path.join(HERE, "bench_fit.py"),
                     "--scipy-script=" + ",".join([csv] + [repr(v) for v in x0v])], env_nc)
          for _ in range(args.repeats)]
    print(f"[progress] scipy script {[round(r[0], 2) for r in sp]} s", flush=True)
    many = []
    if args.files > 0:
        paths = []
        for i in range(args.files):
            yi = y + NOISE * rng.normal(size=T.size)
            paths.append(os.path.join(tmp, f"velocity_{i:03d}.csv"))
            with open(paths[-1], "w") as fh:
                fh.write("T,value\n")
                for t, v in zip(T, yi):
                    fh.write(f"{float(t)!r},{float(v)!r}\n")
        cli_n = [py, "-m", "jtls", "fit", *paths, "--observable", "velocity", "--omega", repr(OMEGA), "--json"]
        env_n = dict(os.environ, JTLS_JAX_CACHE=os.path.join(tmp, "jaxcache_files"))
        n_cold = _measured(cli_n, env_n)
        docs = [json.loads(line) for line in n_cold[3].strip().splitlines()]
        if len(docs) != args.files or any(d["status"] != "ok" for d in docs):
            raise RuntimeError(f"several-file jtls fit: {len(docs)} documents, statuses "
                               f"{sorted({d['status'] for d in docs})}")
        n_rep = [_measured(cli_n, env_n) for _ in range(args.repeats)]
        n_sp = [_measured([py, os.path.join(HERE, "bench_fit.py"),
                           "--scipy-script=" + ",".join(["+".join(paths)] + [repr(v) for v in x0v])], env_nc)
                for _ in range(args.repeats)]
        many = [("`jtls fit` of the files, empty compilation cache", n_cold),
                *[(None, r) for r in n_rep], *[("scipy", r) for r in n_sp]]
        print(f"[progress] {args.files} files: jtls cold {n_cold[0]:.2f} s, cached {[round(r[0], 2) for r in n_rep]} s, "
              f"scipy {[round(r[0], 2) for r in n_sp]} s", flush=True)
    ph = _measured([py, os.path.abspath(__file__), "--phases", csv], env)
    phase = json.loads(ph[3].strip().splitlines()[-1])
    print(f"[progress] phases {phase}", flush=True)
    ff = _measured([py, os.path.abspath(__file__), "--first-fits", args.lengths], env_nc)
    firsts = json.loads(ff[3].strip().splitlines()[-1])
    print(f"[progress] first fits {firsts}", flush=True)
    ab = []
    for _ in range(args.prefetch_ab):
        for flag in ("0", "1"):
            r = _measured([py, os.path.abspath(__file__), "--first-fit-prefetch", flag], env_nc)
            ab.append(json.loads(r[3].strip().splitlines()[-1]))
    if ab:
        print(f"[progress] prefetch A/B {ab}", flush=True)
    load1 = os.getloadavg()

    med = lambda rows, k: float(np.median([r[k] for r in rows]))  # noqa: E731
    print()
    print(f"machine: {os.cpu_count()} CPUs; load average before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    print()
    print("| fresh process | wall s | CPU s | peak RSS MB | scipy script / this |")
    print("|---|---|---|---|---|")
    s_wall = med(sp, 0)
    print(f"| `jtls fit`, empty compilation cache | {cold[0]:.2f} | {cold[1]:.2f} | {cold[2]:.0f} | "
          f"{s_wall / cold[0]:.2f} (target >= 1) |")
    print(f"| `jtls fit`, cache filled (median of {args.repeats}) | {med(rep, 0):.2f} | {med(rep, 1):.2f} | "
          f"{med(rep, 2):.0f} | {s_wall / med(rep, 0):.2f} (target >= 3) |")
    print(f"| the same, compilation cache only (`JTLS_EXPORTED=off`, median of {args.repeats}) | "
          f"{med(rep_ne, 0):.2f} | {med(rep_ne, 1):.2f} | {med(rep_ne, 2):.0f} | {s_wall / med(rep_ne, 0):.2f} |")
    print(f"| scipy script (median of {args.repeats}) | {s_wall:.2f} | {med(sp, 1):.2f} | {med(sp, 2):.0f} | 1 |")
    if many:
        n_cold = many[0][1]
        n_rep = [r for k, r in many if k is None]
        n_sp = [r for k, r in many if k == "scipy"]
        sw = med(n_sp, 0)
        print()
        print(f"| {args.files} files of 40 points, one fresh process | wall s | CPU s | peak RSS MB | "
              "scipy script / this |")
        print("|---|---|---|---|---|")
        print(f"| `jtls fit F1 ... F{args.files} --json`, empty compilation cache | {n_cold[0]:.2f} | "
              f"{n_cold[1]:.2f} | {n_cold[2]:.0f} | {sw / n_cold[0]:.2f} (target >= 1) |")
        print(f"| the same, cache filled (median of {args.repeats}) | {med(n_rep, 0):.2f} | {med(n_rep, 1):.2f} | "
              f"{med(n_rep, 2):.0f} | {sw / med(n_rep, 0):.2f} (target >= 3) |")
        print(f"| scipy script fitting the {args.files} files in turn (median of {args.repeats}) | {sw:.2f} | "
              f"{med(n_sp, 1):.2f} | {med(n_sp, 2):.0f} | 1 |")
    print()
    print("| phase of a cached run (fresh process) | s |")
    print("|---|---|")
    for k, v in phase.items():
        print(f"| {k} | {v:.3f} |")
    print(f"| whole process (wall) | {ph[0]:.2f} |")
    if ab:
        print()
        print("| cold first fit (fresh process, no persistent cache) | first fit s (each run) | process CPU s |")
        print("|---|---|---|")
        for flag in (False, True):
            rows = [r for r in ab if r["prefetch"] == flag]
            how = "in a background thread" if flag else "after the solve"
            walls = ", ".join(f"{r['first_fit']:.2f}" for r in rows)
            cpus = ", ".join(f"{r['cpu']:.1f}" for r in rows)
            print(f"| held-solve program compiled {how} | {walls} | {cpus} |")
    print()
    print("| first fit in a fresh process (no persistent cache), in order | first s | warm s | new compiled solve programs | status |")
    print("|---|---|---|---|---|")
    for r in firsts:
        print(f"| {r['n']} points | {r['first']:.2f} | {r['warm']:.3f} | {r['new_programs']} | {r['status']} |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child-rusage":
        sys.exit(child_rusage(sys.argv[3:]))
    sys.exit(main())
