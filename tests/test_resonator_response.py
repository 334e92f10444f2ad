"""Finite-frequency resonator response: limits, independent references, gradients, errors."""
import math

import mpmath as mp
import numpy as np
import jax
import jax.numpy as jnp
import pytest
import scipy.special as sp

import jtls
from jtls.resonator import conversions as cv
from jtls.resonator import quasiparticle as qp
from jtls.resonator import response as R
from jtls.resonator.models import resonator_loss, resonator_shift

OMEGA = 2 * math.pi * 5.619901372e9          # the Nb CPW resonator of the shared data
T_GRID = np.array([0.004, 0.02, 0.05, 0.1, 0.2, 0.35, 0.7, 1.0, 1.7, 4.0, 20.0])


def test_constant_dos_reduces_to_digamma_formula_1e10():
    """mu = 0: quadrature PV integral == (F delta0/pi)[Phi(T) - Phi(T_ref)] (Matsubara closed form)."""
    for T_ref in (0.1, 1.0):
        for f0 in (0.5e9, 5.62e9, 12e9):
            om = 2 * math.pi * f0
            got = np.asarray(R.frequency_shift_tls_dos(T_GRID, jtls.ConstantDOS(3.0), om, 1.0, T_ref))
            ref = np.asarray(R.frequency_shift_tls_stm(T_GRID, om, 1.0, T_ref))
            np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    # the power-law helper at mu = 0 is the same thing
    got = np.asarray(R.frequency_shift_tls(T_GRID, OMEGA, 2e-6, 0.0, 0.1))
    ref = np.asarray(R.frequency_shift_tls_stm(T_GRID, OMEGA, 2e-6, 0.1))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-18)


def test_stm_textbook_form_up_to_constant():
    """(F d0/pi)[Re psi(1/2 + hw/(2 pi i kT)) - ln(hw/kT)] differs from ours by a T-independent constant."""
    w = jtls.units.omega_to_kelvin(OMEGA)
    with mp.workdps(30):
        book = np.array([float(mp.re(mp.digamma(0.5 + w / (2j * mp.pi * T))) - mp.log(w / T))
                         for T in T_GRID])
    ours = np.asarray(R.frequency_shift_tls_stm(T_GRID, OMEGA, math.pi, 0.1))
    diff = ours - book
    np.testing.assert_allclose(diff, diff[0], atol=1e-12)


def _mp_pv(T, T_ref, w, mu):
    """Independent PV integral with mpmath for n = (T^2 + E^2)^(mu/2) (subtraction at the pole)."""
    with mp.workdps(25):
        T, T_ref, w, mu = (mp.mpf(x) for x in (T, T_ref, w, mu))

        def h(E):
            return ((T**2 + E**2) ** (mu / 2) * mp.tanh(E / (2 * T))
                    - (T_ref**2 + E**2) ** (mu / 2) * mp.tanh(E / (2 * T_ref)))

        def q(E):
            return h(E) * E / (E + w)
        qw = q(w)
        p1 = mp.quad(lambda E: (q(E) - qw) / (E - w), [0, w / 4, w, 2 * w])
        brk = sorted({2 * w, 10 * T, 10 * T_ref, 100 * max(T, T_ref, w)})
        brk = [b for b in brk if b >= 2 * w]
        p2 = mp.quad(lambda E: h(E) * E / (E**2 - w**2), brk + [mp.inf])
        return float(p1 + p2)


@pytest.mark.parametrize("mu", [0.2, 0.45])
def test_power_law_pv_against_mpmath(mu):
    w = jtls.units.omega_to_kelvin(OMEGA)
    Ts = np.array([0.03, 0.15, 0.9])
    got = np.asarray(R.resonant_response_dos(Ts, jtls.PowerLawDOS(1.0, mu), OMEGA, 0.3))
    ref = np.array([_mp_pv(T, 0.3, w, mu) for T in Ts])
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)


