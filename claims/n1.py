"""N1 (EMC paper, 4.2): the power in the update may cause numerical instabilities.

Claim: "Numerical Stability: The power operation in the update rule may cause instabilities."
No proof is given. The claim is existential ("may"), so a replayable witness suffices for it; its
absence on a grid leaves it undecided, not false.

What we check, per reading of h that has a power (``power``: :math:`|\\tilde m|^{\\gamma}`,
``root``: :math:`|\\tilde m|^{1/\\gamma}`; ``linear`` has none and is the control):

* numerical: runs on convex quadratics and Huber functions over step sizes x start scales x
  seeds, constant step. A setting is *unstable for a reading* when the linear reading converges
  there (same K, step, start) and the reading does not, because it diverges (status diverged /
  non-finite) or oscillates (at the step budget, the gradient norm has not halved over the last
  fifth of the run and is above the tolerance). Slow but steady progress is not instability.
* numerical (floating point): the smallest :math:`|\\tilde m|` whose power :math:`\\gamma = 2`
  overflows while :math:`\\tilde m` itself is finite, in float64 and float32, via the core's
  :func:`emc_theory.apply_reading`;
* numerical (breadth, with the batched sweep engine :func:`emc_theory.sweep.sweep`): over more
  problems (also logistic regression and log-sum-exp) and K in {1, 3, 5}, the settings where the
  linear reading converges (gradient norm below 1e-8) and a power-bearing reading diverges
  (status only; oscillation needs the run's history, which the sweep's table does not keep).
  Supporting evidence, not read by the rule, and left out of ``--quick``;
* symbolic: the derivative of :math:`|m|^{1/\\gamma}` at 0 is infinite for :math:`\\gamma > 1`
  (``proofs.gamma_range``'s exponent facts are not needed: sympy's ``limit`` here is elementary and
  lives in ``proofs.reading_regularity``).

Rule: per reading, *holds* when at least one unstable setting (a witness) is found, *undecided*
when none is. Overall: *holds* when some power-bearing reading holds (the claim says "may").
"""
from __future__ import annotations

import numpy as np

from emc_theory import EMC, apply_reading, minimize
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic
from emc_theory.replay import run_spec
from emc_theory.sweep import sweep

from .support.base import CheckConfig, Evidence, Findings, Verdict
from .support.symbolic import derivation_result

ID = "N1"
TITLE = "The power in the update may cause instabilities"
WHERE = "4.2"
STATEMENT = "The power operation in the update rule may cause instabilities."
SYMBOLIC = ("reading_regularity",)  # derivations of proofs/ this check reads
PROOF = None
POWER_READINGS = ("power", "root")
_K = 3


def _problems(seed: int):
    return [quadratic(10, cond=10.0, seed=seed), huber(10, delta=1.0, seed=seed)]


