"""The simulated-DOS library: packing (smoothing) and the interpolated model n(T, E; J0/h0, h0).

Synthetic inputs with a known answer: histograms drawn from a known density
(the smoothing must recover it within its own standard errors), and tables
of an analytic ln F (the interpolation must reproduce it and obey the exact
h0 scaling of Hamiltonian (2)).
"""
import json
import math
import os

import numpy as np
import pytest
import jax
import jax.numpy as jnp

from jtls.anneal import histogram as H
from jtls.simulated import build as B
from jtls.simulated import pack as P
from jtls.simulated.dos import SimulatedDOS, load_library


def _true_log_F(r, t, e):
    """A smooth ln F: Gaussian in e of width 2 (units of h0), depleted at low e by r, warmed by t."""
    sig = 2.0 + 0.3 * r
    depl = r * 0.8 * np.exp(-e / (0.02 + t))
    return -0.5 * (e / sig) ** 2 - math.log(sig * math.sqrt(2 * math.pi)) + np.log1p(-depl * 0.9)


def _fake_build(tmp_path, ratios=(0.1, 0.2, 0.3, 0.4), n_tls=400_000, batches=2, seed=3, shift_sd=0.0):
    """A build directory whose batch files hold multinomial counts from _true_log_F.

    ``shift_sd`` > 0 tilts ln F of each batch, at every temperature alike, by delta_b (1 - 2 exp(-e)),
    delta_b ~ N(0, shift_sd): what one set of realizations does to all its recorded temperatures."""
    d = tmp_path / "build"
    d.mkdir()
    man = B.manifest(ratios, 10, n_tls // 500, 0, 257)
    (d / B.MANIFEST).write_text(json.dumps(man))
    T = np.array([0.005, 0.05, 0.5, 5.0])
    edges = H.fine_edges() / B.H0
    rng = np.random.default_rng(seed)
    for b in range(batches):
        delta = shift_sd * rng.standard_normal()
        for i, r in enumerate(ratios):
            counts = []
            for tt in T:
                # probability of each fine bin for E >= 0 (2x the signed density), by midpoint quadrature
                sub = np.linspace(0, 1, 9)
                lo, hi = edges[:-1], edges[1:]
                x = lo[:, None] + (hi - lo)[:, None] * (0.5 * (sub[1:] + sub[:-1]))[None, :]
                dens = 2 * np.exp(_true_log_F(r, tt / B.H0, x) + delta * (1 - 2 * np.exp(-x)))
                p = dens.mean(axis=1) * (hi - lo)
                p = np.append(p, max(0.0, 1 - p.sum()))
                counts.append(rng.multinomial(n_tls, p / p.sum()))
            meta = {"params": {"J0": r * B.H0, "h0": B.H0}, "seed": B.batch_seed(0, i, b)}
            np.savez(d / B.batch_name(r, b), T=T, counts=np.array(counts), n_tls_total=np.int64(n_tls),
                     meta=json.dumps(meta))
    return d


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lib")
    d = _fake_build(tmp)
    out = tmp / "lib.npz"
    arr = P.pack(str(d), str(out), progress=False, include_zero=False)
    return arr, out


def test_pack_recovers_known_density_within_its_errors(packed):
    arr, _ = packed
    t = arr["t"]
    q = arr["q_knots"]
    e = np.sinh(q) * P.E_SCALE
    keep = e < 5.0                    # where the synthetic histograms hold counts
    z = []
    for i, r in enumerate(arr["ratios"]):
        for j, tt in enumerate(t):
            truth = _true_log_F(r, tt, e[keep])
            z.append((arr["log_F"][i, j, keep] - truth) / arr["sd_log_F"][i, j, keep])
    z = np.concatenate(z)
    # statistical errors only: most knots within 2 sd, none absurdly off; the errors are not inflated
    assert np.mean(np.abs(z) < 2.0) > 0.85
    assert np.max(np.abs(z)) < 6.0
    assert np.mean(np.abs(z) < 0.3) < 0.6


def test_zero_ratio_row_is_the_noninteracting_gaussian_and_the_annealer_agrees(tmp_path):
    """J0 = 0: pack adds ln F of a Gaussian of width 2 h0 (exact); an annealer run at J0 = 0 samples it."""
    d = _fake_build(tmp_path, batches=1)
    arr = P.pack(str(d), str(tmp_path / "z.npz"), progress=False)
    assert arr["ratios"][0] == 0.0 and np.all(arr["sd_log_F"][0] == 0)
    from scipy.stats import norm
    lib = load_library(tmp_path / "z.npz")
    E = np.array([0.0, 0.01, 1.0, 7.3, 20.0, 45.0])
    # interpolation accuracy required of the library: well below 1 % (here 5e-4, the tail is the worst)
    np.testing.assert_allclose(np.asarray(lib.dos(0.0, B.H0)(E, 0.3)), norm.pdf(E, scale=2 * B.H0), rtol=5e-4)
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig, run
    from jtls.anneal.schedule import make_schedule
    cfg = RunConfig(params=ModelParams(L=6, J0=0.0, h0=B.H0), schedule=make_schedule([1.0, 0.1], 2),
                    realizations=200, seed=5, chunk=64)
    res = run(cfg, str(tmp_path / "j0.npz"), progress=False)
    edges = res["E_edges"]
    counts = res["counts_coarse"][0].astype(float)
    N = int(res["n_tls_total"])
    p = 2 * (norm.cdf(edges[1:] / (2 * B.H0)) - norm.cdf(edges[:-1] / (2 * B.H0)))
    keep = N * p > 20
    chi2 = np.sum((counts[keep] - N * p[keep]) ** 2 / (N * p[keep]))
    dof = int(keep.sum())
    assert chi2 < dof + 4 * math.sqrt(2 * dof)      # ~4 sigma of the chi^2 distribution


def test_pack_refuses_overwrite_and_incomplete_passes(packed, tmp_path):
    _, out = packed
    d = _fake_build(tmp_path, batches=1)
    with pytest.raises(ValueError, match="exists"):
        P.pack(str(d), str(out), progress=False)
    with pytest.raises(ValueError, match="complete pass"):
        P.pack(str(d), str(tmp_path / "x.npz"), passes=2, progress=False)
    os.remove(d / B.batch_name(0.3, 0))
    with pytest.raises(ValueError, match="0 complete pass"):
        P.pack(str(d), str(tmp_path / "y.npz"), progress=False)


def test_pack_refuses_an_output_another_pack_is_writing(tmp_path):
    """Two packs of one --out at once: the second is refused by the lock (both had 'succeeded',
    the last one's file winning); the lock goes with the first, which then writes its file."""
    from jtls.anneal.files import OutputLock, RunLocked
    d = _fake_build(tmp_path, batches=1)
    out = tmp_path / "lib.npz"
    with OutputLock(out):                         # another pack holds the output
        with pytest.raises(RunLocked, match=f"another run is writing {out}"):
            P.pack(str(d), str(out), progress=False)
    assert not out.exists()
    P.pack(str(d), str(out), progress=False)
    assert out.exists() and not os.path.exists(str(out) + ".lock")


def test_pack_provenance(packed):
    arr, _ = packed
    meta = json.loads(str(arr["meta"]))
    assert meta["passes"] == 2
    assert meta["realizations_per_ratio"] == [1600] * 4
    assert len(meta["seeds"]) == 8 and len(set(meta["seeds"])) == 8
    assert "jtls library build" in meta["regenerate"]


def _analytic_library(tmp_path):
    """A library file whose ln F is a smooth analytic function of (r, ln t, q)."""
    r = np.linspace(0.05, 1.0, 20)
    t = np.geomspace(5e-4, 2.0, 30)
    q = P.q_knots()
    e = np.sinh(q) * P.E_SCALE
    R, Tt, E = np.meshgrid(r, t, e, indexing="ij")
    logF = -0.5 * (E / 2.0) ** 2 - 0.3 * R * np.exp(-E / (0.01 + Tt)) + 0.05 * np.log(Tt) * R
    path = tmp_path / "analytic.npz"
    from jtls.anneal.files import save_output      # as `jtls library pack` writes it: with its SHA-256
    save_output(path, dict(ratios=r, t=t, q_knots=q, log_F=logF, sd_log_F=0.01 + 0 * logF,
                           e_scale=np.float64(P.E_SCALE), e_max=np.float64(7.0), meta=json.dumps({"test": True})))

    def truth(rr, tt, ee):
        return -0.5 * (ee / 2.0) ** 2 - 0.3 * rr * np.exp(-ee / (0.01 + tt)) + 0.05 * np.log(tt) * rr
    return load_library(path), truth


def test_interpolation_between_knots(tmp_path):
    lib, truth = _analytic_library(tmp_path)
    rng = np.random.default_rng(0)
    rr = rng.uniform(0.06, 0.99, 40)
    tt = np.exp(rng.uniform(np.log(6e-4), np.log(1.9), 40))
    ee = np.concatenate([rng.uniform(0, 0.01, 20), rng.uniform(0.01, 5.0, 20)])
    for r, t, e in zip(rr, tt, ee):
        d = SimulatedDOS.create(lib, r, 1.0)
        got = float(d.log_F_at(e, t))
        assert abs(got - truth(r, t, e)) < 3e-3, (r, t, e)


def test_exact_h0_scaling_positivity_evenness(tmp_path):
    lib, _ = _analytic_library(tmp_path)
    E = jnp.array([0.0, 0.003, 0.1, 2.0, 25.0])
    T = 0.3
    n10 = lib.dos(0.37, 10.0)(E, T)
    for lam in (0.5, 3.0):
        nl = lib.dos(0.37, 10.0 * lam)(lam * E, lam * T)
        np.testing.assert_allclose(np.asarray(nl) * lam, np.asarray(n10), rtol=1e-12)
    assert np.all(np.asarray(n10) > 0)
    np.testing.assert_allclose(np.asarray(lib.dos(0.37, 10.0)(-E, T)), np.asarray(n10), rtol=0, atol=0)


def test_derivatives_match_finite_differences(tmp_path):
    lib, _ = _analytic_library(tmp_path)

    def n(r, h0, E, T):
        return SimulatedDOS.create(lib, r, h0)(E, T)
    for args in ((0.33, 10.0, 0.4, 0.2), (0.71, 7.0, 3.0, 1.1)):
        g = jax.grad(n, argnums=(0, 1, 2, 3))(*args)
        for k in range(4):
            h = 1e-6 * max(1.0, abs(args[k]))
            a = list(args); b = list(args)
            a[k] += h; b[k] -= h
            fd = (n(*a) - n(*b)) / (2 * h)
            assert abs(float(g[k]) - float(fd)) <= 1e-5 * abs(float(fd)) + 1e-12, (k, args)
    # C1 across a knot of r: one-sided slopes agree
    r0 = float(lib.ratios[7])
    f = lambda r: float(jnp.log(n(r, 10.0, 0.5, 0.3)))  # noqa: E731
    h = 1e-5
    left = (f(r0) - f(r0 - h)) / h
    right = (f(r0 + h) - f(r0)) / h
    assert abs(left - right) < 1e-3 * max(1.0, abs(left))


def test_range_errors_name_the_argument(tmp_path):
    lib, _ = _analytic_library(tmp_path)
    d = lib.dos(0.3, 10.0)
    d.check([0.005, 1.0, 20.0])
    with pytest.raises(ValueError, match="'T'.*outside"):
        d.check([0.001, 1.0])
    with pytest.raises(ValueError, match="'T'.*outside"):
        d.check([30.0])
    with pytest.raises(ValueError, match="J0_h0"):
        lib.dos(1.5, 10.0).check([1.0])
    with pytest.raises(ValueError, match="h0"):
        lib.dos(0.3, -1.0).check([1.0])


def test_library_file_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_library(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="bad.npz.*unreadable"):
        load_library(bad)
    part = tmp_path / "part.npz"
    np.savez(part, ratios=np.arange(4.0))
    with pytest.raises(ValueError, match="part.npz.*missing"):
        load_library(part)


def test_pack_jackknife_errors_poisson_for_independent_counts_larger_for_correlated(tmp_path):
    """With >= JK_MIN_PASSES passes the errors come from a delete-one-pass jackknife.  Independent
    multinomial batches: it agrees with the Poisson errors (median ratio ~ c4(5) = 0.95).  Batches whose
    ln F is tilted as a whole (realizations correlated across energies and temperatures): it is several
    times larger, as it must be -- the Poisson errors of pooled counts cannot see that."""
    K = 6
    (tmp_path / "a").mkdir()
    d1 = _fake_build(tmp_path / "a", batches=K, n_tls=100_000)
    arr = P.pack(str(d1), str(tmp_path / "a.npz"), progress=False)
    ratio = np.median(json.loads(str(arr["meta"]))["errors"]["median_ratio_to_poisson"])
    assert 0.75 < ratio < 1.2
    jk = arr["jk_delta_log_F"]
    assert jk.shape == (K,) + arr["log_F"].shape and jk.dtype == np.float16
    assert np.all(jk[:, 0] == 0) and np.all(arr["sd_log_F"][0] == 0)        # the exact J0/h0 = 0 row
    (tmp_path / "b").mkdir()
    d2 = _fake_build(tmp_path / "b", batches=K, n_tls=100_000, shift_sd=0.3)
    arr2 = P.pack(str(d2), str(tmp_path / "b.npz"), progress=False)
    assert np.median(json.loads(str(arr2["meta"]))["errors"]["median_ratio_to_poisson"]) > 2.0
    lib = load_library(tmp_path / "b.npz")
    assert lib.n_replicas == K
    np.testing.assert_allclose(lib.replica(2).log_F - lib.log_F, arr2["jk_delta_log_F"][2].astype(float), atol=1e-12)
    with pytest.raises(ValueError, match="'k' = 6"):
        lib.replica(K)
    # fewer passes: Poisson errors, no replicas, and the provenance says why that is too small
    arr3 = P.pack(str(d2), str(tmp_path / "c.npz"), passes=3, progress=False)
    assert "jk_delta_log_F" not in arr3 and "too small" in json.loads(str(arr3["meta"]))["errors"]["method"]


def test_library_tables_first_built_inside_jit(tmp_path):
    """The cached JAX tables of a library first used inside jax.jit are concrete (no leaked tracer)."""
    lib, truth = _analytic_library(tmp_path)
    f = jax.jit(lambda r: SimulatedDOS.create(lib, r, 1.0).log_F_at(0.1, 0.1))
    inside = float(f(0.3))
    eager = float(SimulatedDOS.create(lib, 0.3, 1.0).log_F_at(0.1, 0.1))
    assert inside == pytest.approx(eager, rel=1e-12) and abs(eager - truth(0.3, 0.1, 0.1)) < 3e-3
