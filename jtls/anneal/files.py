"""Files of an annealing run: output path checks, the run lock, atomic writes, checkpoints.

A run writing ``OUT`` uses, next to it:

* ``OUT.lock`` -- taken at the start (``fcntl.flock``, exclusive, non-blocking;
  the file holds the pid, host and start time of the holder) and removed at
  the end.  The kernel drops a flock when its process dies, however it dies,
  so a lock file left by a killed run is simply taken over.  Without
  ``fcntl`` (Windows) the file is created with ``O_CREAT | O_EXCL`` instead
  and a lock of a dead process on the same host is removed.
* ``OUT.ckpt.npz`` -- the checkpoint: totals so far, the run's metadata, and
  a SHA-256 over all arrays; loading verifies the checksum and the totals'
  invariants (:func:`load_checkpoint`).

Every file is written to a temporary name in the same directory, fsync'ed
and renamed over the target (:func:`atomic_savez`), so a kill never leaves a
half-written checkpoint or output; temporaries of killed runs are removed by
the next run that holds the lock.  In a run of several processes
(:mod:`jtls.anneal.distributed`) process 0 alone takes the lock and writes
these files.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import socket
import time
import warnings

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

#: Version of the checkpoint layout (1: no checksum; 2: + ``sha256``, ``ckpt_version``).
CHECKPOINT_VERSION = 2


class RunLocked(ValueError):
    """Another run holds the lock of this output file."""


class OutputExists(ValueError):
    """The output (or a checkpoint) exists and neither resume nor overwrite was asked for."""


class CheckpointError(ValueError):
    """The checkpoint is unreadable, corrupted or inconsistent."""


class CheckpointMismatch(ValueError):
    """The checkpoint belongs to a run with different settings."""


def checkpoint_path(out) -> str:
    return os.fspath(out) + ".ckpt.npz"


def lock_path(out, process: int | None = None) -> str:
    """``OUT.lock`` (``OUT.lock.pK`` for process K > 0 of a multi-process run)."""
    return os.fspath(out) + ".lock" + (f".p{process}" if process else "")


def check_output_path(out) -> str:
    """Raise ValueError naming the path unless ``out`` can be written; return it as str.

    Checked before any work: ``out`` is not a directory, its directory exists
    and is writable, and the checkpoint path is not a directory.
    """
    out = os.fspath(out)
    if not out:
        raise ValueError("argument 'out' is empty")
    if os.path.isdir(out):
        raise ValueError(f"output path {out} is a directory; give a file name (e.g. {os.path.join(out, 'run.npz')})")
    d = os.path.dirname(os.path.abspath(out))
    if not os.path.exists(d):
        raise ValueError(f"directory {d} of output {out} does not exist")
    if not os.path.isdir(d):
        raise ValueError(f"{d} (directory of output {out}) is not a directory")
    if not os.access(d, os.W_OK | os.X_OK):
        raise ValueError(f"directory {d} of output {out} is not writable")
    ck = checkpoint_path(out)
    if os.path.isdir(ck):
        raise ValueError(f"checkpoint path {ck} is a directory")
    return out


# ---------------------------------------------------------------------------------------------- lock

def _holder(path) -> dict:
    try:
        with open(path) as f:
            return json.loads(f.read() or "{}")
    except (OSError, ValueError):
        return {}


def _describe(path, info) -> str:
    if not info:
        return f"lock file {path} is held (holder unknown)"
    return (f"lock file {path} is held by pid {info.get('pid')} on host {info.get('host')} "
            f"(since {info.get('started')})")


def _pid_alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, TypeError):
        return True
    return True


class OutputLock:
    """Exclusive lock of an output file for the duration of a run (context manager).

    Raises :class:`RunLocked` naming the lock file and its holder when another
    run (in this or another process) holds it.
    """

    def __init__(self, out, process: int | None = None):
        self.out = os.fspath(out)
        self.path = lock_path(out, process)
        self.fd = None

    def _info(self) -> bytes:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode()

    def _refuse(self, info, extra=""):
        raise RunLocked(f"another run is writing {self.out}: {_describe(self.path, info)}; wait for it to "
                        f"finish or use a different output file{extra}")

    def _open(self, flags):
        try:
            return os.open(self.path, flags, 0o644)
        except FileExistsError:
            raise
        except OSError as exc:
            raise ValueError(f"cannot create lock file {self.path}: {exc.strerror or exc}") from None

    def acquire(self):
        if fcntl is None:
            return self._acquire_excl()
        for _ in range(10):
            fd = self._open(os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                self._refuse(_holder(self.path))
            except OSError:      # no flock on this file system: exclusive creation instead
                os.close(fd)
                return self._acquire_excl(allow_existing_unlocked=True)
            # the previous holder may have removed the file between our open and flock
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, self._info())
                self.fd = fd
                return self
            os.close(fd)
        self._refuse({})

    def _acquire_excl(self, allow_existing_unlocked=False):
        for attempt in range(2):
            try:
                fd = self._open(os.O_RDWR | os.O_CREAT | os.O_EXCL)
            except FileExistsError:
                info = _holder(self.path)
                stale = info.get("host") == socket.gethostname() and not _pid_alive(info.get("pid"))
                if attempt == 0 and stale:
                    try:
                        os.remove(self.path)
                    except FileNotFoundError:
                        pass
                    continue
                self._refuse(info, f" (if no such run is alive, delete {self.path})")
            os.write(fd, self._info())
            self.fd = fd
            return self
        self._refuse({})

    def release(self):
        if self.fd is None:
            return
        try:
            if os.path.samestat(os.fstat(self.fd), os.stat(self.path)):
                os.remove(self.path)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def remove_stale_temporaries(*paths):
    """Remove ``PATH.tmp-*`` files of earlier (killed) runs; call while holding the lock."""
    for p in paths:
        for t in glob.glob(glob.escape(os.fspath(p)) + ".tmp-*"):
            try:
                os.remove(t)
            except OSError:
                pass


# --------------------------------------------------------------------------------------- atomic write

def atomic_savez(path, **arrays):
    """``np.savez`` to a temporary file, fsync, then rename over ``path`` (atomic).

    On any error the temporary file is removed and an OSError names ``path``.
    """
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.remove(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    try:                                  # make the rename durable (best effort)
        dfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ----------------------------------------------------------------------------------------- checkpoint

def start(out, meta: dict, empty: dict, check, realizations: int, resume: bool, overwrite: bool,
          progress: bool = False, log=None, assumed: dict | None = None):
    """(realizations done, totals) a run of ``out`` starts from; call while holding the lock.

    Refuses (:class:`OutputExists`) an existing ``out`` without ``overwrite``
    and an existing checkpoint without ``resume`` or ``overwrite``; with
    ``resume`` loads and verifies the checkpoint (:func:`load_checkpoint` with
    ``meta``, ``empty``, ``check`` and ``assumed``), with ``overwrite`` alone deletes it.
    ``resume="auto"``: resume a checkpoint if there is one, else start from 0 (decided under the
    lock: the builds that share a library directory use it).
    """
    ck = checkpoint_path(out)
    done, tot = 0, empty
    have_ck = os.path.exists(ck)
    if isinstance(resume, str):
        if resume != "auto":
            raise ValueError(f"argument 'resume' must be True, False or 'auto', got {resume!r}")
        resume = have_ck
    if resume and not have_ck:
        if os.path.exists(out):
            raise ValueError(f"nothing to resume: {out!s} is complete (no checkpoint {ck!s})")
        raise ValueError(f"nothing to resume: checkpoint {ck!s} not found")
    if os.path.exists(out) and not overwrite:
        how = "pass --overwrite (overwrite=True) to replace it"
        if resume:
            how = "pass --overwrite (overwrite=True) with --resume to finish the checkpointed run and replace it"
        raise OutputExists(f"output {out} exists; {how}")
    if resume:
        done, tot = load_checkpoint(ck, meta, tot, check, assumed)
        if progress:
            print(f"resuming from {ck}: {done}/{realizations} realizations done", file=log)
    elif have_ck:
        if not overwrite:
            raise OutputExists(f"checkpoint {ck} of an unfinished run exists: pass --resume (resume=True) to "
                               f"continue it, or --overwrite (overwrite=True) to discard it and start from 0")
        os.remove(ck)
        if progress:
            print(f"discarded checkpoint {ck} (overwrite)", file=log)
    return done, tot


def digest(arrays: dict) -> str:
    """SHA-256 over the arrays in sorted-name order (name, dtype, shape and bytes of each)."""
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(np.asarray(arrays[k]))
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_output(path, result: dict):
    """Write an annealer result (``OUT.npz``) atomically, with the SHA-256 of its arrays
    (``sha256``, :func:`digest`) that :func:`load_output` checks.  (The simulated-DOS library,
    :func:`jtls.simulated.pack.pack`, is written by it too.)"""
    arrays = {k: np.asarray(v) for k, v in result.items()}
    atomic_savez(path, sha256=np.asarray(digest(arrays)), **arrays)


def load_output(path) -> dict:
    """The arrays of an annealer result written by :func:`save_output`, verified: every member
    readable (the zip CRCs) and, where the file carries one, the SHA-256 of the arrays.
    ValueError naming the file otherwise (outputs of older versions have no checksum)."""
    path = os.fspath(path)
    arrays = read_members(path, lambda kind: ValueError(
        f"annealer output {path} is unreadable, probably truncated or corrupted ({kind})"))
    if "sha256" in arrays and not checksum_matches(arrays):
        raise ValueError(f"annealer output {path}: checksum mismatch (the file was corrupted or edited)")
    return arrays


def read_members(path: str, error) -> dict:
    """Every array of the .npz ``path`` (each member read, so its zip CRC checked); a file that
    cannot be read raises ``error(kind)``, ``kind`` saying what went wrong."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except Exception as exc:  # noqa: BLE001 - any failure to read means a damaged file
        kind = "empty file" if os.path.exists(path) and os.path.getsize(path) == 0 else \
            f"{type(exc).__name__}: {exc}"
        raise error(kind) from None


