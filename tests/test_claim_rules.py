"""Verdict rules of the EMC claims (E1, M1, G1, P1, P2, C1, C2) on constructed, typed evidence:
every verdict value each rule can give is reached, and a wrong input lands on the wrong side."""
import dataclasses

import pytest

from claims import c1, c2, e1, g1, m1, p1, p2
from claims.support.base import Gathered, Verdict, combine_readings


def gathered(facts, per_reading=None):
    return Gathered(facts, per_reading=dict(per_reading or {}))


E1_OK = e1.ReadingFacts(never_above_log_d=True, never_below_zero=True, uniform_attains_log_d=True,
                        one_hot_attains_zero=True, m_equal_components_give_log_m=True)
E1_SYM = e1.Facts(symbolic_max_log_d_at_uniform=True, symbolic_min_zero_at_vertex=True,
                  zero_gradient_rule="rule")


def _e1(change):
    return dataclasses.replace(E1_OK, **change)


@pytest.mark.parametrize("facts, per_reading, expected, per", [
    (E1_SYM, {"l2": E1_OK, "l1": E1_OK}, "holds", {"l2": "holds", "l1": "holds"}),
    (E1_SYM, {"l2": E1_OK, "l1": _e1({"never_above_log_d": False})}, "fails",
     {"l2": "holds", "l1": "fails"}),
    (E1_SYM, {"l2": _e1({"never_below_zero": False}), "l1": E1_OK}, "fails",
     {"l2": "fails", "l1": "holds"}),
    (E1_SYM, {"l2": _e1({"one_hot_attains_zero": False}), "l1": E1_OK}, "fails",
     {"l2": "fails", "l1": "holds"}),
    (E1_SYM, {"l2": _e1({"uniform_attains_log_d": False}), "l1": E1_OK}, "fails",
     {"l2": "fails", "l1": "holds"}),
    (dataclasses.replace(E1_SYM, symbolic_min_zero_at_vertex=None), {"l2": E1_OK}, "undecided",
     {"l2": "holds"}),
    (dataclasses.replace(E1_SYM, symbolic_max_log_d_at_uniform=False), {"l2": E1_OK},
     "undecided", {"l2": "holds"}),
])
def test_e1_rule(facts, per_reading, expected, per):
    v = e1.decide(gathered(facts, per_reading))
    assert v.statement == expected and v.proof == "none" and v.per_reading == per


def test_e1_rule_reads_typed_facts():
    with pytest.raises(TypeError):
        e1.ReadingFacts(never_above_log_d=True, never_below_zero=True,
                        uniform_attains_log_d=True, one_hot_attains_zero=True,
                        m_equal_components_give_log_m=True, misspelt=True)


M1_OK = m1.Facts(timescales_equal_2_pow_k=True, geometric_growth_factor_2=True,
                 mean_lag_matches=True, symbolic_timescale_2_pow_k=True)


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"), ({"geometric_growth_factor_2": False}, "fails"),
    ({"timescales_equal_2_pow_k": False}, "fails"), ({"mean_lag_matches": False}, "fails"),
    ({"symbolic_timescale_2_pow_k": None}, "undecided"),
])
def test_m1_rule(change, expected):
    assert m1.decide(gathered(dataclasses.replace(M1_OK, **change))).statement == expected


G1_OK = g1.Facts(samples_in_range=True, ends_attained=True, symbolic_range=[1, 2],
                 defined_at_d1=False)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "conditional", "gap"),
    ({"defined_at_d1": True}, "holds", "sound"),
    ({"samples_in_range": False}, "fails", "gap"),
    ({"symbolic_range": [0, 2]}, "fails", "gap"),
    ({"symbolic_range": None}, "undecided", "gap"),
    ({"defined_at_d1": None}, "undecided", "gap"),
])
def test_g1_rule(change, statement, proof):
    v = g1.decide(gathered(dataclasses.replace(G1_OK, **change)))
    assert (v.statement, v.proof) == (statement, proof)
    if statement == "conditional":
        assert any("d >= 2" in c for c in v.conditions)


C1_OK = c1.Facts(symbolic_degree_d=1, symbolic_degree_K=1,
                 symbolic_ratio_to_momentum={"power": {"3": 6.75, "5": 9.25},
                                             "linear": {"3": 5.5, "5": 8.0}},
                 written_exponent_d=1.0, written_exponent_K=1.0)


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"), ({"symbolic_degree_K": 2}, "fails"), ({"written_exponent_d": 1.3}, "fails"),
    ({"written_exponent_K": 0.5}, "conditional"), ({"symbolic_degree_d": None}, "undecided"),
])
def test_c1_rule(change, expected):
    assert c1.decide(gathered(dataclasses.replace(C1_OK, **change))).statement == expected


