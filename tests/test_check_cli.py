"""``emc-theory check`` end to end: reports written, byte-identical across runs (the ``run``
field aside), every counterexample replays from its JSON to the same outcome, errors exit 1."""
import dataclasses
import json
import math
import subprocess
import sys

import pytest

from claims.support import registry
from claims.support.registry import CLAIM_IDS, replay_counterexample
from claims.support.report import dumps, render_latex
from emc_app.cli import main


@pytest.fixture(scope="module")
def two_quick_runs(tmp_path_factory):
    outs = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(name)
        code = main(["check", "--quick", "--no-progress", "--results-dir", str(root / "results"),
                     "--tex", str(root / "claims.tex")])
        outs.append((code, root))
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
    tex = (root / "claims.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    md = (root / "results" / "claims.md").read_text()
    assert "| id | claim | statement | proof |" in md


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


def test_unknown_claim_id_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown claim id 'Z9'; known ids: E1, "):
        main(["check", "--claim", "Z9", "--no-progress"])


@pytest.mark.parametrize("module", ["emc_app.cli", "emc_app"])
def test_console_script_help(module):
    out = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("check", "derive", "paper", "course", "bench"):
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
