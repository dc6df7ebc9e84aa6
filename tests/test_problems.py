"""Test functions: gradients and Hessians against finite differences, stated L and mu against the
Hessian spectrum and closed forms, minimisers against stationarity and an independent optimizer,
batching against per-point loops, describe()/make_problem round trips and bad input."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from emc_theory.problems import (
    PROBLEM_NAMES,
    Problem,
    cauchy_loss,
    cosine_bowl,
    huber,
    log_sum_exp,
    logistic_regression,
    make_problem,
    quadratic,
    smoothed_abs,
)

CASES = {
    "quadratic_geometric_rotated": lambda: quadratic(6, 100.0, seed=1),
    "quadratic_linear_axis": lambda: quadratic(5, 20.0, spectrum="linear", rotate=False, mu=0.5,
                                               seed=2),
    "quadratic_psd_eigenvalues": lambda: quadratic(4, eigenvalues=[0.0, 1.0, 2.0, 5.0], seed=3),
    "logistic": lambda: logistic_regression(n=40, d=6, seed=1),
    "logistic_unregularised": lambda: logistic_regression(n=60, d=5, reg=0.0, seed=2),
    "logistic_separable_reg": lambda: logistic_regression(n=30, d=4, reg=0.05, separable=True),
    "logistic_separable_no_minimiser": lambda: logistic_regression(n=30, d=4, reg=0.0,
                                                                   separable=True),
    "lse": lambda: log_sum_exp(d=6, m=15, seed=2),
    "lse_reg_scaled": lambda: log_sum_exp(d=4, m=3, scale=3.0, reg=0.1, seed=5),
    "huber": lambda: huber(d=6, delta=0.5, seed=4, weights=[1.0, 2.0, 0.5, 1.0, 3.0, 1.5]),
    "huber_rotated": lambda: huber(d=5, delta=2.0, seed=5, rotate=True),
    "smoothed_abs": lambda: smoothed_abs(d=5, eps=0.3, seed=6),
    "smoothed_abs_rotated": lambda: smoothed_abs(d=4, eps=1.5, seed=7, rotate=True,
                                                 weights=[1.0, 0.2, 2.0, 1.0]),
    "cauchy": lambda: cauchy_loss(d=5, scale=0.7, seed=8),
    "cauchy_rotated": lambda: cauchy_loss(d=4, scale=2.0, seed=9, rotate=True),
    "cosine": lambda: cosine_bowl(d=5, a=0.5, w=3.0, seed=10),
    "cosine_rotated": lambda: cosine_bowl(d=3, seed=11, rotate=True, x_star=[1.0, -2.0, 0.5]),
}
PROBLEMS = {name: build() for name, build in CASES.items()}
CASE_IDS = sorted(PROBLEMS)


def centre(problem: Problem) -> np.ndarray:
    return np.zeros(problem.d) if problem.x_star is None else np.asarray(problem.x_star)


def sample_points(problem: Problem, seed: int, radii=(0.03, 0.3, 1.0, 3.0, 10.0), per_radius=8):
    rng = np.random.default_rng(seed)
    return np.concatenate([centre(problem) + r * rng.standard_normal((per_radius, problem.d))
                           for r in radii])


def central_gradient(f, x, h=1e-6):
    """Central differences, one coordinate at a time on single points (no batching)."""
    grad = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


def test_registry_lists_every_factory():
    assert set(PROBLEM_NAMES) == {"quadratic", "logistic_regression", "log_sum_exp", "huber",
                                  "smoothed_abs", "cauchy_loss", "cosine_bowl"}
    assert {p.name for p in PROBLEMS.values()} == set(PROBLEM_NAMES)
    assert all(isinstance(p, Problem) for p in PROBLEMS.values())


@pytest.mark.parametrize("case", CASE_IDS)
def test_gradient_matches_central_differences(case):
    p = PROBLEMS[case]
    for x in sample_points(p, 1, radii=(0.2, 1.0, 4.0), per_radius=2):
        fd = central_gradient(lambda z: float(p.value(z)), x)
        np.testing.assert_allclose(p.grad(x), fd, rtol=1e-6, atol=1e-6 * max(1.0, p.L))


@pytest.mark.parametrize("case", CASE_IDS)
def test_hessian_matches_central_differences_of_grad(case):
    p = PROBLEMS[case]
    for x in sample_points(p, 2, radii=(0.2, 1.0, 4.0), per_radius=2):
        fd = np.stack([central_gradient(lambda z, j=j: p.grad(z)[j], x) for j in range(p.d)])
        hess = p.hessian(x)
        np.testing.assert_allclose(hess, hess.T, atol=1e-12 * p.L)
        np.testing.assert_allclose(hess, fd, rtol=1e-5, atol=1e-5 * max(1.0, p.L))


@pytest.mark.parametrize("case", CASE_IDS)
def test_stated_L_and_mu_bound_hessian_spectrum(case):
    """max |eig| <= L (L-smoothness, also for non-convex f); min eig >= mu where mu is stated."""
    p = PROBLEMS[case]
    eigs = np.array([np.linalg.eigvalsh(p.hessian(x)) for x in sample_points(p, 3)])
    assert np.abs(eigs).max() <= p.L * (1 + 1e-10)
    if p.mu is not None:
        assert eigs.min() >= p.mu - 1e-10 * p.L


SEPARABLE_L = {  # closed forms max_i w_i sup|rho''| from the profiles' second derivatives
    "huber": lambda p: max(p.params["weights"] or [1.0]),
    "smoothed_abs": lambda p: max(p.params["weights"] or [1.0]) / p.params["eps"],
    "cauchy_loss": lambda p: 2 * max(p.params["weights"] or [1.0]) / p.params["scale"] ** 2,
    "cosine_bowl": lambda p: max(p.params["weights"] or [1.0]) * (1 + p.params["a"]
                                                                  * p.params["w"] ** 2),
}


@pytest.mark.parametrize("case", [c for c in CASE_IDS if PROBLEMS[c].name in SEPARABLE_L])
def test_separable_L_closed_form_and_attained_at_minimiser(case):
    p = PROBLEMS[case]
    expected = SEPARABLE_L[p.name](p)
    assert p.L == pytest.approx(expected, rel=1e-12)
    assert np.linalg.eigvalsh(p.hessian(p.x_star)).max() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("spectrum, formula", [
    ("geometric", lambda mu, cond, d: mu * cond ** (np.arange(d) / (d - 1))),
    ("linear", lambda mu, cond, d: mu + (mu * cond - mu) * np.arange(d) / (d - 1)),
])
@pytest.mark.parametrize("rotate", [True, False])
def test_quadratic_spectrum_is_the_closed_form(spectrum, formula, rotate):
    d, cond, mu = 7, 250.0, 0.3
    p = quadratic(d, cond, spectrum=spectrum, rotate=rotate, mu=mu, seed=4)
    expected = formula(mu, cond, d)
    assert p.L == pytest.approx(mu * cond, rel=1e-14) and p.mu == pytest.approx(mu, rel=1e-14)
    rng = np.random.default_rng(0)
    for x in rng.standard_normal((3, d)):
        np.testing.assert_allclose(np.linalg.eigvalsh(p.hessian(x)), expected, rtol=1e-10)
        y = x - p.x_star  # f = 0.5 y^T H y with the (constant) Hessian, f* = 0
        assert float(p.value(x)) == pytest.approx(0.5 * y @ p.hessian(x) @ y, rel=1e-12)


def test_quadratic_explicit_psd_spectrum_is_convex_not_strongly():
    p = PROBLEMS["quadratic_psd_eigenvalues"]
    assert p.mu == 0.0 and p.L == 5.0
    np.testing.assert_allclose(np.linalg.eigvalsh(p.hessian(np.zeros(4))), [0, 1, 2, 5],
                               atol=1e-12)


@pytest.mark.parametrize("case", ["logistic", "logistic_unregularised", "logistic_separable_reg",
                                  "logistic_separable_no_minimiser"])
def test_logistic_L_is_attained_at_origin_and_mu_is_tight_far_away(case):
    """At x = 0 every sigma(1 - sigma) = 1/4, so lambda_max(H(0)) = ||X||^2/(4n) + reg = L; far
    out the data term's curvature vanishes, so inf min-eig = reg = mu."""
    p = PROBLEMS[case]
    assert np.linalg.eigvalsh(p.hessian(np.zeros(p.d))).max() == pytest.approx(p.L, rel=1e-12)
    assert p.mu == p.params["reg"]
    far = 200.0 * np.random.default_rng(1).standard_normal(p.d)
    assert np.linalg.eigvalsh(p.hessian(far)).min() - p.mu < 1e-8


