"""Universal tunneling strength C from material constants (Carruzzo & Yu 2020),
and the electric-to-elastic interaction ratio r (Churkin et al. 2021, App. C).

All inputs are SI: mass density ``rho`` in kg/m^3, sound velocity ``v`` in m/s
(the average v^-3 = (1/3) sum_s v_s^-3 of the paper), volume of one chemical
formula unit ``v_o`` in m^3 (use :func:`angstrom3` for Table I's A^3), Debye
temperature ``T_D`` in K.  Couplings gamma are returned in joules (divide by
:data:`jtls.units.EV` for eV) and the density of states P-bar in J^-1 m^-3.
The functions are plain jax.numpy expressions (jit/vmap/grad safe); argument
checks run on concrete values only.

Carruzzo & Yu, PRL 124, 075902 (2020):
    gamma_o   = (sqrt 2 / 3) sqrt(rho v^2 v_o hbar omega_D)              Eq. 5
    P-bar     = (1/3) (rho v^2 / gamma_max^2) (gamma_o / gamma_max)^2     Eq. 9
    C         = (alpha^2 / 3) (gamma_o / gamma_max)^4,  alpha = 2.5      Eq. 12
    gamma_max = (4/3) (2 / 9 pi)^(2/3) rho v^2 v_o                        Eq. 13
    k_B T_D   = hbar omega_D = hbar v (6 pi^2 / v_o)^(1/3)
    Q^-1 = (pi/2) C,  Delta v / v = -(C/2) ln(T/T_o) (relaxation regime),
    l / lambda = 1 / (2 pi^2 C).
"""
from __future__ import annotations

import csv
import math
import os

import numpy as np
import jax.numpy as jnp

from .. import _validate as V
from ..units import HBAR, K_B

#: Default alpha of gamma_eff = alpha gamma_o (Carruzzo & Yu use 2.5).
ALPHA_DEFAULT = 2.5
#: Prefactor of Eq. 13: (4/3) (2 / (9 pi))^(2/3) = 0.2280...
GAMMA_MAX_PREFACTOR = (4.0 / 3.0) * (2.0 / (9.0 * math.pi)) ** (2.0 / 3.0)
#: 1 A^3 in m^3.
ANGSTROM3 = 1e-30


def angstrom3(v_o_A3):
    """Convert a volume in cubic angstrom to m^3."""
    return jnp.asarray(v_o_A3) * ANGSTROM3


def _check(**kw):
    for name, value in kw.items():
        V.positive_finite(name, value)


def debye_temperature(v, v_o):
    """T_D in K from k_B T_D = hbar v (6 pi^2 / v_o)^(1/3); v in m/s, v_o in m^3."""
    _check(v=v, v_o=v_o)
    return HBAR * v * (6.0 * math.pi**2 / v_o) ** (1.0 / 3.0) / K_B


def gamma_o(rho, v, v_o, T_D=None):
    """Eq. 5: gamma_o = (sqrt 2/3) sqrt(rho v^2 v_o k_B T_D) in J.

    T_D in K; when None it is computed from v and v_o (:func:`debye_temperature`).
    """
    _check(rho=rho, v=v, v_o=v_o)
    if T_D is None:
        T_D = debye_temperature(v, v_o)
    _check(T_D=T_D)
    return (math.sqrt(2.0) / 3.0) * jnp.sqrt(rho * v**2 * v_o * K_B * T_D)


def gamma_max(rho, v, v_o):
    """Eq. 13: gamma_max = (4/3)(2/9 pi)^(2/3) rho v^2 v_o ~ 0.228 rho v^2 v_o, in J."""
    _check(rho=rho, v=v, v_o=v_o)
    return GAMMA_MAX_PREFACTOR * rho * v**2 * v_o


def dos_pbar(rho, v, v_o, T_D=None):
    """Eq. 9: P-bar = (1/3)(rho v^2 / gamma_max^2)(gamma_o / gamma_max)^2 in J^-1 m^-3."""
    go = gamma_o(rho, v, v_o, T_D)
    gm = gamma_max(rho, v, v_o)
    return (rho * v**2 / (3.0 * gm**2)) * (go / gm) ** 2


def tunneling_strength(rho, v, v_o, T_D=None, alpha=ALPHA_DEFAULT):
    """Eq. 12: C = (alpha^2/3)(gamma_o/gamma_max)^4 (dimensionless).

    Equals P-bar gamma_eff^2 / (rho v^2) with gamma_eff = alpha gamma_o.
    T_D in K (None: from v and v_o).
    """
    _check(alpha=alpha)
    go = gamma_o(rho, v, v_o, T_D)
    gm = gamma_max(rho, v, v_o)
    return alpha**2 / 3.0 * (go / gm) ** 4


def internal_friction(C):
    """Plateau internal friction Q^-1 = (pi/2) C."""
    return 0.5 * math.pi * jnp.asarray(C)


