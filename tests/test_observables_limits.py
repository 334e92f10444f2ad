"""Analytic limits and physical properties of the core observables.

References: STM (mu = 0) closed forms derived in the module docstrings --
C_v = (pi^2/6) B T (Eq. 6), kappa = 4 pi^2 T^2 / B (Eq. 5), resonant
dv/v = C ln(T/T_ref) (Eq. 7), relaxation slope -(3/2) C and total -C/2 for
omega tau << 1, loss plateau (pi/2) C; exact power-law scaling of Eqs. (5),
(6) with the Eq. (3) DOS.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jtls
from jtls import units

from scipy_reference import velocity_shift_scipy

T_GRID = np.geomspace(1e-3, 10.0, 9)
OMEGA = units.paper_frequency(90e3)      # Fig. 5a, vitreous silica
A_SILICA = units.paper_frequency(9.4e6)


def test_stm_specific_heat_exact():
    np.testing.assert_allclose(jtls.specific_heat(T_GRID, 2.5, 0.0),
                               math.pi**2 / 6 * 2.5 * T_GRID, rtol=1e-13)


def test_stm_thermal_conductivity_coefficient():
    np.testing.assert_allclose(jtls.thermal_conductivity(T_GRID, 0.5, 0.0),
                               4 * math.pi**2 * T_GRID**2 / 0.5, rtol=1e-12)


def test_stm_kappa_si_limit():
    Cl, Ct, vl, vt = 3.1e-4, 2.9e-4, 5800.0, 3750.0
    expected = units.K_B**3 * T_GRID**2 / (6 * math.pi * units.HBAR**2) * (1 / (vl * Cl) + 1 / (vt * Ct))
    np.testing.assert_allclose(jtls.thermal_conductivity_si(T_GRID, Cl, Ct, vl, vt), expected,
                               rtol=1e-12)


def test_a1_equals_eq5_for_constant_dos():
    np.testing.assert_allclose(jtls.thermal_conductivity_A1(T_GRID, 1.0, 0.0),
                               jtls.thermal_conductivity(T_GRID, 1.0, 0.0), rtol=1e-12)


@pytest.mark.parametrize("mu", [0.1, 0.25, 0.5])
def test_power_laws_alpha_beta_equal_mu(mu):
    # C_v ~ T^(1+alpha), kappa ~ T^(2-beta): with the Eq. (3) DOS alpha = beta = mu exactly
    for T in (1e-3, 0.3, 10.0):
        slope_c = jax.grad(lambda lt: jnp.log(jtls.specific_heat(jnp.exp(lt), 1.0, mu)))(math.log(T))
        slope_k = jax.grad(lambda lt: jnp.log(jtls.thermal_conductivity(jnp.exp(lt), 1.0, mu)))(math.log(T))
        assert abs(slope_c - (1 + mu)) < 1e-10
        assert abs(slope_k - (2 - mu)) < 1e-10


def test_stm_resonant_is_log():
    np.testing.assert_allclose(jtls.velocity_shift_resonant(T_GRID, 3e-4, 0.0, T_ref=0.7),
                               3e-4 * np.log(T_GRID / 0.7), rtol=1e-13, atol=1e-18)


def _slope(fn, T):
    return float(jax.grad(lambda lt: fn(jnp.exp(lt)))(math.log(T)))


def test_stm_slopes_one_to_minus_half():
    C, A, omega = 1e-3, units.paper_frequency(1e9), units.paper_frequency(100.0)
    T0 = units.crossover_temperature(omega, A)   # 4.6 mK
    low = _slope(lambda t: jtls.velocity_shift(t, C, 0.0, A, omega), T0 / 60)
    high = _slope(lambda t: jtls.velocity_shift(t, C, 0.0, A, omega), 300 * T0)
    rel = _slope(lambda t: jtls.velocity_shift_relaxation(t, C, 0.0, A, omega), 300 * T0)
    assert abs(low / C - 1.0) < 2e-3          # relaxation negligible well below T0
    assert abs(rel / C + 1.5) < 1e-3          # ln(omega tau_min) ~ 3 ln T for omega tau << 1
    assert abs(high / C + 0.5) < 1e-3         # the STM 1 : -0.5


def test_energy_dependent_dos_moves_ratio_towards_minus_one():
    # Fig. 5a parameters: the ratio of high- to low-temperature log slopes
    C = 3.2e-4
    T0 = units.crossover_temperature(OMEGA, A_SILICA)
    ratios = []
    for mu in (0.0, 0.1, 0.2):
        f = lambda t: jtls.velocity_shift(t, C, mu, A_SILICA, OMEGA)
        ratios.append(_slope(f, 20 * T0) / _slope(f, T0 / 20))
    assert -0.6 < ratios[0] < -0.4
    assert ratios[0] > ratios[1] + 0.1 > ratios[2] + 0.2


def test_relaxation_vanishes_at_low_temperature():
    v = jtls.velocity_shift_relaxation(np.array([1e-3, 1e-2, 1e-1]), 1.0, 0.1, 1e6, 2 * math.pi * 1e5)
    assert abs(v[0]) < 1e-8 and abs(v[0]) < abs(v[1]) < abs(v[2])
    assert np.all(v < 0)


def test_internal_friction_plateau():
    C, A, omega = 2e-4, 1e10, 2 * math.pi * 10.0
    q = jtls.internal_friction(np.array([1.0, 5.0]), C, 0.0, A, omega)
    np.testing.assert_allclose(q, math.pi / 2 * C, rtol=2e-3)
    # tan delta = Im(d eps/eps): eps enters linearly (v ~ sqrt(M)), so the plateau is (pi/4) C_dip
    np.testing.assert_allclose(jtls.loss_tangent(1.0, C, 0.0, A, omega), math.pi / 4 * C, rtol=2e-3)


def test_resonant_loss_tangent_is_delta0():
    # at T << hbar omega and with relaxation frozen out: tan delta -> delta0 = (pi/2) C_dip
    omega = 2 * math.pi * 5.6e9          # hbar omega = 0.27 K
    tl = jtls.loss_tangent(0.01, 1e-3, 0.0, 1e5, omega)
    assert float(tl) == pytest.approx(math.pi / 2 * 1e-3, rel=1e-9)
    assert float(jtls.internal_friction(0.01, 1e-3, 0.0, 1e5, omega)) == pytest.approx(math.pi * 1e-3, rel=1e-9)


def _eps_scipy(T, C_dip, mu, A, omega, T_ref):
    """d eps/eps written out from the paper (Eqs. 7 + 8 with gamma^2/(rho v^2) -> C_dip and
    the opposite sign: eps has a minimum where v has its maximum), by scipy quadrature --
    independent of jtls' closed forms, kernels and panels."""
    return -velocity_shift_scipy(T, C_dip, mu, A, omega, T_ref)


