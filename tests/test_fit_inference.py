"""Verdicts of jtls.fit (jtls.fit.inference): degenerate data, physical bounds, intervals, tests.

Each degenerate case of the inference issue is a test: constant data, pure
noise, the standard tunneling model (mu = 0) as the truth.  Statistical
properties (coverage, test size) use fixed seeds and tolerances from the
binomial standard error of the number of draws (stated at each assertion).
Profile endpoints are checked against iminuit's MINOS on the same chi^2.
"""
import math

import numpy as np
import pytest

import jtls
from jtls.fit import Model, build_problem, fit
from jtls.fit.inference import boundary_p_value, flat_chi2, runs_test

T40 = np.geomspace(0.05, 3.0, 40)
OMEGA = jtls.units.paper_frequency(90e3)
A_SILICA = jtls.units.paper_frequency(9.4e6)
SIG = 3e-6


def _velocity(mu, C=3.2e-4, offset=1e-4):
    return np.asarray(jtls.velocity_shift(T40, C, mu, A_SILICA, OMEGA)) + offset


MODEL = Model("velocity", omega=OMEGA)


@pytest.mark.parametrize("level", [-6.8e-4, 0.0, 2.5e-3])
def test_constant_data_not_ok_and_names_unidentified(level):
    res = fit(MODEL, (T40, np.full(40, level)))
    assert res.status == "unidentified", res.report()
    assert not res.ok
    assert set(res.unidentified) >= {"mu", "A"}
    assert "mu" in res.message and "A" in res.message
    for k in res.free:                     # never a zero error presented as a result
        s = res.stderr[k]
        assert not (math.isfinite(s) and s == 0.0), (k, s)
    assert res.summary_dict()["parameters"]["mu"]["stderr"] is None


def test_pure_noise_never_ok_with_tiny_errors():
    """Noise without any TLS signal: over 20 seeds no fit is 'ok' with a zero or
    tiny (< 1 % relative) error on a shape parameter; most are not ok at all."""
    not_ok = 0
    for seed in range(20):
        y = 1e-5 * np.random.default_rng(seed).normal(size=40)
        res = fit(MODEL, (T40, y))
        if res.ok:
            for k in ("mu", "A"):
                if k in res.at_bound:
                    continue
                s = res.stderr[k]
                assert math.isfinite(s) and s > 0.01 * abs(res.values[k]), (seed, k, res.report())
        else:
            not_ok += 1
    assert not_ok >= 15, not_ok


def test_stm_truth_is_ok_with_upper_limit_on_mu(tmp_path):
    """mu = 0 (standard tunneling model) as the truth, sigma given: ok, mu on its
    physical bound with a one-sided interval [0, high], A and C determined."""
    y = _velocity(0.0) + SIG * np.random.default_rng(3).normal(size=40)
    res = fit(MODEL, (T40, y, np.full(40, SIG)))
    assert res.ok, res.report()
    if "mu" in res.at_bound:
        assert res["mu"] == 0.0
        iv = res.intervals["mu"]
        assert iv["low"] == 0.0 and iv["low_kind"] == "physical" and 0 < iv["high"] < iv["high95"] < 0.05
        assert res.tests["mu_zero"]["p_value"] == 1.0
    for k in ("C", "A"):
        assert 0 < res.stderr[k] < 0.1 * res[k]
    # the CLI: exit 0 and the JSON contract
    f = tmp_path / "stm.csv"
    f.write_text("T,value,sigma\n" + "".join(f"{float(t)!r},{float(v)!r},{SIG!r}\n" for t, v in zip(T40, y)))
    import json
    from jtls.cli import main
    import contextlib, io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["fit", str(f), "--observable", "velocity", "--omega", repr(OMEGA), "--json"])
    obj = json.loads(buf.getvalue())
    assert rc == 0 and obj["status"] == "ok"
    assert "statistic" in obj["tests"]["mu_zero"] and "p_value" in obj["tests"]["mu_zero"]
    mu = obj["parameters"]["mu"]
    assert mu["at_bound"] == ("mu" in res.at_bound)


