"""C1 (EMC paper, 3.3): the per-iteration complexity is O(Kd).

Claim: "The per-iteration complexity is O(Kd) where K is the number of cascade levels and d is
the parameter dimension. For practical values of K (3-5), this represents a modest increase over
standard momentum methods." No proof is given.

What we check:

* symbolic (``proofs.op_count``): the elementwise operations of the appendix pseudocode, counted
  line by line, as a polynomial in K and d; its degree in each, and its ratio to heavy ball's
  count at K = 3 and 5;
* numerical: wall-clock time of one in-place step of the core (one BLAS thread, median of
  repeats) for d from 1e5 to 1e6 and K from 2 to 8; the fitted exponent of time in d and in K,
  and the time ratio to a heavy-ball step at K = 3 and 5. Timings vary from run to run: their
  values are kept in the report's ``run`` field, only the rule's booleans are facts.

Rule: statement *holds* when the symbolic count has degree 1 in d and in K and the measured
exponents are at most 1.15 in K and within 0.85..1.15 in d; *fails* when an exponent exceeds
1.15 or the count is super-linear; *undecided* without the symbolic count. "Modest" is not given
a threshold by the paper: the ratios are reported as conditions, not judged.
"""
from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from emc_theory import EMC
from emc_theory.baselines import HeavyBall

from .base import CheckConfig, Evidence, Findings, Verdict
from .symbolic import derivation_result

ID = "C1"
TITLE = "Per-iteration cost O(Kd)"
WHERE = "3.3"
STATEMENT = ("The per-iteration complexity is O(Kd); for practical K (3-5) a modest increase "
             "over standard momentum methods.")
PROOF = None


def step_seconds(optimizer, d: int, repeats: int) -> float:
    """Median wall time of one in-place (EMC) or pure (baseline) step at dimension d."""
    rng = np.random.default_rng(0)
    grads = rng.normal(size=d)
    state = optimizer.init(np.zeros(d))
    kwargs = {"inplace": True} if isinstance(optimizer, EMC) else {}
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        _, state = optimizer.update(grads, state, **kwargs)
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def fitted_exponent(x, y) -> float:
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def gather(config: CheckConfig) -> Findings:
    dims = [100_000, 1_000_000] if config.quick else [100_000, 300_000, 1_000_000]
    Ks = [2, 4, 8]
    repeats = 3 if config.quick else 9
    readings = ("linear", "power")
    with threadpool_limits(1):
        t_d = {r: [step_seconds(EMC(K=3, lr=0.1, reading=r), d, repeats) for d in dims]
               for r in readings}
        t_K = {r: [step_seconds(EMC(K=K, lr=0.1, reading=r), dims[-1], repeats) for K in Ks]
               for r in readings}
        t_hb = step_seconds(HeavyBall(lr=0.1), dims[-1], repeats)
        t_35 = {K: step_seconds(EMC(K=K, lr=0.1, reading="power"), dims[-1], repeats)
                for K in (3, 5)}
    exp_d = {r: fitted_exponent(dims, t_d[r]) for r in readings}
    exp_K = {r: fitted_exponent(Ks, t_K[r]) for r in readings}
    symbolic = derivation_result("op_count")
    findings = Findings(parameters={"d": dims, "K": Ks, "repeats": repeats, "threads": 1,
                                    "readings": list(readings)})
    findings.evidence += [
        symbolic.evidence,
        Evidence("numerical", "step time scaling",
                 f"in-place step, one thread, d in {dims}, K in {Ks}, readings {readings}: "
                 "exponent of time in d within 0.85..1.15 and in K at most 1.15 "
                 "(values in the report's run field)",
                 {"exponent_d_within_band": {r: 0.85 <= exp_d[r] <= 1.15 for r in readings},
                  "exponent_K_at_most_1_15": {r: exp_K[r] <= 1.15 for r in readings}}),
    ]
    findings.measurements = {
        "exponent_d": exp_d, "exponent_K": exp_K,
        "seconds_vs_d": t_d, "seconds_vs_K": t_K, "heavy_ball_seconds": t_hb,
        "ratio_to_heavy_ball": {K: t_35[K] / t_hb for K in t_35},
    }
    findings.facts = {
        "symbolic_degree_d": symbolic.value("degree_in_d"),
        "symbolic_degree_K": symbolic.value("degree_in_K"),
        "symbolic_ratio_to_momentum": symbolic.value("ratio_to_momentum"),
        "exponent_d_in_band": all(0.85 <= v <= 1.15 for v in exp_d.values()),
        "exponent_K_at_most_1_15": all(v <= 1.15 for v in exp_K.values()),
    }
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    degrees = (f["symbolic_degree_d"], f["symbolic_degree_K"])
    ratio = f.get("symbolic_ratio_to_momentum")
    conditions = [f"operation count relative to heavy ball (symbolic): {ratio}; the paper gives "
                  "no threshold for 'modest'"]
    if None in degrees:
        return Verdict("undecided", "none", "symbolic operation count not established",
                       "the paper states C1 without proof", conditions=conditions)
    if max(degrees) > 1 or not f["exponent_K_at_most_1_15"] or not f["exponent_d_in_band"]:
        return Verdict("fails", "none", "cost grows faster than K d (count or timing)",
                       "the paper states C1 without proof", conditions=conditions)
    return Verdict("holds", "none",
                   "operation count is degree 1 in d and in K; measured time is linear in d and "
                   "at most linear in K", "the paper states C1 without proof",
                   conditions=conditions)
