"""Bad input to the public observables is a ValueError naming the argument and the
allowed range (never inf, NaN or a sign-flipped result); traced values still work.
Also the shared numerical kernels against mpmath (issue 12)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jtls
from jtls import units
from jtls.resonator import response as R

A0, W0 = units.paper_frequency(9.4e6), units.paper_frequency(90e3)
OMEGA_GHZ = 2 * math.pi * 5e9


@pytest.mark.parametrize("call,arg", [
    # amplitudes: B > 0 (kappa ~ 1/B), C and C_dip >= 0 (tunneling strengths)
    (lambda: jtls.thermal_conductivity(0.1, 0.0, 0.1), "'B' must be > 0"),
    (lambda: jtls.thermal_conductivity(0.1, -1.0, 0.1), "'B' must be > 0"),
    (lambda: jtls.specific_heat(0.1, -2.0, 0.1), "'B' must be > 0"),
    (lambda: jtls.thermal_conductivity_A1(0.1, 0.0, 0.1), "'B'"),
    (lambda: jtls.thermal_conductivity_matthiessen(0.1, -1.0, 0.1), "'B'"),
    (lambda: jtls.power_law_dos(0.5, 0.1, -1.0, 0.1), "'B'"),
    (lambda: jtls.velocity_shift(0.1, -1e-4, 0.1, A0, W0), "'C' must be >= 0"),
    (lambda: jtls.velocity_shift_resonant(0.1, -1e-4, 0.1), "'C'"),
    (lambda: jtls.internal_friction(0.1, -1e-4, 0.1, A0, W0), "'C'"),
    (lambda: jtls.velocity_shift_relaxation_A2(0.1, -1e-4, 0.1, A0, W0), "'C'"),
    (lambda: jtls.dielectric_shift(0.1, -1e-4, 0.1, A0, W0), "'C_dip' must be >= 0"),
    (lambda: jtls.loss_tangent(0.1, -1e-4, 0.1, A0, W0), "'C_dip'"),
    (lambda: jtls.dielectric_shift_resonant_dos(0.1, jtls.ConstantDOS(1.0), -1.0), "'C_dip'"),
    (lambda: jtls.thermal_conductivity_si(0.1, -3e-4, 3e-4, 5800.0, 3750.0), "'C_l'"),
    (lambda: R.frequency_shift_tls(0.1, OMEGA_GHZ, -1e-6, 0.1), "'F_delta0'"),
    (lambda: R.loss_tls(0.1, OMEGA_GHZ, -1e-6, 0.1), "'F_delta0'"),
    (lambda: R.loss_relaxation_dos(0.1, jtls.ConstantDOS(1.0), OMEGA_GHZ, -1e-6, 1e8), "'F_delta0'"),
    # magnitudes whose squares leave float64: named, with the allowed range
    (lambda: jtls.thermal_conductivity(1e-160, 1.0, 0.1), r"'T' = 1e-160 K is outside .*\[1e-100, 1e\+100\]"),
    (lambda: jtls.specific_heat(1e160, 1.0, 0.1), r"'T' = 1e\+160 K is outside"),
    (lambda: jtls.velocity_shift(np.array([0.1, 1e200]), 1e-4, 0.1, A0, W0), "'T'"),
    (lambda: jtls.velocity_shift_resonant(0.1, 1e-4, 0.1, T_ref=1e-170), "'T_ref'"),
    (lambda: jtls.velocity_shift(0.1, 1e-4, 0.1, 1e305, W0), r"'A' = 1e\+305 s\^-1 K\^-3 is outside the supported range \[1e-300, 1e\+300\]"),
    (lambda: jtls.velocity_shift(0.1, 1e-4, 0.1, 0.0, W0), "'A' must be > 0"),
    (lambda: jtls.internal_friction(0.1, 1e-4, 0.1, A0, 1e-150), "'omega'"),
    (lambda: jtls.thermal_conductivity(0.1, 1e-200, 0.1), "'B'"),
    (lambda: jtls.velocity_shift(0.1, 1e120, 0.1, A0, W0), "'C'"),
    (lambda: R.frequency_shift_tls(1e-160, OMEGA_GHZ, 1e-6, 0.1), "'T'"),
    (lambda: R.loss_tls(0.1, 1e160, 1e-6, 0.1), "'omega'"),
])
def test_out_of_domain_input_names_argument(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()


@pytest.mark.parametrize("call", [
    lambda: jtls.specific_heat_dos(0.1, jtls.PowerLawDOS(-1.0, 0.1)),
    lambda: jtls.thermal_conductivity_dos(np.array([0.1, 1.0]), jtls.ConstantDOS(-2.0)),
    lambda: jtls.thermal_conductivity_matthiessen_dos(0.1, jtls.ConstantDOS(0.0)),
    lambda: jtls.velocity_shift_dos(0.1, jtls.PowerLawDOS(-1.0, 0.0), A0, W0),
    lambda: jtls.dielectric_shift_resonant_dos(0.1, jtls.ConstantDOS(-1.0)),
    lambda: R.frequency_shift_tls_dos(0.1, jtls.ConstantDOS(-1.0), OMEGA_GHZ, 1e-6),
    lambda: R.loss_tls_dos(0.1, jtls.ConstantDOS(-1.0), OMEGA_GHZ, 1e-6),
    lambda: R.loss_relaxation_dos(0.1, jtls.ConstantDOS(-1.0), OMEGA_GHZ, 1e-6, 1e8),
])
def test_nonpositive_dos_model_is_named(call):
    # a DOS model with B <= 0 (or n0 <= 0) would give negative C_v, kappa < 0 or inf
    with pytest.raises(ValueError, match=r"argument 'dos': the density of states must be finite "
                                         r"and > 0, got n\(T=0.1 K, E=0 K\) = "):
        call()


def test_dos_check_skipped_for_traced_models():
    f = jax.vmap(lambda b: jtls.specific_heat_dos(0.3, jtls.PowerLawDOS(b, 0.1)))
    np.testing.assert_allclose(f(jnp.array([1.0, 2.0])),
                               jtls.specific_heat(0.3, np.array([1.0, 2.0]), 0.1), rtol=1e-13)


def test_overflowing_combination_is_an_error_not_inf():
    # each argument in range, the result T^(2-mu)/B = 1e250/1e-100 is not representable
    with pytest.raises(ValueError, match=r"thermal_conductivity: the result is not finite .*T=1e\+100"):
        jtls.thermal_conductivity(1e100, 1e-100, -0.5)


def test_float32_overflow_is_named_with_the_fix():
    with pytest.raises(ValueError, match=r"specific_heat: the result is not finite .*float32.* "
                                         r"at T=1.0\d*e\+20.*pass float64 inputs"):
        jtls.specific_heat(np.float32(1e20), 1.0, 0.0)


def test_edges_of_the_domain_are_finite():
    for T in (1e-100, 1e100):
        assert np.isfinite(float(jtls.specific_heat(T, 1.0, 0.0)))
        assert np.isfinite(float(jtls.thermal_conductivity(T, 1.0, 0.0)))
        assert np.isfinite(float(jtls.velocity_shift_resonant(T, 1e-4, 0.2)))
        # A enters through ln A only: its range is wider, e.g. a runaway fit's A = 1e102
        # (fits/tabulated_velocity.py) must still evaluate and plot
        A = np.array([1e-300, 1e102, 1e300])
        v = [jtls.velocity_shift(T, 1e-4, 0.2, A, W0), jtls.internal_friction(T, 1e-4, 0.2, A, W0),
             jtls.velocity_shift_relaxation_A2(T, 1e-4, 0.2, A, W0),
             R.loss_relaxation_dos(T, jtls.ConstantDOS(1.0), OMEGA_GHZ, 1e-5, A)]
        assert np.all(np.isfinite(np.asarray(v, dtype=float))), T


def test_traced_amplitudes_still_work_under_jit_grad_vmap():
    # a traced B/C is not validated (the caller validates outside jit) and differentiates
    g = jax.jit(jax.grad(lambda b: jtls.specific_heat(0.3, b, 0.1)))(2.0)
    assert float(g) == pytest.approx(float(jtls.specific_heat(0.3, 1.0, 0.1)), rel=1e-12)
    v = jax.vmap(lambda c: jtls.velocity_shift(0.2, c, 0.1, A0, W0))(jnp.array([1e-4, 2e-4]))
    np.testing.assert_allclose(v[1], 2 * v[0], rtol=1e-12)
    d = jax.grad(lambda c: jtls.dielectric_shift(0.2, c, 0.1, A0, W0))(1e-4)
    assert float(d) == pytest.approx(-float(jtls.velocity_shift(0.2, 1.0, 0.1, A0, W0)), rel=1e-12)
    # zero amplitudes are allowed (no TLS contribution)
    assert float(jtls.velocity_shift(0.2, 0.0, 0.1, A0, W0)) == 0.0


# ------------------------------------------------------------------ kernels vs mpmath

def _kappa_weight_mp(u):
    import mpmath as mp
    u = mp.mpf(u)
    return u**3 * mp.cosh(u / 2) / mp.sinh(u / 2) ** 3   # the definition (Eq. 5 weight)


def test_kappa_weight_small_u_against_mpmath():
    """u^3 cosh(u/2)/sinh^3(u/2) = 8 (1 - u^4/240 + ...) has no u^2 term; the old series
    8 (1 - u^2/24) was off by u^2/3 (4e-10 relative at the switch point u = 1e-4)."""
    import mpmath as mp
    from jtls.observables._kernels import KAPPA_SERIES_U, kappa_weight
    mp.mp.dps = 40
    s = KAPPA_SERIES_U
    for u in (1e-8, 1e-6, s * (1 - 1e-9), s, s * (1 + 1e-9), 1e-3, 1e-2, 0.05, 1.0, 30.0):
        got = float(kappa_weight(jnp.float64(u)))
        ref = float(_kappa_weight_mp(u))
        assert abs(got / ref - 1) < 1e-15, (u, got, ref)   # 4 ulp
    # the series itself (not only the switch): its u^4 coefficient is -8/240
    taylor = mp.taylor(lambda x: _kappa_weight_mp(x) if x else mp.mpf(8), mp.mpf("1e-30"), 4)
    assert abs(taylor[2]) < 1e-25 and abs(taylor[4] + mp.mpf(8) / 240) < 1e-25


def test_resonator_relaxation_kernel_is_the_shared_one():
    """relaxation_G at small b: the naive log form lost 1.6e-9 of Im G at b = 1e-8."""
    import mpmath as mp
    from jtls.observables._kernels import relaxation_kernel
    mp.mp.dps = 30
    bs = np.array([1e-12, 1e-8, 1e-3, 7.9, 8.1, 1e3])
    gs = np.asarray(R.relaxation_G(1.0 / bs))
    np.testing.assert_array_equal(gs, np.asarray(relaxation_kernel(np.log(bs))))
    for b, g in zip(bs, gs):
        bb = mp.mpf(b)
        d = mp.sqrt(1 - 1j * bb)
        ref = complex(d * mp.atanh(1 / d) - 1)
        assert abs(g.imag / ref.imag - 1) < 1e-14 and abs(g.real / ref.real - 1) < 1e-12, b
