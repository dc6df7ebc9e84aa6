"""Theorem 1's proof-level pieces: the exact Lyapunov certificates of linear EMC (verifier, its
rejections, the inequality along real runs with adversarial weights and steps), the brackets from
above, the root reading's exact cycle, the power reading's divergence law, the statement's gap
(no minimiser), and every stored counterexample replaying to its class."""
import copy
import json
import math
import time
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from scipy.optimize import linprog

from emc_theory import cascade_weights
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic, smoothed_abs
from proofs import lyapunov_certificate as lc
from proofs.linear_stability import stability_threshold

CERTS = {rec["K"]: rec for rec in lc.load_certificates()}


# ----------------------------------------------------------------------------- exact helpers

def test_exact_psd_test_against_eigenvalues():
    """is_psd_exact agrees with numpy's eigenvalues on random rational matrices (clear margins),
    accepts singular PSD matrices exactly and rejects a zero diagonal with a nonzero row."""
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = int(rng.integers(1, 6))
        B = rng.integers(-3, 4, size=(n, n))
        shift = int(rng.integers(-4, 5))
        M = B @ B.T + shift * np.eye(n, dtype=int)
        eig = np.linalg.eigvalsh(M.astype(float)).min()
        if abs(eig) < 1e-6:
            continue
        assert lc.is_psd_exact(M.tolist()) == (eig > 0)
    v = np.array([1, -2, 3])
    assert lc.is_psd_exact(np.outer(v, v).tolist())                 # rank one, exact kernel
    assert not lc.is_psd_exact([[0, 1], [1, 5]])
    assert not lc.is_psd_exact([[1, 0], [0, Fraction(-1, 10**12)]])


def test_exp_upper_is_a_tight_upper_bound():
    with mpmath.workdps(60):
        for x in (Fraction(1, 3), Fraction(1, 2), Fraction(1), Fraction(7, 3)):
            exact = mpmath.exp(mpmath.mpf(x.numerator) / x.denominator)
            bound = lc.exp_upper(x)
            value = mpmath.mpf(bound.numerator) / mpmath.mpf(bound.denominator)
            assert exact <= value <= exact * (1 + mpmath.mpf(10) ** -15)


@pytest.mark.parametrize("K", [2, 3, 4])
def test_weight_curve_lies_in_the_polytope(K):
    """Every weight vector of the core's curve (Ht in [0, 1], tau = 1) is a convex combination
    of the polytope's vertices (a linear program, independent of the ratio argument)."""
    poly = lc.weight_polytope(K, 1)
    V = np.array([[float(v) for v in vert] for vert in poly["vertices"]])
    for ht in np.linspace(0, 1, 11):
        alpha = cascade_weights(ht, K)
        res = linprog(np.zeros(len(V)), A_eq=np.vstack([V.T, np.ones(len(V))]),
                      b_eq=np.append(alpha, 1), bounds=[(0, None)] * len(V), method="highs")
        assert res.status == 0, ht
    assert lc.polytope_contains_curve(poly, K)
    assert not lc.polytope_contains_curve(lc.weight_polytope(K, 1, ratio_upper=Fraction(1)), K)


# ----------------------------------------------------------------------------- the certificates

def test_stored_certificates_verify_fast():
    for K in (1, 2, 3):
        started = time.perf_counter()
        res = lc.verify_record(CERTS[K])
        elapsed = time.perf_counter() - started
        assert res["ok"], res["reason"]
        assert elapsed < 5.0
        print(f"K={K}: eta_cert={float(Fraction(CERTS[K]['eta_cert'])):.4f}, eta_const="
              f"{float(Fraction(CERTS[K]['eta_const'])):.4f}, verified in {elapsed:.2f} s")


def _changed(record, path, value):
    rec = copy.deepcopy(record)
    target = rec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value(target[path[-1]])
    return rec


