"""Smoke test of fits/thermal_conductivity.py on the real SPAM file (subset of models).

Checks what the issue asks of fit 1: the bad last point is flagged (not silently dropped), points
above the window are listed, mu >= 0 by default, a preferred model is named with its criterion,
and PNG + JSON are written.  The data come from ../shared/data (or $JTLS_DATA); missing data fail.
"""
import importlib.util
import json
from pathlib import Path

from jtls import data as D

SCRIPT = Path(__file__).resolve().parents[1] / "fits" / "thermal_conductivity.py"


def load_script():
    spec = importlib.util.spec_from_file_location("fit_thermal_conductivity", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fit1_on_spam(tmp_path):
    D.require_dataset("thermal_conductivity/olson1993_spam.csv")  # fail, never skip, if missing
    mod = load_script()
    assert mod.main(["--files", "olson1993_spam", "--models", "STM,Eq3,STM+b",
                     "--out", str(tmp_path)]) == 0
    out = json.loads((tmp_path / "thermal_conductivity.json").read_text())
    assert (tmp_path / "thermal_conductivity.png").stat().st_size > 10_000
    spam = out["materials"]["olson1993_spam"]
    reasons = {e["index"]: e["reason"] for e in spam["excluded"]}
    assert reasons[12].startswith("outlier")                  # T = 1.75 K, kappa ~100x low
    assert reasons[10].startswith("outside T window") and reasons[11].startswith("outside T window")
    assert spam["n_points"] == 10 and max(spam["data"]["T"]) <= 1.0
    eq3 = spam["models"]["Eq3"]
    assert eq3["values"]["mu"] >= 0.0 and spam["models"]["STM"]["values"]["mu"] == 0.0
    # nested models: the extra parameter can only lower chi^2
    assert spam["models"]["STM"]["chi2"] >= eq3["chi2"] - 1e-12
    assert spam["models"]["STM"]["chi2"] >= spam["models"]["STM+b"]["chi2"] - 1e-12
    assert spam["preferred"] in ("STM", "Eq3", "STM+b") and spam["criterion"].startswith("AICc")
    assert spam["mu_profile_Eq3"]["mu_68_lo"] <= eq3["values"]["mu"] + 0.01


def test_aicc_and_power_law():
    mod = load_script()
    import numpy as np
    T = np.geomspace(0.1, 1.0, 8)
    p, err = mod.power_law_exponent(T, 3.0 * T**1.8)
    assert abs(p - 1.8) < 1e-12 and err < 1e-10
    # AICc = n ln(chi2/n) + 2k + 2k(k+1)/(n-k-1), k = n_free + 1
    assert abs(mod.aicc(0.5, 10, 2) - (10 * np.log(0.05) + 6 + 24 / 6)) < 1e-12
    assert mod.aicc(0.5, 4, 2) is None
