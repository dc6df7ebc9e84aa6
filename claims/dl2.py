r"""DL2 (Papazov, Pesme & Flammarion): small :math:`\lambda` recovers sparser solutions; and which
:math:`\lambda` governs EMC's implicit bias.

Claim (abstract of seed ``002``): training a 2-layer diagonal linear network in an
overparametrised regression, the recovered solution is characterised by an implicit
regularisation problem, and small values of :math:`\lambda = \gamma/(1-\beta)^2` help to recover
sparse solutions. The seed gives only the abstract; the paper's proof ("we then prove") is not in
it (proof status ``not_in_source``).

What we check (network, data and initialisation of :mod:`claims.support.dl_common`:
:math:`\beta = u\odot u - v\odot v`, :math:`u_0 = v_0 = \alpha\mathbf{1}`, n = 20, d = 40,
3-sparse :math:`\beta^\star`): heavy ball at momentum 0.9 with :math:`\gamma = \lambda(1-\beta)^2`
for :math:`\lambda` on a log grid, one array program, each run to :math:`F < 10^{-10}`; then the
Spearman rank correlations (``scipy.stats.spearmanr``) :math:`\rho_1` of
:math:`\|\beta_\infty\|_1` and :math:`\rho_2` of :math:`\|\beta_\infty - \beta^\star\|_2` with
:math:`\lambda`.

EMC (evidence only, not part of the rule): the ``"linear"`` reading with K levels is a mixture of
heavy balls with :math:`\lambda_k = \eta/(1-\beta_k) = \eta 2^k` (the spec's
:math:`\eta 4^k` would need undamped momentum :math:`m = \beta m + g`; EMC's
:math:`(1-\beta_k)` factor gives :math:`\eta 2^k`). A first-order expansion of the mixture
:math:`\dot W = -\sum_k \alpha_k m_k`, :math:`\lambda_k \dot m_k + m_k = \nabla F` gives the
weighted mean :math:`\bar\lambda = \sum_k \alpha_k \lambda_k = \eta\,T_{\mathrm{eff}}` (the
effective memory). We run EMC to :math:`F < 10^{-10}` from the same start, find the
:math:`\lambda^\star` whose heavy-ball solution is closest (projection onto the piecewise-linear
curve :math:`\log\lambda \mapsto \beta_\infty^{HB}(\lambda)`), and report which candidate is
nearest in :math:`\log\lambda`: each level's :math:`\eta 2^k`, :math:`\bar\lambda` (averaged
along the path, weighted by step length), the weighted harmonic mean
:math:`(\sum_k \alpha_k/\lambda_k)^{-1}` (added after the first run put :math:`\lambda^\star`
below :math:`\bar\lambda`), and the spec's :math:`\eta 4^k` values and their mean.

Rule (written before running): *undecided* if a fact is missing or a run did not converge;
*holds* if :math:`\rho_1 \ge` ``RHO_HOLDS`` = 0.9 and :math:`\rho_2 \ge 0.9`; *conditional* if
exactly one of the two reaches 0.9 (the condition names which: "l1 grows" or "error grows");
*fails* if both are below ``RHO_FAILS`` = 0.5; else *undecided*. A decrease of
:math:`\|\beta_\infty\|_1` between neighbouring :math:`\lambda`s is a counterexample to strict
monotonicity. Proof: the paper's proof is not in the seed: *gap, not located* when the statement
fails, else *none* (not assessed), the reason saying what is known (for *conditional*: the sense
of "sparse" in which the statement holds).

The subject (``config.subject``) is a :class:`SparsityPath`: the optimizer and the initialisation
scale a knob :math:`\lambda` sets, run and judged the same way (the gradient-flow, effective-scale
and EMC evidence is about the paper's runs and is left undetermined for another subject).
Controls, each verdict known from the gradient-flow theory of Woodworth et al. (2020): gradient
descent with a small step (``GF_STEP``, close to gradient flow) from :math:`u_0 = v_0 =
\alpha\mathbf{1}` converges to the hyperbolic-entropy solution of scale :math:`\alpha`, which
moves from the minimum-:math:`\ell_1` interpolator (:math:`\alpha \to 0`; here
:math:`\beta^\star`) towards the minimum-:math:`\ell_2` one as :math:`\alpha` grows, so both
the :math:`\ell_1` norm and the error grow with :math:`\alpha`. With
:math:`\alpha = 0.1\sqrt{\lambda}` small :math:`\lambda` recovers sparser solutions: *holds*; with
:math:`\alpha = 0.2/\sqrt{\lambda}` larger :math:`\lambda` does: *fails*.

Repair ``DL2.r1`` (statement restricted): smaller :math:`\lambda` gives solutions of smaller
:math:`\ell_1` norm on the problem tested; closeness to :math:`\beta^\star` is not claimed. DL2's
gather; rule: *holds* when every run converged and :math:`\rho_1 \ge 0.9`, *fails* when
:math:`\rho_1 < 0.5`, else *undecided*. Controls as DL2's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.stats import spearmanr

from emc_theory.baselines import HeavyBall
from emc_theory.emc import EMC
from emc_theory.validation import check_choice

from .support.base import (
    CheckConfig,
    Claim,
    Control,
    Counterexample,
    Evidence,
    Gathered,
    Proof,
    Source,
    Verdict,
)
from .support.dl_common import (
    dln_beta,
    effective_alpha,
    emc_level_lambdas,
    heavy_ball_for_lambdas,
    hyperbolic_entropy_solution,
    problem_from_description,
    run_dln,
    sparse_regression,
)
from .support.repairs_common import memoised, unseen_proof_verdict

ID = "DL2"
TITLE = "Small lambda recovers sparser DLN solutions"
TITLE_TEX = r"Small $\lambda$ recovers sparser DLN solutions"
WHERE = "abstract (implicit regularisation of the 2-layer DLN)"
SOURCE = Source("002_b6e316ebb5bc5295.txt", "Leveraging continuous time to understand momentum "
                "when training diagonal linear networks", "Papazov, Pesme & Flammarion", WHERE)
STATEMENT = ("When training a 2-layer diagonal linear network in an overparametrised regression "
             "setting, we characterise the recovered solution through an implicit "
             "regularisation problem. We then prove that small values of lambda help to recover "
             "sparse solutions.")
STATEMENT_TEX = (r"When training a 2-layer diagonal linear network in an overparametrised "
                 r"regression setting, we characterise the recovered solution through an implicit "
                 r"regularisation problem. We then prove that small values of $\lambda$ help to "
                 r"recover sparse solutions.")
PROOF = Proof(status="not_in_source")

ALPHA = 0.1
MOMENTUM = 0.9
LAMBDAS = {False: tuple(2.0 ** (k / 2) for k in range(-2, 7)), True: (1.0, 2.0, 4.0)}
TOL = 1e-10
MAX_STEPS = 40000
EMC_K = 3
EMC_ETAS = {False: (0.15, 0.3, 0.6), True: (0.6,)}
EMC_READING = "linear"
RHO_HOLDS = 0.9
RHO_FAILS = 0.5
GF_STEP = 0.05
"""Step of the gradient-descent controls (stable on this problem; their solutions are within 1% of
the gradient-flow limit in l1)."""


def solve_for_lambdas(problem, lambdas, alpha=ALPHA, momentum=MOMENTUM):
    """Heavy-ball runs to ``TOL`` for each lambda (one array program)."""
    lambdas = np.asarray(lambdas, dtype=float)
    return run_dln(heavy_ball_for_lambdas(lambdas, momentum), problem, alpha, lambdas.size,
                   MAX_STEPS, tol=TOL)


def closest_lambda(solution, lambdas, solutions):
    r"""The :math:`\lambda^\star` of the point nearest to ``solution`` on the piecewise-linear
    curve through ``solutions`` (rows, one per ``lambdas``), linear in :math:`\log\lambda`
    between grid points; returns ``(lambda_star, distance)``."""
    best = (np.inf, None)
    logs = np.log(lambdas)
    for i in range(len(lambdas) - 1):
        a, b = solutions[i], solutions[i + 1]
        t = np.clip(np.dot(solution - a, b - a) / np.dot(b - a, b - a), 0.0, 1.0)
        dist = float(np.linalg.norm(solution - (a + t * (b - a))))
        if dist < best[0]:
            best = (dist, float(np.exp(logs[i] + t * (logs[i + 1] - logs[i]))))
    return best[1], best[0]


def emc_comparison(problem, lambdas, hb_solutions, etas) -> dict:
    r"""EMC (``EMC_READING``, ``EMC_K`` levels, per-run lr ``etas``) to ``TOL``; the heavy-ball
    :math:`\lambda^\star` closest to its solution and the candidate lambdas of the cascade:
    each level's :math:`\eta 2^k`, the step-length-weighted path averages of the arithmetic mean
    :math:`\sum_k\alpha_k\lambda_k` and of the harmonic mean
    :math:`(\sum_k\alpha_k/\lambda_k)^{-1}`, and the spec's :math:`\eta 4^k` with their mean."""
    etas = np.asarray(etas, dtype=float)
    run = run_dln(EMC(K=EMC_K, lr=etas, reading=EMC_READING), problem, ALPHA, etas.size,
                  MAX_STEPS, tol=TOL)
    level = emc_level_lambdas(EMC_K, etas)
    spec_level = np.multiply.outer(etas, 4.0 ** np.arange(1, EMC_K + 1))
    rows = []
    curve_spread = float(np.linalg.norm(hb_solutions[-1] - hb_solutions[0]))
    for b, eta in enumerate(etas):
        n = int(run.stop_step[b])
        weights, lengths = run.weights[:n, b], run.step_norm[:n, b] / run.step_norm[:n, b].sum()
        star, dist = closest_lambda(dln_beta(run.w[b]), lambdas, hb_solutions)
        candidates = {f"level_{k + 1}": level[b, k] for k in range(EMC_K)}
        candidates.update({
            "arithmetic_mean": lengths @ (weights @ level[b]),
            "harmonic_mean": 1.0 / (lengths @ (weights @ (1.0 / level[b]))),
            **{f"spec_level_{k + 1}": spec_level[b, k] for k in range(EMC_K)},
            "spec_arithmetic_mean": lengths @ (weights @ spec_level[b])})
        log_gaps = {k: float(abs(np.log(star / v))) for k, v in candidates.items()}
        rows.append({"eta": float(eta), "status": str(run.status[b]), "stop_step": n,
                     "lambda_star": star, "lambda_star_over_eta": star / float(eta),
                     "at_grid_edge": bool(np.isclose(star, lambdas[0])
                                          or np.isclose(star, lambdas[-1])),
                     "distance_to_hb_curve": dist, "relative_distance": dist / curve_spread,
                     "candidates": {k: float(v) for k, v in candidates.items()},
                     "log_gaps": log_gaps, "nearest": min(log_gaps, key=log_gaps.get)})
    return {"rows": rows, "curve_spread": curve_spread}


