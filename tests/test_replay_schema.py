"""Replay records are checked against their schema before use (issue 16, item 4): types and
ranges of every field, which claim a record belongs to, a symmetric positive definite matrix
where a record means a spectrum, the run's dtype, caps on sizes that a caller raises explicitly,
and tampered stated constants. Each refusal is a ValueError/TypeError naming the field."""
import copy
import json

import numpy as np
import pytest

from claims.support.registry import (
    MAX_RECORD_VALUES,
    check_replay_record,
    compare_outcomes,
    replay_counterexample,
)
from emc_theory import EMC
from emc_theory.baselines import GradientDescent
from emc_theory.problems import logistic_regression, quadratic
from emc_theory.replay import DEFAULT_LIMITS, check_limits, replay, run_spec, validate_spec
from emc_theory.runner import minimize


def t1_like_spec(**options):
    """A diverging EMC run (as T1 records them): power reading, a step far above 2/L."""
    problem = quadratic(2, cond=10.0, rotate=False)
    optimizer = EMC(K=1, lr=5.0, reading="power")
    return run_spec(optimizer, problem, problem.x_star + 1.0, 50, tol=1e-6, **options)


def cx(claim: str, spec: dict) -> dict:
    """A counterexample record as the reports store it (after a JSON round trip)."""
    return json.loads(json.dumps({"claim": claim, "description": "test", "replay": spec,
                                  "outcome": replay(spec).summary()}))


# ----------------------------------------------------------------------------- whose record


def test_a_record_replayed_as_another_claim_is_refused():
    record = cx("T1", t1_like_spec())
    assert not compare_outcomes(record["outcome"], replay_counterexample("T1", record))
    with pytest.raises(ValueError, match=r"counterexample\['claim'\] = 'T1'.*not to E1"):
        replay_counterexample("E1", record)
    with pytest.raises(ValueError, match=r"belongs to another claim"):
        replay_counterexample("T1", {**record, "claim": "Q7"})
    with pytest.raises(ValueError, match=r"lacks the field\(s\) \['claim'\]"):
        replay_counterexample("T1", {"replay": record["replay"]})
    with pytest.raises(TypeError, match=r"counterexample must be a JSON object"):
        replay_counterexample("T1", [record])


# ----------------------------------------------------------------------------- spectra


def eg1_record(eigenvalues, seed=3):
    from claims.eg1 import rotated_matrix

    matrix = rotated_matrix(eigenvalues, seed)
    return {"claim": "EG1", "description": "test", "outcome": {},
            "replay": {"n": len(eigenvalues), "k": max(eigenvalues) / min(eigenvalues),
                       "eigenvalues": list(eigenvalues), "rotation_seed": seed,
                       "bound": "middle", "matrix": matrix.tolist()}}


def test_eg1_matrix_must_be_symmetric_positive_definite_and_carry_its_eigenvalues():
    lam = [1.0, 1.7, 1.7, 1.0]
    good = eg1_record(lam)
    out = replay_counterexample("EG1", good)
    assert out["n"] == 4 and np.isclose(out["condition_number"], 1.7)
    bad = copy.deepcopy(good)
    bad["replay"]["matrix"][0][1] += 0.25   # read as its lower triangle, it would pass silently
    with pytest.raises(ValueError, match=r"\['matrix'\] must be symmetric"):
        replay_counterexample("EG1", bad)
    indefinite = eg1_record([1.0, 2.0, 2.0, 1.0])
    m = np.array(indefinite["replay"]["matrix"])
    indefinite["replay"]["matrix"] = (m - 1.5 * np.eye(4)).tolist()   # eigenvalues -0.5, 0.5
    with pytest.raises(ValueError, match=r"positive definite; its smallest eigenvalue is -0.5"):
        replay_counterexample("EG1", indefinite)
    swapped = copy.deepcopy(good)
    swapped["replay"]["eigenvalues"] = [1.0, 2.0, 2.0, 1.0]
    with pytest.raises(ValueError, match=r"does not have the record's eigenvalues"):
        replay_counterexample("EG1", swapped)
    ragged = copy.deepcopy(good)
    ragged["replay"]["matrix"] = [[1.0, 0.0], [0.0]]
    with pytest.raises(ValueError, match=r"\['matrix'\]"):
        replay_counterexample("EG1", ragged)


