"""Audit of the job-array features: ``jtls anneal --part K/M`` / ``--combine`` and the watched child
process of multi-process commands (jtls.anneal.supervise), as a user running SLURM job arrays.

Tiny runs only (L = 4, two temperatures, two sweeps, one CPU device).  Tests of the fixes of the
defects the audit found (each failed before its fix: --out through a symlinked directory, a
missing part, a checkpoint given as a part, SIGTERM swallowed by JAX's preemption service, SIGINT
to the watcher's pid, a stray JTLS_DISTRIBUTED_CHILD value) and of behaviour not covered elsewhere.
"""
import dataclasses
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import jtls  # noqa: F401
import jtls.anneal.files as F
from jtls.anneal.combine import combine
from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, run
from jtls.anneal.schedule import make_schedule
from jtls.cli import main

CFG = RunConfig(params=ModelParams(L=4, J0=2.0, h0=10.0), schedule=make_schedule([5.0, 0.5], 2),
                realizations=5, seed=2, chunk=2)
ENV = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JTLS_DISTRIBUTED_CHILD")} | \
    {"JAX_PLATFORMS": "cpu"}
ANNEAL = ["anneal", "--L", "4", "--J0", "2", "--h0", "10", "--realizations", "5", "--seed", "2", "--sweeps", "2",
          "--schedule", "5,0.5", "--cpu-devices", "1", "--quiet"]

posix = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process handling (/proc, prctl)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    """A whole run and its two parts, annealed with different batch sizes and memory budgets."""
    d = tmp_path_factory.mktemp("job_array")
    whole = run(CFG, d / "whole.npz", progress=False)
    paths = [d / "p0.npz", d / "p1.npz"]
    run(dataclasses.replace(CFG, part=(0, 2), chunk=1), paths[0], progress=False)
    run(dataclasses.replace(CFG, part=(1, 2), chunk=0, memory_gb=0.05), paths[1], progress=False)
    return d, whole, paths


# ------------------------------------------------------------------------------------ --combine: fine

def test_parts_run_with_other_batch_sizes_still_add_up_bitwise(parts, tmp_path):
    d, whole, paths = parts
    res = combine(paths, tmp_path / "c.npz")
    for k in whole:
        if k not in ("meta", "mean_energy_per_tls"):
            np.testing.assert_array_equal(res[k], whole[k], err_msg=k)


def test_a_renamed_part_combines_and_the_same_file_under_two_spellings_is_refused(parts, tmp_path, monkeypatch):
    d, whole, paths = parts
    renamed = tmp_path / "renamed_task0.npz"
    renamed.write_bytes(paths[0].read_bytes())
    res = combine([paths[1], renamed], tmp_path / "c.npz")
    np.testing.assert_array_equal(res["counts"], whole["counts"])
    assert json.loads(str(res["meta"]))["combined_from"][0]["file"] == "renamed_task0.npz"
    monkeypatch.chdir(d)
    with pytest.raises(ValueError, match="part 0 of 2 is given twice"):
        combine(["./p0.npz", "p0.npz", "p1.npz"], tmp_path / "c2.npz")
    assert not (tmp_path / "c2.npz").exists()


def test_a_part_of_another_dtype_is_refused_naming_it(parts, tmp_path):
    d, whole, paths = parts
    p64 = tmp_path / "p1_64.npz"
    run(dataclasses.replace(CFG, part=(1, 2), dtype="float64"), p64, progress=False)
    with pytest.raises(ValueError, match="settings differ in dtype"):
        combine([paths[0], p64], tmp_path / "c.npz")


