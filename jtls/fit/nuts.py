"""The log posterior density of a fit and the compiled NUTS phases that sample it (blackjax):
the density, priors and whitening of :mod:`jtls.fit.posterior`, which drives them."""
from __future__ import annotations

import functools
import time
from typing import NamedTuple

import numpy as np
import jax
import jax.numpy as jnp

from .objective import residual_u
from .params import _KIND_BOTH, _KIND_FREE, _KIND_LOWER, _KIND_UPPER

# prior modes: uniform in x, uniform in ln x, uniform in u
_UNIFORM_X, _LOGUNIFORM_X, _UNIFORM_U = 0, 1, 2


class PriorArrays(NamedTuple):
    """Per free parameter: mode (0 uniform in x, 1 uniform in ln x, 2 uniform in u) and window [a, b]
    in that variable (x for modes 0 and 1, u for mode 2)."""
    mode: jnp.ndarray
    a: jnp.ndarray
    b: jnp.ndarray


# --------------------------------------------------------------------------
# log density

def _log_abs_dxdu(kinds, lo, hi, u):
    """log|dx/du| of the bound transforms, elementwise."""
    logistic = jax.nn.log_sigmoid(u) + jax.nn.log_sigmoid(-u) + jnp.log(jnp.where(kinds == _KIND_BOTH, hi - lo, 1.0))
    return jnp.where(kinds == _KIND_FREE, 0.0,
                     jnp.where((kinds == _KIND_LOWER) | (kinds == _KIND_UPPER), u, logistic))


def log_prior(spec, u, prior: PriorArrays):
    """Log prior density in the internal variables u (up to a constant)."""
    tr = spec.transform()
    kinds = jnp.asarray(tr.kinds)
    x = tr.to_physical(u)
    jac = _log_abs_dxdu(kinds, jnp.asarray(tr.lo), jnp.asarray(tr.hi), u)
    xpos = jnp.where(x > 0, x, 1.0)
    dens = jnp.where(prior.mode == _UNIFORM_X, jac,
                     jnp.where(prior.mode == _LOGUNIFORM_X, jac - jnp.log(xpos), 0.0))
    v = jnp.where(prior.mode == _UNIFORM_U, u, x)
    inside = (v >= prior.a) & (v <= prior.b) & ((prior.mode != _LOGUNIFORM_X) | (x > 0))
    return jnp.where(jnp.all(inside), jnp.sum(dens), -jnp.inf)


def log_posterior(spec, absolute, u, arrays, prior: PriorArrays, n_points):
    """Log posterior in u (up to a constant): log-likelihood (see module docstring) + log prior.

    ``absolute`` (bool, may be traced): per-point sigma (-chi^2/2) or the marginalised
    unknown error scale (-(n_points/2) log chi^2)."""
    r = residual_u(spec, u, arrays)
    chi2 = r @ r
    ll = jnp.where(absolute, -0.5 * chi2, -0.5 * n_points * jnp.log(chi2))
    out = ll + log_prior(spec, u, prior)
    return jnp.where(jnp.isnan(out), -jnp.inf, out)


class Whitening(NamedTuple):
    """u = shift + L z: NUTS runs in z, where the least-squares approximation of the
    posterior is N(0, I) (blackjax regularises the adapted mass matrix towards a
    multiple of the identity, which must be the right scale)."""
    shift: jnp.ndarray
    L: jnp.ndarray


def _density_z(spec, absolute, arrays, prior, n_points, white):
    return lambda z: log_posterior(spec, absolute, white.shift + white.L @ z, arrays, prior, n_points)


# --------------------------------------------------------------------------
# compiled phases

def _nuts(logdensity, params):
    import blackjax
    return blackjax.nuts(logdensity, params["step_size"], params["inverse_mass_matrix"])


#: Compiled executables of the two phases by (phase, static arguments, argument shapes).
_EXECUTABLES: dict = {}