@pytest.mark.parametrize("observable,power,const", [
    ("specific_heat", 1.0, math.pi**2 / 6.0),       # C_v = B (pi^2/6) T at mu = 0 (Eq. 6)
    ("thermal_conductivity", 2.0, None)])
def test_exact_power_law_of_the_standard_model_is_ok_on_the_bound(observable, power, const):
    # data exactly of the standard tunneling model's form (y = 2 T^p), reproduced to rounding
    # only with mu held at 0: the free optimum then differs from it only at rounding level, and
    # the verdict must be "ok, mu on its physical bound" (it was "stalled" for C_v = 2 T)
    T = np.geomspace(0.1, 1.0, 12)
    res = fit(Model(observable), (T, 2.0 * T**power))
    assert res.status == "ok", (res.status, res.message)
    assert "mu" in res.at_bound and res.values["mu"] == 0.0
    if const is not None:
        assert abs(res.values["B"] - 2.0 / const) <= 1e-10 * res.values["B"]


def test_search_limit_is_a_failure_physical_bound_is_not():
    y = _velocity(0.1) + SIG * np.random.default_rng(4).normal(size=40)
    res = fit(MODEL, (T40, y), bounds={"mu": (0.2, 1.0)})   # truth below the user's search box
    assert res.status == "at_limit" and "search limit" in res.message
    assert not res.ok


def test_profile_intervals_agree_with_minos():
    """Profile endpoints vs iminuit MINOS (errordef 1 on chi^2, or the F(1, dof) quantile on chi^2 / s^2
    when the scale is estimated) to 1e-3 relative."""
    import iminuit  # a test dependency (pyproject [test]); a missing one fails, never skips
    import jax
    from jtls.fit.objective import residual_x
    y = _velocity(0.1) + SIG * np.random.default_rng(7).normal(size=40)
    for data in ((T40, y, np.full(40, SIG)), (T40, y)):
        res = fit(MODEL, data, intervals="profile")
        assert res.ok, res.report()
        p = build_problem(MODEL, data)
        chi2 = jax.jit(lambda v: (lambda r: r @ r)(residual_x(p.spec, v, p.arrays)))
        s2 = 1.0 if res.absolute_sigma else res.chi2 / res.dof
        m = iminuit.Minuit(lambda *v: float(chi2(np.array(v))) / s2, *[res[k] for k in res.free],
                           name=res.free)
        # sigma known: Delta chi^2 = 1; estimated from the scatter: the F(1, dof) quantile at 68.3 %
        from scipy.stats import f as f_dist
        m.errordef = 1.0 if res.absolute_sigma else float(f_dist.ppf(0.6826894921370859, 1, res.dof))
        m.strategy, m.tol = 2, 1e-8
        m.limits["C"], m.limits["A"], m.limits["mu"] = (0, None), (0, None), (0, 1)
        m.migrad()
        m.minos()
        for k in res.free:
            me = m.merrors[k]
            lo, hi = m.values[k] + me.lower, m.values[k] + me.upper
            iv = res.intervals[k]
            assert iv["low"] == pytest.approx(lo, rel=1e-3), k
            assert iv["high"] == pytest.approx(hi, rel=1e-3), k
            assert iv["low95"] < iv["low"] < res[k] < iv["high"] < iv["high95"]


def test_near_degenerate_pair_warns():
    """A model whose two amplitudes multiply the same curve (a*b): corr -> +-1 warned, not silent."""
    from jtls.fit import register_observable
    from jtls.fit.model import REGISTRY
    if "_prod" not in REGISTRY:
        register_observable("_prod", lambda T, a, b, c: a * b * T + c * T**2, ("a", "b", "c"),
                            defaults={"a": 1.0, "b": 1.0, "c": 1.0})
    T = np.linspace(0.1, 2.0, 30)
    y = 2.0 * T + 0.5 * T**2 + 0.01 * np.random.default_rng(1).normal(size=30)
    res = fit("_prod", (T, y))
    assert res.status == "unidentified" and {"a", "b"} <= set(res.unidentified), res.report()
    assert "traded against" in res.message


