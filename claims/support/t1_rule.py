r"""The pieces of claim T1's verdict rule; the rule itself, its words and its order of evidence
are :mod:`claims.t1`'s docstring and :func:`claims.t1.decide_reading` / :func:`claims.t1.decide`.
Here: the typed facts the rule reads, what the calibrated numerics alone say, the per-schedule
status of a reading (certificates, exact derivations and replayed counterexamples), the certified
step condition, the theorem as it holds, and the proof-step verdict. Shared with T1's repairs
(:mod:`claims.support.t1_repairs`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .base import Gathered

SCHEDULE_CLASSES = ("constant", "diminishing")
"""The schedule classes a reading is decided on, per class."""
STATEMENT_FACTS = ("cells", "cells_failed_unrescued", "cells_failed_rescued", "cells_lagging",
                   "cells_uninformative", "search_failures_unrescued",
                   "search_failures_rescued", "uniform_schedule_all_problems",
                   "certificates", "derivations", "counterexamples", "local_convergence")
"""The reading facts the statement rule needs: one missing makes the reading undecided."""


@dataclass(frozen=True)
class Facts:
    """What T1's proof rule reads (:func:`proof_step`), with the PEPit cross-check and the
    no-minimiser counterexample (``None``: not established)."""

    weight_sum_max: Optional[float]
    weights_sum_below_one: Optional[bool]
    stale_share_min: Optional[float]
    spectral_agrees: Optional[bool]
    stability_threshold_uniform: Optional[dict]
    pep_ratio_max: Optional[float]
    pep_emc_decreasing: Optional[bool]
    pep_emc_finite: Optional[bool]
    weights_vary_in_time: Optional[bool]
    no_minimiser_counterexample: Optional[dict]


@dataclass(frozen=True)
class ReadingFacts:
    """What T1's statement rule reads per reading (``None``: not established): the calibrated
    grid's cells and runs, the search, the roles, the linearity of ``h``, and the deciding
    certificates, derivations, counterexample facts and local law."""

    cells: Optional[int]
    cells_converged: Optional[int]
    cells_pending: Optional[int]
    cells_keeping_pace: Optional[int]
    cells_lagging: Optional[int]
    cells_uninformative: Optional[int]
    cells_failed_unrescued: Optional[int]
    cells_failed_rescued: Optional[int]
    uniform_schedule_all_problems: Optional[bool]
    uniform_groups: Optional[int]
    groups: Optional[int]
    search_failures_unrescued: Optional[int]
    search_failures_rescued: Optional[int]
    constant_cells_converged: Optional[int]
    converged_by_problem: Optional[dict]
    pending_by_problem: Optional[dict]
    lagging_by_problem: Optional[dict]
    uninformative_by_problem: Optional[dict]
    runs_by_schedule: Optional[dict]
    runs_against_control: Optional[dict]
    smallest_failing_scale: Optional[dict]
    diminishing_steps_failing_only_from_far: Optional[list]
    constant_step_plateau: Optional[dict]
    frozen_weights: Optional[dict]
    h_linear: Optional[bool]
    certificates: Optional[list]
    derivations: Optional[list]
    counterexamples: Optional[list]
    local_convergence: Optional[dict]


def missing_fact(f) -> bool:
    """Whether a reading's facts lack one the statement rule needs."""
    return any(getattr(f, k) is None for k in STATEMENT_FACTS)


def numerics_reading(f) -> tuple:
    """What the calibrated numerics alone say: ``(word, reason)``; they support, never decide
    'holds'."""
    unrescued = f.cells_failed_unrescued + f.search_failures_unrescued
    rescued = f.cells_failed_rescued + f.search_failures_rescued
    if unrescued:
        return "fails", (f"{unrescued} start point(s) from which every candidate run failed "
                         "(diverged), the start-scaled step included where a candidate")
    if rescued:
        return "conditional", (f"{rescued} start point(s) where every candidate with a grid "
                               "step diverged but the start-scaled step did not")
    if f.cells_lagging:
        return "undecided", (f"{f.cells_lagging} cell(s) where no candidate converged or kept "
                             "pace and one fell behind its converging gradient-descent control")
    if f.cells_uninformative == f.cells:
        return "undecided", "every cell is uninformative: no control converged to compare"
    if not f.uniform_schedule_all_problems:
        return "conditional", ("every informative start point has a converging candidate, but "
                               "on some problem each one lags or fails from another start")
    return "holds", (f"every informative cell converged ({f.cells_converged}) or kept pace with "
                     f"its control ({f.cells_keeping_pace}); {f.cells_uninformative} "
                     "uninformative cell(s) not counted")


def in_certified_range(c: dict, cert: dict) -> bool:
    """Whether a counterexample's method (K, schedule class, step) is one the certificate
    covers (a certificate or counterexample without K: any K)."""
    if cert.get("K") is not None and c.get("K") is not None and cert["K"] != c["K"]:
        return False
    bound = cert["step_constant"] if c["schedule"] == "constant" else cert["step_any_sequence"]
    if cert.get("subject_step") is not None:   # a fixed subject step (gradient descent)
        return c["schedule"] in cert["schedules"] and c["step_times_L"] <= cert["subject_step"]
    return (c["schedule"] in cert["schedules"] and bound is not None
            and c["step_times_L"] < bound)


