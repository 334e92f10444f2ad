"""Edge cases of the observables' public API found by an audit: each test fails without its fix.

Reference values come from closed forms (cited in the comments), never from jtls itself.
"""
import math

import numpy as np
import pytest

import jtls


# ------------------------------------------------------------ resonant_constant input checks

def test_resonant_constant_refuses_mu_where_its_integral_diverges():
    # K(mu) = int_0^inf (1+u^2)^(mu/2) [tanh(u/2)/u - u/(1+u^2)] du: the integrand ~ u^(mu-3),
    # so K diverges for mu >= 2; it used to return inf at mu = 2 and a finite -57.6 at mu = 5
    for bad in (2.0, 5.0):
        with pytest.raises(ValueError, match="'mu'"):
            jtls.resonant_constant(bad)
    with pytest.raises(ValueError, match="'mu'"):
        jtls.resonant_constant(float("nan"))          # returned nan
    with pytest.raises(ValueError, match="'mu'"):
        jtls.resonant_constant("x")                   # raised JAX's TypeError
    with pytest.raises(ValueError, match="'mu'"):
        jtls.resonant_constant([])                    # returned an empty array


def test_resonant_constant_value_unchanged_at_mu_zero():
    # K(0) = ln 2 + gamma_E - ln pi (closed form of the STM integral)
    ref = math.log(2.0) + 0.5772156649015329 - math.log(math.pi)
    assert abs(float(jtls.resonant_constant(0.0)) - ref) < 1e-12


# ------------------------------------------------ None / empty parameters of the observables

@pytest.mark.parametrize("call, name", [
    (lambda: jtls.thermal_conductivity(0.1, 1.0, []), "mu"),
    (lambda: jtls.internal_friction(0.1, 3e-4, [], 1e7, 1e5), "mu"),
    (lambda: jtls.velocity_shift_resonant(0.1, [], 0.0), "C"),
    (lambda: jtls.velocity_shift_relaxation(0.1, np.zeros(0), 0.0, 1e7, 1e5), "C"),
    (lambda: jtls.observables.power_law_dos([], 1.0, 1.0, 0.0), "E"),
])
def test_empty_parameter_is_refused_by_name(call, name):
    # an empty parameter broadcast T to an empty result, silently
    with pytest.raises(ValueError, match=f"'{name}' is empty"):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: jtls.thermal_conductivity(0.1, 1.0, None), "mu"),
    (lambda: jtls.specific_heat(0.1, 1.0, None), "mu"),
    (lambda: jtls.velocity_shift_resonant(0.1, 3e-4, None), "mu"),
    (lambda: jtls.thermal_conductivity_matthiessen(0.1, 1.0, None), "mu"),
])
def test_none_parameter_is_refused_by_name(call, name):
    # mu=None skipped the checks ("not given") and failed inside jnp.asarray without a name
    with pytest.raises(ValueError, match=f"'{name}' is required"):
        call()


# ------------------------------------- resonator TLS terms with array omega / mu / F_delta0

def _stm_shift_mpmath(T, omega, F, T_ref):
    # textbook STM shift (Gao 2008, ch. 2): (F d0/pi)[Phi(T) - Phi(T_ref)],
    # Phi = Re psi(1/2 + i y) - ln y, y = hbar omega/(2 pi k_B T); evaluated with mpmath
    import mpmath as mp
    from jtls.units import HBAR_OVER_KB

    def phi(t):
        y = mp.mpf(HBAR_OVER_KB * omega) / (2 * mp.pi * t)
        return mp.re(mp.digamma(mp.mpf(0.5) + 1j * y)) - mp.log(y)
    return float(F / mp.pi * (phi(mp.mpf(T)) - phi(mp.mpf(T_ref))))


def test_frequency_shift_tls_with_array_omega_broadcasts():
    # failed with "Incompatible shapes for broadcasting: shapes=[(3,), (2, 4)]" from jnp
    import jtls.resonator as R
    T = np.array([0.05, 0.1, 0.3])
    omega = 2 * np.pi * 5.62e9 * np.array([1.0, 1.1, 1.2])
    got = np.asarray(R.frequency_shift_tls(T, omega, 1e-5, 0.0, 0.07))
    ref = [_stm_shift_mpmath(t, w, 1e-5, 0.07) for t, w in zip(T, omega)]
    np.testing.assert_allclose(got, ref, rtol=1e-8)


def test_frequency_shift_tls_with_array_mu_matches_scalar_calls():
    import jtls.resonator as R
    T = np.array([0.05, 0.1, 0.3])
    mu = np.array([0.0, 0.2, 0.4])
    omega = 2 * np.pi * 5.62e9
    got = np.asarray(R.frequency_shift_tls(T, omega, 1e-5, mu, 0.07))
    assert got.shape == (3,)
    # mu = 0 element against the digamma closed form (mpmath)
    assert abs(got[0] - _stm_shift_mpmath(0.05, omega, 1e-5, 0.07)) < 1e-8 * abs(got[0])
    one = [float(R.frequency_shift_tls(t, omega, 1e-5, m, 0.07)) for t, m in zip(T, mu)]
    np.testing.assert_allclose(got, one, rtol=1e-10)


