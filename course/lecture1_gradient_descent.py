# ---
# jupyter:
#   course:
#     minutes: 60
#     prerequisites:
#     - gradients and Hessians of functions of several variables
#     - convex functions; eigenvalues of symmetric matrices
#     - Python with NumPy and Matplotlib
#     objectives:
#     - state the descent lemma and derive the decrease of one gradient step of length $1/L$
#     - state the rate $L\|x_0 - x^\star\|^2/(2t)$ of gradient descent on convex $L$-smooth
#       functions and check it against runs
#     - predict the growth factor of gradient descent on a quadratic above the step $2/L$
#     - turn a rate bound into a number of steps for a given accuracy
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
# # Lecture 1: gradient descent on $L$-smooth convex functions
#
# Before the Entropic Momentum Cascade (EMC) can be judged, we need the argument it claims to
# inherit. This lecture proves and *checks* the two facts behind every "standard convergence
# argument" for smooth convex problems:
#
# 1. the **descent lemma**: if $\nabla f$ is $L$-Lipschitz, then
#    $f(y) \le f(x) + \nabla f(x)^\top (y - x) + \tfrac{L}{2}\|y - x\|^2$, so one gradient step
#    $x^+ = x - \tfrac1L \nabla f(x)$ decreases $f$ by at least $\tfrac{1}{2L}\|\nabla f(x)\|^2$;
# 2. the **sublinear rate**: for convex $f$ and $\eta = 1/L$,
#    $f(x_t) - f^\star \le \dfrac{L \|x_0 - x^\star\|^2}{2t}$.
#
# Every number below is computed by the toolkit (`emc_theory`) while the notebook runs.
# Set `EMC_QUICK=1` for a fast pass.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

from emc_theory import minimize
from emc_theory.baselines import GradientDescent
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic, smoothed_abs

QUICK = os.environ.get("EMC_QUICK") == "1"
STEPS = 200 if QUICK else 2000
rng = np.random.default_rng(0)
print(f"quick={QUICK}, steps={STEPS}")

# %% [markdown]
# ## The test functions
# Each problem knows its smoothness constant $L$, its strong convexity $\mu$ (0 when not
# strongly convex) and its minimiser $x^\star$, so every bound can be evaluated exactly.

# %%
problems = {
    "quadratic": quadratic(20, cond=100.0, seed=0),
    "logistic regression": logistic_regression(n=200, d=20, reg=1e-3, seed=0),
    "log-sum-exp": log_sum_exp(d=20, m=40, seed=0),
    "Huber": huber(d=20, delta=0.1, seed=0),
    "smoothed |x|": smoothed_abs(d=20, eps=0.1, seed=0),
}
for name, problem in problems.items():
    print(f"{name:20s} d={problem.d}  L={problem.L:.4g}  mu={problem.mu}  f*={problem.f_star:.6g}")

# %% [markdown]
# ## The descent lemma, checked at random points
# For random $x$ we take the step $x^+ = x - \nabla f(x)/L$ and compare the decrease with the
# guaranteed $\|\nabla f(x)\|^2/(2L)$. The ratio must be at least 1.

# %%
for name, problem in problems.items():
    x = problem.x_star + 3.0 * rng.standard_normal((1000, problem.d))
    g = problem.grad(x)
    decrease = problem.value(x) - problem.value(x - g / problem.L)
    guaranteed = np.sum(g**2, axis=1) / (2 * problem.L)
    ratio = decrease / guaranteed
    print(f"{name:20s} smallest decrease / guaranteed = {ratio.min():.4f}")
    assert np.all(decrease >= guaranteed * (1 - 1e-10)), name

# %% [markdown]
# ## The rate $L\|x_0 - x^\star\|^2 / (2t)$, checked against runs
# Gradient descent with $\eta = 1/L$ from a random start; the bound must hold at every step.

# %%
fig, axes = plt.subplots(1, len(problems), figsize=(15, 3), sharey=False)
worst = {}
for ax, (name, problem) in zip(axes, problems.items()):
    x0 = problem.x_star + 3.0 * rng.standard_normal(problem.d)
    run = minimize(GradientDescent(lr=1.0 / problem.L), problem, x0, STEPS)
    t = np.arange(1, STEPS + 1)
    bound = problem.L * np.sum((x0 - problem.x_star) ** 2) / (2 * t)
    gap = run.f_gap[1:]
    worst[name] = float(np.nanmax(gap / bound))
    ax.loglog(t, np.maximum(gap, 1e-17), label="$f(x_t) - f^*$")
    ax.loglog(t, bound, "--", label=r"$L\|x_0-x^*\|^2/(2t)$")
    ax.set_title(name)
    ax.set_xlabel("step $t$")
