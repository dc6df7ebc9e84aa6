# ---
# jupyter:
#   course:
#     minutes: 90
#     prerequisites:
#     - Lectures 1 to 3
#     - Python with SymPy (symbols, limits, simplification)
#     objectives:
#     - explain why adaptive weights and a power in $h$ make EMC a nonlinear iteration
#     - show by a scaling argument that under the power reading the usable step size depends on
#       the distance to the minimiser
#     - compute the limits of the entropy weights with SymPy and compare them with
#       Propositions 1 and 2
#     - replay a recorded counterexample and read the toolkit's verdicts
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
# # Lecture 4: where the argument breaks
#
# Lecture 3 analysed EMC in its most favourable form: linear $h$ and frozen weights. The paper's
# algorithm has neither:
#
# 1. **adaptive weights**: $\alpha_t$ depends on the current gradient through its entropy, so the
#    iteration is nonlinear even for $h(\tilde m) = \tilde m$;
# 2. **the power in $h$**: under the *power* reading $h = \operatorname{sign}(\tilde m)
#    |\tilde m|^{\gamma}$ with $\gamma \in [1, 2]$, the step length depends on the *size* of the
#    gradient, so no single step size works at every distance from the minimiser;
# 3. **Propositions 1-2** describe which memories the weights favour; the formulas say otherwise.
#
# The last part replays the toolkit's own counterexamples from `results/claims.json` (or, if the
# checks have not been run, from a fresh quick check of the claims involved).

# %%
import os
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp

from claims.support.base import CheckConfig
from claims.support.registry import replay_counterexample, run_claim
from claims.support.report import recorded_claims
from emc_theory import EMC, cascade_weights, effective_memory, minimize
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.problems import quadratic
from emc_theory.render import readable_text
from experiments.course import results_dir

QUICK = os.environ.get("EMC_QUICK") == "1"
RESULTS = results_dir()    # results/ of this checkout (see the course index)
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Adaptive weights along a run
# The weights follow the normalised entropy of each gradient; along a run on an ill-conditioned
# quadratic they move at every step, so the frozen-weight threshold of Lecture 3 is only a
# reference, not a guarantee.

# %%
problem = quadratic(20, cond=100.0, seed=0)
x0 = problem.x_star + rng.standard_normal(problem.d)
run = minimize(EMC(K=3, lr=0.05, reading="linear"), problem, x0, 300, diagnostics=True)
diag = run.diagnostics
fig, axes = plt.subplots(1, 2, figsize=(11, 3))
axes[0].plot(diag["normalized_entropy"])
axes[0].set_ylabel(r"$\tilde H_t$")
for k in range(3):
    axes[1].plot(diag["weights"][:, k], label=fr"$\alpha_{k + 1}$ (memory $2^{k + 1}$)")
axes[1].set_ylabel("weight")
axes[1].legend()
for ax in axes:
    ax.set_xlabel("step $t$")
plt.show()
print(f"normalised entropy ranged over [{np.nanmin(diag['normalized_entropy']):.3f}, "
      f"{np.nanmax(diag['normalized_entropy']):.3f}]; final gap {run.final_gap:.3g}")

# %% [markdown]
# ## 2. The power in $h$: a step size that depends on the distance
# Run the three readings with one step size from start points at distances $s$ from the
# minimiser, and classify each run: converged (gap reduced by $10^{-6}$), stalled, or diverged.
# A linear iteration cannot depend on $s$ (the whole run scales with it); the power reading's
# step grows like $|\tilde m|^{\gamma - 1}$ and the root reading's like $|\tilde m|^{1/\gamma - 1}$,
# so for them the outcome can change with $s$.

# %%
problem = quadratic(10, cond=10.0, seed=0)
direction = np.random.default_rng(1).standard_normal(problem.d)
direction /= np.linalg.norm(direction)
scales = np.logspace(-3, 3, 13 if QUICK else 25)
x0 = problem.x_star + scales[:, None] * direction
steps = 300 if QUICK else 1000
outcome = {}
for reading in ("power", "root", "linear"):
    run = minimize(EMC(K=3, lr=0.3, reading=reading), problem, x0, steps)
    relative = run.final_gap / run.f_gap[0]
    outcome[reading] = np.where(np.isin(run.status, FAILED_STATUSES), np.inf, relative)
plt.figure(figsize=(6, 3))
for reading, rel in outcome.items():
    plt.loglog(scales, np.where(np.isfinite(rel), np.maximum(rel, 1e-30), 1e30), "o-",
               label=reading)
