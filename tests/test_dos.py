"""DOS models: the tabulated DOS reproduces an analytic one within its interpolation
error, is differentiable with respect to its values, loads annealer files."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jtls


def _table(mu=0.15, B=0.0135):
    T = np.geomspace(0.01, 3.0, 19)
    E = np.concatenate([[0.0], np.geomspace(1e-3, 60.0, 400)])  # resolves E ~ T at all T
    vals = B * (T[:, None] ** 2 + E[None, :] ** 2) ** (mu / 2)
    return T, E, vals


def test_tabulated_reproduces_power_law_between_knots():
    T, E, vals = _table()
    tab = jtls.TabulatedDOS.create(T, E, vals)
    ref = jtls.PowerLawDOS(0.0135, 0.15)
    # off-knot in both T and E, where the grid resolves the E-scale max(T, E)
    Eq = np.array([0.37, 1.91, 7.77, 33.3])
    for t in (0.0123, 0.31, 2.2):
        np.testing.assert_allclose(tab(Eq, t), ref(Eq, t), rtol=2e-4)
    np.testing.assert_allclose(tab(0.013, 0.31), ref(0.013, 0.31), rtol=2e-4)
    # exact at the knots
    np.testing.assert_allclose(tab(E[::40], T[3]), vals[3, ::40], rtol=1e-12)


def _derivs(f):
    """jit-compiled vmapped f'' and f^(4) of f(x, p) in x (p a parameter)."""
    d2 = jax.grad(jax.grad(f))
    d4 = jax.grad(jax.grad(d2))
    return (jax.jit(jax.vmap(d2, in_axes=(0, None))), jax.jit(jax.vmap(d4, in_axes=(0, None))))


def _spline_tolerance(knots, i, d2, d4, p, n_end):
    """Error bound of cubic-spline interpolation of f(., p) on [knots[i], knots[i + 1]].

    Cubic spline error order h^4: |f - s| <= (5/384) h^4 max|f^(4)| (complete spline;
    h and max|f^(4)| taken over the interval and 4 neighbours on each side, since the
    spline is not local), plus the natural end condition s'' = 0: an error
    ~ (h_end^2/8) |f''(end)| that decays by (2 - sqrt 3) per knot away from the end
    (n_end knots).  The bound is doubled.
    """
    W = 4
    a, b = max(i - W, 0), min(i + 1 + W, len(knots) - 1)
    h = float(np.max(np.diff(knots[a:b + 1])))
    m4 = float(np.max(np.abs(d4(jnp.linspace(knots[a], knots[b], 200), p))))
    h_end = float(max(knots[1] - knots[0], knots[-1] - knots[-2]))
    f2_end = float(np.max(np.abs(d2(jnp.asarray([knots[0], knots[-1]]), p))))
    end = h_end**2 / 8 * f2_end * (2 - math.sqrt(3)) ** n_end
    return 2 * (5 / 384 * h**4 * m4 + end)


def test_tabulated_interpolation_error_is_fourth_order_in_knot_spacing():
    """Between knots the tabulated DOS differs from the analytic power law by no more than
    the cubic-spline error bound derived from the knot spacing (h^4 f^(4)) plus rounding;
    a linear or wrongly assembled spline (error ~ h^2 f''/8, orders of magnitude larger
    here) fails."""
    mu, B = 0.15, 0.0135
    T, E, vals = _table(mu, B)
    tab = jtls.TabulatedDOS.create(T, E, vals)
    eps = np.finfo(float).eps
    # in E (mirrored grid -60..60 K) at tabulated temperatures: only the E-spline acts
    f = lambda e, t: B * (t * t + e * e) ** (mu / 2)
    d2, d4 = _derivs(f)
    idx = np.arange(1, 390, 13)
    x = np.linspace(E[idx], E[idx + 1], 7)[1:-1].T            # (intervals, 5)
    for t in T[[0, 6, 12, 18]]:
        err = np.max(np.abs(np.asarray(tab(x, t)) - np.asarray(f(jnp.asarray(x), t))), axis=1)
        for k, i in enumerate(idx):
            tol = _spline_tolerance(E, i, d2, d4, t, len(E) - 1 - i) + 8 * eps * float(f(E[i + 1], t))
            assert err[k] <= tol, (t, E[i], err[k], tol)
    # in ln T (natural spline, 19 knots) at tabulated energies: only the T-spline acts
    lt = np.log(T)
    g = lambda s, e: B * (jnp.exp(2 * s) + e * e) ** (mu / 2)
    d2, d4 = _derivs(g)
    x = np.linspace(lt[:-1], lt[1:], 7)[1:-1].T                # (18, 5)
    for e in E[[0, 50, 200, 300, 399]]:
        err = np.max(np.abs(np.asarray(tab(e, np.exp(x))) - np.asarray(g(jnp.asarray(x), e))), axis=1)
        for i in range(len(T) - 1):
            tol = (_spline_tolerance(lt, i, d2, d4, e, min(i, len(T) - 2 - i))
                   + 8 * eps * float(g(lt[i + 1], e)))
            assert err[i] <= tol, (e, T[i], err[i], tol)


def test_tabulated_observables_match_analytic():
    T, E, vals = _table()
    tab = jtls.TabulatedDOS.create(T, E, vals)
    Tq = np.array([0.03, 0.2, 1.0])
    np.testing.assert_allclose(jtls.specific_heat_dos(Tq, tab), jtls.specific_heat(Tq, 0.0135, 0.15), rtol=1e-3)
    np.testing.assert_allclose(jtls.thermal_conductivity_dos(Tq, tab),
                               jtls.thermal_conductivity(Tq, 0.0135, 0.15), rtol=1e-3)
    # resonant part integrates up to the grid's e_max: compare against the analytic
    # Eq. 7 integral truncated at the same energy (tail computed with the closed form)
    A, om = 2 * math.pi * 9.4e6, 2 * math.pi * 9e4
    rel_t = jtls.velocity_shift_relaxation_dos(Tq, tab, A, om, C=1 / 0.0135)
    np.testing.assert_allclose(rel_t, jtls.velocity_shift_relaxation(Tq, 1.0, 0.15, A, om), rtol=1e-3)


def test_tabulated_is_differentiable_in_values():
    T, E, vals = _table()

    def cv(v):
        return jtls.specific_heat_dos(0.2, jtls.TabulatedDOS.create(T, E, v))

    g = jax.grad(cv)(jnp.asarray(vals))
    assert g.shape == vals.shape and np.all(np.isfinite(g))
    # C(T) is linear in the table: a directional derivative equals the finite difference
    rng = np.random.default_rng(0)
    d = rng.normal(size=vals.shape) * 1e-4
    fd = (cv(vals + d) - cv(vals - d)) / 2
    assert float(jnp.sum(g * d)) == pytest.approx(float(fd), rel=1e-9)


def test_tabulated_from_file_and_errors(tmp_path):
    T, E, vals = _table()
    p = tmp_path / "run.npz"
    np.savez(p, T=T, E_centers=E, dos=vals)
    tab = jtls.TabulatedDOS.from_file(p)
    assert float(tab(1.0, 0.5)) == pytest.approx(float(jtls.PowerLawDOS(0.0135, 0.15)(1.0, 0.5)), rel=1e-4)
    np.savez(tmp_path / "bad.npz", T=T, dos=vals)
    with pytest.raises(ValueError, match="E_centers"):
        jtls.TabulatedDOS.from_file(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="'values'"):
        jtls.TabulatedDOS.create(T, E, -vals)


def test_dipolar_gap_eq9():
    # Eq. 9 with J0 n0 = J0/h0 = 0.2: at E = J0 e^-1 the log is 1
    d = jtls.DipolarGapDOS(n0=0.1, J0=2.0)
    E = 2.0 / math.e
    assert float(d(E, 0.1)) == pytest.approx(0.1 / (1 + 2 * math.pi / 3 * 0.2), rel=1e-14)


def test_gaussian_normalized():
    g = jtls.GaussianDOS(21.53)
    E = np.linspace(-300, 300, 200001)
    assert np.trapezoid(np.asarray(g(E, 0.1)), E) == pytest.approx(1.0, rel=1e-9)
