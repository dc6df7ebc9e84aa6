"""T1 (Theorem 1, convergence): the rule on constructed evidence, the array program against the
core runner, the run classes and cell counts on constructed runs, the proof-step numbers against
closed forms, the spectral check against the heavy-ball threshold, and a quick gather whose
counterexamples replay from JSON."""
import json

import numpy as np
import pytest

from claims import t1
from claims.support.base import CheckConfig, Findings
from emc_theory import EMC, minimize
from emc_theory.problems import huber, quadratic
from emc_theory.replay import replay

# ----------------------------------------------------------------------------- the rule

HOLDS = {"cells_failed_unrescued": 0, "cells_failed_rescued": 0, "cells_pending": 0,
         "search_failures_unrescued": 0, "search_failures_rescued": 0,
         "uniform_schedule_all_problems": True, "h_linear": True}
PROOF_SOUND = {"weights_sum_below_one": False, "stale_share_min": 0.0, "weight_sum_max": 1.0}
PROOF_ACTUAL = {"weights_sum_below_one": True, "stale_share_min": 0.498, "weight_sum_max": 0.996}


def _findings(per_reading, facts=PROOF_ACTUAL):
    return Findings(facts=dict(facts), per_reading={r: dict(f) for r, f in per_reading.items()})


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"),
    ({"cells_failed_unrescued": 2}, "fails"),
    ({"search_failures_unrescued": 1}, "fails"),
    ({"cells_failed_rescued": 3}, "conditional"),
    ({"search_failures_rescued": 1}, "conditional"),
    ({"uniform_schedule_all_problems": False}, "conditional"),
    ({"cells_pending": 5}, "undecided"),
    ({"cells_pending": None}, "undecided"),
    # wrong-side inputs: a failure is not hidden by pending cells or by rescued ones
    ({"cells_pending": 5, "cells_failed_unrescued": 1}, "fails"),
    ({"cells_failed_rescued": 1, "search_failures_unrescued": 1}, "fails"),
    # a rescued failure is a condition even when other cells are still pending
    ({"cells_pending": 5, "search_failures_rescued": 1}, "conditional"),
])
def test_reading_rule(change, expected):
    verdict, reason, conditions = t1.decide_reading({**HOLDS, **change})
    assert verdict == expected and reason
    if expected == "conditional":
        assert conditions and ("start point" in conditions[0])


def test_rule_needs_every_fact():
    facts = dict(HOLDS)
    del facts["cells_pending"]
    assert t1.decide_reading(facts)[0] == "undecided"


@pytest.mark.parametrize("readings, expected", [
    ({"power": {}, "root": {}, "linear": {}}, "holds"),
    ({"power": {"cells_failed_unrescued": 1}, "root": {"cells_failed_unrescued": 1},
      "linear": {"search_failures_unrescued": 1}}, "fails"),
    ({"power": {"cells_failed_unrescued": 1}, "root": {}, "linear": {}}, "conditional"),
    ({"power": {"search_failures_rescued": 1}, "root": {}, "linear": {}}, "conditional"),
    # combine_readings: an undecided reading beside a conditional one leaves the whole undecided
    ({"power": {"search_failures_rescued": 1}, "root": {"cells_pending": 3},
      "linear": {}}, "undecided"),
    ({"power": {"cells_pending": 1}, "root": {}, "linear": {}}, "undecided"),
])
def test_overall_statement(readings, expected):
    per_reading = {r: {**HOLDS, "h_linear": r == "linear", **c} for r, c in readings.items()}
    v = t1.decide(_findings(per_reading))
    assert v.statement == expected
    assert set(v.per_reading) == set(readings)
    if "search_failures_rescued" in readings["power"]:
        assert any(c.startswith("power:") for c in v.conditions)


@pytest.mark.parametrize("facts, linear, expected", [
    (PROOF_SOUND, {"power": True, "root": True, "linear": True}, "sound"),
    (PROOF_ACTUAL, {"power": False, "root": False, "linear": True}, "gap"),
    (PROOF_SOUND, {"power": False, "root": True, "linear": True}, "gap"),
    (PROOF_ACTUAL, {"power": True, "root": True, "linear": True}, "gap"),
    (PROOF_ACTUAL, {"power": False, "root": False, "linear": False}, "mismatch"),
    ({**PROOF_ACTUAL, "stale_share_min": None}, {"power": False, "root": False, "linear": True},
     "none"),
])
def test_proof_rule(facts, linear, expected):
    per_reading = {r: {**HOLDS, "h_linear": v} for r, v in linear.items()}
    v = t1.decide(_findings(per_reading, facts))
    assert v.proof == expected
    if expected == "gap":
        assert "does not follow" in v.proof_reason


def test_gap_reason_names_the_nonlinear_readings():
    per_reading = {r: {**HOLDS, "h_linear": r == "linear"} for r in ("power", "root", "linear")}
    reason = t1.decide(_findings(per_reading)).proof_reason
    assert "power, root" in reason and "1-beta^t < 1" in reason and "stale" in reason


