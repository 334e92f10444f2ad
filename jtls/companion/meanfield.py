"""Mean-field TLS glass and its relaxation rates (Asban et al. 2022).

Model (their Eqs. 1-7).  N TLSs sit uniformly at random in a periodic cube.
TLS i has a Gaussian asymmetry Delta_i (standard deviation W), a tunneling
amplitude Delta0_i drawn log-uniformly in [1e-7, 1e-1] and interacts with TLS j
through u_ij / r_ij^3, where u_ij = u_ji is Gaussian with standard deviation
U0.  The self-consistent mean-field asymmetries solve (Eq. 4)

    Delta'_i = Delta_i + (1/4) sum_{j != i} u_ij / r_ij^3 tanh(Delta'_j / 2T),

the excitation energies are E_i = sgn(Delta'_i) sqrt(Delta'_i^2 + Delta0_i^2)
(Eq. 6) and the one-phonon relaxation rates are (Eq. 12, taken positive)

    lambda_i = a Delta0_i^2 |E_i| coth(|E_i| / 2T).

Units and conventions
---------------------
* Energies (W, J, T, Delta, Delta0, E) are in units of the interaction at the
  nearest-neighbour distance, J = U0 / r_nn^3, with k_B = 1; pass J = 1 for
  the paper's units.  Lengths are in units of r_nn.
* Density convention for r_nn = 1 (the paper only says "we set r_nn = 1"):
  the default is one TLS per unit volume, n = 1 / r_nn^3, box side
  L = N^(1/3) (:data:`DENSITY_UNIT`; r_nn is then the typical spacing
  n^(-1/3)).  This convention reproduces both entries of the TLS-glass row of
  their Table I.  The literal *mean nearest-neighbour distance* of random
  points, Gamma(4/3) (4 pi n / 3)^(-1/3) = 1, needs n = 3 Gamma(4/3)^3 /
  (4 pi) = 0.1700 (:data:`DENSITY_MEAN_NN`, pass ``density=``); at that lower
  density the interactions are ~6x weaker at the same J and the
  "J/W up -> faster" entry is not reproduced (see
  benchmarks/companion_results.md).
* Rates are in units of a J^3 (a = 1 by default; a ~ 1e8 K^-3 s^-1 gives s^-1
  when energies are in kelvin).

The mean-field equations of one realization and their solution (Eqs. 4, 6,
12: :func:`solve_mean_field` and its pieces) are in
:mod:`jtls.companion.meanfield_solver`; their names are also available here.
The analysis of the results (DOS, rate histograms, lambda_min, the
logarithmic relaxation of Eqs. 15-17) is in :mod:`jtls.companion.relaxation`;
its names are also available here.

Numerics
--------
The fixed point is found by damped sequential (Gauss-Seidel) sweeps
x_i <- x_i + eta (F_i(x) - x_i), i = 1..N, inside ``jax.lax.while_loop``;
the loop stops when the undamped residual max_i |F(x)_i - x_i| <= tol or
after ``max_iter`` sweeps and reports ``converged``.  For symmetric couplings
each site update lowers the mean-field free energy, so the iteration cannot
cycle; the parallel damped map (``method="jacobi"``) is kept for comparison
but 2-cycles on strongly coupled close pairs at T << J.  Starting values are
uniform (the paper's choice) in [-s, s], s = sqrt(3 (W^2 + J^2)).

Memory: the dense coupling matrix K_ij = u_ij / r_ij^3 has N^2 entries.  It is
stored in ``coupling_dtype`` (float32 by default: 400 MB at N = 1e4 instead of
800 MB; the field updates accumulate in float32, which limits the
reachable residual to ~1e-6 J, so the default tolerance is 1e-5 J).  Use
float64 couplings for small systems and tight tolerances.  Realizations are
vmapped in batches whose coupling matrices fit ``mem_bytes`` (see
:func:`simulate`), so N = 1e4 runs one realization at a time.
"""
from __future__ import annotations

