"""Runs of the annealer: normalization, output file, reproducibility, resume, sharding, CLI."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jtls  # noqa: F401
from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, checkpoint_path, run
from jtls.anneal.schedule import make_schedule, paper_schedule
from jtls.dos import TabulatedDOS

SMALL = dict(params=ModelParams(L=4, J0=2.0, h0=10.0),
             schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4), realizations=5, seed=3)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("anneal") / "ref.npz"
    res = run(RunConfig(**SMALL, chunk=2), out, progress=False)
    return out, res


def test_output_normalization_and_loading(reference):
    path, res = reference
    n_tls = 5 * 32
    assert int(res["n_tls_total"]) == n_tls
    # every TLS is in exactly one fine bin (incl. overflow) at every temperature
    np.testing.assert_array_equal(res["counts"].sum(1), n_tls)
    assert res["counts_relaxed"].sum() == n_tls
    # per TLS per K over signed energies: 2 * sum(dos * width) = fraction inside the coarse grid
    w = np.diff(res["E_edges"])
    inside = res["counts_coarse"].sum(1) / n_tls
    np.testing.assert_allclose(2 * (res["dos"] * w).sum(1), inside, rtol=1e-12)
    assert np.all(inside > 0.99)
    np.testing.assert_allclose(res["T"], [1e-3, 0.5, 2.0, 20.0])  # ascending
    d = TabulatedDOS.from_file(path)
    assert d.values.shape == (4, res["E_centers"].size)
    meta = json.loads(str(np.load(path)["meta"]))
    assert meta["seed"] == 3 and meta["params"]["L"] == 4 and meta["schedule_sweeps"] == [4] * 4
    assert "jax" in meta["versions"]
    assert not os.path.exists(checkpoint_path(path))
    # the final state was checked and relaxed to stability
    assert int(res["unstable_single_after"]) == 0 and int(res["unstable_pair_after"]) == 0
    assert 0 <= res["acceptance"][0] < res["acceptance"][-1] <= 1


def test_same_result_for_any_batch_size(reference, tmp_path):
    _, ref = reference
    res = run(RunConfig(**SMALL, chunk=5), tmp_path / "b.npz", progress=False)
    for k in ("counts", "counts_relaxed", "acceptance", "unstable_pair", "relax_flips"):
        np.testing.assert_array_equal(res[k], ref[k], err_msg=k)


def test_resume_is_bitwise_identical(reference, tmp_path):
    _, ref = reference
    out = tmp_path / "r.npz"
    cfg = RunConfig(**SMALL, chunk=2)
    assert run(cfg, out, progress=False, stop_after_chunks=1) is None   # "killed" after 1 chunk
    assert os.path.exists(checkpoint_path(out)) and not os.path.exists(out)
    res = run(cfg, out, resume=True, progress=False)
    for k in ("counts", "counts_relaxed", "acceptance", "dos"):
        np.testing.assert_array_equal(res[k], ref[k], err_msg=k)
    f = np.load(out)
    np.testing.assert_array_equal(f["counts"], ref["counts"])


def test_single_kernel_and_ordinary_compilation_agree(reference, tmp_path):
    """The CPU single-function path (sequential chains, lax.map) and the ordinary
    vmapped block kernels run the same chain: identical histograms (float64)."""
    _, ref = reference
    a = run(RunConfig(**SMALL, chunk=2, dtype="float64"), tmp_path / "a.npz", progress=False)
    b = run(RunConfig(**SMALL, chunk=2, dtype="float64", single_kernel=False), tmp_path / "b.npz",
            progress=False)
    np.testing.assert_array_equal(a["counts"], b["counts"])
    np.testing.assert_array_equal(a["counts_relaxed"], b["counts_relaxed"])


def test_falls_back_to_the_ordinary_program_when_single_function_fails(tmp_path, monkeypatch):
    """If XLA cannot build the single-function program, run() warns and uses the
    ordinary one: the same histograms as an ordinary run of the same config."""
    import importlib
    import jax
    R = importlib.import_module("jtls.anneal.run")

    def broken(*a, **k):
        raise jax.errors.JaxRuntimeError("UNIMPLEMENTED: simulated emitter failure")

    monkeypatch.setattr(R, "single_function", broken)
    monkeypatch.setattr(R, "SINGLE_KERNEL_FAILED", set())
    R._chunk_fn.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="single-function compilation failed"):
            res = run(RunConfig(**(SMALL | {"seed": 4}), chunk=2), tmp_path / "f.npz", progress=False)
    finally:
        R._chunk_fn.cache_clear()
    assert len(R.SINGLE_KERNEL_FAILED) == 1
    good = run(RunConfig(**(SMALL | {"seed": 4}), chunk=2, single_kernel=False), tmp_path / "g.npz", progress=False)
    np.testing.assert_array_equal(res["counts"], good["counts"])
    assert res["counts"].sum() > 0


def test_resume_refuses_a_different_run(tmp_path):
    out = tmp_path / "r.npz"
    run(RunConfig(**SMALL, chunk=2), out, progress=False, stop_after_chunks=1)
    other = RunConfig(**(SMALL | {"seed": 4}), chunk=2)
    with pytest.raises(ValueError, match="seed"):
        run(other, out, resume=True, progress=False)
    with pytest.raises(ValueError, match="checkpoint"):
        run(RunConfig(**SMALL), tmp_path / "none.npz", resume=True, progress=False)


def test_sharded_over_two_devices_gives_same_histograms(reference, tmp_path):
    _, ref = reference
    out = tmp_path / "s.npz"
    code = textwrap.dedent(f"""
        import jax, jtls
        from jtls.anneal.lattice import ModelParams
        from jtls.anneal.run import RunConfig, run
        from jtls.anneal.schedule import make_schedule
        assert len(jax.devices()) == 2, jax.devices()
        cfg = RunConfig(params=ModelParams(L=4, J0=2.0, h0=10.0),
                        schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4),
                        realizations=5, seed=3, chunk=3)
        run(cfg, {str(out)!r}, progress=False)
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    f = np.load(out)
    assert json.loads(str(f["meta"]))["devices"] == 2
    np.testing.assert_array_equal(f["counts"], ref["counts"])
    np.testing.assert_array_equal(f["counts_relaxed"], ref["counts_relaxed"])