# ----------------------------------------------------------------------------- the machinery


def test_loglog_slope_of_power_laws():
    t = np.arange(0, 201, dtype=float)
    with np.errstate(divide="ignore"):
        history = np.stack([t**-1.0, np.ones_like(t), t**0.5, -np.ones_like(t)], axis=1)
    slope = t1._loglog_slope(history, 200)
    np.testing.assert_allclose(slope[:3], [-1.0, 0.0, 0.5], atol=1e-12)
    assert np.isnan(slope[3])


def test_start_scaled_eta_formula():
    g0 = np.array([[[3.0, -4.0], [0.1, 0.2]]])
    np.testing.assert_allclose(t1.start_scaled_eta(np.array([2.0]), g0), [[1 / 8, 1 / 2]])


def test_run_stacked_matches_the_core_runner():
    """Each row of one stacked program equals a single emc_theory.minimize run: same status and
    stop step; final gradient norms agree to rounding amplified by 120 steps (the rotated
    quadratic multiplies a (B, d) batch in the program and a (d,) vector in the runner)."""
    problems = [quadratic(3, cond=10.0, seed=1), huber(3, seed=2)]
    rng = np.random.default_rng(5)
    B = 6
    x0 = np.stack([p.x_star + rng.normal(scale=s, size=(B, 3))
                   for p, s in zip(problems, (3.0, 30.0))])
    sched = np.tile([0, 1, 2], (2, 2))
    eta0 = np.array([[0.05, 0.5, 1.0, 2.0, 0.3, 0.01]] * 2) / np.array([[p.L] for p in problems])
    tol = np.full((2, B), 1e-8)
    for reading in ("linear", "power", "root"):
        runs = t1.run_stacked(problems, x0, sched, eta0, tol, 120, K=3, reading=reading)
        for i, problem in enumerate(problems):
            for b in range(B):
                lr = t1.SCHEDULE_FACTORIES[sched[i, b]](float(eta0[i, b]))
                tr = minimize(EMC(K=3, lr=lr, reading=reading), problem, x0[i, b], 120,
                              tol=1e-8, divergence_factor=t1.DIVERGENCE_FACTOR)
                if tr.status == "max_steps":
                    assert runs.kind[i, b] in ("stalled", "decreasing", "growing")
                else:
                    assert runs.kind[i, b] == tr.status
                    assert runs.stop_step[i, b] == tr.stop_step
                np.testing.assert_allclose(runs.final_grad_norm[i, b], tr.final_grad_norm,
                                           rtol=1e-5)


def test_run_classes_on_known_dynamics():
    """Linear EMC (K = 1) on an isotropic quadratic with L = 1: a constant step 1 converges, a
    constant step 7 > u* = 6 diverges; with inv_t and a small eta0 the iterates follow gradient
    flow in time sum eta_t ~ eta0 log t, so ||grad|| ~ t^(-eta0): eta0 = 2e-3 gives a log-log
    slope -0.002 (stalled: above -0.05), eta0 = 0.2 a slope -0.2 (decreasing, ~0.3 at t = 300)."""
    problem = quadratic(2, eigenvalues=np.array([1.0, 1.0]), rotate=False, seed=0)
    x0 = np.broadcast_to(problem.x_star + 1.0, (1, 4, 2))
    sched = np.array([[0, 0, 2, 2]])
    eta0 = np.array([[1.0, 7.0, 2e-3, 0.2]])
    runs = t1.run_stacked([problem], x0, sched, eta0, np.full((1, 4), 1e-8), 300, K=1,
                          reading="linear")
    assert runs.kind[0].tolist() == ["converged", "diverged", "stalled", "decreasing"]


def _kinds(fill, **cells):
    """A (1, B) kind array over grid_rows(5, 1, 1): ``fill`` everywhere, then per (schedule,
    eta column) overrides."""
    rows = t1.grid_rows(len(t1.ETA_FACTORS), 1, 1)
    kind = np.full((1, rows["schedule"].size), fill, dtype=object)
    for key, value in cells.items():
        sched, eta = key.split("_")
        sel = (rows["schedule"] == t1.SCHEDULES.index(sched.replace("-", "_"))) & (
            rows["eta"] == (len(t1.ETA_FACTORS) if eta == "scaled" else int(eta)))
        kind[0, sel] = value
    return kind, rows


@pytest.mark.parametrize("fill, cells, expected", [
    ("diverged", {"inv-sqrt_scaled": "decreasing"}, "failed_rescued"),
    ("diverged", {"constant_0": "converged"}, "failed_unrescued"),
    ("diverged", {"inv-t_2": "converged"}, "converged"),
    ("decreasing", {}, "pending"),
    ("stalled", {"inv-sqrt_scaled": "converged"}, "converged"),
])
def test_cell_summary_categories(fill, cells, expected):
    kind, rows = _kinds(fill, **cells)
    summary = t1.cell_summary(kind, rows)
    categories = ("converged", "failed_unrescued", "failed_rescued", "pending")
    assert {c: summary[c] for c in categories} == {c: int(c == expected) for c in categories}