def test_a_part_run_without_x64_is_refused_naming_x64(parts, tmp_path):
    d, whole, paths = parts
    nox = tmp_path / "nox1.npz"
    r = subprocess.run([sys.executable, "-m", "jtls", *ANNEAL, "--part", "1/2", "--out", str(nox)],
                       env=ENV | {"JTLS_NO_X64": "1"}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    with pytest.raises(ValueError, match="settings differ in x64"):
        combine([paths[0], nox], tmp_path / "c.npz")


def test_the_combined_file_is_a_whole_run_for_dos_fit_and_tabulated_dos(parts, tmp_path, capsys):
    d, whole, paths = parts
    out = tmp_path / "c.npz"
    assert main(["anneal", "--combine", str(paths[1]), str(paths[0]), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["dos-fit", "--json", str(out)]) in (0, 1)          # 1: no row ok at this tiny size
    doc = json.loads(capsys.readouterr().out)
    assert doc["meta"]["run"]["realizations"] == 5 and "part" not in doc["meta"]["run"]
    jtls.TabulatedDOS.from_file(str(out))
    # refused when it exists, replaced with --overwrite
    assert main(["anneal", "--combine", str(paths[0]), str(paths[1]), "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["anneal", "--combine", str(paths[0]), str(paths[1]), "--out", str(out), "--overwrite"]) == 0


def test_more_parts_than_realizations_are_refused_on_the_command_line(capsys):
    assert main(["anneal", "--L", "4", "--realizations", "3", "--part", "2/4", "--quiet"]) == 2
    assert "4 parts of 3 realizations" in capsys.readouterr().err


# --------------------------------------------------------------------------------- --combine: defects

def test_out_equal_to_a_part_through_a_symlinked_directory_is_refused(parts, tmp_path):
    d, whole, paths = parts
    work = tmp_path / "runs"
    work.mkdir()
    mine = [work / "p0.npz", work / "p1.npz"]
    for src, dst in zip(paths, mine):
        dst.write_bytes(src.read_bytes())
    link = tmp_path / "link"
    os.symlink(work, link)
    try:
        with pytest.raises(ValueError, match="is one of the part files"):
            combine(mine, link / "p0.npz", overwrite=True)
    finally:
        # the part must still be part 0 of 2 (not the combined whole run)
        meta = json.loads(str(F.load_output(mine[0])["meta"]))
        assert meta.get("part") == [0, 2]


def test_the_documented_glob_over_an_unfinished_part_names_what_to_do(parts, tmp_path):
    d, whole, paths = parts
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "L4_part0.npz").write_bytes(paths[0].read_bytes())
    # part 1 was preempted: only its checkpoint exists (the docs' `--combine runs/L4_part*.npz` matches it)
    assert run(dataclasses.replace(CFG, part=(1, 2), chunk=1), runs / "L4_part1.npz", progress=False,
               stop_after_chunks=1) is None
    files = sorted(glob.glob(str(runs / "L4_part*.npz")))
    assert files == [str(runs / "L4_part0.npz"), str(runs / "L4_part1.npz.ckpt.npz")]
    with pytest.raises(ValueError, match=r"unfinished|--resume"):
        combine(files, tmp_path / "whole.npz")


def test_a_missing_part_file_is_reported_as_missing_not_corrupted(parts, tmp_path):
    d, whole, paths = parts
    with pytest.raises(ValueError) as exc:
        combine([paths[0], tmp_path / "never_written.npz"], tmp_path / "c.npz")
    assert "corrupted" not in str(exc.value) and "truncated" not in str(exc.value)


# ------------------------------------------------------------------------- supervised multi-process

def _children(pid):
    kids = []
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{t}/children") as f:
                kids += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return kids


def _alive(pid) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


#: Starts Python with SIGHUP, SIGINT and SIGTERM at their default actions, then runs the rest of
#: its arguments: the test runner may have been started ignoring some (nohup, a background job),
#: and ignored signals stay ignored across exec -- by design of the watcher too.
_DEFAULT_SIGNALS = ("import os, signal, sys\n"
                    "for s in (signal.SIGHUP, signal.SIGINT, signal.SIGTERM):\n"
                    "    signal.signal(s, signal.SIG_DFL)\n"
                    "os.execv(sys.executable, [sys.executable] + sys.argv[1:])")


def _long_one_process_run(out, **kw):
    """A supervised multi-process command (one process of one) that runs for minutes."""
    args = [sys.executable, "-c", _DEFAULT_SIGNALS, "-m", "jtls", "anneal", "--L", "4", "--realizations", "100000", "--sweeps", "20000",
            "--schedule", "5,0.5", "--cpu-devices", "1", "--chunk", "1", "--quiet", "--out", str(out),
            "--coordinator", f"localhost:{free_port()}", "--num-processes", "1", "--process-id", "0",
            "--timeout", "60"]
    return subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_for_work(p, out, limit=90.0):
    """The child's pid, once it has written its first checkpoint (JAX's distributed runtime is up)."""
    t0 = time.time()
    while time.time() - t0 < limit:
        kids = _children(p.pid)
        if kids and os.path.exists(F.checkpoint_path(out)):
            return kids[0]
        if p.poll() is not None:
            break
        time.sleep(0.2)
    p.kill()
    pytest.fail(f"the supervised run did not start working: {p.communicate()[1][-2000:]}")


def _finish(p, child, seconds):
    try:
        _, err = p.communicate(timeout=seconds)
        return p.returncode, err
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        return None, err
    finally:
        time.sleep(0.5)
        if _alive(child):
            os.kill(child, signal.SIGKILL)


@posix
@pytest.mark.xdist_group("distributed")
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_a_stop_signal_ends_a_supervised_command_with_a_message_and_keeps_the_checkpoint(tmp_path, sig):
    """SIGTERM (a scheduler's time limit; JAX's preemption service had swallowed it) and SIGHUP:
    status 128 + the signal, a jtls message naming the signal and --resume, the child gone."""
    out = tmp_path / "o.npz"
    p = _long_one_process_run(out)
    child = _wait_for_work(p, out)
    num = getattr(signal, sig)
    p.send_signal(num)
    rc, err = _finish(p, child, 30)
    assert rc == 128 + int(num), err[-2000:]
    assert f"jtls: error: jtls anneal: the process was stopped by {sig}" in err and "with --resume" in err
    assert not _alive(child) and os.path.exists(F.checkpoint_path(out))


@posix
@pytest.mark.xdist_group("distributed")
def test_the_child_dies_with_its_killed_parent(tmp_path):
    out = tmp_path / "o.npz"
    p = _long_one_process_run(out)
    child = _wait_for_work(p, out)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=30)
    t0 = time.time()
    while _alive(child) and time.time() - t0 < 10:
        time.sleep(0.1)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the supervised child outlived its SIGKILLed parent"


@posix
@pytest.mark.xdist_group("distributed")
def test_sigint_sent_to_the_command_alone_interrupts_it(tmp_path):
    out = tmp_path / "o.npz"
    p = _long_one_process_run(out)
    child = _wait_for_work(p, out)
    p.send_signal(signal.SIGINT)
    rc, err = _finish(p, child, 20)
    assert rc == 130, err[-2000:]


@posix
@pytest.mark.xdist_group("distributed")
def test_a_stale_child_marker_in_the_environment_does_not_kill_the_command_silently(tmp_path):
    out = tmp_path / "o.npz"
    r = subprocess.run([sys.executable, "-m", "jtls", *ANNEAL, "--out", str(out), "--coordinator",
                        f"localhost:{free_port()}", "--num-processes", "1", "--process-id", "0", "--timeout", "60"],
                       env=ENV | {"JTLS_DISTRIBUTED_CHILD": "1"}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 or "JTLS_DISTRIBUTED_CHILD" in r.stderr, (r.returncode, r.stderr[-2000:])
