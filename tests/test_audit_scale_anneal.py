"""Audit of the "scale" features of jtls anneal / jtls library build: several processes
(jax.distributed), batch sizes chosen from memory, checkpoints and resume, locks.

Tests of behaviour found correct that the existing tests do not cover, and of the fixes of the
defects the audit found (each failed before its fix): a dead process 0 aborting the others, the
stop message's checkpoint name, huge --timeout / --memory / --chunk, calls padded beyond the
realizations, --chunk/--memory not compared between processes, library batches not sized from
memory, and a multi-process library build dying on a batch another build took.  Small runs
only (L = 4, a few realizations, 4 sweeps); every subprocess has a timeout.
"""
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from jtls.anneal.lattice import ModelParams
from jtls.anneal.schedule import make_schedule
from jtls.cli import main

R = importlib.import_module("jtls.anneal.run")

SMALL = dict(params=ModelParams(L=4, J0=2.0, h0=10.0), schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4),
             realizations=5, seed=3)
CLI = ["anneal", "--L", "4", "--J0", "2", "--h0", "10", "--realizations", "5", "--seed", "3", "--sweeps", "4",
       "--schedule", "20,2,0.5,0.001", "--cpu-devices", "1", "--quiet"]
KEYS = ("counts", "counts_relaxed", "acceptance", "unstable_single", "unstable_pair", "relax_flips")
ENV = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}

posix = pytest.mark.skipif(os.name != "posix", reason="local multi-process run on POSIX")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def same(a, b):
    for k in KEYS:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def jtls_proc(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "jtls"] + args, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def dist(port, n=2):
    return ["--coordinator", f"localhost:{port}", "--num-processes", str(n)]


# A driver of run() over two processes (the API: stop_after_chunks emulates a killed run).
DRIVER = textwrap.dedent("""
    import os, sys
    from jtls.anneal import distributed as D
    port, pid, out, stop, die, resume = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), \\
        int(sys.argv[5]), sys.argv[6] == "1"
    D.initialize(f"localhost:{port}", 2, pid, timeout=30, log=None)
    from jtls.anneal.lattice import ModelParams
    from jtls.anneal.run import RunConfig, run
    from jtls.anneal.schedule import make_schedule
    cfg = RunConfig(params=ModelParams(L=4, J0=2.0, h0=10.0), schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4),
                    realizations=5, seed=3, chunk=1)
    res = run(cfg, out, resume=resume, progress=False, stop_after_chunks=stop or None)
    print("RESULT", pid, res is None, flush=True)
    if die and pid == 1:
        os._exit(9)              # process 1 "dies" after its first batch
""")


