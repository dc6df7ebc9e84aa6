"""Theorem 1's repairs: T1.r1 (the theorem as it holds, per reading) and T1.r2 (the power
reading clipped at the linear update), their controls, and the clip option of the core."""
from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest

from claims import t1
from claims.support import t1_grid
from claims.support.base import CheckConfig, undetermined
from claims.support.registry import get_claim
from claims.support.t1_repairs import AS_IT_HOLDS, Clause, Statement, clause_parts
from emc_theory.emc import EMC
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.replay import replay

QUICK = CheckConfig(quick=True, seed=0)


@pytest.fixture(scope="module")
def r1_run():
    return get_claim("T1.r1").run(QUICK)


@pytest.fixture(scope="module")
def r2_run():
    return get_claim("T1.r2").run(QUICK)


def test_repairs_are_registered_with_their_change():
    r1, r2 = get_claim("T1").repairs
    assert (r1.id, r1.change, r1.repair_of) == ("T1.r1", "statement", "T1")
    assert (r2.id, r2.change, r2.repair_of) == ("T1.r2", "method", "T1")
    assert get_claim("t1.r2") is r2


@pytest.mark.parametrize("rid", ["T1.r1", "T1.r2"])
def test_controls_give_their_expected_verdicts(rid):
    claim = get_claim(rid)
    roles = {c.role for c in claim.controls}
    assert roles == {"positive", "negative"}
    for control in claim.controls:
        _, verdict = claim.run(QUICK.with_subject(control.subject))
        got = verdict.per_reading[control.reading] if control.reading else verdict.statement
        assert got == control.expected, (control.name, verdict.statement_reason)


def test_r1_holds_with_every_fact_established(r1_run):
    g, v = r1_run
    assert v.statement == "holds" and v.proof == "sound"
    assert v.per_reading == {"power": "holds", "root": "holds", "linear": "holds"}
    allowed = get_claim("T1.r1").may_be_undetermined
    assert set(undetermined(g.facts)) <= allowed
    assert all(not undetermined(f) for f in g.per_reading.values())


def test_r1_reads_the_parents_evidence_gathered_once(r1_run):
    """The repair's per-reading facts are T1's own (the memoised gather), not recomputed."""
    g, _ = r1_run
    parent = t1.gather_once(QUICK)
    assert g.per_reading == parent.per_reading
    assert [e.name for e in g.evidence] == [e.name for e in parent.evidence]


def test_r1_a_clause_saying_nothing_is_undecided(r1_run):
    claim = get_claim("T1.r1")
    silent = Statement("power clause empty", (Clause("power"),) + AS_IT_HOLDS.clauses[1:])
    _, v = claim.run(QUICK.with_subject(silent))
    assert v.per_reading["power"] == "undecided" and v.statement == "undecided"


def test_r1_missing_reading_fact_leaves_the_clause_open(r1_run):
    g, _ = r1_run
    f = dataclasses.replace(g.per_reading["root"], certificates=None)
    parts = clause_parts(t1, dataclasses.asdict(AS_IT_HOLDS.clauses[1]), f, t1.SCHEDULE_CLASSES)
    assert [s for _, s, _ in parts] == ["open"]
    g2 = dataclasses.replace(g, per_reading={**g.per_reading, "root": f})
    v = get_claim("T1.r1").decide(g2)
    assert v.per_reading["root"] == "undecided" and v.statement == "undecided"


def test_r1_wrong_subject_type_is_a_type_error():
    with pytest.raises(TypeError, match="Statement"):
        get_claim("T1.r1").gather(QUICK.with_subject(t1.gd_constant(1.0)))
    with pytest.raises(ValueError, match="holds_for"):
        Clause("root", holds_for=("sometimes",))