@dataclass(frozen=True)
class SparsityPath:
    """The subject of DL2: what a knob ``lambda`` sets: ``optimizer(lambdas)`` (per-run lr of
    shape ``(len(lambdas),)``) and the initialisation scale ``alpha(lambdas)`` (a scalar or one
    per run); ``name`` keys it in counterexample records."""

    name: str
    description: str
    optimizer: Callable
    alpha: Callable


def _gradient_descent(lambdas):
    return HeavyBall(lr=np.full(len(lambdas), GF_STEP), beta=0.0)


PAPER_PATH = SparsityPath(
    "heavy_ball", f"heavy ball, momentum {MOMENTUM}, gamma = lambda (1-beta)^2, alpha = {ALPHA}",
    lambda lambdas: heavy_ball_for_lambdas(lambdas, MOMENTUM), lambda lambdas: ALPHA)
PATHS = {path.name: path for path in (
    PAPER_PATH,
    SparsityPath("gd_alpha_grows", f"gradient descent (step {GF_STEP}), alpha = 0.1 sqrt(lambda)",
                 _gradient_descent, lambda lambdas: 0.1 * np.sqrt(lambdas)),
    SparsityPath("gd_alpha_shrinks",
                 f"gradient descent (step {GF_STEP}), alpha = 0.2 / sqrt(lambda)",
                 _gradient_descent, lambda lambdas: 0.2 / np.sqrt(lambdas)),
)}


