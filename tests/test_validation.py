"""Inputs validated at the boundary and numerical robustness of the core (issue 16, items 2-3):
each case either raises a ValueError/TypeError naming the parameter (and its allowed range), or
gives the documented result, checked against an independent value (a closed form, a scaling
law, Adam's Algorithm 1 in 50-digit arithmetic). The optimizer-wide cases (a state from another
optimizer or corrupted, an empty batch, complex params or grads, lr of a wrong type or length)
are in ``test_optimizer_battery.py``, once per optimizer."""

import mpmath
import numpy as np
import pytest

import emc_theory as et
from emc_theory.baselines import Adam
from emc_theory.cascade import MAX_LEVELS, level_betas, level_timescales
from emc_theory.problems import (
    cauchy_loss,
    cosine_bowl,
    huber,
    log_sum_exp,
    logistic_regression,
    quadratic,
    smoothed_abs,
)
from emc_theory.replay import run_spec
from emc_theory.schedules import Schedule
from emc_theory.validation import check_positive

# ---- lr --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [[0.1, 0.2], "0.1"])
def test_lr_as_a_list_or_a_string_names_lr_and_its_forms(lr):
    with pytest.raises(TypeError, match=r"lr .*must be a real number > 0, a numpy array"):
        et.EMC(lr=lr)


def test_a_callable_lr_returning_a_string_names_the_schedule_value():
    opt = et.EMC(lr=lambda t: "0.1")
    with pytest.raises(TypeError, match=r"lr schedule value at step t=1"):
        opt.update(np.ones(3), opt.init(np.zeros(3)))


def test_emc_per_run_schedule_of_the_wrong_length_names_lr():
    sched = Schedule(np.full(3, 0.1), ["constant", "inv_t", "inv_sqrt"])
    with pytest.raises(ValueError, match=r"per-run lr must have the shape of the batch axes of "
                                         r"params \(2,\).*got \(3,\)"):
        et.EMC(lr=sched).init(np.zeros((2, 4)))


# ---- complex input -----------------------------------------------------------------------------


def test_complex_start_points_are_refused():
    problem = quadratic(3, seed=0)
    x0 = np.array([1.0, 2.0, 3.0]) + 1j
    with pytest.raises(TypeError, match=r"\bx\b.*complex"):
        problem.value_and_grad(x0)
    with pytest.raises(TypeError, match=r"\bx0\b.*complex"):
        run_spec(et.EMC(), problem, x0, 10)
    with pytest.raises(TypeError, match="complex"):   # the runner's own message: see the report
        et.minimize(et.EMC(), problem, x0, 10)


@pytest.mark.parametrize("build, name", [
    (lambda: quadratic(3, x_star=[1j, 0.0, 0.0]), "x_star"),
    (lambda: quadratic(3, eigenvalues=[1.0, 2.0, 3.0 + 1j]), "eigenvalues"),
    (lambda: huber(3, weights=np.array([1.0, 1.0, 1.0]) + 0j), "weights"),
    (lambda: quadratic(3, cond=10 + 0j), "cond"),
])
def test_complex_problem_parameters_are_refused_naming_them(build, name):
    with pytest.raises(TypeError, match=rf"\b{name}\b.*complex"):
        build()


def test_complex_gradients_to_the_entropy_are_refused():
    with pytest.raises(TypeError, match=r"\bg\b.*complex"):
        et.gradient_entropy(np.ones(3) * 1j)


def test_strings_are_not_parsed_as_numbers():
    with pytest.raises(TypeError, match=r"\btau\b"):
        et.EMC(tau="1.0")
    with pytest.raises(TypeError, match=r"\blr\b"):
        check_positive("lr", "0.1")


# ---- tau ---------------------------------------------------------------------------------------


