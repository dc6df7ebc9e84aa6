r"""Test functions with known smoothness :math:`L`, strong convexity :math:`\mu` and minimiser.

Two parameterised families cover every factory:

* :class:`SeparableProblem`: :math:`f(x) = \sum_i w_i\, \rho\big((Q^\top (x - x^\star))_i\big)`
  for a scalar profile :math:`\rho` with :math:`\rho(0) = 0 = \min \rho` and an orthogonal
  :math:`Q` (identity unless rotated). Quadratics (:math:`\rho = t^2/2`, :math:`w` = eigenvalues),
  Huber, smoothed absolute value, Cauchy loss and the cosine bowl are instances. The Hessian is
  :math:`Q \operatorname{diag}(w_i \rho''(t_i)) Q^\top`, so
  :math:`L = \max_i w_i \sup_t |\rho''(t)|` and, when :math:`\inf_t \rho'' \ge 0`,
  :math:`\mu = \min_i w_i \inf_t \rho''(t)` (``mu = None`` when :math:`\inf_t \rho'' < 0`).
* :class:`CompositeProblem`: :math:`f(x) = \phi(A x - b) + \tfrac{r}{2}\|x\|^2` with an outer loss
  :math:`\phi` whose Hessian norm is at most :math:`c_\phi`, so
  :math:`L = c_\phi \|A\|_2^2 + r` and :math:`\mu = r` (the outer Hessian vanishes at infinity).
  Logistic regression (:math:`\phi` = mean softplus, :math:`c_\phi = 1/(4n)`) and log-sum-exp
  (:math:`c_\phi = 1/2`, since :math:`\lambda_{\max}(\operatorname{diag}(p) - p p^\top) \le 1/2`)
  are instances; their minimiser is computed by Newton's method.

Every problem evaluates ``value``/``grad`` batched over leading axes (``x`` of shape ``(..., d)``),
``hessian`` at one point, and ``describe()`` returns a JSON-serialisable dict from which
:func:`make_problem` rebuilds it::

    {"name": ..., "params": {factory keyword arguments}, "d", "L", "mu", "f_star",
     "x_star": list | None, "x_star_source": str}

Constructors refuse parameters that would make a stated constant overflow or underflow (``L``
outside the normal float64 range, a positive ``mu`` below it, a non-finite Hessian matrix,
``x_star`` or ``f_star``), naming the parameter and its allowed range where one parameter sets
the constant (``cond``, ``mu``, ``eps``, ``scale``, ``a * w**2``, ``reg``).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.optimize import linprog
from scipy.special import expit, logsumexp, softmax

from .validation import (
    as_floating,
    check_bool,
    check_choice,
    check_int,
    check_positive,
    check_real,
    check_scalar,
)

NEWTON_GRAD_TOL = 1e-12
r"""Newton stops once :math:`\|\nabla f\| \le 10^{-12} \|A\|_2` (the gradient's own scale:
:math:`\nabla f = A^\top \nabla\phi + r x` with :math:`\|\nabla \phi\| \le 1`)."""

_TINY, _HUGE = float(np.finfo(float).tiny), float(np.finfo(float).max)
"""The normal float64 range: a stated ``L`` (or positive ``mu``) outside it has overflowed or
underflowed (``1/L``, the step-size unit, would then be infinite or zero)."""
_ROOT_TINY, _ROOT_HUGE = math.sqrt(_TINY), math.sqrt(_HUGE)
"""The range of a profile's ``eps`` or ``scale`` whose square is a finite, normal float64 (below
it the square underflows: ``sqrt(t**2 + eps**2) - eps`` is then ``-eps`` at 0 and its gradient
0/0; above it the square overflows)."""


MAX_ENTRIES = 10**8
"""The largest array a constructor allocates, in entries (800 MB in float64): the sizes ``d``,
``n``, ``m`` must lie in ``[minimum, MAX_ENTRIES]``, and a dense matrix (a rotated problem's
``d x d`` rotation, logistic regression's ``n x d`` data, log-sum-exp's ``m x d`` rows) may hold
at most ``MAX_ENTRIES`` entries. Larger sizes are refused naming the size, before any
allocation (a module constant: raise it to go further)."""


class Problem:
    """Base class: shape checks, batching contract and ``describe()``; subclasses supply the maths
    through ``_value`` (``(..., d) -> (...)``), ``_grad`` and ``_hessian`` (one point)."""

    def __init__(self, name: str, params: dict, d: int, L: float, mu: Optional[float]):
        L = float(L)
        mu = None if mu is None else float(mu)
        if not _TINY <= L <= _HUGE:
            raise ValueError(f"{name}: the smoothness constant L = {L!r} must lie in "
                             f"[{_TINY:.4g}, {_HUGE:.4g}] (a finite, normal float64); the "
                             f"parameters {params} make it overflow or underflow")
        if mu is not None and not (mu == 0 or _TINY <= mu <= L):
            raise ValueError(f"{name}: the strong-convexity constant mu = {mu!r} must be 0 or lie "
                             f"in [{_TINY:.4g}, L = {L:.4g}]; the parameters {params} make it "
                             "overflow or underflow")
        self.name = name
        self.params = params
        self.d = d
        self.L = L
        self.mu = mu
        self.x_star: Optional[np.ndarray] = None
        self.f_star: Optional[float] = None
        self.x_star_source = ""

    def _set_minimum(self, x_star: Optional[np.ndarray], f_star: Optional[float], source: str):
        if x_star is not None:
            x_star = np.array(x_star, dtype=float)
            if not np.all(np.isfinite(x_star)):
                raise ValueError(f"{self.name}: the minimiser x_star overflowed ({source}); the "
                                 f"parameters {self.params} are out of the representable range")
            x_star.setflags(write=False)
        if f_star is not None and not np.isfinite(f_star):
            raise ValueError(f"{self.name}: the minimum f_star = {f_star!r} is not finite "
                             f"({source}); the parameters {self.params} are out of the "
                             "representable range")
        self.x_star, self.f_star, self.x_star_source = x_star, f_star, source

    def _check_x(self, x) -> tuple:
        """``x`` as a floating array of shape ``(..., d)`` and the problem in its dtype."""
        x = as_floating(x, "x")
        if x.ndim == 0 or x.shape[-1] != self.d:
            raise ValueError(f"x must have shape (..., {self.d}) (last axis = d = {self.d}) for "
                             f"problem {self.name!r}, got shape {x.shape}")
        return x, self.in_dtype(x.dtype)

    def in_dtype(self, dtype) -> Problem:
        r"""This problem with its array constants (:math:`x^\star`, matrices, weights, data) in
        ``dtype``, so a float32 ``x`` is evaluated in float32 (cached; float64 gives the problem
        itself). The stated constants ``L``, ``mu`` and ``f_star`` are those of the float64
        problem."""
        dtype = np.dtype(dtype)
        if dtype == np.float64:
            return self
        twins = self.__dict__.setdefault("_twins", {})
        if dtype not in twins:
            twin = copy.copy(self)
            for name, value in vars(self).items():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                    setattr(twin, name, value.astype(dtype))
            twin._twins = {dtype: twin}
            twins[dtype] = twin
        return twins[dtype]

    def value(self, x) -> np.ndarray:
        """:math:`f(x)` for ``x`` of shape ``(..., d)``; returns shape ``(...)``, in ``x``'s
        floating dtype (float64 for others)."""
        x, problem = self._check_x(x)
        return problem._value(x)

    def grad(self, x) -> np.ndarray:
        r""":math:`\nabla f(x)` for ``x`` of shape ``(..., d)``; returns shape ``(..., d)``."""
        x, problem = self._check_x(x)
        return problem._grad(x)

    def value_and_grad(self, x) -> tuple:
        r"""``(value(x), grad(x))``, sharing the work both need (the runner's hot path)."""
        x, problem = self._check_x(x)
        return problem._value_and_grad(x)

    def _value_and_grad(self, x):
        return self._value(x), self._grad(x)

    def hessian(self, x) -> np.ndarray:
        r""":math:`\nabla^2 f(x)` at one point ``x`` of shape ``(d,)``; returns ``(d, d)``."""
        x, problem = self._check_x(x)
        if x.ndim != 1:
            raise ValueError(f"hessian takes one point x of shape ({self.d},), got {x.shape}")
        return problem._hessian(x)

    def describe(self) -> dict:
        """JSON-serialisable record: ``name`` and ``params`` rebuild the problem
        (:func:`make_problem`); ``L``, ``mu``, ``f_star``, ``x_star`` are the stated constants."""
        return {
            "name": self.name, "params": dict(self.params), "d": self.d, "L": self.L,
            "mu": self.mu, "f_star": self.f_star,
            "x_star": None if self.x_star is None else self.x_star.tolist(),
            "x_star_source": self.x_star_source,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, {self.params})"


# ----------------------------------------------------------------------------- separable family


@dataclass(frozen=True)
class ScalarProfile:
    r"""Scalar :math:`\rho` with :math:`\rho(0) = 0 = \min \rho`, its derivatives ``d1``, ``d2``
    (vectorised), :math:`\sup_t |\rho''(t)|` and :math:`\inf_t \rho''(t)`."""

    rho: Callable[[np.ndarray], np.ndarray]
    d1: Callable[[np.ndarray], np.ndarray]
    d2: Callable[[np.ndarray], np.ndarray]
    max_abs_curvature: float
    min_curvature: float
    quadratic: bool = False
    r"""``rho = t^2/2`` exactly: a rotated problem is then evaluated with its Hessian matrix
    :math:`H = Q \operatorname{diag}(w) Q^\top`, one matrix product instead of two."""


class SeparableProblem(Problem):
    r""":math:`f(x) = \sum_i w_i \rho(t_i)`, :math:`t = Q^\top (x - x^\star)`; minimum
    :math:`f^\star = 0` at :math:`x^\star` (global, as :math:`\rho \ge 0` vanishes only at 0)."""

    def __init__(self, name: str, params: dict, profile: ScalarProfile, weights: np.ndarray,
                 x_star: np.ndarray, rotation: Optional[np.ndarray], x_star_source: str):
        weights = np.asarray(weights, dtype=float)
        L = weights.max() * profile.max_abs_curvature
        mu = weights.min() * profile.min_curvature if profile.min_curvature >= 0 else None
        super().__init__(name, params, weights.size, L, mu)
        self.profile, self.weights, self.rotation = profile, weights, rotation
        self._matrix = None
        if profile.quadratic and rotation is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                hess = (rotation * weights) @ rotation.T
                self._matrix = 0.5 * (hess + hess.T)
            if not np.all(np.isfinite(self._matrix)):
                raise ValueError(f"{name}: the Hessian matrix Q diag(w) Q^T overflows (L = {L:.4g}"
                                 f"); L must be at most about {_HUGE / 2:.4g} (the largest "
                                 f"eigenvalue; entries of H + H^T reach 2L), with parameters "
                                 f"{params}")
        self._set_minimum(x_star, 0.0, x_star_source)

    def _coords(self, x: np.ndarray) -> np.ndarray:
        shifted = x - self.x_star
        return shifted if self.rotation is None else shifted @ self.rotation

    def _from_coords(self, v: np.ndarray) -> np.ndarray:
        return v if self.rotation is None else v @ self.rotation.T

    def _value(self, x):
        if self._matrix is not None:
            return self._value_and_grad(x)[0]
        return np.sum(self.weights * self.profile.rho(self._coords(x)), axis=-1)

    def _grad(self, x):
        if self._matrix is not None:
            return self._value_and_grad(x)[1]
        return self._from_coords(self.weights * self.profile.d1(self._coords(x)))

    def _value_and_grad(self, x):
        r"""With the Hessian matrix: :math:`g = H s`, :math:`f = \tfrac12 s^\top g`,
        :math:`s = x - x^\star`."""
        if self._matrix is not None:
            shifted = x - self.x_star
            grad = shifted @ self._matrix
            return 0.5 * np.vecdot(shifted, grad), grad
        t = self._coords(x)
        return (np.sum(self.weights * self.profile.rho(t), axis=-1),
                self._from_coords(self.weights * self.profile.d1(t)))

    def _hessian(self, x):
        curvature = self.weights * self.profile.d2(self._coords(x))
        if self.rotation is None:
            return np.diag(curvature)
        hess = (self.rotation * curvature) @ self.rotation.T
        return 0.5 * (hess + hess.T)


def _check_size(name: str, value, minimum: int) -> int:
    """A dimension or sample count in ``[minimum, MAX_ENTRIES]``, or an error naming ``name``."""
    return check_int(name, value, minimum, MAX_ENTRIES,
                     reason=f"MAX_ENTRIES = {MAX_ENTRIES:.0e}: a vector of at most 800 MB")


def _check_entries(what: str, entries: int, sizes: str) -> None:
    """Raise unless a dense matrix of ``entries`` entries fits in ``MAX_ENTRIES``."""
    if entries > MAX_ENTRIES:
        raise ValueError(f"{sizes}: {what} would hold {entries} entries, more than MAX_ENTRIES = "
                         f"{MAX_ENTRIES:.0e} (800 MB in float64); lower the sizes")


def _haar_orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    """Haar-distributed orthogonal matrix: QR of a Gaussian with the signs of diag(R) fixed."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _vector_param(name: str, value, d: int) -> np.ndarray:
    arr = check_real(name, value)
    if arr.shape != (d,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite array of shape (d,) = ({d},), got {value!r}")
    return arr


def _separable(name: str, profile: ScalarProfile, params: dict, weights) -> SeparableProblem:
    r"""Shared factory path: validate ``d``, ``seed``, ``x_star``; draw :math:`x^\star` (unless
    given) and then :math:`Q` (if ``rotate``) from ``default_rng(seed)``."""
    d = params["d"] = _check_size("d", params["d"], 2)
    seed = params["seed"] = check_int("seed", params["seed"], 0)
    if params["rotate"]:
        _check_entries("the rotation Q (d x d)", d * d, f"d = {d}, rotate = True")
    rng = np.random.default_rng(seed)
    if params["x_star"] is None:
        x_star, source = rng.standard_normal(d), f"drawn from default_rng({seed})"
    else:
        x_star, source = _vector_param("x_star", params["x_star"], d), "given"
        params["x_star"] = x_star.tolist()
    rotation = _haar_orthogonal(rng, d) if params["rotate"] else None
    return SeparableProblem(name, params, profile, weights, x_star, rotation,
                            source + "; exact (f >= 0 = f(x_star))")


def _weights_param(weights, d) -> np.ndarray:
    if weights is None:
        return np.ones(d)
    weights = _vector_param("weights", weights, d)
    check_positive("weights", weights)
    return weights


def _quadratic_profile() -> ScalarProfile:
    return ScalarProfile(lambda t: 0.5 * t**2, lambda t: t, np.ones_like, 1.0, 1.0,
                         quadratic=True)


_GEOMSPACE_MAX = _HUGE * (1 - 1e-9)
"""The largest ``mu * cond`` of a geometric spectrum: ``np.geomspace`` computes its end point as
``10**log10(mu * cond)`` (then sets it exactly), and that rounding (relative error ~1e-13)
overflows within ~1e-13 of the float64 maximum; 1e-9 keeps a wide margin."""


def quadratic(d: int, cond: Optional[float] = None, *, spectrum: str = "geometric",
              rotate: bool = True, seed: int = 0, x_star=None, mu: Optional[float] = None,
              eigenvalues=None) -> SeparableProblem:
    r""":math:`f(x) = \tfrac12 (x - x^\star)^\top A (x - x^\star)`, :math:`A = Q \Lambda Q^\top`.

    The spectrum runs from :math:`\mu` to :math:`\mu\,\kappa` (``cond`` :math:`= \kappa`, default
    10; ``mu`` default 1), ``geometric`` (:math:`\mu \kappa^{(i-1)/(d-1)}`) or ``linear``; or is
    given as ``eigenvalues`` (all :math:`\ge 0`, some :math:`> 0`; then ``cond`` and ``mu`` must
    be left unset). :math:`L = \lambda_{\max}`, :math:`\mu = \lambda_{\min}`, :math:`f^\star = 0`.
    Allowed: ``mu`` a normal float64, ``cond`` in :math:`[1, M/\mu]` with :math:`M` the float64
    maximum (:math:`M (1 - 10^{-9})` for the geometric spectrum: ``_GEOMSPACE_MAX``).
    """
    d = _check_size("d", d, 2)
    check_choice("spectrum", spectrum, ("geometric", "linear"))
    rotate = check_bool("rotate", rotate)
    if eigenvalues is None:
        cond = 10.0 if cond is None else check_scalar("cond", cond)
        mu = 1.0 if mu is None else check_scalar("mu", check_positive("mu", mu))
        if not (np.isfinite(cond) and cond >= 1):
            raise ValueError(f"cond must be finite and >= 1 (allowed range [1, inf)), got {cond!r}")
        if not _TINY <= mu <= _HUGE:
            raise ValueError(f"mu must lie in [{_TINY:.4g}, {_HUGE:.4g}] (a normal float64, so "
                             f"that 1/mu is finite), got {mu!r}")
        top = _GEOMSPACE_MAX if spectrum == "geometric" else _HUGE
        if not mu * cond <= top:
            margin = (", with a margin of 1e-9 for np.geomspace's 10**log10(mu * cond)"
                      if spectrum == "geometric" else "")
            raise ValueError(f"cond must lie in [1, {top / mu:.4g}] for mu = {mu!r} (so that "
                             f"L = mu * cond <= {top:.4g} is finite{margin}), got cond = {cond!r}")
        spaced = np.geomspace if spectrum == "geometric" else np.linspace
        weights = spaced(mu, mu * cond, d)
    else:
        if cond is not None or mu is not None:
            raise ValueError("eigenvalues fixes the spectrum: leave cond and mu unset (None), got "
                             f"cond={cond!r}, mu={mu!r}")
        weights = _vector_param("eigenvalues", eigenvalues, d)
        if np.any(weights < 0) or not np.any(weights > 0):
            raise ValueError(f"eigenvalues must be >= 0 with at least one > 0, got {eigenvalues!r}")
        eigenvalues = weights.tolist()
    params = {"d": d, "cond": cond, "spectrum": spectrum, "rotate": rotate, "seed": seed,
              "x_star": x_star, "mu": mu, "eigenvalues": eigenvalues}
    return _separable("quadratic", _quadratic_profile(), params, weights)


def _scale_range(name: str, value: float, low: float, high: float, why: str) -> float:
    """Raise unless ``low <= value <= high`` (``why`` says what the range keeps finite)."""
    if not low <= value <= high:
        raise ValueError(f"{name} must lie in [{low:.4g}, {high:.4g}] ({why}), got {value!r}")
    return value


def huber(d: int = 10, *, delta: float = 1.0, seed: int = 0, x_star=None, weights=None,
          rotate: bool = False) -> SeparableProblem:
    r""":math:`\sum_i w_i h_\delta(t_i)`, :math:`h_\delta(t) = t^2/2` for :math:`|t| \le \delta`,
    :math:`\delta(|t| - \delta/2)` outside. Convex, :math:`h_\delta'' \in \{0, 1\}`, so
    :math:`L = \max_i w_i` and :math:`\mu = 0` (not strongly convex). Default :math:`w = 1`."""
    delta = check_positive("delta", check_scalar("delta", delta))
    def rho(t):
        # each branch computed only where np.where keeps it (the other sees 0, resp. delta / 2):
        # for a huge delta, delta * (|t| - delta / 2) would overflow inside |t| <= delta, and for
        # a huge t, t^2 outside it
        inside = np.abs(t) <= delta
        return np.where(inside, 0.5 * np.where(inside, t, 0.0) ** 2,
                        delta * (np.where(inside, 0.5 * delta, np.abs(t)) - 0.5 * delta))

    profile = ScalarProfile(
        rho,
        lambda t: np.clip(t, -delta, delta),
        lambda t: (np.abs(t) <= delta).astype(float),
        1.0, 0.0)
    w = _weights_param(weights, _check_size("d", d, 2))
    rotate = check_bool("rotate", rotate)
    params = {"d": d, "delta": delta, "seed": seed, "x_star": x_star,
              "weights": None if weights is None else w.tolist(), "rotate": rotate}
    return _separable("huber", profile, params, w)


def smoothed_abs(d: int = 10, *, eps: float = 0.1, seed: int = 0, x_star=None, weights=None,
                 rotate: bool = False) -> SeparableProblem:
    r""":math:`\sum_i w_i (\sqrt{t_i^2 + \varepsilon^2} - \varepsilon)`;
    :math:`\rho'' = \varepsilon^2 / (t^2 + \varepsilon^2)^{3/2} \in (0, 1/\varepsilon]`, so
    :math:`L = \max_i w_i / \varepsilon` and :math:`\mu = 0` (:math:`\rho'' \to 0` as
    :math:`|t| \to \infty`)."""
    eps = check_positive("eps", check_scalar("eps", eps))
    w = _weights_param(weights, _check_size("d", d, 2))
    rotate = check_bool("rotate", rotate)
    w_max = float(w.max())   # Python floats: max(weights) / TINY overflows to inf, no upper bound
    _scale_range("eps", eps, max(w_max / _HUGE, _ROOT_TINY), min(w_max / _TINY, _ROOT_HUGE),
                 "so that L = max(weights) / eps and eps**2 are finite, normal float64s")
    profile = ScalarProfile(
        lambda t: np.sqrt(t**2 + eps**2) - eps,
        lambda t: t / np.sqrt(t**2 + eps**2),
        lambda t: eps**2 / (t**2 + eps**2) ** 1.5,
        1.0 / eps, 0.0)
    params = {"d": d, "eps": eps, "seed": seed, "x_star": x_star,
              "weights": None if weights is None else w.tolist(), "rotate": rotate}
    return _separable("smoothed_abs", profile, params, w)


def cauchy_loss(d: int = 10, *, scale: float = 1.0, seed: int = 0, x_star=None, weights=None,
                rotate: bool = False) -> SeparableProblem:
    r""":math:`\sum_i w_i \log(1 + t_i^2/s^2)`, non-convex:
    :math:`\rho'' = 2(s^2 - t^2)/(s^2 + t^2)^2 \in [-1/(4 s^2), 2/s^2]` (minimum at
    :math:`t^2 = 3 s^2`), so :math:`L = 2 \max_i w_i / s^2`, ``mu = None``, :math:`f^\star = 0`."""
    s = check_positive("scale", check_scalar("scale", scale))
    w = _weights_param(weights, _check_size("d", d, 2))
    rotate = check_bool("rotate", rotate)
    # sqrt(2 w / HUGE) and sqrt(2 w / TINY) = sqrt(2 w) 2^511 (TINY = 2^-1022) without an
    # overflowing intermediate; bit for bit the direct formulas wherever those do not overflow
    w_max = float(w.max())
    root_2w = math.sqrt(2 * w_max) if w_max <= _HUGE / 2 else 2 * math.sqrt(w_max / 2)
    _scale_range("scale", s, max(math.sqrt(w_max / (_HUGE / 2)), _ROOT_TINY),
                 min(math.ldexp(root_2w, 511), _ROOT_HUGE),
                 "so that L = 2 max(weights) / scale^2 and scale^2 are finite, normal float64s")
    profile = ScalarProfile(
        lambda t: np.log1p((t / s) ** 2),
        lambda t: 2.0 * t / (s**2 + t**2),
        lambda t: 2.0 * (s**2 - t**2) / (s**2 + t**2) ** 2,
        2.0 / s**2, -1.0 / (4.0 * s**2))
    params = {"d": d, "scale": s, "seed": seed, "x_star": x_star,
              "weights": None if weights is None else w.tolist(), "rotate": rotate}
    return _separable("cauchy_loss", profile, params, w)


def cosine_bowl(d: int = 10, *, a: float = 1.0, w: float = 2.0, seed: int = 0, x_star=None,
                weights=None, rotate: bool = False) -> SeparableProblem:
    r""":math:`\sum_i w_i [t_i^2/2 + a (1 - \cos(\omega t_i))]` (``w`` :math:`= \omega`):
    :math:`\rho'' = 1 + a\omega^2 \cos(\omega t) \in [1 - a\omega^2, 1 + a\omega^2]`, so
    :math:`L = \max_i w_i (1 + a\omega^2)`; non-convex (``mu = None``) iff :math:`a\omega^2 > 1`
    (default :math:`a\omega^2 = 4`). Global minimum :math:`f^\star = 0` at :math:`x^\star` since
    :math:`\rho(t) \ge t^2/2`."""
    a = check_positive("a", check_scalar("a", a))
    omega = check_positive("w", check_scalar("w", w))
    weights_arr = _weights_param(weights, _check_size("d", d, 2))
    rotate = check_bool("rotate", rotate)
    with np.errstate(over="ignore"):
        curvature = float(np.float64(a) * np.float64(omega) ** 2)  # inf, not OverflowError
    w_max = float(weights_arr.max())   # Python floats: an overflow gives inf, not a warning
    if not w_max * (1.0 + curvature) <= _HUGE:
        raise ValueError(f"a * w**2 must be at most {_HUGE / w_max - 1:.4g} (so that "
                         f"L = max(weights) (1 + a w^2) is finite), got a = {a!r}, w = {omega!r}")
    profile = ScalarProfile(
        lambda t: 0.5 * t**2 + a * (1.0 - np.cos(omega * t)),
        lambda t: t + a * omega * np.sin(omega * t),
        lambda t: 1.0 + curvature * np.cos(omega * t),
        1.0 + curvature, 1.0 - curvature)
    params = {"d": d, "a": a, "w": omega, "seed": seed, "x_star": x_star,
              "weights": None if weights is None else weights_arr.tolist(), "rotate": rotate}
    return _separable("cosine_bowl", profile, params, weights_arr)


# ----------------------------------------------------------------------------- composite family


@dataclass(frozen=True)
class OuterLoss:
    r"""Outer loss :math:`\phi(z)` over the last axis with gradient, Hessian at one point and
    :math:`c_\phi = \sup_z \|\nabla^2 \phi(z)\|_2`."""

    value: Callable[[np.ndarray], np.ndarray]
    grad: Callable[[np.ndarray], np.ndarray]
    hessian: Callable[[np.ndarray], np.ndarray]
    max_curvature: float


def _mean_softplus(n: int) -> OuterLoss:
    r""":math:`\phi(z) = \frac1n \sum_i \log(1 + e^{z_i})`; :math:`\phi'' = \sigma(1-\sigma)/n
    \le 1/(4n)`."""
    def hessian(z):
        s = expit(z)
        return np.diag(s * (1.0 - s) / n)
    return OuterLoss(lambda z: np.mean(np.logaddexp(0.0, z), axis=-1),
                     lambda z: expit(z) / n, hessian, 0.25 / n)


def _log_sum_exp() -> OuterLoss:
    r""":math:`\phi(z) = \log \sum_i e^{z_i}`; :math:`\nabla^2 \phi = \operatorname{diag}(p) -
    p p^\top` with :math:`p = \operatorname{softmax}(z)`, whose largest eigenvalue is a variance
    :math:`\operatorname{Var}_p(v) \le (\max v - \min v)^2/4 \le 1/2` for unit :math:`v`."""
    def hessian(z):
        p = softmax(z)
        return np.diag(p) - np.outer(p, p)
    return OuterLoss(lambda z: logsumexp(z, axis=-1), lambda z: softmax(z, axis=-1), hessian, 0.5)


class CompositeProblem(Problem):
    r""":math:`f(x) = \phi(A x - b) + \tfrac{r}{2}\|x\|^2`, :math:`L = c_\phi \|A\|_2^2 + r`,
    :math:`\mu = r`. With ``has_minimiser`` the minimiser is computed by Newton's method to
    :math:`\|\nabla f\| \le 10^{-12} \max(1, \|A\|_2)`; otherwise ``f_star = infimum``."""

    def __init__(self, name: str, params: dict, outer: OuterLoss, A: np.ndarray, b: np.ndarray,
                 reg: float, has_minimiser: bool, infimum: Optional[float] = None,
                 no_minimiser_reason: str = ""):
        self.outer, self.A, self.b, self.reg = outer, A, b, float(reg)
        norm_A = np.linalg.norm(A, 2)
        with np.errstate(over="ignore"):
            L = outer.max_curvature * norm_A**2 + reg
        super().__init__(name, params, A.shape[1], L, reg)
        if has_minimiser:
            x_star, grad_norm, iters = self._newton(NEWTON_GRAD_TOL * norm_A)
            self._set_minimum(x_star, float(self._value(x_star)),
                              f"computed numerically: Newton's method from 0, {iters} iterations, "
                              f"||grad f(x_star)|| = {grad_norm:.1e}")
        else:
            self._set_minimum(None, infimum, f"no minimiser ({no_minimiser_reason}); "
                                             "f_star is the infimum")

    def _value(self, x):
        return self.outer.value(x @ self.A.T - self.b) + 0.5 * self.reg * np.sum(x**2, axis=-1)

    def _grad(self, x):
        return self.outer.grad(x @ self.A.T - self.b) @ self.A + self.reg * x

    def _value_and_grad(self, x):
        z = x @ self.A.T - self.b
        return (self.outer.value(z) + 0.5 * self.reg * np.sum(x**2, axis=-1),
                self.outer.grad(z) @ self.A + self.reg * x)

    def _hessian(self, x):
        outer_hessian = self.outer.hessian(self.A @ x - self.b)
        return self.A.T @ outer_hessian @ self.A + self.reg * np.eye(self.d)

    def _newton(self, tol: float, max_iter: int = 100):
        r"""Damped Newton from 0: a step :math:`x - t H^{-1} g` is accepted under Armijo's condition
        or when it halves :math:`\|g\|` (value differences are at rounding level near the
        minimum)."""
        x = np.zeros(self.d)
        for iteration in range(max_iter):
            g = self._grad(x)
            grad_norm = np.linalg.norm(g)
            if grad_norm <= tol:
                return x, grad_norm, iteration
            step = np.linalg.solve(self._hessian(x), g)
            f0, slope, t = self._value(x), g @ step, 1.0
            while t > 1e-10:
                trial = x - t * step
                if (self._value(trial) <= f0 - 1e-4 * t * slope
                        or np.linalg.norm(self._grad(trial)) <= 0.5 * grad_norm):
                    break
                t *= 0.5
            x = trial
        raise RuntimeError(f"Newton's method did not reach ||grad|| <= {tol:.1e} in {max_iter} "
                           f"iterations for {self.name} {self.params} (||grad|| = {grad_norm:.1e})")


def _check_reg(reg) -> float:
    reg = check_scalar("reg", reg)
    if not (np.isfinite(reg) and reg >= 0):
        raise ValueError(f"reg must be finite and >= 0 (allowed range [0, inf)), got {reg!r}")
    if 0 < reg < _TINY:
        raise ValueError(f"reg must be 0 or lie in [{_TINY:.4g}, {_HUGE:.4g}] (a normal float64, "
                         f"so that 1/mu = 1/reg is finite), got {reg!r}")
    return reg


def _check_curvature_sum(curvature: float, reg: float) -> None:
    """``L = curvature + reg`` must not overflow (``reg`` is the parameter a user can push)."""
    if not curvature + reg <= _HUGE:
        raise ValueError(f"reg must lie in [0, {_HUGE - curvature:.4g}] (so that L = "
                         f"{curvature:.4g} + reg is finite), got {reg!r}")


def _linearly_separable(margins_matrix: np.ndarray) -> bool:
    r"""Whether some :math:`v` has :math:`M v \le -1` row-wise (a linear program via HiGHS)."""
    n, d = margins_matrix.shape
    result = linprog(np.zeros(d), A_ub=margins_matrix, b_ub=-np.ones(n),
                     bounds=[(None, None)] * d, method="highs")
    return result.status == 0


def logistic_regression(n: int = 50, d: int = 10, *, reg: float = 1e-2, seed: int = 0,
                        separable: bool = False) -> CompositeProblem:
    r""":math:`f(x) = \frac1n \sum_i \log(1 + e^{-y_i a_i^\top x}) + \tfrac{r}{2}\|x\|^2` with
    :math:`a_i \sim N(0, I_d)`, :math:`w \sim N(0, I_d/d)` and labels
    :math:`y_i = \operatorname{sign}(a_i^\top w)` (``separable``) or
    :math:`y_i = \pm 1` with :math:`P(y_i = 1) = \sigma(a_i^\top w)`.

    :math:`L = \|X\|_2^2/(4n) + r` (attained at :math:`x = 0`), :math:`\mu = r`. With ``reg = 0``
    and linearly separable data (checked by a linear program) there is no minimiser:
    ``x_star = None``, ``f_star = 0`` (the infimum along a separating direction).
    """
    n = _check_size("n", n, 1)
    d = _check_size("d", d, 2)
    seed = check_int("seed", seed, 0)
    reg = _check_reg(reg)
    separable = check_bool("separable", separable)
    _check_entries("X (n x d)", n * d, f"n = {n}, d = {d}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    margins = X @ (rng.standard_normal(d) / np.sqrt(d))
    y = np.sign(margins) if separable else np.where(rng.random(n) < expit(margins), 1.0, -1.0)
    A = -y[:, None] * X
    _check_curvature_sum(0.25 / n * np.linalg.norm(A, 2) ** 2, reg)
    has_minimiser = reg > 0 or not _linearly_separable(A)
    params = {"n": n, "d": d, "reg": reg, "seed": seed, "separable": separable}
    return CompositeProblem("logistic_regression", params, _mean_softplus(n), A, np.zeros(n), reg,
                            has_minimiser, infimum=0.0,
                            no_minimiser_reason="data linearly separable and reg = 0")


LSE_NORM_RANGE = (2.0**-500, 2.0**500)
r"""The allowed range of :math:`\|A\|_2` in :func:`log_sum_exp` (its ``scale`` range follows)."""


def log_sum_exp(d: int = 10, m: int = 20, *, scale: float = 1.0, seed: int = 0,
                reg: float = 0.0) -> CompositeProblem:
    r""":math:`f(x) = \log \sum_{i=1}^m \exp(a_i^\top x - b_i) + \tfrac{r}{2}\|x\|^2` with rows
    :math:`a_i` = ``scale`` times centred Gaussians (:math:`\sum_i a_i = 0`) and
    :math:`b \sim N(0, I_m)`.

    Centred rows spanning :math:`\mathbb{R}^d` (needs :math:`m \ge d + 1` when ``reg = 0``) give
    every direction :math:`v \ne 0` some :math:`a_i^\top v > 0`, so :math:`f` is coercive and a
    minimiser exists. :math:`L = \|A\|_2^2/2 + r` (an upper bound), :math:`\mu = r`.
    """
    d = _check_size("d", d, 2)
    m = _check_size("m", m, 2)
    seed = check_int("seed", seed, 0)
    _check_entries("A (m x d)", m * d, f"m = {m}, d = {d}")
    scale = check_positive("scale", check_scalar("scale", scale))
    reg = _check_reg(reg)
    if reg == 0 and m < d + 1:
        raise ValueError(f"m must be >= d + 1 = {d + 1} when reg = 0 (the centred rows must span "
                         f"R^d for a minimiser to exist), got m = {m}")
    rng = np.random.default_rng(seed)
    gaussian = rng.standard_normal((m, d))
    centred = gaussian - gaussian.mean(axis=0)
    unit_norm = float(np.linalg.norm(centred, 2))
    _scale_range("scale", scale, LSE_NORM_RANGE[0] / unit_norm, LSE_NORM_RANGE[1] / unit_norm,
                 f"so that ||A||_2 = scale * {unit_norm:.6g} (d = {d}, m = {m}, seed = {seed}) "
                 f"lies in [2^-500, 2^500]: L = ||A||^2/2 + reg, Newton's Hessian and the "
                 f"minimiser ~ 1/||A|| stay finite and nonzero")
    A = scale * centred
    _check_curvature_sum(0.5 * np.linalg.norm(A, 2) ** 2, reg)
    b = rng.standard_normal(m)
    params = {"d": d, "m": m, "scale": scale, "seed": seed, "reg": reg}
    return CompositeProblem("log_sum_exp", params, _log_sum_exp(), A, b, reg, has_minimiser=True)


# ----------------------------------------------------------------------------- stacked runs


class StackedProblem:
    r"""Runs on several problems of one dimension as one batch: row ``i`` of ``x`` (shape
    ``(B, d)``) is evaluated by ``problems[assignment[i]]``, and :math:`f^\star` is per row.

    :func:`emc_theory.runner.minimize` takes it like any problem and narrows it with
    :meth:`select` when it drops stopped runs, so runs on different problems (e.g. a claim's grid
    over test functions) share one array program and one loop."""

    def __init__(self, problems, assignment):
        self.problems = list(problems)
        if not self.problems:
            raise ValueError("problems must be non-empty")
        dims = {p.d for p in self.problems}
        if len(dims) != 1:
            raise ValueError(f"stacked problems must share the dimension d, got {sorted(dims)}")
        self.assignment = np.asarray(assignment)
        if (self.assignment.ndim != 1 or not np.issubdtype(self.assignment.dtype, np.integer)
                or np.any(self.assignment < 0) or np.any(self.assignment >= len(self.problems))):
            raise ValueError(f"assignment must be a 1-d array of problem indices in "
                             f"[0, {len(self.problems) - 1}], got {assignment!r}")
        self.d = dims.pop()
        self.name = "stack"
        self.L = max(p.L for p in self.problems)
        if any(p.f_star is None for p in self.problems):
            raise ValueError("stacked problems need a known f_star each")
        self.f_star = np.array([p.f_star for p in self.problems])[self.assignment]
        self._groups = []
        for i, problem in enumerate(self.problems):
            rows = np.flatnonzero(self.assignment == i)
            if rows.size == 0:
                continue
            if rows[-1] - rows[0] + 1 == rows.size:   # contiguous: views, no copies
                rows = slice(int(rows[0]), int(rows[-1]) + 1)
            self._groups.append((problem, rows))

    def value_and_grad(self, x):
        """Per-row ``(value, grad)`` of ``x`` of shape ``(B, d)``, each row by its problem."""
        x = as_floating(x, "x")
        if x.shape != (self.assignment.size, self.d):
            raise ValueError(f"x must have shape ({self.assignment.size}, {self.d}) (one row per "
                             f"stacked run), got {x.shape}")
        value, grad = np.empty(x.shape[0]), np.empty_like(x)
        for problem, rows in self._groups:
            value[rows], grad[rows] = problem.value_and_grad(x[rows])
        return value, grad

    def value(self, x):
        return self.value_and_grad(x)[0]

    def grad(self, x):
        return self.value_and_grad(x)[1]

    def select(self, keep) -> StackedProblem:
        """The stack of the runs ``keep`` (an index or mask over the rows)."""
        return StackedProblem(self.problems, self.assignment[keep])

    def describe(self) -> dict:
        """The stacked problems' records and each row's problem index."""
        return {"name": self.name, "problems": [p.describe() for p in self.problems],
                "assignment": self.assignment.tolist(), "d": self.d}


# ----------------------------------------------------------------------------- registry

FACTORIES: dict[str, Callable[..., Problem]] = {
    "quadratic": quadratic,
    "logistic_regression": logistic_regression,
    "log_sum_exp": log_sum_exp,
    "huber": huber,
    "smoothed_abs": smoothed_abs,
    "cauchy_loss": cauchy_loss,
    "cosine_bowl": cosine_bowl,
}
PROBLEM_NAMES = tuple(FACTORIES)


def make_problem(spec: dict) -> Problem:
    """Rebuild a problem from ``describe()`` output (e.g. a counterexample read back from JSON).

    If ``spec`` states ``L`` or ``mu``, the rebuilt problem must agree (relative 1e-9), so a record
    written by a different version of this module is refused rather than silently replayed.
    """
    if not isinstance(spec, dict) or "name" not in spec or "params" not in spec:
        raise ValueError("spec must be a dict with keys 'name' and 'params' (describe() output), "
                         f"got {spec!r}")
    check_choice("spec['name']", spec["name"], FACTORIES)
    problem = FACTORIES[spec["name"]](**spec["params"])
    for key in ("L", "mu"):
        if key in spec:
            stated, rebuilt = spec[key], getattr(problem, key)
            if (stated is None) != (rebuilt is None) or (
                    stated is not None and not np.isclose(stated, rebuilt, rtol=1e-9, atol=0)):
                raise ValueError(f"spec[{key!r}] = {stated!r} does not match the rebuilt problem's "
                                 f"{key} = {rebuilt!r}")
    return problem
