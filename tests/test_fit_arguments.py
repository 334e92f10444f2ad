"""Arguments of jtls.fit.fit that are not what they claim are errors naming the argument.

Each case was a traceback from numpy (tmin="0.1"), an untyped TypeError (an array as a held
value), or silently something else (bootstrap=2.5 ran 2 resamples; complex data lost their
imaginary part with only numpy's warning).
"""
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

import jtls
from jtls.fit import Model, build_problem, fit

T = np.geomspace(0.1, 1.0, 12)
Y = jtls.specific_heat(T, 2.0, 0.1) * (1 + 0.01 * np.random.default_rng(0).standard_normal(12))
MODEL = Model("specific_heat")


@pytest.mark.parametrize("kw,named", [
    (dict(tmin="0.1"), "tmin must be a real number"),
    (dict(tmin=[0.1, 0.2]), "tmin must be a real number"),
    (dict(tmax=float("nan")), "tmax must be a finite temperature"),
    (dict(fix={"mu": np.array([0.0, 0.1])}), "fix['mu'] must be a real number"),
    (dict(fix={"mu": "0.1"}), "fix['mu'] must be a real number"),
    (dict(fix={"mu": True}), "fix['mu'] must be a real number"),
    (dict(initial={"mu": 0.1 + 0.0j}), "initial['mu'] must be a real number"),
    (dict(bounds={"mu": (0.0,)}), "bounds['mu'] must be a pair"),
    (dict(bounds={"mu": ("a", 1.0)}), "bounds['mu'] lo must be a real number"),
])
def test_settings_that_are_not_real_numbers_are_named(kw, named):
    with pytest.raises(ValueError) as exc:
        build_problem(MODEL, (T, Y), **kw)
    assert named in str(exc.value)


@pytest.mark.parametrize("n", [2.5, -3, True, "10"])
def test_bootstrap_must_be_a_whole_number(n):
    with pytest.raises(ValueError, match="bootstrap must be a whole number"):
        fit(MODEL, (T, Y), fix={"mu": 0.1}, bootstrap=n)


def test_numbers_of_every_kind_are_accepted():
    """numpy and JAX scalars are numbers: the same problem as with Python floats."""
    ref = build_problem(MODEL, (T, Y), fix={"mu": 0.1}, tmin=0.2)
    for mu, tmin in ((np.float32(0.1), np.int64(0) + 0.2), (jnp.float64(0.1), jnp.asarray(0.2))):
        p = build_problem(MODEL, (T, Y), fix={"mu": mu}, tmin=tmin)
        assert p.points[0].T.size == ref.points[0].T.size == int((T >= 0.2).sum())
        assert [q.value for q in p.params] == pytest.approx([q.value for q in ref.params], rel=1e-7)


def test_complex_data_with_an_imaginary_part_are_refused_and_real_ones_accepted():
    with pytest.raises(ValueError, match=r"dataset 'data': value is complex \(imaginary part up to 0.001\)"):
        build_problem(MODEL, (T, Y + 1e-3j))
    with pytest.raises(ValueError, match="dataset 'data': sigma is complex"):
        build_problem(MODEL, (T, Y, np.full(12, 0.01) + 1e-9j))
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no ComplexWarning either
        p = build_problem(MODEL, (T + 0j, Y + 0j))
    np.testing.assert_array_equal(p.points[0].y, Y)


def test_data_that_are_not_numbers_name_the_array():
    with pytest.raises(ValueError, match="dataset 'data': value must be numbers"):
        build_problem(MODEL, (T, ["x"] * 12))
