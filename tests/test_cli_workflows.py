"""The CLI for the real workflows (issue 13): kappa with extra phonon scattering from `jtls fit`
and `Model`, self-describing JSON outputs, help texts that list every observable and parameter,
`jtls anneal` without --out, warnings as one clean line.

Synthetic data only (seeded); every expected value is known in advance.
"""
import hashlib
import json
import math
import shlex
import warnings

import numpy as np
import pytest

import jtls
from jtls.cli import build_parser, main
from jtls.observables.matthiessen import (crossover_energies, kappa_scattering,
                                          thermal_conductivity_matthiessen,
                                          thermal_conductivity_si_dos,
                                          thermal_conductivity_si_matthiessen)


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("JTLS_JAX_CACHE", "off")


T = np.geomspace(0.05, 2.0, 30)
B_TRUE, MU_TRUE, EB_TRUE = 2.0, 0.15, 0.08


@pytest.fixture(scope="module")
def kappa_file(tmp_path_factory):
    """kappa(T) with boundary scattering (E_b = 0.08 K), no Rayleigh; 2 % log-normal scatter."""
    y0 = np.asarray(thermal_conductivity_matthiessen(T, B_TRUE, MU_TRUE, boundary=EB_TRUE))
    y = y0 * np.exp(0.02 * np.random.default_rng(1).normal(size=T.size))
    f = tmp_path_factory.mktemp("kappa") / "kappa.csv"
    f.write_text("T,value\n" + "".join(f"{a:.17g},{b:.17g}\n" for a, b in zip(T, y)))
    return f, y


# ------------------------------------------------------------------ 1. Matthiessen observables

def test_si_channels_have_the_power_law_names_and_old_names_warn():
    args = (np.geomspace(0.02, 1.0, 5), 3e-4, 2e-4, 5800.0, 3800.0, 0.1)
    new = np.asarray(thermal_conductivity_si_matthiessen(*args, boundary=1e-5, rayleigh=1e-42))
    with pytest.warns(DeprecationWarning, match="'l_b' is deprecated; use 'boundary'"):
        old_b = np.asarray(thermal_conductivity_si_matthiessen(*args, l_b=1e-5, rayleigh=1e-42))
    with pytest.warns(DeprecationWarning, match="'a_R' is deprecated; use 'rayleigh'"):
        old_r = np.asarray(thermal_conductivity_si_matthiessen(*args, boundary=1e-5, a_R=1e-42))
    np.testing.assert_array_equal(old_b, new)
    np.testing.assert_array_equal(old_r, new)
    with pytest.raises(ValueError, match="once"):
        thermal_conductivity_si_matthiessen(*args, boundary=1e-5, l_b=1e-5)
    # the new keywords are keyword-only channels of both functions
    import inspect
    for f in (thermal_conductivity_matthiessen, thermal_conductivity_si_matthiessen):
        ps = inspect.signature(f).parameters
        assert ps["boundary"].kind is ps["rayleigh"].kind is inspect.Parameter.KEYWORD_ONLY


def test_si_dos_twin_equals_the_power_law_functions():
    T5 = np.geomspace(0.02, 1.0, 5)
    args = (3e-4, 2e-4, 5800.0, 3800.0)
    for mu in (0.0, 0.2):
        dos = jtls.PowerLawDOS(1.0, mu)
        np.testing.assert_allclose(thermal_conductivity_si_dos(T5, dos, *args),
                                   jtls.thermal_conductivity_si(T5, *args, mu), rtol=1e-13)
        np.testing.assert_allclose(
            thermal_conductivity_si_dos(T5, dos, *args, boundary=2e-5, rayleigh=1e-42),
            thermal_conductivity_si_matthiessen(T5, *args, mu, boundary=2e-5, rayleigh=1e-42),
            rtol=1e-13)
    # a DOS twice as large halves the TLS-limited kappa
    np.testing.assert_allclose(thermal_conductivity_si_dos(T5, jtls.PowerLawDOS(2.0, 0.0), *args),
                               0.5 * np.asarray(jtls.thermal_conductivity_si(T5, *args, 0.0)),
                               rtol=1e-13)


