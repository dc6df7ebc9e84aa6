"""The subjects of the EMC claims' controls, checked against independent values: the symbolic facts
of :mod:`proofs.subject_formulas` reproduce the paper's derivations on the paper's formulas, the
control implementations reproduce the core on the paper's parameters, and inputs whose verdict
theory fixes in advance (beyond the declared controls) get it through the claims' gather/decide."""
from fractions import Fraction

import numpy as np
import pytest

import proofs
from claims import c1, c2, e1, g1, m1, p1, p2
from claims.support.base import CheckConfig
from claims.support.weights_behaviour import (
    WeightRule,
    impulse_responses,
    paper_lambdas,
    weight_symbolic,
)
from emc_theory import cascade_weights, gradient_entropy, level_betas
from proofs import op_count, subject_formulas

PAPER_RULE = WeightRule("paper", paper_lambdas, lambda h: h)


@pytest.fixture(scope="module")
def derivs():
    return proofs.run_all(["effective_memory", "gamma_range", "op_count", "softmax_limits"])


def _value(derivation, key):
    return derivation.results[key].value


def test_power_rule_of_the_paper_formula_matches_gamma_range(derivs):
    mine = subject_formulas.power_rule(lambda h, hmax: 2 - h / hmax)
    for key in ("range", "d1_path_limits"):
        assert _value(mine, key) == _value(derivs["gamma_range"], key)


@pytest.mark.parametrize("gamma, expected", [
    (lambda h, hmax: 2 - 2 * h / hmax, [0, 2]),        # affine, ends 2 and 0
    (lambda h, hmax: 1 + h / hmax, [1, 2]),            # increasing instead of decreasing
    (lambda h, hmax: 2 - h, ["-oo", 2]),               # 2 - log d is unbounded below
])
def test_power_rule_range_by_hand(gamma, expected):
    assert _value(subject_formulas.power_rule(gamma), "range") == expected


def test_buffer_timescales_of_the_paper_betas_match_effective_memory(derivs):
    mine = subject_formulas.buffer_timescales(lambda k: 1 - 1 / 2**k)
    assert _value(mine, "larger_k_longer_memory") is True
    assert _value(derivs["effective_memory"], "larger_k_longer_memory") is True
    three = subject_formulas.buffer_timescales(lambda k: 1 - 1 / 3**k)
    assert _value(three, "larger_k_longer_memory") is False


def test_weight_rule_of_the_paper_matches_softmax_limits(derivs):
    mine = subject_formulas.weight_rule(paper_lambdas, lambda h: h)
    limits, memory = derivs["softmax_limits"], derivs["effective_memory"]
    assert _value(mine, "limit_Ht_to_0_uniform") is True
    assert limits.results["limit_Ht_to_0_symbolic_K"].status == "proved"
    assert _value(mine, "dT_dHt_sign") == _value(memory, "dT_dHt_sign") == "+"
    assert _value(mine, "sign_d_alpha_top") == _value(limits, "sign_d_alpha_K") == "+"
    assert _value(mine, "ratio_below_e_tau_1") is _value(limits, "ratio_below_e_tau_1") is True


def test_weight_symbolic_paper_and_generic_agree():
    paper, generic = weight_symbolic(None), weight_symbolic(PAPER_RULE)
    for name in ("limit_uniform", "dT_dHt_sign", "sign_d_alpha_top", "ratio_below_e",
                 "larger_k_longer_memory"):
        assert getattr(paper, name) == getattr(generic, name), name


def test_cost_count_of_the_pseudocode_matches_op_count(derivs):
    counts = {r: str(op_count.emc_ops(r)) for r in op_count.READING_OPS}
    mine = subject_formulas.cost_count(counts)
    for key in ("degree_in_d", "degree_in_K", "ratio_to_momentum"):
        assert _value(mine, key) == _value(derivs["op_count"], key), key


def test_cost_count_of_the_controls_by_hand():
    linear = subject_formulas.cost_count({"a": "4*K*d + d"})
    quadratic = subject_formulas.cost_count({"a": "3*K**2*d + 6*K*d + d"})
    assert (_value(linear, "degree_in_K"), _value(quadratic, "degree_in_K")) == (1, 2)
    # (4K + 1) d / 4d at K = 3 and 5; (3K^2 + 6K + 1) d / 4d
    assert _value(linear, "ratio_to_momentum") == {"a": {"3": 13 / 4, "5": 21 / 4}}
    assert _value(quadratic, "ratio_to_momentum") == {"a": {"3": 46 / 4, "5": 106 / 4}}