def test_r2_rule_path_and_facts(r2_run):
    g, v = r2_run
    assert set(g.per_reading) == {"power"}
    assert not undetermined(g.facts) and not undetermined(g.per_reading["power"])
    assert g.facts.update_bounded_by_linear is True
    # T1's rule never decides 'holds' from numerics alone, and nothing refutes the clipped
    # method: no replayed counterexample, so not 'fails'
    assert v.statement in ("undecided", "holds")
    assert not g.per_reading["power"].counterexamples
    assert v.proof == "gap"   # no descent certificate for the clipped update


def test_r2_paper_divergence_record_does_not_diverge_clipped(r2_run):
    g, _ = r2_run
    rec = g.facts.paper_counterexample_clipped
    assert rec["recorded"] == rec["replayed"] == "diverged"
    assert rec["clipped"] not in FAILED_STATUSES
    assert np.isfinite(rec["clipped_final_grad_norm"])


def test_r2_search_finds_no_divergence_where_the_power_reading_has_one():
    """Same search (start, schedule, steps) as T1's power reading: the unclipped method has a
    start from which every candidate run diverges; clipped, the search finds none, and the very
    start and schedule of the power reading's counterexample do not diverge."""
    p = t1.plan(QUICK)
    power = dataclasses.replace(t1.EMC_SUBJECT, name="EMC power", readings=("power",))
    clipped = dataclasses.replace(power, hyper=(("clip", True),))
    found = t1_grid.search(power, "power", p["search"], p, 0)
    assert found["failing"]
    spec = copy.deepcopy(found["spec"])
    assert str(replay(spec, history=False).status) in FAILED_STATUSES
    spec["optimizer"]["clip"] = True
    assert str(replay(spec, history=False).status) not in FAILED_STATUSES
    assert not t1_grid.search(clipped, "power", p["search"], p, 0)["failing"]


# ----------------------------------------------------------------------------- the core option


def test_clip_default_is_off_and_validated():
    assert EMC().clip is False and "clip" not in EMC().describe()
    assert EMC(clip=True).describe()["clip"] is True
    with pytest.raises(TypeError, match="clip"):
        EMC(clip=1)
    with pytest.raises(TypeError, match="clip"):
        EMC(clip="yes")


def test_clipped_update_against_closed_form():
    """One step from zero momenta: m~ = sum_k alpha_k (1 - beta_k) g (alpha, gamma from the
    diagnostics); h = sign(m~) min(|m~|^gamma, |m~|), computed here in closed form."""
    rng = np.random.default_rng(3)
    g = rng.standard_normal((5, 4)) * 10.0 ** rng.uniform(-3, 3, (5, 4))
    opt = EMC(K=3, lr=0.5, reading="power", clip=True)
    upd, _, diag = opt.update_with_diagnostics(g, opt.init(np.zeros_like(g)))
    betas = 1 - 2.0 ** -np.arange(1, 4)        # beta_k = 1 - 2^-k (timescale 2^k)
    m = (diag.weights * (1 - betas)).sum(axis=1, keepdims=True) * g
    gamma = diag.gamma[:, None]
    expected = -0.5 * np.sign(m) * np.minimum(np.abs(m) ** gamma, np.abs(m))
    np.testing.assert_allclose(upd, expected, rtol=1e-12)
    # the linear reading is unchanged by the clip
    lin = EMC(K=3, lr=0.5, reading="linear")
    lin_c = EMC(K=3, lr=0.5, reading="linear", clip=True)
    z = np.zeros_like(g)
    np.testing.assert_array_equal(lin.update(g, lin.init(z))[0], lin_c.update(g, lin_c.init(z))[0])


def test_clip_off_is_bit_identical_to_default():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((3, 7))
    a, b = EMC(K=4, reading="power"), EMC(K=4, reading="power", clip=False)
    sa, sb = a.init(np.zeros_like(g)), b.init(np.zeros_like(g))
    for _ in range(5):
        ua, sa = a.update(g, sa)
        ub, sb = b.update(g, sb)
        assert np.array_equal(ua, ub)
