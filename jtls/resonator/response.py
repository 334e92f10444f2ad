"""Finite-frequency TLS response of a superconducting resonator, any DOS model.

Conventions: T, E and hbar*omega in kelvin (k_B = 1), omega in rad/s
(``w = jtls.units.omega_to_kelvin(omega)``), a DOS model ``dos`` of
:mod:`jtls.dos` called as ``dos(E, T)``.  ``n0`` is the DOS that defines the
loss tangent delta0; by default n0 = dos(hbar*omega, T=0), so that for every
model F*delta0 is the low-temperature, low-power TLS loss 1/Q_TLS(T -> 0).

Resonant response (omega*tau >> 1, low power).  With g_T(E) = n(T,E) tanh(E/2T)
the TLS susceptibility is, up to the dipole prefactor,

    chi(T) = (1/2) int_0^inf g_T(E) [1/(E - w - i0) + 1/(E + w + i0)] dE
    Re chi = P int_0^inf g_T(E) E / (E^2 - w^2) dE,   Im chi = (pi/2) g_T(w).

The real part diverges at large E for the analytic models, so it is returned
relative to a reference temperature,

    D(T) = Re chi(T) - Re chi(T_ref)                       (units of n),

and the resonator observables are (F = filling factor, delta0 = loss tangent)

    delta f/f(T) - delta f/f(T_ref) = -(F delta0 / pi) D(T) / n0
    1/Q_TLS(T, P) = F delta0 [n(T, w)/n0] tanh(w/2T) / (1 + P/P_c)^(beta/2).

The pair is Kramers-Kronig consistent: Im chi / n0 = (pi/2) tanh for n = n0.
For n = n0 (standard tunneling model) D(T) - D(T_ref) has the closed form
-(Phi(T) - Phi(T_ref)) with Phi(T) = Re psi(1/2 + i w/(2 pi T)) - ln(w/(2 pi T))
(Matsubara sum of tanh), i.e. the textbook
    delta f/f = (F delta0/pi) [Re psi(1/2 + hbar w/(2 pi i k_B T)) - ln(hbar w/k_B T)] + const.
For w << T, D(T) -> int [g_T - g_Tref] dE/E, the omega -> 0 resonant term of
Churkin et al. 2021 Eq. (7) (jtls.velocity_shift_resonant_dos): the
dielectric version d eps/eps = -(velocity) with C_dip = 2 delta0/pi gives
delta f/f = -(F/2) d eps/eps.

Quadrature of the principal value: :mod:`jtls.resonator.susceptibility`, with
:func:`resonant_response_dos` and :func:`default_n0` (also available here).

Relaxation response (Eq. 8 of Churkin et al. and its absorption partner): with
b = omega tau_min(E) = omega/(A E^3 coth(E/2T)) and
G(b) = int_0^1 sqrt(1-x^2)/x dx / (1 - i b/x^2) (closed form below),

    delta f/f_rel = -(F delta0/pi) int n/(2T cosh^2(E/2T)) Re G dE / n0,
    1/Q_rel      =  (2 F delta0/pi) int n/(2T cosh^2(E/2T)) Im G dE / n0,

whose STM plateau (omega tau_min << 1) is 1/Q_rel = F delta0 / 2.  At GHz
frequencies and T < 2 K it is small unless A is large (A = 0 switches it off).
"""
from __future__ import annotations

import math

import numpy as np
import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

from .. import _validate as V
from ..dos import DOSModel, PowerLawDOS
from ..observables._kernels import relaxation_kernel
from ..observables.acoustic import _relaxation_1
from ..units import omega_to_kelvin
# the resonant susceptibility and n0; their names, private ones included, are also available here
from .susceptibility import (ORDER, PV_PANELS, TAIL_PANELS, TOP_FACTOR, _check_e_max,  # noqa: F401
                             _check_n0, _g, _response_diff, _response_diff_jit, default_n0,
                             resonant_response_dos)


