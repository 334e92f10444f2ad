"""Models of the TLS density of states n(T, E).

Every model is a frozen dataclass registered as a JAX pytree and is called as
``dos(E, T)`` with energies E and temperatures T in kelvin (broadcasting);
it returns n(T, E) per TLS (or per volume) per kelvin, even in E.  Every
observable of :mod:`jtls.observables` accepts any of them.

Models
------
* :class:`PowerLawDOS` -- Churkin et al. 2021, Eq. (3): B (T^2 + E^2)^(mu/2).
* :class:`ConstantDOS` -- the standard tunneling model (STM), n = n0.
* :class:`DipolarGapDOS` -- Eq. (9), n0 / (1 + c J0 n0 ln(J0/E)) for E < J0
  (lattice constant R0 = 1), n0 above J0.
* :class:`GaussianDOS` -- norm * exp(-E^2 / 2 sigma^2) / (sigma sqrt(2 pi)).
* :class:`TabulatedDOS` -- n(T, E) on a (T, E) grid (e.g. the annealer's
  output), a natural cubic spline in ln T and an even cubic spline in E, of n
  (linear in the tabulated values) or of ln n (``log=True``: positive
  everywhere); C^2 in both variables inside the grid, differentiable with
  respect to the table.  Outside its T range the observables raise.

Attribute ``e_max`` (K) is the largest energy at which the model is defined
(infinity for the analytic models); the energy integrals of
:mod:`jtls.observables` that would otherwise run to infinity stop there.
"""
from __future__ import annotations

import dataclasses
import math
import os
import warnings
from typing import Any, Protocol

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from . import _validate as V
from ._splines import _natural_spline_matrix, _spline_basis_matrix, _spline_eval  # noqa: F401


class DOSModel(Protocol):
    """What every observable needs of a DOS model: a call ``dos(E, T)`` and ``e_max``.

    The models of this module, :class:`jtls.simulated.dos.SimulatedDOS` and
    any user class with the two members below fit.  The observables pass
    the model through ``jax.jit``, so it must be a JAX pytree (e.g. a frozen
    dataclass registered with ``jax.tree_util.register_dataclass``) whose
    array parameters are its leaves.

    Attributes
    ----------
    e_max : float
        Largest energy (K) at which the model is defined; energy integrals
        stop there (``math.inf``: no limit).

    Notes
    -----
    ``__call__(E, T)`` takes energies E and temperatures T in K (shapes
    broadcast; the observables call it with E of shape (n,) and 0-d T) and
    returns n(T, E) >= 0, even in E, per K (per TLS or per volume).

    Examples
    --------
    A DOS growing linearly with |E|, used in the specific heat of Eq. (6):

    >>> import dataclasses, math
    >>> import jax, jax.numpy as jnp
    >>> import jtls
    >>> @jax.tree_util.register_dataclass
    ... @dataclasses.dataclass(frozen=True)
    ... class LinearDOS:
    ...     n0: float
    ...     slope: float
    ...     e_max = math.inf
    ...     def __call__(self, E, T):
    ...         return self.n0 + self.slope * jnp.abs(E) + 0.0 * T
    >>> print(f"{float(jtls.specific_heat_dos(1.0, LinearDOS(1.0, 0.0))):.6f}")   # pi^2/6
    1.644934
    """
    e_max: float

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array: ...


def _float_dtype(E, T):
    """Float dtype of E and T (float32 stays float32; ints and Python numbers: the default float)."""
    return jnp.result_type(jnp.asarray(E), jnp.asarray(T), float)


def _pytree(cls, data, meta=()):
    cls = dataclasses.dataclass(frozen=True)(cls)
    return jax.tree_util.register_dataclass(cls, data_fields=list(data), meta_fields=list(meta))