def test_low_frequency_limit_matches_core_resonant_term():
    """hbar omega << k_B T: D(T) -> int [g_T - g_Tref] dE/E = -velocity_shift_resonant_dos (Eq. 7).

    Residual (hbar omega/T)^2 ~ 1e-12 here; the core's own quadrature starts at 1e-10 T, so
    the comparison is at 1e-8 relative."""
    om = 2 * math.pi * 1e3          # 1 kHz: hbar omega = 4.8e-8 K
    Ts = np.array([0.05, 0.2, 0.5, 2.0])
    # smooth models (DipolarGapDOS has a kink at J0 that limits both quadratures to ~1e-5)
    for dos in (jtls.PowerLawDOS(1.0, 0.0), jtls.PowerLawDOS(2.0, 0.25), jtls.GaussianDOS(5.0, 1.0)):
        ours = np.asarray(R.resonant_response_dos(Ts, dos, om, 1.0))
        core = -np.asarray(jtls.velocity_shift_resonant_dos(Ts, dos, 1.0, 1.0))
        np.testing.assert_allclose(ours, core, rtol=1e-8, atol=1e-12)
    # and through the dielectric convention: delta f/f = -(F/2) d eps/eps with C_dip = 2 delta0/pi
    d0, F = 3e-3, 0.4
    for mu in (0.0, 0.2):
        ours = np.asarray(R.frequency_shift_tls_dos(Ts, jtls.PowerLawDOS(1.0, mu), om, F * d0, 1.0, n0=1.0))
        core = -0.5 * F * np.asarray(jtls.dielectric_shift_resonant(Ts, cv.c_dip_from_delta0(d0), mu, 1.0))
        np.testing.assert_allclose(ours, core, rtol=1e-8, atol=1e-14)


def test_kramers_kronig_slope_and_loss_consistency():
    """Constant DOS, k_B T >> hbar omega: slope (F d0/pi) ln T; loss -> F d0 tanh(hw/2kT)."""
    Ts = np.array([20.0, 40.0])
    s = np.asarray(R.frequency_shift_tls_dos(Ts, jtls.ConstantDOS(1.0), OMEGA, 1.0, 1.0))
    slope = (s[1] - s[0]) / math.log(2.0)
    # Re psi(1/2 + i y) = psi(1/2) + 7 zeta(3) y^2 + O(y^4), y = w/(2 pi T): the slope is
    # (1/pi)[1 + 7 zeta(3)(y2^2 - y1^2)/ln 2] (correction -4.2e-5 here, next order ~1e-11)
    w = jtls.units.omega_to_kelvin(OMEGA)
    y1, y2 = w / (2 * math.pi * Ts)
    expected = (1 + 7 * 1.2020569031595942 * (y2**2 - y1**2) / math.log(2.0)) / math.pi
    assert slope == pytest.approx(expected, rel=1e-8)
    assert abs(slope * math.pi - 1) < 1e-4
    loss = np.asarray(R.loss_tls_dos(Ts, jtls.ConstantDOS(5.0), OMEGA, 1.0))
    np.testing.assert_allclose(loss, np.tanh(w / (2 * Ts)), rtol=1e-14)


def test_loss_saturation_and_normalisation():
    w = jtls.units.omega_to_kelvin(OMEGA)
    T = np.array([0.01, 0.3])
    mu = 0.3
    got = np.asarray(R.loss_tls(T, OMEGA, 2e-6, mu, P=3.0, P_c=1.0, beta=0.6))
    ref = 2e-6 * ((T**2 + w**2) / w**2) ** (mu / 2) * np.tanh(w / (2 * T)) / 4.0 ** 0.3
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    # T -> 0, P -> 0: 1/Q_TLS -> F delta0 for every normalised model
    assert float(R.loss_tls(1e-4, OMEGA, 2e-6, mu)) == pytest.approx(2e-6, rel=1e-6)
    assert float(R.loss_tls_dos(1e-4, jtls.GaussianDOS(3.0, 2.0), OMEGA, 2e-6)) == pytest.approx(2e-6, rel=1e-6)


