"""T1 (Theorem 1, convergence): the rule on typed facts (every verdict it can give), the
calibration of runs against gradient descent and the cell categories on constructed runs, the
grid's rows against the core runner, the proof-step numbers against closed forms, the spectral
check against the heavy-ball threshold, and a quick gather whose counterexamples replay from
JSON. The controls (gradient descent at 1/L and 2.5/L through the same gather and rule) run in
tests/test_controls.py."""
import dataclasses
import json

import numpy as np
import pytest

from claims import t1
from claims.support import t1_grid, t1_rule
from claims.support.base import CheckConfig, Gathered
from emc_theory import EMC, minimize
from emc_theory.optimizers import OPTIMIZERS
from emc_theory.problems import huber, quadratic
from emc_theory.replay import replay
from emc_theory.schedules import Schedule
from proofs import cascade_sum, linear_stability

# ----------------------------------------------------------------------------- the rule

HOLDS = t1.ReadingFacts(
    cells=10, cells_converged=6, cells_pending=4, cells_keeping_pace=3, cells_lagging=0,
    cells_uninformative=1, cells_failed_unrescued=0, cells_failed_rescued=0,
    uniform_schedule_all_problems=True, uniform_groups=2, groups=2, search_failures_unrescued=0,
    search_failures_rescued=0, constant_cells_converged=5, converged_by_problem={"a": 6},
    pending_by_problem={"a": 4}, lagging_by_problem={"a": 0}, uninformative_by_problem={"a": 1},
    runs_by_schedule={}, runs_against_control={}, smallest_failing_scale={},
    diminishing_steps_failing_only_from_far=[], constant_step_plateau={}, frozen_weights=None,
    h_linear=True, certificates=[], derivations=[], counterexamples=[], local_convergence={})
CERT = {"name": "cert K=1", "K": 1, "verified": True, "schedules": ["constant", "diminishing"],
        "step_any_sequence": 0.894, "step_constant": 4.909, "subject_step": None}


def _cx(schedule, step, replays=True, name="cx", K=None):
    return {"name": name, "K": K, "schedule": schedule, "step_times_L": step, "class": "cycle",
            "recorded": "cycle", "replays": replays, "fixed_before_start": True}


def _der(schedules, says, verified=True, confirmed=True, name="law"):
    return {"name": name, "verified": verified, "schedules": schedules, "says": says,
            "confirmed_by_runs": confirmed}


LINEAR = dataclasses.replace(HOLDS, certificates=[CERT],
                             counterexamples=[_cx("constant", 5.04, name="dead zone")])
ROOT = dataclasses.replace(HOLDS, h_linear=False, counterexamples=[_cx("constant", 0.1)],
                           derivations=[_der(["constant"], "does_not_converge", name="cycle"),
                                        _der(["diminishing"], "converges", name="tracking")])
POWER = dataclasses.replace(
    HOLDS, h_linear=False, search_failures_rescued=1, local_convergence={"law": "r*", "C": 1},
    counterexamples=[_cx("diminishing", 0.1)],
    derivations=[_der(["constant", "diminishing"], "diverges_from_far")])
PROOF_SOUND = t1.Facts(weight_sum_max=1.0, weights_sum_below_one=False, stale_share_min=0.0,
                       spectral_agrees=True, stability_threshold_uniform={"1": 6.0},
                       pep_ratio_max=1.0, pep_emc_decreasing=True, pep_emc_finite=True,
                       weights_vary_in_time=False, no_minimiser_counterexample=None)
PROOF_ACTUAL = dataclasses.replace(
    PROOF_SOUND, weight_sum_max=0.996, weights_sum_below_one=True, stale_share_min=0.498,
    weights_vary_in_time=True,
    no_minimiser_counterexample={"class": None, "recorded": "gradient_to_zero_iterates_unbounded",
                                 "replays": None, "replayed": False})


def _gathered(per_reading, facts=PROOF_ACTUAL):
    return Gathered(facts, per_reading=dict(per_reading))


