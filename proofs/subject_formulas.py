r"""Symbolic facts of the EMC paper's statements for formulas other than the paper's own: the
subjects of the claims' controls (a power rule for G1, a bank of momentum buffers for M1, a rule
for the cascade weights for P1/P2, an operation count for C1).

Each function takes the subject's formula (a callable written with arithmetic only, so that it
evaluates on sympy symbols as well as on NumPy arrays, or a sympy-readable string) and returns a
:class:`~proofs.derivation.Derivation` whose result keys are the ones the claim reads from the
paper's derivation (``gamma_range``, ``effective_memory``, ``op_count``), or, for the weights,
the few sign facts listed in :func:`weight_rule`. They are the same arguments as the paper's
derivations, written for a family of formulas; ``tests/test_claim_emc_controls.py`` checks that
on the paper's formulas they reproduce the paper's derivations.
"""
from __future__ import annotations

import sympy as sp
from sympy.calculus.util import function_range

from .derivation import HT, TAU, Derivation, ResultItem, decide_zero, sign_of
from .gamma_range import H_MAX, PATHS, H
from .op_count import HEAVY_BALL, D, K
from .softmax_limits import K_RANGE

LEVEL = sp.Symbol("k", integer=True, positive=True)


def _number(x):
    """An exact bound as JSON data: an int, a float, or the string '-oo' / 'oo'."""
    if x in (sp.oo, -sp.oo):
        return str(x)
    return int(x) if x.is_integer else float(x)


def _decided(value) -> str:
    return "undecided" if value is None else "proved"


def _extreme(bound, which: str):
    """inf (``which='inf'``) or sup of ``bound`` over :math:`H_{\\max} \\ge \\log 2` (d >= 2)."""
    if not bound.free_symbols:
        return bound
    rng = function_range(bound, H_MAX, sp.Interval(sp.log(2), sp.oo))
    return rng.inf if which == "inf" else rng.sup


def power_rule(gamma, name: str = "power rule") -> Derivation:
    r"""Range of ``gamma(H, H_max)`` over :math:`0 \le H \le H_{\max}`, :math:`H_{\max} = \log d`
    (d >= 2, relaxed to the real half-line :math:`H_{\max} \ge \log 2`: a superset), and its
    limits as :math:`H_{\max} \to 0^+` along :math:`H = c H_{\max}` and :math:`H = H_{\max}^2`
    (the d = 1 case), as in :mod:`proofs.gamma_range`. ``range`` is ``[inf, sup]``."""
    expr = sp.sympify(gamma(H, H_MAX))
    s = sp.Symbol("s", nonnegative=True)
    try:
        inner = function_range(expr.subs(H, s * H_MAX), s, sp.Interval(0, 1))
        bounds = [_extreme(inner.inf, "inf"), _extreme(inner.sup, "sup")]
        rng = [_number(b) for b in bounds]
    except (NotImplementedError, ValueError, TypeError):
        rng = None
    limits = [sp.limit(expr.subs(H, c * H_MAX), H_MAX, 0, "+") for c in PATHS]
    limits.append(sp.limit(expr.subs(H, H_MAX**2), H_MAX, 0, "+"))
    finite = all(v.is_real and v.is_finite for v in limits)
    return Derivation(
        name=f"subject: {name}", title=f"Range of the power rule {name}",
        statement=f"gamma = {expr}: its range over 0 <= H <= H_max and its limits at d = 1",
        results={
            "range": ResultItem.of(
                None, rng, _decided(rng),
                "[inf, sup] of gamma over 0 <= H <= H_max, H_max >= log 2 (sympy function_range)",
                tex=r"\gamma(H, H_{\max}) = " + sp.latex(expr)),
            "d1_path_limits": ResultItem.of(
                sp.Tuple(*limits), [float(v) for v in limits] if finite else None,
                "proved" if finite else "undecided",
                "limits as H_max -> 0+ along H = c H_max (c = 0, 1/2, 1) and H = H_max^2"),
        })


def buffer_timescales(beta, name: str = "buffers") -> Derivation:
    r"""Whether the timescale :math:`1/(1-\beta_k)` of ``beta(k)`` is :math:`2^k` for every
    level k (the key ``larger_k_longer_memory`` of :mod:`proofs.effective_memory`)."""
    expr = sp.sympify(beta(LEVEL))
    same = decide_zero(1 / (1 - expr) - 2**LEVEL)
    return Derivation(
        name=f"subject: {name}", title=f"Timescales of the buffers {name}",
        statement=f"beta_k = {expr}: timescale 1/(1 - beta_k) against 2^k",
        results={"larger_k_longer_memory": ResultItem.of(
            sp.Eq(1 / (1 - expr), 2**LEVEL, evaluate=False), same, _decided(same),
            "the timescale 1/(1 - beta_k) equals 2^k for every k (decided for symbolic k)",
            tex=_timescale_tex(expr, same))})


def _timescale_tex(beta, same) -> str:
    r""":math:`\beta_k = \ldots,\ 1/(1-\beta_k) = \ldots` against :math:`2^k` (``same``: the
    decision)."""
    timescale = sp.simplify(1 / (1 - beta))
    relation = {True: "" if timescale == 2**LEVEL else r" = 2^{k}", False: r" \ne 2^{k}",
                None: r" \overset{?}{=} 2^{k}"}[same]
    return (rf"\beta_k = {sp.latex(beta)},\qquad \frac{{1}}{{1 - \beta_k}} = "
            rf"{sp.latex(timescale)}{relation}")


def _common_sign(signs):
    """The one sign of a list of signs, '0' if all are '0', None if they differ or one is."""
    signs = set(signs)
    if None in signs:
        return None
    nonzero = signs - {"0"}
    if not nonzero:
        return "0"
    return nonzero.pop() if len(nonzero) == 1 else None


