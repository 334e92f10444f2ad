"""jtls: low-temperature physics of tunneling two-level systems in JAX.

Importing jtls enables float64 in JAX once (see :mod:`jtls._config`).
Units and conventions: :mod:`jtls.units`.
"""
from . import _config  # noqa: F401  (must come first: enables float64)
from . import data, units
from .data import Dataset, paper_table, read_csv, require_dataset, shared_data_dir, write_csv
from .dos import (ConstantDOS, DipolarGapDOS, GaussianDOS, PowerLawDOS,
                  TabulatedDOS)
from .observables import (dielectric_shift, dielectric_shift_dos, dielectric_shift_relaxation, dielectric_shift_relaxation_dos,
                          dielectric_shift_resonant_dos, loss_tangent_dos,
                          dielectric_shift_resonant, internal_friction, internal_friction_dos,
                          loss_tangent, power_law_dos, resonant_constant, specific_heat,
                          specific_heat_dos, thermal_conductivity, thermal_conductivity_A1,
                          thermal_conductivity_A1_dos, thermal_conductivity_dos,
                          thermal_conductivity_si, velocity_shift, velocity_shift_dos,
                          velocity_shift_relaxation, velocity_shift_relaxation_A2,
                          velocity_shift_relaxation_A2_dos, velocity_shift_relaxation_dos,
                          velocity_shift_resonant, velocity_shift_resonant_dos,
                          thermal_conductivity_matthiessen, thermal_conductivity_matthiessen_dos,
                          thermal_conductivity_si_matthiessen)

__version__ = "0.1.0"

__all__ = [
    "units", "data", "Dataset", "read_csv", "write_csv", "paper_table", "require_dataset",
    "shared_data_dir",
    "ConstantDOS", "DipolarGapDOS", "GaussianDOS", "PowerLawDOS", "TabulatedDOS",
    "power_law_dos",
    "specific_heat", "specific_heat_dos",
    "thermal_conductivity", "thermal_conductivity_dos", "thermal_conductivity_A1",
    "thermal_conductivity_A1_dos", "thermal_conductivity_si",
    "velocity_shift", "velocity_shift_dos", "velocity_shift_resonant",
    "velocity_shift_resonant_dos", "velocity_shift_relaxation", "velocity_shift_relaxation_dos",
    "velocity_shift_relaxation_A2", "velocity_shift_relaxation_A2_dos", "resonant_constant",
    "dielectric_shift", "dielectric_shift_dos", "dielectric_shift_resonant",
    "dielectric_shift_relaxation", "dielectric_shift_relaxation_dos",
    "dielectric_shift_resonant_dos", "loss_tangent_dos", "internal_friction", "internal_friction_dos", "loss_tangent",
    "thermal_conductivity_matthiessen", "thermal_conductivity_matthiessen_dos",
    "thermal_conductivity_si_matthiessen",
]
