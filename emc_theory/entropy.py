r"""Gradient entropy (EMC paper, section 2.1; formula recovered, see ``shared/spec/EMC.md``).

Reading ``"l2"`` (the paper's): :math:`p_i = g_i^2 / \sum_j g_j^2`; reading ``"l1"``:
:math:`p_i = |g_i| / \sum_j |g_j|`. Then :math:`H = -\sum_i p_i \log p_i` (natural log,
:math:`0 \log 0 = 0`), :math:`H_{\max} = \log d` and :math:`\tilde H = H / H_{\max} \in [0, 1]`.

Cases the paper leaves undefined, and the rule used here:

* ``d = 1``: :math:`H_{\max} = \log 1 = 0`, so :math:`\tilde H` is 0/0. :func:`normalized_entropy`
  raises ``ValueError`` naming ``d``.
* ``g = 0``: :math:`p` is 0/0. Convention (``ZERO_GRADIENT_RULE``): :math:`p` is taken uniform, the
  maximum-entropy distribution, so :math:`H = \log d` and :math:`\tilde H = 1`.
* NaN / Inf in ``g``: the entropy is not computed; optimizers raise before it is reached.
"""
from __future__ import annotations

import numpy as np

from .validation import check_choice

ENTROPY_KINDS = ("l2", "l1")
ZERO_GRADIENT_RULE = "g = 0: p taken uniform, H = log d, normalised entropy 1"


def check_dimension(d: int) -> None:
    """Entropy normalisation needs ``d >= 2`` (``H_max = log d``)."""
    if d < 2:
        raise ValueError(
            f"d (the last axis of params/grads) must be >= 2 for the normalised entropy "
            f"H / log d; got d = {d} (H_max = log 1 = 0)"
        )


def gradient_weights(g: np.ndarray, kind: str = "l2") -> np.ndarray:
    r"""The distribution :math:`p` over the last axis; uniform where ``g = 0``."""
    check_choice("entropy kind", kind, ENTROPY_KINDS)
    g = np.asarray(g)
    q = np.square(g) if kind == "l2" else np.abs(g)
    s = q.sum(axis=-1, keepdims=True)
    d = g.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = q / s
    return np.where(s > 0, p, 1.0 / d)


def gradient_entropy(g: np.ndarray, kind: str = "l2") -> np.ndarray:
    r""":math:`H(g) = -\sum_i p_i \log p_i` over the last axis, with :math:`0 \log 0 = 0`.

    Computed as :math:`H = \log s - s^{-1} \sum_i q_i \log q_i` with :math:`q = g^2` (or
    :math:`|g|`) and :math:`s = \sum_i q_i`, after scaling ``g`` by its largest entry so that
    neither ``q`` nor ``s`` under- or overflows; ``q = 0`` terms vanish because ``q log q`` is
    evaluated as ``q * log(max(q, tiny))``.
    """
    check_choice("entropy kind", kind, ENTROPY_KINDS)
    g = np.asarray(g)
    if not np.issubdtype(g.dtype, np.floating):
        g = g.astype(float)
    d = g.shape[-1]
    a = np.abs(g)
    scale = a.max(axis=-1, keepdims=True)
    zero = scale[..., 0] == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        a = a / np.where(scale > 0, scale, 1)
    q = np.square(a) if kind == "l2" else a
    s = q.sum(axis=-1)
    tiny = np.finfo(q.dtype).tiny
    qlogq = (q * np.log(np.maximum(q, tiny))).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.log(np.where(zero, 1, s)) - qlogq / np.where(zero, 1, s)
    h = np.clip(h, 0.0, np.log(d))
    return np.where(zero, np.log(d), h).astype(g.dtype, copy=False)


def normalized_entropy(g: np.ndarray, kind: str = "l2") -> np.ndarray:
    r""":math:`\tilde H = H / \log d \in [0, 1]`; raises for ``d = 1``."""
    g = np.asarray(g)
    check_dimension(g.shape[-1])
    return gradient_entropy(g, kind) / np.log(g.shape[-1])
