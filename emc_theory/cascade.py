r"""The momentum cascade and its entropy-driven weights (EMC paper, sections 2.2-2.4).

Level :math:`k = 1..K` keeps :math:`m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) g_t` with
:math:`\beta_k = 1 - 2^{-k}`, so its timescale is :math:`1/(1-\beta_k) = 2^k`: *larger k means
longer memory*. The weights are
:math:`\alpha^{(k)} = \exp(\lambda_k \tilde H/\tau) / \sum_j \exp(\lambda_j \tilde H/\tau)` with
:math:`\lambda_k = k/K` (:math:`\tau = 1` is the paper's rule).
"""
from __future__ import annotations

import numpy as np

from .validation import check_int, check_positive


def level_betas(K: int) -> np.ndarray:
    r""":math:`\beta_k = 1 - 2^{-k}`, ``k = 1..K``."""
    k = np.arange(1, check_int("K", K, 1) + 1)
    return 1.0 - 2.0 ** (-k)


def level_timescales(K: int) -> np.ndarray:
    r""":math:`1/(1-\beta_k) = 2^k`, ``k = 1..K``."""
    return 2.0 ** np.arange(1, check_int("K", K, 1) + 1)


def level_lambdas(K: int) -> np.ndarray:
    r""":math:`\lambda_k = k / K`, ``k = 1..K``."""
    K = check_int("K", K, 1)
    return np.arange(1, K + 1) / K


def cascade_weights(ht, K: int, tau: float = 1.0) -> np.ndarray:
    r"""Softmax weights :math:`\alpha_k(\tilde H) \propto \exp(\lambda_k \tilde H / \tau)`.

    ``ht`` of any shape gives weights of shape ``ht.shape + (K,)``, positive, summing to 1.
    """
    check_positive("tau", tau)
    ht = np.asarray(ht)
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
