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
    # even in E, exact at the knots
    np.testing.assert_allclose(tab(-Eq, 0.31), tab(Eq, 0.31), rtol=1e-14)
    np.testing.assert_allclose(tab(E[::40], T[3]), vals[3, ::40], rtol=1e-12)


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
