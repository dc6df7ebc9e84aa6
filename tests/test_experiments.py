"""The experiment scripts in --quick mode, into a temporary directory: every script runs and
writes its files; reruns are byte-identical; the records agree with values derived
independently (closed forms, the spectral theory, a second algorithm)."""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from claims.support.base import CheckConfig
from claims.support.registry import CLAIM_IDS, run_claims
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
    run_weights,
    table_derivations,
    table_stability,
    table_steps,
    table_verdicts,
)
from experiments.build import RUNS
from experiments.common import as_array, load_or_run, resolve_paths

REPO = Path(__file__).resolve().parents[1]
CLAIMS_SUBSET = ("G1", "C2")          # fast checks: enough for the verdict table's plumbing
FIGURES = (fig_weights, fig_convergence, fig_entropy, fig_stability, fig_phase)
TABLES = (table_steps, table_stability, table_verdicts, table_derivations)
TABLE_STEMS = ("table_steps", "table_stability", "table_verdicts", "table_derivations", "claims")
PYTHON_DICT = re.compile(r"\{\s*'[^']*'\s*:|\{\s*\"[^\"]*\"\s*:|'\s*:\s*\{")


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
            for m in RUNS}


def test_every_script_writes_its_files(out):
    for module in FIGURES:
        for ext in ("pdf", "png", "tex"):
            assert (out.generated / f"{module.STEM}.{ext}").stat().st_size > 0
    for name in ("table_steps", "table_stability", "table_verdicts", "table_derivations",
                 "claims", "claims_detail", "claim_macros", "derivations", "definitions",
                 "repairs", "claims_parameters", "evidence_G1", "evidence_C2"):
        text = (out.generated / f"{name}.tex").read_text()
        assert "\\" in text
    for name in TABLE_STEMS:
        for stem in (name, name + common.TABULAR_SUFFIX):
            text = (out.generated / f"{stem}.tex").read_text()
            assert all(rule in text for rule in (r"\toprule", r"\midrule", r"\bottomrule"))
        assert (out.generated / f"{name}.tex").read_text().count(r"\begin{table}") == 1


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


def test_verdicts_tables_list_every_claim_of_the_json(out):
    doc = json.loads((out.results / "claims.json").read_text())
    counts = (out.generated / "table_verdicts.tex").read_text()
    verdicts = (out.generated / "claims.tex").read_text()
    macros = (out.generated / "claim_macros.tex").read_text()
    for cid, claim in doc["claims"].items():
        n_evidence = sum(e["kind"] == "numerical" and e["available"] for e in claim["evidence"])
        assert re.search(rf"^{cid} & \d+ & {n_evidence} & ", counts, re.M), cid
        assert re.search(rf"^{cid} & .* & {claim['statement']} & {claim['proof']} \\\\$",
                         verdicts, re.M), cid
        assert rf"claimstatement@{cid}\endcsname{{{claim['statement']}}}" in macros
    assert verdicts.startswith("% generated by emc-theory check")


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


# ----------------------------------------------------------------------------- the claims' text


def full_claims(tmp_path):
    """Paths whose ``claims.json`` is the committed record of every claim plus a constructed
    repair of P1 (the rendering of "What holds instead" is tested with it); the tables and text
    of the claims rendered from it."""
    source = REPO / "results" / "claims.json"
    if not source.exists():
        pytest.skip("results/claims.json not in this checkout")
    doc = json.loads(source.read_text())
    repair = copy.deepcopy(doc["claims"]["P1"])
    repair.update(id="P1.r1", repair_of="P1", change="method", statement="holds",
                  proof="sound", title="Reversed levels: high entropy favours short memory",
                  claim="With lambda_k = -k/K, high entropy (Ht -> 1) favours short memory.",
                  difference="the level order is reversed")
    doc["repairs"] = {"P1.r1": repair}
    paths = resolve_paths(tmp_path / "results", tmp_path / "generated")
    paths.results.mkdir(parents=True)
    (paths.results / "claims.json").write_text(json.dumps(doc))
    table_verdicts.make(paths)
    return paths, doc


def test_repairs_are_rendered_beside_their_originals(tmp_path):
    paths, doc = full_claims(tmp_path)
    repairs = (paths.generated / "repairs.tex").read_text()
    assert r"\input{generated/table_repairs}" in repairs
    original = repairs.index("Original (P1; statement fails")
    assert original < repairs.index("Repair (P1.r1; statement holds, proof sound)") \
        < repairs.index("Difference (method changed).] the level order is reversed")
    table = (paths.generated / "table_repairs.tex").read_text()
    assert re.search(r"^P1 \(fails\) & P1\.r1 \(method\) & .* & holds; sound \\\\$", table,
                     re.M)
    detail = (paths.generated / "claims_detail.tex").read_text()
    assert detail.index(r"\label{claim:P1}") < detail.index(r"\label{claim:P1-r1}") \
        < detail.index(r"\label{claim:P2}")
    assert (paths.generated / "evidence_P1-r1.tex").exists()
    macros = (paths.generated / "numbers_table_verdicts.tex").read_text()
    assert r"\newcommand{\RepairsStatementSummary}{\emph{holds}: one (P1.r1)}" in macros


