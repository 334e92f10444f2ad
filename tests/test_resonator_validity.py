"""The quasiparticle term's low-temperature forms (T <~ Tc/5, jtls.resonator.quasiparticle) are
named in a fit's warnings when the data reach beyond them at the fitted gap."""
import numpy as np

import jtls.resonator as R
from jtls.fit import Model, fit
from jtls.resonator.models import quasiparticle_caveats

OMEGA = R.conversions.omega_from_f0(5.62e9)
TRUTH = dict(F_delta0=1.3e-6, mu=0.3, Delta=13.5, alpha=0.012)     # Tc = 13.5/1.764 = 7.65 K


def _shift(tmax):
    T = np.linspace(0.08, tmax, 24)
    y = np.asarray(R.resonator_shift(T, **TRUTH, omega=OMEGA, T_ref=0.1))
    return T, y * (1 + 1e-3 * np.random.default_rng(0).standard_normal(T.size))


def test_a_fit_reaching_past_tc_over_5_is_warned_and_one_below_is_not():
    hot = fit(Model("resonator_shift", omega=OMEGA, T_ref=0.1), _shift(1.9))     # 1.9 K > 1.53 K
    cold = fit(Model("resonator_shift", omega=OMEGA, T_ref=0.1), _shift(1.2))
    assert hot.ok and cold.ok
    hits = [w for w in hot.warnings if "Tc/5" in w]
    assert len(hits) == 1 and "T = 1.9 K" in hits[0], hot.warnings
    assert not any("Tc/5" in w for w in cold.warnings), cold.warnings


def test_the_caveat_follows_the_gap_and_the_switch():
    T = np.linspace(0.1, 2.0, 5)
    # Tc/5 = Delta / 8.82: 2.0 K is above it for Delta = 13.5 K, below it for Delta = 18 K
    assert quasiparticle_caveats(T, {"alpha": 0.01, "Delta": 13.5}, {})
    assert not quasiparticle_caveats(T, {"alpha": 0.01, "Delta": 18.0}, {})
    # the term switched off (alpha = 0): nothing to warn about
    assert not quasiparticle_caveats(T, {"alpha": 0.0, "Delta": 13.5}, {})
