"""Simulation side: counts and seeds an annealing run cannot represent, library builds checked
before their directory is made, foreign batch files, pack's output checked before the smoothing, and
dos-fit on an edited output without a checksum.  All in-process and without annealing (fake builds)."""
import json
import os

import numpy as np
import pytest
from scipy.special import erf

from jtls.anneal import analysis as A
from jtls.anneal import histogram as H
from jtls.anneal.files import save_output
from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, _empty_totals, assemble
from jtls.anneal.schedule import make_schedule
from jtls.cli import main
from jtls.simulated import build as B
from jtls.simulated import pack as P

RATIOS = (0.1, 0.2, 0.3, 0.4)
T_REC = (0.05, 0.5)                      # recorded temperatures of the fake batches (K)


def _halfnormal_counts(rng, n_tls, width=20.0):
    """Multinomial counts of E = 2|h|, h ~ N(0, 10^2) (the J0 = 0 DOS), in the fine bins + overflow."""
    e = H.fine_edges()
    cdf = erf(e / (width * np.sqrt(2.0)))
    p = np.append(np.diff(cdf), 1.0 - cdf[-1])
    return rng.multinomial(n_tls, p / p.sum())


def _fake_build(d, batch_size, L=4, seed=0, sweeps=2):
    """A build directory as `jtls library build` leaves it (manifest, one checksummed batch per ratio whose
    metadata is that batch's run), with synthetic histograms instead of annealing."""
    os.makedirs(d)
    with open(os.path.join(d, B.MANIFEST), "w") as f:
        json.dump(B.manifest(RATIOS, L, batch_size, seed, sweeps), f)
    rng = np.random.default_rng(1)
    for i, r in enumerate(RATIOS):
        cfg = B.point_config(r, i, 0, L=L, batch_size=batch_size, seed=seed, sweeps=sweeps)
        n_tls = batch_size * cfg.params.n
        save_output(os.path.join(d, B.batch_name(r, 0)),
                    {"T": np.asarray(T_REC), "counts": np.stack([_halfnormal_counts(rng, n_tls) for _ in T_REC]),
                     "n_tls_total": np.int64(n_tls), "meta": json.dumps(cfg.metadata())})


def _stderr_of(capsys, argv):
    rc = main(argv)
    return rc, capsys.readouterr().err


# ------------------------------------------------------------------------------------- jtls anneal

def test_anneal_refuses_a_seed_jax_cannot_take(tmp_path, capsys):
    out = tmp_path / "run.npz"
    rc, err = _stderr_of(capsys, ["anneal", "--L", "4", "--schedule", "1", "--sweeps", "2", "--realizations", "2",
                                  "--seed", "99999999999999999999", "--cpu-devices", "1", "--quiet", "--out", str(out)])
    assert rc == 2 and "argument 'seed' must be an integer in [0, 9223372036854775807]" in err
    assert not list(tmp_path.iterdir())             # refused before the lock or any file


@pytest.mark.parametrize("sweeps", [2 ** 31, 3_000_000_000, 10 ** 20])
def test_schedule_refuses_sweeps_beyond_int32(sweeps):
    make_schedule([1.0], 2 ** 31 - 1)
    with pytest.raises(ValueError, match=r"argument 'sweeps' must be integers in \[1, 2147483647\]"):
        make_schedule([1.0], sweeps)


def test_runconfig_bounds_realization_indices_and_seed():
    sched = make_schedule([1.0], 2)
    RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2 ** 31 - 1, seed=2 ** 63 - 1).validate()
    with pytest.raises(ValueError, match="argument 'realizations' must be an integer in"):
        RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2 ** 31).validate()
    with pytest.raises(ValueError, match="argument 'seed' must be an integer in"):
        RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2, seed=2 ** 63).validate()
    for bad in (float("nan"), float("inf"), "3", None, 1.5):     # named, not int()'s own message
        with pytest.raises(ValueError, match="argument 'seed' must be an integer in"):
            RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2, seed=bad).validate()
        with pytest.raises(ValueError, match="argument 'realizations' must be an integer in"):
            RunConfig(params=ModelParams(L=4), schedule=sched, realizations=bad).validate()
        with pytest.raises(ValueError, match="argument 'chunk' must be an integer >= 1"):
            RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2, chunk=bad).validate()
        with pytest.raises(ValueError, match="argument 'L' must be an integer >= 1"):
            B.check_arguments(RATIOS, bad, 1, 2, 2)


# ------------------------------------------------------------------------------ jtls library build

@pytest.mark.parametrize("bad,named", [
    (["--L", "1"], "argument '--L' must be an integer >= 2"),
    (["--seed", "-1"], "argument '--seed' must be an integer in [0, "),
])
def test_library_build_checks_runs_before_making_the_directory(tmp_path, capsys, bad, named):
    d = tmp_path / "lib"
    base = {"--ratios": ",".join(map(str, RATIOS)), "--L": "4", "--batch-size": "2", "--sweeps": "2"}
    base.update(dict(zip(bad[::2], bad[1::2])))
    rc, err = _stderr_of(capsys, ["library", "build", str(d), "--batches", "2", "--cpu-devices", "1", "--quiet",
                                  *[x for kv in base.items() for x in kv]])
    assert rc == 2 and named in err
    assert not d.exists()          # no manifest of a build that cannot run blocks the directory later