def test_dielectric_against_independent_quadrature_and_stm_limits():
    """Fig. 5b of Churkin et al. 2021 (vitreous silica: omega = 2 pi 1 kHz, A = 2 pi 7.9 MHz,
    C_dip = 8e-4).  (1) Values against the paper's integrals done by scipy (mu = 0, 0.15);
    (2) STM (mu = 0) limits: d(d eps/eps)/d ln T = -C_dip well below the crossover (the
    resonant -C_dip ln T), +C_dip/2 well above (relaxation +3/2 C_dip): the 1 : -0.5 slope
    ratio of the paper's introduction, mirrored; (3) the minimum of eps(T): the scipy
    curve's slope vanishes at the jtls minimum."""
    C, A, w, T_ref = 8e-4, 2 * math.pi * 7.9e6, 2 * math.pi * 1e3, 0.3
    for mu in (0.0, 0.15):
        for T in (0.02, 0.1, 0.6):
            got = float(jtls.dielectric_shift(T, C, mu, A, w, T_ref=T_ref))
            assert got == pytest.approx(_eps_scipy(T, C, mu, A, w, T_ref), rel=1e-9), (mu, T)
    T0 = units.crossover_temperature(w, A)
    eps = lambda t: jtls.dielectric_shift(t, C, 0.0, A, w)
    assert abs(_slope(eps, T0 / 60) / C + 1.0) < 2e-3
    assert abs(_slope(eps, 300 * T0) / C - 0.5) < 1e-3
    # minimum: bisection on the jtls slope, then the independent curve's slope there
    lo, hi = math.log(T0 / 10), math.log(10 * T0)
    assert _slope(eps, math.exp(lo)) < 0 < _slope(eps, math.exp(hi))
    for _ in range(20):   # ln T to 5e-6: the slope there is < 1e-5 C
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if _slope(eps, math.exp(mid)) < 0 else (lo, mid)
    T_min, h = math.exp(0.5 * (lo + hi)), 1e-3
    s = (_eps_scipy(T_min * math.exp(h), C, 0.0, A, w, 1.0)
         - _eps_scipy(T_min * math.exp(-h), C, 0.0, A, w, 1.0)) / (2 * h)
    s_off = (_eps_scipy(1.2 * T_min * math.exp(h), C, 0.0, A, w, 1.0)
             - _eps_scipy(1.2 * T_min * math.exp(-h), C, 0.0, A, w, 1.0)) / (2 * h)
    assert abs(s) < 1e-3 * C < abs(s_off), (T_min, s, s_off)


def test_general_dos_matches_power_law():
    T = np.geomspace(1e-3, 10, 6)
    d = jtls.PowerLawDOS(1.7, 0.2)
    np.testing.assert_allclose(jtls.specific_heat_dos(T, d), jtls.specific_heat(T, 1.7, 0.2), rtol=1e-13)
    np.testing.assert_allclose(jtls.thermal_conductivity_dos(T, d),
                               jtls.thermal_conductivity(T, 1.7, 0.2), rtol=1e-13)
    d1 = jtls.PowerLawDOS(1.0, 0.2)
    np.testing.assert_allclose(jtls.velocity_shift_resonant_dos(T, d1, 2e-4, T_ref=0.5),
                               jtls.velocity_shift_resonant(T, 2e-4, 0.2, T_ref=0.5), rtol=1e-9)
    np.testing.assert_allclose(jtls.velocity_shift_dos(T, d1, 1e7, 1e5, C=2e-4),
                               jtls.velocity_shift(T, 2e-4, 0.2, 1e7, 1e5), rtol=1e-9)


