r"""The entropy gap of a spectrum against Tan & Huang's bound (claim EG1, Theorem 2.2).

For a positive definite :math:`H \in \mathbb{R}^{n\times n}` with condition number :math:`k`, the
gap :math:`\log n - H_1(H)`, :math:`H_1 = -\sum_i p_i\log p_i`, :math:`p_i = \lambda_i/\operatorname
{tr}H`, of the spectrum with :math:`m` eigenvalues at :math:`k` and :math:`n-m` at 1
(:math:`S = mk + n - m`) is

.. math:: g_m = \log n - \log S + \tfrac{mk}{S}\log k.

Results (each an identity decided by :func:`~proofs.derivation.decide_zero`, or a sign decided by
sympy's assumptions; ``value`` is the decision, ``None`` when sympy could not decide):

* ``middle_is_single_max_gap``: the middle term
  :math:`B(k, n) = \frac{k}{k+n-1}\log k - \log\frac{n+k-1}{n}` is :math:`g_1`;
* ``gap_flat_at_k_1``: :math:`g_m(1) = g_m'(1) = 0`;
* ``second_order_coefficient``: :math:`g_m''(1)/2 = m(n-m)/(2n^2)`;
* ``excess_coefficient_factorises``: that coefficient exceeds the one of :math:`g_1` by
  :math:`(m-1)(n-m-1)/(2n^2)`, positive for :math:`2 \le m \le n-2` (so :math:`B` is not the
  maximum near :math:`k = 1` once :math:`n \ge 4`);
* ``split_gap_free_of_n``: with :math:`m = tn`,
  :math:`g_{tn} = -\log(1 + t(k-1)) + \frac{tk\log k}{1 + t(k-1)}` does not depend on :math:`n`;
* ``middle_upper_bound_vanishes``: :math:`k\log k/(k+n-1) \to 0` as :math:`n \to \infty`
  (and :math:`0 \le B \le k\log k/(k+n-1)`), so :math:`g_{tn} > B` for large :math:`n`;
* ``log_k_minus_middle_decomposes``:
  :math:`\log k - B = \tfrac{n-1}{k+n-1}\log k + \log(1 + \tfrac{k-1}{n})`;
* ``both_terms_nonnegative``: both terms are :math:`\ge 0` for :math:`k, n \ge 1` (``True`` or
  ``None``), which proves the second inequality :math:`B \le \log k`.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem, decide_zero

K, N, M, T = sp.symbols("k n m t", positive=True)


def vertex_gap(m_at_k) -> sp.Expr:
    r""":math:`g_m`: the gap of :math:`m` eigenvalues at :math:`k` and :math:`n - m` at 1, from the
    definition :math:`\log n + \sum_i p_i\log p_i`."""
    s = m_at_k * K + N - m_at_k
    entropy = -(m_at_k * K / s) * sp.log(K / s) - ((N - m_at_k) / s) * sp.log(1 / s)
    return sp.log(N) - entropy


def middle_bound() -> sp.Expr:
    r""":math:`B(k, n) = \frac{k}{k+n-1}\log k - \log\frac{n+k-1}{n}`."""
    return K / (K + N - 1) * sp.log(K) - sp.log((N + K - 1) / N)


def decisions() -> dict:
    """Each result's decision (``True``/``False``/``None``) with the expression it is about."""
    u, v = sp.symbols("u v", nonnegative=True)
    middle = middle_bound()
    gap_m = vertex_gap(M)
    c2 = sp.diff(gap_m, K, 2).subs(K, 1) / 2
    split = -sp.log(1 + T * (K - 1)) + T * K * sp.log(K) / (1 + T * (K - 1))
    log_term = (N - 1) / (K + N - 1) * sp.log(K)
    trace_ratio = 1 + (K - 1) / N
    nonnegative = [expr.subs({K: 1 + u, N: 1 + v}) for expr in (log_term, sp.log(trace_ratio))]
    upper = K * sp.log(K) / (K + N - 1)
    return {
        "middle_is_single_max_gap": (
            sp.Eq(vertex_gap(1), middle),
            decide_zero(sp.expand_log(vertex_gap(1) - middle, force=True))),
        "gap_flat_at_k_1": (
            sp.Tuple(gap_m.subs(K, 1), sp.diff(gap_m, K).subs(K, 1)),
            decide_zero(gap_m.subs(K, 1)) and decide_zero(sp.diff(gap_m, K).subs(K, 1))),
        "second_order_coefficient": (
            sp.Eq(sp.Symbol("c_2"), M * (N - M) / (2 * N**2)),
            decide_zero(c2 - M * (N - M) / (2 * N**2))),
        "excess_coefficient_factorises": (
            sp.Eq(c2 - c2.subs(M, 1), (M - 1) * (N - M - 1) / (2 * N**2)),
            decide_zero(c2 - c2.subs(M, 1) - (M - 1) * (N - M - 1) / (2 * N**2))),
        "split_gap_free_of_n": (
            sp.Eq(sp.Symbol("g_{tn}"), split),
            decide_zero(sp.expand_log(gap_m.subs(M, T * N) - split, force=True))),
        "middle_upper_bound_vanishes": (
            sp.Limit(upper, N, sp.oo), decide_zero(sp.limit(upper, N, sp.oo))),
        "log_k_minus_middle_decomposes": (
            sp.Eq(sp.log(K) - middle, log_term + sp.log(trace_ratio)),
            decide_zero(sp.log(K) - middle - log_term - sp.log((N + K - 1) / N))
            and decide_zero((N + K - 1) / N - trace_ratio)),
        "both_terms_nonnegative": (
            sp.Tuple(log_term, sp.log(trace_ratio)),
            all(expr.is_nonnegative for expr in nonnegative) or None),
    }


