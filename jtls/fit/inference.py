"""What a solved fit says: physical bounds, identifiability, intervals, tests, status.

The solver returns an optimum; this module decides what the data actually
determine (:func:`infer`), in this order:

1. **Physical bounds.**  Every free parameter with a physical bound (see
   :mod:`jtls.fit.params`) is re-solved held on that bound (one batched
   constrained solve).  Where that costs no chi^2 (within 1e-6 s^2) the
   optimum *is* on the bound: the parameter is reported ``at_bound`` with the
   bound as its value and a one-sided profile interval (``low`` = the bound),
   and the other parameters come from the fit with it held there.  The same
   solves give the likelihood-ratio test of each bound (item 4 below).
2. **Identifiability.**  At the (possibly constrained) optimum the Jacobian
   of the weighted residuals is examined in natural units (d r / d ln x for
   parameters spanning decades, d r / d x otherwise): zero columns and
   directions with singular-value ratio below :data:`RANK_RTOL` (numerical
   rank) name parameters the data do not determine; so does a standard error
   above :data:`UNIDENTIFIED_REL` (a factor 10 at one sigma) for a parameter
   spanning decades or above half the allowed range for a bounded one; and a
   profile that does not close on a side that is not a physical bound.
   Pairs with |correlation| > :data:`CORR_WARN` give a warning.
3. **Intervals.**  Profile-likelihood intervals (:mod:`jtls.fit.profile`) for
   every free parameter with ``intervals="profile"`` (or the parameters named
   in ``intervals=[...]``); always for parameters
   on or within 2 sigma of a physical bound (where a symmetric error is
   meaningless).
4. **Boundary tests.**  For each parameter with a physical bound the
   likelihood-ratio statistic t of the bound (e.g. mu = 0, the standard
   tunneling model): with per-point sigma t = chi2(bound) - chi2_min and
   p = 1/2 P(chi2_1 > t) (Chernoff's mixture 1/2 chi2_0 + 1/2 chi2_1: the
   bound is on the edge of the parameter space); without sigma t is scaled by
   s^2 = chi2_min / dof and p = 1/2 P(F(1, dof) > t).  t = 0 gives p = 1.
   A parameter held on its physical bound also gets the score test of
   values *beyond* the bound (:func:`jtls.fit.stats.beyond_bound`, e.g. mu < 0).
5. **Lack of fit.**  With per-point sigma the chi^2 p-value; a runs
   test on the signs of each dataset's residuals in temperature order
   (too few runs = systematic deviations), except for data the model
   reproduces to rounding, whose residual signs say nothing; for a parameter on its physical
   bound, the score test beyond it (the data ask for an unphysical value).
   p < :data:`LACK_OF_FIT_P` gives a warning containing "lack of fit".  Data
   that pull a parameter past its physical bound *and* that a constant
   describes at least as well as the model (:func:`jtls.fit.stats.flat_chi2`: no temperature
   dependence the model can follow, e.g. constant data fitted as a specific
   heat, whose flattest curve is C_v ~ T at mu = 0) leave that parameter
   ``unidentified``: its value on the bound comes from the bound alone.

Status vocabulary (the one place it is defined; exit code 0 only for "ok"):

=================  ===========================================================
``ok``             converged; every free parameter determined by the data
                   (parameters on a physical bound included, with a one-sided
                   interval); nothing rests on a search limit
``unidentified``   some free parameter is not determined by the data (named in
                   the message, with the reason); fix it or add data
``at_limit``       the optimum runs into a search limit (not a physical bound)
``max_steps``      the solver hit its step limit
``stalled``        the solver could not decrease chi^2 further, gradient not small
``diverged``       a parameter ran off to infinity
``nan``            non-finite residuals or parameters
``no_dof``         no more points than free parameters
=================  ===========================================================
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special   # the distributions' functions; scipy.stats costs ~0.45 s to import

from .params import KIND_BOTH, KIND_FREE, KIND_LOWER, KIND_UPPER
from .constrained import (ACCEPT, OPTIONS, U_BOUND, SolvedState, shifted_start, solve_held, start_chi2,
                          start_points)
from .bounds import (HINTED_OPTIONS, U_RUNAWAY, Z_FAR, _always_held, _bound_sides, _held_start,  # noqa: F401
                     _linear_stderr, _natural_scale, _on_bound, free_scales, held_for_certain)
from .profile import ProfileInput, coordinate, profile_intervals
from .stats import (LACK_OF_FIT_P, OUTLIER_Z, _fmt, beyond_bound, boundary_p_value, flat_chi2,  # noqa: F401
                    lack_of_fit, reproduced_to_rounding, rounding_chi2, runs_test)

#: Relative singular value below which a direction counts as undetermined.
RANK_RTOL = 1e-7
#: Standard error of ln(x - bound) above which a one-sided parameter is unidentified.
UNIDENTIFIED_REL = math.log(10.0)
#: Standard error, in units of the allowed range, above which a doubly bounded parameter is unidentified.
UNIDENTIFIED_RANGE = 0.5
#: |correlation| above which a pair gets a warning.
CORR_WARN = 0.99

STATUSES = ("ok", "unidentified", "at_limit", "max_steps", "stalled", "diverged", "nan", "no_dof")


def infer(problem, u, x, r, J, solver_status: str, intervals=None, scan=None,
          held_starts: dict | None = None) -> dict:
    """Judge a solved problem (see the module docstring).

    ``u, x`` : (n,) internal and physical optimum of the free parameters;
    ``r`` : (m,) weighted residuals; ``J`` : (m, n) d r / d x;
    ``solver_status`` : the solver's verdict; ``intervals`` : None, "profile"
    (every free parameter) or a list of free parameter names; ``scan`` : the
    grid profiles of :func:`jtls.fit.scan.global_scan` (a parameter whose
    profile stays below the 95 % level at the grid value next to a search
    limit is not determined, as with a profile interval open there).
    ``held_starts`` (optional, read and updated): ``{(name, side): SolvedState}`` -- the held
    solves of step 1 start at these solutions (of a similar problem solved before, e.g. the
    previous dataset of :func:`jtls.fit.batch.fit_many` with ``start="previous"``) instead of
    the linearised start where they fit these data no worse, and their solutions are stored
    back; where the two problems differ only in their values y, the start's residuals and
    Jacobian come from the stored state (:func:`jtls.fit.constrained.shifted_start`), not from
    an evaluation of the model.

    Returns a dict with keys values, stderr, cov, corr, at_bound, status,
    messages, warnings, tests, intervals, r, chi2, dof, identifiability and absolute (whether
    the uncertainties rest on the given sigma as they are: False without sigma, and when the
    given sigma are too small for the scatter, chi^2 p-value < :data:`LACK_OF_FIT_P`); with
    "better_u" (n,) where a profile or a held solve went below the optimum (which is then a
    local one): the internal values at its lowest point (moved inside the bounds), a start for
    a new solve.
    """
    if intervals is not None and intervals != "profile":
        if isinstance(intervals, str) or not all(isinstance(k, str) for k in intervals):
            raise ValueError(f"intervals must be None, 'profile' or a list of parameter names, got {intervals!r}")
        unknown = [k for k in intervals if k not in [problem.params[i].name for i in problem.spec.free]]
        if unknown:
            raise ValueError(f"intervals: {unknown} are not free parameters of this fit")
    spec, arrays = problem.spec, problem.arrays
    params = [problem.params[i] for i in spec.free]
    names = [p.name for p in params]
    n = len(params)
    u = np.array(u, float)
    x = np.array(x, float)
    r = np.array(r, float)
    J = np.array(J, float)
    N = int(r.size)
    absolute = all(k == "sigma" for k in problem.kinds)
    chi2 = float(r @ r)
    # an exact fit (chi^2 at rounding level) has no error scale: s^2 is floored at rounding level
    floor2 = max(rounding_chi2(problem, 1e-13) / max(N, 1), 1e-300)
    messages, warnings = [], []
    status = solver_status
    held = np.zeros(n, bool)
    tests, ivals = {}, {}
    out = dict(at_bound=[], tests=tests, intervals=ivals, warnings=warnings, identifiability={}, absolute=absolute)

    def done(status, cov=None):
        cov = np.full((n, n), np.nan) if cov is None else cov
        se = np.sqrt(np.clip(np.diag(cov), 0, None)) if n else np.zeros(0)
        se = np.where(np.isfinite(np.diag(cov)), se, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(se, se)
        out.update(values=x, stderr=se, cov=cov, corr=corr, status=status, messages=messages,
                   r=r, chi2=chi2, dof=N - int((~held).sum()), held=held)
        return out

    if not (np.isfinite(r).all() and np.isfinite(x).all()):
        bad = np.flatnonzero(~np.isfinite(r))
        Ts = np.concatenate([pts.T for pts in problem.points]) if problem.points else np.zeros(0)
        fixed = [f"{p.name} = {_fmt(p.value)}" for i, p in enumerate(problem.params) if i not in spec.free]
        where = (f"the model is not finite at {bad.size} of {N} points (first at T = {_fmt(Ts[bad[0]])} K)"
                 if bad.size and Ts.size == N else "non-finite residuals or parameters")
        messages.append(where + (f" with the fixed values {', '.join(fixed)}: check them (e.g. an amplitude "
                                 "held at 0 that the observable divides by)" if fixed and bad.size else ""))
        return done("nan")
    fscale = free_scales(problem)      # offsets in the data's units
    runaway = [p.name for p, uj, kind, fs in zip(params, u, spec.kinds, fscale)
               if abs(uj) > U_RUNAWAY * (fs if kind == KIND_FREE else 1.0)
               and not (kind == KIND_BOTH or (kind in (KIND_LOWER, KIND_UPPER) and uj < 0))]
    if runaway:
        messages.append("parameters ran away to infinity: " + ", ".join(runaway))
        return done("diverged")
    if N - n <= 0:
        messages.append(f"{N} points for {n} free parameters")
        return done("no_dof")
    given = absolute                   # per-point sigma given for every dataset
    p_given = float(special.chdtrc(N - n, chi2)) if given else 1.0
    if given and p_given < LACK_OF_FIT_P and chi2 > N - n:
        # the given sigma do not describe the scatter: uncertainties taken from them as they are
        # would be absurdly small (or the model does not fit); scale them like data without sigma
        absolute = False
        warnings.append(f"the given sigma are too small for the scatter of the data (chi^2 = {_fmt(chi2)} "
                        f"for {N - n} degrees of freedom, p = {p_given:.2g}): uncertainties, intervals and "
                        f"tests are scaled by sqrt(reduced chi^2) = {_fmt(math.sqrt(chi2 / (N - n)))}")
    out["absolute"] = absolute
    scale2 = 1.0 if absolute else chi2 / (N - n)

    # ---- 1. physical bounds: held solves ---------------------------------
    # linearised distance of each bound in standard errors: bounds far away (> Z_FAR
    # sigma) need no held solve; their test is the Wald approximation (p < 3e-7)
    z_far = {}
    se_lin = _linear_stderr(J, scale2)
    all_sides = [(j, side, b, phys) for j, p in enumerate(params) for side, b, phys in _bound_sides(p, spec.kinds[j])]
    sides = []
    for j, side, b, phys in all_sides:
        z = abs(x[j] - b) / se_lin[j] if se_lin[j] > 0 else math.nan
        always = phys and _always_held(names[j])
        if always or not (math.isfinite(z) and z > Z_FAR and abs(u[j]) < U_RUNAWAY):
            sides.append((j, side, b, phys))
        elif phys:
            z_far[(j, side)] = z
    chi2_bound, sol_bound, chi2_box, box_col, sol_any = {}, {}, {}, {}, {}
    if sides:
        kept = [(held_starts or {}).get((names[j], side)) for j, side, b, phys in sides]
        starts = [_held_start(spec, u, x, J, j, b, None if h is None else h.u)
                  for (j, side, b, phys), h in zip(sides, kept)]
        u0s = np.stack([s[0] for s in starts])
        hints = [k for k, s in enumerate(starts) if s[2] is not None]
        # the residuals at a hint are known without evaluating the model where these data differ
        # from the hint's only in y (noise draws of one measurement)
        shifted = {k: shifted_start(spec, arrays, kept[k]) for k in hints
                   if np.array_equal(starts[k][2], kept[k].u)}
        shifted = {k: v for k, v in shifted.items() if v is not None}
        taken = 0
        if hints:                       # a hint is taken where it fits these data no worse
            own = [k for k in hints if k not in shifted]
            c0 = start_chi2(spec, arrays, np.concatenate([u0s[hints]] + [starts[k][2][None] for k in own]))
            c_hint = {k: c0[len(hints) + i] for i, k in enumerate(own)}
            c_hint.update({k: float(v @ v) for k, v in shifted.items()})
            for i, k in enumerate(hints):
                if c_hint[k] <= c0[i]:
                    u0s[k] = starts[k][2]
                    taken += 1
                else:
                    shifted.pop(k, None)
        states = None
        if held_starts is not None:     # one program whether or not a start state is known
            states = (np.zeros((len(sides), N)), np.zeros((len(sides), N, n)), np.zeros(len(sides)))
            for k, v in shifted.items():
                states[0][k], states[1][k], states[2][k] = v, kept[k].Jx, 1.0
        # every start a similar problem's solution: next to the optimum, small initial damping
        c = solve_held(spec, arrays, u0s, np.stack([s[1] for s in starts]),
                       HINTED_OPTIONS if taken == len(starts) else OPTIONS, given=states)
        for k, (j, side, b, phys) in enumerate(sides):
            if int(c.status[k]) in ACCEPT and math.isfinite(float(c.chi2[k])):
                if held_starts is not None and np.isfinite(c.u[k]).all():
                    held_starts[(names[j], side)] = SolvedState(c.u[k].copy(), arrays, c.r[k].copy(),
                                                                c.J[k].copy())
                sol_any[(j, side)] = k
                if phys:
                    chi2_bound[(j, side)] = float(c.chi2[k])
                    sol_bound[(j, side)] = k
                else:
                    chi2_box[(j, side)] = float(c.chi2[k])
                    box_col[j] = c.J[k][:, j].copy()      # exact d r / d x_j on the limit
    # chi^2 differences below this are rounding: relative to the error scale, or to the residual
    # scatter where given sigma are far too large for it (sigma 1000 y: the optimum must not move)
    tol = 1e-6 * min(scale2, chi2 / (N - n) if chi2 > 0 else scale2) + 1e-12 * chi2
    def kkt(cc, k, j, side) -> bool:
        """The held solution is a minimum of the full problem: moving off the bound
        (inwards) does not lower chi^2 to first order over one sigma."""
        g = float(cc.grad_x(j)[k]) * (-side)            # d chi^2 along the inward direction
        col = cc.J[k][:, j]
        nrm = float(np.sqrt(col @ col)) if np.isfinite(col).all() else 0.0
        if not math.isfinite(g) or nrm == 0.0:
            return nrm == 0.0
        return g * math.sqrt(scale2) / nrm >= -1e-3 * scale2

    exact = rounding_chi2(problem, 1e-12)      # data reproduced to rounding
    # on the bound: held there, the data are reproduced to rounding (the free optimum cannot be
    # better in any meaningful sense, whichever rounding-level chi^2 the solver stopped at), or
    # it costs no chi^2 and moving inwards does not lower it
    on_bound = {(j, side) for (j, side), cb in chi2_bound.items()
                if cb <= exact or (cb <= chi2 + tol and kkt(c, sol_bound[(j, side)], j, side))}
    # a held solve below the free optimum that is no minimum there (moving inwards lowers chi^2), or
    # the free optimum itself on that bound (its transform saturated by one long step) while moving
    # inwards lowers chi^2: the free solve stopped short; the caller solves again from just inside
    below = [(cb, js) for js, cb in list(chi2_bound.items()) + list(chi2_box.items()) if js not in on_bound and
             (cb < chi2 - max(tol, 1e-9 * chi2) or (cb <= chi2 + tol and _on_bound(params[js[0]], x[js[0]], u[js[0]], js[1])
                                                    and not kkt(c, sol_any[js], *js)))]
    if below:
        (j, side), k = min(below)[1], sol_any[min(below)[1]]
        x0 = np.array(c.x[k], float)
        col, rk = c.J[k][:, j], c.r[k]
        step = -float(col @ rk) / float(col @ col) if np.isfinite(col).all() and col @ col > 0 else 0.0
        if step * side < 0:             # inwards: start where chi^2 along j is lowest to first order
            x0[j] += step
        out["better_f"], out["better_u"] = -math.inf, spec.transform().to_internal_inside(x0)
    adopted = None
    if on_bound:
        hold = {j: (params[j].min if side < 0 else params[j].max) for j, side in on_bound}
        u0, mask = start_points(spec, u, hold)
        cs = solve_held(spec, arrays, u0[None], mask[None])
        best_single = min(on_bound, key=lambda js: chi2_bound[js])
        if int(cs.status[0]) in ACCEPT and float(cs.chi2[0]) <= chi2 + tol * len(on_bound):
            adopted = (cs, 0, set(hold))
        else:                                   # hold only the best single one
            j0 = best_single[0]
            adopted = (c, sol_bound[best_single], {j0})
    box, box_idx = [], set()
    held_side = {j: side for j, side in on_bound}
    if adopted is not None:
        cs, k, hj = adopted
        for j in hj:
            held[j] = True
        u, x, r = cs.u[k].copy(), cs.x[k].copy(), cs.r[k].copy()
        J = cs.J[k].copy()
        chi2 = float(r @ r)
        if status in ("max_steps", "stalled"):
            status = "ok"          # the solver was creeping towards the bound; solved on it now
        for j in hj:
            x[j] = params[j].min if spec.kinds[j] == KIND_LOWER or (spec.kinds[j] == KIND_BOTH and u[j] < 0) else params[j].max
    if status != "ok":
        messages.append({"max_steps": "step limit reached", "stalled":
                         "no further decrease possible but the gradient is not small"}.get(status, status))
        return done(status)
    for j, p in enumerate(params):
        if held[j]:
            continue
        kind = spec.kinds[j]
        cb_lo, cb_hi = chi2_box.get((j, -1)), chi2_box.get((j, 1))
        on_lo = cb_lo is not None and cb_lo <= chi2 + tol
        on_hi = cb_hi is not None and cb_hi <= chi2 + tol
        if on_lo or on_hi:
            box_idx.add(j)
            box.append(f"{p.name} = {_fmt(x[j])} runs into its search limit "
                       f"{_fmt(p.min if on_lo else p.max)}, which is not a physical bound; widen the bounds "
                       "or fix it")
            continue
        near_lo = kind in (KIND_LOWER, KIND_BOTH) and (u[j] < -U_RUNAWAY or (math.isfinite(p.min) and
                                                            abs(x[j] - p.min) <= 1e-9 * max(abs(p.min), 1e-300)))
        near_hi = (kind == KIND_UPPER and u[j] < -U_RUNAWAY) or (kind == KIND_BOTH and u[j] > U_RUNAWAY) or \
            (math.isfinite(p.max) and abs(x[j] - p.max) <= 1e-9 * max(abs(p.max), 1e-300))
        if (near_lo and not p.physical[0]) or (near_hi and not p.physical[1]):
            box_idx.add(j)
            box.append(f"{p.name} = {_fmt(x[j])} is on its search limit "
                       f"{_fmt(p.min if near_lo else p.max)}, which is not a physical bound")
    dof = N - int((~held).sum())
    scale2 = 1.0 if absolute else (chi2 / dof if dof > 0 else math.nan)
    if not absolute:
        # an exact fit (chi^2 at rounding level) has no error scale: floor it at rounding level
        scale2 = max(scale2, floor2)
    beyond = {j: beyond_bound(r, J, j, held_side[j], [i for i in range(n) if not held[i] and i not in box_idx],
                               absolute, floor2, exact)
              for j in range(n) if held[j] and j in held_side}
    pulled = {j: f"{'below' if held_side[j] < 0 else 'above'} its physical bound "
                 f"{_fmt(params[j].min if held_side[j] < 0 else params[j].max)} (score test beyond the bound, "
                 f"p = {beyond[j][1]:.2g})" for j in beyond if beyond[j] is not None and beyond[j][1] < LACK_OF_FIT_P}
    flat = flat_chi2(problem) if pulled else math.inf

    # ---- 2. identifiability and covariance --------------------------------
    active = [j for j in range(n) if not held[j] and j not in box_idx]
    unident = {}                       # name -> reason
    if chi2 >= flat:
        for j, where in pulled.items():
            unident[names[j]] = (f"the data show no temperature dependence the model can follow (a constant "
                                 f"describes them at least as well: chi^2 {_fmt(flat)} against {_fmt(chi2)}) "
                                 f"and pull it {where}: its value there comes from the bound, not the data")
    cov = np.full((n, n), np.nan)
    ident = {"singular_values": [], "information": {}}
    if active:
        Ja = J[:, active]
        scale = np.array([_natural_scale(spec.kinds[j], x[j], params[j].min, params[j].max, fscale[j])
                          for j in active])
        Jn = Ja * scale[None, :]
        info = np.sum(Jn * Jn, axis=0) / scale2
        ident["information"] = {names[j]: float(v) for j, v in zip(active, info)}
        finite_cols = np.isfinite(Jn).all(axis=0)
        Jn = np.where(finite_cols[None, :], Jn, 0.0)
        Ja = np.where(finite_cols[None, :], Ja, 0.0)
        colnorm = np.sqrt(np.sum(Jn * Jn, axis=0))
        # a parameter held on its bound whose column carries less than 1 sigma over its whole range
        # (or, for one-sided ones, whose curve does not change at all) is not determined either
        for j in range(n):
            if not held[j] and j not in box_idx:
                continue
            col = box_col[j] if (j in box_idx and j in box_col) else J[:, j]
            nrm = float(np.sqrt(col @ col)) if np.isfinite(col).all() else 0.0
            p = params[j]
            width = p.max - p.min
            if nrm == 0.0 or (not math.isfinite(width) and nrm * max(abs(x[j]), 1e-300) == 0.0):
                unident[names[j]] = "the fitted curve does not depend on it (the term it shapes vanishes)"
            elif math.isfinite(width) and nrm * width < math.sqrt(scale2):
                unident[names[j]] = (f"its whole allowed range [{_fmt(p.min)}, {_fmt(p.max)}] moves the fitted "
                                     "curve by less than one standard error")
        biggest = float(colnorm.max()) if colnorm.size else 0.0
        zero = [j for j, cn in zip(active, colnorm) if not (cn > 1e-12 * biggest)]
        for j in zero:
            unident[names[j]] = "the fitted curve does not depend on it"
        keep = [j for j in active if j not in zero]
        if keep:
            idx = [active.index(j) for j in keep]
            Jk = Jn[:, idx] / colnorm[idx][None, :]
            sv_u, sv, vt = np.linalg.svd(Jk, full_matrices=False)
            ident["singular_values"] = (sv * colnorm[idx].max()).tolist()
            small = sv < RANK_RTOL * sv[0]
            if small.any():
                for v in vt[small]:
                    part = [keep[i] for i in np.flatnonzero(np.abs(v) > 0.2)]
                    for j in part:
                        unident.setdefault(names[j], "it can be traded against " + ", ".join(
                            names[i] for i in part if i != j) + " without changing the curve")
            good = [j for j in keep if names[j] not in unident]
            if good:
                gi = [active.index(j) for j in good]
                Jg = Ja[:, gi]
                H = Jg.T @ Jg
                d = np.sqrt(np.diag(H))
                Hs = H / np.outer(d, d)
                try:
                    cg = np.linalg.inv(Hs) / np.outer(d, d) * scale2
                except np.linalg.LinAlgError:
                    cg = np.full_like(Hs, np.nan)
                cov[np.ix_(good, good)] = cg
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    se = np.where(np.isfinite(np.diag(cov)), se, np.nan)

    # parameters within 2 sigma of a physical bound get a profile interval instead; those whose
    # linearised 95 % interval (with a margin of 1.5) reaches a search limit get one too, so that a
    # 95 % interval ending on that arbitrary limit is found without --intervals profile
    near_phys, near_limit = [], []
    z95 = math.sqrt(float(special.chdtri(1, 0.05)) if absolute else float(special.fdtri(1, max(dof, 1), 0.95)))
    for j in active:
        p = params[j]
        for side, b, phys in _bound_sides(p, spec.kinds[j]):
            if phys and names[j] not in unident and (not math.isfinite(se[j]) or abs(x[j] - b) < 2 * se[j]):
                near_phys.append(j)
            elif not phys and names[j] not in unident and math.isfinite(b) and \
                    math.isfinite(se[j]) and abs(x[j] - b) < 1.5 * z95 * se[j]:
                near_limit.append(j)
    hide_se = []
    for j in active:
        if names[j] in unident or not math.isfinite(se[j]):
            continue
        kind = spec.kinds[j]
        rel = se[j] / abs(_natural_scale(kind, x[j], params[j].min, params[j].max))
        one_sided = kind in (KIND_LOWER, KIND_UPPER)
        if not ((one_sided and rel > UNIDENTIFIED_REL) or (kind == KIND_BOTH and rel > UNIDENTIFIED_RANGE)):
            continue
        if j in near_phys:
            # near a physical bound the profile (one-sided) interval is the result; a standard
            # error this large is meaningless and is not presented (it still sizes the profile steps)
            hide_se.append(j)
        elif one_sided:
            unident[names[j]] = f"its standard error is {rel:.3g} in ln({names[j]}): more than a factor 10"
        else:
            unident[names[j]] = (f"its standard error {_fmt(se[j])} exceeds half its allowed range "
                                 f"[{_fmt(params[j].min)}, {_fmt(params[j].max)}]")

    # ---- 3. profile intervals ---------------------------------------------
    which = sorted(set([j for j in range(n) if held[j]] + near_phys + near_limit +
                       [j for j in active if names[j] not in unident and
                        (intervals == "profile" or (intervals is not None and names[j] in intervals))]))
    which = [j for j in which if names[j] not in unident]
    amp_zero = [names[j] for j in range(n) if held[j] and names[j] not in unident]
    if which:
        step = np.full(n, np.nan)
        for j in range(n):
            colx = J[:, j]
            if held[j]:
                nrm = float(np.sqrt(colx @ colx)) if np.isfinite(colx).all() else 0.0
                step[j] = math.sqrt(scale2) / nrm if nrm > 0 else math.nan
            elif math.isfinite(se[j]):
                step[j] = se[j] / abs(_natural_scale(spec.kinds[j], x[j], params[j].min, params[j].max)) \
                    if coordinate(spec, j, False) == "u" else se[j]
        u_prof = u.copy()
        for j in range(n):
            if held[j]:
                u_prof[j] = -U_BOUND if (spec.kinds[j] in (KIND_LOWER, KIND_UPPER) or x[j] == params[j].min) else U_BOUND
        inp = ProfileInput(spec, arrays, u_prof, held, chi2, scale2, step, params, chi2_bound,
                           dof=None if absolute else N - n)
        prof = profile_intervals(inp, which)
        for j, d in prof.items():
            lower = d.pop("lower_f", None), d.pop("lower_u", None)
            if lower[1] is not None and (out.get("better_u") is None or lower[0] < out["better_f"]):
                out["better_f"], out["better_u"] = lower
            ivals[names[j]] = d
            if d.get("lower_minimum"):
                warnings.append(f"the profile of {names[j]} went below the fit's chi^2: "
                                "the optimum found is not the best one")
            for key, side_word in (("low", "below"), ("high", "above")):
                kind = d.get(key + "_kind")
                if kind in ("open", "limit"):
                    what = ("up to its search limit" if kind == "limit" else "at any value")
                    unident[names[j]] = (f"the data do not bound it from {side_word} (chi^2 stays within "
                                         f"1 sigma {what})")
                elif kind == "unreliable":
                    if held[j] or j in hide_se or not math.isfinite(se[j]):
                        # the profile was its only uncertainty: nothing says what the data allow
                        unident[names[j]] = (f"no uncertainty can be given: its profile {side_word} the "
                                             "optimum could not be computed (constrained solves did not "
                                             "converge) and its standard error is not usable")
                    else:
                        warnings.append(f"profile interval of {names[j]}: constrained solves did not converge")
                k95 = d.get(key + "95_kind")
                if kind in ("crossing", "physical") and k95 == "unreliable" and \
                        (held[j] or j in hide_se or not math.isfinite(se[j])):
                    unident[names[j]] = (f"its 95 % profile limit {side_word} the optimum could not be "
                                         "computed (constrained solves did not converge), and nothing else "
                                         "gives its uncertainty")
                if kind == "crossing" and k95 in ("open", "limit"):
                    # the 95 % interval ends on a search limit (or nowhere): the parameter rests on an
                    # arbitrary bound -- not determined, even when the 68 % one closes
                    what = "its search limit" if k95 == "limit" else "any value"
                    unident[names[j]] = (f"the data do not bound it from {side_word} at 95 % (chi^2 stays "
                                         f"below the 95 % level up to {what}, while the 68 % interval closes)")

    # ---- the global scan's grid profile (jtls.fit.scan) ----------------------
    for rec in scan or ():
        if rec["parameter"] not in names or rec["parameter"] in unident:
            continue
        j = names.index(rec["parameter"])
        vals, d = rec["values"], rec["delta_chi2"]
        for side, b, phys in _bound_sides(params[j], spec.kinds[j]):
            k = 0 if side < 0 else len(vals) - 1
            if not phys and not held[j] and vals[k] != x[j] and d[k] < rec["level95"]:
                unident[names[j]] = (
                    f"the data do not bound it from {'below' if side < 0 else 'above'} at 95 % (global scan: "
                    f"chi^2 stays below the 95 % level up to {names[j]} = {_fmt(vals[k])}, next to its "
                    f"search limit {_fmt(b)})")

    # ---- 5. lack of fit ---------------------------------------------------
    tests["lack_of_fit"], lof_warnings = lack_of_fit(
        problem, r, chi2, dof, given, {names[j]: w for j, w in pulled.items() if names[j] not in unident})
    warnings.extend(lof_warnings)

    # ---- correlations ------------------------------------------------------
    corr = cov / np.outer(se, se) if n else cov
    for a in range(n):
        for b_ in range(a + 1, n):
            if math.isfinite(corr[a, b_]) and abs(corr[a, b_]) > CORR_WARN:
                warnings.append(f"{names[a]} and {names[b_]} are nearly degenerate "
                                f"(correlation {corr[a, b_]:+.4f})")

    # ---- 4. boundary tests (after the verdict: none for undetermined parameters)
    mixture = "1/2 chi2_0 + 1/2 chi2_1" if absolute else "1/2 F(1, dof) mixture"
    stat = [((j, side), z * z, "Wald z^2 (bound more than 5 standard errors away)")
            for (j, side), z in z_far.items()]
    stat += [((j, side), 0.0 if held[j] else max(0.0, (cb - chi2) / scale2), mixture)
             for (j, side), cb in chi2_bound.items()]
    for (j, side), t, dist in stat:
        b = params[j].min if side < 0 else params[j].max
        key = f"{names[j]}_zero" if b == 0 else f"{names[j]}_at_{b:g}"
        determined = names[j] not in unident
        tests[key] = {"statistic": t if determined else None,
                      "p_value": boundary_p_value(t, absolute, dof) if determined else None,
                      "bound": b, "parameter": names[j], "distribution": dist}
        if j in beyond and determined and beyond[j] is not None:
            tests[key]["beyond_statistic"], tests[key]["beyond_p_value"] = beyond[j]

    # ---- verdict -----------------------------------------------------------
    for j in range(n):
        if names[j] in unident or j in hide_se:
            se[j] = math.nan
    no_scale = N > 0 and reproduced_to_rounding(problem, chi2, given)
    if no_scale:
        # reproduced to rounding without sigma: no error scale, so no uncertainty is a result (the
        # values are; the rounding floor of s^2 above only keeps the verdict's arithmetic finite)
        se[:] = math.nan
        ivals.clear()
        warnings.append("no uncertainties or intervals: the model reproduces these data to rounding "
                        "precision and no sigma were given, so there is no error scale (give sigma for "
                        "uncertainties)")
    cov = np.where(np.isfinite(np.outer(se, se)), cov, np.nan)
    out["at_bound"] = [names[j] for j in range(n) if held[j] and names[j] not in unident]
    out["identifiability"] = ident
    if unident:
        amp_zero = [k for k in amp_zero if k not in unident]
        why = "; ".join(f"{k}: {v}" for k, v in unident.items())
        extra = (f" ({', '.join(amp_zero)} on its bound, so the terms they control vanish)"
                 if amp_zero else "")
        messages.append(f"not determined by the data: {', '.join(unident)}{extra} -- {why}; "
                        "fix them (--fix NAME=VALUE) or fit data that constrain them")
        status = "unidentified"
    box = [b for j, b in zip(sorted(box_idx), box) if names[j] not in unident] if box else box
    if box:
        messages.append("; ".join(box))
        status = "at_limit" if status == "ok" else status
    if out["at_bound"]:
        messages.append(("on a physical bound: " if no_scale else "on a physical bound (one-sided interval): ")
                        + ", ".join(out["at_bound"]))
    out["unidentified"] = list(unident)
    out.update(values=x, stderr=se, cov=cov, corr=corr, status=status, messages=messages, r=r, chi2=chi2,
               dof=dof, held=held)
    return out
