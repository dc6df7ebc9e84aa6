"""P1 (EMC paper, 3.2, Proposition 1): low entropy favours longer-term momentum states.

Statement: "In regions of low gradient entropy (H_t -> 0), the algorithm favors longer-term
momentum states." Proof given: "As Ht -> 0, the softmax weights approach uniform distribution,
giving equal weight to all timescales."

"Favours longer-term states" is measured under the paper's own definitions (level k has
timescale 2^k, so larger k = longer memory; claim M1) as (a) *relative*: the effective memory
:math:`T(\\tilde H) = \\sum_k \\alpha_k 2^k` at :math:`\\tilde H \\to 0` exceeds that at
:math:`\\tilde H = 1`, and (b) *absolute*: the longest level's weight exceeds the uniform 1/K.

Evidence: symbolic (``proofs.softmax_limits``: the limit of the weights; ``proofs.effective_memory``:
the sign of dT/dHt), numerical (the core's weights on a grid of K, tau, Ht), independent (the
mean lag of the aggregate's impulse response), and replayable runs in both regimes.

Rule: statement *holds* if (a) and (b); *conditional* if exactly one; *fails* if neither (the
low-entropy run is the counterexample); *undecided* if a fact is missing. Proof: the proof's
conclusion ("uniform weights") is checked on its own: *mismatch* if it is true but does not give
the statement (uniform weights favour no timescale), *gap* if it is false, *sound* if it gives
the statement.
"""
from __future__ import annotations

from .base import CheckConfig, Counterexample, Findings, Verdict
from .weights_behaviour import replay, shared_findings

__all__ = ["gather", "decide", "replay"]

ID = "P1"
TITLE = "Low entropy favours longer-term momentum"
WHERE = "3.2, Proposition 1"
STATEMENT = ("In regions of low gradient entropy (H_t -> 0), the algorithm favors longer-term "
             "momentum states.")
SYMBOLIC = ("softmax_limits", "effective_memory")  # derivations of proofs/ this check reads
PROOF = ("As Ht -> 0, the softmax weights approach uniform distribution, giving equal weight to "
         "all timescales.")


def gather(config: CheckConfig) -> Findings:
    findings, profile, runs, limits, memory = shared_findings(config)
    low, high = runs["low_entropy"], runs["high_entropy"]
    rows = profile["rows"]
    findings.facts = {
        "limit_uniform_symbolic": limits.status("limit_Ht_to_0_symbolic_K") == "proved",
        "dT_dHt_sign": memory.value("dT_dHt_sign"),
        "T_increasing_numeric": profile["T_increasing"],
        "relative_favour_long_at_low": all(r["T0"] > r["T1"] for r in rows.values()),
        "absolute_favour_long_at_low": all(r["alphaK_0"] > 1 / K + 1e-12
                                           for K, r in rows.items()),
        "mean_lag_low_exceeds_high": profile["mean_lag"]["at_0"] > profile["mean_lag"]["at_1"],
        "run_low_entropy_memory_below_high": low["effective_memory"] < high["effective_memory"],
    }
    if not findings.facts["relative_favour_long_at_low"]:
        findings.counterexamples.append(Counterexample(
            ID, "a low-entropy gradient (one dominant component) gets the SHORTEST effective "
                "memory: uniform weights, T = (2^(K+1)-2)/K, below the high-entropy run's",
            low["replay"], {k: low[k] for k in ("normalized_entropy", "effective_memory",
                                                "alpha_K", "uniform_memory")}))
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    needed = ("limit_uniform_symbolic", "dT_dHt_sign", "relative_favour_long_at_low",
              "absolute_favour_long_at_low")
    if any(f.get(k) is None for k in needed):
        return Verdict("undecided", "gap", "a symbolic or numerical fact is missing",
                       "not assessed without the symbolic limit")
    relative, absolute = f["relative_favour_long_at_low"], f["absolute_favour_long_at_low"]
    if relative and absolute:
        statement, reason = "holds", "low entropy gives more memory than high entropy and than uniform"
    elif relative or absolute:
        statement = "conditional"
        reason = ("only the " + ("relative" if relative else "absolute") + " sense of 'favour' holds")
    else:
        statement = "fails"
        reason = ("at Ht -> 0 the weights are uniform, so no level is favoured, and the effective "
                  "memory is at its MINIMUM (dT/dHt > 0 proved; numerically, by mean lag and on "
                  "runs): low entropy gives the shortest memory")
    if not f["limit_uniform_symbolic"]:
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
