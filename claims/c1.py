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

Controls (a :class:`StepMethod` as ``config.subject``: an optimizer and the operation count of
its step as written, whose degrees :func:`proofs.subject_formulas.cost_count` takes): K
exponential moving averages updated one at a time and averaged, :math:`(4K + 1) d` operations,
hold; the same levels coupled pairwise, each pulled by :math:`\\sum_j \\min(m_j - m_k, 0)`,
:math:`3K^2 d + 6Kd + d` operations, fail. The bytes a step writes cannot tell them apart
(both write K d + d floats): the count decides, and the (unjudged) timings show the K^2.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Optional

import numpy as np
from threadpoolctl import threadpool_limits

from emc_theory import EMC
from emc_theory.baselines import HeavyBall
from emc_theory.fit import fitted_exponent

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
from .support.memory import LevelBuffers, allocated_bytes
from .support.symbolic import SymbolicResult, derivation_result

ID = "C1"
TITLE = "Per-iteration cost O(Kd)"
WHERE = "3.3"
STATEMENT = ("The per-iteration complexity is O(Kd); for practical K (3-5) a modest increase "
             "over standard momentum methods.")
SYMBOLIC = ("op_count",)  # derivations of proofs/ this check reads


@dataclass(frozen=True)
class StepMethod:
    """A method under test: ``make(K)`` gives an optimizer (``init``, ``update``; in place when
    it ``supports_inplace``) and ``ops`` is the elementwise operation count of its step as
    written, a formula in ``K`` and ``d`` (read by sympy)."""

    name: str
    make: Callable[[int], object]
    ops: str


@dataclass(frozen=True)
class CoupledLevels:
    """A control method with an O(K^2 d) step: K exponential moving averages
    (:math:`\\beta_k = 1 - 2^{-k}`), each also pulled down toward the smaller ones by
    :math:`(c/K)\\sum_j \\min(m_j - m_k, 0)` over every pair (computed pair by pair), and the
    update :math:`-\\eta` times their mean."""

    K: int
    lr: float = 0.1
    coupling: float = 0.1
    supports_inplace = True

    def init(self, params) -> np.ndarray:
        params = np.asarray(params)
        return np.zeros((self.K,) + params.shape, dtype=params.dtype)

    def update(self, grads, state, params=None, *, inplace: bool = False):
        old = state.copy()
        m = state if inplace else np.empty_like(state)
        pull, scratch = np.empty_like(grads), np.empty_like(grads)
        for k in range(self.K):
            pull.fill(0)
            for j in range(self.K):
                np.subtract(old[j], old[k], out=scratch)
                np.minimum(scratch, 0.0, out=scratch)
                pull += scratch
            beta = 1.0 - 2.0 ** -(k + 1)
            np.multiply(old[k], beta, out=m[k])
            np.multiply(grads, 1.0 - beta, out=scratch)
            m[k] += scratch
            pull *= self.coupling / self.K
            m[k] += pull
        return -self.lr * m.mean(axis=0), m


@dataclass(frozen=True)
class Facts:
    symbolic_degree_d: Optional[int]
    symbolic_degree_K: Optional[int]
    symbolic_ratio_to_momentum: Optional[dict]
    written_exponent_d: Optional[float]
    written_exponent_K: Optional[float]


def step_seconds(optimizer, d: int, repeats: int) -> float:
    """Median wall time of one step at dimension d (in place where the optimizer supports it)."""
    rng = np.random.default_rng(0)
    grads = rng.normal(size=d)
    state = optimizer.init(np.zeros(d))
    kwargs = {"inplace": True} if getattr(optimizer, "supports_inplace", False) else {}
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        _, state = optimizer.update(grads, state, **kwargs)
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:]))


def written_bytes(make, K: int, d: int) -> int:
    """NumPy data bytes held by the result of one pure step of ``make(K)`` (new buffers and
    update), after a first step has set up any reusable workspace."""
    opt = make(K)
    state = opt.init(np.zeros(d))
    grads = np.linspace(-1.0, 2.0, d)
    opt.update(grads, state)
    held, _ = allocated_bytes(partial(opt.update, grads, state))
    return held