@pytest.mark.parametrize("path, change", [
    (("bands", 0, "lam", "1,0"), lambda v: str(Fraction(v) + Fraction(1, 10**9))),
    (("bands", 0, "c"), lambda v: str(Fraction(v) * 100)),
    (("bands", 0, "eta_hi"), lambda v: str(Fraction(v) * 2)),
    (("bands", 1, "P", 0, 0), lambda v: str(-Fraction(v))),
    (("bands", 0, "a", 0), lambda v: str(Fraction(v) + 1)),
    (("polytope", "ratio_upper"), lambda v: "1"),
    (("eta_const",), lambda v: str(Fraction(v) + 1)),
])
def test_verifier_rejects_one_changed_entry(path, change):
    K = 2
    assert lc.verify_certificate(CERTS[K])
    assert not lc.verify_certificate(_changed(CERTS[K], path, change))


class _Panic(BaseException):
    """Stands for pyo3's PanicException, which is not an Exception subclass."""


class _PanickingProblem:
    status = None

    def solve(self, **kwargs):
        raise _Panic("rust panic")


def test_a_solver_failure_is_never_a_certificate(monkeypatch):
    """A solver that panics (a BaseException) is reported as an error, and an error or an
    inaccurate solution gives no certificate (K = 1, band [0, 1/2], where one exists)."""
    assert lc._solve(_PanickingProblem(), "CLARABEL") == "error"
    poly = lc.weight_polytope(1, 1)
    for status in ("error", "optimal_inaccurate", "infeasible_inaccurate"):
        monkeypatch.setattr(lc, "solve_band",
                            lambda *args, status=status, **kw: {"status": status,
                                                                 "solution": None})
        assert lc.find_band(1, 0, 0, Fraction(1, 2), poly) is None


def _switching_run(problem, K, weights_seq, etas, x0):
    """Linear EMC by its update formula, weights and steps given per step; histories in the
    1-smooth normalisation f/L (the certificate's units)."""
    L = problem.L
    betas = 1 - 2.0 ** -np.arange(1, K + 1)
    x, m = np.array(x0, float), np.zeros((K, problem.d))
    f_hist, g_hist, m_prev = [], [], []
    for alpha, eta in zip(weights_seq, etas):
        f, g = problem.value_and_grad(x)
        f_hist.append((f - problem.f_star) / L)
        g_hist.append(g / L)
        m_prev.append(m / L)
        m = betas[:, None] * m + (1 - betas[:, None]) * g
        x = x - (eta / L) * (alpha @ m)
    return np.array(f_hist), np.array(g_hist), np.array(m_prev)


def _lyapunov(band, K, f, g, m):
    """V_t for t = h..T-1: sum_j a_j f_{t-j} + sum_pq P_pq <z_p, z_q>,
    z = (m^(1..K)_{t-h-1}, g_{t-h}, ..., g_t) (m[t] holds m_{t-1})."""
    h, P = band["h"], np.array([[float(Fraction(v)) for v in row] for row in band["P"]])
    a = [float(Fraction(v)) for v in band["a"]]
    T = len(f)
    Z = np.concatenate([m[: T - h]] + [g[j: T - h + j, None] for j in range(h + 1)], axis=1)
    gram = np.einsum("tpd,tqd->tpq", Z, Z)
    fv = sum(a[j] * f[h - j: T - j] for j in range(h + 1))
    return fv + np.einsum("pq,tpq->t", P, gram)


