"""M1 (EMC paper, 2.2): the K momentum states have exponentially increasing memory.

Claim: "We maintain K momentum states with exponentially increasing memory", with
:math:`\\beta_k = 1 - 2^{-k}`. This is a definition; the paper gives no proof.

What we check:

* symbolic (``proofs.effective_memory``): the timescale :math:`1/(1-\\beta_k) = 2^k`;
* numerical: the impulse response of each buffer of the core (a unit gradient at step 1, zero
  gradients after): its per-step decay factor, its total mass and its mean lag
  :math:`\\sum_t t\\,r_t / \\sum_t r_t`, whose closed forms are :math:`\\beta_k`, 1 and
  :math:`\\beta_k/(1-\\beta_k) = 2^k - 1`.

Rule: *holds* when the measured timescales equal :math:`2^k` (relative error below 1e-9), grow by a
constant factor 2 from level to level, and the symbolic timescale agrees; *fails* when a measured
timescale is off or the growth is not geometric; *undecided* without the symbolic evidence.
Note for Propositions 1-2: larger k means LONGER memory.
"""
from __future__ import annotations

import numpy as np

from emc_theory import EMC, level_betas

from .base import CheckConfig, Evidence, Findings, Verdict
from .symbolic import derivation_result

ID = "M1"
TITLE = "Momentum states with exponentially increasing memory"
WHERE = "2.2"
STATEMENT = ("We maintain K momentum states with exponentially increasing memory, "
             "beta_k = 1 - 2^{-k}.")
SYMBOLIC = ("effective_memory",)  # derivations of proofs/ this check reads
PROOF = None


def impulse_responses(K: int, horizon: int) -> np.ndarray:
    """Buffer responses r[k, t] of the core to a unit gradient at t = 1 (shape (K, horizon))."""
    opt = EMC(K=K, lr=1.0, reading="linear")
    state = opt.init(np.zeros(2))
    out = np.empty((K, horizon))
    grads = np.zeros((horizon, 2))
    grads[0, 0] = 1.0
    for t in range(horizon):
        _, state = opt.update(grads[t], state)
        out[:, t] = state.momenta[:, 0]
    return out


def gather(config: CheckConfig) -> Findings:
    K = 5 if config.quick else 8
    horizon = 40 * 2 ** K
    r = impulse_responses(K, horizon)
    t = np.arange(horizon)
    decay = r[:, 2] / r[:, 1]
    timescale = 1.0 / (1.0 - decay)
    mass = r.sum(axis=1)
    lag = (r * t).sum(axis=1) / mass
    expected = 2.0 ** np.arange(1, K + 1)
    rel_err = float(np.max(np.abs(timescale - expected) / expected))
    ratios = timescale[1:] / timescale[:-1]
    lag_err = float(np.max(np.abs(lag - (expected - 1)) / expected))
    symbolic = derivation_result("effective_memory")
    findings = Findings(parameters={"K": K, "horizon": horizon})
    findings.evidence += [
        Evidence("numerical", "buffer impulse responses",
                 f"K={K}: measured timescales 1/(1-decay) = {np.round(timescale, 6).tolist()} "
                 f"(rel. err vs 2^k {rel_err:.1e}); level-to-level ratio "
                 f"{ratios.min():.6f}..{ratios.max():.6f}; mean lags 2^k - 1 "
                 f"(rel. err {lag_err:.1e}); masses {mass.min():.6f}..{mass.max():.6f}",
                 {"timescales": timescale.tolist(), "decay": decay.tolist(),
                  "betas": level_betas(K).tolist(), "mean_lag": lag.tolist(),
                  "mass": mass.tolist()}),
        symbolic.evidence,
    ]
    findings.facts = {
        "timescales_equal_2_pow_k": rel_err < 1e-9,
        "geometric_growth_factor_2": bool(np.all(np.abs(ratios - 2.0) < 1e-9)),
        "mean_lag_matches": lag_err < 1e-6,
        "symbolic_timescale_2_pow_k": symbolic.value("larger_k_longer_memory"),
    }
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    measured = (f["timescales_equal_2_pow_k"], f["geometric_growth_factor_2"], f["mean_lag_matches"])
    if not all(measured):
        statement, reason = "fails", "a measured timescale is not 2^k or growth is not geometric"
    elif not f.get("symbolic_timescale_2_pow_k"):
        statement, reason = "undecided", "symbolic timescale not established"
    else:
        statement = "holds"
        reason = ("timescale of level k is 2^k (decay, mean lag and sympy agree); it doubles "
                  "per level, so larger k = longer memory")
    return Verdict(statement, "none", reason, "a definition; no proof needed or given",
                   conditions=["larger k means longer memory (timescale 2^k)"])
