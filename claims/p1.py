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
from .support.weights_behaviour import WeightRule, paper_lambdas, replay, shared_evidence

__all__ = ["CLAIM", "Facts", "gather", "decide", "replay"]

ID = "P1"
TITLE = "Low entropy favours longer-term momentum"
WHERE = "3.2, Proposition 1"
STATEMENT = ("In regions of low gradient entropy (H_t -> 0), the algorithm favors longer-term "
             "momentum states.")
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
            ID, "a low-entropy gradient (one dominant component) gets the SHORTEST effective "
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
                  "memory is at its MINIMUM (dT/dHt > 0 proved; numerically, by mean lag and on "
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


ENTROPY_REVERSED = WeightRule("paper's weights read at 1 - Ht", paper_lambdas, lambda h: 1 - h)
UNIFORM = WeightRule("uniform weights", lambda K: (Fraction(0),) * K, lambda h: h)

CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT, proof=Proof(PROOF),
    kind="universal", facts=Facts, gather=gather, decide=decide, replay=replay,
    derivations=SYMBOLIC,
    controls=(
        Control("entropy-reversed weights",
                "alpha_k proportional to exp(lambda_k (1 - Ht)/tau): at Ht = 0 the weights "
                "increase with k (alpha_K > 1/K) and at Ht = 1 they are uniform, so T(0) > T(1)",
                ENTROPY_REVERSED, "holds", "positive"),
        Control("uniform weights",
                "alpha_k = 1/K whatever Ht: T is constant and alpha_K = 1/K, no level favoured",
                UNIFORM, "fails", "negative"),
    ))
