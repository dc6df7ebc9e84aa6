"""The run-outcome classifier against runs whose behaviour is known in closed form: gradient
descent on f = (L/2)|x|^2 (L = 4, x0 = (3, 0), so every iterate is exact in binary) at steps
1/(2L) (geometric, factor 1/2), 1/L (stationary after one step), 2/L (the period-2 orbit
x <-> -x of amplitude L|x0| = 12) and 2.5/L (growth 2.25 per step in f: diverges at a step
computed here); gradient descent with eta_t = 1/(2t) (the Gamma-function product, power law
t^(-1/2)); and constructed histories (periods, power laws, quasi-periodic noise)."""
import math

import numpy as np
import pytest
from scipy.special import gammaln

from emc_theory import minimize
from emc_theory.optimizers import OPTIMIZERS
from emc_theory.outcomes import CLASSES, FAILED_STATUSES, classify_runs, classify_trajectory
from emc_theory.problems import quadratic
from emc_theory.schedules import Schedule

L = 4.0
X0 = np.array([3.0, 0.0])
PROBLEM = quadratic(2, eigenvalues=np.array([L, L]), rotate=False, x_star=np.zeros(2))
GD = OPTIMIZERS["gd"]


def gd(eta, steps=60, **options):
    return minimize(GD(lr=eta), PROBLEM, X0, steps, record_iterates=True, **options)


def test_geometric_convergence_at_half_the_step():
    """eta = 1/(2L): x_t = 3 2^-t exactly, |g_t| = 12 2^-t: factor 1/2; the exponent is the
    steeper log-log slope, that of f - f* = 18 4^-t: log(1/4) times the least-squares slope of t
    against log t over [30, 60] (numpy polyfit)."""
    tr = gd(1 / (2 * L))
    np.testing.assert_array_equal(tr.grad_norm, 12.0 * 0.5 ** np.arange(61))
    out = classify_trajectory(tr)
    assert out.kind.tolist() == ["converging"] and out.period.tolist() == [0]
    assert out.factor[0] == pytest.approx(0.5, rel=1e-12)
    t = np.arange(30, 61)
    assert out.exponent[0] == pytest.approx(np.log(0.25) * np.polyfit(np.log(t), t, 1)[0],
                                            rel=1e-9)
    # level: geometric mean of |g| over the last tenth (t = 54..60)
    assert out.level[0] == pytest.approx(12.0 * 0.5 ** np.mean(np.arange(54, 61)), rel=1e-12)


def test_step_one_over_L_lands_on_the_minimiser():
    tr = gd(1 / L, tol=1e-12)
    out = classify_trajectory(tr)
    assert (tr.status, tr.stop_step) == ("converged", 1) and out.kind.tolist() == ["converged"]
    assert np.isnan(out.exponent[0]) and np.isnan(out.amplitude[0])


def test_step_two_over_L_is_a_period_two_cycle():
    """x_t = (-1)^t x0: the iterates have period 2, the norms period 1; amplitude L|x0| = 12."""
    tr = gd(2 / L)
    with_x = classify_trajectory(tr)
    assert with_x.kind.tolist() == ["cycle"] and with_x.period.tolist() == [2]
    assert with_x.amplitude[0] == 12.0
    norms_only = classify_trajectory(tr, iterates=False)
    assert norms_only.kind.tolist() == ["cycle"] and norms_only.period.tolist() == [1]
    assert norms_only.amplitude[0] == 12.0


def test_step_above_two_over_L_diverges_when_the_closed_form_says():
    """eta = 2.5/L: f_t = 18 * 2.25^t passes 1e6 (f_0 + 1) at the first t with
    t > log(1e6 * 19/18) / log(2.25)."""
    tr = gd(2.5 / L)
    first = math.floor(math.log(1e6 * 19 / 18) / math.log(2.25)) + 1
    out = classify_trajectory(tr)
    assert (tr.status, int(tr.stop_step)) == ("diverged", first)
    assert out.kind.tolist() == ["diverged"] and out.failed().tolist() == [True]


