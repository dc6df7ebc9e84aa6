# ---
# jupyter:
#   course:
#     minutes: 75
#     prerequisites:
#     - Lecture 1
#     - linear recurrences and the spectral radius of a matrix
#     objectives:
#     - unroll an exponential moving average into weights on past gradients, with their sum and
#       half-life
#     - derive the heavy ball's stability region $0 < \gamma\lambda < 2(1+\beta)$ from its
#       $2 \times 2$ companion matrix and find the critical step from runs
#     - rewrite a step along a normalised EMA as Polyak's heavy ball with $\gamma = \eta(1-\beta)$
#     - explain the intrinsic quantity $\lambda = \gamma/(1-\beta)^2$ of momentum gradient descent
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 2: momentum as an exponential average, and the heavy ball
#
# EMC keeps $K$ momentum buffers $m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) g_t$. Each is an
# **exponential moving average** (EMA) of the gradients. This lecture takes one buffer apart:
#
# * unrolled, $m_t = \sum_{s=1}^t (1-\beta)\beta^{t-s} g_s$: weights that sum to $1 - \beta^t$
#   (not 1: the start $m_0 = 0$ biases it towards 0) and decay with timescale $1/(1-\beta)$;
# * stepping along it, $x_{t+1} = x_t - \eta m_t$, is Polyak's **heavy ball**
#   $x_{t+1} = x_t - \gamma g_t + \beta (x_t - x_{t-1})$ with $\gamma = \eta (1 - \beta)$;
# * on a quadratic the heavy ball is stable iff $0 < \gamma\lambda < 2(1 + \beta)$ for every
#   eigenvalue $\lambda$;
# * Papazov et al. (the momentum seed paper, claim **DL1**) argue that the path of momentum
#   gradient descent is determined by the single quantity $\lambda = \gamma/(1-\beta)^2$.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from claims.support.report import recorded_claims
from emc_theory import level_betas, minimize
from emc_theory.baselines import HeavyBall
from emc_theory.problems import quadratic
from experiments.course import results_dir

QUICK = os.environ.get("EMC_QUICK") == "1"
RESULTS = results_dir()    # results/ of this checkout (see the course index)
rng = np.random.default_rng(0)

# %% [markdown]
# ## The EMA, unrolled
# Feed a random gradient sequence through the recursion and through the closed-form sum.

# %%
beta, T = 0.9, 50
grads = rng.standard_normal((T, 3))
m = np.zeros(3)
for g in grads:
    m = beta * m + (1 - beta) * g
weights = (1 - beta) * beta ** (T - 1 - np.arange(T))   # weight of g_s, s = 1..T
print("recursion:", m, "\nclosed form:", weights @ grads)
assert np.allclose(m, weights @ grads)
print(f"sum of the weights = {weights.sum():.6f} = 1 - beta^T = {1 - beta**T:.6f}")

plt.figure(figsize=(6, 2.5))
for b in (0.5, 0.75, 0.875, 0.9375):
    plt.plot(np.arange(1, 41), (1 - b) * b ** (40 - np.arange(1, 41)), label=fr"$\beta={b}$")
plt.xlabel("gradient index $s$ (now: $t = 40$)")
plt.ylabel(r"weight $(1-\beta)\beta^{t-s}$")
plt.legend()
plt.title("EMC's first four levels: memories $1/(1-\\beta_k) = 2^k$")
plt.show()
print("EMC's beta_k for K = 4:", level_betas(4))

# %% [markdown]
# ## The heavy ball's stability region
# For one eigenvalue $\lambda$, heavy ball is the linear recursion
# $(x_{t+1}, x_t) = M (x_t, x_{t-1})$ with
# $M = \begin{pmatrix} 1 + \beta - \gamma\lambda & -\beta \\ 1 & 0 \end{pmatrix}$.
# It is stable iff the spectral radius $\rho(M) < 1$. We scan $(\gamma\lambda, \beta)$ and draw the
# boundary $\gamma\lambda = 2(1 + \beta)$ on top.

