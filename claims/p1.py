"""P1 (EMC paper, 3.2, Proposition 1): low entropy favours longer-term momentum states.

Statement: "In regions of low gradient entropy (H_t -> 0), the algorithm favors longer-term
momentum states." Proof given: "As Ht -> 0, the softmax weights approach uniform distribution,
giving equal weight to all timescales."

"Favours longer-term states" is measured under the paper's own definitions (level k has
timescale 2^k, so larger k = longer memory; claim M1) as (a) *relative*: the effective memory
:math:`T(\\tilde H) = \\sum_k \\alpha_k 2^k` at :math:`\\tilde H \\to 0` exceeds that at
:math:`\\tilde H = 1`, and (b) *absolute*: the longest level's weight exceeds the uniform 1/K.

Evidence: symbolic (``proofs.softmax_limits``: the limit of the weights;
``proofs.effective_memory``: the sign of dT/dHt), numerical (the core's weights on a grid of K,
tau, Ht), independent (the mean lag of the aggregate's impulse response), and replayable runs in
both regimes.

Rule: statement *holds* if (a) and (b); *conditional* if exactly one; *fails* if neither (the
low-entropy run is the counterexample); *undecided* if a fact is missing. Proof: the proof's
conclusion ("uniform weights") is checked on its own: *mismatch* if it is true but does not give
the statement (uniform weights favour no timescale), *gap* if it is false, *sound* if it gives
the statement.

Controls (a :class:`~claims.support.weights_behaviour.WeightRule` as ``config.subject``, on the
paper's buffers): the paper's weights read at :math:`1 - \\tilde H` put the most weight on the
longest level at low entropy and are uniform at high entropy, so P1 holds of them; uniform
weights (independent of :math:`\\tilde H`) favour no level, so P1 fails of them.

Repairs (what holds instead; each run through P1's gather, with its own rule and controls):

* ``P1.r1`` (method changed): the entropy enters as :math:`1 - 2\\tilde H`,
  :math:`\\alpha_k \\propto e^{\\lambda_k(1 - 2\\tilde H)/\\tau}`; judged by P1's rule, plus the
  size of the effect (the effective memory at :math:`\\tilde H = 0, 1` per K against its closed
  form). Proof: the logits increase with k at :math:`\\tilde H = 0` (exact) and
  :math:`dT/d\\tilde H < 0` (symbolic).
  Controls: the entropy-reversed rule holds; the paper's rule fails; :math:`\\lambda_k = -k/K` is
  conditional (uniform at :math:`\\tilde H = 0`: only the relative sense).
* ``P1.r2`` (statement changed to the method as written): low entropy gives uniform weights and
  the shortest effective memory, with its size. Rule: *holds* when uniform (symbolic and
  numerical), :math:`T` smallest at 0 (symbolic sign and grid), equal to the closed form, and
  the mean lag and runs agree; *conditional* when only the last two disagree; else *fails*.
  Controls: :math:`\\lambda_k = 2k/K` holds; the entropy-reversed rule fails.
"""
from __future__ import annotations

from dataclasses import dataclass
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
    weights_at,
)

__all__ = ["CLAIM", "Facts", "gather", "decide", "replay"]

ID = "P1"
TITLE = "Low entropy favours longer-term momentum"
WHERE = "3.2, Proposition 1"
STATEMENT = ("In regions of low gradient entropy (H_t -> 0), the algorithm favors longer-term "
             "momentum states.")
STATEMENT_TEX = (r"In regions of low gradient entropy ($H_t \to 0$), the algorithm favors "
                 r"longer-term momentum states.")
SYMBOLIC = ("softmax_limits", "effective_memory")  # derivations of proofs/ this check reads
PROOF = ("As Ht -> 0, the softmax weights approach uniform distribution, giving equal weight to "
         "all timescales.")


