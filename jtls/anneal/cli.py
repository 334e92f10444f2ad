"""Command line: ``jtls anneal`` (run the annealer) and ``jtls dos-fit`` (Eq. 3 fits of a run).

``jtls anneal`` without ``--out`` writes ``anneal_L{L}_J0_{J0}_h0_{h0}_x{x}_r{realizations}_s{seed}.npz``
in the current directory (:func:`default_out`), and says so.

``jtls dos-fit --json`` prints one object ``{"meta": {"jtls_version", "date", "command",
"input", "sha256", "bins", "run": {the annealer run's parameters, as stored in the file}},
"rows": [{T, B, B_err, mu, mu_err, chi2_red, chi2_p, corr, n_counts, bins, at_bound, status, ok,
warnings[, mu_upper68, mu_upper95, mu_beyond_p]}, ...]}`` (the limits for a row with mu on its
physical bound 0).  Its exit code is 0 when at least one row is a result, 1 when none is, 2 for
bad input.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .schedule import PAPER_SWEEPS, ZERO_T, PAPER_TEMPERATURES, make_schedule, parse_temperatures


def register(subparsers) -> None:
    a = subparsers.add_parser(
        "anneal", help="simulated-annealing MC of Hamiltonian (2) -> DOS n(T, E) (.npz)",
        description="Anneal disorder realizations of Hamiltonian (2) (Churkin et al. 2021) and "
                    "write the per-temperature single-particle DOS to an .npz file "
                    "(loadable with jtls.TabulatedDOS.from_file).")
    a.add_argument("--L", type=int, default=8, help="lattice size (L^3 sites; default 8)")
    a.add_argument("--J0", type=float, default=2.0, help="nearest-neighbour coupling scale, K (default 2)")
    a.add_argument("--h0", type=float, default=10.0, help="random-field scale, K (default 10)")
    a.add_argument("--x", type=float, default=0.5, help="site occupation (default 0.5)")
    a.add_argument("--C", type=float, default=1.0, help="short-distance cutoff C (default 1)")
    a.add_argument("--realizations", type=int, default=300, help="disorder realizations (default 300)")
    a.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    a.add_argument("--sweeps", type=int, default=PAPER_SWEEPS, help="sweeps per temperature (default 257)")
    a.add_argument("--schedule", type=str, default=None,
                   help="comma-separated temperatures in K, in the order visited "
                        "(default: the paper's 42 from 300 K to 0.02 K, then 2 uK)")
    a.add_argument("--chunk", type=int, default=0,
                   help="realizations per compiled batch, at most (default 0 = chosen from memory: the largest "
                        "batch whose arrays fit in --memory, counting per realization the couplings J (n^2 x 4 "
                        "bytes in float32, n = x L^3: 3 MB at L = 12), fields and the histograms of every "
                        "temperature; at most 64 on CPU, at least one per device; batches are made smaller "
                        "when one would take longer than --checkpoint-every)")
    a.add_argument("--memory", type=float, default=None, metavar="GB",
                   help="memory budget of a batch's arrays for the default --chunk (default 0.5 GB on CPU, "
                        "half the device memory on a GPU); the JAX runtime (~0.3 GB) comes on top")
    a.add_argument("--dtype", choices=("float64", "float32"), default="float32",
                   help="precision of J, local fields and thresholds during the chain (default float32; "
                        "float64 needs JAX's 64-bit types).  The disorder draws, recorded energies and final "
                        "checks use float64, recomputed from exact fields -- float32 where JTLS_NO_X64=1 turns "
                        "JAX's 64-bit types off, which draws other disorder: the output records it (x64) and a "
                        "checkpoint is not resumed across it")
    a.add_argument("--cpu-devices", type=int, default=0,
                   help="on CPU, split the host into this many devices and shard realizations "
                        "over them (default 0 = one per core; 1 = a single device)")
    a.add_argument("--no-relax", action="store_true", help="skip the final greedy relaxation")
    a.add_argument("--out", default=None,
                   help="output .npz file (default: anneal_L{L}_J0_{J0}_h0_{h0}_x{x}_r{realizations}_s{seed}.npz "
                        "in the current directory); an existing file is not replaced without --overwrite.  While "
                        "running, OUT.lock (a second run with the same --out is refused) and the "
                        "checkpoint OUT.ckpt.npz sit next to it")
    a.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint OUT.ckpt.npz (verified: checksum, consistency, same "
                        "settings); without --resume or --overwrite an existing checkpoint is refused")
    a.add_argument("--overwrite", action="store_true",
                   help="replace an existing OUT; without --resume, also discard an existing checkpoint "
                        "and start from 0")
    a.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS",
                   help="write the checkpoint at least about every SECONDS of wall time (default 60; "
                        "compiled batches are made smaller when needed), so a killed run loses at most "
                        "about that much work")
    a.add_argument("--quiet", action="store_true", help="no progress lines")
    a.add_argument("--part", default=None, metavar="K/M",
                   help="anneal only part K of M (K = 0 ... M-1) of the realizations, [K N/M, (K+1) N/M): "
                        "independent jobs (e.g. a SLURM job array, --part $SLURM_ARRAY_TASK_ID/M) with "
                        "otherwise the same settings; --combine adds their outputs up to the whole run, "
                        "bitwise (default --out gets _partKofM)")
    a.add_argument("--combine", nargs="+", default=None, metavar="PART",
                   help="instead of annealing: add the output files of all parts of a run (--part K/M) up "
                        "to the whole run's output --out (required); the settings come from the files, "
                        "which are verified first (checksums, the same settings, every part once)")
    add_distributed_arguments(
        a, "Start one jtls anneal per process with the same settings and --out; realizations are split over "
           "the devices of all processes and the histograms are bitwise those of one process with the same "
           "seed.  Process 0 alone writes OUT, its checkpoint and lock.  See docs/guide/annealing.md for "
           "SLURM and multi-GPU recipes.")
    a.set_defaults(func=_one_line_warnings(_anneal), _parser=a)

    f = subparsers.add_parser(
        "dos-fit", help="Eq. (3) fits B(T), mu(T) of an annealer output file",
        description="Fit n = B (T^2 + E^2)^(mu/2) (Eq. 3) in 0 < E < 2T at every temperature of a "
                    "jtls anneal output, as Table II of Churkin et al. 2021. Exit code 0 when at least one "
                    "row is a result (status 'ok'), 1 when none is, 2 for bad input.")
    f.add_argument("path", help="output of jtls anneal (.npz)")
    f.add_argument("--json", action="store_true",
                   help="print a JSON object {\"meta\": {jtls_version, date, command, input, sha256, bins, "
                        "run: the annealer's parameters}, \"rows\": [{T, B, B_err, mu, mu_err, chi2_red, "
                        "chi2_p, corr, n_counts, bins, at_bound, status, ok, warnings[, mu_upper68, mu_upper95, "
                        "mu_beyond_p where mu is on its bound 0]}]}; status is 'ok' only "
                        "for a row that is a result (see jtls.anneal.analysis.fit_eq3)")
    f.add_argument("--bins", type=int, default=16, help="histogram bins in 0 < E < 2T (default 16, at least 3)")
    f.set_defaults(func=_one_line_warnings(_dos_fit), _parser=f)


def add_distributed_arguments(parser, description: str) -> None:
    """The flags of a run over several processes or hosts (``jtls anneal``, ``jtls library build``)."""
    d = parser.add_argument_group("several processes or hosts (jax.distributed)", description)
    d.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                   help="address of process 0 (it listens on PORT), the same for every process")
    d.add_argument("--num-processes", type=int, default=None, metavar="N", help="number of processes")
    d.add_argument("--process-id", type=int, default=None, metavar="I", help="this process: 0 ... N-1")
    d.add_argument("--distributed", choices=("auto",), default=None,
                   help="'auto': take the coordinator, N and I from the cluster environment where "
                        "jax.distributed.initialize() can (SLURM, Open MPI); explicit flags take precedence")
    d.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="how long a process waits for the others (to connect, or to finish a batch) before "
                        "it stops with an error (default 300); a process that dies stops the others sooner")


def wants_distributed(args) -> bool:
    """Whether the flags of :func:`add_distributed_arguments` ask for several processes."""
    return bool(args.distributed) or any(v is not None for v in (args.coordinator, args.num_processes,
                                                                 args.process_id))


def supervised(args, work: str, kind: str = "checkpoint") -> int | None:
    """For a multi-process command not yet in its watched child: run it there and return its exit
    status (:mod:`jtls.anneal.supervise`); None where this process is to do the work."""
    from .distributed import check_flags
    from .supervise import is_child, supervise
    if not wants_distributed(args) or is_child() or not hasattr(args, "_argv"):
        return None
    check_flags(args.coordinator, args.num_processes, args.process_id, args.distributed == "auto", args.timeout)
    return supervise(args._argv, work, f"jtls {args.command}", kind)


def start_distributed(args) -> bool:
    """Join the multi-process run the flags of :func:`add_distributed_arguments` ask for (before any
    JAX computation); False when none is asked for (one process)."""
    multi = wants_distributed(args)
    from .distributed import check_timeout
    check_timeout(args.timeout)                 # also where it is not used yet
    if multi:
        from .distributed import initialize
        initialize(args.coordinator, args.num_processes, args.process_id, auto=args.distributed == "auto",
                   timeout=args.timeout, log=None if args.quiet else sys.stderr)
    return multi


def _one_line_warnings(command):
    """Run ``command(args)`` with every warning shown when it happens as one line on stderr,
    ``warning: MESSAGE`` (no Python source line)."""
    import functools
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"warning: {' '.join(str(message).split())}", file=sys.stderr, flush=True)

    @functools.wraps(command)
    def wrapped(args):
        with warnings.catch_warnings():
            warnings.showwarning = show
            return command(args)
    return wrapped


def default_out(args, part=None) -> str:
    """The output file of ``jtls anneal`` without ``--out`` (named after the model parameters)."""
    return (f"anneal_L{args.L}_J0_{args.J0:g}_h0_{args.h0:g}_x{args.x:g}_r{args.realizations}"
            f"_s{args.seed}" + ("" if part is None else f"_part{part[0]}of{part[1]}") + ".npz")


def parse_part(text) -> tuple | None:
    """``--part K/M`` as (K, M) (None when not given); ValueError naming --part otherwise."""
    if text is None:
        return None
    k, sep, m = str(text).strip().partition("/")
    try:
        part = (int(k), int(m)) if sep else None
    except ValueError:
        part = None
    if part is None or not 0 <= part[0] < part[1]:
        raise ValueError(f"--part must be K/M with integers 0 <= K < M (part K of M), got {text!r}")
    return part


def _combine(args) -> int:
    from .combine import combine
    if args.out is None:
        raise ValueError("--combine needs --out: the file to write the whole run to")
    if args.resume or args.part is not None:
        raise ValueError("--combine adds finished parts up; it takes no --resume or --part")
    res = combine(args.combine, args.out, overwrite=args.overwrite)
    meta = json.loads(str(res["meta"]))
    print(f"wrote {args.out}: {int(res['realizations'])} realizations (the {len(meta['combined_from'])} parts "
          f"added up) x {meta['params']['n_tls']} TLSs, {len(res['T'])} temperatures")
    return 0


def _anneal(args) -> int:
    from .lattice import ModelParams
    from .run import RunConfig, run, use_cpu_cores
    if args.combine is not None:
        return _combine(args)
    part = parse_part(args.part)
    if args.out is None:
        args.out = default_out(args, part)
        print(f"jtls anneal: no --out given; writing {args.out} (in {os.getcwd()})", file=sys.stderr)
    # every option is checked before this process joins others: a bad one stops it with its
    # message at once, and the others learn of it as a process that did not connect
    if args.schedule is not None and not args.schedule.strip():
        raise ValueError("--schedule is empty; give comma-separated temperatures in K, or leave the option "
                         "out for the paper's schedule")
    T = parse_temperatures(args.schedule) if args.schedule is not None else list(PAPER_TEMPERATURES) + [ZERO_T]
    cfg = RunConfig(params=ModelParams(L=args.L, x=args.x, J0=args.J0, h0=args.h0, C=args.C),
                    schedule=make_schedule(T, args.sweeps), realizations=args.realizations,
                    seed=args.seed, chunk=args.chunk, memory_gb=args.memory, dtype=args.dtype,
                    relax=not args.no_relax, part=part)
    cfg.validate()
    rc = supervised(args, f"{args.out}.ckpt.npz")
    if rc is not None:
        return rc
    use_cpu_cores(args.cpu_devices)
    multi = start_distributed(args)
    if multi:
        import jax
        lead = jax.process_index() == 0
    try:
        res = run(cfg, args.out, resume=args.resume, progress=not args.quiet, overwrite=args.overwrite,
                  checkpoint_seconds=args.checkpoint_every)
    except KeyboardInterrupt:
        print(f"jtls anneal: interrupted; the realizations finished so far are in {args.out}.ckpt.npz "
              f"(if any): continue with --resume", file=sys.stderr)
        return 130
    except OSError as exc:          # e.g. disk full or permissions while writing: a message, not a traceback
        msg = str(exc.strerror or exc)
        name = str(exc.filename or args.out)
        raise ValueError(msg if name in msg else f"{name}: {msg}") from None
    if res is None and multi and not lead:
        print(f"jtls anneal: process {jax.process_index()} done (process 0 writes {args.out})", file=sys.stderr)
        return 0
    what = "" if part is None else f" (part {part[0]} of {part[1]} of {cfg.realizations})"
    print(f"wrote {args.out}: {int(res['realizations'])} realizations{what} x {cfg.params.n} TLSs, "
          f"{len(res['T'])} temperatures; final state: {int(res['unstable_single'])} unstable single "
          f"and {int(res['unstable_pair'])} unstable pair flips before relaxation "
          f"({int(res['relax_flips'])} relaxation flips)")
    return 0


def _dos_fit(args) -> int:
    from .analysis import fit_table, load
    if args.bins < 3:
        raise ValueError(f"--bins must be >= 3 (two parameters and a degree of freedom), got {args.bins}")
    data = load(args.path)
    rows = fit_table(data, nbins=args.bins)
    if args.json:
        from ..fit.cli import command_line, run_meta
        from ..fit.result import json_safe            # non-finite numbers as strings: valid JSON
        meta = run_meta(args, args.path, command_line(args, args._parser, positional=("path",)))
        meta.update(bins=args.bins, run=data.get("meta", {}))
        json.dump(json_safe({"meta": meta, "rows": rows}), sys.stdout, indent=1, allow_nan=False)
        print()
        return 0 if any(r.get("ok") for r in rows) else 1
    print(f"# {args.path}: Eq. (3) fits in 0 < E < 2T; errors 1 sigma (Poisson)")
    print("# status 'ok' only for rows that are results: converged, mu <= 1, mu_err <= 0.5, B within a "
          "factor 10, window not holding most TLSs; mu below 0 within its error is mu = 0 on its physical "
          "bound with a 95 % upper limit")
    print(f"{'T (K)':>10} {'B':>10} {'B_err':>9} {'mu':>8} {'mu_err':>7} {'chi2/dof':>8} {'counts':>8}  status")
    for r in rows:
        if r["B"] is None:
            print(f"{r['T']:10.4g} {'-':>10} {'-':>9} {'-':>8} {'-':>7} {'-':>8} {r['n_counts']:8d}  {r['status']}")
        else:
            mu, err = ((f"{0:8d}", f"<{r['mu_upper95']:.3f}") if r.get("at_bound") else
                       (f"{r['mu']:8.4f}", f"{r['mu_err']:.3f}"))
            print(f"{r['T']:10.4g} {r['B']:10.4g} {r['B_err']:9.2g} {mu} {err:>7} "
                  f"{r['chi2_red']:8.2f} {r['n_counts']:8d}  {r['status']}"
                  + ("  (mu on its physical bound 0; < 95 % upper limit)" if r.get("at_bound") else ""))
        for w in r.get("warnings", []):
            print(f"{'':>10}   warning: {w}")
    n_ok = sum(1 for r in rows if r.get("ok"))
    print(f"# {n_ok} of {len(rows)} rows ok")
    return 0 if n_ok else 1