def _compiled(fn, static: tuple, args: tuple):
    """(compiled ``fn`` for these static values and argument shapes, seconds spent compiling
    now): ahead-of-time compilation, so that compile time is measured apart from run time."""
    leaves, tree = jax.tree.flatten(args)
    key = (fn, static, tree, tuple((np.shape(x), str(getattr(x, "dtype", type(x).__name__))) for x in leaves))
    ex = _EXECUTABLES.get(key)
    if ex is not None:
        return ex, 0.0
    t0 = time.perf_counter()
    ex = fn.lower(*static, *args).compile()
    _EXECUTABLES[key] = ex
    return ex, time.perf_counter() - t0


def _over_chains(fn, vectorise, *args):
    """fn applied to every chain: vmapped (lockstep) or one chain after the other (lax.map)."""
    return jax.vmap(fn)(*args) if vectorise else jax.lax.map(lambda a: fn(*a), args)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3, 4))
def _warmup(spec, dense, num_warmup, vectorise, target_accept, absolute, keys, z0, arrays, prior, n_points, white):
    """Window adaptation of every chain: (last z, step sizes, inverse mass matrices,
    divergent transitions during warmup)."""
    import blackjax
    from blackjax.adaptation.base import get_filter_adapt_info_fn
    logdensity = _density_z(spec, absolute, arrays, prior, n_points, white)
    n = z0.shape[1]
    imm0 = jnp.eye(n) if dense else jnp.ones(n)

    def one(key, z):
        wa = blackjax.window_adaptation(
            blackjax.nuts, logdensity, is_mass_matrix_diagonal=not dense,
            initial_inverse_mass_matrix=imm0, target_acceptance_rate=target_accept,
            adaptation_info_fn=get_filter_adapt_info_fn(info_keys={"is_divergent"}))
        (state, params), info = wa.run(key, z, num_warmup)
        return state.position, params["step_size"], params["inverse_mass_matrix"], \
            jnp.sum(info.info.is_divergent)

    return _over_chains(one, vectorise, keys, z0)


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _warmup_step_size(spec, num_warmup, vectorise, target_accept, absolute, keys, z0, arrays, prior, n_points,
                      white):
    """Step-size adaptation only (dual averaging), identity metric in z: (last z, step sizes,
    inverse mass matrices (ones), divergent transitions during warmup)."""
    import blackjax
    from blackjax.adaptation.step_size import dual_averaging_adaptation
    logdensity = _density_z(spec, absolute, arrays, prior, n_points, white)
    imm = jnp.ones(z0.shape[1])
    da_init, da_update, da_final = dual_averaging_adaptation(target_accept)

    def one(key, z):
        def step(carry, k):
            state, da, div = carry
            state, info = blackjax.nuts(logdensity, jnp.exp(da.log_step_size), imm).step(k, state)
            return (state, da_update(da, info.acceptance_rate), div + info.is_divergent), None

        start = (blackjax.nuts(logdensity, 1.0, imm).init(z), da_init(1.0), jnp.zeros((), int))
        (state, da, div), _ = jax.lax.scan(step, start, jax.random.split(key, num_warmup))
        return state.position, da_final(da), imm, div

    return _over_chains(one, vectorise, keys, z0)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _sample(spec, num_samples, vectorise, absolute, keys, z0, step_size, imm, arrays, prior, n_points, white):
    """num_samples NUTS draws of every chain, one lax.scan per chain: physical draws
    (chains, draws, n), log densities, divergence flags, acceptance statistics, leapfrog steps."""
    logdensity = _density_z(spec, absolute, arrays, prior, n_points, white)
    tr = spec.transform()

    def chain(key, z, eps, m):
        kernel = _nuts(logdensity, {"step_size": eps, "inverse_mass_matrix": m})

        def body(state, k):
            state, info = kernel.step(k, state)
            x = tr.to_physical(white.shift + white.L @ state.position)
            return state, (x, state.logdensity, info.is_divergent, info.acceptance_rate,
                           info.num_integration_steps)

        _, out = jax.lax.scan(body, kernel.init(z), jax.random.split(key, num_samples))
        return out

    return _over_chains(chain, vectorise, keys, z0, step_size, imm)
