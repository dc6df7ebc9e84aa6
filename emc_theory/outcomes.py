r"""Run outcomes: the toolkit's one set of failed statuses and one classifier of runs.

``FAILED_STATUSES`` are the runner's statuses that end a run as a failure. :func:`classify_runs`
is the single place that turns runs' histories (from :func:`emc_theory.runner.minimize` or a
:func:`emc_theory.sweep.sweep` with ``history=True``) into classes, vectorised over runs:

* ``"converged"``: the runner's status ``converged`` (:math:`\|\nabla f\|` reached the tolerance),
  or a run that reached the budget exactly stationary (:math:`\nabla f(x_T) = 0`);
* ``"diverged"`` and ``"non-finite"``: the runner's statuses (:data:`FAILED_STATUSES`);
* runs that reached the budget are classified on the *tail*, the steps
  :math:`t \in [\max(1, \lfloor T/2 \rfloor), T]` of a budget of :math:`T` steps:

  - ``"cycle"``: a bounded cycle. The tail repeats with period :math:`p \le` ``max_period``:
    for every phase, the samples :math:`y_{t}, y_{t+p}, y_{t+2p}, \dots` of each recorded
    signal (:math:`\|\nabla f\|`, and :math:`f - f^\star` and the iterates where given) spread
    by at most ``cycle_rtol`` times the signal's largest size in the tail. ``period`` is the
    smallest such :math:`p` (the period of the signals given: a symmetric orbit
    :math:`x \leftrightarrow -x` has norms of period 1 and iterates of period 2), ``amplitude``
    the largest :math:`\|\nabla f\|` over the last period (how far from stationary the cycle
    stays);
  - otherwise the *exponent*, the least-squares slope of :math:`\log y_t` against
    :math:`\log t` over the tail (:func:`emc_theory.fit.loglog_slopes`), the steeper of
    :math:`y = \|\nabla f\|` and :math:`y = f - f^\star` where both are given, decides:
    ``"converging"`` below ``-slope_tol`` (the run decreases like :math:`t^{\text{exponent}}`,
    or faster), ``"diverging"`` when :math:`\|\nabla f\|` rises faster than
    :math:`t^{\text{slope\_tol}}` and :math:`f - f^\star` does not fall (growing, but below the
    runner's divergence cap), else ``"stalled"`` (no measurable progress, no cycle).

Beside the class, every run that reached the budget gets its ``exponent``, its geometric
``factor`` (the per-step factor :math:`e^{s}` of the least-squares slope :math:`s` of
:math:`\log\|\nabla f\|` against :math:`t` over the tail: :math:`\|\nabla f_t\| \approx C\,
\text{factor}^t`) and its ``level`` (geometric mean of :math:`\|\nabla f\|` over the last tenth
of the budget); these are NaN for runs that stopped.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .fit import loglog_slopes
from .runner import STATUSES
from .validation import check_int, check_positive

FAILED_STATUSES = ("diverged", "non-finite")
CLASSES = ("converged", "converging", "cycle", "stalled", "diverging", "diverged", "non-finite")
SLOPE_TOL = 0.05
CYCLE_RTOL = 1e-6
MAX_PERIOD = 16
_STATUSES = STATUSES   # the runner's


@dataclass(frozen=True)
class Outcomes:
    """Classes of runs (module docstring), one entry per run in every array: ``kind`` (one of
    :data:`CLASSES`), ``period`` (0 unless a cycle), ``amplitude`` (NaN unless a cycle),
    ``exponent``, ``factor`` and ``level`` (NaN for runs that stopped)."""

    kind: np.ndarray
    period: np.ndarray
    amplitude: np.ndarray
    exponent: np.ndarray
    factor: np.ndarray
    level: np.ndarray

    def counts(self, mask=None) -> dict:
        """``{class: number of runs}`` over the runs ``mask`` (all by default), classes with no
        run left out, in the order of :data:`CLASSES`."""
        kind = self.kind if mask is None else self.kind[mask]
        return {c: int(n) for c in CLASSES if (n := np.count_nonzero(kind == c))}

    def failed(self) -> np.ndarray:
        """Runs that diverged or overflowed."""
        return np.isin(self.kind, FAILED_STATUSES)


def _history(name: str, values, shape=None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if shape is not None and arr.shape[:2] != shape:
        raise ValueError(f"{name} must have shape (steps + 1, runs) = {shape}, got {arr.shape[:2]}")
    return arr


def _size(values: np.ndarray) -> np.ndarray:
    """|values| for scalar signals, the Euclidean norm over the last axis for vector ones."""
    return np.abs(values) if values.ndim == 2 else np.sqrt((values**2).sum(axis=-1))


def _period(signals, start: int, max_period: int, rtol: float, runs: np.ndarray) -> np.ndarray:
    """Smallest period p <= max_period over the tail of every signal, for the runs ``runs``
    (reached the budget: finite histories); 0 where none. A run is tested in full for p only if
    its last period already repeats the one before (a cheap filter)."""
    tails = [s[start:][:, runs] for s in signals]
    scale = [_size(t).max(axis=0) for t in tails]
    period = np.zeros(runs.size, dtype=int)
    n_tail = tails[0].shape[0]
    for p in range(1, min(max_period, n_tail // 3) + 1):
        todo = np.flatnonzero(period == 0)
        for t, size in zip(tails, scale):
            last = t[n_tail - 2 * p:, todo]
            close = _size(last[p:] - last[:p]).max(axis=0) <= rtol * size[todo]
            todo = todo[close & (size[todo] > 0)]
        if not todo.size:
            continue
        n = (n_tail // p) * p
        ok = np.ones(todo.size, dtype=bool)
        for t, size in zip(tails, scale):
            block = t[n_tail - n:, todo].reshape((n // p, p, todo.size) + t.shape[2:])
            ok &= _size(np.ptp(block, axis=0)).max(axis=0) <= rtol * size[todo]
        period[todo[ok]] = p
    return period


def classify_runs(grad_norm, status, *, f_gap=None, iterates=None, slope_tol: float = SLOPE_TOL,
                  cycle_rtol: float = CYCLE_RTOL, max_period: int = MAX_PERIOD) -> Outcomes:
    r"""Classify runs from their histories (module docstring).

    ``grad_norm``: :math:`\|\nabla f(x_t)\|`, shape ``(T + 1, B)`` (or ``(T + 1,)`` for one
    run), NaN after a run stopped; ``status``: the runner's statuses, shape ``(B,)``; ``f_gap``:
    :math:`f(x_t) - f^\star`, like ``grad_norm`` (optional); ``iterates``: shape
    ``(T + 1, B, d)`` (optional; e.g. ``minimize(..., record_iterates=True)``)."""
    gn = _history("grad_norm", grad_norm)
    T, B = gn.shape[0] - 1, gn.shape[1]
    if T < 4:
        raise ValueError(f"grad_norm must record at least 4 steps (shape (steps + 1, runs) with "
                         f"steps >= 4), got {T} steps")
    status = np.asarray(status, dtype=object).reshape(-1)
    if status.shape != (B,):
        raise ValueError(f"status must have one entry per run, shape ({B},), got {status.shape}")
    unknown = set(status.tolist()) - set(_STATUSES)
    if unknown:
        raise ValueError(f"status entries must be among {_STATUSES}, got {sorted(unknown)}")
    check_positive("slope_tol", slope_tol)
    check_positive("cycle_rtol", cycle_rtol)
    max_period = check_int("max_period", max_period, 1)
    gap = None if f_gap is None else _history("f_gap", f_gap, (T + 1, B))
    signals = [gn] + ([] if gap is None else [gap])
    if iterates is not None:
        x = np.asarray(iterates, dtype=float)
        x = x[:, None] if x.ndim == 2 else x
        if x.ndim != 3 or x.shape[:2] != (T + 1, B):
            raise ValueError(f"iterates must have shape (steps + 1, runs, d) = ({T + 1}, {B}, d), "
                             f"got {np.shape(iterates)}")
        signals.append(x)

    start = max(1, T // 2)
    running = status == "max_steps"
    kind = np.where(running, "", status).astype(object)
    kind[running & (gn[T] == 0)] = "converged"
    open_ = kind == ""
    period = np.zeros(B, dtype=int)
    if open_.any():
        period[open_] = _period(signals, start, max_period, cycle_rtol, np.flatnonzero(open_))
    slope_g = loglog_slopes(gn, start, T)
    slope_f = loglog_slopes(gap, start, T) if gap is not None else np.full(B, np.nan)
    steepest = np.fmin(slope_g, slope_f)
    rising = (slope_g > slope_tol) & ~(slope_f <= slope_tol)
    cycle = open_ & (period > 0)
    kind[cycle] = "cycle"
    rest = open_ & ~cycle
    kind[rest] = np.where(steepest[rest] < -slope_tol, "converging",
                          np.where(rising[rest], "diverging", "stalled"))

    with np.errstate(divide="ignore", invalid="ignore"):
        log_tail = np.log(gn[start:])
        finite = np.all(np.isfinite(log_tail), axis=0)
        factor = np.full(B, np.nan)
        if finite.any():
            t = np.arange(start, T + 1)
            factor[finite] = np.exp(np.polyfit(t, log_tail[:, finite], 1)[0])
        last = np.log(gn[T - max(1, T // 10):])
        level = np.exp(np.mean(last, axis=0))
    amplitude = np.full(B, np.nan)
    for p in np.unique(period[cycle]):
        rows = cycle & (period == p)
        amplitude[rows] = np.max(gn[T + 1 - p:, rows], axis=0)
    stopped = ~running
    for arr in (steepest, factor, level):
        arr[stopped] = np.nan
    return Outcomes(kind.astype(str), period, amplitude, steepest, factor, level)


def classify_trajectory(trajectory, *, iterates: Optional[bool] = None, **options) -> Outcomes:
    """:func:`classify_runs` on a :class:`~emc_theory.runner.Trajectory` (its gradient norms,
    gaps, statuses, and its iterates when recorded, unless ``iterates=False``)."""
    x = trajectory.iterates if iterates is not False else None
    return classify_runs(trajectory.grad_norm, trajectory.status, f_gap=trajectory.f_gap,
                         iterates=x, **options)


def classify_table(table, **options) -> Outcomes:
    """:func:`classify_runs` on the runs of a :func:`emc_theory.sweep.sweep` table run with
    ``history=True`` (its gradient norms, gaps and statuses)."""
    return classify_runs(table.histories["grad_norm"], table.column("status"),
                         f_gap=table.histories["f_gap"], **options)
