"""Relaxation-rate statistics (Asban et al. 2022, Eqs. 15-17): argument checks and the
t = 0 value of Eq. 16.

Reference values: the analytic limits of Eq. 16 -- E1(x) = -gamma - ln x + Ein(x)
with Ein(x) = x - x^2/4 + ... entire, so the response is exactly 1 at t = 0 with
slope -(lam_max - lam_min) / ln(lam_max / lam_min) -- and scipy.special.exp1.
"""
import math

import numpy as np
import pytest
import scipy.special
import jax
import jax.numpy as jnp

import jtls  # noqa: F401
from jtls.companion import relaxation as rel

NAN = float("nan")
LOGU = 10.0 ** np.arange(-6, 0, 0.01)


@pytest.mark.parametrize("call, match", [
    # lambda_min: was numpy internals / RuntimeWarnings
    (lambda: rel.lambda_min([]), "argument 'rates'"),
    (lambda: rel.lambda_min([-1.0, 1.0]), "argument 'rates'"),
    (lambda: rel.lambda_min([0.0, 1.0]), "argument 'rates'"),
    (lambda: rel.lambda_min([NAN, 1.0]), "argument 'rates'"),
    (lambda: rel.lambda_min(LOGU, bins_per_decade=0), "argument 'bins_per_decade'"),
    (lambda: rel.lambda_min(LOGU, bins_per_decade=2.5), "argument 'bins_per_decade'"),
    (lambda: rel.lambda_min(LOGU, frac=0.0), "argument 'frac'"),
    (lambda: rel.lambda_min(LOGU, frac=1.5), "argument 'frac'"),
    (lambda: rel.log_rate_histogram([]), "argument 'rates'"),
    (lambda: rel.log_rate_histogram(LOGU, lo=3, hi=1), "argument 'lo'"),
    (lambda: rel.log_rate_histogram(LOGU, hi=NAN), "argument 'hi'"),
    (lambda: rel.dos([]), "argument 'E'"),
    (lambda: rel.dos([1.0, NAN]), "argument 'E'"),
    (lambda: rel.dos([1.0, 2.0], bins=0), "argument 'bins'"),
    (lambda: rel.dos([1.0, 2.0], range=(1.0, 0.0)), r"argument 'range\[0\]'"),
    # Eq. 15: was [nan] (no rates) and 2.7e43 (a negative rate)
    (lambda: rel.relaxation_curve([], [1.0]), "argument 'rates'"),
    (lambda: rel.relaxation_curve([-100.0], [1.0]), "argument 'rates'"),
    (lambda: rel.relaxation_curve([1.0], [-1.0]), "argument 't'"),
    (lambda: rel.relaxation_curve([1.0], [NAN]), "argument 't'"),
    # Eq. 16: was ZeroDivisionError (lam_min = 0), NaN (lam_min < 0, lam_min = lam_max)
    (lambda: rel.log_relaxation([1.0], 0.0, 1.0), "argument 'lam_min'"),
    (lambda: rel.log_relaxation([1.0], -1.0, 1.0), "argument 'lam_min'"),
    (lambda: rel.log_relaxation([1.0], 1.0, 1.0), "argument 'lam_min' must be < 'lam_max'"),
    (lambda: rel.log_relaxation([1.0], 1e-6, NAN), "argument 'lam_max'"),
    (lambda: rel.log_relaxation([-1.0], 1e-6, 1.0), "argument 't'"),
    (lambda: rel.log_relaxation([NAN], 1e-6, 1.0), "argument 't'"),
    # Eq. 17 diverges at t = 0 (no limit): refused
    (lambda: rel.log_relaxation_asymptotic([0.0], 1e-6), "argument 't'"),
    (lambda: rel.log_relaxation_asymptotic([1.0], -1e-6), "argument 'lam_min'"),
    (lambda: rel.exp1([-1.0]), "argument 'x'"),
])
def test_bad_input_is_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("lmin, lmax", [(1e-6, 1.0), (1e-6, 1e2), (0.5, 2.0), (1e-100, 1e100)])
def test_log_relaxation_at_and_near_t0_is_the_analytic_limit(lmin, lmax):
    # t = 0: exactly 1 (was NaN = inf - inf); t so small that lam t underflows: still 1
    out = np.asarray(rel.log_relaxation([0.0, 5e-324], lmin, lmax))
    assert out[0] == 1.0 and out[1] == pytest.approx(1.0, abs=1e-300)
    # small t: 1 + [Ein(lmin t) - Ein(lmax t)] / ln(lmax/lmin) = 1 - (lmax - lmin) t / ln + O(t^2)
    t = 1e-9 / lmax
    lin = 1.0 - (lmax - lmin) * t / math.log(lmax / lmin)
    assert float(rel.log_relaxation(t, lmin, lmax)[()]) == pytest.approx(lin, rel=1e-15, abs=1e-17)
    g = jax.grad(lambda s: rel.log_relaxation(s, lmin, lmax))(0.0)
    assert float(g) == pytest.approx(-(lmax - lmin) / math.log(lmax / lmin), rel=1e-12)
    # away from 0 the value is still Eq. 16 (scipy's E1), in both evaluation branches
    ts = np.geomspace(1e-3 / lmax, 1e2 / lmin, 60)
    ts = ts[ts * lmax < 700]
    ref = (scipy.special.exp1(lmin * ts) - scipy.special.exp1(lmax * ts)) / math.log(lmax / lmin)
    np.testing.assert_allclose(rel.log_relaxation(ts, lmin, lmax), ref, rtol=1e-12, atol=1e-300)


def test_corrected_values_and_jit():
    # every rate the same: the whole distribution sits at lambda = 1, so lambda_min = 1
    # (was 10^-0.125: a one-bin histogram of width 1 read with the width 1/bins_per_decade)
    assert rel.lambda_min([1.0, 1.0, 1.0]) == pytest.approx(1.0, rel=1e-12)
    # the documented t shape (M,) and any other shape: response 1 at t = 0
    np.testing.assert_allclose(rel.relaxation_curve([1.0, 2.0], 1.0), (math.exp(-1) + math.exp(-2)) / 2)
    assert rel.relaxation_curve([1.0], [[0.0, 1.0]]).shape == (1, 2)
    assert float(rel.exp1(0.0)) == math.inf          # E1(0) = inf, the documented limit
    # checks are skipped for traced arguments
    np.testing.assert_allclose(jax.jit(rel.log_relaxation)(jnp.array([0.0, 1.0]), 1e-6, 1.0),
                               [1.0, 0.94234027], rtol=1e-8)
    np.testing.assert_allclose(jax.jit(rel.relaxation_curve)(jnp.array([1.0, 2.0]), jnp.array([0.0])), [1.0])
