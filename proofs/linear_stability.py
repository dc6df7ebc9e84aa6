r"""Exact stability threshold of linear EMC with frozen weights on a quadratic direction.

Reading ``"linear"`` (:math:`h = \tilde m`) with the weights frozen at :math:`\alpha`, on an
eigen-direction of curvature :math:`\lambda`, in the paper's order
:math:`g_t = \lambda x_t`, :math:`m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) g_t`,
:math:`x_{t+1} = x_t - \eta\sum_k \alpha_k m^{(k)}_t`. With the state
:math:`s_t = (x_t, \eta m^{(1)}_{t-1}, \dots, \eta m^{(K)}_{t-1})` (buffers scaled by
:math:`\eta`, a similarity that keeps the eigenvalues) :math:`s_{t+1} = M(u) s_t`,
:math:`u = \eta\lambda`:

.. math::
    M(u) = \begin{pmatrix} 1 - u\sum_k \alpha_k(1-\beta_k) & -\alpha_1\beta_1 & \cdots
    & -\alpha_K\beta_K \\ (1-\beta_1)u & \beta_1 & & \\ \vdots & & \ddots & \\
    (1-\beta_K)u & & & \beta_K \end{pmatrix},

    \det(zI - M) = p(z; u) = (z-1)\prod_k (z-\beta_k)
    + u\, z \sum_k \alpha_k (1-\beta_k) \prod_{j\ne k}(z-\beta_j) =: A(z) + u B(z).

At :math:`u = 0` the roots are :math:`1, \beta_1, \dots, \beta_K`; the root at 1 moves to
:math:`1 - u + O(u^2)`, so small :math:`u > 0` is stable, and the threshold
:math:`u^* = \sup\{u > 0: \rho(M(u')) < 1\ \forall u' \in (0, u]\}` is the smallest
:math:`u > 0` with a root on the unit circle. Crossings: :math:`z = 1` only at :math:`u = 0`
(:math:`p(1; u) = u\prod_k(1-\beta_k)`); :math:`z = -1` at
:math:`u_{-1} = 2 / \sum_k \alpha_k (1-\beta_k)/(1+\beta_k) = 2/\sum_k \alpha_k/(2^{k+1}-1)`
(:math:`p` is linear in :math:`u`); :math:`z = e^{i\omega}` needs :math:`u = -A/B` real, i.e.
:math:`\operatorname{Im} A(z)\overline{B(z)} = \sin\omega\, Q(\cos\omega) = 0`, with
:math:`u = -\operatorname{Re}(A\bar B)/|B|^2` a rational function of :math:`x = \cos\omega`
(Chebyshev :math:`T_n, U_n`). For ``K = 1``: :math:`u^* = 2(1+\beta)/(1-\beta) = 6` (the heavy-ball
condition for an EMA buffer with :math:`\beta = 1/2`).
"""
from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
import sympy as sp

from emc_theory import EMC, cascade_weights, minimize
from emc_theory.cascade import level_betas
from emc_theory.fit import affine_fit
from emc_theory.problems import quadratic
from emc_theory.validation import check_int

from .derivation import (
    Derivation,
    ResultItem,
    decide_zero,
    decided_status,
    latex,
    latex_rows,
    sign_of,
    to_float,
)

U = sp.Symbol("u", positive=True)
Z = sp.Symbol("z")
X = sp.Symbol("x", real=True)
BETA = sp.Symbol("beta", positive=True)
K_RANGE = range(1, 6)
REL_STEP = 1e-6   # numeric check at u*(1 -+ REL_STEP)


def exact_betas(K: int) -> list[sp.Rational]:
    r""":math:`\beta_k = 1 - 2^{-k}` as exact rationals."""
    return [1 - sp.Rational(1, 2**k) for k in range(1, K + 1)]


def uniform_weights(K: int) -> list[sp.Rational]:
    """Weights 1/K (the limit Ht -> 0)."""
    return [sp.Rational(1, K)] * K


