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

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from .objective import Spec, residual_u

STATUS = {0: "ok", 1: "max_steps", 2: "nan", 3: "stalled"}


class SolverOptions(NamedTuple):
    """Stopping rules (hashable: a static argument of the compiled solvers)."""
    max_steps: int = 200
    ftol: float = 1e-11    # LM stops when the chi^2 decrease (actual and predicted, or the
                           # Gauss-Newton decrement) is below ftol * chi^2
    xtol: float = 1e-12    # relative step size in u below which LM stops
    gtol: float = 1e-10    # scaled gradient (cosine between r and each J column) below which it stops


class SolverOut(NamedTuple):
    u: jnp.ndarray
    chi2: jnp.ndarray
    n_steps: jnp.ndarray
    status: jnp.ndarray
    r: jnp.ndarray = None     # residuals at u (LM only)
    J: jnp.ndarray = None     # Jacobian d r / d u at u (LM only)


def _linear_roles(spec: Spec):
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


def _r_and_J_generic(spec, u, arrays):
    f = lambda v: residual_u(spec, v, arrays)  # noqa: E731
    basis = jnp.eye(u.shape[0], dtype=u.dtype)
    r, Jt = jax.vmap(lambda e: jax.jvp(f, (u,), (e,)), out_axes=(None, 0))(basis)
    return r, Jt.T


def _r_and_J(spec, u, arrays):
    """Residual (m,) and Jacobian (m, n) at u with a single primal evaluation.

    Forward-mode tangents are propagated only for the non-linear parameters;
    the columns of amplitudes and offsets (:func:`_linear_roles`) follow from
    the term predictions in closed form, which saves one model-sized tangent
    per such parameter.
    """
    roles = _linear_roles(spec)
    n = u.shape[0]
    if not roles:
        return _r_and_J_generic(spec, u, arrays)
    nl = [j for j in range(n) if j not in roles]
    tr = spec.transform()
    free_idx = jnp.asarray(spec.free, dtype=jnp.int32)

    def f(u_nl):
        uu = u.at[jnp.asarray(nl, dtype=jnp.int32)].set(u_nl) if nl else u
        x = tr.to_physical(uu)
        x_all = arrays.x_all.at[free_idx].set(x)
        rs, p0s = [], []
        for t, ta in zip(spec.terms, arrays.terms):
            obs = t.observable
            vals = {name: x_all[i] for name, i in zip(obs.params, t.index)}
            ctx = {name: ta.ctx[c] for c, name in enumerate(t.context_names)}
            p0 = obs.func(ta.T, **vals, **ctx)
            pred = p0 + x_all[t.index[len(obs.params)]] if t.offset else p0
            r = (ta.y - jnp.log(pred)) if t.kind == "log" else (ta.y - pred)
            rs.append(r * ta.inv_sigma * ta.sqrt_w)
            p0s.append(p0)
        return jnp.concatenate(rs), (tuple(p0s), x)

    u_nl = u[jnp.asarray(nl, dtype=jnp.int32)] if nl else jnp.zeros((0,), u.dtype)
    if nl:
        basis = jnp.eye(len(nl), dtype=u.dtype)
        r, Jt, aux = jax.vmap(lambda e: jax.jvp(f, (u_nl,), (e,), has_aux=True),
                              out_axes=(None, 0, None))(basis)
    else:
        r, aux = f(u_nl)
        Jt = jnp.zeros((0, r.shape[0]), u.dtype)
    p0s, x = aux
    dxdu = jax.jvp(tr.to_physical, (u,), (jnp.ones_like(u),))[1]
    cols = [None] * n
    for pos, j in enumerate(nl):
        cols[j] = Jt[pos]
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
                    col = col - power * w / x[j]
                else:
                    col = col - power * p0s[k] / x[j] * w
            blocks.append(col)
        cols[j] = jnp.concatenate(blocks) * dxdu[j]
    return r, jnp.stack(cols, axis=1)


def _scaled_gradient(J, r, chi2):
    g = J.T @ r
    colnorm = jnp.sqrt(jnp.sum(J * J, axis=0))
    return jnp.max(jnp.abs(g) / jnp.maximum(colnorm * jnp.sqrt(chi2), 1e-300))


class _LMState(NamedTuple):
    u: jnp.ndarray
    r: jnp.ndarray
    J: jnp.ndarray
    chi2: jnp.ndarray
    lam: jnp.ndarray
    nu: jnp.ndarray
    k: jnp.ndarray
    status: jnp.ndarray   # -1 running


