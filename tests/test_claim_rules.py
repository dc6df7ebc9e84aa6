"""Verdict rules of the EMC claims on constructed evidence: every verdict value each rule can give
is reached, and a wrong input lands on the wrong side."""
import pytest

from claims import c1, c2, e1, g1, m1, n1, p1, p2
from claims.base import Findings, Verdict, combine_readings


def findings(facts=None, per_reading=None):
    return Findings(facts=dict(facts or {}), per_reading=dict(per_reading or {}))


E1_OK = {"never_above_log_d": True, "never_below_zero": True, "uniform_attains_log_d": True,
         "one_hot_attains_zero": True, "m_equal_components_give_log_m": True}
E1_SYM = {"symbolic_max_log_d_at_uniform": True, "symbolic_min_zero_at_vertex": True}


@pytest.mark.parametrize("facts, per_reading, expected", [
    (E1_SYM, {"l2": E1_OK, "l1": E1_OK}, "holds"),
    (E1_SYM, {"l2": E1_OK, "l1": {**E1_OK, "never_above_log_d": False}}, "fails"),
    (E1_SYM, {"l2": {**E1_OK, "one_hot_attains_zero": False}, "l1": E1_OK}, "fails"),
    ({**E1_SYM, "symbolic_min_zero_at_vertex": None}, {"l2": E1_OK}, "undecided"),
])
def test_e1_rule(facts, per_reading, expected):
    v = e1.decide(findings(facts, per_reading))
    assert v.statement == expected and v.proof == "none"


M1_OK = {"timescales_equal_2_pow_k": True, "geometric_growth_factor_2": True,
         "mean_lag_matches": True, "symbolic_timescale_2_pow_k": True}


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"), ({"geometric_growth_factor_2": False}, "fails"),
    ({"symbolic_timescale_2_pow_k": None}, "undecided"),
])
def test_m1_rule(change, expected):
    assert m1.decide(findings({**M1_OK, **change})).statement == expected


G1_OK = {"samples_in_range": True, "ends_attained": True, "symbolic_range": [1, 2],
         "defined_at_d1": False}


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "conditional", "gap"),
    ({"defined_at_d1": True}, "holds", "sound"),
    ({"samples_in_range": False}, "fails", "gap"),
    ({"symbolic_range": [0, 2]}, "fails", "gap"),
    ({"symbolic_range": None}, "undecided", "gap"),
])
def test_g1_rule(change, statement, proof):
    v = g1.decide(findings({**G1_OK, **change}))
    assert (v.statement, v.proof) == (statement, proof)
    if statement == "conditional":
        assert any("d >= 2" in c for c in v.conditions)


C1_OK = {"symbolic_degree_d": 1, "symbolic_degree_K": 1, "symbolic_ratio_to_momentum": "x",
         "written_exponent_d": 1.0, "written_exponent_K": 1.0}


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"), ({"symbolic_degree_K": 2}, "fails"), ({"written_exponent_d": 1.3}, "fails"),
    ({"written_exponent_K": 0.5}, "conditional"), ({"symbolic_degree_d": None}, "undecided"),
])
def test_c1_rule(change, expected):
    assert c1.decide(findings({**C1_OK, **change})).statement == expected


@pytest.mark.parametrize("facts, expected", [
    ({"state_ratio_is_K": True, "step_extra_in_d_floats": 3.0}, "holds"),
    ({"state_ratio_is_K": True, "step_extra_in_d_floats": 20.0}, "conditional"),
    ({"state_ratio_is_K": False, "step_extra_in_d_floats": 3.0}, "fails"),
])
def test_c2_rule(facts, expected):
    assert c2.decide(findings(facts)).statement == expected


def _n1(power, root):
    return findings({}, {"power": {"unstable_settings": power}, "root": {"unstable_settings": root}})


@pytest.mark.parametrize("power, root, statement, per", [
    (3, 0, "holds", {"power": "holds", "root": "undecided"}),
    (0, 2, "holds", {"power": "undecided", "root": "holds"}),
    (0, 0, "undecided", {"power": "undecided", "root": "undecided"}),
])
def test_n1_rule(power, root, statement, per):
    v = n1.decide(_n1(power, root))
    assert v.statement == statement and v.per_reading == per


P1_BASE = {"limit_uniform_symbolic": True, "dT_dHt_sign": "+",
           "relative_favour_long_at_low": False, "absolute_favour_long_at_low": False}


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "fails", "mismatch"),
    ({"relative_favour_long_at_low": True}, "conditional", "mismatch"),
    ({"relative_favour_long_at_low": True, "absolute_favour_long_at_low": True}, "holds", "sound"),
    ({"limit_uniform_symbolic": False}, "fails", "gap"),
    ({"dT_dHt_sign": None}, "undecided", "gap"),
])
def test_p1_rule(change, statement, proof):
    v = p1.decide(findings({**P1_BASE, **change}))
    assert (v.statement, v.proof) == (statement, proof)


P2_BASE = {"step_larger_lambda_larger_weight": True, "step_dominate": False,
           "step_larger_k_shorter_memory": False, "relative_favour_short_at_high": False,
           "absolute_favour_short_at_high": False, "reversed_convention_would_hold": True}


@pytest.mark.parametrize("change, statement, proof", [
    ({}, "fails", "gap"),
    ({"relative_favour_short_at_high": True}, "conditional", "gap"),
    ({"relative_favour_short_at_high": True, "absolute_favour_short_at_high": True,
      "step_dominate": True, "step_larger_k_shorter_memory": True}, "holds", "sound"),
    ({"step_dominate": True, "step_larger_k_shorter_memory": True}, "fails", "mismatch"),
    ({"step_larger_k_shorter_memory": None}, "undecided", "gap"),
])
def test_p2_rule(change, statement, proof):
    v = p2.decide(findings({**P2_BASE, **change}))
    assert (v.statement, v.proof) == (statement, proof)
    if proof == "gap" and statement == "fails":
        assert "larger k means shorter memory" in v.proof_reason


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
