"""``emc-theory`` end to end: reports written, byte-identical across runs (the ``run`` field
aside), every counterexample replays from its JSON to the same outcome, errors exit 1; a partial
or quick ``check`` merges into the record instead of replacing it; ``paper`` refuses a partial
record; ``list``, ``show``, ``replay``, ``--version``; user errors exit 2 in one line."""
import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from claims.support import registry, store
from claims.support.base import CheckConfig
from claims.support.registry import CLAIM_IDS, replay_counterexample
from claims.support.report import dumps, render_latex
from emc_app import cli
from emc_app.cli import main
from experiments import build

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "results" / "claims.json"
FAST = ("G1", "C2")   # the two fastest quick checks (about a second each)


def check(root: Path, *args) -> int:
    return main(["check", "--quick", "--no-progress", "--results-dir", str(root / "results"),
                 "--tex", str(root / "claims.tex"), *args])


def cli_run(*args, cwd=None):
    """``python -m emc_app ARGS`` in a subprocess (to see exactly what a user sees)."""
    return subprocess.run([sys.executable, "-m", "emc_app", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO)})


def without_run(path: Path) -> str:
    doc = json.loads(path.read_text())
    doc["run"] = None
    return dumps(doc)


def full_record(tmp_path: Path) -> Path:
    """A copy of the repository's full record in ``tmp_path/results``."""
    if not COMMITTED.exists():
        pytest.skip("no results/claims.json in the repository")
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(COMMITTED, results / "claims.json")
    return results


@pytest.fixture(scope="module")
def two_quick_runs(tmp_path_factory):
    outs = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(name)
        outs.append((check(root), root))
    return outs


