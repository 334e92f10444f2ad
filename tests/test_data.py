"""jtls.data: readers of the real files as they are, malformed input, exclusions, paper tables.

Reference values are the numbers printed in the files themselves (../shared/data, read-only) and in
Churkin et al. 2021 (Table II, captions of Figs. 3-6, App. C).  A missing shared dataset is an error
(FileNotFoundError from require_dataset), never a skip.
"""
import math

import numpy as np
import pytest

from jtls import data as D

TC = "thermal_conductivity"
# file -> (rows, first T, first k, last T, last k), as printed in the files
TC_FILES = {
    "anderson1963_teflon_sample1.csv": (14, 0.318, 2.48e-4, 0.732, 1.65e-3),
    "anderson1963_teflon_sample2.csv": (6, 0.124, 3.33e-5, 0.219, 1.45e-4),
    "lawrence2000_kapton_hn.csv": (9, 0.536, 2.88e-3, 5.89, 1.32e-2),
    "olson1993_corian.csv": (13, 0.0583, 1.67e-5, 1.765, 3.68e-2),
    "olson1993_spam.csv": (13, 0.0575, 1.98e-5, 1.75, 2.35e-4),
    "olson1993_stycast1266.csv": (13, 0.0609, 1.93e-4, 1.79, 6.12e-2),
    "olson1993_stycast1266_caco3.csv": (13, 0.0636, 2.48e-5, 1.81, 4.43e-2),
    "olson1993_stycast2651.csv": (12, 0.0621, 1.27e-5, 1.76, 2.63e-2),
    "olson1993_stycast2850.csv": (13, 0.0627, 5.95e-6, 1.72, 1.54e-2),
    "olson1993_vespel_sp22.csv": (14, 0.0703, 7.56e-6, 1.85, 4.42e-3),
}
# file -> (power from the name, Qi at 100 mK, Qi at 1700 mK)
QI_FILES = {
    "qint_minus80dBm.csv": (-80.0, 1.58e7, 986951.0),
    "qint_minus100dBm.csv": (-100.0, 9.19e6, 948314.0),
    "qint_minus120dBm.csv": (-120.0, 5.47e6, 917683.0),
    "qint_minus140dBm.csv": (-140.0, 2.91e6, 884973.0),
    "qint_minus160dBm.csv": (-160.0, 1.64e6, 861599.0),
}


def tc(name):
    return D.read_csv(D.require_dataset(f"{TC}/{name}"))


@pytest.mark.parametrize("name", sorted(TC_FILES))
def test_thermal_conductivity_files_read_as_they_are(name):
    n, t0, k0, t1, k1 = TC_FILES[name]
    ds = tc(name)
    assert len(ds) == n
    assert ds.quantity == "thermal_conductivity" and ds.units == "W/m/K"
    assert (ds.T[0], ds.value[0], ds.T[-1], ds.value[-1]) == (t0, k0, t1, k1)
    assert ds.sigma is None
    # third column k/T kept as extra, consistent with k and T to the printed 3 digits
    np.testing.assert_allclose(ds.extra["k/T"], ds.value / ds.T, rtol=2e-2)
    # title line becomes provenance; the BOM is gone; line numbers start after title + header
    assert ds.provenance and not ds.provenance.startswith("\ufeff")
    assert ds.line[0] == 3 and ds.line[-1] == n + 2
    assert list(ds.index) == list(range(n))


def test_title_with_quoted_commas_and_author():
    ds = tc("anderson1963_teflon_sample1.csv")
    assert "Anderson" in ds.provenance and "1386" in ds.provenance
    assert ds.provenance.startswith("Thermal Conductivity of Some Amorphous")