def test_weight_rule_of_the_paper_gives_the_core_weights():
    ht = np.linspace(0, 1, 11)
    for K in (2, 5, 8):
        for tau in (0.25, 1.0):
            np.testing.assert_allclose(PAPER_RULE.weights(ht, K, tau),
                                       cascade_weights(ht, K, tau), rtol=1e-15)


def test_lfilter_bank_of_the_paper_betas_gives_the_core_buffers():
    bank = m1.BufferBank("paper", lambda k: 1 - 1 / 2**k)
    np.testing.assert_allclose(bank.betas(6), level_betas(6), rtol=0)
    np.testing.assert_allclose(bank.impulse_responses(6, 300), impulse_responses(6, 300),
                               rtol=1e-12, atol=1e-300)


def test_e1_formula_entropy_is_the_core_entropy_before_its_clip():
    rng = np.random.default_rng(3)
    g = rng.standard_cauchy(size=(200, 7))
    h = e1.unclipped_entropy(g, "l2")
    np.testing.assert_allclose(gradient_entropy(g, "l2"), np.clip(h, 0, np.log(7)), atol=1e-14)
    # closed forms: m equal magnitudes give log m, whatever the signs and scale
    few = np.array([[0, -2.5, 2.5, 0, 2.5, 0, 0]])
    assert e1.unclipped_entropy(few, "l1")[0] == pytest.approx(np.log(3), abs=1e-15)


def test_control_methods_have_the_state_they_declare():
    params = np.zeros(10)
    assert c2.LevelBuffers(3, 3).init(params).shape == (3, 10)
    assert c2.LevelBuffers(3, 9).init(params).shape == (9, 10)
    # one step from zero state: buffer k holds (1 - beta_k) g, the update is -lr times their mean
    g = np.arange(10.0)
    update, state = c2.LevelBuffers(2, 2).update(g, c2.LevelBuffers(2, 2).init(params))
    np.testing.assert_allclose(state, [0.5 * g, 0.25 * g])
    np.testing.assert_allclose(update, -0.1 * 0.375 * g)
    # the coupled method: from equal buffers the pull is zero, so it steps like the uncoupled one
    coupled = c1.CoupledLevels(2)
    update, state = coupled.update(g, coupled.init(params))
    np.testing.assert_allclose(state, [0.5 * g, 0.25 * g])


@pytest.mark.parametrize("claim, subject, statement", [
    # reversed level order: uniform at Ht = 0 (alpha_K(0) = 1/K: the absolute sense fails), T
    # decreasing in Ht (the relative sense holds)
    (p1.CLAIM, WeightRule("reversed", lambda K: tuple(Fraction(K + 1 - k, K)
                                                      for k in range(1, K + 1)), lambda h: h),
     "conditional"),
    # the paper's weights read at 1 - Ht: uniform at Ht = 1 (alpha_1(1) = 1/K), T decreasing
    (p2.CLAIM, p1.ENTROPY_REVERSED, "conditional"),
    # the paper's own rule, given as a subject: the verdict of the paper's object
    (p1.CLAIM, PAPER_RULE, "fails"),
    (g1.CLAIM, g1.PowerRule("paper", lambda h, hmax: 2 - h / hmax), "conditional"),
    (m1.CLAIM, m1.BufferBank("timescales 3^k", lambda k: 1 - 1 / 3**k), "fails"),
])
def test_known_verdicts_beyond_the_controls(claim, subject, statement):
    _, verdict = claim.run(CheckConfig(quick=True, seed=0, subject=subject))
    assert verdict.statement == statement, verdict.statement_reason


def test_controls_of_the_weight_rules_record_no_counterexample():
    gathered, verdict = p1.CLAIM.run(CheckConfig(quick=True, seed=0, subject=p1.UNIFORM))
    assert verdict.statement == "fails" and gathered.counterexamples == []


@pytest.mark.parametrize("claim", [e1.CLAIM, m1.CLAIM, g1.CLAIM, p1.CLAIM, c1.CLAIM, c2.CLAIM])
def test_a_subject_of_the_wrong_type_is_a_clear_error(claim):
    with pytest.raises(TypeError, match="subject must be"):
        claim.gather(CheckConfig(quick=True, seed=0, subject=object()))