def test_fitted_parameterization_matches_the_crossover_energies():
    import jax
    # channels off: exactly Eq. (5)
    np.testing.assert_allclose(kappa_scattering(T, 2.0, 0.15), jtls.thermal_conductivity(T, 2.0, 0.15),
                               rtol=1e-15)
    for mu, Eb, ER in ((0.0, 0.05, 2.0), (0.3, 0.2, 0.8)):
        E_b1 = math.sqrt(2.0 * Eb ** (1.0 + mu))
        r_R = ER ** -(3.0 - mu)
        assert crossover_energies(mu, E_b1, r_R) == pytest.approx((Eb, ER), rel=1e-12)
        np.testing.assert_allclose(kappa_scattering(T, 1.3, mu, E_b1, r_R),
                                   thermal_conductivity_matthiessen(T, 1.3, mu, boundary=Eb, rayleigh=ER),
                                   rtol=1e-13)
    # kappa falls linearly in E_b1 at 0: the slope there (analytic limit; the engine holds the
    # bound as 1e-304) is the numerical slope at a tiny E_b1, finite and negative
    slope = lambda e: np.asarray(jax.jacfwd(lambda x: kappa_scattering(T, 2.0, 0.15, x, 0.0))(e))  # noqa: E731
    s0, s_tiny, s_held = slope(0.0), slope(1e-7), slope(1e-304)
    assert np.all(s0 < 0) and np.all(np.isfinite(s0))
    np.testing.assert_allclose(s0, s_tiny, rtol=1e-5)
    np.testing.assert_array_equal(s0, s_held)
    d = (np.asarray(kappa_scattering(T, 2.0, 0.15, 2e-7, 0.0)) - np.asarray(kappa_scattering(T, 2.0, 0.15, 1e-7, 0.0))) / 1e-7
    np.testing.assert_allclose(d, s0, rtol=1e-4)


def test_model_holds_the_channels_off_unless_freed():
    from jtls.fit import Model
    m = Model("thermal_conductivity_matthiessen")
    assert m.param_names == ["B", "mu", "E_b1", "r_R"] and m.fixed == {"E_b1": 0.0, "r_R": 0.0}
    m = Model("thermal_conductivity_matthiessen", free=["E_b1", "r_R"])
    assert m.fixed == {}
    for k in ("E_b1", "r_R"):
        assert m.bounds_of(k) == (0.0, math.inf) and m.physical_of(k) == (True, False)


