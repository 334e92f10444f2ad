"""The fast path of jtls.fit: structure cache, skipped guesses, single-kernel solve,
grouped terms, covariance from the compiled call, static settings, 7 x 7 solves.

Reference values: the same fits by the ordinary compiled program
(``jtls.fit.kernel.USE_SINGLE_KERNEL = False``, the XLA thunk runtime), by the
per-term evaluation (``Spec.groups = ()``), by numpy (``numpy.linalg.solve``,
``jtls.fit.result.covariance_from_jacobian``), or by a fresh build with the
caches cleared -- i.e. every fast path is checked against the slower code it
replaces.
"""
import dataclasses
import math

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import jtls  # noqa: F401  (float64)
from jtls.fit import Model, build_problem, fit, register_observable
from jtls.fit import kernel, structure
from jtls.fit.engine import as_points, run_problem
from jtls.fit.model import REGISTRY
from jtls.fit.objective import jax_residual_x
from jtls.fit.solvers import spd_inverse, spd_solve


def _fp_curve(T, a, b, c, P):
    # a joint-fit stand-in: a log, a power-law roll-off and a per-dataset setting P
    return a * jnp.log(T) + b * T ** c / (1.0 + 0.1 * P)


def _fp_scatter(T, a, b):
    # an update at several indices is a scatter, which the single-kernel emitter
    # does not implement (XLA error "Unhandled opcode ... scatter")
    return (a * T + b).at[jnp.asarray([0, 3])].add(0.0 * a * T[:2])


def _fp_static(T, a, S):
    # S is a static setting: a Python float here, so Python control flow works
    assert isinstance(S, float)
    return a * T if S == 0.0 else a * T + S * T**2


for _name, _f, _p, _kw in (
        ("_fp_curve", _fp_curve, ("a", "b", "c"),
         dict(context=("P",), relative=True, bounds={"c": (0.5, 4.0)},
              defaults={"a": 0.1, "b": 0.1, "c": 2.0})),
        ("_fp_scatter", _fp_scatter, ("a", "b"), dict(defaults={"a": 1.0, "b": 0.0})),
        ("_fp_static", _fp_static, ("a",), dict(context=("S",), static_context=("S",),
                                                defaults={"a": 1.0})),
):
    if _name not in REGISTRY:
        register_observable(_name, _f, _p, **_kw)

T30 = np.geomspace(0.1, 2.0, 30)


def _joint_terms(seed, n=3, length=30):
    rng = np.random.default_rng(seed)
    terms = []
    for k in range(n):
        T = T30[:length - k] if length else T30
        y = 0.3 * np.log(T) + 0.5 * T**2 / (1 + 0.1 * k) + 0.7 + 0.002 * rng.normal(size=T.size)
        terms.append((Model("_fp_curve", P=float(k)), (T, y), f"d{k}"))
    return terms


START = {"a": 0.2, "b": 0.4, "c": 1.5, "offset[d0]": 0.5, "offset[d1]": 0.5, "offset[d2]": 0.5}


def _same(r1, r2, rtol):
    assert r1.status == r2.status and r1.n_steps == r2.n_steps
    assert abs(r1.chi2 - r2.chi2) <= rtol * r2.chi2
    for k in r2.free:
        assert r1.values[k] == pytest.approx(r2.values[k], rel=rtol, abs=1e-14), k
        assert r1.stderr[k] == pytest.approx(r2.stderr[k], rel=max(rtol, 1e-9)), k


def test_single_kernel_matches_ordinary_program(monkeypatch):
    terms = _joint_terms(0)
    fast = fit(terms, share=["a", "b", "c"], initial=START)
    monkeypatch.setattr(kernel, "USE_SINGLE_KERNEL", False)
    slow = fit(terms, share=["a", "b", "c"], initial=START)
    assert fast.ok and slow.ok
    # same iterations; dot products summed in another order -> rounding-level differences
    _same(fast, slow, rtol=1e-9)


