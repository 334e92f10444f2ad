"""One annealing run over several processes (hosts): ``jax.distributed`` with timeouts.

Every process runs ``jtls anneal`` (or :func:`jtls.anneal.run`) with the same
settings after :func:`initialize`; ``jax.devices()`` then lists the devices of
all processes, and each compiled call is one SPMD program on a mesh over all
of them (realization ``r`` of a call runs on one device, with no
communication).  Between calls the processes exchange only small arrays, with
JAX's collectives (gloo on CPU, NCCL on GPUs):

* process 0 sends the plan of the next call (its size and the realizations
  done so far, or the message of an error that stopped it) --
  :func:`broadcast_plan`;
* every process sends its devices' integer totals of the call and process 0
  adds them (:func:`gather`) -- exact integer sums, so the histograms are
  bitwise those of one process with the same seed.

Process 0 alone checks the output path, takes ``OUT.lock``, reads and writes
the checkpoint and writes ``OUT`` (the other processes need not see that
file system).

Failures end with a message, never a hang: every wait for another process
runs under a watchdog (:class:`Watchdog`) that prints what was awaited and
exits with status :data:`EXIT_TIMEOUT` after ``timeout`` seconds (plus the
process's own time for the batch); a collective that fails because a peer
died (connection reset) ends the process at once with a message
(:func:`stop`); a dead process is also found by JAX's coordination service
(heartbeats, at most ``min(max(timeout, 10), 100)`` s), which stops the
others.  The finished calls are in the checkpoint: rerun all processes with
``--resume``.
"""
from __future__ import annotations

import os
import socket
import sys
import threading

import numpy as np

#: Seconds a process waits for the others (to connect, or to reach the same step) by default.
DEFAULT_TIMEOUT = 300.0
#: Exit status of a process stopped by the watchdog.
EXIT_TIMEOUT = 3
_MSG_BYTES = 2048

#: The longest --timeout taken (seconds; about 116 days): JAX's timeouts are 32-bit integers.
MAX_TIMEOUT = 1e7

_settings = {"timeout": DEFAULT_TIMEOUT, "work": None}


def check_timeout(timeout) -> float:
    """``timeout`` as seconds; ValueError naming --timeout unless it is a number in (0, :data:`MAX_TIMEOUT`]."""
    ok = isinstance(timeout, (int, float, np.integer, np.floating)) and not isinstance(timeout, bool)
    if not ok or not (np.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ValueError(f"--timeout must be a positive number of seconds, at most {MAX_TIMEOUT:g}, "
                         f"got {timeout!r}")
    return float(timeout)


def set_work(where: str | None, kind: str = "checkpoint") -> None:
    """Say where the finished work of the run is -- a checkpoint file, or (``kind="directory"``) a
    library build directory -- for the message of :func:`stop`; None: not known."""
    _settings["work"] = where
    _settings["work_kind"] = kind


def work_hint(work: str | None, kind: str = "checkpoint") -> str:
    """Where the finished batches of a stopped run are and how to continue it (the end of a stop
    message).  Process 0 alone writes them, maybe on a file system this process does not see."""
    if not work:
        return ("the finished batches are in process 0's checkpoint (OUT.ckpt.npz; a library build: its "
                "directory): rerun every process with the same options (jtls anneal: with --resume)")
    if kind == "directory":
        return (f"the finished batches are in the build directory {work} (written by process 0): rerun "
                "every process with the same options to continue it")
    if os.path.exists(work):
        return (f"the finished batches are in {work}: rerun every process with the same options "
                "(jtls anneal: with --resume)")
    return (f"{work}, where process 0 keeps the finished batches, is not on this file system or was not "
            "written yet (no batch had finished): rerun every process with the same options (jtls anneal: "
            f"with --resume if {work} exists)")


def parse_coordinator(text: str) -> tuple[str, int]:
    """``HOST:PORT`` -> (host, port); ValueError naming --coordinator otherwise."""
    host, sep, port = str(text).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--coordinator must be HOST:PORT with a port in 1..65535 (e.g. node01:12345), "
                         f"got {text!r}")
    return host, int(port)