def test_relaxation_kernel_against_mpmath():
    for b in (1e-3, 0.3, 5.0, 20.0, 3e3):
        G = complex(R.relaxation_G(1.0 / b))
        with mp.workdps(20):
            f = lambda x, b=b: mp.sqrt(1 - x**2) / x / (1 - 1j * b / x**2)  # noqa: E731
            ref = complex(mp.quad(f, [0, mp.sqrt(b) / 10, mp.sqrt(b), min(1, 10 * mp.sqrt(b)), 1]
                                  if b < 1e-2 else [0, 1]))
        assert abs(G - ref) <= 1e-11 * abs(ref), (b, G, ref)
    assert complex(R.relaxation_G(0.0)) == 0


def test_relaxation_matches_core_and_plateau():
    A = 2 * math.pi * 2e8
    Ts = np.array([0.3, 1.0, 3.0])
    dos = jtls.PowerLawDOS(1.0, 0.2)
    mine = np.asarray(R.frequency_shift_relaxation_dos(Ts, dos, OMEGA, math.pi, A, n0=1.0))
    core = np.asarray(jtls.velocity_shift_relaxation_dos(Ts, dos, A, OMEGA, 1.0))
    np.testing.assert_allclose(mine, core, rtol=1e-9)
    w = jtls.units.omega_to_kelvin(OMEGA)
    loss = np.asarray(R.loss_relaxation_dos(Ts, dos, OMEGA, math.pi, A, n0=1.0))
    core_loss = (np.asarray(jtls.internal_friction_dos(Ts, dos, A, OMEGA, 1.0))
                 - math.pi * np.asarray(dos(w, Ts)) * np.tanh(w / (2 * Ts)))
    np.testing.assert_allclose(loss, core_loss, rtol=1e-8)
    # STM plateau omega tau_min << 1: 1/Q_rel = F delta0 / 2
    plateau = float(R.loss_relaxation_dos(1.0, jtls.ConstantDOS(1.0), OMEGA, 1.0, 1e30))
    # (TLSs with omega tau_min > 1 below E ~ sqrt(omega/2AT) ~ 1e-10 K are missing: ~1e-10)
    assert plateau == pytest.approx(0.5, rel=1e-8)


def test_k0e_against_scipy():
    x = np.concatenate([np.logspace(-8, math.log10(2.0), 50), [2.0, np.nextafter(2.0, 3.0)],
                        np.logspace(math.log10(2.0), 3, 50)])
    np.testing.assert_allclose(np.asarray(qp.k0e(x)), sp.k0e(x), rtol=1e-13)


def test_k0e_and_its_derivative_against_mpmath():
    """Reference: mpmath.besselk at 40 digits; d/dx [e^x K0(x)] = e^x (K0(x) - K1(x))."""
    x = np.concatenate([np.logspace(-8, math.log10(2.0), 30), [2.0, np.nextafter(2.0, 3.0)],
                        np.logspace(math.log10(2.0), 5, 40)])
    with mp.workdps(40):
        ref = np.array([float(mp.exp(v) * mp.besselk(0, v)) for v in x])
        dref = np.array([float(mp.exp(v) * (mp.besselk(0, v) - mp.besselk(1, v))) for v in x])
    np.testing.assert_allclose(np.asarray(qp.k0e(x)), ref, rtol=3e-15)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.grad(qp.k0e))(jnp.asarray(x))), dref, rtol=5e-14)


