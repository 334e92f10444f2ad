"""Column roles and units of :func:`jtls.data.read_csv`.

Which names hold an uncertainty, the notes saying which columns were taken for sigma and which
were not used, duplicate names, the temperature unit of a header cell, and the units of the
value column: pure-number scales (%, ‰, ppm, ppb, 1e-5, 10^-5, ×10⁻⁵) are converted, other
units kept, or refused for a dimensionless quantity.
"""
from __future__ import annotations

import math
import re

from .dataset import DIMENSIONLESS_QUANTITIES

#: Suffixes (after '_' or ' ') that make a column name an uncertainty: 'kappa_err', 'Qi error'.
SIGMA_SUFFIXES = ("err", "error", "errors", "sigma", "unc", "uncertainty", "std", "stderr")

#: Temperature units as written (case matters: 'MK' would be megakelvin), factor to K.
T_SCALES = {"K": 1.0, "k": 1.0, "mK": 1e-3, "mk": 1e-3, "uK": 1e-6, "uk": 1e-6,
            "µK": 1e-6, "μK": 1e-6, "µk": 1e-6, "μk": 1e-6}
#: Temperature units written as words (any case), factor to K.
T_WORDS = {"kelvin": 1.0, "millikelvin": 1e-3, "microkelvin": 1e-6}

#: Pure-number units by name, factor to a plain number.
NAMED_SCALES = {"%": 1e-2, "percent": 1e-2, "‰": 1e-3, "permil": 1e-3, "per mil": 1e-3,
                "permille": 1e-3, "per mille": 1e-3, "ppm": 1e-6, "ppb": 1e-9}
#: Units that say the numbers are plain numbers already.
PLAIN_UNITS = {"1", "-", "dimensionless", "unitless"}

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺"
_SUPER = str.maketrans(_SUPERSCRIPTS, "0123456789-+")
_TIMES = r"[x×*·]"
_MANT = r"(\d+(?:\.\d*)?|\.\d+)"
#: 1e-5, x1e-5, 2.5E-3
_E_FORM = re.compile(rf"^(?:{_TIMES}\s*)?{_MANT}\s*[eE]\s*([+-]?\d+)$")
#: 10^-5, 10**-5, 10^(-5), x10^-5, ×10⁻⁵ (superscripts are rewritten as ^ first), 2.5 x 10^-3
_POW_FORM = re.compile(rf"^(?:{_TIMES}\s*)?(?:{_MANT}\s*{_TIMES}\s*)?10\s*(?:\^|\*\*)\s*\(?\s*"
                       rf"([+-]?\d+)\s*\)?$")
#: A scale written in a column name outside brackets: 'dv/v x 10^5', '1e5*dv/v', 'dv/v in %'.
_FACTOR = (r"(?:\d+(?:\.\d*)?\s*[eE]\s*[+-−]?\d+|10\s*(?:\^|\*\*)\s*\(?\s*[+-−]?\d+\s*\)?|"
           rf"10[{_SUPERSCRIPTS}]+)")
_NAME_SCALE = re.compile(rf"(?:[x×*·/]\s*{_FACTOR}\s*$|^\s*{_FACTOR}\s*[x×*·]|"
                         r"(?:^|\s)(?:in\s+)?(?:%|‰|ppm|ppb|permil|percent)\s*$)", re.I)


def is_sigma_name(name: str, names: set, t_names: set) -> bool:
    """Whether a lower-case header name (unit removed) names an uncertainty column: one of
    ``names`` (sigma, err, ...), 'sigma...', 'err_...', 'd_...', 'kappa_err' / 'Qi error' and the
    like (not the uncertainty of a temperature, 'T_err': a name of ``t_names`` before the
    suffix), or starting with σ."""
    if name in names or name.startswith(("sigma", "err_", "d_", "σ")):
        return True
    return any(name.endswith(sep + s) and name[:-len(sep + s)].strip() not in t_names
               for s in SIGMA_SUFFIXES for sep in ("_", " "))


def column_notes(disp, role, auto_sigma: bool, skip) -> list:
    """Notes on the column roles: the column taken as sigma when the reader chose it
    (``auto_sigma``), and the columns used for nothing (``skip``: indices used otherwise, e.g.
    the drive power or row numbers)."""
    notes = []
    if auto_sigma and "sigma" in role:
        notes.append(f"per-point uncertainty sigma from column {disp[role['sigma']]!r}")
    unused = [disp[j] for j in range(len(disp)) if j not in role.values() and j not in skip]
    if unused:
        notes.append(f"column{'s' if len(unused) > 1 else ''} {', '.join(repr(c) for c in unused)} not "
                     "used as T, value or sigma (kept in Dataset.extra; a column named sigma, err or "
                     "<value>_err is taken as the uncertainty, as is read_csv(columns={'sigma': NAME}))")
    return notes


