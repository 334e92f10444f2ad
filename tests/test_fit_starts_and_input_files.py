"""Fits from inputs nobody had tried: start values next to or beyond a bound, a file of losses
given to the Qi fit, an uncertainty column named <value>_err.  Each test fails without its fix."""
import json

import numpy as np
import pytest

import jtls
from jtls.cli import main
from jtls.fit import Model, fit


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch):
    monkeypatch.setenv("JTLS_JAX_CACHE", "off")


def _kappa(mu, seed=2):
    T = np.geomspace(0.06, 0.9, 20)
    y = np.asarray(jtls.thermal_conductivity(T, 4e-3, mu)) * np.exp(0.03 * np.random.default_rng(seed).normal(size=20))
    return T, y


def test_start_next_to_the_upper_limit_still_finds_the_interior_optimum():
    """mu started at 0.999 (sigmoid slope 1e-3): the first Levenberg-Marquardt step jumped to
    mu = 1e-305, where the transform is flat, and the fit said 'unidentified: the fitted curve does
    not depend on mu' (at 0.99: 'stalled') on data that determine mu = 0.2 to +-0.01."""
    T, y = _kappa(0.2)
    ref = fit(Model("thermal_conductivity"), (T, y))
    assert ref.ok
    for start in (0.99, 0.999):
        res = fit(Model("thermal_conductivity"), (T, y), initial={"mu": start})
        assert res.status == "ok", (start, res.status, res.message)
        assert res["mu"] == pytest.approx(ref["mu"], abs=1e-6)
        assert res.stderr["mu"] == pytest.approx(ref.stderr["mu"], rel=1e-3)


@pytest.mark.parametrize("seed", [2, 3])
def test_start_next_to_the_limit_on_stm_data_gives_the_default_start_verdict(seed):
    """STM data (mu = 0): the same verdict, bound and interval as from the automatic start."""
    T, y = _kappa(0.0, seed)
    ref = fit(Model("thermal_conductivity"), (T, y))
    res = fit(Model("thermal_conductivity"), (T, y), initial={"mu": 0.999})
    assert ref.ok and res.ok and res.at_bound == ref.at_bound, res.report()
    assert res["mu"] == pytest.approx(ref["mu"], abs=1e-6)
    assert res.intervals["mu"]["high95"] == pytest.approx(ref.intervals["mu"]["high95"], rel=1e-3)


@pytest.mark.parametrize("start", [{"mu": 2.0}, {"mu": -0.5}, {"B": -1e-3}])
def test_start_beyond_a_bound_is_an_error_naming_it(start):
    """It was moved silently to just inside the bound (mu = 2 became 0.999)."""
    T, y = _kappa(0.2)
    (name, val), = start.items()
    with pytest.raises(ValueError, match=rf"initial: {name} = {val:g} is outside its bounds"):
        fit(Model("thermal_conductivity"), (T, y), initial=start)


def _loss_files(tmp_path):
    import jtls.resonator as R
    omega = 2 * np.pi * 5.62e9
    T = np.linspace(0.05, 1.0, 14)
    qi = np.asarray(R.resonator_loss(T, F_delta0=9e-7, mu=0.2, P_c_dBm=-140.0, beta=0.5, Delta=11.0,
                                     alpha=0.0, loss_bg=5e-8, omega=omega, P_dBm=-120.0))
    qi = qi * np.exp(0.01 * np.random.default_rng(4).normal(size=T.size))
    loss = 1.0 / qi
    fq, fl = tmp_path / "qi.csv", tmp_path / "loss.csv"
    fq.write_text("T,Qi\n" + "".join(f"{float(t)!r},{float(1.0 / v)!r}\n" for t, v in zip(T, loss)))
    fl.write_text("T,1/Qi\n" + "".join(f"{float(t)!r},{float(v)!r}\n" for t, v in zip(T, loss)))
    return omega, fq, fl


