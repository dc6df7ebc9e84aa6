"""G1 (EMC paper, 2.4): the power of the update lies in [1, 2].

Claim: ":math:`\\gamma(H_t) = 2 - H_t/H_{\\max}`, ensuring :math:`\\gamma \\in [1, 2]`." The argument
is implicit: :math:`0 \\le H_t \\le H_{\\max}`.

What we check:

* symbolic (``proofs.gamma_range``): the range of :math:`\\gamma` over :math:`H \\in [0, H_{\\max}]`
  and what happens at d = 1 (:math:`H_{\\max} = \\log 1 = 0`);
* numerical: :math:`\\gamma` from the core on random gradients for d from 2 to 1000, both entropy
  readings, stays in [1, 2] and reaches both ends (uniform magnitudes give 1, one-hot 2); at
  d = 1 the core must refuse (the value is undefined).

Rule: statement *holds* when the range is [1, 2] on every input where :math:`\\gamma` is defined
and it is defined for every d; *conditional* when the range holds but some d leaves it
undefined (the condition names it); *fails* when a sample leaves [1, 2]. Proof: *sound* if the
implicit step :math:`H/H_{\\max} \\in [0,1]` holds for every d, else *gap* naming the d where it
does not.
"""
from __future__ import annotations

import numpy as np

from emc_theory import ENTROPY_KINDS, entropy_power, normalized_entropy

from .base import CheckConfig, Evidence, Findings, Verdict
from .symbolic import derivation_result

ID = "G1"
TITLE = "gamma = 2 - H/H_max lies in [1, 2]"
WHERE = "2.4"
STATEMENT = "gamma(H_t) = 2 - H_t/H_max, ensuring gamma in [1, 2]."
SYMBOLIC = ("gamma_range",)  # derivations of proofs/ this check reads
PROOF = "(implicit) 0 <= H_t <= H_max, hence H_t/H_max in [0, 1]."


def _single_limit(path_limits):
    """gamma extends continuously to d = 1 only if every path gives the same limit."""
    return None if path_limits is None else len(set(path_limits)) == 1


def gather(config: CheckConfig) -> Findings:
    rng = np.random.default_rng(config.seed)
    dims = [2, 5, 50] if config.quick else [2, 3, 5, 10, 50, 200, 1000]
    n = 500 if config.quick else 4000
    lo, hi, ends = np.inf, -np.inf, True
    for kind in ENTROPY_KINDS:
        for d in dims:
            g = rng.standard_cauchy(size=(n, d)) * (rng.random((n, d)) < 0.5)
            g[:, 0] += 1e-3
            gamma = entropy_power(normalized_entropy(g, kind))
            lo, hi = min(lo, float(gamma.min())), max(hi, float(gamma.max()))
            uniform = float(entropy_power(normalized_entropy(np.full(d, -3.0), kind)))
            one_hot = float(entropy_power(normalized_entropy(np.eye(d)[0], kind)))
            ends &= abs(uniform - 1) < 1e-12 and abs(one_hot - 2) < 1e-12
    try:
        normalized_entropy(np.array([2.0]))
        d1_defined = True
    except ValueError:
        d1_defined = False
    symbolic = derivation_result("gamma_range")
    findings = Findings(parameters={"d": dims, "samples": n, "seed": config.seed,
                                    "entropy_readings": list(ENTROPY_KINDS)})
    findings.evidence += [
        Evidence("numerical", "gamma on random gradients",
                 f"gamma over {2 * n * len(dims)} Cauchy-sparse gradients, d in {dims}: "
                 f"[{lo:.6f}, {hi:.6f}]; uniform -> 1 and one-hot -> 2: {ends}; d = 1: "
                 f"{'defined' if d1_defined else 'undefined (H_max = 0), refused by the core'}",
                 {"min": lo, "max": hi, "ends_attained": ends, "d1_defined": d1_defined}),
        symbolic.evidence,
    ]
    findings.facts = {
        "samples_in_range": lo >= 1 - 1e-12 and hi <= 2 + 1e-12,
        "ends_attained": ends,
        "symbolic_range": symbolic.value("range"),
        "defined_at_d1": _single_limit(symbolic.value("d1_path_limits")),
    }
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    symbolic_ok = f["symbolic_range"] == [1, 2]
    if not f["samples_in_range"]:
        return Verdict("fails", "gap", "a sample gives gamma outside [1, 2]",
                       "H/H_max in [0,1] does not hold on the samples")
    if f["symbolic_range"] is None or f["defined_at_d1"] is None:
        return Verdict("undecided", "gap", "symbolic range not established",
                       "not assessed without the symbolic range")
    if not symbolic_ok:
        return Verdict("fails", "gap", f"symbolic range is {f['symbolic_range']}, not [1, 2]",
                       "H/H_max in [0,1] does not give [1,2]")
    if f["defined_at_d1"]:
        return Verdict("holds", "sound", "gamma in [1, 2] for every d, symbolically and sampled",
                       "0 <= H/H_max <= 1 gives the range")
    return Verdict(
        "conditional", "gap",
        "gamma in [1, 2] whenever it is defined (proved; every sample), but at d = 1 it is "
        "2 - 0/0, undefined",
        "the step H/H_max in [0, 1] needs H_max = log d > 0, i.e. d >= 2; it fails at d = 1",
        conditions=["d >= 2 (at d = 1 H_max = 0 and gamma is undefined)"])
