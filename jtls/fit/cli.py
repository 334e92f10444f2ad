"""``jtls fit``: fit measured curves from the command line, one file or several in one process.

    jtls fit FILE [FILE ...] --observable {velocity,dielectric,thermal_conductivity,
                                           thermal_conductivity_matthiessen,specific_heat,
                                           resonator_shift,resonator_loss}
             [--scattering boundary,rayleigh] [--dos power_law|simulated]
             [--omega RAD_PER_S] [--T-ref K] [--A S^-1K^-3] [--power-dbm DBM] [--no-qp]
             [--fix NAME=VALUE ...] [--free NAME ...]
             [--tmin K] [--tmax K] [--flag-outliers] [--method lm|lbfgs]
             [--bootstrap N] [--intervals profile] [--posterior nuts [--samples N]
             [--chains K] [--seed S] [--metric auto|laplace|adapt]] [--encoding ENC]
             [--json] [--out DIR [--overwrite]] [--progress | --no-progress]

FILE is read by :func:`jtls.data.read_csv`: plain ``T,value[,sigma]`` CSV
(T in K), the annotated jtls format, or files as they come (title lines,
``;`` separators, decimal commas, units in the header).  The text report goes
to stdout.  ``--json`` prints, and ``--out DIR`` writes (as
``<stem>_<observable>[_<channels>].json``, beside a figure and, with
``--posterior``, a corner plot), one and the same JSON document::

    {"meta": {"jtls_version", "date", "command", "input", "sha256", "observable",
              "weighting"},
     "parameters": {NAME: {"value", "stderr", "at_bound", "fixed"[, "low", "high",
                    "low95", "high95"]}},
     "chi2", "reduced_chi2", "dof", "status", "message", "warnings", "absolute_sigma",
     "sigma_scaled", "tests": {"mu_zero": {"statistic", "p_value", ...}, "lack_of_fit": {...}},
     ["posterior": {NAME: {"mean", "sd", "q025", "q16", "q50", "q84", "q975",
                   "r_hat", "ess"}}, "posterior_info"], ["bootstrap": {...}],
     "result": {... the complete FitResult: FitResult.from_dict(doc["result"])}}

``meta`` says what produced it: the jtls version, the UTC date, the command
(``jtls fit ...`` with every option that differs from its default), the
input file (absolute path) and its SHA-256, the fitted observable and the
weighting of the residuals.  stderr is null where it is not a result (on a
physical bound, undetermined, fixed).  Existing files in ``--out`` are not
replaced unless ``--overwrite`` is given.

Several files: ``jtls fit a.csv b.csv ...`` fits every file with the same
options, in turn, in one process, so the JAX import and the compiled programs
are paid for once (data are padded to size buckets: files of similar length
share programs).  Every file is read and checked first (the data, the omega
or drive power it must supply, its ``--out`` names; two files with the same
stem cannot share an ``--out``): a bad one stops the run with exit code 2 and
a message naming it, before any fit.  The text report is one block per file
(each starting with ``file: PATH``), then one line ``PATH: status`` per file;
``--json`` prints JSON Lines, one document per file and line, each the one a
single-file run would print (its ``meta.command`` names that file alone).
Warning lines are prefixed with the file they belong to.  The exit code is 0
only when every fit's status is "ok".

Resonators: ``--no-qp`` (or ``--fix alpha=0``) switches the Mattis-Bardeen
quasiparticle term off -- alpha = 0 and its gap Delta is not fitted.  A
``resonator_shift`` file may hold absolute resonance frequencies (a column
``f``/``fr``/``f0``/``frequency``, or any column in Hz, kHz, MHz or GHz): they
are converted to delta f/f = (f - f_ref)/f_ref with the reference point
f_ref = f at the lowest temperature (T_ref), omega = 2 pi f_ref unless
``--omega`` is given; the report's notes and the JSON's
``result.extra.input_conversion`` state the conversion.  Values of
|delta f/f| >= 0.1 are refused (they cannot be a relative shift).  A
``resonator_loss`` file (fitted as Qi) whose column holds losses (``1/Qi``,
``loss``, ``tan delta``) is converted to Qi = 1/loss, stated the same way;
values below 1 are refused (they cannot be a Qi).

Thermal conductivity with extra phonon scattering (Matthiessen's rule):
``--scattering boundary``, ``rayleigh`` or ``boundary,rayleigh`` fits the
observable ``thermal_conductivity_matthiessen`` with the chosen channels
free (``E_b1`` in K, ``r_R``; see :func:`jtls.observables.matthiessen.kappa_scattering`);
the report adds the crossover energies E_b, E_R (K) of
:func:`jtls.thermal_conductivity_matthiessen` and the tests ``E_b1_zero``,
``r_R_zero`` say whether each channel is needed.

Warnings (e.g. a file whose name and power column disagree) are printed as
one line each, ``warning: ...`` (stderr with ``--json``), and listed in the
JSON's ``warnings``.  The exit code is 0 for status "ok", 1 for any other
status (vocabulary in :mod:`jtls.fit.inference`), 2 for bad input.

Compilation cache: the CLI turns on JAX's persistent compilation cache in
``$JTLS_JAX_CACHE`` (default ``$XDG_CACHE_HOME/jtls/jax`` or
``~/.cache/jtls/jax``) so that a repeated fit of the same shape skips
compilation, and keeps its compiled programs there as exported programs
(subfolder ``exported``, :mod:`jtls._exported`) so that a later process skips
tracing them too; ``JTLS_JAX_CACHE=off`` disables both, ``JTLS_EXPORTED=off``
only the latter.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

from .cli_inputs import (Labelled, check_numbers, posterior_settings, quantity_mismatch, quasiparticles_off,
                         relative_shift_input, scattering_channels, unit_of_number)
# run_meta and command_line are imported from here by other commands (jtls.anneal.cli)
from .cli_output import (command_line, crossover_text, crossovers, flush_warnings,  # noqa: F401
                         one_line, result_document, run_meta, warning_line, write_outputs)

CHOICES = ("velocity", "dielectric", "thermal_conductivity", "thermal_conductivity_matthiessen",
           "specific_heat", "resonator_shift", "resonator_loss")
#: Parameter names of every observable (what --fix/--free accept; the offset of relative data
#: included); tests/test_cli_workflows.py checks this table against the registry.
PARAMETERS = {
    "velocity": ("C", "mu", "A", "offset"),
    "dielectric": ("C_dip", "mu", "A", "offset"),
    "thermal_conductivity": ("B", "mu"),
    "thermal_conductivity_matthiessen": ("B", "mu", "E_b1", "r_R"),
    "specific_heat": ("B", "mu"),
    "resonator_shift": ("F_delta0", "mu", "Delta", "alpha", "offset"),
    "resonator_loss": ("F_delta0", "mu", "P_c_dBm", "beta", "Delta", "alpha", "loss_bg"),
}
#: --dos simulated: these replace mu (h0 held at 10 K unless --free h0)
SIMULATED_PARAMETERS = ("J0_h0", "h0")
#: observables whose model needs the probing frequency (and optionally T_ref)
_NEEDS_OMEGA = ("velocity", "dielectric", "resonator_shift", "resonator_loss")


_OFF = ("", "0", "off", "no", "false")


def cache_dir() -> str | None:
    """Directory of the persistent compilation cache (None when disabled)."""
    env = os.environ.get("JTLS_JAX_CACHE")
    if env is not None:
        return None if env.strip().lower() in _OFF else env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jtls", "jax")


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache (every compilation is stored) and the store of
    exported programs in its subfolder ``exported`` (:mod:`jtls._exported`)."""
    path = path or cache_dir()
    if not path:
        return None
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None  # an unwritable cache must not stop a fit
    import jax
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    enable_exported(path)
    return path


