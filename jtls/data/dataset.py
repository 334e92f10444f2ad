"""The :class:`Dataset` container, exclusions and robust outlier flags (see :mod:`jtls.data`)."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

import numpy as np

#: Known physical quantities (``Dataset.quantity``).
QUANTITIES = ("velocity", "dielectric", "thermal_conductivity", "specific_heat",
              "resonator_shift", "resonator_loss", "quality_factor", "internal_friction",
              "resonance_frequency", "unknown")
#: Quantities that must be > 0 (fitted on a log scale).
POSITIVE_QUANTITIES = frozenset({"thermal_conductivity", "specific_heat", "resonator_loss",
                                 "quality_factor", "internal_friction", "resonance_frequency"})
#: Quantities that are pure numbers (relative changes, ratios, Q): :func:`jtls.data.read_csv`
#: converts a pure-number unit of their column (%, ppm, 1e-5) and refuses any other unit.
DIMENSIONLESS_QUANTITIES = frozenset({"velocity", "dielectric", "resonator_shift", "resonator_loss",
                                      "quality_factor", "internal_friction"})
#: Units of an absolute resonance frequency (quantity 'resonance_frequency'), in Hz.
FREQUENCY_UNITS = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}


class DataWarning(UserWarning):
    """A reader decision the user should know about (also kept in ``Dataset.notes``)."""


class ExcludedPoint(NamedTuple):
    """A point removed from a dataset: original row index (0-based), T (K), value, why."""
    index: int
    T: float
    value: float
    reason: str


def _ro(a, dtype=float):
    a = np.array(a, dtype=dtype, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Dataset:
    """One measured curve value(T), immutable; arrays are read-only copies.

    Made by :func:`jtls.data.read_csv` or directly; the constructor checks
    lengths, finiteness, T > 0 and distinct, sigma > 0 and value > 0 for the
    :data:`POSITIVE_QUANTITIES` (a ``ValueError`` names what is wrong).

    Attributes
    ----------
    T : numpy.ndarray
        (n,) temperatures in K (float64, > 0, distinct; file order kept).
    value : numpy.ndarray
        (n,) measured values in ``units``.
    sigma : numpy.ndarray or None
        (n,) one-standard-deviation uncertainties (> 0), or None.
    quantity : str
        One of :data:`QUANTITIES`.
    units : str
        Units of ``value``/``sigma`` (free text, e.g. "W/m/K", "1"; :func:`jtls.data.read_csv`
        turns pure-number units such as "%", "ppm" or "1e-5" into plain numbers, "1").
    material : str
        Sample name.
    omega : float or None
        Probing angular frequency in rad/s.
    T_ref : float or None
        Reference temperature (K) of relative data.
    source : str
        Path of the file read.
    provenance : str
        Where the numbers come from (title line, paper, ...).
    extra : Mapping[str, numpy.ndarray]
        Further columns, name -> (n,) array.
    meta : Mapping[str, Any]
        Scalar metadata (e.g. ``power_dBm`` and ``power_dBm_source``).
    notes : tuple of str
        Reader decisions and warnings, human readable.
    excluded : tuple of ExcludedPoint
        Points removed by :meth:`window` / :meth:`exclude` / :meth:`flag_outliers`.
    index : numpy.ndarray
        (n,) original row index of each point (0-based data rows).
    line : numpy.ndarray or None
        (n,) 1-based file line of each point.
    sha256 : str or None
        SHA-256 (hex) of the file's bytes the data were parsed from (:func:`jtls.data.read_csv`):
        the provenance ``jtls fit`` records, whatever happens to the file afterwards.

    Examples
    --------
    >>> from jtls.data import Dataset
    >>> ds = Dataset(T=[0.05, 0.1, 0.2, 0.4], value=[1e-6, 4e-6, 1.6e-5, 6.4e-5],
    ...              quantity="thermal_conductivity", units="W/m/K")
    >>> w = ds.window(tmax=0.25)
    >>> w.T, len(w.excluded)
    (array([0.05, 0.1 , 0.2 ]), 1)
    >>> w.excluded[0].reason
    'outside T window [None, 0.25] K'
    """
    T: np.ndarray
    value: np.ndarray
    sigma: np.ndarray | None = None
    quantity: str = "unknown"
    units: str = ""
    material: str = ""
    omega: float | None = None
    T_ref: float | None = None
    source: str = ""
    provenance: str = ""
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)
    meta: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple = ()
    excluded: tuple = ()
    index: np.ndarray | None = None
    line: np.ndarray | None = None
    sha256: str | None = None

    def __post_init__(self):
        s = object.__setattr__
        T, v = _ro(self.T), _ro(self.value)
        if T.ndim != 1 or v.ndim != 1 or T.shape != v.shape:
            raise ValueError(f"Dataset: mismatched lengths: T {T.shape}, value {v.shape}")
        n = T.shape[0]
        sig = None if self.sigma is None else _ro(self.sigma)
        if sig is not None and sig.shape != (n,):
            raise ValueError(f"Dataset: mismatched lengths: T {T.shape}, sigma {sig.shape}")
        idx = np.arange(n) if self.index is None else _ro(self.index, int)
        if idx.shape != (n,):
            raise ValueError(f"Dataset: mismatched lengths: T {T.shape}, index {idx.shape}")
        line = None if self.line is None else _ro(self.line, int)
        extra = {}
        for k, a in dict(self.extra).items():
            a = _ro(a) if np.asarray(a).dtype.kind in "fiub" else _ro(a, object)
            if a.shape != (n,):
                raise ValueError(f"Dataset: mismatched lengths: T {T.shape}, extra[{k!r}] {a.shape}")
            extra[k] = a
        if self.quantity not in QUANTITIES:
            raise ValueError(f"Dataset: unknown quantity {self.quantity!r}; expected one of {QUANTITIES}")
        where = f" ({self.source})" if self.source else ""
        for name, a in (("T", T), ("value", v), ("sigma", sig)):
            if a is not None and not np.all(np.isfinite(a)):
                i = int(np.flatnonzero(~np.isfinite(a))[0])
                raise ValueError(f"Dataset{where}: {name}[{i}] is not finite")
        if np.any(T <= 0):
            i = int(np.flatnonzero(T <= 0)[0])
            raise ValueError(f"Dataset{where}: T[{i}] = {float(T[i])!r} K is not positive")
        if sig is not None and np.any(sig <= 0):
            i = int(np.flatnonzero(sig <= 0)[0])
            raise ValueError(f"Dataset{where}: sigma[{i}] = {float(sig[i])!r} is not positive")
        if self.quantity in POSITIVE_QUANTITIES and np.any(v <= 0):
            i = int(np.flatnonzero(v <= 0)[0])
            raise ValueError(f"Dataset{where}: value[{i}] = {float(v[i])!r} is not positive "
                             f"(quantity {self.quantity!r} must be > 0)")
        u, c = np.unique(T, return_counts=True)
        if np.any(c > 1):
            raise ValueError(f"Dataset{where}: duplicate temperature T = {float(u[c > 1][0])!r} K")
        s(self, "T", T); s(self, "value", v); s(self, "sigma", sig); s(self, "index", idx)
        s(self, "line", line); s(self, "extra", extra); s(self, "meta", dict(self.meta))
        s(self, "notes", tuple(self.notes))
        s(self, "excluded", tuple(ExcludedPoint(*e) for e in self.excluded))
        for name in ("omega", "T_ref"):
            val = getattr(self, name)
            if val is not None:
                val = float(val)
                if not (math.isfinite(val) and val > 0):
                    raise ValueError(f"Dataset: {name} = {val!r} must be finite and > 0")
                s(self, name, val)

    def __len__(self):
        return int(self.T.shape[0])

    def replace(self, **changes) -> "Dataset":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def _subset(self, keep: np.ndarray, reason_of) -> "Dataset":
        """Keep points where ``keep``; the others go to ``excluded`` with reason_of(i)."""
        drop = np.flatnonzero(~keep)
        new_ex = tuple(ExcludedPoint(int(self.index[i]), float(self.T[i]), float(self.value[i]),
                                     reason_of(i)) for i in drop)
        return dataclasses.replace(
            self, T=self.T[keep], value=self.value[keep],
            sigma=None if self.sigma is None else self.sigma[keep],
            extra={k: a[keep] for k, a in self.extra.items()}, index=self.index[keep],
            line=None if self.line is None else self.line[keep],
            excluded=self.excluded + new_ex)

    def window(self, tmin: float | None = None, tmax: float | None = None) -> "Dataset":
        """Keep tmin <= T <= tmax (K); points outside are listed in ``excluded``."""
        lo = -np.inf if tmin is None else float(tmin)
        hi = np.inf if tmax is None else float(tmax)
        if not lo < hi:
            raise ValueError(f"window: tmin = {tmin!r} must be below tmax = {tmax!r}")
        keep = (self.T >= lo) & (self.T <= hi)
        return self._subset(keep, lambda i: f"outside T window [{tmin}, {tmax}] K")

    def exclude(self, indices, reason: str) -> "Dataset":
        """Exclude the points with the given original row indices, with a reason."""
        indices = set(int(i) for i in np.atleast_1d(indices))
        missing = indices - set(self.index.tolist())
        if missing:
            raise ValueError(f"exclude: row index(es) {sorted(missing)} not in the dataset")
        keep = np.array([i not in indices for i in self.index.tolist()], bool)
        return self._subset(keep, lambda i: reason)

    def sorted(self) -> "Dataset":
        """The same points ordered by increasing T."""
        o = np.argsort(self.T, kind="stable")
        return dataclasses.replace(
            self, T=self.T[o], value=self.value[o],
            sigma=None if self.sigma is None else self.sigma[o],
            extra={k: a[o] for k, a in self.extra.items()}, index=self.index[o],
            line=None if self.line is None else self.line[o])

    def outlier_residuals(self, n_neighbors: int = 4, log: bool | None = None):
        """Leave-one-out residuals of a local straight-line fit (see :meth:`flag_outliers`).

        Returns (n,) residuals in ln(value) (log=True) or value units, file order.
        """
        log = self._log_mode(log)
        x = np.log(self.T)
        y = np.log(self.value) if log else self.value
        return _loo_residuals(x, y, np.ones(len(self), bool), n_neighbors)

    def _log_mode(self, log):
        if log is None:
            log = self.quantity in POSITIVE_QUANTITIES or bool(np.all(self.value > 0))
        if log and np.any(self.value <= 0):
            raise ValueError("flag_outliers: log=True needs positive values")
        return bool(log)

    def flag_outliers(self, *, threshold: float = 5.0, min_factor: float = 3.0,
                      n_neighbors: int = 4, log: bool | None = None,
                      max_fraction: float = 0.25, floor: float = 0.02) -> "Dataset":
        """Move isolated outliers to ``excluded`` (robust, iterative, documented).

        Method: order the points by T.  For every active point i fit a straight
        line to its ``n_neighbors`` nearest *other* active points in ln T
        (y = ln value when ``log``, the default for positive data; y = value
        otherwise) and take the residual r_i = y_i - line(ln T_i).  The robust
        scale is s = max(1.4826 * median |r - median r|, floor) (``floor`` in
        ln units when ``log``, else times the median |value|).  The point with
        the largest |r_i|/s is flagged if |r_i| > threshold * s and -- in log
        mode -- it is off by more than a factor ``min_factor``; it is then
        removed and everything is recomputed, until no point qualifies or
        ``max_fraction`` of the points are flagged.  Needs n_neighbors + 2
        points (otherwise nothing is flagged and a note says so).
        """
        if n_neighbors < 2:
            raise ValueError(f"flag_outliers: n_neighbors = {n_neighbors} must be >= 2")
        log = self._log_mode(log)
        n = len(self)
        if n < n_neighbors + 2:
            return self.replace(notes=self.notes + (
                f"outlier check skipped: {n} points < n_neighbors + 2 = {n_neighbors + 2}",))
        x = np.log(self.T)
        y = np.log(self.value) if log else self.value
        fl = floor if log else floor * float(np.median(np.abs(self.value)) or 1.0)
        active = np.ones(n, bool)
        reasons = {}
        while (n - active.sum()) < max_fraction * n:
            r = _loo_residuals(x, y, active, n_neighbors)
            ra = r[active]
            s = max(1.4826 * float(np.median(np.abs(ra - np.median(ra)))), fl)
            z = np.where(active, np.abs(r) / s, -np.inf)
            j = int(np.argmax(z))
            big = abs(r[j]) > math.log(min_factor) if log else True
            if not (z[j] > threshold and big):
                break
            active[j] = False
            what = (f"off by a factor {math.exp(abs(r[j])):.3g}" if log else f"residual {r[j]:.3g}")
            reasons[j] = (f"outlier: {what} from the local log-log trend of its {n_neighbors} "
                          f"neighbours ({z[j]:.1f} robust sigma > {threshold})")
        return self._subset(active, lambda i: reasons[int(i)])

    def as_loss(self) -> "Dataset":
        """Quality factor Q -> loss 1/Q (quantity 'resonator_loss'), sigma propagated (sigma/Q^2).

        Excluded points are converted too; a note records the conversion.
        """
        return self._reciprocal("as_loss", "quality_factor", "resonator_loss",
                                "converted quality factor Q to loss 1/Q")

    def as_quality_factor(self) -> "Dataset":
        """Loss 1/Q (quantity 'resonator_loss') -> quality factor Q, sigma propagated (sigma/loss^2);
        the inverse of :meth:`as_loss`.  Excluded points are converted too; a note records it."""
        return self._reciprocal("as_quality_factor", "resonator_loss", "quality_factor",
                                "converted loss 1/Q to quality factor Q = 1/loss")

    def _reciprocal(self, name: str, need: str, quantity: str, note: str) -> "Dataset":
        """value -> 1/value as ``quantity`` (sigma -> sigma/value^2, excluded points too, ``note``
        added); ValueError naming the method ``name`` unless the quantity is ``need``."""
        if self.quantity != need:
            raise ValueError(f"{name}: needs quantity {need!r}, got {self.quantity!r}")
        return dataclasses.replace(
            self, value=1.0 / self.value, quantity=quantity, units="1",
            sigma=None if self.sigma is None else self.sigma / self.value**2,
            excluded=tuple(e._replace(value=1.0 / e.value) for e in self.excluded),
            notes=self.notes + (note,))

    def as_frequency_shift(self, omega: float | None = None) -> "Dataset":
        """Absolute resonance frequency f(T) -> relative shift delta f/f = (f - f_ref) / f_ref.

        The reference point is the lowest temperature of the dataset: f_ref =
        f(T_min), T_ref = T_min (the shift is 0 there; the fitted models carry a
        free offset, so the choice does not bias them).  sigma becomes
        sigma / f_ref; excluded points are converted too.  ``omega`` (rad/s):
        given, else the dataset's, else 2 pi f_ref when ``units`` is Hz, kHz,
        MHz or GHz (f_ref stands for the resonance frequency f0: they differ
        by the shift, ~1e-5, which does not matter for hbar omega / k_B T).
        A note states the conversion; ``meta`` records ``f_ref`` (in
        ``units``), ``f_ref_Hz`` (None without a frequency unit) and
        ``frequency_units``.

        Returns:
          Dataset with quantity 'resonator_shift', units "1".
        """
        if self.quantity != "resonance_frequency":
            raise ValueError(f"as_frequency_shift: needs quantity 'resonance_frequency', got "
                             f"{self.quantity!r}")
        i = int(np.argmin(self.T))
        f_ref, T_ref = float(self.value[i]), float(self.T[i])
        scale = FREQUENCY_UNITS.get((self.units or "").strip().lower())
        f_hz = None if scale is None else f_ref * scale
        if omega is None:
            omega = self.omega
        how = "given"
        if omega is None and f_hz is not None:
            omega, how = 2.0 * math.pi * f_hz, "2 pi f_ref"
        unit = self.units or "(no unit stated)"
        note = (f"converted absolute resonance frequency ({unit}) to delta f/f = (f - f_ref)/f_ref with "
                f"f_ref = f(T_ref = {T_ref:g} K) = {f_ref:.12g} {self.units or ''}".rstrip() +
                " (the lowest-temperature point)")
        if omega is not None:
            note += f"; omega = {omega:.9g} rad/s ({how})"
        else:
            note += "; omega unknown (no frequency unit): give it"
        return dataclasses.replace(
            self, value=(self.value - f_ref) / f_ref, quantity="resonator_shift", units="1",
            sigma=None if self.sigma is None else self.sigma / f_ref, T_ref=T_ref, omega=omega,
            excluded=tuple(e._replace(value=(e.value - f_ref) / f_ref) for e in self.excluded),
            meta={**self.meta, "f_ref": f_ref, "f_ref_Hz": f_hz, "frequency_units": self.units},
            notes=self.notes + (note,))

    def excluded_lines(self) -> list[str]:
        """One readable line per excluded point."""
        return [f"row {e.index}: T = {e.T:.6g} K, value = {e.value:.6g} -- {e.reason}"
                for e in self.excluded]

    def summary(self) -> str:
        """Short human-readable description including notes and excluded points."""
        head = (f"{self.quantity} of {self.material or '?'}: {len(self)} points, "
                f"T = {self.T.min():.4g}..{self.T.max():.4g} K, units {self.units or '?'}")
        if self.omega is not None:
            head += f", omega = {self.omega:.6g} rad/s"
        if self.T_ref is not None:
            head += f", T_ref = {self.T_ref:g} K"
        parts = [head] + [f"  note: {n}" for n in self.notes]
        parts += [f"  excluded {s}" for s in self.excluded_lines()]
        return "\n".join(parts)


def _loo_residuals(x, y, active, k):
    """Residual of each point from a line fitted to its k nearest other active points in x."""
    r = np.zeros_like(y)
    ids = np.flatnonzero(active)
    for i in range(len(x)):
        others = ids[ids != i]
        nb = others[np.argsort(np.abs(x[others] - x[i]), kind="stable")[:k]]
        a = np.vstack([np.ones(len(nb)), x[nb] - x[i]]).T
        coef = np.linalg.lstsq(a, y[nb], rcond=None)[0]
        r[i] = y[i] - coef[0]
    return r