def solve_path(path: SparsityPath, problem, lambdas):
    """The runs of ``path`` to ``TOL`` for each lambda (one array program)."""
    lambdas = np.asarray(lambdas, dtype=float)
    return run_dln(path.optimizer(lambdas), problem, path.alpha(lambdas), lambdas.size,
                   MAX_STEPS, tol=TOL)


@dataclass(frozen=True)
class Facts:
    """What the rule of DL2 reads (``None``: not established; the gradient-flow, effective-scale
    and EMC facts are about the paper's runs and are ``None`` for another subject)."""

    all_converged: Optional[bool]
    spearman_l1: Optional[float]
    spearman_error: Optional[float]
    l1_relative_increase: Optional[float]
    gf_limit_l1: Optional[float]
    gf_limit_sparser_than_all: Optional[bool]
    spearman_distance_to_gf_limit: Optional[float]
    spearman_effective_alpha: Optional[float]
    emc_converged: Optional[bool]
    emc_inside_grid: Optional[bool]
    emc_max_log_gap_level_1: Optional[float]
    emc_max_log_gap_level_3: Optional[float]
    emc_max_log_gap_arithmetic_mean: Optional[float]
    emc_max_log_gap_harmonic_mean: Optional[float]


_PAPER_FACTS = ("gf_limit_l1", "gf_limit_sparser_than_all", "spearman_distance_to_gf_limit",
                "spearman_effective_alpha", "emc_converged", "emc_inside_grid",
                "emc_max_log_gap_level_1", f"emc_max_log_gap_level_{EMC_K}",
                "emc_max_log_gap_arithmetic_mean", "emc_max_log_gap_harmonic_mean")


