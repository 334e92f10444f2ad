"""``jtls fit``: fit one measured curve from the command line.

    jtls fit FILE --observable {velocity,dielectric,thermal_conductivity,specific_heat,
                                resonator_shift,resonator_loss}
             [--omega RAD_PER_S] [--T-ref K] [--A S^-1K^-3] [--power-dbm DBM]
             [--fix NAME=VALUE ...] [--free NAME ...]
             [--tmin K] [--tmax K] [--flag-outliers] [--method lm|lbfgs]
             [--bootstrap N] [--intervals profile] [--posterior nuts [--samples N]
             [--chains K] [--seed S]] [--encoding ENC] [--json] [--out DIR [--overwrite]]

FILE is read by :func:`jtls.data.read_csv`: plain ``T,value[,sigma]`` CSV
(T in K), the annotated jtls format, or files as they come (title lines,
``;`` separators, decimal commas, units in the header).  The text report goes
to stdout; with ``--json`` stdout is one JSON object
``{"parameters": {NAME: {"value", "stderr", "at_bound"[, "low", "high", "low95",
"high95"]}}, "chi2", "reduced_chi2", "dof", "status", "message", "warnings",
"tests": {"mu_zero": {"statistic", "p_value"}, "lack_of_fit": {...}},
["posterior": {NAME: {"mean", "sd", "q025", "q16", "q50", "q84", "q975",
"r_hat", "ess"}}]}`` (stderr is null where it is not a result: on a
physical bound, undetermined, fixed).  With ``--out DIR`` the full result
(JSON), a figure (PNG) and, with ``--posterior``, a corner plot are written
there; existing files are not replaced unless ``--overwrite`` is given.
The exit code is 0 for status "ok", 1 for any other status (vocabulary in
:mod:`jtls.fit.inference`), 2 for bad input.

Compilation cache: the CLI turns on JAX's persistent compilation cache in
``$JTLS_JAX_CACHE`` (default ``$XDG_CACHE_HOME/jtls/jax`` or
``~/.cache/jtls/jax``) so that a repeated fit of the same shape skips
compilation; ``JTLS_JAX_CACHE=off`` disables it.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

CHOICES = ("velocity", "dielectric", "thermal_conductivity", "specific_heat",
           "resonator_shift", "resonator_loss")
#: observables whose model needs the probing frequency (and optionally T_ref)
_NEEDS_OMEGA = ("velocity", "dielectric", "resonator_shift", "resonator_loss")


def cache_dir() -> str | None:
    """Directory of the persistent compilation cache (None when disabled)."""
    env = os.environ.get("JTLS_JAX_CACHE")
    if env is not None:
        return None if env.strip().lower() in ("", "0", "off", "no", "false") else env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "jtls", "jax")


def enable_compilation_cache(path: str | None = None) -> str | None:
    """Turn on JAX's persistent compilation cache (every compilation is stored)."""
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
    return path


