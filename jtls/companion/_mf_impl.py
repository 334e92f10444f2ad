"""Implementation pieces of :mod:`jtls.companion.meanfield`: the spin tanh(x / 2T),
the Gauss-Seidel sweep of Eq. 4 and the checkpoint files of ``simulate``."""
from __future__ import annotations

import os
import zipfile

import numpy as np
import jax
import jax.numpy as jnp


def spin(x, T):
    """tanh(x / 2T), sign(x) at T = 0."""
    Te = jnp.maximum(T, 1e-300)  # T = 0 -> sign(x)
    return jnp.tanh(x / (2.0 * Te))


def sweep_sequential(K, delta, x, T, eta):
    """One Gauss-Seidel sweep i = 0..N-1 of x_i <- x_i + eta (F_i(x) - x_i).

    The field h = K tanh(x / 2T) (kept in K's dtype) is recomputed at the start
    of every sweep, so rounding does not accumulate across sweeps, and is
    updated by one row of K (= column, K symmetric) after each site update
    whose spin tanh(x_i / 2T) actually changed.
    """
    N = x.shape[0]
    cd = K.dtype
    s = spin(x, T).astype(cd)
    h = jnp.dot(K, s, preferred_element_type=cd)

    def site(i, carry):
        x, s, h = carry
        f = delta[i] + 0.25 * h[i].astype(x.dtype)
        xi = x[i] + eta * (f - x[i])
        si = spin(xi, T).astype(cd)
        ds = si - s[i]

        def add(h):
            return h + ds * jax.lax.dynamic_index_in_dim(K, i, axis=0, keepdims=False)

        h = jax.lax.cond(ds != 0, add, lambda h: h, h)
        return x.at[i].set(xi), s.at[i].set(si), h

    x, _, _ = jax.lax.fori_loop(0, N, site, (x, s, h))
    return x


def load_checkpoint(path: str, meta: str, names) -> tuple[int, dict]:
    """(realizations done, {name: array}) of a checkpoint written with the arguments ``meta``.

    ValueError naming 'checkpoint' when the file is not a checkpoint of
    ``simulate`` or was written with other arguments.
    """
    try:
        with np.load(path) as z:
            saved = str(z["meta"])
            n_done = int(z["n_done"])
            arrs = {k: z[k] for k in names}
    except (OSError, ValueError, KeyError, EOFError, TypeError, AttributeError,
            zipfile.BadZipFile) as exc:
        raise ValueError(f"argument 'checkpoint': {path!r} is not a checkpoint of simulate "
                         f"({type(exc).__name__}: {exc})") from None
    if saved != meta:
        raise ValueError(f"checkpoint {path!r} was written with other arguments: {saved} (now {meta})")
    return n_done, arrs


def save_checkpoint(path: str, meta: str, n_done: int, arrs: dict) -> None:
    """Write the finished realizations atomically (a .tmp.npz next to ``path``, then a rename)."""
    tmp = path + ".tmp.npz"
    np.savez(tmp, meta=np.array(meta), n_done=n_done, **arrs)
    os.replace(tmp, path)
