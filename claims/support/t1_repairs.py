r"""Theorem 1's repairs (issue 14): what holds instead, through T1's own gather and rule.

* ``T1.r1`` (statement changed): the theorem as it actually holds per reading. Its subject is a
  *statement*: per reading, the schedule classes it says converge from every start (with the
  certified K for the linear reading's step bound), those it says do not, and whether it says the
  reading holds only locally (start within :math:`r^\star` of a minimiser, i.e. the step chosen
  after the start). The evidence is T1's own, gathered once (``memoised``: the parent's run and
  the repair's share it); the rule checks each part of the statement against T1's
  per-schedule status (:func:`claims.support.t1_rule.schedule_status`: the certificates, exact
  derivations and replayed counterexamples) and T1's reading verdict: a part is *backed* when
  the deciding evidence says so, *contradicted* when it says the opposite, else *open*. A
  reading's clause holds when every part is backed, fails when one is contradicted, else is
  undecided; the statement's verdict combines the readings
  (:func:`~claims.support.base.combine_readings`).
* ``T1.r2`` (method changed): the power reading clipped at the linear update,
  :math:`h = \operatorname{sign}(\tilde m)\min(|\tilde m|^{\gamma}, |\tilde m|)`
  (``EMC(clip=True)``). Why it removes the divergence law: T1's law
  :math:`r^\star = C/(\eta_0 L^2)` comes from the update's growth :math:`|\tilde m|^{\gamma}`,
  :math:`\gamma \le 2`: from a start at distance r the effective step
  :math:`\eta_0 |\tilde m|^{\gamma - 1} \sim \eta_0 L r` exceeds the stable range once r is
  large, whatever :math:`\eta_0` was fixed first. Clipped, :math:`|h| \le |\tilde m|`
  coordinatewise: the effective step never exceeds :math:`\eta_t`, so the step condition does
  not depend on the start (where every :math:`|\tilde m_i| \ge 1` the method *is* linear EMC).
  Checked with T1's grid, gradient-descent calibration, counterexample search and rule
  (:func:`claims.t1.decide_reading`), and by replaying T1's own power-reading divergence record
  (same problem, start and schedule) with the update clipped.

Both are built by :func:`build` from the parent module (so this module imports nothing of
:mod:`claims.t1` and there is no import cycle).
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Optional

import numpy as np

from emc_theory.emc import EMC
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.replay import replay as replay_run

from . import t1_evidence, t1_grid, t1_proofs
from .base import (
    CheckConfig,
    Claim,
    Control,
    Gathered,
    Proof,
    Verdict,
    combine_readings,
)
from .repairs_common import with_proof
from .t1_rule import SCHEDULE_CLASSES, missing_fact, schedule_status, schedules_of

# --------------------------------------------------------------------------- T1.r1 subjects


@dataclass(frozen=True)
class Clause:
    """What a statement says of one reading: ``holds_for`` (schedule classes that converge from
    every start, with steps as the certificates state), ``fails_for`` (classes that do not),
    ``local_only`` (the reading converges only from starts within r* of a minimiser: every
    schedule fixed before the start diverges from far), ``certified_K`` (the K whose step bound
    the statement cites)."""

    reading: str
    holds_for: tuple = ()
    fails_for: tuple = ()
    local_only: bool = False
    certified_K: tuple = ()

    def __post_init__(self):
        for name in ("holds_for", "fails_for"):
            bad = set(getattr(self, name)) - set(SCHEDULE_CLASSES)
            if bad:
                raise ValueError(f"{name} must hold schedule classes in {SCHEDULE_CLASSES}, "
                                 f"got {sorted(bad)}")


@dataclass(frozen=True)
class Statement:
    """A statement of the theorem per reading (T1.r1's subject)."""

    name: str
    clauses: tuple


AS_IT_HOLDS = Statement("the theorem as it holds", (
    Clause("power", local_only=True),
    Clause("root", holds_for=("diminishing",), fails_for=("constant",)),
    Clause("linear", holds_for=("constant", "diminishing"), certified_K=(1, 2, 3)),
))
ROOT_CONSTANT = Statement("as it holds, but constant steps claimed for the root reading", (
    Clause("power", local_only=True),
    Clause("root", holds_for=("constant", "diminishing")),
    Clause("linear", holds_for=("constant", "diminishing"), certified_K=(1, 2, 3)),
))
POWER_GLOBAL = Statement("as it holds, but the power reading claimed global for diminishing "
                         "steps", (
    Clause("power", holds_for=("diminishing",)),
    Clause("root", holds_for=("diminishing",), fails_for=("constant",)),
    Clause("linear", holds_for=("constant", "diminishing"), certified_K=(1, 2, 3)),
))


def clause_parts(parent, clause: dict, f, schedules) -> list:
    """``[(part, 'backed' | 'contradicted' | 'open', why)]``: each part of one reading's clause
    against T1's evidence for that reading (``f``: its ReadingFacts)."""
    if missing_fact(f):
        return [("the reading's facts", "open", "a needed fact could not be established")]
    status = {s: schedule_status(f, s) for s in schedules}
    verdict, reason, _ = parent.decide_reading(f, schedules)
    parts = []
    for s in clause["holds_for"]:
        st = status.get(s)
        if st is None:
            parts.append((f"{s} steps converge", "open", "not run"))
        elif st["conflicts"]:
            parts.append((f"{s} steps converge", "open", "conflict: " + st["conflicts"][0]))
        elif st["holds"]:
            parts.append((f"{s} steps converge", "backed", st["holds"][0]))
        elif st["fails"]:
            parts.append((f"{s} steps converge", "contradicted", st["fails"][0]))
        else:
            parts.append((f"{s} steps converge", "open", "no deciding evidence"))
    for s in clause["fails_for"]:
        st = status.get(s)
        if st is None:
            parts.append((f"{s} steps do not converge", "open", "not run"))
        elif st["fails"]:
            parts.append((f"{s} steps do not converge", "backed", st["fails"][0]))
        elif st["holds"]:
            parts.append((f"{s} steps do not converge", "contradicted", st["holds"][0]))
        else:
            parts.append((f"{s} steps do not converge", "open", "no deciding evidence"))
    if clause["certified_K"]:
        certified = {c["K"] for c in f.certificates if c["verified"]}
        missing = sorted(set(clause["certified_K"]) - certified)
        parts.append((f"step bound certified for K in {list(clause['certified_K'])}",
                      "open" if missing else "backed",
                      f"no verified certificate for K = {missing}" if missing
                      else "Lyapunov certificates verified"))
    if clause["local_only"]:
        name = "converges only from starts within r* (every fixed schedule diverges from far)"
        if verdict == "conditional" and f.local_convergence:
            parts.append((name, "backed", reason))
        elif verdict == "holds":
            parts.append((name, "contradicted", "T1 decides the reading holds globally"))
        else:
            parts.append((name, "open", f"T1's reading verdict is {verdict}"))
    elif not clause["holds_for"] and not clause["fails_for"]:
        parts.append(("a claim about the reading", "open", "the clause says nothing"))
    return parts


# --------------------------------------------------------------------------- T1.r2 subject


def clip_bound_holds(seed: int = 0) -> bool:
    """Whether the clipped update never exceeds the linear one, coordinatewise, and equals the
    power reading's where :math:`|\\tilde m| \\le 1`: one EMC step from zero momenta (so
    :math:`\\tilde m = \\sum_k \\alpha_k (1 - \\beta_k) g`, read from the linear reading's step)
    on gradients spanning 1e-8 .. 1e8, compared with the linear and power readings' steps."""
    rng = np.random.default_rng(seed)
    g = rng.standard_normal((64, 6)) * 10.0 ** rng.uniform(-8, 8, (64, 6))
    steps = {}
    for name, kw in (("linear", {"reading": "linear"}), ("power", {"reading": "power"}),
                     ("clipped", {"reading": "power", "clip": True})):
        opt = EMC(K=3, lr=1.0, **kw)
        steps[name] = -opt.update(g, opt.init(np.zeros_like(g)))[0]
    m, p, c = steps["linear"], steps["power"], steps["clipped"]
    small = np.abs(m) <= 1
    return bool(np.all(np.abs(c) <= np.abs(m)) and np.all(np.sign(c) == np.sign(m))
                and np.array_equal(c[small], p[small]) and np.array_equal(c[~small], m[~small]))


def paper_record_clipped() -> dict:
    """T1's power-reading divergence record (problem, start, schedule fixed before the start,
    beyond r*) replayed as recorded and with the update clipped."""
    from proofs import t1_records

    record = t1_records.load_records()["power"]
    spec = copy.deepcopy(record["spec"])
    spec["optimizer"]["clip"] = True
    as_recorded = str(replay_run(record["spec"], history=False).status)
    clipped = replay_run(spec, history=False)
    return {"schedule": record["spec"]["optimizer"]["lr"], "start_factor_of_r_star":
            record["factor"], "r_star": record["r_star"], "recorded": record["class"],
            "replayed": as_recorded, "clipped": str(clipped.status),
            "clipped_final_grad_norm": float(clipped.final_grad_norm)}


# --------------------------------------------------------------------------- the claims


def build(parent) -> tuple:
    """``(T1.r1, T1.r2)`` from T1's module ``parent`` (its Facts, ReadingFacts, memoised gather
    ``gather_once``, reading rule ``decide_reading``, plan, problems, subject and controls)."""
    from .base import Evidence

    @dataclass(frozen=True)
    class StatementFacts(parent.Facts):
        """T1's facts and the statement under test (its clauses, per reading)."""

        statement: Optional[dict]

    @dataclass(frozen=True)
    class ClippedFacts:
        """The clipped method's own facts: the bound :math:`|h| \\le |\\tilde m|` (numerical,
        exact comparison) and T1's power-reading divergence record replayed clipped."""

        update_bounded_by_linear: Optional[bool]
        paper_counterexample_clipped: Optional[dict]

    # ------------------------------------------------------------------ T1.r1

    def gather_statement(config: CheckConfig) -> Gathered:
        statement = AS_IT_HOLDS if config.subject is None else config.subject
        if not isinstance(statement, Statement):
            raise TypeError("T1.r1's subject must be a claims.support.t1_repairs.Statement, got "
                            f"{type(statement).__name__}")
        inner = parent.gather_once(config.with_subject(None))
        base = dataclasses.asdict(inner.facts)
        clauses = {c.reading: dataclasses.asdict(c) for c in statement.clauses}
        return dataclasses.replace(
            inner, facts=StatementFacts(**base, statement={"name": statement.name,
                                                           "clauses": clauses}),
            parameters={**inner.parameters, "statement": statement.name})

    def decide_statement(g: Gathered) -> Verdict:
        st = g.facts.statement
        if st is None:
            return Verdict("undecided", "none", "no statement to check", "not assessed")
        schedules = schedules_of(g)
        per_reading, reasons, conditions, parts_all = {}, [], [], {}
        for reading, clause in st["clauses"].items():
            f = g.per_reading.get(reading)
            if f is None:
                per_reading[reading] = "undecided"
                reasons.append(f"{reading}: undecided (no evidence for the reading)")
                continue
            parts = clause_parts(parent, clause, f, schedules)
            parts_all[reading] = parts
            states = {s for _, s, _ in parts}
            verdict = ("fails" if "contradicted" in states else
                       "undecided" if "open" in states else "holds")
            per_reading[reading] = verdict
            reasons.append(f"{reading}: {verdict} (" + "; ".join(
                f"{name}: {s} -- {why}" for name, s, why in parts) + ")")
            if verdict == "holds":
                _, _, conds = parent.decide_reading(f, schedules)
                conditions += [f"{reading}: {c}" for c in conds]
        statement = combine_readings(per_reading) if per_reading else "undecided"
        if g.facts.no_minimiser_counterexample is not None:
            conditions.append("all readings: f has a minimiser (hypothesis of the statement; the "
                              "no-minimiser counterexample shows it is needed)")
        reasons.append("overall: combine_readings of the clauses")
        verdict = Verdict(statement, "none", "; ".join(reasons), "", per_reading=per_reading,
                          conditions=conditions)

        def verified(reading, key, says=None):
            f = g.per_reading.get(reading)
            if f is None or getattr(f, key) is None:
                return None
            items = [x for x in getattr(f, key) if says is None or x.get("says") == says]
            if not items:
                return None
            return all(x["verified"] and x.get("confirmed_by_runs", True) for x in items)

        return with_proof(verdict, [
            ("linear: Lyapunov certificates (K = 1, 2, 3, tau = 1) verified exactly: eta_t <= "
             "eta_cert/L, sum eta_t = infinity gives liminf |g_t| = 0, constant eta < "
             "eta_const/L gives g_t -> 0", verified("linear", "certificates")),
            ("root: exact period-2 cycle of constant steps (sympy), confirmed by the core's runs",
             verified("root", "derivations", "does_not_converge")),
            ("root: diminishing steps track the cycle, |g_t| ~ eta_t^2 lambda^2 s/4 -> 0 "
             "(confirmed by stored long runs)", verified("root", "derivations", "converges")),
            ("power: divergence law r* = C/(eta0 L^2) derived (scaling, sympy) and fitted",
             verified("power", "derivations", "diverges_from_far")),
        ])

    r1 = Claim(
        id=f"{parent.ID}.r1", title="Convergence to a stationary point, per reading, as it holds",
        source=parent.CLAIM_SOURCE,
        statement=(
            "Let f be L-smooth, convex, bounded below and with a minimiser. (linear reading, h = "
            "m~) For K in {1, 2, 3} and tau = 1: any steps eta_t <= eta_cert/L with sum eta_t = "
            "infinity give liminf |grad f(x_t)| = 0, and a constant step eta < eta_const/L gives "
            "grad f(x_t) -> 0 (eta_cert, eta_const: the certified constants per K). (root "
            "reading) Diminishing steps (inv_sqrt, inv_t) give grad f(x_t) -> 0; constant steps "
            "do not (an attracting period-2 cycle of amplitude eta^2 lambda s/4). (power "
            "reading) Convergence is only local: from a start within r* = C/(eta0 L^2) of a "
            "minimiser, i.e. with the step chosen after the start; every schedule fixed before "
            "the start diverges from far enough away."),
        proof=Proof(
            "linear: Lyapunov certificates (an SDP solution rounded to rationals, verified "
            "exactly) give a decrease of a quadratic Lyapunov function by c eta_t |g_t|^2 for "
            "eta_t <= eta_cert/L; summing, sum eta_t |g_t|^2 < infinity, so liminf |g_t| = 0 "
            "when sum eta_t = infinity, and g_t -> 0 for a constant step below eta_const/L. "
            "root: on an eigen-axis the constant-step iteration has an exact period-2 orbit, "
            "attracting (linearisation at u*/2); diminishing steps track it with amplitude "
            "eta_t^2 lambda^2 s/4 -> 0. power: the update scales as |m~|^gamma, so x -> c x maps "
            "the iteration with step eta0 to one with step c^(gamma - 1) eta0: the divergence "
            "radius is r* = C/(eta0 L^2), finite for every fixed eta0."),
        kind="universal", facts=StatementFacts, reading_facts=parent.ReadingFacts,
        gather=gather_statement, decide=decide_statement, derivations=parent.CLAIM_DERIVATIONS,
        background_tasks=parent.background_tasks, replay=t1_proofs.replay,
        may_be_undetermined=frozenset({"pep_ratio_max", "pep_emc_decreasing",
                                       "pep_emc_finite"}),
        repair_of=parent.ID, change="statement",
        difference=(
            "The statement changed to what the evidence decides, per reading: the hypotheses "
            "(bounded below, a minimiser), the schedules (linear: any steps under the certified "
            "bound, for K = 1, 2, 3 and tau = 1; root: diminishing only, constant steps cycle) "
            "and the power reading's locality (only from starts within r*, the step chosen after "
            "the start), where the paper says 'under standard assumptions and appropriate "
            "learning rate scheduling, EMC converges'."),
        controls=(
            Control("the theorem as it holds",
                    "each clause is what T1's certificates, exact derivations and replayed "
                    "counterexamples decide", AS_IT_HOLDS, "holds", "positive"),
            Control("root reading with constant steps",
                    "the same statement, but constant steps claimed to converge in the root "
                    "reading: the exact period-2 cycle (sympy) refutes it", ROOT_CONSTANT,
                    "fails", "negative", reading="root"),
            Control("power reading claimed global",
                    "the same statement, but the power reading claimed to converge from every "
                    "start with diminishing steps: the divergence law r* = C/(eta0 L^2) and its "
                    "replayed record refute it", POWER_GLOBAL, "fails", "negative",
                    reading="power"),
        ))

    # ------------------------------------------------------------------ T1.r2

    clipped = dataclasses.replace(parent.EMC_SUBJECT, readings=("power",), hyper=(("clip", True),),
                                  name="EMC, power reading clipped at the linear update")

    def gather_method(config: CheckConfig) -> Gathered:
        subject = clipped if config.subject is None else config.subject
        if not isinstance(subject, t1_grid.Subject):
            raise TypeError(f"T1.r2's subject must be a claims.support.t1_grid.Subject, got "
                            f"{type(subject).__name__}")
        # T1's numerical part; no proof step (a repair of the method, or a control, is not the
        # paper's method): h's linearity is the reading's, nothing else is proved
        h_linear = ({r: r == "linear" for r in subject.readings} if subject.optimizer == "emc"
                    else {})
        p = parent.plan(config)
        runs, parameters = t1_evidence.numerical_readings(
            f"{parent.ID}.r2", subject, parent.convex_problems, p, config.seed)
        per_reading, evidence, counterexamples = t1_evidence.join_readings(
            subject, runs, p, parent.ReadingFacts, {}, h_linear)
        is_clipped = dict(subject.hyper).get("clip") is True and subject.optimizer == "emc"
        bound = clip_bound_holds(config.seed) if is_clipped else None
        record = paper_record_clipped() if is_clipped else None
        if record is not None:
            evidence.append(Evidence(
                "numerical", "T1's power divergence record, clipped",
                f"schedule {record['schedule']} fixed first, start at "
                f"{record['start_factor_of_r_star']:g} r* (r* = {record['r_star']:.4g}): "
                f"recorded {record['recorded']}, replayed {record['replayed']}; clipped: "
                f"{record['clipped']} (final |g| {record['clipped_final_grad_norm']:.3g})",
                record))
            evidence.append(Evidence(
                "numerical", "the clip bound |h| <= |m~|",
                f"one step on gradients over 1e-8 .. 1e8: |h| <= |m~| coordinatewise, equal to "
                f"the power update where |m~| <= 1 and to m~ beyond: {bound}",
                {"holds": bound}))
        return Gathered(ClippedFacts(update_bounded_by_linear=bound,
                                     paper_counterexample_clipped=record),
                        per_reading, evidence, counterexamples,
                        {**parameters, "clip": "h = sign(m~) min(|m~|^gamma, |m~|)"})

    def decide_method(g: Gathered) -> Verdict:
        schedules = schedules_of(g)
        per_reading, reasons, conditions = {}, [], []
        for reading, f in g.per_reading.items():
            verdict, reason, conds = parent.decide_reading(f, schedules)
            per_reading[reading] = verdict
            reasons.append(f"{reading}: {verdict} ({reason})")
            conditions += [f"{reading}: {c}" for c in conds]
        statement = combine_readings(per_reading) if per_reading else "undecided"
        record = g.facts.paper_counterexample_clipped
        if record is not None:
            reasons.append(f"T1's power divergence record (recorded {record['recorded']}) "
                           f"replayed clipped: {record['clipped']}")
        reasons.append("T1's rule (decide_reading): numerics support and never decide 'holds' "
                       "alone; a certificate or exact derivation decides")
        verdict = Verdict(statement, "none", "; ".join(reasons), "", per_reading=per_reading,
                          conditions=conditions)
        if g.facts.update_bounded_by_linear is None:
            return dataclasses.replace(verdict, proof="none",
                                       proof_reason="not assessed: the subject is a control")
        return with_proof(verdict, [
            ("|h| <= |m~| coordinatewise, h = the power update where |m~| <= 1 and m~ beyond, "
             "so the effective step never exceeds eta_t whatever the start",
             g.facts.update_bounded_by_linear),
            ("T1's divergence record (a schedule fixed first, start beyond r*) does not diverge "
             "clipped", record is not None and record["clipped"] not in FAILED_STATUSES),
            ("a descent certificate for the clipped update (a time-varying diagonal scaling in "
             "(0, 1] of linear EMC; the linear certificates do not cover it)", None),
        ])

    r2 = Claim(
        id=f"{parent.ID}.r2", title="Power reading clipped at the linear update: no divergence "
                                    "from far",
        source=parent.CLAIM_SOURCE,
        statement=(
            "With the power reading's update clipped at the linear one, h = sign(m~) min(|m~|^"
            "gamma, |m~|) coordinatewise, EMC converges to a stationary point of every L-smooth "
            "convex f with a minimiser, from every start, under diminishing steps (inv_sqrt, "
            "inv_t) fixed before the start."),
        proof=Proof(
            "|h| <= |m~|: the effective step eta_t |h_i|/|m~_i| never exceeds eta_t, so the "
            "step condition is that of linear EMC and does not depend on the start (the "
            "divergence law r* = C/(eta0 L^2) of the power reading comes from the growth "
            "|m~|^(gamma - 1) of the effective step with the start distance). Where every "
            "|m~_i| >= 1 the update is linear EMC's, which the certificates cover."),
        kind="universal", facts=ClippedFacts, reading_facts=parent.ReadingFacts,
        gather=gather_method, decide=decide_method, replay=t1_proofs.replay,
        repair_of=parent.ID, change="method",
        difference=(
            "The method changed: the power reading's update sign(m~)|m~|^gamma is clipped at "
            "the linear update, min(|m~|^gamma, |m~|) per coordinate (unchanged where |m~| <= "
            "1); the statement keeps the paper's schedules (diminishing) and claims global "
            "convergence, which the paper's power reading lacks (it diverges from beyond "
            "r* = C/(eta0 L^2))."),
        controls=parent.CLAIM_CONTROLS,
    )
    return r1, r2
