"""Size buckets (issue 14, item 3): datasets padded with zero-weight points.

A fit pads every dataset to :func:`jtls.fit.objective.bucket_size` points so
that a new dataset of similar length reuses the compiled solve.  Checked
here: padding changes no result (values, errors, chi^2, dof, n_points,
residuals, lack-of-fit tests, AICc, profile intervals, held solves on a
bound, bootstrap resamples) beyond rounding, and a second dataset of another
length in the same bucket compiles nothing new (counted with the jitted
programs' cache sizes, not with time).
"""
import math
import os

import numpy as np
import pytest
import jax
import jax.numpy as jnp

from jtls.fit import build_problem, compare, fit, register_observable
from jtls.fit import constrained, kernel, objective
from jtls.fit.batch import bootstrap, resample_weights
from jtls.fit.engine import GUESS_POINTS, guess_points
from jtls.fit.model import REGISTRY


def _bk(T, a, b):
    # a log and a cubic roll-off; b has the physical bound b >= 0
    return a * jnp.log(T) - b * T**3 / (1.0 + T**3)


if "_bucket_toy" not in REGISTRY:
    register_observable("_bucket_toy", _bk, ("a", "b"), relative=True, bounds={"b": (0.0, 10.0)},
                        defaults={"a": 1.0, "b": 1.0}, physical={"b": (True, False)})


def _data(n, b=0.2, seed=0):
    rng = np.random.default_rng(seed)
    T = np.geomspace(0.05, 3.0, n)
    return T, 0.3 * np.log(T) - b * T**3 / (1 + T**3) + 1.5 + 0.01 * rng.normal(size=n)


def test_bucket_sizes():
    sizes = [objective.bucket_size(n) for n in range(1, 5000)]
    assert all(s >= n for n, s in zip(range(1, 5000), sizes))
    assert all(b >= a for a, b in zip(sizes, sizes[1:]))                       # monotone
    assert all(s <= max(objective.BUCKET_MIN, 1.25 * n) for n, s in zip(range(1, 5000), sizes))
    assert len(set(sizes)) < 60                                                  # few programs
    assert objective.bucket_size(40) == 40 and objective.bucket_size(37) == 40
    assert objective.bucket_size(41) == 48


def test_padding_changes_no_result(monkeypatch):
    T, y = _data(37, b=0.05)                       # bucket 40: 3 padding points
    padded = fit("_bucket_toy", (T, y), intervals="profile")
    monkeypatch.setattr(objective, "BUCKETS_PER_OCTAVE", 0)
    plain = fit("_bucket_toy", (T, y), intervals="profile")
    assert objective.bucket_size(37) == 37
    assert padded.status == plain.status == "ok"
    assert padded.n_points == plain.n_points == 37 and padded.dof == plain.dof == 37 - 3
    assert len(padded.residuals["data"]) == 37
    np.testing.assert_allclose(padded.residuals["data"], plain.residuals["data"], rtol=0, atol=1e-12)
    assert math.isclose(padded.chi2, plain.chi2, rel_tol=1e-10)
    for k in plain.free:
        assert math.isclose(padded[k], plain[k], rel_tol=1e-8, abs_tol=1e-12), k
        assert math.isclose(padded.stderr[k], plain.stderr[k], rel_tol=1e-6), k
        for q in ("low", "high", "low95", "high95"):
            a, b = padded.intervals[k][q], plain.intervals[k][q]
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9), (k, q, a, b)
    lof_p, lof_u = padded.tests["lack_of_fit"], plain.tests["lack_of_fit"]
    assert set(lof_p) == set(lof_u)
    for key, v in lof_u.items():
        if isinstance(v, float):
            assert math.isclose(lof_p[key], v, rel_tol=1e-9), key
    ca, cb = compare({"m": padded}), compare({"m": plain})
    assert math.isclose(ca.candidates["m"].aicc, cb.candidates["m"].aicc, rel_tol=1e-12)


