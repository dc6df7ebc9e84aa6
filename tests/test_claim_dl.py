"""Companion claims DL1 and DL2 (momentum on diagonal linear networks) and their shared code.

The DLN code is checked against independent derivations: finite differences of the loss, the
heavy-ball recursion written out, EMC with one level against heavy ball (lambda_1 = 2 eta), a
fixed-step RK4 integration of the ODE; the theory behind the controls; the rules on typed facts;
``gather`` end to end on the quick config; replays from JSON.
"""
import dataclasses
import json

import numpy as np
import pytest
from scipy.optimize import minimize

from claims import dl1, dl2
from claims.support.base import CheckConfig, Gathered
from claims.support.dl_common import (
    dln_beta,
    dln_loss_and_grad,
    effective_alpha,
    emc_level_lambdas,
    heavy_ball_for_lambdas,
    hyperbolic_entropy_solution,
    initial_point,
    ode_path,
    run_dln,
    sample_path,
    sparse_regression,
)
from emc_theory.baselines import HeavyBall
from emc_theory.emc import EMC

PROBLEM = sparse_regression(n=6, d=8, sparsity=2, seed=3)


# --- shared code against independent derivations ------------------------------------------

def test_sparse_regression_is_seeded_interpolable_and_sparse():
    p, q = sparse_regression(seed=5), sparse_regression(seed=5)
    np.testing.assert_array_equal(p.X, q.X)
    assert np.count_nonzero(p.beta_star) == 3
    np.testing.assert_allclose(p.X @ p.beta_star, p.y)
    assert np.all(np.abs(p.beta_star[p.beta_star != 0]) >= 0.5)


def test_loss_and_gradient_match_finite_differences_batched():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 2, 2 * PROBLEM.d))
    loss, grad = dln_loss_and_grad(PROBLEM, w)
    beta = w[..., :8] ** 2 - w[..., 8:] ** 2
    np.testing.assert_allclose(loss, ((beta @ PROBLEM.X.T - PROBLEM.y) ** 2).sum(-1) / 12)
    h = 1e-6
    for i in range(2 * PROBLEM.d):
        e = np.zeros(2 * PROBLEM.d)
        e[i] = h
        fd = (dln_loss_and_grad(PROBLEM, w + e)[0] - dln_loss_and_grad(PROBLEM, w - e)[0]) / (2 * h)
        np.testing.assert_allclose(grad[..., i], fd, rtol=1e-6, atol=1e-8)


