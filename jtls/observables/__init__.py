"""Observables of Churkin et al. 2021 as pure JAX functions.

* :mod:`.thermal` -- specific heat (Eq. 6), thermal conductivity (Eq. 5, A1, SI).
* :mod:`.matthiessen` -- extra phonon scattering (boundary, Rayleigh) by Matthiessen's rule;
  :mod:`.matthiessen_si` -- the same in absolute units (W/(m K)).
* :mod:`.acoustic` -- sound velocity (Eqs. 7, 8, A2) and internal friction;
  :mod:`.acoustic_resonant` -- its resonant part (Eq. 7).
* :mod:`.dielectric` -- dielectric constant (Eqs. 7, 8 with C -> C_dip) and
  loss tangent.

Power-law functions take the Eq. (3) parameters; ``*_dos`` variants take any
model of :mod:`jtls.dos`.
"""
import jax
from jax.typing import ArrayLike

from .acoustic import (internal_friction, internal_friction_dos, resonant_constant,
                       velocity_shift, velocity_shift_dos, velocity_shift_relaxation,
                       velocity_shift_relaxation_A2, velocity_shift_relaxation_A2_dos,
                       velocity_shift_relaxation_dos, velocity_shift_resonant,
                       velocity_shift_resonant_dos)
from .dielectric import (dielectric_shift, dielectric_shift_dos, dielectric_shift_relaxation,
                         dielectric_shift_relaxation_dos, dielectric_shift_resonant,
                         dielectric_shift_resonant_dos, loss_tangent, loss_tangent_dos)
from .matthiessen import (thermal_conductivity_matthiessen, thermal_conductivity_matthiessen_dos,
                          thermal_conductivity_si_matthiessen)
from .thermal import (specific_heat, specific_heat_dos, thermal_conductivity,
                      thermal_conductivity_A1, thermal_conductivity_A1_dos,
                      thermal_conductivity_dos, thermal_conductivity_si)


def power_law_dos(E: ArrayLike, T: ArrayLike, B: ArrayLike, mu: ArrayLike) -> jax.Array:
    """The DOS of Churkin et al. 2021, Eq. (3): n(T, E) = B (T^2 + E^2)^(mu/2), checked.

    The function form of :class:`jtls.dos.PowerLawDOS`, with the argument
    checks of the observables (ValueError naming a bad argument).

    Parameters
    ----------
    E : array_like
        Energies in K.
    T : array_like
        Temperatures in K (> 0).
    B : array_like
        Prefactor in K^-(1+mu).
    mu : array_like
        Dimensionless power.  All arguments broadcast.

    Returns
    -------
    jax.Array
        n in K^-1 (per TLS or per volume, as B), broadcast shape of the arguments.

    Examples
    --------
    >>> from jtls.observables import power_law_dos
    >>> print(power_law_dos([0.0, 1.0], T=1.0, B=2.0, mu=0.2))
    [2.         2.14354693]
    """
    from . import _common as c
    from ..dos import PowerLawDOS
    c.present(E=E, T=T, B=B, mu=mu)
    c.check(T=T, mu=mu, B=B)
    c.finite_args(E=E)
    out = PowerLawDOS(B, mu)(E, T)
    from .. import _validate as V
    V.finite_result("power_law_dos", out, E=E, T=T, B=B, mu=mu)
    return out


__all__ = [
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
