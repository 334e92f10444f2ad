"""Fitting with the simulated DOS (issue 11): Model(dos="simulated") and jtls fit --dos simulated.

Uses the shipped library (data/simulated_dos_library.npz).  Recovery is checked
for a J0/h0 between two grid points (so the cubic interpolation across the
grid is exercised), with the coverage of the reported errors over noise draws;
the exact h0 scaling gives an invariant: the same curve on a temperature
axis stretched by lambda is fitted by h0 -> lambda h0 with the same J0/h0.
"""
import json
import math

import numpy as np
import pytest

import jtls
from jtls.data import Dataset
from jtls.fit import Model, fit
from jtls.fit.batch import fit_many
from jtls.simulated.dos import load_library

OMEGA = jtls.units.paper_frequency(90e3)
A = jtls.units.paper_frequency(9.4e6)


@pytest.fixture(scope="module")
def lib():
    return load_library()


def _between(lib, k):
    """The midpoint between grid ratios k and k+1 (counted from the middle of the grid)."""
    r = lib.ratios
    i = len(r) // 2 + k
    return float(0.5 * (r[i] + r[i + 1]))


def test_model_parameters_and_defaults():
    m = Model("velocity", dos="simulated", omega=OMEGA)
    assert m.param_names == ["C", "J0_h0", "h0", "A", "offset"]
    assert m.fixed == {"h0": 10.0}
    m2 = Model("thermal_conductivity", dos="simulated", free=["h0"])
    assert m2.param_names == ["B", "J0_h0", "h0"] and m2.fixed == {}
    with pytest.raises(ValueError, match="dos"):
        Model("velocity", dos="gaussian", omega=OMEGA)
    with pytest.raises(ValueError, match="not for 'tunnel_splitting'"):
        Model("tunnel_splitting", dos="simulated")
    r = Model("resonator_shift", dos="simulated", omega=3e10)
    assert r.param_names == ["F_delta0", "J0_h0", "h0", "Delta", "alpha", "offset"]


def test_data_outside_library_refused_naming_T(lib):
    m = Model("thermal_conductivity", dos="simulated")
    lo, hi = lib.T_range(10.0)
    T = np.geomspace(lo / 3, 1.0, 12)
    with pytest.raises(ValueError, match="'T'.*outside"):
        fit(m, Dataset(T=T, value=T ** 2))
    T = np.geomspace(0.1, hi * 2, 12)
    with pytest.raises(ValueError, match="'T'.*outside"):
        fit(m, Dataset(T=T, value=T ** 2))
    T = np.geomspace(0.1, 1.0, 12)
    with pytest.raises(ValueError, match="'T_ref'.*outside"):
        fit(Model("velocity", dos="simulated", omega=1e-6, T_ref=lo / 3), Dataset(T=T, value=np.log(T)))
    with pytest.raises(ValueError, match="'h0' must be finite and > 0"):
        fit(Model("thermal_conductivity", dos="simulated"), Dataset(T=T, value=T ** 2), fix={"h0": -1.0})


def test_velocity_recovery_between_grid_points_with_calibrated_errors(lib):
    r_true = _between(lib, 0)
    T = np.geomspace(0.03, 2.0, 40)
    m = Model("velocity", dos="simulated", omega=OMEGA)
    y = np.asarray(m.observable.func(T, 1e-3, r_true, 10.0, A, OMEGA, 1.0))
    rng = np.random.default_rng(11)
    sd = 0.003 * np.ptp(y)
    n = 24
    sets = [Dataset(T=T, value=y + sd * rng.standard_normal(T.size), omega=OMEGA) for _ in range(n)]
    res = fit_many(m, sets, start="first")
    assert all(r.status == "ok" for r in res), [r.status for r in res]
    est = np.array([r.values["J0_h0"] for r in res])
    se = np.array([r.stderr["J0_h0"] for r in res])
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    pulls = (est - r_true) / se
    # Gaussian pulls: within 2 sigma with probability 0.954; with n = 24 the count is >= 20 except
    # with probability < 1 %.  The mean is unbiased within 3 standard errors of the mean.
    assert np.sum(np.abs(pulls) < 2) >= 20
    assert abs(np.mean(est) - r_true) < 3 * np.std(est, ddof=1) / math.sqrt(n)
    # the reported error describes the scatter (ratio within the chi distribution's 99 % band for n = 24)
    assert 0.7 < np.std(est, ddof=1) / np.median(se) < 1.4


