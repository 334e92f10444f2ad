"""Fit 4: joint fit of sound velocity and dielectric constant of one glass with a shared mu (SYNTHETIC data).

No measured velocity / dielectric curves ship with the project, so both
curves are SYNTHETIC: vitreous silica as in Churkin et al. 2021 Fig. 5(a)
(velocity, omega = 2 pi 90 kHz, A = 2 pi 9.4 MHz, C = 3.2e-4) and Fig. 5(b)
(dielectric, omega = 2 pi 1 kHz, A = 2 pi 7.9 MHz, C_dip = 8e-4)
(data/churkin2021_fit_parameters.csv), both generated with the same assumed
mu_true (default 0.1; the paper does not quote mu), 40 points each, Gaussian
noise of 1% of each curve's span (seeded), sigma given to the fit.

Fits (jtls.fit, Eqs. 7+8 with the Eq. 3 DOS; each dataset has its own offset,
amplitude and A):
  * velocity alone, dielectric alone (mu free);
  * joint, shared mu;
  * joint, shared mu = 0 (STM), for Delta chi^2 and the boundary
    likelihood-ratio test of mu = 0 (jtls.fit.compare; mixture
    1/2 chi2_0 + 1/2 chi2_1 with the given sigma), and the AICc ranking of the
    two joint fits (only fits with status ok compete).
mu is printed as the fit determines it (value ± error, a profile interval, or
an upper limit when it sits on mu = 0); each fit's status and warnings are
printed.  Exit code 0 only when the joint fit (the result) has status ok.
A physicist's file can replace the synthetic curves: --velocity FILE and
--dielectric FILE (read by jtls.data.read_csv; --omega-v / --omega-d in rad/s
unless the files are annotated).

Usage:  python fits/joint_velocity_dielectric.py [--out out] [--mu-true 0.1] [--seed 1]
Writes OUT/joint_velocity_dielectric.png and OUT/joint_velocity_dielectric.json.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import jtls
from jtls.fit import Model, fit
from jtls.fit.compare import compare
from jtls.fit.plot import param_line, plot_result
from jtls.fit.result import write_json
from jtls.progress import add_progress_argument, from_args

U = jtls.units.paper_frequency
VEL = dict(omega=U(90e3), A=U(9.4e6), C=3.2e-4)
DIE = dict(omega=U(1e3), A=U(7.9e6), C=8e-4)


def synth(kind, p, mu, noise, rng):
    T0 = (p["omega"] / p["A"]) ** (1.0 / 3.0)
    T = np.geomspace(T0 / 5.0, 15.0 * T0, 40)
    f = jtls.velocity_shift if kind == "velocity" else jtls.dielectric_shift
    y0 = np.asarray(f(T, p["C"], mu, p["A"], p["omega"]))
    s = noise * (y0.max() - y0.min())
    return (T, y0 + s * rng.normal(size=T.size), np.full(T.size, s))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="out")
    ap.add_argument("--mu-true", type=float, default=0.1)
    ap.add_argument("--noise", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--velocity", default=None, help="measured dv/v file instead of synthetic data")
    ap.add_argument("--dielectric", default=None, help="measured d eps/eps file instead of synthetic data")
    ap.add_argument("--omega-v", type=float, default=None)
    ap.add_argument("--omega-d", type=float, default=None)
    add_progress_argument(ap)
    args = ap.parse_args(argv)
    progress = from_args(args, "joint_velocity_dielectric")
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    synthetic = args.velocity is None or args.dielectric is None
    if synthetic:
        dv = synth("velocity", VEL, args.mu_true, args.noise, rng)
        de = synth("dielectric", DIE, args.mu_true, args.noise, rng)
        mv = Model("velocity", omega=VEL["omega"])
        md = Model("dielectric", omega=DIE["omega"])
    else:
        from jtls.data import read_csv
        dv, de = read_csv(args.velocity), read_csv(args.dielectric)
        mv = Model("velocity", omega=args.omega_v)
        md = Model("dielectric", omega=args.omega_d)
    with progress.step("fit 1/4 velocity alone"):
        rv = fit(mv, dv)
    with progress.step("fit 2/4 dielectric alone"):
        rd = fit(md, de)
    terms = [(mv, dv, "velocity"), (md, de, "dielectric")]
    with progress.step("fit 3/4 joint, shared mu (profile intervals)"):
        joint = fit(terms, share=["mu"], intervals="profile")
    with progress.step("fit 4/4 joint, mu = 0"):
        stm = fit(terms, share=["mu"], fix={"mu": 0.0})
    comp = compare({"joint, mu free": joint, "joint, mu = 0": stm},
                   nested={"joint, mu free": {"null": "joint, mu = 0", "parameter": "mu"}})
    test = comp.nested["joint, mu free vs joint, mu = 0"]
    tag = "SYNTHETIC " if synthetic else ""
    print(f"{tag}velocity alone:   {param_line(rv, 'mu')}  ({rv.status})")
    print(f"{tag}dielectric alone: {param_line(rd, 'mu')}  ({rd.status})")
    print(joint.report())
    p0 = test.get("p_value")
    print(f"joint shared {param_line(joint, 'mu')} [{joint.status}]"
          + (f" (true {args.mu_true})" if synthetic else "")
          + f"; Delta chi^2 (mu = 0 minus mu free) = {test['delta_chi2']:.4g}, p(mu = 0) = "
          + (f"{p0:.3g}" if p0 is not None else f"not tested ({test.get('reason')})"))
    print(comp.table())
    for lab, r in (("velocity alone", rv), ("dielectric alone", rd), ("joint mu = 0", stm)):
        for w in r.warnings:
            print(f"warning [{lab}]: {w}")
    png = os.path.join(args.out, "joint_velocity_dielectric.png")
    with progress.step("figure"):
        plot_result(joint, png, title=f"{tag}joint velocity + dielectric fit, shared mu",
                    extra=[("STM (mu = 0)", stm)], synthetic=synthetic)
    out = {"synthetic": synthetic, "mu_true": args.mu_true if synthetic else None,
           "noise_fraction_of_span": args.noise if synthetic else None, "seed": args.seed,
           "inputs": {"velocity": VEL, "dielectric": DIE} if synthetic else
           {"velocity": args.velocity, "dielectric": args.dielectric},
           "velocity_alone": rv.summary_dict(), "dielectric_alone": rd.summary_dict(),
           "joint": joint.to_dict(), "joint_mu0": stm.summary_dict(),
           "delta_chi2_mu0_minus_free": test["delta_chi2"], "p_mu0": p0,
           "comparison": comp.to_dict()}
    js = os.path.join(args.out, "joint_velocity_dielectric.json")
    write_json(out, js)
    print(f"wrote {png} and {js}")
    return 0 if joint.ok else 1


if __name__ == "__main__":
    sys.exit(main())