def frequency_shift_tls_dos(T: ArrayLike, dos: DOSModel, omega: ArrayLike, F_delta0: ArrayLike,
                            T_ref: ArrayLike = 1.0, n0: ArrayLike | None = None) -> jax.Array:
    """Resonant TLS frequency shift with any DOS: delta f/f(T) - delta f/f(T_ref) = -(F delta0/pi) D(T)/n0.

    D is :func:`resonant_response_dos`; the finite-frequency form of the
    resonant term of Eq. (7) with delta f/f = -(F/2) d eps/eps (module docstring).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    dos : DOS model
        A :mod:`jtls.dos` model called as ``dos(E, T)``.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    T_ref : array_like
        Reference temperature, K.
    n0 : array_like, optional
        DOS normalisation (default :func:`default_n0`).

    Returns
    -------
    jax.Array
        delta f/f (dimensionless), broadcast shape of T, T_ref, omega.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.frequency_shift_tls_dos(np.array([0.05, 0.2]), jtls.PowerLawDOS(1.0, 0.0), omega,
    ...                               1e-5, T_ref=0.1)
    >>> print([f"{v:.4g}" for v in x])          # = frequency_shift_tls_stm for a constant DOS
    ['3.645e-07', '5.354e-07']
    """
    V.amplitude("F_delta0", F_delta0)
    _check_n0(n0)
    V.broadcastable(T=T, T_ref=T_ref, omega=omega, F_delta0=F_delta0)
    D = resonant_response_dos(T, dos, omega, T_ref)
    n0 = default_n0(dos, omega) if n0 is None else n0
    return -(F_delta0 / math.pi) * D / n0


def stm_phi(T: ArrayLike, omega: ArrayLike) -> jax.Array:
    """Phi(T) = Re psi(1/2 + i y) - ln y with y = hbar omega/(2 pi k_B T), the STM shift's T dependence.

    psi is the digamma function; see :func:`frequency_shift_tls_stm`.

    Parameters
    ----------
    T : array_like
        Temperature(s), K.
    omega : array_like
        Angular frequency, rad/s (broadcast with T).

    Returns
    -------
    jax.Array
        Phi (dimensionless), broadcast shape of T and omega.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> print([f"{v:.4f}" for v in R.stm_phi(np.array([0.05, 0.1, 0.2]), omega)])
    ['-0.0920', '-0.2065', '-0.0383']
    """
    from .digamma import re_digamma_half
    y = omega_to_kelvin(jnp.asarray(omega, dtype=float)) / (2.0 * math.pi * jnp.asarray(T, dtype=float))
    return re_digamma_half(y) - jnp.log(y)


def frequency_shift_tls_stm(T: ArrayLike, omega: ArrayLike, F_delta0: ArrayLike,
                            T_ref: ArrayLike = 1.0) -> jax.Array:
    """Resonant TLS frequency shift of the standard tunneling model (constant DOS), closed form.

    delta f/f(T) - delta f/f(T_ref) = (F delta0/pi) [Phi(T) - Phi(T_ref)],
    Phi(T) = Re psi(1/2 + hbar omega/(2 pi i k_B T)) - ln(hbar omega/(2 pi k_B T))
    (:func:`stm_phi`; the textbook digamma form, e.g. Gao 2008, ch. 2).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    T_ref : array_like
        Reference temperature, K.

    Returns
    -------
    jax.Array
        delta f/f (dimensionless), broadcast shape of T, T_ref, omega.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.frequency_shift_tls_stm(np.array([0.05, 0.2]), omega, 1e-5, T_ref=0.1)
    >>> print([f"{v:.4g}" for v in x])          # minimum of delta f/f near hbar omega/2 k_B
    ['3.645e-07', '5.354e-07']
    """
    V.in_domain("T", T, "K")
    V.in_domain("T_ref", T_ref, "K")
    V.in_domain("omega", omega, "rad/s")
    V.amplitude("F_delta0", F_delta0)
    V.broadcastable(T=T, T_ref=T_ref, omega=omega, F_delta0=F_delta0)
    return (F_delta0 / math.pi) * (stm_phi(T, omega) - stm_phi(T_ref, omega))


