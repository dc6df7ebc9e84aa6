"""``emc-theory bench --quick`` writes a complete record and its tables (no timing is asserted:
timings depend on the machine; the structure and the self-consistency of the record do not)."""
import json
import math

import numpy as np
import pytest

from emc_theory import READINGS
from emc_theory.bench import QUICK, main


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    assert main(["--quick", "--out", str(out)]) == 0
    return json.loads((out / "bench.json").read_text()), (out / "bench.md").read_text()


def test_record_has_every_section_and_case(record):
    rec, _ = record
    assert set(rec) >= {"meta", "steps", "k_series", "exponents", "profile", "sweep", "targets",
                        "reach"}
    assert rec["meta"]["quick"] and len(rec["meta"]["load_before"]) == 3
    cases = {(r["dtype"], r["d"], r["K"], r["case"]) for r in rec["steps"]}
    for dtype in ("float64", "float32"):
        for d in QUICK["dims"]:
            for K in QUICK["ks"]:
                assert (dtype, d, K, "floor") in cases
                for reading in READINGS:
                    assert (dtype, d, K, f"emc_{reading}") in cases
                    if rec["meta"]["torch"]:
                        assert (dtype, d, K, f"torch_emc_{reading}") in cases
    for row in rec["steps"]:
        assert row["median_s"] > 0 and row["ratio"] > 0
        if row["case"] == "floor":
            assert row["ratio"] == 1.0  # the floor paired with itself
    assert {(r["reading"], r["K"]) for r in rec["k_series"]} == {
        (reading, K) for reading in (*READINGS, "floor") for K in QUICK["k_series"]}


def test_fits_profile_sweep_and_targets_are_consistent(record):
    rec, _ = record
    exps = rec["exponents"]
    assert set(exps["in_K"]) == {*READINGS, "floor"}
    assert all(math.isfinite(v) for v in exps["in_d"].values())
    shares = rec["profile"]["shares_of_power_step"]
    assert sum(shares.values()) == pytest.approx(1.0)
    kinds = {(r["reading"], r["kind"], r["B"]) for r in rec["sweep"]}
    for reading in ("power", "linear"):
        assert (reading, "loop", 1) in kinds and (reading, "bare loop", 1) in kinds
        assert all((reading, "batched", B) in kinds for B in QUICK["sweep_b"])
    assert all("over_loop" in r for r in rec["sweep"] if r["kind"] == "batched")
    float32 = [r for r in rec["sweep"] if r["dtype"] == "float32"]
    assert {(r["reading"], r["kind"], r["B"]) for r in float32} == {
        (reading, "batched", max(QUICK["sweep_b"])) for reading in ("power", "linear")}
    assert all(set(t) == {"target", "measured", "met"} for t in rec["targets"])
    prof = rec["sweep_profile"]
    assert prof["B"] == max(QUICK["sweep_b"]) and prof["d"] == QUICK["sweep_d"]
    for reading, step in prof["sweep_step_seconds"].items():   # the rest is what the parts leave
        parts = prof["seconds"]["problem value and gradient"] + prof["seconds"][
            f"EMC step ({reading})"]
        assert prof["rest_seconds"][reading] == pytest.approx(step - parts)
        batched = [r for r in rec["sweep"] if r["kind"] == "batched" and r["B"] == prof["B"]
                   and r["reading"] == reading][0]
        assert step == pytest.approx(prof["B"] / batched["run_steps_per_s"])
    if rec["meta"]["torch"]:
        assert rec["torch_matches_numpy"] < 1e-12


def test_markdown_tables(record):
    rec, md = record
    for heading in ("### Targets (issue 7)", "### One step against the memory floor",
                    "### Scaling (claim C1)", "### Where a step's time goes",
                    "### Batched sweep against a Python loop of runs",
                    "### Where a sweep step goes"):
        assert heading in md
    assert "| dtype | d | K | floor | emc_power | emc_root | emc_linear |" in md
    assert md.count("\n| float64 |") == len(QUICK["dims"]) * len(QUICK["ks"])


def test_readme_shows_the_committed_benchmark_record():
    """The README's benchmark section is the one rendered from results/bench.json (so it shows
    the latest recorded run, not numbers copied by hand)."""
    from pathlib import Path

    from emc_theory.bench import render_readme

    root = Path(__file__).resolve().parents[1]
    record = json.loads((root / "results" / "bench.json").read_text())
    assert render_readme(record) in (root / "README.md").read_text()


def test_update_readme_replaces_only_its_section(tmp_path, record):
    from emc_theory.bench import render_readme, update_readme

    rec, _ = record
    readme = tmp_path / "README.md"
    readme.write_text("# T\n\n## Benchmark\n\nold\n\n## Next\n\nkept\n")
    update_readme(readme, rec)
    text = readme.read_text()
    assert text.startswith("# T\n\n" + render_readme(rec)) and text.endswith("\n## Next\n\nkept\n")
    assert "old" not in text


def test_unavoidable_sweep_parts_add_the_named_passes():
    """Hand-computed from made-up part times: linear = product + log + floor; power adds the
    cheaper of log + exp (2 + 3) and one np.power pass (4)."""
    from emc_theory.bench import unavoidable_sweep_parts

    prof = {"B": 10, "target_step_seconds": 5.0,
            "sweep_step_seconds": {"power": 9.0, "linear": 6.0},
            "seconds": {"the problem's d x d product": 1.0, "one np.log pass": 2.0,
                        "one np.exp pass": 3.0, "one np.power pass": 4.0,
                        "memory floor of the K buffers": 0.5}}
    parts = unavoidable_sweep_parts(prof)
    assert parts["linear"] == {"least_step_seconds": 3.5, "most_run_steps_per_s": 10 / 3.5,
                               "target_reachable": True}
    assert parts["power"] == {"least_step_seconds": 7.5, "most_run_steps_per_s": 10 / 7.5,
                              "target_reachable": False}


def test_k_exponent_reach_against_closed_forms():
    """A step with no fixed part has exponent exactly 1 (inside the band); with a fixed part the
    per-level cost returned puts the exponent of t_log + b* K at the band's edge, checked with an
    independent least-squares fit."""
    from emc_theory.bench import k_exponent_reach

    ks = [1, 2, 4, 8]
    rows = [{"reading": "floor", "K": k, "median_s": 0.3 + 0.2 * k} for k in ks]
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


def test_record_reach_is_computed_from_its_own_parts(record):
    rec, md = record
    prof, found = rec["sweep_profile"], rec["reach"]
    sec = prof["seconds"]
    for reading, v in found["sweep"].items():
        assert v["least_step_seconds"] >= (sec["the problem's d x d product"]
                                           + sec["one np.log pass"])
        assert v["most_run_steps_per_s"] == pytest.approx(prof["B"] / v["least_step_seconds"])
    assert found["K_exponent"]["log_pass_seconds"] == rec["profile"]["seconds"]["log_pass"]
    assert "### What the missed targets would need" in md
