"""Build the simulated-DOS library: annealer runs over a grid of J0/h0.

The library is a set of ordinary :func:`jtls.anneal.run` outputs, one per
grid point and *batch* of realizations, in one directory:

    DIR/manifest.json                    build settings (a second build with
                                         other settings into DIR is refused)
    DIR/r0.2000_b003.npz                 J0/h0 = 0.2, batch 3 (seed recorded)
    DIR/r0.2000_b003.npz.ckpt.npz        while that batch runs (resumable)

The seed of batch b at grid point p (the index of the ratio) is
``seed + 2^32 p + 2^43 b`` (:func:`batch_seed`, rule 2): distinct for every
(base seed, point, batch), so builds with other base seeds share no stream.
Directories of format v1 used ``seed + 100000 b + p`` (rule 1, under which
--seed 0 and --seed 1 shared streams); they are still packed, with the seeds
they used, but a build does not continue them.

Batches are visited pass by pass (batch 0 of every ratio, then batch 1, ...),
so an interrupted build covers the grid evenly, and extending a library to
more realizations means more passes.  Every batch is an independent run
with its own seed, lock and verified checkpoint (see :mod:`jtls.anneal.files`),
so a killed build resumes where it stopped (``resume`` per batch) and a
finished batch is never recomputed or overwritten.  :func:`jtls.simulated.pack.pack`
turns the directory into the compact library shipped in ``jtls/simulated/``.

Protocol (Churkin et al. 2021, Sec. III A, with extra recorded temperatures):
h0 = 10 K, x = 0.5, cutoff C = 1, the paper's 42 temperatures 300 K -> 20 mK
plus 15, 10, 7 and 5 mK (so 5 mK - 10 K has >= 4 recorded temperatures per
decade), 257 sweeps each, then 2 uK and a greedy relaxation.
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

from ..anneal.files import OutputExists, OutputLock, RunLocked, load_output
from ..anneal.lattice import ModelParams
from ..anneal.limits import is_whole
from ..anneal.run import RunConfig, checkpoint_path, run
from ..anneal.schedule import PAPER_SWEEPS, PAPER_TEMPERATURES, ZERO_T, make_schedule

#: Default grid of J0/h0: 0.02, 0.035, then steps of 0.05 from 0.05 to 1.0 (22 points).
DEFAULT_RATIOS = (0.02, 0.035) + tuple(round(0.05 * k, 4) for k in range(1, 21))
#: Recorded temperatures added below the paper's 20 mK (K).
EXTRA_TEMPERATURES = (0.015, 0.01, 0.007, 0.005)
#: Random-field scale of the library runs (K); the library is stored in units of it.
H0 = 10.0
MANIFEST = "manifest.json"
#: Format of the build directory; v2: batch seeds by :data:`SEED_RULE` 2 (v1: rule 1).
FORMAT = "jtls simulated-DOS build v2"
#: The build formats and the rule of :func:`batch_seed` their batches were seeded with.
SEED_RULES = {"jtls simulated-DOS build v1": 1, FORMAT: 2}
#: The rule of new builds (see :func:`batch_seed`).
SEED_RULE = 2
#: Bits of the base seed, the grid point and the batch in a rule-2 batch seed (63 in all).
SEED_BITS, POINT_BITS, BATCH_BITS = 32, 11, 20


def library_schedule(sweeps: int = PAPER_SWEEPS):
    """The paper's schedule with the extra low temperatures, then 2 uK."""
    return make_schedule(list(PAPER_TEMPERATURES) + list(EXTRA_TEMPERATURES) + [ZERO_T], sweeps)


def batch_seed(seed: int, point: int, batch: int, rule: int = SEED_RULE) -> int:
    """Seed of batch ``batch`` of grid point ``point`` of the build with base seed ``seed``.

    Rule 2 (builds of format v2) packs the three into one 63-bit integer,

        seed + 2^32 point + 2^43 batch,   0 <= seed < 2^32, point < 2^11, batch < 2^20,

    so distinct (seed, point, batch) never share a seed, also across builds with other base
    seeds (:func:`check_arguments` refuses values outside those ranges).  Rule 1 (format v1,
    e.g. the shipped library's build) was ``seed + 100000 batch + point``: builds with base seeds
    0 and 1 shared all but one of their streams; it is kept only to verify such batches when
    they are packed.
    """
    seed, point, batch = int(seed), int(point), int(batch)
    if rule == 1:
        return seed + 100_000 * batch + point
    if rule != 2:
        raise ValueError(f"argument 'rule': unknown seed rule {rule!r} (1 or 2)")
    for name, v, bits in (("seed", seed, SEED_BITS), ("point", point, POINT_BITS), ("batch", batch, BATCH_BITS)):
        if not 0 <= v < 2 ** bits:
            raise ValueError(f"argument {name!r} must be in [0, {2 ** bits - 1}] for a library batch seed, "
                             f"got {v}")
    return seed + (point << SEED_BITS) + (batch << (SEED_BITS + POINT_BITS))


