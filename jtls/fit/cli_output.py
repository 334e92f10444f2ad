"""What ``jtls fit`` hands out for one file: the JSON document with its ``meta``, the command
that reproduces it, the crossover energies of ``--scattering``, and warnings as one line each.

:mod:`jtls.fit.cli` re-exports :func:`result_document`, :func:`run_meta` and
:func:`command_line` (other commands build their ``meta`` with them).
"""
from __future__ import annotations

import math
import os
import sys


def result_document(res, args, model) -> dict:
    """The JSON document of ``jtls fit`` (printed by --json, written by --out): ``meta``, the
    summary keys of :meth:`FitResult.summary_dict` and the complete result under ``result``."""
    weighting = list(res.weighting.values())
    meta = run_meta(args, args.file, command=command_line(args))
    meta["observable"] = model.name
    meta["weighting"] = weighting[0] if len(weighting) == 1 else res.weighting
    return {"meta": meta, **res.summary_dict(), "result": res.to_dict()}


def run_meta(args, path, command: str) -> dict:
    """``{"jtls_version", "date", "command", "input", "sha256"}`` of a command run on ``path``."""
    import datetime
    import hashlib
    from .. import __version__
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return {"jtls_version": __version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command, "input": os.path.abspath(path), "sha256": h.hexdigest()}


def command_line(args, parser=None, positional=("file",)) -> str:
    """``jtls COMMAND ...`` reproducing ``args``: the positionals and every option that differs
    from its default (shell-quoted).  For ``jtls fit`` the positional is ``args.file``, the one
    file of the fit in hand, so that the command of each file of a several-file run fits that
    file alone."""
    import shlex
    parser = parser or getattr(args, "_fit_parser", None)
    words = ["jtls", parser.prog.split()[-1] if parser else "fit"]
    words += [str(getattr(args, k)) for k in positional]
    for a in (parser._actions if parser else ()):
        if not a.option_strings or a.dest in ("help", "progress") or a.dest.startswith("_"):
            continue
        v = getattr(args, a.dest, None)
        if v is None or v is False or v == a.default:
            continue
        opt = max(a.option_strings, key=len)
        if v is True:
            words.append(opt)
        elif isinstance(v, list):
            for item in v:
                words += [opt] + ([str(x) for x in item] if isinstance(item, list) else [str(item)])
        else:
            words += [opt, str(v)]
    return shlex.join(words)


def one_line(message) -> str:
    return " ".join(str(message).split())


def warning_line(message, who: str = "") -> str:
    """``warning: MESSAGE`` in one line; ``who`` (``"PATH: "`` when several files are fitted)
    goes in front unless the message starts with it already."""
    msg = one_line(message)
    return f"warning: {msg if msg.startswith(who) else who + msg}"


def flush_warnings(caught, printed, who: str = "") -> None:
    """Warnings not yet shown (e.g. before an error): one line each on stderr."""
    for w in caught:
        msg = one_line(w.message)
        if msg not in printed:
            printed.add(msg)
            print(warning_line(msg, who), file=sys.stderr)


def crossovers(res, channels) -> dict:
    """Crossover energies (K) of the fitted channels, for the report and the JSON."""
    from ..observables.matthiessen import crossover_energies
    Eb, ER = crossover_energies(res.values["mu"], res.values["E_b1"], res.values["r_R"])
    out = {"channels": list(channels) or [k for k, p in (("boundary", "E_b1"), ("rayleigh", "r_R"))
                                          if p in res.free],
           "E_b_K": Eb, "E_R_K": ER}
    for name, key in (("E_b1", "E_b_upper95_K"), ("r_R", "E_R_lower95_K")):
        iv = res.intervals.get(name) or {}
        if name in res.at_bound and iv.get("high95") is not None and math.isfinite(iv["high95"]):
            e = crossover_energies(res.values["mu"], **{name: iv["high95"]})
            out[key] = e[0] if name == "E_b1" else e[1]
    return out


def crossover_text(d) -> str:
    parts = []
    if "boundary" in d["channels"]:
        s = f"E_b = {d['E_b_K']:.4g} K" if d["E_b_K"] > 0 else "no boundary scattering (E_b = 0)"
        if "E_b_upper95_K" in d:
            s += f", E_b < {d['E_b_upper95_K']:.3g} K (95%)"
        parts.append(s)
    if "rayleigh" in d["channels"]:
        s = f"E_R = {d['E_R_K']:.4g} K" if math.isfinite(d["E_R_K"]) else "no Rayleigh scattering (E_R = inf)"
        if "E_R_lower95_K" in d:
            s += f", E_R > {d['E_R_lower95_K']:.3g} K (95%)"
        parts.append(s)
    return ("crossover energies (boundary = E_b, rayleigh = E_R of jtls.thermal_conductivity_matthiessen): "
            + "; ".join(parts))