@dataclass(frozen=True)
class Facts:
    limit_uniform_symbolic: Optional[bool]
    dT_dHt_sign: Optional[str]
    T_increasing_numeric: Optional[bool]
    relative_favour_long_at_low: Optional[bool]
    absolute_favour_long_at_low: Optional[bool]
    mean_lag_low_exceeds_high: Optional[bool]
    run_low_entropy_memory_below_high: Optional[bool]


def gather(config: CheckConfig) -> Gathered[Facts]:
    shared = shared_evidence(config)
    profile, runs, memory = shared.profile, shared.runs, shared.run_memory
    rows = profile["rows"]
    facts = Facts(
        limit_uniform_symbolic=shared.symbolic.limit_uniform,
        dT_dHt_sign=shared.symbolic.dT_dHt_sign,
        T_increasing_numeric=profile["T_increasing"],
        relative_favour_long_at_low=all(r["T0"] > r["T1"] for r in rows.values()),
        absolute_favour_long_at_low=all(r["alphaK_0"] > 1 / K + 1e-12 for K, r in rows.items()),
        mean_lag_low_exceeds_high=profile["mean_lag"]["at_0"] > profile["mean_lag"]["at_1"],
        run_low_entropy_memory_below_high=memory["low_entropy"] < memory["high_entropy"],
    )
    gathered = Gathered(facts, evidence=shared.evidence, parameters=shared.parameters)
    # the runs are of the paper's EMC: a counterexample only when the paper's rule is under test
    if config.subject is None and not facts.relative_favour_long_at_low:
        low = runs["low_entropy"]
        gathered.counterexamples.append(Counterexample(
            ID, "a low-entropy gradient (one dominant component) gets the shortest effective "
                "memory: uniform weights, T = (2^(K+1)-2)/K, below the high-entropy run's",
            low["replay"], {k: low[k] for k in ("normalized_entropy", "effective_memory",
                                                "alpha_K", "uniform_memory")}))
    return gathered


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    needed = (f.limit_uniform_symbolic, f.dT_dHt_sign, f.relative_favour_long_at_low,
              f.absolute_favour_long_at_low)
    if any(v is None for v in needed):
        return Verdict("undecided", "gap", "a symbolic or numerical fact is missing",
                       "not assessed without the symbolic limit")
    relative, absolute = f.relative_favour_long_at_low, f.absolute_favour_long_at_low
    if relative and absolute:
        statement = "holds"
        reason = "low entropy gives more memory than high entropy and than uniform"
    elif relative or absolute:
        statement = "conditional"
        reason = "only the " + ("relative" if relative else "absolute") + " sense of 'favour' holds"
    elif f.limit_uniform_symbolic and f.dT_dHt_sign == "+":
        statement = "fails"
        reason = ("at Ht -> 0 the weights are uniform, so no level is favoured, and the effective "
                  "memory is at its minimum (dT/dHt > 0 proved; numerically, by mean lag and on "
                  "runs): low entropy gives the shortest memory")
    else:
        statement = "fails"
        reason = ("neither sense of 'favour' holds: T(0) <= T(1) and alpha_K(0) <= 1/K "
                  f"(dT/dHt sign: {f.dT_dHt_sign})")
    if not f.limit_uniform_symbolic:
        proof, proof_reason = "gap", "the weights do not tend to uniform as Ht -> 0"
    elif absolute:
        proof, proof_reason = "sound", "uniform weights would favour the long levels here"
    else:
        proof = "mismatch"
        proof_reason = ("it correctly derives uniform weights (equal weight to all timescales), "
                        "which favours no timescale: it proves 'P1 weights are uniform', not the "
                        "statement")
    return Verdict(statement, proof, reason, proof_reason,
                   conditions=["'favour' measured as effective memory sum_k alpha_k 2^k, weight "
                               "on the longest level vs 1/K, and impulse-response mean lag"])



# ----------------------------------------------------------------------------- repairs
# P1.r1: the method changed so that P1 holds (judged by P1's own rule); P1.r2: the statement
# changed to describe the method as written. Both carry the size of the effect: the effective
# memory at Ht = 0 and 1 per K.



