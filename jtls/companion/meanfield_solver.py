"""The mean-field equations of the TLS glass and their solution (Asban et al. 2022, Eqs. 4, 6, 12).

For one realization of :mod:`jtls.companion.meanfield` (model, units and
numerics in its module docstring): the right-hand side F of Eq. 4, its
solution by damped fixed-point sweeps, the excitation energies of Eq. 6 and
the one-phonon relaxation rates of Eq. 12.  The names are also available
from :mod:`jtls.companion.meanfield`.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _validate as V
from . import _checks as C
from ._mf_impl import spin, sweep_sequential



class MFState(NamedTuple):
    """Loop state of the damped fixed-point iteration of :func:`solve_mean_field`.

    Attributes
    ----------
    x : jax.Array, shape (N,)
        Current Delta' (units of J).
    iteration : jax.Array, shape ()
        Sweeps done.
    residual : jax.Array, shape ()
        max_i |F(x)_i - x_i| at the previous sweep (J).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from jtls.companion.meanfield import MFState
    >>> MFState(jnp.zeros(3), jnp.asarray(0), jnp.asarray(jnp.inf)).x.shape
    (3,)
    """
    x: jax.Array          # (N,) current Delta'
    iteration: jax.Array  # () int
    residual: jax.Array   # () max |F(x) - x| at the previous sweep


class MFResult(NamedTuple):
    """Solution of Eq. 4 returned by :func:`solve_mean_field`.

    Attributes
    ----------
    delta_prime : jax.Array, shape (N,)
        Mean-field asymmetries Delta'_i (units of J).
    iterations : jax.Array, shape ()
        Sweeps done.
    residual : jax.Array, shape ()
        max_i |F(x)_i - x_i| at the returned point (J).
    converged : jax.Array, shape (), bool
        residual <= tol.

    Examples
    --------
    See :func:`solve_mean_field`.

    >>> from jtls.companion.meanfield import MFResult
    >>> MFResult._fields
    ('delta_prime', 'iterations', 'residual', 'converged')
    """
    delta_prime: jax.Array
    iterations: jax.Array
    residual: jax.Array
    converged: jax.Array


def mf_map(K: ArrayLike, delta: ArrayLike, x: ArrayLike, T: ArrayLike) -> jax.Array:
    """Right-hand side of Eq. 4 (Asban et al.): F(x)_i = Delta_i + (1/4) sum_j K_ij tanh(x_j / 2T).

    Parameters
    ----------
    K : array_like, shape (N, N)
        Couplings (units of J).
    delta : array_like, shape (N,)
        Bare asymmetries (J).
    x : array_like, shape (N,)
        Current Delta' (J).
    T : array_like
        Temperature (>= 0, units of J; T = 0 uses sign(x)).

    Returns
    -------
    jax.Array, shape (N,)
        F(x) in units of J.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from jtls.companion import meanfield as mf
    >>> K = jnp.array([[0.0, 2.0], [2.0, 0.0]])
    >>> print(mf.mf_map(K, jnp.array([0.1, -0.2]), jnp.array([1.0, -1.0]), 0.0))
    [-0.4  0.3]
    """
    s = spin(x, T).astype(K.dtype)
    field = jnp.dot(K, s, preferred_element_type=K.dtype).astype(delta.dtype)
    return delta + 0.25 * field


def solve_mean_field(key: jax.Array, K: ArrayLike, delta: ArrayLike, T: ArrayLike, *,
                     damping: float = 1.0, tol: float = 1e-5, max_iter: int = 2000,
                     init_scale: ArrayLike | None = None, x0: ArrayLike | None = None,
                     method: str = "sequential") -> MFResult:
    """Solve Eq. 4 (Asban et al.) for one realization by a damped fixed-point iteration.

    Parameters
    ----------
    key : jax.Array
        PRNG key for the uniform start (ignored when ``x0`` is given).
    K : array_like, shape (N, N)
        Symmetric couplings u_ij / r_ij^3 (units of J, zero diagonal).
    delta : array_like, shape (N,)
        Bare asymmetries (J).
    T : array_like
        Temperature (finite, >= 0, units of J).
    damping : float
        eta in (0, 1].
    tol : float
        Stop when max_i |F(x)_i - x_i| <= tol (J; finite, >= 0).
    max_iter : int
        Maximum number of sweeps (>= 1).
    init_scale : array_like, optional
        Half-width of the uniform start (J); default from Eq. 18's variance.
    x0 : array_like, shape (N,), optional
        Starting point (J), replacing the random start.
    method : str
        ``"sequential"`` (default): damped Gauss-Seidel sweeps
        x_i <- x_i + eta (F_i(x) - x_i) in site order; for symmetric K with
        zero diagonal each site update lowers the mean-field free energy, so
        the iteration cannot cycle and converges also deep in the glass
        (T << J).  ``"jacobi"``: the parallel damped map
        x <- x + eta (F(x) - x), cheaper per sweep but it can lock into
        2-cycles of strongly coupled pairs at T << J (then ``converged`` is False).

    Returns
    -------
    MFResult
        ``iterations`` = sweeps done, ``residual`` of the returned point,
        ``converged`` = residual <= tol.

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import meanfield as mf  # doctest: +SKIP
    >>> rz = jax.jit(mf.sample_realization, static_argnums=1)(jax.random.key(0), 50, 1.0)  # doctest: +SKIP
    >>> res = mf.solve_mean_field(jax.random.key(2), rz.K, rz.delta, 0.1)  # doctest: +SKIP
    >>> bool(res.converged), res.delta_prime.shape  # doctest: +SKIP
    (True, (50,))
    """
    C.solver(method, damping, tol, max_iter)
    n = C.square("K", K)
    C.vector_of("delta", delta, n)
    if x0 is not None:
        C.vector_of("x0", x0, n)
    V.nonnegative_finite("T", T)
    K = jnp.asarray(K)
    delta = jnp.asarray(delta, dtype=jnp.result_type(float))
    if x0 is None:
        if init_scale is None:
            # same variance as Eq. 18's estimate W^2 + sum_j (K_ij / 4)^2
            kk = jnp.mean(jnp.sum(jnp.square(K.astype(delta.dtype)), axis=1)) / 16.0
            init_scale = jnp.sqrt(3.0 * (jnp.mean(delta**2) + kk))
        x0 = jax.random.uniform(key, delta.shape, minval=-1.0, maxval=1.0) * init_scale
    x0 = jnp.asarray(x0, dtype=delta.dtype)
    eta = damping

    def residual(x):
        return jnp.max(jnp.abs(mf_map(K, delta, x, T) - x))

    def cond(st):
        return (st.iteration < max_iter) & (st.residual > tol)

    def body(st):
        if method == "jacobi":
            f = mf_map(K, delta, st.x, T)
            x = st.x + eta * (f - st.x)
        else:
            x = sweep_sequential(K, delta, st.x, T, eta)
        return MFState(x, st.iteration + 1, residual(x))

    st = jax.lax.while_loop(cond, body, MFState(x0, jnp.asarray(0), residual(x0)))
    return MFResult(st.x, st.iteration, st.residual, st.residual <= tol)


def excitation_energies(delta_prime: ArrayLike, delta0: ArrayLike) -> jax.Array:
    """Excitation energies E_i = sgn(Delta'_i) sqrt(Delta'_i^2 + Delta0_i^2) (Asban et al., Eq. 6).

    Parameters
    ----------
    delta_prime : array_like
        Mean-field asymmetries (units of J).
    delta0 : array_like
        Tunneling amplitudes (J).  Shapes broadcast.

    Returns
    -------
    jax.Array
        E in units of J, signed like Delta'.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from jtls.companion import meanfield as mf
    >>> print(mf.excitation_energies(jnp.array([0.5, -0.3]), jnp.array([0.0, 0.4])))
    [ 0.5 -0.5]
    """
    return jnp.where(delta_prime >= 0, 1.0, -1.0) * jnp.sqrt(delta_prime**2 + delta0**2)


def relaxation_rates(E: ArrayLike, delta0: ArrayLike, T: ArrayLike, a: float = 1.0) -> jax.Array:
    """Eq. 12 (positive): lambda = a Delta0^2 |E| coth(|E| / 2T).

    Written as 2 T a Delta0^2 y coth(y), y = |E|/2T, which is finite at E -> 0
    (lambda -> 2 a T Delta0^2) and at T = 0 (lambda = a Delta0^2 |E|).
    Units: a J^3 when energies are in J.

    Parameters
    ----------
    E : array_like
        Excitation energies (units of J, finite), any shape.
    delta0 : array_like
        Tunneling amplitudes (J, finite), broadcasting with E.
    T : array_like
        Temperature (finite, >= 0, J), broadcasting with E.
    a : float
        Rate constant (finite, > 0; units of J^-3 times the rate unit).

    Returns
    -------
    jax.Array
        lambda >= 0 in units of a J^3, broadcast shape.  A concrete result
        that overflows is a ValueError.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from jtls.companion import meanfield as mf
    >>> print(mf.relaxation_rates(jnp.array([0.5, 1e-9, 2.0]), 0.1, 0.1))   # E -> 0: 2 a T Delta0^2
    [0.00506784 0.002      0.02      ]
    """
    V.finite("E", E)
    V.finite("delta0", delta0)
    V.nonnegative_finite("T", T)
    V.positive_finite("a", a)
    V.broadcastable(E=E, delta0=delta0, T=T)
    args = dict(E=E, delta0=delta0, T=T, a=a)
    E = jnp.abs(jnp.asarray(E))
    T = jnp.asarray(T, dtype=E.dtype)
    Te = jnp.where(T > 0, T, 1.0)     # T = 0: the branch below is not taken
    y = E / (2.0 * Te)
    # y coth y: Taylor series (to y^10, truncation < 3e-18) below y = 0.1, where the
    # derivative of y / tanh(y) cancels (1/tanh y - y/sinh^2 y: relative error 1e-4 at
    # y = 1e-6); the tanh branch gets y only where it is taken (a jnp.maximum guard
    # would split the gradient between the branches at the switch)
    small = y < 0.1
    ys = jnp.where(small, y, 0.0)
    yl = jnp.where(small, 0.1, y)
    y2 = ys * ys
    series = 1.0 + y2 * (1 / 3 + y2 * (-1 / 45 + y2 * (2 / 945 + y2 * (-1 / 4725 + y2 * (2 / 93555)))))
    ycoth = jnp.where(small, series, yl / jnp.tanh(yl))
    finiteT = 2.0 * Te * ycoth
    val = jnp.where(T > 0, finiteT, E)
    out = a * jnp.asarray(delta0) ** 2 * val
    V.finite_result("relaxation_rates", out, **args)
    return out
