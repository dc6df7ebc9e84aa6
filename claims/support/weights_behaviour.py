"""Evidence shared by Propositions 1 and 2: how much memory the weights give at each entropy.

"Favour longer-term momentum states" is made measurable three ways, all under the paper's own
definitions (level k has timescale :math:`2^k`, so larger k is longer memory):

* the effective memory :math:`T(\\tilde H) = \\sum_k \\alpha_k(\\tilde H)\\, 2^k`;
* the weight on the longest level, :math:`\\alpha_K`, against the uniform :math:`1/K`;
* the mean lag of the aggregate :math:`\\tilde m`'s impulse response, measured by feeding a unit
  gradient through the core's buffers (a second method, independent of the formula for T).

Both regimes are also observed on real runs (low-entropy gradients of an ill-conditioned
quadratic, high-entropy gradients of an isotropic one), recorded as replayable run specs.

The object under test is a *weight rule*: the paper's (``config.subject is None``: the core's
:func:`~emc_theory.cascade_weights` and the derivations ``softmax_limits`` and
``effective_memory``) or a control's :class:`WeightRule` (its weights, with the same level
timescales :math:`2^k` and buffers, and the sign facts of
:func:`proofs.subject_formulas.weight_rule`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Optional

import mpmath
import numpy as np
from scipy.special import entr

from emc_theory import EMC, cascade_weights, effective_memory
from emc_theory.cascade import softmax_weights
from emc_theory.entropy import gradient_weights
from emc_theory.problems import quadratic
from emc_theory.render import readable
from emc_theory.replay import replay as replay_run
from emc_theory.replay import run_spec

from .base import CheckConfig, Evidence
from .symbolic import SymbolicResult, derivation_result


def unclipped_entropy(g, kind: str) -> np.ndarray:
    r""":math:`H = -\sum_i p_i \log p_i` of the core's p
    (:func:`emc_theory.entropy.gradient_weights`) over the last axis, term by term
    (``scipy.special.entr``, :math:`0 \log 0 = 0`), *before* the clip to :math:`[0, \log d]`
    that the optimizers apply: what E1 and G1 measure (a clipped value cannot leave the bounds,
    so it could not show them wrong)."""
    return entr(gradient_weights(g, kind)).sum(axis=-1)


K_GRID = tuple(range(2, 9))
TAU_GRID = (0.25, 1.0, 4.0)
RUN = {"K": 5, "lr": 0.005, "steps": 20, "d": 10}
"""EMC (reading linear) of the two regime runs, on quadratics of dimension ``d``."""


@dataclass(frozen=True)
class WeightRule:
    """A rule for the cascade weights, :math:`\\alpha_k(\\tilde H) =
    \\operatorname{softmax}_k(\\lambda_k\\, u(\\tilde H)/\\tau)`, on the paper's buffers (level k
    has timescale :math:`2^k`). ``lambdas(K)``: exact :math:`\\lambda_1..\\lambda_K`
    (Fractions); ``entropy_map``: :math:`u`, written with arithmetic only (it is evaluated on
    arrays and on a sympy symbol). The paper's rule is :math:`\\lambda_k = k/K`,
    :math:`u(\\tilde H) = \\tilde H`."""

    name: str
    lambdas: Callable[[int], tuple]
    entropy_map: Callable

    def weights(self, ht, K: int, tau: float = 1.0) -> np.ndarray:
        """Weights of shape ``ht.shape + (K,)``."""
        u = np.asarray(self.entropy_map(np.asarray(ht, dtype=float)), dtype=float)
        lam = np.array([float(x) for x in self.lambdas(K)])
        return softmax_weights(u, lam / tau)


def paper_lambdas(K: int) -> tuple:
    """:math:`\\lambda_k = k/K` (the paper's)."""
    return tuple(Fraction(k, K) for k in range(1, K + 1))


PAPER_RULE = WeightRule("the paper's weights, lambda_k = k/K", paper_lambdas, lambda h: h)
"""The paper's rule as a :class:`WeightRule` (its weights equal the core's
:func:`~emc_theory.cascade_weights`)."""

# Other weight rules, subjects of P1's and P2's controls and repairs (one object each, so the
# caches of weight_profile and weight_symbolic serve both propositions).
ENTROPY_REVERSED = WeightRule("paper's weights read at 1 - Ht", paper_lambdas, lambda h: 1 - h)
UNIFORM = WeightRule("uniform weights", lambda K: (Fraction(0),) * K, lambda h: h)
CENTRED = WeightRule("centred entropy, alpha_k ~ exp(lambda_k (1 - 2 Ht)/tau)", paper_lambdas,
                     lambda h: 1 - 2 * h)
NEGATED = WeightRule("negated lambdas, lambda_k = -k/K",
                     lambda K: tuple(Fraction(-k, K) for k in range(1, K + 1)), lambda h: h)
STEEPER = WeightRule("steeper lambdas, lambda_k = 2k/K",
                     lambda K: tuple(Fraction(2 * k, K) for k in range(1, K + 1)), lambda h: h)


def rule_of(subject: Optional[WeightRule]) -> WeightRule:
    """The weight rule under test: ``subject``, or the paper's (:math:`\\lambda_k = k/K`,
    :math:`u(\\tilde H) = \\tilde H`) for ``None``."""
    return PAPER_RULE if subject is None else subject


def logit_order(subject: Optional[WeightRule], ht) -> Optional[str]:
    """Common sign over K in ``K_GRID`` of :math:`\\lambda_{k+1}u(\\tilde H) - \\lambda_k
    u(\\tilde H)` at ``ht`` (exact: Fractions): ``"+"`` (the weights increase with k, so the
    longest level's weight exceeds 1/K and the shortest's is below), ``"-"``, ``"0"`` (uniform),
    ``None`` if the sign differs between levels or K."""
    rule = rule_of(subject)
    u = rule.entropy_map(Fraction(ht))
    steps = [(b - a) * u for K in K_GRID
             for a, b in zip(rule.lambdas(K), rule.lambdas(K)[1:])]
    signs = {"+" if x > 0 else "-" if x < 0 else "0" for x in steps}
    return signs.pop() if len(signs) == 1 else None


def memory_closed_form(subject: Optional[WeightRule], K: int, ht, tau: float = 1.0) -> float:
    """:math:`T = \\sum_k e^{\\lambda_k u/\\tau} 2^k / \\sum_k e^{\\lambda_k u/\\tau}` at
    ``ht``, evaluated with 30-digit arithmetic (mpmath) from the rule's exact lambdas."""
    rule = rule_of(subject)
    u = rule.entropy_map(Fraction(ht))
    with mpmath.workdps(30):
        w = [mpmath.exp(mpmath.mpf(lam.numerator) / lam.denominator * mpmath.mpf(u.numerator)
                        / u.denominator / tau) for lam in map(Fraction, rule.lambdas(K))]
        return float(mpmath.fsum(wk * 2**k for k, wk in enumerate(w, 1)) / mpmath.fsum(w))


def memory_effect(profile: dict, subject: Optional[WeightRule]) -> tuple:
    """``(by_K, matches)``: per K of the profile, the effective memory at Ht = 0 and 1 (tau = 1,
    from the rule's weights) and their ratio T(1)/T(0); and whether both agree with
    :func:`memory_closed_form` to 1e-12 relative (``None`` if the profile lacks a K)."""
    by_K, matches = {}, True
    for K, row in profile["rows"].items():
        t0, t1 = row["T0"], row["T1"]
        by_K[K] = {"T0": t0, "T1": t1, "T1_over_T0": t1 / t0}
        for ht, value in ((0, t0), (1, t1)):
            matches &= abs(value - memory_closed_form(subject, K, ht)) <= 1e-12 * abs(value)
    return by_K, (matches if by_K else None)


def _weights_of(subject: Optional[WeightRule]) -> Callable:
    return cascade_weights if subject is None else subject.weights


def _top_level(subject: Optional[WeightRule], K: int) -> int:
    """Index of the level with the largest lambda (K - 1 for the paper's)."""
    lam = paper_lambdas(K) if subject is None else subject.lambdas(K)
    return int(np.argmax([float(x) for x in lam]))


def impulse_responses(K: int, horizon: int) -> np.ndarray:
    """Buffer responses r[k, t] of the core to a unit gradient at t = 1 (shape (K, horizon))."""
    opt = EMC(K=K, lr=1.0, reading="linear")
    state = opt.init(np.zeros(2))
    out = np.empty((K, horizon))
    grads = np.zeros((horizon, 2))
    grads[0, 0] = 1.0
    for t in range(horizon):
        _, state = opt.update(grads[t], state)
        out[:, t] = state.momenta[:, 0]
    return out


def aggregate_mean_lag(K: int, ht: float, responses: np.ndarray, subject=None) -> float:
    """Mean lag of the aggregate's impulse response with weights frozen at ``ht``, from the
    buffers' responses (:func:`impulse_responses`, shape (K, horizon))."""
    response = _weights_of(subject)(ht, K) @ responses
    t = np.arange(responses.shape[1])
    return float((response * t).sum() / response.sum())


@lru_cache(maxsize=8)
def weight_profile(quick: bool, subject: Optional[WeightRule] = None) -> dict:
    """T, alpha_K and alpha_1 on a grid of Ht for each K and tau, and mean lags at Ht = 0, 1.

    ``top``: per K, whether the weight of the level with the largest lambda increases with Ht
    (all tau) and its value at Ht = 1 (tau = 1); for the paper's rule that level is K."""
    weights = _weights_of(subject)
    ht = np.linspace(0.0, 1.0, 101 if quick else 1001)
    rows, top = {}, {}
    monotone_T, monotone_top, monotone_bottom = True, True, True
    for K in K_GRID:
        j = _top_level(subject, K)
        top[K] = {"increasing": True}
        for tau in TAU_GRID:
            w = weights(ht, K, tau)
            T = effective_memory(w)
            monotone_T &= bool(np.all(np.diff(T) > 0))
            monotone_top &= bool(np.all(np.diff(w[:, -1]) > 0))
            monotone_bottom &= bool(np.all(np.diff(w[:, 0]) < 0))
            top[K]["increasing"] &= bool(np.all(np.diff(w[:, j]) > 0))
            if tau == 1.0:
                rows[K] = {"T0": float(T[0]), "T1": float(T[-1]), "alphaK_0": float(w[0, -1]),
                           "alphaK_1": float(w[-1, -1]), "alpha1_0": float(w[0, 0]),
                           "alpha1_1": float(w[-1, 0])}
                top[K]["at_1"] = float(w[-1, j])
    lag_K = 5
    horizon = 40 * 2 ** lag_K
    responses = impulse_responses(lag_K, horizon)
    lags = {"K": lag_K, "at_0": aggregate_mean_lag(lag_K, 0.0, responses, subject),
            "at_1": aggregate_mean_lag(lag_K, 1.0, responses, subject)}
    reversed_T = [effective_memory(weights(ht, K)[:, ::-1]) for K in K_GRID]
    return {"rows": rows, "top": top, "T_increasing": monotone_T,
            "alphaK_increasing": monotone_top, "alpha1_decreasing": monotone_bottom,
            "mean_lag": lags,
            "reversed_lambdas_T_decreasing": all(bool(np.all(np.diff(T) < 0))
                                                  for T in reversed_T),
            "grid": {"K": list(K_GRID), "tau": list(TAU_GRID), "Ht_points": int(ht.size)}}


def _trends(trends) -> str:
    """``[(name, holds, verb)]`` as 'T increases with Ht, ... (every K and tau)', a trend that
    does not hold at every K and tau said so."""
    words = [f"{name} {verb}s with Ht" if holds
             else f"{name} does not {verb} with Ht at every K and tau"
             for name, holds, verb in trends]
    text = ", ".join(words[:-1]) + " and " + words[-1]
    return text + (" (every K and tau)" if all(holds for _, holds, _ in trends) else "")


def profile_evidence(p: dict) -> list:
    """The weight profile as evidence items."""
    r5, lags = p["rows"][5], p["mean_lag"]
    return [
        Evidence("numerical", "effective memory and weights vs Ht (core)",
                 f"K = 2..8, tau in {{{readable(list(TAU_GRID))}}}, {p['grid']['Ht_points']} "
                 "points of Ht: " + _trends([("T", p["T_increasing"], "increase"),
                                             ("alpha_K", p["alphaK_increasing"], "increase"),
                                             ("alpha_1", p["alpha1_decreasing"], "decrease")])
                 + ". "
                 f"K = 5: T(0) = {r5['T0']:.3f}, T(1) = {r5['T1']:.3f}; alpha_K(0) = "
                 f"{r5['alphaK_0']:.3f}, alpha_K(1) = {r5['alphaK_1']:.3f}",
                 {"per_K_tau1": p["rows"], "grid": p["grid"]}),
        Evidence("independent", "aggregate impulse-response mean lag",
                 f"K = {lags['K']}: mean lag of the blended buffers' response to a unit gradient "
                 f"is {lags['at_0']:.3f} steps with Ht = 0 weights and {lags['at_1']:.3f} with "
                 "Ht = 1 weights", lags),
        Evidence("numerical", "reversed convention",
                 "with the level order reversed (lambda_k attached to timescale 2^(K+1-k)) T "
                 + ("would decrease with Ht at every K" if p["reversed_lambdas_T_decreasing"]
                    else "would not decrease with Ht at every K"),
                 {"reversed_T_decreasing": p["reversed_lambdas_T_decreasing"]}),
    ]


@lru_cache(maxsize=1)
def regime_runs() -> dict:
    """First-step entropy and effective memory of EMC (``RUN``) on a low- and a high-entropy run."""
    d = RUN["d"]
    cases = {
        # one dominant curvature and a start along it: the gradient is nearly one-hot
        "low_entropy": (quadratic(d, eigenvalues=np.r_[100.0, np.ones(d - 1)], rotate=False,
                                  x_star=np.zeros(d)), np.r_[1.0, np.full(d - 1, 1e-3)]),
        # isotropic quadratic, start with equal |x_i|: the gradient has equal magnitudes
        "high_entropy": (quadratic(d, eigenvalues=np.ones(d), rotate=False,
                                   x_star=np.zeros(d)), np.where(np.arange(d) % 2, 1.0, -1.0)),
    }
    out = {}
    for name, (problem, x0) in cases.items():
        opt = EMC(K=RUN["K"], lr=RUN["lr"], reading="linear")
        spec = run_spec(opt, problem, x0, RUN["steps"])
        out[name] = {"replay": spec, **replay(spec), "K": RUN["K"]}
    return out


def replay(spec: dict) -> dict:
    """First-step entropy, effective memory and top weight of a recorded EMC run."""
    d = replay_run(spec, diagnostics=True).diagnostics
    K = spec["optimizer"]["K"]
    return {"normalized_entropy": float(d["normalized_entropy"][0]),
            "effective_memory": float(d["effective_memory"][0]),
            "alpha_K": float(d["weights"][0, -1]), "uniform_memory": (2 ** (K + 1) - 2) / K}


def memory_effect_text(by_K: dict) -> str:
    """The size of the effect in words: T(0) -> T(1) and their ratio at the smallest, middle and
    largest K."""
    Ks = sorted(by_K)
    shown = dict.fromkeys([Ks[0], Ks[len(Ks) // 2], Ks[-1]])
    return "; ".join(f"K={K}: T(0) = {by_K[K]['T0']:.3f} -> T(1) = {by_K[K]['T1']:.3f} "
                     f"(T(1)/T(0) = {by_K[K]['T1_over_T0']:.3f})" for K in shown)


def memory_effect_evidence(by_K: dict, matches: Optional[bool]) -> Evidence:
    """The size of the effect (:func:`memory_effect`) as evidence: T(0) -> T(1) per K, and
    whether both agree with the closed form."""
    closed = ("sum_k e^(lambda_k u/tau) 2^k / sum_k e^(lambda_k u/tau) (30 digits)")
    agreement = {True: f"equal to the closed form {closed}",
                 False: f"not equal to the closed form {closed}",
                 None: "not compared with the closed form (no K in the profile)"}[matches]
    return Evidence("numerical", "size of the effect: effective memory at Ht = 0 and 1",
                    f"tau = 1, {memory_effect_text(by_K)}; {agreement}", {"by_K": by_K})


def weights_at(profile: dict, ht: int) -> dict:
    """Per K (tau = 1): ``(alpha_1, alpha_K)`` at Ht = ``ht`` (0 or 1) from the profile."""
    return {K: (r[f"alpha1_{ht}"], r[f"alphaK_{ht}"]) for K, r in profile["rows"].items()}


@dataclass(frozen=True)
class WeightSymbolic:
    """The symbolic facts Propositions 1 and 2 read, for the paper's rule or a control's:
    uniform weights at Ht -> 0 (proved), the sign of dT/dHt, the sign of the derivative of the
    largest-lambda level's weight, alpha_K(1)/alpha_1(1) < e at tau = 1, and whether level k's
    timescale is 2^k (larger k = longer memory; the buffers, shared by every rule)."""

    limit_uniform: Optional[bool]
    dT_dHt_sign: Optional[str]
    sign_d_alpha_top: Optional[str]
    ratio_below_e: Optional[bool]
    larger_k_longer_memory: Optional[bool]
    evidence: list = field(default_factory=list)


@lru_cache(maxsize=16)
def weight_symbolic(subject: Optional[WeightRule]) -> WeightSymbolic:
    """The symbolic facts of the paper's rule (derivations ``softmax_limits``,
    ``effective_memory``) or of a control's (:func:`proofs.subject_formulas.weight_rule`);
    cached (the derivation of a rule is the same whichever claim asks)."""
    memory = derivation_result("effective_memory")
    if subject is None:
        limits = derivation_result("softmax_limits")
        return WeightSymbolic(
            limit_uniform=limits.status("limit_Ht_to_0_symbolic_K") == "proved",
            dT_dHt_sign=memory.value("dT_dHt_sign"),
            sign_d_alpha_top=limits.value("sign_d_alpha_K"),
            ratio_below_e=limits.value("ratio_below_e_tau_1"),
            larger_k_longer_memory=memory.value("larger_k_longer_memory"),
            evidence=[limits.evidence, memory.evidence])
    from proofs.subject_formulas import weight_rule

    rule = SymbolicResult(f"subject_formulas ({subject.name})", weight_rule(
        subject.lambdas, subject.entropy_map, subject.name).to_json())
    return WeightSymbolic(
        limit_uniform=rule.value("limit_Ht_to_0_uniform"),
        dT_dHt_sign=rule.value("dT_dHt_sign"),
        sign_d_alpha_top=rule.value("sign_d_alpha_top"),
        ratio_below_e=rule.value("ratio_below_e_tau_1"),
        larger_k_longer_memory=memory.value("larger_k_longer_memory"),
        evidence=[rule.evidence, memory.evidence])


@dataclass
class Shared:
    """What Propositions 1 and 2 both gather: parameters, evidence, the weight profile, the
    regime runs (with ``run_memory``: the subject's effective memory at each run's first-step
    entropy) and the symbolic facts."""

    parameters: dict
    evidence: list
    profile: dict
    runs: dict
    run_memory: dict
    symbolic: WeightSymbolic


def shared_evidence(config: CheckConfig) -> Shared:
    """The evidence Propositions 1 and 2 share, for ``config.subject`` (None: the paper's rule)."""
    subject = config.subject
    if subject is not None and not isinstance(subject, WeightRule):
        raise TypeError(f"subject must be a WeightRule or None, got {type(subject).__name__}")
    profile = weight_profile(config.quick, subject)
    symbolic = weight_symbolic(subject)
    runs = regime_runs()
    if subject is None:
        run_memory = {name: run["effective_memory"] for name, run in runs.items()}
    else:
        run_memory = {name: float(effective_memory(subject.weights(run["normalized_entropy"],
                                                                   run["K"])))
                      for name, run in runs.items()}
    parameters = {"K": list(profile["grid"]["K"]), "tau": list(profile["grid"]["tau"]),
                  "Ht_points": profile["grid"]["Ht_points"],
                  **{f"run_{k}": v for k, v in RUN.items()}}
    if subject is not None:
        parameters["subject"] = subject.name
    return Shared(parameters, symbolic.evidence + profile_evidence(profile), profile, runs,
                  run_memory, symbolic)
