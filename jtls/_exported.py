"""Compiled programs kept across processes as serialised exported programs (``jax.export``).

Why: a fresh ``jtls fit`` process with JAX's persistent compilation cache
filled still traces and lowers every program before the cache can answer (the
cache key is computed from the lowered module).  For the fit of one file that
is most of the run: ~1.6 s of ~3 s on the project's 2-core CPU
(``python benchmarks/bench_cold.py``, benchmarks/README.md).  A program
exported once (traced and lowered, then serialised) is loaded in a later
process without tracing it; with the compilation cache filled its compilation
is a cache hit, so the process does no tracing or compiling of our programs
at all.

Off unless a caller turns it on (:func:`enable`): the ``jtls fit`` command
does, next to JAX's compilation cache (same directory, subfolder
``exported``; ``JTLS_JAX_CACHE=off`` turns both off).  A library call never
writes files on its own.

Safety: a stored program is used only when everything that shaped it is the
same -- its key hashes the jtls sources (every ``.py`` file of the package),
the JAX and jaxlib versions, those of the other libraries whose code is traced
into our programs (numpy, optax: :data:`TRACED_LIBRARIES`), the backend, the float64 switch, the program's
name, its static arguments written out field by field (:func:`stable_text`)
and the shapes and dtypes of its array arguments.  A static argument that
cannot be written out in a way that is the same in every process (a function
defined outside jtls, e.g. a user's observable, or a closure) or that may read
state the key cannot see (the simulated-DOS models read a library file; see
:data:`STORABLE_MODULES`) means the program is not stored: it runs the usual
way.  Files carry their full key and a SHA-256 of their content, both checked
on load (a file copied or renamed under another key's name is not used); a
damaged, unreadable or misnamed file is ignored and written again.  Files are written to a temporary name and renamed into place, so
concurrent processes never see a partial file (two writers of one key write
the same program).  Any failure of the store (export, file system,
deserialisation) falls back to the ordinary jitted program with the same
arguments, so results never depend on the store.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import tempfile
import types
from pathlib import Path

import numpy as np
import jax

#: Version of the file format and key layout (bump to invalidate every stored program).
FORMAT = 2          # 2: the header carries the full key
_MAGIC = b"jtls-exported"

_state = {"dir": None, "digest": None, "libraries": None}
#: Libraries besides JAX whose code (or constants computed at trace time) enters our programs.
TRACED_LIBRARIES = ("numpy", "optax")
_memo: dict = {}          # (name, statics + extra, signature) -> callable of the leaves, or None


class Unstable(Exception):
    """A static argument that cannot be written out identically in every process."""


def enable(path) -> str | None:
    """Store exported programs in the folder ``path`` (created); returns it, or None when it
    cannot be created or JAX lacks serialisation (``flatbuffers`` missing)."""
    try:
        from jax._src.export import serialization  # noqa: F401 -- needs flatbuffers
    except ImportError:
        return None
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    _state["dir"] = str(path)
    _memo.clear()
    return _state["dir"]


def disable() -> None:
    """Stop using the store (programs already loaded in this process stay in use)."""
    _state["dir"] = None
    _memo.clear()


def directory() -> str | None:
    """The folder in use, or None when the store is off."""
    return _state["dir"]


def source_digest() -> str:
    """SHA-256 of every ``.py`` file of the jtls package (relative path and bytes), computed once."""
    if _state["digest"] is None:
        root = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in sorted(root.rglob("*.py")):
            h.update(str(p.relative_to(root)).encode() + b"\0")
            h.update(p.read_bytes() + b"\0")
        _state["digest"] = h.hexdigest()
    return _state["digest"]


#: Modules whose functions (and classes) may shape a stored program: their traced code reads
#: nothing but its arguments and the jtls sources.  Not the simulated-DOS models
#: (jtls.simulated): they read the library file named by ``JTLS_SIMULATED_LIBRARY`` and a
#: context variable, which the key cannot see; a user's functions are never in the list.
STORABLE_MODULES = ("jtls.fit", "jtls.observables", "jtls.resonator", "jtls.quadrature")


def _function_text(f) -> str:
    mod = getattr(f, "__module__", None) or ""
    qual = getattr(f, "__qualname__", None) or ""
    if not any(mod == m or mod.startswith(m + ".") for m in STORABLE_MODULES) or not qual or "<" in qual:
        raise Unstable(f"function {qual or f!r} of module {mod or '?'}")
    return f"fn:{mod}.{qual}"


def stable_text(obj) -> str:
    """``obj`` written out so that equal static arguments give equal text in every process.

    Numbers, strings, None, tuples, lists, dicts, numpy arrays, NamedTuples
    and dataclasses (field by field) and functions or classes defined at
    module level in :data:`STORABLE_MODULES`.  Anything else raises :class:`Unstable`.
    """
    if obj is None or isinstance(obj, (bool, int, str)):
        return repr(obj)
    if isinstance(obj, float):
        return "f:" + (obj.hex() if math.isfinite(obj) else repr(obj))
    if isinstance(obj, (np.generic,)):
        return f"np:{obj.dtype}:{obj.tobytes().hex()}"
    if isinstance(obj, np.ndarray):
        return f"arr:{obj.dtype}:{obj.shape}:{hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()}"
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (_function_text(type(obj)) + "(" +
                ",".join(f"{k}={stable_text(getattr(obj, k))}" for k in obj._fields) + ")")
    if isinstance(obj, (tuple, list)):
        return ("(" if isinstance(obj, tuple) else "[") + ",".join(stable_text(v) for v in obj) + ")"
    if isinstance(obj, dict) or (hasattr(obj, "keys") and hasattr(obj, "items") and not dataclasses.is_dataclass(obj)):
        items = sorted((stable_text(k), stable_text(v)) for k, v in obj.items())
        return "{" + ",".join(f"{k}:{v}" for k, v in items) + "}"
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return (_function_text(type(obj)) + "(" + ",".join(
            f"{f.name}={stable_text(getattr(obj, f.name))}" for f in dataclasses.fields(obj)) + ")")
    if isinstance(obj, (types.FunctionType, type)):
        return _function_text(obj)
    raise Unstable(f"object of type {type(obj).__name__}")


def _signature(tree, leaves) -> tuple:
    """(pytree structure, per leaf (shape, dtype, weak type)) of the dynamic arguments."""
    return (tree, tuple((tuple(np.shape(a)), str(jax.dtypes.result_type(a)), bool(getattr(a, "weak_type", False)))
                        for a in leaves))


def library_versions() -> str:
    """The installed versions of :data:`TRACED_LIBRARIES` (from their metadata: nothing is imported)."""
    if _state["libraries"] is None:
        from importlib import metadata
        out = []
        for lib in TRACED_LIBRARIES:
            try:
                out.append(f"{lib} {metadata.version(lib)}")
            except metadata.PackageNotFoundError:
                out.append(f"{lib} absent")
        _state["libraries"] = ", ".join(out)
    return _state["libraries"]


def _key(name, statics, sig) -> str:
    parts = [f"format {FORMAT}", f"jax {jax.__version__}", f"jaxlib {jax.lib.__version__}",
             f"libraries {library_versions()}",
             f"backend {jax.default_backend()}", f"x64 {bool(jax.config.jax_enable_x64)}",
             f"sources {source_digest()}", f"program {name}",
             "statics " + "|".join(stable_text(s) for s in statics),
             f"arguments {sig[0]} {sig[1]}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _read(path: Path, key: str):
    """The payload stored under ``key``, or None when missing, damaged or stored under another key."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    head, _, payload = blob.partition(b"\n")
    fields = head.split(b" ")
    if len(fields) != 4 or fields[0] != _MAGIC or fields[1] != str(FORMAT).encode():
        return None
    if fields[2] != key.encode() or hashlib.sha256(payload).hexdigest().encode() != fields[3]:
        return None
    return payload