def enable_exported(path: str) -> str | None:
    """Turn on the store of exported programs in ``path/exported`` unless ``JTLS_EXPORTED`` is off."""
    if os.environ.get("JTLS_EXPORTED", "on").strip().lower() in _OFF:
        return None
    from .. import _exported
    return _exported.enable(os.path.join(path, "exported"))


class _Files(argparse.Action):
    """FILE [FILE ...]: the list as ``files``; ``file`` is the file in hand (the first one after
    parsing; each in turn while the files are fitted)."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.files = list(values)
        namespace.file = values[0]


def register(subparsers):
    from ..cli import plain_text
    paragraphs = __doc__.split("\n\n")
    p = subparsers.add_parser(
        "fit", help="fit measured curves (one file or several); --observable " + ", ".join(CHOICES),
        description=plain_text(paragraphs[0]),
        # the module docstring after the synopsis (formats, JSON schema, resonators, exit codes)
        epilog=plain_text("\n\n".join(paragraphs[2:])),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", metavar="FILE", nargs="+", action=_Files,
                   help="CSV file (T in K unless the header says otherwise); several files are all read "
                        "and checked first, then fitted in turn with the same options in one process")
    p.add_argument("--observable", required=True, choices=CHOICES,
                   help="what the value column is: velocity (Delta v/v), dielectric (Delta eps/eps), "
                        "thermal_conductivity (kappa; --scattering adds phonon channels), "
                        "thermal_conductivity_matthiessen (kappa with boundary/Rayleigh parameters), "
                        "specific_heat (C_v), resonator_shift (delta f/f0), resonator_loss (Qi)")
    p.add_argument("--scattering", default=None, metavar="CHANNELS",
                   help="thermal_conductivity: add phonon scattering by Matthiessen's rule, a comma-"
                        "separated subset of boundary,rayleigh (fits E_b1 and/or r_R; the report gives "
                        "the crossover energies E_b, E_R in K and the test of each channel)")
    p.add_argument("--dos", choices=("power_law", "simulated"), default="power_law",
                   help="density of states: power_law = Eq. (3), parameter mu (default); simulated = the "
                        "annealed DOS of Hamiltonian (2) from the shipped library, parameters J0_h0 (free) and "
                        "h0 (held at 10 K; --free h0 fits it) -- velocity, dielectric, thermal_conductivity, "
                        "specific_heat")
    p.add_argument("--omega", type=float, default=None,
                   help="probing (velocity, dielectric) or resonance (resonator_*) angular frequency in "
                        "rad/s; default: from the file's annotation")
    p.add_argument("--T-ref", dest="T_ref", type=float, default=None,
                   help="reference temperature (K) of the resonant term (default 1 K; 0.1 K for "
                        "resonator_shift; the offset absorbs it; not for resonator_loss)")
    p.add_argument("--A", dest="A", type=float, default=None,
                   help="resonator_*: relaxation constant A in s^-1 K^-3 of the relaxation term "
                        "(default 0: no relaxation term)")
    p.add_argument("--power-dbm", dest="power_dbm", type=float, default=None,
                   help="resonator_loss: drive power in dBm (default: from the file name / column, "
                        "as jtls.data.read_csv decides and reports)")
    p.add_argument("--no-qp", dest="no_qp", action="store_true",
                   help="resonator_*: no quasiparticle term (alpha = 0, Delta not fitted); --fix alpha=0 "
                        "does the same")
    p.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                   help="hold a parameter, e.g. --fix mu=0 for the STM.  Names: " +
                        "; ".join(f"{k}: {', '.join(v)}" for k, v in PARAMETERS.items()) +
                        "; with --dos simulated " + " and ".join(SIMULATED_PARAMETERS) +
                        " replace mu")
    p.add_argument("--free", action="append", default=[], nargs="+", metavar="NAME",
                   help="fit a parameter the observable holds fixed by default")
    p.add_argument("--tmin", type=float, default=None, help="lowest temperature fitted (K)")
    p.add_argument("--tmax", type=float, default=None, help="highest temperature fitted (K)")
    p.add_argument("--flag-outliers", action="store_true",
                   help="exclude points far off the local trend (listed in the report)")
    p.add_argument("--method", choices=("lm", "lbfgs"), default="lm",
                   help="solver: Levenberg-Marquardt (default) or optax L-BFGS")
    p.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="add N-resample bootstrap 68%% percentile intervals")
    p.add_argument("--intervals", choices=("profile",), default=None,
                   help="profile-likelihood 68.3%% and 95%% intervals of every free parameter "
                        "(parameters on a physical bound always get a one-sided one)")
    p.add_argument("--posterior", choices=("nuts",), default=None,
                   help="sample the posterior with NUTS (uniform priors within the physical bounds)")
    p.add_argument("--samples", type=int, default=None, metavar="N",
                   help="posterior draws per chain (default 1000; with --posterior)")
    p.add_argument("--chains", type=int, default=None, metavar="K", help="posterior chains (default 4)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="posterior random seed (default 0)")
    p.add_argument("--metric", choices=("auto", "laplace", "adapt"), default=None,
                   help="NUTS metric: the least-squares covariance with the step size tuned (laplace), "
                        "window adaptation of both (adapt), or laplace where that covariance is usable "
                        "(auto, the default)")
    p.add_argument("--encoding", default=None, metavar="ENC",
                   help="text encoding of FILE (default: detected -- byte-order mark, UTF-8, UTF-16, "
                        "cp1252, Latin-1 -- and noted in the report)")
    p.add_argument("--json", action="store_true",
                   help="print the result document (the same JSON as --out writes, with 'meta') instead "
                        "of the report")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write <stem>_<observable>.json (the --json document) and .png here, for each FILE "
                        "(files with the same stem are refused)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files in --out")
    from ..progress import add_progress_argument
    add_progress_argument(p)
    p.set_defaults(func=run, _fit_parser=p)
    return p


def run(args) -> int:
    """``jtls fit``: every file is read and checked, then each is fitted in turn in this process
    (compiled programs are reused).  Warnings come out as one clean line each."""
    import warnings
    files = list(getattr(args, "files", None) or [args.file])
    several = len(files) > 1
    with warnings.catch_warnings(record=True) as common:   # the options' warnings: every file's
        try:
            enable_compilation_cache()
            st = _settings(args)
        except BaseException:
            flush_warnings(common, set())
            raise
    st.warnings = common
    inputs = _read_all(args, files, st, several)      # a bad file stops the run before any fit
    from ..progress import from_args
    progress = from_args(args)
    results, blocks = [], 0
    for i, inp in enumerate(inputs):
        who = f"{inp.args.file}: " if several else ""
        if blocks and not args.json:
            print()                                   # a blank line between the files' reports
        try:
            res = _fit_one(inp, st, progress, who, f"[{i + 1}/{len(inputs)}] {who}" if several else "")
        except (ValueError, FileNotFoundError) as exc:
            if not several:
                raise
            # an error that only the fit itself could find: this file fails, the others go on
            print(f"jtls fit: error: {_named(exc, inp.args.file)}", file=sys.stderr)
            results.append((inp.args.file, None))
            continue
        blocks += 1
        results.append((inp.args.file, res))
    if several and not args.json:
        print()
        for path, res in results:
            print(f"{path}: {res.status if res is not None else 'error'}")
    if any(res is None for _, res in results):
        return 2
    return 0 if all(res.ok for _, res in results) else 1


def _settings(args) -> SimpleNamespace:
    """The options, checked once for all files: held and freed parameters, numbers, scattering
    channels and the model's settings (a model is built, so unknown names are refused here)."""
    from .model import SCATTERING_CHANNELS, Model
    from .params import parse_assignment
    pairs = [parse_assignment(f) for f in args.fix]
    fixed = dict(pairs)
    twice = sorted({k for k, _ in pairs if sum(k == q for q, _ in pairs) > 1})
    if twice:
        raise ValueError(f"--fix gives {', '.join(twice)} more than once ("
                         + "; ".join(f for f in args.fix if parse_assignment(f)[0] in twice) + "); give each once")
    free = [n for group in args.free for n in group]
    check_numbers(args)
    channels = scattering_channels(args)
    observable = "thermal_conductivity_matthiessen" if channels else args.observable
    qp_off = quasiparticles_off(args, fixed, free)
    ctx = _context(args)
    free = free + [SCATTERING_CHANNELS[c] for c in channels if SCATTERING_CHANNELS[c] not in free]
    model_kw = {"fixed": fixed, "free": free, "dos": None if args.dos == "power_law" else args.dos}
    Model(observable, **model_kw, **ctx)
    return SimpleNamespace(observable=observable, channels=channels, qp_off=qp_off, ctx=ctx,
                           model_kw=model_kw)


