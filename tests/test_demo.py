"""The README main job's own figure: `jtls demo --figure-only` writes the silica velocity
figure and the numbers behind it (Fig. 5a parameters, mu = 0 and 0.1).

The recorded numbers are checked against quantities the demo does not compute:
the paper's Eqs. (7) + (8) integrated by scipy (independent of jtls' kernels and
quadrature) and the curve's physics (a maximum: positive slope below, negative
above; STM slope C well below it, as in the paper's 1 : -0.5)."""
import json
import math

import pytest

from jtls import units
from jtls.cli import main

from scipy_reference import velocity_shift_scipy

C, A, W = 3.2e-4, units.paper_frequency(9.4e6), units.paper_frequency(90e3)


def _dv_scipy(T, mu, T_ref=1.0):
    """dv/v of Eqs. (7) + (8) at the demo's Fig. 5a parameters, by scipy quadrature."""
    return velocity_shift_scipy(T, C, mu, A, W, T_ref)


def test_demo_figure_and_numbers(tmp_path):
    assert main(["demo", "--figure-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "velocity_silica.png").stat().st_size > 10_000
    rec = json.loads((tmp_path / "velocity_silica.json").read_text())
    step = math.log(10.0 / 0.01) / 299          # the demo's grid: 300 points, 0.01-10 K
    T0 = units.crossover_temperature(W, A)
    for mu in (0.0, 0.1):
        c = rec["curves"][f"mu={mu:g}"]
        Tm = c["T_max_K"]
        # the recorded value is the independent curve's value there
        assert c["dv_v_max"] == pytest.approx(_dv_scipy(Tm, mu), rel=1e-8)
        # a maximum of the independent curve, to the grid's resolution
        below, above = _dv_scipy(Tm * math.exp(-step), mu), _dv_scipy(Tm * math.exp(step), mu)
        assert below <= c["dv_v_max"] >= above
        far_below, far_above = _dv_scipy(Tm / 3, mu), _dv_scipy(Tm * 3, mu)
        assert far_below < below and far_above < above
        # the paper: the maximum is at a temperature of the order of T0 = (omega/A)^(1/3)
        assert 0.3 < Tm / T0 < 3
    # STM: well below the maximum the slope is the resonant C (Eq. 7: C ln T)
    t = T0 / 30
    s = (_dv_scipy(t * 1.01, 0.0) - _dv_scipy(t / 1.01, 0.0)) / (2 * math.log(1.01))
    assert abs(s / C - 1) < 5e-3
    # for these parameters the Eq. 3 DOS (mu = 0.1) puts the maximum below the STM one (0.22 vs 0.28 K)
    assert rec["curves"]["mu=0.1"]["T_max_K"] < rec["curves"]["mu=0"]["T_max_K"]


def test_demo_script_prints_failed_fit_as_failed(tmp_path, monkeypatch, capsys):
    """fits/tabulated_velocity.py (run by the demo): a fit whose status is not ok is printed and
    drawn as FAILED, never with the values it stopped at (the issue: 'A = 8.5e102' shown)."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    spec = importlib.util.spec_from_file_location(
        "tabulated_velocity", Path(__file__).resolve().parents[1] / "fits" / "tabulated_velocity.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)

    class Stub:
        """A FitResult-like object: the A-free fit failed far out (values of a run-away solve)."""
        def __init__(self, free_A):
            self.status = "max_steps" if free_A else "ok"
            self.ok = not free_A
            self.message = "step limit reached" if free_A else ""
            self.values = {"C": 0.0123, "mu": 0.4321, "A": 8.5e102 if free_A else mod.A, "offset": 0.0}
            self.stderr = {k: float("nan") if free_A else 0.01 for k in self.values}
            self.free = ["C", "mu", "A", "offset"] if free_A else ["C", "mu", "offset"]
            self.fixed, self.unidentified, self.at_bound, self.intervals = {}, [], [], {}
            self.reduced_chi2 = 1.0
            self.residuals = {"data": np.zeros(mod.T12.size)}

        def __getitem__(self, k):
            return self.values[k]

        def to_dict(self):
            return {"status": self.status}

    monkeypatch.setattr(mod, "fit", lambda model, data, fix=None: Stub(free_A=fix is None))
    monkeypatch.setattr(mod, "predict", lambda r, T: np.zeros(np.size(T)))
    monkeypatch.setattr(mod, "table2_dos", lambda J0, e: ("dos", (mod.T12, mod.T12, np.array([0.1, 0.2]))))
    monkeypatch.setattr(mod.jtls, "velocity_shift_dos", lambda T, *a, **k: np.ones(np.size(T)))
    assert mod.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "A free [max_steps]: FAILED (max_steps): not a result" in out
    assert "8.5e+102" not in out and "8.5e102" not in out
    assert "mu = 0.4321" in out          # the ok fits do show their values


def test_demo_never_replaces_files_unasked(tmp_path, capsys):
    """An --out folder that already holds one of the demo's output files (a user's
    velocity_silica.json, say) is refused unless --overwrite; other files there are no objection;
    an --out that is a file is an error, not a traceback."""
    d = tmp_path / "o"
    d.mkdir()
    (d / "notes.txt").write_text("mine")                 # not a file the demo writes: no objection
    assert main(["demo", "--figure-only", "--out", str(d)]) == 0
    (d / "velocity_silica.png").unlink()
    (d / "velocity_silica.json").write_text("precious")
    assert main(["demo", "--figure-only", "--out", str(d)]) == 2
    assert "already holds 1 of the demo's output file(s) (velocity_silica.json)" in capsys.readouterr().err
    assert (d / "notes.txt").read_text() == "mine"
    assert (d / "velocity_silica.json").read_text() == "precious"
    assert main(["demo", "--figure-only", "--out", str(d), "--overwrite"]) == 0
    assert json.loads((d / "velocity_silica.json").read_text())["curves"]
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["demo", "--figure-only", "--out", str(f)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
