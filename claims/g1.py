"""G1 (EMC paper, 2.4): the power of the update lies in [1, 2].

Claim: ":math:`\\gamma(H_t) = 2 - H_t/H_{\\max}`, ensuring :math:`\\gamma \\in [1, 2]`." The
argument is implicit: :math:`0 \\le H_t \\le H_{\\max}`.

What we check:

* symbolic (``proofs.gamma_range``): the range of :math:`\\gamma` over :math:`H \\in [0, H_{\\max}]`
  and what happens at d = 1 (:math:`H_{\\max} = \\log 1 = 0`);
* numerical: :math:`\\gamma` from the core's :func:`~emc_theory.entropy_power` on random gradients
  for d from 2 to 1000, both entropy kinds, stays in [1, 2] and reaches both ends (uniform
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

Repair ``G1.r1`` (hypotheses added): d >= 2 and the toolkit's documented reading of g = 0 (p
uniform, so :math:`H = H_{\\max}` and :math:`\\gamma = 1`). G1's gather plus the power at g = 0
for every d and entropy kind, and whether the core refuses d = 1. Rule: *holds* when the samples
and the symbolic range are [1, 2], both ends are attained and g = 0 gives 1; *fails* when one of
these is false; else *undecided*. Controls: :math:`2 - (H/H_{\\max})^2` holds;
:math:`2 - H/(H_{\\max} + 1)` (never 1) and :math:`2 - H` fail.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np

from emc_theory import ENTROPY_KINDS, entropy_power, normalized_entropy
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
from .support.repairs_common import memoised, repair_gathered, with_proof
from .support.symbolic import SymbolicResult, derivation_result
from .support.weights_behaviour import unclipped_entropy

ID = "G1"
TITLE = "gamma = 2 - H/H_max lies in [1, 2]"
TITLE_TEX = r"$\gamma = 2 - H/H_{\max}$ lies in $[1, 2]$"
WHERE = "2.4"
STATEMENT = "gamma(H_t) = 2 - H_t/H_max, ensuring gamma in [1, 2]."
STATEMENT_TEX = r"$\gamma(H_t) = 2 - H_t/H_{\max}$, ensuring $\gamma \in [1, 2]$."
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
    h = unclipped_entropy(g, kind)
    return entropy_power(h / np.log(np.shape(g)[-1]))


def _paper_defined_at_d1() -> bool:
    try:
        normalized_entropy(np.array([2.0]))
        return True
    except ValueError:
        return False


def _subject_gamma(subject: PowerRule):
    def gamma(g, kind):
        h = unclipped_entropy(g, kind)
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
                 f"gamma over {2 * n * len(dims)} Cauchy-sparse gradients, d in "
                 f"{{{readable(dims)}}}, both entropy kinds, H before any clipping: in "
                 f"[{lo:.6f}, {hi:.6f}]; "
                 + ("uniform magnitudes give 1 and one-hot gradients 2" if ends else
                    "uniform magnitudes do not give 1 or one-hot gradients do not give 2")
                 + "; d = 1: "
                 + ("defined" if d1_defined else "undefined (H_max = 0), refused by the core"),
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


# ----------------------------------------------------------------------------- repair G1.r1
# The hypothesis d >= 2 added and g = 0 read by the toolkit's documented rule (p uniform), checked
# by G1's own gather (whose samples are all d >= 2) plus the zero gradient and the d = 1 refusal.

gather_once = memoised(gather)
"""G1's gather, remembered: the repair reads the same evidence right after it."""


@dataclass(frozen=True)
class RepairFacts(Facts):
    """G1's facts, and the repair's own: the power at g = 0 under the documented rule (p
    uniform, H = H_max) lies in [1, 2] and is 1 (the equal-magnitude end) for every d and
    entropy kind checked; and the core refuses d = 1 with a ValueError (the hypothesis is
    enforced, not assumed)."""

    zero_gradient_in_range: Optional[bool]
    zero_gradient_gives_one: Optional[bool]
    d1_refused: Optional[bool]


def _zero_gradient_gammas(subject: Optional[PowerRule], dims) -> list:
    """The power at g = 0 for each d and entropy kind (through the same path as G1's
    samples: the core's p, uniform at g = 0 by its rule)."""
    gamma_of = _paper_gamma if subject is None else _subject_gamma(subject)
    return [float(gamma_of(np.zeros((1, d)), kind)[0]) for kind in ENTROPY_KINDS for d in dims]


def gather_repair(config: CheckConfig) -> Gathered[RepairFacts]:
    inner = gather_once(config)
    dims = inner.parameters["d"]
    gammas = _zero_gradient_gammas(config.subject, dims)
    refused = not _paper_defined_at_d1()
    evidence = [Evidence("numerical", "the zero gradient and d = 1",
                         f"g = 0 (p uniform by the documented rule), d in {{{readable(dims)}}}, "
                         f"both entropy kinds: gamma in [{min(gammas):.6f}, {max(gammas):.6f}]; "
                         "d = 1: "
                         + ("refused by the core with a ValueError" if refused else "accepted"),
                         {"zero_gradient_gamma": gammas, "d1_refused": refused})]
    return repair_gathered(RepairFacts, inner, dict(
        zero_gradient_in_range=all(1 - 1e-12 <= x <= 2 + 1e-12 for x in gammas),
        zero_gradient_gives_one=all(abs(x - 1) <= 1e-12 for x in gammas), d1_refused=refused),
        evidence)


