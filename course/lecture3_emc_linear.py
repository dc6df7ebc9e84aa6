# ---
# jupyter:
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
# # Lecture 3: EMC in the linear case, and Theorem 1's convex-combination argument
#
# The EMC paper's Theorem 1 (claim **T1**): *for $L$-smooth convex functions, under standard
# assumptions and appropriate learning-rate scheduling, EMC converges to a stationary point.*
# Its proof sketch: *the weighted combination of momentum states can be viewed as a convex
# combination of gradient estimates; under smoothness and diminishing learning rates, standard
# convergence arguments apply.*
#
# Here we take the most favourable reading, $h(\tilde m) = \tilde m$ (**linear**), and examine
# the argument step by step:
#
# 1. what the aggregate $\tilde m_t = \sum_k \alpha_k m^{(k)}_t$ is, as a combination of past
#    gradients, and whether it is convex;
# 2. with the weights frozen, EMC is a *linear* iteration on a quadratic, with an exact stability
#    threshold (from the toolkit's sympy derivations in `proofs/`);
# 3. with diminishing steps, the iteration settles.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from claims.support.report import recorded_claims
from emc_theory import EMC, cascade_weights, level_betas, minimize
from emc_theory.problems import huber, logistic_regression, quadratic, smoothed_abs
from emc_theory.schedules import constant, inv_sqrt
from proofs.linear_stability import companion_matrix, stability_threshold

QUICK = os.environ.get("EMC_QUICK") == "1"
RESULTS = Path(os.environ.get("EMC_RESULTS_DIR") or Path.cwd().parent / "results")
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. The aggregate as a combination of past gradients
# Unrolling each buffer (Lecture 2) with weights frozen at $\alpha$:
# $\tilde m_t = \sum_{s=1}^{t} c_{t,s}\, g_s$ with
# $c_{t,s} = \sum_k \alpha_k (1-\beta_k)\beta_k^{t-s}$. The coefficients are positive, but they sum
# to $\sum_k \alpha_k (1 - \beta_k^t) < 1$, and $g_s = \nabla f(x_s)$ are gradients at *past*
# iterates. We check the unrolled form against the optimizer itself, fed a fixed gradient
# direction (so the entropy, and hence the weights, stay constant).

# %%
K, T = 4, 30
direction = np.ones(8) / np.sqrt(8)            # equal entries: normalised entropy 1
scales = rng.uniform(0.5, 2.0, T)               # g_s = scales[s] * direction
emc = EMC(K=K, lr=1.0, reading="linear")
state = emc.init(np.zeros(8))
for s in range(T):
    update, state = emc.update(scales[s] * direction, state)
aggregate = -update                              # eta = 1 and h = identity
alpha = cascade_weights(1.0, K)
betas = level_betas(K)
c = np.array([(alpha * (1 - betas) * betas ** (T - 1 - s)).sum() for s in range(T)])
print("optimizer's aggregate:", aggregate[:3])
print("unrolled sum:         ", (c @ scales) * direction[:3])
assert np.allclose(aggregate, (c @ scales) * direction)
print(f"sum of the coefficients c_(t,s) = {c.sum():.6f}; "
      f"sum_k alpha_k (1 - beta_k^t) = {(alpha * (1 - betas**T)).sum():.6f}")
print(f"share of the newest gradient g_t: {c[-1] / c.sum():.3f}")

plt.figure(figsize=(6, 2.5))
plt.bar(np.arange(1, T + 1), c)
plt.xlabel("past gradient $s$ (now $t = 30$)")
plt.ylabel("$c_{t,s}$")
plt.title(f"coefficients of the aggregate, K = {K}, weights at normalised entropy 1")
plt.show()

# %% [markdown]
# So the "convex combination of gradient estimates" is a *sub*-convex combination of gradients
# evaluated at old points. That alone does not break convergence (heavy ball has the same
# structure) but it means the standard gradient-descent argument of Lecture 1 does not "apply":
# the step is not along $-\nabla f(x_t)$, and stability needs its own analysis.
#
# ## 2. Frozen weights: a linear iteration with an exact threshold
# On an eigen-direction with curvature $\lambda$, linear EMC with frozen weights is
# $s_{t+1} = M(u) s_t$ with $u = \eta\lambda$ (the companion matrix of `proofs.linear_stability`).
# It is stable iff $u < u^\star(\alpha)$. Below: the spectral radius of $M(u)$ against $u$, and the
# thresholds for uniform weights ($\tilde H = 0$) and for $\tilde H = 1$.

# %%
u = np.linspace(0.01, 25, 400 if QUICK else 2000)
plt.figure(figsize=(6, 3))
for K in (1, 2, 3, 4):
    for ht, style in ((0.0, "-"), (1.0, "--")):
        alpha = cascade_weights(ht, K)
        rho = np.abs(np.linalg.eigvals(companion_matrix(K, alpha, u))).max(axis=-1)
        plt.plot(u, rho, style, color=f"C{K}", label=fr"$K={K}$, $\tilde H={ht:g}$")
        print(f"K={K}, Ht={ht:g}: u* = {stability_threshold(K, alpha):.6f}")
plt.axhline(1.0, color="black", linewidth=0.8)
plt.ylim(0, 1.6)
plt.xlabel(r"$u = \eta\lambda$")
plt.ylabel(r"spectral radius of $M(u)$")
plt.legend(ncol=2, fontsize=7)
plt.show()

