"""fits/thermal_conductivity_j0h0.py on two real kappa files: the JSON contract and the failed-fit rule.

The data come from ../shared/data (or $JTLS_DATA); missing data fail, never skip (as in
tests/test_fits_thermal_conductivity.py).  The simulated-DOS library is the one jtls finds
($JTLS_SIMULATED_LIBRARY or data/simulated_dos_library.npz); the assertions hold for any library:

* every material has both fits, each with a status from the engine's vocabulary;
* a fit whose status is not "ok" carries no values, chi2, stderr or intervals (only the
  labelled last iterate), and its parameters have no value, interval or upper limit;
* "constrains J0/h0" is recomputed here from the reported 95 % interval, its kinds and the
  library range, and must match the script's flag;
* mu of Eq3 (when ok) lies in its own 68 % interval, or sits on mu = 0 with an upper limit;
* the Eq3 fit of Stycast 1266 agrees with a direct fit of the same points;
* no legend covers a data point.
"""
import importlib.util
import json
from pathlib import Path

import pytest

from jtls import data as D
from jtls.fit.inference import STATUSES

SCRIPT = Path(__file__).resolve().parents[1] / "fits" / "thermal_conductivity_j0h0.py"
STEMS = ("olson1993_stycast1266", "anderson1963_teflon_sample2")