def _paper_evidence(problem, lambdas, solutions, quick: bool) -> tuple:
    """Facts and evidence about the paper's runs: the gradient-flow limit, the best scalar
    effective scale, and EMC against the heavy-ball curve."""
    l1 = np.abs(solutions).sum(axis=1)
    limit = hyperbolic_entropy_solution(problem, ALPHA)
    to_limit = np.linalg.norm(solutions - limit, axis=1)
    fits = np.array([effective_alpha(problem, s) for s in solutions])
    emc = emc_comparison(problem, lambdas, solutions, EMC_ETAS[quick])
    facts = {"gf_limit_l1": float(np.abs(limit).sum()),
             "gf_limit_sparser_than_all": bool(np.all(np.abs(limit).sum() < l1)),
             "spearman_distance_to_gf_limit": float(spearmanr(lambdas, to_limit).statistic),
             "spearman_effective_alpha": float(spearmanr(lambdas, fits[:, 0]).statistic),
             "emc_converged": all(r["status"] == "converged" for r in emc["rows"]),
             "emc_inside_grid": not any(r["at_grid_edge"] for r in emc["rows"]),
             **{f"emc_max_log_gap_{name}": max(r["log_gaps"][name] for r in emc["rows"])
                for name in ("level_1", f"level_{EMC_K}", "arithmetic_mean", "harmonic_mean")}}
    emc_line = "; ".join(
        f"eta={r['eta']}: lambda*={r['lambda_star']:.3g} = {r['lambda_star_over_eta']:.2f} eta "
        f"(arithmetic mean {r['candidates']['arithmetic_mean'] / r['eta']:.2f} eta, harmonic "
        f"{r['candidates']['harmonic_mean'] / r['eta']:.2f} eta; nearest "
        f"{r['nearest'].replace('_', ' ')}; "
        f"off-curve {r['relative_distance']:.2f})" for r in emc["rows"])
    evidence = [
        Evidence("independent", "closed-form lambda -> 0 limit (hyperbolic entropy)",
                 f"gradient-flow limit (Woodworth et al. 2020, alpha={ALPHA}): l1 "
                 f"{np.abs(limit).sum():.4f}, error "
                 f"{np.linalg.norm(limit - problem.beta_star):.4f}; "
                 "distance of the heavy-ball solutions to it: "
                 + ", ".join(f"{d:.3f}" for d in to_limit)
                 + "; best scalar alpha_eff: " + ", ".join(f"{a:.3f}" for a in fits[:, 0])
                 + " (fit residual " + ", ".join(f"{r:.3f}" for r in fits[:, 1]) + ")",
                 {"limit_l1": float(np.abs(limit).sum()),
                  "limit_error": float(np.linalg.norm(limit - problem.beta_star)),
                  "distance_to_limit": to_limit.tolist(), "effective_alpha": fits[:, 0].tolist(),
                  "effective_alpha_residual": fits[:, 1].tolist()}),
        Evidence("numerical", "EMC's implicit bias against the heavy-ball lambda curve",
                 f"EMC {EMC_READING} K={EMC_K}, lambda_k = eta 2^k: {emc_line}", emc),
    ]
    return facts, evidence


