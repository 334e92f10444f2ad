"""The one place where jtls configures JAX.

Importing :mod:`jtls` enables 64-bit floats (``jax_enable_x64``) because every
observable is specified to 1e-8 relative accuracy, which float32 cannot give.
Code that wants float32 (e.g. the annealer on a GPU) passes float32 arrays
explicitly; the observables then stay in float32 (see README, "Precision").

Set the environment variable ``JTLS_NO_X64=1`` before importing jtls to leave
the global JAX setting untouched.
"""
from __future__ import annotations

import os

import jax

if os.environ.get("JTLS_NO_X64", "") not in ("1", "true", "True"):
    jax.config.update("jax_enable_x64", True)

__all__: list[str] = []