def register(subparsers):
    p = subparsers.add_parser(
        "fit", help="fit a measured curve (velocity, dielectric, thermal conductivity, specific heat)",
        description=__doc__.split("\n\n")[0])
    p.add_argument("file", metavar="FILE", help="CSV file (T in K unless the header says otherwise)")
    p.add_argument("--observable", required=True, choices=CHOICES,
                   help="what the value column is (Delta v/v, Delta eps/eps, kappa, C_v)")
    p.add_argument("--dos", choices=("power_law", "simulated"), default="power_law",
                   help="density of states: power_law = Eq. (3), parameter mu (default); simulated = the "
                        "annealed DOS of Hamiltonian (2) from the shipped library, parameters J0_h0 (free) and "
                        "h0 (held at 10 K; --free h0 fits it) -- velocity, dielectric, thermal_conductivity, "
                        "specific_heat")
    p.add_argument("--omega", type=float, default=None,
                   help="probing angular frequency in rad/s (velocity, dielectric); "
                        "default: from the file's annotation")
    p.add_argument("--T-ref", dest="T_ref", type=float, default=None,
                   help="reference temperature (K) of the resonant term (default 1 K; the offset "
                        "absorbs it)")
    p.add_argument("--A", dest="A", type=float, default=None,
                   help="resonator_*: relaxation constant A in s^-1 K^-3 of the relaxation term "
                        "(default 0: no relaxation term)")
    p.add_argument("--power-dbm", dest="power_dbm", type=float, default=None,
                   help="resonator_loss: drive power in dBm (default: from the file name / column, "
                        "as jtls.data.read_csv decides and reports)")
    p.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE",
                   help="hold a parameter (C, C_dip, mu, A, B, offset), e.g. --fix mu=0 for the STM")
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
    p.add_argument("--samples", type=int, default=1000, metavar="N", help="posterior draws per chain")
    p.add_argument("--chains", type=int, default=4, metavar="K", help="posterior chains")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="posterior random seed")
    p.add_argument("--encoding", default=None, metavar="ENC",
                   help="text encoding of FILE (default: detected -- byte-order mark, UTF-8, UTF-16, "
                        "cp1252, Latin-1 -- and noted in the report)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    p.add_argument("--out", default=None, metavar="DIR", help="write <stem>_<observable>.json/.png here")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files in --out")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    enable_compilation_cache()
    from ..data import read_csv
    from .engine import fit
    from .model import Model
    from .params import parse_assignment

    fixed = dict(parse_assignment(f) for f in args.fix)
    free = [n for group in args.free for n in group]
    _check_numbers(args)
    outputs = _check_outputs(args)            # before any work: never fit and then fail to write
    kw = {"encoding": args.encoding} if args.encoding else {}
    ds = read_csv(args.file, **kw)
    if args.flag_outliers:
        ds = ds.flag_outliers()
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
        if args.observable == "resonator_loss":
            power = args.power_dbm if args.power_dbm is not None else ds.meta.get("power_dBm")
            if power is None:
                raise ValueError(f"{args.file}: the drive power is unknown; give --power-dbm DBM")
            ctx["P_dBm"] = float(power)
        elif args.power_dbm is not None:
            raise ValueError("--power-dbm applies only to --observable resonator_loss")
    elif args.A is not None or args.power_dbm is not None:
        raise ValueError(f"--A/--power-dbm do not apply to --observable {args.observable}")
    if args.observable in _NEEDS_OMEGA and "omega" not in ctx and ds.omega is None:
        raise ValueError(f"{args.file}: the probing frequency is unknown; give --omega RAD_PER_S")
    model = Model(args.observable, fixed=fixed, free=free,
                  dos=None if args.dos == "power_law" else args.dos, **ctx)
    label = ds.material or Path(args.file).stem
    post_opts = {"num_samples": args.samples, "num_chains": args.chains, "seed": args.seed}
    res = fit(model, ds if not label else _Labelled(ds, label), tmin=args.tmin, tmax=args.tmax,
              method=args.method, bootstrap=args.bootstrap, intervals=args.intervals,
              posterior=args.posterior, posterior_options=post_opts if args.posterior else None)
    mismatch = _quantity_mismatch(ds, args.observable)
    if mismatch:
        res.warnings.append(mismatch)
    if args.json:
        print(json.dumps(res.summary_dict()))
    else:
        print(f"file: {args.file}")
        for n in getattr(ds, "notes", ()):
            print(f"  note: {n}")
        print(res.report())
        if mismatch:
            print(f"warning: {mismatch}")
    if outputs:
        json_path, png_path, corner_path = outputs
        res.to_json(json_path)
        from .plot import plot_result
        plot_result(res, png_path, title=f"{Path(args.file).name}: {args.observable}")
        written = [json_path, png_path]
        if args.posterior and "posterior" in res.extra:
            from .corner import corner_plot
            corner_plot(res.extra["posterior"], res, corner_path)
            written.append(corner_path)
        if not args.json:
            print("wrote " + ", ".join(str(w) for w in written))
    return 0 if res.ok else 1


def _check_numbers(args):
    """Reject settings that cannot be right, naming the option."""
    import math
    for name, v in (("--omega", args.omega), ("--T-ref", args.T_ref)):
        if v is not None and not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v}")
    if args.A is not None and not (math.isfinite(args.A) and args.A >= 0):
        raise ValueError(f"--A must be a finite number >= 0, got {args.A}")
    for name, v in (("--tmin", args.tmin), ("--tmax", args.tmax)):
        if v is not None and not (math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite temperature > 0 K, got {v}")
    if args.tmin is not None and args.tmax is not None and args.tmin >= args.tmax:
        raise ValueError(f"--tmin ({args.tmin}) must be below --tmax ({args.tmax})")
    if args.bootstrap < 0:
        raise ValueError("--bootstrap must be >= 0")
    if args.samples < 10:
        raise ValueError(f"--samples must be >= 10, got {args.samples}")
    if args.chains < 1:
        raise ValueError(f"--chains must be >= 1, got {args.chains}")


def _check_outputs(args):
    """(json, png, corner) paths of --out, checked before any work: the folder is
    creatable and writable, and no existing file is replaced without --overwrite."""
    if not args.out:
        return None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: the directory is not writable")
    stem = f"{Path(args.file).stem}_{args.observable}" + ("_simulated" if getattr(args, "dos", "power_law") == "simulated" else "")
    paths = (out / f"{stem}.json", out / f"{stem}.png", out / f"{stem}_corner.png")
    existing = [str(p) for p in paths[:2 + bool(args.posterior)] if p.exists()]
    if existing and not args.overwrite:
        raise ValueError(f"--out {out}: {', '.join(existing)} already exist(s); pass --overwrite to "
                         "replace, or choose another --out")
    return paths


#: Dataset quantities each observable can be fitted to (besides 'unknown').
_COMPATIBLE = {"resonator_loss": ("resonator_loss", "quality_factor"),
               "velocity": ("velocity",), "dielectric": ("dielectric",),
               "thermal_conductivity": ("thermal_conductivity",), "specific_heat": ("specific_heat",),
               "resonator_shift": ("resonator_shift",)}


def _quantity_mismatch(ds, observable) -> str | None:
    q = getattr(ds, "quantity", "unknown") or "unknown"
    if q == "unknown" or q in _COMPATIBLE.get(observable, (observable,)):
        return None
    return (f"the file's header says its values are {q!r}, but they were fitted as {observable!r}; "
            "check --observable")


class _Labelled:
    """A dataset seen under a label (keeps omega, T_ref, excluded, sigma)."""

    def __init__(self, ds, label):
        self._ds = ds
        self.label = label

    def __getattr__(self, name):
        return getattr(self._ds, name)


if __name__ == "__main__":  # pragma: no cover
    from ..cli import main
    sys.exit(main(["fit"] + sys.argv[1:]))