def test_tau_whose_slopes_overflow_names_tau_and_its_range():
    with pytest.raises(ValueError, match=r"tau must lie in \[5.563e-309, inf\) for float64"):
        et.EMC(tau=5e-324)
    with pytest.raises(ValueError, match=r"tau must lie in \[5.563e-309, inf\)"):
        et.cascade_weights(0.5, 3, tau=5e-324)
    with pytest.raises(ValueError, match=r"tau must lie in \[2.939e-39, inf\) for float32"):
        et.EMC(tau=1e-300).init(np.zeros(3, np.float32))


def test_smallest_allowed_tau_gives_the_hard_max_of_the_weights():
    # tau -> 0: alpha -> the one-hot on the largest lambda_k Ht, i.e. level K when Ht > 0
    for dtype, tau in ((np.float64, 1e-308), (np.float32, 1e-38)):
        opt = et.EMC(K=3, lr=0.1, tau=tau)
        g = np.array([1.0, 2.0, 3.0], dtype)
        updates, _, diag = opt.update_with_diagnostics(g, opt.init(np.zeros(3, dtype)))
        assert np.all(np.isfinite(updates))
        np.testing.assert_array_equal(diag.weights, [0.0, 0.0, 1.0])


# ---- K -----------------------------------------------------------------------------------------


def test_K_beyond_the_float64_significand_is_refused_with_the_reason():
    assert MAX_LEVELS == 53
    for call in (lambda: et.EMC(K=54), lambda: level_betas(54), lambda: level_timescales(1100),
                 lambda: et.cascade_weights(0.5, 54)):
        with pytest.raises(ValueError, match=r"K must be an integer in \[1, 53\].*rounds to 1"):
            call()
    with pytest.raises(ValueError, match=r"K must be an integer in \[1, 24\].*float32"):
        et.EMC(K=25).init(np.zeros(3, np.float32))


@pytest.mark.parametrize("dtype, K", [(np.float64, 53), (np.float32, 24)])
def test_the_deepest_allowed_level_still_moves(dtype, K):
    # one step from m = 0: m_k = (1 - beta_k) g = 2^-k g exactly
    opt = et.EMC(K=K, lr=0.1)
    g = np.array([1.0, -3.0, 0.5], dtype)
    _, state = opt.update(g, opt.init(np.zeros(3, dtype)))
    np.testing.assert_array_equal(state.momenta[-1], np.ldexp(g, -K))


# ---- problems ----------------------------------------------------------------------------------


