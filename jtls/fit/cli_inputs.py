"""The input half of ``jtls fit`` (:mod:`jtls.fit.cli`): checks of the options, and conversions
of a read file to what an observable fits (losses 1/Qi given for the Qi fit of
``resonator_loss``, absolute frequencies for ``resonator_shift``), the scattering channels,
the quasiparticle switch and the posterior settings."""
from __future__ import annotations

import math

import numpy as np

#: ``--scattering`` channels, in report order.
SCATTERING = ("boundary", "rayleigh")


def quality_factor_input(ds, file):
    """(dataset of Qi, conversion record or None) for ``--observable resonator_loss``, which fits
    the internal quality factor Qi (on ln Qi).  A file whose column says it holds losses (1/Qi,
    tan delta: quantity 'resonator_loss') is converted to Qi = 1/loss, with a note and the record
    that goes to ``result.extra.input_conversion``; values below 1 that the file calls Qi (or does
    not name) cannot be a quality factor and are refused (they are losses under another name)."""
    conversion = None
    if ds.quantity == "resonator_loss":
        ds = ds.as_quality_factor()
        conversion = {"from": "loss 1/Qi (the file's value column)", "to": "Qi = 1/loss",
                      "note": ds.notes[-1]}
    from ..resonator.models import quality_factor_values
    why = quality_factor_values(np.asarray(ds.value, float))
    if why:
        raise ValueError(f"{file}: {why}: if the column holds losses 1/Qi or tan delta, name it so in the "
                         "header (e.g. '1/Qi', 'loss', 'tan delta') and it is converted")
    return ds, conversion


def relative_shift_input(ds, args):
    """resonator_shift data as delta f/f: absolute resonance frequencies are converted
    (reference: the lowest-temperature point, stated in a note and returned); values that cannot
    be a relative shift are refused rather than fitted."""
    conversion = None
    if ds.quantity == "resonance_frequency":
        ds = ds.as_frequency_shift(omega=args.omega)
        conversion = {"from": f"absolute resonance frequency ({ds.meta['frequency_units'] or 'no unit'})",
                      "to": "delta f/f = (f - f_ref)/f_ref", "f_ref": ds.meta["f_ref"],
                      "f_ref_Hz": ds.meta["f_ref_Hz"], "T_ref_K": ds.T_ref, "omega_rad_s": ds.omega,
                      "note": ds.notes[-1]}
    from ..resonator.models import shift_values
    why = shift_values(np.asarray(ds.value, float))
    if why:
        raise ValueError(f"{args.file}: {why}; if the column holds absolute resonance frequencies, give its "
                         "unit in the header, e.g. 'f (GHz)', or name it 'frequency'")
    return ds, conversion


def quasiparticles_off(args, fixed, free) -> str | None:
    """--no-qp or --fix alpha=0: hold alpha = 0 and Delta (no effect then); the report line."""
    if not (args.no_qp or (args.observable.startswith("resonator_") and fixed.get("alpha") == 0.0)):
        return None
    if not args.observable.startswith("resonator_"):
        raise ValueError(f"--no-qp applies to --observable resonator_shift/resonator_loss, not {args.observable}")
    if "Delta" in free or "alpha" in free:
        raise ValueError("--no-qp (or --fix alpha=0) switches the quasiparticle term off: Delta and alpha "
                         "cannot be freed then")
    if fixed.get("alpha", 0.0) != 0.0:
        raise ValueError(f"--no-qp contradicts --fix alpha={fixed['alpha']:g}")
    from ..resonator.models import QP_OFF
    fixed["alpha"] = 0.0
    given = "Delta" in fixed
    fixed.setdefault("Delta", QP_OFF["Delta"])
    return ("quasiparticle term off (alpha = 0): Delta is not fitted" +
            ("" if given else f" (held at {QP_OFF['Delta']:g} K, which has no effect)"))


