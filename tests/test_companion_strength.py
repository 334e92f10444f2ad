"""Carruzzo & Yu 2020 strength C from material constants; Churkin 2021 App. C ratio r.

Reference values: the papers' own printed numbers (Table I, text) and
closed-form arithmetic done here independently with the math module.
"""
import csv
import math
import os

import numpy as np
import pytest
import jax

import jtls  # noqa: F401
from jtls.companion import strength as S
from jtls.units import EV, HBAR, K_B

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = S.load_table()


def _row(name):
    i = list(TABLE["glass"]).index(name)
    return {k: TABLE[k][i] for k in S.TABLE_COLUMNS}


def test_table_has_ten_glasses_as_printed():
    assert list(TABLE["glass"]) == ["SiO2", "BK7", "SF4", "SF57", "SF59", "V52", "BALNA", "LAT",
                                    "Zn-glass", "PMMA"]
    assert _row("SiO2")["rho_kg_m3"] == 2200 and _row("PMMA")["v_o_A3"] == 138.4


def test_sio2_reproduces_printed_C_th():
    # Table I: SiO2 rho = 2200, v = 4163, v_o = 45.3 A^3, T_D = 348 K -> C_th = 2.9e-4.
    r = _row("SiO2")
    C = float(S.tunneling_strength(r["rho_kg_m3"], r["v_m_s"], S.angstrom3(r["v_o_A3"]), r["T_D_K"]))
    assert abs(C * 1e4 - 2.9) <= 0.05
    # independent arithmetic of Eqs. 5, 12, 13 with the math module
    rv2vo = 2200 * 4163**2 * 45.3e-30
    go = math.sqrt(2) / 3 * math.sqrt(rv2vo * K_B * 348)
    gm = 4 / 3 * (2 / (9 * math.pi)) ** (2 / 3) * rv2vo
    assert C == pytest.approx(2.5**2 / 3 * (go / gm) ** 4, rel=1e-12)


def test_debye_temperature_matches_every_printed_row():
    # The paper's k_B T_D = hbar v (6 pi^2 / v_o)^(1/3) reproduces its T_D column to < 1 K.
    TD = np.asarray(S.debye_temperature(TABLE["v_m_s"], S.angstrom3(TABLE["v_o_A3"])))
    assert np.max(np.abs(TD - TABLE["T_D_K"])) < 1.0


def _C_math(rho, v, vo_A3, TD):
    """Eqs. 5, 12, 13 of Carruzzo & Yu with the math module (independent of jtls)."""
    rv2vo = rho * v**2 * vo_A3 * 1e-30
    go = math.sqrt(2) / 3 * math.sqrt(rv2vo * K_B * TD)
    gm = 4 / 3 * (2 / (9 * math.pi)) ** (2 / 3) * rv2vo
    return 2.5**2 / 3 * (go / gm) ** 4


def test_rows_whose_printed_C_th_follows_and_rows_where_it_does_not():
    """Recomputing Eq. 12 from the printed inputs: six rows agree with the printed
    C_th to its rounding; BK7, SF4, SF59 and BALNA do not (reported, not adjusted).

    Regression part: SF4's 2.34e-4 is this code's own output, pinned.  The
    independent check it stands in for: the same number from the paper's
    Eqs. 5, 12, 13 done with the math module (the formula that reproduces the
    printed C_th of SiO2 and five more rows), for every row -- so the
    disagreement with the printed 0.9 is in the paper's table, not in jtls."""
    C = np.asarray(S.tunneling_strength(TABLE["rho_kg_m3"], TABLE["v_m_s"],
                                        S.angstrom3(TABLE["v_o_A3"]), TABLE["T_D_K"])) * 1e4
    agree = np.abs(C - TABLE["C_th_1e4"]) <= 0.05 + 0.02 * TABLE["C_th_1e4"]
    assert set(TABLE["glass"][~agree]) == {"BK7", "SF4", "SF59", "BALNA"}
    i = list(TABLE["glass"]).index("SF4")
    assert C[i] == pytest.approx(2.34, abs=0.01)  # regression; printed 0.9
    ref = [_C_math(*(float(TABLE[k][j]) for k in ("rho_kg_m3", "v_m_s", "v_o_A3", "T_D_K"))) * 1e4
           for j in range(len(C))]
    np.testing.assert_allclose(C, ref, rtol=1e-12)
    # the formula itself reproduces printed values: SiO2, SF57, V52, LAT, Zn-glass, PMMA
    assert np.sum(agree) == 6 and agree[list(TABLE["glass"]).index("SiO2")]