# %% [markdown]
# The threshold grows with $K$: longer memories average more and tolerate larger steps. Check
# it with the optimizer: from $x_0 = e_1$ every gradient is along $e_1$, the normalised entropy is
# 0 and the weights are exactly uniform, so the run *is* the frozen-weight iteration.

# %%
K, curvature = 3, 2.0
problem = quadratic(4, eigenvalues=[curvature] * 4, rotate=False, x_star=[0.0] * 4)
u_star = stability_threshold(K, cascade_weights(0.0, K))
x0 = np.eye(4)[0]
for factor in (0.98, 1.02):
    run = minimize(EMC(K=K, lr=factor * u_star / curvature, reading="linear"), problem, x0, 3000)
    print(f"u = {factor} u*: status {run.status}, final gap {run.final_gap:.3g}")
below = minimize(EMC(K=K, lr=0.98 * u_star / curvature, reading="linear"), problem, x0, 3000)
above = minimize(EMC(K=K, lr=1.02 * u_star / curvature, reading="linear"), problem, x0, 3000)
assert below.final_gap < 1e-8 and above.status == "diverged"

# %% [markdown]
# ## 3. Diminishing steps
# Theorem 1 asks for "appropriate learning-rate scheduling". With $\eta_t = \eta_0/\sqrt t$ the
# step eventually falls below every threshold, so a constant step that diverges becomes
# harmless after a while. The linear reading then converges on the convex test functions;
# whether the *power* and *root* readings do is the question of Lecture 4.

# %%
steps = 500 if QUICK else 5000
fig, axes = plt.subplots(1, 3, figsize=(13, 3))
convex_problems = {"Huber": huber(d=10, delta=0.1, seed=0),
                   "smoothed |x|": smoothed_abs(d=10, eps=0.1, seed=0),
                   "logistic": logistic_regression(n=100, d=10, seed=0)}
for ax, (name, problem) in zip(axes, convex_problems.items()):
    x0 = problem.x_star + rng.standard_normal(problem.d)
    for label, lr in (("constant", constant(1.0 / problem.L)),
                      ("1/sqrt(t)", inv_sqrt(1.0 / problem.L))):
        run = minimize(EMC(K=3, lr=lr, reading="linear"), problem, x0, steps)
        ax.semilogy(run.grad_norm, label=label)
    ax.set_title(name)
    ax.set_xlabel("step")
axes[0].set_ylabel(r"$\|\nabla f(x_t)\|$")
axes[0].legend()
plt.show()
claims = recorded_claims(RESULTS)
if claims is None:
    print(f"{RESULTS / 'claims.json'} not found: run `emc-theory check` for the toolkit's "
          "verdict on T1")
elif claims.get("T1"):
    t1 = claims["T1"]
    print(f"T1 statement: {t1['statement']}; proof: {t1['proof']}\n  {t1['proof_reason']}")

# %% [markdown]
# ## Exercises
#
# **Exercise 1.** For uniform weights the first eigenvalue to leave the unit disc does so at
# $z = -1$ (a period-2 oscillation), where the characteristic polynomial is linear in $u$; this
# gives $u^\star = 2 / \sum_k \alpha_k (1-\beta_k)/(1+\beta_k) = 2/\sum_k \alpha_k/(2^{k+1}-1)$.
# Evaluate the closed form for $K = 1..6$ and compare with `stability_threshold`.

# %%
for K in range(1, 7):
    alpha = np.full(K, 1.0 / K)
    closed_form = 2.0 / np.sum(alpha / (2.0 ** (np.arange(1, K + 1) + 1) - 1))
    print(f"K={K}: closed form {closed_form:.10f}, "
          f"stability_threshold {stability_threshold(K, alpha):.10f}")
    assert np.isclose(closed_form, stability_threshold(K, alpha), rtol=1e-9)

# %% [markdown]
# **Exercise 2.** At $u^\star$ the companion matrix must have an eigenvalue $-1$. Check that
# $\det(M(u^\star) + I) = 0$ for $K = 2$, $\tilde H = 1$, and that the spectral radius is below 1
# just under $u^\star$ and above 1 just over it.

# %%
alpha = cascade_weights(1.0, 2)
u_star = stability_threshold(2, alpha)
det = np.linalg.det(companion_matrix(2, alpha, u_star) + np.eye(3))
radius = lambda v: np.abs(np.linalg.eigvals(companion_matrix(2, alpha, v))).max()  # noqa: E731
print(f"u* = {u_star:.8f}; det(M + I) = {det:.2e}; "
      f"rho(0.999 u*) = {radius(0.999 * u_star):.6f}, rho(1.001 u*) = {radius(1.001 * u_star):.6f}")
assert abs(det) < 1e-9
assert radius(0.999 * u_star) < 1 < radius(1.001 * u_star)

# %% [markdown]
# **Exercise 3.** With a constant gradient $g$ the aggregate is
# $\tilde m_t = \sum_k \alpha_k (1 - \beta_k^t)\, g$. Feed $g = (1, 1)$ for ten steps to a $K = 3$
# optimizer and compare the aggregate after each step with the formula.

# %%
emc = EMC(K=3, lr=1.0, reading="linear")
state = emc.init(np.zeros(2))
alpha, betas = cascade_weights(1.0, 3), level_betas(3)
for t in range(1, 11):
    update, state = emc.update(np.ones(2), state)
    formula = np.sum(alpha * (1 - betas**t))
    assert np.allclose(-update, formula), t
print("aggregate after 10 steps:", -update, "formula:", formula)