axes[0].set_ylabel("gap")
axes[0].legend()
plt.tight_layout()
plt.show()
for name, ratio in worst.items():
    print(f"{name:20s} max over t of gap / bound = {ratio:.3g}")
    assert ratio <= 1.0, name

# %% [markdown]
# The bound holds everywhere, and on most problems it is far from tight: it is a worst case
# over all $L$-smooth convex functions. On the strongly convex ones the gap falls geometrically,
# at the rate $1 - \mu/L$ per step, much faster than $1/t$.
#
# ## Exercises
# Each exercise asks for a value computed in the cell marked for your answer; the cell after it
# checks the value (`assert`) against one obtained another way.
#
# **Exercise 1.** On a quadratic whose largest eigenvalue is $L$, gradient descent with
# $\eta = 2.2/L$ diverges. Predict the factor `predicted` by which $f - f^\star$ grows per step in
# the long run (hint: the top eigen-direction is multiplied by $1 - \eta L$ each step). The check
# measures it on a run.

# %%
problem = quadratic(10, cond=10.0, seed=1)
eta = 2.2 / problem.L

# %% tags=["student"]
# Your answer: the long-run growth factor of f - f* per step, from eta and problem.L.
predicted = ...

# %% tags=["solution"]
predicted = (1 - eta * problem.L) ** 2
print(f"predicted growth factor {predicted:.6f}")

# %% tags=["check"]
x0 = problem.x_star + rng.standard_normal(problem.d)
run = minimize(GradientDescent(lr=eta), problem, x0, 60, divergence_factor=1e30)
measured = run.f_gap[60] / run.f_gap[59]
assert abs(measured - predicted) < 1e-6 * measured, (predicted, measured)

# %% [markdown]
# **Exercise 2.** How many steps does the bound need to guarantee $f - f^\star \le \varepsilon$?
# Solve $L R^2/(2t) \le \varepsilon$ for the smallest integer $t$ (`t_needed`) in closed form; the
# check scans $t$.

# %%
problem = problems["Huber"]
R2 = 9.0 * problem.d            # an example value of ||x0 - x*||^2
eps = 1e-3

# %% tags=["student"]
# Your answer: the smallest integer t with L R2 / (2 t) <= eps, in closed form.
t_needed = ...

# %% tags=["solution"]
t_needed = int(np.ceil(problem.L * R2 / (2 * eps)))
print(f"t = {t_needed}")

# %% tags=["check"]
t_scan = next(t for t in range(1, 10**7) if problem.L * R2 / (2 * t) <= eps)
assert t_needed == t_scan, (t_needed, t_scan)

# %% [markdown]
# **Exercise 3.** The descent lemma is an upper bound by a quadratic with curvature $L$. For the
# quadratic $f(x) = \tfrac12 x^\top A x$ it holds with equality in the top eigen-direction. Find
# the top eigenvector `v` of $A$ and its eigenvalue `L`, and compute the `decrease`
# $f(v) - f(v - \nabla f(v)/L)$ of one step. The check compares it with
# $\|\nabla f(v)\|^2/(2L)$.

# %%
A = problems["quadratic"].hessian(problems["quadratic"].x_star)
f = lambda x: 0.5 * x @ A @ x  # noqa: E731  (the quadratic centred at 0)

# %% tags=["student"]
# Your answer: v (top eigenvector of A), L (its eigenvalue), decrease = f(v) - f(v - A v / L).
v, L, decrease = ..., ..., ...

# %% tags=["solution"]
eigenvalues, eigenvectors = np.linalg.eigh(A)
v, L = eigenvectors[:, -1], eigenvalues[-1]
decrease = f(v) - f(v - A @ v / L)
print(f"L = {L:.6g}; decrease {decrease:.12g}")

# %% tags=["check"]
assert np.isclose(L, problems["quadratic"].L) and np.allclose(A @ v, L * v)
guaranteed = np.sum((A @ v) ** 2) / (2 * L)
assert np.isclose(decrease, guaranteed, rtol=1e-10), (decrease, guaranteed)
