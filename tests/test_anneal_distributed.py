"""``jtls anneal`` over two processes (jax.distributed, CPU collectives, coordinator on localhost).

Each process has one CPU device (no --xla_force_host_platform_device_count:
XLA's CPU collectives and that flag can crash together).  The histograms of a
two-process run must be bitwise those of a one-process run with the same seed,
and a missing process must end in a message within the --timeout, not a hang.
"""
import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, run
from jtls.anneal.schedule import make_schedule

ARGS = ["anneal", "--L", "4", "--J0", "2", "--h0", "10", "--realizations", "5", "--seed", "3", "--sweeps", "4",
        "--schedule", "20,2,0.5,0.001", "--chunk", "4", "--cpu-devices", "1", "--quiet"]
ENV = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"} | {"JAX_PLATFORMS": "cpu"}

pytestmark = pytest.mark.skipif(os.name != "posix", reason="local multi-process run on POSIX")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def jtls(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "jtls"] + args, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def test_two_processes_give_the_histograms_of_one(tmp_path):
    one = tmp_path / "one.npz"
    two = tmp_path / "two.npz"
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "120"]
    procs = [jtls(ARGS + dist + ["--process-id", str(i), "--out", str(two)]) for i in (0, 1)]
    # the one-process reference, in this process meanwhile (same settings as ARGS)
    run(RunConfig(params=ModelParams(L=4, J0=2.0, h0=10.0), schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4),
                  realizations=5, seed=3, chunk=4), one, progress=False)
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (o, e) in zip(procs, outs):
        assert p.returncode == 0, e[-3000:]
    assert "process 1 done (process 0 writes" in outs[1][1]
    a, b = np.load(one), np.load(two)
    meta = json.loads(str(b["meta"]))
    assert meta["processes"] == 2 and meta["devices"] == 2 and json.loads(str(a["meta"]))["processes"] == 1
    for k in ("counts", "counts_relaxed", "acceptance", "unstable_single", "unstable_pair", "relax_flips"):
        np.testing.assert_array_equal(b[k], a[k], err_msg=k)
    assert int(b["counts"].sum()) == 4 * 5 * 32
    # process 0 alone wrote files: no lock, checkpoint or temporaries of any process left
    assert sorted(os.listdir(tmp_path)) == ["one.npz", "two.npz"]


def test_a_missing_process_is_an_error_not_a_hang(tmp_path):
    port = free_port()
    p = jtls(ARGS + ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--process-id", "0",
                     "--timeout", "3", "--out", str(tmp_path / "x.npz")])
    _, err = p.communicate(timeout=120)
    assert p.returncode == 3, err[-3000:]
    assert "not all processes connected to localhost:" in err and "within 3 s" in err
    assert "--resume" not in err            # nothing was started: no checkpoint to resume from


def test_a_repeated_process_id_ends_every_process_and_the_repeat_names_the_cause(tmp_path):
    """Two processes given --process-id 1: nothing may hang, and the repeated one's message says
    that a repeated id is a cause (JAX's coordination service takes it for a restart of process 1
    and stops the run; the repeated process itself waits its --timeout)."""
    port = free_port()
    out = tmp_path / "run.npz"
    slow = [a for a in ARGS if a != "--quiet"]  # each process prints its place once connected
    slow[slow.index("--sweeps") + 1] = "400"    # still running when the repeat connects
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--out", str(out)]
    logs = [tmp_path / f"p{i}.err" for i in range(3)]
    procs = []
    for i, pid in enumerate((0, 1)):
        procs.append(subprocess.Popen([sys.executable, "-m", "jtls"] + slow + dist + ["--process-id", str(pid),
                                      "--timeout", "60"], env=ENV, stdout=subprocess.DEVNULL,
                                      stderr=open(logs[i], "w"), text=True))
    for _ in range(600):                    # both connected (each prints its place), at most 60 s
        if all("[anneal] process" in log.read_text() for log in logs[:2]):
            break
        time.sleep(0.1)
    dup = subprocess.run([sys.executable, "-m", "jtls"] + slow + dist + ["--process-id", "1", "--timeout", "5"],
                         env=ENV, capture_output=True, text=True, timeout=120)
    for p in procs:
        p.wait(timeout=120)                 # no hang: every process ends
    assert dup.returncode == 3, dup.stderr[-3000:]
    assert "same --process-id" in dup.stderr and "within 5 s" in dup.stderr


