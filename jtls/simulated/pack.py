"""Pack a library build directory into the compact simulated-DOS table.

Input: the batch files written by :func:`jtls.simulated.build.build`.  Output
(one ``.npz``, a few hundred kB): for every grid ratio r = J0/h0 and recorded
temperature t = T/h0 in [T_MIN, T_MAX] / h0, the smoothed logarithm of the
dimensionless DOS

    F(t, e; r) = h0 n(T, E),   e = E / h0,

at fixed knots of q = asinh(e / E_SCALE), with its statistical standard error.
n is the paper's normalization: per TLS per kelvin over signed energies
(int n dE = 1 over -inf..inf).

Smoothing (per r and t; no information is shared between grid points, so the
interpolation error across r can be checked against held-out runs):

1. the fine histogram (2.5 mK bins to 2.5 K, 50 mK to 10 K, 0.5 K beyond) is
   regrouped into bins about DQ_BIN wide in q, merged until each holds at
   least MIN_COUNTS TLS energies;
2. ln n of every bin (Poisson weight = its count) is fitted by a penalised
   regression spline: knot values y of the even natural cubic spline in q on
   the mirrored knots, minimising sum_k c_k (B y - z)_k^2 + lam |D2 y|^2 (D2
   the second differences along the mirrored knots), with lam chosen by
   generalised cross-validation;
3. the standard error of every knot value: with at least JK_MIN_PASSES
   passes, from the delete-one-pass jackknife (the K replicas' deviations are
   stored too, ``jk_delta_log_F``, so that the library's error can be carried
   into fits: :mod:`jtls.simulated.uncertainty`); with fewer, the square root
   of the diagonal of (A^-1 B^T W B A^-1), A = B^T W B + lam D2^T D2, which
   treats the pooled counts as Poisson and misses the correlation of one
   realization's energies across temperatures (statistical only; the
   smoothing bias is judged by the held-out checks in fits/).

Across J0/h0 the grid is left as it is by default (see ``pack``).

The file carries a SHA-256 of its arrays (``sha256``, :func:`jtls.anneal.files.digest`), which
:func:`jtls.simulated.dos.load_library` verifies: an edited or corrupted library is refused.
"""
from __future__ import annotations

import glob
import json
import os
import re
import time

import numpy as np

from ..anneal import histogram as H
from ..anneal.files import load_output
from ..dos import _natural_spline_matrix, _spline_basis_matrix
from .build import MANIFEST, H0, SEED_RULE, check_batch, point_config, regenerate_note, seed_rule

#: Energy scale of the q coordinate, in units of h0 (2.5 mK at h0 = 10 K: the fine bin width).
E_SCALE = 2.5e-4
#: Largest tabulated energy, units of h0 (80 K at h0 = 10 K; the DOS there is ~1e-5 of its peak).
E_MAX = 8.0
#: Knot spacing in q.
DQ = 0.15
#: Target bin width in q before merging, and the least count per bin.
DQ_BIN = 0.08
MIN_COUNTS = 20
#: With at least this many passes the standard errors come from a delete-one-pass jackknife (the
#: energies of one realization are correlated, so Poisson errors of the pooled counts are too small).
JK_MIN_PASSES = 4
#: Recorded temperatures kept (K, at h0 = 10 K): 5 mK .. 20 K.
T_MIN, T_MAX = 0.005, 20.0
LIBRARY_FORMAT = "jtls simulated-DOS library v1"


def q_of(e):
    """q = asinh(e / E_SCALE) for e = E/h0 (array)."""
    return np.arcsinh(np.asarray(e, float) / E_SCALE)


def q_knots() -> np.ndarray:
    """Non-negative q knots 0, DQ, ..., q(E_MAX) (the last one exactly at E_MAX)."""
    qmax = float(q_of(E_MAX))
    n = int(np.ceil(qmax / DQ))
    return np.linspace(0.0, qmax, n + 1)


