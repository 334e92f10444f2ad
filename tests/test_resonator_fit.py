"""Parameter recovery on synthetic resonator data with the jtls.fit engine (fixed seeds).

Tolerance: every free parameter within 4 standard errors of its true value
(the errors come from the fit's own covariance with the known noise sigma, so
a correct fit fails this with probability ~1e-4 per parameter)."""
import math

import numpy as np
import pytest

import jtls
import jtls.resonator  # noqa: F401  (registers the observables)
from jtls.fit import REGISTRY, Model, fit
from jtls.resonator.models import loss_joint_guess, resonator_loss, resonator_shift

OMEGA = 2 * math.pi * 5.619901372e9


def _check_recovery(res, truth, n_sigma=4.0):
    assert res.status in ("ok",), (res.status, res.message)
    for k, v in truth.items():
        se = res.stderr[k]
        assert math.isfinite(se) and se > 0, (k, se)
        assert abs(res.values[k] - v) <= n_sigma * se, (k, res.values[k], v, se)


def test_observables_registered():
    assert {"resonator_shift", "resonator_loss"} <= set(REGISTRY)
    assert REGISTRY["resonator_shift"].relative and REGISTRY["resonator_loss"].positive


def test_mu_bounds_as_every_observable():
    """mu in [0, 1] with 0 a physical bound (the STM), as for velocity, dielectric, kappa, C_v."""
    for name, ctx in (("resonator_shift", {}), ("resonator_loss", {"P_dBm": -100.0})):
        assert REGISTRY[name].bounds["mu"] == REGISTRY["velocity"].bounds["mu"] == (0.0, 1.0)
        assert Model(name, omega=OMEGA, **ctx).physical_of("mu") == (True, False)


def test_shift_parameter_recovery():
    rng = np.random.default_rng(20240605)
    T = np.linspace(0.08, 1.7, 24)
    truth = {"F_delta0": 1.3e-6, "mu": 0.3, "Delta": 13.5, "alpha": 0.012}
    sigma = 1e-9
    y = np.asarray(resonator_shift(T, **truth, omega=OMEGA, T_ref=0.1)) + 2e-8
    y = y + sigma * rng.standard_normal(T.size)
    res = fit(Model("resonator_shift", omega=OMEGA, T_ref=0.1), (T, y, np.full(T.size, sigma)))
    _check_recovery(res, {**truth, "offset": 2e-8})
    assert res.stderr["mu"] < 0.1  # the data do constrain mu at this noise level


def test_loss_joint_parameter_recovery():
    rng = np.random.default_rng(7)
    T = np.linspace(0.05, 1.7, 18)
    truth = {"F_delta0": 9e-7, "mu": 0.2, "P_c_dBm": -140.0, "beta": 0.5, "Delta": 11.0,
             "alpha": 2e-3, "loss_bg": 5e-8}
    rel = 0.01
    terms, curves = [], []
    for P in (-80.0, -120.0, -160.0):
        q = np.asarray(resonator_loss(T, **truth, omega=OMEGA, P_dBm=P))
        q = q * np.exp(rel * rng.standard_normal(T.size))
        # sigma of Qi for ln-residuals rel: give it as Qi * rel (sigma-weighted residuals)
        terms.append((Model("resonator_loss", omega=OMEGA, P_dBm=P, weighting="log"),
                      (T, q), f"{P:g}"))
        curves.append((T, q, P))
    start = loss_joint_guess(curves, OMEGA, mu=0.0)
    res = fit(terms, share=list(truth), initial=start)
    # ln residuals with unknown common sigma: errors scaled by sqrt(chi2/dof) ~ rel
    assert res.reduced_chi2 == pytest.approx(rel**2, rel=0.5)
    _check_recovery(res, truth)


@pytest.mark.parametrize("seed", [8, 6])
def test_a_local_optimum_found_by_the_verdict_is_left_for_the_better_one(seed):
    """Qi(T) of 24 points (2 % scatter; mu = 0.2 true): from the automatic start the solve stops
    in a local minimum -- seed 8: chi^2 0.27, which the profile of mu then undercuts (it was
    reported 'ok' with the warning that it is not the best one); seed 6: chi^2 0.87 at mu's
    search limit 1, which the held solve at mu = 0 undercuts (it was 'at_limit', advising to widen
    the bounds).  The fit now restarts from the lower point and reaches the minimum that a start
    at the true values finds."""
    om = 2 * math.pi * 5e9
    T = np.geomspace(0.03, 0.6, 24)
    truth = {"F_delta0": 9e-7, "mu": 0.2, "loss_bg": 5e-8}
    y = np.asarray(resonator_loss(T, 9e-7, 0.2, -120.0, 0.5, 11.0, 0.0, 5e-8, om, -140.0))
    y = y * np.exp(0.02 * np.random.default_rng(seed).normal(size=T.size))
    m = Model("resonator_loss", omega=om, P_dBm=-140.0,
              fixed={"alpha": 0.0, "P_c_dBm": -120.0, "beta": 0.5, "Delta": 11.0})
    res = fit(m, (T, y))
    ref = fit(m, (T, y), initial=truth)
    assert ref.chi2 < 0.05, ref.report()
    assert res.chi2 == pytest.approx(ref.chi2, rel=1e-6), res.report()
    assert any("was a local one" in w for w in res.warnings), res.report()
    assert not any("not the best one" in w for w in res.warnings)
    assert res.status == ref.status and res.status != "at_limit"
