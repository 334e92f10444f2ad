"""Matthiessen's-rule thermal conductivity (jtls.observables.matthiessen).

References: (i) the lead's Eq. (5) thermal_conductivity (identity when the extra channels are off);
(ii) an independent mpmath quadrature of the defining integral in E (not in u, 30 digits);
(iii) the boundary-limited analytic limit int u^4/sinh^2(u/2) du = 16 pi^4/15.
"""
import math

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from jtls.observables import thermal_conductivity
from jtls.observables.matthiessen import (BOUNDARY_LIMIT, matthiessen_rates,
                                          thermal_conductivity_matthiessen,
                                          thermal_conductivity_matthiessen_dos)
from jtls.dos import PowerLawDOS


def mp_kappa(T, B, mu, Eb, ER):
    """Direct mpmath integral over E of E^4/(T^2 sinh^2(E/2T)) / (l^-1) with Matthiessen's rule."""
    mp.mp.dps = 30
    T, B, mu, Eb = mp.mpf(T), mp.mpf(B), mp.mpf(mu), mp.mpf(Eb)
    gb = B * Eb ** (1 + mu) if Eb > 0 else mp.mpf(0)
    gr = B / mp.mpf(ER) ** (3 - mu) if ER is not None else mp.mpf(0)

    def f(E):
        tls = E * mp.tanh(E / (2 * T)) * B * (T * T + E * E) ** (mu / 2)
        return E**4 / (T * T * mp.sinh(E / (2 * T)) ** 2) / (tls + gb + gr * E**4)

    pts = [0, T * mp.mpf("1e-3"), T / 10, T, 3 * T, 10 * T, 30 * T, 90 * T]
    if Eb > 0:
        pts += [Eb]
    if ER is not None:
        pts += [mp.mpf(ER)]
    pts = sorted(set(p for p in pts if p <= 90 * T))
    return float(mp.quad(f, pts))


def test_identical_to_eq5_when_channels_off():
    # the integrand is Eq. (5)'s times exactly 1: equal up to float rounding of the compiled sums
    # (rtol 1e-15 = a few ulp; any real difference in the integrand would show at >= 1e-12)
    T = jnp.geomspace(0.005, 5.0, 17)
    for mu in (0.0, 0.04, 0.2, 0.5):
        ref = thermal_conductivity(T, 2.5, mu)
        np.testing.assert_allclose(thermal_conductivity_matthiessen(T, 2.5, mu), ref,
                                   rtol=1e-15, atol=0)
        np.testing.assert_allclose(
            thermal_conductivity_matthiessen(T, 2.5, mu, boundary=0.0, rayleigh=jnp.inf), ref,
            rtol=1e-15, atol=0)
    dos = PowerLawDOS(1.7, 0.1)
    from jtls.observables import thermal_conductivity_dos
    np.testing.assert_allclose(thermal_conductivity_matthiessen_dos(T, dos),
                               thermal_conductivity_dos(T, dos), rtol=1e-15, atol=0)
    # a visible channel changes the result by far more than rounding
    assert abs(float(thermal_conductivity_matthiessen(0.1, 2.5, 0.1, boundary=1e-3))
               / float(thermal_conductivity(0.1, 2.5, 0.1)) - 1) > 1e-6


@pytest.mark.parametrize("T,mu,Eb,ER", [
    (0.05, 0.0, 0.3, None), (0.3, 0.15, 0.3, 4.0), (1.0, 0.3, None, 2.0), (0.02, 0.1, 1.0, 0.5)])
def test_against_mpmath(T, mu, Eb, ER):
    got = float(thermal_conductivity_matthiessen(T, 1.3, mu, boundary=Eb, rayleigh=ER))
    ref = mp_kappa(T, 1.3, mu, Eb or 0.0, ER)
    assert abs(got / ref - 1) < 1e-9, (got, ref)