def test_log_sum_exp_curvature_lemma_and_L_bound():
    """lambda_max(diag(p) - p p^T) <= 1/2 (equality at p = (1/2, 1/2, 0, ...)), so the stated
    L = ||A||^2/2 + reg bounds the Hessian; mu = reg is tight far away."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(6, 0.3), size=500)
    covariances = [np.diag(q) - np.outer(q, q) for q in probs]
    assert max(np.linalg.eigvalsh(c).max() for c in covariances) <= 0.5
    half = np.array([0.5, 0.5, 0, 0, 0, 0])
    assert np.linalg.eigvalsh(np.diag(half) - np.outer(half, half)).max() == pytest.approx(0.5)
    for case in ("lse", "lse_reg_scaled"):
        p = PROBLEMS[case]
        assert p.mu == p.params["reg"]
        far = 100.0 * rng.standard_normal(p.d)
        assert np.linalg.eigvalsh(p.hessian(far)).min() - p.mu < 1e-8


def test_huber_and_smoothed_abs_are_not_strongly_convex():
    p = PROBLEMS["huber"]
    outside = p.x_star + 2 * p.params["delta"]  # every |t_i| > delta: Hessian is exactly 0
    assert p.mu == 0.0
    np.testing.assert_array_equal(p.hessian(outside), np.zeros((p.d, p.d)))
    q = PROBLEMS["smoothed_abs"]
    eps = q.params["eps"]
    min_eigs = [np.linalg.eigvalsh(q.hessian(q.x_star + t)).min() for t in (1.0, 10.0, 1e3)]
    expected = [eps**2 / (t**2 + eps**2) ** 1.5 for t in (1.0, 10.0, 1e3)]
    np.testing.assert_allclose(min_eigs, expected, rtol=1e-9)  # min over weights = 1 coordinates
    assert q.mu == 0.0 and min_eigs[-1] < 1e-9


@pytest.mark.parametrize("case, t_neg, curvature", [
    ("cauchy", lambda p: np.sqrt(3) * p.params["scale"],
     lambda p: -1 / (4 * p.params["scale"] ** 2)),
    ("cauchy_rotated", lambda p: np.sqrt(3) * p.params["scale"],
     lambda p: -1 / (4 * p.params["scale"] ** 2)),
    ("cosine", lambda p: np.pi / p.params["w"], lambda p: 1 - p.params["a"] * p.params["w"] ** 2),
    ("cosine_rotated", lambda p: np.pi / p.params["w"],
     lambda p: 1 - p.params["a"] * p.params["w"] ** 2),
])
def test_non_convex_problems_have_negative_curvature(case, t_neg, curvature):
    """Cauchy: rho'' = 2(s^2 - t^2)/(s^2 + t^2)^2 = -1/(4 s^2) at t = sqrt(3) s; cosine bowl:
    rho'' = 1 + a w^2 cos(w t) = 1 - a w^2 < 0 at t = pi / w. Unit weights, one coordinate moved."""
    p = PROBLEMS[case]
    direction = np.eye(p.d)[0] if p.rotation is None else p.rotation[:, 0]
    eigs = np.linalg.eigvalsh(p.hessian(p.x_star + t_neg(p) * direction))
    assert p.mu is None
    assert eigs.min() == pytest.approx(curvature(p), rel=1e-9) and eigs.min() < 0


@pytest.mark.parametrize("a, w, mu", [(0.5, 1.0, 0.5), (0.25, 2.0, 0.0), (1.0, 2.0, None)])
def test_cosine_bowl_mu_follows_a_w_squared(a, w, mu):
    assert cosine_bowl(d=3, a=a, w=w).mu == mu


@pytest.mark.parametrize("case", [c for c in CASE_IDS if PROBLEMS[c].x_star is not None])
def test_x_star_is_stationary_and_attains_f_star(case):
    p = PROBLEMS[case]
    assert np.linalg.norm(p.grad(p.x_star)) <= 1e-11 * max(1.0, p.L)
    assert float(p.value(p.x_star)) == p.f_star
    values = p.value(sample_points(p, 4))
    assert np.all(values >= p.f_star - 1e-12)  # f* is a global minimum on the samples


@pytest.mark.parametrize("case", ["logistic", "logistic_unregularised", "logistic_separable_reg",
                                  "lse", "lse_reg_scaled"])
def test_numerical_minimiser_agrees_with_scipy_trust_region(case):
    p = PROBLEMS[case]
    assert "Newton" in p.describe()["x_star_source"]
    x0 = np.random.default_rng(5).standard_normal(p.d)
    ref = minimize(lambda x: float(p.value(x)), x0, jac=p.grad, hess=p.hessian,
                   method="trust-exact", options={"gtol": 1e-11})
    assert ref.fun >= p.f_star - 1e-13
    assert ref.fun == pytest.approx(p.f_star, rel=1e-12, abs=1e-13)
    np.testing.assert_allclose(ref.x, p.x_star, atol=1e-7)


def test_separable_logistic_without_regularisation_has_infimum_zero():
    p = PROBLEMS["logistic_separable_no_minimiser"]
    assert p.x_star is None and p.f_star == 0.0 and p.mu == 0.0
    assert "no minimiser" in p.describe()["x_star_source"]
    # an independent separating direction: y_i a_i^T v >= 1, i.e. (rows of p.A) . v <= -1
    lp = linprog(np.zeros(p.d), A_ub=p.A, b_ub=-np.ones(p.A.shape[0]),
                 bounds=[(None, None)] * p.d, method="highs")
    assert lp.status == 0
    values = p.value(np.array([1.0, 10.0, 100.0])[:, None] * lp.x)
    assert np.all(values > 0) and np.all(np.diff(values) < 0) and values[-1] < 1e-30


def test_unregularised_noisy_logistic_is_not_separable():
    p = PROBLEMS["logistic_unregularised"]
    lp = linprog(np.zeros(p.d), A_ub=p.A, b_ub=-np.ones(p.A.shape[0]),
                 bounds=[(None, None)] * p.d, method="highs")
    assert lp.status == 2 and p.x_star is not None


@pytest.mark.parametrize("case", CASE_IDS)
def test_describe_round_trips_through_json(case):
    p = PROBLEMS[case]
    spec = json.loads(json.dumps(p.describe()))
    q = make_problem(spec)
    assert q.describe() == p.describe()
    x = sample_points(p, 6, radii=(1.0,), per_radius=5)
    np.testing.assert_array_equal(q.value(x), p.value(x))
    np.testing.assert_array_equal(q.grad(x), p.grad(x))


def test_seed_determines_the_problem():
    assert np.array_equal(quadratic(4, seed=3).x_star, quadratic(4, seed=3).x_star)
    assert not np.array_equal(quadratic(4, seed=3).x_star, quadratic(4, seed=4).x_star)
    a, b = logistic_regression(seed=7), logistic_regression(seed=7)
    np.testing.assert_array_equal(a.A, b.A)
    assert a.f_star == b.f_star


def test_make_problem_refuses_a_spec_whose_constants_disagree():
    spec = PROBLEMS["cauchy"].describe()
    spec["L"] = spec["L"] * 2
    with pytest.raises(ValueError, match="L"):
        make_problem(spec)
    with pytest.raises(ValueError, match="name"):
        make_problem({"name": "rosenbrock", "params": {}})
    with pytest.raises(ValueError, match="params"):
        make_problem({"name": "huber"})


@given(case=st.sampled_from(CASE_IDS),
       batch_shape=st.lists(st.integers(1, 3), min_size=0, max_size=3),
       seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None, derandomize=True)
def test_batched_value_and_grad_equal_per_point_loop(case, batch_shape, seed):
    p = PROBLEMS[case]
    x = centre(p) + 2.0 * np.random.default_rng(seed).standard_normal((*batch_shape, p.d))
    values, grads = p.value(x), p.grad(x)
    assert values.shape == tuple(batch_shape) and grads.shape == x.shape
    for index in np.ndindex(*batch_shape):
        np.testing.assert_allclose(values[index], p.value(x[index]), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(grads[index], p.grad(x[index]), rtol=1e-12, atol=1e-14)


@given(case=st.sampled_from(CASE_IDS), seed=st.integers(0, 2**16),
       radius=st.sampled_from([0.1, 1.0, 5.0]))
@settings(max_examples=80, deadline=None, derandomize=True)
def test_descent_lemma_and_convexity_inequalities(case, seed, radius):
    r"""|f(y) - f(x) - <g(x), y - x>| <= L/2 ||y - x||^2 for L-smooth f, and
    f(y) - f(x) - <g(x), y - x> >= mu/2 ||y - x||^2 where mu is stated."""
    p = PROBLEMS[case]
    rng = np.random.default_rng(seed)
    x = centre(p) + radius * rng.standard_normal(p.d)
    y = x + radius * rng.standard_normal(p.d)
    gap = float(p.value(y) - p.value(x) - p.grad(x) @ (y - x))
    half_sq = 0.5 * np.sum((y - x) ** 2)
    slack = 1e-9 * (1 + abs(float(p.value(y))))
    assert abs(gap) <= p.L * half_sq + slack
    if p.mu is not None:
        assert gap >= p.mu * half_sq - slack


BAD_INPUTS = [
    (lambda: quadratic(1), "d"),
    (lambda: quadratic(4, 0.5), "cond"),
    (lambda: quadratic(4, np.inf), "cond"),
    (lambda: quadratic(4, spectrum="log"), "spectrum"),
    (lambda: quadratic(4, mu=-1.0), "mu"),
    (lambda: quadratic(3, eigenvalues=[1.0, 2.0]), "eigenvalues"),
    (lambda: quadratic(2, eigenvalues=[-1.0, 2.0]), "eigenvalues"),
    (lambda: quadratic(2, eigenvalues=[0.0, 0.0]), "eigenvalues"),
    (lambda: quadratic(2, 10.0, eigenvalues=[1.0, 2.0]), "cond"),
    (lambda: quadratic(3, x_star=[0.0, 0.0]), "x_star"),
    (lambda: quadratic(3, seed=-1), "seed"),
    (lambda: huber(d=1), "d"),
    (lambda: huber(delta=0.0), "delta"),
    (lambda: huber(d=3, weights=[1.0, 1.0, 0.0]), "weights"),
    (lambda: huber(d=3, weights=[1.0, 1.0]), "weights"),
    (lambda: smoothed_abs(eps=-1.0), "eps"),
    (lambda: cauchy_loss(scale=0.0), "scale"),
    (lambda: cosine_bowl(a=0.0), "a"),
    (lambda: cosine_bowl(w=-2.0), "w"),
    (lambda: logistic_regression(reg=-1.0), "reg"),
    (lambda: logistic_regression(n=0), "n"),
    (lambda: logistic_regression(d=1), "d"),
    (lambda: log_sum_exp(d=1), "d"),
    (lambda: log_sum_exp(d=5, m=5), "m"),
    (lambda: log_sum_exp(scale=0.0), "scale"),
]


@pytest.mark.parametrize("build, parameter", BAD_INPUTS)
def test_bad_parameters_raise_naming_the_parameter(build, parameter):
    with pytest.raises(ValueError, match=rf"\b{parameter}\b"):
        build()


def test_non_integer_dimension_is_a_type_error_naming_d():
    with pytest.raises(TypeError, match=r"\bd\b"):
        huber(d=2.5)


@pytest.mark.parametrize("case", ["quadratic_linear_axis", "logistic", "cauchy"])
def test_wrong_x_shape_raises_naming_x_and_d(case):
    p = PROBLEMS[case]
    pattern = rf"\bx\b.*\b{p.d}\b"
    for bad in (np.zeros(p.d + 1), np.zeros((3, p.d - 1)), 1.0):
        with pytest.raises(ValueError, match=pattern):
            p.value(bad)
        with pytest.raises(ValueError, match=pattern):
            p.grad(bad)
    with pytest.raises(ValueError, match=rf"\bx\b.*\b{p.d}\b"):
        p.hessian(np.zeros((2, p.d)))


@pytest.mark.parametrize("case", CASE_IDS)
def test_float32_points_are_evaluated_in_float32(case):
    """A float32 x is evaluated in float32 (value, gradient, dtype-cast constants); it agrees with
    the float64 evaluation of the same (float32-representable) point to float32 rounding, with
    an error bound scaled by the terms' magnitude (values cancel against f at the minimum)."""
    p = PROBLEMS[case]
    x32 = sample_points(p, 5).astype(np.float32)
    f32, g32 = p.value_and_grad(x32)
    f64, g64 = p.value_and_grad(x32.astype(np.float64))
    assert f32.dtype == g32.dtype == np.float32 and p.value(x32).dtype == np.float32
    eps = np.finfo(np.float32).eps
    scale = 1.0 + np.abs(f64) + np.abs(x32).max(axis=-1) * np.abs(g64).max(axis=-1)
    assert np.all(np.abs(f32 - f64) <= 64 * eps * scale)
    assert np.all(np.abs(g32 - g64).max(axis=-1)
                  <= 64 * eps * (1.0 + p.L * (np.abs(x32).max(axis=-1) + 1.0)))
    assert p.in_dtype(np.float64) is p and p.in_dtype("float32") is p.in_dtype(np.float32)
    assert p.x_star is None or p.x_star.dtype == np.float64   # the problem itself is unchanged
