"""TabulatedDOS (issue 11, part 4): floor identical eager and jitted, positive log-spline
mode, no silent extrapolation in T, energy integrals stopping at e_max, signed E grids.

Each test fails on the behaviour it replaces: the floor used to be 1e-12 max(values)
eagerly but finfo.tiny under jit; the only spline was the one of n (negative lobes after
a sharp drop, floored, so 1/n in kappa exploded); T outside the table was clamped
silently; the thermal integrals ran to u = 80 with the last tabulated value beyond
e_max; negative energies were rejected.
"""
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jtls
from jtls.dos import TabulatedDOS

T_GRID = np.array([0.1, 0.3, 1.0, 3.0])


def _zeros_table():
    """n = 1 below 2 K, exactly 0 above (an empty high-energy histogram region)."""
    E = np.linspace(0.0, 6.0, 25)
    v = np.where(E < 2.0, 1.0, 0.0)
    return E, np.tile(v, (len(T_GRID), 1))


# ------------------------------------------------------------------------------ floor

def test_floor_is_the_same_eager_and_jitted_for_a_table_with_zeros():
    E, vals = _zeros_table()
    Eq = np.linspace(0.0, 6.0, 241)

    def f(v):
        return TabulatedDOS.create(T_GRID, E, v)(Eq, 0.5)

    eager = np.asarray(f(vals))
    jitted = np.asarray(jax.jit(f)(jnp.asarray(vals)))
    floor = 1e-12 * vals.max()
    # the spline of n rings below zero after the drop: those points sit on the floor
    assert np.sum(eager == floor) > 10
    np.testing.assert_allclose(jitted, eager, rtol=1e-12, atol=0)
    # the floor enters kappa as 1/n: the observable agrees too (old code: 1e-12 vs 2e-308)
    Tq = np.array([0.3, 1.0])

    def kappa(v):
        return jtls.thermal_conductivity_dos(Tq, TabulatedDOS.create(T_GRID, E, v))

    np.testing.assert_allclose(np.asarray(jax.jit(kappa)(jnp.asarray(vals))),
                               np.asarray(kappa(vals)), rtol=1e-10)
    # an explicit absolute floor replaces the relative rule
    tab = TabulatedDOS.create(T_GRID, E, vals, floor=1e-3)
    assert float(jnp.min(tab(Eq, 0.5))) == pytest.approx(1e-3, rel=1e-14)


# ------------------------------------------------------------------------ log spline

def _drop_table():
    """n drops by 1000x over one knot interval at E = 2 K (the same at every T)."""
    E = np.linspace(0.0, 10.0, 41)
    v = np.where(E < 2.0, 1.0, 1e-3)
    return E, v, np.tile(v, (len(T_GRID), 1))


def _kappa_weight(E, T):
    x = E / (2 * T)
    return E**3 / (T * T * math.sinh(x) ** 2 * math.tanh(x))


def test_log_mode_is_positive_after_a_sharp_drop_and_kappa_stays_finite():
    E, v, vals = _drop_table()
    lin = TabulatedDOS.create(T_GRID, E, vals)
    log = TabulatedDOS.create(T_GRID, E, vals, log=True)
    Eq = np.linspace(0.0, 10.0, 2001)
    n_lin = np.asarray(lin(Eq, 1.0))
    n_log = np.asarray(log(Eq, 1.0))
    # the spline of n goes negative (floored at 1e-12 max), the spline of ln n does not
    assert n_lin.min() == pytest.approx(1e-12, rel=1e-12)
    assert n_log.min() > 0.25 * v.min()
    # both interpolate the table exactly at the knots
    np.testing.assert_allclose(np.asarray(log(E, 1.0)), v, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(lin(E, 1.0)), v, rtol=1e-12, atol=1e-14)
    # kappa against an independent quadrature of 1/n with n log-linear between knots
    T = 1.0

    def n_ref(e):
        return math.exp(np.interp(e, E, np.log(v)))

    brk = sorted(set(E.tolist()))
    ref = sum(integrate.quad(lambda e: _kappa_weight(e, T) / n_ref(e), a, b, epsabs=0,
                             epsrel=1e-10)[0] for a, b in zip(brk[:-1], brk[1:]))
    k_log = float(jtls.thermal_conductivity_dos(T, log))
    k_lin = float(jtls.thermal_conductivity_dos(T, lin))
    assert 0.5 < k_log / ref < 2.0
    assert k_lin / ref > 1e3          # the floored negative lobe dominates 1/n
    # differentiable in the table (not linear): directional derivative = finite difference
    Tq = np.array([0.5, 1.0])

    def kap(w):
        return jnp.sum(jtls.thermal_conductivity_dos(Tq, TabulatedDOS.create(T_GRID, E, w, log=True)))

    g = jax.grad(kap)(jnp.asarray(vals))
    d = np.random.default_rng(1).normal(size=vals.shape) * vals * 1e-5
    fd = (kap(vals + d) - kap(vals - d)) / 2
    assert float(jnp.sum(g * d)) == pytest.approx(float(fd), rel=1e-6)


