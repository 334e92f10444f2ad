"""Audit of ``jtls fit`` on many files and of ``fit_many`` on many datasets (a parameter scan
on a cluster).

Passing tests pin behaviour checked and found correct that the other test files do not cover
(a file fitted among others of other size buckets gives, in a FRESH process, the numbers of the
file alone; bad files in the middle of a list; a too-short file among good ones; existing
--out files of a later file; a 20 000-point file; 200 draws through fit_many with the default
chunking), and the fixes of the defects the audit found (each failed before its fix): an
unreadable file; meta.sha256 of the bytes fitted; --out files that appear during the run; a
failed write of --out.
"""
import errno
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import jtls
from jtls.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("JTLS_JAX_CACHE", "off")


def _cv_file(path, B=0.5, mu=0.2, seed=0, n=20):
    """A synthetic C_v(T) file (2 % seeded log-normal scatter, n points)."""
    T = np.geomspace(0.05, 1.0, n)
    y = np.asarray(jtls.specific_heat(T, B, mu)) * np.exp(0.02 * np.random.default_rng(seed).normal(size=T.size))
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("T,value\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(T, y)))
    return path


def _flat_file(path, n=15):
    """C_v ~ T^0.95, flatter than Eq. (6) allows: mu is held on its physical bound 0."""
    T = np.geomspace(0.05, 1.0, n)
    y = np.asarray(jtls.specific_heat(T, 0.5, 0.0)) * T ** -0.05
    path.write_text("T,value\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(T, y)))
    return path


def _docs(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def _no_date(doc):
    doc = json.loads(json.dumps(doc))
    doc["meta"].pop("date", None)
    return doc


# --------------------------------------------------------------------------
# checked: correct

def test_file_among_others_of_other_buckets_equals_the_file_alone_in_a_fresh_process(tmp_path, capsys):
    """Files of 300, 7, 41 and 13 points (four size buckets) and one on the mu = 0 bound, fitted
    in one process: the 13-point file's document is, number for number, the one a fresh process
    prints for that file alone (no state of the earlier fits -- compiled programs, held starts,
    padding -- leaks into a later file)."""
    files = [_cv_file(tmp_path / "c300.csv", n=300, seed=6), _cv_file(tmp_path / "c7.csv", n=7, seed=1),
             _flat_file(tmp_path / "flat.csv"), _cv_file(tmp_path / "c41.csv", n=41, seed=5),
             _cv_file(tmp_path / "c13.csv", n=13, seed=3)]
    opts = ["--observable", "specific_heat", "--json"]
    rc = main(["fit", *map(str, files), *opts])
    docs = _docs(capsys.readouterr().out)
    assert rc == 0 and len(docs) == len(files) and [d["status"] for d in docs] == ["ok"] * len(files)
    assert docs[2]["parameters"]["mu"]["at_bound"]
    env = dict(os.environ, JTLS_JAX_CACHE="off")
    p = subprocess.run([sys.executable, "-m", "jtls", "fit", str(files[-1]), *opts], capture_output=True,
                       text=True, timeout=300, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    assert _no_date(_docs(p.stdout)[0]) == _no_date(docs[-1])


@pytest.mark.parametrize("name, text, where", [
    ("nan.csv", "T,value\n0.1,1e-4\n0.2,nan\n0.3,3e-4\n0.4,4e-4\n", "line 3, column 2"),
    ("ragged.csv", "T,value\n0.1,1e-4\n0.2\n0.3,3e-4\n0.4,4e-4\n", "line 3"),
    ("dupT.csv", "T,value\n0.1,1e-4\n0.1,1.1e-4\n0.2,2e-4\n0.3,3e-4\n", "line 3, column 1"),
    ("onecol.csv", "T\n0.1\n0.2\n0.3\n", "no value column"),
    ("bin.csv", b"\x00\x01\x02\xff\xfeabc", "binary"),
    ("adir", None, "is a directory"),
])
def test_a_bad_file_in_the_middle_stops_the_run_naming_it(tmp_path, capsys, monkeypatch, name, text, where):
    import jtls.fit.engine as engine
    monkeypatch.setattr(engine, "fit", lambda *a, **k: pytest.fail("a fit ran"))
    good1, good2 = _cv_file(tmp_path / "g1.csv"), _cv_file(tmp_path / "g2.csv", seed=5)
    bad = tmp_path / name
    if text is None:
        bad.mkdir()
    else:
        bad.write_bytes(text if isinstance(text, bytes) else text.encode())
    rc = main(["fit", str(good1), str(bad), str(good2), "--observable", "specific_heat", "--json",
               "--out", str(tmp_path / "out")])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    err = [ln for ln in cap.err.splitlines() if "error" in ln]
    assert len(err) == 1 and str(bad) in err[0] and where in err[0], cap.err
    assert "Traceback" not in cap.err and not (tmp_path / "out").exists()


def test_a_too_short_file_among_good_ones_is_not_ok_and_spares_the_others(tmp_path, capsys):
    """Two points for two free parameters: status no_dof (exit 1), no parameter shown with an
    uncertainty as if determined; the files around it keep their own results."""
    a, c = _cv_file(tmp_path / "a.csv", seed=1), _cv_file(tmp_path / "c.csv", seed=2)
    short = tmp_path / "short.csv"
    short.write_text("T,value\n0.1,1e-4\n0.2,2e-4\n")
    rc = main(["fit", str(a), str(short), str(c), "--observable", "specific_heat", "--json"])
    docs = _docs(capsys.readouterr().out)
    assert rc == 1 and [d["status"] for d in docs] == ["ok", "no_dof", "ok"]
    assert all(p["stderr"] is None for p in docs[1]["parameters"].values())
    rc = main(["fit", str(c), "--observable", "specific_heat", "--json"])
    alone = _docs(capsys.readouterr().out)[0]
    assert rc == 0 and _no_date(alone) == _no_date(docs[2])


def test_existing_outputs_of_a_later_file_refuse_the_run_before_any_fit(tmp_path, capsys):
    a, b = _cv_file(tmp_path / "a.csv", seed=1), _cv_file(tmp_path / "b.csv", seed=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b_specific_heat.json").write_text("mine\n")
    rc = main(["fit", str(a), str(b), "--observable", "specific_heat", "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert "b_specific_heat.json" in cap.err and "--overwrite" in cap.err
    assert sorted(p.name for p in out.iterdir()) == ["b_specific_heat.json"]       # a's not written either
    assert (out / "b_specific_heat.json").read_text() == "mine\n"
    rc = main(["fit", str(a), str(b), "--observable", "specific_heat", "--out", str(out), "--overwrite", "--json"])
    docs = _docs(capsys.readouterr().out)
    assert rc == 0 and json.loads((out / "b_specific_heat.json").read_text()) == docs[1]
    assert sorted(p.name for p in out.iterdir()) == ["a_specific_heat.json", "a_specific_heat.png",
                                                     "b_specific_heat.json", "b_specific_heat.png"]


def test_a_20000_point_file_is_fitted_with_a_sane_verdict(tmp_path, capsys):
    f = _cv_file(tmp_path / "long.csv", B=0.5, mu=0.2, n=20000, seed=3)
    rc = main(["fit", str(f), "--observable", "specific_heat", "--json"])
    doc = _docs(capsys.readouterr().out)[0]
    assert rc == 0 and doc["status"] == "ok" and doc["dof"] == 20000 - 2
    res = jtls.fit.FitResult.from_dict(doc["result"])
    assert res.n_points == 20000 and len(res.residuals[res.labels[0]]) == 20000 and res.excluded == []
    for k, truth in (("B", 0.5), ("mu", 0.2)):
        p = doc["parameters"][k]
        assert 0 < p["stderr"] < 1e-3 and abs(p["value"] - truth) < 5 * p["stderr"], (k, p)


def test_fit_many_200_draws_default_chunks_progress_memory_and_single_fits():
    import math
    from jtls.fit import fit
    from jtls.fit.batch import fit_many

    def rss_mb():
        with open("/proc/self/status") as fh:
            return int(fh.read().split("VmRSS:")[1].split()[0]) / 1024

    rng = np.random.default_rng(1)
    T = np.geomspace(0.1, 1.0, 20)
    truth = np.asarray(jtls.specific_heat(T, 2.0, 0.1))
    draws = [(T, truth * (1 + 0.01 * rng.normal(size=T.size))) for _ in range(200)]
    calls = []
    res = fit_many("specific_heat", draws, progress=lambda d, n: calls.append((d, n)))
    assert calls == [(64, 200), (128, 200), (192, 200), (200, 200)]
    assert len(res) == 200 and all(r.status == "ok" for r in res)
    m0 = rss_mb()
    for _ in range(2):
        again = fit_many("specific_heat", draws)
    assert rss_mb() - m0 < 100                                       # no growth per call
    assert [r.values for r in again] == [r.values for r in res]
    for i in range(0, 200, 20):
        s, r = fit("specific_heat", draws[i]), res[i]
        assert r.status == s.status and math.isclose(r.chi2, s.chi2, rel_tol=1e-8)
        for k in s.free:
            assert abs(r[k] - s[k]) <= 1e-5 * s.stderr[k], (i, k)


# --------------------------------------------------------------------------
# defects

def test_an_unreadable_file_in_the_middle_is_an_error_naming_it(tmp_path, capsys, monkeypatch):
    # as root a chmod 000 file stays readable: the PermissionError a user gets is raised here
    good1, good2 = _cv_file(tmp_path / "g1.csv"), _cv_file(tmp_path / "g2.csv", seed=5)
    locked = _cv_file(tmp_path / "locked.csv", seed=7)
    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.csv":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    rc = main(["fit", str(good1), str(locked), str(good2), "--observable", "specific_heat", "--json"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert str(locked) in cap.err and "ermission denied" in cap.err


def test_sha256_is_that_of_the_data_fitted(tmp_path, capsys, monkeypatch):
    import jtls.fit.engine as engine
    a, b = _cv_file(tmp_path / "a.csv", seed=1), _cv_file(tmp_path / "b.csv", B=0.5, seed=2)
    read = hashlib.sha256(b.read_bytes()).hexdigest()
    real = engine.fit

    def fit(model, data, **kw):
        if data.label == "a":              # b rewritten (the next acquisition) while a is fitted
            _cv_file(b, B=5.0, mu=0.4, seed=9)
        return real(model, data, **kw)

    monkeypatch.setattr(engine, "fit", fit)
    rc = main(["fit", str(a), str(b), "--observable", "specific_heat", "--json"])
    docs = _docs(capsys.readouterr().out)
    assert rc == 0 and abs(docs[1]["parameters"]["B"]["value"] - 0.5) < 0.05     # the data read first
    assert docs[1]["meta"]["sha256"] == read


def test_out_never_replaces_a_file_that_appeared_during_the_run(tmp_path, capsys, monkeypatch):
    import jtls.fit.engine as engine
    a, b = _cv_file(tmp_path / "a.csv", seed=1), _cv_file(tmp_path / "b.csv", seed=2)
    out = tmp_path / "out"
    real = engine.fit

    def fit(model, data, **kw):
        if data.label == "a":              # another job writes b's result meanwhile
            out.mkdir(exist_ok=True)
            (out / "b_specific_heat.json").write_text("theirs\n")
        return real(model, data, **kw)

    monkeypatch.setattr(engine, "fit", fit)
    rc = main(["fit", str(a), str(b), "--observable", "specific_heat", "--out", str(out)])
    capsys.readouterr()
    assert (out / "b_specific_heat.json").read_text() == "theirs\n"
    assert rc != 0


def test_a_full_disk_while_writing_out_is_an_error_not_a_traceback(tmp_path, capsys, monkeypatch):
    import jtls.fit.plot as plot
    files = [_cv_file(tmp_path / f"{k}.csv", seed=i) for i, k in enumerate("abc")]

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(plot, "plot_result", full)
    rc = main(["fit", *map(str, files), "--observable", "specific_heat", "--out", str(tmp_path / "out")])
    cap = capsys.readouterr()
    assert rc == 2
    assert "No space left on device" in cap.err and "a_specific_heat" in cap.err
