"""Metropolis kernel, local fields and stability checks of jtls.anneal (Hamiltonian (2))."""
import itertools

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import jtls  # noqa: F401
from jtls.anneal.kernel import (ChainState, anneal_at, init_state, sweep, sweep_dense, sweep_randoms,
                                sweep_scalar, sweep_sequential)
from jtls.anneal.lattice import ModelParams, energy, local_fields, make_disorder
from jtls.anneal.stability import check, relax


def _small_system(n=4, seed=3):
    rng = np.random.default_rng(seed)
    h = 1.5 * rng.standard_normal(n)
    g = np.triu(rng.standard_normal((n, n)), 1)
    J = 1.2 * (g + g.T)
    return jnp.asarray(h), jnp.asarray(J)


def _exact_distribution(h, J, T):
    """Boltzmann probabilities of all 2^n states by enumeration (independent of jtls)."""
    h, J = np.asarray(h), np.asarray(J)
    n = h.size
    states = np.array(list(itertools.product([-1.0, 1.0], repeat=n)))
    E = states @ h + 0.5 * np.einsum("si,ij,sj->s", states, J, states)
    w = np.exp(-(E - E.min()) / T)
    return states, w / w.sum()


@pytest.mark.parametrize("mode", [("skip", 3), ("dense", 2), ("seq", 3)])
def test_fixed_T_metropolis_reproduces_boltzmann(mode):
    """Many independent chains at fixed T: state frequencies vs exact enumeration.

    N = 4000 chains, 40 sweeps each (the chain mixes in a few sweeps at T = 2 K for
    these couplings); each state's frequency must lie within 5 binomial sigmas
    sqrt(p(1-p)/N) (+1/N) of the exact Boltzmann probability.
    """
    h, J = _small_system()
    T = 2.0
    N = 4000
    kind, M = mode
    step = {"skip": sweep, "dense": sweep_dense, "seq": sweep_sequential}[kind]
    keys = jax.random.split(jax.random.key(11), N)

    def chain(k):
        k0, k1 = jax.random.split(k)
        st = init_state(k0, h, J)

        def body(st, s):
            st, _ = step(jax.random.fold_in(k1, s), st, J, T, M)
            return st, None

        st, _ = jax.lax.scan(body, st, jnp.arange(40))
        return st.tau

    taus = np.asarray(jax.jit(jax.vmap(chain))(keys))
    states, p = _exact_distribution(h, J, T)
    idx = ((taus > 0).astype(int) * (2 ** np.arange(h.size)[::-1])).sum(1)
    freq = np.bincount(idx, minlength=len(p)) / N
    sig = np.sqrt(p * (1 - p) / N)
    assert np.all(np.abs(freq - p) <= 5 * sig + 1.0 / N), (freq, p)
    # and the mean energy
    Eex = (p * (states @ np.asarray(h) + 0.5 * np.einsum("si,ij,sj->s", states, np.asarray(J), states))).sum()
    Es = taus @ np.asarray(h) + 0.5 * np.einsum("si,ij,sj->s", taus, np.asarray(J), taus)
    assert abs(Es.mean() - Eex) <= 5 * Es.std() / np.sqrt(N)


@pytest.mark.parametrize("dense,M,T", [("skip", 1, 30.0), ("skip", 16, 1.0), ("dense", 8, 3.0),
                                       ("seq", 16, 30.0), ("seq", 5, 3.0)])
def test_incremental_fields_equal_recomputed(dense, M, T):
    """After many sweeps the incrementally updated fields equal h + J tau."""
    p = ModelParams(L=4)
    dis = make_disorder(jax.random.key(5), p)
    st = init_state(jax.random.key(6), dis.h, dis.J)
    st, nacc = jax.jit(lambda s: anneal_at(jax.random.key(7), s, dis.h, dis.J, T, 20, M, dense))(st)
    assert int(nacc) > 0
    assert set(np.unique(np.asarray(st.tau))) <= {-1.0, 1.0}
    np.testing.assert_allclose(st.field, local_fields(st.tau, dis.h, dis.J), rtol=0, atol=1e-10)


