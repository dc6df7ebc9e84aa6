r"""EMC in JAX: an optax ``GradientTransformation`` and compiled, batched runs (extra ``jax``).

Install with ``pip install -e '.[jax]'``. ``import emc_theory`` never imports JAX; importing this
module does (and raises an ImportError naming the extra when JAX or optax is missing).

**The transformation.** :func:`emc` (``learning_rate``, ``K``, ``reading``, ``entropy``, ``tau``,
defaults as :class:`emc_theory.EMC`) is the update of :mod:`emc_theory.emc`, operation for
operation, as ``optax.chain(scale_by_emc(...), optax.scale_by_learning_rate(learning_rate))``; it
is used like any optax optimizer (``tx.init(params)``, ``tx.update(grads, state)``,
``optax.apply_updates``) over any pytree of parameters. **The gradient entropy is that of all
leaves of the gradient pytree, flattened and concatenated in ``jax.tree`` order**, which is the
one flat vector of dimension :math:`d = \sum_\ell \operatorname{size}(\ell)` the NumPy core
would be given (its leading "batch" axes have no counterpart here: batch runs with ``jax.vmap``,
or as :func:`run_batch` does). The K momentum buffers of a leaf have shape ``(K, *leaf.shape)``.

``learning_rate`` is a positive float, an optax schedule (a callable of optax's update count,
which starts at 0 on the first update) or an :class:`emc_theory.schedules.Schedule` with one
kind and a scalar :math:`\eta_0`, which counts steps from :math:`t = 1` as the paper does and is
converted with :math:`t = \text{count} + 1` (:func:`as_optax_schedule`).

**Undefined cases** follow the NumPy core (:mod:`emc_theory.entropy`): ``d = 1`` raises
``ValueError`` naming ``d`` (at ``init`` and ``update``; shapes are static, so this also holds
under ``jit``); ``g = 0`` gives :math:`H = \log d`, :math:`\tilde H = 1` (``ZERO_GRADIENT_RULE``);
NaN/Inf in ``g`` make the entropy NaN. Called eagerly on concrete arrays, ``update`` then raises
:class:`~emc_theory.validation.NonFiniteGradientError` like :meth:`emc_theory.EMC.update`; under
``jit``/``vmap`` no exception can be raised from values, so the NaN entropy makes all of that
step's updates NaN (and the buffers where ``g`` is; wrap with ``optax.apply_if_finite`` to skip
such steps instead);
:func:`run_batch` checks every gradient before stepping, as the NumPy runner does, and reports
such a run as ``"non-finite"``.

**Float64** is used inside :func:`x64` (a context manager around ``jax.enable_x64``; this module
never changes JAX's global configuration). Without it JAX computes in float32. The entropy's sums
are accumulated in float64 when x64 is on (as in NumPy), else in float32.

**Agreement with the NumPy core.** The arithmetic is the same sequence of operations, but XLA
(i) contracts a product and a sum into one fused multiply-add (one rounding instead of two), (ii)
reduces in another order, (iii) has its own ``exp``/``log`` (within about 1 ulp) and (iv) on CPU
flushes subnormal numbers to zero. So in float64 a step agrees with the NumPy core to first order
within a few ulp of each quantity's condition: the buffers to one rounding of
:math:`\beta_k|m| + (1-\beta_k)|g|`, :math:`H` to a few ulp of :math:`\log d` (times
:math:`\sqrt d` for the summation order), the mixed direction to a few ulp of
:math:`\sum_k \alpha_k |m_k|`, and a power's result to the propagated error of
:math:`|\tilde m|^{e}` (``tests/test_jax_backend.py`` states and checks the bounds). Gradients
with subnormal entries (:math:`|g_i| < 2.2 \cdot 10^{-308}`) are read as zeros on CPU.

**Compiled runs.** :func:`run_batch` runs ``B`` runs of EMC on one problem of
:mod:`emc_theory.problems` (or a :class:`~emc_theory.problems.StackedProblem`) as one compiled
program: the step is the transformation's arithmetic written over the batch (the same helpers,
per-row entropies, the K buffers of the B runs laid out ``(K, B, d)``, the sum over the levels an
unrolled chain of multiply-adds; ``vmap`` of ``update`` would put the buffers ``(B, K, d)``, a
layout XLA on CPU runs more slowly), the steps a ``lax.scan`` (in equal blocks inside a
``lax.while_loop`` that exits once every run has stopped), with per-run
:math:`\eta_0` and schedule kinds, and returns the statuses and final values of
:func:`emc_theory.runner.minimize` by the same rules (``converged`` / ``max_steps`` /
``diverged`` / ``non-finite``, decided in that order of precedence: non-finite, diverged,
converged); its keywords are those of a sweep chunk's runs (per-run step sizes, kinds and
tolerances, EMC's hyper-parameters), so the sweep engine calls it in place of ``minimize``. The
same code runs on a GPU where JAX finds one (its default device).
"""
from __future__ import annotations

