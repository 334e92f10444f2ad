"""The closed-form profile of jtls.fit.projection, the continuation of held solves and the
one-kernel opt-out (the pieces that make the global J0/h0 scan cheap).

Reference: the profile at each grid value from an iterative held solve
(jtls.fit.constrained.solve_held with its tight default options) from a start
far from the optimum; the closed form must reach the same chi^2 wherever it
says it is exact, and never go below it anywhere (it is a feasible point).
Test observables are cheap closed forms registered here; the last tests use
the shipped simulated-DOS library (kappa: B and J0_h0 free).
"""
import numpy as np
import pytest

import jax.numpy as jnp

from jtls.fit import Model, build_problem, fit, register_observable
from jtls.fit.constrained import solve_held, start_points
from jtls.fit.kernel import solve_kernel, spec_single_kernel
from jtls.fit.projection import coordinates, projected_profile

GRID = [0.3, 0.5, 0.8, 1.2, 2.0, 3.0]


def _lin(T, C, k):
    return C * jnp.tanh(k / T)


def _nonlin(T, C, k, b):
    return C * jnp.tanh(k / T) * (1.0 + b * T)


def _pos(T, B, k):
    return T ** 2 / (B * (1.0 + (k * T) ** 2))


register_observable("proj_test_lin", _lin, ("C", "k"), relative=True, bounds={"C": (0, np.inf), "k": (0.1, 5)},
                    defaults={"C": 1.0, "k": 1.0}, amplitude="C", scan={"k": GRID}, overwrite=True)
register_observable("proj_test_nonlin", _nonlin, ("C", "k", "b"), relative=True,
                    bounds={"C": (0, np.inf), "k": (0.1, 5), "b": (0, 10)},
                    defaults={"C": 1.0, "k": 1.0, "b": 0.5}, amplitude="C", scan={"k": GRID}, overwrite=True)
register_observable("proj_test_pos", _pos, ("B", "k"), positive=True, bounds={"B": (0, np.inf), "k": (0.1, 5)},
                    defaults={"B": 1.0, "k": 1.0}, amplitude="B", amplitude_power=-1.0, scan={"k": GRID},
                    single_kernel=False, overwrite=True)

T = np.geomspace(0.1, 4.0, 30)


def _held_reference(problem, j, u_far):
    """Profile chi^2 at GRID from iterative held solves started at ``u_far``."""
    starts = [start_points(problem.spec, u_far, {j: v}) for v in GRID]
    c = solve_held(problem.spec, problem.arrays, np.stack([s[0] for s in starts]),
                   np.stack([s[1] for s in starts]))
    assert all(int(s) in (0, 3) for s in c.status), c.status
    return c


def _problem(name, y, **kw):
    p = build_problem(Model(name), (T, y), **kw)
    return p, p.free_names.index("k")


@pytest.mark.parametrize("name, truth, noise", [
    ("proj_test_lin", {"C": 2e-3, "k": 0.9, "offset": 1e-4}, ("abs", 2e-5)),
    ("proj_test_pos", {"B": 3.0, "k": 0.7}, ("rel", 0.02)),
])
def test_closed_form_profile_equals_the_held_solves(name, truth, noise):
    m = Model(name)
    y0 = np.asarray(m.predict(jnp.asarray(T), truth, m.resolve_context()))
    e = np.random.default_rng(1).normal(size=T.size)
    y = y0 + noise[1] * e if noise[0] == "abs" else y0 * np.exp(noise[1] * e)
    p, j = _problem(name, y)
    lin, coords, exact = coordinates(p.spec, j)
    assert exact and coords == (("lin", "lin") if name == "proj_test_lin" else ("log",))
    # a start far from every optimum: the closed form must not depend on it
    x_far = np.asarray(p.spec.transform().to_physical(p.u0)) * 5.0
    proj = projected_profile(p.spec, p.arrays, j, GRID, x_far)
    ref = _held_reference(p, j, p.spec.transform().to_internal(x_far))
    assert proj.exact.all()
    np.testing.assert_allclose(proj.chi2, ref.chi2, rtol=1e-9)
    np.testing.assert_allclose(proj.x, ref.x, rtol=1e-6)