def seed_rule(man: dict, where: str) -> int:
    """The :func:`batch_seed` rule of the build whose manifest is ``man`` (ValueError naming
    ``where`` for an unknown format)."""
    rule = SEED_RULES.get(man.get("format"))
    if rule is None:
        raise ValueError(f"{where}: unknown format {man.get('format')!r} (this jtls reads "
                         f"{', '.join(map(repr, SEED_RULES))})")
    return rule


def batch_name(ratio: float, batch: int) -> str:
    return f"r{ratio:.4f}_b{batch:03d}.npz"


def regenerate_note(rule: int) -> str | None:
    """What a library's 'regenerate' command does not reproduce when its build used seed ``rule``
    (None for the current rule)."""
    if rule == SEED_RULE:
        return None
    return (f"the build used batch seed rule {rule} (seed + 100000 batch + point; an earlier jtls), and jtls "
            f"library build now derives the seeds by rule {SEED_RULE}: the command gives other seeds (the "
            "ones used are listed in 'seeds')")


def point_config(ratio: float, point: int, batch: int, *, L: int, batch_size: int, seed: int,
                 sweeps: int = PAPER_SWEEPS, chunk: int = 0, rule: int = SEED_RULE) -> RunConfig:
    """The annealer configuration of one batch at J0/h0 = ``ratio`` (seed: :func:`batch_seed` by ``rule``;
    ``chunk`` 0: realizations per call chosen from the memory budget, as ``jtls anneal`` does)."""
    return RunConfig(params=ModelParams(L=int(L), x=0.5, J0=float(ratio) * H0, h0=H0, C=1.0),
                     schedule=library_schedule(sweeps), realizations=int(batch_size),
                     seed=batch_seed(seed, point, batch, rule), chunk=int(chunk))


def _check_ratios(ratios, name="ratios"):
    r = np.asarray(ratios, dtype=float)
    if r.ndim != 1 or r.size < 4:
        raise ValueError(f"argument {name!r} needs at least 4 values of J0/h0 (a cubic interpolation)")
    if not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError(f"argument {name!r}: every J0/h0 must be finite and > 0")
    if np.any(np.diff(r) <= 0):
        raise ValueError(f"argument {name!r} must be strictly increasing")
    return tuple(float(x) for x in r)


def manifest(ratios, L, batch_size, seed, sweeps) -> dict:
    return {"format": FORMAT, "ratios": list(ratios), "L": int(L), "batch_size": int(batch_size),
            "seed": int(seed), "sweeps": int(sweeps), "h0": H0, "x": 0.5, "C": 1.0,
            "schedule_T": list(library_schedule(sweeps).T),
            "seed_rule": f"{SEED_RULE}: batch seed = seed + 2^32 point + 2^43 batch (point: index of the ratio)"}


def _ensure_manifest(directory, want: dict):
    path = os.path.join(directory, MANIFEST)
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                have = json.load(f)
        except (OSError, ValueError) as exc:
            raise ValueError(f"library directory {directory}: unreadable {MANIFEST} ({exc})") from None
        if have.get("format") != want["format"] and have.get("format") in SEED_RULES:
            raise ValueError(f"library directory {directory} was built by an earlier jtls ({have.get('format')}: "
                             f"batch seeds by rule {SEED_RULES[have.get('format')]}, which repeats streams across "
                             f"base seeds); batches of this jtls (rule {SEED_RULE}) would be mixed with its "
                             "batches, so it is not continued: pack it as it is (jtls library pack reads it) or "
                             "build into a new directory")
        diff = [k for k in want if have.get(k) != want[k]]
        if diff:
            raise ValueError(f"library directory {directory} was built with other settings (differs in: "
                             f"{', '.join(diff)}); use another directory or the same settings")
        return
    # created whole and exclusively: of two builds starting at once in an empty directory, one
    # writes the manifest and the other compares its settings with it (no last-writer-wins)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(want, f, indent=1)
        try:
            os.link(tmp, path)
        except FileExistsError:
            return _ensure_manifest(directory, want)
        except OSError:                    # no hard links on this file system
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return _ensure_manifest(directory, want)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(want, f, indent=1)
    finally:
        try:
            os.remove(tmp)
        except OSError:
            pass


def _make_directory(directory) -> None:
    """Create the build directory (and its parents); ValueError naming it when that is impossible."""
    directory = os.fspath(directory)
    if not directory:
        raise ValueError("argument 'directory' (the build directory) is empty")
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ValueError(f"library directory {directory} exists and is not a directory")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"cannot create library directory {directory}: {exc.strerror or exc}") from None