@dataclass(frozen=True)
class RepairFacts(Facts):
    """P1's facts for the rule under test, and the repairs' own: the order of the logits at
    Ht = 0 (exact), uniform weights at Ht = 0 (numerical), and the effective memory at Ht = 0
    and 1 per K (tau = 1) with its agreement with the closed form."""

    logit_order_at_low: Optional[str]
    uniform_at_low_numeric: Optional[bool]
    memory_by_K: Optional[dict]
    memory_matches_closed_form: Optional[bool]


def _gather_repair(config: CheckConfig, default: Optional[WeightRule]) -> Gathered[RepairFacts]:
    """P1's gather for the repair's rule (``default`` unless a control's subject is given), its
    counterexamples dropped (they are about the paper's rule, which a repair does not claim of),
    with the repair's facts."""
    rule = default if config.subject is None else config.subject
    inner = gather(config.with_subject(rule))
    profile = weight_profile(config.quick, rule)
    by_K, matches = memory_effect(profile, rule)
    uniform = all(abs(a1 - 1 / K) <= 1e-12 and abs(aK - 1 / K) <= 1e-12
                  for K, (a1, aK) in weights_at(profile, 0).items())
    evidence = [memory_effect_evidence(by_K, matches)]
    return repair_gathered(RepairFacts, inner, dict(
        logit_order_at_low=logit_order(rule, 0), uniform_at_low_numeric=uniform,
        memory_by_K=by_K, memory_matches_closed_form=matches), evidence,
        keep_counterexamples=False)


def gather_method(config: CheckConfig) -> Gathered[RepairFacts]:
    return _gather_repair(config, CENTRED)


def decide_method(g: Gathered[RepairFacts]) -> Verdict:
    f = g.facts
    verdict = decide(g)  # P1's rule, on the repaired method
    statement, reason = verdict.statement, verdict.statement_reason
    if statement == "holds" and not f.memory_matches_closed_form:
        statement = "undecided" if f.memory_matches_closed_form is None else "fails"
        reason += "; but the effective memory differs from the stated closed form"
    if f.memory_by_K:
        reason += f"; size: {memory_effect_text(f.memory_by_K)}"
    verdict = Verdict(statement, "none", reason, "", conditions=verdict.conditions)
    return with_proof(verdict, [
        ("at Ht = 0 the logits lambda_k u(0)/tau increase with k, so the weights do and the "
         "longest level's weight exceeds 1/K", f.logit_order_at_low == "+"),
        ("dT/dHt = u'(Ht) Cov_alpha(lambda_k, 2^k)/tau < 0 (u' = -2, both sequences increase "
         "in k: Chebyshev), so T(0) > T(1)", f.dT_dHt_sign == "-"),
    ])


def gather_as_written(config: CheckConfig) -> Gathered[RepairFacts]:
    return _gather_repair(config, None)


