"""Command line: ``jtls COMMAND ...`` (also ``python -m jtls COMMAND ...``).

Each sub-command lives in the module that owns its feature and exposes
``register(subparsers)``, which adds its parser(s) and sets ``func`` (a
callable taking the parsed namespace and returning an exit code).  Modules
are imported lazily so that ``jtls --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

#: Modules that contribute sub-commands, in the order they appear in --help.
COMMAND_MODULES = [
    "jtls.demo",          # jtls demo: the README main job
    "jtls.fit.cli",       # jtls fit
    "jtls.anneal.cli",    # jtls anneal, jtls dos-fit
    "jtls.simulated.cli",  # jtls library build / pack / info
]


_ROLE = re.compile(r":(?:py:)?(?:func|mod|class|meth|data|attr|obj|exc|ref|doc):`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def plain_text(text: str) -> str:
    """reST of a docstring as plain text for ``--help``: a literal in double backquotes
    loses them (punctuation-only literals get single quotes), a role such as
    ``:func:`~jtls.x``` becomes ``jtls.x``, a trailing ``::`` becomes ``:``."""
    text = _ROLE.sub(lambda m: m.group(1), text)
    # a literal of punctuation only (e.g. ``;``) keeps quotes, or it would vanish into the prose
    text = re.sub(r"``([^`]*)``", lambda m: m.group(1) if re.search(r"\w", m.group(1))
                  else f"'{m.group(1)}'", text)
    return re.sub(r"::$", ":", text, flags=re.M)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="jtls", description=plain_text(__doc__.splitlines()[0]))
    parser.add_argument("--version", action="version", version=f"jtls {__version__}",
                        help="print the version of jtls and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # feature not installed in this build
            raise
        mod.register(sub)
    return parser


#: Exit status when the reader of stdout closed it early (``jtls ... | head``): that of a process
#: ended by SIGPIPE, 128 + 13, as ``yes | head`` reports for ``yes``.
CLOSED_PIPE = 141


def main(argv=None) -> int:
    """Run ``jtls`` with the arguments ``argv`` (default: the command line); returns the exit code.

    A closed stdout (the reader of a pipe stopped, ``jtls dos-fit run.npz --json | head -1``)
    ends the command quietly with :data:`CLOSED_PIPE`, without a traceback."""
    try:
        return _main(argv)
    except BrokenPipeError:
        _discard_stdout()
        return CLOSED_PIPE


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)          # (argparse itself ignores a closed pipe for --help)
    args._argv = list(sys.argv[1:] if argv is None else argv)       # (a supervised child reruns them)
    if not getattr(args, "func", None):
        parser.print_help()
        sys.stdout.flush()
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()          # what is still buffered reaches the reader (or fails) here
        return code
    except (ValueError, FileNotFoundError) as exc:
        print(f"jtls {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _discard_stdout() -> None:
    """Point stdout at the null device, so that Python's flush at exit does not fail a second time
    on the closed pipe (and print 'Exception ignored ... BrokenPipeError')."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):     # stdout without a file descriptor (captured)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
