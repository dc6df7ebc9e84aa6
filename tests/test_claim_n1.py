"""N1 (the power may cause instabilities): the rule on typed facts (every verdict it can give),
the instability classes (a slow monotone run is not one), and a quick gather whose witnesses
replay to their recorded status. The controls (the power reading, heavy ball) run through the
same gather and rule in tests/test_controls.py."""
import dataclasses
import json

import numpy as np
import pytest

from claims import n1
from claims.support.base import CheckConfig, Gathered
from emc_theory.outcomes import classify_runs
from emc_theory.replay import replay

NONE = n1.ReadingFacts(unstable_settings=0, settings_where_linear_converges=10, kinds={},
                       witness=None)
FACTS = n1.Facts(overflow_threshold={"float64": 1e154}, root_slope_infinite_at_zero=True)


def _gathered(**unstable):
    return Gathered(FACTS, per_reading={r: dataclasses.replace(NONE, unstable_settings=n)
                                        for r, n in unstable.items()})


@pytest.mark.parametrize("power, root, statement, per", [
    (3, 0, "holds", {"power": "holds", "root": "undecided"}),
    (0, 2, "holds", {"power": "undecided", "root": "holds"}),
    (0, 0, "undecided", {"power": "undecided", "root": "undecided"}),
])
def test_rule(power, root, statement, per):
    v = n1.decide(_gathered(power=power, root=root))
    assert v.statement == statement and v.per_reading == per and v.proof == "none"


def test_facts_are_typed():
    with pytest.raises(TypeError):
        dataclasses.replace(NONE, unstable=1)


def test_slow_monotone_decrease_is_not_an_instability():
    """Classes of constructed runs: a geometric decrease at 0.998 per step (the old rule's
    'oscillating': not halved over the last fifth) converges; a bounded period-2 orbit and a
    growing run are instabilities."""
    t = np.arange(1501, dtype=float)
    runs = np.column_stack([0.998**t, np.where(t % 2 == 0, 1.0, 2.0), np.sqrt(1 + t)])
    out = classify_runs(runs, ["max_steps"] * 3)
    assert out.kind.tolist() == ["converging", "cycle", "diverging"]
    assert np.isin(out.kind, n1.UNSTABLE).tolist() == [False, True, True]


@pytest.fixture(scope="module")
def quick():
    return n1.CLAIM.run(CheckConfig(quick=True))


def test_quick_gather(quick):
    gathered, verdict = quick
    assert set(gathered.per_reading) == {"power", "root"}
    assert gathered.facts.root_slope_infinite_at_zero is True
    assert gathered.facts.overflow_threshold["float64"] > 1e150
    for f in gathered.per_reading.values():
        assert f.unstable_settings == sum(f.kinds.get(k, 0) for k in n1.UNSTABLE)
        assert sum(f.kinds.values()) == f.settings_where_linear_converges
    assert verdict.statement in ("holds", "undecided")
    json.dumps(gathered.reading_facts_json())


def test_witnesses_replay_to_their_status(quick):
    gathered, _ = quick
    witnesses = [f.witness for f in gathered.per_reading.values() if f.witness]
    assert witnesses
    for w in witnesses:
        tr = replay(json.loads(json.dumps(w["replay"])))
        assert (str(tr.status), int(tr.stop_step)) == (w["status"], w["stop_step"])
        assert w["kind"] in n1.UNSTABLE and w["linear_status"] == "converged"
        assert classify_runs(tr.grad_norm, [tr.status], f_gap=tr.f_gap).kind[0] == w["kind"]


def test_subject_must_be_typed():
    with pytest.raises(TypeError, match="Subject"):
        n1.gather(CheckConfig(quick=True, subject="heavy ball"))


def test_overflow_thresholds_are_exact():
    """The threshold overflows and its predecessor does not (exact, not a grid bound), and it sits
    at sqrt(max float) up to the rounding of exp(2 log m) (an independent closed form: exp's
    argument 2 log m ~ log(max) carries a relative error of about eps, so exp(.) one of
    about log(max) eps, and m half that)."""
    import numpy as np

    from emc_theory import apply_reading

    for name, value in n1.overflow_thresholds().items():
        dtype = np.dtype(name).type
        m = dtype(value)
        before = np.nextafter(m, dtype(0))
        with np.errstate(over="ignore"):
            h = apply_reading(np.array([m, before], dtype=dtype), np.asarray(2.0, dtype=dtype),
                              "power")
        assert not np.isfinite(h[0]) and np.isfinite(h[1])
        root = np.sqrt(float(np.finfo(dtype).max))
        eps = float(np.finfo(dtype).eps)
        assert abs(value / root - 1) < (np.log(float(np.finfo(dtype).max)) + 2) * eps
