"""The experiment scripts in --quick mode, into a temporary directory: every script runs and
writes its files; reruns are byte-identical; the records agree with values derived
independently (closed forms, the spectral theory, a second algorithm)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from claims.support.base import CheckConfig
from claims.support.registry import run_claims
from claims.support.report import write_reports
from emc_theory.render import tex_escape
from experiments import (
    common,
    fig_convergence,
    fig_entropy,
    fig_phase,
    fig_stability,
    fig_weights,
    run_benchmark,
    run_phase,
    run_stability,
    run_weights,
    table_derivations,
    table_stability,
    table_steps,
    table_verdicts,
)
from experiments.common import as_array, load_or_run, resolve_paths

REPO = Path(__file__).resolve().parents[1]
CLAIMS_SUBSET = ("G1", "C2")          # fast checks: enough for the verdict table's plumbing
FIGURES = (fig_weights, fig_convergence, fig_entropy, fig_stability, fig_phase)
TABLES = (table_steps, table_stability, table_verdicts, table_derivations)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    """Every artifact script run once via its command line (``main``) in quick mode."""
    root = tmp_path_factory.mktemp("experiments")
    paths = resolve_paths(root / "results", root / "generated")
    config = CheckConfig(quick=True, seed=0)
    write_reports(run_claims(CLAIMS_SUBSET, config, progress=False), config, paths.results,
                  paths.generated / "claims.tex")
    argv = ["--quick", "--results", str(paths.results), "--generated", str(paths.generated)]
    for module in FIGURES + TABLES:
        assert module.main(argv) == 0
    return paths


def records(paths):
    return {m.NAME: json.loads((paths.records / f"{m.NAME}.json").read_text())
            for m in (run_weights, run_benchmark, run_stability, run_phase)}


def test_every_script_writes_its_files(out):
    for module in FIGURES:
        for ext in ("pdf", "png", "tex"):
            assert (out.generated / f"{module.STEM}.{ext}").stat().st_size > 0
    for name in ("table_steps", "table_stability", "table_verdicts", "table_derivations",
                 "claims", "claims_detail", "claim_macros", "derivations"):
        text = (out.generated / f"{name}.tex").read_text()
        assert "\\" in text
    for name in ("table_steps", "table_stability", "table_verdicts", "table_derivations"):
        text = (out.generated / f"{name}.tex").read_text()
        assert all(rule in text for rule in (r"\toprule", r"\midrule", r"\bottomrule"))


def test_captions_state_the_conditions(out):
    steps = (out.generated / "table_steps.tex").read_text()
    for needle in ("$K=3$", "seed", "grid of", "start point", r"$T = 200$", "power", "root",
                   "linear"):
        assert needle in steps, needle
    conv = (out.generated / "fig_convergence.tex").read_text()
    assert "ties broken" in conv and r"$\beta_2=0.999$" in conv
    for stem in ("fig_stability", "fig_phase"):
        caption = (out.generated / f"{stem}.tex").read_text()
        assert "seed" in caption and ("$d = " in caption or "$d=" in caption)


def test_figures_are_nonempty_images_without_timestamps(out):
    for module in FIGURES:
        png = Image.open(out.generated / f"{module.STEM}.png")
        assert png.size[0] > 800 and png.size[1] > 300
        assert "Software" not in png.info
        pdf = (out.generated / f"{module.STEM}.pdf").read_bytes()
        assert b"CreationDate" not in pdf


def test_cli_entry_point_writes_into_the_given_roots(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "experiments.fig_weights", "--quick", "--results",
                           str(tmp_path / "r"), "--generated", str(tmp_path / "g")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "g" / "fig_weights.png").exists()
    assert (tmp_path / "r" / "experiments" / "weights.json").exists()
    bad = subprocess.run([sys.executable, "-m", "experiments.fig_weights", "--seed", "-1"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "--seed must be an integer >= 0" in bad.stderr


def test_environment_variables_set_the_output_roots(tmp_path, monkeypatch):
    monkeypatch.setenv("EMC_RESULTS_DIR", str(tmp_path / "res"))
    monkeypatch.setenv("EMC_GENERATED_DIR", str(tmp_path / "gen"))
    paths = resolve_paths()
    assert paths.results == tmp_path / "res" and paths.generated == tmp_path / "gen"
    assert paths.records == tmp_path / "res" / "experiments"


def test_regenerating_gives_byte_identical_tables_and_figures(out, tmp_path):
    """Fresh records (rerun) and fresh renders give the same bytes as the first pass."""
    again = resolve_paths(tmp_path / "results", tmp_path / "generated")
    (again.results).mkdir(parents=True)
    for name in ("claims.json", "derivations.json"):
        (again.results / name).write_bytes((out.results / name).read_bytes())
    (again.generated).mkdir(parents=True)
    (again.generated / "derivations.tex").write_bytes(
        (out.generated / "derivations.tex").read_bytes())
    for module in TABLES:
        module.make(again, quick=True, seed=0, rerun=module not in (table_verdicts,
                                                                     table_derivations))
    fig_weights.make(again, quick=True, seed=0)
    for path in sorted(again.generated.glob("*.tex")):
        assert path.read_bytes() == (out.generated / path.name).read_bytes(), path.name
    for ext in ("pdf", "png"):
        assert ((again.generated / f"fig_weights.{ext}").read_bytes()
                == (out.generated / f"fig_weights.{ext}").read_bytes())
    for name in ("benchmark", "stability"):
        assert ((again.records / f"{name}.json").read_bytes()
                == (out.records / f"{name}.json").read_bytes())


def test_matching_record_is_reused_not_rerun(out, monkeypatch):
    def refuse(parameters):
        raise AssertionError("the record should have been reused")

    monkeypatch.setattr(run_weights, "run", refuse)
    record = load_or_run(run_weights, True, 0, out)
    assert record["parameters"] == json.loads(common.dumps(run_weights.parameters(True, 0)))
    with pytest.raises(AssertionError, match="reused"):
        load_or_run(run_weights, False, 0, out)          # other parameters: must run


def test_weights_record_matches_closed_forms(out):
    data = records(out)["weights"]["data"]
    for K, rec in data["per_K"].items():
        K = int(K)
        weights = as_array(rec["weights"])                 # (K, points)
        ht = as_array(data["ht"])
        logits = np.outer(np.arange(1, K + 1) / K, ht)
        expected = np.exp(logits) / np.exp(logits).sum(axis=0)
        np.testing.assert_allclose(weights, expected, rtol=1e-12)
        memory = as_array(rec["effective_memory"])
        assert memory[0] == pytest.approx((2 ** (K + 1) - 2) / K, rel=1e-12)
        assert rec["argmax_level_at_1"] == K


def test_stability_simulation_brackets_the_theory(out):
    data = records(out)["stability"]["data"]
    assert data["1"]["uniform"]["theory"] == pytest.approx(6.0, rel=1e-12)   # 2(1+b)/(1-b), b=1/2
    for K, settings in data.items():
        for name, s in settings.items():
            alpha = np.asarray(s["alpha"])
            # closed form of the z = -1 crossing (the threshold for these weights, K <= 5)
            u_minus = 2.0 / np.sum(alpha / (2.0 ** (np.arange(1, int(K) + 1) + 1) - 1))
            assert s["theory"] == pytest.approx(u_minus, rel=1e-9)
            low, high = s["bracket"]
            assert low < high and abs(s["relative_difference"]) < 5e-3, (K, name, s)


def test_benchmark_gd_curve_matches_the_spectral_closed_form(out):
    """GD on the quadratic: f(x_t) - f* = 1/2 sum_i lam_i (1 - eta lam_i)^(2t) c_i^2."""
    record = records(out)["benchmark"]
    p = record["parameters"]
    spec = p["problems"][0]
    assert spec["name"] == "quadratic"
    from emc_theory.problems import make_problem

    problem = make_problem(spec)
    gd = record["data"]["problems"]["quadratic"]["methods"]["gd"]
    assert p["starts"] == 1        # quick mode: the median curve is this start's curve
    x0 = run_benchmark.start_points(problem, p, 0)[0]
    lam, vecs = np.linalg.eigh(problem.hessian(problem.x_star))
    c = vecs.T @ (x0 - problem.x_star)
    t = np.arange(p["steps"] + 1)[:, None]
    closed = 0.5 * np.sum(lam * (1 - gd["lr"] * lam) ** (2 * t) * c**2, axis=1)
    np.testing.assert_allclose(as_array(gd["f_gap_median"]), closed, rtol=1e-5, atol=1e-300)


def test_benchmark_protocol_is_the_same_for_every_method(out):
    record = records(out)["benchmark"]
    grid = run_benchmark.lr_grid(record["parameters"]["lr_grid"])
    for prob in record["data"]["problems"].values():
        assert set(prob["methods"]) == {run_benchmark.method_key(m)
                                        for m in record["parameters"]["methods"]}
        for method in prob["methods"].values():
            assert len(method["grid_median_steps"]) == grid.size
            best = np.lexsort((as_array(method["grid_median_final_gap"]),
                               as_array(method["grid_median_steps"])))[0]
            assert method["lr"] == pytest.approx(grid[best])


def test_phase_linear_reading_is_scale_invariant(out):
    """A linear iteration scales with its start: the outcome cannot depend on the start scale."""
    record = records(out)["phase"]
    data = record["data"]
    outcome = run_phase.outcome_grid(data, "linear")
    assert np.all(outcome == outcome[0])
    runs = data["runs"]
    total = len(data["lrs"]) * len(data["scales"])
    assert len(runs["run"]) == total * len(record["parameters"]["readings"])
    diverged = np.array(runs["status"]) == "diverged"
    assert all(o == "diverged" for o in np.array(runs["outcome"])[diverged])


def test_verdicts_table_lists_every_claim_of_the_json(out):
    doc = json.loads((out.results / "claims.json").read_text())
    table = (out.generated / "table_verdicts.tex").read_text()
    for cid, claim in doc["claims"].items():
        assert f"\n{cid} & {claim['statement']}" in table
    assert (out.generated / "claims.tex").read_text().startswith("% generated by emc-theory check")


def test_missing_claims_json_runs_the_checks(tmp_path, monkeypatch):
    monkeypatch.setattr(table_verdicts, "available_claims", lambda: ("G1",))
    paths = resolve_paths(tmp_path / "results", tmp_path / "generated")
    table_verdicts.make(paths, quick=True, seed=0)
    doc = json.loads((paths.results / "claims.json").read_text())
    assert list(doc["claims"]) == ["G1"] and doc["config"] == {"quick": True, "seed": 0}


def test_latex_helpers():
    assert common.sci(0.000123) == r"1.23\times10^{-4}"
    assert common.sci(1e-6) == "10^{-6}"
    assert common.sci(31.6227766) == "31.6"
    assert common.sci(None) == "--" and common.sci(float("nan")) == "--"
    assert tex_escape("η ≤ 1 & 50%") == r"$\eta$ $\le$ 1 \& 50\%"
    with pytest.raises(ValueError, match="letters only"):
        common.write_macros(resolve_paths("/nonexistent", "/nonexistent"), "x", {"Bad1": "1"},
                            "test")