def test_a_bad_option_on_one_process_stops_it_at_once_and_the_other_in_its_timeout(tmp_path):
    """A typo on process 1 (library build --ratios; anneal --schedule): process 1 exits 2 with
    its message before it joins (no JAX abort), process 0 stops after its --timeout saying the
    others did not connect (it hung for JAX's 5 minutes before)."""
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "5"]
    d = tmp_path / "lib"
    i = LIBRARY.index("--ratios")
    bad = LIBRARY[:i + 1] + ["0.1,0.2,0.3,O.4"] + LIBRARY[i + 2:]
    procs = [jtls(args[:2] + [str(d)] + args[2:] + dist + ["--process-id", str(k)])
             for k, args in ((0, LIBRARY), (1, bad))]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [3, 2], errs
    assert "argument '--ratios': entry 4 ('O.4') is not a number" in errs[1]
    assert "Check failure" not in errs[1] and "Traceback" not in errs[1]
    assert "not all processes connected" in errs[0] and "--resume" not in errs[0]
    out = tmp_path / "x.npz"
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "5", "--out", str(out)]
    bad = ARGS + ["--schedule", "1,0.5x"]
    procs = [jtls(args + dist + ["--process-id", str(k)]) for k, args in ((0, ARGS), (1, bad))]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [3, 2], errs
    assert "argument '--schedule': entry 2 ('0.5x') is not a number" in errs[1]
    assert "Check failure" not in errs[1]
    assert not out.exists()


