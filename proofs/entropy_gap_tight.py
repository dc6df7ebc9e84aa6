r"""The tight upper bound on the entropy gap of a spectrum of condition number k (repair EG1.r1
of Tan & Huang's Theorem 2.2).

For a positive definite :math:`H \in \mathbb{R}^{n\times n}` the gap
:math:`\log n - H_1(H) = \sum_i p_i\log(n p_i)`, :math:`p = \lambda/\sum\lambda`, is the
Kullback-Leibler divergence of :math:`p` from the uniform distribution. It is scale-invariant,
so the spectra of condition number at most :math:`k` are (up to scale) the box
:math:`[1, k]^n`. The argument:

1. :math:`\sum_i p_i\log p_i` is convex in :math:`p` (``entropy_deficit_convex``:
   :math:`(p\log p)'' = 1/p > 0`), and the normalisation :math:`\lambda \mapsto
   \lambda/\sum\lambda` maps a segment :math:`[\lambda, \mu]` onto the segment
   :math:`[p(\lambda), p(\mu)]` (``normalisation_keeps_segments``: the normalised sum is the
   convex combination with weights :math:`\sum\lambda/(\sum\lambda + \sum\mu)`), so the gap is
   quasi-convex in :math:`\lambda` and its maximum over the box is at a vertex: :math:`m`
   eigenvalues at :math:`k`, :math:`n - m` at 1 (:math:`1 \le m \le n-1`; :math:`m = 0, n` give
   gap 0). Such a vertex has condition number exactly :math:`k`, so the maximum is attained.
2. With :math:`t = m/n` its gap is
   :math:`g(t) = -\log(1 + t(k-1)) + \frac{t k\log k}{1 + t(k-1)}` (free of :math:`n`);
   ``derivative_in_t``: :math:`g'(t) = \frac{k\log k - (k-1)(1 + t(k-1))}{(1 + t(k-1))^2}`, whose
   numerator decreases strictly in :math:`t` (``numerator_decreasing``: slope
   :math:`-(k-1)^2`): :math:`g` is unimodal, and the integer maximiser is
   :math:`\lfloor n t^*\rfloor` or :math:`\lceil n t^*\rceil` (clipped to :math:`[1, n-1]`);
3. ``stationary_point``: :math:`t^* = (D - 1)/(k - 1)`, :math:`D = k\log k/(k-1)`;
   ``t_star_inside``: :math:`1 < D < k` for :math:`k > 1` (both :math:`k\log k - (k-1)` and
   :math:`(k-1) - \log k` vanish at :math:`k = 1` and have positive derivatives
   :math:`\log k` and :math:`1 - 1/k` beyond), so :math:`0 < t^* < 1`;
4. ``envelope_closed_form``: :math:`g(t^*) = D - 1 - \log D`, an upper bound for every
   :math:`n` (the supremum over real :math:`t`), reached when :math:`n t^*` is an integer and
   approached as :math:`n \to \infty`; ``envelope_near_k_1``:
   :math:`D - 1 - \log D = (k-1)^2/8 + O((k-1)^3)`;
   ``envelope_large_k``: :math:`D - 1 - \log D - (\log k - 1 - \log\log k) \to 0` as
   :math:`k \to \infty`;
5. ``outer_margin``: every gap is at most :math:`\log\max_i n p_i \le
   \log\frac{nk}{k + n - 1}` and :math:`k - \frac{nk}{k+n-1} = \frac{k(k-1)}{k+n-1} \ge 0`,
   so the tight bound stays below :math:`\log k` (the paper's outer bound).

The paper's middle term is :math:`g(1/n)`, the vertex with one eigenvalue at :math:`k`
(:mod:`proofs.entropy_gap`).
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem, decide_zero, sign_of

K, T, N = sp.symbols("k t n", positive=True)
U = sp.Symbol("u", positive=True)
"""``k = 1 + u``: the condition number above 1."""


def gap_in_t() -> sp.Expr:
    r""":math:`g(t) = -\log(1 + t(k-1)) + t k\log k/(1 + t(k-1))`."""
    d = 1 + T * (K - 1)
    return -sp.log(d) + T * K * sp.log(K) / d


def envelope() -> sp.Expr:
    r""":math:`D - 1 - \log D`, :math:`D = k\log k/(k-1)`."""
    d = K * sp.log(K) / (K - 1)
    return d - 1 - sp.log(d)


def _positive_beyond_one(expr) -> bool | None:
    """``expr(k)`` vanishes at k = 1 and has a positive derivative for k > 1 (so it is > 0 for
    k > 1); ``None`` if sympy cannot decide a step."""
    at_one = decide_zero(expr.subs(K, 1))
    slope = sp.simplify(sp.diff(expr, K).subs(K, 1 + U)).is_positive
    if at_one is None or slope is None:
        return None
    return bool(at_one and slope)


def _all_decided(decisions) -> bool | None:
    """``all(decisions)``, or ``None`` if any is undecided."""
    decisions = list(decisions)
    return None if None in decisions else all(decisions)


def decisions() -> dict:
    """Each result's decision (``True``/``False``/``None``) with the expression it is about."""
    p, a, b, big_a, big_b = sp.symbols("p a b A B", positive=True)
    g = gap_in_t()
    d_t = 1 + T * (K - 1)
    numerator = K * sp.log(K) - (K - 1) * d_t
    big_d = K * sp.log(K) / (K - 1)
    t_star = (big_d - 1) / (K - 1)
    phi = envelope()
    series = sp.series(phi.subs(K, 1 + U), U, 0, 3).removeO()
    outer = K - N * K / (K + N - 1)
    slope_sign = sign_of(sp.diff(numerator, T).subs(K, 1 + U))
    inside = (K * sp.log(K) - (K - 1), (K - 1) - sp.log(K))  # D > 1 and D < k
    return {
        "entropy_deficit_convex": (
            sp.diff(p * sp.log(p), p, 2), sp.diff(p * sp.log(p), p, 2).is_positive or None),
        "normalisation_keeps_segments": (
            sp.Eq((a + b) / (big_a + big_b), sp.Add(
                sp.Mul(big_a / (big_a + big_b), a / big_a, evaluate=False),
                sp.Mul(big_b / (big_a + big_b), b / big_b, evaluate=False), evaluate=False),
                  evaluate=False),
            decide_zero((a + b) / (big_a + big_b) - big_a / (big_a + big_b) * (a / big_a)
                        - big_b / (big_a + big_b) * (b / big_b))),
        "derivative_in_t": (
            sp.Eq(sp.Derivative(sp.Symbol("g"), T), numerator / d_t**2),
            decide_zero(sp.diff(g, T) - numerator / d_t**2)),
        "numerator_decreasing": (
            sp.diff(numerator, T), None if slope_sign is None else slope_sign == "-"),
        "stationary_point": (
            sp.Eq(sp.Symbol("t^*"), t_star), decide_zero(numerator.subs(T, t_star))),
        "t_star_inside": (sp.Tuple(*inside), _all_decided(map(_positive_beyond_one, inside))),
        "envelope_closed_form": (
            sp.Eq(sp.Symbol("g(t^{*})"), phi), decide_zero(g.subs(T, t_star) - phi)),
        "envelope_near_k_1": (
            sp.Eq(sp.Symbol("phi"), series), decide_zero(series - U**2 / 8)),
        "envelope_large_k": (
            sp.Limit(phi - (sp.log(K) - 1 - sp.log(sp.log(K))), K, sp.oo),
            decide_zero(sp.limit(phi - (sp.log(K) - 1 - sp.log(sp.log(K))), K, sp.oo))),
        "outer_margin": (
            sp.Eq(outer, K * (K - 1) / (K + N - 1)),
            decide_zero(outer - K * (K - 1) / (K + N - 1))),
    }


