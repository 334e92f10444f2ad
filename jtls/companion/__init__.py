"""Companion models of the three papers that frame Churkin et al. 2021.

* :mod:`jtls.companion.meanfield` -- mean-field TLS glass, DOS with its dipole
  gap and the 1/lambda relaxation-rate distribution (Asban et al. 2022).
* :mod:`jtls.companion.relaxation` -- the statistics of its relaxation rates
  and the logarithmic relaxation (Eqs. 15-17 of Asban et al. 2022).
* :mod:`jtls.companion.two_tls` -- S-tau two-TLS model: the reduction factor
  P_S(E) of the S-TLS DOS (App. B2-B3) and the crossover T_U (Schechter &
  Stamp 2013).
* :mod:`jtls.companion.strength` -- the universal tunneling strength C from
  rho, v, v_o (Carruzzo & Yu 2020) and the electric/elastic interaction ratio
  r of Churkin et al. 2021, App. C.
"""
from . import meanfield, relaxation, strength, two_tls  # noqa: F401

__all__ = ["meanfield", "relaxation", "strength", "two_tls"]
