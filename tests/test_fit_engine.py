"""jtls.fit engine: optimum vs scipy, bounds, fixed parameters, status, JSON, joint fits, batches.

Fast closed-form stand-in observables are registered here (``_toy*``) so the
engine is tested independently of the cost of the physical observables; the
physical observables are covered in test_fit_recovery.py and, against scipy,
below (``test_velocity_matches_scipy``).
"""
import json
import math

import numpy as np
import pytest
import jax
import jax.numpy as jnp
from scipy.optimize import least_squares

import jtls
from jtls.fit import FitResult, Model, SolverOptions, build_problem, fit, register_observable
from jtls.fit.batch import bootstrap, fit_many
from jtls.fit.model import REGISTRY
from jtls.fit.objective import jax_residual_x


def _toy(T, a, b):
    # resonant-like log plus a relaxation-like cubic roll-off (relative data)
    return a * jnp.log(T) - b * T**3 / (1.0 + T**3)


def _toy_pos(T, amp, p):
    return amp * T ** p


def _toy_sat(T, k):
    return 1.0 - jnp.exp(-k * T)


def _toy_nan(T, a):
    return jnp.where(a > 0.5, jnp.nan, a) * T


for _name, _f, _p, _kw in (
        ("_toy", _toy, ("a", "b"), dict(relative=True, bounds={"b": (0.0, 10.0)},
                                        defaults={"a": 1.0, "b": 1.0})),
        ("_toy_pos", _toy_pos, ("amp", "p"), dict(positive=True, bounds={"amp": (0.0, math.inf)},
                                                  defaults={"amp": 1.0, "p": 1.0}, amplitude="amp",
                                                  grid={"p": (0.5, 1.0, 2.0, 3.0)})),
        ("_toy_sat", _toy_sat, ("k",), dict(bounds={"k": (0.0, math.inf)}, defaults={"k": 1.0})),
        ("_toy_nan", _toy_nan, ("a",), dict(defaults={"a": 0.1})),
):
    if _name not in REGISTRY:
        register_observable(_name, _f, _p, **_kw)

T40 = np.geomspace(0.05, 3.0, 40)


def _toy_data(seed=0, noise=0.01, a=0.3, b=0.2, off=1.5):
    rng = np.random.default_rng(seed)
    return T40, a * np.log(T40) - b * T40**3 / (1 + T40**3) + off + noise * rng.normal(size=T40.size)


def _scipy_chi2(problem, x0, bounds):
    """chi^2 at scipy.optimize.least_squares' optimum of the same residual function."""
    f = lambda x: np.asarray(jax_residual_x(problem.spec, jnp.asarray(x), problem.arrays))  # noqa: E731
    sol = least_squares(f, x0, bounds=bounds, method="trf", x_scale="jac",
                        ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=5000)
    return float(sol.fun @ sol.fun), sol.x


@pytest.mark.parametrize("method", ["lm", "lbfgs"])
def test_toy_matches_scipy(method):
    T, y = _toy_data()
    res = fit("_toy", (T, y), method=method)
    assert res.ok, res.report()
    p = build_problem("_toy", (T, y))
    chi2_sp, x_sp = _scipy_chi2(p, [p.params[i].value for i in p.spec.free],
                                ([-np.inf, 0.0, -np.inf], [np.inf, 10.0, np.inf]))
    assert abs(res.chi2 - chi2_sp) <= 1e-6 * chi2_sp
    np.testing.assert_allclose([res["a"], res["b"], res["offset"]], x_sp, rtol=1e-4)


def test_joint_fit_shares_parameter_and_matches_scipy():
    T, y1 = _toy_data(seed=1, a=0.3, b=0.2, off=1.0)
    _, y2 = _toy_data(seed=2, a=0.3, b=0.5, off=-2.0)
    terms = [(Model("_toy"), (T, y1), "one"), (Model("_toy"), (T, y2), "two")]
    res = fit(terms, share=["a"])
    assert res.ok
    assert set(res.free) == {"a", "b[one]", "offset[one]", "b[two]", "offset[two]"}
    assert res.dof == 80 - 5
    p = build_problem(terms, share=["a"])
    lo = [0.0 if p.params[i].name.startswith("b[") else -np.inf for i in p.spec.free]
    hi = [10.0 if p.params[i].name.startswith("b[") else np.inf for i in p.spec.free]
    chi2_sp, _ = _scipy_chi2(p, [p.params[i].value for i in p.spec.free], (lo, hi))
    assert abs(res.chi2 - chi2_sp) <= 1e-6 * chi2_sp
    assert abs(res["a"] - 0.3) < 3 * res.stderr["a"]


