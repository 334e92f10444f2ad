"""Simulated-annealing Monte Carlo of Hamiltonian (2) (Churkin et al. 2021, Sec. III A).

* :mod:`.lattice`   -- disorder realizations (sites, h_i, J_ij with minimum image)
* :mod:`.kernel`    -- Metropolis kernel (init / sweep with explicit keys)
* :mod:`.schedule`  -- the paper's schedule (42 temperatures 300 K -> 0.02 K, 257 sweeps, then 2 uK)
* :mod:`.stability` -- single / pair flip stability and greedy relaxation
* :mod:`.histogram` -- binning and the paper's DOS normalization
* :mod:`.run`       -- chunked, vmapped, sharded, checkpointed runs -> .npz
* :mod:`.files`     -- output checks, run lock, atomic writes, verified checkpoints
* :mod:`.totals`    -- a run's totals: empty, the results of a call added, a checkpoint's invariants
* :mod:`.sizing`    -- realizations per call: from a memory budget and the checkpoint interval
* :mod:`.distributed` -- one run over several processes/hosts (jax.distributed, timeouts)
* :mod:`.analysis`  -- Eq. (3) fits B(T), mu(T); Gaussian fit; T -> 0 power mu
"""
from .lattice import ModelParams, make_disorder, local_fields, energy
from .kernel import ChainState, init_state, sweep, sweep_dense, sweep_sequential, anneal_at
from .schedule import Schedule, paper_schedule, make_schedule, TABLE2_TEMPERATURES
from .stability import check, relax, StabilityReport
from .run import RunConfig, run

__all__ = ["ModelParams", "make_disorder", "local_fields", "energy", "ChainState", "init_state",
           "sweep", "sweep_dense", "sweep_sequential", "anneal_at", "Schedule", "paper_schedule", "make_schedule",
           "TABLE2_TEMPERATURES", "check", "relax", "StabilityReport", "RunConfig", "run"]