def test_h0_scaling_invariant_of_the_fit(lib):
    """n(T, E; r, lambda h0) = n(T/lambda, E/lambda; r, h0)/lambda: kappa(T) on a stretched axis is fitted
    by lambda h0 and the same J0/h0 (any constant factor of kappa is absorbed by the free amplitude B)."""
    r_true = _between(lib, -2)
    T = np.geomspace(0.05, 1.5, 25)
    m = Model("thermal_conductivity", dos="simulated", free=["h0"])
    y = np.asarray(m.observable.func(T, 2.0, r_true, 10.0))
    lam = 1.7
    f1 = fit(m, Dataset(T=T, value=y))
    f2 = fit(m, Dataset(T=lam * T, value=y * lam ** 3))
    assert f1.status in ("ok", "unidentified")
    for f in (f1, f2):
        assert f.chi2 < 1e-8
    assert f2.values["J0_h0"] == pytest.approx(f1.values["J0_h0"], rel=1e-5)
    assert f2.values["h0"] == pytest.approx(lam * f1.values["h0"], rel=1e-5)


def test_cli_kappa_simulated_json(tmp_path, lib):
    r_true = _between(lib, 1)
    T = np.geomspace(0.05, 1.5, 25)
    m = Model("thermal_conductivity", dos="simulated")
    y = np.asarray(m.observable.func(T, 0.5, r_true, 10.0)) * np.exp(
        0.01 * np.random.default_rng(3).standard_normal(T.size))
    p = tmp_path / "kappa.csv"
    p.write_text("# quantity: thermal_conductivity\nT_K,kappa\n" + "".join(f"{t:.17g},{v:.17g}\n" for t, v in zip(T, y)))
    from jtls.cli import main
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["fit", str(p), "--observable", "thermal_conductivity", "--dos", "simulated", "--json"])
    out = json.loads(buf.getvalue())
    assert set(out["parameters"]) == {"B", "J0_h0", "h0"}
    assert out["status"] == "ok" and rc == 0
    assert out["parameters"]["h0"]["stderr"] is None            # held, not a result
    j = out["parameters"]["J0_h0"]
    assert abs(j["value"] - r_true) < 3 * j["stderr"]
    # the library's own error rides along (jackknife over its passes), beside the fit's
    le = out["result"]["extra"]["library_error"]
    assert le["replicas"] == lib.n_replicas >= 4 and 0 < le["sigma"]["J0_h0"] < 0.05    # below the grid step


def test_library_spread_is_the_linear_response_of_refits(lib):
    """library_spread: the optimum's shift under replica k of the library equals, to first order, the
    shift of a refit of the main library to the data moved by the opposite change of the curve
    (log residuals: y -> y f / f_k).  Checked by real refits for three replicas; the spread is the
    jackknife formula over the shifts.  And its refusals."""
    from jtls.simulated.uncertainty import library_spread
    T = np.geomspace(0.05, 2.0, 30)
    m = Model("thermal_conductivity", dos="simulated")
    y = np.asarray(m.observable.func(T, 1.0, 0.15, 10.0)) * np.exp(0.01 * np.random.default_rng(5).standard_normal(30))
    res = fit(m, Dataset(T=T, value=y))
    assert res.ok
    out = library_spread(m, res)
    K = lib.n_replicas
    assert out["replicas"] == K >= 4
    B, r = res.values["B"], res.values["J0_h0"]
    f = np.asarray(jtls.thermal_conductivity_dos(T, lib.dos(r, 10.0))) / B
    for k in range(3):
        fk = np.asarray(jtls.thermal_conductivity_dos(T, lib.replica(k).dos(r, 10.0))) / B
        moved = fit(m, Dataset(T=T, value=y * f / fk))
        shift = out["shifts"]["J0_h0"][k]
        assert moved.values["J0_h0"] - r == pytest.approx(shift, rel=0.1, abs=2e-5)
    s = np.asarray(out["shifts"]["J0_h0"])
    assert out["sigma"]["J0_h0"] == pytest.approx(math.sqrt((K - 1) / K * np.sum((s - s.mean()) ** 2)))
    with pytest.raises(ValueError, match="'model'"):
        library_spread(Model("thermal_conductivity"), res)
    nolib = dataclasses_replace(lib)
    with pytest.raises(ValueError, match="no jackknife replicas"):
        library_spread(m, res, library=nolib)


