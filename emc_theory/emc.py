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
With ``clip=True`` (off by default; claim T1's repair ``T1.r2``) a power is clipped at the
linear update, coordinate by coordinate: :math:`h = \operatorname{sign}(\tilde m)
\min(|\tilde m|^{e}, |\tilde m|)`, so :math:`|h| \le |\tilde m|` (the power reading keeps its
update where :math:`|\tilde m| \le 1` and is linear beyond).

Leading axes of ``params`` beyond the last are independent runs: a batch of ``B`` runs of
dimension ``d`` is one ``(B, d)`` array program, and ``lr`` may be a per-run array of shape
``(B,)``. Entropy cases the paper leaves undefined follow :mod:`emc_theory.entropy`.

The step is computed tile by tile (:class:`~emc_theory.entropy.Tiles`) in preallocated work
buffers (cached per ``(runs, d, dtype)`` and thread on the optimizer object; the state stays
explicit), so a step reads and writes each buffer once from memory and a float32 state stays
float32 throughout. The arithmetic is that of the formulas above, operation for operation.

Memory of a step. ``update(..., inplace=True)`` writes the new buffers over the state's and
allocates only the update (``d`` floats per run); between steps the optimizer keeps only its
cache-sized work tiles. The default ``update`` is pure: it never writes an array the caller can
still reach. It writes the new state into a fresh ``(K, *params.shape)`` array, except that it
recycles the buffers of the state it was given one step earlier once nothing else refers to
them any more (no state, no view: CPython's reference count says so), as in the common loop
``updates, state = opt.update(g, state)``. A fresh array costs a page fault and the kernel's
zeroing per page, about one extra write pass over the ``K d`` floats; recycling avoids it, at
the price of keeping one superseded state (``K d`` floats) per optimizer and thread between
steps, which does not raise the peak: every pure step holds two states while it runs. Even
recycled, the pure step writes its buffers to other memory than it reads them from, so the CPU
reads each destination cache line before writing it (write-allocate): about one more read of the
``K d`` floats than the in-place step. The recycling is off where reference counts cannot tell
(another interpreter, a free-threaded build without its GIL); the results are the same either
way, bit for bit.

Checked at the boundary, each error naming the parameter: ``K`` in ``[1, 53]`` (``[1, 24]`` for
a float32 state) and ``tau`` with finite slopes :math:`\lambda_k/\tau` (the limits of
:mod:`emc_theory.cascade`); ``clip`` a bool; a per-run ``lr`` with one entry per run; real
(not complex) ``params`` and ``grads``; a ``state`` from ``EMC.init`` of the same ``K`` (cheap
structural checks at each step); a non-empty batch.
"""
from __future__ import annotations

import math
import sys
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .cascade import (
    check_levels,
    check_tau,
    effective_memory,
    entropy_power,
    level_betas,
    level_lambdas,
    softmax_weights,
)
from .entropy import ENTROPY_KINDS, Tiles, check_dimension, row_entropy
from .schedules import as_schedule, check_lr_for_params, check_per_run_lr, lr_at
from .validation import (
    as_floating,
    check_bool,
    check_choice,
    check_finite_grads,
    check_not_empty,
    check_state_count,
)

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


def _signed_power(x: np.ndarray, exponent, scratch: np.ndarray) -> np.ndarray:
    r""":math:`x \leftarrow \operatorname{copysign}(\exp(e \log|x|), x)` in place; ``scratch`` has
    ``x``'s shape. Callers silence floating-point warnings (``log 0``, overflow to ``inf``)."""
    np.abs(x, out=scratch)
    np.log(scratch, out=scratch)
    scratch *= exponent
    np.exp(scratch, out=scratch)
    return np.copysign(scratch, x, out=x)


def _clipped_signed_power(x: np.ndarray, exponent, scratch: np.ndarray,
                          powered: np.ndarray) -> np.ndarray:
    r""":math:`x \leftarrow \operatorname{sign}(x) \min(|x|^e, |x|)` in place (the update of
    ``clip=True``); ``scratch`` and ``powered`` have ``x``'s shape (no allocation). Callers
    silence floating-point warnings."""
    np.abs(x, out=scratch)
    np.log(scratch, out=powered)
    powered *= exponent
    np.exp(powered, out=powered)          # |x|^e >= 0, as in _signed_power
    np.minimum(powered, scratch, out=scratch)
    return np.copysign(scratch, x, out=x)


@lru_cache(maxsize=64)
def _check_levels_and_tau(K: int, tau: float, dtype: np.dtype) -> None:
    """:func:`check_levels` and :func:`check_tau` for ``dtype``, remembered once passed (an EMC
    rebuilt per stop event of the runner asks again for the same values)."""
    check_levels(K, dtype)
    check_tau(tau, dtype)


def _reading_exponent(reading: str, gamma: np.ndarray):
    """The power :math:`e` of ``h = sign(m) |m|^e``: ``gamma``, ``1/gamma``, or None (linear)."""
    if reading == "linear":
        return None
    return gamma if reading == "power" else 1 / gamma


def apply_reading(mt: np.ndarray, gamma: np.ndarray, reading: str) -> np.ndarray:
    r"""The update direction :math:`h(\tilde m, \gamma)` of a reading, written into ``mt``.

    Powers are computed as :math:`\operatorname{copysign}(\exp(e \log|\tilde m|), \tilde m)`;
    an overflow gives ``inf`` (which the runner reports as a diverged run), never a warning.
    """
    exponent = _reading_exponent(check_choice("reading", reading, READINGS), gamma)
    if exponent is None:
        return mt
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        return _signed_power(mt, np.asarray(exponent, dtype=mt.dtype)[..., None],
                             np.empty_like(mt))


class _Workspace:
    """Work buffers of one step shape: the entropy tiles (two scratch tiles) and one tile of all
    K levels, plus the per-level constants :math:`\\beta_k` and :math:`1 - \\beta_k`."""

    def __init__(self, betas: np.ndarray, rows: int, d: int, dtype: np.dtype):
        self.key = (rows, d, dtype)
        self.tiles = Tiles(rows, d, dtype)
        self.levels = np.empty((betas.size,) + self.tiles.buffers[0].shape, dtype)
        self.betas = betas.astype(dtype)[:, None, None]
        self.gains = 1 - self.betas


def _references(box: list) -> int:
    """``sys.getrefcount`` of the one object in ``box`` (the argument's own reference included)."""
    return sys.getrefcount(box[0])


_ALONE = _references([object()]) if hasattr(sys, "getrefcount") else None
"""The count of :func:`_references` for an object that only its box refers to."""


def _can_recycle() -> bool:
    """Whether reference counts tell that nothing else refers to an array: CPython with its GIL
    (not another interpreter, not a free-threaded build running without the GIL)."""
    if _ALONE is None or sys.implementation.name != "cpython":
        return False
    gil = getattr(sys, "_is_gil_enabled", None)
    return gil is None or gil()


class _WorkspaceCache:
    """The last :class:`_Workspace` built, per thread; copies and pickles of an optimizer start
    empty (buffers carry no state between steps). ``on_new_dtype(dtype)`` is called before a
    workspace of a dtype is built (the optimizer's per-dtype checks, off the per-step path).

    Also, per thread, the *spare*: the buffers of the state the last pure step was given
    (:meth:`keep`), handed out again (:meth:`spare`) once nothing but this cache refers to them."""

    def __init__(self):
        self._local = threading.local()

    def get(self, betas: np.ndarray, rows: int, d: int, dtype: np.dtype,
            on_new_dtype=None) -> _Workspace:
        ws = getattr(self._local, "workspace", None)
        if ws is None or ws.key != (rows, d, dtype):
            if on_new_dtype is not None and (ws is None or ws.key[2] != dtype):
                on_new_dtype(dtype)
            ws = self._local.workspace = _Workspace(betas, rows, d, dtype)
        return ws

    def keep(self, momenta: np.ndarray) -> None:
        """Remember ``momenta`` (a superseded state's buffers) as the spare if it is a plain
        array owning its contiguous, writeable data; else forget the spare."""
        own = (type(momenta) is np.ndarray and momenta.base is None and momenta.flags.c_contiguous
               and momenta.flags.writeable and momenta.flags.aligned and _can_recycle())
        self._local.spare = [momenta] if own else None

    def spare(self, shape: tuple, dtype: np.dtype):
        """The spare if nothing else refers to it (no state, no view) and it has ``shape`` and
        ``dtype``, else None; the cache forgets its spare either way."""
        box = getattr(self._local, "spare", None)
        self._local.spare = None
        if box is None or _references(box) != _ALONE or not _can_recycle():
            return None
        found = box[0]
        return found if found.shape == shape and found.dtype == dtype else None

    def __reduce__(self):
        return (type(self), ())


@dataclass(frozen=True)
class EMC:
    """The EMC optimizer (see the module docstring for the update)."""

    K: int = 3
    lr: object = 1e-2
    reading: str = "power"
    entropy: str = "l2"
    tau: float = 1.0
    clip: bool = False
    name = "emc"
    supports_inplace = True  # update(..., inplace=True) reuses the state's buffers
    schedule: object = field(init=False, repr=False, compare=False)
    betas: np.ndarray = field(init=False, repr=False, compare=False)
    logit_slopes: np.ndarray = field(init=False, repr=False, compare=False)
    _workspaces: _WorkspaceCache = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        check_levels(self.K)
        check_choice("reading", self.reading, READINGS)
        check_choice("entropy", self.entropy, ENTROPY_KINDS)
        check_tau(self.tau)
        object.__setattr__(self, "clip", check_bool("clip", self.clip))
        object.__setattr__(self, "schedule", as_schedule(self.lr))
        object.__setattr__(self, "betas", level_betas(self.K))
        object.__setattr__(self, "logit_slopes", level_lambdas(self.K) / self.tau)
        object.__setattr__(self, "_workspaces", _WorkspaceCache())

    def describe(self) -> dict:
        return {"name": self.name, "K": self.K, "lr": self.schedule.describe(),
                "reading": self.reading, "entropy": self.entropy, "tau": float(self.tau),
                **({"clip": True} if self.clip else {})}

    def init(self, params) -> EMCState:
        """Zero buffers :math:`m^{(k)}_0 = 0` of shape ``(K, *params.shape)``, in ``params``'
        floating dtype. A per-run ``lr`` must have shape ``params.shape[:-1]``."""
        params = as_floating(params, "params")
        if params.ndim == 0:
            raise ValueError("params must have at least one axis (the dimension d)")
        check_dimension(params.shape[-1])
        self._check_dtype(params.dtype)
        check_lr_for_params(self.schedule, params.shape)
        return EMCState(0, np.zeros((self.K,) + params.shape, dtype=params.dtype))

    def _check_dtype(self, dtype) -> None:
        """``K`` and ``tau`` within what ``dtype`` represents (:mod:`emc_theory.cascade`)."""
        _check_levels_and_tau(self.K, float(self.tau), np.dtype(dtype))

    def _check_state(self, state) -> np.ndarray:
        """The momenta of ``state`` after cheap structural checks naming ``state``."""
        if not isinstance(state, EMCState):
            raise TypeError(f"state must be the EMCState of EMC.init (for this EMC, K = {self.K}), "
                            f"got {type(state).__name__}")
        count, momenta = state
        check_state_count(count)
        if (not isinstance(momenta, np.ndarray) or momenta.dtype.kind != "f"
                or momenta.ndim < 2 or momenta.shape[0] != self.K or momenta.shape[-1] < 2):
            got = (f"shape {momenta.shape}, dtype {momenta.dtype}"
                   if isinstance(momenta, np.ndarray) else type(momenta).__name__)
            raise ValueError(f"state.momenta must be a floating array of shape (K, *params.shape) "
                             f"with K = {self.K} (this EMC) and d >= 2, got {got}: the state "
                             "comes from another EMC (another K) or is corrupted")
        return momenta

    def update(self, grads, state: EMCState, params=None, *, inplace: bool = False):
        """Return ``(updates, new_state)``; with ``inplace`` the buffers of ``state`` are reused,
        without it the step is pure (the module docstring's "Memory of a step"). ``params`` is
        accepted for interface parity with the baselines and not used."""
        updates, new_state, _ = self._step(grads, state, inplace, diagnostics=False)
        return updates, new_state

    def update_with_diagnostics(self, grads, state: EMCState, params=None, *,
                                inplace: bool = False):
        """Return ``(updates, new_state, EMCDiagnostics)``."""
        return self._step(grads, state, inplace, diagnostics=True)

    def _step(self, grads, state: EMCState, inplace: bool, diagnostics: bool):
        momenta = self._check_state(state)
        shape, dtype = momenta.shape[1:], momenta.dtype
        if not isinstance(grads, np.ndarray) or grads.dtype.kind not in "fiu":
            grads = as_floating(grads, "grads")
        if grads.shape != shape:
            raise ValueError(f"grads must have shape {shape}, the shape of params (the optimizer "
                             f"state's shape), got {grads.shape}")
        check_not_empty("grads", shape)
        d = shape[-1]
        rows = momenta[0].size // d
        g = np.ascontiguousarray(grads, dtype=dtype).reshape(rows, d)
        ws = self._workspaces.get(self.betas, rows, d, dtype, self._check_dtype)
        h = row_entropy(g, self.entropy, ws.tiles,
                        on_nonfinite=lambda: check_finite_grads(np.asarray(grads)))
        t = state.count + 1
        neg_eta = -np.asarray(lr_at(self.schedule, t, len(shape) - 1), dtype=dtype)
        if neg_eta.ndim:
            if neg_eta.shape[:-1] != shape[:-1]:
                check_per_run_lr(neg_eta.shape[:-1], shape[:-1])
            neg_eta = neg_eta.reshape(rows, 1)
        ht = np.divide(h, math.log(d), out=np.empty(rows, dtype))
        alpha = softmax_weights(ht, self.logit_slopes)
        gamma = entropy_power(ht)
        exponent = _reading_exponent(self.reading, gamma[:, None])
        src = momenta.reshape(self.K, rows, d)
        if inplace:
            dst = src
            new = src.reshape(momenta.shape)
        else:   # a recycled spare (see the module docstring) or a fresh array
            new = self._workspaces.spare(momenta.shape, dtype)
            if new is None:
                new = np.empty(momenta.shape, dtype)
            dst = new.reshape(self.K, rows, d)
        updates = np.empty((rows, d), dtype)
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            for rs, cs, _ in ws.tiles.slices:
                m_new, u = dst[:, rs, cs], updates[rs, cs]
                scaled = ws.levels[:, : rs.stop - rs.start, : cs.stop - cs.start]
                np.multiply(src[:, rs, cs], ws.betas, out=m_new)   # beta_k m_k
                np.multiply(g[rs, cs], ws.gains, out=scaled)       # (1 - beta_k) g
                m_new += scaled
                np.einsum("krc,rk->rc", m_new, alpha[rs], out=u)   # mt = sum_k alpha_k m_k
                if exponent is not None and self.clip:   # the entropy's tiles are free here
                    _clipped_signed_power(u, exponent[rs], ws.tiles.scratch(0, rs, cs),
                                          ws.tiles.scratch(1, rs, cs))
                elif exponent is not None:
                    _signed_power(u, exponent[rs], ws.tiles.scratch(0, rs, cs))
                u *= neg_eta[rs] if neg_eta.ndim else neg_eta
        if not inplace:
            self._workspaces.keep(momenta)
        diag = None
        if diagnostics:
            batch = shape[:-1]
            diag = EMCDiagnostics(h.astype(dtype).reshape(batch), ht.reshape(batch),
                                  alpha.reshape(batch + (self.K,)), gamma.reshape(batch),
                                  effective_memory(alpha).reshape(batch))
        return updates.reshape(shape), EMCState(t, new), diag
