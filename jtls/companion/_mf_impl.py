"""Implementation pieces of :mod:`jtls.companion.meanfield`: the spin tanh(x / 2T),
the Gauss-Seidel sweep of Eq. 4 and the checkpoint files of ``simulate``.

The checkpoint files use the annealer's file helpers (:mod:`jtls.anneal.files`:
the run lock, atomic fsync'ed writes to a pid-unique temporary, the SHA-256 over
all arrays, the verified load); this module adds only what is particular to
``simulate``: recognising its checkpoints, the shapes their arrays must have and
their invariants.
"""
from __future__ import annotations

import json

import numpy as np
import jax
import jax.numpy as jnp

from ..anneal import files as F

#: ``meta["kind"]`` of a checkpoint of :func:`jtls.companion.meanfield.simulate`.
CHECKPOINT_KIND = "jtls.companion.meanfield.simulate"
#: Arrays with one row of N values per realization (the others have one value per realization).
PER_TLS = ("E", "delta0", "delta_prime", "rates")


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


def _stored_count(path: str) -> int:
    """Realizations stored in ``path`` (its ``done``), after recognising it as a checkpoint of
    ``simulate``; nothing is verified here (:func:`load_checkpoint` does that)."""
    why = None
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            if "n_done" in names and "sha256" not in names:
                why = "it was written by jtls before checkpoints had a checksum and cannot be verified"
            elif not {"meta", "done", "sha256", "ckpt_version"} <= names:
                why = f"it holds arrays {sorted(names)}"
            else:
                kind = json.loads(str(z["meta"])).get("kind")
                if kind != CHECKPOINT_KIND:
                    why = f"its metadata say kind {kind!r}"
                done = z["done"]
    except Exception as exc:  # noqa: BLE001 - any failure to read it means it is not one of ours
        why = f"{type(exc).__name__}: {exc}"
    if why is not None:
        raise F.CheckpointError(
            f"argument 'checkpoint': {path!r} is not a checkpoint of simulate, or is damaged ({why}); "
            f"pass another path, delete it, or pass overwrite=True to replace it")
    ok = done.shape == () and done.dtype.kind in "iu" and int(done) >= 0
    return int(done) if ok else 0         # a bad 'done' is reported by load_checkpoint


def _invariants(meta: dict):
    """check(done, arrays) for :func:`jtls.anneal.files.load_checkpoint`: the relations every
    result of ``simulate`` satisfies exactly (a description of the first violated one, or None)."""
    def check(done, a):
        rules = [
            ("'done' is negative", done < 0),
            ("delta0 <= 0", np.any(a["delta0"] <= 0)),
            ("negative rates", np.any(a["rates"] < 0)),
            ("negative residual", np.any(a["residual"] < 0)),
            (f"iterations outside [0, max_iter={meta['max_iter']}]",
             np.any((a["iterations"] < 0) | (a["iterations"] > meta["max_iter"]))),
            (f"'converged' differs from residual <= tol={meta['tol']}",
             np.any(a["converged"] != (a["residual"] <= meta["tol"]))),
            ("the sign of E differs from that of delta_prime",
             np.any((a["E"] >= 0) != (a["delta_prime"] >= 0))),
        ]
        bad = [what for what, violated in rules if violated]
        return f"the stored results are inconsistent ({'; '.join(bad)})" if bad else None
    return check


def load_checkpoint(path: str, meta: dict, N: int) -> tuple[int, dict]:
    """(realizations done, {name: array}) of the checkpoint ``path`` of a run with metadata ``meta``.

    Verified by :func:`jtls.anneal.files.load_checkpoint`: every member readable,
    the SHA-256 of the arrays, ``meta`` equal to the stored one
    (:class:`~jtls.anneal.files.CheckpointMismatch` naming the differences),
    every array of the stored count of rows (N values per TLS or one per
    realization), in the run's dtypes, finite and consistent
    (:func:`_invariants`).  A ValueError naming the file and what is wrong
    otherwise; call while holding the checkpoint's lock.
    """
    done = _stored_count(path)
    fdt, idt = jnp.result_type(float), jnp.result_type(int)
    dtypes = {k: fdt for k in PER_TLS} | {"converged": bool, "iterations": idt, "residual": fdt}
    empty = {k: np.zeros((done, N) if k in PER_TLS else (done,), dt) for k, dt in dtypes.items()}
    return F.load_checkpoint(path, meta, empty, _invariants(meta))


def save_checkpoint(path: str, meta: dict, n_done: int, arrs: dict) -> None:
    """Write the finished realizations (:func:`jtls.anneal.files.save_checkpoint`: SHA-256,
    a pid-unique temporary, fsync, atomic rename); call while holding the checkpoint's lock."""
    F.save_checkpoint(path, meta, n_done, arrs)