TEX = {
    "entropy_deficit_convex": r"\frac{d^2}{dp^2}\,(p\log p) = \frac{1}{p} > 0",
    "numerator_decreasing": (
        r"\frac{\partial}{\partial t}\bigl(k\log k - (k-1)(1 + t(k-1))\bigr) = -(k-1)^2 < 0"
        r"\quad (k > 1)"),
    "t_star_inside": (
        r"k\log k - (k-1) > 0,\quad (k-1) - \log k > 0\quad (k > 1)"
        r"\quad\Rightarrow\quad 1 < D < k,\quad 0 < t^* < 1"),
    "envelope_near_k_1": r"D - 1 - \log D = \frac{(k-1)^2}{8} + O\bigl((k-1)^3\bigr)",
    "envelope_large_k": (
        r"\lim_{k \to \infty}\Bigl(D - 1 - \log D - (\log k - 1 - \log\log k)\Bigr) = 0"),
}
"""Displays of the results whose sympy form is not the statement proved (a bare expression, a
pair of values, a limit without its value)."""

NOTES = {
    "entropy_deficit_convex": "(p log p)'' = 1/p > 0: sum p log p, hence the gap, is convex in p",
    "normalisation_keeps_segments": "(a + b)/(A + B) is the convex combination of a/A and b/B "
                                    "with weights A/(A+B), B/(A+B): normalised spectra of a "
                                    "segment form a segment, so the gap is quasi-convex in the "
                                    "eigenvalues and peaks at a vertex of [1, k]^n",
    "derivative_in_t": "g'(t) = (k log k - (k-1)(1 + t(k-1)))/(1 + t(k-1))^2",
    "numerator_decreasing": "the numerator of g' decreases in t, with slope -(k-1)^2 < 0: g is "
                            "unimodal, the integer maximiser is floor or ceil of n t*",
    "stationary_point": "t* = (D - 1)/(k - 1), D = k log k/(k - 1), zeroes g'",
    "t_star_inside": "k log k - (k-1) and (k-1) - log k vanish at k = 1 with positive "
                     "derivatives beyond: 1 < D < k, so 0 < t* < 1",
    "envelope_closed_form": "g(t*) = D - 1 - log D: the supremum over real t, a bound for "
                            "every n",
    "envelope_near_k_1": "D - 1 - log D = (k-1)^2/8 + O((k-1)^3) (k = 1 + u)",
    "envelope_large_k": "D - 1 - log D - (log k - 1 - log log k) -> 0 as k -> oo",
    "outer_margin": "k - nk/(k+n-1) = k(k-1)/(k+n-1) >= 0: the gap, at most "
                    "log(max_i n p_i) <= log(nk/(k+n-1)), stays below log k",
}


