"""How many realizations an annealing call holds: from memory, and from the checkpoint interval.

Memory (:func:`realization_bytes`, :func:`auto_chunk`)
------------------------------------------------------
A compiled call keeps, for every realization of its batch, the couplings J
(n x n in the chain's dtype: n^2 x 4 bytes in float32, 3.0 MB at L = 12,
16.8 MB at L = 16), the fields, h and tau (n each), the state after every
temperature (nT x n) and its histograms (nT x 1531 int32 fine bins, 263 kB
for the paper's 43 temperatures).  On CPU the disorder is drawn and the final
checks run one realization at a time (``lax.map``), so their float64 n x n
temporaries exist once per device, not once per realization; the ordinary
(vmapped, GPU/TPU) program holds them for the whole batch, which
:data:`VMAPPED_N2_BYTES` accounts for.  ``auto_chunk`` takes the largest batch
whose arrays fit in the budget (default :data:`CPU_BUDGET` on CPU, half the
device memory on an accelerator), at most :data:`CPU_MAX_CHUNK` on CPU (each
CPU device runs its realizations one after another: a larger batch is not
faster) and at least one realization per device.  The JAX runtime and the
compiled program (~0.3 GB on CPU) come on top.

Time (:class:`CallSizer`)
-------------------------
Calls are made smaller than the chunk when they would take longer than the
checkpoint interval (see the class).
"""
from __future__ import annotations

import os

import jax

from . import histogram as H

#: Default memory budget (bytes) of a batch's arrays on CPU (all devices of the process together).
CPU_BUDGET = 2 ** 29            # 0.5 GiB
#: At most this many realizations per call on CPU (the old fixed default).
CPU_MAX_CHUNK = 64
#: At most this many realizations per accelerator device per call.
ACCEL_MAX_PER_DEVICE = 1024
#: Bytes per n^2 of the vmapped program's temporaries per realization (disorder: integer and float64
#: distance arrays; checks: float64 J and pair costs).  XLA's memory analysis of the ordinary program
#: gives 41-43 bytes per n^2 per realization at L = 6, 8 (benchmarks/anneal_results.md); rounded up.
VMAPPED_N2_BYTES = 48


def realization_bytes(n: int, n_temperatures: int, itemsize: int = 4, vmapped: bool = False) -> int:
    """Bytes a batch holds per realization: J (n^2 x itemsize), h, tau, field (n each), the state
    after every temperature (nT x n x itemsize), the histograms (nT x 1531 + 1531 int32) and,
    for the vmapped program, its n x n temporaries (:data:`VMAPPED_N2_BYTES` per n^2)."""
    nF = H.fine_edges().size
    b = n * n * itemsize + 4 * n * itemsize + n_temperatures * n * itemsize + (n_temperatures + 1) * nF * 4
    if vmapped:
        b += VMAPPED_N2_BYTES * n * n
    return int(b)


def device_budget(devices) -> int | None:
    """Half the memory of an accelerator (from ``memory_stats``) times the number of devices, or None."""
    try:
        stats = devices[0].memory_stats() or {}
    except Exception:  # noqa: BLE001 - not every backend reports memory
        return None
    limit = stats.get("bytes_limit")
    return int(limit) // 2 * len(devices) if limit else None


