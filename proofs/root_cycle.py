r"""The root reading's exact behaviour with constant steps: a period-2 limit cycle, its amplitude in
closed form, its stability, its law in :math:`\eta` on generic problems, and the law of
:math:`\|g_t\|` under diminishing steps.

Reading ``"root"``: :math:`x_{t+1} = x_t - \eta\,\operatorname{sign}(\tilde m_t)
|\tilde m_t|^{1/\gamma_t}`, :math:`\gamma_t = 2 - \tilde H_t`.

**Exact cycle (1-sparse gradient).** On :math:`f(x) = \tfrac{\lambda}{2} x_1^2 + (\dots)` started
on the eigen-axis :math:`x = (r, 0, \dots)` the gradient stays 1-sparse, so :math:`\tilde H = 0`,
:math:`\gamma = 2`, the weights are uniform and :math:`h(\tilde m) = \operatorname{sign}(\tilde m)
\sqrt{|\tilde m|}`. A period-2 orbit :math:`x_t = \pm A` has gradients :math:`\pm\lambda A`, level
momenta in their alternating steady state :math:`m^{(k)} = \pm\frac{1-\beta_k}{1+\beta_k}\lambda A`,
aggregate :math:`\pm s\lambda A` with

.. math::
    s = \sum_k \alpha_k \frac{1-\beta_k}{1+\beta_k} = \sum_k \frac{\alpha_k}{2^{k+1}-1},

and the update closes the orbit iff :math:`2A = \eta\sqrt{s\lambda A}`:

.. math::
    A = \frac{\eta^2 \lambda s}{4},\qquad \|g\| = \lambda A = \frac{\eta^2\lambda^2 s}{4}.

*Stability.* :math:`\tfrac{d}{dm}\sqrt{|m|} = 1/(2\sqrt{|m|})` is even, so the linearisation along
the orbit is time-invariant: :math:`\delta x_{t+1} = \delta x_t - \eta/(2\sqrt{s\lambda A})
\sum_k \alpha_k \delta m^{(k)}_t = \delta x_t - \frac{1}{\lambda s}\sum_k\alpha_k\delta m^{(k)}_t`,
i.e. linear EMC with frozen uniform weights at :math:`u = \eta_{eff}\lambda = 1/s`. For uniform
weights the exact threshold (:mod:`proofs.linear_stability`) is :math:`u^\star = u_{-1} = 2/s`, so
:math:`u = u^\star/2` is inside the stable range: the cycle is attracting, for every
:math:`\eta` and :math:`\lambda` (the runs do not converge: a counterexample to convergence with
constant steps).

**Generic problems.** Let every coordinate of an axis-aligned quadratic (eigenvalues
:math:`\lambda_i`) run its own 2-cycle with a common :math:`\gamma` (the entropy is then constant):
:math:`2A_i = \eta (s\lambda_i A_i)^{1/\gamma}`, so

.. math::
    A_i = (\eta/2)^{\gamma/(\gamma-1)} (s\lambda_i)^{1/(\gamma-1)},\qquad
    |g_i| \propto \lambda_i^{\gamma/(\gamma-1)},

and :math:`\gamma` is the fixed point :math:`\gamma = 2 - \tilde H(p(\gamma))`,
:math:`p_i \propto \lambda_i^{2\gamma/(\gamma-1)}`, independent of :math:`\eta`
(:func:`generic_gamma`). The amplitude law is :math:`\|g\| \propto \eta^{\gamma/(\gamma-1)}`: the
exponent is 2 at :math:`\gamma = 2` (1-sparse) and grows without bound as :math:`\gamma \to 1`
(dense gradients: on rotated quadratics and logistic regression :math:`\tilde H \approx 0.9`,
exponent :math:`\approx 10\text{-}20`, so the cycle sits below rounding and the runs look
converged).

**Diminishing steps.** The cycle attracts at a rate independent of :math:`\eta`, so a slowly
decaying step is tracked adiabatically: :math:`\|g_t\| \approx \eta_t^2\lambda^2 s/4` (1-sparse),
i.e. :math:`t^{-1}` for :math:`\eta_0/\sqrt t` and :math:`t^{-2}` for :math:`\eta_0/t`
(:func:`diminishing_law`, long runs of the core).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import sympy as sp
from scipy.optimize import brentq

from emc_theory import EMC, Schedule, cascade_weights, minimize
from emc_theory.fit import power_law_fit
from emc_theory.problems import quadratic
from emc_theory.replay import replay, run_spec
from emc_theory.validation import check_choice, check_int, check_positive

from .linear_brackets import classify_run

ETA, LAM, A, S = sp.symbols("eta lambda A s", positive=True)
SCHEDULES = ("constant", "inv_sqrt", "inv_t")


def exact_cycle_sum(K: int) -> sp.Rational:
    r""":math:`s = \sum_k \alpha_k/(2^{k+1}-1)` for the uniform weights (exact)."""
    K = check_int("K", K, 1)
    return sp.Add(*[sp.Rational(1, K) / (2**(k + 1) - 1) for k in range(1, K + 1)])


def derive_cycle(K: int) -> dict:
    r"""Sympy derivation for one ``K``: the alternating steady-state momenta, the amplitude
    :math:`A` solving :math:`2A = \eta\sqrt{s\lambda A}`, the linearisation's :math:`u = 1/s` and
    its place below :math:`u^\star = 2/s` (JSON-ready: strings and floats)."""
    from .linear_stability import exact_betas, minus_one_crossing

    K = check_int("K", K, 1)
    betas = exact_betas(K)
    alpha = [sp.Rational(1, K)] * K
    m = sp.symbols(f"m1:{K + 1}")
    # alternating steady state: m_k = beta_k (-m_k) + (1 - beta_k) lambda A
    steady = sp.solve([sp.Eq(mk, -b * mk + (1 - b) * LAM * A) for mk, b in zip(m, betas)], m,
                      dict=True)[0]
    aggregate = sp.simplify(sp.Add(*[a * steady[mk] for a, mk in zip(alpha, m)]))
    s = exact_cycle_sum(K)
    amp = sp.solve(sp.Eq(2 * A, ETA * sp.sqrt(aggregate)), A)
    amp = [x for x in amp if x != 0]
    if len(amp) != 1:
        raise RuntimeError(f"expected one positive amplitude, got {amp}")
    amplitude = sp.simplify(amp[0])
    mt = aggregate.subs(A, amplitude)
    slope = sp.simplify(ETA / (2 * sp.sqrt(mt)))          # d/dm of eta sqrt(m) at the cycle
    u_lin = sp.simplify(slope * LAM)
    u_star = sp.nsimplify(minus_one_crossing(alpha, betas))
    return {
        "K": K, "s": str(s), "aggregate": str(aggregate),
        "aggregate_is_s_lambda_A": bool(sp.simplify(aggregate - s * LAM * A) == 0),
        "amplitude": str(amplitude), "amplitude_matches": bool(sp.simplify(
            amplitude - ETA**2 * LAM * s / 4) == 0),
        "grad_amplitude": str(sp.simplify(LAM * amplitude)), "period": 2,
        "linearised_u": str(u_lin), "u_star": str(u_star),
        "linearised_u_is_half_u_star": bool(sp.simplify(u_lin - u_star / 2) == 0),
    }


def closed_form_amplitude(K: int, eta: float, lam: float) -> float:
    r""":math:`A = \eta^2\lambda s/4` (float)."""
    return float(eta) ** 2 * float(lam) * float(exact_cycle_sum(K)) / 4


def eigen_axis_problem(lam: float, d: int = 2):
    """Axis-aligned quadratic with eigenvalue ``lam`` on axis 0 (1 elsewhere), minimiser 0."""
    eig = np.ones(d)
    eig[0] = lam
    return quadratic(d, eigenvalues=eig, rotate=False, x_star=np.zeros(d))


def detect_period(x: np.ndarray, max_period: int = 12, rtol: float = 1e-9) -> Optional[int]:
    """Smallest p with ``x[t+p] = x[t]`` (relative ``rtol``) over the given tail."""
    x = np.asarray(x, dtype=float)
    scale = max(float(np.max(np.abs(x))), 1e-300)
    for p in range(1, max_period + 1):
        if np.max(np.abs(x[p:] - x[:-p])) <= rtol * scale:
            return p
    return None


def core_cycle(K: int, eta: float, lam: float, steps: int = 3000, r: float = 1.0) -> dict:
    """Run the core on the eigen-axis problem; the tail's period and amplitude of x_1 and |g|."""
    problem = eigen_axis_problem(lam)
    x0 = np.zeros(problem.d)
    x0[0] = r
    traj = minimize(EMC(K=K, lr=eta, reading="root"), problem, x0, steps, record_iterates=True)
    tail = traj.iterates[-200:, 0]
    return {"period": detect_period(tail), "amplitude": float(np.max(np.abs(tail))),
            "grad_amplitude": float(np.max(traj.grad_norm[-200:])), "status": str(traj.status)}


