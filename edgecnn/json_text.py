"""JSON for reports: NaN and infinity (identical tensors have infinite SQNR) have no JSON spelling, so null."""

import json
import math

import numpy as np


def safe(value):
    """`value` with every non-finite float replaced by None and NumPy scalars made Python numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe(item) for item in value]
    return value


def dumps(value, indent=1, **options):
    return json.dumps(safe(value), indent=indent, allow_nan=False, **options)
