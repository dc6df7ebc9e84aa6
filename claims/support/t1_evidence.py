r"""Claim T1's evidence assembly: the grid's totals over its (K, d) pairs, per reading, and the
proof-side evidence (the cascade's coefficients, the spectral check, PEPit, the certificates,
derivations and records of :mod:`claims.support.t1_proofs`) as
:class:`~claims.support.base.Evidence` and facts; :func:`numerical_readings`,
:func:`emc_proof_side` and :func:`join_readings` assemble T1's gather (and its repairs').

The protocol (problems, grids, the subject, the rule) is :mod:`claims.t1`'s; the runs and their
categories are :mod:`claims.support.t1_grid`'s; the analyses are in ``proofs``.
"""
from __future__ import annotations

import numpy as np

from proofs import cascade_sum, linear_stability, pep_emc

from . import t1_grid as grid
from . import t1_proofs
from .base import Evidence
from .symbolic import derivation_result
from .symbolic import result as background_result


def _add(total: dict, counts: dict) -> None:
    for key, value in counts.items():
        total[key] = total.get(key, 0) + (value if isinstance(value, np.ndarray) else int(value))


def _counts(values) -> dict:
    names, counts = np.unique(np.asarray(values, dtype=str), return_counts=True)
    return dict(zip(names.tolist(), counts.tolist()))


def grid_evidence(claim: str, subject, problems, p: dict, seed: int) -> dict:
    """Run the grid of plan ``p`` (one sweep per d; ``problems(d, seed)`` gives
    ``(label, problem, natural length)``): per reading, the cell counts of the rule, run classes
    and calibrated categories per schedule, failures per step and start scale, cells per
    problem, the frozen-weights comparison and (for the first failed cell) a replayed
    counterexample. The (K, d) pairs of one d share its start points (the first of the
    directions drawn pair by pair); a subject without readings runs once per distinct d."""
    rng = np.random.default_rng(seed)
    labels = [label for label, _ in grid.method_specs(subject, 1)]
    out = {r: {"totals": {}, "classes": {s: {} for s in subject.schedules},
               "against": {s: {} for s in subject.candidates}, "failures": {},
               "by_problem": {}, "frozen": None, "witness": None} for r in labels}
    K_d = p["K_d"] if subject.readings else list(dict.fromkeys((1, d) for _, d in p["K_d"]))
    start_scales = p["start_scales"]
    scale_idx, seed_idx = np.divmod(np.arange(len(start_scales) * p["seeds"]), p["seeds"])
    directions = {}
    for _, d in K_d:   # one draw per pair, in order; the pairs of one d share its first draw
        draw = rng.standard_normal((p["seeds"], d))
        directions.setdefault(d, draw / np.linalg.norm(draw, axis=1, keepdims=True))
    for d in directions:
        entries, Ks = problems(d, seed), [K for K, dd in K_d if dd == d]
        scales = np.asarray(start_scales)[scale_idx]
        starts = {label: problem.x_star + (s * scales)[:, None] * directions[d][seed_idx]
                  for label, problem, s in entries}
        frozen_K = (p["frozen_K_d"][0] if subject.readings and p["frozen_K_d"]
                    and p["frozen_K_d"][1] == d else None)
        for (K, reading), runs in grid.run_grid(subject, entries, starts, Ks, p,
                                                frozen_K).items():
            res, summary = out[reading], grid.cell_summary(runs, subject)
            _add(res["totals"], {k: v for k, v in summary.items() if np.isscalar(v)})
            for name, per_problem in summary["by_problem"].items():
                _add(res["by_problem"].setdefault(name, {}),
                     {label: n for (label, _, _), n in zip(entries, per_problem)})
            for s, sched in enumerate(subject.schedules):
                _add(res["classes"][sched], _counts(runs.kind[:, s]))
                if sched in subject.candidates:
                    _add(res["against"][sched], _counts(runs.category[:, s]))
            _add(res["failures"], grid.failure_table(runs.kind, subject, scale_idx,
                                                     len(start_scales)))
            if runs.frozen is not None:
                adaptive = runs.kind[:, [subject.schedules.index(c) for c in subject.candidates]]
                res["frozen"] = {
                    "K": K, "d": d, "schedules": list(subject.candidates),
                    "runs": int(adaptive.size),
                    "converged_adaptive": int((adaptive == "converged").sum()),
                    "converged_frozen": int((runs.frozen == "converged").sum()),
                    "failed_adaptive": int(np.isin(adaptive, grid.FAILED_STATUSES).sum()),
                    "failed_frozen": int(np.isin(runs.frozen, grid.FAILED_STATUSES).sum()),
                    "class_differs": int((adaptive != runs.frozen).sum())}
            if summary["first_failed"].size and res["witness"] is None:
                prob, start = summary["first_failed"][0]
                label, problem, _ = entries[prob]
                sched = subject.schedules.index(subject.candidates[-1])
                spec = grid.emc_run_spec(dict(grid.method_specs(subject, K))[reading], problem,
                                         starts[label][start], subject.candidates[-1],
                                         runs.eta0[prob, sched, 0, start], p["steps"],
                                         runs.tol[prob, sched, 0, start], p)
                res["witness"] = grid.replayed_counterexample(claim, (
                    f"grid, reading {reading}: {label}, d={d}, K={K}, start scale "
                    f"{start_scales[scale_idx[start]]:g}: every candidate run with a grid step "
                    f"(eta0*L in {list(subject.eta_times_L)}) diverged; replayed: "
                    f"{subject.candidates[-1]}, eta0*L={subject.eta_times_L[0]:g}"), spec)
    for res in out.values():
        res["smallest"] = grid.smallest_failing_scale(res["failures"], start_scales)
        res["failures"] = {k: v.tolist() for k, v in res["failures"].items()}
        res["far_only"] = [k for k, v in res["failures"].items()   # candidate steps failing
                           if k.split()[0] in subject.candidates and v[0] == 0 and v[-1] > 0]
    return out


