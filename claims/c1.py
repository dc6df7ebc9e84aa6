"""C1 (EMC paper, 3.3): the per-iteration complexity is O(Kd).

Claim: "The per-iteration complexity is O(Kd) where K is the number of cascade levels and d is
the parameter dimension. For practical values of K (3-5), this represents a modest increase over
standard momentum methods." No proof is given.

What we check:

* symbolic (``proofs.op_count``): the elementwise operations of the appendix pseudocode, counted
  line by line, as a polynomial in K and d (an upper bound for the algorithm as written): its
  degree in each, and its ratio to heavy ball's count at K = 3 and 5;
* numerical (a lower bound, deterministic): the bytes of new buffers one *pure* step of the core
  writes (``tracemalloc``, NumPy's data domain), for K = 1..8 and d = 1e3..1e5: a step must write
  at least its output, so the fitted exponents in K and d bound the work from below;
* numerical (wall clock, not used by the rule): the time of one in-place step, one BLAS thread,
  and its fitted exponents in d and K. Wall time on a shared machine varies from run to run, so
  these values are kept in the report's ``run`` field; ``emc-theory bench`` measures them with
  interleaved rounds.

Rule: statement *holds* when the symbolic count has degree 1 in d and in K and the measured
written-bytes exponents lie in 0.9..1.1 (then the cost is Theta(Kd)); *fails* when the count is
super-linear or a measured exponent exceeds 1.1; *undecided* without the symbolic count. "Modest"
has no threshold in the paper: the ratios are reported as conditions, not judged.
"""
from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from emc_theory import EMC
from emc_theory.baselines import HeavyBall
from emc_theory.bench import fitted_exponent

from .base import CheckConfig, Evidence, Findings, Verdict
from .c2 import allocated_bytes
from .symbolic import derivation_result

ID = "C1"
TITLE = "Per-iteration cost O(Kd)"
WHERE = "3.3"
STATEMENT = ("The per-iteration complexity is O(Kd); for practical K (3-5) a modest increase "
             "over standard momentum methods.")
SYMBOLIC = ("op_count",)  # derivations of proofs/ this check reads
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


def written_bytes(K: int, d: int) -> int:
    """NumPy data bytes held by the result of one pure EMC step (new buffers and update),
    after a first step has set up any reusable workspace."""
    opt = EMC(K=K, lr=0.1, reading="power")
    state = opt.init(np.zeros(d))
    grads = np.linspace(-1.0, 2.0, d)
    opt.update(grads, state)
    held, _ = allocated_bytes(lambda: opt.update(grads, state))
    return held


def gather(config: CheckConfig) -> Findings:
    alloc_d, alloc_K = [1_000, 10_000, 100_000], list(range(1, 9))
    bytes_d = [written_bytes(3, d) for d in alloc_d]
    bytes_K = [written_bytes(K, alloc_d[-1]) for K in alloc_K]
    alloc_exp_d = fitted_exponent(alloc_d, bytes_d)
    # the K-dependent part: bytes(K) - bytes(0 levels) extrapolated, i.e. the slope per level
    per_level = np.diff(bytes_K)
    alloc_exp_K = fitted_exponent(alloc_K, np.array(bytes_K) - (bytes_K[0] - per_level[0]))
    timing_d = [30_000, 300_000] if config.quick else [100_000, 300_000, 1_000_000]
    Ks = [2, 4, 8]
    repeats = 3 if config.quick else 9
    readings = ("linear", "power")
    with threadpool_limits(1):
        t_d = {r: [step_seconds(EMC(K=3, lr=0.1, reading=r), d, repeats) for d in timing_d]
               for r in readings}
        t_K = {r: [step_seconds(EMC(K=K, lr=0.1, reading=r), timing_d[-1], repeats) for K in Ks]
               for r in readings}
        t_hb = step_seconds(HeavyBall(lr=0.1), timing_d[-1], repeats)
    symbolic = derivation_result("op_count")
    findings = Findings(parameters={"written_bytes_d": alloc_d, "written_bytes_K": alloc_K,
                                    "timing_d": timing_d, "timing_K": Ks, "repeats": repeats,
                                    "threads": 1, "readings": list(readings)})
    findings.evidence += [
        symbolic.evidence,
        Evidence("numerical", "bytes written by one pure step (tracemalloc)",
                 f"K = 3, d in {alloc_d}: {bytes_d} bytes (exponent in d {alloc_exp_d:.3f}); "
                 f"d = {alloc_d[-1]}, K = 1..8: {per_level.min()}..{per_level.max()} bytes per "
                 f"level (exponent of the level part in K {alloc_exp_K:.3f})",
                 {"bytes_vs_d": bytes_d, "bytes_vs_K": bytes_K, "exponent_d": alloc_exp_d,
                  "exponent_K": alloc_exp_K}),
        Evidence("numerical", "step wall time (not used by the rule)",
                 f"in-place step, one thread, d in {timing_d}, K in {Ks}, readings {readings}; "
                 "values vary from run to run and are kept in the report's run field",
                 {}),
    ]
    findings.measurements = {
        "exponent_d": {r: fitted_exponent(timing_d, t_d[r]) for r in readings},
        "exponent_K": {r: fitted_exponent(Ks, t_K[r]) for r in readings},
        "seconds_vs_d": t_d, "seconds_vs_K": t_K, "heavy_ball_seconds": t_hb,
    }
    findings.facts = {
        "symbolic_degree_d": symbolic.value("degree_in_d"),
        "symbolic_degree_K": symbolic.value("degree_in_K"),
        "symbolic_ratio_to_momentum": symbolic.value("ratio_to_momentum"),
        "written_exponent_d": round(alloc_exp_d, 6),
        "written_exponent_K": round(alloc_exp_K, 6),
    }
    return findings


def decide(findings: Findings) -> Verdict:
    f = findings.facts
    degrees = (f["symbolic_degree_d"], f["symbolic_degree_K"])
    ratio = f.get("symbolic_ratio_to_momentum")
    conditions = [f"operation count relative to heavy ball (symbolic, d -> oo): {ratio}; the "
                  "paper gives no threshold for 'modest'"]
    measured = (f["written_exponent_d"], f["written_exponent_K"])
    if None in degrees:
        return Verdict("undecided", "none", "symbolic operation count not established",
                       "the paper states C1 without proof", conditions=conditions)
    if max(degrees) > 1 or max(measured) > 1.1:
        return Verdict("fails", "none", "cost grows faster than K d (count or measured bytes)",
                       "the paper states C1 without proof", conditions=conditions)
    if min(measured) < 0.9:
        return Verdict("conditional", "none",
                       "count is O(Kd) but the measured lower bound grows slower than K d",
                       "the paper states C1 without proof", conditions=conditions)
    return Verdict("holds", "none",
                   "operation count (upper bound) is degree 1 in d and in K, and the bytes a step "
                   "must write (lower bound) grow with exponent 1 in d and in K: Theta(Kd)",
                   "the paper states C1 without proof", conditions=conditions)
