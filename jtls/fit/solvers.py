"""Compiled least-squares solvers on JAX Jacobians.

Both solvers work on the internal, unbounded variables u (see
:mod:`jtls.fit.params`) and are pure functions of ``(u0, arrays)`` for a
static :class:`~jtls.fit.objective.Spec`, so they jit, vmap (batches,
bootstrap) and hit JAX's persistent compilation cache.

* :func:`levenberg_marquardt` (default): Marquardt-scaled damping
  (J^T J + lam diag(J^T J)) delta = -J^T r with Nielsen's update of lam; the
  residual and its forward-mode Jacobian come from one vmapped ``jvp``.
* :func:`lbfgs`: optax L-BFGS with zoom line search on chi^2/2, in variables
  pre-scaled by the Jacobian column norms at the start.

Status codes (``STATUS``): 0 converged, 1 step limit reached, 2 non-finite
residuals, 3 stalled (damping exhausted with a gradient that is not small).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp

from .objective import Spec, param_list, residual_u, residual_x, residuals
from .params import KIND_FREE

STATUS = {0: "ok", 1: "max_steps", 2: "nan", 3: "stalled"}


class SolverOptions(NamedTuple):
    """Stopping rules of the least-squares solvers (hashable: a static argument of the compiled solvers).

    Pass to :func:`jtls.fit.fit` as ``options=``.  All tolerances are relative.

    Attributes
    ----------
    max_steps : int
        Most iterations (status ``"max_steps"`` when reached); L-BFGS fits use
        1000 by default.
    ftol : float
        Levenberg-Marquardt stops when the chi^2 decrease (actual and
        predicted, or the Gauss-Newton decrement) is below ``ftol * chi^2``.
    xtol : float
        Relative step size in the internal parameters below which it stops.
    gtol : float
        Scaled gradient (cosine between the residual vector and each Jacobian
        column) below which it stops.
    lam0 : float
        Initial Levenberg-Marquardt damping, relative to diag(J^T J).

    Examples
    --------
    >>> from jtls.fit import SolverOptions
    >>> opts = SolverOptions(max_steps=500)
    >>> opts.max_steps, opts.ftol
    (500, 1e-11)
    """
    max_steps: int = 200
    ftol: float = 1e-11    # LM stops when the chi^2 decrease (actual and predicted, or the
                           # Gauss-Newton decrement) is below ftol * chi^2
    xtol: float = 1e-12    # relative step size in u below which LM stops
    gtol: float = 1e-10    # scaled gradient (cosine between r and each J column) below which it stops
    lam0: float = 1e-3     # LM: initial damping (relative to diag J^T J)


class SolverOut(NamedTuple):
    u: jnp.ndarray
    chi2: jnp.ndarray
    n_steps: jnp.ndarray
    status: jnp.ndarray
    r: jnp.ndarray = None     # residuals at u (LM only)
    J: jnp.ndarray = None     # Jacobian d r / d u at u (LM only; the columns of held entries zero)
    Jx: jnp.ndarray = None    # Jacobian d r / d x at u, every column (held ones too; LM only)


def linear_roles(spec: Spec):
    """Free parameters whose Jacobian columns are known in closed form.

    Returns {free position j: [(term k, role, power)]} for parameters that, in
    every term using them, are either the additive ``offset`` of a term with
    linear residuals or the ``amplitude`` of the observable (prediction
    proportional to amplitude**power, the registry's contract), in a term with
    linear residuals or log residuals.  Static (depends on the spec only).
    """
    roles = {}
    for j, g in enumerate(spec.free):
        uses = []
        linear = True
        for k, t in enumerate(spec.terms):
            obs = t.observable
            local = list(obs.params) + (["offset"] if t.offset else [])
            for name, gi in zip(local, t.index):
                if gi != g:
                    continue
                if name == "offset" and t.kind != "log":
                    uses.append((k, "offset", 1.0))
                elif name == obs.amplitude and (t.kind == "log" or obs.amplitude_power == 1.0):
                    uses.append((k, "amplitude", obs.amplitude_power))
                else:
                    linear = False
        if linear and uses:
            roles[j] = uses
    return roles


def linear_columns(spec: Spec, roles: dict, xs, p0s, arrays) -> dict:
    """{free position j: d r / d x_j (m,)} in closed form for the parameters of ``roles``
    (:func:`linear_roles`), from the free values ``xs`` and the term curves ``p0s``."""
    out = {}
    for j, uses in roles.items():
        blocks = []
        for k, (t, ta) in enumerate(zip(spec.terms, arrays.terms)):
            col = jnp.zeros_like(ta.y)
            for kk, role, power in uses:
                if kk != k:
                    continue
                w = ta.inv_sigma * ta.sqrt_w
                if role == "offset":
                    col = col - w
                elif t.kind == "log":
                    col = col - power * w / xs[j]
                else:
                    col = col - power * p0s[k] / xs[j] * w
            blocks.append(col)
        out[j] = jnp.concatenate(blocks)
    return out


def default_options(method: str = "lm") -> SolverOptions:
    """The stopping rules a fit uses when none are given: ``SolverOptions()`` for
    Levenberg-Marquardt, 1000 steps for L-BFGS (one rule for fit, run_problem and fit_many)."""
    return SolverOptions() if method == "lm" else SolverOptions(max_steps=1000)


def residual_list(spec, xs, arrays):
    """(weighted residuals, observable curves) from the free values as a list of scalars."""
    return residuals(spec, param_list(spec, xs, arrays), arrays, with_curves=True)


def _r_and_J(spec, u, arrays, skip: tuple = (), x_skip=None):
    """Residual (m,) and Jacobian d r / d u (m, n) at u (see :func:`r_and_jx`)."""
    r, Jx, dxdu = r_and_jx(spec, u, arrays, skip, x_skip)
    return r, Jx * dxdu


def r_and_jx(spec, u, arrays, skip: tuple = (), x_skip=None):
    """Residual (m,), Jacobian d r / d x (m, n) in the physical values and dx/du (n,) at u; the
    columns of the free positions in ``skip`` (static: parameters held throughout a solve) are
    zeros, not computed.

    The columns of amplitudes and offsets (:func:`linear_roles`) follow from
    the term curves in closed form, which saves one model-sized tangent per
    such parameter.  The other columns come from one vmapped forward-mode
    pass with respect to the physical values.  (One scalar
    ``jvp`` per parameter, which lets each tangent skip the operations that do
    not depend on it, was measured 2x slower in the compiled loop.)
    """
    roles = {j: v for j, v in linear_roles(spec).items() if j not in skip}
    n = u.shape[0]
    nl = [j for j in range(n) if j not in roles and j not in skip]
    tr = spec.transform()
    x = tr.to_physical(u)
    dxdu = jax.jvp(tr.to_physical, (u,), (jnp.ones_like(u),))[1]
    xs = [x[j] for j in range(n)]
    if x_skip is not None:            # held values from outside the solver loop: loop invariants
        for j in skip:
            xs[j] = x_skip[j]
    cols = [None] * n
    if roles or not nl:
        r, p0s = residual_list(spec, xs, arrays)
    if nl:
        x_nl = jnp.stack([xs[j] for j in nl])

        def f(v):
            xl = list(xs)
            for pos, j in enumerate(nl):
                xl[j] = v[pos]
            return residual_list(spec, xl, arrays)[0]
        basis = jnp.eye(len(nl), dtype=u.dtype)
        r, Jt = jax.vmap(lambda e: jax.jvp(f, (x_nl,), (e,)), out_axes=(None, 0))(basis)
        for pos, j in enumerate(nl):
            cols[j] = Jt[pos]
    for j, col in (linear_columns(spec, roles, xs, p0s, arrays) if roles else {}).items():
        cols[j] = col
    for j in skip:
        cols[j] = jnp.zeros_like(r)
    if n == 0:
        return r, jnp.zeros((r.shape[0], 0), r.dtype), dxdu
    return r, jnp.stack(cols, axis=1), dxdu


def _scaled_gradient(g, H, chi2):
    """max_j |(J^T r)_j| / (|J_j| |r|) from g = J^T r and H = J^T J."""
    colnorm = jnp.sqrt(jnp.maximum(jnp.diag(H), 0.0))
    return jnp.max(jnp.abs(g) / jnp.maximum(colnorm * jnp.sqrt(chi2), 1e-300))


def _normal_equations(J, r):
    """(J^T r, J^T J)."""
    return J.T @ r, J.T @ J


def spd_solve(A, b):
    """Solve A x = b for symmetric positive definite A (..., n, n), b (..., n) or
    (..., n, k), by Gauss-Jordan elimination without pivoting (stable for SPD
    matrices), unrolled over the static n in plain jnp.

    For the 7 x 7 systems of a curve fit this costs n fused update kernels,
    about as much as a LAPACK call, but keeps the solver loop free of
    custom calls, so XLA:CPU can compile the whole Levenberg-Marquardt loop
    into one kernel (see the benchmark notes in benchmarks/resonator_results.md).  A matrix
    that is not positive definite gives non-finite entries (callers test).
    """
    vec = b.ndim == A.ndim - 1
    B = b[..., None] if vec else b
    n = A.shape[-1]
    M = jnp.concatenate([A, B], axis=-1)
    rows = np.arange(n)[:, None]
    for k in range(n):
        row = M[..., k:k + 1, :] / M[..., k:k + 1, k:k + 1]
        # (a select, not .at[].set: a scatter would keep XLA from compiling the loop as one kernel)
        M = jnp.where(rows == k, row, M - M[..., :, k:k + 1] * row)
    X = M[..., :, n:]
    return X[..., 0] if vec else X


def spd_inverse(A):
    """Inverse of a symmetric positive definite (n, n) matrix (:func:`spd_solve`)."""
    return spd_solve(A, jnp.eye(A.shape[-1], dtype=A.dtype))


class _LMState(NamedTuple):
    u: jnp.ndarray
    r: jnp.ndarray
    J: jnp.ndarray        # d r / d u at u, held columns zero
    Jx: jnp.ndarray       # d r / d x at u, every column
    g: jnp.ndarray        # J^T r at u
    H: jnp.ndarray        # J^T J at u
    delta: jnp.ndarray    # the next trial step (damped Gauss-Newton at u, lam)
    chi2: jnp.ndarray
    lam: jnp.ndarray
    nu: jnp.ndarray
    k: jnp.ndarray
    status: jnp.ndarray   # -1 running


def levenberg_marquardt(spec: Spec, u0, arrays, opts: SolverOptions = SolverOptions(),
                        mask=None, start=None, skip: tuple = (), start_ok=None) -> SolverOut:
    """Minimise chi^2(u) = |r(u)|^2 from u0 (shape (n_free,)).  Pure JAX.

    ``mask`` (optional, shape (n_free,), 1 free / 0 held): the Jacobian
    columns of held entries are zeroed, so their steps are exactly zero and
    they stay at their value in ``u0`` -- one compiled solver serves every
    choice of held parameters (profile likelihood, fits on a bound; see
    :mod:`jtls.fit.constrained`).

    ``start`` (optional): ``(r0, Jx0)``, the residuals (m,) and Jacobian
    d r / d x (m, n, physical values) at ``u0``, when the caller already has them (a bootstrap
    resample starting at the full-data optimum: the optimum's unweighted
    residuals and Jacobian times the resample's sqrt weights; a dataset that differs from one
    solved before only in its values y, started at that one's solution: its residuals shifted
    by the change of y).  They replace
    the solver's own evaluation of the start point (iteration 0), which saves
    one model + Jacobian evaluation; the iterations are otherwise the same.
    ``start_ok`` (optional traced bool): use ``start`` only where true (else evaluate u0).

    ``skip`` (static tuple of free positions, held by ``mask`` as well): their Jacobian
    columns are not computed at all (one model-sized tangent less per step and position).

    The model and its Jacobian appear once in the compiled loop (iteration 0
    evaluates the start point), which keeps compilation time down.  The
    returned ``J`` is the Jacobian in u at the returned point (held columns zero), ``Jx`` the
    one in x with every column (a held solve's verdict needs the held ones).

    Per iteration: one residual + Jacobian evaluation at the trial point, one
    J^T J, and one batched Gauss-Jordan solve (plain jnp, see :func:`spd_solve`)
    holding both the next damped step
    (J^T J + lam diag(J^T J)) delta = -J^T r and the Gauss-Newton decrement
    of the convergence test (on CPU every separate small kernel costs launch
    overhead, so the step is prepared at the end of the previous iteration
    together with the decrement instead of separately at the start).
    """
    u0 = jnp.asarray(u0, dtype=jnp.float64)
    n = u0.shape[0]
    m = sum(t.T.shape[0] for t in arrays.terms)
    eye = jnp.eye(n)
    bounded = jnp.asarray(np.asarray(spec.kinds) != KIND_FREE)
    st = _LMState(u0, jnp.zeros(m), jnp.zeros((m, n)), jnp.zeros((m, n)), jnp.zeros(n), jnp.zeros((n, n)),
                  jnp.zeros(n),
                  jnp.asarray(jnp.inf), jnp.asarray(opts.lam0), jnp.asarray(2.0), jnp.asarray(-1),
                  jnp.asarray(-1))

    def cond(s):
        return (s.status < 0) & (s.k < opts.max_steps)

    def update(s, u_new, r_new, J_new, Jx_new):
        """The iteration after evaluating (r_new, J_new = d r / d u, Jx_new = d r / d x) at the
        trial point u_new = u + delta."""
        first = s.k < 0
        delta = s.delta
        if mask is not None:
            J_new = J_new * mask
        chi_new = r_new @ r_new
        finite = jnp.isfinite(chi_new) & jnp.all(jnp.isfinite(J_new))
        actual = s.chi2 - chi_new
        predicted = -(2.0 * delta @ s.g + delta @ (s.H @ delta))
        accept = (finite & (actual > 0.0)) | first
        rho = actual / jnp.maximum(predicted, 1e-300)
        lam_acc = s.lam * jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        lam = jnp.where(first, s.lam, jnp.where(accept, lam_acc, s.lam * s.nu))
        nu = jnp.where(accept, 2.0, s.nu * 2.0)
        u = jnp.where(accept, u_new, s.u)
        r = jnp.where(accept, r_new, s.r)
        J = jnp.where(accept, J_new, s.J)
        Jx = jnp.where(accept, Jx_new, s.Jx)
        chi2 = jnp.where(accept, chi_new, s.chi2)
        g, H = _normal_equations(J, r)
        small_f = accept & (actual <= opts.ftol * s.chi2) & (jnp.abs(predicted) <= opts.ftol * s.chi2)
        small_x = accept & (jnp.linalg.norm(delta) <= opts.xtol * (jnp.linalg.norm(s.u) + opts.xtol))
        sg = _scaled_gradient(g, H, chi2)
        small_g = sg <= opts.gtol
        # one batched solve: [0] the Gauss-Newton decrement at the current
        # point (the chi^2 still to be gained according to the quadratic
        # model; robust to rounding noise that makes tiny steps look like
        # failures), on the unit-diagonal scaled matrix; [1] the next step
        d = jnp.diag(H)
        sc = 1.0 / jnp.sqrt(jnp.maximum(d, 1e-300))
        # Marquardt's scaling by diag(J^T J), with a floor for columns that (nearly) vanish -- a
        # direction the data do not determine must not take huge steps.  The floor is relative to
        # the largest column of a bounded parameter (in log or logit coordinates, which scale with
        # the data); an unbounded one (an offset, column -1/sigma in the data's units) would set it
        # by the units: data 1e-10 times smaller froze every other parameter at its start.
        ref = jnp.max(jnp.where(bounded, d, 0.0))
        dd = jnp.maximum(d, 1e-12 * jnp.where(ref > 0, ref, jnp.max(d)) + 1e-300)
        A = jnp.stack([H * jnp.outer(sc, sc) + 1e-14 * eye, H + lam * jnp.diag(dd)])
        rhs = jnp.stack([g * sc, g])
        sol = spd_solve(A, rhs)
        dec = (g * sc) @ sol[0]
        step = -sol[1]
        step = jnp.where(jnp.all(jnp.isfinite(step)), step, jnp.zeros_like(step))
        small_dec = jnp.isfinite(dec) & (dec <= opts.ftol * chi2)
        done = ((small_f | small_x | small_dec) & ~first) | small_g | (chi2 == 0.0)
        stalled = lam > 1e20
        status = jnp.where(done, 0, jnp.where(stalled, jnp.where(sg < 1e-6, 0, 3), -1))
        status = jnp.where(first & ~finite, 2, status)
        return _LMState(u, r, J, Jx, g, H, step, chi2, lam, nu, s.k + 1, status)

    x_skip = spec.transform().to_physical(u0) if skip else None

    def body(s):
        u_new = s.u + s.delta
        r_new, Jx_new, dxdu = r_and_jx(spec, u_new, arrays, skip, x_skip)
        return update(s, u_new, r_new, Jx_new * dxdu, Jx_new)

    if start is not None:
        Jx0 = jnp.asarray(start[1])
        dxdu0 = jax.jvp(spec.transform().to_physical, (u0,), (jnp.ones_like(u0),))[1]
        given = update(st, st.u + st.delta, jnp.asarray(start[0]), Jx0 * dxdu0, Jx0)
        st = given if start_ok is None else jax.tree_util.tree_map(
            lambda a, b: jnp.where(start_ok, a, b), given, st)
    s = jax.lax.while_loop(cond, body, st)
    status = jnp.where(s.status < 0, 1, s.status)
    status = jnp.where(jnp.isfinite(s.chi2), status, 2)
    return SolverOut(s.u, s.chi2, s.k, status, s.r, s.J, s.Jx)


class _BFGSState(NamedTuple):
    z: jnp.ndarray
    opt: object
    f: jnp.ndarray
    f_prev: jnp.ndarray
    k: jnp.ndarray
    status: jnp.ndarray


def lbfgs(spec: Spec, u0, arrays, opts: SolverOptions = SolverOptions(max_steps=1000)) -> SolverOut:
    """Minimise chi^2/2 with optax L-BFGS in scaled variables u = u0 + z / |J0 columns|."""
    import optax      # here, not at module level: ~50 ms of every `jtls fit` process otherwise
    u0 = jnp.asarray(u0, dtype=jnp.float64)
    _, J0 = _r_and_J(spec, u0, arrays)
    scale = 1.0 / jnp.maximum(jnp.sqrt(jnp.sum(J0 * J0, axis=0)), 1e-300)

    def f(z):
        r = residual_u(spec, u0 + scale * z, arrays)
        return 0.5 * (r @ r)

    solver = optax.lbfgs(memory_size=20)
    vg = optax.value_and_grad_from_state(f)
    z0 = jnp.zeros_like(u0)
    f0 = f(z0)
    st = _BFGSState(z0, solver.init(z0), f0, jnp.asarray(jnp.inf), jnp.asarray(0),
                    jnp.where(jnp.isfinite(f0), -1, 2))

    def cond(s):
        return (s.status < 0) & (s.k < opts.max_steps)

    def body(s):
        val, grad = vg(s.z, state=s.opt)
        upd, opt = solver.update(grad, s.opt, s.z, value=val, grad=grad, value_fn=f)
        z = optax.apply_updates(s.z, upd)
        fz = optax.tree_utils.tree_get(opt, "value")
        gnorm = jnp.max(jnp.abs(optax.tree_utils.tree_get(opt, "grad")))
        small_f = jnp.abs(val - fz) <= opts.ftol * jnp.abs(val)
        small_g = gnorm <= opts.gtol * jnp.sqrt(2.0 * jnp.maximum(fz, 1e-300))
        status = jnp.where(~jnp.isfinite(fz), 2, jnp.where(small_f | small_g | (fz == 0), 0, -1))
        return _BFGSState(z, opt, fz, val, s.k + 1, status)

    s = jax.lax.while_loop(cond, body, st)
    status = jnp.where(s.status < 0, 1, s.status)
    return SolverOut(u0 + scale * s.z, 2.0 * s.f, s.k, status)


SOLVERS = {"lm": levenberg_marquardt, "lbfgs": lbfgs}


def solve_and_jacobian(method: str, spec: Spec, u0, arrays, opts: SolverOptions, start=None, start_ok=None):
    """Solve; return (out, x, r, J_x) with J_x = d r / d x (physical values).  Pure JAX.

    For LM the Jacobian of the last accepted step is reused, so the model is compiled only
    once; for L-BFGS it is computed.  ``start``, ``start_ok``: the LM start state (see
    :func:`levenberg_marquardt`; ignored by L-BFGS).
    """
    if method == "lm":
        out = levenberg_marquardt(spec, u0, arrays, opts, start=start, start_ok=start_ok)
    else:
        out = SOLVERS[method](spec, u0, arrays, opts)
    tr = spec.transform()
    x = tr.to_physical(out.u)
    if out.Jx is not None:
        return out._replace(r=None, J=None, Jx=None), x, out.r, out.Jx
    r = residual_x(spec, x, arrays)
    J = jax.jacfwd(lambda v: residual_x(spec, v, arrays))(x)
    return out, x, r, J