def _write(path: Path, key: str, payload: bytes) -> None:
    head = b" ".join([_MAGIC, str(FORMAT).encode(), key.encode(), hashlib.sha256(payload).hexdigest().encode()])
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".jtlsx")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(head + b"\n" + payload)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _load_or_export(name, program, static_argnums, args, statics, tree, leaves, sig, compiler_options, fun):
    """A callable of the dynamic arguments' leaves running the stored program (None: not
    storable).  ``statics`` are the static arguments and the ``extra`` objects of :func:`call`."""
    try:
        key = _key(name, statics, sig)
    except Exception:  # noqa: BLE001 -- Unstable, or an object with no written-out form
        return None
    from jax import export
    path = Path(_state["dir"]) / f"{name}-{key[:40]}.jtlsx"
    exp = None
    payload = _read(path, key)
    if payload is not None:
        try:
            exp = export.deserialize(bytearray(payload))
        except Exception:  # noqa: BLE001 -- unreadable: export again below
            exp = None
    if exp is None:
        # exported as a function of the flat list of array leaves (pytree containers of the
        # arguments, e.g. NamedTuples, then need no serialisation support)
        def flat(*xs):
            it = iter(jax.tree.unflatten(tree, xs))
            return (fun or program)(*[a if i in static_argnums else next(it) for i, a in enumerate(args)])
        try:
            specs = [jax.ShapeDtypeStruct(np.shape(v), jax.dtypes.result_type(v)) for v in leaves]
            exp = export.export(jax.jit(flat), platforms=[jax.default_backend()])(*specs)
            payload = exp.serialize()
        except Exception:  # noqa: BLE001 -- not exportable (e.g. a callback): the usual way
            return None
        try:
            _write(path, key, bytes(payload))
        except OSError:
            pass                        # an unwritable store must not stop a fit
    kw = {"compiler_options": compiler_options} if compiler_options else {}
    return jax.jit(exp.call, **kw)


def call(name: str, program, static_argnums: tuple, args: tuple, compiler_options=None, extra=(), fun=None):
    """``program(*args)`` (a ``jax.jit`` function with these ``static_argnums``), run from the
    store when it is on and the program can be stored.

    ``compiler_options``: those ``program`` was jitted with (they are not part of an exported
    program); ``fun``: then the function ``program`` jits (JAX takes compiler options only at
    the top level, so the export traces ``fun``).  ``extra``: further objects that shape the
    program without being its arguments (e.g. the function a generic wrapper closes over);
    they enter the key like static arguments.  A stored program that fails to run is dropped
    for this process and ``program(*args)`` runs instead (raising what it raises)."""
    if _state["dir"] is None:
        return program(*args)
    statics = tuple(args[i] for i in static_argnums) + tuple(extra)
    leaves, tree = jax.tree.flatten(tuple(a for i, a in enumerate(args) if i not in static_argnums))
    if any(isinstance(a, jax.core.Tracer) for a in leaves):
        return program(*args)           # called inside another trace: part of that program
    try:
        sig = _signature(tree, leaves)
        memo_key = (name, statics, sig)
        if memo_key not in _memo:
            _memo[memo_key] = _load_or_export(name, program, static_argnums, args, statics, tree, leaves, sig,
                                              compiler_options, fun)
        fn = _memo[memo_key]
    except Exception:  # noqa: BLE001 -- unhashable static argument, argument without a dtype
        fn = None
    if fn is None:
        return program(*args)
    try:
        return fn(*leaves)
    except Exception:  # noqa: BLE001 -- e.g. a compilation the stored program cannot get
        _memo[memo_key] = None
        return program(*args)
