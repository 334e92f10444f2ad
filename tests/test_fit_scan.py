"""The global scan of a fit along J0/h0 (jtls.fit.scan) and its verdicts.

Data: the sound-velocity shift of the simulated-DOS observable (shipped library,
h0 = 10 K held) at 90 kHz with the Fig. 5a relaxation constant, plus Gaussian
noise of known sigma (fixed seeds).

* Weak data (40 points over 0.03-2 K, sigma = 9e-7): started at J0/h0 = 0.8,
  the bare solver stops in a secondary minimum (checked: its chi^2 is higher
  than that of the fit started at 0.2); with the scan the fit is restarted
  and ends at the same chi^2 as the good start, says so, and -- the grid
  profile staying below the 95 % level up to the library's last ratio --
  is `unidentified` for J0_h0, naming the scan.
* Strong data (40 points over 0.01-5 K, sigma = 1e-7): the scan changes
  nothing, records the profile and the fit recovers the truth within 3
  standard errors.
* The two-minima rule on hand-made profiles.
"""
import numpy as np
import pytest

import jax.numpy as jnp

from jtls import units
from jtls.fit import Model, fit, register_observable
from jtls.fit.scan import _profile_warning
from jtls.simulated.observables import _velocity

OMEGA = units.paper_frequency(90e3)
A_FIG5A = units.paper_frequency(9.4e6)


def _data(T, truth, sigma, seed):
    y = np.asarray(_velocity(jnp.asarray(T), 3e-4, truth, 10.0, A_FIG5A, OMEGA)) + 1e-4
    s = np.full(T.size, sigma)
    return T, y + s * np.random.default_rng(seed).normal(size=T.size), s


def test_restart_from_a_secondary_minimum_and_an_open_profile_is_unidentified():
    data = _data(np.geomspace(0.03, 2.0, 40), 0.275, 9e-7, 2)
    model = Model("velocity", dos="simulated", omega=OMEGA)
    good = fit(model, data, initial={"J0_h0": 0.2})
    bare = fit(model, data, initial={"J0_h0": 0.8}, scan=False)
    assert bare.chi2 > good.chi2 + 0.1, "the bare solver no longer stops in the secondary minimum"
    assert "scan" not in bare.extra
    res = fit(model, data, initial={"J0_h0": 0.8})
    assert res.chi2 == pytest.approx(good.chi2, rel=1e-6)
    assert res["J0_h0"] == pytest.approx(good["J0_h0"], abs=1e-3)
    assert any("secondary minimum" in w and "restarted" in w for w in res.warnings), res.warnings
    for r in (res, good):
        assert r.status == "unidentified" and "J0_h0" in r.unidentified
        assert "global scan" in r.message and "search limit 1" in r.message
        rec = r.extra["scan"][0]
        assert rec["parameter"] == "J0_h0" and rec["delta_chi2"][-1] < rec["level95"]


def test_scan_leaves_a_determined_fit_alone_and_records_the_profile():
    truth = 0.2
    res = fit(Model("velocity", dos="simulated", omega=OMEGA), _data(np.geomspace(0.01, 5.0, 40), truth, 1e-7, 3))
    assert res.status == "ok", res.message
    assert not [w for w in res.warnings if "J0_h0" in w]
    assert abs(res["J0_h0"] - truth) < 3 * res.stderr["J0_h0"]
    rec = res.extra["scan"][0]
    vals, d = np.array(rec["values"]), np.array(rec["delta_chi2"])
    assert np.all(np.diff(vals) > 0) and d.min() == 0.0 and vals[np.argmin(d)] == res["J0_h0"]
    # far from the optimum the profile is far above the 95 % level (the data exclude those ratios)
    assert d[vals < 0.1].min() > 10 * rec["level95"] and d[vals > 0.4].min() > 10 * rec["level95"]


def test_second_minimum_rule():
    lvl = 3.84
    v = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    # a second minimum below the level, behind a barrier above it: named
    msg = _profile_warning("J0_h0", v, [0.0, 2.0, 9.0, 1.5, 4.0, 6.0], lvl, 0)
    assert msg and "second minimum at 0.4" in msg and "not one interval" in msg
    # the same minimum without a barrier above the level: one connected set, no warning
    assert _profile_warning("J0_h0", v, [0.0, 2.0, 3.0, 1.5, 4.0, 6.0], lvl, 0) is None
    # a second minimum above the level: excluded by the data, no warning
    assert _profile_warning("J0_h0", v, [0.0, 2.0, 9.0, 5.0, 8.0, 9.0], lvl, 0) is None


def test_scan_must_name_a_parameter():
    with pytest.raises(ValueError, match="scan names unknown parameter 'k'"):
        register_observable("scan_test_line", lambda T, a: a * T, ("a",), scan={"k": [1.0]}, overwrite=True)


def test_fit_many_gives_each_dataset_the_verdict_of_fit():
    """fit_many runs the same global check as fit (records, warnings, verdict)."""
    from jtls.fit.batch import fit_many
    model = Model("thermal_conductivity", dos="simulated")
    T = np.geomspace(0.06, 1.0, 30)
    y0 = np.asarray(model.predict(jnp.asarray(T), {"B": 1.0, "J0_h0": 0.14, "h0": 10.0}, model.resolve_context()))
    rng = np.random.default_rng(5)
    sets = [(T, y0 * (1 + 0.01 * rng.normal(size=T.size))) for _ in range(2)]
    many = fit_many(model, sets)
    for d, r in zip(sets, many):
        one = fit(model, d)
        assert r.status == one.status == "ok"
        assert r["J0_h0"] == pytest.approx(one["J0_h0"], rel=1e-6)
        assert r.extra["scan"][0]["values"] == pytest.approx(one.extra["scan"][0]["values"])
        assert r.extra["scan"][0]["delta_chi2"] == pytest.approx(one.extra["scan"][0]["delta_chi2"], abs=1e-6)
    assert all("scan" not in r.extra for r in fit_many(model, sets, scan=False))