# %%
n = 60 if QUICK else 200
u = np.linspace(0.01, 4.5, n)
betas = np.linspace(0.0, 0.99, n)
U, B = np.meshgrid(u, betas)
M = np.zeros(U.shape + (2, 2))
M[..., 0, 0], M[..., 0, 1], M[..., 1, 0] = 1 + B - U, -B, 1.0
rho = np.abs(np.linalg.eigvals(M)).max(axis=-1)
plt.figure(figsize=(5, 3.5))
plt.pcolormesh(U, B, np.minimum(rho, 1.5), shading="auto", cmap="viridis")
plt.colorbar(label=r"spectral radius $\rho(M)$ (clipped at 1.5)")
plt.plot(2 * (1 + betas), betas, "w--", label=r"$\gamma\lambda = 2(1+\beta)$")
plt.contour(U, B, rho, levels=[1.0], colors="red", linewidths=1)
plt.xlabel(r"$\gamma\lambda$")
plt.ylabel(r"$\beta$")
plt.legend(loc="lower right")
plt.show()
inside = U < 2 * (1 + B)
mismatch = np.mean((rho < 1) != inside)
print(f"fraction of grid points where rho < 1 disagrees with the formula: {mismatch:.4f}")

# %% [markdown]
# The disagreements sit on the boundary itself (grid cells that straddle it). Now the same with
# the toolkit's `HeavyBall` on a quadratic, just inside and just outside the boundary.

# %%
problem = quadratic(10, cond=10.0, seed=0)
beta = 0.9
gamma_star = 2 * (1 + beta) / problem.L
x0 = problem.x_star + rng.standard_normal(problem.d)
for factor in (0.97, 1.03):
    run = minimize(HeavyBall(lr=factor * gamma_star, beta=beta), problem, x0, 2000)
    print(f"gamma = {factor} x 2(1+beta)/L: status {run.status}, final gap {run.final_gap:.3g}")
assert minimize(HeavyBall(lr=0.97 * gamma_star, beta=beta), problem, x0, 2000).final_gap < 1e-6
assert minimize(HeavyBall(lr=1.03 * gamma_star, beta=beta), problem, x0, 2000).status == "diverged"

# %% [markdown]
# ## The intrinsic quantity $\lambda = \gamma/(1-\beta)^2$
# The momentum seed paper studies momentum gradient descent with step $\gamma$ and momentum
# $\beta$ and finds that its path depends (to first order in $1 - \beta$) only on
# $\lambda = \gamma/(1-\beta)^2$. Below: three $(\gamma, \beta)$ pairs with the same $\lambda$ on a
# 2-D quadratic; the paths approach each other as $\beta \to 1$. The toolkit checked this claim
# (**DL1**); its verdict, if the checks have been run, is read from `results/claims.json`.

# %%
problem2 = quadratic(2, cond=5.0, rotate=False, seed=3)
lam = 0.5
x0 = problem2.x_star + np.array([2.0, 1.5])
plt.figure(figsize=(4.5, 3.5))
for beta in (0.8, 0.9, 0.95):
    gamma = lam * (1 - beta) ** 2
    steps = int(60 / (1 - beta))
    path = minimize(HeavyBall(lr=gamma, beta=beta), problem2, x0, steps,
                    record_iterates=True).iterates
    plt.plot(path[:, 0], path[:, 1], label=fr"$\beta={beta}$, $\gamma={gamma:.4f}$")
plt.plot(*problem2.x_star, "k*", markersize=10)
plt.xlabel("$x_1$")
plt.ylabel("$x_2$")
plt.title(fr"same $\lambda = \gamma/(1-\beta)^2 = {lam}$")
plt.legend()
plt.show()
claims = recorded_claims(RESULTS)
dl1 = claims.get("DL1") if claims else None
if dl1 is None:
    print(f"No verdict on DL1 is recorded (no DL1 in {RESULTS / 'claims.json'}): run "
          "`emc-theory check` to see it.")
else:
    print(f"The toolkit's verdict on DL1: {dl1['statement']}, because {dl1['statement_reason']}.")

# %% [markdown]
# `HeavyBall` is the PyTorch form $v_t = \beta v_{t-1} + g_t$, $x_{t+1} = x_t - \eta v_t$; since
# $x_{t+1} - x_t = \beta (x_t - x_{t-1}) - \eta g_t$ it is Polyak's form with $\gamma = \eta$, the
# step passed above. Exercise 3 does the same bookkeeping for EMC's normalised buffers.
#
# ## Exercises
# Each exercise names the values to compute in the cell for your answer; the cell after it checks
# them (`assert`) against values obtained another way.
#
# **Exercise 1.** With a constant gradient $g = 1$ the EMA is $m_t = 1 - \beta^t$. After how
# many steps does it reach $1/2$? Solve $\beta^t \le 1/2$ for the smallest integer $t$, for EMC's
# $\beta_k = 1 - 2^{-k}$, $k = 1..6$ (`half_lives`, a list of six integers). The check runs the
# recursion.

