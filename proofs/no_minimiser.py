r"""The statement's own gap: a convex :math:`L`-smooth function bounded below with no minimiser,
on which linear EMC (and gradient descent) drive :math:`\|g_t\| \to 0` while
:math:`\|x_t\| \to \infty`.

"Converges to a stationary point" presumes one exists. Take the core's logistic regression with one
data point and no regularisation (``logistic_regression(n=1, d=2, reg=0, separable=True)``):
:math:`f(x) = \log(1 + e^{-y\,a^\top x})`, the softplus of one margin: convex, :math:`L =
\|a\|^2/4`, :math:`\inf f = 0` and no minimiser (a single point is always separable). The
gradient :math:`-\sigma(-s)\,y\,a` (:math:`s = y\,a^\top x`) keeps the direction of :math:`a`, so
the entropy and EMC's weights are constant; the momenta average a slowly varying gradient, so
:math:`\tilde m_t \approx g_t` and :math:`s_{t+1} \approx s_t + \eta\|a\|^2 e^{-s_t}`:

.. math::
    e^{s_t} \approx \eta\|a\|^2 t,\qquad \|g_t\| \approx \frac{1}{\eta\|a\| t},\qquad
    \|x_t\| \ge \frac{s_t}{\|a\|} \approx \frac{\log(\eta\|a\|^2 t)}{\|a\|} \to \infty

(constant step; :math:`\eta_0/\sqrt t` gives :math:`\|g_t\| \approx 1/(2\eta_0\|a\|\sqrt t)`).
The Lyapunov certificate (:mod:`proofs.lyapunov_certificate`) needs only :math:`\inf f > -\infty`,
so it proves :math:`g_t \to 0` here too; what fails is the existence of the point the iterates
should converge to. The condition to state: :math:`f` attains its infimum (a minimiser exists).

:func:`counterexample` records a replayable run (:mod:`emc_theory.replay`); :func:`classify`
computes its class from the run (``"gradient_to_zero_iterates_unbounded"``).
"""
from __future__ import annotations

import numpy as np

from emc_theory import EMC, minimize
from emc_theory.baselines import GradientDescent
from emc_theory.fit import affine_fit, power_law_fit
from emc_theory.problems import logistic_regression
from emc_theory.replay import replay, run_spec
from emc_theory.validation import check_int

CLASS = "gradient_to_zero_iterates_unbounded"


def softplus_problem(seed: int = 0):
    """One data point, no regularisation: convex, L-smooth, bounded below, no minimiser."""
    return logistic_regression(n=1, d=2, reg=0.0, separable=True, seed=seed)


def classify(traj) -> dict:
    r"""Class of a run on a function without minimiser, from its history: the gradient's decay
    exponent in :math:`t` (last half, :func:`~emc_theory.fit.power_law_fit`) and the slope of
    :math:`\|x_t\|` against :math:`\log t` (:func:`~emc_theory.fit.affine_fit`).
    ``"gradient_to_zero_iterates_unbounded"`` needs a decay exponent below -1/2, a final gradient
    below 1/100 of the first, and :math:`\|x_t\|` growing (slope > 0) to beyond 10 times
    :math:`\|x_0\|`; otherwise ``"other"``."""
    g = np.asarray(traj.grad_norm, dtype=float)
    x = np.linalg.norm(np.asarray(traj.iterates, dtype=float), axis=-1)
    T = len(g) - 1
    t = np.arange(T // 2, T + 1)
    gfit = power_law_fit(t, g[t])
    xfit = affine_fit(np.log(t), x[t])
    ok = (gfit.exponent < -0.5 and g[-1] < 1e-2 * g[0] and xfit.b > 0
          and x[-1] > 10 * max(x[0], 1e-12))
    return {"class": CLASS if ok else "other", "grad_exponent": gfit.exponent,
            "grad_fit_residual": gfit.residual, "x_log_slope": xfit.b,
            "final_grad_norm": float(g[-1]), "final_x_norm": float(x[-1])}


def run(optimizer, steps: int = 20000, seed: int = 0):
    problem = softplus_problem(seed)
    return minimize(optimizer, problem, np.zeros(problem.d), steps, record_iterates=True)


def laws(K: int = 3, steps: int = 20000, seed: int = 0) -> dict:
    r"""Linear EMC and gradient descent at :math:`\eta = 1/L`: :math:`t\|g_t\|` against
    :math:`1/(\eta\|a\|)`, the slope of :math:`\|x_t\|` in :math:`\log t` against
    :math:`1/\|a\|`, and the classes (JSON-ready)."""
    steps = check_int("steps", steps, 100)
    problem = softplus_problem(seed)
    a_norm = float(np.linalg.norm(problem.A[0]))
    eta = 1.0 / problem.L
    out = {"problem": problem.describe(), "a_norm": a_norm, "eta": eta,
           "predicted_t_grad": 1 / (eta * a_norm), "predicted_x_log_slope": 1 / a_norm}
    for name, opt in (("emc_linear", EMC(K=K, lr=eta, reading="linear")),
                      ("gd", GradientDescent(lr=eta))):
        traj = run(opt, steps, seed)
        res = classify(traj)
        res["t_grad_final"] = float(steps * traj.grad_norm[-1])
        out[name] = res
    return out


def counterexample(K: int = 3, steps: int = 20000, seed: int = 0) -> dict:
    """Replayable record: linear EMC at eta = 1/L from 0; its class computed from the run."""
    problem = softplus_problem(seed)
    opt = EMC(K=K, lr=1.0 / problem.L, reading="linear")
    spec = run_spec(opt, problem, np.zeros(problem.d), steps)
    res = classify(replay(spec, record_iterates=True))
    return {"kind": "no_minimiser", "spec": spec, "class": res["class"], "evidence": res,
            "statement": "convex, L-smooth, inf f = 0 not attained: |g_t| -> 0 while |x_t| -> inf"}


def replay_counterexample(record: dict) -> dict:
    res = classify(replay(record["spec"], record_iterates=True))
    res["matches"] = res["class"] == record["class"]
    return res
