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

The child inherits stdin, stdout and stderr and runs in a process group of its own.  It dies
with this process (Linux: the kernel sends it SIGKILL when its parent dies), so killing the
command kills its work; SIGINT (Ctrl-C), SIGTERM and SIGHUP sent to this process are passed on
to it once, and a child still running :data:`GRACE_SECONDS` later is killed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

#: Set in the environment of the child that does the work, to the process id of its watcher.
CHILD_ENV = "JTLS_DISTRIBUTED_CHILD"


def is_child() -> bool:
    """Whether this process is the supervised child of a multi-process command; if so, it is made
    to die with its watcher (Linux), and ends at once if the watcher is already gone.  A value of
    :data:`CHILD_ENV` that names a live process other than this one's parent (set by hand, or
    inherited from another command) is ignored: this process is then no child."""
    parent = os.environ.get(CHILD_ENV, "")
    if not parent.isdigit():
        return False
    if os.getppid() != int(parent):
        try:
            os.kill(int(parent), 0)
            return False                     # someone else's value: not our watcher
        except ProcessLookupError:
            os._exit(128 + int(signal.SIGKILL))  # our watcher died before we could follow it
        except (PermissionError, OverflowError, ValueError):
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


#: Seconds a child may take to stop after a passed-on SIGTERM, SIGHUP or SIGINT before it is killed.
GRACE_SECONDS = 30.0


def supervise(argv, work: str, what: str = "jtls", kind: str = "checkpoint") -> int:
    """Run ``jtls *argv`` as a watched child process; its exit status, or for a child ended by a
    signal a message saying what it means and where the finished work is (``work``: the run's
    checkpoint file, or a build directory -- ``kind``), and a jtls status.

    The child runs in a process group of its own, so a signal reaches it once: SIGINT (Ctrl-C
    at the terminal, or sent to this process), SIGTERM and SIGHUP sent to this process are passed
    on; a child that has not stopped :data:`GRACE_SECONDS` later is killed.  A signal this process
    was started ignoring (``nohup`` ignores SIGHUP) stays ignored, by the child too."""
    from .distributed import EXIT_TIMEOUT, work_hint
    env = dict(os.environ, **{CHILD_ENV: str(os.getpid())})
    # the child imports the jtls this process runs, wherever it was imported from
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join([here] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    group = {"process_group": 0} if sys.version_info >= (3, 11) and os.name == "posix" else {}
    proc = subprocess.Popen([sys.executable, "-m", "jtls", *argv], env=env, **group)
    passed = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    asked, since = [], []

    def pass_on(num, frame):
        asked.append(num)
        since.append(time.monotonic())
        try:
            proc.send_signal(num)
        except OSError:
            pass
    old = {}
    try:
        for sig_ in passed:
            if signal.getsignal(sig_) == signal.SIG_IGN:
                continue        # ignored by whoever started the command (nohup): the child ignores it too
            old[sig_] = signal.signal(sig_, pass_on)
    except ValueError:        # not the main thread: no handlers, the child still runs
        pass
    try:
        while True:
            try:
                rc = proc.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:     # asked to stop, and still running: end it
                if since and time.monotonic() - since[0] > GRACE_SECONDS:
                    proc.kill()
    finally:
        for sig_, h in old.items():
            signal.signal(sig_, h)
    if rc >= 0:
        return rc
    sig = -rc
    if sig == signal.SIGKILL and asked:
        sig = asked[0]                            # what was asked for, not how it was carried out
    name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
    where = work_hint(work, kind)
    if sig == signal.SIGABRT:
        print(f"jtls: error: {what}: JAX's distributed runtime ended this process ({name}): another process "
              f"of the run died or cannot be reached (process 0 holds JAX's coordination service: when it "
              f"dies, all stop), or two processes were started with the same --process-id; see the other "
              f"processes' output; {where}", file=sys.stderr, flush=True)
        return EXIT_TIMEOUT
    if sig in asked or sig in (signal.SIGINT, signal.SIGTERM) or sig == getattr(signal, "SIGHUP", None):
        how = f"stopped by {name}"
    elif sig == signal.SIGKILL:
        how = "killed (SIGKILL: by a user, the job scheduler, or the kernel for lack of memory)"
    else:
        how = f"crashed ({name})"
    print(f"jtls: error: {what}: the process was {how}; {where}", file=sys.stderr, flush=True)
    return 128 + sig
