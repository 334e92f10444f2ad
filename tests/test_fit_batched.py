"""Batched solves (issue 14, item 2): bootstrap and fit_many in chunked one-kernel calls.

The bootstrap solves resamples one after another inside one compiled call,
each Levenberg-Marquardt starting from the optimum's residuals and Jacobian
times its weights instead of evaluating its start point.  Checked: the
samples are those of the unbatched solver run resample by resample (its own
start evaluation), the start state saves exactly one evaluation, vmapped
batches (the accelerator setting) give the same samples, progress is
reported per call, and chunking does not change results.
"""
import math

import numpy as np
import pytest
import jax
import jax.numpy as jnp

from jtls.fit import build_problem, fit, register_observable
from jtls.fit import batch
from jtls.fit.batch import bootstrap, bootstrap_problem, fit_many, resample_weights
from jtls.fit.engine import run_problem
from jtls.fit.model import REGISTRY
from jtls.fit.objective import Arrays
from jtls.fit.solvers import levenberg_marquardt, r_and_jx


def _bt(T, a, b):
    return a * jnp.log(T) - b * T**3 / (1.0 + T**3)


if "_batched_toy" not in REGISTRY:
    register_observable("_batched_toy", _bt, ("a", "b"), relative=True, bounds={"b": (0.0, 10.0)},
                        defaults={"a": 1.0, "b": 1.0})

T40 = np.geomspace(0.05, 3.0, 40)


def _data(seed=0, n=40):
    rng = np.random.default_rng(seed)
    T = T40 if n == 40 else np.geomspace(0.05, 3.0, n)
    return T, 0.3 * np.log(T) - 0.2 * T**3 / (1 + T**3) + 1.5 + 0.01 * rng.normal(size=T.size)


def _solved(seed=0):
    p = build_problem("_batched_toy", _data(seed))
    return p, run_problem(p)


def _unbatched(p, res, weights, opts):
    """Each resample solved on its own by the plain LM (its own start evaluation)."""
    spec, arr = p.spec, p.arrays
    u = jnp.asarray(spec.transform().to_internal(np.array([res.values[k] for k in p.free_names])))

    @jax.jit
    def one(w):
        a = Arrays((arr.terms[0]._replace(sqrt_w=jnp.sqrt(w)),), arr.x_all)
        out = levenberg_marquardt(spec, u, a, opts)
        return spec.transform().to_physical(out.u), out.chi2, out.n_steps

    return [tuple(np.asarray(v) for v in one(jnp.asarray(w))) for w in weights]


def test_bootstrap_equals_the_unbatched_solver():
    p, res = _solved()
    key = jax.random.PRNGKey(7)
    bs = bootstrap_problem(key, p, res, 12)
    ref = _unbatched(p, res, resample_weights(key, [40], 0, 12), batch.BOOTSTRAP_OPTIONS)
    se = np.array([res.stderr[k] for k in p.free_names])
    assert bs.converged.all()
    for i, (x, chi2, steps) in enumerate(ref):
        assert np.max(np.abs(bs.samples[i] - x) / se) < 1e-8, i
        assert math.isclose(bs.chi2[i], float(chi2), rel_tol=1e-9)
        assert bs.n_steps[i] == int(steps)              # same iterations (without the start evaluation)
    assert np.ptp(bs.samples[:, 0]) > 0.5 * se[0]       # resamples differ


def test_start_state_replaces_the_start_evaluation():
    p, res = _solved(1)
    spec, arr = p.spec, p.arrays
    u0 = jnp.asarray(p.u0)
    a = p.arrays
    lm = jax.jit(levenberg_marquardt, static_argnums=(0, 3))
    plain = lm(spec, u0, a, batch.SolverOptions())
    r0, J0, _ = jax.jit(r_and_jx, static_argnums=0)(spec, u0, arr)
    started = lm(spec, u0, a, batch.SolverOptions(), start=(r0, J0))
    np.testing.assert_allclose(np.asarray(started.u), np.asarray(plain.u), rtol=1e-10)
    assert int(started.n_steps) == int(plain.n_steps) > 0     # n_steps counts the steps after the start
    # start_ok: the start state is used only where it is true; false evaluates u0 as without it
    for ok in (True, False):
        gated = lm(spec, u0, a, batch.SolverOptions(), start=(r0, 2.0 * J0), start_ok=jnp.asarray(ok))
        given = lm(spec, u0, a, batch.SolverOptions(), start=(r0, 2.0 * J0))
        ref = given if ok else plain
        np.testing.assert_array_equal(np.asarray(gated.u), np.asarray(ref.u))
        assert int(gated.n_steps) == int(ref.n_steps)
    # the returned Jx holds d r / d x at the solution (J: d r / d u)
    _, Jx_sol, dxdu = jax.jit(r_and_jx, static_argnums=0)(spec, plain.u, arr)
    np.testing.assert_allclose(np.asarray(plain.Jx), np.asarray(Jx_sol), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(plain.J), np.asarray(Jx_sol * dxdu), rtol=1e-12)
    # a wrong start state is used as given (it is not re-evaluated): the first step differs
    worse = lm(spec, u0, a, batch.SolverOptions(max_steps=1), start=(r0, 2.0 * J0))
    once = lm(spec, u0, a, batch.SolverOptions(max_steps=1), start=(r0, J0))
    assert not np.allclose(np.asarray(worse.u), np.asarray(once.u))
    assert int(started.status) == int(plain.status) == 0


