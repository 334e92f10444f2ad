"""`jtls anneal --part K/M` and `--combine`: independent jobs (a job array) that each anneal a part
of a run's realizations add up to the whole run bitwise; every way the parts can fail to be one
run's is refused, naming the file or the part.  Small configuration (L = 4), as test_anneal_safety."""
import dataclasses
import json

import numpy as np
import pytest

import jtls  # noqa: F401
import jtls.anneal.files as F
from jtls.anneal.combine import combine
from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, run
from jtls.anneal.schedule import make_schedule
from jtls.cli import main

CFG = RunConfig(params=ModelParams(L=4, J0=2.0, h0=10.0), schedule=make_schedule([20.0, 2.0, 0.5, 1e-3], 4),
                realizations=7, seed=11, chunk=2)
EXACT = ("T", "E_centers", "E_edges", "dos", "counts_coarse", "counts", "E_edges_fine", "dos_fine",
         "counts_relaxed", "dos_relaxed", "dos_relaxed_fine", "acceptance", "T_schedule", "sweeps",
         "n_tls_total", "realizations", "unstable_single", "unstable_pair", "relax_flips", "relax_capped",
         "unstable_single_after", "unstable_pair_after")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("parts")
    whole = run(CFG, d / "whole.npz", progress=False)
    parts = [d / f"p{k}.npz" for k in range(3)]
    for k, p in enumerate(parts):
        res = run(dataclasses.replace(CFG, part=(k, 3)), p, progress=False)
        assert int(res["realizations"]) == [2, 2, 3][k]           # [0, 2), [2, 4), [4, 7)
    return d, whole, parts


def test_parts_add_up_to_the_whole_run_bitwise(runs, tmp_path):
    d, whole, parts = runs
    out = tmp_path / "combined.npz"
    res = combine(parts[::-1], out)                   # any order
    assert set(EXACT) | {"meta", "mean_energy_per_tls"} == set(whole)
    for k in EXACT:
        np.testing.assert_array_equal(res[k], whole[k], err_msg=k)
    np.testing.assert_allclose(res["mean_energy_per_tls"], whole["mean_energy_per_tls"], rtol=1e-12)
    meta = json.loads(str(F.load_output(out)["meta"]))          # written with its checksum
    assert "part" not in meta and meta["realizations"] == 7 and meta["seed"] == 11
    assert [c["part"] for c in meta["combined_from"]] == [[0, 3], [1, 3], [2, 3]]
    # the combined file is a whole run: it loads as a DOS table and is not a part itself
    jtls.TabulatedDOS.from_file(out)
    with pytest.raises(ValueError, match="is not a part of a run"):
        combine([out], tmp_path / "again.npz")


def test_a_part_missing_twice_or_of_another_run_is_refused(runs, tmp_path):
    d, whole, parts = runs
    out = tmp_path / "c.npz"
    with pytest.raises(ValueError, match=r"1 of the 3 parts are missing: part 1 \(--part 1/3\)"):
        combine([parts[0], parts[2]], out)
    with pytest.raises(ValueError, match="part 0 of 3 is given twice"):
        combine([parts[0], parts[0], parts[1], parts[2]], out)
    with pytest.raises(ValueError, match="is not a part of a run"):
        combine([d / "whole.npz"], out)
    other = tmp_path / "seed12.npz"
    run(dataclasses.replace(CFG, part=(1, 3), seed=12), other, progress=False)
    with pytest.raises(ValueError, match="settings differ in seed"):
        combine([parts[0], other, parts[2]], out)
    half = tmp_path / "half.npz"
    run(dataclasses.replace(CFG, part=(1, 2)), half, progress=False)
    with pytest.raises(ValueError, match="part 1 of 2.*different splits"):
        combine([parts[0], half], out)
    assert not out.exists()


def test_damaged_or_edited_parts_are_refused_and_nothing_is_overwritten(runs, tmp_path):
    d, whole, parts = runs
    bad = tmp_path / "p1.npz"
    blob = parts[1].read_bytes()
    bad.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ValueError, match=f"part file {bad} is unreadable"):
        combine([parts[0], bad, parts[2]], tmp_path / "c.npz")
    arrays = F.load_output(parts[1])
    arrays["counts"] = arrays["counts"] + 1                  # edited, and saved with a new checksum
    F.save_output(bad, arrays)
    with pytest.raises(ValueError, match=f"part file {bad}: inconsistent totals"):
        combine([parts[0], bad, parts[2]], tmp_path / "c.npz")
    arrays = F.load_output(parts[1])
    np.savez(bad, **arrays)                                  # edited without a checksum
    with pytest.raises(ValueError, match="has no checksum"):
        combine([parts[0], bad, parts[2]], tmp_path / "c.npz")
    out = tmp_path / "done.npz"
    out.write_bytes(b"earlier result")
    with pytest.raises(F.OutputExists, match="exists; pass --overwrite"):
        combine(parts, out)
    assert out.read_bytes() == b"earlier result"
    with pytest.raises(ValueError, match="is one of the part files"):
        combine(parts, parts[0])
    combine(parts, out, overwrite=True)
    np.testing.assert_array_equal(F.load_output(out)["counts"], whole["counts"])


def test_part_settings_are_checked_and_a_checkpoint_is_not_resumed_as_another_part(tmp_path):
    for part in [(3, 3), (-1, 2), (0, 8), (1.5, 3), "0/2"]:
        with pytest.raises(ValueError, match="argument 'part'"):
            dataclasses.replace(CFG, part=part).validate()
    p = tmp_path / "p.npz"
    cfg = dataclasses.replace(CFG, part=(0, 2), chunk=1)
    assert run(cfg, p, progress=False, stop_after_chunks=1) is None           # killed after 1 of 3
    with pytest.raises(F.CheckpointMismatch, match="part"):
        run(dataclasses.replace(cfg, part=(1, 2)), p, resume=True, progress=False)
    res = run(cfg, p, resume=True, progress=False)
    assert int(res["realizations"]) == 3


@pytest.mark.parametrize("bad", ["3/3", "-1/2", "a/b", "2", "1/0"])
def test_cli_part_errors_are_named(bad, capsys):
    assert main(["anneal", "--L", "4", "--realizations", "4", f"--part={bad}", "--quiet"]) == 2
    assert "--part must be K/M" in capsys.readouterr().err


def test_cli_part_names_its_output_and_combine_needs_out(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["anneal", "--L", "4", "--realizations", "3", "--sweeps", "2", "--schedule", "5,0.5", "--seed", "2",
            "--cpu-devices", "1", "--quiet"]
    for k in (0, 1):
        assert main(args + ["--part", f"{k}/2"]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.npz"))
    assert names == ["anneal_L4_J0_2_h0_10_x0.5_r3_s2_part0of2.npz", "anneal_L4_J0_2_h0_10_x0.5_r3_s2_part1of2.npz"]
    assert main(["anneal", "--combine", *names]) == 2
    assert "--combine needs --out" in capsys.readouterr().err
    assert main(["anneal", "--combine", *names, "--out", "whole.npz"]) == 0
    assert "3 realizations (the 2 parts added up)" in capsys.readouterr().out
    whole = run(RunConfig(params=ModelParams(L=4), schedule=make_schedule([5.0, 0.5], 2), realizations=3, seed=2),
                tmp_path / "one.npz", progress=False)
    np.testing.assert_array_equal(F.load_output(tmp_path / "whole.npz")["counts"], whole["counts"])