def test_relaxation_switch_static_and_traced_agree():
    """A as a Python float (a fit's static setting) decides in Python; as a traced
    value through lax.cond; both give the same curves, with and without relaxation."""
    T = jnp.asarray(T_GRID[2:9])
    args = (2e-6, 0.2, -110.0, 0.8, 14.0, 0.02, 1e-8, OMEGA, -100.0)
    for A in (0.0, 3e8):
        static = np.asarray(resonator_loss(T, *args, A))
        traced = np.asarray(jax.jit(lambda a: resonator_loss(T, *args, a))(jnp.asarray(A)))
        np.testing.assert_allclose(static, traced, rtol=1e-13)
    assert np.all(np.asarray(resonator_loss(T, *args, 3e8)) < np.asarray(resonator_loss(T, *args, 0.0)))


def test_quasiparticle_terms_against_scipy_formula():
    T = np.array([0.3, 0.8, 1.2, 1.7])
    D, a = 14.0, 0.03
    w = jtls.units.omega_to_kelvin(OMEGA)
    xi = w / (2 * T)
    s2 = (np.sqrt(2 * np.pi * T / D) + 2 * sp.i0e(xi)) * np.exp(-D / T)
    np.testing.assert_allclose(np.asarray(qp.frequency_shift_qp(T, OMEGA, D, a)), -0.5 * a * s2, rtol=1e-13)
    s1 = 4 / np.pi * np.exp(-D / T) * np.sinh(xi) * sp.k0(xi)
    np.testing.assert_allclose(np.asarray(qp.loss_qp(T, OMEGA, D, a)), a * s1 / (1 - s2), rtol=1e-12)


def test_conversions_round_trips():
    p = 3.5 * jtls.units.DEBYE
    P0 = 2e44
    d0 = cv.delta0_from_p0(P0, p, 10.0)
    assert cv.p0_from_delta0(d0, p, 10.0) == pytest.approx(P0, rel=1e-14)
    assert cv.delta0_from_c_dip(cv.c_dip_from_delta0(d0)) == pytest.approx(d0, rel=1e-15)
    # delta0 = pi P0 p^2/(3 eps0 eps_r) = (pi/2) C_dip with C_dip = 2 P0 p^2/(3 eps0 eps_r)
    # (jtls.units.dipolar_strength_si, the log slope of eps)
    assert d0 == pytest.approx(math.pi / 2 * jtls.units.dipolar_strength_si(P0, p, 10.0), rel=1e-14)
    assert cv.c_dip_from_delta0(d0) == pytest.approx(jtls.units.dipolar_strength_si(P0, p, 10.0), rel=1e-14)
    n = cv.photon_number(cv.dbm_to_watt(-140.0), 5.62e9, 2e5, 3e5, "notch")
    assert float(cv.watt_to_dbm(cv.power_from_photon_number(n, 5.62e9, 2e5, 3e5, "notch"))) \
        == pytest.approx(-140.0, abs=1e-10)
    assert float(cv.photon_number(1.0, 5.62e9, 1.0, 1.0, "reflection")) == \
        pytest.approx(2 * float(cv.photon_number(1.0, 5.62e9, 1.0, 1.0, "notch")), rel=1e-15)
    assert float(cv.hbar_omega_kelvin(5.619901372e9)) == pytest.approx(0.26971, rel=1e-4)
    with pytest.raises(ValueError, match="coupling"):
        cv.photon_number(1.0, 5e9, 1.0, 1.0, "sideways")


def _fd_check(f, x0, rel=1e-6):
    x0 = np.asarray(x0, float)
    g = np.asarray(jax.jit(jax.jacfwd(f))(jnp.asarray(x0)))
    f = jax.jit(f)
    for i in range(x0.size):
        h = 1e-5 * abs(x0[i]) if x0[i] != 0 else 1e-8
        e = np.zeros_like(x0)
        e[i] = h
        fd = (np.asarray(f(jnp.asarray(x0 + e))) - np.asarray(f(jnp.asarray(x0 - e)))) / (2 * h)
        scale = np.max(np.abs(fd)) + 1e-300
        assert np.max(np.abs(g[..., i] - fd)) <= rel * scale, (i, g[..., i], fd)


