r"""Effective memory of the cascade as a function of the normalised entropy (claims P1, P2, M1).

.. math::
    T(\tilde H) = \sum_k \alpha_k(\tilde H)\, \frac{1}{1-\beta_k} = \sum_k \alpha_k 2^k
    = \frac{\sum_k (2r)^k}{\sum_k r^k}
    = \frac{2(r-1)\big((2r)^K-1\big)}{(2r-1)(r^K-1)},\qquad r = e^{\tilde H/(K\tau)} .

Its derivative is a covariance under the weights,
:math:`dT/d\tilde H = \operatorname{Cov}_\alpha(\lambda_k, 2^k)/\tau
= \tau^{-1}\sum_{i<j} \alpha_i\alpha_j(\lambda_j-\lambda_i)(2^j-2^i) > 0`:
both sequences increase in ``k`` (Chebyshev's sum inequality), so the memory grows with entropy.
"""
from __future__ import annotations

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
    to_float,
)
from .softmax_limits import K_RANGE, K_SYM, R

T_CLOSED = 2 * (R - 1) * ((2 * R)**K_SYM - 1) / ((2 * R - 1) * (R**K_SYM - 1))


def _geometric(K: int, ratio) -> sp.Expr:
    return sp.Add(*[ratio**k for k in range(1, K + 1)])


def memory_in_r(K: int) -> sp.Expr:
    r""":math:`T = \sum_k \alpha_k 2^k = \sum_k (2r)^k / \sum_k r^k`,
    :math:`r = e^{\tilde H/(K\tau)}`."""
    return _geometric(K, 2 * R) / _geometric(K, R)


def covariance_form(K: int) -> sp.Expr:
    r""":math:`\tau^{-1}\sum_{i<j}\alpha_i\alpha_j(\lambda_j-\lambda_i)(2^j-2^i)` in ``r``
    (:math:`\alpha_i\alpha_j = r^{i+j}/(\sum_k r^k)^2`)."""
    pairs = sp.Add(*[R**(i + j) * sp.Rational(j - i, K) * (2**j - 2**i)
                     for i in range(1, K + 1) for j in range(i + 1, K + 1)])
    return pairs / (TAU * _geometric(K, R)**2)


