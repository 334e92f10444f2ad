"""The store of exported programs (jtls._exported; issue 14, item 3: a cached `jtls fit` process).

Checked: a second process fits from the stored programs without tracing the
model (counted: calls of the observable with traced arguments), with the same
result; damaged files are ignored and written again; what cannot be written
out identically in every process (user functions, closures) is never stored;
the key follows everything that shapes a program; the store is off unless
turned on, and an unusable folder never stops a fit.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import jax
import jax.numpy as jnp

from jtls import _exported

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# a child process: one velocity fit of a fixed noisy curve with the store in $STORE_DIR;
# prints the result and how often the observable was called with traced arguments
CHILD = r"""
import json, os, sys
import numpy as np
import jax
import jtls
import jtls.observables as obs
from jtls.fit import Model, fit
from jtls.fit.cli import enable_compilation_cache
enable_compilation_cache(os.environ["STORE_DIR"])
traced = [0]
orig = obs.velocity_shift
def counting(T, *a, **k):
    if isinstance(T, jax.core.Tracer):
        traced[0] += 1
    return orig(T, *a, **k)
obs.velocity_shift = counting
omega = 2 * np.pi * 90e3
T = np.geomspace(0.05, 10.0, 40)
y = np.asarray(orig(T, 3.2e-4, 0.12, 2 * np.pi * 9.4e6, omega, 1.0)) + 1e-4
y = y + 4e-6 * np.random.default_rng(0).normal(size=T.size)
r = fit(Model("velocity", omega=omega), (T, y))
print(json.dumps({"status": r.status, "values": r.values, "stderr": r.stderr, "chi2": r.chi2,
                  "traced": traced[0]}))