@pytest.mark.parametrize("facts, expected, in_reason", [
    # a certificate decides, both schedule classes; a cycle above its step brackets it
    (LINEAR, "holds", "cert K=1"),
    # a certificate that does not verify decides nothing: numerics alone only support
    (dataclasses.replace(LINEAR, certificates=[{**CERT, "verified": False}]), "undecided",
     "calibrated numerics only"),
    (HOLDS, "undecided", "no certificate"),
    # a replayed counterexample inside the certified range is a conflict
    (dataclasses.replace(LINEAR, counterexamples=[_cx("diminishing", 0.5)]), "undecided",
     "inside"),
    (dataclasses.replace(LINEAR, counterexamples=[_cx("constant", 4.0, K=1)]), "undecided",
     "inside"),
    # ... but not one for another K: a certificate covers its own K only
    (dataclasses.replace(LINEAR, counterexamples=[_cx("constant", 4.0, K=2)]), "holds",
     "cert K=1"),
    # the root pattern: constant steps cycle (exact), diminishing steps converge
    (ROOT, "holds", "tracking"),
    # a derivation not confirmed by the core's runs does not decide
    (dataclasses.replace(ROOT, derivations=[ROOT.derivations[0],
                                            {**ROOT.derivations[1], "confirmed_by_runs": False}]),
     "undecided", "diminishing"),
    # the power pattern: every schedule diverges from far, holds locally
    (POWER, "conditional", "global"),
    # every schedule refuted by replayed counterexamples, no local law, no rescue: fails
    (dataclasses.replace(HOLDS, counterexamples=[_cx("constant", 0.1), _cx("diminishing", 0.1)]),
     "fails", "cx"),
    # a counterexample that does not replay refutes nothing
    (dataclasses.replace(HOLDS, counterexamples=[_cx("constant", 0.1, replays=False),
                                                 _cx("diminishing", 0.1)]), "undecided",
     "constant"),
    # only one class refuted: the other is missing
    (dataclasses.replace(HOLDS, counterexamples=[_cx("constant", 0.1)]), "undecided",
     "diminishing"),
    (dataclasses.replace(LINEAR, cells_lagging=None), "undecided", "needed fact"),
    (dataclasses.replace(LINEAR, certificates=None), "undecided", "needed fact"),
])
def test_reading_rule(facts, expected, in_reason):
    verdict, reason, conditions = t1.decide_reading(facts)
    assert verdict == expected and in_reason in reason
    if expected == "conditional":
        assert "after the start" in conditions[0]
    if facts is LINEAR:
        assert any("eta_cert/L" in c and "K in {1}" in c for c in conditions)
        assert any("dead zone" in c for c in conditions)
    if facts is ROOT:
        assert any(c.startswith("constant steps do not converge") for c in conditions)


@pytest.mark.parametrize("eta_times_L, witness, expected", [
    (1.0, [], "holds"),                                  # descent lemma: 1 < 2
    (2.5, [_cx("constant", 2.5)], "fails"),              # no certificate, a replayed divergence
    (1.999, [], "holds"),
    (2.0, [], "undecided"),                              # no certificate and no counterexample
])
def test_gradient_descent_through_the_rule(eta_times_L, witness, expected):
    from claims.support import t1_proofs

    facts = dataclasses.replace(HOLDS, certificates=t1_proofs.gd_certificate(eta_times_L),
                                counterexamples=witness)
    assert t1.decide_reading(facts, ("constant",))[0] == expected


def test_gd_certificate_is_exact():
    from claims.support import t1_proofs

    assert t1_proofs.gd_certificate(2.0) == [] and t1_proofs.gd_certificate(0.0) == []
    assert t1_proofs.gd_certificate(1.0)[0]["verified"] is True


def test_numerics_alone_still_fail_and_condition():
    """The calibrated numerics' own words are reported beside the decision."""
    def word(**changes):
        return t1_rule.numerics_reading(dataclasses.replace(HOLDS, **changes))[0]

    assert word(cells_failed_unrescued=1) == "fails"
    assert word(cells_failed_rescued=1) == "conditional"
    assert word(cells_lagging=1) == "undecided"
    assert word() == "holds"


def test_facts_are_typed():
    with pytest.raises(TypeError):
        dataclasses.replace(HOLDS, cells_pendng=1)
    assert {f.name for f in dataclasses.fields(t1.ReadingFacts)} >= {
        "cells", "cells_converged", "cells_pending", "cells_failed_unrescued",
        "cells_failed_rescued", "uniform_schedule_all_problems", "search_failures_unrescued",
        "h_linear", "frozen_weights", "constant_step_plateau", "runs_by_schedule",
        "certificates", "derivations", "counterexamples", "local_convergence"}