def resonator_power_law_dos(mu: ArrayLike, omega: ArrayLike) -> PowerLawDOS:
    """The Eq. (3) DOS normalised at the resonance: n/n0 = ((T^2 + E^2)/(hbar omega)^2)^(mu/2).

    Parameters
    ----------
    mu : array_like
        DOS power of Eq. (3), dimensionless.
    omega : array_like
        Resonance angular frequency, rad/s.

    Returns
    -------
    PowerLawDOS
        ``PowerLawDOS(B = (hbar omega/k_B)^-mu, mu)`` (hbar omega in K), whose
        :func:`default_n0` is 1.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> dos = R.resonator_power_law_dos(0.2, omega)
    >>> print(f"{float(dos.B):.4f} {float(R.default_n0(dos, omega)):.4f}")
    1.3304 1.0000
    """
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    mu = jnp.asarray(mu, dtype=float)
    return PowerLawDOS(jnp.exp(-mu * jnp.log(w)), mu)


def frequency_shift_tls(T: ArrayLike, omega: ArrayLike, F_delta0: ArrayLike, mu: ArrayLike,
                        T_ref: ArrayLike = 1.0) -> jax.Array:
    """Resonant TLS frequency shift with the Eq. (3) DOS normalised at hbar omega.

    :func:`frequency_shift_tls_dos` with :func:`resonator_power_law_dos`;
    mu = 0 is the standard tunneling model (:func:`frequency_shift_tls_stm`).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    mu : array_like
        DOS power of Eq. (3), in [0, 1].
    T_ref : array_like
        Reference temperature, K.

    Returns
    -------
    jax.Array
        delta f/f(T) - delta f/f(T_ref) (dimensionless), broadcast shape of T.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.frequency_shift_tls(np.array([0.05, 0.2]), omega, 1e-5, mu=0.2, T_ref=0.1)
    >>> print([f"{v:.4g}" for v in x])
    ['2.877e-07', '6.551e-07']
    """
    V.mu_in_range("mu", mu)
    if np.ndim(mu) or np.ndim(omega):              # array mu/omega: elementwise DOS parameters
        from ._power_law import frequency_shift_tls_broadcast
        return frequency_shift_tls_broadcast(T, omega, F_delta0, mu, T_ref)
    dos = resonator_power_law_dos(mu, omega)
    return frequency_shift_tls_dos(T, dos, omega, F_delta0, T_ref, n0=1.0)


def saturation(P: ArrayLike, P_c: ArrayLike, beta: ArrayLike = 1.0) -> jax.Array:
    """Power saturation factor of the TLS loss, (1 + P/P_c)^(-beta/2).

    Parameters
    ----------
    P : array_like
        Drive power (or photon number), linear units, >= 0.
    P_c : array_like
        Critical power, the same linear units as P.
    beta : array_like
        Saturation exponent (1: the standard tunneling model).

    Returns
    -------
    jax.Array
        The factor in (0, 1], broadcast shape of the arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.resonator import saturation
    >>> print(saturation(np.array([0.0, 1.0, 10.0]), 1.0))
    [1.         0.70710678 0.30151134]
    """
    return jnp.exp(-0.5 * beta * jnp.log1p(jnp.asarray(P, dtype=float) / P_c))


def loss_tls_dos(T: ArrayLike, dos: DOSModel, omega: ArrayLike, F_delta0: ArrayLike,
                 P: ArrayLike = 0.0, P_c: ArrayLike = 1.0, beta: ArrayLike = 1.0,
                 n0: ArrayLike | None = None) -> jax.Array:
    """Resonant TLS loss with any DOS: 1/Q_TLS = F delta0 [n(T, w)/n0] tanh(w/2T) (1 + P/P_c)^(-beta/2).

    w = hbar omega/k_B; the Kramers-Kronig partner of
    :func:`frequency_shift_tls_dos` (module docstring).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    dos : DOS model
        A :mod:`jtls.dos` model called as ``dos(E, T)``.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    P, P_c : array_like
        Drive and critical power in one linear unit (W or photon number).
    beta : array_like
        Saturation exponent (1: standard).
    n0 : array_like, optional
        DOS normalisation (default :func:`default_n0`).

    Returns
    -------
    jax.Array
        1/Q_TLS (dimensionless), broadcast shape of T.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.loss_tls_dos(np.array([0.05, 0.1, 0.2]), jtls.PowerLawDOS(1.0, 0.0), omega, 1e-5)
    >>> print([f"{v:.4g}" for v in x])          # F delta0 tanh(hbar omega/2 k_B T)
    ['9.837e-06', '8.336e-06', '5.37e-06']
    """
    V.in_domain("T", T, "K")
    V.in_domain("omega", omega, "rad/s")
    V.amplitude("F_delta0", F_delta0)
    V.nonnegative_finite("P", P)
    V.positive_finite("P_c", P_c)
    V.nonnegative_finite("beta", beta)
    _check_n0(n0)
    V.dos_positive(dos, T)
    T = jnp.asarray(T, dtype=float)
    w = omega_to_kelvin(jnp.asarray(omega, dtype=float))
    n0 = default_n0(dos, omega) if n0 is None else n0
    out = F_delta0 * (dos(w, T) / n0) * jnp.tanh(0.5 * w / T) * saturation(P, P_c, beta)
    V.finite_result("loss_tls_dos", out, T=T, omega=omega, F_delta0=F_delta0)
    return out