TEX = {
    "gap_flat_at_k_1": r"g_m\big|_{k=1} = 0,\qquad \frac{\partial g_m}{\partial k}\Big|_{k=1} = 0",
    "excess_coefficient_factorises": (
        r"\tfrac12 \frac{\partial^2 g_m}{\partial k^2}\Big|_{k=1}"
        r" - \tfrac12 \frac{\partial^2 g_1}{\partial k^2}\Big|_{k=1}"
        r" = \frac{(m-1)(n-m-1)}{2n^2}"),
    "middle_upper_bound_vanishes": (
        r"0 \le B(k, n) \le \frac{k\log k}{k+n-1} \xrightarrow[n \to \infty]{} 0"),
    "both_terms_nonnegative": (
        r"\frac{(n-1)\log k}{k+n-1} \ge 0,\qquad \log\Bigl(1 + \frac{k-1}{n}\Bigr) \ge 0"
        r"\qquad (k, n \ge 1)\quad\Rightarrow\quad B(k, n) \le \log k"),
}
"""Displays of the results whose sympy form is not the statement proved (a pair of values, a
long unsimplified difference, a limit without its value)."""

NOTES = {
    "middle_is_single_max_gap": "B(k, n) is the gap of the spectrum with one eigenvalue at k",
    "gap_flat_at_k_1": "g_m and its first derivative in k vanish at k = 1",
    "second_order_coefficient": "g_m = m(n-m)/(2n^2) (k-1)^2 + O((k-1)^3)",
    "excess_coefficient_factorises": "the k = 1 curvature of g_m exceeds that of g_1 = B by "
                                     "(m-1)(n-m-1)/(2n^2) > 0 for 2 <= m <= n-2: inequality 1 "
                                     "fails near k = 1 for n >= 4",
    "split_gap_free_of_n": "with m = tn eigenvalues at k the gap does not depend on n",
    "middle_upper_bound_vanishes": "0 <= B <= k log k/(k+n-1) -> 0 as n -> oo, so the split "
                                   "spectrum beats B for every k > 1 once n is large",
    "log_k_minus_middle_decomposes": "log k - B = (n-1)/(k+n-1) log k + log(1 + (k-1)/n)",
    "both_terms_nonnegative": "both terms are >= 0 for k, n >= 1 (k = 1 + u, n = 1 + v, u, v "
                              ">= 0): B <= log k, the second inequality",
}


def derive() -> Derivation:
    """The middle term, the small-k expansion of the vertex gaps and the second inequality."""
    results = {key: ResultItem.of(expr, value, "undecided" if value is None else "proved",
                                  NOTES[key], tex=TEX.get(key))
               for key, (expr, value) in decisions().items()}
    return Derivation(
        name="entropy_gap",
        title="Entropy gap of a spectrum against Tan & Huang's bound (EG1)",
        statement="The middle term B(k, n) of Theorem 2.2 is the gap of one eigenvalue at k; the "
                  "gap of m eigenvalues at k has a larger second-order term at k = 1 for "
                  "2 <= m <= n-2 and, with m = tn, does not shrink with n while B -> 0: the "
                  "first inequality fails. The second, B <= log k, holds: log k - B is a sum "
                  "of two non-negative terms.",
        results=results,
        title_tex=r"Entropy gap of a spectrum against Tan \& Huang's bound (EG1)",
        statement_tex=(r"The middle term $B(k, n)$ of Theorem 2.2 is the gap of one eigenvalue at "
                       r"$k$; the gap of $m$ eigenvalues at $k$ has a larger second-order term at "
                       r"$k = 1$ for $2 \le m \le n-2$ and, with $m = tn$, does not shrink with "
                       r"$n$ while $B \to 0$: the first inequality fails. The second, "
                       r"$B \le \log k$, holds: $\log k - B$ is a sum of two non-negative "
                       r"terms."))


if __name__ == "__main__":
    print(derive().summary())
