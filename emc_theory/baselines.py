r"""Baseline optimizers the EMC claims are compared against, with the optax-style interface of
:class:`emc_theory.emc.EMC`.

Each optimizer is a frozen dataclass of hyper-parameters with

* ``init(params) -> state``: a NamedTuple with ``count`` (updates done so far) and buffers shaped
  like ``params``;
* ``update(grads, state, params=None) -> (updates, new_state)``: pure (no array of ``state`` is
  written); the next iterate is ``params + updates``. Step ``t = state.count + 1`` (1-based) uses
  :math:`\eta_t`.

Leading axes of ``params`` beyond the last are independent runs; ``lr`` may be a float, a per-run
array of shape ``params.shape[:-1]``, a :class:`~emc_theory.schedules.Schedule` or a callable
``t -> eta_t``. The other hyper-parameters are scalars shared by all runs. ``describe()`` gives a
JSON-serialisable dict that :func:`~emc_theory.optimizers.make_optimizer` turns
back into the optimizer.
"""
from __future__ import annotations

import dataclasses
import math
from functools import lru_cache
from typing import ClassVar, NamedTuple, Optional

import numpy as np

from .schedules import as_schedule, check_lr_for_params, check_per_run_lr, lr_at
from .validation import (
    as_floating,
    check_choice,
    check_finite_grads,
    check_in_unit_interval,
    check_not_empty,
    check_positive,
    check_scalar,
    check_state_count,
)


class GradientDescentState(NamedTuple):
    """GD keeps no buffer, so its ``update`` accepts grads of any shape."""

    count: int


class MomentumState(NamedTuple):
    count: int
    velocity: np.ndarray


class AdamState(NamedTuple):
    r"""Adam's moments. ``second_moment_exponent`` is None (the usual case), or integer exponents
    :math:`j \ge 0` shaped like params such that the second moment is
    :math:`v = \texttt{second\_moment} \cdot 4^{j}`: it is kept so once a gradient's square
    would overflow (see :class:`Adam`)."""

    count: int
    first_moment: np.ndarray
    second_moment: np.ndarray
    second_moment_exponent: Optional[np.ndarray] = None


class LionState(NamedTuple):
    count: int
    momentum: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Baseline:
    """Shared boilerplate: ``lr`` is kept as given and ``schedule`` is ``as_schedule(lr)`` (as in
    :class:`~emc_theory.emc.EMC`); the fields named in ``_unit_interval_fields`` must be real
    scalars in [0, 1), those in ``_positive_fields`` in (0, inf) (both kept as floats).
    ``_state_type`` is the state's class; its fields after ``count`` named in ``_buffers`` are
    floating arrays shaped like params."""

    lr: object
    schedule: object = dataclasses.field(init=False, repr=False, compare=False)
    name: ClassVar[str]
    _unit_interval_fields: ClassVar[tuple] = ()
    _positive_fields: ClassVar[tuple] = ()
    _state_type: ClassVar[type]
    _buffers: ClassVar[tuple] = ()

    def __post_init__(self):
        object.__setattr__(self, "schedule", as_schedule(self.lr))
        for field in self._unit_interval_fields:
            value = check_scalar(field, getattr(self, field))
            object.__setattr__(self, field,
                               check_in_unit_interval(field, value, open_right=True))
        for field in self._positive_fields:
            value = check_scalar(field, getattr(self, field))
            object.__setattr__(self, field, check_positive(field, value))

    def describe(self) -> dict:
        """Name and hyper-parameters; ``lr`` as its schedule's ``describe()``."""
        spec = {"name": self.name, "lr": self.schedule.describe()}
        for field in dataclasses.fields(self):
            if field.name not in spec and field.name != "schedule":
                spec[field.name] = getattr(self, field.name)
        return spec

    def _init_params(self, params) -> np.ndarray:
        """``params`` checked (real, at least one axis, per-run ``lr`` of the batch shape)."""
        params = _params_array(params)
        check_lr_for_params(self.schedule, params.shape)
        return params

    def _check_state(self, state) -> Optional[tuple]:
        """Cheap structural checks of ``state`` naming it; returns its buffers' shape (None for a
        state without buffers)."""
        cls = self._state_type
        if not isinstance(state, cls):
            raise TypeError(f"state must be the {cls.__name__} of {type(self).__name__}.init, got "
                            f"{type(state).__name__}")
        check_state_count(state.count)
        shape = None
        for field in self._buffers:
            buffer = getattr(state, field)
            if (not isinstance(buffer, np.ndarray) or buffer.dtype.kind != "f" or buffer.ndim < 1
                    or (shape is not None and buffer.shape != shape)):
                got = (f"shape {buffer.shape}, dtype {buffer.dtype}"
                       if isinstance(buffer, np.ndarray) else type(buffer).__name__)
                raise ValueError(f"state.{field} must be a floating array shaped like params"
                                 f"{'' if shape is None else ' ' + str(shape)}, got {got}: the "
                                 "state is corrupted")
            shape = buffer.shape
        return shape

    def _start_step(self, grads, state):
        """Check ``state`` and ``grads`` (against the state buffers' shape, if any); return
        ``(grads, eta_t)`` for ``t = state.count + 1`` with ``eta_t`` broadcastable against
        ``grads``."""
        shape = self._check_state(state)
        grads = as_floating(grads, "grads")
        if grads.ndim < 1:
            raise ValueError(f"grads must have at least one axis (the coordinate axis), got shape "
                             f"{grads.shape}")
        if shape is not None and grads.shape != shape:
            raise ValueError(
                f"grads must have the shape of params {tuple(shape)} (the optimizer state's "
                f"shape), got {grads.shape}")
        check_not_empty("grads", grads.shape)
        check_finite_grads(grads)
        eta = lr_at(self.schedule, state.count + 1, grads.ndim - 1)
        if np.ndim(eta):
            eta = eta.astype(grads.dtype, copy=False)
        if np.ndim(eta):
            check_per_run_lr(np.shape(eta)[:-1], grads.shape[:-1])
        return grads, eta


