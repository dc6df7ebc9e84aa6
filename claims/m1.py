"""M1 (EMC paper, 2.2): the K momentum states have exponentially increasing memory.

Claim: "We maintain K momentum states with exponentially increasing memory", with
:math:`\\beta_k = 1 - 2^{-k}`. This is a definition; the paper gives no proof.

What we check:

* symbolic (``proofs.effective_memory``): the timescale :math:`1/(1-\\beta_k) = 2^k`;
* numerical: the impulse response of each buffer of the core (a unit gradient at step 1, zero
  gradients after): its per-step decay factor, its total mass and its mean lag
  :math:`\\sum_t t\\,r_t / \\sum_t r_t`, whose closed forms are :math:`\\beta_k`, 1 and
  :math:`\\beta_k/(1-\\beta_k) = 2^k - 1`.

Rule: *holds* when the measured timescales equal :math:`2^k` (relative error below 1e-9), grow by a
constant factor 2 from level to level, and the symbolic timescale agrees; *fails* when a measured
timescale is off or the growth is not geometric; *undecided* without the symbolic evidence.
Note for Propositions 1-2: larger k means longer memory.

Controls (a :class:`BufferBank` as ``config.subject``: K exponential moving averages run by
``scipy.signal.lfilter``, independent of the core, and their :math:`\\beta_k`, whose timescale
sympy checks with :func:`proofs.subject_formulas.buffer_timescales`): :math:`\\beta_k = 1 - 2^{-k}`
has timescales :math:`2^k` (holds); one :math:`\\beta = 7/8` for every level has the constant
timescale 8 (fails).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import numpy as np
from scipy.signal import lfilter

from emc_theory import level_betas
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
from .support.symbolic import SymbolicResult, derivation_result
from .support.weights_behaviour import impulse_responses

ID = "M1"
TITLE = "Momentum states with exponentially increasing memory"
WHERE = "2.2"
STATEMENT = ("We maintain K momentum states with exponentially increasing memory, "
             "beta_k = 1 - 2^{-k}.")
STATEMENT_TEX = (r"We maintain $K$ momentum states with exponentially increasing memory, "
                 r"$\beta_k = 1 - 2^{-k}$.")
SYMBOLIC = ("effective_memory",)  # derivations of proofs/ this check reads


@dataclass(frozen=True)
class BufferBank:
    """K momentum buffers :math:`m^{(k)}_t = \\beta_k m^{(k)}_{t-1} + (1-\\beta_k) g_t` with
    ``beta(k)`` (arithmetic only: evaluated on an integer array and on a sympy symbol), run by
    ``scipy.signal.lfilter``."""

    name: str
    beta: Callable

    def betas(self, K: int) -> np.ndarray:
        return np.asarray(self.beta(np.arange(1, K + 1)), dtype=float) * np.ones(K)

    def impulse_responses(self, K: int, horizon: int) -> np.ndarray:
        impulse = np.zeros(horizon)
        impulse[0] = 1.0
        return np.array([lfilter([1.0 - b], [1.0, -b], impulse) for b in self.betas(K)])


@dataclass(frozen=True)
class Facts:
    timescales_equal_2_pow_k: Optional[bool]
    geometric_growth_factor_2: Optional[bool]
    mean_lag_matches: Optional[bool]
    symbolic_timescale_2_pow_k: Optional[bool]


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = config.subject
    if subject is not None and not isinstance(subject, BufferBank):
        raise TypeError(f"subject must be a BufferBank or None, got {type(subject).__name__}")
    K = 5 if config.quick else 8
    horizon = 40 * 2 ** K
    if subject is None:
        r, betas = impulse_responses(K, horizon), level_betas(K)
        symbolic = derivation_result("effective_memory")
    else:
        from proofs.subject_formulas import buffer_timescales

        r, betas = subject.impulse_responses(K, horizon), subject.betas(K)
        symbolic = SymbolicResult(f"subject_formulas ({subject.name})",
                                  buffer_timescales(subject.beta, subject.name).to_json())
    t = np.arange(horizon)
    decay = r[:, 2] / r[:, 1]
    timescale = 1.0 / (1.0 - decay)
    mass = r.sum(axis=1)
    lag = (r * t).sum(axis=1) / mass
    expected = 2.0 ** np.arange(1, K + 1)
    rel_err = float(np.max(np.abs(timescale - expected) / expected))
    ratios = timescale[1:] / timescale[:-1]
    lag_err = float(np.max(np.abs(lag - (expected - 1)) / expected))
    parameters = {"K": K, "horizon": horizon}
    if subject is not None:
        parameters["subject"] = subject.name
    evidence = [
        Evidence("numerical", "buffer impulse responses",
                 f"K = {K}: measured timescales 1/(1-decay) = "
                 f"{readable(np.round(timescale, 6).tolist(), digits=6)} "
                 f"(rel. err vs 2^k {rel_err:.1e}); level-to-level ratio "
                 f"{ratios.min():.6f}..{ratios.max():.6f}; mean lags 2^k - 1 "
                 f"(rel. err {lag_err:.1e}); masses {mass.min():.6f}..{mass.max():.6f}",
                 {"timescales": timescale.tolist(), "decay": decay.tolist(),
                  "betas": betas.tolist(), "mean_lag": lag.tolist(), "mass": mass.tolist()}),
        symbolic.evidence,
    ]
    facts = Facts(
        timescales_equal_2_pow_k=rel_err < 1e-9,
        geometric_growth_factor_2=bool(np.all(np.abs(ratios - 2.0) < 1e-9)),
        mean_lag_matches=lag_err < 1e-6,
        symbolic_timescale_2_pow_k=symbolic.value("larger_k_longer_memory"),
    )
    return Gathered(facts, evidence=evidence, parameters=parameters)


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    measured = (f.timescales_equal_2_pow_k, f.geometric_growth_factor_2, f.mean_lag_matches)
    if not all(measured):
        statement, reason = "fails", "a measured timescale is not 2^k or growth is not geometric"
    elif not f.symbolic_timescale_2_pow_k:
        statement, reason = "undecided", "symbolic timescale not established"
    else:
        statement = "holds"
        reason = ("timescale of level k is 2^k (decay, mean lag and sympy agree); it doubles "
                  "per level, so larger k means longer memory")
    return Verdict(statement, "none", reason, "a definition; no proof needed or given")


CLAIM = Claim(
    id=ID, title=TITLE, source=emc_source(WHERE), statement=STATEMENT,
    proof=Proof(status="none"), kind="definition", facts=Facts, gather=gather, decide=decide,
    derivations=SYMBOLIC, statement_tex=STATEMENT_TEX,
    controls=(
        Control("EMA bank, beta_k = 1 - 2^-k",
                "K exponential moving averages (scipy.signal.lfilter) with timescales "
                "1/(1 - beta_k) = 2^k: exponentially increasing, factor 2",
                BufferBank("beta_k = 1 - 2^-k", lambda k: 1 - 1 / 2**k), "holds", "positive"),
        Control("EMA bank, constant beta = 7/8",
                "K exponential moving averages all with beta = 7/8: every timescale is 8, memory "
                "does not increase with k",
                BufferBank("beta_k = 7/8", lambda k: Fraction(7, 8) + 0 * k), "fails",
                "negative"),
    ))
