"""Disorder-averaged simulated-annealing runs (Churkin et al. 2021, Sec. III A).

``run(config, out)`` anneals ``config.realizations`` independent disorder
realizations of Hamiltonian (2) along ``config.schedule``, records after each
temperature's sweeps the single-particle energies E_i = 2|Delta_i| of every TLS
in a histogram, checks the final (2 uK) state against single and pair flips,
relaxes it greedily, and writes an ``.npz`` file loadable with
:meth:`jtls.dos.TabulatedDOS.from_file`.

Reproducibility
---------------
Realization r uses the key ``fold_in(key(seed), r)`` (split into disorder,
initial-state and dynamics keys; temperature t and sweep s use
``fold_in(fold_in(k_dyn, t), s)``), so its chain does not depend on which
chunk, batch size or device it runs on.  Histograms are integer counts summed
exactly, hence bitwise identical for any chunk size, device count, or a run
killed and resumed from its checkpoint.  (The informational float
``mean_energy_per_tls`` may differ in its last bits, since batch sizes can
follow the wall time, see below.)

Files (never lose work)
-----------------------
Before any work the output path is checked and ``OUT.lock`` is taken, so a
second run with the same output stops at once.  An existing output is only
replaced with ``overwrite=True``; an existing checkpoint must be resumed
(``resume=True``) or discarded (``overwrite=True``).  Checkpoints carry a
SHA-256 over their arrays and are verified on load (checksum, the totals'
invariants, the same settings); every file is written atomically (temporary
file, fsync, rename).  Compiled calls are sized so that a checkpoint is written
at least about every ``checkpoint_seconds`` (default 60 s).  See
:mod:`jtls.anneal.files`.

Parallelism and memory
----------------------
A call's realizations are sharded over every visible device with
``jax.shard_map`` on a 1-D mesh (axis ``"r"``); each device runs its own
realizations with no communication and returns the (exact, integer) sums of
their results.  The call size is rounded up to a multiple of the device count
(extra realizations are computed and discarded).  On CPU,
:func:`use_cpu_cores` (what ``jtls anneal`` and the fits/ scripts call first)
splits the host into one device per core, so a CPU run uses every core by
default.  Several processes or hosts (``jtls anneal --coordinator ...
--num-processes N --process-id I``, or ``--distributed auto`` on SLURM) join
one run through :mod:`jtls.anneal.distributed`: the mesh then spans every
process's devices, process 0 alone writes the files, and the histograms are
bitwise those of one process.  The default batch (``chunk=0``) is the largest
whose arrays fit in a memory budget (:mod:`jtls.anneal.sizing`; on CPU the
disorder and the final checks are done one realization at a time, so their
n x n float64 temporaries are not multiplied by the batch).
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import sys
import time
import warnings
from typing import Callable

import numpy as np
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from . import files as F
from . import histogram as H
from .kernel import _mode_name, anneal_at, default_block, init_state
from .limits import check_part, check_realizations, check_seed, is_whole
from .lattice import ModelParams, energy, local_fields, make_disorder, validate_params
from .schedule import Schedule, paper_schedule
from .sizing import CallSizer, auto_chunk, check_one_fits, realization_bytes
from .stability import check, relax
from .totals import SUMMED as _SUMMED, add_results as _add_results  # noqa: F401 - (earlier names)
from .totals import empty_totals as _empty_totals, totals_problem as _totals_problem
from .._xla import single_function, single_function_available
from .files import CheckpointError, CheckpointMismatch, OutputExists, RunLocked, checkpoint_path  # noqa: F401

FORMAT_VERSION = 1
#: The largest memory budget taken (GB; a petabyte).
MAX_MEMORY_GB = 1e6
#: Default wall time (s) between checkpoints: compiled calls are sized to take at most about this long.
CHECKPOINT_SECONDS = 60.0
#: Settings of :meth:`RunConfig.metadata` that files of an earlier jtls lack, with the value they had
#: then (JAX's 64-bit types are off only where JTLS_NO_X64=1 was set); see files.load_checkpoint.
EARLIER_SETTINGS = {"x64": True}


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run (all of it goes into the output metadata)."""
    params: ModelParams = ModelParams()
    schedule: Schedule = dataclasses.field(default_factory=paper_schedule)
    realizations: int = 300
    seed: int = 0
    chunk: int = 0                  # realizations per compiled call (all devices); 0: from memory_gb
    memory_gb: float | None = None  # budget of a batch's arrays (sizing.auto_chunk); None: 0.5 GB on CPU
    # float32 (default) or float64 for J, the local fields and the Metropolis thresholds.  The
    # disorder draws, the recorded energies and the final checks use float64 (fields recomputed
    # exactly) -- float32 when JAX's 64-bit types are off (JTLS_NO_X64=1; metadata "x64");
    # float32 runs ~1.7x faster on CPU (benchmarks/anneal_results.md) and reproduces Table II.
    dtype: str = "float32"
    relax: bool = True
    blocks: tuple | None = None     # per temperature (mode, M), mode "skip"/"dense"/"seq"; None -> default_block
    single_kernel: bool = True      # on CPU, compile each annealing stage as one XLA function (see _batch_fn)
    # (k, m): anneal only part k of m of the realizations, [k N // m, (k+1) N // m) -- independent
    # jobs (a job array) whose outputs jtls.anneal.combine adds up to the whole run, bitwise
    part: tuple | None = None

    def span(self) -> tuple:
        """(first, end): the realization indices this run anneals, ``range(first, end)``."""
        if self.part is None:
            return 0, int(self.realizations)
        k, m = self.part
        return int(k) * int(self.realizations) // int(m), (int(k) + 1) * int(self.realizations) // int(m)

    @property
    def count(self) -> int:
        """How many realizations this run anneals (all of them, or its part's)."""
        first, end = self.span()
        return end - first

    def block_list(self):
        if self.blocks is not None:
            if len(self.blocks) != len(self.schedule.T):
                raise ValueError("argument 'blocks' needs one (mode, M) entry per schedule temperature")
            return tuple((_mode_name(d), int(m)) for d, m in self.blocks)
        return tuple(default_block(T, self.params.h0, self.params.J0, self.params.n)
                     for T in self.schedule.T)

    def validate(self):
        validate_params(self.params)
        check_realizations(self.realizations)
        check_seed(self.seed)
        check_part(self.part, self.realizations)
        if not is_whole(self.chunk) or self.chunk < 0:
            raise ValueError(f"argument 'chunk' must be an integer >= 1 (or 0: from the memory budget), "
                             f"got {self.chunk!r}")
        if self.memory_gb is not None and not (np.isfinite(self.memory_gb) and 0 < self.memory_gb <= MAX_MEMORY_GB):
            raise ValueError(f"argument 'memory_gb' (--memory) must be > 0 GB and at most {MAX_MEMORY_GB:g} GB, "
                             f"got {self.memory_gb!r}")
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"argument 'dtype' must be 'float64' or 'float32', got {self.dtype!r}")
        if self.dtype == "float64" and not jax.config.jax_enable_x64:
            raise ValueError("argument 'dtype' float64 needs JAX's 64-bit types, which are off "
                             "(JTLS_NO_X64 is set); use float32 or unset JTLS_NO_X64")
        self.block_list()

    def metadata(self) -> dict:
        """JSON-able description (what a resumed run must match)."""
        return {
            "format_version": FORMAT_VERSION,
            "model": "Churkin et al. 2021 Hamiltonian (2): random-field Ising with J_ij = c_ij J0/(R^3/R0^3 + C)",
            "params": self.params._asdict() | {"n_tls": self.params.n},
            "schedule_T": list(self.schedule.T),
            "schedule_sweeps": list(self.schedule.sweeps),
            "realizations": int(self.realizations),
            **({} if self.part is None else {"part": [int(self.part[0]), int(self.part[1])]}),
            "seed": int(self.seed),
            "dtype": self.dtype,
            # JAX's 64-bit types (off with JTLS_NO_X64=1): without them the disorder is drawn in
            # float32 -- other realizations -- so a checkpoint is not resumed across it
            "x64": bool(jax.config.jax_enable_x64),
            "relax": bool(self.relax),
            "blocks": [list(b) for b in self.block_list()],
            "chain": ("Metropolis; per temperature (blocks): 'skip'/'dense' = n attempts per sweep at "
                      "uniformly random sites, 'seq' = one attempt per site in label order; "
                      "see jtls.anneal.kernel"),
        }


