"""JSON-ready copies of run records: the one conversion every writer of records uses."""
from __future__ import annotations

import math

import numpy as np


def json_ready(obj, nonfinite=None):
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Dicts (keys as strings), lists, tuples and arrays are copied recursively, NumPy scalars
    become Python scalars, and each non-finite float becomes ``nonfinite(x)`` if that is callable
    (e.g. ``repr`` keeps ``'inf'`` and ``'nan'`` as strings), else the value ``nonfinite``
    (``None`` by default: JSON ``null``)."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v, nonfinite) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v, nonfinite) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist(), nonfinite)
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return nonfinite(obj) if callable(nonfinite) else nonfinite
    return obj
