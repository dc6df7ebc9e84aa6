"""Pieces shared by the repairs (derived claims ``<id>.r<n>``: what holds instead) and by the
proof verdicts of claims whose proof is published but not in the source we have.

**Proof verdicts that say what is known.** A claim's :class:`~claims.support.base.Proof` has
status ``"none"`` when the paper gives no proof and ``"not_in_source"`` when a proof is published
(the companion papers of Tan & Huang and Papazov, Pesme & Flammarion) but the seed we read does
not contain it. For the latter, :func:`unseen_proof_verdict` gives the proof verdict from the
statement verdict: a false statement means the proof that claims it must be flawed, so the
verdict is *gap*, reason "gap, not located: the proof is not in the source"; otherwise the proof
is not assessed (*none*), and the reason says what is known about it.

**Repairs.** :func:`repair_gathered` turns the evidence the parent claim's own ``gather`` found
for a repair's subject into the repair's typed facts (the parent's facts plus the repair's own),
so the parent's rule machinery reads them unchanged.
"""
from __future__ import annotations

import dataclasses
import functools
from collections import OrderedDict
from typing import Optional

from .base import Gathered, Verdict

NOT_IN_SOURCE = "the proof is not in the source"
GAP_NOT_LOCATED = f"gap, not located: {NOT_IN_SOURCE}"


def unseen_proof_verdict(statement: str, source_note: str,
                         known: Optional[str] = None) -> tuple:
    """``(proof verdict, reason)`` for a claim whose proof is published but not in the source.

    ``statement``: the statement verdict; ``source_note``: what the seed holds instead of the
    proof (e.g. "the seed is the abstract only"); ``known``: what the checks say about any proof
    of the statement (e.g. the hypothesis under which it holds), added to the reason."""
    if statement == "fails":
        verdict = "gap"
        reason = (f"{GAP_NOT_LOCATED} ({source_note}); the statement is false, so the published "
                  "proof has a gap (or a hypothesis the statement omits) that cannot be located "
                  "without its text")
    else:
        verdict = "none"
        reason = f"not assessed: {NOT_IN_SOURCE} ({source_note})"
    if known:
        reason += f"; what is known: {known}"
    return verdict, reason


def repair_gathered(facts_type, inner: Gathered, extra: dict, evidence=(),
                    parameters: Optional[dict] = None, keep_counterexamples: bool = True):
    """The repair's :class:`Gathered`: ``facts_type`` (a subclass of the parent's facts) built
    from the parent's facts ``inner.facts`` and the repair's ``extra`` facts; the parent's
    evidence followed by ``evidence``; its parameters updated by ``parameters``; its
    counterexamples kept when ``keep_counterexamples`` (they contradict the repaired statement
    too), else dropped (they are about the paper's object, which the repair does not claim)."""
    base = {f.name: getattr(inner.facts, f.name) for f in dataclasses.fields(inner.facts)}
    return Gathered(
        facts=facts_type(**base, **extra),
        evidence=list(inner.evidence) + list(evidence),
        counterexamples=list(inner.counterexamples) if keep_counterexamples else [],
        parameters={**inner.parameters, **(parameters or {})},
        measurements=dict(inner.measurements))


def proof_from_steps(steps) -> tuple:
    """``(verdict, reason)`` of a repair's own proof from its steps ``[(name, ok)]``: *sound*
    when every step is established (True), *gap* naming the steps that are false or not
    established (None)."""
    failing = [name for name, ok in steps if ok is not True]
    if not failing:
        return "sound", "every step holds: " + "; ".join(name for name, _ in steps)
    return "gap", "steps not established: " + "; ".join(failing)


def with_proof(verdict: Verdict, steps) -> Verdict:
    """``verdict`` with its proof verdict and reason replaced by those of ``steps``."""
    proof, reason = proof_from_steps(steps)
    return dataclasses.replace(verdict, proof=proof, proof_reason=reason)


def memoised(gather, size: int = 4):
    """``gather`` remembering its last ``size`` results by config, so that a repair reading the
    same evidence as its parent (run right after it) does not compute it twice. Each call gets
    fresh lists and dicts around the shared (frozen) facts and evidence items."""
    cache: OrderedDict = OrderedDict()

    @functools.wraps(gather)
    def remembered(config):
        try:
            hash(config)
        except TypeError:  # a subject that cannot be a key: compute
            return gather(config)
        if config not in cache:
            cache[config] = gather(config)
            while len(cache) > size:
                cache.popitem(last=False)
        g = cache[config]
        return dataclasses.replace(g, per_reading=dict(g.per_reading), evidence=list(g.evidence),
                                   counterexamples=list(g.counterexamples),
                                   parameters=dict(g.parameters),
                                   measurements=dict(g.measurements))
    return remembered
