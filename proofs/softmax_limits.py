r"""Limits, values and monotonicity of the cascade weights (claims P1, P2).

.. math::
    \alpha_k(\tilde H) = \frac{e^{\lambda_k \tilde H/\tau}}
    {\sum_{j=1}^K e^{\lambda_j \tilde H/\tau}},
    \quad \lambda_k = k/K .

With :math:`r = e^{\tilde H/(K\tau)}` the denominator is the geometric sum
:math:`\sum_{j=1}^K r^j = r(r^K-1)/(r-1)`, so :math:`\alpha_k = r^{k-1}(r-1)/(r^K-1)` for symbolic
``K``; with :math:`q = 1/r` it is :math:`\alpha_k = q^{K-k}(1-q)/(1-q^K)`, whose limits
:math:`q \to 0^+` (:math:`\tau \to 0^+`) and :math:`q \to 1^-` (:math:`\tau\to\infty`) are limits of
rational functions (sympy's direct ``tau -> 0+`` limit with symbolic ``K`` is not reliable).
"""
from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import (
    HT,
    TAU,
    Derivation,
    ResultItem,
    decide_zero,
    decided_status,
    latex,
    latex_rows,
    sign_of,
    to_float,
)

K_RANGE = range(2, 9)
K_SYM = sp.Symbol("K", integer=True, positive=True)
k_SYM = sp.Symbol("k", integer=True, positive=True)
R = sp.Symbol("r")   # no assumptions: sign queries on sums of powers of r are costly
Q = sp.Symbol("q", positive=True)
N_SYM = sp.Symbol("n", integer=True, positive=True)


def softmax_weights(K: int, ht=HT, tau=TAU) -> list[sp.Expr]:
    r""":math:`\alpha_k = e^{\lambda_k \tilde H/\tau} / \sum_j e^{\lambda_j \tilde H/\tau}`,
    ``k = 1..K`` (exact, any sympy ``ht`` and ``tau``)."""
    logits = [sp.Rational(k, K) * ht / tau for k in range(1, K + 1)]
    total = sp.Add(*[sp.exp(z) for z in logits])
    return [sp.exp(z) / total for z in logits]


@cache
def weights_in_r(K: int) -> tuple[sp.Expr, ...]:
    r"""The same weights as rational functions of :math:`r = e^{\tilde H/(K\tau)}`:
    :math:`\alpha_k = r^k / \sum_j r^j`."""
    total = sp.Add(*[R**j for j in range(1, K + 1)])
    return tuple(R**k / total for k in range(1, K + 1))


def weighted_mean_lambda_in_r(K: int) -> sp.Expr:
    r""":math:`\bar\lambda = \sum_k \alpha_k \lambda_k = \sum_k k r^k / (K \sum_j r^j)`."""
    return (sp.Add(*[k * R**k for k in range(1, K + 1)])
            / (K * sp.Add(*[R**j for j in range(1, K + 1)])))


