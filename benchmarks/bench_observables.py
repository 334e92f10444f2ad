"""Benchmark: jtls.velocity_shift at 1000 temperatures vs scipy.integrate.quad.

Both compute dv/v(T) = [dv_res(T) - dv_res(T_ref)] + dv_rel(T) (Churkin et al.
2021, Eqs. 7 + 8 with the Eq. 3 DOS) for the Fig. 5a silica parameters with
mu = 0.1.  The scipy baseline integrates over E with quad (epsabs=0,
epsrel=1e-11, breakpoints at the thermal scale) and uses the closed form of
the inner x-integral (numpy), i.e. it is the fastest honest quad-based
implementation; the resonant difference is integrated to infinity.

Run:  python benchmarks/bench_observables.py [--n 1000] [--n-scipy 100]
Prints the jtls time (jitted, float64, warm), the scipy time (extrapolated
from --n-scipy temperatures to --n), their ratio and the max relative deviation.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import integrate

import jax
import jax.numpy as jnp
import jtls
from jtls import units

C, MU = 3.2e-4, 0.1
OMEGA, A = units.paper_frequency(90e3), units.paper_frequency(9.4e6)
T_REF = 1.0


def g_closed(b):
    d = np.sqrt(1.0 - 1j * b)
    if b > 8.0:  # series, as cancellation-free as the closed form allows
        z = 1.0 / (1.0 - 1j * b)
        return sum(z**k / (2 * k + 1) for k in range(1, 30)).real
    return (d * np.arctanh(1.0 / d) - 1.0).real


def scipy_velocity(T):
    def res(E):
        return ((T * T + E * E) ** (MU / 2) * np.tanh(E / (2 * T))
                - (T_REF**2 + E * E) ** (MU / 2) * np.tanh(E / (2 * T_REF))) / E

    lo, hi = min(T, T_REF), max(T, T_REF)
    r = 0.0
    for a, b in ((0, lo), (lo, hi), (hi, 100 * hi)):
        r += integrate.quad(res, a, b, epsabs=0, epsrel=1e-11, limit=200)[0]
    r += integrate.quad(res, 100 * hi, np.inf, epsabs=0, epsrel=1e-11, limit=200)[0]

    def rel(E):
        b = OMEGA / (A * E**3 / np.tanh(E / (2 * T)))
        return (T * T + E * E) ** (MU / 2) / (2 * T * np.cosh(E / (2 * T)) ** 2) * g_closed(b)

    Estar = math.sqrt(OMEGA / (2 * A * T))
    pts = sorted({T, 5 * T, 20 * T} | {Estar * k for k in (0.1, 1, 10) if Estar * k < 60 * T})
    v = integrate.quad(rel, 0, 60 * T, points=pts, epsabs=0, epsrel=1e-11, limit=200)[0]
    return -C * r - C * v


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--n-scipy", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    T = np.geomspace(1e-2, 10.0, args.n)
    f = jax.jit(lambda t: jtls.velocity_shift(t, C, MU, A, OMEGA, T_REF))
    t0 = time.perf_counter()
    out = np.asarray(f(jnp.asarray(T)).block_until_ready())
    compile_s = time.perf_counter() - t0
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        f(jnp.asarray(T)).block_until_ready()
        times.append(time.perf_counter() - t0)
    t_jtls = float(np.median(times))
    idx = np.linspace(0, args.n - 1, args.n_scipy).astype(int)
    t0 = time.perf_counter()
    ref = np.array([scipy_velocity(t) for t in T[idx]])
    t_scipy = (time.perf_counter() - t0) * args.n / args.n_scipy
    dev = np.max(np.abs(out[idx] - ref) / np.abs(ref))
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {args.n} temperatures, float64")
    print(f"jtls velocity_shift (jit, warm, median of {args.repeat}): {t_jtls * 1e3:.2f} ms"
          f"  (first call incl. compile {compile_s:.2f} s)")
    print(f"scipy quad (extrapolated from {args.n_scipy} T):          {t_scipy * 1e3:.1f} ms")
    print(f"ratio scipy/jtls: {t_scipy / t_jtls:.0f}x   max relative deviation: {dev:.2e}")


if __name__ == "__main__":
    main()