def test_boundary_limit():
    # Gamma_b >> Gamma_TLS: kappa -> T^3 (16 pi^4/15) / Gamma_b.  Since 1/(1+x) >= 1 - x with
    # x = Gamma_TLS/Gamma_b <= E/E_b (mu = 0), the relative deficit is >= 0 and <= <u> T/E_b with
    # <u> = int u^5 sinh^-2 / int u^4 sinh^-2 = 5 zeta(5)/zeta(4).
    mean_u = 5 * float(mp.zeta(5)) / float(mp.zeta(4))
    for T, Eb in ((0.01, 10.0), (0.05, 100.0)):
        k = float(thermal_conductivity_matthiessen(T, 1.0, 0.0, boundary=Eb))
        limit = T**3 * BOUNDARY_LIMIT / Eb
        deficit = 1 - k / limit
        assert 0 < deficit <= mean_u * T / Eb
    assert abs(BOUNDARY_LIMIT - 96 * float(mp.zeta(4))) < 1e-12


def test_channels_change_the_slope_as_expected():
    T = jnp.geomspace(0.02, 2.0, 40)
    slope = lambda k: np.gradient(np.log(np.asarray(k)), np.log(np.asarray(T)))
    s_tls = slope(thermal_conductivity_matthiessen(T, 1.0, 0.1))
    np.testing.assert_allclose(s_tls, 1.9, atol=2e-3)  # T^(2-mu) exactly (np.gradient error only)
    s_b = slope(thermal_conductivity_matthiessen(T, 1.0, 0.1, boundary=1.0))
    assert s_b[0] > 2.6 and np.all(np.diff(s_b) < 0)          # T^3 at low T -> 1.9 at high T
    s_r = slope(thermal_conductivity_matthiessen(T, 1.0, 0.1, rayleigh=1.0))
    assert abs(s_r[0] - 1.9) < 0.01 and s_r.min() < 0.7         # towards the plateau


def test_rates_parameterization():
    gb, gr = matthiessen_rates(2.0, 0.2, 0.5, 3.0)
    assert np.isclose(gb, 2.0 * 0.5**1.2) and np.isclose(gr, 2.0 / 3.0**2.8)
    gb, gr = matthiessen_rates(2.0, 0.2, 0.0, jnp.inf)
    assert gb == 0.0 and gr == 0.0


def test_grad_jit_vmap():
    f = lambda m, eb, er, t: thermal_conductivity_matthiessen(t, 1.0, m, boundary=eb, rayleigh=er)
    args = (0.12, 0.4, 3.0, 0.25)
    g = jax.grad(f, argnums=(0, 1, 2, 3))(*args)
    h = 1e-6
    for i in range(4):
        a_p = list(args); a_p[i] += h
        a_m = list(args); a_m[i] -= h
        fd = (float(f(*a_p)) - float(f(*a_m))) / (2 * h)
        assert abs(float(g[i]) - fd) <= 1e-6 * abs(fd) + 1e-10, (i, g[i], fd)
    # channels off: gradients finite (E_b = 0, E_R = inf), also with respect to mu
    g0 = jax.grad(f, argnums=(0, 1, 2))(0.0, 0.0, jnp.inf, 0.3)
    assert all(np.isfinite(float(x)) for x in g0)
    jf = jax.jit(f)
    assert np.isclose(jf(*args), f(*args), rtol=1e-14)
    vm = jax.vmap(lambda eb: f(0.1, eb, 3.0, 0.2))(jnp.array([0.0, 0.1, 1.0]))
    assert vm.shape == (3,) and np.all(np.diff(vm) < 0)  # more boundary scattering, lower kappa
    out = thermal_conductivity_matthiessen(jnp.ones((2, 3)) * 0.3, 1.0, 0.1,
                                           boundary=jnp.array([0.0, 0.1, 0.2]))
    assert out.shape == (2, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="boundary"):
        thermal_conductivity_matthiessen(0.1, 1.0, 0.1, boundary=-0.1)
    with pytest.raises(ValueError, match="rayleigh"):
        thermal_conductivity_matthiessen(0.1, 1.0, 0.1, rayleigh=0.0)
    with pytest.raises(ValueError, match="'T'"):
        thermal_conductivity_matthiessen(-0.1, 1.0, 0.1)
    with pytest.raises(ValueError, match="rayleigh_rate"):
        thermal_conductivity_matthiessen_dos(0.1, PowerLawDOS(1.0, 0.0), rayleigh_rate=-1.0)
    assert math.isfinite(float(thermal_conductivity_matthiessen(0.1, 1.0, 0.1, rayleigh=1e-3)))


