"""A multi-process command runs in a child process that this one watches.

JAX's distributed runtime ends a process with ``abort()`` when its coordination service reports
a fatal error: another process of the run died -- process 0 above all, which holds the service --
or two processes were started with the same ``--process-id``.  Python cannot catch that, and the
user would see a C++ stack trace and a status of 134 (SIGABRT).  So ``jtls anneal`` and ``jtls
library build`` with the flags of several processes run the work in a child process (the same
command, marked by :data:`CHILD_ENV`) and wait for it: the child's own exit status passes
through; a child ended by a signal gets a jtls message saying what it means and where the
finished work is, and the status :data:`jtls.anneal.distributed.EXIT_TIMEOUT` (JAX's abort) or
128 + the signal (killed, e.g. by the scheduler or for memory).

The child inherits stdin, stdout and stderr.  It dies with this process (Linux: the kernel sends
it SIGKILL when its parent dies), so killing the command kills its work; SIGTERM and SIGHUP sent
to this process are passed on to it; SIGINT (Ctrl-C) reaches it from the terminal directly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

#: Set in the environment of the child that does the work, to the process id of its watcher.
CHILD_ENV = "JTLS_DISTRIBUTED_CHILD"


def is_child() -> bool:
    """Whether this process is the supervised child of a multi-process command; if so, it is made
    to die with its watcher (Linux), and ends at once if the watcher is already gone."""
    parent = os.environ.get(CHILD_ENV, "")
    if not parent.isdigit():
        return False
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))     # PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001 - no prctl: the child may outlive a killed watcher
            pass
        if os.getppid() != int(parent):      # the watcher died before the line above
            os._exit(128 + int(signal.SIGKILL))
    return True


def supervise(argv, work: str, what: str = "jtls") -> int:
    """Run ``jtls *argv`` as a watched child process; its exit status, or for a child ended by a
    signal a message naming ``work`` (where the finished batches are) and a jtls status."""
    from .distributed import EXIT_TIMEOUT
    env = dict(os.environ, **{CHILD_ENV: str(os.getpid())})
    # the child imports the jtls this process runs, wherever it was imported from
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([here] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.Popen([sys.executable, "-m", "jtls", *argv], env=env)
    passed = (signal.SIGTERM, signal.SIGHUP) if hasattr(signal, "SIGHUP") else (signal.SIGTERM,)
    old = {}
    try:
        old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)    # the child gets Ctrl-C
        for s in passed:
            old[s] = signal.signal(s, lambda num, frame: proc.send_signal(num))
    except ValueError:        # not the main thread: no handlers, the child still runs
        pass
    try:
        rc = proc.wait()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if rc >= 0:
        return rc
    sig = -rc
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
    resume = (f"the finished batches are in {work}: rerun every process with the same options "
              "(jtls anneal: with --resume)")
    if sig == signal.SIGABRT:
        print(f"jtls: error: {what}: JAX's distributed runtime ended this process ({name}): another process "
              f"of the run died or cannot be reached (process 0 holds JAX's coordination service: when it "
              f"dies, all stop), or two processes were started with the same --process-id; see the other "
              f"processes' output; {resume}", file=sys.stderr, flush=True)
        return EXIT_TIMEOUT
    print(f"jtls: error: {what}: the process was ended by {name} (by a user, the job scheduler, or for lack "
          f"of memory); {resume}", file=sys.stderr, flush=True)
    return 128 + sig