def test_heavy_ball_run_is_the_written_out_recursion():
    lams, momentum, steps = np.array([0.5, 2.0]), 0.8, 40
    run = run_dln(heavy_ball_for_lambdas(lams, momentum), PROBLEM, 0.3, 2, steps,
                  record_path=True)
    gamma = lams[:, None] * (1 - momentum) ** 2
    prev = w = np.tile(initial_point(PROBLEM.d, 0.3), (2, 1))
    for _ in range(steps):  # w_{k+1} = w_k - gamma grad + beta (w_k - w_{k-1})
        w, prev = w - gamma * dln_loss_and_grad(PROBLEM, w)[1] + momentum * (w - prev), w
    np.testing.assert_allclose(run.w, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(run.path[-1], dln_beta(w), rtol=1e-12, atol=1e-14)
    assert list(run.status) == ["max_steps", "max_steps"]


def test_one_level_emc_is_heavy_ball_with_lambda_two_eta():
    eta = np.array([0.05, 0.2])
    emc = run_dln(EMC(K=1, lr=eta, reading="linear"), PROBLEM, 0.3, 2, 60)
    hb = run_dln(heavy_ball_for_lambdas(2 * eta, 0.5), PROBLEM, 0.3, 2, 60)
    np.testing.assert_allclose(emc.w, hb.w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(emc_level_lambdas(3, 0.1), [0.2, 0.4, 0.8])


def test_run_stops_converged_and_diverged_runs():
    run = run_dln(heavy_ball_for_lambdas([1.0, 1e6], 0.5), PROBLEM, 0.3, 2, 20000, tol=1e-8)
    assert list(run.status) == ["converged", "diverged"]
    assert run.final_loss[0] < 1e-8 and run.stop_step[1] < 100


def test_sample_path_interpolates_linearly_in_time():
    path = np.arange(11)[:, None, None] * np.ones((1, 2, 3))  # iterate k has value k
    times = np.array([0.0, 0.35, 1.0])
    got = sample_path(path, [0.1, 0.2], times)  # iterate k sits at time k h
    np.testing.assert_allclose(got[:, 0, 0], times / 0.1)
    np.testing.assert_allclose(got[:, 1, 0], times / 0.2)
    with pytest.raises(ValueError, match="times"):
        sample_path(path, [0.1, 0.2], [3.0])


def test_ode_path_matches_fixed_step_rk4():
    lam, alpha, horizon, n = 0.7, 0.3, 1.0, 1000

    def rhs(z):
        w, p = z[:16], z[16:]
        return np.concatenate([p, -(p + dln_loss_and_grad(PROBLEM, w)[1]) / lam])

    z = np.concatenate([initial_point(PROBLEM.d, alpha), np.zeros(16)])
    h = horizon / n
    for _ in range(n):
        k1 = rhs(z)
        k2 = rhs(z + h / 2 * k1)
        k3 = rhs(z + h / 2 * k2)
        k4 = rhs(z + h * k3)
        z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    got = ode_path(PROBLEM, alpha, [lam, 2.0], [0.0, horizon])  # stacked with another lambda
    np.testing.assert_allclose(got[-1, 0], dln_beta(z[:16]), rtol=1e-8, atol=1e-10)


def test_hyperbolic_entropy_solution_matches_a_primal_solver():
    alpha = 0.3
    s = 2 * alpha**2

    def potential(b):
        return np.sum(b * np.arcsinh(b / s) - np.sqrt(b * b + s * s) + s)

    res = minimize(potential, np.linalg.pinv(PROBLEM.X) @ PROBLEM.y, method="SLSQP",
                   jac=lambda b: np.arcsinh(b / s),
                   constraints={"type": "eq", "fun": lambda b: PROBLEM.X @ b - PROBLEM.y,
                                "jac": lambda b: PROBLEM.X},
                   options={"ftol": 1e-14, "maxiter": 500})
    got = hyperbolic_entropy_solution(PROBLEM, alpha)
    np.testing.assert_allclose(got, res.x, atol=1e-6)
    star, residual = effective_alpha(PROBLEM, got)
    assert star == pytest.approx(alpha, rel=1e-4) and residual < 1e-6


def test_gradient_flow_limit_is_reached_by_small_step_gradient_descent():
    # momentum 0: gradient descent with step gamma = lambda, whose limit is the
    # hyperbolic-entropy solution up to O(gamma): halving the step halves the error
    run = run_dln(heavy_ball_for_lambdas([0.1, 0.05], 0.0), PROBLEM, 0.3, 2, 20000, tol=1e-16)
    assert list(run.status) == ["converged", "converged"]
    err = np.abs(dln_beta(run.w) - hyperbolic_entropy_solution(PROBLEM, 0.3)).max(axis=1)
    assert err[1] < 3e-3 and 0.35 < err[1] / err[0] < 0.65


def test_run_with_one_scale_per_run_is_the_runs_one_by_one():
    alphas = np.array([0.2, 0.4])
    both = run_dln(HeavyBall(lr=np.full(2, 0.05), beta=0.5), PROBLEM, alphas, 2, 30)
    for i, alpha in enumerate(alphas):
        one = run_dln(HeavyBall(lr=np.full(1, 0.05), beta=0.5), PROBLEM, alpha, 1, 30)
        np.testing.assert_allclose(both.w[i], one.w[0], rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="alpha"):
        run_dln(HeavyBall(lr=np.full(2, 0.05), beta=0.5), PROBLEM, alphas[:1], 2, 3)


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="sparsity"):
        sparse_regression(n=4, d=3, sparsity=5)
    with pytest.raises(ValueError, match="momentum"):
        heavy_ball_for_lambdas([1.0], 1.0)
    with pytest.raises(ValueError, match="lambdas"):
        heavy_ball_for_lambdas([0.0], 0.5)
    with pytest.raises(ValueError, match="alpha"):
        initial_point(3, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        run_dln(HeavyBall(lr=np.full(2, 0.05), beta=0.5), PROBLEM, np.array([0.1, -0.1]), 2, 3)
    with pytest.raises(ValueError, match="w must have"):
        dln_loss_and_grad(PROBLEM, np.zeros(5))


def test_modified_equation_limit_and_first_correction():
    # by hand: [W(t+h) - W(t) - beta (W(t) - W(t-h)) + gamma g] / gamma with h = lam eps,
    # gamma = lam eps^2 is W' + lam W'' + g - eps lam W''/2 + O(eps^2)
    out = dl1.modified_equation()
    assert out["limit_is_ode"] is True
    assert out["first_correction"] == "-W2*lambda/2"


# --- the theory behind the controls -------------------------------------------------------

def test_momentum_laws():
    """The paper's law keeps lambda; the fixed-effective-lr law agrees at beta = 0.9 and doubles
    lambda at 0.95 (gamma/(1-beta) constant)."""
    lams = np.array([1.0, 2.0])
    law = dl1.LAWS["fixed_effective_lr"]
    np.testing.assert_allclose(law.intrinsic(lams, 0.9), lams, rtol=1e-15)
    np.testing.assert_allclose(law.intrinsic(lams, 0.95), 2 * lams, rtol=1e-14)
    for beta in (0.9, 0.95, 0.99):  # effective learning rate gamma/(1-beta) = lambda_int (1-beta)
        np.testing.assert_allclose(law.intrinsic(lams, beta) * (1 - beta), lams * 0.1,
                                   rtol=1e-13)
    assert dl1.LAWS["fixed_lambda_near_1"].intrinsic(lams, 0.99) is lams
    assert min(dl1.LAWS["fixed_lambda_near_1"].betas) >= 0.98  # (1 - beta)/2 <= 1%
    with pytest.raises(TypeError, match="MomentumLaw"):
        dl1.gather(CheckConfig(quick=True, subject=0.9))


def test_heavy_ball_is_semi_implicit_euler_of_the_ode():
    """Heavy ball at (lambda, beta) is the semi-implicit Euler scheme with step
    h = lambda (1 - beta) for lambda W'' + W' + grad F = 0 (the basis of the positive control)."""
    lam, beta, steps, alpha = 0.7, 0.95, 50, 0.3
    h = lam * (1 - beta)
    run = run_dln(heavy_ball_for_lambdas([lam], beta), PROBLEM, alpha, 1, steps)
    w, p = initial_point(PROBLEM.d, alpha), np.zeros(2 * PROBLEM.d)
    for _ in range(steps):  # p' = -(p + grad F(w))/lambda, w' = p
        p = p - h * (p + dln_loss_and_grad(PROBLEM, w)[1]) / lam
        w = w + h * p
    np.testing.assert_allclose(run.w[0], w, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("alphas", [(0.1, 0.14142135623730953, 0.2), (0.2, 0.1414, 0.1)])
def test_gradient_flow_limit_grows_with_the_scale(alphas):
    """The closed-form gradient-flow solutions (an algorithm independent of the runs) grow in l1
    and in error with alpha at the controls' scales: the controls' verdicts follow."""
    problem = sparse_regression(seed=0)
    sols = [hyperbolic_entropy_solution(problem, a) for a in sorted(alphas)]
    l1 = [np.abs(b).sum() for b in sols]
    err = [np.linalg.norm(b - problem.beta_star) for b in sols]
    assert np.all(np.diff(l1) > 0.05) and np.all(np.diff(err) > 0.05)


def test_gradient_descent_control_follows_the_gradient_flow_limit():
    """At the controls' step the GD solutions are within 1% (l1) of the closed form."""
    problem = sparse_regression(seed=0)
    lambdas = np.array(dl2.LAMBDAS[True])
    path = dl2.PATHS["gd_alpha_grows"]
    run = dl2.solve_path(path, problem, lambdas)
    assert list(run.status) == ["converged"] * lambdas.size
    for b, alpha in zip(dln_beta(run.w), path.alpha(lambdas)):
        limit = hyperbolic_entropy_solution(problem, alpha)
        assert np.abs(b).sum() == pytest.approx(np.abs(limit).sum(), rel=0.01)
    with pytest.raises(TypeError, match="SparsityPath"):
        dl2.gather(CheckConfig(quick=True, subject="gd"))


def test_closest_lambda_recovers_a_point_on_the_curve():
    lambdas = np.array([0.5, 1.0, 2.0, 4.0])
    curve = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [2.0, 1.0]])
    star, dist = dl2.closest_lambda(np.array([1.0, 0.25]), lambdas, curve)
    assert star == pytest.approx(2 ** 0.25) and dist == pytest.approx(0.0, abs=1e-15)


# --- rules on typed facts -----------------------------------------------------------------

DL1_HOLDS = dl1.Facts(ode_distance_exponent=1.0, ode_distance_decreasing=True,
                      ratio_at_largest_beta=0.02, ratio_at_smallest_beta=0.05,
                      smallest_beta_with_small_ratio=0.9, symbolic_limit_is_ode=True)


def _assert_unseen_proof(verdict):
    """The proof is not in the source: a false statement's proof is a gap not located; otherwise
    it is not assessed."""
    if verdict.statement == "fails":
        assert verdict.proof == "gap"
        assert verdict.proof_reason.startswith("gap, not located: the proof is not in the source")
    else:
        assert verdict.proof == "none"
        assert verdict.proof_reason.startswith("not assessed: the proof is not in the source")


def dl1_facts(**change):
    return Gathered(facts=dataclasses.replace(DL1_HOLDS, **change))


@pytest.mark.parametrize("gathered, statement", [
    (dl1_facts(), "holds"),
    (dl1_facts(ratio_at_smallest_beta=0.3, smallest_beta_with_small_ratio=0.98), "conditional"),
    (dl1_facts(ode_distance_exponent=-0.1), "fails"),
    (dl1_facts(ratio_at_largest_beta=1.5, ratio_at_smallest_beta=2.0,
               smallest_beta_with_small_ratio=None), "fails"),
    (dl1_facts(ode_distance_exponent=0.2, smallest_beta_with_small_ratio=None,
               ratio_at_smallest_beta=0.3), "undecided"),
    (dl1_facts(ode_distance_decreasing=False, ratio_at_smallest_beta=0.3,
               smallest_beta_with_small_ratio=None), "undecided"),
    (dl1_facts(ode_distance_exponent=None), "undecided"),
])
def test_dl1_rule(gathered, statement):
    verdict = dl1.decide(gathered)
    assert verdict.statement == statement
    _assert_unseen_proof(verdict)
    if statement == "conditional":
        assert "0.98" in verdict.conditions[0]
        assert "beta -> 1" in verdict.proof_reason  # what is known about any proof


DL2_HOLDS = dl2.Facts(
    all_converged=True, spearman_l1=1.0, spearman_error=1.0, l1_relative_increase=0.1,
    gf_limit_l1=3.2, gf_limit_sparser_than_all=True, spearman_distance_to_gf_limit=1.0,
    spearman_effective_alpha=0.4, emc_converged=True, emc_inside_grid=True,
    emc_max_log_gap_level_1=0.7, emc_max_log_gap_level_3=0.9,
    emc_max_log_gap_arithmetic_mean=0.5, emc_max_log_gap_harmonic_mean=0.2)


def dl2_facts(**change):
    return Gathered(facts=dataclasses.replace(DL2_HOLDS, **change))


@pytest.mark.parametrize("gathered, statement", [
    (dl2_facts(), "holds"),
    (dl2_facts(spearman_error=0.6), "conditional"),
    (dl2_facts(spearman_l1=0.2, spearman_error=0.95), "conditional"),
    (dl2_facts(spearman_l1=-1.0, spearman_error=-0.8), "fails"),  # sparser with larger lambda
    (dl2_facts(spearman_l1=0.7, spearman_error=0.7), "undecided"),
    (dl2_facts(all_converged=False), "undecided"),
    (dl2_facts(spearman_l1=None), "undecided"),
])
def test_dl2_rule(gathered, statement):
    verdict = dl2.decide(gathered)
    assert verdict.statement == statement
    _assert_unseen_proof(verdict)
    if statement == "conditional":  # the condition names the reading of 'sparse' that holds
        assert verdict.conditions[0].startswith(
            "sparsity read as the l1 norm" if gathered.facts.spearman_l1 >= 0.9
            else "sparsity read as the distance to the sparse beta*")


@pytest.mark.parametrize("module", [dl1, dl2])
def test_claim_words_and_source(module):
    claim = module.CLAIM
    assert claim.source.label == (
        "002_b6e316ebb5bc5295.txt (Papazov, Pesme & Flammarion, Leveraging continuous time to "
        "understand momentum when training diagonal linear networks)")
    assert claim.proof.status == "not_in_source" and claim.kind == "universal"


# --- gather end to end (quick) and replays ------------------------------------------------

@pytest.fixture(scope="module")
def quick_findings():
    return {m.CLAIM.id: m.gather(CheckConfig(quick=True, seed=0)) for m in (dl1, dl2)}


def _check_shape(findings):
    assert {e.kind for e in findings.evidence} >= {"numerical", "independent"}
    for value in dataclasses.asdict(findings.facts).values():
        assert value is None or isinstance(value, (bool, int, float))
    json.dumps([e.data for e in findings.evidence])
    json.dumps(findings.parameters)


def test_dl1_gather_quick(quick_findings):
    f = quick_findings["DL1"]
    _check_shape(f)
    assert {e.kind for e in f.evidence} == {"numerical", "independent", "symbolic"}
    assert f.facts.symbolic_limit_is_ode is True
    assert f.facts.ode_distance_exponent > 0  # MGD approaches the ODE as beta -> 1
    assert dl1.decide(f).statement in ("holds", "conditional", "fails", "undecided")


def test_dl2_gather_quick(quick_findings):
    f = quick_findings["DL2"]
    _check_shape(f)
    assert f.facts.all_converged is True and f.facts.emc_converged is True
    data = f.evidence[0].data
    assert max(data["final_loss"]) < dl2.TOL
    assert -1 <= f.facts.spearman_l1 <= 1


def test_gather_is_deterministic(quick_findings):
    again = dl2.gather(CheckConfig(quick=True, seed=0))
    assert again.facts == quick_findings["DL2"].facts


def test_counterexamples_replay_from_json(quick_findings):
    for module in (dl1, dl2):
        for c in quick_findings[module.CLAIM.id].counterexamples:
            spec = json.loads(json.dumps(c.replay))
            got = module.replay(spec)
            assert got.keys() == c.outcome.keys()
            for key, value in c.outcome.items():
                if key == "status":
                    assert got[key] == value
                else:
                    np.testing.assert_allclose(got[key], value, rtol=1e-6)


def test_replays_reproduce_gathered_numbers(quick_findings):
    problem = sparse_regression(seed=0).describe()
    spec = json.loads(json.dumps({"problem": problem, "alpha": dl1.ALPHA, "lambda": dl1.LAMBDA,
                                  "momentum": dl1.BETAS[True][-1], "horizon": dl1.HORIZON,
                                  "time_points": dl1.TIME_POINTS}))
    gathered = quick_findings["DL1"].evidence[0].data["distance_to_ode"][-1]
    assert dl1.replay(spec)["distance_to_ode"] == pytest.approx(gathered, rel=1e-6)
    spec = json.loads(json.dumps({"problem": problem, "alpha": dl2.ALPHA,
                                  "momentum": dl2.MOMENTUM, "lambdas": [1.0, 2.0]}))
    out = dl2.replay(spec)
    assert out["status"] == ["converged", "converged"]
    np.testing.assert_allclose(out["l1"], quick_findings["DL2"].evidence[0].data["l1"][:2],
                               rtol=1e-6)


def test_control_path_replays_from_its_name():
    """A control's counterexample names its path, so the replay reruns that path."""
    spec = json.loads(json.dumps({"problem": sparse_regression(seed=0).describe(),
                                  "alpha": dl2.ALPHA, "momentum": dl2.MOMENTUM,
                                  "lambdas": [1.0, 4.0], "path": "gd_alpha_shrinks"}))
    out = dl2.replay(spec)
    assert out["status"] == ["converged", "converged"] and out["l1"][1] < out["l1"][0]
    with pytest.raises(ValueError, match="path"):
        dl2.replay({**spec, "path": "no such path"})