def decide_as_written(g: Gathered[RepairFacts]) -> Verdict:
    f = g.facts
    needed = (f.limit_uniform_symbolic, f.uniform_at_low_numeric, f.dT_dHt_sign,
              f.T_increasing_numeric, f.memory_matches_closed_form)
    proof_steps = [
        ("at Ht = 0 the logits lambda_k Ht/tau all vanish: uniform weights, T(0) = "
         "sum_k 2^k/K = (2^(K+1)-2)/K (the paper's own proof)", f.limit_uniform_symbolic),
        ("dT/dHt = Cov_alpha(lambda_k, 2^k)/tau > 0 (both increase in k: Chebyshev), so T is "
         "smallest at Ht = 0", f.dT_dHt_sign == "+" if f.dT_dHt_sign else None),
    ]
    if any(v is None for v in needed):
        return with_proof(Verdict("undecided", "none", "a symbolic or numerical fact is missing",
                                  ""), proof_steps)
    parts = {"uniform weights at Ht = 0": f.limit_uniform_symbolic and f.uniform_at_low_numeric,
             "effective memory smallest at Ht = 0": f.dT_dHt_sign == "+"
             and f.T_increasing_numeric,
             "effective memory as the closed form": f.memory_matches_closed_form}
    failing = [name for name, ok in parts.items() if not ok]
    corroborated = (f.mean_lag_low_exceeds_high is False
                    and f.run_low_entropy_memory_below_high is True)
    size = f"size: {memory_effect_text(f.memory_by_K)}"
    if failing:
        statement, reason = "fails", "does not hold: " + "; ".join(failing)
    elif corroborated:
        statement = "holds"
        reason = ("uniform weights at Ht -> 0 (proved; numerically) and the effective memory is "
                  "at its minimum there (dT/dHt > 0 proved; grid; impulse-response mean lag; "
                  f"runs); {size}")
    else:
        statement = "conditional"
        reason = ("smallest by T, but not by the impulse-response mean lag or on the runs; "
                  + size)
    return with_proof(Verdict(statement, "none", reason, "", conditions=[
        "effective memory T = sum_k alpha_k 2^k at tau = 1; level k has timescale 2^k (M1)"]),
        proof_steps)


METHOD_REPAIR = Claim(
    id=f"{ID}.r1", title="Low entropy favours longer-term momentum, with centred entropy",
    source=emc_source(WHERE),
    statement_tex=(r"With weights $\alpha_k \propto \exp(\lambda_k (1 - 2\tilde H)/\tau)$, "
                   r"$\lambda_k = k/K$ (level $k$ has timescale $2^k$), in regions of low "
                   r"gradient entropy ($\tilde H \to 0$) the algorithm favours longer-term "
                   r"momentum states: the weights increase with $k$ ($\alpha_K > 1/K$) and the "
                   r"effective memory $T = \sum_k \alpha_k 2^k$ falls from "
                   r"$\sum_k e^{k/(K\tau)} 2^k / \sum_k e^{k/(K\tau)}$ at $\tilde H = 0$ to "
                   r"$\sum_k e^{-k/(K\tau)} 2^k / \sum_k e^{-k/(K\tau)}$ at $\tilde H = 1$."),
    statement=("With weights alpha_k proportional to exp(lambda_k (1 - 2 Ht)/tau), lambda_k = k/K "
               "(level k has timescale 2^k), in regions of low gradient entropy (Ht -> 0) the "
               "algorithm favours longer-term momentum states: the weights increase with k "
               "(alpha_K > 1/K) and the effective memory sum_k alpha_k 2^k falls from "
               "sum_k e^(k/(K tau)) 2^k / sum_k e^(k/(K tau)) at Ht = 0 to "
               "sum_k e^(-k/(K tau)) 2^k / sum_k e^(-k/(K tau)) at Ht = 1."),
    proof=Proof("At Ht = 0 the logits lambda_k/tau increase with k, so the weights do and the "
                "longest level gets more than 1/K. dT/dHt = -2 Cov_alpha(lambda_k, 2^k)/tau < 0 "
                "since lambda_k and 2^k both increase in k (Chebyshev's sum inequality), so the "
                "effective memory is largest at Ht = 0."),
    kind="universal", facts=RepairFacts, gather=gather_method, decide=decide_method,
    derivations=SYMBOLIC, repair_of=ID, change="method",
    difference=("The method changed: the entropy enters the softmax as 1 - 2 Ht instead of Ht, "
                "so low entropy tilts the weights towards the long levels and high entropy "
                "towards the short ones (uniform at Ht = 1/2). With the paper's Ht every rule "
                "lambda_k Ht/tau is uniform at Ht = 0, so negating lambda_k (lambda_k = -k/K, or "
                "giving level k the timescale 2^(K+1-k)) only makes low entropy's memory longer "
                "than high entropy's, never longer than the uniform mixture's."),
    controls=(
        Control("entropy-reversed weights",
                "alpha_k ~ exp(lambda_k (1 - Ht)/tau): increasing in k at Ht = 0, uniform at "
                "Ht = 1: T(0) > T(1) and alpha_K(0) > 1/K", ENTROPY_REVERSED, "holds",
                "positive"),
        Control("the paper's weights",
                "alpha_k ~ exp(lambda_k Ht/tau): uniform at Ht = 0 and T increasing in Ht",
                PAPER_RULE, "fails", "negative"),
        Control("negated lambdas",
                "lambda_k = -k/K: uniform at Ht = 0 (alpha_K = 1/K) and T decreasing in Ht: "
                "only the relative sense holds", NEGATED, "conditional", "negative"),
    ))