def checksum_matches(arrays: dict) -> bool:
    """Remove ``sha256`` from ``arrays`` and say whether it is the :func:`digest` of the rest."""
    stored = str(arrays.pop("sha256"))
    return digest(arrays) == stored


def save_checkpoint(path, meta: dict, done: int, tot: dict):
    arrays = {"meta": np.asarray(json.dumps(meta)), "done": np.int64(done),
              "ckpt_version": np.int64(CHECKPOINT_VERSION)}
    arrays |= {"tot_" + k: np.asarray(v) for k, v in tot.items()}
    atomic_savez(path, sha256=np.asarray(digest(arrays)), **arrays)


_REMEDY = "delete it, or pass --overwrite (overwrite=True) to start the run again from 0"


def _short(v, width=60) -> str:
    r = repr(v)
    return r if len(r) <= width else r[: width - 3] + "..."


def differences(old, new, name="") -> list[str]:
    """Human-readable differences between two JSON-like values ('key: checkpoint X, this run Y')."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            sub = f"{name}.{k}" if name else str(k)
            if k not in old:
                out.append(f"{sub}: not in checkpoint, this run {_short(new[k])}")
            elif k not in new:
                out.append(f"{sub}: checkpoint {_short(old[k])}, not in this run")
            else:
                out += differences(old[k], new[k], sub)
        return out
    if old == new:
        return []
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        idx = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
        if len(idx) <= 3:
            return [f"{name}[{i}]: checkpoint {_short(old[i])}, this run {_short(new[i])}" for i in idx]
    if isinstance(old, list) and isinstance(new, list) and len(old) != len(new):
        return [f"{name}: checkpoint has {len(old)} entries {_short(old)}, this run {len(new)} {_short(new)}"]
    return [f"{name}: checkpoint {_short(old)}, this run {_short(new)}"]


def load_checkpoint(path, meta: dict, empty: dict, check=None, assumed: dict | None = None):
    """(done, totals) from checkpoint ``path``, verified; CheckpointError / CheckpointMismatch otherwise.

    ``meta`` is the metadata the checkpoint must match, ``empty`` the zero
    totals (names, dtypes and shapes it must have), ``check(done, totals)`` a
    function returning a description of a violated invariant or None.
    ``assumed``: settings of ``meta`` that checkpoints of an earlier version
    lack, with the value they had then; such a checkpoint is compared as if it
    recorded that value, and resumed with a RuntimeWarning naming the assumption.
    """
    path = os.fspath(path)
    arrays = read_members(path, lambda kind: CheckpointError(
        f"checkpoint {path} is unreadable, probably truncated or corrupted ({kind}); {_REMEDY}"))

    def bad(what):
        return CheckpointError(f"checkpoint {path} is invalid: {what}; {_REMEDY}")

    need = ["meta", "done"] + ["tot_" + k for k in empty]
    version = int(arrays["ckpt_version"]) if "ckpt_version" in arrays and arrays["ckpt_version"].shape == () \
        else 1
    if version >= 2:
        need += ["sha256", "ckpt_version"]
    missing = [k for k in need if k not in arrays]
    if missing:
        raise bad(f"missing array(s) {', '.join(missing)}")
    if version >= 2 and not checksum_matches(arrays):
        raise bad("checksum mismatch (the file was corrupted or edited)")
    try:
        old = json.loads(str(arrays["meta"]))
    except ValueError:
        raise bad("metadata is not valid JSON") from None
    want = json.loads(json.dumps(meta))
    taken = {k: v for k, v in (assumed or {}).items() if isinstance(old, dict) and k not in old and k in want}
    if taken:
        old = old | taken
        what = ", ".join(f"{k} = {json.dumps(v)}" for k, v in taken.items())
    if old != want:
        diff = differences(old, want)
        raise CheckpointMismatch(
            f"checkpoint {path} was written by a run with different settings (differs in: {'; '.join(diff)}"
            f"{f'; the checkpoint, of an earlier jtls, does not record it: taken as {what}' if taken else ''}); "
            f"resume it with its own settings, or pass --overwrite (overwrite=True) to discard it")
    if taken:
        warnings.warn(f"checkpoint {path} was written by an earlier jtls, which did not record {what}: resumed "
                      f"as if it did; if it was written otherwise, discard it with --overwrite "
                      f"(overwrite=True)", RuntimeWarning, stacklevel=2)
    done = arrays["done"]
    if done.shape != () or done.dtype.kind not in "iu":
        raise bad(f"'done' must be an integer scalar, got {done.dtype} {done.shape}")
    done = int(done)
    tot = {}
    for k, ref in empty.items():
        a = arrays["tot_" + k]
        ref = np.asarray(ref)
        if a.shape != ref.shape:
            raise bad(f"array tot_{k} has shape {a.shape}, expected {ref.shape}")
        if ref.dtype.kind in "iu" and a.dtype.kind not in "iu":
            raise bad(f"array tot_{k} must hold integers, got {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise bad(f"array tot_{k} holds non-finite values")
        tot[k] = a.astype(ref.dtype).copy() if a.shape else ref.dtype.type(a)
    problem = check(done, tot) if check is not None else None
    if problem:
        raise bad(problem)
    return done, tot