@pytest.mark.parametrize("noise", [0.0, 0.05])
def test_flat_data_as_specific_heat_leave_mu_unidentified(noise):
    """C_v ~ T^(1+mu): mu = 0 is the model's flattest curve.  Data with no temperature dependence
    (a constant, or noise around one) sit on mu = 0 only because mu cannot go lower: mu is not
    determined, never "ok, mu < 0.05"."""
    T = np.geomspace(0.1, 1.0, 12)
    y = 1.0 + noise * np.random.default_rng(1).normal(size=T.size)
    res = fit(Model("specific_heat"), (T, y))
    assert res.status == "unidentified" and res.unidentified == ["mu"], res.report()
    assert "no temperature dependence" in res.message and not res.ok
    assert flat_chi2(build_problem(Model("specific_heat"), (T, y))) < res.chi2


def test_data_steeper_than_any_physical_mu_warn_but_mu_on_its_bound_is_a_result():
    """kappa ~ T^(2 - mu): data rising as T^2.5 ask for mu = -0.5.  mu stays on its physical bound
    (a result, status ok), the score test beyond the bound rejects and the report says lack of fit;
    data from mu = 0 itself do not (beyond p well above 0.01)."""
    T = np.geomspace(0.08, 1.0, 16)
    rng = np.random.default_rng(4)
    steep = 4e-3 ** -1 * T ** 2.5 * np.exp(0.03 * rng.normal(size=T.size))
    res = fit(Model("thermal_conductivity"), (T, steep))
    assert res.ok and res.at_bound == ["mu"], res.report()
    assert res.tests["mu_zero"]["beyond_p_value"] < 1e-3
    assert any("lack of fit" in w and "pull mu below its physical bound" in w for w in res.warnings)
    assert "beyond it (score test)" in res.report()
    stm = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.0)) * np.exp(0.03 * rng.normal(size=T.size))
    res0 = fit(Model("thermal_conductivity"), (T, stm))
    assert res0.ok and not any("pull mu" in w for w in res0.warnings), res0.report()
    assert res0.tests["mu_zero"].get("beyond_p_value", 1.0) > 0.01


def test_lack_of_fit_flagged():
    """Systematic residuals (the wrong model shape) are flagged; a good fit is not."""
    rng = np.random.default_rng(2)
    sig = np.full(40, SIG)
    bad = fit(MODEL, (T40, _velocity(0.1) + 4e-5 * np.sin(6 * np.log(T40)) + SIG * rng.normal(size=40), sig))
    assert any("lack of fit" in w for w in bad.warnings), bad.report()
    assert bad.tests["lack_of_fit"]["chi2_p_value"] < 0.01
    good = fit(MODEL, (T40, _velocity(0.1) + SIG * rng.normal(size=40), sig))
    assert not any("lack of fit" in w for w in good.warnings), good.report()


def test_sigma_far_too_small_never_give_absurd_errors():
    """sigma = 1e-6 of the value on data with 3 % scatter: reduced chi^2 ~ 1e9.  Errors taken
    from those sigma as they are would be ~1e-4 of the real ones; they are scaled by the scatter
    instead, and then agree with the fit that ignores the sigma (constant relative errors, the
    same weighting to first order in the 3 % scatter: 5 % covers the second-order terms)."""
    T = np.geomspace(0.08, 1.0, 16)
    y = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.1)) * np.exp(0.03 * np.random.default_rng(6).normal(size=16))
    tiny = fit(Model("thermal_conductivity"), (T, y, 1e-6 * y), intervals="profile")
    free = fit(Model("thermal_conductivity"), (T, y), intervals="profile")
    assert tiny.ok and tiny.sigma_scaled and tiny.absolute_sigma, tiny.report()
    assert any("sigma are too small" in w for w in tiny.warnings)
    assert "the given sigma are too small for the scatter" in tiny.report()
    for k in ("B", "mu"):
        assert tiny.stderr[k] == pytest.approx(free.stderr[k], rel=0.05), k
        for end in ("low", "high", "low95", "high95"):
            assert tiny.intervals[k][end] == pytest.approx(free.intervals[k][end], rel=0.05), (k, end)
    assert tiny.summary_dict()["sigma_scaled"] is True
    # the right sigma: taken as they come
    right = fit(Model("thermal_conductivity"), (T, y, 0.03 * y))
    assert right.ok and not right.sigma_scaled and "from the given sigma" in right.report()


