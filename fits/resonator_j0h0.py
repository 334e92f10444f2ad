"""Fit: J0/h0 of the Nb CPW resonator's frequency shift (real data), beside the constant-mu fit.

Reads ``resonator_nb_cpw/freq_shift.csv`` in place (as fits/resonator_shift.py)
and fits the ``resonator_shift`` observable twice on the same points:

* ``Eq3``: the Eq. (3) DOS with a constant power mu (mu = 0 the physical bound);
* ``simulated``: the annealed DOS of Hamiltonian (2) from the shipped library
  (``dos="simulated"``), J0_h0 free in the library range, h0 = 10 K held;

each over all points (TLS + Mattis-Bardeen quasiparticles, ``full``) and over
T <= --tmax-tls with the quasiparticle term off (``low``), with profile
intervals.  No sigma is given in the file: one common unknown sigma, the
intervals use the F(1, dof) thresholds.  J0/h0 is reported with the verdict
rules of fits/thermal_conductivity_j0h0.py (``j0h0_summary``): a value only
for status ok; "unconstrained" when the data do not bound it inside the
library.  Every simulated fit is checked to be the global minimum along
J0/h0 (jtls.fit.scan).

Usage::

    python fits/resonator_j0h0.py [--data-dir DIR] [--out out/] [--f0 5.619901372e9] [--tmax-tls 1.0]

Writes OUT/resonator_j0h0.json and OUT/resonator_j0h0.png.  Exit code 0 when
every fit ran (its verdict is the result, whatever it is), 1 when one raised.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

import numpy as np

import jtls  # noqa: F401  (float64)
import jtls.resonator as res
from jtls.data import read_csv, require_dataset
from jtls.fit import Model, predict
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args
from jtls.simulated.dos import load_library

HERE = Path(__file__).resolve().parent
F0_DEFAULT = 5.619901372e9


def _load_sibling(stem):
    spec = importlib.util.spec_from_file_location(f"_fits_{stem}", HERE / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


KJ = _load_sibling("thermal_conductivity_j0h0")
QP_OFF = {"alpha": 0.0, "Delta": 15.0}


def models(omega, T_ref):
    """{(range, label): Model} of the four fits."""
    out = {}
    for rng, fixed in (("full", {}), ("low", QP_OFF)):
        out[(rng, "Eq3")] = Model("resonator_shift", omega=omega, T_ref=T_ref, fixed=dict(fixed),
                                  initial={"mu": 0.05})
        out[(rng, "simulated")] = Model("resonator_shift", dos="simulated", omega=omega, T_ref=T_ref,
                                        fixed=dict(fixed))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="shared data folder (default $JTLS_DATA or ../shared/data)")
    ap.add_argument("--out", default="out", help="output folder (default out/)")
    ap.add_argument("--f0", type=float, default=F0_DEFAULT, help="resonance frequency in Hz")
    ap.add_argument("--tmax-tls", type=float, default=1.0, help="upper T (K) of the TLS-only fits")
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "resonator_j0h0")
    os.makedirs(args.out, exist_ok=True)
    path = require_dataset("resonator_nb_cpw/freq_shift.csv", args.data_dir)
    ds = read_csv(path)
    omega = float(res.conversions.omega_from_f0(args.f0))
    T_ref = ds.T_ref if ds.T_ref is not None else float(ds.T.min())
    ratio_range = load_library().ratio_range
    t0 = time.perf_counter()
    records, results, rows = {}, {}, []
    for i, ((rng, label), model) in enumerate(models(omega, T_ref).items()):
        with progress.step(f"fit {i + 1}/4 {rng} {label} (profile intervals)"):
            data = ds if rng == "full" else ds.window(tmax=args.tmax_tls)
            rec, r = KJ.fit_record(f"{rng}_{label}", model, data)
            if label == "simulated" and r is not None and r.ok:
                spread = KJ.library_spread(model, r)
                rec["library_error"], rec["library_error_limits"] = spread["sigma"], spread["limits"]
        records[f"{rng}_{label}"] = rec
        results[(rng, label)] = r
    summary = {}
    for rng in ("full", "low"):
        mu = KJ.mu_summary(records[f"{rng}_Eq3"])
        j0 = KJ.j0h0_summary(records[f"{rng}_simulated"], ratio_range)
        summary[rng] = {"mu": mu, "J0_h0": j0}
        rows.append(f"{rng:5s} Eq3 [{records[f'{rng}_Eq3']['status']}]: {mu.get('text', '')}\n"
                    f"      simulated [{records[f'{rng}_simulated']['status']}]: {j0['sentence']}")
    elapsed = time.perf_counter() - t0
    out = {"dataset": str(path), "f0_Hz": args.f0, "T_ref_K": T_ref, "tmax_tls_K": args.tmax_tls,
           "h0_K": 10.0, "library_ratio_range": list(ratio_range), "fits": records, "summary": summary,
           "constrains_J0_h0": {rng: bool(summary[rng]["J0_h0"]["constrained"]) for rng in summary},
           "fit_time_s_total": elapsed,
           "command": "python fits/resonator_j0h0.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "notes": ["no sigma in the file: one common unknown sigma, F(1, dof) interval thresholds",
                     "full: TLS + Mattis-Bardeen quasiparticles over all points; low: TLS alone, "
                     f"T <= {args.tmax_tls:g} K"]}
    jpath = os.path.join(args.out, "resonator_j0h0.json")
    write_json(out, jpath)
    with progress.step("figure"):
        _plot(ds, results, args, os.path.join(args.out, "resonator_j0h0.png"))
    print("\n".join(rows))
    print(f"wrote {jpath} and resonator_j0h0.png ({elapsed:.1f} s fitting)")
    return 1 if any(r["status"] == "error" for r in records.values()) else 0


def _plot(ds, results, args, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from jtls.fit.plot import emptiest_corner, verdict_panel
    fig, (ax, axt) = plt.subplots(2, 1, figsize=(7.5, 8.5), gridspec_kw={"height_ratios": [3, 1.6]})
    ax.plot(ds.T, ds.value * 1e6, "ko", label="data (freq_shift.csv)")
    styles = {("full", "Eq3"): ("C3", "-"), ("full", "simulated"): ("C0", "--"),
              ("low", "Eq3"): ("C1", ":"), ("low", "simulated"): ("C2", "-.")}
    for key, r in results.items():
        if r is None:
            continue
        T = np.asarray(r.data[r.labels[0]]["T"])
        Tf = np.linspace(T.min(), T.max(), 200)
        word = "" if r.ok or r.status == "unidentified" else " FAILED"
        ax.plot(Tf, predict(r, T=Tf) * 1e6, color=styles[key][0], ls=styles[key][1], alpha=1.0 if r.ok else 0.4,
                label=f"{key[0]} {key[1]} [{r.status}]{word}")
    ax.set_xlabel("T (K)")
    ax.set_ylabel(r"$\delta f/f_0$ ($10^{-6}$)")
    ax.set_title(f"Nb CPW resonator, f0 = {args.f0 / 1e9:.4f} GHz: constant mu vs simulated DOS (J0/h0)")
    ax.autoscale_view()
    ax.legend(fontsize=7, loc=emptiest_corner(ax, ds.T, ds.value * 1e6, 0.6, 0.3))
    verdict_panel(axt, {f"{k[0]}_{k[1]}": r for k, r in results.items() if r is not None})
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
