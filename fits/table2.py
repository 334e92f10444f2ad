"""Table II of Churkin et al. 2021 (App. D) from jtls's annealer, side by side with the paper.

Anneals J0 = 2 and 3 K (h0 = 10 K, x = 0.5, the paper's schedule), fits Eq. (3)
in 0 < E < 2T at the Table II temperatures and writes
OUT/table2.json and OUT/table2.png.  The paper's values are read from
data/churkin2021_table2.csv.

Default (~10 min per J0 on a 2-core CPU): L = 8, 300 realizations.
Paper scale:  python fits/table2.py --L 12 --realizations 10000
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys

import numpy as np

from jtls.progress import add_progress_argument, from_args

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_table2(path=None):
    """{J0: {T: (B, mu)}} from data/churkin2021_table2.csv (comment lines start with '#')."""
    path = path or os.path.join(REPO, "data", "churkin2021_table2.csv")
    out = {}
    with open(path) as f:
        rows = [ln for ln in f if not ln.lstrip().startswith("#") and ln.strip()]
    for i, r in enumerate(csv.DictReader(rows)):
        try:
            J0, T, B, mu = float(r["J0_K"]), float(r["T_K"]), float(r["B"]), float(r["mu"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: data row {i + 1} is malformed ({exc})") from None
        out.setdefault(J0, {})[T] = (B, mu)
    return out


def add_run_args(ap, L=8, R=300):
    ap.add_argument("--L", type=int, default=L)
    ap.add_argument("--realizations", type=int, default=R)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sweeps", type=int, default=257)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--dtype", default="float32", choices=("float64", "float32"))
    ap.add_argument("--cpu-devices", type=int, default=0,
                    help="CPU devices to shard realizations over (default 0 = one per core)")
    ap.add_argument("--runs", default=None, help="directory of cached runs (default OUT/runs)")
    ap.add_argument("--out", default="out", help="output directory (default out/)")
    add_progress_argument(ap)
    ap.set_defaults(progress_prefix=os.path.splitext(os.path.basename(ap.prog))[0])


def progress_of(args):
    """The step announcer of a script built with :func:`add_run_args` (``--progress``)."""
    return from_args(args, getattr(args, "progress_prefix", "fits"))


def get_run(args, J0):
    import jtls  # noqa: F401
    from jtls.anneal.cache import cached_run
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig, use_cpu_cores
    from jtls.anneal.schedule import paper_schedule
    use_cpu_cores(args.cpu_devices)       # no-op once JAX has computed anything
    cfg = RunConfig(params=ModelParams(L=args.L, J0=J0), schedule=paper_schedule(args.sweeps),
                    realizations=args.realizations, seed=args.seed, chunk=args.chunk, dtype=args.dtype)
    with progress_of(args).step(f"annealing run J0 = {J0:g} K (L = {args.L}, {args.realizations} "
                                "realizations; read from the cache when done before)"):
        return cached_run(cfg, args.runs or os.path.join(args.out, "runs"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_args(ap)
    ap.add_argument("--J0", type=float, nargs="+", default=[2.0, 3.0])
    args = ap.parse_args(argv)
    from jtls.anneal.analysis import fit_table, load, mu_text
    paper = read_table2()
    os.makedirs(args.out, exist_ok=True)
    result = {"L": args.L, "realizations": args.realizations, "seed": args.seed, "sweeps": args.sweeps,
              "fit": "Eq. (3) in 0 < E < 2T, Poisson-weighted least squares, 16 bins", "J0": {}}
    for J0 in args.J0:
        path = get_run(args, J0)
        data = load(path)
        Ts = sorted(paper.get(J0, {}).keys()) or [0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0]
        with progress_of(args).step(f"Eq. (3) fits J0 = {J0:g} K ({len(Ts)} temperatures)"):
            rows = fit_table(data, Ts)
        for r in rows:
            pb = paper.get(J0, {}).get(r["T"])
            r["B_paper"], r["mu_paper"] = (pb if pb else (None, None))
        result["J0"][f"{J0:g}"] = {"run": os.path.relpath(path, args.out), "rows": rows,
                                   "unstable_single": int(data["unstable_single"]),
                                   "unstable_pair": int(data["unstable_pair"])}
    with open(os.path.join(args.out, "table2.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"Table II (Eq. 3 fits in 0 < E < 2T), L = {args.L}, {args.realizations} realizations; paper: L = 12")
    print(f"{'J0':>3} {'T':>5} | {'B (jtls)':>17} {'B paper':>8} | {'mu (jtls)':>15} {'mu paper':>8}")
    for J0, blk in result["J0"].items():
        for r in blk["rows"]:
            if r["B"] is None:
                print(f"{J0:>3} {r['T']:5.2f} | {r['status']}")
                continue
            print(f"{J0:>3} {r['T']:5.2f} | {r['B']:.4f} +- {r['B_err']:.4f} {r['B_paper'] or float('nan'):8.4f} | "
                  f"{mu_text(r)} {r['mu_paper'] or float('nan'):8.3f}")
    _plot(result, os.path.join(args.out, "table2.png"))
    return 0


def _plot(result, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for (J0, blk), col in zip(result["J0"].items(), ("C0", "C3")):
        rows = [r for r in blk["rows"] if r["B"] is not None]
        T = [r["T"] for r in rows]
        ax[0].errorbar(T, [r["B"] for r in rows], [r["B_err"] for r in rows], fmt="o", color=col,
                       label=f"jtls J0={J0} K")
        # mu on its physical bound: the 95 % upper limit, drawn as a limit arrow
        ax[1].errorbar(T, [r["mu_upper95"] if r.get("at_bound") else r["mu"] for r in rows],
                       [0.03 if r.get("at_bound") else r["mu_err"] for r in rows],
                       uplims=[bool(r.get("at_bound")) for r in rows], fmt="o", color=col, label=f"jtls J0={J0} K")
        rp = [r for r in blk["rows"] if r["B_paper"] is not None]
        ax[0].plot([r["T"] for r in rp], [r["B_paper"] for r in rp], "s--", mfc="none", color=col,
                   label=f"paper J0={J0} K")
        ax[1].plot([r["T"] for r in rp], [r["mu_paper"] for r in rp], "s--", mfc="none", color=col,
                   label=f"paper J0={J0} K")
    ax[0].set_ylabel("B(T)")
    ax[1].set_ylabel("mu(T)")
    for a in ax:
        a.set_xlabel("T (K)")
        a.legend(fontsize=8)
    fig.suptitle(f"Table II: Eq. (3) fits, L={result['L']}, {result['realizations']} realizations (paper: L=12, 1e4)")
    fig.tight_layout()
    fig.savefig(png, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
