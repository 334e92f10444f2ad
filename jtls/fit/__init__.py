"""jtls.fit: gradient-based least-squares fits of TLS observables.

Quick start::

    import jtls
    from jtls.fit import Model, fit
    res = fit(Model("velocity", omega=jtls.units.paper_frequency(90e3)), (T, dv_over_v))
    print(res.report())

Modules: :mod:`~jtls.fit.params` (parameters, bound transforms),
:mod:`~jtls.fit.registry` (the observables and their fit metadata),
:mod:`~jtls.fit.model` (models: named parameters, automatic guesses),
:mod:`~jtls.fit.objective` (weighted residuals, joint problems),
:mod:`~jtls.fit.solvers` (compiled Levenberg-Marquardt and L-BFGS),
:mod:`~jtls.fit.constrained` (batched solves with parameters held),
:mod:`~jtls.fit.projection` (profiles with amplitudes and offsets in closed form),
:mod:`~jtls.fit.scan` (the global check along J0/h0),
:mod:`~jtls.fit.profile` (profile-likelihood intervals),
:mod:`~jtls.fit.inference` (physical bounds, identifiability, tests, the
status vocabulary), :mod:`~jtls.fit.result` (FitResult, JSON),
:mod:`~jtls.fit.problem` (models and data joined into one problem),
:mod:`~jtls.fit.engine` (``fit``), :mod:`~jtls.fit.posterior` and
:mod:`~jtls.fit.corner` (NUTS, corner plots), :mod:`~jtls.fit.compare`
(AICc/BIC ranking of ok fits), :mod:`~jtls.fit.batch` (vmapped batches,
bootstrap), :mod:`~jtls.fit.cli` (``jtls fit``).
"""
from .params import Parameter
from .model import REGISTRY, Model, Observable, get_observable, register_observable
from .solvers import SolverOptions
from .result import FitResult
from .engine import build_problem, fit, predict
from .compare import Comparison, compare

__all__ = ["Parameter", "REGISTRY", "Model", "Observable", "get_observable", "register_observable",
           "SolverOptions", "FitResult", "build_problem", "fit", "predict", "compare", "Comparison"]