def test_si_version_limits():
    from jtls import units
    from jtls.observables import thermal_conductivity_si
    from jtls.observables.matthiessen import casimir_limit_si, thermal_conductivity_si_matthiessen
    T = jnp.geomspace(0.01, 2.0, 9)
    args = (T, 3e-4, 2e-4, 5800.0, 3800.0)
    # channels off: the lead's TLS-limited SI kappa, to float rounding
    np.testing.assert_allclose(thermal_conductivity_si_matthiessen(*args, 0.1),
                               thermal_conductivity_si(*args, 0.1), rtol=1e-15, atol=0)
    # boundary dominated: Casimir's (1/3) C_Debye v l_b per polarization (kinetic theory), with
    # deficit 0 < 1 - kappa/kappa_C <= max_alpha pi C_a l_b k_B T <u> / (hbar v_a)  (mu = 0,
    # 1/(1+x) >= 1 - x, x <= pi C l_b omega / v, <u> = 5 zeta(5)/zeta(4) under u^4/sinh^2(u/2))
    l_b = 1e-6
    k = np.asarray(thermal_conductivity_si_matthiessen(*args, 0.0, boundary=l_b))
    deficit = 1 - k / np.asarray(casimir_limit_si(T, 5800.0, 3800.0, l_b))
    mean_u = 5 * float(mp.zeta(5)) / float(mp.zeta(4))
    bound = np.maximum(*[math.pi * C * l_b * units.K_B * np.asarray(T) * mean_u / (units.HBAR * v)
                         for C, v in ((3e-4, 5800.0), (2e-4, 3800.0))])
    assert np.all(deficit > 0) and np.all(deficit <= bound)
    assert deficit[0] < 2e-3  # the limit is actually reached at 10 mK
    # Rayleigh scattering only lowers kappa, more at high T
    kr = np.asarray(thermal_conductivity_si_matthiessen(*args, 0.1, rayleigh=1e-42))
    k0 = np.asarray(thermal_conductivity_si(*args, 0.1))
    assert np.all(kr < k0) and np.all(np.diff(kr / k0) < 0)
    with pytest.raises(ValueError, match="boundary"):
        thermal_conductivity_si_matthiessen(*args, 0.1, boundary=0.0)
    with pytest.raises(ValueError, match="rayleigh"):
        thermal_conductivity_si_matthiessen(*args, 0.1, rayleigh=-1.0)


def test_python_lists_are_accepted_like_arrays():
    """T (and the rates) as Python lists give the values of the same numpy arrays (they used
    to raise a raw TypeError from jnp.result_type)."""
    from jtls.observables.matthiessen import thermal_conductivity_matthiessen_dos
    T = [0.1, 0.5, 2.0]
    a = np.asarray(thermal_conductivity_matthiessen(T, 2.0, 0.1, boundary=[0.05, 0.1, 0.2]))
    b = np.asarray(thermal_conductivity_matthiessen(np.asarray(T), 2.0, 0.1,
                                                    boundary=np.asarray([0.05, 0.1, 0.2])))
    np.testing.assert_array_equal(a, b)
    d = np.asarray(thermal_conductivity_matthiessen_dos(T, PowerLawDOS(1 / 2.0, 0.1)))
    assert d.shape == (3,) and np.all(np.isfinite(d))
