"""Integrity of the simulated-DOS library and of annealer runs (from the hostile audit of session 13).

* the library cache re-reads a file replaced at the same path (keyed on the file's identity);
* the packed library carries a SHA-256 of its arrays, verified on load (an edited file is refused;
  one packed before the checksum loads with a LibraryWarning; the shipped file has one);
* library batch seeds are distinct for every (base seed, grid point, batch) (rule 2), and a build
  directory of the old rule is packed with its own seeds but not continued;
* runs record JAX's 64-bit setting (x64): no resume across JTLS_NO_X64, earlier checkpoints are
  taken as x64 with a warning, library batches must have it;
* ``jtls`` into a closed pipe ends quietly with status 141.

Each test is fast (< 15 s) and runs without annealing a library (fake batches).
"""
import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARY = os.path.join(REPO, "data", "simulated_dos_library.npz")


def test_load_library_sees_a_replaced_file(tmp_path):
    from jtls.simulated.dos import load_library
    p = tmp_path / "lib.npz"
    shutil.copy(LIBRARY, p)
    first = load_library(p)
    with np.load(LIBRARY, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["log_F"] = arrays["log_F"] + 1.0
    os.remove(p)
    np.savez(p, **arrays)              # e.g. `jtls library pack ... --overwrite` to the same path
    try:
        second = load_library(p)
    except ValueError:
        return                          # refusing a changed file is acceptable, using the old one is not
    np.testing.assert_allclose(second.log_F, first.log_F + 1.0)


def test_load_library_reads_a_replaced_checksummed_file_again(tmp_path):
    """As above with a valid replacement (what a re-pack writes): its values are used, not the cached ones."""
    from jtls.anneal.files import save_output
    from jtls.simulated.dos import load_library
    p = tmp_path / "lib.npz"
    shutil.copy(LIBRARY, p)
    first = load_library(p)
    with np.load(LIBRARY, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files if k != "sha256"}
    arrays["log_F"] = arrays["log_F"] + 1.0
    os.remove(p)
    save_output(p, arrays)                # a new checksum of the new values
    second = load_library(p)
    np.testing.assert_allclose(second.log_F, first.log_F + 1.0)
    assert second.sha256 != first.sha256


def test_edited_library_is_detected(tmp_path):
    from jtls.simulated.dos import load_library
    with np.load(LIBRARY, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["log_F"] = arrays["log_F"].copy()
    arrays["log_F"][5, 10, 20] += 0.5
    p = tmp_path / "edited.npz"
    np.savez(p, **arrays)
    with pytest.raises(ValueError, match="edited.npz: checksum mismatch"):
        load_library(p)


def test_shipped_library_is_checksummed_and_a_library_without_checksum_is_warned_about(tmp_path):
    """The shipped file carries the SHA-256 of its arrays; a library packed before jtls stored one
    still loads (the same values) but with a LibraryWarning naming the file."""
    from jtls.anneal.files import digest
    from jtls.simulated.dos import LibraryWarning, load_library
    with np.load(LIBRARY, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    stored = str(arrays.pop("sha256"))
    assert stored == digest(arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_library(LIBRARY).sha256 == stored
    p = tmp_path / "old.npz"
    np.savez(p, **arrays)
    with pytest.warns(LibraryWarning, match="old.npz carries no checksum"):
        old = load_library(p)
    assert old.sha256 is None
    np.testing.assert_array_equal(old.log_F, arrays["log_F"])


def test_library_builds_with_different_seeds_share_no_batch_seed():
    from jtls.simulated.build import batch_seed
    a = {batch_seed(0, p, b) for p in range(22) for b in range(10)}
    b = {batch_seed(1, p, b) for p in range(22) for b in range(10)}
    assert not (a & b)


def test_batch_seeds_are_distinct_over_the_whole_allowed_range():
    """Rule 2 packs (seed, point, batch) into disjoint bit fields: the corners of the allowed ranges give
    distinct seeds within JAX's 63-bit range, and values outside them are refused (named)."""
    from jtls.simulated import build as B
    top = (2 ** B.SEED_BITS - 1, 2 ** B.POINT_BITS - 1, 2 ** B.BATCH_BITS - 1)
    corners = {(s, p, b) for s in (0, 1, top[0]) for p in (0, 1, top[1]) for b in (0, 1, top[2])}
    seeds = {B.batch_seed(*c) for c in corners}
    assert len(seeds) == len(corners) and max(seeds) == 2 ** 63 - 1 and min(seeds) == 0
    for args, name in (((2 ** 32, 0, 0), "seed"), ((0, 2 ** 11, 0), "point"), ((0, 0, 2 ** 20), "batch")):
        with pytest.raises(ValueError, match=f"argument '{name}' must be in"):
            B.batch_seed(*args)
    assert B.batch_seed(1, 2, 3, rule=1) == 300_003                            # the old rule, to pack old builds
    with pytest.raises(ValueError, match=r"--seed' must be an integer in \[0, 4294967295\] for a library build"):
        B.check_arguments((0.1, 0.2, 0.3, 0.4), 4, 1, 2, 2, names={"seed": "--seed"}, seed=2 ** 32)
    with pytest.raises(ValueError, match="'--batches': at most 1048576 batches"):
        B.check_arguments((0.1, 0.2, 0.3, 0.4), 4, 2 ** 20 + 1, 2, 2, names={"batches": "--batches"})


_BUILD_WITHOUT_X64 = """
from jtls.simulated.build import check_arguments
try:
    check_arguments((0.1, 0.2, 0.3, 0.4), 4, 1, 2, 2)
except ValueError as exc:
    print("REFUSED", exc)
else:
    print("ACCEPTED")
"""


def test_library_build_without_x64_is_refused_naming_it():
    proc = subprocess.run([sys.executable, "-c", _BUILD_WITHOUT_X64], capture_output=True, text=True,
                          env=dict(os.environ, JTLS_NO_X64="1"), timeout=120)
    assert "REFUSED library builds need JAX's 64-bit types" in proc.stdout, proc.stdout + proc.stderr
    assert "JTLS_NO_X64" in proc.stdout


def _fake_batches(d, rule, seed=0, ratios=(0.1, 0.2, 0.3, 0.4), batch_size=64):
    """A build directory of format v2 (rule 2) or v1 (rule 1, as an earlier jtls left it), with
    synthetic histograms (E = 2|h|, h ~ N(0, 10^2)) in checksummed batches whose metadata is their run."""
    from scipy.special import erf
    from jtls.anneal import histogram as H
    from jtls.anneal.files import save_output
    from jtls.simulated import build as B
    os.makedirs(d)
    man = B.manifest(ratios, 4, batch_size, seed, 2)
    if rule == 1:
        man["format"] = "jtls simulated-DOS build v1"
        del man["seed_rule"]
    with open(os.path.join(d, B.MANIFEST), "w") as f:
        json.dump(man, f)
    e = H.fine_edges()
    cdf = erf(e / (20.0 * np.sqrt(2.0)))
    pr = np.append(np.diff(cdf), 1.0 - cdf[-1])
    rng = np.random.default_rng(2)
    for i, r in enumerate(ratios):
        cfg = B.point_config(r, i, 0, L=4, batch_size=batch_size, seed=seed, sweeps=2, rule=rule)
        n_tls = batch_size * cfg.params.n
        save_output(os.path.join(d, B.batch_name(r, 0)),
                    {"T": np.array([0.05, 0.5]), "n_tls_total": np.int64(n_tls), "meta": json.dumps(cfg.metadata()),
                     "counts": np.stack([rng.multinomial(n_tls, pr / pr.sum()) for _ in range(2)])})


def test_a_build_of_the_old_seed_rule_is_packed_with_its_seeds_but_not_continued(tmp_path):
    from jtls.simulated import build as B
    from jtls.simulated import pack as P
    from jtls.simulated.dos import load_library
    d = str(tmp_path / "old")
    _fake_batches(d, rule=1, seed=1)
    P.pack(d, str(tmp_path / "old.npz"), progress=False)
    meta = load_library(tmp_path / "old.npz").meta
    assert meta["seed_rule"] == 1 and meta["seeds"] == [1, 2, 3, 4]          # seed + 100000 batch + point
    assert "rule 1" in meta["regenerate_note"]
    with pytest.raises(ValueError, match="was built by an earlier jtls .*rule 1.* it is not continued"):
        B.build(d, ratios=(0.1, 0.2, 0.3, 0.4), L=4, batches=2, batch_size=64, seed=1, sweeps=2, progress=False)
    assert sorted(os.listdir(d)) == sorted([B.MANIFEST] + [B.batch_name(r, 0) for r in (0.1, 0.2, 0.3, 0.4)])
    # a rule-1 batch in a build of the current format is not one of its batches
    new = str(tmp_path / "new")
    _fake_batches(new, rule=2, seed=1)
    P.pack(new, str(tmp_path / "new.npz"), progress=False)
    meta = load_library(tmp_path / "new.npz").meta
    assert meta["seed_rule"] == 2 and "regenerate_note" not in meta
    assert meta["seeds"] == [B.batch_seed(1, i, 0) for i in range(4)]
    os.replace(os.path.join(d, B.batch_name(0.2, 0)), os.path.join(new, B.batch_name(0.2, 0)))
    with pytest.raises(ValueError, match=r"r0\.2000_b000\.npz: not a batch of this build \(differs in: seed"):
        P.pack(new, str(tmp_path / "mixed.npz"), progress=False)


_NO_X64_RESUME = r"""
import sys
from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, run
from jtls.anneal.schedule import make_schedule
cfg = RunConfig(params=ModelParams(L=3), schedule=make_schedule([5.0, 1.0], 2), realizations=2, seed=0, chunk=2)
try:
    run(cfg, sys.argv[1], resume=True, progress=False, stop_after_chunks=1, checkpoint_seconds=None)
except ValueError as exc:
    print("REFUSED", exc)
else:
    print("ACCEPTED")
"""


def test_anneal_checkpoint_is_not_resumed_across_jtls_no_x64(tmp_path):
    from jtls.anneal import files as F
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig, _empty_totals
    from jtls.anneal.schedule import make_schedule
    cfg = RunConfig(params=ModelParams(L=3), schedule=make_schedule([5.0, 1.0], 2), realizations=2,
                    seed=0, chunk=2)
    out = str(tmp_path / "run.npz")
    F.save_checkpoint(F.checkpoint_path(out), cfg.metadata(), 0, _empty_totals(cfg))   # written with x64
    env = dict(os.environ, JTLS_NO_X64="1")
    proc = subprocess.run([sys.executable, "-c", _NO_X64_RESUME, out], capture_output=True, text=True,
                          env=env, timeout=120)
    assert "REFUSED" in proc.stdout, proc.stdout + proc.stderr
    assert "x64: checkpoint True, this run False" in proc.stdout


def _small_run():
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig
    from jtls.anneal.schedule import make_schedule
    return RunConfig(params=ModelParams(L=3), schedule=make_schedule([5.0, 1.0], 2), realizations=4, seed=0, chunk=2)


def test_checkpoint_of_x64_off_is_not_resumed_with_x64_on(tmp_path):
    from jtls.anneal import files as F
    from jtls.anneal.run import _empty_totals, run
    cfg = _small_run()
    out = str(tmp_path / "run.npz")
    F.save_checkpoint(F.checkpoint_path(out), cfg.metadata() | {"x64": False}, 0, _empty_totals(cfg))
    with pytest.raises(F.CheckpointMismatch, match="differs in: x64: checkpoint False, this run True"):
        run(cfg, out, resume=True, progress=False, checkpoint_seconds=None)


def test_checkpoint_of_an_earlier_jtls_without_x64_is_resumed_as_x64_on_with_a_warning(tmp_path):
    """Checkpoints written before x64 was recorded (JTLS_NO_X64 was an opt-out) resume under x64
    with a warning naming the assumption, and finish like an uninterrupted run."""
    from jtls.anneal import files as F
    from jtls.anneal.run import run
    cfg = _small_run()
    ref = run(cfg, str(tmp_path / "ref.npz"), progress=False, checkpoint_seconds=None)
    out = str(tmp_path / "run.npz")
    run(cfg, out, progress=False, stop_after_chunks=1, checkpoint_seconds=None)
    ck = F.checkpoint_path(out)
    with np.load(ck) as f:
        a = {k: f[k] for k in f.files if k != "sha256"}
    meta = json.loads(str(a["meta"]))
    assert meta.pop("x64") is True
    a["meta"] = np.asarray(json.dumps(meta))
    F.atomic_savez(ck, sha256=np.asarray(F.digest(a)), **a)
    with pytest.warns(RuntimeWarning, match=r"run.npz.ckpt.npz was written by an earlier jtls, which did not "
                                            r"record x64 = true: resumed as if it did"):
        res = run(cfg, out, resume=True, progress=False, checkpoint_seconds=None)
    np.testing.assert_array_equal(res["counts"], ref["counts"])
    assert json.loads(str(res["meta"]))["x64"] is True


# ------------------------------------------------------------------------------------ command line

def test_dos_fit_into_a_closed_pipe_is_not_a_traceback(tmp_path):
    from jtls.anneal import files as F
    from jtls.anneal import histogram as H
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig, _empty_totals, assemble
    from jtls.anneal.schedule import make_schedule
    from scipy.special import erf
    cfg = RunConfig(params=ModelParams(L=4), schedule=make_schedule([1.0, 0.5, 0.2, 0.1], 2),
                    realizations=50, seed=0)
    tot = _empty_totals(cfg)
    n = cfg.realizations * cfg.params.n
    rng = np.random.default_rng(0)
    e = H.fine_edges()
    cdf = erf(e / (20.0 * np.sqrt(2.0)))
    pr = np.append(np.diff(cdf), 1.0 - cdf[-1])
    tot["counts"] = np.stack([rng.multinomial(n, pr / pr.sum()) for _ in cfg.schedule.T]).astype(np.int64)
    tot["counts_relaxed"] = rng.multinomial(n, pr / pr.sum()).astype(np.int64)
    path = str(tmp_path / "run.npz")
    F.save_output(path, assemble(cfg, tot))
    proc = subprocess.Popen([sys.executable, "-m", "jtls", "dos-fit", path, "--json", "--bins", "200"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path))
    proc.stdout.close()                 # as `| head -c 0` does: closed before jtls writes (always a broken pipe)
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141                                 # 128 + SIGPIPE, as `yes | head` gives for yes


def test_pack_refuses_a_batch_annealed_without_x64(tmp_path):
    """Library batches are annealed with JAX's 64-bit types; one that records x64 = false (other
    disorder draws) is not one of the build's batches."""
    from jtls.anneal.files import load_output, save_output
    from jtls.simulated import build as B
    from jtls.simulated import pack as P
    d = str(tmp_path / "b")
    _fake_batches(d, rule=2)
    victim = os.path.join(d, B.batch_name(0.3, 0))
    a = load_output(victim)
    meta = json.loads(str(a["meta"]))
    assert meta["x64"] is True
    a["meta"] = json.dumps(meta | {"x64": False})
    save_output(victim, a)
    with pytest.raises(ValueError, match=r"r0\.3000_b000\.npz: not a batch of this build \(differs in: x64"):
        P.pack(d, str(tmp_path / "lib.npz"), progress=False)