def gather(config: CheckConfig) -> Gathered[Facts]:
    path = PAPER_PATH if config.subject is None else config.subject
    if not isinstance(path, SparsityPath):
        raise TypeError(f"DL2's subject must be a SparsityPath or None, got {path!r}")
    problem = sparse_regression(seed=config.seed)
    lambdas = np.array(LAMBDAS[config.quick])
    run = solve_path(path, problem, lambdas)
    solutions = dln_beta(run.w)
    l1 = np.abs(solutions).sum(axis=1)
    error = np.linalg.norm(solutions - problem.beta_star, axis=1)
    support = (np.abs(solutions) > 1e-2 * np.abs(solutions).max(axis=1, keepdims=True)).sum(1)
    converged = bool(np.all(run.status == "converged"))
    rho_l1 = float(spearmanr(lambdas, l1).statistic)
    rho_error = float(spearmanr(lambdas, error).statistic)
    table = ", ".join(f"{lam:.3g}: {a:.4f}/{e:.4f}" for lam, a, e in zip(lambdas, l1, error))
    evidence = [
        Evidence("numerical", "heavy-ball solutions over a lambda grid",
                 f"lambda: ||beta_inf||_1 / ||beta_inf - beta*||: {table}; Spearman "
                 f"rho_l1={rho_l1:.3f}, rho_err={rho_error:.3f}; ||beta*||_1="
                 f"{np.abs(problem.beta_star).sum():.4f}",
                 {"lambdas": lambdas.tolist(), "l1": l1.tolist(), "error": error.tolist(),
                  "support_size_1pct": support.tolist(), "stop_step": run.stop_step.tolist(),
                  "status": run.status.tolist(), "final_loss": run.final_loss.tolist(),
                  "beta_star_l1": float(np.abs(problem.beta_star).sum())})]
    paper_facts = dict.fromkeys(_PAPER_FACTS)
    if config.subject is None:
        paper_facts, paper_evidence = _paper_evidence(problem, lambdas, solutions, config.quick)
        evidence += paper_evidence
    facts = Facts(all_converged=converged, spearman_l1=rho_l1, spearman_error=rho_error,
                  l1_relative_increase=float(l1[-1] / l1[0] - 1), **paper_facts)
    parameters = {
        **{f"data_{k}": v for k, v in problem.describe().items()},
        "parametrisation": "beta = u*u - v*v, u0 = v0 = alpha",
        "alpha": ALPHA, "momentum": MOMENTUM, "lambdas": lambdas.tolist(), "tol": TOL,
        "max_steps": MAX_STEPS, "emc_K": EMC_K, "emc_etas": list(EMC_ETAS[config.quick]),
        "emc_reading": EMC_READING, "emc_entropy": "l2", "seed": config.seed}
    if config.subject is not None:
        parameters["subject"] = path.description
    counterexamples = []
    drops = np.diff(l1)
    if converged and drops.min() < 0:
        i = int(np.argmin(drops))
        spec = {"problem": problem.describe(), "alpha": ALPHA, "momentum": MOMENTUM,
                "lambdas": [float(lambdas[i]), float(lambdas[i + 1])]}
        if config.subject is not None:
            spec["path"] = path.name
        counterexamples.append(Counterexample(
            ID, f"||beta_inf||_1 falls from {l1[i]:.6f} to {l1[i + 1]:.6f} as lambda grows "
            f"from {lambdas[i]:.3g} to {lambdas[i + 1]:.3g}", spec, replay(spec)))
    return Gathered(facts=facts, evidence=evidence, counterexamples=counterexamples,
                    parameters=parameters)


def replay(spec: dict) -> dict:
    """Rerun the runs of a counterexample (heavy ball at its ``alpha`` and ``momentum``, or the
    named ``path``); return their l1 norms and statuses."""
    problem = problem_from_description(spec["problem"])
    if "path" in spec:
        run = solve_path(PATHS[check_choice("path", spec["path"], tuple(PATHS))], problem,
                         spec["lambdas"])
    else:
        run = solve_for_lambdas(problem, spec["lambdas"], spec["alpha"], spec["momentum"])
    return {"l1": np.abs(dln_beta(run.w)).sum(axis=1).tolist(), "status": run.status.tolist()}