def _params_array(params) -> np.ndarray:
    """``params`` as an array, keeping a floating dtype (float32 stays float32)."""
    params = as_floating(params, "params")
    if params.ndim < 1:
        raise ValueError(
            f"params must have at least one axis (the coordinate axis), got shape {params.shape}")
    return params


@dataclasses.dataclass(frozen=True)
class GradientDescent(_Baseline):
    r"""Gradient descent (Cauchy, 1847): :math:`x_{t+1} = x_t - \eta_t g_t`."""

    name: ClassVar[str] = "gd"
    _state_type: ClassVar[type] = GradientDescentState

    def init(self, params) -> GradientDescentState:
        self._init_params(params)
        return GradientDescentState(0)

    def update(self, grads, state: GradientDescentState, params=None):
        grads, eta = self._start_step(grads, state)
        return -eta * grads, GradientDescentState(state.count + 1)


@dataclasses.dataclass(frozen=True)
class HeavyBall(_Baseline):
    r"""Polyak's heavy ball (B. T. Polyak, *Some methods of speeding up the convergence of
    iteration methods*, USSR Comput. Math. Math. Phys. 4(5), 1964), in the form of
    ``torch.optim.SGD(momentum=beta)``:

    .. math:: v_t = \beta v_{t-1} + g_t,\quad v_0 = 0,\qquad x_{t+1} = x_t - \eta_t v_t,

    which for constant :math:`\eta` is :math:`x_{t+1} = x_t - \eta g_t + \beta (x_t - x_{t-1})`.
    """

    beta: float = 0.9
    name: ClassVar[str] = "heavy_ball"
    _unit_interval_fields: ClassVar[tuple] = ("beta",)
    _state_type: ClassVar[type] = MomentumState
    _buffers: ClassVar[tuple] = ("velocity",)

    def _direction(self, grads, velocity):
        return velocity

    def init(self, params) -> MomentumState:
        return MomentumState(0, np.zeros_like(self._init_params(params)))

    def update(self, grads, state: MomentumState, params=None):
        grads, eta = self._start_step(grads, state)
        velocity = self.beta * state.velocity + grads
        return -eta * self._direction(grads, velocity), MomentumState(state.count + 1, velocity)