def test_gradients_of_models_match_finite_differences():
    T = jnp.array([0.1, 0.4, 1.0, 1.5])
    A = 2 * math.pi * 5e8

    def shift(p):
        return resonator_shift(T, p[0], p[1], p[2], p[3], OMEGA, 0.1, A)
    _fd_check(shift, [1.2e-6, 0.2, 13.0, 0.02])

    def loss(p):
        return jnp.log(resonator_loss(T, p[0], p[1], p[2], p[3], p[4], p[5], p[6], OMEGA, -130.0, A))
    _fd_check(loss, [1.2e-6, 0.2, -140.0, 0.6, 13.0, 0.02, 5e-8])

    # derivative with respect to T and omega of the PV response (moving pole and panels)
    def resp(x):
        return R.resonant_response_dos(x[0], jtls.PowerLawDOS(1.0, 0.3), x[1] * 1e10, 0.2)
    _fd_check(resp, [0.35, 3.5])


def test_bad_input_raises_named_value_error():
    with pytest.raises(ValueError, match="'T'"):
        R.frequency_shift_tls(np.array([0.1, -0.2]), OMEGA, 1e-6, 0.1)
    with pytest.raises(ValueError, match="'omega'"):
        R.loss_tls(0.1, 0.0, 1e-6, 0.1)
    with pytest.raises(ValueError, match="'mu'"):
        R.frequency_shift_tls(0.3, OMEGA, 1e-6, 3.0)
    with pytest.raises(ValueError, match="'Delta'"):
        qp.loss_qp(0.3, OMEGA, -1.0, 0.1)
    tab = jtls.TabulatedDOS.create([0.1, 1.0], [0.0, 0.2, 0.4], np.ones((2, 3)))
    with pytest.raises(ValueError, match="'dos'"):
        R.resonant_response_dos(0.3, tab, OMEGA, 0.1)   # e_max = 0.4 K < 2 hbar omega


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_tabulated_dos_constant_table_reproduces_stm():
    """A TabulatedDOS holding a constant (cubic spline of a constant is exact) up to e_max = 60 K:
    the integral stops at e_max, where tanh(E/2T) - tanh(E/2T_ref) < 1e-15 for T <= 1.7 K.
    No warning: the normalisation n0 = n(hbar omega, T -> 0) takes a table at its lowest
    temperature (it used to evaluate the table at T = 0 K, outside its range, and warn)."""
    E = np.linspace(0.0, 60.0, 31)
    tab = jtls.TabulatedDOS.create([0.05, 0.5, 2.0], E, np.full((3, E.size), 2.0))
    Ts = np.array([0.06, 0.3, 1.0, 1.7])
    got = np.asarray(R.frequency_shift_tls_dos(Ts, tab, OMEGA, 1.0, 0.1))
    ref = np.asarray(R.frequency_shift_tls_stm(Ts, OMEGA, 1.0, 0.1))
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13)


def test_shared_geometric_edges_hit_their_end_points_exactly():
    """The principal value on [0, 2w] needs the last edge to be 2w exactly (the quadrature
    is symmetric about the pole); quadrature.geometric_edges (shared with the core
    observables, replacing response's private _geom) pins both ends."""
    from jtls.quadrature import geometric_edges
    lo = np.geomspace(1e-3, 1e3, 50)
    hi = 2.0 * np.geomspace(3e-3, 7e3, 50)
    e = np.asarray(geometric_edges(lo, hi, R.PV_PANELS))
    assert e.shape == (50, R.PV_PANELS + 2) and np.all(e[:, 0] == 0.0)
    np.testing.assert_array_equal(e[:, 1], lo)
    np.testing.assert_array_equal(e[:, -1], hi)
    assert np.all(np.diff(e, axis=-1) > 0)
    assert not hasattr(R, "_geom")
