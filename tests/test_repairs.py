"""Repairs (issue 14): derived claims ``<id>.r<n>`` stating what holds instead of a claim that
fails or holds only under conditions.

Over every repair in the registry: its structure, its controls (inputs whose verdict is known in
advance, through the same gather and decide path), and a quick gather of its own object that
determines every fact. Then each repair's rule on typed facts (every verdict it can give), and
the repaired statements against independently derived values: the tight entropy-gap bound
against brute force over spectra and the closed-form envelope, the effective memory against its
closed form, the operation ratios against the count by hand. And the proof verdicts of claims
whose proof is not in the source."""
import dataclasses
import itertools
from functools import cache

import numpy as np
import pytest

from claims import c1, dl1, dl2, eg1, g1, ln1, p1, p2
from claims.support.base import REPAIR_CHANGES, CheckConfig, Gathered, undetermined
from claims.support.registry import (
    all_repairs,
    get_claim,
    normalise_id,
    repair_ids,
)
from claims.support.repairs_common import unseen_proof_verdict

REPAIRS = [r.id for r in all_repairs()]
CONTROLS = [(rid, i) for rid in REPAIRS for i in range(len(get_claim(rid).controls))]
MUST_HOLD = ("P1.r1", "P1.r2", "P2.r1", "P2.r2", "EG1.r1", "G1.r1", "C1.r1", "DL1.r1", "DL2.r1",
             "LN1.r1")
"""The repairs of this task whose statement must hold of their own object (quick run)."""


@cache
def quick_run(rid: str):
    """``(gathered, verdict)`` of a repair's own object, quick, seed 0 (once per session)."""
    return get_claim(rid).run(CheckConfig(quick=True, seed=0))


def _gap_by_definition(eigenvalues) -> float:
    r""":math:`\log n + \sum_i p_i\log p_i`, :math:`p = \lambda/\sum\lambda` (the definition)."""
    lam = np.asarray(eigenvalues, dtype=float)
    p = lam / lam.sum()
    return float(np.log(lam.size) + np.sum(p * np.log(p)))


# ----------------------------------------------------------------------------- every repair

def test_the_required_repairs_exist():
    assert set(MUST_HOLD) <= set(REPAIRS)
    assert repair_ids("P1") == ("P1.r1", "P1.r2") and repair_ids("EG1") == ("EG1.r1",)
    assert normalise_id("eg1.R1") == "EG1.r1"
    assert get_claim("p2.r2") is p2.AS_WRITTEN_REPAIR


@pytest.mark.parametrize("rid", REPAIRS)
def test_repair_is_a_full_claim_with_a_difference(rid):
    repair = get_claim(rid)
    parent = get_claim(repair.repair_of)
    assert rid.startswith(parent.id + ".r") and repair in parent.repairs
    assert repair.change in REPAIR_CHANGES and len(repair.difference) > 40
    assert repair.statement != parent.statement and repair.title != parent.title
    assert dataclasses.is_dataclass(repair.facts)
    assert {c.role for c in repair.controls} == {"positive", "negative"}


@pytest.mark.parametrize("item", CONTROLS, ids=lambda item: f"{item[0]}-{item[1]}")
def test_repair_control_gets_its_known_verdict(item):
    rid, i = item
    repair = get_claim(rid)
    control = repair.controls[i]
    _, verdict = repair.run(CheckConfig(quick=True, seed=0, subject=control.subject))
    got = verdict.per_reading[control.reading] if control.reading else verdict.statement
    assert got == control.expected, (
        f"{rid} control {control.name!r} ({control.role}): expected {control.expected}, got "
        f"{got}: {verdict.statement_reason}")


@pytest.mark.parametrize("rid", MUST_HOLD)
def test_repair_holds_of_its_own_object_and_determines_its_facts(rid):
    repair = get_claim(rid)
    gathered, verdict = quick_run(rid)
    assert verdict.statement == "holds", verdict.statement_reason
    missing = set(undetermined(gathered.facts))
    assert missing <= set(repair.may_be_undetermined), sorted(missing)
    if repair.proof.status == "given":  # our own proof, checked step by step
        assert verdict.proof == "sound", verdict.proof_reason