def mirrored(knots):
    return np.concatenate([-knots[:0:-1], knots])


def spline_basis(knots, x):
    """B (len(x), len(knots)): the even natural cubic spline in q on the mirrored knots, as a linear map of the
    non-negative knot values, evaluated at |x|."""
    mk = mirrored(knots)
    S = _natural_spline_matrix(mk)
    nk = len(knots)
    mirror = np.concatenate([np.arange(nk - 1, 0, -1), np.arange(nk)])
    Bm = _spline_basis_matrix(mk, S, np.clip(np.abs(np.asarray(x, float)), 0, knots[-1]))
    B = np.zeros((len(x), nk))
    np.add.at(B.T, mirror, Bm.T)
    return B


def regroup(counts_fine, edges_e):
    """Merge fine bins (edges in units of h0) into bins ~DQ_BIN wide in q with >= MIN_COUNTS each.

    Returns (lo, hi, counts) of the kept bins, all below E_MAX; bins holding the overflow are dropped.
    """
    c = np.asarray(counts_fine[: len(edges_e) - 1], np.int64)
    q = q_of(edges_e)
    # first pass: cut at q targets
    groups, start = [], 0
    for j in range(1, len(edges_e)):
        if q[j] - q[start] >= DQ_BIN - 1e-12 or j == len(edges_e) - 1:
            groups.append((start, j))
            start = j
    lo, hi, cnt = [], [], []
    for a, b in groups:
        lo.append(edges_e[a]); hi.append(edges_e[b]); cnt.append(int(c[a:b].sum()))
    lo, hi, cnt = np.array(lo), np.array(hi), np.array(cnt)
    keep = hi <= E_MAX * (1 + 1e-12)
    lo, hi, cnt = lo[keep], hi[keep], cnt[keep]
    # merge until each bin has enough counts (left to right; a short tail joins its left neighbour)
    out_lo, out_hi, out_c = [], [], []
    cur_lo, cur_c = None, 0
    for a, b, k in zip(lo, hi, cnt):
        if cur_lo is None:
            cur_lo = a
        cur_c += k
        if cur_c >= MIN_COUNTS:
            out_lo.append(cur_lo); out_hi.append(b); out_c.append(cur_c)
            cur_lo, cur_c = None, 0
    if cur_lo is not None and cur_c > 0 and out_hi:
        out_hi[-1] = hi[-1]
        out_c[-1] += cur_c
    return np.array(out_lo), np.array(out_hi), np.array(out_c, float)


def jackknife_sd(values, axis=0):
    """Delete-one jackknife standard error from the K leave-one-out estimates along ``axis``:
    sqrt((K - 1)/K * sum_k (x_k - mean)^2)."""
    x = np.asarray(values, float)
    K = x.shape[axis]
    return np.sqrt((K - 1) / K * np.sum((x - x.mean(axis, keepdims=True)) ** 2, axis=axis))


def _second_differences(nk):
    """D2 along the mirrored knot sequence, as a map of the non-negative knot values."""
    m = 2 * nk - 1
    mirror = np.concatenate([np.arange(nk - 1, 0, -1), np.arange(nk)])
    D = np.zeros((m - 2, m))
    for i in range(m - 2):
        D[i, i:i + 3] = (1.0, -2.0, 1.0)
    P = np.zeros((m, nk))
    P[np.arange(m), mirror] = 1.0
    return D @ P