def loss_tls(T: ArrayLike, omega: ArrayLike, F_delta0: ArrayLike, mu: ArrayLike,
             P: ArrayLike = 0.0, P_c: ArrayLike = 1.0, beta: ArrayLike = 1.0) -> jax.Array:
    """Resonant TLS loss with the Eq. (3) DOS normalised at hbar omega.

    1/Q_TLS = F delta0 ((T^2 + w^2)/w^2)^(mu/2) tanh(w/2T) (1 + P/P_c)^(-beta/2),
    w = hbar omega/k_B (:func:`loss_tls_dos` with :func:`resonator_power_law_dos`).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    mu : array_like
        DOS power of Eq. (3), in [0, 1].
    P, P_c : array_like
        Drive and critical power in one linear unit.
    beta : array_like
        Saturation exponent.

    Returns
    -------
    jax.Array
        1/Q_TLS (dimensionless), broadcast shape of T.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.loss_tls(np.array([0.05, 0.1, 0.2]), omega, 1e-5, mu=0.0, P=10.0)
    >>> print([f"{v:.4g}" for v in x])          # saturated: x (1 + 10)^(-1/2)
    ['2.966e-06', '2.513e-06', '1.619e-06']
    """
    V.mu_in_range("mu", mu)
    if np.ndim(mu) or np.ndim(omega):              # array mu/omega: elementwise DOS parameters
        from ._power_law import loss_tls_broadcast
        return loss_tls_broadcast(T, omega, F_delta0, mu, P, P_c, beta)
    return loss_tls_dos(T, resonator_power_law_dos(mu, omega), omega, F_delta0, P, P_c, beta,
                        n0=1.0)


# ------------------------------------------------------------------ relaxation

def relaxation_G(inv_b):
    """G(b) = int_0^1 sqrt(1-x^2)/x / (1 - i b/x^2) dx for b = 1/inv_b > 0 (complex).

    The shared kernel :func:`jtls.observables._kernels.relaxation_kernel`
    (G = beta artanh(1/beta) - 1, beta = sqrt(1 - i b), evaluated stably for
    every b) at ln b = -ln inv_b.  Re G -> int sqrt(1-x^2)/x/(1+b^2/x^4);
    Im G -> pi/4 as b -> 0.  inv_b = 0 (b = inf) gives 0.
    """
    inv_b = jnp.asarray(inv_b, dtype=float)
    pos = inv_b > 0
    g = relaxation_kernel(-jnp.log(jnp.where(pos, inv_b, 1.0)))
    return jnp.where(pos, g, 0.0)


@jax.jit
def _relaxation_R(T, dos, omega, A):
    """Complex R(T) = int_0^inf n(T,E)/(2T cosh^2(E/2T)) G(b(E)) dE (units of n).

    The integral of the core observables (:mod:`jtls.observables.acoustic`:
    Eq. 8 and the relaxation absorption), elementwise over the broadcast
    T, omega, A.  A = 0 gives 0 (b = inf).
    """
    T, om, A = jnp.broadcast_arrays(jnp.asarray(T, dtype=float), jnp.asarray(omega, dtype=float),
                                    jnp.asarray(A, dtype=float))
    on = A > 0
    A_safe = jnp.where(on, A, 1.0)
    r = jax.vmap(lambda t, a, o: _relaxation_1(t, dos, a, o))(
        T.reshape(-1), A_safe.reshape(-1), om.reshape(-1)).reshape(T.shape)
    return jnp.where(on, r, 0.0)


