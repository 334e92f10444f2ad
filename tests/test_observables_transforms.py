"""Transformation invariants: jit == no-jit == vmap, gradients vs finite differences,
finite jacfwd over the whole supported range, float32 path, bad input."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jtls

A0, W0 = 2 * math.pi * 9.4e6, 2 * math.pi * 9e4

# (name, function of (T, p) with p a dict of parameters, parameters)
CASES = [
    ("specific_heat", lambda T, p: jtls.specific_heat(T, p["B"], p["mu"]), dict(B=1.3, mu=0.2)),
    ("thermal_conductivity", lambda T, p: jtls.thermal_conductivity(T, p["B"], p["mu"]), dict(B=1.3, mu=0.2)),
    ("thermal_conductivity_A1", lambda T, p: jtls.thermal_conductivity_A1(T, p["B"], p["mu"]), dict(B=1.3, mu=0.2)),
    ("velocity_shift_resonant", lambda T, p: jtls.velocity_shift_resonant(T, p["C"], p["mu"]), dict(C=3e-4, mu=0.2)),
    ("velocity_shift_relaxation", lambda T, p: jtls.velocity_shift_relaxation(T, p["C"], p["mu"], p["A"], p["omega"]),
     dict(C=3e-4, mu=0.2, A=A0, omega=W0)),
    ("velocity_shift", lambda T, p: jtls.velocity_shift(T, p["C"], p["mu"], p["A"], p["omega"]),
     dict(C=3e-4, mu=0.2, A=A0, omega=W0)),
    ("velocity_shift_relaxation_A2",
     lambda T, p: jtls.velocity_shift_relaxation_A2(T, p["C"], p["mu"], p["A"], p["omega"]),
     dict(C=3e-4, mu=0.2, A=A0, omega=W0)),
    ("internal_friction", lambda T, p: jtls.internal_friction(T, p["C"], p["mu"], p["A"], p["omega"]),
     dict(C=3e-4, mu=0.2, A=A0, omega=W0)),
    ("dielectric_shift", lambda T, p: jtls.dielectric_shift(T, p["C"], p["mu"], p["A"], p["omega"]),
     dict(C=8e-4, mu=0.1, A=A0, omega=W0)),
    ("thermal_conductivity_si", lambda T, p: jtls.thermal_conductivity_si(T, p["C"], p["C"], 5800., 3750., p["mu"]),
     dict(C=3e-4, mu=0.2)),
]
IDS = [c[0] for c in CASES]
T3 = np.array([0.01, 0.2, 3.0])


@pytest.mark.parametrize("name,fn,p", CASES, ids=IDS)
def test_jit_nojit_vmap_agree(name, fn, p):
    ref = np.array([float(fn(t, p)) for t in T3])
    np.testing.assert_allclose(fn(T3, p), ref, rtol=1e-13)
    np.testing.assert_allclose(jax.jit(lambda T: fn(T, p))(T3), ref, rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(lambda T: fn(T, p))(jnp.asarray(T3)), ref, rtol=1e-13)
    # vmap over a parameter
    mus = jnp.array([0.0, 0.1, 0.3])
    vm = jax.vmap(lambda m: fn(0.2, {**p, "mu": m}))(mus)
    np.testing.assert_allclose(vm, [float(fn(0.2, {**p, "mu": float(m)})) for m in mus], rtol=1e-13)


@pytest.mark.parametrize("name,fn,p", CASES, ids=IDS)
def test_gradients_match_finite_differences(name, fn, p):
    T = 0.2
    gT, gp = jax.jit(jax.grad(fn, argnums=(0, 1)))(T, p)   # one compilation for all arguments
    grads = {"T": gT, **gp}
    for key, g in grads.items():
        x0 = T if key == "T" else p[key]
        h = 1e-4 * abs(x0)

        def f(x):
            return fn(x, p) if key == "T" else fn(T, {**p, key: x})

        fd = (float(f(x0 + h)) - float(f(x0 - h))) / (2 * h)
        assert math.isfinite(float(g))
        assert float(g) == pytest.approx(fd, rel=1e-6, abs=1e-9 * abs(float(f(x0))) / abs(x0)), key


def test_derivatives_finite_over_whole_range():
    # corners of T in [1 mK, 10 K], mu in [0, 0.5], omega/2pi in [10 Hz, 10 MHz], A in [1e5, 1e10]
    Ts = jnp.array([1e-3, 1e-2, 1.0, 10.0])
    grid = np.array([(mu, A, 2 * math.pi * f) for mu in (0.0, 0.5) for A in (1e5, 1e10)
                     for f in (10.0, 1e7)])
    mus, As, oms = (jnp.asarray(grid[:, k]) for k in range(3))
    for fn in (lambda t, m, a, o: jtls.velocity_shift(t, 1e-3, m, a, o),
               lambda t, m, a, o: jtls.internal_friction(t, 1e-3, m, a, o),
               lambda t, m, a, o: jtls.specific_heat(t, 1.0, m),
               lambda t, m, a, o: jtls.thermal_conductivity(t, 1.0, m)):
        fwd = jax.jit(jax.vmap(jax.jacfwd(fn, argnums=(0, 1, 2, 3)), (None, 0, 0, 0)))
        rev = jax.jit(jax.vmap(jax.vmap(jax.grad(fn, argnums=(0, 1, 2, 3)), (0, None, None, None)),
                               (None, 0, 0, 0)))
        for j in list(fwd(Ts, mus, As, oms)) + list(rev(Ts, mus, As, oms)):
            assert np.all(np.isfinite(np.asarray(j)))


def test_python_lists_and_scalars_accepted():
    np.testing.assert_allclose(jtls.specific_heat([0.1, 0.5], 1.0, [0.0, 0.1]),
                               jtls.specific_heat(np.array([0.1, 0.5]), 1.0, np.array([0.0, 0.1])),
                               rtol=0)
    d = jtls.ConstantDOS(1.0)
    assert jtls.specific_heat_dos((0.1, 0.5), d).shape == (2,)
    assert jtls.velocity_shift(0.3, 1e-4, 0.1, 1e7, 1e5).shape == ()


def test_float32_path():
    T32 = jnp.asarray([0.05, 0.5, 5.0], dtype=jnp.float32)
    for fn in (lambda T: jtls.velocity_shift(T, 3e-4, 0.1, A0, W0),
               lambda T: jtls.specific_heat(T, 1.0, 0.1),
               lambda T: jtls.thermal_conductivity(T, 1.0, 0.1),
               lambda T: jtls.internal_friction(T, 3e-4, 0.1, A0, W0),
               lambda T: jtls.velocity_shift_relaxation_A2(T, 3e-4, 0.1, A0, W0),
               lambda T: jtls.thermal_conductivity_A1(T, 1.0, 0.1),
               lambda T: jtls.velocity_shift_resonant_dos(T, jtls.PowerLawDOS(1.0, 0.1), 3e-4)):
        out32 = fn(T32)
        assert out32.dtype == jnp.float32
        np.testing.assert_allclose(out32, fn(np.asarray(T32, dtype=np.float64)), rtol=2e-4)


@pytest.mark.parametrize("call,arg", [
    (lambda: jtls.specific_heat(0.0, 1.0, 0.1), "'T'"),
    (lambda: jtls.specific_heat(np.array([0.1, -1.0]), 1.0, 0.1), "'T'"),
    (lambda: jtls.thermal_conductivity(np.nan, 1.0, 0.1), "'T'"),
    (lambda: jtls.thermal_conductivity(np.inf, 1.0, 0.1), "'T'"),
    (lambda: jtls.velocity_shift(0.1, 1e-3, 0.1, 1e7, -1.0), "'omega'"),
    (lambda: jtls.velocity_shift(0.1, 1e-3, 0.1, -1e7, 1.0), "'A'"),
    (lambda: jtls.velocity_shift_relaxation(0.1, 1e-3, 0.1, 1e7, 0.0), "'omega'"),
    (lambda: jtls.velocity_shift_resonant(0.1, 1e-3, 2.5), "'mu'"),
    (lambda: jtls.specific_heat(0.1, 1.0, -0.9), "'mu'"),
    (lambda: jtls.velocity_shift_resonant(0.1, 1e-3, 0.1, T_ref=0.0), "'T_ref'"),
    (lambda: jtls.specific_heat(np.ones(3), np.ones(2), 0.1), "mismatched shapes"),
    (lambda: jtls.specific_heat(0.1, np.nan, 0.1), "'B'"),
    (lambda: jtls.TabulatedDOS.create([0.1, 0.2], [0.0, 1.0], np.ones((3, 2))), "'values'"),
    (lambda: jtls.TabulatedDOS.create([0.2, 0.1], [0.0, 1.0], np.ones((2, 2))), "'T_grid'"),
])
def test_bad_input_names_argument(call, arg):
    with pytest.raises(ValueError, match=arg):
        call()