plt.axhline(1.0, color="black", linewidth=0.8)
plt.xlabel(r"start distance $\|x_0 - x^\star\|$")
plt.ylabel(r"$(f(x_T)-f^\star)/(f(x_0)-f^\star)$" + "\n(diverged: drawn at the top)")
plt.legend()
plt.show()
print(f"distances {scales[0]:g} .. {scales[-1]:g}; c = converged, s = stalled, D = diverged")
for reading, rel in outcome.items():
    print(f"{reading:7s} " + "".join("D" if not np.isfinite(r) else "c" if r <= 1e-6 else "s"
                                     for r in rel))
assert len(set((outcome["linear"] <= 1e-6).tolist())) == 1   # the same outcome at every distance

# %% [markdown]
# ## 3. Propositions 1-2 against the formulas
# *Proposition 1: low entropy ($H \to 0$) favours longer-term momentum states; proof: the weights
# approach the uniform distribution.* *Proposition 2: high entropy favours shorter-term states;
# proof: higher $\lambda_k$ dominate, favouring larger $k$ (shorter memory).*
#
# But level $k$ has memory $2^k$: **larger $k$ is longer memory**. The exact limits, with sympy:

# %%
H = sp.Symbol("H", nonnegative=True)
for K in (2, 3, 5):
    alphas = [sp.exp(sp.Rational(k, K) * H) / sum(sp.exp(sp.Rational(j, K) * H)
                                                   for j in range(1, K + 1))
              for k in range(1, K + 1)]
    at_zero = [sp.limit(a, H, 0) for a in alphas]
    at_one = [sp.nsimplify(a.subs(H, 1)) for a in alphas]
    memory = [sp.simplify(sum(a * 2**k for k, a in enumerate(w, start=1)))
              for w in (at_zero, at_one)]
    top_level = int(np.argmax([float(a) for a in at_one])) + 1
    print(f"K={K}: alpha(0) = {at_zero}; argmax alpha(1) = k={top_level}; "
          f"T_eff(0) = {memory[0]} = {float(memory[0]):.4f}, T_eff(1) = {float(memory[1]):.4f}")
    # the next paragraph's statements: uniform at 0, the longest memory favoured at 1
    assert at_zero == [sp.Rational(1, K)] * K and top_level == K and memory[1] > memory[0]

# %% [markdown]
# At $\tilde H = 0$ the weights are uniform, which favours no memory; at $\tilde H = 1$ the
# largest weight is on $k = K$, the *longest* memory, and the effective memory is larger than at
# $\tilde H = 0$. So Proposition 2's direction is reversed, and Proposition 1's proof (uniform
# weights) does not show its statement. The toolkit's checks of the two propositions (**P1**,
# **P2**) test the same on runs; their verdicts are listed with the counterexamples below.
#
# ## 4. The toolkit's counterexamples, replayed
# Every counterexample in the claims report carries the exact run that produced it; replaying it
# must reproduce the recorded outcome.

# %%
claims = recorded_claims(RESULTS)
if claims is not None:
    source = str(RESULTS / "claims.json")
else:
    claims = {cid: run_claim(cid, CheckConfig(quick=True)).to_json() for cid in ("P1", "P2")}
    source = "a fresh quick check of P1 and P2"


def say(text, indent="  "):
    """A record's text as a person reads it: no Python reprs, lines of at most 96 columns."""
    print(textwrap.fill(readable_text(text), width=96, subsequent_indent=indent))


print(f"counterexamples from {source}:")
replayed = 0
for cid, claim in claims.items():
    for example in claim["counterexamples"]:
        say(f"- {cid} ({claim['statement']}): {example['description']}")
        if cid in ("P1", "P2"):
            again = replay_counterexample(cid, example)
            for key, value in example["outcome"].items():
                assert np.isclose(again[key], value, rtol=1e-9), (cid, key)
            replayed += 1
print(f"replayed {replayed} counterexample(s) of P1/P2 to the recorded outcome")
assert replayed >= 1

# %% [markdown]
# ## 5. Theorem 1 per reading, as the check decided it
# The two mechanisms above decide Theorem 1 (**T1**) for the nonlinear readings. *Root*: with a
# constant step the run locks into an exact period-2 cycle of gradient amplitude
# $\eta^2\lambda^2 s/4$ (sympy; replayed below), so constant steps do not converge, while
# diminishing steps drag the cycle to zero ($\|g_t\| \approx \eta_t^2\lambda^2 s/4$). *Power*:
# by the scaling argument a schedule fixed before the start diverges from beyond
# $r^\star = C/(\eta_0 L^2)$: the theorem fails as a global statement and holds only locally.
# The verdicts, the conditions and the theorem as it holds are read from the claims record;
# each reading's counterexample is replayed to its recorded class.

