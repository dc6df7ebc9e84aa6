"""``emc-theory bench --quick`` writes a complete record and its tables (no timing is asserted:
timings depend on the machine; the structure and the self-consistency of the record do not). The
honest floor is checked against its traffic counted by hand and the bytes it allocates, the
analysis against hand computations and an independent least-squares fit, the targets against
the labels and thresholds of issues 7 and 17 (JAX's not measured without JAX), a peer backend
registered in a few lines against its rows and targets, and schema-1 and schema-2 records
convert to the current schema with the same measurements."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from emc_app.bench import QUICK, cases, main
from emc_app.bench.analysis import (
    TARGETS,
    Target,
    analyse,
    default_path,
    evaluate_targets,
    exponents,
    k_exponent_reach,
    step_reach,
    target,
    unavoidable_sweep_parts,
)
from emc_app.bench.cases import (
    BARE_LOOP,
    FLOOR,
    LEGACY_FLOOR,
    LOOP,
    SWEEP,
    emc_case_id,
    floor_case,
    floor_floats,
)
from emc_app.bench.record import SCHEMA, complete, load, upgrade_v1, upgrade_v2
from emc_app.bench.record import dumps as record_dumps
from emc_app.bench.render import case_label, render_markdown, render_readme, update_readme
from emc_theory import READINGS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--no-jax", "--out", str(out)]) == 0   # JAX: its own tests below
    text = (out / "bench.json").read_text()
    return json.loads(text), (out / "bench.md").read_text(), text


def test_record_has_every_section_and_case(record):
    rec, _, text = record
    assert text == record_dumps(json.loads(text))   # the canonical serialisation
    assert rec["schema"] == SCHEMA
    assert set(rec) == {"schema", "meta", "steps", "k_series", "profile", "sweep",
                        "sweep_profile", "torch_matches_numpy", "analysis"}
    assert rec["meta"]["quick"] and len(rec["meta"]["load_before"]) == 3
    assert rec["meta"]["reference"] == FLOOR == "floor.honest"
    assert set(rec["meta"]["peers"]) >= {"torch"}
    found = {(r["dtype"], r["d"], r["K"], r["case"]) for r in rec["steps"]}
    for dtype in ("float64", "float32"):
        for d in QUICK["dims"]:
            for K in QUICK["ks"]:
                assert (dtype, d, K, FLOOR) in found
                for reading in READINGS:
                    assert (dtype, d, K, f"emc.{reading}.inplace") in found
                    assert (dtype, d, K, f"emc.{reading}.default") in found
                    if rec["meta"]["torch"]:
                        assert (dtype, d, K, f"torch.emc.{reading}") in found
    for row in rec["steps"]:
        assert row["median_s"] > 0 and row["ratio"] > 0
        if row["case"] == FLOOR:
            assert row["ratio"] == 1.0  # the floor paired with itself
    assert {(r["case"], r["K"]) for r in rec["k_series"]} == {
        (case, K) for case in (*map(emc_case_id, READINGS), FLOOR) for K in QUICK["k_series"]}
    prof = rec["profile"]
    assert set(prof["seconds"]) == set(prof["ratios"]) == {
        FLOOR, "entropy", "np.log", "np.exp", emc_case_id("linear"), emc_case_id("power"),
        emc_case_id("linear", "default"), emc_case_id("linear", "default_held")}
    assert prof["ratios"][FLOOR] == 1.0


def test_fits_profile_sweep_and_targets_are_consistent(record):
    rec, _, _ = record
    analysis = rec["analysis"]
    exps = analysis["exponents"]
    assert set(exps["in_K"]) == {*map(emc_case_id, READINGS), FLOOR}
    assert all(math.isfinite(r["exponent"]) for r in exps["in_d"])
    assert sum(analysis["profile_shares"].values()) == pytest.approx(1.0)
    kinds = {(r["reading"], r["case"], r["B"]) for r in rec["sweep"]}
    for reading in ("power", "linear"):
        assert (reading, LOOP, 1) in kinds and (reading, BARE_LOOP, 1) in kinds
        assert all((reading, SWEEP, B) in kinds for B in QUICK["sweep_b"])
    assert all("over_loop" in r for r in rec["sweep"] if r["case"] == SWEEP)
    float32 = [r for r in rec["sweep"] if r["dtype"] == "float32"]
    assert {(r["reading"], r["case"], r["B"]) for r in float32} == {
        (reading, SWEEP, max(QUICK["sweep_b"])) for reading in ("power", "linear")}
    assert all(set(t) == {"id", "subject", "measured", "met"} for t in analysis["targets"])
    prof = rec["sweep_profile"]
    assert prof["B"] == max(QUICK["sweep_b"]) and prof["d"] == QUICK["sweep_d"]
    for reading, step in analysis["sweep_steps"].items():   # the rest is what the parts leave
        parts = prof["seconds"]["problem.value_and_grad"] + prof["seconds"][emc_case_id(reading)]
        assert step["rest_seconds"] == pytest.approx(step["step_seconds"] - parts)
        batched = [r for r in rec["sweep"] if r["case"] == SWEEP and r["B"] == prof["B"]
                   and r["reading"] == reading and r["dtype"] == "float64"][0]
        assert step["step_seconds"] == pytest.approx(prof["B"] / batched["run_steps_per_s"])
    if rec["meta"]["torch"]:
        assert rec["torch_matches_numpy"] < 1e-12


def test_markdown_tables(record):
    rec, md, _ = record
    for heading in ("### Targets", "### One step against the floor",
                    "### Scaling (claim C1)", "### Where a step's time goes",
                    "### Batched sweep against a Python loop of runs",
                    "### Where a sweep step goes"):
        assert heading in md
    assert ("| dtype | d | K | honest floor | EMC power (in place) | EMC root (in place) | "
            "EMC linear (in place) | EMC power (default) | EMC root (default) | "
            "EMC linear (default) |") in md
    assert "in-place pass over (K+1)d floats" in md and "(2K+3)d" not in md
    # the quick sizes (d <= 1e4, B <= 10) measure no step or sweep target, and there is no JAX
    measured = [t["id"] for t in rec["analysis"]["targets"] if t["measured"] is not None]
    assert measured == ["exponent.d", "exponent.K"]
    assert md.count("| not measured |  |") == len(TARGETS) - 2
    assert md.count("\n| float64 |") == len(QUICK["dims"]) * len(QUICK["ks"])
    assert render_markdown(json.loads(record_dumps(rec))) == md   # from the JSON as written


def test_readme_shows_the_committed_benchmark_record():
    """The README's benchmark section is the one rendered from results/bench.json (so it shows
    the latest recorded run, not numbers copied by hand), and bench.md is its table file."""
    rec = load(ROOT / "results" / "bench.json")
    assert render_readme(rec) in (ROOT / "README.md").read_text()
    assert render_markdown(rec) == (ROOT / "results" / "bench.md").read_text()


def test_update_readme_replaces_only_its_section(tmp_path, record):
    rec, _, _ = record
    readme = tmp_path / "README.md"
    readme.write_text("# T\n\n## Benchmark\n\nSTALE-SECTION\n\n## Next\n\nkept\n")
    update_readme(readme, rec)
    text = readme.read_text()
    assert text.startswith("# T\n\n" + render_readme(rec)) and text.endswith("\n## Next\n\nkept\n")
    assert "STALE-SECTION" not in text
    readme.write_text("# T\n\nno section\n")
    with pytest.raises(ValueError, match="Benchmark"):
        update_readme(readme, rec)


def test_unavoidable_sweep_parts_add_the_named_passes():
    """Hand-computed from made-up part times: linear = product + log + floor; power adds the
    cheaper of log + exp (2 + 3) and one np.power pass (4)."""
    seconds = {"problem.product": 1.0, "np.log": 2.0, "np.exp": 3.0, "np.power": 4.0,
               "floor.buffers": 0.5}
    parts = unavoidable_sweep_parts(seconds, 10, ("power", "linear"), 5.0)
    assert parts["linear"] == {"least_step_seconds": 3.5, "most_run_steps_per_s": 10 / 3.5,
                               "target_reachable": True}
    assert parts["power"] == {"least_step_seconds": 7.5, "most_run_steps_per_s": 10 / 7.5,
                              "target_reachable": False}


def test_k_exponent_reach_against_closed_forms():
    """A step with no fixed part has exponent exactly 1 (inside the band); with a fixed part the
    per-level cost returned puts the exponent of t_log + b* K at the band's edge, checked with an
    independent least-squares fit."""
    ks = [1, 2, 4, 8]
    rows = [{"case": FLOOR, "K": k, "median_s": 0.3 + 0.2 * k} for k in ks]
    none = k_exponent_reach(rows, 0.0)
    assert none["floor_per_level_seconds"] == pytest.approx(0.2)
    assert none["lean_step_exponent"] == pytest.approx(1.0)
    assert none["per_level_seconds_for_band"] is None
    found = k_exponent_reach(rows, 1.0, band=(0.85, 1.15))
    lean = np.polyfit(np.log(ks), np.log(1.0 + 0.2 * np.array(ks)), 1)[0]
    assert found["lean_step_exponent"] == pytest.approx(lean)
    b = found["per_level_seconds_for_band"]
    assert b > 0.2 and found["per_level_over_floor_for_band"] == pytest.approx(b / 0.2)
    edge = np.polyfit(np.log(ks), np.log(1.0 + b * np.array(ks)), 1)[0]
    assert edge == pytest.approx(0.85, abs=1e-9)
    with pytest.raises(ValueError, match="floor.honest"):
        k_exponent_reach(rows[:1], 1.0)
    legacy = [{**r, "case": LEGACY_FLOOR} for r in rows]   # a record against the legacy floor
    assert k_exponent_reach(legacy, 1.0, floor=LEGACY_FLOOR) == found
    # a floor whose time falls with K (noise at small d) has no lean step: nothing is derived
    falling = [{"case": FLOOR, "K": k, "median_s": 0.01 - 0.001 * k} for k in ks]
    flat = k_exponent_reach(falling, 0.05)
    assert flat["floor_per_level_seconds"] == pytest.approx(-0.001)
    assert flat["lean_step_exponent"] is None and flat["per_level_seconds_for_band"] is None


def test_record_reach_is_computed_from_its_own_parts(record):
    rec, md, _ = record
    prof, found = rec["sweep_profile"], rec["analysis"]["reach"]
    sec = prof["seconds"]
    for v in found["sweep"].values():
        assert v["least_step_seconds"] >= sec["problem.product"] + sec["np.log"]
        assert v["most_run_steps_per_s"] == pytest.approx(prof["B"] / v["least_step_seconds"])
    assert found["K_exponent"]["log_pass_seconds"] == rec["profile"]["seconds"]["np.log"]
    assert "### What the missed targets would need" in md


# ----------------------------------------------------------------------------- targets


def test_each_target_is_stated_once_with_the_issues_words():
    """One row per target id; the labels rendered from the table are issues 17's and 7's."""
    assert len({t.id for t in TARGETS}) == len(TARGETS)
    power = {"reading": "power", "dtype": "float64"}
    assert [(target(i).text(s), target(i).source) for i, s in (
        ("step.numpy.power", {}), ("step.numpy.linear", {}), ("step.jax.power", {}),
        ("step.jax.linear", {}), ("sweep.jax.over_numpy", {}),
        ("sweep.run_steps_per_s", power), ("sweep.over_loop", power),
        ("exponent.d", {}), ("exponent.K", {}))] == [
        ("NumPy power step in place <= 4x the honest floor (d=1e6, K=5, float64)", "issue 17"),
        ("NumPy linear step in place <= 2.5x the honest floor (d=1e6, K=5, float64)",
         "issue 17"),
        ("JAX power step <= 3x the honest floor (d=1e6, K=5, float64)", "issue 17"),
        ("JAX linear step <= 2x the honest floor (d=1e6, K=5, float64)", "issue 17"),
        ("JAX sweep B=1e4, d=50, K=5 (power, float64) >= 4x the NumPy sweep's run-steps/s",
         "issue 17"),
        ("sweep B=1e4, d=50, K=5 (power, float64) >= 1.0M run-steps/s", "issue 7"),
        ("sweep B=1e4 (power, float64) >= 40x the Python loop", "issue 7"),
        ("exponent of step time in d (d >= 1e5) within 0.85..1.15", "issue 7"),
        ("exponent of step time in K within 0.85..1.15", "issue 7")]
    assert target("sweep.over_loop").text() == "sweep B=1e4 (each reading, each dtype) >= 40x " \
        "the Python loop"
    assert {t.where.get("case") for t in TARGETS if t.id.startswith("step.")} == {
        "emc.power.inplace", "emc.linear.inplace", "jax.emc.power", "jax.emc.linear"}
    with pytest.raises(ValueError, match="unknown target"):
        target("nope")


def test_target_comparisons_at_their_edges():
    at_most = Target("x", "x", "<=", 6.0, "steps.ratio")
    assert at_most.met(6.0) and not at_most.met(6.0 + 1e-12)
    at_least = Target("y", "y", ">=", 40.0, "sweep.over_loop")
    assert at_least.met(40.0) and not at_least.met(39.999)
    band = Target("z", "z", "within", (0.85, 1.15), "exponents.in_K")
    assert band.met([0.85, 1.15]) and not band.met([0.84, 1.0]) and not band.met([1.0, 1.16])
    with pytest.raises(ValueError, match="compare"):
        Target("w", "w", "<", 1.0, "steps.ratio")
    with pytest.raises(ValueError, match="within"):
        Target("w", "w", "within", 1.0, "steps.ratio")
    with pytest.raises(ValueError, match="measure"):
        Target("w", "w", "<=", 1.0, "steps.seconds")


# ----------------------------------------------------------------------------- the honest floor


def test_the_honest_floor_moves_the_least_traffic_of_a_step():
    """Counted by hand: a step reads the K buffers and the gradient, writes the K buffers and the
    update, and reads the gradient once more for the entropy: (K+2)d floats read and (K+1)d
    written, which an in-place pass over (K+1)d floats plus a read of d is; the floor's case
    allocates exactly those floats (tracemalloc)."""
    import tracemalloc
    for K, d in ((1, 10), (5, 1000), (8, 333)):
        reads, writes = K * d + d + d, K * d + d
        floats = floor_floats(K, d)
        assert floats["in_place"] + floats["read"] == reads
        assert floats["in_place"] == writes
        for dtype in (np.float64, np.float32):
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                case = floor_case(K, d, dtype)
                held = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            assert held == pytest.approx(reads * np.dtype(dtype).itemsize, abs=2048)
            case()


def test_step_reach_against_hand_computations():
    """With a log pass of 1.2 floors and an exp pass of 1.3, no NumPy step can cost less than
    1 + 1.2 = 2.2 floors (linear: target 2.5, within reach) and 1 + 2.4 + 1.3 = 4.7 (power:
    target 4, out of reach); at another d, or without the honest floor, there is no reach."""
    ratios = {FLOOR: 1.0, "np.log": 1.2, "np.exp": 1.3, emc_case_id("linear"): 3.1,
              emc_case_id("power"): 6.0}
    prof = {"d": 10**6, "K": 5, "dtype": "float64", "seconds": {}, "ratios": ratios}
    found = step_reach(prof)
    assert found["linear"] == {"least_over_floor": pytest.approx(2.2), "measured_over_floor": 3.1,
                               "rest_over_floor": pytest.approx(0.9), "target": 2.5,
                               "target_reachable": True}
    assert found["power"] == {"least_over_floor": pytest.approx(4.7), "measured_over_floor": 6.0,
                              "rest_over_floor": pytest.approx(1.3), "target": 4.0,
                              "target_reachable": False}
    assert step_reach({**prof, "d": 10**4}) is None
    assert step_reach({**prof, "ratios": {k: v for k, v in ratios.items() if k != FLOOR}}) is None
    assert step_reach({"d": 10**6, "K": 5, "dtype": "float64", "seconds": {}}) is None


def test_default_path_against_hand_computations():
    steps = [{"dtype": "float64", "d": 10**6, "K": 5, "case": c, "ratio": r}
             for c, r in ((emc_case_id("power"), 6.0), (emc_case_id("power", "default"), 6.5),
                          (emc_case_id("linear"), 3.0), (emc_case_id("linear", "default"), 3.75),
                          (emc_case_id("root"), 6.1))]   # root without its default: left out
    steps.append({"dtype": "float32", "d": 10**6, "K": 5, "case": emc_case_id("power", "default"),
                  "ratio": 9.0})                         # another dtype: not the targets'
    prof = {"ratios": {emc_case_id("linear"): 3.0, emc_case_id("linear", "default"): 3.5,
                       emc_case_id("linear", "default_held"): 4.25}}
    found = default_path(steps, prof)
    assert found["steps"] == {"power": {"inplace": 6.0, "default": 6.5, "extra": 0.5},
                              "linear": {"inplace": 3.0, "default": 3.75, "extra": 0.75}}
    assert found["profile"] == {"inplace": 3.0, "recycled": 3.5, "fresh": 4.25}
    assert default_path([], {"seconds": {}}) == {"steps": {}, "profile": {}}


# ----------------------------------------------------------------------------- peer backends


def test_a_peer_backend_is_a_few_lines(monkeypatch):
    """A fake ``jax`` backend (NumPy callables standing in) registered in ``PEERS`` and
    ``SWEEP_PEERS`` gets its step rows (``jax.emc.<reading>``) paired with the honest floor and
    its sweep rows with ``over_numpy``; its targets are then measured, and not before."""
    def step_cases(module, d, dtype, ks, g):
        return {(f"jax.emc.{r}", K): (lambda: np.multiply(g, 2.0)) for K in ks for r in READINGS}

    def sweep_case(module, problem, optimizer, lrs, steps, dtype):
        assert optimizer == {"name": "emc", "K": 2, "reading": optimizer["reading"]}
        return lrs.size * steps

    monkeypatch.setitem(cases.PEERS, "jax", step_cases)
    monkeypatch.setitem(cases.SWEEP_PEERS, "jax", sweep_case)
    fake = object()
    cfg = {**QUICK, "dims": [64], "ks": [2], "sweep_b": [3], "sweep_d": 4, "sweep_k": 2,
           "sweep_steps": 2, "loop_runs": 1, "rounds": 1, "sweep_rounds": 2}
    steps = cases.time_steps(cfg, {"jax": fake})
    jax_rows = [r for r in steps if r["case"].startswith("jax.")]
    assert {(r["case"], r["K"], r["dtype"]) for r in jax_rows} == {
        (f"jax.emc.{r}", 2, dt) for r in READINGS for dt in ("float64", "float32")}
    assert all(r["ratio"] > 0 for r in jax_rows)
    rows = cases.time_sweep(cfg, {"jax": fake})
    peer = [r for r in rows if r["case"] == "sweep.jax"]
    assert {(r["reading"], r["B"], r["dtype"]) for r in peer} == {
        (reading, 3, dt) for reading in ("power", "linear") for dt in ("float64", "float32")}
    for r in peer:
        numpy_row = [n for n in rows if n["case"] == SWEEP and n["B"] == r["B"]
                     and n["dtype"] == r["dtype"] and n["reading"] == r["reading"]][0]
        assert r["over_numpy"] > 0 and "over_numpy" not in numpy_row
    # at the targets' sizes, the JAX rows meet or miss their targets
    record = _honest(upgrade_v1(_legacy_record()))
    record["steps"] += [{"dtype": "float64", "d": 10**6, "K": 5, "case": f"jax.emc.{r}",
                         "median_s": 0.01, "min_s": 0.01, "ratio": x}
                        for r, x in (("power", 2.9), ("linear", 2.1))]
    record["sweep"].append({"case": "sweep.jax", "reading": "power", "B": 10**4,
                            "dtype": "float64", "d": 50, "K": 5, "steps": 1000,
                            "run_steps_per_s": 2e6, "over_numpy": 4.5})
    found = {t["id"]: (t["measured"], t["met"]) for t in analyse(record)["targets"]}
    assert found["step.jax.power"] == (2.9, True) and found["step.jax.linear"] == (2.1, False)
    assert found["sweep.jax.over_numpy"] == (4.5, True)
    assert found["step.numpy.power"] == (5.9, False)      # 5.9 > 4
    assert found["step.numpy.linear"] == (3.1, False)     # 3.1 > 2.5
    md = render_markdown(complete({k: v for k, v in record.items()
                                   if k not in ("schema", "analysis")}))
    assert "| x NumPy sweep |" in md and "| 10000 (JAX) |" in md
    with pytest.raises(ValueError, match="unknown peer backends"):
        from emc_app.bench import measure
        measure(cfg, {"tensorflow": fake})


def _legacy_record() -> dict:
    """A small schema-1 record (the layout ``emc_theory.bench`` wrote), numbers made up."""
    steps, k_series = [], []
    for K, floor_s in ((3, 0.009), (5, 0.011)):
        for case, t in (("floor", floor_s), ("emc_power", 5.9 * floor_s),
                        ("emc_root", 5.0 * floor_s), ("emc_linear", 3.1 * floor_s)):
            for d, scale in ((10**5, 0.1), (10**6, 1.0)):
                steps.append({"dtype": "float64", "d": d, "K": K, "case": case,
                              "median_s": t * scale, "min_s": t * scale,
                              "ratio": t / floor_s})
    for K in (1, 2, 4):
        for reading, a in (("power", 0.03), ("root", 0.03), ("linear", 0.013), ("floor", 0.003)):
            k_series.append({"reading": reading, "K": K, "d": 10**6,
                             "median_s": a + 0.002 * K})
    seconds = {"entropy": 0.011, "step_linear": 0.022, "step_power": 0.038,
               "log_pass": 0.0066, "exp_pass": 0.007}
    sweep = []
    for reading, rate in (("power", 3.6e5), ("linear", 4.9e5)):
        sweep += [{"reading": reading, "kind": "loop", "B": 1, "dtype": "float64", "d": 50,
                   "K": 5, "steps": 1000, "run_steps_per_s": 4400.0},
                  {"reading": reading, "kind": "bare loop", "B": 1, "dtype": "float64",
                   "d": 50, "K": 5, "steps": 1000, "run_steps_per_s": 9000.0},
                  {"reading": reading, "kind": "batched", "B": 10**4, "dtype": "float64",
                   "d": 50, "K": 5, "steps": 1000, "run_steps_per_s": rate,
                   "over_loop": rate / 4400.0}]
    sweep_seconds = {"problem value and gradient": 0.0057,
                     "the problem's d x d product": 0.0044, "entropy pass": 0.0062,
                     "one np.log pass": 0.0032, "one np.exp pass": 0.0036,
                     "one np.power pass": 0.0114, "memory floor of the K buffers": 0.0023,
                     "EMC step (power)": 0.0224, "EMC step (linear)": 0.0139}
    return {"meta": {"quick": False, "rounds": 7, "config": {}, "machine": {
                "cpu": "c", "cores": 2, "python": "3", "numpy": "2", "platform": "p"},
                "torch": None, "load_before": [0, 0, 0], "load_after": [0, 0, 0],
                "date": "2026-01-01T00:00:00"},
            "steps": steps, "k_series": k_series,
            "profile": {"d": 10**6, "K": 5, "dtype": "float64", "seconds": seconds,
                        "ns_per_element": {}, "shares_of_power_step": {}},
            "sweep": sweep,
            "sweep_profile": {"B": 10**4, "d": 50, "K": 5, "dtype": "float64",
                              "seconds": sweep_seconds, "sweep_step_seconds": {},
                              "target_step_seconds": 0.01, "rest_seconds": {}},
            "torch_matches_numpy": None, "exponents": {}, "reach": {}, "targets": []}


def _honest(record: dict) -> dict:
    """``record`` (of :func:`_legacy_record`) as if measured against the honest floor."""
    def case(c):
        return FLOOR if c == LEGACY_FLOOR else c
    return {**record, "meta": {**record["meta"], "reference": FLOOR},
            "steps": [{**r, "case": case(r["case"])} for r in record["steps"]],
            "k_series": [{**r, "case": case(r["case"])} for r in record["k_series"]]}


def test_a_schema_1_record_converts_with_the_same_measurements(tmp_path):
    old = _legacy_record()
    new = upgrade_v1(old)
    assert new["schema"] == SCHEMA and new["meta"]["reference"] == LEGACY_FLOOR
    assert [(r["case"], r["median_s"]) for r in new["steps"]][:4] == [
        (LEGACY_FLOOR, 0.009 * 0.1), (LEGACY_FLOOR, 0.009),
        ("emc.power.inplace", 5.9 * 0.009 * 0.1), ("emc.power.inplace", 5.9 * 0.009)]
    assert {r["case"] for r in new["k_series"]} == {LEGACY_FLOOR, *map(emc_case_id, READINGS)}
    assert new["profile"]["seconds"] == {"entropy": 0.011, "emc.linear.inplace": 0.022,
                                         "emc.power.inplace": 0.038, "np.log": 0.0066,
                                         "np.exp": 0.007}
    assert new["sweep_profile"]["seconds"]["problem.value_and_grad"] == 0.0057
    assert [r["case"] for r in new["sweep"][:3]] == [LOOP, BARE_LOOP, SWEEP]
    assert all("kind" not in r for r in new["sweep"])
    # the analysis, recomputed from the measurements, against hand computations
    a = new["analysis"]
    assert a["profile_shares"] == pytest.approx(
        {"entropy": 0.011 / 0.038, "cascade": 0.011 / 0.038, "reading": 0.016 / 0.038})
    assert a["exponents"]["in_d"][0]["exponent"] == pytest.approx(1.0)   # t scales with d
    assert a["exponents"]["in_K"][LEGACY_FLOOR]["affine"]["b"] == pytest.approx(0.002)
    assert a["sweep_steps"]["power"]["step_seconds"] == pytest.approx(1e4 / 3.6e5)
    met = {(t["id"], t["subject"].get("reading")): t["met"] for t in a["targets"]}
    assert met[("step.numpy.power", None)] is None          # against the legacy floor: not
    assert met[("step.numpy.linear", None)] is None         # measured
    assert met[("step.jax.power", None)] is None             # no JAX
    assert met[("sweep.run_steps_per_s", "power")] is False  # 3.6e5 < 1e6
    assert met[("sweep.over_loop", "linear")] is True        # 111 >= 40
    assert a["reach"]["steps"] is None and a["default_path"] == {"steps": {}, "profile": {}}
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(old))
    assert load(path) == new
    for text in (render_markdown(new), render_readme(new)):
        assert "This record's step ratios are against a legacy floor" in text
        assert "(2K+3)d" in text
    with pytest.raises(ValueError, match="schema-1"):
        upgrade_v1(new)
    broken = _legacy_record()
    broken["steps"][0]["case"] = "mystery"
    with pytest.raises(ValueError, match="unknown step case 'mystery'"):
        upgrade_v1(broken)


def test_a_schema_2_record_converts_with_the_same_measurements(tmp_path):
    """A schema-2 record (ratios against the legacy floor, the analysis of its day) loads with
    its measurements unchanged and the analysis recomputed under the current targets."""
    v2 = upgrade_v1(_legacy_record())
    v2 = {**v2, "schema": 2, "analysis": {"targets": ["stale"]}}
    path = tmp_path / "bench.json"
    path.write_text(record_dumps(v2))
    new = load(path)
    assert new["schema"] == SCHEMA and new["steps"] == v2["steps"]
    assert new["analysis"] == analyse(v2) and new["analysis"]["targets"][0]["measured"] is None
    with pytest.raises(ValueError, match="schema-2"):
        upgrade_v2({**v2, "schema": 3})
    with pytest.raises(ValueError, match="floor.touched"):
        upgrade_v2({**v2, "meta": {**v2["meta"], "reference": FLOOR}})
    path.write_text(record_dumps({**new, "schema": 99}))
    with pytest.raises(ValueError, match="schema 99"):
        load(path)


def test_targets_are_evaluated_only_where_measured():
    """A record without the d = 1e6 step or the B = 1e4 sweep leaves their targets not measured,
    and with a single d the exponent in d; every target is listed once at least, in order."""
    new = _honest(upgrade_v1(_legacy_record()))
    new["steps"] = [r for r in new["steps"] if r["d"] != 10**6]
    new["sweep"] = [r for r in new["sweep"] if r["case"] != SWEEP]
    exps = exponents(new["steps"], new["k_series"])
    assert exps["in_d"] == []
    found = evaluate_targets(new, exps)
    assert [t["id"] for t in found] == [t.id for t in TARGETS]
    assert [t["id"] for t in found if t["measured"] is not None] == ["exponent.K"]
    assert all(t["met"] is None for t in found if t["measured"] is None)
    with_floor = _honest(upgrade_v1(_legacy_record()))
    assert analyse(with_floor)["targets"][0] == {"id": "step.numpy.power", "subject": {},
                                                 "measured": 5.9, "met": False}


def test_case_labels():
    assert case_label(FLOOR) == "honest floor"
    assert case_label(LEGACY_FLOOR) == "floor (2K+3)d"
    assert case_label("emc.root.inplace") == "EMC root (in place)"
    assert case_label("emc.power.default") == "EMC power (default)"
    assert case_label("torch.adam") == "torch Adam"
    assert case_label("torch.emc.linear") == "torch EMC linear"
    assert case_label("jax.emc.power") == "JAX EMC power"
    assert case_label("mystery.case") == "mystery.case"   # no label: the id itself


# ----------------------------------------------------------------------------- the JAX peers


def _table(statuses, stops, gaps, norms):
    """A hand-made sweep table with these results, one row per run."""
    from emc_theory.sweep import SweepResult
    columns = ["run", "status", "stop_step", "final_gap", "final_grad_norm"]
    rows = [dict(zip(columns, values)) for values in zip(range(len(statuses)), statuses, stops,
                                                         gaps, norms)]
    return SweepResult(columns, rows, {})


def test_sweep_differences_count_what_differs():
    """Counted by hand: run 1 differs in status, run 2 in stop step, run 3 by 1e-9 relative
    (beyond 1e-10 + 1e-13), run 4 is finite in one table only; run 0 differs by 1e-12 relative
    and run 5 by 5e-14 absolute near 0 (within the bound). In float32 the values count only
    where one is finite and the other not (run 4)."""
    ref = _table(["max_steps", "converged", "converged", "max_steps", "diverged", "converged"],
                 [9, 3, 4, 9, 2, 5], [1.0, 0.5, 0.25, 2.0, 1e7, 1e-3],
                 [1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    other = _table(["max_steps", "diverged", "converged", "max_steps", "diverged", "converged"],
                   [9, 3, 5, 9, 2, 5], [1.0 + 1e-12, 0.5, 0.25, 2.0 * (1 + 1e-9), None, 1e-3],
                   [1.0, 1.0, 1.0, 1.0, 1.0, 5e-14])
    found = cases.sweep_differences(ref, other, "float64")
    assert found["differing_runs"] == 4
    assert found["max_rel_diff"] == pytest.approx(1e-9, rel=1e-6)
    assert cases.sweep_differences(ref, other, "float32")["differing_runs"] == 3
    assert cases.sweep_differences(ref, ref, "float64") == {"differing_runs": 0,
                                                           "max_rel_diff": 0.0}
    with pytest.raises(ValueError, match="same runs"):
        cases.sweep_differences(ref, _table(["converged"], [1], [0.0], [0.0]), "float64")


def test_the_jax_same_results_target_and_its_rendering():
    """With the JAX sweep's row at the target's sizes, ``sweep.jax.same_results`` is measured
    (met with 0 runs differing, missed with 2), and bench.md shows the comparison columns and
    what the JAX peers ran with."""
    record = _honest(upgrade_v1(_legacy_record()))
    row = {"case": "sweep.jax", "reading": "power", "B": 10**4, "dtype": "float64", "d": 50,
           "K": 5, "steps": 1000, "run_steps_per_s": 2e6, "over_numpy": 4.5,
           "first_call_s": 3.25, "differing_runs": 0, "max_rel_diff": 2e-15}
    record["sweep"].append(row)
    record["meta"]["jax"] = {"jax": "0.10.2", "optax": "0.2.8", "device": "cpu:0",
                             "xla_flags": "--xla_cpu_multi_thread_eigen=false",
                             "cpu_over_wall": 1.01}
    found = {t["id"]: (t["measured"], t["met"]) for t in analyse(record)["targets"]}
    assert found["sweep.jax.same_results"] == (0, True)
    row["differing_runs"] = 2
    met = {t["id"]: t["met"] for t in analyse(record)["targets"]}
    assert met["sweep.jax.same_results"] is False
    md = render_markdown(complete({k: v for k, v in record.items()
                                   if k not in ("schema", "analysis")}))
    assert "| runs differing | max rel. diff | first call (s) |" in md
    assert "| 2 | 2.0e-15 | 3.25 |" in md
    assert "JAX peers on cpu:0 with optax 0.2.8" in md
    assert "CPU time over wall time of a compiled pass 1.01 (at most 1 on one thread" in md
    assert target("sweep.jax.same_results").text() == (
        "JAX sweep B=1e4, d=50, K=5 (power, float64): runs whose status, stop step or final "
        "values (beyond 1e-10 relative) differ from the NumPy sweep's <= 0")
    assert case_label("optax.adam") == "optax Adam"
    assert case_label("optax.sgd_momentum") == "optax SGD momentum"


def test_no_jax_leaves_the_jax_peers_out(record):
    rec, md, _ = record
    assert rec["meta"]["jax"] is None
    assert not [r for r in rec["steps"] if r["case"].startswith(("jax.", "optax."))]
    assert not [r for r in rec["sweep"] if r["case"] == "sweep.jax"]
    assert "runs differing" not in md and "JAX peers on" not in md


def test_import_jax_pins_xla_to_one_thread_flag(monkeypatch):
    from emc_app.bench import harness
    assert harness.import_jax(False) is None
    pytest.importorskip("jax")
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/nonexistent")
    assert harness.import_jax(True) is not None
    import os
    assert os.environ["XLA_FLAGS"].split() == ["--xla_dump_to=/nonexistent",
                                               harness.JAX_ONE_THREAD]
    harness.import_jax(True)   # not added twice
    assert os.environ["XLA_FLAGS"].split().count(harness.JAX_ONE_THREAD) == 1


def test_jax_step_cases_donate_their_state_and_step_as_closed_forms():
    """Small sizes. The optax EMC case (linear reading) after three calls holds the NumPy
    core's third update (float64, within 1e-12 relative: a few roundings per step); the first
    optax Adam step is -lr g / (|g| + eps) and the first SGD-momentum step -lr g (their closed
    forms); every call donates the state it was given (deleted after the call)."""
    jax = pytest.importorskip("jax")
    pytest.importorskip("optax")
    from emc_theory import EMC
    g = np.random.default_rng(5).standard_normal(64)
    found = cases.jax_step_cases(jax, 64, np.float64, [2], g)
    assert set(found) == {(f"jax.emc.{r}", 2) for r in READINGS} | {
        ("optax.sgd_momentum", None), ("optax.adam", None)}
    linear = found[("jax.emc.linear", 2)]
    box = linear.box
    assert found[("jax.emc.power", 2)].box is box   # the readings of one K share one state
    for _ in range(3):
        before = jax.tree.leaves(box[0])[-1]
        linear()
        assert before.is_deleted()
    opt = EMC(K=2, lr=1e-3, reading="linear")
    state = opt.init(g)
    for _ in range(3):
        updates, state = opt.update(g, state)
    np.testing.assert_allclose(np.asarray(box[1]), updates, rtol=1e-12)
    for case, expected in ((("optax.adam", None), -1e-3 * g / (np.abs(g) + 1e-8)),
                           (("optax.sgd_momentum", None), -1e-3 * g)):
        found[case]()
        updates = np.asarray(found[case].box[1])
        np.testing.assert_allclose(updates, expected, rtol=1e-12)
        assert updates.dtype == np.float64
    g32 = g.astype(np.float32)   # a float32 step stays float32 and steps as the core does
    found = cases.jax_step_cases(jax, 64, np.float32, [2], g32)
    found[("jax.emc.linear", 2)]()
    updates, _ = EMC(K=2, lr=1e-3, reading="linear").update(g32, EMC(K=2).init(g32))
    ours = np.asarray(found[("jax.emc.linear", 2)].box[1])
    assert ours.dtype == np.float32 and updates.dtype == np.float32
    np.testing.assert_allclose(ours, updates, rtol=1e-5)


def test_the_jax_sweep_peer_is_timed_and_compared(monkeypatch):
    """The JAX sweep at small sizes (one reading, to compile little): timed beside the NumPy
    sweep with ``over_numpy`` and its first call, and its table compared run by run with the
    NumPy sweep's: no run differs (these runs are smooth, all reach the step budget)."""
    jax = pytest.importorskip("jax")
    pytest.importorskip("optax")
    monkeypatch.setattr(cases, "SWEEP_READINGS", ("linear",))
    cfg = {**QUICK, "sweep_b": [3], "sweep_d": 4, "sweep_k": 2, "sweep_steps": 5,
           "loop_runs": 1, "sweep_rounds": 1}
    rows = cases.time_sweep(cfg, {"jax": jax})
    peer = [r for r in rows if r["case"] == "sweep.jax"]
    assert {(r["B"], r["dtype"]) for r in peer} == {(3, "float64"), (3, "float32")}
    for r in peer:
        assert r["over_numpy"] > 0 and r["first_call_s"] > 0
        assert r["differing_runs"] == 0
        assert r["max_rel_diff"] <= (1e-10 if r["dtype"] == "float64" else 1e-3)
    conditions = cases.jax_conditions(jax)
    assert set(conditions) == {"jax", "optax", "device", "xla_flags", "cpu_over_wall"}
    assert conditions["cpu_over_wall"] > 0


def test_a_floor_falling_with_K_renders_without_a_lean_step():
    record = _honest(upgrade_v1(_legacy_record()))
    record["k_series"] = [{**r, "median_s": 0.01 - 0.001 * r["K"]} if r["case"] == FLOOR else r
                          for r in record["k_series"]]
    record = complete({k: v for k, v in record.items() if k not in ("schema", "analysis")})
    assert record["analysis"]["reach"]["K_exponent"]["lean_step_exponent"] is None
    md = render_markdown(record)
    assert "the floor's time did not grow with K in this run (fitted -1 ms per level" in md
    assert "the floor's time did not grow with K" not in render_readme(record)  # bench.md only