def cycle_table(Ks=(1, 2, 3), etas=(0.1, 0.01), lam: float = 0.7) -> dict:
    """Closed form against the core: per (K, eta) period and relative amplitude error."""
    rows = []
    for K in Ks:
        for eta in etas:
            core = core_cycle(K, eta, lam)
            exact = closed_form_amplitude(K, eta, lam)
            rows.append({"K": K, "eta": eta, "lambda": lam, "period": core["period"],
                         "amplitude_core": core["amplitude"], "amplitude_exact": exact,
                         "rel_error": abs(core["amplitude"] - exact) / exact})
    return {"rows": rows, "max_rel_error": max(r["rel_error"] for r in rows),
            "law": "A = eta^2 lambda s / 4, |g| = eta^2 lambda^2 s / 4, "
                   "s = sum_k alpha_k / (2^(k+1) - 1); period 2"}


def cycle_counterexample(K: int = 3, eta: float = 0.1, lam: float = 0.7,
                         steps: int = 2000) -> dict:
    """A replayable record (``emc_theory.replay``) of a constant-step root run locked in its
    cycle: class ``"cycle"`` (bounded, not converging), with the exact amplitude."""
    problem = eigen_axis_problem(lam)
    x0 = np.zeros(problem.d)
    x0[0] = 1.0
    tol = 1e-3 * closed_form_amplitude(K, eta, lam) * lam
    spec = run_spec(EMC(K=K, lr=eta, reading="root"), problem, x0, steps, tol=tol)
    return {"kind": "root_emc_cycle", "spec": spec, "class": "cycle", "period": 2,
            "grad_amplitude_exact": closed_form_amplitude(K, eta, lam) * lam}