def derive() -> Derivation:
    """The vertex argument, the one-dimensional maximisation and its closed-form envelope."""
    results = {key: ResultItem.of(expr, value, "undecided" if value is None else "proved",
                                  NOTES[key], tex=TEX.get(key))
               for key, (expr, value) in decisions().items()}
    return Derivation(
        name="entropy_gap_tight",
        title="The tight bound on the entropy gap for condition number k (EG1.r1)",
        statement="The entropy gap of a spectrum of condition number at most k is largest at a "
                  "vertex of [1, k]^n (m eigenvalues at k, n - m at 1); with t = m/n the gap is "
                  "unimodal in t, maximal at t* = (D-1)/(k-1), D = k log k/(k-1), with value "
                  "D - 1 - log D for every n, so the tight bound is the larger gap of "
                  "m = floor(n t*) and ceil(n t*).",
        results=results,
        title_tex=r"The tight bound on the entropy gap for condition number $k$ (EG1.r1)",
        statement_tex=(r"The entropy gap of a spectrum of condition number at most $k$ is largest "
                       r"at a vertex of $[1, k]^n$ ($m$ eigenvalues at $k$, $n - m$ at 1); with "
                       r"$t = m/n$ the gap is unimodal in $t$, maximal at $t^* = (D-1)/(k-1)$, "
                       r"$D = k \log k/(k-1)$, with value $D - 1 - \log D$ for every $n$, so the "
                       r"tight bound is the larger gap of $m = \lfloor n t^* \rfloor$ and "
                       r"$\lceil n t^* \rceil$."))


if __name__ == "__main__":
    print(derive().summary())