def top_entropy_weights(K: int) -> list[sp.Expr]:
    r"""Weights at :math:`\tilde H = 1`, :math:`\tau = 1`: :math:`\alpha_k \propto e^{k/K}`."""
    logits = [sp.exp(sp.Rational(k, K)) for k in range(1, K + 1)]
    return [w / sp.Add(*logits) for w in logits]


def symbolic_matrix(alpha, beta, u=U) -> sp.Matrix:
    """The (K+1)x(K+1) matrix M(u) of the module docstring, exact."""
    K = len(alpha)
    m = sp.diag(1, *beta)
    m[0, 0] = 1 - u * sp.Add(*[a * (1 - b) for a, b in zip(alpha, beta)])
    for k in range(K):
        m[0, k + 1] = -alpha[k] * beta[k]
        m[k + 1, 0] = (1 - beta[k]) * u
    return m


def companion_matrix(K: int, alpha, u) -> np.ndarray:
    r"""Numeric :math:`M(u)` (same formula), batched: ``alpha`` of shape ``(..., K)`` and ``u``
    broadcastable to ``alpha.shape[:-1]`` give shape ``(..., K+1, K+1)``."""
    K = check_int("K", K, 1)
    alpha = np.asarray(alpha, dtype=float)
    if alpha.shape[-1:] != (K,):
        raise ValueError(f"alpha must have last axis of length K = {K}, got shape {alpha.shape}")
    u = np.asarray(u, dtype=float)
    beta = level_betas(K)
    batch = np.broadcast_shapes(alpha.shape[:-1], u.shape)
    alpha = np.broadcast_to(alpha, batch + (K,))
    u = np.broadcast_to(u, batch)
    m = np.zeros(batch + (K + 1, K + 1))
    m[..., 0, 0] = 1 - u * (alpha @ (1 - beta))
    m[..., 0, 1:] = -alpha * beta
    m[..., 1:, 0] = (1 - beta) * u[..., None]
    m[..., np.arange(1, K + 1), np.arange(1, K + 1)] = beta
    return m


# --- polynomials as ascending coefficient lists, over any number type (exact or float) -------

def _poly_mul(a, b):
    out = [0] * (len(a) + len(b) - 1)
    for i, ai in enumerate(a):
        for j, bj in enumerate(b):
            out[i + j] += ai * bj
    return out


def _poly_add(a, b, scale=1):
    """``a + scale * b``."""
    n = max(len(a), len(b))
    a, b = list(a) + [0] * (n - len(a)), list(b) + [0] * (n - len(b))
    return [x + scale * y for x, y in zip(a, b)]


@cache
def _chebyshev(kind: str, n: int) -> tuple[int, ...]:
    """Integer coefficients of T_n (``kind="T"``) or U_n (``"U"``), ascending."""
    if n == 0:
        return (1,)
    if n == 1:
        return (0, 1) if kind == "T" else (0, 2)
    return tuple(_poly_add(_poly_mul([0, 2], _chebyshev(kind, n - 1)), _chebyshev(kind, n - 2),
                           -1))


def char_poly_parts(alpha, beta):
    r"""Coefficients (ascending in :math:`z`) of :math:`A` and :math:`B`, :math:`p = A + uB`."""
    A = [-1, 1]
    for b in beta:
        A = _poly_mul(A, [-b, 1])
    B = [0]
    for k, (a, b) in enumerate(zip(alpha, beta)):
        term = [0, a * (1 - b)]
        for j, bj in enumerate(beta):
            if j != k:
                term = _poly_mul(term, [-bj, 1])
        B = _poly_add(B, term)
    return A, B


def _correlation(a, b) -> dict[int, object]:
    r""":math:`c_m = \sum_j a_j b_{j-m}` for every lag :math:`m`."""
    out = {}
    for j, aj in enumerate(a):
        for i, bi in enumerate(b):
            out[j - i] = out.get(j - i, 0) + aj * bi
    return out