def check_flags(coordinator, num_processes, process_id, auto: bool, timeout) -> float:
    """The checks of :func:`initialize`'s arguments (a command makes them before it starts the
    process that joins the run): ValueError naming the flag; returns the timeout in seconds."""
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    if not auto and not all(given):
        raise ValueError("a multi-process run needs all of --coordinator HOST:PORT, --num-processes N and "
                         "--process-id I (or --distributed auto on a cluster JAX recognises, e.g. SLURM)")
    timeout = check_timeout(timeout)
    if coordinator is not None:
        host, port = parse_coordinator(coordinator)
        try:                                   # a misspelt host: say so now, not after --timeout
            socket.getaddrinfo(host.strip("[]"), port)
        except (socket.gaierror, UnicodeError) as exc:
            raise ValueError(f"--coordinator {coordinator}: cannot resolve the host {host!r} "
                             f"({exc.strerror if isinstance(exc, OSError) else exc})") from None
    if num_processes is not None and (int(num_processes) != num_processes or num_processes < 1):
        raise ValueError(f"--num-processes must be an integer >= 1, got {num_processes!r}")
    if process_id is not None and (int(process_id) != process_id or process_id < 0 or
                                   (num_processes is not None and process_id >= num_processes)):
        raise ValueError(f"--process-id must be an integer in 0 ... num_processes - 1 = "
                         f"{(num_processes or 1) - 1}, got {process_id!r}")
    return timeout


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, auto: bool = False, timeout: float = DEFAULT_TIMEOUT,
               log=sys.stderr) -> None:
    """Join a multi-process run (call before any JAX computation).

    Explicit: ``coordinator`` ("HOST:PORT" of process 0, which listens on
    it), ``num_processes`` and this process's ``process_id`` (0 ...
    num_processes - 1).  ``auto=True``: let ``jax.distributed.initialize()``
    read them from the cluster (SLURM, Open MPI, ...; the explicit ones, if
    given, take precedence).  Waits at most ``timeout`` seconds for all
    processes to connect; then prints which step failed and exits with
    status :data:`EXIT_TIMEOUT`.  Turns JAX's preemption service off (it would catch SIGTERM and
    go on), so SIGTERM stops the process.
    """
    given = [v is not None for v in (coordinator, num_processes, process_id)]
    timeout = check_flags(coordinator, num_processes, process_id, auto, timeout)
    import jax
    try:
        if jax.config.jax_cpu_collectives_implementation in (None, "", "none"):
            jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except AttributeError:  # pragma: no cover - older JAX: its own default
        pass
    try:
        # JAX's preemption service would catch SIGTERM (and go on): a run asked to stop -- by a
        # user, or the scheduler at its time limit -- stops; its checkpoint is complete
        jax.config.update("jax_enable_preemption_service", False)
    except AttributeError:  # pragma: no cover - a JAX without it
        pass
    _settings["timeout"] = float(timeout)
    where = coordinator or "the coordinator named by the cluster environment"
    who = f"process {process_id} of {num_processes}" if all(given) else "this process"
    with Watchdog(timeout, f"{who}: not all processes connected to {where} within {timeout:g} s; start "
                           f"every process with the same --coordinator and --num-processes and its own "
                           f"--process-id (process 0 first; it listens on the port); a process that "
                           f"stopped on a bad option says so in its own output; two processes started "
                           f"with the same --process-id stop the whole run this way",
                  resume_hint=False):
        # JAX's heartbeats find a dead process after heartbeat_timeout_seconds (its default: 100)
        kw = {"initialization_timeout": int(max(timeout, 1)) + 30,
              "heartbeat_timeout_seconds": int(min(max(timeout, 10), 100))}
        try:
            jax.distributed.initialize(coordinator, num_processes, process_id, **kw)
        except (RuntimeError, ValueError) as exc:
            hint = ("; --distributed auto needs a cluster environment JAX recognises (inside a SLURM job "
                    "step or an Open MPI launch); elsewhere give --coordinator, --num-processes and "
                    "--process-id") if auto and coordinator is None else ""
            raise ValueError(f"jax.distributed.initialize failed ({who}, coordinator {where}): "
                             f"{' '.join(str(exc).split())[:500]}{hint}") from None
        jax.devices()       # the backend's start exchanges the device topology with every process
    if log is not None:
        print(f"[anneal] process {jax.process_index()} of {jax.process_count()}: "
              f"{len(jax.local_devices())} local / {len(jax.devices())} devices", file=log, flush=True)


def work() -> str | None:
    """Where the finished work is, as :func:`set_work` said (None: not said)."""
    return _settings["work"]


def timeout() -> float:
    return _settings["timeout"]


def stop(message: str, resume_hint: bool = True):
    """Print ``message`` and end this process now (status :data:`EXIT_TIMEOUT`).

    ``resume_hint``: add where the finished work is and how to continue it (not before the
    processes have started any).  ``os._exit`` skips JAX's shutdown barrier, which would wait
    for a dead process until the heartbeat timeout; the lock's flock goes with the process,
    and the lock file left behind is taken over by the next run."""
    hint = "; " + work_hint(_settings["work"], _settings.get("work_kind", "checkpoint")) if resume_hint else ""
    print(f"jtls: error: {message}{hint}", file=sys.stderr, flush=True)
    os._exit(EXIT_TIMEOUT)


