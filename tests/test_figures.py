"""Figures of fit results (jtls.fit.plot): axes labelled with quantity and units, the parameter
box beside the data (inside the figure, covering no axes), no overlapping tick labels, and a
failed fit never shown as a result."""
import copy

import numpy as np
import pytest

import jtls
from jtls.fit import Model, fit
from jtls.fit.plot import axis_label, param_box, plot_result, result_text


@pytest.fixture(scope="module")
def kappa_fit():
    T = np.geomspace(0.05, 1.0, 15)
    y = np.asarray(jtls.thermal_conductivity(T, 2.0, 0.15)) * (1 + 0.02 * np.random.default_rng(5).normal(size=T.size))
    return fit(Model("thermal_conductivity"), (T, y))


def _overlap(a, b):
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_axis_labels_name_quantity_and_units():
    assert axis_label("thermal_conductivity", "W/m/K") == r"thermal conductivity $\kappa$ (W/m/K)"
    assert "units of the data" in axis_label("specific_heat", "")
    assert "dimensionless" in axis_label("velocity") and "v/v" in axis_label("velocity")
    assert axis_label("velocity_simulated") == axis_label("velocity")      # the --dos simulated twin
    assert "Q_i" in axis_label("resonator_loss")


def test_fit_figure_labels_box_ticks(kappa_fit, tmp_path):
    fig = plot_result(kappa_fit, title="kappa", units="W/m/K")
    fig.canvas.draw()
    ax, axr = fig.axes[0], fig.axes[1]
    ylab = ax.get_ylabel()
    assert "thermal_conductivity" not in ylab and "W/m/K" in ylab and "kappa" in ylab
    assert axr.get_xlabel() == "T (K)"
    # the parameter box: inside the figure, over no data or residual axes
    box = [t for t in fig.axes[2].texts if "B = " in t.get_text()][0]
    r = fig.canvas.get_renderer()
    bb = box.get_window_extent(r)
    fb = fig.bbox
    assert fb.x0 <= bb.x0 and bb.x1 <= fb.x1 and fb.y0 <= bb.y0 and bb.y1 <= fb.y1
    for a in (ax, axr):
        assert not _overlap(bb, a.get_window_extent(r))
    # tick labels of every axis do not overlap one another
    for a in (ax, axr):
        for get in (a.get_xticklabels, a.get_yticklabels):
            boxes = [t.get_window_extent(r) for t in get() if t.get_visible() and t.get_text()]
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    assert not _overlap(boxes[i], boxes[j])
    plot_result(kappa_fit, tmp_path / "k.png", units="W/m/K")
    assert (tmp_path / "k.png").stat().st_size > 10_000


def test_failed_fit_is_not_shown_as_result(kappa_fit):
    bad = copy.copy(kappa_fit)
    bad.status = "max_steps"
    bad.message = "the solver stopped at its step limit"
    assert "B = " in param_box(kappa_fit) and "B = " in result_text(kappa_fit)
    assert "B = " not in param_box(bad) and "FIT FAILED (max_steps)" in param_box(bad)
    assert result_text(bad).startswith("FAILED (max_steps): not a result") and "B =" not in result_text(bad)
    fig = plot_result(bad)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "fit" not in labels and any("FAILED fit (max_steps)" in s for s in labels)