def crossing_polynomials(alpha, beta):
    r"""Coefficients (ascending in :math:`x = \cos\omega`) of
    :math:`Q = \operatorname{Im}(A\bar B)/\sin\omega`, :math:`R = \operatorname{Re}(A\bar B)` and
    :math:`S = |B|^2` on :math:`z = e^{i\omega}`; a crossing there has :math:`Q(x) = 0` and
    :math:`u = -R(x)/S(x)`. With :math:`c_m = \sum_j a_j b_{j-m}`,
    :math:`A\bar B = \sum_m c_m e^{im\omega}`, so :math:`Q = \sum_{m>0}(c_m - c_{-m})U_{m-1}`,
    :math:`R = \sum_m c_m T_{|m|}`, and :math:`S` likewise from the autocorrelation of ``B``."""
    A, B = char_poly_parts(alpha, beta)
    cross, auto = _correlation(A, B), _correlation(B, B)
    Q, R, S = [0], [0], [0]
    for m, c in cross.items():
        R = _poly_add(R, _chebyshev("T", abs(m)), c)
        if m != 0:
            Q = _poly_add(Q, _chebyshev("U", abs(m) - 1), c if m > 0 else -c)
    for m, c in auto.items():
        S = _poly_add(S, _chebyshev("T", abs(m)), c)
    return Q, R, S


def minus_one_crossing(alpha, beta):
    r""":math:`u_{-1} = 2/\sum_k \alpha_k (1-\beta_k)/(1+\beta_k)`, where :math:`p(-1; u) = 0`."""
    return 2 / sum(a * (1 - b) / (1 + b) for a, b in zip(alpha, beta))


def _polyval(coeffs, x):
    return sum(c * x**n for n, c in enumerate(coeffs))


def rational_weights(alpha) -> list:
    """Exact weights, or 40-digit rational approximants of non-rational ones."""
    return [a if a.is_Rational else sp.Rational(sp.N(a, 40)) for a in map(sp.sympify, alpha)]


def unit_circle_crossings(alpha, beta) -> list[sp.Expr]:
    r"""Exact positive :math:`u` at which a root of :math:`p` is :math:`e^{i\omega}`,
    :math:`0 < \omega < \pi`, for rational ``alpha`` and ``beta`` (``Fraction`` or sympy).

    The real roots of :math:`Q` in :math:`(-1, 1)` are isolated exactly (``CRootOf``): float
    root finding is unreliable here, since for large ``K`` the roots of :math:`Q` cluster just
    above :math:`x = 1` (the :math:`\beta_k \to 1`) and spurious real roots below 1 appear.
    """
    Q, R, S = crossing_polynomials(alpha, beta)
    poly = sp.Poly([sp.Rational(c) for c in reversed(Q)], X, domain="QQ")
    if poly.degree() < 1 or poly.count_roots(-1, 1) == 0:
        return []
    xs = [x for x in poly.real_roots() if -1 < x < 1]
    us = [-_polyval(R, x) / _polyval(S, x) for x in xs]
    return sorted((u for u in us if sign_of(u) == "+"), key=to_float)


def _fraction_betas(K: int) -> list[Fraction]:
    return [1 - Fraction(1, 2**k) for k in range(1, K + 1)]


def stability_threshold(K: int, alpha) -> float:
    r"""Largest :math:`u^*` with :math:`\rho(M(u)) < 1` on :math:`(0, u^*)` for weights ``alpha``
    (shape ``(K,)``, positive, summing to 1): the smallest positive unit-circle crossing,
    computed exactly for the binary fractions that the floats in ``alpha`` are."""
    K = check_int("K", K, 1)
    alpha = np.asarray(alpha, dtype=float)
    if alpha.shape != (K,) or not np.all(np.isfinite(alpha) & (alpha > 0)):
        raise ValueError(f"alpha must be K = {K} positive finite weights, got {alpha!r}")
    if abs(alpha.sum() - 1) > 1e-9:
        raise ValueError(f"alpha must sum to 1 (convex weights), got sum {alpha.sum()!r}")
    alpha_q, beta_q = [Fraction(a) for a in alpha], _fraction_betas(K)
    return min([float(minus_one_crossing(alpha_q, beta_q))]
               + [to_float(u) for u in unit_circle_crossings(alpha_q, beta_q)])