def _context(args) -> dict:
    """The model settings given as options (omega, T_ref, A, P_dBm), refused where they do not apply."""
    ctx = {}
    if args.observable.startswith("resonator_"):
        from .. import resonator  # noqa: F401  (registers resonator_shift / resonator_loss)
    if args.observable in _NEEDS_OMEGA:
        if args.omega is not None:
            ctx["omega"] = args.omega
        if args.T_ref is not None:
            if args.observable == "resonator_loss":
                raise ValueError("--T-ref does not apply to --observable resonator_loss")
            ctx["T_ref"] = args.T_ref
    elif args.omega is not None or args.T_ref is not None:
        raise ValueError(f"--omega/--T-ref do not apply to --observable {args.observable}")
    if args.observable.startswith("resonator_"):
        if args.A is not None:
            ctx["A"] = args.A
        if args.power_dbm is not None:
            if args.observable != "resonator_loss":
                raise ValueError("--power-dbm applies only to --observable resonator_loss")
            ctx["P_dBm"] = float(args.power_dbm)
    elif args.A is not None or args.power_dbm is not None:
        raise ValueError(f"--A/--power-dbm do not apply to --observable {args.observable}")
    return ctx


def _for_file(args, path) -> argparse.Namespace:
    """The options with ``path`` as the one FILE (its fit, its meta.command, its --out names)."""
    ns = argparse.Namespace(**vars(args))
    ns.file, ns.files = path, [path]
    return ns