import contextlib
import math
import os
from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from .. import _validate as V
from ..anneal import files as F
from . import _checks as C
from ._mf_impl import CHECKPOINT_KIND, load_checkpoint, save_checkpoint
from .meanfield_solver import (MFResult, MFState, excitation_energies, mf_map,  # noqa: F401
                               relaxation_rates, solve_mean_field)
from .relaxation import (EULER_GAMMA, dos, exp1, lambda_min, log_rate_histogram,  # noqa: F401
                         log_relaxation, log_relaxation_asymptotic, relaxation_curve)

#: Number density (per r_nn^3) for which the mean nearest-neighbour distance of
#: uniformly random points is 1: n = 3 Gamma(4/3)^3 / (4 pi) = 0.1700.
DENSITY_MEAN_NN = 3.0 * math.gamma(4.0 / 3.0) ** 3 / (4.0 * math.pi)
#: Default: one TLS per r_nn^3 (box side N^(1/3)).
DENSITY_UNIT = 1.0


class Realization(NamedTuple):
    """One disorder realization.

    Attributes
    ----------
    positions : jax.Array, shape (N, 3)
        TLS positions in units of r_nn.
    delta : jax.Array, shape (N,)
        Bare asymmetries Delta_i (units of J).
    delta0 : jax.Array, shape (N,)
        Tunneling amplitudes Delta0_i (units of J).
    K : jax.Array, shape (N, N)
        Couplings u_ij / r_ij^3 (units of J, zero diagonal).

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import meanfield as mf  # doctest: +SKIP
    >>> rz = jax.jit(mf.sample_realization, static_argnums=1)(jax.random.key(0), 50, 1.0)  # doctest: +SKIP
    >>> rz.positions.shape, rz.K.shape, str(rz.K.dtype)  # doctest: +SKIP
    ((50, 3), (50, 50), 'float32')
    """
    positions: jax.Array
    delta: jax.Array
    delta0: jax.Array
    K: jax.Array


def box_length(N: int, density: float = DENSITY_UNIT) -> float:
    """Side L of the periodic cube holding N TLSs at ``density``: L = (N / density)^(1/3).

    Parameters
    ----------
    N : int
        Number of TLSs (>= 1).
    density : float
        Number density per r_nn^3 (finite, > 0; see the module docstring).

    Returns
    -------
    float
        L in units of r_nn.

    Examples
    --------
    >>> from jtls.companion import meanfield as mf
    >>> print(f"{mf.box_length(1000):.3f} {mf.box_length(1000, mf.DENSITY_MEAN_NN):.3f}")
    10.000 18.052
    """
    C.integer("N", N, 1)
    V.positive_finite("density", density)
    return (N / density) ** (1.0 / 3.0)


def couplings(key: jax.Array, positions: ArrayLike, L: float, U0: float = 1.0,
              dtype: DTypeLike = jnp.float32, r_cut: float = 0.0) -> jax.Array:
    """Dense K_ij = u_ij / (r_ij^3 + r_cut^3), minimum-image distances in a cube of side L.

    r_cut = 0 (default) is the paper's bare 1/r^3; r_cut > 0 softens the
    interaction of close pairs like the R^3 + C cut-off of Churkin et al.

    u_ij = U0 (g_ij + g_ji) / sqrt(2) with g standard normal, so u is symmetric
    with standard deviation U0.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    positions : array_like, shape (N, 3)
        Positions in units of r_nn.
    L : float
        Box side (r_nn).
    U0 : float
        Standard deviation of u_ij (units of J r_nn^3).
    dtype : dtype
        Storage type of the matrix.
    r_cut : float
        Cut-off length (r_nn).

    Returns
    -------
    jax.Array, shape (N, N)
        K_ij in units of J, symmetric, zero diagonal, in ``dtype``.

    Examples
    --------
    >>> import jax, jax.numpy as jnp  # doctest: +SKIP
    >>> from jtls.companion import meanfield as mf  # doctest: +SKIP
    >>> pos = jnp.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # doctest: +SKIP
    >>> K = mf.couplings(jax.random.key(1), pos, 10.0, dtype=jnp.float64)  # doctest: +SKIP
    >>> bool((K == K.T).all()), bool((jnp.diag(K) == 0).all())  # doctest: +SKIP
    (True, True)
    """
    N = positions.shape[0]
    p = positions.astype(dtype)
    r2 = jnp.zeros((N, N), dtype)
    for k in range(3):  # minimum image, one component at a time
        dk = p[:, None, k] - p[None, :, k]
        dk = dk - jnp.asarray(L, dtype) * jnp.round(dk / jnp.asarray(L, dtype))
        r2 = r2 + dk * dk
    g = jax.random.normal(key, (N, N), dtype=dtype)
    u = (g + g.T) * jnp.asarray(U0 / math.sqrt(2.0), dtype)
    eye = jnp.eye(N, dtype=bool)
    r2 = jnp.where(eye, 1.0, r2)
    rc3 = jnp.asarray(r_cut, dtype) ** 3
    return jnp.where(eye, 0.0, u / (r2 * jnp.sqrt(r2) + rc3)).astype(dtype)


