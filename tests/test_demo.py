"""The README main job's own figure: `jtls demo --figure-only` writes the silica velocity
figure and the numbers behind it (Fig. 5a parameters, mu = 0 and 0.1)."""
import json

import numpy as np

import jtls
from jtls import units
from jtls.cli import main


def test_demo_figure_and_numbers(tmp_path):
    assert main(["demo", "--figure-only", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "velocity_silica.png").stat().st_size > 10_000
    rec = json.loads((tmp_path / "velocity_silica.json").read_text())
    C, A, w = 3.2e-4, units.paper_frequency(9.4e6), units.paper_frequency(90e3)
    for mu in (0.0, 0.1):
        Tm = rec["curves"][f"mu={mu:g}"]["T_max_K"]
        # the recorded maximum is the maximum of jtls.velocity_shift on a fine grid
        T = np.geomspace(Tm / 1.2, Tm * 1.2, 201)
        v = np.asarray(jtls.velocity_shift(T, C, mu, A, w))
        assert abs(np.log(T[np.argmax(v)] / Tm)) < np.log(10.0 / 0.01) / 299 + 1e-12
    # for these parameters the Eq. 3 DOS (mu = 0.1) puts the maximum below the STM one (0.22 vs 0.28 K)
    assert rec["curves"]["mu=0.1"]["T_max_K"] < rec["curves"]["mu=0"]["T_max_K"]