AS_WRITTEN_REPAIR = Claim(
    id=f"{ID}.r2", title="Low entropy gives uniform weights, the shortest effective memory",
    source=emc_source(WHERE),
    statement_tex=(r"In regions of low gradient entropy ($\tilde H \to 0$) the weights tend to "
                   r"uniform ($\alpha_k \to 1/K$) and the effective memory "
                   r"$T = \sum_k \alpha_k 2^k$ is at its minimum over $\tilde H \in [0, 1]$, "
                   r"$(2^{K+1} - 2)/K$: low entropy gives the shortest effective memory, which "
                   r"grows to $\sum_k e^{k/(K\tau)} 2^k / \sum_k e^{k/(K\tau)}$ at "
                   r"$\tilde H = 1$."),
    statement=("In regions of low gradient entropy (Ht -> 0) the weights tend to uniform "
               "(alpha_k -> 1/K) and the effective memory sum_k alpha_k 2^k is at its minimum "
               "over Ht in [0, 1], (2^(K+1) - 2)/K: low entropy gives the shortest effective "
               "memory, which grows to sum_k e^(k/(K tau)) 2^k / sum_k e^(k/(K tau)) at Ht = 1."),
    proof=Proof("As Ht -> 0, the softmax weights approach uniform distribution, giving equal "
                "weight to all timescales (the paper's proof), so T(0) = sum_k 2^k/K. "
                "dT/dHt = Cov_alpha(lambda_k, 2^k)/tau > 0 since lambda_k and 2^k both increase "
                "in k (Chebyshev's sum inequality): T is smallest at Ht = 0."),
    kind="universal", facts=RepairFacts, gather=gather_as_written, decide=decide_as_written,
    derivations=SYMBOLIC, replay=replay, repair_of=ID, change="statement",
    difference=("The statement changed to describe the method as written: at low entropy the "
                "weights are uniform and the effective memory is the shortest, not the longest; "
                "the paper's proof (uniform weights) is kept, and the missing step (T increases "
                "with Ht) added."),
    controls=(
        Control("steeper lambdas",
                "lambda_k = 2k/K: logits lambda_k Ht/tau vanish at Ht = 0 (uniform) and T "
                "increases with Ht (Chebyshev)", STEEPER, "holds", "positive"),
        Control("entropy-reversed weights",
                "alpha_k ~ exp(lambda_k (1 - Ht)/tau): not uniform at Ht = 0 and T decreasing",
                ENTROPY_REVERSED, "fails", "negative"),
    ))

CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT, proof=Proof(PROOF),
    kind="universal", facts=Facts, gather=gather, decide=decide, replay=replay,
    derivations=SYMBOLIC, statement_tex=STATEMENT_TEX,
    controls=(
        Control("entropy-reversed weights",
                "alpha_k proportional to exp(lambda_k (1 - Ht)/tau): at Ht = 0 the weights "
                "increase with k (alpha_K > 1/K) and at Ht = 1 they are uniform, so T(0) > T(1)",
                ENTROPY_REVERSED, "holds", "positive"),
        Control("uniform weights",
                "alpha_k = 1/K whatever Ht: T is constant and alpha_K = 1/K, no level favoured",
                UNIFORM, "fails", "negative"),
    ),
    repairs=(METHOD_REPAIR, AS_WRITTEN_REPAIR))
