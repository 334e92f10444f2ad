"""Independent reference curves for the tests: the paper's integrals done by scipy quadrature.

Nothing here uses jtls' closed forms, kernels or quadrature panels.
"""
import math

import numpy as np
from scipy.integrate import quad


def velocity_shift_scipy(T, C, mu, A, omega, T_ref=1.0):
    """dv/v of Eqs. (7) + (8) of Churkin et al. (2021) with the Eq. (3) DOS (resonant part
    relative to T_ref), by scipy quadrature.  T, T_ref in K; A in s^-1 K^-3; omega in rad/s.
    The dielectric shift is its negative with C -> C_dip."""
    f = lambda E: ((T * T + E * E) ** (mu / 2) * math.tanh(E / (2 * T))  # noqa: E731
                   - (T_ref**2 + E * E) ** (mu / 2) * math.tanh(E / (2 * T_ref))) / E
    hi = 200 * max(T, T_ref)
    res = quad(f, 0, hi, points=sorted({T, T_ref}), limit=200, epsabs=0, epsrel=1e-12)[0]
    if mu != 0:   # E > hi: tanh = 1
        res += quad(lambda E: ((T * T + E * E) ** (mu / 2) - (T_ref**2 + E * E) ** (mu / 2)) / E,
                    hi, np.inf, epsrel=1e-12)[0]

    def x_integral(b):   # int_0^1 sqrt(1-x^2)/x / (1 + b^2/x^4) dx
        s = math.sqrt(b)
        pts = [p for p in (0.1 * s, s, 10 * s) if p < 1]
        return quad(lambda x: x**3 * math.sqrt(1 - x * x) / (x**4 + b * b), 0, 1,
                    points=pts or None, limit=200, epsabs=0, epsrel=1e-11)[0]

    def rel(u):   # E = T u; omega tau_min = omega / (A E^3 coth(E/2T))
        E = T * u
        b = omega / (A * E**3 / math.tanh(u / 2))
        return (T * T + E * E) ** (mu / 2) / (2 * math.cosh(u / 2) ** 2) * x_integral(b)
    rel_int = quad(rel, 0, 80, points=[0.5, 2, 5, 10], limit=200, epsabs=0, epsrel=1e-10)[0]
    return -C * res - C * rel_int
