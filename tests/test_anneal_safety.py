"""`jtls anneal` never loses work (issue 12): refusals, lock, output checks, verified
checkpoints, time-based checkpoints, atomic writes, 32-bit site indices, independent
random streams per realization.  Same small configuration as test_anneal_run (L = 4)."""
import importlib
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jax
import jax.numpy as jnp
import jtls  # noqa: F401
import jtls.anneal.files as F
from jtls.anneal.lattice import ModelParams, make_disorder
from jtls.anneal.kernel import sweep_bits, sweep_randoms
from jtls.anneal.run import RunConfig, checkpoint_path, run
from jtls.anneal.schedule import make_schedule, paper_schedule
from jtls.cli import main

R = importlib.import_module("jtls.anneal.run")      # (jtls.anneal.run the attribute is the function)

SMALL = dict(params=ModelParams(L=4, J0=2.0, h0=10.0),
             schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4), realizations=5, seed=3)
CFG = RunConfig(**SMALL, chunk=1)           # calls of one realization, as with a short interval
CLI = ["anneal", "--L", "4", "--J0", "2", "--h0", "10", "--realizations", "5", "--seed", "3", "--sweeps", "4",
       "--schedule", "20,2,0.5,0.001", "--chunk", "1", "--cpu-devices", "1", "--quiet"]
KEYS = ("counts", "counts_relaxed", "acceptance", "unstable_single", "unstable_pair")


def same(a, b):
    for k in KEYS:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    d = tmp_path_factory.mktemp("safety")
    res = run(CFG, d / "ref.npz", progress=False)
    assert run(CFG, d / "part.npz", progress=False, stop_after_chunks=1) is None      # "killed": 1 of 5 done
    with open(checkpoint_path(d / "part.npz"), "rb") as f:
        return res, f.read()