def reading_facts(subject, res: dict, found: dict, plateau: dict, h_linear) -> dict:
    """The per-reading facts of T1 (by the names of its ``ReadingFacts``) from the grid's totals
    ``res``, the search's result, the plateau and the reading's linearity."""
    t, by = res["totals"], res["by_problem"]
    return dict(
        cells=t["cells"], cells_converged=t["converged"], cells_pending=t["pending"],
        cells_keeping_pace=t["keeping_pace"], cells_lagging=t["lagging"],
        cells_uninformative=t["uninformative"], cells_failed_unrescued=t["failed_unrescued"],
        cells_failed_rescued=t["failed_rescued"],
        uniform_schedule_all_problems=t["uniform_groups"] == t["groups"],
        uniform_groups=t["uniform_groups"], groups=t["groups"],
        search_failures_unrescued=int(found["failing"] and not found["rescued"]),
        search_failures_rescued=int(found["failing"] and found["rescued"]),
        constant_cells_converged=t["constant_cells_converged"],
        converged_by_problem=by["converged"], pending_by_problem=by["pending"],
        lagging_by_problem=by["lagging"], uninformative_by_problem=by["uninformative"],
        runs_by_schedule=res["classes"], runs_against_control=res["against"],
        smallest_failing_scale=res["smallest"],
        diminishing_steps_failing_only_from_far=res["far_only"],
        constant_step_plateau=plateau, frozen_weights=res["frozen"], h_linear=h_linear)


