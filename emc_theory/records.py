"""Records as JSON: :func:`json_ready`, the one conversion of run records to plain JSON values,
and :func:`dumps`, the one canonical JSON writer (the claim reports, the experiments' run records
and the benchmark record all write through it)."""
from __future__ import annotations

import json
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


def dumps(obj, *, indent: int | None = 1, nonfinite=None) -> str:
    """Canonical JSON text of ``obj``, ending with a newline: :func:`json_ready` (``nonfinite``
    as there: ``None`` writes ``null``, ``repr`` keeps ``"inf"``/``"nan"`` as strings), keys
    sorted, ``allow_nan=False``; ``indent`` spaces per level, or ``None`` for the compact form
    (no spaces after separators). The same content always gives the same bytes."""
    if indent is not None and (isinstance(indent, bool) or not isinstance(indent, int)
                               or indent < 0):
        raise ValueError(f"indent must be an integer >= 0 or None, got {indent!r}")
    separators = (",", ":") if indent is None else None
    return json.dumps(json_ready(obj, nonfinite), sort_keys=True, indent=indent,
                      separators=separators, allow_nan=False) + "\n"