def test_chunks_and_progress(monkeypatch):
    p, res = _solved(2)
    key = jax.random.PRNGKey(3)
    whole = bootstrap_problem(key, p, res, 10)
    monkeypatch.setattr(batch, "BOOTSTRAP_CHUNK", 4)
    calls = []
    cut = bootstrap_problem(key, p, res, 10, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 10), (8, 10), (10, 10)]
    np.testing.assert_allclose(cut.samples, whole.samples, rtol=1e-12)
    # fit(bootstrap=...) forwards it
    calls.clear()
    r = fit("_batched_toy", _data(2), bootstrap=6, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(4, 6), (6, 6)] and r.bootstrap["n"] == 6


def test_fit_many_chunks_progress_and_equals_single_fits(monkeypatch):
    monkeypatch.setattr(batch, "FIT_CHUNK", 2)
    data = [_data(s) for s in range(3)]
    data[2] = _data(2, n=29)                     # another length: padded to the common bucket
    calls = []
    many = fit_many("_batched_toy", data, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(2, 3), (3, 3)]
    for d, r in zip(data, many):
        single = fit("_batched_toy", d)
        assert r.n_points == single.n_points == d[0].size and r.dof == single.dof
        assert len(r.residuals[r.labels[0]]) == d[0].size
        assert math.isclose(r.chi2, single.chi2, rel_tol=1e-9)
        np.testing.assert_allclose([r[k] for k in r.free], [single[k] for k in r.free], rtol=1e-7)


def test_vmapped_batches_give_the_same_samples(monkeypatch):
    p, res = _solved(4)
    key = jax.random.PRNGKey(11)
    mapped = bootstrap_problem(key, p, res, 8)
    monkeypatch.setattr(batch, "BATCH", 4)
    before = batch._bootstrap_program.cache_size()
    vmapped = bootstrap_problem(key, p, res, 8)
    assert batch._bootstrap_program.cache_size() > before      # a separate (vmapped) program ran
    se = np.array([res.stderr[k] for k in p.free_names])
    assert np.max(np.abs(mapped.samples - vmapped.samples) / se) < 1e-8


def test_bootstrap_compiles_once_per_bucket():
    bootstrap(jax.random.PRNGKey(0), "_batched_toy", _data(5, n=35), n=5)     # bucket 40
    before = batch._bootstrap_program.cache_size()
    _, bs = bootstrap(jax.random.PRNGKey(0), "_batched_toy", _data(6, n=39), n=5)
    assert batch._bootstrap_program.cache_size() == before and bs.converged.all()


def test_bootstrap_rejects_bad_n_and_undetermined_fits():
    p, res = _solved()
    for n in (0, 1, -3):      # one resample has no spread (its std was a silent NaN)
        with pytest.raises(ValueError, match="n must be >= 2"):
            bootstrap_problem(jax.random.PRNGKey(0), p, res, n)
    for n in (2.7, "10", True):
        with pytest.raises(ValueError, match="whole number"):
            bootstrap_problem(jax.random.PRNGKey(0), p, res, n)
    # a fit that determines nothing (one point) is not resampled into zero-width "intervals"
    import jtls
    T1 = np.array([0.5])
    with pytest.raises(ValueError, match="status is 'no_dof'"):
        bootstrap(jax.random.PRNGKey(0), "thermal_conductivity", (T1, np.asarray(jtls.thermal_conductivity(T1, 2.0, 0.1))), n=5)


