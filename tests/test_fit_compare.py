"""jtls.fit.compare on synthetic kappa(T) data (Eq. 5 with the Eq. 3 DOS vs the STM, mu = 0).

* informative data from mu = 0.3: Eq. 3 wins by AICc with a clear margin, the nested
  boundary test rejects mu = 0;
* data from the STM (mu = 0): the nested test's p-value is not small, and the STM is
  preferred (same chi2 as the Eq. 3 fit held at mu = 0, one parameter less);
* a failed fit (SolverOptions(max_steps=1)) is never ranked or preferred, even when its
  chi2 is made the lowest;
* AICc / BIC / weights against the formulas written out here; no "-0" in the table.
"""
import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

import jtls  # noqa: F401
from jtls.fit import Model, SolverOptions, fit
from jtls.fit.compare import compare, fmt_num
from jtls.fit.inference import boundary_p_value
from jtls.observables import thermal_conductivity

T = np.geomspace(0.05, 1.0, 25)
REL = 0.02


def _data(mu, seed, sigma=True):
    rng = np.random.default_rng(seed)
    y = np.asarray(thermal_conductivity(T, 1.0, mu)) * (1 + REL * rng.standard_normal(T.size))
    return (T, y, REL * y) if sigma else (T, y)


def _pair(data):
    eq3 = fit(Model("thermal_conductivity"), data)
    stm = fit(Model("thermal_conductivity", fixed={"mu": 0.0}), data)
    return eq3, stm


@pytest.fixture(scope="module")
def informative():
    return _data(0.3, 1)


@pytest.fixture(scope="module")
def fits_mu03(informative):
    return _pair(informative)


@pytest.fixture(scope="module")
def fits_null():
    return _pair(_data(0.0, 5)) + _pair(_data(0.0, 5, sigma=False))


def test_true_model_wins_clearly(fits_mu03):
    eq3, stm = fits_mu03
    assert eq3.status == "ok" and stm.status == "ok"
    c = compare({"STM": stm, "Eq3": eq3}, nested={"Eq3": "STM"})
    assert c.preferred == "Eq3" and c.decisive and c.ranked == ["Eq3", "STM"]
    assert c.candidates["STM"].delta_aicc > 100            # 2 % errors, mu = 0.3 over 1.3 decades
    assert c.candidates["Eq3"].weight > 0.999
    t = c.nested["Eq3 vs STM"]
    assert t["p_value"] < 1e-10 and t["distribution"].startswith("1/2 chi2_0")
    assert "<- preferred" in c.table().splitlines()[2]     # first row is the winner


def test_criteria_formulas(fits_mu03):
    eq3, stm = fits_mu03
    c = compare({"Eq3": eq3, "STM": stm})
    N = eq3.n_points
    for lab, r, k in (("Eq3", eq3, 2), ("STM", stm, 1)):        # absolute sigma: -2 ln L = chi2
        cand = c.candidates[lab]
        assert cand.k == k
        assert cand.aicc == pytest.approx(r.chi2 + 2 * k + 2 * k * (k + 1) / (N - k - 1), rel=1e-12)
        assert cand.bic == pytest.approx(r.chi2 + k * math.log(N), rel=1e-12)
    # without sigma: -2 ln L = N ln(chi2/N), k = free + 1
    e2 = dataclasses.replace(eq3, absolute_sigma=False, chi2=0.02)
    s2 = dataclasses.replace(stm, absolute_sigma=False, chi2=0.03)
    c2 = compare({"Eq3": e2, "STM": s2})
    a_e = N * math.log(0.02 / N) + 6 + 24 / (N - 4)
    a_s = N * math.log(0.03 / N) + 4 + 12 / (N - 3)
    assert c2.candidates["Eq3"].aicc == pytest.approx(a_e, rel=1e-12)
    assert c2.candidates["STM"].aicc == pytest.approx(a_s, rel=1e-12)
    w = 1 / (1 + math.exp(-0.5 * (a_s - a_e)))
    assert c2.candidates["Eq3"].weight == pytest.approx(w, rel=1e-12)


def test_null_hypothesis_not_rejected(fits_null):
    eq3, stm, eq3_ns, stm_ns = fits_null
    for e, s in ((eq3, stm), (eq3_ns, stm_ns)):
        assert e.status == "ok" and s.status == "ok", (e.status, e.message)
        c = compare({"Eq3": e, "STM": s}, nested={"Eq3": {"null": "STM", "parameter": "mu"}})
        t = c.nested["Eq3 vs STM"]
        assert t["p_value"] > 0.05, t                         # seeded data from mu = 0
        assert t["delta_chi2"] >= 0.0
        # the p-value is the boundary mixture of jtls.fit.inference, F(1, dof) without sigma
        assert t["p_value"] == pytest.approx(boundary_p_value(t["statistic"], e.absolute_sigma, e.dof))
        if t["statistic"] == 0:
            assert t["p_value"] == 1.0
        if "mu" in e.at_bound:                                 # same chi2, one parameter more
            assert c.preferred == "STM"
        text = c.table()
        assert "-0 " not in text and "-0.0" not in text and "= -0" not in text
    assert fits_null[2].absolute_sigma is False
    c = compare({"Eq3": eq3_ns, "STM": stm_ns}, nested={"Eq3": "STM"})
    assert c.nested["Eq3 vs STM"]["distribution"] == "1/2 F(1, dof) mixture"


