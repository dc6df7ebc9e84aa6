"""E1 (EMC paper, 2.1): where the gradient entropy is largest and smallest.

Claim: "This measure is maximized when gradients are uniformly distributed across dimensions and
minimized when dominated by a few components." The paper gives no proof.

What we check, for both entropy kinds (the two definitions of p: ``l2``,
:math:`p_i = g_i^2/\\|g\\|_2^2`, the paper's; ``l1``, :math:`p_i = |g_i|/\\|g\\|_1`):

* symbolic (``proofs.entropy_bounds``): the maximiser of :math:`H(p)` on the simplex is the uniform
  p with :math:`H = \\log d`, the minimiser a vertex with :math:`H = 0`;
* numerical: :math:`H = -\\sum_i p_i \\log p_i` of the core's p
  (:func:`emc_theory.entropy.gradient_weights`), computed term by term (``scipy.special.entr``)
  BEFORE the clip to :math:`[0, \\log d]` that :func:`emc_theory.gradient_entropy` applies (a
  clipped value cannot leave the bounds, so it could not show them wrong), at uniform-magnitude
  gradients equals :math:`\\log d`, at one-hot gradients 0, never leaves :math:`[0, \\log d]` on
  random gradients (Gaussian, heavy-tailed, sparse), and at a gradient with m equal non-zero
  components equals :math:`\\log m` ("a few components" give a small entropy, 0 only for one
  component). The core's clipped value is compared with it.

Rule: statement *holds* when, for both entropy kinds, the maximum is attained at uniform
magnitudes and the minimum at a single component, symbolically and numerically; *fails* when a
sample beats the uniform value or undercuts the one-hot value; *undecided* when an evidence kind
is missing.
Undefined cases (d = 1, g = 0) are listed as conditions: the paper does not address them.

Controls (an :class:`EntropyFunction` as ``config.subject``): the Shannon entropy of the
reading's p computed by ``scipy.stats.entropy`` (independent of the core; the symbolic
derivation is about it) holds; the Shannon entropy plus :math:`d^2 p_1 p_2 (p_1 - p_2)`, which
equals :math:`\\log d` at uniform p, 0 at the vertices and :math:`\\log m` at m equal components,
but has the derivative 2 at uniform p along :math:`e_1 - e_2`, so that uniform p is not its
maximum, fails. Clipped to :math:`[0, \\log d]`, that function would pass every check: the
reason the bounds are measured before any clipping.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.special import entr
from scipy.stats import entropy as scipy_entropy

from emc_theory import ENTROPY_KINDS, ZERO_GRADIENT_RULE, gradient_entropy
from emc_theory.entropy import gradient_weights
from emc_theory.render import readable

from .support.base import (
    CheckConfig,
    Claim,
    Control,
    Evidence,
    Gathered,
    Proof,
    Verdict,
    emc_source,
)
from .support.symbolic import derivation_result
from .support.weights_behaviour import unclipped_entropy

ID = "E1"
TITLE = "Entropy is maximal for uniform, minimal for dominated gradients"
WHERE = "2.1"
STATEMENT = ("The entropy is maximized when gradients are uniformly distributed across dimensions "
             "and minimized when dominated by a few components.")
SYMBOLIC = ("entropy_bounds",)  # derivations of proofs/ this check reads
_RTOL = 1e-12


@dataclass(frozen=True)
class EntropyFunction:
    """A candidate gradient entropy: ``entropy(g, kind)`` is H of each row of ``g`` under the
    reading ``kind``, unclipped; ``shannon``: it is :math:`-\\sum p_i \\log p_i` of the reading's
    p, so the derivation ``entropy_bounds`` is about it (else its symbolic facts are unknown)."""

    name: str
    entropy: Callable[[np.ndarray, str], np.ndarray]
    shannon: bool


PAPER = EntropyFunction("-sum p log p of the core's p (unclipped)", unclipped_entropy, True)


@dataclass(frozen=True)
class ReadingFacts:
    never_above_log_d: Optional[bool]
    never_below_zero: Optional[bool]
    uniform_attains_log_d: Optional[bool]
    one_hot_attains_zero: Optional[bool]
    m_equal_components_give_log_m: Optional[bool]


@dataclass(frozen=True)
class Facts:
    symbolic_max_log_d_at_uniform: Optional[bool]
    symbolic_min_zero_at_vertex: Optional[bool]
    zero_gradient_rule: Optional[str]


def _sampled_gradients(rng, n, d):
    """Gaussian, heavy-tailed (Cauchy) and sparse gradients."""
    sparse = rng.normal(size=(n, d)) * (rng.random((n, d)) < 0.2)
    sparse[:, 0] += 1.0  # never all zero
    return np.concatenate([rng.normal(size=(n, d)), rng.standard_cauchy(size=(n, d)), sparse])


def _established(value, expected):
    """True/False when sympy established a value, None when it did not."""
    return None if value is None else value == expected


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = PAPER if config.subject is None else config.subject
    if not isinstance(subject, EntropyFunction):
        raise TypeError(f"subject must be an EntropyFunction or None, got "
                        f"{type(subject).__name__}")
    entropy = subject.entropy
    rng = np.random.default_rng(config.seed)
    dims = [2, 3, 10, 100] if config.quick else [2, 3, 5, 10, 100, 1000]
    n = 200 if config.quick else 2000
    parameters = {"d": dims, "samples_per_d": 3 * n, "seed": config.seed,
                  "entropy_readings": list(ENTROPY_KINDS)}
    if config.subject is not None:
        parameters["subject"] = subject.name
    per_reading, evidence = {}, []
    for kind in ENTROPY_KINDS:
        worst_above, worst_below, uniform_err, onehot_max, few_err = 0.0, 0.0, 0.0, 0.0, 0.0
        core_diff = 0.0
        for d in dims:
            logd = np.log(d)
            g = _sampled_gradients(rng, n, d)
            h = entropy(g, kind)
            worst_above = max(worst_above, float((h - logd).max()) / logd)
            worst_below = min(worst_below, float(h.min()))
            if subject is PAPER:  # the optimizer's (clipped) entropy against the formula
                core_diff = max(core_diff, float(np.abs(gradient_entropy(g, kind)
                                                        - np.clip(h, 0.0, logd)).max()))
            signs = rng.choice([-1.0, 1.0], size=(8, d)) * rng.uniform(0.1, 10, size=(8, 1))
            uniform_err = max(uniform_err, float(np.abs(entropy(signs, kind) - logd).max()
                                                 / logd))
            onehot = np.eye(d)[: min(d, 8)] * rng.uniform(0.1, 10, size=(min(d, 8), 1))
            onehot_max = max(onehot_max, float(np.abs(entropy(onehot, kind)).max()))
            for m in range(1, min(d, 6) + 1):
                few = np.zeros((1, d))
                few[0, :m] = rng.uniform(1, 2) * rng.choice([-1.0, 1.0], size=m)
                few_err = max(few_err, abs(float(entropy(few, kind)[0]) - np.log(m)))
        per_reading[kind] = ReadingFacts(
            never_above_log_d=bool(worst_above <= _RTOL),
            never_below_zero=bool(worst_below >= 0.0),
            uniform_attains_log_d=bool(uniform_err <= _RTOL),
            one_hot_attains_zero=bool(onehot_max <= _RTOL),
            m_equal_components_give_log_m=bool(few_err <= 1e-12),
        )
        evidence.append(Evidence(
            "numerical", f"entropy extremes ({kind})",
            f"{3 * n} random gradients per d in {{{readable(dims)}}}, H before any clipping: max "
            f"(H - log d)/log d = {worst_above:.2e}, min H = {worst_below:.2e}; uniform "
            f"magnitudes give log d (rel. err {uniform_err:.1e}); one-hot gives "
            f"{onehot_max:.1e}; m equal components give log m"
            + (f"; the core's gradient_entropy equals H clipped to [0, log d] within "
               f"{core_diff:.1e}" if subject is PAPER else ""),
            {"worst_relative_excess": worst_above, "min_entropy": worst_below,
             "uniform_rel_err": uniform_err, "one_hot_max": onehot_max,
             "m_component_abs_err": few_err, "core_clipped_abs_diff": core_diff}))
    symbolic = derivation_result("entropy_bounds")
    evidence.append(symbolic.evidence)
    if subject.shannon:
        facts = Facts(
            symbolic_max_log_d_at_uniform=_established(symbolic.value("max_entropy"), True),
            symbolic_min_zero_at_vertex=_established(symbolic.value("min_entropy"), 0),
            zero_gradient_rule=ZERO_GRADIENT_RULE)
    else:  # the derivation is about -sum p log p, not about this function
        facts = Facts(None, None, ZERO_GRADIENT_RULE)
    return Gathered(facts, per_reading=per_reading, evidence=evidence, parameters=parameters)


def decide(g: Gathered[Facts]) -> Verdict:
    facts = g.facts
    per_reading = {}
    for kind, f in g.per_reading.items():
        if not (f.never_above_log_d and f.never_below_zero):
            per_reading[kind] = "fails"
        elif f.uniform_attains_log_d and f.one_hot_attains_zero:
            per_reading[kind] = "holds"
        else:
            per_reading[kind] = "fails"
    symbolic = (facts.symbolic_max_log_d_at_uniform, facts.symbolic_min_zero_at_vertex)
    conditions = [
        "defined for d >= 2 only (H_max = log 1 = 0 at d = 1); the paper does not say",
        "g = 0 is undefined in the paper (p = 0/0); the toolkit's rule: " + ZERO_GRADIENT_RULE,
        "the minimum H = 0 needs a single non-zero component; m equal components give "
        "H = log m",
    ]
    if "fails" in per_reading.values():
        statement = "fails"
        reason = "a sampled gradient falls outside [0, log d] or the extremes differ"
    elif None in symbolic or False in symbolic:
        statement, reason = "undecided", "symbolic evidence missing or not established"
    else:
        statement = "holds"
        reason = ("max log d exactly at uniform |g_i| and min 0 at one component, for both "
                  "entropy kinds (l1 and l2), symbolically and on every sample")
    return Verdict(statement, "none", reason, "the paper states E1 without proof",
                   per_reading=per_reading, conditions=conditions)


def _scipy_shannon(g, kind: str) -> np.ndarray:
    q = np.square(g) if kind == "l2" else np.abs(g)
    return scipy_entropy(q, axis=-1)


def _tilted_shannon(g, kind: str) -> np.ndarray:
    p = gradient_weights(g, kind)
    d = p.shape[-1]
    return entr(p).sum(axis=-1) + (p[..., 0] - p[..., 1]) * p[..., 0] * p[..., 1] * d**2


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT,
    proof=Proof(status="none"), kind="inequality", facts=Facts, reading_facts=ReadingFacts,
    gather=gather, decide=decide, derivations=SYMBOLIC,
    controls=(
        Control("Shannon entropy by scipy",
                "scipy.stats.entropy of g^2 (l2) or |g| (l1): the Shannon entropy, maximal "
                "(log d) exactly at uniform p and 0 exactly at the vertices",
                EntropyFunction("scipy.stats.entropy", _scipy_shannon, True), "holds",
                "positive"),
        Control("tilted entropy",
                "-sum p log p + d^2 p_1 p_2 (p_1 - p_2): log d at uniform p, 0 at every vertex, "
                "log m at m equal components, but its derivative at uniform p along e_1 - e_2 "
                "is 2, so uniform p is not its maximum (it exceeds log d nearby)",
                EntropyFunction("-sum p log p + d^2 p_1 p_2 (p_1 - p_2)", _tilted_shannon,
                                False),
                "fails", "negative"),
    ))