def _statement(f: Facts) -> Verdict:
    """The statement verdict of DL2's rule (the proof verdict is filled in by :func:`decide`)."""
    if any(value is None for value in (f.all_converged, f.spearman_l1, f.spearman_error)):
        return Verdict("undecided", "none", "a solution could not be established", "")
    if not f.all_converged:
        return Verdict("undecided", "none", f"not every heavy-ball run reached F < {TOL}", "")
    rho_l1, rho_error = f.spearman_l1, f.spearman_error
    numbers = f"Spearman rho: l1 {rho_l1:.2f}, error {rho_error:.2f} vs lambda"
    if rho_l1 >= RHO_HOLDS and rho_error >= RHO_HOLDS:
        return Verdict("holds", "none", f"l1 norm and error grow with lambda ({numbers})", "")
    if (rho_l1 >= RHO_HOLDS) != (rho_error >= RHO_HOLDS):
        measures = ("the l1 norm of the solution", "the distance to the sparse beta*")
        grows, other = measures if rho_l1 >= RHO_HOLDS else measures[::-1]
        return Verdict("conditional", "none",
                       f"only one measure grows with lambda: {grows} does, {other} does not "
                       f"({numbers})", "",
                       conditions=[f"sparsity read as {grows} (the measure that grows with "
                                   f"lambda, Spearman rho >= {RHO_HOLDS}), not as {other}"])
    if rho_l1 < RHO_FAILS and rho_error < RHO_FAILS:
        return Verdict("fails", "none", f"neither measure grows with lambda ({numbers})", "")
    return Verdict("undecided", "none", f"weak trend ({numbers})", "")


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    verdict = _statement(f)
    known = None
    if verdict.statement == "conditional":
        l1 = "l1 norm (the sparsity of the implicit regularisation problem)"
        error = "distance to the sparse beta*"
        grows, other = (l1, error) if f.spearman_l1 >= RHO_HOLDS else (error, l1)
        known = (f"here smaller lambda gives a smaller {grows} but not a smaller {other}: a "
                 "proof of 'helps to recover sparse solutions' can hold only in the first sense")
    verdict.proof, verdict.proof_reason = unseen_proof_verdict(
        verdict.statement, "the seed is the abstract only", known)
    return verdict


# ----------------------------------------------------------------------------- repair DL2.r1
# The statement restricted to what the evidence supports: small lambda gives solutions of
# smaller l1 norm; recovery of the sparse beta* (the error) is not claimed. DL2's gather; the
# rule reads the l1 part of DL2's rule.

gather_once = memoised(gather)
"""DL2's gather, remembered: the repair reads the same evidence right after it."""


