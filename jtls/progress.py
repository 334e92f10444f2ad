"""Progress lines for long steps of the command line and the ``fits/`` scripts.

A step is announced on stderr -- never on stdout, which may carry a JSON
document -- and closed with its wall time::

    [jtls] fitting resonator_shift (17 points, profile intervals) ...
    [jtls] fitting resonator_shift (17 points, profile intervals): done in 21.4 s

Whether anything is printed:

* ``enabled=True`` (``--progress``): always, from the start of every step;
* ``enabled=None`` (the default): only when stderr is a terminal, and only for
  a step still running after ``delay`` seconds (2 s): short steps stay silent;
  on a terminal the running line shows the elapsed seconds, updated in place;
* ``enabled=False`` (``--no-progress``): never.

The steps of jtls are single compiled calls (a batched bootstrap, a NUTS run,
a profile scan) that report nothing while they run, so there is no count of
iterations to draw a bar from: a start line, a ticking elapsed time and a
done line are what can be said honestly, and they need no dependency (tqdm
or rich would add one for a bar we cannot fill).
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time

DELAY_S = 2.0


class Progress:
    """Announce long steps on ``stream`` (default sys.stderr); see the module docstring."""

    def __init__(self, enabled: bool | None = None, *, stream=None, prefix: str = "jtls",
                 delay: float = DELAY_S, interval: float = 1.0):
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty if enabled is None else bool(enabled)
        self.tty = tty
        self.delay = 0.0 if enabled else float(delay)
        self.prefix = prefix
        self.interval = float(interval)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):   # a closed or broken stderr must not stop the work
            pass

    @contextlib.contextmanager
    def step(self, what: str):
        """Context manager around one step: start line (after ``delay``), done line with the time."""
        if not self.enabled:
            yield
            return
        t0 = time.perf_counter()
        shown = threading.Event()
        stop = threading.Event()
        head = f"[{self.prefix}] {what} ..."

        def ticker():
            if self.delay and stop.wait(self.delay):
                return
            shown.set()
            self._write(head if self.tty else head + "\n")
            while self.tty and not stop.wait(self.interval):
                self._write(f"\r{head} {time.perf_counter() - t0:.0f} s")

        thread = threading.Thread(target=ticker, daemon=True)
        thread.start()
        failed = True
        try:
            yield
            failed = False
        finally:
            stop.set()
            thread.join()
            if shown.is_set():
                dt = time.perf_counter() - t0
                end = "stopped by an error after" if failed else "done in"
                self._write(("\r" if self.tty else "") + f"[{self.prefix}] {what}: {end} {dt:.1f} s"
                            + ("\033[K" if self.tty else "") + "\n")


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress`` (default: progress when stderr is a terminal)."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress lines for steps longer than about 2 s on stderr (default: only "
                             "when stderr is a terminal; --progress also when it is a file or pipe)")


def from_args(args, prefix: str = "jtls") -> Progress:
    """The :class:`Progress` an ``argparse`` namespace with ``progress`` asks for."""
    return Progress(getattr(args, "progress", None), prefix=prefix)
