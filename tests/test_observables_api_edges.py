"""Edge cases of the observables' public API found by an audit: each test fails without its fix.

Reference values come from closed forms (cited in the comments), never from jtls itself.
"""
import math

import numpy as np
import pytest

import jtls


# ------------------------------------------------------------ resonant_constant input checks

def test_resonant_constant_refuses_mu_where_its_integral_diverges():
    # K(mu) = int_0^inf (1+u^2)^(mu/2) [tanh(u/2)/u - u/(1+u^2)] du: the integrand ~ u^(mu-3),
    # so K diverges for mu >= 2; it used to return inf at mu = 2 and a finite -57.6 at mu = 5
    for bad in (2.0, 5.0):
        with pytest.raises(ValueError, match="'mu'"):
            jtls.resonant_constant(bad)
    with pytest.raises(ValueError, match="'mu'"):
        jtls.resonant_constant(float("nan"))          # returned nan
    with pytest.raises(ValueError, match="'mu'"):
        jtls.resonant_constant("x")                   # raised JAX's TypeError
    with pytest.raises(ValueError, match="'mu'"):
        jtls.resonant_constant([])                    # returned an empty array


def test_resonant_constant_value_unchanged_at_mu_zero():
    # K(0) = ln 2 + gamma_E - ln pi (closed form of the STM integral)
    ref = math.log(2.0) + 0.5772156649015329 - math.log(math.pi)
    assert abs(float(jtls.resonant_constant(0.0)) - ref) < 1e-12


# ------------------------------------------------ None / empty parameters of the observables

@pytest.mark.parametrize("call, name", [
    (lambda: jtls.thermal_conductivity(0.1, 1.0, []), "mu"),
    (lambda: jtls.internal_friction(0.1, 3e-4, [], 1e7, 1e5), "mu"),
    (lambda: jtls.velocity_shift_resonant(0.1, [], 0.0), "C"),
    (lambda: jtls.velocity_shift_relaxation(0.1, np.zeros(0), 0.0, 1e7, 1e5), "C"),
    (lambda: jtls.observables.power_law_dos([], 1.0, 1.0, 0.0), "E"),
])
def test_empty_parameter_is_refused_by_name(call, name):
    # an empty parameter broadcast T to an empty result, silently
    with pytest.raises(ValueError, match=f"'{name}' is empty"):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: jtls.thermal_conductivity(0.1, 1.0, None), "mu"),
    (lambda: jtls.specific_heat(0.1, 1.0, None), "mu"),
    (lambda: jtls.velocity_shift_resonant(0.1, 3e-4, None), "mu"),
    (lambda: jtls.thermal_conductivity_matthiessen(0.1, 1.0, None), "mu"),
])
def test_none_parameter_is_refused_by_name(call, name):
    # mu=None skipped the checks ("not given") and failed inside jnp.asarray without a name
    with pytest.raises(ValueError, match=f"'{name}' is required"):
        call()