def levenberg_marquardt(spec: Spec, u0, arrays, opts: SolverOptions = SolverOptions()) -> SolverOut:
    """Minimise chi^2(u) = |r(u)|^2 from u0 (shape (n_free,)).  Pure JAX.

    The model and its Jacobian appear once in the compiled loop (iteration 0
    evaluates the start point), which keeps compilation time down.  The
    returned ``J`` is the Jacobian in u at the returned point.
    """
    u0 = jnp.asarray(u0, dtype=jnp.float64)
    n = u0.shape[0]
    m = sum(t.T.shape[0] for t in arrays.terms)
    z = jnp.zeros(())
    st = _LMState(u0, jnp.zeros(m), jnp.zeros((m, n)), jnp.asarray(jnp.inf), jnp.asarray(1e-3),
                  jnp.asarray(2.0), jnp.asarray(-1), jnp.asarray(-1))

    def cond(s):
        return (s.status < 0) & (s.k < opts.max_steps)

    def body(s):
        first = s.k < 0
        g = s.J.T @ s.r
        H = s.J.T @ s.J
        d = jnp.diag(H)
        d = jnp.maximum(d, 1e-12 * jnp.max(d) + 1e-300)
        delta = -jnp.linalg.solve(H + s.lam * jnp.diag(d), g)
        delta = jnp.where(jnp.all(jnp.isfinite(delta)) & ~first, delta, jnp.zeros_like(delta))
        u_new = s.u + delta
        r_new, J_new = _r_and_J(spec, u_new, arrays)
        chi_new = r_new @ r_new
        finite = jnp.isfinite(chi_new) & jnp.all(jnp.isfinite(J_new))
        actual = s.chi2 - chi_new
        predicted = -(2.0 * delta @ g + delta @ (H @ delta))
        accept = (finite & (actual > 0.0)) | first
        rho = actual / jnp.maximum(predicted, 1e-300)
        lam_acc = s.lam * jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        lam = jnp.where(first, s.lam, jnp.where(accept, lam_acc, s.lam * s.nu))
        nu = jnp.where(accept, 2.0, s.nu * 2.0)
        u = jnp.where(accept, u_new, s.u)
        r = jnp.where(accept, r_new, s.r)
        J = jnp.where(accept, J_new, s.J)
        chi2 = jnp.where(accept, chi_new, s.chi2)
        small_f = accept & (actual <= opts.ftol * s.chi2) & (jnp.abs(predicted) <= opts.ftol * s.chi2)
        small_x = accept & (jnp.linalg.norm(delta) <= opts.xtol * (jnp.linalg.norm(s.u) + opts.xtol))
        sg = _scaled_gradient(J, r, chi2)
        small_g = sg <= opts.gtol
        # Gauss-Newton decrement at the current point: the chi^2 still to be
        # gained according to the quadratic model (robust to rounding noise
        # that makes tiny steps look like failures)
        gc = J.T @ r
        Hc = J.T @ J
        dc = jnp.maximum(jnp.diag(Hc), 1e-300)
        sc = 1.0 / jnp.sqrt(dc)
        dec = (gc * sc) @ jnp.linalg.solve(Hc * jnp.outer(sc, sc) + 1e-14 * jnp.eye(n), gc * sc)
        small_dec = jnp.isfinite(dec) & (dec <= opts.ftol * chi2)
        done = ((small_f | small_x | small_dec) & ~first) | small_g | (chi2 == 0.0)
        stalled = lam > 1e20
        status = jnp.where(done, 0, jnp.where(stalled, jnp.where(sg < 1e-6, 0, 3), -1))
        status = jnp.where(first & ~finite, 2, status)
        return _LMState(u, r, J, chi2, lam, nu, s.k + 1, status)

    s = jax.lax.while_loop(cond, body, st)
    status = jnp.where(s.status < 0, 1, s.status)
    status = jnp.where(jnp.isfinite(s.chi2), status, 2)
    return SolverOut(s.u, s.chi2, s.k, status, s.r, s.J)


class _BFGSState(NamedTuple):
    z: jnp.ndarray
    opt: object
    f: jnp.ndarray
    f_prev: jnp.ndarray
    k: jnp.ndarray
    status: jnp.ndarray


def lbfgs(spec: Spec, u0, arrays, opts: SolverOptions = SolverOptions(max_steps=1000)) -> SolverOut:
    """Minimise chi^2/2 with optax L-BFGS in scaled variables u = u0 + z / |J0 columns|."""
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


@partial(jax.jit, static_argnums=(0, 1, 4))
def solve(method: str, spec: Spec, u0, arrays, opts: SolverOptions) -> SolverOut:
    """Compiled solve; ``method`` is 'lm' or 'lbfgs'."""
    return SOLVERS[method](spec, u0, arrays, opts)


@partial(jax.jit, static_argnums=(0, 1, 4))
def solve_batch(method: str, spec: Spec, u0, arrays, opts: SolverOptions) -> SolverOut:
    """vmapped compiled solve over a leading batch axis of ``u0`` and ``arrays``."""
    return jax.vmap(lambda u, a: SOLVERS[method](spec, u, a, opts))(u0, arrays)
