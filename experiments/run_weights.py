r"""Run stage: the cascade weights and the effective memory as functions of the normalised entropy.

.. math::
    \alpha_k(\tilde H) = \frac{e^{\lambda_k \tilde H/\tau}}{\sum_j e^{\lambda_j \tilde H/\tau}},
    \quad \lambda_k = k/K, \qquad
    T_{\mathrm{eff}}(\tilde H) = \sum_k \alpha_k(\tilde H)\, 2^k

on a grid of :math:`\tilde H \in [0, 1]` for each K (the picture behind Propositions 1-2).
"""
from __future__ import annotations

import sys

import numpy as np

from emc_theory import cascade_weights, effective_memory, level_timescales

from .common import run_main

NAME = "weights"


def parameters(quick: bool, seed: int) -> dict:
    """Grid of K and of the normalised entropy; no randomness (``seed`` is recorded only)."""
    return {"K": [2, 3, 4, 5, 6], "ht_points": 51 if quick else 201, "tau": 1.0, "seed": seed}


def run(p: dict) -> dict:
    ht = np.linspace(0.0, 1.0, p["ht_points"])
    per_K = {}
    for K in p["K"]:
        weights = cascade_weights(ht, K, p["tau"])
        memory = effective_memory(weights)
        per_K[str(K)] = {
            "weights": weights.T,                 # (K, points): alpha_k along the grid
            "effective_memory": memory,
            "timescales": level_timescales(K),
            "argmax_level_at_0": int(np.argmax(weights[0])) + 1,
            "argmax_level_at_1": int(np.argmax(weights[-1])) + 1,
            "memory_increasing": bool(np.all(np.diff(memory) > 0)),
        }
    return {"ht": ht, "per_K": per_K}


if __name__ == "__main__":
    raise SystemExit(run_main(sys.modules[__name__]))
