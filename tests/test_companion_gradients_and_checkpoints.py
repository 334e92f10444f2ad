"""Companion models: gradients across branch switches, degenerate histogram input, and the
checkpoint files of the mean-field ``simulate`` (hostile audit, session 13).

* Gradients: ``exp1``, ``log_relaxation`` and ``relaxation_rates`` switch between a series and
  a closed form; ``jax.grad`` at and around each switch point is compared with the analytic
  derivative (and with mpmath for the rates), so a guard that splits the derivative between
  the branches (``jnp.minimum``/``jnp.maximum`` at a tie halved it at x = 1) fails here.
* ``relaxation.dos`` on energies that float64 cannot bin names the argument.
* ``meanfield.simulate`` checkpoints use the annealer's file helpers (:mod:`jtls.anneal.files`):
  a second run on the same checkpoint is refused naming it and its holder, an edited or
  inconsistent checkpoint is refused naming the file and what is wrong (also when the edit
  carries a recomputed checksum, so the invariants themselves are exercised), an interrupted
  and resumed run gives exactly the result of an uninterrupted one, and a checkpoint is
  replaced only with ``overwrite=True``.
"""
import glob
import json
import os
import threading

import jax
import mpmath
import numpy as np
import pytest

from jtls.anneal import files as F
from jtls.companion import meanfield as mf
from jtls.companion import relaxation as rel

KW = dict(W=1.0, T=0.1, batch=2)


# ------------------------------------------------------------------------------------ gradients

def test_exp1_and_log_relaxation_gradients_at_the_branch_point():
    np.testing.assert_allclose(float(jax.grad(rel.exp1)(1.0)), -np.exp(-1.0), rtol=1e-10)
    lam_min, lam_max = 1e-6, 1.0

    def f(t):
        return rel.log_relaxation(t, lam_min, lam_max)

    for t in (1.0 / lam_max, 1.0 / lam_min):   # lam_max t = 1, lam_min t = 1
        exact = (np.exp(-lam_max * t) - np.exp(-lam_min * t)) / t / np.log(lam_max / lam_min)
        np.testing.assert_allclose(float(jax.grad(f)(t)), exact, rtol=1e-8)


@pytest.mark.parametrize("x", [0.3, 1.0 - 1e-12, 1.0, 1.0 + 1e-12, 1.7, 40.0])
def test_exp1_gradient_around_the_switch(x):
    # dE1/dx = -e^-x / x
    np.testing.assert_allclose(float(jax.grad(rel.exp1)(x)), -np.exp(-x) / x, rtol=1e-12)


@pytest.mark.parametrize("lam", [(1e-6, 1.0), (1e-3, 10.0)])
def test_log_relaxation_gradient_across_both_switches(lam):
    lam_min, lam_max = lam
    norm = np.log(lam_max / lam_min)
    grad = jax.grad(lambda t: rel.log_relaxation(t, lam_min, lam_max))
    for t in (1e-3 / lam_max, 1.0 / lam_max, 0.5 / lam_min, 1.0 / lam_min,
              (1.0 + 1e-9) / lam_min, 3.0 / lam_min):
        exact = (np.exp(-lam_max * t) - np.exp(-lam_min * t)) / t / norm
        np.testing.assert_allclose(float(grad(t)), exact, rtol=1e-10, err_msg=f"t = {t}")
    # t = 0: the limit -(lam_max - lam_min) / ln(lam_max / lam_min)
    np.testing.assert_allclose(float(grad(0.0)), -(lam_max - lam_min) / norm, rtol=1e-12)


