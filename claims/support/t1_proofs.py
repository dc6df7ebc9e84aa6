r"""Glue between Theorem 1's claim and the proofs layer: the certificates (re-verified exactly on
every call), the exact derivations, the replayable counterexample records and their replays,
as T1's typed facts and its counterexample records.

* linear reading: the Lyapunov certificates of :mod:`proofs.lyapunov_certificate` (K = 1, 2, 3,
  tau = 1; steps :math:`\eta_t \le \eta_{cert}/L`, any sequence; constant steps below
  :math:`\eta_{const}/L`), the dead-zone Huber cycles just above :math:`\eta_{cycle}/L`
  (:mod:`proofs.linear_brackets`: brackets, not refutations);
* root reading: the exact period-2 cycle (:mod:`proofs.root_cycle`, sympy), its replayable
  constant-step record, the diminishing-step law confirmed by stored long runs;
* power reading: the divergence law :math:`r^\star = C/(\eta_0 L^2)`
  (:mod:`proofs.power_divergence`) and its replayable record (a schedule fixed before the
  start, started beyond :math:`r^\star`);
* the statement's gap: :mod:`proofs.no_minimiser`;
* a control subject (gradient descent): the classical descent-lemma certificate, exact in
  rationals: :math:`0 < \eta L < 2` gives :math:`f(x_{t+1}) \le f(x_t) - \eta(1 - \eta L/2)
  \|g_t\|^2`.

``quick``: the stored laws, and the deciding records replayed (the root cycle, the power
divergence), not the linear brackets' cycles nor the no-minimiser record; full: the sympy
derivations re-run and every record replayed (:func:`proofs.t1_records.replay_all`).
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from emc_theory.replay import STATED_RTOL, check_stated_minimum
from proofs import (
    linear_brackets,
    no_minimiser,
    power_divergence,
    root_cycle,
    t1_records,
)

from .base import Counterexample, Evidence

REPLAYERS = {
    "linear_emc_cycle": linear_brackets.replay_counterexample,
    "root_emc_cycle": root_cycle.replay_cycle_counterexample,
    "power_emc_divergence": power_divergence.replay_divergence_counterexample,
    "no_minimiser": no_minimiser.replay_counterexample,
}
"""Record ``kind`` -> its replayer; a record without a ``kind`` is a core run
(:func:`emc_theory.replay.replay`)."""

LAW_RTOL = 1e-3   # a stored long-run law confirms its closed form within this relative error


def replay(record: dict) -> dict:
    """T1's replay: dispatch on the record's ``kind`` (see :data:`REPLAYERS`); a record without
    one is a core run, replayed by :func:`emc_theory.replay.replay` (its outcome's ``status``)."""
    if not isinstance(record, dict):
        raise TypeError(f"a T1 replay record must be a dict, got {type(record).__name__}")
    kind = record.get("kind")
    if kind is None:
        from emc_theory.replay import replay as replay_run

        return replay_run(record).summary()
    if kind not in REPLAYERS:
        raise ValueError(f"record kind must be one of {sorted(REPLAYERS)} (or absent for a core "
                         f"run), got {kind!r}")
    _check_stated_problem(record)
    return REPLAYERS[kind](record)


def _check_stated_problem(record: dict) -> None:
    """A record's stated problem constants against those of the problem rebuilt from its
    parameters, so a tampered record is refused before it is replayed: the minimum as for core
    runs (:func:`emc_theory.replay.check_stated_minimum`), and ``L`` here (the dead-zone Huber
    is not among the core's factories, whose ``make_problem`` checks it)."""
    spec = record.get("problem")
    if not isinstance(spec, dict) or spec.get("name") != "dead_zone_huber":
        return
    params = spec.get("params")
    if not isinstance(params, dict):
        raise TypeError("record['problem']['params'] must be a dict")
    problem = linear_brackets.dead_zone_huber(**params)
    stated = spec.get("L")
    if not isinstance(stated, (int, float)) or not math.isclose(
            stated, problem.L, rel_tol=STATED_RTOL, abs_tol=STATED_RTOL):
        raise ValueError(f"record['problem']['L'] = {stated!r} differs from the rebuilt "
                         f"problem's L = {problem.L!r}: the record was altered or written by "
                         "another version")
    check_stated_minimum(spec, problem)


def _step(spec: dict) -> tuple:
    """``(schedule class, eta0 * L)`` of a core run spec."""
    lr, L = spec["optimizer"]["lr"], float(spec["problem"]["L"])
    if isinstance(lr, dict):
        kind, eta0 = lr["kind"], float(lr["eta0"])
    else:
        kind, eta0 = "constant", float(lr)
    return ("constant" if kind == "constant" else "diminishing"), eta0 * L, kind


def _cx_fact(name: str, record: dict, replayed: dict, schedule: str, step: float, K=None,
             fixed_before_start: bool = True) -> dict:
    return {"name": name, "K": K, "schedule": schedule, "step_times_L": step,
            "class": replayed.get("class"), "recorded": record["class"],
            "replays": bool(replayed.get("matches")), "fixed_before_start": fixed_before_start}


def core_witness_fact(cx: Counterexample) -> dict:
    """A grid or search witness (a core run that failed) as a counterexample fact. Its outcome
    is already a replay of its record on this run (``t1_grid.replayed_counterexample``), so it
    is not run a second time."""
    schedule, step, kind = _step(cx.replay)
    return {"name": cx.description.split(":")[0], "K": cx.replay["optimizer"].get("K"),
            "schedule": schedule, "step_times_L": step,
            "class": cx.outcome["status"], "recorded": cx.outcome["status"],
            "replays": True, "fixed_before_start": True}


def gd_certificate(eta_times_L: float) -> list:
    """The descent lemma as a certificate for gradient descent with constant step
    ``eta_times_L``/L: one entry if :math:`0 < \\eta L < 2` exactly (rationals), else none."""
    q = Fraction(eta_times_L).limit_denominator(10**9)
    if not 0 < q < 2:
        return []
    return [{"name": "descent lemma (f decreases by eta(1 - eta L/2)|g|^2)", "K": None,
             "verified": True, "schedules": ["constant"], "step_any_sequence": None,
             "step_constant": 2.0, "subject_step": float(q)}]


def statement_records(quick: bool) -> dict:
    """Everything for EMC: ``{"summary", "linear", "root", "power", "no_minimiser",
    "counterexamples"}`` -- per reading the facts' ingredients (certificates, derivations,
    counterexample facts, local law), and the Counterexample records for the report."""
    s = t1_records.summary()
    laws, records = s["laws"], s["records"]
    cert_rows = s["certificates"]["rows"]
    certificates = [{"name": f"Lyapunov SDP certificate K={r['K']}, tau={r['tau']}", "K": r["K"],
                     "verified": bool(r["verified"]), "schedules": ["constant", "diminishing"],
                     "step_any_sequence": r["eta_cert"], "step_constant": r["eta_const"],
                     "subject_step": None} for r in cert_rows]
    # the brackets' cycles decide nothing (the certificates do): replayed by the full check only
    cycles = [] if quick else [c for c in linear_brackets.load_brackets()["cycles"]
                               if c["record"] is not None]
    out = {"summary": {"brackets": s["brackets"], "rates": s["rates"]},
           "counterexamples": []}
    lin_cx = []
    for c in cycles:
        rec = c["record"]
        now = replay(rec)
        lin_cx.append(_cx_fact(f"dead-zone Huber cycle K={c['K']} ({c['weights']} weights)", rec,
                               now, "constant", float(rec["lr"]), K=rec["K"]))
        out["counterexamples"].append(Counterexample(
            "T1", f"linear reading, K={c['K']}, constant step {rec['lr']:.4g}/L (just above "
            "the certified range): limit cycle on a dead-zone Huber function", rec,
            {"class": rec["class"], "amplitude": rec.get("amplitude")}))
    out["linear"] = {"certificates": certificates, "derivations": [], "counterexamples": lin_cx,
                     "local_convergence": {}}

    # root: exact cycle (sympy, re-derived in full) and the diminishing law (stored long runs)
    derived = ([root_cycle.derive_cycle(K) for K in (1, 2, 3)] if not quick
               else laws["root_derivation"])
    cycle_ok = all(d["amplitude_matches"] and d["linearised_u_is_half_u_star"] for d in derived)
    dim = laws["root_diminishing"]
    dim_ok = all(abs(d["exponent_fitted"] - d["exponent_predicted"]) <= LAW_RTOL
                 * abs(d["exponent_predicted"]) and abs(d["ratio_min"] - 1) <= LAW_RTOL
                 and abs(d["ratio_max"] - 1) <= LAW_RTOL for d in dim)
    root_rec = records["root"]
    root_now = replay(root_rec)
    out["root"] = {
        "certificates": [],
        "derivations": [
            {"name": "period-2 cycle, amplitude eta^2 lambda s/4 (sympy), attracting "
                     "(linearisation at u*/2)", "verified": cycle_ok, "schedules": ["constant"],
             "says": "does_not_converge", "confirmed_by_runs": bool(root_now.get("matches"))},
            {"name": "diminishing steps track the cycle: |g_t| ~ eta_t^2 lambda^2 s/4 -> 0",
             "verified": cycle_ok, "schedules": ["diminishing"], "says": "converges",
             "confirmed_by_runs": dim_ok,
             "runs": [{k: d[k] for k in ("schedule", "steps", "exponent_fitted",
                                         "exponent_predicted", "ratio_min", "ratio_max")}
                      for d in dim]}],
        "counterexamples": [_cx_fact("root constant-step cycle", root_rec, root_now, "constant",
                                     _step(root_rec["spec"])[1],
                                     K=root_rec["spec"]["optimizer"]["K"])],
        "local_convergence": {}}
    out["counterexamples"].append(Counterexample(
        "T1", "root reading, constant step 0.1/L, K=3, quadratic started on an eigen-axis: "
        f"period-2 cycle with |g| = eta^2 lambda^2 s/4 = {root_rec['grad_amplitude_exact']:.4g}",
        root_rec, {"class": root_rec["class"], "period": root_rec["period"]}))

    # power: the divergence law (sympy scaling re-derived in full; fitted constants stored)
    scaling = power_divergence.derive_scaling(2) if not quick else laws["power_derivation"]
    fits = laws["power_scaling"]
    law_ok = all(f["monotone"] and f["residual_eta"] < 1e-6 and f["residual_L"] < 1e-6
                 for f in fits)
    classes = sorted({"constant" if f["schedule"] == "constant" else "diminishing"
                      for f in fits})
    pow_rec = records["power"]
    pow_now = replay(pow_rec)
    schedule, step, _ = _step(pow_rec["spec"])
    out["power"] = {
        "certificates": [],
        "derivations": [{"name": "divergence law r* = C/(eta0 L^2): a schedule fixed before the "
                                 "start diverges from beyond r*",
                         "verified": bool(scaling["free_of_eta_and_L"]), "schedules": classes,
                         "says": "diverges_from_far", "confirmed_by_runs": law_ok}],
        "counterexamples": [_cx_fact("power divergence beyond r*", pow_rec, pow_now, schedule,
                                     step, K=pow_rec["spec"]["optimizer"]["K"])],
        "local_convergence": {
            "law": "r* = C / (eta0 L^2)",
            "C": {f["schedule"]: f["C"] for f in fits},
            "fit_residual_max": max(max(f["residual_eta"], f["residual_L"]) for f in fits),
            "rates_inside": [{k: r[k] for k in ("schedule", "start", "status",
                                                  "exponent_fitted", "fit_residual")}
                             for r in laws["power_local_rates"]]}}
    out["counterexamples"].append(Counterexample(
        "T1", f"power reading, schedule {pow_rec['spec']['optimizer']['lr']} fixed first, "
        f"started at {pow_rec['factor']:g} r* (r* = {pow_rec['r_star']:.4g}): diverges",
        pow_rec, {"class": pow_rec["class"]}))

    # the statement's gap
    nm = records["no_minimiser"]
    nm_now = replay(nm) if not quick else None
    out["no_minimiser"] = {"class": nm_now["class"] if nm_now else None,
                           "recorded": nm["class"],
                           "replays": bool(nm_now["matches"]) if nm_now else None,
                           "replayed": not quick}
    out["counterexamples"].append(Counterexample(
        "T1", "linear reading, logistic regression on separable data, reg = 0 (convex, "
        "L-smooth, bounded below, no minimiser): |g_t| -> 0 while |x_t| -> infinity", nm,
        {"class": nm["class"]}))
    return out


def weights_vary_in_time(K: int = 3) -> bool:
    """Whether EMC's weights move with the gradient's entropy (Ht = 0 vs Ht = 1 weights differ):
    the frozen-weight analyses (spectral threshold, PEPit) then do not cover the method."""
    return not np.allclose(linear_brackets.frozen_weights(K, "uniform"),
                           linear_brackets.frozen_weights(K, "top"))


def proof_evidence(proved: dict) -> list:
    """The certificates, brackets, derivations and records as report evidence."""
    lin, root, power = proved["linear"], proved["root"], proved["power"]
    rows = proved["summary"]["brackets"]["rows"] if proved["summary"]["brackets"] else []
    rates = proved["summary"]["rates"]["rows"]

    def cx(items):
        return "; ".join(f"{c['name']}: {c['class']} (recorded {c['recorded']}, replays: "
                         f"{c['replays']})" for c in items)

    return [
        Evidence("symbolic", "Lyapunov certificates (linear reading, exact re-verification)",
                 "; ".join(f"K={c['K']}: verified {c['verified']}, any step sequence "
                           f"eta_t <= {c['step_any_sequence']}/L, constant steps < "
                           f"{c['step_constant']}/L" for c in lin["certificates"]),
                 {"certificates": lin["certificates"]}),
        Evidence("independent", "brackets of the certified step (linear reading)",
                 "; ".join(f"K={r['K']}: eta_cert {r['eta_cert']} <= eta_const {r['eta_const']}"
                           f" <= eta_PEP {r['eta_pep']:.4g} <= u* {r['u_star']:.4g}; cycle on a "
                           f"dead-zone Huber from "
                           f"{min(r['eta_cycle_uniform'], r['eta_cycle_top']):.4g}/L; "
                           f"ordered {r['ordered']}" for r in rows)
                 + "; replayed: " + cx(lin["counterexamples"]),
                 {"brackets": rows, "replays": lin["counterexamples"]}),
        Evidence("symbolic", "linear-rate certificates (strongly convex, mu = L/10, eta = 1/L)",
                 "; ".join(f"K={r['K']}: rho {r['rho']} verified {r['verified']} (PEPit frozen "
                           f"weights {max(r['pep_rate'].values()):.4f})" for r in rates),
                 {"rates": rates}),
        Evidence("symbolic", "root reading: exact cycle and diminishing-step law",
                 "; ".join(f"{d['name']}: verified {d['verified']}, confirmed by runs "
                           f"{d['confirmed_by_runs']}" for d in root["derivations"])
                 + "; replayed: " + cx(root["counterexamples"]),
                 {"derivations": root["derivations"]}),
        Evidence("symbolic", "power reading: divergence law",
                 "; ".join(f"{d['name']}: scaling derived {d['verified']}, fits exact "
                           f"{d['confirmed_by_runs']}" for d in power["derivations"])
                 + f"; C per schedule {power['local_convergence']['C']}; replayed: "
                 + cx(power["counterexamples"]),
                 {"derivations": power["derivations"], "local": power["local_convergence"]}),
        Evidence("numerical", "the statement's gap: no minimiser",
                 f"separable logistic regression, reg = 0: recorded {proved['no_minimiser']}",
                 proved["no_minimiser"]),
    ]
