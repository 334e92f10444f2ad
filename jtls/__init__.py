"""jtls: low-temperature physics of tunneling two-level systems in JAX.

Importing jtls enables float64 in JAX once (see :mod:`jtls._config`).
Units and conventions: :mod:`jtls.units`.
"""
from . import _config  # noqa: F401  (must come first: enables float64)
from . import data, units
from .data import Dataset, paper_table, read_csv, require_dataset, shared_data_dir, write_csv
from .dos import (ConstantDOS, DipolarGapDOS, GaussianDOS, PowerLawDOS,
                  TabulatedDOS)
from . import observables
from .observables import *  # noqa: F401,F403  (the names listed in observables.__all__)

__version__ = "0.1.0"

__all__ = [
    "units", "data", "observables", "Dataset", "read_csv", "write_csv", "paper_table",
    "require_dataset", "shared_data_dir",
    "ConstantDOS", "DipolarGapDOS", "GaussianDOS", "PowerLawDOS", "TabulatedDOS",
] + list(observables.__all__)
