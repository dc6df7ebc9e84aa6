r"""Worst-case analysis (performance estimation, PEP) of linear EMC with frozen weights.

With the reading ``"linear"`` and weights frozen at :math:`\alpha` (EMC with :math:`\tau \to
\infty` freezes them at the uniform :math:`\alpha_k = 1/K`), EMC is a fixed first-order method:

.. math::
    m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) \nabla f(x_{t-1}),\quad m^{(k)}_0 = 0,\quad
    x_t = x_{t-1} - \eta \sum_k \alpha_k m^{(k)}_t,\qquad \beta_k = 1 - 2^{-k}.

PEPit (Goujaud, Moucer, Glineur, Hendrickx, Taylor, Dieuleveut, *PEPit: computer-assisted
worst-case analyses of first-order optimization methods in Python*, Math. Prog. Comp. 2024)
computes the exact worst case over :math:`L`-smooth convex :math:`f` with
:math:`\|x_0 - x^\star\|^2 \le 1` of either :math:`f(x_N) - f^\star` (``metric="gap"``) or
:math:`\min_{0 \le t \le N} \|\nabla f(x_t)\|^2` (``metric="grad"``), as a small SDP. Gradient
descent :math:`x_t = x_{t-1} - \eta \nabla f(x_{t-1})` is the reference; its tight gap for
:math:`\eta \le 1/L` is :math:`L / (4 N L \eta + 2)` (Drori & Teboulle 2014, Thm 3.1).

If PEPit or an SDP solver is missing, :func:`pepit_status` says so and callers record the evidence
as unavailable; nothing is approximated in its place.
"""
from __future__ import annotations

import importlib.util
import warnings
from functools import cache
from typing import NamedTuple, Optional

import numpy as np

from emc_theory import level_betas
from emc_theory.validation import check_choice, check_int, check_positive

from .sdp import import_cvxpy, installed_solvers

METHODS = ("gd", "emc")
METRICS = ("gap", "grad")
SOLVER_PREFERENCE = ("CLARABEL", "SCS")


class WorstCase(NamedTuple):
    """A PEP's worst-case value (``inf`` if unbounded) and whether the solver reported it
    accurate (cvxpy warns "Solution may be inaccurate" otherwise)."""

    value: float
    accurate: bool


def pepit_status() -> tuple[bool, str]:
    """``(available, what)``: PEPit importable and an SDP solver (CLARABEL or SCS) installed."""
    if importlib.util.find_spec("PEPit") is None or importlib.util.find_spec("cvxpy") is None:
        return False, "PEPit or cvxpy is not installed"
    solver = sdp_solver()
    if solver is None:
        return False, f"no SDP solver among {SOLVER_PREFERENCE} is installed for cvxpy"
    return True, f"PEPit with cvxpy/{solver}"


@cache
def sdp_solver() -> Optional[str]:
    """The first installed solver of ``SOLVER_PREFERENCE`` (None if none)."""
    installed = set(installed_solvers())
    return next((s for s in SOLVER_PREFERENCE if s in installed), None)


def gd_published_gap(N: int, eta: float, L: float = 1.0) -> float:
    r"""Tight worst case of gradient descent, :math:`f(x_N) - f^\star \le L/(4NL\eta + 2)` for
    :math:`0 < \eta \le 1/L` and :math:`\|x_0 - x^\star\| \le 1` (Drori & Teboulle 2014)."""
    N = check_int("N", N, 1)
    check_positive("eta", eta)
    if eta * L > 1:
        raise ValueError(f"eta must lie in (0, 1/L] = (0, {1 / L}] for the published bound, "
                         f"got {eta}")
    return L / (4 * N * L * eta + 2)


