r"""DL1 (Papazov, Pesme & Flammarion): :math:`\lambda = \gamma/(1-\beta)^2` defines the path of
momentum gradient descent.

Claim (abstract of seed ``002``): a continuous-time analysis of momentum gradient descent (MGD)
with step :math:`\gamma` and momentum :math:`\beta` identifies an intrinsic quantity
:math:`\lambda = \gamma/(1-\beta)^2` which uniquely defines the optimisation path. The seed gives
only the abstract: ``PROOF = None``.

The argument (re-derived here, symbolic evidence): heavy ball
:math:`w_{k+1} - w_k - \beta(w_k - w_{k-1}) + \gamma\nabla F(w_k) = 0` with
:math:`w_k = W(kh)`, :math:`h = \gamma/(1-\beta)`, divided by :math:`\gamma`, is
:math:`\dot W + \lambda \ddot W + \nabla F(W) - \tfrac{(1-\beta)\lambda}{2}\ddot W
+ O((1-\beta)^2)`:
at fixed :math:`\lambda` the iterates follow :math:`\lambda\ddot W + \dot W + \nabla F = 0` up
to :math:`O(1-\beta)` (time :math:`t = k\gamma/(1-\beta)`).

What we check, on the 2-layer diagonal linear network :math:`\beta(w) = u\odot u - v\odot v`,
:math:`u = v = \alpha\mathbf{1}` at the start (:mod:`claims.dl_common`), on a seeded
overparametrised 3-sparse regression (n = 20, d = 40):

* numerically: MGD (``HeavyBall``) at fixed :math:`\lambda_0` for :math:`\beta` in a grid, its
  path :math:`\beta(w_k)` at :math:`t = k\lambda_0(1-\beta)` interpolated on a common time grid
  of :math:`[0, T]`, against the ODE path integrated by ``scipy.integrate.solve_ivp`` (DOP853,
  rtol 1e-10): the distance :math:`D(\beta) = \max_t\|\beta_{MGD}(t) - \beta_{ODE}(t)\|_2` and the
  slope of :math:`\log D` against :math:`\log(1-\beta)`;
* the scale of a *different* path: the same distance between the ODE paths of
  :math:`\lambda_0` and :math:`2\lambda_0` (and between MGD runs of the two at each
  :math:`\beta`); the ratio :math:`D(\beta)/D_{\lambda_0, 2\lambda_0}`;
* symbolically: the modified-equation expansion above (sympy).

Rule (written before running): *undecided* if a fact is missing or a run diverged. *holds* if
the fitted exponent is at least ``EXPONENT_MIN`` = 0.5, :math:`D` decreases monotonically as
:math:`\beta \to 1` and the ratio is at most ``RATIO_HOLDS`` = 0.1 at every :math:`\beta` of the
grid; *conditional* (holds for :math:`\beta` close enough to 1) if the exponent and monotonicity
hold and the ratio is at most 0.1 only at the largest :math:`\beta`s, the condition naming the
smallest such :math:`\beta`; *fails* if the exponent is :math:`\le 0` or the ratio at the largest
:math:`\beta` is at least ``RATIO_FAILS`` = 1 (same-:math:`\lambda` runs no closer than a factor-2
change of :math:`\lambda`); else *undecided*. Proof: *none*.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .base import CheckConfig, Counterexample, Evidence, Findings, Verdict
from .dl_common import (dln_beta, heavy_ball_for_lambdas, ode_path, path_distance,
                        problem_from_description, run_dln, sample_path, sparse_regression)

ID = "DL1"
TITLE = "lambda = gamma/(1-beta)^2 defines the momentum path"
WHERE = "abstract (continuous-time analysis of MGD)"
SOURCE = ("002_b6e316ebb5bc5295.txt (Papazov, Pesme & Flammarion, Leveraging continuous time to "
          "understand momentum when training diagonal linear networks)")
STATEMENT = ("We leverage a continuous-time approach in the analysis of momentum gradient descent "
             "with step size gamma and momentum parameter beta that allows us to identify an "
             "intrinsic quantity lambda = gamma/(1-beta)^2 which uniquely defines the "
             "optimisation path and provides a simple acceleration rule.")
PROOF = None

ALPHA = 0.1
"""Initialisation scale :math:`u_0 = v_0 = \\alpha\\mathbf{1}`."""
LAMBDA = 1.0
"""The fixed :math:`\\lambda_0` of the same-lambda runs; the different path uses ``2 * LAMBDA``."""
HORIZON = 50.0
"""Paths are compared on :math:`t \\in [0, T]` (the training loss falls from 1.3 to ~1e-5)."""
TIME_POINTS = 501
BETAS = {False: (0.9, 0.95, 0.98, 0.99), True: (0.9, 0.95)}
ODE_RTOL, ODE_ATOL = 1e-10, 1e-12
EXPONENT_MIN = 0.5
RATIO_HOLDS = 0.1
RATIO_FAILS = 1.0


def modified_equation() -> dict:
    r"""Sympy: expand :math:`[W(t+h) - W(t) - \beta(W(t) - W(t-h)) + \gamma g]/\gamma` with
    :math:`\gamma = \lambda\epsilon^2`, :math:`h = \lambda\epsilon`, :math:`\epsilon = 1-\beta`
    (Taylor to 4th order, a Laurent polynomial in :math:`\epsilon`); return its
    :math:`\epsilon^0` and :math:`\epsilon^1` coefficients and whether the :math:`\epsilon^{-1}`
    term vanishes and the :math:`\epsilon^0` term is the ODE."""
    eps, lam, g = sp.symbols("epsilon lambda g", positive=True)
    d = sp.symbols("W1:5")  # W', W'', W''', W''''
    h, gamma = lam * eps, lam * eps**2

    def shift(s):
        return sum(d[i] * s ** (i + 1) / sp.factorial(i + 1) for i in range(4))

    scheme = shift(h) - (1 - eps) * (-shift(-h)) + gamma * g
    laurent = sp.expand(scheme / gamma)  # a polynomial in epsilon and 1/epsilon
    singular = laurent.coeff(eps, -1)
    order0, order1 = laurent.coeff(eps, 0), laurent.coeff(eps, 1)
    return {"order0": order0, "first_correction": order1,
            "limit_is_ode": singular == 0 and sp.expand(order0 - (d[0] + lam * d[1] + g)) == 0}


def path_run(problem, lam: float, momenta, times) -> np.ndarray:
    r"""MGD paths for :math:`\lambda` and :math:`2\lambda` at each momentum (one array program per
    momentum), sampled at ``times``: shape (len(momenta), len(times), 2, d)."""
    paths = []
    for momentum in momenta:
        lams = np.array([lam, 2 * lam])
        time_step = lams * (1 - momentum)
        run = run_dln(heavy_ball_for_lambdas(lams, momentum), problem, ALPHA, 2,
                      int(np.ceil(times[-1] / time_step[0])), record_path=True)
        if (run.status == "diverged").any():
            raise RuntimeError(f"MGD diverged at momentum {momentum}")
        paths.append(sample_path(run.path, time_step, times))
    return np.array(paths)


def gather(config: CheckConfig) -> Findings:
    problem = sparse_regression(seed=config.seed)
    betas = BETAS[config.quick]
    times = np.linspace(0.0, HORIZON, TIME_POINTS)
    both = ode_path(problem, ALPHA, [LAMBDA, 2 * LAMBDA], times, rtol=ODE_RTOL, atol=ODE_ATOL)
    ode = {LAMBDA: both[:, 0], 2 * LAMBDA: both[:, 1]}
    mgd = path_run(problem, LAMBDA, betas, times)
    to_ode = path_distance(mgd[:, :, 0].transpose(1, 0, 2), ode[LAMBDA][:, None])
    different_ode = float(path_distance(ode[LAMBDA], ode[2 * LAMBDA]))
    different_mgd = path_distance(mgd[:, :, 0].transpose(1, 0, 2),
                                  mgd[:, :, 1].transpose(1, 0, 2))
    same_spread = max(float(path_distance(mgd[i, :, 0], mgd[j, :, 0]))
                      for i in range(len(betas)) for j in range(i + 1, len(betas)))
    one_minus = 1.0 - np.array(betas)
    exponent = float(np.polyfit(np.log(one_minus), np.log(to_ode), 1)[0])
    ratios = to_ode / different_ode
    below = [b for b, r in zip(betas, ratios) if r <= RATIO_HOLDS]
    contiguous = below and all(r <= RATIO_HOLDS for b, r in zip(betas, ratios) if b >= below[0])
    loss_end = float(0.5 * np.mean((problem.X @ ode[LAMBDA][-1] - problem.y) ** 2))

    symbolic = modified_equation()
    facts = {
        "ode_distance_exponent": exponent,
        "ode_distance_decreasing": bool(np.all(np.diff(to_ode) < 0)),
        "ratio_at_largest_beta": float(ratios[-1]),
        "ratio_at_smallest_beta": float(ratios[0]),
        "smallest_beta_with_small_ratio": float(below[0]) if contiguous else None,
        "symbolic_limit_is_ode": bool(symbolic["limit_is_ode"]),
    }
    evidence = [
        Evidence("numerical", "MGD path vs ODE path at fixed lambda",
                 f"lambda={LAMBDA}: max_t ||beta_MGD - beta_ODE|| = "
                 + ", ".join(f"{d:.2e} (beta={b})" for b, d in zip(betas, to_ode))
                 + f"; slope of log D vs log(1-beta) = {exponent:.3f}",
                 {"betas": list(betas), "distance_to_ode": to_ode.tolist(),
                  "exponent": exponent}),
        Evidence("independent", "different-lambda paths (ODE and MGD)",
                 f"ODE lambda={LAMBDA} vs {2 * LAMBDA}: {different_ode:.3e}; MGD same-lambda "
                 f"spread {same_spread:.2e}; ratio D/D_diff = "
                 + ", ".join(f"{r:.3f}" for r in ratios),
                 {"ode_different_lambda_distance": different_ode,
                  "mgd_different_lambda_distance": different_mgd.tolist(),
                  "mgd_same_lambda_spread": same_spread, "ratios": ratios.tolist(),
                  "ode_final_loss": loss_end}),
        Evidence("symbolic", "modified equation of heavy ball at fixed lambda",
                 f"[scheme]/gamma = {symbolic['order0']} + (1-beta) * "
                 f"({symbolic['first_correction']}) + O((1-beta)^2)",
                 {"order0": str(symbolic["order0"]),
                  "order1": str(symbolic["first_correction"]),
                  "limit_is_ode": bool(symbolic["limit_is_ode"])}),
    ]
    findings = Findings(evidence=evidence, facts=facts, parameters={
        **{f"data_{k}": v for k, v in problem.describe().items()}, "parametrisation": "beta = u*u - v*v, u0 = v0 = alpha",
        "alpha": ALPHA, "lambda": LAMBDA, "other_lambda": 2 * LAMBDA, "betas": list(betas),
        "horizon": HORIZON, "time_points": TIME_POINTS, "ode": "DOP853",
        "ode_rtol": ODE_RTOL, "ode_atol": ODE_ATOL, "seed": config.seed})
    if exponent <= 0 or ratios[-1] >= RATIO_FAILS:
        spec = {"problem": problem.describe(), "alpha": ALPHA, "lambda": LAMBDA,
                "momentum": float(betas[-1]), "horizon": HORIZON, "time_points": TIME_POINTS}
        findings.counterexamples.append(Counterexample(
            ID, f"MGD at lambda={LAMBDA}, beta={betas[-1]} stays {to_ode[-1]:.3e} from the "
            f"lambda-ODE path (a factor-2 change of lambda moves it {different_ode:.3e})",
            spec, replay(spec)))
    return findings


def replay(spec: dict) -> dict:
    """Rerun one MGD-vs-ODE comparison of a counterexample; return its outcome."""
    problem = problem_from_description(spec["problem"])
    times = np.linspace(0.0, spec["horizon"], spec["time_points"])
    lam = spec["lambda"]
    time_step = lam * (1 - spec["momentum"])
    run = run_dln(heavy_ball_for_lambdas([lam], spec["momentum"]), problem, spec["alpha"], 1,
                  int(np.ceil(times[-1] / time_step)), record_path=True)
    path = sample_path(run.path, [time_step], times)[:, 0]
    ode = ode_path(problem, spec["alpha"], [lam], times, rtol=ODE_RTOL, atol=ODE_ATOL)[:, 0]
    return {"distance_to_ode": float(path_distance(path, ode)),
            "final_beta_l1": float(np.abs(dln_beta(run.w[0])).sum())}


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    keys = ("ode_distance_exponent", "ode_distance_decreasing", "ratio_at_largest_beta",
            "ratio_at_smallest_beta")
    proof = "none"
    proof_reason = ("the seed is the abstract only; the paper's continuous-time proof is not in "
                    "it (the expansion is re-derived here as symbolic evidence)")
    if any(f.get(k) is None for k in keys):
        return Verdict("undecided", proof, "a path distance could not be established",
                       proof_reason)
    exponent, ratio_far, ratio_near = (f["ode_distance_exponent"], f["ratio_at_largest_beta"],
                                       f["ratio_at_smallest_beta"])
    if exponent <= 0 or ratio_far >= RATIO_FAILS:
        return Verdict("fails", proof,
                       f"MGD paths do not approach the lambda-ODE path (exponent {exponent:.2f}, "
                       f"same/different-lambda distance ratio {ratio_far:.2f} at the largest "
                       "beta)", proof_reason)
    converging = exponent >= EXPONENT_MIN and f["ode_distance_decreasing"]
    if converging and ratio_near <= RATIO_HOLDS and ratio_far <= RATIO_HOLDS:
        return Verdict("holds", proof,
                       f"distance to the lambda-ODE path is O((1-beta)^{exponent:.2f}) and at most "
                       f"{max(ratio_near, ratio_far):.2f} of a factor-2 change of lambda",
                       proof_reason)
    beta_min = f.get("smallest_beta_with_small_ratio")
    if converging and beta_min is not None:
        return Verdict("conditional", proof,
                       f"distance O((1-beta)^{exponent:.2f}); same-lambda paths are within "
                       f"{RATIO_HOLDS} of a factor-2 lambda change only for beta >= {beta_min}",
                       proof_reason, conditions=[f"beta >= {beta_min} (at fixed lambda)"])
    return Verdict("undecided", proof,
                   f"exponent {exponent:.2f}, ratio {ratio_far:.2f} at the largest beta: "
                   "neither convergence nor its failure is clear", proof_reason)