@pytest.mark.parametrize("y", [1e-9, 1e-6, 1e-4, 0.1 * (1 - 1e-12), 0.1, 0.1 * (1 + 1e-12), 2.0])
def test_relaxation_rate_gradient_at_small_energy(y):
    # lambda = a Delta0^2 E coth(E / 2T); y = E / 2T.  The old form had a 1e-6 switch with a
    # jnp.maximum guard (half the tanh-branch derivative at y = 1e-6) and lost ~1e-4 of the
    # derivative just above it (1/tanh y - y/sinh^2 y cancels).
    T, d0 = 0.1, 0.1
    mpmath.mp.dps = 40

    def exact(e):
        return d0 ** 2 * e * mpmath.coth(e / (2 * T))

    E = 2 * T * y
    got = float(jax.grad(lambda e: mf.relaxation_rates(e, d0, T))(E))
    want = float(mpmath.diff(exact, mpmath.mpf(E)))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(float(mf.relaxation_rates(E, d0, T)), float(exact(mpmath.mpf(E))),
                               rtol=1e-15)


# ------------------------------------------------------------------------------------------ dos

@pytest.mark.parametrize("E, kw, name", [
    ([1e300, 1e300], {}, "'E'"),
    ([-1.7e308, 1.7e308], {}, "'E'"),
    ([0.0, 1.0], dict(range=(1e300, 1.0000000000000002e300)), "'range'"),
    ([0.0, 1.0], dict(range=(-1.7e308, 1.7e308)), "'range'"),
])
def test_relaxation_dos_degenerate_input_names_the_argument(E, kw, name):
    with pytest.raises(ValueError, match=f"{name}.*'bins'=80"):
        rel.dos(E, **kw)


def test_relaxation_dos_single_value_still_works():
    c, h = rel.dos([5.0, 5.0], bins=3)              # numpy's +-0.5 convention, kept
    np.testing.assert_allclose(c, [14 / 3, 5.0, 16 / 3])
    np.testing.assert_allclose(h, [0.0, 3.0, 0.0])


# ---------------------------------------------------------------------------------- checkpoints

@pytest.fixture(scope="module")
def reference():
    """An uninterrupted 4-realization run."""
    return mf.simulate(jax.random.key(0), 4, 8, **KW)


def _mf_checkpoint(path):
    mf.simulate(jax.random.key(0), 2, 8, checkpoint=str(path), **KW)
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _resave(path, arrays, rehash):
    arrays = dict(arrays)
    if rehash:              # a consistent checksum: only the invariants can catch the edit
        arrays.pop("sha256")
        arrays["sha256"] = np.asarray(F.digest(arrays))
    np.savez(path, **arrays)


@pytest.mark.parametrize("rehash", [False, True])
@pytest.mark.parametrize("n_done", [1, 3])
def test_meanfield_checkpoint_with_inconsistent_count_is_refused(tmp_path, reference, n_done, rehash):
    ck = tmp_path / "mf.npz"
    arrays = _mf_checkpoint(ck)
    assert int(arrays["done"]) == 2 and arrays["tot_E"].shape == (2, 8)
    arrays["done"] = np.int64(n_done)          # 2 realizations stored
    _resave(ck, arrays, rehash)
    what = r"shape \(2, 8\), expected" if rehash else "checksum mismatch"
    with pytest.raises(ValueError, match=f"checkpoint {ck} is invalid: .*{what}"):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **KW)


def test_meanfield_edited_checkpoint_is_refused(tmp_path):
    ck = tmp_path / "mf.npz"
    arrays = _mf_checkpoint(ck)
    arrays["tot_E"] = arrays["tot_E"] * 2.0
    _resave(ck, arrays, rehash=False)
    with pytest.raises(ValueError, match=f"checkpoint {ck} is invalid: checksum mismatch"):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **KW)


@pytest.mark.parametrize("edit, what", [
    (lambda a: a.__setitem__("tot_converged", ~a["tot_converged"]), "'converged' differs"),
    (lambda a: a.__setitem__("tot_rates", -a["tot_rates"]), "negative rates"),
    (lambda a: a.__setitem__("tot_E", -a["tot_E"]), "sign of E"),
    (lambda a: a.__setitem__("tot_iterations", a["tot_iterations"] + 10 ** 6), "iterations outside"),
])
def test_meanfield_checkpoint_invariants(tmp_path, edit, what):
    ck = tmp_path / "mf.npz"
    arrays = _mf_checkpoint(ck)
    edit(arrays)
    _resave(ck, arrays, rehash=True)
    with pytest.raises(ValueError, match=f"checkpoint {ck} is invalid: .*{what}"):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **KW)