@pytest.mark.parametrize("M,T", [(64, 30.0), (7, 3.0), (64, 1.0)])
def test_sequential_blocks_equal_plain_sequential_loop(M, T):
    """The fixed-point block solution of a sequential sweep makes exactly the
    decisions of a plain one-site-at-a-time loop (numpy, independent of jtls's
    blocking) fed with the same thresholds -T ln u, sweep after sweep."""
    p = ModelParams(L=6)                       # n = 108: several blocks and a remainder for M = 7
    dis = make_disorder(jax.random.key(21), p)
    st = init_state(jax.random.key(22), dis.h, dis.J)
    h, J = np.asarray(dis.h), np.asarray(dis.J)
    tau = np.asarray(st.tau).copy()
    step = jax.jit(lambda k, s: sweep_sequential(k, s, dis.J, T, M))
    flips = 0
    for s in range(5):
        key = jax.random.fold_in(jax.random.key(23), s)
        st, nacc = step(key, st)
        _, thr = sweep_randoms(key, p.n, T)
        thr = np.asarray(thr)
        for i in range(p.n):
            f = h[i] + J[i] @ tau
            if -2.0 * tau[i] * f < thr[i]:
                tau[i] = -tau[i]
                flips += 1
        np.testing.assert_array_equal(np.asarray(st.tau), tau)
    assert flips > 20


@pytest.mark.parametrize("order,T", [("random", 3.0), ("random", 0.3), ("label", 30.0), ("label", 3.0)])
def test_scalar_sweeps_are_the_same_chain(order, T):
    """sweep_scalar (one attempt at a time, cond on acceptance) makes the same
    decisions as the vectorised kernels from the same keys: skip-ahead for
    random sites, fixed-point blocks for label order."""
    p = ModelParams(L=6)
    dis = make_disorder(jax.random.key(31), p)
    st = init_state(jax.random.key(32), dis.h, dis.J)
    mode = "seq" if order == "label" else "skip"
    a, na = jax.jit(lambda s: anneal_at(jax.random.key(33), s, dis.h, dis.J, T, 6, 16, mode))(st)
    b, nb = jax.jit(lambda s: anneal_at(jax.random.key(33), s, dis.h, dis.J, T, 6, 16, mode, scalar=True))(st)
    assert int(na) == int(nb) > 0
    np.testing.assert_array_equal(a.tau, b.tau)
    np.testing.assert_allclose(b.field, local_fields(b.tau, dis.h, dis.J), rtol=0, atol=1e-10)
    one, _ = jax.jit(lambda k, s: sweep_scalar(k, s, dis.J, T, 0, order))(jax.random.key(34), st)
    ref, _ = jax.jit(lambda k, s: (sweep_sequential if order == "label" else sweep)(k, s, dis.J, T, 16))(
        jax.random.key(34), st)
    np.testing.assert_array_equal(one.tau, ref.tau)


def test_sweep_random_numbers_are_uniform_and_uncorrelated():
    """Sites and u of sweep_randoms over 2000 sweeps (N = 2e5 attempts): site
    counts pass a chi-square test (100 bins, 99 dof: mean 99, sd 14; bound at
    +5 sd), mean and variance of u match 1/2 and 1/12, and the lag-1 and
    sweep-to-sweep correlations of u are below 5/sqrt(N)."""
    n, S, T = 100, 2000, 1.0
    keys = jax.vmap(lambda s: jax.random.fold_in(jax.random.key(41), s))(jnp.arange(S))
    sites, thr = jax.vmap(lambda k: sweep_randoms(k, n, T))(keys)
    sites, u = np.asarray(sites).ravel(), np.exp(-np.asarray(thr) / T)
    N = sites.size
    counts = np.bincount(sites, minlength=n)
    chi2 = ((counts - N / n) ** 2 / (N / n)).sum()
    assert chi2 < 99 + 5 * 14.1, chi2
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / N)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / N)
    z = (u - 0.5) / np.sqrt(1 / 12)
    assert abs(np.mean(z[:, 1:] * z[:, :-1])) < 5 / np.sqrt(N)
    assert abs(np.mean(z[1:] * z[:-1])) < 5 / np.sqrt(N)


