"""PEP worst cases of linear EMC with frozen weights: gradient descent against its published tight
bound, one EMC step against gradient descent with the equivalent step, and the worst case as an
upper bound of simulated runs of the core."""
import numpy as np
import pytest

pytest.importorskip("PEPit")

from emc_theory import EMC, minimize  # noqa: E402
from emc_theory.problems import quadratic  # noqa: E402
from proofs import pep_emc  # noqa: E402

pytestmark = pytest.mark.skipif(not pep_emc.pepit_status()[0], reason="no SDP solver for PEPit")


@pytest.mark.parametrize("N, eta", [(1, 1.0), (2, 1.0), (2, 0.5)])
def test_gd_matches_drori_teboulle(N, eta):
    """f(x_N) - f* <= L/(4 N L eta + 2), tight (Drori & Teboulle 2014, Thm 3.1)."""
    wc = pep_emc.worst_case("gd", N, eta)
    assert wc.accurate
    assert wc.value == pytest.approx(1.0 / (4 * N * eta + 2), rel=1e-5)


@pytest.mark.parametrize("K, factor", [(1, 1 / 2), (2, 3 / 8)])
def test_one_emc_step_is_a_gd_step(K, factor):
    r"""From m_0 = 0 the first aggregate is :math:`\sum_k \alpha_k (1-\beta_k) g_0`: 1/2 for
    K = 1, (1/2)(1/2 + 1/4) = 3/8 for K = 2 with uniform weights."""
    wc = pep_emc.worst_case("emc", 1, 1.0, K=K)
    assert wc.value == pytest.approx(pep_emc.gd_published_gap(1, factor), rel=1e-5)


def test_worst_case_bounds_simulated_runs():
    """On f = (lam/2)||x - x*||^2 with lam <= L = 1 and ||x0 - x*|| = 1, the core's linear EMC
    (frozen uniform weights, K = 2, eta = 1, N = 3) never beats the PEP worst case."""
    N, K, eta = 3, 2, 1.0
    wc = pep_emc.worst_case("emc", N, eta, K=K)
    worst_seen = 0.0
    for lam in np.linspace(0.05, 1.0, 20):
        problem = quadratic(2, eigenvalues=np.array([lam, lam]), rotate=False, seed=0)
        x0 = problem.x_star + np.array([1.0, 0.0])
        tr = minimize(EMC(K=K, lr=eta, reading="linear", tau=1e12), problem, x0, N)
        worst_seen = max(worst_seen, float(tr.f_gap[N]))
    assert 0 < worst_seen <= wc.value + 1e-7


def test_grad_metric_bounded_by_the_first_gradient():
    """min_(t<=N) ||g_t||^2 <= ||g_0||^2 <= L^2 ||x0 - x*||^2 = 1, and a nonzero worst case."""
    wc = pep_emc.worst_case("emc", 2, 1.0, K=1, metric="grad")
    assert 0 < wc.value <= 1.0 + 1e-7


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "adam"}, "method"), ({"metric": "value"}, "metric"),
    ({"weights": [0.5, 0.6]}, "weights"), ({"eta": -1.0}, "eta"),
])
def test_bad_input(kwargs, match):
    args = {"method": "emc", "N": 1, "eta": 1.0, "K": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        pep_emc.worst_case(args.pop("method"), args.pop("N"), args.pop("eta"), **args)


def test_published_bound_range():
    with pytest.raises(ValueError, match="eta"):
        pep_emc.gd_published_gap(2, 1.5)


def test_emc_against_gd_table():
    """T1's PEP evidence: one row per (N, eta, K) and per grad_N, GD's gap at the published tight
    value, ratios EMC/GD, and EMC's worst gap falling in N."""
    out = pep_emc.emc_against_gd(N=(1, 2), eta=(1.0,), K=(1, 2), grad_N=(1,))
    assert out["available"] and len(out["rows"]) == 2 * 2 + 2
    for row in out["rows"]:
        if row["metric"] == "gap":
            assert row["gd"] == pytest.approx(1.0 / (4 * row["N"] + 2), rel=1e-5)
        assert row["ratio"] == pytest.approx(row["emc"] / row["gd"], rel=1e-12)
    assert out["decreasing"] and out["finite"]
    assert set(out["ratio_at_one"]) == {1, 2}
    assert out["ratio_max"] == max(r["ratio"] for r in out["rows"])