def use_cpu_cores(n: int | None = None) -> bool:
    """Make JAX expose ``n`` CPU devices (default: one per core) for sharding.

    Must run before the first JAX computation of the process; returns False and
    changes nothing when that is too late, when ``n`` is 1, or when XLA_FLAGS
    already sets ``--xla_force_host_platform_device_count``.  GPU/TPU device
    lists are unaffected.
    """
    if n is not None and (int(n) != n or n < 0):
        raise ValueError(f"argument 'cpu_devices' must be an integer >= 0 (0 = one per core), got {n!r}")
    n = (os.cpu_count() or 1) if not n else int(n)
    if n == 1 or "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return False
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:          # backends already initialised
        return False
    return True


def _tol(dtype):
    """Stability tolerance (K): the checks run in float64 on exactly recomputed fields."""
    return 1e-9


def _groups(cfg: RunConfig, scalar: bool = False):
    """Consecutive temperatures with the same (mode, M, sweeps): one lax.scan each.

    With ``scalar`` (kernel.sweep_scalar) only the visiting order matters, not
    the block size: every random-site mode is one group ("skip", 0)."""
    blocks = cfg.block_list()
    if scalar:
        blocks = [("seq", 0) if mode == "seq" else ("skip", 0) for mode, _ in blocks]
    groups = []
    for t, (T, sw, blk) in enumerate(zip(cfg.schedule.T, cfg.schedule.sweeps, blocks)):
        if groups and groups[-1][0] == (blk, sw):
            groups[-1][1].append(t)
        else:
            groups.append(((blk, sw), [t]))
    return groups