#: Settings of a batch's run that its file must carry (the keys of ``RunConfig.metadata()``).
BATCH_SETTINGS = ("params", "schedule_T", "schedule_sweeps", "realizations", "seed", "dtype", "x64", "relax")


def check_batch(path, arrays: dict, cfg: RunConfig) -> None:
    """ValueError naming ``path`` unless the annealer output ``arrays`` is the run ``cfg`` (a batch of
    this build: its model, schedule, realizations and seed), e.g. a file copied from another build."""
    if "meta" not in arrays:
        raise ValueError(f"{path}: not a library batch (no 'meta')")
    try:
        meta = json.loads(str(arrays["meta"]))
    except ValueError:
        raise ValueError(f"{path}: not a library batch ('meta' is not JSON)") from None
    want = json.loads(json.dumps(cfg.metadata())) | {"x64": True}    # builds need JAX's 64-bit types

    def differs(k):        # a setting the file records (every annealer output records them all)
        if k not in meta:
            return k in ("params", "seed")
        if k == "params" and isinstance(meta[k], dict):
            return any(want[k].get(p) != v for p, v in meta[k].items())
        return meta[k] != want[k]
    diff = [k for k in BATCH_SETTINGS if not isinstance(meta, dict) or differs(k)]
    if diff:
        have = {k: meta.get(k) for k in diff} if isinstance(meta, dict) else meta
        raise ValueError(f"{path}: not a batch of this build (differs in: {', '.join(diff)}; the file has "
                         f"{json.dumps(have)[:300]}, this build {json.dumps({k: want[k] for k in diff})[:300]})")


#: What process 0 tells the others to do with the next batch of a multi-process build.
_SKIP, _LATER, _RUN, _ELSEWHERE = 0, 1, 2, 3


def check_arguments(ratios, L, batches, batch_size, sweeps, names=None, seed: int = 0) -> tuple:
    """The checked ratios; ValueError for a bad ratio list or a count that is not an integer >= 1
    (named as in ``names``, e.g. the command-line flags; default: the argument names), a lattice,
    counts or seeds the batches' runs would refuse.  Runs no JAX computation, so a command can check
    before it joins other processes."""
    names = names or {}
    ratios = _check_ratios(ratios, names.get("ratios", "ratios"))
    for name, v in (("L", L), ("batches", batches), ("batch_size", batch_size), ("sweeps", sweeps)):
        if not is_whole(v) or v < 1:
            raise ValueError(f"argument {names.get(name, name)!r} must be an integer >= 1, got {v!r}")
    _check_runs(ratios, L, batches, batch_size, sweeps, seed, names)
    return ratios


def _check_runs(ratios, L, batches, batch_size, sweeps, seed, names) -> None:
    """What the batches' runs would refuse, checked before the directory or its manifest is made: the
    lattice (L >= 2), the counts, JAX's 64-bit types, and the ranges of the base seed, the number of
    ratios and of batches that keep every batch seed distinct (:func:`batch_seed`)."""
    import jax
    from ..anneal.lattice import validate_params
    from ..anneal.limits import check_realizations
    try:
        validate_params(ModelParams(L=int(L), x=0.5, J0=float(ratios[-1]) * H0, h0=H0, C=1.0))
    except ValueError as exc:
        raise ValueError(str(exc).replace("'L'", repr(names.get("L", "L")))) from None
    check_realizations(batch_size, names.get("batch_size", "batch_size"))
    library_schedule(sweeps)                       # the sweeps' upper bound
    name = names.get("seed", "seed")
    if not is_whole(seed) or not 0 <= seed < 2 ** SEED_BITS:
        raise ValueError(f"argument {name!r} must be an integer in [0, {2 ** SEED_BITS - 1}] for a library "
                         f"build (batch seed = {name} + 2^32 point + 2^43 batch: distinct for every base "
                         f"seed, grid point and batch), got {seed!r}")
    for key, n, bits in (("ratios", len(ratios), POINT_BITS), ("batches", int(batches), BATCH_BITS)):
        if n > 2 ** bits:
            raise ValueError(f"argument {names.get(key, key)!r}: at most {2 ** bits} {key} in a library build "
                             f"(they index its batch seeds), got {n}")
    if not jax.config.jax_enable_x64:
        raise ValueError("library builds need JAX's 64-bit types, which are off (JTLS_NO_X64 is set): the "
                         "batch seeds are 63-bit integers, and the library's disorder is drawn in float64; "
                         "unset JTLS_NO_X64")