def test_velocity_matches_scipy():
    """Real observable (Eqs. 7+8): LM and L-BFGS land on scipy's optimum (chi^2 to 1e-6)."""
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    T = np.geomspace(0.05, 10.0, 40)
    rng = np.random.default_rng(5)
    y = np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.12, A, om)) + 1e-4 + 4e-6 * rng.normal(size=40)
    model = Model("velocity", omega=om)
    res = fit(model, (T, y))
    assert res.ok, res.report()
    p = build_problem(model, (T, y))
    x0 = [p.params[i].value for i in p.spec.free]
    chi2_sp, _ = _scipy_chi2(p, x0, ([0, 0, 0, -np.inf], [np.inf, 1, np.inf, np.inf]))
    assert abs(res.chi2 - chi2_sp) <= 1e-6 * chi2_sp, (res.chi2, chi2_sp)
    res2 = fit(model, (T, y), method="lbfgs")
    assert abs(res2.chi2 - chi2_sp) <= 1e-6 * chi2_sp, (res2.chi2, chi2_sp, res2.status)


def test_fixed_parameters_untouched_and_bounds_respected():
    T, y = _toy_data(b=0.2)
    res = fit("_toy", (T, y), fix={"a": 0.25})
    assert res.values["a"] == 0.25 and math.isnan(res.stderr["a"])     # held: no error, not a zero one
    assert "a" not in res.free and res.fixed == {"a": 0.25}
    # true b = 0.2 outside the user's bounds [0.5, 1]: the fit stops at the search limit
    # (not a physical bound) and that is a failure that says so
    res = fit("_toy", (T, y), bounds={"b": (0.5, 1.0)})
    assert 0.5 <= res["b"] <= 1.0
    assert res.status == "at_limit" and "b" in res.message and "search limit" in res.message
    assert not res.ok
    # true b = 0 on the observable's physical bound b >= 0: a result, with an upper limit
    T, y = _toy_data(b=0.0)
    res = fit("_toy", (T, y))
    assert res.ok, res.report()
    assert res.at_bound == ["b"] and res["b"] == 0.0
    iv = res.intervals["b"]
    assert iv["low"] == 0.0 and iv["low_kind"] == "physical"
    assert 0.0 < iv["high"] < iv["high95"] < 10.0
    assert res.tests["b_zero"]["p_value"] == 1.0


def test_status_not_ok_on_nan_divergence_and_step_limit():
    T = np.linspace(0.1, 2.0, 20)
    # NaN: the model is NaN everywhere in the region the data pull towards
    res = fit("_toy_nan", (T, 0.9 * T), initial={"a": 0.6})
    assert res.status == "nan"
    # divergence: saturated data drive k -> infinity (unbounded side of its transform)
    res = fit("_toy_sat", (T, np.ones_like(T) + 1e-3 * np.sin(7 * T)), options=SolverOptions(max_steps=400))
    assert res.status != "ok", res.report()
    # step limit
    Tt, y = _toy_data()
    res = fit("_toy", (Tt, y), options=SolverOptions(max_steps=1), initial={"a": 3.0, "b": 5.0})
    assert res.status == "max_steps"


def test_json_round_trip(tmp_path):
    T, y = _toy_data()
    res = fit("_toy", (T, y, np.full(T.size, 0.01)), tmax=2.5, fix={"b": 0.2})
    path = tmp_path / "r.json"
    res.to_json(path)
    back = FitResult.from_json(str(path))
    assert back.to_dict() == res.to_dict()
    assert back.values == res.values and back.status == res.status
    assert back.excluded == res.excluded and len(back.excluded) == int(np.sum(T > 2.5))
    d = json.loads(res.to_json())
    assert d["parameters"]["b"]["fixed"] is True


