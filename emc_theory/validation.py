"""Input checks shared by the core: every error names the parameter and its allowed range."""
from __future__ import annotations

import numbers

import numpy as np


class NonFiniteGradientError(ValueError):
    """Raised when a gradient handed to an optimizer holds NaN or Inf."""


def as_floating(value) -> np.ndarray:
    """``value`` as an array of a floating dtype: a floating dtype is kept (float32 stays
    float32), any other becomes float64."""
    arr = np.asarray(value)
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(float)


def check_int(name: str, value, minimum: int) -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the range ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_positive(name: str, value):
    """Return ``value`` (scalar or array) if every entry is finite and > 0, else raise."""
    arr = np.asarray(value, dtype=float)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise ValueError(f"{name} must be finite and > 0 (allowed range (0, inf)), got {value!r}")
    return value


def check_in_unit_interval(name: str, value, *, open_right: bool = False):
    """Raise unless every entry of ``value`` lies in [0, 1] (or [0, 1) with ``open_right``)."""
    arr = np.asarray(value, dtype=float)
    upper_ok = arr < 1 if open_right else arr <= 1
    if not np.all(np.isfinite(arr)) or not np.all((arr >= 0) & upper_ok):
        interval = "[0, 1)" if open_right else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Raise unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def check_finite_grads(grads: np.ndarray) -> None:
    """Raise :class:`NonFiniteGradientError` naming ``grads`` and the offending runs."""
    finite = np.isfinite(grads)
    if finite.all():
        return
    bad_runs = np.argwhere(~finite.all(axis=-1)) if grads.ndim > 1 else np.zeros((1, 0), int)
    where = "" if grads.ndim == 1 else f" in runs (leading indices) {bad_runs[:5].tolist()}"
    raise NonFiniteGradientError(
        f"grads must be finite; got NaN or Inf{where}. Stop or mask the run before updating "
        "(emc_theory.minimize does this and reports status 'non-finite')."
    )
