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
