"""G1 (EMC paper, 2.4): the power of the update lies in [1, 2].

Claim: ":math:`\\gamma(H_t) = 2 - H_t/H_{\\max}`, ensuring :math:`\\gamma \\in [1, 2]`." The
argument is implicit: :math:`0 \\le H_t \\le H_{\\max}`.

What we check:

* symbolic (``proofs.gamma_range``): the range of :math:`\\gamma` over :math:`H \\in [0, H_{\\max}]`
  and what happens at d = 1 (:math:`H_{\\max} = \\log 1 = 0`);
* numerical: :math:`\\gamma` from the core's :func:`~emc_theory.entropy_power` on random gradients
  for d from 2 to 1000, both entropy readings, stays in [1, 2] and reaches both ends (uniform
  magnitudes give 1, one-hot 2); at d = 1 the core must refuse (the value is undefined). The
  entropy is :math:`-\\sum_i p_i \\log p_i` of the core's p, BEFORE the clip to
  :math:`[0, \\log d]` that :func:`~emc_theory.gradient_entropy` applies (after it,
  :math:`\\gamma` could not leave [1, 2] whatever the formula).

Rule: statement *holds* when the range is [1, 2] on every input where :math:`\\gamma` is defined
and it is defined for every d; *conditional* when the range holds but some d leaves it
undefined (the condition names it); *fails* when a sample leaves [1, 2]. Proof: *sound* if the
implicit step :math:`H/H_{\\max} \\in [0,1]` holds for every d, else *gap* naming the d where it
does not.

Controls (a :class:`PowerRule` as ``config.subject``; its range and d = 1 limits by
:func:`proofs.subject_formulas.power_rule`): :math:`\\gamma = 2 - H/(H_{\\max} + 1)` lies in
(1, 2] for every d and is 2 at d = 1 (holds); the unnormalised :math:`\\gamma = 2 - H` reaches
:math:`2 - \\log d < 1` for d >= 3 (fails).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.special import entr

from emc_theory import ENTROPY_KINDS, entropy_power, normalized_entropy
from emc_theory.entropy import gradient_weights

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
from .support.symbolic import SymbolicResult, derivation_result

ID = "G1"
TITLE = "gamma = 2 - H/H_max lies in [1, 2]"
WHERE = "2.4"
STATEMENT = "gamma(H_t) = 2 - H_t/H_max, ensuring gamma in [1, 2]."
SYMBOLIC = ("gamma_range",)  # derivations of proofs/ this check reads
PROOF = "(implicit) 0 <= H_t <= H_max, hence H_t/H_max in [0, 1]."


@dataclass(frozen=True)
class PowerRule:
    """A candidate power ``gamma(H, H_max)`` (arithmetic only: evaluated on NumPy arrays and on
    sympy symbols), with :math:`H_{\\max} = \\log d`."""

    name: str
    gamma: Callable


@dataclass(frozen=True)
class Facts:
    samples_in_range: Optional[bool]
    ends_attained: Optional[bool]
    symbolic_range: Optional[list]
    defined_at_d1: Optional[bool]


def _single_limit(path_limits):
    """gamma extends continuously to d = 1 only if every path gives the same limit."""
    return None if path_limits is None else len(set(path_limits)) == 1


def _paper_gamma(g, kind: str) -> np.ndarray:
    """The core's power of the entropy :math:`-\\sum p \\log p` of the core's p, unclipped."""
    h = entr(gradient_weights(g, kind)).sum(axis=-1)
    return entropy_power(h / np.log(np.shape(g)[-1]))


def _paper_defined_at_d1() -> bool:
    try:
        normalized_entropy(np.array([2.0]))
        return True
    except ValueError:
        return False


def _subject_gamma(subject: PowerRule):
    def gamma(g, kind):
        h = entr(gradient_weights(g, kind)).sum(axis=-1)
        return np.asarray(subject.gamma(h, np.log(np.shape(g)[-1])), dtype=float)
    return gamma


def _subject_defined_at_d1(subject: PowerRule) -> bool:
    with np.errstate(divide="ignore", invalid="ignore"):
        return bool(np.isfinite(subject.gamma(np.float64(0.0), np.float64(0.0))))


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = config.subject
    if subject is None:
        gamma_of, d1_defined = _paper_gamma, _paper_defined_at_d1()
        symbolic = derivation_result("gamma_range")
    elif isinstance(subject, PowerRule):
        from proofs.subject_formulas import power_rule

        gamma_of, d1_defined = _subject_gamma(subject), _subject_defined_at_d1(subject)
        symbolic = SymbolicResult(f"subject_formulas ({subject.name})",
                                  power_rule(subject.gamma, subject.name).to_json())
    else:
        raise TypeError(f"subject must be a PowerRule or None, got {type(subject).__name__}")
    rng = np.random.default_rng(config.seed)
    dims = [2, 5, 50] if config.quick else [2, 3, 5, 10, 50, 200, 1000]
    n = 500 if config.quick else 4000
    lo, hi, ends = np.inf, -np.inf, True
    for kind in ENTROPY_KINDS:
        for d in dims:
            g = rng.standard_cauchy(size=(n, d)) * (rng.random((n, d)) < 0.5)
            g[:, 0] += 1e-3
            gamma = gamma_of(g, kind)
            lo, hi = min(lo, float(gamma.min())), max(hi, float(gamma.max()))
            uniform = float(gamma_of(np.full((1, d), -3.0), kind)[0])
            one_hot = float(gamma_of(np.eye(d)[:1], kind)[0])
            ends &= abs(uniform - 1) < 1e-12 and abs(one_hot - 2) < 1e-12
    parameters = {"d": dims, "samples": n, "seed": config.seed,
                  "entropy_readings": list(ENTROPY_KINDS)}
    if subject is not None:
        parameters["subject"] = subject.name
    evidence = [
        Evidence("numerical", "gamma on random gradients",
                 f"gamma over {2 * n * len(dims)} Cauchy-sparse gradients, d in {dims}, entropy "
                 f"before any clipping: [{lo:.6f}, {hi:.6f}]; uniform -> 1 and one-hot -> 2: "
                 f"{ends}; d = 1: "
                 f"{'defined' if d1_defined else 'undefined (H_max = 0), refused by the core'}",
                 {"min": lo, "max": hi, "ends_attained": ends, "d1_defined": d1_defined}),
        symbolic.evidence,
    ]
    facts = Facts(
        samples_in_range=lo >= 1 - 1e-12 and hi <= 2 + 1e-12,
        ends_attained=ends,
        symbolic_range=symbolic.value("range"),
        defined_at_d1=_single_limit(symbolic.value("d1_path_limits")),
    )
    return Gathered(facts, evidence=evidence, parameters=parameters)


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    symbolic_ok = f.symbolic_range == [1, 2]
    if not f.samples_in_range:
        return Verdict("fails", "gap", "a sample gives gamma outside [1, 2]",
                       "H/H_max in [0,1] does not hold on the samples")
    if f.symbolic_range is None or f.defined_at_d1 is None:
        return Verdict("undecided", "gap", "symbolic range not established",
                       "not assessed without the symbolic range")
    if not symbolic_ok:
        return Verdict("fails", "gap", f"symbolic range is {f.symbolic_range}, not [1, 2]",
                       "H/H_max in [0,1] does not give [1,2]")
    if f.defined_at_d1:
        return Verdict("holds", "sound", "gamma in [1, 2] for every d, symbolically and sampled",
                       "0 <= H/H_max <= 1 gives the range")
    return Verdict(
        "conditional", "gap",
        "gamma in [1, 2] whenever it is defined (proved; every sample), but at d = 1 it is "
        "2 - 0/0, undefined",
        "the step H/H_max in [0, 1] needs H_max = log d > 0, i.e. d >= 2; it fails at d = 1",
        conditions=["d >= 2 (at d = 1 H_max = 0 and gamma is undefined)"])


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT, proof=Proof(PROOF),
    kind="inequality", facts=Facts, gather=gather, decide=decide, derivations=SYMBOLIC,
    controls=(
        Control("power defined at d = 1",
                "gamma = 2 - H/(H_max + 1): 0 <= H <= H_max < H_max + 1 gives gamma in (1, 2] "
                "for every d, and gamma -> 2 along every path to d = 1 (H = H_max = 0)",
                PowerRule("2 - H/(H_max + 1)", lambda h, hmax: 2 - h / (hmax + 1)), "holds",
                "positive"),
        Control("unnormalised power",
                "gamma = 2 - H: at uniform gradients gamma = 2 - log d < 1 for d >= 3",
                PowerRule("2 - H", lambda h, hmax: 2 - h), "fails", "negative"),
    ))
