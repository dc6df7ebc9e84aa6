r"""Gradient entropy (EMC paper, section 2.1; formula recovered, see ``shared/spec/EMC.md``).

Reading ``"l2"`` (the paper's): :math:`p_i = g_i^2 / \sum_j g_j^2`; reading ``"l1"``:
:math:`p_i = |g_i| / \sum_j |g_j|`. Then :math:`H = -\sum_i p_i \log p_i` (natural log,
:math:`0 \log 0 = 0`), :math:`H_{\max} = \log d` and :math:`\tilde H = H / H_{\max} \in [0, 1]`.

Cases the paper leaves undefined, and the rule used here:

* ``d = 1``: :math:`H_{\max} = \log 1 = 0`, so :math:`\tilde H` is 0/0. :func:`normalized_entropy`
  raises ``ValueError`` naming ``d``.
* ``g = 0``: :math:`p` is 0/0. Convention (``ZERO_GRADIENT_RULE``): :math:`p` is taken uniform, the
  maximum-entropy distribution, so :math:`H = \log d` and :math:`\tilde H = 1`.
* NaN / Inf in ``g``: the entropy is not computed (NaN); optimizers raise before it is reached.
* an empty last axis (``d = 0``): there is no distribution; :func:`gradient_entropy` raises
  ``ValueError`` naming ``g``. An empty batch (``g`` of shape ``(0, d)``) has an empty entropy.

The computation (:func:`row_entropy`) is blocked over :class:`Tiles` so that the optimizer's hot
path reuses preallocated buffers and stays in cache; see its docstring for the numerics.
"""
from __future__ import annotations

import math

import numpy as np

from .validation import as_floating, check_choice

ENTROPY_KINDS = ("l2", "l1")
ZERO_GRADIENT_RULE = "g = 0: p taken uniform, H = log d, normalised entropy 1"
TILE_BYTES = 1 << 17
"""Bytes of one tile of one array. A step's working set is about 2K + 4 tiles, cache-resident;
64 KiB to 256 KiB measured within a few percent of each other (``emc-theory bench``)."""


def check_dimension(d: int) -> None:
    """Entropy normalisation needs ``d >= 2`` (``H_max = log d``)."""
    if d < 2:
        raise ValueError(
            f"d (the last axis of params/grads) must be >= 2 for the normalised entropy "
            f"H / log d; got d = {d} (H_max = log 1 = 0)"
        )