@pytest.mark.parametrize("K, h", [(1, 0), (2, 1), (3, 2)])
def test_window_model_reproduces_a_run(K, h):
    """The certificate's Gram-basis rows are the run: with e = (m_{t-h-1}, g_{t-h}, ..., g_{t+1})
    from a simulated run (random weights and steps), X @ e gives x_s - x_{t-h}, Z0 @ e and Z1 @ e
    give (m_{t-h-1}, g_{t-h..t}) and (m_{t-h}, g_{t-h+1..t+1})."""
    problem = quadratic(8, cond=5.0, seed=7)
    rng = np.random.default_rng(h)
    T = 12
    W = rng.dirichlet(np.ones(K), T)
    etas = rng.random(T)
    x0 = problem.x_star + rng.standard_normal(problem.d)
    L = problem.L
    betas = 1 - 2.0 ** -np.arange(1, K + 1)
    x, m = x0.copy(), np.zeros((K, problem.d))
    xs, gs, ms = [], [], []
    for alpha, eta in zip(W, etas):
        g = problem.grad(x)
        xs.append(x.copy())
        gs.append(g)
        ms.append(m.copy())
        m = betas[:, None] * m + (1 - betas[:, None]) * g
        x = x - (eta / L) * (alpha @ m)
    t = T - 2
    us = [etas[s] * W[s] for s in range(t - h, t + 1)]
    model = lc.window_model(K, h, us)
    E = np.concatenate([ms[t - h], np.array(gs[t - h: t + 2])])
    for j, row in enumerate(model["X"]):      # 1-smooth units: y = L x, same gradients
        assert np.allclose(row @ E, L * (xs[t - h + j] - xs[t - h]), atol=1e-10)
    assert np.allclose(model["Z0"] @ E, np.concatenate([ms[t - h], np.array(gs[t - h: t + 1])]))
    assert np.allclose(model["Z1"] @ E,
                       np.concatenate([ms[t - h + 1], np.array(gs[t - h + 1: t + 2])]))


PROBLEMS = [quadratic(6, cond=20.0, seed=1), huber(6, seed=2), smoothed_abs(6, eps=0.5, seed=3),
            logistic_regression(40, 6, reg=1e-2, seed=4), log_sum_exp(6, 12, seed=5)]


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("switching", ["alternating", "random"])
def test_certificate_inequality_along_adversarial_runs(K, switching):
    """Weights switching between the Ht = 0 and Ht = 1 weights (alternating or at random) and
    steps random in [0, eta_cert]/L: along every run V_{t+1} - V_t <= -c eta_t |g_t|^2 (band 0's
    exact certificate evaluated in floats), V >= 0, and the gradient goes to zero at constant
    eta_cert/L with switching weights."""
    band = CERTS[K]["bands"][0]
    eta_cert, c, h = float(Fraction(band["eta_hi"])), float(Fraction(band["c"])), band["h"]
    rng = np.random.default_rng(K)
    T = 600
    W = np.array([cascade_weights(0.0, K), cascade_weights(1.0, K)])
    idx = np.arange(T) % 2 if switching == "alternating" else rng.integers(0, 2, T)
    for problem in PROBLEMS:
        x0 = (problem.x_star if problem.x_star is not None else 0) + rng.standard_normal(problem.d)
        etas = eta_cert * rng.random(T)
        f, g, m = _switching_run(problem, K, W[idx], etas, x0)
        V = _lyapunov(band, K, f, g, m)
        drop = np.diff(V)
        allowed = -c * etas[h:T - 1] * np.sum(g[h:T - 1] ** 2, axis=1)
        assert np.all(drop <= allowed + 1e-9 * (1 + np.abs(V[:-1]))), problem
        assert V.min() >= -1e-12
        # constant eta_cert / L: the theorem's bound min_t |g_t|^2 <= V_h / (c sum eta_t), and decay
        f2, g2, m2 = _switching_run(problem, K, W[idx], np.full(T, eta_cert), x0)
        sq = np.sum(g2**2, axis=1)
        assert sq[h:].min() <= _lyapunov(band, K, f2, g2, m2)[0] / (c * eta_cert * (T - h))
        assert np.sqrt(sq[-1]) <= 0.1 * np.sqrt(sq[0]), problem