def replay_cycle_counterexample(record: dict) -> dict:
    """Replay a :func:`cycle_counterexample` record and classify the run."""
    traj = replay(record["spec"], record_iterates=True)
    out = classify_run(traj.grad_norm, str(traj.status), iterates=traj.iterates)
    out["matches"] = (out["class"] == record["class"]
                      and out.get("period") == record.get("period", out.get("period")))
    return out


# ----------------------------------------------------------------------------- generic problems

def generic_gamma(eigenvalues) -> float:
    r"""The fixed point :math:`\gamma = 2 - \tilde H(p)`, :math:`p_i \propto
    \lambda_i^{2\gamma/(\gamma-1)}` (entropy normalised by :math:`\log d`)."""
    lam = np.asarray(eigenvalues, dtype=float)
    d = lam.size
    log_lam = np.log(lam / lam.max())

    def ht(gamma):
        w = 2 * gamma / (gamma - 1) * log_lam
        p = np.exp(w - w.max())
        p /= p.sum()
        p = p[p > 0]
        return float(-(p * np.log(p)).sum() / math.log(d))

    return float(brentq(lambda g: g - 2 + ht(g), 1 + 1e-9, 2.0, xtol=1e-14))


def generic_grad_amplitude(eigenvalues, K: int, eta: float) -> float:
    r""":math:`\|g\| = (\eta/2)^{\gamma/(\gamma-1)} s^{1/(\gamma-1)}
    \sqrt{\sum_i \lambda_i^{2\gamma/(\gamma-1)}}`, with the weights at :math:`\tilde H = 2-\gamma`
    (:math:`s = \sum_k \alpha_k/(2^{k+1}-1)`)."""
    lam = np.asarray(eigenvalues, dtype=float)
    gamma = generic_gamma(lam)
    alpha = cascade_weights(2 - gamma, K)
    s = float(np.sum(alpha / (2.0 ** np.arange(2, K + 2) - 1)))
    e = gamma / (gamma - 1)
    return float((eta / 2) ** e * s ** (1 / (gamma - 1)) * np.sqrt(np.sum(lam ** (2 * e))))


