"""jtls library build / pack / info: resumable per batch, never recomputes or overwrites, refuses mixed
settings; the packed file loads and carries its provenance.  Tiny lattices and few sweeps (mechanics only)."""
import json
import os

import numpy as np
import pytest

from jtls.cli import main
from jtls.simulated import build as B
from jtls.simulated.dos import load_library

RATIOS = "0.1,0.2,0.3,0.4"
ARGS = ["--ratios", RATIOS, "--L", "4", "--batch-size", "16", "--sweeps", "2", "--cpu-devices", "1", "--quiet"]


def test_build_resume_extend_pack_info(tmp_path, capsys):
    d = tmp_path / "b"
    assert main(["library", "build", str(d), "--batches", "1", *ARGS]) == 0
    files = sorted(p.name for p in d.glob("r*_b*.npz"))
    assert files == [B.batch_name(r, 0) for r in (0.1, 0.2, 0.3, 0.4)]
    stamp = {p: os.stat(d / p).st_mtime_ns for p in files}
    # a second pass: the first pass's files are kept untouched, four new ones appear
    assert main(["library", "build", str(d), "--batches", "2", *ARGS]) == 0
    assert {p: os.stat(d / p).st_mtime_ns for p in files} == stamp
    assert len(list(d.glob("r*_b001.npz"))) == 4
    # every (ratio, batch) has its own seed
    seeds = set()
    for p in d.glob("r*_b*.npz"):
        with np.load(p) as f:
            seeds.add(json.loads(str(f["meta"]))["seed"])
    assert len(seeds) == 8
    # other settings into the same directory: refused, naming what differs
    with _raises_value("differs in: L"):
        main(["library", "build", str(d), "--batches", "2", *[a if a != "4" else "5" for a in ARGS]])
    out = tmp_path / "lib.npz"
    assert main(["library", "pack", str(d), "--out", str(out)]) == 0
    assert main(["library", "pack", str(d), "--out", str(out)]) == 2          # exists: refused
    lib = load_library(out)
    assert list(lib.ratios) == [0.0, 0.1, 0.2, 0.3, 0.4]      # pack adds the exact J0/h0 = 0 row
    assert lib.meta["passes"] == 2 and lib.meta["realizations_per_ratio"] == [32] * 4
    assert "--ratios 0.1,0.2,0.3,0.4" in lib.meta["regenerate"]
    assert np.all(np.isfinite(lib.log_F)) and np.all(lib.sd_log_F[1:] > 0) and np.all(lib.sd_log_F[0] == 0)
    capsys.readouterr()
    assert main(["library", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["L"] == 4 and info["realizations_per_ratio"] == [32] * 4
    assert info["jackknife_replicas"] == 0 and "too small" in info["errors"]     # 2 passes: Poisson errors
    # a damaged finished batch: truncated -> named by build and pack, never counted as done;
    # edited and saved again as a valid zip -> its checksum says so
    victim = d / B.batch_name(0.3, 1)
    good = victim.read_bytes()
    victim.write_bytes(good[: len(good) // 2])
    for cmd in (["library", "build", str(d), "--batches", "2", *ARGS],
                ["library", "pack", str(d), "--out", str(tmp_path / "lib2.npz")]):
        with _raises_value(f"annealer output {victim} is unreadable"):
            assert main(cmd) == 2
    with np.load(__import__("io").BytesIO(good)) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["counts"] = arrays["counts"] + 1
    np.savez(victim, **arrays)
    with _raises_value("checksum mismatch (the file was corrupted or edited)"):
        assert main(["library", "pack", str(d), "--out", str(tmp_path / "lib2.npz")]) == 2
    with _raises_value("delete the file and run the build again"):
        assert main(["library", "build", str(d), "--batches", "2", *ARGS]) == 2
    assert not (tmp_path / "lib2.npz").exists()


class _raises_value:
    """main() turns ValueError into exit code 2 with the message on stderr; check both."""
    def __init__(self, text):
        self.text = text

    def __enter__(self):
        import contextlib
        import io
        self.err = io.StringIO()
        self.cm = contextlib.redirect_stderr(self.err)
        self.cm.__enter__()
        return self

    def __exit__(self, *exc):
        self.cm.__exit__(*exc)
        assert self.text in self.err.getvalue()
        return False


def test_build_deadline_leaves_batches_for_later(tmp_path):
    d = tmp_path / "b"
    res = B.build(str(d), ratios=(0.1, 0.2, 0.3, 0.4), L=4, batches=1, batch_size=8, sweeps=2,
                  progress=False, deadline=0.0)
    assert res == {"done": 0, "missing": 4, "elsewhere": 0}
    assert not list(d.glob("r*_b*.npz"))
    with pytest.raises(ValueError, match="at least 4"):
        B.build(str(d), ratios=(0.1, 0.2), L=4, batches=1, batch_size=8, sweeps=2, progress=False)
    with pytest.raises(ValueError, match="strictly increasing"):
        B.build(str(d), ratios=(0.1, 0.3, 0.2, 0.4), L=4, batches=1, batch_size=8, sweeps=2, progress=False)


@pytest.mark.parametrize("bad,named", [
    (["--hours", "-1"], "'--hours' must be a number of hours > 0"),
    (["--hours", "nan"], "'--hours' must be a number of hours > 0"),
    (["--ratios", "abc"], "argument '--ratios': entry 1 ('abc') is not a number"),
    (["--ratios", "0.1,0.2"], "argument '--ratios' needs at least 4 values"),
    (["--batch-size", "0"], "argument '--batch-size' must be an integer >= 1")])
def test_library_build_options_named_in_errors(tmp_path, capsys, bad, named):
    d = tmp_path / "lib"
    assert main(["library", "build", str(d), "--batches", "1", *ARGS, *bad]) == 2
    assert named in capsys.readouterr().err
    assert not d.exists()          # refused before anything was made
