"""Where data live: the shared measured datasets and the repository's paper tables."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from .csvio import _NUM

def repo_data_dir() -> Path:
    """The repository's ``data/`` folder (tables printed in the papers)."""
    return Path(__file__).resolve().parents[2] / "data"


def shared_data_dir(path=None) -> Path:
    """Folder of the real measured datasets: ``path``, else $JTLS_DATA, else <repo>/../shared/data."""
    if path is not None:
        return Path(path)
    env = os.environ.get("JTLS_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data"


def require_dataset(relpath, data_dir=None) -> Path:
    """Path of a shared dataset file; a clear FileNotFoundError if it is missing (never a skip)."""
    base = shared_data_dir(data_dir)
    p = base / relpath
    if not p.is_file():
        raise FileNotFoundError(
            f"dataset {relpath!r} not found under {base} (set $JTLS_DATA or pass the data "
            f"directory; the real datasets live in ../shared/data next to the repository)")
    return p


@dataclass(frozen=True, eq=False)
class PaperTable:
    """A table from ``data/``: columns (name -> numpy array), provenance comment lines, path."""
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
    """Load ``data/<name>.csv``: numeric columns as float64 (empty cells -> NaN), others as str.

    Names: "churkin2021_table2", "churkin2021_fit_parameters", "churkin2021_appC".
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
