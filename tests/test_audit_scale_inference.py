"""Audit of the "scale" features of fitting: batched fits (fit_many), bootstrap, profile
intervals, size buckets and the store of exported programs.

Tests pin behaviour that was checked and found correct (and is not covered by
test_fit_batched.py / test_fit_buckets.py / test_exported.py), and the fixes of five defects the
audit found (each test failed before its fix): zero-width bootstrap intervals of
``batch.bootstrap``; a bootstrap interval ending on a search limit; fit_many's L-BFGS step
budget; a stored program under another key's name; the store key's library versions.
"""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import jax

import jtls
from jtls import _exported
from jtls.fit import Model, fit
from jtls.fit import batch
from jtls.fit.batch import bootstrap, fit_many

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _cv(mu=0.1, n=12, s=0.01, seed=0, sigma=None, shuffle=False):
    T = np.geomspace(0.1, 1.0, n)
    rng = np.random.default_rng(seed)
    y = np.asarray(jtls.specific_heat(T, 2.0, mu)) * (1 + s * rng.normal(size=n))
    if shuffle:
        p = rng.permutation(n)
        T, y = T[p], y[p]
    return (T, y) if sigma is None else (T, y, sigma * y)


def _kappa(mu=0.12, n=24, s=0.03, seed=1):
    T = np.geomspace(0.1, 2.0, n)
    rng = np.random.default_rng(seed)
    return T, np.asarray(jtls.thermal_conductivity(T, 2.0, mu)) * (1 + s * rng.normal(size=n))


def _same_verdict(r, s, rtol=1e-6):
    """fit_many's result ``r`` against fit()'s ``s``: verdict and every reported number."""
    assert r.status == s.status and r.message == s.message
    assert r.at_bound == s.at_bound and r.unidentified == s.unidentified
    assert r.n_points == s.n_points and r.dof == s.dof
    assert r.sigma_scaled == s.sigma_scaled and r.absolute_sigma == s.absolute_sigma
    assert sorted(r.warnings) == sorted(s.warnings)
    assert sorted(r.tests) == sorted(s.tests)
    assert r.excluded == s.excluded
    for lab in s.residuals:
        assert len(r.residuals[lab]) == len(s.residuals[lab])
    if not s.ok:
        return
    assert math.isclose(r.chi2, s.chi2, rel_tol=rtol)
    for k in s.free:
        se = s.stderr[k]
        tol = 1e-4 * se if se and math.isfinite(se) else rtol * abs(s[k])
        assert abs(r[k] - s[k]) <= tol + 1e-12, (k, r[k], s[k])


# --------------------------------------------------------------------------
# fit_many: heterogeneous series (checked: correct)

def test_fit_many_mixed_lengths_and_failures_equal_single_fits():
    """Lengths across the bucket boundary (8 | 9), a 3-point dataset, a no_dof dataset and a
    dataset on mu = 0 in the middle of one series: neither padding nor the failed dataset
    changes any other dataset's verdict, for the independent and the chained starts."""
    data = [_cv(seed=1), _cv(n=8, seed=2), _cv(n=2, seed=3), _cv(mu=0.0, n=9, seed=4),
            _cv(n=3, seed=5), _cv(n=20, seed=6)]
    singles = [fit("specific_heat", d) for d in data]
    assert singles[2].status == "no_dof"
    for start in ("each", "previous"):
        many = fit_many("specific_heat", data, start=start)
        assert len(many) == len(data)
        for r, s in zip(many, singles):
            _same_verdict(r, s)


def test_fit_many_sigma_held_window_and_unsorted_points_equal_single_fits():
    """Per-dataset sigma of different sizes, unsorted temperatures, a held parameter and a
    temperature window: the same points kept and excluded, the same verdicts as fit()."""
    data = [_cv(seed=1, sigma=0.01), _cv(n=17, seed=2, sigma=0.001), _cv(mu=0.0, seed=3, sigma=0.02, shuffle=True),
            _cv(n=9, seed=4, sigma=0.01)]
    kw = {"fix": {"mu": 0.1}, "tmin": 0.15}
    singles = [fit("specific_heat", d, **kw) for d in data]
    assert any(s.sigma_scaled for s in singles) and not all(s.sigma_scaled for s in singles)
    many = fit_many("specific_heat", data, start="previous", **kw)
    for r, s in zip(many, singles):
        _same_verdict(r, s)
        assert r.n_points + len(r.excluded) == len(s.data[s.labels[0]]["T"]) + len(s.excluded)


