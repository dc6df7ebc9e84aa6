"""P2 (EMC paper, 3.2, Proposition 2): high entropy favours shorter-term momentum states.

Statement: "In regions of high gradient entropy (H_t -> H_max), the algorithm favors shorter-term
momentum states." Proof given: "As Ht -> 1, higher values of lambda_k dominate the softmax,
favoring larger k (shorter memory)."

"Favours shorter-term states" is measured under the paper's own definitions (level k has
timescale 2^k; claim M1) as (a) *relative*: the effective memory :math:`T` at
:math:`\\tilde H = 1` is below that at :math:`\\tilde H = 0`, and (b) *absolute*: the shortest
level's weight :math:`\\alpha_1(1)` exceeds 1/K.

The proof has three steps, each checked: (i) larger :math:`\\lambda_k` get larger weights at
:math:`\\tilde H = 1` (sign of the weights' derivative); (ii) they "dominate" (we test
:math:`\\alpha_K(1) > 1/2`, and report :math:`\\alpha_K/\\alpha_1 = e^{(K-1)/K} < e`);
(iii) "larger k (shorter memory)" (against the timescale :math:`2^k`).

Rule: statement as for P1 (holds / conditional / fails / undecided). Proof: *gap* naming the
first step that does not follow when the statement fails; *sound* if every step holds; *mismatch*
if every step holds but they do not give the statement.
"""
from __future__ import annotations

from .base import CheckConfig, Counterexample, Findings, Verdict
from .weights_behaviour import replay, shared_findings

__all__ = ["gather", "decide", "replay"]

ID = "P2"
TITLE = "High entropy favours shorter-term momentum"
WHERE = "3.2, Proposition 2"
STATEMENT = ("In regions of high gradient entropy (H_t -> H_max), the algorithm favors "
             "shorter-term momentum states.")
SYMBOLIC = ("softmax_limits", "effective_memory")  # derivations of proofs/ this check reads
PROOF = ("As Ht -> 1, higher values of lambda_k dominate the softmax, favoring larger k "
         "(shorter memory).")


def gather(config: CheckConfig) -> Findings:
    findings, profile, runs, limits, memory = shared_findings(config)
    high = runs["high_entropy"]
    rows = profile["rows"]
    findings.facts = {
        "step_larger_lambda_larger_weight": limits.value("sign_d_alpha_K") == "+"
        and profile["alphaK_increasing"],
        "step_dominate": all(r["alphaK_1"] > 0.5 for r in rows.values()),
        "max_ratio_alphaK_alpha1": limits.value("ratio_below_e_tau_1"),
        "step_larger_k_shorter_memory": None if memory.value("larger_k_longer_memory") is None
        else not memory.value("larger_k_longer_memory"),
        "relative_favour_short_at_high": all(r["T1"] < r["T0"] for r in rows.values()),
        "absolute_favour_short_at_high": all(r["alpha1_1"] > 1 / K + 1e-12
                                             for K, r in rows.items()),
        "mean_lag_high_below_low": profile["mean_lag"]["at_1"] < profile["mean_lag"]["at_0"],
        "reversed_convention_would_hold": profile["reversed_lambdas_T_decreasing"],
    }
    if not findings.facts["relative_favour_short_at_high"]:
        findings.counterexamples.append(Counterexample(
            ID, "a maximum-entropy gradient (equal magnitudes) gets the LONGEST effective memory, "
                "above the uniform mixture's and the low-entropy run's",
            high["replay"], {k: high[k] for k in ("normalized_entropy", "effective_memory",
                                                  "alpha_K", "uniform_memory")}))
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    needed = ("step_larger_lambda_larger_weight", "step_larger_k_shorter_memory",
              "relative_favour_short_at_high", "absolute_favour_short_at_high")
    if any(f.get(k) is None for k in needed):
        return Verdict("undecided", "gap", "a symbolic or numerical fact is missing",
                       "not assessed without the symbolic facts")
    relative, absolute = f["relative_favour_short_at_high"], f["absolute_favour_short_at_high"]
    if relative and absolute:
        statement, reason = "holds", "high entropy gives less memory than low entropy and than uniform"
    elif relative or absolute:
        statement = "conditional"
        reason = "only the " + ("relative" if relative else "absolute") + " sense of 'favour' holds"
    else:
        statement = "fails"
        reason = ("at Ht = 1 the weights favour the LONG levels (alpha_K largest, alpha_1 < 1/K) "
                  "and the effective memory is at its MAXIMUM (symbolic sign, grid, mean lag, "
                  "runs)")
    steps = [("larger lambda_k gets larger weight", f["step_larger_lambda_larger_weight"]),
             ("larger lambda_k 'dominate' the softmax", f["step_dominate"]),
             ("larger k means shorter memory", f["step_larger_k_shorter_memory"])]
    failing = [name for name, ok in steps if not ok]
    conditions = ["'favour' measured as effective memory, weight on the shortest level vs 1/K, "
                  "and impulse-response mean lag"]
    if f.get("reversed_convention_would_hold"):
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
