"""Two-TLS (S-tau) model, Schechter & Stamp 2013 App. B2-B3.

Reference values: hand-computed two- and three-site configurations, the
paper's quoted TLS counts, and its qualitative statements (P_S rises from 0 to
1, random fields shrink the gap, T_U ~ 0.2 <E_tau> weakly dependent on a~,
C_o ~ kappa g).  Windows set from this code's runs are labelled regression
checks, each with the independent limit it stands in for (homogeneity in the
coupling scale, the strong-field limit P_S -> 1, the DOS estimator on a known
distribution).
"""
import math

import numpy as np
import pytest
import jax
import jax.numpy as jnp

import jtls  # noqa: F401
from jtls.companion import two_tls as st


def test_two_site_configuration_by_hand():
    # S_A-tau_B coupling U_AB = 0.7, S_B-tau_A coupling U_BA = -0.4, no fields.
    # E_tau_B = 0.7 (no flip), E_tau_A = |-0.4| = 0.4 after flipping tau_A (U_BA -> +0.4).
    # E_S^min_A = max(0, 2*0.7 - 0.7) = 0.7 ; E_S^min_B = max(0, 2*0.4 - 0.4) = 0.4.
    U = jnp.array([[0.0, 0.7], [-0.4, 0.0]])
    e_min, e_tau = st.emin_from_couplings(U)
    np.testing.assert_allclose(e_min, [0.7, 0.4], rtol=0, atol=1e-15)
    np.testing.assert_allclose(e_tau, [0.4, 0.7], rtol=0, atol=1e-15)
    np.testing.assert_allclose(st.reduction_factor(e_min, [0.3, 0.5, 0.8]), [0.0, 0.5, 1.0])


def test_two_site_with_random_fields_by_hand():
    # Fields h = (0.1, -1.0): E_tau_A = -0.4 + 0.1 = -0.3 -> flip, U_BA -> 0.4, E_tau_A = 0.3;
    # E_tau_B = 0.7 - 1.0 = -0.3 -> flip, U_AB -> -0.7, E_tau_B = 0.3.
    # E_S^min_A = max(0, -1.4 - 0.3) = 0 ; E_S^min_B = max(0, 0.8 - 0.3) = 0.5.
    U = jnp.array([[0.0, 0.7], [-0.4, 0.0]])
    e_min, e_tau = st.emin_from_couplings(U, jnp.array([0.1, -1.0]))
    np.testing.assert_allclose(e_min, [0.0, 0.5], atol=1e-15)
    np.testing.assert_allclose(e_tau, [0.3, 0.3], atol=1e-15)


def test_three_site_max_over_partners():
    # S_0 couples to tau_1 (0.5) and tau_2 (0.2); tau_1 also feels S_2 (1.0): E_tau_1 = 1.5,
    # tau_2 feels S_1 (-0.6): E_tau_2 = 0.2 - 0.6 = -0.4 -> flip: U_02 = -0.2, U_12 = 0.6, E = 0.4.
    # E_S^min_0 = max(2*0.5-1.5, 2*(-0.2)-0.4, 0) = 0 ; S_1: tau_0 E = 0.3 (U_10 = 0.3, U_20 = 0)
    # -> candidates 2*0.3-0.3 = 0.3 and 2*0.6-0.4 = 0.8 -> 0.8 ; S_2: 2*1.0-1.5 = 0.5.
    U = jnp.array([[0.0, 0.5, 0.2], [0.3, 0.0, -0.6], [0.0, 1.0, 0.0]])
    e_min, e_tau = st.emin_from_couplings(U)
    np.testing.assert_allclose(e_tau, [0.3, 1.5, 0.4], atol=1e-15)
    np.testing.assert_allclose(e_min, [0.0, 0.8, 0.5], atol=1e-15)


def test_lattice_counts_match_the_paper():
    # Fig. 2: x = 0.2 on 18^3 cells ~ 4650 TLSs; Fig. 4: x = 0.5 on 13^3 cells ~ 4400.
    assert abs(st.n_impurities(18, 0.2, "fcc") - 4650) < 25
    assert abs(st.n_impurities(13, 0.5, "fcc") - 4400) < 25
    for lat in st.LATTICES:
        pos, box = st.lattice_sites(3, lat)
        d = pos[:, None, :] - pos[None, :, :]
        d -= box * np.round(d / box)
        r = np.sqrt((d**2).sum(-1))
        assert np.min(r[r > 0]) == pytest.approx(1.0)
        assert len(np.unique(np.round(pos, 9), axis=0)) == len(pos)


