"""Reuse annealer runs between pipeline scripts (fits/*.py).

``cached_run(cfg, directory)`` returns the path of an output file for ``cfg``
in ``directory``: the file is reused when its metadata matches ``cfg``
exactly (a file of an earlier jtls lacking a setting it did not record,
``run.EARLIER_SETTINGS``, is taken to have had its value then, with a
warning), a run killed earlier is resumed from its checkpoint, and otherwise
the run is started (replacing a file of other settings, and a checkpoint
of other settings).  A corrupted checkpoint or a run holding the lock of
the file is an error (ValueError naming the file), never silently replaced.
"""
from __future__ import annotations

import json
import os
import warnings

import numpy as np

from .files import CheckpointMismatch
from .run import EARLIER_SETTINGS, RunConfig, checkpoint_path, run


def run_name(cfg: RunConfig) -> str:
    p = cfg.params
    sw = set(cfg.schedule.sweeps)
    sw = str(sw.pop()) if len(sw) == 1 else "var"
    return (f"anneal_L{p.L}_J{p.J0:g}_h{p.h0:g}_x{p.x:g}_R{cfg.realizations}_s{cfg.seed}"
            f"_sw{sw}_nT{len(cfg.schedule.T)}_{cfg.dtype}.npz")


def _matches(path, cfg) -> bool:
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
    except Exception:  # noqa: BLE001 - unreadable: redo
        return False
    want = json.loads(json.dumps(cfg.metadata()))
    if not isinstance(meta, dict):
        return False
    taken = {k: v for k, v in EARLIER_SETTINGS.items() if k not in meta}
    same = all((meta | taken).get(k) == v for k, v in want.items() if k != "blocks")
    if same and taken:
        warnings.warn(f"{path}: written by an earlier jtls, which did not record "
                      f"{', '.join(f'{k} = {json.dumps(v)}' for k, v in taken.items())}: reused as if it did "
                      "(delete the file to recompute it)", RuntimeWarning, stacklevel=3)
    return same


def cached_run(cfg: RunConfig, directory, progress=True) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, run_name(cfg))
    if os.path.exists(path) and _matches(path, cfg):
        return path
    resume = os.path.exists(checkpoint_path(path))
    try:
        run(cfg, path, resume=resume, progress=progress, overwrite=True)
    except CheckpointMismatch:
        # checkpoint of another configuration: start again (overwrite discards it)
        run(cfg, path, resume=False, progress=progress, overwrite=True)
    return path