def test_explicit_options_reproduce_auto_detection():
    p = D.require_dataset(f"{TC}/olson1993_corian.csv")
    auto = D.read_csv(p)
    expl = D.read_csv(p, delimiter=",", decimal=".", skip_title=1,
                      columns={"T": "T(K)", "value": "k(W/m/K)"}, T_unit="K",
                      quantity="thermal_conductivity", material="Corian")
    np.testing.assert_array_equal(auto.T, expl.T)
    np.testing.assert_array_equal(auto.value, expl.value)
    assert expl.material == "Corian"
    # mapping given the other way round (header name -> role) and by index
    other = D.read_csv(p, columns={"T(K)": "T", "k/T": "value"})
    np.testing.assert_array_equal(other.value, auto.extra["k/T"])
    by_index = D.read_csv(p, columns={"T": 0, "value": 2})
    np.testing.assert_array_equal(by_index.value, other.value)


@pytest.mark.parametrize("name", sorted(QI_FILES))
def test_resonator_qi_files(name):
    power, q0, q1 = QI_FILES[name]
    with pytest.warns(D.DataWarning) if name == "qint_minus160dBm.csv" else _no_warning():
        ds = D.read_csv(D.require_dataset(f"resonator_nb_cpw/{name}"))
    assert len(ds) == 17 and ds.quantity == "quality_factor"
    np.testing.assert_allclose(ds.T, np.arange(1, 18) * 0.1, rtol=1e-15)  # 100..1700 mK -> K
    assert ds.value[0] == q0 and ds.value[-1] == q1
    assert any("mK to K" in n for n in ds.notes) and any("decimal separator ','" in n for n in ds.notes)
    assert ds.meta["power_dBm"] == power and ds.meta["power_dBm_source"] == "file name"
    np.testing.assert_array_equal(ds.extra["power_dBm"], np.full(17, power))


class _no_warning:
    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error", D.DataWarning)

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def test_qint_minus160_power_column_disagreement():
    p = D.require_dataset("resonator_nb_cpw/qint_minus160dBm.csv")
    with pytest.warns(D.DataWarning, match="-140 dBm but the file name says -160"):
        by_name = D.read_csv(p)
    assert by_name.meta["power_dBm"] == -160.0
    np.testing.assert_array_equal(by_name.extra["power_dBm_column"], np.full(17, -140.0))
    assert any("decided by the file name" in n for n in by_name.notes)
    with pytest.warns(D.DataWarning, match="decided by the column"):
        by_col = D.read_csv(p, power_dBm="column")
    assert by_col.meta["power_dBm"] == -140.0 and by_col.meta["power_dBm_source"] == "column"
    with pytest.warns(D.DataWarning, match="decided by the user"):
        by_user = D.read_csv(p, power_dBm=-150)
    assert by_user.meta["power_dBm"] == -150.0 and by_user.meta["power_dBm_source"] == "user"
    with pytest.raises(ValueError, match="power_dBm"):
        D.read_csv(p, power_dBm="guess")


def test_quality_factor_to_loss():
    ds = D.read_csv(D.require_dataset("resonator_nb_cpw/qint_minus100dBm.csv"))
    ds = ds.replace(sigma=0.02 * ds.value).window(tmax=1.5)
    loss = ds.as_loss()
    assert loss.quantity == "resonator_loss" and loss.value[0] == 1 / 9.19e6
    np.testing.assert_allclose(loss.sigma, 0.02 / ds.value, rtol=1e-15)
    assert [e.value for e in loss.excluded] == [1 / 1460122.0, 1 / 948314.0]
    with pytest.raises(ValueError, match="quality_factor"):
        loss.as_loss()


def test_frequency_shift_file():
    ds = D.read_csv(D.require_dataset("resonator_nb_cpw/freq_shift.csv"))  # BOM + CRLF
    assert len(ds) == 17 and ds.quantity == "resonator_shift" and ds.units == "1"
    assert ds.T[0] == 0.1 and ds.value[0] == 0.0 and ds.value[1] == 1.11e-07
    assert ds.T[-1] == 1.7 and ds.value[-1] == -4.31e-06
    assert ds.T_ref == 0.1 and any("T_ref" in n for n in ds.notes)