def test_failed_fit_never_preferred(informative, fits_mu03):
    eq3, stm = fits_mu03
    bad = fit(Model("thermal_conductivity"), informative, options=SolverOptions(max_steps=1))
    assert bad.status != "ok"
    # make the failed fit the one with the lowest chi2: it must still not compete
    bad = dataclasses.replace(bad, chi2=0.5 * eq3.chi2)
    c = compare({"bad": bad, "Eq3": eq3, "STM": stm}, nested={"bad": "STM"})
    assert c.preferred == "Eq3"
    assert "bad" not in c.ranked and c.failed == {"bad": bad.status}
    assert c.candidates["bad"].weight is None and c.candidates["bad"].delta_aicc is None
    assert c.nested["bad vs STM"]["p_value"] is None
    assert any("lowest chi2" in w for w in c.warnings)
    text = c.table()
    assert f"failed (never preferred): bad [{bad.status}]" in text
    assert "bad" not in text.split("preferred (lowest AICc):")[1].split("\n")[0]
    only_bad = compare({"bad": bad})
    assert only_bad.preferred is None and only_bad.ranked == []
    one = compare({"bad": bad, "STM": stm})          # one ok fit: preferred by default, not decisive
    assert one.preferred == "STM" and not one.decisive and "only fit with status ok" in " ".join(one.warnings)
    assert "the only ranked fit" in one.table()
    assert only_bad.to_dict()["preferred"] is None


def test_rounding_noise_and_refusals(fits_mu03):
    eq3, stm = fits_mu03
    assert fmt_num(-1e-12, ".4f") == "0.0000" and fmt_num(-0.0) == "0" and fmt_num(None) == "--"
    assert fmt_num(-0.25, ".3g") == "-0.25"
    twin = dataclasses.replace(stm, chi2=eq3.chi2 * (1 - 1e-13))    # null "better" by rounding only
    c = compare({"Eq3": eq3, "STM": twin}, nested={"Eq3": "STM"})
    t = c.nested["Eq3 vs STM"]
    assert t["delta_chi2"] == 0.0 and t["p_value"] == 1.0
    assert "Delta chi2 = 0," in c.table()
    worse = dataclasses.replace(stm, chi2=0.5 * eq3.chi2)            # full model clearly worse: missed optimum
    c = compare({"Eq3": eq3, "STM": worse}, nested={"Eq3": "STM"})
    assert c.nested["Eq3 vs STM"]["p_value"] is None and c.warnings
    other = dataclasses.replace(stm, n_points=stm.n_points - 1)
    with pytest.raises(ValueError, match="same data"):
        compare({"Eq3": eq3, "STM": other})
    shifted = dataclasses.replace(stm, data={k: {**v, "y": list(np.asarray(v["y"]) * 2)}
                                             for k, v in stm.data.items()})
    with pytest.raises(ValueError, match="same data"):
        compare({"Eq3": eq3, "STM": shifted})
    with pytest.raises(ValueError, match="unknown label"):
        compare({"Eq3": eq3, "STM": stm}, nested={"Eq3": "nope"})
    # F test (boundary=False) without sigma, against scipy directly
    e2 = dataclasses.replace(eq3, absolute_sigma=False, chi2=1.0, dof=23)
    s2 = dataclasses.replace(stm, absolute_sigma=False, chi2=1.2)
    t = compare({"Eq3": e2, "STM": s2}, nested={"Eq3": {"null": "STM", "boundary": False}}).nested["Eq3 vs STM"]
    assert t["p_value"] == pytest.approx(stats.f.sf(0.2 / (1.0 / 23), 1, 23), rel=1e-12)


def test_annotation_corner_avoids_data():
    """jtls.fit.plot.emptiest_corner (used for legends / text boxes next to compare() results)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from jtls.fit.plot import CORNERS, emptiest_corner
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 50)
    ax.plot(x, x, "o")                          # diagonal: upper left and lower right are empty
    ax.autoscale_view()
    assert emptiest_corner(ax, x, x) in ("upper left", "lower right")
    ax2 = fig.add_subplot(2, 2, 4)
    xs = np.concatenate([np.linspace(0, 1, 30), np.linspace(0, 0.3, 10)])
    ys = np.concatenate([np.full(30, 0.9), np.linspace(0, 0.3, 10)])   # top row and lower-left cluster
    ax2.plot(xs, ys, "o")
    ax2.autoscale_view()
    assert emptiest_corner(ax2, xs, ys) == "lower right"
    assert set(CORNERS) == {"upper left", "upper right", "lower left", "lower right"}
    plt.close(fig)
