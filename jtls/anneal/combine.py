"""Add the parts of an annealing run (``jtls anneal --part K/M``) up to the whole run's output.

Independent jobs -- the tasks of a SLURM job array, runs on different machines at different
times, no ``jax.distributed`` -- can share one run: job k of m runs the same settings with
``--part k/m`` and anneals realizations ``[k N // m, (k+1) N // m)`` of the N
(:meth:`jtls.anneal.run.RunConfig.span`), each with its own output, lock and checkpoint.
Realization r's chain depends on the seed and r alone (:mod:`jtls.anneal.run`) and the
histograms are integer counts, so the sum of the parts' totals is the totals of one run of all
N realizations: :func:`combine` writes an output whose counts, DOS tables and acceptance are
bitwise those of that run (the informational float ``mean_energy_per_tls`` may differ in its
last bits).

Every part file is verified before anything is written: readable with its checksum, a part
(``part`` in its metadata), the same settings in all of them (named when one differs), each part
k of m present exactly once, and its totals consistent with its realizations (the invariants of
:func:`jtls.anneal.totals.totals_problem`).  The output is written like a run's: refused when it
exists (unless ``overwrite``), under its lock, atomically, with a checksum.
"""
from __future__ import annotations

import dataclasses
import json
import os

import numpy as np

from . import files as F
from .lattice import ModelParams
from .run import RunConfig, assemble
from .schedule import make_schedule
from .totals import SUMMED, empty_totals, totals_problem

#: Metadata of an output that describe how (where, when) it was run, not what: they may differ
#: between the parts of one run.
VOLATILE = ("versions", "devices", "processes", "batch", "backend", "wall_seconds", "created_utc",
            "normalization", "part")


def _read_part(path: str) -> tuple:
    """(arrays, meta) of the part file ``path``, verified (checksum required)."""
    ck = path[:-len(".ckpt.npz")] if path.endswith(".ckpt.npz") else None
    if not os.path.exists(path):
        resume = (f"; its checkpoint {F.checkpoint_path(path)} exists: finish that part with --resume"
                  if os.path.exists(F.checkpoint_path(path)) else "")
        raise ValueError(f"part file {path} does not exist (did its job finish?){resume}")
    arrays = F.read_members(path, lambda kind: ValueError(
        f"part file {path} is unreadable, probably truncated or corrupted ({kind})"))
    if "done" in arrays and "meta" in arrays and "counts" not in arrays:
        raise ValueError(f"{path} is the checkpoint of an unfinished run" + (
            f" (of the part {ck})" if ck else "") + ", not a part's output: finish that part with --resume "
            "(the same command), then combine its output")
    if "sha256" not in arrays:
        raise ValueError(f"part file {path} has no checksum: not written by jtls anneal --part (or edited)")
    if not F.checksum_matches(arrays):
        raise ValueError(f"part file {path}: checksum mismatch (the file was corrupted or edited)")
    try:
        meta = json.loads(str(arrays["meta"]))
    except (KeyError, ValueError):
        raise ValueError(f"part file {path}: no readable 'meta' (not an annealer output)") from None
    if not isinstance(meta, dict) or meta.get("part") is None:
        raise ValueError(f"{path} is not a part of a run (no 'part' in its metadata): jtls anneal --part K/M "
                         "writes parts; a whole run needs no combining")
    return arrays, meta


def config_of(meta: dict, where: str) -> RunConfig:
    """The whole run's :class:`RunConfig` described by an output's metadata ``meta`` (ValueError
    naming ``where`` when it does not describe one this jtls makes)."""
    try:
        p = meta["params"]
        cfg = RunConfig(params=ModelParams(**{k: p[k] for k in ModelParams._fields}),
                        schedule=make_schedule(meta["schedule_T"], meta["schedule_sweeps"]),
                        realizations=int(meta["realizations"]), seed=int(meta["seed"]), dtype=meta["dtype"],
                        relax=bool(meta["relax"]), blocks=tuple(tuple(b) for b in meta["blocks"]))
        mine = cfg.metadata()
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: its metadata do not describe an annealing run ({exc})") from None
    diff = [k for k in mine if k not in ("x64",) and mine[k] != meta.get(k)]
    if diff:
        raise ValueError(f"{where} was written by another jtls (its metadata differ in: {', '.join(diff)}); "
                         "combine its parts with that version")
    return cfg