def _spectral_radius(K, alpha, u) -> float:
    """Rounded to 10 digits so that the JSON does not depend on LAPACK's last bits."""
    return float(f"{np.max(np.abs(np.linalg.eigvals(companion_matrix(K, alpha, u)))):.10g}")


def _threshold_rows(weights):
    """Per K: exact u*, its float, the complex crossings, and the spectral radius around u*."""
    rows = []
    for K in K_RANGE:
        alpha, beta = weights(K), exact_betas(K)
        u_minus = sp.together(minus_one_crossing(alpha, beta))
        others = unit_circle_crossings(rational_weights(alpha), beta)
        below = [u for u in others if sign_of(u - u_minus) == "-"]
        u_star = min(below, key=to_float) if below else u_minus
        alpha_f, star = [to_float(a) for a in alpha], to_float(u_star)
        rows.append({"K": K, "u_star": u_star, "float": star, "at_minus_one": not below,
                     "other": [to_float(u) for u in others],
                     "rho": [_spectral_radius(K, alpha_f, star * (1 + step))
                             for step in (-REL_STEP, REL_STEP)]})
    return rows


def _threshold_item(rows, weights_name: str, status: str, note: str) -> ResultItem:
    return ResultItem.of(
        sp.Tuple(*[r["u_star"] for r in rows]), [[r["K"], r["float"]] for r in rows], status,
        f"{weights_name}: u* for K = 1..5 (value: [K, u*]). {note}",
        tex=latex_rows(("K", "u^*", r"u^* \text{ (float)}"),
                       [[str(r["K"]), latex(r["u_star"]), f"{r['float']:.15g}"] for r in rows]))


def _structure_items() -> dict[str, ResultItem]:
    poly_ok, one_ok, minus_ok = [], [], []
    for K in K_RANGE:
        alpha = sp.symbols(f"alpha1:{K + 1}", positive=True)
        beta = exact_betas(K)
        A, B = char_poly_parts(alpha, beta)
        p = _polyval(A, Z) + U * _polyval(B, Z)
        poly_ok.append(decide_zero(symbolic_matrix(alpha, beta).charpoly(Z).as_expr() - p))
        # sum alpha = 1 is used only here: p(1; u) = u prod(1 - beta) sum(alpha)
        one_ok.append(decide_zero(p.subs(Z, 1) - U * sp.prod([1 - b for b in beta])
                                  * sp.Add(*alpha)))
        root = sp.solve(p.subs(Z, -1), U, check=False, simplify=False)
        minus_ok.append(len(root) == 1 and decide_zero(root[0] - 2 / sp.Add(
            *[a / (2**(k + 1) - 1) for k, a in enumerate(alpha, start=1)])))
    alpha2 = sp.symbols("alpha1:3", positive=True)
    beta2 = sp.symbols("beta1:3", positive=True)
    hb = minus_one_crossing([1], [BETA])
    return {
        "companion_matrix": ResultItem.of(
            symbolic_matrix(alpha2, beta2), None, "proved",
            "s_{t+1} = M(u) s_t, s_t = (x_t, eta m_{t-1}^(1..K)), u = eta lambda "
            "(shown for K = 2)"),
        "characteristic_polynomial": ResultItem.of(
            sp.Eq(sp.Symbol("p"), sp.Symbol("A") + U * sp.Symbol("B")), True,
            decided_status(poly_ok),
            "det(zI - M) = (z-1) prod_k (z-beta_k) + u z sum_k alpha_k (1-beta_k) "
            "prod_{j!=k} (z-beta_j); decided against sympy's charpoly for symbolic alpha, K = 1..5",
            tex=r"\det(zI-M) = (z-1)\prod_k (z-\beta_k) + u\,z\sum_k \alpha_k(1-\beta_k)"
                r"\prod_{j\ne k}(z-\beta_j)"),
        "crossing_at_plus_one": ResultItem.of(
            sp.Eq(sp.Symbol("p(1)"), U * sp.Product(1 - sp.Symbol("beta_k"),
                                                   (sp.Symbol("k"), 1, sp.Symbol("K")))),
            "+", decided_status(one_ok),
            "p(1; u) = u prod_k (1-beta_k) sum_k alpha_k > 0 for u > 0: z = 1 is a root only at "
            "u = 0, where it moves inside as 1 - u + O(u^2)"),
        "crossing_at_minus_one": ResultItem.of(
            sp.Eq(sp.Symbol("u_{-1}"), 2 / sp.Sum(sp.Symbol("alpha_k") / (2**(sp.Symbol("k") + 1)
                                                                          - 1),
                                                  (sp.Symbol("k"), 1, sp.Symbol("K")))),
            True, decided_status(minus_ok),
            "p(-1; u) is linear in u; its root is u_{-1} = 2 / sum_k alpha_k (1-beta_k)/(1+beta_k)"
            " = 2 / sum_k alpha_k/(2^(k+1)-1); decided for symbolic alpha, K = 1..5"),
        "heavy_ball_K1": ResultItem.of(
            sp.Eq(sp.Symbol("u^*"), hb), to_float(hb.subs(BETA, sp.Rational(1, 2))),
            decided_status([decide_zero(hb - 2 * (1 + BETA) / (1 - BETA)),
                            decide_zero(hb.subs(BETA, sp.Rational(1, 2)) - 6)]),
            "K = 1: p = z^2 - (1 + beta - u(1-beta)) z + beta; Jury: |beta| < 1 and "
            "|1 + beta - u(1-beta)| < 1 + beta, i.e. 0 < u < 2(1+beta)/(1-beta) = 6 at beta = 1/2"),
    }


