"""Test configuration: float64 on (jtls does it on import; asserted here)."""
import os

import jax

import jtls  # noqa: F401  enables x64

assert jax.config.jax_enable_x64, "jtls must enable float64 on import"

# In-process `jtls fit` calls would switch on JAX's persistent compilation cache and the store
# of exported programs (jtls._exported) in ~/.cache for the rest of the session; tests that
# exercise them set JTLS_JAX_CACHE to a folder of their own.
os.environ["JTLS_JAX_CACHE"] = "off"


def shared_data_dir():
    """Path of the real datasets: $JTLS_DATA or ../shared/data next to the repo."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("JTLS_DATA", os.path.join(os.path.dirname(here), "shared", "data"))