import contextlib
import functools
import math
import numbers
from typing import Any, NamedTuple, Optional

try:
    import jax
    import jax.numpy as jnp
    import optax
    from jax import lax
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "emc_theory.jax_backend needs JAX and optax, which are not installed: "
        "pip install -e '.[jax]'") from exc

import numpy as np

from .cascade import check_levels, check_tau, level_betas, level_lambdas
from .emc import READINGS
from .entropy import ENTROPY_KINDS, check_dimension
from .problems import CompositeProblem, SeparableProblem, StackedProblem
from .runner import STATUSES, _per_run
from .schedules import _DECAYS, CallableSchedule, Schedule
from .validation import as_floating, check_choice, check_finite_grads, check_int, check_positive

_KINDS = tuple(_DECAYS)   # the order of a per-run kind index
_BLOCK = 32
"""Steps per ``lax.scan`` block of :func:`run_batch`; the loop over blocks stops early."""


@contextlib.contextmanager
def x64():
    """Enable float64 in JAX inside the ``with`` block only (restored on exit)."""
    enable = getattr(jax, "enable_x64", None)
    if enable is not None:
        with enable(True):
            yield
    else:  # older JAX
        from jax.experimental import enable_x64
        with enable_x64():
            yield


def _x64_enabled() -> bool:
    return jax.dtypes.canonicalize_dtype(np.float64) == np.float64


# ----------------------------------------------------------------------------- the transformation


class ScaleByEMCState(NamedTuple):
    """``count``: updates done so far (int32); ``momenta``: the params' pytree, each leaf with the
    K buffers stacked first, shape ``(K, *leaf.shape)``."""

    count: Any
    momenta: Any


def _float_dtype(leaves):
    dtype = jnp.result_type(*leaves) if leaves else jnp.result_type(float)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


def _dimension(leaves) -> int:
    d = sum(int(np.prod(np.shape(leaf))) for leaf in leaves)
    check_dimension(d)
    return d


def _tree_sum(values):
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def tree_entropy(leaves, kind: str = "l2"):
    r"""Entropy :math:`H` of the leaves (a list of arrays) flattened and concatenated, computed as
    :func:`emc_theory.entropy.row_entropy` does: an exact power-of-two scale :math:`c` from
    :math:`s = \sum g_i^2` (after rescaling by the largest entry's power of two when :math:`s`
    over- or underflows), :math:`q = (c g)^2` or :math:`|c g|`, :math:`H = \log S - T/S` with
    :math:`S = \sum q` (for ``l2`` taken as :math:`c^2 s`, equal up to the order of summation),
    :math:`T = \sum q \log\max(q, \mathrm{tiny})`, clipped to :math:`[0, \log d]`; ``g = 0``
    gives :math:`\log d`, NaN/Inf give NaN."""
    check_choice("entropy", kind, ENTROPY_KINDS)
    leaves = [jnp.asarray(leaf) for leaf in leaves]
    return _entropy(leaves, kind, _dimension(leaves), rows=False)