@pytest.mark.parametrize("readings, expected", [
    ({"power": POWER, "root": ROOT, "linear": LINEAR}, "conditional"),
    ({"root": ROOT, "linear": LINEAR}, "holds"),
    ({"power": dataclasses.replace(POWER, derivations=[], search_failures_rescued=0,
                                   counterexamples=[_cx("constant", 1), _cx("diminishing", 1)]),
      "root": dataclasses.replace(HOLDS, counterexamples=[_cx("constant", 1),
                                                          _cx("diminishing", 1)])}, "fails"),
    ({"power": POWER, "root": HOLDS, "linear": LINEAR}, "undecided"),
])
def test_overall_statement(readings, expected):
    v = t1.decide(_gathered(readings))
    assert v.statement == expected and set(v.per_reading) == set(readings)
    assert "combine_readings" in v.statement_reason
    stated = [c for c in v.conditions if c.startswith("theorem as it holds")]
    assert len(stated) == 1
    for r, verdict in v.per_reading.items():
        assert f"{r}: {verdict}" in stated[0]
    assert "minimiser" in stated[0]


@pytest.mark.parametrize("facts, linear, expected", [
    (PROOF_SOUND, {"power": True, "root": True, "linear": True}, "sound"),
    (PROOF_ACTUAL, {"power": False, "root": False, "linear": True}, "gap"),
    (PROOF_SOUND, {"power": False, "root": True, "linear": True}, "gap"),
    (PROOF_ACTUAL, {"power": True, "root": True, "linear": True}, "gap"),
    # weights varying in time alone break the fixed-weight argument
    (dataclasses.replace(PROOF_SOUND, weights_vary_in_time=True),
     {"power": True, "root": True, "linear": True}, "gap"),
    (PROOF_ACTUAL, {"power": False, "root": False, "linear": False}, "mismatch"),
    (dataclasses.replace(PROOF_ACTUAL, stale_share_min=None),
     {"power": False, "root": False, "linear": True}, "none"),
    (dataclasses.replace(PROOF_ACTUAL, weights_vary_in_time=None),
     {"power": False, "root": False, "linear": True}, "none"),
    (PROOF_ACTUAL, {"gd": None}, "none"),      # a control subject: no proof under test
])
def test_proof_rule(facts, linear, expected):
    per_reading = {r: dataclasses.replace(HOLDS, h_linear=v) for r, v in linear.items()}
    v = t1.decide(_gathered(per_reading, facts))
    assert v.proof == expected
    if expected == "gap":
        assert "does not follow" in v.proof_reason


def test_gap_reason_names_the_failing_step_per_reading():
    per_reading = {r: dataclasses.replace(HOLDS, h_linear=r == "linear")
                   for r in ("power", "root", "linear")}
    reason = t1.decide(_gathered(per_reading)).proof_reason
    parts = dict(p.strip().split(": ", 1) for p in reason.split("--", 1)[1].split(" | "))
    assert "nonlinear" in parts["power"] and "nonlinear" in parts["root"]
    assert "nonlinear" not in parts["linear"]
    for part in parts.values():
        assert "vary in time" in part and "1 - beta_k^t < 1" in part and "stale" in part


# ----------------------------------------------------------------------------- proofs path


def test_a_changed_certificate_entry_is_not_a_certificate(monkeypatch):
    """Through T1's facts path: the stored certificates verify; with one multiplier of K=1's
    first band changed, that certificate does not, and the linear reading is no longer held."""
    import copy

    from claims.support import t1_proofs
    from proofs import lyapunov_certificate

    stored = lyapunov_certificate.load_certificates()
    good = t1_proofs.statement_records(quick=True)["linear"]
    assert [c["verified"] for c in good["certificates"]] == [True, True, True]
    bad = copy.deepcopy(stored)
    band = bad[0]["bands"][0]
    key = next(iter(band["lam"]))
    band["lam"][key] = "3"
    monkeypatch.setattr(lyapunov_certificate, "load_certificates", lambda *a, **k: bad)
    changed = t1_proofs.statement_records(quick=True)["linear"]
    assert [c["verified"] for c in changed["certificates"]] == [False, True, True]
    facts = dataclasses.replace(LINEAR, certificates=changed["certificates"][:1],
                                counterexamples=good["counterexamples"])
    assert t1.decide_reading(facts)[0] != "holds"