def test_fit_many_mixed_weighting_is_refused_with_the_dataset_named():
    with pytest.raises(ValueError, match=r"datasets\[1\]: problem structure differs"):
        fit_many("specific_heat", [_cv(sigma=0.01), _cv()])


# --------------------------------------------------------------------------
# bootstrap

def test_bootstrap_is_reproducible_and_chunking_free_with_sigma_and_a_held_parameter(monkeypatch):
    """The same key gives the same resamples, whatever the chunking (n not a multiple of it);
    another key gives others; a held parameter gets no interval, the free one a proper one."""
    d = _cv(sigma=0.01)
    key = jax.random.PRNGKey(3)
    a = fit("specific_heat", d, fix={"mu": 0.1}, bootstrap=20, key=key)
    monkeypatch.setattr(batch, "BOOTSTRAP_CHUNK", 6)
    b = fit("specific_heat", d, fix={"mu": 0.1}, bootstrap=20, key=key)
    c = fit("specific_heat", d, fix={"mu": 0.1}, bootstrap=20, key=jax.random.PRNGKey(4))
    assert a.status == "ok" and list(a.bootstrap["intervals"]) == ["B"]
    lo, hi = a.bootstrap["intervals"]["B"]
    assert lo < a["B"] < hi
    np.testing.assert_allclose(b.bootstrap["intervals"]["B"], [lo, hi], rtol=1e-10)
    assert c.bootstrap["intervals"]["B"] != a.bootstrap["intervals"]["B"]


def test_batch_bootstrap_gives_no_zero_width_interval():
    T = np.geomspace(0.1, 1.0, 3)
    y = np.asarray(jtls.specific_heat(T, 1e-3, 0.1)) * np.exp(0.02 * np.random.default_rng(1).normal(size=3))
    res, bs = bootstrap(jax.random.PRNGKey(5), Model("specific_heat"), (T, y), n=50)
    for k, iv in res.bootstrap["intervals"].items():
        assert iv is None or iv[1] > iv[0], (k, iv)          # never [x, x]
    assert any("bootstrap" in w for w in res.warnings)        # 39 of 50 resamples were degenerate


def test_bootstrap_interval_on_a_search_limit_is_not_a_silent_result():
    # mu's 95 % profile closes at 0.1294 below the search limit 0.1296: the fit is ok
    res = fit("thermal_conductivity", _kappa(), bounds={"mu": (0.0, 0.1296)}, bootstrap=300, level=0.95)
    assert res.status == "ok" and res.intervals["mu"]["high95_kind"] == "crossing"
    iv = res.bootstrap["intervals"]["mu"]
    flagged = any("limit" in w and "bootstrap" in w for w in res.warnings)
    assert iv is None and flagged, (iv, res.warnings)


# --------------------------------------------------------------------------
# solver options of the batched fits

def test_fit_many_lbfgs_has_the_step_budget_of_fit(monkeypatch):
    seen = []
    orig = batch._many_program

    def spy(key, *args, **kw):
        seen.append(args[5])                 # method, spec, u0, arrays, live, opts, ...
        return orig(key, *args, **kw)

    monkeypatch.setattr(batch, "_many_program", spy)
    fit_many("specific_heat", [_cv()], method="lbfgs")
    assert seen and seen[0].max_steps == 1000


# --------------------------------------------------------------------------
# the store of exported programs

def test_store_key_follows_the_optax_version(monkeypatch):
    from importlib import metadata
    leaves, tree = jax.tree.flatten((np.zeros(5),))
    sig = _exported._signature(tree, leaves)
    k = _exported._key("solve_program", ("lbfgs",), sig)
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "999.0.0" if name == "optax" else real(name))
    monkeypatch.setitem(_exported._state, "libraries", None)      # as in a process after an upgrade
    assert _exported._key("solve_program", ("lbfgs",), sig) != k
    monkeypatch.setattr(metadata, "version", real)
    monkeypatch.setitem(_exported._state, "libraries", None)
    assert _exported._key("solve_program", ("lbfgs",), sig) == k