def _check_relaxation_args(T, omega, F_delta0, A, n0):
    V.in_domain("T", T, "K")
    V.in_domain("omega", omega, "rad/s")
    V.amplitude("F_delta0", F_delta0)
    V.amplitude("A", A, hi=1e300)   # enters through ln A only
    _check_n0(n0)


def frequency_shift_relaxation_dos(T: ArrayLike, dos: DOSModel, omega: ArrayLike,
                                   F_delta0: ArrayLike, A: ArrayLike,
                                   n0: ArrayLike | None = None) -> jax.Array:
    """Relaxation TLS frequency shift (absolute, -> 0 as T -> 0): -(F delta0/pi) Re R(T)/n0.

    R(T) = int n(T,E)/(2T cosh^2(E/2T)) G(omega tau_min(E)) dE, the integral of
    Eq. (8) at finite omega tau (module docstring), with
    tau_min^-1 = A E^3 coth(E/2T).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    dos : DOS model
        A :mod:`jtls.dos` model called as ``dos(E, T)``.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    A : array_like
        Relaxation constant, s^-1 K^-3; A = 0 gives 0.
    n0 : array_like, optional
        DOS normalisation (default :func:`default_n0`).

    Returns
    -------
    jax.Array
        delta f/f (dimensionless), broadcast shape of T, omega, A.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.frequency_shift_relaxation_dos(np.array([0.5, 1.0]), jtls.PowerLawDOS(1.0, 0.0),
    ...                                      omega, 1e-5, A=1e8)
    >>> print([f"{v:.4g}" for v in x])
    ['-9.578e-11', '-4.369e-09']
    """
    _check_relaxation_args(T, omega, F_delta0, A, n0)
    V.dos_positive(dos, T)
    n0 = default_n0(dos, omega) if n0 is None else n0
    return -(F_delta0 / math.pi) * jnp.real(_relaxation_R(T, dos, omega, A)) / n0


def loss_relaxation_dos(T: ArrayLike, dos: DOSModel, omega: ArrayLike, F_delta0: ArrayLike,
                        A: ArrayLike, n0: ArrayLike | None = None) -> jax.Array:
    """Relaxation TLS loss 1/Q_rel = (2 F delta0/pi) Im R(T)/n0 (STM plateau F delta0/2).

    The absorption partner of :func:`frequency_shift_relaxation_dos` (same
    R(T), module docstring).

    Parameters
    ----------
    T : array_like
        Temperature(s), K, any shape.
    dos : DOS model
        A :mod:`jtls.dos` model called as ``dos(E, T)``.
    omega : array_like
        Resonance angular frequency, rad/s.
    F_delta0 : array_like
        Filling factor times loss tangent (dimensionless).
    A : array_like
        Relaxation constant, s^-1 K^-3; A = 0 gives 0.
    n0 : array_like, optional
        DOS normalisation (default :func:`default_n0`).

    Returns
    -------
    jax.Array
        1/Q_rel (dimensionless), broadcast shape of T, omega, A.

    Examples
    --------
    >>> import numpy as np
    >>> import jtls
    >>> from jtls import resonator as R
    >>> omega = 2 * np.pi * 5e9                 # 5 GHz; hbar omega = 0.24 K
    >>> x = R.loss_relaxation_dos(np.array([0.5, 1.0]), jtls.PowerLawDOS(1.0, 0.0), omega, 1e-5, A=1e8)
    >>> print([f"{v:.4g}" for v in x])
    ['1.026e-08', '7.839e-08']
    """
    _check_relaxation_args(T, omega, F_delta0, A, n0)
    V.dos_positive(dos, T)
    n0 = default_n0(dos, omega) if n0 is None else n0
    return (2.0 * F_delta0 / math.pi) * jnp.imag(_relaxation_R(T, dos, omega, A)) / n0
