r"""T1 (EMC paper, 3.1, Theorem 1): convergence to a stationary point on smooth convex functions.

Claim: "For L-smooth convex functions, under standard assumptions and appropriate learning rate
scheduling, EMC converges to a stationary point." Proof sketch: "The weighted combination of
momentum states can be viewed as a convex combination of gradient estimates. Under smoothness
assumptions and diminishing learning rates, standard convergence arguments apply."

What we check (per reading of the missing update ``h``: power, root, linear):

1. numerical grid (``emc_theory.sweep``): EMC on convex problems (quadratics of condition 10 and
   1000, logistic regression with ``reg > 0``, log-sum-exp, Huber, smoothed absolute value),
   K x d pairs, schedules constant / inv_sqrt / inv_t with :math:`\eta_0 L` on a log grid plus
   one *start-scaled* step :math:`\eta_0 = 1/(L \max(1, \|\nabla f(x_0)\|_\infty))`, start points
   :math:`x^\star + r s u` (``r`` the start scale, ``s`` the problem's natural length, ``u`` a
   seeded unit direction per d, shared by the K of that d). Every run of a diminishing schedule
   has a *control*: gradient descent with the same schedule, step, start and tolerance.
2. roles: constant vs diminishing steps, the start scale (smallest failing scale per step),
   adaptive weights vs the same EMC with weights frozen uniform (:math:`\tau = 10^{12}`, on the
   diminishing schedules), the plateau level of constant steps against :math:`\eta_0`.
3. counterexample search (``claims.support.t1_grid.search``): differential evolution over start
   direction and scale on an axis-aligned quadratic, maximising the best outcome over the
   diminishing schedules and grid steps; a start where every such run fails is shrunk to the
   smallest d, then K, replayed, and tried with the start-scaled step (*rescued* if that run
   does not fail).
4. independent: the exact stability threshold :math:`u^\star` of linear EMC with frozen uniform
   weights against the core's iterates (``proofs.linear_stability.core_agreement``); PEPit worst
   cases of that method beside gradient descent's (``proofs.pep_emc.emc_against_gd``).
5. the proof step (``proofs.cascade_sum``): the cascade's coefficients on past gradients (sum
   :math:`1 - \beta_k^t < 1`, proved by induction; mostly on stale gradients) and whether ``h``
   is linear in each reading.

Runs are classified by ``emc_theory.outcomes.classify_runs``: *converged* when
:math:`\|\nabla f(x_t)\| \le 10^{-6} \max(1, \|\nabla f(x_0)\|)` within the budget of T steps,
*diverged* / *non-finite* on the runner's rule (*failed*), else by the tail (converging at a
fitted exponent, bounded cycle, stalled, diverging).

Calibration (fixed before the runs, issue 13 item 5): a finite run cannot show an asymptotic
statement, so each run is judged against its control, with ``M = 10``:

* *converged*: it reached the tolerance; *failed*: it diverged or overflowed;
* *keeping pace*: the control's tail is converging at exponent :math:`p_c` (log-log slope of
  :math:`\|\nabla f\|` or :math:`f - f^\star` over the second half) and the run's tail exponent is
  at most :math:`p_c / M`;
* *lagging*: otherwise, where the control converged within T/M steps (the run had M times the
  control's steps) or its tail converges;
* *uninformative*: otherwise (the control itself is pending: stalled, cycling, failed, or
  converged only after T/M steps); such runs count for nothing.

Verdict rule (per reading; a *cell* is a problem x K x d x start point; the *candidates* are the
subject's appropriate (schedule, step) pairs, for EMC the diminishing schedules with a grid step
or the start-scaled step):

* *fails* if some failing case is not rescued: a cell (or search counterexample) where every
  candidate with a grid step failed and the start-scaled step (where a candidate) failed too;
* else *conditional* if failing cases exist but the start-scaled step rescues them (condition:
  the step size must shrink with the start point);
* else *undecided* if some cell is *lagging* (no candidate converged or kept pace, and one fell
  behind a converging control), or if every cell is uninformative (nothing to compare);
* else *conditional* if on some problem candidates (schedule, grid step) converge or keep pace
  from some start point but each of them lags or fails from another (condition: eta0 chosen
  per start point);
* else *holds* (uninformative cells reported, not counted). A needed fact that could not be
  established gives *undecided*.

Overall: ``claims.support.base.combine_readings``. Proof: *sound* if the aggregate is an exact
convex combination of current gradients and ``h`` is linear in every reading; *mismatch* if no
reading's update is such a combination at all (every ``h`` nonlinear); *gap* otherwise, naming
the step; *none* where the proof step was not assessed (a control subject has no proof).

Controls (``config.subject``, through the same gather and rule): gradient descent with constant
step 1/L must get *holds* (for eta < 2/L the descent lemma gives f(x_t+1) <= f(x_t) -
eta (1 - eta L/2) |grad f(x_t)|^2, so the gradients are square-summable and tend to 0); with
2.5/L it diverges on every quadratic from a start with a component along the top eigenvector
(factor |1 - 2.5| > 1) and must get *fails*.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from emc_theory import READINGS
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic, smoothed_abs
from proofs import pep_emc

from .support import t1_evidence, t1_grid
from .support.base import (
    CheckConfig,
    Claim,
    Control,
    Gathered,
    Proof,
    Verdict,
    combine_readings,
    emc_source,
)

ID = "T1"
TITLE = "Convergence to a stationary point (convex, smooth)"
STATEMENT = ("For L-smooth convex functions, under standard assumptions and appropriate learning "
             "rate scheduling, EMC converges to a stationary point.")
PROOF = ("The weighted combination of momentum states can be viewed as a convex combination of "
         "gradient estimates. Under smoothness assumptions and diminishing learning rates, "
         "standard convergence arguments apply.")
SCHEDULES = ("constant", "inv_sqrt", "inv_t")
DIMINISHING = ("inv_sqrt", "inv_t")
ETA_FACTORS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
START_SCALES = (1e-2, 1.0, 1e2, 1e4)
PROTOCOL = {"tol": 1e-6, "divergence_factor": 1e6, "multiple": 10.0, "tau_frozen": 1e12,
            "start_scales": START_SCALES, "plateau": (2.0, 4.0, 8.0, 16.0, 32.0)}


@dataclass(frozen=True)
class Subject:
    """The method T1 is asked about: an optimizer of ``emc_theory.optimizers.OPTIMIZERS`` with
    ``hyper`` (pairs), per reading for EMC (``readings``; none: one method), the schedules the
    grid runs, the candidate ("appropriate") ones, the grid steps eta0*L and whether the
    start-scaled step is a candidate."""

    name: str
    optimizer: str
    readings: tuple = READINGS
    hyper: tuple = ()
    schedules: tuple = SCHEDULES
    candidates: tuple = DIMINISHING
    eta_times_L: tuple = ETA_FACTORS
    start_scaled: bool = True


EMC_SUBJECT = Subject("EMC", "emc")


def gd_constant(eta_times_L: float) -> Subject:
    return Subject(f"gradient descent, constant step {eta_times_L:g}/L", "gd", readings=(),
                   schedules=("constant",), candidates=("constant",),
                   eta_times_L=(eta_times_L,), start_scaled=False)


@dataclass(frozen=True)
class Facts:
    weight_sum_max: Optional[float]
    weights_sum_below_one: Optional[bool]
    stale_share_min: Optional[float]
    spectral_agrees: Optional[bool]
    stability_threshold_uniform: Optional[dict]
    pep_ratio_max: Optional[float]
    pep_emc_decreasing: Optional[bool]
    pep_emc_finite: Optional[bool]


@dataclass(frozen=True)
class ReadingFacts:
    cells: Optional[int]
    cells_converged: Optional[int]
    cells_pending: Optional[int]
    cells_keeping_pace: Optional[int]
    cells_lagging: Optional[int]
    cells_uninformative: Optional[int]
    cells_failed_unrescued: Optional[int]
    cells_failed_rescued: Optional[int]
    uniform_schedule_all_problems: Optional[bool]
    uniform_groups: Optional[int]
    groups: Optional[int]
    search_failures_unrescued: Optional[int]
    search_failures_rescued: Optional[int]
    constant_cells_converged: Optional[int]
    converged_by_problem: Optional[dict]
    pending_by_problem: Optional[dict]
    lagging_by_problem: Optional[dict]
    uninformative_by_problem: Optional[dict]
    runs_by_schedule: Optional[dict]
    runs_against_control: Optional[dict]
    smallest_failing_scale: Optional[dict]
    diminishing_steps_failing_only_from_far: Optional[list]
    constant_step_plateau: Optional[dict]
    frozen_weights: Optional[dict]
    h_linear: Optional[bool]


def plan(config: CheckConfig) -> dict:
    """The grids of a run (``config.quick`` shrinks them); everything is fixed here."""
    if config.quick:
        return {"K_d": [(2, 4)], "seeds": 1, "steps": 100, "frozen_K_d": (2, 4),
                "roles_K_d": (2, 4),
                "search": {"d": 3, "K": 2, "popsize": 2, "maxiter": 1, "steps": 60},
                "spectral_K": (1,), "spectral_steps": 150,
                "pep": {"N": (1, 2), "eta": (1.0,), "K": (1, 2), "grad_N": ()}, **PROTOCOL}
    return {"K_d": [(1, 10), (3, 10), (5, 10), (3, 2), (3, 50)], "seeds": 1, "steps": 300,
            "frozen_K_d": (3, 10), "roles_K_d": (3, 10),
            "search": {"d": 4, "K": 3, "popsize": 4, "maxiter": 4, "steps": 100},
            "spectral_K": (1, 2, 3), "spectral_steps": 300,
            "pep": {"N": (1, 3, 5), "eta": (0.5, 1.0, 2.0), "K": (1, 2), "grad_N": (5,)},
            **PROTOCOL}


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


# --------------------------------------------------------------------------- gather


def background_tasks(config: CheckConfig) -> dict:
    """PEPit's worst cases (the paper's subject only), computed in the worker beside the runs."""
    if config.subject is not None:
        return {}
    return {("T1", "pep", config): (pep_emc.emc_against_gd, tuple(plan(config)["pep"].values()))}


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = EMC_SUBJECT if config.subject is None else config.subject
    if not isinstance(subject, Subject):
        raise TypeError(f"T1's subject must be a claims.t1.Subject, got {type(subject).__name__}")
    p = plan(config)
    res_by = t1_evidence.grid_evidence(ID, subject, convex_problems, p, config.seed)
    K_roles, d_roles = p["roles_K_d"]
    specs = dict(t1_grid.method_specs(subject, K_roles))
    evidence, counterexamples, per_reading = [], [], {}
    if subject.optimizer == "emc":
        proof, facts, h_linear = t1_evidence.proof_evidence(("T1", "pep", config), p)
    else:   # a control subject: the proof step is EMC's, not assessed
        proof, facts, h_linear = [], dict.fromkeys(Facts.__dataclass_fields__), {}
    for reading, res in res_by.items():
        found = t1_grid.search(subject, reading, p["search"], p, config.seed)
        plateau = t1_grid.constant_step_plateau(specs[reading], d_roles, config.seed, p)
        per_reading[reading] = ReadingFacts(**t1_evidence.reading_facts(
            subject, res, found, plateau, h_linear.get(reading)))
        counterexamples += [res["witness"]] if res["witness"] is not None else []
        counterexamples += t1_evidence.search_counterexamples(ID, subject, reading, found)
        evidence += t1_evidence.reading_evidence(reading, res, found, plateau, p)
    parameters = t1_evidence.parameters(subject, p, list(res_by),
                                        [e[0] for e in convex_problems(2, config.seed)],
                                        config.seed)
    return Gathered(Facts(**facts), per_reading, evidence + proof, counterexamples, parameters)


# --------------------------------------------------------------------------- the rule

_STATEMENT_FACTS = ("cells", "cells_failed_unrescued", "cells_failed_rescued", "cells_lagging",
                    "cells_uninformative", "search_failures_unrescued",
                    "search_failures_rescued", "uniform_schedule_all_problems")


def decide_reading(f: ReadingFacts) -> tuple:
    """The statement rule for one reading: ``(verdict, reason, conditions)``."""
    if any(getattr(f, k) is None for k in _STATEMENT_FACTS):
        return "undecided", "a needed fact could not be established", []
    unrescued = f.cells_failed_unrescued + f.search_failures_unrescued
    rescued = f.cells_failed_rescued + f.search_failures_rescued
    if unrescued:
        return ("fails", f"{unrescued} start point(s) from which every candidate run failed "
                         "(diverged), the start-scaled step included where a candidate", [])
    if rescued:
        return ("conditional", f"{rescued} start point(s) where every candidate with a grid step "
                               "diverged but the start-scaled step did not",
                ["the step size must shrink with the start point (eta0 ~ 1/(L max(1, "
                 "||grad f(x0)||_inf)))"])
    if f.cells_lagging:
        where = ", ".join(f"{k} {v}" for k, v in (f.lagging_by_problem or {}).items() if v)
        return ("undecided", f"{f.cells_lagging} cell(s) where no candidate converged or kept "
                             "pace and one fell behind its converging gradient-descent control"
                + (f" ({where})" if where else "") + "; a finite run cannot decide them", [])
    if f.cells_uninformative == f.cells:
        return "undecided", "every cell is uninformative: no control converged to compare", []
    if not f.uniform_schedule_all_problems:
        return ("conditional", "every informative start point has a converging candidate, but "
                               "on some problem each one lags or fails from another start",
                ["eta0 chosen per start point"])
    return "holds", (f"every informative cell converged ({f.cells_converged}) or kept pace with "
                     f"its control ({f.cells_keeping_pace}); {f.cells_uninformative} "
                     "uninformative cell(s) not counted"), []


def decide(g: Gathered[Facts]) -> Verdict:
    per_reading, reasons, conditions = {}, [], []
    for reading, f in g.per_reading.items():
        verdict, reason, conds = decide_reading(f)
        per_reading[reading] = verdict
        reasons.append(f"{reading}: {verdict} ({reason})")
        conditions += [f"{reading}: {c}" for c in conds]
    statement = combine_readings(per_reading) if per_reading else "undecided"
    facts = g.facts
    h_linear = {r: f.h_linear for r, f in g.per_reading.items()}
    needed = (facts.weights_sum_below_one, facts.stale_share_min, *h_linear.values())
    if not h_linear or any(v is None for v in needed):
        proof, proof_reason = "none", "the proof step could not be assessed (missing facts)"
    else:
        nonlinear = sorted(r for r, v in h_linear.items() if not v)
        exact = not facts.weights_sum_below_one and facts.stale_share_min == 0
        if exact and not nonlinear:
            proof, proof_reason = "sound", ("the aggregate is a convex combination of current "
                                            "gradients and h is linear in every reading")
        elif len(nonlinear) == len(h_linear):
            proof, proof_reason = "mismatch", ("the sketch argues about a convex combination of "
                                               "gradients, which no reading's update is")
        else:
            flaws = []
            if facts.weights_sum_below_one:
                flaws.append(f"the weights sum to 1-beta^t < 1 (max {facts.weight_sum_max:.3g},"
                             " bias from m_0 = 0)")
            if facts.stale_share_min > 0:
                flaws.append(f"at least {facts.stale_share_min:.0%} of the aggregate is on "
                             "stale gradients of past iterates")
            if nonlinear:
                flaws.append(f"for {', '.join(nonlinear)} the update h(m~) is a nonlinear "
                             "function of that combination")
            proof, proof_reason = "gap", ("the step 'a convex combination of gradient estimates, "
                                          "so standard arguments apply' does not follow: "
                                          + "; ".join(flaws))
    return Verdict(statement, proof, "; ".join(reasons), proof_reason,
                   per_reading=per_reading, conditions=conditions)


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source("3.1, Theorem 1"), statement=STATEMENT,
    proof=Proof(PROOF), kind="universal", facts=Facts, reading_facts=ReadingFacts,
    gather=gather, decide=decide, derivations=("cascade_sum",),
    background_tasks=background_tasks,
    may_be_undetermined=frozenset({"pep_ratio_max", "pep_emc_decreasing", "pep_emc_finite"}),
    controls=(
        Control("gradient descent, step 1/L", "gradient descent with constant step 1/L < 2/L "
                "converges on every L-smooth convex function bounded below with a minimiser",
                gd_constant(1.0), "holds", "positive"),
        Control("gradient descent, step 2.5/L", "gradient descent with constant step 2.5/L > 2/L "
                "diverges on a quadratic from any start with a component along the top "
                "eigenvector", gd_constant(2.5), "fails", "negative"),
    ))
