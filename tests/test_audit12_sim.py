"""Audit 12 (simulation side): counts and seeds an annealing run cannot represent, library builds checked
before their directory is made, foreign batch files, pack's output checked before the smoothing, and
dos-fit on an edited output without a checksum.  All in-process and without annealing (fake builds)."""
import json
import os

import numpy as np
import pytest
from scipy.special import erf

from jtls.anneal import analysis as A
from jtls.anneal import histogram as H
from jtls.anneal.files import save_output
from jtls.anneal.lattice import ModelParams
from jtls.anneal.run import RunConfig, _empty_totals, assemble
from jtls.anneal.schedule import make_schedule
from jtls.cli import main
from jtls.simulated import build as B
from jtls.simulated import pack as P

RATIOS = (0.1, 0.2, 0.3, 0.4)
T_REC = (0.05, 0.5)                      # recorded temperatures of the fake batches (K)


def _halfnormal_counts(rng, n_tls, width=20.0):
    """Multinomial counts of E = 2|h|, h ~ N(0, 10^2) (the J0 = 0 DOS), in the fine bins + overflow."""
    e = H.fine_edges()
    cdf = erf(e / (width * np.sqrt(2.0)))
    p = np.append(np.diff(cdf), 1.0 - cdf[-1])
    return rng.multinomial(n_tls, p / p.sum())


def _fake_build(d, batch_size, L=4, seed=0, sweeps=2):
    """A build directory as `jtls library build` leaves it (manifest, one checksummed batch per ratio whose
    metadata is that batch's run), with synthetic histograms instead of annealing."""
    os.makedirs(d)
    with open(os.path.join(d, B.MANIFEST), "w") as f:
        json.dump(B.manifest(RATIOS, L, batch_size, seed, sweeps), f)
    rng = np.random.default_rng(1)
    for i, r in enumerate(RATIOS):
        cfg = B.point_config(r, i, 0, L=L, batch_size=batch_size, seed=seed, sweeps=sweeps)
        n_tls = batch_size * cfg.params.n
        save_output(os.path.join(d, B.batch_name(r, 0)),
                    {"T": np.asarray(T_REC), "counts": np.stack([_halfnormal_counts(rng, n_tls) for _ in T_REC]),
                     "n_tls_total": np.int64(n_tls), "meta": json.dumps(cfg.metadata())})


def _stderr_of(capsys, argv):
    rc = main(argv)
    return rc, capsys.readouterr().err


# ------------------------------------------------------------------------------------- jtls anneal

def test_anneal_refuses_a_seed_jax_cannot_take(tmp_path, capsys):
    out = tmp_path / "run.npz"
    rc, err = _stderr_of(capsys, ["anneal", "--L", "4", "--schedule", "1", "--sweeps", "2", "--realizations", "2",
                                  "--seed", "99999999999999999999", "--cpu-devices", "1", "--quiet", "--out", str(out)])
    assert rc == 2 and "argument 'seed' must be an integer in [0, 9223372036854775807]" in err
    assert not list(tmp_path.iterdir())             # refused before the lock or any file


@pytest.mark.parametrize("sweeps", [2 ** 31, 3_000_000_000, 10 ** 20])
def test_schedule_refuses_sweeps_beyond_int32(sweeps):
    make_schedule([1.0], 2 ** 31 - 1)
    with pytest.raises(ValueError, match=r"argument 'sweeps' must be integers in \[1, 2147483647\]"):
        make_schedule([1.0], sweeps)


def test_runconfig_bounds_realization_indices_and_seed():
    sched = make_schedule([1.0], 2)
    RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2 ** 31 - 1, seed=2 ** 63 - 1).validate()
    with pytest.raises(ValueError, match="argument 'realizations' must be an integer in"):
        RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2 ** 31).validate()
    with pytest.raises(ValueError, match="argument 'seed' must be an integer in"):
        RunConfig(params=ModelParams(L=4), schedule=sched, realizations=2, seed=2 ** 63).validate()