def _paper_power(K: int):
    return EMC(K=K, lr=0.1, reading="power")


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = config.subject
    if subject is None:
        written_by = _paper_power
        variants = {r: (lambda K, r=r: EMC(K=K, lr=0.1, reading=r)) for r in ("linear", "power")}
        symbolic = derivation_result("op_count")
    elif isinstance(subject, StepMethod):
        from proofs.subject_formulas import cost_count

        written_by, variants = subject.make, {subject.name: subject.make}
        symbolic = SymbolicResult(f"subject_formulas ({subject.name})",
                                  cost_count({subject.name: subject.ops}, subject.name).to_json())
    else:
        raise TypeError(f"subject must be a StepMethod or None, got {type(subject).__name__}")
    alloc_d, alloc_K = [1_000, 10_000, 100_000], list(range(1, 9))
    bytes_d = [written_bytes(written_by, 3, d) for d in alloc_d]
    bytes_K = [written_bytes(written_by, K, alloc_d[-1]) for K in alloc_K]
    alloc_exp_d = fitted_exponent(alloc_d, bytes_d)
    # the K-dependent part: bytes(K) - bytes(0 levels) extrapolated, i.e. the slope per level
    per_level = np.diff(bytes_K)
    alloc_exp_K = fitted_exponent(alloc_K, np.array(bytes_K) - (bytes_K[0] - per_level[0]))
    timing_d = [30_000, 300_000] if config.quick else [100_000, 300_000, 1_000_000]
    Ks = [2, 4, 8]
    repeats = 3 if config.quick else 9
    with threadpool_limits(1):
        t_d = {r: [step_seconds(make(3), d, repeats) for d in timing_d]
               for r, make in variants.items()}
        t_K = {r: [step_seconds(make(K), timing_d[-1], repeats) for K in Ks]
               for r, make in variants.items()}
        t_hb = step_seconds(HeavyBall(lr=0.1), timing_d[-1], repeats)
    parameters = {"written_bytes_d": alloc_d, "written_bytes_K": alloc_K,
                  "timing_d": timing_d, "timing_K": Ks, "repeats": repeats,
                  "threads": 1, "readings": list(variants)}
    evidence = [
        symbolic.evidence,
        Evidence("numerical", "bytes written by one pure step (tracemalloc)",
                 f"K = 3, d in {alloc_d}: {bytes_d} bytes (exponent in d {alloc_exp_d:.3f}); "
                 f"d = {alloc_d[-1]}, K = 1..8: {per_level.min()}..{per_level.max()} bytes per "
                 f"level (exponent of the level part in K {alloc_exp_K:.3f})",
                 {"bytes_vs_d": bytes_d, "bytes_vs_K": bytes_K, "exponent_d": alloc_exp_d,
                  "exponent_K": alloc_exp_K}),
        Evidence("numerical", "step wall time (not used by the rule)",
                 f"in-place step, one thread, d in {timing_d}, K in {Ks}, readings "
                 f"{tuple(variants)}; values vary from run to run and are kept in the report's "
                 "run field",
                 {}),
    ]
    measurements = {
        "exponent_d": {r: fitted_exponent(timing_d, t_d[r]) for r in variants},
        "exponent_K": {r: fitted_exponent(Ks, t_K[r]) for r in variants},
        "seconds_vs_d": t_d, "seconds_vs_K": t_K, "heavy_ball_seconds": t_hb,
    }
    facts = Facts(
        symbolic_degree_d=symbolic.value("degree_in_d"),
        symbolic_degree_K=symbolic.value("degree_in_K"),
        symbolic_ratio_to_momentum=symbolic.value("ratio_to_momentum"),
        written_exponent_d=round(alloc_exp_d, 6),
        written_exponent_K=round(alloc_exp_K, 6),
    )
    return Gathered(facts, evidence=evidence, parameters=parameters, measurements=measurements)


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    degrees = (f.symbolic_degree_d, f.symbolic_degree_K)
    conditions = [f"operation count relative to heavy ball (symbolic, d -> oo): "
                  f"{f.symbolic_ratio_to_momentum}; the paper gives no threshold for 'modest'"]
    measured = (f.written_exponent_d, f.written_exponent_K)
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


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT,
    proof=Proof(status="none"), kind="inequality", facts=Facts, gather=gather, decide=decide,
    derivations=SYMBOLIC,
    controls=(
        Control("independent levels",
                "K exponential moving averages updated one at a time and averaged: 3Kd for the "
                "buffers, Kd for the mean, d for the update",
                StepMethod("K averaged EMAs", lambda K: LevelBuffers(K, K), "4*K*d + d"),
                "holds", "positive"),
        Control("pairwise-coupled levels",
                "the K averages each pulled by sum_j min(m_j - m_k, 0), pair by pair: 3K^2 d for "
                "the pairs, 5Kd for the levels, Kd for the mean, d for the update",
                StepMethod("pairwise-coupled EMAs", lambda K: CoupledLevels(K),
                           "3*K**2*d + 6*K*d + d"),
                "fails", "negative"),
    ))