def test_uniform_needs_one_grid_step_for_every_start():
    rows = t1.grid_rows(len(t1.ETA_FACTORS), 2, 1)
    kind = np.full((1, rows["schedule"].size), "decreasing", dtype=object)
    inv_t = rows["schedule"] == t1.SCHEDULES.index("inv_t")
    kind[0, inv_t & (rows["eta"] == 1) & (rows["scale"] == 0)] = "converged"
    kind[0, inv_t & (rows["eta"] == 2) & (rows["scale"] == 1)] = "converged"
    summary = t1.cell_summary(kind, rows)
    assert summary["converged"] == 2 and summary["uniform_groups"] == 0
    kind[0, inv_t & (rows["eta"] == 2)] = "converged"
    assert t1.cell_summary(kind, rows)["uniform_groups"] == 1


def test_failure_table_counts_per_scale():
    rows = t1.grid_rows(len(t1.ETA_FACTORS), len(t1.START_SCALES), 1)
    kind = np.full((2, rows["schedule"].size), "converged", dtype=object)
    far = (rows["schedule"] == 2) & (rows["eta"] == 4) & (rows["scale"] == 3)
    kind[:, far] = "diverged"
    kind[1, (rows["schedule"] == 2) & (rows["eta"] == 4) & (rows["scale"] == 2)] = "non-finite"
    table = t1.failure_table(kind, rows)
    assert table["inv_t eta0*L=10"].tolist() == [0, 0, 1, 2]
    assert sum(v.sum() for v in table.values()) == 3
    assert t1.smallest_failing_scale(table)["inv_t eta0*L=10"] == 100.0


def test_proof_step_numbers_against_closed_forms():
    evidence, facts, linear = t1.proof_step_evidence(K_max=3, t=8)
    sums = evidence[0].data["weight_sums"]
    for K in (1, 2, 3):
        np.testing.assert_allclose(sums[str(K)], [1 - (1 - 2.0**-k) ** 8 for k in range(1, K + 1)],
                                   rtol=1e-12)
    # K = 1: the current gradient carries 1/2, the total is 1 - 2^-8
    np.testing.assert_allclose(evidence[0].data["stale_share"]["1"],
                               (0.5 - 2.0**-8) / (1 - 2.0**-8), rtol=1e-12)
    assert facts["weights_sum_below_one"] and evidence[1].data["proved"]
    assert linear == {"power": False, "root": False, "linear": True}


def test_spectral_check_at_the_heavy_ball_threshold():
    """K = 1: u* = 2(1 + beta)/(1 - beta) = 6 with beta = 1/2."""
    pytest.importorskip("proofs.linear_stability")
    evidence, facts = t1.spectral_evidence((1,), 150)
    assert evidence.available and facts["spectral_agrees"] is True
    assert facts["stability_threshold_uniform"]["1"] == pytest.approx(6.0, rel=1e-12)


# ----------------------------------------------------------------------------- quick gather


@pytest.fixture(scope="module")
def quick():
    return t1.gather(CheckConfig(quick=True))


def test_quick_gather_shape(quick):
    kinds = {e.kind for e in quick.evidence}
    assert {"numerical", "symbolic", "independent"} <= kinds
    assert set(quick.per_reading) == {"power", "root", "linear"}
    for facts in quick.per_reading.values():
        for key in t1._STATEMENT_FACTS:
            assert isinstance(facts[key], (bool, int)), key
        assert facts["cells"] == (facts["cells_converged"] + facts["cells_pending"]
                                  + facts["cells_failed_rescued"]
                                  + facts["cells_failed_unrescued"])
    verdict = t1.decide(quick)
    assert verdict.statement in ("holds", "fails", "conditional", "undecided")
    assert verdict.proof == "gap"
    json.dumps({"facts": quick.facts, "per_reading": quick.per_reading,
                "parameters": quick.parameters,
                "evidence": [e.data for e in quick.evidence]})


def test_quick_gather_is_deterministic(quick):
    again = t1.gather(CheckConfig(quick=True))
    assert json.dumps(again.per_reading, sort_keys=True) == json.dumps(quick.per_reading,
                                                                        sort_keys=True)
    assert [c.outcome for c in again.counterexamples] == [c.outcome for c in quick.counterexamples]
    assert [e.summary for e in again.evidence] == [e.summary for e in quick.evidence]


def test_counterexamples_replay_from_json(quick):
    for ce in quick.counterexamples:
        spec = json.loads(json.dumps(ce.replay))
        tr = replay(spec, history=False)
        assert str(tr.status) == ce.outcome["status"]
        assert int(tr.stop_step) == ce.outcome["stop_step"]
        assert float(tr.final_grad_norm) == ce.outcome["final_grad_norm"]
        assert ce.outcome["status"] in t1.FAILED