def generic_law(K: int = 3, d: int = 10, cond: float = 10.0, etas=(0.01, 0.02, 0.05, 0.1),
                steps: int = 20000, seed: int = 0) -> dict:
    r"""Amplitude of :math:`\|g\|` on the cycle of an axis-aligned quadratic (``d``, ``cond``,
    geometric spectrum) over ``etas``: measured (core), predicted (:func:`generic_grad_amplitude`),
    and the fitted exponent (:func:`emc_theory.fit.power_law_fit`) beside
    :math:`\gamma/(\gamma-1)`."""
    problem = quadratic(d, cond=cond, rotate=False, seed=seed, x_star=np.zeros(d))
    lam = problem.weights
    x0 = np.random.default_rng(seed).standard_normal(d)
    etas = np.asarray(etas, dtype=float)
    opt = EMC(K=K, lr=Schedule(etas / problem.L), reading="root")
    traj = minimize(opt, problem, np.tile(x0, (etas.size, 1)), steps, diagnostics=True)
    measured = np.max(traj.grad_norm[-400:], axis=0)
    spread = (np.max(traj.grad_norm[-400:], axis=0) - np.min(traj.grad_norm[-400:], axis=0))
    predicted = np.array([generic_grad_amplitude(lam, K, e / problem.L) for e in etas])
    gamma = generic_gamma(lam)
    fit = power_law_fit(etas, measured)
    return {"K": K, "d": d, "cond": cond, "etas": etas.tolist(), "measured": measured.tolist(),
            "predicted": predicted.tolist(),
            "max_rel_error": float(np.max(np.abs(measured - predicted) / predicted)),
            "constant_on_cycle": bool(np.all(spread <= 1e-9 * measured)),
            "gamma_fixed_point": gamma,
            "gamma_measured": float(np.mean(traj.diagnostics["gamma"][-400:])),
            "exponent_predicted": gamma / (gamma - 1), "exponent_fitted": fit.exponent,
            "fit_residual": fit.residual}


def dense_gradient_note(steps: int = 20000) -> dict:
    r"""Rotated quadratic and logistic regression: measured :math:`\tilde H` on the tail and the
    exponent :math:`\gamma/(\gamma-1)` it implies (cycle amplitude far below rounding)."""
    from emc_theory.problems import logistic_regression

    rows = []
    for name, problem in (("quadratic_rotated", quadratic(10, cond=10, rotate=True, seed=1)),
                          ("logistic_regression", logistic_regression(50, 10, reg=1e-2, seed=0))):
        x0 = problem.x_star + np.random.default_rng(0).standard_normal(problem.d)
        traj = minimize(EMC(K=3, lr=0.01 / problem.L, reading="root"), problem, x0, steps,
                        diagnostics=True)
        gamma = float(np.mean(traj.diagnostics["gamma"][-400:]))
        rows.append({"problem": name, "final_grad_norm": float(traj.grad_norm[-1]),
                     "gamma_tail": gamma, "exponent": gamma / (gamma - 1)})
    return {"rows": rows}


# ----------------------------------------------------------------------------- diminishing steps

def diminishing_law(K: int = 2, lam: float = 0.7, eta0: float = 0.5, kind: str = "inv_sqrt",
                    steps: int = 100_000) -> dict:
    r""":math:`\|g_t\|` against :math:`\eta_t^2\lambda^2 s/4` on the eigen-axis problem over the
    last half of a long run (ratio range), and the fitted exponent of :math:`\|g_t\|` in
    :math:`t` beside the predicted one (-1 for ``inv_sqrt``, -2 for ``inv_t``)."""
    check_choice("schedule kind", kind, SCHEDULES[1:])
    check_positive("eta0", eta0)
    steps = check_int("steps", steps, 1000)
    problem = eigen_axis_problem(lam)
    x0 = np.zeros(problem.d)
    x0[0] = 1.0
    traj = minimize(EMC(K=K, lr=Schedule(eta0, kind), reading="root"), problem, x0, steps)
    t = np.arange(1, steps + 1)
    eta_t = eta0 / (np.sqrt(t) if kind == "inv_sqrt" else t)
    # |g| after step t is lambda |x_{t+1}|, x_{t+1} set by the step with eta_t
    g = traj.grad_norm[1:]
    pred = eta_t**2 * lam**2 * float(exact_cycle_sum(K)) / 4
    half = slice(steps // 2, steps)
    # the cycle alternates; compare the envelope (max over pairs of steps)
    env = np.maximum(g[half][:-1], g[half][1:])
    ratio = env / pred[half][:-1]
    fit = power_law_fit(t[half], g[half])
    return {"K": K, "lambda": lam, "eta0": eta0, "schedule": kind, "steps": steps,
            "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max()),
            "exponent_fitted": fit.exponent, "fit_residual": fit.residual,
            "exponent_predicted": -1.0 if kind == "inv_sqrt" else -2.0,
            "law": "|g_t| ~ eta_t^2 lambda^2 s / 4"}
