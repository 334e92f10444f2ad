"""Annealing schedules (Churkin et al. 2021, Sec. III A).

The paper anneals from a random configuration at 300 K through 42
temperatures down to 0.02 K with 257 Monte Carlo sweeps per temperature, then
drops to 2 uK to emulate T = 0.  It does not list the 42 temperatures; the
default list below is ours: roughly geometric (ratio ~1.3) from 300 K to 1 K,
then the Table II temperatures 1, 0.8, 0.6, 0.5, 0.4, 0.2, 0.1 K with a few
in between, then down to 0.02 K.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .limits import MAX_SWEEPS

#: The 42 default annealing temperatures (K), decreasing.
PAPER_TEMPERATURES = (
    300.0, 200.0, 150.0, 100.0, 70.0, 50.0, 40.0, 30.0, 25.0, 20.0, 16.0, 13.0,
    10.0, 8.0, 6.5, 5.0, 4.0, 3.2, 2.5, 2.0, 1.6, 1.3,
    1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1,
    0.08, 0.06, 0.05, 0.04, 0.03, 0.02,
)
#: Final temperature emulating T = 0 (K).
ZERO_T = 2e-6
#: Sweeps (n attempted single flips each) per temperature.
PAPER_SWEEPS = 257
#: Temperatures of Table II (K).
TABLE2_TEMPERATURES = (0.1, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0)


class Schedule(NamedTuple):
    """Temperatures (nT,) in K, in the order visited, and sweeps per temperature (nT,)."""
    T: tuple
    sweeps: tuple

    @property
    def total_sweeps(self) -> int:
        return int(sum(self.sweeps))


def paper_schedule(sweeps: int = PAPER_SWEEPS, final_T: float | None = ZERO_T) -> Schedule:
    """The default schedule: 42 temperatures 300 K -> 0.02 K, then ``final_T`` (2 uK)."""
    T = list(PAPER_TEMPERATURES) + ([final_T] if final_T else [])
    return make_schedule(T, sweeps)


def make_schedule(T, sweeps) -> Schedule:
    """Validated schedule from temperatures ``T`` (K, > 0, distinct) and sweeps (int or per-T list)."""
    T = np.atleast_1d(np.asarray(T, dtype=float))
    if T.ndim != 1 or T.size == 0:
        raise ValueError("argument 'T' (schedule temperatures) must be a non-empty list")
    if not np.all(np.isfinite(T)) or np.any(T <= 0):
        raise ValueError("argument 'T' (schedule temperatures) must be finite and > 0")
    if len(np.unique(T)) != T.size:
        raise ValueError("argument 'T' (schedule temperatures) must not repeat a temperature")
    sw = np.broadcast_to(np.asarray(sweeps), T.shape)
    if not np.issubdtype(sw.dtype, np.number) or np.any(sw != np.floor(sw)) or np.any(sw < 1) \
            or np.any(sw > MAX_SWEEPS):
        raise ValueError(f"argument 'sweeps' must be integers in [1, {MAX_SWEEPS}], got {sweeps!r}")
    return Schedule(T=tuple(float(t) for t in T), sweeps=tuple(int(s) for s in sw))


def parse_temperatures(text: str, option: str = "--schedule") -> list[float]:
    """Parse a comma-separated list of numbers (temperatures in K for ``--schedule``); ValueError
    names ``option`` and the bad entry."""
    out = []
    for i, tok in enumerate(text.split(",")):
        tok = tok.strip()
        try:
            out.append(float(tok))
        except ValueError:
            raise ValueError(f"argument {option!r}: entry {i + 1} ({tok!r}) is not a number") from None
    return out
