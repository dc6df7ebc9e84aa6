"""P2 (EMC paper, 3.2, Proposition 2): high entropy favours shorter-term momentum states.

Statement: "In regions of high gradient entropy (H_t -> H_max), the algorithm favors shorter-term
momentum states." Proof given: "As Ht -> 1, higher values of lambda_k dominate the softmax,
favoring larger k (shorter memory)."

"Favours shorter-term states" is measured under the paper's own definitions (level k has
timescale :math:`2^k`; claim M1) as (a) *relative*: the effective memory :math:`T` at
:math:`\\tilde H = 1` is below that at :math:`\\tilde H = 0`, and (b) *absolute*: the shortest
level's weight :math:`\\alpha_1(1)` exceeds 1/K.

The proof has three steps, each checked: (i) larger :math:`\\lambda_k` get larger weights at
:math:`\\tilde H = 1` (sign of the weights' derivative); (ii) they "dominate" (we test
:math:`\\alpha_K(1) > 1/2`, and report :math:`\\alpha_K/\\alpha_1 = e^{(K-1)/K} < e`);
(iii) "larger k (shorter memory)" (against the timescale :math:`2^k`).

Rule: statement as for P1 (holds / conditional / fails / undecided). Proof: *gap* naming the
first step that does not follow when the statement fails; *sound* if every step holds; *mismatch*
if every step holds but they do not give the statement.

Controls (a :class:`~claims.support.weights_behaviour.WeightRule` as ``config.subject``, on the
paper's buffers; for a rule, steps (i) and (ii) are read for its level with the largest
:math:`\\lambda`): the paper's softmax with the level order reversed,
:math:`\\lambda_k = (K+1-k)/K`, puts the most weight on the shortest level at high entropy and is
uniform at low entropy, so P2 holds of it; uniform weights favour no level, so P2 fails of them.

Repairs (each run through P2's gather, with its own rule and controls):

* ``P2.r1`` (method changed): the method of ``P1.r1`` (entropy as :math:`1 - 2\\tilde H`), for
  which both propositions hold, judged by P2's rule plus the size of the effect. Controls:
  :math:`\\lambda_k = -k/K` holds; the paper's rule fails; the entropy-reversed rule is
  conditional (uniform at :math:`\\tilde H = 1`).
* ``P2.r2`` (statement changed to the method as written): high entropy favours the long levels
  and gives the longest effective memory, with its size. Rule: *holds* when the logits increase
  with k at 1 (exact) and :math:`\\alpha_K(1) > 1/K > \\alpha_1(1)`, larger k is longer memory,
  :math:`T` is largest at 1 (symbolic and grid), equal to the closed form, and the mean lag
  agrees; *conditional* when only the mean lag disagrees; else *fails*. Controls:
  :math:`\\lambda_k = 2k/K` holds; the reversed level order fails.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from .support.base import (
    CheckConfig,
    Claim,
    Control,
    Counterexample,
    Gathered,
    Proof,
    Verdict,
    emc_source,
)
from .support.repairs_common import repair_gathered, with_proof
from .support.weights_behaviour import (
    CENTRED,
    ENTROPY_REVERSED,
    NEGATED,
    PAPER_RULE,
    STEEPER,
    UNIFORM,
    WeightRule,
    logit_order,
    memory_effect,
    memory_effect_evidence,
    memory_effect_text,
    replay,
    shared_evidence,
    weight_profile,
    weight_symbolic,
    weights_at,
)

__all__ = ["CLAIM", "Facts", "gather", "decide", "replay"]

ID = "P2"
TITLE = "High entropy favours shorter-term momentum"
WHERE = "3.2, Proposition 2"
STATEMENT = ("In regions of high gradient entropy (H_t -> H_max), the algorithm favors "
             "shorter-term momentum states.")
STATEMENT_TEX = (r"In regions of high gradient entropy ($H_t \to H_{\max}$), the algorithm "
                 r"favors shorter-term momentum states.")
SYMBOLIC = ("softmax_limits", "effective_memory")  # derivations of proofs/ this check reads
PROOF = ("As Ht -> 1, higher values of lambda_k dominate the softmax, favoring larger k "
         "(shorter memory).")


@dataclass(frozen=True)
class Facts:
    step_larger_lambda_larger_weight: Optional[bool]
    step_dominate: Optional[bool]
    max_ratio_alphaK_alpha1: Optional[bool]
    step_larger_k_shorter_memory: Optional[bool]
    relative_favour_short_at_high: Optional[bool]
    absolute_favour_short_at_high: Optional[bool]
    mean_lag_high_below_low: Optional[bool]
    reversed_convention_would_hold: Optional[bool]


def gather(config: CheckConfig) -> Gathered[Facts]:
    shared = shared_evidence(config)
    profile, symbolic = shared.profile, shared.symbolic
    rows, top = profile["rows"], profile["top"]
    longer = symbolic.larger_k_longer_memory
    facts = Facts(
        step_larger_lambda_larger_weight=symbolic.sign_d_alpha_top == "+"
        and all(t["increasing"] for t in top.values()),
        step_dominate=all(t["at_1"] > 0.5 for t in top.values()),
        max_ratio_alphaK_alpha1=symbolic.ratio_below_e,
        step_larger_k_shorter_memory=None if longer is None else not longer,
        relative_favour_short_at_high=all(r["T1"] < r["T0"] for r in rows.values()),
        absolute_favour_short_at_high=all(r["alpha1_1"] > 1 / K + 1e-12
                                          for K, r in rows.items()),
        mean_lag_high_below_low=profile["mean_lag"]["at_1"] < profile["mean_lag"]["at_0"],
        reversed_convention_would_hold=profile["reversed_lambdas_T_decreasing"],
    )
    gathered = Gathered(facts, evidence=shared.evidence, parameters=shared.parameters)
    # the runs are of the paper's EMC: a counterexample only when the paper's rule is under test
    if config.subject is None and not facts.relative_favour_short_at_high:
        high = shared.runs["high_entropy"]
        gathered.counterexamples.append(Counterexample(
            ID, "a maximum-entropy gradient (equal magnitudes) gets the longest effective memory, "
                "above the uniform mixture's and the low-entropy run's",
            high["replay"], {k: high[k] for k in ("normalized_entropy", "effective_memory",
                                                  "alpha_K", "uniform_memory")}))
    return gathered


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    needed = (f.step_larger_lambda_larger_weight, f.step_larger_k_shorter_memory,
              f.relative_favour_short_at_high, f.absolute_favour_short_at_high)
    if any(v is None for v in needed):
        return Verdict("undecided", "gap", "a symbolic or numerical fact is missing",
                       "not assessed without the symbolic facts")
    relative, absolute = f.relative_favour_short_at_high, f.absolute_favour_short_at_high
    if relative and absolute:
        statement = "holds"
        reason = "high entropy gives less memory than low entropy and than uniform"
    elif relative or absolute:
        statement = "conditional"
        reason = "only the " + ("relative" if relative else "absolute") + " sense of 'favour' holds"
    elif f.step_larger_lambda_larger_weight and not f.step_larger_k_shorter_memory:
        # the weights move to the larger lambda_k, and larger k is longer memory
        statement = "fails"
        reason = ("at Ht = 1 the weights favour the long levels (alpha_K largest, alpha_1 < 1/K) "
                  "and the effective memory is at its maximum (symbolic sign, grid, mean lag, "
                  "runs)")
    else:
        statement = "fails"
        reason = "neither sense of 'favour' holds: T(1) >= T(0) and alpha_1(1) <= 1/K"
    steps = [("larger lambda_k gets larger weight", f.step_larger_lambda_larger_weight),
             ("larger lambda_k 'dominate' the softmax", f.step_dominate),
             ("larger k means shorter memory", f.step_larger_k_shorter_memory)]
    failing = [name for name, ok in steps if not ok]
    conditions = ["'favour' measured as effective memory, weight on the shortest level vs 1/K, "
                  "and impulse-response mean lag"]
    if f.reversed_convention_would_hold:
        conditions.append("under the reversed level order (level k with timescale 2^(K+1-k), "
                          "which the proof's parenthetical suggests the authors meant) the "
                          "statement would hold")
    if not failing:
        proof = "sound" if statement == "holds" else "mismatch"
        proof_reason = "every step holds" + ("" if proof == "sound" else
                                            " but they do not give the statement")
    else:
        proof = "gap"
        proof_reason = ("steps that do not follow: " + "; ".join(failing)
                        + " (timescale of level k is 2^k, so larger k means longer memory; "
                          "alpha_K/alpha_1 at Ht = 1 is e^{(K-1)/K} < e)")
    return Verdict(statement, proof, reason, proof_reason, conditions=conditions)


REVERSED_ORDER = WeightRule("level order reversed, lambda_k = (K+1-k)/K",
                            lambda K: tuple(Fraction(K + 1 - k, K) for k in range(1, K + 1)),
                            lambda h: h)

# ----------------------------------------------------------------------------- repairs
# P2.r1: the method changed so that P2 holds (judged by P2's own rule; the same method as P1.r1,
# for which both propositions hold); P2.r2: the statement changed to describe the method as
# written. Both carry the size of the effect: the effective memory at Ht = 0 and 1 per K.



@dataclass(frozen=True)
class RepairFacts(Facts):
    """P2's facts for the rule under test, and the repairs' own: the sign of dT/dHt (symbolic)
    and T increasing on the grid, the order of the logits at Ht = 1 (exact), the longest level's
    weight above 1/K and the shortest's below at Ht = 1 (numerical), and the effective memory at
    Ht = 0 and 1 per K (tau = 1) with its agreement with the closed form."""

    dT_dHt_sign: Optional[str]
    T_increasing_numeric: Optional[bool]
    logit_order_at_high: Optional[str]
    long_levels_favoured_at_high: Optional[bool]
    memory_by_K: Optional[dict]
    memory_matches_closed_form: Optional[bool]


def _gather_repair(config: CheckConfig, default: Optional[WeightRule]) -> Gathered[RepairFacts]:
    """P2's gather for the repair's rule (``default`` unless a control's subject is given), its
    counterexamples dropped (they are about the paper's rule), with the repair's facts."""
    rule = default if config.subject is None else config.subject
    inner = gather(config.with_subject(rule))
    profile = weight_profile(config.quick, rule)
    by_K, matches = memory_effect(profile, rule)
    evidence = [memory_effect_evidence(by_K, matches)]
    return repair_gathered(RepairFacts, inner, dict(
        dT_dHt_sign=weight_symbolic(rule).dT_dHt_sign,
        T_increasing_numeric=profile["T_increasing"],
        logit_order_at_high=logit_order(rule, 1),
        long_levels_favoured_at_high=all(a1 < 1 / K - 1e-12 and aK > 1 / K + 1e-12
                                         for K, (a1, aK) in weights_at(profile, 1).items()),
        memory_by_K=by_K, memory_matches_closed_form=matches), evidence,
        keep_counterexamples=False)


def gather_method(config: CheckConfig) -> Gathered[RepairFacts]:
    return _gather_repair(config, CENTRED)


def decide_method(g: Gathered[RepairFacts]) -> Verdict:
    f = g.facts
    verdict = decide(g)  # P2's rule, on the repaired method
    statement, reason = verdict.statement, verdict.statement_reason
    if statement == "holds" and not f.memory_matches_closed_form:
        statement = "undecided" if f.memory_matches_closed_form is None else "fails"
        reason += "; but the effective memory differs from the stated closed form"
    if f.memory_by_K:
        reason += f"; size: {memory_effect_text(f.memory_by_K)}"
    verdict = Verdict(statement, "none", reason, "", conditions=verdict.conditions[:1])
    return with_proof(verdict, [
        ("at Ht = 1 the logits lambda_k u(1)/tau decrease with k, so the weights do and the "
         "shortest level's weight exceeds 1/K", f.logit_order_at_high == "-"),
        ("dT/dHt = u'(Ht) Cov_alpha(lambda_k, 2^k)/tau < 0 (u' = -2, both sequences increase "
         "in k: Chebyshev), so T(1) < T(0)", f.dT_dHt_sign == "-"),
    ])


def gather_as_written(config: CheckConfig) -> Gathered[RepairFacts]:
    return _gather_repair(config, None)


def decide_as_written(g: Gathered[RepairFacts]) -> Verdict:
    f = g.facts
    longer = (None if f.step_larger_k_shorter_memory is None
              else not f.step_larger_k_shorter_memory)
    proof_steps = [
        ("at Ht = 1 the logits lambda_k/tau increase with k: larger lambda_k get larger weights "
         "(the paper's first step)", f.logit_order_at_high == "+" if f.logit_order_at_high
         else None),
        ("level k has timescale 2^k, so larger k is longer memory (M1)", longer),
        ("dT/dHt = Cov_alpha(lambda_k, 2^k)/tau > 0 (Chebyshev), so T is largest at Ht = 1",
         f.dT_dHt_sign == "+" if f.dT_dHt_sign else None),
    ]
    needed = (f.logit_order_at_high, f.long_levels_favoured_at_high, longer, f.dT_dHt_sign,
              f.T_increasing_numeric, f.memory_matches_closed_form)
    if any(v is None for v in needed):
        return with_proof(Verdict("undecided", "none", "a symbolic or numerical fact is missing",
                                  ""), proof_steps)
    parts = {"weights increasing in k at Ht = 1": f.logit_order_at_high == "+"
             and f.long_levels_favoured_at_high,
             "larger k longer memory": longer,
             "effective memory largest at Ht = 1": f.dT_dHt_sign == "+"
             and f.T_increasing_numeric,
             "effective memory as the closed form": f.memory_matches_closed_form}
    failing = [name for name, ok in parts.items() if not ok]
    size = f"size: {memory_effect_text(f.memory_by_K)}"
    if failing:
        statement, reason = "fails", "does not hold: " + "; ".join(failing)
    elif f.mean_lag_high_below_low is False:
        statement = "holds"
        reason = ("at Ht = 1 the weights favour the long levels (alpha_K > 1/K > alpha_1) and "
                  "the effective memory is at its maximum (dT/dHt > 0 proved; grid; "
                  f"impulse-response mean lag); {size}")
    else:
        statement = "conditional"
        reason = f"largest by T, but not by the impulse-response mean lag; {size}"
    return with_proof(Verdict(statement, "none", reason, "", conditions=[
        "effective memory T = sum_k alpha_k 2^k at tau = 1; level k has timescale 2^k (M1)"]),
        proof_steps)


METHOD_REPAIR = Claim(
    id=f"{ID}.r1", title="High entropy favours shorter-term momentum, with centred entropy",
    source=emc_source(WHERE),
    statement_tex=(r"With weights $\alpha_k \propto \exp(\lambda_k (1 - 2\tilde H)/\tau)$, "
                   r"$\lambda_k = k/K$ (level $k$ has timescale $2^k$), in regions of high "
                   r"gradient entropy ($\tilde H \to 1$) the algorithm favours shorter-term "
                   r"momentum states: the weights decrease with $k$ ($\alpha_1 > 1/K$) and the "
                   r"effective memory $T = \sum_k \alpha_k 2^k$ falls to "
                   r"$\sum_k e^{-k/(K\tau)} 2^k / \sum_k e^{-k/(K\tau)}$ at $\tilde H = 1$ "
                   r"from $\sum_k e^{k/(K\tau)} 2^k / \sum_k e^{k/(K\tau)}$ at "
                   r"$\tilde H = 0$."),
    statement=("With weights alpha_k proportional to exp(lambda_k (1 - 2 Ht)/tau), lambda_k = k/K "
               "(level k has timescale 2^k), in regions of high gradient entropy (Ht -> 1) the "
               "algorithm favours shorter-term momentum states: the weights decrease with k "
               "(alpha_1 > 1/K) and the effective memory sum_k alpha_k 2^k falls to "
               "sum_k e^(-k/(K tau)) 2^k / sum_k e^(-k/(K tau)) at Ht = 1 from "
               "sum_k e^(k/(K tau)) 2^k / sum_k e^(k/(K tau)) at Ht = 0."),
    proof=Proof("At Ht = 1 the logits -lambda_k/tau decrease with k, so the weights do and the "
                "shortest level gets more than 1/K. dT/dHt = -2 Cov_alpha(lambda_k, 2^k)/tau < 0 "
                "since lambda_k and 2^k both increase in k (Chebyshev's sum inequality), so the "
                "effective memory is smallest at Ht = 1."),
    kind="universal", facts=RepairFacts, gather=gather_method, decide=decide_method,
    derivations=SYMBOLIC, repair_of=ID, change="method",
    difference=("The method changed: the entropy enters the softmax as 1 - 2 Ht instead of Ht "
                "(the method of P1.r1, for which both propositions hold), so high entropy tilts "
                "the weights towards the short levels. Negating lambda_k alone (lambda_k = -k/K, "
                "the same softmax as giving level k the timescale 2^(K+1-k)) also makes P2 "
                "hold, but then low entropy gives uniform weights and P1 holds only relatively."),
    controls=(
        Control("negated lambdas",
                "lambda_k = -k/K: at Ht = 1 the weights decrease with k (alpha_1 > 1/K), at "
                "Ht = 0 they are uniform: T(1) < T(0)", NEGATED, "holds", "positive"),
        Control("the paper's weights",
                "alpha_k ~ exp(lambda_k Ht/tau): at Ht = 1 the weights increase with k and T is "
                "largest", PAPER_RULE, "fails", "negative"),
        Control("entropy-reversed weights",
                "alpha_k ~ exp(lambda_k (1 - Ht)/tau): uniform at Ht = 1 (alpha_1 = 1/K) but "
                "T(1) < T(0): only the relative sense holds", ENTROPY_REVERSED, "conditional",
                "negative"),
    ))

AS_WRITTEN_REPAIR = Claim(
    id=f"{ID}.r2", title="High entropy favours the long levels, the longest effective memory",
    source=emc_source(WHERE),
    statement_tex=(r"In regions of high gradient entropy ($\tilde H \to 1$) the weights "
                   r"increase with $k$ ($\alpha_K > 1/K > \alpha_1$) and, since level $k$ has "
                   r"timescale $2^k$, the effective memory $T = \sum_k \alpha_k 2^k$ is at its "
                   r"maximum over $\tilde H \in [0, 1]$, "
                   r"$\sum_k e^{k/(K\tau)} 2^k / \sum_k e^{k/(K\tau)}$: high entropy gives "
                   r"the longest effective memory, above $(2^{K+1} - 2)/K$ at $\tilde H = 0$."),
    statement=("In regions of high gradient entropy (Ht -> 1) the weights increase with k "
               "(alpha_K > 1/K > alpha_1) and, since level k has timescale 2^k, the effective "
               "memory sum_k alpha_k 2^k is at its maximum over Ht in [0, 1], "
               "sum_k e^(k/(K tau)) 2^k / sum_k e^(k/(K tau)): high entropy gives the longest "
               "effective memory, above (2^(K+1) - 2)/K at Ht = 0."),
    proof=Proof("As Ht -> 1, higher values of lambda_k dominate the softmax, favoring larger k "
                "(the paper's first step); level k has timescale 2^k, so larger k is longer "
                "memory; dT/dHt = Cov_alpha(lambda_k, 2^k)/tau > 0 (Chebyshev's sum "
                "inequality): T is largest at Ht = 1."),
    kind="universal", facts=RepairFacts, gather=gather_as_written, decide=decide_as_written,
    derivations=SYMBOLIC, replay=replay, repair_of=ID, change="statement",
    difference=("The statement changed to describe the method as written: at high entropy the "
                "weights favour the long levels and the effective memory is the longest, not "
                "the shortest; the proof's first step is kept, its parenthetical 'larger k "
                "(shorter memory)' corrected to longer memory, and 'dominate' dropped "
                "(alpha_K/alpha_1 = e^((K-1)/K) < e at tau = 1)."),
    controls=(
        Control("steeper lambdas",
                "lambda_k = 2k/K: at Ht = 1 the weights increase with k and T increases with Ht "
                "(Chebyshev)", STEEPER, "holds", "positive"),
        Control("reversed level order",
                "lambda_k = (K+1-k)/K: at Ht = 1 the weights decrease with k and T decreases",
                REVERSED_ORDER, "fails", "negative"),
    ))

CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT, proof=Proof(PROOF),
    kind="universal", facts=Facts, gather=gather, decide=decide, replay=replay,
    derivations=SYMBOLIC, statement_tex=STATEMENT_TEX,
    controls=(
        Control("reversed level order",
                "softmax of lambda_k Ht/tau with lambda_k = (K+1-k)/K: uniform at Ht = 0, and at "
                "Ht = 1 the weights decrease with k (alpha_1 > 1/K), so T(1) < T(0)",
                REVERSED_ORDER, "holds", "positive"),
        Control("uniform weights",
                "alpha_k = 1/K whatever Ht: T is constant and alpha_1 = 1/K, no level favoured",
                UNIFORM, "fails", "negative"),
    ),
    repairs=(METHOD_REPAIR, AS_WRITTEN_REPAIR))
