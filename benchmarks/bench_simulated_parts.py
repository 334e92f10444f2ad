"""Where a simulated-DOS velocity evaluation spends its time, beside the Eq. (3) DOS (issue 11, speed).

Times (median of ``--repeats`` calls, compiled, warm) on 40 temperatures 0.05-2 K, 90 kHz:

* the DOS alone at 40 x 336 (E, T) points, value and forward-mode derivative in its parameter;
* the resonant part of Eq. (7) and the relaxation part of Eq. (8) with that DOS, value and
  ``jax.jacfwd`` in (DOS parameter, A);

for the shipped simulated DOS (parameter J0/h0) and for the power-law DOS of Eq. (3) (parameter mu)
through the same generic ``*_dos`` observables, and for the closed-form Eq. (3) velocity used by
constant-mu fits.  Prints a Markdown table.

    python benchmarks/bench_simulated_parts.py [--repeats 30]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def timed(f, x, repeats):
    import jax
    jax.block_until_ready(f(x))
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(f(x))
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args(argv)
    import jax
    import jax.numpy as jnp
    import jtls
    from jtls.dos import PowerLawDOS
    from jtls.simulated.dos import SimulatedDOS, load_library
    lib = load_library()
    om, A = jtls.units.paper_frequency(90e3), jtls.units.paper_frequency(9.4e6)
    T = jnp.asarray(np.geomspace(0.05, 2.0, 40))
    E = jnp.asarray(np.geomspace(1e-4, 50.0, 336))

    def sim(p):
        return SimulatedDOS.create(lib, p, 10.0)

    def pl(p):
        return PowerLawDOS(1.0, p)

    rows = []
    for label, make, p0 in (("simulated (J0/h0 = 0.2)", sim, 0.2), ("power law, Eq. 3 (mu = 0.1)", pl, 0.1)):
        d = jax.jit(lambda p, make=make: make(p)(E[None, :] * T[:, None] / 2, T[:, None]))
        res = jax.jit(lambda q, make=make: jtls.velocity_shift_resonant_dos(T, make(q[0]), 1e-3))
        rel = jax.jit(lambda q, make=make: jtls.velocity_shift_relaxation_dos(T, make(q[0]), q[1], om, 1e-3))
        q0 = jnp.array([p0, A])
        rows.append((label, timed(d, p0, args.repeats), timed(jax.jit(jax.jacfwd(d)), p0, args.repeats),
                     timed(res, q0, args.repeats), timed(jax.jit(jax.jacfwd(res)), q0, args.repeats),
                     timed(rel, q0, args.repeats), timed(jax.jit(jax.jacfwd(rel)), q0, args.repeats)))
    closed = jax.jit(lambda q: jtls.velocity_shift(T, 1e-3, q[0], q[1], om))
    q0 = jnp.array([0.1, A])
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; median of {args.repeats}; ms")
    print("| DOS | DOS 40x336 | its jacfwd | resonant Eq. 7 | its jacfwd | relaxation Eq. 8 | its jacfwd |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | " + " | ".join(f"{x:.2f}" for x in r[1:]) + " |")
    print(f"| closed-form Eq. 3 velocity (resonant + relaxation) | | | {timed(closed, q0, args.repeats):.2f} | "
          f"{timed(jax.jit(jax.jacfwd(closed)), q0, args.repeats):.2f} | | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
