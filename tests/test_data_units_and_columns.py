"""Hostile audit s13: defects in files, inputs and reproducibility found by an external referee.

Every test encodes the honest expected behaviour and fails at the time of the audit
(``xfail(strict=True)``); each is fast (< 10 s).
"""
import os
import shutil
import subprocess
import sys
import threading
import warnings

import jax
import numpy as np
import pytest

from jtls.data import DataWarning, read_csv

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIBRARY = os.path.join(REPO, "data", "simulated_dos_library.npz")


# ------------------------------------------------------------------------------- read_csv: units

def _read_with_warnings(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = read_csv(path)
    return ds, [w for w in caught if issubclass(w.category, DataWarning)]


@pytest.mark.xfail(strict=True, reason="audit s13: value-column unit (%, ppm, mW/m/K) read into "
                                       "Dataset.units but the numbers are used unconverted, silently")
@pytest.mark.parametrize("header,values,si", [
    ("dv/v (%)", "1\n0.2,2", [0.01, 0.02]),
    ("dv/v (ppm)", "1\n0.2,2", [1e-6, 2e-6]),
    ("kappa (mW/m/K)", "1\n0.2,2", [1e-3, 2e-3]),
])
def test_value_column_units_are_converted_or_refused(tmp_path, header, values, si):
    p = tmp_path / "curve.csv"
    p.write_text(f"T (K),{header}\n0.1,{values}\n")
    try:
        ds, warned = _read_with_warnings(p)
    except ValueError as exc:            # refusing the unit is honest too, if it names the column
        assert header in str(exc)
        return
    # jtls fit treats the values as SI (dimensionless dv/v, W/m/K): they must be converted,
    # or the user must at least be warned (a note in Dataset.notes does not reach `jtls fit`'s
    # verdict; the fit prints status ok with C 100x or B 1000x off)
    assert np.allclose(ds.value, si) or warned


@pytest.mark.xfail(strict=True, reason="audit s13: 'T (MK)' (megakelvin) read as millikelvin")
def test_megakelvin_is_not_millikelvin(tmp_path):
    p = tmp_path / "curve.csv"
    p.write_text("T (MK),v\n100,1\n200,2\n")
    with pytest.raises(ValueError, match="MK"):
        read_csv(p)


@pytest.mark.xfail(strict=True, reason="audit s13: a second temperature column is taken as the value column")
def test_second_temperature_column_is_not_the_value(tmp_path):
    p = tmp_path / "curve.csv"
    p.write_text("T (K),T (mK),kappa\n0.1,100,1e-5\n0.2,200,2e-5\n")
    try:
        ds = read_csv(p)
    except ValueError as exc:            # two temperature columns: ambiguous, refusing is honest
        assert "T (mK)" in str(exc)
        return
    np.testing.assert_allclose(ds.value, [1e-5, 2e-5])


@pytest.mark.xfail(strict=True, reason="audit s13: duplicate column names: the first is used silently")
@pytest.mark.parametrize("header", ["T,v,v", "T,T,v", "T,v,sigma,sigma"])
def test_duplicate_column_names_are_refused(tmp_path, header):
    p = tmp_path / "curve.csv"
    n = header.count(",") + 1
    rows = "\n".join(",".join([f"{t}"] + ["1"] * (n - 1)) for t in (0.1, 0.2))
    p.write_text(header + "\n" + rows + "\n")
    with pytest.raises(ValueError, match=r"(?i)duplicate|twice|more than once|ambiguous"):
        read_csv(p)


# ---------------------------------------------------------------------- simulated-DOS library