def test_meanfield_foreign_or_old_checkpoint_is_not_resumed(tmp_path):
    ck = tmp_path / "mf.npz"
    arrays = _mf_checkpoint(ck)
    meta = json.loads(str(arrays["meta"]))
    old = dict(meta=np.array(repr(meta)), n_done=np.int64(2),
               **{k[4:]: v for k, v in arrays.items() if k.startswith("tot_")})
    np.savez(ck, **old)                           # the layout before checksums
    with pytest.raises(ValueError, match="argument 'checkpoint'.*not a checkpoint of simulate.*checksum"):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **KW)
    other = tmp_path / "other.npz"
    F.save_checkpoint(other, {"kind": "annealer"}, 0, {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="not a checkpoint of simulate.*kind 'annealer'"):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(other), **KW)
    assert os.path.exists(other)                  # refused, not replaced


def test_meanfield_checkpoint_is_replaced_only_when_asked(tmp_path, reference):
    ck = tmp_path / "mf.npz"
    _mf_checkpoint(ck)
    kw = dict(KW, W=2.0)
    with pytest.raises(ValueError, match=r"different settings \(differs in: W: checkpoint 1.0, this run 2.0"):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **kw)
    with np.load(ck) as z:
        assert json.loads(str(z["meta"]))["W"] == 1.0        # untouched
    other = mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), overwrite=True, **kw)
    assert not np.array_equal(other.E, reference.E)
    with np.load(ck) as z:
        assert json.loads(str(z["meta"]))["W"] == 2.0 and int(z["done"]) == 4
    with pytest.raises(ValueError, match="argument 'overwrite'"):
        mf.simulate(jax.random.key(0), 4, 8, overwrite=True, **KW)


def test_meanfield_interrupted_and_resumed_run_equals_uninterrupted(tmp_path, monkeypatch, reference):
    ck = tmp_path / "mf.npz"
    real = mf._batched
    calls = []

    def dies_in_second_batch(*a):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(*a)

    monkeypatch.setattr(mf, "_batched", dies_in_second_batch)
    with pytest.raises(KeyboardInterrupt):
        mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **KW)
    with np.load(ck) as z:
        assert int(z["done"]) == 2                # the first batch was kept
    assert not os.path.exists(F.lock_path(ck))    # the lock was released
    assert not glob.glob(str(ck) + ".tmp*")
    monkeypatch.setattr(mf, "_batched", real)
    resumed = mf.simulate(jax.random.key(0), 4, 8, checkpoint=str(ck), **KW)
    for name, a, b in zip(mf.MFRun._fields, resumed, reference):
        assert np.array_equal(a, b), name


def test_meanfield_second_run_on_a_held_checkpoint_is_refused(tmp_path):
    ck = str(tmp_path / "mf.npz")
    with F.OutputLock(ck):          # another run holds it
        with pytest.raises(ValueError, match=f"another run is writing {ck}: lock file {ck}.lock is held "
                                             f"by pid {os.getpid()}"):
            mf.simulate(jax.random.key(0), 2, 8, checkpoint=ck, **KW)
    assert not os.path.exists(ck)


def test_meanfield_concurrent_runs_on_one_checkpoint(tmp_path):
    ck = str(tmp_path / "mf.npz")
    mf.simulate(jax.random.key(0), 1, 6, W=1.0, T=0.1, batch=1)      # compile outside the race
    errors = []
    results = []

    def one():
        try:
            results.append(mf.simulate(jax.random.key(0), 120, 6, W=1.0, T=0.1, batch=1, checkpoint=ck))
        except F.RunLocked:
            pass                        # a clear refusal ("another run is writing ...") is fine
        except Exception as exc:        # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results and all(r.E.shape == (120, 6) for r in results)
    with np.load(ck) as z:
        assert int(z["done"]) == 120