def test_loss_tls_with_array_omega_is_the_closed_form():
    # 1/Q = F d0 ((T^2 + w^2)/w^2)^(mu/2) tanh(w/2T), w = hbar omega/k_B (loss_tls docstring)
    import jtls.resonator as R
    from jtls.units import HBAR_OVER_KB
    T = np.array([0.05, 0.1, 0.3])
    omega = 2 * np.pi * 5.62e9 * np.array([1.0, 1.1, 1.2])
    w = HBAR_OVER_KB * omega
    ref = 1e-5 * ((T**2 + w**2) / w**2) ** 0.15 * np.tanh(w / (2 * T))
    np.testing.assert_allclose(np.asarray(R.loss_tls(T, omega, 1e-5, 0.3)), ref, rtol=1e-12)


def test_resonator_shift_f_delta0_shape_mismatch_is_named():
    # raised "mul got incompatible shapes for broadcasting: (2,), (3,)" from inside JAX
    import jtls.resonator as R
    T = np.array([0.05, 0.1, 0.3])
    omega = 2 * np.pi * 5.62e9
    with pytest.raises(ValueError, match="mismatched shapes"):
        R.frequency_shift_tls_stm(T, omega, np.full(2, 1e-5), 0.1)
    with pytest.raises(ValueError, match="mismatched shapes"):
        R.frequency_shift_tls_dos(T, jtls.ConstantDOS(1.0), omega, np.full(2, 1e-5), 0.1)


# --------------------------------------------------------------- units.crossover_temperature

def test_crossover_temperature_refuses_non_positive_arguments():
    from jtls import units
    # (omega/A)^(1/3) of a negative ratio returned the complex 0.5+0.866j; omega = 0 returned 0 K
    with pytest.raises(ValueError, match="'A'"):
        units.crossover_temperature(1.0, -1.0)
    with pytest.raises(ValueError, match="'omega'"):
        units.crossover_temperature(0.0, 1.0)
    with pytest.raises(ValueError, match="'A'"):
        units.crossover_temperature(1.0, float("nan"))
    # T0 = (omega/A)^(1/3) = (90 kHz / 9.4 MHz)^(1/3) for the paper's Fig. 5a (2 pi cancels)
    T0 = units.crossover_temperature(units.paper_frequency(90e3), units.paper_frequency(9.4e6))
    assert math.isclose(T0, (90e3 / 9.4e6) ** (1 / 3), rel_tol=1e-14)


def test_crossover_temperature_still_traces():
    import jax
    from jtls import units
    # the checks skip tracers: jit and grad keep working; dT0/dA = -T0/(3A)
    g = jax.grad(lambda a: units.crossover_temperature(8.0, a))(1.0)
    assert math.isclose(float(g), -2.0 / 3.0, rel_tol=1e-12)


# ------------------------------------------------------- float32 through the analytic DOS models

@pytest.mark.parametrize("dos", [jtls.ConstantDOS(1.0), jtls.DipolarGapDOS(0.1, 1e-9),
                                 jtls.GaussianDOS(1e6, 1e6 * math.sqrt(2 * math.pi))])
def test_float32_stays_float32_with_every_analytic_dos(dos):
    # conventions.md: float32 inputs give float32 results; these models cast E to float64.
    # Each model is ~1 here (gap closed below J0 = 1e-9 K: n = n0 = 0.1, scaled below; the Gaussian
    # is flat on the scale of T), so kappa = 4 pi^2 T^2 / n (Eq. 5 for a constant DOS)
    T = np.float32(0.2)
    kappa = jtls.thermal_conductivity_dos(T, dos)
    assert kappa.dtype == np.float32
    n = 0.1 if isinstance(dos, jtls.DipolarGapDOS) else 1.0
    assert math.isclose(float(kappa), 4 * math.pi**2 * 0.2**2 / n, rel_tol=1e-5)


def test_resonator_amplitudes_of_the_wrong_sign_are_refused_by_name():
    """alpha (kinetic-inductance fraction), beta (saturation exponent) and loss_bg (a loss) cannot
    be negative: a negative alpha gave a negative quasiparticle loss, a negative loss_bg a
    negative total loss, all without a word."""
    from jtls import resonator as R
    omega = 2 * np.pi * 5e9
    T = np.array([0.05, 0.2, 0.5])
    with pytest.raises(ValueError, match="argument 'alpha' must be >= 0"):
        R.loss_qp(T, omega, 15.0, -0.01)
    with pytest.raises(ValueError, match="argument 'alpha' must be >= 0"):
        R.frequency_shift_qp(T, omega, 15.0, -0.01)
    with pytest.raises(ValueError, match="argument 'beta' must be >= 0"):
        R.loss_tls(T, omega, 1e-5, 0.0, P=1.0, P_c=1.0, beta=-1.0)
    with pytest.raises(ValueError, match="argument 'loss_bg' must be >= 0"):
        R.resonator_loss_parts(T, 1e-5, 0.0, -120.0, 1.0, 15.0, 0.01, -1e-7, omega, -140.0)
    # zero is allowed (alpha = 0 switches the quasiparticle term off), and the values are finite
    assert np.all(np.asarray(R.loss_qp(T, omega, 15.0, 0.0)) == 0.0)
    parts = R.resonator_loss_parts(T, 1e-5, 0.0, -120.0, 1.0, 15.0, 0.0, 0.0, omega, -140.0)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in parts.values())
