r"""Run an optimizer on a problem: one run or a batch of runs as one array program.

Every run ends with a status:

* ``"converged"``: :math:`\|\nabla f(x_t)\| \le` ``tol`` (or :math:`f(x_t) - f^\star \le`
  ``gap_tol``) at step ``t``;
* ``"diverged"``: :math:`f(x_t) - f^\star > D\,(f(x_0) - f^\star + 1)` with ``D =
  divergence_factor`` (default :math:`10^{6}`) at step ``t``;
* ``"non-finite"``: the value or gradient overflowed to Inf/NaN at step ``t``;
* ``"max_steps"``: none of the above within ``steps`` steps.

``tol`` and ``gap_tol`` are one value or one per run; ``divergence_factor`` is one real
:math:`D \ge 1` (below 1 a run whose start gap exceeds :math:`D/(1-D)` would count as diverged
at step 0). ``problem`` is any problem of
:mod:`emc_theory.problems`, or a :class:`~emc_theory.problems.StackedProblem` whose rows belong to
different problems (per-row :math:`f^\star`). Runs that stop are frozen at once and dropped from
the array program (optimizer state, per-run step sizes and schedules, tolerances and stacked
problem alike) once enough of them have stopped, so they are not recomputed. Floating-point
warnings are silenced inside the loop: an overflow is detected from the values and reported in
the status, never as a warning flood.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from .records import json_ready
from .schedules import Schedule
from .validation import as_floating, check_int, check_positive, check_scalar

STATUSES = ("converged", "max_steps", "diverged", "non-finite")
_RUNNING = ""
HISTORY_BUDGET = 1 << 28
"""Bytes of per-step history kept padded to the full ``steps`` (module docstring of
:class:`Trajectory`): beyond it, rows after the last step reached (all NaN) are dropped."""


class _Rows:
    """A per-step record (row ``t`` of shape ``tail``), grown by doubling as the run advances
    instead of preallocated for every step: ``steps = 10**8`` with early stopping allocates what
    the run used."""

    def __init__(self, tail: tuple, total: int):
        self.total = total
        self.data = np.full((min(total, 1024),) + tail, np.nan)
        self.used = 0

    def row(self, t: int) -> np.ndarray:
        if t >= self.data.shape[0]:
            grown = np.full((min(self.total, max(2 * self.data.shape[0], t + 1)),)
                            + self.data.shape[1:], np.nan)
            grown[:self.data.shape[0]] = self.data
            self.data = grown
        self.used = max(self.used, t + 1)
        return self.data[t]

    def result(self) -> np.ndarray:
        """All ``total`` rows (NaN after the last step reached) if they fit in
        :data:`HISTORY_BUDGET`, else only the rows up to the last step reached."""
        rows = self.total if self.total * self.data[0].nbytes <= HISTORY_BUDGET else self.used
        if rows <= self.data.shape[0]:
            return self.data[:rows]
        out = np.full((rows,) + self.data.shape[1:], np.nan)
        out[:self.data.shape[0]] = self.data
        return out


@dataclass
class Trajectory:
    """Record of a run (or a batch: every array then has the batch axes after the step axis).

    ``f_gap[t]`` and ``grad_norm[t]`` for ``t = 0..steps`` are NaN after a run stopped;
    ``stop_step`` is the step at which the status was decided (``steps`` for ``max_steps``).
    The histories grow with the run; when ``steps + 1`` rows would exceed
    :data:`HISTORY_BUDGET` bytes they end at the last step any run reached (the rows after it
    would all be NaN), so a long budget with early stopping costs only the steps run.
    """

    status: np.ndarray
    stop_step: np.ndarray
    f_gap: Optional[np.ndarray]
    grad_norm: Optional[np.ndarray]
    final_gap: np.ndarray
    final_grad_norm: np.ndarray
    params: np.ndarray
    steps: int
    optimizer: dict
    problem: dict
    iterates: Optional[np.ndarray] = None
    diagnostics: Optional[dict] = None
    conditions: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """JSON-serialisable outcome (statuses, stop steps, final values) and conditions."""
        return json_ready({"status": self.status, "stop_step": self.stop_step,
                           "final_gap": self.final_gap, "final_grad_norm": self.final_grad_norm,
                           "steps": self.steps, "optimizer": self.optimizer,
                           "problem": self.problem, "conditions": self.conditions}, repr)


def _select_runs(optimizer, state, keep: np.ndarray):
    """The optimizer and state restricted to the runs ``keep`` (batch axis is -2 of buffers)."""
    fields = {name: (value[..., keep, :] if isinstance(value, np.ndarray) and value.ndim >= 2
                     else value) for name, value in state._asdict().items()}
    sched = optimizer.schedule
    if isinstance(sched, Schedule) and np.ndim(sched.eta0) > 0:
        optimizer = dataclasses.replace(optimizer, lr=sched.select(keep))
    return optimizer, type(state)(**fields)


def _per_run(name: str, value, B: int) -> Optional[np.ndarray]:
    """``value`` (None, a scalar or shape ``(B,)``) as a float array of shape ``(B,)``."""
    if value is None:
        return None
    check_positive(name, value)
    arr = np.asarray(value, dtype=float)
    if arr.ndim and arr.shape != (B,):
        raise ValueError(f"{name} must be a scalar or have one entry per run, shape ({B},), got "
                         f"shape {arr.shape}")
    return np.array(np.broadcast_to(arr, (B,)))


def _check_divergence_factor(value) -> float:
    """``divergence_factor`` as a float in ``[1, inf)``, or an error naming it."""
    factor = check_scalar("divergence_factor", value)
    if not (np.isfinite(factor) and factor >= 1):
        raise ValueError(f"divergence_factor must be finite and >= 1 (allowed range [1, inf): "
                         f"below 1 a run would count as diverged at step 0), got {value!r}")
    return factor


def minimize(optimizer, problem, x0, steps: int, *, tol: Optional[float] = None,
             gap_tol: Optional[float] = None, divergence_factor: float = 1e6,
             history: bool = True, record_iterates: bool = False,
             diagnostics: bool = False) -> Trajectory:
    """Run ``optimizer`` on ``problem`` from ``x0`` (shape ``(d,)`` or ``(B, d)``) for ``steps``.

    The iterates keep ``x0``'s floating dtype: a float32 ``x0`` runs in float32 end to end (the
    problem, the optimizer state and the updates), with gaps and norms recorded as float64.

    ``history=False`` keeps only final values (for large sweeps). ``diagnostics`` records the
    optimizer's per-step diagnostics (EMC: entropy, weights, gamma, effective memory).
    """
    steps = check_int("steps", steps, 1)
    divergence_factor = _check_divergence_factor(divergence_factor)
    x0 = as_floating(x0, "x0")
    if x0.ndim not in (1, 2) or x0.shape[-1] != problem.d:
        raise ValueError(f"x0 must have shape ({problem.d},) or (B, {problem.d}) for this "
                         f"problem, got {x0.shape}")
    single = x0.ndim == 1
    x = np.array(x0.reshape(-1, problem.d))
    B = x.shape[0]
    tols, gap_tols = _per_run("tol", tol, B), _per_run("gap_tol", gap_tol, B)
    if diagnostics and not hasattr(optimizer, "update_with_diagnostics"):
        raise ValueError(f"diagnostics=True needs an optimizer with diagnostics; "
                         f"{type(optimizer).__name__} has none")
    f_ref = problem.f_star
    described, problem_described = optimizer.describe(), problem.describe()
    narrow_problem = getattr(problem, "select", None) is not None
    inplace = {"inplace": True} if getattr(optimizer, "supports_inplace", False) else {}

    status = np.full(B, _RUNNING, dtype=object)
    stop_step = np.full(B, steps)
    final_gap = np.full(B, np.nan)
    final_gn = np.full(B, np.nan)
    final_x = np.array(x)
    gaps = _Rows((B,), steps + 1) if history else None
    gnorms = _Rows((B,), steps + 1) if history else None
    iterates = _Rows((B, problem.d), steps + 1) if record_iterates else None
    diag_rec = {}

    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        f0, g = problem.value_and_grad(x)
        f_ref = np.array(np.broadcast_to(f0 if f_ref is None else f_ref, (B,)), dtype=float)
        gap = f0 - f_ref
        threshold = divergence_factor * (np.abs(gap) + 1.0)
        state = optimizer.init(x)
        idx = np.arange(B)            # original run index of each row
        live = np.ones(B, dtype=bool)  # rows still running
        for t in range(0, steps + 1):
            gn = np.sqrt(np.vecdot(g, g))
            if history:
                gaps.row(t)[idx[live]] = gap[live]
                gnorms.row(t)[idx[live]] = gn[live]
            if record_iterates:
                iterates.row(t)[idx[live]] = x[live]
            finite_gap = np.isfinite(gap)
            finite = finite_gap & np.isfinite(gn)
            overflow = finite != finite_gap   # NaN/Inf in g, or |g|^2 overflowed: look at g
            if overflow.any():
                finite[overflow] = np.isfinite(g[overflow]).all(axis=-1)
            verdicts = (
                ("non-finite", ~finite),
                ("diverged", finite & (gap > threshold)),
                ("converged", finite & (((gn <= tols) if tols is not None else False)
                                        | ((gap <= gap_tols) if gap_tols is not None else False))),
            )
            for name, hit in verdicts:
                new = live & hit
                if new.any():
                    status[idx[new]] = name
                    stop_step[idx[new]] = t
                    final_gap[idx[new]] = gap[new]
                    final_gn[idx[new]] = gn[new]
                    final_x[idx[new]] = x[new]
                    live &= ~new
            if t == steps or not live.any():
                break
            dead = ~live
            n_dead = np.count_nonzero(dead)
            if n_dead * 8 >= live.size:
                optimizer, state = _select_runs(optimizer, state, live)
                x, g, idx, threshold = x[live], g[live], idx[live], threshold[live]
                f_ref = f_ref[live]
                tols = None if tols is None else tols[live]
                gap_tols = None if gap_tols is None else gap_tols[live]
                if narrow_problem:
                    problem = problem.select(live)
                live = np.ones(x.shape[0], dtype=bool)
                n_dead = 0
            elif n_dead:
                g[dead] = 0.0
            if diagnostics:
                updates, state, diag = optimizer.update_with_diagnostics(g, state, x, **inplace)
                for name, value in diag._asdict().items():
                    rec = diag_rec.setdefault(name, _Rows((B,) + value.shape[1:], steps))
                    rec.row(t)[idx[live]] = value[live]
            else:
                updates, state = optimizer.update(g, state, x, **inplace)
            if n_dead:
                updates[dead] = 0.0
            x += updates
            f, g = problem.value_and_grad(x)
            gap = f - f_ref
        rows = np.flatnonzero(live)
        status[idx[rows]] = "max_steps"
        final_gap[idx[rows]] = gap[rows]
        final_gn[idx[rows]] = gn[rows]   # the norm of the last step, computed in the loop
        final_x[idx[rows]] = x[rows]

    def shaped(a):
        return a[0] if single else a

    def shaped_hist(rows):
        if rows is None:
            return None
        a = rows.result()
        return a[:, 0] if single else a

    return Trajectory(
        status=shaped(status), stop_step=shaped(stop_step),
        f_gap=shaped_hist(gaps), grad_norm=shaped_hist(gnorms),
        final_gap=shaped(final_gap), final_grad_norm=shaped(final_gn), params=shaped(final_x),
        steps=steps, optimizer=described, problem=problem_described,
        iterates=shaped_hist(iterates),
        diagnostics={k: shaped_hist(v) for k, v in diag_rec.items()} if diagnostics else None,
        conditions={"tol": tol, "gap_tol": gap_tol, "divergence_factor": divergence_factor,
                    "B": B},
    )