def scattering_channels(args) -> list:
    """The --scattering channels (validated), [] without the option."""
    if args.scattering is None:
        return []
    channels = [c.strip().lower() for c in args.scattering.split(",") if c.strip()]
    bad = [c for c in channels if c not in SCATTERING]
    if bad or not channels:
        raise ValueError(f"--scattering takes a comma-separated subset of {','.join(SCATTERING)}, "
                         f"got {args.scattering!r}")
    if args.observable not in ("thermal_conductivity", "thermal_conductivity_matthiessen"):
        raise ValueError(f"--scattering applies to --observable thermal_conductivity, not "
                         f"{args.observable}")
    if args.dos != "power_law":
        raise ValueError("--scattering is available with the Eq. (3) DOS (--dos power_law) only")
    return sorted(set(channels), key=SCATTERING.index)


#: Defaults of the posterior options (given without --posterior they are refused).
POSTERIOR_DEFAULTS = {"samples": 1000, "chains": 4, "seed": 0, "metric": "auto"}


def posterior_settings(args) -> dict:
    """The posterior options as given, the defaults where not (``args`` keeps None there, so
    the recorded command line lists only what the user gave)."""
    return {k: (v if getattr(args, k) is None else getattr(args, k)) for k, v in POSTERIOR_DEFAULTS.items()}


def check_numbers(args):
    """Reject settings that cannot be right, naming the option."""
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
    if args.bootstrap < 0 or args.bootstrap == 1:
        raise ValueError(f"--bootstrap must be 0 (none) or >= 2 resamples, got {args.bootstrap}")
    given = [f"--{k}" for k in POSTERIOR_DEFAULTS if getattr(args, k) is not None]
    if given and not args.posterior:
        raise ValueError(f"{', '.join(given)} only apply to the posterior: add --posterior nuts, or leave "
                         f"{'them' if len(given) > 1 else 'it'} out")
    post = posterior_settings(args)
    if post["samples"] < 10:
        raise ValueError(f"--samples must be >= 10, got {post['samples']}")
    if post["chains"] < 1:
        raise ValueError(f"--chains must be >= 1, got {post['chains']}")


#: Dataset quantities each observable can be fitted to (besides 'unknown').
_COMPATIBLE = {"resonator_loss": ("resonator_loss", "quality_factor"),
               "velocity": ("velocity",), "dielectric": ("dielectric",),
               "thermal_conductivity": ("thermal_conductivity",), "specific_heat": ("specific_heat",),
               "thermal_conductivity_matthiessen": ("thermal_conductivity",),
               "resonator_shift": ("resonator_shift", "resonance_frequency")}


def quantity_mismatch(ds, observable) -> str | None:
    q = getattr(ds, "quantity", "unknown") or "unknown"
    if q == "unknown" or q in _COMPATIBLE.get(observable, (observable,)):
        return None
    return (f"the file's header says its values are {q!r}, but they were fitted as {observable!r}; "
            "check --observable")


class Labelled:
    """A dataset seen under a label (keeps omega, T_ref, excluded, sigma)."""

    def __init__(self, ds, label):
        self._ds = ds
        self.label = label

    def __getattr__(self, name):
        return getattr(self._ds, name)


#: Observables whose values are pure numbers (relative shifts, quality factors).
DIMENSIONLESS = ("velocity", "dielectric", "resonator_shift", "resonator_loss")


def unit_of_number(ds, observable, file) -> None:
    """Refuse values in a unit (other than a pure number) for an observable whose values are pure
    numbers: e.g. a column 'signal (a.u.)' fitted as velocity would give C in arbitrary units.
    (:func:`jtls.data.read_csv` converts %, ppm, 1e-5 ... to plain numbers; its unit is then '1'.)"""
    units = (getattr(ds, "units", "") or "").strip()
    if observable in DIMENSIONLESS and units not in ("", "1"):
        raise ValueError(f"{file}: the values are in {units!r}, but --observable {observable} fits pure "
                         "numbers (a relative shift, a quality factor): give them as plain numbers, or "
                         "with a pure-number unit in the header ('%', 'ppm', '1e-5'), which is converted")