def test_library_error_of_an_upper_limit_matches_replica_profiles(lib):
    """A kappa fit on the physical bound J0/h0 = 0 (data: the J0/h0 = 0 curve times T^0.03, 1 %
    noise): library_spread gives the library error of the upper limits (68 %, 95 %) by linear
    response.  Reference: the limits recomputed from the exact profile of every replica library
    (B solved in closed form, ln kappa = -ln B + ln g; a grid in J0/h0 of step 2.5e-4, linear
    interpolation of the crossing), their jackknife spread.  Agreement within 15 %: the replicas
    move the 95 % limit by up to 1.6e-3 of 9e-3, so second-order terms of ~10 % are expected."""
    from jtls.fit.profile import level_delta
    from jtls.simulated.pack import jackknife_sd
    from jtls.simulated.uncertainty import library_error, library_spread
    T = np.geomspace(0.06, 1.0, 25)
    m = Model("thermal_conductivity", dos="simulated")
    y = np.asarray(jtls.thermal_conductivity_dos(T, lib.dos(0.0, 10.0))) * T ** 0.03
    y = y * np.exp(0.01 * np.random.default_rng(1).standard_normal(T.size))
    res = fit(m, (T, y))
    assert res.status == "ok" and res.at_bound == ["J0_h0"]
    out = library_spread(m, res)
    assert math.isnan(out["sigma"]["J0_h0"]) and "limits" in out["notes"][0]
    dof = T.size - 2
    xs = np.linspace(0.0, 0.02, 81)

    def limits(L):
        c = []
        for x in xs:
            r = np.log(y) - np.log(np.asarray(jtls.thermal_conductivity_dos(T, L.dos(x, 10.0))))
            c.append(np.sum((r - r.mean()) ** 2))
        D = dof * (np.asarray(c) / min(c) - 1)
        ends = {}
        for key, lvl in (("high", level_delta("68", dof)), ("high95", level_delta("95", dof))):
            i = int(np.argmax(D > lvl))
            ends[key] = xs[i - 1] + (lvl - D[i - 1]) * (xs[i] - xs[i - 1]) / (D[i] - D[i - 1])
        return ends
    main = limits(lib)
    assert main["high95"] == pytest.approx(res.intervals["J0_h0"]["high95"], rel=0.05)
    reps = [limits(lib.replica(k)) for k in range(lib.n_replicas)]
    for key in ("high", "high95"):
        brute = jackknife_sd(np.array([r[key] - main[key] for r in reps]))
        assert out["limits"]["J0_h0"][key] == pytest.approx(brute, rel=0.15), key
    assert "upper limit (95 %) +-" in library_error(m, res)[1]


def dataclasses_replace(lib):
    import dataclasses
    return dataclasses.replace(lib, jk_delta_log_F=None)