def decide_repair(g: Gathered[RepairFacts]) -> Verdict:
    f = g.facts
    proof_steps = [
        ("for d >= 2, H_max = log d > 0 and 0 <= H <= H_max, so H/H_max in [0, 1] and gamma in "
         "[1, 2] (sympy range)", None if f.symbolic_range is None else f.symbolic_range == [1, 2]),
        ("at g = 0 the documented rule takes p uniform: H = H_max, gamma = 1",
         f.zero_gradient_gives_one),
    ]
    conditions = ["d >= 2 " + ("(enforced: the core refuses d = 1 with a ValueError)"
                               if f.d1_refused else "(not enforced: the core accepts d = 1)"),
                  "g = 0 read by the documented rule: p uniform, so H_t = H_max"]
    parts = {"gamma in [1, 2] on random gradients": f.samples_in_range,
             "symbolic range [1, 2]": None if f.symbolic_range is None
             else f.symbolic_range == [1, 2],
             "1 at equal magnitudes and 2 at one component": f.ends_attained,
             "gamma in [1, 2] at g = 0": f.zero_gradient_in_range,
             "gamma = 1 at g = 0": f.zero_gradient_gives_one}
    if any(v is None for v in parts.values()):
        verdict = Verdict("undecided", "none", "a fact is missing", "", conditions=conditions)
    elif not all(parts.values()):
        verdict = Verdict("fails", "none", "does not hold for d >= 2: " + "; ".join(
            name for name, ok in parts.items() if not ok), "", conditions=conditions)
    else:
        verdict = Verdict("holds", "none",
                          "for d >= 2 gamma in [1, 2] (proved; every sample, both entropy "
                          "kinds), 1 at equal magnitudes and at g = 0, 2 at one component", "",
                          conditions=conditions)
    return with_proof(verdict, proof_steps)


POWER_ABOVE_ONE = PowerRule("2 - H/(H_max + 1)", lambda h, hmax: 2 - h / (hmax + 1))
UNNORMALISED_POWER = PowerRule("2 - H", lambda h, hmax: 2 - h)
"""Control subjects of G1 and its repair (one object each: their cached gathers are shared)."""


REPAIR = Claim(
    id=f"{ID}.r1", title="gamma in [1, 2] for d >= 2, with the rule for g = 0",
    title_tex=r"$\gamma \in [1, 2]$ for $d \ge 2$, with the rule for $g = 0$",
    source=emc_source(WHERE),
    statement=("For d >= 2, with g = 0 read by the toolkit's documented rule (p uniform, so "
               "H_t = H_max), gamma(H_t) = 2 - H_t/H_max lies in [1, 2]: 1 at equal magnitudes "
               "(g = 0 included), 2 at one non-zero component."),
    statement_tex=(r"For $d \ge 2$, with $g = 0$ read by the toolkit's documented rule ($p$ "
                   r"uniform, so $H_t = H_{\max}$), $\gamma(H_t) = 2 - H_t/H_{\max}$ lies in "
                   r"$[1, 2]$: 1 at equal magnitudes ($g = 0$ included), 2 at one non-zero "
                   r"component."),
    proof=Proof("For d >= 2, H_max = log d > 0 and 0 <= H_t <= H_max, hence H_t/H_max in [0, 1] "
                "and gamma in [1, 2]; at g = 0 the rule takes p uniform, H_t = H_max, gamma = 1."),
    kind="inequality", facts=RepairFacts, gather=gather_repair, decide=decide_repair,
    derivations=SYMBOLIC, repair_of=ID, change="hypothesis",
    difference=("Hypotheses added: d >= 2 (at d = 1 H_max = log 1 = 0 and gamma = 2 - 0/0 is "
                "undefined; the core refuses it) and the documented reading of g = 0 (the paper's "
                "p = 0/0 is undefined there; the toolkit takes p uniform)."),
    controls=(
        Control("squared ratio",
                "gamma = 2 - (H/H_max)^2: H/H_max in [0, 1] gives gamma in [1, 2], 1 at H = "
                "H_max (equal magnitudes, g = 0) and 2 at H = 0 (one component)",
                PowerRule("2 - (H/H_max)^2", lambda h, hmax: 2 - (h / hmax) ** 2), "holds",
                "positive"),
        Control("power defined at d = 1",
                "gamma = 2 - H/(H_max + 1) stays in (1, 2] but never reaches 1: at equal "
                "magnitudes and at g = 0 it is 2 - log d/(log d + 1) > 1",
                POWER_ABOVE_ONE, "fails",
                "negative"),
        Control("unnormalised power",
                "gamma = 2 - H: at uniform gradients and at g = 0, 2 - log d < 1 for d >= 3",
                UNNORMALISED_POWER, "fails", "negative"),
    ))


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT, proof=Proof(PROOF),
    kind="inequality", facts=Facts, gather=gather_once, decide=decide, derivations=SYMBOLIC,
    title_tex=TITLE_TEX, statement_tex=STATEMENT_TEX,
    controls=(
        Control("power defined at d = 1",
                "gamma = 2 - H/(H_max + 1): 0 <= H <= H_max < H_max + 1 gives gamma in (1, 2] "
                "for every d, and gamma -> 2 along every path to d = 1 (H = H_max = 0)",
                POWER_ABOVE_ONE, "holds",
                "positive"),
        Control("unnormalised power",
                "gamma = 2 - H: at uniform gradients gamma = 2 - log d < 1 for d >= 3",
                UNNORMALISED_POWER, "fails", "negative"),
    ),
    repairs=(REPAIR,))
