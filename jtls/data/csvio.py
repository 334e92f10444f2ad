"""CSV reading and the annotated writer (formats described in :mod:`jtls.data`).

The reader's text layer (decoding, lines, cells, numbers) is :mod:`jtls.data._csvtext`.
"""
from __future__ import annotations

import hashlib
import os
import re
import warnings
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ._csvtext import (_BOMS, _COMMA_NUM, _GROUPED, _NONFINITE, _NUM, _Src, _cells,  # noqa: F401
                       _decode, _detect_delimiter, _is_num, _line_col, _split_header, _split_lines,
                       _to_float)
from .columns import (column_notes, duplicate_header, file_units, is_sigma_name, temperature_scale, to_plain,
                      unknown_temperature_unit)
from .dataset import FREQUENCY_UNITS, POSITIVE_QUANTITIES, QUANTITIES, DataWarning, Dataset, ExcludedPoint

_T_NAMES = {"t", "temp", "temperature", "temperatur", "temperatura", "température", "tk", "t_k"}
_SIGMA_NAMES = {"sigma", "err", "error", "errors", "uncertainty", "unc", "std", "stderr",
                "dvalue", "dy", "fehler", "unsicherheit", "sigma_value"}
_POWER_NAMES = {"power", "leistung", "p", "drive power", "p_in", "pin"}
#: Column names of an absolute resonance frequency (also recognised by a unit Hz/kHz/MHz/GHz).
_FREQUENCY_NAMES = {"f", "fr", "f_r", "f0", "f_0", "fres", "f_res", "frequency", "resonance frequency",
                    "resonant frequency", "frequenz", "resonanzfrequenz"}
_QUANTITY_BY_NAME = [
    ({"k", "kappa", "κ", "thermal conductivity", "lambda", "wärmeleitfähigkeit"}, "thermal_conductivity"),
    ({"qint", "qi", "q_int", "q_i", "internal quality factor", "q"}, "quality_factor"),
    ({"frequency shift", "df/f", "df/f0", "δf/f0", "δf/f", "frequenzverschiebung", "frequenzverschiebung"},
     "resonator_shift"),
    ({"tan delta", "tandelta", "loss", "1/qi", "qi^-1", "tan δ"}, "resonator_loss"),
    ({"c", "cp", "cv", "specific heat", "heat capacity", "wärmekapazität"}, "specific_heat"),
    ({"dv/v", "δv/v", "velocity", "sound velocity"}, "velocity"),
    ({"deps/eps", "δε/ε", "de/e", "dielectric", "permittivity"}, "dielectric"),
    ({"q^-1", "1/q", "internal friction"}, "internal_friction"),
]