def _random_weights_item(samples: int = 60, seed: int = 0) -> ResultItem:
    """How often a complex crossing comes before z = -1, over seeded random positive weights."""
    rng = np.random.default_rng(seed)
    first_complex = 0
    for _ in range(samples):
        K = int(rng.integers(2, 9))
        alpha = rng.dirichlet(np.full(K, rng.choice([0.2, 1.0, 5.0])))
        alpha = [Fraction(a) for a in np.maximum(alpha, 1e-9)]
        beta = _fraction_betas(K)
        complex_u = unit_circle_crossings(alpha, beta)
        first_complex += bool(complex_u) and to_float(complex_u[0]) < minus_one_crossing(alpha,
                                                                                      beta)
    return ResultItem.of(
        None, [samples, int(first_complex)], "computed",
        f"[samples, how many had a complex crossing before z = -1] over {samples} seeded "
        "Dirichlet weight vectors, K = 2..8, exact root isolation", tex="")


def derive() -> Derivation:
    """Matrix, characteristic polynomial and exact thresholds for K = 1..5."""
    results = _structure_items()
    uniform = _threshold_rows(uniform_weights)
    top = _threshold_rows(top_entropy_weights)
    results["threshold_uniform"] = _threshold_item(
        uniform, "uniform weights 1/K (Ht -> 0)", "proved",
        "Exact: the first crossing is at z = -1, so u* = 2K / sum_k 1/(2^(k+1)-1); Q has no "
        "root in (-1, 1) giving u > 0 below it (exact real-root isolation)")
    results["threshold_top_entropy"] = _threshold_item(
        top, "weights at Ht = 1, tau = 1 (alpha_k ~ exp(k/K))", "computed",
        "u* = u_{-1} in closed form; that no complex crossing comes first is decided exactly "
        "for 40-digit rational approximants of the weights (which involve e^(1/K))")
    results["first_crossing_at_minus_one"] = ResultItem.of(
        None, all(r["at_minus_one"] for r in uniform + top), "computed",
        "for both weight sets and K = 1..5 the threshold is the z = -1 (period-2 oscillation) "
        "crossing", tex=r"u^* = u_{-1}")
    results["other_crossings"] = ResultItem.of(
        None, [[r["K"], r["other"], s["other"]] for r, s in zip(uniform, top)], "computed",
        "[K, positive complex crossings u (uniform), (Ht = 1)]: none exist", tex="")
    results["numeric_check"] = ResultItem.of(
        None, [[r["K"], r["rho"], s["rho"]] for r, s in zip(uniform, top)], "computed",
        f"[K, spectral radius at u*(1 -+ {REL_STEP:g}) (uniform), (Ht = 1)]: below 1 just below "
        "u*, above 1 just above (numpy eigvals)", tex="")
    results["random_positive_weights"] = _random_weights_item()
    return Derivation(
        name="linear_stability",
        title="Stability threshold of linear EMC with frozen weights",
        statement="On a quadratic direction with curvature lambda, linear EMC with frozen weights "
                  "alpha is stable iff u = eta lambda < u*, with u* = 2 / sum_k alpha_k/(2^(k+1)-1)"
                  " (the z = -1 crossing) for K = 1..5 at uniform and Ht = 1 weights; K = 1 gives "
                  "the heavy-ball bound 2(1+beta)/(1-beta) = 6.",
        results=results)


