"""Does smoothing the simulated-DOS library across J0/h0 bias fitted J0/h0?  (issue 11)

``jtls library pack`` smooths every grid ratio on its own by default;
``jtls.simulated.pack.pack(..., smooth_ratios=True)`` adds a penalised
smoother across the J0/h0 grid.  This script packs one build directory both
ways and fits the noiseless dv/v (90 kHz), kappa and C_v curves of the fresh
annealer runs of ``fits/simulated_dos.py`` (pooled parts, cached in
FRESH_DIR) with each library; the difference of the fitted J0/h0 is the
smoother's effect (the fresh runs' own noise is common to both and cancels).

Each library is used in its own process (the library is a process-wide
setting, ``JTLS_SIMULATED_LIBRARY``).  Writes OUT/simulated_smoothing.json (an existing one is
kept as .previous).

    python fits/simulated_smoothing.py BUILD_DIR --fresh out/runs --out out [--passes N]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def fit_fresh(fresh_dir):
    """In the current process (library from the environment): J0_h0 fitted to each fresh ratio."""
    sys.path.insert(0, HERE)
    import numpy as np
    import simulated_dos as S
    import jtls
    from jtls.data import Dataset
    from jtls.fit import Model, fit
    omega, A = jtls.units.paper_frequency(90e3), jtls.units.paper_frequency(9.4e6)
    groups = {}
    for p in sorted(glob.glob(os.path.join(fresh_dir, "anneal_L*_R*_s5*_sw*.npz"))):
        m = re.search(r"_J([0-9.]+)_h10_", os.path.basename(p))
        if m:
            groups.setdefault(float(m.group(1)) / 10.0, []).append(p)
    out = {}
    tmp = tempfile.mkdtemp()
    for r, paths in sorted(groups.items()):
        full = S.smoothed(paths, tmp)[0]
        Tv, Tk = np.geomspace(0.03, 2.0, 40), np.geomspace(0.05, 2.0, 30)
        fits = {"velocity": fit(Model("velocity", dos="simulated", omega=omega),
                                Dataset(T=Tv, value=S.velocity_curve(full, Tv, omega, A), omega=omega)),
                "kappa": fit(Model("thermal_conductivity", dos="simulated"), Dataset(T=Tk, value=S.kappa_curve(full, Tk))),
                "specific_heat": fit(Model("specific_heat", dos="simulated"), Dataset(T=Tk, value=S.cv_curve(full, Tk)))}
        out[f"{r:g}"] = {k: {"status": f.status, "J0_h0": f.values["J0_h0"] if f.ok else None,
                             "warnings": [w for w in f.warnings if "minimum" in w]} for k, f in fits.items()}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build", help="library build directory (jtls library build)")
    ap.add_argument("--fresh", required=True, help="folder of the fresh runs (fits/simulated_dos.py OUT/runs)")
    ap.add_argument("--out", default="out")
    ap.add_argument("--passes", type=int, default=None)
    ap.add_argument("--_fit", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._fit:
        print(json.dumps(fit_fresh(args.fresh)))
        return 0
    from jtls.simulated.pack import pack
    os.makedirs(args.out, exist_ok=True)
    res = {"build": os.path.abspath(args.build), "passes": args.passes, "libraries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, smooth in (("per_ratio", False), ("smoothed_across_ratios", True)):
            lib = os.path.join(tmp, f"{name}.npz")
            pack(args.build, lib, passes=args.passes, progress=False, smooth_ratios=smooth)
            env = dict(os.environ, JTLS_SIMULATED_LIBRARY=lib)
            cp = subprocess.run([sys.executable, os.path.abspath(__file__), args.build, "--fresh", args.fresh,
                                 "--_fit"], env=env, capture_output=True, text=True, check=True)
            res["libraries"][name] = json.loads(cp.stdout.strip().splitlines()[-1])
    a, b = res["libraries"]["per_ratio"], res["libraries"]["smoothed_across_ratios"]
    res["shift_smoothed_minus_per_ratio"] = {
        r: {k: (b[r][k]["J0_h0"] - a[r][k]["J0_h0"]) if a[r][k]["J0_h0"] is not None and b[r][k]["J0_h0"] is not None
            else None for k in a[r]} for r in a}
    path = os.path.join(args.out, "simulated_smoothing.json")
    if os.path.exists(path):                      # keep the previous result, as fits/simulated_dos.py does
        os.replace(path, path + ".previous")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    for r, row in res["shift_smoothed_minus_per_ratio"].items():
        print(f"J0/h0 = {r}: smoothed - per-ratio fitted J0/h0: " +
              ", ".join(f"{k} {v:+.4f}" if v is not None else f"{k} failed" for k, v in row.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