# ----------------------------------------------------------------------------- calibration


def test_calibrate_categories():
    """Against T = 300 steps and M = 10: a control converged at step 20 (<= 30) gives the run
    M x 20 steps; a converging control tail at exponent -2 needs the run's at most -0.2."""
    kind = np.array(["converged", "diverged", "converging", "converging", "cycle", "stalled",
                     "converging", "converging"])
    exponent = np.array([np.nan, np.nan, -0.5, -0.1, 0.0, -0.01, -3.0, -0.3])
    control = np.array(["converged", "converged", "converging", "converging", "converging",
                        "stalled", "converged", "converged"])
    control_stop = np.array([5, 5, 300, 300, 300, 300, 20, 200])
    control_exp = np.array([np.nan, np.nan, -2.0, -2.0, -2.0, 0.0, np.nan, np.nan])
    got = t1_grid.calibrate(kind, exponent, control, control_stop, control_exp, 300, 10.0)
    assert got.tolist() == ["converged", "failed", "keeping pace", "lagging", "lagging",
                            "uninformative", "lagging", "uninformative"]


def _runs(categories, kinds=None):
    """GridRuns over one problem, the EMC subject's schedules x 6 step columns x starts, with
    candidate runs set per (schedule, step column, start)."""
    subject = t1.EMC_SUBJECT
    S = max((k[2] for k in categories), default=0) + 1
    shape = (1, len(subject.schedules), len(subject.eta_times_L) + 1, S)
    category = np.full(shape, "uninformative", dtype=object)
    kind = np.full(shape, "stalled", dtype=object)
    for (sched, eta, start), value in categories.items():
        category[0, subject.schedules.index(sched), eta, start] = value
        kind[0, subject.schedules.index(sched), eta, start] = {
            "failed": "diverged", "converged": "converged"}.get(value, "stalled")
    for (sched, eta, start), value in (kinds or {}).items():
        kind[0, subject.schedules.index(sched), eta, start] = value
    zeros = np.zeros(shape)
    return t1_grid.GridRuns(kind, category, zeros, zeros, zeros, zeros)


def _all(value, S=1, schedules=("inv_sqrt", "inv_t"), steps=range(6)):
    return {(s, e, i): value for s in schedules for e in steps for i in range(S)}


@pytest.mark.parametrize("cells, expected", [
    ({("inv_t", 2, 0): "converged"}, "converged"),
    ({("inv_t", 2, 0): "keeping pace", ("inv_sqrt", 1, 0): "lagging"}, "keeping_pace"),
    ({("inv_sqrt", 1, 0): "lagging"}, "lagging"),
    ({}, "uninformative"),
    ({**_all("failed", steps=range(5)), ("inv_t", 5, 0): "keeping pace"}, "failed_rescued"),
    (_all("failed"), "failed_unrescued"),
    # a constant-schedule run is a role: it neither converges nor fails a cell
    ({("constant", 0, 0): "converged", ("inv_t", 3, 0): "lagging"}, "lagging"),
])
def test_cell_categories(cells, expected):
    summary = t1_grid.cell_summary(_runs(cells), t1.EMC_SUBJECT)
    names = ("converged", "keeping_pace", "lagging", "uninformative", "failed_rescued",
             "failed_unrescued")
    assert {n: summary[n] for n in names} == {n: int(n == expected) for n in names}
    assert summary["pending"] == int(expected in ("keeping_pace", "lagging", "uninformative"))


def test_uniform_needs_one_candidate_that_serves_without_contradiction():
    """Start 0 converges with (inv_t, column 1), start 1 with (inv_t, column 2); column 1 lags
    from start 1: not uniform. If column 1 is uninformative from start 1 instead, it is."""
    cells = {("inv_t", 1, 0): "converged", ("inv_t", 2, 1): "converged",
             ("inv_t", 1, 1): "lagging", ("inv_t", 2, 0): "lagging"}
    summary = t1_grid.cell_summary(_runs(cells), t1.EMC_SUBJECT)
    assert summary["converged"] == 2 and summary["uniform_groups"] == 0
    cells[("inv_t", 1, 1)] = "uninformative"
    assert t1_grid.cell_summary(_runs(cells), t1.EMC_SUBJECT)["uniform_groups"] == 1
    # a problem where nothing converges or keeps pace has no evidence against one schedule
    assert t1_grid.cell_summary(_runs({("inv_t", 1, 0): "lagging"}),
                                t1.EMC_SUBJECT)["uniform_groups"] == 1


