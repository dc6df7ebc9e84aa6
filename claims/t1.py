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
5. decisions (``claims.support.t1_proofs`` over ``proofs.t1_records.summary``, issue 13): the
   linear reading's Lyapunov certificates (K = 1, 2, 3, tau = 1), re-verified exactly on every
   run, with their brackets (PEPit, u*, dead-zone Huber cycles just above eta_cycle/L); the root
   reading's exact period-2 cycle (sympy) and its diminishing-step law (stored 1e5-step runs);
   the power reading's divergence law r* = C/(eta0 L^2); the no-minimiser counterexample; each
   record replayed to its recorded class (quick: one per reading; full: all).
6. the proof step (``proofs.cascade_sum``): the cascade's coefficients on past gradients (sum
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

Verdict rule (issue 13 item 6; written before the evidence was read). Per reading, and within
it per *schedule class* S of the subject (constant; diminishing), the deciding evidence is, in
this order of strength:

1. a *certificate* verified exactly on this run (``proofs.lyapunov_certificate.verify_record``
   through ``proofs.t1_records.summary``; for gradient descent the descent lemma, exact in
   rationals for 0 < eta L < 2) or an *exact derivation* (sympy) confirmed by the core's runs:
   it decides S *holds* on its stated step range, or *does not converge* / *diverges from far*;
2. a *replayable counterexample* (it replays, on this run, to its recorded class) with a schedule
   of class S fixed before the start: it decides S *fails*, unless its step lies outside a
   verified certificate's range, where it *brackets* the certified condition instead; one inside
   a verified certificate's range is a *conflict* (a defect somewhere: undecided);
3. calibrated numerics (the grid against its gradient-descent controls, above) *support*; alone
   they decide nothing except a failure, and every unrescued failure is itself replayed as a
   counterexample.

Choice of words, fixed first: a step bound of the form eta_t <= c/L (with sum eta_t = infinity)
and a diminishing schedule are "appropriate learning rate scheduling" in the theorem's own words
(gradient descent's classical theorem is stated with eta < 2/L; the paper's proof sketch names
diminishing rates), so a reading decided *holds* under such a condition gets **holds**, the
condition printed. Existence of a minimiser is read as one of the "standard assumptions": the
no-minimiser counterexample prints it as a condition and changes no verdict. A condition tying
the step to the start point (a schedule chosen after the start) is outside the theorem's words
and gives **conditional**. The reading's verdict:

* *undecided* if a needed fact is missing, or some S has a conflict (naming it);
* else *holds* if some S is decided holds (the certificate's step bound, the certified K and tau,
  and every other S's fate printed as conditions);
* else, if every S of the subject is decided to fail: *conditional* if the failure is a
  divergence from far only (a law r*(eta0) or start-scaled steps that rescue the grid's
  failures: the theorem holds locally; condition: start within r* of the minimiser, i.e. the
  step chosen after the start), else *fails*;
* else *undecided*, saying what is missing (a certificate or derivation for the S not decided;
  what the calibrated numerics say).

Overall (printed in the report): ``claims.support.base.combine_readings`` of the reading
verdicts (holds if every reading holds, fails if every one fails, undecided if one is undecided
and none fails, else conditional), with the conditions naming reading, schedules and steps, and
one condition ``theorem as it holds: ...`` stating the theorem as the evidence leaves it.

Proof verdict: *sound* if the aggregate is an exact convex combination of current gradients with
fixed weights and ``h`` is linear in every reading; *mismatch* if no reading's update is such a
combination at all (every ``h`` nonlinear); *gap* otherwise, naming the failing step per reading
(h nonlinear for power and root; weights varying in time, which frozen-weight analyses -- the
spectral threshold, PEPit -- do not cover; stale, biased averages: coefficient sum
1 - beta_k^t < 1); *none* where the proof step was not assessed (a control subject).

Repairs (``claims.support.t1_repairs``, issue 14): ``T1.r1`` (statement changed) the theorem as
it holds per reading, checked clause by clause against this claim's evidence (gathered once:
``gather_once``); ``T1.r2`` (method changed) the power reading clipped at the linear update,
:math:`h = \operatorname{sign}(\tilde m)\min(|\tilde m|^\gamma, |\tilde m|)`, on this claim's
grid, search, controls and rule.