def decide_repair(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    conditions = [f"momentum {MOMENTUM}, alpha = {ALPHA}, lambda on the grid of the run"]
    if f.spearman_error is not None:
        conditions.append(f"the distance to beta* is not claimed (Spearman rho with lambda "
                          f"{f.spearman_error:.2f})")
    limit = ""
    if f.gf_limit_sparser_than_all is not None:
        limit = ("; the gradient-flow (lambda -> 0) solution of the same alpha "
                 + ("is smaller in l1 than every solution" if f.gf_limit_sparser_than_all
                    else "is not smaller in l1 than every solution"))
        if f.spearman_distance_to_gf_limit is not None:
            limit += (", and the distance to it grows with lambda (Spearman rho "
                      f"{f.spearman_distance_to_gf_limit:.2f})")
    proof, reason = ("none", "no proof: the restricted statement rests on the runs (the paper's "
                     "proof, which is not in the source, may cover it)")
    if f.all_converged is None or f.spearman_l1 is None:
        return Verdict("undecided", proof, "a solution could not be established", reason,
                       conditions=conditions)
    if not f.all_converged:
        return Verdict("undecided", proof, f"not every run reached F < {TOL}", reason,
                       conditions=conditions)
    numbers = (f"Spearman rho of ||beta_inf||_1 with lambda {f.spearman_l1:.2f}; l1 grows by "
               f"{100 * f.l1_relative_increase:.1f}% over the grid{limit}")
    if f.spearman_l1 >= RHO_HOLDS:
        return Verdict("holds", proof, f"the l1 norm grows with lambda ({numbers})", reason,
                       conditions=conditions)
    if f.spearman_l1 < RHO_FAILS:
        return Verdict("fails", proof, f"the l1 norm does not grow with lambda ({numbers})",
                       reason, conditions=conditions)
    return Verdict("undecided", proof, f"weak trend ({numbers})", reason, conditions=conditions)


REPAIR = Claim(
    id=f"{ID}.r1", title="Small lambda gives DLN solutions of smaller l1 norm", source=SOURCE,
    title_tex=r"Small $\lambda$ gives DLN solutions of smaller $\ell_1$ norm",
    statement_tex=(r"When training a 2-layer diagonal linear network ($\beta = u \odot u - "
                   rf"v \odot v$, $u_0 = v_0 = \alpha = {ALPHA}$) with momentum gradient descent "
                   rf"(momentum {MOMENTUM}) on the overparametrised sparse regression tested "
                   r"($n = 20$, $d = 40$), the $\ell_1$ norm of the recovered solution increases "
                   r"with $\lambda = \gamma/(1-\beta)^2$ over $\lambda$ from "
                   rf"{LAMBDAS[False][0]:.2g} to {LAMBDAS[False][-1]:.2g}: smaller $\lambda$ "
                   r"recovers solutions of smaller $\ell_1$ norm (the sparsity of the implicit "
                   r"regularisation problem). Closeness to the sparse ground truth is not "
                   r"claimed."),
    statement=("When training a 2-layer diagonal linear network (beta = u*u - v*v, u0 = v0 = "
               f"alpha = {ALPHA}) with momentum gradient descent (momentum {MOMENTUM}) on the "
               "overparametrised sparse regression tested (n = 20, d = 40), the l1 norm of the "
               "recovered solution increases with lambda = gamma/(1-beta)^2 over lambda from "
               f"{LAMBDAS[False][0]:.2g} to {LAMBDAS[False][-1]:.2g}: smaller lambda recovers "
               "solutions of smaller l1 norm (the sparsity of the implicit regularisation "
               "problem). Closeness to the sparse ground truth is not claimed."),
    proof=Proof(status="none"), kind="universal", facts=Facts, gather=gather_once,
    decide=decide_repair, replay=replay, may_be_undetermined=frozenset(),
    repair_of=ID, change="statement",
    difference=("'Small values of lambda help to recover sparse solutions' restricted to the sense "
                "the runs support: smaller l1 norm of the recovered solution. The recovery error "
                "||beta_inf - beta*|| does not grow monotonically with lambda on the grid (DL2's "
                "evidence), so 'recover' in the sense of closeness to the sparse ground truth is "
                "dropped."),
    controls=(
        Control("gradient flow, scale grows with lambda",
                "near-gradient-flow runs from alpha = 0.1 sqrt(lambda): the hyperbolic-entropy "
                "solution moves from the minimum-l1 towards the minimum-l2 interpolator as alpha "
                "grows, so its l1 norm grows with lambda", PATHS["gd_alpha_grows"], "holds",
                "positive"),
        Control("gradient flow, scale shrinks with lambda",
                "alpha = 0.2 / sqrt(lambda): larger lambda, smaller scale, smaller l1 norm",
                PATHS["gd_alpha_shrinks"], "fails", "negative"),
    ))


CLAIM = Claim(
    id=ID, title=TITLE, source=SOURCE, statement=STATEMENT, proof=PROOF, kind="universal",
    facts=Facts, gather=gather_once, decide=decide, replay=replay,
    title_tex=TITLE_TEX, statement_tex=STATEMENT_TEX,
    controls=(
        Control("gradient flow, scale grows with lambda",
                "near-gradient-flow runs from alpha = 0.1 sqrt(lambda): the hyperbolic-entropy "
                "solution moves from the minimum-l1 towards the minimum-l2 interpolator as alpha "
                "grows, so l1 and error grow with lambda", PATHS["gd_alpha_grows"], "holds",
                "positive"),
        Control("gradient flow, scale shrinks with lambda",
                "alpha = 0.2 / sqrt(lambda): larger lambda, smaller scale, sparser solution",
                PATHS["gd_alpha_shrinks"], "fails", "negative"),
    ),
    repairs=(REPAIR,),
)
