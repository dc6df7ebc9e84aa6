"""Evidence shared by Propositions 1 and 2: how much memory the weights give at each entropy.

"Favour longer-term momentum states" is made measurable three ways, all under the paper's own
definitions (level k has timescale :math:`2^k`, so larger k is longer memory):

* the effective memory :math:`T(\\tilde H) = \\sum_k \\alpha_k(\\tilde H)\\, 2^k`;
* the weight on the longest level, :math:`\\alpha_K`, against the uniform :math:`1/K`;
* the mean lag of the aggregate :math:`\\tilde m`'s impulse response, measured by feeding a unit
  gradient through the core's buffers (a second method, independent of the formula for T).

Both regimes are also observed on real runs (low-entropy gradients of an ill-conditioned
quadratic, high-entropy gradients of an isotropic one), recorded as replayable run specs.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from emc_theory import EMC, cascade_weights, effective_memory
from emc_theory.problems import quadratic
from emc_theory.replay import replay as replay_run
from emc_theory.replay import run_spec

from .base import CheckConfig, Evidence, Findings
from .m1 import impulse_responses
from .symbolic import derivation_result

K_GRID = tuple(range(2, 9))
TAU_GRID = (0.25, 1.0, 4.0)
RUN = {"K": 5, "lr": 0.005, "steps": 20, "d": 10}
"""EMC (reading linear) of the two regime runs, on quadratics of dimension ``d``."""


def aggregate_mean_lag(K: int, ht: float, horizon: int) -> float:
    """Mean lag of the aggregate's impulse response with weights frozen at ``ht``."""
    response = cascade_weights(ht, K) @ impulse_responses(K, horizon)
    t = np.arange(horizon)
    return float((response * t).sum() / response.sum())


@lru_cache(maxsize=4)
def weight_profile(quick: bool) -> dict:
    """T, alpha_K and alpha_1 on a grid of Ht for each K and tau, and mean lags at Ht = 0, 1."""
    ht = np.linspace(0.0, 1.0, 101 if quick else 1001)
    rows = {}
    monotone_T, monotone_top, monotone_bottom = True, True, True
    for K in K_GRID:
        for tau in TAU_GRID:
            w = cascade_weights(ht, K, tau)
            T = effective_memory(w)
            monotone_T &= bool(np.all(np.diff(T) > 0))
            monotone_top &= bool(np.all(np.diff(w[:, -1]) > 0))
            monotone_bottom &= bool(np.all(np.diff(w[:, 0]) < 0))
            if tau == 1.0:
                rows[K] = {"T0": float(T[0]), "T1": float(T[-1]), "alphaK_0": float(w[0, -1]),
                           "alphaK_1": float(w[-1, -1]), "alpha1_0": float(w[0, 0]),
                           "alpha1_1": float(w[-1, 0])}
    lag_K = 5
    horizon = 40 * 2 ** lag_K
    lags = {"K": lag_K, "at_0": aggregate_mean_lag(lag_K, 0.0, horizon),
            "at_1": aggregate_mean_lag(lag_K, 1.0, horizon)}
    reversed_T = [effective_memory(cascade_weights(ht, K)[:, ::-1]) for K in K_GRID]
    return {"rows": rows, "T_increasing": monotone_T, "alphaK_increasing": monotone_top,
            "alpha1_decreasing": monotone_bottom, "mean_lag": lags,
            "reversed_lambdas_T_decreasing": all(bool(np.all(np.diff(T) < 0))
                                                  for T in reversed_T),
            "grid": {"K": list(K_GRID), "tau": list(TAU_GRID), "Ht_points": int(ht.size)}}


def profile_evidence(quick: bool) -> list:
    """The weight profile as evidence items."""
    p = weight_profile(quick)
    r5, lags = p["rows"][5], p["mean_lag"]
    return [
        Evidence("numerical", "effective memory and weights vs Ht (core)",
                 f"K = 2..8, tau in {list(TAU_GRID)}, {p['grid']['Ht_points']} points of Ht: "
                 f"T increasing in Ht: {p['T_increasing']}; alpha_K increasing: "
                 f"{p['alphaK_increasing']}; alpha_1 decreasing: {p['alpha1_decreasing']}. "
                 f"K = 5: T(0) = {r5['T0']:.3f}, T(1) = {r5['T1']:.3f}; alpha_K(0) = "
                 f"{r5['alphaK_0']:.3f}, alpha_K(1) = {r5['alphaK_1']:.3f}",
                 {"per_K_tau1": p["rows"], "grid": p["grid"]}),
        Evidence("independent", "aggregate impulse-response mean lag",
                 f"K = {lags['K']}: mean lag of the blended buffers' response to a unit gradient "
                 f"is {lags['at_0']:.3f} steps with Ht = 0 weights and {lags['at_1']:.3f} with "
                 "Ht = 1 weights", lags),
        Evidence("numerical", "reversed convention",
                 "with the level order reversed (lambda_k attached to timescale 2^(K+1-k)) T "
                 f"would decrease in Ht: {p['reversed_lambdas_T_decreasing']}",
                 {"reversed_T_decreasing": p["reversed_lambdas_T_decreasing"]}),
    ]


@lru_cache(maxsize=4)
def regime_runs(seed: int) -> dict:
    """First-step entropy and effective memory of EMC (``RUN``) on a low- and a high-entropy run."""
    d = RUN["d"]
    cases = {
        # one dominant curvature and a start along it: the gradient is nearly one-hot
        "low_entropy": (quadratic(d, eigenvalues=np.r_[100.0, np.ones(d - 1)], rotate=False,
                                  x_star=np.zeros(d)), np.r_[1.0, np.full(d - 1, 1e-3)]),
        # isotropic quadratic, start with equal |x_i|: the gradient has equal magnitudes
        "high_entropy": (quadratic(d, eigenvalues=np.ones(d), rotate=False,
                                   x_star=np.zeros(d)), np.where(np.arange(d) % 2, 1.0, -1.0)),
    }
    out = {}
    for name, (problem, x0) in cases.items():
        opt = EMC(K=RUN["K"], lr=RUN["lr"], reading="linear")
        spec = run_spec(opt, problem, x0, RUN["steps"])
        out[name] = {"replay": spec, **replay(spec), "K": RUN["K"]}
    return out


def replay(spec: dict) -> dict:
    """First-step entropy, effective memory and top weight of a recorded EMC run."""
    d = replay_run(spec, diagnostics=True).diagnostics
    K = spec["optimizer"]["K"]
    return {"normalized_entropy": float(d["normalized_entropy"][0]),
            "effective_memory": float(d["effective_memory"][0]),
            "alpha_K": float(d["weights"][0, -1]), "uniform_memory": (2 ** (K + 1) - 2) / K}


def shared_findings(config: CheckConfig):
    """What Propositions 1 and 2 both gather: ``(findings, profile, runs, limits, memory)``,
    the findings holding the shared evidence and parameters."""
    profile = weight_profile(config.quick)
    limits, memory = derivation_result("softmax_limits"), derivation_result("effective_memory")
    findings = Findings(parameters={"K": list(profile["grid"]["K"]),
                                    "tau": list(profile["grid"]["tau"]),
                                    "Ht_points": profile["grid"]["Ht_points"],
                                    **{f"run_{k}": v for k, v in RUN.items()}})
    findings.evidence += [limits.evidence, memory.evidence] + profile_evidence(config.quick)
    return findings, profile, regime_runs(config.seed), limits, memory