# ----------------------------------------------------------------------------- dtype


def test_a_float32_run_records_its_dtype_and_replays_in_float32():
    problem = quadratic(6, cond=100.0, seed=2)
    optimizer = EMC(K=3, lr=0.01, reading="root")
    x0 = (problem.x_star + 1.0).astype(np.float32)
    original = minimize(optimizer, problem, x0, 200, tol=1e-4)
    spec = json.loads(json.dumps(run_spec(optimizer, problem, x0, 200, tol=1e-4)))
    assert spec["dtype"] == "float32"
    again = replay(spec)
    assert again.params.dtype == np.float32
    assert again.stop_step == original.stop_step and again.final_gap == original.final_gap
    as64 = replay({k: v for k, v in spec.items() if k != "dtype"})
    assert as64.params.dtype == np.float64 and as64.final_gap != original.final_gap
    # a float64 run keeps its old record bytes: no dtype field
    assert "dtype" not in run_spec(optimizer, problem, x0.astype(float), 200)
    with pytest.raises(ValueError, match=r"spec\['dtype'\] must be one of"):
        validate_spec({**spec, "dtype": "float16"})
    huge = {**spec, "x0": [1e300] * 6}
    with pytest.raises(ValueError, match=r"spec\['x0'\] overflows float32"):
        validate_spec(huge)


# ----------------------------------------------------------------------------- caps


@pytest.mark.parametrize("edit, cap", [
    (lambda s: s.update(steps=DEFAULT_LIMITS["steps"] + 1), "steps"),
    (lambda s: s["optimizer"].update(K=DEFAULT_LIMITS["K"] + 1), "K"),
    (lambda s: s["problem"].update(d=DEFAULT_LIMITS["d"] + 1), "d"),
])
def test_sizes_beyond_the_caps_are_refused_until_raised(edit, cap):
    spec = t1_like_spec()
    edit(spec)
    with pytest.raises(ValueError, match=rf"cap limits\['{cap}'\]; raise it with limits="):
        validate_spec(spec)
    try:   # raised: the cap no longer refuses it (the record may still fail further checks)
        validate_spec(spec, limits={cap: 10**9})
    except ValueError as err:
        assert f"limits['{cap}']" not in str(err)


def test_data_samples_are_capped():
    spec = run_spec(GradientDescent(lr=0.1), logistic_regression(20, 3), np.zeros(3), 5)
    spec["problem"]["params"]["n"] = DEFAULT_LIMITS["samples"] + 1
    with pytest.raises(ValueError, match=r"\['params'\]\['n'\].*limits\['samples'\]"):
        validate_spec(spec)
    record = {"claim": "T1", "replay": {"samples": 10**9, "steps": 3}}
    with pytest.raises(ValueError, match=r"\['samples'\] must be an integer in \[0, 100000\]"):
        check_replay_record(record["replay"])


def test_the_limits_argument_is_checked():
    assert check_limits({"steps": 5})["steps"] == 5 and check_limits()["d"] == DEFAULT_LIMITS["d"]
    with pytest.raises(ValueError, match=r"limits must name caps among"):
        check_limits({"memory": 5})
    with pytest.raises(ValueError, match=r"limits\['steps'\] must be an integer >= 1"):
        check_limits({"steps": 0})
    with pytest.raises(TypeError, match=r"limits must be a dict"):
        check_limits([("steps", 5)])


def test_a_record_too_large_to_read_is_refused():
    with pytest.raises(ValueError, match=r"more than \d+ values: refused"):
        check_replay_record({"x": [0] * (MAX_RECORD_VALUES + 1)})


# ----------------------------------------------------------------------------- tampering


@pytest.mark.parametrize("edit, field", [
    (lambda p: p.update(f_star=0.5), "f_star"),
    (lambda p: p["x_star"].__setitem__(0, p["x_star"][0] + 1e-3), "x_star"),
    (lambda p: p.update(x_star=None), "x_star"),
    (lambda p: p.update(L=11.0), "L"),
    (lambda p: p.update(d=3), "d"),
])
def test_tampered_stated_constants_are_detected(edit, field):
    spec = t1_like_spec()
    edit(spec["problem"])
    with pytest.raises(ValueError, match=rf"\['{field}'\]"):
        replay(spec)