def test_cli_loss_file_is_fitted_as_qi(tmp_path, capsys):
    """A '1/Qi' column (quantity resonator_loss) was fitted as if it held Qi: loss_bg came out
    ~1e7 instead of ~5e-8.  It is converted to Qi = 1/loss, and the conversion is recorded."""
    omega, fq, fl = _loss_files(tmp_path)
    opts = ["--observable", "resonator_loss", "--omega", repr(omega), "--power-dbm", "-120", "--no-qp",
            "--fix", "P_c_dBm=-140", "--fix", "beta=0.5", "--json"]
    main(["fit", str(fq)] + opts)
    ref = json.loads(capsys.readouterr().out)
    main(["fit", str(fl)] + opts)
    out = json.loads(capsys.readouterr().out)
    for name in ("F_delta0", "mu", "loss_bg"):
        assert out["parameters"][name]["value"] == pytest.approx(ref["parameters"][name]["value"], rel=1e-6), name
    assert out["status"] == ref["status"]
    assert out["result"]["extra"]["input_conversion"]["to"] == "Qi = 1/loss"


def test_cli_qi_below_one_is_refused(tmp_path, capsys):
    f = tmp_path / "q.csv"
    f.write_text("T,Qi\n0.1,1e-6\n0.2,2e-6\n0.3,3e-6\n0.4,3.5e-6\n")
    rc = main(["fit", str(f), "--observable", "resonator_loss", "--omega", "3.5e10", "--power-dbm", "-120"])
    err = capsys.readouterr().err
    assert rc == 2 and "q.csv" in err and "not an internal quality factor" in err and "Traceback" not in err


def test_cli_values_in_a_unit_are_refused_for_a_pure_number_observable(tmp_path, capsys):
    """A column in arbitrary units fitted as a relative shift would give C in those units: refused,
    naming the file and the unit; plain numbers and converted % are fitted."""
    T = np.geomspace(0.05, 3.0, 12)
    y = np.asarray(jtls.velocity_shift(T, 3.2e-4, 0.1, 6e7, 5.65e5)) + 1e-4
    rows = "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(T, y))
    au, pct = tmp_path / "au.csv", tmp_path / "pct.csv"
    au.write_text("T,signal (a.u.)\n" + rows)
    pct.write_text("T,dv/v (%)\n" + "".join(f"{float(a)!r},{float(100 * b)!r}\n" for a, b in zip(T, y)))
    rc = main(["fit", str(au), "--observable", "velocity", "--omega", "5.65e5"])
    err = capsys.readouterr().err
    assert rc == 2 and "au.csv" in err and "'a.u.'" in err and "Traceback" not in err
    rc = main(["fit", str(pct), "--observable", "velocity", "--omega", "5.65e5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["C"]["value"] == pytest.approx(3.2e-4, rel=1e-3)


def test_value_err_column_is_the_uncertainty_and_said_so(tmp_path):
    """'kappa_err' was silently left out (the fit scaled the errors by the scatter instead of
    using the given sigma), and no note said which column was sigma or which went unused."""
    f = tmp_path / "k.csv"
    f.write_text("T (mK),kappa (W/m/K),kappa_err,T_err,k/T\n100,2.0,0.1,1,20\n200,6.5,0.2,1,32.5\n400,21,0.5,2,52.5\n")
    ds = jtls.read_csv(f)
    assert ds.sigma is not None and ds.sigma.tolist() == [0.1, 0.2, 0.5]
    assert "per-point uncertainty sigma from column 'kappa_err'" in ds.notes
    unused = [n for n in ds.notes if "not used as T, value or sigma" in n]
    assert len(unused) == 1 and "'T_err'" in unused[0] and "'k/T'" in unused[0], ds.notes
    assert set(ds.extra) == {"T_err", "k/T"}


def test_temperature_error_column_is_not_the_uncertainty_of_the_value(tmp_path):
    f = tmp_path / "k.csv"
    f.write_text("T,kappa,T_err\n0.1,2.0,0.001\n0.2,6.5,0.001\n0.4,21,0.002\n")
    ds = jtls.read_csv(f)
    assert ds.sigma is None and any("'T_err' not used" in n for n in ds.notes), ds.notes
    back = jtls.read_csv(jtls.write_csv(ds, tmp_path / "back.csv"))
    assert back.notes[1:] == ds.notes[1:]        # the annotated format adds no column notes
