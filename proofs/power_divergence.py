r"""The power reading's divergence law: the critical start distance :math:`r^\star` beyond which a
run diverges, its scaling law in :math:`\eta`, :math:`L`, :math:`K` and the schedule, and the rate
inside the basin.

Reading ``"power"``: :math:`x_{t+1} = x_t - \eta_t\operatorname{sign}(\tilde m_t)
|\tilde m_t|^{\gamma_t}`. On :math:`f = \tfrac{L}{2} x_1^2 + (\dots)` started on the eigen-axis
:math:`(r, 0, \dots)` the gradient is 1-sparse, :math:`\gamma = 2` and the weights are uniform.

**Scaling law (derived).** With :math:`x = z/(\eta_0 L^2)` the momenta are
:math:`m = \hat m/(\eta_0 L)` (:math:`\hat m` the same averages of :math:`z`) and the update
:math:`\eta_0 s(t)\,\hat m|\hat m|/(\eta_0 L)^2 = s(t)\,\hat m|\hat m|/(\eta_0 L^2)`, so
:math:`z_{t+1} = z_t - s(t)\,\hat m_t|\hat m_t|`: the map in :math:`z` does not depend on
:math:`\eta_0` or :math:`L` (:func:`derive_scaling` checks it with sympy), hence

.. math::
    r^\star(\eta_0, L, K, s) = \frac{C_{K,s}}{\eta_0 L^2},

with a constant :math:`C_{K,s}` per K and schedule shape :math:`s(t)` (constant, :math:`1/\sqrt t`,
:math:`1/t`), measured by bisection with the core (:func:`critical_distance`) and the law confirmed
by :func:`emc_theory.fit.power_law_fit` over :math:`\eta_0` and :math:`L` (exponents -1 and -2,
residual reported). For a general :math:`\gamma` the same substitution with
:math:`x = z\,(\eta_0 L^\gamma)^{-1/(\gamma-1)}` gives
:math:`r^\star \propto \eta_0^{-1/(\gamma-1)} L^{-\gamma/(\gamma-1)}`.

**Consequence.** A schedule fixed before the start point is chosen diverges from every start
beyond :math:`r^\star`: Theorem 1 fails as a global statement for the power reading and holds only
locally, for :math:`\|x_0 - x^\star\| < r^\star`. Inside, near the minimiser
:math:`\tilde m \approx g = Lx` (the momenta track a slowly moving gradient) and
:math:`\dot x = -\eta_t L^2 x|x|`: :math:`\|g_t\| \approx 1/(\eta L t)` (constant step),
:math:`1/(2\eta_0 L\sqrt t)` (:math:`\eta_0/\sqrt t`), :math:`1/(\eta_0 L\log t)`
(:math:`\eta_0/t`): sublinear, a rate :func:`local_rate` measures.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from emc_theory import EMC, Schedule, minimize
from emc_theory.fit import power_law_fit
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.problems import quadratic
from emc_theory.replay import replay, run_spec
from emc_theory.validation import check_choice, check_int, check_positive

SCHEDULES = ("constant", "inv_sqrt", "inv_t")


def derive_scaling(K: int = 2) -> dict:
    r"""Sympy: two steps of the 1-sparse power map written in :math:`z = \eta_0 L^2 x` are free of
    :math:`\eta_0` and :math:`L` (symbolic start :math:`z_0`, schedule values :math:`s_1, s_2`)."""
    K = check_int("K", K, 1)
    eta, L = sp.symbols("eta_0 L", positive=True)
    z0 = sp.Symbol("z_0", positive=True)
    svals = sp.symbols("s_1 s_2", positive=True)
    betas = [1 - sp.Rational(1, 2**k) for k in range(1, K + 1)]
    x = z0 / (eta * L**2)
    m = [sp.Integer(0)] * K
    zs = []
    for s in svals:
        g = L * x
        m = [b * mk + (1 - b) * g for b, mk in zip(betas, m)]
        mt = sp.Add(*m) / K
        x = x - eta * s * mt * sp.Abs(mt)
        zs.append(sp.simplify(eta * L**2 * x))
    free = all(not (z.free_symbols & {eta, L}) for z in zs)
    return {"K": K, "z_after_steps": [str(z) for z in zs], "free_of_eta_and_L": bool(free),
            "law": "r* = C_{K,schedule} / (eta0 L^2)"}


def eigen_axis_problem(L: float, d: int = 2):
    eig = np.ones(d)
    eig[0] = L
    return quadratic(d, eigenvalues=eig, rotate=False, x_star=np.zeros(d))


def diverges(K: int, eta0: float, L: float, kind: str, radii, steps: int = 2000) -> np.ndarray:
    """Batched core runs from ``(r, 0)`` for each radius: whether each ends diverged/non-finite."""
    radii = np.asarray(radii, dtype=float)
    problem = eigen_axis_problem(L)
    x0 = np.zeros((radii.size, problem.d))
    x0[:, 0] = radii
    traj = minimize(EMC(K=K, lr=Schedule(eta0, kind), reading="power"), problem, x0, steps,
                    history=False)
    return np.isin(traj.status.astype(str), FAILED_STATUSES)


def critical_distance(K: int, eta0: float, L: float = 1.0, kind: str = "constant",
                      steps: int = 2000, rounds: int = 4, points: int = 32) -> dict:
    r"""Bisection (batched: ``points`` radii per round, geometric) for :math:`r^\star`, the
    boundary between non-diverging and diverging starts; also checks that the diverging set is an
    up-set on the first grid (every larger radius diverges too)."""
    K = check_int("K", K, 1)
    check_positive("eta0", eta0)
    check_positive("L", L)
    check_choice("schedule kind", kind, SCHEDULES)
    guess = 30.0 / (eta0 * L**2)
    lo, hi = guess * 1e-3, guess * 1e3
    monotone = True
    for i in range(rounds):
        radii = np.geomspace(lo, hi, points)
        div = diverges(K, eta0, L, kind, radii, steps)
        if not div.any() or div.all():
            return {"K": K, "eta0": eta0, "L": L, "schedule": kind, "r_star": None,
                    "bracket": [float(lo), float(hi)], "monotone": monotone}
        first = int(np.argmax(div))
        if i == 0:
            monotone = bool(div[first:].all())
        lo, hi = radii[max(first - 1, 0)], radii[first]
    return {"K": K, "eta0": eta0, "L": L, "schedule": kind, "r_star": float(np.sqrt(lo * hi)),
            "bracket": [float(lo), float(hi)], "monotone": monotone,
            "C": float(np.sqrt(lo * hi) * eta0 * L**2)}


def scaling_law(K: int = 2, kind: str = "constant", etas=(0.03, 0.1, 0.3, 1.0),
                Ls=(0.5, 1.0, 2.0, 4.0)) -> dict:
    r""":math:`r^\star` over ``etas`` (at L = 1) and over ``Ls`` (at :math:`\eta_0 = 0.1`), the
    fitted exponents and residuals, and :math:`C = r^\star\eta_0 L^2`."""
    over_eta = [critical_distance(K, e, 1.0, kind) for e in etas]
    over_L = [critical_distance(K, 0.1, L, kind) for L in Ls]
    fe = power_law_fit(etas, [r["r_star"] for r in over_eta])
    fl = power_law_fit(Ls, [r["r_star"] for r in over_L])
    cs = [r["C"] for r in over_eta + over_L]
    return {"K": K, "schedule": kind,
            "r_star_over_eta": [[e, r["r_star"]] for e, r in zip(etas, over_eta)],
            "r_star_over_L": [[L, r["r_star"]] for L, r in zip(Ls, over_L)],
            "exponent_eta": fe.exponent, "residual_eta": fe.residual,
            "exponent_L": fl.exponent, "residual_L": fl.residual,
            "C": float(np.median(cs)), "C_spread": float((max(cs) - min(cs)) / np.median(cs)),
            "monotone": all(r["monotone"] for r in over_eta + over_L),
            "law": "r* = C / (eta0 L^2)"}


def constants_table(Ks=(1, 2, 3), kinds=SCHEDULES, eta0: float = 0.1) -> dict:
    r""":math:`C_{K,s} = r^\star \eta_0 L^2` per K and schedule (L = 1)."""
    rows = []
    for K in Ks:
        for kind in kinds:
            res = critical_distance(K, eta0, 1.0, kind)
            rows.append({"K": K, "schedule": kind, "C": res["C"], "bracket": res["bracket"],
                         "monotone": res["monotone"]})
    return {"eta0": eta0, "L": 1.0, "rows": rows}


def local_rate(K: int = 2, eta0: float = 0.1, L: float = 1.0, kind: str = "constant",
               steps: int = 20000, fraction: float = 0.5) -> dict:
    r"""Inside the basin (start at ``fraction`` :math:`r^\star`): :math:`\|g_t\|` against the
    predicted :math:`1/(\eta L t)`, :math:`1/(2\eta_0 L\sqrt t)` or :math:`1/(\eta_0 L\log t)`
    over the last half, and the fitted exponent in :math:`t`."""
    r_star = critical_distance(K, eta0, L, kind)["r_star"]
    problem = eigen_axis_problem(L)
    x0 = np.zeros(problem.d)
    x0[0] = fraction * r_star
    traj = minimize(EMC(K=K, lr=Schedule(eta0, kind), reading="power"), problem, x0, steps)
    t = np.arange(steps // 2, steps + 1)
    g = traj.grad_norm[t]
    pred = {"constant": 1 / (eta0 * L * t), "inv_sqrt": 1 / (2 * eta0 * L * np.sqrt(t)),
            "inv_t": 1 / (eta0 * L * np.log(t))}[kind]
    fit = power_law_fit(t, g)
    return {"K": K, "eta0": eta0, "L": L, "schedule": kind, "start": float(x0[0]),
            "status": str(traj.status), "ratio_to_prediction": [float((g / pred).min()),
                                                              float((g / pred).max())],
            "exponent_fitted": fit.exponent, "fit_residual": fit.residual}


def divergence_counterexample(K: int = 2, eta0: float = 0.1, kind: str = "inv_sqrt",
                              factor: float = 2.0, steps: int = 2000) -> dict:
    """A replayable record: the diminishing schedule fixed first, the start ``factor`` times
    beyond r*; class = the runner's failed status."""
    res = critical_distance(K, eta0, 1.0, kind)
    problem = eigen_axis_problem(1.0)
    x0 = np.zeros(problem.d)
    x0[0] = factor * res["r_star"]
    spec = run_spec(EMC(K=K, lr=Schedule(eta0, kind), reading="power"), problem, x0, steps)
    status = str(replay(spec).status)
    return {"kind": "power_emc_divergence", "spec": spec, "class": status,
            "r_star": res["r_star"], "factor": factor}


def replay_divergence_counterexample(record: dict) -> dict:
    status = str(replay(record["spec"]).status)
    return {"class": status, "matches": status == record["class"],
            "failed": status in FAILED_STATUSES}