def test_fit_on_a_physical_bound_ignores_padding(monkeypatch):
    T, y = _data(37, b=0.0, seed=3)
    T, y = T, y + 0.01 * T**3 / (1 + T**3)          # pushes b below 0: held on its bound
    padded = fit("_bucket_toy", (T, y))
    monkeypatch.setattr(objective, "BUCKETS_PER_OCTAVE", 0)
    plain = fit("_bucket_toy", (T, y))
    assert padded.values["b"] == plain.values["b"] == 0.0
    assert padded.dof == plain.dof and padded.n_points == 37
    assert math.isclose(padded.chi2, plain.chi2, rel_tol=1e-10)
    assert math.isclose(padded["a"], plain["a"], rel_tol=1e-9)
    np.testing.assert_allclose(padded.residuals["data"], plain.residuals["data"], atol=1e-12)


def _compiled():
    return (kernel.solve_kernel._cache_size() + kernel.solve_program._cache_size()
            + constrained._solve_program.cache_size())


def test_second_length_in_the_same_bucket_does_not_compile():
    fit("_bucket_toy", _data(35, seed=1))           # bucket 40
    before = _compiled()
    res = fit("_bucket_toy", _data(38, seed=2))     # another length, same bucket
    assert res.n_points == 38 and len(res.residuals["data"]) == 38
    assert _compiled() == before
    fit("_bucket_toy", _data(45, seed=2))           # bucket 48: compiles (the count sees it)
    assert _compiled() > before


def test_bootstrap_ignores_padding(monkeypatch):
    T, y = _data(37)
    key = jax.random.PRNGKey(5)
    res_p, bs_p = bootstrap(key, "_bucket_toy", (T, y), n=24)
    monkeypatch.setattr(objective, "BUCKETS_PER_OCTAVE", 0)
    res_u, bs_u = bootstrap(key, "_bucket_toy", (T, y), n=24)
    se = np.array([res_u.stderr[k] for k in bs_u.names])
    assert bs_p.converged.all() and bs_u.converged.all()
    assert np.max(np.abs(bs_p.samples - bs_u.samples) / se) < 1e-6
    np.testing.assert_allclose(bs_p.chi2, bs_u.chi2, rtol=1e-8)
    assert np.std(bs_u.samples[:, 0]) > 0.1 * se[0]            # the resamples do differ


def test_resample_weights_count_real_points_only():
    key = jax.random.PRNGKey(0)
    w = resample_weights(key, [7, 5], 0, 6)
    assert w.shape == (6, 12)
    np.testing.assert_array_equal(w[:, :7].sum(axis=1), 7)
    np.testing.assert_array_equal(w[:, 7:].sum(axis=1), 5)
    assert np.all(w == np.round(w)) and w.min() >= 0
    # resample i does not depend on how the resamples are cut into calls
    np.testing.assert_array_equal(resample_weights(key, [7, 5], 2, 3), w[2:5])
    assert not np.array_equal(w[0], w[1])


def test_guess_thins_long_data_only():
    T = np.linspace(1.0, 2.0, 1000)
    Tg, yg = guess_points(T, 2 * T)
    assert Tg.size == GUESS_POINTS and Tg[0] == T[0] and Tg[-1] == T[-1]
    assert np.all(np.diff(Tg) > 0) and np.array_equal(yg, 2 * Tg)
    Ts = T[:100]
    assert guess_points(Ts, Ts)[0] is Ts


@pytest.mark.parametrize("n", [300])
def test_long_fit_with_thinned_guess_recovers_the_parameters(n):
    T, y = _data(n, b=0.2, seed=4)
    res = fit("_bucket_toy", (T, y))
    assert res.ok and res.n_points == n
    assert abs(res["a"] - 0.3) < 5 * res.stderr["a"] and abs(res["b"] - 0.2) < 5 * res.stderr["b"]