def parameters(subject, p: dict, readings: list, problems: list, seed: int) -> dict:
    """The record of T1's protocol: the subject, the grid, the calibration, the roles."""
    return {
        "subject": subject.name, "K_d": [list(kd) for kd in p["K_d"]], "readings": readings,
        "problems": problems, "schedules": list(subject.schedules),
        "candidate_schedules": list(subject.candidates),
        "eta0_times_L": list(subject.eta_times_L),
        "start_scaled_eta0": "1/(L max(1, ||grad f(x0)||_inf))" if subject.start_scaled else None,
        "start_scales": list(p["start_scales"]), "seeds": p["seeds"], "steps": p["steps"],
        "tol": f"{p['tol']:g} * max(1, ||grad f(x0)||)", "control": grid.CALIBRATOR,
        "control_multiple": p["multiple"], "divergence_factor": p["divergence_factor"],
        "tau_frozen": p["tau_frozen"], "frozen_comparison_K_d": list(p["frozen_K_d"]),
        "roles_K_d": list(p["roles_K_d"]), "plateau_eta0_times_L": list(p["plateau"]),
        "search": p["search"], "spectral_K": list(p["spectral_K"]),
        "spectral_steps": p["spectral_steps"],
        "pep": p["pep"] and {k: list(v) for k, v in p["pep"].items()}, "seed": seed}


def grid_summary(reading: str, res: dict) -> Evidence:
    """The grid's evidence line for one reading."""
    t, far = res["totals"], res["far_only"]
    by = res["by_problem"]
    return Evidence(
        "numerical", f"grid ({reading})",
        f"{t['cells']} cells against gradient descent with the same schedule, step, start and "
        f"tolerance: {t['converged']} converged under a candidate schedule, {t['keeping_pace']} "
        f"keeping pace with a converging control, {t['lagging']} lagging ("
        + (", ".join(f"{k} {v}" for k, v in by["lagging"].items() if v) or "none")
        + f"), {t['uninformative']} uninformative (control pending: "
        + (", ".join(f"{k} {v}" for k, v in by["uninformative"].items() if v) or "none")
        + f"), {t['failed_rescued']} failed but rescued by the start-scaled step, "
        f"{t['failed_unrescued']} failed; a candidate no start contradicts (lagging or failing) "
        f"in {t['uniform_groups']}/{t['groups']} problem groups; constant steps converged in "
        f"{t['constant_cells_converged']} cells; candidate steps failing only from far: "
        f"{far or 'none'}",
        {"runs_by_schedule": res["classes"], "runs_against_control": res["against"],
         "failures_by_scale": res["failures"], "cells_by_problem": by})


