"""Long inputs are evaluated in chunks (jtls.observables._common.CHUNK): same values
and derivatives as the one-shot vmapped evaluation of the pieces."""
import numpy as np
import jax
import jax.numpy as jnp

import jtls
from jtls.observables import _common


def test_chunked_evaluation_equals_pieces_and_gradients_agree():
    n = 2 * _common.CHUNK + 37                     # two full chunks and a remainder
    T = np.geomspace(0.01, 10.0, n)
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    whole = np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.1, A, om))
    pieces = np.concatenate([np.asarray(jtls.velocity_shift(T[i:i + 500], 3.2e-4, 0.1, A, om))
                             for i in range(0, n, 500)])
    np.testing.assert_allclose(whole, pieces, rtol=1e-13, atol=1e-20)
    kappa = np.asarray(jtls.thermal_conductivity(T, 2.0, 0.2))
    kappa_p = np.concatenate([np.asarray(jtls.thermal_conductivity(T[i:i + 700], 2.0, 0.2))
                              for i in range(0, n, 700)])
    np.testing.assert_allclose(kappa, kappa_p, rtol=1e-13)
    # forward-mode derivative in mu through the chunked map (what the fit Jacobian uses)
    f = lambda mu: jtls.velocity_shift(jnp.asarray(T), 3.2e-4, mu, A, om)  # noqa: E731
    d_whole = np.asarray(jax.jvp(f, (0.1,), (1.0,))[1])
    g = lambda mu, t: jtls.velocity_shift(t, 3.2e-4, mu, A, om)  # noqa: E731
    d_piece = np.concatenate([np.asarray(jax.jvp(lambda m: g(m, jnp.asarray(T[i:i + 500])), (0.1,), (1.0,))[1])
                              for i in range(0, n, 500)])
    np.testing.assert_allclose(d_whole, d_piece, rtol=1e-12, atol=1e-20)


def test_long_inputs_are_mapped_in_chunks_short_ones_are_not():
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    f = lambda t: jtls.velocity_shift(t, 3.2e-4, 0.1, A, om)  # noqa: E731
    long_ = str(jax.make_jaxpr(f)(jnp.geomspace(0.01, 10.0, _common.CHUNK + 1)))
    short = str(jax.make_jaxpr(f)(jnp.geomspace(0.01, 10.0, _common.CHUNK)))
    assert long_.count("scan") > short.count("scan")


# --------------------------------------------------------------------------
# transformations of the public functions stay in bounded chunks (issue 12: a user's
# jax.vmap(jax.grad(velocity_shift_relaxation_A2)) over 1200 points asked for 26.7 GB)

def _temp_bytes(fn, *args):
    """Scratch memory XLA reserves for the compiled ``fn`` (compile only, nothing runs)."""
    return jax.jit(fn).lower(*args).compile().memory_analysis().temp_size_in_bytes


def test_vmap_of_grad_of_eq_a2_is_bounded_and_exact():
    from jtls.observables import acoustic
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    f = lambda t, m: jtls.velocity_shift_relaxation_A2(t, 3.2e-4, m, A, om)  # noqa: E731
    vg = jax.vmap(jax.grad(f, argnums=(0, 1)), in_axes=(0, None))
    # memory: 1200 points of the 2-d quadrature, reverse mode, vmapped by the user
    assert _temp_bytes(vg, jnp.geomspace(0.02, 5.0, 1200), 0.2) < 0.5e9
    # values: the same derivatives as plain autodiff of the per-point kernel
    T = jnp.geomspace(0.02, 5.0, 5)
    ref = jax.vmap(jax.grad(lambda t, m: acoustic._relaxation_a2_pl_e(t, 3.2e-4, m, A, om), argnums=(0, 1)),
                   in_axes=(0, None))(T, 0.2)
    got = vg(T, 0.2)
    for g, r in zip(got, ref):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=1e-12)


def test_vmap_grad_jacfwd_jacrev_and_second_derivatives_agree():
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    T = jnp.geomspace(0.05, 3.0, 6)
    f = lambda m: jtls.velocity_shift(T, 3.2e-4, m, A, om)  # noqa: E731
    jf, jr = np.asarray(jax.jacfwd(f)(0.15)), np.asarray(jax.jacrev(f)(0.15))
    np.testing.assert_allclose(jf, jr, rtol=1e-12)
    # central difference in mu (step 1e-5: truncation ~1e-10 relative)
    h = 1e-5
    fd = (np.asarray(f(0.15 + h)) - np.asarray(f(0.15 - h))) / (2 * h)
    np.testing.assert_allclose(jf, fd, rtol=1e-6)
    # second derivative (kappa, cheap to compile): forward over reverse, reverse over
    # reverse and a central difference of the gradient agree
    k = lambda m: jnp.sum(jtls.thermal_conductivity(T, 2.0, m))  # noqa: E731
    gk = jax.grad(k)
    h2 = float(jax.grad(gk)(0.15))
    np.testing.assert_allclose(float(jax.jacfwd(gk)(0.15)), h2, rtol=1e-10)
    np.testing.assert_allclose((float(gk(0.15 + h)) - float(gk(0.15 - h))) / (2 * h), h2, rtol=1e-6)
    # derivatives in a DOS model's parameters (forward mode of the chunked map)
    g_dos = jax.grad(lambda m: jnp.sum(jtls.velocity_shift_dos(T, jtls.dos.PowerLawDOS(1.0, m), A, om)))(0.15)
    g_pl = jax.grad(lambda m: jnp.sum(jtls.velocity_shift(T, 1.0, m, A, om)))(0.15)
    np.testing.assert_allclose(float(g_dos), float(g_pl), rtol=1e-10)


def test_vmap_over_many_temperatures_is_flattened_into_chunks():
    om = jtls.units.paper_frequency(90e3)
    A = jtls.units.paper_frequency(9.4e6)
    g = jax.vmap(jax.grad(lambda t, m: jtls.thermal_conductivity(t, 2.0, m), argnums=1), in_axes=(0, None))
    assert _temp_bytes(g, jnp.geomspace(0.02, 5.0, 100_000), 0.2) < 0.25e9
    # a vmap over a DOS parameter (batched DOS model) maps over the batch: same values
    T = jnp.geomspace(0.05, 3.0, 4)
    mus = jnp.asarray([0.0, 0.1, 0.3])
    batched = jax.vmap(lambda m: jtls.velocity_shift_dos(T, jtls.dos.PowerLawDOS(1.0, m), A, om))(mus)
    single = np.stack([np.asarray(jtls.velocity_shift_dos(T, jtls.dos.PowerLawDOS(1.0, float(m)), A, om))
                       for m in mus])
    np.testing.assert_allclose(np.asarray(batched), single, rtol=1e-13)
