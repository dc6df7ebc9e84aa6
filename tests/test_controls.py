"""The claim contract over the whole registry: every claim is a :class:`Claim` with typed facts,
its controls (inputs whose verdict is known in advance) get their known verdicts through the same
gather and decide path as the paper's object, and a quick gather leaves no fact undetermined
unless the claim declares that it may."""
import dataclasses

import pytest

from claims.support.base import CheckConfig, Claim, Gathered, undetermined
from claims.support.registry import CLAIM_IDS, UnknownClaimError, get_claim

CONTROLS = [(cid, i) for cid in CLAIM_IDS for i in range(len(get_claim(cid).controls))]


def _control_id(item):
    cid, i = item
    return f"{cid}-{get_claim(cid).controls[i].name}"


@pytest.mark.parametrize("cid", CLAIM_IDS)
def test_registry_holds_one_claim_object_per_id(cid):
    claim = get_claim(cid)
    assert isinstance(claim, Claim) and claim.id == cid
    assert dataclasses.is_dataclass(claim.facts)
    roles = [c.role for c in claim.controls]
    assert "positive" in roles and "negative" in roles


def test_unknown_claim_is_a_clear_error():
    with pytest.raises(UnknownClaimError, match="unknown claim id 'T9'"):
        get_claim("T9")


def test_facts_are_typed():
    claim = get_claim("P1")
    fields = [f.name for f in dataclasses.fields(claim.facts)]
    with pytest.raises(TypeError):
        claim.facts(**{f: None for f in fields}, misspelt_fact=True)
    with pytest.raises(TypeError):
        Gathered(facts={"a": 1})


@pytest.mark.parametrize("item", CONTROLS, ids=_control_id)
def test_control_gets_its_known_verdict(item):
    cid, i = item
    claim = get_claim(cid)
    control = claim.controls[i]
    gathered, verdict = claim.run(CheckConfig(quick=True, seed=0, subject=control.subject))
    got = verdict.per_reading[control.reading] if control.reading else verdict.statement
    assert got == control.expected, (
        f"{cid} control {control.name!r} ({control.role}): expected {control.expected}, got "
        f"{got}: {verdict.statement_reason}")


@pytest.mark.parametrize("cid", CLAIM_IDS)
def test_quick_gather_determines_every_fact(cid):
    claim = get_claim(cid)
    gathered = claim.check_gathered(claim.gather(CheckConfig(quick=True, seed=0)))
    missing = set(undetermined(gathered.facts))
    for reading, facts in gathered.per_reading.items():
        missing |= {f"{reading}.{name}" for name in undetermined(facts)}
    assert missing <= set(claim.may_be_undetermined), (
        f"{cid}: facts left undetermined by a quick gather: {sorted(missing)}")