def test_a_wild_point_is_named_and_gaussian_scatter_never_is():
    """One value 1000x off among 24 (3 % scatter) biases the fit silently unless named: the
    warning gives its temperature.  Gaussian scatter alone reaches 10 robust standard deviations
    with probability ~1e-23 per point, so no seed may warn."""
    T = np.geomspace(0.05, 1.0, 24)
    for seed in range(8):
        y = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.1)) * np.exp(0.03 * np.random.default_rng(seed).normal(size=24))
        clean = fit(Model("thermal_conductivity"), (T, y))
        assert not any("outlier" in w for w in clean.warnings), (seed, clean.warnings)
        if seed == 0:
            y[10] *= 1000
            bad = fit(Model("thermal_conductivity"), (T, y))
            hits = [w for w in bad.warnings if w.startswith("possible outlier")]
            assert len(hits) == 1 and f"T = {T[10]:.4g} K" in hits[0], bad.warnings


def test_exact_model_data_get_no_runs_test_verdict():
    """Residuals at rounding level have no systematic sign pattern to speak of: data computed
    from the model itself (mu = 0.3) get the rounding warning, never a lack-of-fit one."""
    T = np.geomspace(0.06, 0.9, 24)
    res = fit(MODEL, (T, np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.3, A_SILICA, OMEGA))))
    assert res.ok and res["mu"] == pytest.approx(0.3, rel=1e-9), res.report()
    assert any("rounding precision" in w for w in res.warnings)
    assert not any("lack of fit" in w for w in res.warnings), res.warnings
    # nor a runs-test p-value in the tests or the report (it was shown as runs_p_value = 0)
    assert "runs_p_value" not in res.tests["lack_of_fit"] and "runs_p_value" not in res.report()


def test_runs_test_and_boundary_p_value_against_definitions():
    # alternating signs: many runs -> p near 1; two blocks: 2 runs -> p tiny
    assert runs_test(np.tile([1.0, -1.0], 20)) > 0.99
    assert runs_test(np.r_[np.ones(20), -np.ones(20)]) < 1e-6
    # Chernoff mixture: P(T > 2.706) = 0.05 for 1/2 chi2_0 + 1/2 chi2_1 (2.706 = chi2_1 90% point)
    assert boundary_p_value(2.705543454095404, True, 10) == pytest.approx(0.05, rel=1e-9)
    assert boundary_p_value(0.0, True, 10) == 1.0
    # F(1, dof) version -> chi2 version as dof -> infinity
    assert boundary_p_value(2.7055, False, 10**7) == pytest.approx(boundary_p_value(2.7055, True, 0), rel=1e-4)


def test_joint_fit_mixing_sigma_and_no_sigma_refused():
    y = _velocity(0.1)
    with pytest.raises(ValueError, match="mixes datasets with per-point sigma"):
        fit([(MODEL, (T40, y, np.full(40, SIG)), "a"), (MODEL, (T40, y), "b")], share=["mu"])


# --------------------------------------------------------------------------
# statistical properties over many synthetic draws (fixed seeds).  The
# specific heat (Eq. 6, B and mu) is used because a fit costs ~1/10 of a
# velocity fit, which lets 200 draws run in seconds; the bound handling,
# profile and tests are the same code for every observable.  Tolerances:
# three binomial standard errors of a proportion over n draws.

def _binom_tol(p, n):
    return 3.0 * math.sqrt(p * (1.0 - p) / n)