def build(directory, *, ratios=DEFAULT_RATIOS, L: int = 10, batches: int = 1, batch_size: int = 1000,
          seed: int = 0, sweeps: int = PAPER_SWEEPS, progress: bool = True, log=sys.stderr,
          checkpoint_seconds: float = 60.0, deadline: float | None = None) -> dict:
    """Run every missing batch ``0 .. batches-1`` at every ratio, pass by pass.

    Finished batches (their output exists) are skipped; a batch with a
    checkpoint is resumed.  ``deadline`` (a ``time.time()`` value) stops
    before starting a batch after it.  Returns ``{"done": n, "missing": m}``
    counted in batches.

    Several processes (``jax.distributed`` initialised, e.g. by ``jtls library
    build --coordinator ...``): every process calls ``build`` with the same
    arguments and each batch is one :func:`jtls.anneal.run` over the devices of
    all of them.  Process 0 alone looks at ``directory`` (manifest, finished
    batches, checkpoints, the deadline) and writes into it; it tells the others
    batch by batch whether to run, skip or leave it, so the files are those of
    a one-process build with the same settings.
    """
    import jax
    ratios = check_arguments(ratios, L, batches, batch_size, sweeps, seed=seed)
    multi, lead = jax.process_count() > 1, jax.process_index() == 0
    if multi:
        from ..anneal import distributed as D
        D.set_work(str(directory), "directory")
        D.check_same_settings(manifest(ratios, L, batch_size, seed, sweeps) | {"batches": int(batches),
                              "directory": str(directory)}, "library build")

    def prepare():
        _make_directory(directory)
        _ensure_manifest(directory, manifest(ratios, L, batch_size, seed, sweeps))
        # a finished batch is skipped, never recomputed: it must be intact, and this build's, to count
        for b in range(int(batches)):
            for i, r in enumerate(ratios):
                out = os.path.join(directory, batch_name(r, b))
                if os.path.exists(out) and not os.path.exists(checkpoint_path(out)):
                    cfg = point_config(r, i, b, L=L, batch_size=batch_size, seed=seed, sweeps=sweeps)
                    try:
                        check_batch(out, load_output(out), cfg)
                    except ValueError as exc:
                        raise ValueError(f"{exc}; this finished batch would be counted as done: delete the "
                                         "file and run the build again to recompute it") from None

    if multi:
        D.lead_decides(prepare, "process 0 stopped the build before it began")
    else:
        prepare()
    done = missing = elsewhere = 0
    for b in range(int(batches)):
        for i, r in enumerate(ratios):
            out = os.path.join(directory, batch_name(r, b))
            cfg = point_config(r, i, b, L=L, batch_size=batch_size, seed=seed, sweeps=sweeps)
            action = _RUN
            if lead:
                if os.path.exists(out) and not os.path.exists(checkpoint_path(out)):
                    action = _SKIP
                elif deadline is not None and time.time() > deadline:
                    action = _LATER
                elif multi and _held_elsewhere(out):
                    action = _ELSEWHERE
            if multi:
                action = D.broadcast_plan(0, (action, 0))[1][0]
            if action == _SKIP:
                done += 1
                continue
            if action in (_LATER, _ELSEWHERE):
                missing += action == _LATER
                elsewhere += action == _ELSEWHERE
                continue
            if progress and lead:
                print(f"[library] J0/h0 = {r:g}, batch {b + 1}/{batches} -> {out}", file=log, flush=True)
            t0 = time.perf_counter()
            try:
                # resume or start is decided under the batch's lock (another build may have
                # checkpointed or finished it since the look above)
                run(cfg, out, resume="auto", progress=progress, log=log, checkpoint_seconds=checkpoint_seconds)
            except RunLocked as exc:          # another build is annealing this batch (every process
                elsewhere += 1                # of a multi-process build gets this refusal)
                if progress and lead:
                    print(f"[library] J0/h0 = {r:g}, batch {b + 1}: left to another build ({exc})",
                          file=log, flush=True)
                continue
            except OutputExists:              # another build finished it in the meantime
                if lead:
                    check_batch(out, load_output(out), cfg)
                    _drop_finished_checkpoint(out)
                done += 1
                continue
            if progress and lead:
                print(f"[library] J0/h0 = {r:g}, batch {b + 1}: {time.perf_counter() - t0:.0f} s",
                      file=log, flush=True)
            done += 1
    return {"done": done, "missing": missing, "elsewhere": elsewhere}


def _drop_finished_checkpoint(out) -> None:
    """Remove the checkpoint left next to the finished (atomically written, verified) batch file
    ``out`` by a run killed between writing it and removing the checkpoint, under the batch's lock
    (:func:`jtls.simulated.pack.pack` takes a batch with a checkpoint for an unfinished one)."""
    try:
        with OutputLock(out):
            if os.path.exists(out) and os.path.exists(checkpoint_path(out)):
                os.remove(checkpoint_path(out))
    except RunLocked:
        pass


def _held_elsewhere(out) -> bool:
    """Whether another run holds the lock of batch file ``out`` (a look, for process 0 of a
    multi-process build before it tells the others to run the batch)."""
    try:
        OutputLock(out).acquire().release()
    except RunLocked:
        return True
    return False