def velocity_slope_relaxation(C):
    """d(Delta v / v)/d ln T = -C/2 in the relaxation regime (Delta v/v = -(C/2) ln(T/T_o))."""
    return -0.5 * jnp.asarray(C)


def velocity_shift_relaxation(T, C, T_o=1.0):
    """Delta v / v = -(C/2) ln(T / T_o) (relaxation regime); T, T_o in K."""
    _check(T=T, T_o=T_o)
    return -0.5 * C * jnp.log(jnp.asarray(T) / T_o)


def mean_free_path_ratio(C):
    """Phonon mean free path over wavelength, l / lambda = 1 / (2 pi^2 C)."""
    _check(C=C)
    return 1.0 / (2.0 * math.pi**2 * jnp.asarray(C))


def high_temperature_strength():
    """C = 1/6 for k_B T >> barrier height (P-bar = n_o, <gamma^2> = gamma_max^2 / 2)."""
    return 1.0 / 6.0


# --- Churkin et al. 2021, App. C: electric vs elastic TLS-TLS interaction -----

#: P0 <|J0_el|> = 1.1 Q^-1 = 1.74 C_el ; P0 <|J0_dip|> = 0.36 tan(delta) = 0.56 C_dip.
EL_PER_QINV, EL_PER_C = 1.1, 1.74
DIP_PER_TAND, DIP_PER_C = 0.36, 0.56


def interaction_ratio(*, C_dip=None, tan_delta=None, C_el=None, Q_inv=None):
    """r = <|J0_dip|> / <|J0_el|> (Churkin et al. 2021, App. C).

    Give one electric measure -- C_dip (slope of the logarithmic T dependence
    of the dielectric constant) or tan_delta (loss tangent) -- and one elastic
    measure -- C_el (logarithmic slope of the sound velocity) or Q_inv
    (internal friction):  P0<|J0_dip|> = 0.56 C_dip = 0.36 tan(delta) and
    P0<|J0_el|> = 1.74 C_el = 1.1 Q^-1, so r = 0.56 C_dip / (1.74 C_el), etc.
    """
    if (C_dip is None) == (tan_delta is None):
        raise ValueError("give exactly one of 'C_dip' or 'tan_delta'")
    if (C_el is None) == (Q_inv is None):
        raise ValueError("give exactly one of 'C_el' or 'Q_inv'")
    if C_dip is not None:
        _check(C_dip=C_dip)
        dip = DIP_PER_C * jnp.asarray(C_dip)
    else:
        _check(tan_delta=tan_delta)
        dip = DIP_PER_TAND * jnp.asarray(tan_delta)
    if C_el is not None:
        _check(C_el=C_el)
        el = EL_PER_C * jnp.asarray(C_el)
    else:
        _check(Q_inv=Q_inv)
        el = EL_PER_QINV * jnp.asarray(Q_inv)
    return dip / el


# --- Table I of Carruzzo & Yu -------------------------------------------------

TABLE_COLUMNS = ("glass", "rho_kg_m3", "v_m_s", "v_o_A3", "T_D_K", "C_exp_1e4", "C_th_1e4")


def default_table_path():
    """data/carruzzo2020_table1.csv in the repository (next to the jtls package)."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), "data", "carruzzo2020_table1.csv")


def load_table(path=None):
    """Read Carruzzo & Yu's Table I (lines starting with '#' are provenance).

    Returns a dict column -> numpy array (``glass`` as strings).  Raises
    ValueError naming the file, line and column of a malformed entry.
    """
    path = default_table_path() if path is None else path
    rows = []
    with open(path, newline="") as fh:
        lines = [(i + 1, ln) for i, ln in enumerate(fh) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: no data lines")
    header = next(csv.reader([lines[0][1]]))
    if tuple(h.strip() for h in header) != TABLE_COLUMNS:
        raise ValueError(f"{path}, line {lines[0][0]}: header must be {','.join(TABLE_COLUMNS)}")
    for lineno, ln in lines[1:]:
        cells = [c.strip() for c in next(csv.reader([ln]))]
        if len(cells) != len(TABLE_COLUMNS):
            raise ValueError(f"{path}, line {lineno}: expected {len(TABLE_COLUMNS)} columns, got {len(cells)}")
        row = [cells[0]]
        for col, c in zip(TABLE_COLUMNS[1:], cells[1:]):
            try:
                val = float(c)
            except ValueError:
                raise ValueError(f"{path}, line {lineno}, column {col!r}: not a number: {c!r}") from None
            if not (math.isfinite(val) and val > 0):
                raise ValueError(f"{path}, line {lineno}, column {col!r}: must be finite and > 0, got {c!r}")
            row.append(val)
        rows.append(row)
    out = {"glass": np.array([r[0] for r in rows])}
    for k, col in enumerate(TABLE_COLUMNS[1:], start=1):
        out[col] = np.array([r[k] for r in rows])
    return out
