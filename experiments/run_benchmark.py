r"""Run stage: EMC under each reading of h beside GD, heavy ball, Nesterov, Adam and Lion on each
convex test function, every method with the same step-size tuning protocol.

Protocol (identical for every method and problem): every step size :math:`\eta` of a log grid is
run from the same start points :math:`x_0 = x^\star + s\,z`, :math:`z \sim N(0, I_d)` (one per
start seed) for ``steps`` steps with a constant step. A run's score is the first step ``t`` with
:math:`f(x_t) - f^\star \le \varepsilon\,(f(x_0) - f^\star)` (``steps + 1`` if never); the tuned
:math:`\eta` minimises the median score over the start points, ties broken by the smaller median
final gap (diverged runs count as an infinite gap). One batched sweep
(:func:`emc_theory.sweep.sweep`, with histories) per (method, problem) runs the whole grid as one
array program. The record keeps, for the tuned step, the median curves over the
start points and, for EMC, the diagnostics (entropy, gamma, effective memory) of the first start.
"""
from __future__ import annotations

import sys

import numpy as np

from emc_theory.optimizers import OPTIMIZERS
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.problems import make_problem
from emc_theory.sweep import sweep

from .common import run_main

NAME = "benchmark"
CURVE_DIGITS = 6
"""Curves are stored to 6 significant digits (plots only; scores use full precision)."""


def parameters(quick: bool, seed: int) -> dict:
    """Problems, methods, the step-size grid, start points and the target of the protocol."""
    d = 20
    return {
        "seed": seed,
        "steps": 200 if quick else 1000,
        "lr_grid": {"log10_low": -4, "log10_high": 2, "per_decade": 2 if quick else 4},
        "starts": 1 if quick else 3,
        "start_scale": 1.0,
        "target_rel_gap": 1e-6,
        "problems": [
            {"name": "quadratic", "params": {"d": d, "cond": 100.0, "rotate": True, "seed": seed}},
            {"name": "logistic_regression", "params": {"n": 200, "d": d, "reg": 1e-3,
                                                       "seed": seed}},
            {"name": "log_sum_exp", "params": {"d": d, "m": 2 * d, "seed": seed}},
            {"name": "huber", "params": {"d": d, "delta": 0.1, "seed": seed}},
            {"name": "smoothed_abs", "params": {"d": d, "eps": 0.1, "seed": seed}},
        ],
        "methods": [
            *({"name": "emc", "K": 3, "reading": r, "entropy": "l2", "tau": 1.0}
              for r in ("power", "root", "linear")),
            {"name": "gd"},
            {"name": "heavy_ball", "beta": 0.9},
            {"name": "nesterov", "beta": 0.9},
            {"name": "adam", "b1": 0.9, "b2": 0.999, "eps": 1e-8},
            {"name": "lion", "b1": 0.9, "b2": 0.99},
        ],
    }


def lr_grid(spec: dict) -> np.ndarray:
    r"""The step sizes :math:`10^{a}, 10^{a + 1/n}, \dots, 10^{b}` (``n`` per decade)."""
    n = spec["per_decade"]
    exponents = np.arange(spec["log10_low"] * n, spec["log10_high"] * n + 1) / n
    return 10.0 ** exponents


def method_key(spec: dict) -> str:
    """``emc-power``, ``gd``, ...: the key of a method in the record."""
    return f"emc-{spec['reading']}" if spec["name"] == "emc" else spec["name"]


def start_points(problem, p: dict, index: int) -> np.ndarray:
    """``starts`` points :math:`x^\\star + s z`, drawn from ``default_rng([seed, index])``."""
    rng = np.random.default_rng([p["seed"], index])
    z = rng.standard_normal((p["starts"], problem.d))
    return problem.x_star + p["start_scale"] * z


def steps_to_target(gaps: np.ndarray, target: np.ndarray, steps: int) -> np.ndarray:
    """First ``t`` with ``gaps[t] <= target`` per run (``steps + 1`` if none; NaN never hits)."""
    hit = gaps <= target[None, :]
    return np.where(hit.any(axis=0), hit.argmax(axis=0), steps + 1)


def rounded(a) -> list:
    return [float(f"{v:.{CURVE_DIGITS}g}") for v in np.ravel(a)]


def median_over_starts(history: np.ndarray) -> np.ndarray:
    """Median over the start points (columns) at each step, ignoring runs that stopped (NaN)."""
    with np.errstate(all="ignore"):
        stopped = np.isnan(history).all(axis=1)
        filled = np.where(stopped[:, None], 0.0, history)
        return np.where(stopped, np.nan, np.nanmedian(filled, axis=1))


def tune_one(method: dict, problem, x0: np.ndarray, p: dict) -> dict:
    """Run the whole step-size grid as one batched sweep; return the tuned run's record."""
    lrs = lr_grid(p["lr_grid"])
    starts, steps = x0.shape[0], p["steps"]
    is_emc = method["name"] == "emc"
    table = sweep([problem], [method], lrs, start_points=x0, steps=steps, history=True,
                  diagnostics=is_emc, progress=False)   # rows: step size major, then start
    spec = {k: v for k, v in method.items() if k != "name"}
    described = OPTIMIZERS[method["name"]](lr=1.0, **spec).describe()
    gaps = table.histories["f_gap"]
    status = table.column("status")
    failed = np.isin(status, FAILED_STATUSES)
    score = steps_to_target(gaps, p["target_rel_gap"] * gaps[0], steps)
    final_gap = np.where(failed, np.inf, table.column("final_gap"))
    by_lr = (score.reshape(lrs.size, starts), final_gap.reshape(lrs.size, starts))
    median_score = np.median(by_lr[0], axis=1)
    median_gap = np.median(by_lr[1], axis=1)
    best = int(np.lexsort((median_gap, median_score))[0])
    rows = slice(best * starts, (best + 1) * starts)
    record = {
        "optimizer": {**described, "lr": None},
        "lr": float(lrs[best]), "lr_index": best, "lr_at_grid_edge": best in (0, lrs.size - 1),
        "grid_median_steps": median_score, "grid_median_final_gap": median_gap,
        "grid_failed_runs": failed.reshape(lrs.size, starts).sum(axis=1),
        "steps_to_target": score[rows], "median_steps_to_target": float(median_score[best]),
        "status": status[rows].tolist(), "final_gap": table.column("final_gap")[rows],
        "f_gap_median": rounded(median_over_starts(gaps[:, rows])),
        "grad_norm_median": rounded(median_over_starts(table.histories["grad_norm"][:, rows])),
    }
    if is_emc:   # the diagnostics along the first start point's run
        for name in ("normalized_entropy", "gamma", "effective_memory"):
            record[name] = rounded(table.histories[name][:, rows.start])
    return record


def run(p: dict) -> dict:
    out = {"lrs": lr_grid(p["lr_grid"]), "problems": {}}
    for index, problem_spec in enumerate(p["problems"]):
        problem = make_problem(problem_spec)
        x0 = start_points(problem, p, index)
        out["problems"][problem.name] = {
            "describe": {k: problem.describe()[k] for k in ("name", "params", "d", "L", "mu")},
            "initial_gap": problem.value(x0) - problem.f_star,
            "methods": {method_key(m): tune_one(m, problem, x0, p) for m in p["methods"]},
        }
    return out


if __name__ == "__main__":
    raise SystemExit(run_main(sys.modules[__name__]))
