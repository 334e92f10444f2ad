"""Parameter recovery and calibration of the standard errors for every built-in observable.

Synthetic data: the jtls observable at known parameters plus Gaussian noise
(fixed seeds).  N_DRAWS noise draws of each problem are fitted in one vmapped
call (jtls.fit.batch.fit_many).  For a correctly computed covariance in the
near-linear regime, |x_fit - x_true| < k * stderr holds with probability
0.6827 (k = 1) and 0.9545 (k = 2) -- for errors scaled by the reduced chi^2
(no sigma given) the Student-t value with dof = 36 applies, 0.6763 / 0.9475.
The observed fractions must match within 3 binomial standard deviations
sqrt(p (1 - p) / N_DRAWS) (3.3% and 1.5% at N = 200, i.e. tolerances of
9.9% and 4.5%).  The mean of the fitted values must lie within 4 standard
errors of the mean of the truth (no bias beyond the noise).
"""
import math

import numpy as np
import pytest
from scipy import stats

import jtls
from jtls.fit import Model
from jtls.fit.batch import fit_many

N_DRAWS = 200
OMEGA = jtls.units.paper_frequency(90e3)
A_TRUE = jtls.units.paper_frequency(9.4e6)
T = np.geomspace(0.05, 10.0, 40)
T_TH = np.geomspace(0.06, 1.0, 40)

CASES = {
    # observable: (model, truth, clean curve, noise kind, noise level)
    "velocity": (Model("velocity", omega=OMEGA), {"C": 3.2e-4, "mu": 0.15, "A": A_TRUE, "offset": 1e-4},
                 lambda p: np.asarray(jtls.velocity_shift(T, p["C"], p["mu"], p["A"], OMEGA)) + p["offset"],
                 "sigma", 3e-6, T),
    "dielectric": (Model("dielectric", omega=jtls.units.paper_frequency(1e3)),
                   {"C_dip": 8e-4, "mu": 0.1, "A": jtls.units.paper_frequency(7.9e6), "offset": -2e-4},
                   lambda p: np.asarray(jtls.dielectric_shift(T, p["C_dip"], p["mu"], p["A"],
                                                              jtls.units.paper_frequency(1e3))) + p["offset"],
                   "absolute", 5e-6, T),
    "thermal_conductivity": (Model("thermal_conductivity"), {"B": 2.0, "mu": 0.08},
                             lambda p: np.asarray(jtls.thermal_conductivity(T_TH, p["B"], p["mu"])),
                             "log", 0.02, T_TH),
    "specific_heat": (Model("specific_heat"), {"B": 0.5, "mu": 0.2},
                      lambda p: np.asarray(jtls.specific_heat(T_TH, p["B"], p["mu"])),
                      "relsigma", 0.02, T_TH),
}


def _draws(name):
    model, truth, curve, kind, level, Tg = CASES[name]
    rng = np.random.default_rng(sum(map(ord, name)))  # fixed seed per observable
    y0 = curve(truth)
    data = []
    for _ in range(N_DRAWS):
        if kind == "log":
            data.append((Tg, y0 * np.exp(level * rng.normal(size=Tg.size))))
        elif kind == "relsigma":
            s = level * y0
            data.append((Tg, y0 + s * rng.normal(size=Tg.size), s))
        elif kind == "sigma":
            s = np.full(Tg.size, level)
            data.append((Tg, y0 + s * rng.normal(size=Tg.size), s))
        else:
            data.append((Tg, y0 + level * rng.normal(size=Tg.size)))
    return model, truth, data, kind


def _coverage_bounds(p):
    tol = 3.0 * math.sqrt(p * (1 - p) / N_DRAWS)
    return p - tol, p + tol


@pytest.mark.parametrize("name", list(CASES))
def test_recovery_and_calibrated_errors(name):
    model, truth, data, kind = _draws(name)
    results = fit_many(model, data, start="first")
    ok = np.array([r.ok for r in results])
    assert ok.mean() >= 0.99, [r.status for r in results if not r.ok][:5]
    results = [r for r in results if r.ok]
    dof = results[0].dof
    absolute = kind in ("sigma", "relsigma")
    assert all(r.absolute_sigma == absolute for r in results)
    for k, true in truth.items():
        x = np.array([r.values[k] for r in results])
        s = np.array([r.stderr[k] for r in results])
        z = np.abs(x - true) / s
        for nsig in (1.0, 2.0):
            p = (stats.norm.cdf(nsig) - stats.norm.cdf(-nsig)) if absolute else \
                (stats.t.cdf(nsig, dof) - stats.t.cdf(-nsig, dof))
            lo, hi = _coverage_bounds(p)
            frac = np.mean(z < nsig)
            assert lo <= frac <= hi, f"{name}.{k}: {frac:.3f} within {nsig} sigma, expected {p:.3f} " \
                                     f"(tolerance [{lo:.3f}, {hi:.3f}])"
        assert abs(x.mean() - true) < 4.0 * x.std() / math.sqrt(x.size), (name, k, x.mean(), true)
    # the first draw on its own: every parameter within 2 sigma of the truth
    r0 = results[0]
    for k, true in truth.items():
        assert abs(r0.values[k] - true) < 2.0 * r0.stderr[k], (name, k, r0.values[k], r0.stderr[k])