T30 = np.geomspace(0.05, 1.0, 30)


def _cv_draws(mu_true, n, seed, intervals=None):
    y0 = np.asarray(jtls.specific_heat(T30, 0.5, mu_true))
    sig = 0.02 * y0
    rng = np.random.default_rng(seed)
    return [fit(Model("specific_heat"), (T30, y0 + sig * rng.normal(size=T30.size), sig), intervals=intervals)
            for _ in range(n)]


def test_stm_truth_over_200_draws_size_of_mu_zero_test_and_upper_limits():
    """mu = 0 true: every fit ok; mu on the bound in about half the draws
    (Chernoff); the 95 % interval reaches down to 0 in >= 95 %; the boundary
    LR test of mu = 0 rejects at 5 % in 5 % of the draws."""
    n = 200
    res = _cv_draws(0.0, n, seed=11)
    assert all(r.ok for r in res), [r.status for r in res if not r.ok][:5]
    at = np.mean(["mu" in r.at_bound for r in res])
    assert abs(at - 0.5) <= _binom_tol(0.5, n), at
    covers0 = np.mean([r.intervals.get("mu", {}).get("low95_kind") == "physical" for r in res])
    assert covers0 >= 0.95 - _binom_tol(0.95, n), covers0
    rej = np.mean([r.tests["mu_zero"]["p_value"] < 0.05 for r in res])
    assert abs(rej - 0.05) <= _binom_tol(0.05, n), rej
    # the score test beyond the bound (mu < 0) has its size too: mu on the bound in half the
    # draws, the outward score significant at 5 % in a tenth of those
    beyond = [r.tests["mu_zero"].get("beyond_p_value", 1.0) for r in res]
    assert all(("beyond_p_value" in r.tests["mu_zero"]) == ("mu" in r.at_bound) for r in res)
    rej_beyond = np.mean(np.array(beyond) < 0.05)
    assert abs(rej_beyond - 0.05) <= _binom_tol(0.05, n), rej_beyond
    for r in res:
        if "mu" in r.at_bound:
            assert r["mu"] == 0.0 and r.intervals["mu"]["low"] == 0.0 and r.intervals["mu"]["high"] > 0


def test_profile_interval_coverage_over_200_draws():
    """mu = 0.2 true: the 68.3 % and 95 % profile intervals of mu and B cover the
    truth in 68.3 % and 95 % of the draws (within three binomial errors)."""
    n = 200
    res = _cv_draws(0.2, n, seed=1, intervals="profile")
    assert all(r.ok for r in res)
    for name, true in (("mu", 0.2), ("B", 0.5)):
        c68 = np.mean([r.intervals[name]["low"] <= true <= r.intervals[name]["high"] for r in res])
        c95 = np.mean([r.intervals[name]["low95"] <= true <= r.intervals[name]["high95"] for r in res])
        assert abs(c68 - 0.683) <= _binom_tol(0.683, n), (name, c68)
        assert abs(c95 - 0.95) <= _binom_tol(0.95, n), (name, c95)


def test_bootstrap_of_constant_data_is_not_presented_as_intervals():
    res = fit(MODEL, (T40, np.full(40, -6.8e-4)), bootstrap=50)
    assert res.status == "unidentified"
    assert res.bootstrap["n"] == 0 and "skipped" in res.bootstrap
    assert "intervals" not in res.bootstrap
    assert any("bootstrap skipped" in w for w in res.warnings)