def part_totals(cfg: RunConfig, arrays: dict) -> dict:
    """The totals of a run ``cfg`` (temperatures in the order visited) from its output ``arrays``
    (temperatures ascending); the integer totals exactly."""
    order = np.argsort(np.asarray(cfg.schedule.T))
    n_tls = cfg.count * cfg.params.n
    tot = empty_totals(cfg)
    counts = np.asarray(arrays["counts"], np.int64)
    if counts.shape != tot["counts"].shape:
        raise ValueError(f"counts of shape {counts.shape}, expected {tot['counts'].shape}")
    tot["counts"] = np.empty_like(counts)
    tot["counts"][order] = counts
    attempts = np.asarray(cfg.schedule.sweeps, np.int64)[order] * n_tls
    accepted = np.rint(np.asarray(arrays["acceptance"], float) * attempts).astype(np.int64)
    if not np.array_equal(accepted / attempts, np.asarray(arrays["acceptance"], float)):
        raise ValueError("its acceptance is not a whole number of accepted flips")
    tot["accepted"] = np.empty_like(accepted)
    tot["accepted"][order] = accepted
    tot["counts_relaxed"] = np.asarray(arrays["counts_relaxed"], np.int64)
    for k in SUMMED[3:]:
        tot[k] = np.int64(arrays[k])
    tot["energy_sum"] = np.float64(arrays["mean_energy_per_tls"]) * n_tls
    return tot


def combine(paths, out, *, overwrite: bool = False) -> dict:
    """Add the part files ``paths`` (every part k of m of one run, in any order) up to the whole
    run's output, written to ``out``; returns the output arrays.

    ValueError naming the file or the part: a file that is not a verified part, settings that
    differ between parts (named), a part missing or given twice, totals that do not add up.
    :class:`jtls.anneal.files.OutputExists` when ``out`` exists and ``overwrite`` is False;
    :class:`jtls.anneal.files.RunLocked` while another process writes ``out``.
    """
    paths = [os.fspath(p) for p in (paths or ())]
    if not paths:
        raise ValueError("argument 'paths': no part files given")
    out = F.check_output_path(out)
    if any(os.path.realpath(p) == os.path.realpath(out) for p in paths):       # links resolved
        raise ValueError(f"argument 'out' ({out}) is one of the part files")
    with F.OutputLock(out):
        if os.path.exists(out) and not overwrite:
            raise F.OutputExists(f"output {out} exists; pass --overwrite (overwrite=True) to replace it")
        parts, first = {}, None
        for p in paths:
            arrays, meta = _read_part(p)
            k, m = meta["part"]
            settings = {key: v for key, v in meta.items() if key not in VOLATILE}
            if first is None:
                first = (p, settings, m, config_of(meta, p))
            else:
                diff = sorted(set(settings) ^ set(first[1]) |
                              {key for key in settings if key in first[1] and settings[key] != first[1][key]})
                if diff:
                    raise ValueError(f"{p} is not a part of the run of {first[0]}: the settings differ in "
                                     f"{', '.join(diff)}")
                if m != first[2]:
                    raise ValueError(f"{p} is part {k} of {m}, {first[0]} a part of {first[2]}: parts of "
                                     "different splits of a run do not add up")
            if k in parts:
                raise ValueError(f"part {k} of {m} is given twice: {parts[k][0]} and {p}")
            parts[k] = (p, arrays, meta)
        m, cfg = first[2], first[3]
        missing = [k for k in range(m) if k not in parts]
        if missing:
            raise ValueError(f"{len(missing)} of the {m} parts are missing: " + ", ".join(
                f"part {k} (--part {k}/{m})" for k in missing[:10]) + (" ..." if len(missing) > 10 else ""))
        tot = empty_totals(cfg)
        for k in range(m):
            p, arrays, _ = parts[k]
            pcfg = dataclasses.replace(cfg, part=(k, m))
            try:
                if int(arrays["realizations"]) != pcfg.count:
                    raise ValueError(f"{int(arrays['realizations'])} realizations, part {k} of {m} has "
                                     f"{pcfg.count}")
                t = part_totals(pcfg, arrays)
            except (KeyError, ValueError) as exc:
                raise ValueError(f"part file {p}: {exc}") from None
            problem = totals_problem(pcfg, pcfg.count, t)
            if problem:
                raise ValueError(f"part file {p}: inconsistent totals ({problem})")
            for key in tot:
                tot[key] = tot[key] + t[key]
        result = assemble(cfg, tot, sum(float(parts[k][2].get("wall_seconds", np.nan)) for k in range(m)))
        meta = json.loads(str(result["meta"]))
        meta.update(x64=first[1]["x64"], devices=None, processes=None, batch=None, backend=None,
                    combined_from=[{"file": os.path.basename(parts[k][0]), "part": [k, m],
                                    "created_utc": parts[k][2].get("created_utc"),
                                    "backend": parts[k][2].get("backend"),
                                    "devices": parts[k][2].get("devices")} for k in range(m)])
        result["meta"] = json.dumps(meta)
        F.save_output(out, result)
    return result