def test_report_lists_weighting_fixed_and_excluded():
    T, y = _toy_data()
    res = fit("_toy", (T, y), tmax=2.0, fix={"b": 0.2})
    text = res.report()
    assert "constant absolute errors" in text and "scaled by sqrt(reduced chi2)" in text
    assert "fixed: b=0.2" in text
    assert text.count("T > tmax = 2 K") == int(np.sum(T > 2.0))
    res = fit("_toy_pos", (T, 2.0 * T**1.5))
    assert "constant relative errors" in res.report()
    res = fit("_toy", (T, y, np.full(T.size, 0.01)))
    assert "per-point sigma" in res.report() and res.absolute_sigma


def test_bad_input_raises_naming_point():
    T, y = _toy_data()
    y2 = y.copy()
    y2[7] = np.nan
    with pytest.raises(ValueError, match="point 7"):
        fit("_toy", (T, y2))
    T2 = T.copy()
    T2[3] = T2[4]
    with pytest.raises(ValueError, match="duplicate temperature"):
        fit("_toy", (T2, y))
    with pytest.raises(ValueError, match="sigma must be > 0"):
        fit("_toy", (T, y, np.zeros_like(y)))
    with pytest.raises(ValueError, match="value > 0"):
        fit("_toy_pos", (T, y - 10))
    with pytest.raises(ValueError, match="unknown parameter"):
        fit("_toy", (T, y), fix={"nope": 1.0})
    with pytest.raises(ValueError, match="needs 'omega'"):
        fit("velocity", (T, y))
    with pytest.raises(ValueError, match="already registered"):
        register_observable("_toy", _toy, ("a", "b"))


def test_bootstrap_matches_linearised_errors():
    """1000 vmapped resamples: bootstrap std within 25% of the Jacobian stderr (linear regime)."""
    T, y = _toy_data(noise=0.01)
    res, bs = bootstrap(jax.random.PRNGKey(3), "_toy", (T, y), n=1000)
    assert bs.converged.mean() > 0.99
    for k in ("a", "b", "offset"):
        assert abs(bs.std()[k] / res.stderr[k] - 1.0) < 0.25, (k, bs.std()[k], res.stderr[k])
        lo, hi = res.bootstrap["intervals"][k]
        assert lo < res[k] < hi


def test_fit_many_equals_single_fits():
    data = [_toy_data(seed=s) for s in range(4)]
    data[1] = (data[1][0][:31], data[1][1][:31])  # unequal lengths are padded
    many = fit_many("_toy", data)
    for d, r in zip(data, many):
        single = fit("_toy", d)
        assert r.n_points == d[0].size
        assert abs(r.chi2 - single.chi2) <= 1e-9 * single.chi2
        np.testing.assert_allclose([r[k] for k in r.free], [single[k] for k in r.free], rtol=1e-7)
        np.testing.assert_allclose([r.stderr[k] for k in r.free], [single.stderr[k] for k in r.free],
                                   rtol=1e-6)


def test_register_observable_with_held_parameter():
    """Extensibility: another module's observable with a parameter held unless freed."""
    if "_toy_held" not in REGISTRY:
        register_observable("_toy_held", _toy, ("a", "b"), relative=True, held={"b": 0.2},
                            defaults={"a": 1.0, "b": 1.0})
    T, y = _toy_data(b=0.2)
    res = fit("_toy_held", (T, y))
    assert res.fixed == {"b": 0.2} and res.values["b"] == 0.2
    res2 = fit(Model("_toy_held", free=["b"]), (T, y))
    assert "b" in res2.free and res2.ok and abs(res2["b"] - 0.2) < 3 * res2.stderr["b"]
    with pytest.raises(ValueError, match="unknown parameter"):
        Model("_toy_held", free=["zzz"])