def test_c1_reports_the_overhead_in_the_reason_not_as_a_condition():
    """The operation-count ratios are a result: in the reason, as text; the condition says only
    that 'modest' has no threshold."""
    verdict = c1.decide(gathered(C1_OK))
    assert "power 6.75/9.25 at K = 3/5, linear 5.5/8 at K = 3/5" in verdict.statement_reason
    assert len(verdict.conditions) == 1 and "no threshold" in verdict.conditions[0]
    assert not any(ch in verdict.conditions[0] for ch in "{}")
    missing = c1.decide(gathered(dataclasses.replace(C1_OK, symbolic_ratio_to_momentum=None)))
    assert "relative to heavy ball" not in missing.statement_reason


@pytest.mark.parametrize("ratio, extra, expected", [
    (True, 3.0, "holds"), (True, 20.0, "conditional"), (False, 3.0, "fails"),
])
def test_c2_rule(ratio, extra, expected):
    facts = c2.Facts(state_ratio_is_K=ratio, step_extra_in_d_floats=extra)
    assert c2.decide(gathered(facts)).statement == expected


P1_BASE = p1.Facts(limit_uniform_symbolic=True, dT_dHt_sign="+", T_increasing_numeric=True,
                   relative_favour_long_at_low=False, absolute_favour_long_at_low=False,
                   mean_lag_low_exceeds_high=False, run_low_entropy_memory_below_high=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "fails", "mismatch"),
    ({"relative_favour_long_at_low": True}, "conditional", "mismatch"),
    ({"absolute_favour_long_at_low": True}, "conditional", "sound"),
    ({"relative_favour_long_at_low": True, "absolute_favour_long_at_low": True}, "holds", "sound"),
    ({"limit_uniform_symbolic": False}, "fails", "gap"),
    ({"dT_dHt_sign": None}, "undecided", "gap"),
    ({"limit_uniform_symbolic": None}, "undecided", "gap"),
])
def test_p1_rule(change, statement, proof):
    v = p1.decide(gathered(dataclasses.replace(P1_BASE, **change)))
    assert (v.statement, v.proof) == (statement, proof)


def test_p1_fails_reason_names_the_minimum_only_when_dT_is_positive():
    paper = p1.decide(gathered(P1_BASE))
    flat = p1.decide(gathered(dataclasses.replace(P1_BASE, dT_dHt_sign="0")))
    assert "at its minimum" in paper.statement_reason
    assert flat.statement == "fails" and "minimum" not in flat.statement_reason


P2_BASE = p2.Facts(step_larger_lambda_larger_weight=True, step_dominate=False,
                   max_ratio_alphaK_alpha1=True, step_larger_k_shorter_memory=False,
                   relative_favour_short_at_high=False, absolute_favour_short_at_high=False,
                   mean_lag_high_below_low=False, reversed_convention_would_hold=True)


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "fails", "gap"),
    ({"relative_favour_short_at_high": True}, "conditional", "gap"),
    ({"relative_favour_short_at_high": True, "absolute_favour_short_at_high": True,
      "step_dominate": True, "step_larger_k_shorter_memory": True}, "holds", "sound"),
    ({"step_dominate": True, "step_larger_k_shorter_memory": True}, "fails", "mismatch"),
    ({"step_larger_k_shorter_memory": None}, "undecided", "gap"),
    ({"step_larger_lambda_larger_weight": None}, "undecided", "gap"),
])
def test_p2_rule(change, statement, proof):
    v = p2.decide(gathered(dataclasses.replace(P2_BASE, **change)))
    assert (v.statement, v.proof) == (statement, proof)
    if proof == "gap" and statement == "fails":
        assert "larger k means shorter memory" in v.proof_reason


def test_p2_conditions_name_the_reversed_convention_only_when_it_would_hold():
    with_it = p2.decide(gathered(P2_BASE))
    without = p2.decide(gathered(dataclasses.replace(P2_BASE,
                                                     reversed_convention_would_hold=False)))
    assert any("2^(K+1-k)" in c for c in with_it.conditions)
    assert not any("2^(K+1-k)" in c for c in without.conditions)
    uniform = p2.decide(gathered(dataclasses.replace(P2_BASE,
                                                     step_larger_lambda_larger_weight=False)))
    assert "favour the long levels" in with_it.statement_reason
    assert uniform.statement == "fails" and "long levels" not in uniform.statement_reason


@pytest.mark.parametrize("per, expected", [
    ({"a": "holds", "b": "holds"}, "holds"), ({"a": "fails", "b": "fails"}, "fails"),
    ({"a": "holds", "b": "fails"}, "conditional"), ({"a": "holds", "b": "undecided"}, "undecided"),
    ({"a": "fails", "b": "undecided"}, "conditional"),
])
def test_combine_readings(per, expected):
    assert combine_readings(per) == expected


def test_verdict_rejects_unknown_values():
    with pytest.raises(ValueError, match="statement verdict"):
        Verdict("maybe", "none", "", "")
    with pytest.raises(ValueError, match="proof verdict"):
        Verdict("holds", "fine", "", "")