def read_csv(path: str | os.PathLike, *, delimiter: str | None = None, decimal: str | None = None,
             skip_title: int | None = None, header: bool | None = None,
             columns: Mapping | None = None, T_unit: str = "auto", quantity: str | None = None,
             units: str | None = None, material: str | None = None, omega: float | None = None,
             T_ref: float | None = None, provenance: str | None = None,
             power_dBm: str | float = "filename", encoding: str | None = None) -> Dataset:
    """Read one curve from a CSV-like text file into a :class:`Dataset`.

    The formats understood are listed in :mod:`jtls.data`; every choice the
    reader makes is written to ``Dataset.notes``.

    Parameters
    ----------
    path : str or path-like
        File to read (never modified).
    delimiter : {',', ';', '\\t', ' '}, optional
        Cell separator (' ': any whitespace); None detects it from the header
        and the first data row (';' over tab over ',' over whitespace).
    decimal : {'.', ','}, optional
        Decimal mark; None: ',' when the separator is not ',' and a numeric
        cell contains a comma.  In a comma-separated file, quoted cells such as
        "1,5" are read as decimal commas (noted; "1,500" alone is ambiguous with
        digit grouping and is an error asking for ``decimal=','``).
    skip_title : int, optional
        Number of non-comment lines above the header; None detects them (the
        header is the line just above the first row whose first cell is a
        number; everything above it is title, kept as ``provenance``).
    header : bool, optional
        Whether a header line exists; None detects it.
    columns : Mapping, optional
        Roles -> header names or 0-based column indices, e.g.
        ``{"T": "Temperatur (mK)", "value": "Qint"}`` (roles "T", "value",
        "sigma"); the mapping header name -> role is accepted as well.
        Default: T is the column named T/Temperature/Temperatur/... (else the
        first; two such columns are refused as ambiguous), sigma the column
        named sigma/err/..., value the first remaining column that is not a
        temperature column.  A header naming a column twice is refused.
    T_unit : {'auto', 'K', 'mK', 'uK'}
        Unit of the temperature column: 'auto' reads it from the header (e.g.
        "(mK)", else K with a note); an explicit unit wins over the header
        (with a note if they differ).  Case matters: 'MK' (megakelvin) is an
        unknown unit, not mK.  Temperatures are returned in K.
    quantity : str, optional
        One of :data:`jtls.data.QUANTITIES`.  Overrides annotations and what
        is inferred from the header (as do the metadata below).
    units : str, optional
        Units of the numbers in the value and sigma columns (overrides the
        ``# units:`` annotation and the header, noted).  A pure-number unit
        -- %, ‰ (permil), ppm, ppb, a power of ten such as 1e-5, 10^-5,
        x10^-5 (the numbers are in units of it) -- is converted to plain
        numbers (noted; ``Dataset.units`` becomes "1"), the same as such a
        unit in the header ("dv/v (%)").  Other units (W/m/K) are kept as
        written, except for a dimensionless quantity (dv/v, Q, loss, ...),
        where they are refused.
    material : str, optional
        Sample name (default: from annotations, else the file stem).
    omega : float, optional
        Probing angular frequency, rad/s.
    T_ref : float, optional
        Reference temperature of relative data, K.
    provenance : str, optional
        Where the numbers come from.
    power_dBm : 'filename', 'column' or float
        For files with a drive-power column: 'filename' (default: the
        ``minusNNdBm`` of the file name decides, falling back to the column),
        'column' (the column decides) or a number in dBm (the user decides).
        A disagreement between file name and column is noted and warned about
        (:class:`DataWarning`); ``meta['power_dBm_source']`` records the choice.
    encoding : str, optional
        Text encoding, e.g. 'utf-8', 'latin-1', 'cp1252', 'utf-16'.  None
        detects it: a byte-order mark (UTF-8/16/32), else UTF-8, else UTF-16
        without BOM, else cp1252/Latin-1 (noted).  Line ends may be LF, CRLF
        or CR alone.

    Returns
    -------
    Dataset
        The curve, T in K, (n,) arrays in file order.

    Raises
    ------
    ValueError
        Naming file, line and column for malformed input (missing column,
        duplicate column name, two temperature columns, unknown temperature
        unit, a unit that is not a pure number for a dimensionless quantity,
        a sigma column in another unit than its value, non-numeric or empty
        cell, NaN/inf, non-positive or repeated T, ...).
    FileNotFoundError
        If the file does not exist.

    Examples
    --------
    A file in mK with units in the header:

    >>> import tempfile, pathlib
    >>> from jtls.data import read_csv
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "kappa.csv"
    >>> _ = p.write_text("Temperature (mK),k (W/m/K)\\n100,2.0e-5\\n200,6.5e-5\\n400,2.1e-4\\n")
    >>> ds = read_csv(p, quantity="thermal_conductivity")
    >>> ds.T, ds.units
    (array([0.1, 0.2, 0.4]), 'W/m/K')
    >>> ds.notes[1]
    'temperatures converted from mK to K'
    """
    path = Path(path)
    src = _Src(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in (".csv", ".txt", ".dat"))
        hint = (f" (it holds {', '.join(inside[:5])}{', ...' if len(inside) > 5 else ''})"
                if inside else "")
        raise ValueError(f"{path} is a directory, not a data file; give the path of one "
                         f"CSV file in it{hint}")
    if not path.is_file():
        raise FileNotFoundError(f"no such data file: {path}")
    try:
        raw = path.read_bytes()
    except OSError as exc:          # permissions, a vanished network file: a message naming it
        raise ValueError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    text, enc_note = _decode(path, raw, encoding)
    lines = _split_lines(text)
    notes: list[str] = [enc_note] if enc_note else []
    ann: dict[str, Any] = {"note": [], "excluded": [], "provenance": [], "meta": {}}
    body = []
    for ln, t in lines:
        s = t.strip()
        if not s:
            continue
        if s.startswith("#"):
            if not body:
                m = re.match(r"^#\s*([A-Za-z_][\w.\-]*)\s*:\s*(.*)$", s)
                if m:
                    key, val = m.group(1), m.group(2).strip()
                    if key in ("note", "excluded", "provenance"):
                        ann[key].append((ln, val))
                    elif key.startswith("meta."):
                        ann["meta"][key[5:]] = float(val) if _NUM.match(val) else val
                    else:
                        ann[key] = (ln, val)
            continue
        body.append((ln, t))
    if not body:
        raise src.err(lines[-1][0], "no data rows found")
    if delimiter is None:
        # from the last rows (data, never a title line)
        delimiter = _detect_delimiter([t for _, t in body[-3:]])
    elif delimiter in (" ", "whitespace"):
        delimiter = None
    rows = [(ln, _cells(t, delimiter)) for ln, t in body]
    if decimal not in (None, ".", ","):
        raise ValueError(f"read_csv: decimal must be '.' or ',', got {decimal!r}")
    if decimal == "," and delimiter == ",":
        # a comma-separated file can hold a decimal comma only inside quotes ("1,5"); its
        # unquoted cells hold no comma, and a '.' in them is a decimal point
        decimal = ".q"
    if decimal is None:
        decimal = "."
        # cells of rows that are all numbers (title and header lines may quote "1,386")
        numeric = [(ln, r) for ln, r in rows
                   if all(_is_num(c, ".q") for c in r if c.strip()) and any(c.strip() for c in r)]
        comma_cells = [(ln, c.strip()) for ln, r in numeric for c in r if _COMMA_NUM.match(c.strip())]
        if delimiter != "," and comma_cells:
            decimal = ","
            notes.append("decimal separator ',' detected")
        elif delimiter == "," and comma_cells:
            # a comma inside a cell of a comma-separated file comes from quotes ("1,5")
            if all(re.match(r"^[+-]?\d{1,3},\d{3}$", c) for _, c in comma_cells):
                ln_, c_ = comma_cells[0]
                raise src.err(ln_, f"quoted cell {c_!r} is ambiguous: decimal comma "
                              f"({c_.replace(',', '.')}) or digit grouping "
                              f"({c_.replace(',', '')})?  Pass decimal=',' if the "
                              f"quoted commas are decimal commas, or write the numbers without "
                              f"grouping")
            decimal = ".q"
            notes.append("quoted cells with a decimal comma (\"1,5\") read as decimal numbers")
    # locate header and data
    if skip_title is None:
        first = next((k for k, (_, r) in enumerate(rows) if r and _is_num(r[0], decimal)), None)
        if first is None:
            raise src.err(rows[-1][0], "no data row found (no line starts with a number)")
        if header is None:
            header = first > 0
        hdr_pos = first - 1 if header else None
        n_title = first - (1 if header else 0)
    else:
        if header is None:
            header = True
        n_title = int(skip_title)
        hdr_pos = n_title if header else None
        first = n_title + (1 if header else 0)
    if first >= len(rows):
        raise src.err(rows[-1][0], "no data rows after the header")
    if delimiter is None:
        title = [t.strip() for _, t in body[:n_title]]
    else:
        title = [", ".join(c.strip() for c in r if c.strip()) for _, r in rows[:n_title]]
    if hdr_pos is not None:
        hln, hcells = rows[hdr_pos]
        hcells = [c.strip() for c in hcells]
        while hcells and hcells[-1] == "":
            hcells.pop()
        bad = [j for j, c in enumerate(hcells) if _is_num(c, decimal)]
        if bad:
            # a row holding numbers is a (malformed) data row, not a header: report its bad cell
            above = [c.strip() for c in rows[hdr_pos - 1][1]] if hdr_pos > 0 else None
            j = next(j for j, c in enumerate(hcells) if not _is_num(c, decimal))
            raise src.err(hln, f"non-numeric cell {hcells[j]!r} in a row of numbers", j, above)
        dup = duplicate_header(hcells)
        if dup:
            i, j = dup
            what = (f"column name {hcells[j]!r}" if hcells[j] else "empty column name")
            raise src.err(hln, f"duplicate {what}: column {i + 1} has the same name, so which "
                          f"column is meant is ambiguous; rename (or delete) one of them", j, hcells)
    else:
        hln, hcells = None, []
    ncol = len(hcells) if hcells else len(rows[first][1])
    names = [_split_header(c) for c in hcells] if hcells else [(n, None) for n in
                                                              ["t", "value", "sigma"][:ncol]]
    if not hcells and ncol > 3:
        names += [(f"col{j + 1}", None) for j in range(3, ncol)]
    disp = hcells or [n for n, _ in names]

    # column roles
    role = {}
    if columns:
        cmap = dict(columns)
        if not (set(cmap) <= {"T", "value", "sigma"}) and set(cmap.values()) <= {"T", "value", "sigma"}:
            cmap = {v: k for k, v in cmap.items()}
        for r_, spec in cmap.items():
            if r_ not in ("T", "value", "sigma"):
                raise ValueError(f"read_csv: columns: unknown role {r_!r} (use T, value, sigma)")
            if isinstance(spec, (int, np.integer)):
                if not 0 <= spec < ncol:
                    raise src.err(hln or rows[first][0], f"missing column: index {spec} for {r_} "
                                  f"(the file has {ncol} columns)")
                role[r_] = int(spec)
            else:
                hits = [j for j, c in enumerate(hcells) if c == spec or c.lower() == str(spec).lower()
                        or names[j][0] == str(spec).lower()]
                if not hits:
                    raise src.err(hln or rows[first][0], f"missing column {spec!r} for {r_}; "
                                  f"header has {hcells}")
                role[r_] = hits[0]
    lname = [n for n, _ in names]
    t_named = [j for j, n in enumerate(lname) if n in _T_NAMES]
    if not role and "jtls-dataset" in ann and hcells[:2] == ["T(K)", "value"]:
        # the annotated format's own columns (an extra column such as 'T_mK' is not a second T)
        role = {"T": 0, "value": 1, **({"sigma": 2} if hcells[2:3] == ["sigma"] else {})}
    if "T" not in role:
        hits = [j for j in t_named if j not in role.values()]
        if hcells and not hits:
            raise src.err(hln, f"missing column: no temperature column (T, Temperature, "
                          f"Temperatur, ...) in header {hcells}")
        if len(hits) > 1:
            raise src.err(hln, f"ambiguous: {len(hits)} temperature columns "
                          f"({', '.join(repr(disp[j]) for j in hits)}); say which one is T with "
                          f"columns={{'T': NAME}} (a temperature column is never taken as the value)",
                          hits[1], disp)
        role["T"] = hits[0] if hits else 0
    auto_sigma = "sigma" not in role
    if auto_sigma:
        hits = [j for j, n in enumerate(lname) if j != role["T"] and j not in role.values()
                and is_sigma_name(n, _SIGMA_NAMES, _T_NAMES)]
        if hits:
            role["sigma"] = hits[0]
    special = {"row"} | _POWER_NAMES
    if "value" not in role:
        hits = [j for j in range(ncol) if j not in role.values() and lname[j] not in special
                and j not in t_named]
        if not hits:
            raise src.err(hln or rows[first][0], f"missing column: no value column in {disp} "
                          f"(temperature columns are never taken as the value; name it with "
                          f"columns={{'value': NAME}})")
        role["value"] = hits[0]

    # units of T
    t_head_unit = names[role["T"]][1]
    if T_unit == "auto":
        tu = t_head_unit or (ann["T_unit"][1] if "T_unit" in ann else None)
        if tu is None:
            tu = "K"
            notes.append("temperature unit not stated; assumed K")
    else:
        tu = T_unit
        if t_head_unit and temperature_scale(t_head_unit) != temperature_scale(T_unit):
            notes.append(f"T_unit={T_unit!r} given; overrides header unit {t_head_unit!r}")
    tscale = temperature_scale(tu)
    if tscale is None:
        raise src.err(hln or rows[first][0], unknown_temperature_unit(tu), role["T"], disp)
    if tscale != 1.0:
        notes.append(f"temperatures converted from {tu} to K")

    # data rows
    data = np.empty((len(rows) - first, ncol))
    lns = []
    for k, (ln, r) in enumerate(rows[first:]):
        while len(r) > ncol and r[-1].strip() == "":
            r = r[:-1]
        if len(r) != ncol:
            raise src.err(ln, f"mismatched lengths: {len(r)} cells, expected {ncol} as in "
                          f"{'the header' if hcells else 'the first data row'}")
        for j, c in enumerate(r):
            data[k, j] = _to_float(c, decimal, src, ln, j, disp)
        lns.append(ln)
    lns = np.array(lns)
    T = data[:, role["T"]] * tscale
    val = data[:, role["value"]]
    sig = data[:, role["sigma"]] if "sigma" in role else None
    jt, jv = role["T"], role["value"]
    for i in range(len(T)):
        if not T[i] > 0:
            raise src.err(lns[i], f"non-positive temperature {float(data[i, jt])!r}", jt, disp)
        if sig is not None and not sig[i] > 0:
            raise src.err(lns[i], f"non-positive uncertainty {float(sig[i])!r}", role["sigma"], disp)
    seen = {}
    for i, t in enumerate(T):
        if t in seen:
            raise src.err(lns[i], f"duplicate temperature {float(data[i, jt])!r} (also on line "
                          f"{lns[seen[t]]})", jt, disp)
        seen[t] = i

    # metadata: user > annotation > inferred
    def pick(name, user, inferred=None, conv=str):
        if user is not None:
            if name in ann and not isinstance(ann[name], list) and conv(ann[name][1]) != user:
                notes.append(f"{name} = {user!r} given; overrides annotation {ann[name][1]!r}")
            return user
        if name in ann and not isinstance(ann[name], list):
            ln_, v_ = ann[name]
            try:
                return conv(v_)
            except ValueError:
                raise src.err(ln_, f"annotation {name}: cannot read {v_!r}") from None
        return inferred

    vname, vunit = names[jv]
    q_inf = next((q for ns, q in _QUANTITY_BY_NAME if vname in ns), None)
    if q_inf is None and vunit and re.sub(r"[\s()·*]", "", vunit).lower() in ("w/m/k", "w/mk", "w/m-k"):
        q_inf = "thermal_conductivity"
    if q_inf is None and (vname in _FREQUENCY_NAMES or (vunit or "").strip().lower() in FREQUENCY_UNITS):
        q_inf = "resonance_frequency"      # absolute f(T): Dataset.as_frequency_shift gives delta f/f
    q = pick("quantity", quantity, q_inf)
    if q is None:
        q = "unknown"
        notes.append(f"quantity not given and not recognised from column {disp[jv]!r}")
    elif quantity is None and "quantity" not in ann:
        notes.append(f"quantity {q!r} inferred from column {disp[jv]!r}")
    if q not in QUANTITIES:
        raise ValueError(f"{path}: unknown quantity {q!r}; expected one of {QUANTITIES}")
    if q in POSITIVE_QUANTITIES:
        for i in range(len(val)):
            if not val[i] > 0:
                raise src.err(lns[i], f"non-positive value {float(val[i])!r} ({q} must be > 0)", jv, disp)
    un, vscale = file_units(src, path, ann, notes, units, hcells, names, role, q, hln or rows[first][0],
                            disp)
    if un is None:
        un = "1" if q in ("resonator_shift", "quality_factor", "resonator_loss") else ""
    if vscale is not None:
        val = to_plain(val, vscale)
        sig = None if sig is None else to_plain(sig, vscale)
    mat = pick("material", material, path.stem)
    om = pick("omega", omega, None, float)
    tr = pick("T_ref", T_ref, None, float)
    if tr is None and q == "resonator_shift":
        z = np.flatnonzero(val == 0.0)
        if len(z) == 1:
            tr = float(T[z[0]])
            notes.append(f"T_ref = {tr:g} K taken from the row where the shift is exactly 0")
    prov = provenance
    if prov is None:
        prov = " ".join(v for _, v in ann["provenance"]) or " | ".join(title)
    source = ann["source"][1] if "source" in ann and not isinstance(ann["source"], list) else str(path)
    notes = [v for _, v in ann["note"]] + notes
    if not any(n.startswith("read from") for n in notes):
        notes.insert(0, f"read from {path}" if source == str(path) else f"read from {path} (source {source})")

    # extra columns, row indices, power
    extra = {}
    index = np.arange(len(T))
    meta: dict[str, Any] = dict(ann["meta"])
    power_col = False
    first_of: dict[str, int] = {}
    for j in range(ncol):
        if j in role.values():
            continue
        n_, u_ = names[j]
        if n_ == "row":
            index = data[:, j].astype(int)
            if np.any(index != data[:, j]) or len(set(index.tolist())) != len(index):
                raise src.err(lns[0], "column 'row' must hold distinct integers", j, disp)
            continue
        raw_name = re.sub(r"\s*[\(\[].*$", "", hcells[j]).strip() if hcells else n_
        bracket = bool(hcells) and raw_name != hcells[j]       # 'T_mK' keeps its name
        key = "power_dBm" if (n_ in _POWER_NAMES and (u_ or "").lower() == "dbm") else \
            (f"{raw_name}_{u_}" if u_ and bracket else (hcells[j] if hcells else n_))
        if key in first_of:
            i = first_of[key]
            raise src.err(hln or lns[0], f"duplicate column name: columns {i + 1} ({disp[i]!r}) and "
                          f"{j + 1} would both be kept as Dataset.extra[{key!r}]; rename one", j, disp)
        first_of[key] = j
        extra[key] = data[:, j]
        power_col = power_col or key == "power_dBm" and n_ in _POWER_NAMES
    if "jtls-dataset" not in ann:       # (the annotated format's columns are its own: no notes)
        notes += column_notes(disp, role, auto_sigma, {j for j in range(ncol) if names[j][0] == "row" or
                                                       names[j][0] in _POWER_NAMES and power_col})
    if power_col:
        col = extra["power_dBm"]
        m = re.search(r"(minus|m|-|plus|p)?(\d+(?:\.\d+)?)dBm", path.name, re.I)
        from_name = None
        if m:
            sign = -1.0 if (m.group(1) or "").lower() in ("minus", "m", "-") else 1.0
            from_name = sign * float(m.group(2))
        uniq = np.unique(col)
        col_val = float(uniq[0]) if len(uniq) == 1 else None
        if isinstance(power_dBm, (int, float)) and not isinstance(power_dBm, bool):
            chosen, how = float(power_dBm), "user"
        elif power_dBm == "filename" and from_name is not None:
            chosen, how = from_name, "file name"
        elif power_dBm in ("filename", "column"):
            if col_val is None:
                raise src.err(lns[0], f"power column is not constant ({uniq}); pass power_dBm=",
                              None)
            chosen, how = col_val, "column"
        else:
            raise ValueError(f"read_csv: power_dBm must be 'filename', 'column' or a number, "
                             f"got {power_dBm!r}")
        if from_name is not None and col_val is not None and from_name != col_val:
            msg = (f"{path.name}: power column says {col_val:g} dBm but the file name says "
                   f"{from_name:g} dBm; using {chosen:g} dBm (decided by the {how})")
            notes.append(msg)
            warnings.warn(msg, DataWarning, stacklevel=2)
            extra["power_dBm_column"] = col.copy()
        elif how == "user" and col_val is not None and col_val != chosen:
            notes.append(f"power {chosen:g} dBm given by the user; the column says {col_val:g} dBm")
            extra["power_dBm_column"] = col.copy()
        extra["power_dBm"] = np.full(len(T), chosen)
        meta["power_dBm"] = chosen
        meta["power_dBm_source"] = how
    excluded = []
    for ln_, v_ in ann["excluded"]:
        parts = [p.strip() for p in v_.split(",", 3)]
        try:
            ev = float(parts[2]) if vscale is None else float(to_plain(float(parts[2]), vscale))
            excluded.append(ExcludedPoint(int(parts[0]), float(parts[1]), ev, parts[3]))
        except (ValueError, IndexError):
            raise src.err(ln_, f"annotation excluded: expected 'index, T, value, reason', "
                          f"got {v_!r}") from None
    return Dataset(T=T, value=val, sigma=sig, quantity=q, units=un, material=mat, omega=om,
                   T_ref=tr, source=source, provenance=prov, extra=extra, meta=meta,
                   notes=tuple(notes), excluded=tuple(excluded), index=index, line=lns,
                   sha256=hashlib.sha256(raw).hexdigest())