class PowerLawDOS:
    """The power-law DOS of Churkin et al. 2021, Eq. (3): n(T, E) = B (T^2 + E^2)^(mu/2).

    Attributes
    ----------
    B : float or 0-d array
        Prefactor in K^-(1+mu) (per TLS, or per volume, as the data).
    mu : float or 0-d array
        Dimensionless power; mu = 0 is the standard tunneling model's
        constant DOS n = B.

    Notes
    -----
    ``dos(E, T)`` takes energies E and temperatures T in K (shapes
    broadcast) and returns n(T, E) in K^-1 (times the unit of B's
    "per TLS / per volume"), of the broadcast shape.  ``e_max`` is infinite.

    Examples
    --------
    >>> from jtls.dos import PowerLawDOS
    >>> dos = PowerLawDOS(B=2.0, mu=0.2)
    >>> print(dos([0.0, 1.0], 1.0))          # B T^mu at E = 0; B 2^(mu/2) at E = T
    [2.         2.14354693]
    """
    B: Any = 1.0
    mu: Any = 0.0
    e_max = math.inf

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array:
        E = jnp.asarray(E)
        T = jnp.asarray(T)
        return self.B * jnp.exp(0.5 * self.mu * jnp.log(T * T + E * E))


PowerLawDOS = _pytree(PowerLawDOS, ["B", "mu"])


class ConstantDOS:
    """The standard tunneling model's DOS, n(T, E) = n0, independent of T and E.

    Equal to ``PowerLawDOS(n0, 0.0)``: Eq. (3) at mu = 0.

    Attributes
    ----------
    n0 : float or 0-d array
        The DOS in K^-1 (per TLS, or per volume).

    Notes
    -----
    ``dos(E, T)`` (E, T in K, shapes broadcast) returns n0 with the
    broadcast shape of E and T.

    Examples
    --------
    >>> from jtls.dos import ConstantDOS
    >>> print(ConstantDOS(0.5)([0.0, 1.0, 2.0], 0.1))
    [0.5 0.5 0.5]
    """
    n0: Any = 1.0
    e_max = math.inf

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array:
        dt = _float_dtype(E, T)
        E, T = jnp.broadcast_arrays(jnp.asarray(E, dtype=dt), jnp.asarray(T, dtype=dt))
        return self.n0 * jnp.ones_like(E + T)


ConstantDOS = _pytree(ConstantDOS, ["n0"])


class DipolarGapDOS:
    """The dipolar gap of Churkin et al. 2021, Eq. (9), at T = 0 (lattice constant R0 = 1).

    n(E) = n0 / (1 + c J0 n0 ln(J0/|E|)) for |E| < J0 and n0 for |E| >= J0.
    Independent of T (the argument T only sets the broadcast shape).

    Attributes
    ----------
    n0 : float or 0-d array
        DOS above the gap, n0 = 1/h0, per site per K.
    J0 : float or 0-d array
        Interaction energy in K: the gap closes at |E| = J0.
    c : float or 0-d array
        Dimensionless constant of Eq. (9), 2 pi / 3.

    Notes
    -----
    ``dos(E, T)`` (E, T in K, shapes broadcast) returns n in K^-1 per site.
    The product J0 n0 = J0/h0 is the interaction-to-disorder ratio of
    Hamiltonian (2).

    Examples
    --------
    >>> from jtls.dos import DipolarGapDOS
    >>> dos = DipolarGapDOS(n0=0.1, J0=2.0)              # J0/h0 = 0.2
    >>> print(dos([0.01, 1.0, 2.0, 5.0], 0.1))           # depleted below J0, n0 above
    [0.03106213 0.07749866 0.1        0.1       ]
    """
    n0: Any = 0.1
    J0: Any = 2.0
    c: Any = 2.0 * math.pi / 3.0
    e_max = math.inf

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array:
        E = jnp.abs(jnp.asarray(E, dtype=_float_dtype(E, T))) + 0.0 * jnp.asarray(T)
        tiny = jnp.finfo(E.dtype).tiny
        log_ratio = jnp.maximum(jnp.log(self.J0) - jnp.log(jnp.maximum(E, tiny)), 0.0)
        return self.n0 / (1.0 + self.c * self.J0 * self.n0 * log_ratio)


DipolarGapDOS = _pytree(DipolarGapDOS, ["n0", "J0", "c"])


