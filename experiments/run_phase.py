r"""Run stage: phase diagram of EMC over step size :math:`\eta` and start-point scale
:math:`s = \|x_0 - x^\star\|`, per reading of h.

One batched sweep (:func:`emc_theory.sweep.sweep`, with histories) runs the grid, one array
program per reading: problem a rotated quadratic with a geometric spectrum, start points
:math:`x^\star + s\,v` with one random unit direction :math:`v` (``default_rng(seed)``),
constant step. Outcome of a run:

* ``converged``: :math:`f(x_t) - f^\star \le \varepsilon\,(f(x_0) - f^\star)` at every step of
  the last ``tail`` fraction of the run;
* ``diverged``: the runner stopped it as diverged (:math:`f - f^\star` grew by the divergence
  factor) or non-finite;
* ``stalled``: neither (finite, but not below the target to the end).

The record holds the sweep's tidy table of runs (one entry per run: reading, step size, start
point index, status, stop step, final gap) with the outcome as a column; :func:`outcome_grid`
pivots it to the (scale, step size) grid the figure draws. For reference the record also holds
:math:`u^\star/L` for the linear reading with frozen weights
(:func:`proofs.linear_stability.stability_threshold` at :math:`\tilde H = 0` and 1), the step
size above which the linear iteration on the top eigen-direction cannot be stable.
"""
from __future__ import annotations

import sys

import numpy as np

from emc_theory import READINGS, cascade_weights
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.problems import make_problem
from emc_theory.sweep import sweep
from proofs.linear_stability import stability_threshold

from .common import run_main

NAME = "phase"
OUTCOMES = ("converged", "stalled", "diverged")


def parameters(quick: bool, seed: int) -> dict:
    n = 9 if quick else 41
    return {"seed": seed, "K": 3, "entropy": "l2", "tau": 1.0, "readings": list(READINGS),
            "problem": {"name": "quadratic", "params": {"d": 10, "cond": 10.0, "rotate": True,
                                                        "seed": seed}},
            "steps": 200 if quick else 1000, "target_rel_gap": 1e-6, "tail": 0.1,
            "log10_lr": [-4, 1], "log10_scale": [-3, 3], "lr_points": n, "scale_points": n}


def grids(p: dict):
    """The step sizes and start scales (log-spaced)."""
    return (np.logspace(*p["log10_lr"], p["lr_points"]),
            np.logspace(*p["log10_scale"], p["scale_points"]))


def classify(gaps: np.ndarray, status: np.ndarray, p: dict) -> np.ndarray:
    """Outcome index into ``OUTCOMES`` per run, from the gap histories ``(steps + 1, runs)``."""
    tail = gaps[-max(1, int(p["tail"] * p["steps"])):]
    with np.errstate(invalid="ignore"):
        converged = np.all(tail <= p["target_rel_gap"] * gaps[0], axis=0)
    failed = np.isin(status, FAILED_STATUSES)
    return np.where(failed, 2, np.where(converged, 0, 1))


def run(p: dict) -> dict:
    problem = make_problem(p["problem"])
    lrs, scales = grids(p)
    direction = np.random.default_rng(p["seed"]).standard_normal(problem.d)
    direction /= np.linalg.norm(direction)
    # one sweep, one array program per reading; rows: reading, then step size, then start scale
    table = sweep([problem], [{"name": "emc", "K": p["K"], "reading": list(p["readings"]),
                               "entropy": p["entropy"], "tau": p["tau"]}], lrs,
                  start_points=problem.x_star + scales[:, None] * direction, steps=p["steps"],
                  history=True, progress=False)
    outcome = classify(table.histories["f_gap"], table.column("status"), p)
    table.add_column("outcome", [OUTCOMES[i] for i in outcome])
    out = {"lrs": lrs, "scales": scales, "L": problem.L, "mu": problem.mu,
           "runs": table.columnar()}
    out["linear_threshold_lr"] = {
        name: stability_threshold(p["K"], cascade_weights(ht, p["K"], p["tau"])) / problem.L
        for name, ht in (("uniform", 0.0), ("top_entropy", 1.0))}
    return out


def outcome_grid(data: dict, reading: str) -> np.ndarray:
    """Outcome index (into ``OUTCOMES``) of each run of ``reading``, shape (scales, step sizes),
    pivoted from the record's table of runs."""
    runs = data["runs"]
    grid = np.full((len(data["scales"]), len(data["lrs"])), -1)
    lr_index = {lr: j for j, lr in enumerate(data["lrs"])}
    for r, lr, start, outcome in zip(runs["reading"], runs["lr"], runs["start"], runs["outcome"],
                                     strict=True):
        if r == reading:
            grid[start, lr_index[lr]] = OUTCOMES.index(outcome)
    if np.any(grid < 0):
        raise ValueError(f"the phase record's table lacks runs of reading {reading!r}")
    return grid


if __name__ == "__main__":
    raise SystemExit(run_main(sys.modules[__name__]))
