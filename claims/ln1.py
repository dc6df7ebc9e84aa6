r"""LN1 (Tan & Huang, Lion through an information bottleneck): tanh carries more information about
the sign of the update than sign does, suggesting tanh in place of sign in Lion.

Claim: model an update component as :math:`X \mid Y = \pm 1 \sim N(\pm\mu, \sigma^2)`, :math:`Y`
uniform; the representation :math:`T = \tanh(\mu x/\sigma^2)` transfers more information about
:math:`Y` than :math:`\operatorname{sign}(x)`, suggesting tanh in place of sign. The seed states the
representation (TL;DR) but gives no derivation: ``PROOF = None``.

Every quantity depends on :math:`s = \mu/\sigma` only (rescaling :math:`x` is invertible), so we
take :math:`\sigma = 1`. What we check:

* symbolic (sympy): :math:`P(Y=1 \mid x) = \sigma(2\mu x/\sigma^2)` (logistic), hence
  :math:`E[Y \mid x] = \tanh(\mu x/\sigma^2)`: the representation is the posterior mean, a
  sufficient statistic; for :math:`T = \tanh(a x)` the Jacobian cancels in
  :math:`p_T(t\mid 1)/p_T(t\mid -1)`, so :math:`I(T;Y) = I(X;Y)` for every :math:`a > 0`;
* numerical (quadrature): :math:`I(X;Y) = \log 2 - E\,h_b(\sigma(2 s Z))`,
  :math:`Z \sim N(s, 1)`, and independently :math:`h(X) - h(X\mid Y)`;
  :math:`I(\operatorname{sign}X;Y)` from the quadrature of the crossover probability, against the
  closed form :math:`\log 2 - h_b(\Phi(-s))`; :math:`I(T;Y)` by quadrature in :math:`t` (where
  :math:`\tanh` does not round to :math:`\pm 1`); the gap :math:`I(X;Y) - I(\operatorname{sign}X;Y)`
  on :math:`s \in [0.05, 5]`;
* runs: Lion with ``transform="sign"`` against ``transform="tanh"`` (scales ``TANH_SCALES``) on
  five convex test functions, each problem's grid one batched sweep (:func:`tuned_runs`).
  Protocol, the same for every configuration: constant step size tuned on ``LR_GRID`` by the
  median (over seeds) number of steps to reach
  :math:`f - f^\star \le` ``REL_TARGET`` :math:`(f(x_0) - f^\star)`, ties broken by the median final
  gap; :math:`x_0 = x^\star + N(0, I)`. Per problem, tanh *wins* when it needs at most
  :math:`(1 -` ``MARGIN`` :math:`)` times sign's steps (or only it reaches the target, or neither
  does and its final gap is at most half of sign's); *loses* symmetrically; else ties.

Rule (written before running). Information part: *holds* when :math:`I(X;Y) > I(\operatorname{sign}
X;Y)` at every grid point and the quadratures are validated (sign quadrature = closed form, the two
:math:`I(X;Y)` quadratures agree); *fails* when some grid point has :math:`I(X;Y) <
I(\operatorname{sign}X;Y)`; else *undecided*. Practical part: *holds* when some tanh scale wins on
a strict majority of problems and loses on none; *fails* when no scale wins on more problems than it
loses; else *conditional*. Statement: the information part failing -> *fails*; either part
undecided -> *undecided*; both hold -> *holds*; information holds and practice is conditional or
fails -> *conditional* (the information claim is true, the suggestion it motivates is not borne out
in general). Proof: *none*.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy.integrate import quad
from scipy.special import expit, ndtr, xlogy

from emc_theory.baselines import Lion
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic, smoothed_abs
from emc_theory.replay import run_spec
from emc_theory.runner import minimize
from emc_theory.sweep import sweep
from proofs.derivation import decide_zero

from .base import CheckConfig, Counterexample, Evidence, Findings, Verdict

ID = "LN1"
TITLE = "tanh transfers more information than sign (Lion)"
WHERE = "Lion section (information bottleneck)"
SOURCE = ("001_efec067ef178dacf.txt (Tan & Huang, Information-theoretic perspectives on "
          "optimizers)")
STATEMENT = ("With each update component modelled as X | Y = +-1 ~ N(+-mu, sigma^2), the "
             "representation T = tanh(mu x / sigma^2) transfers more information about Y than "
             "sign(x), suggesting tanh in place of sign.")
PROOF = None

QUAD_OPTIONS = {"epsabs": 1e-13, "epsrel": 1e-11, "limit": 200}
SIGN_QUADRATURE_TOL = 1e-9
TWO_QUADRATURES_TOL = 1e-8
TANH_QUADRATURE_TOL = 1e-7
TANH_MAX_ARGUMENT = 15.0
r"""The :math:`t`-space quadrature is run only where :math:`a(s + 10) \le 15`, so
:math:`\tanh` stays representably below 1 over the mass."""

TANH_SCALES = (1.0, 10.0, 100.0)
LR_GRID = tuple(10.0 ** np.arange(-3.0, 1.01, 0.5))
REL_TARGET = 1e-3
MARGIN = 0.1
GAP_FACTOR = 2.0


def _gaussian(z):
    return np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)


def binary_entropy(p):
    r""":math:`h_b(p) = -p\log p - (1-p)\log(1-p)` (nats)."""
    return -xlogy(p, p) - xlogy(1 - p, 1 - p)


def _binary_entropy_of_logistic(u):
    r""":math:`h_b(\sigma(u)) = \sigma(u)\log(1+e^{-u}) + \sigma(-u)\log(1+e^{u})`, stable."""
    return expit(u) * np.logaddexp(0, -u) + expit(-u) * np.logaddexp(0, u)


def information_sign_closed_form(snr: float) -> float:
    r""":math:`I(\operatorname{sign}X;Y) = \log 2 - h_b(\Phi(-s))`."""
    return float(np.log(2) - binary_entropy(ndtr(-snr)))


def information_sign_quadrature(snr: float) -> float:
    r""":math:`I(\operatorname{sign}X;Y)` of the binary symmetric channel whose crossover
    :math:`P(X < 0 \mid Y = 1) = \int_{-\infty}^0 \varphi(z - s)\,dz` is integrated numerically,
    from the joint table :math:`\sum p(a, y)\log\frac{p(a, y)}{p(a)p(y)}`."""
    flip = quad(lambda z: _gaussian(z - snr), -np.inf, 0.0, **QUAD_OPTIONS)[0]
    joint = 0.5 * np.array([[1 - flip, flip], [flip, 1 - flip]])
    marginal_a, marginal_y = joint.sum(axis=1), joint.sum(axis=0)
    return float(np.sum(xlogy(joint, joint / np.outer(marginal_a, marginal_y))))


def information_posterior(snr: float) -> float:
    r""":math:`I(X;Y) = \log 2 - E\,h_b(P(Y=1\mid X))` with
    :math:`P(Y=1\mid x) = \sigma(2 s x)`; by symmetry the expectation is over
    :math:`X \sim N(s, 1)`."""
    integrand = lambda z: _gaussian(z - snr) * _binary_entropy_of_logistic(2 * snr * z)
    return float(np.log(2) - quad(integrand, snr - 12, snr + 12, **QUAD_OPTIONS)[0])


def information_differential(snr: float) -> float:
    r""":math:`I(X;Y) = h(X) - h(X\mid Y)`, :math:`h(X\mid Y) = \tfrac12\log(2\pi e)`, with
    :math:`h(X) = -\int p\log p` of the mixture
    :math:`p = \tfrac12(\varphi(x-s) + \varphi(x+s))`."""
    def neg_p_log_p(x):
        log_p = np.logaddexp(-0.5 * (x - snr) ** 2, -0.5 * (x + snr) ** 2) - np.log(
            2 * np.sqrt(2 * np.pi))
        return -np.exp(log_p) * log_p

    half = quad(neg_p_log_p, 0.0, snr + 12, **QUAD_OPTIONS)[0]
    return float(2 * half - 0.5 * np.log(2 * np.pi * np.e))


def information_tanh(snr: float, scale: float) -> float:
    r""":math:`I(T;Y)` for :math:`T = \tanh(a X)` by quadrature over :math:`t`, with
    :math:`p_T(t\mid y) = \varphi(x(t) - y s)/(a(1-t^2))`,
    :math:`x(t) = \operatorname{artanh}(t)/a`."""
    def integrand(t):
        x = np.arctanh(t) / scale
        log_jac = -np.log(scale * (1 - t**2))
        logs = [-0.5 * (x - y * snr) ** 2 - 0.5 * np.log(2 * np.pi) + log_jac for y in (1, -1)]
        log_mix = np.logaddexp(*logs) - np.log(2)
        return sum(0.5 * np.exp(lp) * (lp - log_mix) for lp in logs)

    ends = np.tanh(scale * np.array([-snr - 10, snr + 10]))
    return float(quad(integrand, ends[0], ends[1], **QUAD_OPTIONS)[0])


@lru_cache(maxsize=None)
def symbolic_facts() -> dict:
    r"""Sympy (cached): the posterior is logistic in :math:`2\mu x/\sigma^2`, its mean is
    :math:`\tanh(\mu x/\sigma^2)`, and the Jacobian of :math:`t = \tanh(a x)` cancels in the
    likelihood ratio; :math:`\log 2 - h_b(\tfrac12 - \delta) = 2\delta^2 + O(\delta^4)` with
    :math:`\delta = \Phi(s) - \tfrac12 = s/\sqrt{2\pi} + O(s^3)` (odd), so
    :math:`I(\operatorname{sign}X;Y) = s^2/\pi + O(s^4)`."""
    x, t = sp.symbols("x t", real=True)
    mu, sigma, a, s = sp.symbols("mu sigma a s", positive=True)
    likelihood = {y: sp.exp(-(x - y * mu) ** 2 / (2 * sigma**2)) for y in (1, -1)}
    posterior = likelihood[1] / (likelihood[1] + likelihood[-1])
    mean = 2 * posterior - 1
    x_of_t = sp.atanh(t) / a
    jacobian = sp.diff(x_of_t, t)
    ratio_t = ((likelihood[1] * jacobian) / (likelihood[-1] * jacobian)).subs(x, x_of_t)
    d = sp.Symbol("d", positive=True)
    half = sp.Rational(1, 2)
    entropy_drop = sp.log(2) + (half - d) * sp.log(half - d) + (half + d) * sp.log(half + d)
    taylor = [sp.diff(entropy_drop, d, j).subs(d, 0) for j in range(4)]
    slope = sp.diff(sp.erf(s / sp.sqrt(2)) / 2, s).subs(s, 0)
    return {
        "posterior_is_logistic": decide_zero(
            (posterior - 1 / (1 + sp.exp(-2 * mu * x / sigma**2))).rewrite(sp.exp)),
        "posterior_mean_is_tanh": decide_zero((mean - sp.tanh(mu * x / sigma**2)).rewrite(sp.exp)),
        "jacobian_cancels": decide_zero(ratio_t - (likelihood[1] / likelihood[-1]).subs(
            x, x_of_t)),
        "sign_information_small_snr": all(decide_zero(taylor[j]) for j in (0, 1, 3))
        and decide_zero(taylor[2] / 2 * slope**2 - 1 / sp.pi),
    }


def convex_problems(seed: int, quick: bool) -> list:
    """The convex test functions (d = 10) the two Lions are compared on."""
    problems = [quadratic(10, 100.0, seed=seed), huber(10, seed=seed)]
    if not quick:
        problems += [logistic_regression(50, 10, seed=seed), log_sum_exp(10, 20, seed=seed),
                     smoothed_abs(10, seed=seed)]
    return problems


def lion_configs() -> dict:
    """Name -> Lion keyword arguments (the step size is tuned separately)."""
    return {"sign": {"transform": "sign"},
            **{f"tanh_{s:g}": {"transform": "tanh", "tanh_scale": s} for s in TANH_SCALES}}


def tuned_runs(problem, x0: np.ndarray, steps: int) -> dict:
    r"""Run every Lion configuration (``lion_configs``) from every start in ``x0`` (shape
    ``(S, d)``) at every step size in ``LR_GRID``: one sweep (:func:`emc_theory.sweep.sweep`,
    one array program per configuration, with histories). Per configuration: the tuned step
    size's median steps to the target (``inf`` if the median run misses it) and median final
    gap, and the per-run targets at that step size."""
    configs = lion_configs()
    table = sweep([problem], [{"name": "lion", **kwargs} for kwargs in configs.values()], LR_GRID,
                  start_points=x0, steps=steps, history=True, progress=False)
    n = len(LR_GRID) * x0.shape[0]
    final_gaps = table.column("final_gap")
    by_lr = lambda a: a.reshape(len(LR_GRID), x0.shape[0])   # noqa: E731
    runs = {}
    for c, name in enumerate(configs):
        part = slice(c * n, (c + 1) * n)        # rows: step size major, then start point
        gaps = table.histories["f_gap"][:, part]
        targets = REL_TARGET * gaps[0]
        hit = gaps <= targets
        steps_to_target = np.where(hit.any(axis=0), hit.argmax(axis=0), np.inf)
        final = np.where(np.isfinite(final_gaps[part]), final_gaps[part], np.inf)
        med_steps = np.median(by_lr(steps_to_target), axis=1)
        med_final = np.median(by_lr(final), axis=1)
        best = min(range(len(LR_GRID)), key=lambda i: (med_steps[i], med_final[i]))
        runs[name] = {"lr": LR_GRID[best], "steps": float(med_steps[best]),
                      "final_gap": float(med_final[best]),
                      "targets": by_lr(targets)[best].tolist()}
    return runs


def compare(tanh: dict, sign: dict) -> int:
    """+1 if tanh wins, -1 if it loses, 0 for a tie (rule in the module docstring)."""
    if np.isfinite(tanh["steps"]) or np.isfinite(sign["steps"]):
        if tanh["steps"] <= (1 - MARGIN) * sign["steps"]:
            return 1
        if sign["steps"] <= (1 - MARGIN) * tanh["steps"]:
            return -1
        return 0
    if tanh["final_gap"] * GAP_FACTOR <= sign["final_gap"]:
        return 1
    if sign["final_gap"] * GAP_FACTOR <= tanh["final_gap"]:
        return -1
    return 0


def lion_counterexample(problem, name: str, runs: dict, x0: np.ndarray, steps: int):
    """The tanh configuration ``name`` at its tuned step size from the first start, stopped at its
    target gap (a replayable :func:`~emc_theory.replay.run_spec`), where tanh lost to sign."""
    run = runs[name]
    optimizer = Lion(lr=run["lr"], **lion_configs()[name])
    spec = run_spec(optimizer, problem, x0, steps, gap_tol=run["targets"][0])
    traj = minimize(optimizer, problem, x0, steps, gap_tol=run["targets"][0])
    return Counterexample(
        ID, f"{problem.name}: every tanh scale loses to sign; {name} (tuned lr {run['lr']:.3g}) "
            f"median steps {run['steps']}, sign (lr {runs['sign']['lr']:.3g}) "
            f"{runs['sign']['steps']}",
        spec, {"status": str(traj.status), "stop_step": int(traj.stop_step),
               "final_gap": float(traj.final_gap)})


def _information_evidence(findings: Findings, snrs, tanh_stride: int) -> dict:
    sign_quad = np.array([information_sign_quadrature(s) for s in snrs])
    sign_closed = np.array([information_sign_closed_form(s) for s in snrs])
    info_x = np.array([information_posterior(s) for s in snrs])
    info_x_diff = np.array([information_differential(s) for s in snrs])
    tanh_cases = [(s, a) for s in snrs[::tanh_stride] for a in (s, 1.0)
                  if a * (s + 10) <= TANH_MAX_ARGUMENT]
    tanh_err = max(abs(information_tanh(s, a) - information_posterior(s)) for s, a in tanh_cases)
    gap = info_x - sign_closed
    sign_err = float(np.abs(sign_quad - sign_closed).max())
    two_err = float(np.abs(info_x - info_x_diff).max())
    sym = symbolic_facts()
    i_max = int(np.argmax(gap))
    findings.evidence += [
        Evidence("symbolic", "sympy: posterior, posterior mean, Jacobian",
                 "P(Y=1|x) = sigmoid(2 mu x/sigma^2), E[Y|x] = tanh(mu x/sigma^2), Jacobian of "
                 "t = tanh(a x) cancels in the likelihood ratio, I(sign X;Y) = s^2/pi + O(s^4): "
                 + ", ".join(f"{k}={v}" for k, v in sym.items()), sym),
        Evidence("numerical", "I(sign X; Y): quadrature vs closed form",
                 f"max |quadrature - (log 2 - h_b(Phi(-s)))| = {sign_err:.1e} on {len(snrs)} s",
                 {"max_abs_error": sign_err}),
        Evidence("independent", "I(X; Y) by two quadratures, I(T; Y) in t-space",
                 f"max |log 2 - E h_b(posterior) - (h(X) - h(X|Y))| = {two_err:.1e}; "
                 f"max |I(tanh(aX);Y) - I(X;Y)| = {tanh_err:.1e} on {len(tanh_cases)} (s, a) "
                 f"with a in {{s, 1}}",
                 {"two_quadratures_max_abs_diff": two_err, "tanh_max_abs_diff": tanh_err,
                  "tanh_cases": [[float(s), float(a)] for s, a in tanh_cases]}),
        Evidence("numerical", "information gap I(X;Y) - I(sign X;Y)",
                 f"min {gap.min():.2e} (s = {snrs[int(np.argmin(gap))]:.3g}), max {gap.max():.4f} "
                 f"at s = {snrs[i_max]:.3g}; ratio I(sign)/I(X) at s = {snrs[0]:.3g}: "
                 f"{sign_closed[0] / info_x[0]:.4f} (2/pi = {2 / np.pi:.4f})",
                 {"snr": np.round(snrs, 6).tolist(), "info_x": info_x.tolist(),
                  "info_sign": sign_closed.tolist()}),
    ]
    return {
        "sign_quadrature_matches_closed_form": sign_err <= SIGN_QUADRATURE_TOL,
        "two_quadratures_agree": two_err <= TWO_QUADRATURES_TOL,
        "tanh_information_equals_x": tanh_err <= TANH_QUADRATURE_TOL,
        "information_tanh_exceeds_sign": bool(np.all(gap > 0)),
        "information_sign_exceeds_tanh_somewhere": bool(np.any(gap < -TWO_QUADRATURES_TOL)),
        "information_gap_min": float(gap.min()),
        "information_gap_max": float(gap.max()),
        "information_gap_argmax_snr": float(snrs[i_max]),
        "information_gap_at_smallest_snr": float(gap[0]),
        "information_gap_at_largest_snr": float(gap[-1]),
        "small_snr_ratio_sign_to_x": float(sign_closed[0] / info_x[0]),
        "posterior_mean_is_tanh_symbolic": sym["posterior_mean_is_tanh"],
        "jacobian_cancels_symbolic": sym["jacobian_cancels"],
    }


def _lion_evidence(findings: Findings, config: CheckConfig, seeds: int, steps: int) -> dict:
    rng = np.random.default_rng(config.seed)
    configs = lion_configs()
    outcome = {name: {"wins": 0, "losses": 0, "ties": 0} for name in configs if name != "sign"}
    table = {}
    for problem in convex_problems(config.seed, config.quick):
        x0 = problem.x_star + rng.standard_normal((seeds, problem.d))
        runs = tuned_runs(problem, x0, steps)
        scores = {name: compare(runs[name], runs["sign"]) for name in outcome}
        for name, score in scores.items():
            outcome[name][{1: "wins", -1: "losses", 0: "ties"}[score]] += 1
        table[problem.name] = {name: {k: run[k] for k in ("lr", "steps", "final_gap")}
                               for name, run in runs.items()}
        if all(score < 0 for score in scores.values()):
            name = min(outcome, key=lambda n: (runs[n]["steps"], runs[n]["final_gap"]))
            findings.counterexamples.append(
                lion_counterexample(problem, name, runs, x0[0], steps))
    n_problems = len(table)
    at_edge = sum(run["lr"] in (LR_GRID[0], LR_GRID[-1]) for runs in table.values()
                  for run in runs.values())
    findings.evidence.append(Evidence(
        "numerical", "Lion sign vs tanh, tuned step size",
        "tanh vs sign over " + f"{n_problems} problems: " + "; ".join(
            f"{name} {o['wins']}W/{o['losses']}L/{o['ties']}T" for name, o in outcome.items())
        + f"; tuned lr at a grid edge in {at_edge} of {n_problems * len(configs)}",
        {"per_problem": table, "outcome": outcome, "tuned_lr_at_grid_edge": at_edge}))
    facts = {f"{name}_{key}": o[key] for name, o in outcome.items() for key in ("wins", "losses")}
    facts |= {
        "problems_compared": n_problems,
        "tuned_lr_at_grid_edge": at_edge,
        "some_scale_wins_majority_without_loss": any(
            o["wins"] * 2 > n_problems and o["losses"] == 0 for o in outcome.values()),
        "some_scale_net_positive": any(o["wins"] > o["losses"] for o in outcome.values()),
    }
    return facts


def gather(config: CheckConfig) -> Findings:
    snrs = np.geomspace(0.05, 5.0, 6 if config.quick else 25)
    seeds, steps, tanh_stride = (2, 100, 3) if config.quick else (3, 300, 4)
    findings = Findings(parameters={
        "snr_grid": f"geomspace(0.05, 5, {len(snrs)})", "sigma": 1.0,
        "quadrature": "scipy.integrate.quad " + str(QUAD_OPTIONS),
        "tanh_quadrature": f"every {tanh_stride}th s, a in {{s, 1}}, a (s + 10) <= "
                           f"{TANH_MAX_ARGUMENT:g}",
        "tanh_scales": list(TANH_SCALES), "lr_grid": [float(v) for v in LR_GRID],
        "schedule": "constant", "steps": steps, "starts_per_problem": seeds,
        "start": "x_star + N(0, I)", "rel_target": REL_TARGET, "margin": MARGIN,
        "gap_factor": GAP_FACTOR, "lion": {"b1": 0.9, "b2": 0.99, "weight_decay": 0.0},
        "seed": config.seed})
    findings.facts = _information_evidence(findings, snrs, tanh_stride)
    findings.facts |= _lion_evidence(findings, config, seeds, steps)
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    validated = f.get("sign_quadrature_matches_closed_form") and f.get("two_quadratures_agree")
    if f.get("information_sign_exceeds_tanh_somewhere"):
        information = "fails"
    elif f.get("information_tanh_exceeds_sign") and validated:
        information = "holds"
    else:
        information = "undecided"
    if f.get("some_scale_wins_majority_without_loss") is None:
        practical = "undecided"
    elif f["some_scale_wins_majority_without_loss"]:
        practical = "holds"
    elif f.get("some_scale_net_positive"):
        practical = "conditional"
    else:
        practical = "fails"
    if information == "fails":
        statement = "fails"
    elif "undecided" in (information, practical):
        statement = "undecided"
    elif practical == "holds":
        statement = "holds"
    else:
        statement = "conditional"
    conditions = [f"information claim: {information}",
                  f"tanh in place of sign in Lion: {practical}",
                  "constant step sizes: sign-Lion stalls at a step-size-sized plateau while tanh "
                  "is linear near 0 (GD-like); decaying schedules were not compared"]
    if f.get("posterior_mean_is_tanh_symbolic"):
        conditions.append("tanh(mu x/sigma^2) = E[Y|x]; any invertible T (tanh at any scale) "
                          "has I(T;Y) = I(X;Y), so the information argument does not fix the "
                          "scale")
    reason = (f"I(T;Y) = I(X;Y) vs I(sign X;Y): {information} (gap max "
              f"{f.get('information_gap_max')}); Lion runs: {practical}")
    return Verdict(statement, "none", reason,
                   "the seed states the representation without a derivation",
                   conditions=conditions)
