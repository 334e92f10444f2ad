"""Several independent `jtls library build` commands (a job array) sharing one build directory:
each batch is annealed by the build that holds its lock, the others go on; the files equal those of
one build; the manifest is created exclusively.  Tiny lattices and few sweeps (mechanics only)."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from jtls.anneal.files import OutputLock, checkpoint_path
from jtls.cli import main
from jtls.simulated import build as B

RATIOS = (0.1, 0.2, 0.3, 0.4)
KW = dict(ratios=RATIOS, L=4, batch_size=8, sweeps=2, progress=False)
ARGS = ["--ratios", ",".join(map(str, RATIOS)), "--L", "4", "--batch-size", "8", "--sweeps", "2",
        "--cpu-devices", "1"]


def _counts(d):
    out = {}
    for p in sorted(d.glob("r*_b*.npz")):
        with np.load(p) as f:
            out[p.name] = (f["counts"].copy(), str(f["meta"]))
    return out


@pytest.mark.xdist_group("library_batches")  # one worker: the compiled runs are shared
def test_a_batch_locked_by_another_build_is_left_to_it_then_finished(tmp_path, capsys):
    d = tmp_path / "shared"
    held = d / B.batch_name(0.2, 0)
    d.mkdir()
    lock = OutputLock(str(held)).acquire()           # another build is annealing this batch
    try:
        res = B.build(str(d), batches=1, **KW)
        assert res == {"done": 3, "missing": 0, "elsewhere": 1}
        assert not held.exists() and not os.path.exists(checkpoint_path(str(held)))
        assert len(list(d.glob("r*_b000.npz"))) == 3
        capsys.readouterr()
        assert main(["library", "build", str(d), "--batches", "1", *ARGS, "--quiet"]) == 3
        assert "1 being annealed by other builds" in capsys.readouterr().out
    finally:
        lock.release()
    stamp = {p.name: p.stat().st_mtime_ns for p in d.glob("r*_b*.npz")}
    assert B.build(str(d), batches=1, **KW) == {"done": 4, "missing": 0, "elsewhere": 0}
    assert {k: v for k, v in ((p.name, p.stat().st_mtime_ns) for p in d.glob("r*_b*.npz")) if k in stamp} == stamp
    # the same files as one build alone
    alone = tmp_path / "alone"
    B.build(str(alone), batches=1, **KW)
    a, b = _counts(d), _counts(alone)
    assert a.keys() == b.keys() and len(a) == 4
    for k in a:
        np.testing.assert_array_equal(a[k][0], b[k][0])


@pytest.mark.xdist_group("library_batches")  # one worker: the compiled runs are shared
def test_a_finished_batch_with_a_left_over_checkpoint_counts_as_done_and_is_packed(tmp_path):
    d = tmp_path / "b"
    B.build(str(d), batches=1, **KW)
    victim = d / B.batch_name(0.3, 0)
    ck = checkpoint_path(str(victim))
    with open(ck, "wb") as f:          # killed between writing the batch and removing its checkpoint
        f.write(b"left over")
    stamp = victim.stat().st_mtime_ns
    assert B.build(str(d), batches=1, **KW) == {"done": 4, "missing": 0, "elsewhere": 0}
    assert not os.path.exists(ck) and victim.stat().st_mtime_ns == stamp
    assert main(["library", "pack", str(d), "--out", str(tmp_path / "lib.npz")]) == 0
    with np.load(tmp_path / "lib.npz") as f:
        assert json.loads(str(f["meta"]))["realizations_per_ratio"] == [8] * 4


def test_two_builds_starting_together_with_other_settings_cannot_both_write_the_manifest(tmp_path, monkeypatch):
    d = tmp_path / "b"
    d.mkdir()
    path = d / B.MANIFEST
    other = B.manifest(RATIOS, 5, 8, 0, 2)
    real_link = os.link

    def racing_link(src, dst):         # the other build's manifest lands just before ours
        with open(dst, "w", encoding="utf-8") as f:
            json.dump(other, f)
        return real_link(src, dst)
    monkeypatch.setattr(os, "link", racing_link)
    with pytest.raises(ValueError, match="built with other settings .differs in: L"):
        B._ensure_manifest(str(d), B.manifest(RATIOS, 4, 8, 0, 2))
    assert [p.name for p in d.iterdir()] == [B.MANIFEST]        # no temporary left behind
    assert json.loads(path.read_text())["L"] == 5                 # the first build's, kept


@pytest.mark.xdist_group("distributed")
def test_two_build_processes_share_the_work_and_anneal_each_batch_once(tmp_path):
    d = tmp_path / "shared"
    cmd = [sys.executable, "-m", "jtls", "library", "build", str(d), "--batches", "2", *ARGS]
    env = dict(os.environ, JTLS_JAX_CACHE=str(tmp_path / "cache"))
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    codes = [p.returncode for p in procs]
    assert all(c in (0, 3) for c in codes), outs
    finished = []
    for _, err in outs:
        finished += re.findall(r"J0/h0 = ([0-9.]+), batch (\d+): \d+ s", err)
    assert len(finished) == len(set(finished)) == 8, outs       # every batch annealed exactly once
    assert len(list(d.glob("r*_b*.npz"))) == 8 and not list(d.glob("*.ckpt.npz"))
    assert not [p.name for p in d.iterdir() if ".tmp" in p.name or p.name.endswith(".lock")]
    # every file is its batch (seed and settings), whichever build annealed it
    for i, r in enumerate(RATIOS):
        for b in range(2):
            cfg = B.point_config(r, i, b, L=4, batch_size=8, seed=0, sweeps=2)
            out = d / B.batch_name(r, b)
            B.check_batch(out, B.load_output(out), cfg)


def test_resume_takes_true_false_or_auto_only(tmp_path):
    from jtls.anneal import files as F
    with pytest.raises(ValueError, match="argument 'resume' must be True, False or 'auto', got 'yes'"):
        F.start(str(tmp_path / "o.npz"), {}, {}, None, 1, "yes", False)
