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
from .support.weights_behaviour import WeightRule, replay, shared_evidence

__all__ = ["CLAIM", "Facts", "gather", "decide", "replay"]

ID = "P2"
TITLE = "High entropy favours shorter-term momentum"
WHERE = "3.2, Proposition 2"
STATEMENT = ("In regions of high gradient entropy (H_t -> H_max), the algorithm favors "
             "shorter-term momentum states.")
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
            ID, "a maximum-entropy gradient (equal magnitudes) gets the LONGEST effective memory, "
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
        reason = ("at Ht = 1 the weights favour the LONG levels (alpha_K largest, alpha_1 < 1/K) "
                  "and the effective memory is at its MAXIMUM (symbolic sign, grid, mean lag, "
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
        conditions.append("the statement would hold if level k had timescale 2^(K+1-k) "
                          "(the proof's parenthetical suggests the authors meant this ordering)")
    if not failing:
        proof = "sound" if statement == "holds" else "mismatch"
        proof_reason = "every step holds" + ("" if proof == "sound" else
                                            " but they do not give the statement")
    else:
        proof = "gap"
        proof_reason = ("steps that do not follow: " + "; ".join(failing)
                        + " (timescale of level k is 2^k, so larger k = LONGER memory; "
                          "alpha_K/alpha_1 at Ht = 1 is e^{(K-1)/K} < e)")
    return Verdict(statement, proof, reason, proof_reason, conditions=conditions)


REVERSED_ORDER = WeightRule("level order reversed, lambda_k = (K+1-k)/K",
                            lambda K: tuple(Fraction(K + 1 - k, K) for k in range(1, K + 1)),
                            lambda h: h)
UNIFORM = WeightRule("uniform weights", lambda K: (Fraction(0),) * K, lambda h: h)

CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT, proof=Proof(PROOF),
    kind="universal", facts=Facts, gather=gather, decide=decide, replay=replay,
    derivations=SYMBOLIC,
    controls=(
        Control("reversed level order",
                "softmax of lambda_k Ht/tau with lambda_k = (K+1-k)/K: uniform at Ht = 0, and at "
                "Ht = 1 the weights decrease with k (alpha_1 > 1/K), so T(1) < T(0)",
                REVERSED_ORDER, "holds", "positive"),
        Control("uniform weights",
                "alpha_k = 1/K whatever Ht: T is constant and alpha_1 = 1/K, no level favoured",
                UNIFORM, "fails", "negative"),
    ))