Controls (``config.subject``, through the same gather and rule): gradient descent with constant
step 1/L must get *holds* (for eta < 2/L the descent lemma gives f(x_t+1) <= f(x_t) -
eta (1 - eta L/2) |grad f(x_t)|^2, so the gradients are square-summable and tend to 0); with
2.5/L it diverges on every quadratic from a start with a component along the top eigenvector
(factor |1 - 2.5| > 1) and must get *fails*.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Optional

from emc_theory import READINGS
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic, smoothed_abs
from proofs import pep_emc

from .support import t1_evidence, t1_grid, t1_proofs, t1_repairs
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
from .support.repairs_common import memoised

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
    weights_vary_in_time: Optional[bool]
    no_minimiser_counterexample: Optional[dict]


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
    certificates: Optional[list]
    derivations: Optional[list]
    counterexamples: Optional[list]
    local_convergence: Optional[dict]


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
        proved = t1_proofs.statement_records(config.quick)
        facts["weights_vary_in_time"] = t1_proofs.weights_vary_in_time()
        facts["no_minimiser_counterexample"] = proved["no_minimiser"]
        counterexamples += proved["counterexamples"]
        proof += t1_proofs.proof_evidence(proved)
    else:   # a control subject: the proof step is EMC's, not assessed
        proof, facts, h_linear = [], dict.fromkeys(Facts.__dataclass_fields__), {}
        proved = {}
    for reading, res in res_by.items():
        found = t1_grid.search(subject, reading, p["search"], p, config.seed)
        plateau = t1_grid.constant_step_plateau(specs[reading], d_roles, config.seed, p)
        witnesses = [res["witness"]] if res["witness"] is not None else []
        witnesses += t1_evidence.search_counterexamples(ID, subject, reading, found)
        counterexamples += witnesses
        decided = proved.get(reading) or {
            "certificates": (t1_proofs.gd_certificate(subject.eta_times_L[0])
                             if subject.optimizer == "gd" and len(subject.eta_times_L) == 1
                             else []),
            "derivations": [], "counterexamples": [], "local_convergence": {}}
        decided = {**decided, "counterexamples": decided["counterexamples"]
                   + [t1_proofs.core_witness_fact(w) for w in witnesses]}
        per_reading[reading] = ReadingFacts(**t1_evidence.reading_facts(
            subject, res, found, plateau, h_linear.get(reading)), **decided)
        evidence += t1_evidence.reading_evidence(reading, res, found, plateau, p)
    parameters = t1_evidence.parameters(subject, p, list(res_by),
                                        [e[0] for e in convex_problems(2, config.seed)],
                                        config.seed)
    return Gathered(Facts(**facts), per_reading, evidence + proof, counterexamples, parameters)


# --------------------------------------------------------------------------- the rule

_STATEMENT_FACTS = ("cells", "cells_failed_unrescued", "cells_failed_rescued", "cells_lagging",
                    "cells_uninformative", "search_failures_unrescued",
                    "search_failures_rescued", "uniform_schedule_all_problems",
                    "certificates", "derivations", "counterexamples", "local_convergence")
SCHEDULE_CLASSES = ("constant", "diminishing")


