"""LN1 (Tan & Huang, Lion through an information bottleneck): the rule on constructed evidence,
the mutual-information quadratures against closed forms, a fine-grid integral and asymptotics,
the Lion comparison protocol against the runner, the theory behind the controls, and a quick
gather."""
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import ndtr

from claims import ln1
from claims.support.base import CheckConfig, Gathered
from emc_theory.baselines import Lion
from emc_theory.problems import quadratic
from emc_theory.replay import replay
from emc_theory.runner import minimize


def _information_fine_grid(snr, points=200_001):
    r""":math:`I(X;Y) = \tfrac12\sum_y \int p(x\mid y)\log\frac{p(x\mid y)}{p(x)}dx` by the
    trapezoid rule on a fine grid (the definition, no posterior or entropy identity used)."""
    x = np.linspace(-snr - 12, snr + 12, points)
    logs = [-0.5 * (x - y * snr) ** 2 - 0.5 * np.log(2 * np.pi) for y in (1, -1)]
    log_mix = np.logaddexp(*logs) - np.log(2)
    integrand = sum(0.5 * np.exp(lp) * (lp - log_mix) for lp in logs)
    return float(np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(x)))


def _binary_entropy_by_hand(p):
    return -p * np.log(p) - (1 - p) * np.log(1 - p)


# ----------------------------------------------------------------------------- the rule

