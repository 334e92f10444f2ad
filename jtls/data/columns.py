"""Column roles of :func:`jtls.data.read_csv` that depend only on the header: which names hold
an uncertainty, and the notes saying which columns were taken for sigma and which were not used."""
from __future__ import annotations

#: Suffixes (after '_' or ' ') that make a column name an uncertainty: 'kappa_err', 'Qi error'.
SIGMA_SUFFIXES = ("err", "error", "errors", "sigma", "unc", "uncertainty", "std", "stderr")


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