def test_gamma_scale_of_about_half_an_eV_for_sio2():
    # Text: rho = 2200, v = 4200, v_o = 45e-30 m^3, hbar omega_D = 350 K gives
    # sqrt(rho v^2 v_o hbar omega_D) ~ 0.57 eV; gamma_o carries the extra sqrt(2)/3.
    go = float(S.gamma_o(2200.0, 4200.0, 45e-30, 350.0))
    assert go * 3 / math.sqrt(2) / EV == pytest.approx(0.57, abs=0.005)
    assert float(S.gamma_max(1.0, 1.0, 1.0)) == pytest.approx(0.228, abs=0.0005)  # "~0.23"


def test_C_equals_Pbar_gamma_eff_squared_over_rho_v2():
    rho, v, vo, TD = 2510.0, 4195.0, 41.8e-30, 360.0
    P = float(S.dos_pbar(rho, v, vo, TD))
    geff = 2.5 * float(S.gamma_o(rho, v, vo, TD))
    assert float(S.tunneling_strength(rho, v, vo, TD)) == pytest.approx(P * geff**2 / (rho * v**2), rel=1e-12)
    # P-bar in J^-1 m^-3: order 1e45 J^-1 m^-3 (~1e44-1e46 in glasses)
    assert 1e44 < P < 1e46


def test_derived_quantities_and_high_temperature_limit():
    C = 3e-4
    assert float(S.internal_friction(C)) == pytest.approx(math.pi / 2 * 3e-4)
    assert float(S.velocity_slope_relaxation(C)) == -1.5e-4
    dv = np.asarray(S.velocity_shift_relaxation(np.array([0.1, 1.0, 10.0]), C, T_o=1.0))
    assert np.allclose(np.diff(dv) / np.log(10), -C / 2)
    # Eq. 15: C = 1/6 at high T gives l/lambda = 3/pi^2 ~ 0.3
    assert float(S.mean_free_path_ratio(S.high_temperature_strength())) == pytest.approx(3 / math.pi**2)
    assert float(S.mean_free_path_ratio(3e-4)) == pytest.approx(1 / (2 * math.pi**2 * 3e-4))


def test_units_and_gradients():
    assert float(S.angstrom3(45.3)) == pytest.approx(45.3e-30)
    # T_D inverts hbar omega_D = k_B T_D
    TD = float(S.debye_temperature(4163.0, 45.3e-30))
    assert TD * K_B == pytest.approx(HBAR * 4163.0 * (6 * math.pi**2 / 45.3e-30) ** (1 / 3))
    # At fixed T_D, C ~ (T_D / (rho v^2 v_o))^2 so dlnC/dln rho = -2 (jax.grad works)
    f = lambda lr: jax.numpy.log(S.tunneling_strength(jax.numpy.exp(lr), 4163.0, 45.3e-30, 348.0))
    assert float(jax.grad(f)(math.log(2200.0))) == pytest.approx(-2.0, rel=1e-10)


def test_bad_input_names_argument():
    with pytest.raises(ValueError, match="rho"):
        S.tunneling_strength(-1.0, 4000.0, 4e-29, 300.0)
    with pytest.raises(ValueError, match="v_o"):
        S.gamma_max(2200.0, 4000.0, float("nan"))
    with pytest.raises(ValueError, match="exactly one"):
        S.interaction_ratio(C_dip=1e-3, tan_delta=1e-3, C_el=1e-4)


