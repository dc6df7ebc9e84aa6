"""C2 (EMC paper, 4.2): storing K momentum states increases memory by a factor K.

Claim: "Memory Requirements: Storing K momentum states increases memory usage by factor K." No
proof is given (it is a count).

What we check:

* numerical: bytes the core allocates for the optimizer state (``tracemalloc``, which NumPy
  reports its buffers to) for EMC with K = 1..8 against heavy ball (one momentum buffer) and
  Adam (two buffers), at several d and dtypes; and the working memory of an in-place step (slope
  of its peak allocation in d, in floats per parameter);
* symbolic count: the state is K arrays of d floats, :math:`K d` against :math:`d`; the whole
  training memory (parameters, gradient, state) is :math:`(K + 2) d` against :math:`3 d`.

Rule: statement *holds* when the measured state ratio EMC/heavy ball equals K exactly for every
(K, d, dtype) and an in-place step's extra memory is O(d) (at most a few d floats, independent of
K); *fails* otherwise. The whole-training factor (K+2)/3 is reported as a condition.

Controls (a :class:`StateMethod` as ``config.subject``, measured in place of EMC): a method that
keeps one exponential moving average per level (K buffers of d floats, updated one buffer at a
time) holds; the same method with K buffers per level (K^2 buffers) fails.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Optional

import numpy as np

from emc_theory import EMC
from emc_theory.baselines import Adam, HeavyBall
from emc_theory.render import readable

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

ID = "C2"
TITLE = "Memory grows by a factor K"
WHERE = "4.2"
STATEMENT = "Storing K momentum states increases memory usage by factor K."


@dataclass(frozen=True)
class StateMethod:
    """A method under test: ``make(K)`` gives an optimizer with ``init(params)`` and
    ``update(grads, state, inplace=True)``."""

    name: str
    make: Callable[[int], object]


@dataclass(frozen=True)
class Facts:
    state_ratio_is_K: Optional[bool]
    step_extra_in_d_floats: Optional[float]


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = config.subject
    if subject is None:
        def make(K):
            return EMC(K=K, lr=0.1)
    elif isinstance(subject, StateMethod):
        make = subject.make
    else:
        raise TypeError(f"subject must be a StateMethod or None, got {type(subject).__name__}")
    dims = [1000, 10_000, 100_000] if config.quick else [1000, 10_000, 100_000, 1_000_000]
    Ks = (1, 3, 8) if config.quick else range(1, 9)
    rows, ratios_exact, peaks = [], True, {}
    for dtype in (np.float64, np.float32):
        for d in dims:
            params = np.zeros(d, dtype=dtype)
            hb, _ = allocated_bytes(partial(HeavyBall(lr=0.1).init, params))
            adam, _ = allocated_bytes(partial(Adam(lr=0.1).init, params))
            for K in Ks:
                opt = make(K)
                emc, _ = allocated_bytes(partial(opt.init, params))
                state = opt.init(params)
                grads = np.linspace(-1, 1, d, dtype=dtype)
                opt.update(grads, state, inplace=True)  # set up any reusable workspace
                _, peak = allocated_bytes(partial(opt.update, grads, state, inplace=True))
                peaks.setdefault((np.dtype(dtype).name, K), []).append(peak)
                ratios_exact &= emc == K * hb
                rows.append({"dtype": np.dtype(dtype).name, "d": d, "K": K, "emc_bytes": emc,
                             "heavy_ball_bytes": hb, "adam_bytes": adam})
    # working memory of a step per parameter: slope of the peak bytes in d over the two largest
    # d (where Python's own allocations are negligible), in floats, to one decimal
    slopes = {f"{dt}/K={K}": round((p[-1] - p[-2]) / (dims[-1] - dims[-2])
                                   / np.dtype(dt).itemsize, 1)
              for (dt, K), p in peaks.items()}
    worst = max(slopes.values())
    parameters = {"d": dims, "K": list(Ks), "dtypes": ["float64", "float32"]}
    if subject is not None:
        parameters["subject"] = subject.name
    evidence = [
        Evidence("numerical", "tracemalloc: optimizer state",
                 "EMC state / heavy-ball state "
                 + ("= K exactly" if ratios_exact else "differs from K in some case")
                 + f" for K in {{{readable(list(Ks))}}}, d in {{{readable(dims)}}}, float64 and "
                 "float32; EMC / Adam = K/2",
                 {"rows": rows}),
        Evidence("numerical", "tracemalloc: working memory of one in-place step",
                 f"peak bytes of an in-place step grow by at most {worst:.1f} floats per "
                 "parameter (slope in d), whatever K: O(d) beyond the state",
                 {"floats_per_parameter": dict(sorted(slopes.items()))}),
        Evidence("symbolic", "count of stored floats",
                 "state K d vs d (one momentum buffer); parameters + gradient + state "
                 "(K + 2) d vs 3 d, a factor (K + 2)/3: 5/3 at K = 3, 7/3 at K = 5",
                 {"state_factor": "K", "training_factor": "(K+2)/3"}),
    ]
    facts = Facts(state_ratio_is_K=bool(ratios_exact), step_extra_in_d_floats=worst)
    return Gathered(facts, evidence=evidence, parameters=parameters)


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    if not f.state_ratio_is_K:
        return Verdict("fails", "none", "measured state ratio differs from K",
                       "the paper states C2 without proof")
    if f.step_extra_in_d_floats > 8:
        return Verdict("conditional", "none",
                       f"state ratio is K, but a step needs {f.step_extra_in_d_floats:.1f} d "
                       "extra floats", "the paper states C2 without proof",
                       conditions=["counting the state only, not the step's working memory"])
    return Verdict("holds", "none",
                   "optimizer state is exactly K times one momentum buffer (measured); a step "
                   f"adds at most {f.step_extra_in_d_floats:.1f} d floats",
                   "the paper states C2 without proof",
                   conditions=["relative to one momentum buffer; with parameters and gradient "
                               "counted the factor is (K + 2)/3"])


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT,
    proof=Proof(status="none"), kind="universal", facts=Facts, gather=gather, decide=decide,
    controls=(
        Control("one buffer per level",
                "K exponential moving averages of d floats, updated in place one at a time: "
                "state K d floats, K times heavy ball's d",
                StateMethod("K buffers", lambda K: LevelBuffers(K, K)), "holds", "positive"),
        Control("K buffers per level",
                "the same method with K buffers per level: state K^2 d floats, K^2 (not K) "
                "times heavy ball's",
                StateMethod("K^2 buffers", lambda K: LevelBuffers(K, K * K)), "fails",
                "negative"),
    ))