def _single_kernel(cfg: RunConfig) -> bool:
    return cfg.single_kernel and single_function_available()


def _batch_fn(cfg: RunConfig):
    """Function of a batch of realization indices (B,) -> dict of per-realization results (B, ...).

    The annealing of each temperature group is one compiled call over the
    batch.  Ordinary compilation (GPU/TPU, or ``RunConfig(single_kernel=False)``)
    vmaps the block kernels of :mod:`jtls.anneal.kernel` over the batch: every
    lane does O(n) vectorised work per step.  On CPU the call is instead
    compiled as ONE XLA function (:mod:`jtls._xla`) that runs the realizations one after another, each as a plain sequential
    chain (:func:`jtls.anneal.kernel.sweep_scalar`: a rejected attempt costs a
    few scalar operations, an accepted one an n-wide row update).  XLA:CPU
    otherwise runs a program as a graph of small kernels handed between
    threads, and per-attempt control flow would drown in those hand-offs.
    That emitter has no scatter, hence the scatter-free kernels; histograms,
    checks and relaxation stay outside it.  Both paths run the same chain
    (same decisions; fields differ only by summation-order rounding).
    """
    p = cfg.params
    dtype = jnp.float64 if cfg.dtype == "float64" else jnp.float32
    base = jax.random.key(cfg.seed)
    fine = H.fine_edges()
    sched = cfg.schedule
    single = _single_kernel(cfg)
    groups = _groups(cfg, scalar=single)
    tol = _tol(dtype)

    def setup(r):
        k_dis, k_init, k_dyn = realization_keys(base, r)
        dis = make_disorder(k_dis, p, dtype)
        return dis, init_state(k_init, dis.h, dis.J), k_dyn

    def group_fn(mode, M, sw, ts):
        Ts = jnp.asarray([sched.T[t] for t in ts], jnp.float64)
        tix = jnp.asarray(ts, jnp.int32)

        def one(st, h, J, k_dyn):
            def body(st, x):
                T, t = x
                st, nacc = anneal_at(jax.random.fold_in(k_dyn, t), st, h, J, T.astype(dtype), sw, M, mode,
                                     scalar=single)
                return st, (st.tau, nacc)
            return jax.lax.scan(body, st, (Ts, tix))

        if not single:
            return jax.jit(jax.vmap(one))
        # one realization after another, each a plain sequential chain (kernel.sweep_scalar)
        f = jax.jit(lambda *a: jax.lax.map(lambda x: one(*x), a))
        return lambda *a: single_function(f(*a))

    runners = [group_fn(mode, M, sw, ts) for ((mode, M), sw), ts in groups]

    def finish(dis, tau, taus_T):
        # recorded energies, checks and relaxation use fields recomputed exactly in float64 (x64 on)
        h64, J64 = dis.h.astype(jnp.float64), dis.J.astype(jnp.float64)
        counts = jax.vmap(lambda t: H.bin_counts(
            2.0 * jnp.abs(local_fields(t.astype(jnp.float64), h64, J64)), fine))(taus_T)
        tau = tau.astype(jnp.float64)
        field = local_fields(tau, h64, J64)
        rep = check(tau, field, J64, tol)
        out = {"counts": counts, "unstable_single": rep.single, "unstable_pair": rep.pair}
        if cfg.relax:
            tau, field, k, capped = relax(tau, field, J64, tol)
            field = local_fields(tau, h64, J64)
            rep2 = check(tau, field, J64, tol)
            out |= {"relax_flips": k, "relax_capped": capped.astype(jnp.int32),
                    "unstable_single_after": rep2.single, "unstable_pair_after": rep2.pair}
        out["counts_relaxed"] = H.bin_counts(2.0 * jnp.abs(field), fine)
        out["energy"] = energy(tau, h64, J64)
        return out

    # On CPU the disorder and the final checks run one realization at a time (lax.map): their
    # float64 n x n temporaries then exist once, not once per realization of the batch.
    each = (lambda f, *a: jax.lax.map(lambda x: f(*x), a)) if single else (lambda f, *a: jax.vmap(f)(*a))

    def batch(r):
        dis, st, k_dyn = each(setup, r)
        taus, accs = [], []
        for run_group in runners:
            st, (t, a) = run_group(st, dis.h, dis.J, k_dyn)
            taus.append(t)                       # (B, temperatures of the group, n)
            accs.append(a)
        out = each(finish, dis, st.tau, jnp.concatenate(taus, axis=1))
        out["accepted"] = jnp.concatenate(accs, axis=1)
        return out

    return batch