def test_cli_uses_every_cpu_core_as_a_device(reference, tmp_path):
    """``jtls anneal --cpu-devices 2`` (no XLA_FLAGS) shards over two host devices,
    with the same histograms as the single-device reference."""
    _, ref = reference
    out = tmp_path / "cli2.npz"
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "jtls", "anneal", "--L", "4", "--J0", "2", "--h0", "10",
           "--realizations", "5", "--seed", "3", "--sweeps", "4", "--schedule", "20,2,0.5,0.001",
           "--chunk", "3", "--cpu-devices", "2", "--out", str(out), "--quiet"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    f = np.load(out)
    assert json.loads(str(f["meta"]))["devices"] == 2
    np.testing.assert_array_equal(f["counts"], ref["counts"])


def test_cli_anneal_and_dos_fit(tmp_path, capsys):
    from jtls.cli import main
    out = tmp_path / "c.npz"
    rc = main(["anneal", "--L", "4", "--J0", "2", "--h0", "10", "--x", "0.5", "--realizations", "5",
               "--seed", "3", "--sweeps", "4", "--schedule", "20,2,0.5,0.001", "--chunk", "2",
               "--out", str(out), "--quiet"])
    assert rc == 0
    ref = np.load(out)
    capsys.readouterr()
    rc_fit = main(["dos-fit", str(out), "--json"])
    def no_nan(c):
        raise AssertionError(f"non-standard JSON constant {c}")

    doc = json.loads(capsys.readouterr().out, parse_constant=no_nan)
    # the run's parameters travel with the rows
    run_ = doc["meta"]["run"]
    assert run_["params"]["L"] == 4 and run_["seed"] == 3 and run_["realizations"] == 5
    assert doc["meta"]["input"] == str(out.resolve()) and doc["meta"]["bins"] == 16
    rows = doc["rows"]
    assert rc_fit == (0 if any(r["ok"] for r in rows) else 1)      # exit 1: no row is a result
    assert [r["T"] for r in rows] == [1e-3, 0.5, 2.0, 20.0]
    for r in rows:
        assert {"T", "B", "B_err", "mu", "mu_err", "status"} <= set(r)
    # at 20 K (h0 = 10 K) the window 0 < E < 40 K holds most TLSs: Eq. 3 is flagged, not "ok"
    assert rows[-1]["status"].startswith("not applicable"), rows[-1]
    assert ref["counts"].sum() == 4 * 5 * 32