def sample_realization(key: jax.Array, N: int, W: float, J: float = 1.0, *,
                       delta0_range: tuple[float, float] = (1e-7, 1e-1),
                       density: float = DENSITY_UNIT, coupling_dtype: DTypeLike = jnp.float32,
                       r_cut: float = 0.0) -> Realization:
    """Draw positions, Delta ~ N(0, W^2), log-uniform Delta0 and couplings (Asban et al., Eqs. 2, 7).

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    N : int
        Number of TLSs (a Python int: static shape).
    W : float
        Standard deviation of the asymmetries (units of J).
    J : float
        Interaction scale U0 (r_nn = 1).
    delta0_range : (float, float)
        Range of the log-uniform Delta0 (units of J).
    density : float
        Number density per r_nn^3 (see the module docstring).
    coupling_dtype : dtype
        Storage type of K.
    r_cut : float
        Optional short-distance cut-off (units of r_nn), see :func:`couplings`.

    Returns
    -------
    Realization

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import meanfield as mf  # doctest: +SKIP
    >>> rz = jax.jit(mf.sample_realization, static_argnums=1)(jax.random.key(0), 50, 1.0)  # doctest: +SKIP
    >>> bool((rz.delta0 >= 1e-7).all() & (rz.delta0 <= 1e-1).all())  # doctest: +SKIP
    True
    """
    L = box_length(N, density)
    kp, kd, k0, ku = jax.random.split(key, 4)
    pos = jax.random.uniform(kp, (N, 3), minval=0.0, maxval=L)
    delta = W * jax.random.normal(kd, (N,))
    lo, hi = math.log(delta0_range[0]), math.log(delta0_range[1])
    delta0 = jnp.exp(jax.random.uniform(k0, (N,), minval=lo, maxval=hi))
    K = couplings(ku, pos, L, U0=J, dtype=coupling_dtype, r_cut=r_cut)
    return Realization(pos, delta, delta0, K)


class MFRun(NamedTuple):
    """Output of :func:`simulate`, realizations stacked on axis 0 (numpy arrays).

    Attributes
    ----------
    E, delta0, delta_prime : ndarray, shape (R, N)
        Excitation energies, tunneling amplitudes and mean-field asymmetries (units of J).
    rates : ndarray, shape (R, N)
        Relaxation rates of Eq. 12 (units of a J^3).
    converged, iterations, residual : ndarray, shape (R,)
        Convergence of every realization.

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import meanfield as mf  # doctest: +SKIP
    >>> run = mf.simulate(jax.random.key(0), 2, 30, W=1.0, T=0.1)  # doctest: +SKIP
    >>> run.E.shape, run.converged.tolist()  # doctest: +SKIP
    ((2, 30), [True, True])
    """
    E: np.ndarray           # (R, N) excitation energies (J)
    delta0: np.ndarray      # (R, N)
    delta_prime: np.ndarray  # (R, N)
    rates: np.ndarray       # (R, N) Eq. 12 (a J^3)
    converged: np.ndarray   # (R,) bool
    iterations: np.ndarray  # (R,)
    residual: np.ndarray    # (R,)