def test_spam_last_point_flagged_and_no_other_file_flagged():
    for name in TC_FILES:
        ds = tc(name)
        fl = ds.flag_outliers()
        if name == "olson1993_spam.csv":
            assert len(fl.excluded) == 1
            e = fl.excluded[0]
            assert (e.index, e.T, e.value) == (12, 1.75, 2.35e-4)
            assert e.reason.startswith("outlier") and "factor" in e.reason
            assert len(fl) == 12 and 1.75 not in fl.T
            # the bad point is ~100x low: its leave-one-out log residual says so
            assert ds.outlier_residuals()[12] < math.log(1 / 50)
        else:
            assert fl.excluded == (), (name, fl.excluded_lines())


def test_outlier_flagging_synthetic():
    rng = np.random.default_rng(1)
    T = np.geomspace(0.05, 2.0, 25)
    k = 1e-3 * T ** 1.8 * np.exp(0.05 * rng.standard_normal(25))
    k[9] *= 4.0  # 4x high, ~28 sigma of the 5% scatter
    ds = D.Dataset(T=T, value=k, quantity="thermal_conductivity")
    fl = ds.flag_outliers()
    assert [e.index for e in fl.excluded] == [9]
    # a 2x deviation passes the robust-sigma test but not the min_factor = 3 test
    k2 = 1e-3 * T ** 1.8 * np.exp(0.05 * rng.standard_normal(25))
    k2[9] *= 2.0
    assert D.Dataset(T=T, value=k2, quantity=TC).flag_outliers().excluded == ()
    assert [e.index for e in D.Dataset(T=T, value=k2, quantity=TC)
            .flag_outliers(min_factor=1.5).excluded] == [9]
    # linear mode for signed relative data (velocity shift)
    v = 1e-4 * np.log(T) + 1e-7 * rng.standard_normal(25)
    v[15] += 5e-5
    fv = D.Dataset(T=T, value=v, quantity="velocity").flag_outliers()
    assert [e.index for e in fv.excluded] == [15]
    # too few points: nothing flagged, a note says why
    small = D.Dataset(T=T[:5], value=k[:5], quantity=TC).flag_outliers()
    assert small.excluded == () and "skipped" in small.notes[-1]


def test_window_lists_exclusions():
    ds = tc("olson1993_stycast2850.csv")
    w = ds.window(0.1, 1.0)
    assert len(w) + len(w.excluded) == len(ds)
    assert np.all((w.T >= 0.1) & (w.T <= 1.0))
    assert [e.index for e in w.excluded] == [0, 1, 10, 11, 12]
    assert [e.T for e in w.excluded] == [0.0627, 0.0824, 1.02, 1.31, 1.72]
    assert all("window" in e.reason for e in w.excluded)
    assert len(w.excluded_lines()) == 5 and "row 11" in w.summary()
    # flag then window: reasons accumulate, indices refer to the original file rows
    sp = tc("olson1993_spam.csv").flag_outliers().window(tmax=1.0)
    assert [(e.index, e.reason.split(":")[0]) for e in sp.excluded] == [
        (12, "outlier"), (10, "outside T window [None, 1.0] K"), (11, "outside T window [None, 1.0] K")]
    assert list(sp.index) == list(range(10)) and list(sp.line) == list(range(3, 13))
    with pytest.raises(ValueError, match="tmin"):
        ds.window(1.0, 0.5)
    ex = ds.exclude([3, 4], "by hand: heater glitch")
    assert [e.index for e in ex.excluded] == [3, 4] and len(ex) == len(ds) - 2
    with pytest.raises(ValueError, match="not in the dataset"):
        ds.exclude([99], "x")