def driver(tmp_path, port, pid, out, stop=0, die=0, resume=False):
    script = tmp_path / "driver.py"
    if not script.exists():
        script.write_text(DRIVER)
    return subprocess.Popen([sys.executable, str(script), str(port), str(pid), str(out), str(stop), str(die),
                             "1" if resume else "0"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    return R.run(R.RunConfig(**SMALL, chunk=1), d / "ref.npz", progress=False)


# ---------------------------------------------------------------------------------------------------
# several processes

@posix
@pytest.mark.xdist_group("distributed")
def test_checkpoint_moves_between_one_and_two_processes_bitwise(tmp_path, reference):
    """Docs: 'any number of processes may resume it, one included'.  A checkpoint of one process
    (1 of 5 done) is continued by two (one more call: 3 of 5) and finished by one again; the
    result is bitwise the one-process run."""
    out = tmp_path / "run.npz"
    ck = R.checkpoint_path(out)
    assert R.run(R.RunConfig(**SMALL, chunk=1), out, progress=False, stop_after_chunks=1) is None
    port = free_port()
    procs = [driver(tmp_path, port, i, out, stop=1, resume=True) for i in (0, 1)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [e[-2000:] for _, e in outs]
    with np.load(ck) as f:
        assert int(f["done"]) == 3           # 1 + one call of one realization per device (2 devices)
    assert not os.path.exists(str(out) + ".lock")
    res = R.run(R.RunConfig(**SMALL, chunk=1), out, resume=True, progress=False)
    same(res, reference)
    assert sorted(os.listdir(tmp_path)) == ["driver.py", "run.npz"]


@pytest.fixture(scope="module")
def killed_worker(tmp_path_factory):
    """Two processes; process 1 dies (os._exit) right after the first batch."""
    d = tmp_path_factory.mktemp("killed")
    out = d / "run.npz"
    port = free_port()
    procs = [driver(d, port, i, out, stop=i, die=1) for i in (0, 1)]   # process 1: one call, then exit
    t0 = time.time()
    outs = [p.communicate(timeout=120) for p in procs]
    return d, out, procs, outs, time.time() - t0


@posix
@pytest.mark.xdist_group("distributed")
def test_a_worker_that_dies_stops_process_0_with_a_message_and_keeps_the_checkpoint(killed_worker, reference):
    d, out, procs, outs, seconds = killed_worker
    err0 = outs[0][1]
    assert procs[0].returncode == 3, err0[-3000:]
    assert "lost contact with another process" in err0 or "no answer from the other processes" in err0
    assert "Traceback" not in err0 and "Check failure" not in err0
    ck = R.checkpoint_path(out)
    with np.load(ck) as f:
        assert 0 < int(f["done"]) < 5
    assert not out.exists()
    # one process continues it (the stale lock file is taken over) and gets the one-process result
    same(R.run(R.RunConfig(**SMALL, chunk=1), out, resume=True, progress=False), reference)


@posix
@pytest.mark.xdist_group("distributed")
def test_the_stop_message_names_the_actual_checkpoint_file(killed_worker):
    d, out, procs, outs, _ = killed_worker
    assert R.checkpoint_path(out) in outs[0][1] or os.path.basename(R.checkpoint_path(out)) in outs[0][1]


@posix
@pytest.mark.xdist_group("distributed")
def test_a_dead_process_0_stops_the_others_with_a_message(tmp_path):
    """docs/guide/annealing.md: 'A process that is missing at the start, dies, or falls more than
    --timeout seconds behind stops the others with a message naming the step (exit status 3)'."""
    port = free_port()
    logs = [tmp_path / f"p{i}.err" for i in (0, 1)]
    args = [a for a in CLI if a != "--quiet"] + ["--chunk", "1", "--out", str(tmp_path / "x.npz")]
    procs = [subprocess.Popen([sys.executable, "-m", "jtls"] + args + dist(port) +
                              ["--process-id", str(i), "--timeout", "20"], env=ENV, stdout=subprocess.DEVNULL,
                              stderr=open(logs[i], "w"), text=True) for i in (0, 1)]
    try:
        for _ in range(1200):               # both connected (each prints its place)
            if all("[anneal] process" in log.read_text() for log in logs):
                break
            time.sleep(0.05)
        procs[0].send_signal(signal.SIGKILL)
        procs[1].wait(timeout=120)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    err = logs[1].read_text()
    assert procs[1].returncode == 3, err[-3000:]
    # the command's last word is jtls's: what happened and where the finished work is -- whether
    # its collective failed first (lost contact) or JAX's runtime aborted the process that does the
    # work (JAX prints its own log above; jtls's watcher of that process then says what it means)
    last = err.strip().splitlines()[-1]
    assert last.startswith(("jtls: error: jtls anneal: JAX's distributed runtime ended this process",
                            "jtls: error: process 1 lost contact with another process")), last
    ck = tmp_path / "x.npz.ckpt.npz"
    assert str(ck) in last
    # with --resume where batches had finished; else it says none had (killed before the first)
    assert "--resume" in last and (ck.exists() or "no batch had finished" in last), last


@posix
def test_a_huge_timeout_is_a_clear_error_or_works(tmp_path):
    p = subprocess.run([sys.executable, "-m", "jtls"] + CLI + ["--out", str(tmp_path / "x.npz")] +
                       dist(free_port(), 1) + ["--process-id", "0", "--timeout", "3e9"],
                       env=ENV, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in p.stderr, p.stderr[-2000:]
    assert p.returncode == 0 or (p.returncode == 2 and "--timeout" in p.stderr), p.stderr[-2000:]


@posix
@pytest.mark.xdist_group("distributed")
def test_one_process_with_a_coordinator_is_a_plain_run(tmp_path, reference):
    """--num-processes 1 with --coordinator (and --distributed auto with explicit flags, outside a
    cluster) runs as one process and gives the one-process result."""
    out = tmp_path / "one.npz"
    p = subprocess.run([sys.executable, "-m", "jtls"] + CLI + ["--chunk", "1", "--out", str(out),
                                                              "--distributed", "auto"] +
                       dist(free_port(), 1) + ["--process-id", "0", "--timeout", "60"],
                       env=ENV, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    with np.load(out) as f:
        same(f, reference)
        assert json.loads(str(f["meta"]))["processes"] == 1
    assert sorted(os.listdir(tmp_path)) == ["one.npz"]


@posix
@pytest.mark.xdist_group("distributed")
def test_processes_with_different_batch_limits_are_refused_or_the_smaller_is_kept(tmp_path):
    out = tmp_path / "x.npz"
    port = free_port()
    base = CLI + dist(port) + ["--timeout", "60", "--out", str(out)]
    procs = [jtls_proc(base + ["--chunk", c, "--process-id", str(i)]) for i, c in ((0, "4"), (1, "2"))]
    outs = [p.communicate(timeout=120) for p in procs]
    rcs = [p.returncode for p in procs]
    if rcs == [2, 2]:
        assert all("chunk" in e for _, e in outs), outs
        return
    assert rcs == [0, 0], [e[-2000:] for _, e in outs]
    with np.load(out) as f:
        assert json.loads(str(f["meta"]))["batch"] <= 2      # process 1 asked for at most 2 per call


# ---------------------------------------------------------------------------------------------------
# batch chosen from memory / call sizes

def _spy_calls(monkeypatch):
    seen = []
    orig = R.make_chunk_fn

    def spy(cfg, devices=None):
        fn, ndev = orig(cfg, devices)

        def call(r):
            seen.append(len(r))
            return fn(r)
        return call, ndev
    monkeypatch.setattr(R, "make_chunk_fn", spy)
    return seen


def test_calls_compute_no_more_than_the_realizations_rounded_to_the_devices(tmp_path, monkeypatch, reference):
    """docs (jtls.anneal.run): 'The call size is rounded up to a multiple of the device count (extra
    realizations are computed and discarded)'.  With the default batch from memory (64 on CPU)
    a run of 5 realizations on one device computes 64 (59 discarded)."""
    seen = _spy_calls(monkeypatch)
    res = R.run(R.RunConfig(**SMALL), tmp_path / "x.npz", progress=False, devices=R.jax.devices()[:1])
    same(res, reference)
    assert sum(seen) <= 5, seen


def _overcommits() -> bool:
    try:
        with open("/proc/sys/vm/overcommit_memory") as f:
            return f.read().strip() == "1"
    except OSError:
        return True


@pytest.mark.skipif(_overcommits(), reason="needs the kernel to refuse an 8 TiB allocation at once")
def test_a_huge_chunk_is_capped_or_refused(tmp_path, capsys):
    out = tmp_path / "x.npz"
    rc = main(CLI + ["--chunk", str(2 ** 40), "--checkpoint-every", "1e9", "--out", str(out)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert rc == 0 or (rc == 2 and "--chunk" in err), err[-2000:]
    assert not os.path.exists(str(out) + ".lock")


def test_an_absurdly_large_memory_budget_is_a_clear_error_or_works(tmp_path, capsys):
    rc = main(CLI + ["--memory", "1e300", "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err
    assert rc == 0 or (rc == 2 and "--memory" in err), err[-2000:]


@pytest.mark.parametrize("memory", ["0", "-1", "nan", "inf"])
def test_bad_memory_budgets_are_named(tmp_path, capsys, memory):
    assert main(CLI + ["--memory", memory, "--out", str(tmp_path / "x.npz")]) == 2
    assert "--memory" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_a_tiny_memory_budget_still_runs_one_realization_per_device():
    from jtls.anneal.sizing import auto_chunk
    devs = R.jax.devices()[:1]
    assert auto_chunk(10 ** 9, 1, True, 1, devs) == 1
    assert auto_chunk(10 ** 3, 1, True, 2 ** 62, devs) == 64          # capped on CPU


def test_library_batches_respect_the_memory_budget_as_jtls_anneal_does():
    import dataclasses
    from jtls.anneal.sizing import CPU_BUDGET, realization_bytes
    from jtls.simulated.build import point_config
    cfg = point_config(0.1, 0, 0, L=16, batch_size=1000, seed=0)
    devs = R.jax.devices()[:1]
    per = realization_bytes(cfg.params.n, len(cfg.schedule.T), 4)
    assert R.batch_size(cfg, 1, devs) * per <= CPU_BUDGET
    assert R.batch_size(cfg, 1, devs) == R.batch_size(dataclasses.replace(cfg, chunk=0), 1, devs)


# ---------------------------------------------------------------------------------------------------
# library build over several processes, with a directory shared with other builds

RACE = textwrap.dedent("""
    import os, sys
    from jtls.anneal import distributed as D
    port, pid, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    D.initialize(f"localhost:{port}", 2, pid, timeout=10, log=None)
    from jtls.simulated import build as B
    from jtls.anneal.files import OutputLock
    B._held_elsewhere = lambda out: False   # process 0 looked before another build took the lock
    if pid == 0:
        os.makedirs(d, exist_ok=True)
        held = OutputLock(os.path.join(d, B.batch_name(0.2, 0))).acquire()     # "another build"
    res = B.build(d, ratios=(0.1, 0.2, 0.3, 0.4), L=4, batches=1, batch_size=2, sweeps=2, progress=False)
    print("RESULT", pid, res["done"], res["elsewhere"], flush=True)
""")


@posix
@pytest.mark.xdist_group("distributed")
def test_multi_process_build_survives_a_batch_taken_by_another_build(tmp_path):
    script = tmp_path / "race.py"
    script.write_text(RACE)
    port = free_port()
    d = tmp_path / "lib"
    procs = [subprocess.Popen([sys.executable, str(script), str(port), str(i), str(d)], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    outs = []
    for p in procs:
        try:
            outs.append(p.communicate(timeout=110))
        except subprocess.TimeoutExpired:
            p.kill()
            outs.append(p.communicate())
    assert [p.returncode for p in procs] == [0, 0], [e[-1500:] for _, e in outs]
    for i, (o, _) in enumerate(outs):
        assert f"RESULT {i} 3 1" in o