# ----------------------------------------------------------------------------- types/ranges


@pytest.mark.parametrize("edit, error, field", [
    (lambda s: s.update(steps="50"), TypeError, r"spec\['steps'\]"),
    (lambda s: s.update(steps=True), TypeError, r"spec\['steps'\]"),
    (lambda s: s.update(steps=0), ValueError, r"spec\['steps'\]"),
    (lambda s: s.update(steps=50.0), TypeError, r"spec\['steps'\]"),
    (lambda s: s.update(x0=[1.0, float("nan")]), ValueError, r"spec\['x0'\] must hold finite"),
    (lambda s: s.update(x0=["1", "2"]), TypeError, r"spec\['x0'\]"),
    (lambda s: s.update(x0=[[1.0, 2.0], [3.0]]), ValueError, r"spec\['x0'\]"),
    (lambda s: s.update(x0=[1.0, 2.0, 3.0]), ValueError, r"spec\['x0'\] must have shape \(2,\)"),
    (lambda s: s.update(x0=[]), ValueError, r"spec\['x0'\]"),
    (lambda s: s.update(tol=0.0), ValueError, r"spec\['tol'\] must be a finite real > 0"),
    (lambda s: s.update(tol=float("inf")), ValueError, r"spec\['tol'\]"),
    (lambda s: s.update(divergence_factor=0.5), ValueError,
     r"spec\['divergence_factor'\] must be a finite real >= 1"),
    (lambda s: s.update(extra=1), ValueError, r"spec has unknown field\(s\) \['extra'\]"),
    (lambda s: s.pop("steps"), ValueError, r"spec lacks the field\(s\) \['steps'\]"),
    (lambda s: s["optimizer"].update(name="sgd"), ValueError, r"spec\['optimizer'\]\['name'\]"),
    (lambda s: s["optimizer"].update(beta=0.9), ValueError,
     r"spec\['optimizer'\] has unknown field\(s\) \['beta'\]"),
    (lambda s: s["optimizer"].update(K=[1]), TypeError, r"spec\['optimizer'\]\['K'\]"),
    (lambda s: s["optimizer"].update(lr=0.1), TypeError, r"spec\['optimizer'\]\['lr'\]"),
    (lambda s: s["problem"].update(name="stack"), ValueError, r"spec\['problem'\]\['name'\]"),
    (lambda s: s["problem"].update(params=[]), TypeError, r"spec\['problem'\]\['params'\]"),
    (lambda s: s.update(problem="quadratic"), TypeError, r"spec\['problem'\]"),
])
def test_fields_of_the_wrong_type_or_range_are_named(edit, error, field):
    spec = t1_like_spec()
    edit(spec)
    with pytest.raises(error, match=field):
        replay(spec)


def test_code_in_a_record_stays_inert(tmp_path):
    marker = tmp_path / "pwned"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    for edit in (lambda s: s.update(x0=code), lambda s: s["problem"].update(name=code),
                 lambda s: s["optimizer"].update(reading=code),
                 lambda s: s["optimizer"]["lr"].update(kind=code)):
        spec = t1_like_spec()
        edit(spec)
        with pytest.raises((ValueError, TypeError)):
            replay(spec)
    record = cx("T1", t1_like_spec())
    record["replay"]["note"] = code
    with pytest.raises(ValueError, match="unknown field"):
        replay_counterexample("T1", record)
    assert not marker.exists()


@pytest.mark.parametrize("value, error, message", [
    (float("nan"), ValueError, "must be finite"),
    (object(), TypeError, "must be a JSON value"),
    ({1: 2}, TypeError, "must have string keys"),
])
def test_generic_records_hold_plain_json_only(value, error, message):
    with pytest.raises(error, match=message):
        check_replay_record({"x": value})
    with pytest.raises(TypeError, match=r"counterexample\['replay'\] must be a JSON object"):
        check_replay_record([1, 2])