def auto_chunk(per_realization: int, ndev: int, cpu: bool, budget: int | None = None,
               local_devices=None) -> int:
    """Realizations per call (a multiple of ``ndev``): the largest batch within the memory budget.

    ``budget`` (bytes, the process's devices together; None: :data:`CPU_BUDGET` on CPU, half the
    accelerators' memory otherwise), at most :data:`CPU_MAX_CHUNK` on CPU or
    :data:`ACCEL_MAX_PER_DEVICE` per device otherwise, at least one realization per device.
    ``local_devices`` (default: ``jax.local_devices()``) share the budget; ``ndev`` counts all devices
    of all processes.
    """
    local = list(jax.local_devices() if local_devices is None else local_devices)
    if budget is None:
        budget = CPU_BUDGET if cpu else (device_budget(local) or CPU_BUDGET)
    per_dev = budget // max(len(local), 1) // max(per_realization, 1)
    cap = max(CPU_MAX_CHUNK // ndev, 1) if cpu else ACCEL_MAX_PER_DEVICE
    return int(max(1, min(per_dev, cap))) * ndev


def machine_memory(local_devices) -> int | None:
    """Bytes the process's devices can hold at most: the machine's physical memory on CPU, the
    devices' memory together on an accelerator (None where neither is known)."""
    local = list(local_devices)
    if local and local[0].platform != "cpu":
        half = device_budget(local)
        return None if half is None else 2 * half
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_one_fits(per_realization: int, n: int, local_devices, what: str) -> None:
    """ValueError naming ``what`` (the lattice size) when one realization per local device -- the
    least a compiled call holds -- cannot fit in :func:`machine_memory`: its arrays
    (``per_realization`` bytes) plus, on each device, at least one float64 n x n temporary of
    the disorder and the final checks.  Such a run could only be killed by the system (or swap
    for hours) after its files were made.  A lower bound of the need: a run this lets through
    may still be too large (the ~0.3 GB of the runtime and XLA's other temporaries come on top)."""
    local = list(local_devices)
    limit = machine_memory(local)
    need = (per_realization + 8 * n * n) * max(len(local), 1)
    if limit is not None and need > limit:
        gib = 2 ** 30
        raise ValueError(f"{what}: each of this process's {len(local)} device(s) holds at least one realization "
                         f"with its n x n couplings and a float64 n x n temporary, "
                         f"{need / len(local) / gib:.3g} GiB each, {need / gib:.3g} GiB in all: more than the "
                         f"{limit / gib:.3g} GiB of memory they have; choose a smaller --L (or --x), or fewer "
                         f"--cpu-devices")


class CallSizer:
    """Realizations per compiled call, so that a checkpoint is written about every ``seconds``.

    Sizes are ``ndev * 2^k`` or the chunk (each size is compiled once).  The
    first call is the whole chunk when a pessimistic cost model (attempts x
    (0.1 us + n x 1 ns)) says it takes less than ``seconds``, else one
    realization per device; a call at a size already compiled is timed, and the
    next size is the largest whose predicted time is below ``seconds``.
    ``seconds=None`` always uses the chunk.  In a run of several processes,
    process 0 sizes the calls and sends the size to the others.
    """

    def __init__(self, cfg, chunk: int, ndev: int, seconds, adaptive: bool = True):
        self.chunk, self.ndev, self.seconds = chunk, ndev, seconds
        self.adaptive = adaptive and seconds is not None
        sizes, k = [], 0
        while ndev * 2 ** k < chunk:
            sizes.append(ndev * 2 ** k)
            k += 1
        self.sizes = sizes + [chunk]
        n = cfg.params.n
        per_real = n * cfg.schedule.total_sweeps * (1e-7 + n * 1e-9)
        self.size = chunk if not self.adaptive or per_real * chunk / ndev <= seconds else ndev
        self.warm = None              # best seconds per realization per device, compiled calls only
        self.last = None              # (seconds per realization per device, seconds of the call)
        self.seen = set()

    def next(self) -> int:
        if not self.adaptive or self.last is None:
            return self.size
        if self.warm is not None:
            e = self.warm
        elif self.last[1] <= self.seconds:
            return self.size          # time it again without the compilation
        else:
            e = self.last[0]
        fits = [s for s in self.sizes if e * s / self.ndev <= self.seconds]
        self.size = fits[-1] if fits else self.sizes[0]
        return self.size

    def update(self, size: int, seconds: float):
        e = seconds / (size / self.ndev)
        if size in self.seen:
            self.warm = e if self.warm is None else min(self.warm, e)
        self.seen.add(size)
        self.last = (e, seconds)