def test_posterior_through_fit_and_cli_contract(tmp_path):
    """fit(..., posterior='nuts') fills result.posterior with the documented keys, and
    the CLI writes them plus a corner plot; the sampler's own tests are in test_fit_posterior.py."""
    import json, contextlib, io
    from jtls.cli import main
    y0 = np.asarray(jtls.specific_heat(T30, 0.5, 0.2))
    s = 0.02 * y0
    y = y0 + s * np.random.default_rng(5).normal(size=T30.size)
    f = tmp_path / "cv.csv"
    f.write_text("T,value,sigma\n" + "".join(f"{float(a)!r},{float(b)!r},{float(c)!r}\n"
                                            for a, b, c in zip(T30, y, s)))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["fit", str(f), "--observable", "specific_heat", "--posterior", "nuts", "--samples", "300",
                   "--chains", "2", "--seed", "3", "--json", "--out", str(tmp_path / "o")])
    obj = json.loads(buf.getvalue())
    assert rc == 0 and obj["status"] == "ok"
    keys = {"mean", "sd", "q025", "q16", "q50", "q84", "q975", "r_hat", "ess"}
    assert set(obj["posterior"]) == {"B", "mu"}
    for name, true in (("B", 0.5), ("mu", 0.2)):
        d = obj["posterior"][name]
        assert set(d) == keys
        assert d["q025"] < d["q16"] < d["q50"] < d["q84"] < d["q975"]
        # posterior sd and least-squares standard error agree for this near-linear problem
        assert d["sd"] == pytest.approx(obj["parameters"][name]["stderr"], rel=0.25)
    assert (tmp_path / "o" / "cv_specific_heat_corner.png").stat().st_size > 10_000


def test_profile_of_a_single_free_parameter():
    """One free parameter: its profile holds every parameter (regression: such rows
    were once mistaken for padding and returned chi^2 = 0)."""
    y0 = np.asarray(jtls.specific_heat(T30, 0.5, 0.0))
    y = y0 * (1 + 0.02 * np.random.default_rng(8).normal(size=T30.size))
    res = fit(Model("specific_heat", fixed={"mu": 0.0}), (T30, y), intervals="profile")
    assert res.ok, res.report()
    iv = res.intervals["B"]
    assert iv["low95"] < iv["low"] < res["B"] < iv["high"] < iv["high95"] < 1.0
    assert not iv["lower_minimum"]
    # one parameter, log weighting: the 68 % profile interval ~ B exp(+-stderr/B)
    assert iv["high"] / res["B"] == pytest.approx(math.exp(res.stderr["B"] / res["B"]), rel=0.02)


def test_velocity_profile_coverage_over_1200_draws():
    """The velocity fit of the issue (40 points, 0.05-3 K, sigma known, mu = 0.2 true):
    the 68.3 % and 95 % profile intervals of mu cover the truth in 68.3 +- 4 % and
    95 +- 2 % of the draws.  n = 1200 makes those the three-binomial-error tolerances
    (3 sqrt(p (1 - p) / n) = 4.0 % and 1.9 %).  A profile interval holds mu_true exactly
    when Delta chi^2(mu_true) = chi^2(mu held at mu_true) - chi^2_min is below the level,
    so the coverage needs two batched solves per draw (jtls.fit.batch.solve_many, started
    at the truth: only the optimum matters); that the intervals jtls reports are those
    level sets is checked on one draw with the full fit."""
    from jtls.fit.batch import solve_many
    from jtls.fit.profile import level_delta
    n, mu_true = 1200, 0.2
    truth = {"C": 3.2e-4, "mu": mu_true, "A": A_SILICA, "offset": 1e-4}
    y0 = _velocity(mu_true)
    rng = np.random.default_rng(2024)
    ds = [(T40, y0 + SIG * rng.normal(size=T40.size), np.full(T40.size, SIG)) for _ in range(n)]
    free = solve_many(MODEL, ds, initial=truth, start="first")
    held = solve_many(MODEL, ds, fix={"mu": mu_true}, initial=truth, start="first")
    assert (free.solver_status == 0).all() and (held.solver_status == 0).all()
    d = held.chi2 - free.chi2
    assert d.min() > -1e-6, d.min()                      # the free fit is the better one
    c68 = np.mean(d <= level_delta("68"))
    c95 = np.mean(d <= level_delta("95"))
    assert abs(c68 - 0.683) <= _binom_tol(0.683, n), c68
    assert abs(c95 - 0.95) <= _binom_tol(0.95, n), c95
    # the reported profile interval of one draw: its ends are where Delta chi^2 reaches the levels
    r = fit(MODEL, ds[0], intervals=["mu"])
    assert r.ok, r.status
    iv = r.intervals["mu"]
    assert (iv["low"] <= mu_true <= iv["high"]) == (d[0] <= level_delta("68"))
    for e, lev in ((iv["low"], "68"), (iv["high"], "68"), (iv["low95"], "95"), (iv["high95"], "95")):
        c = solve_many(MODEL, [ds[0]], fix={"mu": e}, initial=truth).chi2[0] - r.chi2
        assert c == pytest.approx(level_delta(lev), rel=2e-3), (e, lev, c)