def duplicate_header(cells) -> tuple[int, int] | None:
    """(first, second) 0-based indices of the first header cell written twice (case and runs of
    spaces ignored: ``columns=`` matches names that way), or None."""
    seen: dict[str, int] = {}
    for j, c in enumerate(cells):
        key = " ".join(c.split()).casefold()
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None


def temperature_scale(unit: str) -> float | None:
    """Factor from ``unit`` to K ('mK' -> 1e-3), None if the unit is not a temperature unit this
    reader knows.  Case matters for symbols: 'mK' is millikelvin, 'MK' (megakelvin) is unknown."""
    u = unit.strip()
    return T_SCALES.get(u, T_WORDS.get(u.lower()))


def unknown_temperature_unit(unit: str) -> str:
    """The message for a temperature unit :func:`temperature_scale` does not know."""
    msg = f"unknown temperature unit {unit!r} (K, mK, uK)"
    if unit.strip()[:1] == "M":
        msg += f"; {unit.strip()!r} would be megakelvin (capital M is mega): write mK for millikelvin"
    return msg


def _canon(unit: str) -> str:
    u = " ".join(unit.split()).replace("−", "-")
    return re.sub(rf"[{_SUPERSCRIPTS}]+", lambda m: "^" + m.group(0).translate(_SUPER), u)


def number_scale(unit: str | None) -> float | None:
    """Factor that turns numbers written in ``unit`` into plain numbers, or None when ``unit`` is
    not a pure number (a physical unit such as 'W/m/K', 'a.u.', or nothing this reader knows).

    '%' -> 0.01, '‰'/'permil' -> 1e-3, 'ppm' -> 1e-6, 'ppb' -> 1e-9, '1e-5', '10^-5',
    '10**-5', 'x10^-5', '×10⁻⁵' -> 1e-5 (the unit of the numbers: a cell 3 means 3e-5),
    '10^6' -> 1e6; '1', '-', 'dimensionless' -> 1.0.
    """
    if unit is None:
        return None
    u = _canon(unit)
    if u.lower() in PLAIN_UNITS:
        return 1.0
    if u.lower() in NAMED_SCALES:
        return NAMED_SCALES[u.lower()]
    m = _E_FORM.match(u) or _POW_FORM.match(u)
    if not m:
        return None
    try:
        scale = float(m.group(1) or "1") * 10.0 ** int(m.group(2))
    except OverflowError:
        return None
    return scale if math.isfinite(scale) and scale > 0 else None


def scale_in_name(cell: str) -> bool:
    """Whether a header cell states a scale outside a unit bracket ('dv/v x 10^5', '1e5*dv/v',
    'dv/v in %'): the numbers could be the quantity times the factor or in units of it."""
    name = re.sub(r"\s*[\(\[][^\)\]]*[\)\]]\s*$", "", cell.strip())
    return bool(_NAME_SCALE.search(name))


def same_unit(a: str | None, b: str | None) -> bool:
    """Whether two unit texts are the same unit: equal text (runs of spaces ignored), or equal
    pure-number scales ('1e-5' and '10^-5'; an unstated unit counts as '1' here)."""
    if a is not None and b is not None and " ".join(a.split()) == " ".join(b.split()):
        return True
    sa, sb = number_scale(a or "1"), number_scale(b or "1")
    return sa is not None and sa == sb


def unit_hint(unit: str) -> str:
    """Why a unit is not understood as a pure number, for the error messages."""
    if unit.strip().lower() == "ppt":
        return "'ppt' is ambiguous (parts per thousand or per trillion?); "
    return ""


def to_plain(values, scale: float):
    """``values`` times ``scale``, divided by 1/scale where that is a whole number (100, 1e6), so
    that '3 %' gives exactly the double nearest 0.03."""
    inv = 1.0 / scale
    r = round(inv)
    if r >= 1 and abs(inv - r) <= 1e-12 * r:
        return values / float(r)
    return values * scale


