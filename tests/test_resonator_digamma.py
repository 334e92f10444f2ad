"""Re psi(1/2 + i y) and Im psi'(1/2 + i y) against mpmath (independent high precision)."""
import math

import mpmath as mp
import numpy as np
import jax
import pytest

import jtls  # noqa: F401
from jtls.resonator.digamma import Y0_HI, im_trigamma_half, re_digamma_half


def _ref_re_psi(y):
    with mp.workdps(40):
        return float(mp.re(mp.digamma(mp.mpf(1) / 2 + 1j * mp.mpf(y))))


def _ref_im_trigamma(y):
    # the imaginary part is ~ y; carry enough digits for tiny y
    extra = max(0, int(-math.log10(abs(y)))) if y != 0 else 0
    with mp.workdps(40 + extra):
        return float(mp.im(mp.psi(1, mp.mpf(1) / 2 + 1j * mp.mpf(y))))


# all regimes: y = 0, tiny, the Taylor window around the zero y0, both sides of
# every branch switch (0.15 around y0, 1e6), and huge y
_Y = np.unique(np.concatenate([
    [0.0, 1e-300, 1e-12, 1e-8, 0.5, 1.0, 2.0, 10.0, 10.5, 11.0, 999999.0, 1e6, 1.0000001e6, 1e300],
    np.logspace(-6, 12, 37),
    np.linspace(Y0_HI - 0.2, Y0_HI + 0.2, 41),
    Y0_HI + np.array([-0.15, -0.1500001, 0.15, 0.1500001, -1e-12, 1e-12, 0.0]),
    [np.nextafter(Y0_HI, 2.0), np.nextafter(Y0_HI, 0.0)],
]))


def test_re_digamma_half_matches_mpmath_relative_1e12():
    got = np.asarray(re_digamma_half(_Y))
    ref = np.array([_ref_re_psi(y) for y in _Y])
    rel = np.abs(got - ref) / np.abs(ref)
    assert rel.max() < 1e-12, (rel.max(), _Y[np.argmax(rel)])


def test_re_digamma_half_is_even():
    y = np.array([1e-3, 0.7, Y0_HI, 3.0, 1e7])
    assert np.array_equal(np.asarray(re_digamma_half(-y)), np.asarray(re_digamma_half(y)))


def test_re_digamma_half_zero_value():
    # psi(1/2) = -gamma - 2 ln 2 (exact)
    assert float(re_digamma_half(0.0)) == pytest.approx(-np.euler_gamma - 2 * math.log(2), rel=1e-15)


def test_im_trigamma_half_matches_mpmath():
    ys = _Y[_Y > 0]
    ys = np.concatenate([ys, -ys[::7]])
    got = np.asarray(im_trigamma_half(ys))
    ref = np.array([_ref_im_trigamma(y) for y in ys])
    rel = np.abs(got - ref) / np.abs(ref)
    assert rel.max() < 1e-12, (rel.max(), ys[np.argmax(rel)])


def test_derivative_is_minus_im_trigamma_and_matches_finite_differences():
    ys = np.array([1e-4, 0.3, Y0_HI, 1.2, 5.0, 40.0, 2e6])
    g = np.asarray(jax.vmap(jax.grad(re_digamma_half))(ys))
    ref = np.array([-_ref_im_trigamma(y) for y in ys])
    np.testing.assert_allclose(g, ref, rtol=1e-12)
    # central differences of the mpmath function (independent of the jvp rule)
    def fd(y):
        with mp.workdps(40):
            f = lambda t: mp.re(mp.digamma(mp.mpf(1) / 2 + 1j * t))  # noqa: E731
            d = mp.mpf(y) * mp.mpf("1e-10")
            return float((f(mp.mpf(y) + d) - f(mp.mpf(y) - d)) / (2 * d))
    fd = np.array([fd(y) for y in ys])
    np.testing.assert_allclose(g, fd, rtol=1e-7)


def test_jit_and_vmap_shapes():
    y = np.linspace(0.0, 5.0, 12).reshape(3, 4)
    out = jax.jit(re_digamma_half)(y)
    assert out.shape == (3, 4)
    assert np.all(np.isfinite(np.asarray(out)))