def test_a2_equals_eq8_for_constant_dos_and_differs_for_mu():
    T = np.geomspace(0.01, 3, 4)
    np.testing.assert_allclose(jtls.velocity_shift_relaxation_A2(T, 1.0, 0.0, A_SILICA, OMEGA),
                               jtls.velocity_shift_relaxation(T, 1.0, 0.0, A_SILICA, OMEGA), rtol=1e-10)
    r = (jtls.velocity_shift_relaxation_A2(T, 1.0, 0.3, A_SILICA, OMEGA)
         / jtls.velocity_shift_relaxation(T, 1.0, 0.3, A_SILICA, OMEGA))
    assert np.all((r < 1.0) & (r > 0.8))  # n(E sqrt(1-x^2)) <= n(E) for mu > 0


def test_dipolar_gap_and_gaussian_models_are_usable():
    T = np.array([0.05, 0.5])
    gap = jtls.DipolarGapDOS(n0=0.1, J0=2.0)
    assert np.all(np.diff(np.asarray(gap(np.array([1e-3, 0.1, 1.0, 2.0, 5.0]), 0.1))) >= 0)
    assert float(gap(5.0, 0.1)) == pytest.approx(0.1)
    for d in (gap, jtls.GaussianDOS(21.53), jtls.ConstantDOS(0.3)):
        for fn in (jtls.specific_heat_dos, jtls.thermal_conductivity_dos, jtls.thermal_conductivity_A1_dos):
            assert np.all(np.isfinite(fn(T, d))) and np.all(fn(T, d) > 0)
    # a constant DOS gives exactly the STM specific heat
    np.testing.assert_allclose(jtls.specific_heat_dos(T, jtls.ConstantDOS(0.3)),
                               math.pi**2 / 6 * 0.3 * T, rtol=1e-13)


def test_relaxation_kernel_derivatives_against_mpmath():
    # dG/d ln b (the kernel's closed-form derivative rule) and d2G/d(ln b)^2 against mpmath
    # differentiation of G = d artanh(1/d) - 1, d = sqrt(1 - i b), at 80 digits (the
    # cancellation of Re G ~ 2/(15 b^2) at large b needs them); both branches, the switch at
    # b = 8 and b = 1 (where z = 1/(1 - i b) changes form)
    import jax
    import jax.numpy as jnp
    import mpmath as mp
    from jtls.observables._kernels import relaxation_kernel

    def G(lb):
        d = mp.sqrt(1 - 1j * mp.exp(lb))
        return d * mp.atanh(1 / d) - 1

    grads = {part: (jax.grad(lambda x, p=part: p(relaxation_kernel(x))),
                    jax.grad(jax.grad(lambda x, p=part: p(relaxation_kernel(x)))))
             for part in (jnp.real, jnp.imag)}
    with mp.workdps(80):
        for lb in (-36.0, -18.4, -3.0, -0.1, 0.0, 0.1, 1.5, math.log(8.0) - 1e-9, math.log(8.0) + 1e-9,
                   3.0, 9.0, 27.0, 36.0):
            d1, d2 = mp.diff(G, mp.mpf(lb), 1), mp.diff(G, mp.mpf(lb), 2)
            for part, ref1, ref2 in ((jnp.real, d1.real, d2.real), (jnp.imag, d1.imag, d2.imag)):
                g1, g2 = (float(f(lb)) for f in grads[part])
                assert abs(g1 - float(ref1)) <= 1e-12 * abs(float(ref1)), (lb, part.__name__, g1, ref1)
                assert abs(g2 - float(ref2)) <= 1e-8 * abs(float(ref2)), (lb, part.__name__, g2, ref2)


def test_relaxation_x_integral_closed_form_against_mpmath():
    # Re/Im G(b) are the x-integrals of Eq. (8) and of the relaxation absorption;
    # reference: direct mpmath quadrature of the integrals as written.
    import mpmath as mp
    from jtls.observables._kernels import relaxation_kernel
    mp.mp.dps = 25
    for b in (1e-14, 1e-6, 0.03, 1.0, 7.9, 8.1, 50.0, 1e4, 1e12):
        bb = mp.mpf(b)
        # x = sin(theta) removes the sqrt end-point singularity for mpmath
        pts = [0] + [mp.asin(p) for p in (mp.sqrt(bb) * k for k in (0.01, 0.1, 1, 10)) if p < 1] + [mp.pi / 2]
        re = mp.quad(lambda t: mp.cos(t) ** 2 * mp.sin(t) ** 3 / (mp.sin(t) ** 4 + bb**2), pts)
        im = mp.quad(lambda t: mp.cos(t) ** 2 * bb * mp.sin(t) / (mp.sin(t) ** 4 + bb**2), pts)
        g = complex(relaxation_kernel(math.log(b)))
        assert abs(g.real / float(re) - 1) < 1e-12, b
        assert abs(g.imag / float(im) - 1) < 1e-12, b