def value_units(*, header_unit, sigma_unit, given, given_by, quantity, has_sigma, dimensionless, fail):
    """Units of the value (and sigma) column and the factor to plain numbers.

    ``given`` is the unit from ``units=`` or the ``# units:`` annotation (``given_by`` says
    which), else None and the header decides; it covers the sigma column too.  A header sigma
    unit must be the value's unit (else ``fail``: an uncertainty in % next to a value in other
    units may be relative or absolute).  A pure-number scale (:func:`number_scale`) other than 1
    is converted: returns ("1", scale, notes).  A unit that is not a pure number is kept
    (returns (unit, None, notes)) unless ``quantity`` is in ``dimensionless``, then ``fail``.
    ``fail(message, column)`` makes the exception (column 'value', 'sigma' or None for a given
    unit).  Returns (None, None, notes) when no unit is stated anywhere.
    """
    notes = []
    if given is not None:
        unit, col = given, None
        for what, hu in (("value", header_unit), ("uncertainty", sigma_unit if has_sigma else None)):
            if hu is not None and not same_unit(hu, given):
                notes.append(f"units {given!r} ({given_by}) override the {what} column's header unit {hu!r}")
    else:
        unit, col = header_unit, "value"
        if has_sigma and sigma_unit is not None and not same_unit(sigma_unit, header_unit):
            stated = f"is in {header_unit!r}" if header_unit else "states no unit"
            raise fail(f"the uncertainty column is in {sigma_unit!r} but the value column {stated}; "
                       f"sigma is read in the value's unit (an uncertainty in % may be relative, "
                       f"% of the value, or absolute): write both in the same unit, or pass units= "
                       f"for both", "sigma")
    if unit is None or not unit.strip():
        return (None if unit is None else unit), None, notes
    scale = number_scale(unit)
    if scale is None:
        if quantity in dimensionless:
            raise fail(f"unit {unit!r} of the value column is not a pure number this reader "
                       f"knows, but quantity {quantity!r} is one (a relative change or a ratio); "
                       f"{unit_hint(unit)}pure-number units understood: %, ‰ (permil), ppm, ppb "
                       f"and powers of ten (1e-5, 10^-5, x10^-5: the numbers are in units of that); "
                       f"convert the column, or pass units='1' if its numbers are plain numbers", col)
        return unit, None, notes
    if scale == 1.0:
        return unit, None, notes
    both = " and uncertainties" if has_sigma else ""
    notes.append(f"values{both} converted from {unit!r} to plain numbers (x {scale:g}); units '1'")
    return "1", scale, notes


def file_units(src, path, ann, notes, units, hcells, names, role, q, ln, disp):
    """Units of the value column of a file read by :func:`jtls.data.read_csv` and the factor to
    plain numbers (see :func:`value_units`); the notes go to ``notes``.

    ``units=`` > ``# units:`` annotation > header.  A scale written in a column name outside
    brackets ('dv/v x 10^5') is refused unless units= or the annotation states the unit.
    Errors name the file, line ``ln`` and the column (``src.err``).
    """
    jv, js = role["value"], role.get("sigma")
    given = given_by = None
    ann_units = ann["units"] if "units" in ann and not isinstance(ann["units"], list) else None
    if units is not None:
        given, given_by = units, "units="
        if ann_units is not None and ann_units[1] != units:
            notes.append(f"units = {units!r} given; overrides annotation {ann_units[1]!r}")
    elif ann_units is not None:
        given, given_by = ann_units[1], "annotation"
    if given is None and hcells:
        for j in (jv, js):
            if j is not None and scale_in_name(hcells[j]):
                raise src.err(ln, "the column name states a scale outside a unit bracket: are the "
                              "numbers the quantity times it, or in units of it?  Write the unit in "
                              "brackets (e.g. 'dv/v (1e-5)' for numbers in units of 1e-5), or pass "
                              "units=", j, disp)

    def fail(msg, col):
        if col is not None:
            return src.err(ln, msg, jv if col == "value" else js, disp)
        if given_by == "annotation":
            return src.err(ann_units[0], f"annotation units: {msg}")
        return ValueError(f"{path}: units={given!r}: {msg}")

    un, scale, unit_notes = value_units(
        header_unit=names[jv][1], sigma_unit=None if js is None else names[js][1], given=given,
        given_by=given_by, quantity=q, has_sigma=js is not None,
        dimensionless=DIMENSIONLESS_QUANTITIES, fail=fail)
    notes += unit_notes
    return un, scale
