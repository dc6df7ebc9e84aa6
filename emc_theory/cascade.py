r"""The momentum cascade and its entropy-driven weights (EMC paper, sections 2.2-2.4).

Level :math:`k = 1..K` keeps :math:`m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) g_t` with
:math:`\beta_k = 1 - 2^{-k}`, so its timescale is :math:`1/(1-\beta_k) = 2^k`: *larger k means
longer memory*. The weights are
:math:`\alpha^{(k)} = \exp(\lambda_k \tilde H/\tau) / \sum_j \exp(\lambda_j \tilde H/\tau)` with
:math:`\lambda_k = k/K` (:math:`\tau = 1` is the paper's rule).

Limits of floating point, checked with an error naming the parameter: ``K <= MAX_LEVELS = 53``
(for :math:`k \ge 54`, :math:`\beta_k = 1 - 2^{-k}` rounds to 1 in float64, so the level would
never move and its timescale :math:`1/(1-\beta_k)` would be infinite; float32 state allows
:math:`K \le 24` for the same reason), and :math:`\tau \ge 1/\text{max float}` (so that the
logit slopes :math:`\lambda_k/\tau` are finite).
"""
from __future__ import annotations

import numpy as np

from .validation import as_floating, check_int, check_positive, check_scalar


def max_levels(dtype) -> int:
    r"""The largest ``K`` whose :math:`\beta_k = 1 - 2^{-k}` are all below 1 in ``dtype`` (53 for
    float64, 24 for float32): a level with :math:`\beta_k = 1` would never move."""
    return np.finfo(dtype).nmant + 1


MAX_LEVELS = max_levels(np.float64)
r"""53: the largest ``K`` for which every :math:`\beta_k = 1 - 2^{-k}` is below 1 in float64."""


def check_levels(K, dtype=np.float64) -> int:
    """``K`` as an int in ``[1, max_levels(dtype)]``, or an error naming ``K`` and the reason."""
    dtype = np.dtype(dtype)
    top = max_levels(dtype)
    return check_int("K", K, 1, top,
                     f"for k > {top}, beta_k = 1 - 2^-k rounds to 1 in {dtype.name}, so level k "
                     f"would never move and its timescale 2^k = 1/(1 - beta_k) would be infinite")


def check_tau(tau, dtype=np.float64) -> float:
    r"""``tau`` as a float in :math:`[1/\text{max}, \infty)` of ``dtype``, so that the logit
    slopes :math:`\lambda_k/\tau \le 1/\tau` are finite (an infinite slope makes the softmax
    NaN)."""
    tau = check_positive("tau", check_scalar("tau", tau))
    dtype = np.dtype(dtype)
    with np.errstate(over="ignore"):
        slope = (np.float64(1.0) / np.float64(tau)).astype(dtype)
    if not np.isfinite(slope):
        low = 1.0 / float(np.finfo(dtype).max)
        raise ValueError(f"tau must lie in [{low:.4g}, inf) for {dtype.name} (so that the logit "
                         f"slopes lambda_k / tau <= 1 / tau are finite in {dtype.name}), "
                         f"got {tau!r}")
    return tau


def level_betas(K: int) -> np.ndarray:
    r""":math:`\beta_k = 1 - 2^{-k}`, ``k = 1..K``."""
    k = np.arange(1, check_levels(K) + 1)
    return 1.0 - 2.0 ** (-k)


def level_timescales(K: int) -> np.ndarray:
    r""":math:`1/(1-\beta_k) = 2^k`, ``k = 1..K``."""
    return 2.0 ** np.arange(1, check_levels(K) + 1)


def level_lambdas(K: int) -> np.ndarray:
    r""":math:`\lambda_k = k / K`, ``k = 1..K``."""
    K = check_levels(K)
    return np.arange(1, K + 1) / K


def cascade_weights(ht, K: int, tau: float = 1.0) -> np.ndarray:
    r"""Softmax weights :math:`\alpha_k(\tilde H) \propto \exp(\lambda_k \tilde H / \tau)`.

    ``ht`` of any shape gives weights of shape ``ht.shape + (K,)``, positive, summing to 1.
    """
    tau = check_tau(tau)
    ht = as_floating(ht, "ht")
    if not np.all(np.isfinite(ht)):
        raise ValueError("ht (the normalised entropy) must be finite")
    return softmax_weights(ht, level_lambdas(K) / tau)


def softmax_weights(ht: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    r""":math:`\operatorname{softmax}_k(s_k \tilde H)` for checked inputs (the optimizer's hot
    path; :func:`cascade_weights` validates and calls it with :math:`s_k = \lambda_k/\tau`)."""
    dtype = ht.dtype if ht.dtype.kind == "f" else np.float64
    logits = np.multiply.outer(ht, slopes).astype(dtype, copy=False)
    logits -= logits.max(axis=-1, keepdims=True)
    w = np.exp(logits, out=logits)
    w /= w.sum(axis=-1, keepdims=True)
    return w


def effective_memory(weights: np.ndarray) -> np.ndarray:
    r"""Effective memory :math:`T = \sum_k \alpha_k / (1 - \beta_k) = \sum_k \alpha_k 2^k`."""
    weights = np.asarray(weights)
    return weights @ level_timescales(weights.shape[-1])


def entropy_power(ht) -> np.ndarray:
    r"""The update's power :math:`\gamma = 2 - H/H_{\max} = 2 - \tilde H \in [1, 2]`."""
    return 2.0 - np.asarray(ht)