def worst_case(method: str, N: int, eta: float, *, K: int = 1, weights=None,
               metric: str = "gap", L: float = 1.0) -> WorstCase:
    r"""Exact worst case (PEPit, dual value) of ``method`` after ``N`` steps of size ``eta``.

    ``method="emc"`` is linear EMC with frozen ``weights`` (default uniform :math:`1/K`);
    ``method="gd"`` is gradient descent. ``metric`` is ``"gap"`` (:math:`f(x_N) - f^\star`) or
    ``"grad"`` (:math:`\min_{t \le N} \|\nabla f(x_t)\|^2`); initial condition
    :math:`\|x_0 - x^\star\|^2 \le 1`, :math:`f` :math:`L`-smooth convex.
    """
    import_cvxpy()
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction

    check_choice("method", method, METHODS)
    check_choice("metric", metric, METRICS)
    N = check_int("N", N, 1)
    K = check_int("K", K, 1)
    check_positive("eta", eta)
    check_positive("L", L)
    alpha = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=float)
    if alpha.shape != (K,) or np.any(alpha < 0) or not np.isclose(alpha.sum(), 1.0):
        raise ValueError(f"weights must be K = {K} non-negative numbers summing to 1, "
                         f"got {weights!r}")
    betas = level_betas(K)

    problem = PEP()
    f = problem.declare_function(SmoothConvexFunction, L=L)
    x_star = f.stationary_point()
    f_star = f(x_star)
    x = problem.set_initial_point()
    problem.set_initial_condition((x - x_star) ** 2 <= 1)
    momenta = [None] * K
    gradients = []
    for _ in range(N):
        g = f.gradient(x)
        gradients.append(g)
        if method == "gd":
            x = x - eta * g
            continue
        momenta = [(1 - b) * g if m is None else b * m + (1 - b) * g
                   for b, m in zip(betas, momenta)]
        aggregate = alpha[0] * momenta[0]
        for a, m in zip(alpha[1:], momenta[1:]):
            aggregate = aggregate + a * m
        x = x - eta * aggregate
    if metric == "gap":
        problem.set_performance_metric(f(x) - f_star)
    else:
        gradients.append(f.gradient(x))
        for g in gradients:
            problem.set_performance_metric(g ** 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = problem.solve(wrapper="cvxpy", solver=sdp_solver(), verbose=0)
    accurate = not any("inaccurate" in str(w.message) for w in caught)
    return WorstCase(float("inf") if value is None else float(value), accurate)


def emc_against_gd(N=(1, 3, 5), eta=(0.5, 1.0, 2.0), K=(1, 2), grad_N=(5,)) -> dict:
    r"""Worst cases of linear EMC (frozen uniform weights) beside gradient descent's, ``L = 1``:
    the gap :math:`f(x_N) - f^\star` for every ``N`` x ``eta`` x ``K`` and the smallest squared
    gradient for every ``grad_N`` at :math:`\eta = 1`. Returns ``available`` and ``what``
    (:func:`pepit_status`), the ``rows`` (metric, eta, N, K, EMC's and GD's values, their ratio,
    whether both solves were accurate), ``ratio_max``, ``decreasing`` (EMC's gap falls with N for
    every eta and K), ``finite`` (every EMC value finite), ``ratio_at_one`` (K -> ratio at
    :math:`\eta = 1` and the largest N) and ``inaccurate`` (solves the solver flagged); without
    PEPit only ``available`` and ``what``."""
    available, what = pepit_status()
    if not available:
        return {"available": False, "what": what}
    rows = []
    for metric, N_values, etas in (("gap", N, eta), ("grad", grad_N, (1.0,))):
        for e in etas:
            for n in N_values:
                gd = worst_case("gd", n, e, metric=metric)
                for k in K:
                    emc = worst_case("emc", n, e, K=k, metric=metric)
                    rows.append({"metric": metric, "eta": e, "N": n, "K": k, "emc": emc.value,
                                 "gd": gd.value, "ratio": emc.value / gd.value,
                                 "accurate": emc.accurate and gd.accurate})
    gaps = [r for r in rows if r["metric"] == "gap"]
    decreasing = all(
        bool(np.all(np.diff([r["emc"] for r in gaps if r["eta"] == e and r["K"] == k]) < 0))
        for e in eta for k in K)
    return {"available": True, "what": what, "rows": rows,
            "ratio_max": max(r["ratio"] for r in rows), "decreasing": decreasing,
            "finite": all(np.isfinite(r["emc"]) for r in rows),
            "ratio_at_one": {r["K"]: r["ratio"] for r in gaps
                             if r["eta"] == 1.0 and r["N"] == max(N)},
            "inaccurate": sum(not r["accurate"] for r in rows)}