def _collective(fn, step: str, wait: float):
    """``fn()`` (a collective) under a watchdog; a peer's failure ends this process with a message."""
    import jax
    me = f"process {jax.process_index()}"
    with Watchdog(timeout() + wait, f"{me}: no answer from the other processes ({step}); one may have died "
                                    f"or be much slower than this one"):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - JAX raises several types for a lost peer
            stop(f"{me} lost contact with another process ({step}; it probably died): "
                 f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")


class Watchdog:
    """Context manager: if the block takes longer than ``seconds``, print ``message`` and exit.

    Blocking JAX calls release the GIL, so the timer thread runs while the
    main thread waits in a collective; exiting with ``os._exit`` (status
    :data:`EXIT_TIMEOUT`) is the only way out of such a wait.  The kernel
    drops this process's lock when it exits; the checkpoint is complete.
    """

    def __init__(self, seconds: float, message: str, resume_hint: bool = True):
        self.seconds, self.message, self.resume_hint = float(seconds), message, resume_hint
        self.timer = None

    def _fire(self):
        stop(f"{self.message} (stopped after waiting {self.seconds:g} s)", self.resume_hint)

    def __enter__(self):
        self.timer = threading.Timer(self.seconds, self._fire)
        self.timer.daemon = True
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()


def _encode(code: int, values, message: str = "") -> np.ndarray:
    raw = message.encode()[:_MSG_BYTES]
    a = np.zeros(4 + _MSG_BYTES, np.int64)
    a[0], a[1] = code, len(raw)
    a[2:4] = values
    a[4:4 + len(raw)] = np.frombuffer(raw, np.uint8)
    return a


def broadcast_plan(code: int, values=(0, 0), message: str = "", wait: float = 0.0):
    """Process 0's (code, (v0, v1), message) on every process (the arguments of the others are ignored).

    code 0 = go on, 1 = finished, 2 = process 0 stopped with ``message``.
    """
    import jax
    from jax.experimental import multihost_utils
    lead = jax.process_index() == 0
    a = _encode(code, values, message) if lead else np.zeros(4 + _MSG_BYTES, np.int64)
    a = _collective(lambda: np.asarray(multihost_utils.broadcast_one_to_all(a, is_source=lead)),
                    "exchanging the plan of the next batch (process 0 sends it)", wait)
    msg = bytes(a[4:4 + int(a[1])].astype(np.uint8)).decode(errors="replace")
    return int(a[0]), (int(a[2]), int(a[3])), msg


def lead_decides(fn, stopped: str) -> tuple:
    """Process 0 runs ``fn()`` (its checks and preparations; returns two ints or None) and
    sends the result to the others, which return it too.  An error of ``fn`` is raised on
    process 0 and reaches the others as ``ValueError(f"{stopped}: {its message}")`` -- as
    :class:`~jtls.anneal.files.RunLocked` or :class:`~jtls.anneal.files.OutputExists` when it was one."""
    import jax
    from . import files as F
    kinds = {c.__name__: c for c in (F.RunLocked, F.OutputExists)}
    if jax.process_index() == 0:
        try:
            values = fn() or (0, 0)
        except Exception as exc:
            kind = type(exc).__name__ if type(exc).__name__ in kinds else ""
            broadcast_plan(2, message=f"{kind}\x00{exc}")
            raise
        broadcast_plan(0, values)
        return values
    code, values, msg = broadcast_plan(0)
    if code == 2:
        kind, _, msg = msg.partition("\x00")
        # a refusal of the files (another run holds the lock, the output exists) keeps its type,
        # so every process can handle it as process 0 does (a library build goes on)
        raise kinds.get(kind, ValueError)(f"{stopped}: {msg}")
    return values


def check_same_settings(settings: dict, what: str) -> None:
    """Raise ValueError on every process unless all were started with the same ``settings``
    (JSON-able; compared by a hash gathered from every process).  A run whose processes differ
    in, e.g., the seed or the lattice would otherwise mix realizations of different runs."""
    import hashlib
    import json
    from jax.experimental import multihost_utils

    def digest(v):
        text = json.dumps(v, sort_keys=True, default=str).encode()
        return int.from_bytes(hashlib.sha256(text).digest()[:7], "big")
    keys = sorted(settings)
    # one hash per setting (and one of the key list, so that differing key sets are caught)
    h = np.array([digest(keys)] + [digest(settings[k]) for k in keys], np.int64)
    hs = _collective(lambda: np.asarray(multihost_utils.process_allgather(h)).reshape(-1, h.size),
                     "comparing the settings of the processes", 0.0)
    differ = [i for i in range(hs.shape[0]) if (hs[i] != hs[0]).any()]
    if differ:
        names = [k for j, k in enumerate(keys) if (hs[:, j + 1] != hs[0, j + 1]).any()]
        which = f" (differing: {', '.join(names)})" if names and (hs[:, 0] == hs[0, 0]).all() else ""
        raise ValueError(f"the processes of this {what} were started with different settings{which}: process(es) "
                         f"{', '.join(map(str, differ))} differ from process 0; start every process with the "
                         "same options")


def gather(tree, wait: float = 0.0):
    """Global arrays (sharded over all processes' devices) -> numpy on every process."""
    import jax
    from jax.experimental import multihost_utils
    return _collective(lambda: jax.tree.map(np.asarray, multihost_utils.process_allgather(tree, tiled=True)),
                       "gathering the results of a batch", wait)


def global_indices(r: np.ndarray, sharding):
    """The global array of realization indices ``r`` (identical on every process), sharded."""
    import jax
    return jax.make_array_from_callback(r.shape, sharding, lambda idx: r[idx])