# %%
t1 = claims.get("T1") if "T1" in claims else run_claim("T1", CheckConfig(quick=True)).to_json()
T1_MEANING = {
    "holds": "decided: a certificate or exact derivation shows convergence under the conditions "
             "listed",
    "conditional": "holds only under a condition the theorem does not state (listed); it does "
                   "not converge in general",
    "fails": "decided by a replayable counterexample: it does not converge",
    "undecided": "not decided: no certificate, derivation or counterexample settles it",
}
for reading, verdict in t1["per_reading"].items():
    say(f"T1, {reading} reading: {verdict} -- {T1_MEANING.get(verdict, verdict)}")
    for condition in t1["conditions"]:
        if condition.startswith(f"{reading}: "):
            say("    condition: " + condition.split(": ", 1)[1], indent="      ")
as_it_holds = [c for c in t1["conditions"] if c.startswith("theorem as it holds")]
say(f"T1 overall: {t1['statement']}. "
    + (as_it_holds[0][0].upper() + as_it_holds[0][1:] + "." if as_it_holds
       else "(No statement of the theorem as it holds is recorded.)"))
t1_replayed = 0
for example in t1["counterexamples"]:
    kind = example["replay"].get("kind")
    if kind in ("root_emc_cycle", "power_emc_divergence"):
        again = replay_counterexample("T1", example)
        say(f"- T1: {example['description']}: replayed class {again['class']} "
            f"(recorded {example['outcome']['class']})")
        assert again["class"] == example["outcome"]["class"]
        t1_replayed += 1
assert t1_replayed == 2 or "undecided" in t1["per_reading"].values()

# %% [markdown]
# ## Exercises
# Each exercise names the values to compute in the cell for your answer; the cell after it checks
# them (`assert`) against values obtained another way.
#
# **Exercise 1.** Show that at $\tilde H = 0$ the effective memory is
# $T_{\mathrm{eff}}(0) = \frac1K\sum_{k=1}^K 2^k$ and write it in closed form as
# `t_eff_zero(K)` (no sum). The check compares it with the toolkit's `effective_memory` of
# `cascade_weights(0, K)` for $K = 2..8$, and checks that
# $T_{\mathrm{eff}}(1) > T_{\mathrm{eff}}(0)$ (so high entropy means *longer* memory).

# %% tags=["student"]
# Your answer: the effective memory at normalised entropy 0, in closed form.
def t_eff_zero(K):
    ...

# %% tags=["solution"]
def t_eff_zero(K):  # noqa: F811  (replaces the stub)
    return (2 ** (K + 1) - 2) / K    # a geometric sum: 2 + 4 + ... + 2^K = 2^(K+1) - 2


print("T_eff(0) for K = 2..8:", [round(t_eff_zero(K), 4) for K in range(2, 9)])

# %% tags=["check"]
for K in range(2, 9):
    t0 = effective_memory(cascade_weights(0.0, K))
    assert np.isclose(t_eff_zero(K), t0, rtol=1e-12), (K, t0)
    assert effective_memory(cascade_weights(1.0, K)) > t0, K

# %% [markdown]
# **Exercise 2 (why the power reading's phase boundary is diagonal).** When every gradient is
# along one coordinate, $\tilde H_t = 0$ and $\gamma_t = 2$, so $h(c\,\tilde m) = c^2 h(\tilde m)$.
# Deduce the step with which the run from $c\,x_0$ is exactly $c$ times the run from $x_0$ with
# step $\eta$ (for $x^\star = 0$), for the power reading and for the linear one: write
# `scaled_step(reading, eta, c)`. The check runs both.

# %% tags=["student"]
# Your answer: the step size for the start c * x0 that makes the run c times the run from x0.
def scaled_step(reading, eta, c):
    ...

# %% tags=["solution"]
def scaled_step(reading, eta, c):  # noqa: F811  (replaces the stub)
    # power: x' = c x gives h(c m) = c^2 h(m), so eta' c^2 = eta c, eta' = eta / c;
    # linear: h(c m) = c h(m), so the same step
    return eta / c if reading == "power" else eta

# %% tags=["check"]
problem = quadratic(4, eigenvalues=[1.0, 2.0, 3.0, 4.0], rotate=False, x_star=[0.0] * 4)
x0 = np.array([0.7, 0.0, 0.0, 0.0])           # gradients stay along e_1: entropy 0
c, eta, steps = 8.0, 0.3, 50
for reading in ("power", "linear"):
    path = minimize(EMC(K=3, lr=eta, reading=reading), problem, x0, steps,
                    record_iterates=True).iterates
    scaled = minimize(EMC(K=3, lr=scaled_step(reading, eta, c), reading=reading), problem,
                      c * x0, steps, record_iterates=True).iterates
    assert np.allclose(scaled, c * path, rtol=1e-12, atol=1e-12), reading