def test_diminishing_step_power_law():
    """eta_t = 1/(2t) on curvature 1: x_t = x0 prod_(s<=t) (1 - 1/(2s)) = x0 Gamma(t + 1/2) /
    (Gamma(1/2) Gamma(t + 1)) ~ t^(-1/2): the fitted exponent equals the least-squares slope of
    the exact log-Gamma sequence, and is -1/2 to O(1/t)."""
    problem = quadratic(2, eigenvalues=np.array([1.0, 1.0]), rotate=False, x_star=np.zeros(2))
    T = 400
    tr = minimize(GD(lr=Schedule(0.5, "inv_t")), problem, X0, T)
    t = np.arange(T + 1)
    exact = 3.0 * np.exp(gammaln(t + 0.5) - gammaln(0.5) - gammaln(t + 1))
    np.testing.assert_allclose(tr.grad_norm, exact, rtol=1e-11)
    out = classify_runs(tr.grad_norm, [tr.status])   # norms only: the exponent of |g|
    window = np.arange(T // 2, T + 1)
    slope = np.polyfit(np.log(window), np.log(exact[window]), 1)[0]
    assert out.kind.tolist() == ["converging"]
    assert out.exponent[0] == pytest.approx(slope, abs=1e-9)
    assert abs(out.exponent[0] + 0.5) < 2e-3


def _status(n, value="max_steps"):
    return np.full(n, value, dtype=object)


def test_constructed_histories():
    T = 200
    t = np.arange(T + 1, dtype=float)
    with np.errstate(divide="ignore"):
        columns = {
            "period 3": np.tile([1.0, 2.0, 3.0], T // 3 + 1)[:T + 1],
            "power law": np.where(t > 0, t, 1.0) ** -1.0,
            "growing": np.sqrt(t + 1.0),
            "quasi-periodic": 1.0 + 0.3 * np.sin(np.sqrt(2.0) * t),
            "slow geometric": (1 - 1e-4) ** t,
            "stationary": np.where(t < 50, 1.0, 0.0),
        }
    out = classify_runs(np.column_stack(list(columns.values())), _status(len(columns)))
    kinds = dict(zip(columns, out.kind.tolist()))
    assert kinds == {"period 3": "cycle", "power law": "converging", "growing": "diverging",
                     "quasi-periodic": "stalled", "slow geometric": "stalled",
                     "stationary": "converged"}
    assert out.period.tolist() == [3, 0, 0, 0, 0, 0]
    assert out.amplitude[0] == 3.0 and np.isnan(out.amplitude[1:]).all()
    assert out.exponent[1] == pytest.approx(-1.0, abs=1e-12)
    assert out.exponent[2] == pytest.approx(
        np.polyfit(np.log(t[100:]), 0.5 * np.log(t[100:] + 1), 1)[0], rel=1e-9)


def test_gap_history_joins_the_trend_and_the_cycle_test():
    """The steeper of |g| and f - f* decides the trend; a cycle must repeat in both."""
    T = 100
    t = np.arange(1, T + 2, dtype=float)
    flat = np.ones(T + 1)
    out = classify_runs(np.column_stack([flat, flat]), _status(2),
                        f_gap=np.column_stack([t**-2.0, flat]))
    assert out.kind.tolist() == ["converging", "cycle"]
    assert out.exponent[0] == pytest.approx(
        np.polyfit(np.log(np.arange(50, 101)), -2 * np.log(np.arange(51, 102)), 1)[0], rel=1e-9)


def test_runner_statuses_pass_through_and_counts():
    T = 20
    gn = np.full((T + 1, 4), np.nan)
    gn[:6] = 1.0
    out = classify_runs(gn, ["converged", "diverged", "non-finite", "converged"])
    assert out.kind.tolist() == ["converged", "diverged", "non-finite", "converged"]
    assert out.counts() == {"converged": 2, "diverged": 1, "non-finite": 1}
    assert list(out.counts()) == [c for c in CLASSES if c in out.counts()]
    assert out.failed().tolist() == [False, True, True, False]
    assert set(FAILED_STATUSES) < set(CLASSES)


@pytest.mark.parametrize("kwargs, match", [
    ({"grad_norm": np.ones((4, 2))}, "at least 4 steps"),
    ({"status": ["max_steps"]}, "one entry per run"),
    ({"status": ["max_steps", "exploded"]}, "status entries"),
    ({"f_gap": np.ones((11, 3))}, "f_gap must have shape"),
    ({"iterates": np.ones((11, 2))}, "iterates must have shape"),
    ({"slope_tol": 0.0}, "slope_tol"),
    ({"max_period": 0}, "max_period"),
])
def test_bad_input_names_the_parameter(kwargs, match):
    args = {"grad_norm": np.ones((11, 2)), "status": ["max_steps", "max_steps"], **kwargs}
    with pytest.raises(ValueError, match=match):
        classify_runs(args.pop("grad_norm"), args.pop("status"), **args)
