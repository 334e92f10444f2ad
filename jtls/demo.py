"""``jtls demo``: the README main job.

1. Writes ``velocity_silica.png`` (+ ``.json``): dv/v(T) of vitreous silica
   with the parameters of Churkin et al. 2021, Fig. 5a (A = 9.4 MHz,
   P0 gamma^2/rho v^2 = 3.2e-4, 90 kHz, mapped with jtls.units.paper_frequency),
   for mu = 0 (STM) and mu = 0.1 side by side, with the resonant and
   relaxation parts.
2. Runs the fit scripts of ``fits/`` that need only what the repository
   ships (paper Figs. 5/6 and the tabulated-DOS velocity fit), and the
   thermal-conductivity fits of the real data whenever the shared data (or
   ``--data-dir``) is present: constant mu (Eq. 3), and the microscopic ratio
   J0/h0 fitted with the shipped simulated-DOS library beside it
   (fits/thermal_conductivity_j0h0.py; no annealing in the demo).  Scripts are looked up in ``./fits`` (run the
   demo from the repository root) and are skipped, with a message, when absent.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

#: fits/ scripts run by the demo: (script, needs real data)
DEMO_FITS = [
    ("paper_fig5_fig6.py", False),
    ("tabulated_velocity.py", False),
    ("thermal_conductivity.py", True),
    ("thermal_conductivity_j0h0.py", True),    # measured kappa fitted for J0/h0 beside constant mu
]


def velocity_figure(out_dir: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import jtls
    from jtls import units

    C, A, omega = 3.2e-4, units.paper_frequency(9.4e6), units.paper_frequency(90e3)
    T = np.geomspace(0.01, 10.0, 300)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    record = {"parameters": {"C": C, "A_s^-1K^-3": A, "omega_rad/s": omega, "T_ref_K": 1.0},
              "source": "Churkin et al. 2021, Fig. 5a parameters", "curves": {}}
    for ax, mu in zip(axes, (0.0, 0.1)):
        res = np.asarray(jtls.velocity_shift_resonant(T, C, mu, T_ref=1.0))
        rel = np.asarray(jtls.velocity_shift_relaxation(T, C, mu, A, omega))
        tot = res + rel
        ax.semilogx(T, tot * 1e4, "k-", lw=2, label="total (Eqs. 7 + 8)")
        ax.semilogx(T, res * 1e4, "C0--", label="resonant (Eq. 7)")
        ax.semilogx(T, rel * 1e4, "C3:", label="relaxation (Eq. 8)")
        imax = int(np.argmax(tot))
        ax.axvline(T[imax], color="0.7", lw=0.8)
        ax.set_title(f"mu = {mu:g}" + (" (STM)" if mu == 0 else "") + f", max at {T[imax] * 1e3:.0f} mK")
        ax.set_xlabel("T (K)")
        ax.grid(alpha=0.3)
        record["curves"][f"mu={mu:g}"] = {"T_max_K": float(T[imax]), "dv_v_max": float(tot[imax])}
    axes[0].set_ylabel("dv/v  (1e-4, relative to the resonant part at 1 K)")
    axes[0].legend(fontsize=8)
    fig.suptitle("Vitreous silica, 90 kHz, A = 9.4 MHz, C = 3.2e-4 (Churkin et al. 2021, Fig. 5a)")
    fig.tight_layout()
    path = os.path.join(out_dir, "velocity_silica.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    with open(os.path.join(out_dir, "velocity_silica.json"), "w") as fh:
        json.dump(record, fh, indent=1)
    return path


def _data_dir(arg):
    from .data import shared_data_dir
    return shared_data_dir(arg)


def run(args) -> int:
    if not args.out:
        raise ValueError("--out is empty; give an output directory")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise ValueError(f"--out {args.out} exists and is not a directory")
    # what the demo writes: its figure and, per fits/ script, <script>.json and <script>.png
    stems = ["velocity_silica"] + ([] if args.figure_only else [os.path.splitext(s)[0] for s, _ in DEMO_FITS])
    held = [f for st in stems for f in (st + ".json", st + ".png") if os.path.exists(os.path.join(args.out, f))]
    if held and not args.overwrite:
        raise ValueError(f"--out {args.out} already holds {len(held)} of the demo's output file(s) "
                         f"({', '.join(held[:4])}{', ...' if len(held) > 4 else ''}); choose a new --out, "
                         "or pass --overwrite to replace them")
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {args.out}: cannot create the directory ({exc.strerror or exc})") from None
    t0 = time.perf_counter()
    print(f"[demo] wrote {velocity_figure(args.out)}")
    if args.figure_only:
        return 0
    fits_dir = os.path.join(os.getcwd(), "fits")
    data_dir = str(_data_dir(args.data_dir))
    failures = skipped = 0
    for script, needs_data in DEMO_FITS:
        path = os.path.join(fits_dir, script)
        if not os.path.exists(path):
            print(f"[demo] skip {script}: not found in {fits_dir} (run the demo from the repository root)")
            skipped += 1
            continue
        cmd = [sys.executable, path, "--out", args.out]
        if needs_data:
            if not os.path.isdir(data_dir):
                print(f"[demo] skip {script}: shared data not found at {data_dir} (give --data-dir)")
                skipped += 1
                continue
            cmd += ["--data-dir", data_dir]
        print(f"[demo] running {' '.join(cmd[1:])}", flush=True)
        rc = subprocess.call(cmd)
        if rc != 0:
            print(f"[demo] {script} failed with exit code {rc}")
            failures += 1
    print(f"[demo] done in {time.perf_counter() - t0:.0f} s; outputs in {args.out}"
          + (f"; {skipped} of {len(DEMO_FITS)} fits scripts skipped (see above)" if skipped else ""))
    return 1 if failures else 0


def register(subparsers):
    p = subparsers.add_parser(
        "demo", help="the README main job: silica velocity figure and the fits/ scripts",
        description="The README main job. Writes OUT/velocity_silica.png (+ .json): dv/v(T) of vitreous "
                    "silica at the parameters of Churkin et al. 2021, Fig. 5a, for mu = 0 and 0.1; then "
                    "runs the fits/ scripts paper_fig5_fig6.py and tabulated_velocity.py and, when the "
                    "measured datasets are found, thermal_conductivity.py and "
                    "thermal_conductivity_j0h0.py. Run it from the repository root (scripts not found "
                    "in ./fits are skipped with a message). Exit code 1 when a script fails, else 0 (also when "
                    "scripts were skipped).")
    p.add_argument("--out", default="out", help="output directory (default: out)")
    p.add_argument("--data-dir", default=None,
                   help="real datasets (default: $JTLS_DATA or ../shared/data)")
    p.add_argument("--figure-only", action="store_true", help="only the silica velocity figure")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the demo's output files already in --out (velocity_silica.json/.png and "
                        "<script>.json/.png of each fits/ script)")
    p.set_defaults(func=run)