def write_csv(ds: Dataset, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a dataset in the annotated format described in :mod:`jtls.data`.

    Metadata, notes and excluded points go to ``#`` lines; floats are written
    with ``repr`` so that :func:`read_csv` gives back the same numbers exactly.

    Parameters
    ----------
    ds : Dataset
        The curve to write (T in K; value and sigma in ``ds.units``).
    path : str or path-like
        File to write.
    overwrite : bool
        Replace an existing file (default: refuse, naming it).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If a column name contains a comma, or ``path`` exists and ``overwrite`` is False.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from jtls.data import Dataset, read_csv, write_csv
    >>> ds = Dataset(T=[0.1, 0.2], value=[-1.5e-5, -1.2e-5], quantity="velocity", omega=5.65e5)
    >>> p = write_csv(ds, pathlib.Path(tempfile.mkdtemp()) / "dvv.csv")
    >>> print(p.read_text())
    # jtls-dataset: 1
    # quantity: velocity
    # units:
    # material:
    # omega: 565000.0
    T(K),value,row
    0.1,-1.5e-05,0
    0.2,-1.2e-05,1
    <BLANKLINE>
    >>> back = read_csv(p)
    >>> back.value.tolist() == ds.value.tolist(), back.omega
    (True, 565000.0)
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(f"write_csv: {path} exists; pass overwrite=True to replace it")
    out = ["# jtls-dataset: 1", f"# quantity: {ds.quantity}", f"# units: {ds.units}",
           f"# material: {ds.material}"]
    if ds.omega is not None:
        out.append(f"# omega: {ds.omega!r}")
    if ds.T_ref is not None:
        out.append(f"# T_ref: {ds.T_ref!r}")
    for key, val in (("provenance", ds.provenance), ("source", ds.source)):
        if val:
            out.append(f"# {key}: {' '.join(str(val).split())}")
    out += [f"# note: {' '.join(n.split())}" for n in ds.notes if not n.startswith("read from")]
    out += [f"# meta.{k}: {v}" for k, v in ds.meta.items()]
    out += [f"# excluded: {e.index}, {e.T!r}, {e.value!r}, {' '.join(e.reason.split())}"
            for e in ds.excluded]
    num_extra = {k: a for k, a in ds.extra.items() if a.dtype.kind in "fiub"}
    cols = ["T(K)", "value"] + (["sigma"] if ds.sigma is not None else []) + list(num_extra) + ["row"]
    for c in cols:
        if "," in c:
            raise ValueError(f"write_csv: column name {c!r} contains a comma")
    out.append(",".join(cols))
    for i in range(len(ds)):
        r = [repr(float(ds.T[i])), repr(float(ds.value[i]))]
        if ds.sigma is not None:
            r.append(repr(float(ds.sigma[i])))
        r += [repr(float(a[i])) for a in num_extra.values()]
        r.append(str(int(ds.index[i])))
        out.append(",".join(r))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path