def test_a_nonlinear_parameter_left_makes_it_an_upper_bound_only():
    m = Model("proj_test_nonlin")
    y = np.asarray(m.predict(jnp.asarray(T), {"C": 2e-3, "k": 0.9, "b": 2.0, "offset": 0.0}, m.resolve_context()))
    y = y + 2e-5 * np.random.default_rng(2).normal(size=T.size)
    p, j = _problem("proj_test_nonlin", y)
    assert coordinates(p.spec, j)[2] is False
    x0 = np.asarray(p.spec.transform().to_physical(p.u0))
    proj = projected_profile(p.spec, p.arrays, j, GRID, x0)
    ref = _held_reference(p, j, p.u0)
    assert not proj.exact.any()
    assert np.all(proj.chi2 >= ref.chi2 * (1 - 1e-12))
    assert np.any(proj.chi2 > ref.chi2 * 1.01)          # b = 0.5 in x0, 2 in the data: the bound is loose


def test_an_amplitude_beyond_its_bound_is_clipped_and_not_exact():
    """Falling data ask for C < 0 (bound 0): the point is clipped onto C = 0, a feasible upper
    bound of the profile, and not called exact."""
    y = -1e-3 * np.tanh(0.9 / T) + 2e-5 * np.random.default_rng(3).normal(size=T.size)
    p, j = _problem("proj_test_lin", y)
    proj = projected_profile(p.spec, p.arrays, j, GRID, np.asarray(p.spec.transform().to_physical(p.u0)))
    assert not proj.exact.any()
    assert np.all(proj.x[:, p.free_names.index("C")] == 0.0)
    ref = _held_reference(p, j, p.u0)
    assert np.all(np.isfinite(proj.chi2)) and np.all(proj.chi2 >= ref.chi2 * (1 - 1e-9))


def _nonlin_rows(seed):
    """The proj_test_nonlin problem (b = 2 in the data, noise of seed ``seed``): (problem, index of
    k, held reference at GRID, start rows and masks holding k at GRID from the automatic guess)."""
    m = Model("proj_test_nonlin")
    y = np.asarray(m.predict(jnp.asarray(T), {"C": 2e-3, "k": 0.9, "b": 2.0, "offset": 0.0}, m.resolve_context()))
    y = y + 2e-5 * np.random.default_rng(seed).normal(size=T.size)
    p, j = _problem("proj_test_nonlin", y)
    starts = [start_points(p.spec, p.u0, {j: v}) for v in GRID]
    return (p, j, _held_reference(p, j, p.u0), np.stack([s[0] for s in starts]),
            np.stack([s[1] for s in starts]))


def test_continuation_reaches_the_fresh_optimum_and_skips_a_failed_row():
    p, j, ref, u0s, masks = _nonlin_rows(4)
    c = solve_held(p.spec, p.arrays, u0s, masks, follow=np.ones(len(GRID)))
    np.testing.assert_allclose(c.chi2, ref.chi2, rtol=1e-8)
    # a first row that cannot be solved (NaN start): the next row falls back to its own start
    bad = u0s.copy()
    bad[0, :] = np.nan
    c2 = solve_held(p.spec, p.arrays, bad, masks, follow=np.ones(len(GRID)))
    assert not np.isfinite(c2.chi2[0])
    np.testing.assert_allclose(c2.chi2[1:], ref.chi2[1:], rtol=1e-8)


def test_the_scan_of_a_simulated_kappa_fit_is_the_exact_profile():
    """kappa with the simulated DOS (B, J0_h0 free): every grid value closed-form; the recorded
    profile equals held solves at the scan's grid, and the fit is the same as without the scan."""
    model = Model("thermal_conductivity", dos="simulated")
    Tk = np.geomspace(0.06, 1.0, 30)
    y = np.asarray(model.predict(jnp.asarray(Tk), {"B": 1.0, "J0_h0": 0.14, "h0": 10.0}, model.resolve_context()))
    y = y * np.exp(0.01 * np.random.default_rng(6).normal(size=Tk.size))
    res = fit(model, (Tk, y))
    assert res.status == "ok" and res.values == pytest.approx(fit(model, (Tk, y), scan=False).values, rel=1e-9)
    rec = res.extra["scan"][0]
    p = build_problem(model, (Tk, y))
    j = p.free_names.index("J0_h0")
    grid = [v for v in rec["values"] if v != res["J0_h0"]]
    assert coordinates(p.spec, j)[2] and len(grid) >= 10
    starts = [start_points(p.spec, p.u0, {j: v}) for v in grid]
    c = solve_held(p.spec, p.arrays, np.stack([s[0] for s in starts]), np.stack([s[1] for s in starts]))
    s2 = res.chi2 / (Tk.size - 2)
    d_ref = (c.chi2 - res.chi2) / s2
    d_rec = [d for v, d in zip(rec["values"], rec["delta_chi2"]) if v != res["J0_h0"]]
    np.testing.assert_allclose(d_rec, d_ref, rtol=1e-7, atol=1e-9)