def numerics_reading(f: ReadingFacts) -> tuple:
    """What the calibrated numerics alone say: ``(word, reason)``; they support, never decide
    'holds'."""
    unrescued = f.cells_failed_unrescued + f.search_failures_unrescued
    rescued = f.cells_failed_rescued + f.search_failures_rescued
    if unrescued:
        return "fails", (f"{unrescued} start point(s) from which every candidate run failed "
                         "(diverged), the start-scaled step included where a candidate")
    if rescued:
        return "conditional", (f"{rescued} start point(s) where every candidate with a grid "
                               "step diverged but the start-scaled step did not")
    if f.cells_lagging:
        return "undecided", (f"{f.cells_lagging} cell(s) where no candidate converged or kept "
                             "pace and one fell behind its converging gradient-descent control")
    if f.cells_uninformative == f.cells:
        return "undecided", "every cell is uninformative: no control converged to compare"
    if not f.uniform_schedule_all_problems:
        return "conditional", ("every informative start point has a converging candidate, but "
                               "on some problem each one lags or fails from another start")
    return "holds", (f"every informative cell converged ({f.cells_converged}) or kept pace with "
                     f"its control ({f.cells_keeping_pace}); {f.cells_uninformative} "
                     "uninformative cell(s) not counted")


def _in_certified_range(c: dict, cert: dict) -> bool:
    """Whether a counterexample's method (K, schedule class, step) is one the certificate
    covers (a certificate or counterexample without K: any K)."""
    if cert.get("K") is not None and c.get("K") is not None and cert["K"] != c["K"]:
        return False
    bound = cert["step_constant"] if c["schedule"] == "constant" else cert["step_any_sequence"]
    if cert.get("subject_step") is not None:   # a fixed subject step (gradient descent)
        return c["schedule"] in cert["schedules"] and c["step_times_L"] <= cert["subject_step"]
    return (c["schedule"] in cert["schedules"] and bound is not None
            and c["step_times_L"] < bound)


def schedule_status(f: ReadingFacts, schedule: str) -> dict:
    """For one schedule class: ``{"holds": [...], "fails": [...], "brackets": [...],
    "conflicts": [...], "far_only": bool}`` (names of the deciding certificates, derivations and
    counterexamples)."""
    certs = [c for c in f.certificates if c["verified"] and schedule in c["schedules"]]
    out = {"holds": [c["name"] for c in certs], "fails": [], "brackets": [], "conflicts": [],
           "far_only": False}
    for d in f.derivations:
        if not (d["verified"] and d["confirmed_by_runs"] and schedule in d["schedules"]):
            continue
        if d["says"] == "converges":
            out["holds"].append(d["name"])
        else:
            out["fails"].append(d["name"])
            out["far_only"] = out["far_only"] or d["says"] == "diverges_from_far"
    for c in f.counterexamples:
        if not (c["replays"] and c["schedule"] == schedule and c["fixed_before_start"]):
            continue
        inside = [k["name"] for k in certs if _in_certified_range(c, k)]
        if inside:
            out["conflicts"].append(f"{c['name']} (step {c['step_times_L']:.4g}/L) inside "
                                    f"{inside[0]}")
        elif certs:
            out["brackets"].append(f"{c['name']} at {c['step_times_L']:.4g}/L")
        else:
            out["fails"].append(c["name"])
    return out


def _step_condition(f: ReadingFacts, schedule: str) -> str:
    certs = [c for c in f.certificates if c["verified"] and schedule in c["schedules"]]
    if not certs:
        return ""
    if certs[0].get("subject_step") is not None:
        return f"constant step {certs[0]['subject_step']:g}/L < {certs[0]['step_constant']:g}/L"
    Ks = ", ".join(str(c["K"]) for c in certs)
    if schedule == "constant":
        return ("constant step eta < eta_const/L (" + ", ".join(
            f"K={c['K']}: {c['step_constant']}" for c in certs) + "): g_t -> 0")
    return ("any steps eta_t <= eta_cert/L (" + ", ".join(
        f"K={c['K']}: {c['step_any_sequence']}" for c in certs) + ") with sum eta_t = "
            f"infinity: liminf |g_t| = 0; certified for K in {{{Ks}}}, tau = 1")