def test_guess_skipped_when_start_values_complete(monkeypatch):
    terms = _joint_terms(1)
    ref = fit(terms, share=["a", "b", "c"], initial=START)

    def no_guess(self, *a, **k):
        raise AssertionError("automatic guess called although every start value was given")
    monkeypatch.setattr(Model, "guess", no_guess)
    res = fit(terms, share=["a", "b", "c"], initial=START)
    assert res.values == ref.values and res.chi2 == ref.chi2
    # one start value missing: the guess is needed (and raises here)
    partial = {k: v for k, v in START.items() if k != "c"}
    with pytest.raises(AssertionError, match="automatic guess"):
        fit(terms, share=["a", "b", "c"], initial=partial)


def test_cached_structure_reused_for_new_data_of_same_shape():
    structure.STRUCTURES.clear()
    r1 = fit(_joint_terms(2), share=["a", "b", "c"], initial=START)
    n_cached = len(structure.STRUCTURES)
    terms_b = [(Model("_fp_curve", P=float(k)), d, lab) for k, (_, d, lab) in enumerate(_joint_terms(3))]
    # new Model objects: a new structure entry; the same objects again: reused
    r2 = fit(terms_b, share=["a", "b", "c"], initial=START)
    assert len(structure.STRUCTURES) == n_cached + 1
    terms_c = [(m, d, lab) for (m, _, lab), (_, d, _) in zip(terms_b, _joint_terms(4))]
    r3 = fit(terms_c, share=["a", "b", "c"], initial=START)
    assert len(structure.STRUCTURES) == n_cached + 1
    # the cached path gives exactly what a fresh build gives
    structure.STRUCTURES.clear()
    r3_fresh = fit(terms_c, share=["a", "b", "c"], initial=START)
    assert r3.values == r3_fresh.values and r3.stderr == r3_fresh.stderr and r3.chi2 == r3_fresh.chi2
    assert r1.values != r3.values  # new data, new result


def test_grouped_terms_equal_per_term_evaluation():
    # unequal lengths: the vmapped group pads and slices
    problem = build_problem(_joint_terms(5, length=30), share=["a", "b", "c"], initial=START)
    assert len(problem.spec.groups) == 1 and problem.spec.groups[0].terms == (0, 1, 2)
    assert problem.spec.groups[0].uniform == (False,)  # P differs per dataset
    per_term = dataclasses.replace(problem.spec, groups=())
    x = jnp.asarray([0.25, 0.45, 1.7, 0.6, 0.65, 0.7])
    r_grouped = np.asarray(jax_residual_x(problem.spec, x, problem.arrays))
    r_single = np.asarray(jax_residual_x(per_term, x, problem.arrays))
    np.testing.assert_allclose(r_grouped, r_single, rtol=1e-14, atol=1e-15)


def test_kernel_falls_back_for_unsupported_operation():
    kernel.KERNEL_FAILED.clear()
    T = np.linspace(0.5, 2.0, 20)
    res = fit("_fp_scatter", (T, 2.0 * T + 0.5), initial={"a": 1.0, "b": 0.0})
    assert res.ok and res["a"] == pytest.approx(2.0, rel=1e-9) and res["b"] == pytest.approx(0.5, rel=1e-8)
    assert len(kernel.KERNEL_FAILED) == 1  # remembered: the next fit goes straight to the ordinary program


def test_covariance_equals_inverse_of_jacobian_normal_matrix():
    """The reported covariance is (J^T J)^-1 (sigma given: not rescaled), with J
    the Jacobian of the weighted residuals in the physical parameters, here
    taken from an independent forward-mode differentiation at the optimum."""
    from jtls.fit.objective import residual_x
    problem = build_problem(_joint_terms(6), share=["a", "b", "c"], initial=START)
    res = jtls.fit.engine.run_problem(problem)
    assert res.ok, res.report()
    xf = jnp.asarray([res.values[k] for k in res.free])
    J = np.asarray(jax.jacfwd(lambda v: residual_x(problem.spec, v, problem.arrays))(xf))
    cov = np.linalg.inv(J.T @ J)
    if not res.absolute_sigma:
        cov = cov * res.chi2 / res.dof
    np.testing.assert_allclose(np.asarray(res.covariance), cov, rtol=1e-8, atol=0)


