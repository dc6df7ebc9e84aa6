r"""Shared code of the companion claims DL1 and DL2 (Papazov, Pesme & Flammarion, momentum on
2-layer diagonal linear networks; seed ``002_b6e316ebb5bc5295.txt``).

The model is the diagonal linear network in the parametrisation
:math:`\beta(w) = u \odot u - v \odot v`, :math:`w = (u, v) \in \mathbb{R}^{2d}`, started at
:math:`u = v = \alpha \mathbf{1}` (so :math:`\beta(w_0) = 0`), trained on the square loss

.. math:: F(w) = \frac{1}{2n}\|X\beta(w) - y\|^2,\qquad
          \nabla_u F = 2u \odot r,\ \nabla_v F = -2v \odot r,\ r = \tfrac1n X^\top(X\beta - y),

of an overparametrised sparse regression (:math:`n < d`, Gaussian :math:`X`,
:math:`y = X\beta^\star` with an :math:`s`-sparse :math:`\beta^\star`). Every function is batched
over the leading axes of ``w``: several runs are one array program.

Momentum gradient descent is :class:`emc_theory.baselines.HeavyBall`
(:math:`v_k = \beta v_{k-1} + \nabla F(w_k)`, :math:`w_{k+1} = w_k - \gamma v_k`). With
:math:`\lambda = \gamma/(1-\beta)^2` and time :math:`t = k\gamma/(1-\beta) = k\lambda(1-\beta)`
its iterates approach the solution of :math:`\lambda \ddot w + \dot w + \nabla F(w) = 0`,
:math:`w(0) = w_0`, :math:`\dot w(0) = 0` (:func:`ode_path`). An EMC level with EMA momentum
:math:`m = \beta_k m + (1-\beta_k) g` and step :math:`\eta` is heavy ball with
:math:`\gamma = \eta(1-\beta_k)`, hence :math:`\lambda_k = \eta/(1-\beta_k) = \eta\,2^k`
(:func:`emc_level_lambdas`) on the common time scale :math:`t = k\eta`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import minimize_scalar

from emc_theory.baselines import HeavyBall
from emc_theory.cascade import level_betas
from emc_theory.emc import EMC
from emc_theory.validation import check_in_unit_interval, check_int, check_positive


@dataclass(frozen=True)
class SparseRegression:
    r"""Data of :math:`y = X\beta^\star`, :math:`X_{ij} \sim N(0, 1)`, :math:`\beta^\star` with
    ``sparsity`` entries :math:`\pm U(0.5, 1.5)` on a random support (all from ``seed``)."""

    n: int
    d: int
    sparsity: int
    seed: int
    X: np.ndarray
    y: np.ndarray
    beta_star: np.ndarray

    def describe(self) -> dict:
        return {"n": self.n, "d": self.d, "sparsity": self.sparsity, "seed": self.seed}


def sparse_regression(n: int = 20, d: int = 40, sparsity: int = 3, seed: int = 0):
    """The seeded overparametrised sparse regression of :class:`SparseRegression`."""
    n, d = check_int("n", n, 1), check_int("d", d, 2)
    sparsity = check_int("sparsity", sparsity, 1)
    if sparsity > d:
        raise ValueError(f"sparsity must be an integer in [1, d={d}], got {sparsity}")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    beta_star = np.zeros(d)
    support = rng.choice(d, sparsity, replace=False)
    beta_star[support] = rng.choice([-1.0, 1.0], sparsity) * rng.uniform(0.5, 1.5, sparsity)
    return SparseRegression(n, d, sparsity, int(seed), X, X @ beta_star, beta_star)


def problem_from_description(spec: dict) -> SparseRegression:
    """Inverse of :meth:`SparseRegression.describe` (the data are rebuilt from the seed)."""
    return sparse_regression(spec["n"], spec["d"], spec["sparsity"], spec["seed"])


def initial_point(d: int, alpha: float) -> np.ndarray:
    r""":math:`w_0 = (u_0, v_0) = \alpha\mathbf{1}_{2d}`, so :math:`\beta(w_0) = 0`."""
    return np.full(2 * check_int("d", d, 1), float(check_positive("alpha", alpha)))


def dln_beta(w) -> np.ndarray:
    r""":math:`\beta(w) = u\odot u - v\odot v` over the last axis of ``w = (u, v)``."""
    w = np.asarray(w, dtype=float)
    d = w.shape[-1] // 2
    return w[..., :d] ** 2 - w[..., d:] ** 2


def dln_loss_and_grad(problem: SparseRegression, w):
    r"""``(F(w), grad F(w))`` batched over the leading axes of ``w`` (shape ``(..., 2d)``)."""
    w = np.asarray(w, dtype=float)
    if w.shape[-1] != 2 * problem.d:
        raise ValueError(f"w must have last axis 2d = {2 * problem.d}, got shape {w.shape}")
    u, v = w[..., :problem.d], w[..., problem.d:]
    residual = (u * u - v * v) @ problem.X.T - problem.y
    loss = np.einsum("...i,...i->...", residual, residual) / (2 * problem.n)
    r = residual @ problem.X * (2.0 / problem.n)
    return loss, np.concatenate([u * r, -v * r], axis=-1)


def emc_level_lambdas(K: int, eta) -> np.ndarray:
    r""":math:`\lambda_k = \eta/(1-\beta_k) = \eta\,2^k` of EMC's levels, shape
    ``eta.shape + (K,)``."""
    return np.multiply.outer(np.asarray(eta, dtype=float), 1.0 / (1.0 - level_betas(K)))


def heavy_ball_for_lambdas(lambdas, momentum: float) -> HeavyBall:
    r"""Heavy ball with per-run steps :math:`\gamma = \lambda (1-\beta)^2` for each ``lambdas``."""
    check_in_unit_interval("momentum", momentum, open_right=True)
    lambdas = np.asarray(check_positive("lambdas", lambdas), dtype=float)
    return HeavyBall(lr=lambdas * (1.0 - momentum) ** 2, beta=float(momentum))


@dataclass
class DLNRun:
    """Outcome of :func:`run_dln` for a batch of B runs: final ``w`` (B, 2d), ``status``,
    ``stop_step`` and ``final_loss`` per run; ``path`` (steps+1, B, d) of :math:`\\beta` if
    recorded; ``weights`` (steps, B, K) and ``step_norm`` (steps, B) for EMC."""

    w: np.ndarray
    status: np.ndarray
    stop_step: np.ndarray
    final_loss: np.ndarray
    path: np.ndarray | None = None
    weights: np.ndarray | None = None
    step_norm: np.ndarray | None = None


def run_dln(optimizer, problem: SparseRegression, alpha, batch: int, steps: int, *,
            tol: float | None = None, record_path: bool = False) -> DLNRun:
    r"""Run ``optimizer`` (HeavyBall or EMC, per-run lr of shape ``(batch,)``) on the DLN from
    :math:`w_0 = \alpha\mathbf{1}` (``alpha`` a scalar or one per run, shape ``(batch,)``) for
    at most ``steps`` steps. A run stops (is frozen) once :math:`F(w) <` ``tol`` ("converged")
    or when :math:`F` is not finite ("diverged"; the gradient overflows only after :math:`F`
    does); otherwise it ends "max_steps". EMC's per-step cascade weights and step lengths are
    recorded."""
    steps = check_int("steps", steps, 1)
    batch = check_int("batch", batch, 1)
    if np.ndim(alpha) == 0:
        w = np.tile(initial_point(problem.d, alpha), (batch, 1))
    else:
        alphas = np.asarray(check_positive("alpha", alpha), dtype=float)
        if alphas.shape != (batch,):
            raise ValueError(f"alpha must be a scalar or one value per run, shape ({batch},); "
                             f"got shape {alphas.shape}")
        w = np.repeat(alphas[:, None], 2 * problem.d, axis=1)
    stop_below = -np.inf if tol is None else float(check_positive("tol", tol))
    state = optimizer.init(w)
    is_emc = isinstance(optimizer, EMC)
    live = np.ones(batch, dtype=bool)
    status = np.full(batch, "max_steps", dtype=object)
    stop_step = np.full(batch, steps)
    path = np.full((steps + 1, batch, problem.d), np.nan) if record_path else None
    weights = np.full((steps, batch, optimizer.K), np.nan) if is_emc else None
    step_norm = np.zeros((steps, batch)) if is_emc else None
    with np.errstate(over="ignore", invalid="ignore"):
        loss, grad = dln_loss_and_grad(problem, w)
        for k in range(steps + 1):
            if record_path:
                path[k] = dln_beta(w)
            finite = np.isfinite(loss)
            stopping = live & (~finite | (loss < stop_below))
            if stopping.any():
                status[stopping & finite] = "converged"
                status[stopping & ~finite] = "diverged"
                stop_step[stopping] = k
                live &= ~stopping
                if not live.any():
                    break
            if k == steps:
                break
            grad[~live] = 0.0
            if is_emc:
                updates, state, diag = optimizer.update_with_diagnostics(grad, state)
                weights[k] = diag.weights
            else:
                updates, state = optimizer.update(grad, state)
            updates[~live] = 0.0
            if is_emc:
                step_norm[k] = np.linalg.norm(updates, axis=-1)
            w = w + updates
            loss, grad = dln_loss_and_grad(problem, w)
    return DLNRun(w, status, stop_step, loss, path, weights, step_norm)


def sample_path(path: np.ndarray, time_step, times) -> np.ndarray:
    r"""Linear interpolation of recorded iterates ``path`` (steps+1, B, d), iterate ``k`` at time
    :math:`k h_b` (``time_step`` :math:`h_b` per run), at ``times``: shape (len(times), B, d)."""
    position = np.asarray(times, dtype=float)[:, None] / np.asarray(time_step, dtype=float)[None]
    if np.any(position > path.shape[0] - 1):
        raise ValueError("times must lie within the recorded path (0 <= t <= steps * time_step)")
    lower = np.minimum(np.floor(position).astype(int), path.shape[0] - 2)
    frac = (position - lower)[..., None]
    runs = np.arange(path.shape[1])[None]
    return (1 - frac) * path[lower, runs] + frac * path[lower + 1, runs]


def ode_path(problem: SparseRegression, alpha: float, lambdas, times, *, rtol: float = 1e-10,
             atol: float = 1e-12) -> np.ndarray:
    r""":math:`\beta(w(t))` at ``times`` for :math:`\lambda\ddot w + \dot w + \nabla F(w) = 0`,
    :math:`w(0) = \alpha\mathbf{1}`, :math:`\dot w(0) = 0`, for each of ``lambdas`` (one
    stacked system), integrated as the first-order system
    :math:`(\dot w, \dot p) = (p, -(p + \nabla F(w))/\lambda)` by DOP853: shape
    (len(times), len(lambdas), d)."""
    lam = np.asarray(check_positive("lambdas", lambdas), dtype=float).reshape(-1, 1)
    runs, dim = lam.shape[0], 2 * problem.d

    def rhs(_, z):
        w, p = z.reshape(2, runs, dim)
        return np.concatenate([p, -(p + dln_loss_and_grad(problem, w)[1]) / lam]).ravel()

    times = np.asarray(times, dtype=float)
    w0 = np.tile(initial_point(problem.d, alpha), (runs, 1))
    sol = solve_ivp(rhs, (0.0, times[-1]), np.concatenate([w0, np.zeros_like(w0)]).ravel(),
                    method="DOP853", t_eval=times, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed for lambdas={lam.ravel().tolist()}: {sol.message}")
    return dln_beta(sol.y.T.reshape(len(times), 2, runs, dim)[:, 0])


def path_distance(path_a, path_b) -> np.ndarray:
    r""":math:`\max_t \|\beta_a(t) - \beta_b(t)\|_2` over the time axis 0 (batched over the
    others)."""
    return np.linalg.norm(np.asarray(path_a) - np.asarray(path_b), axis=-1).max(axis=0)


def hyperbolic_entropy_solution(problem: SparseRegression, alpha: float, *,
                                max_iter: int = 200) -> np.ndarray:
    r"""The gradient-flow (:math:`\lambda \to 0`) limit from :math:`u_0 = v_0 = \alpha\mathbf{1}`
    in closed form (Woodworth et al., COLT 2020): :math:`\arg\min \sum_i \phi(\beta_i)` s.t.
    :math:`X\beta = y`, :math:`\phi(b) = b\,\mathrm{arcsinh}(b/2\alpha^2) - \sqrt{b^2 + 4\alpha^4}
    + 2\alpha^2` (gradient flow keeps :math:`\beta = 2\alpha^2\sinh(X^\top\mu)`). Newton on the
    dual optimality condition :math:`X\,2\alpha^2\sinh(X^\top\mu) = y` (the gradient of the
    convex :math:`D(\mu) = 2\alpha^2\sum_i\cosh((X^\top\mu)_i) - y^\top\mu`), backtracking on
    :math:`\|\nabla D\|` (the Newton direction always decreases it); the tolerance is on
    :math:`\|X\beta - y\|`."""
    scale = 2.0 * float(check_positive("alpha", alpha)) ** 2
    X, y = problem.X, problem.y
    tol = 1e-12 * (1 + np.linalg.norm(y))

    def residual(mu):
        beta = scale * np.sinh(X.T @ mu)
        return beta, X @ beta - y

    mu = np.zeros(problem.n)
    beta, gap = residual(mu)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(max_iter):
            norm = np.linalg.norm(gap)
            if norm <= tol:
                return beta
            step = np.linalg.solve((X * np.sqrt(beta**2 + scale**2)) @ X.T, gap)
            t = 1.0
            while t > 1e-12:
                trial_beta, trial_gap = residual(mu - t * step)
                if np.linalg.norm(trial_gap) < (1 - t / 4) * norm:  # NaN / inf compare False
                    break
                t *= 0.5
            else:
                break
            mu, beta, gap = mu - t * step, trial_beta, trial_gap
    raise RuntimeError(f"the dual of the hyperbolic-entropy problem (alpha={alpha}) was not "
                       f"solved: ||X beta - y|| = {np.linalg.norm(gap):.2e}")


def effective_alpha(problem: SparseRegression, beta, bounds=(0.02, 0.5)) -> tuple:
    r"""The :math:`\alpha_{\mathrm{eff}}` whose hyperbolic-entropy solution is closest to ``beta``
    (bounded scalar search in :math:`\log\alpha`); returns ``(alpha_eff, distance)``."""
    def distance(log_alpha):
        return np.linalg.norm(hyperbolic_entropy_solution(problem, np.exp(log_alpha)) - beta)

    res = minimize_scalar(distance, bounds=np.log(bounds), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x)), float(res.fun)
