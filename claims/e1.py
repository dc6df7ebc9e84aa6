"""E1 (EMC paper, 2.1): where the gradient entropy is largest and smallest.

Claim: "This measure is maximized when gradients are uniformly distributed across dimensions and
minimized when dominated by a few components." The paper gives no proof.

What we check, for both readings of p (``l2``: :math:`p_i = g_i^2/\\|g\\|_2^2`, the paper's;
``l1``: :math:`p_i = |g_i|/\\|g\\|_1`):

* symbolic (``proofs.entropy_bounds``): the maximiser of :math:`H(p)` on the simplex is the uniform
  p with :math:`H = \\log d`, the minimiser a vertex with :math:`H = 0`;
* numerical: the core's :func:`emc_theory.gradient_entropy` at uniform-magnitude gradients equals
  :math:`\\log d`, at one-hot gradients 0, never leaves :math:`[0, \\log d]` on random gradients
  (Gaussian, heavy-tailed, sparse), and at a gradient with m equal non-zero components equals
  :math:`\\log m` ("a few components" give a small entropy, 0 only for one component).

Rule: statement *holds* when, for every reading, the maximum is attained at uniform magnitudes and
the minimum at a single component, symbolically and numerically; *fails* when a sample beats the
uniform value or undercuts the one-hot value; *undecided* when an evidence kind is missing.
Undefined cases (d = 1, g = 0) are listed as conditions: the paper does not address them.
"""
from __future__ import annotations

import numpy as np

from emc_theory import ENTROPY_KINDS, ZERO_GRADIENT_RULE, gradient_entropy

from .base import CheckConfig, Evidence, Findings, Verdict
from .symbolic import derivation_result

ID = "E1"
TITLE = "Entropy is maximal for uniform, minimal for dominated gradients"
WHERE = "2.1"
STATEMENT = ("The entropy is maximized when gradients are uniformly distributed across dimensions "
             "and minimized when dominated by a few components.")
SYMBOLIC = ("entropy_bounds",)  # derivations of proofs/ this check reads
PROOF = None
_RTOL = 1e-12


def _sampled_gradients(rng, n, d):
    """Gaussian, heavy-tailed (Cauchy) and sparse gradients."""
    sparse = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.2)
    sparse[:, 0] += 1.0  # never all zero
    return np.concatenate([rng.normal(size=(n, d)), rng.standard_cauchy(size=(n, d)), sparse])


def _established(value, expected):
    """True/False when sympy established a value, None when it did not."""
    return None if value is None else value == expected


def gather(config: CheckConfig) -> Findings:
    rng = np.random.default_rng(config.seed)
    dims = [2, 3, 10, 100] if config.quick else [2, 3, 5, 10, 100, 1000]
    n = 200 if config.quick else 2000
    findings = Findings(parameters={"d": dims, "samples_per_d": 3 * n, "seed": config.seed,
                                    "entropy_readings": list(ENTROPY_KINDS)})
    for kind in ENTROPY_KINDS:
        worst_above, worst_below, uniform_err, onehot_max, few_err = 0.0, 0.0, 0.0, 0.0, 0.0
        for d in dims:
            logd = np.log(d)
            h = gradient_entropy(_sampled_gradients(rng, n, d), kind)
            worst_above = max(worst_above, float((h - logd).max()) / logd)
            worst_below = min(worst_below, float(h.min()))
            signs = rng.choice([-1.0, 1.0], size=(8, d)) * rng.uniform(0.1, 10, size=(8, 1))
            uniform_err = max(uniform_err, float(np.abs(gradient_entropy(signs, kind) - logd).max()
                                                 / logd))
            onehot = np.eye(d)[: min(d, 8)] * rng.uniform(0.1, 10, size=(min(d, 8), 1))
            onehot_max = max(onehot_max, float(gradient_entropy(onehot, kind).max()))
            for m in range(1, min(d, 6) + 1):
                few = np.zeros(d)
                few[:m] = rng.uniform(1, 2) * rng.choice([-1.0, 1.0], size=m)
                few_err = max(few_err, abs(float(gradient_entropy(few, kind)) - np.log(m)))
        facts = {
            "never_above_log_d": worst_above <= _RTOL,
            "never_below_zero": worst_below >= 0.0,
            "uniform_attains_log_d": uniform_err <= _RTOL,
            "one_hot_attains_zero": onehot_max <= _RTOL,
            "m_equal_components_give_log_m": few_err <= 1e-12,
        }
        findings.per_reading[kind] = facts
        findings.evidence.append(Evidence(
            "numerical", f"entropy extremes ({kind})",
            f"{3 * n} random gradients per d in {dims}: max (H - log d)/log d = {worst_above:.2e}, "
            f"min H = {worst_below:.2e}; uniform magnitudes give log d (rel. err "
            f"{uniform_err:.1e}); one-hot gives {onehot_max:.1e}; m equal components give log m",
            {"worst_relative_excess": worst_above, "min_entropy": worst_below,
             "uniform_rel_err": uniform_err, "one_hot_max": onehot_max,
             "m_component_abs_err": few_err}))
    symbolic = derivation_result("entropy_bounds")
    findings.evidence.append(symbolic.evidence)
    findings.facts = {
        "symbolic_max_log_d_at_uniform": _established(symbolic.value("max_entropy"), True),
        "symbolic_min_zero_at_vertex": _established(symbolic.value("min_entropy"), 0),
        "zero_gradient_rule": ZERO_GRADIENT_RULE,
    }
    return findings


def decide(findings: Findings) -> Verdict:
    facts = findings.facts
    per_reading = {}
    for kind, f in findings.per_reading.items():
        if not (f["never_above_log_d"] and f["never_below_zero"]):
            per_reading[kind] = "fails"
        elif f["uniform_attains_log_d"] and f["one_hot_attains_zero"]:
            per_reading[kind] = "holds"
        else:
            per_reading[kind] = "fails"
    symbolic = (facts.get("symbolic_max_log_d_at_uniform"), facts.get("symbolic_min_zero_at_vertex"))
    conditions = [
        "defined for d >= 2 only (H_max = log 1 = 0 at d = 1); the paper does not say",
        "g = 0 is undefined in the paper (p = 0/0); the toolkit's rule: " + ZERO_GRADIENT_RULE,
        "the minimum H = 0 needs ONE non-zero component; m equal components give H = log m",
    ]
    values = set(per_reading.values())
    if "fails" in values:
        statement, reason = "fails", "a sampled gradient falls outside [0, log d] or the extremes differ"
    elif None in symbolic or False in symbolic:
        statement, reason = "undecided", "symbolic evidence missing or not established"
    else:
        statement = "holds"
        reason = ("max log d exactly at uniform |g_i| and min 0 at one component, in both "
                  "readings, symbolically and on every sample")
    return Verdict(statement, "none", reason, "the paper states E1 without proof",
                   per_reading=per_reading, conditions=conditions)