def test_prefetched_held_program_is_the_one_the_verdict_runs(monkeypatch):
    # the verdict's held solve (mu = 0) is compiled in a background thread while the solve
    # compiles (engine.PREFETCH); the verdict must then find that very program compiled: one
    # compilation of it in all, and the same result as without the prefetch
    import jtls
    from jtls.fit import Model, engine
    T = np.geomspace(0.1, 1.0, 21)
    y = np.asarray(jtls.specific_heat(T, 2.0, 0.15)) * (1 + 0.01 * np.random.default_rng(3).normal(size=21))
    model = Model("specific_heat", bounds={"B": (0.0, 12345.678)})     # a structure new to this process
    monkeypatch.setattr(engine, "PREFETCH", True)
    c0, p0 = constrained._solve_program.cache_size(), len(constrained._prefetched)
    res = fit(model, (T, y))
    res_spec = build_problem(model, (T, y)).spec
    assert len(constrained._prefetched) - p0 == 1     # one program compiled ahead ...
    assert constrained._solve_program.cache_size() - c0 == 1    # ... and it is the one the verdict ran
    assert not any(k[1] == res_spec for k in constrained._prefetching)   # its thread was waited for
    monkeypatch.setattr(engine, "PREFETCH", False)
    res2 = fit(model, (T, y))
    assert res.status == res2.status == "ok"
    assert res.values == res2.values and res.stderr == res2.stderr


@pytest.mark.parametrize("case", ["nan", "no_dof"])
def test_a_fit_that_ends_before_its_held_solve_exits_cleanly(case, tmp_path):
    """A verdict that stops early (status nan: kappa ~ 1/B with B fixed at 0; no_dof) leaves the
    held-solve prefetch unused; the process must still exit with its own status, not abort while
    the background thread compiles (it did: SIGABRT, exit 134)."""
    import subprocess
    import sys
    code = ("import numpy as np, jtls, sys\n"
            "from jtls.fit import Model, fit, engine\n"
            "assert engine.PREFETCH\n"
            "T = np.geomspace(0.1, 1.0, 12)\n"
            "y = np.asarray(jtls.thermal_conductivity(T, 4e-3, 0.1))\n"
            + ("r = fit(Model('thermal_conductivity'), (T, y), fix={'B': 0.0})\n" if case == "nan" else
               "r = fit(Model('thermal_conductivity'), (T[:2], y[:2]))\n")
            + "print(r.status)\nsys.exit(7)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env["JTLS_JAX_CACHE"] = "off"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=300)
    assert p.returncode == 7 and p.stdout.split() == [case], (p.returncode, p.stdout, p.stderr[-2000:])
    assert "terminate" not in p.stderr and "FATAL" not in p.stderr, p.stderr[-2000:]


def test_fit_many_pads_each_dataset_only_to_its_own_bucket(monkeypatch):
    """Datasets of other size buckets are solved in calls of their own (a 300-point dataset among
    20-point ones does not make every solve a 320-point one); an ordered chain (start="previous")
    stays one chain, padded to the largest.  Results, in order, are those of fit()."""
    from jtls.fit import batch
    seen = []
    orig = batch._many_program

    def spy(key, *args, **kw):
        seen.append(key[3])                          # the padded lengths of the call
        return orig(key, *args, **kw)
    monkeypatch.setattr(batch, "_many_program", spy)
    data = [_data(20, seed=1), _data(20, seed=2), _data(300, seed=3), _data(20, seed=4)]
    many = batch.fit_many("_bucket_toy", data)
    assert set(seen) == {(objective.bucket_size(20),), (objective.bucket_size(300),)}
    for d, r in zip(data, many):
        one = fit("_bucket_toy", d)
        assert r.n_points == one.n_points == len(d[0]) and r.status == one.status
        for k in ("a", "b"):
            assert abs(r[k] - one[k]) <= 1e-5 * one.stderr[k], k
    seen.clear()
    chain = batch.fit_many("_bucket_toy", data, start="previous")
    assert set(seen) == {(objective.bucket_size(300),)}
    assert [r.n_points for r in chain] == [20, 20, 300, 20]