def test_failure_table_counts_per_scale():
    subject = t1.EMC_SUBJECT
    shape = (2, 3, 6, 4)
    kind = np.full(shape, "converged", dtype=object)
    kind[:, 2, 4, 3] = "diverged"
    kind[1, 2, 4, 2] = "non-finite"
    table = t1_grid.failure_table(kind, subject, np.arange(4), 4)
    assert table["inv_t eta0*L=10"].tolist() == [0, 0, 1, 2]
    assert sum(v.sum() for v in table.values()) == 3
    assert t1_grid.smallest_failing_scale(table, t1.START_SCALES)["inv_t eta0*L=10"] == 100.0


# ----------------------------------------------------------------------------- the grid


def test_grid_rows_equal_the_core_runs_alone():
    """Every method row and its calibrator row of one sweep equal single emc_theory.minimize
    runs (EMC and gradient descent) with the row's schedule, step (start-scaled:
    1/(L max(1, |g0|_inf))) and tolerance (1e-6 max(1, |g0|)): same status and stop step."""
    subject = dataclasses.replace(t1.EMC_SUBJECT, readings=("power",),
                                  eta_times_L=(0.1, 10.0))
    p = {**t1.plan(CheckConfig(quick=True)), "steps": 80}
    entries = [("q", quadratic(3, cond=10.0, seed=1), 1.0), ("h", huber(3, seed=2), 1.0)]
    rng = np.random.default_rng(5)
    starts = {label: problem.x_star + rng.normal(scale=s, size=(2, 3))
              for (label, problem, _), s in zip(entries, (3.0, 300.0))}
    runs = t1_grid.run_grid(subject, entries, starts, [2], p)[2, "power"]
    for i, (label, problem, _) in enumerate(entries):
        for s, sched in enumerate(subject.schedules):
            for e in range(3):
                for j, x0 in enumerate(starts[label]):
                    g0 = problem.grad(x0)
                    eta0 = ((0.1, 10.0)[e] / problem.L if e < 2
                            else 1 / (problem.L * max(1.0, np.abs(g0).max())))
                    tol = 1e-6 * max(1.0, np.linalg.norm(g0))
                    assert runs.eta0[i, s, e, j] == pytest.approx(eta0, rel=1e-15)
                    assert runs.tol[i, s, e, j] == pytest.approx(tol, rel=1e-15)
                    tr = minimize(EMC(K=2, lr=Schedule(eta0, sched), reading="power"), problem,
                                  x0, 80, tol=tol, divergence_factor=1e6)
                    assert runs.stop_step[i, s, e, j] == tr.stop_step
                    assert (runs.kind[i, s, e, j] == tr.status
                            if tr.status != "max_steps" else runs.kind[i, s, e, j]
                            in ("converging", "cycle", "stalled", "diverging"))
                    control = minimize(OPTIMIZERS["gd"](lr=Schedule(eta0, sched)), problem, x0,
                                       80, tol=tol, divergence_factor=1e6)
                    if sched == "constant":     # a role: not calibrated
                        assert runs.category[i, s, e, j] == ""
                    elif control.status == "converged" and control.stop_step * 10 <= 80:
                        assert runs.category[i, s, e, j] in ("converged", "failed", "lagging")
                    elif control.status in ("diverged", "non-finite"):
                        assert runs.category[i, s, e, j] in ("converged", "failed",
                                                             "uninformative")


# ----------------------------------------------------------------------------- proofs