class GaussianDOS:
    """Gaussian DOS n(E) = norm exp(-E^2 / (2 sigma^2)) / (sigma sqrt(2 pi)).

    With norm = 1 this is normalized per TLS over signed energies: the
    non-interacting limit of Hamiltonian (2) of Churkin et al. 2021 (the
    Gaussian of Fig. 1a, standard deviation 21.53 K).  Independent of T.

    Attributes
    ----------
    sigma : float or 0-d array
        Standard deviation in K.
    norm : float or 0-d array
        Integral of n over signed energies (dimensionless per TLS, or a
        number density).

    Notes
    -----
    ``dos(E, T)`` (E, T in K, shapes broadcast) returns n in units of
    ``norm`` per K.

    Examples
    --------
    >>> from jtls.dos import GaussianDOS
    >>> dos = GaussianDOS(sigma=21.53)
    >>> print(f"{float(dos(0.0, 1.0)):.6f} K^-1")        # 1 / (sigma sqrt(2 pi))
    0.018530 K^-1
    """
    sigma: Any = 21.53
    norm: Any = 1.0
    e_max = math.inf

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array:
        E = jnp.asarray(E, dtype=_float_dtype(E, T)) + 0.0 * jnp.asarray(T)
        z = E / self.sigma
        return self.norm * jnp.exp(-0.5 * z * z) / (self.sigma * math.sqrt(2.0 * math.pi))


GaussianDOS = _pytree(GaussianDOS, ["sigma", "norm"])


def _fold_signed(E_grid):
    """One-sided grid and index pairs (ia, ib) for a signed grid (increasing, some E < 0).

    Returns (E_one, ia, ib) with E_one >= 0 increasing and n_one = (n[:, ia] + n[:, ib]) / 2.
    """
    if np.all(E_grid <= 0.0):                      # one-sided, negative energies
        idx = np.arange(len(E_grid))[::-1]
        return -E_grid[::-1], idx, idx
    neg = np.flatnonzero(E_grid < 0.0)
    pos = np.flatnonzero(E_grid >= 0.0)
    pos_nz = pos[E_grid[pos] > 0.0]
    scale = float(np.max(np.abs(E_grid)))
    mirrored = -E_grid[neg][::-1]
    if len(mirrored) != len(pos_nz) or np.any(np.abs(mirrored - E_grid[pos_nz]) > 1e-9 * scale):
        raise ValueError(
            "argument 'E_grid' holds negative and positive energies that are not mirror images "
            "of each other: a signed grid must be symmetric about E = 0 (n(E) and n(-E) are then "
            "averaged) or one-sided (all E >= 0 or all E <= 0)")
    ib = neg[::-1]                                 # -E of every E > 0, in the same order
    if len(pos) > len(pos_nz):                     # E = 0 is on the grid: its own mirror image
        ib = np.concatenate([[pos[0]], ib])
    return E_grid[pos], pos, ib


