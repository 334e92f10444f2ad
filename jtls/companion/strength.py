"""Universal tunneling strength C from material constants (Carruzzo & Yu 2020),
and the electric-to-elastic interaction ratio r (Churkin et al. 2021, App. C).

All inputs are SI: mass density ``rho`` in kg/m^3, sound velocity ``v`` in m/s
(the average v^-3 = (1/3) sum_s v_s^-3 of the paper), volume of one chemical
formula unit ``v_o`` in m^3 (use :func:`angstrom3` for Table I's A^3), Debye
temperature ``T_D`` in K.  Couplings gamma are returned in joules (divide by
:data:`jtls.units.EV` for eV) and the density of states P-bar in J^-1 m^-3.
The functions are plain jax.numpy expressions (jit/vmap/grad safe); argument
checks run on concrete values only: every input is finite and inside
[1e-100, 1e100] (:data:`jtls._validate.VALUE_MIN`, ``VALUE_MAX``; C of the
relaxation-regime formulas may also be 0), the shapes of the arguments of one
call broadcast, and a result that leaves float64 (overflow, or underflow to
0) raises ValueError naming the arguments instead of returning inf, NaN or 0.

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
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _validate as V
from ..units import HBAR, K_B

#: Default alpha of gamma_eff = alpha gamma_o (Carruzzo & Yu use 2.5).
ALPHA_DEFAULT = 2.5
#: Prefactor of Eq. 13: (4/3) (2 / (9 pi))^(2/3) = 0.2280...
GAMMA_MAX_PREFACTOR = (4.0 / 3.0) * (2.0 / (9.0 * math.pi)) ** (2.0 / 3.0)
#: 1 A^3 in m^3.
ANGSTROM3 = 1e-30


def angstrom3(v_o_A3: ArrayLike) -> jax.Array:
    """Convert a volume in cubic angstrom (Table I's v_o) to m^3.

    Parameters
    ----------
    v_o_A3 : array_like
        Volume in A^3 (finite, in [1e-100, 1e100]), any shape.

    Returns
    -------
    jax.Array
        Volume in m^3, shape of ``v_o_A3``.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> print(f"{float(strength.angstrom3(45.3)):.4g} m^3")
    4.53e-29 m^3
    """
    _check(v_o_A3=v_o_A3)
    return jnp.asarray(v_o_A3) * ANGSTROM3


#: Units of the dimensional arguments, for the messages of :func:`_check`.
_UNITS = {"rho": "kg/m^3", "v": "m/s", "v_o": "m^3", "v_o_A3": "A^3", "T_D": "K", "T": "K",
          "T_o": "K"}


def _check(**kw):
    """Every argument finite and inside [VALUE_MIN, VALUE_MAX] (so > 0); shapes broadcast."""
    for name, value in kw.items():
        V.in_domain(name, value, _UNITS.get(name, ""))
    if len(kw) > 1:
        V.broadcastable(**kw)


def _representable(where, out, **args):
    """ValueError when a concrete result left float64: not finite, or 0 by underflow.

    Every formula of this module is > 0 for arguments > 0, so a 0 is an underflow.
    """
    V.finite_result(where, out, **args)
    if (V.is_concrete(out) and all(V.is_concrete(a) for a in args.values())
            and np.any(np.asarray(out) == 0)):
        raise ValueError(f"{where}: the result underflows to 0 (below the float64 range) at "
                         f"{', '.join(f'{k}={a!r}' for k, a in args.items())}: the arguments are "
                         f"each in range but their combination is not representable")
    return out


def debye_temperature(v: ArrayLike, v_o: ArrayLike) -> jax.Array:
    """Debye temperature from k_B T_D = hbar v (6 pi^2 / v_o)^(1/3) (Carruzzo & Yu 2020).

    Parameters
    ----------
    v : array_like
        Average sound velocity in m/s.
    v_o : array_like
        Volume of one formula unit in m^3.  Arguments broadcast.

    Returns
    -------
    jax.Array
        T_D in K.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> rho, v, v_o, T_D = 2200.0, 4163.0, strength.angstrom3(45.3), 348.0   # SiO2, Table I
    >>> print(f"{float(strength.debye_temperature(v, v_o)):.1f} K")     # Table I: 348 K
    347.7 K
    """
    _check(v=v, v_o=v_o)
    return _representable("debye_temperature", HBAR * v * (6.0 * math.pi**2 / v_o) ** (1.0 / 3.0) / K_B,
                          v=v, v_o=v_o)


def gamma_o(rho: ArrayLike, v: ArrayLike, v_o: ArrayLike, T_D: ArrayLike | None = None) -> jax.Array:
    """Coupling gamma_o = (sqrt 2/3) sqrt(rho v^2 v_o k_B T_D) of Carruzzo & Yu 2020, Eq. 5.

    Parameters
    ----------
    rho : array_like
        Mass density in kg/m^3.
    v : array_like
        Average sound velocity in m/s.
    v_o : array_like
        Volume of one formula unit in m^3.
    T_D : array_like, optional
        Debye temperature in K; None: :func:`debye_temperature` of v and v_o.

    Returns
    -------
    jax.Array
        gamma_o in J (divide by ``jtls.units.EV`` for eV).

    Examples
    --------
    >>> from jtls.companion import strength
    >>> rho, v, v_o, T_D = 2200.0, 4163.0, strength.angstrom3(45.3), 348.0   # SiO2, Table I
    >>> from jtls.units import EV
    >>> print(f"{float(strength.gamma_o(rho, v, v_o, T_D)) / EV:.3f} eV")
    0.268 eV
    """
    if T_D is None:
        _check(rho=rho, v=v, v_o=v_o)
        T_D = debye_temperature(v, v_o)
    else:
        _check(rho=rho, v=v, v_o=v_o, T_D=T_D)
    out = (math.sqrt(2.0) / 3.0) * jnp.sqrt(rho * v**2 * v_o * K_B * T_D)
    return _representable("gamma_o", out, rho=rho, v=v, v_o=v_o, T_D=T_D)


def gamma_max(rho: ArrayLike, v: ArrayLike, v_o: ArrayLike) -> jax.Array:
    """Largest coupling gamma_max = (4/3)(2/9 pi)^(2/3) rho v^2 v_o (Carruzzo & Yu 2020, Eq. 13).

    Parameters
    ----------
    rho : array_like
        Mass density in kg/m^3.
    v : array_like
        Average sound velocity in m/s.
    v_o : array_like
        Volume of one formula unit in m^3.

    Returns
    -------
    jax.Array
        gamma_max in J, about 0.228 rho v^2 v_o.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> rho, v, v_o, T_D = 2200.0, 4163.0, strength.angstrom3(45.3), 348.0   # SiO2, Table I
    >>> from jtls.units import EV
    >>> print(f"{float(strength.gamma_max(rho, v, v_o)) / EV:.3f} eV")
    2.458 eV
    """
    _check(rho=rho, v=v, v_o=v_o)
    out = GAMMA_MAX_PREFACTOR * rho * v**2 * v_o
    return _representable("gamma_max", out, rho=rho, v=v, v_o=v_o)


def dos_pbar(rho: ArrayLike, v: ArrayLike, v_o: ArrayLike, T_D: ArrayLike | None = None) -> jax.Array:
    """TLS density of states P-bar = (1/3)(rho v^2 / gamma_max^2)(gamma_o / gamma_max)^2 (Eq. 9).

    Carruzzo & Yu 2020, Eq. 9.

    Parameters
    ----------
    rho : array_like
        Mass density in kg/m^3.
    v : array_like
        Average sound velocity in m/s.
    v_o : array_like
        Volume of one formula unit in m^3.
    T_D : array_like, optional
        Debye temperature in K (None: from v and v_o).

    Returns
    -------
    jax.Array
        P-bar in J^-1 m^-3.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> rho, v, v_o, T_D = 2200.0, 4163.0, strength.angstrom3(45.3), 348.0   # SiO2, Table I
    >>> print(f"{float(strength.dos_pbar(rho, v, v_o, T_D)):.3g} J^-1 m^-3")
    9.74e+44 J^-1 m^-3
    """
    go = gamma_o(rho, v, v_o, T_D)
    gm = gamma_max(rho, v, v_o)
    out = (rho * v**2 / (3.0 * gm**2)) * (go / gm) ** 2
    return _representable("dos_pbar", out, rho=rho, v=v, v_o=v_o, T_D=T_D)


def tunneling_strength(rho: ArrayLike, v: ArrayLike, v_o: ArrayLike, T_D: ArrayLike | None = None,
                       alpha: ArrayLike = ALPHA_DEFAULT) -> jax.Array:
    """Universal tunneling strength C = (alpha^2/3)(gamma_o/gamma_max)^4 (Carruzzo & Yu 2020, Eq. 12).

    Equals P-bar gamma_eff^2 / (rho v^2) with gamma_eff = alpha gamma_o:
    the C of Churkin et al. 2021, Eqs. (7)-(8), from material constants alone.

    Parameters
    ----------
    rho : array_like
        Mass density in kg/m^3.
    v : array_like
        Average sound velocity in m/s.
    v_o : array_like
        Volume of one formula unit in m^3.
    T_D : array_like, optional
        Debye temperature in K (None: from v and v_o).
    alpha : array_like
        gamma_eff / gamma_o (dimensionless; 2.5 in the paper).

    Returns
    -------
    jax.Array
        C (dimensionless), broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> rho, v, v_o, T_D = 2200.0, 4163.0, strength.angstrom3(45.3), 348.0   # SiO2, Table I
    >>> print(f"C = {float(strength.tunneling_strength(rho, v, v_o, T_D)):.2e}")   # Table I: 2.9e-4
    C = 2.94e-04
    """
    _check(alpha=alpha)
    go = gamma_o(rho, v, v_o, T_D)
    gm = gamma_max(rho, v, v_o)
    out = alpha**2 / 3.0 * (go / gm) ** 4
    return _representable("tunneling_strength", out, rho=rho, v=v, v_o=v_o, T_D=T_D, alpha=alpha)


def internal_friction(C: ArrayLike) -> jax.Array:
    """Plateau internal friction Q^-1 = (pi/2) C (standard tunneling model, relaxation regime).

    Parameters
    ----------
    C : array_like
        Tunneling strength (dimensionless, finite, 0 <= C <= 1e100), any shape.

    Returns
    -------
    jax.Array
        Q^-1 (dimensionless), shape of ``C``.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> print(f"{float(strength.internal_friction(3e-4)):.3e}")
    4.712e-04
    """
    V.amplitude("C", C)
    return 0.5 * math.pi * jnp.asarray(C)


def velocity_slope_relaxation(C: ArrayLike) -> jax.Array:
    """Logarithmic slope d(Delta v/v)/d ln T = -C/2 of the velocity in the relaxation regime.

    Parameters
    ----------
    C : array_like
        Tunneling strength (dimensionless, finite, 0 <= C <= 1e100), any shape.

    Returns
    -------
    jax.Array
        The slope (dimensionless, <= 0), shape of ``C``.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> print(f"{float(strength.velocity_slope_relaxation(3e-4)):.1e}")
    -1.5e-04
    """
    V.amplitude("C", C)
    return -0.5 * jnp.asarray(C)


def velocity_shift_relaxation(T: ArrayLike, C: ArrayLike, T_o: ArrayLike = 1.0) -> jax.Array:
    """Velocity shift Delta v / v = -(C/2) ln(T / T_o) in the relaxation regime (T >> T0).

    Parameters
    ----------
    T : array_like
        Temperature(s) in K (in [1e-100, 1e100]).
    C : array_like
        Tunneling strength (dimensionless, finite, 0 <= C <= 1e100).
    T_o : array_like
        Reference temperature in K (in [1e-100, 1e100]).  Arguments broadcast.

    Returns
    -------
    jax.Array
        Delta v / v (dimensionless).

    Examples
    --------
    >>> from jtls.companion import strength
    >>> print(strength.velocity_shift_relaxation([0.5, 2.0], 3e-4))
    [ 0.00010397 -0.00010397]
    """
    _check(T=T, T_o=T_o)
    V.amplitude("C", C)
    V.broadcastable(T=T, C=C, T_o=T_o)
    return -0.5 * jnp.asarray(C) * jnp.log(jnp.asarray(T) / T_o)


def mean_free_path_ratio(C: ArrayLike) -> jax.Array:
    """Phonon mean free path over wavelength, l / lambda = 1 / (2 pi^2 C).

    Parameters
    ----------
    C : array_like
        Tunneling strength (dimensionless, in [1e-100, 1e100]).

    Returns
    -------
    jax.Array
        l / lambda (dimensionless), shape of ``C``.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> print(f"{float(strength.mean_free_path_ratio(3e-4)):.1f}")
    168.9
    """
    _check(C=C)
    return 1.0 / (2.0 * math.pi**2 * jnp.asarray(C))


def high_temperature_strength() -> float:
    """Tunneling strength C = 1/6 for k_B T >> barrier height (P-bar = n_o, <gamma^2> = gamma_max^2 / 2).

    Returns
    -------
    float
        1/6 (dimensionless).

    Examples
    --------
    >>> from jtls.companion import strength
    >>> strength.high_temperature_strength()
    0.16666666666666666
    """
    return 1.0 / 6.0


# --- Churkin et al. 2021, App. C: electric vs elastic TLS-TLS interaction -----

#: P0 <|J0_el|> = 1.1 Q^-1 = 1.74 C_el ; P0 <|J0_dip|> = 0.36 tan(delta) = 0.56 C_dip.
EL_PER_QINV, EL_PER_C = 1.1, 1.74
DIP_PER_TAND, DIP_PER_C = 0.36, 0.56


def interaction_ratio(*, C_dip: ArrayLike | None = None, tan_delta: ArrayLike | None = None,
                      C_el: ArrayLike | None = None, Q_inv: ArrayLike | None = None) -> jax.Array:
    """r = <|J0_dip|> / <|J0_el|> (Churkin et al. 2021, App. C).

    Give one electric measure -- C_dip (slope of the logarithmic T dependence
    of the dielectric constant) or tan_delta (loss tangent) -- and one elastic
    measure -- C_el (logarithmic slope of the sound velocity) or Q_inv
    (internal friction):  P0<|J0_dip|> = 0.56 C_dip = 0.36 tan(delta) and
    P0<|J0_el|> = 1.74 C_el = 1.1 Q^-1, so r = 0.56 C_dip / (1.74 C_el), etc.
    r > 1 (dipolar interactions dominate) suggests a larger J0/h0 and mu.

    Parameters
    ----------
    C_dip : array_like, optional
        Logarithmic slope of eps(T) (dimensionless).
    tan_delta : array_like, optional
        Dielectric loss tangent (dimensionless).
    C_el : array_like, optional
        Logarithmic slope of the sound velocity (dimensionless).
    Q_inv : array_like, optional
        Internal friction (dimensionless).  Each given measure is finite and in
        [1e-100, 1e100]; the two given shapes broadcast.

    Returns
    -------
    jax.Array
        r (dimensionless), broadcast shape.  ValueError unless exactly one
        electric and one elastic measure are given.

    Examples
    --------
    BK7 (App. C: C_dip = 1.51e-3, C_el = 3.2e-4; the paper quotes r = 1.51):

    >>> from jtls.companion import strength
    >>> print(f"r = {float(strength.interaction_ratio(C_dip=1.51e-3, C_el=3.2e-4)):.2f}")
    r = 1.52
    """
    if (C_dip is None) == (tan_delta is None):
        raise ValueError("give exactly one of 'C_dip' or 'tan_delta'")
    if (C_el is None) == (Q_inv is None):
        raise ValueError("give exactly one of 'C_el' or 'Q_inv'")
    electric = {"C_dip": C_dip} if C_dip is not None else {"tan_delta": tan_delta}
    elastic = {"C_el": C_el} if C_el is not None else {"Q_inv": Q_inv}
    _check(**electric, **elastic)
    dip = (DIP_PER_C if C_dip is not None else DIP_PER_TAND) * jnp.asarray(*electric.values())
    el = (EL_PER_C if C_el is not None else EL_PER_QINV) * jnp.asarray(*elastic.values())
    return dip / el


# --- Table I of Carruzzo & Yu -------------------------------------------------

TABLE_COLUMNS = ("glass", "rho_kg_m3", "v_m_s", "v_o_A3", "T_D_K", "C_exp_1e4", "C_th_1e4")


def default_table_path() -> str:
    """Path of data/carruzzo2020_table1.csv in the repository (next to the jtls package).

    Returns
    -------
    str

    Examples
    --------
    >>> import os
    >>> from jtls.companion import strength
    >>> os.path.basename(strength.default_table_path())
    'carruzzo2020_table1.csv'
    """
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(os.path.dirname(here)), "data", "carruzzo2020_table1.csv")


def load_table(path: str | os.PathLike | None = None) -> dict:
    """Read Carruzzo & Yu's Table I (lines starting with '#' are provenance).

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with the columns of :data:`TABLE_COLUMNS` (rho in kg/m^3, v in
        m/s, v_o in A^3, T_D in K, C in units of 1e-4); None:
        :func:`default_table_path`.

    Returns
    -------
    dict
        Column -> numpy array of shape (n_glasses,) (``glass`` as strings).
        Raises ValueError naming the file, line and column of a malformed entry.

    Examples
    --------
    >>> from jtls.companion import strength
    >>> t = strength.load_table()
    >>> str(t["glass"][0]), float(t["rho_kg_m3"][0]), float(t["C_th_1e4"][0])
    ('SiO2', 2200.0, 2.9)
    """
    path = default_table_path() if path is None else path
    rows = []
    try:
        with open(path, newline="") as fh:
            lines = [(i + 1, ln) for i, ln in enumerate(fh) if ln.strip() and not ln.lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the table ({getattr(exc, 'strerror', None) or exc})") from None
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
