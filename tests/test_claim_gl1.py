"""Companion claim GL1 (curvature in the looking-glass): the ReLU / softplus network code against
independent computations (finite differences, the naive second difference, the exact quartic
remainder of a ReLU network on one linear piece, the closed-form kink term), the control
activations against the naive formulas, the rule on typed facts, ``gather`` on the quick config,
and replays from JSON."""
import dataclasses
import json

import numpy as np
import pytest

from claims import gl1
from claims.support.base import CheckConfig, Gathered

RELU, SOFT = gl1.make_network("relu", 4), gl1.make_network("softplus", 4)
GENERIC = gl1.make_theta(RELU, "generic", 5)
NEAR = gl1.make_theta(RELU, "near_kink", 5)
XI = np.random.default_rng(6).standard_normal((64, GENERIC.size))


def naive_loss(network, theta):
    V, a = network.unpack(theta)
    f = network.activation.value(network.inputs @ V.T) @ a
    return 0.5 * np.mean((f - network.y) ** 2)


@pytest.mark.parametrize("network", [RELU, SOFT], ids=["relu", "softplus"])
def test_gradient_matches_finite_differences(network):
    h = 1e-6
    fd = [(naive_loss(network, GENERIC + h * e) - naive_loss(network, GENERIC - h * e)) / (2 * h)
          for e in np.eye(GENERIC.size)]
    np.testing.assert_allclose(network.grad(GENERIC), fd, rtol=1e-6, atol=1e-9)
    assert network.loss(GENERIC) == pytest.approx(naive_loss(network, GENERIC), rel=1e-14)