def test_log_mode_with_zeros_warns_and_agrees_eager_and_jitted():
    E, vals = _zeros_table()
    with pytest.warns(RuntimeWarning, match="zeros"):
        tab = TabulatedDOS.create(T_GRID, E, vals, log=True)
    Eq = np.linspace(0.0, 6.0, 121)
    out = np.asarray(tab(Eq, 0.5))
    assert np.all(out > 0) and np.all(np.isfinite(out))

    def f(v):
        return TabulatedDOS.create(T_GRID, E, v, log=True)(Eq, 0.5)

    np.testing.assert_allclose(np.asarray(jax.jit(f)(jnp.asarray(vals))), out, rtol=1e-12)


# ---------------------------------------------------------------------- T range

def test_temperature_outside_the_table_raises_naming_the_argument():
    E, v, vals = _drop_table()
    tab = TabulatedDOS.create(T_GRID, E, vals)
    with pytest.raises(ValueError, match=r"'T' = 5 K .*\[0\.1, 3\] K"):
        jtls.thermal_conductivity_dos(5.0, tab)
    tab = TabulatedDOS.create(T_GRID, E, vals, log=True)
    assert tab.T_range == (0.1, 3.0)
    with pytest.raises(ValueError, match=r"'T' = 5 K .*\[0\.1, 3\] K"):
        jtls.thermal_conductivity_dos(5.0, tab)
    with pytest.raises(ValueError, match=r"'T' = 0\.05 K"):
        jtls.specific_heat_dos(np.array([0.5, 0.05]), tab)
    with pytest.raises(ValueError, match="'T_ref'"):
        jtls.velocity_shift_resonant_dos(0.5, tab, T_ref=10.0)
    with pytest.raises(ValueError, match="'T'"):
        jtls.thermal_conductivity_matthiessen_dos(4.0, tab)
    with pytest.raises(ValueError, match="'T_ref'"):
        jtls.resonator.resonant_response_dos(0.5, tab, 2 * math.pi * 1e6, T_ref=0.01)
    # the end points themselves are inside
    assert np.all(np.isfinite(jtls.specific_heat_dos(np.array([0.1, 3.0]), tab)))
    # a direct eager call outside the range warns (and holds the nearest temperature)
    with pytest.warns(RuntimeWarning, match="outside its temperature range"):
        out = tab(1.0, 10.0)
    assert float(out) == pytest.approx(float(tab(1.0, 3.0)), rel=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tab(1.0, np.array([0.1, 1.7, 3.0]))
    # a one-temperature table is T-independent: valid at every T
    one = TabulatedDOS.create([1.0], E, vals[:1])
    assert one.T_range == (0.0, math.inf)
    assert np.isfinite(float(jtls.specific_heat_dos(20.0, one)))


# -------------------------------------------------------------- integrals stop at e_max

N0, E_TOP = 2.0, 2.0
A_REL, OMEGA = 1e6, 2e6          # omega tau_min = 1 near E ~ T at T = 1 K


def _cut_table():
    E = np.linspace(0.0, E_TOP, 21)
    return TabulatedDOS.create(T_GRID, E, np.full((len(T_GRID), E.size), N0))


def _quad(f, T):
    """int_0^E_TOP f dE (scipy), split at a few multiples of T."""
    pts = sorted({p for p in (0.0, 0.5 * T, T, 3 * T, 10 * T, E_TOP) if p <= E_TOP})
    return sum(integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
               for a, b in zip(pts[:-1], pts[1:]))


def _re_G(b):
    d = np.sqrt(1 - 1j * b)
    return (d * np.arctanh(1 / d) - 1).real


@pytest.mark.parametrize("T", [0.3, 1.0, 2.5])
def test_thermal_integrals_stop_at_e_max(T):
    tab = _cut_table()
    assert tab.e_max == E_TOP
    cv = _quad(lambda e: N0 * e * e / (4 * T * T * math.cosh(e / (2 * T)) ** 2), T)
    kap = _quad(lambda e: _kappa_weight(e, T) / N0, T)
    ka1 = _quad(lambda e: _kappa_weight(e, T) * e / (N0 * e), T)     # N(E) = n0 E

    def rel(e):
        b = OMEGA / (A_REL * e**3 / math.tanh(e / (2 * T)))
        return N0 / (2 * T * math.cosh(e / (2 * T)) ** 2) * _re_G(b)

    vrel = -_quad(rel, T)

    def rel_im(e):
        b = OMEGA / (A_REL * e**3 / math.tanh(e / (2 * T)))
        d = np.sqrt(1 - 1j * b)
        return N0 / (2 * T * math.cosh(e / (2 * T)) ** 2) * (d * np.arctanh(1 / d) - 1).imag

    w = jtls.units.HBAR_OVER_KB * OMEGA
    q_inv = 2 * _quad(rel_im, T) + math.pi * N0 * math.tanh(w / (2 * T))
    assert float(jtls.specific_heat_dos(T, tab)) == pytest.approx(cv, rel=1e-9)
    assert float(jtls.thermal_conductivity_dos(T, tab)) == pytest.approx(kap, rel=1e-9)
    assert float(jtls.thermal_conductivity_A1_dos(T, tab)) == pytest.approx(ka1, rel=1e-9)
    assert float(jtls.thermal_conductivity_matthiessen_dos(T, tab)) == pytest.approx(kap, rel=1e-9)
    assert float(jtls.velocity_shift_relaxation_dos(T, tab, A_REL, OMEGA)) == pytest.approx(vrel, rel=1e-8)
    assert float(jtls.internal_friction_dos(T, tab, A_REL, OMEGA)) == pytest.approx(q_inv, rel=1e-8)
    # App. A (A2): for a constant DOS it equals Eq. (8), also when both stop at e_max
    assert float(jtls.velocity_shift_relaxation_A2_dos(T, tab, A_REL, OMEGA)) == pytest.approx(
        vrel, rel=1e-8)
    # the full integral (constant extension) differs: the cut matters at these T
    assert abs(N0 * math.pi**2 / 6 * T - cv) > 1e-3 * cv


def test_the_moving_end_point_enters_the_temperature_derivative():
    tab = _cut_table()
    T, h = 1.0, 1e-5
    g = float(jax.grad(lambda t: jtls.specific_heat_dos(t, tab))(T))

    def cv(t):
        return _quad(lambda e: N0 * e * e / (4 * t * t * math.cosh(e / (2 * t)) ** 2), t)

    assert g == pytest.approx((cv(T + h) - cv(T - h)) / (2 * h), rel=1e-6)


# -------------------------------------------------------------------- signed E grids

def test_signed_symmetric_grid_is_folded_to_the_even_part():
    rng = np.random.default_rng(0)
    Ep = np.linspace(0.0, 5.0, 26)
    Es = np.concatenate([-Ep[:0:-1], Ep])
    vs = rng.uniform(0.5, 1.5, size=(len(T_GRID), Es.size))
    n = len(Ep)
    folded = 0.5 * (vs[:, n - 1:] + vs[:, n - 1::-1])
    signed = TabulatedDOS.create(T_GRID, Es, vs)
    one = TabulatedDOS.create(T_GRID, Ep, folded)
    Eq = np.linspace(-6.0, 6.0, 97)
    np.testing.assert_array_equal(np.asarray(signed.values), folded)
    np.testing.assert_allclose(np.asarray(signed(Eq, 0.7)), np.asarray(one(Eq, 0.7)), rtol=1e-14)
    assert signed.e_max == 5.0
    # without E = 0 on the grid, and one-sided negative grids, likewise
    Eh = np.linspace(0.1, 5.0, 25)
    vh = rng.uniform(0.5, 1.5, size=(len(T_GRID), 50))
    s2 = TabulatedDOS.create(T_GRID, np.concatenate([-Eh[::-1], Eh]), vh)
    o2 = TabulatedDOS.create(T_GRID, Eh, 0.5 * (vh[:, 25:] + vh[:, 24::-1]))
    np.testing.assert_allclose(np.asarray(s2(Eq, 0.7)), np.asarray(o2(Eq, 0.7)), rtol=1e-14)
    neg = TabulatedDOS.create(T_GRID, -Eh[::-1], vh[:, 24::-1])
    pos = TabulatedDOS.create(T_GRID, Eh, vh[:, :25])
    np.testing.assert_allclose(np.asarray(neg(Eq, 0.7)), np.asarray(pos(Eq, 0.7)), rtol=1e-14)
    # folding is differentiable: n(E) and n(-E) each carry half of the weight
    g = jax.grad(lambda w: TabulatedDOS.create(T_GRID, Es, w)(1.3, 0.7))(jnp.asarray(vs))
    np.testing.assert_allclose(np.asarray(g[:, n - 1:]), np.asarray(g[:, n - 1::-1]), rtol=1e-14)


def test_signed_grid_that_is_not_symmetric_names_E_grid():
    with pytest.raises(ValueError, match="'E_grid'.*symmetric"):
        TabulatedDOS.create(T_GRID, [-2.0, -1.0, 0.0, 1.5, 2.0], np.ones((len(T_GRID), 5)))
    with pytest.raises(ValueError, match="'E_grid'"):
        TabulatedDOS.create(T_GRID, [-1.0, 1.0, 0.5], np.ones((len(T_GRID), 3)))