def test_every_claim_ran_and_reports_are_written(two_quick_runs):
    code, root = two_quick_runs[0]
    doc = json.loads((root / "results" / "claims.json").read_text())
    assert code == 0, {k: v["error"] for k, v in doc["claims"].items() if v["error"]}
    assert sorted(doc["claims"]) == sorted(CLAIM_IDS)
    for claim in doc["claims"].values():
        assert claim["statement"] in ("holds", "fails", "conditional", "undecided")
        assert claim["proof"] in ("sound", "gap", "mismatch", "none")
        assert claim["evidence"], claim["id"]
        if claim["statement"] == "fails":
            assert claim["counterexamples"], f"{claim['id']} fails without a counterexample"
    assert doc["versions"]["numpy"] and doc["versions"]["sympy"]
    # every claim is there, but from a quick run: the record knows it is not complete
    assert doc["provenance"]["missing"] == [] and doc["provenance"]["complete"] is False
    assert all(s == {"quick": True, "seed": 0} for s in doc["provenance"]["produced"].values())
    tex = (root / "claims.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert (root / "results" / "claims.md").read_text().startswith("#")


def test_two_runs_are_byte_identical_but_for_the_run_field(two_quick_runs):
    (_, a), (_, b) = two_quick_runs
    texts = [(r / "results" / "claims.json").read_text() for r in (a, b)]
    docs = [json.loads(t) for t in texts]
    for text, doc in zip(texts, docs):
        assert dumps(doc) == text  # the file is the canonical serialisation of its content
        doc["run"] = None
    assert dumps(docs[0]) == dumps(docs[1])
    assert (a / "claims.tex").read_bytes() == (b / "claims.tex").read_bytes()
    assert (a / "results" / "claims.md").read_bytes() == (b / "results" / "claims.md").read_bytes()


def test_latex_rendered_from_the_json_equals_the_checks_own(two_quick_runs):
    # the paper re-renders claims.tex from results/claims.json: both must give the same bytes
    _, root = two_quick_runs[0]
    doc = json.loads((root / "results" / "claims.json").read_text())
    assert render_latex(doc) == (root / "claims.tex").read_text()


def _close(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300) or (a != a and b != b)
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_close(a[k], b[k]) for k in a if k in b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def test_counterexamples_replay_from_json(two_quick_runs):
    _, root = two_quick_runs[0]
    doc = json.loads((root / "results" / "claims.json").read_text())
    replayed = 0
    for cid, claim in doc["claims"].items():
        for cx in claim["counterexamples"]:
            outcome = replay_counterexample(cid, json.loads(json.dumps(cx)))
            shared = set(outcome) & set(cx["outcome"])
            assert shared, (cid, cx["outcome"], outcome)
            assert _close({k: cx["outcome"][k] for k in shared},
                          {k: outcome[k] for k in shared}), (cid, cx["description"])
            replayed += 1
    assert replayed >= 2  # P1 and P2 fail with counterexamples


def test_a_check_that_errors_exits_non_zero(tmp_path, monkeypatch):
    def broken(config):
        raise RuntimeError("deliberate")

    real = registry.get_claim
    m1 = dataclasses.replace(real("M1"), gather=broken)
    monkeypatch.setattr(registry, "get_claim",
                        lambda cid: m1 if registry.normalise_id(cid) == "M1" else real(cid))
    code = main(["check", "--claim", "m1", "--quick", "--no-progress",
                 "--results-dir", str(tmp_path), "--tex", str(tmp_path / "c.tex")])
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert code == 1 and "deliberate" in doc["claims"]["M1"]["error"]


# ----------------------------------------------------------------------------- the merge


def test_partial_check_then_check_gives_the_same_report_as_check_alone(tmp_path):
    """``check --claim G1`` followed by ``check`` (of G1 and C2: the claim set of this test)
    leaves the same JSON (the run field aside), Markdown and LaTeX as ``check`` alone."""
    merged, alone = tmp_path / "merged", tmp_path / "alone"
    assert check(merged, "--claim", "G1") == 0
    assert check(merged, "--claim", "G1", "--claim", "C2") == 0
    assert check(alone, "--claim", "G1", "--claim", "C2") == 0
    assert (without_run(merged / "results" / "claims.json")
            == without_run(alone / "results" / "claims.json"))
    for name in ("results/claims.md", "claims.tex"):
        assert (merged / name).read_bytes() == (alone / name).read_bytes(), name


def test_check_claim_leaves_the_other_claims_of_the_full_record(tmp_path):
    """``check --quick --claim G1`` on a copy of the repository's full record: the other 13
    claims keep their entries byte for byte and their stamps; G1 is replaced and stamped quick;
    the record now knows it is not complete."""
    results = full_record(tmp_path)
    before = json.loads((results / "claims.json").read_text())
    assert main(["check", "--quick", "--claim", "G1", "--seed", "7", "--no-progress",
                 "--results-dir", str(results), "--tex", str(tmp_path / "claims.tex")]) == 0
    after = json.loads((results / "claims.json").read_text())
    others = sorted(set(before["claims"]) - {"G1"})
    assert len(others) == len(CLAIM_IDS) - 1
    assert {cid: after["claims"][cid] for cid in others} == {cid: before["claims"][cid]
                                                             for cid in others}
    produced = after["provenance"]["produced"]
    old_stamp = {"quick": before["config"]["quick"], "seed": before["config"]["seed"]}
    assert all(produced[cid] == old_stamp for cid in others)
    assert produced["G1"] == {"quick": True, "seed": 7}
    assert after["provenance"]["complete"] is False
    assert after["config"] == {"quick": True, "seed": None}   # mixed seeds: no single seed
    assert after["run"]["produced_at"]["G1"] == after["run"]["generated_at"]
    assert set(before["run"]["seconds"]) <= set(after["run"]["seconds"])  # old durations kept
    md = (results / "claims.md").read_text()
    assert all(cid in md for cid in CLAIM_IDS)


def test_a_full_run_after_a_quick_one_makes_the_record_complete_again():
    """The stamps decide completeness: all registered ids, none quick, one seed."""
    registered = ("A", "B")
    new = {"config": {"quick": True, "seed": 0}, "run": {"generated_at": "t1"},
           "claims": {"A": {"id": "A"}}, "repairs": {}}
    doc = store.merge(None, new, registered)
    assert doc["provenance"] == {"produced": {"A": {"quick": True, "seed": 0}},
                                 "missing": ["B"], "complete": False}
    full = {"config": {"quick": False, "seed": 0}, "run": {"generated_at": "t2"},
            "claims": {"A": {"id": "A"}, "B": {"id": "B"}, "Z": {"id": "Z"}}, "repairs": {}}
    doc = store.merge(doc, full, registered)
    assert doc["provenance"]["complete"] is True and "Z" not in doc["claims"]  # Z: unregistered
    assert doc["run"]["produced_at"] == {"A": "t2", "B": "t2"}


def test_an_unreadable_record_stops_check_before_any_work(tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    (results / "claims.json").write_text("{not json")
    monkeypatch.setattr(registry, "run_claims", lambda *a, **k: pytest.fail("work started"))
    assert check(tmp_path, "--claim", "G1") == 2
    assert (results / "claims.json").read_text() == "{not json"   # left for the user


def test_output_paths_are_checked_before_any_work(tmp_path, monkeypatch, capsys):
    (tmp_path / "file").write_text("")
    monkeypatch.setattr(registry, "run_claims", lambda *a, **k: pytest.fail("work started"))
    code = main(["check", "--quick", "--claim", "G1", "--results-dir",
                 str(tmp_path / "file" / "results"), "--tex", str(tmp_path / "c.tex")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write the claims record" in err and err.count("\n") == 1
    code = main(["check", "--quick", "--claim", "G1", "--results-dir", str(tmp_path / "r"),
                 "--tex", str(tmp_path)])
    assert code == 2 and "is a directory" in capsys.readouterr().err


# ----------------------------------------------------------------------------- paper


def _paper_dir(tmp_path: Path) -> Path:
    paper = tmp_path / "paper"
    paper.mkdir()
    (paper / "main.tex").write_text("% stand-in\n")
    return paper


def test_paper_refuses_a_partial_record(tmp_path, monkeypatch, capsys):
    assert check(tmp_path, "--claim", "G1") == 0
    monkeypatch.setattr(build, "stages", lambda *a, **k: pytest.fail("work started"))
    status = build.build_paper(quick=True, pdf=False, paper_dir=_paper_dir(tmp_path),
                               results_dir=tmp_path / "results", progress=False)
    err = capsys.readouterr().err
    assert status == 2 and "refusing to build the paper" in err and "--allow-partial" in err
    assert "lacks 13 registered claim(s)" in err or "lacks" in err


def test_paper_with_allow_partial_builds_from_a_partial_record(tmp_path, monkeypatch):
    assert check(tmp_path, "--claim", "G1") == 0
    monkeypatch.setattr(build, "stages", lambda *a, **k: iter(()))
    monkeypatch.chdir(tmp_path)
    _paper_dir(tmp_path)
    monkeypatch.delenv("EMC_RESULTS_DIR", raising=False)
    assert main(["paper", "--no-pdf"]) == 2
    assert main(["paper", "--no-pdf", "--allow-partial"]) == 0


def test_a_full_paper_refuses_quick_claims_a_quick_paper_takes_them(tmp_path, monkeypatch):
    results = full_record(tmp_path)
    doc = json.loads((results / "claims.json").read_text())
    # the registry as it was when the repository's record was written (repairs came later)
    monkeypatch.setattr(store, "registered_ids",
                        lambda: tuple(doc["claims"]) + tuple(doc.get("repairs", {})))
    assert build.record_problems(results, quick=False) == []   # a full record
    doc["provenance"] = {"produced": {cid: {"quick": True, "seed": 0}
                                      for section in ("claims", "repairs")
                                      for cid in doc.get(section, {})}}
    (results / "claims.json").write_text(json.dumps(doc))
    problems = build.record_problems(results, quick=False)
    assert len(problems) == 1 and "quick run" in problems[0]
    assert build.record_problems(results, quick=True) == []


# ----------------------------------------------------------------------------- list/show/replay


def test_list_names_every_claim_and_repair(capsys):
    assert main(["list"]) == 0
    out = " ".join(capsys.readouterr().out.split())   # long lines are wrapped
    for claim in registry.all_claims():
        assert f"{claim.id} " in out and claim.title in out and claim.source.paper in out
        for repair in claim.repairs:
            assert repair.id in out
    assert f"{len(CLAIM_IDS)} claims" in out


def test_show_prints_verdicts_reasons_and_evidence_as_text(tmp_path, capsys):
    results = full_record(tmp_path)
    doc = json.loads((results / "claims.json").read_text())
    assert main(["show", "p1", "--results-dir", str(results)]) == 0
    out = capsys.readouterr().out
    p1 = doc["claims"]["P1"]
    assert out.startswith(f"P1: {p1['title']}")
    assert f"Verdict on the statement: {p1['statement']}" in out
    assert f"Verdict on the proof: {p1['proof']}" in out
    assert "checked by a full run, seed 0" in out
    assert f"Evidence ({len(p1['evidence'])})" in out and "emc-theory replay P1 1" in out
    outcome_line = next(line for line in out.splitlines() if "outcome:" in line)
    assert "{" not in outcome_line and "'" not in outcome_line   # no Python repr of the dict
    assert "alpha_K = 0.2" in outcome_line


def test_replay_reproduces_and_detects_a_changed_outcome(tmp_path, capsys):
    results = full_record(tmp_path)
    assert main(["replay", "P1", "--results-dir", str(results)]) == 0
    assert "reproduces the recorded outcome" in capsys.readouterr().out
    doc = json.loads((results / "claims.json").read_text())
    doc["claims"]["P1"]["counterexamples"][0]["outcome"]["effective_memory"] = 99.0
    (results / "claims.json").write_text(json.dumps(doc))
    assert main(["replay", "P1", "1", "--results-dir", str(results)]) == 1
    out = capsys.readouterr().out
    assert "does NOT reproduce" in out and "effective_memory: recorded 99" in out


def test_replay_of_a_tampered_record_is_a_user_error(tmp_path, capsys):
    results = full_record(tmp_path)
    doc = json.loads((results / "claims.json").read_text())
    doc["claims"]["T1"]["counterexamples"][0]["replay"]["problem"]["f_star"] = -1.0
    (results / "claims.json").write_text(json.dumps(doc))
    assert main(["replay", "T1", "--results-dir", str(results)]) == 2
    err = capsys.readouterr().err
    assert "f_star" in err and err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["check", "--claim", "Z9"], "unknown claim id 'Z9'; known ids: E1, "),
    (["check", "--quick", "--seed", "-1"], "--seed: must be an integer in [0, 2**32 - 1]"),
    (["check", "--seed", "1e3"], "--seed: must be an integer"),
    (["show", "Z9"], "unknown claim id 'Z9'"),
    (["replay", "T1", "--results-dir", "no-such-dir"], "no claims record at"),
    (["show", "T1", "--results-dir", "no-such-dir"], "run `emc-theory check` first"),
    (["frobnicate"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line_and_no_traceback(tmp_path, args, message):
    done = cli_run(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "results").exists()   # nothing written


def test_version():
    done = cli_run("--version")
    assert done.returncode == 0 and done.stdout.strip() == "emc-theory 0.1.0"


def test_a_missing_optional_extra_names_the_install_command(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "nbclient", None)   # as if the 'course' extra were missing
    monkeypatch.setitem(sys.modules, "nbclient.exceptions", None)
    assert main(["course", "--quick"]) == 3
    err = capsys.readouterr().err
    assert "pip install -e '.[course]'" in err and "nbclient" in err and err.count("\n") == 1


def test_progress_bar_shows_an_eta_only_from_known_durations(capsys):
    config = CheckConfig(quick=True, seed=0)
    registry.run_claims(["G1"], config, progress=True, repairs=False, expected={"G1": 0.5})
    assert "<" in capsys.readouterr().err          # [elapsed<remaining]
    registry.run_claims(["G1"], config, progress=True, repairs=False, expected={"C2": 0.5})
    assert "no ETA" in capsys.readouterr().err     # G1's duration unknown: no guess
    doc = {"config": {"quick": False, "seed": 0}, "claims": {}, "run": {"seconds": {"G1": 2}},
           "provenance": {"produced": {"G1": {"quick": False, "seed": 0}}}}
    assert store.expected_seconds(doc, quick=False) == {"G1": 2.0}
    assert store.expected_seconds(doc, quick=True) == {}   # a full run's time says nothing


@pytest.mark.parametrize("module", ["emc_app.cli", "emc_app"])
def test_console_script_help(module):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("check", "list", "show", "replay", "derive", "paper", "course", "bench"):
        assert command in out


def test_bench_subcommand_parses_its_own_options(capsys):
    """``emc-theory bench ...`` hands every option to the benchmark's own parser."""
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "emc-theory bench" in out and "--no-torch" in out and "--readme" in out
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--rounds", "x"])
    assert exit_info.value.code == 2


def test_cli_names_every_extra_of_setup_cfg():
    text = (REPO / "setup.cfg").read_text()
    for extra in set(cli.OPTIONAL_EXTRAS.values()):
        assert f"\n{extra} =" in text, extra