def decide_reading(f: ReadingFacts, schedules=SCHEDULE_CLASSES) -> tuple:
    """The statement rule for one reading: ``(verdict, reason, conditions)``."""
    if any(getattr(f, k) is None for k in _STATEMENT_FACTS):
        return "undecided", "a needed fact could not be established", []
    status = {s: schedule_status(f, s) for s in schedules}
    numerics, numerics_reason = numerics_reading(f)
    conflicts = [c for s in schedules for c in status[s]["conflicts"]]
    if conflicts:
        return ("undecided", "a replayed counterexample lies inside a verified certificate's "
                             "range (a defect to find): " + "; ".join(conflicts), [])
    holding = [s for s in schedules if status[s]["holds"]]
    failing = [s for s in schedules if status[s]["fails"]]
    if holding:
        conds = [f"{s} steps: {_step_condition(f, s) or status[s]['holds'][0]}"
                 for s in holding]
        conds += [f"{s} steps do not converge ({status[s]['fails'][0]})" for s in failing
                  if s not in holding]
        conds += [f"{s}: beyond the certified step, counterexamples: "
                  + "; ".join(status[s]["brackets"]) for s in holding if status[s]["brackets"]]
        return "holds", ("decided by " + "; ".join(
            f"{s}: {', '.join(status[s]['holds'])}" for s in holding)
            + (f"; {', '.join(failing)} fail(s)" if failing else "")
            + f"; calibrated numerics: {numerics} ({numerics_reason})"), conds
    if failing and len(failing) == len(schedules):
        far = all(status[s]["far_only"] for s in schedules) or numerics == "conditional"
        reason = "; ".join(f"{s}: {', '.join(status[s]['fails'])}" for s in schedules)
        if far:
            local = f.local_convergence or {}
            law = (f" ({local['law']}, C = {local['C']})" if local.get("law") else "")
            return ("conditional", f"fails as a global statement ({reason}); holds locally: "
                                   f"runs inside r* converge{law}; calibrated numerics: "
                                   f"{numerics} ({numerics_reason})",
                    ["start within r* of the minimiser, i.e. the step chosen after the start "
                     f"(eta0 < C/(L^2 |x0 - x*|)){law}; any schedule fixed before the start "
                     "diverges from far enough away"])
        return "fails", reason + f"; calibrated numerics: {numerics} ({numerics_reason})", []
    missing = [s for s in schedules if s not in failing]
    return ("undecided", "no certificate, exact derivation or replayable counterexample decides "
                         f"{', '.join(missing)} steps"
            + (f" ({', '.join(failing)} steps fail)" if failing else "")
            + f"; calibrated numerics only: {numerics} ({numerics_reason})", [])


def theorem_as_it_holds(per_reading: dict, conditions: dict, minimiser: Optional[dict]) -> str:
    """The theorem as the evidence leaves it, one clause per reading."""
    parts = []
    for reading, verdict in per_reading.items():
        conds = "; ".join(conditions.get(reading, [])) or "no condition"
        parts.append(f"{reading}: {verdict} ({conds})")
    gap = ""
    if minimiser is not None:
        gap = ("; in every reading 'converges to a stationary point' needs one to exist: "
               "assume f has a minimiser (without one, |g_t| -> 0 while |x_t| -> infinity: "
               f"no-minimiser counterexample, class {minimiser['recorded']})")
    return ("theorem as it holds: for L-smooth convex f bounded below, " + " | ".join(parts)
            + gap)


def _schedules(g: Gathered) -> tuple:
    kinds = (g.parameters or {}).get("schedules") or SCHEDULE_CLASSES
    return tuple(s for s in SCHEDULE_CLASSES
                 if any((k == "constant") == (s == "constant") for k in kinds))