def test_a_stored_program_under_another_key_is_not_used(tmp_path):
    T = np.geomspace(0.1, 1.0, 12)
    rng = np.random.default_rng(0)
    cv = np.asarray(jtls.specific_heat(T, 2.0, 0.1)) * (1 + 0.01 * rng.normal(size=12))
    kappa = np.asarray(jtls.thermal_conductivity(T, 2.0, 0.1)) * (1 + 0.01 * rng.normal(size=12))
    ref = fit("specific_heat", (T, cv))
    a, b = tmp_path / "a", tmp_path / "b"
    try:
        _exported.enable(a)
        fit("thermal_conductivity", (T, kappa))
        _exported.enable(b)
        fit("specific_heat", (T, cv))
        fa = {f.name.split("-")[0]: f for f in a.glob("*.jtlsx")}
        fb = {f.name.split("-")[0]: f for f in b.glob("*.jtlsx")}
        swapped = [n for n in ("solve_kernel", "solve_program") if n in fa and n in fb]
        assert swapped
        for n in swapped:          # a whole, checksummed file -- of another program with the same signature
            fb[n].write_bytes(fa[n].read_bytes())
        _exported.enable(b)        # a fresh start of the store (as a new process)
        again = fit("specific_heat", (T, cv))
    finally:
        _exported.disable()
    assert again.status == ref.status
    assert math.isclose(again["B"], ref["B"], rel_tol=1e-8) and math.isclose(again["mu"], ref["mu"], rel_tol=1e-6)


def test_truncated_and_empty_store_files_are_ignored(tmp_path):
    d = _cv(seed=7)
    ref = fit("specific_heat", d)
    try:
        _exported.enable(tmp_path)
        fit("specific_heat", d)
        files = sorted(tmp_path.glob("*.jtlsx"))
        assert files
        for i, f in enumerate(files):
            blob = f.read_bytes()
            f.write_bytes(b"" if i % 2 else blob[: len(blob) // 2])
        _exported.enable(tmp_path)
        again = fit("specific_heat", d)
    finally:
        _exported.disable()
    assert again.status == ref.status == "ok"
    assert again.values == ref.values and again.chi2 == ref.chi2
    for f in sorted(tmp_path.glob("*.jtlsx")):
        key = f.read_bytes().partition(b"\n")[0].split(b" ")[2].decode()
        assert _exported._read(f, key) is not None, f.name        # written again, whole


CHILD = r"""
import json, os
import numpy as np
import jax, jtls
from jtls.fit import Model, fit
from jtls.fit.cli import enable_compilation_cache
enable_compilation_cache(os.environ["STORE_DIR"])
T = np.geomspace(0.1, 1.0, 12)
y = np.asarray(jtls.specific_heat(T, 2.0, 0.1)) * (1 + 0.01 * np.random.default_rng(0).normal(size=12))
r = fit(Model("specific_heat"), (T, y))
print(json.dumps({"x64": bool(jax.config.jax_enable_x64), "status": r.status, "values": r.values}))
"""


def test_store_written_without_x64_is_not_used_with_x64(tmp_path):
    """A store filled by a float32 process (JTLS_NO_X64=1) does not serve a float64 one: the
    float64 process writes its own programs and gets the float64 result."""
    base = {k: v for k, v in os.environ.items() if k not in ("JTLS_NO_X64", "JAX_ENABLE_X64")}
    base.update(STORE_DIR=str(tmp_path / "cache"), JAX_PLATFORMS="cpu", JTLS_EXPORTED="on")

    def run(**env):
        p = subprocess.run([sys.executable, "-W", "ignore", "-c", CHILD], env=dict(base, **env),
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert p.returncode == 0, p.stderr[-2000:]
        return json.loads(p.stdout.strip().splitlines()[-1])

    f32 = run(JTLS_NO_X64="1")
    assert f32["x64"] is False
    n32 = len(list((tmp_path / "cache" / "exported").glob("*.jtlsx")))
    f64 = run()
    assert f64["x64"] is True and f64["status"] == "ok"
    assert len(list((tmp_path / "cache" / "exported").glob("*.jtlsx"))) > n32
    T = np.geomspace(0.1, 1.0, 12)
    y = np.asarray(jtls.specific_heat(T, 2.0, 0.1)) * (1 + 0.01 * np.random.default_rng(0).normal(size=12))
    ref = fit(Model("specific_heat"), (T, y))
    for k, v in ref.values.items():
        assert math.isclose(f64["values"][k], v, rel_tol=1e-9), k