def _one(key, N, W, J, T, a, damping, tol, r_cut, density, max_iter, coupling_dtype, method):
    kr, ki = jax.random.split(key)
    rz = sample_realization(kr, N, W, J, coupling_dtype=coupling_dtype, r_cut=r_cut,
                            density=density)
    # materialise K once: otherwise XLA may fuse the coupling generation into
    # the row reads of the sequential sweep and recompute it there
    rz = jax.lax.optimization_barrier(rz)
    init_scale = jnp.sqrt(3.0 * (W**2 + J**2))
    res = solve_mean_field(ki, rz.K, rz.delta, T, damping=damping, tol=tol,
                           max_iter=max_iter, init_scale=init_scale, method=method)
    E = excitation_energies(res.delta_prime, rz.delta0)
    lam = relaxation_rates(E, rz.delta0, T, a)
    return E, rz.delta0, res.delta_prime, lam, res.converged, res.iterations, res.residual


_batched = jax.jit(jax.vmap(_one, in_axes=(0,) + (None,) * 12),
                   static_argnums=(1, 10, 11, 12))
# batch of one: no vmap (a vmapped fori_loop turns the row reads into gathers
# and the skip-if-unchanged branch into a select, ~2x slower at N = 1e4)
_single = jax.jit(_one, static_argnums=(1, 10, 11, 12))


