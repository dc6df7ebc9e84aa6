"""Runs on different problems, schedules and tolerances in one array program: every row of a
batched ``minimize`` equals the same run alone (per-run schedule kinds, per-run tolerances,
a stacked problem), including after stopped runs are dropped from the program."""
import numpy as np
import pytest

from emc_theory import EMC, Schedule, inv_sqrt, inv_t, minimize
from emc_theory.problems import StackedProblem, huber, logistic_regression, quadratic
from emc_theory.schedules import schedule_from_description

KINDS = ["constant", "inv_sqrt", "inv_t"]


def test_per_run_kinds_match_single_kind_schedules():
    eta0 = np.array([0.3, 0.2, 0.1, 0.4])
    kinds = ["inv_t", "constant", "inv_sqrt", "inv_t"]
    mixed = Schedule(eta0, kinds)
    for t in (1, 2, 7, 1000):
        single = [Schedule(float(e), k)(t) for e, k in zip(eta0, kinds)]
        assert mixed(t).tolist() == single          # the same products, bit for bit
    keep = np.array([True, False, True, False])
    assert mixed.select(keep)(5).tolist() == [inv_t(0.3)(5), inv_sqrt(0.1)(5)]
    assert schedule_from_description(mixed.describe())(9).tolist() == mixed(9).tolist()


def test_per_run_kinds_are_checked():
    with pytest.raises(ValueError, match="schedule kind"):
        Schedule(np.array([1.0, 2.0]), ["inv_t", "cosine"])
    with pytest.raises(ValueError, match="eta0's shape"):
        Schedule(np.array([1.0, 2.0]), ["inv_t"])


def test_stacked_problem_evaluates_each_row_by_its_problem():
    problems = [quadratic(3, cond=5.0, seed=1), huber(3, seed=2),
                logistic_regression(20, 3, seed=3)]
    assignment = np.array([2, 0, 0, 1, 2])
    stack = StackedProblem(problems, assignment)
    x = np.random.default_rng(0).standard_normal((5, 3))
    value, grad = stack.value_and_grad(x)
    for i, p in enumerate(assignment):   # rounding differs between a batch and one vector
        assert value[i] == pytest.approx(problems[p].value(x[i]), rel=1e-14)
        np.testing.assert_allclose(grad[i], problems[p].grad(x[i]), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(stack.f_star, [problems[p].f_star for p in assignment])
    narrowed = stack.select(np.array([True, False, True, False, True]))
    np.testing.assert_array_equal(narrowed.assignment, [2, 0, 2])
    assert stack.L == max(p.L for p in problems)


@pytest.mark.parametrize("problems, assignment, message", [
    ([quadratic(3, seed=0), quadratic(4, seed=0)], [0, 1], "share the dimension"),
    ([quadratic(3, seed=0)], [0, 1], "problem indices in"),
    ([quadratic(3, seed=0)], [[0]], "1-d array"),
    ([], [], "non-empty"),
])
def test_stacked_problem_rejects_bad_input(problems, assignment, message):
    with pytest.raises(ValueError, match=message):
        StackedProblem(problems, np.array(assignment))


def test_batched_rows_equal_runs_alone_after_drops():
    """Twelve runs: two problems, three schedule kinds, per-run step sizes and tolerances; some
    converge early, some diverge, so the program drops rows on the way."""
    problems = [quadratic(4, cond=10.0, seed=5), huber(4, seed=6)]
    rng = np.random.default_rng(7)
    n = 6
    assignment = np.repeat([0, 1], n)
    x0 = np.stack([problems[p].x_star for p in assignment]) + rng.standard_normal((2 * n, 4))
    kinds = np.tile(KINDS, 4)
    eta0 = np.array([0.05, 0.3, 1.0, 3.0, 0.5, 0.01] * 2) / np.array([problems[p].L
                                                                      for p in assignment])
    tol = np.geomspace(1e-2, 1e-7, 2 * n)
    batch = minimize(EMC(K=2, lr=Schedule(eta0, kinds), reading="linear"),
                     StackedProblem(problems, assignment), x0, 200, tol=tol)
    assert len(set(batch.stop_step.tolist())) > 3      # rows stopped at many different steps
    assert {"converged", "max_steps"} <= set(batch.status.tolist())
    for i, p in enumerate(assignment):
        alone = minimize(EMC(K=2, lr=Schedule(float(eta0[i]), str(kinds[i])), reading="linear"),
                         problems[p], x0[i], 200, tol=float(tol[i]))
        assert (batch.status[i], batch.stop_step[i]) == (alone.status, alone.stop_step), i
        np.testing.assert_allclose(batch.grad_norm[:, i], alone.grad_norm, rtol=1e-8,
                                   atol=1e-300)


def test_per_run_tolerance_shape_is_checked():
    problem = quadratic(3, seed=0)
    with pytest.raises(ValueError, match=r"tol must be a scalar or have one entry per run"):
        minimize(EMC(K=2, lr=0.1), problem, np.zeros((4, 3)), 5, tol=np.ones(3))
    with pytest.raises(ValueError, match="gap_tol must be finite and > 0"):
        minimize(EMC(K=2, lr=0.1), problem, np.zeros((4, 3)), 5, gap_tol=np.array([1, 1, 0, 1]))


def test_float32_run_stays_float32_and_follows_the_closed_form():
    """Gradient descent on a quadratic from float32 start points: the iterates stay float32 and
    the gap follows :math:`\\tfrac12 s_t^\\top H s_t`, :math:`s_t = (I - \\eta H)^t s_0`, computed
    in float64 from the eigendecomposition, to float32 accuracy."""
    from emc_theory.baselines import GradientDescent

    problem = quadratic(6, 10.0, seed=4)
    H = problem.hessian(problem.x_star)
    eigenvalues, Q = np.linalg.eigh(H)
    x0 = (problem.x_star + np.random.default_rng(2).standard_normal((3, 6))).astype(np.float32)
    lr, steps = 1.0 / problem.L, 40
    run = minimize(GradientDescent(lr=lr), problem, x0, steps)
    assert run.params.dtype == np.float32
    s0 = (x0.astype(np.float64) - problem.x_star) @ Q
    st = s0 * (1 - lr * eigenvalues) ** steps
    expected = 0.5 * np.sum(eigenvalues * st**2, axis=-1)
    np.testing.assert_allclose(run.final_gap, expected, rtol=1e-3)


def test_float32_emc_run_agrees_with_float64():
    problem = logistic_regression(n=40, d=8, seed=3)
    x0 = np.random.default_rng(5).standard_normal((4, 8)).astype(np.float32)
    runs = {dtype: minimize(EMC(K=3, lr=0.5, reading="power"), problem, x0.astype(dtype), 60)
            for dtype in (np.float32, np.float64)}
    assert runs[np.float32].params.dtype == np.float32
    np.testing.assert_allclose(runs[np.float32].params, runs[np.float64].params, rtol=1e-3,
                               atol=1e-4)
    np.testing.assert_allclose(runs[np.float32].final_gap, runs[np.float64].final_gap, rtol=1e-2,
                               atol=1e-6)