def test_annotated_round_trip(tmp_path):
    p = D.require_dataset("resonator_nb_cpw/qint_minus160dBm.csv")
    with pytest.warns(D.DataWarning):
        ds = D.read_csv(p, material="Nb CPW", omega=2 * math.pi * 5619901372.0)
    ds = ds.window(0.15, 1.65).replace(sigma=ds.window(0.15, 1.65).value * 0.03, T_ref=0.2)
    out = D.write_csv(ds, tmp_path / "qi.csv")
    text = out.read_text()
    assert text.startswith("# jtls-dataset: 1\n# quantity: quality_factor")
    back = D.read_csv(out)
    for f in ("T", "value", "sigma", "index"):
        np.testing.assert_array_equal(getattr(back, f), getattr(ds, f))
    for f in ("quantity", "units", "material", "omega", "T_ref", "source", "provenance", "excluded"):
        assert getattr(back, f) == getattr(ds, f), f
    assert back.meta["power_dBm"] == -160.0 and back.meta["power_dBm_source"] == "file name"
    # an existing file is never replaced unasked
    with pytest.raises(ValueError, match=r"write_csv: .*qi\.csv exists; pass overwrite=True"):
        D.write_csv(ds.window(0.2, 1.0), out)
    assert D.read_csv(out).T.size == ds.T.size
    D.write_csv(ds.window(0.2, 1.0), out, overwrite=True)
    assert D.read_csv(out).T.size == ds.window(0.2, 1.0).T.size
    np.testing.assert_array_equal(back.extra["power_dBm"], ds.extra["power_dBm"])
    np.testing.assert_array_equal(back.extra["power_dBm_column"], ds.extra["power_dBm_column"])
    assert [n for n in ds.notes if not n.startswith("read from")] == \
        [n for n in back.notes if not n.startswith("read from")]
    # user keywords override annotations, with a note
    again = D.read_csv(out, material="other")
    assert again.material == "other" and any("overrides annotation" in n for n in again.notes)