def simulate(key: jax.Array, n_real: int, N: int, W: float, J: float = 1.0, T: float = 0.1, *,
             a: float = 1.0, damping: float = 1.0, tol: float = 1e-5, max_iter: int = 2000,
             method: str = "sequential", r_cut: float = 0.0, density: float = DENSITY_UNIT,
             coupling_dtype: DTypeLike = jnp.float32, mem_bytes: float = 1.2e9,
             batch: int | None = None, checkpoint: str | None = None, overwrite: bool = False,
             verbose: bool = False) -> MFRun:
    """Solve Eq. 4 for ``n_real`` independent realizations and return :class:`MFRun`.

    Realizations are vmapped in batches of ``batch`` (default: as many N x N
    coupling matrices as fit in ``mem_bytes``, counting ~3 matrices of
    temporaries each).  Realization r uses ``jax.random.fold_in(key, r)``, so
    results do not depend on the batch size.  ``checkpoint``: optional .npz
    path; finished batches are saved there and a rerun with the same key and
    arguments resumes from it, giving the same result as an uninterrupted run
    (other arguments raise ValueError).

    Checkpoint files (the annealer's, :mod:`jtls.anneal.files`): a run holds
    the lock ``checkpoint + ".lock"`` while it works, so a second run on the
    same checkpoint is refused (ValueError naming the checkpoint and the pid
    and host holding it); each save goes to a temporary file of this process,
    is fsync'ed and renamed over the checkpoint, so a killed run leaves the
    previous checkpoint intact; the file carries a SHA-256 of its arrays, and
    on resuming the checksum, the arguments, the shapes (one row per stored
    realization) and the invariants of the results are verified: an edited,
    damaged or inconsistent checkpoint is refused naming the file and what is
    wrong, never resumed or replaced unless ``overwrite=True``.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n_real : int
        Number of realizations (>= 1).
    N : int
        TLSs per realization (>= 2).
    W, J, T : float
        Asymmetry width, interaction scale (each in [1e-100, 1e100]) and
        temperature (finite, >= 0), units of J.
    a : float
        Rate constant of Eq. 12 (in [1e-100, 1e100]).
    damping, tol, max_iter, method
        As in :func:`solve_mean_field`.
    r_cut, density, coupling_dtype
        As in :func:`sample_realization`.
    mem_bytes : float
        Memory budget of one batch, bytes (finite, > 0).
    batch : int, optional
        Realizations per vmapped call (>= 1).
    checkpoint : str or path-like, optional
        ``.npz`` path for resumable runs; its folder must exist and be
        writable (checked before any work).
    overwrite : bool
        With ``checkpoint``: do not resume an existing checkpoint (of any
        arguments, or damaged) but start from 0; it is replaced when the first
        batch is saved.
    verbose : bool
        Print progress after every batch.

    Returns
    -------
    MFRun
        A combination of arguments whose energies or rates leave float64 is
        a ValueError naming W, J, T and a.

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import meanfield as mf  # doctest: +SKIP
    >>> run = mf.simulate(jax.random.key(0), 2, 30, W=1.0, T=0.1)  # doctest: +SKIP
    >>> run.rates.shape, bool((run.rates > 0).all())  # doctest: +SKIP
    ((2, 30), True)
    """
    V.in_domain("W", W)
    V.in_domain("J", J)
    V.nonnegative_finite("T", T)
    V.in_domain("a", a)
    V.nonnegative_finite("r_cut", r_cut)
    V.positive_finite("density", density)
    V.positive_finite("mem_bytes", mem_bytes)
    C.solver(method, damping, tol, max_iter)
    C.integer("N", N, 2)
    C.integer("n_real", n_real, 1)
    if batch is not None:
        C.integer("batch", batch, 1)
    if not isinstance(overwrite, (bool, np.bool_)):
        raise ValueError(f"argument 'overwrite' must be True or False, got {overwrite!r}")
    if checkpoint is not None:
        checkpoint = C.output_path("checkpoint", checkpoint)
    elif overwrite:
        raise ValueError("argument 'overwrite' applies to a 'checkpoint', and none was given")
    itemsize = jnp.dtype(coupling_dtype).itemsize
    if batch is None:
        batch = int(max(1, min(n_real, mem_bytes // (3 * N * N * itemsize))))
    kd = key if jnp.issubdtype(key.dtype, jnp.integer) else jax.random.key_data(key)
    meta = {"kind": CHECKPOINT_KIND, "N": int(N), "W": float(W), "J": float(J), "T": float(T),
            "a": float(a), "damping": float(damping), "tol": float(tol), "max_iter": int(max_iter),
            "method": method, "r_cut": float(r_cut), "density": float(density),
            "coupling_dtype": jnp.dtype(coupling_dtype).name,
            "float_dtype": jnp.dtype(jnp.result_type(float)).name,
            "key": np.asarray(kd).ravel().tolist()}
    args = (N, float(W), float(J), float(T), float(a), float(damping),
            float(tol), float(r_cut), float(density), int(max_iter), coupling_dtype, method)
    with contextlib.nullcontext() if checkpoint is None else F.OutputLock(checkpoint):
        done = _run(key, n_real, batch, args, meta, checkpoint, overwrite, verbose,
                    dict(W=W, J=J, T=T, a=a))
    return MFRun(*(np.concatenate(done[k])[:n_real] for k in MFRun._fields))


def _run(key, n_real, batch, args, meta, checkpoint, overwrite, verbose, ranges):
    """{name: [arrays of the batches]} of :func:`simulate` (holding the checkpoint's lock)."""
    names = MFRun._fields
    done = {k: [] for k in names}
    start = 0
    if checkpoint is not None:
        F.remove_stale_temporaries(checkpoint)        # of runs killed while saving
        if os.path.exists(checkpoint) and not overwrite:
            start, arrs = load_checkpoint(checkpoint, meta, args[0])
            done = {k: [arrs[k]] for k in names}
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(n_real))
    for b0 in range(start, n_real, batch):
        kb = keys[b0:b0 + batch]
        if len(kb) == 1:
            out = tuple(v[None] for v in _single(kb[0], *args))
        else:
            out = _batched(kb, *args)
        out = dict(zip(names, (np.asarray(v) for v in out)))
        for v in (out["E"], out["rates"]):        # before it is saved: a checkpoint holds finite values
            V.finite_result("simulate", v, **ranges)
        for k in names:
            done[k].append(out[k])
        if verbose:
            print(f"  realizations {b0 + len(kb)}/{n_real}", flush=True)
        if checkpoint is not None:
            save_checkpoint(checkpoint, meta, b0 + len(kb), {k: np.concatenate(done[k]) for k in names})
    return done
