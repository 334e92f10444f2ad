"""Benchmark: peak resident memory of ``jtls anneal`` (issue 14, item 4).

Each configuration runs ``jtls anneal`` in its own child process and reports
that process's peak resident set size (``resource.getrusage(RUSAGE_SELF)
.ru_maxrss`` read by the child after the run: JAX runtime, compilation and
the run together), the batch the run chose, and the wall time.

The schedule is the paper's (43 temperatures: the histograms have their full
size) with ``--sweeps`` sweeps each (few: memory does not depend on them),
``--realizations`` realizations (default: one default batch's worth, 64).

    python benchmarks/bench_anneal_memory.py --L 12 --sweeps 1
    python benchmarks/bench_anneal_memory.py --L 8 12 16 --sweeps 1 --extra=--chunk=64
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, resource, sys, time
from jtls.cli import main
t = time.perf_counter()
rc = main(sys.argv[1:])
wall = time.perf_counter() - t
import numpy as np
meta = json.loads(str(np.load(sys.argv[sys.argv.index("--out") + 1])["meta"])) if rc == 0 else {}
print(json.dumps({"rc": rc, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                  "wall_s": wall, "batch": meta.get("batch"), "devices": meta.get("devices")}))
"""


def measure(L, sweeps, realizations, extra, tmp) -> dict:
    out = os.path.join(tmp, f"mem_L{L}.npz")
    args = ["anneal", "--L", str(L), "--sweeps", str(sweeps), "--realizations", str(realizations),
            "--out", out, "--overwrite", "--quiet"] + list(extra)
    p = subprocess.run([sys.executable, "-c", _CHILD] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"L = {L}: child failed:\n{p.stderr[-3000:]}")
    row = json.loads(p.stdout.strip().splitlines()[-1])
    return {"L": L, "n": round(0.5 * L ** 3), "sweeps": sweeps, "realizations": realizations,
            "extra": " ".join(extra)} | row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, nargs="+", default=[12])
    ap.add_argument("--sweeps", type=int, default=1)
    ap.add_argument("--realizations", type=int, default=64)
    ap.add_argument("--extra", action="append", default=[],
                    help="extra jtls anneal argument (repeatable), e.g. --extra=--chunk=64")
    a = ap.parse_args(argv)
    print(json.dumps({"uptime_start": os.getloadavg()}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for L in a.L:
            row = measure(L, a.sweeps, a.realizations, a.extra, tmp)
            row["loadavg"] = os.getloadavg()
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