def _entropy(leaves, kind: str, d: int, rows: bool):
    """:func:`tree_entropy` of ``leaves``; with ``rows``, every leaf has a leading batch axis B
    and the entropy is that of each row (shape ``(B,)``, ``d`` the size of a row), the same
    formula reduced over the other axes. The rescaled sums are taken only when some row needs
    them (one ``lax.cond`` over the batch, then a per-row select), so a batch of ordinary
    gradients costs two passes over them."""
    dtype = _float_dtype(leaves)
    leaves = [leaf.astype(dtype) for leaf in leaves]
    acc = jnp.float64 if _x64_enabled() else dtype
    info = jnp.finfo(dtype)
    log_d = math.log(d)

    def axes(g):
        return tuple(range(1, g.ndim)) if rows else None

    def per_row(v, g):   # a per-row scalar broadcast against the leaf g
        return v.reshape(v.shape + (1,) * (g.ndim - 1)) if rows else v

    def sum_sq(g):
        return jnp.sum(g * g, axis=axes(g)) if rows else jnp.vdot(g, g)

    s = _tree_sum([sum_sq(g) for g in leaves])
    safe = (s >= info.tiny / info.eps) & (s <= info.max)   # False on NaN
    one = jnp.ones((), dtype)

    def rescaled():
        peaks = [jnp.max(jnp.abs(g), axis=axes(g)) for g in leaves]
        peak = functools.reduce(jnp.maximum, peaks)
        shift = jnp.where(jnp.isfinite(peak), -jnp.frexp(peak)[1], 0)
        first, second = jnp.ldexp(one, shift // 2), jnp.ldexp(one, shift - shift // 2)
        s1 = _tree_sum([sum_sq(g * per_row(first, g) * per_row(second, g)) for g in leaves])
        return shift, s1, peak == 0, ~jnp.isfinite(peak)

    def as_is():
        false = jnp.zeros(s.shape, bool)
        return jnp.zeros(s.shape, jnp.int32), s, false, false

    if rows:
        def some_rescaled():
            return tuple(jnp.where(safe, a, r) for a, r in zip(as_is(), rescaled()))
        shift, s_used, zero, bad = lax.cond(jnp.all(safe), as_is, some_rescaled)
    else:
        shift, s_used, zero, bad = lax.cond(safe, as_is, rescaled)
    scale = jnp.ldexp(one, -(jnp.frexp(s_used)[1] >> 1))
    # ldexp(g, shift) * scale as two products by powers of two, each exact (no scalar out of
    # range); with l2 in the accumulation dtype, S = scale^2 s_used exactly (a power of two times
    # the sum of squares already taken), so one pass over g gives T
    first, second = jnp.ldexp(one, shift // 2), jnp.ldexp(one, shift - shift // 2) * scale
    S, T = [], []
    for g in leaves:
        q = g * per_row(first, g) * per_row(second, g)
        q = q * q if kind == "l2" else jnp.abs(q)
        if kind != "l2" or dtype != acc:
            S.append(jnp.sum(q, axis=axes(g), dtype=acc))
        T.append(jnp.sum(jnp.log(jnp.maximum(q, info.tiny)) * q, axis=axes(g), dtype=acc))
    total = _tree_sum(S) if S else scale * scale * s_used
    qlogq = _tree_sum(T)
    h = jnp.log(total) - qlogq / total
    h = jnp.minimum(jnp.maximum(h, 0.0), log_d)
    h = jnp.where(zero, jnp.asarray(log_d, acc), h)
    return jnp.where(bad, jnp.asarray(jnp.nan, acc), h)


def _is_concrete(leaves) -> bool:
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def _weights(h, d: int, slopes_np, reading: str, dtype):
    r"""EMC's softmax weights :math:`\alpha` (shape ``h.shape + (K,)``) and the reading's
    exponent (:math:`\gamma` for ``power``, :math:`1/\gamma` for ``root``, None for ``linear``)
    from the entropy ``h`` (a scalar, or one per row), in ``dtype``; the logits are formed in
    float64 when x64 is on."""
    K = len(slopes_np)
    ht = (h / math.log(d)).astype(dtype)
    wide = jnp.float64 if _x64_enabled() else dtype
    logits = (ht.astype(wide)[..., None] * jnp.asarray(slopes_np, wide)).astype(dtype)
    w = jnp.exp(logits - jnp.max(logits, axis=-1, keepdims=True))
    alpha = w / _tree_sum([w[..., k:k + 1] for k in range(K)])
    gamma = 2.0 - ht
    exponent = None if reading == "linear" else (gamma if reading == "power" else 1 / gamma)
    return alpha, exponent


def _mix(g, buffers, alphas, exponent, betas_np, gains_np):
    r"""One step of the K buffers (a list of K arrays shaped like ``g``, or one array of shape
    ``(K, *g.shape)``, returned likewise):
    :math:`m_k \leftarrow \beta_k m_k + (1-\beta_k) g`, and the direction
    :math:`\operatorname{sign}(\tilde m)|\tilde m|^{e}` of :math:`\tilde m = \sum_k \alpha_k m_k`
    (``alphas``: K coefficients broadcastable against ``g``; ``exponent`` likewise, or None for
    the linear reading), the sum over k unrolled (K is static) so that it fuses into one pass of
    multiply-adds. Returns ``(new buffers, direction)``."""
    dtype = buffers[0].dtype
    gk = jnp.asarray(g).astype(dtype)
    if isinstance(buffers, (list, tuple)):
        new = [m * jnp.asarray(b, dtype) + gk * jnp.asarray(c, dtype)
               for m, b, c in zip(buffers, betas_np, gains_np)]
    else:   # stacked, (K, *g.shape): one pass writes the new stack
        shape = (len(betas_np),) + (1,) * gk.ndim
        new = (buffers * jnp.asarray(betas_np, dtype).reshape(shape)
               + gk * jnp.asarray(gains_np, dtype).reshape(shape))
    mt = alphas[0].astype(dtype) * new[0]
    for a, m in zip(alphas[1:], new[1:]):
        mt = mt + a.astype(dtype) * m
    if exponent is not None:
        e = exponent.astype(dtype)
        mt = jnp.copysign(jnp.exp(jnp.log(jnp.abs(mt)) * e), mt)
    return new, mt


def scale_by_emc(K: int = 3, reading: str = "power", entropy: str = "l2",
                 tau: float = 1.0) -> optax.GradientTransformation:
    r"""EMC's direction :math:`h(\tilde m_t, \gamma_t)` (no step size, no sign flip): the
    gradient entropy of the whole pytree, the K buffers per leaf, the softmax weights and the
    reading (module docstring). Chain with ``optax.scale_by_learning_rate`` (as :func:`emc`
    does) for the update :math:`-\eta_t h`."""
    K = check_levels(K)
    check_choice("reading", reading, READINGS)
    check_choice("entropy", entropy, ENTROPY_KINDS)
    tau = check_tau(tau)
    betas_np = level_betas(K)
    gains_np = 1 - betas_np
    slopes_np = level_lambdas(K) / tau

    def init_fn(params):
        leaves, treedef = jax.tree.flatten(params)
        _dimension(leaves)
        dtype = np.dtype(_float_dtype(leaves))
        check_levels(K, dtype)
        check_tau(tau, dtype)
        momenta = [jnp.zeros((K,) + jnp.shape(leaf), _float_dtype([leaf])) for leaf in leaves]
        return ScaleByEMCState(jnp.zeros((), jnp.int32), jax.tree.unflatten(treedef, momenta))

    def update_fn(updates, state, params=None):
        del params
        leaves, treedef = jax.tree.flatten(updates)
        d = _dimension(leaves)
        if _is_concrete(leaves):
            check_finite_grads(np.concatenate([np.ravel(np.asarray(g)) for g in leaves]))
        dtype = _float_dtype(leaves)
        h = _entropy([jnp.asarray(g) for g in leaves], entropy, d, rows=False)
        alpha, exponent = _weights(h, d, slopes_np, reading, dtype)
        new_momenta, directions = [], []
        for g, m in zip(leaves, treedef.flatten_up_to(state.momenta)):
            a = alpha.astype(m.dtype)
            m_new, mt = _mix(g, m, [a[k] for k in range(K)], exponent, betas_np, gains_np)
            new_momenta.append(m_new)
            directions.append(mt)
        return (jax.tree.unflatten(treedef, directions),
                ScaleByEMCState(optax.safe_increment(state.count),
                                jax.tree.unflatten(treedef, new_momenta)))

    return optax.GradientTransformation(init_fn, update_fn)


def as_optax_schedule(learning_rate):
    r"""``learning_rate`` as optax takes it: a positive float stays a float, an optax schedule
    (callable of the update count, from 0) passes through, an
    :class:`~emc_theory.schedules.Schedule` (one kind, scalar :math:`\eta_0`; it counts from
    :math:`t = 1`) becomes ``count -> eta0 * s(count + 1)`` and a ``CallableSchedule`` (a
    callable of :math:`t` wrapped by :func:`emc_theory.schedules.as_schedule`) is called with
    ``count + 1``."""
    if isinstance(learning_rate, Schedule):
        if np.ndim(learning_rate.eta0) or not isinstance(learning_rate.kind, str):
            raise ValueError("learning_rate must be one schedule (scalar eta0, one kind); per-run "
                             "step sizes are run_batch's (or jax.vmap over runs)")
        eta0, kind = float(learning_rate.eta0), learning_rate.kind

        def schedule(count):
            t = jnp.asarray(count, dtype=float) + 1
            return eta0 * (_decays(t)[_KINDS.index(kind)])
        return schedule
    if isinstance(learning_rate, CallableSchedule):   # a callable of t = 1, 2, ...
        fn = learning_rate.fn
        return lambda count: fn(count + 1)
    if callable(learning_rate):
        return learning_rate
    if (isinstance(learning_rate, (bool, np.bool_)) or not isinstance(learning_rate, numbers.Real)
            and not (isinstance(learning_rate, (np.ndarray, jax.Array))
                     and learning_rate.ndim == 0 and learning_rate.dtype.kind in "iuf")):
        raise TypeError(f"learning_rate must be a positive float, an optax schedule or an "
                        f"emc_theory Schedule, got {learning_rate!r}")
    return float(check_positive("learning_rate", learning_rate))


def emc(learning_rate=1e-2, K: int = 3, reading: str = "power", entropy: str = "l2",
        tau: float = 1.0) -> optax.GradientTransformation:
    r"""The EMC optimizer as an optax transformation: updates :math:`-\eta_t h(\tilde m_t,
    \gamma_t)`, to be added to the params (``optax.apply_updates``); module docstring."""
    return optax.chain(scale_by_emc(K, reading, entropy, tau),
                       optax.scale_by_learning_rate(as_optax_schedule(learning_rate)))


# ----------------------------------------------------------------------------- problems in JAX


def _decays(t):
    """``[1, 1/sqrt(t), 1/t]``: the factors of the kinds of :data:`_KINDS`, as in schedules.py."""
    return jnp.stack([jnp.ones_like(t), 1.0 / jnp.sqrt(t), 1.0 / t])


def _profile(name: str, params: dict):
    """``(rho, d1)`` of a separable problem, the formulas of :mod:`emc_theory.problems`."""
    if name == "quadratic":
        return (lambda t: 0.5 * t**2), (lambda t: t)
    if name == "huber":
        delta = params["delta"]
        return (lambda t: jnp.where(jnp.abs(t) <= delta, 0.5 * t**2,
                                    delta * (jnp.abs(t) - 0.5 * delta)),
                lambda t: jnp.clip(t, -delta, delta))
    if name == "smoothed_abs":
        eps = params["eps"]
        return (lambda t: jnp.sqrt(t**2 + eps**2) - eps,
                lambda t: t / jnp.sqrt(t**2 + eps**2))
    if name == "cauchy_loss":
        s = params["scale"]
        return (lambda t: jnp.log1p((t / s) ** 2), lambda t: 2.0 * t / (s**2 + t**2))
    if name == "cosine_bowl":
        a, omega = params["a"], params["w"]
        return (lambda t: 0.5 * t**2 + a * (1.0 - jnp.cos(omega * t)),
                lambda t: t + a * omega * jnp.sin(omega * t))
    raise ValueError(f"problem {name!r} has no JAX form; backend='jax' supports "
                     f"{sorted(_SEPARABLE + _COMPOSITE)}")


_SEPARABLE = ("quadratic", "huber", "smoothed_abs", "cauchy_loss", "cosine_bowl")
_COMPOSITE = ("logistic_regression", "log_sum_exp")


def _matmul(a, b):
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def _problem_program(problem, dtype):
    """``(key, arrays)``: a hashable description of ``problem``'s formula (the key of the compiled
    program) and its array constants in ``dtype``, for :func:`_evaluate`."""
    if isinstance(problem, StackedProblem):
        members = [_problem_program(p, dtype) for p in problem.problems]
        return (("stack", tuple(k for k, _ in members)),
                {"members": tuple(a for _, a in members),
                 "assignment": jnp.asarray(problem.assignment, jnp.int32)})
    if isinstance(problem, SeparableProblem) and problem.name in _SEPARABLE:
        p = problem.in_dtype(dtype)
        static = tuple(sorted((k, v) for k, v in problem.params.items()
                              if k in ("delta", "eps", "scale", "a", "w")))
        matrix = p._matrix is not None
        arrays = {"x_star": jnp.asarray(p.x_star), "weights": jnp.asarray(p.weights)}
        if matrix:
            arrays["matrix"] = jnp.asarray(p._matrix)
        elif p.rotation is not None:
            arrays["rotation"] = jnp.asarray(p.rotation)
        return ("separable", problem.name, static, matrix, p.rotation is not None), arrays
    if isinstance(problem, CompositeProblem) and problem.name in _COMPOSITE:
        p = problem.in_dtype(dtype)
        return (("composite", problem.name, int(p.A.shape[0]), float(p.reg)),
                {"A": jnp.asarray(p.A), "b": jnp.asarray(p.b)})
    raise ValueError(f"problem {problem.name!r} ({type(problem).__name__}) has no JAX form; "
                     f"backend='jax' supports {sorted(_SEPARABLE + _COMPOSITE)} and stacks of them")


def _evaluate(key, arrays, x):
    """``(f, g)`` of a ``(B, d)`` batch, the NumPy problems' formulas in JAX."""
    if key[0] == "stack":
        assignment = arrays["assignment"]
        f = g = None
        for i, (member, member_arrays) in enumerate(zip(key[1], arrays["members"])):
            fi, gi = _evaluate(member, member_arrays, x)
            rows = assignment == i
            f = fi if f is None else jnp.where(rows, fi, f)
            g = gi if g is None else jnp.where(rows[:, None], gi, g)
        return f, g
    if key[0] == "separable":
        _, name, static, matrix, rotated = key
        shifted = x - arrays["x_star"]
        if matrix:
            grad = _matmul(shifted, arrays["matrix"])
            return 0.5 * jnp.sum(shifted * grad, axis=-1), grad
        rho, d1 = _profile(name, dict(static))
        t = _matmul(shifted, arrays["rotation"]) if rotated else shifted
        w = arrays["weights"]
        v = w * d1(t)
        grad = _matmul(v, arrays["rotation"].T) if rotated else v
        return jnp.sum(w * rho(t), axis=-1), grad
    _, name, n, reg = key
    A, b = arrays["A"], arrays["b"]
    z = _matmul(x, A.T) - b
    if name == "logistic_regression":
        value, outer_grad = jnp.mean(jnp.logaddexp(0.0, z), axis=-1), jax.nn.sigmoid(z) / n
    else:
        value = jax.scipy.special.logsumexp(z, axis=-1)
        outer_grad = jax.nn.softmax(z, axis=-1)
    return (value + 0.5 * reg * jnp.sum(x**2, axis=-1),
            _matmul(outer_grad, A) + reg * x)


# ----------------------------------------------------------------------------- compiled runs


@functools.lru_cache(maxsize=64)
def _compiled_run(problem_key, K, reading, entropy, tau, steps, dtype_name, has_f_star,
                  has_tol, has_gap_tol, history):
    """The jitted program of :func:`run_batch` for one static configuration."""
    scale_by_emc(K, reading, entropy, tau)   # validates the hyper-parameters
    betas_np = level_betas(K)
    gains_np = 1 - betas_np
    slopes_np = level_lambdas(K) / tau
    dtype = jnp.dtype(dtype_name)

    def emc_step(g, buffers):
        """EMC's direction for each row of g (B, d) and the K new buffers (each (B, d)): the
        transformation's update written over the batch (not vmap of it), so the buffers are
        laid out (K, B, d) and the sum over k is a fused multiply-add per element."""
        d = g.shape[-1]
        h = _entropy([g], entropy, d, rows=True)
        alpha, exponent = _weights(h, d, slopes_np, reading, g.dtype)
        return _mix(g, list(buffers), [alpha[:, k:k + 1] for k in range(K)],
                    None if exponent is None else exponent[:, None], betas_np, gains_np)
    # the steps + 1 iterations (the last only decides the statuses) in equal blocks of at most
    # _BLOCK, as few wasted iterations past the end as the block count allows
    n_blocks = -(-(steps + 1) // _BLOCK)
    block = -(-(steps + 1) // n_blocks)

    def run(arrays, x0, eta0, kind_index, f_star, tols, gap_tols, factor):
        B = x0.shape[0]
        f0, g0 = _evaluate(problem_key, arrays, x0)
        f_ref = f_star if has_f_star else f0.astype(jnp.float64)
        gap0 = f0.astype(jnp.float64) - f_ref
        threshold = factor * (jnp.abs(gap0) + 1.0)
        check_dimension(x0.shape[-1])
        state0 = tuple(jnp.zeros_like(x0) for _ in range(K))
        nan = jnp.full(B, jnp.nan)
        carry0 = dict(t=jnp.zeros((), jnp.int32), x=x0, g=g0, gap=gap0, state=state0,
                      status=jnp.zeros(B, jnp.int8), stop_step=jnp.full(B, steps, jnp.int32),
                      final_gap=nan, final_gn=nan)
        if history:
            shape = (n_blocks * block, B)
            carry0["hist"] = (jnp.full(shape, jnp.nan), jnp.full(shape, jnp.nan))

        def one_step(c, _):
            t = c["t"]
            active = t <= steps
            g, gap = c["g"], c["gap"]
            gn = jnp.sqrt(jnp.sum(g * g, axis=-1)).astype(jnp.float64)
            finite_gap = jnp.isfinite(gap)
            finite = finite_gap & jnp.isfinite(gn)
            overflow = finite != finite_gap
            finite = jnp.where(overflow, jnp.all(jnp.isfinite(g), axis=-1), finite)
            live0 = (c["status"] == 0) & active
            converged = jnp.zeros(B, bool)
            if has_tol:
                converged = converged | (gn <= tols)
            if has_gap_tol:
                converged = converged | (gap <= gap_tols)
            verdicts = ((STATUSES.index("non-finite") + 1, ~finite),
                        (STATUSES.index("diverged") + 1, finite & (gap > threshold)),
                        (STATUSES.index("converged") + 1, finite & converged),
                        (STATUSES.index("max_steps") + 1, jnp.broadcast_to(t == steps, (B,))))
            status, stop_step = c["status"], c["stop_step"]
            final_gap, final_gn = c["final_gap"], c["final_gn"]
            live = live0
            for code, hit in verdicts:
                new = live & hit
                status = jnp.where(new, jnp.int8(code), status)
                stop_step = jnp.where(new, t, stop_step)
                final_gap = jnp.where(new, gap, final_gap)
                final_gn = jnp.where(new, gn, final_gn)
                live = live & ~new
            tt = (t + 1).astype(jnp.float64)
            eta = eta0 * _decays(tt)[kind_index]
            neg_eta = -(eta.astype(dtype))
            # a stopped run's iterate is frozen; its optimizer state is never read again, so it
            # is left to run on (no pass over the K buffers to select it)
            state, direction = emc_step(g, c["state"])
            state = tuple(state)
            x = jnp.where(live[:, None], c["x"] + direction * neg_eta[:, None], c["x"])
            f, g_new = _evaluate(problem_key, arrays, x)
            gap_new = f.astype(jnp.float64) - f_ref
            out = dict(t=t + 1, x=x, g=jnp.where(live[:, None], g_new, g),
                       gap=jnp.where(live, gap_new, gap), state=state, status=status,
                       stop_step=stop_step, final_gap=final_gap, final_gn=final_gn)
            record = (jnp.where(live0, gap, jnp.nan), jnp.where(live0, gn, jnp.nan))
            return out, record

        def one_block(c):
            hist = c.pop("hist", None)
            c, records = lax.scan(one_step, c, None, length=block)
            if hist is not None:
                start = c["t"] - block
                hist = tuple(lax.dynamic_update_slice(h, r, (start, jnp.int32(0)))
                             for h, r in zip(hist, records))
                c["hist"] = hist
            return c

        def running(c):
            return (c["t"] <= steps) & jnp.any(c["status"] == 0)

        c = lax.while_loop(running, one_block, carry0)
        out = {"status": c["status"], "stop_step": c["stop_step"],
               "final_gap": c["final_gap"], "final_grad_norm": c["final_gn"], "params": c["x"]}
        if history:
            out["f_gap"], out["grad_norm"] = (h[: steps + 1] for h in c["hist"])
        return out

    return jax.jit(run)


def run_batch(problem, x0, steps: int, *, lrs, kinds="constant", K: int = 3,
              reading: str = "power", entropy: str = "l2", tau: float = 1.0,
              tol: Optional[float] = None, gap_tol: Optional[float] = None,
              divergence_factor: float = 1e6, history: bool = False) -> dict:
    r"""Run EMC on ``problem`` from each row of ``x0`` (shape ``(B, d)``, float64 or float32:
    the iterates' dtype) for ``steps`` steps, as one compiled program in float64-enabled JAX.

    ``lrs``: :math:`\eta_0` per run (or one); ``kinds``: the schedule kind per run (or one), of
    ``constant`` / ``inv_sqrt`` / ``inv_t``, :math:`\eta_t = \eta_0 s(t)`; ``tol``, ``gap_tol``,
    ``divergence_factor``: as in :func:`emc_theory.runner.minimize`, with the same statuses and
    rules (a stopped run is frozen; :math:`f^\star` is the problem's, or :math:`f(x_0)` when
    unknown). Returns ``status`` (strings of :data:`emc_theory.runner.STATUSES`), ``stop_step``,
    ``final_gap``, ``final_grad_norm`` (float64) and ``params`` (final iterates), NumPy arrays
    over the runs, and with ``history`` ``f_gap`` and ``grad_norm`` of shape ``(steps + 1, B)``
    (NaN after a run stopped).

    Agreement with ``minimize`` (float64; ``tests/test_jax_backend.py``): identical statuses and
    stop steps for every run whose status is a property of the run (unchanged when its start
    moves by an ulp), and final values within :math:`10^{-10}` relative (or :math:`10^{-13}`
    absolute) where NumPy's own final value is stable under such moves. A chaotic run (e.g. a
    bounded oscillation at a large step on a non-convex function) amplifies the last-bit
    differences of the two backends' arithmetic like any ulp perturbation, so its final value,
    and near the divergence threshold even its status, is not reproducible by any other
    arithmetic, NumPy's own with another batch size included.
    """
    steps = check_int("steps", steps, 1)
    check_positive("divergence_factor", divergence_factor)
    x0 = as_floating(x0)
    if x0.ndim != 2 or x0.shape[-1] != problem.d:
        raise ValueError(f"x0 must have shape (B, {problem.d}) for this problem, got {x0.shape}")
    B = x0.shape[0]
    lrs = np.array(np.broadcast_to(np.asarray(check_positive("lrs", lrs), float), (B,)))
    kinds = np.broadcast_to(np.asarray(kinds, dtype=str), (B,))
    for kind in np.unique(kinds):
        check_choice("schedule kind", str(kind), _KINDS)
    kind_index = np.array([_KINDS.index(str(k)) for k in kinds], dtype=np.int32)
    tols, gap_tols = _per_run("tol", tol, B), _per_run("gap_tol", gap_tol, B)
    f_star = problem.f_star
    with x64():
        key, arrays = _problem_program(problem, x0.dtype)
        program = _compiled_run(key, K, reading, entropy, float(tau), steps, x0.dtype.name,
                                f_star is not None, tols is not None, gap_tols is not None,
                                bool(history))
        f_ref = (None if f_star is None
                 else jnp.asarray(np.broadcast_to(np.asarray(f_star, float), (B,))))
        out = program(arrays, jnp.asarray(x0), jnp.asarray(lrs), jnp.asarray(kind_index), f_ref,
                      None if tols is None else jnp.asarray(tols),
                      None if gap_tols is None else jnp.asarray(gap_tols),
                      jnp.asarray(float(divergence_factor)))
        out = jax.device_get(out)
    out = {k: np.asarray(v) for k, v in out.items()}
    status = np.array([STATUSES[c - 1] for c in out["status"]], dtype=object)
    out.update(status=status, stop_step=out["stop_step"].astype(np.int64))
    return out