def write(tmp_path, text, name="f.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_plain_formats(tmp_path):
    ds = D.read_csv(write(tmp_path, "T,value,sigma\n0.1,1.0,0.1\n0.2,2.0,0.1\n0.3,2.5,0.2\n"),
                    quantity="velocity")
    np.testing.assert_array_equal(ds.sigma, [0.1, 0.1, 0.2])
    assert any("assumed K" in n for n in ds.notes)
    nohead = D.read_csv(write(tmp_path, "0.1 1.0\n0.2 2.0\n", "w.txt"), quantity="velocity")
    np.testing.assert_array_equal(nohead.T, [0.1, 0.2])
    mk = D.read_csv(write(tmp_path, "T (mK);dv/v\n50;1,5E-5\n75;2,5E-5\n", "mk.csv"))
    np.testing.assert_array_equal(mk.T, [0.05, 0.075])
    np.testing.assert_array_equal(mk.value, [1.5e-5, 2.5e-5])
    assert mk.quantity == "velocity"
    ws = D.read_csv(write(tmp_path, "Run 7, cooldown 2\nT  dv/v\n0.1  1e-5\n0.2  2e-5\n", "ws.txt"))
    assert ws.provenance == "Run 7, cooldown 2" and ws.value[1] == 2e-5
    tab = D.read_csv(write(tmp_path, "Temperatur [K]\tC\n0.1\t3e-6\n0.2\t7e-6\n", "t.tsv"))
    assert tab.quantity == "specific_heat" and tab.value[1] == 7e-6
    forced = D.read_csv(write(tmp_path, "T(mK),v\n100,1\n200,2\n", "x.csv"), T_unit="K",
                        quantity="velocity")
    assert forced.T[0] == 100.0 and any("overrides header unit" in n for n in forced.notes)


BAD = [
    # (file text, reader kwargs, message fragments)
    ("T,value\n0.1,1.0\n0.2,abc\n", {}, ["line 3", "column 2 ('value')", "non-numeric cell 'abc'"]),
    ("T,value\n0.1,1.0\n0.2,nan\n", {}, ["line 3", "column 2", "non-finite value 'nan'"]),
    ("T,value\n0.1,1.0\n0.2,\n", {}, ["line 3", "column 2", "empty cell"]),
    ("T,value\n0.1,1.0\n0.2\n", {}, ["line 3", "mismatched lengths: 1 cells, expected 2"]),
    ("T,value\n0.1,1.0\n0.2,2.0,3.0\n", {}, ["line 3", "mismatched lengths: 3 cells"]),
    ("T,value\n0.1,1.0\n-0.2,2.0\n", {}, ["line 3", "column 1 ('T')", "non-positive temperature -0.2"]),
    ("T,value\n0.0,1.0\n0.2,2.0\n", {}, ["line 2", "column 1", "non-positive temperature"]),
    ("T,value\n0.1,1.0\n0.2,2.0\n0.1,3.0\n", {}, ["line 4", "column 1", "duplicate temperature 0.1 ",
                                                 "also on line 2"]),
    ("Temp (mK),value\n100,1\n0100,2\n", {}, ["line 3", "duplicate temperature"]),
    ("X,value\n0.1,1.0\n", {}, ["line 1", "missing column", "no temperature column"]),
    ("T,value\n0.1,1.0\n", {"columns": {"value": "kappa"}}, ["line 1", "missing column 'kappa'"]),
    ("T,value\n0.1,1.0\n", {"columns": {"sigma": 5}}, ["missing column: index 5"]),
    ("T,sigma\n0.1,1.0\n", {}, ["missing column: no value column"]),
    ("T,k(W/m/K)\n0.1,1e-3\n0.2,-2e-3\n", {}, ["line 3", "column 2", "non-positive value",
                                                "thermal_conductivity must be > 0"]),
    ("T,value,err\n0.1,1.0,0.1\n0.2,2.0,0\n", {}, ["line 3", "column 3 ('err')",
                                                  "non-positive uncertainty"]),
    ("T;value\n0,1;1,5\n0,2;1.234,5\n", {}, ["line 3", "column 2", "decimal separator is ','"]),
    ("T(furlong),value\n0.1,1\n", {}, ["line 1", "column 1", "unknown temperature unit"]),
    ("title\nT,value\nx1,2\n0.2,3\n", {}, ["line 3", "non-numeric cell 'x1'"]),
    ("T,value\n", {}, ["no data row"]),
    ("# omega: fast\nT,value\n0.1,1\n0.2,2\n", {}, ["line 1", "annotation omega"]),
    ("# excluded: 3, 1.0\nT,value\n0.1,1\n", {}, ["line 1", "annotation excluded"]),
    ("T,value\n0.1,1.0\n0.2,inf\n", {}, ["line 3", "non-finite value 'inf'"]),
    ("T,value\n0.1,1.0\n0.2,1_000\n", {}, ["line 3", "non-numeric cell '1_000'"]),
]


@pytest.mark.parametrize("text,kw,frags", BAD)
def test_malformed_files_name_file_line_column(tmp_path, text, kw, frags):
    p = write(tmp_path, text)
    kw = dict(kw)
    kw.setdefault("quantity", None)
    with pytest.raises(ValueError) as ei:
        D.read_csv(p, **kw)
    msg = str(ei.value)
    assert str(p) in msg
    assert "np." not in msg                  # numbers as a user writes them (was np.float64(0.1))
    for f in frags:
        assert f in msg, (f, msg)


def test_first_data_row_malformed_is_not_taken_as_header(tmp_path):
    # a bad first data row must not make the real header a 'title'
    p = write(tmp_path, "T,value\n0.1,abc\n0.2,3\n")
    with pytest.raises(ValueError, match=r"line 2, column 2 \('value'\): non-numeric cell 'abc'"):
        D.read_csv(p)


def test_dataset_constructor_validates():
    with pytest.raises(ValueError, match="mismatched lengths"):
        D.Dataset(T=[0.1, 0.2], value=[1.0])
    with pytest.raises(ValueError, match="mismatched lengths"):
        D.Dataset(T=[0.1, 0.2], value=[1.0, 2.0], sigma=[1.0])
    with pytest.raises(ValueError, match=r"value\[1\] is not finite"):
        D.Dataset(T=[0.1, 0.2], value=[1.0, np.nan])
    with pytest.raises(ValueError, match="not positive"):
        D.Dataset(T=[0.1, -0.2], value=[1.0, 2.0])
    with pytest.raises(ValueError, match="duplicate temperature"):
        D.Dataset(T=[0.1, 0.1], value=[1.0, 2.0])
    with pytest.raises(ValueError, match="unknown quantity"):
        D.Dataset(T=[0.1], value=[1.0], quantity="kappa")
    with pytest.raises(ValueError, match="omega"):
        D.Dataset(T=[0.1], value=[1.0], omega=-1.0)
    ds = D.Dataset(T=[0.2, 0.1], value=[2.0, 1.0])
    assert not ds.T.flags.writeable
    s = ds.sorted()
    assert list(s.T) == [0.1, 0.2] and list(s.index) == [1, 0]


def test_data_locations(tmp_path, monkeypatch):
    monkeypatch.setenv("JTLS_DATA", str(tmp_path))
    assert D.shared_data_dir() == tmp_path
    with pytest.raises(FileNotFoundError, match="JTLS_DATA"):
        D.require_dataset("thermal_conductivity/olson1993_spam.csv")
    (tmp_path / "x").mkdir()
    write(tmp_path / "x", "T,value\n0.1,1\n", "a.csv")
    assert D.require_dataset("x/a.csv") == tmp_path / "x" / "a.csv"
    assert D.shared_data_dir("/elsewhere") == __import__("pathlib").Path("/elsewhere")
    monkeypatch.delenv("JTLS_DATA")
    assert D.shared_data_dir() == D.repo_data_dir().parent.parent / "shared" / "data"
    with pytest.raises(FileNotFoundError):
        D.read_csv(tmp_path / "nope.csv")


def test_paper_table_2():
    t = D.paper_table("churkin2021_table2")
    assert len(t) == 14 and list(t.keys()) == ["J0_K", "T_K", "B", "mu"]
    assert any("Table II" in p for p in t.provenance)
    j2 = t["J0_K"] == 2
    np.testing.assert_array_equal(t["T_K"][j2], [0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0])
    np.testing.assert_array_equal(t["T_K"][~j2], [0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0])
    # printed values (Churkin et al. 2021, Table II)
    assert t["B"][j2][3] == 0.0135 and t["mu"][j2][3] == 0.127
    assert t["B"][~j2][0] == 0.0077 and t["mu"][~j2][-1] == 0.158
    # Sec. III A quotes mu(T = 0.5 K) = 0.1269 (J0 = 2) and 0.1517 (J0 = 3): Table II rounds them
    assert abs(t["mu"][j2][3] - 0.1269) < 5e-4 and abs(t["mu"][~j2][3] - 0.1517) < 5e-4
    with pytest.raises(FileNotFoundError, match="available"):
        D.paper_table("no_such_table")


def test_paper_fit_parameters_and_app_c():
    from jtls.units import paper_frequency
    t = D.paper_table("churkin2021_fit_parameters.csv")
    rows = t.rows()
    f5a = next(r for r in rows if r["figure"] == "Fig. 5" and r["panel"] == "a")
    assert (f5a["freq_Hz"], f5a["A_Hz"], f5a["C"]) == (90e3, 9.4e6, 3.2e-4)
    np.testing.assert_allclose(t["omega_rad_s"], [paper_frequency(f) for f in t["freq_Hz"]])
    np.testing.assert_allclose(t["A_s-1K-3"], [paper_frequency(f) for f in t["A_Hz"]])
    f6 = [(r["x"], r["C"], r["A_Hz"]) for r in rows if r["figure"] == "Fig. 6"]
    assert f6 == [(0.17, 1.9e-5, 7.9e6), (0.32, 2.5e-5, 4.6e6), (0.04, 2.1e-5, 3.5e6),
                  (0.07, 4.5e-5, 3.9e6)]
    assert [r["mu"] for r in rows if r["figure"] in ("Fig. 3", "Fig. 4")] == [0.13, 0.2, 0.04]
    c = D.paper_table("churkin2021_appC")
    val = {(m, q): v for m, q, v in zip(c["material"], c["quantity"], c["value"])}
    # App. C: r = 0.56 C_dip / (1.74 C_el) = 1.51 for BK7 and coverglass (printed to 2 decimals)
    for m in ("BK7", "coverglass"):
        r = val[("relation", "P0J_dip_over_C_dip")] * val[(m, "C_dip")] / (
            val[("relation", "P0J_el_over_C_el")] * val[(m, "C_el")])
        assert abs(r - val[(m, "r")]) < 0.01