def test_load_table_of_a_directory_or_missing_file_is_a_value_error_naming_it(tmp_path):
    for path in (tmp_path, tmp_path / "missing.csv"):
        with pytest.raises(ValueError, match=f"{path}: cannot read the table"):
            S.load_table(str(path))


def test_load_table_reports_file_line_and_column(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("# comment\n" + ",".join(S.TABLE_COLUMNS) + "\nX,1,2,3,4,5,6\nY,1,2,abc,4,5,6\n")
    with pytest.raises(ValueError, match=r"t\.csv, line 4, column 'v_o_A3'"):
        S.load_table(str(p))


def _appC():
    rows = {}
    with open(os.path.join(REPO, "data", "churkin2021_appC.csv")) as fh:
        for r in csv.DictReader(ln for ln in fh if not ln.startswith("#")):
            rows[(r["material"], r["quantity"])] = r
    return rows


def test_interaction_ratio_bk7_coverglass():
    # App. C: BK7 C_dip = 1.51e-3, C_el = 3.2e-4 -> r = 1.51; coverglass 1.69e-3, 3.6e-4 -> 1.51
    # (0.56*1.51/(1.74*0.32) = 1.519 and 0.56*1.69/(1.74*0.36) = 1.511: the paper rounds both to 1.51).
    d = _appC()
    for m in ("BK7", "coverglass"):
        r = float(S.interaction_ratio(C_dip=float(d[(m, "C_dip")]["value"]),
                                      C_el=float(d[(m, "C_el")]["value"])))
        assert r == pytest.approx(float(d[(m, "r")]["value"]), abs=0.01)


def test_interaction_ratio_sio2_both_readings():
    # App. C prints "C_el = 0.17-0.23e-3 [73], Q = 3.3e-4 [74] yields r = 0.3".  Reading [73]
    # (dielectric, Salvino 1994) as C_dip and Q as the internal friction Q^-1 gives r = 0.31 at the
    # midpoint; reading Q as tan(delta) with C_el gives 0.30 at the upper end.  Both ~0.3.
    r1 = float(S.interaction_ratio(C_dip=0.2e-3, Q_inv=3.3e-4))
    r2 = float(S.interaction_ratio(tan_delta=3.3e-4, C_el=0.23e-3))
    assert r1 == pytest.approx(0.309, abs=0.002)
    assert r2 == pytest.approx(0.297, abs=0.002)


def test_loss_and_slope_routes_agree():
    # tan(delta) = (pi/2) C_dip and Q^-1 = (pi/2) C_el: the 0.36/1.1 and 0.56/1.74 constants
    # are the same relation up to the paper's rounding: 0.36 pi/2 = 0.565 vs 0.56 (+1.0%),
    # 1.1 pi/2 = 1.728 vs 1.74 (-0.7%), so the two routes differ by 1.7%.
    Cd, Ce = 1.51e-3, 3.2e-4
    a = float(S.interaction_ratio(C_dip=Cd, C_el=Ce))
    b = float(S.interaction_ratio(tan_delta=math.pi / 2 * Cd, Q_inv=math.pi / 2 * Ce))
    assert b / a == pytest.approx((0.36 * math.pi / 2 / 0.56) / (1.1 * math.pi / 2 / 1.74), rel=1e-12)
    assert abs(b / a - 1) < 0.02


# -- bad input: a ValueError naming the argument, never a silent wrong value -----------------
NAN = float("nan")
SIO2 = (2200.0, 4163.0, 45.3e-30, 348.0)


@pytest.mark.parametrize("call, match", [
    # C is a tunneling strength, >= 0 by definition (a negative C flips the sign of Q^-1)
    (lambda: S.internal_friction(-1.0), "argument 'C'"),
    (lambda: S.internal_friction(NAN), "argument 'C'"),
    (lambda: S.velocity_slope_relaxation(-1.0), "argument 'C'"),
    (lambda: S.velocity_shift_relaxation([0.5], C=NAN), "argument 'C'"),
    (lambda: S.velocity_shift_relaxation([0.5], C=-3e-4), "argument 'C'"),
    (lambda: S.velocity_shift_relaxation(np.ones(2), 3e-4, T_o=np.ones(3)), r"T_o \(3,\)"),
    (lambda: S.mean_free_path_ratio(1e-310), "argument 'C'"),          # was inf
    (lambda: S.angstrom3(-1.0), "argument 'v_o_A3'"),                  # was a negative volume
    (lambda: S.angstrom3(NAN), "argument 'v_o_A3'"),
    # beyond [1e-100, 1e100]: was C = 0.0 (rho) and an OverflowError (v)
    (lambda: S.tunneling_strength(1e300, *SIO2[1:3]), "argument 'rho'"),
    (lambda: S.tunneling_strength(SIO2[0], 1e200, SIO2[2]), "argument 'v'"),
    (lambda: S.tunneling_strength(*SIO2[:3], T_D=0.0), "argument 'T_D'"),
    (lambda: S.tunneling_strength(*SIO2, alpha=-2.5), "argument 'alpha'"),
    (lambda: S.debye_temperature(-1.0, 45.3e-30), "argument 'v'"),
    # each argument in range, their combination is not representable: was 0.0 / inf
    (lambda: S.tunneling_strength(1e100, 1e50, 1e-29, 1.0), "underflows to 0.*rho=1e\\+100"),
    (lambda: S.gamma_max(1e100, 1e100, 1e100), "not finite.*rho=1e\\+100"),
    (lambda: S.gamma_max([2200.0, 2500.0], [4000.0, 4100.0, 4200.0], 45e-30), r"rho \(2,\), v \(3,\)"),
    # shapes that do not broadcast: was a JAX TypeError
    (lambda: S.interaction_ratio(C_dip=[1e-3, 2e-3], C_el=[1e-4, 2e-4, 3e-4]),
     r"C_dip \(2,\), C_el \(3,\)"),
    (lambda: S.interaction_ratio(tan_delta=[1e-3, 2e-3], Q_inv=[1e-4, 2e-4, 3e-4]),
     r"tan_delta \(2,\), Q_inv \(3,\)"),
    (lambda: S.interaction_ratio(C_dip=-1e-3, C_el=3e-4), "argument 'C_dip'"),
])
def test_bad_input_is_a_value_error_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_zero_strength_and_validated_functions_under_jit():
    # C = 0 (no TLSs) is physical: no friction, no velocity shift
    assert float(S.internal_friction(0.0)) == 0.0 and float(S.velocity_slope_relaxation(0.0)) == 0.0
    np.testing.assert_array_equal(S.velocity_shift_relaxation([0.5, 2.0], 0.0), [0.0, 0.0])
    # checks run on concrete values only: traced arguments still work
    jnp = jax.numpy
    assert float(jax.jit(S.internal_friction)(3e-4)) == pytest.approx(math.pi / 2 * 3e-4)
    assert float(jax.jit(S.angstrom3)(45.3)) == pytest.approx(45.3e-30)
    np.testing.assert_allclose(jax.jit(S.velocity_shift_relaxation)(jnp.array([0.5, 2.0]), 3e-4),
                               [1.5e-4 * math.log(2), -1.5e-4 * math.log(2)], rtol=1e-12)
    r = jax.jit(lambda d, e: S.interaction_ratio(C_dip=d, C_el=e))(1.51e-3, 3.2e-4)
    assert float(r) == pytest.approx(0.56 * 1.51 / (1.74 * 0.32), rel=1e-12)
    C = jax.jit(S.tunneling_strength)(*SIO2)
    assert float(C) == pytest.approx(_C_math(2200.0, 4163.0, 45.3, 348.0), rel=1e-12)