def test_library_build_arguments_bound_batch_size_and_derived_seeds():
    B.check_arguments(RATIOS, 4, 2, 2 ** 31 - 1, 2, seed=0)
    with pytest.raises(ValueError, match=r"argument 'batch_size' must be an integer in \[1, 2147483647\]"):
        B.check_arguments(RATIOS, 4, 2, 2 ** 31, 2, seed=0)
    # batch seeds are seed + 2^32 point + 2^43 batch (distinct for every base seed, point and
    # batch): the base seed must fit in 32 bits
    B.check_arguments(RATIOS, 4, 2, 2, 2, seed=2 ** 32 - 1)
    with pytest.raises(ValueError, match=r"argument 'seed' must be an integer in \[0, 4294967295\] for a library build"):
        B.check_arguments(RATIOS, 4, 2, 2, 2, seed=2 ** 32)


def test_library_build_directory_below_a_file_is_an_error_not_a_traceback(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    rc, err = _stderr_of(capsys, ["library", "build", str(f / "sub"), "--ratios", "0.1,0.2,0.3,0.4", "--L", "4",
                                  "--batches", "1", "--batch-size", "2", "--sweeps", "2", "--quiet"])
    assert rc == 2 and f"cannot create library directory {f / 'sub'}: Not a directory" in err


# ------------------------------------------------------------------------- foreign batch files

def test_build_and_pack_refuse_a_batch_of_another_build(tmp_path):
    d = str(tmp_path / "b")
    _fake_build(d, batch_size=64)
    P.pack(d, str(tmp_path / "ok.npz"), progress=False)            # the fake build itself packs
    # r0.3's batch replaced by the same batch of a build with another seed: a valid, checksummed output
    _fake_build(str(tmp_path / "other"), batch_size=64, seed=5)
    victim = os.path.join(d, B.batch_name(0.3, 0))
    os.replace(os.path.join(tmp_path, "other", B.batch_name(0.3, 0)), victim)
    with pytest.raises(ValueError, match=r"r0\.3000_b000\.npz: not a batch of this build \(differs in: seed"):
        P.pack(d, str(tmp_path / "lib.npz"), progress=False)
    assert not (tmp_path / "lib.npz").exists()
    with pytest.raises(ValueError, match="not a batch of this build .*delete the file and run the build again"):
        B.build(d, ratios=RATIOS, L=4, batches=1, batch_size=64, sweeps=2, progress=False)


def test_pack_names_ratio_and_temperature_of_a_row_too_thin_to_smooth(tmp_path):
    d = str(tmp_path / "b")
    _fake_build(d, batch_size=2)          # 64 energies per temperature: a few populated bins
    with pytest.raises(ValueError, match=r"J0/h0 = 0\.1, T = 0\.05 K \(64 TLS energies from 1 pass\(es\)\): "
                                         r"too few populated energy bins"):
        P.pack(d, str(tmp_path / "lib.npz"), progress=False)


@pytest.mark.parametrize("where,overwrite,named", [
    ("file/x.npz", False, "(directory of output {p}file/x.npz) is not a directory"),
    ("missing/x.npz", False, "directory {p}missing of output {p}missing/x.npz does not exist"),
    ("adir", True, "output path {p}adir is a directory; give a file name"),
])
def test_pack_checks_its_output_before_smoothing(tmp_path, where, overwrite, named):
    d = str(tmp_path / "b")
    _fake_build(d, batch_size=2)          # smoothing would fail: the output must be refused first
    (tmp_path / "file").write_text("x")
    (tmp_path / "adir").mkdir()
    p = str(tmp_path) + os.sep
    with pytest.raises(ValueError) as exc:
        P.pack(d, p + where, overwrite=overwrite, progress=False)
    assert named.format(p=p) in str(exc.value)


# ---------------------------------------------------------------------------------- jtls dos-fit

def _output_without_checksum(path, edit):
    """An annealer output as older versions wrote it (no sha256), edited by ``edit(arrays)``."""
    cfg = RunConfig(params=ModelParams(L=4), schedule=make_schedule([1.0, 0.5], 2), realizations=3, seed=0)
    tot = _empty_totals(cfg)
    n = cfg.realizations * cfg.params.n
    rng = np.random.default_rng(0)
    tot["counts"] = np.stack([_halfnormal_counts(rng, n) for _ in cfg.schedule.T]).astype(np.int64)
    tot["counts_relaxed"] = _halfnormal_counts(rng, n).astype(np.int64)
    arrays = assemble(cfg, tot)
    edit(arrays)
    np.savez(path, **arrays)
    return path


def test_dos_fit_refuses_an_edited_output_without_checksum(tmp_path, capsys):
    good = _output_without_checksum(tmp_path / "good.npz", lambda a: None)
    assert len(A.fit_table(A.load(good))) == 2

    def zero_row(a):
        a["counts"] = a["counts"].copy()
        a["counts"][1] = 0

    bad = _output_without_checksum(tmp_path / "zero.npz", zero_row)
    rc, err = _stderr_of(capsys, ["dos-fit", str(bad)])
    assert rc == 2 and "'counts' at T = 1 K sums to 0, not 'n_tls_total' = 96" in err
    bad = _output_without_checksum(tmp_path / "n.npz", lambda a: a.update(n_tls_total=np.int64(48)))
    with pytest.raises(ValueError, match=r"'n_tls_total' = 48 is not realizations x TLSs = 3 x 32"):
        A.load(bad)


# ------------------------------------------------------------------------------------- jtls demo

@pytest.mark.parametrize("out,named", [("file.txt/sub", "cannot create the directory (Not a directory)"),
                                       ("", "--out is empty")])
def test_demo_out_below_a_file_or_empty_is_an_error_not_a_traceback(tmp_path, capsys, monkeypatch, out, named):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("x")
    rc, err = _stderr_of(capsys, ["demo", "--figure-only", "--out", out])
    assert rc == 2 and named in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]
