"""Measured curves: the :class:`Dataset` container, CSV reading and writing,
temperature windows, outlier flags, and the tables the papers print.

Reading
-------
:func:`read_csv` reads one curve (temperature plus one measured column, an
optional uncertainty column and any further columns kept as ``extra``) from

* plain files ``T,value[,sigma]`` (T in kelvin, header optional);
* files as they come from other people: title lines above the header (found
  automatically: the header is the line just above the first row whose first
  cell is a number), ``;`` / tab / whitespace separators, decimal commas,
  German headers (``Temperatur``), units in the header (``T(K)``,
  ``Temperature (mK)``, ``k(W/m/K)``, ``dv/v (%)``), any line ends (LF,
  CRLF, CR), quoted decimal commas, and text encodings detected in the
  order byte-order mark (UTF-8/16/32), UTF-8, UTF-16, cp1252, Latin-1
  (``encoding=`` to say which; the choice is noted);
* the annotated format written by :func:`write_csv` (below).

Units in the header: temperatures in mK and uK (µK) are converted to K
(case matters: ``T (MK)``, megakelvin, is refused, not read as mK).  A
pure-number unit of the value column -- ``%``, ``‰`` (permil), ``ppm``,
``ppb``, a power of ten ``(1e-5)``, ``[10^-5]``, ``(x10^-5)``, ``(×10⁻⁵)``
(the numbers are in units of it) -- is converted to plain numbers, for the
value and its sigma column (noted; ``Dataset.units`` becomes "1").  Any
other unit is kept as written (kappa and C_v have "any units": a fitted
amplitude B carries them), except for a dimensionless quantity (dv/v,
deps/eps, Q, loss, delta f/f:
:data:`jtls.data.dataset.DIMENSIONLESS_QUANTITIES`), where it is refused.
A sigma column must be in its value's unit (or state none).  A scale
written outside brackets (``dv/v x 10^5``: times, or in units of?) is
refused; ``units=`` overrides the header for both columns.

Nothing is guessed silently: every choice the reader makes (unit assumed,
power taken from the file name, ...) is written to ``Dataset.notes``.
Malformed input raises ``ValueError`` naming file, line and column: a missing
column, a column name written twice, two temperature columns (say which with
``columns={'T': ...}``; a temperature column is never taken as the value), a
unit not understood (above), a non-numeric or empty cell, NaN/inf, a row with
the wrong number of cells, a non-positive or repeated temperature, a
non-positive value of a positive quantity (kappa, C, Q, loss), a non-positive
uncertainty.

Annotated format
----------------
``#`` lines of the form ``# key: value`` before the header carry metadata::

    # jtls-dataset: 1
    # quantity: velocity          (see QUANTITIES)
    # units: 1                     (units of value and sigma; % or 1e-5 are converted)
    # material: a-SiO2
    # omega: 565486.6776           (probing angular frequency, rad/s)
    # T_ref: 1.0                   (reference temperature of relative data, K)
    # provenance: Fig. 5(a) of ... (free text; repeatable lines are joined)
    # source: /path/of/original
    # note: ...                    (repeatable)
    # meta.power_dBm: -160         (any meta.<key>: value pair)
    # excluded: 12, 1.75, 0.000235, outlier: ...   (index, T [K], value, reason)
    T(K),value,sigma,row
    0.1,1.2e-05,1e-07,0

``row`` holds the points' row indices in the original file (so exclusions
keep pointing at the original rows).  Any other column is kept in ``extra``.
Keyword arguments of :func:`read_csv` override annotations (noted).

Exclusions
----------
:meth:`Dataset.window` and :meth:`Dataset.flag_outliers` return a new
dataset whose removed points are listed in ``Dataset.excluded`` as
``ExcludedPoint(index, T, value, reason)`` -- reports print them.
"""
from .dataset import (POSITIVE_QUANTITIES, QUANTITIES, DataWarning, Dataset,  # noqa: F401
                      ExcludedPoint)
from .csvio import read_csv, write_csv  # noqa: F401
from .tables import (PaperTable, paper_table, repo_data_dir, require_dataset,  # noqa: F401
                     shared_data_dir)

__all__ = [
    "QUANTITIES", "POSITIVE_QUANTITIES", "DataWarning", "ExcludedPoint", "Dataset",
    "read_csv", "write_csv", "shared_data_dir", "require_dataset", "paper_table",
    "PaperTable", "repo_data_dir",
]