class TabulatedDOS:
    """n(T, E) tabulated at temperatures ``T_grid`` (nT,) and energies ``E_grid`` (nE,).

    Units: T and E in K; ``values`` (nT, nE) in the units of the DOS (per TLS,
    or per volume, per K); calling ``dos(E, T)`` broadcasts E and T and returns
    n of their broadcast shape (fastest when T has a trailing singleton axis
    against E).  The DOS is even in E: ``dos(-E, T) = dos(E, T)``.

    Interpolation (two modes, chosen by ``log`` at :meth:`create`):

    * ``log=False`` (default): natural cubic spline of n in ln T, then an even
      natural cubic spline of n in E through the mirrored grid (-E, E), smooth
      at E = 0.  The interpolant is *linear* in the tabulated values (so
      derivatives with respect to them are exact and C(T) is linear in the
      table), C^2 in both variables, exact at the knots -- but a cubic spline
      overshoots near sharp features and may go below zero there; such values
      are raised to the floor, where 1/n (thermal conductivity) becomes huge.
    * ``log=True``: the same splines applied to ln n, then exponentiated: the
      interpolant is positive everywhere (the choice for kappa and for noisy
      tables with steep drops), still C^2 and exact at the knots, and
      differentiable (not linear) in the values.  Zeros (empty histogram bins)
      are raised to the floor before the logarithm: a zero bin becomes a
      narrow dip to ~floor, around which the log spline rings; prefer a table
      without zeros (merge or smooth sparse bins).  A concrete table with
      zeros in log mode gives a RuntimeWarning.

    Floor: values below ``max(floor, floor_rel * max(values))`` (and never
    below the dtype's smallest normal number) are raised to it, so 1/n stays
    finite.  The rule is evaluated at every call from the values themselves,
    so eager and jitted evaluations agree (also when the table is traced).
    Default: ``floor_rel = 1e-12``; an explicit ``floor`` (absolute, units of
    n) replaces the relative rule.

    Ranges.  Energies: ``e_max = max |E_grid|``; thermal integrals of
    :mod:`jtls.observables` stop at e_max; a direct call beyond e_max keeps
    the last tabulated value.  Temperatures: the table is valid on
    ``T_range = (T_grid[0], T_grid[-1])``.  The observables raise a ValueError
    naming the argument ('T', 'T_ref') for concrete temperatures outside it; a
    direct eager call outside it holds the nearest tabulated temperature
    (dn/dT = 0 there) and gives a RuntimeWarning (inside ``jit`` it cannot
    warn: it clamps).  A one-temperature table is T-independent (valid at
    every T).

    Build with :meth:`create` (or :meth:`from_file` for annealer output).

    Attributes
    ----------
    e_max : float
        Largest tabulated energy max |E_grid|, K.
    T_range : (float, float)
        Tabulated temperatures (T_grid[0], T_grid[-1]), K.
    log : bool
        Whether ln n is interpolated.

    Examples
    --------
    The interpolant is exact at the knots; like every model it can be called
    inside ``jax.jit`` (the first eager call dispatches many small operations):

    >>> import jax
    >>> import numpy as np
    >>> from jtls.dos import TabulatedDOS
    >>> E = np.linspace(0.0, 5.0, 6)
    >>> dos = TabulatedDOS.create(T_grid=[0.1, 1.0], E_grid=E, values=[0.3 + 0.1 * E] * 2)
    >>> n = jax.jit(lambda E, T: dos(E, T))
    >>> print(n(np.array([1.0, 4.0]), 0.5), dos.e_max, dos.T_range)
    [0.4 0.7] 5.0 (0.1, 1.0)
    """
    values: Any       # (nT, nE) one-sided table (signed input grids folded)
    T_knots: Any      # ln T grid (nT,)
    E_knots: Any      # mirrored E grid
    S_T: Any
    S_E: Any
    floor: Any        # absolute floor (units of n); 0: the relative rule only
    e_max: float = math.inf
    log: bool = False
    floor_rel: float = 1e-12
    T_range: tuple = (0.0, math.inf)

    @classmethod
    def create(cls, T_grid: ArrayLike, E_grid: ArrayLike, values: ArrayLike,
               floor: float | None = None, log: bool = False) -> "TabulatedDOS":
        """Build the interpolant from a table n(T, E).

        Parameters
        ----------
        T_grid : array_like, shape (nT,)
            Strictly increasing temperatures in K (> 0).
        E_grid : array_like, shape (nE,)
            Strictly increasing energies in K.  One-sided (all >= 0, or all
            <= 0: mirrored) or signed and symmetric about 0 (every -E on the
            grid with its E); for a signed grid the table is folded,
            n(|E|) = (n(E) + n(-E)) / 2, the even part (the models are even
            in E).  A signed grid that is not symmetric is a ValueError
            naming 'E_grid'.
        values : array_like, shape (nT, nE)
            DOS at the grid points, finite and >= 0 (units of n, e.g. K^-1
            per TLS); may be a JAX array (traced: differentiable).
        floor : float, optional
            Absolute lower bound of the returned n (units of n); None:
            1e-12 times the largest value.
        log : bool
            Interpolate ln n (positive interpolant) instead of n.

        Returns
        -------
        TabulatedDOS
            The interpolant; ``e_max = max |E_grid|``, ``T_range`` the
            tabulated temperatures.

        Examples
        --------
        >>> from jtls.dos import TabulatedDOS
        >>> dos = TabulatedDOS.create([0.5], [-1.0, 0.0, 1.0], [[1.0, 2.0, 3.0]])
        >>> print(dos.values)            # the signed grid folded: n(1 K) = (1 + 3) / 2
        [[2. 2.]]
        >>> print(dos.e_max, dos.T_range)           # one temperature: valid at every T
        1.0 (0.0, inf)
        """
        T_grid = np.asarray(T_grid, dtype=float)
        E_grid = np.asarray(E_grid, dtype=float)
        if T_grid.ndim != 1 or E_grid.ndim != 1:
            raise ValueError("arguments 'T_grid' and 'E_grid' must be one-dimensional")
        V.positive_finite("T_grid", T_grid)
        V.finite("E_grid", E_grid)
        if np.any(np.diff(T_grid) <= 0):
            raise ValueError("argument 'T_grid' must be strictly increasing")
        if np.any(np.diff(E_grid) <= 0):
            raise ValueError("argument 'E_grid' must be strictly increasing")
        vshape = np.shape(values)
        if vshape != (len(T_grid), len(E_grid)):
            raise ValueError(f"argument 'values' has shape {vshape}, expected "
                             f"(len(T_grid), len(E_grid)) = {(len(T_grid), len(E_grid))}")
        if V.is_concrete(values):
            V.nonnegative_finite("values", values)
        if floor is not None:
            V.nonnegative_finite("floor", floor)
        values = jnp.asarray(values)
        if not jnp.issubdtype(values.dtype, jnp.floating):
            values = values.astype(float)
        if np.any(E_grid < 0):
            E_grid, ia, ib = _fold_signed(E_grid)
            values = 0.5 * (values[:, ia] + values[:, ib])
        if len(E_grid) < 2:
            raise ValueError("argument 'E_grid' needs at least 2 distinct energies |E|")
        if log and V.is_concrete(values) and np.any(np.asarray(values) == 0):
            warnings.warn("TabulatedDOS(log=True): the table holds zeros; they are raised to the "
                          "floor before the logarithm (narrow dips, spline ringing around them)",
                          RuntimeWarning, stacklevel=2)
        if E_grid[0] == 0.0:
            knots = np.concatenate([-E_grid[:0:-1], E_grid])
        else:
            knots = np.concatenate([-E_grid[::-1], E_grid])
        T_range = ((0.0, math.inf) if len(T_grid) == 1
                   else (float(T_grid[0]), float(T_grid[-1])))
        return cls(values=values, T_knots=jnp.asarray(np.log(T_grid)),
                   E_knots=jnp.asarray(knots),
                   S_T=jnp.asarray(_natural_spline_matrix(np.log(T_grid))),
                   S_E=jnp.asarray(_natural_spline_matrix(knots)),
                   floor=jnp.asarray(0.0 if floor is None else floor, dtype=values.dtype),
                   e_max=float(E_grid[-1]), log=bool(log),
                   floor_rel=1e-12 if floor is None else 0.0, T_range=T_range)

    @property
    def mirror_index(self) -> np.ndarray:
        """Indices mapping the one-sided table columns onto the mirrored knots (-E .. E)."""
        n = self.values.shape[-1]
        if self.E_knots.shape[0] == 2 * n:
            return np.concatenate([np.arange(n - 1, -1, -1), np.arange(n)])
        return np.concatenate([np.arange(n - 1, 0, -1), np.arange(n)])

    def floor_value(self) -> jax.Array:
        """The effective floor (0-d, units of n): max(floor, floor_rel max(values), tiny)."""
        v = self.values
        f = jnp.maximum(self.floor, self.floor_rel * jnp.max(v))
        return jnp.maximum(f, jnp.finfo(v.dtype).tiny)

    def _knot_values(self):
        """(y, floor): the splined quantity at the knots (n, or ln max(n, floor)) and the floor."""
        fl = self.floor_value()
        if self.log:
            return jnp.log(jnp.maximum(self.values, fl)), fl
        return self.values, fl

    def _rows(self, y, T):
        """Spline over ln T of the knot quantity y (nT, nE) at T: shape T.shape + (nE,)."""
        if self.T_knots.shape[0] == 1:
            return jnp.broadcast_to(y[0], T.shape + (y.shape[1],))
        yt = y.T  # (nE, nT): spline over T for every energy
        M = yt @ self.S_T.T
        return _spline_eval(self.T_knots, yt, M, jnp.log(T)[..., None])

    def rows(self, T: ArrayLike) -> jax.Array:
        """DOS on the (one-sided) E grid at temperature(s) T (K): shape T.shape + (nE,)."""
        T = jnp.asarray(T, dtype=float)
        self._warn_outside(T)
        y, fl = self._knot_values()
        r = self._rows(y, T)
        return jnp.maximum(jnp.exp(r) if self.log else r, fl)

    def _outside(self, T):
        """First concrete T (K) outside :attr:`T_range` (relative slack 1e-12), else None."""
        if not V.is_concrete(T):
            return None
        t = np.asarray(T, dtype=float)
        lo, hi = self.T_range
        bad = t[(t < lo * (1 - 1e-12)) | (t > hi * (1 + 1e-12))]
        return float(bad.flat[0]) if bad.size else None

    def check_T(self, T: ArrayLike, name: str = "T") -> None:
        """ValueError naming ``name`` when a concrete T (K) lies outside :attr:`T_range`."""
        bad = self._outside(T)
        if bad is not None:
            lo, hi = self.T_range
            raise ValueError(
                f"argument {name!r} = {bad:g} K is outside the temperature range [{lo:g}, {hi:g}] K "
                f"of the TabulatedDOS: n(T, E) is not extrapolated in T (evaluate inside the "
                f"table or extend its T_grid)")

    def _warn_outside(self, T):
        bad = self._outside(T)
        if bad is not None:
            lo, hi = self.T_range
            warnings.warn(f"TabulatedDOS evaluated at T = {bad:g} K, outside its temperature range "
                          f"[{lo:g}, {hi:g}] K: the nearest tabulated temperature is used "
                          f"(dn/dT = 0 there)", RuntimeWarning, stacklevel=3)

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array:
        E = jnp.abs(jnp.asarray(E, dtype=float))
        T = jnp.asarray(T, dtype=float)
        self._warn_outside(T)
        T, E = jnp.broadcast_arrays(T, E) if T.ndim > E.ndim else (T, E)
        y, fl = self._knot_values()
        rows = self._rows(y, T)[..., self.mirror_index]  # T.shape + (n_knots,)
        M = rows @ self.S_E.T
        val = _spline_eval(self.E_knots, rows, M, E)
        return jnp.maximum(jnp.exp(val) if self.log else val, fl)

    @classmethod
    def from_file(cls, path: str | os.PathLike, floor: float | None = None,
                  log: bool = False) -> "TabulatedDOS":
        """Load an annealer output file (``.npz``) with arrays ``T``, ``E_centers``, ``dos``.

        Parameters
        ----------
        path : str or path-like
            The ``.npz`` file: ``T`` (nT,) in K, ``E_centers`` (nE,) in K and
            ``dos`` (nT, nE) in K^-1 per TLS, as written by ``jtls anneal``.
        floor, log
            As in :meth:`create`.

        Returns
        -------
        TabulatedDOS
            ValueError naming the file when an array is missing.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from jtls.dos import TabulatedDOS
        >>> path = os.path.join(tempfile.mkdtemp(), "anneal.npz")
        >>> np.savez(path, T=[0.1, 1.0], E_centers=[0.5, 1.5, 2.5], dos=np.full((2, 3), 0.02))
        >>> dos = TabulatedDOS.from_file(path)
        >>> print(dos.T_range, dos.e_max, dos.values.shape)
        (0.1, 1.0) 2.5 (2, 3)
        """
        with np.load(path, allow_pickle=False) as f:
            for key in ("T", "E_centers", "dos"):
                if key not in f:
                    raise ValueError(f"file {path!s}: missing array {key!r} (expected annealer output)")
            return cls.create(f["T"], f["E_centers"], f["dos"], floor=floor, log=log)


TabulatedDOS = _pytree(TabulatedDOS, ["values", "T_knots", "E_knots", "S_T", "S_E", "floor"],
                       ["e_max", "log", "floor_rel", "T_range"])
