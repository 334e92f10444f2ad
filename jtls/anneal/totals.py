"""The totals of an annealing run: what its checkpoint holds and its output is assembled from.

The per-device sums of every compiled call are added to them (:func:`add_results`); the totals
of a checkpoint are verified against what ``done`` realizations can produce
(:func:`totals_problem`) before a run resumes from them.  (Split off :mod:`jtls.anneal.run`,
which re-exports these under their earlier private names.)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import histogram as H

if TYPE_CHECKING:
    from .run import RunConfig

#: Per-realization results summed over the realizations of a call (the first three are arrays).
SUMMED = ("counts", "accepted", "counts_relaxed", "unstable_single", "unstable_pair",
           "relax_flips", "relax_capped", "unstable_single_after", "unstable_pair_after")


def empty_totals(cfg: RunConfig) -> dict:
    """The zero totals of ``cfg``'s run (names, dtypes and shapes a checkpoint must have)."""
    nT = len(cfg.schedule.T)
    nF = H.fine_edges().size  # nF bins + overflow
    tot = {"counts": np.zeros((nT, nF), np.int64), "accepted": np.zeros(nT, np.int64),
           "counts_relaxed": np.zeros(nF, np.int64)}
    for k in SUMMED[3:]:
        tot[k] = np.int64(0)
    tot["energy_sum"] = np.float64(0.0)   # informational only (float sum)
    return tot


def totals_problem(cfg: RunConfig, done: int, tot: dict):
    """Description of the first violated invariant of checkpoint totals, or None.

    Every realization records each of its n TLSs in exactly one fine bin
    (overflow included) at every temperature and once after relaxation, so
    every row of ``counts`` and ``counts_relaxed`` sums to done * n; the other
    totals are bounded by what done realizations can produce."""
    n = cfg.params.n
    if not 0 <= done <= cfg.count:
        return f"done = {done} is not in [0, {cfg.count}] (realizations of the run)"
    for k, v in tot.items():
        if np.any(np.asarray(v) < 0) and k != "energy_sum":
            return f"tot_{k} holds negative values"
    rows = tot["counts"].sum(axis=1)
    if np.any(rows != done * n):
        t = int(np.argmax(rows != done * n))
        return (f"tot_counts at temperature {t} sums to {int(rows[t])}, expected done x TLSs = "
                f"{done} x {n} = {done * n}")
    if int(tot["counts_relaxed"].sum()) != done * n:
        return (f"tot_counts_relaxed sums to {int(tot['counts_relaxed'].sum())}, expected done x TLSs = "
                f"{done} x {n} = {done * n}")
    attempts = np.asarray(cfg.schedule.sweeps, np.int64) * done * n
    if np.any(tot["accepted"] > attempts):
        return "tot_accepted exceeds the attempted flips of done realizations"
    bounds = {"unstable_single": done * n, "unstable_single_after": done * n,
              "unstable_pair": done * n * (n - 1) // 2, "unstable_pair_after": done * n * (n - 1) // 2,
              "relax_capped": done}
    for k, bound in bounds.items():
        if int(tot[k]) > bound:
            return f"tot_{k} = {int(tot[k])} exceeds {bound} (possible for {done} realizations)"
    if not cfg.relax and any(int(tot[k]) for k in ("relax_flips", "relax_capped", "unstable_single_after",
                                                   "unstable_pair_after")):
        return "relaxation totals are not zero in a run without relaxation"
    if done == 0 and (tot["energy_sum"] != 0 or tot["accepted"].any()):
        return "totals are not zero with done = 0"
    return None


def add_results(tot: dict, res: dict) -> dict:
    """New totals: ``tot`` plus the per-device sums ``res`` {name: (ndev, ...)} of one call."""
    new = {k: tot[k] + res[k].astype(np.int64).sum(0) for k in ("counts", "accepted", "counts_relaxed")}
    for k in SUMMED[3:]:
        new[k] = np.int64(tot[k] + (res[k].astype(np.int64).sum() if k in res else 0))
    new["energy_sum"] = np.float64(tot["energy_sum"] + res["energy"].astype(np.float64).sum())
    return new
