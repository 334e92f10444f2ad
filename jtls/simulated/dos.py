"""The simulated DOS n(T, E; J0/h0, h0) from the shipped library.

Hamiltonian (2) of Churkin et al. (2021) has two energy scales, the random
field h0 and the coupling J0; the annealing schedule is a list of
temperatures.  Scaling every energy and temperature by h0 maps the model and
its schedule onto itself, so the annealed single-particle DOS obeys exactly

    n(T, E; J0, h0) = (1 / h0) F(T / h0, E / h0; J0 / h0)                (*)

(n per TLS per K over signed energies).  The library (see
:mod:`jtls.simulated.pack`) tabulates ln F on a grid of r = J0/h0, t = T/h0
(the recorded annealing temperatures, 5 mK - 20 K at h0 = 10 K) and
q = asinh(e / e_scale), e = E/h0.  :class:`SimulatedDOS` interpolates ln F
with natural cubic splines in r, in ln t and (even) in q, so n is positive,
C^2 inside the table, and differentiable with respect to J0/h0, h0, T and E.

Range: r and t are clamped to the table inside compiled code; concrete
inputs outside it raise ValueError (:meth:`SimulatedDOS.check`), and the
fit model bounds J0_h0 and h0 so that the data stay inside.  Beyond
``e_max`` (the largest energy with histogram counts in every row, ~70 K at
h0 = 10 K, where n is ~1e-5 of its peak) the observables' integrals stop.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import warnings
from typing import Any

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..dos import _natural_spline_matrix, _pytree, _spline_basis_matrix, _spline_eval
from ..data.tables import repo_data_dir

#: File name of the shipped library in the repository's data/ folder.
LIBRARY_FILE = "simulated_dos_library.npz"


def default_library_path() -> str:
    """Path of the simulated-DOS library: $JTLS_SIMULATED_LIBRARY if set, else the shipped one.

    The shipped library is <repo>/data/simulated_dos_library.npz.

    Returns
    -------
    str

    Examples
    --------
    >>> import os
    >>> from jtls.simulated.dos import default_library_path
    >>> os.path.basename(default_library_path())
    'simulated_dos_library.npz'
    """
    return os.environ.get("JTLS_SIMULATED_LIBRARY") or str(repo_data_dir() / LIBRARY_FILE)


@dataclasses.dataclass(frozen=True, eq=False)
class Library:
    """A loaded simulated-DOS table (numpy arrays; see :mod:`jtls.simulated.pack`).

    Attributes
    ----------
    ratios : ndarray, shape (nR,)
        Tabulated J0/h0 (dimensionless, increasing).
    t : ndarray, shape (nT,)
        Tabulated T/h0 (the annealing temperatures over h0).
    q_knots : ndarray, shape (nQ,)
        Energy knots q = asinh(e / e_scale), e = E/h0.
    log_F, sd_log_F : ndarray, shape (nR, nT, nQ)
        ln F of Eq. (*) of the module docstring and its statistical error.
    e_scale, e_max : float
        Energy scale of q and largest energy, in units of h0.
    meta : dict
        Provenance (annealing runs, seeds, lattice).
    path : str
        The file it was read from.
    jk_delta_log_F : ndarray, shape (K, nR, nT, nQ), or None
        Deviations of ln F in the K delete-one-pass jackknife replicas (libraries packed from
        ``jtls library pack`` with at least 4 passes); :meth:`replica` and
        :func:`jtls.simulated.uncertainty.library_spread` use them.
    sha256 : str or None
        The verified SHA-256 of the file's arrays; None for a library packed before jtls stored one.

    Examples
    --------
    >>> from jtls.simulated.dos import load_library
    >>> lib = load_library()
    >>> lib.ratio_range, lib.T_range(10.0)          # J0/h0; temperatures (K) at h0 = 10 K
    ((0.0, 1.0), (0.005, 20.0))
    """
    ratios: np.ndarray
    t: np.ndarray
    q_knots: np.ndarray
    log_F: np.ndarray
    sd_log_F: np.ndarray
    e_scale: float
    e_max: float
    meta: dict
    path: str = ""
    jk_delta_log_F: np.ndarray | None = None
    sha256: str | None = None

    @property
    def ratio_range(self) -> tuple[float, float]:
        """(first, last) tabulated J0/h0."""
        return float(self.ratios[0]), float(self.ratios[-1])

    @property
    def t_range(self) -> tuple[float, float]:
        """(first, last) tabulated T/h0."""
        return float(self.t[0]), float(self.t[-1])

    def T_range(self, h0: float) -> tuple[float, float]:
        """Temperatures (K) covered at random-field scale ``h0`` (K)."""
        a, b = self.t_range
        return a * float(h0), b * float(h0)

    def __hash__(self):
        return hash(("jtls.simulated.Library", self.path, self.log_F.shape))

    @property
    def n_replicas(self) -> int:
        """Number K of stored jackknife replicas (0 when the file has none)."""
        return 0 if self.jk_delta_log_F is None else int(self.jk_delta_log_F.shape[0])

    def replica(self, k: int) -> "Library":
        """The library packed without pass ``k`` (its jackknife replica), sharing everything else.

        The spread of any quantity computed from the K replicas, sqrt((K-1)/K sum (x_k - mean)^2),
        is its statistical error from the library's finite number of realizations.
        """
        if not 0 <= int(k) < self.n_replicas:
            raise ValueError(f"argument 'k' = {k!r}: the library {self.path} holds {self.n_replicas} "
                             f"jackknife replica(s)")
        return dataclasses.replace(self, log_F=self.log_F + self.jk_delta_log_F[int(k)], jk_delta_log_F=None,
                                   path=f"{self.path}#jackknife{int(k)}")

    def dos(self, J0_h0: ArrayLike, h0: ArrayLike = 10.0) -> "SimulatedDOS":
        """The interpolated DOS at J0/h0 = ``J0_h0`` and random-field scale ``h0`` (K)."""
        return SimulatedDOS.create(self, J0_h0, h0)


def check_temperatures(t_range: tuple, h0: float, T: ArrayLike, name: str = "T") -> None:
    """Refuse a random-field scale or temperatures that a simulated-DOS library does not cover.

    Pure numpy (no DOS is built); traced values are not checked.

    Parameters
    ----------
    t_range : tuple of float
        The library's range of T/h0 (``Library.t_range``).
    h0 : float
        Random-field scale in K (finite, > 0).
    T : array_like
        Temperatures in K, any shape.
    name : str
        Argument name for the message.

    Returns
    -------
    None
        ValueError naming ``h0`` or ``name`` and the covered range otherwise.

    Examples
    --------
    >>> from jtls.simulated.dos import check_temperatures
    >>> check_temperatures((5e-4, 2.0), 10.0, [0.05, 1.0])
    >>> check_temperatures((5e-4, 2.0), 10.0, [0.001, 1.0])
    Traceback (most recent call last):
    ...
    ValueError: argument 'T': temperatures 0.001 .. 1 K are outside the simulated-DOS library at h0 = 10 K (0.005 .. 20 K, T/h0 = 0.0005 .. 2)
    """
    if not (math.isfinite(h0) and h0 > 0):
        raise ValueError(f"argument 'h0' must be finite and > 0 (K), got {h0!r}")
    try:
        t = np.asarray(T, dtype=float) / h0
    except (TypeError, jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
        return
    a, b = t_range
    if t.size and (t.min() < a * (1 - 1e-9) or t.max() > b * (1 + 1e-9)):
        raise ValueError(f"argument {name!r}: temperatures {t.min() * h0:g} .. {t.max() * h0:g} K are outside "
                         f"the simulated-DOS library at h0 = {h0:g} K ({a * h0:g} .. {b * h0:g} K, "
                         f"T/h0 = {a:g} .. {b:g})")


_REQUIRED = ("ratios", "t", "q_knots", "log_F", "sd_log_F", "e_scale", "e_max", "meta")


def load_library(path: str | os.PathLike | None = None) -> Library:
    """Load (and cache) a simulated-DOS library file.

    The cache is keyed on the path and the file's identity (device, inode, size, modification
    times), so a file replaced at the same path is read again.

    Parameters
    ----------
    path : str or path-like, optional
        A library ``.npz`` written by ``jtls library pack``; None:
        :func:`default_library_path`.

    Returns
    -------
    Library
        ValueError naming the file when it is missing or malformed, or when its arrays do not match
        the SHA-256 that ``jtls library pack`` stored in it (``sha256``); a library without one (packed
        before jtls stored it) is used with a :class:`LibraryWarning`.

    Examples
    --------
    >>> from jtls.simulated.dos import load_library
    >>> lib = load_library()
    >>> lib.log_F.shape == (len(lib.ratios), len(lib.t), len(lib.q_knots))
    True
    """
    path = os.path.abspath(str(path) if path is not None else default_library_path())
    return _load(path, _file_identity(path))


def _file_identity(path: str) -> tuple | None:
    """What tells a file at ``path`` from one that replaced it (None when it cannot be stat'ed).

    With the path, the key of the cache of :func:`load_library`: a library re-packed to the same
    path (``jtls library pack --overwrite``: a new file renamed over the old one) or a file swapped
    under $JTLS_SIMULATED_LIBRARY has another inode, size or modification time and is read again.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class LibraryWarning(UserWarning):
    """A simulated-DOS library is used without the checks of a current file (no checksum).

    :func:`load_library` issues it for a library packed before ``jtls library pack`` stored the
    SHA-256 of its arrays: its values cannot be verified.

    Parameters
    ----------
    message : str
        What was not checked, naming the file.

    Examples
    --------
    >>> import warnings
    >>> from jtls.simulated.dos import LibraryWarning
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("library x.npz carries no checksum", LibraryWarning)
    >>> w[0].category.__name__, issubclass(LibraryWarning, UserWarning)
    ('LibraryWarning', True)
    """

    def __init__(self, message: str):
        super().__init__(message)


@functools.lru_cache(maxsize=4)
def _load(path, identity) -> Library:
    """The library at ``path`` (``identity``: :func:`_file_identity`, only the cache's key)."""
    if not os.path.isfile(path):
        raise ValueError(f"simulated-DOS library {path} not found (build one with 'jtls library build' and "
                         f"'jtls library pack', or set JTLS_SIMULATED_LIBRARY)")
    from ..anneal.files import checksum_matches, read_members
    arr = read_members(path, lambda kind: ValueError(f"simulated-DOS library {path}: unreadable, not a "
                                                     f"library .npz ({kind})"))
    missing = [k for k in _REQUIRED if k not in arr]
    if missing:
        raise ValueError(f"simulated-DOS library {path}: missing array(s) {', '.join(missing)}")
    sha256 = str(arr["sha256"]) if "sha256" in arr else None
    if sha256 is None:
        warnings.warn(f"simulated-DOS library {path} carries no checksum (packed before jtls stored one): "
                      "an edit or corruption of its values cannot be detected; re-pack it with 'jtls library "
                      "pack --overwrite' to add one", LibraryWarning, stacklevel=3)
    elif not checksum_matches(arr):
        raise ValueError(f"simulated-DOS library {path}: checksum mismatch (the file was edited or corrupted "
                         f"after 'jtls library pack' wrote it); re-pack it, or restore the original file")
    nR, nT, nQ = len(arr["ratios"]), len(arr["t"]), len(arr["q_knots"])
    if arr["log_F"].shape != (nR, nT, nQ) or arr["sd_log_F"].shape != (nR, nT, nQ):
        raise ValueError(f"simulated-DOS library {path}: log_F has shape {arr['log_F'].shape}, expected "
                         f"{(nR, nT, nQ)}")
    if not np.all(np.isfinite(arr["log_F"])):
        raise ValueError(f"simulated-DOS library {path}: log_F holds non-finite values")
    if nR < 4:
        raise ValueError(f"simulated-DOS library {path}: {nR} ratio(s); at least 4 are needed")
    for k in ("ratios", "t", "q_knots"):
        if np.any(np.diff(arr[k]) <= 0):
            raise ValueError(f"simulated-DOS library {path}: {k} is not strictly increasing")
    jk = arr.get("jk_delta_log_F")
    if jk is not None and (jk.ndim != 4 or jk.shape[1:] != (nR, nT, nQ) or not np.all(np.isfinite(jk))):
        raise ValueError(f"simulated-DOS library {path}: jk_delta_log_F has shape {jk.shape} or non-finite "
                         f"values; expected (passes, {nR}, {nT}, {nQ})")
    return Library(jk_delta_log_F=None if jk is None else jk.astype(float),
                   ratios=arr["ratios"].astype(float), t=arr["t"].astype(float),
                   q_knots=arr["q_knots"].astype(float), log_F=arr["log_F"].astype(float),
                   sd_log_F=arr["sd_log_F"].astype(float), e_scale=float(arr["e_scale"]),
                   e_max=float(arr["e_max"]), meta=json.loads(str(arr["meta"])), path=path, sha256=sha256)


def _mirror_index(n):
    return np.concatenate([np.arange(n - 1, 0, -1), np.arange(n)])


@functools.lru_cache(maxsize=16)
def _tables(library: "Library") -> dict:
    """The library's arrays as JAX constants, with the spline matrices (one set per library)."""
    ln_t = np.log(library.t)
    qm = np.concatenate([-library.q_knots[:0:-1], library.q_knots])
    # concrete arrays even when the first call happens inside a jit trace: the cache outlives it
    with jax.ensure_compile_time_eval():
        return _as_constants(library, ln_t, qm)


def _as_constants(library, ln_t, qm):
    S_q = _natural_spline_matrix(qm)
    return {"log_F": jnp.asarray(library.log_F), "ratios": jnp.asarray(library.ratios),
            "S_r": jnp.asarray(_natural_spline_matrix(library.ratios)),
            "S_t": jnp.asarray(_natural_spline_matrix(ln_t)), "S_q": jnp.asarray(S_q),
            "ln_t": jnp.asarray(ln_t), "q_mirror": jnp.asarray(qm),
            **{k: jnp.asarray(v) for k, v in _q_quadrature(library, qm, S_q).items()}}


#: Gauss-Legendre order on every q-knot interval of :meth:`SimulatedDOS.q_nodes`.
Q_ORDER = 4


def _q_quadrature(library, qm, S_q):
    """Fixed nodes for int_0^e_max g(e) de in q = asinh(e / e_scale): Q_ORDER Gauss nodes on every
    knot interval up to q(e_max) (de = e_scale cosh q dq), with the spline basis of ln F at them.

    Returns numpy arrays: ``rq_B`` (n_nodes, 2 nQ - 1), ln F at the nodes = B @ (mirrored knot values);
    ``rq_w`` (n_nodes,), the weights of de; ``rq_e`` (n_nodes,), e = E/h0 at the nodes."""
    q_max = float(np.arcsinh(library.e_max / library.e_scale))
    edges = np.minimum(library.q_knots, q_max)
    x, w = np.polynomial.legendre.leggauss(Q_ORDER)
    lo, hi = edges[:-1], edges[1:]
    q = ((lo + hi)[:, None] + (hi - lo)[:, None] * x) / 2
    wq = ((hi - lo)[:, None] * w) / 2
    keep = wq.ravel() > 0
    q, wq = q.ravel()[keep], wq.ravel()[keep]
    return {"rq_B": _spline_basis_matrix(qm, S_q, q), "rq_w": wq * library.e_scale * np.cosh(q),
            "rq_e": library.e_scale * np.sinh(q)}


def ratio_weights(ratios: ArrayLike, S_r: ArrayLike, J0_h0: ArrayLike) -> jax.Array:
    """Weights w with spline(J0/h0) = w @ values: the natural cubic spline across the J0/h0 grid.

    Parameters
    ----------
    ratios : array_like, shape (nR,)
        The tabulated J0/h0 (increasing).
    S_r : array_like, shape (nR, nR)
        Second-derivative matrix of the natural spline on ``ratios``
        (``jtls.dos._natural_spline_matrix(ratios)``).
    J0_h0 : array_like
        The interaction ratio J0/h0 (scalar, may be traced).

    Returns
    -------
    jax.Array, shape (nR,)
        Linear weights (summing to 1); at a knot, the unit vector of that knot.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.dos import _natural_spline_matrix
    >>> from jtls.simulated.dos import ratio_weights
    >>> r = np.array([0.0, 0.1, 0.2, 0.4])
    >>> print(ratio_weights(r, _natural_spline_matrix(r), 0.2))
    [0. 0. 1. 0.]
    >>> print(f"{float(ratio_weights(r, _natural_spline_matrix(r), 0.15).sum()):.12f}")
    1.000000000000
    """
    n = ratios.shape[0]
    r = jnp.broadcast_to(jnp.asarray(J0_h0, dtype=float), (n,))
    return _spline_eval(ratios, jnp.eye(n), S_r.T, r)     # row j: the spline through e_j


class SimulatedDOS:
    """n(T, E) = F(T/h0, E/h0; J0/h0) / h0 from a :class:`Library` (Eq. (*) of the module docstring).

    Called as ``dos(E, T)`` (K, broadcasting) like every DOS model of :mod:`jtls.dos`; returns n per
    TLS per K over signed energies.  ``J0_h0`` (dimensionless) and ``h0`` (K) are pytree leaves, so
    ``jax.grad`` and ``jax.vmap`` work through them.  Build with :meth:`create` or
    :meth:`Library.dos`: the interpolation across the J0/h0 grid (and the spline coefficients in
    ln T) is done once there, so every call interpolates only in T and E.

    Attributes
    ----------
    J0_h0 : jax.Array
        Interaction-to-disorder ratio J0/h0 of Hamiltonian (2) (dimensionless, 0-d).
    h0 : jax.Array
        Random-field scale h0 in K (0-d).
    e_max : jax.Array
        Largest tabulated energy in K (the observables' integrals stop there).

    Examples
    --------
    The DOS at J0/h0 = 0.2, h0 = 10 K and T = 0.5 K (per TLS per K): depleted
    at low energy by the interactions.

    >>> import jax  # doctest: +SKIP
    >>> import numpy as np  # doctest: +SKIP
    >>> from jtls.simulated.dos import load_library  # doctest: +SKIP
    >>> dos = load_library().dos(0.2, h0=10.0)  # doctest: +SKIP
    >>> print(jax.jit(lambda E, T: dos(E, T))(np.array([0.0, 1.0, 10.0]), 0.5))  # doctest: +SKIP
    [0.0115464  0.01400107 0.01739105]
    >>> print(f"{float(dos.e_max):.1f} K")  # doctest: +SKIP
    74.5 K
    """
    J0_h0: Any
    h0: Any
    y_t: Any            # (nQ, nT): ln F at J0/h0 on the (q, t) knots
    M_t: Any            # (nQ, nT): its natural-spline second derivatives in ln t
    S_q: Any
    ln_t: Any
    q_mirror: Any
    rq_B: Any = None    # fixed q-quadrature of q_nodes (see _q_quadrature)
    rq_w: Any = None
    rq_e: Any = None
    e_scale: float = 2.5e-4
    e_max_unit: float = 8.0
    ratio_range: tuple = (0.0, 1.0)
    t_range: tuple = (0.0, 1.0)

    @classmethod
    def create(cls, library: Library, J0_h0: ArrayLike, h0: ArrayLike = 10.0,
               log_F: ArrayLike | None = None) -> "SimulatedDOS":
        """The DOS at J0/h0 = ``J0_h0`` (dimensionless) and random-field scale ``h0`` (K).

        ``log_F`` (shape of ``library.log_F``, may be traced) replaces the library's table, e.g. by
        a jackknife replica (:meth:`Library.replica`)."""
        tb = _tables(library)
        J0_h0 = jnp.asarray(J0_h0, dtype=float)
        w = ratio_weights(tb["ratios"], tb["S_r"], J0_h0)
        table = tb["log_F"] if log_F is None else jnp.asarray(log_F, dtype=float)
        y = jnp.tensordot(w, table, axes=1).T             # (nQ, nT)
        return cls(J0_h0=J0_h0, h0=jnp.asarray(h0, dtype=float), y_t=y, M_t=y @ tb["S_t"].T,
                   S_q=tb["S_q"], ln_t=tb["ln_t"], q_mirror=tb["q_mirror"],
                   rq_B=tb["rq_B"], rq_w=tb["rq_w"], rq_e=tb["rq_e"],
                   e_scale=library.e_scale, e_max_unit=library.e_max,
                   ratio_range=library.ratio_range, t_range=library.t_range)

    @property
    def e_max(self) -> jax.Array:
        """Largest energy (K) of the table: e_max (units of h0) times h0."""
        return self.e_max_unit * self.h0

    def _rows(self, lt):
        """ln F on the mirrored q knots at ln(T/h0) = ``lt`` (spline in ln t): lt.shape + (2 nQ - 1,)."""
        rows = _spline_eval(self.ln_t, self.y_t, self.M_t, lt[..., None])
        return rows[..., _mirror_index(self.y_t.shape[0])]

    def log_F_at(self, e: ArrayLike, t: ArrayLike) -> jax.Array:
        """ln F(t, e; J0/h0) for e = E/h0, t = T/h0 (broadcasting)."""
        e = jnp.abs(jnp.asarray(e, dtype=float))
        lt = jnp.log(jnp.asarray(t, dtype=float))
        # one row of ln F over the q knots (and its spline coefficients) per temperature, then
        # evaluated at every energy: T.shape + (nQ,) rows broadcast against E.shape
        rows = self._rows(lt)
        Mq = rows @ self.S_q.T
        q = jnp.arcsinh(e / self.e_scale)
        q = jnp.broadcast_to(q, jnp.broadcast_shapes(lt.shape, q.shape))
        return _spline_eval(self.q_mirror, rows, Mq, q)

    def q_nodes(self, T: ArrayLike) -> tuple:
        """Fixed quadrature of int_0^e_max ... dE in q = asinh(E/(e_scale h0)) on the library's own knots.

        ln n is a cubic polynomial of q between knots, so Q_ORDER Gauss nodes per knot interval
        integrate n (or 1/n) times a smooth kernel of E/T to ~1e-10, and ln n at every node is one
        matrix product with the table's row interpolated to T.  (The generic quadratures of
        :mod:`jtls.observables` use panels in E/T that straddle the knots: ~5e-6 on this DOS.)

        Parameters
        ----------
        T : array_like
            Temperature(s) in K, any shape.

        Returns
        -------
        tuple of jax.Array
            E (n_nodes,) in K, weights of dE (n_nodes,) in K, and n(T, E) at the nodes
            (T.shape + (n_nodes,)) per TLS per K.
        """
        T = jnp.asarray(T, dtype=float)
        n = jnp.exp(self._rows(jnp.log(T / self.h0)) @ self.rq_B.T) / self.h0
        return self.rq_e * self.h0, self.rq_w * self.h0, n

    def resonant_integral(self, T: ArrayLike) -> jax.Array:
        """I(T) = int_0^e_max n(T, E) tanh(E/2T) dE/E in 1/K (the integral of Eq. (7); any shape of T, K),
        on the fixed nodes of :meth:`q_nodes`.  Equals the generic quadrature of
        :func:`jtls.velocity_shift_resonant_dos` within that one's accuracy (``tests/test_simulated_fit.py``)."""
        T = jnp.asarray(T, dtype=float)
        E, w, n = self.q_nodes(T)
        return jnp.sum(w / E * n * jnp.tanh(E / (2.0 * T[..., None])), axis=-1)

    def relaxation_integral(self, T: ArrayLike, A: ArrayLike, omega: ArrayLike) -> jax.Array:
        """R(T) = int_0^e_max n(T, E) / (2T cosh^2(E/2T)) Re G(omega tau_min(E)) dE, the integral of
        Eq. (8) (dimensionless per unit amplitude; T any shape, K), on the fixed nodes of
        :meth:`q_nodes`, with tau_min^-1 = A E^3 coth(E/2T) (A in s^-1 K^-3, omega in rad/s,
        scalars) and Re G the closed-form x-integral of :func:`jtls.observables._kernels.relaxation_kernel`.
        Equals the generic quadrature of :func:`jtls.velocity_shift_relaxation_dos` (times -1/C)
        within that one's accuracy (``tests/test_simulated_fit.py``)."""
        from ..observables._kernels import relaxation_kernel, sech2_half, u_coth_half
        T = jnp.asarray(T, dtype=float)
        E, w, n = self.q_nodes(T)
        t = T[..., None]
        u = E / t
        log_b = jnp.log(omega) - jnp.log(A) - 3.0 * jnp.log(E) - jnp.log(u_coth_half(u) / u)
        g = jnp.real(relaxation_kernel(log_b))
        return jnp.sum(w * n * (0.5 / t) * sech2_half(u) * g, axis=-1)

    def __call__(self, E: ArrayLike, T: ArrayLike) -> jax.Array:
        h0 = self.h0
        return jnp.exp(self.log_F_at(jnp.asarray(E, dtype=float) / h0, jnp.asarray(T, dtype=float) / h0)) / h0

    def check_T(self, T: ArrayLike, name: str = "T") -> None:
        """The hook every observable calls on concrete inputs (see jtls._validate.dos_T_range)."""
        self.check(T, name)

    def check(self, T: ArrayLike, name: str = "T") -> None:
        """Raise ValueError when concrete J0/h0 or T/h0 lie outside the library (names the argument)."""
        try:
            r = float(self.J0_h0)
            h0 = float(self.h0)
        except (TypeError, jax.errors.ConcretizationTypeError):
            return
        lo, hi = self.ratio_range
        if not (lo - 1e-12 <= r <= hi + 1e-12):
            raise ValueError(f"argument 'J0_h0' = {r:g} is outside the simulated-DOS library ({lo:g} .. {hi:g})")
        check_temperatures(self.t_range, h0, T, name)


SimulatedDOS = _pytree(SimulatedDOS, ["J0_h0", "h0", "y_t", "M_t", "S_q", "ln_t", "q_mirror", "rq_B", "rq_w", "rq_e"],
                       ["e_scale", "e_max_unit", "ratio_range", "t_range"])