def test_counts_and_verdict_words_come_from_the_record(tmp_path):
    """The prose macros agree with counts made here from the JSON."""
    paths, doc = full_claims(tmp_path)
    macros = dict(re.findall(r"\\newcommand\{\\(\w+)\}\{(.*)\}$",
                             (paths.generated / "numbers_table_verdicts.tex").read_text(), re.M))
    claims = doc["claims"]
    for verdict in ("holds", "fails", "conditional", "undecided"):
        ids = [cid for cid in CLAIM_IDS if cid in claims and claims[cid]["statement"] == verdict]
        assert macros[f"Claims{verdict.title()}Ids"] == (", ".join(ids) or "none")
        assert macros[f"Claims{verdict.title()}"] == common.count_word(len(ids))
        if ids:
            assert (rf"\emph{{{verdict}}}: {common.count_word(len(ids))} ({', '.join(ids)})"
                    in macros["ClaimsStatementSummary"])
        else:
            assert rf"\emph{{{verdict}}}" not in macros["ClaimsStatementSummary"]
    assert macros["ClaimsTotal"] == common.count_word(len(claims))


def generated_tex(*directories):
    return [path for d in directories for path in sorted(d.glob("*.tex"))]


def test_no_generated_tex_holds_ascii_math_or_python_reprs(out, tmp_path):
    paths, _ = full_claims(tmp_path)
    files = generated_tex(out.generated, paths.generated)
    assert len(files) > 30
    for path in files:
        text = path.read_text()
        assert "textasciicircum" not in text, path.name
        assert "**" not in text, path.name
        assert not PYTHON_DICT.search(text), (path.name, PYTHON_DICT.search(text))
        assert "KEY FINDING" not in text, path.name
        assert not re.search(r"\\\[\s*\\(text|mathrm)\{(True|False)\}\s*\\\]", text), path.name


def require_tex():
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex missing under CI")
        pytest.skip("pdflatex not installed")


def test_every_table_and_its_tabular_compile_without_overfull_boxes(out, tmp_path):
    """Each table file (the float, and its tabular alone inside a host's table float) in a
    minimal article with default margins: no error, no overfull box; the tabular-only variant
    has no reference to this paper's labels and no caption."""
    require_tex()
    paths, _ = full_claims(tmp_path / "claims")
    tables = [p for p in generated_tex(out.generated, paths.generated)
              if p.stem.endswith(common.TABULAR_SUFFIX)]
    tables += [p.with_name(p.name.replace(common.TABULAR_SUFFIX, "")) for p in list(tables)]
    assert {p.stem for p in tables} >= {*TABLE_STEMS, "table_repairs", "evidence_T1",
                                        *(s + common.TABULAR_SUFFIX for s in TABLE_STEMS)}
    work = tmp_path / "latex"
    work.mkdir()
    body = []
    for path in tables:
        text = path.read_text()
        if path.stem.endswith(common.TABULAR_SUFFIX):
            assert r"\ref{" not in text and r"\caption" not in text and r"\label" not in text
            text = "\\begin{table}[p]\\centering\n" + text + "\\end{table}"
        body.append(f"% FILE {path.name}\n" + text + "\n\\clearpage")
    tex = work / "tables.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
                   "\\usepackage{amsmath,amssymb,booktabs,array,tabularx,longtable}\n"
                   "\\begin{document}\n" + "\n".join(body) + "\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=work, capture_output=True, text=True)
    log = (work / "tables.log").read_text(errors="replace")
    assert run.returncode == 0, [line for line in log.splitlines() if line.startswith("!")]
    lines = tex.read_text().splitlines()
    overfull = [(owner(lines, int(line)), text) for text, line in
                re.findall(r"(Overfull \\hbox.*? at lines? (\d+)\S*)", log)]
    assert not overfull, overfull


def owner(lines: list, number: int) -> str:
    """The table file whose text holds line ``number`` (1-based) of the combined document."""
    marks = [line for line in lines[:number] if line.startswith("% FILE ")]
    return marks[-1][len("% FILE "):] if marks else "?"


def test_figures_use_colour_blind_safe_colours_and_distinct_line_styles():
    methods = [{"name": "emc", "reading": r} for r in ("power", "root", "linear")]
    methods += [{"name": n} for n in common.BASELINE_COLORS]
    styles = [common.method_style(m) for m in methods]
    palette = set(common.OKABE_ITO.values()) | {"#777777"}
    assert all(s["color"] in palette for s in styles)
    assert len({str(s["linestyle"]) for s in styles}) == len(styles)
    assert len({s["color"] for s in styles}) == len(styles)
    assert set(fig_phase.OUTCOME_COLORS.values()) <= palette
    assert {s["color"] for s in fig_stability.SETTING_STYLE.values()} <= palette
    assert common.STYLE["xtick.labelsize"] >= 8 and common.STYLE["ytick.labelsize"] >= 8


def test_ended_below_target_reads_the_end_of_each_run():
    problem = {"initial_gap": [1.0, 2.0, 4.0]}
    assert table_steps.ended_below_target(problem, {"final_gap": [1e-7, 1e-7, 1.0]}, 1e-6)
    assert not table_steps.ended_below_target(problem, {"final_gap": [1e-5, 1e-7, None]}, 1e-6)
    assert not table_steps.ended_below_target({"initial_gap": [1.0]}, {"final_gap": [None]},
                                              1e-6)
