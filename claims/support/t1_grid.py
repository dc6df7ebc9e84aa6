r"""Claim T1's protocol machinery: its grid of runs on the sweep engine, each run calibrated
against gradient descent with the same schedule, step, start and tolerance; the cell categories
its rule reads; the failures per step and start scale; the constant-step plateau; the
counterexample search; replayable records.

The protocol itself (problems, grids, tolerances, the subjects under test, the rule) is in
:mod:`claims.t1`; here ``subject`` is a :class:`Subject` and ``p`` T1's plan.
Runs are classified by :func:`emc_theory.outcomes.classify_runs`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import differential_evolution

from emc_theory.fit import power_law_fit
from emc_theory.optimizers import OPTIMIZERS
from emc_theory.outcomes import FAILED_STATUSES, classify_table
from emc_theory.problems import quadratic
from emc_theory.replay import replay as replay_run
from emc_theory.replay import run_spec
from emc_theory.schedules import Schedule
from emc_theory.sweep import START_SCALED, sweep

from .base import Counterexample

CALIBRATOR = {"name": "gd"}
RUN_CATEGORIES = ("converged", "keeping pace", "lagging", "uninformative", "failed")
SEARCH_BADNESS_DIVERGED = 1e3


@dataclass(frozen=True)
class Subject:
    """A method T1's grid runs: an optimizer of ``emc_theory.optimizers.OPTIMIZERS`` with
    ``hyper`` (pairs), per reading for EMC (``readings``; none: one method), the schedules the
    grid runs, the candidate ("appropriate") ones, the grid steps eta0*L and whether the
    start-scaled step is a candidate."""

    name: str
    optimizer: str
    readings: tuple
    schedules: tuple
    candidates: tuple
    eta_times_L: tuple
    hyper: tuple = ()
    start_scaled: bool = True


def method_specs(subject, K) -> list:
    """``(reading label, sweep optimizer spec)`` of the subject: one per EMC reading (with K), or
    the one method of a subject without readings."""
    hyper = dict(subject.hyper)
    if subject.readings:
        return [(r, {"name": subject.optimizer, "K": K, "reading": r, **hyper})
                for r in subject.readings]
    return [(subject.optimizer, {"name": subject.optimizer, **hyper})]


def step_columns(subject) -> tuple:
    """The grid's step sizes, their units and labels: the grid steps :math:`\\eta_0 L`, then the
    start-scaled step where the subject has it."""
    lrs = list(subject.eta_times_L) + ([1.0] if subject.start_scaled else [])
    units = ["1/L"] * len(subject.eta_times_L) + ([START_SCALED] if subject.start_scaled else [])
    labels = ([f"eta0*L={f:g}" for f in subject.eta_times_L]
              + (["start-scaled"] if subject.start_scaled else []))
    return lrs, units, labels


@dataclass
class GridRuns:
    """One method's runs on a (K, d) grid, arrays of shape ``(P, schedules, steps, starts)``:
    run class, calibrated category (:data:`RUN_CATEGORIES`; ``""`` outside the candidate
    schedules), stop step, final gradient norm, tolerance and step size; ``frozen``: classes of
    the candidate runs with weights frozen uniform, shape ``(P, candidates, steps, starts)``
    (None unless asked)."""

    kind: np.ndarray
    category: np.ndarray
    stop_step: np.ndarray
    final_grad_norm: np.ndarray
    tol: np.ndarray
    eta0: np.ndarray
    frozen: np.ndarray = None


def calibrate(kind, exponent, control_kind, control_stop, control_exponent, steps: int,
              multiple: float) -> np.ndarray:
    """Each run's category against its control run (the rule of :mod:`claims.t1`): failed,
    converged, keeping pace (the control's tail converges and the run's exponent is at most the
    control's over ``multiple``), lagging (the control converged within ``steps / multiple``
    steps, or its tail converges, and the run neither converged nor kept pace), else
    uninformative."""
    failed = np.isin(kind, FAILED_STATUSES)
    converged = kind == "converged"
    fast = (control_kind == "converged") & (control_stop * multiple <= steps)
    trend = control_kind == "converging"
    with np.errstate(invalid="ignore"):
        keeps = trend & (exponent <= control_exponent / multiple)
    open_ = ~failed & ~converged
    category = np.full(kind.shape, "uninformative", dtype=object)
    category[converged], category[failed] = "converged", "failed"
    category[open_ & keeps] = "keeping pace"
    category[open_ & ~keeps & (fast | trend)] = "lagging"
    return category


def _sweep_grid(subject, entries, starts: dict, configs: list, schedules, p: dict) -> tuple:
    """One sweep of ``configs`` over the grid, classified and reshaped to ``(P, configs,
    schedules, steps, starts)``: run classes, exponents, stop steps, final gradient norms,
    tolerances and step sizes."""
    lrs, units, _ = step_columns(subject)
    table = sweep({label: problem for label, problem, _ in entries}, configs, lrs, lr_unit=units,
                  schedules=schedules, start_points=starts, steps=p["steps"], tol=p["tol"],
                  tol_relative=True, divergence_factor=p["divergence_factor"], history=True,
                  progress=False)
    out = classify_table(table)
    shape = (len(entries), len(configs), len(schedules), len(lrs), -1)
    return tuple(a.reshape(shape) for a in (
        out.kind, out.exponent, table.column("stop_step").astype(int),
        table.column("final_grad_norm"), table.column("tol"), table.column("lr")))


def run_grid(subject, entries, starts: dict, Ks, p: dict, frozen_K=None) -> dict:
    """The subject's methods for every K in ``Ks`` on ``entries`` (``(label, problem,
    length)``) of one d from ``starts`` (label -> ``(S, d)``), every schedule the subject runs;
    the calibrator and, for ``frozen_K``, the same methods with weights frozen uniform, on the
    candidate schedules. Two sweeps (one program per configuration); every run classified, the
    candidate runs calibrated (other runs' category is ``""``), arrays of shape ``(P,
    schedules, steps, starts)``; keys ``(K, method label)``."""
    methods = [(K, label, spec) for K in Ks for label, spec in method_specs(subject, K)]
    configs = [spec for _, _, spec in methods]
    kind, exponent, stop, gn, tol, eta0 = _sweep_grid(subject, entries, starts, configs,
                                                      subject.schedules, p)
    frozen = [i for i, (K, _, _) in enumerate(methods) if K == frozen_K]
    extra = [{**configs[i], "tau": p["tau_frozen"]} for i in frozen]
    calibrated = not all(spec == CALIBRATOR for spec in configs)
    cand = [subject.schedules.index(s) for s in subject.candidates]
    if calibrated or extra:
        extra_kind, extra_exp, extra_stop, *_ = _sweep_grid(
            subject, entries, starts, extra + [CALIBRATOR] * calibrated, subject.candidates, p)
    if calibrated:
        control = extra_kind[:, -1], extra_stop[:, -1], extra_exp[:, -1]
    runs = {}
    for i, (K, label, _) in enumerate(methods):
        if not calibrated:
            control = kind[:, i][:, cand], stop[:, i][:, cand], exponent[:, i][:, cand]
        category = np.full(kind[:, i].shape, "", dtype=object)
        category[:, cand] = calibrate(kind[:, i][:, cand], exponent[:, i][:, cand], *control,
                                      p["steps"], p["multiple"])
        runs[K, label] = GridRuns(
            kind[:, i], category, stop[:, i], gn[:, i], tol[:, i], eta0[:, i],
            extra_kind[:, frozen.index(i)] if i in frozen else None)
    return runs


def cell_summary(runs: GridRuns, subject) -> dict:
    """Per problem (axis 0) and start point: the cell categories of the rule over the candidate
    schedules, and per problem whether one (candidate schedule, grid step) converges or keeps
    pace from some start and neither lags nor fails from any other, or none converges or keeps
    pace at all (uninformative runs count for nothing)."""
    cand = [subject.schedules.index(s) for s in subject.candidates]
    n_fixed = len(subject.eta_times_L)
    category, failed = runs.category[:, cand], np.isin(runs.kind[:, cand], FAILED_STATUSES)
    fail_fixed = failed[:, :, :n_fixed].all(axis=(1, 2))            # (P, starts)
    fail_all = failed.all(axis=(1, 2))

    def some(name):
        return (category == name).any(axis=(1, 2)) & ~fail_fixed

    converged = some("converged")
    keeping = some("keeping pace") & ~converged
    lagging = some("lagging") & ~converged & ~keeping
    pending = ~fail_fixed & ~converged
    uninformative = pending & ~keeping & ~lagging
    fixed = category[:, :, :n_fixed]                                  # (P, cand, steps, starts)
    supported = np.isin(fixed, ("converged", "keeping pace")).any(axis=-1)
    contradicted = np.isin(fixed, ("lagging", "failed")).any(axis=-1)
    uniform = (supported & ~contradicted).any(axis=(1, 2)) | ~supported.any(axis=(1, 2))
    const = (np.isin(runs.kind[:, subject.schedules.index("constant"), :n_fixed], "converged")
             .any(axis=1) if "constant" in subject.schedules else np.zeros_like(converged))
    return {"cells": int(fail_fixed.size), "converged": int(converged.sum()),
            "keeping_pace": int(keeping.sum()), "lagging": int(lagging.sum()),
            "uninformative": int(uninformative.sum()),
            "failed_unrescued": int(fail_all.sum()),
            "failed_rescued": int((fail_fixed & ~fail_all).sum()), "pending": int(pending.sum()),
            "uniform_groups": int(uniform.sum()), "groups": int(uniform.size),
            "constant_cells_converged": int(const.sum()),
            "by_problem": {"converged": converged.sum(axis=1), "pending": pending.sum(axis=1),
                           "lagging": lagging.sum(axis=1),
                           "uninformative": uninformative.sum(axis=1)},
            "first_failed": np.argwhere(fail_fixed)}


def failure_table(kind: np.ndarray, subject, scale_index: np.ndarray, n_scales: int) -> dict:
    """Failed runs (over all problems) per schedule and step column, counted per start scale
    (``scale_index``: each start's scale)."""
    _, _, labels = step_columns(subject)
    failed = np.isin(kind, FAILED_STATUSES).sum(axis=0)            # (schedules, steps, starts)
    return {f"{sched} {column}": np.bincount(scale_index, weights=failed[s, e],
                                              minlength=n_scales).astype(int)
            for s, sched in enumerate(subject.schedules) for e, column in enumerate(labels)}


def smallest_failing_scale(table: dict, scales) -> dict:
    """Per (schedule, step column): the smallest start scale with a failed run (None if none)."""
    return {key: (float(scales[np.flatnonzero(counts)[0]]) if np.any(counts) else None)
            for key, counts in table.items()}


def constant_step_plateau(spec: dict, d: int, seed: int, p: dict) -> dict:
    r"""Constant steps :math:`\eta_0 L` in ``p["plateau"]`` on the quadratic of condition 10
    from a unit-distance start: run classes, the plateau level of stalled and cycling runs
    (geometric mean of :math:`\|\nabla f\|` over the last tenth) and the exponent of the level in
    :math:`\eta_0` (:func:`emc_theory.fit.power_law_fit`; None if fewer than two)."""
    problem = quadratic(d, cond=10.0, seed=seed)
    direction = np.random.default_rng(seed).standard_normal(d)
    x0 = problem.x_star + direction / np.linalg.norm(direction)
    table = sweep([problem], [spec], p["plateau"], lr_unit="1/L", start_points=x0[None],
                  steps=p["steps"], tol=p["tol"], tol_relative=True,
                  divergence_factor=p["divergence_factor"], history=True, progress=False)
    out = classify_table(table)
    flat = np.isin(out.kind, ("stalled", "cycle"))
    exponent = (power_law_fit(np.asarray(p["plateau"])[flat], out.level[flat]).exponent
                if flat.sum() >= 2 else None)
    return {"eta0_times_L": list(p["plateau"]), "kind": out.kind.tolist(),
            "level": [float(v) if f else None for f, v in zip(flat, out.level)],
            "level_exponent_in_eta0": exponent}


def emc_run_spec(spec: dict, problem, x0, schedule: str, eta0, steps: int, tol, p) -> dict:
    """A replayable single run (``emc_theory.replay.run_spec``) of a sweep spec's optimizer
    with a named schedule."""
    hyper = {k: v for k, v in spec.items() if k != "name"}
    optimizer = OPTIMIZERS[spec["name"]](lr=Schedule(float(eta0), schedule), **hyper)
    return run_spec(optimizer, problem, x0, steps, tol=float(tol),
                    divergence_factor=p["divergence_factor"])


def replayed_counterexample(claim: str, description: str, spec: dict) -> Counterexample:
    """Run ``spec`` through :func:`emc_theory.replay.replay`; its outcome is what is recorded."""
    trajectory = replay_run(spec, history=False)
    outcome = {"status": str(trajectory.status), "stop_step": int(trajectory.stop_step),
               "final_grad_norm": float(trajectory.final_grad_norm),
               "final_gap": float(trajectory.final_gap)}
    return Counterexample(claim, description, spec, outcome)


def candidate_outcomes(subject, spec: dict, problem, x0: np.ndarray, steps: int, p: dict,
                       classify: bool = True):
    """Every (candidate schedule, step column) from the start points ``x0`` (S, d): run
    classes (only the runner's statuses unless ``classify``), final gradient norms, step sizes
    and tolerances, each of shape ``(S, candidates, steps)``."""
    lrs, units, _ = step_columns(subject)
    table = sweep([problem], [spec], lrs, lr_unit=units, schedules=subject.candidates,
                  start_points=x0, steps=steps, tol=p["tol"], tol_relative=True,
                  divergence_factor=p["divergence_factor"], history=classify, progress=False)
    kind = classify_table(table).kind if classify else table.column("status")
    shape = (len(subject.candidates), len(lrs), x0.shape[0])
    return tuple(np.moveaxis(a.reshape(shape), -1, 0) for a in (
        kind, table.column("final_grad_norm"), table.column("lr"), table.column("tol")))


def start_from(problem, z: np.ndarray) -> np.ndarray:
    r"""Start points :math:`x^\star + 10^{z_{d}} u`, ``u`` = first d entries of ``z``
    normalised (:math:`e_1` if they vanish); ``z`` has shape ``(S, d + 1)``."""
    u = z[:, :-1]
    norm = np.linalg.norm(u, axis=1, keepdims=True)
    u = np.where(norm > 1e-12, u / np.where(norm > 0, norm, 1.0), np.eye(u.shape[1])[0])
    return problem.x_star + 10.0 ** z[:, -1:] * u


def search(subject, reading: str, search_p: dict, p: dict, seed: int) -> dict:
    r"""Differential evolution over (direction, log10 scale) of the worst start on an
    axis-aligned quadratic (condition 10): it maximises, over starts, the best outcome over the
    candidate schedules and grid steps (:math:`\log_{10}(\|\nabla f\|_T/\mathrm{tol})`, or 1000
    when a run failed). A start where every such run failed is shrunk to the smallest d, then
    K, where that still holds (the direction keeps its last d coordinates: the largest
    curvatures) and tried with the start-scaled step (*rescued* if one of those runs did not
    fail)."""
    d, K, steps = search_p["d"], search_p["K"], search_p["steps"]
    spec_of = dict(method_specs(subject, K))
    problem = quadratic(d, cond=10.0, rotate=False, seed=seed)
    evaluated = [0]
    n_fixed = len(subject.eta_times_L)

    def negative_badness(z):
        evaluated[0] += z.shape[1]
        kind, gn, _, tol = candidate_outcomes(subject, spec_of[reading], problem,
                                              start_from(problem, z.T), steps, p, False)
        with np.errstate(divide="ignore", invalid="ignore"):
            bad = np.where(np.isin(kind, FAILED_STATUSES), SEARCH_BADNESS_DIVERGED,
                           np.maximum(np.log10(gn / tol), 0.0))[..., :n_fixed]
        return -bad.min(axis=(1, 2))

    scales = p["start_scales"]
    bounds = [(-1.0, 1.0)] * d + [(np.log10(scales[0]), np.log10(scales[-1]))]
    population = search_p["popsize"] * (d + 1)
    rng = np.random.default_rng(seed)
    initial = np.column_stack([rng.uniform(-1.0, 1.0, (population, d)),
                               rng.uniform(*bounds[-1], population)])
    # eigen-directions (1-sparse gradient: Ht = 0, gamma = 2) at the largest and a middle scale
    eigen = np.hstack([np.vstack([np.eye(d), np.eye(d)]),
                       np.repeat([bounds[-1][1], np.mean(bounds[-1])], d)[:, None]])
    initial[:min(2 * d, population)] = eigen[:population]
    result = differential_evolution(negative_badness, bounds, seed=seed,
                                    maxiter=search_p["maxiter"], polish=False, vectorized=True,
                                    updating="deferred", init=initial)
    out = {"reading": reading, "d": d, "K": K, "steps": steps, "evaluations": evaluated[0],
           "worst_badness": float(-result.fun), "worst_z": result.x.tolist(), "failing": False}
    if -result.fun < SEARCH_BADNESS_DIVERGED:
        return out
    for d_small in range(2, d + 1):
        small = quadratic(d_small, cond=10.0, rotate=False, seed=seed)
        z = np.append(result.x[d - d_small:d], result.x[-1])[None]
        for K_small in range(1, K + 1) if subject.readings else (K,):
            spec = dict(method_specs(subject, K_small))[reading]
            kind, _, eta0, tol = candidate_outcomes(subject, spec, small, start_from(small, z),
                                                    steps, p)
            if np.isin(kind[0, :, :n_fixed], FAILED_STATUSES).all():
                rescued = bool(subject.start_scaled
                               and not np.isin(kind[0, :, n_fixed:], FAILED_STATUSES).all())
                replay_spec = emc_run_spec(spec, small, start_from(small, z)[0],
                                           subject.candidates[-1], eta0[0, -1, 0], steps,
                                           tol[0, -1, 0], p)
                out.update(failing=True, shrunk_d=d_small, shrunk_K=K_small, rescued=rescued,
                           start_scale=float(10.0 ** z[0, -1]), spec=replay_spec,
                           scaled_step_kinds=kind[0, :, n_fixed:].ravel().tolist())
                return out
    return out