def derive() -> Derivation:
    """Closed form of T, its values at Ht = 0 and 1, and the sign of dT/dHt."""
    j = sp.Symbol("j", integer=True, positive=True)
    t_zero = sp.limit(T_CLOSED, R, 1)
    closed_ok, deriv_ok, rows = [], [], []
    for K in K_RANGE:
        memory = memory_in_r(K)
        closed_ok.append(decide_zero(memory - T_CLOSED.subs(K_SYM, K)))
        # dT/dHt = (dr/dHt) dT/dr with dr/dHt = r/(K tau)
        deriv_ok.append(decide_zero(R / (K * TAU) * sp.diff(memory, R) - covariance_form(K)))
        t0, t1 = memory.subs(R, 1), memory.subs(R, sp.exp(sp.Rational(1, K)))
        closed_ok.append(decide_zero(t0 - t_zero.subs(K_SYM, K)))
        rows.append([K, to_float(t0), to_float(t1), to_float(t1 / t0)])
    fmt = "{:.4f}".format
    results = {
        "closed_form_symbolic_K": ResultItem.of(
            sp.Eq(sp.Symbol("T"), T_CLOSED), True, decided_status(closed_ok),
            "T = sum_k r^k 2^k / sum_k r^k with both geometric sums in closed form, "
            "r = exp(Ht/(K tau)); identity decided exactly for K = 2..8"),
        "T_at_Ht_0_symbolic_K": ResultItem.of(
            t_zero, None, decided_status([decide_zero(t_zero - (2**(K_SYM + 1) - 2) / K_SYM)]),
            "limit r -> 1: T(0) = (2^(K+1) - 2)/K, the plain average of the timescales 2^k",
            tex="T(0) = " + latex(t_zero)),
        "T_at_Ht_1_symbolic_K": ResultItem.of(
            T_CLOSED.subs(R, sp.exp(1 / (K_SYM * TAU))), None, "proved",
            "T(1): the closed form at r = exp(1/(K tau))",
            tex="T(1) = " + latex(T_CLOSED.subs(R, sp.exp(1 / (K_SYM * TAU))))),
        "T_at_Ht_0_and_1_K2_8": ResultItem.of(
            None, rows, "computed",
            "[K, T(0), T(1), T(1)/T(0)] at tau = 1, exact values evaluated to floats",
            tex=latex_rows(("K", "T(0)", "T(1)", "T(1)/T(0)"),
                           [[str(K), fmt(a), fmt(b), fmt(c)] for K, a, b, c in rows])),
        "dT_dHt_covariance_identity_K2_8": ResultItem.of(
            sp.Eq(sp.Derivative(sp.Symbol("T"), HT),
                  sp.Sum(sp.Symbol("alpha_i") * sp.Symbol("alpha_j")
                         * (sp.Symbol("lambda_j") - sp.Symbol("lambda_i"))
                         * (2**j - 2**sp.Symbol("i")), (sp.Symbol("i"), 1, j - 1), (j, 1, K_SYM))
                  / TAU),
            True, decided_status(deriv_ok),
            "dT/dHt = Cov_alpha(lambda_k, 2^k)/tau written as a sum over pairs i < j; identity "
            "decided exactly for K = 2..8"),
        "dT_dHt_sign": ResultItem.of(
            None, "+", "proved",
            "every pair term alpha_i alpha_j (lambda_j - lambda_i)(2^j - 2^i) is > 0 (weights "
            "positive, lambda_k and 2^k strictly increasing in k), so dT/dHt > 0 for every "
            "Ht, tau > 0 and K >= 2 (Chebyshev's sum inequality, strict)",
            tex=r"\frac{dT}{d\tilde H} > 0"),
        "memory_increasing_in_entropy": ResultItem.of(
            None, True, "proved",
            "T increases with Ht: high entropy gives a longer effective memory and low entropy "
            "a shorter one; T(0) is the minimum of T on [0, 1] and T(1) the maximum",
            tex=r"T(0) = \min_{[0,1]} T < T(1) = \max_{[0,1]} T"),
        "low_entropy_favours_longer_memory": ResultItem.of(
            None, False, "proved",
            "Proposition 1's statement read as 'lower entropy gives longer effective memory' is "
            "false: at Ht -> 0 the weights are uniform and T is smallest",
            tex=r"T(0) < T(\tilde H),\ \tilde H \in (0, 1]"),
        "larger_k_longer_memory": ResultItem.of(
            sp.Eq(1 / (1 - (1 - 2**-sp.Symbol("k"))), 2**sp.Symbol("k"), evaluate=False), True,
            "proved",
            "level k has timescale 1/(1 - beta_k) = 2^k, which doubles from level to level: "
            "larger k means longer memory",
            tex=r"\frac{1}{1 - \beta_k} = \frac{1}{1 - (1 - 2^{-k})} = 2^{k},\qquad "
                r"\frac{2^{k+1}}{2^{k}} = 2"),
        "prop2_parenthetical_consistent": ResultItem.of(
            None, False, "proved",
            "Proposition 2's proof says 'favoring larger k (shorter memory)'; with beta_k = "
            "1 - 2^-k larger k has longer memory, so the parenthetical is wrong and the "
            "proposition's statement (high entropy favours shorter-term states) fails",
            tex=r"k \uparrow\ \Rightarrow\ 2^k \uparrow"),
    }
    return Derivation(
        name="effective_memory",
        title="Effective memory T(Ht) = sum_k alpha_k 2^k",
        statement="T(Ht) = sum_k alpha_k(Ht) 2^k with 2^k = 1/(1 - beta_k). T(0) = (2^(K+1)-2)/K; "
                  "dT/dHt = Cov_alpha(lambda_k, 2^k)/tau > 0, so the effective memory increases "
                  "with the normalised entropy: high entropy gives a longer memory, the "
                  "opposite of Propositions 1 and 2.",
        results=results,
        title_tex=r"Effective memory $T(\tilde H) = \sum_k \alpha_k 2^k$",
        statement_tex=(r"$T(\tilde H) = \sum_k \alpha_k(\tilde H)\, 2^k$ with "
                       r"$2^k = 1/(1 - \beta_k)$. $T(0) = (2^{K+1}-2)/K$; "
                       r"$dT/d\tilde H = \operatorname{Cov}_\alpha(\lambda_k, 2^k)/\tau > 0$, so "
                       r"the effective memory increases with the normalised entropy: high entropy "
                       r"gives a longer memory, the opposite of Propositions 1 and 2."))


if __name__ == "__main__":
    print(derive().summary())