def cli(args, capsys):
    rc = main(CLI + args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


def test_existing_checkpoint_is_refused_without_resume_or_overwrite(ref, tmp_path, capsys):
    res, ck_bytes = ref
    out = tmp_path / "run.npz"
    ck = checkpoint_path(out)
    with open(ck, "wb") as f:
        f.write(ck_bytes)
    with pytest.raises(R.OutputExists, match=r"--resume.*--overwrite"):
        run(CFG, out, progress=False)
    rc, err = cli(["--out", str(out)], capsys)
    assert rc == 2 and "--resume" in err and "--overwrite" in err and ck in err
    with open(ck, "rb") as f:
        assert f.read() == ck_bytes                       # untouched
    assert not os.path.exists(out)
    rc, _ = cli(["--out", str(out), "--resume"], capsys)  # finishes the 4 missing realizations
    assert rc == 0 and not os.path.exists(ck)
    same(np.load(out), res)


def test_overwrite_discards_a_checkpoint_and_replaces_the_output(ref, tmp_path, capsys):
    res, ck_bytes = ref
    out = tmp_path / "run.npz"
    out.write_bytes(b"precious")
    with pytest.raises(R.OutputExists, match="exists.*--overwrite"):
        run(CFG, out, progress=False)
    rc, err = cli(["--out", str(out)], capsys)
    assert rc == 2 and str(out) in err and "--overwrite" in err
    assert out.read_bytes() == b"precious"
    with open(checkpoint_path(out), "wb") as f:
        f.write(ck_bytes)
    with pytest.raises(R.OutputExists, match="--overwrite"):     # resume would replace OUT at the end
        run(CFG, out, resume=True, progress=False)
    same(run(CFG, out, progress=False, overwrite=True), res)      # from 0: checkpoint discarded
    assert not os.path.exists(checkpoint_path(out))
    same(np.load(out), res)


def test_a_second_run_is_refused_while_the_lock_is_held(ref, tmp_path, capsys):
    res, _ = ref
    out = tmp_path / "run.npz"
    lock = str(out) + ".lock"
    with F.OutputLock(out):
        with pytest.raises(R.RunLocked, match=f"{lock}.*pid {os.getpid()}"):
            run(CFG, out, progress=False)
        rc, err = cli(["--out", str(out)], capsys)
        assert rc == 2 and lock in err
    assert not os.path.exists(lock)                               # released on exit
    same(run(CFG, out, progress=False), res)
    assert not os.path.exists(lock)


def test_lock_of_another_process_and_of_a_dead_one(ref, tmp_path):
    """A run in another process holds the lock: refused, naming its pid; once that process
    is killed (-9, no cleanup) its left-over lock file is taken over."""
    res, _ = ref
    out = tmp_path / "run.npz"
    code = textwrap.dedent(f"""
        import sys, time
        from jtls.anneal.files import OutputLock
        OutputLock({str(out)!r}).acquire()
        print("locked", flush=True)
        time.sleep(120)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, JAX_PLATFORMS="cpu"))
    try:
        assert p.stdout.readline().strip() == "locked"
        with pytest.raises(R.RunLocked, match=f"pid {p.pid}"):
            run(CFG, out, progress=False)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    assert os.path.exists(str(out) + ".lock")                     # left behind by the dead holder
    same(run(CFG, out, progress=False), res)


def test_exclusive_create_lock_without_fcntl(tmp_path, monkeypatch):
    monkeypatch.setattr(F, "fcntl", None)
    out = tmp_path / "run.npz"
    lock = str(out) + ".lock"
    with F.OutputLock(out):
        with pytest.raises(F.RunLocked, match=f"pid {os.getpid()}.*delete"):
            F.OutputLock(out).acquire()
    assert not os.path.exists(lock)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    with open(lock, "w") as f:                                    # a dead process on this host: stale
        json.dump({"pid": int(dead), "host": F.socket.gethostname(), "started": "x"}, f)
    F.OutputLock(out).acquire().release()
    with open(lock, "w") as f:                                    # another host: cannot tell, refuse
        json.dump({"pid": int(dead), "host": "elsewhere.invalid", "started": "x"}, f)
    with pytest.raises(F.RunLocked, match="elsewhere.invalid"):
        F.OutputLock(out).acquire()


def test_output_path_is_checked_before_any_work(tmp_path, monkeypatch, capsys):
    def no_work(*a, **k):
        raise AssertionError("work started before the output path was checked")

    monkeypatch.setattr(R, "make_chunk_fn", no_work)
    cases = [(tmp_path, "is a directory"), (tmp_path / "missing" / "run.npz", "does not exist")]
    for out, what in cases:
        with pytest.raises(ValueError, match=what):
            run(CFG, out, progress=False)
        rc, err = cli(["--out", str(out)], capsys)
        assert rc == 2 and what in err and str(out) in err
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, m, **k: False if os.fspath(p) == str(ro) else real_access(p, m))
    with pytest.raises(ValueError, match=f"{ro} of output .* is not writable"):
        run(CFG, ro / "run.npz", progress=False)
    assert os.listdir(ro) == []


def test_a_lattice_no_device_can_hold_is_refused_before_any_file(tmp_path, monkeypatch, capsys):
    """L = 200: 4e6 TLSs, whose n x n couplings alone are 64 TB -- beyond any machine's memory.
    It was started (lock and checkpoint made) and failed deep inside, naming an internal 'n'."""
    from jtls.anneal import sizing
    monkeypatch.setattr(R, "make_chunk_fn", lambda *a, **k: pytest.fail("work started"))
    big = RunConfig(params=ModelParams(L=200, J0=2.0, h0=10.0), schedule=make_schedule([1.0], 1),
                    realizations=1, seed=0)
    with pytest.raises(ValueError, match=r"L = 200 \(4000000 TLSs, --L\): .* GiB of memory they have"):
        run(big, tmp_path / "big.npz", progress=False)
    assert os.listdir(tmp_path) == []
    rc, err = cli(["--L", "200", "--out", str(tmp_path / "big.npz")], capsys)
    assert rc == 2 and "--L" in err and "Traceback" not in err and os.listdir(tmp_path) == []
    # the bound: one realization's arrays plus one float64 n x n per device, against the memory
    dev = jax.local_devices()[:1]
    limit = sizing.machine_memory(dev)
    n = int((limit / 16) ** 0.5)                  # 8 n^2 = limit / 2: fits with arrays below limit / 2
    sizing.check_one_fits(limit // 2 - 1, n, dev, "x")
    with pytest.raises(ValueError, match="x: each of this process's 1 device"):
        sizing.check_one_fits(limit // 2 + 8 * n * n, n, dev, "x")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_directory(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        rc, err = cli(["--out", str(ro / "run.npz")], capsys)
        assert rc == 2 and "not writable" in err
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def _rewrite(path, drop=(), checksum=True, legacy=False, **changes):
    """Rewrite checkpoint ``path`` with arrays changed/dropped (checksum recomputed or kept stale)."""
    with np.load(path) as f:
        a = {k: f[k] for k in f.files}
    stored = a.pop("sha256")
    a |= changes
    for k in drop:
        a.pop(k)
    if legacy:
        a.pop("ckpt_version")
    elif checksum:
        a["sha256"] = np.asarray(F.digest(a))
    else:
        a["sha256"] = stored
    np.savez(path, **a)


def test_damaged_checkpoints_are_clear_errors(ref, tmp_path, capsys):
    res, good = ref
    out = tmp_path / "run.npz"
    ck = checkpoint_path(out)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x10
    with open(tmp_path / "x.npz", "wb") as f:
        f.write(good)
    done = int(np.load(tmp_path / "x.npz")["done"])
    counts = np.load(tmp_path / "x.npz")["tot_counts"]
    nan_counts = counts.astype(float)
    nan_counts[0, 0] = np.nan
    cases = [
        (b"", "unreadable.*empty file", {}),
        (good[: len(good) // 2], "unreadable", {}),
        (bytes(flipped), "unreadable|checksum", {}),
        (good, "missing array.*tot_counts", dict(drop=("tot_counts",))),
        (good, "checksum mismatch", dict(checksum=False, done=np.int64(done + 1))),
        (good, r"tot_counts at temperature 0 sums to 32, expected done x TLSs = 2 x 32 = 64",
         dict(done=np.int64(done + 1))),
        (good, "tot_counts_relaxed sums", dict(tot_counts_relaxed=np.load(tmp_path / "x.npz")["tot_counts_relaxed"] * 2)),
        (good, "tot_energy_sum holds non-finite", dict(tot_energy_sum=np.float64(np.nan))),
        (good, "tot_counts must hold integers", dict(tot_counts=nan_counts)),
        (good, "done = 9 is not in", dict(done=np.int64(9))),
        (good, "sums to", dict(legacy=True, done=np.int64(done + 1))),   # no checksum: invariants still
    ]
    for data, what, change in cases:
        with open(ck, "wb") as f:
            f.write(data)
        if change:
            _rewrite(ck, **change)
        with pytest.raises(R.CheckpointError, match=what) as e:
            run(CFG, out, resume=True, progress=False)
        assert ck in str(e.value) and "--overwrite" in str(e.value)
    rc, err = cli(["--out", str(out), "--resume"], capsys)
    assert rc == 2 and ck in err
    # an intact checkpoint of the older layout (no checksum) still resumes
    with open(ck, "wb") as f:
        f.write(good)
    _rewrite(ck, legacy=True)
    same(run(CFG, out, resume=True, progress=False), res)


def test_resume_refusal_names_the_differing_settings(ref, tmp_path):
    _, good = ref
    out = tmp_path / "run.npz"
    with open(checkpoint_path(out), "wb") as f:
        f.write(good)
    other = RunConfig(**(SMALL | {"params": ModelParams(L=5, J0=2.0, h0=10.0), "seed": 4,
                                  "schedule": make_schedule([20.0, 2.0, 0.4, 1e-3], 4)}), chunk=1)
    with pytest.raises(R.CheckpointMismatch) as e:
        run(other, out, resume=True, progress=False)
    msg = str(e.value)
    for part in ("params.L: checkpoint 4, this run 5", "params.n_tls: checkpoint 32, this run 62",
                 "seed: checkpoint 3, this run 4", "schedule_T[2]: checkpoint 0.5, this run 0.4", "--overwrite"):
        assert part in msg, msg


def test_checkpoints_by_wall_time_within_one_chunk(ref, tmp_path):
    """Old behaviour: one chunk holding every realization -> no checkpoint before the end.
    With a (tiny) checkpoint interval the calls shrink to one realization per device."""
    res, _ = ref
    out = tmp_path / "run.npz"
    cfg = RunConfig(**SMALL, chunk=64)
    assert run(cfg, out, progress=False, stop_after_chunks=1, checkpoint_seconds=1e-6) is None
    with np.load(checkpoint_path(out)) as f:
        assert int(f["done"]) == 1
    same(run(cfg, out, resume=True, progress=False, checkpoint_seconds=1e-6), res)
    assert main(CLI + ["--out", str(tmp_path / "c.npz"), "--checkpoint-every", "-1"]) == 2


def test_call_sizes_follow_the_checkpoint_interval():
    cfg = RunConfig(params=ModelParams(L=12), schedule=paper_schedule(), realizations=10_000, chunk=64)
    s = R._CallSizer(cfg, 64, 2, 60.0)
    assert s.next() == 2                      # pessimistic estimate of a 64-chunk: > 60 s -> probe
    s.update(2, 4.0)                          # first call (with compilation)
    assert s.next() == 2                      # timed again, compiled
    s.update(2, 10.0)                         # 10 s per realization per device
    assert s.next() == 8                      # 4 per device: 40 s <= 60 s < 80 s
    s.update(8, 45.0)
    assert s.next() == 8
    s.update(8, 4.0)                          # faster than thought
    assert s.next() == 64
    assert R._CallSizer(cfg, 64, 2, None).next() == 64
    small = RunConfig(**SMALL, chunk=64)
    assert R._CallSizer(small, 64, 1, 60.0).next() == 64      # clearly cheap: whole chunk at once


def test_failed_final_write_leaves_no_temporaries_and_keeps_the_checkpoint(ref, tmp_path, monkeypatch, capsys):
    res, _ = ref
    out = tmp_path / "run.npz"
    (tmp_path / "run.npz.ckpt.npz.tmp-999999").write_bytes(b"left by a killed run")
    real = np.savez

    def disk_full(file, **arrays):
        if "dos" in arrays:                   # the output file, not a checkpoint
            file.write(b"partial")
            raise OSError(28, "No space left on device")
        return real(file, **arrays)

    monkeypatch.setattr(F.np, "savez", disk_full)
    with pytest.raises(OSError, match=f"cannot write {out}: No space"):
        run(CFG, out, progress=False)
    assert sorted(os.listdir(tmp_path)) == ["run.npz.ckpt.npz"]   # no temporaries, checkpoint kept
    rc, err = cli(["--out", str(out), "--resume"], capsys)
    assert rc == 2 and "No space" in err
    monkeypatch.setattr(F.np, "savez", real)
    rc, err = cli(["--out", str(out), "--resume"], capsys)      # all 5 done: just writes the output
    assert rc == 0
    same(np.load(out), res)
    assert sorted(os.listdir(tmp_path)) == ["run.npz"]


def test_interrupt_is_a_message(tmp_path, monkeypatch, capsys):
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(R, "run", interrupted)
    rc, err = cli(["--out", str(tmp_path / "run.npz")], capsys)
    assert rc == 130 and "--resume" in err


def test_cached_run_replaces_a_file_of_other_settings(ref, tmp_path):
    from jtls.anneal.cache import cached_run, run_name
    res, _ = ref
    path = tmp_path / run_name(CFG)
    np.savez(path, meta=json.dumps({"seed": 99}))
    assert cached_run(CFG, tmp_path, progress=False) == str(path)
    same(np.load(path), res)


def test_help_documents_the_new_flags(capsys):
    with pytest.raises(SystemExit):
        main(["anneal", "--help"])
    text = capsys.readouterr().out
    for flag in ("--overwrite", "--resume", "--checkpoint-every", "OUT.lock"):
        assert flag in text


def test_sites_are_spread_without_x64(tmp_path):
    """JTLS_NO_X64=1: random sites are the same as with x64 (they used to all be 0) and a
    run's final state passes its own stability checks (it used to keep dozens of unstable flips)."""
    code = textwrap.dedent("""
        import json, jax, jtls
        import jax.numpy as jnp
        assert not jax.config.jax_enable_x64
        from jtls.anneal.kernel import sweep_randoms
        from jtls.anneal.lattice import ModelParams
        from jtls.anneal.run import RunConfig, run
        from jtls.anneal.schedule import make_schedule
        sites = {n: jax.jit(lambda k: sweep_randoms(k, n, 1.0, jnp.float32)[0])(jax.random.key(7)).tolist()
                 for n in (32, 70001)}
        cfg = RunConfig(params=ModelParams(L=4), schedule=make_schedule([0.5, 1e-3], 4),
                        realizations=2, seed=3, chunk=2, relax=False)
        r = run(cfg, %r, progress=False)
        try:
            RunConfig(dtype="float64").validate()
            f64 = "accepted"
        except ValueError as e:
            f64 = str(e)
        print(json.dumps({"sites": sites, "single": int(r["unstable_single"]),
                          "pair": int(r["unstable_pair"]), "f64": f64}))
    """ % str(tmp_path / "nox64.npz"))
    env = dict(os.environ, JTLS_NO_X64="1", JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    p = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    for n, s in got["sites"].items():
        n = int(n)
        want = np.asarray(sweep_randoms(jax.random.key(7), n, 1.0, jnp.float32)[0])
        np.testing.assert_array_equal(np.asarray(s), want)      # identical to the 64-bit computation
        assert len(set(s)) > 0.5 * min(n, len(s)) and max(s) < n
    assert got["single"] == 0 and got["pair"] == 0, got
    assert "JTLS_NO_X64" in got["f64"]


def test_realizations_have_independent_random_streams():
    """Disorder, initial-state and chain keys differ across realizations (and seeds), and
    what they draw is uncorrelated: no shared words, bits agree half of the time."""
    base = jax.random.key(0)
    R_ = 8
    p = ModelParams(L=6)
    k_dis, k_init, k_dyn = jax.vmap(lambda r: R.realization_keys(base, r))(jnp.arange(R_))
    data = [np.asarray(jax.random.key_data(k)) for k in (k_dis, k_init, k_dyn)]
    assert len({d.tobytes() for d in np.concatenate(data)}) == 3 * R_   # all 24 keys distinct
    # seed 0 realization 1 is not seed 1 realization 0 (no shifted streams)
    a = jax.random.key_data(R.realization_keys(jax.random.key(0), 1)[2])
    b = jax.random.key_data(R.realization_keys(jax.random.key(1), 0)[2])
    assert not np.array_equal(a, b)

    @jax.jit
    def draws(k_dis, k_init, k_dyn):
        h = jax.vmap(lambda k: make_disorder(k, p).h)(k_dis)
        tau0 = jax.vmap(lambda k: jax.random.bernoulli(k, 0.5, (p.n,)))(k_init)
        # the chains' random words at the same temperature (3) and sweep (5), as sweep_randoms uses them
        w = jax.vmap(lambda k: sweep_bits(jax.random.fold_in(jax.random.fold_in(k, 3), 5), p.n).ravel())(k_dyn)
        return h, tau0, w

    h, tau0, w = map(np.asarray, draws(k_dis, k_init, k_dyn))
    c = np.corrcoef(h)[np.triu_indices(R_, 1)]
    assert np.max(np.abs(c)) < 5 / np.sqrt(p.n), c                  # ~ N(0, 1/n) when independent
    agree = (tau0[:, None, :] == tau0[None, :, :]).mean(-1)[np.triu_indices(R_, 1)]
    assert np.all(np.abs(agree - 0.5) < 5 * 0.5 / np.sqrt(p.n)), agree
    for i in range(R_):
        for j in range(i + 1, R_):
            assert not np.any(w[i] == w[j])
            bits = np.unpackbits((w[i] ^ w[j]).view(np.uint8))
            assert abs(bits.mean() - 0.5) < 5 * 0.5 / np.sqrt(bits.size)


def test_empty_schedule_is_an_error_not_the_default(tmp_path, capsys):
    from jtls.cli import main
    for bad in ("", "  "):
        assert main(["anneal", "--L", "4", "--schedule", bad, "--out", str(tmp_path / "r.npz")]) == 2
        assert "--schedule is empty" in capsys.readouterr().err
    assert not (tmp_path / "r.npz").exists()