@pytest.mark.parametrize("K", [1, 3])
def test_top_band_constant_step_with_switching_weights_converges(K):
    """At 0.99 eta_const / L, weights switching at random: the gradient decays on each problem."""
    eta = 0.99 * float(Fraction(CERTS[K]["eta_const"]))
    rng = np.random.default_rng(10 + K)
    W = np.array([cascade_weights(0.0, K), cascade_weights(1.0, K)])
    T = 2500
    for problem in PROBLEMS[1:]:
        x0 = problem.x_star + rng.standard_normal(problem.d)
        _, g, _ = _switching_run(problem, K, W[rng.integers(0, 2, T)], np.full(T, eta), x0)
        norms = np.linalg.norm(g, axis=1)
        assert norms[-200:].max() <= 1e-3 * norms[0], problem


def test_rate_certificates_verify_and_sit_above_the_frozen_lower_bound():
    """rho certifies V_{t+1} <= rho V_t for every switching sequence, so it is at least the
    frozen-weight quadratic rate (a lower bound for the frozen method); each verifies exactly and
    a changed rho is rejected."""
    rates = json.loads(lc.CERTIFICATE_FILE.read_text())["rates"]
    assert rates
    for rec in rates:
        assert lc.verify_rate_record(rec)
        rho = float(Fraction(rec["rho"]))
        assert rho >= max(rec["quadratic_rate"].values()) - 1e-12
        worse = dict(rec, rho=str(Fraction(rec["rho"]) * Fraction(9, 10)))
        assert not lc.verify_rate_record(worse)


# ----------------------------------------------------------------------------- brackets

def test_brackets_are_ordered_and_u_star_is_exact():
    from proofs import linear_brackets as lb

    table = lb.bracket_table()
    for row in table["rows"]:
        K = row["K"]
        for which in lb.WEIGHTS:
            exact = stability_threshold(K, lb.frozen_weights(K, which))
            assert row[f"u_star_{which}"] == pytest.approx(exact, rel=1e-12)
        assert row["ordered"] is True, row
        assert row["eta_cert"] <= row["eta_const"]
        for which in lb.WEIGHTS:   # the certified constant steps converge: a cycle lies above
            if row.get(f"eta_cycle_{which}") is not None:
                assert row["eta_const"] < row[f"eta_cycle_{which}"] <= row[f"u_star_{which}"]
        print(row)


def test_pep_decreases_at_eta_cert():
    """PEPit's frozen-weight worst case decreases over N = 1..6 at the certified step (K = 1)."""
    from proofs import linear_brackets as lb
    from proofs.pep_emc import pepit_status

    if not pepit_status()[0]:
        pytest.skip("no SDP solver for PEPit")
    eta = float(Fraction(CERTS[1]["eta_cert"]))
    assert lb.decreases(lb.pep_worst_cases(1, eta, "uniform", n_max=6), "monotone")


def test_dead_zone_huber_is_convex_and_one_smooth():
    from proofs.linear_brackets import dead_zone_huber

    p = dead_zone_huber(a=0.3, w=0.8, eps=0.05)
    t = np.linspace(-3, 3, 4001)
    X = np.stack([t, np.zeros_like(t)], 1)
    g = p.grad(X)[:, 0]
    slopes = np.diff(g) / np.diff(t)
    assert slopes.min() >= -1e-12 and slopes.max() <= 1 + 1e-9
    f = p.value(X)
    num = np.gradient(f, t)
    assert np.max(np.abs(num[1:-1] - g[1:-1])) < 1e-3
    assert p.L == 1.0 and f.min() == 0.0


# ----------------------------------------------------------------------------- root reading

@pytest.mark.parametrize("K", [1, 2, 3])
def test_root_cycle_amplitude_equals_the_core(K):
    from proofs import root_cycle as rc

    der = rc.derive_cycle(K)
    assert der["amplitude_matches"] and der["linearised_u_is_half_u_star"]
    for eta, lam in ((0.1, 0.7), (0.03, 1.0)):
        core = rc.core_cycle(K, eta, lam, steps=1500)
        exact = float(sp_eval(der["amplitude"], eta, lam))
        assert core["period"] == 2
        assert core["amplitude"] == pytest.approx(exact, rel=1e-8)