def test_spd_solve_against_numpy():
    rng = np.random.default_rng(7)
    M = rng.normal(size=(2, 7, 7))
    A = M @ np.swapaxes(M, 1, 2) + 0.1 * np.eye(7)
    b = rng.normal(size=(2, 7))
    np.testing.assert_allclose(np.asarray(spd_solve(jnp.asarray(A), jnp.asarray(b))),
                               np.linalg.solve(A, b[..., None])[..., 0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(spd_inverse(jnp.asarray(A[0]))), np.linalg.inv(A[0]),
                               rtol=1e-10, atol=1e-12)


def test_static_setting_is_a_python_float_and_selects_the_model():
    T = np.linspace(0.5, 2.0, 20)
    r0 = fit(Model("_fp_static", S=0.0), (T, 3.0 * T), initial={"a": 1.0})
    r1 = fit(Model("_fp_static", S=0.5), (T, 3.0 * T + 0.5 * T**2), initial={"a": 1.0})
    assert r0["a"] == pytest.approx(3.0, rel=1e-10) and r1["a"] == pytest.approx(3.0, rel=1e-10)
    with pytest.raises(ValueError, match="static_context"):
        register_observable("_fp_bad_static", _fp_static, ("a",), context=("S",), static_context=("Q",))


def test_fast_validation_reports_the_same_errors():
    T = np.linspace(0.5, 2.0, 6)
    y = np.ones(6)
    cases = [
        ((np.r_[T[:-1], np.nan], y), "T is not finite at point 5"),
        ((T, np.r_[y[:-1], np.inf]), "value is not finite at point 5"),
        ((np.r_[-1.0, T[1:]], y), "T must be > 0 K"),
        ((T[::-1].copy(), y, -np.ones(6)), "sigma must be > 0"),
        ((np.r_[T[:3], T[2:5]], y), "duplicate temperature"),
    ]
    for data, msg in cases:
        with pytest.raises(ValueError, match=msg):
            as_points(data, "d")
    # unsorted input is sorted, and the caller's arrays are copied, not aliased
    Tu = T[::-1].copy()
    pts = as_points((Tu, np.arange(6.0)), "d")
    assert np.all(np.diff(pts.T) > 0) and pts.y[0] == 5.0
    Ts = T.copy()
    pts = as_points((Ts, y), "d")
    Ts[0] = 99.0
    assert pts.T[0] == T[0]


def test_problem_arrays_built_on_demand_match_the_flat_vector():
    problem = build_problem(_joint_terms(8), share=["a", "b", "c"], initial=START)
    flat, sizes = kernel.flatten_inputs(problem.u0, problem.arrays)
    assert sizes == problem.sizes
    np.testing.assert_array_equal(flat, problem.flat)
    res_a = run_problem(problem)
    problem.flat = None  # the generic path through Arrays
    res_b = run_problem(problem)
    assert res_a.values == res_b.values and math.isclose(res_a.chi2, res_b.chi2, rel_tol=0, abs_tol=0)


def test_import_leaves_cpu_dispatch_alone_unless_asked():
    """Importing jtls changes no JAX setting but float64; synchronous CPU dispatch
    only through jtls.use_synchronous_cpu_dispatch() or JTLS_CPU_SYNC_DISPATCH=1."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("JTLS_CPU_SYNC_DISPATCH", "JTLS_CPU_ASYNC_DISPATCH")}
    code = ("import jax; before = jax.config.read('jax_cpu_enable_async_dispatch'); import jtls; "
            "print(before, jax.config.read('jax_cpu_enable_async_dispatch'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    before, after = out.stdout.split()
    assert before == after == "True", out.stderr[-2000:]
    code = "import jtls, jax; jtls.use_synchronous_cpu_dispatch(); print(jax.config.read('jax_cpu_enable_async_dispatch'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
    code = "import jtls, jax; print(jax.config.read('jax_cpu_enable_async_dispatch'))"
    out = subprocess.run([sys.executable, "-c", code], env=env | {"JTLS_CPU_SYNC_DISPATCH": "1"},
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