def proof_evidence(pep_key, p: dict) -> tuple:
    """The proof step (``proofs.cascade_sum``), the spectral check
    (``proofs.linear_stability.core_agreement``) and PEPit (``proofs.pep_emc.emc_against_gd``,
    computed in the worker under ``pep_key``; not in a quick pass, whose plan has no ``pep``):
    ``(evidence, facts, h_linear)``, facts by the names of T1's ``Facts``."""
    coeff, linear = cascade_sum.cascade_coefficients(5, 8), cascade_sum.reading_is_linear()
    closed = derivation_result("cascade_sum")
    proved = closed.value("coefficient_sum") is not None
    max_sum = max(max(v) for v in coeff["weight_sums"].values())
    stale = coeff["stale_share"]
    spectral = linear_stability.core_agreement(p["spectral_K"], p["spectral_steps"])
    pep = (background_result(pep_key, pep_emc.emc_against_gd, *p["pep"].values()) if p["pep"]
           else {"available": False, "what": "PEPit's worst cases are not computed in a quick "
                                             "pass (the full check computes them)"})
    facts = {"weight_sum_max": max_sum, "weights_sum_below_one": bool(max_sum < 1 and proved),
             "stale_share_min": min(stale.values()), "spectral_agrees": spectral["agree"],
             "stability_threshold_uniform": {str(r["K"]): r["threshold_uniform"]
                                             for r in spectral["rows"]},
             "pep_ratio_max": pep.get("ratio_max"), "pep_emc_decreasing": pep.get("decreasing"),
             "pep_emc_finite": pep.get("finite")}
    pep_summary = pep["what"] if not pep["available"] else (
        f"{pep['what']}: worst f(x_N)-f* of linear EMC (frozen uniform weights, L=1, "
        f"||x0-x*||<=1) finite for every N, eta, K: {pep['finite']}; decreasing in N: "
        f"{pep['decreasing']}; EMC/GD ratio at eta=1/L, N={max(p['pep']['N'])}: "
        + ", ".join(f"K={k}: {v:.3f}" for k, v in pep["ratio_at_one"].items())
        + f"; max ratio over the grid {pep['ratio_max']:.3f} (GD reference L/(4N+2) at "
        "eta=1/L)" + (f"; {pep['inaccurate']} solve(s) flagged inaccurate by the solver"
                      if pep["inaccurate"] else ""))
    evidence = [
        Evidence("numerical", "cascade coefficients on past gradients",
                 f"after t={coeff['t']} steps from m_0=0, level k weights g_s by (1-b_k) "
                 f"b_k^(t-s) (matches closed form: {coeff['closed_form_matches']}); sums 1-b_k^t "
                 f"<= {max_sum:.4f} < 1; with uniform weights the share of the aggregate on "
                 f"stale gradients (s<t) is {stale['1']:.3f} (K=1) to {max(stale.values()):.3f} "
                 f"(K={len(stale)}); h additive and 1-homogeneous: "
                 + ", ".join(f"{r}: {v}" for r, v in linear.items()),
                 {**coeff, "h_linear": linear}),
        Evidence("symbolic", "sympy: sum of the cascade coefficients",
                 "S_t = sum_(s=1..t) (1-b) b^(t-s) = 1 - b^t by induction on S_t = b S_(t-1) + "
                 f"(1-b), S_1 = 1-b: {proved}",
                 {"closed_form": closed.derivation["results"]["coefficient_sum"]["value"],
                  "proved": proved}),
        Evidence("independent", "spectral analysis (linear, frozen weights)", "; ".join(
            f"K={r['K']}: u*={r['threshold_uniform']:.4g} (weights at Ht=1: "
            f"{r['threshold_Ht1']:.4g}); core = companion iteration to "
            f"{r['max_relative_deviation']:.1e}; ||g_T||/||g_0|| at 0.98u*/1.02u*: "
            f"{r['grad_norm_ratio'][0]:.1e}/{r['grad_norm_ratio'][1]:.1e}; growth "
            f"{r['growth_rate_above']:.6f} vs spectral radius {r['spectral_radius'][1]:.6f}"
            for r in spectral["rows"]),
                 {k: spectral[k] for k in ("rows", "eigenvalues", "steps")}),
        Evidence("independent", "PEPit worst case", pep_summary,
                 {"rows": pep["rows"]} if pep["available"] else {},
                 available=pep["available"]),
    ]
    return evidence, facts, linear


def search_counterexamples(claim: str, subject, reading: str, found: dict) -> list:
    """The search's failing start, shrunk and replayed (none if the search found none)."""
    if not found["failing"]:
        return []
    return [grid.replayed_counterexample(claim, (
        f"search, reading {reading}: quadratic cond 10 (axis-aligned), shrunk to "
        f"d={found['shrunk_d']}, K={found['shrunk_K']}, start scale {found['start_scale']:.3g}: "
        f"every candidate run with a grid step diverged; start-scaled step: "
        f"{found['scaled_step_kinds']}; replayed: {subject.candidates[-1]}, "
        f"eta0*L={subject.eta_times_L[0]:g}"), found["spec"])]