def _verified_certificates(f, schedule: str) -> list:
    return [c for c in f.certificates if c["verified"] and schedule in c["schedules"]]


def schedule_status(f, schedule: str) -> dict:
    """For one schedule class: ``{"holds": [...], "fails": [...], "brackets": [...],
    "conflicts": [...], "far_only": bool}`` (names of the deciding certificates, derivations and
    counterexamples)."""
    certs = _verified_certificates(f, schedule)
    out = {"holds": [c["name"] for c in certs], "fails": [], "brackets": [], "conflicts": [],
           "far_only": False}
    for d in f.derivations:
        if not (d["verified"] and d["confirmed_by_runs"] and schedule in d["schedules"]):
            continue
        if d["says"] == "converges":
            out["holds"].append(d["name"])
        else:
            out["fails"].append(d["name"])
            out["far_only"] = out["far_only"] or d["says"] == "diverges_from_far"
    for c in f.counterexamples:
        if not (c["replays"] and c["schedule"] == schedule and c["fixed_before_start"]):
            continue
        inside = [k["name"] for k in certs if in_certified_range(c, k)]
        if inside:
            out["conflicts"].append(f"{c['name']} (step {c['step_times_L']:.4g}/L) inside "
                                    f"{inside[0]}")
        elif certs:
            out["brackets"].append(f"{c['name']} at {c['step_times_L']:.4g}/L")
        else:
            out["fails"].append(c["name"])
    return out


def step_condition(f, schedule: str) -> str:
    """The certified step condition of one schedule class ('' without a certificate)."""
    certs = _verified_certificates(f, schedule)
    if not certs:
        return ""
    if certs[0].get("subject_step") is not None:
        return f"constant step {certs[0]['subject_step']:g}/L < {certs[0]['step_constant']:g}/L"
    Ks = ", ".join(str(c["K"]) for c in certs)
    if schedule == "constant":
        return ("constant step eta < eta_const/L (" + ", ".join(
            f"K={c['K']}: {c['step_constant']}" for c in certs) + "): g_t -> 0")
    return ("any steps eta_t <= eta_cert/L (" + ", ".join(
        f"K={c['K']}: {c['step_any_sequence']}" for c in certs) + ") with sum eta_t = "
            f"infinity: liminf |g_t| = 0; certified for K in {{{Ks}}}, tau = 1")


def theorem_as_it_holds(per_reading: dict, conditions: dict, minimiser: Optional[dict]) -> str:
    """The theorem as the evidence leaves it, one clause per reading."""
    parts = []
    for reading, verdict in per_reading.items():
        conds = "; ".join(conditions.get(reading, [])) or "no condition"
        parts.append(f"{reading}: {verdict} ({conds})")
    gap = ""
    if minimiser is not None:
        gap = ("; in every reading 'converges to a stationary point' needs one to exist: "
               "assume f has a minimiser (without one, |g_t| -> 0 while |x_t| -> infinity: "
               f"no-minimiser counterexample, class {minimiser['recorded']})")
    return ("theorem as it holds: for L-smooth convex f bounded below, " + " | ".join(parts)
            + gap)


def schedules_of(g: Gathered) -> tuple:
    """The schedule classes the gathered runs cover (both unless the subject runs one)."""
    kinds = (g.parameters or {}).get("schedules") or SCHEDULE_CLASSES
    return tuple(s for s in SCHEDULE_CLASSES
                 if any((k == "constant") == (s == "constant") for k in kinds))


def proof_step(facts, h_linear: dict) -> tuple:
    """The proof verdict of T1's rule (its docstring): ``(verdict, reason)``, naming the
    failing step per reading."""
    needed = (facts.weights_sum_below_one, facts.stale_share_min, facts.weights_vary_in_time,
              *h_linear.values())
    if not h_linear or any(v is None for v in needed):
        return "none", "the proof step could not be assessed (missing facts)"
    nonlinear = sorted(r for r, v in h_linear.items() if not v)
    exact = (not facts.weights_sum_below_one and facts.stale_share_min == 0
             and not facts.weights_vary_in_time)
    if exact and not nonlinear:
        return "sound", ("the aggregate is a convex combination of current gradients with fixed "
                         "weights and h is linear in every reading")
    if len(nonlinear) == len(h_linear):
        return "mismatch", ("the sketch argues about a convex combination of gradients, which "
                            "no reading's update is")
    shared = []
    if facts.weights_vary_in_time:
        shared.append("the weights vary in time (with the gradient's entropy), which "
                      "frozen-weight analyses (spectral threshold, PEPit) do not cover")
    if facts.weights_sum_below_one:
        shared.append(f"stale, biased averages: the coefficients sum to 1 - beta_k^t < 1 "
                      f"(max {facts.weight_sum_max:.3g}, bias from m_0 = 0)")
    if facts.stale_share_min > 0:
        shared.append(f"at least {facts.stale_share_min:.0%} of the aggregate is on stale "
                      "gradients of past iterates")
    steps = []
    for r in h_linear:
        mine = ["h(m~) is a nonlinear function of the combination"] if r in nonlinear else []
        steps.append(f"{r}: " + "; ".join(mine + shared) if mine + shared
                     else f"{r}: no failing step found")
    return "gap", ("the step 'a convex combination of gradient estimates, so standard arguments "
                   "apply' does not follow -- " + " | ".join(steps))