class Tiles:
    """Cache blocking of an ``(R, d)`` array (``R`` runs of dimension ``d``): tiles of whole rows
    when a row fits in one tile of ``TILE_BYTES``, else slices of one tile's columns of one row;
    with two scratch buffers of one tile's shape and the per-row partial sums of
    :func:`row_entropy` (reused by every call that owns this object)."""

    def __init__(self, rows: int, d: int, dtype):
        dtype = np.dtype(dtype)
        tile_elems = max(1, TILE_BYTES // dtype.itemsize)
        self.rows, self.d, self.dtype = rows, d, dtype
        nr, nc = (max(1, min(rows, tile_elems // d)), d) if d <= tile_elems else (1, tile_elems)
        self.n_cols = -(-d // nc)
        self.slices = [(slice(r0, min(r0 + nr, rows)), slice(c0, min(c0 + nc, d)), c0 // nc)
                       for r0 in range(0, rows, nr) for c0 in range(0, d, nc)]
        self.buffers = (np.empty((nr, nc), dtype), np.empty((nr, nc), dtype))
        self.sums = np.empty((2, rows, self.n_cols))

    def scratch(self, i: int, rs: slice, cs: slice) -> np.ndarray:
        """Scratch buffer ``i`` viewed with the shape of tile ``(rs, cs)`` (contiguous)."""
        return self.buffers[i][: rs.stop - rs.start, : cs.stop - cs.start]


def row_entropy(g: np.ndarray, kind: str, tiles: Tiles, on_nonfinite=None) -> np.ndarray:
    r"""Entropy :math:`H` (float64, shape ``(R,)``) of each row of a C-contiguous ``(R, d)`` array.

    Pass 1: :math:`s = \sum_i g_i^2` per row (one BLAS-like pass), used only to pick an exact
    power of two :math:`c = 2^{-\lfloor e/2 \rfloor}` (:math:`s = f 2^e`) so that
    :math:`\sum_i (c g_i)^2 \in [1/2, 2)` (and :math:`\sum_i |c g_i| \le \sqrt{2d}`).
    Pass 2, tile by tile: :math:`q = (c g)^2` (or :math:`|c g|`), :math:`S = \sum_i q_i` and
    :math:`T = \sum_i q_i \log \max(q_i, \mathrm{tiny})` (pairwise sums; tile partials combined
    in float64), and

    .. math:: H = \log S - T / S,

    clipped to :math:`[0, \log d]`. The scaling is exact, so :math:`p = q/S` is that of ``g``; it
    keeps :math:`\log S` and :math:`\log q_i` of order one, so the absolute error of :math:`H` is a
    few ulp whatever the magnitude of ``g``. Rows whose :math:`s` over- or underflows (or is below
    :math:`\mathrm{tiny}/\varepsilon`, where squares lose digits) are rescaled by their largest
    entry first; zero rows get :math:`H = \log d` (``ZERO_GRADIENT_RULE``); rows with NaN/Inf give
    NaN, after calling ``on_nonfinite()`` if given (the optimizers raise there).
    """
    info = np.finfo(g.dtype)
    log_d = math.log(g.shape[-1])
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        s = np.vecdot(g, g)
        all_safe = s.min() >= info.tiny / info.eps and s.max() <= info.max  # False on NaN
        scale = np.ldexp(g.dtype.type(1), -(np.frexp(s)[1] >> 1))[:, None]
        if not all_safe:
            safe = (s >= info.tiny / info.eps) & (s <= info.max)
            scale[~safe] = 1
        sums = tiles.sums
        square = np.square if kind == "l2" else np.abs
        for rs, cs, ci in tiles.slices:
            q, qlogq = tiles.scratch(0, rs, cs), tiles.scratch(1, rs, cs)
            np.multiply(g[rs, cs], scale[rs], out=q)
            square(q, out=q)
            np.maximum(q, info.tiny, out=qlogq)
            np.log(qlogq, out=qlogq)
            qlogq *= q
            np.add.reduce(q, axis=-1, out=sums[0, rs, ci])
            np.add.reduce(qlogq, axis=-1, out=sums[1, rs, ci])
        total, qlogq_total = sums.sum(axis=-1) if tiles.n_cols > 1 else sums[..., 0]
        h = np.log(total)
        h -= qlogq_total / total
        if not all_safe:
            h[~safe] = _rescaled_entropy(g[~safe], kind, log_d, on_nonfinite)
        np.maximum(h, 0.0, out=h)
        return np.minimum(h, log_d, out=h)


def _rescaled_entropy(g: np.ndarray, kind: str, log_d: float, on_nonfinite) -> np.ndarray:
    """Rows whose squares over- or underflow: divide by the largest entry's power of two (exact)
    and take :func:`row_entropy` again; zero rows follow ``ZERO_GRADIENT_RULE``; NaN/Inf rows
    give NaN."""
    peak = np.abs(g).max(axis=-1)
    finite = np.isfinite(peak)
    if on_nonfinite is not None and not finite.all():
        on_nonfinite()
    h = np.where(peak == 0, log_d, np.nan)
    rows = np.flatnonzero((peak > 0) & finite)
    if rows.size:
        scaled = np.ascontiguousarray(np.ldexp(g[rows], -np.frexp(peak[rows])[1][:, None]))
        h[rows] = row_entropy(scaled, kind, Tiles(*scaled.shape, scaled.dtype))
    return h


def _as_rows(g) -> np.ndarray:
    g = as_floating(g, "g")
    if g.ndim == 0:
        raise ValueError("g must have at least one axis (the dimension d)")
    if g.shape[-1] == 0:
        raise ValueError(f"g must have at least one entry along its last axis (d >= 1): the "
                         f"entropy of an empty gradient is undefined; got shape {g.shape}")
    return np.ascontiguousarray(g).reshape(-1, g.shape[-1])


def gradient_weights(g: np.ndarray, kind: str = "l2") -> np.ndarray:
    r"""The distribution :math:`p` over the last axis; uniform where ``g = 0``."""
    check_choice("entropy kind", kind, ENTROPY_KINDS)
    g = _as_rows(g).reshape(np.shape(g))
    q = np.square(g) if kind == "l2" else np.abs(g)
    s = q.sum(axis=-1, keepdims=True)
    d = g.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        p = q / s
    return np.where(s > 0, p, 1.0 / d)


def gradient_entropy(g: np.ndarray, kind: str = "l2") -> np.ndarray:
    r""":math:`H(g) = -\sum_i p_i \log p_i` over the last axis, with :math:`0 \log 0 = 0`
    (computed by :func:`row_entropy`); the result has ``g``'s float dtype and shape
    ``g.shape[:-1]``."""
    check_choice("entropy kind", kind, ENTROPY_KINDS)
    rows = _as_rows(g)
    if rows.shape[0] == 0:   # an empty batch
        return np.empty(np.shape(g)[:-1], rows.dtype)
    h = row_entropy(rows, kind, Tiles(*rows.shape, rows.dtype))
    return h.astype(rows.dtype).reshape(np.shape(g)[:-1])


def normalized_entropy(g: np.ndarray, kind: str = "l2") -> np.ndarray:
    r""":math:`\tilde H = H / \log d \in [0, 1]`; raises for ``d = 1``."""
    g = as_floating(g, "g")
    check_dimension(g.shape[-1] if g.ndim else 0)
    return gradient_entropy(g, kind) / float(np.log(g.shape[-1]))