def _named(exc, path):
    """``exc`` with a message that names ``path`` (prefixed unless it names it already)."""
    msg, path = str(exc), str(path)
    if msg.startswith(path) or msg.endswith(f": {path}"):
        return exc
    return (FileNotFoundError if isinstance(exc, FileNotFoundError) else ValueError)(f"{path}: {msg}")


def _read_all(args, files, st, several) -> list:
    """Every file read and checked, nothing fitted: its --out names, the data, the settings it
    must supply (omega, drive power), the points in the window.  A bad file raises ValueError
    naming it; the warnings of each file are kept for its own fit."""
    import warnings
    per_file = [_for_file(args, f) for f in files]
    if args.out and several:
        _check_distinct(args, per_file)
    inputs = []
    for a in per_file:
        with warnings.catch_warnings(record=True) as caught:   # the filters in force still apply
            try:
                inputs.append(_read(a, st, _check_outputs(a), caught))
            except BaseException as exc:
                flush_warnings(st.warnings, set())      # warnings seen so far, then the error
                for inp in inputs:
                    flush_warnings(inp.caught, set(), f"{inp.args.file}: ")
                flush_warnings(caught, set(), f"{a.file}: " if several else "")
                if several and isinstance(exc, (ValueError, FileNotFoundError)):
                    raise _named(exc, a.file) from None
                raise
    return inputs