def test_sample_matches_direct_numpy_for_same_draws():
    # Re-derive U for one realization with numpy from the same random draws, then apply B2.
    L, x, at = 4, 0.5, 1.5
    sites, box = st.lattice_sites(L, "sc")
    n = st.n_impurities(L, x, "sc")
    key = jax.random.PRNGKey(3)
    out = st.sample(key, sites, box, n, at, 0.0)
    kp, kc, kh = jax.random.split(key, 3)
    p = sites[np.asarray(jax.random.permutation(kp, sites.shape[0]))[:n]]
    c = np.asarray(jax.random.normal(kc, (n, n)))
    d = p[:, None, :] - p[None, :, :]
    d -= box * np.round(d / box)
    R3 = (d**2).sum(-1) ** 1.5
    U = c * (box**3 / n) / (R3 + at**3)
    np.fill_diagonal(U, 0.0)
    Et = U.sum(0)
    sgn = np.where(Et < 0, -1.0, 1.0)
    cand = 2 * U * sgn[None] - np.abs(Et)[None]
    np.fill_diagonal(cand, -np.inf)
    np.testing.assert_allclose(out.e_min, np.maximum(0, cand.max(1)), rtol=1e-12, atol=1e-12)
    assert float(out.e_tau_mean) == pytest.approx(np.abs(Et).mean(), rel=1e-12)


@pytest.fixture(scope="module")
def runs():
    key = jax.random.PRNGKey(11)
    out = {}
    for h in (0.0, 1.0):
        for at in (1.5, 6.0):
            out[(h, at)] = st.simulate(key, 4, 7, 0.5, at, h, lattice="fcc", batch=4)
    return out


def test_reduction_factor_shape_and_gap(runs):
    r = runs[(0.0, 1.5)]
    Et = r.e_tau_mean.mean()
    E = np.geomspace(1e-3, 30, 200) * Et
    P = st.reduction_factor(r.e_min, E)
    assert np.all(np.diff(P) >= 0) and P[0] < 0.05 and P[-1] == 1.0
    assert np.all(r.e_min >= 0) and np.all(r.e_tau >= 0)
    # strong S-tau gap: below 0.05 <E_tau> fewer than 10 % of the S spins survive
    assert st.reduction_factor(r.e_min, [0.05 * Et])[0] < 0.1


def test_random_fields_make_the_gap_smaller(runs):
    """App. B3: "the dipolar gap of the S TLSs indeed becomes smaller" with h^tau.

    Limit: for h^tau >> every coupling, |E_tau_j| ~ |h_j| exceeds 2 U_ij for all pairs,
    so E_S^min = max(0, 2 U_ij - |E_tau_j|) = 0 and P_S(E) -> 1 at all E > 0 (Eq. B7):
    the gap disappears (at h^tau = 1000 <E_tau> all but ~0.1 % of the S spins survive)."""
    for at in (1.5, 6.0):
        E = np.array([0.1, 0.2, 0.5]) * runs[(0.0, at)].e_tau_mean.mean()
        P0 = st.reduction_factor(runs[(0.0, at)].e_min, E)
        P1 = st.reduction_factor(runs[(1.0, at)].e_min, E)
        assert np.all(P1 > P0)
    strong = st.simulate(jax.random.PRNGKey(11), 4, 7, 0.5, 1.5, 1000.0, lattice="fcc", batch=4)
    Et = runs[(0.0, 1.5)].e_tau_mean.mean()
    assert st.reduction_factor(strong.e_min, [1e-9 * Et])[0] > 0.99