@pytest.mark.parametrize("build, pattern", [
    (lambda: quadratic(3, cond=1e300, mu=1e10), r"cond must lie in \[1, 1.798e\+298\]"),
    (lambda: quadratic(3, mu=1e-310), r"mu must lie in \[2.225e-308"),
    (lambda: quadratic(3, eigenvalues=[0.0, 1e-310, 1e-311]), r"\bL = 1e-310 must lie in"),
    (lambda: quadratic(4, cond=1.0, mu=1.7e308), r"Hessian matrix .* overflows"),
    (lambda: log_sum_exp(scale=1e-200), r"scale must lie in \[.*\].*\|\|A\|\|_2"),
    (lambda: log_sum_exp(scale=1e200), r"scale must lie in \["),
    (lambda: logistic_regression(reg=1e-320), r"reg must be 0 or lie in"),
    (lambda: smoothed_abs(eps=1e-320), r"eps must lie in \["),
    (lambda: cauchy_loss(scale=1e-160), r"scale must lie in \["),
    (lambda: cosine_bowl(a=1e300, w=1e10), r"a \* w\*\*2 must be at most"),
    (lambda: cosine_bowl(w=1e200), r"a \* w\*\*2 must be at most"),
    (lambda: huber(3, weights=[1e-320] * 3), r"\bL = 1e-320 must lie in"),
])
def test_problem_constants_that_overflow_or_underflow_name_the_parameter(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


def test_log_sum_exp_minimum_follows_the_scaling_law_at_small_scales():
    # f_s(x) = F(s x) with F the scale-1 function (reg = 0): f_s* = F*, x_s* = x_1* / s
    base = log_sum_exp(d=4, m=9, seed=3)
    for scale in (1e-3, 1e-12, 1e-100):
        small = log_sum_exp(d=4, m=9, seed=3, scale=scale)
        assert small.f_star == pytest.approx(base.f_star, rel=1e-12)
        np.testing.assert_allclose(small.x_star * scale, base.x_star, rtol=1e-8, atol=0)


# ---- entropy -----------------------------------------------------------------------------------


def test_entropy_of_an_empty_gradient_names_g():
    for call in (et.gradient_entropy, et.normalized_entropy):
        with pytest.raises(ValueError, match=r"\bg\b|\bd\b"):
            call(np.array([]))
    with pytest.raises(ValueError, match=r"g must have at least one entry along its last axis"):
        et.gradient_entropy(np.zeros((3, 0)))


def test_entropy_of_an_empty_batch_is_empty():
    h = et.gradient_entropy(np.zeros((0, 4), np.float32))
    assert h.shape == (0,) and h.dtype == np.float32


# ---- Adam's second moment ----------------------------------------------------------------------


def adam_reference(grads, lr, b1, b2, eps):
    """Adam's Algorithm 1 in 50-digit arithmetic (no overflow at these magnitudes)."""
    with mpmath.workdps(50):
        m = [mpmath.mpf(0)] * len(grads[0])
        v = list(m)
        out = []
        for t, g in enumerate(grads, start=1):
            row = []
            for i, gi in enumerate(g):
                gi = mpmath.mpf(float(gi))
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi**2
                m_hat = m[i] / (1 - mpmath.mpf(b1) ** t)
                v_hat = v[i] / (1 - mpmath.mpf(b2) ** t)
                row.append(float(-lr * m_hat / (mpmath.sqrt(v_hat) + eps)))
            out.append(row)
        return np.array(out)


@pytest.mark.parametrize("dtype, huge, rtol", [(np.float64, 1e300, 1e-12),
                                               (np.float32, 1e30, 2e-6)])
def test_adam_huge_finite_gradient_does_not_freeze_the_coordinate(dtype, huge, rtol):
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    grads = [[huge, 1.0, -huge]] + [[1.0, 1.0, 0.5]] * 5 + [[-huge / 7, 2.0, huge]] * 3
    opt = Adam(lr, b1=b1, b2=b2, eps=eps)
    state, got = opt.init(np.zeros(3, dtype)), []
    for g in grads:
        u, state = opt.update(np.array(g, dtype), state)
        assert u.dtype == dtype
        got.append(u)
    want = adam_reference(np.array(grads, dtype), lr, b1, b2, eps)
    np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=rtol, atol=0)
    assert np.all(np.abs(np.array(got)[1:6, 0]) > 1e-3)   # today's code gives exactly 0 here


def test_adam_returns_to_the_plain_second_moment_when_it_decays():
    opt = Adam(0.1, b1=0.5, b2=0.5)
    state = opt.init(np.zeros(2))
    _, state = opt.update(np.array([1e300, 1.0]), state)
    assert state.second_moment_exponent is not None
    steps = 0
    while state.second_moment_exponent is not None:
        _, state = opt.update(np.array([1.0, 1.0]), state)
        steps += 1
    # after n more steps v = 0.5^n * 0.5e600 + 1 - 0.5^n, below 2^(1024 - 8 - 1) once
    # n > log2(0.5e600) - 1015 (about 978)
    with mpmath.workdps(30):
        v1 = mpmath.mpf(10) ** 600 / 2
        expected = int(mpmath.ceil(mpmath.log(v1, 2) - 1015))
        assert steps in (expected, expected + 1)
        want = float(v1 * mpmath.mpf(2) ** -steps + 1 - mpmath.mpf(2) ** -steps)
    np.testing.assert_allclose(state.second_moment[0], want, rtol=1e-12)