def test_bad_input_is_a_clear_error(tmp_path):
    from jtls.cli import main
    with pytest.raises(ValueError, match="'L'"):
        run(RunConfig(params=ModelParams(L=1)), tmp_path / "x.npz")
    with pytest.raises(ValueError, match="'realizations'"):
        run(RunConfig(realizations=0), tmp_path / "x.npz")
    with pytest.raises(ValueError, match="schedule"):
        make_schedule([1.0, -2.0], 3)
    assert main(["anneal", "--schedule", "1,abc", "--out", str(tmp_path / "x.npz")]) == 2
    assert main(["anneal", "--cpu-devices", "-1", "--out", str(tmp_path / "x.npz")]) == 2
    bad = tmp_path / "bad.npz"
    np.savez(bad, T=np.ones(2))
    assert main(["dos-fit", str(bad)]) == 2


def test_paper_schedule():
    s = paper_schedule()
    assert len(s.T) == 43 and s.T[0] == 300.0 and s.T[-2] == 0.02 and s.T[-1] == 2e-6
    assert all(a > b for a, b in zip(s.T, s.T[1:]))
    for t in (0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0):
        assert t in s.T
    assert set(s.sweeps) == {257}


def test_default_batch_is_chosen_from_memory():
    """chunk=0: the largest batch (a multiple of the devices) whose per-realization arrays --
    J (n^2 x 4 bytes in float32), state, fields, histograms -- fit in the budget; at most 64 on CPU."""
    import jax
    from jtls.anneal import sizing
    from jtls.anneal.run import batch_size
    cpu = [d for d in jax.devices() if d.platform == "cpu"] or jax.devices()
    n, nT = 2048, 43                                   # L = 16, the paper's schedule
    per = sizing.realization_bytes(n, nT, 4)
    assert per >= n * n * 4 + nT * 1531 * 4            # couplings and histograms at least
    assert sizing.realization_bytes(n, nT, 8) > per and sizing.realization_bytes(n, nT, 4, vmapped=True) > per
    for ndev in (1, 2, 3):
        b = sizing.auto_chunk(per, ndev, cpu=True, budget=2 ** 29, local_devices=[None] * ndev)
        assert b % ndev == 0 and b * per <= 2 ** 29 < (b + ndev) * per, (ndev, b)
    assert sizing.auto_chunk(1000, 2, cpu=True, budget=2 ** 29, local_devices=[None] * 2) == 64  # CPU cap
    assert sizing.auto_chunk(10 ** 10, 4, cpu=True, budget=2 ** 29, local_devices=[None] * 4) == 4  # >= 1/device
    # through RunConfig: L = 16 gets fewer than 64 from the default 0.5 GB, more with --memory 2
    L16 = RunConfig(params=ModelParams(L=16), schedule=paper_schedule(16))
    small = batch_size(L16, 1, cpu[:1])
    assert 1 <= small < 64 and small * per <= sizing.CPU_BUDGET
    assert batch_size(dataclasses_replace(L16, memory_gb=2.0), 1, cpu[:1]) > small
    assert batch_size(dataclasses_replace(L16, chunk=5), 2, cpu[:1]) == 6       # explicit: rounded up
    with pytest.raises(ValueError, match="memory_gb"):
        run(dataclasses_replace(L16, memory_gb=-1.0), "x.npz")


def dataclasses_replace(cfg, **kw):
    import dataclasses
    return dataclasses.replace(cfg, **kw)