@pytest.mark.parametrize("network", [RELU, SOFT], ids=["relu", "softplus"])
def test_hessian_matches_finite_differences_of_the_gradient(network):
    h = 1e-6  # generic point: the nearest ReLU kink is far beyond h
    fd = np.array([(network.grad(GENERIC + h * e) - network.grad(GENERIC - h * e)) / (2 * h)
                   for e in np.eye(GENERIC.size)])
    H = network.hessian(GENERIC)
    np.testing.assert_allclose(H, H.T, atol=1e-15)
    np.testing.assert_allclose(H, fd, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("network", [RELU, SOFT], ids=["relu", "softplus"])
@pytest.mark.parametrize("theta", [GENERIC, NEAR], ids=["generic", "near_kink"])
def test_stable_second_difference_equals_the_naive_one(network, theta):
    delta = 1e-2 * XI[:8]
    base = naive_loss(network, theta)
    plus = np.array([naive_loss(network, theta + d) for d in delta])
    minus = np.array([naive_loss(network, theta - d) for d in delta])
    symmetric, one_sided = network.second_difference(theta, delta)
    np.testing.assert_allclose(symmetric, 0.5 * (plus + minus - 2 * base), rtol=1e-8, atol=1e-15)
    np.testing.assert_allclose(one_sided, plus - base, rtol=1e-8, atol=1e-15)


def test_relu_residual_on_one_piece_is_the_exact_quartic_term():
    # on a linear piece f_i(theta + d) = f_i + J_i d + c_i with c_i = sum_j da_j e_ij 1[z_ij > 0],
    # so S - d^T H d / 2 = (1/2n) sum_i c_i^2 exactly
    sigma = 1e-4
    delta = sigma * XI
    symmetric, _ = RELU.second_difference(GENERIC, delta)
    residual = symmetric - 0.5 * np.einsum("sp,pq,sq->s", delta, RELU.hessian(GENERIC), delta)
    z = RELU.preactivations(GENERIC)
    dV, da = RELU.unpack(delta)
    e = np.einsum("ik,sjk->sij", RELU.inputs, dV)
    assert np.all(np.abs(e) < np.abs(z))  # no kink crossed: theta +- delta on theta's piece
    c = (da[:, None, :] * e * (z > 0)).sum(-1)
    np.testing.assert_allclose(residual, (c ** 2).sum(-1) / (2 * len(RELU.y)), rtol=1e-6)


def test_near_kink_residual_matches_the_closed_form_kink_term():
    xi = np.random.default_rng(7).standard_normal((4000, NEAR.size))
    scan = gl1.curvature_scan(RELU, NEAR, [1e-5], xi)
    c1 = gl1.kink_coefficient(RELU, NEAR)
    assert abs(scan["residual"][0] / 1e-5 - c1) < 4 * scan["se"][0] / 1e-5
    assert abs(c1) > 10 * scan["se"][0] / 1e-5


def test_softplus_residual_scales_like_sigma_to_the_fourth():
    scan = gl1.curvature_scan(SOFT, NEAR, [1e-4, 1e-3], XI)
    assert gl1.fit_exponent([1e-4, 1e-3], scan["residual"]) == pytest.approx(4.0, abs=0.01)


def test_bad_point_names_the_parameter():
    with pytest.raises(ValueError, match="point"):
        gl1.make_theta(RELU, "saddle", 0)
    with pytest.raises(ValueError, match="activation"):
        gl1.make_network("sigmoid", 0)
    with pytest.raises(TypeError, match="Activation"):
        gl1.gather(CheckConfig(quick=True, subject="relu"))


# --- the control activations --------------------------------------------------------------

def _naive(name):
    return {"relu": lambda z: np.maximum(z, 0.0), "softplus": lambda z: np.log1p(np.exp(z)),
            "leaky_relu": lambda z: np.where(z > 0, z, gl1.LEAKY_SLOPE * z),
            "tanh": np.tanh}[name]


@pytest.mark.parametrize("name", sorted(gl1.ACTIVATIONS))
def test_activation_increments_match_the_naive_ones(name):
    act, phi = gl1.ACTIVATIONS[name], _naive(name)
    rng = np.random.default_rng(8)
    z, e = rng.normal(size=200), 0.3 * rng.normal(size=200)
    np.testing.assert_allclose(act.value(z), phi(z), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(act.step(z, e), phi(z + e) - phi(z), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(act.second(z, e), phi(z + e) + phi(z - e) - 2 * phi(z),
                               rtol=1e-8, atol=1e-14)
    h = 1e-5  # derivatives away from the kink
    away = z[np.abs(z) > 1e-3]
    np.testing.assert_allclose(act.d1(away), (phi(away + h) - phi(away - h)) / (2 * h),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(act.d2(away), (phi(away + h) + phi(away - h) - 2 * phi(away))
                               / h**2, rtol=1e-3, atol=1e-5)
    jump = act.d1(np.array(1e-12)) - act.d1(np.array(-1e-12))
    assert act.kink_jump == pytest.approx(float(jump), abs=1e-12)


@pytest.mark.parametrize("name", ["leaky_relu", "tanh"])
def test_control_networks_hessian_and_second_difference(name):
    network = gl1.make_network(name, 4)
    h = 1e-6
    fd = np.array([(network.grad(GENERIC + h * e) - network.grad(GENERIC - h * e)) / (2 * h)
                   for e in np.eye(GENERIC.size)])
    np.testing.assert_allclose(network.hessian(GENERIC), fd, rtol=1e-5, atol=1e-8)
    delta = 1e-2 * XI[:8]
    base = naive_loss(network, NEAR)
    plus = np.array([naive_loss(network, NEAR + d) for d in delta])
    minus = np.array([naive_loss(network, NEAR - d) for d in delta])
    symmetric, _ = network.second_difference(NEAR, delta)
    np.testing.assert_allclose(symmetric, 0.5 * (plus + minus - 2 * base), rtol=1e-8, atol=1e-15)


def test_leaky_relu_kink_term_is_the_relu_one_scaled():
    """c1 scales with the slope jump; the measured R/sigma of leaky ReLU matches it."""
    leaky = gl1.make_network("leaky_relu", 4)
    c1 = gl1.kink_coefficient(leaky, NEAR)
    assert c1 == pytest.approx((1 - gl1.LEAKY_SLOPE) * gl1.kink_coefficient(RELU, NEAR),
                               rel=1e-2)  # the residuals differ slightly (the negative slope)
    xi = np.random.default_rng(7).standard_normal((4000, NEAR.size))
    scan = gl1.curvature_scan(leaky, NEAR, [1e-5], xi)
    assert abs(scan["residual"][0] / 1e-5 - c1) < 4 * scan["se"][0] / 1e-5


def test_tanh_residual_scales_like_sigma_to_the_fourth():
    tanh = gl1.make_network("tanh", 4)
    scan = gl1.curvature_scan(tanh, NEAR, [1e-4, 1e-3], XI)
    assert gl1.fit_exponent([1e-4, 1e-3], scan["residual"]) == pytest.approx(4.0, abs=0.01)


# --- the rule on typed facts --------------------------------------------------------------

HOLDS = gl1.Facts(relu_exponent=1.0, smooth_exponent=4.0, relu_ratio_at_smallest_sigma=10.0,
                  relu_upper_ratio_at_smallest_sigma=12.0, relu_z_at_smallest_sigma=20.0,
                  smooth_ratio_at_smallest_sigma=1e-8, generic_exponent=8.0,
                  generic_kink_distance=6e-4, generic_crossover_sigma=3e-3)


def facts(**change):
    return Gathered(facts=dataclasses.replace(HOLDS, **change))


@pytest.mark.parametrize("gathered, statement", [
    (facts(), "holds"),
    (facts(relu_ratio_at_smallest_sigma=0.3, relu_upper_ratio_at_smallest_sigma=0.35),
     "conditional"),
    (facts(relu_exponent=3.9), "fails"),  # ReLU scales like the smooth control
    (facts(relu_ratio_at_smallest_sigma=0.01, relu_upper_ratio_at_smallest_sigma=0.05),
     "fails"),  # Hessian accurate at small sigma
    (facts(smooth_exponent=2.5), "undecided"),  # the control failed
    (facts(smooth_ratio_at_smallest_sigma=0.5), "undecided"),
    (facts(relu_z_at_smallest_sigma=1.0), "undecided"),  # not significant
    (facts(relu_exponent=3.2), "undecided"),  # between the thresholds
    (facts(relu_exponent=None), "undecided"),
])
def test_rule(gathered, statement):
    verdict = gl1.decide(gathered)
    # the proof is not in the source: a false statement means a flawed proof, else not assessed
    assert verdict.statement == statement
    assert verdict.proof == ("gap" if statement == "fails" else "none")
    assert "not in the source" in verdict.proof_reason


def test_rule_conditions_name_the_generic_crossover():
    verdict = gl1.decide(facts())
    assert any("3.0e-03" in c and "nearest kink 6.0e-04" in c for c in verdict.conditions)
    smooth = gl1.decide(facts(generic_kink_distance=None))  # an activation without a kink
    assert any("3.0e-03" in c and "kink" not in c.split("only")[1] for c in smooth.conditions)
    assert len(gl1.decide(facts(generic_crossover_sigma=None)).conditions) == 1


def test_claim_words_and_source():
    claim = gl1.CLAIM
    assert claim.source.label == ("003_4e20904ff1472bb0.txt (Duersch, Catanach, Safonov & Wendt, "
                                  "Curvature in the looking-glass)")
    assert claim.proof.status == "not_in_source" and claim.kind == "existential"


# --- gather end to end and replays --------------------------------------------------------

@pytest.fixture(scope="module")
def quick():
    return gl1.gather(CheckConfig(quick=True, seed=0))


def test_gather_quick(quick):
    assert {e.kind for e in quick.evidence} == {"numerical", "independent"}
    for value in dataclasses.asdict(quick.facts).values():
        assert value is None or isinstance(value, (bool, int, float))
    json.dumps([e.data for e in quick.evidence])
    assert quick.parameters["samples"] == gl1.SAMPLES[True]
    assert quick.facts.smooth_exponent == pytest.approx(4.0, abs=0.05)


def test_gather_is_deterministic(quick):
    assert gl1.gather(CheckConfig(quick=True, seed=0)).facts == quick.facts


def test_replay_reproduces_gathered_numbers(quick):
    spec = {"activation": "relu", "point": "near_kink", "network_seed": 0, "theta_seed": 1,
            "sample_seed": 2, "samples": gl1.SAMPLES[True], "kink_offset": gl1.KINK_OFFSET,
            "sigma": gl1.SIGMAS[True][0]}
    assert quick.parameters["network_seed"] == 0 and quick.parameters["sample_seed"] == 2
    out = gl1.replay(json.loads(json.dumps(spec)))
    data = quick.evidence[0].data
    assert out["residual"] == data["residual"][0] and out["se"] == data["se"][0]
    for c in quick.counterexamples:
        assert gl1.replay(json.loads(json.dumps(c.replay))) == c.outcome
