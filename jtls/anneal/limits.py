"""Largest counts an annealing run can represent (checked before any work).

* Realization r is the int32 index of its keys and of its call slot (``-1``
  marks padding), so a run holds at most :data:`MAX_REALIZATIONS` = 2^31 - 1;
  beyond that the indices would wrap to negative values and be dropped as
  padding while being counted as done.
* Sweep s of a temperature is ``jnp.arange(sweeps)`` and the data of
  ``fold_in``, so a temperature takes at most :data:`MAX_SWEEPS` = 2^31 - 1.
* The seed goes through ``jax.random.key``: below 2^63 with JAX's 64-bit
  types; without them (``JTLS_NO_X64``) a seed >= 2^32 is silently reduced to
  its low 32 bits (2^32 would give the stream of seed 0), so it must be below
  2^32 there.
"""
from __future__ import annotations

MAX_REALIZATIONS = 2 ** 31 - 1
MAX_SWEEPS = 2 ** 31 - 1


def max_seed() -> int:
    """The largest seed ``jax.random.key`` keeps whole in this process's JAX configuration."""
    import jax
    return 2 ** 63 - 1 if jax.config.jax_enable_x64 else 2 ** 32 - 1


def is_whole(v) -> bool:
    """True for an integer value (not a bool; NaN, inf, strings and other objects are not)."""
    try:
        return not isinstance(v, bool) and int(v) == v
    except (TypeError, ValueError, OverflowError):
        return False


def check_seed(seed, name: str = "seed") -> None:
    """ValueError naming ``name`` unless ``seed`` is an integer in [0, :func:`max_seed`]."""
    if not is_whole(seed) or not 0 <= seed <= max_seed():
        raise ValueError(f"argument {name!r} must be an integer in [0, {max_seed()}], got {seed!r}")


def check_realizations(n, name: str = "realizations") -> None:
    """ValueError naming ``name`` unless ``n`` is an integer in [1, :data:`MAX_REALIZATIONS`]."""
    if not is_whole(n) or not 1 <= n <= MAX_REALIZATIONS:
        raise ValueError(f"argument {name!r} must be an integer in [1, {MAX_REALIZATIONS}] (realizations are "
                         f"int32 indices), got {n!r}")


def check_part(part, realizations) -> None:
    """ValueError naming ``part`` unless it is None or (k, m) with integers 0 <= k < m <= realizations
    (every part of the run then holds at least one realization)."""
    if part is None:
        return
    ok = isinstance(part, (tuple, list)) and len(part) == 2 and all(is_whole(v) for v in part)
    if not ok or not 0 <= part[0] < part[1]:
        raise ValueError(f"argument 'part' must be (k, m) with integers 0 <= k < m (part k of m; "
                         f"--part K/M), got {part!r}")
    if is_whole(realizations) and part[1] > realizations:
        raise ValueError(f"argument 'part': {part[1]} parts of {realizations} realizations would leave parts "
                         "without any; use at most as many parts as realizations")