def test_crossover_weakly_dependent_on_cutoff(runs):
    """T_U from P_S(T_U) = 5 g with g = 0.02 (Fig. 2 caption).

    Regression part: the paper states T_U ~ 0.2 <E_tau> for 1 < a~ < 6 (Fig. 2, 4
    captions; x = 0.2 on 18^3 cells and x = 0.5 on 13^3); this implementation gives
    ~0.1 <E_tau> at its small size (see benchmarks/companion_results.md), so the
    windows -- order of magnitude 0.05..0.4 and an a~ = 1.5 / 6 ratio within 2 -- are
    set from this code's runs, not from the paper.  The independent check they stand
    in for is the form T_U ~ 0.2 g J_o: T_U / <E_tau> is a pure number, independent
    of the coupling scale, because Eq. B7 is homogeneous of degree 1 in the
    couplings (E_S^min and E_tau scale exactly with J_St)."""
    scaled = st.simulate(jax.random.PRNGKey(11), 4, 7, 0.5, 1.5, 0.0, lattice="fcc", batch=4,
                         J_st=7.3)
    np.testing.assert_allclose(scaled.e_min, 7.3 * runs[(0.0, 1.5)].e_min, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(scaled.e_tau, 7.3 * runs[(0.0, 1.5)].e_tau, rtol=1e-12, atol=1e-13)
    vals = []
    for at in (1.5, 6.0):
        r = runs[(0.0, at)]
        Et = r.e_tau_mean.mean()
        E = np.geomspace(1e-3, 10, 400) * Et
        vals.append(st.crossover_energy(E, st.reduction_factor(r.e_min, E), 5 * 0.02) / Et)
    assert all(0.05 < v < 0.4 for v in vals)
    assert max(vals) / min(vals) < 2.0


def test_tunneling_strength_kappa_g(runs):
    """Eq. 3: C_o ~ kappa g = 2e-3 for kappa = 0.1, g = 0.02 (the paper: kappa ~ 0.1 gives
    C_o ~ 1e-3).  Regression part: with the simulated tau DOS (per impurity, per <E_tau>)
    the O(1) factor p_tau0 lies between 1/3 and 3 -- a window, not a paper number.
    Independent check of the estimator behind p_tau0: on half-normal energies its
    density at 0 is the analytic sqrt(2/pi)/sigma within its Poisson error."""
    assert st.tunneling_strength(0.1, 0.02) == pytest.approx(2e-3)
    sig = 0.7
    e = np.abs(np.random.default_rng(0).normal(0.0, sig, 200000))
    d, d_err = st.tau_dos_at_zero(e, e_max_frac=0.05)
    w = 0.05 * e.mean()   # bin [0, w): the half-normal density falls by w^2/(6 sig^2) on average
    exact = math.sqrt(2 / math.pi) / sig * (1 - w * w / (6 * sig * sig))
    assert abs(d - exact) < 4 * d_err, (d, exact, d_err)
    r = runs[(0.0, 1.5)]
    Et = r.e_tau_mean.mean()
    p0, err = st.tau_dos_at_zero(r.e_tau, scale=Et)
    assert err < 0.2 * p0
    C = st.tunneling_strength(0.1, 0.02, p0 * Et)
    assert 2e-3 / 3 < C < 3 * 2e-3


def test_crossover_helpers_on_analytic_curves():
    E = np.geomspace(1e-3, 1e3, 2001)
    P = 1 - np.exp(-E)  # P = 0.1 at E = -ln(0.9)
    assert st.crossover_energy(E, P, 0.1) == pytest.approx(-math.log(0.9), rel=1e-4)
    # g^2 n_tau = n_S with n_tau = 1, n_S = E^2 / 100 -> E = 10 g
    Eg = np.linspace(0, 1, 100001)
    assert st.crossover_from_dos(Eg, np.ones_like(Eg), Eg**2 / 100, 0.02) == pytest.approx(0.2, rel=1e-6)
    with pytest.raises(ValueError, match="threshold"):
        st.crossover_energy(E, P * 0.01, 0.5)


def test_simulate_batch_independent_and_validates():
    a = st.simulate(jax.random.PRNGKey(5), 3, 3, 0.5, 3.0, 0.3, lattice="sc", batch=1)
    b = st.simulate(jax.random.PRNGKey(5), 3, 3, 0.5, 3.0, 0.3, lattice="sc", batch=3)
    np.testing.assert_allclose(a.e_min, b.e_min, rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="'x'"):
        st.simulate(jax.random.PRNGKey(0), 1, 3, 1.5, 0.0)
    with pytest.raises(ValueError, match="lattice"):
        st.simulate(jax.random.PRNGKey(0), 1, 3, 0.5, 0.0, lattice="bcc")
    with pytest.raises(ValueError, match="a_tilde"):
        st.simulate(jax.random.PRNGKey(0), 1, 3, 0.5, -1.0)


# -- bad input: a ValueError naming the argument, never a silent wrong value -----------------
NAN = float("nan")
EG = [0.1, 1.0, 10.0]
PG = [0.01, 0.1, 0.5]


@pytest.mark.parametrize("call, match", [
    # Eq. 3: p_tau0 is a density of states (was -0.002 and NaN)
    (lambda: st.tunneling_strength(0.1, 0.02, p_tau0=-1.0), "argument 'p_tau0'"),
    (lambda: st.tunneling_strength(0.1, 0.02, p_tau0=NAN), "argument 'p_tau0'"),
    (lambda: st.tunneling_strength(1e200, 1e200, 1.0), "not finite.*kappa=1e\\+200"),
    # P_S(E) (was 0.33 with the NaN counted, 1.0 at E = NaN, [nan] + RuntimeWarning when empty)
    (lambda: st.reduction_factor([NAN, 1.0, 2.0], [1.5]), "argument 'e_min'"),
    (lambda: st.reduction_factor([1.0, 2.0], [NAN]), "argument 'E'"),
    (lambda: st.reduction_factor([], [1.0]), "argument 'e_min'"),
    (lambda: st.reduction_factor([-1.0, 1.0], [0.5]), "argument 'e_min'"),
    # crossover grid: was a wrong value (decreasing), a value (lengths differ), IndexError (empty)
    (lambda: st.crossover_energy(EG[::-1], PG, 0.05), "argument 'E'"),
    (lambda: st.crossover_energy(EG, PG[:2], 0.05), r"E \(3,\), P \(2,\)"),
    (lambda: st.crossover_energy([], [], 0.05), "argument 'E'"),
    (lambda: st.crossover_energy([0.0, 1.0, 10.0], PG, 0.05), "argument 'E'"),   # log E
    (lambda: st.crossover_energy(EG, [0.01, NAN, 0.5], 0.05), "argument 'P'"),
    (lambda: st.crossover_energy(EG, PG, NAN), "argument 'threshold'"),
    (lambda: st.crossover_from_dos(EG[::-1], [1.0] * 3, [0.0, 0.5, 2.0], 0.5), "argument 'E'"),
    (lambda: st.crossover_from_dos(EG, [1.0] * 2, [0.0, 0.5, 2.0], 0.5), r"n_tau \(2,\)"),
    (lambda: st.crossover_from_dos(EG, [1.0] * 3, [0.0, 0.5, 2.0], -0.5), "argument 'g'"),
    # tau DOS at 0: was NaN (empty), a negative density, ZeroDivisionError
    (lambda: st.tau_dos_at_zero([]), "argument 'e_tau'"),
    (lambda: st.tau_dos_at_zero([-1.0, -2.0]), "argument 'e_tau'"),
    (lambda: st.tau_dos_at_zero([1.0, 2.0], e_max_frac=0), "argument 'e_max_frac'"),
    (lambda: st.tau_dos_at_zero([0.0, 0.0]), "argument 'e_tau'"),                 # mean 0
    (lambda: st.tau_dos_at_zero([1.0, 2.0], scale=-1.0), "argument 'scale'"),
    # concentration (was 216 impurities on 108 sites, and a float-to-int error)
    (lambda: st.n_impurities(3, x=2.0), "argument 'x'"),
    (lambda: st.n_impurities(3, x=NAN), "argument 'x'"),
    (lambda: st.n_impurities(3.5, x=0.5), "argument 'L'"),
    (lambda: st.n_impurities(3, x=0.5, lattice="bcc"), "argument 'lattice'"),
    (lambda: st.simulate(jax.random.PRNGKey(0), 1, 3, 0.5, 1.5, batch=0), "argument 'batch'"),
    # couplings: was an error inside JAX
    (lambda: st.emin_from_couplings(np.zeros((2, 3))), "argument 'U'"),
    (lambda: st.emin_from_couplings(np.zeros((0, 0))), "argument 'U'"),
    (lambda: st.emin_from_couplings([[0.0, NAN], [1.0, 0.0]]), "argument 'U'"),
    (lambda: st.emin_from_couplings(np.zeros((2, 2)), np.zeros(3)), "argument 'h'"),
])
def test_bad_input_is_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_checked_functions_keep_working_under_jit_and_on_lists():
    U = [[0.0, 0.7], [-0.4, 0.0]]
    e_min, e_tau = jax.jit(st.emin_from_couplings)(jnp.asarray(U))
    np.testing.assert_allclose(e_min, [0.7, 0.4], atol=1e-15)
    e_min2, _ = st.emin_from_couplings(U)            # a nested list, as documented (array_like)
    np.testing.assert_allclose(e_min2, [0.7, 0.4], atol=1e-15)
    # a single S spin has no partner: E_S^min = 0
    np.testing.assert_array_equal(st.emin_from_couplings([[0.0]])[0], [0.0])
    assert float(jax.jit(st.tunneling_strength)(0.1, 0.02, 1.0)) == pytest.approx(2e-3)