def reading_evidence(reading: str, res: dict, found: dict, plateau: dict, p: dict) -> list:
    """The grid, roles and search evidence of one reading."""
    K, d = p["roles_K_d"]
    return [
        grid_summary(reading, res),
        Evidence("numerical", f"roles ({reading})",
                 f"constant eta0*L in {list(p['plateau'])} on quadratic cond 10 (d={d}, K={K}): "
                 f"{plateau['kind']}, plateau exponent in eta0: "
                 f"{plateau['level_exponent_in_eta0']}; adaptive vs frozen uniform weights: "
                 f"{res['frozen']}",
                 {"constant_step_plateau": plateau, "frozen_weights": res["frozen"]}),
        Evidence("numerical", f"counterexample search ({reading})",
                 f"{found['evaluations']} starts evaluated (d={found['d']}, K={found['K']}); "
                 f"worst best-outcome {found['worst_badness']:.3g} (1000 = every run failed); "
                 f"failing: {found['failing']}"
                 + (f", shrunk to d={found['shrunk_d']}, K={found['shrunk_K']}, rescued by the "
                    f"start-scaled step: {found['rescued']}" if found["failing"] else ""),
                 {k: v for k, v in found.items() if k != "spec"}),
    ]


def numerical_readings(claim: str, subject, problems, p: dict, seed: int) -> tuple:
    """T1's numerical part for ``subject`` (grid, counterexample search, plateau), per reading:
    ``({reading: {"res", "found", "plateau", "witnesses"}}, parameters)``."""
    res_by = grid_evidence(claim, subject, problems, p, seed)
    K_roles, d_roles = p["roles_K_d"]
    specs = dict(grid.method_specs(subject, K_roles))
    out = {}
    for reading, res in res_by.items():
        found = grid.search(subject, reading, p["search"], p, seed)
        plateau = grid.constant_step_plateau(specs[reading], d_roles, seed, p)
        witnesses = [res["witness"]] if res["witness"] is not None else []
        witnesses += search_counterexamples(claim, subject, reading, found)
        out[reading] = {"res": res, "found": found, "plateau": plateau, "witnesses": witnesses}
    params = parameters(subject, p, list(res_by), [e[0] for e in problems(2, seed)], seed)
    return out, params


def join_readings(subject, runs: dict, p: dict, reading_facts_type, proved: dict,
                  h_linear: dict) -> tuple:
    """The numerical part ``runs`` (:func:`numerical_readings`) joined with what decides each
    reading (``proved[reading]``: certificates, derivations, counterexample facts, local law;
    without it, gradient descent's descent-lemma certificate for a one-step gd subject):
    ``(per_reading facts, evidence, counterexamples)``."""
    per_reading, evidence, counterexamples = {}, [], []
    for reading, r in runs.items():
        counterexamples += r["witnesses"]
        decided = proved.get(reading) or {
            "certificates": (t1_proofs.gd_certificate(subject.eta_times_L[0])
                             if subject.optimizer == "gd" and len(subject.eta_times_L) == 1
                             else []),
            "derivations": [], "counterexamples": [], "local_convergence": {}}
        decided = {**decided, "counterexamples": decided["counterexamples"]
                   + [t1_proofs.core_witness_fact(w) for w in r["witnesses"]]}
        per_reading[reading] = reading_facts_type(**reading_facts(
            subject, r["res"], r["found"], r["plateau"], h_linear.get(reading)), **decided)
        evidence += reading_evidence(reading, r["res"], r["found"], r["plateau"], p)
    return per_reading, evidence, counterexamples


def emc_proof_side(pep_key, p: dict, quick: bool) -> tuple:
    """The paper's method only: the proof step, spectral check and PEPit (:func:`proof_evidence`)
    and the certificates, derivations and replayed records (``t1_proofs.statement_records``):
    ``(evidence, facts, h_linear, proved)``."""
    evidence, facts, h_linear = proof_evidence(pep_key, p)
    proved = t1_proofs.statement_records(quick)
    facts["weights_vary_in_time"] = t1_proofs.weights_vary_in_time()
    facts["no_minimiser_counterexample"] = proved["no_minimiser"]
    return evidence + t1_proofs.proof_evidence(proved), facts, h_linear, proved
