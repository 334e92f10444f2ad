"""What ``jtls fit`` hands out for one file: the JSON document with its ``meta``, the command
that reproduces it, the crossover energies of ``--scattering``, warnings as one line each, and
the ``--out`` files (written whole, never replacing a file without ``--overwrite``).

:mod:`jtls.fit.cli` re-exports :func:`result_document`, :func:`run_meta` and
:func:`command_line` (other commands build their ``meta`` with them).
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path


def result_document(res, args, model, sha256: str | None = None) -> dict:
    """The JSON document of ``jtls fit`` (printed by --json, written by --out): ``meta``, the
    summary keys of :meth:`FitResult.summary_dict` and the complete result under ``result``.
    ``sha256``: of the bytes the data were parsed from (default: the file hashed now)."""
    weighting = list(res.weighting.values())
    meta = run_meta(args, args.file, command=command_line(args), sha256=sha256)
    meta["observable"] = model.name
    meta["weighting"] = weighting[0] if len(weighting) == 1 else res.weighting
    return {"meta": meta, **res.summary_dict(), "result": res.to_dict()}


def run_meta(args, path, command: str, sha256: str | None = None) -> dict:
    """``{"jtls_version", "date", "command", "input", "sha256"}`` of a command run on ``path``;
    ``sha256`` of the bytes the command read (default: ``path`` hashed now)."""
    import datetime
    import hashlib
    from .. import __version__
    if sha256 is None:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        sha256 = h.hexdigest()
    return {"jtls_version": __version__,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command, "input": os.path.abspath(path), "sha256": sha256}


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


def write_outputs(inp, res, doc, observable, progress, tag):
    """The --out files of one fit: the JSON document, the figure, with --posterior a corner plot.

    All are written to temporary files first, then put in place together: without --overwrite
    each by an exclusive link, so a file that appeared since the check before the fits (another
    job writing the same --out) is not replaced -- this file's outputs are then not written, and
    an error says so; a failed write (disk full) leaves no partial output.  ValueError naming the
    file otherwise."""
    args = inp.args
    json_path, png_path, corner_path = inp.outputs
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {json_path.parent}: cannot create the directory ({exc.strerror})") from None
    targets = [json_path, png_path] + ([corner_path] if args.posterior and "posterior" in res.extra else [])
    tmp = {p: p.with_name(f".{p.stem}.tmp-{os.getpid()}{p.suffix}") for p in targets}
    try:
        current = json_path
        try:
            tmp[json_path].write_text(json.dumps(doc, indent=1) + "\n")
            import matplotlib
            matplotlib.use("Agg")           # the command line's own process draws into files only
            from .plot import plot_result
            current = png_path
            with progress.step(f"{tag}writing {png_path.name}"):
                plot_result(res, tmp[png_path], title=f"{Path(args.file).name}: {observable}", units=inp.ds.units)
            if corner_path in tmp:
                from .corner import corner_plot
                current = corner_path
                corner_plot(res.extra["posterior"], res, tmp[corner_path])
        except OSError as exc:
            raise ValueError(f"--out: cannot write {current} ({exc.strerror or exc}); none of the outputs "
                             f"of {args.file} was written") from None
        put_in_place(tmp, args.overwrite)
    finally:
        for t in tmp.values():
            try:
                t.unlink()
            except OSError:
                pass
    if not args.json:
        print("wrote " + ", ".join(str(w) for w in targets))


def put_in_place(tmp: dict, overwrite: bool) -> None:
    """Move the written temporaries ``{final: temporary}`` to their names; without ``overwrite``
    none replaces an existing file (and if one would, those already placed are removed again)."""
    placed = []
    try:
        for final, t in tmp.items():
            if overwrite:
                os.replace(t, final)
                continue
            try:
                os.link(t, final)
            except FileExistsError:
                raise ValueError(f"--out: {final} appeared while the files were fitted (another run writing "
                                 "into the same --out?); it is kept and this file's outputs were not "
                                 "written: pass --overwrite to replace, or choose another --out") from None
            except OSError:                  # no hard links here: exclusive creation, then a copy
                try:
                    with open(final, "xb") as f:
                        f.write(t.read_bytes())
                except FileExistsError:
                    raise ValueError(f"--out: {final} appeared while the files were fitted; it is kept and "
                                     "this file's outputs were not written") from None
            placed.append(final)
    except OSError as exc:
        for p in placed:
            p.unlink(missing_ok=True)
        raise ValueError(f"--out: cannot write {exc.filename or list(tmp)[0]} ({exc.strerror or exc})") from None
    except ValueError:
        for p in placed:
            p.unlink(missing_ok=True)
        raise