def _symbolic_k_items() -> dict[str, ResultItem]:
    geometric = R * (R**K_SYM - 1) / (R - 1)
    alpha_r = R**k_SYM / geometric
    alpha_ht = alpha_r.subs(R, sp.exp(HT / (K_SYM * TAU)))
    j = sp.Symbol("j", integer=True, positive=True)
    summed = sp.summation(R**j, (j, 1, K_SYM))
    summed = summed.args[-1][0] if isinstance(summed, sp.Piecewise) else summed
    geometric_ok = decide_zero(summed - geometric)
    at_zero = sp.limit(alpha_ht, HT, 0)
    at_one = sp.simplify(sp.limit(alpha_ht, HT, 1))
    alpha_q = Q**N_SYM * (1 - Q) / (1 - Q**K_SYM)   # k = K - n, n >= 1 (k < K)
    alpha_top_q = (1 - Q) / (1 - Q**K_SYM)             # k = K
    cold_low, cold_top = sp.limit(alpha_q, Q, 0, "+"), sp.limit(alpha_top_q, Q, 0, "+")
    hot = sp.limit(alpha_q, Q, 1, "-")
    q_form_ok = decide_zero((alpha_r - alpha_q).subs({R: 1 / Q, k_SYM: K_SYM - N_SYM}))
    return {
        "geometric_sum": ResultItem.of(
            sp.Eq(sp.Sum(R**j, (j, 1, K_SYM)), geometric), True,
            decided_status([geometric_ok]),
            "sympy summation equals r(r^K-1)/(r-1) for r != 1"),
        "weights_symbolic_K": ResultItem.of(
            sp.Eq(sp.Symbol("alpha_k"), alpha_r.subs(R, sp.exp(HT / (K_SYM * TAU)))), None,
            decided_status([q_form_ok]),
            "closed form with r = exp(Ht/(K tau)); equal to q^(K-k)(1-q)/(1-q^K), q = 1/r"),
        "limit_Ht_to_0_symbolic_K": ResultItem.of(
            at_zero, None, decided_status([decide_zero(at_zero - 1 / K_SYM)]),
            "alpha_k -> 1/K as Ht -> 0: uniform, for every K and tau",
            tex=r"\lim_{\tilde H \to 0} \alpha_k = " + latex(at_zero)),
        "limit_Ht_to_1_symbolic_K": ResultItem.of(
            at_one, None, "proved",
            "alpha_k(1) = e^{(k-1)/(K tau)} (e^{1/(K tau)}-1)/(e^{1/tau}-1): weights at Ht = 1",
            tex=r"\alpha_k(1) = " + latex(at_one)),
        "limit_tau_to_0_symbolic_K": ResultItem.of(
            sp.Tuple(cold_low, cold_top), True,
            decided_status([decide_zero(cold_low), decide_zero(cold_top - 1)]),
            "for Ht > 0, tau -> 0+ (q -> 0+): alpha_k -> 0 for k < K and alpha_K -> 1 (one-hot "
            "on the longest-memory level k = K)",
            tex=r"\lim_{\tau \to 0^+} (\alpha_{k<K}, \alpha_K) = "
                + latex(sp.Tuple(cold_low, cold_top))),
        "limit_tau_to_inf_symbolic_K": ResultItem.of(
            hot, None, decided_status([decide_zero(hot - 1 / K_SYM)]),
            "tau -> oo (q -> 1-): alpha_k -> 1/K, uniform",
            tex=r"\lim_{\tau \to \infty} \alpha_k = " + latex(hot)),
    }