def _check_distinct(args, per_file):
    """Two files whose --out names coincide (same stem, or one file given twice) are refused."""
    seen = {}
    for a in per_file:
        name = _out_stem(a)
        if name in seen:
            first = seen[name]
            same = Path(first).resolve() == Path(a.file).resolve()
            raise ValueError(f"--out {args.out}: " + (f"{a.file} is given twice" if same else
                             f"{first} and {a.file} would both write {name}.json") +
                             "; each file's outputs need their own name (fit them into separate --out folders)")
        seen[name] = a.file


def _read(args, st, outputs, caught) -> SimpleNamespace:
    """One file (``args.file``) read and checked for the settings ``st``."""
    from ..data import read_csv
    from .engine import check_problem
    from .model import Model
    kw = {"encoding": args.encoding} if args.encoding else {}
    ds = read_csv(args.file, **kw)
    sha256 = ds.sha256                  # of the bytes parsed: the fit's provenance, whatever the file does later
    if args.flag_outliers:
        ds = ds.flag_outliers()
    conversion = None
    if args.observable == "resonator_shift":
        ds, conversion = relative_shift_input(ds, args)
    elif args.observable == "resonator_loss":
        from .cli_inputs import quality_factor_input
        ds, conversion = quality_factor_input(ds, args.file)
    unit_of_number(ds, args.observable, args.file)
    ctx = dict(st.ctx)
    if args.observable == "resonator_loss" and "P_dBm" not in ctx:
        power = ds.meta.get("power_dBm")
        if power is None:
            raise ValueError(f"{args.file}: the drive power is unknown; give --power-dbm DBM")
        ctx["P_dBm"] = float(power)
    if args.observable in _NEEDS_OMEGA and "omega" not in ctx and ds.omega is None:
        raise ValueError(f"{args.file}: the probing frequency is unknown; give --omega RAD_PER_S")
    model = Model(st.observable, **st.model_kw, **ctx)
    label = ds.material or Path(args.file).stem
    data = ds if not label else Labelled(ds, label)
    # every check of the fit itself (points in the window, weighting, the observable's range)
    check_problem(model, data, tmin=args.tmin, tmax=args.tmax)
    return SimpleNamespace(args=args, ds=ds, data=data, model=model, conversion=conversion,
                           outputs=outputs, caught=caught, sha256=sha256)