def smooth_row(counts_fine, edges_e, n_tls, knots, lams=None):
    """Penalised-spline fit of ln F for one (r, t) histogram.

    Returns (y, sd, info): knot values of ln F (len(knots),), their standard errors, and a dict with the
    chosen lam, effective degrees of freedom, the number of bins and the reduced chi^2 of the fit.
    """
    lo, hi, cnt = regroup(counts_fine, edges_e)
    if len(cnt) < 8:
        raise ValueError(f"too few populated energy bins ({len(cnt)}) to smooth the DOS")
    width = hi - lo
    z = np.log(cnt / (2.0 * n_tls * width))         # ln F: counts / (2 N width_e) is h0 n
    qc = 0.5 * (q_of(lo) + q_of(hi))
    B = spline_basis(knots, qc)
    W = cnt
    BtWB = B.T @ (W[:, None] * B)
    BtWz = B.T @ (W * z)
    D = _second_differences(len(knots))
    DtD = D.T @ D
    lams = np.logspace(-4, 5, 37) if lams is None else lams
    best = None
    for lam in lams:
        A = BtWB + lam * DtD
        y = np.linalg.solve(A, BtWz)
        Hm = np.linalg.solve(A, BtWB)
        edf = float(np.trace(Hm))
        r = z - B @ y
        rss = float(np.sum(W * r * r))
        n = len(z)
        gcv = n * rss / max(n - edf, 1.0) ** 2
        if best is None or gcv < best[0]:
            best = (gcv, lam, y, A, edf, rss)
    _, lam, y, A, edf, rss = best
    Ainv = np.linalg.inv(A)
    cov = Ainv @ BtWB @ Ainv
    sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return y, sd, {"e_data": float(hi[-1]), "lam": float(lam), "edf": edf, "bins": int(len(z)),
                   "chi2_red": rss / max(len(z) - edf, 1.0)}


def _batches(directory):
    files = sorted(glob.glob(os.path.join(directory, "r*_b*.npz")))
    out = {}
    for p in files:
        m = re.fullmatch(r"r([0-9.]+)_b(\d+)\.npz", os.path.basename(p))
        if m and not os.path.exists(p + ".ckpt.npz"):
            out.setdefault(float(m.group(1)), {})[int(m.group(2))] = p
    return out


def log_F_noninteracting(e):
    """ln F at J0 = 0: n over signed energies is a Gaussian of width 2 h0, F = exp(-e^2/8) / (2 sqrt(2 pi))."""
    e = np.asarray(e, float)
    return -e * e / 8.0 - np.log(2.0 * np.sqrt(2.0 * np.pi))


def _divided_second_differences(x):
    """D (m-2, m): second divided differences on the grid x, scaled by the mean spacing squared."""
    m = len(x)
    h = np.diff(x)
    D = np.zeros((max(m - 2, 0), m))
    for i in range(1, m - 1):
        D[i - 1, i - 1] = 1.0 / h[i - 1]
        D[i - 1, i] = -1.0 / h[i - 1] - 1.0 / h[i]
        D[i - 1, i + 1] = 1.0 / h[i]
        D[i - 1] *= 2.0 / (h[i - 1] + h[i])
    return D * np.mean(h) ** 2


def smooth_across_ratios(ratios, logF, sdF, lams=None, slack=2.0, also=None):
    """Smooth ln F across the J0/h0 grid: one penalised least-squares fit per (t, q) knot.

    Independent Monte-Carlo noise at neighbouring grid points would otherwise be interpolated as
    wiggles of ln F in J0/h0 -- spurious local minima and too small errors in fits for J0/h0.
    Returns (smoothed ln F, its standard errors, the lam chosen for every temperature).  ``also``
    (shape (K, nR, nT, nQ): the jackknife replicas' deviations) is smoothed with the same linear
    smoother, in place.
    """
    nR, nT, nQ = logF.shape
    D = _divided_second_differences(np.asarray(ratios, float))
    P = D.T @ D
    lams = np.logspace(-3, 6, 37) if lams is None else np.sort(lams)
    out, sd_out = np.empty_like(logF), np.empty_like(sdF)
    chosen = np.empty((nT, nQ))
    for j in range(nT):
        for k in range(nQ):
            z = logF[:, j, k]
            w = 1.0 / np.maximum(sdF[:, j, k], 1e-4) ** 2      # exact rows (sd = 0) nearly held
            Wd = np.diag(w)
            # discrepancy principle (the standard errors are known): the smoothest fit whose weighted
            # residuals are within the noise, chi^2 <= dof + 2 sqrt(2 dof), dof = n - edf (a 2-sigma
            # chi^2 fluctuation); GCV is degenerate here (n = nR)
            best = None
            for lam in lams:
                H = np.linalg.solve(Wd + lam * P, Wd)
                y = H @ z
                rss = float(np.sum(w * (z - y) ** 2))
                dof = max(nR - float(np.trace(H)), 1.0)
                if best is None or rss <= dof + slack * np.sqrt(2.0 * dof):
                    best = (rss, lam, H, y)
            _, lam, H, y = best
            out[:, j, k] = y
            if also is not None:
                also[:, :, j, k] = also[:, :, j, k] @ H.T
            sd_out[:, j, k] = np.sqrt(np.clip(np.einsum("ij,j,ij->i", H, sdF[:, j, k] ** 2, H), 0, None))
            chosen[j, k] = lam
    return out, sd_out, np.median(chosen, axis=1)


