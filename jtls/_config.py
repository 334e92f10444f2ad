"""The one place where jtls configures JAX.

Importing :mod:`jtls` enables 64-bit floats (``jax_enable_x64``) because every
observable is specified to 1e-8 relative accuracy, which float32 cannot give.
Code that wants float32 (e.g. the annealer on a GPU) passes float32 arrays
explicitly; the observables then stay in float32 (see README, "Precision").

Set the environment variable ``JTLS_NO_X64=1`` before importing jtls to leave
the global JAX setting untouched.

Nothing else of the process is changed on import.  Synchronous CPU dispatch
(``jax_cpu_enable_async_dispatch = False``: a compiled call runs on the
calling thread instead of a worker thread the caller waits for) makes tiny
fits faster -- 22.5x instead of 15.6-16.3x scipy for the warm resonator fit,
``benchmarks/resonator_results.md`` -- but it is a process-wide JAX setting,
so jtls only applies it when asked: call :func:`use_synchronous_cpu_dispatch`
(or set ``JTLS_CPU_SYNC_DISPATCH=1``) before the first JAX computation.
"""
from __future__ import annotations

import os

import jax


def _env_set(name: str) -> bool:
    return os.environ.get(name, "") in ("1", "true", "True")


if not _env_set("JTLS_NO_X64"):
    jax.config.update("jax_enable_x64", True)


def use_synchronous_cpu_dispatch() -> bool:
    """Opt in to synchronous CPU dispatch for the whole process (see the module docstring).

    A compiled call then runs on the calling thread instead of a worker thread
    the caller waits for; this speeds up tiny fits.  It is a process-wide JAX
    setting (``jax_cpu_enable_async_dispatch = False``) and is best called
    before the first JAX computation.  Setting ``JTLS_CPU_SYNC_DISPATCH=1``
    before importing jtls does the same.

    Returns
    -------
    bool
        True when the option was set, False when this JAX version has no such
        option (nothing is changed then).

    Examples
    --------
    >>> import jax, jtls
    >>> before = jax.config.read("jax_cpu_enable_async_dispatch")
    >>> jtls.use_synchronous_cpu_dispatch()
    True
    >>> jax.config.read("jax_cpu_enable_async_dispatch")
    False
    >>> jax.config.update("jax_cpu_enable_async_dispatch", before)  # back as it was
    """
    try:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    except Exception:  # noqa: BLE001 - unknown option in another JAX version
        return False
    return True


if _env_set("JTLS_CPU_SYNC_DISPATCH"):
    use_synchronous_cpu_dispatch()

__all__ = ["use_synchronous_cpu_dispatch"]