def _fit_one(inp, st, progress, who: str, tag: str):
    """Fit one read file, print its report (or its document with --json), write its --out
    files; the FitResult.  ``who`` starts its warning lines, ``tag`` its progress lines."""
    import warnings
    from .engine import fit
    args, ds, model, observable = inp.args, inp.ds, inp.model, st.observable
    printed = set()
    with warnings.catch_warnings(record=True) as caught:   # this file's own warnings
        caught[:0] = st.warnings + inp.caught              # those of the options and its reading first
        try:
            post = posterior_settings(args)
            post_opts = {"num_samples": post["samples"], "num_chains": post["chains"], "seed": post["seed"],
                         "metric": post["metric"]}
            with progress.step(tag + _step_text(observable, ds, args)):
                res = fit(model, inp.data, tmin=args.tmin, tmax=args.tmax, method=args.method,
                          bootstrap=args.bootstrap, intervals=args.intervals, posterior=args.posterior,
                          posterior_options=post_opts if args.posterior else None)
            mismatch = quantity_mismatch(ds, args.observable)
            if mismatch:
                res.warnings.append(mismatch)
            # warnings raised while reading or fitting: into the result (once), printed as one line
            notes = [one_line(n) for n in getattr(ds, "notes", ())]
            for w in caught:
                msg = one_line(w.message)
                if issubclass(w.category, UserWarning) and msg not in res.warnings:
                    res.warnings.append(msg)       # about the data or the fit (not library deprecations)
                printed.add(msg)
            if observable == "thermal_conductivity_matthiessen":
                res.extra["scattering"] = crossovers(res, st.channels)
            if inp.conversion:
                res.extra["input_conversion"] = inp.conversion
            if st.qp_off:
                res.extra["quasiparticles"] = st.qp_off
            lib_text = None
            if args.dos == "simulated" and res.ok:
                from ..simulated.uncertainty import library_error
                res.extra["library_error"], lib_text = library_error(model, res)
            doc = result_document(res, args, model, sha256=inp.sha256)
            if args.json:
                print(json.dumps(doc))
                for w in caught:       # stdout is the JSON: the warnings (also in it) go to stderr
                    print(warning_line(w.message, who), file=sys.stderr)
            else:
                print(f"file: {args.file}")
                for n in notes:
                    if n not in printed:       # a note that is also a warning is listed once, as a warning
                        print(f"  note: {n}")
                print(res.report())
                for text in (lib_text, res.extra.get("scattering", {}).get("channels") and crossover_text(res.extra["scattering"]),
                             st.qp_off):
                    if text:
                        print(text)
                for w in caught:
                    if not issubclass(w.category, UserWarning):
                        print(warning_line(w.message, who), file=sys.stderr)
            if inp.outputs:
                write_outputs(inp, res, doc, observable, progress, tag)
            return res
        finally:
            flush_warnings(caught, printed, who)


def _step_text(observable, ds, args) -> str:
    """What the fit call does, for the progress line (compilation included)."""
    import numpy as np
    T = np.asarray(ds.T, float)
    n = int(np.sum((T >= (args.tmin or -np.inf)) & (T <= (args.tmax or np.inf))))
    extra = [f"{n} points"]
    if args.intervals:
        extra.append(f"{args.intervals} intervals")
    if args.posterior:
        post = posterior_settings(args)
        extra.append(f"{args.posterior.upper()} {post['chains']} x {post['samples']} draws")
    if args.bootstrap:
        extra.append(f"{args.bootstrap} bootstrap resamples")
    return f"fitting {observable} ({', '.join(extra)})"


def _check_outputs(args):
    """(json, png, corner) paths of --out, checked before any work: the folder is
    creatable and writable, and no existing file is replaced without --overwrite."""
    if not args.out:
        return None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")
    # a missing folder is made when the first file is written (a refused run leaves nothing
    # behind): its nearest existing parent must be a writable folder
    base = out
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise ValueError(f"--out {out}: cannot create the directory ({base} is not a directory)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: the directory is not writable" if base == out else
                         f"--out {out}: cannot create the directory ({base} is not writable)")
    stem = _out_stem(args)
    paths = (out / f"{stem}.json", out / f"{stem}.png", out / f"{stem}_corner.png")
    existing = [str(p) for p in paths[:2 + bool(args.posterior)] if p.exists()]
    if existing and not args.overwrite:
        raise ValueError(f"--out {out}: {', '.join(existing)} already exist(s); pass --overwrite to "
                         "replace, or choose another --out")
    return paths


def _out_stem(args) -> str:
    """``<stem>_<observable>[_simulated][_<channels>]``: the name of the --out files of ``args.file``."""
    stem = f"{Path(args.file).stem}_{args.observable}" + ("_simulated" if getattr(args, "dos", "power_law") == "simulated" else "")
    if getattr(args, "scattering", None):
        stem += "_" + "_".join(scattering_channels(args))
    return stem


if __name__ == "__main__":  # pragma: no cover
    from ..cli import main
    sys.exit(main(["fit"] + sys.argv[1:]))