def test_a_profile_below_the_optimum_after_the_restart_is_not_ok(monkeypatch):
    """If every profile keeps reporting a point below the optimum (forced here: the profile
    answers with the optimum itself as that point), the restart cannot improve it and the
    minimum is not established: status 'stalled', never 'ok'."""
    from jtls.fit import inference
    real = inference.profile_intervals
    calls = []

    def lying(inp, which):
        out = real(inp, which)
        for d in out.values():
            d["lower_minimum"], d["lower_f"], d["lower_u"] = True, -1.0, np.array(inp.u_hat, float)
        calls.append(1)
        return out
    monkeypatch.setattr(inference, "profile_intervals", lying)
    T = np.geomspace(0.05, 1.0, 20)
    y = np.asarray(jtls.specific_heat(T, 0.5, 0.2)) * np.exp(0.02 * np.random.default_rng(3).normal(size=20))
    res = fit(Model("specific_heat"), (T, y), intervals="profile")
    assert len(calls) == 2                      # the first verdict and the one after the restart
    assert res.status == "stalled" and "minimum is not established" in res.message, res.report()
    monkeypatch.setattr(inference, "profile_intervals", real)
    assert fit(Model("specific_heat"), (T, y), intervals="profile").ok


def test_a_parameter_whose_only_uncertainty_failed_is_not_determined(monkeypatch):
    """mu on its physical bound has no standard error: its one-sided profile interval is its only
    uncertainty.  When that profile cannot be computed (forced here: the constrained solves
    'did not converge'), nothing says what the data allow: not 'ok' with '< not found'."""
    from jtls.fit import inference
    real = inference.profile_intervals

    def failing(inp, which):
        out = real(inp, which)
        for d in out.values():
            d.update(high=math.nan, high_kind="unreliable", high95=math.nan, high95_kind="unreliable",
                     unreliable=True)
        return out
    T = np.geomspace(0.05, 1.0, 20)
    y = np.asarray(jtls.specific_heat(T, 0.5, 0.0)) * np.exp(0.02 * np.random.default_rng(5).normal(size=20))
    good = fit(Model("specific_heat"), (T, y))
    assert good.ok and good.at_bound == ["mu"], good.report()       # the premise: mu on its bound
    monkeypatch.setattr(inference, "profile_intervals", failing)
    res = fit(Model("specific_heat"), (T, y))
    assert res.status == "unidentified" and res.unidentified == ["mu"], res.report()
    assert "no uncertainty can be given" in res.message


def test_a_model_not_finite_at_the_held_values_says_where_and_which():
    """kappa ~ 1/B: B held at 0 makes every point infinite.  Status nan, and the message names
    the points and the held value instead of 'non-finite residuals'."""
    T = np.geomspace(0.1, 1.0, 12)
    y = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.1))
    res = fit(Model("thermal_conductivity"), (T, y), fix={"B": 0.0})
    assert res.status == "nan" and not res.ok
    assert "not finite at 12 of 12 points (first at T = 0.1 K)" in res.message and "B = 0" in res.message


def test_joint_fit_forms_and_a_misspelt_share_name():
    """fit([m1, m2], [d1, d2]) is the joint fit of (m1, d1) and (m2, d2) (it raised a TypeError);
    a name in share= that no model has is an error (it silently fitted the datasets apart)."""
    T = np.geomspace(0.1, 1.0, 12)
    m = Model("thermal_conductivity")
    d1 = (T, np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.1)) * np.exp(0.03 * np.random.default_rng(1).normal(size=12)))
    d2 = (T, np.asarray(jtls.thermal_conductivity(T, 5e-3, 0.1)) * np.exp(0.03 * np.random.default_rng(2).normal(size=12)))
    a = fit([m, m], [d1, d2], share=["mu"])
    b = fit([(m, d1, "0"), (m, d2, "1")], share=["mu"])
    assert a.free == ["B[0]", "mu", "B[1]"] and a.values == b.values and a.chi2 == b.chi2
    with pytest.raises(ValueError, match=r"share: \['bogus'\] is not a parameter of the models "
                                         r"\(their parameters: \['B', 'mu'\]\)"):
        fit([(m, d1, "a"), (m, d2, "b")], share=["bogus"])
    with pytest.raises(ValueError, match="2 models need as many datasets"):
        fit([m, m], [d1])