def realization_keys(base, r):
    """Disorder, initial-state and dynamics keys of realization ``r`` of a run with key ``base``
    (``jax.random.key(seed)``); temperature t, sweep s use ``fold_in(fold_in(k_dyn, t), s)``."""
    k_dis, k_init, k_dyn = jax.random.split(jax.random.fold_in(base, r), 3)
    return k_dis, k_init, k_dyn


def make_chunk_fn(cfg: RunConfig, devices=None) -> Callable:
    """(call, ndev): ``call(r)`` runs realizations ``r`` (numpy int (size,), a multiple of ndev;
    -1 = padding, computed and discarded) and returns numpy per-device sums {name: (ndev, ...)}.

    Sharded over ``devices`` (default: all visible, every process's in a
    multi-process run, where every process makes the same calls) with
    shard_map.  Cached on everything but the number of realizations and the
    chunk size.
    """
    devices = tuple(jax.devices() if devices is None else devices)
    key = dataclasses.replace(cfg, realizations=1, chunk=1, memory_gb=None, part=None)
    ndev = len(devices)

    def run_on(c, r):
        fn, mesh = _chunk_fn(c, devices)
        if jax.process_count() == 1:
            return jax.device_get(fn(jnp.asarray(r)))
        from . import distributed as D
        return fn(D.global_indices(np.asarray(r, np.int32), NamedSharding(mesh, P("r"))))

    if not _single_kernel(key):
        return functools.partial(run_on, key), ndev
    ordinary = dataclasses.replace(key, single_kernel=False)

    def call(r):
        """The single-function program, or -- if XLA cannot build it (an op its
        emitter lacks, a JAX version without the attribute) -- the ordinary one,
        which runs the same chain; the choice is remembered per configuration."""
        if key not in SINGLE_KERNEL_FAILED:
            try:
                return run_on(key, r)
            except jax.errors.JaxRuntimeError as exc:
                SINGLE_KERNEL_FAILED.add(key)
                warnings.warn(f"jtls.anneal: single-function compilation failed ({str(exc)[:200]}); "
                              "using the ordinary XLA program (same chain, slower on CPU)", RuntimeWarning)
        return run_on(ordinary, r)

    return call, ndev


