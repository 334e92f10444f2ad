"""Two-TLS (S-tau) model: reduction of the S-TLS DOS by S-tau correlations.

Schechter & Stamp, PRB 88, 174202 (2013), App. B2-B3.

Every impurity on a diluted lattice carries a strongly coupled S spin and a
weakly coupled tau spin.  The S_i - tau_j interaction is (App. B2, Eq. A25)

    U_ij = c_ij J_St R_o^3 / (R_ij^3 + a~^3),     c_ij ~ N(0, 1) (i != j),

independent for each ordered pair (the spin S_i^z is absorbed in c_ij).  The
tau energies are E_tau_j = sum_i U_ij (+ h_j with random fields, App. B3);
tau spins with E_tau_j < 0 are flipped, U_ij -> -U_ij for that j, so that all
E_tau_j >= 0.  The pair-stability condition of Eq. (B7) makes S_i available at
energy E only if E + E_tau_j - 2 U_ij > 0 for every j, i.e.

    E_S_i^min = max(0, max_j (2 U_ij - E_tau_j)),

and the reduction factor is P_S(E) = #(E_S^min < E) / #S.

Conventions
-----------
* Lengths are in units of the lattice spacing a_o between nearest sites; the
  cut-off a~ is in the same unit (the paper's a~ = 0, 1.5, 3, 4.5, 6).
* ``lattice="fcc"`` (default) puts 4 sites in each cubic cell, which
  reproduces the paper's TLS counts (x = 0.2 on 18^3 cells: ~4650 TLSs;
  x = 0.5 on 13^3 cells: ~4400); ``"sc"`` is the simple cubic lattice.
* R_o^3 = 1 / (impurity number density), so J_St is the typical S-tau
  interaction at the typical impurity distance (J^{S tau} ~ g J_o).  Energies
  are returned in units of J_St; the paper quotes them in units of the typical
  tau energy <E_tau> = mean |E_tau| without random fields, which every result
  here also carries.
* The self term i = j (S and tau of the same impurity) is excluded.
* Random fields (App. B3): h_j = h_ratio <E_tau> z_j with z_j ~ N(0, 1), i.e.
  ``h_ratio`` is h^tau / <E_tau> with h^tau the field's standard deviation.

Crossover T_U: gamma_tau^2 n_tau(T_U) = gamma_S^2 n_S(T_U); with
n_S(E) = n_S(E-bar) P_S(E) this is P_S(T_U) = threshold, and the paper's
Fig. 2 caption states threshold ~ 5 g.  See :func:`crossover_energy`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .. import _validate as V
from . import _checks as K

LATTICES = ("fcc", "sc")


def _check_lattice(L, lattice):
    if lattice not in LATTICES:
        raise ValueError(f"argument 'lattice' must be one of {LATTICES}, got {lattice!r}")
    K.integer("L", L, 1)


def lattice_sites(L: int, lattice: str = "fcc") -> tuple[np.ndarray, float]:
    """Sites of an L x L x L-cell periodic lattice in units of the nearest-site distance a_o.

    Parameters
    ----------
    L : int
        Number of cubic cells per side (>= 1).
    lattice : str
        ``"fcc"`` (4 sites per cell, cell side sqrt(2)) or ``"sc"`` (1 site, side 1).

    Returns
    -------
    (positions, box) : (ndarray of shape (M, 3), float)
        Site positions and the periodic box side, in a_o; M = 4 L^3 (fcc) or L^3 (sc).

    Examples
    --------
    >>> from jtls.companion import two_tls
    >>> pos, box = two_tls.lattice_sites(2)
    >>> pos.shape, round(box, 4)
    ((32, 3), 2.8284)
    """
    _check_lattice(L, lattice)
    g = np.stack(np.meshgrid(*(np.arange(L),) * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
    if lattice == "sc":
        return g, float(L)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    a = math.sqrt(2.0)
    pos = (g[:, None, :] + basis[None]).reshape(-1, 3) * a
    return pos, a * L


def n_impurities(L: int, x: float, lattice: str = "fcc") -> int:
    """Number of impurities round(x * number of sites) on an L^3-cell lattice.

    Parameters
    ----------
    L : int
        Cells per side (>= 1).
    x : float
        Concentration (fraction of occupied sites, finite, 0 < x <= 1).
    lattice : str
        ``"fcc"`` or ``"sc"``.

    Returns
    -------
    int
        In [0, number of sites].

    Examples
    --------
    >>> from jtls.companion import two_tls
    >>> two_tls.n_impurities(18, 0.2), two_tls.n_impurities(13, 0.5)   # the paper's ~4650, ~4400
    (4666, 4394)
    """
    _check_lattice(L, lattice)
    K.fraction("x", x)
    m = (4 if lattice == "fcc" else 1) * L**3
    return int(round(float(x) * m))


class STauSample(NamedTuple):
    """Per-realization result of the App. B2 algorithm.

    Attributes
    ----------
    e_min : jax.Array, shape (n,)
        E_S^min of every S spin (units of J_St).
    e_tau : jax.Array, shape (n,)
        Tau excitation energies after the flips (>= 0, J_St).
    e_tau_mean : jax.Array, shape ()
        <E_tau> = mean |E_tau| without random fields (J_St).

    :func:`simulate` stacks realizations on a leading axis (numpy arrays).

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import two_tls  # doctest: +SKIP
    >>> r = two_tls.simulate(jax.random.key(0), 2, L=3, x=0.5, a_tilde=1.5)  # doctest: +SKIP
    >>> r.e_min.shape, r.e_tau.shape, r.e_tau_mean.shape  # doctest: +SKIP
    ((2, 54), (2, 54), (2,))
    """
    e_min: jax.Array
    e_tau: jax.Array
    e_tau_mean: jax.Array


def emin_from_couplings(U: ArrayLike, h: ArrayLike | None = None) -> tuple[jax.Array, jax.Array]:
    """Core of App. B2 (Schechter & Stamp 2013) for a given coupling matrix: E_S^min of Eq. (B7).

    Parameters
    ----------
    U : array_like, shape (n, n)
        S_i - tau_j couplings (row i = S spin, column j = tau spin, zero
        diagonal, finite, n >= 1), any energy unit.
    h : array_like, shape (n,) or (), optional
        Random fields on the tau spins (same unit, finite).

    Returns
    -------
    (e_min, e_tau) : jax.Array, shape (n,) each
        E_S^min = max(0, max_j (2 U_ij - E_tau_j)) after the tau flips, and
        the tau energies |E_tau_j| (same unit as U).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from jtls.companion import two_tls
    >>> U = jnp.array([[0.0, 1.0, -0.5], [0.3, 0.0, 0.2], [-0.4, 0.6, 0.0]])
    >>> e_min, e_tau = two_tls.emin_from_couplings(U)
    >>> print(e_min, e_tau)
    [0.7 0.  0.7] [0.1 1.6 0.3]
    """
    n = K.square("U", U)
    V.finite("U", U)
    if h is not None:
        K.vector_of("h", h, n, scalar_ok=True)
        V.finite("h", h)
    U = jnp.asarray(U)
    e_tau = jnp.sum(U, axis=0)
    if h is not None:
        e_tau = e_tau + h
    s = jnp.where(e_tau < 0, -1.0, 1.0)
    Up = U * s[None, :]
    e_tau = jnp.abs(e_tau)
    cand = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, 2.0 * Up - e_tau[None, :])
    return jnp.maximum(0.0, jnp.max(cand, axis=1)), e_tau


def sample(key: jax.Array, sites: ArrayLike, box: float, n: int, a_tilde: float,
           h_ratio: float = 0.0, J_st: float = 1.0) -> STauSample:
    """One realization: place n impurities on ``sites``, draw c_ij and fields, run App. B2.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    sites : array_like, shape (M, 3)
        Lattice sites (units of a_o), e.g. from :func:`lattice_sites`.
    box : float
        Periodic box side (a_o).
    n : int
        Number of impurities (static under ``jit``).
    a_tilde : float
        Short-distance cut-off of U_ij (units of a_o).
    h_ratio : float
        Random-field width h^tau / <E_tau> (App. B3; 0: none).
    J_st : float
        S-tau interaction at the typical impurity distance (energy unit).

    Returns
    -------
    STauSample
        Energies in units of J_St.

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import two_tls  # doctest: +SKIP
    >>> sites, box = two_tls.lattice_sites(3)  # doctest: +SKIP
    >>> s = jax.jit(two_tls.sample, static_argnums=3)(jax.random.key(0), sites, box, 20, 1.5)  # doctest: +SKIP
    >>> s.e_min.shape, bool((s.e_min >= 0).all()), bool((s.e_tau >= 0).all())  # doctest: +SKIP
    ((20,), True, True)
    """
    kp, kc, kh = jax.random.split(key, 3)
    sites = jnp.asarray(sites)
    idx = jax.random.permutation(kp, sites.shape[0])[:n]
    p = sites[idx]
    r2 = 0.0
    for k in range(3):  # minimum image, one component at a time (no (n, n, 3) temporary)
        dk = p[:, None, k] - p[None, :, k]
        dk = dk - box * jnp.round(dk / box)
        r2 = r2 + dk * dk
    r3 = r2 * jnp.sqrt(r2)
    Ro3 = box**3 / n
    c = jax.random.normal(kc, (n, n))
    eye = jnp.eye(n, dtype=bool)
    U = jnp.where(eye, 0.0, c * J_st * Ro3 / (jnp.where(eye, 1.0, r3) + a_tilde**3))
    e_tau_mean = jnp.mean(jnp.abs(jnp.sum(U, axis=0)))
    h = h_ratio * e_tau_mean * jax.random.normal(kh, (n,))
    e_min, e_tau = emin_from_couplings(U, h)
    return STauSample(e_min, e_tau, e_tau_mean)


_sample_batch = jax.jit(jax.vmap(sample, in_axes=(0, None, None, None, None, None, None)),
                        static_argnums=(3,))


def simulate(key: jax.Array, n_real: int, L: int, x: float, a_tilde: float, h_ratio: float = 0.0, *,
             lattice: str = "fcc", J_st: float = 1.0, batch: int = 8) -> STauSample:
    """App. B2 (B3 with h_ratio > 0) of Schechter & Stamp 2013 for ``n_real`` realizations.

    Realizations are vmapped in batches of ``batch``; realization r uses
    ``jax.random.fold_in(key, r)``.

    Parameters
    ----------
    key : jax.Array
        PRNG key.
    n_real : int
        Number of realizations (>= 1).
    L : int
        Lattice cells per side.
    x : float
        Impurity concentration in (0, 1].
    a_tilde : float
        Cut-off of U_ij in units of a_o (the paper: 0, 1.5, 3, 4.5, 6).
    h_ratio : float
        Random-field width h^tau / <E_tau> (0: App. B2 without fields).
    lattice : str
        ``"fcc"`` or ``"sc"``.
    J_st : float
        Energy unit of the results.
    batch : int
        Realizations per vmapped call (>= 1).

    Returns
    -------
    STauSample
        Numpy arrays stacked on axis 0: e_min, e_tau (n_real, n), e_tau_mean (n_real,).

    Examples
    --------
    >>> import jax  # doctest: +SKIP
    >>> from jtls.companion import two_tls  # doctest: +SKIP
    >>> r = two_tls.simulate(jax.random.key(0), 2, L=3, x=0.5, a_tilde=1.5)  # doctest: +SKIP
    >>> r.e_min.shape  # doctest: +SKIP
    (2, 54)
    >>> print(two_tls.reduction_factor(r.e_min, [0.1, 1.0, 10.0]))  # doctest: +SKIP
    [0.0462963  0.90740741 1.        ]
    """
    K.fraction("x", x)
    V.nonnegative_finite("a_tilde", a_tilde)
    V.nonnegative_finite("h_ratio", h_ratio)
    V.positive_finite("J_st", J_st)
    K.integer("n_real", n_real, 1)
    K.integer("batch", batch, 1)
    sites, box = lattice_sites(L, lattice)
    n = n_impurities(L, x, lattice)
    if n < 2:
        raise ValueError(f"L={L}, x={x} gives {n} impurities; need at least 2")
    keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(n_real))
    outs = []
    for b0 in range(0, n_real, batch):
        o = _sample_batch(keys[b0:b0 + batch], jnp.asarray(sites), float(box), n,
                          float(a_tilde), float(h_ratio), float(J_st))
        outs.append(jax.tree_util.tree_map(np.asarray, o))
    return STauSample(*(np.concatenate([getattr(o, f) for o in outs]) for f in STauSample._fields))


def reduction_factor(e_min: ArrayLike, E: ArrayLike) -> np.ndarray:
    """Reduction factor P_S(E): the fraction of S spins with E_S^min < E (Eq. B7), pooled.

    Parameters
    ----------
    e_min : array_like
        E_S^min of every S spin (finite, >= 0, at least one), any shape
        (realizations pooled).
    E : array_like, shape (K,)
        Energies in the same unit (finite).

    Returns
    -------
    ndarray, shape (K,)
        P_S(E) in [0, 1].

    Examples
    --------
    >>> from jtls.companion import two_tls
    >>> print(two_tls.reduction_factor([0.0, 0.5, 1.0, 2.0], [0.75, 3.0]))
    [0.5 1. ]
    """
    K.nonempty("e_min", e_min)
    V.nonnegative_finite("e_min", e_min)
    V.finite("E", E)
    em = np.sort(np.asarray(e_min, dtype=float).ravel())
    return np.searchsorted(em, np.asarray(E, dtype=float), side="left") / em.size


def crossover_energy(E: ArrayLike, P: ArrayLike, threshold: float) -> float:
    """Lowest E at which P(E) reaches ``threshold`` (linear interpolation in log E).

    With P = P_S(E) and threshold ~ 5 g this is the crossover T_U of the
    module docstring (Fig. 2 of Schechter & Stamp 2013).

    Parameters
    ----------
    E : array_like, shape (K,)
        Strictly increasing energy grid (finite, > 0, K >= 2).
    P : array_like, shape (K,)
        Values on the grid (finite; non-decreasing for P_S, otherwise the
        first upward crossing is returned).
    threshold : float
        The level to reach (finite).

    Returns
    -------
    float
        The crossing energy (unit of E).  ValueError when the threshold is
        not crossed on the grid.

    Examples
    --------
    >>> from jtls.companion import two_tls
    >>> print(f"{two_tls.crossover_energy([0.1, 1.0, 10.0], [0.01, 0.1, 0.5], 0.05):.4f}")
    0.2783
    """
    E = K.grid("E", E, positive=True)
    K.same_shape(E=E, P=P)
    V.finite("P", P)
    V.finite("threshold", threshold)
    P = np.asarray(P, dtype=float)
    above = np.nonzero(P >= threshold)[0]
    if above.size == 0 or above[0] == 0:
        raise ValueError(f"P(E) does not cross threshold={threshold!r} inside the energy grid "
                         f"[{float(E[0])!r}, {float(E[-1])!r}]")
    k = above[0]
    f = (threshold - P[k - 1]) / (P[k] - P[k - 1])
    return float(np.exp(np.log(E[k - 1]) + f * (np.log(E[k]) - np.log(E[k - 1]))))


def crossover_from_dos(E: ArrayLike, n_tau: ArrayLike, n_S: ArrayLike, g: float) -> float:
    """Crossover T_U from gamma_tau^2 n_tau(T_U) = gamma_S^2 n_S(T_U), gamma_tau / gamma_S = g.

    Parameters
    ----------
    E : array_like, shape (K,)
        Strictly increasing energy grid (finite, K >= 2).
    n_tau, n_S : array_like, shape (K,)
        Densities of states of the tau and S spins on it (finite, same
        normalisation).
    g : float
        Coupling ratio gamma_tau / gamma_S (~0.02, finite, > 0).

    Returns
    -------
    float
        The lowest E where g^2 n_tau(E) <= n_S(E) (linear interpolation of
        the difference), unit of E.  ValueError when there is none inside the grid.

    Examples
    --------
    >>> from jtls.companion import two_tls
    >>> two_tls.crossover_from_dos([0.1, 1.0, 2.0], [1.0, 1.0, 1.0], [0.0, 0.5, 2.0], g=0.5)
    0.55
    """
    E = K.grid("E", E)
    K.same_shape(E=E, n_tau=n_tau, n_S=n_S)
    V.finite("n_tau", n_tau)
    V.finite("n_S", n_S)
    V.positive_finite("g", g)
    d = np.asarray(n_S, dtype=float) - g**2 * np.asarray(n_tau, dtype=float)
    k = np.nonzero(d >= 0)[0]
    if k.size == 0 or k[0] == 0:
        raise ValueError("g^2 n_tau - n_S does not change sign inside the energy grid")
    k = k[0]
    f = -d[k - 1] / (d[k] - d[k - 1])
    return float(E[k - 1] + f * (E[k] - E[k - 1]))


def tau_dos_at_zero(e_tau: ArrayLike, e_max_frac: float = 0.1,
                    scale: float | None = None) -> tuple[float, float]:
    """Density (per impurity per unit energy) of tau excitation energies near 0.

    Counts E_tau in [0, e_max_frac * scale) with scale = mean(E_tau) by default.

    Parameters
    ----------
    e_tau : array_like
        Tau energies (finite, >= 0, at least one), any shape (pooled).
    e_max_frac : float
        Width of the counting window in units of ``scale`` (finite, > 0).
    scale : float, optional
        Energy scale (finite, > 0; default: the mean of ``e_tau``, which must
        then be > 0).

    Returns
    -------
    (density, stderr) : (float, float)
        k / (n w) with k the count in the window of width w = e_max_frac *
        scale and n the number of energies: per impurity per unit energy;
        stderr sqrt(max(k, 1)) / (n w) from the Poisson count.

    Examples
    --------
    >>> import numpy as np
    >>> from jtls.companion import two_tls
    >>> n0, err = two_tls.tau_dos_at_zero(np.linspace(0.0, 1.0, 101))    # uniform on [0, 1]
    >>> print(f"{n0:.3f} +- {err:.3f}")
    0.990 +- 0.443
    """
    K.nonempty("e_tau", e_tau)
    V.nonnegative_finite("e_tau", e_tau)
    V.positive_finite("e_max_frac", e_max_frac)
    e = np.asarray(e_tau, dtype=float).ravel()
    if scale is None:
        scale = float(np.mean(e))
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"argument 'e_tau': its mean (the default 'scale') must be finite and "
                             f"> 0, got {scale!r}; pass 'scale'")
    V.positive_finite("scale", scale)
    w = float(e_max_frac) * float(scale)
    nw = e.size * w
    if not (math.isfinite(nw) and w > 0):
        raise ValueError(f"arguments 'e_max_frac' * 'scale' = {e_max_frac!r} * {scale!r}: the window "
                         f"width is not representable in float64")
    k = np.count_nonzero(e < w)
    out = (k / nw, math.sqrt(max(k, 1)) / nw)
    V.finite_result("tau_dos_at_zero", np.array(out), e_max_frac=e_max_frac, scale=scale)
    return out


def tunneling_strength(kappa: float, g: float, p_tau0: float = 1.0) -> float:
    """Eq. 3: C_o = kappa n_tau gamma_tau^2 / (rho c^2) = kappa g p_tau0.

    p_tau0 is the tau DOS at low energy per impurity in units of 1/J_St (with
    J_St = gamma_S gamma_tau / (rho c^2 R_o^3)); the paper's estimate
    n_tau ~ 1 / (g J_o R_o^3) is p_tau0 = 1, giving C_o ~ kappa g.

    Parameters
    ----------
    kappa : float
        Dimensionless prefactor of Eq. 3 (> 0).
    g : float
        Coupling ratio gamma_tau / gamma_S (> 0).
    p_tau0 : float
        Low-energy tau DOS per impurity in units of 1/J_St (> 0).

    Returns
    -------
    float
        C_o (dimensionless).  Arguments finite; a product that overflows is a
        ValueError.

    Examples
    --------
    >>> from jtls.companion import two_tls
    >>> two_tls.tunneling_strength(0.5, 0.02)
    0.01
    """
    V.positive_finite("kappa", kappa)
    V.positive_finite("g", g)
    V.positive_finite("p_tau0", p_tau0)
    out = kappa * g * p_tau0
    V.finite_result("tunneling_strength", out, kappa=kappa, g=g, p_tau0=p_tau0)
    return out
