"""Companion claim GL1 (curvature in the looking-glass): the ReLU / softplus network code against
independent computations (finite differences, the naive second difference, the exact quartic
remainder of a ReLU network on one linear piece, the closed-form kink term), the rule on
constructed findings, ``gather`` on the quick config, and replays from JSON."""
import json

import numpy as np
import pytest

from claims import gl1
from claims.base import CheckConfig, Findings

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


# --- the rule on constructed findings -----------------------------------------------------

def facts(p_relu=1.0, p_smooth=4.0, ratio=10.0, upper=12.0, z=20.0, smooth_ratio=1e-8):
    return Findings(facts={
        "relu_exponent": p_relu, "smooth_exponent": p_smooth,
        "relu_ratio_at_smallest_sigma": ratio, "relu_upper_ratio_at_smallest_sigma": upper,
        "relu_z_at_smallest_sigma": z, "smooth_ratio_at_smallest_sigma": smooth_ratio,
        "generic_crossover_sigma": 3e-3, "generic_kink_distance": 6e-4})


@pytest.mark.parametrize("findings, statement", [
    (facts(), "holds"),
    (facts(ratio=0.3, upper=0.35), "conditional"),
    (facts(p_relu=3.9), "fails"),  # ReLU scales like the smooth control
    (facts(p_relu=1.0, ratio=0.01, upper=0.05), "fails"),  # Hessian accurate at small sigma
    (facts(p_smooth=2.5), "undecided"),  # the control failed
    (facts(smooth_ratio=0.5), "undecided"),
    (facts(z=1.0), "undecided"),  # not significant
    (facts(p_relu=3.2), "undecided"),  # between the thresholds
    (Findings(facts={"relu_exponent": None}), "undecided"),
])
def test_rule(findings, statement):
    verdict = gl1.decide(findings)
    assert verdict.statement == statement and verdict.proof == "none"


# --- gather end to end and replays --------------------------------------------------------

@pytest.fixture(scope="module")
def quick():
    return gl1.gather(CheckConfig(quick=True, seed=0))


def test_gather_quick(quick):
    assert {e.kind for e in quick.evidence} == {"numerical", "independent"}
    for value in quick.facts.values():
        assert value is None or isinstance(value, (bool, int, float))
    json.dumps([e.data for e in quick.evidence])
    assert quick.parameters["samples"] == gl1.SAMPLES[True]
    assert quick.facts["smooth_exponent"] == pytest.approx(4.0, abs=0.05)


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