"""


def _child(store):
    env = dict(os.environ, STORE_DIR=str(store), JAX_PLATFORMS="cpu", JTLS_EXPORTED="on")
    p = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _stored(store):
    d = store / "exported"
    return sorted(d.glob("*.jtlsx")) if d.is_dir() else []


def test_second_process_runs_stored_programs_without_tracing(tmp_path):
    store = tmp_path / "cache"
    first = _child(store)
    files = _stored(store)
    names = {f.name.split("-")[0] for f in files}
    # the solve, the held solves of the verdict (mu = 0) and the guess are stored
    assert {"solve_kernel", "grid_eval"} <= names or {"solve_program", "grid_eval"} <= names, names
    assert any(n.startswith("jtls.fit.constrained._solve_rows") for n in names), names
    assert first["traced"] > 0                  # the first process traced the model
    second = _child(store)
    assert second["traced"] == 0                # ... the second one did not
    assert second["status"] == first["status"] == "ok"
    assert second["values"] == first["values"]  # the same compiled programs: bit for bit
    assert second["stderr"] == first["stderr"]
    assert [f.name for f in _stored(store)] == [f.name for f in files]   # nothing new written

    # damaged files: ignored, the programs traced and written again, the same result
    for f in files:
        b = bytearray(f.read_bytes())
        b[-10] ^= 0xFF
        f.write_bytes(bytes(b))
    third = _child(store)
    assert third["traced"] > 0
    assert third["values"] == first["values"]
    for f in _stored(store):
        key = f.read_bytes().partition(b"\n")[0].split(b" ")[2].decode()
        assert f.name.endswith(f"-{key[:40]}.jtlsx"), f.name          # the header's key is the name's
        assert _exported._read(f, key) is not None, f.name    # whole and verified again
        assert _exported._read(f, "0" * 64) is None, f.name   # not under another key


def test_stable_text_refuses_what_differs_between_processes():
    def local(x):
        return x
    with pytest.raises(_exported.Unstable):
        _exported.stable_text(local)                # a closure (and not a jtls function)
    with pytest.raises(_exported.Unstable):
        _exported.stable_text(lambda x: x)
    with pytest.raises(_exported.Unstable):
        _exported.stable_text(np.sum)               # defined outside jtls
    with pytest.raises(_exported.Unstable):
        _exported.stable_text((1, object()))        # an object with no written-out form
    from jtls.fit import get_observable
    from jtls.fit.solvers import SolverOptions
    from jtls.simulated.observables import register
    # the simulated-DOS models read a library file the key cannot see: never stored
    with pytest.raises(_exported.Unstable):
        _exported.stable_text(get_observable(register("thermal_conductivity")))
    obs = get_observable("velocity")
    # equal objects give equal text; a changed field changes it
    assert _exported.stable_text(obs) == _exported.stable_text(get_observable("velocity"))
    assert _exported.stable_text(SolverOptions()) != _exported.stable_text(SolverOptions(lam0=1e-6))
    assert _exported.stable_text(0.1) != _exported.stable_text(float(np.nextafter(0.1, 1.0)))
    assert _exported.stable_text((1, 2)) != _exported.stable_text([1, 2])


def test_key_follows_sources_arguments_and_statics(monkeypatch):
    def signature(*args):
        leaves, tree = jax.tree.flatten(args)
        return _exported._signature(tree, leaves)
    sig = signature(np.zeros(5))
    k = _exported._key("p", ("a", 1.0), sig)
    assert k == _exported._key("p", ("a", 1.0), sig)
    assert k != _exported._key("q", ("a", 1.0), sig)
    assert k != _exported._key("p", ("a", 2.0), sig)
    assert k != _exported._key("p", ("a", 1.0), signature(np.zeros(6)))
    assert k != _exported._key("p", ("a", 1.0), signature(np.zeros(5, np.float32)))
    monkeypatch.setitem(_exported._state, "digest", "0" * 64)    # another version of the sources
    assert k != _exported._key("p", ("a", 1.0), sig)


def test_user_observable_is_not_stored_and_fits(tmp_path):
    from jtls.fit import Model, fit, register_observable
    from jtls.fit.model import REGISTRY

    def schottky(T, n, E0):           # a user's model: its code is not part of the key
        x = E0 / T
        return n * x**2 * jnp.exp(x) / (1.0 + jnp.exp(x)) ** 2

    register_observable("schottky_store_test", schottky, ("n", "E0"), positive=True,
                        bounds={"n": (0.0, np.inf), "E0": (0.0, np.inf)}, defaults={"n": 1.0, "E0": 1.0})
    T = np.geomspace(0.1, 3.0, 30)
    y = np.asarray(schottky(T, 2.0, 0.5))
    try:
        assert _exported.enable(tmp_path / "exported") is not None
        r = fit(Model("schottky_store_test"), (T, y))
    finally:
        _exported.disable()
        REGISTRY.pop("schottky_store_test", None)
    assert r.status == "ok" and abs(r.values["E0"] - 0.5) < 1e-6
    assert not any(f.name.startswith(("solve", "jtls.fit.constrained"))
                   for f in (tmp_path / "exported").glob("*.jtlsx"))


def test_cli_switch(tmp_path, monkeypatch):
    from jtls.fit.cli import enable_exported
    try:
        monkeypatch.setenv("JTLS_EXPORTED", "off")
        assert enable_exported(str(tmp_path)) is None and _exported.directory() is None
        monkeypatch.delenv("JTLS_EXPORTED")           # unset: on
        assert enable_exported(str(tmp_path)) == str(tmp_path / "exported") == _exported.directory()
    finally:
        _exported.disable()


def test_off_by_default_and_unusable_folder(tmp_path):
    from jtls.fit import Model, fit
    assert _exported.directory() is None        # a library call writes no files on its own
    calls = []
    prog = lambda x: calls.append(1) or x + 1  # noqa: E731 -- stands for a jitted program
    assert _exported.call("p", prog, (), (np.ones(2),)).tolist() == [2.0, 2.0] and calls
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert _exported.enable(blocker / "exported") is None       # cannot be created: stays off
    assert _exported.directory() is None
    T = np.geomspace(0.1, 1.0, 12)
    r = fit(Model("specific_heat"), (T, 2.0 * T))
    assert r.status == "ok"