def test_bootstrap_of_a_fit_on_the_physical_bound():
    # mu = 0 (the standard tunneling model) on its physical bound is an ok fit: the resamples
    # start just inside the bound (this raised "math domain error" and lost the fit)
    import jtls
    from jtls.fit import fit
    T = np.geomspace(0.1, 2.0, 24)
    # (seed 13: a draw whose optimum lies on the bound; others put mu just inside)
    y = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.0)) * (1 + 0.03 * np.random.default_rng(13).normal(size=24))
    res = fit("thermal_conductivity", (T, y), bootstrap=200)
    assert res.status == "ok" and "mu" in res.at_bound, (res.status, res.at_bound)
    lo, hi = res.bootstrap["intervals"]["mu"]
    assert 0.0 <= lo <= 1e-6 < hi < 0.1      # the resampled mu piles up at the bound
    blo, bhi = res.bootstrap["intervals"]["B"]
    assert blo < res.values["B"] < bhi


def _kappa_series():
    """An ordered series of kappa curves (B, mu free; 3 % noise): mu drifting, mu = 0 (with this
    seed once inside, once on its physical bound), a constant curve (mu runs into its search
    limit 1) in the middle, then mu again."""
    import jtls
    T = np.geomspace(0.1, 2.0, 24)
    rng = np.random.default_rng(7)
    out = []
    for mu in (0.15, 0.12, 0.0, 0.0, None, 0.1):
        y = np.full(T.size, 3.0) if mu is None else np.asarray(jtls.thermal_conductivity(T, 2.0, mu))
        out.append((T, y * (1 + 0.03 * rng.normal(size=T.size))))
    return out


def test_fit_many_previous_starts_give_the_verdicts_of_single_fits():
    """start="previous" (each solve and each held solve of the verdict starts at the previous
    dataset's solution): the statuses, bounds, tests and values are those of fit() on each
    dataset, also across a dataset on the physical bound and a degenerate one."""
    data = _kappa_series()
    many = fit_many("thermal_conductivity", data, start="previous")
    singles = [fit("thermal_conductivity", d) for d in data]
    assert [r.status for r in many] == [s.status for s in singles]
    assert singles[3].at_bound == ["mu"] and singles[4].status == "at_limit"    # the series has both
    for r, s in zip(many, singles):
        assert r.at_bound == s.at_bound and r.message == s.message
        if not s.ok:                # not a result: where on the search limit the solver stopped may differ
            continue
        assert sorted(r.tests) == sorted(s.tests)
        assert math.isclose(r.chi2, s.chi2, rel_tol=1e-8)
        for k in r.free:
            tol = 1e-4 * s.stderr[k] if s.stderr[k] and math.isfinite(s.stderr[k]) else 1e-7 * abs(s[k])
            assert abs(r[k] - s[k]) <= tol + 1e-12, (k, r[k], s[k])
        for name, t in s.tests.items():
            if "statistic" in t:
                assert abs(r.tests[name]["statistic"] - t["statistic"]) <= 1e-6 * max(1.0, t["statistic"]), name


def test_fit_many_rejects_an_unknown_start():
    with pytest.raises(ValueError, match="start must be one of 'each', 'first', 'previous'"):
        fit_many("_batched_toy", [_data(0)], start="last")


def test_fit_many_with_every_parameter_held_gives_the_verdicts_of_fit():
    """Nothing free (a model checked against data): no solve, the residuals judged as fit() does
    (it raised inside the compiled batch before)."""
    data = _kappa_series()[:3]
    held = {"B": 2.0, "mu": 0.1}
    singles = [fit("thermal_conductivity", d, fix=held) for d in data]
    for start in ("each", "previous"):
        many = fit_many("thermal_conductivity", data, start=start, fix=held)
        assert [r.status for r in many] == [s.status for s in singles]
        assert [r.dof for r in many] == [s.dof for s in singles] == [24] * 3
        for r, s in zip(many, singles):
            assert r.free == [] and math.isclose(r.chi2, s.chi2, rel_tol=1e-12)


def test_fit_many_names_the_bad_dataset():
    import jtls
    T = np.geomspace(0.1, 1.0, 12)
    y = np.asarray(jtls.specific_heat(T, 2.0, 0.1))
    bad = y.copy()
    bad[3] = np.nan
    for start in ("each", "previous"):
        with pytest.raises(ValueError, match=r"datasets\[2\]: dataset 'data': value is not finite at point 3"):
            fit_many("specific_heat", [(T, y), (T, y), (T, bad)], start=start)
    with pytest.raises(ValueError, match=r"datasets\[0\]: .*log weighting"):
        batch.solve_many("specific_heat", [(T, -y), (T, y)])


