"""Where data live: the shared measured datasets and the repository's paper tables."""
from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from .csvio import _NUM


@functools.lru_cache(maxsize=1)
def repo_data_dir() -> Path:
    """The repository's ``data/`` folder (tables printed in the papers; resolved once per process)."""
    return Path(__file__).resolve().parents[2] / "data"


def shared_data_dir(path: str | os.PathLike | None = None) -> Path:
    """Folder of the real measured datasets.

    Parameters
    ----------
    path : str or path-like, optional
        Folder to use; wins over everything else.  When None: the environment
        variable ``$JTLS_DATA`` if set, else ``<repository>/../shared/data``.

    Returns
    -------
    pathlib.Path
        The folder (not checked to exist; :func:`require_dataset` checks files).

    Examples
    --------
    >>> from jtls.data import shared_data_dir
    >>> shared_data_dir("/data/glass").as_posix()
    '/data/glass'
    """
    if path is not None:
        return Path(path)
    env = os.environ.get("JTLS_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def require_dataset(relpath: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> Path:
    """Path of a shared measured dataset, or a clear error when it is missing.

    Parameters
    ----------
    relpath : str or path-like
        File path relative to the data folder, e.g.
        ``"resonator_nb_cpw/freq_shift.csv"``.
    data_dir : str or path-like, optional
        The data folder; default :func:`shared_data_dir` (``$JTLS_DATA``, else
        ``../shared/data`` next to the repository).

    Returns
    -------
    pathlib.Path
        Path of the existing file.

    Raises
    ------
    FileNotFoundError
        Naming the file and the folder searched (tests use this: a missing
        dataset is an error, never a skip).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from jtls.data import require_dataset
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "kappa.csv").write_text("T,value\\n0.1,1e-4\\n")
    >>> require_dataset("kappa.csv", data_dir=d).name
    'kappa.csv'
    >>> require_dataset("missing.csv", data_dir=d)
    Traceback (most recent call last):
    ...
    FileNotFoundError: dataset 'missing.csv' not found under ...
    """
    base = shared_data_dir(data_dir)
    p = base / relpath
    if not p.is_file():
        raise FileNotFoundError(
            f"dataset {relpath!r} not found under {base} (set $JTLS_DATA or pass the data "
            f"directory; the real datasets live in ../shared/data next to the repository)")
    return p


@dataclass(frozen=True, eq=False)
class PaperTable:
    """A table printed in a paper, as stored in the repository's ``data/`` folder.

    Made by :func:`paper_table`.  ``table[name]`` is a column, ``len(table)``
    the number of rows.

    Attributes
    ----------
    columns : Mapping[str, numpy.ndarray]
        Column name -> (n_rows,) array: float64 for numeric columns (empty
        cells NaN), str otherwise.  Units are in the column names (``T_K``: K).
    provenance : tuple of str
        The file's ``#`` comment lines: paper, table, how the numbers were made.
    path : str
        Path of the CSV file.

    Examples
    --------
    >>> from jtls.data import paper_table
    >>> t = paper_table("churkin2021_table2")
    >>> list(t.keys())
    ['J0_K', 'T_K', 'B', 'mu']
    >>> t.rows()[0]
    {'J0_K': 2.0, 'T_K': 0.1, 'B': 0.0118, 'mu': 0.103}
    """
    columns: Mapping[str, np.ndarray]
    provenance: tuple
    path: str

    def __getitem__(self, name):
        return self.columns[name]

    def keys(self):
        return self.columns.keys()

    def __len__(self):
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def rows(self) -> list[dict]:
        """The table as a list of {column: value} dicts."""
        return [{k: a[i].item() if hasattr(a[i], "item") else a[i] for k, a in self.columns.items()}
                for i in range(len(self))]


def paper_table(name: str) -> PaperTable:
    """Load a table printed in a paper from the repository's ``data/`` folder.

    Parameters
    ----------
    name : str
        File stem (``.csv`` optional): ``"churkin2021_table2"`` (Table II of
        the paper: B(T) and mu(T) of Eq. (3) at each J0 (K) and T (K)),
        ``"churkin2021_fit_parameters"``, ``"churkin2021_appC"``,
        ``"carruzzo2020_table1"``.

    Returns
    -------
    PaperTable
        Numeric columns as float64 (empty cells NaN), the others as str; the
        ``#`` lines as ``provenance``.

    Raises
    ------
    FileNotFoundError
        For an unknown name, listing the available tables.

    Examples
    --------
    >>> from jtls.data import paper_table
    >>> t = paper_table("churkin2021_table2")
    >>> len(t), t["mu"][:3]
    (14, array([0.103, ...]))
    """
    stem = name[:-4] if name.endswith(".csv") else name
    p = repo_data_dir() / f"{stem}.csv"
    if not p.is_file():
        avail = sorted(q.stem for q in repo_data_dir().glob("*.csv"))
        raise FileNotFoundError(f"no paper table {name!r} in {repo_data_dir()}; available: {avail}")
    prov, body = [], []
    for t in p.read_text(encoding="utf-8").splitlines():
        if t.startswith("#"):
            prov.append(t[1:].strip())
        elif t.strip():
            body.append(t)
    rows = list(csv.reader(body))
    head, data = rows[0], rows[1:]
    cols = {}
    for j, h in enumerate(head):
        vals = [r[j].strip() if j < len(r) else "" for r in data]
        if all(v == "" or _NUM.match(v) for v in vals) and any(vals):
            cols[h] = np.array([float(v) if v else np.nan for v in vals])
        else:
            cols[h] = np.array(vals, dtype=str)
    return PaperTable(columns=cols, provenance=tuple(prov), path=str(p))