def classify(trajectory, tol: np.ndarray) -> np.ndarray:
    """Per run: 'converged', 'diverged' (incl. non-finite), 'oscillating' or 'slow'."""
    status = np.asarray(trajectory.status)
    out = np.where(status == "converged", "converged", "slow").astype(object)
    out[(status == "diverged") | (status == "non-finite")] = "diverged"
    gn = trajectory.grad_norm
    steps = gn.shape[0] - 1
    window = gn[steps - steps // 5:]
    stuck = (window[-1] > 0.5 * window[0]) & (window[-1] > tol)
    out[(status == "max_steps") & stuck] = "oscillating"
    return out


def sweep_divergences(config: CheckConfig) -> dict:
    """Sweep-engine counts, per reading and K, of settings where linear converges and the
    reading diverges (or overflows), with the grid."""
    Ks = [1, 3, 5]
    problems = _problems(config.seed) + [
        logistic_regression(n=50, d=10, reg=1e-2, seed=config.seed),
        log_sum_exp(d=10, m=20, reg=1e-2, seed=config.seed)]
    grid = {"eta_times_L": [0.1, 0.5, 1.0], "start_scales": [1e-2, 1.0, 1e2, 1e4],
            "seeds": [config.seed, config.seed + 1], "steps": 300,
            "tol": 1e-8, "K": Ks, "problems": [p.describe()["name"] for p in problems]}
    counts = {r: {str(K): 0 for K in Ks} for r in POWER_READINGS}
    table = sweep(problems, [{"name": "emc", "K": Ks, "reading": ["linear", *POWER_READINGS]}],
                  grid["eta_times_L"], lr_unit="1/L", start_scales=grid["start_scales"],
                  seeds=grid["seeds"], steps=grid["steps"], tol=grid["tol"], progress=False)
    status = {(row["problem"], row["reading"], row["K"], row["lr_times_L"], row["start_scale"],
               row["seed"]): row["status"] for row in table.rows}
    settings = 0
    for (problem, reading, K, *setting), st in status.items():
        if reading != "linear":
            continue
        converged = st == "converged"
        settings += converged
        for other in POWER_READINGS:
            if converged and status[(problem, other, K, *setting)] in ("diverged", "non-finite"):
                counts[other][str(K)] += 1
    return {"grid": grid, "linear_converged_settings": settings,
            "diverged_where_linear_converges": counts}


def gather(config: CheckConfig) -> Findings:
    rng = np.random.default_rng(config.seed)
    etas = np.array([0.1, 0.5, 1.0])
    scales = np.array([1e-2, 1.0, 1e2, 1e4])
    seeds = 1 if config.quick else 3
    steps = 400 if config.quick else 1500
    per_reading = {r: {"unstable": 0, "settings": 0, "kinds": {}} for r in POWER_READINGS}
    witnesses = {}
    for problem in _problems(config.seed):
        direction = rng.normal(size=(seeds, problem.d))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        grid = [(e, s, j) for e in etas for s in scales for j in range(seeds)]
        x0 = np.array([problem.x_star + s * direction[j] for _, s, j in grid])
        lr = np.array([e / problem.L for e, _, _ in grid])
        tol = 1e-8 * np.maximum(1.0, np.linalg.norm(problem.grad(x0), axis=1))
        outcome = {}
        for reading in ("linear",) + POWER_READINGS:
            tr = minimize(EMC(K=_K, lr=lr, reading=reading), problem, x0, steps,
                          tol=float(tol.min()))
            outcome[reading] = (tr, classify(tr, tol))
        linear_ok = outcome["linear"][1] == "converged"
        for reading in POWER_READINGS:
            tr, kinds = outcome[reading]
            bad = linear_ok & np.isin(kinds, ["diverged", "oscillating"])
            per_reading[reading]["settings"] += int(linear_ok.sum())
            per_reading[reading]["unstable"] += int(bad.sum())
            for kind in ("diverged", "oscillating"):
                n = int((linear_ok & (kinds == kind)).sum())
                per_reading[reading]["kinds"][kind] = per_reading[reading]["kinds"].get(kind, 0) + n
            if bad.any() and reading not in witnesses:
                i = int(np.flatnonzero(bad)[0])
                opt = EMC(K=_K, lr=float(lr[i]), reading=reading)
                witnesses[reading] = {
                    "replay": run_spec(opt, problem, x0[i], steps, tol=float(tol.min())),
                    "kind": kinds[i], "status": str(tr.status[i]),
                    "stop_step": int(tr.stop_step[i]),
                    "linear_status": str(outcome["linear"][0].status[i]),
                    "eta_times_L": float(grid[i][0]), "start_scale": float(grid[i][1])}
    overflow = {}
    for dtype in (np.float64, np.float32):
        top = np.log10(float(np.finfo(dtype).max)) - 1e-6  # every m finite
        m = (10.0 ** np.linspace(0.0, top, 4000)).astype(dtype)
        with np.errstate(over="ignore"):
            h = apply_reading(m.copy(), np.asarray(2.0, dtype=dtype), "power")
        first = m[~np.isfinite(h)]
        overflow[np.dtype(dtype).name] = float(first[0]) if first.size else None
    breadth = None if config.quick else sweep_divergences(config)
    symbolic = derivation_result("reading_regularity")
    findings = Findings(parameters={"K": _K, "eta_times_L": etas.tolist(),
                                    "start_scales": scales.tolist(), "seeds": seeds,
                                    "steps": steps, "schedule": "constant",
                                    "problems": [p.describe()["name"] for p in _problems(0)],
                                    "d": 10, "tol": "1e-8 * max(1, ||grad f(x0)||)"})
    for reading in POWER_READINGS:
        info = per_reading[reading]
        findings.per_reading[reading] = {"unstable_settings": info["unstable"],
                                         "settings_where_linear_converges": info["settings"],
                                         "kinds": info["kinds"],
                                         "witness": witnesses.get(reading)}
        findings.evidence.append(Evidence(
            "numerical", f"runs ({reading} vs linear)",
            f"{info['unstable']} of {info['settings']} settings where the linear reading "
            f"converges are unstable under '{reading}' ({info['kinds']})",
            {"witness": witnesses.get(reading)}))
    if breadth is not None:
        findings.evidence.append(Evidence(
            "numerical", "sweep: divergence where the linear reading converges",
            f"sweep engine, problems {breadth['grid']['problems']}, K in {breadth['grid']['K']}, "
            f"eta L in {breadth['grid']['eta_times_L']}, start scales "
            f"{breadth['grid']['start_scales']}, seeds {breadth['grid']['seeds']}, "
            f"{breadth['grid']['steps']} steps: of {breadth['linear_converged_settings']} "
            "settings where linear converges, "
            + ", ".join(f"{r} diverges in {sum(v.values())} (by K: {v})"
                        for r, v in breadth["diverged_where_linear_converges"].items()), breadth))
    findings.evidence += [
        Evidence("numerical", "floating-point overflow of |m|^2",
                 f"|m|^gamma with gamma = 2 overflows from |m| ~ {overflow['float64']:.3g} "
                 f"(float64) and {overflow['float32']:.3g} (float32), where m itself is finite",
                 overflow),
        symbolic.evidence,
    ]
    findings.facts = {"overflow_threshold": overflow,
                      "root_slope_infinite_at_zero": symbolic.value("root_slope_at_zero_infinite")}
    return findings


def decide(findings: Findings) -> Verdict:
    per_reading = {r: ("holds" if f["unstable_settings"] > 0 else "undecided")
                   for r, f in findings.per_reading.items()}
    witnessed = [r for r, v in per_reading.items() if v == "holds"]
    conditions = ["the linear reading has no power and is the control, not a case of the claim"]
    if witnessed:
        return Verdict("holds", "none",
                       f"replayable witnesses where the linear reading converges and "
                       f"{', '.join(witnessed)} does not", "the paper states N1 without proof",
                       per_reading=per_reading, conditions=conditions)
    return Verdict("undecided", "none", "no instability found on the grid (absence is not proof)",
                   "the paper states N1 without proof", per_reading=per_reading,
                   conditions=conditions)