@pytest.mark.parametrize("observable", ["thermal_conductivity", "specific_heat"])
def test_verdict_of_log_weighted_data_does_not_depend_on_their_unit(observable):
    """With constant relative errors (residuals ln y - ln f) a change of unit of y is a shift of
    ln B and nothing else: status, mu and its error must be the same for y, 1e10 y and 1e-30 y.
    (The rounding rules once read |y| as the residual scale: kappa x 1e10 was 'unidentified',
    mu = 0 'the curve does not depend on it'.)"""
    T = np.geomspace(0.06, 0.9, 24)
    f = jtls.thermal_conductivity if observable == "thermal_conductivity" else jtls.specific_heat
    y = np.asarray(f(T, 4e-3, 0.1)) * np.exp(0.03 * np.random.default_rng(0).normal(size=T.size))
    base = fit(Model(observable), (T, y))
    assert base.ok, base.report()
    for unit in (1e10, 1e-30, 1e30):
        res = fit(Model(observable), (T, unit * y))
        assert res.status == base.status and res.warnings == base.warnings, (unit, res.report())
        assert res["mu"] == pytest.approx(base["mu"], rel=1e-9, abs=1e-12), unit
        assert res.stderr["mu"] == pytest.approx(base.stderr["mu"], rel=1e-6), unit
        assert res["B"] * (1 / unit if observable == "specific_heat" else unit) == pytest.approx(base["B"], rel=1e-9)


def _kappa_draws():
    from jtls.observables.matthiessen import kappa_scattering
    rng = np.random.default_rng(3)
    T = np.geomspace(0.05, 3.0, 30)
    k0 = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.1)) * np.exp(0.03 * rng.standard_normal(T.size))
    kb = np.asarray(kappa_scattering(T, 4e-3, 0.1, E_b1=0.3, r_R=0.02)) * np.exp(0.03 * rng.standard_normal(T.size))
    return T, k0, kb


def test_a_95_interval_reaching_a_search_limit_is_found_without_asking_for_intervals():
    """kappa with boundary and Rayleigh scattering fitted with the boundary channel only: mu runs
    to 0.93, its linearised error 0.06 against the search limit 1.  The verdict must not depend on
    --intervals profile: the 95 % interval reaches the limit, so mu rests on an arbitrary bound."""
    T, _, kb = _kappa_draws()
    m = Model("thermal_conductivity_matthiessen", free=["E_b1"])
    plain = fit(m, (T, kb))
    asked = fit(m, (T, kb), intervals="profile")
    assert asked.status == "unidentified" and "mu" in asked.unidentified, asked.report()
    assert plain.status == asked.status and plain.unidentified == asked.unidentified, plain.report()
    assert "95 %" in plain.message


def test_a_one_sided_limit_that_could_not_be_computed_is_no_result():
    """Five points, four free parameters (Eq. 3 plus boundary and Rayleigh channels): E_b1 on its
    physical bound 0 with the 95 % limit 'not found'.  A parameter whose profile is its only
    uncertainty and whose 95 % limit failed is not determined: never 'ok'."""
    T, k0, _ = _kappa_draws()
    res = fit(Model("thermal_conductivity_matthiessen", free=["E_b1", "r_R"]), (T[::6], k0[::6]))
    assert res.status == "unidentified" and res.unidentified == ["E_b1"], res.report()
    assert "E_b1: its 95 % profile limit above the optimum could not be computed" in res.message
