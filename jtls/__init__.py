"""jtls: low-temperature physics of tunneling two-level systems in JAX.

Importing jtls enables float64 in JAX once (see :mod:`jtls._config`).
"""
from . import _config  # noqa: F401  (must come first: enables float64)
from . import units
from .dos import (ConstantDOS, DipolarGapDOS, GaussianDOS, PowerLawDOS,
                  TabulatedDOS)

__version__ = "0.1.0"

__all__ = [
    "units",
    "ConstantDOS", "DipolarGapDOS", "GaussianDOS", "PowerLawDOS", "TabulatedDOS",
]
