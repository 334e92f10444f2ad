"""The one place where jtls configures JAX.

Importing :mod:`jtls` enables 64-bit floats (``jax_enable_x64``) because every
observable is specified to 1e-8 relative accuracy, which float32 cannot give.
Code that wants float32 (e.g. the annealer on a GPU) passes float32 arrays
explicitly; the observables then stay in float32 (see README, "Precision").

Set the environment variable ``JTLS_NO_X64=1`` before importing jtls to leave
the global JAX setting untouched.

It also makes CPU dispatch synchronous (``jax_cpu_enable_async_dispatch =
False``): a compiled call then runs on the calling thread instead of being
handed to a worker thread that the caller waits for.  jtls's calls are either
tiny (a fit: ~0.2 ms, where the two thread switches cost 60-120 us on a loaded
2-core machine) or long (an annealing chunk), so nothing is lost by not
overlapping Python with them.  ``JTLS_CPU_ASYNC_DISPATCH=1`` keeps JAX's
default; the setting only takes effect if jtls is imported before the first
JAX computation of the process.
"""
from __future__ import annotations

import os

import jax


def _env_set(name: str) -> bool:
    return os.environ.get(name, "") in ("1", "true", "True")


if not _env_set("JTLS_NO_X64"):
    jax.config.update("jax_enable_x64", True)

if not _env_set("JTLS_CPU_ASYNC_DISPATCH"):
    try:
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    except Exception:  # noqa: BLE001 - unknown option in another JAX version, or too late
        pass

__all__: list[str] = []
