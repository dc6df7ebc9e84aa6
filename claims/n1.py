"""N1 (EMC paper, 4.2): the power in the update may cause numerical instabilities.

Claim: "Numerical Stability: The power operation in the update rule may cause instabilities."
No proof is given. The claim is existential ("may"), so a replayable witness suffices for it; its
absence on a grid leaves it undecided, not false.

What we check, per reading of h that has a power (``power``: :math:`|\\tilde m|^{\\gamma}`,
``root``: :math:`|\\tilde m|^{1/\\gamma}`; ``linear`` has none and is the reference):

* numerical (one sweep, ``emc_theory.sweep``): runs on a convex quadratic and a Huber function
  (d = 10) over step sizes x start scales x seeds, constant step, tolerance
  :math:`10^{-8} \\max(1, \\|\\nabla f(x_0)\\|)` per run. Runs are classified by
  ``emc_theory.outcomes.classify_runs``. A setting is *unstable for a reading* when the linear
  reading converges there (same K, step, start) and the reading's run *diverged* or overflowed
  (*non-finite*), grows in its tail (*diverging*), or settles into a bounded *cycle* (period and
  amplitude recorded). A run still converging at the budget (slow monotone decrease) is not an
  instability, nor is one *stalled* without a cycle;
* numerical (floating point): the smallest :math:`|\\tilde m|` whose power :math:`\\gamma = 2`
  overflows while :math:`\\tilde m` itself is finite, in float64 and float32, via the core's
  :func:`emc_theory.apply_reading`;
* numerical (breadth, sweep engine): over more problems (also logistic regression and
  log-sum-exp) and K in {1, 3, 5}, the settings where the linear reading converges (gradient
  norm below 1e-8) and a power-bearing reading diverges (status). Supporting evidence, not read
  by the rule, and left out of ``--quick``;
* symbolic: the derivative of :math:`|m|^{1/\\gamma}` at 0 is infinite for :math:`\\gamma > 1`
  (``proofs.reading_regularity``).

Rule: per reading, *holds* when at least one unstable setting (a witness) is found, *undecided*
when none is. Overall: *holds* when some reading holds (the claim says "may").

Controls (``config.subject``: the methods compared with linear EMC on the same grid): the power
reading must get *holds* (its update is not globally Lipschitz, ``proofs.reading_regularity``,
so a constant step fails from far enough away); heavy ball with :math:`\\beta = 1/4` (no power;
it converges on L-smooth convex functions for constant steps :math:`\\eta < 2(1 - \\beta)/L =
1.5/L`, Ghadimi, Feyzmahdavian and Johansson 2015, which covers the grid's :math:`\\eta L \\le
1`) must not show the instability: *undecided*.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from emc_theory import apply_reading
from emc_theory.optimizers import OPTIMIZERS
from emc_theory.outcomes import FAILED_STATUSES, classify_table
from emc_theory.problems import huber, log_sum_exp, logistic_regression, quadratic
from emc_theory.replay import run_spec
from emc_theory.sweep import sweep

from .support.base import (
    CheckConfig,
    Claim,
    Control,
    Evidence,
    Gathered,
    Proof,
    Verdict,
    emc_source,
)
from .support.symbolic import derivation_result

ID = "N1"
TITLE = "The power in the update may cause instabilities"
STATEMENT = "The power operation in the update rule may cause instabilities."
POWER_READINGS = ("power", "root")
UNSTABLE = (*FAILED_STATUSES, "diverging", "cycle")
_K = 3
REFERENCE = {"name": "emc", "K": _K, "reading": "linear"}


@dataclass(frozen=True)
class Subject:
    """The methods checked for the instability, as ``(label, optimizer name, hyper pairs)``;
    each is compared with linear EMC (K = 3) on the same grid."""

    name: str
    methods: tuple


PAPER = Subject("EMC power-bearing readings",
                tuple((r, "emc", (("K", _K), ("reading", r))) for r in POWER_READINGS))


@dataclass(frozen=True)
class Facts:
    overflow_threshold: Optional[dict]
    root_slope_infinite_at_zero: Optional[bool]


@dataclass(frozen=True)
class ReadingFacts:
    unstable_settings: Optional[int]
    settings_where_linear_converges: Optional[int]
    kinds: Optional[dict]
    witness: Optional[dict]


def _problems(seed: int):
    return [quadratic(10, cond=10.0, seed=seed), huber(10, delta=1.0, seed=seed)]


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
            if converged and status[(problem, other, K, *setting)] in FAILED_STATUSES:
                counts[other][str(K)] += 1
    return {"grid": grid, "linear_converged_settings": settings,
            "diverged_where_linear_converges": counts}


def overflow_thresholds() -> dict:
    """The exact smallest |m| whose power-reading update at gamma = 2 (the core's
    :func:`emc_theory.apply_reading`) overflows while m itself is finite, per dtype: a bisection
    over the bit patterns of the positive finite floats (overflow is monotone in |m|), so the
    threshold is a float of that dtype and its predecessor does not overflow."""
    overflow = {}
    for dtype, itype in ((np.float64, np.int64), (np.float32, np.int32)):
        def overflows(bits: int, dtype=dtype, itype=itype) -> bool:
            m = np.array([bits], dtype=itype).view(dtype)
            with np.errstate(over="ignore"):
                h = apply_reading(m.copy(), np.asarray(2.0, dtype=dtype), "power")
            return not np.isfinite(h[0])

        lo = int(np.array([1.0], dtype=dtype).view(itype)[0])                 # 1.0: finite
        hi = int(np.array([np.finfo(dtype).max], dtype=dtype).view(itype)[0])  # max: overflows
        if overflows(lo) or not overflows(hi):
            overflow[np.dtype(dtype).name] = None
            continue
        while hi - lo > 1:  # invariant: lo does not overflow, hi does
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if overflows(mid) else (mid, hi)
        overflow[np.dtype(dtype).name] = float(np.array([hi], dtype=itype).view(dtype)[0])
    return overflow


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = PAPER if config.subject is None else config.subject
    if not isinstance(subject, Subject):
        raise TypeError(f"N1's subject must be a claims.n1.Subject, got {type(subject).__name__}")
    rng = np.random.default_rng(config.seed)
    etas, scales = [0.1, 0.5, 1.0], np.array([1e-2, 1.0, 1e2, 1e4])
    seeds = 1 if config.quick else 3
    steps = 400 if config.quick else 1500
    problems = _problems(config.seed)
    starts = {}
    for problem in problems:
        direction = rng.normal(size=(seeds, problem.d))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        starts[problem.name] = np.array([problem.x_star + s * direction[j]
                                         for s in scales for j in range(seeds)])
    methods = [(label, {"name": name, **dict(hyper)}) for label, name, hyper in subject.methods]
    table = sweep({p.name: p for p in problems}, [REFERENCE] + [spec for _, spec in methods],
                  etas, lr_unit="1/L", start_points=starts, steps=steps, tol=1e-8,
                  tol_relative=True, history=True, progress=False)
    out = classify_table(table)
    shape = (len(problems), 1 + len(methods), -1)              # (problem, config, setting)
    kinds, rows = out.kind.reshape(shape), np.arange(len(table.rows)).reshape(shape)
    linear_ok = kinds[:, 0] == "converged"
    g = Gathered(Facts(None, None), parameters={
        "subject": subject.name, "reference": REFERENCE, "eta_times_L": etas,
        "start_scales": scales.tolist(), "seeds": seeds, "steps": steps, "schedule": "constant",
        "problems": [p.name for p in problems], "d": 10, "unstable_classes": list(UNSTABLE),
        "tol": "1e-8 * max(1, ||grad f(x0)||)"})
    for c, (label, spec) in enumerate(methods, start=1):
        bad = linear_ok & np.isin(kinds[:, c], UNSTABLE)
        names, counts = np.unique(kinds[:, c][linear_ok], return_counts=True)
        classes = dict(zip(names.tolist(), counts.tolist()))
        witness = None
        if bad.any():
            p, i = np.argwhere(bad)[0]
            j = rows[p, c, i]
            row, hyper = table.rows[j], {k: v for k, v in spec.items() if k != "name"}
            cycle = out.kind[j] == "cycle"
            witness = {
                "replay": run_spec(OPTIMIZERS[spec["name"]](lr=row["lr"], **hyper), problems[p],
                                   starts[row["problem"]][row["start"]], steps, tol=row["tol"]),
                "kind": str(out.kind[j]), "status": row["status"], "stop_step": row["stop_step"],
                "period": int(out.period[j]) if cycle else None,
                "amplitude": float(out.amplitude[j]) if cycle else None,
                "linear_status": table.rows[rows[p, 0, i]]["status"],
                "eta_times_L": row["lr_times_L"],
                "start_scale": float(scales[row["start"] // seeds])}
        g.per_reading[label] = ReadingFacts(int(bad.sum()), int(linear_ok.sum()), classes, witness)
        g.evidence.append(Evidence(
            "numerical", f"runs ({label} vs linear)",
            f"{int(bad.sum())} of {int(linear_ok.sum())} settings where the linear reading "
            f"converges are unstable under '{label}' (classes there: {classes})",
            {"witness": witness}))
    if config.subject is None:
        overflow, symbolic = overflow_thresholds(), derivation_result("reading_regularity")
        g.facts = Facts(overflow, symbolic.value("root_slope_at_zero_infinite"))
        if not config.quick:
            breadth = sweep_divergences(config)
            g.evidence.append(Evidence(
                "numerical", "sweep: divergence where the linear reading converges",
                f"sweep engine, problems {breadth['grid']['problems']}, K in "
                f"{breadth['grid']['K']}, eta L in {breadth['grid']['eta_times_L']}, start scales "
                f"{breadth['grid']['start_scales']}, seeds {breadth['grid']['seeds']}, "
                f"{breadth['grid']['steps']} steps: of {breadth['linear_converged_settings']} "
                "settings where linear converges, "
                + ", ".join(f"{r} diverges in {sum(v.values())} (by K: {v})"
                            for r, v in breadth["diverged_where_linear_converges"].items()),
                breadth))
        g.evidence += [
            Evidence("numerical", "floating-point overflow of |m|^2",
                     f"|m|^gamma with gamma = 2 overflows from |m| ~ {overflow['float64']:.3g} "
                     f"(float64) and {overflow['float32']:.3g} (float32), where m itself is "
                     "finite", overflow),
            symbolic.evidence]
    return g


def decide(g: Gathered[Facts]) -> Verdict:
    per_reading = {r: ("holds" if f.unstable_settings else "undecided")
                   for r, f in g.per_reading.items()}
    witnessed = [r for r, v in per_reading.items() if v == "holds"]
    conditions = ["the linear reading has no power and is the reference, not a case of the claim"]
    if witnessed:
        return Verdict("holds", "none",
                       f"replayable witnesses where the linear reading converges and "
                       f"{', '.join(witnessed)} does not", "the paper states N1 without proof",
                       per_reading=per_reading, conditions=conditions)
    return Verdict("undecided", "none", "no instability found on the grid (absence is not proof)",
                   "the paper states N1 without proof", per_reading=per_reading,
                   conditions=conditions)


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source("4.2"), statement=STATEMENT,
    proof=Proof(status="none"), kind="existential", facts=Facts, reading_facts=ReadingFacts,
    gather=gather, decide=decide, derivations=("reading_regularity",),
    controls=(
        Control("power reading", "EMC's power reading: h = |m|^gamma is not globally Lipschitz, "
                "so a constant step that serves near starts fails from far ones",
                Subject("EMC power reading", (PAPER.methods[0],)), "holds", "positive",
                reading="power"),
        Control("heavy ball", "heavy ball (beta = 1/4) has no power and converges on L-smooth "
                "convex functions for constant eta L < 2(1 - beta) = 1.5: no instability",
                Subject("heavy ball, beta 0.25", (("heavy_ball", "heavy_ball",
                                                   (("beta", 0.25),)),)),
                "undecided", "negative", reading="heavy_ball"),
    ))