def test_cli_scattering_finds_boundary_not_rayleigh_and_matches_the_library(kappa_file, tmp_path, capsys):
    f, y = kappa_file
    rc = main(["fit", str(f), "--observable", "thermal_conductivity", "--scattering", "rayleigh,boundary",
               "--json", "--out", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["status"] == "ok", doc["message"]
    assert set(doc["parameters"]) == {"B", "mu", "E_b1", "r_R"}
    # boundary scattering is needed, Rayleigh is not (on its bound, p = 1, upper limit)
    assert doc["tests"]["E_b1_zero"]["p_value"] < 1e-8
    assert doc["tests"]["r_R_zero"]["p_value"] > 0.5 and doc["parameters"]["r_R"]["at_bound"]
    sc = doc["result"]["extra"]["scattering"]
    assert sc["channels"] == ["boundary", "rayleigh"]
    assert abs(sc["E_b_K"] / EB_TRUE - 1) < 0.1 and sc["E_R_K"] == "inf" and sc["E_R_lower95_K"] > 2.0
    assert abs(doc["parameters"]["mu"]["value"] - MU_TRUE) < 3 * doc["parameters"]["mu"]["stderr"]
    # the same fit through Model (what --scattering builds)
    from jtls.fit import Model, fit
    lib = fit(Model("thermal_conductivity_matthiessen", free=["E_b1", "r_R"]), (T, y))
    for k in ("B", "mu", "E_b1"):
        assert doc["parameters"][k]["value"] == pytest.approx(lib.values[k], rel=1e-8)
    written = tmp_path / "kappa_thermal_conductivity_boundary_rayleigh.json"
    assert json.loads(written.read_text()) == doc
    assert (tmp_path / "kappa_thermal_conductivity_boundary_rayleigh.png").is_file()
    # the text report states the crossover energies in K
    assert main(["fit", str(f), "--observable", "thermal_conductivity", "--scattering", "boundary"]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if ln.startswith("crossover energies"))
    assert "E_b = 0.07" in line and "Rayleigh" not in line.split(":", 1)[1]


def test_cli_scattering_rejects_what_it_cannot_do(kappa_file, capsys):
    f, _ = kappa_file
    for extra, msg in ((["--observable", "thermal_conductivity", "--scattering", "phonon"], "subset of"),
                       (["--observable", "specific_heat", "--scattering", "boundary"], "applies to"),
                       (["--observable", "thermal_conductivity", "--scattering", "boundary",
                         "--dos", "simulated"], "Eq. (3) DOS")):
        assert main(["fit", str(f), *extra]) == 2
        assert msg in capsys.readouterr().err


# ------------------------------------------------------------------ 2. self-describing outputs

def test_fit_json_meta_describes_the_run(kappa_file, capsys):
    f, _ = kappa_file
    rc = main(["fit", str(f), "--observable", "thermal_conductivity", "--tmax", "1.5", "--fix", "mu=0.15",
               "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc in (0, 1)
    meta = doc["meta"]
    assert set(meta) == {"jtls_version", "date", "command", "input", "sha256", "observable", "weighting"}
    assert meta["jtls_version"] == jtls.__version__
    assert meta["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest()
    assert meta["input"] == str(f.resolve()) and meta["observable"] == "thermal_conductivity"
    assert "constant relative errors" in meta["weighting"]
    import datetime
    assert datetime.datetime.fromisoformat(meta["date"]).tzinfo is not None
    # the command reproduces the run: it parses back to the same settings
    words = shlex.split(meta["command"])
    assert words[:2] == ["jtls", "fit"]
    again = build_parser().parse_args(words[1:])
    assert (again.file, again.observable, again.tmax, again.fix, again.json) == \
        (str(f), "thermal_conductivity", 1.5, ["mu=0.15"], True)
    # ... and run again it gives the same result (it once listed the posterior defaults, which
    # the command line refuses without --posterior)
    assert main(words[1:]) == rc
    assert json.loads(capsys.readouterr().out)["result"]["values"] == doc["result"]["values"]
    # the old contract is kept beside it; the full result reads back
    assert {"parameters", "chi2", "reduced_chi2", "status", "warnings", "tests"} <= set(doc)
    from jtls.fit import FitResult
    assert FitResult.from_dict(doc["result"]).values["mu"] == 0.15


# ------------------------------------------------------------------ 3. help texts, anneal --out

def test_help_lists_every_observable_and_every_parameter():
    from jtls.fit import Model
    from jtls.fit.cli import CHOICES, PARAMETERS
    from jtls.fit.model import REGISTRY
    import jtls.resonator  # noqa: F401  (registers the resonator observables)
    top = build_parser().format_help()
    for name in CHOICES:
        assert name in top, name
    # every built-in registered observable is a CLI choice (simulated twins come with --dos)
    builtin = {k for k, o in REGISTRY.items() if "@" not in k and o.func.__module__.startswith("jtls.")}
    assert builtin <= set(CHOICES), builtin - set(CHOICES)
    # the --fix table is the registry's
    for name in CHOICES:
        assert tuple(Model(name).param_names) == PARAMETERS[name], name
    sub = build_parser()._subparsers._group_actions[0].choices["fit"]
    fix_help = next(a.help for a in sub._actions if a.dest == "fix")
    for names in PARAMETERS.values():
        for k in names:
            assert k in fix_help, k
    assert "J0_h0" in fix_help and "h0" in fix_help


def test_anneal_without_out_uses_the_documented_default(tmp_path, monkeypatch, capsys):
    import importlib
    R = importlib.import_module("jtls.anneal.run")   # the module (jtls.anneal.run is also a function)
    seen = {}

    def fake_run(cfg, out, **kw):
        seen["out"] = out
        warnings.warn("jtls.anneal: a warning\nover two lines", UserWarning)
        raise KeyboardInterrupt          # stop before any annealing

    monkeypatch.setattr(R, "run", fake_run)
    monkeypatch.chdir(tmp_path)
    rc = main(["anneal", "--L", "4", "--realizations", "7", "--seed", "5", "--h0", "12.5"])
    err = capsys.readouterr().err
    assert rc == 130
    assert seen["out"] == "anneal_L4_J0_2_h0_12.5_x0.5_r7_s5.npz"
    assert "no --out given; writing anneal_L4_J0_2_h0_12.5_x0.5_r7_s5.npz" in err
    # a warning during the run: one clean line
    assert "warning: jtls.anneal: a warning over two lines\n" in err and "warnings.warn" not in err
    sub = build_parser()._subparsers._group_actions[0].choices["anneal"]
    out_help = next(a.help for a in sub._actions if a.dest == "out")
    assert "default: anneal_L{L}_J0_{J0}_h0_{h0}_x{x}_r{realizations}_s{seed}.npz" in out_help


# ------------------------------------------------------------------ 5. warnings, one clean line

def test_data_warning_is_one_clean_line(tmp_path, capsys):
    # a file whose name says -160 dBm and whose power column says -140 dBm (read_csv warns)
    f = tmp_path / "kappa_minus160dBm.csv"
    y = np.asarray(jtls.thermal_conductivity(T, 2.0, 0.1))
    f.write_text("T (K),value,power (dBm)\n" + "".join(f"{a:.17g},{b:.17g},-140\n" for a, b in zip(T, y)))
    for fmt in ([], ["--json"]):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            main(["fit", str(f), "--observable", "thermal_conductivity", "--fix", "mu=0.1", *fmt])
        assert not [w for w in rec if issubclass(w.category, jtls.data.DataWarning)]  # none escapes
        cap = capsys.readouterr()
        text = cap.err if fmt else cap.out + cap.err     # with --json, stdout is the document
        hits = [ln for ln in text.splitlines() if "-140 dBm but the file name says -160" in ln]
        assert len(hits) == 1 and hits[0].startswith("warning: "), hits
        assert "warnings.warn" not in cap.err + cap.out and "DataWarning" not in cap.err + cap.out
        if fmt:
            doc = json.loads(cap.out)
            assert any("-140 dBm but the file name says -160" in w for w in doc["warnings"])


# ------------------------------------------------------------------ 4. resonators

F0_HZ = 5.62e9
OMEGA0 = 2 * math.pi * F0_HZ


@pytest.fixture(scope="module")
def frequency_file(tmp_path_factory):
    """Absolute resonance frequency in GHz vs T in mK: STM TLS shift, no quasiparticles, 2e-9 noise."""
    from jtls.resonator import resonator_shift
    Tr = np.geomspace(0.05, 0.8, 25)
    shift = np.asarray(resonator_shift(Tr, 1.5e-6, 0.0, 15.0, 0.0, OMEGA0, 0.05))
    f = F0_HZ * (1.0 + shift + 2e-9 * np.random.default_rng(4).normal(size=Tr.size))
    path = tmp_path_factory.mktemp("res") / "fr.csv"
    path.write_text("T (mK),f (GHz)\n" + "".join(f"{1e3 * t:.12g},{v / 1e9:.15g}\n" for t, v in zip(Tr, f)))
    return path, Tr, f


def test_frequency_file_is_converted_and_qp_switched_off(frequency_file, capsys):
    path, Tr, f = frequency_file
    ds = jtls.read_csv(path)
    assert ds.quantity == "resonance_frequency" and ds.units == "GHz"
    rel = ds.as_frequency_shift()
    f_ref = float(np.round(f[0] / 1e9, 15 - 1)) * 1e9       # as written (15 significant digits)
    assert rel.quantity == "resonator_shift" and rel.T_ref == pytest.approx(0.05) and rel.value[0] == 0.0
    assert rel.omega == pytest.approx(2 * math.pi * f_ref, rel=1e-12)
    np.testing.assert_allclose(rel.value, (ds.value - ds.value[0]) / ds.value[0], rtol=1e-12)
    rc = main(["fit", str(path), "--observable", "resonator_shift", "--no-qp", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["status"] == "ok", doc["message"]
    conv = doc["result"]["extra"]["input_conversion"]
    assert conv["f_ref_Hz"] == pytest.approx(f_ref, rel=1e-12) and conv["T_ref_K"] == pytest.approx(0.05)
    assert "lowest-temperature point" in conv["note"]
    p = doc["parameters"]
    assert p["alpha"] == {"value": 0.0, "stderr": None, "at_bound": False, "fixed": True}
    assert p["Delta"]["fixed"] and doc["result"]["extra"]["quasiparticles"].startswith("quasiparticle term off")
    # the same as the library fit of the converted numbers; F delta0 recovered
    from jtls.fit import Model, fit
    from jtls.resonator import QP_OFF
    lib = fit(Model("resonator_shift", omega=rel.omega, T_ref=rel.T_ref, fixed=QP_OFF), (rel.T, rel.value))
    for k in ("F_delta0", "mu"):
        assert p[k]["value"] == pytest.approx(lib.values[k], rel=1e-8, abs=1e-12)
    assert abs(p["F_delta0"]["value"] / 1.5e-6 - 1) < 0.05
    # --fix alpha=0 does the same; the text report states the conversion and the switch
    rc = main(["fit", str(path), "--observable", "resonator_shift", "--fix", "alpha=0"])
    text = capsys.readouterr().out
    assert rc == 0
    assert "note: converted absolute resonance frequency (GHz) to delta f/f = (f - f_ref)/f_ref with " \
           "f_ref = f(T_ref = 0.05 K)" in text
    assert "quasiparticle term off (alpha = 0): Delta is not fitted" in text


def test_absolute_frequencies_are_never_fitted_as_a_shift(tmp_path, capsys):
    f = tmp_path / "raw.csv"
    f.write_text("T,value\n0.05,5.62\n0.1,5.6200001\n0.2,5.6200003\n0.4,5.620001\n")
    assert main(["fit", str(f), "--observable", "resonator_shift", "--omega", "3.5e10"]) == 2
    err = capsys.readouterr().err
    assert "not a relative frequency shift" in err and "f (GHz)" in err


def test_alpha_zero_never_makes_a_singular_fit(frequency_file, capsys):
    path, _, _ = frequency_file
    for extra, msg in ((["--no-qp", "--free", "Delta"], "cannot be freed"),
                       (["--fix", "alpha=0", "--free", "Delta"], "cannot be freed"),
                       (["--no-qp", "--fix", "alpha=0.01"], "--no-qp contradicts --fix alpha=0.01")):
        assert main(["fit", str(path), "--observable", "resonator_shift", *extra]) == 2
        assert msg in capsys.readouterr().err
    assert main(["fit", str(path), "--observable", "specific_heat", "--no-qp"]) == 2
    assert "--no-qp applies to" in capsys.readouterr().err
    # the library: alpha held at 0 with Delta free is refused with the way out, before any work
    from jtls.fit import Model, fit
    rel = jtls.read_csv(path).as_frequency_shift()
    with pytest.raises(ValueError, match="hold Delta too"):
        fit(Model("resonator_shift", omega=rel.omega, fixed={"alpha": 0.0}), (rel.T, rel.value))