# ----------------------------------------------------------------------------- proof verdicts

@pytest.mark.parametrize("statement, proof", [
    ("fails", "gap"), ("holds", "none"), ("conditional", "none"), ("undecided", "none")])
def test_unseen_proof_verdict(statement, proof):
    verdict, reason = unseen_proof_verdict(statement, "the seed is the abstract only",
                                           "something known")
    assert verdict == proof
    assert reason.startswith("gap, not located: the proof is not in the source"
                             if proof == "gap" else "not assessed: the proof is not in the source")
    assert "the seed is the abstract only" in reason and reason.endswith("something known")


@pytest.mark.parametrize("module", [eg1, dl1, dl2, ln1])
def test_companion_claims_say_their_proof_is_not_in_the_source(module):
    assert module.CLAIM.proof.status == "not_in_source"


# ----------------------------------------------------------------------------- EG1.r1

def test_eg1_tight_bound_is_the_maximum_over_a_dense_grid_of_spectra():
    """n = 3, 4: every spectrum on a grid of [1, k]^n (min 1 and max k pinned) has a gap at most
    B*, and the best of them comes within the grid's resolution of it (no vertex argument)."""
    for n, k in ((3, 2.0), (3, 50.0), (4, 1.5), (4, 20.0)):
        free = np.linspace(1.0, k, 41 if n == 4 else 401)
        spectra = np.array([(1.0, k, *rest) for rest in itertools.product(free, repeat=n - 2)])
        gaps = np.log(n) + np.sum(spectra / spectra.sum(1, keepdims=True)
                                  * np.log(spectra / spectra.sum(1, keepdims=True)), axis=1)
        bound = float(eg1.tight_bound(k, n))
        assert gaps.max() <= bound + 1e-12
        assert gaps.max() >= bound - 1e-12  # the grid contains the vertices


@pytest.mark.parametrize("n, k", [(2, 1.01), (5, 3.0), (17, 1e3), (60, 1.2), (300, 40.0)])
def test_eg1_tight_bound_against_every_vertex_by_definition(n, k):
    gaps = [_gap_by_definition(np.r_[np.ones(n - m), np.full(m, k)]) for m in range(1, n)]
    assert float(eg1.tight_bound(k, n)) == pytest.approx(max(gaps), abs=1e-13)
    assert _gap_by_definition(eg1.tight_spectrum(n, k)) == pytest.approx(max(gaps), abs=1e-13)


@pytest.mark.parametrize("k", [1.01, 2.0, 10.0, 1e3, 1e6])
def test_eg1_envelope_is_the_large_n_limit(k):
    r"""B*(n, k) <= D - 1 - log D with D = k log k/(k-1), computed here by hand, and B* tends
    to it as n grows (the vertex fractions m/n fill [0, 1])."""
    d = k * np.log(k) / (k - 1)
    envelope = d - 1 - np.log(d)
    for n in (2, 10, 100, 10_000):
        assert float(eg1.tight_bound(k, n)) <= envelope + 1e-12
    assert float(eg1.tight_bound(k, 10**7)) == pytest.approx(envelope, rel=1e-6, abs=1e-12)


def test_eg1_envelope_near_k_1_and_the_paper_middle_term():
    """Near k = 1 the envelope is (k-1)^2/8 (the best vertex, m = n/2, has curvature 1/8); the
    paper's B = g_1 equals B* at n = 2 (one vertex) and falls below it at n = 4, k near 1 (its
    curvature m(n-m)/(2n^2) is 3/32 < 1/8)."""
    u = 1e-3
    assert float(eg1.envelope_bound(1 + u, 1)) == pytest.approx(u**2 / 8, rel=2e-3)
    ks = np.array([1.01, 2.0, 10.0, 1e6])
    np.testing.assert_allclose(eg1.tight_bound(ks, 2), eg1.middle_bound(ks, 2), atol=1e-15)
    assert float(eg1.tight_bound(1.01, 4)) / float(eg1.middle_bound(1.01, 4)) == pytest.approx(
        4 / 3, rel=2e-2)