def _product(a, b):
    if a is None or b is None:
        return None
    if "0" in (a, b):
        return "0"
    return "+" if a == b else "-"


def weight_rule(lambdas, entropy_map, name: str = "weights", k_range=K_RANGE) -> Derivation:
    r"""Sign facts of the weights :math:`\alpha_k = \operatorname{softmax}_k(\lambda_k u(\tilde H)
    /\tau)` for level timescales :math:`2^k`, for each K in ``k_range``:

    * ``limit_Ht_to_0_uniform``: the weights are uniform at :math:`\tilde H \to 0` (a softmax is
      uniform exactly when its logits :math:`\lambda_k u(0)/\tau` are equal);
    * ``dT_dHt_sign``: sign of :math:`dT/d\tilde H` for :math:`T = \sum_k \alpha_k 2^k`, which is
      :math:`u'(\tilde H)\operatorname{Cov}_\alpha(\lambda_k, 2^k)/\tau` (chain rule and the
      covariance identity of :mod:`proofs.effective_memory`); by Chebyshev's sum inequality the
      covariance has the common sign of :math:`\lambda_j - \lambda_i`, :math:`i < j`;
    * ``sign_d_alpha_top``: sign of :math:`d\alpha_k/d\tilde H = \alpha_k(\lambda_k-\bar\lambda)
      u'/\tau` for the level with the largest :math:`\lambda` (0 if all are equal);
    * ``ratio_below_e_tau_1``: :math:`\alpha_K(1)/\alpha_1(1) = e^{(\lambda_K-\lambda_1)u(1)} < e`
      at :math:`\tau = 1`.

    ``lambdas(K)`` gives exact :math:`\lambda_1..\lambda_K`; ``entropy_map(Ht)`` is :math:`u`."""
    u = sp.sympify(entropy_map(HT))
    du = sign_of(sp.diff(u, HT))
    u0, u1 = u.subs(HT, 0), u.subs(HT, 1)
    uniform, order, top, ratio = [], [], [], []
    for K_ in k_range:
        lam = [sp.nsimplify(x) for x in lambdas(K_)]
        logits = [lk * u0 / TAU for lk in lam]
        uniform.append(all(decide_zero(z - logits[0]) for z in logits))
        order.append(_common_sign(sign_of(lam[j] - lam[i])
                                  for i in range(K_) for j in range(i + 1, K_)))
        top.append(du if any(sign_of(max(lam) - x) == "+" for x in lam) else "0")
        ratio.append(sign_of(1 - (lam[-1] - lam[0]) * u1) == "+")
    limit_uniform = None if None in uniform else all(uniform)
    dT_sign = _product(du, _common_sign(order))
    top_sign = _common_sign(top)
    return Derivation(
        name=f"subject: {name}", title=f"Sign facts of the weight rule {name}",
        statement=f"alpha_k = softmax_k(lambda_k u(Ht)/tau), u(Ht) = {u}, timescales 2^k, "
                  f"K in {list(k_range)}",
        results={
            "limit_Ht_to_0_uniform": ResultItem.of(
                None, limit_uniform, _decided(limit_uniform),
                "the logits lambda_k u(0)/tau are all equal (softmax uniform) for every K",
                tex=r"\alpha_k(0) = 1/K"),
            "dT_dHt_sign": ResultItem.of(
                None, dT_sign, _decided(dT_sign),
                "sign of u' times the common sign of lambda_j - lambda_i (i < j)",
                tex=r"\operatorname{sign}\frac{dT}{d\tilde H}"),
            "sign_d_alpha_top": ResultItem.of(
                None, top_sign, _decided(top_sign),
                "sign of the derivative of the weight of the level with the largest lambda",
                tex=r"\operatorname{sign}\frac{d\alpha_{\mathrm{top}}}{d\tilde H}"),
            "ratio_below_e_tau_1": ResultItem.of(
                None, all(ratio), "proved",
                "(lambda_K - lambda_1) u(1) < 1 for every K: alpha_K(1)/alpha_1(1) < e at tau = 1",
                tex=r"\alpha_K(1)/\alpha_1(1) < e"),
        })


def cost_count(ops: dict, name: str = "step") -> Derivation:
    r"""Degrees in d and in K of the operation counts ``ops`` (variant -> sympy-readable formula
    in ``K`` and ``d``) and their ratio to heavy ball's :math:`4d` as :math:`d \to \infty` at
    K = 3 and 5 (the keys of :mod:`proofs.op_count`)."""
    counts = {v: sp.expand(sp.sympify(f, locals={"K": K, "d": D})) for v, f in ops.items()}
    polys = {v: sp.Poly(c, K, D) for v, c in counts.items()}
    ratios = {}
    for v, c in counts.items():
        limit = sp.limit(c / HEAVY_BALL, D, sp.oo)
        ratios[v] = {str(k): float(limit.subs(K, k)) if limit.subs(K, k).is_finite else "oo"
                     for k in (3, 5)}
    return Derivation(
        name=f"subject: {name}", title=f"Operation count of {name}",
        statement="; ".join(f"{v}: {c}" for v, c in counts.items()),
        results={
            "degree_in_d": ResultItem.of(None, max(p.degree(D) for p in polys.values()),
                                         "computed", "degree of the count in d"),
            "degree_in_K": ResultItem.of(None, max(p.degree(K) for p in polys.values()),
                                         "computed", "degree of the count in K"),
            "ratio_to_momentum": ResultItem.of(None, ratios, "computed",
                                               "count / heavy ball's 4d as d -> oo, K = 3, 5"),
        })
