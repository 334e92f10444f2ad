"""jtls: low-temperature physics of tunneling two-level systems in JAX.

The observables of Churkin et al. 2021 (specific heat, Eq. 6; thermal
conductivity, Eq. 5; sound velocity and dielectric constant, Eqs. 7-8) for
the power-law DOS of Eq. (3) or any DOS model of :mod:`jtls.dos`, as pure
JAX functions (jit, vmap, grad), plus fitting (:mod:`jtls.fit`),
superconducting resonators (:mod:`jtls.resonator`), an annealer for the DOS
of Hamiltonian (2) (:mod:`jtls.anneal`) and the companion models
(:mod:`jtls.companion`).

Importing jtls enables float64 in JAX once (see :mod:`jtls._config`).
Units and conventions (T and E in K, omega in rad/s, A in s^-1 K^-3):
:mod:`jtls.units`.  Every public function documents its units, shapes and
equation, with an example, e.g. ``help(jtls.velocity_shift)``.

Examples
--------
>>> import jtls
>>> print(jtls.specific_heat([0.1, 1.0], B=1.0, mu=0.0))     # (pi^2/6) B T
[0.16449341 1.64493407]
"""
from . import _config  # noqa: F401  (must come first: enables float64)
from ._config import use_synchronous_cpu_dispatch
from . import data, units
from .data import Dataset, paper_table, read_csv, require_dataset, shared_data_dir, write_csv
from .dos import (ConstantDOS, DipolarGapDOS, GaussianDOS, PowerLawDOS,
                  TabulatedDOS)
from . import observables
from .observables import *  # noqa: F401,F403  (the names listed in observables.__all__)

__version__ = "0.1.0"

#: Feature packages imported on first attribute access (``jtls.fit``, ``jtls.anneal``, ...),
#: so that ``import jtls`` stays light.
_LAZY_SUBPACKAGES = ("fit", "anneal", "resonator", "companion")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'jtls' has no attribute {name!r}")

__all__ = [
    "units", "data", "observables", "fit", "anneal", "resonator", "companion", "Dataset", "read_csv", "write_csv", "paper_table",
    "require_dataset", "shared_data_dir",
    "ConstantDOS", "DipolarGapDOS", "GaussianDOS", "PowerLawDOS", "TabulatedDOS",
    "use_synchronous_cpu_dispatch",
] + list(observables.__all__)