#: Configurations whose single-function compilation failed (see make_chunk_fn).
SINGLE_KERNEL_FAILED: set = set()


@functools.lru_cache(maxsize=16)
def _chunk_fn(cfg, devices):
    mesh = Mesh(np.asarray(devices), ("r",))
    batch = _batch_fn(cfg)
    wide = jnp.int64 if jax.config.jax_enable_x64 else jnp.int32

    def device_sums(r):
        """This device's realizations r (-1: padding) -> sums over the valid ones, shape (1, ...)."""
        out = batch(jnp.maximum(r, 0))
        valid = r >= 0

        def total(v):
            m = valid.reshape(valid.shape + (1,) * (v.ndim - 1))
            dt = v.dtype if jnp.issubdtype(v.dtype, jnp.floating) else wide
            return jnp.sum(jnp.where(m, v, 0).astype(dt), axis=0)[None]
        return {k: total(v) for k, v in out.items()}

    f = jax.shard_map(device_sums, mesh=mesh, in_specs=P("r"), out_specs=P("r"), check_vma=False)
    return jax.jit(f), mesh


_CallSizer = CallSizer          # (the name the tests and earlier code use)


def run(cfg: RunConfig, out, resume: bool = False, progress: bool = True,
        stop_after_chunks: int | None = None, devices=None, log=sys.stderr, *,
        overwrite: bool = False, checkpoint_seconds: float | None = CHECKPOINT_SECONDS):
    """Run (or resume) ``cfg`` and write the result to ``out`` (npz).

    Before any work the output path is checked (not a directory, in an
    existing writable directory) and the lock ``out + '.lock'`` is taken
    (:class:`jtls.anneal.files.OutputLock`; another run holding it raises
    :class:`RunLocked`).  An existing ``out`` is replaced only with
    ``overwrite=True``; an existing checkpoint ``out + '.ckpt.npz'`` is
    continued with ``resume=True`` (verified: checksum, totals' invariants,
    same settings -- else :class:`CheckpointError` / :class:`CheckpointMismatch`
    naming the file and the difference) or discarded with ``overwrite=True``,
    and otherwise refused (:class:`OutputExists`).  ``resume="auto"`` continues a checkpoint when
    there is one and starts from 0 otherwise, decided while holding the lock.

    The checkpoint is written atomically after every compiled call, and calls
    hold at most ``chunk`` realizations and about ``checkpoint_seconds`` of
    wall time (:class:`jtls.anneal.sizing.CallSizer`; None: always ``chunk``), so a killed run
    loses at most about that much work; it is removed once ``out`` is written.
    ``stop_after_chunks`` stops after that many calls (leaving the
    checkpoint; used by tests to emulate a killed run).  Returns the output
    dict, or None when stopped early.

    In a multi-process run (``jax.distributed`` initialised, e.g. by
    :func:`jtls.anneal.distributed.initialize`) every process calls ``run``
    with the same arguments; process 0 alone checks ``out``, holds the lock,
    writes checkpoint and output and returns the dict, the others return None.
    """
    cfg.validate()
    batch_size(cfg, 1, devices)        # a lattice the devices cannot hold is refused before any file
    if checkpoint_seconds is not None and not (np.isfinite(checkpoint_seconds) and checkpoint_seconds > 0):
        raise ValueError(f"argument 'checkpoint_seconds' (--checkpoint-every) must be > 0 (or None), "
                         f"got {checkpoint_seconds!r}")
    loop = functools.partial(_loop, cfg, progress=progress, stop_after_chunks=stop_after_chunks,
                             devices=devices, log=log, checkpoint_seconds=checkpoint_seconds)
    if jax.process_count() > 1:
        return _run_multi(cfg, out, resume, overwrite, progress, log, loop)
    out = F.check_output_path(out)
    with F.OutputLock(out):
        F.remove_stale_temporaries(out, checkpoint_path(out))
        done, tot = _start(cfg, out, resume, overwrite, progress, log)
        return loop(out, done, tot, multi=False)