def decide(g: Gathered[Facts]) -> Verdict:
    per_reading, reasons, conditions, by_reading = {}, [], [], {}
    schedules = _schedules(g)
    for reading, f in g.per_reading.items():
        verdict, reason, conds = decide_reading(f, schedules)
        per_reading[reading] = verdict
        by_reading[reading] = conds
        reasons.append(f"{reading}: {verdict} ({reason})")
        conditions += [f"{reading}: {c}" for c in conds]
    statement = combine_readings(per_reading) if per_reading else "undecided"
    facts = g.facts
    if facts.no_minimiser_counterexample is not None:
        conditions.append("all readings: f has a minimiser (a 'standard assumption'; the "
                          "no-minimiser counterexample shows it is needed)")
    if per_reading:
        conditions.append(theorem_as_it_holds(per_reading, by_reading,
                                              facts.no_minimiser_counterexample))
    reasons.append("overall: combine_readings -- holds if every reading holds, fails if every "
                   "one fails, undecided if one is undecided and none fails, else conditional")
    h_linear = {r: f.h_linear for r, f in g.per_reading.items()}
    needed = (facts.weights_sum_below_one, facts.stale_share_min, facts.weights_vary_in_time,
              *h_linear.values())
    if not h_linear or any(v is None for v in needed):
        proof, proof_reason = "none", "the proof step could not be assessed (missing facts)"
    else:
        nonlinear = sorted(r for r, v in h_linear.items() if not v)
        exact = (not facts.weights_sum_below_one and facts.stale_share_min == 0
                 and not facts.weights_vary_in_time)
        if exact and not nonlinear:
            proof, proof_reason = "sound", ("the aggregate is a convex combination of current "
                                            "gradients with fixed weights and h is linear in "
                                            "every reading")
        elif len(nonlinear) == len(h_linear):
            proof, proof_reason = "mismatch", ("the sketch argues about a convex combination of "
                                               "gradients, which no reading's update is")
        else:
            shared = []
            if facts.weights_vary_in_time:
                shared.append("the weights vary in time (with the gradient's entropy), which "
                              "frozen-weight analyses (spectral threshold, PEPit) do not cover")
            if facts.weights_sum_below_one:
                shared.append(f"stale, biased averages: the coefficients sum to 1 - beta_k^t < 1 "
                              f"(max {facts.weight_sum_max:.3g}, bias from m_0 = 0)")
            if facts.stale_share_min > 0:
                shared.append(f"at least {facts.stale_share_min:.0%} of the aggregate is on "
                              "stale gradients of past iterates")
            steps = []
            for r in h_linear:
                mine = (["h(m~) is a nonlinear function of the combination"]
                        if r in nonlinear else [])
                steps.append(f"{r}: " + "; ".join(mine + shared) if mine + shared
                             else f"{r}: no failing step found")
            proof, proof_reason = "gap", ("the step 'a convex combination of gradient estimates, "
                                          "so standard arguments apply' does not follow -- "
                                          + " | ".join(steps))
    return Verdict(statement, proof, "; ".join(reasons), proof_reason,
                   per_reading=per_reading, conditions=conditions)


CLAIM_SOURCE = emc_source("3.1, Theorem 1")
CLAIM_DERIVATIONS = ("cascade_sum",)
CLAIM_CONTROLS = (
    Control("gradient descent, step 1/L", "gradient descent with constant step 1/L < 2/L "
            "converges on every L-smooth convex function bounded below with a minimiser",
            gd_constant(1.0), "holds", "positive"),
    Control("gradient descent, step 2.5/L", "gradient descent with constant step 2.5/L > 2/L "
            "diverges on a quadratic from any start with a component along the top "
            "eigenvector", gd_constant(2.5), "fails", "negative"),
)
gather_once = memoised(gather)
"""T1's gather, remembered: the repair T1.r1 reads the same evidence, run right after it."""
REPAIRS = t1_repairs.build(sys.modules[__name__])

CLAIM = Claim(
    id=ID, title=TITLE, source=CLAIM_SOURCE, statement=STATEMENT,
    proof=Proof(PROOF), kind="universal", facts=Facts, reading_facts=ReadingFacts,
    gather=gather_once, decide=decide, derivations=CLAIM_DERIVATIONS,
    background_tasks=background_tasks, replay=t1_proofs.replay,
    may_be_undetermined=frozenset({"pep_ratio_max", "pep_emc_decreasing", "pep_emc_finite"}),
    controls=CLAIM_CONTROLS, repairs=REPAIRS)
