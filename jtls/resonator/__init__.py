"""jtls.resonator: superconducting-resonator observables with any TLS DOS.

* :mod:`~jtls.resonator.digamma` -- Re psi(1/2 + i y) and -Im psi'(1/2 + i y) (real y).
* :mod:`~jtls.resonator.response` -- finite-frequency resonant TLS shift, TLS loss with
  power saturation, relaxation shift/loss;
  :mod:`~jtls.resonator.susceptibility` -- the resonant susceptibility (principal value,
  any DOS) and the DOS normalisation.
* :mod:`~jtls.resonator.quasiparticle` -- Mattis-Bardeen low-T shift and loss.
* :mod:`~jtls.resonator.conversions` -- F delta0, f0, photons, dBm <-> C, C_dip, P0.
* :mod:`~jtls.resonator.models` -- complete models, registered with jtls.fit as
  ``resonator_shift`` and ``resonator_loss`` on import of this package.
"""
from . import conversions  # noqa: F401
from .digamma import im_trigamma_half, re_digamma_half
from .quasiparticle import delta_bcs, frequency_shift_qp, k0e, loss_qp
from .response import (default_n0, frequency_shift_relaxation_dos, frequency_shift_tls,
                       frequency_shift_tls_dos, frequency_shift_tls_stm, loss_relaxation_dos,
                       loss_tls, loss_tls_dos, resonant_response_dos, resonator_power_law_dos,
                       saturation, stm_phi)
from .models import (QP_OFF, check_quasiparticles, register, resonator_loss, resonator_loss_parts,
                     resonator_shift, resonator_shift_parts)

try:  # make `jtls fit --observable resonator_shift|resonator_loss` available
    register()
except ModuleNotFoundError:  # pragma: no cover - jtls.fit not installed in this build
    pass

__all__ = [
    "re_digamma_half", "im_trigamma_half", "resonant_response_dos", "default_n0",
    "frequency_shift_tls_dos", "frequency_shift_tls", "frequency_shift_tls_stm", "stm_phi",
    "resonator_power_law_dos", "saturation", "loss_tls_dos", "loss_tls",
    "frequency_shift_relaxation_dos", "loss_relaxation_dos", "frequency_shift_qp", "loss_qp",
    "delta_bcs", "k0e", "resonator_shift", "resonator_shift_parts", "resonator_loss",
    "resonator_loss_parts", "register", "conversions", "QP_OFF", "check_quasiparticles",
]