def core_agreement(K_values=(1, 2, 3), steps: int = 300) -> dict:
    r"""The core's linear EMC with frozen uniform weights (:math:`\tau = 10^{12}`) against the
    companion iteration, on :math:`\tfrac12 (x-x^\star)^\top \operatorname{diag}(1, 1/2)
    (x-x^\star)` from :math:`x^\star + (1, 1)` at :math:`\eta = (1 \mp 0.02)\,u^\star`: per K the
    largest deviation of the iterates from :math:`(M(\eta\lambda_i)^t s_0)_0` relative to their
    running maximum, :math:`\|g_T\|/\|g_0\|` on either side, and the growth rate above
    :math:`u^\star` (exponential fit over the second half) against the spectral radius.
    ``agree``: deviation below 1e-9, convergence below, growth above at the spectral radius to
    1e-6 (log scale), for every K."""
    steps = check_int("steps", steps, 4)
    eigenvalues = np.array([1.0, 0.5])
    problem = quadratic(2, eigenvalues=eigenvalues, rotate=False, seed=0)
    offset = np.array([1.0, 1.0])
    rows, agree = [], True
    for K in K_values:
        uniform = np.full(K, 1.0 / K)
        threshold = float(stability_threshold(K, uniform))
        eta = threshold * np.array([0.98, 1.02])
        with np.errstate(all="ignore"):
            tr = minimize(EMC(K=K, lr=eta, reading="linear", tau=1e12), problem,
                          problem.x_star + np.tile(offset, (2, 1)), steps,
                          divergence_factor=1e300, record_iterates=True)
        simulated = tr.iterates - problem.x_star                       # (steps+1, 2, d)
        predicted = np.empty_like(simulated)
        radius = np.empty((2, eigenvalues.size))
        for j, e in enumerate(eta):
            for i, lam in enumerate(eigenvalues):
                M = np.asarray(companion_matrix(K, uniform, float(e * lam)), dtype=float)
                radius[j, i] = np.abs(np.linalg.eigvals(M)).max()
                state = np.eye(K + 1)[0] * offset[i]
                for t in range(steps + 1):
                    predicted[t, j, i] = state[0]
                    state = M @ state
        scale = np.maximum.accumulate(np.linalg.norm(predicted, axis=-1), axis=0)
        max_error = float(np.max(np.linalg.norm(simulated - predicted, axis=-1) / scale))
        gn = tr.grad_norm
        half = np.arange(steps // 2, steps + 1)
        growth = float(np.exp(affine_fit(half, np.log(gn[half, 1])).b))
        ok = bool(max_error < 1e-9 and gn[steps, 0] < 1e-6 * gn[0, 0] and gn[steps, 1] > gn[0, 1]
                  and abs(np.log(growth) - np.log(radius[1].max())) < 1e-6)
        agree &= ok
        rows.append({"K": K, "threshold_uniform": threshold,
                     "threshold_Ht1": float(stability_threshold(K, cascade_weights(1.0, K))),
                     "eta": eta.tolist(), "spectral_radius": radius.max(axis=1).tolist(),
                     "max_relative_deviation": max_error,
                     "grad_norm_ratio": (gn[steps] / gn[0]).tolist(),
                     "growth_rate_above": growth, "agree": ok})
    return {"rows": rows, "eigenvalues": eigenvalues.tolist(), "steps": steps, "agree": agree}


if __name__ == "__main__":
    print(derive().summary())