BASE = ln1.Facts(
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
PRACTICE_HOLDS = {"some_scale_wins_majority_without_loss": True, "some_scale_net_positive": True}
PRACTICE_MIXED = {"some_scale_wins_majority_without_loss": False, "some_scale_net_positive": True}
PRACTICE_FAILS = {"some_scale_wins_majority_without_loss": False,
                  "some_scale_net_positive": False}
PRACTICE_NONE = {"some_scale_wins_majority_without_loss": None, "some_scale_net_positive": None}


def _decide(**change):
    return ln1.decide(Gathered(facts=dataclasses.replace(BASE, **change)))


@pytest.mark.parametrize("change, expected", [
    (PRACTICE_HOLDS, "holds"),
    (PRACTICE_MIXED, "conditional"),
    (PRACTICE_FAILS, "conditional"),
    ({**PRACTICE_HOLDS, "information_sign_exceeds_tanh_somewhere": True,
      "information_tanh_exceeds_sign": False}, "fails"),
    ({**PRACTICE_NONE, "information_sign_exceeds_tanh_somewhere": True,
      "information_tanh_exceeds_sign": False}, "fails"),
    ({**PRACTICE_HOLDS, "sign_quadrature_matches_closed_form": False}, "undecided"),
    (PRACTICE_NONE, "undecided"),
])
def test_rule_reaches_every_verdict(change, expected):
    verdict = _decide(**change)
    assert verdict.statement == expected
    # the derivation is not in the source: a false statement's proof is a gap not located
    assert verdict.proof == ("gap" if expected == "fails" else "none")
    assert ("gap, not located" in verdict.proof_reason) == (expected == "fails")


def test_rule_reports_both_parts_in_the_reason():
    verdict = _decide(**PRACTICE_FAILS)
    reason = verdict.statement_reason
    assert "the information claim holds" in reason
    assert "tanh in place of sign in Lion fails" in reason
    assert "does not fix the scale" in reason
    # the conditions qualify the scope only (the step-size schedules compared)
    assert len(verdict.conditions) == 1 and "constant step sizes" in verdict.conditions[0]
    wrong = _decide(**PRACTICE_HOLDS, information_sign_exceeds_tanh_somewhere=True)
    assert wrong.statement == "fails"


def test_claim_words_and_source():
    claim = ln1.CLAIM
    assert claim.source.label == ("001_efec067ef178dacf.txt (Tan & Huang, Information-theoretic "
                                  "perspectives on optimizers)")
    assert claim.proof.status == "not_in_source" and claim.kind == "inequality"
    assert claim.derivations == ("lion_information",)


# ----------------------------------------------------------------------------- information

@pytest.mark.parametrize("snr", [0.05, 0.3, 1.0, 2.5, 5.0])
def test_sign_information_quadrature_matches_closed_form(snr):
    closed = np.log(2) - _binary_entropy_by_hand(ndtr(-snr))
    assert ln1.information_sign_quadrature(snr) == pytest.approx(closed, rel=1e-9, abs=1e-14)
    assert ln1.information_sign_closed_form(snr) == pytest.approx(closed, rel=1e-12)


@pytest.mark.parametrize("snr", [0.05, 0.5, 1.3, 4.0])
def test_information_of_x_matches_fine_grid_definition(snr):
    reference = _information_fine_grid(snr)
    assert ln1.information_posterior(snr) == pytest.approx(reference, rel=1e-7, abs=1e-12)
    assert ln1.information_differential(snr) == pytest.approx(reference, rel=1e-7, abs=1e-12)


def test_information_limits():
    """Small s: I(X;Y) ~ s^2/2 and I(sign X;Y) ~ s^2/pi; large s: both -> log 2."""
    s = 0.01
    assert ln1.information_posterior(s) / s**2 == pytest.approx(0.5, rel=1e-3)
    assert ln1.information_sign_closed_form(s) / s**2 == pytest.approx(1 / np.pi, rel=1e-3)
    assert ln1.information_posterior(8.0) == pytest.approx(np.log(2), abs=1e-12)


@pytest.mark.parametrize("snr, scale", [(0.2, 0.2), (0.2, 1.0), (1.0, 0.3), (1.0, 1.0)])
def test_tanh_information_equals_information_of_x(snr, scale):
    """Data processing with an invertible map: I(tanh(aX); Y) = I(X; Y) for every a > 0."""
    assert ln1.information_tanh(snr, scale) == pytest.approx(_information_fine_grid(snr),
                                                             rel=1e-7)


@given(st.floats(0.05, 5.0))
def test_x_carries_more_information_than_its_sign(snr):
    assert ln1.information_posterior(snr) > ln1.information_sign_closed_form(snr)


@pytest.mark.parametrize("mu, sigma", [(0.7, 1.3), (2.0, 0.5)])
def test_posterior_mean_is_tanh_numerically(mu, sigma):
    x = np.linspace(-4, 4, 41)
    like = {y: np.exp(-(x - y * mu) ** 2 / (2 * sigma**2)) for y in (1, -1)}
    posterior_mean = (like[1] - like[-1]) / (like[1] + like[-1])
    np.testing.assert_allclose(posterior_mean, np.tanh(mu * x / sigma**2), rtol=1e-12,
                               atol=1e-15)


def test_symbolic_facts_all_established():
    assert all(ln1.information_symbolic().values())


# ----------------------------------------------------------------------------- controls

@pytest.mark.parametrize("snr", [0.05, 1.0, 4.0])
def test_magnitude_carries_no_information(snr):
    """|X| has the same density under Y = 1 and Y = -1 (a fine grid of the folded densities)."""
    t = np.linspace(0, snr + 12, 100_001)
    folded = {y: np.exp(-0.5 * (t - y * snr) ** 2) + np.exp(-0.5 * (t + y * snr) ** 2)
              for y in (1, -1)}
    np.testing.assert_allclose(folded[1], folded[-1], rtol=1e-15, atol=0)
    assert abs(ln1.information_magnitude(snr)) < 1e-12
    assert ln1.information_sign_closed_form(snr) > 1e-4


def test_sign_like_tanh_is_sign_in_float64():
    """tanh rounds to exactly +-1 beyond 19.1, so tanh(1e30 c) == sign(c) for |c| > 2e-29."""
    c = np.concatenate([np.geomspace(2e-29, 1e8, 400), -np.geomspace(2e-29, 1e8, 400), [0.0]])
    np.testing.assert_array_equal(np.tanh(ln1.SIGN_LIKE_SCALE * c), np.sign(c))


def test_sign_like_tanh_ties_with_sign_in_lion(small_problem):
    """The same runs, bit for bit: every comparison is a tie."""
    problem, x0 = small_problem
    configs = ln1.lion_configs(ln1.CONTROLS["tanh_sign_like"])
    runs = ln1.tuned_runs(problem, x0, 60, configs)
    (name,) = set(configs) - {"sign"}
    assert {k: runs[name][k] for k in ("lr", "steps", "final_gap")} == {
        k: runs["sign"][k] for k in ("lr", "steps", "final_gap")}
    assert ln1.compare(runs[name], runs["sign"]) == 0


def test_gather_rejects_a_subject_of_another_type():
    with pytest.raises(TypeError, match="Representation"):
        ln1.gather(CheckConfig(quick=True, subject="tanh"))


# ----------------------------------------------------------------------------- Lion protocol

@pytest.mark.parametrize("tanh, sign, expected", [
    ({"steps": 80.0, "final_gap": 1.0}, {"steps": 100.0, "final_gap": 1.0}, 1),
    ({"steps": 95.0, "final_gap": 1.0}, {"steps": 100.0, "final_gap": 1.0}, 0),
    ({"steps": 120.0, "final_gap": 1.0}, {"steps": 100.0, "final_gap": 1.0}, -1),
    ({"steps": 50.0, "final_gap": 1.0}, {"steps": np.inf, "final_gap": 1.0}, 1),
    ({"steps": np.inf, "final_gap": 1e-9}, {"steps": 300.0, "final_gap": 1.0}, -1),
    ({"steps": np.inf, "final_gap": 0.4}, {"steps": np.inf, "final_gap": 1.0}, 1),
    ({"steps": np.inf, "final_gap": 0.6}, {"steps": np.inf, "final_gap": 1.0}, 0),
    ({"steps": np.inf, "final_gap": 3.0}, {"steps": np.inf, "final_gap": 1.0}, -1),
])
def test_compare(tanh, sign, expected):
    assert ln1.compare(tanh, sign) == expected


@pytest.fixture(scope="module")
def small_problem():
    problem = quadratic(4, 10.0, seed=1)
    x0 = problem.x_star + np.random.default_rng(2).standard_normal((1, 4))
    return problem, x0


@pytest.mark.parametrize("name", ["sign", "tanh_10"])
def test_tuned_runs_agree_with_the_runner_stopping_rule(small_problem, name):
    """One start: the history-scanned steps to target equal the runner's own gap_tol stop."""
    problem, x0 = small_problem
    config = ln1.lion_configs()[name]
    run = ln1.tuned_runs(problem, x0, 120)[name]
    assert run["lr"] in ln1.LR_GRID
    stopped = minimize(Lion(lr=run["lr"], **config), problem, x0[0], 120,
                       gap_tol=run["targets"][0])
    if np.isfinite(run["steps"]):
        assert stopped.status == "converged" and stopped.stop_step == run["steps"]
    else:
        assert stopped.status == "max_steps"
    full = minimize(Lion(lr=run["lr"], **config), problem, x0[0], 120)
    assert full.final_gap == pytest.approx(run["final_gap"], rel=1e-12, abs=1e-300)


def test_lion_counterexample_replays_from_json(small_problem):
    problem, x0 = small_problem
    runs = ln1.tuned_runs(problem, x0, 60)
    cx = ln1.lion_counterexample(problem, "tanh_1", runs, x0[0], 60)
    traj = replay(json.loads(json.dumps(cx.replay)))
    assert str(traj.status) == cx.outcome["status"]
    assert int(traj.stop_step) == cx.outcome["stop_step"]
    assert float(traj.final_gap) == pytest.approx(cx.outcome["final_gap"], rel=1e-12)


# ----------------------------------------------------------------------------- gather (quick)

@pytest.fixture(scope="module")
def quick_findings():
    return ln1.gather(CheckConfig(quick=True, seed=0))


def test_gather_quick_evidence_and_facts(quick_findings):
    f = quick_findings
    assert {e.kind for e in f.evidence} == {"symbolic", "numerical", "independent"}
    for key, value in dataclasses.asdict(f.facts).items():
        assert value is None or isinstance(value, (bool, int, float)), key
    for key in ("information_tanh_exceeds_sign", "sign_quadrature_matches_closed_form",
                "some_scale_wins_majority_without_loss", "some_scale_net_positive",
                "posterior_mean_is_tanh_symbolic", "jacobian_cancels_symbolic"):
        assert isinstance(getattr(f.facts, key), bool), key
    assert f.facts.problems_compared == 2
    json.dumps(f.parameters)
    json.dumps([e.data for e in f.evidence])


def test_gather_is_deterministic(quick_findings):
    assert ln1.gather(CheckConfig(quick=True, seed=0)).facts == quick_findings.facts


def test_gather_counterexamples_replay(quick_findings):
    for cx in quick_findings.counterexamples:
        traj = replay(json.loads(json.dumps(cx.replay)))
        assert (str(traj.status), int(traj.stop_step)) == (cx.outcome["status"],
                                                           cx.outcome["stop_step"])