def pack(directory, out, *, passes: int | None = None, overwrite: bool = False, progress=True,
         include_zero: bool = True, smooth_ratios: bool = False) -> dict:
    """Smooth the batches of ``directory`` into the library file ``out`` (npz).

    Uses batches 0 .. passes-1 of every ratio (default: every pass complete for all ratios), so all grid
    points hold the same number of realizations.  Refuses to replace ``out`` unless ``overwrite``,
    and to write it while another pack writes it (the lock ``out + '.lock'``).
    ``include_zero`` adds the exact non-interacting row J0/h0 = 0 (see :func:`log_F_noninteracting`), so
    that J0_h0 = 0 -- no TLS-TLS interaction -- is a physical bound of the fits rather than a library edge.
    ``smooth_ratios`` (off by default) applies :func:`smooth_across_ratios`: it removes the Monte-Carlo
    wiggles of ln F across J0/h0, but with 10^4 realizations per ratio it moved the J0/h0 fitted to
    independent runs by up to +0.005 (``python fits/simulated_smoothing.py``; up to four times the
    library's own statistical error), because ln F is curved in J0/h0 where the smoother's penalty
    acts; with the unsmoothed grid the global scan reported no secondary minimum in those fits.
    """
    from ..anneal.files import OutputLock
    out = _check_out(out, overwrite)
    with OutputLock(out):            # one writer: a second pack of the same out is refused
        _check_out(out, overwrite)   # ... and one checked before another pack wrote it finds the file
        return _pack(directory, out, passes, progress, include_zero, smooth_ratios)


