"""Command line: ``jtls library build`` / ``pack`` / ``info`` (the simulated-DOS library)."""
from __future__ import annotations

import json
import math
import sys
import time

from .build import DEFAULT_RATIOS


def register(subparsers) -> None:
    lib = subparsers.add_parser(
        "library", help="build, pack and inspect the simulated-DOS library (fits for J0/h0)",
        description="The simulated-DOS library: annealer runs of Hamiltonian (2) over a grid of J0/h0 "
                    "(build), smoothed into the compact table used by --dos simulated (pack).")
    sub = lib.add_subparsers(dest="library_command", metavar="ACTION")
    b = sub.add_parser("build", help="run (or resume) every missing annealer batch of the grid",
                       description="Anneal L^3 lattices at every J0/h0 of the grid, batch by batch and pass "
                                   "by pass; finished batches are kept, interrupted ones resumed from their "
                                   "checkpoints.  Run it again to continue.  Several independent builds "
                                   "(e.g. the tasks of a SLURM job array) with the same settings may share "
                                   "one directory on a shared file system: each batch is annealed by the "
                                   "first build to take its lock, and the others go on to the next.  Exit "
                                   "status 3: batches are left (deadline, or in other builds).")
    b.add_argument("directory", help="build directory (created; holds one .npz per ratio and batch)")
    b.add_argument("--ratios", default=None,
                   help="comma-separated J0/h0 values (default: 0.02, 0.035, 0.05 .. 1.0 in steps of 0.05)")
    b.add_argument("--L", type=int, default=10, help="lattice size (default 10)")
    b.add_argument("--batches", type=int, default=10, help="batches per ratio (default 10)")
    b.add_argument("--batch-size", type=int, default=1000, help="realizations per batch (default 1000)")
    b.add_argument("--seed", type=int, default=0,
                   help="base seed, 0 .. 2^32 - 1 (default 0); batch seed = seed + 2^32 point + 2^43 batch, so "
                        "builds with different base seeds share no random stream")
    b.add_argument("--sweeps", type=int, default=257, help="sweeps per temperature (default 257, the paper's)")
    b.add_argument("--hours", type=float, default=None, help="start no new batch after this many hours")
    b.add_argument("--cpu-devices", type=int, default=0, help="as jtls anneal (default: one device per core)")
    b.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    from ..anneal.cli import add_distributed_arguments
    add_distributed_arguments(
        b, "Start one jtls library build per process with the same settings and directory; every batch is "
           "annealed over the devices of all processes (bitwise the files of one process).  Process 0 alone "
           "reads and writes the directory (the others need not see it).  See docs/guide/annealing.md for "
           "SLURM and multi-GPU recipes.")
    b.set_defaults(func=_build)
    p = sub.add_parser("pack", help="smooth a build directory into a library file",
                       description="Smooth the histograms of every complete pass into ln F tables with "
                                   "standard errors (jtls.simulated.pack) and write the library .npz.")
    p.add_argument("directory", help="build directory of jtls library build (its complete passes are packed)")
    p.add_argument("--out", required=True, help="library file to write (.npz)")
    p.add_argument("--passes", type=int, default=None, help="use this many passes (default: all complete)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(func=_pack)
    i = sub.add_parser("info", help="describe a library file (default: the shipped one)")
    i.add_argument("path", nargs="?", default=None,
                   help="packed library (.npz); default: the shipped one")
    i.add_argument("--json", action="store_true", help="print the description as one JSON object")
    i.set_defaults(func=_info)
    lib.set_defaults(func=lambda args: (lib.print_help(), 2)[1])


def _build(args) -> int:
    from ..anneal.cli import start_distributed, supervised
    from ..anneal.run import use_cpu_cores
    from ..anneal.schedule import parse_temperatures
    from .build import build, check_arguments
    # every option is checked before this process joins others: a bad one stops it with its
    # message at once, and the others learn of it as a process that did not connect
    ratios = DEFAULT_RATIOS if args.ratios is None else parse_temperatures(args.ratios.replace(";", ","),
                                                                           "--ratios")
    check_arguments(ratios, args.L, args.batches, args.batch_size, args.sweeps,
                    names={"ratios": "--ratios", "L": "--L", "batches": "--batches",
                           "batch_size": "--batch-size", "sweeps": "--sweeps", "seed": "--seed"}, seed=args.seed)
    if args.hours is not None and not (math.isfinite(args.hours) and args.hours > 0):
        raise ValueError(f"argument '--hours' must be a number of hours > 0, got {args.hours!r}")
    rc = supervised(args, str(args.directory), "directory")
    if rc is not None:
        return rc
    use_cpu_cores(args.cpu_devices)
    multi = start_distributed(args)
    deadline = None if args.hours is None else time.time() + 3600.0 * args.hours
    try:
        res = build(args.directory, ratios=ratios, L=args.L, batches=args.batches, batch_size=args.batch_size,
                    seed=args.seed, sweeps=args.sweeps, progress=not args.quiet, deadline=deadline)
    except KeyboardInterrupt:
        print("jtls library build: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    if multi:
        import jax
        if jax.process_index() != 0:
            print(f"jtls library build: process {jax.process_index()} done (process 0 writes "
                  f"{args.directory})", file=sys.stderr)
            return 0 if res["missing"] + res["elsewhere"] == 0 else 3
    left = [f"{res['missing']} not started (deadline)"] if res["missing"] else []
    if res["elsewhere"]:
        left.append(f"{res['elsewhere']} being annealed by other builds of {args.directory} (their locks are "
                    "held); run the command again when they stop, to check or finish them")
    print(f"{res['done']} batch(es) finished" + (", " + ", ".join(left) if left else ": all of them"))
    return 0 if not left else 3


def _pack(args) -> int:
    from .pack import pack
    arr = pack(args.directory, args.out, passes=args.passes, overwrite=args.overwrite)
    meta = json.loads(str(arr["meta"]))
    print(f"wrote {args.out}: {len(arr['ratios'])} ratios x {len(arr['t'])} temperatures x "
          f"{len(arr['q_knots'])} energies; {meta['realizations_per_ratio'][0]} realizations per ratio")
    return 0


def _info(args) -> int:
    from .build import SEED_RULES, regenerate_note
    from .dos import load_library
    lib = load_library(args.path)
    m = lib.meta
    rule = m.get("seed_rule", SEED_RULES.get(m["build"].get("format")))     # libraries before it: the build's
    info = {"path": lib.path, "ratios": [float(r) for r in lib.ratios], "T_over_h0": list(lib.t_range),
            "E_max_over_h0": lib.e_max, "L": m["build"]["L"], "realizations_per_ratio": m["realizations_per_ratio"],
            "jtls_version": m["jtls_version"], "created_utc": m["created_utc"], "regenerate": m["regenerate"],
            "seed_rule": rule, **({"regenerate_note": regenerate_note(rule)} if regenerate_note(rule) else {}),
            "errors": (m.get("errors") or {}).get("method", "Poisson counting errors (packed before jackknife errors)"),
            "jackknife_replicas": lib.n_replicas,
            "sha256": lib.sha256 or "none (packed before jtls stored a checksum: its values cannot be verified)"}
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for k, v in info.items():
            print(f"{k}: {v}")
    return 0
