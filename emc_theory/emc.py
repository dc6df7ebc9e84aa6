r"""Entropic Momentum Cascade as pure ``init`` / ``update`` functions over explicit state.

One step, in the order of the paper's appendix pseudocode (``t = state.count + 1``):

.. math::
    \tilde H_t = H(g_t)/\log d,\quad
    m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) g_t,\quad
    \alpha^{(k)}_t = \operatorname{softmax}_k(\lambda_k \tilde H_t/\tau),\quad
    \tilde m_t = \sum_k \alpha^{(k)}_t m^{(k)}_t,\quad
    \theta_{t+1} = \theta_t - \eta_t\, h(\tilde m_t, \gamma_t),\ \gamma_t = 2 - \tilde H_t.

The paper does not give ``h``; each *reading* is named (``shared/spec/EMC.md``):
``"power"`` :math:`h = \operatorname{sign}(\tilde m)|\tilde m|^{\gamma}`,
``"root"`` :math:`h = \operatorname{sign}(\tilde m)|\tilde m|^{1/\gamma}`,
``"linear"`` :math:`h = \tilde m`.

Leading axes of ``params`` beyond the last are independent runs: a batch of ``B`` runs of
dimension ``d`` is one ``(B, d)`` array program, and ``lr`` may be a per-run array of shape
``(B,)``. Entropy cases the paper leaves undefined follow :mod:`emc_theory.entropy`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .cascade import cascade_weights, effective_memory, entropy_power, level_betas
from .entropy import ENTROPY_KINDS, check_dimension, normalized_entropy
from .schedules import as_schedule, lr_at
from .validation import check_choice, check_finite_grads, check_int, check_positive

READINGS = ("power", "root", "linear")


class EMCState(NamedTuple):
    """``count``: updates done so far; ``momenta``: the K buffers, shape ``(K, *params.shape)``."""

    count: int
    momenta: np.ndarray


class EMCDiagnostics(NamedTuple):
    """Per-step quantities, each shaped like the batch axes (``weights`` adds a last K axis)."""

    entropy: np.ndarray
    normalized_entropy: np.ndarray
    weights: np.ndarray
    gamma: np.ndarray
    effective_memory: np.ndarray


def apply_reading(mt: np.ndarray, gamma: np.ndarray, reading: str) -> np.ndarray:
    r"""The update direction :math:`h(\tilde m, \gamma)` of a reading, written into ``mt``.

    Powers are computed as :math:`\operatorname{copysign}(\exp(e \log|\tilde m|), \tilde m)`;
    an overflow gives ``inf`` (which the runner reports as a diverged run), never a warning.
    """
    if reading == "linear":
        return mt
    exponent = gamma if reading == "power" else 1.0 / gamma
    exponent = np.asarray(exponent, dtype=mt.dtype)[..., None]
    with np.errstate(divide="ignore", over="ignore"):
        mag = np.abs(mt)
        np.log(mag, out=mag)
        mag *= exponent
        np.exp(mag, out=mag)
    return np.copysign(mag, mt, out=mt)


@dataclass(frozen=True)
class EMC:
    """The EMC optimizer (see the module docstring for the update)."""

    K: int = 3
    lr: object = 1e-2
    reading: str = "power"
    entropy: str = "l2"
    tau: float = 1.0
    name = "emc"
    schedule: object = field(init=False, repr=False, compare=False)
    betas: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_int("K", self.K, 1)
        check_choice("reading", self.reading, READINGS)
        check_choice("entropy", self.entropy, ENTROPY_KINDS)
        check_positive("tau", self.tau)
        object.__setattr__(self, "schedule", as_schedule(self.lr))
        object.__setattr__(self, "betas", level_betas(self.K))

    def describe(self) -> dict:
        return {"name": self.name, "K": self.K, "lr": self.schedule.describe(),
                "reading": self.reading, "entropy": self.entropy, "tau": float(self.tau)}

    def init(self, params) -> EMCState:
        """Zero buffers :math:`m^{(k)}_0 = 0` of shape ``(K, *params.shape)``."""
        params = np.asarray(params)
        if params.ndim == 0:
            raise ValueError("params must have at least one axis (the dimension d)")
        check_dimension(params.shape[-1])
        dtype = params.dtype if np.issubdtype(params.dtype, np.floating) else np.float64
        return EMCState(0, np.zeros((self.K,) + params.shape, dtype=dtype))

    def update(self, grads, state: EMCState, params=None, *, inplace: bool = False):
        """Return ``(updates, new_state)``; with ``inplace`` the buffers of ``state`` are reused.
        ``params`` is accepted for interface parity with the baselines and not used."""
        updates, new_state, _ = self._step(grads, state, inplace, diagnostics=False)
        return updates, new_state

    def update_with_diagnostics(self, grads, state: EMCState, params=None, *,
                                inplace: bool = False):
        """Return ``(updates, new_state, EMCDiagnostics)``."""
        return self._step(grads, state, inplace, diagnostics=True)

    def _step(self, grads, state: EMCState, inplace: bool, diagnostics: bool):
        g = np.asarray(grads, dtype=state.momenta.dtype)
        if g.shape != state.momenta.shape[1:]:
            raise ValueError(f"grads must have shape {state.momenta.shape[1:]} (the params' "
                             f"shape), got {g.shape}")
        check_finite_grads(g)
        t = state.count + 1
        ht = normalized_entropy(g, self.entropy)
        alpha = cascade_weights(ht, self.K, self.tau)
        momenta = state.momenta if inplace else np.empty_like(state.momenta)
        mt = np.zeros_like(g)
        scratch = np.empty_like(g)
        for k, beta in enumerate(self.betas):
            # m_k <- beta m_k + (1 - beta) g, written as g + beta (m_k - g): no K x d temporary
            np.subtract(state.momenta[k], g, out=momenta[k])
            momenta[k] *= beta
            momenta[k] += g
            np.multiply(momenta[k], alpha[..., k, None], out=scratch)
            mt += scratch
        gamma = entropy_power(ht)
        updates = apply_reading(mt, gamma, self.reading)
        eta = lr_at(self.schedule, t, g.ndim - 1)
        updates *= -np.asarray(eta, dtype=g.dtype)
        diag = None
        if diagnostics:
            diag = EMCDiagnostics(ht * np.log(g.shape[-1]), ht, alpha, gamma,
                                  effective_memory(alpha))
        return updates, EMCState(t, momenta), diag
