r"""T1 (EMC paper, 3.1, Theorem 1): convergence to a stationary point on smooth convex functions.

Claim: "For L-smooth convex functions, under standard assumptions and appropriate learning rate
scheduling, EMC converges to a stationary point." Proof sketch: "The weighted combination of
momentum states can be viewed as a convex combination of gradient estimates. Under smoothness
assumptions and diminishing learning rates, standard convergence arguments apply."

What we check (per reading of the missing update ``h``: power, root, linear):

1. numerical grid: EMC on convex problems (quadratics of condition 10 and 1000, logistic
   regression with ``reg > 0``, log-sum-exp, Huber, smoothed absolute value), K x d pairs,
   schedules constant / inv_sqrt / inv_t with :math:`\eta_0 L` on a log grid plus one
   *start-scaled* step :math:`\eta_0 = 1/(L \max(1, \|\nabla f(x_0)\|_\infty))`, start points
   :math:`x^\star + r s u` (``r`` the start scale, ``s`` the problem's natural length, ``u`` a
   seeded unit direction). One array program per (K, d, reading) stacks all problems, schedules,
   steps, scales and seeds as ``(P, B, d)``.
2. roles: constant vs diminishing steps, the start scale (smallest diverging scale per step),
   the reading, and adaptive weights vs the same EMC with weights frozen uniform
   (:math:`\tau = 10^{12}`); the plateau level of constant steps against :math:`\eta_0`.
3. counterexample search: differential evolution (fixed seed, population seeded with the
   eigen-directions of an axis-aligned quadratic, where the gradient is 1-sparse and
   :math:`\gamma = 2`) over start direction and scale, maximising the *best* outcome over the
   diminishing schedules and grid steps; a start from which every such run diverges is shrunk
   to the smallest d >= 2, then K >= 1, replayed, and tried with the start-scaled step
   (*rescued* if that run does not diverge).
4. independent: the companion matrix and exact stability threshold :math:`u^\star` of linear
   EMC with frozen uniform weights (``proofs.linear_stability``) against the core's iterates at
   :math:`\eta\lambda = 0.98 u^\star` (converges) and :math:`1.02 u^\star` (diverges at the
   spectral radius); PEPit worst cases of the same method on L-smooth convex functions beside
   gradient descent's (the sketch's "gradient estimate" reading).
5. the proof step: the cascade's coefficients on past gradients read off the core's buffers
   (sum :math:`1 - \beta_k^t < 1`, mostly on stale gradients; sympy proves the sum by
   induction), and whether ``h`` is linear (additive and 1-homogeneous) in each reading.

Convergence criterion (fixed before any run): a run *converged* when
:math:`\|\nabla f(x_t)\| \le 10^{-6} \max(1, \|\nabla f(x_0)\|)` within the step budget; it
*diverged* on the runner's rule (:math:`f - f^\star > 10^6 (f(x_0) - f^\star + 1)`, or
non-finite values). Otherwise the least-squares slopes of :math:`\log\|\nabla f\|` and
:math:`\log(f - f^\star)` against :math:`\log t` over the last half of the budget classify it:
*decreasing* (not yet; either slope < -0.05), *growing* (both > 0.05) or *stalled* (a plateau, or
progress too slow to measure). Only divergence refutes convergence under a diminishing schedule (a
finite run cannot refute an asymptotic statement while the step still decays); under constant
steps a stall is a failure too, and is reported as a role, not used by the rule.

Verdict rule (per reading; a *cell* is a problem x K x d x start point; only diminishing
schedules are "appropriate"):

* *fails* if some failing case is not rescued: a cell (or search counterexample) where every
  diminishing run with a grid step diverged and the start-scaled step diverged too;
* else *conditional* if failing cases exist but the start-scaled step rescues them (condition:
  the step size must shrink with the start point);
* else *undecided* if some cell has no converged diminishing run (runs still decreasing, stalled
  or growing at the budget);
* else *conditional* if no single (diminishing schedule, grid step) converges from every start
  point of some problem (condition: eta0 chosen per start point);
* else *holds*. A needed fact that could not be established gives *undecided*.

Overall: ``claims.base.combine_readings``. Proof: *sound* if the aggregate is an exact convex
combination of current gradients and ``h`` is linear in every reading; *mismatch* if no reading's
update is such a combination at all (every ``h`` nonlinear); *gap* otherwise, naming the step.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.optimize import differential_evolution

from emc_theory import (EMC, READINGS, Schedule, apply_reading, cascade_weights, constant,
                        inv_sqrt, inv_t, minimize)
from emc_theory.problems import (StackedProblem, huber, log_sum_exp, logistic_regression,
                                 quadratic, smoothed_abs)
from emc_theory.replay import replay as replay_run
from emc_theory.replay import run_spec

from . import pep_emc
from .base import CheckConfig, Counterexample, Evidence, Findings, Verdict, combine_readings
from .symbolic import result as background_result

ID = "T1"
TITLE = "Convergence to a stationary point (convex, smooth)"
WHERE = "3.1, Theorem 1"
STATEMENT = ("For L-smooth convex functions, under standard assumptions and appropriate learning "
             "rate scheduling, EMC converges to a stationary point.")
PROOF = ("The weighted combination of momentum states can be viewed as a convex combination of "
         "gradient estimates. Under smoothness assumptions and diminishing learning rates, "
         "standard convergence arguments apply.")

TOL_REL = 1e-6
SLOPE_TOL = 0.05
DIVERGENCE_FACTOR = 1e6
TAU_FROZEN = 1e12
SCHEDULES = ("constant", "inv_sqrt", "inv_t")
SCHEDULE_FACTORIES = (constant, inv_sqrt, inv_t)
DIMINISHING = ("inv_sqrt", "inv_t")
ETA_FACTORS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
START_SCALES = (1e-2, 1.0, 1e2, 1e4)
PLATEAU_ETA_FACTORS = (2.0, 4.0, 8.0, 16.0, 32.0)
FAILED = ("diverged", "non-finite")
SEARCH_BADNESS_DIVERGED = 1e3


def plan(config: CheckConfig) -> dict:
    """The grids of a run (``config.quick`` shrinks them); everything is fixed here."""
    if config.quick:
        return {"K_d": [(2, 4)], "seeds": 1, "steps": 100, "frozen_K_d": None,
                "roles_K_d": (2, 4),
                "search": {"d": 3, "K": 2, "popsize": 2, "maxiter": 1, "steps": 60},
                "spectral_K": (1,), "spectral_steps": 150,
                "pep": {"N": (1, 2), "eta": (1.0,), "K": (1, 2), "grad_N": ()}}
    return {"K_d": [(1, 10), (3, 10), (5, 10), (3, 2), (3, 50)], "seeds": 1, "steps": 300,
            "frozen_K_d": (3, 10), "roles_K_d": (3, 10),
            "search": {"d": 4, "K": 3, "popsize": 4, "maxiter": 4, "steps": 100},
            "spectral_K": (1, 2, 3), "spectral_steps": 300,
            "pep": {"N": (1, 3, 5), "eta": (0.5, 1.0, 2.0), "K": (1, 2), "grad_N": (5,)}}


def convex_problems(d: int, seed: int) -> list:
    r"""``(label, problem, natural length s)``: start points are :math:`x^\star + r s u`."""
    return [
        ("quadratic cond 10", quadratic(d, cond=10.0, seed=seed), 1.0),
        ("quadratic cond 1000", quadratic(d, cond=1000.0, seed=seed), 1.0),
        ("logistic reg 1e-2", logistic_regression(n=max(50, 2 * d), d=d, reg=1e-2, seed=seed), 1.0),
        ("log-sum-exp", log_sum_exp(d, m=max(20, 2 * d), seed=seed), 1.0),
        ("huber delta 1", huber(d, delta=1.0, seed=seed), 1.0),
        ("smoothed abs eps 0.1", smoothed_abs(d, eps=0.1, seed=seed), 0.1),
    ]


def start_scaled_eta(L, g0) -> np.ndarray:
    r"""The start-dependent step :math:`\eta_0 = 1/(L \max(1, \|\nabla f(x_0)\|_\infty))`: it
    bounds the first power-reading step :math:`\eta_0 |\tilde m|^{\gamma}` (:math:`\gamma \le 2`)
    by :math:`|\tilde m|/L`."""
    return 1.0 / (np.asarray(L)[..., None] * np.maximum(1.0, np.abs(g0).max(axis=-1)))


# --------------------------------------------------------------------------- the array program


@dataclass
class Runs:
    """Outcome of an array program over runs of shape ``(P, B)``: ``kind`` is the run class
    (converged, diverged, non-finite, stalled, decreasing, growing)."""

    kind: np.ndarray
    stop_step: np.ndarray
    final_grad_norm: np.ndarray
    level: np.ndarray


def _loglog_slope(history: np.ndarray, steps: int) -> np.ndarray:
    r"""Least-squares slope of :math:`\log y_t` against :math:`\log t` for t in the last half;
    NaN where some :math:`y_t \le 0` or is missing."""
    t = np.arange(max(1, steps // 2), steps + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(history[t])
    y[~np.isfinite(y)] = np.nan
    lt = np.log(t) - np.log(t).mean()
    return np.tensordot(lt, y - y.mean(axis=0), axes=(0, 0)) / np.sum(lt**2)


def run_stacked(problems, x0, schedule_index, eta0, tol, steps: int, *, K: int, reading: str,
                tau: float = 1.0) -> Runs:
    r"""Run EMC on ``problems[p]`` from each row of ``x0[p]`` (shape ``(P, B, d)``): run
    ``(p, b)`` uses schedule ``SCHEDULES[schedule_index[p, b]]`` with :math:`\eta_0` =
    ``eta0[p, b]`` and tolerance ``tol[p, b]``.

    All ``P B`` runs are one call of :func:`emc_theory.minimize` on a
    :class:`~emc_theory.problems.StackedProblem` with per-run schedule kinds and tolerances, so
    a row replays identically as a single run; the histories then classify the runs that
    reached the budget (module docstring) and give the plateau level (geometric mean of
    :math:`\|\nabla f\|` over the last tenth)."""
    x0 = np.asarray(x0, dtype=float)
    shape = x0.shape[:2]
    kinds = np.asarray(SCHEDULES)[np.broadcast_to(schedule_index, shape)]
    optimizer = EMC(K=K, lr=Schedule(np.asarray(eta0, dtype=float).ravel(), kinds.ravel()),
                    reading=reading, tau=tau)
    stack = StackedProblem(problems, np.repeat(np.arange(shape[0]), shape[1]))
    traj = minimize(optimizer, stack, x0.reshape(-1, x0.shape[-1]), steps,
                    tol=np.asarray(tol, dtype=float).ravel(), divergence_factor=DIVERGENCE_FACTOR)
    gn_hist = traj.grad_norm.reshape((steps + 1,) + shape)
    with np.errstate(all="ignore"):
        slope_g = _loglog_slope(gn_hist, steps)
        slope_f = _loglog_slope(traj.f_gap.reshape((steps + 1,) + shape), steps)
        tail = np.log(gn_hist[steps - max(1, steps // 10):])
        finite = np.isfinite(tail)
        count = finite.sum(axis=0)
        level = np.exp(np.where(finite, tail, 0.0).sum(axis=0) / np.maximum(count, 1))
        level[count == 0] = np.nan
    steepest = np.fmin(slope_g, slope_f)
    rising = (slope_g > SLOPE_TOL) & ~(slope_f <= SLOPE_TOL)
    trend = np.where(steepest < -SLOPE_TOL, "decreasing",
                     np.where(rising, "growing", "stalled"))
    status = traj.status.reshape(shape)
    kind = np.where(status == "max_steps", trend, status).astype(object)
    return Runs(kind, traj.stop_step.reshape(shape), traj.final_grad_norm.reshape(shape), level)


# --------------------------------------------------------------------------- the grid


def grid_rows(n_fixed: int, n_scales: int, n_seeds: int) -> dict:
    """Index arrays of the B runs of a problem: schedule x step column x scale x seed, where
    step column ``n_fixed`` is the start-scaled step."""
    idx = np.indices((len(SCHEDULES), n_fixed + 1, n_scales, n_seeds)).reshape(4, -1)
    return dict(zip(("schedule", "eta", "scale", "seed"), idx))


def grid_inputs(entries, directions, rows):
    """Start points, per-run eta0 and tolerances, shape ``(P, B, d)`` / ``(P, B)``."""
    scales = np.asarray(START_SCALES)[rows["scale"]]
    x0 = np.stack([p.x_star + (s * scales)[:, None] * directions[rows["seed"]]
                   for _, p, s in entries])
    L = np.array([p.L for _, p, _ in entries])
    g0 = np.stack([p.grad(x0[i]) for i, (_, p, _) in enumerate(entries)])
    fixed = np.append(ETA_FACTORS, np.nan)[rows["eta"]][None, :] / L[:, None]
    eta0 = np.where(rows["eta"] == len(ETA_FACTORS), start_scaled_eta(L, g0), fixed)
    tol = TOL_REL * np.maximum(1.0, np.linalg.norm(g0, axis=-1))
    return x0, eta0, tol


def cell_summary(kind: np.ndarray, rows: dict) -> dict:
    r"""Per problem (axis 0) and start point (scale, seed): the cell categories of the rule and
    whether one (diminishing schedule, grid step) converges from every start point."""
    n_fixed = len(ETA_FACTORS)
    n_sched, n_eta = len(SCHEDULES), n_fixed + 1
    shaped = kind.reshape(kind.shape[0], n_sched, n_eta, -1)      # (P, sched, eta, start)
    dim = shaped[:, [SCHEDULES.index(s) for s in DIMINISHING]]
    converged = dim == "converged"
    failed = np.isin(dim, FAILED)
    fail_fixed = failed[:, :, :n_fixed].all(axis=(1, 2))
    fail_all = failed.all(axis=(1, 2))
    conv_any = converged.any(axis=(1, 2)) & ~fail_fixed
    uniform = converged[:, :, :n_fixed].all(axis=-1).any(axis=(1, 2))
    const = shaped[:, SCHEDULES.index("constant"), :n_fixed]
    return {"cells": int(fail_fixed.size), "converged": int(conv_any.sum()),
            "failed_unrescued": int(fail_all.sum()),
            "failed_rescued": int((fail_fixed & ~fail_all).sum()),
            "pending": int((~conv_any & ~fail_fixed).sum()),
            "uniform_groups": int(uniform.sum()), "groups": int(uniform.size),
            "constant_cells_converged": int((const == "converged").any(axis=1).sum()),
            "converged_by_problem": conv_any.sum(axis=1),
            "pending_by_problem": (~conv_any & ~fail_fixed).sum(axis=1),
            "first_failed": np.argwhere(fail_fixed)}


def failure_table(kind: np.ndarray, rows: dict) -> dict:
    """Diverged or non-finite runs (over all problems) per schedule and step column, counted per
    start scale (in the order of ``START_SCALES``)."""
    columns = [f"eta0*L={f:g}" for f in ETA_FACTORS] + ["start-scaled"]
    failed = np.isin(kind, FAILED).sum(axis=0)                      # (B,)
    table = {}
    for s, sched in enumerate(SCHEDULES):
        for e, column in enumerate(columns):
            sel = (rows["schedule"] == s) & (rows["eta"] == e)
            table[f"{sched} {column}"] = np.bincount(rows["scale"][sel], weights=failed[sel],
                                                     minlength=len(START_SCALES)).astype(int)
    return table


def smallest_failing_scale(table: dict) -> dict:
    """Per (schedule, step column): the smallest start scale with a failed run (None if none)."""
    return {key: (float(START_SCALES[np.flatnonzero(counts)[0]]) if np.any(counts) else None)
            for key, counts in table.items()}


def constant_step_plateau(reading: str, K: int, d: int, seed: int, steps: int) -> dict:
    r"""Constant steps :math:`\eta_0 L` in ``PLATEAU_ETA_FACTORS`` on the quadratic of condition
    10 from a unit-distance start: run classes, the plateau level (geometric mean of
    :math:`\|\nabla f\|` over the last tenth of the run) and the least-squares exponent of
    level against :math:`\eta_0` over the stalled runs (None if fewer than two stalled)."""
    problem = quadratic(d, cond=10.0, seed=seed)
    direction = np.random.default_rng(seed).standard_normal(d)
    x0 = problem.x_star + direction / np.linalg.norm(direction)
    eta0 = np.asarray(PLATEAU_ETA_FACTORS)[None] / problem.L
    x0 = np.broadcast_to(x0, eta0.shape + (d,))
    tol = TOL_REL * max(1.0, np.linalg.norm(problem.grad(x0[0, 0])))
    runs = run_stacked([problem], x0, np.zeros(eta0.shape, dtype=int), eta0,
                       np.full(eta0.shape, tol), steps, K=K, reading=reading)
    stalled = runs.kind[0] == "stalled"
    exponent = (float(np.polyfit(np.log(eta0[0, stalled]), np.log(runs.level[0, stalled]), 1)[0])
                if stalled.sum() >= 2 else None)
    return {"eta0_times_L": list(PLATEAU_ETA_FACTORS), "kind": runs.kind[0].tolist(),
            "level": [float(v) if k == "stalled" else None
                      for k, v in zip(runs.kind[0], runs.level[0])],
            "level_exponent_in_eta0": exponent}


# --------------------------------------------------------------------------- counterexamples


def emc_run_spec(problem, x0, K, reading, schedule, eta0, steps, tol):
    """A replayable single run (``emc_theory.replay.run_spec``) of EMC with a named schedule."""
    factory = SCHEDULE_FACTORIES[SCHEDULES.index(schedule)]
    optimizer = EMC(K=K, lr=factory(float(eta0)), reading=reading)
    return run_spec(optimizer, problem, x0, steps, tol=float(tol),
                    divergence_factor=DIVERGENCE_FACTOR)


def replayed_counterexample(description: str, spec: dict) -> Counterexample:
    """Run ``spec`` through :func:`emc_theory.replay.replay`; its outcome is what is recorded."""
    trajectory = replay_run(spec, history=False)
    outcome = {"status": str(trajectory.status), "stop_step": int(trajectory.stop_step),
               "final_grad_norm": float(trajectory.final_grad_norm),
               "final_gap": float(trajectory.final_gap)}
    return Counterexample(ID, description, spec, outcome)


def diminishing_outcomes(problem, x0, K, reading, steps):
    """Run every (diminishing schedule, step column) from the start points ``x0`` (S, d): the run
    classes, shape ``(S, len(DIMINISHING), len(ETA_FACTORS) + 1)``, eta0 and tolerances."""
    S = x0.shape[0]
    n_eta = len(ETA_FACTORS) + 1
    sched = np.array([SCHEDULES.index(s) for s in DIMINISHING])
    sched_idx = np.broadcast_to(sched[None, :, None], (S, len(DIMINISHING), n_eta)).reshape(1, -1)
    eta_col = np.broadcast_to(np.arange(n_eta), (S, len(DIMINISHING), n_eta)).reshape(-1)
    start = np.repeat(np.arange(S), len(DIMINISHING) * n_eta)
    xs = x0[start][None]
    g0 = problem.grad(xs[0])
    scaled = start_scaled_eta(np.array([problem.L]), g0[None])[0]
    fixed = np.append(ETA_FACTORS, np.nan)[eta_col] / problem.L
    eta0 = np.where(eta_col == n_eta - 1, scaled, fixed)[None]
    tol = TOL_REL * np.maximum(1.0, np.linalg.norm(g0, axis=-1))[None]
    runs = run_stacked([problem], xs, sched_idx, eta0, tol, steps, K=K, reading=reading)
    shape = (S, len(DIMINISHING), n_eta)
    return (runs.kind[0].reshape(shape), runs.final_grad_norm[0].reshape(shape),
            eta0[0].reshape(shape), tol[0].reshape(shape))


def search_problem(d: int, seed: int):
    """The search's problem: an axis-aligned quadratic (condition 10), so a start direction keeps
    its meaning when d shrinks."""
    return quadratic(d, cond=10.0, rotate=False, seed=seed)


def start_from(problem, z: np.ndarray) -> np.ndarray:
    r"""Start points :math:`x^\star + 10^{z_{d}} u`, ``u`` = first d entries of ``z``
    normalised (:math:`e_1` if they vanish); ``z`` has shape ``(S, d + 1)``."""
    u = z[:, :-1]
    norm = np.linalg.norm(u, axis=1, keepdims=True)
    u = np.where(norm > 1e-12, u / np.where(norm > 0, norm, 1.0), np.eye(u.shape[1])[0])
    return problem.x_star + 10.0 ** z[:, -1:] * u


def search_reading(reading: str, search: dict, seed: int) -> dict:
    r"""Differential evolution over (direction, log10 scale) of the worst start: it maximises,
    over starts, the best outcome over diminishing schedules and grid steps
    (:math:`\log_{10}(\|\nabla f\|_T/\mathrm{tol})`, or 1000 when a run diverged). A start where
    every such run diverged is shrunk to the smallest d, then K, where that still holds (the
    direction keeps its last d coordinates: the largest curvatures of the axis-aligned
    quadratic)."""
    d, K, steps = search["d"], search["K"], search["steps"]
    problem = search_problem(d, seed)
    evaluated = [0]

    def negative_badness(z):
        evaluated[0] += z.shape[1]
        kind, gn, _, tol = diminishing_outcomes(problem, start_from(problem, z.T), K, reading,
                                                steps)
        kind, gn, tol = kind[..., :-1], gn[..., :-1], tol[..., :-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            bad = np.where(np.isin(kind, FAILED), SEARCH_BADNESS_DIVERGED,
                           np.maximum(np.log10(gn / tol), 0.0))
        return -bad.min(axis=(1, 2))

    bounds = [(-1.0, 1.0)] * d + [(np.log10(START_SCALES[0]), np.log10(START_SCALES[-1]))]
    population = search["popsize"] * (d + 1)
    rng = np.random.default_rng(seed)
    initial = np.column_stack([rng.uniform(-1.0, 1.0, (population, d)),
                               rng.uniform(*bounds[-1], population)])
    # eigen-directions (1-sparse gradient: Ht = 0, gamma = 2) at the largest and a middle scale
    eigen = np.hstack([np.vstack([np.eye(d), np.eye(d)]),
                       np.repeat([bounds[-1][1], np.mean(bounds[-1])], d)[:, None]])
    initial[:min(2 * d, population)] = eigen[:population]
    result = differential_evolution(negative_badness, bounds, seed=seed, maxiter=search["maxiter"],
                                    polish=False, vectorized=True, updating="deferred",
                                    init=initial)
    out = {"reading": reading, "d": d, "K": K, "steps": steps, "evaluations": evaluated[0],
           "worst_badness": float(-result.fun), "worst_z": result.x.tolist(), "failing": False}
    if -result.fun < SEARCH_BADNESS_DIVERGED:
        return out
    for d_small in range(2, d + 1):
        small = search_problem(d_small, seed)
        z = np.append(result.x[d - d_small:d], result.x[-1])[None]
        for K_small in range(1, K + 1):
            kind, gn, eta0, tol = diminishing_outcomes(small, start_from(small, z), K_small,
                                                       reading, steps)
            if np.isin(kind[0, :, :-1], FAILED).all():
                rescued = not np.isin(kind[0, :, -1], FAILED).all()
                spec = emc_run_spec(small, start_from(small, z)[0], K_small, reading, "inv_t",
                                    eta0[0, -1, 0], steps, tol[0, -1, 0])
                out.update(failing=True, shrunk_d=d_small, shrunk_K=K_small, rescued=rescued,
                           start_scale=float(10.0 ** z[0, -1]), spec=spec,
                           scaled_step_kinds=kind[0, :, -1].tolist())
                return out
    return out


# --------------------------------------------------------------------------- independent


def spectral_evidence(K_values, steps: int) -> tuple[Evidence, dict]:
    r"""Linear EMC with frozen uniform weights on :math:`\tfrac12 (x-x^\star)^\top
    \operatorname{diag}(1, 1/2)(x-x^\star)` at :math:`\eta = (1 \mp 0.02)\,u^\star`, with
    :math:`u^\star` from ``proofs.linear_stability.stability_threshold``: the core's iterates
    against :math:`(M(\eta\lambda_i)^t s_0)_0` (``companion_matrix``, :math:`s_0 = (x_0 -
    x^\star, 0, \dots)`), converge/diverge on either side, and the growth rate above
    :math:`u^\star` against the spectral radius."""
    try:
        from proofs.linear_stability import companion_matrix, stability_threshold
    except ImportError as exc:
        return (Evidence("independent", "spectral analysis (linear, frozen weights)",
                         f"proofs.linear_stability unavailable: {exc}", {}, available=False),
                {"spectral_agrees": None})
    eigenvalues = np.array([1.0, 0.5])
    problem = quadratic(2, eigenvalues=eigenvalues, rotate=False, seed=0)
    offset = np.array([1.0, 1.0])
    rows, agree = [], True
    for K in K_values:
        uniform = np.full(K, 1.0 / K)
        threshold = float(stability_threshold(K, uniform))
        eta = threshold * np.array([0.98, 1.02])
        with np.errstate(all="ignore"):
            tr = minimize(EMC(K=K, lr=eta, reading="linear", tau=TAU_FROZEN), problem,
                          problem.x_star + np.tile(offset, (2, 1)), steps,
                          divergence_factor=1e300, record_iterates=True)
        simulated = tr.iterates - problem.x_star                       # (steps+1, 2, d)
        predicted = np.empty_like(simulated)
        radius = np.empty((2, eigenvalues.size))
        for j, e in enumerate(eta):
            for i, lam in enumerate(eigenvalues):
                M = np.asarray(companion_matrix(K, uniform, float(e * lam)), dtype=float)
                radius[j, i] = np.abs(np.linalg.eigvals(M)).max()
                state = np.eye(K + 1)[0] * offset[i]
                for t in range(steps + 1):
                    predicted[t, j, i] = state[0]
                    state = M @ state
        scale = np.maximum.accumulate(np.linalg.norm(predicted, axis=-1), axis=0)
        max_error = float(np.max(np.linalg.norm(simulated - predicted, axis=-1) / scale))
        gn = tr.grad_norm
        half = np.arange(steps // 2, steps + 1)
        growth = float(np.exp(np.polyfit(half, np.log(gn[half, 1]), 1)[0]))
        ok = bool(max_error < 1e-9 and gn[steps, 0] < 1e-6 * gn[0, 0] and gn[steps, 1] > gn[0, 1]
                  and abs(np.log(growth) - np.log(radius[1].max())) < 1e-6)
        agree &= ok
        rows.append({"K": K, "threshold_uniform": threshold,
                     "threshold_Ht1": float(stability_threshold(K, cascade_weights(1.0, K))),
                     "eta": eta.tolist(), "spectral_radius": radius.max(axis=1).tolist(),
                     "max_relative_deviation": max_error,
                     "grad_norm_ratio": (gn[steps] / gn[0]).tolist(),
                     "growth_rate_above": growth, "agree": ok})
    summary = "; ".join(
        f"K={r['K']}: u*={r['threshold_uniform']:.4g} (weights at Ht=1: "
        f"{r['threshold_Ht1']:.4g}); core = companion iteration to "
        f"{r['max_relative_deviation']:.1e}"
        f"; ||g_T||/||g_0|| at 0.98u*/1.02u*: {r['grad_norm_ratio'][0]:.1e}/"
        f"{r['grad_norm_ratio'][1]:.1e}; growth {r['growth_rate_above']:.6f} vs spectral radius "
        f"{r['spectral_radius'][1]:.6f}" for r in rows)
    return (Evidence("independent", "spectral analysis (linear, frozen weights)", summary,
                     {"rows": rows, "eigenvalues": eigenvalues.tolist(), "steps": steps}),
            {"spectral_agrees": agree,
             "stability_threshold_uniform": {str(r["K"]): r["threshold_uniform"] for r in rows}})


def pep_evidence(pep: dict) -> tuple[Evidence, dict]:
    """PEPit worst cases of linear EMC (frozen uniform weights) and of gradient descent."""
    available, what = pep_emc.pepit_status()
    if not available:
        return (Evidence("independent", "PEPit worst case", what, {}, available=False),
                {"pep_ratio_max": None, "pep_emc_decreasing": None, "pep_emc_finite": None})
    rows = []
    for metric, N_values, etas in (("gap", pep["N"], pep["eta"]), ("grad", pep["grad_N"], (1.0,))):
        for eta in etas:
            for N in N_values:
                gd = pep_emc.worst_case("gd", N, eta, metric=metric)
                for K in pep["K"]:
                    emc = pep_emc.worst_case("emc", N, eta, K=K, metric=metric)
                    rows.append({"metric": metric, "eta": eta, "N": N, "K": K, "emc": emc.value,
                                 "gd": gd.value, "ratio": emc.value / gd.value,
                                 "accurate": emc.accurate and gd.accurate})
    gaps = [r for r in rows if r["metric"] == "gap"]
    decreasing = all(
        np.all(np.diff([r["emc"] for r in gaps if r["eta"] == eta and r["K"] == K]) < 0)
        for eta in pep["eta"] for K in pep["K"])
    ratio_max = max(r["ratio"] for r in rows)
    at_one = {r["K"]: r["ratio"] for r in gaps if r["eta"] == 1.0 and r["N"] == max(pep["N"])}
    finite = all(np.isfinite(r["emc"]) for r in rows)
    inaccurate = sum(not r["accurate"] for r in rows)
    summary = (f"{what}: worst f(x_N)-f* of linear EMC (frozen uniform weights, L=1, "
               f"||x0-x*||<=1) finite for every N, eta, K: {finite}; decreasing in N: "
               f"{decreasing}; "
               f"EMC/GD ratio at eta=1/L, N={max(pep['N'])}: "
               + ", ".join(f"K={k}: {v:.3f}" for k, v in at_one.items())
               + f"; max ratio over the grid {ratio_max:.3f} (GD reference L/(4N+2) at eta=1/L)"
               + (f"; {inaccurate} solve(s) flagged inaccurate by the solver"
                  if inaccurate else ""))
    return (Evidence("independent", "PEPit worst case", summary, {"rows": rows}),
            {"pep_ratio_max": ratio_max, "pep_emc_decreasing": decreasing,
             "pep_emc_finite": finite})


# --------------------------------------------------------------------------- the proof step


def proof_step_evidence(K_max: int = 5, t: int = 8) -> tuple[list, dict, dict]:
    r"""Coefficients of :math:`m^{(k)}_t` on :math:`g_1..g_t`, read off the core's buffers by
    feeding :math:`g_s = e_s` (d = t): closed form :math:`(1-\beta_k)\beta_k^{t-s}`, sum
    :math:`1 - \beta_k^t`; the share of the aggregate on stale gradients (s < t); and whether
    ``h`` is additive and 1-homogeneous per reading."""
    sums, stale, closed_ok = {}, {}, True
    for K in range(1, K_max + 1):
        opt = EMC(K=K, lr=1.0, reading="linear", tau=TAU_FROZEN)
        state = opt.init(np.zeros(t))
        for s in range(t):
            _, state = opt.update(np.eye(t)[s], state)
        coeff = state.momenta                                     # (K, t): level k on g_s
        beta = opt.betas[:, None]
        closed = (1 - beta) * beta ** (t - 1 - np.arange(t))
        closed_ok &= bool(np.allclose(coeff, closed, rtol=1e-12, atol=0))
        sums[K] = coeff.sum(axis=1).tolist()
        aggregate = np.full(K, 1.0 / K) @ coeff
        stale[K] = float(aggregate[:-1].sum() / aggregate.sum())
    n, b = sp.symbols("t beta", positive=True)
    closed_sum = 1 - b**n
    # induction on the buffer recursion S_t = beta S_{t-1} + (1 - beta), S_1 = 1 - beta
    symbolic_ok = (sp.expand(closed_sum.subs(n, 1) - (1 - b)) == 0
                   and sp.expand(closed_sum.subs(n, n + 1) - (b * closed_sum + 1 - b)) == 0)
    rng = np.random.default_rng(0)
    m1, m2 = rng.standard_normal((2, 4, 6))
    gamma = np.array([1.0, 1.3, 1.6, 2.0])
    linear = {}
    for reading in READINGS:
        h = [apply_reading(np.array(m), gamma, reading) for m in (m1, m2, m1 + m2, 2 * m1)]
        additive = np.allclose(h[2], h[0] + h[1], rtol=1e-9, atol=1e-12)
        homogeneous = np.allclose(h[3], 2 * h[0], rtol=1e-9, atol=1e-12)
        linear[reading] = bool(additive and homogeneous)
    max_sum = max(max(v) for v in sums.values())
    min_stale = min(stale.values())
    evidence = [
        Evidence("numerical", "cascade coefficients on past gradients",
                 f"after t={t} steps from m_0=0, level k weights g_s by (1-b_k) b_k^(t-s) "
                 f"(matches closed form: {closed_ok}); sums 1-b_k^t <= {max_sum:.4f} < 1; with "
                 f"uniform weights the share of the aggregate on stale gradients (s<t) is "
                 f"{min_stale:.3f} (K=1) to {max(stale.values()):.3f} (K={K_max}); h additive "
                 f"and 1-homogeneous: " + ", ".join(f"{r}: {v}" for r, v in linear.items()),
                 {"weight_sums": {str(k): v for k, v in sums.items()},
                  "stale_share": {str(k): v for k, v in stale.items()}, "t": t,
                  "closed_form_matches": closed_ok, "h_linear": linear}),
        Evidence("symbolic", "sympy: sum of the cascade coefficients",
                 f"S_t = sum_(s=1..t) (1-b) b^(t-s) = 1 - b^t by induction on S_t = b S_(t-1) + "
                 f"(1-b), S_1 = 1-b: {symbolic_ok}", {"closed_form": str(closed_sum),
                                                     "proved": bool(symbolic_ok)}),
    ]
    facts = {"weight_sum_max": max_sum, "weights_sum_below_one": bool(max_sum < 1 and symbolic_ok),
             "stale_share_min": min_stale}
    return evidence, facts, linear


# --------------------------------------------------------------------------- gather / decide


def _add_counts(total: dict, counts: dict) -> None:
    for key, value in counts.items():
        total[key] = total.get(key, 0) + value


def grid_evidence(p: dict, seed: int) -> dict:
    """Run the grid of ``plan``: per reading, the cell counts of the rule, run classes per
    schedule, failures per step and start scale, cells per problem, the frozen-weights comparison
    and (for the first failed cell, if any) a replayed counterexample."""
    rng = np.random.default_rng(seed)
    steps = p["steps"]
    rows = grid_rows(len(ETA_FACTORS), len(START_SCALES), p["seeds"])
    out = {r: {"totals": {}, "by_schedule": {s: {} for s in SCHEDULES}, "failures": {},
               "converged_by_problem": {}, "pending_by_problem": {}, "frozen": None,
               "witness": None} for r in READINGS}
    for K, d in p["K_d"]:
        entries = convex_problems(d, seed)
        directions = rng.standard_normal((p["seeds"], d))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        x0, eta0, tol = grid_inputs(entries, directions, rows)
        problems = [e[1] for e in entries]
        sched_idx = np.broadcast_to(rows["schedule"], eta0.shape)
        for reading in READINGS:
            res = out[reading]
            runs = run_stacked(problems, x0, sched_idx, eta0, tol, steps, K=K, reading=reading)
            summary = cell_summary(runs.kind, rows)
            _add_counts(res["totals"], {k: v for k, v in summary.items() if np.isscalar(v)})
            for i, (label, _, _) in enumerate(entries):
                _add_counts(res["converged_by_problem"],
                            {label: int(summary["converged_by_problem"][i])})
                _add_counts(res["pending_by_problem"],
                            {label: int(summary["pending_by_problem"][i])})
            for s, sched in enumerate(SCHEDULES):
                names, counts = np.unique(runs.kind[:, rows["schedule"] == s], return_counts=True)
                _add_counts(res["by_schedule"][sched], dict(zip(names.tolist(), counts.tolist())))
            _add_counts(res["failures"], failure_table(runs.kind, rows))
            if p["frozen_K_d"] == (K, d):
                fixed = run_stacked(problems, x0, sched_idx, eta0, tol, steps, K=K,
                                    reading=reading, tau=TAU_FROZEN).kind
                res["frozen"] = {
                    "K": K, "d": d, "runs": int(fixed.size),
                    "converged_adaptive": int((runs.kind == "converged").sum()),
                    "converged_frozen": int((fixed == "converged").sum()),
                    "failed_adaptive": int(np.isin(runs.kind, FAILED).sum()),
                    "failed_frozen": int(np.isin(fixed, FAILED).sum()),
                    "class_differs": int((runs.kind != fixed).sum())}
            if summary["first_failed"].size and res["witness"] is None:
                prob, start = summary["first_failed"][0]
                b = np.flatnonzero((rows["schedule"] == SCHEDULES.index("inv_t"))
                                   & (rows["eta"] == 0))[start]
                label, problem, _ = entries[prob]
                spec = emc_run_spec(problem, x0[prob, b], K, reading, "inv_t", eta0[prob, b],
                                    steps, tol[prob, b])
                res["witness"] = replayed_counterexample(
                    f"grid, reading {reading}: {label}, d={d}, K={K}, start scale "
                    f"{START_SCALES[rows['scale'][b]]:g}: every diminishing run with a grid step "
                    f"(eta0*L in {list(ETA_FACTORS)}) diverged; replayed: inv_t, eta0*L="
                    f"{ETA_FACTORS[0]:g}", spec)
    for res in out.values():
        res["failures"] = {k: v.tolist() for k, v in res["failures"].items()}
    return out


def background_tasks(config: CheckConfig) -> dict:
    """Evidence independent of the runs, computed in the worker process beside them."""
    return {("T1", "pep", config): (pep_evidence, (plan(config)["pep"],))}


def gather(config: CheckConfig) -> Findings:
    p = plan(config)
    grid = grid_evidence(p, config.seed)
    searches = {r: search_reading(r, p["search"], config.seed) for r in READINGS}
    K_roles, d_roles = p["roles_K_d"]
    plateaus = {r: constant_step_plateau(r, K_roles, d_roles, config.seed, p["steps"])
                for r in READINGS}
    proof_evidence, proof_facts, h_linear = proof_step_evidence()
    spectral, spectral_facts = spectral_evidence(p["spectral_K"], p["spectral_steps"])
    pep, pep_facts = background_result(("T1", "pep", config), pep_evidence, p["pep"])

    findings = Findings()
    for reading in READINGS:
        res, found = grid[reading], searches[reading]
        t = res["totals"]
        smallest = smallest_failing_scale({k: np.array(v) for k, v in res["failures"].items()})
        far_only = [k for k, v in res["failures"].items()
                    if k.split()[0] in DIMINISHING and v[0] == 0 and v[-1] > 0]
        facts = {
            "cells": t["cells"], "cells_converged": t["converged"], "cells_pending": t["pending"],
            "cells_failed_unrescued": t["failed_unrescued"],
            "cells_failed_rescued": t["failed_rescued"],
            "uniform_schedule_all_problems": t["uniform_groups"] == t["groups"],
            "uniform_groups": t["uniform_groups"], "groups": t["groups"],
            "search_failures_unrescued": int(found["failing"] and not found["rescued"]),
            "search_failures_rescued": int(found["failing"] and found["rescued"]),
            "constant_cells_converged": t["constant_cells_converged"],
            "converged_by_problem": res["converged_by_problem"],
            "pending_by_problem": res["pending_by_problem"],
            "runs_by_schedule": res["by_schedule"],
            "smallest_failing_scale": smallest,
            "diminishing_steps_failing_only_from_far": far_only,
            "constant_step_plateau": plateaus[reading],
            "frozen_weights": res["frozen"],
            "h_linear": h_linear[reading],
        }
        findings.per_reading[reading] = facts
        if res["witness"] is not None:
            findings.counterexamples.append(res["witness"])
        if found["failing"]:
            findings.counterexamples.append(replayed_counterexample(
                f"search, reading {reading}: quadratic cond 10 (axis-aligned), shrunk to "
                f"d={found['shrunk_d']}, K={found['shrunk_K']}, start scale "
                f"{found['start_scale']:.3g}: every diminishing run with a grid step diverged; "
                f"start-scaled step: {found['scaled_step_kinds']}; replayed: inv_t, "
                f"eta0*L={ETA_FACTORS[0]:g}", found["spec"]))
        plateau = plateaus[reading]
        findings.evidence += [
            Evidence("numerical", f"grid ({reading})",
                     f"{t['cells']} cells: {t['converged']} converged under a diminishing "
                     f"schedule, {t['pending']} pending (by problem: "
                     + ", ".join(f"{k} {v}" for k, v in res["pending_by_problem"].items() if v)
                     + f"), {t['failed_rescued']} failed but rescued by the start-scaled step, "
                     f"{t['failed_unrescued']} failed; one schedule for all starts in "
                     f"{t['uniform_groups']}/{t['groups']} problem groups; constant steps "
                     f"converged in {t['constant_cells_converged']} cells; diminishing steps "
                     f"failing only from far: {far_only or 'none'}",
                     {"runs_by_schedule": res["by_schedule"], "failures_by_scale": res["failures"],
                      "converged_by_problem": res["converged_by_problem"],
                      "pending_by_problem": res["pending_by_problem"]}),
            Evidence("numerical", f"roles ({reading})",
                     f"constant eta0*L in {list(PLATEAU_ETA_FACTORS)} on quadratic cond 10 "
                     f"(d={d_roles}, K={K_roles}): {plateau['kind']}, plateau exponent in eta0: "
                     f"{plateau['level_exponent_in_eta0']}; adaptive vs frozen uniform weights: "
                     f"{res['frozen']}",
                     {"constant_step_plateau": plateau, "frozen_weights": res["frozen"]}),
            Evidence("numerical", f"counterexample search ({reading})",
                     f"{found['evaluations']} starts evaluated (d={found['d']}, K={found['K']}); "
                     f"worst best-outcome {found['worst_badness']:.3g} (1000 = every run "
                     f"diverged); failing: {found['failing']}"
                     + (f", shrunk to d={found['shrunk_d']}, K={found['shrunk_K']}, rescued by "
                        f"the start-scaled step: {found['rescued']}" if found["failing"] else ""),
                     {k: v for k, v in found.items() if k != "spec"}),
        ]
    findings.evidence += proof_evidence + [spectral, pep]
    findings.facts = {**proof_facts, **spectral_facts, **pep_facts}
    findings.parameters = {
        "K_d": [list(kd) for kd in p["K_d"]], "readings": list(READINGS),
        "problems": [label for label, _, _ in convex_problems(2, config.seed)],
        "schedules": list(SCHEDULES), "eta0_times_L": list(ETA_FACTORS),
        "start_scaled_eta0": "1/(L max(1, ||grad f(x0)||_inf))",
        "start_scales": list(START_SCALES), "seeds": p["seeds"], "steps": p["steps"],
        "tol": f"{TOL_REL:g} * max(1, ||grad f(x0)||)", "slope_tol": SLOPE_TOL,
        "divergence_factor": DIVERGENCE_FACTOR, "tau_frozen": TAU_FROZEN,
        "frozen_comparison_K_d": p["frozen_K_d"] and list(p["frozen_K_d"]),
        "roles_K_d": list(p["roles_K_d"]), "plateau_eta0_times_L": list(PLATEAU_ETA_FACTORS),
        "search": p["search"], "spectral_K": list(p["spectral_K"]),
        "spectral_steps": p["spectral_steps"],
        "pep": {k: list(v) for k, v in p["pep"].items()}, "seed": config.seed}
    return findings


_STATEMENT_FACTS = ("cells_failed_unrescued", "cells_failed_rescued", "cells_pending",
                    "search_failures_unrescued", "search_failures_rescued",
                    "uniform_schedule_all_problems")


def decide_reading(facts: dict) -> tuple[str, str, list]:
    """The statement rule for one reading: ``(verdict, reason, conditions)``."""
    if any(facts.get(k) is None for k in _STATEMENT_FACTS):
        return "undecided", "a needed fact could not be established", []
    unrescued = facts["cells_failed_unrescued"] + facts["search_failures_unrescued"]
    rescued = facts["cells_failed_rescued"] + facts["search_failures_rescued"]
    if unrescued:
        return ("fails", f"{unrescued} start point(s) from which every diminishing run diverged, "
                         "the start-scaled step included", [])
    if rescued:
        return ("conditional", f"{rescued} start point(s) where every grid step of both "
                               "diminishing schedules diverged but the start-scaled step did not",
                ["the step size must shrink with the start point (eta0 ~ 1/(L max(1, "
                 "||grad f(x0)||_inf)))"])
    if facts["cells_pending"]:
        return ("undecided", f"{facts['cells_pending']} cell(s) with no converged diminishing "
                             "run within the budget and no divergence", [])
    if not facts["uniform_schedule_all_problems"]:
        return ("conditional", "every start point has a converging diminishing schedule, but no "
                               "single one serves all start points of some problem",
                ["eta0 chosen per start point"])
    return "holds", "every cell converges under one diminishing schedule per problem", []


def decide(findings: Findings) -> Verdict:
    per_reading, reasons, conditions = {}, [], []
    for reading, facts in findings.per_reading.items():
        verdict, reason, conds = decide_reading(facts)
        per_reading[reading] = verdict
        reasons.append(f"{reading}: {verdict} ({reason})")
        conditions += [f"{reading}: {c}" for c in conds]
    statement = combine_readings(per_reading) if per_reading else "undecided"

    facts = findings.facts
    h_linear = {r: f.get("h_linear") for r, f in findings.per_reading.items()}
    needed = (facts.get("weights_sum_below_one"), facts.get("stale_share_min"),
              *h_linear.values())
    if not h_linear or any(v is None for v in needed):
        proof, proof_reason = "none", "the proof step could not be assessed (missing facts)"
    else:
        nonlinear = sorted(r for r, v in h_linear.items() if not v)
        exact = not facts["weights_sum_below_one"] and facts["stale_share_min"] == 0
        if exact and not nonlinear:
            proof, proof_reason = "sound", ("the aggregate is a convex combination of current "
                                            "gradients and h is linear in every reading")
        elif len(nonlinear) == len(h_linear):
            proof, proof_reason = "mismatch", ("the sketch argues about a convex combination of "
                                               "gradients, which no reading's update is")
        else:
            flaws = []
            if facts["weights_sum_below_one"]:
                flaws.append(f"the weights sum to 1-beta^t < 1 (max {facts['weight_sum_max']:.3g},"
                             " bias from m_0 = 0)")
            if facts["stale_share_min"] > 0:
                flaws.append(f"at least {facts['stale_share_min']:.0%} of the aggregate is on "
                             "stale gradients of past iterates")
            if nonlinear:
                flaws.append(f"for {', '.join(nonlinear)} the update h(m~) is a nonlinear "
                             "function of that combination")
            proof, proof_reason = "gap", ("the step 'a convex combination of gradient estimates, "
                                          "so standard arguments apply' does not follow: "
                                          + "; ".join(flaws))
    return Verdict(statement, proof, "; ".join(reasons), proof_reason,
                   per_reading=per_reading, conditions=conditions)