def _pack(directory, out, passes, progress, include_zero, smooth_ratios) -> dict:
    """The work of :func:`pack`, under the lock of ``out``."""
    mpath = os.path.join(directory, MANIFEST)
    if not os.path.exists(mpath):
        raise ValueError(f"{directory} is not a library build directory (no {MANIFEST})")
    with open(mpath, encoding="utf-8") as f:
        man = json.load(f)
    rule = seed_rule(man, mpath)        # a build of an earlier jtls is packed with the seeds it used
    ratios = [float(r) for r in man["ratios"]]
    have = _batches(directory)
    def leading(bs):
        k = 0
        while k in bs:
            k += 1
        return k
    complete = min(leading(have.get(r, {})) for r in ratios)
    npass = complete if passes is None else int(passes)
    if npass < 1 or npass > complete:
        raise ValueError(f"{directory}: {complete} complete pass(es) over all {len(ratios)} ratios; "
                         f"cannot pack {npass}")
    knots = q_knots()
    edges_e = H.fine_edges() / H0
    T_sched = None
    logF, sdF, info_rows, realizations, seeds = [], [], [], [], []
    jack = npass >= JK_MIN_PASSES
    reps, overdisp = [], []
    def batch(point, r, b):
        f = load_output(have[r][b])
        missing = [k for k in ("meta", "T", "counts", "n_tls_total") if k not in f]
        if missing:
            raise ValueError(f"{have[r][b]}: not a library batch (missing {', '.join(missing)})")
        check_batch(have[r][b], f, point_config(r, point, b, L=man["L"], batch_size=man["batch_size"],
                                                seed=man["seed"], sweeps=man["sweeps"], rule=rule))
        return f

    for point, r in enumerate(ratios):         # every file verified before any smoothing
        for b in range(npass):
            batch(point, r, b)
    for point, r in enumerate(ratios):
        tot, n_tls, per = None, 0, []
        for b in range(npass):
            f = batch(point, r, b)
            meta = json.loads(str(f["meta"]))
            T = np.asarray(f["T"])
            c = np.asarray(f["counts"], np.int64)
            tot = c if tot is None else tot + c
            n_tls += int(f["n_tls_total"])
            per.append((c, int(f["n_tls_total"])))
            seeds.append(int(meta["seed"]))
            if T_sched is None:
                T_sched = T
            elif not np.array_equal(T_sched, T):
                raise ValueError(f"{have[r][b]}: recorded temperatures differ from the other batches")
        rows = np.nonzero((T_sched >= T_MIN * (1 - 1e-9)) & (T_sched <= T_MAX * (1 + 1e-9)))[0]
        Ys, Ss, Is = [], [], []
        for i in rows:
            try:
                y, sd, info = smooth_row(tot[i], edges_e, n_tls, knots)
            except ValueError as exc:
                raise ValueError(f"{directory}: J0/h0 = {r:g}, T = {T_sched[i]:g} K ({n_tls} TLS energies from "
                                 f"{npass} pass(es)): {exc}; build more realizations (--batch-size, "
                                 "--batches)") from None
            Ys.append(y); Ss.append(sd); Is.append(info)
        if jack:
            # delete-one-pass jackknife: deviations of the replicas from the full smoothing
            rep = np.array([[smooth_row(tot[i] - cb[i], edges_e, n_tls - nb, knots)[0] for i in rows]
                            for cb, nb in per]) - np.asarray(Ys)[None]
            sd_jk = jackknife_sd(rep)
            good = np.asarray(Ss) > 0
            overdisp.append(float(np.median(sd_jk[good] / np.asarray(Ss)[good])))
            reps.append(rep)
            Ss = list(sd_jk)
        logF.append(Ys); sdF.append(Ss); info_rows.append(Is)
        realizations.append(n_tls // int(round(0.5 * man["L"] ** 3)))
        if progress:
            worst = max(i["chi2_red"] for i in Is)
            if jack:
                print(f"[pack] J0/h0 = {r:g}: jackknife errors {overdisp[-1]:.2f} x the Poisson ones (median)",
                      flush=True)
            print(f"[pack] J0/h0 = {r:g}: {n_tls} TLS energies per temperature, {len(rows)} temperatures, "
                  f"largest reduced chi2 of the smoothing {worst:.2f}", flush=True)
    t = T_sched[rows] / H0
    from .. import __version__
    prov = {
        "format": LIBRARY_FORMAT, "build": man, "passes": npass, "seeds": sorted(seeds),
        "seed_rule": rule,
        "realizations_per_ratio": realizations, "jtls_version": __version__,
        "smoothing": {"E_SCALE": E_SCALE, "E_MAX": E_MAX, "DQ": DQ, "DQ_BIN": DQ_BIN,
                      "MIN_COUNTS": MIN_COUNTS, "method": "penalised even natural cubic spline in "
                      "q = asinh(e/E_SCALE), lam by GCV, Poisson weights"},
        "smoothing_rows": info_rows,
        "regenerate": (f"jtls library build DIR --ratios {','.join(f'{r:g}' for r in ratios)} --L {man['L']} "
                       f"--batches {npass} --batch-size {man['batch_size']} --seed {man['seed']} --sweeps "
                       f"{man['sweeps']} && jtls library pack DIR --passes {npass} --out OUT"),
        **({} if rule == SEED_RULE else {"regenerate_note": regenerate_note(rule)}),
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "units": "t = T/h0, e = E/h0, F = h0 n(T, E) per TLS over signed energies; ln F tabulated",
    }
    prov["errors"] = (
        {"method": f"delete-one-pass jackknife over the {npass} passes (the {npass} replicas' deviations are "
                   "stored as jk_delta_log_F, float16)",
         "median_ratio_to_poisson": overdisp} if jack else
        {"method": f"Poisson counting errors of the pooled histograms (fewer than {JK_MIN_PASSES} passes): "
                   "too small, since the energies of one realization are correlated"})
    from ..anneal.files import save_output
    logF, sdF = np.asarray(logF), np.asarray(sdF)
    reps = np.moveaxis(np.asarray(reps), 1, 0) if jack else None        # (K, nR, nT, nQ)
    if include_zero and ratios[0] > 0:
        # J0 = 0 exactly: E_i = 2|h_i| whatever the spins, so F = Gaussian of width 2 (units of h0)
        z = np.broadcast_to(log_F_noninteracting(np.sinh(knots) * E_SCALE), logF.shape[1:])
        logF = np.concatenate([z[None], logF])
        sdF = np.concatenate([np.zeros_like(z)[None], sdF])
        ratios = [0.0] + list(ratios)
        if jack:
            reps = np.concatenate([np.zeros((npass, 1) + reps.shape[2:]), reps], axis=1)
        prov["zero_ratio"] = ("J0/h0 = 0 tabulated exactly (no annealing): with J0 = 0 the single-particle "
                              "energies 2|h_i| do not depend on the spins, h_i ~ N(0, h0^2)")
    if smooth_ratios:
        exact = logF[0].copy() if ratios[0] == 0.0 else None
        logF, sdF, lam_r = smooth_across_ratios(np.asarray(ratios), logF, sdF, also=reps)
        if exact is not None:       # the exact J0/h0 = 0 row stays exact (the smoother moved it by < 1e-6)
            logF[0], sdF[0] = exact, 0.0
            if jack:
                reps[:, 0] = 0.0
        prov["smoothing_across_ratios"] = {
            "method": "penalised least squares across the J0/h0 grid at every (t, q) knot: second divided "
                      "differences, weights 1/sd^2 (the exact J0/h0 = 0 row held), one lam per (t, q) knot "
                      "by the discrepancy principle (chi^2 <= dof + 2 sqrt(2 dof)); sd_log_F propagated through the smoother",
            "median_lam_per_temperature": [float(x) for x in lam_r]}
    else:
        prov["smoothing_across_ratios"] = "none: each grid ratio is smoothed on its own (see jtls.simulated.pack.pack)"
    arrays = {"ratios": np.asarray(ratios), "t": t, "q_knots": knots, "e_scale": np.float64(E_SCALE),
              "e_max": np.float64(min(E_MAX, min(i["e_data"] for rows_ in info_rows for i in rows_))),
              "log_F": logF, "sd_log_F": sdF, "meta": json.dumps(prov)}
    if jack:
        arrays["jk_delta_log_F"] = reps.astype(np.float16)
    try:
        save_output(out, arrays)        # atomically, with the SHA-256 of the arrays that load_library checks
    except OSError as exc:
        raise ValueError(str(exc.strerror or exc)) from None
    return arrays


def _check_out(out, overwrite: bool) -> str:
    """``out`` as str, checked before any smoothing: a file name (not a directory) in an existing
    writable directory, and not an existing file unless ``overwrite``; ValueError naming it."""
    from ..anneal.files import check_output_path
    out = os.fspath(out)
    if os.path.isdir(out):
        raise ValueError(f"output path {out} is a directory; give a file name (e.g. "
                         f"{os.path.join(out, 'library.npz')})")
    if os.path.exists(out) and not overwrite:
        raise ValueError(f"output {out} exists; pass overwrite=True (--overwrite) to replace it")
    return check_output_path(out)