def test_observables_built_on_matrix_products_skip_the_one_kernel_build():
    sim = build_problem(Model("thermal_conductivity", dos="simulated"), (T[:20], np.geomspace(1, 2, 20)))
    eq3 = build_problem(Model("thermal_conductivity"), (T[:20], np.geomspace(1, 2, 20)))
    assert not spec_single_kernel(sim.spec) and spec_single_kernel(eq3.spec)
    y = np.asarray(Model("proj_test_pos").predict(jnp.asarray(T), {"B": 3.0, "k": 0.7}, {}))
    before = solve_kernel._cache_size()
    res = fit(Model("proj_test_pos"), (T, y), scan=False)
    assert solve_kernel._cache_size() == before          # the ordinary program solved it
    assert res.values["B"] == pytest.approx(3.0, rel=1e-8) and res.values["k"] == pytest.approx(0.7, rel=1e-8)


def test_vmapped_held_solves_and_skipped_columns_give_the_same_optimum():
    """solve_held(vmapped=True) (one loop for all rows) and skip=(j,) (the held column never
    differentiated) reach the optima of the plain row-by-row solves; skip demands a held column."""
    p, j, ref, u0s, masks = _nonlin_rows(7)
    for kw in ({"vmapped": True}, {"skip": (j,)}, {"vmapped": True, "skip": (j,)}):
        c = solve_held(p.spec, p.arrays, u0s, masks, **kw)
        np.testing.assert_allclose(c.chi2, ref.chi2, rtol=1e-8, err_msg=str(kw))
        np.testing.assert_allclose(c.x, ref.x, rtol=1e-5, atol=1e-12, err_msg=str(kw))
    with pytest.raises(ValueError, match="'skip' must be held"):
        solve_held(p.spec, p.arrays, u0s, np.ones_like(masks), skip=(j,))


def test_linearised_start_for_a_value_held_on_its_bound():
    """start_points(..., x_hat=, jac_x=): the other parameters at the optimum of the linearised
    problem with b moved to its physical bound 0 (where a shift in internal values cannot go).
    Its chi^2 is below that of the plain start, and the held solve reaches the same optimum."""
    import jax
    from jtls.fit.objective import residual_u, residual_x
    m = Model("proj_test_nonlin")
    y = np.asarray(m.predict(jnp.asarray(T), {"C": 2e-3, "k": 0.9, "b": 0.3, "offset": 1e-4}, m.resolve_context()))
    y = y + 2e-5 * np.random.default_rng(8).normal(size=T.size)
    res = fit(m, (T, y))
    assert res.status == "ok"
    p = build_problem(m, (T, y))
    names = p.free_names
    x = np.array([res.values[k] for k in names])
    u = p.spec.transform().to_internal(x)
    J = np.asarray(jax.jacfwd(lambda v: residual_x(p.spec, v, p.arrays))(jnp.asarray(x)))
    jb = names.index("b")
    plain = start_points(p.spec, u, {jb: 0.0})
    lin = start_points(p.spec, u, {jb: 0.0}, x_hat=x, jac_x=J)
    assert np.array_equal(plain[1], lin[1]) and lin[1][jb] == 0.0
    chi2 = [float(np.sum(np.asarray(residual_u(p.spec, jnp.asarray(s[0]), p.arrays)) ** 2)) for s in (plain, lin)]
    assert chi2[1] < 0.5 * chi2[0], chi2
    c = solve_held(p.spec, p.arrays, np.stack([plain[0], lin[0]]), np.stack([plain[1], lin[1]]))
    assert c.chi2[1] == pytest.approx(c.chi2[0], rel=1e-8)