def test_modes_give_the_same_chain():
    """Skip-ahead and dense-block sweeps realize the same chain (same keys -> same states)."""
    p = ModelParams(L=4)
    dis = make_disorder(jax.random.key(1), p)
    st0 = init_state(jax.random.key(2), dis.h, dis.J)
    a, na = jax.jit(lambda s: anneal_at(jax.random.key(3), s, dis.h, dis.J, 3.0, 10, 16, False))(st0)
    b, nb = jax.jit(lambda s: anneal_at(jax.random.key(3), s, dis.h, dis.J, 3.0, 10, 4, True))(st0)
    assert int(na) == int(nb)
    np.testing.assert_array_equal(a.tau, b.tau)


def test_stability_catches_planted_pair():
    """Two TLSs, h = 0.5, 0.5, J12 = -2: (+,+) is single-stable (costs 3) but the pair
    flip to (-,-) gains 2 K (hand calculation)."""
    h = jnp.array([0.5, 0.5])
    J = jnp.array([[0.0, -2.0], [-2.0, 0.0]])
    tau = jnp.array([1.0, 1.0])
    f = local_fields(tau, h, J)
    rep = check(tau, f, J)
    assert int(rep.single) == 0 and int(rep.pair) == 1
    tau2, f2, k, capped = relax(tau, f, J)
    np.testing.assert_array_equal(tau2, [-1.0, -1.0])
    assert int(k) == 1 and not bool(capped)
    assert float(energy(tau2, h, J)) == pytest.approx(-3.0)


def test_stability_catches_planted_singles_and_relaxes():
    p = ModelParams(L=4)
    dis = make_disorder(jax.random.key(9), p)
    st = init_state(jax.random.key(10), dis.h, dis.J)
    tau, f, k, capped = relax(st.tau, st.field, dis.J)
    assert int(k) > 0 and not bool(capped)
    rep = check(tau, local_fields(tau, dis.h, dis.J), dis.J)
    assert int(rep.single) == 0 and int(rep.pair) == 0
    # plant: flip 3 TLSs of the stable state -> exactly those 3 are single-unstable
    planted = jnp.array([0, 5, 17])
    tau_bad = tau.at[planted].multiply(-1.0)
    # brute force with numpy energies: downhill single and pair flips
    hn, Jn, tb = np.asarray(dis.h), np.asarray(dis.J), np.asarray(tau_bad)

    def En(t):
        return t @ hn + 0.5 * t @ Jn @ t

    E0 = En(tb)

    def flipped(*ii):
        t = tb.copy()
        t[list(ii)] *= -1
        return t

    downhill = sum(En(flipped(i)) < E0 - 1e-9 for i in range(p.n))
    rep = check(tau_bad, local_fields(tau_bad, dis.h, dis.J), dis.J)
    assert int(rep.single) == downhill >= 1
    pairs = sum(En(flipped(i, j)) < E0 - 1e-9 for i in range(p.n) for j in range(i + 1, p.n))
    assert int(rep.pair) == pairs
    t2, f2, k2, _ = relax(tau_bad, local_fields(tau_bad, dis.h, dis.J), dis.J)
    rep2 = check(t2, local_fields(t2, dis.h, dis.J), dis.J)
    assert int(rep2.single) == 0 and int(rep2.pair) == 0
    assert float(energy(t2, dis.h, dis.J)) < E0


def test_disorder_statistics():
    """J_ij = c_ij J0/(R^3 + 1) with minimum-image R; c_ij ~ N(0,1); h ~ N(0, h0^2)."""
    p = ModelParams(L=6, J0=2.0, h0=10.0)
    dis = make_disorder(jax.random.key(0), p)
    J = np.asarray(dis.J)
    assert J.shape == (p.n, p.n) and p.n == 108
    np.testing.assert_array_equal(J, J.T)
    assert np.all(np.diag(J) == 0)
    pos = np.asarray(dis.pos)
    assert len({tuple(r) for r in pos}) == p.n
    d = np.abs(pos[:, None] - pos[None])
    d = np.minimum(d, 6 - d)
    R3 = ((d ** 2).sum(-1)) ** 1.5
    iu = np.triu_indices(p.n, 1)
    c = (J * (R3 + 1.0) / 2.0)[iu]
    # mean 0, variance 1 within 5 sigma for 5778 samples
    assert abs(c.mean()) < 5 / np.sqrt(c.size)
    assert abs(c.var() - 1) < 5 * np.sqrt(2 / c.size)
    assert abs(np.asarray(dis.h).std() / 10.0 - 1) < 5 / np.sqrt(2 * p.n)
