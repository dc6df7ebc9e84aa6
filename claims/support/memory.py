"""Memory and control methods shared by claims C1 and C2: the bytes a call allocates (NumPy's
tracemalloc domain) and :class:`LevelBuffers`, a K-level moving-average method used as a control."""
from __future__ import annotations

import tracemalloc
from dataclasses import dataclass

import numpy as np

_NUMPY_DATA = tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)


def allocated_bytes(fn) -> tuple[int, int]:
    """(array-data bytes still held by ``fn()``'s result, peak bytes traced during the call).

    The first number counts only NumPy's data buffers (its tracemalloc domain), not Python
    object headers."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        held = tracemalloc.take_snapshot().filter_traces([_NUMPY_DATA])
        current = sum(stat.size for stat in held.statistics("filename"))
        del result
    finally:
        tracemalloc.stop()
    return current, peak


@dataclass(frozen=True)
class LevelBuffers:
    """A control method: ``buffers`` exponential moving averages, buffer i with
    :math:`\\beta = 1 - 2^{-(1 + i \\bmod K)}`, updated one at a time (one d-float scratch), and
    the update :math:`-\\eta` times their mean. Its state is the ``(buffers, *shape)`` array."""

    K: int
    buffers: int
    lr: float = 0.1
    supports_inplace = True

    def init(self, params) -> np.ndarray:
        params = np.asarray(params)
        return np.zeros((self.buffers,) + params.shape, dtype=params.dtype)

    def update(self, grads, state, params=None, *, inplace: bool = False):
        m = state if inplace else state.copy()
        scratch = np.empty_like(grads)
        for i in range(self.buffers):
            beta = 1.0 - 2.0 ** -(1 + i % self.K)
            m[i] *= beta
            np.multiply(grads, 1.0 - beta, out=scratch)
            m[i] += scratch
        return -self.lr * m.mean(axis=0), m