def test_eg1_repair_table_rows_attain_their_bound():
    gathered, _ = quick_run("EG1.r1")
    rows = next(e for e in gathered.evidence
                if e.name == "the bound and the spectrum that attains it").data["rows"]
    assert len(rows) >= 20
    assert min(r["n"] for r in rows) == 2 and max(r["n"] for r in rows) == 1000
    assert min(r["k"] for r in rows) == 1.01 and max(r["k"] for r in rows) == 1e6
    for row in rows:
        assert set(row) == {"n", "k", "bound", "spectrum"}
        lam = np.array(row["spectrum"])
        assert lam.size == row["n"] and lam.max() / lam.min() == pytest.approx(row["k"], rel=1e-14)
        assert abs(_gap_by_definition(lam) - row["bound"]) <= 1e-9


def test_eg1_repair_proves_its_steps_with_sympy():
    from proofs.entropy_gap_tight import derive

    results = derive().results
    assert all(item.status == "proved" and item.value is True for item in results.values())


TIGHT_OK = eg1.TightFacts(
    **dataclasses.asdict(dataclasses.replace(
        eg1.Facts(**{f.name: None for f in dataclasses.fields(eg1.Facts)}),
        ineq1_violated=False, ineq1_max_excess=1e-15, ineq1_vertex_max_excess=1e-15,
        ineq1_random_max_excess=-1e-3, ineq1_optimised_max_excess=1e-16,
        optimiser_over_vertex=0.0, ineq2_violated=False, ineq2_min_margin=0.04,
        outer_violated=False, outer_max_excess=-0.04, outer_max_gap_over_log_k=0.5,
        search_detects_wrong_bounds=True, lemma_tv_available=False)),
    tight_rows=24, tight_max_error=2e-15, spectra_condition_exact=True,
    table_search_max_excess=1e-16, matches_enumeration=True, below_envelope=True,
    symbolic_vertex_argument=True, symbolic_unimodal_maximiser=True, symbolic_envelope=True,
    middle_max_shortfall=0.4, middle_never_above=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"ineq1_violated": True, "ineq1_max_excess": 0.3}, "fails", "sound"),
    ({"table_search_max_excess": 1e-6}, "fails", "sound"),
    ({"tight_max_error": 1e-6}, "fails", "sound"),
    ({"spectra_condition_exact": False}, "fails", "sound"),
    ({"matches_enumeration": False}, "fails", "sound"),
    ({"ineq2_violated": True}, "fails", "sound"),
    ({"tight_max_error": None}, "undecided", "sound"),
    ({"search_detects_wrong_bounds": False}, "undecided", "sound"),
    ({"symbolic_unimodal_maximiser": None}, "holds", "gap"),
    ({"optimiser_over_vertex": 1e-3}, "holds", "gap"),
])
def test_eg1_repair_rule(change, statement, proof):
    verdict = eg1.decide_tight(Gathered(facts=dataclasses.replace(TIGHT_OK, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)


# ----------------------------------------------------------------------------- P1.r*, P2.r*

def _memory_by_hand(lambdas, u, K):
    w = np.exp(np.asarray(lambdas, dtype=float) * u)
    return float(w @ 2.0 ** np.arange(1, K + 1) / w.sum())


@pytest.mark.parametrize("rid, low_lambdas_u, high_lambdas_u", [
    ("P1.r1", 1, -1), ("P2.r1", 1, -1), ("P1.r2", 0, 1), ("P2.r2", 0, 1)])
def test_p_repairs_effect_size_against_the_closed_form(rid, low_lambdas_u, high_lambdas_u):
    """T(0), T(1) (tau = 1) of the repaired method (u = 1 - 2 Ht: u(0) = 1, u(1) = -1) and of the
    paper's (u = Ht), against sum_k e^(lambda_k u) 2^k / sum_k e^(lambda_k u) computed here."""
    gathered, _ = quick_run(rid)
    by_K = gathered.facts.memory_by_K
    for K, row in by_K.items():
        lam = np.arange(1, K + 1) / K
        assert row["T0"] == pytest.approx(_memory_by_hand(lam, low_lambdas_u, K), rel=1e-12)
        assert row["T1"] == pytest.approx(_memory_by_hand(lam, high_lambdas_u, K), rel=1e-12)
    if low_lambdas_u == 0:  # the paper's weights: uniform at Ht = 0
        assert all(row["T0"] == pytest.approx((2 ** (K + 1) - 2) / K) for K, row in by_K.items())


P1_OK = p1.RepairFacts(
    limit_uniform_symbolic=False, dT_dHt_sign="-", T_increasing_numeric=False,
    relative_favour_long_at_low=True, absolute_favour_long_at_low=True,
    mean_lag_low_exceeds_high=True, run_low_entropy_memory_below_high=False,
    logit_order_at_low="+", uniform_at_low_numeric=False,
    memory_by_K={2: {"T0": 3.2, "T1": 2.8, "T1_over_T0": 0.87}, 5: {"T0": 15.4, "T1": 9.7,
                                                                    "T1_over_T0": 0.63}},
    memory_matches_closed_form=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"absolute_favour_long_at_low": False, "logit_order_at_low": "0"}, "conditional", "gap"),
    ({"absolute_favour_long_at_low": False, "relative_favour_long_at_low": False,
      "limit_uniform_symbolic": True, "dT_dHt_sign": "+", "logit_order_at_low": "0"}, "fails",
     "gap"),
    ({"memory_matches_closed_form": False}, "fails", "sound"),
    ({"memory_matches_closed_form": None}, "undecided", "sound"),
    ({"dT_dHt_sign": None}, "undecided", "gap"),
])
def test_p1_method_repair_rule(change, statement, proof):
    verdict = p1.decide_method(Gathered(facts=dataclasses.replace(P1_OK, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)
    if verdict.statement == "holds":
        assert "T(0) = 15.400 -> T(1) = 9.700" in verdict.statement_reason


P1_AS_WRITTEN = dataclasses.replace(
    P1_OK, limit_uniform_symbolic=True, dT_dHt_sign="+", T_increasing_numeric=True,
    relative_favour_long_at_low=False, absolute_favour_long_at_low=False,
    mean_lag_low_exceeds_high=False, run_low_entropy_memory_below_high=True,
    logit_order_at_low="0", uniform_at_low_numeric=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"mean_lag_low_exceeds_high": True}, "conditional", "sound"),
    ({"uniform_at_low_numeric": False}, "fails", "sound"),
    ({"dT_dHt_sign": "-", "T_increasing_numeric": False}, "fails", "gap"),
    ({"memory_matches_closed_form": False}, "fails", "sound"),
    ({"limit_uniform_symbolic": None}, "undecided", "gap"),
])
def test_p1_as_written_repair_rule(change, statement, proof):
    verdict = p1.decide_as_written(Gathered(facts=dataclasses.replace(P1_AS_WRITTEN, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)


P2_OK = p2.RepairFacts(
    step_larger_lambda_larger_weight=False, step_dominate=False, max_ratio_alphaK_alpha1=True,
    step_larger_k_shorter_memory=False, relative_favour_short_at_high=True,
    absolute_favour_short_at_high=True, mean_lag_high_below_low=True,
    reversed_convention_would_hold=True, dT_dHt_sign="-", T_increasing_numeric=False,
    logit_order_at_high="-", long_levels_favoured_at_high=False,
    memory_by_K={5: {"T0": 15.4, "T1": 9.7, "T1_over_T0": 0.63}},
    memory_matches_closed_form=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"absolute_favour_short_at_high": False, "logit_order_at_high": "0"}, "conditional", "gap"),
    ({"absolute_favour_short_at_high": False, "relative_favour_short_at_high": False,
      "dT_dHt_sign": "+", "logit_order_at_high": "+"}, "fails", "gap"),
    ({"memory_matches_closed_form": False}, "fails", "sound"),
    ({"memory_matches_closed_form": None}, "undecided", "sound"),
])
def test_p2_method_repair_rule(change, statement, proof):
    verdict = p2.decide_method(Gathered(facts=dataclasses.replace(P2_OK, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)


P2_AS_WRITTEN = dataclasses.replace(
    P2_OK, step_larger_lambda_larger_weight=True, relative_favour_short_at_high=False,
    absolute_favour_short_at_high=False, mean_lag_high_below_low=False, dT_dHt_sign="+",
    T_increasing_numeric=True, logit_order_at_high="+", long_levels_favoured_at_high=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"mean_lag_high_below_low": True}, "conditional", "sound"),
    ({"step_larger_k_shorter_memory": True}, "fails", "gap"),
    ({"long_levels_favoured_at_high": False}, "fails", "sound"),
    ({"logit_order_at_high": "-", "long_levels_favoured_at_high": False, "dT_dHt_sign": "-",
      "T_increasing_numeric": False}, "fails", "gap"),
    ({"dT_dHt_sign": None}, "undecided", "gap"),
])
def test_p2_as_written_repair_rule(change, statement, proof):
    verdict = p2.decide_as_written(Gathered(facts=dataclasses.replace(P2_AS_WRITTEN, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)


# ----------------------------------------------------------------------------- G1.r1, C1.r1

G1_OK = g1.RepairFacts(samples_in_range=True, ends_attained=True, symbolic_range=[1, 2],
                       defined_at_d1=False, zero_gradient_in_range=True,
                       zero_gradient_gives_one=True, d1_refused=True)


@pytest.mark.parametrize("change, statement", [
    ({}, "holds"), ({"samples_in_range": False}, "fails"), ({"symbolic_range": [0, 2]}, "fails"),
    ({"ends_attained": False}, "fails"), ({"zero_gradient_gives_one": False}, "fails"),
    ({"zero_gradient_in_range": False}, "fails"), ({"symbolic_range": None}, "undecided"),
    ({"zero_gradient_gives_one": None}, "undecided"),
])
def test_g1_repair_rule(change, statement):
    verdict = g1.decide_repair(Gathered(facts=dataclasses.replace(G1_OK, **change)))
    assert verdict.statement == statement
    assert verdict.proof == ("sound" if statement == "holds" else verdict.proof)


def test_c1_repair_ratios_by_hand():
    """(5K + 12) d + 3K over 4d is (5K + 12)/4: 6.75, 8, 9.25; (K + 1)/2: 2, 2.5, 3."""
    ratios = c1.ops_ratios({"power": "5*K*d + 3*K + 12*d", "linear": "5*K*d + 3*K + 7*d"})
    assert [float(ratios["power"][K]) for K in (3, 4, 5)] == [6.75, 8.0, 9.25]
    assert [float(ratios["linear"][K]) for K in (3, 4, 5)] == [5.5, 6.75, 8.0]
    gathered, _ = quick_run("C1.r1")
    assert gathered.facts.bytes_ratio_by_K["power"] == {3: 2.0, 4: 2.5, 5: 3.0}
    assert set(gathered.measurements["time_ratio_to_heavy_ball"]) == {"power", "linear"}


C1_OK = c1.RepairFacts(
    symbolic_degree_d=1, symbolic_degree_K=1, symbolic_ratio_to_momentum={},
    written_exponent_d=1.0, written_exponent_K=1.0,
    ops_ratio_by_K={"power": {3: 6.75, 4: 8.0, 5: 9.25}}, ops_ratio_as_stated=True,
    bytes_ratio_by_K={"power": {3: 2.0, 4: 2.5, 5: 3.0}}, bytes_ratio_as_stated=True)


@pytest.mark.parametrize("change, statement", [
    ({}, "holds"), ({"symbolic_degree_K": 2}, "fails"), ({"ops_ratio_as_stated": False}, "fails"),
    ({"bytes_ratio_as_stated": False}, "fails"), ({"written_exponent_K": 0.5}, "conditional"),
    ({"ops_ratio_as_stated": None}, "undecided"), ({"symbolic_degree_d": None}, "undecided"),
])
def test_c1_repair_rule(change, statement):
    verdict = c1.decide_repair(Gathered(facts=dataclasses.replace(C1_OK, **change)))
    assert verdict.statement == statement


# ----------------------------------------------------------------------- DL1.r1, DL2.r1, LN1.r1

DL1_OK = dl1.Facts(ode_distance_exponent=1.0, ode_distance_decreasing=True,
                   ratio_at_largest_beta=0.015, ratio_at_smallest_beta=0.075,
                   smallest_beta_with_small_ratio=0.95, symbolic_limit_is_ode=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"ratio_at_smallest_beta": 0.3, "smallest_beta_with_small_ratio": 0.98}, "conditional",
     "sound"),
    ({"ode_distance_exponent": -0.5}, "fails", "gap"),
    ({"ode_distance_exponent": None}, "undecided", "gap"),
    ({"symbolic_limit_is_ode": None}, "holds", "gap"),
])
def test_dl1_repair_rule(change, statement, proof):
    verdict = dl1.decide_repair(Gathered(facts=dataclasses.replace(DL1_OK, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)


DL2_OK = dl2.Facts(
    all_converged=True, spearman_l1=1.0, spearman_error=0.8, l1_relative_increase=0.1,
    gf_limit_l1=3.2, gf_limit_sparser_than_all=True, spearman_distance_to_gf_limit=1.0,
    spearman_effective_alpha=0.4, emc_converged=True, emc_inside_grid=True,
    emc_max_log_gap_level_1=0.7, emc_max_log_gap_level_3=0.9,
    emc_max_log_gap_arithmetic_mean=0.5, emc_max_log_gap_harmonic_mean=0.2)


@pytest.mark.parametrize("change, statement", [
    ({}, "holds"), ({"spearman_error": -1.0}, "holds"), ({"spearman_l1": 0.2}, "fails"),
    ({"spearman_l1": 0.7}, "undecided"), ({"all_converged": False}, "undecided"),
    ({"spearman_l1": None}, "undecided"),
])
def test_dl2_repair_rule(change, statement):
    verdict = dl2.decide_repair(Gathered(facts=dataclasses.replace(DL2_OK, **change)))
    assert verdict.statement == statement and verdict.proof == "none"


LN1_OK = ln1.Facts(
    sign_quadrature_matches_closed_form=True, two_quadratures_agree=True,
    tanh_information_equals_x=True, information_tanh_exceeds_sign=True,
    information_sign_exceeds_tanh_somewhere=False, information_gap_min=1e-6,
    information_gap_max=0.085, information_gap_argmax_snr=1.3,
    information_gap_at_smallest_snr=4e-4, information_gap_at_largest_snr=1e-6,
    small_snr_ratio_sign_to_x=0.637, posterior_mean_is_tanh_symbolic=True,
    jacobian_cancels_symbolic=True, tanh_1_wins=5, tanh_1_losses=0, tanh_10_wins=4,
    tanh_10_losses=1, tanh_100_wins=2, tanh_100_losses=0, problems_compared=5,
    tuned_lr_at_grid_edge=2, some_scale_wins_majority_without_loss=True,
    some_scale_net_positive=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "holds", "sound"),
    ({"tanh_information_equals_x": False}, "fails", "sound"),
    ({"jacobian_cancels_symbolic": None}, "undecided", "gap"),
    ({"some_scale_wins_majority_without_loss": False}, "conditional", "sound"),
    ({"information_sign_exceeds_tanh_somewhere": True,
      "information_tanh_exceeds_sign": False}, "fails", "gap"),
])
def test_ln1_repair_rule(change, statement, proof):
    verdict = ln1.decide_repair(Gathered(facts=dataclasses.replace(LN1_OK, **change)))
    assert (verdict.statement, verdict.proof) == (statement, proof)


def test_memoised_gather_computes_once_and_hands_out_fresh_containers():
    from claims.support.repairs_common import memoised

    calls = []

    def gather(config):
        calls.append(config)
        return Gathered(facts=G1_OK, evidence=["e"], parameters={"a": 1})

    remembered = memoised(gather, size=1)
    first = remembered(CheckConfig(quick=True))
    first.evidence.append("changed")
    first.parameters["b"] = 2
    second = remembered(CheckConfig(quick=True))
    assert len(calls) == 1 and second.evidence == ["e"] and second.parameters == {"a": 1}
    remembered(CheckConfig(quick=True, seed=1))
    remembered(CheckConfig(quick=True))  # evicted by the seed-1 config: computed again
    assert len(calls) == 3
    remembered(CheckConfig(quick=True, subject={"unhashable": 1}))
    remembered(CheckConfig(quick=True, subject={"unhashable": 1}))
    assert len(calls) == 5
