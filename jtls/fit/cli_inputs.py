"""Conversions of a read file to what a ``jtls fit`` observable fits (the input half of
:mod:`jtls.fit.cli`): losses 1/Qi given for the Qi fit of ``resonator_loss``."""
from __future__ import annotations

import numpy as np


def quality_factor_input(ds, file):
    """(dataset of Qi, conversion record or None) for ``--observable resonator_loss``, which fits
    the internal quality factor Qi (on ln Qi).  A file whose column says it holds losses (1/Qi,
    tan delta: quantity 'resonator_loss') is converted to Qi = 1/loss, with a note and the record
    that goes to ``result.extra.input_conversion``; values below 1 that the file calls Qi (or does
    not name) cannot be a quality factor and are refused (they are losses under another name)."""
    conversion = None
    if ds.quantity == "resonator_loss":
        ds = ds.as_quality_factor()
        conversion = {"from": "loss 1/Qi (the file's value column)", "to": "Qi = 1/loss",
                      "note": ds.notes[-1]}
    from ..resonator.models import quality_factor_values
    why = quality_factor_values(np.asarray(ds.value, float))
    if why:
        raise ValueError(f"{file}: {why}: if the column holds losses 1/Qi or tan delta, name it so in the "
                         "header (e.g. '1/Qi', 'loss', 'tan delta') and it is converted")
    return ds, conversion
