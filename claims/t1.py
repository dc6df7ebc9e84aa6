r"""T1 (EMC paper, 3.1, Theorem 1): convergence to a stationary point on smooth convex functions.

Claim: "For L-smooth convex functions, under standard assumptions and appropriate learning rate
scheduling, EMC converges to a stationary point." Proof sketch: "The weighted combination of
momentum states can be viewed as a convex combination of gradient estimates. Under smoothness
assumptions and diminishing learning rates, standard convergence arguments apply."

What we check, per reading of the missing update ``h`` (power, root, linear):

1. decisions (``claims.support.t1_proofs`` over ``proofs.t1_records``, issue 13): the linear
   reading's Lyapunov certificates (K = 1, 2, 3, tau = 1), re-verified exactly on every run,
   with their brackets (PEPit, u*, dead-zone Huber cycles just above eta_cycle/L); the root
   reading's exact period-2 cycle (sympy) and its diminishing-step law (stored 1e5-step runs);
   the power reading's divergence law r* = C/(eta0 L^2); the no-minimiser counterexample; each
   record replayed to its recorded class (quick: the deciding root and power records only).
2. a calibrated grid (``emc_theory.sweep``, ``claims.support.t1_grid``): convex problems
   (quadratics of condition 10 and 1000, logistic regression with ``reg > 0``, log-sum-exp,
   Huber, smoothed absolute value), K x d pairs, schedules constant / inv_sqrt / inv_t with
   :math:`\eta_0 L` on a log grid plus the *start-scaled* step
   :math:`\eta_0 = 1/(L \max(1, \|\nabla f(x_0)\|_\infty))`, starts :math:`x^\star + r s u`
   (start scale ``r``, the problem's natural length ``s``, a seeded unit direction ``u`` per d);
   every run beside its *control*, gradient descent with the same schedule, step, start and
   tolerance. Roles: constant vs diminishing steps, the smallest failing start scale per step,
   adaptive vs frozen uniform weights (:math:`\tau = 10^{12}`), the constant-step plateau.
3. a counterexample search: differential evolution over start direction and scale on an
   axis-aligned quadratic; a start where every diminishing run fails is shrunk to the smallest
   d, then K, replayed, and tried with the start-scaled step (*rescued* if that run does not
   fail).
4. independent: linear EMC's exact stability threshold :math:`u^\star` with frozen uniform
   weights against the core (``proofs.linear_stability``); PEPit's worst cases of that method
   beside gradient descent's (``proofs.pep_emc``; full check only: PEPit's import alone takes
   seconds). The proof step (``proofs.cascade_sum``): the cascade's coefficients on past
   gradients (sum :math:`1 - \beta_k^t < 1`, by induction; mostly stale) and whether ``h`` is
   linear in each reading.

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

Verdict rule (issue 13 item 6; written before the evidence was read; the facts it reads and
its pieces are in ``claims.support.t1_rule``). Per reading, and within it per *schedule class* S
of the subject (constant; diminishing), the deciding evidence is, in this order of strength:

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

from emc_theory import READINGS
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic, smoothed_abs
from proofs import pep_emc

from .support import t1_evidence, t1_proofs, t1_repairs
from .support import t1_rule as rule
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
from .support.t1_grid import Subject
from .support.t1_rule import SCHEDULE_CLASSES, Facts, ReadingFacts

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


EMC_SUBJECT = Subject("EMC", "emc", READINGS, SCHEDULES, DIMINISHING, ETA_FACTORS)
"""The paper's method, per reading; controls and repairs put another :class:`Subject` here."""


def gd_constant(eta_times_L: float) -> Subject:
    return Subject(f"gradient descent, constant step {eta_times_L:g}/L", "gd", (), ("constant",),
                   ("constant",), (eta_times_L,), start_scaled=False)


def plan(config: CheckConfig) -> dict:
    """The grids of a run (``config.quick`` shrinks them); everything is fixed here."""
    if config.quick:
        return {"K_d": [(2, 4)], "seeds": 1, "steps": 100, "frozen_K_d": (2, 4),
                "roles_K_d": (2, 4),
                "search": {"d": 3, "K": 2, "popsize": 2, "maxiter": 1, "steps": 60},
                "spectral_K": (1,), "spectral_steps": 150,
                "pep": None, **PROTOCOL}   # PEPit's import alone takes seconds: full only
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
    pep = plan(config)["pep"]
    if config.subject is not None or pep is None:
        return {}
    return {("T1", "pep", config): (pep_emc.emc_against_gd, tuple(pep.values()))}


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = EMC_SUBJECT if config.subject is None else config.subject
    if not isinstance(subject, Subject):
        raise TypeError("T1's subject must be a claims.support.t1_grid.Subject, got "
                        f"{type(subject).__name__}")
    p = plan(config)
    runs, parameters = t1_evidence.numerical_readings(ID, subject, convex_problems, p,
                                                      config.seed)
    if subject.optimizer == "emc":   # after the runs: the worker computed its part meanwhile
        proof, facts, h_linear, proved = t1_evidence.emc_proof_side(("T1", "pep", config), p,
                                                                    config.quick)
    else:   # a control subject: the proof step is EMC's, not assessed
        proof, facts, h_linear, proved = [], dict.fromkeys(Facts.__dataclass_fields__), {}, {}
    per_reading, evidence, counterexamples = t1_evidence.join_readings(
        subject, runs, p, ReadingFacts, proved, h_linear)
    return Gathered(Facts(**facts), per_reading, evidence + proof,
                    proved.get("counterexamples", []) + counterexamples, parameters)


# --------------------------------------------------------------------------- the rule


def decide_reading(f: ReadingFacts, schedules=SCHEDULE_CLASSES) -> tuple:
    """The statement rule for one reading: ``(verdict, reason, conditions)``."""
    if rule.missing_fact(f):
        return "undecided", "a needed fact could not be established", []
    status = {s: rule.schedule_status(f, s) for s in schedules}
    numerics, numerics_reason = rule.numerics_reading(f)
    conflicts = [c for s in schedules for c in status[s]["conflicts"]]
    if conflicts:
        return ("undecided", "a replayed counterexample lies inside a verified certificate's "
                             "range (a defect to find): " + "; ".join(conflicts), [])
    holding = [s for s in schedules if status[s]["holds"]]
    failing = [s for s in schedules if status[s]["fails"]]
    if holding:
        conds = [f"{s} steps: {rule.step_condition(f, s) or status[s]['holds'][0]}"
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


def decide(g: Gathered[Facts]) -> Verdict:
    per_reading, reasons, conditions, by_reading = {}, [], [], {}
    for reading, f in g.per_reading.items():
        verdict, reason, conds = decide_reading(f, rule.schedules_of(g))
        per_reading[reading], by_reading[reading] = verdict, conds
        reasons.append(f"{reading}: {verdict} ({reason})")
        conditions += [f"{reading}: {c}" for c in conds]
    statement = combine_readings(per_reading) if per_reading else "undecided"
    minimiser = g.facts.no_minimiser_counterexample
    if minimiser is not None:
        conditions.append("all readings: f has a minimiser (a 'standard assumption'; the "
                          "no-minimiser counterexample shows it is needed)")
    if per_reading:
        conditions.append(rule.theorem_as_it_holds(per_reading, by_reading, minimiser))
    reasons.append("overall: combine_readings -- holds if every reading holds, fails if every "
                   "one fails, undecided if one is undecided and none fails, else conditional")
    h_linear = {r: f.h_linear for r, f in g.per_reading.items()}
    proof, proof_reason = rule.proof_step(g.facts, h_linear)
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