def load_script():
    spec = importlib.util.spec_from_file_location("fit_thermal_conductivity_j0h0", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    for s in STEMS:
        D.require_dataset(f"thermal_conductivity/{s}.csv")   # fail, never skip, if missing
    tmp = tmp_path_factory.mktemp("j0h0")
    mod = load_script()
    rc = mod.main(["--files", ",".join(STEMS), "--out", str(tmp)])
    out = json.loads((tmp / "thermal_conductivity_j0h0.json").read_text())
    return mod, rc, out, tmp


def test_contract(run):
    _, rc, out, tmp = run
    assert rc == 0 and not out["errors"]
    assert (tmp / "thermal_conductivity_j0h0.png").stat().st_size > 10_000
    assert set(out["materials"]) == set(STEMS)
    lo, hi = out["library"]["ratio_range"]
    assert 0 <= lo < hi          # the library starts at J0/h0 = 0 (exact, no interaction)
    assert out["h0_K"] == 10.0
    for stem, m in out["materials"].items():
        assert set(m["fits"]) == {"Eq3", "simulated"}
        for label, f in m["fits"].items():
            assert f["status"] in STATUSES and f["ok"] == (f["status"] == "ok")
            assert m["statuses"][label] == f["status"]
            assert f["lack_of_fit"] == (f["ok"] and any("lack of fit" in w for w in f["warnings"]))
        assert m["fits"]["simulated"]["observable"] == "thermal_conductivity@simulated"
        assert m["fits"]["simulated"]["fixed"] == {"h0": 10.0}
        assert set(m["fits"]["simulated"]["free"]) == {"B", "J0_h0"}
        assert set(m["fits"]["Eq3"]["free"]) == {"B", "mu"}
        assert isinstance(m["verdict"], str) and "J0/h0" in m["verdict"]
        assert m["J0_h0"]["sentence"] == m["verdict"]
        assert m["J0_h0"]["fit_status"] == m["fits"]["simulated"]["status"]
        assert m["J0_h0"]["library_range"] == [lo, hi]
        # the data window lies inside the library at h0 = 10 K (else it would say so)
        a, b = m["window"]["library_T_range_K"]
        assert a <= min(m["data"]["T"]) and max(m["data"]["T"]) <= b
        assert m["window"]["restricted_by_library"] == any("library" in e["reason"] for e in m["excluded"])
        assert out["figure"]["points_under_legend"][stem] == 0
        assert (stem in out["constraining"]) == m["constrains_J0_h0"]


def test_failed_fits_are_not_results(run):
    _, _, out, _ = run
    for m in out["materials"].values():
        for label, f in m["fits"].items():
            if f["ok"]:
                assert f["values"] is not None and f["chi2"] is not None and m["chi2"][label] == f["chi2"]
                continue
            assert f["values"] is None and f["chi2"] is None and f["intervals"] is None and f["stderr"] is None
            assert m["chi2"][label] is None
            assert "last_iterate_not_a_result" in f
            for p in f["params"].values():
                for key in ("value", "stderr", "low68", "high68", "low95", "high95", "upper_limit95"):
                    assert p.get(key) is None, (label, key)
        if not m["fits"]["simulated"]["ok"]:
            j = m["J0_h0"]
            assert j["value"] is None and j["low95"] is None and j["high95"] is None and not j["constrained"]
            assert j["status"] in ("unconstrained", "failed")
        if not m["fits"]["Eq3"]["ok"]:
            assert m["mu"].get("value") is None and m["mu"].get("p_mu0") is None
        if m["delta_chi2_simulated_minus_Eq3"] is not None:
            assert m["fits"]["Eq3"]["ok"] and m["fits"]["simulated"]["ok"]


def test_constrained_rule(run):
    _, _, out, _ = run
    lo, hi = out["library"]["ratio_range"]
    for m in out["materials"].values():
        j, f = m["J0_h0"], m["fits"]["simulated"]
        iv = (f["intervals"] or {}).get("J0_h0") or {}
        closed = (f["status"] == "ok" and iv.get("low95_kind") == "crossing" and iv.get("high95_kind") == "crossing"
                  and lo < iv["low95"] < iv["high95"] < hi)
        upper = (f["status"] == "ok" and iv.get("low95_kind") == "physical" and iv.get("high95_kind") == "crossing"
                 and iv["high95"] < hi)
        want = closed or upper
        assert m["constrains_J0_h0"] == j["constrained"] == want
        if f["status"] == "ok":
            assert j["value"] == f["values"]["J0_h0"] and lo <= j["value"] <= hi
            assert j["low68"] <= j["value"] <= j["high68"]
            assert j["status"] == ("constrained" if closed else "upper limit" if upper else "68% only")


def test_mu_and_direct_fit(run):
    mod, _, out, _ = run
    for m in out["materials"].values():
        mu = m["mu"]
        if m["fits"]["Eq3"]["ok"]:
            if mu["at_bound"]:
                assert mu["value"] == 0.0 and mu["upper_limit95"] > 0 and mu["p_mu0"] == 1.0
            else:
                assert mu["low68"] <= mu["value"] <= mu["high68"] and 0 <= mu["p_mu0"] <= 1
    # the Eq3 fit of the script is an ordinary fit of the same points
    from jtls.fit import Model, fit
    m = out["materials"]["olson1993_stycast1266"]
    r = fit(Model("thermal_conductivity"), (m["data"]["T"], m["data"]["value"]))
    f = m["fits"]["Eq3"]
    assert r.status == f["status"]
    if r.ok:
        assert r.values["mu"] == pytest.approx(f["values"]["mu"], rel=1e-5, abs=1e-8)
        assert r.chi2 == pytest.approx(f["chi2"], rel=1e-6)


def test_verdict_rule_units():
    mod = load_script()
    lib = (0.02, 1.0)
    ok = {"status": "ok", "ok": True, "unidentified": [], "message": "", "values": {"J0_h0": 0.3},
          "intervals": {"J0_h0": {"low": 0.25, "high": 0.35, "low95": 0.2, "high95": 0.4, "low_kind": "crossing",
                                  "high_kind": "crossing", "low95_kind": "crossing", "high95_kind": "crossing"}}}
    assert mod.j0h0_summary(ok, lib)["constrained"]
    open_hi = json.loads(json.dumps(ok))
    open_hi["intervals"]["J0_h0"].update(high95=1.0, high95_kind="limit")
    s = mod.j0h0_summary(open_hi, lib)
    assert not s["constrained"] and s["status"] == "68% only" and "do not constrain" in s["sentence"]
    failed = {"status": "at_limit", "ok": False, "unidentified": [], "values": None,
              "message": "J0_h0 = 1 runs into its search limit 1"}
    s = mod.j0h0_summary(failed, lib)
    assert s["status"] == "failed" and s["value"] is None and not s["constrained"]
    unid = {"status": "unidentified", "ok": False, "unidentified": ["J0_h0"], "values": None,
            "message": "not determined by the data: J0_h0 -- J0_h0: the reason here; fix them"}
    s = mod.j0h0_summary(unid, lib)
    assert s["status"] == "unconstrained" and "the reason here" in s["sentence"]