def test_energy_integrals_on_library_knots(lib, monkeypatch):
    """The simulated observables integrate in q on the library's knots (SimulatedDOS.q_nodes; both
    integrals of Eqs. (7) and (8)).  Converged: 4 and 8 Gauss nodes per knot interval agree to 1e-9.  Against the generic quadrature of
    velocity_shift_dos: 5e-8 for the smooth J0/h0 = 0 Gaussian; for interacting ratios the generic
    panels straddle the spline's knots and are good to ~5e-6 only, so 2e-5 there.  Its h0 derivative
    (the integral's end e_max scales with h0) matches central differences."""
    import jax
    import jax.numpy as jnp
    import jtls.simulated.dos as SD
    from jtls.simulated import observables as SO
    T = np.geomspace(0.006, 15.0, 40)
    # (at J0/h0 = 0 the generic relaxation panels are good to ~2e-8 of that part, measured below
    # against these nodes, which are converged to 1e-11: hence 5e-8 of the curve there)
    for r, tol in ((0.0, 5e-8), (0.2, 2e-5), (0.7, 2e-5)):
        for T_ref in (1.0, 0.05):
            new = np.asarray(SO._velocity(T, 1e-3, r, 10.0, A, OMEGA, T_ref))
            gen = np.asarray(jtls.velocity_shift_dos(T, lib.dos(r, 10.0), A, OMEGA, 1e-3, T_ref))
            assert np.max(np.abs(new - gen)) < tol * np.max(np.abs(gen)), (r, T_ref)
    four = np.asarray(SO._velocity(T, 1e-3, 0.2, 10.0, A, OMEGA, 1.0))
    monkeypatch.setattr(SD, "Q_ORDER", 8)
    SD._tables.cache_clear()
    eight = np.asarray(SO._velocity(T, 1e-3, 0.2, 10.0, A, OMEGA, 1.0))
    monkeypatch.undo()
    SD._tables.cache_clear()
    assert np.max(np.abs(eight - four)) < 1e-9 * np.max(np.abs(four))
    # kappa (1/n) and C_v (n) on the same nodes: against the generic quadratures of Eqs. (5), (6), and
    # converged (the 1/n of kappa grows like exp(E^2/8h0^2) towards e_max: ~2e-7 at T > 5 K)
    for r, tol in ((0.0, 1e-6), (0.2, 2e-5), (0.7, 2e-5)):
        d = lib.dos(r, 10.0)
        for ours, generic in ((SO._kappa(T, 1.0, r, 10.0), jtls.thermal_conductivity_dos(T, d)),
                              (SO._cv(T, 1.0, r, 10.0), jtls.specific_heat_dos(T, d))):
            assert np.max(np.abs(np.asarray(ours) / np.asarray(generic) - 1)) < tol, r
    k4, c4 = np.asarray(SO._kappa(T, 1.0, 0.2, 10.0)), np.asarray(SO._cv(T, 1.0, 0.2, 10.0))
    monkeypatch.setattr(SD, "Q_ORDER", 8)
    SD._tables.cache_clear()
    k8, c8 = np.asarray(SO._kappa(T, 1.0, 0.2, 10.0)), np.asarray(SO._cv(T, 1.0, 0.2, 10.0))
    monkeypatch.undo()
    SD._tables.cache_clear()
    assert np.max(np.abs(k8 / k4 - 1)) < 1e-6 and np.max(np.abs(c8 / c4 - 1)) < 1e-8
    # the relaxation integral of Eq. (8) on the same nodes, A over six decades (the crossover
    # E* = (omega/A)^(1/3) from 3 K to 30 mK): against the generic quadrature, and converged
    for r, tol in ((0.0, 2e-7), (0.2, 2e-5)):
        d = lib.dos(r, 10.0)
        for a in A * np.array([1e-3, 1.0, 1e3]):
            ours = np.asarray(d.relaxation_integral(T, a, OMEGA))
            gen = -np.asarray(jtls.velocity_shift_relaxation_dos(T, d, a, OMEGA, 1.0))
            assert np.max(np.abs(ours - gen)) < tol * np.max(np.abs(gen)), (r, a)
    rel4 = [np.asarray(lib.dos(0.2, 10.0).relaxation_integral(T, a, OMEGA)) for a in A * np.array([1e-3, 1e3])]
    monkeypatch.setattr(SD, "Q_ORDER", 8)
    SD._tables.cache_clear()
    rel8 = [np.asarray(lib.dos(0.2, 10.0).relaxation_integral(T, a, OMEGA)) for a in A * np.array([1e-3, 1e3])]
    monkeypatch.undo()
    SD._tables.cache_clear()
    for a4, a8 in zip(rel4, rel8):
        assert np.max(np.abs(a8 - a4)) < 1e-9 * np.max(np.abs(a8))
    f = jax.jit(lambda h0: SO._velocity(T, 1e-3, 0.2, h0, A, OMEGA, 1.0))
    d = np.asarray(jax.jacfwd(f)(jnp.asarray(10.0)))
    fd = (np.asarray(f(10.0 + 1e-4)) - np.asarray(f(10.0 - 1e-4))) / 2e-4
    assert np.max(np.abs(d - fd)) < 1e-7 * np.max(np.abs(fd))


def test_free_h0_with_data_outside_the_library_at_the_start_is_an_input_error():
    """With h0 free the T/h0 window of the library moves with h0, but the fit starts at h0 = 10 K:
    data up to 50 K had no finite prediction there and ended as status 'nan'.  They are refused
    naming the start values that would cover them; a start inside runs; a span wider than the
    library's window at any h0 is refused outright."""
    from jtls.fit import Model, fit
    T = np.geomspace(0.5, 50.0, 30)
    y = 0.1 * T ** 2
    m = Model("thermal_conductivity", dos="simulated", free=["h0"])
    with pytest.raises(ValueError, match=r"starts at h0 = 10 K, where temperatures 0.5 .. 50 K leave the "
                                         r"library .*start h0 inside \[25, 1000\] K"):
        fit(m, (T, y))
    assert fit(m, (T, y), initial={"h0": 30.0}).status != "nan"
    with pytest.raises(ValueError, match="span a factor 1e\\+04, more than the simulated-DOS library covers"):
        fit(m, (np.geomspace(0.005, 50.0, 10), np.ones(10)))