def _per_k_items() -> dict[str, ResultItem]:
    zero_ok, cold_ok, hot_ok, deriv_ok = [], [], [], []
    at_one_rows, at_one_values, ratio_rows, signs = [], [], [], []
    for K in K_RANGE:
        alphas_r = weights_in_r(K)
        # r = exp(Ht/(K tau)): Ht -> 0 is r -> 1 (the rational functions are continuous there)
        zero_ok += [decide_zero(a.subs(R, 1) - sp.Rational(1, K)) for a in alphas_r]
        at_one = [a.subs(R, sp.exp(sp.Rational(1, K))) for a in alphas_r]
        alphas_q = [a.subs(R, 1 / Q) for a in alphas_r]
        cold_ok += [decide_zero(sp.limit(a, Q, 0, "+") - (1 if k == K else 0))
                    for k, a in enumerate(alphas_q, start=1)]
        hot_ok += [decide_zero(sp.limit(a, Q, 1, "-") - sp.Rational(1, K)) for a in alphas_q]
        # d/dHt = (dr/dHt) d/dr = r/(K tau) d/dr; identity in rational functions of r and tau
        lam_bar = weighted_mean_lambda_in_r(K)
        deriv_ok += [decide_zero(R / (K * TAU) * sp.diff(a, R)
                                 - a * (sp.Rational(k, K) - lam_bar) / TAU)
                     for k, a in enumerate(alphas_r, start=1)]
        ratio = sp.cancel(alphas_r[-1] / alphas_r[0]).subs(R, sp.exp(sp.Rational(1, K)))
        at_one_values.append([K, [to_float(a) for a in at_one]])
        at_one_rows.append([K, to_float(at_one[0]), to_float(at_one[-1]), to_float(ratio)])
        # sign of d alpha_k/dHt at Ht = 0 (lambdabar = (K+1)/(2K)) and at Ht = 1, tau = 1
        bar_one = lam_bar.subs(R, sp.exp(sp.Rational(1, K)))
        signs.append([K, [sign_of(sp.Rational(2 * k - K - 1, 2 * K)) for k in range(1, K + 1)],
                      [sign_of(sp.Rational(k, K) - bar_one) for k in range(1, K + 1)]])
        ratio_rows.append(ratio)
    fmt = "{:.6f}".format
    return {
        "limit_Ht_to_0_K2_8": ResultItem.of(
            None, True, decided_status(zero_ok),
            "exact for K = 2..8: all weights equal 1/K at Ht = 0",
            tex=r"\alpha_k(0) = 1/K,\ K = 2,\dots,8"),
        "weights_at_Ht_1_tau_1": ResultItem.of(
            None, at_one_values, "computed",
            "exact weights at Ht = 1, tau = 1 for K = 2..8 (value: [K, [alpha_1..alpha_K]])",
            tex=latex_rows(("K", r"\alpha_1(1)", r"\alpha_K(1)", r"\alpha_K/\alpha_1"),
                           [[str(K), fmt(a1), fmt(aK), fmt(rt)]
                            for K, a1, aK, rt in at_one_rows])),
        "alpha_1_alpha_K_at_Ht_1": ResultItem.of(
            None, at_one_rows, "computed",
            "[K, alpha_1(1), alpha_K(1), alpha_K/alpha_1] at tau = 1: at Ht = 1 the top level "
            "gets at most e times the weight of level 1, so no level dominates",
            tex=r"\frac{\alpha_K(1)}{\alpha_1(1)} = e^{(K-1)/(K\tau)}"),
        "ratio_K_to_1_at_Ht_1": ResultItem.of(
            sp.exp((K_SYM - 1) / (K_SYM * TAU)), True,
            decided_status(decide_zero(rt - sp.exp(sp.Rational(K - 1, K)))
                           for K, rt in zip(K_RANGE, ratio_rows)),
            "alpha_K/alpha_1 at Ht = 1 equals exp((K-1)/(K tau)) < e^{1/tau}; exact for K = 2..8 "
            "at tau = 1"),
        "ratio_below_e_tau_1": ResultItem.of(
            sp.exp((K_SYM - 1) / K_SYM) < sp.E, True, "proved",
            "(K-1)/K < 1 and exp is increasing, so alpha_K(1)/alpha_1(1) < e for every K"),
        "limit_tau_to_0_K2_8": ResultItem.of(
            None, True, decided_status(cold_ok),
            "exact for K = 2..8 (Ht > 0): one-hot on k = K", tex=r"\alpha \to e_K"),
        "limit_tau_to_inf_K2_8": ResultItem.of(
            None, True, decided_status(hot_ok),
            "exact for K = 2..8: uniform 1/K", tex=r"\alpha_k \to 1/K"),
        "derivative_identity_K2_8": ResultItem.of(
            sp.Eq(sp.Derivative(sp.Symbol("alpha_k"), HT),
                  sp.Symbol("alpha_k") * (sp.Symbol("lambda_k") - sp.Symbol("lambdabar")) / TAU),
            True, decided_status(deriv_ok),
            "d alpha_k/dHt = alpha_k (lambda_k - sum_j alpha_j lambda_j)/tau: the log-derivative "
            "of a softmax; identity decided exactly for every k, K = 2..8"),
        "sign_d_alpha_1": ResultItem.of(
            None, "-", "proved",
            "lambda_1 = 1/K is the smallest lambda and the weights are positive, so the weighted "
            "mean exceeds it for K >= 2: alpha_1 is strictly decreasing in Ht, for all Ht, tau",
            tex=r"\frac{d\alpha_1}{d\tilde H} < 0"),
        "sign_d_alpha_K": ResultItem.of(
            None, "+", "proved",
            "lambda_K = 1 is the largest lambda: alpha_K is strictly increasing in Ht (K >= 2)",
            tex=r"\frac{d\alpha_K}{d\tilde H} > 0"),
        "sign_pattern_K2_8": ResultItem.of(
            None, signs, "proved",
            "[K, signs of d alpha_k/dHt at Ht = 0, at Ht = 1 (tau = 1)], k = 1..K. The weighted "
            "mean of lambda increases with Ht (its derivative is Var_alpha(lambda)/tau > 0), so "
            "each sign changes at most once, from + to -",
            tex=r"\operatorname{sign}\frac{d\alpha_k}{d\tilde H} = "
                r"\operatorname{sign}\Big(\lambda_k - \sum_j \alpha_j \lambda_j\Big)"),
    }


def derive() -> Derivation:
    """Limits in Ht and tau, values at Ht = 1, and signs of the weights' Ht-derivatives."""
    results = _symbolic_k_items()
    results.update(_per_k_items())
    return Derivation(
        name="softmax_limits",
        title="Softmax cascade weights: limits, values at Ht = 1, monotonicity",
        statement="alpha_k(Ht) = exp(lambda_k Ht/tau)/sum_j exp(lambda_j Ht/tau), lambda_k = k/K. "
                  "As Ht -> 0 the weights are uniform (1/K). At Ht = 1 they are far from "
                  "dominated: alpha_K/alpha_1 = exp((K-1)/(K tau)) < e at tau = 1. Only tau -> 0+ "
                  "makes them one-hot (on k = K). alpha_1 decreases and alpha_K increases in Ht.",
        results=results)


if __name__ == "__main__":
    print(derive().summary())