@dataclasses.dataclass(frozen=True)
class Nesterov(HeavyBall):
    r"""Nesterov momentum (Y. Nesterov, 1983; Sutskever et al., ICML 2013) in the form of
    ``torch.optim.SGD(momentum=beta, nesterov=True)`` (dampening 0):

    .. math:: v_t = \beta v_{t-1} + g_t,\quad v_0 = 0,\qquad
              x_{t+1} = x_t - \eta_t (g_t + \beta v_t).
    """

    name: ClassVar[str] = "nesterov"

    def _direction(self, grads, velocity):
        return grads + self.beta * velocity


@lru_cache(maxsize=16)
def _adam_limit_exponent(b2: float, dtype: np.dtype) -> int:
    """:math:`E` of :class:`Adam` for ``b2`` and ``dtype`` (asked every step: remembered)."""
    return max(2, np.finfo(dtype).maxexp - 8 - max(0, math.ceil(-math.log2(1 - b2))))


@dataclasses.dataclass(frozen=True)
class Adam(_Baseline):
    r"""Adam (Kingma & Ba, *Adam: A Method for Stochastic Optimization*, ICLR 2015, Algorithm 1):

    .. math:: m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
              v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\quad m_0 = v_0 = 0,

    .. math:: \hat m_t = \frac{m_t}{1-\beta_1^t},\quad \hat v_t = \frac{v_t}{1-\beta_2^t},\quad
              x_{t+1} = x_t - \eta_t \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}.

    Overflow: :math:`\sqrt{\hat v_t}` and :math:`\hat m_t` never exceed :math:`\max_s |g_s|`, but
    :math:`g_t^2` and :math:`v_t` overflow once :math:`|g_t| \gtrsim 10^{154}` (float64), which
    would make :math:`\hat v_t = \infty` and freeze the coordinate (a zero update for good). So
    :math:`v_t` is stored as :math:`\tilde v_t 4^{j}` with a per-coordinate integer :math:`j \ge 0`
    (``AdamState.second_moment_exponent``), the smallest keeping :math:`\tilde v_t` below
    :math:`2^{E}`, :math:`E` = the dtype's largest exponent :math:`- 8 - \lceil -\log_2(1 -
    \beta_2) \rceil` (so :math:`\tilde v_t / (1-\beta_2^t)` is finite too), and the update is
    :math:`-\eta_t (\hat m_t 2^{-j}) / (\sqrt{\tilde v_t/(1-\beta_2^t)} + \epsilon 2^{-j})`.
    Powers of two scale exactly, and while every :math:`v_t < 2^{E}` (all ordinary gradients)
    :math:`j = 0` and the step is the formula above operation for operation.
    """

    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    name: ClassVar[str] = "adam"
    _unit_interval_fields: ClassVar[tuple] = ("b1", "b2")
    _positive_fields: ClassVar[tuple] = ("eps",)
    _state_type: ClassVar[type] = AdamState
    _buffers: ClassVar[tuple] = ("first_moment", "second_moment")

    def init(self, params) -> AdamState:
        zeros = np.zeros_like(self._init_params(params))
        return AdamState(0, zeros, zeros.copy())

    def _check_state(self, state):
        shape = super()._check_state(state)
        exponent = state.second_moment_exponent
        if exponent is not None and (not isinstance(exponent, np.ndarray)
                                     or exponent.dtype.kind not in "iu"
                                     or exponent.shape != shape or np.any(exponent < 0)):
            raise ValueError(f"state.second_moment_exponent must be None or integers >= 0 shaped "
                             f"like params {shape}, got {exponent!r}: the state is corrupted")
        return shape

    def _limit_exponent(self, dtype) -> int:
        """:math:`E`: stored second moments stay below :math:`2^E` (class docstring)."""
        return _adam_limit_exponent(float(self.b2), np.dtype(dtype))

    def update(self, grads, state: AdamState, params=None):
        grads, eta = self._start_step(grads, state)
        t = state.count + 1
        first = self.b1 * state.first_moment + (1 - self.b1) * grads
        dtype = np.result_type(state.second_moment, grads)
        limit = self._limit_exponent(dtype)
        exponent = state.second_moment_exponent
        if exponent is None:
            with np.errstate(over="ignore"):
                second = self.b2 * state.second_moment + (1 - self.b2) * grads**2
            if np.all(second < 2.0**limit):
                first_hat = first / (1 - self.b1**t)
                second_hat = second / (1 - self.b2**t)
                updates = -eta * first_hat / (np.sqrt(second_hat) + self.eps)
                return updates, AdamState(t, first, second)
            exponent = np.zeros(grads.shape, np.int32)
        # v = second_moment * 4^j: rescale the old moment and g to the exponent both need
        j = np.maximum(exponent, np.frexp(grads)[1] - limit // 2)
        scaled_grads = np.ldexp(grads, -j)
        old = np.ldexp(state.second_moment, 2 * (exponent - j))
        second = self.b2 * old + (1 - self.b2) * scaled_grads**2
        # the smallest exponent keeping the stored moment below 2^limit
        j_new = np.maximum(0, j - (limit - np.frexp(second)[1]) // 2)
        second = np.ldexp(second, 2 * (j - j_new))
        first_hat = np.ldexp(first, -j_new) / (1 - self.b1**t)
        denominator = (np.sqrt(second / (1 - self.b2**t))
                       + np.ldexp(dtype.type(self.eps), -j_new))
        updates = -eta * first_hat / denominator
        return updates, AdamState(t, first, second, j_new if j_new.any() else None)


_LION_TRANSFORMS = ("sign", "tanh")


@dataclasses.dataclass(frozen=True)
class Lion(_Baseline):
    r"""Lion (Chen et al., *Symbolic Discovery of Optimization Algorithms*, NeurIPS 2023,
    arXiv:2302.06675, Algorithm 2), with decoupled weight decay :math:`\lambda`:

    .. math:: c_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
              x_{t+1} = x_t - \eta_t\big(\phi(c_t) + \lambda x_t\big),\quad
              m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t,\quad m_0 = 0,

    with :math:`\phi = \operatorname{sign}` (the paper) or, for the companion claim LN1 (Tan &
    Huang's information-bottleneck reading), :math:`\phi(c) = \tanh(s\,c)` with
    ``transform="tanh"`` and :math:`s` = ``tanh_scale``. ``params`` must be passed to
    ``update`` when ``weight_decay > 0`` (they are taken in the grads' dtype). Conventions:
    :math:`\operatorname{sign}(0) = 0`; in float64 :math:`\tanh(s c)` rounds to exactly
    :math:`\pm 1` once :math:`|s c| \gtrsim 19`.
    """

    b1: float = 0.9
    b2: float = 0.99
    weight_decay: float = 0.0
    transform: str = "sign"
    tanh_scale: float = 1.0
    name: ClassVar[str] = "lion"
    _unit_interval_fields: ClassVar[tuple] = ("b1", "b2")
    _positive_fields: ClassVar[tuple] = ("tanh_scale",)
    _state_type: ClassVar[type] = LionState
    _buffers: ClassVar[tuple] = ("momentum",)

    def __post_init__(self):
        super().__post_init__()
        check_choice("transform", self.transform, _LION_TRANSFORMS)
        weight_decay = check_scalar("weight_decay", self.weight_decay)
        if not (np.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(
                f"weight_decay must be finite and >= 0 (allowed range [0, inf)), "
                f"got {self.weight_decay!r}")
        object.__setattr__(self, "weight_decay", weight_decay)

    def init(self, params) -> LionState:
        return LionState(0, np.zeros_like(self._init_params(params)))

    def update(self, grads, state: LionState, params=None):
        grads, eta = self._start_step(grads, state)
        interpolated = self.b1 * state.momentum + (1 - self.b1) * grads
        if self.transform == "sign":
            direction = np.sign(interpolated)
        else:
            direction = np.tanh(self.tanh_scale * interpolated)
        if self.weight_decay > 0:
            if params is None or np.shape(params) != grads.shape:
                raise ValueError(
                    f"params of shape {grads.shape} must be passed to Lion.update when "
                    f"weight_decay > 0, got {None if params is None else np.shape(params)}")
            params = np.asarray(as_floating(params, "params"), dtype=grads.dtype)
            direction = direction + self.weight_decay * params
        momentum = self.b2 * state.momentum + (1 - self.b2) * grads
        return -eta * direction, LionState(state.count + 1, momentum)


BASELINES = {cls.name: cls for cls in (GradientDescent, HeavyBall, Nesterov, Adam, Lion)}
