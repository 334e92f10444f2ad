"""Test configuration: float64 on (jtls does it on import; asserted here)."""
import os

import jax

import jtls  # noqa: F401  enables x64

assert jax.config.jax_enable_x64, "jtls must enable float64 on import"

# In-process `jtls fit` calls switch on JAX's persistent compilation cache for the rest of the
# session (as they always did); the store of exported programs (jtls._exported) stays off in the
# test processes and their children: tests that exercise it turn it on in a folder of their own.
os.environ["JTLS_EXPORTED"] = "off"


def shared_data_dir():
    """Path of the real datasets: $JTLS_DATA or ../shared/data next to the repo."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.environ.get("JTLS_DATA", os.path.join(os.path.dirname(here), "shared", "data"))
