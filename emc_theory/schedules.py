r"""Step-size schedules :math:`\eta_t` for ``t = 1, 2, ...`` (the paper counts steps from 1).

A schedule is a callable ``t -> eta_t``. ``eta0`` may be an array of per-run step sizes whose
shape matches the leading (batch) axes of the parameters, and ``kind`` an array of per-run kinds
of the same shape: a sweep over step sizes and schedules is then one array program.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .validation import check_choice, check_positive

_DECAYS = {  # the kinds, in the order of a per-run kind index
    "constant": lambda t: 1.0,
    "inv_sqrt": lambda t: 1.0 / np.sqrt(t),
    "inv_t": lambda t: 1.0 / t,
}


@dataclass(frozen=True)
class Schedule:
    r"""Step size :math:`\eta_t = \eta_0 \, s(t)` with ``s`` one of
    ``constant`` (:math:`1`), ``inv_sqrt`` (:math:`1/\sqrt{t}`) or ``inv_t`` (:math:`1/t`).

    ``kind`` is one kind, or one per run (a sequence shaped like ``eta0``): run ``i`` then
    follows ``kind[i]`` with :math:`\eta_0` = ``eta0[i]``, the same arithmetic as a schedule of
    that single kind (per-run kinds that are all equal are stored as that one kind).

    ``eta0`` is a real number or a numpy array of reals (a list, tuple or string raises a
    TypeError naming ``lr``: a sequence would multiply as a sequence, a string would be parsed)."""

    eta0: float | np.ndarray
    kind: str | Sequence[str] = "constant"

    def __post_init__(self):
        _check_eta0(self.eta0)
        if isinstance(self.kind, str):
            check_choice("schedule kind", self.kind, _DECAYS)
        else:
            kinds = np.asarray(self.kind, dtype=str)
            distinct = np.unique(kinds)
            for kind in distinct:
                check_choice("schedule kind", str(kind), _DECAYS)
            if kinds.shape != np.shape(self.eta0):
                raise ValueError(f"per-run schedule kinds must have eta0's shape "
                                 f"{np.shape(self.eta0)}, got {kinds.shape}")
            if distinct.size == 1:   # one kind after all: the plain schedule
                object.__setattr__(self, "kind", str(distinct[0]))
            else:
                object.__setattr__(self, "kind", kinds)
                object.__setattr__(self, "_kind_index",
                                   np.vectorize(list(_DECAYS).index, otypes=[int])(kinds))
        check_positive("lr (eta0)", self.eta0)

    def __call__(self, t: int):
        if isinstance(self.kind, str):
            return self.eta0 * _DECAYS[self.kind](t)
        decays = np.array([decay(t) for decay in _DECAYS.values()])
        return self.eta0 * decays[self._kind_index]

    def select(self, keep) -> Schedule:
        """The schedule of the runs ``keep`` (an index or mask over the batch axis)."""
        if np.ndim(self.eta0) == 0:
            return self
        kind = self.kind if isinstance(self.kind, str) else self.kind[keep]
        return Schedule(np.asarray(self.eta0)[keep], kind)

    def describe(self) -> dict:
        eta0 = np.asarray(self.eta0)
        kind = self.kind if isinstance(self.kind, str) else self.kind.tolist()
        return {"kind": kind, "eta0": eta0.tolist() if eta0.ndim else float(eta0)}


@dataclass(frozen=True)
class CallableSchedule:
    """A user's schedule ``t -> eta_t``; each value is checked to be finite and positive."""

    fn: Callable[[int], float]

    def __call__(self, t: int):
        return check_positive(f"lr schedule value at step t={t}", self.fn(t))

    def describe(self) -> dict:
        return {"kind": "callable", "name": getattr(self.fn, "__name__", repr(self.fn))}


LR_FORMS = ("a real number > 0, a numpy array of per-run values > 0 (shape: the batch axes of "
            "params, params.shape[:-1]), a Schedule, or a callable t -> eta_t")


def _check_eta0(eta0) -> None:
    """``eta0`` is a real scalar or a real numpy array; a list, a tuple or a string is refused (a
    sequence would multiply as a sequence and a string would be parsed)."""
    if isinstance(eta0, np.ndarray):
        ok = eta0.dtype.kind in "iuf"
    else:
        ok = isinstance(eta0, numbers.Real) and not isinstance(eta0, (bool, np.bool_))
    if not ok:
        hint = (" (pass np.asarray(lr) for per-run step sizes)"
                if isinstance(eta0, (list, tuple)) else "")
        raise TypeError(f"lr (eta0) must be {LR_FORMS}; got {type(eta0).__name__} "
                        f"{eta0!r}{hint}")


def check_per_run_lr(eta_shape: tuple, batch_shape: tuple) -> None:
    """Raise unless a per-run step size of shape ``eta_shape`` has the batch axes' shape."""
    if tuple(eta_shape) != tuple(batch_shape):
        raise ValueError(
            f"a per-run lr must have the shape of the batch axes of params {tuple(batch_shape)} "
            f"(one step size per run), got {tuple(eta_shape)}")


def check_lr_for_params(schedule, params_shape: tuple) -> None:
    """At ``init``: a :class:`Schedule` with per-run ``eta0`` must have one entry per run of
    params of ``params_shape`` (a callable's values are checked at each step)."""
    if isinstance(schedule, Schedule) and np.ndim(schedule.eta0):
        check_per_run_lr(np.shape(schedule.eta0), params_shape[:-1])


def constant(eta0) -> Schedule:
    r""":math:`\eta_t = \eta_0`."""
    return Schedule(eta0, "constant")


def inv_sqrt(eta0) -> Schedule:
    r""":math:`\eta_t = \eta_0 / \sqrt{t}`."""
    return Schedule(eta0, "inv_sqrt")


def inv_t(eta0) -> Schedule:
    r""":math:`\eta_t = \eta_0 / t`."""
    return Schedule(eta0, "inv_t")


def as_schedule(lr) -> Schedule | CallableSchedule:
    """A float or array means a constant step; a :class:`Schedule` passes through; any other
    callable is wrapped so its values are checked."""
    if isinstance(lr, (Schedule, CallableSchedule)):
        return lr
    if callable(lr):
        return CallableSchedule(lr)
    return constant(lr)


def lr_at(schedule, t: int, batch_ndim: int):
    """``eta_t`` shaped to broadcast against params with ``batch_ndim`` leading axes."""
    eta = np.asarray(schedule(t), dtype=float)
    if eta.ndim == 0:
        return float(eta)
    if eta.ndim > batch_ndim:
        raise ValueError(
            f"lr has shape {eta.shape} but params have only {batch_ndim} batch axes; "
            "a per-run lr must match the leading axes of params"
        )
    return eta.reshape(eta.shape + (1,))


def schedule_from_description(spec: dict) -> Schedule:
    """Inverse of :meth:`Schedule.describe`; a user's callable cannot be rebuilt from its name."""
    if spec.get("kind") == "callable":
        raise ValueError(
            f"lr schedule {spec!r} was a user callable and cannot be rebuilt from describe(); "
            "pass the optimizer itself instead")
    eta0 = spec["eta0"]
    kind = spec["kind"]
    return Schedule(np.asarray(eta0, dtype=float) if isinstance(eta0, list) else eta0,
                    kind if isinstance(kind, str) else np.asarray(kind, dtype=str))
