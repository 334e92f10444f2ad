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

from .. import _validate as V

LATTICES = ("fcc", "sc")


def lattice_sites(L, lattice="fcc"):
    """Sites of an L x L x L-cell periodic lattice in units of the nearest-site distance.

    Returns (positions (M, 3) numpy, box side).  fcc: M = 4 L^3, cubic cell
    side sqrt(2); sc: M = L^3, cell side 1.
    """
    if lattice not in LATTICES:
        raise ValueError(f"argument 'lattice' must be one of {LATTICES}, got {lattice!r}")
    if not isinstance(L, (int, np.integer)) or L < 1:
        raise ValueError(f"argument 'L' must be an int >= 1, got {L!r}")
    g = np.stack(np.meshgrid(*(np.arange(L),) * 3, indexing="ij"), -1).reshape(-1, 3).astype(float)
    if lattice == "sc":
        return g, float(L)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    a = math.sqrt(2.0)
    pos = (g[:, None, :] + basis[None]).reshape(-1, 3) * a
    return pos, a * L


def n_impurities(L, x, lattice="fcc"):
    """Number of impurities round(x * number of sites)."""
    m = (4 if lattice == "fcc" else 1) * L**3
    return int(round(x * m))


class STauSample(NamedTuple):
    """Per-realization result of the App. B2 algorithm.

    e_min: (n,) E_S^min of every S spin (J_St); e_tau: (n,) tau excitation
    energies after the flips (>= 0, J_St); e_tau_mean: () <E_tau> = mean |E_tau|
    without random fields (J_St).
    """
    e_min: jax.Array
    e_tau: jax.Array
    e_tau_mean: jax.Array


def emin_from_couplings(U, h=None):
    """Core of App. B2 for a given coupling matrix.

    U: (n, n) S_i - tau_j couplings (row i = S spin, column j = tau spin,
    zero diagonal).  h: optional (n,) random fields on the tau spins.
    Returns (e_min (n,), e_tau (n,)).
    """
    e_tau = jnp.sum(U, axis=0)
    if h is not None:
        e_tau = e_tau + h
    s = jnp.where(e_tau < 0, -1.0, 1.0)
    Up = U * s[None, :]
    e_tau = jnp.abs(e_tau)
    n = U.shape[0]
    cand = jnp.where(jnp.eye(n, dtype=bool), -jnp.inf, 2.0 * Up - e_tau[None, :])
    return jnp.maximum(0.0, jnp.max(cand, axis=1)), e_tau


def sample(key, sites, box, n, a_tilde, h_ratio=0.0, J_st=1.0):
    """One realization: place n impurities on ``sites``, draw c_ij and fields, run App. B2.

    sites: (M, 3) lattice sites; box: periodic box side; n: static number of
    impurities; a_tilde: cut-off (units of a_o); h_ratio: h^tau / <E_tau>.
    Returns :class:`STauSample` (energies in units of J_St).
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


def simulate(key, n_real, L, x, a_tilde, h_ratio=0.0, *, lattice="fcc", J_st=1.0, batch=8):
    """App. B2 (B3 with h_ratio > 0) for ``n_real`` realizations, vmapped in batches.

    Realization r uses ``jax.random.fold_in(key, r)``.  Returns
    :class:`STauSample` of numpy arrays stacked on axis 0 (shape (n_real, n)).
    """
    V.positive_finite("x", x)
    if x > 1:
        raise ValueError(f"argument 'x' must be a concentration in (0, 1], got {x!r}")
    V.nonnegative_finite("a_tilde", a_tilde)
    V.nonnegative_finite("h_ratio", h_ratio)
    V.positive_finite("J_st", J_st)
    if not isinstance(n_real, (int, np.integer)) or n_real < 1:
        raise ValueError(f"argument 'n_real' must be an int >= 1, got {n_real!r}")
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


def reduction_factor(e_min, E):
    """P_S(E) = fraction of S spins with E_S^min < E (Eq. B7), pooled over realizations.

    e_min: any shape; E: (K,) energies in the same unit.  Returns (K,) numpy.
    """
    em = np.sort(np.asarray(e_min).ravel())
    return np.searchsorted(em, np.asarray(E, dtype=float), side="left") / em.size


def crossover_energy(E, P, threshold):
    """Lowest E at which P(E) reaches ``threshold`` (linear interpolation in log E).

    E: (K,) increasing grid (> 0); P: (K,) non-decreasing.  Raises ValueError
    when the threshold is not crossed on the grid.
    """
    E = np.asarray(E, dtype=float)
    P = np.asarray(P, dtype=float)
    above = np.nonzero(P >= threshold)[0]
    if above.size == 0 or above[0] == 0:
        raise ValueError(f"P(E) does not cross threshold={threshold!r} inside the energy grid "
                         f"[{E[0]!r}, {E[-1]!r}]")
    k = above[0]
    f = (threshold - P[k - 1]) / (P[k] - P[k - 1])
    return float(np.exp(np.log(E[k - 1]) + f * (np.log(E[k]) - np.log(E[k - 1]))))


def crossover_from_dos(E, n_tau, n_S, g):
    """T_U from gamma_tau^2 n_tau(T_U) = gamma_S^2 n_S(T_U), gamma_tau / gamma_S = g.

    E: (K,) increasing grid; n_tau, n_S: (K,) densities of states on it (same
    normalisation).  Returns the lowest E where g^2 n_tau(E) <= n_S(E)
    (linear interpolation of the difference).
    """
    E = np.asarray(E, dtype=float)
    d = np.asarray(n_S, dtype=float) - g**2 * np.asarray(n_tau, dtype=float)
    k = np.nonzero(d >= 0)[0]
    if k.size == 0 or k[0] == 0:
        raise ValueError("g^2 n_tau - n_S does not change sign inside the energy grid")
    k = k[0]
    f = -d[k - 1] / (d[k] - d[k - 1])
    return float(E[k - 1] + f * (E[k] - E[k - 1]))


def tau_dos_at_zero(e_tau, e_max_frac=0.1, scale=None):
    """Density (per impurity per unit energy) of tau excitation energies near 0.

    Counts E_tau in [0, e_max_frac * scale) with scale = mean(E_tau) by
    default.  Returns (density, standard error from the Poisson count).
    """
    e = np.asarray(e_tau).ravel()
    scale = float(np.mean(e)) if scale is None else scale
    w = e_max_frac * scale
    k = np.count_nonzero(e < w)
    return k / (e.size * w), math.sqrt(max(k, 1)) / (e.size * w)


def tunneling_strength(kappa, g, p_tau0=1.0):
    """Eq. 3: C_o = kappa n_tau gamma_tau^2 / (rho c^2) = kappa g p_tau0.

    p_tau0 is the tau DOS at low energy per impurity in units of 1/J_St (with
    J_St = gamma_S gamma_tau / (rho c^2 R_o^3)); the paper's estimate
    n_tau ~ 1 / (g J_o R_o^3) is p_tau0 = 1, giving C_o ~ kappa g.
    """
    V.positive_finite("kappa", kappa)
    V.positive_finite("g", g)
    return kappa * g * p_tau0