def _run_multi(cfg, out, resume, overwrite, progress, log, loop):
    """Process 0 checks the files and takes the lock, then tells the others where to start (or why
    it stopped); see :mod:`jtls.anneal.distributed`."""
    from . import distributed as D
    if D.work() is None:                  # (a library build has named its directory)
        D.set_work(checkpoint_path(out))
    # --out too (process 0 alone writes it), and the batch limits (process 0 sizes every call)
    D.check_same_settings(cfg.metadata() | {"out": str(out), "chunk": cfg.chunk, "memory_gb": cfg.memory_gb}, "run")
    lead = {}

    def prepare():
        lead["out"] = F.check_output_path(out)
        lead["lock"] = F.OutputLock(lead["out"]).acquire()
        try:
            F.remove_stale_temporaries(lead["out"], checkpoint_path(lead["out"]))
            lead["done"], lead["tot"] = _start(cfg, lead["out"], resume, overwrite, progress, log)
        except Exception:
            lead["lock"].release()
            raise
        return lead["done"], 0

    done, _ = D.lead_decides(prepare, "process 0 stopped the run before it began")
    if not lead:
        return loop(None, done, None, multi=True)
    try:
        return loop(lead["out"], done, lead["tot"], multi=True)
    finally:
        lead["lock"].release()


def _start(cfg, out, resume, overwrite, progress, log):
    """(realizations done, totals) to start from (see :func:`run` and :func:`jtls.anneal.files.start`)."""
    return F.start(out, cfg.metadata(), _empty_totals(cfg), functools.partial(_totals_problem, cfg),
                   cfg.count, resume, overwrite, progress, log, assumed=EARLIER_SETTINGS)