def test_a_refusal_of_process_0_reaches_the_others(tmp_path):
    """An existing output (no --overwrite): process 0 refuses before any work and process 1
    stops with process 0's reason instead of waiting for it."""
    out = tmp_path / "exists.npz"
    out.write_bytes(b"not replaced")
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "60", "--out", str(out)]
    procs = [jtls(ARGS + dist + ["--process-id", str(i)]) for i in (0, 1)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [2, 2], errs
    assert f"output {out} exists" in errs[0]
    assert "process 0 stopped the run before it began" in errs[1] and f"output {out} exists" in errs[1]
    assert out.read_bytes() == b"not replaced" and sorted(os.listdir(tmp_path)) == ["exists.npz"]


def test_distributed_auto_outside_a_cluster_is_a_clear_error(tmp_path):
    env = {k: v for k, v in ENV.items() if not k.startswith(("SLURM_", "OMPI_", "PMI_"))}
    p = subprocess.run([sys.executable, "-m", "jtls"] + ARGS + ["--distributed", "auto", "--timeout", "20",
                                                                "--out", str(tmp_path / "x.npz")],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stderr[-3000:]
    assert "--distributed auto needs a cluster environment" in p.stderr
    assert not os.listdir(tmp_path)


def test_bad_distributed_flags_are_clear_errors(tmp_path, capsys):
    from jtls.cli import main
    out = ["--out", str(tmp_path / "x.npz")]
    cases = [(["--coordinator", "nohostport", "--num-processes", "2", "--process-id", "0"], "--coordinator"),
             (["--coordinator", "localhost:1", "--num-processes", "2"], "--process-id"),
             (["--coordinator", "localhost:1", "--num-processes", "2", "--process-id", "2"], "--process-id"),
             (["--coordinator", "localhost:1", "--num-processes", "0", "--process-id", "0"], "--num-processes"),
             (["--coordinator", "localhost:1", "--num-processes", "2", "--process-id", "0", "--timeout", "0"],
              "--timeout"),
             (["--timeout", "nan"], "--timeout must be a positive"),       # one process: refused too
             # a host that cannot exist (.invalid is reserved): at once, not after --timeout
             (["--coordinator", "nosuchhost.invalid:23454", "--num-processes", "2", "--process-id", "1"],
              "cannot resolve the host 'nosuchhost.invalid'")]
    for extra, name in cases:
        assert main(ARGS + extra + out) == 2, extra
        assert name in capsys.readouterr().err, extra


LIBRARY = ["library", "build", "--ratios", "0.1,0.2,0.3,0.4", "--L", "4", "--batch-size", "5", "--sweeps", "2",
           "--batches", "1", "--cpu-devices", "1", "--quiet"]


def test_library_build_over_two_processes_gives_the_files_of_one(tmp_path):
    """Every batch of a two-process ``jtls library build`` is annealed over both processes' devices;
    process 0 alone writes, and the batch files hold the histograms of a one-process build."""
    from jtls.cli import main
    from jtls.simulated.build import batch_name
    one, two = tmp_path / "one", tmp_path / "two"
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "120"]
    procs = [jtls(LIBRARY[:2] + [str(two)] + LIBRARY[2:] + dist + ["--process-id", str(i)]) for i in (0, 1)]
    assert main(LIBRARY[:2] + [str(one)] + LIBRARY[2:]) == 0
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (o, e) in zip(procs, outs):
        assert p.returncode == 0, e[-3000:]
    assert "4 batch(es) finished" in outs[0][0] and "process 1 done (process 0 writes" in outs[1][1]
    names = [batch_name(r, 0) for r in (0.1, 0.2, 0.3, 0.4)]
    assert sorted(os.listdir(two)) == sorted(names + ["manifest.json"]) == sorted(os.listdir(one))
    assert (two / "manifest.json").read_text() == (one / "manifest.json").read_text()
    for name in names:
        a, b = np.load(one / name), np.load(two / name)
        assert json.loads(str(b["meta"]))["processes"] == 2 and json.loads(str(a["meta"]))["processes"] == 1
        assert json.loads(str(b["meta"]))["seed"] == json.loads(str(a["meta"]))["seed"]
        for k in ("counts", "counts_relaxed", "acceptance", "relax_flips"):
            np.testing.assert_array_equal(b[k], a[k], err_msg=f"{name}: {k}")


def test_library_build_refusal_of_process_0_reaches_the_others(tmp_path):
    """A directory built with other settings: process 0 refuses before any batch and process 1 stops
    with process 0's reason (no hang, nothing written)."""
    from jtls.simulated import build as B
    d = tmp_path / "lib"
    d.mkdir()
    want = B.manifest((0.1, 0.2, 0.3, 0.4), 5, 5, 0, 2)        # L = 5, not 4
    (d / B.MANIFEST).write_text(json.dumps(want))
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "60"]
    procs = [jtls(LIBRARY[:2] + [str(d)] + LIBRARY[2:] + dist + ["--process-id", str(i)]) for i in (0, 1)]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [2, 2], errs
    assert "differs in: L" in errs[0]
    assert "process 0 stopped the build before it began" in errs[1] and "differs in: L" in errs[1]
    assert sorted(os.listdir(d)) == [B.MANIFEST]


def test_processes_started_with_different_settings_stop_with_a_message(tmp_path):
    """Process 1 with another seed than process 0: both stop before any work (exit 2), saying the
    settings differ, instead of mixing realizations of two runs; nothing is written."""
    out = tmp_path / "x.npz"
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "60", "--out", str(out)]
    other = [a if a != "3" else "4" for a in ARGS]                 # --seed 4 instead of 3
    procs = [jtls(args + dist + ["--process-id", str(i)]) for i, args in ((0, ARGS), (1, other))]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [2, 2], errs
    for e in errs:
        assert ("were started with different settings (differing: seed): process(es) 1 differ from process 0"
                in e), e[-2000:]
    assert os.listdir(tmp_path) == []


def test_library_build_processes_with_different_settings_stop_with_a_message(tmp_path):
    d = tmp_path / "lib"
    port = free_port()
    dist = ["--coordinator", f"localhost:{port}", "--num-processes", "2", "--timeout", "60"]
    i = LIBRARY.index("--batches")
    more = LIBRARY[:i + 1] + ["2"] + LIBRARY[i + 2:]                # --batches 2 instead of 1
    procs = [jtls(args[:2] + [str(d)] + args[2:] + dist + ["--process-id", str(i)])
             for i, args in ((0, LIBRARY), (1, more))]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [2, 2], errs
    assert all("library build were started with different settings (differing: batches)" in e for e in errs), errs
    assert not d.exists()
