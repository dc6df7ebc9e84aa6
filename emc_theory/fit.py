r"""The toolkit's one set of least-squares fits: power laws :math:`y = c\,x^p` (a straight line in
log-log coordinates) and affine laws :math:`y = a + b x`, each with its residual.

Every exponent the checks, experiments and benchmark report (cost in d and K, plateau level
against the step, rates of decay, amplitude laws) comes from :func:`power_law_fit`, so one rule
says what a fitted exponent means: the slope of the least-squares line through
:math:`(\log x_i, \log y_i)`; ``residual`` is the root-mean-square of the log residuals (0 for an
exact power law).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class PowerLaw(NamedTuple):
    """:math:`y \\approx` ``prefactor`` :math:`\\cdot x^{\\text{exponent}}`; ``residual``: rms of
    the natural-log residuals; ``n``: points used."""

    exponent: float
    prefactor: float
    residual: float
    n: int


class AffineLaw(NamedTuple):
    """:math:`y \\approx a + b x`; ``max_rel_residual``: the largest :math:`|\\hat y - y|/|y|`."""

    a: float
    b: float
    max_rel_residual: float


def _points(x, y, name: str):
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"{name}: x and y must have the same number of points, "
                         f"got {x.size} and {y.size}")
    if x.size < 2:
        raise ValueError(f"{name}: needs at least 2 points, got {x.size}")
    return x, y


def power_law_fit(x, y) -> PowerLaw:
    """Least-squares power law through positive, finite points ``(x, y)``."""
    x, y = _points(x, y, "power_law_fit")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)) and np.all(x > 0)
            and np.all(y > 0)):
        raise ValueError("power_law_fit: x and y must be finite and > 0")
    lx, ly = np.log(x), np.log(y)
    if np.ptp(lx) == 0:
        raise ValueError("power_law_fit: x must take at least two distinct values")
    p, c = np.polyfit(lx, ly, 1)
    resid = ly - (c + p * lx)
    return PowerLaw(float(p), float(np.exp(c)), float(np.sqrt(np.mean(resid**2))), int(x.size))


def fitted_exponent(x, y) -> float:
    """The exponent of :func:`power_law_fit`."""
    return power_law_fit(x, y).exponent


def affine_fit(x, y) -> AffineLaw:
    """:math:`y = a + b x` by least squares, with the largest relative residual."""
    x, y = _points(x, y, "affine_fit")
    b, a = np.polyfit(x, y, 1)
    fitted = a + b * x
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(fitted - y) / np.abs(y)
    return AffineLaw(float(a), float(b), float(np.max(rel)))


def loglog_slopes(history: np.ndarray, start: int, stop: int) -> np.ndarray:
    r"""Least-squares slopes of :math:`\log y_t` against :math:`\log t` for ``t`` in
    ``[start, stop]``, vectorised over the trailing axes of ``history`` (shape ``(T, ...)``);
    NaN where some :math:`y_t` in the window is :math:`\le 0` or not finite."""
    if not 1 <= start < stop < len(history):
        raise ValueError(f"loglog_slopes: need 1 <= start < stop < len(history), got "
                         f"start={start}, stop={stop}, len={len(history)}")
    t = np.arange(start, stop + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(history[t])
    y = np.where(np.isfinite(y), y, np.nan)
    lt = np.log(t) - np.log(t).mean()
    return np.tensordot(lt, y - y.mean(axis=0), axes=(0, 0)) / np.sum(lt**2)
