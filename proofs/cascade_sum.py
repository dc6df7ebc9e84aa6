r"""The cascade's coefficients on past gradients, and which readings' update is linear (claim T1's
proof step).

Level :math:`k` of EMC's cascade is the EMA :math:`m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k)
g_t`, :math:`m^{(k)}_0 = 0`, so :math:`m^{(k)}_t = \sum_{s=1}^t (1-\beta_k)\beta_k^{t-s} g_s`: the
coefficients sum to :math:`S_t = 1 - \beta_k^t < 1` (derived here by induction on the buffer's
recursion :math:`S_t = \beta S_{t-1} + (1-\beta)`, :math:`S_1 = 1 - \beta`), and the share on
stale gradients :math:`g_s`, :math:`s < t`, is positive. Paper Theorem 1's sketch treats the
weighted combination of levels as "a convex combination of gradient estimates": it is not one of
current gradients (weights sum below 1, mass on stale gradients), and for the power and root
readings the update :math:`h(\tilde m)` is a nonlinear function of it.

:func:`derive` proves the sum in closed form; :func:`cascade_coefficients` reads the coefficients
off the core's buffers (feeding :math:`g_s = e_s`) against that closed form;
:func:`reading_is_linear` tests each reading's :math:`h` for additivity and 1-homogeneity.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from emc_theory import EMC, READINGS, apply_reading
from emc_theory.validation import check_int

from .derivation import Derivation, ResultItem, decide_zero

T, BETA = sp.symbols("t beta", positive=True)
TAU_FROZEN = 1e12   # weights frozen uniform (tau -> infinity)


def coefficient_sum() -> sp.Expr:
    r""":math:`S_t = 1 - \beta^t`, the sum of a level's coefficients after :math:`t` steps."""
    return 1 - BETA**T


def derive() -> Derivation:
    """The sum of the cascade coefficients, proved by induction."""
    closed = coefficient_sum()
    base = decide_zero(closed.subs(T, 1) - (1 - BETA))
    step = decide_zero(closed.subs(T, T + 1) - (BETA * closed + 1 - BETA))
    proved = bool(base and step)
    return Derivation(
        name="cascade_sum", title="Sum of a cascade level's coefficients on past gradients",
        statement="A level m_t = beta m_(t-1) + (1-beta) g_t from m_0 = 0 puts (1-beta) beta^(t-s) "
                  "on g_s; the coefficients sum to 1 - beta^t < 1.",
        results={"coefficient_sum": ResultItem.of(
            closed, str(closed), "proved" if proved else "undecided",
            "induction on S_t = beta S_(t-1) + (1 - beta), S_1 = 1 - beta: base case "
            f"{base}, step {step}")})


def cascade_coefficients(K_max: int = 5, t: int = 8) -> dict:
    r"""Coefficients of :math:`m^{(k)}_t` on :math:`g_1..g_t` read off the core's buffers
    (``d = t``, :math:`g_s = e_s`, weights frozen uniform) for ``K = 1..K_max``: per K the sums
    (``weight_sums``), the share of the uniform aggregate on stale gradients (``stale_share``)
    and whether every coefficient equals :math:`(1-\beta_k)\beta_k^{t-s}` to 1e-12
    (``closed_form_matches``)."""
    K_max, t = check_int("K_max", K_max, 1), check_int("t", t, 2)
    sums, stale, matches = {}, {}, True
    for K in range(1, K_max + 1):
        opt = EMC(K=K, lr=1.0, reading="linear", tau=TAU_FROZEN)
        state = opt.init(np.zeros(t))
        for s in range(t):
            _, state = opt.update(np.eye(t)[s], state)
        coeff = state.momenta                                     # (K, t): level k on g_s
        beta = opt.betas[:, None]
        closed = (1 - beta) * beta ** (t - 1 - np.arange(t))
        matches &= bool(np.allclose(coeff, closed, rtol=1e-12, atol=0))
        sums[str(K)] = coeff.sum(axis=1).tolist()
        aggregate = np.full(K, 1.0 / K) @ coeff
        stale[str(K)] = float(aggregate[:-1].sum() / aggregate.sum())
    return {"weight_sums": sums, "stale_share": stale, "t": t, "closed_form_matches": matches}


def reading_is_linear(seed: int = 0) -> dict:
    """Per reading: whether ``h`` is additive and 1-homogeneous on random buffers (gamma in
    [1, 2]); a nonlinear h fails both at random points."""
    rng = np.random.default_rng(seed)
    m1, m2 = rng.standard_normal((2, 4, 6))
    gamma = np.array([1.0, 1.3, 1.6, 2.0])
    out = {}
    for reading in READINGS:
        h = [apply_reading(np.array(m), gamma, reading) for m in (m1, m2, m1 + m2, 2 * m1)]
        additive = np.allclose(h[2], h[0] + h[1], rtol=1e-9, atol=1e-12)
        homogeneous = np.allclose(h[3], 2 * h[0], rtol=1e-9, atol=1e-12)
        out[reading] = bool(additive and homogeneous)
    return out
