"""`jtls fit` end to end: real thermal-conductivity files (../shared/data or $JTLS_DATA), plain CSV, errors.

The real datasets are read-only files outside the repository (see
../shared/data/README.md).  Without them the real-data tests fail, never skip
(jtls.data.require_dataset), like every other real-data test.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import jtls
from jtls.cli import main
from jtls.fit import FitResult



def _real(name):
    from jtls.data import require_dataset
    return Path(require_dataset(f"thermal_conductivity/{name}"))   # fail, never skip, if missing


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    # keep the in-process tests from switching the global JAX cache on
    monkeypatch.setenv("JTLS_JAX_CACHE", "off")


def test_cli_real_file_json_and_outputs(tmp_path, capsys):
    path = _real("olson1993_stycast1266.csv")
    rc = main(["fit", str(path), "--observable", "thermal_conductivity", "--tmax", "1.0",
               "--json", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    obj = json.loads(out)  # exactly one JSON object on stdout
    assert {"parameters", "chi2", "reduced_chi2", "status", "warnings", "tests"} <= set(obj)
    assert set(obj["parameters"]) == {"B", "mu"}
    for v in obj["parameters"].values():
        assert {"value", "stderr", "at_bound"} <= set(v) and np.isfinite(v["value"])
    # Stycast 1266 below 1 K: mu is determined and clearly above 0 (Eq. 3 beats the STM)
    assert rc == 0 and obj["status"] == "ok", obj
    mu = obj["parameters"]["mu"]
    assert not mu["at_bound"] and 0.02 < mu["value"] < 0.5 and 0 < mu["stderr"] < mu["value"] / 2
    assert obj["tests"]["mu_zero"]["p_value"] < 0.01
    js = tmp_path / "olson1993_stycast1266_thermal_conductivity.json"
    png = tmp_path / "olson1993_stycast1266_thermal_conductivity.png"
    assert js.is_file() and png.is_file() and png.stat().st_size > 10_000
    # the written file is the printed document; its complete result reads back as a FitResult
    doc = json.loads(js.read_text())
    assert doc == obj and doc["meta"]["observable"] == "thermal_conductivity"
    res = FitResult.from_dict(doc["result"])
    assert res.values["mu"] == obj["parameters"]["mu"]["value"]
    # chi2 is the sum of the squared log residuals it lists (no sigma in the file)
    r = np.concatenate([np.asarray(v) for v in res.residuals.values()])
    assert abs(float(r @ r) - obj["chi2"]) <= 1e-12 * obj["chi2"]
    assert "constant relative errors" in res.weighting[res.labels[0]]
    # every point above 1 K is listed as excluded, none dropped silently
    T_all = jtls.data.read_csv(path).T
    assert len(res.excluded) == int(np.sum(T_all > 1.0))
    assert res.n_points + len(res.excluded) == T_all.size


def test_cli_flags_spam_outlier_in_report(capsys):
    path = _real("olson1993_spam.csv")
    rc = main(["fit", str(path), "--observable", "thermal_conductivity", "--flag-outliers"])
    text = capsys.readouterr().out
    assert "excluded points (1)" in text and "T = 1.75 K" in text and "outlier" in text
    # without the outlier SPAM is described by the STM: mu on its physical bound 0 is a
    # result (one-sided upper limit), status ok, exit 0
    status = text.split("status: ", 1)[1].split()[0]
    assert rc == 0 and status == "ok", text
    assert "on a physical bound" in text and "< 0.0" in text


def test_cli_fix_and_plain_csv_with_sigma(tmp_path, capsys):
    """Plain T,value,sigma file of C_v (synthetic, seeded); --fix holds mu exactly."""
    T = np.geomspace(0.05, 1.0, 30)
    y0 = np.asarray(jtls.specific_heat(T, 0.5, 0.2))
    s = 0.02 * y0
    y = y0 + s * np.random.default_rng(11).normal(size=T.size)
    f = tmp_path / "cv.csv"
    f.write_text("T,value,sigma\n" + "".join(f"{a:.17g},{b:.17g},{c:.17g}\n" for a, b, c in zip(T, y, s)))
    rc = main(["fit", str(f), "--observable", "specific_heat", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert rc == 0 and obj["status"] == "ok"
    # the CLI gives exactly the library fit of the same numbers (sigma weighting) ...
    from jtls.fit import Model, fit
    lib = fit(Model("specific_heat"), (T, y, s))
    assert lib.absolute_sigma
    for k in ("B", "mu"):
        assert abs(obj["parameters"][k]["value"] - lib.values[k]) <= 1e-9 * abs(lib.values[k])
        assert abs(obj["parameters"][k]["stderr"] - lib.stderr[k]) <= 1e-6 * lib.stderr[k]
    # ... and that recovers the truth (3 sigma: a single draw; the calibration of
    # sigma itself is tested over 200 draws in test_fit_recovery.py)
    for k, true in (("B", 0.5), ("mu", 0.2)):
        p = obj["parameters"][k]
        assert abs(p["value"] - true) < 3 * p["stderr"], (k, p)
    rc = main(["fit", str(f), "--observable", "specific_heat", "--fix", "mu=0.25", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert obj["parameters"]["mu"] == {"value": 0.25, "stderr": None, "at_bound": False, "fixed": True}


def test_cli_bad_input_exit_2(tmp_path, capsys):
    f = tmp_path / "v.csv"
    f.write_text("T,value\n0.1,1e-4\n0.2,2e-4\n0.3,2.5e-4\n0.5,2e-4\n")
    assert main(["fit", str(f), "--observable", "velocity"]) == 2
    assert "--omega" in capsys.readouterr().err
    assert main(["fit", str(f), "--observable", "velocity", "--omega", "1e5", "--fix", "mu"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err
    assert main(["fit", str(f), "--observable", "velocity", "--omega", "1e5", "--fix", "mu=0.1",
                 "--fix", "mu=0.2"]) == 2
    assert "--fix gives mu more than once (mu=0.1; mu=0.2)" in capsys.readouterr().err
    assert main(["fit", str(f), "--observable", "velocity", "--omega", "1e5", "--samples", "200",
                 "--chains", "2"]) == 2
    assert "--samples, --chains only apply to the posterior: add --posterior nuts" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "missing.csv"), "--observable", "specific_heat"]) == 2
    g = tmp_path / "bad.csv"
    g.write_text("T,value\n0.1,1e-4\n0.2,abc\n")
    assert main(["fit", str(g), "--observable", "specific_heat"]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err


def test_compilation_cache_dir(monkeypatch, tmp_path):
    from jtls.fit.cli import cache_dir
    monkeypatch.setenv("JTLS_JAX_CACHE", str(tmp_path / "c"))
    assert cache_dir() == str(tmp_path / "c")
    monkeypatch.setenv("JTLS_JAX_CACHE", "off")
    assert cache_dir() is None
    monkeypatch.delenv("JTLS_JAX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == str(tmp_path / "jtls" / "jax")


def test_cli_resonator_shift_real_file_matches_library_fit(capsys):
    # the 5.62 GHz Nb CPW resonator (../shared/data/resonator_nb_cpw), STM + quasiparticles
    from jtls.data import require_dataset
    p = Path(require_dataset("resonator_nb_cpw/freq_shift.csv"))   # fail, never skip, if missing
    omega = 2 * np.pi * 5619901372.0
    rc = main(["fit", str(p), "--observable", "resonator_shift", "--omega", repr(omega),
               "--fix", "mu=0", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["status"] == "ok"
    import jtls.resonator  # noqa: F401  (registers the observable)
    from jtls.fit import Model, fit
    ref = fit(Model("resonator_shift", omega=omega, fixed={"mu": 0.0}), jtls.read_csv(p))
    for name in ("F_delta0", "Delta", "alpha"):
        assert out["parameters"][name]["value"] == pytest.approx(ref.values[name], rel=1e-6)


def test_cli_resonator_options_validated(tmp_path, capsys):
    f = tmp_path / "qi.csv"
    f.write_text("T,value\n0.1,2e5\n0.2,2.2e5\n0.3,2.5e5\n0.5,3e5\n")
    assert main(["fit", str(f), "--observable", "resonator_loss", "--omega", "3.5e10"]) == 2
    assert "--power-dbm" in capsys.readouterr().err
    assert main(["fit", str(f), "--observable", "velocity", "--omega", "1e5", "--A", "1e7"]) == 2
    assert "--A" in capsys.readouterr().err


def _constant_velocity_file(tmp_path):
    T = np.geomspace(0.05, 3.0, 40)
    f = tmp_path / "const.csv"
    f.write_text("T,value\n" + "".join(f"{t:.17g},-6.8e-4\n" for t in T))
    return f


def test_cli_constant_velocity_is_unidentified_not_ok(tmp_path, capsys):
    """Constant dv/v (the issue's case): no zero errors presented, mu and A named."""
    f = _constant_velocity_file(tmp_path)
    rc = main(["fit", str(f), "--observable", "velocity", "--omega", "565486.7", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert rc == 1 and obj["status"] == "unidentified"
    assert "mu" in obj["message"] and "A" in obj["message"]
    for k in ("mu", "A"):
        assert obj["parameters"][k]["stderr"] is None
    for k, v in obj["parameters"].items():
        assert v["stderr"] is None or v["stderr"] > 0, (k, v)


def test_cli_rejects_bad_settings_and_outputs_before_work(tmp_path, capsys):
    f = _constant_velocity_file(tmp_path)
    for bad in ("-5", "0", "nan"):
        assert main(["fit", str(f), "--observable", "velocity", "--omega", bad]) == 2
        assert "--omega" in capsys.readouterr().err
    # --out onto an existing file / existing outputs: refused unless --overwrite
    (tmp_path / "afile").write_text("x")
    assert main(["fit", str(f), "--observable", "velocity", "--omega", "1e5", "--out",
                 str(tmp_path / "afile")]) == 2
    assert "not a directory" in capsys.readouterr().err
    out = tmp_path / "o"
    out.mkdir()
    (out / "const_velocity.json").write_text("{}")
    assert main(["fit", str(f), "--observable", "velocity", "--omega", "1e5", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "const_velocity.json").read_text() == "{}"


def test_cli_warns_when_observable_contradicts_the_file(tmp_path, capsys):
    path = _real("olson1993_corian.csv")
    main(["fit", str(path), "--observable", "specific_heat", "--tmax", "1", "--json"])
    obj = json.loads(capsys.readouterr().out)
    assert any("thermal_conductivity" in w and "check --observable" in w for w in obj["warnings"])


# ------------------------------------------------------------------ several files in one process

def _cv_file(path, B=0.5, mu=0.2, seed=0, header="T,value", extra=""):
    """A synthetic C_v(T) file (2 % seeded log-normal scatter, 20 points)."""
    T = np.geomspace(0.05, 1.0, 20)
    y = np.asarray(jtls.specific_heat(T, B, mu)) * np.exp(0.02 * np.random.default_rng(seed).normal(size=T.size))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + "".join(f"{a:.17g},{b:.17g}{extra}\n" for a, b in zip(T, y)))
    return path


def _steep_file(path):
    """C_v ~ T^5: steeper than Eq. (6) allows, so mu runs into its limit (status not 'ok')."""
    T = np.geomspace(0.05, 1.0, 20)
    path.write_text("T,value\n" + "".join(f"{t:.17g},{t ** 5:.17g}\n" for t in T))
    return path


def test_cli_several_files_json_lines_are_the_one_file_documents(tmp_path, capsys):
    files = [_cv_file(tmp_path / "a.csv", 0.5, 0.2, seed=1),
             _cv_file(tmp_path / "b.csv", 2.0, 0.05, seed=2),
             # read_csv warns about this one (power column -140 dBm, file name -160 dBm)
             _cv_file(tmp_path / "cv_minus160dBm.csv", 1.0, 0.1, seed=3, header="T (K),value,power (dBm)",
                      extra=",-140")]
    opts = ["--observable", "specific_heat", "--tmax", "0.8", "--json"]
    rc = main(["fit", *map(str, files), *opts])
    cap = capsys.readouterr()
    lines = cap.out.splitlines()
    assert rc == 0 and cap.out.endswith("\n") and len(lines) == 3     # JSON Lines: one document a line
    docs = [json.loads(line) for line in lines]
    for f, doc in zip(files, docs):
        assert main(["fit", str(f), *opts]) == 0
        one = json.loads(capsys.readouterr().out)
        assert doc["meta"]["input"] == one["meta"]["input"] == str(f.resolve())
        assert doc["meta"]["sha256"] == one["meta"]["sha256"]
        assert doc["meta"]["command"] == one["meta"]["command"]      # the command with this file alone
        assert doc["status"] == one["status"] == "ok" and doc["warnings"] == one["warnings"]
        assert doc["chi2"] == pytest.approx(one["chi2"], rel=1e-10)
        assert set(doc["parameters"]) == set(one["parameters"]) == {"B", "mu"}
        for k, p in doc["parameters"].items():
            assert p["value"] == pytest.approx(one["parameters"][k]["value"], rel=1e-10)
            assert p["stderr"] == pytest.approx(one["parameters"][k]["stderr"], rel=1e-10)
    # each file's warnings are its own: in its document, and its stderr line names it
    power = [[w for w in d["warnings"] if "-140 dBm but the file name says -160" in w] for d in docs]
    assert [len(p) for p in power] == [0, 0, 1]
    hits = [ln for ln in cap.err.splitlines() if "-140 dBm but the file name says -160" in ln]
    assert len(hits) == 1 and hits[0].startswith(f"warning: {files[2]}: "), hits


def test_cli_several_files_a_bad_one_stops_the_run_before_any_fit(tmp_path, capsys, monkeypatch):
    import jtls.fit.engine as engine
    calls = []
    monkeypatch.setattr(engine, "fit", lambda *a, **k: calls.append(a) or pytest.fail("a fit ran"))
    good1, good2 = _cv_file(tmp_path / "g1.csv"), _cv_file(tmp_path / "g2.csv", seed=5)
    unreadable = tmp_path / "bad.csv"
    unreadable.write_text("T,value\n0.1,1e-4\n0.2,abc\n")
    hot = tmp_path / "hot.csv"                      # no point below --tmax 0.8
    hot.write_text("T,value\n1.0,2e-3\n1.5,3e-3\n2.0,4e-3\n")
    out = tmp_path / "out"
    for bad, msg in ((unreadable, "line 3"), (hot, "no points left"), (tmp_path / "gone.csv", "no such")):
        rc = main(["fit", str(good1), str(bad), str(good2), "--observable", "specific_heat", "--tmax", "0.8",
                   "--json", "--out", str(out)])
        cap = capsys.readouterr()
        assert rc == 2 and cap.out == "", cap
        err = [ln for ln in cap.err.splitlines() if "error" in ln]
        assert len(err) == 1 and str(bad) in err[0] and msg in err[0], cap.err
        assert str(good1) not in err[0] and str(good2) not in err[0]
        assert not out.exists() or list(out.iterdir()) == []         # nothing written
    assert calls == []


def test_cli_several_files_outside_the_simulated_dos_stop_the_run_before_any_fit(tmp_path, capsys, monkeypatch):
    """The observable's own range check (temperatures the simulated-DOS library does not cover,
    T/h0 >= 0.0005 at h0 = 10 K, i.e. T >= 5 mK) runs for every file before the first fit."""
    import jtls.fit.engine as engine
    monkeypatch.setattr(engine, "fit", lambda *a, **k: pytest.fail("a fit ran"))
    good = _cv_file(tmp_path / "good.csv")
    cold = tmp_path / "cold.csv"
    cold.write_text("T,value\n" + "".join(f"{t:.6g},{1e-3 * t:.6g}\n" for t in np.geomspace(1e-4, 1e-3, 8)))
    rc = main(["fit", str(good), str(cold), "--observable", "specific_heat", "--dos", "simulated"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == "", cap
    err = [ln for ln in cap.err.splitlines() if "error" in ln]
    assert len(err) == 1 and str(cold) in err[0] and str(good) not in err[0], cap.err


def test_cli_several_files_with_one_output_name_are_refused(tmp_path, capsys):
    a, b = _cv_file(tmp_path / "run1" / "x.csv"), _cv_file(tmp_path / "run2" / "x.csv", seed=4)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    for files, names in (([a, b], [str(a), str(b)]), ([a, a], [str(a)])):
        rc = main(["fit", *map(str, files), "--observable", "specific_heat", "--out", str(out)])
        cap = capsys.readouterr()
        assert rc == 2 and cap.out == ""
        for name in names:
            assert name in cap.err, cap.err
        assert "x_specific_heat" in cap.err or "given twice" in cap.err
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        assert (out / "keep.txt").read_text() == "mine"


def test_cli_several_files_exit_code_and_summary(tmp_path, capsys):
    good, other = _cv_file(tmp_path / "good.csv", seed=6), _cv_file(tmp_path / "other.csv", 1.5, 0.1, seed=7)
    steep = _steep_file(tmp_path / "steep.csv")
    rc = main(["fit", str(good), str(steep), "--observable", "specific_heat"])
    out = capsys.readouterr().out
    blocks = out.split("\n\n" + "file: ")
    assert out.startswith(f"file: {good}\n") and f"\n\nfile: {steep}\n" in out and len(blocks) == 2
    status = [text.split("status: ", 1)[1].split()[0] for text in blocks]
    assert status[0] == "ok" and status[1] != "ok"
    assert rc == 1
    assert out.rstrip("\n").split("\n")[-3:] == ["", f"{good}: ok", f"{steep}: {status[1]}"]
    rc = main(["fit", str(good), str(other), "--observable", "specific_heat"])
    out = capsys.readouterr().out
    assert rc == 0 and out.rstrip("\n").split("\n")[-2:] == [f"{good}: ok", f"{other}: ok"]
    # one file: no summary line
    rc = main(["fit", str(good), "--observable", "specific_heat"])
    out = capsys.readouterr().out
    assert rc == 0 and f"{good}: ok" not in out


def test_cli_several_files_an_error_found_by_the_fit_spares_the_others(tmp_path, capsys, monkeypatch):
    import jtls.fit.engine as engine
    real = engine.fit

    def fit(model, data, **kw):
        if data.label == "b":
            raise ValueError("dataset 'b': refused by the fit")
        return real(model, data, **kw)

    monkeypatch.setattr(engine, "fit", fit)
    files = [_cv_file(tmp_path / f"{k}.csv", seed=i) for i, k in enumerate("abc")]
    rc = main(["fit", *map(str, files), "--observable", "specific_heat", "--json"])
    cap = capsys.readouterr()
    assert rc == 2
    assert [json.loads(line)["meta"]["input"] for line in cap.out.splitlines()] == \
        [str(files[0].resolve()), str(files[2].resolve())]
    assert f"error: {files[1]}: dataset 'b': refused by the fit" in cap.err


def test_out_folder_made_only_when_written(tmp_path, capsys):
    # a run refused for a bad file leaves no --out folder behind; a good run makes it (nested)
    good = _real("olson1993_stycast1266.csv")
    new = tmp_path / "a" / "b"
    rc = main(["fit", str(good), str(tmp_path / "missing.csv"), "--observable", "thermal_conductivity",
               "--tmax", "1.0", "--out", str(new)])
    assert rc == 2 and "missing.csv" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["fit", str(good), "--observable", "thermal_conductivity", "--out", str(f / "sub")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    rc = main(["fit", str(good), "--observable", "thermal_conductivity", "--tmax", "1.0", "--json",
               "--out", str(new)])
    assert rc in (0, 1) and sorted(p.name for p in new.iterdir()) == [
        "olson1993_stycast1266_thermal_conductivity.json", "olson1993_stycast1266_thermal_conductivity.png"]


def test_plot_result_leaves_the_users_backend_alone(tmp_path):
    """A library call draws with the backend the user chose; it switched every caller to Agg."""
    import subprocess
    import sys
    code = ("import matplotlib; matplotlib.use('svg')\n"
            "import numpy as np, jtls\n"
            "from jtls.fit import Model, fit\n"
            "from jtls.fit.plot import plot_result\n"
            "T = np.geomspace(0.1, 1, 12)\n"
            "r = fit(Model('specific_heat'), (T, np.asarray(jtls.specific_heat(T, 1e-3, 0.1))))\n"
            f"plot_result(r, {str(tmp_path / 'p.svg')!r})\n"
            "print(matplotlib.get_backend())\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split()[-1] == "svg" and (tmp_path / "p.svg").stat().st_size > 1000