def test_proof_step_numbers_against_closed_forms():
    coeff = cascade_sum.cascade_coefficients(K_max=3, t=8)
    for K in (1, 2, 3):
        np.testing.assert_allclose(coeff["weight_sums"][str(K)],
                                   [1 - (1 - 2.0**-k) ** 8 for k in range(1, K + 1)], rtol=1e-12)
    # K = 1: the current gradient carries 1/2, the total is 1 - 2^-8
    assert coeff["stale_share"]["1"] == pytest.approx((0.5 - 2.0**-8) / (1 - 2.0**-8),
                                                      rel=1e-12)
    assert coeff["closed_form_matches"]
    assert cascade_sum.derive().results["coefficient_sum"].status == "proved"
    assert cascade_sum.reading_is_linear() == {"power": False, "root": False, "linear": True}


def test_spectral_check_at_the_heavy_ball_threshold():
    """K = 1: u* = 2(1 + beta)/(1 - beta) = 6 with beta = 1/2."""
    out = linear_stability.core_agreement((1,), 150)
    assert out["agree"] is True
    assert out["rows"][0]["threshold_uniform"] == pytest.approx(6.0, rel=1e-12)


# ----------------------------------------------------------------------------- quick gather


@pytest.fixture(scope="module")
def quick():
    return t1.CLAIM.run(CheckConfig(quick=True))


def test_quick_gather_shape(quick):
    gathered, verdict = quick
    assert {e.kind for e in gathered.evidence} >= {"numerical", "symbolic", "independent"}
    assert set(gathered.per_reading) == {"power", "root", "linear"}
    for f in gathered.per_reading.values():
        assert isinstance(f, t1.ReadingFacts)
        assert f.cells == (f.cells_converged + f.cells_pending + f.cells_failed_rescued
                           + f.cells_failed_unrescued)
        assert f.cells_pending == f.cells_keeping_pace + f.cells_lagging + f.cells_uninformative
        assert f.frozen_weights is not None
    assert verdict.proof == "gap"
    json.dumps({"facts": gathered.facts_json(), "per_reading": gathered.reading_facts_json(),
                "parameters": gathered.parameters,
                "evidence": [e.data for e in gathered.evidence]})


def test_quick_gather_is_deterministic(quick):
    again = t1.gather(CheckConfig(quick=True))
    assert json.dumps(again.reading_facts_json(), sort_keys=True) == json.dumps(
        quick[0].reading_facts_json(), sort_keys=True)
    assert [c.outcome for c in again.counterexamples] == [
        c.outcome for c in quick[0].counterexamples]


def test_counterexamples_replay_to_their_recorded_class(quick):
    """Every T1 counterexample (grid and search witnesses, the proofs' records) through the
    registry's replay, from JSON: core runs to their status, stop step and gradient norm; the
    proofs' records to their recorded class."""
    from claims.support.base import Counterexample
    from claims.support.registry import replay_counterexample
    from proofs.linear_brackets import load_brackets

    kinds = set()
    assert quick[0].counterexamples
    # a quick pass does not replay the linear brackets' cycles (the full check does): one here
    cycle = [c["record"] for c in load_brackets()["cycles"] if c["record"] is not None][-1]
    for ce in [*quick[0].counterexamples,
               Counterexample("T1", "linear cycle", cycle, {"class": cycle["class"]})]:
        record = json.loads(json.dumps(dataclasses.asdict(ce)))
        out = replay_counterexample("T1", record)
        if "kind" in ce.replay:
            kinds.add(ce.replay["kind"])
            assert out["class"] == ce.outcome["class"] and out["matches"] is True
        else:
            kinds.add("core")
            assert out["status"] == ce.outcome["status"] in t1_grid.FAILED_STATUSES
            tr = replay(record["replay"], history=False)
            assert int(tr.stop_step) == ce.outcome["stop_step"]
            assert float(tr.final_grad_norm) == ce.outcome["final_grad_norm"]
    assert kinds >= {"linear_emc_cycle", "root_emc_cycle", "power_emc_divergence",
                     "no_minimiser"}


def test_quick_verdicts_rest_on_decisions(quick):
    """No reading undecided; each decided one names a certificate, derivation or record."""
    gathered, verdict = quick
    assert "undecided" not in verdict.per_reading.values()
    for f in gathered.per_reading.values():
        assert f.certificates or f.derivations or f.counterexamples
    assert any(c.startswith("theorem as it holds") for c in verdict.conditions)


def test_subject_must_be_typed():
    with pytest.raises(TypeError, match="Subject"):
        t1.gather(CheckConfig(quick=True, subject="gd"))