# %% tags=["student"]
# Your answer: half_lives[k - 1] = smallest integer t with beta_k^t <= 1/2, for k = 1..6.
half_lives = ...

# %% tags=["solution"]
half_lives = [int(np.ceil(np.log(0.5) / np.log(beta))) for beta in level_betas(6)]
for k, t in enumerate(half_lives, start=1):
    print(f"k={k}: half-life {t} steps (timescale 2^k = {2**k})")

# %% tags=["check"]
for k, beta in enumerate(level_betas(6), start=1):
    m, t_run = 0.0, 0
    while m < 0.5:
        m, t_run = beta * m + (1 - beta), t_run + 1
    assert half_lives[k - 1] == t_run, (k, half_lives[k - 1], t_run)

# %% [markdown]
# **Exercise 2.** Find the heavy ball's critical step for $\beta = 0.9$ on a one-eigenvalue
# problem from *runs*: run the grid `u_grid` of values of $\gamma\lambda$ as one batch (a per-run
# step size), call a run stable if the gap over the last quarter of the run stays below its level
# over the second quarter, and take the first unstable grid value (`u_critical`). The check
# compares it with $2(1+\beta)$.

# %%
curvature, beta, T = 3.0, 0.9, 2000
problem1 = quadratic(2, eigenvalues=[curvature, curvature], rotate=False, x_star=[0.0, 0.0])
u_grid = np.linspace(3.5, 4.1, 121)

# %% tags=["student"]
# Your answer: u_critical, the first value of u_grid whose run is unstable.
u_critical = ...

# %% tags=["solution"]
x0 = np.tile([1.0, 0.5], (u_grid.size, 1))
run = minimize(HeavyBall(lr=u_grid / curvature, beta=beta), problem1, x0, T)
with np.errstate(invalid="ignore"):
    is_stable = (run.status != "diverged") & (
        np.max(run.f_gap[3 * T // 4:], axis=0) <= np.max(run.f_gap[T // 4:T // 2], axis=0))
u_critical = u_grid[np.argmin(is_stable)]
print(f"first unstable gamma*lambda on the grid: {u_critical:.4f}")

# %% tags=["check"]
spacing = u_grid[1] - u_grid[0]
assert abs(u_critical - 2 * (1 + beta)) <= 1.5 * spacing, (u_critical, 2 * (1 + beta))

# %% [markdown]
# **Exercise 3 (EMC's levels as heavy balls).** The EMA step
# $m_t = \beta m_{t-1} + (1-\beta) g_t$, $x_{t+1} = x_t - \eta m_t$ produces exactly the iterates
# of Polyak's heavy ball $x_{t+1} = x_t - \gamma g_t + \beta (x_t - x_{t-1})$ for one $\gamma$.
# Find it: write `heavy_ball_step(eta, beta)` returning $\gamma$. Level $k$ of EMC, used alone,
# then has $\lambda_k = \gamma/(1-\beta_k)^2 = \eta\, 2^k$. The check runs both iterations. (With
# an *un*-normalised buffer $m_t = \beta m_{t-1} + g_t$ one would get $\gamma = \eta$ and
# $\lambda_k = \eta\, 4^k$.)

# %% tags=["student"]
# Your answer: the heavy ball's step gamma that reproduces the EMA step with eta and beta.
def heavy_ball_step(eta, beta):
    ...

# %% tags=["solution"]
def heavy_ball_step(eta, beta):  # noqa: F811  (replaces the stub)
    # x_{t+1} - x_t = -eta m_t = beta (x_t - x_{t-1}) - eta (1 - beta) g_t
    return eta * (1 - beta)

# %% tags=["check"]
eta = 0.01
problem = quadratic(5, cond=10.0, seed=2)
for k, beta in enumerate(level_betas(4), start=1):
    gamma = heavy_ball_step(eta, beta)
    x_ema, m = problem.x_star + 1.0, np.zeros(problem.d)
    x_hb, x_prev = x_ema.copy(), x_ema.copy()
    for _ in range(100):
        m = beta * m + (1 - beta) * problem.grad(x_ema)
        x_ema = x_ema - eta * m
        x_hb, x_prev = x_hb - gamma * problem.grad(x_hb) + beta * (x_hb - x_prev), x_hb
    assert np.allclose(x_ema, x_hb, rtol=1e-10, atol=1e-12), k
    assert np.isclose(gamma / (1 - beta) ** 2, eta * 2**k), k