def sp_eval(expr: str, eta: float, lam: float):
    import sympy as sp

    parsed = sp.parse_expr(expr.replace("lambda", "lam"))
    return parsed.subs({sp.Symbol("eta"): eta, sp.Symbol("lam"): lam})


def test_root_generic_law_and_diminishing_steps():
    from proofs import root_cycle as rc

    law = rc.generic_law(K=2, d=4, cond=5.0, etas=(0.02, 0.05, 0.1), steps=2500)
    assert law["constant_on_cycle"]
    assert law["max_rel_error"] < 1e-6
    assert law["gamma_measured"] == pytest.approx(law["gamma_fixed_point"], rel=1e-8)
    assert law["exponent_fitted"] == pytest.approx(law["exponent_predicted"], rel=1e-6)
    print("root amplitude law:", law["exponent_fitted"], "residual", law["fit_residual"])
    dim = rc.diminishing_law(K=2, steps=5000)
    assert 0.999 < dim["ratio_min"] <= dim["ratio_max"] < 1.001
    assert dim["exponent_fitted"] == pytest.approx(-1.0, abs=1e-3)


# ----------------------------------------------------------------------------- power reading

def test_power_divergence_law():
    from proofs import power_divergence as pdv

    assert pdv.derive_scaling(2)["free_of_eta_and_L"]
    etas, Ls = (0.05, 0.2, 1.0), (0.5, 2.0)
    r_eta = [pdv.critical_distance(2, e, 1.0, steps=400, rounds=3, points=16)["r_star"]
             for e in etas]
    r_L = [pdv.critical_distance(2, 0.2, L, steps=400, rounds=3, points=16)["r_star"]
           for L in Ls]
    from emc_theory.fit import power_law_fit

    fe, fl = power_law_fit(etas, r_eta), power_law_fit(Ls, r_L)
    print(f"r* ~ eta^{fe.exponent:.6f} (residual {fe.residual:.2e}), "
          f"L^{fl.exponent:.6f} (residual {fl.residual:.2e})")
    assert fe.exponent == pytest.approx(-1.0, abs=1e-3) and fe.residual < 1e-3
    assert fl.exponent == pytest.approx(-2.0, abs=1e-3) and fl.residual < 1e-3


# ----------------------------------------------------------------------------- replays

def test_every_stored_counterexample_replays_to_its_class():
    from proofs.t1_records import replay_all

    out = replay_all()
    for key, value in out.items():
        if isinstance(value, dict):
            assert value["matches"], (key, value)
    assert math.isfinite(out["seconds"])


def test_the_cycles_replay_by_the_toolkits_classifier_with_their_period():
    """The root and linear cycle records are classified by emc_theory.outcomes.classify_runs:
    the root cycle (a symmetric orbit x <-> -x, told apart by its iterates) has period 2 and the
    closed-form amplitude; a record stating another period does not replay."""
    from proofs import linear_brackets, root_cycle
    from proofs.t1_records import load_records

    root = load_records()["root"]
    out = root_cycle.replay_cycle_counterexample(root)
    assert out["class"] == "cycle" and out["period"] == 2 and out["matches"]
    assert out["amplitude"] == pytest.approx(root["grad_amplitude_exact"], rel=1e-8)
    assert not root_cycle.replay_cycle_counterexample({**root, "period": 3})["matches"]
    cycle = [c["record"] for c in linear_brackets.load_brackets()["cycles"] if c["record"]][-1]
    out = linear_brackets.replay_counterexample(cycle)
    assert out["matches"] and out["class"] == "cycle"
    assert out["amplitude"] == pytest.approx(cycle["amplitude"], rel=1e-12)