def test_fit_many_names_keyword_arguments_it_does_not_take():
    # intervals / bootstrap are fit() options: a clear message, not a TypeError from build_problem
    from jtls.fit.batch import solve_many
    T = np.geomspace(0.1, 1.0, 8)
    for f, kw in ((fit_many, {"intervals": "profile"}), (solve_many, {"bootstrap": 10})):
        with pytest.raises(ValueError, match="unknown keyword argument"):
            f("specific_heat", [(T, 2.0 * T)], **kw)


def test_bootstrap_resamples_with_too_few_distinct_points_never_count():
    """Three points, two free parameters: a resample drawing only one or two distinct points
    (21 of 27 equally likely draws) determines nothing, and its refit 'converges' anywhere.
    Those resamples are marked DEGENERATE and left out; the rest are the 3! permutations of the
    data, so the interval has zero width -- and the fit says so."""
    import jtls
    from jtls.fit import Model
    T = np.geomspace(0.1, 1.0, 3)
    y = np.asarray(jtls.specific_heat(T, 1e-3, 0.1)) * np.exp(0.02 * np.random.default_rng(1).normal(size=3))
    key = jax.random.PRNGKey(5)
    res, bs = bootstrap(key, Model("specific_heat"), (T, y), n=300)
    distinct = (resample_weights(key, [3], 0, 300) > 0).sum(axis=1)
    assert np.array_equal(bs.status == batch.DEGENERATE, distinct <= 2)
    assert np.array_equal(bs.converged, distinct == 3)
    # 6 of 27 draws have all three points: 300 * 6/27 within three binomial errors
    p = 6 / 27
    assert abs(bs.converged.sum() - 300 * p) <= 3 * math.sqrt(300 * p * (1 - p))
    assert res.bootstrap["n_degenerate"] == int((distinct <= 2).sum())
    fitted = fit(Model("specific_heat"), (T, y), bootstrap=300, key=key)
    assert any("too few data for a bootstrap" in w for w in fitted.warnings), fitted.warnings
    # a zero-width interval is no result: not returned, not shown as [x, x]
    assert fitted.bootstrap["intervals"] == {"B": None, "mu": None}
    assert "no bootstrap interval for B, mu" in " ".join(fitted.warnings)
    shown = fitted.report().split("percentile intervals:")[1]
    assert shown.count("none (zero width") == 2 and "[" not in shown.split("excluded points")[0]
    assert fitted.summary_dict()["bootstrap"]["intervals"]["B"] is None


def test_shifted_start_is_the_residual_of_the_new_values_and_only_for_the_same_points():
    """The start state of a solve of data that differ from a solved problem's only in y: its
    residuals are the old ones shifted by the change of y, equal to an evaluation of the model;
    any other difference (temperatures, sigma, a fixed value) gives None (evaluate instead)."""
    import jtls
    from jtls.fit.constrained import SolvedState, shifted_start
    from jtls.fit.objective import residual_u
    T = np.geomspace(0.1, 2.0, 16)
    rng = np.random.default_rng(3)
    y = np.asarray(jtls.thermal_conductivity(T, 2.0, 0.1))
    y1, y2 = (y * (1 + 0.03 * rng.normal(size=T.size)) for _ in range(2))
    sig = 0.03 * y
    p1, p2 = (build_problem("thermal_conductivity", (T, v, sig)) for v in (y1, y2))
    u = np.asarray(p1.u0) + 0.1
    r1 = np.asarray(residual_u(p1.spec, jnp.asarray(u), p1.arrays))
    _, Jx, _ = r_and_jx(p1.spec, jnp.asarray(u), p1.arrays)
    state = SolvedState(u, p1.arrays, r1, np.asarray(Jx))
    r2 = np.asarray(residual_u(p2.spec, jnp.asarray(u), p2.arrays))
    np.testing.assert_allclose(shifted_start(p2.spec, p2.arrays, state), r2, rtol=1e-12, atol=1e-12 * np.abs(r2).max())
    assert not np.allclose(r1, r2)
    other_T = build_problem("thermal_conductivity", (T * 1.01, y2, sig))
    other_sigma = build_problem("thermal_conductivity", (T, y2, 2 * sig))
    assert shifted_start(other_T.spec, other_T.arrays, state) is None
    assert shifted_start(other_sigma.spec, other_sigma.arrays, state) is None
    h1, h2 = (build_problem("thermal_conductivity", (T, y2, sig), fix={"mu": m}) for m in (0.1, 0.2))
    held = SolvedState(np.asarray(h1.u0), h1.arrays, np.zeros(T.size), np.zeros((T.size, 1)))
    assert shifted_start(h2.spec, h2.arrays, held) is None
    assert shifted_start(h1.spec, h1.arrays, held) is not None