def batch_size(cfg: RunConfig, ndev: int, devices=None) -> int:
    """Realizations per call at most: ``cfg.chunk`` rounded up to a multiple of ``ndev``, or (chunk 0)
    the largest batch whose arrays fit in ``cfg.memory_gb`` (:func:`jtls.anneal.sizing.auto_chunk`);
    ValueError when one realization per device exceeds the devices' memory (:func:`check_one_fits`)."""
    devices = list(jax.devices() if devices is None else devices)
    local = [d for d in devices if d.process_index == jax.process_index()] or devices
    cpu = devices[0].platform == "cpu"
    per = realization_bytes(cfg.params.n, len(cfg.schedule.T), 8 if cfg.dtype == "float64" else 4,
                            vmapped=not (cpu and _single_kernel(cfg)))
    check_one_fits(per, cfg.params.n, local, f"L = {cfg.params.L} ({cfg.params.n} TLSs, --L)")
    if cfg.chunk:
        return -(-int(cfg.chunk) // ndev) * ndev
    budget = None if cfg.memory_gb is None else int(cfg.memory_gb * 2 ** 30)
    return auto_chunk(per, ndev, cpu, budget, local)


def _loop(cfg, out, done, tot, *, multi, progress, stop_after_chunks, devices, log, checkpoint_seconds):
    """Compiled calls until every realization is done; process 0 (``out`` not None) adds the results,
    writes the checkpoint after every call and the output at the end."""
    from . import distributed as D
    lead = out is not None
    ck, meta = (checkpoint_path(out), cfg.metadata()) if lead else (None, None)
    fn, ndev = make_chunk_fn(cfg, devices)
    first, count = cfg.span()[0], cfg.count
    # no call larger than the realizations left (rounded up to the devices): padding is computed
    chunk = min(batch_size(cfg, ndev, devices), -(-max(count - done, 1) // ndev) * ndev)
    sizer = CallSizer(cfg, chunk, ndev, checkpoint_seconds)
    t0 = time.perf_counter()
    done0, chunks_run = done, 0
    while done < count:
        size = sizer.next()
        if multi:                         # process 0's size and count for everyone
            code, (size, done), msg = D.broadcast_plan(0, (size, done))
            if code == 2:
                raise ValueError(f"process 0 stopped the run: {msg}")
        r = np.arange(first + done, first + done + size, dtype=np.int64)
        r[r >= first + count] = -1
        r = r.astype(np.int32)
        tc = time.perf_counter()
        res = fn(r)
        if multi:
            res = D.gather(jax.block_until_ready(res), wait=time.perf_counter() - tc)
        sizer.update(size, time.perf_counter() - tc)
        done = int(min(done + size, count))
        chunks_run += 1
        if lead:
            try:
                tot = _add_results(tot, res)
                F.save_checkpoint(ck, meta, done, tot)
            except Exception as exc:
                if multi and done < count:
                    D.broadcast_plan(2, message=str(exc))
                raise
        if progress and lead:
            el = time.perf_counter() - t0
            rate = (done - done0) / el
            left = (count - done) / rate if rate > 0 else float("nan")
            print(f"[anneal] {done}/{count} realizations  {rate:.3g}/s  "
                  f"elapsed {el:.0f} s  left ~{left:.0f} s", file=log, flush=True)
        if stop_after_chunks is not None and chunks_run >= stop_after_chunks and done < count:
            return None
    if not lead:
        return None
    result = assemble(cfg, tot, time.perf_counter() - t0, ndev, batch=chunk)
    F.save_output(out, result)
    if os.path.exists(ck):
        os.remove(ck)
    return result


def assemble(cfg: RunConfig, tot: dict, seconds: float = float("nan"), ndev: int = 1,
             batch: int | None = None) -> dict:
    """Output arrays: DOS table (T ascending) + raw counts + metadata."""
    sched = cfg.schedule
    n_tls = cfg.count * cfg.params.n
    T_visit = np.asarray(sched.T)
    order = np.argsort(T_visit)
    fine = H.fine_edges()
    coarse = H.coarse_edges()
    counts = tot["counts"][order]
    ccoarse = H.coarse_counts(counts)
    dos = H.normalize(ccoarse, coarse, n_tls)
    attempts = np.asarray(sched.sweeps, np.int64)[order] * n_tls
    meta = cfg.metadata() | {
        "versions": {"jtls": _version(), "jax": jax.__version__, "numpy": np.__version__},
        "devices": ndev, "processes": jax.process_count(), "batch": batch,
        "backend": jax.default_backend(), "wall_seconds": seconds,
        "normalization": "dos = counts / (2 N_TLS width): per TLS per K over signed energies",
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out = {
        "T": T_visit[order], "E_centers": 0.5 * (coarse[1:] + coarse[:-1]), "E_edges": coarse,
        "dos": dos, "counts_coarse": ccoarse,
        "counts": counts, "E_edges_fine": fine,
        "dos_fine": H.normalize(counts, fine, n_tls),
        "counts_relaxed": tot["counts_relaxed"],
        "dos_relaxed": H.normalize(H.coarse_counts(tot["counts_relaxed"]), coarse, n_tls),
        "dos_relaxed_fine": H.normalize(tot["counts_relaxed"], fine, n_tls),
        "acceptance": tot["accepted"][order] / attempts,
        "T_schedule": T_visit, "sweeps": np.asarray(sched.sweeps),
        "n_tls_total": np.int64(n_tls), "realizations": np.int64(cfg.count),
        "unstable_single": tot["unstable_single"], "unstable_pair": tot["unstable_pair"],
        "relax_flips": tot["relax_flips"], "relax_capped": tot["relax_capped"],
        "unstable_single_after": tot["unstable_single_after"],
        "unstable_pair_after": tot["unstable_pair_after"],
        "mean_energy_per_tls": tot["energy_sum"] / n_tls,
        "meta": json.dumps(meta),
    }
    return out


def _version():
    try:
        from .. import __version__
        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"
