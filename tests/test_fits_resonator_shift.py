"""fits/resonator_shift.py on the real Nb resonator (../shared/data/resonator_nb_cpw):
failed fits are shown as failed, never preferred; warnings reach the JSON.

The dataset is read-only and outside the repository; without it the test fails
(never skips), like every other real-data test (jtls.data.require_dataset)."""
import json
import runpy
import sys
from pathlib import Path

import pytest

from conftest import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]


def test_resonator_shift_script_verdicts(tmp_path, monkeypatch):
    from jtls.data import require_dataset
    require_dataset("resonator_nb_cpw/freq_shift.csv")   # fail, never skip, if missing
    monkeypatch.setattr(sys, "argv", ["resonator_shift.py", "--out", str(tmp_path),
                                      "--data-dir", str(Path(shared_data_dir()))])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(ROOT / "fits" / "resonator_shift.py"), run_name="__main__")
    d = json.loads((tmp_path / "resonator_shift.json").read_text())
    fits = d["fits"]
    failed = [k for k, f in fits.items() if f["status"] != "ok"]
    # the script exits 1 exactly when some fit is not ok
    assert (exc.value.code == 1) == bool(failed), (exc.value.code, failed)
    assert fits["full_stm"]["status"] == "ok"
    assert any("Delta and alpha are nearly degenerate" in w for w in fits["full_stm"]["warnings"])
    for pair in d["mu_test"].values():
        cmp = pair["comparison"]
        assert cmp["preferred"] is None or fits[cmp["preferred"]]["status"] == "ok"
        for name in cmp["failed"]:
            assert name not in cmp["ranked"] and fits[name]["status"] != "ok"
        if pair["p_value"] is None:
            assert pair["not_tested_because"]
    assert (tmp_path / "resonator_shift.png").stat().st_size > 10_000


def test_low_temperature_mu_fit_is_not_ok_when_the_data_do_not_bound_mu(monkeypatch):
    """TLS-only fit of the ten points T <= 1 K with mu free: mu's 68 % upper limit is 0.97 of
    its range [0, 1] and the 95 % one is the search limit 1, with a least-squares standard
    error of 1.05.  That is not a result: the fit must say mu is not determined (it was
    'ok', mu = 0.086 +- 1.05) and present no standard error for it."""
    from jtls.data import require_dataset
    data = Path(require_dataset("resonator_nb_cpw/freq_shift.csv"))   # fail, never skip, if missing
    import math
    from jtls.data import read_csv
    from jtls.fit import Model, fit
    import jtls.resonator as res
    sys.path.insert(0, str(ROOT / "fits"))
    try:
        from resonator_shift import F0_DEFAULT
    finally:
        sys.path.remove(str(ROOT / "fits"))
    ds = read_csv(data)
    omega = float(res.conversions.omega_from_f0(F0_DEFAULT))
    T_ref = ds.T_ref if ds.T_ref is not None else float(ds.T.min())
    m = Model("resonator_shift", omega=omega, T_ref=T_ref, fixed={"alpha": 0.0, "Delta": 15.0},
              initial={"mu": 0.05})
    r = fit(m, ds, tmax=1.0, intervals=["mu"])
    assert r.status == "unidentified" and "mu" in r.unidentified, r.report()
    assert not math.isfinite(r.stderr["mu"])
