"""Input checks shared by the core: every error names the parameter and its allowed range."""
from __future__ import annotations

import numbers
from collections.abc import Hashable
from typing import Optional

import numpy as np


class NonFiniteGradientError(ValueError):
    """Raised when a gradient handed to an optimizer holds NaN or Inf."""


_REAL_KINDS = "biuf"  # bool, signed and unsigned integers, floating
_FLOAT_MAX = float(np.finfo(np.float64).max)


def _short_repr(value, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters (an int of 400 digits stays readable)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _real_array(name: Optional[str], value, allowed: str) -> np.ndarray:
    """``value`` as an array of real numbers, or a TypeError naming ``name``: complex values (whose
    imaginary part a cast to float would drop), strings (which NumPy would parse) and other
    non-numeric objects are refused."""
    label = name if name is not None else "the array"
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{label} must be {allowed}, got the string {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:   # ragged nested sequences and the like
        raise TypeError(f"{label} must be {allowed}, got {value!r} ({err})") from None
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{label} must be {allowed}, got complex values (dtype {arr.dtype}): the "
                        "imaginary part would be dropped")
    if kind == "O":
        try:
            return arr.astype(float)
        except OverflowError:   # a Python int beyond the float64 range
            raise ValueError(f"{label} must be {allowed} in the float64 range [{-_FLOAT_MAX:.4g}, "
                             f"{_FLOAT_MAX:.4g}], got an integer too large to convert to float "
                             f"({_short_repr(value)})") from None
        except (TypeError, ValueError):
            raise TypeError(f"{label} must be {allowed}, got {value!r}") from None
    if kind not in _REAL_KINDS:
        raise TypeError(f"{label} must be {allowed}, got {value!r} (dtype {arr.dtype})")
    return arr


def as_floating(value, name: Optional[str] = None) -> np.ndarray:
    """``value`` as an array of a floating dtype: a floating dtype is kept (float32 stays
    float32), any other real dtype becomes float64; complex or non-numeric input raises a
    TypeError naming ``name``."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value
    arr = _real_array(name, value, "real numbers (a floating or integer array)")
    return arr if arr.dtype.kind == "f" else arr.astype(float)


def check_int(name: str, value, minimum: int, maximum: Optional[int] = None,
              reason: str = "") -> int:
    """Return ``value`` as an int, or raise naming ``name`` and the range ``[minimum, maximum]``
    (``reason`` says why there is a maximum)."""
    allowed = (f"an integer >= {minimum}" if maximum is None
               else f"an integer in [{minimum}, {maximum}]" + (f" ({reason})" if reason else ""))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {_short_repr(value)}")
    return int(value)


def check_real(name: str, value) -> np.ndarray:
    """``value`` (scalar or array-like) as a float array, or a TypeError naming ``name`` if it is
    complex, a string, a bool or otherwise not a real number."""
    arr = _real_array(name, value, "a real number (float or int) or an array of them")
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must be a real number (float or int), got the bool {value!r}")
    return arr.astype(float, copy=False)


def check_scalar(name: str, value) -> float:
    """``value`` as a float if it is one real number (an int, a float, a NumPy scalar or a 0-d
    array), else a TypeError naming ``name``: a list or an array of any shape (even of one
    entry), a string, a bool or a complex number is refused."""
    arr = check_real(name, value)
    if arr.ndim:
        raise TypeError(f"{name} must be a real scalar (float or int), got "
                        f"{_short_repr(value)} (an array-like of shape {arr.shape})")
    return float(arr)


def check_bool(name: str, value) -> bool:
    """``value`` as a bool if it is one (``True``/``False`` or a NumPy bool), else a TypeError
    naming ``name``: ints, strings, None and arrays (whose truth value NumPy may refuse) are not
    taken for a flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {_short_repr(value)} (type "
                        f"{type(value).__name__})")
    return bool(value)


def check_positive(name: str, value):
    """Return ``value`` (scalar or array) if every entry is a finite real > 0, else raise."""
    arr = check_real(name, value)
    if arr.size == 0 or not np.all(np.isfinite(arr)) or not np.all(arr > 0):
        raise ValueError(f"{name} must be finite and > 0 (allowed range (0, inf)), got {value!r}")
    return value


def check_in_unit_interval(name: str, value, *, open_right: bool = False):
    """Raise unless every entry of ``value`` is a real in [0, 1] (or [0, 1) with ``open_right``)."""
    arr = check_real(name, value)
    upper_ok = arr < 1 if open_right else arr <= 1
    if not np.all(np.isfinite(arr)) or not np.all((arr >= 0) & upper_ok):
        interval = "[0, 1)" if open_right else "[0, 1]"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise naming ``name`` and the choices:
    a TypeError unless ``value`` is a hashable scalar (a string, a number, None; an array or a
    list, whose ``in`` test NumPy would answer elementwise or refuse, is never a choice), else a
    ValueError."""
    options = sorted(choices)
    if isinstance(value, np.ndarray) or not isinstance(value, Hashable):
        raise TypeError(f"{name} must be one of {options}, got {_short_repr(value)} (type "
                        f"{type(value).__name__}, not a hashable scalar)")
    try:
        known = bool(value in choices)
    except (TypeError, ValueError):   # a hashable object whose == NumPy cannot reduce to a bool
        known = False
    if not known:
        raise ValueError(f"{name} must be one of {options}, got {_short_repr(value)}")
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


def check_not_empty(name: str, shape: tuple) -> None:
    """Raise unless an array of ``shape`` has at least one entry (an empty batch or an empty last
    axis leaves nothing to compute)."""
    if 0 in shape:
        raise ValueError(f"{name} must not be empty (every axis >= 1: at least one run of at least "
                         f"one coordinate), got shape {shape}")


def check_state_count(count) -> None:
    """An optimizer state's ``count`` (the updates done): an integer >= 0, else a ValueError
    naming ``state.count``."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"state.count must be an integer >= 0 (the updates done), got "
                         f"{count!r}: the state is corrupted")
